//! Fixed-capacity text: a line formatted (with interrupts masked) before it
//! is printed, and UCS-2 strings for the firmware.

use core::fmt;

/// Capacity of one console line, in bytes; a longer message is cut (and ends
/// in `...`).
pub const LINE_MAX: usize = 512;

/// One line of console text, formatted into a fixed buffer.
pub struct Line {
    buf: [u8; LINE_MAX],
    len: usize,
    cut: bool,
}

impl Line {
    /// An empty line.
    pub const fn new() -> Self {
        Self {
            buf: [0; LINE_MAX],
            len: 0,
            cut: false,
        }
    }

    /// The text so far, with `...` when it was cut.
    pub fn bytes(&self) -> (&[u8], bool) {
        (self.buf.get(..self.len).unwrap_or(&[]), self.cut)
    }
}

impl fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            match self.buf.get_mut(self.len) {
                Some(slot) => {
                    *slot = b;
                    self.len = self.len.saturating_add(1);
                }
                None => self.cut = true,
            }
        }
        Ok(())
    }
}

/// A console character for a byte of (ASCII) text: `?` for anything the
/// console might not show.
pub fn console_char(b: u8) -> u16 {
    if b == b'\n' || (0x20..0x7f).contains(&b) {
        u16::from(b)
    } else {
        u16::from(b'?')
    }
}

/// Encode `src` into `dst` as UTF-16 with a terminating NUL (Linux's EFI
/// stub converts its UTF-16 load options back to UTF-8, so the kernel sees
/// exactly `src`). Returns the number of units written, NUL included, or
/// `None` when `dst` is too small.
pub fn to_utf16(src: &str, dst: &mut [u16]) -> Option<usize> {
    let mut n = 0usize;
    for unit in src.encode_utf16().chain(core::iter::once(0)) {
        *dst.get_mut(n)? = unit;
        n = n.checked_add(1)?;
    }
    Some(n)
}
