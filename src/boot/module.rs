//! One module for the RVF and an optional initramfs (a loader's one PVH
//! module).
//!
//! Firecracker and Cloud Hypervisor pass exactly one PVH module (their
//! `initrd`), and neither has fw_cfg, so an initramfs for the kernel must
//! travel in the same module as the RVF. The format (docs/microvm.md):
//!
//! ```text
//! [ RVF: its segments and, when signed, its RVM0 root page ]  the RVF's extent
//! [ zero fill up to the next 4 KiB boundary (none if already aligned) ]
//! [ initramfs, to the end of the module ]
//! ```
//!
//! The RVF's extent is what the library's block-device reading gives: the
//! segment walk's end ([`Walk::end`], the rule of
//! [`crate::segment::after_segment`]), plus a 4096-byte root page when
//! one starts right there (its magic, as `rvf-boot extract --bundle` reads a
//! device). A module is split only when all of this holds; otherwise the
//! whole module is the RVF, exactly as before, and the library judges it
//! (so a torn or over-long RVF is still refused by the library and never
//! mistaken for an initramfs):
//!
//! * the walk stopped on its own (not at the library's segment limit) and
//!   found at least one segment;
//! * bytes follow the 4 KiB boundary at or after the extent;
//! * the fill between the extent and that boundary is all zero;
//! * what starts at the boundary is neither a segment header nor a root
//!   page (its first four bytes are not their magic).
//!
//! The initramfs is not verified (like the fw_cfg one, it is the caller's,
//! not the RVF's); with a TPM it is measured as loaded. Work: the library's
//! walk over the module (at most three header reads per segment, one scan
//! of a zero tail), then at most 4095 fill bytes.

use core::fmt;

use crate::segment::{ROOT_PAGE_MAGIC, ROOT_PAGE_SIZE, SEGMENT_MAGIC, Walk, WalkEnd};

/// Alignment of the initramfs inside the module.
pub(crate) const INITRD_ALIGN: u64 = 4096;

/// A module cut into the RVF and the initramfs that follows it.
#[derive(Clone, Copy, Debug)]
pub struct OneModule<'a> {
    /// The RVF: the module's first `extent` bytes (or all of it).
    pub rvf: &'a [u8],
    /// The initramfs, when the module carries one.
    pub initrd: Option<&'a [u8]>,
    /// Its offset in the module (0 without one).
    pub initrd_at: u64,
}

/// Cut `module` as the format above says.
#[must_use]
pub fn split(module: &[u8]) -> OneModule<'_> {
    let whole = OneModule {
        rvf: module,
        initrd: None,
        initrd_at: 0,
    };
    let Some((extent, at)) = cut(module) else {
        return whole;
    };
    match (
        usize::try_from(extent).ok().and_then(|e| module.get(..e)),
        usize::try_from(at).ok().and_then(|a| module.get(a..)),
    ) {
        (Some(rvf), Some(initrd)) if !initrd.is_empty() => OneModule {
            rvf,
            initrd: Some(initrd),
            initrd_at: at,
        },
        _ => whole,
    }
}

/// `(extent, initramfs offset)` when the module is an RVF followed by an
/// initramfs in the format above.
fn cut(module: &[u8]) -> Option<(u64, u64)> {
    let len = u64::try_from(module.len()).ok()?;
    let mut walk = Walk::new(module);
    let segments = walk.by_ref().count();
    if segments == 0 || matches!(walk.stop(), WalkEnd::Limit(_)) {
        return None;
    }
    let end = walk.end();
    let extent = if magic_at(module, end) == Some(ROOT_PAGE_MAGIC)
        && end.checked_add(ROOT_PAGE_SIZE).is_some_and(|e| e <= len)
    {
        end.checked_add(ROOT_PAGE_SIZE)?
    } else {
        end
    };
    let at = extent.checked_next_multiple_of(INITRD_ALIGN)?;
    if at >= len {
        return None;
    }
    let fill = module.get(usize::try_from(extent).ok()?..usize::try_from(at).ok()?)?;
    if fill.iter().any(|&b| b != 0) {
        return None;
    }
    match magic_at(module, at) {
        Some(SEGMENT_MAGIC | ROOT_PAGE_MAGIC) => None,
        _ => Some((extent, at)),
    }
}

/// The little-endian `u32` at `at`, if the module has four bytes there.
fn magic_at(module: &[u8], at: u64) -> Option<u32> {
    let bytes = module
        .get(usize::try_from(at).ok()?..)?
        .first_chunk::<4>()?;
    Some(u32::from_le_bytes(*bytes))
}

impl fmt::Display for OneModule<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.initrd {
            Some(initrd) => write!(
                f,
                "rvf-boot: one module: RVF {} bytes, initramfs {} bytes at byte {:#x}",
                self.rvf.len(),
                initrd.len(),
                self.initrd_at
            ),
            None => write!(f, "rvf-boot: one module: RVF {} bytes", self.rvf.len()),
        }
    }
}
