//! ELF vmlinux: `Vmlinux::parse`, `elf::plan` (fixed SeaBIOS-like memory
//! map, a stub and an initrd occupied) and `zero_page::build_for_elf`.
//!
//! Input: the image itself.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rvf_boot_fuzz::elf_invariants::check_elf_chain(data);
});
