//! WASM_SEG payloads (WasmSegment::parse: both header layouts, module or
//! RuvBot bundle) and raw bundles (Bundle::parse + iteration).
//!
//! The same bytes are tried as a WASM_SEG payload and, separately, as a bare
//! bundle, so bundle-table mutations are reached without the 64-byte header.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rvf_boot_fuzz::invariants::check_wasm(data, 0x40);
    rvf_boot_fuzz::invariants::check_bundle(data);
});
