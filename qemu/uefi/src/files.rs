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

use core::fmt;

use crate::failure::Failure;
use crate::fw::{Dir, Firmware, Pages};

/// Longest path the loader keeps, in UCS-2 units without the NUL.
pub const PATH_MAX: usize = 255;

/// Largest RVF file the loader reads (1 GiB).
pub const RVF_MAX: u64 = 1 << 30;

/// Largest initramfs the loader reads (1 GiB).
pub const INITRD_MAX: u64 = 1 << 30;

/// Largest `append.txt` read (its text is then held to the library's
/// `cmdline::APPEND_MAX`).
pub const APPEND_FILE_MAX: u64 = 64 * 1024;

/// The RVF read when the load options name none.
pub const DEFAULT_RVF: &str = "\\EFI\\rvf\\boot.rvf";

/// Extra kernel arguments.
pub const APPEND: &str = "\\EFI\\rvf\\append.txt";

/// The initramfs served through the Linux initrd media device path.
pub const INITRD: &str = "\\EFI\\rvf\\initrd";

/// Test convenience: refusals also exit QEMU (see the module doc).
pub const DEBUG_EXIT: &str = "\\EFI\\rvf\\qemu-debug-exit";

/// Which of the loader's files (named in messages: the RVF's own path was
/// printed before it is read).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// The RVF.
    Rvf,
    /// [`APPEND`].
    Append,
    /// [`INITRD`].
    Initrd,
    /// [`DEBUG_EXIT`].
    DebugExit,
}

impl FileKind {
    /// What the loader allocates its pages for.
    pub const fn what(self) -> &'static str {
        match self {
            Self::Rvf => "RVF file",
            Self::Append => "append.txt",
            Self::Initrd => "initramfs",
            Self::DebugExit => "qemu-debug-exit",
        }
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Rvf => "the RVF file",
            Self::Append => APPEND,
            Self::Initrd => INITRD,
            Self::DebugExit => DEBUG_EXIT,
        })
    }
}

/// A NUL-terminated UCS-2 path.
#[derive(Clone, Copy, Debug)]
pub struct Path {
    units: [u16; PATH_MAX + 1],
    len: usize,
}

impl Path {
    /// An ASCII path (the loader's fixed names).
    pub fn ascii(s: &str) -> Result<Self, Failure> {
        let mut p = Self {
            units: [0; PATH_MAX + 1],
            len: 0,
        };
        for b in s.bytes() {
            p.push(u16::from(b))?;
        }
        Ok(p)
    }

    fn push(&mut self, unit: u16) -> Result<(), Failure> {
        if self.len >= PATH_MAX {
            return Err(Failure::PathTooLong);
        }
        let slot = self.units.get_mut(self.len).ok_or(Failure::PathTooLong)?;
        *slot = unit;
        self.len = self.len.saturating_add(1);
        Ok(())
    }

    /// The path with its NUL, for `EFI_FILE_PROTOCOL.Open`.
    pub fn with_nul(&self) -> &[u16] {
        self.units.get(..self.len.saturating_add(1)).unwrap_or(&[0])
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &u in self.units.get(..self.len).unwrap_or(&[]) {
            let c = char::from_u32(u32::from(u)).unwrap_or('?');
            let c = if c.is_control() { '?' } else { c };
            fmt::Write::write_char(f, c)?;
        }
        Ok(())
    }
}

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
