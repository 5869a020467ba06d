//! The content hash on the second CPU (issue 13): `Container::
//! selected_kernel_deferred` + `image::extract_joined` (the payload hashed
//! in the sink, beside the inflate) gives exactly what `selected_kernel` +
//! `image::extract` gives — the same image bytes, the same `VerifiedImage`
//! facts, the same `Error` value — on every golden file (all four writers'
//! dialects) and on damaged copies of them and of gzip'd kernels written in
//! every content-hash convention (CRC-32 rot4, SHA-256-16, XXH3-128 as
//! algorithm 1, SHAKE-256-128 as algorithm 2): content-hash errors first,
//! then gzip errors, then image-hash errors. It also hashes no more: the
//! payload exactly once on success, and as often as the reference on the way
//! to an error (counted, not timed).
#![allow(
    clippy::unwrap_used,
    clippy::as_conversions,
    clippy::cast_possible_truncation
)]

use rvf_boot::checksum::{ContentHash, HashCheck};
use rvf_boot::gzip::{self, InflateState, Inflater};
use rvf_boot::image::{self, VerifiedImage};
use rvf_boot::image_hash::ImageHashCheck;
use rvf_boot::joined::{self, Filler, Join, Sequential};
use rvf_boot::kernel::StoredFormat;
use rvf_boot::{Container, Error, Policy};
use rvf_boot_cli::engine::{FastEngine, Threads};
use rvf_testkit::build::{FileBuilder, KERNEL, Style, crc32_rot4, sha256_16, text, xxh3_128};
use rvf_testkit::ruvbot;
use sha3::digest::{ExtendableOutput, Update, XofReader};
use std::cell::Cell;

/// A one-CPU [`Join`] that plays a given interleaving: `side`, then at most
/// `pieces` pieces of the filler (as if the side had finished first and
/// filled while the main part ran), then `main`; with `main_first`, `main`,
/// the pieces, then `side`. It counts the pieces it ran.
struct Played {
    pieces: usize,
    main_first: bool,
    ran: Cell<u64>,
}

impl Played {
    fn new(pieces: usize, main_first: bool) -> Self {
        Self {
            pieces,
            main_first,
            ran: Cell::new(0),
        }
    }
}

impl Join for Played {
    fn join<S, M, W>(&self, side: S, main: M, fill: &mut W)
    where
        S: FnOnce() + Send,
        M: FnOnce(),
        W: Filler + ?Sized,
    {
        let mut fill_some = || {
            for _ in 0..self.pieces {
                if !fill.piece() {
                    break;
                }
                self.ran.set(self.ran.get() + 1);
            }
        };
        if self.main_first {
            main();
            fill_some();
            side();
        } else {
            side();
            fill_some();
            main();
        }
    }
}

/// Everything a `VerifiedImage` says.
type Facts = (
    Vec<u8>,
    u64,
    HashCheck,
    ImageHashCheck,
    Option<u32>,
    [u8; 32],
);
type Outcome = Result<Facts, Error>;

fn facts(v: &VerifiedImage<'_>) -> Facts {
    (
        v.bytes().to_vec(),
        v.kernel_offset(),
        v.content_hash(),
        v.image_hash(),
        v.gzip_crc32(),
        v.sha256(),
    )
}

/// The output buffer for `k`, one byte short with `short`.
fn buffer(k: &rvf_boot::kernel::KernelSegment<'_>, short: bool) -> Vec<u8> {
    let n = image::buffer_size(k) as usize;
    vec![0xEE; if short { n.saturating_sub(1) } else { n }]
}

/// What a path made of a file: its outcome and the kernel payload bytes it
/// hashed (by the container for the kernel, and by the extraction).
struct Run {
    outcome: Outcome,
    hashed: u64,
    /// Bytes the extraction itself hashed (`extract_joined_counting`).
    in_extract: u64,
}

/// The reference: `selected_kernel` (content hash checked) + `extract`.
fn reference(rvf: &[u8], policy: Policy, short: bool) -> Run {
    let c = match Container::parse(rvf, policy) {
        Ok(c) => c,
        Err(e) => return run_err(e, 0),
    };
    let before = c.work().hashed;
    let k = match c.selected_kernel() {
        Ok(k) => k,
        Err(e) => return run_err(e, c.work().hashed - before),
    };
    let mut out = buffer(&k, short);
    let outcome = image::extract(&k, &mut out, &mut InflateState::new()).map(|v| facts(&v));
    Run {
        outcome,
        hashed: c.work().hashed - before,
        in_extract: 0,
    }
}

fn run_err(e: Error, hashed: u64) -> Run {
    Run {
        outcome: Err(e),
        hashed,
        in_extract: 0,
    }
}

/// `selected_kernel_deferred` + `extract_joined_counting` with `engine`
/// and `join`.
fn joined<E: Inflater + ?Sized, J: Join>(
    rvf: &[u8],
    policy: Policy,
    short: bool,
    engine: &mut E,
    join: &J,
) -> Run {
    let c = match Container::parse(rvf, policy) {
        Ok(c) => c,
        Err(e) => return run_err(e, 0),
    };
    let before = c.work().hashed;
    let k = match c.selected_kernel_deferred() {
        Ok(k) => k,
        Err(e) => return run_err(e, c.work().hashed - before),
    };
    let mut out = buffer(&k, short);
    let mut n = 0;
    let outcome =
        image::extract_joined_counting(&k, &mut out, engine, join, &mut n).map(|v| facts(&v));
    Run {
        outcome,
        hashed: c.work().hashed - before + n,
        in_extract: n,
    }
}

/// `selected_kernel_deferred` + the one-thread `extract` (the content
/// hash checked first, under the file's convention).
fn unverified_sequential(rvf: &[u8], policy: Policy, short: bool) -> Outcome {
    let c = Container::parse(rvf, policy)?;
    let k = c.selected_kernel_deferred()?;
    let mut out = buffer(&k, short);
    image::extract(&k, &mut out, &mut InflateState::new()).map(|v| facts(&v))
}

/// The selected kernel's payload length and whether its content hash is
/// left to extraction (not checked by the container already).
fn kernel_facts(rvf: &[u8], policy: Policy) -> Option<(u64, bool)> {
    let c = Container::parse(rvf, policy).ok()?;
    let k = c.selected_kernel_deferred().ok()?;
    Some((k.segment().payload_length(), k.content_hash().is_none()))
}

/// Every path on `rvf` under `policy`: the same outcome and the same work
/// as the reference. Returns the outcome.
fn same(rvf: &[u8], policy: Policy, short: bool, what: &str) -> Outcome {
    let r = reference(rvf, policy, short);
    assert_eq!(
        unverified_sequential(rvf, policy, short),
        r.outcome,
        "{what}: unverified + extract"
    );
    let facts = kernel_facts(rvf, policy);
    let (side_fills, main_fills) = (Played::new(1, false), Played::new(usize::MAX, true));
    let runs = [
        (
            "fast, two threads",
            joined(
                rvf,
                policy,
                short,
                &mut FastEngine::with_chunk_size(4096),
                &Threads,
            ),
        ),
        (
            "fast, sequential",
            joined(
                rvf,
                policy,
                short,
                &mut FastEngine::with_chunk_size(4096),
                &Sequential,
            ),
        ),
        (
            "fast 1 MiB steps, two threads",
            joined(rvf, policy, short, &mut FastEngine::new(), &Threads),
        ),
        (
            "miniz, two threads",
            joined(
                rvf,
                policy,
                short,
                &mut *Box::<InflateState>::default(),
                &Threads,
            ),
        ),
        (
            "miniz, sequential",
            joined(
                rvf,
                policy,
                short,
                &mut *Box::<InflateState>::default(),
                &Sequential,
            ),
        ),
        (
            "miniz, side fills a piece each step",
            joined(
                rvf,
                policy,
                short,
                &mut *Box::<InflateState>::default(),
                &side_fills,
            ),
        ),
        (
            "fast 4 KiB steps, main fills everything at once",
            joined(
                rvf,
                policy,
                short,
                &mut FastEngine::with_chunk_size(4096),
                &main_fills,
            ),
        ),
    ];
    for (how, run) in runs {
        assert_eq!(run.outcome, r.outcome, "{what}: {how}");
        assert_eq!(run.hashed, r.hashed, "{what}: {how}: payload bytes hashed");
        // On success: the payload hashed exactly once, by the extraction
        // when the container left it.
        if let (Ok(v), Some((len, deferred))) = (&run.outcome, facts) {
            let once = match v.2 {
                HashCheck::Verified(_) => len,
                HashCheck::Unset => 0,
            };
            assert_eq!(run.hashed, once, "{what}: {how}: hashed once");
            assert_eq!(
                run.in_extract,
                if deferred { once } else { 0 },
                "{what}: {how}: hashed beside the inflate"
            );
        }
    }
    // Where the content hash was left to a gzip extraction that succeeded,
    // the played joins did fill it (the filler is not dead weight).
    if let (Ok(v), Some((len, true))) = (&r.outcome, facts)
        && v.4.is_some()
        && len > 0
    {
        assert!(side_fills.ran.get() > 0, "{what}: the side filled");
        assert!(main_fills.ran.get() > 0, "{what}: the main part filled");
    }
    r.outcome
}

/// SHAKE-256, first 16 bytes (algorithm 2).
fn shake16(b: &[u8]) -> [u8; 16] {
    let mut h = sha3::Shake256::default();
    h.update(b);
    let mut out = [0u8; 16];
    h.finalize_xof().read(&mut out);
    out
}

/// `h` of `b`, computed by the test kit (not by the library under test).
fn digest(h: ContentHash, b: &[u8]) -> [u8; 16] {
    match h {
        ContentHash::Sha256Trunc => sha256_16(b),
        ContentHash::Crc32Rot4 => crc32_rot4(b),
        ContentHash::Xxh3_128 => xxh3_128(b),
        ContentHash::Shake256_128 => shake16(b),
    }
}

/// Where the selected kernel sits: header offset, payload offset and
/// length, the stored image's offset and length, its format, and the
/// file's algorithm-0 convention.
#[derive(Clone, Copy, Debug)]
struct At {
    header: usize,
    payload: usize,
    len: usize,
    stored: usize,
    stored_len: usize,
    format: StoredFormat,
    algo0: ContentHash,
}

fn locate(rvf: &[u8]) -> Option<At> {
    let c = Container::parse(rvf, Policy::allowing_unset_hash(true)).ok()?;
    let k = c.selected_kernel_deferred().ok()?;
    let base = rvf.as_ptr() as usize;
    Some(At {
        header: k.segment_offset() as usize,
        payload: k.segment().payload.as_ptr() as usize - base,
        len: k.segment().payload.len(),
        stored: k.stored_unverified().as_ptr() as usize - base,
        stored_len: k.stored_unverified().len(),
        format: k.format(),
        algo0: c.algo0(),
    })
}

/// Recomputes the kernel's content hash under its `checksum_algo` and the
/// file's convention, so that a damage reaches the layers behind it.
fn rehash(f: &mut [u8], at: At) {
    let h = match f[at.header + 0x20] {
        0 => at.algo0,
        1 => ContentHash::Xxh3_128,
        _ => ContentHash::Shake256_128,
    };
    let d = digest(h, &f[at.payload..at.payload + at.len]);
    f[at.header + 0x28..at.header + 0x38].copy_from_slice(&d);
}

/// The damaged copies of `rvf`: a name and the bytes.
fn damaged(rvf: &[u8]) -> Vec<(String, Vec<u8>)> {
    let Some(at) = locate(rvf) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut add = |name: &str, rehashed: bool, change: &dyn Fn(&mut Vec<u8>)| {
        let mut f = rvf.to_vec();
        change(&mut f);
        if rehashed {
            rehash(&mut f, at);
        }
        out.push((
            format!("{name}{}", if rehashed { ", rehashed" } else { "" }),
            f,
        ));
    };
    let mid = at.stored + at.stored_len / 2;
    for rehashed in [false, true] {
        // Both the content hash and the inflate (or the raw image hash) fail;
        // rehashed: only the latter.
        add("stored byte flipped", rehashed, &|f| f[mid] ^= 1);
        add("image_hash flipped", rehashed, &|f| {
            f[at.payload + 0x30] ^= 1
        });
        add("image_hash unset", rehashed, &|f| {
            f[at.payload + 0x30..at.payload + 0x50].fill(0);
        });
        add("kernel magic flipped", rehashed, &|f| f[at.payload] ^= 1);
        if at.format == StoredFormat::Gzip {
            let trailer = at.stored + at.stored_len - 8;
            add("gzip trailer CRC flipped", rehashed, &|f| f[trailer] ^= 1);
            add("gzip ISIZE flipped", rehashed, &|f| f[trailer + 4] ^= 1);
            add("gzip header flipped", rehashed, &|f| f[at.stored + 2] ^= 1);
            // The first block's BTYPE set to the reserved 3 (node's header: 10 bytes).
            add("deflate block type 3", rehashed, &|f| {
                f[at.stored + 10] |= 0b110
            });
        }
    }
    add("content_hash flipped", false, &|f| f[at.header + 0x28] ^= 1);
    add("content_hash unset", false, &|f| {
        f[at.header + 0x28..at.header + 0x38].fill(0);
    });
    add("checksum_algo 3", false, &|f| f[at.header + 0x20] = 3);
    let other = [
        ContentHash::Sha256Trunc,
        ContentHash::Crc32Rot4,
        ContentHash::Xxh3_128,
    ]
    .into_iter()
    .find(|&h| h != at.algo0)
    .unwrap();
    add("another writer's algorithm-0 hash", false, &|f| {
        f[at.header + 0x20] = 0;
        let d = digest(other, &f[at.payload..at.payload + at.len]);
        f[at.header + 0x28..at.header + 0x38].copy_from_slice(&d);
    });
    out
}

/// A gzip'd RuvBot-layout kernel in a file of `style`; with `shake`, its
/// content hash is SHAKE-256-128 (algorithm 2).
fn gzip_file(style: Style, shake: bool) -> Vec<u8> {
    let image = text(200_000);
    let gz = ruvbot::gzip(&image);
    let cmdline = b"console=ttyS0 quiet";
    let mut p =
        ruvbot::kernel_header(&image, gz.len(), cmdline.len(), ruvbot::GOLDEN_NOW_MS).to_vec();
    p.extend_from_slice(&gz);
    p.extend_from_slice(cmdline);
    let mut b = FileBuilder::with_capacity(style, p.len() + 1024);
    let e = b.seg(KERNEL, &p);
    if shake {
        b.file[0x20] = 2;
        b.file[0x28..0x38].copy_from_slice(&shake16(&p));
    }
    b.manifest(&[e]);
    b.file
}

/// The files: every golden file and the gzip'd kernels of every convention.
fn files() -> Vec<(String, Vec<u8>)> {
    let mut all = host_tests::golden_files();
    all.push((
        "real-bzimage/testkernel.rvf".into(),
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/golden/real-bzimage/testkernel.rvf"
        ))
        .unwrap(),
    ));
    for (name, style, shake) in [
        ("legacy (CRC-32 rot4)", Style::Legacy, false),
        ("ruvbot (SHA-256-16)", Style::RuvBot, false),
        ("wire (XXH3-128, algorithm 1)", Style::Wire, false),
        (
            "legacy, kernel SHAKE-256-128 (algorithm 2)",
            Style::Legacy,
            true,
        ),
    ] {
        all.push((format!("gzip kernel, {name}"), gzip_file(style, shake)));
    }
    all
}

static SIGNED_KEY: [[u8; 32]; 1] = [host_tests::invariants::SIGNED_PUBKEY];

fn policies(name: &str) -> Vec<Policy> {
    let mut p = vec![Policy::default(), Policy::allowing_unset_hash(true)];
    if name.contains("signed") {
        p.push(Policy::default().requiring_signature(&SIGNED_KEY));
    }
    p
}

#[test]
fn golden_files_extract_the_same() {
    let mut verified = Vec::new();
    for (name, rvf) in files() {
        for policy in policies(&name) {
            for short in [false, true] {
                let what = format!("{name} {policy:?} short {short}");
                if let Ok(v) = same(&rvf, policy, short, &what) {
                    assert!(!short || v.4.is_none(), "{what}: a short buffer");
                    verified.push((name.clone(), v.2, v.4.is_some()));
                }
            }
        }
    }
    // Every convention verified, gzip'd, through the joined path.
    for h in [
        ContentHash::Sha256Trunc,
        ContentHash::Crc32Rot4,
        ContentHash::Xxh3_128,
        ContentHash::Shake256_128,
    ] {
        assert!(
            verified
                .iter()
                .any(|(_, c, gz)| *c == HashCheck::Verified(h) && *gz),
            "{h:?}: {verified:?}"
        );
    }
    assert!(verified.len() >= 40, "{}", verified.len());
}

#[test]
fn damaged_files_fail_the_same() {
    let mut errors: Vec<Error> = Vec::new();
    for (name, rvf) in files() {
        for (damage, f) in damaged(&rvf) {
            for policy in policies(&name) {
                for short in [false, true] {
                    let what = format!("{name}: {damage}, {policy:?}, short {short}");
                    if let Err(e) = same(&f, policy, short, &what) {
                        errors.push(e);
                    }
                }
            }
        }
    }
    // Every layer's errors were met (and matched) on some file.
    let met = |f: &dyn Fn(&Error) -> bool| errors.iter().any(f);
    assert!(met(&|e| matches!(e, Error::ContentHashMismatch { .. })));
    assert!(met(&|e| matches!(e, Error::ContentHashOtherWriter { .. })));
    assert!(met(&|e| matches!(e, Error::ContentHashUnset { .. })));
    assert!(met(&|e| matches!(e, Error::UnknownChecksumAlgo { .. })));
    assert!(met(&|e| matches!(e, Error::GzipCrc { .. })));
    assert!(met(&|e| matches!(e, Error::GzipSize { .. })));
    assert!(met(&|e| matches!(e, Error::Inflate { .. })));
    assert!(met(&|e| matches!(e, Error::BufferTooSmall { .. })));
    assert!(met(&|e| matches!(e, Error::ImageHashMismatch { .. })));
    assert!(met(&|e| matches!(e, Error::ImageHashUnset { .. })));
    assert!(met(&|e| matches!(e, Error::BadMagic { .. })));
    assert!(met(&|e| matches!(e, Error::Auth(_))));
}

/// The precedence, spelled out on one gzip'd RuvBot kernel: a stored byte
/// flipped breaks both the content hash and the inflate, and the content
/// hash is named; rehashed, the inflate error is.
#[test]
fn content_hash_errors_come_before_inflate_errors() {
    let rvf = gzip_file(Style::RuvBot, false);
    let at = locate(&rvf).unwrap();
    let mut f = rvf.clone();
    f[at.stored + at.stored_len - 8] ^= 1;
    let both = same(&f, Policy::default(), false, "trailer CRC, not rehashed");
    assert_eq!(
        both,
        Err(Error::ContentHashMismatch {
            index: 0,
            offset: 0,
            algo: 0
        })
    );
    rehash(&mut f, at);
    assert!(matches!(
        same(&f, Policy::default(), false, "trailer CRC, rehashed"),
        Err(Error::GzipCrc { .. })
    ));
    // Another writer's hash over a broken stream: still the content error.
    let mut g = rvf.clone();
    g[at.stored + at.stored_len / 2] ^= 1;
    let d = crc32_rot4(&g[at.payload..at.payload + at.len]);
    g[at.header + 0x28..at.header + 0x38].copy_from_slice(&d);
    assert_eq!(
        same(&g, Policy::default(), false, "other writer"),
        Err(Error::ContentHashOtherWriter {
            index: 0,
            offset: 0,
            expected: ContentHash::Sha256Trunc,
            found: ContentHash::Crc32Rot4
        })
    );
}

/// The payload is hashed exactly once on success by the joined path itself
/// (the container hashed nothing for the kernel), whatever the engine.
#[test]
fn the_joined_path_hashes_the_payload_once() {
    for style in [Style::Legacy, Style::RuvBot, Style::Wire] {
        let rvf = gzip_file(style, false);
        let c = Container::parse(&rvf, Policy::default()).unwrap();
        let before = c.work().hashed;
        let k = c.selected_kernel_deferred().unwrap();
        assert_eq!(k.content_hash(), None);
        assert_eq!(c.work().hashed, before, "{style:?}: nothing hashed yet");
        let mut out = vec![0u8; image::buffer_size(&k) as usize];
        let mut n = 0;
        let v = image::extract_joined_counting(
            &k,
            &mut out,
            &mut FastEngine::with_chunk_size(1000),
            &Threads,
            &mut n,
        )
        .unwrap();
        assert_eq!(n, k.segment().payload_length(), "{style:?}");
        assert_eq!(
            Some(v.content_hash()),
            c.selected_kernel().unwrap().content_hash()
        );
    }
}

/// `kernel_at_deferred` is `kernel_at` with the content hash left to the
/// extraction: every listed kernel of the two-kernel files (and an offset
/// that is no kernel) gives the same through both.
#[test]
fn kernel_at_deferred_extracts_every_listed_kernel_the_same() {
    let mut seen = 0;
    for (name, rvf) in host_tests::golden_files() {
        let c = Container::parse(&rvf, Policy::default()).unwrap();
        let offsets: Vec<u64> = c.kernels().map(|k| k.unwrap().segment_offset()).collect();
        for at in offsets.iter().copied().chain([1]) {
            let reference = c.kernel_at(at).and_then(|k| {
                let mut out = buffer(&k, false);
                image::extract(&k, &mut out, &mut InflateState::new()).map(|v| facts(&v))
            });
            let c2 = Container::parse(&rvf, Policy::default()).unwrap();
            let joined = c2.kernel_at_deferred(at).and_then(|k| {
                let mut out = buffer(&k, false);
                image::extract_joined(&k, &mut out, &mut FastEngine::new(), &Threads)
                    .map(|v| facts(&v))
            });
            assert_eq!(joined, reference, "{name} kernel at {at}");
            seen += usize::from(reference.is_ok());
        }
        if offsets.len() > 1 {
            assert_ne!(offsets[0], offsets[1]);
        }
        assert_eq!(
            c.kernel_at_deferred(1).unwrap_err(),
            Error::NoKernelAt { offset: 1 },
            "{name}"
        );
    }
    assert!(seen >= 10, "{seen}");
}

/// The filler (the content hash) is shared out as `inflate_joined_beside`
/// says: a filler that lags has the sink run on the engine's CPU (in
/// `main`), one that does not has it in `side`; the tail after the last step
/// is `main`'s either way. The sink sees the same bytes in the same order.
#[test]
fn a_lagging_filler_moves_the_sink_to_the_engines_cpu() {
    /// A filler that always or never lags and counts its pieces.
    struct Fixed {
        lags: bool,
        pieces: u64,
    }
    impl Filler for Fixed {
        fn piece(&mut self) -> bool {
            self.pieces += 1;
            true
        }
        fn lags(&self, _: usize, _: usize) -> bool {
            self.lags
        }
    }
    /// Runs `main` with `in_main` set, then `side`, then two pieces.
    struct Marking<'a>(&'a std::sync::atomic::AtomicBool);
    impl Join for Marking<'_> {
        fn join<S, M, W>(&self, side: S, main: M, fill: &mut W)
        where
            S: FnOnce() + Send,
            M: FnOnce(),
            W: Filler + ?Sized,
        {
            use std::sync::atomic::Ordering::SeqCst;
            self.0.store(true, SeqCst);
            main();
            self.0.store(false, SeqCst);
            side();
            fill.piece();
            fill.piece();
        }
    }
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    let data = text(300_000);
    let gz = ruvbot::gzip(&data);
    for lags in [false, true] {
        let in_main = AtomicBool::new(false);
        let mut seen: Vec<(bool, usize)> = Vec::new();
        let mut bytes = Vec::new();
        let mut out = vec![0u8; data.len()];
        let mut fill = Fixed { lags, pieces: 0 };
        let info = joined::inflate_joined_beside(
            &gz,
            &mut out,
            data.len() as u64,
            &mut *Box::<InflateState>::default(),
            &mut |c: &[u8]| {
                seen.push((in_main.load(SeqCst), c.len()));
                bytes.extend_from_slice(c);
            },
            &mut fill,
            &Marking(&in_main),
        )
        .unwrap();
        assert_eq!(info.image_size, data.len() as u64);
        assert_eq!(bytes, data, "lags {lags}");
        let steps = data.len().div_ceil(gzip::CHUNK);
        // Every step's join and the tail's fill two pieces each.
        assert_eq!(fill.pieces, 2 * (steps as u64 + 1), "lags {lags}");
        // Steps 2.. give the sink what step k-1 made, less the last 32 KiB;
        // the tail (the last 32 KiB and the last step's output) is main's.
        let tail = 32 * 1024 + (data.len() - (steps - 1) * gzip::CHUNK);
        let (in_main_bytes, in_side_bytes) =
            seen.iter().fold(
                (0, 0),
                |(m, s), &(main, n)| {
                    if main { (m + n, s) } else { (m, s + n) }
                },
            );
        if lags {
            assert_eq!((in_main_bytes, in_side_bytes), (data.len(), 0));
        } else {
            assert_eq!((in_main_bytes, in_side_bytes), (tail, data.len() - tail));
        }
    }
}
