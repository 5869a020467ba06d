//! Extraction benchmark (issue 3): `cargo bench -p host-tests --bench extract`.
//!
//! Inputs, each gzip -9'd the way build-rvf.js stores a kernel (§4.2):
//! (i) the Debian cloud kernel bzImage (`linux-image-cloud-amd64`'s
//!     dependency, fetched with `apt-get download` + `dpkg-deb -x` and cached
//!     under `target/bench-inputs/`; skipped with a message when unavailable),
//! (ii) a compressible 14 MB synthetic image (pseudo-text).
//!
//! The image is gzip'd by `gzip -9 -n` (stock zlib, the closest to node's
//! Chromium zlib; flate2 when gzip is missing) and wrapped by the test kit's
//! RuvBot writer (`rvf_testkit::ruvbot`, `build-rvf.js` in Rust, byte-identical
//! to it given the same gzip stream); every variant uses that stream.
//!
//! Reported in one run, medians of interleaved rounds (issue 13's rows first):
//! (E)  rvf-boot end to end: `Container::parse` (walk, manifest, directory
//!      checks) + `selected_kernel` (content hash) + `extract` (inflate,
//!      CRC, ISIZE, image hash) on the RuvBot RVF, the library's default
//!      engine (miniz_oxide + `crc`);
//! (E') the same through `image::extract_with` and the CLI's plugged engine
//!      (`rvf_boot_cli::engine::FastEngine`: zlib-rs + crc32fast);
//! (E") the same with `Container::selected_kernel_deferred` and
//!      `image::extract_joined` on two threads (`rvf_boot_cli::engine::
//!      Threads`): the content hash of the stored bytes and the image hashes
//!      run on the second thread beside the inflate (the CLI's default on
//!      two CPUs or more);
//! (a)  rvf-boot: gzip inflate + CRC-32 + SHA-256 of the output (one pass,
//!      in the inflate sink) + SHA-256-16 of the stored bytes (the segment
//!      content hash) — the end-to-end path minus container parsing;
//! (a') the same with separate passes (inflate + CRC, then SHA-256 over the
//!      whole output);
//! (b)  miniz_oxide inflate alone, one call into the whole buffer;
//! (c)  reference: libdeflate gzip inflate (CRC included) + sha2 over the
//!      stored bytes and the output;
//! (d)  memcpy of the image;
//! plus the pieces (CRC-32 with `crc` and with crc32fast, SHA-256, SHA3-256,
//! rvf-runtime checksum over the image, the plugged engine's inflate alone,
//! reading the RVF, writing + fsyncing the image), the spread of the rounds,
//! a chunk-size sweep for (a) and a step sweep for (E')/(E"). Then, for the
//! Debian kernel, the process row: `rvf-boot extract` (release build) against
//! `benches/peer.py` (the same checks with C zlib + hashlib), and with
//! `--boot RUNS` the boot row (`qemu/bench.sh RUNS`); last, the headline.
//!
//! Arguments: `--iters N` (default 21), `--quick` (5 iterations, no
//! sweeps), `--boot RUNS`.
//!
//! Results: README.md, "Measurements" (issue 13's table). On the idle
//! 2-core development host, 21 rounds: (E) 1.41x, (E') 1.07x, (E") 0.77x of
//! (c) (33.2 vs 43.1 ms); the process row 0.35x of the Python peer (70.8 vs
//! 203.3 ms). (E") is the inflate alone (zlib-rs 33.1 ms, CRC included)
//! plus a fraction of a millisecond: both SHA-256 passes and the CRC-32 run
//! on the second core, the content hash on whichever core is free. One thread,
//! the gap in (E') is the inflate engine (zlib-rs 33.6 ms vs libdeflate
//! 30.2 ms, CRC included); both sides hash the same bytes with the same sha2.
#![allow(
    clippy::print_stdout,
    clippy::cast_precision_loss,
    clippy::as_conversions
)]

use host_tests::{bench_inputs_dir, find_vmlinuz, median, ms};
use miniz_oxide::inflate::core::DecompressorOxide;
use rvf_boot::gzip::{self, InflateState, Inflater as _};
use rvf_boot::image_hash::{Candidates, ImageHash, ImageHasher, digest};
use rvf_boot_cli::engine::{Choice, FastEngine, Threads};
use sha2::Digest as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The Debian cloud kernel, fetched once into `target/bench-inputs/`.
fn debian_kernel() -> Result<(String, Vec<u8>), String> {
    let dir = bench_inputs_dir();
    if let Some(p) = find_vmlinuz(&dir) {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        return std::fs::read(&p)
            .map(|b| (name, b))
            .map_err(|e| e.to_string());
    }
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let deps = Command::new("apt-cache")
        .args(["depends", "linux-image-cloud-amd64"])
        .output()
        .map_err(|e| format!("apt-cache: {e}"))?;
    let deps = String::from_utf8_lossy(&deps.stdout);
    let pkg = deps
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Depends: "))
        .find(|p| p.starts_with("linux-image-"))
        .ok_or("apt-cache depends linux-image-cloud-amd64 names no linux-image package (run apt-get update?)")?
        .to_owned();
    let st = Command::new("apt-get")
        .args(["download", &pkg])
        .current_dir(&dir)
        .status()
        .map_err(|e| format!("apt-get: {e}"))?;
    if !st.success() {
        return Err(format!("apt-get download {pkg} failed"));
    }
    let deb = std::fs::read_dir(&dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .ok_or("no .deb after apt-get download")?;
    let st = Command::new("dpkg-deb")
        .arg("-x")
        .arg(&deb)
        .arg(dir.join("x"))
        .status()
        .map_err(|e| format!("dpkg-deb: {e}"))?;
    if !st.success() {
        return Err("dpkg-deb -x failed".into());
    }
    let p = find_vmlinuz(&dir).ok_or("no vmlinuz-*-cloud-amd64 in the package")?;
    let name = p.file_name().unwrap().to_string_lossy().into_owned();
    std::fs::read(&p)
        .map(|b| (name, b))
        .map_err(|e| e.to_string())
}

/// gzip -9 -n (zlib's deflate, like node's `gzipSync(level 9)`); falls back
/// to flate2 when no `gzip` binary exists.
fn gzip9(data: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    if let Ok(mut child) = Command::new("gzip")
        .args(["-9", "-n", "-c"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
    {
        let mut stdin = child.stdin.take().unwrap();
        let owned = data.to_vec();
        let writer = std::thread::spawn(move || stdin.write_all(&owned));
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        if out.status.success() {
            return out.stdout;
        }
    }
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// 14 MB of pseudo-text: words drawn from a small vocabulary by xorshift.
fn synthetic(n: usize) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "kernel",
        "segment",
        "manifest",
        "the",
        "of",
        "boot",
        "vector",
        "0x1000000",
        "static",
        "fn",
        "return",
        "u64",
        "let",
        "mut",
        "\n",
        "    ",
        "if",
        "else",
        "{",
        "}",
        "(",
        ");",
        "payload",
        "header",
        "offset",
        "length",
        "checksum",
        "hash",
        "image",
        "cmdline",
        "=",
        "+",
        "0",
    ];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut v = Vec::with_capacity(n + 16);
    while v.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(WORDS[(x % WORDS.len() as u64) as usize].as_bytes());
        v.push(if x & 0x300 == 0 { b'\n' } else { b' ' });
    }
    v.truncate(n);
    v
}

/// What one round measures, in order (interleaved so that load from other
/// processes on this shared 2-core host hits every variant alike).
#[derive(Clone, Copy, PartialEq, Eq)]
enum V {
    E2E,
    E2EFast,
    E2EPar,
    A,
    A2,
    B,
    C,
    CInflate,
    D,
    ZlibRs,
    ZlibRsFull,
    Crc,
    ShaOut,
    ShaStored,
    Toy,
    Sha3,
    CrcFast,
    FastInflate,
    Read,
    Write,
}

const ALL: [V; 20] = [
    V::E2E,
    V::E2EFast,
    V::E2EPar,
    V::A,
    V::A2,
    V::B,
    V::C,
    V::CInflate,
    V::D,
    V::ZlibRs,
    V::ZlibRsFull,
    V::Crc,
    V::ShaOut,
    V::ShaStored,
    V::Toy,
    V::Sha3,
    V::CrcFast,
    V::FastInflate,
    V::Read,
    V::Write,
];

struct Ctx {
    rvf: Option<Vec<u8>>,
    image: Vec<u8>,
    stored: Vec<u8>,
    out: Vec<u8>,
    state: Box<InflateState>,
    /// miniz_oxide's own state, for the bare-decompressor baseline (b).
    raw: Box<DecompressorOxide>,
    dec: libdeflater::Decompressor,
    hdr: usize,
    /// The CLI's plugged engine (zlib-rs + crc32fast).
    fast: FastEngine,
    /// The RVF on disk (for the I/O pieces and the process row).
    rvf_path: PathBuf,
}

impl Ctx {
    fn run(&mut self, v: V, chunk: usize) {
        let size = self.image.len();
        let (stored, out, state) = (&self.stored, &mut self.out, &mut self.state);
        if state.chunk_size() != chunk.max(1) {
            **state = InflateState::with_chunk_size(chunk);
        }
        match v {
            V::E2E => {
                let Some(rvf) = &self.rvf else { return };
                let c = rvf_boot::Container::parse(rvf, rvf_boot::Policy::default()).unwrap();
                let k = c.selected_kernel().unwrap();
                let img = rvf_boot::image::extract(&k, out, state).unwrap();
                black_box(img.bytes().len());
            }
            V::E2EFast => {
                let Some(rvf) = &self.rvf else { return };
                let c = rvf_boot::Container::parse(rvf, rvf_boot::Policy::default()).unwrap();
                let k = c.selected_kernel().unwrap();
                let img = rvf_boot::image::extract_with(&k, out, &mut self.fast).unwrap();
                black_box(img.bytes().len());
            }
            V::FastInflate => {
                gzip::inflate_with(stored, out, size as u64, &mut self.fast, &mut |_: &[u8]| {})
                    .unwrap();
            }
            V::E2EPar => {
                // The CLI's path on two CPUs: the content hash is left to
                // the extraction, which runs it beside the inflate.
                let Some(rvf) = &self.rvf else { return };
                let c = rvf_boot::Container::parse(rvf, rvf_boot::Policy::default()).unwrap();
                let k = c.selected_kernel_deferred().unwrap();
                let img =
                    rvf_boot::image::extract_joined(&k, out, &mut self.fast, &Threads).unwrap();
                black_box(img.bytes().len());
            }
            V::CrcFast => {
                black_box(self.fast.crc32()(0, black_box(&self.image)));
            }
            V::Read => {
                black_box(std::fs::read(&self.rvf_path).unwrap().len());
            }
            V::Write => {
                // What the CLI's staged output does: a temporary file in the
                // output's directory, written, synced, renamed.
                use std::io::Write as _;
                let dir = self.rvf_path.parent().unwrap();
                let mut t = tempfile_in(dir);
                t.1.write_all(&self.image).unwrap();
                t.1.sync_all().unwrap();
                std::fs::rename(&t.0, dir.join("bench-out.img")).unwrap();
            }
            V::A => {
                // The content hash (SHA-256-16 of the stored bytes) runs
                // first, as checksum.rs does before inflating.
                let content = sha2::Sha256::digest(stored);
                let mut h = ImageHasher::new(Candidates::RUVBOT);
                gzip::inflate(stored, out, size as u64, state, &mut |c: &[u8]| h.update(c))
                    .unwrap();
                black_box((&content[..16], h.finalize()));
            }
            V::A2 => {
                let content = sha2::Sha256::digest(stored);
                gzip::inflate(stored, out, size as u64, state, &mut |_: &[u8]| {}).unwrap();
                black_box((&content[..16], digest(ImageHash::Sha256, out)));
            }
            V::B => {
                let raw = &mut self.raw;
                raw.init();
                let r = miniz_oxide::inflate::core::decompress(
                    raw,
                    &stored[self.hdr..],
                    out,
                    0,
                    miniz_oxide::inflate::core::inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
                );
                assert_eq!(r.2, size);
            }
            V::C => {
                let content = sha2::Sha256::digest(stored);
                let n = self.dec.gzip_decompress(stored, out).unwrap();
                black_box((content, sha2::Sha256::digest(&out[..n])));
            }
            V::CInflate => {
                black_box(self.dec.gzip_decompress(stored, out).unwrap());
            }
            V::D => {
                out.copy_from_slice(black_box(&self.image));
                black_box(&out);
            }
            V::ZlibRs | V::ZlibRsFull => {
                // window_bits 16 + 15: gzip wrapper, CRC-32 and ISIZE checked.
                let content = (v == V::ZlibRsFull).then(|| sha2::Sha256::digest(stored));
                let (o, rc) = zlib_rs::decompress_slice(
                    out,
                    stored,
                    zlib_rs::InflateConfig { window_bits: 31 },
                );
                assert_eq!(rc, zlib_rs::ReturnCode::Ok);
                assert_eq!(o.len(), size);
                if v == V::ZlibRsFull {
                    black_box((content, sha2::Sha256::digest(o)));
                }
            }
            V::Crc => {
                black_box(gzip::crc32(black_box(&self.image)));
            }
            V::ShaOut => {
                black_box(digest(ImageHash::Sha256, black_box(&self.image)));
            }
            V::ShaStored => {
                black_box(sha2::Sha256::digest(black_box(stored)));
            }
            V::Toy => {
                black_box(digest(
                    ImageHash::RvfRuntimeChecksum,
                    black_box(&self.image),
                ));
            }
            V::Sha3 => {
                black_box(digest(ImageHash::Sha3_256, black_box(&self.image)));
            }
        }
    }
}

/// A new file in `dir` with a name no other run uses.
fn tempfile_in(dir: &Path) -> (PathBuf, std::fs::File) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let p = dir.join(format!(
        ".bench-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let f = std::fs::File::create(&p).unwrap();
    (p, f)
}

/// The spread of a variant's samples: (p25, p75) relative to the median.
fn spread(v: &[Duration]) -> (f64, f64) {
    let mut v = v.to_vec();
    v.sort();
    let q = |f: f64| v[((v.len() - 1) as f64 * f) as usize].as_secs_f64();
    let m = q(0.5);
    (q(0.25) / m, q(0.75) / m)
}

/// The image wrapped by the test kit's RuvBot writer around a `gzip -9`
/// stream of it.
fn ruvbot_rvf(image: &[u8]) -> Vec<u8> {
    let member = gzip9(image);
    let pkg = rvf_testkit::ruvbot::Package::golden(true);
    let mut inp = rvf_testkit::ruvbot::Inputs::new(image, &pkg);
    inp.gzip = rvf_testkit::ruvbot::Gzip::Given(&member);
    rvf_testkit::ruvbot::write(&inp)
}

/// Runs one input; returns the headline figures (ms): end to end with the
/// default engine, the plugged one, the plugged one on two threads, and the
/// reference.
fn bench(name: &str, tag: &str, image: Vec<u8>, iters: usize, sweep: bool) -> [f64; 4] {
    let rvf = ruvbot_rvf(&image);
    let dir = bench_inputs_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let rvf_path = dir.join(format!("bench-{tag}.rvf"));
    std::fs::write(&rvf_path, &rvf).unwrap();
    let c = rvf_boot::Container::parse(&rvf, rvf_boot::Policy::default()).unwrap();
    let stored = c.selected_kernel().unwrap().stored_unverified().to_vec();
    println!(
        "(input wrapped by the test kit's RuvBot writer: {} bytes)",
        rvf.len()
    );
    let rvf = Some(rvf);
    let size = image.len();
    println!(
        "\n== {name}: image {size} bytes, gzip -9 {} bytes ({:.1}%), {iters} interleaved rounds, medians",
        stored.len(),
        100.0 * stored.len() as f64 / size as f64
    );
    let hdr = gzip::parse_header(&stored).unwrap().len as usize;
    let mut cx = Ctx {
        out: vec![0u8; size],
        state: Box::<InflateState>::default(),
        raw: Box::<DecompressorOxide>::default(),
        dec: libdeflater::Decompressor::new(),
        hdr,
        fast: FastEngine::new(),
        rvf_path,
        rvf,
        image,
        stored,
    };
    // Correctness of the measured path, once.
    let mut h = ImageHasher::new(Candidates::RUVBOT);
    gzip::inflate(
        &cx.stored,
        &mut cx.out,
        size as u64,
        &mut cx.state,
        &mut |c: &[u8]| h.update(c),
    )
    .unwrap();
    assert_eq!(cx.out, cx.image);
    assert_eq!(
        h.finalize().sha256.unwrap(),
        sha2::Sha256::digest(&cx.image).as_slice()
    );

    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); ALL.len()];
    for round in 0..=iters {
        for (i, &v) in ALL.iter().enumerate() {
            if v == V::Sha3 && round > 7 {
                continue; // slow and only informative
            }
            let t = Instant::now();
            cx.run(v, gzip::CHUNK);
            let e = t.elapsed();
            if round > 0 {
                samples[i].push(e); // round 0 is warm-up
            }
        }
    }
    let spreads: Vec<(f64, f64)> = samples.iter().map(|v| spread(v)).collect();
    let m: Vec<Duration> = samples.into_iter().map(median).collect();
    let t = |v: V| m[ALL.iter().position(|&x| x == v).unwrap()];
    let mbps = |d: Duration| size as f64 / d.as_secs_f64() / 1e6;
    println!(
        "(E)  rvf-boot end to end: parse + select + verified extract:          {:8.2} ms",
        ms(t(V::E2E))
    );
    println!(
        "(E') same, plugged engine (zlib-rs + crc32fast), one thread:         {:8.2} ms",
        ms(t(V::E2EFast))
    );
    println!(
        "(E\") same, plugged engine, content + image hashes on a second thread: {:8.2} ms",
        ms(t(V::E2EPar))
    );
    println!(
        "(a)  rvf-boot inflate+CRC+SHA-256(out) one pass + SHA-256-16(stored): {:8.2} ms",
        ms(t(V::A))
    );
    println!(
        "(a') same, separate passes (inflate+CRC, then SHA-256(out)):          {:8.2} ms",
        ms(t(V::A2))
    );
    println!(
        "(b)  miniz_oxide inflate alone:                                       {:8.2} ms",
        ms(t(V::B))
    );
    println!(
        "(c)  libdeflate gzip inflate + sha2(stored) + sha2(out):              {:8.2} ms",
        ms(t(V::C))
    );
    println!(
        "     libdeflate gzip inflate alone (CRC incl.):                       {:8.2} ms",
        ms(t(V::CInflate))
    );
    println!(
        "(d)  memcpy of the image:                                             {:8.2} ms",
        ms(t(V::D))
    );
    println!(
        "     zlib-rs gzip inflate alone (CRC incl.):                          {:8.2} ms",
        ms(t(V::ZlibRs))
    );
    println!(
        "     zlib-rs gzip inflate + sha2(stored) + sha2(out):                 {:8.2} ms",
        ms(t(V::ZlibRsFull))
    );
    println!(
        "     CRC-32 {:.2} ms ({:.0} MB/s), SHA-256(out) {:.2} ms ({:.0} MB/s), SHA-256(stored) {:.2} ms",
        ms(t(V::Crc)),
        mbps(t(V::Crc)),
        ms(t(V::ShaOut)),
        mbps(t(V::ShaOut)),
        ms(t(V::ShaStored))
    );
    println!(
        "     SHA3-256(out) {:.2} ms ({:.0} MB/s), rvf-runtime checksum(out) {:.2} ms ({:.0} MB/s)",
        ms(t(V::Sha3)),
        mbps(t(V::Sha3)),
        ms(t(V::Toy)),
        mbps(t(V::Toy))
    );
    println!(
        "     CRC-32 crc32fast (PCLMULQDQ) {:.2} ms; I/O: read the RVF {:.2} ms, write+fsync+rename the image {:.2} ms",
        ms(t(V::CrcFast)),
        ms(t(V::Read)),
        ms(t(V::Write))
    );
    let c = ms(t(V::C));
    println!(
        "ratio: (E)/(c) = {:.3}   (E')/(c) = {:.3}   (E\")/(c) = {:.3}   (end to end vs libdeflate + sha2 x2)",
        ms(t(V::E2E)) / c,
        ms(t(V::E2EFast)) / c,
        ms(t(V::E2EPar)) / c
    );
    let sp = |v: V| spreads[ALL.iter().position(|&x| x == v).unwrap()];
    println!(
        "noise (p25/p75 of the rounds, relative to the median): (E) {:.2}-{:.2}, (E') {:.2}-{:.2}, (E\") {:.2}-{:.2}, (c) {:.2}-{:.2}",
        sp(V::E2E).0,
        sp(V::E2E).1,
        sp(V::E2EFast).0,
        sp(V::E2EFast).1,
        sp(V::E2EPar).0,
        sp(V::E2EPar).1,
        sp(V::C).0,
        sp(V::C).1
    );
    println!(
        "where (E') goes: gzip::inflate_with + the plugged engine, no hash {:.1} ms (of it CRC-32 {:.1} ms; the crate crc would take {:.1} ms), SHA-256 stored {:.1} + image {:.1} ms, rest (parse, other hashes, cache effects) {:.1} ms",
        ms(t(V::FastInflate)),
        ms(t(V::CrcFast)),
        ms(t(V::Crc)),
        ms(t(V::ShaStored)),
        ms(t(V::ShaOut)),
        ms(t(V::E2EFast)) - ms(t(V::FastInflate)) - ms(t(V::ShaStored)) - ms(t(V::ShaOut))
    );
    println!(
        "where (c) goes: libdeflate gzip (inflate + its CRC) {:.1} ms, SHA-256 stored {:.1} + image {:.1} ms",
        ms(t(V::CInflate)),
        ms(t(V::ShaStored)),
        ms(t(V::ShaOut))
    );
    println!(
        "ratios: (a)/(c) = {:.3}   (a')/(c) = {:.3}   (b)/(c) = {:.3}   (d)/(c) = {:.3}   zlib-rs+sha2/(c) = {:.3}",
        ms(t(V::A)) / c,
        ms(t(V::A2)) / c,
        ms(t(V::B)) / c,
        ms(t(V::D)) / c,
        ms(t(V::ZlibRsFull)) / c
    );

    if sweep {
        let chunks = [
            16usize << 10,
            32 << 10,
            64 << 10,
            128 << 10,
            256 << 10,
            1 << 20,
            usize::MAX,
        ];
        let mut s: Vec<Vec<Duration>> = vec![Vec::new(); chunks.len()];
        for round in 0..=iters {
            for (i, &c) in chunks.iter().enumerate() {
                let t0 = Instant::now();
                cx.run(V::A, c);
                if round > 0 {
                    s[i].push(t0.elapsed());
                }
            }
        }
        print!("chunk sweep for (a):");
        for (c, v) in chunks.iter().zip(s) {
            let label = if *c == usize::MAX {
                "all".to_owned()
            } else {
                format!("{}K", c >> 10)
            };
            print!(" {label}={:.2}ms", ms(median(v)));
        }
        println!();
        // The plugged engine's step size, one thread (E') and two (E").
        let fast_chunks = [64usize << 10, 256 << 10, 1 << 20, 4 << 20];
        let mut s: Vec<Vec<Duration>> = vec![Vec::new(); 2 * fast_chunks.len()];
        for round in 0..=iters {
            for (i, &c) in fast_chunks.iter().enumerate() {
                cx.fast = FastEngine::with_chunk_size(c);
                for (j, v) in [V::E2EFast, V::E2EPar].into_iter().enumerate() {
                    let t0 = Instant::now();
                    cx.run(v, gzip::CHUNK);
                    if round > 0 {
                        s[2 * i + j].push(t0.elapsed());
                    }
                }
            }
        }
        cx.fast = FastEngine::new();
        print!("plugged-engine step sweep, (E') / (E\"):");
        let mut s = s.into_iter().map(median);
        for c in fast_chunks {
            let (one, two) = (s.next().unwrap(), s.next().unwrap());
            print!(" {}K={:.2}/{:.2}ms", c >> 10, ms(one), ms(two));
        }
        println!();
    }
    let _ = std::fs::remove_file(bench_inputs_dir().join("bench-out.img"));
    [ms(t(V::E2E)), ms(t(V::E2EFast)), ms(t(V::E2EPar)), c]
}

/// Row 2: `rvf-boot extract` as a process against the Python peer
/// (`benches/peer.py`: C zlib + hashlib/OpenSSL), interleaved, medians.
/// Returns (ours as installed, `RVF_BOOT_ENGINE` unset; ours on one thread,
/// `zlib-rs`; ours with the library's default engine, `miniz`; peer) in ms.
fn process_row(rvf: &Path, iters: usize) -> Option<(f64, f64, f64, f64)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let st = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "-q", "-p", "rvf-boot-cli"])
        .current_dir(&root)
        .status()
        .ok()?;
    if !st.success() {
        println!("SKIP process row: cargo build --release -p rvf-boot-cli failed");
        return None;
    }
    let cli = root.join("target/release/rvf-boot");
    let peer = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/peer.py");
    let out = rvf.with_extension("out");
    let run = |c: &mut Command| {
        let t = Instant::now();
        let o = c.output().unwrap();
        let e = t.elapsed();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        e
    };
    let ours = |engine: Option<&str>| {
        let mut c = Command::new(&cli);
        c.arg("extract").arg(rvf).arg("--kernel").arg(&out);
        match engine {
            Some(e) => c.env("RVF_BOOT_ENGINE", e),
            None => c.env_remove("RVF_BOOT_ENGINE"),
        };
        c
    };
    let mut py = Command::new("python3");
    py.arg(&peer).arg(rvf).arg(&out);
    if py.output().map(|o| !o.status.success()).unwrap_or(true) {
        println!("SKIP process row: python3 benches/peer.py failed");
        return None;
    }
    let (mut a, mut a1, mut b, mut p) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..=iters {
        let x = run(&mut ours(None));
        let x1 = run(&mut ours(Some("zlib-rs")));
        let y = run(&mut ours(Some("miniz")));
        let z = run(&mut py);
        if round > 0 {
            a.push(x);
            a1.push(x1);
            b.push(y);
            p.push(z);
        }
    }
    let (sa, sp) = (spread(&a), spread(&p));
    let r = (ms(median(a)), ms(median(a1)), ms(median(b)), ms(median(p)));
    println!(
        "process: rvf-boot extract {:.1} ms (the default here: {}; one thread, RVF_BOOT_ENGINE=zlib-rs: {:.1} ms; library's default engine: {:.1} ms), Python peer (zlib + hashlib) {:.1} ms; noise p25-p75 {:.2}-{:.2} / {:.2}-{:.2}",
        r.0,
        cli_default().1,
        r.1,
        r.2,
        r.3,
        sa.0,
        sa.1,
        sp.0,
        sp.1
    );
    let _ = std::fs::remove_file(out);
    Some(r)
}

/// The CLI's default configuration on this machine (`RVF_BOOT_ENGINE`
/// unset) and a phrase naming it.
fn cli_default() -> (Choice, &'static str) {
    let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let c = Choice::default_for(cpus);
    let what = match c {
        Choice::ZlibRsTwoCpus => {
            "zlib-rs + crc32fast, content and image hashes on a 2nd thread, (E\")"
        }
        Choice::ZlibRs => "zlib-rs + crc32fast, one thread, (E')",
        Choice::Miniz => "miniz_oxide, (E)",
    };
    (c, what)
}

/// Row 3: `qemu/bench.sh RUNS`, its output passed through; returns the
/// ratio line.
fn boot_row(runs: usize) -> Option<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let o = Command::new("bash")
        .arg(root.join("qemu/bench.sh"))
        .arg(runs.to_string())
        .current_dir(&root)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    print!("{text}");
    text.lines()
        .find(|l| l.starts_with("ratio stub/direct"))
        .map(str::to_owned)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let iters = args
        .iter()
        .position(|a| a == "--iters")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(if quick { 5 } else { 21 });
    let boot = args
        .iter()
        .position(|a| a == "--boot")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse::<usize>().ok());
    let mut headline = Vec::new();
    match debian_kernel() {
        Ok((name, k)) => {
            let [e, e_fast, e_par, c] =
                bench(&format!("Debian {name}"), "debian", k, iters, !quick);
            let (choice, what) = cli_default();
            let ours = match choice {
                Choice::ZlibRsTwoCpus => e_par,
                Choice::ZlibRs => e_fast,
                Choice::Miniz => e,
            };
            headline.push(format!(
                "library end to end (parse + select + extract), Debian kernel | {ours:.1} ms (the CLI's default here: {what}; one thread {e_fast:.1} ms; content + image hashes on a 2nd thread {e_par:.1} ms; library's default miniz_oxide {e:.1} ms) | libdeflate + SHA-256 x2: {c:.1} ms | {:.3} (one thread {:.3}; 2nd thread {:.3}; default engine {:.3}) | <= 1.00",
                ours / c,
                e_fast / c,
                e_par / c,
                e / c
            ));
            let rvf = bench_inputs_dir().join("bench-debian.rvf");
            if let Some((a, a1, b, p)) = process_row(&rvf, iters) {
                headline.push(format!(
                    "`rvf-boot extract` process | {a:.1} ms (the default here: {what}; one thread {a1:.1} ms; default engine {b:.1} ms) | Python peer, C zlib + hashlib: {p:.1} ms | {:.3} (one thread {:.3}; default engine {:.3}) | <= 0.50",
                    a / p,
                    a1 / p,
                    b / p
                ));
            }
        }
        Err(e) => println!("SKIP Debian cloud kernel: {e}"),
    }
    bench(
        "synthetic pseudo-text",
        "synthetic",
        synthetic(14 << 20),
        iters,
        !quick,
    );
    match boot.map(boot_row) {
        Some(Some(l)) => headline.push(format!("qemu/bench.sh boot to /init | {l} | <= 1.15")),
        Some(None) => headline.push("qemu/bench.sh boot: failed (see above)".into()),
        None => headline
            .push("qemu/bench.sh boot: not run (pass --boot RUNS, or run qemu/bench.sh)".into()),
    }
    println!("\n== headline (issue 13): what | ours | reference | ratio | goal");
    for l in headline {
        println!("{l}");
    }
}
