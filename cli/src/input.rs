//! Reading the inputs, with memory bounded by what is used, and refusing an
//! output that names an input.
//!
//! - FILE is read whole by `inspect`, `verify`, `extract --kernel` and
//!   `measure` (every payload may be hashed): a regular file or a block
//!   device costs its size, reserved once (fallibly) from its length. Any
//!   other input (a FIFO, a character device such as `/dev/zero`, a pipe) has
//!   no length: it is read up to [`NON_REGULAR_MAX`] bytes and refused, with
//!   one line, when it holds more.
//! - `--initrd` is hashed while it streams, in [`CHUNK`]-byte reads: a fixed
//!   amount of memory whatever its size. A non-regular initrd is refused past
//!   [`INITRD_NON_REGULAR_MAX`] bytes (the boot protocol's 32-bit
//!   `ramdisk_size` cannot load more).
//! - An output (`--kernel`, `--cmdline`, `--bundle`, `--event-log`) that is
//!   an input, in any spelling (the same device and inode, whether the
//!   output path is followed or not), is a usage error; so is a `--bundle`
//!   directory that holds an input (`--force` would remove it).

use crate::finish::Failure;
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _};
use std::path::Path;

/// The most bytes read from a FILE that is neither a regular file nor a
/// block device (1 GiB).
pub const NON_REGULAR_MAX: u64 = 1 << 30;
/// The most bytes hashed from an initrd that is not a regular file or a
/// block device (4 GiB - 1: the largest `ramdisk_size`).
pub const INITRD_NON_REGULAR_MAX: u64 = u32::MAX as u64;
/// The initrd is hashed in reads of this size (1 MiB).
pub const CHUNK: usize = 1 << 20;

/// Whether an open file has a length (a regular file or a block device).
fn sized(f: &File) -> io::Result<bool> {
    let t = f.metadata()?.file_type();
    Ok(t.is_file() || t.is_block_device())
}

/// Reads all of `path` (see the module doc for the bounds).
///
/// # Errors
/// A [`Failure::input`] naming `path`.
pub fn read_whole(path: &Path) -> Result<Vec<u8>, Failure> {
    let shown = path.display();
    let fail = |e: &dyn std::fmt::Display| Failure::input(format!("{shown}: {e}"));
    let mut f = File::open(path).map_err(|e| fail(&e))?;
    if sized(&f).map_err(|e| fail(&e))? {
        let len = f.seek(SeekFrom::End(0)).map_err(|e| fail(&e))?;
        f.seek(SeekFrom::Start(0)).map_err(|e| fail(&e))?;
        let mut v = Vec::new();
        usize::try_from(len)
            .ok()
            .and_then(|n| v.try_reserve_exact(n).ok())
            .ok_or_else(|| fail(&format_args!("cannot reserve {len} bytes to read it")))?;
        f.read_to_end(&mut v).map_err(|e| fail(&e))?;
        return Ok(v);
    }
    let mut v = Vec::new();
    f.take(NON_REGULAR_MAX + 1)
        .read_to_end(&mut v)
        .map_err(|e| fail(&e))?;
    if v.len() as u64 > NON_REGULAR_MAX {
        return Err(fail(&format_args!(
            "not a regular file or block device, and longer than the {NON_REGULAR_MAX}-byte maximum for such an input"
        )));
    }
    Ok(v)
}

/// The SHA-256 of the initrd at `path`, hashed while it streams; `None` when
/// it is empty (the stub loads no initrd for an empty file).
///
/// # Errors
/// A [`Failure::input`] naming `path`.
pub fn hash_initrd(path: &Path) -> Result<Option<[u8; 32]>, Failure> {
    let shown = path.display();
    let fail = |e: &dyn std::fmt::Display| Failure::input(format!("{shown}: {e}"));
    let mut f = File::open(path).map_err(|e| fail(&e))?;
    let limit = if sized(&f).map_err(|e| fail(&e))? {
        u64::MAX
    } else {
        INITRD_NON_REGULAR_MAX
    };
    let mut h = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(fail(&e)),
        };
        total = total.saturating_add(n as u64);
        if total > limit {
            return Err(fail(&format_args!(
                "not a regular file or block device, and longer than the {limit}-byte maximum for such an initrd"
            )));
        }
        h.update(&buf[..n]);
    }
    Ok((total > 0).then(|| h.finalize().into()))
}

/// Device and inode of what `path` names, followed (`stat`) or not (`lstat`).
fn ids(path: &Path) -> Vec<(u64, u64)> {
    [fs::metadata(path), fs::symlink_metadata(path)]
        .into_iter()
        .flatten()
        .map(|m| (m.dev(), m.ino()))
        .collect()
}

/// Refuses (usage error) an output `out` (given as `flag`) that names one of
/// `inputs`; with `holds`, also a directory `out` that holds one of them
/// (any of its ancestors).
///
/// # Errors
/// [`Failure::usage`].
pub fn refuse_output_on_input(
    flag: &str,
    out: &Path,
    inputs: &[&Path],
    holds: bool,
) -> Result<(), Failure> {
    let outs = ids(out);
    if outs.is_empty() {
        return Ok(()); // nothing there: it cannot be an input
    }
    for input in inputs {
        let mut candidates: Vec<(u64, u64)> = fs::metadata(input)
            .map(|m| vec![(m.dev(), m.ino())])
            .unwrap_or_default();
        if holds && let Ok(c) = fs::canonicalize(input) {
            candidates.extend(
                c.ancestors()
                    .skip(1)
                    .filter_map(|a| fs::metadata(a).ok())
                    .map(|m| (m.dev(), m.ino())),
            );
        }
        if outs.iter().any(|o| candidates.contains(o)) {
            let what = if holds
                && fs::metadata(input).is_ok_and(|m| !outs.contains(&(m.dev(), m.ino())))
            {
                "holds"
            } else {
                "is"
            };
            return Err(Failure::usage(format!(
                "{flag} {} {what} the input {}: an output may not name an input",
                out.display(),
                input.display()
            )));
        }
    }
    Ok(())
}
