//! Bounded work (issue 9 §1): parse + verify cost O(file size + segments +
//! entries) with small constants, counted with `Container::work()` (header
//! reads, fill bytes scanned, payload bytes hashed), never timed.
//!
//! The worst cases (`src/worst.rs`, shared with `benches/worst_case.rs`)
//! are 32 MiB each: 1024 directory entries naming one segment before a zero
//! tail (refused: duplicate entries), a zero tail after the manifest, a zero
//! tail ending in a torn byte, 1024 tiny segments (unpadded, with a zero tail,
//! and padded with the maximal 63 fill bytes each), a 32 MiB manifest.

use host_tests::worst;
use rvf_boot::container::Container;
use rvf_boot::segment::{SEGMENT_HEADER_SIZE, Work};
use rvf_boot::{Error, Policy};
use worst::{Case, KERNEL, VEC};

/// Walks a parse makes: one to find the newest manifest, one merged with the directory.
const PARSE_WALKS: u64 = 2;
/// A walk reads at most this many headers per segment (two probes, one read).
const READS_PER_SEGMENT: u64 = 3;

/// What `rvf-boot inspect` and a loader ask of a container, each once.
/// Returns how many walks it made.
fn inspect(c: &Container<'_>) -> u64 {
    c.verify_segments().unwrap();
    for (_, r) in c.checked_segments() {
        r.unwrap();
    }
    for k in c.kernels() {
        k.unwrap();
    }
    let k = c.selected_kernel().unwrap();
    assert_eq!(k.cmdline(), b"console=ttyS0");
    for s in c.listed(VEC) {
        s.unwrap();
    }
    c.kernel_at(k.segment_offset()).unwrap();
    6
}

fn headers_bound(case: &Case, walks: u64) -> u64 {
    READS_PER_SEGMENT * (case.segments + 1) * walks
}

/// Bytes after the last complete segment (zero tail or torn tail).
fn tail(c: &Container<'_>, file_len: usize) -> u64 {
    let mut w = c.segments();
    w.by_ref().for_each(drop);
    file_len as u64 - w.end()
}

fn check(case: &Case) {
    let name = case.name;
    let size = case.file.len() as u64;
    assert!(size >= 30 << 20, "{name}: {size} bytes");
    let mut w = Work::default();
    let parsed = Container::parse_counting(&case.file, Policy::default(), &mut w);
    eprintln!(
        "{name}: {size} bytes, {} segments, {} entries: parse {w:?}",
        case.segments, case.entries
    );
    assert!(
        w.header_reads <= headers_bound(case, PARSE_WALKS),
        "{name}: parse read {} headers",
        w.header_reads
    );
    assert!(w.fill_scanned <= size, "{name}: fill {}", w.fill_scanned);
    let Ok(c) = parsed else {
        assert!(!case.valid, "{name}: {:?}", parsed.err());
        return;
    };
    assert!(case.valid, "{name}");
    let (m, _) = c.manifest_segment();
    assert_eq!(
        w.hashed,
        m.payload_length(),
        "{name}: parse hashes the manifest, once"
    );
    let tail = tail(&c, case.file.len());
    let fill_per_walk = 63 * case.segments;
    assert!(
        w.fill_scanned >= tail.min(1) && w.fill_scanned <= tail + fill_per_walk * PARSE_WALKS,
        "{name}: parse scanned {} fill bytes, tail {tail}",
        w.fill_scanned
    );

    let walks = inspect(&c);
    let all = c.work();
    eprintln!("{name}: parse + inspect {all:?}");
    assert_eq!(
        all.hashed, case.payload_bytes,
        "{name}: every payload hashed exactly once"
    );
    assert!(all.hashed <= size - SEGMENT_HEADER_SIZE * case.segments);
    assert!(
        all.header_reads <= headers_bound(case, PARSE_WALKS + walks),
        "{name}: {} header reads",
        all.header_reads
    );
    assert!(
        all.fill_scanned <= tail + fill_per_walk * (PARSE_WALKS + walks),
        "{name}: the tail is scanned once: {} fill bytes, tail {tail}",
        all.fill_scanned
    );
    assert!(all.fill_scanned <= size, "{name}");
}

#[test]
fn duplicate_entries_before_a_zero_tail_are_refused_after_one_walk() {
    let case = worst::duplicate_entries_zero_tail();
    let mut w = Work::default();
    assert_eq!(
        Container::parse_counting(&case.file, Policy::default(), &mut w).unwrap_err(),
        Error::DirectoryDuplicate {
            entry: 1,
            first: 0,
            offset: 0
        }
    );
    // Walk 1 (kernel, manifest, then the zero tail once), walk 2 up to the kernel.
    let tail = case.file.len() as u64 - w.fill_scanned.min(case.file.len() as u64);
    assert!(tail < 64 * 1024, "the tail was scanned once, not per entry");
    assert!(w.fill_scanned <= case.file.len() as u64);
    assert!(w.header_reads <= headers_bound(&case, PARSE_WALKS));
    assert_eq!(w.hashed, 22 + 25 * 1024 + 4, "only the manifest was hashed");
    check(&case);
}

#[test]
fn zero_tail_after_the_manifest() {
    let case = worst::zero_tail_after_manifest();
    check(&case);
    let c = Container::parse(&case.file, Policy::default()).unwrap();
    assert_eq!(c.trailing(), None);
    let before = c.work();
    let walks = inspect(&c);
    assert!(
        c.work().fill_scanned - before.fill_scanned <= 63 * case.segments * walks,
        "later walks stop where the segments end: the tail is not scanned again"
    );
}

#[test]
fn torn_byte_after_a_zero_tail() {
    let case = worst::torn_tail_after_zeros();
    check(&case);
    let c = Container::parse(&case.file, Policy::default()).unwrap();
    let (at, len) = c.trailing().unwrap();
    assert_eq!(at + len, case.file.len() as u64);
    assert!(c.work().fill_scanned >= len - 64);
}

#[test]
fn many_tiny_segments() {
    for style in [worst::Style::Legacy, worst::Style::RuvBot] {
        for tail in [false, true] {
            check(&worst::tiny_segments(style, "1024 tiny segments", tail));
        }
    }
}

#[test]
fn maximal_fill_between_segments() {
    let case = worst::tiny_segments(
        worst::Style::Wire,
        "63 fill bytes after each segment",
        false,
    );
    check(&case);
    let c = Container::parse(&case.file, Policy::default()).unwrap();
    assert_eq!(c.dialect(), rvf_boot::dialect::Dialect::Wire);
    assert!(
        c.segments()
            .all(|s| s.padded || s.seg_type() == VEC || s.seg_type() == KERNEL)
    );
}

#[test]
fn huge_manifest_is_hashed_once() {
    let case = worst::huge_manifest();
    check(&case);
}

/// The same flow on the normal file of the same size: the reference for the bench.
#[test]
fn normal_file_of_the_same_size() {
    check(&worst::normal());
}
