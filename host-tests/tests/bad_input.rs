//! The rows of the "What bad input gets" table (docs/bad-input.md) that no
//! other test proved: aliased regions, sizes near u64::MAX in the kernel
//! header, reserved segment-header fields, the bounded worst-case walk,
//! the single borrowed input (TOCTOU), and the no-panic lint wall.

use rvf_boot::gzip::InflateState;
use rvf_boot::image;
use rvf_boot::kernel::{HeaderField, KernelLayout};
use rvf_boot::segment::{MAX_SEGMENTS, SEGMENT_MAGIC, SegmentField, Work};
use rvf_boot::{Container, Error, Policy};
use std::path::PathBuf;

// The shared builders (host-tests/testkit): a legacy (unpadded) segment with a
// SHA-256[0..16] content hash, a manifest payload listing `(id, offset, len,
// type)`, a crate-layout (simple) raw kernel payload with a SHA3-256
// `image_hash`, and a kernel @0 + manifest file.
use rvf_testkit::build::{
    KERNEL, MANIFEST, crate_kernel as kernel, file_with, manifest, segment as seg,
};

fn extract_ok(c: &Container<'_>) -> Vec<u8> {
    let k = c.selected_kernel().unwrap();
    let mut out = vec![0u8; image::buffer_size(&k) as usize];
    let mut st = Box::<InflateState>::default();
    image::extract(&k, &mut out, &mut st)
        .unwrap()
        .bytes()
        .to_vec()
}

/// Overlapping regions, cmdline over image: the header's cmdline offset
/// (crate 0x70, RuvBot 0x6C) is never used. Pointing it into the image (or
/// anywhere) changes nothing: image and cmdline are placed by their lengths,
/// back to back, so they can never alias.
#[test]
fn cmdline_offset_into_the_image_is_ignored() {
    let image = b"IMAGE-BYTES-0123456789";
    let mut kp = kernel(image, b"console=ttyS0");
    for bogus in [128u64 + 2, 0, u64::MAX, 1 << 40] {
        kp[0x70..0x78].copy_from_slice(&bogus.to_le_bytes());
        let f = file_with(&kp, None);
        let c = Container::parse(&f, Policy::default()).unwrap();
        let k = c.selected_kernel().unwrap();
        assert_eq!(k.layout(), KernelLayout::Simple);
        assert_eq!(k.cmdline(), b"console=ttyS0");
        assert_eq!(k.stored_unverified(), image);
        assert_eq!(extract_ok(&c), image);
    }
}

/// Overlapping regions, two kernels: two directory entries naming the same
/// KERNEL_SEG (no writer lists a segment twice) are refused with
/// `DirectoryDuplicate`; every writer lists segments in file order, and an
/// entry naming a segment before the previous entry's is `DirectoryOrder`.
/// Two distinct KERNEL_SEGs in file order are both checked and the first in
/// directory order is selected; `kernel_at` picks the other.
#[test]
fn aliased_and_duplicate_kernels() {
    let kp = kernel(b"first", b"a=1");
    let n = kp.len() as u64;
    let twice = [(1, 0, n, KERNEL), (1, 0, n, KERNEL)];
    let f = file_with(&kp, Some(&twice));
    assert_eq!(
        Container::parse(&f, Policy::default()).unwrap_err(),
        Error::DirectoryDuplicate {
            entry: 1,
            first: 0,
            offset: 0
        }
    );

    // Two distinct kernels; the directory lists the second one first.
    let k2 = kernel(b"second", b"b=2");
    let mut f = seg(KERNEL, 1, &kp);
    let at2 = f.len() as u64;
    f.extend(seg(KERNEL, 7, &k2));
    let body = f.clone();
    f.extend(seg(
        MANIFEST,
        2,
        &manifest(&[(7, at2, k2.len() as u64, KERNEL), (1, 0, n, KERNEL)]),
    ));
    assert_eq!(
        Container::parse(&f, Policy::default()).unwrap_err(),
        Error::DirectoryOrder {
            entry: 1,
            offset: 0,
            previous: at2
        }
    );

    // The same two kernels listed in file order.
    let mut f = body;
    f.extend(seg(
        MANIFEST,
        2,
        &manifest(&[(1, 0, n, KERNEL), (7, at2, k2.len() as u64, KERNEL)]),
    ));
    let c = Container::parse(&f, Policy::default()).unwrap();
    let ks: Vec<_> = c.kernels().map(Result::unwrap).collect();
    assert_eq!(ks.len(), 2);
    assert_eq!(c.selected_kernel().unwrap().segment_offset(), 0);
    assert_eq!(extract_ok(&c), b"first");
    assert_eq!(c.kernel_at(at2).unwrap().cmdline(), b"b=2");
    assert_eq!(c.kernel_at(0).unwrap().cmdline(), b"a=1");
}

/// Overlapping regions, a segment header forged inside another segment's
/// payload: the walk never looks inside payloads, so a directory entry
/// naming the forged header is refused.
#[test]
fn directory_entry_at_a_header_forged_inside_a_payload() {
    let inner = seg(KERNEL, 9, &kernel(b"evil", b""));
    let mut outer_payload = vec![0u8; 64];
    outer_payload.extend_from_slice(&inner);
    let mut f = seg(0x01, 1, &outer_payload);
    let forged_at = 64 + 64;
    let m = manifest(&[(9, forged_at, inner.len() as u64 - 64, KERNEL)]);
    f.extend(seg(MANIFEST, 2, &m));
    assert_eq!(
        Container::parse(&f, Policy::default()).unwrap_err(),
        Error::DirectoryEntryNotASegment {
            entry: 0,
            offset: forged_at
        }
    );
}

/// Length overflow in the kernel header: stored/image sizes and cmdline
/// lengths whose sum with the 128-byte header wraps u64 fit no layout.
#[test]
fn kernel_sizes_near_u64_max_fit_no_layout() {
    let base = kernel(b"IMG!", b"x");
    let plen = base.len() as u64;
    for (at, v, stored) in [
        (0x18, u64::MAX, u64::MAX), // image_size (raw: stored = image_size)
        (0x18, u64::MAX - 126, u64::MAX - 126), // 128 + stored wraps past 0
        (0x18, u64::MAX - 127, u64::MAX - 127),
    ] {
        let mut kp = base.clone();
        kp[at..at + 8].copy_from_slice(&v.to_le_bytes());
        let f = file_with(&kp, None);
        let c = Container::parse(&f, Policy::default()).unwrap();
        assert_eq!(
            c.selected_kernel().unwrap_err(),
            Error::KernelLayout {
                offset: 0,
                payload_length: plen,
                stored_size: stored,
                cmdline_length: 1
            }
        );
    }
    // compression 1 (gzip) takes compressed_size as the stored size.
    let mut kp = base.clone();
    kp[0x28] = 1;
    kp[0x20..0x28].copy_from_slice(&(u64::MAX - 128).to_le_bytes());
    let f = file_with(&kp, None);
    let c = Container::parse(&f, Policy::default()).unwrap();
    assert_eq!(
        c.selected_kernel().unwrap_err(),
        Error::KernelLayout {
            offset: 0,
            payload_length: plen,
            stored_size: u64::MAX - 128,
            cmdline_length: 1
        }
    );
}

/// Reserved fields: the segment header's `flags`, `compression`,
/// `reserved_0/1` and `uncompressed_len` (every writer writes 0) are refused
/// before the payload is used: `UnsupportedSegmentField` names the field.
#[test]
fn segment_header_reserved_fields_are_refused() {
    let kp = kernel(b"IMG!", b"");
    let f0 = file_with(&kp, None);
    for (at, width, field, value) in [
        (0x06usize, 2usize, SegmentField::Flags, 0xFFFF),
        (0x21, 1, SegmentField::Compression, 0xFF),
        (0x22, 2, SegmentField::Reserved0, 0xFFFF),
        (0x24, 4, SegmentField::Reserved1, 0xFFFF_FFFF),
        (0x38, 4, SegmentField::UncompressedLen, 0xFFFF_FFFF),
    ] {
        let mut f = f0.clone();
        f[at..at + width].fill(0xFF);
        let c = Container::parse(&f, Policy::default()).unwrap();
        assert_eq!(
            c.selected_kernel().err(),
            Some(Error::UnsupportedSegmentField {
                index: 0,
                offset: 0,
                field,
                value
            }),
            "{field}"
        );
        assert_eq!(
            c.verify_segments(),
            Err(Error::UnsupportedSegmentField {
                index: 0,
                offset: 0,
                field,
                value
            })
        );
    }
}

/// Resource exhaustion: more than MAX_SEGMENTS segments is refused by the
/// container before any manifest work.
#[test]
fn container_refuses_more_than_max_segments() {
    let one = seg(0x01, 1, b"");
    let f: Vec<u8> = one
        .iter()
        .copied()
        .cycle()
        .take(64 * (MAX_SEGMENTS as usize + 1))
        .collect();
    assert_eq!(
        Container::parse(&f, Policy::default()).unwrap_err(),
        Error::TooManySegments {
            offset: 64 * u64::from(MAX_SEGMENTS),
            limit: MAX_SEGMENTS
        }
    );
}

/// Resource exhaustion, worst case that is accepted: MAX_SEGMENTS - 1 empty
/// segments (64 bytes each) and a manifest listing every one of them. The
/// work is counted, never timed (tests/bounded_work.rs has the 32 MiB
/// cases): the directory is checked in the walks the parse makes anyway, at
/// most three header reads per segment per walk, and only the manifest is
/// hashed (by each algorithm-0 candidate tried before the one that matches).
#[test]
fn worst_case_directory_walk_is_bounded() {
    let n = MAX_SEGMENTS as usize - 1;
    let mut f = Vec::with_capacity(64 * (n + 1) + 64);
    let mut entries = Vec::with_capacity(n);
    for i in 0..n {
        entries.push((i as u64, f.len() as u64, 0, 0x01));
        f.extend(seg(0x01, i as u64, b""));
    }
    let m = manifest(&entries);
    f.extend(seg(MANIFEST, 99_999, &m));
    let mut w = Work::default();
    let c = Container::parse_counting(&f, Policy::default(), &mut w).unwrap();
    assert_eq!(c.manifest().entries().len(), n);
    assert_eq!(c.selected_kernel().unwrap_err(), Error::NoKernel);
    let segments = n as u64 + 1;
    // Two walks (find the newest manifest; walk merged with the directory),
    // three header reads per segment (two probes, one read) plus the end.
    assert!(
        w.header_reads <= 2 * 3 * (segments + 1),
        "{} header reads for {segments} segments",
        w.header_reads
    );
    // The kit's segments carry SHA-256[0..16] with timestamp 0, so the
    // manifest is hashed as CRC-32 rot4 first, then as SHA-256 (checksum.rs).
    assert_eq!(
        w.hashed,
        2 * m.len() as u64,
        "only the manifest, two candidates"
    );
    assert_eq!(w.fill_scanned, 0, "no fill, no tail");
}

/// Verify-then-use (TOCTOU): everything the library returns borrows the one
/// immutable input slice (or, for a gzip'd kernel, the caller's output
/// buffer, which `VerifiedImage` keeps mutably borrowed). There is no second
/// read of the file: what was hashed is what is returned.
#[test]
fn everything_borrows_the_one_input_slice() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("golden");
    for name in ["runtime-05/embed-kernel.rvf", "ruvbot/tiny.rvf"] {
        let f = std::fs::read(root.join(name)).unwrap();
        let range = f.as_ptr_range();
        let inside = |s: &[u8]| range.start <= s.as_ptr() && s.as_ptr_range().end <= range.end;
        let c = Container::parse(&f, Policy::default()).unwrap();
        for s in c.segments() {
            assert!(inside(s.payload));
        }
        let k = c.selected_kernel().unwrap();
        assert!(inside(k.stored_unverified()) && inside(k.cmdline()));
        let mut out = vec![0u8; image::buffer_size(&k) as usize];
        let out_range = out.as_ptr_range();
        let mut st = Box::<InflateState>::default();
        let v = image::extract(&k, &mut out, &mut st).unwrap();
        let b = v.bytes();
        assert!(
            inside(b) || (out_range.start <= b.as_ptr() && b.as_ptr_range().end <= out_range.end),
            "{name}: the verified image is the file's bytes or the caller's buffer"
        );
    }
}

/// Panics: src/lib.rs denies every panicking construct clippy can see, and
/// forbids unsafe code; CI runs clippy with -D warnings.
#[test]
fn the_lint_wall_is_in_place() {
    let lib =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../src/lib.rs"))
            .unwrap();
    assert!(lib.contains("#![no_std]"));
    assert!(lib.contains("#![forbid(unsafe_code)]"));
    let deny = &lib[lib.find("#![deny(").expect("a deny block")..];
    let deny = &deny[..deny.find(")]").unwrap()];
    for lint in [
        "clippy::indexing_slicing",
        "clippy::arithmetic_side_effects",
        "clippy::unwrap_used",
        "clippy::expect_used",
        "clippy::panic",
        "clippy::unreachable",
        "clippy::todo",
        "clippy::unimplemented",
        "clippy::as_conversions",
        "clippy::cast_possible_truncation",
    ] {
        assert!(
            deny.contains(lint),
            "{lint} missing from the deny block of src/lib.rs"
        );
    }
    let ci = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.ci/run"))
        .unwrap();
    assert!(ci.contains("cargo clippy --workspace --all-targets -- -D warnings"));
}

/// Hash mismatches, second layer: an image byte changed and the segment's
/// content hash recomputed (what an attacker who can rewrite the whole
/// segment does) still fails, on the kernel header's `image_hash`; an unset
/// `image_hash` is refused by the default policy before any work.
#[test]
fn image_hash_mismatch_behind_a_valid_content_hash() {
    let mut kp = kernel(b"IMAGE-BYTES", b"");
    kp[128] ^= 1;
    let f = file_with(&kp, None);
    let c = Container::parse(&f, Policy::default()).unwrap();
    let k = c.selected_kernel().unwrap();
    let mut st = Box::<InflateState>::default();
    assert_eq!(
        image::extract(&k, &mut [], &mut st).unwrap_err(),
        Error::ImageHashMismatch { offset: 0 }
    );
    let mut kp = kernel(b"IMAGE-BYTES", b"");
    kp[0x30..0x50].fill(0);
    let f = file_with(&kp, None);
    let c = Container::parse(&f, Policy::default()).unwrap();
    let k = c.selected_kernel().unwrap();
    assert_eq!(
        image::extract(&k, &mut [], &mut st).unwrap_err(),
        Error::ImageHashUnset { offset: 0 }
    );
}

/// Reserved fields in the RuvBot kernel header layout: 0x74..0x78 (the high
/// half of what the crate layout reads as a u64 cmdline offset) and 0x78
/// (the crate layout's cmdline_length) must be 0 when 0x6C marks the RuvBot
/// layout.
#[test]
fn ruvbot_kernel_header_reserved_fields() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("golden");
    let f = std::fs::read(root.join("ruvbot/tiny.rvf")).unwrap();
    let c = Container::parse(&f, Policy::default()).unwrap();
    let seg = *c.selected_kernel().unwrap().segment();
    let off = seg.offset;
    let mut p = seg.payload.to_vec();
    let file = |p: &[u8]| {
        let mut f = vec![0u8; 64];
        f[0..4].copy_from_slice(&SEGMENT_MAGIC.to_le_bytes());
        f[4] = 1;
        f[5] = KERNEL;
        f[0x10..0x18].copy_from_slice(&(p.len() as u64).to_le_bytes());
        f.extend_from_slice(p);
        f
    };
    let parse = |f: &[u8]| {
        let s = rvf_boot::segment::Walk::new(f).next().unwrap();
        rvf_boot::kernel::KernelSegment::parse_unverified(s, Policy::default()).map(|k| k.layout())
    };
    assert_eq!(off, 0);
    assert_eq!(parse(&file(&p)), Ok(KernelLayout::RuvBot));
    p[0x74] = 1;
    assert_eq!(
        parse(&file(&p)),
        Err(Error::KernelField {
            offset: 0,
            field: HeaderField::CmdlineLengthHigh,
            value: 1
        })
    );
    p[0x74] = 0;
    p[0x78] = 5;
    assert_eq!(
        parse(&file(&p)),
        Err(Error::KernelField {
            offset: 0,
            field: HeaderField::CmdlineLength,
            value: 5
        })
    );
}
