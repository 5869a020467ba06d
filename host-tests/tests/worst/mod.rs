//! Worst-case RVF files for the bounded-work test (`tests/bounded_work.rs`)
//! and benchmark (`benches/worst_case.rs`), and the "normal" file of the same
//! size they are compared with. Small local builders: they move to the shared
//! test-kit crate when it lands.
#![allow(dead_code)]

use rvf_boot::checksum::ContentHash;
use rvf_boot::kernel::KERNEL_MAGIC;
use rvf_boot::segment::{MAX_SEGMENTS, SEGMENT_MAGIC};

/// Every case is this big (32 MiB).
pub const SIZE: usize = 32 << 20;
pub const VEC: u8 = 0x01;
pub const MANIFEST: u8 = 0x05;
pub const KERNEL: u8 = 0x0E;

/// How a case is hashed and laid out.
#[derive(Clone, Copy, Debug)]
pub enum Style {
    /// Legacy rvf-runtime: unpadded, CRC-32 rot4 (algo 0), timestamp 0.
    Legacy,
    /// RuvBot: unpadded, SHA-256[0..16] (algo 0), a real timestamp.
    RuvBot,
    /// rvf-runtime ≥ 0.4: padded to 64 bytes, XXH3-128 (algo 1).
    Wire,
}

/// A file under construction: segments appended in order.
pub struct Builder {
    pub file: Vec<u8>,
    pub style: Style,
    pub segments: u64,
    /// Payload bytes of every segment (what hashing them all once costs).
    pub payload_bytes: u64,
}

impl Builder {
    pub fn new(style: Style) -> Self {
        Self {
            file: Vec::with_capacity(SIZE + 4096),
            style,
            segments: 0,
            payload_bytes: 0,
        }
    }

    /// Appends a segment; returns `(id, offset, payload_length, type)` for the directory.
    pub fn seg(&mut self, ty: u8, payload: &[u8]) -> (u64, u64, u64, u8) {
        let id = self.segments + 1;
        let offset = self.file.len() as u64;
        let mut h = [0u8; 64];
        h[0..4].copy_from_slice(&SEGMENT_MAGIC.to_le_bytes());
        h[4] = 1;
        h[5] = ty;
        h[8..16].copy_from_slice(&id.to_le_bytes());
        h[0x10..0x18].copy_from_slice(&(payload.len() as u64).to_le_bytes());
        let (algo, hash, ts) = match self.style {
            Style::Legacy => (0, ContentHash::Crc32Rot4, 0u64),
            Style::RuvBot => (0, ContentHash::Sha256Trunc, 1_771_628_831_961_999_872),
            Style::Wire => (1, ContentHash::Xxh3_128, 0),
        };
        h[0x18..0x20].copy_from_slice(&ts.to_le_bytes());
        h[0x20] = algo;
        h[0x28..0x38].copy_from_slice(&hash.digest(payload));
        let pad = match self.style {
            Style::Wire => (64 - (64 + payload.len()) % 64) % 64,
            _ => 0,
        };
        h[0x3C..0x40].copy_from_slice(&(pad as u32).to_le_bytes());
        self.file.extend_from_slice(&h);
        self.file.extend_from_slice(payload);
        self.file.resize(self.file.len() + pad, 0);
        self.segments += 1;
        self.payload_bytes += payload.len() as u64;
        (id, offset, payload.len() as u64, ty)
    }

    /// Appends the manifest listing `entries`.
    pub fn manifest(&mut self, entries: &[(u64, u64, u64, u8)]) {
        let p = manifest(entries);
        self.seg(MANIFEST, &p);
    }

    /// Bytes left to reach [`SIZE`] after `reserve` more bytes.
    pub fn room(&self, reserve: usize) -> usize {
        SIZE.saturating_sub(self.file.len() + reserve)
    }

    /// Pads the file with zeros to [`SIZE`].
    pub fn zero_tail(mut self) -> Vec<u8> {
        self.file.resize(SIZE, 0);
        self.file
    }
}

/// A manifest payload listing `(id, offset, len, type)`.
pub fn manifest(entries: &[(u64, u64, u64, u8)]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&1u32.to_le_bytes());
    v.extend_from_slice(&[0; 10]);
    v.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    v.extend_from_slice(&[0x42, 0, 0, 0]);
    for &(id, off, len, ty) in entries {
        v.extend_from_slice(&id.to_le_bytes());
        v.extend_from_slice(&off.to_le_bytes());
        v.extend_from_slice(&len.to_le_bytes());
        v.push(ty);
    }
    v.extend_from_slice(&0u32.to_le_bytes());
    v
}

/// A crate-layout (simple, raw) kernel payload: header ‖ image ‖ cmdline.
pub fn kernel(image: &[u8], cmdline: &[u8]) -> Vec<u8> {
    let mut h = vec![0u8; 128];
    h[0..4].copy_from_slice(&KERNEL_MAGIC.to_le_bytes());
    h[4] = 1;
    h[6] = 1;
    h[0x18..0x20].copy_from_slice(&(image.len() as u64).to_le_bytes());
    h[0x20..0x28].copy_from_slice(&(image.len() as u64).to_le_bytes());
    h[0x30..0x50].copy_from_slice(&rvf_boot::image_hash::digest(
        rvf_boot::image_hash::ImageHash::Sha3_256,
        image,
    ));
    h[0x78..0x7C].copy_from_slice(&(cmdline.len() as u32).to_le_bytes());
    h.extend_from_slice(image);
    h.extend_from_slice(cmdline);
    h
}

/// One worst case.
pub struct Case {
    pub name: &'static str,
    pub file: Vec<u8>,
    /// Complete segments in the file.
    pub segments: u64,
    /// Directory entries of the winning manifest.
    pub entries: u64,
    /// Payload bytes of every segment.
    pub payload_bytes: u64,
    /// Whether the file is valid (else `Container::parse` refuses it).
    pub valid: bool,
}

fn small_kernel() -> Vec<u8> {
    kernel(b"IMAGE-BYTES", b"console=ttyS0")
}

/// The old attack: 1024 directory entries naming one small segment, then a
/// long zero tail. Refused (`DirectoryDuplicate`) after one walk.
pub fn duplicate_entries_zero_tail() -> Case {
    let mut b = Builder::new(Style::RuvBot);
    let k = b.seg(KERNEL, &small_kernel());
    b.manifest(&vec![k; MAX_SEGMENTS as usize]);
    let (segments, payload_bytes) = (b.segments, b.payload_bytes);
    Case {
        name: "1024 entries naming one segment + zero tail",
        file: b.zero_tail(),
        segments,
        entries: u64::from(MAX_SEGMENTS),
        payload_bytes,
        valid: false,
    }
}

/// A kernel, its manifest, then 32 MiB of zeros.
pub fn zero_tail_after_manifest() -> Case {
    let mut b = Builder::new(Style::RuvBot);
    let k = b.seg(KERNEL, &small_kernel());
    b.manifest(&[k]);
    let (segments, payload_bytes) = (b.segments, b.payload_bytes);
    Case {
        name: "zero tail after the manifest",
        file: b.zero_tail(),
        segments,
        entries: 1,
        payload_bytes,
        valid: true,
    }
}

/// As many segments as the walk takes: a kernel, 1021 one-byte segments and
/// one large one, all listed; `style` picks the layout (Wire: every segment
/// but the last followed by 63 bytes of zero fill, the most there can be).
pub fn tiny_segments(style: Style, name: &'static str, tail: bool) -> Case {
    let mut b = Builder::new(style);
    let mut entries = vec![b.seg(KERNEL, &small_kernel())];
    let n = MAX_SEGMENTS as usize - 3;
    for _ in 0..n {
        entries.push(b.seg(VEC, &[0xA5]));
    }
    let manifest_len = manifest(&vec![(0, 0, 0, 0); n + 2]).len() + 64;
    let big = if tail {
        1 << 20
    } else {
        b.room(64 + manifest_len + 63)
    };
    entries.push(b.seg(VEC, &vec![0x5A; big]));
    b.manifest(&entries);
    let (segments, payload_bytes) = (b.segments, b.payload_bytes);
    let file = if tail { b.zero_tail() } else { b.file };
    Case {
        name,
        file,
        segments,
        entries: entries.len() as u64,
        payload_bytes,
        valid: true,
    }
}

/// Zeros up to the end, then one byte that is not: a torn tail found after
/// scanning 32 MiB of zeros once.
pub fn torn_tail_after_zeros() -> Case {
    let mut c = zero_tail_after_manifest();
    c.name = "zero tail ending in a torn byte";
    *c.file.last_mut().unwrap() = 0x01;
    c
}

/// A legacy manifest of 32 MiB (deleted ids) listing one kernel.
pub fn huge_manifest() -> Case {
    let mut b = Builder::new(Style::Legacy);
    let k = b.seg(KERNEL, &small_kernel());
    let mut m = manifest(&[k]);
    let ids = (b.room(64 + m.len()) / 8) as u32;
    let n = m.len();
    m[n - 4..].copy_from_slice(&ids.to_le_bytes());
    m.resize(n + ids as usize * 8, 0x11);
    b.seg(MANIFEST, &m);
    let (segments, payload_bytes) = (b.segments, b.payload_bytes);
    Case {
        name: "32 MiB manifest (deleted ids)",
        file: b.file,
        segments,
        entries: 1,
        payload_bytes,
        valid: true,
    }
}

/// The normal file of the same size: one kernel with a 32 MiB raw image and
/// its manifest (RuvBot hashes).
pub fn normal() -> Case {
    let mut b = Builder::new(Style::RuvBot);
    let image = vec![0xC3u8; b.room(64 + 128 + 13 + 64 + 47)];
    let k = b.seg(KERNEL, &kernel(&image, b"console=ttyS0"));
    b.manifest(&[k]);
    let (segments, payload_bytes) = (b.segments, b.payload_bytes);
    Case {
        name: "normal: one 32 MiB kernel",
        file: b.file,
        segments,
        entries: 1,
        payload_bytes,
        valid: true,
    }
}

/// Every worst case.
pub fn all() -> Vec<Case> {
    vec![
        duplicate_entries_zero_tail(),
        zero_tail_after_manifest(),
        torn_tail_after_zeros(),
        tiny_segments(
            Style::Legacy,
            "1024 tiny segments, all listed (legacy)",
            false,
        ),
        tiny_segments(
            Style::RuvBot,
            "1024 tiny segments + zero tail (ruvbot)",
            true,
        ),
        tiny_segments(
            Style::Wire,
            "1024 segments each followed by 63 fill bytes (wire)",
            false,
        ),
        huge_manifest(),
    ]
}
