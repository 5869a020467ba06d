//! A single RFC 1952 gzip member, inflated into the caller's buffer (§4.2).
//!
//! build-rvf.js stores the kernel as `zlib.gzipSync(image, {level: 9})`: one
//! member, a raw deflate stream, then CRC-32/IEEE and ISIZE. This module
//!
//! * parses the member header completely ([`parse_header`]): `ID1 ID2` must be
//!   `1F 8B`, `CM` must be 8 (deflate), reserved `FLG` bits are refused,
//!   `FEXTRA`, `FNAME`, `FCOMMENT` are bounds-checked and skipped, and `FHCRC`
//!   (the low 16 bits of the CRC-32 of the header bytes before it) is checked;
//! * inflates the deflate stream with miniz_oxide's core decompressor straight
//!   into the caller's `&mut [u8]` (non-wrapping output, so back-references
//!   read the caller's buffer and no 32 KiB window is needed anywhere), with
//!   the decompressor state ([`InflateState`], about 11 KiB) also supplied by
//!   the caller, so the stack stays small;
//! * requires the output to be exactly the declared `image_size` (more is a
//!   decompression bomb, [`Error::ImageOverflow`]; the decompressor is never
//!   given room past `image_size`, so nothing is written beyond it), then
//!   checks the trailer's CRC-32 and ISIZE and refuses bytes after the member.
//!
//! [`inflate`] hands every chunk it produces to a caller-supplied sink while
//! the chunk is still in cache, so the image hash can be computed in the same
//! pass (see [`CHUNK`]).
//!
//! The deflate decoder and the CRC-32 are an engine ([`Inflater`]):
//! [`InflateState`] (miniz_oxide + the crate `crc`) is the default and the
//! reference; a std build may plug a faster one into the same checks
//! (`inflate_with`); [`crate::joined`] runs the same member on two CPUs.
//! Everything else above stays this module's.

use crate::bytes::{u64_from, usize_from};
use crate::error::{Error, Result};
use core::fmt;
use crc::{CRC_32_ISO_HDLC, Crc, Table};
use miniz_oxide::inflate::TINFLStatus;
use miniz_oxide::inflate::core::{
    DecompressorOxide, decompress_with_limit,
    inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
};

/// The first three bytes of a gzip member that uses deflate: `ID1 ID2 CM`.
pub(crate) const GZIP_MAGIC: [u8; 3] = [0x1F, 0x8B, 0x08];

/// Size of the fixed part of a member header (ID1 … OS).
pub(crate) const FIXED_HEADER_SIZE: u64 = 10;

/// Size of the member trailer (CRC32, ISIZE).
pub(crate) const TRAILER_SIZE: u64 = 8;

/// The most bytes one byte of a deflate stream can inflate to. A match copies
/// at most 258 bytes and costs at least 2 bits (a 1-bit length code for 258,
/// which has no extra bits, and a 1-bit distance code); a literal costs at
/// least 1 bit for 1 byte; block headers only consume bits. So `n` bytes
/// (`8n` bits) produce at most `8n / 2 × 258 = 1032 n` bytes.
pub(crate) const MAX_DEFLATE_RATIO: u64 = 1032;

testing_pub! {
    /// The most bytes a gzip member of `stored_size` bytes can inflate to: its
    /// deflate stream is at most `stored_size` minus the 10-byte fixed header and
    /// the 8-byte trailer, times `MAX_DEFLATE_RATIO` (saturating).
    #[must_use]
    pub const fn max_inflated_size(stored_size: u64) -> u64 {
        stored_size
            .saturating_sub(FIXED_HEADER_SIZE + TRAILER_SIZE)
            .saturating_mul(MAX_DEFLATE_RATIO)
    }
}

testing_pub! {
    /// The farthest a deflate back-reference reaches: distances are 1 ..= 32768
    /// (RFC 1951 §3.2.5), so inflating never reads more than the last 32 KiB of
    /// the output ([`InflateState`]'s [`Inflater::reaches_back`]).
    pub const DEFLATE_WINDOW: usize = 32 * 1024;
}

/// Output produced per decompressor call before the chunk is handed to the
/// CRC and the sink (the default of [`InflateState::new`]).
///
/// The chunk size was measured not to matter beyond run-to-run noise, from
/// 16 KiB to the whole image, and one pass (hash in the sink) ties with an
/// inflate pass followed by a hash pass (`host-tests/benches/extract.rs`
/// sweeps both). 64 KiB keeps one trip through memory and stays inside any
/// x86-64 L2 cache (≥ 256 KiB) on slower boot hardware.
pub const CHUNK: usize = 64 * 1024;

/// The state [`inflate`] (and [`crate::image::extract`]) works in: the
/// deflate decompressor and the output chunk size.
///
/// [`InflateState::SIZE`] bytes (about 11 KiB, nearly all of it the
/// decompressor's Huffman tables): keep it in a `static` or the caller's
/// arena, or box it on a host, rather than on a small stack. The decompressor
/// is reset on every use, so a state can be reused for any number of members.
#[derive(Clone)]
pub struct InflateState {
    decompressor: DecompressorOxide,
    chunk: usize,
}

impl InflateState {
    /// `size_of::<InflateState>()`.
    pub const SIZE: usize = core::mem::size_of::<Self>();

    /// A state producing output in [`CHUNK`]-byte chunks.
    #[must_use]
    pub fn new() -> Self {
        Self::with_chunk_size(CHUNK)
    }

    /// A state producing output in `chunk`-byte chunks (bytes per
    /// decompressor call and per sink call; 0 is treated as 1). For
    /// benchmarks, fuzzing of chunk boundaries and callers with unusual
    /// cache sizes.
    #[must_use]
    pub fn with_chunk_size(chunk: usize) -> Self {
        Self {
            decompressor: DecompressorOxide::new(),
            chunk: chunk.max(1),
        }
    }

    /// The chunk size in bytes (at least 1).
    #[must_use]
    pub const fn chunk_size(&self) -> usize {
        self.chunk
    }
}

impl Default for InflateState {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for InflateState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InflateState")
            .field("chunk", &self.chunk)
            .finish_non_exhaustive()
    }
}

/// How one [`Inflater::step`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepStatus {
    /// The final deflate block ended.
    Done,
    /// The room given was filled (or the engine stopped early but may go
    /// on): call again with the rest of the input and more room.
    OutputFull,
    /// The stream cannot be inflated (the library's own engine names the
    /// error; a plugged engine's failure is re-run through
    /// [`Inflater::reference`]).
    Failed(InflateFailure),
}

/// What one [`Inflater::step`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// How the step ended.
    pub status: StepStatus,
    /// Deflate bytes consumed from the `input` given.
    pub consumed: usize,
    /// Bytes written at `out[out_pos..]` (at most the `room` given).
    pub produced: usize,
}

/// A CRC-32/IEEE continuation: `f(crc, bytes)` is the CRC of the bytes so
/// far (`crc`, 0 for none) followed by `bytes` ([`Inflater::crc32`]).
pub type Crc32Fn = fn(u32, &[u8]) -> u32;

/// A raw deflate engine and a CRC-32 engine, plugged into the library's own
/// verification ([`inflate`], [`crate::image::extract`]).
///
/// The library does everything else itself: the member header, the buffer
/// and size limits (an engine is never given room past `image_size`), the
/// CRC-32 over exactly the bytes produced, the trailer, ISIZE, trailing
/// bytes and every hash; a [`crate::image::VerifiedImage`] is still only made
/// by [`crate::image::extract`]. [`InflateState`] (miniz_oxide, the crate
/// `crc`'s slice-by-16 CRC) is the no_std default and the reference: a
/// plugged engine (a std build's faster one) names no error of its own: when
/// it fails, [`inflate`] re-runs the member through [`Inflater::reference`],
/// so every engine reports the same errors (the host tests prove the same
/// results and the same errors for every engine on the golden and negative
/// files, `host-tests/tests/engines.rs`).
pub trait Inflater {
    /// Start a new raw deflate stream (called once per member).
    fn reset(&mut self);

    /// Inflate from `input` (the stream from where the previous step
    /// stopped) into `out[out_pos..out_pos + room]`. `out[..out_pos]` holds
    /// this stream's output so far (engines may read it for back-references),
    /// or in [`crate::joined::inflate_joined`] its last `min(n, produced)` bytes, `n` being
    /// [`Inflater::reaches_back`].
    fn step(&mut self, input: &[u8], out: &mut [u8], out_pos: usize, room: usize) -> Step;

    /// Bytes of output per step (each chunk goes through the CRC-32 and the
    /// sink while it is in cache).
    fn chunk_size(&self) -> usize {
        CHUNK
    }

    /// The engine's CRC-32/IEEE: a function that continues `crc` over
    /// `bytes` (zlib's convention: the finished CRC of the bytes so far, 0
    /// for none). A plain function, so [`crate::joined::inflate_joined`] can run it with the
    /// sink, on the CPU that does not inflate. The default is the crate
    /// `crc`'s slice-by-16 ([`crc32_update`]).
    fn crc32(&self) -> Crc32Fn {
        crc32_update
    }

    /// How many bytes before `out_pos` a step may read (its back-references):
    /// `Some(0)` for an engine that keeps its own window, `Some(n)` for one
    /// that reads at most `out[out_pos - n..out_pos]` ([`InflateState`]:
    /// `Some(``DEFLATE_WINDOW``)`), `None` (the default) for one that may
    /// read anywhere in `out[..out_pos]`.
    ///
    /// [`crate::joined::inflate_joined`] pipelines only an engine that names a reach: it
    /// gives each step `out[..out_pos]` = the last `min(n, produced)` bytes
    /// of the output (not all of it), so the sink may meanwhile read the
    /// bytes before them on another CPU. Such an engine must accept and
    /// refuse exactly the same streams, and produce the same bytes, given
    /// only that much of its past output.
    fn reaches_back(&self) -> Option<usize> {
        None
    }

    /// The library's own engine, which names the error when this one fails;
    /// `None` for the reference itself.
    fn reference(&mut self) -> Option<&mut InflateState> {
        None
    }
}

impl Inflater for InflateState {
    fn reset(&mut self) {
        self.decompressor.init();
    }

    fn step(&mut self, input: &[u8], out: &mut [u8], out_pos: usize, room: usize) -> Step {
        let (status, consumed, produced) = decompress_with_limit(
            &mut self.decompressor,
            input,
            out,
            out_pos,
            room,
            TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
        );
        let status = match status {
            TINFLStatus::Done => StepStatus::Done,
            TINFLStatus::HasMoreOutput => StepStatus::OutputFull,
            TINFLStatus::FailedCannotMakeProgress | TINFLStatus::NeedsMoreInput => {
                StepStatus::Failed(InflateFailure::EndsEarly)
            }
            TINFLStatus::Failed => StepStatus::Failed(InflateFailure::InvalidData),
            _ => StepStatus::Failed(InflateFailure::Decompressor),
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

    // Why miniz_oxide 0.9 (`decompress_with_limit`, non-wrapping output)
    // accepts and refuses the same streams, and writes the same bytes, when
    // [`crate::joined::inflate_joined`] gives it `out[base..]` with `out_pos - base` =
    // `min(DEFLATE_WINDOW, out_pos)` instead of the whole buffer:
    // * Every read of past output is a match copy from `position - dist`,
    //   and the only distance check (in `decompress_fast` and in the state
    //   machine alike) is `dist > position` (plus `dist > slice length`,
    //   implied by it since `position <= length`).
    //   `dist` is at most 32768 (a distance symbol > 29 is refused, and 29's
    //   base 24577 plus 13 extra bits is 32768). Below 32 KiB of output
    //   `base` is 0, so the position is the real one and the check is exact;
    //   from 32 KiB on, both the real and the rebased position are at least
    //   32768, so the check passes in both. A copy that passes reads only
    //   `out[position - 32768..]`, inside the slice.
    // * The state kept between calls holds no buffer position: a match cut
    //   by a full output (`WriteLenBytesToEnd`) keeps `dist` and the count
    //   left, and resumes from `position - dist` in the next call's slice:
    //   `dist` passed the check against a real position no later than
    //   this one, so it is at most the next rebased position
    //   (`min(32768, real)`) and names the same bytes there. The rest is
    //   the bit buffer, Huffman tables, block state and stored-block count.
    //   `out_buf_size_mask` is recomputed per call from the flags
    //   (`usize::MAX` when not wrapping), and no Adler-32 is kept (no zlib
    //   flags).
    // * What else depends on the position or slice length only picks the
    //   copy routine, not the bytes: `apply_match`'s `source + len < slice
    //   length` (always true for a non-overlapping copy, which ends at or
    //   before `position`), `transfer`'s cap at `length - 3` (never below
    //   the end of a match that fits), and the `position + len >
    //   bytes_left` test that sends a match through `WriteLenBytesToEnd`
    //   (which copies all of it when it fits, as `apply_match` does). Room
    //   (`bytes_left`, which picks `decompress_fast` and `HasMoreOutput`) is
    //   the same `room` in both.
    // `host-tests/tests/engines.rs` and the fuzz invariant (`check_inflate`)
    // compare both ways, on distances of exactly 32768 across chunk edges
    // too. The reach must not be smaller: with 32767 those tests fail (a
    // resumed copy indexes before the slice and miniz_oxide panics).
    fn reaches_back(&self) -> Option<usize> {
        Some(DEFLATE_WINDOW)
    }
}

/// A gzip member-header field that is invalid ([`Error::GzipHeader`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeaderField {
    /// `ID1 ID2` is not `1F 8B`.
    Id,
    /// `CM` is not 8 (deflate).
    Method,
    /// Reserved `FLG` bits are set.
    Flags,
    /// The header CRC16 (`FHCRC`) does not match the header bytes.
    HeaderCrc,
}

impl HeaderField {
    /// The RFC 1952 name: `ID1/ID2`, `CM`, `FLG`, `FHCRC`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Id => "ID1/ID2",
            Self::Method => "CM",
            Self::Flags => "FLG",
            Self::HeaderCrc => "FHCRC",
        }
    }
}

display_by_name!(HeaderField);

/// A part of a gzip member that runs past the end of the stored bytes
/// ([`Error::GzipTruncated`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MemberPart {
    /// The 10-byte fixed header.
    Header,
    /// The `FEXTRA` field (`XLEN` or its payload).
    Extra,
    /// The NUL-terminated `FNAME` field.
    Name,
    /// The NUL-terminated `FCOMMENT` field.
    Comment,
    /// The 2-byte header CRC16 (`FHCRC`).
    HeaderCrc,
    /// The 8-byte trailer (CRC32, ISIZE).
    Trailer,
}

impl MemberPart {
    /// The name used in messages: `header`, `FEXTRA`, `FNAME`, `FCOMMENT`,
    /// `FHCRC`, `trailer`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Header => "header",
            Self::Extra => "FEXTRA",
            Self::Name => "FNAME",
            Self::Comment => "FCOMMENT",
            Self::HeaderCrc => "FHCRC",
            Self::Trailer => "trailer",
        }
    }
}

display_by_name!(MemberPart);

/// Why the deflate stream could not be inflated ([`Error::Inflate`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InflateFailure {
    /// The stream is not valid deflate (a reserved block type, a stored
    /// block whose `NLEN` is not `!LEN`, a bad Huffman table or distance).
    InvalidData,
    /// The stream ends before its final block does.
    EndsEarly,
    /// The decompressor returned without consuming or producing anything.
    NoProgress,
    /// Any other decompressor status (not produced by a raw deflate stream).
    Decompressor,
}

impl InflateFailure {
    /// The phrase used in messages.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::InvalidData => "invalid deflate data",
            Self::EndsEarly => "deflate stream ends early",
            Self::NoProgress => "decompressor made no progress",
            Self::Decompressor => "decompressor error",
        }
    }
}

display_by_name!(InflateFailure);

/// `FLG` bits (RFC 1952 §2.3.1).
#[allow(dead_code)] // the protocol's whole table, not only what the crate reads
pub(crate) mod flg {
    /// The content is probably ASCII text (informational only).
    pub(crate) const FTEXT: u8 = 0x01;
    /// A CRC16 of the header follows the optional fields.
    pub(crate) const FHCRC: u8 = 0x02;
    /// An `XLEN`-prefixed extra field is present.
    pub(crate) const FEXTRA: u8 = 0x04;
    /// A NUL-terminated original file name is present.
    pub(crate) const FNAME: u8 = 0x08;
    /// A NUL-terminated comment is present.
    pub(crate) const FCOMMENT: u8 = 0x10;
    /// Bits 5..7, which must be zero.
    pub(crate) const RESERVED: u8 = 0xE0;
}

/// CRC-32/IEEE (zlib, gzip): reflected 0xEDB88320, init and xorout
/// 0xFFFFFFFF, slice-by-16; the tables are built at compile time. The crate's
/// one CRC-32 table: the gzip trailer and the legacy content hash
/// ([`crate::checksum::ContentHash::Crc32Rot4`]) both use it.
pub(crate) static CRC32: Crc<u32, Table<16>> = Crc::<u32, Table<16>>::new(&CRC_32_ISO_HDLC);

/// CRC-32/IEEE of `bytes` (the gzip trailer's checksum).
#[must_use]
pub fn crc32(bytes: &[u8]) -> u32 {
    CRC32.checksum(bytes)
}

/// CRC-32/IEEE continued over `bytes` from `crc`, the finished CRC of the
/// bytes before them (0 for none): `crc32_update(crc32(a), b) == crc32(a ++ b)`.
/// The default CRC engine of [`Inflater`].
#[must_use]
pub fn crc32_update(crc: u32, bytes: &[u8]) -> u32 {
    // `crc` keeps a reflected algorithm's register bit-reversed from the
    // `initial` it is given, and finishes with `register ^ 0xFFFF_FFFF`.
    let mut d = CRC32.digest_with_initial((crc ^ 0xFFFF_FFFF).reverse_bits());
    d.update(bytes);
    d.finalize()
}

testing_pub! {
    /// Whether `stored` starts with the gzip/deflate magic `1F 8B 08` (§4.2: the
    /// format is decided by these bytes, not by the kernel header's
    /// `compression` code).
    #[must_use]
    pub fn is_gzip(stored: &[u8]) -> bool {
        stored.starts_with(&GZIP_MAGIC)
    }
}

/// A parsed gzip member header. Slices borrow the stored bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemberHeader<'a> {
    /// The `FLG` byte.
    pub flags: u8,
    /// `MTIME` (seconds since the epoch, 0 = none).
    pub mtime: u32,
    /// `XFL` (2 = maximum compression, 4 = fastest).
    pub xfl: u8,
    /// `OS` (3 = Unix, 255 = unknown).
    pub os: u8,
    /// The `FEXTRA` payload (without `XLEN`), if present.
    pub extra: Option<&'a [u8]>,
    /// The original file name (without its NUL), if present.
    pub name: Option<&'a [u8]>,
    /// The comment (without its NUL), if present.
    pub comment: Option<&'a [u8]>,
    /// The header CRC16, if `FHCRC` is set (already checked).
    pub header_crc16: Option<u16>,
    /// Total header length: the deflate stream starts here.
    pub len: u64,
}

/// What [`inflate`] found in a member it accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GzipInfo<'a> {
    /// The member header.
    pub header: MemberHeader<'a>,
    /// Length of the raw deflate stream.
    pub deflate_len: u64,
    /// The trailer's CRC-32 (equal to the output's).
    pub crc32: u32,
    /// Bytes produced (equal to `image_size`).
    pub image_size: u64,
}

const fn header_err(field: HeaderField, at: u64) -> Error {
    Error::GzipHeader { field, at }
}

fn truncated(part: MemberPart, at: u64, needed: u64, stored: &[u8]) -> Error {
    Error::GzipTruncated {
        part,
        at,
        needed,
        available: u64_from(stored.len()).saturating_sub(at),
    }
}

/// `stored[at .. at + n]` or [`Error::GzipTruncated`] naming `part`.
fn take(stored: &[u8], at: u64, n: u64, part: MemberPart) -> Result<&[u8]> {
    crate::bytes::range(stored, at, n).ok_or_else(|| truncated(part, at, n, stored))
}

/// A NUL-terminated field starting at `at`: returns the bytes before the NUL
/// and the offset after it.
fn zstring(stored: &[u8], at: u64, part: MemberPart) -> Result<(&[u8], u64)> {
    let rest = usize_from(at).and_then(|a| stored.get(a..)).unwrap_or(&[]);
    let nul = rest.iter().position(|&b| b == 0).ok_or_else(|| {
        // Unterminated: at least one more byte (the NUL) is needed.
        truncated(part, at, u64_from(rest.len()).saturating_add(1), stored)
    })?;
    let s = rest.get(..nul).unwrap_or(&[]);
    let next = at.saturating_add(u64_from(nul)).saturating_add(1);
    Ok((s, next))
}

/// Parse and check the member header at the start of `stored`.
///
/// # Errors
/// [`Error::GzipHeader`] for a wrong `ID1 ID2` (`field` "ID1/ID2"), a `CM`
/// other than 8, reserved `FLG` bits, or a wrong header CRC16 ("FHCRC");
/// [`Error::GzipTruncated`] when the header or one of its optional fields runs
/// past the end of `stored`.
pub fn parse_header(stored: &[u8]) -> Result<MemberHeader<'_>> {
    let fixed = take(stored, 0, FIXED_HEADER_SIZE, MemberPart::Header)?;
    let &[id1, id2, cm, flags, m0, m1, m2, m3, xfl, os] = fixed else {
        return Err(truncated(MemberPart::Header, 0, FIXED_HEADER_SIZE, stored));
    };
    if id1 != 0x1F || id2 != 0x8B {
        return Err(header_err(HeaderField::Id, 0));
    }
    if cm != 8 {
        return Err(header_err(HeaderField::Method, 2));
    }
    if flags & flg::RESERVED != 0 {
        return Err(header_err(HeaderField::Flags, 3));
    }
    let mut at = FIXED_HEADER_SIZE;
    let mut extra = None;
    if flags & flg::FEXTRA != 0 {
        let x = take(stored, at, 2, MemberPart::Extra)?;
        let xlen = x
            .first()
            .zip(x.get(1))
            .map_or(0, |(&lo, &hi)| u16::from_le_bytes([lo, hi]));
        let data_at = at.saturating_add(2);
        extra = Some(take(stored, data_at, u64::from(xlen), MemberPart::Extra)?);
        at = data_at.saturating_add(u64::from(xlen));
    }
    let mut name = None;
    if flags & flg::FNAME != 0 {
        let (s, next) = zstring(stored, at, MemberPart::Name)?;
        name = Some(s);
        at = next;
    }
    let mut comment = None;
    if flags & flg::FCOMMENT != 0 {
        let (s, next) = zstring(stored, at, MemberPart::Comment)?;
        comment = Some(s);
        at = next;
    }
    let mut header_crc16 = None;
    if flags & flg::FHCRC != 0 {
        let c = take(stored, at, 2, MemberPart::HeaderCrc)?;
        let stored_crc = c
            .first()
            .zip(c.get(1))
            .map_or(0, |(&lo, &hi)| u16::from_le_bytes([lo, hi]));
        let covered = take(stored, 0, at, MemberPart::HeaderCrc)?;
        let computed = crc32(covered).to_le_bytes();
        if stored_crc != u16::from_le_bytes([computed[0], computed[1]]) {
            return Err(header_err(HeaderField::HeaderCrc, at));
        }
        header_crc16 = Some(stored_crc);
        at = at.saturating_add(2);
    }
    Ok(MemberHeader {
        flags,
        mtime: u32::from_le_bytes([m0, m1, m2, m3]),
        xfl,
        os,
        extra,
        name,
        comment,
        header_crc16,
        len: at,
    })
}

/// Inflate the single gzip member `stored` into `out[..image_size]`.
///
/// * `image_size` is the kernel header's declared uncompressed size; the
///   output must be exactly that long.
/// * `state` holds the decompressor, which is reset here (so previous
///   contents are irrelevant), and the chunk size (`inflate_with` takes
///   any [`Inflater`]).
/// * `sink` is called with every produced chunk, in order, exactly once per
///   byte, right after the chunk is written and CRC'd (chunks are non-empty
///   and at most [`Inflater::chunk_size`] bytes). Use it to hash the
///   image in the same pass. The bytes it sees are **not yet verified**:
///   trust anything derived from them only if this function returns `Ok`.
///
/// Nothing is written to `out` past `image_size`. On error `out[..image_size]`
/// holds partial output that must not be used.
///
/// # Errors
/// * [`Error::BufferTooSmall`] if `out` is shorter than `image_size` (checked
///   before anything else);
/// * [`Error::GzipHeader`] / [`Error::GzipTruncated`] from [`parse_header`];
/// * [`Error::Inflate`] if the deflate stream is corrupt or ends early;
/// * [`Error::ImageOverflow`] if it would produce more than `image_size` bytes,
///   [`Error::ImageShort`] if fewer;
/// * [`Error::GzipTruncated`] ([`MemberPart::Trailer`]) if the 8-byte trailer
///   is cut;
/// * [`Error::GzipTrailingBytes`] if bytes follow the member;
/// * [`Error::GzipCrc`] / [`Error::GzipSize`] if the trailer disagrees with
///   the output.
pub fn inflate<'a, F>(
    stored: &'a [u8],
    out: &mut [u8],
    image_size: u64,
    state: &mut InflateState,
    sink: &mut F,
) -> Result<GzipInfo<'a>>
where
    F: FnMut(&[u8]) + ?Sized,
{
    inflate_with(stored, out, image_size, state, sink)
}

testing_pub! {
    /// [`inflate`] with any engine ([`Inflater`]): the same checks, the same
    /// errors (a plugged engine that fails is re-run through its
    /// [`Inflater::reference`] to name the error).
    ///
    /// # Errors
    /// As [`inflate`].
    pub fn inflate_with<'a, E, F>(
        stored: &'a [u8],
        out: &mut [u8],
        image_size: u64,
        engine: &mut E,
        sink: &mut F,
    ) -> Result<GzipInfo<'a>>
    where
        E: Inflater + ?Sized,
        F: FnMut(&[u8]) + ?Sized,
    {
        member(stored, out, image_size, engine, |e, body, out, at| {
            run_engine(e, body, out, at, sink)
        })
    }
}

/// The member around an inflate loop `run` (which returns the deflate bytes
/// consumed, the bytes produced and their CRC-32): the buffer and header
/// checks first, the trailer checks after; a plugged engine's failure is
/// named by the reference engine.
pub(crate) fn member<'a, E, R>(
    stored: &'a [u8],
    out: &mut [u8],
    image_size: u64,
    engine: &mut E,
    run: R,
) -> Result<GzipInfo<'a>>
where
    E: Inflater + ?Sized,
    R: FnOnce(&mut E, &[u8], &mut [u8], u64) -> Result<(usize, usize, u32)>,
{
    let too_small = Error::BufferTooSmall {
        needed: image_size,
        available: u64_from(out.len()),
    };
    let image_len = usize_from(image_size).ok_or(too_small)?;
    let out = out.get_mut(..image_len).ok_or(too_small)?;

    let header = parse_header(stored)?;
    let body = usize_from(header.len)
        .and_then(|h| stored.get(h..))
        .unwrap_or(&[]);

    let (in_pos, out_pos, computed) = match run(engine, body, out, header.len) {
        Ok(done) => done,
        Err(e) => {
            // Only the library's own engine names an inflate failure: a
            // plugged engine that stops is re-run through the reference
            // decompressor (no sink: nothing is accepted on this path), so
            // every engine reports the same error. If the reference accepts
            // what the plugged engine refused, the engines disagree, which
            // is refused too.
            return Err(match engine.reference() {
                None => e,
                Some(reference) => {
                    match run_engine(reference, body, out, header.len, &mut |_: &[u8]| {}) {
                        Err(e) => e,
                        Ok((i, o, _)) => Error::Inflate {
                            reason: InflateFailure::Decompressor,
                            input_offset: header.len.saturating_add(u64_from(i)),
                            output_offset: u64_from(o),
                        },
                    }
                }
            });
        }
    };
    let produced = u64_from(out_pos);
    if produced != image_size {
        return Err(Error::ImageShort {
            image_size,
            produced,
        });
    }

    let deflate_len = u64_from(in_pos);
    let trailer_at = header.len.saturating_add(deflate_len);
    let trailer = take(stored, trailer_at, TRAILER_SIZE, MemberPart::Trailer)?;
    let &[c0, c1, c2, c3, s0, s1, s2, s3] = trailer else {
        return Err(truncated(
            MemberPart::Trailer,
            trailer_at,
            TRAILER_SIZE,
            stored,
        ));
    };
    let member_end = trailer_at.saturating_add(TRAILER_SIZE);
    let extra = u64_from(stored.len()).saturating_sub(member_end);
    if extra != 0 {
        return Err(Error::GzipTrailingBytes {
            at: member_end,
            count: extra,
        });
    }
    let stored_crc = u32::from_le_bytes([c0, c1, c2, c3]);
    if stored_crc != computed {
        return Err(Error::GzipCrc {
            stored: stored_crc,
            computed,
        });
    }
    let stored_size = u32::from_le_bytes([s0, s1, s2, s3]);
    let size_mod = u32::try_from(produced & 0xFFFF_FFFF).unwrap_or(0);
    if stored_size != size_mod {
        return Err(Error::GzipSize {
            stored: stored_size,
            computed: size_mod,
        });
    }
    Ok(GzipInfo {
        header,
        deflate_len,
        crc32: computed,
        image_size,
    })
}

/// The inflate loop: `engine` fills `out` (exactly `image_size` bytes long)
/// chunk by chunk, each chunk going through the engine's CRC-32 and `sink`.
/// Returns the deflate bytes consumed, the bytes produced and the CRC-32.
pub(crate) fn run_engine<E, F>(
    engine: &mut E,
    body: &[u8],
    out: &mut [u8],
    header_len: u64,
    sink: &mut F,
) -> Result<(usize, usize, u32)>
where
    E: Inflater + ?Sized,
    F: FnMut(&[u8]) + ?Sized,
{
    let image_len = out.len();
    let chunk = engine.chunk_size().max(1);
    let crc32 = engine.crc32();
    engine.reset();
    let mut crc: u32 = 0;
    let mut in_pos: usize = 0;
    let mut out_pos: usize = 0;
    loop {
        let input = body.get(in_pos..).unwrap_or(&[]);
        let room = image_len.saturating_sub(out_pos).min(chunk);
        let step = engine.step(input, out, out_pos, room);
        // An engine never reports more than it was given.
        let n_in = step.consumed.min(input.len());
        let n_out = step.produced.min(room);
        let end = out_pos.saturating_add(n_out);
        if let Some(piece) = out.get(out_pos..end).filter(|p| !p.is_empty()) {
            crc = crc32(crc, piece);
            sink(piece);
        }
        in_pos = in_pos.saturating_add(n_in);
        out_pos = end;
        let inflate_err = |reason| Error::Inflate {
            reason,
            input_offset: header_len.saturating_add(u64_from(in_pos)),
            output_offset: u64_from(out_pos),
        };
        match step.status {
            StepStatus::Done => return Ok((in_pos, out_pos, crc)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::boxed::Box;
    use std::vec;
    use std::vec::Vec;

    /// The header build-rvf.js writes (§4.2).
    const NODE_HEADER: [u8; 10] = [0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0x02, 0x03];

    /// A stored (uncompressed) deflate block holding `data` (< 64 KiB), final.
    fn stored_block(data: &[u8]) -> Vec<u8> {
        let len = data.len() as u16;
        let mut v = vec![0x01];
        v.extend_from_slice(&len.to_le_bytes());
        v.extend_from_slice(&(!len).to_le_bytes());
        v.extend_from_slice(data);
        v
    }

    fn member(header: &[u8], deflate: &[u8], data: &[u8]) -> Vec<u8> {
        let mut v = header.to_vec();
        v.extend_from_slice(deflate);
        v.extend_from_slice(&crc32(data).to_le_bytes());
        v.extend_from_slice(&(data.len() as u32).to_le_bytes());
        v
    }

    fn run(stored: &[u8], image_size: u64, buf: usize) -> Result<(Vec<u8>, u64)> {
        let mut state = Box::<InflateState>::default();
        let mut out = vec![0u8; buf];
        let mut seen = Vec::new();
        let info = inflate(
            stored,
            &mut out,
            image_size,
            &mut state,
            &mut |c: &[u8]| seen.extend_from_slice(c),
        )?;
        assert_eq!(seen, out[..image_size as usize]);
        Ok((seen, info.header.len))
    }

    #[test]
    fn state_size_and_chunk() {
        // The documented "about 11 KiB".
        assert!(
            (10 * 1024..=12 * 1024).contains(&InflateState::SIZE),
            "{}",
            InflateState::SIZE
        );
        assert_eq!(InflateState::new().chunk_size(), CHUNK);
        assert_eq!(InflateState::with_chunk_size(0).chunk_size(), 1);
    }

    #[test]
    fn deflate_bound() {
        assert_eq!(max_inflated_size(0), 0);
        assert_eq!(max_inflated_size(18), 0);
        assert_eq!(max_inflated_size(19), 1032);
        assert_eq!(max_inflated_size(349), 331 * 1032);
        assert_eq!(max_inflated_size(u64::MAX), u64::MAX);
    }

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32_update(0, b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32_update(crc32(b"1234"), b"56789"), 0xCBF4_3926);
        assert_eq!(crc32_update(0xCBF4_3926, b""), 0xCBF4_3926);
    }

    #[test]
    fn magic() {
        assert!(is_gzip(&NODE_HEADER));
        assert!(!is_gzip(&[0x1F, 0x8B]));
        assert!(!is_gzip(&[0x1F, 0x8B, 0x07]));
        assert!(!is_gzip(&[0x04, 0x22, 0x4D, 0x18]));
    }

    #[test]
    fn node_member_with_stored_block() {
        let data = b"hello, kernel";
        let m = member(&NODE_HEADER, &stored_block(data), data);
        let (out, hlen) = run(&m, data.len() as u64, data.len()).unwrap();
        assert_eq!(out, data);
        assert_eq!(hlen, 10);
    }

    #[test]
    fn fixed_huffman_abc() {
        // zlib's raw deflate of "abc" (fixed Huffman, final block).
        let data = b"abc";
        let m = member(&NODE_HEADER, &[0x4B, 0x4C, 0x4A, 0x06, 0x00], data);
        assert_eq!(run(&m, 3, 3).unwrap().0, data);
    }

    #[test]
    fn empty_image() {
        let m = member(&NODE_HEADER, &[0x03, 0x00], b"");
        assert_eq!(run(&m, 0, 0).unwrap().0, b"");
    }

    #[test]
    fn every_optional_field() {
        let data = b"x";
        let mut h = vec![
            0x1F,
            0x8B,
            0x08,
            flg::FTEXT | flg::FEXTRA | flg::FNAME | flg::FCOMMENT | flg::FHCRC,
        ];
        h.extend_from_slice(&[0x78, 0x56, 0x34, 0x12, 0x04, 0xFF]);
        h.extend_from_slice(&[3, 0, b'A', b'B', b'C']); // XLEN 3
        h.extend_from_slice(b"vmlinuz\0");
        h.extend_from_slice(b"a comment\0");
        let c = crc32(&h).to_le_bytes();
        h.extend_from_slice(&c[..2]);
        let m = member(&h, &stored_block(data), data);
        let hdr = parse_header(&m).unwrap();
        assert_eq!(
            hdr,
            MemberHeader {
                flags: 0x1F,
                mtime: 0x1234_5678,
                xfl: 4,
                os: 0xFF,
                extra: Some(b"ABC"),
                name: Some(b"vmlinuz"),
                comment: Some(b"a comment"),
                header_crc16: Some(u16::from_le_bytes([c[0], c[1]])),
                len: h.len() as u64,
            }
        );
        assert_eq!(run(&m, 1, 1).unwrap(), (data.to_vec(), h.len() as u64));
    }

    #[test]
    fn each_flag_alone() {
        let data = b"kernel";
        for (flag, field, want_len) in [
            (flg::FTEXT, &[][..], 10u64),
            (flg::FEXTRA, &[2, 0, 0xAA, 0xBB][..], 14),
            (flg::FNAME, &b"bzImage\0"[..], 18),
            (flg::FCOMMENT, &b"c\0"[..], 12),
            (flg::FHCRC, &[][..], 12),
        ] {
            let mut h = NODE_HEADER.to_vec();
            h[3] = flag;
            h.extend_from_slice(field);
            if flag == flg::FHCRC {
                let c = crc32(&h).to_le_bytes();
                h.extend_from_slice(&c[..2]);
            }
            let m = member(&h, &stored_block(data), data);
            let hdr = parse_header(&m).unwrap();
            assert_eq!((hdr.flags, hdr.len), (flag, want_len), "flag {flag:#x}");
            assert_eq!(hdr.extra.is_some(), flag == flg::FEXTRA);
            assert_eq!(hdr.name, (flag == flg::FNAME).then_some(&b"bzImage"[..]));
            assert_eq!(hdr.comment, (flag == flg::FCOMMENT).then_some(&b"c"[..]));
            assert_eq!(hdr.header_crc16.is_some(), flag == flg::FHCRC);
            assert_eq!(run(&m, 6, 6).unwrap(), (data.to_vec(), want_len));
        }
    }

    #[test]
    fn fhcrc_wrong() {
        let mut h = NODE_HEADER.to_vec();
        h[3] = flg::FHCRC;
        let c = crc32(&h) ^ 1;
        h.extend_from_slice(&c.to_le_bytes()[..2]);
        let m = member(&h, &stored_block(b"x"), b"x");
        assert_eq!(
            run(&m, 1, 1),
            Err(Error::GzipHeader {
                field: HeaderField::HeaderCrc,
                at: 10
            })
        );
    }

    #[test]
    fn bad_magic_cm_reserved() {
        let m = member(&NODE_HEADER, &stored_block(b"x"), b"x");
        let mut a = m.clone();
        a[1] = 0x8C;
        assert_eq!(
            parse_header(&a),
            Err(Error::GzipHeader {
                field: HeaderField::Id,
                at: 0
            })
        );
        let mut b = m.clone();
        b[2] = 7;
        assert_eq!(
            parse_header(&b),
            Err(Error::GzipHeader {
                field: HeaderField::Method,
                at: 2
            })
        );
        for bit in [0x20u8, 0x40, 0x80] {
            let mut c = m.clone();
            c[3] = bit;
            assert_eq!(
                run(&c, 1, 1),
                Err(Error::GzipHeader {
                    field: HeaderField::Flags,
                    at: 3
                })
            );
        }
    }

    #[test]
    fn truncated_headers() {
        assert_eq!(
            parse_header(&NODE_HEADER[..9]),
            Err(Error::GzipTruncated {
                part: MemberPart::Header,
                at: 0,
                needed: 10,
                available: 9
            })
        );
        let mut h = NODE_HEADER.to_vec();
        h[3] = flg::FEXTRA;
        h.push(5);
        assert_eq!(
            parse_header(&h),
            Err(Error::GzipTruncated {
                part: MemberPart::Extra,
                at: 10,
                needed: 2,
                available: 1
            })
        );
        h.extend_from_slice(&[0, 1, 2]); // XLEN 5, only 2 bytes
        assert_eq!(
            parse_header(&h),
            Err(Error::GzipTruncated {
                part: MemberPart::Extra,
                at: 12,
                needed: 5,
                available: 2
            })
        );
        let mut n = NODE_HEADER.to_vec();
        n[3] = flg::FNAME;
        n.extend_from_slice(b"abc");
        assert_eq!(
            parse_header(&n),
            Err(Error::GzipTruncated {
                part: MemberPart::Name,
                at: 10,
                needed: 4,
                available: 3
            })
        );
        n[3] = flg::FCOMMENT;
        assert_eq!(
            parse_header(&n),
            Err(Error::GzipTruncated {
                part: MemberPart::Comment,
                at: 10,
                needed: 4,
                available: 3
            })
        );
        let mut c = NODE_HEADER.to_vec();
        c[3] = flg::FHCRC;
        c.push(0);
        assert_eq!(
            parse_header(&c),
            Err(Error::GzipTruncated {
                part: MemberPart::HeaderCrc,
                at: 10,
                needed: 2,
                available: 1
            })
        );
    }

    #[test]
    fn buffer_checks_come_first() {
        // Even garbage input reports the buffer first.
        assert_eq!(
            run(b"garbage", 10, 9),
            Err(Error::BufferTooSmall {
                needed: 10,
                available: 9
            })
        );
        assert_eq!(
            run(b"", u64::MAX, 4),
            Err(Error::BufferTooSmall {
                needed: u64::MAX,
                available: 4
            })
        );
    }

    #[test]
    fn bomb_short_and_trailer() {
        let data = b"0123456789";
        let m = member(&NODE_HEADER, &stored_block(data), data);
        assert_eq!(run(&m, 9, 100), Err(Error::ImageOverflow { image_size: 9 }));
        assert_eq!(
            run(&m, 11, 100),
            Err(Error::ImageShort {
                image_size: 11,
                produced: 10
            })
        );
        let mut extra = m.clone();
        extra.push(0);
        assert_eq!(
            run(&extra, 10, 10),
            Err(Error::GzipTrailingBytes {
                at: m.len() as u64,
                count: 1
            })
        );
        let cut = &m[..m.len() - 1];
        assert_eq!(
            run(cut, 10, 10),
            Err(Error::GzipTruncated {
                part: MemberPart::Trailer,
                at: 25,
                needed: 8,
                available: 7
            })
        );
        let mut crc = m.clone();
        crc[25] ^= 0xFF;
        let good = crc32(data);
        assert_eq!(
            run(&crc, 10, 10),
            Err(Error::GzipCrc {
                stored: good ^ 0xFF,
                computed: good
            })
        );
        let mut size = m.clone();
        size[29] = 11;
        assert_eq!(
            run(&size, 10, 10),
            Err(Error::GzipSize {
                stored: 11,
                computed: 10
            })
        );
    }

    #[test]
    fn corrupt_deflate() {
        // Block type 3 is reserved.
        let m = member(&NODE_HEADER, &[0x07, 0x00], b"");
        assert_eq!(
            run(&m, 0, 0),
            Err(Error::Inflate {
                reason: InflateFailure::InvalidData,
                input_offset: 11,
                output_offset: 0
            })
        );
        // Stored block whose NLEN is not the complement of LEN.
        let mut s = stored_block(b"ab");
        s[3] ^= 1;
        let m = member(&NODE_HEADER, &s, b"ab");
        assert!(matches!(
            run(&m, 2, 2),
            Err(Error::Inflate {
                reason: InflateFailure::InvalidData,
                ..
            })
        ));
        // The stream ends inside a stored block.
        let s = stored_block(b"abcdef");
        let mut m = NODE_HEADER.to_vec();
        m.extend_from_slice(&s[..7]);
        assert!(matches!(
            run(&m, 6, 6),
            Err(Error::Inflate {
                reason: InflateFailure::EndsEarly,
                ..
            })
        ));
    }
}
