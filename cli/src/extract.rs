//! `rvf-boot extract`: write the verified kernel image (and cmdline), all
//! outputs replaced or none.

use crate::image;
use crate::output::{self, CommitError};
use rvf_boot::kernel::StoredFormat;
use rvf_boot::{Container, Policy};
use std::fmt::Write as _;
use std::path::Path;

/// Why `extract` wrote nothing.
pub enum Failure {
    /// The arguments cannot work (exit 2).
    Usage(String),
    /// The file, the kernel or an output failed (exit 1).
    Failed(String),
}

/// Verifies `file`'s selected kernel and writes it to `kernel_out` (and its
/// cmdline to `cmdline_out`). Returns the summary to print.
pub fn run(
    file: &Path,
    kernel_out: &Path,
    cmdline_out: Option<&Path>,
    policy: Policy,
) -> Result<String, Failure> {
    for p in [Some(kernel_out), cmdline_out].into_iter().flatten() {
        if output::place(p).is_none() {
            return Err(Failure::Usage(format!(
                "{}: an output must name a file",
                p.display()
            )));
        }
    }
    if let Some(c) = cmdline_out
        && output::same_place(kernel_out, c)
    {
        return Err(Failure::Usage(format!(
            "--kernel and --cmdline name the same file ({})",
            c.display()
        )));
    }
    let failed = |e: &dyn std::fmt::Display| Failure::Failed(format!("{}: {e}", file.display()));
    let bytes = std::fs::read(file).map_err(|e| failed(&e))?;
    let c = Container::parse(&bytes, policy).map_err(|e| failed(&e))?;
    // The content hash is checked by `image::verify` (beside the inflate).
    let k = c.selected_kernel_deferred().map_err(|e| failed(&e))?;
    let x = image::verify(&k).map_err(|e| failed(&e))?;
    // Everything verified: only now is anything written, every output
    // staged before any is renamed into place.
    let stage = |p: &Path, data: &[u8]| {
        output::stage(p, data).map_err(|e| failed(&format_args!("{}: {e}", p.display())))
    };
    let mut staged = vec![stage(kernel_out, &x.image)?];
    if let Some(p) = cmdline_out {
        staged.push(stage(p, k.cmdline())?);
    }
    output::commit(staged).map_err(|e| failed(&commit_error(&e)))?;

    let mut s = String::new();
    let _ = writeln!(
        s,
        "kernel: {} ({} bytes, from KERNEL_SEG at byte {})",
        kernel_out.display(),
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
    if cmdline_out.is_some() {
        let _ = writeln!(
            s,
            "cmdline: {:?} (sha256 {})",
            String::from_utf8_lossy(k.cmdline()),
            image::sha256_hex(k.cmdline())
        );
    }
    Ok(s)
}

fn commit_error(e: &CommitError) -> String {
    let mut s = format!("{}: {}", e.path.display(), e.error);
    if e.not_restored.is_empty() {
        s.push_str(" (no output was changed)");
    }
    for (p, err) in &e.not_restored {
        let _ = write!(s, "; and {} could not be restored: {err}", p.display());
    }
    s
}
