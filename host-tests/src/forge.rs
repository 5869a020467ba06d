//! Forging a signed store (rvf-runtime's `create_signed` layout: segments,
//! a signed manifest with its SHDG table, an RVM0 root page at the end) the
//! way an attacker who cannot sign would: rewrite what is hashed and re-hash
//! everything up to the signature, which is left as it was.

use rvf_boot::checksum::shake256;
use rvf_boot::root_page::CRC32C;

/// Size of the RVM0 root page at the end of a signed store.
pub const PAGE: usize = 4096;

fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// Where the root page starts.
pub fn page_at(f: &[u8]) -> usize {
    f.len() - PAGE
}

/// The signed manifest's header offset and payload length (the page names it).
pub fn manifest(f: &[u8]) -> (usize, usize) {
    let p = page_at(f);
    let at = le64(f, p + 0x08) as usize;
    (at, le64(f, at + 0x10) as usize)
}

/// Recomputes the root page's CRC32C.
pub fn fix_crc(f: &mut [u8]) {
    let p = page_at(f);
    let crc = CRC32C.checksum(&f[p..p + 0xFFC]);
    f[p + 0xFFC..p + PAGE].copy_from_slice(&crc.to_le_bytes());
}

/// Rewrites the SHDG entry of segment `id` in the signed manifest.
pub fn rewrite_shdg(f: &mut [u8], id: u64, h: &[u8; 16]) {
    let (m, len) = manifest(f);
    let payload = &f[m + 64..m + 64 + len];
    let tag = payload
        .windows(4)
        .rposition(|w| w == b"SHDG")
        .expect("SHDG");
    let count = u32::from_le_bytes(payload[tag + 4..tag + 8].try_into().unwrap()) as usize;
    let entry = (0..count)
        .map(|i| m + 64 + tag + 8 + 24 * i)
        .find(|&at| le64(f, at) == id)
        .expect("SHDG entry");
    f[entry + 8..entry + 24].copy_from_slice(h);
}

/// Re-hashes the signed manifest (header and the page's commitment) and fixes
/// the page CRC; the signature is left as it was.
pub fn rehash_manifest_and_page(f: &mut [u8]) {
    let (m, len) = manifest(f);
    let h = shake256(&f[m + 64..m + 64 + len]);
    f[m + 0x28..m + 0x38].copy_from_slice(&h);
    let p = page_at(f);
    f[p + 0xFD0..p + 0xFE0].copy_from_slice(&h);
    fix_crc(f);
}
