//! Files on the volume the loader was loaded from, and their paths.
//!
//! - the RVF: the first word of the load options (UCS-2) that starts with
//!   `\`, else [`DEFAULT_RVF`]; at most [`RVF_MAX`] bytes,
//! - [`APPEND`]: optional extra kernel arguments (UTF-8, one final newline
//!   dropped), at most the library's `cmdline::APPEND_MAX` bytes,
//! - [`INITRD`]: optional initramfs, at most [`INITRD_MAX`] bytes,
//! - [`DEBUG_EXIT`]: optional, empty; its presence asks the loader to write
//!   its error code to I/O port 0xf4 (QEMU's isa-debug-exit) after a refusal,
//!   a test convenience of `qemu/boot-uefi.sh` only.
//!
//! Every size comes from the file system's `EFI_FILE_INFO` and is checked
//! against its limit before anything is allocated.

use crate::failure::Failure;
use crate::fw::{Dir, Firmware, Pages};

/// Largest RVF file the loader reads (1 GiB).
pub const RVF_MAX: u64 = 1 << 30;

/// Largest initramfs the loader reads (1 GiB).
pub const INITRD_MAX: u64 = 1 << 30;

/// Largest `append.txt` read (its text is then held to the library's
/// `cmdline::APPEND_MAX`).
pub const APPEND_FILE_MAX: u64 = 64 * 1024;

pub use crate::names::{APPEND, DEBUG_EXIT, DEFAULT_RVF, FileKind, INITRD, PATH_MAX, Path};

/// The RVF path from the load options: the first space-separated word that
/// starts with `\` (a shell or boot entry may put the program's own name
/// first), up to a NUL or the end; [`DEFAULT_RVF`] when there is none.
pub fn rvf_path(options: &[u16]) -> Result<Path, Failure> {
    let end = options
        .iter()
        .position(|&u| u == 0)
        .unwrap_or(options.len());
    let text = options.get(..end).unwrap_or(&[]);
    let space = |u: &u16| *u == u16::from(b' ') || *u == u16::from(b'\t');
    for word in text.split(space) {
        if word.first() == Some(&u16::from(b'\\')) {
            let mut p = Path::ascii("")?;
            for &u in word {
                p.push(u)?;
            }
            return Ok(p);
        }
    }
    Path::ascii(DEFAULT_RVF)
}

/// Read the whole file at `path` into fresh pages, refusing files larger
/// than `limit`; `Ok(None)` when it does not exist.
pub fn read<'f>(
    fw: &'f Firmware,
    dir: &Dir<'f>,
    path: &Path,
    kind: FileKind,
    limit: u64,
) -> Result<Option<Pages<'f>>, Failure> {
    let Some(file) = dir.open(path, kind)? else {
        return Ok(None);
    };
    let size = file.size(kind)?;
    if size > limit {
        return Err(Failure::FileTooLarge {
            file: kind,
            size,
            limit,
        });
    }
    let mut pages = fw.allocate(kind.what(), size)?;
    file.read_exact(kind, pages.bytes_mut())?;
    Ok(Some(pages))
}
