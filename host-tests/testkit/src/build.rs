//! Byte builders the tests share: segments, manifests, kernel payloads and a
//! minimal bzImage, written from the format (docs/format.md), never from the
//! library under test.

use sha2::{Digest, Sha256};
use sha3::Sha3_256;

/// Segment header magic "RVFS" as a little-endian u32 (§1).
pub const SEGMENT_MAGIC: u32 = 0x5256_4653;
/// KernelHeader magic "RVKN" (§1).
pub const KERNEL_MAGIC: u32 = 0x5256_4B4E;
/// KERNEL_SEG.
pub const KERNEL: u8 = 0x0E;
/// MANIFEST_SEG.
pub const MANIFEST: u8 = 0x05;

/// SHA-256[0..16]: the RuvBot content hash (§2.4, algo 0).
pub fn sha256_16(payload: &[u8]) -> [u8; 16] {
    let d = Sha256::digest(payload);
    let mut out = [0u8; 16];
    out.copy_from_slice(&d[..16]);
    out
}

/// An unpadded segment (header ‖ payload) with `checksum_algo` 0 and a
/// SHA-256[0..16] content hash (§2.1, §2.4).
pub fn segment(ty: u8, id: u64, payload: &[u8]) -> Vec<u8> {
    let mut s = segment_unhashed(ty, payload);
    s[8..16].copy_from_slice(&id.to_le_bytes());
    s[0x28..0x38].copy_from_slice(&sha256_16(payload));
    s
}

/// An unpadded segment with id 0 and an unset (all-zero) content hash.
pub fn segment_unhashed(ty: u8, payload: &[u8]) -> Vec<u8> {
    raw_segment(ty, 0, payload, false)
}

/// A segment with an unset (all-zero) content hash: header ‖ payload, and
/// with `pad` the wire dialect's zero padding to a multiple of 64 with
/// `alignment_pad` set (§2.5).
pub fn raw_segment(ty: u8, id: u64, payload: &[u8], pad: bool) -> Vec<u8> {
    let total = 64 + payload.len();
    let padlen = if pad { (64 - total % 64) % 64 } else { 0 };
    let mut s = vec![0u8; 64];
    s[0..4].copy_from_slice(&SEGMENT_MAGIC.to_le_bytes());
    s[4] = 1;
    s[5] = ty;
    s[8..16].copy_from_slice(&id.to_le_bytes());
    s[0x10..0x18].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    s[0x3C..0x40].copy_from_slice(&(padlen as u32).to_le_bytes());
    s.extend_from_slice(payload);
    s.resize(s.len() + padlen, 0);
    s
}

/// A manifest payload (§3.3) listing `(id, header offset, payload_length,
/// type)`: epoch 1, profile 0x42, del_count 0, no trailers.
pub fn manifest(entries: &[(u64, u64, u64, u8)]) -> Vec<u8> {
    crate::ruvbot::manifest(entries)
}

/// A crate-layout (simple, §4.3) raw kernel payload: header ‖ image ‖
/// cmdline, `image_hash` = SHA3-256(image) (§4.4), `cmdline_offset` 128 (never
/// trusted).
pub fn crate_kernel(image: &[u8], cmdline: &[u8]) -> Vec<u8> {
    let mut h = vec![0u8; 128];
    h[0..4].copy_from_slice(&KERNEL_MAGIC.to_le_bytes());
    h[4] = 1;
    h[6] = 1;
    h[0x18..0x20].copy_from_slice(&(image.len() as u64).to_le_bytes());
    h[0x20..0x28].copy_from_slice(&(image.len() as u64).to_le_bytes());
    h[0x30..0x50].copy_from_slice(&Sha3_256::digest(image));
    h[0x70..0x78].copy_from_slice(&128u64.to_le_bytes());
    h[0x78..0x7C].copy_from_slice(&(cmdline.len() as u32).to_le_bytes());
    h.extend_from_slice(image);
    h.extend_from_slice(cmdline);
    h
}

/// KERNEL_SEG (id 1) at 0, then a MANIFEST_SEG (id 2) listing `entries`
/// (default: the kernel alone).
pub fn file_with(kpayload: &[u8], entries: Option<&[(u64, u64, u64, u8)]>) -> Vec<u8> {
    let mut f = segment(KERNEL, 1, kpayload);
    let own = [(1, 0, kpayload.len() as u64, KERNEL)];
    f.extend(segment(MANIFEST, 2, &manifest(entries.unwrap_or(&own))));
    f
}

/// A valid, minimal bzImage (boot protocol 2.15, non-relocatable, 16 MiB
/// pref_address, 1 KiB setup, 2 KiB protected-mode part, 64-bit entry).
pub fn bzimage() -> Vec<u8> {
    let mut b = vec![0u8; 1024 + 2048];
    b[0x1F1] = 1; // setup_sects: (1 + 1) * 512 = 1024
    b[0x1FE..0x200].copy_from_slice(&0xAA55u16.to_le_bytes());
    b[0x200] = 0xEB;
    b[0x201] = 0x6A; // header ends at 0x26C
    b[0x202..0x206].copy_from_slice(b"HdrS");
    b[0x206..0x208].copy_from_slice(&0x020Fu16.to_le_bytes());
    b[0x211] = 1; // LOADED_HIGH
    b[0x22C..0x230].copy_from_slice(&0x7FFF_FFFFu32.to_le_bytes()); // initrd_addr_max
    b[0x230..0x234].copy_from_slice(&0x20_0000u32.to_le_bytes()); // kernel_alignment
    b[0x236..0x238].copy_from_slice(&1u16.to_le_bytes()); // XLF_KERNEL_64
    b[0x238..0x23C].copy_from_slice(&2047u32.to_le_bytes()); // cmdline_size
    b[0x258..0x260].copy_from_slice(&0x100_0000u64.to_le_bytes()); // pref_address
    b[0x260..0x264].copy_from_slice(&0x10_0000u32.to_le_bytes()); // init_size
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_have_the_documented_bytes() {
        let s = segment(KERNEL, 7, b"abc");
        assert_eq!(s.len(), 67);
        assert_eq!(&s[0..6], &[0x53, 0x46, 0x56, 0x52, 1, KERNEL]);
        assert_eq!(s[8], 7);
        assert_eq!(s[0x10], 3);
        // SHA-256[0..16] of "abc" (docs/format.md §2.4).
        assert_eq!(
            s[0x28..0x38],
            [
                0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae,
                0x22, 0x23
            ]
        );
        let p = raw_segment(MANIFEST, 2, b"xy", true);
        assert_eq!(p.len(), 128);
        assert_eq!(p[0x3C], 62);
        assert!(p[66..].iter().all(|&b| b == 0));
        assert_eq!(raw_segment(MANIFEST, 2, b"xy", false).len(), 66);
    }

    #[test]
    fn manifest_and_kernel_lengths() {
        assert_eq!(manifest(&[(1, 0, 3, KERNEL)]).len(), 22 + 25 + 4);
        let k = crate_kernel(&[1, 2, 3], b"ro");
        assert_eq!(k.len(), 128 + 3 + 2);
        assert_eq!(k[0x78], 2);
        assert_eq!(bzimage().len(), 3072);
    }
}
