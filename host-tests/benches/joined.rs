//! The library's own engine pipelined (issue 13): `cargo bench -p host-tests
//! --bench joined [-- --iters N]`.
//!
//! The Debian cloud kernel (`target/bench-inputs/x/boot/vmlinuz-*`, fetched
//! by `--bench extract`; skipped with a message when absent) gzip -9'd,
//! inflated by `InflateState` (miniz_oxide + `crc`) with SHA-256 of the
//! image in the sink:
//! (1) `inflate_with`, one thread;
//! (2) `inflate_joined` with `Threads` (a scoped thread per step) at 64 KiB,
//!     256 KiB and 1 MiB steps: the sink runs beside the next step, 32 KiB
//!     behind it;
//! (3) for the CRC question, (2) at 256 KiB with the CRC-32 moved into the
//!     sink (so on the hashing thread), emulated: the engine's own CRC is
//!     skipped, so the member is then refused at the trailer, after all the
//!     same work;
//! (4) a sink about as slow as the inflate (SHA3-256, as SHA-256 is under
//!     QEMU TCG), one thread vs `Threads`, 1 MiB steps;
//! plus the pieces alone (inflate, SHA-256, SHA3-256, CRC-32). Medians of interleaved
//! rounds; ratios against (1).
#![allow(
    clippy::print_stdout,
    clippy::cast_precision_loss,
    clippy::as_conversions,
    clippy::unwrap_used
)]

use host_tests::{median, ms};
use rvf_boot::gzip::{self, InflateState, Inflater, Step};
use rvf_boot::joined::{self, Sequential};
use rvf_boot_cli::engine::Threads;
use sha2::{Digest as _, Sha256};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// `InflateState` whose CRC is left to someone else (for (3) only).
struct NoCrc(Box<InflateState>);

impl Inflater for NoCrc {
    fn reset(&mut self) {
        self.0.reset();
    }
    fn step(&mut self, input: &[u8], out: &mut [u8], out_pos: usize, room: usize) -> Step {
        self.0.step(input, out, out_pos, room)
    }
    fn chunk_size(&self) -> usize {
        self.0.chunk_size()
    }
    fn crc32(&self) -> gzip::Crc32Fn {
        |crc, _| crc
    }
    fn reaches_back(&self) -> Option<usize> {
        self.0.reaches_back()
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let iters = args
        .iter()
        .position(|a| a == "--iters")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(15);
    let dir = host_tests::bench_inputs_dir();
    let Some(path) = host_tests::find_vmlinuz(&dir) else {
        println!(
            "no vmlinuz under {} (run --bench extract first)",
            dir.join("x/boot").display()
        );
        return;
    };
    let image = std::fs::read(&path).unwrap();
    // gzip -9 -n, as `--bench extract` and build-rvf.js (stock zlib).
    let stored = std::process::Command::new("gzip")
        .args(["-9", "-n", "-c"])
        .arg(&path)
        .output()
        .unwrap()
        .stdout;
    let n = image.len();
    let want: [u8; 32] = Sha256::digest(&image).into();
    let want3: [u8; 32] = sha3::Sha3_256::digest(&image).into();
    println!(
        "{}: image {n} bytes, gzip -9 {} bytes, {iters} rounds",
        path.display(),
        stored.len()
    );

    let mut out = vec![0u8; n];
    let mut run = |v: usize| -> Duration {
        let t = Instant::now();
        let mut h = Sha256::new();
        match v {
            0 => {
                let mut e = Box::new(InflateState::new());
                gzip::inflate_with(&stored, &mut out, n as u64, &mut *e, &mut |c: &[u8]| {
                    h.update(c);
                })
                .unwrap();
            }
            1..=3 => {
                let chunk = [64 << 10, 256 << 10, 1 << 20][v - 1];
                let mut e = Box::new(InflateState::with_chunk_size(chunk));
                let sink = &mut |c: &[u8]| h.update(c);
                joined::inflate_joined(&stored, &mut out, n as u64, &mut *e, sink, &Threads)
                    .unwrap();
            }
            4 => {
                let mut e = NoCrc(Box::new(InflateState::with_chunk_size(256 << 10)));
                let mut crc = 0;
                let sink = &mut |c: &[u8]| {
                    crc = gzip::crc32_update(crc, c);
                    h.update(c);
                };
                let r = joined::inflate_joined(&stored, &mut out, n as u64, &mut e, sink, &Threads);
                assert!(matches!(r, Err(rvf_boot::Error::GzipCrc { .. })));
                assert_eq!(crc, gzip::crc32(&image));
            }
            5 | 6 => {
                // A sink as slow as the inflate (like SHA-256 under TCG).
                let mut h3 = sha3::Sha3_256::new();
                let sink = &mut |c: &[u8]| h3.update(c);
                let mut e = Box::new(InflateState::with_chunk_size(1 << 20));
                if v == 5 {
                    gzip::inflate_with(&stored, &mut out, n as u64, &mut *e, sink).unwrap();
                } else {
                    joined::inflate_joined(&stored, &mut out, n as u64, &mut *e, sink, &Threads)
                        .unwrap();
                }
                let d = t.elapsed();
                assert_eq!(<[u8; 32]>::from(h3.finalize()), want3);
                return d;
            }
            7 => {
                let mut e = NoCrc(Box::new(InflateState::new()));
                let r = joined::inflate_joined(
                    &stored,
                    &mut out,
                    n as u64,
                    &mut e,
                    &mut |_: &[u8]| {},
                    &Sequential,
                );
                assert!(r.is_err());
                return t.elapsed();
            }
            8 => {
                black_box(Sha256::digest(black_box(&image)));
                return t.elapsed();
            }
            9 => {
                black_box(sha3::Sha3_256::digest(black_box(&image)));
                return t.elapsed();
            }
            _ => {
                black_box(gzip::crc32(black_box(&image)));
                return t.elapsed();
            }
        }
        let d = t.elapsed();
        assert_eq!(<[u8; 32]>::from(h.finalize()), want);
        d
    };
    let names = [
        "(1) inflate_with, one thread, 64 KiB",
        "(2) inflate_joined + Threads, 64 KiB",
        "(2) inflate_joined + Threads, 256 KiB",
        "(2) inflate_joined + Threads, 1 MiB",
        "(3) as (2) 256 KiB, CRC in the sink",
        "(4) as (1) 1 MiB, SHA3-256 in the sink",
        "(4) as (2) 1 MiB, SHA3-256 in the sink",
        "    inflate alone (no CRC, no hash)",
        "    SHA-256 alone",
        "    SHA3-256 alone",
        "    CRC-32 (crc, slice-by-16) alone",
    ];
    let mut times = vec![Vec::new(); names.len()];
    run(0);
    for _ in 0..iters {
        for (v, t) in times.iter_mut().enumerate() {
            t.push(run(v));
        }
    }
    let base = median(times[0].clone());
    let slow = median(times[5].clone()).as_secs_f64();
    let slow_joined = median(times[6].clone()).as_secs_f64();
    for (name, t) in names.iter().zip(times) {
        let m = median(t);
        println!(
            "{name:<42} {:8.2} ms  {:5.3}x of (1)",
            ms(m),
            m.as_secs_f64() / base.as_secs_f64()
        );
    }
    println!("(4) two threads / one thread: {:5.3}x", slow_joined / slow);
}
