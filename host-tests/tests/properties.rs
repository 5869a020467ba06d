//! Property tests: random damage to every golden file never panics, and every
//! `Ok` satisfies the same invariants the fuzz targets assert.
//!
//! The invariants live in `fuzz/src/invariants.rs` (included here by path, so
//! the fuzz targets and these tests check exactly the same things): offsets
//! inside the input, segments in increasing offsets, directory entries at
//! walked segments, cmdline and image inside their payload, extracted length
//! == image_size, nothing written past image_size, boot-plan window inside
//! RAM, zero page consistent with the image, ...
//!
//! Damage classes: truncation anywhere, bit flips, byte insertions, and field
//! overwrites (payload_length, image_size, compressed_size, cmdline_length,
//! seg_count, del_count, bzImage header fields) with values near 0, u32::MAX,
//! u64::MAX, usize::MAX, i64::MAX and the real lengths ± a little. A field
//! overwrite optionally zeroes the segment's content hash (the lax policy then
//! accepts it unset), so the damage reaches the layers behind the hash.
//!
//! Default proptest case count (256 per property).

use host_tests::invariants::{
    self, check_boot_chain, check_inflate, check_kernel_payload, check_wasm, check_whole_file,
};
use proptest::prelude::*;
use std::path::PathBuf;
use std::sync::OnceLock;

/// Every golden RVF file, read once.
fn golden() -> &'static [Vec<u8>] {
    static FILES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    FILES.get_or_init(|| {
        let out: Vec<Vec<u8>> = host_tests::golden_files()
            .into_iter()
            .map(|(_, f)| f)
            .collect();
        assert!(out.len() >= 15, "golden set missing");
        out
    })
}

/// `(offset, type, payload_length)` of every segment the walk finds.
fn segments(file: &[u8]) -> Vec<(usize, u8, usize)> {
    let (body, _) = rvf_boot::segment::split_root_page(file);
    rvf_boot::segment::Walk::new(body)
        .map(|s| (s.offset as usize, s.seg_type(), s.payload.len()))
        .collect()
}

/// Payloads of the given segment type across the golden files.
fn payloads(ty: u8) -> &'static [Vec<u8>] {
    static CACHE: OnceLock<Vec<(u8, Vec<Vec<u8>>)>> = OnceLock::new();
    let all = CACHE.get_or_init(|| {
        [0x0E, 0x10]
            .into_iter()
            .map(|t| {
                let mut v: Vec<Vec<u8>> = Vec::new();
                for f in golden() {
                    for (off, st, len) in segments(f) {
                        let p = f[off + 64..off + 64 + len].to_vec();
                        if st == t && !v.contains(&p) {
                            v.push(p);
                        }
                    }
                }
                (t, v)
            })
            .collect()
    });
    &all.iter().find(|(t, _)| *t == ty).unwrap().1
}

/// Values near every boundary a length or offset can hit.
fn boundary(real: u64) -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(1),
        Just(63),
        Just(64),
        Just(128),
        Just(u64::from(u32::MAX)),
        Just(u64::from(u32::MAX) - 1),
        Just(1u64 << 32),
        Just(u64::MAX),
        Just(u64::MAX - 1),
        Just(u64::MAX - 63),
        Just(u64::MAX - 127),
        Just(usize::MAX as u64),
        Just(i64::MAX as u64),
        Just(1u64 << 63),
        (0u64..8).prop_map(move |d| real.wrapping_add(d)),
        (0u64..8).prop_map(move |d| real.wrapping_sub(d)),
        any::<u64>(),
    ]
}

/// A field to overwrite: (offset from the segment header, width in bytes).
/// Header fields are relative to the segment header, payload fields to 64.
#[derive(Clone, Copy, Debug)]
enum Field {
    PayloadLength,
    ImageSize,
    CompressedSize,
    CmdlineLengthCrate,
    CmdlineLengthRuvbot,
    CmdlineOffsetRuvbot,
    SegCount,
    DelCount,
    DirEntryOffset,
    DirEntryLength,
}

impl Field {
    fn at(self, file: &[u8], seg: usize) -> (usize, usize) {
        let p = seg + 64;
        let seg_count = file
            .get(p + 14..p + 18)
            .map_or(0, |b| u32::from_le_bytes(b.try_into().unwrap()) as usize);
        match self {
            Self::PayloadLength => (seg + 0x10, 8),
            Self::ImageSize => (p + 0x18, 8),
            Self::CompressedSize => (p + 0x20, 8),
            Self::CmdlineLengthCrate => (p + 0x78, 4),
            Self::CmdlineLengthRuvbot => (p + 0x70, 4),
            Self::CmdlineOffsetRuvbot => (p + 0x6C, 4),
            Self::SegCount => (p + 14, 4),
            Self::DelCount => (p + 22 + 25 * seg_count.min(4096), 4),
            Self::DirEntryOffset => (p + 22 + 8, 8),
            Self::DirEntryLength => (p + 22 + 16, 8),
        }
    }
}

fn field() -> impl Strategy<Value = Field> {
    prop_oneof![
        Just(Field::PayloadLength),
        Just(Field::ImageSize),
        Just(Field::CompressedSize),
        Just(Field::CmdlineLengthCrate),
        Just(Field::CmdlineLengthRuvbot),
        Just(Field::CmdlineOffsetRuvbot),
        Just(Field::SegCount),
        Just(Field::DelCount),
        Just(Field::DirEntryOffset),
        Just(Field::DirEntryLength),
    ]
}

fn read_le(b: &[u8]) -> u64 {
    let mut v = [0u8; 8];
    v[..b.len()].copy_from_slice(b);
    u64::from_le_bytes(v)
}

/// Overwrites `f` of segment number `which` (mod the count) with `value`
/// (truncated to the field's width); zeroes that segment's content hash when
/// `unhash`. Returns false when the field lies outside the file.
fn overwrite(
    file: &mut [u8],
    which: usize,
    f: Field,
    value: impl FnOnce(u64) -> u64,
    unhash: bool,
) -> bool {
    let segs = segments(file);
    if segs.is_empty() {
        return false;
    }
    let (seg, _, _) = segs[which % segs.len()];
    let (at, width) = f.at(file, seg);
    let Some(slot) = file.get_mut(at..at + width) else {
        return false;
    };
    let v = value(read_le(slot)).to_le_bytes();
    slot.copy_from_slice(&v[..width]);
    if unhash {
        file[seg + 0x28..seg + 0x38].fill(0);
    }
    true
}

/// A valid, minimal bzImage (protocol 2.15, non-relocatable, 16 MiB
/// pref_address, 1 KiB setup, 2 KiB protected-mode part): the test kit's.
use rvf_testkit::build::bzimage;

/// bzImage header fields: (offset, width).
const BZ_FIELDS: [(usize, usize); 14] = [
    (0x1F1, 1), // setup_sects
    (0x201, 1), // jump (header end)
    (0x206, 2), // version
    (0x211, 1), // loadflags
    (0x22C, 4), // initrd_addr_max
    (0x230, 4), // kernel_alignment
    (0x234, 1), // relocatable_kernel
    (0x235, 1), // min_alignment
    (0x236, 2), // xloadflags
    (0x238, 4), // cmdline_size
    (0x248, 8), // payload_offset + payload_length
    (0x250, 8), // setup_data
    (0x258, 8), // pref_address
    (0x260, 4), // init_size
];

proptest! {
    #[test]
    fn golden_file_passes_the_invariants(i in 0usize..64) {
        let files = golden();
        check_whole_file(&files[i % files.len()]);
    }

    #[test]
    fn truncation_anywhere(i in 0usize..64, cut in any::<prop::sample::Index>()) {
        let files = golden();
        let f = &files[i % files.len()];
        check_whole_file(&f[..cut.index(f.len() + 1)]);
    }

    #[test]
    fn bit_flips(i in 0usize..64, flips in prop::collection::vec((any::<prop::sample::Index>(), 0u8..8), 1..8)) {
        let files = golden();
        let mut f = files[i % files.len()].clone();
        let n = f.len();
        for (at, bit) in flips {
            f[at.index(n)] ^= 1 << bit;
        }
        check_whole_file(&f);
    }

    #[test]
    fn byte_insertions(
        i in 0usize..64,
        at in any::<prop::sample::Index>(),
        bytes in prop::collection::vec(any::<u8>(), 1..80),
    ) {
        let files = golden();
        let mut f = files[i % files.len()].clone();
        let at = at.index(f.len() + 1);
        f.splice(at..at, bytes);
        check_whole_file(&f);
    }

    #[test]
    fn field_overwrites_near_boundaries(
        i in 0usize..64,
        which in 0usize..16,
        fld in field(),
        value in boundary(0),
        delta in -70i64..70,
        relative in any::<bool>(),
        unhash in any::<bool>(),
    ) {
        let files = golden();
        let mut f = files[i % files.len()].clone();
        let len = f.len() as u64;
        let changed = overwrite(&mut f, which, fld, |old| {
            if relative {
                // The real value, or the file length, moved a little.
                let base = if delta % 2 == 0 { old } else { len };
                base.wrapping_add_signed(delta)
            } else {
                value
            }
        }, unhash);
        if changed {
            check_whole_file(&f);
        }
    }

    #[test]
    fn kernel_payload_overwrites(
        k in 0usize..16,
        fld in prop_oneof![
            Just(Field::ImageSize), Just(Field::CompressedSize), Just(Field::CmdlineLengthCrate),
            Just(Field::CmdlineLengthRuvbot), Just(Field::CmdlineOffsetRuvbot)],
        value in boundary(4096),
        cut in any::<prop::sample::Index>(),
        flip in any::<prop::sample::Index>(),
    ) {
        let ks = payloads(0x0E);
        let mut p = ks[k % ks.len()].clone();
        // Field offsets are relative to a segment header at -64.
        let mut wrapped = vec![0u8; 64];
        wrapped.extend_from_slice(&p);
        let (at, width) = fld.at(&wrapped, 0);
        let (at, width) = (at - 64, width);
        p[at..at + width].copy_from_slice(&value.to_le_bytes()[..width]);
        check_kernel_payload(&p);
        let n = p.len();
        p[flip.index(n)] ^= 0x80;
        check_kernel_payload(&p);
        check_kernel_payload(&p[..cut.index(n + 1)]);
    }

    #[test]
    fn gzip_damage_and_declared_sizes(
        k in 0usize..16,
        declared in boundary(16384),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in any::<prop::sample::Index>(),
        chunk in 1usize..5000,
    ) {
        // The gzip'd (RuvBot) kernels' stored streams.
        let gz: Vec<&[u8]> = payloads(0x0E)
            .iter()
            .filter(|p| p.len() > 131 && p[128..131] == [0x1F, 0x8B, 0x08])
            .map(|p| {
                let stored = u64::from_le_bytes(p[0x20..0x28].try_into().unwrap()) as usize;
                &p[128..128 + stored]
            })
            .collect();
        prop_assume!(!gz.is_empty());
        let stored = gz[k % gz.len()];
        let real = u64::from(u32::from_le_bytes(stored[stored.len() - 4..].try_into().unwrap()));
        // Undamaged with the real size: inflates.
        prop_assert!(check_inflate(stored, real, chunk).is_some());
        let mut s = stored.to_vec();
        let n = s.len();
        for (at, b) in flips {
            s[at.index(n)] ^= b;
        }
        check_inflate(&s, real, chunk);
        check_inflate(&s, declared, chunk);
        check_inflate(&s[..cut.index(n + 1)], real, chunk);
    }

    #[test]
    fn wasm_and_bundle_damage(
        k in 0usize..16,
        at in any::<prop::sample::Index>(),
        value in boundary(64),
        width in prop_oneof![Just(1usize), Just(2), Just(4), Just(8)],
        cut in any::<prop::sample::Index>(),
    ) {
        let ws = payloads(0x10);
        let mut p = ws[k % ws.len()].clone();
        let n = p.len();
        let at = at.index(n.saturating_sub(width).max(1));
        if at + width <= n {
            p[at..at + width].copy_from_slice(&value.to_le_bytes()[..width]);
        }
        check_wasm(&p, 0x1000);
        invariants::check_bundle(p.get(64..).unwrap_or(&[]));
        check_wasm(&p[..cut.index(n + 1)], 0x1000);
    }

    #[test]
    fn bzimage_header_overwrites(
        fields in prop::collection::vec((0usize..BZ_FIELDS.len(), boundary(0x100_0000)), 1..4),
        cmdline in prop::collection::vec(any::<u8>(), 0..40),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut b = bzimage();
        check_boot_chain(&b, b"console=ttyS0");
        for (f, v) in fields {
            let (at, width) = BZ_FIELDS[f];
            b[at..at + width].copy_from_slice(&v.to_le_bytes()[..width]);
        }
        check_boot_chain(&b, &cmdline);
        let n = b.len();
        check_boot_chain(&b[..cut.index(n + 1)], b"");
    }
}

#[test]
fn the_synthetic_bzimage_boots() {
    let b = bzimage();
    let bz = rvf_boot::bzimage::BzImage::parse(&b).expect("valid synthetic bzImage");
    let plan =
        rvf_boot::plan::BootPlan::new(&bz, &invariants::MEMORY_MAP, &invariants::OCCUPIED).unwrap();
    assert_eq!(plan.load_address(), 0x100_0000);
}

/// Every committed fuzz seed (fuzz/corpus/<target>/) passes its target's
/// invariants, and the synthetic seeds that carry the QEMU test kernel reach
/// the end of the chain (extract, bzImage, boot plan), so the fuzzers start
/// from inputs that exercise every layer.
#[test]
fn fuzz_seed_corpora_pass_the_invariants() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    let seeds = |t: &str| -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<_> = std::fs::read_dir(root.join(t))
            .unwrap()
            .map(|e| {
                let p = e.unwrap().path();
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    std::fs::read(&p).unwrap(),
                )
            })
            .collect();
        v.sort();
        assert!(!v.is_empty(), "no seeds for {t}");
        v
    };
    for (_, f) in seeds("whole_file") {
        check_whole_file(&f);
    }
    for (_, p) in seeds("kernel_segment") {
        check_kernel_payload(&p);
    }
    for (_, d) in seeds("gzip_inflate") {
        let declared = u64::from(u32::from_le_bytes(d[..4].try_into().unwrap()));
        let chunk = if d[4] == 0 {
            rvf_boot::gzip::CHUNK
        } else {
            usize::from(d[4]) * 61
        };
        assert!(
            check_inflate(&d[5..], declared, chunk).is_some(),
            "gzip seeds inflate"
        );
    }
    for (_, d) in seeds("bzimage") {
        let n = usize::from(d[0]);
        check_boot_chain(&d[1 + n..], &d[1..1 + n]);
    }
    for (_, d) in seeds("bundle") {
        check_wasm(&d, 0x40);
        invariants::check_bundle(&d);
    }
    for (_, d) in seeds("root_page") {
        invariants::check_root_page(&d);
    }
    for (_, d) in seeds("measure") {
        invariants::check_measure_inputs(&d);
    }
    // The measure seeds reach past the parsers: a SeaBIOS-shaped log our
    // events append to, a successful PCR_Extend response, a TPM2 table.
    let seed = |n: &str| std::fs::read(root.join("measure").join(n)).unwrap();
    let log = seed("seabios-log-4k");
    // Spec ID event: 32-byte legacy header + 33 bytes (signature, versions,
    // one algorithm: SHA-256); one TCG_PCR_EVENT2: 12 + 2 + 32 + 4 + 2 bytes.
    assert_eq!(rvf_boot::measure::log_end(&log), Ok(32 + 33 + 52));
    assert_eq!(
        rvf_boot::measure::check_response(0x182, &seed("pcr-extend-response")),
        Ok(())
    );
    assert_eq!(
        rvf_boot::measure::tpm2_log_area(&seed("tpm2-table")),
        Ok((0x7fff_0000, 0x10000))
    );
    // The deep seeds: the test kernel, raw and gzip'd, boots end to end.
    for name in ["testkernel-raw.rvf", "testkernel-gzip.rvf"] {
        let f = std::fs::read(root.join("whole_file").join(name)).unwrap();
        let c = rvf_boot::Container::parse(&f, rvf_boot::Policy::default()).unwrap();
        let k = c.selected_kernel().unwrap();
        let mut out = vec![0u8; rvf_boot::image::buffer_size(&k) as usize];
        let mut st = Box::<rvf_boot::gzip::InflateState>::default();
        let v = rvf_boot::image::extract(&k, &mut out, &mut st).unwrap();
        let bz = rvf_boot::bzimage::BzImage::parse(v.bytes())
            .unwrap_or_else(|e| panic!("{name}: the test kernel validates: {e}"));
        rvf_boot::plan::BootPlan::new(&bz, &invariants::MEMORY_MAP, &invariants::OCCUPIED).unwrap();
    }
}
