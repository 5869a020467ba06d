//! bzImage validation, boot plan (fixed SeaBIOS-like memory map), command
//! line and zero page.
//!
//! Input: `n` (u8) ‖ `n` bytes of RVF cmdline ‖ the bzImage.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let n = usize::from(n).min(rest.len());
    let (cmdline, image) = rest.split_at(n);
    rvf_boot_fuzz::invariants::check_boot_chain(image, cmdline);
});
