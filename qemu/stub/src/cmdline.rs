//! The `-append` string (PVH `cmdline_paddr`), copied into the stub before
//! anything is placed over it.
//!
//! Limit: at most [`APPEND_MAX`] = 4095 bytes before its NUL, because QEMU's
//! PVH option ROM (`pc-bios/optionrom/pvh_main.c`) copies `-append` into a
//! 4096-byte buffer, NUL included: a longer string spills its tail into the
//! ROM's data that follows (a 4097-byte one arrives cut to 4096, a 5000-byte
//! one overwrites the start info's magic), so nothing longer arrives intact.
//! The string is taken wherever the firmware put it as long as it is
//! *readable memory*: memory-map entries of type RAM (1), ACPI tables (3) or
//! ACPI NVS (4). QEMU's PVH option ROM and Firecracker put it in RAM; qboot
//! (QEMU `-M microvm`'s default firmware) at 0xEFC70, inside an ACPI NVS
//! range. Reserved (2) and every other type are refused: they may be device
//! registers, whose reads can have side effects. It is read only inside the
//! readable run its first byte lies in (the library's run predicate,
//! [`memory::usable_end`], over the map with those three types counted as
//! one), below the 4 GiB identity map and never into the stub's own image; at
//! most `APPEND_MAX + 1` bytes are read, so a string of exactly `APPEND_MAX`
//! bytes is accepted (its NUL is byte `APPEND_MAX`) and any longer one is
//! refused with [`Failure::AppendTooLong`] (code 8). It is copied before
//! anything is placed, so a placement may reuse its RAM afterwards.

use rvf_boot::memory::{self, E820Type, FOUR_GIB, MemoryRegion, PhysRange, RangeProblem};

use crate::memmap::MemoryMap;

use crate::failure::{Failure, Handover, HandoverProblem};
use crate::pvh::read_phys;

/// Longest `-append` string the stub accepts, without its NUL (the
/// library's limit, shared with `rvf-boot measure`). The kernel's own limit
/// (`cmdline_size`) is checked by the library when the command line is
/// assembled.
pub use rvf_boot::cmdline::APPEND_MAX;

/// Copy the NUL-terminated string at `addr` (0: none) into `buf` and return
/// it. `stub` is the stub's own image.
pub fn copy_append<'b>(
    memory: &[MemoryRegion],
    stub: PhysRange,
    addr: u64,
    buf: &'b mut [u8; APPEND_MAX],
) -> Result<&'b [u8], Failure> {
    if addr == 0 {
        return Ok(&[]);
    }
    let first = PhysRange {
        base: addr,
        size: 1,
    };
    let refuse = |range, problem| Failure::Handover {
        what: Handover::Cmdline,
        range,
        problem,
    };
    let readable_map = readable_as_ram(memory)?;
    // The readable run: readable memory from `addr`, below 4 GiB, before the
    // stub; the first byte itself must be readable and outside the stub.
    memory::check_range(&readable_map, first, FOUR_GIB, &[stub]).map_err(|p| {
        let problem = match p {
            RangeProblem::NotUsableRam => HandoverProblem::Unreadable,
            p => HandoverProblem::Range(p),
        };
        refuse(first, problem)
    })?;
    let mut end = memory::usable_end(&readable_map, addr)
        .unwrap_or(addr)
        .min(FOUR_GIB);
    if stub.base > addr {
        end = end.min(stub.base);
    }
    let readable = end.saturating_sub(addr);
    let window = usize::try_from(readable)
        .unwrap_or(usize::MAX)
        .min(APPEND_MAX + 1);
    // SAFETY: `[addr, addr + window)` lies inside `[addr, end)`: memory the
    // map calls RAM, ACPI or ACPI NVS, i.e. memory, not device registers
    // (identity-mapped below 4 GiB, reads without side effects), that does
    // not reach into the stub, so no Rust object is aliased by these byte
    // reads.
    match unsafe { read_cstr(addr, window, buf) } {
        Some(n) => Ok(buf.get(..n).unwrap_or(&[])),
        None if window > APPEND_MAX => Err(Failure::AppendTooLong),
        None => Err(refuse(
            PhysRange {
                base: addr,
                size: readable,
            },
            HandoverProblem::Unterminated,
        )),
    }
}

/// `memory` with every readable entry (RAM, ACPI, ACPI NVS) typed RAM and
/// every other entry as it is, so that the library's usable-RAM run
/// ([`memory::usable_end`]: covered by RAM entries, cut at the first other
/// entry) is the readable run.
fn readable_as_ram(memory: &[MemoryRegion]) -> Result<MemoryMap, Failure> {
    let mut map = MemoryMap::new();
    for r in memory {
        let kind = match r.kind {
            E820Type::Ram | E820Type::Acpi | E820Type::Nvs => E820Type::Ram,
            other => other,
        };
        map.push(MemoryRegion { kind, ..*r })
            .map_err(|_| Failure::Internal("a copy of the memory map outgrew its table"))?;
    }
    Ok(map)
}

/// Read at most `window` bytes from `addr`, copying them into `buf`, up to
/// the first NUL; returns its index. `None` when there is no NUL among the
/// `window` bytes, or the string is longer than `buf` (a NUL must then be
/// byte `buf.len()`, the last one read when `window = buf.len() + 1`).
///
/// # Safety
/// `addr .. addr + window` must be readable memory without read side
/// effects (RAM; the identity map covers everything below 4 GiB).
unsafe fn read_cstr(addr: u64, window: usize, buf: &mut [u8]) -> Option<usize> {
    let mut at = addr;
    for i in 0..window {
        // SAFETY: `at` = addr + i < addr + window, readable by the caller's
        // contract; a byte is valid for any bit pattern.
        let byte: u8 = unsafe { read_phys(at) };
        if byte == 0 {
            return Some(i);
        }
        *buf.get_mut(i)? = byte;
        at = at.wrapping_add(1);
    }
    None
}
