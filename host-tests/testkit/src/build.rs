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
    let padlen = pad_len(payload.len(), pad);
    let mut s = header(ty, id, payload.len(), padlen).to_vec();
    s.extend_from_slice(payload);
    s.resize(s.len() + padlen, 0);
    s
}

/// The zero fill after a payload of `len` bytes: with `pad`, up to the next
/// multiple of 64 of header ‖ payload (§2.5), else none.
fn pad_len(len: usize, pad: bool) -> usize {
    if pad { (64 - (64 + len) % 64) % 64 } else { 0 }
}

/// A segment header (§2.1): version 1, `ty`, `id`, `payload_length`,
/// `alignment_pad`; timestamp, checksum algo and content hash all zero.
fn header(ty: u8, id: u64, payload_len: usize, padlen: usize) -> [u8; 64] {
    let mut h = [0u8; 64];
    h[0..4].copy_from_slice(&SEGMENT_MAGIC.to_le_bytes());
    h[4] = 1;
    h[5] = ty;
    h[8..16].copy_from_slice(&id.to_le_bytes());
    h[0x10..0x18].copy_from_slice(&(payload_len as u64).to_le_bytes());
    h[0x3C..0x40].copy_from_slice(&(padlen as u32).to_le_bytes());
    h
}

/// CRC-32 (IEEE) rotated into four lanes: the legacy rvf-runtime content
/// hash (§2.4, algo 0).
pub fn crc32_rot4(payload: &[u8]) -> [u8; 16] {
    let c = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(payload);
    let mut out = [0u8; 16];
    for (lane, rot) in out.chunks_exact_mut(4).zip([0u32, 8, 16, 24]) {
        lane.copy_from_slice(&c.rotate_left(rot).to_le_bytes());
    }
    out
}

/// XXH3-128, seed 0, little-endian: the wire content hash (§2.4, algo 1).
pub fn xxh3_128(payload: &[u8]) -> [u8; 16] {
    xxhash_rust::xxh3::xxh3_128(payload).to_le_bytes()
}

/// How a [`FileBuilder`] lays out and hashes its segments: the three
/// writers' styles (§2.4, §2.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Legacy rvf-runtime: unpadded, CRC-32 rot4 (algo 0), timestamp 0.
    Legacy,
    /// RuvBot: unpadded, SHA-256[0..16] (algo 0), the golden files' timestamp.
    RuvBot,
    /// rvf-runtime ≥ 0.4: padded to 64 bytes, XXH3-128 (algo 1), timestamp 0.
    Wire,
}

impl Style {
    /// The header's `checksum_algo`.
    pub fn checksum_algo(self) -> u8 {
        match self {
            Self::Legacy | Self::RuvBot => 0,
            Self::Wire => 1,
        }
    }

    /// The 16-byte content hash this writer stores for `payload`.
    pub fn content_hash(self, payload: &[u8]) -> [u8; 16] {
        match self {
            Self::Legacy => crc32_rot4(payload),
            Self::RuvBot => sha256_16(payload),
            Self::Wire => xxh3_128(payload),
        }
    }

    /// Whether segments are zero-padded to a multiple of 64 bytes.
    pub fn padded(self) -> bool {
        self == Self::Wire
    }

    /// The header's `timestamp_ns`.
    pub fn timestamp_ns(self) -> u64 {
        match self {
            Self::RuvBot => crate::ruvbot::timestamp_ns(crate::ruvbot::GOLDEN_NOW_MS),
            Self::Legacy | Self::Wire => 0,
        }
    }
}

/// A file written segment by segment in one [`Style`]: ids 1, 2, … in order,
/// every content hash set; counts what it wrote.
pub struct FileBuilder {
    /// The bytes so far.
    pub file: Vec<u8>,
    /// The layout and hash of every segment.
    pub style: Style,
    /// Segments written.
    pub segments: u64,
    /// Payload bytes of every segment (what hashing them all once costs).
    pub payload_bytes: u64,
}

impl FileBuilder {
    /// An empty file with room for `capacity` bytes.
    pub fn with_capacity(style: Style, capacity: usize) -> Self {
        Self {
            file: Vec::with_capacity(capacity),
            style,
            segments: 0,
            payload_bytes: 0,
        }
    }

    /// Appends a segment (id = segments written + 1); returns its directory
    /// entry `(id, header offset, payload_length, type)`.
    pub fn seg(&mut self, ty: u8, payload: &[u8]) -> (u64, u64, u64, u8) {
        let id = self.segments + 1;
        let offset = self.file.len() as u64;
        let padlen = pad_len(payload.len(), self.style.padded());
        let mut h = header(ty, id, payload.len(), padlen);
        h[0x18..0x20].copy_from_slice(&self.style.timestamp_ns().to_le_bytes());
        h[0x20] = self.style.checksum_algo();
        h[0x28..0x38].copy_from_slice(&self.style.content_hash(payload));
        self.file.extend_from_slice(&h);
        self.file.extend_from_slice(payload);
        self.file.resize(self.file.len() + padlen, 0);
        self.segments += 1;
        self.payload_bytes += payload.len() as u64;
        (id, offset, payload.len() as u64, ty)
    }

    /// Appends a MANIFEST_SEG listing `entries` ([`manifest`]).
    pub fn manifest(&mut self, entries: &[(u64, u64, u64, u8)]) -> (u64, u64, u64, u8) {
        self.seg(MANIFEST, &manifest(entries))
    }

    /// The file, zero-filled to `len` bytes (a zero tail; never shortened).
    pub fn zero_filled_to(mut self, len: usize) -> Vec<u8> {
        self.file.resize(self.file.len().max(len), 0);
        self.file
    }
}

/// A manifest payload (§3.3) listing `(id, header offset, payload_length,
/// type)`: epoch 1, profile 0x42, del_count 0, no trailers.
pub fn manifest(entries: &[(u64, u64, u64, u8)]) -> Vec<u8> {
    crate::ruvbot::manifest(entries)
}

/// [`manifest`] with another `epoch` (§3.3).
pub fn manifest_epoch(epoch: u32, entries: &[(u64, u64, u64, u8)]) -> Vec<u8> {
    let mut m = manifest(entries);
    m[0..4].copy_from_slice(&epoch.to_le_bytes());
    m
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

/// `n` compressible bytes: a few words picked by [`noise`] (seed 3).
pub fn text(n: usize) -> Vec<u8> {
    let words: [&[u8]; 5] = [b"kernel ", b"segment ", b"the ", b"boot\n", b"0x1000 "];
    noise(3, n)
        .iter()
        .flat_map(|&b| words[b as usize % words.len()].iter().copied())
        .take(n)
        .collect()
}

/// `n` deterministic pseudo-random bytes (xorshift64*, top byte), for data
/// that does not compress.
pub fn noise(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
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

    #[test]
    fn file_builder_styles_have_the_documented_bytes() {
        let mut l = FileBuilder::with_capacity(Style::Legacy, 0);
        assert_eq!(l.seg(KERNEL, b"abc"), (1, 0, 3, KERNEL));
        assert_eq!(l.seg(0x01, b"x"), (2, 67, 1, 0x01));
        assert_eq!((l.segments, l.payload_bytes, l.file.len()), (2, 4, 132));
        assert_eq!(
            l.file[..64],
            {
                let mut h = raw_segment(KERNEL, 1, b"", false);
                h[0x10] = 3;
                // CRC-32("abc") = 0x352441C2, then rotated by 8, 16, 24.
                h[0x28..0x38].copy_from_slice(&[
                    0xC2, 0x41, 0x24, 0x35, 0x35, 0xC2, 0x41, 0x24, 0x24, 0x35, 0xC2, 0x41, 0x41,
                    0x24, 0x35, 0xC2,
                ]);
                h
            }[..]
        );

        let mut w = FileBuilder::with_capacity(Style::Wire, 0);
        w.seg(0x01, b"");
        w.seg(0x01, b"y");
        assert_eq!(w.file.len(), 64 + 128);
        assert_eq!(
            (w.file[0x20], w.file[64 + 0x20], w.file[64 + 0x3C]),
            (1, 1, 63)
        );
        // XXH3-128("") (docs/format.md §2.4).
        assert_eq!(
            w.file[0x28..0x38],
            [
                0x7f, 0x49, 0x8d, 0x46, 0x24, 0xc3, 0x01, 0x60, 0xd8, 0x98, 0x47, 0x01, 0xd3, 0x06,
                0xaa, 0x99
            ]
        );

        let mut r = FileBuilder::with_capacity(Style::RuvBot, 0);
        let k = r.seg(KERNEL, b"abc");
        r.manifest(&[k]);
        assert_eq!(
            r.file[..67],
            segment(KERNEL, 1, b"abc")[..0x18]
                .iter()
                .chain(&1_771_628_831_961_999_872u64.to_le_bytes())
                .chain(&segment(KERNEL, 1, b"abc")[0x20..])
                .copied()
                .collect::<Vec<_>>()[..]
        );
        assert_eq!(r.file[67 + 5], MANIFEST);
        assert_eq!(r.zero_filled_to(1000).len(), 1000);
        assert_eq!(manifest_epoch(7, &[k])[..4], [7, 0, 0, 0]);
        assert_eq!(manifest_epoch(1, &[k]), manifest(&[k]));
    }
}
