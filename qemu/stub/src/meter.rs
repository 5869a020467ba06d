//! Cycle counts of the kernel's verification for the `rvf-boot: Mcycles:`
//! line: [`Timed`] wraps the library's engine in an [`Inflater`] that
//! forwards every method and times `step` (the inflate) and its CRC-32 with
//! the TSC. The library's checks and results are the engine's own: nothing
//! but the clock is added.

use core::fmt;
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

/// Cycles of the verification's parts (TSC), for the `Mcycles` line.
pub struct Meter {
    /// In the engine's `step` (the inflate, boot CPU).
    pub inflate: u64,
    /// In the gzip CRC-32 (with the hashes, on either CPU; also counted in
    /// `on_ap` or the boot CPU's rest).
    pub crc: u64,
    /// The hash sides the second CPU ran.
    pub on_ap: u64,
    /// The boot CPU waiting for the second CPU's side.
    pub waiting: u64,
    /// TSC at entry, once the container was checked, once the image was,
    /// once the second CPU stopped.
    pub times: [u64; 4],
}

impl Meter {
    /// The `rvf-boot: Mcycles:` line, `now` being the TSC just before the jump.
    pub fn line(&self, now: u64) -> impl fmt::Display + '_ {
        Line { meter: self, now }
    }
}

/// [`Meter::line`].
struct Line<'m> {
    meter: &'m Meter,
    now: u64,
}

impl fmt::Display for Line<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Meter {
            inflate,
            crc,
            on_ap,
            waiting,
            times: [t0, t1, extracted, t2],
        } = *self.meter;
        let m = |cycles: u64| cycles / 1_000_000;
        let extract = extracted.wrapping_sub(t1);
        write!(
            f,
            "rvf-boot: Mcycles: container {}, kernel verify+extract {} (inflate {}, CRC {}, \
             hashes on the AP {}, hashes inline {}, BSP waiting {}), place+handoff {}; SHA-NI {}",
            m(t1.wrapping_sub(t0)),
            m(t2.wrapping_sub(t1)),
            m(inflate),
            m(crc),
            m(on_ap),
            // The rest of this CPU's time in the extraction: its share of
            // the hashing and CRC and the loop's own work.
            m(extract.saturating_sub(inflate).saturating_sub(waiting)),
            m(waiting),
            m(self.now.wrapping_sub(t2)),
            if hw::has_sha_ni() { "yes" } else { "no" },
        )
    }
}
