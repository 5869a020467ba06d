//! `rvf-boot`: inspect, verify and extract what an RVF file carries.
//!
//! A thin std shell over the no_std library: read the file, call the same
//! functions a bootloader calls, print a table or one JSON object.

use rvf_boot::checksum::{HashCheck, check_content_hash, check_content_hash_as};
use rvf_boot::segment::{Walk, seg_type, split_root_page};
use rvf_boot::{Container, Error, Policy};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod extract;

const USAGE: &str = "usage:
  rvf-boot inspect [--json] [--allow-unset-hash] FILE
  rvf-boot extract [--allow-unset-hash] FILE --kernel OUT [--cmdline OUT2]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("inspect") => inspect_cmd(&args[1..]),
        Some("extract") => extract::extract_cmd(&args[1..]),
        Some("-h" | "--help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => usage_error("expected a subcommand"),
    }
}

pub(crate) fn usage_error(msg: &str) -> ExitCode {
    eprintln!("rvf-boot: {msg}\n{USAGE}");
    ExitCode::from(2)
}

pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn inspect_cmd(args: &[String]) -> ExitCode {
    let mut json_out = false;
    let mut policy = Policy::default();
    let mut file: Option<PathBuf> = None;
    for a in args {
        match a.as_str() {
            "--json" => json_out = true,
            "--allow-unset-hash" => policy.allow_unset_hash = true,
            s if s.starts_with("--") => return usage_error(&format!("unknown flag {s}")),
            s if file.is_none() => file = Some(PathBuf::from(s)),
            _ => return usage_error("more than one FILE"),
        }
    }
    let Some(path) = file else {
        return usage_error("missing FILE");
    };
    let bytes = match read_file(&path) {
        Ok(b) => b,
        Err(e) => {
            if json_out {
                println!("{}", json!({"file_size": null, "error": e}));
            }
            eprintln!("rvf-boot: {e}");
            return ExitCode::FAILURE;
        }
    };
    let report = inspect(&bytes, policy);
    if json_out {
        println!("{}", report.json);
    } else {
        print!("{}", report.table);
    }
    match report.error {
        None => ExitCode::SUCCESS,
        Some(e) => {
            eprintln!("rvf-boot: {}: {e}", path.display());
            ExitCode::FAILURE
        }
    }
}

/// What `inspect` found: the JSON object, the table, and the first error.
pub struct Report {
    /// The `--json` object.
    pub json: Value,
    /// The human-readable table.
    pub table: String,
    /// The first error, if the file is not valid under the policy.
    pub error: Option<String>,
}

fn hash_json(check: Result<HashCheck, Error>, allow_unset: bool) -> (Value, bool) {
    match check {
        Ok(HashCheck::Verified(h)) => (json!(h.name()), true),
        Ok(HashCheck::Unset) => (json!("unset"), allow_unset),
        Err(_) => (Value::Null, false),
    }
}

/// Inspects `bytes` (the whole file) under `policy`.
pub fn inspect(bytes: &[u8], policy: Policy) -> Report {
    let mut first_error: Option<String> = None;
    let mut note = |e: String| {
        if first_error.is_none() {
            first_error = Some(e);
        }
    };
    let mut table = String::new();
    let (body, _) = split_root_page(bytes);
    // Parse (and hash) the manifest and the kernels once; the segment table
    // reuses those results instead of hashing the same payloads again.
    let container = Container::parse(bytes, policy);
    let kernels: Vec<_> = container.iter().flat_map(Container::kernels).collect();
    let known: HashMap<u64, HashCheck> = container
        .iter()
        .map(|c| {
            let (m, check) = c.manifest_segment();
            (m.offset, check)
        })
        .chain(
            kernels
                .iter()
                .flatten()
                .filter_map(|k| Some((k.segment_offset(), k.content_hash()?))),
        )
        .collect();
    let mut segments = Vec::new();
    let _ = writeln!(
        table,
        "{:>10}  {:<9} {:>6} {:>10}  {:<4} {:<12} ok",
        "offset", "type", "id", "length", "algo", "hash"
    );
    for s in Walk::new(body) {
        let check = known.get(&s.offset).map_or_else(
            || {
                container.as_ref().map_or_else(
                    |_| check_content_hash(&s),
                    |c| check_content_hash_as(&s, c.algo0(), &mut 0),
                )
            },
            |&c| Ok(c),
        );
        if let Err(e) = s.check_fields() {
            note(e.to_string());
        }
        if let Err(e) = check {
            note(e.to_string());
        } else if check == Ok(HashCheck::Unset) && !policy.allow_unset_hash {
            note(
                Error::ContentHashUnset {
                    index: s.index,
                    offset: s.offset,
                }
                .to_string(),
            );
        }
        let (hash, ok) = hash_json(check, policy.allow_unset_hash);
        let ty = s.seg_type();
        let _ = writeln!(
            table,
            "{:>10}  {:<9} {:>6} {:>10}  {:<4} {:<12} {}",
            s.offset,
            seg_type::name(ty).map_or_else(|| format!("{ty:#04x}"), str::to_string),
            s.segment_id(),
            s.payload_length(),
            s.header.checksum_algo,
            hash.as_str().unwrap_or("-"),
            if ok { "yes" } else { "NO" }
        );
        segments.push(json!({
            "offset": s.offset,
            "type": ty,
            "type_name": seg_type::name(ty),
            "id": s.segment_id(),
            "payload_length": s.payload_length(),
            "checksum_algo": s.header.checksum_algo,
            "hash": hash,
            "hash_ok": ok,
        }));
    }
    let mut out = json!({
        "file_size": bytes.len(),
        "dialect": null,
        "segments": segments,
        "manifest": null,
        "root_page": null,
        "trailing": null,
        "kernels": [],
        "error": null,
    });
    match container {
        Err(e) => note(e.to_string()),
        Ok(c) => {
            out["dialect"] = json!(c.dialect().name());
            let m = c.manifest();
            out["manifest"] =
                json!({"offset": m.offset(), "epoch": m.epoch(), "entries": m.entries().len()});
            out["root_page"] = c
                .root_page_offset()
                .map_or(Value::Null, |o| json!({"offset": o}));
            out["trailing"] = c
                .trailing()
                .map_or(Value::Null, |(o, l)| json!({"offset": o, "length": l}));
            let _ = writeln!(
                table,
                "\ndialect: {}\nmanifest: offset {}, epoch {}, {} entries",
                c.dialect().name(),
                m.offset(),
                m.epoch(),
                m.entries().len()
            );
            if let Some(o) = c.root_page_offset() {
                let _ = writeln!(table, "root page: offset {o}");
            }
            if let Some((o, l)) = c.trailing() {
                let _ = writeln!(
                    table,
                    "trailing: {l} bytes at offset {o} (torn, uncommitted)"
                );
            }
            let mut kernel_json = Vec::new();
            for (i, k) in kernels.into_iter().enumerate() {
                let selected = i == 0;
                let k = match k {
                    Ok(k) => k,
                    Err(e) => {
                        note(e.to_string());
                        continue;
                    }
                };
                let cmdline = String::from_utf8_lossy(k.cmdline()).into_owned();
                let mut kj = json!({
                    "segment_offset": k.segment_offset(),
                    "layout": k.layout().name(),
                    "compression": k.format().name(),
                    "image_size": k.image_size(),
                    "stored_size": k.stored_size(),
                    "cmdline": cmdline,
                    "selected": selected,
                    "image_sha256": null,
                    "image_hash": null,
                    // Advisory header facts (§4.1): the bzImage's own header rules.
                    "arch": k.arch(),
                    "kernel_type": k.kernel_type(),
                    "kernel_flags": k.kernel_flags(),
                    "api_port": k.api_port(),
                    "entry_point": k.entry_point_advisory(),
                    "binding": k.binding().is_some(),
                    "content_hash": k.content_hash().map(|h| h.name()),
                });
                let mut verified = String::new();
                if selected {
                    match extract::extract_to_vec(&k, policy) {
                        Ok(x) => {
                            kj["image_sha256"] = json!(x.sha256_hex);
                            kj["image_hash"] = json!(x.image_hash);
                            let _ = write!(
                                verified,
                                ", image sha256 {} ({} checked)",
                                x.sha256_hex, x.image_hash
                            );
                        }
                        Err(e) => note(e.to_string()),
                    }
                }
                let _ = writeln!(
                    table,
                    "kernel @{}{}: layout {}, {} {} -> {} bytes{}, cmdline {:?}",
                    k.segment_offset(),
                    if selected { " (selected)" } else { "" },
                    k.layout().name(),
                    k.format().name(),
                    k.stored_size(),
                    k.image_size(),
                    verified,
                    cmdline
                );
                kernel_json.push(kj);
            }
            if kernel_json.is_empty() {
                let _ = writeln!(table, "kernels: none");
            }
            out["kernels"] = Value::Array(kernel_json);
        }
    }
    out["error"] = first_error.as_ref().map_or(Value::Null, |e| json!(e));
    if let Some(e) = &first_error {
        let _ = writeln!(table, "\nINVALID: {e}");
    } else {
        let _ = writeln!(table, "\nOK: every hash verified");
    }
    Report {
        json: out,
        table,
        error: first_error,
    }
}
