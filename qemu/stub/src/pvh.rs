//! Reading what QEMU's PVH boot path hands over: the `hvm_start_info`
//! (Xen `arch-x86/hvm/start_info.h`), its memory map, module list and
//! command line address. Every read goes through [`read_phys`], which copies
//! plain integers out of identity-mapped memory; slices over guest RAM are
//! formed only in `boot.rs` after the range was checked against the memory
//! map with the library's predicate.
//!
//! The stub keeps at most [`E820_MAX_ENTRIES`] memory-map entries (what the
//! zero page holds); a start info with more is refused
//! ([`PvhError::MemmapTooLarge`]). QEMU's e820 table has a handful.

use heapless::Vec;
use rvf_boot::memory::{E820_MAX_ENTRIES, PhysRange};

/// `hvm_start_info.magic`.
pub const START_INFO_MAGIC: u32 = 0x336E_C578;

/// Copy a `T` (plain integers only) from physical address `addr`.
///
/// # Safety
/// `addr .. addr + size_of::<T>()` must be readable memory (paging is an
/// identity map of 0..4 GiB) and `T` must be valid for any bit pattern.
pub unsafe fn read_phys<T: Copy>(addr: u64) -> T {
    // SAFETY: the caller guarantees the range is readable and T accepts any
    // bits; read_unaligned has no alignment requirement.
    unsafe { core::ptr::read_unaligned(addr as usize as *const T) }
}

/// `hvm_start_info`, version 1 (56 bytes).
#[derive(Clone, Copy)]
#[repr(C)]
struct RawStartInfo {
    magic: u32,
    version: u32,
    flags: u32,
    nr_modules: u32,
    modlist_paddr: u64,
    cmdline_paddr: u64,
    rsdp_paddr: u64,
    memmap_paddr: u64,
    memmap_entries: u32,
    reserved: u32,
}

/// `hvm_modlist_entry` (32 bytes).
#[derive(Clone, Copy)]
#[repr(C)]
struct RawModule {
    paddr: u64,
    size: u64,
    cmdline_paddr: u64,
    reserved: u64,
}

/// `hvm_memmap_table_entry` (24 bytes), the same types as E820.
#[derive(Clone, Copy)]
#[repr(C)]
pub struct MemmapEntry {
    /// Start address.
    pub addr: u64,
    /// Length in bytes.
    pub size: u64,
    /// E820 type (1 = RAM).
    pub kind: u32,
    /// Zero.
    pub reserved: u32,
}

/// Why the start info is unusable.
#[derive(Clone, Copy, Debug)]
pub enum PvhError {
    /// `%ebx` did not point at the PVH magic.
    BadMagic(u32),
    /// Version 0 has no memory map.
    NoMemmap,
    /// More map entries than the stub keeps.
    MemmapTooLarge(u32),
    /// No module: QEMU was started without `-initrd FILE.rvf` (and no
    /// fw_cfg file `opt/rvf-boot/rvf` either).
    NoModule,
}

/// The parts of `hvm_start_info` the stub uses.
pub struct StartInfo {
    /// The memory map (e820 semantics), at most [`E820_MAX_ENTRIES`]
    /// entries.
    memmap: Vec<MemmapEntry, E820_MAX_ENTRIES>,
    /// Module 0 (the .rvf): physical start and size, unchecked; `None`
    /// when QEMU passed no `-initrd` (the RVF may then come through fw_cfg).
    pub module: Option<PhysRange>,
    /// `-append` string address, 0 if none.
    pub cmdline_paddr: u64,
    /// ACPI RSDP address, 0 if none.
    pub rsdp_paddr: u64,
}

impl StartInfo {
    /// Read the start info at `addr` (the `%ebx` QEMU entered with).
    pub fn read(addr: u64) -> Result<Self, PvhError> {
        // SAFETY: QEMU's PVH option ROM enters pvh_start with %ebx pointing
        // at its hvm_start_info, readable low memory that nothing has
        // written since; the struct is plain integers. The magic check below
        // rejects any other entry.
        let raw: RawStartInfo = unsafe { read_phys(addr) };
        if raw.magic != START_INFO_MAGIC {
            return Err(PvhError::BadMagic(raw.magic));
        }
        if raw.version < 1 || raw.memmap_paddr == 0 {
            return Err(PvhError::NoMemmap);
        }
        let count = usize::try_from(raw.memmap_entries).unwrap_or(usize::MAX);
        let too_large = PvhError::MemmapTooLarge(raw.memmap_entries);
        if count > E820_MAX_ENTRIES {
            return Err(too_large);
        }
        let mut memmap = Vec::new();
        let mut at = raw.memmap_paddr;
        for _ in 0..count {
            // SAFETY: version >= 1 start info carries memmap_entries entries
            // of 24 bytes at memmap_paddr (the firmware's e820 copy, in
            // readable memory below 1 MiB); plain integers.
            let entry: MemmapEntry = unsafe { read_phys(at) };
            memmap.push(entry).map_err(|_| too_large)?;
            at = at.wrapping_add(24);
        }
        let module = if raw.nr_modules == 0 || raw.modlist_paddr == 0 {
            None
        } else {
            // SAFETY: nr_modules >= 1 entries of 32 bytes live at
            // modlist_paddr (written by the PVH option ROM); plain integers.
            let module: RawModule = unsafe { read_phys(raw.modlist_paddr) };
            Some(PhysRange {
                base: module.paddr,
                size: module.size,
            })
        };
        Ok(Self {
            memmap,
            module,
            cmdline_paddr: raw.cmdline_paddr,
            rsdp_paddr: raw.rsdp_paddr,
        })
    }

    /// The valid memory map entries.
    pub fn memmap(&self) -> &[MemmapEntry] {
        &self.memmap
    }
}
