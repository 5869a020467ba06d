//! Worst-case work benchmark (issue 9 §1): `cargo bench -p host-tests --bench worst_case`.
//!
//! Times what `rvf-boot inspect` asks of the library (`Container::parse`,
//! `verify_segments`, every listed kernel, the selected kernel, `kernel_at`)
//! on each 32 MiB worst case of `src/worst.rs` beside the normal file of
//! the same size (one 32 MiB kernel), and prints the median, the ratio to the
//! normal file and the counted work (`Container::work()`). Bounded work means
//! every ratio stays near or below 1: a worst case costs no more than hashing
//! a normal file of its size. The test `tests/bounded_work.rs` asserts the
//! counts; this prints the times.
//!
//! Arguments: `--iters N` (default 9).
#![allow(
    clippy::print_stdout,
    clippy::cast_precision_loss,
    clippy::as_conversions
)]

use host_tests::{median, worst};
use rvf_boot::segment::Work;
use rvf_boot::{Container, Policy};
use std::time::{Duration, Instant};

/// One inspect-like pass; returns the work counted (`Err` text for a refused file).
fn run(file: &[u8]) -> Result<Work, String> {
    let mut w = Work::default();
    let c =
        Container::parse_counting(file, Policy::default(), &mut w).map_err(|e| e.to_string())?;
    c.verify_segments().map_err(|e| e.to_string())?;
    for k in c.kernels() {
        k.map_err(|e| e.to_string())?;
    }
    let k = c.selected_kernel().map_err(|e| e.to_string())?;
    c.kernel_at(k.segment_offset()).map_err(|e| e.to_string())?;
    Ok(c.work())
}

fn time(file: &[u8], iters: usize) -> (Duration, Result<Work, String>) {
    let mut times = Vec::with_capacity(iters);
    let mut out = Err(String::new());
    for _ in 0..iters {
        let t = Instant::now();
        out = std::hint::black_box(run(std::hint::black_box(file)));
        times.push(t.elapsed());
    }
    (median(times), out)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let iters = args
        .iter()
        .position(|a| a == "--iters")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(9);
    let normal = worst::normal();
    let (base, base_work) = time(&normal.file, iters);
    println!(
        "{:<58} {:>10} {:>7}  work",
        "file (32 MiB each)", "median", "ratio"
    );
    println!(
        "{:<58} {:>8.2} ms {:>7}  {:?}",
        normal.name,
        base.as_secs_f64() * 1e3,
        "1.00",
        base_work
    );
    for case in worst::all() {
        let (t, work) = time(&case.file, iters);
        let work = match work {
            Ok(w) => format!("{w:?}"),
            Err(e) => format!("refused: {e}"),
        };
        println!(
            "{:<58} {:>8.2} ms {:>7.3}  {work}",
            case.name,
            t.as_secs_f64() * 1e3,
            t.as_secs_f64() / base.as_secs_f64()
        );
    }
}
