//! `rvf-boot`: inspect, verify and extract what an RVF file carries.
//!
//! A thin std shell over the no_std library: read the file, call the same
//! functions a bootloader calls, print a table or one JSON object.
//!
//! Exit codes: 0 success (for `inspect`: the file is valid and every hash
//! verified), 1 the file or an output failed, 2 usage error. With `--json`,
//! every exit prints exactly one JSON object on stdout.

use clap::error::ErrorKind;
use clap::{Args, Parser, Subcommand};
use rvf_boot::Policy;
use serde_json::json;
use std::ffi::OsString;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

mod bundle;
mod extract;
mod image;
mod measure;
mod output;
mod report;
mod verify;

/// Verify the Linux kernel inside an RVF (RuVector Format) file, inspect
/// the file, extract the kernel, predict its measured boot.
#[derive(Parser)]
#[command(name = "rvf-boot", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show the segments, dialect, manifest and kernels; verify every hash,
    /// the selected kernel's image and its boot checks.
    ///
    /// Exit 0 only when the file is valid and every hash verifies (whether
    /// the kernel would boot on x86_64 is reported, not part of the code).
    Inspect(InspectArgs),
    /// Write the verified kernel image (and its cmdline) to files, or
    /// (`--bundle DIR`) the runtime bundle and metadata into a directory.
    ///
    /// Nothing is written unless everything verifies; every output is
    /// replaced, or none is.
    Extract(ExtractArgs),
    /// Print the TPM events and the PCR 8 and PCR 9 values the stub
    /// produces when it boots FILE (measured boot).
    ///
    /// PCR 9 <- the winning manifest, the verified kernel image, the initrd;
    /// PCR 8 <- the final kernel command line (SHA-256 bank, EV_IPL events).
    Measure(MeasureArgs),
    /// Verify FILE under a policy: hashes (as inspect), and optionally a
    /// signature by a trusted Ed25519 key and pinned digests.
    ///
    /// Exit 0 only when the file verifies and the policy holds; prints what
    /// was checked and what was authenticated.
    Verify(VerifyArgs),
}

#[derive(Args)]
struct VerifyArgs {
    /// The RVF file.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Require a signature by this Ed25519 public key (64 hex digits);
    /// repeat for several.
    #[arg(long = "trusted-key", value_name = "HEX", value_parser = verify::parse_key)]
    trusted_keys: Vec<[u8; 32]>,
    /// Require this SHA-256 (64 hex digits) of the uncompressed kernel image.
    #[arg(long, value_name = "HEX", value_parser = verify::parse_hex32)]
    expect_kernel_sha256: Option<[u8; 32]>,
    /// Require this kernel command line (the RVF's, exactly).
    #[arg(long, value_name = "STR")]
    expect_cmdline: Option<OsString>,
    /// Refuse a signed manifest whose epoch is below N (needs --trusted-key).
    #[arg(long, value_name = "N", requires = "trusted_keys")]
    min_epoch: Option<u32>,
    /// Serve the signed prefix when unsigned bytes follow the signed
    /// manifest, instead of refusing (needs --trusted-key).
    #[arg(long, requires = "trusted_keys")]
    allow_unsigned_tail: bool,
    /// Print exactly one JSON object (also on every error).
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct InspectArgs {
    /// Print exactly one JSON object (also on every error).
    #[arg(long)]
    json: bool,
    /// Accept all-zero (unset) content and image hashes.
    #[arg(long)]
    allow_unset_hash: bool,
    /// The RVF file.
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("output").required(true).args(["kernel", "bundle"])))]
struct ExtractArgs {
    /// Accept all-zero (unset) content and image hashes.
    #[arg(long)]
    allow_unset_hash: bool,
    /// The RVF file.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Where to write the verified kernel image.
    #[arg(
        long,
        value_name = "OUT",
        required_unless_present = "bundle",
        conflicts_with = "bundle"
    )]
    kernel: Option<PathBuf>,
    /// Where to write the kernel's command line (not the same file as OUT).
    #[arg(long, value_name = "OUT2", conflicts_with = "bundle")]
    cmdline: Option<PathBuf>,
    /// Write the runtime (RuvBot's Node bundle, or `module.wasm`) and the
    /// META/PROFILE/WITNESS payloads (under `DIR/.rvf/`) into the new
    /// directory DIR, all or nothing. FILE may be a block device: only the
    /// RVF's headers and the payloads used are read.
    #[arg(long, value_name = "DIR")]
    bundle: Option<PathBuf>,
    /// With --bundle: print each file with its size and SHA-256, write nothing.
    #[arg(long)]
    list: bool,
    /// With --bundle: replace DIR even if it is not an empty directory.
    #[arg(long)]
    force: bool,
    /// With --bundle: print exactly one JSON object (also on every error).
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct MeasureArgs {
    /// The RVF file.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Extra kernel arguments, as given to the stub (`qemu/boot.sh --append`).
    #[arg(long, value_name = "ARGS")]
    append: Option<OsString>,
    /// The initrd the stub loads (`qemu/boot.sh --initrd`).
    #[arg(long, value_name = "FILE")]
    initrd: Option<PathBuf>,
    /// Print exactly one JSON object (also on every error).
    #[arg(long)]
    json: bool,
    /// Write the binary event entries (TCG_PCR_EVENT2, SHA-256) to OUT.
    #[arg(long, value_name = "OUT")]
    event_log: Option<PathBuf>,
}

const USAGE_ERROR: u8 = 2;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    // `--json` before a `--` asks for JSON even when the arguments do not parse.
    let json_asked = args
        .iter()
        .skip(1)
        .take_while(|a| a.as_os_str() != "--")
        .any(|a| a.as_os_str() == "--json");
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => return clap_exit(&e, json_asked),
    };
    match cli.command {
        Command::Inspect(a) => inspect(&a),
        Command::Extract(a) => extract_cmd(&a),
        Command::Measure(a) => measure_cmd(&a),
        Command::Verify(a) => verify_cmd(&a),
    }
}

/// Prints to stdout; a closed pipe is not worth a panic.
fn emit(s: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(s.as_bytes()).and_then(|()| out.flush());
}

/// `--help`, `--version` and usage errors, as clap renders them or, with
/// `--json`, as one object.
fn clap_exit(e: &clap::Error, json: bool) -> ExitCode {
    let text = e.render().to_string();
    let info = matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion);
    if json {
        let obj = if info {
            json!({"error": null, "help": text})
        } else {
            // The message is clap's first paragraph, on one line.
            let para = text.split("\n\n").next().unwrap_or_default();
            let msg = para.split_whitespace().collect::<Vec<_>>().join(" ");
            json!({"error": msg.strip_prefix("error: ").unwrap_or(&msg)})
        };
        emit(&format!("{obj}\n"));
    }
    if info {
        if !json {
            emit(&text);
            if !text.ends_with('\n') {
                emit("\n");
            }
        }
        return ExitCode::SUCCESS;
    }
    eprint!("rvf-boot: {text}");
    ExitCode::from(USAGE_ERROR)
}

fn inspect(a: &InspectArgs) -> ExitCode {
    let policy = Policy::allowing_unset_hash(a.allow_unset_hash);
    let path = a.file.display();
    let (report, readable) = match std::fs::read(&a.file) {
        Ok(bytes) => (report::Report::build(&bytes, policy), true),
        Err(e) => (report::Report::unreadable(format!("{path}: {e}")), false),
    };
    if a.json {
        emit(&format!("{}\n", report.to_json()));
    } else if readable {
        emit(&report.to_table());
    }
    match &report.error {
        None => ExitCode::SUCCESS,
        Some(e) => {
            if readable {
                eprintln!("rvf-boot: {path}: {e}");
            } else {
                eprintln!("rvf-boot: {e}");
            }
            ExitCode::FAILURE
        }
    }
}

fn extract_cmd(a: &ExtractArgs) -> ExitCode {
    let policy = Policy::allowing_unset_hash(a.allow_unset_hash);
    let (Some(kernel), None) = (&a.kernel, &a.bundle) else {
        return bundle_cmd(a, policy);
    };
    if a.json || a.list || a.force {
        let e = "--json, --list and --force work with --bundle DIR, not with --kernel";
        if a.json {
            emit(&format!("{}\n", json!({ "error": e })));
        }
        eprintln!("rvf-boot: {e}");
        return ExitCode::from(USAGE_ERROR);
    }
    match extract::run(&a.file, kernel, a.cmdline.as_deref(), policy) {
        Ok(summary) => {
            emit(&summary);
            ExitCode::SUCCESS
        }
        Err(extract::Failure::Usage(e)) => {
            eprintln!("rvf-boot: {e}");
            ExitCode::from(USAGE_ERROR)
        }
        Err(extract::Failure::Failed(e)) => {
            eprintln!("rvf-boot: {e}");
            ExitCode::FAILURE
        }
    }
}

fn bundle_cmd(a: &ExtractArgs, policy: Policy) -> ExitCode {
    let Some(dir) = a.bundle.as_deref() else {
        return ExitCode::from(USAGE_ERROR);
    };
    let req = bundle::Request {
        file: &a.file,
        dir,
        list: a.list,
        force: a.force,
        policy,
    };
    let (code, e) = match bundle::run(&req, a.json) {
        Ok(out) => {
            emit(&out);
            return ExitCode::SUCCESS;
        }
        Err(bundle::Failure::Usage(e)) => (ExitCode::from(USAGE_ERROR), e),
        Err(bundle::Failure::Failed(e)) => (ExitCode::FAILURE, e),
    };
    if a.json {
        emit(&format!("{}\n", json!({ "error": e, "written": false })));
    }
    eprintln!("rvf-boot: {e}");
    code
}

fn measure_cmd(a: &MeasureArgs) -> ExitCode {
    use std::os::unix::ffi::OsStrExt as _;
    let req = measure::Request {
        append: a.append.as_deref().map_or(&[][..], |s| s.as_bytes()),
        initrd: a.initrd.as_deref(),
        event_log: a.event_log.as_deref(),
    };
    let (code, e) = match measure::run(&a.file, &req) {
        Ok(m) => {
            if a.json {
                emit(&format!("{}\n", m.to_json()));
            } else {
                emit(&m.to_table());
            }
            return ExitCode::SUCCESS;
        }
        Err(measure::Failure::Usage(e)) => (ExitCode::from(USAGE_ERROR), e),
        Err(measure::Failure::Failed(e)) => (ExitCode::FAILURE, e),
    };
    if a.json {
        emit(&format!("{}\n", json!({ "error": e })));
    }
    eprintln!("rvf-boot: {e}");
    code
}

fn verify_cmd(a: &VerifyArgs) -> ExitCode {
    use std::os::unix::ffi::OsStrExt as _;
    let req = verify::Request {
        trusted_keys: a.trusted_keys.clone(),
        kernel_sha256: a.expect_kernel_sha256,
        cmdline: a.expect_cmdline.as_ref().map(|s| s.as_bytes().to_vec()),
        min_epoch: a.min_epoch,
        allow_unsigned_tail: a.allow_unsigned_tail,
    };
    let path = a.file.display();
    let (report, readable) = match std::fs::read(&a.file) {
        Ok(bytes) => (verify::report(&bytes, &req), true),
        Err(e) => (report::Report::unreadable(format!("{path}: {e}")), false),
    };
    if a.json {
        emit(&format!("{}\n", verify::to_json(&report, &req)));
    } else if readable {
        emit(&verify::to_table(&report, &req));
    }
    match &report.error {
        None => ExitCode::SUCCESS,
        Some(e) => {
            if readable {
                eprintln!("rvf-boot: {path}: {e}");
            } else {
                eprintln!("rvf-boot: {e}");
            }
            ExitCode::FAILURE
        }
    }
}
