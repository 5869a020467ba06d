//! The kernel command line rules (boot.rst: `cmd_line_ptr`, `cmdline_size`).
//!
//! [`write()`] joins the RVF kernel segment's cmdline and the caller's extra
//! arguments with one space, checks the result against the kernel's
//! `cmdline_size` and against bytes the kernel would misparse, and writes it
//! NUL-terminated into the caller's buffer. Every refusal is an
//! [`Error::Cmdline`] carrying a [`CmdlineProblem`], or
//! [`Error::BufferTooSmall`] when the caller's buffer is too small.

use crate::bytes::u64_from;
use crate::error::{Error, Result};
use core::fmt;

/// Longest extra-argument string (`-append` under a QEMU PVH boot) a loader
/// accepts, without its NUL: QEMU's PVH option ROM copies `-append` into a
/// 4096-byte buffer, NUL included, so nothing longer arrives intact. The PVH
/// stub refuses a longer one, and `rvf-boot measure` predicts that refusal.
pub const APPEND_MAX: usize = 4095;

/// Size of the buffer a loader assembles the final command line in, NUL
/// included: a kernel whose `cmdline_size` is larger is still limited to
/// this. The PVH stub reserves exactly this much; `rvf-boot measure` uses the
/// same size, so both refuse the same lines.
pub const BUFFER_SIZE: usize = 16 * 1024;

/// Why a command line cannot be handed to the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CmdlineProblem {
    /// Longer than the kernel's `cmdline_size` (both without the NUL).
    TooLong {
        /// The combined line's length.
        length: u64,
        /// The kernel's `cmdline_size`.
        limit: u64,
    },
    /// A NUL byte inside the line (the kernel would stop reading there).
    NulByte {
        /// Its offset in the combined line.
        at: u64,
    },
    /// A control byte (0x01..=0x1F or 0x7F) the kernel's parser mangles.
    ControlByte {
        /// Its offset in the combined line.
        at: u64,
        /// The byte.
        byte: u8,
    },
}

impl fmt::Display for CmdlineProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::TooLong { length, limit } => write!(
                f,
                "too long: {length} bytes, the kernel's cmdline_size is {limit}"
            ),
            Self::NulByte { at } => write!(f, "NUL byte at offset {at}"),
            Self::ControlByte { at, byte } => {
                write!(f, "control byte {byte:#04x} at offset {at}")
            }
        }
    }
}

/// Write the kernel command line into `buf`: `rvf` (the RVF kernel segment's
/// cmdline), then, if both are non-empty, one space and `extra` (the caller's
/// arguments), then a NUL. Returns the length without the NUL.
///
/// Refuses with [`Error::Cmdline`]: [`CmdlineProblem::TooLong`] when the
/// line exceeds `cmdline_size`, [`CmdlineProblem::NulByte`] or
/// [`CmdlineProblem::ControlByte`] (the first such byte, 0x01..=0x1F and
/// 0x7F) for bytes the kernel would misparse; and with
/// [`Error::BufferTooSmall`] when `buf` cannot hold it and its NUL.
pub fn write(buf: &mut [u8], rvf: &[u8], extra: &[u8], cmdline_size: u64) -> Result<usize> {
    let sep: &[u8] = if rvf.is_empty() || extra.is_empty() {
        b""
    } else {
        b" "
    };
    let len = rvf
        .len()
        .saturating_add(sep.len())
        .saturating_add(extra.len());
    let len64 = u64_from(len);
    if len64 > cmdline_size {
        return Err(Error::Cmdline(CmdlineProblem::TooLong {
            length: len64,
            limit: cmdline_size,
        }));
    }
    for (i, &b) in rvf.iter().chain(sep).chain(extra).enumerate() {
        let at = u64_from(i);
        if b == 0 {
            return Err(Error::Cmdline(CmdlineProblem::NulByte { at }));
        }
        if b < 0x20 || b == 0x7F {
            return Err(Error::Cmdline(CmdlineProblem::ControlByte { at, byte: b }));
        }
    }
    let Some(out) = len.checked_add(1).and_then(|n| buf.get_mut(..n)) else {
        return Err(Error::BufferTooSmall {
            needed: len64.saturating_add(1),
            available: u64_from(buf.len()),
        });
    };
    for (d, &s) in out
        .iter_mut()
        .zip(rvf.iter().chain(sep).chain(extra).chain(&[0u8]))
    {
        *d = s;
    }
    Ok(len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn cmdline_join_and_nul() {
        let mut buf = [0xAAu8; 32];
        assert_eq!(write(&mut buf, b"console=ttyS0", b"quiet", 2047), Ok(19));
        assert_eq!(&buf[..20], b"console=ttyS0 quiet\0");
        assert_eq!(buf[20], 0xAA);
        assert_eq!(write(&mut buf, b"a", b"", 2047), Ok(1));
        assert_eq!(&buf[..2], b"a\0");
        assert_eq!(write(&mut buf, b"", b"b c", 2047), Ok(3));
        assert_eq!(&buf[..4], b"b c\0");
        assert_eq!(write(&mut buf, b"", b"", 2047), Ok(0));
        assert_eq!(buf[0], 0);
        // UTF-8 is fine.
        assert_eq!(write(&mut buf, "é".as_bytes(), b"", 2047), Ok(2));
    }

    #[test]
    fn cmdline_refusals() {
        let mut buf = [0u8; 64];
        // Exactly cmdline_size is fine; one more is too long.
        assert_eq!(write(&mut buf, b"abc", b"de", 6), Ok(6));
        let e = write(&mut buf, b"abc", b"def", 6).unwrap_err();
        assert_eq!(
            e,
            Error::Cmdline(CmdlineProblem::TooLong {
                length: 7,
                limit: 6
            })
        );
        assert_eq!(
            e.to_string(),
            "kernel command line: too long: 7 bytes, the kernel's cmdline_size is 6"
        );
        let e = write(&mut buf, b"ab\0", b"", 2047).unwrap_err();
        assert_eq!(e, Error::Cmdline(CmdlineProblem::NulByte { at: 2 }));
        assert_eq!(e.to_string(), "kernel command line: NUL byte at offset 2");
        let e = write(&mut buf, b"ab", b"x\ny", 2047).unwrap_err();
        assert_eq!(
            e,
            Error::Cmdline(CmdlineProblem::ControlByte { at: 4, byte: 0x0A })
        );
        assert_eq!(
            e.to_string(),
            "kernel command line: control byte 0x0a at offset 4"
        );
        assert_eq!(
            write(&mut buf, b"\x7F", b"", 2047),
            Err(Error::Cmdline(CmdlineProblem::ControlByte {
                at: 0,
                byte: 0x7F
            }))
        );
        assert_eq!(
            write(&mut buf, b"a\tb", b"", 2047),
            Err(Error::Cmdline(CmdlineProblem::ControlByte {
                at: 1,
                byte: 9
            }))
        );
        let mut small = [0u8; 3];
        assert_eq!(
            write(&mut small, b"abc", b"", 2047),
            Err(Error::BufferTooSmall {
                needed: 4,
                available: 3
            })
        );
        assert_eq!(write(&mut small, b"ab", b"", 2047), Ok(2));
    }
}
