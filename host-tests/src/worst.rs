//! Worst-case RVF files for the bounded-work test (`tests/bounded_work.rs`)
//! and benchmark (`benches/worst_case.rs`), and the "normal" file of the same
//! size they are compared with: only the cases; the bytes come from the test
//! kit's [`FileBuilder`].

use rvf_boot::segment::MAX_SEGMENTS;
use rvf_testkit::build::{FileBuilder, crate_kernel, manifest};
pub use rvf_testkit::build::{KERNEL, MANIFEST, Style};

/// Every case is this big (32 MiB).
pub const SIZE: usize = 32 << 20;
/// VEC_SEG.
pub const VEC: u8 = 0x01;

fn builder(style: Style) -> FileBuilder {
    FileBuilder::with_capacity(style, SIZE + 4096)
}

/// Bytes left to reach [`SIZE`] after `reserve` more bytes.
fn room(b: &FileBuilder, reserve: usize) -> usize {
    SIZE.saturating_sub(b.file.len() + reserve)
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
    crate_kernel(b"IMAGE-BYTES", b"console=ttyS0")
}

/// The old attack: 1024 directory entries naming one small segment, then a
/// long zero tail. Refused (`DirectoryDuplicate`) after one walk.
pub fn duplicate_entries_zero_tail() -> Case {
    let mut b = builder(Style::RuvBot);
    let k = b.seg(KERNEL, &small_kernel());
    b.manifest(&vec![k; MAX_SEGMENTS as usize]);
    let (segments, payload_bytes) = (b.segments, b.payload_bytes);
    Case {
        name: "1024 entries naming one segment + zero tail",
        file: b.zero_filled_to(SIZE),
        segments,
        entries: u64::from(MAX_SEGMENTS),
        payload_bytes,
        valid: false,
    }
}

/// A kernel, its manifest, then 32 MiB of zeros.
pub fn zero_tail_after_manifest() -> Case {
    let mut b = builder(Style::RuvBot);
    let k = b.seg(KERNEL, &small_kernel());
    b.manifest(&[k]);
    let (segments, payload_bytes) = (b.segments, b.payload_bytes);
    Case {
        name: "zero tail after the manifest",
        file: b.zero_filled_to(SIZE),
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
    let mut b = builder(style);
    let mut entries = vec![b.seg(KERNEL, &small_kernel())];
    let n = MAX_SEGMENTS as usize - 3;
    for _ in 0..n {
        entries.push(b.seg(VEC, &[0xA5]));
    }
    let manifest_len = manifest(&vec![(0, 0, 0, 0); n + 2]).len() + 64;
    let big = if tail {
        1 << 20
    } else {
        room(&b, 64 + manifest_len + 63)
    };
    entries.push(b.seg(VEC, &vec![0x5A; big]));
    b.manifest(&entries);
    let (segments, payload_bytes) = (b.segments, b.payload_bytes);
    let file = if tail { b.zero_filled_to(SIZE) } else { b.file };
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
    let mut b = builder(Style::Legacy);
    let k = b.seg(KERNEL, &small_kernel());
    let mut m = manifest(&[k]);
    let ids = (room(&b, 64 + m.len()) / 8) as u32;
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
    let mut b = builder(Style::RuvBot);
    let image = vec![0xC3u8; room(&b, 64 + 128 + 13 + 64 + 47)];
    let k = b.seg(KERNEL, &crate_kernel(&image, b"console=ttyS0"));
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
