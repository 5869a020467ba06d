//! The x86 bzImage setup header and the 64-bit boot plan (Linux boot protocol,
//! `Documentation/arch/x86/boot.rst`).
//!
//! [`BzImage::parse`] validates a verified, uncompressed bzImage at least as
//! thoroughly as Limine's `linux_x86.c`, plus the checks a 64-bit-entry loader
//! needs. Every failure is an [`Error::BzImage`] whose `field` names the check:
//!
//! | `field` | requirement |
//! |---|---|
//! | (file shorter than 0x26C) | [`Error::Truncated`] with [`Structure::BzImage`] |
//! | `boot_flag` | 0xAA55 at 0x1FE |
//! | `header` | `"HdrS"` (0x53726448) at 0x202 |
//! | `version` | at least 0x020C (2.12: 64-bit entry, `init_size`, `pref_address`) |
//! | `header_end` | `0x202 + byte[0x201]` at most 0x290 (the zero page's setup-header area) |
//! | `header_short` | `0x202 + byte[0x201]` at least 0x264 (covers `init_size`) |
//! | `setup_sects` | `(setup_sects + 1) * 512` (0 means 4) leaves a non-empty protected-mode part |
//! | `loadflags` | LOADED_HIGH (bit 0) set |
//! | `xloadflags` | XLF_KERNEL_64 (bit 0) set |
//! | `kernel_alignment` | a power of two, at least 4096 |
//! | `min_alignment` | `1 << min_alignment` at most `kernel_alignment` (relocatable kernels) |
//! | `relocatable_kernel` | 0 or 1 |
//! | `cmdline_size` | non-zero |
//! | `init_size` | at least the protected-mode size |
//! | `pref_address` | at least 1 MiB |
//! | `pref_address_align` | a multiple of `kernel_alignment` (relocatable kernels) |
//! | `pref_address_end` | `pref_address + init_size` inside the address space the kernel accepts (4 GiB without XLF_CAN_BE_LOADED_ABOVE_4G) |
//! | `payload` | `payload_offset + payload_length` inside the protected-mode part |
//! | `setup_data` | 0 (the header is copied verbatim; a stale pointer would be followed) |
//!
//! [`BootPlan::new`] then places the protected-mode part: at `pref_address`
//! for a non-relocatable kernel, and for a relocatable one at the **lowest**
//! `kernel_alignment`-aligned address at or above `pref_address` whose
//! `init_size` window lies in usable RAM and avoids every caller-occupied
//! range. Lowest, not highest, because the decompressor (`head_64.S`) moves
//! itself up to `LOAD_PHYSICAL_ADDR` (= `pref_address`) whenever it is loaded
//! below it, so any address under `pref_address` leaves the real window
//! unreserved; starting at `pref_address` and stepping up is what Limine does,
//! keeps the kernel where it would run anyway, and stays clear of the top of
//! RAM where QEMU and firmware put initrds and other blobs.
//! The RVF kernel header's `entry_point` is never used: the 64-bit entry is
//! always the load address + 0x200.

use crate::bytes::{range, u64_from, view};
use crate::error::{Error, Result, Structure};
use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, KnownLayout, Unaligned};

/// File offset of the setup header (and of `setup_sects`).
pub const SETUP_HEADER_OFFSET: u64 = 0x1F1;
/// The zero page reserves the setup header area up to here (`edd_mbr_sig_buffer`).
pub const SETUP_HEADER_AREA_END: u64 = 0x290;
/// The header must reach at least here (through `init_size`, 0x260..0x264).
pub const SETUP_HEADER_MIN_END: u64 = 0x264;
/// `boot_flag` value.
pub const BOOT_FLAG: u16 = 0xAA55;
/// `"HdrS"` as a little-endian u32.
pub const HDRS_MAGIC: u32 = 0x5372_6448;
/// The lowest protocol with a 64-bit entry point (2.12; `XLF_KERNEL_64`).
pub const MIN_PROTOCOL: u16 = 0x020C;
/// Offset of the 64-bit entry point from the load address.
pub const ENTRY_64_OFFSET: u64 = 0x200;
/// Size of a sector in `setup_sects`.
pub const SECTOR_SIZE: u64 = 512;
/// The lowest address a LOADED_HIGH kernel may be loaded at.
pub const MIN_LOAD_ADDRESS: u64 = 0x10_0000;
/// 4 GiB: the limit for kernels without `XLF_CAN_BE_LOADED_ABOVE_4G`.
pub const FOUR_GIB: u64 = 0x1_0000_0000;

/// `loadflags` bits (0x211).
pub mod loadflags {
    /// Bit 0 (read): the protected-mode code is loaded at 0x100000 (bzImage).
    pub const LOADED_HIGH: u8 = 1 << 0;
    /// Bit 5 (write): suppress early messages.
    pub const QUIET_FLAG: u8 = 1 << 5;
    /// Bit 6 (obsolete): KEEP_SEGMENTS.
    pub const KEEP_SEGMENTS: u8 = 1 << 6;
    /// Bit 7 (write): `heap_end_ptr` is valid (real-mode setup code only).
    pub const CAN_USE_HEAP: u8 = 1 << 7;
}

/// `xloadflags` bits (0x236).
pub mod xloadflags {
    /// The kernel has the legacy 64-bit entry point at 0x200.
    pub const KERNEL_64: u16 = 1 << 0;
    /// Kernel, boot_params, cmdline and ramdisk may lie above 4 GiB.
    pub const CAN_BE_LOADED_ABOVE_4G: u16 = 1 << 1;
    /// 32-bit EFI handover entry.
    pub const EFI_HANDOVER_32: u16 = 1 << 2;
    /// 64-bit EFI handover entry.
    pub const EFI_HANDOVER_64: u16 = 1 << 3;
    /// EFI kexec support.
    pub const EFI_KEXEC: u16 = 1 << 4;
}

/// The real-mode kernel header as it lies in the image from 0x1F1 (boot.rst,
/// "The Real-Mode Kernel Header"), through protocol 2.15. Offsets are file
/// offsets, which are also zero-page offsets.
#[derive(FromBytes, KnownLayout, Immutable, Unaligned, Debug)]
#[repr(C)]
pub struct SetupHeader {
    /// 0x1F1: size of the setup code in 512-byte sectors (0 means 4).
    pub setup_sects: u8,
    /// 0x1F2: root filesystem read-only (deprecated).
    pub root_flags: U16,
    /// 0x1F4: protected-mode size in 16-byte paragraphs.
    pub syssize: U32,
    /// 0x1F8: obsolete.
    pub ram_size: U16,
    /// 0x1FA: video mode control.
    pub vid_mode: U16,
    /// 0x1FC: default root device (deprecated).
    pub root_dev: U16,
    /// 0x1FE: 0xAA55.
    pub boot_flag: U16,
    /// 0x200: short jump; its second byte (0x201) gives the header end.
    pub jump: U16,
    /// 0x202: magic `"HdrS"`.
    pub header: U32,
    /// 0x206: boot protocol version (major << 8 | minor).
    pub version: U16,
    /// 0x208: boot loader hook.
    pub realmode_swtch: U32,
    /// 0x20C: obsolete load-low segment.
    pub start_sys_seg: U16,
    /// 0x20E: pointer to the kernel version string (minus 0x200).
    pub kernel_version: U16,
    /// 0x210: boot loader identifier (written: 0xFF = unassigned).
    pub type_of_loader: u8,
    /// 0x211: boot protocol option flags ([`loadflags`]).
    pub loadflags: u8,
    /// 0x212: move-to-high-memory size (protocol 2.00/2.01 only).
    pub setup_move_size: U16,
    /// 0x214: 32-bit entry / hook.
    pub code32_start: U32,
    /// 0x218: initrd load address, low 32 bits.
    pub ramdisk_image: U32,
    /// 0x21C: initrd size, low 32 bits.
    pub ramdisk_size: U32,
    /// 0x220: obsolete.
    pub bootsect_kludge: U32,
    /// 0x224: end of the real-mode setup heap.
    pub heap_end_ptr: U16,
    /// 0x226: extended boot loader version.
    pub ext_loader_ver: u8,
    /// 0x227: extended boot loader ID.
    pub ext_loader_type: u8,
    /// 0x228: kernel command line address, low 32 bits.
    pub cmd_line_ptr: U32,
    /// 0x22C: highest address the initrd may occupy.
    pub initrd_addr_max: U32,
    /// 0x230: physical alignment required for a relocatable kernel.
    pub kernel_alignment: U32,
    /// 0x234: whether the protected-mode part is relocatable.
    pub relocatable_kernel: u8,
    /// 0x235: minimum alignment, as a power of two.
    pub min_alignment: u8,
    /// 0x236: boot protocol option flags ([`xloadflags`]).
    pub xloadflags: U16,
    /// 0x238: maximum command line size, without the terminating NUL.
    pub cmdline_size: U32,
    /// 0x23C: hardware subarchitecture.
    pub hardware_subarch: U32,
    /// 0x240: subarchitecture-specific data.
    pub hardware_subarch_data: U64,
    /// 0x248: offset of the kernel payload from the protected-mode start.
    pub payload_offset: U32,
    /// 0x24C: length of the kernel payload.
    pub payload_length: U32,
    /// 0x250: physical address of a `setup_data` list.
    pub setup_data: U64,
    /// 0x258: preferred load address (`LOAD_PHYSICAL_ADDR`).
    pub pref_address: U64,
    /// 0x260: linear memory the kernel needs from its load address.
    pub init_size: U32,
    /// 0x264: EFI handover entry offset.
    pub handover_offset: U32,
    /// 0x268: offset of `kernel_info` (protocol 2.15).
    pub kernel_info_offset: U32,
}

// Compile-time size check: the header spans 0x1F1..0x26C.
const _: [(); 0x26C - 0x1F1] = [(); core::mem::size_of::<SetupHeader>()];

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
}

fn bz(field: &'static str, value: u64, requirement: &'static str) -> Error {
    Error::BzImage {
        field,
        value,
        requirement,
    }
}

/// A bzImage whose setup header passed every check in the module table.
#[derive(Clone, Copy, Debug)]
pub struct BzImage<'a> {
    image: &'a [u8],
    header: &'a SetupHeader,
    header_end: u64,
    setup_size: u64,
    protected_mode: &'a [u8],
}

impl<'a> BzImage<'a> {
    /// Validate `image` (the whole verified, uncompressed bzImage).
    pub fn parse(image: &'a [u8]) -> Result<Self> {
        let header: &SetupHeader = view(image, 0, SETUP_HEADER_OFFSET, Structure::BzImage)?;
        let len = u64_from(image.len());

        let boot_flag = header.boot_flag.get();
        if boot_flag != BOOT_FLAG {
            return Err(bz("boot_flag", boot_flag.into(), "0xaa55"));
        }
        let magic = header.header.get();
        if magic != HDRS_MAGIC {
            return Err(bz("header", magic.into(), "0x53726448 (\"HdrS\")"));
        }
        let version = header.version.get();
        if version < MIN_PROTOCOL {
            return Err(bz(
                "version",
                version.into(),
                "at least 0x20c (boot protocol 2.12, the 64-bit entry)",
            ));
        }
        // The jump at 0x200 is `EB xx`; the header ends at 0x202 + xx.
        let header_end = 0x202_u64.saturating_add(u64::from(header.jump.get() >> 8));
        if header_end > SETUP_HEADER_AREA_END {
            return Err(bz(
                "header_end",
                header_end,
                "at most 0x290 (the zero page's setup-header area)",
            ));
        }
        if header_end < SETUP_HEADER_MIN_END {
            return Err(bz(
                "header_short",
                header_end,
                "at least 0x264 (a header that includes init_size)",
            ));
        }
        let sects = match header.setup_sects {
            0 => 4,
            n => u64::from(n),
        };
        // sects <= 255, so this cannot overflow; checked anyway.
        let setup_size = sects
            .checked_add(1)
            .and_then(|s| s.checked_mul(SECTOR_SIZE))
            .unwrap_or(u64::MAX);
        if setup_size >= len {
            return Err(bz(
                "setup_sects",
                header.setup_sects.into(),
                "small enough that a non-empty protected-mode part follows the setup code",
            ));
        }
        let protected_mode = range(image, setup_size, len.saturating_sub(setup_size)).ok_or(bz(
            "setup_sects",
            header.setup_sects.into(),
            "inside the file",
        ))?;
        let pm_size = u64_from(protected_mode.len());

        let lf = header.loadflags;
        if lf & loadflags::LOADED_HIGH == 0 {
            return Err(bz("loadflags", lf.into(), "with LOADED_HIGH (bit 0) set"));
        }
        let xlf = header.xloadflags.get();
        if xlf & xloadflags::KERNEL_64 == 0 {
            return Err(bz(
                "xloadflags",
                xlf.into(),
                "with XLF_KERNEL_64 (bit 0, the 64-bit entry) set",
            ));
        }
        let align = header.kernel_alignment.get();
        if !align.is_power_of_two() || align < 4096 {
            return Err(bz(
                "kernel_alignment",
                align.into(),
                "a power of two, at least 4096",
            ));
        }
        let reloc = header.relocatable_kernel;
        if reloc > 1 {
            return Err(bz("relocatable_kernel", reloc.into(), "0 or 1"));
        }
        let min_align = header.min_alignment;
        if reloc == 1 && u32::from(min_align) > align.trailing_zeros() {
            return Err(bz(
                "min_alignment",
                min_align.into(),
                "at most log2(kernel_alignment)",
            ));
        }
        let cmdline_size = header.cmdline_size.get();
        if cmdline_size == 0 {
            return Err(bz(
                "cmdline_size",
                0,
                "non-zero (COMMAND_LINE_SIZE - 1 of the kernel)",
            ));
        }
        let init_size = u64::from(header.init_size.get());
        if init_size < pm_size {
            return Err(bz(
                "init_size",
                init_size,
                "at least the size of the protected-mode part",
            ));
        }
        let pref = header.pref_address.get();
        if pref < MIN_LOAD_ADDRESS {
            return Err(bz("pref_address", pref, "at least 0x100000 (1 MiB)"));
        }
        if reloc == 1 && pref.checked_rem(u64::from(align)) != Some(0) {
            return Err(bz(
                "pref_address_align",
                pref,
                "a multiple of kernel_alignment",
            ));
        }
        let limit = if xlf & xloadflags::CAN_BE_LOADED_ABOVE_4G != 0 {
            u64::MAX
        } else {
            FOUR_GIB
        };
        match pref.checked_add(init_size) {
            Some(end) if end <= limit => {}
            _ => {
                return Err(bz(
                    "pref_address_end",
                    pref,
                    "such that pref_address + init_size ends below 4 GiB (or the kernel sets XLF_CAN_BE_LOADED_ABOVE_4G)",
                ));
            }
        }
        let payload_end = u64::from(header.payload_offset.get())
            .saturating_add(u64::from(header.payload_length.get()));
        if payload_end > pm_size {
            return Err(bz(
                "payload",
                payload_end,
                "payload_offset + payload_length inside the protected-mode part",
            ));
        }
        let setup_data = header.setup_data.get();
        if setup_data != 0 {
            return Err(bz(
                "setup_data",
                setup_data,
                "0 in the image (the loader owns the setup_data list)",
            ));
        }
        Ok(Self {
            image,
            header,
            header_end,
            setup_size,
            protected_mode,
        })
    }

    /// The whole image.
    #[must_use]
    pub const fn image(&self) -> &'a [u8] {
        self.image
    }

    /// The setup header (fields beyond [`Self::header_end`] hold setup code).
    #[must_use]
    pub const fn header(&self) -> &'a SetupHeader {
        self.header
    }

    /// The boot protocol version (e.g. 0x020F for 2.15).
    #[must_use]
    pub fn version(&self) -> u16 {
        self.header.version.get()
    }

    /// Where the setup header ends: `0x202 + byte[0x201]`.
    #[must_use]
    pub const fn header_end(&self) -> u64 {
        self.header_end
    }

    /// The setup header bytes `image[0x1F1 .. header_end]`, to copy into the
    /// zero page at the same offsets.
    #[must_use]
    pub fn setup_header_bytes(&self) -> &'a [u8] {
        let len = self.header_end.saturating_sub(SETUP_HEADER_OFFSET);
        range(self.image, SETUP_HEADER_OFFSET, len).unwrap_or(&[])
    }

    /// Size of the real-mode part: `(setup_sects + 1) * 512`, `setup_sects` 0 meaning 4.
    #[must_use]
    pub const fn setup_size(&self) -> u64 {
        self.setup_size
    }

    /// The protected-mode part (from `setup_size` to the end of the file), the
    /// bytes to copy to the load address.
    #[must_use]
    pub const fn protected_mode(&self) -> &'a [u8] {
        self.protected_mode
    }

    /// Whether the protected-mode part may be loaded elsewhere than `pref_address`.
    #[must_use]
    pub const fn relocatable(&self) -> bool {
        self.header.relocatable_kernel == 1
    }

    /// `pref_address`.
    #[must_use]
    pub fn pref_address(&self) -> u64 {
        self.header.pref_address.get()
    }

    /// `init_size`: the window to reserve from the load address.
    #[must_use]
    pub fn init_size(&self) -> u64 {
        self.header.init_size.get().into()
    }

    /// `kernel_alignment` (a power of two, at least 4096).
    #[must_use]
    pub fn kernel_alignment(&self) -> u64 {
        self.header.kernel_alignment.get().into()
    }

    /// `cmdline_size`: the longest command line, without its NUL.
    #[must_use]
    pub fn cmdline_size(&self) -> u64 {
        self.header.cmdline_size.get().into()
    }

    /// `initrd_addr_max`: the highest address the initrd may occupy, or
    /// `u64::MAX` when the kernel sets `XLF_CAN_BE_LOADED_ABOVE_4G`.
    #[must_use]
    pub fn initrd_addr_max(&self) -> u64 {
        if self.above_4g() {
            u64::MAX
        } else {
            self.header.initrd_addr_max.get().into()
        }
    }

    /// `xloadflags`.
    #[must_use]
    pub fn xloadflags(&self) -> u16 {
        self.header.xloadflags.get()
    }

    /// Whether kernel, zero page, cmdline and initrd may lie above 4 GiB.
    #[must_use]
    pub fn above_4g(&self) -> bool {
        self.xloadflags() & xloadflags::CAN_BE_LOADED_ABOVE_4G != 0
    }

    /// One past the highest address the kernel window may reach.
    #[must_use]
    pub fn address_limit(&self) -> u64 {
        if self.above_4g() { u64::MAX } else { FOUR_GIB }
    }
}

/// Where and how to start the kernel: the result of placing a [`BzImage`] in
/// the caller's memory map.
#[derive(Clone, Copy, Debug)]
pub struct BootPlan<'a> {
    image: BzImage<'a>,
    load_address: u64,
}

impl<'a> BootPlan<'a> {
    /// Place `image` in `memory` (the firmware's memory map), avoiding every
    /// range in `occupied` (the RVF file, the initrd, the stub, the zero page,
    /// ...). Non-RAM entries of `memory` are avoided too, even when a RAM
    /// entry overlaps them.
    ///
    /// A non-relocatable kernel goes at `pref_address` or nowhere; a
    /// relocatable one at the lowest `kernel_alignment`-aligned address at or
    /// above `pref_address` that fits (see the module documentation).
    /// Returns [`Error::NoRoom`] (`what` = `"kernel"`) when nothing fits.
    pub fn new(
        image: &BzImage<'a>,
        memory: &[MemoryRegion],
        occupied: &[PhysRange],
    ) -> Result<Self> {
        let size = image.init_size();
        let align = image.kernel_alignment();
        let pref = image.pref_address();
        let limit = image.address_limit();
        let fits = |base: u64| window_fits(base, size, limit, memory, occupied);
        let no_room = Error::NoRoom {
            what: "kernel",
            size,
            align,
        };
        let load_address = if image.relocatable() {
            // The lowest fit starts at a region's start or right after a
            // blocker's end (rounded up), never below pref_address.
            let region_starts = memory
                .iter()
                .filter(|r| r.kind == E820Type::Ram)
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
        self.image.protected_mode
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

/// `v` rounded up to `align` (a power of two), or `None` on overflow.
fn align_up(v: u64, align: u64) -> Option<u64> {
    let mask = align.checked_sub(1)?;
    Some(v.checked_add(mask)? & !mask)
}

/// Whether `[base, base + size)` ends at or below `limit`, is covered by RAM
/// entries of `memory` and overlaps no non-RAM entry and no `occupied` range.
fn window_fits(
    base: u64,
    size: u64,
    limit: u64,
    memory: &[MemoryRegion],
    occupied: &[PhysRange],
) -> bool {
    let Some(end) = base.checked_add(size) else {
        return false;
    };
    if end > limit {
        return false;
    }
    let window = PhysRange { base, size };
    let blocked = blockers(memory, occupied).any(|r| r.overlaps(&window));
    if blocked {
        return false;
    }
    // Covered by the union of RAM entries: advance through entries that
    // contain `pos`. Each step strictly advances, so at most `memory.len()` steps.
    let mut pos = base;
    for _ in 0..=memory.len() {
        if pos >= end {
            return true;
        }
        let next = memory
            .iter()
            .filter(|r| r.kind == E820Type::Ram && r.base <= pos)
            .map(|r| r.base.saturating_add(r.size))
            .filter(|&e| e > pos)
            .max();
        match next {
            Some(e) => pos = e,
            None => return false,
        }
    }
    pos >= end
}

/// Everything a kernel window must not overlap: the memory map's non-RAM
/// entries and the caller's occupied ranges.
fn blockers<'m>(
    memory: &'m [MemoryRegion],
    occupied: &'m [PhysRange],
) -> impl Iterator<Item = PhysRange> + 'm {
    memory
        .iter()
        .filter(|r| r.kind != E820Type::Ram)
        .map(|r| PhysRange {
            base: r.base,
            size: r.size,
        })
        .chain(occupied.iter().copied())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A minimal valid image: setup_sects 1, protocol 2.15, header through
    /// 0x26C, `pm_size` bytes of protected-mode code.
    pub(crate) fn image(relocatable: bool, pm_size: usize) -> std::vec::Vec<u8> {
        let mut v = std::vec![0u8; 1024 + pm_size];
        v[0x1F1] = 1; // setup_sects
        v[0x1FE..0x200].copy_from_slice(&0xAA55u16.to_le_bytes());
        v[0x200] = 0xEB;
        v[0x201] = 0x6A; // header end 0x26C
        v[0x202..0x206].copy_from_slice(b"HdrS");
        v[0x206..0x208].copy_from_slice(&0x020Fu16.to_le_bytes());
        v[0x211] = 0x01; // LOADED_HIGH
        v[0x22C..0x230].copy_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
        v[0x230..0x234].copy_from_slice(&0x20_0000u32.to_le_bytes());
        v[0x234] = u8::from(relocatable);
        v[0x235] = 21;
        v[0x236..0x238].copy_from_slice(&0x0003u16.to_le_bytes());
        v[0x238..0x23C].copy_from_slice(&2047u32.to_le_bytes());
        v[0x258..0x260].copy_from_slice(&0x100_0000u64.to_le_bytes());
        v[0x260..0x264].copy_from_slice(&0x40_0000u32.to_le_bytes());
        for (i, b) in v[1024..].iter_mut().enumerate() {
            *b = i as u8;
        }
        v
    }

    fn field_err(v: &[u8]) -> &'static str {
        match BzImage::parse(v) {
            Err(Error::BzImage { field, .. }) => field,
            other => panic!("expected BzImage error, got {other:?}"),
        }
    }

    fn ram(base: u64, size: u64) -> MemoryRegion {
        MemoryRegion {
            base,
            size,
            kind: E820Type::Ram,
        }
    }

    const MIB: u64 = 0x10_0000;

    #[test]
    fn valid_image_accessors() {
        let v = image(true, 0x1000);
        let b = BzImage::parse(&v).unwrap();
        assert_eq!(b.version(), 0x020F);
        assert_eq!(b.header_end(), 0x26C);
        assert_eq!(b.setup_size(), 1024);
        assert_eq!(b.protected_mode().len(), 0x1000);
        assert_eq!(b.protected_mode()[0..3], [0, 1, 2]);
        assert_eq!(b.setup_header_bytes().len(), 0x26C - 0x1F1);
        assert_eq!(b.setup_header_bytes()[0], 1);
        assert!(b.relocatable());
        assert_eq!(b.pref_address(), 0x100_0000);
        assert_eq!(b.init_size(), 0x40_0000);
        assert_eq!(b.kernel_alignment(), 0x20_0000);
        assert_eq!(b.cmdline_size(), 2047);
        assert!(b.above_4g());
        assert_eq!(b.initrd_addr_max(), u64::MAX);
        assert_eq!(b.address_limit(), u64::MAX);
        assert_eq!(b.header().init_size.get(), 0x40_0000);
    }

    #[test]
    fn setup_sects_zero_means_four() {
        let mut v = image(true, 0x1000);
        v[0x1F1] = 0;
        let b = BzImage::parse(&v).unwrap();
        assert_eq!(b.setup_size(), 5 * 512);
        assert_eq!(b.protected_mode().len(), 1024 + 0x1000 - 5 * 512);
        v.truncate(5 * 512);
        assert_eq!(field_err(&v), "setup_sects");
    }

    #[test]
    fn short_file_is_truncated() {
        let v = image(true, 0x1000);
        assert_eq!(
            BzImage::parse(&v[..0x26B]).unwrap_err(),
            Error::Truncated {
                structure: Structure::BzImage,
                offset: 0x1F1,
                needed: 0x7B,
                available: 0x7A
            }
        );
    }

    type Mutate = dyn Fn(&mut std::vec::Vec<u8>);

    #[test]
    fn every_header_check_has_its_own_field() {
        let base = image(true, 0x1000);
        let cases: &[(&str, &Mutate)] = &[
            ("boot_flag", &|v| v[0x1FE] = 0),
            ("header", &|v| v[0x202] = b'X'),
            ("version", &|v| {
                v[0x206..0x208].copy_from_slice(&0x020Bu16.to_le_bytes())
            }),
            ("header_end", &|v| v[0x201] = 0x8F),
            ("header_short", &|v| v[0x201] = 0x61),
            ("setup_sects", &|v| v.truncate(1024)),
            ("loadflags", &|v| v[0x211] = 0x80),
            ("xloadflags", &|v| v[0x236] = 0x02),
            ("kernel_alignment", &|v| {
                v[0x230..0x234].copy_from_slice(&0x30_0000u32.to_le_bytes())
            }),
            ("kernel_alignment", &|v| {
                v[0x230..0x234].copy_from_slice(&0x800u32.to_le_bytes())
            }),
            ("relocatable_kernel", &|v| v[0x234] = 2),
            ("min_alignment", &|v| v[0x235] = 22),
            ("cmdline_size", &|v| {
                v[0x238..0x23C].copy_from_slice(&[0; 4])
            }),
            ("init_size", &|v| {
                v[0x260..0x264].copy_from_slice(&0xFFFu32.to_le_bytes())
            }),
            ("pref_address", &|v| {
                v[0x258..0x260].copy_from_slice(&0xF_F000u64.to_le_bytes())
            }),
            ("pref_address_align", &|v| {
                v[0x258..0x260].copy_from_slice(&0x110_0000u64.to_le_bytes())
            }),
            ("pref_address_end", &|v| {
                v[0x236] = 0x01;
                v[0x258..0x260].copy_from_slice(&0xFFE0_0000u64.to_le_bytes());
            }),
            ("pref_address_end", &|v| {
                v[0x258..0x260].copy_from_slice(&0xFFFF_FFFF_FFE0_0000u64.to_le_bytes());
            }),
            ("payload", &|v| {
                v[0x248..0x24C].copy_from_slice(&0x800u32.to_le_bytes());
                v[0x24C..0x250].copy_from_slice(&0x801u32.to_le_bytes());
            }),
            ("setup_data", &|v| v[0x250] = 1),
        ];
        for (field, mutate) in cases {
            let mut v = base.clone();
            mutate(&mut v);
            assert_eq!(field_err(&v), *field, "case {field}");
        }
        // Exact values and requirement text for a few.
        let mut v = base.clone();
        v[0x201] = 0x8F;
        assert_eq!(
            BzImage::parse(&v).unwrap_err(),
            Error::BzImage {
                field: "header_end",
                value: 0x291,
                requirement: "at most 0x290 (the zero page's setup-header area)"
            }
        );
        let mut v = base.clone();
        v[0x1FE] = 0x55;
        v[0x1FF] = 0xAB;
        assert_eq!(
            BzImage::parse(&v).unwrap_err(),
            Error::BzImage {
                field: "boot_flag",
                value: 0xAB55,
                requirement: "0xaa55"
            }
        );
        // min_alignment is only a constraint for relocatable kernels.
        let mut v = image(false, 0x1000);
        v[0x235] = 22;
        assert!(BzImage::parse(&v).is_ok());
        // A header ending exactly at 0x290 and one ending at 0x264 are fine.
        let mut v = base.clone();
        v[0x201] = 0x8E;
        assert_eq!(BzImage::parse(&v).unwrap().header_end(), 0x290);
        v[0x201] = 0x62;
        assert_eq!(
            BzImage::parse(&v).unwrap().setup_header_bytes().len(),
            0x264 - 0x1F1
        );
        // init_size equal to the protected-mode size is fine.
        let mut v = base;
        v[0x260..0x264].copy_from_slice(&0x1000u32.to_le_bytes());
        assert!(BzImage::parse(&v).is_ok());
    }

    #[test]
    fn phys_range_overlap() {
        let a = PhysRange { base: 10, size: 10 };
        assert!(a.overlaps(&PhysRange { base: 19, size: 1 }));
        assert!(!a.overlaps(&PhysRange { base: 20, size: 5 }));
        assert!(!a.overlaps(&PhysRange { base: 0, size: 10 }));
        assert!(a.overlaps(&PhysRange { base: 0, size: 11 }));
        assert!(!a.overlaps(&PhysRange { base: 12, size: 0 }));
        assert!(a.overlaps(&PhysRange {
            base: 5,
            size: u64::MAX
        }));
        assert_eq!(
            PhysRange {
                base: 1,
                size: u64::MAX
            }
            .end(),
            None
        );
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
    fn plan_relocatable_lowest_fit_at_or_above_pref() {
        let v = image(true, 0x1000);
        let b = BzImage::parse(&v).unwrap();
        // SeaBIOS-like map, 256 MiB.
        let mem = [
            ram(0, 0x9_FC00),
            MemoryRegion {
                base: 0x9_FC00,
                size: 0x400,
                kind: E820Type::Reserved,
            },
            MemoryRegion {
                base: 0xF_0000,
                size: 0x1_0000,
                kind: E820Type::Reserved,
            },
            ram(MIB, 255 * MIB - 0x2_0000),
            MemoryRegion {
                base: 0xFFFC_0000,
                size: 0x4_0000,
                kind: E820Type::Reserved,
            },
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
            Error::NoRoom {
                what: "kernel",
                size: 0x40_0000,
                align: 0x20_0000
            }
        );
        // Too little RAM.
        let small = [ram(16 * MIB, 3 * MIB)];
        assert!(matches!(
            BootPlan::new(&b, &small, &[]),
            Err(Error::NoRoom { .. })
        ));
        // A region starting unaligned above pref.
        let odd = [ram(0x123_4567, 16 * MIB)];
        assert_eq!(
            BootPlan::new(&b, &odd, &[]).unwrap().load_address(),
            20 * MIB
        );
    }

    #[test]
    fn plan_relocatable_respects_4g_without_xlf() {
        let mut v = image(true, 0x1000);
        v[0x236] = 0x01; // KERNEL_64 only
        let b = BzImage::parse(&v).unwrap();
        // 1 MiB below 4 GiB (too small), then RAM above 4 GiB.
        let mem = [ram(0xFFE0_0000, 0x10_0000), ram(0x1_0000_0000, 0x1000_0000)];
        assert!(matches!(
            BootPlan::new(&b, &mem, &[]),
            Err(Error::NoRoom { .. })
        ));
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
            Error::NoRoom {
                what: "kernel",
                size: 0x40_0000,
                align: 0x20_0000
            }
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
        assert!(BootPlan::new(&b, &[], &[]).is_err());
    }
}
