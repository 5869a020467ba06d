//! KernelSegment::parse_unverified on a fuzzed KERNEL_SEG payload wrapped in
//! a segment header, then (unset content hash, lax policy) extraction into a
//! bounded buffer and the boot chain.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rvf_boot_fuzz::invariants::check_kernel_payload(data);
});
