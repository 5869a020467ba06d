//! Cycle counts of the kernel's verification for the `rvf-boot: Mcycles:`
//! line: [`Timed`] wraps the library's engine in an [`Inflater`] that
//! forwards every method and times `step` (the inflate) and
//! `crc32_update` (the gzip CRC-32) with the TSC. The library's checks and
//! results are the engine's own: nothing but the clock is added.

use core::cell::Cell;

use rvf_boot::gzip::{InflateState, Inflater, Step};

use crate::hw;

/// An engine whose `step` and `crc32_update` are timed.
pub struct Timed<'e, E: ?Sized> {
    engine: &'e mut E,
    step: u64,
    crc: Cell<u64>,
}

impl<'e, E: Inflater + ?Sized> Timed<'e, E> {
    /// Time `engine`.
    pub fn new(engine: &'e mut E) -> Self {
        Self {
            engine,
            step: 0,
            crc: Cell::new(0),
        }
    }

    /// TSC cycles spent in `step` so far.
    pub fn step_cycles(&self) -> u64 {
        self.step
    }

    /// TSC cycles spent in `crc32_update` so far.
    pub fn crc_cycles(&self) -> u64 {
        self.crc.get()
    }
}

impl<E: Inflater + ?Sized> Inflater for Timed<'_, E> {
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

    fn crc32_update(&self, crc: u32, bytes: &[u8]) -> u32 {
        let t = hw::rdtsc();
        let crc = self.engine.crc32_update(crc, bytes);
        self.crc
            .set(self.crc.get().wrapping_add(hw::rdtsc().wrapping_sub(t)));
        crc
    }

    fn reaches_back(&self) -> Option<usize> {
        self.engine.reaches_back()
    }

    fn reference(&mut self) -> Option<&mut InflateState> {
        self.engine.reference()
    }
}
