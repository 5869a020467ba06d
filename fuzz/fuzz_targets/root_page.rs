//! The RVM0 root page (src/root_page.rs): RootPage::parse (magic, version,
//! CRC32C, sig_algo/sig_length), the signed message and Ed25519 verification
//! against the golden signer's key, a wrong key and no key.
//!
//! The CRC32C covers the whole page, so most mutations stop at RootPageCrc;
//! when the input's CRC field is 0 the target fixes it up first (the seed
//! corpus has one such page), so the fields after the CRC check get fuzzed too.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rvf_boot_fuzz::invariants::check_root_page(data);
    if data.len() == 4096 && data[0xFFC..] == [0, 0, 0, 0] {
        let mut page = data.to_vec();
        let crc = rvf_boot::root_page::CRC32C.checksum(&page[..0xFFC]);
        page[0xFFC..].copy_from_slice(&crc.to_le_bytes());
        rvf_boot_fuzz::invariants::check_root_page(&page);
    }
});
