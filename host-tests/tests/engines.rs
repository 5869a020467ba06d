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
use rvf_boot::gzip::{self, InflateState, Inflater, Join, Sequential};
use rvf_boot::image::{self, VerifiedImage};
use rvf_boot::{Container, Error, Policy};
use rvf_boot_cli::engine::{FastEngine, Threads};
use rvf_testkit::build::noise;
use rvf_testkit::mutate::{Damage, mutate};
use std::io::Write as _;

/// What one engine made of a member: the output, the chunks the sink saw,
/// the trailer's CRC and the header length, or the error.
type Inflated = Result<(Vec<u8>, u32, u64), Error>;

fn inflate_with<E: Inflater + ?Sized>(
    e: &mut E,
    stored: &[u8],
    image_size: u64,
    buf: usize,
) -> Inflated {
    let mut out = vec![0xEEu8; buf];
    let mut seen = Vec::new();
    let info = gzip::inflate_with(stored, &mut out, image_size, e, &mut |c: &[u8]| {
        seen.extend_from_slice(c);
    })?;
    assert_eq!(seen, out[..image_size as usize]);
    Ok((seen, info.crc32, info.header.len))
}

fn inflate_joined<J: Join>(join: &J, stored: &[u8], image_size: u64, buf: usize) -> Inflated {
    let mut out = vec![0xEEu8; buf];
    let mut seen = Vec::new();
    // A small chunk so that even small members take several steps.
    let mut e = FastEngine::with_chunk_size(4096);
    let info = gzip::inflate_joined(
        stored,
        &mut out,
        image_size,
        &mut e,
        &mut |c: &[u8]| seen.extend_from_slice(c),
        join,
    )?;
    assert_eq!(seen, out[..image_size as usize]);
    Ok((seen, info.crc32, info.header.len))
}

/// Every engine on one member; returns the common result.
fn same(stored: &[u8], image_size: u64, buf: usize, what: &str) -> Inflated {
    let reference = inflate_with(
        &mut *Box::<InflateState>::default(),
        stored,
        image_size,
        buf,
    );
    let fast = inflate_with(&mut FastEngine::new(), stored, image_size, buf);
    assert_eq!(reference, fast, "{what}");
    let joined = inflate_joined(&Threads, stored, image_size, buf);
    assert_eq!(reference, joined, "{what} (two threads)");
    let sequential = inflate_joined(&Sequential, stored, image_size, buf);
    assert_eq!(reference, sequential, "{what} (joined, one thread)");
    reference
}

fn gz(data: &[u8], level: u32) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::new(level));
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Compressible bytes: a few words picked by noise.
fn text(n: usize) -> Vec<u8> {
    let words: [&[u8]; 5] = [b"kernel ", b"segment ", b"the ", b"boot\n", b"0x1000 "];
    noise(3, n)
        .iter()
        .flat_map(|&b| words[b as usize % words.len()].iter().copied())
        .take(n)
        .collect()
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
        let (out, crc, _) = same(&m, n, data.len(), "valid").unwrap();
        assert_eq!((out, crc), (data.clone(), gzip::crc32(&data)));
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
