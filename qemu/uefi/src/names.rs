//! The loader's file names and paths: which files it reads ([`FileKind`]),
//! their fixed names and the UCS-2 [`Path`] the file protocol takes. Below
//! both the firmware access (`fw.rs`) and the file reading (`files.rs`).

use core::fmt;

use crate::failure::Failure;

/// Longest path the loader keeps, in UCS-2 units without the NUL.
pub const PATH_MAX: usize = 255;

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

    /// Appends one UCS-2 unit.
    pub fn push(&mut self, unit: u16) -> Result<(), Failure> {
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
