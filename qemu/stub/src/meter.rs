//! Cycle counts of the kernel's verification for the `rvf-boot: Mcycles:`
//! line: [`Timed`] wraps the library's engine in an [`Inflater`] that
//! forwards every method and times `step` (the inflate) and its CRC-32 with
//! the TSC. The library's checks and results are the engine's own: nothing
//! but the clock is added.

use core::sync::atomic::AtomicU64;
use core::sync::atomic::Ordering::Relaxed;

use rvf_boot::gzip::{self, Crc32Fn, InflateState, Inflater, Step};

use crate::hw;

/// TSC cycles spent in the CRC-32, on either CPU: the library runs it with
/// the sink, so on the AP too, and a plain function has nowhere else to
/// count.
static CRC_CYCLES: AtomicU64 = AtomicU64::new(0);

/// [`InflateState`]'s CRC-32 ([`gzip::crc32_update`]), timed.
fn timed_crc32(crc: u32, bytes: &[u8]) -> u32 {
    let t = hw::rdtsc();
    let crc = gzip::crc32_update(crc, bytes);
    CRC_CYCLES.fetch_add(hw::rdtsc().wrapping_sub(t), Relaxed);
    crc
}

/// The library's engine with `step` and the CRC-32 timed.
pub struct Timed<'e> {
    engine: &'e mut InflateState,
    step: u64,
}

impl<'e> Timed<'e> {
    /// Time `engine`.
    pub fn new(engine: &'e mut InflateState) -> Self {
        CRC_CYCLES.store(0, Relaxed);
        Self { engine, step: 0 }
    }

    /// TSC cycles spent in `step` so far.
    pub fn step_cycles(&self) -> u64 {
        self.step
    }

    /// TSC cycles spent in the CRC-32 so far, on both CPUs (read once the
    /// verification has returned: the AP's count is then published).
    pub fn crc_cycles(&self) -> u64 {
        CRC_CYCLES.load(Relaxed)
    }
}

impl Inflater for Timed<'_> {
    fn reset(&mut self) {
        self.engine.reset();
    }

    fn step(&mut self, input: &[u8], out: &mut [u8], out_pos: usize, room: usize) -> Step {
        let t = hw::rdtsc();
        let step = self.engine.step(input, out, out_pos, room);
        self.step = self.step.wrapping_add(hw::rdtsc().wrapping_sub(t));
        step
    }

    fn chunk_size(&self) -> usize {
        self.engine.chunk_size()
    }

    fn crc32(&self) -> Crc32Fn {
        // The wrapped engine is `InflateState`, whose CRC this is.
        timed_crc32
    }

    fn reaches_back(&self) -> Option<usize> {
        self.engine.reaches_back()
    }

    fn reference(&mut self) -> Option<&mut InflateState> {
        self.engine.reference()
    }
}
