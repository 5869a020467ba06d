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
use finish::{Failure, Json, Outcome, emit, finish};
use rvf_boot::Policy;
use serde_json::{Value, json};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod bundle;
mod extract;
mod finish;
mod image;
mod input;
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
    #[command(flatten)]
    policy: verify::Request,
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
    /// With --bundle: require this SHA-256 (64 hex digits) of the runtime
    /// bundle's bytes (the WASM_SEG body; for a RuvBot file, what its WASM
    /// header's bytecode_hash carries).
    #[arg(long, value_name = "HEX", value_parser = verify::parse_hex32)]
    expect_bundle_sha256: Option<[u8; 32]>,
    #[command(flatten)]
    policy: verify::Request,
    /// Print exactly one JSON object (also on every error).
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
    #[command(flatten)]
    policy: verify::Request,
}

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
        Command::Inspect(a) => finish(a.json, inspect(&a)),
        Command::Extract(a) => finish(a.json, extract_cmd(&a)),
        Command::Measure(a) => finish(a.json, measure_cmd(&a)),
        Command::Verify(a) => finish(a.json, verify_cmd(&a)),
    }
}

/// `--help`, `--version` and usage errors, as clap renders them or, with
/// `--json`, as one object.
fn clap_exit(e: &clap::Error, json: bool) -> ExitCode {
    let text = e.render().to_string();
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        if json {
            emit(&format!("{}\n", json!({"error": null, "help": text})));
        } else {
            emit(&text);
            if !text.ends_with('\n') {
                emit("\n");
            }
        }
        return ExitCode::SUCCESS;
    }
    // The message is clap's first paragraph, on one line.
    let para = text.split("\n\n").next().unwrap_or_default();
    let msg = para.split_whitespace().collect::<Vec<_>>().join(" ");
    let msg = msg.strip_prefix("error: ").unwrap_or(&msg);
    if json {
        let f = Failure::usage(msg);
        let obj = json!({"error": f.message, "error_class": f.class, "exit_code": f.code});
        emit(&format!("{obj}\n"));
    }
    eprint!("rvf-boot: {text}");
    ExitCode::from(finish::USAGE)
}

/// The report's outcome: the table (when the file was read), the object,
/// the first error.
fn report_outcome(report: &report::Report, path: &Path, text: String, json: Value) -> Outcome {
    let failure = match (&report.error_class, &report.error) {
        (Some(e), _) => Some(Failure::in_report(path.display().to_string(), e)),
        (None, Some(m)) => Some(Failure::input(m.clone())),
        (None, None) => None,
    };
    Outcome {
        text: if report.file_size.is_some() {
            text
        } else {
            String::new()
        },
        json: Json::Object(json),
        failure,
    }
}

/// Reads FILE whole (bounded, [`input::read_whole`]) into a report.
fn read_report(file: &Path, build: impl FnOnce(&[u8]) -> report::Report) -> report::Report {
    match input::read_whole(file) {
        Ok(bytes) => build(&bytes),
        Err(f) => report::Report::unreadable(f.message),
    }
}

fn inspect(a: &InspectArgs) -> Outcome {
    let policy = Policy::allowing_unset_hash(a.allow_unset_hash);
    let report = read_report(&a.file, |b| report::Report::build(b, policy));
    report_outcome(&report, &a.file, report.to_table(), report.to_json())
}

fn verify_cmd(a: &VerifyArgs) -> Outcome {
    let req = &a.policy;
    let report = read_report(&a.file, |b| verify::report(b, req));
    let (text, json) = (
        verify::to_table(&report, req),
        verify::to_json(&report, req),
    );
    report_outcome(&report, &a.file, text, json)
}

fn extract_cmd(a: &ExtractArgs) -> Outcome {
    let policy = a
        .policy
        .policy_from(Policy::allowing_unset_hash(a.allow_unset_hash));
    let (Some(kernel), None) = (&a.kernel, &a.bundle) else {
        return bundle_cmd(a, policy);
    };
    if a.list || a.force || a.expect_bundle_sha256.is_some() {
        let e =
            "--list, --force and --expect-bundle-sha256 work with --bundle DIR, not with --kernel";
        return Outcome::failed(Failure::usage(e), json!({}));
    }
    let req = extract::Request {
        file: &a.file,
        kernel_out: kernel,
        cmdline_out: a.cmdline.as_deref(),
        flags: &a.policy,
        policy,
    };
    extract::run(&req)
}

fn bundle_cmd(a: &ExtractArgs, policy: Policy) -> Outcome {
    let Some(dir) = a.bundle.as_deref() else {
        return Outcome::failed(
            Failure::usage("--kernel or --bundle is required"),
            json!({}),
        );
    };
    let policy = match &a.expect_bundle_sha256 {
        Some(d) => policy.pinning_bundle_sha256(Box::leak(Box::new(*d))),
        None => policy,
    };
    let req = bundle::Request {
        file: &a.file,
        dir,
        list: a.list,
        force: a.force,
        policy,
        flags: &a.policy,
        bundle_pin: a.expect_bundle_sha256,
    };
    bundle::run(&req)
}

fn measure_cmd(a: &MeasureArgs) -> Outcome {
    use std::os::unix::ffi::OsStrExt as _;
    let req = measure::Request {
        append: a.append.as_deref().map_or(&[][..], |s| s.as_bytes()),
        initrd: a.initrd.as_deref(),
        event_log: a.event_log.as_deref(),
        flags: &a.policy,
    };
    match measure::run(&a.file, &req) {
        Ok(m) => Outcome::ok(m.to_table(), Json::Rendered(m.to_json())),
        Err(f) => {
            let extra = if a.policy.asked() {
                json!({"policy": a.policy.to_json(), "authenticated": null})
            } else {
                json!({})
            };
            Outcome::failed(f, extra)
        }
    }
}
