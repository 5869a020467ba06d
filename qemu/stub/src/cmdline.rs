//! The `-append` string (PVH `cmdline_paddr`), copied into the stub before
//! anything is placed over it.
//!
//! Limit: at most [`APPEND_MAX`] = 4095 bytes before its NUL, because QEMU's
//! PVH option ROM (`pc-bios/optionrom/pvh_main.c`) copies `-append` into a
//! 4096-byte buffer, NUL included: a longer string spills its tail into the
//! ROM's data that follows (a 4097-byte one arrives cut to 4096, a 5000-byte
//! one overwrites the start info's magic), so nothing longer arrives intact.
//! The string is read only inside the usable-RAM run its first byte lies in
//! (the library's predicate), below the 4 GiB identity map and never into
//! the stub's own image; at most `APPEND_MAX + 1` bytes are read, so a string
//! of exactly `APPEND_MAX` bytes is accepted (its NUL is byte `APPEND_MAX`)
//! and any longer one is refused with [`Failure::AppendTooLong`] (code 8).

use rvf_boot::memory::{self, FOUR_GIB, MemoryRegion, PhysRange};

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
    memory::check_range(memory, first, FOUR_GIB, &[stub])
        .map_err(|p| refuse(first, HandoverProblem::Range(p)))?;
    // The readable run: usable RAM from `addr`, below 4 GiB, before the stub.
    let mut end = memory::usable_end(memory, addr)
        .unwrap_or(addr)
        .min(FOUR_GIB);
    if stub.base > addr {
        end = end.min(stub.base);
    }
    let readable = end.saturating_sub(addr);
    let window = usize::try_from(readable)
        .unwrap_or(usize::MAX)
        .min(APPEND_MAX + 1);
    // SAFETY: `[addr, addr + window)` lies inside `[addr, end)`: usable RAM
    // of the memory map (identity-mapped below 4 GiB, reads without side
    // effects) that does not reach into the stub, so no Rust object is
    // aliased by these byte reads.
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
