//! The x86 bzImage setup header (Linux boot protocol,
//! `Documentation/arch/x86/boot.rst`).
//!
//! [`BzImage::parse`] validates a verified, uncompressed bzImage at least as
//! thoroughly as Limine's `linux_x86.c`, plus the checks a 64-bit-entry loader
//! needs. Every failure is an [`Error::BzImage`] whose [`BzCheck`] names the
//! check (`field` is [`BzCheck::field`], the requirement [`BzCheck::requirement`]):
//!
//! | [`BzCheck`] | `field` | requirement |
//! |---|---|---|
//! | (file shorter than 0x26C) | | [`Error::Truncated`] with [`Structure::BzImage`] |
//! | `BootFlag` | `boot_flag` | 0xAA55 at 0x1FE |
//! | `Header` | `header` | `"HdrS"` (0x53726448) at 0x202 |
//! | `Version` | `version` | at least 0x020C (2.12: 64-bit entry, `init_size`, `pref_address`) |
//! | `HeaderEnd` | `header_end` | `0x202 + byte[0x201]` at most 0x290 (the zero page's setup-header area) |
//! | `HeaderShort` | `header_short` | `0x202 + byte[0x201]` at least 0x264 (covers `init_size`) |
//! | `SetupSects` | `setup_sects` | `(setup_sects + 1) * 512` (0 means 4) leaves a non-empty protected-mode part |
//! | `LoadFlags` | `loadflags` | LOADED_HIGH (bit 0) set |
//! | `XLoadFlags` | `xloadflags` | XLF_KERNEL_64 (bit 0) set |
//! | `KernelAlignment` | `kernel_alignment` | a power of two, at least 4096 |
//! | `MinAlignment` | `min_alignment` | `1 << min_alignment` at most `kernel_alignment` (relocatable kernels) |
//! | `RelocatableKernel` | `relocatable_kernel` | 0 or 1 |
//! | `CmdlineSize` | `cmdline_size` | non-zero |
//! | `InitSize` | `init_size` | at least the protected-mode size |
//! | `PrefAddress` | `pref_address` | at least 1 MiB |
//! | `PrefAddressAlign` | `pref_address_align` | a multiple of `kernel_alignment` (relocatable kernels) |
//! | `PrefAddressEnd` | `pref_address_end` | `pref_address + init_size` inside the address space the kernel accepts (4 GiB without XLF_CAN_BE_LOADED_ABOVE_4G) |
//! | `Payload` | `payload` | `payload_offset + payload_length` inside the protected-mode part |
//! | `SetupData` | `setup_data` | 0 (the header is copied verbatim; a stale pointer would be followed) |
//!
//! Placing the validated image is [`crate::plan::BootPlan`]'s job; the zero
//! page is [`crate::zero_page`]'s.

use crate::bytes::{range, u64_from, view};
use crate::error::{Error, Result, Structure};
use crate::memory::{FOUR_GIB, MIN_LOAD_ADDRESS};
use core::fmt;
use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, KnownLayout, Unaligned};

/// File offset of the setup header (and of `setup_sects`).
pub(crate) const SETUP_HEADER_OFFSET: u64 = 0x1F1;
/// The zero page reserves the setup header area up to here (`edd_mbr_sig_buffer`).
pub(crate) const SETUP_HEADER_AREA_END: u64 = 0x290;
/// The header must reach at least here (through `init_size`, 0x260..0x264).
pub(crate) const SETUP_HEADER_MIN_END: u64 = 0x264;
/// `boot_flag` value.
pub(crate) const BOOT_FLAG: u16 = 0xAA55;
/// `"HdrS"` as a little-endian u32.
pub(crate) const HDRS_MAGIC: u32 = 0x5372_6448;
/// The lowest protocol with a 64-bit entry point (2.12; `XLF_KERNEL_64`).
pub(crate) const MIN_PROTOCOL: u16 = 0x020C;
/// Offset of the 64-bit entry point from the load address.
pub(crate) const ENTRY_64_OFFSET: u64 = 0x200;
/// Size of a sector in `setup_sects`.
pub(crate) const SECTOR_SIZE: u64 = 512;

/// `loadflags` bits (0x211).
#[allow(dead_code)] // the protocol's whole table, not only what the crate reads
pub(crate) mod loadflags {
    /// Bit 0 (read): the protected-mode code is loaded at 0x100000 (bzImage).
    pub(crate) const LOADED_HIGH: u8 = 1 << 0;
    /// Bit 5 (write): suppress early messages.
    pub(crate) const QUIET_FLAG: u8 = 1 << 5;
    /// Bit 6 (obsolete): KEEP_SEGMENTS.
    pub(crate) const KEEP_SEGMENTS: u8 = 1 << 6;
    /// Bit 7 (write): `heap_end_ptr` is valid (real-mode setup code only).
    pub(crate) const CAN_USE_HEAP: u8 = 1 << 7;
}

/// `xloadflags` bits (0x236).
#[allow(dead_code)] // the protocol's whole table, not only what the crate reads
pub(crate) mod xloadflags {
    /// The kernel has the legacy 64-bit entry point at 0x200.
    pub(crate) const KERNEL_64: u16 = 1 << 0;
    /// Kernel, boot_params, cmdline and ramdisk may lie above 4 GiB.
    pub(crate) const CAN_BE_LOADED_ABOVE_4G: u16 = 1 << 1;
    /// 32-bit EFI handover entry.
    pub(crate) const EFI_HANDOVER_32: u16 = 1 << 2;
    /// 64-bit EFI handover entry.
    pub(crate) const EFI_HANDOVER_64: u16 = 1 << 3;
    /// EFI kexec support.
    pub(crate) const EFI_KEXEC: u16 = 1 << 4;
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
    /// 0x211: boot protocol option flags (`loadflags`).
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
    /// 0x236: boot protocol option flags (`xloadflags`).
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

impl SetupHeader {
    /// The header as it lies in `image` from 0x1F1, **unchecked**: for a
    /// loader that peeks at an image before it is verified (a placement
    /// hint, never a decision). `None` when `image` is shorter than 0x26C.
    /// [`BzImage::parse`] is the checked way in.
    #[must_use]
    pub fn peek(image: &[u8]) -> Option<&Self> {
        view(image, 0, SETUP_HEADER_OFFSET, Structure::BzImage).ok()
    }

    /// Size of the real-mode part: `(setup_sects + 1) * 512`, `setup_sects`
    /// 0 meaning 4 (at most 0x20000).
    #[must_use]
    pub fn setup_size(&self) -> u64 {
        let sects = match self.setup_sects {
            0 => 4,
            n => u64::from(n),
        };
        // sects <= 255, so this cannot overflow; saturate anyway.
        sects.saturating_add(1).saturating_mul(SECTOR_SIZE)
    }
}

// Compile-time size check: the header spans 0x1F1..0x26C.
const _: [(); 0x26C - 0x1F1] = [(); core::mem::size_of::<SetupHeader>()];

/// The bzImage checks of [`BzImage::parse`], one per row of the module table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BzCheck {
    /// `boot_flag` (0x1FE) is 0xAA55.
    BootFlag,
    /// `header` (0x202) is `"HdrS"`.
    Header,
    /// `version` (0x206) is at least 2.12.
    Version,
    /// The header ends at or below 0x290.
    HeaderEnd,
    /// The header reaches at least 0x264.
    HeaderShort,
    /// The setup code leaves a non-empty protected-mode part.
    SetupSects,
    /// `loadflags` has LOADED_HIGH.
    LoadFlags,
    /// `xloadflags` has XLF_KERNEL_64.
    XLoadFlags,
    /// `kernel_alignment` is a power of two, at least 4096.
    KernelAlignment,
    /// `min_alignment` at most log2(`kernel_alignment`).
    MinAlignment,
    /// `relocatable_kernel` is 0 or 1.
    RelocatableKernel,
    /// `cmdline_size` is non-zero.
    CmdlineSize,
    /// `init_size` covers the protected-mode part.
    InitSize,
    /// `pref_address` at least 1 MiB.
    PrefAddress,
    /// `pref_address` a multiple of `kernel_alignment`.
    PrefAddressAlign,
    /// `pref_address + init_size` inside the kernel's address space.
    PrefAddressEnd,
    /// The payload lies inside the protected-mode part.
    Payload,
    /// `setup_data` is 0.
    SetupData,
}

impl BzCheck {
    /// The field (or derived quantity) the check is about, as in the module table.
    #[must_use]
    pub const fn field(self) -> &'static str {
        match self {
            Self::BootFlag => "boot_flag",
            Self::Header => "header",
            Self::Version => "version",
            Self::HeaderEnd => "header_end",
            Self::HeaderShort => "header_short",
            Self::SetupSects => "setup_sects",
            Self::LoadFlags => "loadflags",
            Self::XLoadFlags => "xloadflags",
            Self::KernelAlignment => "kernel_alignment",
            Self::MinAlignment => "min_alignment",
            Self::RelocatableKernel => "relocatable_kernel",
            Self::CmdlineSize => "cmdline_size",
            Self::InitSize => "init_size",
            Self::PrefAddress => "pref_address",
            Self::PrefAddressAlign => "pref_address_align",
            Self::PrefAddressEnd => "pref_address_end",
            Self::Payload => "payload",
            Self::SetupData => "setup_data",
        }
    }

    /// What the check requires, as a phrase completing "must be ...".
    #[must_use]
    pub const fn requirement(self) -> &'static str {
        match self {
            Self::BootFlag => "0xaa55",
            Self::Header => "0x53726448 (\"HdrS\")",
            Self::Version => "at least 0x20c (boot protocol 2.12, the 64-bit entry)",
            Self::HeaderEnd => "at most 0x290 (the zero page's setup-header area)",
            Self::HeaderShort => "at least 0x264 (a header that includes init_size)",
            Self::SetupSects => {
                "small enough that a non-empty protected-mode part follows the setup code"
            }
            Self::LoadFlags => "with LOADED_HIGH (bit 0) set",
            Self::XLoadFlags => "with XLF_KERNEL_64 (bit 0, the 64-bit entry) set",
            Self::KernelAlignment => "a power of two, at least 4096",
            Self::MinAlignment => "at most log2(kernel_alignment)",
            Self::RelocatableKernel => "0 or 1",
            Self::CmdlineSize => "non-zero (COMMAND_LINE_SIZE - 1 of the kernel)",
            Self::InitSize => "at least the size of the protected-mode part",
            Self::PrefAddress => "at least 0x100000 (1 MiB)",
            Self::PrefAddressAlign => "a multiple of kernel_alignment",
            Self::PrefAddressEnd => {
                "such that pref_address + init_size ends below 4 GiB (or the kernel sets XLF_CAN_BE_LOADED_ABOVE_4G)"
            }
            Self::Payload => "payload_offset + payload_length inside the protected-mode part",
            Self::SetupData => "0 in the image (the loader owns the setup_data list)",
        }
    }
}

impl fmt::Display for BzCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.field())
    }
}

/// Every boot-protocol check of the module table on `header`, for an image
/// of `len` bytes; returns `(header_end, setup_size)`.
fn check(header: &SetupHeader, len: u64) -> Result<(u64, u64)> {
    let boot_flag = header.boot_flag.get();
    if boot_flag != BOOT_FLAG {
        return Err(bz(BzCheck::BootFlag, boot_flag.into()));
    }
    let magic = header.header.get();
    if magic != HDRS_MAGIC {
        return Err(bz(BzCheck::Header, magic.into()));
    }
    let version = header.version.get();
    if version < MIN_PROTOCOL {
        return Err(bz(BzCheck::Version, version.into()));
    }
    // The jump at 0x200 is `EB xx`; the header ends at 0x202 + xx.
    let header_end = 0x202_u64.saturating_add(u64::from(header.jump.get() >> 8));
    if header_end > SETUP_HEADER_AREA_END {
        return Err(bz(BzCheck::HeaderEnd, header_end));
    }
    if header_end < SETUP_HEADER_MIN_END {
        return Err(bz(BzCheck::HeaderShort, header_end));
    }
    let setup_size = header.setup_size();
    if setup_size >= len {
        return Err(bz(BzCheck::SetupSects, header.setup_sects.into()));
    }
    let pm_size = len.saturating_sub(setup_size);

    let lf = header.loadflags;
    if lf & loadflags::LOADED_HIGH == 0 {
        return Err(bz(BzCheck::LoadFlags, lf.into()));
    }
    let xlf = header.xloadflags.get();
    if xlf & xloadflags::KERNEL_64 == 0 {
        return Err(bz(BzCheck::XLoadFlags, xlf.into()));
    }
    let align = header.kernel_alignment.get();
    if !align.is_power_of_two() || align < 4096 {
        return Err(bz(BzCheck::KernelAlignment, align.into()));
    }
    let reloc = header.relocatable_kernel;
    if reloc > 1 {
        return Err(bz(BzCheck::RelocatableKernel, reloc.into()));
    }
    let min_align = header.min_alignment;
    if reloc == 1 && u32::from(min_align) > align.trailing_zeros() {
        return Err(bz(BzCheck::MinAlignment, min_align.into()));
    }
    let cmdline_size = header.cmdline_size.get();
    if cmdline_size == 0 {
        return Err(bz(BzCheck::CmdlineSize, 0));
    }
    let init_size = u64::from(header.init_size.get());
    if init_size < pm_size {
        return Err(bz(BzCheck::InitSize, init_size));
    }
    let pref = header.pref_address.get();
    if pref < MIN_LOAD_ADDRESS {
        return Err(bz(BzCheck::PrefAddress, pref));
    }
    if reloc == 1 && pref.checked_rem(u64::from(align)) != Some(0) {
        return Err(bz(BzCheck::PrefAddressAlign, pref));
    }
    let limit = if xlf & xloadflags::CAN_BE_LOADED_ABOVE_4G != 0 {
        u64::MAX
    } else {
        FOUR_GIB
    };
    match pref.checked_add(init_size) {
        Some(end) if end <= limit => {}
        _ => {
            return Err(bz(BzCheck::PrefAddressEnd, pref));
        }
    }
    let payload_end = u64::from(header.payload_offset.get())
        .saturating_add(u64::from(header.payload_length.get()));
    if payload_end > pm_size {
        return Err(bz(BzCheck::Payload, payload_end));
    }
    let setup_data = header.setup_data.get();
    if setup_data != 0 {
        return Err(bz(BzCheck::SetupData, setup_data));
    }
    Ok((header_end, setup_size))
}

fn bz(check: BzCheck, value: u64) -> Error {
    Error::BzImage { check, value }
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
        let (header_end, setup_size) = check(header, u64_from(image.len()))?;
        let protected_mode = range(
            image,
            setup_size,
            u64_from(image.len()).saturating_sub(setup_size),
        )
        .ok_or(bz(BzCheck::SetupSects, header.setup_sects.into()))?;
        Ok(Self {
            image,
            header,
            header_end,
            setup_size,
            protected_mode,
        })
    }

    /// The checks [`BzImage::parse`] makes, on the first bytes of an image
    /// of `image_len` bytes that is not verified yet (`head`, at least up to
    /// the end of the setup header): a loader may **refuse** on what this
    /// finds before it inflates or hashes the rest (the same error
    /// [`BzImage::parse`] gives once the bytes are verified), but must
    /// never accept on it. `Ok` when `head` is too short to tell.
    ///
    /// # Errors
    /// The [`Error::BzImage`] of the first check that fails.
    pub fn check_head(head: &[u8], image_len: u64) -> Result<()> {
        match SetupHeader::peek(head) {
            Some(header) => check(header, image_len).map(|_| ()),
            None => Ok(()),
        }
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

    fn check_err(v: &[u8]) -> BzCheck {
        match BzImage::parse(v) {
            Err(Error::BzImage { check, .. }) => check,
            other => panic!("expected BzImage error, got {other:?}"),
        }
    }

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
    fn peek_is_unchecked_and_shares_setup_size() {
        let mut v = image(true, 0x1000);
        v[0x1FE] = 0; // fails BzImage::parse, still peekable
        let h = SetupHeader::peek(&v).unwrap();
        assert_eq!(h.setup_size(), 1024);
        assert_eq!(h.pref_address.get(), 0x100_0000);
        assert_eq!(h.init_size.get(), 0x40_0000);
        v[0x1F1] = 0;
        assert_eq!(SetupHeader::peek(&v).unwrap().setup_size(), 5 * 512);
        v[0x1F1] = 255;
        assert_eq!(SetupHeader::peek(&v).unwrap().setup_size(), 256 * 512);
        assert!(SetupHeader::peek(&v[..0x26C]).is_some());
        assert!(SetupHeader::peek(&v[..0x26B]).is_none());
    }

    #[test]
    fn setup_sects_zero_means_four() {
        let mut v = image(true, 0x1000);
        v[0x1F1] = 0;
        let b = BzImage::parse(&v).unwrap();
        assert_eq!(b.setup_size(), 5 * 512);
        assert_eq!(b.protected_mode().len(), 1024 + 0x1000 - 5 * 512);
        v.truncate(5 * 512);
        assert_eq!(check_err(&v), BzCheck::SetupSects);
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
        let cases: &[(BzCheck, &Mutate)] = &[
            (BzCheck::BootFlag, &|v| v[0x1FE] = 0),
            (BzCheck::Header, &|v| v[0x202] = b'X'),
            (BzCheck::Version, &|v| {
                v[0x206..0x208].copy_from_slice(&0x020Bu16.to_le_bytes())
            }),
            (BzCheck::HeaderEnd, &|v| v[0x201] = 0x8F),
            (BzCheck::HeaderShort, &|v| v[0x201] = 0x61),
            (BzCheck::SetupSects, &|v| v.truncate(1024)),
            (BzCheck::LoadFlags, &|v| v[0x211] = 0x80),
            (BzCheck::XLoadFlags, &|v| v[0x236] = 0x02),
            (BzCheck::KernelAlignment, &|v| {
                v[0x230..0x234].copy_from_slice(&0x30_0000u32.to_le_bytes())
            }),
            (BzCheck::KernelAlignment, &|v| {
                v[0x230..0x234].copy_from_slice(&0x800u32.to_le_bytes())
            }),
            (BzCheck::RelocatableKernel, &|v| v[0x234] = 2),
            (BzCheck::MinAlignment, &|v| v[0x235] = 22),
            (BzCheck::CmdlineSize, &|v| {
                v[0x238..0x23C].copy_from_slice(&[0; 4])
            }),
            (BzCheck::InitSize, &|v| {
                v[0x260..0x264].copy_from_slice(&0xFFFu32.to_le_bytes())
            }),
            (BzCheck::PrefAddress, &|v| {
                v[0x258..0x260].copy_from_slice(&0xF_F000u64.to_le_bytes())
            }),
            (BzCheck::PrefAddressAlign, &|v| {
                v[0x258..0x260].copy_from_slice(&0x110_0000u64.to_le_bytes())
            }),
            (BzCheck::PrefAddressEnd, &|v| {
                v[0x236] = 0x01;
                v[0x258..0x260].copy_from_slice(&0xFFE0_0000u64.to_le_bytes());
            }),
            (BzCheck::PrefAddressEnd, &|v| {
                v[0x258..0x260].copy_from_slice(&0xFFFF_FFFF_FFE0_0000u64.to_le_bytes());
            }),
            (BzCheck::Payload, &|v| {
                v[0x248..0x24C].copy_from_slice(&0x800u32.to_le_bytes());
                v[0x24C..0x250].copy_from_slice(&0x801u32.to_le_bytes());
            }),
            (BzCheck::SetupData, &|v| v[0x250] = 1),
        ];
        for (check, mutate) in cases {
            let mut v = base.clone();
            mutate(&mut v);
            assert_eq!(check_err(&v), *check, "case {check}");
        }
        // One case per check: all 18 are reachable and told apart by type.
        let mut seen: std::vec::Vec<BzCheck> = cases.iter().map(|c| c.0).collect();
        seen.dedup();
        assert_eq!(seen.len(), 18);
        // Exact values and requirement text for a few.
        let mut v = base.clone();
        v[0x201] = 0x8F;
        assert_eq!(
            BzImage::parse(&v).unwrap_err(),
            Error::BzImage {
                check: BzCheck::HeaderEnd,
                value: 0x291,
            }
        );
        let mut v = base.clone();
        v[0x1FE] = 0x55;
        v[0x1FF] = 0xAB;
        assert_eq!(
            BzImage::parse(&v).unwrap_err(),
            Error::BzImage {
                check: BzCheck::BootFlag,
                value: 0xAB55,
            }
        );
        assert_eq!(
            std::string::ToString::to_string(&BzImage::parse(&v).unwrap_err()),
            "bzImage header: boot_flag is 0xab55, must be 0xaa55"
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
}
