//! Reading the inputs, with memory bounded by what is used, and refusing an
//! output that names an input.
//!
//! - FILE is read whole by `inspect`, `verify`, `extract --kernel` and
//!   `measure` (every payload may be hashed): a regular file or a block
//!   device costs its size, reserved once (fallibly) from its length. Any
//!   other input (a FIFO, a character device such as `/dev/zero`, a pipe) has
//!   no length: it is read up to [`read::NON_REGULAR_MAX`] bytes and refused, with
//!   one line, when it holds more.
//! - `--initrd` is hashed while it streams, in [`read::CHUNK`]-byte reads: a fixed
//!   amount of memory whatever its size. A non-regular initrd is refused past
//!   [`read::INITRD_NON_REGULAR_MAX`] bytes (the boot protocol's 32-bit
//!   `ramdisk_size` cannot load more).
//! - An output (`--kernel`, `--cmdline`, `--bundle`, `--event-log`) that is
//!   an input, in any spelling (the same device and inode, whether the
//!   output path is followed or not), is a usage error; so is a `--bundle`
//!   directory that holds an input (`--force` would remove it).

use crate::finish::Failure;
use rvf_boot_cli::read;
use std::fs;
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;

/// Reads all of `path`, bounded ([`read::read_whole`]).
///
/// # Errors
/// A [`Failure::input`] naming `path`.
pub fn read_whole(path: &Path) -> Result<Vec<u8>, Failure> {
    read::read_whole(path).map_err(Failure::input)
}

/// The SHA-256 of the initrd, streamed ([`read::hash_initrd`]).
///
/// # Errors
/// A [`Failure::input`] naming `path`.
pub fn hash_initrd(path: &Path) -> Result<Option<[u8; 32]>, Failure> {
    read::hash_initrd(path).map_err(Failure::input)
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
