//! ELF vmlinux kernels: the uncompressed `vmlinux` a Linux build leaves
//! beside its bzImage, which Firecracker boots and the RuvBot writer accepts
//! as a kernel.
//!
//! # What is checked
//!
//! [`Vmlinux::parse`] reads the ELF64 file header and at most
//! [`MAX_PROGRAM_HEADERS`] program headers of a verified, uncompressed image
//! (the System V gABI and its x86-64 psABI supplement; field names are the
//! spec's). Every failure is a typed error naming the field or the program
//! header (its index and file offset):
//!
//! | check | error |
//! |---|---|
//! | image shorter than the 64-byte file header | [`Error::Truncated`] with [`Structure::ElfHeader`] |
//! | `e_ident`: magic `7f 45 4c 46`, `ELFCLASS64`, `ELFDATA2LSB`, `EV_CURRENT`, OS ABI System V (0) or GNU/Linux (3), ABI version 0 | [`Error::ElfHeader`] ([`ElfField`]) |
//! | `e_type` `ET_EXEC`, `e_machine` `EM_X86_64`, `e_version` 1, `e_flags` 0, `e_ehsize` 64, `e_phentsize` 56 | [`Error::ElfHeader`] |
//! | `e_phnum` 1..=[`MAX_PROGRAM_HEADERS`]; the table `e_phoff + 56 * e_phnum` inside the image | [`Error::ElfHeader`] |
//! | `p_type` one of `PT_NULL` (skipped), `PT_LOAD`, `PT_NOTE`, `PT_GNU_STACK`, `PT_GNU_PROPERTY` (both ignored) | [`Error::ElfSegment`] ([`SegmentProblem::UnknownType`]) |
//! | `PT_LOAD`: `[p_offset, p_offset + p_filesz)` inside the image; `p_flags` only `PF_X`/`PF_W`/`PF_R`; `p_filesz <= p_memsz`; `p_align` 0 or a power of two, with `p_offset ≡ p_vaddr (mod p_align)` (the gABI's rule); `p_paddr + p_memsz` and `p_vaddr + p_memsz` do not wrap; physical ranges of two `PT_LOAD`s never overlap; at most [`MAX_LOADS`] of them, at least one | [`Error::ElfSegment`] ([`SegmentProblem`]), [`Error::ElfHeader`] ([`ElfField::Loads`]) |
//! | `e_entry` inside the file-backed part `[p_paddr, p_paddr + p_filesz)` of a `PT_LOAD` | [`Error::ElfHeader`] ([`ElfField::Entry`]) |
//! | `PT_NOTE`: file range inside the image, `p_align` 0, 1, 4 or 8; each note's header, name and descriptor inside the segment | [`Error::ElfSegment`], [`Error::ElfNote`] ([`NoteProblem`]) |
//! | the PVH note (`"Xen"`, type `XEN_ELFNOTE_PHYS32_ENTRY` = 18): at most one, a 4- or 8-byte descriptor below 4 GiB, inside a `PT_LOAD`'s file-backed part | [`Error::ElfNote`] |
//!
//! Section headers are not read (a loader needs none). `e_entry` and the PVH
//! entry are **physical** addresses: an x86-64 vmlinux is linked with
//! `ENTRY(phys_startup_64)`, and its PVH note holds `pvh_start_xen`'s
//! physical address.
//!
//! # Placement: [`plan`]
//!
//! A vmlinux carries no relocations a loader could apply: every `PT_LOAD`
//! goes to its `p_paddr` (what Firecracker and Cloud Hypervisor do through
//! rust-vmm's linux-loader). [`plan`] checks that each target
//! `[p_paddr, p_paddr + p_memsz)` starts at or above 1 MiB, ends at or below
//! 4 GiB (the identity map the project's loaders build), is usable RAM
//! ([`crate::memory::is_usable`]) and overlaps none of the ranges the loader keeps
//! (its own image, the RVF, the buffer holding the image, the initrd, the
//! zero page, ...); then the same for the kernel's **span**, from the lowest
//! `p_paddr` to the highest end: Linux reserves `_text.._end` as one block
//! and frees parts of the gaps between segments later, so nothing a kernel
//! still needs may lie there. The plan lists the copies to make
//! ([`SegmentCopy`]: `p_filesz` bytes from the image to `p_paddr`, then
//! `p_memsz - p_filesz` zero bytes).
//!
//! # Hand-over: the 64-bit boot protocol
//!
//! The kernel is entered the way Firecracker enters an ELF kernel without
//! taking its PVH path, and the way a bzImage's own decompressor enters the
//! vmlinux it unpacked: at `e_entry` (`startup_64`) in 64-bit mode, paging
//! on with the kernel, zero page and command line identity-mapped, interrupts
//! off, flat 64-bit code and data segments, **RSI = the zero page**. The zero
//! page is [`crate::zero_page::build_for_elf`]'s: a synthetic setup header
//! (`boot_flag` 0xAA55, `"HdrS"`, `type_of_loader` 0xFF, `cmd_line_ptr`,
//! `cmdline_size`, the ramdisk fields) plus the e820 table and the ACPI RSDP,
//! written by the same code as a bzImage's.
//!
//! Why not the PVH entry ([`Vmlinux::pvh_entry`], still parsed and
//! reported): the project's loaders run in long mode with an identity map and
//! already build zero pages for bzImages; PVH would need a trip down to
//! 32-bit protected mode with paging off and a second hand-over format
//! (start info, module list, memory map) for the same kernel, and Linux's PVH
//! path reaches the same `startup_64` anyway. The note is reported so a
//! loader (or `inspect`) can say the kernel also boots under Firecracker's
//! and Cloud Hypervisor's PVH loaders.
//!
//! # Example
//!
//! What a boot core does with a verified image (here the test kit's small
//! Linux-shaped vmlinux, shipped as `testdata/vmlinux.elf`; on a loader, the
//! buffer `image::extract` filled):
//!
//! ```rust
//! use rvf_boot::elf::{self, KernelFormat, Vmlinux};
//! use rvf_boot::memory::{E820Type, MemoryRegion, PhysRange};
//! use rvf_boot::zero_page::{self, Handoff, ZERO_PAGE_SIZE};
//!
//! let image = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/vmlinux.elf"));
//! assert_eq!(KernelFormat::detect(image), Some(KernelFormat::Elf));
//! let vmlinux = Vmlinux::parse(image)?; // headers, PT_LOADs, PVH note
//! let memory = [MemoryRegion { base: 0x10_0000, size: 255 << 20, kind: E820Type::Ram }];
//! // Kept until the jump: the loader, the image buffer, the initrd, the zero page, ...
//! let reserved = [PhysRange { base: 0x10_0000, size: 0x10_0000 }];
//! let plan = elf::plan(&vmlinux, &memory, &reserved)?;
//! for copy in plan.copies() {
//!     let bytes: &[u8] = plan.source(copy); // to copy.destination, then copy.zero zero bytes
//!     assert_eq!(bytes.len() as u64, copy.file_size);
//! }
//! let mut page = [0u8; ZERO_PAGE_SIZE];
//! let cmdline = PhysRange { base: 0x2_0000, size: 14 }; // "console=ttyS0\0", written by cmdline::write
//! let handoff = Handoff { cmdline: Some(cmdline), initrd: None, memory_map: &memory, acpi_rsdp: None };
//! zero_page::build_for_elf(&mut page, &plan, &handoff)?;
//! assert_eq!(plan.entry_64(), 0x100_0000); // jump here in long mode, RSI = the zero page
//! assert_eq!(vmlinux.pvh_entry(), Some(0x100_0850));
//! Ok::<(), rvf_boot::Error>(())
//! ```
//!
//! # Kernel format
//!
//! [`KernelFormat::detect`] tells a bzImage from an ELF vmlinux by their
//! first bytes ([`KernelFormat::detect`]: `7f 45 4c 46`; a bzImage: `boot_flag` 0xAA55 at
//! 0x1FE and `"HdrS"` at 0x202), so a boot core picks the parser.
//!
//! # Bounds
//!
//! No heap; a [`Vmlinux`] is a fixed-size value (the [`MAX_LOADS`] loads
//! inline). Work is one pass over at most [`MAX_PROGRAM_HEADERS`] program
//! headers, each `PT_LOAD` compared with the at most [`MAX_LOADS`] before
//! it, plus, for the notes, at most `p_filesz / 12 + 1` steps per
//! `PT_NOTE` (every note takes at least its 12-byte header), so at most
//! `64 × (image size / 12 + 1)` note steps; [`plan`] does [`MAX_LOADS`] + 1
//! range checks (`O(n²)` each for a memory map of `n` entries,
//! [`crate::memory::check_range`]). `Vmlinux::work` (feature `testing`) counts what a parse
//! did (`ElfWork`), so the bound is tested by counting.

use crate::bytes::{le_u16, le_u32, range, u64_from, view};
use crate::error::{Error, Result, Structure};
use crate::memory::PhysRange;
use zerocopy::little_endian::{U16, U32, U64};

mod plan;
mod problem;

pub use plan::{ElfPlan, SegmentCopy, plan};
pub use problem::{ElfField, LoadTarget, NoteProblem, PlacementProblem, SegmentProblem};
use zerocopy::{FromBytes, Immutable, KnownLayout, Unaligned};

/// The most program headers [`Vmlinux::parse`] reads (`e_phnum`). A Linux
/// x86-64 vmlinux has 5 (text, data, percpu, init, note).
pub const MAX_PROGRAM_HEADERS: u16 = 64;
/// The most `PT_LOAD` segments a [`Vmlinux`] holds (a Linux x86-64 vmlinux has 4).
pub const MAX_LOADS: usize = 16;

testing_pub! {
    /// `"\x7fELF"`, `e_ident[EI_MAG0..=EI_MAG3]`.
    pub const ELF_MAGIC: [u8; 4] = [0x7F, b'E', b'L', b'F'];
}
testing_pub! {
    /// `e_ident[EI_CLASS]` for 64-bit objects.
    pub const ELFCLASS64: u8 = 2;
}
testing_pub! {
    /// `e_ident[EI_DATA]` for little-endian objects.
    pub const ELFDATA2LSB: u8 = 1;
}
testing_pub! {
    /// `EV_CURRENT`, in `e_ident[EI_VERSION]` and `e_version`.
    pub const EV_CURRENT: u8 = 1;
}
testing_pub! {
    /// `e_ident[EI_OSABI]`: System V (what Linux's vmlinux carries).
    pub const ELFOSABI_SYSV: u8 = 0;
}
testing_pub! {
    /// `e_ident[EI_OSABI]`: GNU/Linux (accepted as well).
    pub const ELFOSABI_GNU: u8 = 3;
}
testing_pub! {
    /// `e_type` of an executable.
    pub const ET_EXEC: u16 = 2;
}
testing_pub! {
    /// `e_machine` of x86-64.
    pub const EM_X86_64: u16 = 62;
}
testing_pub! {
    /// Size of the ELF64 file header (`e_ehsize`).
    pub const EHDR_SIZE: u16 = 64;
}
testing_pub! {
    /// Size of an ELF64 program header (`e_phentsize`).
    pub const PHDR_SIZE: u16 = 56;
}

testing_pub! {
    /// `p_type`: unused entry (skipped).
    pub const PT_NULL: u32 = 0;
}
testing_pub! {
    /// `p_type`: loadable segment.
    pub const PT_LOAD: u32 = 1;
}
testing_pub! {
    /// `p_type`: notes.
    pub const PT_NOTE: u32 = 4;
}
testing_pub! {
    /// `p_type`: GNU stack flags (ignored).
    pub const PT_GNU_STACK: u32 = 0x6474_E551;
}
testing_pub! {
    /// `p_type`: GNU property notes (ignored).
    pub const PT_GNU_PROPERTY: u32 = 0x6474_E553;
}

testing_pub! {
    /// `p_flags`: executable.
    pub const PF_X: u32 = 1;
}
testing_pub! {
    /// `p_flags`: writable.
    pub const PF_W: u32 = 2;
}
testing_pub! {
    /// `p_flags`: readable.
    pub const PF_R: u32 = 4;
}

testing_pub! {
    /// The note type of the PVH entry point (Xen's `XEN_ELFNOTE_PHYS32_ENTRY`),
    /// in a note named `"Xen"`.
    pub const XEN_ELFNOTE_PHYS32_ENTRY: u32 = 18;
}
testing_pub! {
    /// The name of Xen's notes, with its NUL (`namesz` 4).
    pub const XEN_NOTE_NAME: [u8; 4] = *b"Xen\0";
}
testing_pub! {
    /// Size of a note header (`n_namesz`, `n_descsz`, `n_type`).
    pub const NOTE_HEADER_SIZE: u64 = 12;
}

testing_pub! {
    /// The ELF64 file header (`Elf64_Ehdr`), at file offset 0.
    #[derive(FromBytes, KnownLayout, Immutable, Unaligned, Debug)]
    #[repr(C)]
    pub struct FileHeader {
        /// 0x00: identification: magic (0..4), `EI_CLASS` (4), `EI_DATA` (5),
        /// `EI_VERSION` (6), `EI_OSABI` (7), `EI_ABIVERSION` (8), padding (9..16).
        pub e_ident: [u8; 16],
        /// 0x10: object file type.
        pub e_type: U16,
        /// 0x12: architecture.
        pub e_machine: U16,
        /// 0x14: object file version.
        pub e_version: U32,
        /// 0x18: entry point (physical for an x86-64 vmlinux).
        pub e_entry: U64,
        /// 0x20: file offset of the program-header table.
        pub e_phoff: U64,
        /// 0x28: file offset of the section-header table (not read).
        pub e_shoff: U64,
        /// 0x30: processor-specific flags (0 on x86-64).
        pub e_flags: U32,
        /// 0x34: size of this header (64).
        pub e_ehsize: U16,
        /// 0x36: size of a program header (56).
        pub e_phentsize: U16,
        /// 0x38: number of program headers.
        pub e_phnum: U16,
        /// 0x3A: size of a section header (not read).
        pub e_shentsize: U16,
        /// 0x3C: number of section headers (not read).
        pub e_shnum: U16,
        /// 0x3E: section-name string table index (not read).
        pub e_shstrndx: U16,
    }
}

testing_pub! {
    /// An ELF64 program header (`Elf64_Phdr`); offsets from its start.
    #[derive(FromBytes, KnownLayout, Immutable, Unaligned, Debug)]
    #[repr(C)]
    pub struct ProgramHeader {
        /// 0x00: segment type.
        pub p_type: U32,
        /// 0x04: segment flags (`PF_X`, `PF_W`, `PF_R`).
        pub p_flags: U32,
        /// 0x08: file offset of the segment's bytes.
        pub p_offset: U64,
        /// 0x10: virtual address.
        pub p_vaddr: U64,
        /// 0x18: physical address (where a loader puts it).
        pub p_paddr: U64,
        /// 0x20: bytes in the file.
        pub p_filesz: U64,
        /// 0x28: bytes in memory (the rest zeroed).
        pub p_memsz: U64,
        /// 0x30: alignment (0 or 1: none; else a power of two).
        pub p_align: U64,
    }
}

testing_pub! {
    /// An ELF note header (`Elf64_Nhdr`, the same three 32-bit words as ELF32's).
    #[derive(FromBytes, KnownLayout, Immutable, Unaligned, Debug)]
    #[repr(C)]
    pub struct NoteHeader {
        /// 0x00: length of the name, with its NUL.
        pub n_namesz: U32,
        /// 0x04: length of the descriptor.
        pub n_descsz: U32,
        /// 0x08: note type (its meaning depends on the name).
        pub n_type: U32,
    }
}

// Compile-time size checks.
const _: [(); 64] = [(); core::mem::size_of::<FileHeader>()];
const _: [(); 56] = [(); core::mem::size_of::<ProgramHeader>()];
const _: [(); 12] = [(); core::mem::size_of::<NoteHeader>()];

/// The kernel formats a boot core can be handed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KernelFormat {
    /// A bzImage (Linux boot protocol setup header).
    BzImage,
    /// An ELF vmlinux.
    Elf,
}

impl KernelFormat {
    /// The format of `image` from its first bytes (nothing else is checked):
    /// [`Self::Elf`] when it starts with `\x7fELF`, [`Self::BzImage`]
    /// when `boot_flag` (0x1FE) is 0xAA55 and `header` (0x202) is `"HdrS"`,
    /// `None` otherwise. The parsers check everything else.
    #[must_use]
    pub fn detect(image: &[u8]) -> Option<Self> {
        if is_elf(image) {
            Some(Self::Elf)
        } else if le_u16(image, 0x1FE) == Some(crate::bzimage::BOOT_FLAG)
            && le_u32(image, 0x202) == Some(crate::bzimage::HDRS_MAGIC)
        {
            Some(Self::BzImage)
        } else {
            None
        }
    }

    /// `"bzimage"` or `"elf"`, as in reports.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::BzImage => "bzimage",
            Self::Elf => "elf",
        }
    }
}

display_by_name!(KernelFormat);

/// Whether `image` starts with the ELF magic `7f 45 4c 46`.
#[must_use]
pub(crate) fn is_elf(image: &[u8]) -> bool {
    image.get(..4) == Some(&ELF_MAGIC[..])
}

/// One checked `PT_LOAD` program header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Load {
    /// Its index in the program-header table.
    pub index: u16,
    /// `p_flags`.
    pub flags: u32,
    /// `p_offset`: where its bytes start in the image.
    pub offset: u64,
    /// `p_vaddr`.
    pub vaddr: u64,
    /// `p_paddr`: where it goes.
    pub paddr: u64,
    /// `p_filesz`: bytes copied from the image.
    pub filesz: u64,
    /// `p_memsz`: bytes it occupies (the rest zeroed).
    pub memsz: u64,
    /// `p_align`.
    pub align: u64,
}

impl Load {
    /// Its target range `[p_paddr, p_paddr + p_memsz)`.
    #[must_use]
    pub const fn target(&self) -> PhysRange {
        PhysRange {
            base: self.paddr,
            size: self.memsz,
        }
    }

    /// Whether `addr` lies in `[p_paddr, p_paddr + p_filesz)`.
    #[must_use]
    pub const fn backs(&self, addr: u64) -> bool {
        addr >= self.paddr && addr.wrapping_sub(self.paddr) < self.filesz
    }
}

testing_pub! {
    /// The work [`Vmlinux::parse`] did, counted (the bound in the module
    /// documentation, tested by counting).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
    pub struct ElfWork {
        /// Program headers read (`e_phnum`, at most [`MAX_PROGRAM_HEADERS`]).
        pub program_headers: u64,
        /// `PT_LOAD`s compared for overlap (at most `MAX_LOADS` per `PT_LOAD`).
        pub overlap_checks: u64,
        /// Notes stepped over in `PT_NOTE`s (at most `p_filesz / 12 + 1` each).
        pub note_steps: u64,
    }
}

/// An ELF vmlinux whose headers passed every check of the module table.
#[derive(Clone, Copy, Debug)]
pub struct Vmlinux<'a> {
    image: &'a [u8],
    entry: u64,
    pvh_entry: Option<u32>,
    loads: [Load; MAX_LOADS],
    load_count: usize,
    work: ElfWork,
}

/// The file-header checks of [`Vmlinux::parse`] on `h`, for an image of
/// `len` bytes (the program-header table must lie inside it).
fn check_header(h: &FileHeader, len: u64) -> Result<()> {
    let [m0, m1, m2, m3, class, data, version, osabi, abiversion, ..] = h.e_ident;
    let magic = [m0, m1, m2, m3];
    if magic != ELF_MAGIC {
        return Err(header(ElfField::Magic, u32::from_le_bytes(magic).into()));
    }
    let checks: [(ElfField, u64, bool); 10] = [
        (ElfField::Class, class.into(), class == ELFCLASS64),
        (ElfField::Data, data.into(), data == ELFDATA2LSB),
        (
            ElfField::IdentVersion,
            version.into(),
            version == EV_CURRENT,
        ),
        (
            ElfField::OsAbi,
            osabi.into(),
            osabi == ELFOSABI_SYSV || osabi == ELFOSABI_GNU,
        ),
        (ElfField::AbiVersion, abiversion.into(), abiversion == 0),
        (
            ElfField::Type,
            h.e_type.get().into(),
            h.e_type.get() == ET_EXEC,
        ),
        (
            ElfField::Machine,
            h.e_machine.get().into(),
            h.e_machine.get() == EM_X86_64,
        ),
        (
            ElfField::Version,
            h.e_version.get().into(),
            h.e_version.get() == u32::from(EV_CURRENT),
        ),
        (
            ElfField::Flags,
            h.e_flags.get().into(),
            h.e_flags.get() == 0,
        ),
        (
            ElfField::EhSize,
            h.e_ehsize.get().into(),
            h.e_ehsize.get() == EHDR_SIZE,
        ),
    ];
    if let Some(&(field, value, _)) = checks.iter().find(|c| !c.2) {
        return Err(header(field, value));
    }
    let phentsize = h.e_phentsize.get();
    if phentsize != PHDR_SIZE {
        return Err(header(ElfField::PhEntSize, phentsize.into()));
    }
    let phnum = h.e_phnum.get();
    if phnum == 0 || phnum > MAX_PROGRAM_HEADERS {
        return Err(header(ElfField::PhNum, phnum.into()));
    }
    let phoff = h.e_phoff.get();
    let table = u64::from(phnum).saturating_mul(u64::from(PHDR_SIZE));
    if phoff.checked_add(table).is_none_or(|end| end > len) {
        return Err(header(ElfField::PhOff, phoff));
    }
    Ok(())
}

/// The file-header checks [`Vmlinux::parse`] makes, on the first bytes of an
/// image of `image_len` bytes that is not verified yet: a loader may
/// **refuse** on what this finds before it inflates or hashes the rest (the
/// error [`Vmlinux::parse`] gives once the bytes are verified), never accept
/// on it. `Ok` when `head` is shorter than the file header.
///
/// # Errors
/// The [`Error::ElfHeader`] of the first check that fails.
pub fn check_head(head: &[u8], image_len: u64) -> Result<()> {
    match view::<FileHeader>(head, 0, 0, Structure::ElfHeader) {
        Ok(h) => check_header(h, image_len),
        Err(_) => Ok(()),
    }
}

fn header(field: ElfField, value: u64) -> Error {
    Error::ElfHeader { field, value }
}

fn segment(index: u16, offset: u64, problem: SegmentProblem) -> Error {
    Error::ElfSegment {
        index,
        offset,
        problem,
    }
}

/// `v` rounded up to `align` (a power of two), or `None` on overflow.
fn align_up(v: u64, align: u64) -> Option<u64> {
    let mask = align.checked_sub(1)?;
    Some(v.checked_add(mask)? & !mask)
}

impl<'a> Vmlinux<'a> {
    /// Check `image` (the whole verified, uncompressed vmlinux): see the
    /// module table for every check, in order.
    pub fn parse(image: &'a [u8]) -> Result<Self> {
        let h: &FileHeader = view(image, 0, 0, Structure::ElfHeader)?;
        let len = u64_from(image.len());
        check_header(h, len)?;
        let (phnum, phoff) = (h.e_phnum.get(), h.e_phoff.get());
        let mut v = Self {
            image,
            entry: h.e_entry.get(),
            pvh_entry: None,
            loads: [Load::default(); MAX_LOADS],
            load_count: 0,
            work: ElfWork::default(),
        };
        let mut pvh_note_at = 0u64;
        for index in 0..phnum {
            let at = phoff.saturating_add(u64::from(index).saturating_mul(u64::from(PHDR_SIZE)));
            let ph: &ProgramHeader = view(image, 0, at, Structure::ElfHeader)?;
            v.work.program_headers = v.work.program_headers.saturating_add(1);
            let seg = |problem| segment(index, at, problem);
            let p_offset = ph.p_offset.get();
            let p_filesz = ph.p_filesz.get();
            let inside = || {
                if range(image, p_offset, p_filesz).is_none() {
                    Err(seg(SegmentProblem::OutsideImage {
                        p_offset,
                        p_filesz,
                        image_size: len,
                    }))
                } else {
                    Ok(())
                }
            };
            match ph.p_type.get() {
                PT_NULL | PT_GNU_STACK | PT_GNU_PROPERTY => {}
                PT_LOAD => {
                    inside()?;
                    let load = check_load(index, ph).map_err(seg)?;
                    v.push(load).map_err(seg)?;
                }
                PT_NOTE => {
                    inside()?;
                    let p_align = ph.p_align.get();
                    let align = match p_align {
                        0 | 1 | 4 => 4,
                        8 => 8,
                        _ => return Err(seg(SegmentProblem::NoteAlign { p_align })),
                    };
                    let seen = v.pvh_entry.is_some();
                    let steps = &mut v.work.note_steps;
                    if let Some((entry, note_at)) =
                        pvh_note(image, p_offset, p_filesz, align, seen, steps)?
                    {
                        v.pvh_entry = Some(entry);
                        pvh_note_at = note_at;
                    }
                }
                p_type => return Err(seg(SegmentProblem::UnknownType { p_type })),
            }
        }
        if v.load_count == 0 {
            return Err(header(ElfField::Loads, 0));
        }
        if !v.loads().iter().any(|l| l.backs(v.entry)) {
            return Err(header(ElfField::Entry, v.entry));
        }
        if let Some(e) = v.pvh_entry {
            let entry = u64::from(e);
            if !v.loads().iter().any(|l| l.backs(entry)) {
                return Err(Error::ElfNote {
                    offset: pvh_note_at,
                    problem: NoteProblem::EntryOutsideLoads { entry },
                });
            }
        }
        Ok(v)
    }

    /// Add a checked `PT_LOAD`, refusing overlap with earlier ones and more
    /// than [`MAX_LOADS`].
    fn push(&mut self, load: Load) -> core::result::Result<(), SegmentProblem> {
        let compared = u64_from(self.load_count);
        self.work.overlap_checks = self.work.overlap_checks.saturating_add(compared);
        if let Some(o) = self
            .loads()
            .iter()
            .find(|o| o.target().overlaps(&load.target()))
        {
            return Err(SegmentProblem::Overlaps { other: o.index });
        }
        let limit = u16::try_from(MAX_LOADS).unwrap_or(u16::MAX);
        let slot = self
            .loads
            .get_mut(self.load_count)
            .ok_or(SegmentProblem::TooManyLoads { limit })?;
        *slot = load;
        self.load_count = self.load_count.saturating_add(1);
        Ok(())
    }

    /// The work the parse did. The `testing` feature.
    #[cfg(feature = "testing")]
    #[must_use]
    pub const fn work(&self) -> ElfWork {
        self.work
    }

    /// The whole image.
    #[must_use]
    pub const fn image(&self) -> &'a [u8] {
        self.image
    }

    /// The 64-bit entry point, `e_entry` (physical; enter with RSI = zero page).
    #[must_use]
    pub const fn entry_64(&self) -> u64 {
        self.entry
    }

    /// The PVH entry point (`XEN_ELFNOTE_PHYS32_ENTRY`), if the image has the note.
    #[must_use]
    pub const fn pvh_entry(&self) -> Option<u32> {
        self.pvh_entry
    }

    /// The `PT_LOAD` segments, in program-header order (at most [`MAX_LOADS`]).
    #[must_use]
    pub fn loads(&self) -> &[Load] {
        self.loads.get(..self.load_count).unwrap_or(&[])
    }

    /// The image bytes of `load`: `[p_offset, p_offset + p_filesz)`
    /// (checked inside the image by [`Self::parse`]).
    #[must_use]
    pub fn file_bytes(&self, load: &Load) -> &'a [u8] {
        range(self.image, load.offset, load.filesz).unwrap_or(&[])
    }

    /// The span from the lowest `p_paddr` to the highest `p_paddr + p_memsz`
    /// of the non-empty `PT_LOAD`s (size 0 if all are empty).
    #[must_use]
    pub fn span(&self) -> PhysRange {
        let non_empty = || self.loads().iter().filter(|l| l.memsz != 0);
        let base = non_empty().map(|l| l.paddr).min().unwrap_or(0);
        let end = non_empty()
            .filter_map(|l| l.target().end())
            .max()
            .unwrap_or(base);
        PhysRange {
            base,
            size: end.saturating_sub(base),
        }
    }
}

/// The checks of one `PT_LOAD` that need nothing but its own header
/// (the file range is checked by the caller).
fn check_load(index: u16, ph: &ProgramHeader) -> core::result::Result<Load, SegmentProblem> {
    let load = Load {
        index,
        flags: ph.p_flags.get(),
        offset: ph.p_offset.get(),
        vaddr: ph.p_vaddr.get(),
        paddr: ph.p_paddr.get(),
        filesz: ph.p_filesz.get(),
        memsz: ph.p_memsz.get(),
        align: ph.p_align.get(),
    };
    if load.flags & !(PF_X | PF_W | PF_R) != 0 {
        return Err(SegmentProblem::Flags {
            p_flags: load.flags,
        });
    }
    if load.filesz > load.memsz {
        return Err(SegmentProblem::FileSizeOverMemSize {
            p_filesz: load.filesz,
            p_memsz: load.memsz,
        });
    }
    if load.align != 0 && !load.align.is_power_of_two() {
        return Err(SegmentProblem::Align {
            p_align: load.align,
        });
    }
    let mask = load.align.saturating_sub(1);
    if load.offset & mask != load.vaddr & mask {
        return Err(SegmentProblem::AlignMismatch {
            p_align: load.align,
        });
    }
    for address in [load.paddr, load.vaddr] {
        if address.checked_add(load.memsz).is_none() {
            return Err(SegmentProblem::Wraps {
                address,
                p_memsz: load.memsz,
            });
        }
    }
    Ok(load)
}

/// Walk the notes of a `PT_NOTE` at `[offset, offset + size)` (inside the
/// image), `align` 4 or 8; return the PVH entry and its note's file offset
/// if this segment has the note. `seen`: an earlier segment had one;
/// `steps` counts the notes stepped over.
fn pvh_note(
    image: &[u8],
    offset: u64,
    size: u64,
    align: u64,
    seen: bool,
    steps: &mut u64,
) -> Result<Option<(u32, u64)>> {
    let notes = range(image, offset, size).unwrap_or(&[]);
    let mut found: Option<(u32, u64)> = None;
    let mut pos = 0u64;
    // Each step advances `pos` by at least NOTE_HEADER_SIZE: at most
    // size / 12 + 1 steps.
    while pos < size {
        *steps = steps.saturating_add(1);
        let at = offset.saturating_add(pos);
        let available = size.saturating_sub(pos);
        let truncated = |needed: u64| Error::ElfNote {
            offset: at,
            problem: NoteProblem::Truncated { needed, available },
        };
        let n: &NoteHeader =
            view(notes, 0, pos, Structure::ElfHeader).map_err(|_| truncated(NOTE_HEADER_SIZE))?;
        let namesz = u64::from(n.n_namesz.get());
        let descsz = n.n_descsz.get();
        // Lengths are u32, so none of this overflows u64; checked anyway.
        let desc_off = NOTE_HEADER_SIZE
            .checked_add(namesz)
            .and_then(|e| align_up(e, align));
        let desc_end = desc_off.and_then(|d| d.checked_add(u64::from(descsz)));
        let (Some(desc_off), Some(desc_end)) = (desc_off, desc_end) else {
            return Err(truncated(u64::MAX));
        };
        if desc_end > available {
            return Err(truncated(desc_end));
        }
        let name = range(notes, pos.saturating_add(NOTE_HEADER_SIZE), namesz).unwrap_or(&[]);
        if name == XEN_NOTE_NAME && n.n_type.get() == XEN_ELFNOTE_PHYS32_ENTRY {
            if seen || found.is_some() {
                return Err(Error::ElfNote {
                    offset: at,
                    problem: NoteProblem::Duplicate,
                });
            }
            let desc = range(notes, pos.saturating_add(desc_off), descsz.into()).unwrap_or(&[]);
            let entry = match *desc {
                [a, b, c, d] => u64::from(u32::from_le_bytes([a, b, c, d])),
                [a, b, c, d, e, f, g, h] => u64::from_le_bytes([a, b, c, d, e, f, g, h]),
                _ => {
                    return Err(Error::ElfNote {
                        offset: at,
                        problem: NoteProblem::DescSize { n_descsz: descsz },
                    });
                }
            };
            let entry32 = u32::try_from(entry).map_err(|_| Error::ElfNote {
                offset: at,
                problem: NoteProblem::AboveFourGib { entry },
            })?;
            found = Some((entry32, at));
        }
        // The padding after the last descriptor may be missing.
        pos = match align_up(desc_end, align) {
            Some(next) => pos.saturating_add(next),
            None => size,
        };
    }
    Ok(found)
}
