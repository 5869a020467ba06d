//! The firmware's memory map in the library's vocabulary, the stub's own
//! image, and the checks on what the firmware placed (the RVF module).
//! No `unsafe`: addresses of linker symbols only.

use heapless::Vec;
use rvf_boot::memory::{self, E820_MAX_ENTRIES, E820Type, FOUR_GIB, MemoryRegion, PhysRange};

use crate::failure::{Failure, Handover, HandoverProblem};
use crate::pvh::StartInfo;

unsafe extern "C" {
    /// First byte of the stub image (link.ld).
    static __stub_start: u8;
    /// One past the stub's last byte, `.bss` included (link.ld).
    static __stub_end: u8;
}

/// The memory map, at most [`E820_MAX_ENTRIES`] entries (what the zero page
/// holds; [`StartInfo::read`] refuses more).
pub type MemoryMap = Vec<MemoryRegion, E820_MAX_ENTRIES>;

/// The PVH memory map (e820 types) as the library's [`MemoryRegion`]s,
/// every entry kept in order (the kernel receives the same map).
pub fn translate(info: &StartInfo) -> Result<MemoryMap, Failure> {
    let mut memory = MemoryMap::new();
    for e in info.memmap() {
        memory
            .push(MemoryRegion {
                base: e.addr,
                size: e.size,
                kind: E820Type::from_code(e.kind),
            })
            .map_err(|_| {
                Failure::Internal(
                    "the memory map outgrew its table after StartInfo::read bounded it",
                )
            })?;
    }
    Ok(memory)
}

/// The stub's own image: [`__stub_start`, `__stub_end`), `.bss` (stack, page
/// tables, zero page, command-line buffer) included.
pub fn stub_image() -> PhysRange {
    let start = core::ptr::addr_of!(__stub_start) as u64;
    let end = core::ptr::addr_of!(__stub_end) as u64;
    PhysRange {
        base: start,
        size: end.saturating_sub(start),
    }
}

/// Everything above the 4 GiB identity map (entry.rs): the stub can neither
/// read nor write there, so it is reserved like a used range.
pub const BEYOND_IDENTITY_MAP: PhysRange = PhysRange {
    base: FOUR_GIB,
    size: u64::MAX - FOUR_GIB,
};

/// Check PVH module 0 (the RVF file) with the library's range check: not
/// empty, below the 4 GiB identity map, usable RAM, clear of the stub.
pub fn check_module(memory: &[MemoryRegion], module: PhysRange) -> Result<PhysRange, Failure> {
    memory::check_range(memory, module, FOUR_GIB, &[stub_image()]).map_err(|p| {
        Failure::Handover {
            what: Handover::RvfFile,
            range: module,
            problem: HandoverProblem::Range(p),
        }
    })?;
    Ok(module)
}
