//! gzip::inflate (with a fuzzed chunk size) into a fixed, bounded buffer.
//!
//! Input: `image_size` (u32 LE) ‖ chunk selector (u8) ‖ stored gzip member.
//! Chunk selector 0 means the library default (`gzip::CHUNK`), n > 0 means
//! `n * 61` bytes per decompressor call. Besides the invariants of
//! `check_inflate` (among them: `inflate_joined` with the same engine and
//! `Sequential` gives exactly `inflate`'s output, info and error), every
//! accepted member is inflated again by an independent
//! decoder (zlib-rs through flate2) which must produce the same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::io::Read;

fuzz_target!(|data: &[u8]| {
    if data.len() < 5 {
        return;
    }
    let declared = u64::from(u32::from_le_bytes(data[..4].try_into().unwrap()));
    let chunk = match data[4] {
        0 => rvf_boot::gzip::CHUNK,
        n => usize::from(n) * 61,
    };
    let stored = &data[5..];
    if let Some(image) = rvf_boot_fuzz::invariants::check_inflate(stored, declared, chunk) {
        let mut reference = Vec::new();
        let mut d = flate2::read::GzDecoder::new(stored);
        d.read_to_end(&mut reference)
            .expect("an independent gzip decoder accepts what rvf-boot accepted");
        assert_eq!(
            reference, image,
            "rvf-boot and zlib-rs inflate to the same bytes"
        );
    }
});
