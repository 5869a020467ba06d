//! The x86 `boot_params` ("zero page") for the 64-bit boot protocol
//! (boot.rst "64-bit Boot Protocol"; `zero-page.rst`). The command line
//! itself is [`crate::cmdline`]'s.
//!
//! [`build`] writes a caller's 4096-byte page:
//!
//! | offset | field | value |
//! |---:|---|---|
//! | 0x000..0x1000 | everything | zeroed first |
//! | 0x070 | `acpi_rsdp_addr` (u64) | [`Handoff::acpi_rsdp`] or 0 |
//! | 0x0C0 | `ext_ramdisk_image` (u32) | initrd address >> 32 |
//! | 0x0C4 | `ext_ramdisk_size` (u32) | initrd size >> 32 |
//! | 0x0C8 | `ext_cmd_line_ptr` (u32) | cmdline address >> 32 |
//! | 0x1E8 | `e820_entries` (u8) | number of memory-map entries (at most 128) |
//! | 0x1F1..0x202+byte\[0x201\] | setup header | copied from the image |
//! | 0x1FA | `vid_mode` (u16) | 0xFFFF ("normal") |
//! | 0x210 | `type_of_loader` | 0xFF (no assigned ID) |
//! | 0x211 | `loadflags` | the image's, with CAN_USE_HEAP (bit 7) cleared |
//! | 0x214 | `code32_start` (u32) | the load address, when below 4 GiB |
//! | 0x218 | `ramdisk_image` (u32) | initrd address, low 32 bits |
//! | 0x21C | `ramdisk_size` (u32) | initrd size, low 32 bits |
//! | 0x224 | `heap_end_ptr` (u16) | 0 |
//! | 0x228 | `cmd_line_ptr` (u32) | cmdline address, low 32 bits |
//! | 0x2D0 | `e820_table` | 20-byte entries: addr u64, size u64, type u32 |
//!
//! CAN_USE_HEAP is cleared because `heap_end_ptr` describes the real-mode
//! setup code's heap, and the 64-bit entry skips that code entirely (Limine
//! does not set it either).
//!
//! # ELF kernels
//!
//! [`build_for_elf`] writes the page for an ELF vmlinux entered at `e_entry`
//! with RSI = the page ([`crate::elf`]; what Firecracker writes for an ELF
//! kernel it does not boot through PVH). The image has no setup header, so
//! a synthetic one is written; everything else is zero:
//!
//! | offset | field | value |
//! |---:|---|---|
//! | 0x000..0x1000 | everything | zeroed first |
//! | 0x070, 0x0C0..0x0CC, 0x1E8, 0x218, 0x21C, 0x228, 0x2D0 | RSDP, ramdisk, cmdline, e820 | as [`build`] writes them (one function) |
//! | 0x1FE | `boot_flag` (u16) | 0xAA55 |
//! | 0x202 | `header` (u32) | `"HdrS"` |
//! | 0x210 | `type_of_loader` | 0xFF (no assigned ID) |
//! | 0x238 | `cmdline_size` (u32) | the cmdline's length without its NUL (0 without one) |
//!
//! `version` stays 0, `loadflags` 0 and `vid_mode` 0, as Firecracker leaves
//! them: the kernel proper reads none of them (they belong to the real-mode
//! setup code and the decompressor, which a vmlinux does not have).

use crate::bytes::u64_from;
use crate::bzimage::{BOOT_FLAG, HDRS_MAGIC, loadflags};
use crate::elf::ElfPlan;
use crate::error::{Error, Result};
use crate::memory::{E820_MAX_ENTRIES, FOUR_GIB, MemoryRegion, PhysRange};
use crate::plan::{BootItem, BootPlan};
use core::fmt;
use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// Size of `struct boot_params`.
pub const ZERO_PAGE_SIZE: usize = 4096;
/// Size of one e820 entry.
pub(crate) const E820_ENTRY_SIZE: usize = 20;
/// `type_of_loader` for a boot loader without an assigned ID.
pub(crate) const TYPE_OF_LOADER_UNDEFINED: u8 = 0xFF;
/// `vid_mode` "normal" (80x25 text; no mode switch).
pub(crate) const VID_MODE_NORMAL: u16 = 0xFFFF;

/// Zero-page offsets this module writes.
#[allow(dead_code)] // the protocol's whole table, not only what the crate reads
pub(crate) mod offset {
    /// `acpi_rsdp_addr` (u64).
    pub(crate) const ACPI_RSDP_ADDR: usize = 0x070;
    /// `ext_ramdisk_image` (u32).
    pub(crate) const EXT_RAMDISK_IMAGE: usize = 0x0C0;
    /// `ext_ramdisk_size` (u32).
    pub(crate) const EXT_RAMDISK_SIZE: usize = 0x0C4;
    /// `ext_cmd_line_ptr` (u32).
    pub(crate) const EXT_CMD_LINE_PTR: usize = 0x0C8;
    /// `e820_entries` (u8).
    pub(crate) const E820_ENTRIES: usize = 0x1E8;
    /// Start of the setup header.
    pub(crate) const SETUP_HEADER: usize = 0x1F1;
    /// `vid_mode` (u16).
    pub(crate) const VID_MODE: usize = 0x1FA;
    /// `type_of_loader` (u8).
    pub(crate) const TYPE_OF_LOADER: usize = 0x210;
    /// `loadflags` (u8).
    pub(crate) const LOADFLAGS: usize = 0x211;
    /// `code32_start` (u32).
    pub(crate) const CODE32_START: usize = 0x214;
    /// `ramdisk_image` (u32).
    pub(crate) const RAMDISK_IMAGE: usize = 0x218;
    /// `ramdisk_size` (u32).
    pub(crate) const RAMDISK_SIZE: usize = 0x21C;
    /// `heap_end_ptr` (u16).
    pub(crate) const HEAP_END_PTR: usize = 0x224;
    /// `cmd_line_ptr` (u32).
    pub(crate) const CMD_LINE_PTR: usize = 0x228;
    /// `boot_flag` (u16; written for ELF kernels only).
    pub(crate) const BOOT_FLAG: usize = 0x1FE;
    /// `header` (u32, `"HdrS"`; written for ELF kernels only).
    pub(crate) const HEADER: usize = 0x202;
    /// `cmdline_size` (u32; written for ELF kernels only).
    pub(crate) const CMDLINE_SIZE: usize = 0x238;
    /// End of the setup-header area (`edd_mbr_sig_buffer`).
    pub(crate) const SETUP_HEADER_AREA_END: usize = 0x290;
    /// `e820_table` (128 × 20 bytes).
    pub(crate) const E820_TABLE: usize = 0x2D0;
}

/// What the loader hands the kernel besides the image.
#[derive(Clone, Copy, Debug)]
pub struct Handoff<'a> {
    /// Where the NUL-terminated command line lies (`size` counts the NUL);
    /// `None` leaves `cmd_line_ptr` 0.
    pub cmdline: Option<PhysRange>,
    /// Where the initrd lies; `None` (or size 0) leaves the ramdisk fields 0.
    pub initrd: Option<PhysRange>,
    /// The memory map to give the kernel, copied as is (at most 128 entries).
    pub memory_map: &'a [MemoryRegion],
    /// The ACPI RSDP address, if known.
    pub acpi_rsdp: Option<u64>,
}

#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct E820Entry {
    addr: U64,
    size: U64,
    kind: U32,
}

/// `struct boot_params`, only as fine-grained as the fields written here.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct Raw {
    _pad0: [u8; 0x070],
    acpi_rsdp_addr: U64,
    _pad1: [u8; 0x0C0 - 0x078],
    ext_ramdisk_image: U32,
    ext_ramdisk_size: U32,
    ext_cmd_line_ptr: U32,
    _pad2: [u8; 0x1E8 - 0x0CC],
    e820_entries: u8,
    _pad3: [u8; 0x1F1 - 0x1E9],
    hdr: [u8; 0x290 - 0x1F1],
    _pad4: [u8; 0x2D0 - 0x290],
    e820_table: [E820Entry; E820_MAX_ENTRIES],
    _pad5: [u8; 0x1000 - 0xCD0],
}

// Compile-time size checks.
const _: [(); ZERO_PAGE_SIZE] = [(); core::mem::size_of::<Raw>()];
const _: [(); E820_ENTRY_SIZE] = [(); core::mem::size_of::<E820Entry>()];

/// The part of the setup header written here, at zero-page offset 0x1F1.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct HdrWrite {
    _pad0: [u8; 0x1FA - 0x1F1],
    vid_mode: U16,
    _pad1: [u8; 0x1FE - 0x1FC],
    boot_flag: U16,
    _pad2: [u8; 0x202 - 0x200],
    header: U32,
    _pad3: [u8; 0x210 - 0x206],
    type_of_loader: u8,
    loadflags: u8,
    _pad4: [u8; 2],
    code32_start: U32,
    ramdisk_image: U32,
    ramdisk_size: U32,
    _pad5: [u8; 4],
    heap_end_ptr: U16,
    _pad6: [u8; 2],
    cmd_line_ptr: U32,
    _pad7: [u8; 0x238 - 0x22C],
    cmdline_size: U32,
    _pad8: [u8; 0x290 - 0x23C],
}

const _: [(); 0x290 - 0x1F1] = [(); core::mem::size_of::<HdrWrite>()];

fn lo32(v: u64) -> u32 {
    u32::try_from(v & 0xFFFF_FFFF).unwrap_or(0)
}

fn hi32(v: u64) -> u32 {
    u32::try_from(v >> 32).unwrap_or(0)
}

/// Why an address handed to the kernel breaks one of its placement limits
/// ([`Error::BootAddress`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AddressProblem {
    /// `base + size` overflows.
    Wraps,
    /// It ends above 4 GiB and the kernel lacks `XLF_CAN_BE_LOADED_ABOVE_4G`.
    AboveFourGib,
    /// It ends above the kernel's `initrd_addr_max`.
    AboveInitrdAddrMax,
    /// It overlaps the kernel window.
    OverlapsKernelWindow,
}

impl fmt::Display for AddressProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Wraps => "wraps around the address space",
            Self::AboveFourGib => {
                "ends above 4 GiB and the kernel lacks XLF_CAN_BE_LOADED_ABOVE_4G"
            }
            Self::AboveInitrdAddrMax => "ends above the kernel's initrd_addr_max",
            Self::OverlapsKernelWindow => "overlaps the kernel window",
        })
    }
}

fn boot_address(what: BootItem, r: PhysRange, problem: AddressProblem) -> Error {
    Error::BootAddress {
        what,
        address: r.base,
        problem,
    }
}

/// `r` must end at or below `limit` (one past the last byte allowed), and
/// must not overlap `window`; `over` names the limit.
fn check_address(
    what: BootItem,
    r: PhysRange,
    limit: u64,
    over: AddressProblem,
    window: PhysRange,
) -> Result<()> {
    match r.end() {
        None => Err(boot_address(what, r, AddressProblem::Wraps)),
        Some(end) if end > limit => Err(boot_address(what, r, over)),
        Some(_) if r.overlaps(&window) => {
            Err(boot_address(what, r, AddressProblem::OverlapsKernelWindow))
        }
        Some(_) => Ok(()),
    }
}

/// The checks both builders make before writing: at most 128 memory-map
/// entries; the initrd (when non-empty) and the cmdline must not wrap, must
/// end at or below their limits and must not overlap the kernel `window`.
/// Returns the initrd to hand over (`None` when absent or empty).
fn check_handoff(
    handoff: &Handoff<'_>,
    window: PhysRange,
    initrd_limit: (u64, AddressProblem),
    cmdline_limit: u64,
) -> Result<Option<PhysRange>> {
    let map = handoff.memory_map;
    if map.len() > E820_MAX_ENTRIES {
        return Err(Error::MemoryMapTooLarge {
            count: u64_from(map.len()),
            limit: u64_from(E820_MAX_ENTRIES),
        });
    }
    let initrd = handoff.initrd.filter(|r| r.size != 0);
    if let Some(r) = initrd {
        let (limit, over) = initrd_limit;
        check_address(BootItem::Initrd, r, limit, over, window)?;
    }
    if let Some(c) = handoff.cmdline {
        let over = AddressProblem::AboveFourGib;
        check_address(BootItem::Cmdline, c, cmdline_limit, over, window)?;
    }
    Ok(initrd)
}

/// What both builders write from the hand-over: `cmd_line_ptr` and
/// `ext_cmd_line_ptr`, the four ramdisk fields, `acpi_rsdp_addr` and the
/// e820 table (already checked by [`check_handoff`]). A stale pointer in
/// the setup header is overwritten, with 0 when there is no cmdline or
/// initrd.
fn write_handoff(raw: &mut Raw, handoff: &Handoff<'_>, initrd: Option<PhysRange>) {
    let c = handoff.cmdline.map_or(0, |c| c.base);
    let (base, size) = initrd.map_or((0, 0), |r| (r.base, r.size));
    {
        let hdr: &mut HdrWrite = zerocopy::transmute_mut!(&mut raw.hdr);
        hdr.cmd_line_ptr.set(lo32(c));
        hdr.ramdisk_image.set(lo32(base));
        hdr.ramdisk_size.set(lo32(size));
    }
    raw.ext_cmd_line_ptr.set(hi32(c));
    raw.ext_ramdisk_image.set(hi32(base));
    raw.ext_ramdisk_size.set(hi32(size));
    raw.acpi_rsdp_addr.set(handoff.acpi_rsdp.unwrap_or(0));
    let map = handoff.memory_map;
    raw.e820_entries = u8::try_from(map.len()).unwrap_or(0);
    for (e, m) in raw.e820_table.iter_mut().zip(map) {
        e.addr.set(m.base);
        e.size.set(m.size);
        e.kind.set(m.kind.code());
    }
}

/// Write `boot_params` for `plan` into `zero_page` (see the module table).
///
/// Refuses with [`Error::MemoryMapTooLarge`] for more than 128 memory-map
/// entries, and with [`Error::BootAddress`] ([`AddressProblem`]) when the initrd ends above
/// `initrd_addr_max` or overlaps the kernel window, or the cmdline lies above
/// 4 GiB for a kernel without `XLF_CAN_BE_LOADED_ABOVE_4G` or overlaps the
/// kernel window. On error the page is left zeroed or partly written.
pub fn build(
    zero_page: &mut [u8; ZERO_PAGE_SIZE],
    plan: &BootPlan<'_>,
    handoff: &Handoff<'_>,
) -> Result<()> {
    zero_page.fill(0);
    let image = plan.image();
    // initrd_addr_max is the highest byte the initrd may occupy.
    let limit = image.initrd_addr_max().saturating_add(1);
    let over = if limit == FOUR_GIB {
        AddressProblem::AboveFourGib
    } else {
        AddressProblem::AboveInitrdAddrMax
    };
    let initrd = check_handoff(handoff, plan.window(), (limit, over), image.address_limit())?;

    let raw: &mut Raw = zerocopy::transmute_mut!(zero_page);
    // Setup header: image[0x1F1 .. header_end] to the same offsets.
    let src = image.setup_header_bytes();
    let n = src.len().min(raw.hdr.len());
    if let (Some(dst), Some(src)) = (raw.hdr.get_mut(..n), src.get(..n)) {
        dst.copy_from_slice(src);
    }
    {
        let hdr: &mut HdrWrite = zerocopy::transmute_mut!(&mut raw.hdr);
        hdr.vid_mode.set(VID_MODE_NORMAL);
        hdr.type_of_loader = TYPE_OF_LOADER_UNDEFINED;
        hdr.loadflags &= !loadflags::CAN_USE_HEAP;
        hdr.heap_end_ptr.set(0);
        let load = plan.load_address();
        if load < FOUR_GIB {
            hdr.code32_start.set(lo32(load));
        }
    }
    write_handoff(raw, handoff, initrd);
    Ok(())
}

/// Write `boot_params` for an ELF vmlinux placed by [`crate::elf::plan`]
/// into `zero_page`: the table in the module documentation's "ELF
/// kernels" section. There is no setup header in the image to copy, so a
/// synthetic one carries the magic numbers and the loader's fields; the
/// hand-over fields (cmdline, initrd, e820, RSDP) are written by the same
/// code as [`build`]'s.
///
/// Refuses with [`Error::MemoryMapTooLarge`] for more than 128 memory-map
/// entries, and with [`Error::BootAddress`] when the initrd or the cmdline
/// wraps or overlaps the kernel's span ([`ElfPlan::window`]). Neither has an
/// upper limit: the 64-bit kernel always reads the `ext_*` high halves.
/// On error the page is left zeroed or partly written.
pub fn build_for_elf(
    zero_page: &mut [u8; ZERO_PAGE_SIZE],
    plan: &ElfPlan<'_>,
    handoff: &Handoff<'_>,
) -> Result<()> {
    zero_page.fill(0);
    let no_limit = (u64::MAX, AddressProblem::Wraps);
    let initrd = check_handoff(handoff, plan.window(), no_limit, u64::MAX)?;
    let raw: &mut Raw = zerocopy::transmute_mut!(zero_page);
    {
        let hdr: &mut HdrWrite = zerocopy::transmute_mut!(&mut raw.hdr);
        hdr.boot_flag.set(BOOT_FLAG);
        hdr.header.set(HDRS_MAGIC);
        hdr.type_of_loader = TYPE_OF_LOADER_UNDEFINED;
        // `size` counts the NUL; cmdline_size does not.
        let len = handoff.cmdline.map_or(0, |c| c.size.saturating_sub(1));
        hdr.cmdline_size.set(lo32(len.min(u64::from(u32::MAX))));
    }
    write_handoff(raw, handoff, initrd);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bzimage::BzImage;
    use crate::bzimage::tests::image;
    use crate::memory::E820Type;
    use rvf_testkit::le::{u16_at, u32_at, u64_at};
    use std::string::ToString;

    const MIB: u64 = 0x10_0000;

    fn map() -> [MemoryRegion; 3] {
        [
            MemoryRegion {
                base: 0,
                size: 0x9_FC00,
                kind: E820Type::Ram,
            },
            MemoryRegion {
                base: 0xF_0000,
                size: 0x1_0000,
                kind: E820Type::Reserved,
            },
            MemoryRegion {
                base: MIB,
                size: 255 * MIB,
                kind: E820Type::Ram,
            },
        ]
    }

    #[test]
    fn zero_page_byte_by_byte() {
        let mut v = image(true, 0x1000);
        v[0x211] = 0x81 | 0x20; // LOADED_HIGH | QUIET | CAN_USE_HEAP in the image
        v[0x224] = 0x34; // heap_end_ptr in the image
        v[0x1FA] = 0x12; // vid_mode in the image
        let b = BzImage::parse(&v).unwrap();
        let m = map();
        let plan = BootPlan::new(&b, &m, &[]).unwrap();
        let mut zp = [0xEEu8; 4096];
        let h = Handoff {
            cmdline: Some(PhysRange {
                base: 0x1_2345_6000,
                size: 10,
            }),
            initrd: Some(PhysRange {
                base: 0x2_0000_1000,
                size: 0x1_0000_0005,
            }),
            memory_map: &m,
            acpi_rsdp: Some(0xF_5A10),
        };
        build(&mut zp, &plan, &h).unwrap();
        let mut expect = [0u8; 4096];
        expect[0x1F1..0x26C].copy_from_slice(&v[0x1F1..0x26C]);
        expect[0x070..0x078].copy_from_slice(&0xF_5A10u64.to_le_bytes());
        expect[0x0C0..0x0C4].copy_from_slice(&2u32.to_le_bytes());
        expect[0x0C4..0x0C8].copy_from_slice(&1u32.to_le_bytes());
        expect[0x0C8..0x0CC].copy_from_slice(&1u32.to_le_bytes());
        expect[0x1E8] = 3;
        expect[0x1FA..0x1FC].copy_from_slice(&[0xFF, 0xFF]);
        expect[0x210] = 0xFF;
        expect[0x211] = 0x21;
        expect[0x214..0x218].copy_from_slice(&0x100_0000u32.to_le_bytes());
        expect[0x218..0x21C].copy_from_slice(&0x1000u32.to_le_bytes());
        expect[0x21C..0x220].copy_from_slice(&5u32.to_le_bytes());
        expect[0x224..0x226].copy_from_slice(&[0, 0]);
        expect[0x228..0x22C].copy_from_slice(&0x2345_6000u32.to_le_bytes());
        for (i, r) in m.iter().enumerate() {
            let o = 0x2D0 + 20 * i;
            expect[o..o + 8].copy_from_slice(&r.base.to_le_bytes());
            expect[o + 8..o + 16].copy_from_slice(&r.size.to_le_bytes());
            expect[o + 16..o + 20].copy_from_slice(&r.kind.code().to_le_bytes());
        }
        for i in 0..4096 {
            assert_eq!(zp[i], expect[i], "zero page byte {i:#x}");
        }
        // Spot checks against the protocol's names.
        assert_eq!(u16_at(&zp, 0x1FE), 0xAA55);
        assert_eq!(&zp[0x202..0x206], b"HdrS");
        assert_eq!(u16_at(&zp, 0x206), 0x020F);
        assert_eq!(u32_at(&zp, 0x260), 0x40_0000);
        assert_eq!(u64_at(&zp, 0x258), 0x100_0000);
        assert_eq!(u64_at(&zp, 0x2D0 + 40 + 8), 255 * MIB);
        assert_eq!(u32_at(&zp, 0x2D0 + 20 + 16), 2);
        assert!(zp[0x26C..0x290].iter().all(|&x| x == 0));
        assert!(zp[0x2D0 + 60..].iter().all(|&x| x == 0));
    }

    #[test]
    fn zero_page_minimal_and_long_header() {
        let mut v = image(false, 0x1000);
        v[0x201] = 0x8E; // header through 0x290
        v[0x26C..0x290].fill(0xAB);
        let b = BzImage::parse(&v).unwrap();
        let m = map();
        let plan = BootPlan::new(&b, &m, &[]).unwrap();
        let mut zp = [0x55u8; 4096];
        build(
            &mut zp,
            &plan,
            &Handoff {
                cmdline: None,
                initrd: None,
                memory_map: &[],
                acpi_rsdp: None,
            },
        )
        .unwrap();
        assert!(zp[0x26C..0x290].iter().all(|&x| x == 0xAB));
        assert_eq!(zp[0x290], 0);
        assert_eq!(zp[0x1E8], 0);
        assert_eq!(u32_at(&zp, 0x228), 0);
        assert_eq!(u32_at(&zp, 0x218), 0);
        assert_eq!(u64_at(&zp, 0x070), 0);
        assert!(zp[..0x1F1].iter().all(|&x| x == 0));
        assert!(zp[0x290..].iter().all(|&x| x == 0));
        // An empty initrd counts as none.
        let h = Handoff {
            cmdline: None,
            initrd: Some(PhysRange { base: 5, size: 0 }),
            memory_map: &[],
            acpi_rsdp: None,
        };
        build(&mut zp, &plan, &h).unwrap();
        assert_eq!(u32_at(&zp, 0x218), 0);
    }

    #[test]
    fn zero_page_refusals() {
        let mut v = image(true, 0x1000);
        v[0x236] = 0x01; // no XLF_CAN_BE_LOADED_ABOVE_4G
        let b = BzImage::parse(&v).unwrap();
        let m = map();
        let plan = BootPlan::new(&b, &m, &[]).unwrap();
        let mut zp = [0u8; 4096];
        let big = [MemoryRegion {
            base: 0,
            size: 1,
            kind: E820Type::Ram,
        }; 129];
        let h = Handoff {
            cmdline: None,
            initrd: None,
            memory_map: &big,
            acpi_rsdp: None,
        };
        assert_eq!(
            build(&mut zp, &plan, &h),
            Err(Error::MemoryMapTooLarge {
                count: 129,
                limit: 128
            })
        );
        let h = Handoff {
            memory_map: &big[..128],
            ..h
        };
        build(&mut zp, &plan, &h).unwrap();
        assert_eq!(zp[0x1E8], 128);

        let ok = Handoff {
            cmdline: None,
            initrd: None,
            memory_map: &m,
            acpi_rsdp: None,
        };
        // initrd_addr_max 0x7FFFFFFF: last byte may be 0x7FFFFFFF.
        let h = Handoff {
            initrd: Some(PhysRange {
                base: 0x7FFF_F000,
                size: 0x1000,
            }),
            ..ok
        };
        build(&mut zp, &plan, &h).unwrap();
        let h = Handoff {
            initrd: Some(PhysRange {
                base: 0x7FFF_F000,
                size: 0x1001,
            }),
            ..ok
        };
        assert_eq!(
            build(&mut zp, &plan, &h),
            Err(Error::BootAddress {
                what: BootItem::Initrd,
                address: 0x7FFF_F000,
                problem: AddressProblem::AboveInitrdAddrMax
            })
        );
        assert_eq!(
            build(&mut zp, &plan, &h).unwrap_err().to_string(),
            "boot handoff: the initrd at 0x7ffff000 ends above the kernel's initrd_addr_max"
        );
        let h = Handoff {
            initrd: Some(PhysRange {
                base: 0x13F_FFFF,
                size: 1,
            }),
            ..ok
        };
        assert_eq!(
            build(&mut zp, &plan, &h),
            Err(Error::BootAddress {
                what: BootItem::Initrd,
                address: 0x13F_FFFF,
                problem: AddressProblem::OverlapsKernelWindow
            })
        );
        let h = Handoff {
            initrd: Some(PhysRange {
                base: u64::MAX,
                size: 2,
            }),
            ..ok
        };
        assert_eq!(
            build(&mut zp, &plan, &h),
            Err(Error::BootAddress {
                what: BootItem::Initrd,
                address: u64::MAX,
                problem: AddressProblem::Wraps
            })
        );
        let h = Handoff {
            cmdline: Some(PhysRange {
                base: 0xFFFF_FFFF,
                size: 2,
            }),
            ..ok
        };
        assert_eq!(
            build(&mut zp, &plan, &h),
            Err(Error::BootAddress {
                what: BootItem::Cmdline,
                address: 0xFFFF_FFFF,
                problem: AddressProblem::AboveFourGib
            })
        );
        let h = Handoff {
            cmdline: Some(PhysRange {
                base: 0x100_0100,
                size: 2,
            }),
            ..ok
        };
        assert_eq!(
            build(&mut zp, &plan, &h),
            Err(Error::BootAddress {
                what: BootItem::Cmdline,
                address: 0x100_0100,
                problem: AddressProblem::OverlapsKernelWindow
            })
        );
    }
}
