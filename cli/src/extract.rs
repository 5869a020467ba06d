//! `rvf-boot extract --kernel`: write the verified kernel image (and
//! cmdline) under the policy, all outputs replaced or none.

use crate::finish::{Failure, Json, Outcome};
use crate::image::{self, CheckedImage};
use crate::output::{self, CommitError};
use crate::report::{AuthFacts, auth_json, auth_table};
use crate::{input, verify};
use rvf_boot::kernel::{KernelSegment, StoredFormat};
use rvf_boot::{Container, Policy};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::Path;

/// What `extract --kernel` was asked to do.
pub struct Request<'a> {
    /// The RVF file.
    pub file: &'a Path,
    /// `--kernel`.
    pub kernel_out: &'a Path,
    /// `--cmdline`.
    pub cmdline_out: Option<&'a Path>,
    /// The policy flags (for the report).
    pub flags: &'a verify::Request,
    /// The policy they make.
    pub policy: Policy,
}

/// Verifies the selected kernel under the policy and writes it (and its
/// cmdline); nothing is written unless everything verified and the policy
/// holds.
pub fn run(req: &Request<'_>) -> Outcome {
    let policy_json = json!({"policy": req.flags.to_json(), "authenticated": null});
    match extract(req) {
        Ok(o) => o,
        Err(f) => {
            let mut v = policy_json;
            if let Value::Object(m) = &mut v {
                m.insert("written".into(), false.into());
            }
            Outcome::failed(f, v)
        }
    }
}

/// The usage checks: each output names a file, not the other output, not
/// the input.
fn check_outputs(req: &Request<'_>) -> Result<(), Failure> {
    let outs = [
        Some(("--kernel", req.kernel_out)),
        req.cmdline_out.map(|c| ("--cmdline", c)),
    ];
    for (flag, p) in outs.into_iter().flatten() {
        if output::place(p).is_none() {
            return Err(Failure::usage(format!(
                "{}: an output must name a file",
                p.display()
            )));
        }
        input::refuse_output_on_input(flag, p, &[req.file], false)?;
    }
    if let Some(c) = req.cmdline_out
        && output::same_place(req.kernel_out, c)
    {
        return Err(Failure::usage(format!(
            "--kernel and --cmdline name the same file ({})",
            c.display()
        )));
    }
    Ok(())
}

fn extract(req: &Request<'_>) -> Result<Outcome, Failure> {
    check_outputs(req)?;
    let file = req.file.display();
    let bytes = input::read_whole(req.file)?;
    let c = Container::parse(&bytes, req.policy).map_err(|e| Failure::lib(&file, &e))?;
    // The content hash is checked by `image::verify` (beside the inflate),
    // the kernel pin on the verified image.
    let k = c
        .selected_kernel_deferred()
        .map_err(|e| Failure::lib(&file, &e))?;
    let x = image::verify(&k).map_err(|e| Failure::lib(&file, &e))?;
    // No extra arguments: the final command line is the RVF's (as verify).
    let cmdline_pin = req
        .policy
        .check_cmdline(k.cmdline())
        .map_err(|e| Failure::lib(&file, &e))?;
    // Everything verified and the policy holds: only now is anything
    // written, every output staged before any is renamed into place.
    let stage = |p: &Path, data: &[u8]| {
        output::stage(p, data).map_err(|e| Failure::output(format!("{file}: {}: {e}", p.display())))
    };
    let mut staged = vec![stage(req.kernel_out, &x.image)?];
    if let Some(p) = req.cmdline_out {
        staged.push(stage(p, k.cmdline())?);
    }
    output::commit(staged).map_err(|e| Failure::output(format!("{file}: {}", commit_error(&e))))?;
    let auth = req.flags.asked().then(|| AuthFacts {
        signed: c.signed(),
        kernel_sha256: x.kernel_pin,
        cmdline_sha256: cmdline_pin,
        bundle_sha256: None,
    });
    Ok(Outcome::ok(
        summary(req, &k, &x, auth.as_ref()),
        Json::Object(to_json(req, &k, &x, auth.as_ref())),
    ))
}

/// The `--json` object of a written kernel.
fn to_json(
    req: &Request<'_>,
    k: &KernelSegment<'_>,
    x: &CheckedImage<'_>,
    auth: Option<&AuthFacts>,
) -> Value {
    let mut v = json!({
        "file": req.file.to_string_lossy(),
        "kernel": req.kernel_out.to_string_lossy(),
        "cmdline": req.cmdline_out.map(|p| p.to_string_lossy()),
        "written": true,
        "segment_offset": k.segment_offset(),
        "image_size": x.image.len(),
        "image_sha256": x.sha256_hex,
        "stored_size": k.stored_size(),
        "compression": k.format().name(),
        "content_hash": x.content_hash,
        "image_hash": x.image_hash,
        "cmdline_sha256": image::sha256_hex(k.cmdline()),
        "error": null,
    });
    if let Value::Object(m) = &mut v {
        m.insert("policy".into(), req.flags.to_json());
        m.insert("authenticated".into(), auth_json(auth));
    }
    v
}

/// The table.
fn summary(
    req: &Request<'_>,
    k: &KernelSegment<'_>,
    x: &CheckedImage<'_>,
    auth: Option<&AuthFacts>,
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "kernel: {} ({} bytes, from KERNEL_SEG at byte {})",
        req.kernel_out.display(),
        x.image.len(),
        k.segment_offset()
    );
    let _ = writeln!(s, "image sha256: {}", x.sha256_hex);
    let _ = writeln!(
        s,
        "stored: {} bytes ({}), image: {} bytes",
        k.stored_size(),
        k.format().name(),
        k.image_size()
    );
    let _ = writeln!(
        s,
        "checked: content hash {}, image hash {}{}",
        x.content_hash,
        x.image_hash,
        match k.format() {
            StoredFormat::Gzip => ", gzip CRC-32 and ISIZE",
            StoredFormat::Raw => "",
        }
    );
    if req.cmdline_out.is_some() {
        let _ = writeln!(
            s,
            "cmdline: {:?} (sha256 {})",
            String::from_utf8_lossy(k.cmdline()),
            image::sha256_hex(k.cmdline())
        );
    }
    if let Some(a) = auth {
        s.push_str(&req.flags.describe());
        s.push('\n');
        s.push_str(&auth_table(a));
    }
    s
}

/// One line for a failed commit.
pub fn commit_error(e: &CommitError) -> String {
    let mut s = format!("{}: {}", e.path.display(), e.error);
    if e.not_restored.is_empty() {
        s.push_str(" (no output was changed)");
    }
    for (p, err) in &e.not_restored {
        let _ = write!(s, "; and {} could not be restored: {err}", p.display());
    }
    s
}
