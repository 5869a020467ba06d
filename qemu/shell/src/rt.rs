//! The few runtime symbols a `no_std` build for the Linux target needs:
//! `memcpy`, `memmove`, `memset`, `memcmp`, `bcmp` (the target's libc would
//! provide them; gnu-efi's `libgnuefi.a` brings only `_relocate`) and
//! `rust_eh_personality` (referenced by the prebuilt `core`'s unwind tables,
//! which the stub's linker script discards and gnu-efi's never loads).
//!
//! They are written with string instructions in inline assembly, so LLVM
//! cannot recognise them as a loop idiom and turn them back into a call to
//! themselves. The direction flag is clear at every call: the System V ABI
//! (the stub: `pvh_start` executes `cld`) and the UEFI ABI both require DF = 0.

use core::arch::asm;

/// `memcpy(dest, src, n)`: 8 bytes at a time, then the tail.
///
/// # Safety
/// The caller (compiler-generated code or `core`) guarantees the C contract:
/// `src` readable and `dest` writable for `n` bytes, not overlapping.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: by the C contract of memcpy the two n-byte ranges are valid and
    // disjoint; `rep movsq` copies n / 8 quadwords forward and `rep movsb`
    // the n % 8 remaining bytes, exactly n bytes in total. DF = 0 (module doc).
    unsafe {
        asm!(
            "mov {tail}, rcx",
            "shr rcx, 3",
            "rep movsq",
            "mov rcx, {tail}",
            "and rcx, 7",
            "rep movsb",
            tail = out(reg) _,
            inout("rcx") n => _,
            inout("rdi") dest => _,
            inout("rsi") src => _,
            options(nostack)
        );
    }
    dest
}

/// `memmove(dest, src, n)`: forward unless `dest` lies inside the source.
///
/// # Safety
/// The caller guarantees `src` readable and `dest` writable for `n` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    let (d, s) = (dest as usize, src as usize);
    if d <= s || d >= s.wrapping_add(n) {
        // SAFETY: same contract as memcpy; a forward copy is correct when the
        // destination starts at or before the source or does not overlap it.
        return unsafe { memcpy(dest, src, n) };
    }
    if n == 0 {
        return dest;
    }
    let (last_d, last_s) = (dest.wrapping_add(n - 1), src.wrapping_add(n - 1));
    // SAFETY: here src < dest < src + n, so copy backwards: start at the last
    // byte of each range (n >= 1, so n - 1 is in range), set DF for `rep
    // movsb` and clear it again before returning, as the ABI requires.
    unsafe {
        asm!(
            "std",
            "rep movsb",
            "cld",
            inout("rcx") n => _,
            inout("rdi") last_d => _,
            inout("rsi") last_s => _,
            options(nostack)
        );
    }
    dest
}

/// `memset(dest, c, n)`: 8 bytes at a time, then the tail.
///
/// # Safety
/// The caller guarantees `dest` writable for `n` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memset(dest: *mut u8, c: i32, n: usize) -> *mut u8 {
    let byte = u64::from(c.to_le_bytes()[0]);
    let pattern = byte.wrapping_mul(0x0101_0101_0101_0101);
    // SAFETY: by the C contract dest is writable for n bytes; `rep stosq`
    // writes n / 8 quadwords and `rep stosb` the n % 8 remaining bytes
    // (the low byte of rax is the fill byte). DF = 0.
    unsafe {
        asm!(
            "mov {tail}, rcx",
            "shr rcx, 3",
            "rep stosq",
            "mov rcx, {tail}",
            "and rcx, 7",
            "rep stosb",
            tail = out(reg) _,
            inout("rcx") n => _,
            inout("rdi") dest => _,
            in("rax") pattern,
            options(nostack)
        );
    }
    dest
}

/// `memcmp(a, b, n)`: sign of the first differing byte pair.
///
/// # Safety
/// The caller guarantees both ranges readable for `n` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    if n == 0 {
        return 0;
    }
    let (end_a, end_b): (*const u8, *const u8);
    // SAFETY: both ranges are readable for n >= 1 bytes (C contract). `repe
    // cmpsb` stops after the first differing pair or after n pairs; either
    // way rsi/rdi end one past the last pair compared, which lies in range.
    unsafe {
        asm!(
            "repe cmpsb",
            inout("rcx") n => _,
            inout("rsi") a => end_a,
            inout("rdi") b => end_b,
            options(nostack, readonly)
        );
    }
    let (last_a, last_b) = (end_a.wrapping_sub(1), end_b.wrapping_sub(1));
    // SAFETY: last_a is the last byte of `a` compared (see above), inside the
    // caller's range. If the last pair is equal, every pair was equal.
    let x = unsafe { *last_a };
    // SAFETY: as for last_a, in `b`.
    let y = unsafe { *last_b };
    i32::from(x) - i32::from(y)
}

/// `bcmp(a, b, n)`: zero iff equal.
///
/// # Safety
/// The caller guarantees both ranges readable for `n` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: same contract as memcmp, forwarded unchanged.
    unsafe { memcmp(a, b, n) }
}

/// Referenced by the prebuilt `core`'s `.eh_frame`; never called because
/// every profile of both loaders uses `panic = "abort"`.
#[unsafe(no_mangle)]
pub extern "C" fn rust_eh_personality() {}
