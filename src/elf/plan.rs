//! Where an ELF vmlinux goes ([`plan`]): every `PT_LOAD` at its `p_paddr`,
//! checked against the caller's memory map and reservations, and the copies
//! a loader makes.

use super::{LoadTarget, MAX_LOADS, PlacementProblem, Vmlinux};
use crate::bytes::range;
use crate::error::{Error, Result};
use crate::memory::{FOUR_GIB, MIN_LOAD_ADDRESS, MemoryRegion, PhysRange, check_range};

/// One `PT_LOAD` to put in place: copy [`Self::file_size`] bytes from the
/// image at [`Self::file_offset`] to [`Self::destination`], then zero
/// [`Self::zero`] bytes after them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SegmentCopy {
    /// The `PT_LOAD`'s program-header index.
    pub index: u16,
    /// `p_offset`.
    pub file_offset: u64,
    /// `p_filesz`.
    pub file_size: u64,
    /// `p_paddr`.
    pub destination: u64,
    /// `p_memsz - p_filesz`, zeroed at `destination + file_size`.
    pub zero: u64,
}

impl SegmentCopy {
    /// The target range `[destination, destination + file_size + zero)`.
    #[must_use]
    pub const fn target(&self) -> PhysRange {
        PhysRange {
            base: self.destination,
            size: self.file_size.saturating_add(self.zero),
        }
    }

    /// The range to zero, `[destination + file_size, ... + zero)`.
    #[must_use]
    pub const fn zero_range(&self) -> PhysRange {
        PhysRange {
            base: self.destination.saturating_add(self.file_size),
            size: self.zero,
        }
    }
}

/// Where a [`Vmlinux`] goes: the result of [`plan`]. It keeps what the
/// hand-over needs (the image, the entries, the copies, the span), not the
/// [`Vmlinux`] itself, so a loader holding both keeps one copy of the loads
/// table on its stack (about 0.7 KiB here, 0.9 KiB there).
#[derive(Clone, Copy, Debug)]
pub struct ElfPlan<'a> {
    image: &'a [u8],
    entry: u64,
    pvh_entry: Option<u32>,
    copies: [SegmentCopy; MAX_LOADS],
    count: usize,
    window: PhysRange,
}

impl<'a> ElfPlan<'a> {
    /// The whole image the copies read from.
    #[must_use]
    pub const fn image(&self) -> &'a [u8] {
        self.image
    }

    /// The copies to make, one per non-empty `PT_LOAD`, in program-header order.
    #[must_use]
    pub fn copies(&self) -> &[SegmentCopy] {
        self.copies.get(..self.count).unwrap_or(&[])
    }

    /// The image bytes `copy` copies (`p_filesz` bytes at `p_offset`).
    #[must_use]
    pub fn source(&self, copy: &SegmentCopy) -> &'a [u8] {
        range(self.image, copy.file_offset, copy.file_size).unwrap_or(&[])
    }

    /// The kernel's span ([`Vmlinux::span`]), checked like each segment:
    /// what the cmdline, initrd and zero page must stay clear of.
    #[must_use]
    pub const fn window(&self) -> PhysRange {
        self.window
    }

    /// The 64-bit entry point (`e_entry`; enter with RSI = zero page).
    #[must_use]
    pub const fn entry_64(&self) -> u64 {
        self.entry
    }

    /// The PVH entry point, if the image has the note.
    #[must_use]
    pub const fn pvh_entry(&self) -> Option<u32> {
        self.pvh_entry
    }
}

/// Check that every `PT_LOAD` of `vmlinux`, and its span, can go to its
/// `p_paddr` in `memory` clear of `reserved` (see the module documentation),
/// and list the copies. `reserved` holds everything the loader keeps until
/// the jump, **including the buffer the image itself lies in** (the copies
/// read from it). The first failure is an [`Error::ElfPlacement`]:
/// segments in program-header order, then the span.
pub fn plan<'a>(
    vmlinux: &Vmlinux<'a>,
    memory: &[MemoryRegion],
    reserved: &[PhysRange],
) -> Result<ElfPlan<'a>> {
    let check = |target: LoadTarget, r: PhysRange| {
        let fail = |problem| Error::ElfPlacement {
            target,
            base: r.base,
            size: r.size,
            problem,
        };
        if r.base < MIN_LOAD_ADDRESS {
            return Err(fail(PlacementProblem::BelowOneMib));
        }
        check_range(memory, r, FOUR_GIB, reserved).map_err(|p| fail(PlacementProblem::Range(p)))
    };
    let mut copies = [SegmentCopy::default(); MAX_LOADS];
    let mut count = 0usize;
    for load in vmlinux.loads().iter().filter(|l| l.memsz != 0) {
        check(LoadTarget::Segment { index: load.index }, load.target())?;
        if let Some(slot) = copies.get_mut(count) {
            *slot = SegmentCopy {
                index: load.index,
                file_offset: load.offset,
                file_size: load.filesz,
                destination: load.paddr,
                zero: load.memsz.saturating_sub(load.filesz),
            };
            count = count.saturating_add(1);
        }
    }
    let window = vmlinux.span();
    check(LoadTarget::Span, window)?;
    Ok(ElfPlan {
        image: vmlinux.image,
        entry: vmlinux.entry,
        pvh_entry: vmlinux.pvh_entry,
        copies,
        count,
        window,
    })
}
