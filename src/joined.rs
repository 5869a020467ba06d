//! The gzip member inflated on two CPUs (§4.2): the engine inflates on one
//! while the other runs the CRC-32 and the sink (the image hashes) over the
//! output the engine can no longer read ([`inflate_joined`]), with work that
//! needs no inflated byte shared out between the two ([`Filler`],
//! `inflate_joined_beside`). [`Join`] is how a build runs two pieces of
//! work at once (a std build: a scoped thread; [`Sequential`]: one CPU).
//!
//! The member itself (header, limits, trailer, errors) is
//! [`crate::gzip`]'s: this module only schedules its inflate loop.

use crate::bytes::u64_from;
use crate::error::{Error, Result};
use crate::gzip::{
    Crc32Fn, GzipInfo, InflateFailure, Inflater, Step, StepStatus, inflate_with, member,
};

/// Work that does not wait for the inflate and may be done by whichever CPU
/// would otherwise wait for the other: [`crate::image::extract_joined`]'s
/// content hash of the stored payload, whose bytes are all there from the
/// start. It is advanced in pieces, by one CPU at a time ([`Join::join`]).
pub trait Filler: Send {
    /// Does one piece of at most `FILL_PIECE` bytes' work; `false` (and
    /// nothing done) once nothing is left.
    fn piece(&mut self) -> bool;

    /// Whether it is behind the sink, which has had `done` of the image's
    /// `total` bytes: then `inflate_joined_beside` runs the next step's
    /// sink on the engine's CPU and leaves the other CPU to this work.
    fn lags(&self, done: usize, total: usize) -> bool;
}

/// The most bytes one [`Filler::piece`] handles: 4 KiB, so a CPU that
/// finished filling waits for the other's current piece at most that long
/// (about 0.15 M cycles of SHA-256 under QEMU's TCG, 2 µs with SHA-NI).
pub(crate) const FILL_PIECE: usize = 4096;

/// No work to fill with.
impl Filler for () {
    fn piece(&mut self) -> bool {
        false
    }

    fn lags(&self, _done: usize, _total: usize) -> bool {
        false
    }
}

/// Runs two pieces of work and returns when both have finished, possibly at
/// once on two CPUs: a std build implements it with a scoped thread (the
/// CLI's `Threads`); [`Sequential`] runs them one after the other.
pub trait Join {
    /// Runs `side` (possibly on another CPU) and `main` (on this one). Where
    /// they run at once, the one that finishes first calls `fill.piece()`
    /// until the other has finished or it returns `false`; the other never
    /// touches `fill`. Returns when both have finished and no piece runs.
    fn join<S, M, W>(&self, side: S, main: M, fill: &mut W)
    where
        S: FnOnce() + Send,
        M: FnOnce(),
        W: Filler + ?Sized;
}

/// [`Join`] on one CPU: `main`, then `side`; nothing waits, so nothing is
/// filled.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sequential;

impl Join for Sequential {
    fn join<S, M, W>(&self, side: S, main: M, _fill: &mut W)
    where
        S: FnOnce() + Send,
        M: FnOnce(),
        W: Filler + ?Sized,
    {
        main();
        side();
    }
}

/// `inflate_with` with the sink on a second CPU: while the engine inflates
/// chunk k, `join` runs the CRC-32 ([`Inflater::crc32`]) and the sink (the
/// image hashes) over output the engine can no longer read. The same checks,
/// the same bytes to the sink in the same order, the same errors; nothing is
/// accepted before the last byte is hashed and the trailer checked.
///
/// Pipelining needs an engine that names how far back it reads
/// ([`Inflater::reaches_back`] = `Some(n)`): each step is given only the
/// last `n` bytes produced before its chunk, and the sink meanwhile gets
/// every earlier byte it has not had yet, so it lags the engine by up to `n`
/// bytes (the rest goes to it after the last step, in pieces of at most
/// [`Inflater::chunk_size`] bytes). With `None` this is `inflate_with`.
/// Each output byte is still written once, CRC'd once and given to the sink
/// once (the window is the caller's buffer, never copied).
///
/// # Errors
/// As [`inflate`](crate::gzip::inflate).
pub fn inflate_joined<'a, E, F, J>(
    stored: &'a [u8],
    out: &mut [u8],
    image_size: u64,
    engine: &mut E,
    sink: &mut F,
    join: &J,
) -> Result<GzipInfo<'a>>
where
    E: Inflater + ?Sized,
    F: FnMut(&[u8]) + Send + ?Sized,
    J: Join + ?Sized,
{
    inflate_joined_beside(stored, out, image_size, engine, sink, &mut (), join)
}

testing_pub! {
    /// [`inflate_joined`] with `fill` advanced beside it ([`Filler`]): each
    /// step, the CPU that finishes its part first does pieces of `fill` until
    /// the other has finished; and whenever `fill` lags the sink
    /// ([`Filler::lags`]), the next step hands the sink to the engine's CPU, so
    /// the other one has only `fill` to do. Which CPU runs a piece of the sink
    /// changes nothing else: the sink still gets every byte once, in order, and
    /// the result and errors are [`inflate_joined`]'s. Whatever `fill` has left
    /// when this returns is the caller's to finish.
    ///
    /// # Errors
    /// As [`inflate`](crate::gzip::inflate).
    pub fn inflate_joined_beside<'a, E, F, W, J>(
        stored: &'a [u8],
        out: &mut [u8],
        image_size: u64,
        engine: &mut E,
        sink: &mut F,
        fill: &mut W,
        join: &J,
    ) -> Result<GzipInfo<'a>>
    where
        E: Inflater + ?Sized,
        F: FnMut(&[u8]) + Send + ?Sized,
        W: Filler + ?Sized,
        J: Join + ?Sized,
    {
        let Some(reach) = engine.reaches_back() else {
            return inflate_with(stored, out, image_size, engine, sink);
        };
        member(stored, out, image_size, engine, |e, body, out, at| {
            run_pipelined(e, body, out, at, reach, sink, fill, join)
        })
    }
}

/// [`run_engine`] with the sink run by `join` beside each step, over the
/// output the step cannot read: with `base = out_pos - min(reach, out_pos)`,
/// the step gets `out[base..out_pos + room]` (its window and its room) and
/// the sink the disjoint `out[previous base..base]`. `base` grows by at most
/// the previous step's output, so the sink's pieces are at most a chunk;
/// after the last step the sink gets `out[base..]` chunk by chunk, on this
/// CPU while the other fills. The CRC-32 goes with the sink ([`Checked`]).
/// A step whose `fill` lags runs the sink after the engine on this CPU
/// ([`inflate_joined_beside`]).
#[allow(clippy::too_many_arguments)] // one private loop, called once
fn run_pipelined<E, F, W, J>(
    engine: &mut E,
    body: &[u8],
    out: &mut [u8],
    header_len: u64,
    reach: usize,
    sink: &mut F,
    fill: &mut W,
    join: &J,
) -> Result<(usize, usize, u32)>
where
    E: Inflater + ?Sized,
    F: FnMut(&[u8]) + Send + ?Sized,
    W: Filler + ?Sized,
    J: Join + ?Sized,
{
    let image_len = out.len();
    let chunk = engine.chunk_size().max(1);
    let crc32 = engine.crc32();
    engine.reset();
    let mut crc: u32 = 0;
    let mut in_pos: usize = 0;
    let mut out_pos: usize = 0;
    // Everything before `base` has gone to the sink; `rest` is `out[base..]`.
    let mut base: usize = 0;
    let mut rest: &mut [u8] = out;
    loop {
        let input = body.get(in_pos..).unwrap_or(&[]);
        let room = image_len.saturating_sub(out_pos).min(chunk);
        let new_base = out_pos.saturating_sub(reach);
        let at = out_pos.saturating_sub(new_base);
        // `base <= new_base <= out_pos <= image_len`: never fails.
        let split = new_base
            .checked_sub(base)
            .and_then(|n| core::mem::take(&mut rest).split_at_mut_checked(n));
        let Some((to_sink, window)) = split else {
            return Err(Error::Inflate {
                reason: InflateFailure::Decompressor,
                input_offset: header_len.saturating_add(u64_from(in_pos)),
                output_offset: u64_from(out_pos),
            });
        };
        let mut step = Step {
            status: StepStatus::Failed(InflateFailure::Decompressor),
            consumed: 0,
            produced: 0,
        };
        {
            let end = at.saturating_add(room);
            let dst = window.get_mut(..end).unwrap_or(&mut []);
            let engine = &mut *engine;
            let to_sink = &*to_sink;
            let mut sink = Checked::new(sink, &mut crc, crc32);
            let mut step_here = || step = engine.step(input, dst, at, room);
            if fill.lags(new_base, image_len) {
                // The other CPU has only `fill` to do this step.
                join.join(
                    || {},
                    || {
                        step_here();
                        sink.give(to_sink);
                    },
                    fill,
                );
            } else {
                join.join(move || sink.give(to_sink), step_here, fill);
            }
        }
        base = new_base;
        rest = window;
        // An engine never reports more than it was given.
        let n_in = step.consumed.min(input.len());
        let n_out = step.produced.min(room);
        let end = at.saturating_add(n_out);
        in_pos = in_pos.saturating_add(n_in);
        out_pos = out_pos.saturating_add(n_out);
        let inflate_err = |reason| Error::Inflate {
            reason,
            input_offset: header_len.saturating_add(u64_from(in_pos)),
            output_offset: u64_from(out_pos),
        };
        match step.status {
            StepStatus::Done => {
                let tail = rest.get(..end).unwrap_or(&[]);
                let mut sink = Checked::new(sink, &mut crc, crc32);
                join.join(
                    || {},
                    || tail.chunks(chunk).for_each(|piece| sink.give(piece)),
                    fill,
                );
                return Ok((in_pos, out_pos, crc));
            }
            StepStatus::OutputFull if out_pos >= image_len => {
                return Err(Error::ImageOverflow {
                    image_size: u64_from(image_len),
                });
            }
            StepStatus::OutputFull if n_in != 0 || n_out != 0 => {}
            StepStatus::OutputFull => return Err(inflate_err(InflateFailure::NoProgress)),
            StepStatus::Failed(reason) => return Err(inflate_err(reason)),
        }
    }
}

/// The sink with the CRC-32 in front of it: every byte the sink gets is
/// CRC'd first, in order, on whichever CPU runs it.
struct Checked<'s, F: ?Sized> {
    sink: &'s mut F,
    crc: &'s mut u32,
    crc32: Crc32Fn,
}

impl<'s, F: FnMut(&[u8]) + ?Sized> Checked<'s, F> {
    fn new(sink: &'s mut F, crc: &'s mut u32, crc32: Crc32Fn) -> Self {
        Self { sink, crc, crc32 }
    }

    /// CRC `piece`, then give it to the sink, unless it is empty.
    fn give(&mut self, piece: &[u8]) {
        if !piece.is_empty() {
            *self.crc = (self.crc32)(*self.crc, piece);
            (self.sink)(piece);
        }
    }
}
