//! Overflow-free reads from borrowed bytes.
//!
//! Every read goes through `get(off..)?.get(..len)` with `u64` offsets
//! converted by `try_from`, so no input can index out of bounds or overflow.
//! The helpers return the library's [`Error::Truncated`] naming the structure.

use crate::error::{Error, Result, Structure};
use zerocopy::{FromBytes, Immutable, KnownLayout, Unaligned};

/// `u64 -> usize` without truncation (`None` if it does not fit).
#[must_use]
pub(crate) fn usize_from(v: u64) -> Option<usize> {
    usize::try_from(v).ok()
}

/// `usize -> u64` (lossless on every supported target; saturates otherwise).
#[must_use]
pub(crate) fn u64_from(v: usize) -> u64 {
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// `bytes[off .. off + len]`, or `None` when any part is out of range.
#[must_use]
pub(crate) fn range(bytes: &[u8], off: u64, len: u64) -> Option<&[u8]> {
    bytes.get(usize_from(off)?..)?.get(..usize_from(len)?)
}

/// `bytes[off .. off + len]`, or [`Error::Truncated`] naming `structure` at
/// `base + off` (so callers report absolute file offsets).
pub(crate) fn slice(
    bytes: &[u8],
    base: u64,
    off: u64,
    len: u64,
    structure: Structure,
) -> Result<&[u8]> {
    range(bytes, off, len).ok_or_else(|| Error::Truncated {
        structure,
        offset: base.saturating_add(off),
        needed: len,
        available: u64_from(bytes.len()).saturating_sub(off),
    })
}

/// A zerocopy view of `T` at `off`, or [`Error::Truncated`].
pub(crate) fn view<T>(bytes: &[u8], base: u64, off: u64, structure: Structure) -> Result<&T>
where
    T: FromBytes + KnownLayout + Immutable + Unaligned,
{
    let len = u64_from(core::mem::size_of::<T>());
    let b = slice(bytes, base, off, len, structure)?;
    // `b` has exactly `size_of::<T>()` bytes and `T` is unaligned, so this
    // cannot fail; map the impossible case to the same error anyway.
    T::ref_from_bytes(b).map_err(|_| Error::Truncated {
        structure,
        offset: base.saturating_add(off),
        needed: len,
        available: u64_from(b.len()),
    })
}

/// Little-endian u32 at `off` if present.
#[must_use]
pub(crate) fn le_u32(bytes: &[u8], off: u64) -> Option<u32> {
    let b: [u8; 4] = range(bytes, off, 4)?.try_into().ok()?;
    Some(u32::from_le_bytes(b))
}

/// Little-endian u16 at `off` if present.
#[must_use]
pub(crate) fn le_u16(bytes: &[u8], off: u64) -> Option<u16> {
    let b: [u8; 2] = range(bytes, off, 2)?.try_into().ok()?;
    Some(u16::from_le_bytes(b))
}

/// Little-endian u64 at `off` if present.
#[must_use]
pub(crate) fn le_u64(bytes: &[u8], off: u64) -> Option<u64> {
    let b: [u8; 8] = range(bytes, off, 8)?.try_into().ok()?;
    Some(u64::from_le_bytes(b))
}

/// Whether every byte is zero.
#[must_use]
pub(crate) fn all_zero(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| b == 0)
}

/// `v` rounded up to a multiple of 64, or `None` on overflow.
#[must_use]
pub(crate) const fn align64(v: u64) -> Option<u64> {
    match v.checked_add(63) {
        Some(x) => Some(x & !63),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_never_overflows() {
        let b = [1u8, 2, 3, 4];
        assert_eq!(range(&b, 1, 2), Some(&b[1..3]));
        assert_eq!(range(&b, 4, 0), Some(&b[4..4]));
        assert_eq!(range(&b, 5, 0), None);
        assert_eq!(range(&b, u64::MAX, 1), None);
        assert_eq!(range(&b, 1, u64::MAX), None);
    }

    #[test]
    fn slice_reports_absolute_offset() {
        let b = [0u8; 10];
        assert_eq!(
            slice(&b, 100, 8, 4, Structure::Manifest),
            Err(Error::Truncated {
                structure: Structure::Manifest,
                offset: 108,
                needed: 4,
                available: 2
            })
        );
    }

    #[test]
    fn align() {
        assert_eq!(align64(0), Some(0));
        assert_eq!(align64(1), Some(64));
        assert_eq!(align64(64), Some(64));
        assert_eq!(align64(u64::MAX), None);
    }
}
