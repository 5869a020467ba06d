//! Placement: where the kernel window (and a loader's own buffers) go in the
//! caller's memory map. Pure arithmetic over [`crate::memory`]'s vocabulary;
//! the RAM predicate is [`memory::is_usable`] everywhere (non-RAM entries
//! win over RAM entries they overlap).
//!
//! [`BootPlan::new`] places the protected-mode part: at `pref_address` for a
//! non-relocatable kernel, and for a relocatable one at the **lowest**
//! `kernel_alignment`-aligned address at or above `pref_address` whose
//! `init_size` window is usable RAM and avoids every caller-occupied range.
//! Lowest, not highest, because the decompressor (`head_64.S`) moves itself
//! up to `LOAD_PHYSICAL_ADDR` (= `pref_address`) whenever it is loaded below
//! it, so any address under `pref_address` leaves the real window
//! unreserved; starting at `pref_address` and stepping up is what Limine
//! does, keeps the kernel where it would run anyway, and stays clear of the
//! top of RAM where QEMU and firmware put initrds and other blobs.
//! The RVF kernel header's `entry_point` is never used: the 64-bit entry is
//! always the load address + 0x200.
//!
//! [`place_high`] places a loader's buffers (a decompression buffer, the
//! initrd) top-down, below a limit and above [`memory::LOW_MEMORY_END`].
//!
//! Work: both try `O(n + m)` candidate addresses (`n` map entries, `m`
//! occupied ranges), each checked in `O(n² + m)`.

use crate::bzimage::{BzImage, ENTRY_64_OFFSET};
use crate::error::{Error, Result};
use crate::memory::{self, LOW_MEMORY_END, MemoryRegion, PhysRange, blockers};

/// What a placement or a boot-handoff address is about, as named in
/// [`Error::NoRoom`] and [`Error::BootAddress`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BootItem {
    /// The kernel window (`init_size` bytes from the load address).
    Kernel,
    /// The buffer a compressed kernel is inflated into.
    ImageBuffer,
    /// The initial ramdisk.
    Initrd,
    /// The kernel command line.
    Cmdline,
    /// The RVF file, when a loader reads it in itself.
    RvfFile,
}

impl BootItem {
    /// A short human name, as used in messages.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Kernel => "kernel",
            Self::ImageBuffer => "decompressed kernel",
            Self::Initrd => "initrd",
            Self::Cmdline => "cmdline",
            Self::RvfFile => "RVF file",
        }
    }
}

display_by_name!(BootItem);

/// Where and how to start the kernel: the result of placing a [`BzImage`] in
/// the caller's memory map.
#[derive(Clone, Copy, Debug)]
pub struct BootPlan<'a> {
    image: BzImage<'a>,
    load_address: u64,
}

impl<'a> BootPlan<'a> {
    /// Place `image` in `memory` (the firmware's memory map), avoiding every
    /// range in `occupied` (the RVF file, the initrd, the loader, the zero
    /// page, ...). Non-RAM entries of `memory` are avoided too, even when a
    /// RAM entry overlaps them ([`memory::is_usable`]).
    ///
    /// A non-relocatable kernel goes at `pref_address` or nowhere; a
    /// relocatable one at the lowest `kernel_alignment`-aligned address at or
    /// above `pref_address` that fits (see the module documentation).
    /// Returns [`Error::NoRoom`] with [`BootItem::Kernel`] when nothing fits.
    pub fn new(
        image: &BzImage<'a>,
        memory: &[MemoryRegion],
        occupied: &[PhysRange],
    ) -> Result<Self> {
        let size = image.init_size();
        let align = image.kernel_alignment();
        let pref = image.pref_address();
        let limit = image.address_limit();
        let fits = |base: u64| fits(memory, occupied, PhysRange { base, size }, limit);
        let no_room = Error::NoRoom {
            what: BootItem::Kernel,
            size,
            align,
        };
        let load_address = if image.relocatable() {
            // The lowest fit starts at a region's start or right after a
            // blocker's end (rounded up), never below pref_address.
            let region_starts = memory
                .iter()
                .filter(|r| r.kind == memory::E820Type::Ram)
                .map(|r| r.base);
            let blocker_ends = blockers(memory, occupied).filter_map(|r| r.end());
            core::iter::once(pref)
                .chain(region_starts)
                .chain(blocker_ends)
                .filter_map(|a| align_up(a.max(pref), align))
                .filter(|&a| fits(a))
                .min()
                .ok_or(no_room)?
        } else if fits(pref) {
            pref
        } else {
            return Err(no_room);
        };
        Ok(Self {
            image: *image,
            load_address,
        })
    }

    /// The validated image.
    #[must_use]
    pub const fn image(&self) -> &BzImage<'a> {
        &self.image
    }

    /// The bytes to copy to [`Self::load_address`]: the protected-mode part,
    /// from `(setup_sects + 1) * 512` to the end of the image.
    #[must_use]
    pub const fn protected_mode(&self) -> &'a [u8] {
        self.image.protected_mode()
    }

    /// Where the protected-mode part goes.
    #[must_use]
    pub const fn load_address(&self) -> u64 {
        self.load_address
    }

    /// The window the kernel owns: `[load_address, load_address + init_size)`.
    #[must_use]
    pub fn window(&self) -> PhysRange {
        PhysRange {
            base: self.load_address,
            size: self.image.init_size(),
        }
    }

    /// The 64-bit entry point: `load_address + 0x200` (enter with RSI = zero page).
    #[must_use]
    pub const fn entry_64(&self) -> u64 {
        // The window [load, load + init_size) was checked not to overflow;
        // saturate anyway rather than trust that.
        self.load_address.saturating_add(ENTRY_64_OFFSET)
    }

    /// Whether the kernel is relocatable (otherwise the load address is `pref_address`).
    #[must_use]
    pub const fn relocatable(&self) -> bool {
        self.image.relocatable()
    }
}

/// The highest `align`-aligned range of `size` bytes that is usable RAM
/// ([`memory::is_usable`]), starts at or above [`LOW_MEMORY_END`], ends at or
/// below `limit` and overlaps no range in `occupied`. `align` must be a power
/// of two and `size` non-zero, or nothing fits.
///
/// Returns [`Error::NoRoom`] naming `what` when nothing fits.
///
/// Every candidate end is a RAM entry's end, a non-RAM entry's or occupied
/// range's start, or `limit`: the highest fit is `align_down(boundary -
/// size)` for the nearest boundary above it, so trying all of them finds it.
pub fn place_high(
    memory: &[MemoryRegion],
    occupied: &[PhysRange],
    what: BootItem,
    size: u64,
    align: u64,
    limit: u64,
) -> Result<PhysRange> {
    let no_room = Error::NoRoom { what, size, align };
    if size == 0 || !align.is_power_of_two() {
        return Err(no_room);
    }
    let mask = !(align.saturating_sub(1));
    let ram_ends = memory
        .iter()
        .filter(|r| r.kind == memory::E820Type::Ram)
        .map(|r| r.base.saturating_add(r.size));
    let blocker_starts = blockers(memory, occupied).map(|r| r.base);
    ram_ends
        .chain(blocker_starts)
        .chain(core::iter::once(limit))
        .filter_map(|top| top.min(limit).checked_sub(size).map(|s| s & mask))
        .filter(|&base| base >= LOW_MEMORY_END)
        .map(|base| PhysRange { base, size })
        .filter(|&r| fits(memory, occupied, r, limit))
        .max_by_key(|r| r.base)
        .ok_or(no_room)
}

/// `v` rounded up to `align` (a power of two), or `None` on overflow.
fn align_up(v: u64, align: u64) -> Option<u64> {
    let mask = align.checked_sub(1)?;
    Some(v.checked_add(mask)? & !mask)
}

/// Whether `window` ends at or below `limit`, is usable RAM and overlaps no
/// `occupied` range.
fn fits(memory: &[MemoryRegion], occupied: &[PhysRange], window: PhysRange, limit: u64) -> bool {
    window.end().is_some_and(|end| end <= limit)
        && memory::is_usable(memory, window)
        && !occupied.iter().any(|r| r.overlaps(&window))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bzimage::tests::image;
    use crate::memory::tests::{MIB, ram, reserved};
    use crate::memory::{E820Type, FOUR_GIB};

    fn no_room(what: BootItem, size: u64, align: u64) -> Error {
        Error::NoRoom { what, size, align }
    }

    #[test]
    fn plan_relocatable_lowest_fit_at_or_above_pref() {
        let v = image(true, 0x1000);
        let b = BzImage::parse(&v).unwrap();
        // SeaBIOS-like map, 256 MiB.
        let mem = [
            ram(0, 0x9_FC00),
            reserved(0x9_FC00, 0x400),
            reserved(0xF_0000, 0x1_0000),
            ram(MIB, 255 * MIB - 0x2_0000),
            reserved(0xFFFC_0000, 0x4_0000),
        ];
        let p = BootPlan::new(&b, &mem, &[]).unwrap();
        assert_eq!(p.load_address(), 0x100_0000);
        assert_eq!(p.entry_64(), 0x100_0200);
        assert_eq!(
            p.window(),
            PhysRange {
                base: 0x100_0000,
                size: 0x40_0000
            }
        );
        assert!(p.relocatable());
        assert_eq!(p.protected_mode().len(), 0x1000);
        // An occupied range at 17 MiB pushes the kernel to the next 2 MiB
        // boundary after it.
        let occ = [PhysRange {
            base: 17 * MIB,
            size: 0x1000,
        }];
        let p = BootPlan::new(&b, &mem, &occ).unwrap();
        assert_eq!(p.load_address(), 18 * MIB);
        // A reserved entry inside RAM blocks too.
        let mut mem2 = mem.to_vec();
        mem2.push(MemoryRegion {
            base: 0x150_0000,
            size: 0x10,
            kind: E820Type::Acpi,
        });
        let p = BootPlan::new(&b, &mem2, &occ).unwrap();
        assert_eq!(p.load_address(), 22 * MIB);
        // Adjacent RAM entries are one region.
        let split = [
            ram(MIB, 15 * MIB + 0x20_0000),
            ram(16 * MIB + 0x20_0000, 64 * MIB),
        ];
        assert_eq!(
            BootPlan::new(&b, &split, &[]).unwrap().load_address(),
            16 * MIB
        );
        // RAM only below pref_address: no room (never load below pref).
        let low = [ram(MIB, 15 * MIB)];
        assert_eq!(
            BootPlan::new(&b, &low, &[]).unwrap_err(),
            no_room(BootItem::Kernel, 0x40_0000, 0x20_0000)
        );
        // Too little RAM.
        let small = [ram(16 * MIB, 3 * MIB)];
        assert_eq!(
            BootPlan::new(&b, &small, &[]).unwrap_err(),
            no_room(BootItem::Kernel, 0x40_0000, 0x20_0000)
        );
        // A region starting unaligned above pref.
        let odd = [ram(0x123_4567, 16 * MIB)];
        assert_eq!(
            BootPlan::new(&b, &odd, &[]).unwrap().load_address(),
            20 * MIB
        );
    }

    #[test]
    fn plan_avoids_reserved_entries_overlapping_ram() {
        // The map QEMU/SeaBIOS may give: one RAM entry for all of low RAM
        // and reserved entries on top of it (issue 9 §5). The window must
        // avoid them, however they overlap the RAM entry.
        let v = image(true, 0x1000);
        let b = BzImage::parse(&v).unwrap();
        let mem = [ram(0, 256 * MIB), reserved(16 * MIB + 0x1000, 0x1000)];
        assert_eq!(
            BootPlan::new(&b, &mem, &[]).unwrap().load_address(),
            18 * MIB
        );
        // A reserved entry starting below the window and reaching into it.
        let mem = [ram(0, 256 * MIB), reserved(15 * MIB, 2 * MIB)];
        assert_eq!(
            BootPlan::new(&b, &mem, &[]).unwrap().load_address(),
            18 * MIB
        );
        // A reserved entry that covers the rest of RAM: no room.
        let mem = [ram(0, 256 * MIB), reserved(17 * MIB, 240 * MIB)];
        assert_eq!(
            BootPlan::new(&b, &mem, &[]).unwrap_err(),
            no_room(BootItem::Kernel, 0x40_0000, 0x20_0000)
        );
        // Non-relocatable: pref or nothing, reserved overlap refuses.
        let v = image(false, 0x1000);
        let b = BzImage::parse(&v).unwrap();
        let mem = [ram(0, 256 * MIB), reserved(0x13F_F000, 0x1000)];
        assert_eq!(
            BootPlan::new(&b, &mem, &[]).unwrap_err(),
            no_room(BootItem::Kernel, 0x40_0000, 0x20_0000)
        );
        let mem = [ram(0, 256 * MIB), reserved(0x140_0000, 0x1000)];
        assert_eq!(
            BootPlan::new(&b, &mem, &[]).unwrap().load_address(),
            16 * MIB
        );
    }

    #[test]
    fn plan_relocatable_respects_4g_without_xlf() {
        let mut v = image(true, 0x1000);
        v[0x236] = 0x01; // KERNEL_64 only
        let b = BzImage::parse(&v).unwrap();
        // 1 MiB below 4 GiB (too small), then RAM above 4 GiB.
        let mem = [ram(0xFFE0_0000, 0x10_0000), ram(0x1_0000_0000, 0x1000_0000)];
        assert_eq!(
            BootPlan::new(&b, &mem, &[]).unwrap_err(),
            no_room(BootItem::Kernel, 0x40_0000, 0x20_0000)
        );
        v[0x236] = 0x03;
        let b = BzImage::parse(&v).unwrap();
        assert_eq!(
            BootPlan::new(&b, &mem, &[]).unwrap().load_address(),
            0x1_0000_0000
        );
    }

    #[test]
    fn plan_non_relocatable_is_pref_or_nothing() {
        let v = image(false, 0x1000);
        let b = BzImage::parse(&v).unwrap();
        let mem = [ram(MIB, 255 * MIB)];
        let p = BootPlan::new(&b, &mem, &[]).unwrap();
        assert!(!p.relocatable());
        assert_eq!(p.load_address(), 0x100_0000);
        assert_eq!(p.entry_64(), 0x100_0200);
        let occ = [PhysRange {
            base: 0x13F_FFFF,
            size: 1,
        }];
        assert_eq!(
            BootPlan::new(&b, &mem, &occ).unwrap_err(),
            no_room(BootItem::Kernel, 0x40_0000, 0x20_0000)
        );
        // Just past the window is fine.
        let occ = [PhysRange {
            base: 0x140_0000,
            size: 1,
        }];
        assert_eq!(
            BootPlan::new(&b, &mem, &occ).unwrap().load_address(),
            0x100_0000
        );
        assert_eq!(
            BootPlan::new(&b, &[], &[]).unwrap_err(),
            no_room(BootItem::Kernel, 0x40_0000, 0x20_0000)
        );
    }

    #[test]
    fn place_high_top_down_with_reserved_overlap() {
        // 256 MiB of RAM in one entry, a reserved entry near the top of it
        // (overlapping RAM), the RVF module below it, the stub at 1 MiB.
        let mem = [ram(0, 256 * MIB), reserved(255 * MIB, 0x1000)];
        let occ = [
            PhysRange {
                base: MIB,
                size: MIB,
            },
            PhysRange {
                base: 240 * MIB,
                size: 12 * MIB,
            },
        ];
        let p = |size, align, limit| place_high(&mem, &occ, BootItem::Initrd, size, align, limit);
        // Between the module and the reserved entry: [252 MiB, 255 MiB).
        assert_eq!(
            p(3 * MIB, 0x1000, FOUR_GIB),
            Ok(PhysRange {
                base: 252 * MIB,
                size: 3 * MIB
            })
        );
        // Above the reserved entry: [255 MiB + 4 KiB, 256 MiB).
        assert_eq!(
            p(0x1000, 0x1000, FOUR_GIB),
            Ok(PhysRange {
                base: 256 * MIB - 0x1000,
                size: 0x1000
            })
        );
        assert_eq!(
            p(MIB - 0x1000, 0x1000, FOUR_GIB),
            Ok(PhysRange {
                base: 255 * MIB + 0x1000,
                size: MIB - 0x1000
            })
        );
        // One byte more does not fit there: just below the reserved entry.
        assert_eq!(
            p(MIB - 0x1000 + 1, 0x1000, FOUR_GIB),
            Ok(PhysRange {
                base: 254 * MIB,
                size: MIB - 0x1000 + 1
            })
        );
        assert_eq!(
            p(13 * MIB, 0x1000, FOUR_GIB),
            Ok(PhysRange {
                base: 227 * MIB,
                size: 13 * MIB
            })
        );
        // A limit below the top.
        assert_eq!(
            p(MIB, 2 * MIB, 101 * MIB),
            Ok(PhysRange {
                base: 100 * MIB,
                size: MIB
            })
        );
        // Never below 1 MiB (low memory) and never over the stub.
        assert_eq!(
            p(MIB, 0x1000, 2 * MIB + MIB - 1),
            Err(no_room(BootItem::Initrd, MIB, 0x1000))
        );
        assert_eq!(
            p(MIB, 0x1000, 3 * MIB),
            Ok(PhysRange {
                base: 2 * MIB,
                size: MIB
            })
        );
        // Too big for any gap.
        assert_eq!(
            p(239 * MIB, 0x1000, FOUR_GIB),
            Err(no_room(BootItem::Initrd, 239 * MIB, 0x1000))
        );
        assert_eq!(
            p(238 * MIB, 0x1000, FOUR_GIB),
            Ok(PhysRange {
                base: 2 * MIB,
                size: 238 * MIB
            })
        );
        // Degenerate requests.
        assert_eq!(
            p(0, 0x1000, FOUR_GIB),
            Err(no_room(BootItem::Initrd, 0, 0x1000))
        );
        assert_eq!(
            p(0x1000, 0x1800, FOUR_GIB),
            Err(no_room(BootItem::Initrd, 0x1000, 0x1800))
        );
        assert_eq!(
            place_high(&[], &[], BootItem::ImageBuffer, 1, 1, u64::MAX),
            Err(no_room(BootItem::ImageBuffer, 1, 1))
        );
    }

    #[test]
    fn loader_sequence_keeps_every_used_range_apart() {
        // Issue 9 §5: a reserved entry overlapping RAM where a loader's
        // hint expected the kernel (16 MiB). The loader reserved its whole
        // image buffer at `hint - setup`; the plan must move the window off
        // both, and the initrd placed afterwards must avoid all of them.
        let v = image(true, 0x1000);
        let b = BzImage::parse(&v).unwrap();
        let mem = [ram(0, 256 * MIB), reserved(17 * MIB, 0x1000)];
        let stub = PhysRange {
            base: MIB,
            size: MIB,
        };
        let module = PhysRange {
            base: 244 * MIB,
            size: 12 * MIB,
        };
        let buffer = PhysRange {
            base: 16 * MIB - 0x400,
            size: 0x400 + 0x1000,
        };
        let beyond = PhysRange {
            base: FOUR_GIB,
            size: u64::MAX - FOUR_GIB,
        };
        let mut occupied = std::vec![beyond, stub, module, buffer];
        let plan = BootPlan::new(&b, &mem, &occupied).unwrap();
        assert_eq!(plan.load_address(), 18 * MIB);
        occupied.push(plan.window());
        let initrd =
            place_high(&mem, &occupied, BootItem::Initrd, 8 * MIB, 0x1000, FOUR_GIB).unwrap();
        assert_eq!(
            initrd,
            PhysRange {
                base: 236 * MIB,
                size: 8 * MIB
            }
        );
        for (i, a) in occupied.iter().enumerate() {
            assert!(!a.overlaps(&initrd), "initrd over reservation {i}");
            assert!(memory::is_usable(&mem, initrd));
        }
        assert!(!plan.window().overlaps(&buffer));
    }

    #[test]
    fn place_high_matches_brute_force() {
        // Every 4 KiB-aligned candidate in a small map, checked one by one.
        let mem = [
            ram(0, 0x9_F000),
            ram(MIB, 7 * MIB),
            reserved(3 * MIB + 0x3000, 0x2000),
            MemoryRegion {
                base: 6 * MIB,
                size: 0x1_0000,
                kind: E820Type::Acpi,
            },
            ram(8 * MIB, MIB),
        ];
        let occ = [PhysRange {
            base: 5 * MIB,
            size: 0x5000,
        }];
        for size in [0x1000, 0x3000, 0x10_0000, 0x20_0001, 0x30_0000, 0x50_0000] {
            for limit in [4 * MIB, 6 * MIB + 0x8000, 9 * MIB, FOUR_GIB] {
                let brute = (0..limit.min(16 * MIB) / 0x1000)
                    .rev()
                    .map(|p| PhysRange {
                        base: p * 0x1000,
                        size,
                    })
                    .find(|&r| r.base >= LOW_MEMORY_END && fits(&mem, &occ, r, limit));
                let got = place_high(&mem, &occ, BootItem::Initrd, size, 0x1000, limit).ok();
                assert_eq!(got, brute, "size {size:#x} limit {limit:#x}");
            }
        }
    }
}
