//! gzip inflate and image-hash tests on real deflate streams (flate2 /
//! zlib-style encoders), plus the stack high-water of inflate + hash.
#![allow(
    clippy::unwrap_used,
    clippy::as_conversions,
    clippy::cast_possible_truncation
)]

use flate2::{Compression, GzBuilder, write::GzEncoder};
use host_tests::measure::high_water;
use rvf_boot::Error;
use rvf_boot::gzip::{self, CHUNK, GzipInfo, InflateFailure, InflateState, MemberPart};
use rvf_boot::image_hash::{self, Candidates, ImageHash, ImageHashCheck, ImageHasher};
use rvf_testkit::build::noise;
use sha2::Digest as _;
use std::io::Write as _;

fn gz(data: &[u8], level: u32) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::new(level));
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn text(n: usize) -> Vec<u8> {
    let words = [
        "kernel ",
        "segment ",
        "the ",
        "boot\n",
        "0x1000000 ",
        "manifest ",
        "hash ",
    ];
    let r = noise(7, n);
    let mut v = Vec::with_capacity(n + 16);
    let mut i = 0;
    while v.len() < n {
        v.extend_from_slice(words[r[i % r.len()] as usize % words.len()].as_bytes());
        i += 1;
    }
    v.truncate(n);
    v
}

struct Run {
    out: Vec<u8>,
    chunks: Vec<usize>,
}

fn run_buf(stored: &[u8], image_size: u64, buf: usize) -> Result<(Run, GzipInfo<'_>), Error> {
    let mut state = Box::<InflateState>::default();
    let mut out = vec![0xEEu8; buf];
    let mut seen = Vec::new();
    let mut chunks = Vec::new();
    let info = gzip::inflate(
        stored,
        &mut out,
        image_size,
        &mut state,
        &mut |c: &[u8]| {
            chunks.push(c.len());
            seen.extend_from_slice(c);
        },
    )?;
    assert_eq!(seen, out[..image_size as usize]);
    Ok((Run { out: seen, chunks }, info))
}

fn run(stored: &[u8], image_size: u64) -> Result<Run, Error> {
    run_buf(stored, image_size, image_size as usize).map(|r| r.0)
}

#[test]
fn roundtrip_levels_and_chunk_boundaries() {
    let sizes = [
        0,
        1,
        13,
        4095,
        CHUNK - 1,
        CHUNK,
        CHUNK + 1,
        3 * CHUNK + 7,
        300_000,
    ];
    let mut cases = 0;
    for &n in &sizes {
        for data in [noise(n as u64 + 1, n), text(n), vec![0u8; n]] {
            for level in [0, 1, 6, 9] {
                let z = gz(&data, level);
                let (r, info) = run_buf(&z, n as u64, n + 100).unwrap();
                assert_eq!(r.out, data, "n={n} level={level}");
                assert_eq!(info.image_size, n as u64);
                assert_eq!(info.crc32, gzip::crc32(&data));
                assert_eq!(info.header.len + info.deflate_len + 8, z.len() as u64);
                assert!(
                    r.chunks.iter().all(|&c| c > 0 && c <= CHUNK),
                    "chunk sizes {:?}",
                    r.chunks
                );
                assert_eq!(r.chunks.iter().sum::<usize>(), n);
                cases += 1;
            }
        }
    }
    assert_eq!(cases, sizes.len() * 3 * 4);
}

#[test]
fn header_fields_from_gzbuilder() {
    let data = text(10_000);
    let mut e = GzBuilder::new()
        .filename("vmlinuz-6.1")
        .comment("built by a test")
        .extra(vec![b'R', b'V', 2, 0, 0xAB, 0xCD])
        .mtime(0x6543_2100)
        .operating_system(3)
        .write(Vec::new(), Compression::best());
    e.write_all(&data).unwrap();
    let z = e.finish().unwrap();
    let h = gzip::parse_header(&z).unwrap();
    // RFC 1952 §2.3.1: FEXTRA 0x04, FNAME 0x08, FCOMMENT 0x10.
    assert_eq!(h.flags, 0x04 | 0x08 | 0x10);
    assert_eq!(h.mtime, 0x6543_2100);
    assert_eq!(h.os, 3);
    assert_eq!(h.extra, Some(&[b'R', b'V', 2, 0, 0xAB, 0xCD][..]));
    assert_eq!(h.name, Some(&b"vmlinuz-6.1"[..]));
    assert_eq!(h.comment, Some(&b"built by a test"[..]));
    assert_eq!(h.header_crc16, None);
    assert_eq!(h.len, 10 + 2 + 6 + 12 + 16);
    assert_eq!(run(&z, data.len() as u64).unwrap().out, data);
}

#[test]
fn node_style_header_is_accepted() {
    // build-rvf.js / gzip -n: 1F 8B 08 00 00000000 XFL OS.
    let data = text(5000);
    let mut z = gz(&data, 9);
    z[8] = 2;
    z[9] = 3;
    assert!(gzip::is_gzip(&z));
    let h = gzip::parse_header(&z).unwrap();
    assert_eq!((h.flags, h.mtime, h.xfl, h.os, h.len), (0, 0, 2, 3, 10));
    assert_eq!(run(&z, 5000).unwrap().out, data);
}

#[test]
fn truncation_at_every_length() {
    let data = text(20_000);
    let z = gz(&data, 9);
    let (_, info) = run_buf(&z, 20_000, 20_000).unwrap();
    let deflate_end = (info.header.len + info.deflate_len) as usize;
    for n in 0..z.len() {
        let e = run(&z[..n], 20_000)
            .err()
            .unwrap_or_else(|| panic!("accepted a {n}-byte prefix"));
        if n < 10 {
            assert_eq!(
                e,
                Error::GzipTruncated {
                    part: MemberPart::Header,
                    at: 0,
                    needed: 10,
                    available: n as u64
                }
            );
        } else if n < deflate_end {
            assert!(
                matches!(
                    e,
                    Error::Inflate {
                        reason: InflateFailure::EndsEarly,
                        ..
                    }
                ),
                "n={n}: {e:?}"
            );
        } else {
            assert_eq!(
                e,
                Error::GzipTruncated {
                    part: MemberPart::Trailer,
                    at: deflate_end as u64,
                    needed: 8,
                    available: (n - deflate_end) as u64
                },
                "n={n}"
            );
        }
    }
}

#[test]
fn invalid_huffman_tables() {
    // Dynamic block (BFINAL=1, BTYPE=2), HLIT=HDIST=HCLEN=0 and all four
    // code-length code lengths zero: an empty code, not a valid table.
    let mut z = vec![0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3, 0x05, 0x00, 0x00, 0x00];
    z.extend_from_slice(&[0; 8]);
    assert_eq!(
        run(&z, 0).err(),
        Some(Error::Inflate {
            reason: InflateFailure::InvalidData,
            input_offset: 14,
            output_offset: 0
        })
    );
    // Fixed block whose first symbol is a match (length 3, distance 1) with
    // nothing produced yet: a distance before the start of the output.
    // Bits: BFINAL 1, BTYPE 01, litlen 257 = 0000001 (7 bits), dist code 0 = 00000.
    let mut z = vec![0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3, 0x03, 0x02, 0x00];
    z.extend_from_slice(&[0; 8]);
    assert!(
        matches!(
            run(&z, 3).err(),
            Some(Error::Inflate {
                reason: InflateFailure::InvalidData,
                output_offset: 0,
                ..
            })
        ),
        "{:?}",
        run(&z, 3).err()
    );
}

#[test]
fn corrupted_stream_never_yields_wrong_bytes() {
    let data = text(30_000);
    let z = gz(&data, 9);
    let mut variants = std::collections::BTreeSet::new();
    for i in 10..z.len() - 8 {
        for bit in [0x01u8, 0x10, 0x80] {
            let mut c = z.clone();
            c[i] ^= bit;
            match run(&c, data.len() as u64) {
                Ok(r) => assert_eq!(
                    r.out, data,
                    "byte {i} bit {bit:#x} accepted with different output"
                ),
                Err(e) => {
                    let name = format!("{e:?}");
                    variants.insert(name.split([' ', '{']).next().unwrap().to_owned());
                    assert!(
                        matches!(
                            e,
                            Error::Inflate { .. }
                                | Error::GzipCrc { .. }
                                | Error::ImageShort { .. }
                                | Error::ImageOverflow { .. }
                                | Error::GzipTrailingBytes { .. }
                                | Error::GzipTruncated {
                                    part: MemberPart::Trailer,
                                    ..
                                }
                        ),
                        "{e:?}"
                    );
                }
            }
        }
    }
    // Corrupting Huffman-coded data must be caught both by the decoder and,
    // when it decodes to other bytes of the right length, by the CRC.
    assert!(variants.contains("Inflate"), "{variants:?}");
    assert!(variants.contains("GzipCrc"), "{variants:?}");
}

#[test]
fn trailer_checks() {
    let data = noise(3, 100_000);
    let z = gz(&data, 6);
    let n = z.len();
    let crc = gzip::crc32(&data);
    let mut bad_crc = z.clone();
    bad_crc[n - 8] ^= 0x5A;
    assert_eq!(
        run(&bad_crc, 100_000).err(),
        Some(Error::GzipCrc {
            stored: crc ^ 0x5A,
            computed: crc
        })
    );
    let mut bad_size = z.clone();
    bad_size[n - 4..].copy_from_slice(&99_999u32.to_le_bytes());
    assert_eq!(
        run(&bad_size, 100_000).err(),
        Some(Error::GzipSize {
            stored: 99_999,
            computed: 100_000
        })
    );
    for extra in [&[0u8][..], &[0u8; 7], &z[..]] {
        let mut t = z.clone();
        t.extend_from_slice(extra);
        assert_eq!(
            run(&t, 100_000).err(),
            Some(Error::GzipTrailingBytes {
                at: n as u64,
                count: extra.len() as u64
            })
        );
    }
}

#[test]
fn sizes_bomb_and_buffer() {
    // 1 MiB of zeros is ~1 KiB of deflate.
    let data = vec![0u8; 1 << 20];
    let z = gz(&data, 9);
    assert!(z.len() < 2048);
    // Declared 1000 bytes, buffer has room for more: refused, and nothing
    // was written past the declared size.
    let mut state = Box::<InflateState>::default();
    let mut out = vec![0xEEu8; 1 << 20];
    let mut total = 0;
    let r = gzip::inflate(&z, &mut out, 1000, &mut state, &mut |c: &[u8]| {
        total += c.len()
    });
    assert_eq!(r.err(), Some(Error::ImageOverflow { image_size: 1000 }));
    assert_eq!(total, 1000);
    assert!(out[1000..].iter().all(|&b| b == 0xEE));
    // One byte too many declared, one byte short of buffer.
    let n = 1u64 << 20;
    assert_eq!(
        run_buf(&z, n - 1, 1 << 20).err(),
        Some(Error::ImageOverflow { image_size: n - 1 })
    );
    assert_eq!(
        run_buf(&z, n + 1, (1 << 20) + 1).err(),
        Some(Error::ImageShort {
            image_size: n + 1,
            produced: n
        })
    );
    assert_eq!(
        run_buf(&z, n, (1 << 20) - 1).err(),
        Some(Error::BufferTooSmall {
            needed: n,
            available: n - 1
        })
    );
    assert_eq!(run_buf(&z, n, 1 << 20).unwrap().0.out.len(), 1 << 20);
}

#[test]
fn state_is_reset_between_calls() {
    let a = text(70_000);
    let b = noise(9, 50_000);
    let (za, zb) = (gz(&a, 9), gz(&b, 1));
    let mut state = Box::<InflateState>::default();
    let mut out = vec![0u8; 70_000];
    // A failed run leaves the state mid-stream; the next must not care.
    let _ = gzip::inflate(
        &za[..za.len() / 2],
        &mut out,
        70_000,
        &mut state,
        &mut |_: &[u8]| {},
    );
    gzip::inflate(&zb, &mut out, 50_000, &mut state, &mut |_: &[u8]| {}).unwrap();
    assert_eq!(out[..50_000], b[..]);
    gzip::inflate(&za, &mut out, 70_000, &mut state, &mut |_: &[u8]| {}).unwrap();
    assert_eq!(out, a);
}

#[test]
fn one_pass_hash_equals_separate_hashes() {
    let data = text(3 * CHUNK + 12_345);
    let z = gz(&data, 9);
    let mut state = Box::<InflateState>::default();
    let mut out = vec![0u8; data.len()];
    let mut h = ImageHasher::new(Candidates::ALL);
    gzip::inflate(
        &z,
        &mut out,
        data.len() as u64,
        &mut state,
        &mut |c: &[u8]| h.update(c),
    )
    .unwrap();
    let d = h.finalize();
    let sha: [u8; 32] = sha2::Sha256::digest(&data).into();
    let sha3: [u8; 32] = sha3::Sha3_256::digest(&data).into();
    assert_eq!(d.sha256, Some(sha));
    assert_eq!(d.sha3_256, Some(sha3));
    assert_eq!(
        d.rvf_runtime,
        Some(image_hash::digest(ImageHash::RvfRuntimeChecksum, &data))
    );
    assert_eq!(
        image_hash::check(&sha, &d, 64),
        Ok(ImageHashCheck::Verified(ImageHash::Sha256))
    );
    assert_eq!(
        image_hash::check(&sha3, &d, 64),
        Ok(ImageHashCheck::Verified(ImageHash::Sha3_256))
    );
    assert_eq!(
        image_hash::check(&[0; 32], &d, 64),
        Ok(ImageHashCheck::Unset)
    );
    let mut bad = sha;
    bad[0] ^= 1;
    assert_eq!(
        image_hash::check(&bad, &d, 64),
        Err(Error::ImageHashMismatch { offset: 64 })
    );
}

/// The Debian cloud kernel, when the benchmark has cached it.
#[test]
fn debian_kernel_roundtrip_if_cached() {
    let boot =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-inputs/x/boot");
    let Some(p) = std::fs::read_dir(&boot).ok().and_then(|d| {
        d.filter_map(|e| e.ok().map(|e| e.path())).find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
        })
    }) else {
        eprintln!(
            "skipped: no cached Debian kernel under {} (run the extract bench once)",
            boot.display()
        );
        return;
    };
    let k = std::fs::read(p).unwrap();
    let z = gz(&k, 6);
    let mut state = Box::<InflateState>::default();
    let mut out = vec![0u8; k.len()];
    let mut h = ImageHasher::new(Candidates::RUVBOT);
    gzip::inflate(
        &z,
        &mut out,
        k.len() as u64,
        &mut state,
        &mut |c: &[u8]| h.update(c),
    )
    .unwrap();
    assert!(out == k);
    let sha: [u8; 32] = sha2::Sha256::digest(&k).into();
    assert_eq!(
        image_hash::check(&sha, &h.finalize(), 0),
        Ok(ImageHashCheck::Verified(ImageHash::Sha256))
    );
    assert_eq!(&out[0x202..0x206], b"HdrS");
}

// ---- stack high-water ----------------------------------------------------

/// Documented bound for gzip inflate + CRC-32 + the image hasher with the
/// decompressor state supplied by the caller, in optimised builds (what
/// ships). Unoptimised (debug) frames are several times larger and get a
/// separate, looser bound so `cargo test` still guards against regressions.
const STACK_BOUND_RELEASE: usize = 4096;
const STACK_BOUND_DEBUG: usize = 32 * 1024;
/// The joined path (`selected_kernel_deferred` + `extract_joined`, the
/// stub's) holds the content hash's incremental state (448 bytes) beside the
/// image hashes' (552) while it inflates: 1 KiB over [`STACK_BOUND_RELEASE`].
const STACK_BOUND_JOINED_RELEASE: usize = 5 * 1024;

fn fixture() -> &'static (Vec<u8>, Vec<u8>) {
    static F: std::sync::OnceLock<(Vec<u8>, Vec<u8>)> = std::sync::OnceLock::new();
    F.get_or_init(|| {
        let data = text(4 * CHUNK + 999);
        let z = gz(&data, 9);
        (data, z)
    })
}

#[inline(never)]
fn inflate_and_hash_sha256() {
    inflate_and_hash(Candidates::RUVBOT);
}

#[inline(never)]
fn inflate_and_hash_all() {
    inflate_and_hash(Candidates::ALL);
}

/// Heap-held state and output (set up before measuring), so only the code's
/// own frames use stack.
static BUFS: std::sync::Mutex<Option<(Box<InflateState>, Vec<u8>)>> = std::sync::Mutex::new(None);

fn inflate_and_hash(c: Candidates) {
    let (data, z) = fixture();
    let mut g = BUFS.lock().unwrap();
    let (state, out) = g.as_mut().unwrap();
    let mut h = ImageHasher::new(c);
    let info = gzip::inflate(z, out, data.len() as u64, state, &mut |x: &[u8]| {
        h.update(x)
    })
    .unwrap();
    let d = h.finalize();
    std::hint::black_box((info.crc32, d));
}

/// The whole boot-side path on a golden RuvBot file: parse (walk, manifest,
/// directory checks), select the kernel (content hash), extract (inflate,
/// CRC, SHA-256 image hash).
#[inline(never)]
fn verify_and_extract_whole_path() {
    let file = golden_small();
    let mut g = BUFS.lock().unwrap();
    let (state, out) = g.as_mut().unwrap();
    let c = rvf_boot::Container::parse(file, rvf_boot::Policy::default()).unwrap();
    let k = c.selected_kernel().unwrap();
    let v = rvf_boot::image::extract(&k, out, state).unwrap();
    std::hint::black_box(v.bytes().len());
}

/// The stub's path: the content hash deferred to `extract_joined` (its
/// filler; here on one CPU, `Sequential`: the stub's fallback, and the BSP's
/// side of its two-CPU join, which runs the same frames).
fn verify_and_extract_joined_path() {
    let file = golden_small();
    let mut g = BUFS.lock().unwrap();
    let (state, out) = g.as_mut().unwrap();
    let c = rvf_boot::Container::parse(file, rvf_boot::Policy::default()).unwrap();
    let k = c.selected_kernel_deferred().unwrap();
    assert_eq!(
        k.content_hash(),
        None,
        "the content hash must be left to the extraction"
    );
    let v = rvf_boot::image::extract_joined(&k, out, state.as_mut(), &rvf_boot::joined::Sequential)
        .unwrap();
    std::hint::black_box(v.bytes().len());
}

fn golden_small() -> &'static [u8] {
    static F: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    F.get_or_init(|| {
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/golden/ruvbot/small.rvf"
        ))
        .unwrap()
    })
}

#[test]
fn stack_high_water_inflate_and_hash() {
    fixture();
    // The method itself: a function with a known 2 KiB local must measure
    // at least 2 KiB.
    #[inline(never)]
    fn known() {
        let mut a = [0u8; 2048];
        for (i, x) in a.iter_mut().enumerate() {
            // SAFETY: valid exclusive reference.
            unsafe { std::ptr::write_volatile(x, i as u8) };
        }
        std::hint::black_box(&a);
    }
    let k = high_water(known);
    assert!((2048..2048 + 1024).contains(&k), "method check: {k}");

    *BUFS.lock().unwrap() = Some((Box::default(), vec![0u8; fixture().0.len()]));
    let sha = high_water(inflate_and_hash_sha256);
    let all = high_water(inflate_and_hash_all);
    golden_small();
    let whole = high_water(verify_and_extract_whole_path);
    let joined = high_water(verify_and_extract_joined_path);
    let bound = if cfg!(debug_assertions) {
        STACK_BOUND_DEBUG
    } else {
        STACK_BOUND_RELEASE
    };
    eprintln!(
        "stack high-water: inflate+CRC+SHA-256 {sha} bytes, inflate+CRC+all three hashes {all} bytes \
         (bound {bound}, {} build)",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    assert!(
        sha <= bound,
        "inflate+SHA-256 used {sha} bytes of stack, bound {bound}"
    );
    assert!(
        all <= bound,
        "inflate+all hashes used {all} bytes of stack, bound {bound}"
    );
    eprintln!("stack high-water: parse + select + verified extract (whole path) {whole} bytes");
    assert!(
        whole <= bound,
        "the whole verify+extract path used {whole} bytes of stack, bound {bound}"
    );
    let joined_bound = if cfg!(debug_assertions) {
        STACK_BOUND_DEBUG
    } else {
        STACK_BOUND_JOINED_RELEASE
    };
    eprintln!(
        "stack high-water: parse + select unverified + extract_joined (Sequential; the stub's path) {joined} bytes (bound {joined_bound})"
    );
    assert!(
        joined <= joined_bound,
        "the joined verify+extract path used {joined} bytes of stack, bound {joined_bound}"
    );
}
