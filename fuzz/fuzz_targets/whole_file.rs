//! The whole-file path: Container::parse (walk, manifest, directory checks,
//! content hashes) under both policies, every listed kernel, the selected
//! kernel, extraction into a bounded buffer (image_size <= 1 MiB, else
//! skipped), listed WASM segments, and the boot chain on an extracted image.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rvf_boot_fuzz::invariants::check_whole_file(data);
});
