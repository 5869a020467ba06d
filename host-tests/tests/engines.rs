//! Every inflate engine gives the same results and the same errors (issue
//! 13): the library's own (`InflateState`: miniz_oxide + `crc`), the CLI's
//! plugged one (`rvf_boot_cli::engine::FastEngine`: zlib-rs + crc32fast), and
//! that one with the image hashes on a second thread (`inflate_joined` /
//! `extract_joined` with the CLI's `Threads`, and with `Sequential`), on
//! the golden files, on damaged copies of them (stored bytes flipped behind a
//! recomputed content hash) and on damaged gzip members (truncated at every
//! length, every byte of a member flipped, trailer/size/bomb cases).
#![allow(
    clippy::unwrap_used,
    clippy::as_conversions,
    clippy::cast_possible_truncation
)]

use flate2::{Compression, write::GzEncoder};
use rvf_boot::gzip::{self, GzipInfo, InflateState, Inflater, Step};
use rvf_boot::image::{self, VerifiedImage};
use rvf_boot::joined::{self, Join, Sequential};
use rvf_boot::{Container, Error, Policy};
use rvf_boot_cli::engine::{FastEngine, Threads};
use rvf_testkit::build::{noise, text};
use rvf_testkit::mutate::{Damage, mutate};
use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

/// What one engine made of a member: the output (the whole buffer, so that
/// the bytes past `image_size` are compared too) and the `GzipInfo`, or the
/// error.
type Inflated<'a> = Result<(Vec<u8>, GzipInfo<'a>), Error>;

fn inflate_with<'a, E: Inflater + ?Sized>(
    e: &mut E,
    stored: &'a [u8],
    image_size: u64,
    buf: usize,
) -> (Inflated<'a>, Vec<u8>, Vec<u8>) {
    let mut out = vec![0xEEu8; buf];
    let mut seen = Vec::new();
    let r = gzip::inflate_with(stored, &mut out, image_size, e, &mut |c: &[u8]| {
        seen.extend_from_slice(c);
    });
    assert_eq!(seen, out[..seen.len()]);
    if r.is_ok() {
        assert_eq!(seen.len() as u64, image_size);
    }
    (r.map(|info| (out.clone(), info)), seen, out)
}

/// `inflate_joined` with `e` and `join`; the sink's chunks are at most the
/// engine's chunk size, and its bytes a prefix of `seen` (the sequential
/// sink's), all of them when the member is accepted. Returns the result
/// and the whole buffer (partial output on error).
fn inflate_joined<'a, E: Inflater + ?Sized, J: Join>(
    e: &mut E,
    join: &J,
    stored: &'a [u8],
    image_size: u64,
    buf: usize,
    seen: &[u8],
) -> (Inflated<'a>, Vec<u8>) {
    let mut out = vec![0xEEu8; buf];
    let mut joined = Vec::new();
    let chunk = e.chunk_size();
    let r = joined::inflate_joined(
        stored,
        &mut out,
        image_size,
        e,
        &mut |c: &[u8]| {
            assert!(!c.is_empty() && c.len() <= chunk, "{} > {chunk}", c.len());
            joined.extend_from_slice(c);
        },
        join,
    );
    if r.is_ok() {
        assert_eq!(joined, seen);
    } else {
        assert_eq!(joined, seen[..joined.len()]);
    }
    (r.map(|info| (out.clone(), info)), out)
}

/// Every engine, joined or not, on one member; returns the common result.
/// `chunks`: the library engine's chunk sizes to run joined.
fn same_chunks<'a>(
    stored: &'a [u8],
    image_size: u64,
    buf: usize,
    chunks: &[usize],
    what: &str,
) -> Inflated<'a> {
    let (reference, seen, partial) = inflate_with(
        &mut *Box::<InflateState>::default(),
        stored,
        image_size,
        buf,
    );
    let (fast, ..) = inflate_with(&mut FastEngine::new(), stored, image_size, buf);
    assert_eq!(reference, fast, "{what}");
    // A small chunk so that even small members take several steps.
    let mut e = FastEngine::with_chunk_size(4096);
    let (joined, _) = inflate_joined(&mut e, &Threads, stored, image_size, buf, &seen);
    assert_eq!(reference, joined, "{what} (two threads)");
    let (sequential, _) = inflate_joined(&mut e, &Sequential, stored, image_size, buf, &seen);
    assert_eq!(reference, sequential, "{what} (joined, one thread)");
    for &chunk in chunks {
        let mut e = Box::new(InflateState::with_chunk_size(chunk));
        // The same engine: the same partial output on error too.
        let r = inflate_joined(&mut *e, &Sequential, stored, image_size, buf, &seen);
        assert_eq!(
            (&reference, &partial),
            (&r.0, &r.1),
            "{what} (miniz, chunk {chunk}, one thread)"
        );
        // A thread per step: not for the tiny chunks.
        if chunk >= 1000 {
            let r = inflate_joined(&mut *e, &Threads, stored, image_size, buf, &seen);
            assert_eq!(
                (&reference, &partial),
                (&r.0, &r.1),
                "{what} (miniz, chunk {chunk}, two threads)"
            );
        }
    }
    reference
}

/// [`same_chunks`] with the library engine joined at 4 KiB and 64 KiB.
fn same<'a>(stored: &'a [u8], image_size: u64, buf: usize, what: &str) -> Inflated<'a> {
    same_chunks(stored, image_size, buf, &[4096, gzip::CHUNK], what)
}

fn gz(data: &[u8], level: u32) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::new(level));
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn members_inflate_the_same() {
    for (data, level) in [
        (Vec::new(), 9),
        (text(1), 9),
        (text(300_000), 9),
        (text(300_000), 1),
        (text(300_000), 0),
        (noise(5, 200_000), 6),
    ] {
        let m = gz(&data, level);
        let n = data.len() as u64;
        let (out, info) = same(&m, n, data.len(), "valid").unwrap();
        assert_eq!((out, info.crc32), (data.clone(), gzip::crc32(&data)));
        // Declared one byte short (a bomb) and one byte long.
        if n > 0 {
            assert_eq!(
                same(&m, n - 1, data.len(), "short"),
                Err(Error::ImageOverflow { image_size: n - 1 })
            );
        }
        assert_eq!(
            same(&m, n + 1, data.len() + 1, "long"),
            Err(Error::ImageShort {
                image_size: n + 1,
                produced: n
            })
        );
        // A buffer too small, bytes after the member.
        if n > 0 {
            assert!(matches!(
                same(&m, n, data.len() - 1, "buffer"),
                Err(Error::BufferTooSmall { .. })
            ));
        }
        let mut extra = m.clone();
        extra.push(0);
        assert!(matches!(
            same(&extra, n, data.len(), "trailing"),
            Err(Error::GzipTrailingBytes { .. })
        ));
    }
}

#[test]
fn truncated_and_flipped_members_fail_the_same() {
    let data = text(10_000);
    let m = gz(&data, 9);
    let n = data.len() as u64;
    for cut in 0..m.len() {
        assert!(same(&m[..cut], n, data.len(), &format!("cut {cut}")).is_err());
    }
    let mut accepted = Vec::new();
    for i in 0..m.len() {
        for bit in [0x01u8, 0x80] {
            let mut d = m.clone();
            d[i] ^= bit;
            if let Ok((out, ..)) = same(&d, n, data.len(), &format!("byte {i} ^ {bit:#x}")) {
                assert_eq!(out, data, "byte {i} ^ {bit:#x}");
                accepted.push((i, bit));
            }
        }
    }
    // Only informational bits change nothing: FTEXT, MTIME, XFL, OS, and
    // the padding bits after the final block.
    assert!(
        accepted
            .iter()
            .all(|&(i, b)| (3..10).contains(&i) || i == m.len() - 9 && b == 0x80)
    );
}

fn summary(v: &VerifiedImage<'_>) -> (Vec<u8>, [u8; 32], u64, Option<u32>, String, String) {
    (
        v.bytes().to_vec(),
        v.sha256(),
        v.kernel_offset(),
        v.gzip_crc32(),
        format!("{:?}", v.image_hash()),
        format!("{:?}", v.content_hash()),
    )
}

type Extracted = Result<(Vec<u8>, [u8; 32], u64, Option<u32>, String, String), Error>;

/// Parse, select and extract `rvf` with both engines under `policy`.
fn extract_both(rvf: &[u8], policy: Policy, what: &str) -> Extracted {
    let c = Container::parse(rvf, policy)?;
    let k = c.selected_kernel()?;
    let mut out = vec![0u8; image::buffer_size(&k) as usize];
    let reference = image::extract(&k, &mut out, &mut InflateState::new()).map(|v| summary(&v));
    let mut out2 = vec![0u8; out.len()];
    let fast = image::extract_with(&k, &mut out2, &mut FastEngine::new()).map(|v| summary(&v));
    assert_eq!(reference, fast, "{what}");
    let mut out3 = vec![0u8; out.len()];
    let joined =
        image::extract_joined(&k, &mut out3, &mut FastEngine::new(), &Threads).map(|v| summary(&v));
    assert_eq!(reference, joined, "{what} (two threads)");
    for chunk in [1000, gzip::CHUNK] {
        let mut e = Box::new(InflateState::with_chunk_size(chunk));
        let mut out4 = vec![0u8; out.len()];
        let joined = image::extract_joined(&k, &mut out4, &mut *e, &Threads).map(|v| summary(&v));
        assert_eq!(
            reference, joined,
            "{what} (miniz, chunk {chunk}, two threads)"
        );
        let mut out5 = vec![0u8; out.len()];
        let joined =
            image::extract_joined(&k, &mut out5, &mut *e, &Sequential).map(|v| summary(&v));
        assert_eq!(
            reference, joined,
            "{what} (miniz, chunk {chunk}, one thread)"
        );
    }
    reference
}

#[test]
fn golden_files_extract_the_same() {
    let mut gzipped = 0;
    for (name, rvf) in host_tests::golden_files() {
        for policy in [Policy::default(), Policy::allowing_unset_hash(true)] {
            if let Ok(v) = extract_both(&rvf, policy, &name) {
                gzipped += usize::from(v.3.is_some());
            }
        }
    }
    assert!(gzipped >= 2, "{gzipped}");
}

#[test]
fn damaged_golden_kernels_fail_the_same() {
    let mut failures = 0;
    for (name, rvf) in host_tests::golden_files() {
        for damage in [Damage::FlipStored, Damage::ImageHash] {
            for rehash in [false, true] {
                let mut d = rvf.clone();
                if mutate(&mut d, damage, rehash).is_err() {
                    continue;
                }
                let what = format!("{name} {damage:?} rehash {rehash}");
                if extract_both(&d, Policy::default(), &what).is_err() {
                    failures += 1;
                }
            }
        }
    }
    assert!(failures >= 8, "{failures}");
}

/// Chunk sizes around the deflate window, for the library engine joined.
const WINDOW_CHUNKS: [usize; 9] = [1, 7, 1000, 4096, 32767, 32768, 32769, 65536, 1 << 20];

#[test]
fn golden_kernel_streams_inflate_the_same() {
    let mut streams = 0;
    for (name, rvf) in host_tests::golden_files() {
        let Ok(c) = Container::parse(&rvf, Policy::allowing_unset_hash(true)) else {
            continue;
        };
        let Ok(k) = c.selected_kernel() else {
            continue;
        };
        let stored = k.stored_unverified();
        if !gzip::is_gzip(stored) {
            continue;
        }
        let n = k.image_size();
        let (out, info) = same_chunks(stored, n, n as usize, &WINDOW_CHUNKS, &name).unwrap();
        assert_eq!(info.crc32, gzip::crc32(&out));
        streams += 1;
    }
    assert!(streams >= 2, "{streams}");
}

/// A raw deflate stream written by hand: bits go in LSB first, Huffman
/// codes MSB first (RFC 1951 §3.1.1).
#[derive(Default)]
struct Deflate {
    bytes: Vec<u8>,
    acc: u64,
    n: u32,
    /// What the stream inflates to.
    image: Vec<u8>,
}

/// RFC 1951 §3.2.5: base lengths of symbols 257.., base distances of codes 0...
const LENGTH_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const DIST_BASE: [u32; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];

impl Deflate {
    fn bits(&mut self, value: u32, count: u32) {
        self.acc |= u64::from(value) << self.n;
        self.n += count;
        while self.n >= 8 {
            self.bytes.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    fn code(&mut self, code: u32, len: u32) {
        self.bits(code.reverse_bits() >> (32 - len), len);
    }

    fn align(&mut self) {
        if self.n > 0 {
            self.bits(0, 8 - self.n);
        }
    }

    /// A stored block (`data` < 64 KiB).
    fn stored(&mut self, data: &[u8], last: bool) {
        self.bits(u32::from(last), 3);
        self.align();
        let len = data.len() as u16;
        self.bytes.extend_from_slice(&len.to_le_bytes());
        self.bytes.extend_from_slice(&(!len).to_le_bytes());
        self.bytes.extend_from_slice(data);
        self.image.extend_from_slice(data);
    }

    /// The header of a fixed-Huffman block.
    fn fixed(&mut self, last: bool) {
        self.bits(u32::from(last) | 1 << 1, 3);
    }

    fn symbol(&mut self, s: u32) {
        match s {
            0..=143 => self.code(0x30 + s, 8),
            144..=255 => self.code(0x190 + s - 144, 9),
            256..=279 => self.code(s - 256, 7),
            _ => self.code(0xC0 + s - 280, 8),
        }
    }

    fn literal(&mut self, b: u8) {
        self.symbol(u32::from(b));
        self.image.push(b);
    }

    /// A match with a raw distance code (30 and 31 are invalid); the image
    /// copies `dist` back when that is inside it.
    fn matched(&mut self, len: u16, dist_code: u32, dist_extra: u32) {
        let i = if len == 258 {
            28
        } else {
            LENGTH_BASE.iter().rposition(|&b| b <= len).unwrap().min(27)
        };
        self.symbol(257 + i as u32);
        let len_extra = [
            0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
        ][i];
        self.bits(u32::from(len - LENGTH_BASE[i]), len_extra);
        self.code(dist_code, 5);
        let dist_bits = if dist_code < 4 {
            0
        } else {
            (dist_code - 2) / 2
        };
        self.bits(dist_extra, dist_bits);
        let dist = DIST_BASE
            .get(dist_code as usize)
            .map(|b| (b + dist_extra) as usize);
        if let Some(from) = dist.and_then(|d| self.image.len().checked_sub(d)) {
            for j in 0..usize::from(len) {
                let b = self.image[from + j];
                self.image.push(b);
            }
        }
    }

    /// A match at `dist` (1 ..= 32768).
    fn copy(&mut self, len: u16, dist: u32) {
        let code = DIST_BASE.iter().rposition(|&b| b <= dist).unwrap() as u32;
        self.matched(len, code, dist - DIST_BASE[code as usize]);
    }

    fn end_of_block(&mut self) {
        self.symbol(256);
    }

    /// The gzip member around the stream (`image` declared as written).
    fn member(mut self) -> (Vec<u8>, Vec<u8>) {
        self.align();
        let mut m = vec![0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 0xFF];
        m.extend_from_slice(&self.bytes);
        m.extend_from_slice(&gzip::crc32(&self.image).to_le_bytes());
        m.extend_from_slice(&(self.image.len() as u32).to_le_bytes());
        (m, self.image)
    }
}

/// Back-references of exactly 32768 bytes, of every length, from the first
/// byte past the first 32 KiB on, crossing every kind of chunk edge.
#[test]
fn window_edge_matches_inflate_the_same() {
    let mut d = Deflate::default();
    d.stored(&noise(9, 32768), false);
    d.fixed(true);
    for i in 0..700u32 {
        d.copy(3 + (i * 37 % 256) as u16, 32768);
        if i % 5 == 0 {
            d.literal(i as u8);
        }
        if i % 7 == 0 {
            d.copy(258, 1 + i * 13 % 32768);
        }
    }
    d.end_of_block();
    let (m, image) = d.member();
    assert!(image.len() > 3 * 32768, "{}", image.len());
    assert_eq!(image[32768..32771], image[..3]);
    let n = image.len();
    let (out, info) = same_chunks(&m, n as u64, n + 5, &WINDOW_CHUNKS, "window edge").unwrap();
    assert_eq!((&out[..n], &out[n..]), (&image[..], &[0xEE; 5][..]));
    assert_eq!(info.crc32, gzip::crc32(&image));
    // Cut anywhere: the same errors.
    for cut in (0..m.len()).step_by(97) {
        let e = same_chunks(
            &m[..cut],
            n as u64,
            n,
            &[1000, 32768],
            &format!("cut {cut}"),
        );
        assert!(e.is_err(), "cut {cut}");
    }
}

/// A first match reaching before the output's start is refused the same
/// way by every engine, below, at and above the 32 KiB window; a distance
/// of exactly the output so far is accepted.
#[test]
fn matches_before_the_start_fail_the_same() {
    for (before, dist, ok) in [
        (1, 2, false),
        (100, 101, false),
        (100, 100, true),
        (32767, 32768, false),
        (32767, 32767, true),
        (32768, 32768, true),
        (40000, 32768, true),
    ] {
        let mut d = Deflate::default();
        d.stored(&noise(11, before), false);
        d.fixed(true);
        d.copy(258, dist);
        d.literal(b'!');
        d.end_of_block();
        let (m, image) = d.member();
        let n = if ok { image.len() } else { before + 259 };
        let what = format!("{before} bytes, distance {dist}");
        let r = same_chunks(&m, n as u64, n, &WINDOW_CHUNKS, &what);
        if ok {
            assert_eq!(r.unwrap().0, image, "{what}");
        } else {
            // Refused before the match writes anything.
            assert!(
                matches!(
                    r,
                    Err(Error::Inflate {
                        reason: gzip::InflateFailure::InvalidData,
                        output_offset,
                        ..
                    }) if output_offset == before as u64
                ),
                "{what}: {r:?}"
            );
        }
    }
}

/// Distance codes 30 and 31 (invalid) and a reserved block type after more
/// than 32 KiB of output.
#[test]
fn invalid_data_past_the_window_fails_the_same() {
    for (code, before) in [(30, 100), (31, 40000), (30, 40000)] {
        let mut d = Deflate::default();
        d.stored(&noise(13, before), false);
        d.fixed(true);
        d.literal(b'a');
        d.matched(10, code, 0);
        d.end_of_block();
        let (m, _) = d.member();
        let n = before + 20;
        let what = format!("distance code {code} after {before}");
        let r = same_chunks(&m, n as u64, n, &WINDOW_CHUNKS, &what);
        assert!(
            matches!(
                r,
                Err(Error::Inflate {
                    reason: gzip::InflateFailure::InvalidData,
                    output_offset,
                    ..
                }) if output_offset == before as u64 + 1
            ),
            "{what}: {r:?}"
        );
    }
    let mut d = Deflate::default();
    d.stored(&noise(13, 40000), false);
    d.bits(1 | 3 << 1, 3); // final, reserved type 3
    let (m, _) = d.member();
    let r = same_chunks(&m, 40000, 40000, &WINDOW_CHUNKS, "reserved block type");
    assert!(
        matches!(
            r,
            Err(Error::Inflate {
                reason: gzip::InflateFailure::InvalidData,
                output_offset: 40000,
                ..
            })
        ),
        "{r:?}"
    );
}

/// The library engine, watched: every step is given the last
/// `min(32768, produced)` bytes before its room and nothing after it, and
/// every output byte is CRC'd once (counted in [`WATCHED_CRC_BYTES`]: the
/// CRC is a plain function, run with the sink).
struct Watched {
    inner: Box<InflateState>,
    steps: usize,
    produced: usize,
}

/// Bytes [`Watched`]'s CRC-32 has seen (only `joined_work_is_counted` uses
/// it).
static WATCHED_CRC_BYTES: AtomicUsize = AtomicUsize::new(0);

impl Inflater for Watched {
    fn reset(&mut self) {
        self.inner.reset();
    }

    fn step(&mut self, input: &[u8], out: &mut [u8], out_pos: usize, room: usize) -> Step {
        assert_eq!(out_pos, self.produced.min(gzip::DEFLATE_WINDOW));
        assert_eq!(out.len(), out_pos + room, "the slice ends at the room");
        let s = self.inner.step(input, out, out_pos, room);
        self.steps += 1;
        self.produced += s.produced;
        s
    }

    fn chunk_size(&self) -> usize {
        self.inner.chunk_size()
    }

    fn crc32(&self) -> gzip::Crc32Fn {
        |crc, bytes| {
            WATCHED_CRC_BYTES.fetch_add(bytes.len(), SeqCst);
            gzip::crc32_update(crc, bytes)
        }
    }

    fn reaches_back(&self) -> Option<usize> {
        self.inner.reaches_back()
    }
}

/// Bounded work, counted: one step per chunk (plus the one that finds the
/// end), each byte CRC'd once and given to the sink once, in pieces of at
/// most a chunk, whatever the chunk size.
#[test]
fn joined_work_is_counted() {
    let data = text(300_000);
    let m = gz(&data, 9);
    let n = data.len();
    for chunk in [1000, 32768, 50_000, gzip::CHUNK] {
        let mut e = Watched {
            inner: Box::new(InflateState::with_chunk_size(chunk)),
            steps: 0,
            produced: 0,
        };
        WATCHED_CRC_BYTES.store(0, SeqCst);
        let mut out = vec![0u8; n];
        let (mut sunk, mut calls) = (0, 0);
        let info = joined::inflate_joined(
            &m,
            &mut out,
            n as u64,
            &mut e,
            &mut |c: &[u8]| {
                assert!(c.len() <= chunk);
                sunk += c.len();
                calls += 1;
            },
            &Sequential,
        )
        .unwrap();
        assert_eq!(info.crc32, gzip::crc32(&data));
        assert_eq!(out, data);
        let steps = n.div_ceil(chunk);
        assert!(
            e.steps == steps || e.steps == steps + 1,
            "{chunk}: {} steps",
            e.steps
        );
        assert_eq!(
            (e.produced, WATCHED_CRC_BYTES.load(SeqCst), sunk),
            (n, n, n),
            "chunk {chunk}"
        );
        // One sink call per step, plus the last 32 KiB (and the last
        // chunk) in pieces of at most a chunk.
        assert!(
            calls <= e.steps + 32768usize.div_ceil(chunk) + 1,
            "{chunk}: {calls} calls"
        );
    }
}
