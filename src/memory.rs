//! Physical memory: the one vocabulary every loader shell and the boot plan
//! share (address ranges, the firmware's e820 map, the limits of the x86
//! boot protocol) and the one predicate that says whether a range is usable
//! RAM.
//!
//! A firmware map may list reserved (or ACPI, NVS, ...) entries that overlap
//! RAM entries; SeaBIOS and OVMF both do. Here **non-RAM wins**: a byte is
//! usable only when some RAM entry covers it and no other entry does
//! ([`usable_end`], [`is_usable`]). Adjacent or overlapping RAM entries form
//! one region.
//!
//! Work: [`usable_end`] takes at most `n + 1` steps of `O(n)` each for a map
//! of `n` entries (`O(n²)`; loaders pass at most [`E820_MAX_ENTRIES`]).

/// 4 GiB: the end of the 32-bit address space, the limit for kernels without
/// `XLF_CAN_BE_LOADED_ABOVE_4G`, and the end of the identity map loaders such
/// as the QEMU stub build.
pub const FOUR_GIB: u64 = 0x1_0000_0000;

/// The lowest address a LOADED_HIGH kernel may be loaded at (1 MiB).
pub(crate) const MIN_LOAD_ADDRESS: u64 = 0x10_0000;

/// The end of low memory (1 MiB): below it lie the real-mode IVT and BDA,
/// the EBDA, video memory and the firmware, so loaders place nothing there.
pub const LOW_MEMORY_END: u64 = 0x10_0000;

/// Entries the zero page's e820 table holds (`E820_MAX_ENTRIES_ZEROPAGE`),
/// and so the most memory-map entries a loader hands over.
pub const E820_MAX_ENTRIES: usize = 128;

/// E820 memory-region types (ACPI address range types).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum E820Type {
    /// 1: usable RAM.
    Ram,
    /// 2: reserved.
    Reserved,
    /// 3: ACPI reclaimable.
    Acpi,
    /// 4: ACPI NVS.
    Nvs,
    /// 5: unusable.
    Unusable,
    /// 7: persistent memory.
    Pmem,
    /// Any other code, passed through unchanged.
    Other(u32),
}

impl E820Type {
    /// The type for an e820 / PVH `hvm_memmap_table_entry` type code.
    #[must_use]
    pub const fn from_code(code: u32) -> Self {
        match code {
            1 => Self::Ram,
            2 => Self::Reserved,
            3 => Self::Acpi,
            4 => Self::Nvs,
            5 => Self::Unusable,
            7 => Self::Pmem,
            c => Self::Other(c),
        }
    }

    /// The e820 type code.
    #[must_use]
    pub const fn code(self) -> u32 {
        match self {
            Self::Ram => 1,
            Self::Reserved => 2,
            Self::Acpi => 3,
            Self::Nvs => 4,
            Self::Unusable => 5,
            Self::Pmem => 7,
            Self::Other(c) => c,
        }
    }
}

/// One entry of the caller's physical memory map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryRegion {
    /// First byte.
    pub base: u64,
    /// Length in bytes.
    pub size: u64,
    /// What the memory is.
    pub kind: E820Type,
}

impl MemoryRegion {
    /// The entry's address range.
    #[must_use]
    pub const fn range(&self) -> PhysRange {
        PhysRange {
            base: self.base,
            size: self.size,
        }
    }
}

/// A physical address range `[base, base + size)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhysRange {
    /// First byte.
    pub base: u64,
    /// Length in bytes.
    pub size: u64,
}

impl PhysRange {
    /// One past the last byte, or `None` if that overflows.
    #[must_use]
    pub const fn end(&self) -> Option<u64> {
        self.base.checked_add(self.size)
    }

    /// Whether the two ranges share a byte. An overflowing range is taken to
    /// run to the end of the address space. Empty ranges overlap nothing.
    #[must_use]
    pub const fn overlaps(&self, other: &Self) -> bool {
        if self.size == 0 || other.size == 0 {
            return false;
        }
        let a_end = match self.end() {
            Some(e) => e,
            None => u64::MAX,
        };
        let b_end = match other.end() {
            Some(e) => e,
            None => u64::MAX,
        };
        self.base < b_end && other.base < a_end
    }

    /// Whether every byte of `other` lies in `self` (an empty `other` lies
    /// anywhere; an overflowing range contains nothing and lies nowhere).
    #[must_use]
    pub const fn contains(&self, other: &Self) -> bool {
        let (Some(a_end), Some(b_end)) = (self.end(), other.end()) else {
            return false;
        };
        other.size == 0 || (self.base <= other.base && b_end <= a_end)
    }
}

/// Why a range handed over by firmware (or computed by a loader) cannot be
/// used as it is: the result of [`check_range`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RangeProblem {
    /// It has no bytes.
    Empty,
    /// `base + size` overflows.
    Wraps,
    /// It ends above the limit the caller can address.
    AboveLimit {
        /// The limit (one past the last usable byte).
        limit: u64,
    },
    /// Some byte is not usable RAM ([`is_usable`]).
    NotUsableRam,
    /// It overlaps a range the caller must keep (its own image, ...).
    Overlaps {
        /// The first such range.
        other: PhysRange,
    },
}

impl core::fmt::Display for RangeProblem {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Self::Empty => f.write_str("is empty"),
            Self::Wraps => f.write_str("wraps around the address space"),
            Self::AboveLimit { limit } => write!(f, "ends above {limit:#x}"),
            Self::NotUsableRam => f.write_str("is not inside usable RAM"),
            Self::Overlaps { other } => write!(
                f,
                "overlaps {:#x}..{:#x}",
                other.base,
                other.end().unwrap_or(u64::MAX)
            ),
        }
    }
}

/// One past the last byte of the usable-RAM run that starts at `addr`: the
/// largest `end` such that every byte of `[addr, end)` is covered by RAM
/// entries of `memory` and by no non-RAM entry. `None` when `addr` itself is
/// not usable.
#[must_use]
pub fn usable_end(memory: &[MemoryRegion], addr: u64) -> Option<u64> {
    // Coverage by the union of RAM entries: advance through entries that
    // contain `pos`. Each step strictly advances, so at most `n + 1` steps.
    let mut pos = addr;
    for _ in 0..=memory.len() {
        let next = memory
            .iter()
            .filter(|r| r.kind == E820Type::Ram && r.base <= pos)
            .map(|r| r.base.saturating_add(r.size))
            .filter(|&e| e > pos)
            .max();
        match next {
            Some(e) => pos = e,
            None => break,
        }
    }
    if pos == addr {
        return None;
    }
    // Non-RAM wins: cut the run at the first non-RAM entry inside it.
    let run = PhysRange {
        base: addr,
        size: pos.saturating_sub(addr),
    };
    let cut = memory
        .iter()
        .filter(|r| r.kind != E820Type::Ram)
        .map(MemoryRegion::range)
        .filter(|r| r.overlaps(&run))
        .map(|r| r.base)
        .min();
    match cut {
        Some(c) if c <= addr => None,
        Some(c) => Some(c),
        None => Some(pos),
    }
}

/// Whether every byte of `range` is usable RAM: covered by RAM entries of
/// `memory` and by no non-RAM entry, even one that overlaps a RAM entry.
/// Empty and overflowing ranges are not usable.
#[must_use]
pub fn is_usable(memory: &[MemoryRegion], range: PhysRange) -> bool {
    match range.end() {
        Some(end) if range.size != 0 => usable_end(memory, range.base).is_some_and(|e| e >= end),
        _ => false,
    }
}

/// Check a range a loader is about to trust: non-empty, not wrapping, ending
/// at or below `limit`, usable RAM ([`is_usable`]) and clear of every range
/// in `avoid`. The first failing check, in that order, is returned.
pub fn check_range(
    memory: &[MemoryRegion],
    range: PhysRange,
    limit: u64,
    avoid: &[PhysRange],
) -> Result<(), RangeProblem> {
    if range.size == 0 {
        return Err(RangeProblem::Empty);
    }
    let Some(end) = range.end() else {
        return Err(RangeProblem::Wraps);
    };
    if end > limit {
        return Err(RangeProblem::AboveLimit { limit });
    }
    if !is_usable(memory, range) {
        return Err(RangeProblem::NotUsableRam);
    }
    match avoid.iter().find(|a| a.overlaps(&range)) {
        Some(&other) => Err(RangeProblem::Overlaps { other }),
        None => Ok(()),
    }
}

/// The memory map's non-RAM entries followed by `occupied`: everything a
/// placement must not overlap.
pub(crate) fn blockers<'m>(
    memory: &'m [MemoryRegion],
    occupied: &'m [PhysRange],
) -> impl Iterator<Item = PhysRange> + 'm {
    memory
        .iter()
        .filter(|r| r.kind != E820Type::Ram)
        .map(MemoryRegion::range)
        .chain(occupied.iter().copied())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const MIB: u64 = 0x10_0000;

    pub(crate) fn ram(base: u64, size: u64) -> MemoryRegion {
        MemoryRegion {
            base,
            size,
            kind: E820Type::Ram,
        }
    }

    pub(crate) fn reserved(base: u64, size: u64) -> MemoryRegion {
        MemoryRegion {
            base,
            size,
            kind: E820Type::Reserved,
        }
    }

    fn r(base: u64, size: u64) -> PhysRange {
        PhysRange { base, size }
    }

    #[test]
    fn phys_range_overlap_and_contains() {
        let a = r(10, 10);
        assert!(a.overlaps(&r(19, 1)));
        assert!(!a.overlaps(&r(20, 5)));
        assert!(!a.overlaps(&r(0, 10)));
        assert!(a.overlaps(&r(0, 11)));
        assert!(!a.overlaps(&r(12, 0)));
        assert!(a.overlaps(&r(5, u64::MAX)));
        assert_eq!(r(1, u64::MAX).end(), None);
        assert!(a.contains(&r(10, 10)));
        assert!(a.contains(&r(19, 1)));
        assert!(!a.contains(&r(19, 2)));
        assert!(!a.contains(&r(9, 2)));
        assert!(a.contains(&r(500, 0)));
        assert!(!a.contains(&r(u64::MAX, 2)));
        assert!(!r(u64::MAX, 2).contains(&r(u64::MAX, 0)));
    }

    #[test]
    fn e820_codes_round_trip() {
        for c in 0..10u32 {
            assert_eq!(E820Type::from_code(c).code(), c);
        }
        assert_eq!(E820Type::from_code(1), E820Type::Ram);
        assert_eq!(E820Type::from_code(6), E820Type::Other(6));
        assert_eq!(E820Type::Pmem.code(), 7);
    }

    #[test]
    fn limits() {
        assert_eq!(FOUR_GIB, 1 << 32);
        assert_eq!(MIN_LOAD_ADDRESS, 1 << 20);
        assert_eq!(LOW_MEMORY_END, 1 << 20);
        assert_eq!(E820_MAX_ENTRIES, 128);
    }

    #[test]
    fn usable_ram_reserved_wins() {
        // RAM 1..256 MiB with a reserved entry inside it at 16 MiB + 4 KiB.
        let map = [
            ram(0, 0x9_FC00),
            reserved(0xF_0000, 0x1_0000),
            ram(MIB, 255 * MIB),
            reserved(16 * MIB, 0x1000),
        ];
        assert_eq!(usable_end(&map, 0), Some(0x9_FC00));
        assert_eq!(usable_end(&map, 0x9_FC00), None);
        assert_eq!(usable_end(&map, MIB), Some(16 * MIB));
        assert_eq!(usable_end(&map, 16 * MIB), None);
        assert_eq!(usable_end(&map, 16 * MIB + 0xFFF), None);
        assert_eq!(usable_end(&map, 16 * MIB + 0x1000), Some(256 * MIB));
        assert_eq!(usable_end(&map, 256 * MIB), None);
        assert!(is_usable(&map, r(MIB, 15 * MIB)));
        assert!(!is_usable(&map, r(MIB, 15 * MIB + 1)));
        assert!(!is_usable(&map, r(15 * MIB, 2 * MIB)));
        assert!(is_usable(&map, r(16 * MIB + 0x1000, 240 * MIB - 0x1000)));
        assert!(!is_usable(&map, r(16 * MIB + 0x1000, 240 * MIB - 0xFFF)));
        assert!(!is_usable(&map, r(MIB, 0)));
        assert!(!is_usable(&map, r(u64::MAX, 2)));
        // Adjacent and overlapping RAM entries are one run.
        let split = [
            ram(MIB, 2 * MIB),
            ram(3 * MIB, MIB),
            ram(3 * MIB + 5, 4 * MIB),
        ];
        assert_eq!(usable_end(&split, MIB), Some(7 * MIB + 5));
        assert!(is_usable(&split, r(MIB, 6 * MIB + 5)));
        // A gap ends the run.
        let gap = [ram(MIB, MIB), ram(2 * MIB + 1, MIB)];
        assert_eq!(usable_end(&gap, MIB), Some(2 * MIB));
        assert!(!is_usable(&gap, r(MIB, MIB + 2)));
        // A reserved entry covering the whole RAM entry.
        let hidden = [ram(MIB, MIB), reserved(0, 4 * MIB)];
        assert_eq!(usable_end(&hidden, MIB), None);
        assert!(!is_usable(&[], r(MIB, 1)));
    }

    #[test]
    fn check_range_order_of_checks() {
        let map = [ram(MIB, 255 * MIB), reserved(100 * MIB, 1)];
        let stub = [r(MIB, MIB)];
        assert_eq!(
            check_range(&map, r(200 * MIB, 0), FOUR_GIB, &stub),
            Err(RangeProblem::Empty)
        );
        assert_eq!(
            check_range(&map, r(u64::MAX, 2), FOUR_GIB, &stub),
            Err(RangeProblem::Wraps)
        );
        assert_eq!(
            check_range(&map, r(FOUR_GIB - 1, 2), FOUR_GIB, &stub),
            Err(RangeProblem::AboveLimit { limit: FOUR_GIB })
        );
        assert_eq!(
            check_range(&map, r(FOUR_GIB - 1, 1), FOUR_GIB, &stub),
            Err(RangeProblem::NotUsableRam)
        );
        assert_eq!(
            check_range(&map, r(99 * MIB, 2 * MIB), FOUR_GIB, &stub),
            Err(RangeProblem::NotUsableRam)
        );
        assert_eq!(
            check_range(&map, r(2 * MIB - 1, 1), FOUR_GIB, &stub),
            Err(RangeProblem::Overlaps { other: stub[0] })
        );
        assert_eq!(check_range(&map, r(2 * MIB, 1), FOUR_GIB, &stub), Ok(()));
        assert_eq!(
            check_range(&map, r(200 * MIB, 56 * MIB), FOUR_GIB, &stub),
            Ok(())
        );
    }
}
