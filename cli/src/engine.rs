//! The inflate + CRC-32 engine the CLI plugs into the library's verification
//! (`rvf_boot::image::extract_with`): zlib-rs's safe streaming `Inflate` and
//! `crc32fast` (PCLMULQDQ where the CPU has it).
//!
//! Only the deflate decoding and the CRC arithmetic are swapped: the library
//! still parses the gzip member, limits the output to `image_size`, checks
//! the trailer, ISIZE, trailing bytes and every hash, and is still the only
//! maker of a `VerifiedImage`. When zlib-rs stops on a stream, the library
//! re-runs it through the reference engine (`reference`, miniz_oxide), so the
//! error is the same as without this engine (`host-tests/tests/engines.rs`
//! runs the golden and negative files through both).

use rvf_boot::gzip::{Crc32Fn, InflateFailure, InflateState, Inflater, Step, StepStatus};
use rvf_boot::joined::{Filler, Join};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Bytes of output per step: larger than the library's 64 KiB, since zlib
/// copies the last 32 KiB of every step into its window and every joined
/// step starts a thread (the bench's step sweep: 64 KiB costs the joined
/// path about 1.8x, 1 MiB was the fastest for both paths).
pub const CHUNK: usize = 1024 * 1024;

/// Which engine `rvf-boot` uses (environment variable `RVF_BOOT_ENGINE`:
/// unset, the default: [`Choice::ZlibRsTwoCpus`] where the machine has two
/// CPUs or more (`std::thread::available_parallelism`), else
/// [`Choice::ZlibRs`]; `zlib-rs`: one thread; `zlib-rs-2cpu`: two threads;
/// anything else, e.g. `miniz`: the library's own). For comparisons; every
/// engine verifies the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    /// zlib-rs + crc32fast ([`FastEngine`]) on one thread
    /// (`rvf_boot::image::extract_with`): every hash on the inflating CPU,
    /// the content hash first.
    ZlibRs,
    /// The same with the hashes on a second thread ([`Threads`],
    /// `rvf_boot::image::extract_joined`): the image hashes, and the
    /// kernel's content hash when the container left it
    /// (`Container::selected_kernel_deferred`), run beside the inflate.
    /// The default on two CPUs or more (`cargo bench -p host-tests --bench
    /// extract`, row (E")).
    ZlibRsTwoCpus,
    /// The library's default, miniz_oxide + `crc` ([`InflateState`]).
    Miniz,
}

impl Choice {
    /// The engine named by `RVF_BOOT_ENGINE` (unset: [`Choice::default_for`]
    /// this machine).
    #[must_use]
    pub fn from_env() -> Self {
        match std::env::var("RVF_BOOT_ENGINE").as_deref() {
            Err(_) => Self::default_for(
                std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            ),
            Ok("zlib-rs") => Self::ZlibRs,
            Ok("zlib-rs-2cpu") => Self::ZlibRsTwoCpus,
            Ok(_) => Self::Miniz,
        }
    }

    /// The default on a machine with `cpus` CPUs: two threads when there
    /// are two or more, else one.
    #[must_use]
    pub const fn default_for(cpus: usize) -> Self {
        if cpus >= 2 {
            Self::ZlibRsTwoCpus
        } else {
            Self::ZlibRs
        }
    }
}

/// zlib-rs raw inflate + crc32fast, with the library's engine as reference.
pub struct FastEngine {
    inflate: zlib_rs::Inflate,
    reference: Box<InflateState>,
    chunk: usize,
}

impl FastEngine {
    /// A new engine (allocates zlib-rs's state and the reference's).
    #[must_use]
    pub fn new() -> Self {
        Self::with_chunk_size(CHUNK)
    }

    /// A new engine producing `chunk`-byte steps (0 is treated as 1; for
    /// tests of chunk boundaries).
    #[must_use]
    pub fn with_chunk_size(chunk: usize) -> Self {
        Self {
            inflate: zlib_rs::Inflate::new(false, 15),
            reference: Box::default(),
            chunk: chunk.max(1),
        }
    }
}

impl Default for FastEngine {
    fn default() -> Self {
        Self::new()
    }
}

impl Inflater for FastEngine {
    fn reset(&mut self) {
        self.inflate.reset(false);
    }

    fn step(&mut self, input: &[u8], out: &mut [u8], out_pos: usize, room: usize) -> Step {
        let failed = |consumed, produced| Step {
            status: StepStatus::Failed(InflateFailure::Decompressor),
            consumed,
            produced,
        };
        let Some(dst) = out.get_mut(out_pos..out_pos.saturating_add(room)) else {
            return failed(0, 0);
        };
        let (in0, out0) = (self.inflate.total_in(), self.inflate.total_out());
        let r = self
            .inflate
            .decompress(input, dst, zlib_rs::InflateFlush::NoFlush);
        let delta = |a: u64, b: u64| usize::try_from(a.saturating_sub(b)).unwrap_or(usize::MAX);
        let consumed = delta(self.inflate.total_in(), in0);
        let produced = delta(self.inflate.total_out(), out0);
        let status = match r {
            Ok(zlib_rs::Status::StreamEnd) => StepStatus::Done,
            Ok(_) if consumed != 0 || produced != 0 => StepStatus::OutputFull,
            // No progress: the input ended before the final block did.
            Ok(_) => StepStatus::Failed(InflateFailure::EndsEarly),
            Err(_) => StepStatus::Failed(InflateFailure::InvalidData),
        };
        Step {
            status,
            consumed,
            produced,
        }
    }

    fn chunk_size(&self) -> usize {
        self.chunk
    }

    fn reaches_back(&self) -> Option<usize> {
        // zlib keeps its own 32 KiB window: a step reads only its input.
        Some(0)
    }

    fn crc32(&self) -> Crc32Fn {
        fast_crc32
    }

    fn reference(&mut self) -> Option<&mut InflateState> {
        Some(&mut self.reference)
    }
}

/// CRC-32/IEEE by `crc32fast` (PCLMULQDQ where the CPU has it).
fn fast_crc32(crc: u32, bytes: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new_with_initial(crc);
    h.update(bytes);
    h.finalize()
}

/// [`Join`] on two threads: `side` on a scoped thread, `main` on this one;
/// the first to finish fills (the lock is never waited for: `try_lock`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Threads;

impl Join for Threads {
    fn join<S, M, W>(&self, side: S, main: M, fill: &mut W)
    where
        S: FnOnce() + Send,
        M: FnOnce(),
        W: Filler + ?Sized,
    {
        let fill = Mutex::new(fill);
        let side_done = AtomicBool::new(false);
        let main_done = AtomicBool::new(false);
        // Fill while `other` has not finished, unless the other holds the lock.
        let fill_until = |other: &AtomicBool| {
            if let Ok(mut f) = fill.try_lock() {
                while !other.load(Ordering::Acquire) && f.piece() {}
            }
        };
        std::thread::scope(|s| {
            let h = s.spawn(|| {
                side();
                side_done.store(true, Ordering::Release);
                fill_until(&main_done);
            });
            main();
            main_done.store(true, Ordering::Release);
            fill_until(&side_done);
            if let Err(p) = h.join() {
                std::panic::resume_unwind(p);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_threads_by_default_on_two_cpus() {
        assert_eq!(Choice::default_for(1), Choice::ZlibRs);
        assert_eq!(Choice::default_for(2), Choice::ZlibRsTwoCpus);
        assert_eq!(Choice::default_for(64), Choice::ZlibRsTwoCpus);
    }

    #[test]
    fn crc_engines_agree() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        let crc = FastEngine::new().crc32();
        let (a, b) = data.split_at(12_345);
        let fast = crc(crc(0, a), b);
        let reference = rvf_boot::gzip::crc32_update(rvf_boot::gzip::crc32_update(0, a), b);
        assert_eq!(fast, rvf_boot::gzip::crc32(&data));
        assert_eq!(reference, fast);
    }
}
