//! Runtime symbols the code generated for the gnu target calls (the
//! target's libc would provide them; gnu-efi's `libgnuefi.a` only brings
//! `_relocate`): `memcpy`, `memset`, `memmove`, `memcmp`, `bcmp`, and
//! `rust_eh_personality` (named by the prebuilt `core`'s unwind tables).
//!
//! Written with string instructions in inline assembly so that LLVM cannot
//! turn them back into calls to themselves. DF = 0 at every call (System V
//! and UEFI ABIs).

use core::arch::asm;

/// `memcpy(dest, src, n)`.
///
/// # Safety
/// The C contract: `src` readable and `dest` writable for `n` bytes, not
/// overlapping.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: valid, disjoint ranges by the C contract; `rep movsb` copies
    // exactly n bytes forward (DF = 0).
    unsafe {
        asm!("rep movsb", inout("rcx") n => _, inout("rdi") dest => _, inout("rsi") src => _,
             options(nostack, preserves_flags));
    }
    dest
}

/// `memset(dest, c, n)`.
///
/// # Safety
/// The C contract: `dest` writable for `n` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memset(dest: *mut u8, c: i32, n: usize) -> *mut u8 {
    let byte = c.to_le_bytes()[0];
    // SAFETY: dest writable for n bytes by the C contract; `rep stosb`
    // stores al n times forward (DF = 0).
    unsafe {
        asm!("rep stosb", inout("rcx") n => _, inout("rdi") dest => _, in("al") byte,
             options(nostack, preserves_flags));
    }
    dest
}

/// `memmove(dest, src, n)`.
///
/// # Safety
/// The C contract: `src` readable and `dest` writable for `n` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if n == 0 {
        return dest;
    }
    let (d, s) = (dest as usize, src as usize);
    if d <= s || d >= s.wrapping_add(n) {
        // SAFETY: valid ranges by the C contract; copying forward is correct
        // when the destination starts at or before the source or does not
        // overlap it; `rep movsb` copies exactly n bytes.
        unsafe {
            asm!("rep movsb", inout("rcx") n => _, inout("rdi") dest => _, inout("rsi") src => _,
                 options(nostack, preserves_flags));
        }
    } else {
        let (last_d, last_s) = (dest.wrapping_add(n - 1), src.wrapping_add(n - 1));
        // SAFETY: src < dest < src + n: copy backwards from the last byte of
        // each range (n >= 1) with DF set, then clear DF again.
        unsafe {
            asm!("std", "rep movsb", "cld", inout("rcx") n => _, inout("rdi") last_d => _,
                 inout("rsi") last_s => _, options(nostack));
        }
    }
    dest
}

/// `memcmp(a, b, n)`: the sign of the first differing byte pair.
///
/// # Safety
/// The C contract: both ranges readable for `n` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    if n == 0 {
        return 0;
    }
    let (end_a, end_b): (*const u8, *const u8);
    // SAFETY: both ranges readable for n >= 1 bytes; `repe cmpsb` stops after
    // the first differing pair or after n pairs, leaving rsi/rdi one past the
    // last pair compared.
    unsafe {
        asm!("repe cmpsb", inout("rcx") n => _, inout("rsi") a => end_a, inout("rdi") b => end_b,
             options(nostack, readonly));
    }
    // SAFETY: one before end_a is the last byte of `a` compared, in range.
    let x = unsafe { end_a.wrapping_sub(1).read() };
    // SAFETY: likewise in `b`.
    let y = unsafe { end_b.wrapping_sub(1).read() };
    i32::from(x) - i32::from(y)
}

/// `bcmp(a, b, n)`: zero iff equal.
///
/// # Safety
/// As `memcmp`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: the same contract, forwarded.
    unsafe { memcmp(a, b, n) }
}

/// Named by the prebuilt `core`'s unwind tables; never called: every profile
/// uses `panic = "abort"`.
#[unsafe(no_mangle)]
pub extern "C" fn rust_eh_personality() {}
