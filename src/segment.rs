//! The 64-byte segment header and the forward walk over segments (§2, §3.1).
//!
//! Three on-disk layouts exist: unpadded (RuvBot and legacy rvf-runtime),
//! 64-byte padded (wire rvf-runtime ≥ 0.4, `alignment_pad` set) and mixed (a
//! legacy file appended to by a newer runtime: zero fill, then padded). The
//! walk handles all of them by trying both the unpadded and the padded next
//! position after every segment. It allocates nothing, reads at most three
//! headers per segment, scans each byte of zero fill at most once and stops
//! after [`MAX_SEGMENTS`], so no input can make it loop or run long.

use crate::bytes::{align64, le_u32, range, u64_from, usize_from};
use crate::error::{Error, Structure};
use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, KnownLayout, Unaligned};

/// Size of a segment header.
pub const SEGMENT_HEADER_SIZE: u64 = 64;
testing_pub! {
    /// The only segment-header version there is.
    pub const SEGMENT_VERSION: u8 = 1;
}
testing_pub! {
    /// `"RVFS"` as a little-endian u32 (wire bytes `53 46 56 52`).
    pub const SEGMENT_MAGIC: u32 = 0x5256_4653;
}
/// `"RVM0"` root-page magic as a little-endian u32 (wire bytes `30 4D 56 52`).
pub const ROOT_PAGE_MAGIC: u32 = 0x5256_4D30;
/// Size of the RVM0 root page at the end of signed stores (§3.4).
pub const ROOT_PAGE_SIZE: u64 = 4096;
/// The most segments the walk visits. Real files have tens; the bound keeps
/// every walk short and lets a segment's index be a `u32` (and a bit in a
/// 1024-bit set).
pub const MAX_SEGMENTS: u32 = 1024;

/// Segment type codes (§2.2). Unknown codes are walked over, not errors.
pub mod seg_type {
    /// Vectors.
    pub const VEC: u8 = 0x01;
    /// Index.
    pub(crate) const INDEX: u8 = 0x02;
    /// Overlay.
    pub(crate) const OVERLAY: u8 = 0x03;
    /// Journal.
    pub(crate) const JOURNAL: u8 = 0x04;
    /// Segment directory.
    pub const MANIFEST: u8 = 0x05;
    /// Quantization dictionary.
    pub(crate) const QUANT: u8 = 0x06;
    /// Metadata (RVFMETA or RuvBot JSON).
    pub const META: u8 = 0x07;
    /// Hot set.
    pub(crate) const HOT: u8 = 0x08;
    /// Sketch.
    pub(crate) const SKETCH: u8 = 0x09;
    /// Witness chain / provenance.
    pub const WITNESS: u8 = 0x0A;
    /// Domain profile (RuvBot JSON).
    pub const PROFILE: u8 = 0x0B;
    /// Crypto material.
    pub(crate) const CRYPTO: u8 = 0x0C;
    /// Metadata index.
    pub(crate) const META_IDX: u8 = 0x0D;
    /// Kernel.
    pub const KERNEL: u8 = 0x0E;
    /// eBPF program.
    pub(crate) const EBPF: u8 = 0x0F;
    /// WASM module or RuvBot runtime bundle.
    pub const WASM: u8 = 0x10;
    /// Dashboard bundle.
    pub(crate) const DASHBOARD: u8 = 0x11;

    /// The type's name as in rvf-types, or `None` for codes this reader does not name.
    #[must_use]
    pub const fn name(code: u8) -> Option<&'static str> {
        Some(match code {
            VEC => "VEC",
            INDEX => "INDEX",
            OVERLAY => "OVERLAY",
            JOURNAL => "JOURNAL",
            MANIFEST => "MANIFEST",
            QUANT => "QUANT",
            META => "META",
            HOT => "HOT",
            SKETCH => "SKETCH",
            WITNESS => "WITNESS",
            PROFILE => "PROFILE",
            CRYPTO => "CRYPTO",
            META_IDX => "META_IDX",
            KERNEL => "KERNEL",
            EBPF => "EBPF",
            WASM => "WASM",
            DASHBOARD => "DASHBOARD",
            _ => return None,
        })
    }
}

/// The 64-byte segment header, field for field as §2.1 (offsets in hex).
#[derive(FromBytes, KnownLayout, Immutable, Unaligned, Debug)]
#[repr(C)]
pub struct SegmentHeader {
    /// 0x00: `SEGMENT_MAGIC`.
    pub magic: U32,
    /// 0x04: `SEGMENT_VERSION`.
    pub version: u8,
    /// 0x05: [`seg_type`] code.
    pub seg_type: u8,
    /// 0x06: flags (every writer writes 0).
    pub flags: U16,
    /// 0x08: segment id (not unique in practice, §3.3).
    pub segment_id: U64,
    /// 0x10: payload bytes after the header, excluding padding.
    pub payload_length: U64,
    /// 0x18: timestamp (ns; RuvBot: ms·1e6; runtime: 0).
    pub timestamp_ns: U64,
    /// 0x20: content-hash algorithm (§2.4).
    pub checksum_algo: u8,
    /// 0x21: payload compression (every writer writes 0).
    pub compression: u8,
    /// 0x22: reserved.
    pub reserved_0: U16,
    /// 0x24: reserved.
    pub reserved_1: U32,
    /// 0x28: 16-byte hash of the payload (§2.4).
    pub content_hash: [u8; 16],
    /// 0x38: uncompressed length (always 0).
    pub uncompressed_len: U32,
    /// 0x3C: zero bytes after the payload (wire dialect), else 0.
    pub alignment_pad: U32,
}

const _: [(); 64] = [(); core::mem::size_of::<SegmentHeader>()];

/// A segment-header field every known writer leaves zero and this reader
/// refuses otherwise ([`Error::UnsupportedSegmentField`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SegmentField {
    /// 0x06 `flags`.
    Flags,
    /// 0x21 `compression`.
    Compression,
    /// 0x22 `reserved_0`.
    Reserved0,
    /// 0x24 `reserved_1`.
    Reserved1,
    /// 0x38 `uncompressed_len`.
    UncompressedLen,
}

impl SegmentField {
    /// The field's name as in §2.1.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Flags => "flags",
            Self::Compression => "compression",
            Self::Reserved0 => "reserved_0",
            Self::Reserved1 => "reserved_1",
            Self::UncompressedLen => "uncompressed_len",
        }
    }
}

display_by_name!(SegmentField);

/// One complete segment found by the walk: its header and payload, borrowed.
#[derive(Clone, Copy, Debug)]
pub struct Segment<'a> {
    /// Position in file order, from 0.
    pub index: u32,
    /// Absolute file offset of the header.
    pub offset: u64,
    /// The header.
    pub header: &'a SegmentHeader,
    /// Exactly `payload_length` bytes after the header.
    pub payload: &'a [u8],
    /// Whether zero fill follows the payload up to a 64-byte boundary where
    /// the next segment starts, or where the segment area ends or torn bytes
    /// begin (wire or mixed layout), rather than the next segment starting
    /// right after the payload.
    pub padded: bool,
}

impl<'a> Segment<'a> {
    /// The segment type code.
    #[must_use]
    pub const fn seg_type(&self) -> u8 {
        self.header.seg_type
    }

    /// The segment id.
    #[must_use]
    pub fn segment_id(&self) -> u64 {
        self.header.segment_id.get()
    }

    /// The payload length.
    #[must_use]
    pub fn payload_length(&self) -> u64 {
        self.header.payload_length.get()
    }

    /// Checks the header fields every known writer leaves zero and this
    /// reader cannot honour otherwise: `flags` (SIGNED would put a footer
    /// after the payload, ENCRYPTED/COMPRESSED would change what the payload
    /// means), `compression`, `reserved_0`, `reserved_1`, `uncompressed_len`.
    ///
    /// # Errors
    /// [`Error::UnsupportedSegmentField`] naming the first non-zero field.
    pub fn check_fields(&self) -> Result<(), Error> {
        let h = self.header;
        let fields = [
            (SegmentField::Flags, u64::from(h.flags.get())),
            (SegmentField::Compression, u64::from(h.compression)),
            (SegmentField::Reserved0, u64::from(h.reserved_0.get())),
            (SegmentField::Reserved1, u64::from(h.reserved_1.get())),
            (
                SegmentField::UncompressedLen,
                u64::from(h.uncompressed_len.get()),
            ),
        ];
        match fields.into_iter().find(|&(_, v)| v != 0) {
            Some((field, value)) => Err(Error::UnsupportedSegmentField {
                index: self.index,
                offset: self.offset,
                field,
                value,
            }),
            None => Ok(()),
        }
    }

    /// Offset just past the payload (before any padding).
    #[must_use]
    pub fn payload_end(&self) -> u64 {
        self.offset
            .saturating_add(SEGMENT_HEADER_SIZE)
            .saturating_add(u64_from(self.payload.len()))
    }
}

/// Splits a trailing 4096-byte RVM0 root page off `file` (§3.4): returns the
/// segment area and the page, if the last 4096 bytes start with the RVM0 magic
/// and the file has room for at least one segment header before it.
#[must_use]
pub fn split_root_page(file: &[u8]) -> (&[u8], Option<&[u8]>) {
    let len = u64_from(file.len());
    let Some(page_at) = len.checked_sub(ROOT_PAGE_SIZE) else {
        return (file, None);
    };
    if page_at < SEGMENT_HEADER_SIZE || le_u32(file, page_at) != Some(ROOT_PAGE_MAGIC) {
        return (file, None);
    }
    match usize_from(page_at).map(|at| file.split_at_checked(at)) {
        Some(Some((body, page))) => (body, Some(page)),
        _ => (file, None),
    }
}

/// Parses the header at `offset` of `body` if there is a complete one with the
/// right magic (used to probe candidate positions). Version and payload bounds
/// are checked by the walk, which reports them.
fn header_at(body: &[u8], offset: u64) -> Option<&SegmentHeader> {
    let b = range(body, offset, SEGMENT_HEADER_SIZE)?;
    let h = SegmentHeader::ref_from_bytes(b).ok()?;
    (h.magic.get() == SEGMENT_MAGIC).then_some(h)
}

/// The work counters (public with the `testing` feature, for the host
/// tests' bounds; crate-internal otherwise).
mod counters {
    #![cfg_attr(not(feature = "testing"), allow(unreachable_pub))]

    /// Work done reading a file, counted so tests can bound it without timing.
    ///
    /// Every count is linear in the input: a walk reads at most three headers per
    /// segment (two candidate positions probed, then the chosen one read), scans
    /// each fill byte at most once, and the container hashes each payload at most
    /// once (the winning manifest up to three times while learning which
    /// algorithm-0 hash the file uses).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct Work {
        /// 64-byte segment headers read or probed.
        pub header_reads: u64,
        /// Zero-fill bytes examined (padding and zero tails).
        pub fill_scanned: u64,
        /// Payload bytes fed to a content-hash function (each algorithm counted).
        pub hashed: u64,
    }

    impl Work {
        /// The sum of two counts.
        #[must_use]
        pub const fn plus(self, other: Self) -> Self {
            Self {
                header_reads: self.header_reads.saturating_add(other.header_reads),
                fill_scanned: self.fill_scanned.saturating_add(other.fill_scanned),
                hashed: self.hashed.saturating_add(other.hashed),
            }
        }
    }
}

#[cfg(feature = "testing")]
pub use counters::Work;
#[cfg(not(feature = "testing"))]
pub(crate) use counters::Work;

/// Index of the first non-zero byte: whole 64-byte blocks are OR-folded (which
/// vectorises), then the block that is not all zero is searched byte by byte.
fn first_non_zero(bytes: &[u8]) -> Option<usize> {
    let mut base = 0usize;
    for block in bytes.chunks(64) {
        if block.iter().fold(0u8, |a, &b| a | b) != 0 {
            return block
                .iter()
                .position(|&b| b != 0)
                .map(|i| base.saturating_add(i));
        }
        base = base.saturating_add(block.len());
    }
    None
}

/// Why the walk stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalkEnd {
    /// It reached the end of the segment area exactly (or only zero bytes followed).
    Clean,
    /// Bytes that do not form a complete segment follow (a torn or garbage
    /// tail); the error says what the first of them looked like.
    Torn(Error),
    /// It met [`MAX_SEGMENTS`] segments; more might follow.
    Limit(Error),
}

/// Where the walk goes next.
#[derive(Clone, Copy, Debug)]
enum Next {
    /// A header was probed here: read it.
    At(u64),
    /// Neither candidate position after the segment ending at `u` holds a
    /// header: what follows is zero fill (clean end) or a torn tail. Decided
    /// lazily, so a walk that stops early never scans the tail.
    Tail {
        /// Where the last payload ended.
        u: u64,
        /// `u` rounded up to 64.
        p: u64,
        /// Whether `u..p` exists and is all zero.
        fill_zero: bool,
    },
    /// Finished.
    Done,
}

/// The forward walk over complete segments (§3.1). An iterator of
/// [`Segment`]; after it returns `None`, [`Walk::end`] and
/// [`Walk::stop`] say where and why it stopped.
///
/// Work: at most three header reads per segment and one scan of a zero tail
/// (only when iterated to the end); `Walk::work` counts them.
#[derive(Clone, Debug)]
pub struct Walk<'a> {
    body: &'a [u8],
    next: Next,
    /// Offset just past the last complete segment (its payload and padding).
    end: u64,
    index: u32,
    stop: WalkEnd,
    work: Work,
}

impl<'a> Walk<'a> {
    /// A walk over `body` (the file without its RVM0 page) from offset 0.
    #[must_use]
    pub const fn new(body: &'a [u8]) -> Self {
        Self {
            body,
            next: Next::At(0),
            end: 0,
            index: 0,
            stop: WalkEnd::Clean,
            work: Work {
                header_reads: 0,
                fill_scanned: 0,
                hashed: 0,
            },
        }
    }

    /// Offset just past the last complete segment seen so far (including the
    /// zero padding that aligned the following segment).
    #[must_use]
    pub const fn end(&self) -> u64 {
        self.end
    }

    /// Why the walk stopped (meaningful once the iterator returned `None`).
    #[must_use]
    pub const fn stop(&self) -> WalkEnd {
        self.stop
    }

    /// Headers read and fill bytes scanned so far (`hashed` is 0: the walk hashes nothing).
    #[cfg(feature = "testing")]
    #[must_use]
    pub const fn work(&self) -> Work {
        self.work
    }

    /// Headers read and fill bytes scanned so far (crate-internal without
    /// the `testing` feature).
    #[cfg(not(feature = "testing"))]
    pub(crate) const fn work(&self) -> Work {
        self.work
    }

    fn body_end(&self) -> u64 {
        u64_from(self.body.len())
    }

    /// Probes for a header with the right magic at `offset`.
    fn probe(&mut self, offset: u64) -> bool {
        self.work.header_reads = self.work.header_reads.saturating_add(1);
        header_at(self.body, offset).is_some()
    }

    /// Reads the segment at `offset`, or says why none is there.
    fn read(&mut self, offset: u64) -> Result<(&'a SegmentHeader, &'a [u8]), Error> {
        self.work.header_reads = self.work.header_reads.saturating_add(1);
        let body = self.body;
        let rest = usize_from(offset)
            .and_then(|o| body.get(o..))
            .unwrap_or(&[]);
        let header = read_header(rest, offset)?;
        let len = header.payload_length.get();
        let payload = offset
            .checked_add(SEGMENT_HEADER_SIZE)
            .and_then(|p| range(body, p, len))
            .ok_or(Error::SegmentOverrun {
                index: self.index,
                offset,
                payload_length: len,
                body_end: self.body_end(),
            })?;
        Ok((header, payload))
    }

    /// Chooses where the segment after one ending (unpadded) at `u` starts,
    /// looking only at the fill up to the next 64-byte boundary and at the two
    /// candidate headers. Returns the next step and whether the segment was
    /// followed by zero fill to a 64-byte boundary (the padded position).
    fn next_position(&mut self, u: u64) -> (Next, bool) {
        if u >= self.body_end() {
            return (
                Next::Tail {
                    u,
                    p: u,
                    fill_zero: true,
                },
                false,
            );
        }
        let p = align64(u).unwrap_or(u);
        let fill = range(self.body, u, p.saturating_sub(u)).unwrap_or(&[]);
        // Up to the first non-zero byte (after an unpadded segment: the next magic).
        let first = fill.iter().position(|&b| b != 0);
        let scanned = first.map_or(fill.len(), |i| i.saturating_add(1));
        self.work.fill_scanned = self.work.fill_scanned.saturating_add(u64_from(scanned));
        let fill_zero = p <= self.body_end() && first.is_none();
        // Both candidates parse: rvf-runtime picks the aligned one (§3.1).
        if p != u && fill_zero && self.probe(p) {
            return (Next::At(p), true);
        }
        if self.probe(u) {
            return (Next::At(u), false);
        }
        // Zero fill up to an aligned position belongs to the segment before it.
        (Next::Tail { u, p, fill_zero }, p != u && fill_zero)
    }

    /// Decides how the walk ends after the segment ending at `u`: only zero
    /// bytes follow (clean), or a torn tail. Scans each byte at most once.
    fn finish(&mut self, u: u64, p: u64, fill_zero: bool) -> WalkEnd {
        let end = self.body_end();
        if u >= end {
            return WalkEnd::Clean;
        }
        // Where the scan for a non-zero byte starts: after a zero fill, or at
        // `u` when the fill runs past the end; a non-zero fill is torn at once.
        let scan_from = if fill_zero {
            Some(p)
        } else if p > end {
            Some(u)
        } else {
            None
        };
        if let Some(from) = scan_from {
            let rest = range(self.body, from, end.saturating_sub(from)).unwrap_or(&[]);
            let first = first_non_zero(rest);
            let scanned = first.map_or(rest.len(), |i| i.saturating_add(1));
            self.work.fill_scanned = self.work.fill_scanned.saturating_add(u64_from(scanned));
            if first.is_none() {
                return WalkEnd::Clean;
            }
        }
        // Report what is at the unpadded position (or at the padded one when
        // the fill is zero and only the padded position has data).
        let at = if fill_zero && p < end { p } else { u };
        let why = self.read(at).err().unwrap_or(Error::BadMagic {
            structure: Structure::SegmentHeader,
            offset: at,
            found: le_u32(self.body, at).unwrap_or(0),
        });
        WalkEnd::Torn(why)
    }
}

impl<'a> Iterator for Walk<'a> {
    type Item = Segment<'a>;

    fn next(&mut self) -> Option<Segment<'a>> {
        let offset = match core::mem::replace(&mut self.next, Next::Done) {
            Next::At(offset) => offset,
            Next::Tail { u, p, fill_zero } => {
                self.stop = self.finish(u, p, fill_zero);
                return None;
            }
            Next::Done => return None,
        };
        if self.index >= MAX_SEGMENTS {
            self.stop = WalkEnd::Limit(Error::TooManySegments {
                offset,
                limit: MAX_SEGMENTS,
            });
            return None;
        }
        let (header, payload) = match self.read(offset) {
            Ok(x) => x,
            Err(e) => {
                self.stop = WalkEnd::Torn(e);
                return None;
            }
        };
        let index = self.index;
        self.index = index.saturating_add(1);
        let u = offset
            .saturating_add(SEGMENT_HEADER_SIZE)
            .saturating_add(u64_from(payload.len()));
        self.end = u;
        let (next, padded) = self.next_position(u);
        if padded {
            self.end = align64(u).unwrap_or(u);
        }
        self.next = next;
        Some(Segment {
            index,
            offset,
            header,
            payload,
            padded,
        })
    }
}

/// Parses the 64-byte segment header at the start of `bytes` (at file offset
/// `offset`, for messages): magic and version, as the walk reads them. For
/// readers that fetch a file header by header (a block device) before they
/// hold its bytes; [`SegmentHeader::payload_length`] then says where the
/// payload ends, and [`after_segment`] where the next header starts.
///
/// # Errors
/// [`Error::Truncated`] (fewer than 64 bytes), [`Error::BadMagic`],
/// [`Error::UnsupportedVersion`].
pub fn read_header(bytes: &[u8], offset: u64) -> Result<&SegmentHeader, Error> {
    let truncated = Error::Truncated {
        structure: Structure::SegmentHeader,
        offset,
        needed: SEGMENT_HEADER_SIZE,
        available: u64_from(bytes.len()),
    };
    let hb = range(bytes, 0, SEGMENT_HEADER_SIZE).ok_or(truncated)?;
    let header = SegmentHeader::ref_from_bytes(hb).map_err(|_| truncated)?;
    if header.magic.get() != SEGMENT_MAGIC {
        return Err(Error::BadMagic {
            structure: Structure::SegmentHeader,
            offset,
            found: header.magic.get(),
        });
    }
    if header.version != SEGMENT_VERSION {
        return Err(Error::UnsupportedVersion {
            structure: Structure::SegmentHeader,
            offset,
            version: u16::from(header.version),
        });
    }
    Ok(header)
}

/// What follows a segment whose payload ends at `u` ([`after_segment`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum After {
    /// A header (right magic) starts at `offset`; `padded` when zero fill up
    /// to a 64-byte boundary came first.
    Next {
        /// Where the next header starts.
        offset: u64,
        /// Whether zero fill padded the segment before it.
        padded: bool,
    },
    /// No header follows: the segments end at `end` (`u`, or the 64-byte
    /// boundary after it when zero fill reaches it), as [`Walk::end`] says.
    End {
        /// Offset just past the last segment and its padding.
        end: u64,
    },
}

/// How many bytes from `u` on [`after_segment`] wants: the fill up to the
/// next 64-byte boundary and one header after it (64..=127).
#[must_use]
pub fn after_window(u: u64) -> u64 {
    align64(u)
        .unwrap_or(u)
        .saturating_sub(u)
        .saturating_add(SEGMENT_HEADER_SIZE)
}

/// Where the walk goes after a segment whose payload ends at `u`, decided
/// from `window`: the file's bytes from `u` on, [`after_window`]`(u)` of
/// them, or fewer where the file ends. The same choice [`Walk`] makes (the
/// padded position when the fill is zero and a header is there, else the
/// unpadded one, else the end), for readers that fetch a file piece by piece:
/// a block device's reader walks the headers with this and
/// [`read_header`], then reads only the RVF's extent, never the rest of the
/// disk. Reads only `window`: no scan of what follows.
#[must_use]
pub fn after_segment(window: &[u8], u: u64) -> After {
    let p = align64(u).unwrap_or(u);
    let gap = usize_from(p.saturating_sub(u)).unwrap_or(usize::MAX);
    let fill = window.get(..gap);
    let fill_zero = fill.is_some_and(|f| f.iter().all(|&b| b == 0));
    let magic_at = |at: usize| {
        window
            .get(at..)
            .and_then(|w| w.get(..64))
            .is_some_and(|h| le_u32(h, 0) == Some(SEGMENT_MAGIC))
    };
    if gap != 0 && fill_zero && magic_at(gap) {
        return After::Next {
            offset: p,
            padded: true,
        };
    }
    if magic_at(0) {
        return After::Next {
            offset: u,
            padded: false,
        };
    }
    let end = if gap != 0 && fill_zero { p } else { u };
    After::End { end }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::vec::Vec;

    /// Builds a segment: header + payload (+ zero padding when `pad`), content
    /// hash unset (the test kit's builder).
    pub(crate) fn seg(ty: u8, id: u64, payload: &[u8], pad: bool) -> Vec<u8> {
        rvf_testkit::build::raw_segment(ty, id, payload, pad)
    }

    fn offsets(body: &[u8]) -> (Vec<(u64, bool)>, u64, WalkEnd) {
        let mut w = Walk::new(body);
        let v = w.by_ref().map(|s| (s.offset, s.padded)).collect();
        (v, w.end(), w.stop())
    }

    #[test]
    fn unpadded_walk() {
        let mut f = seg(0x0E, 1, b"abc", false);
        f.extend(seg(0x05, 2, b"xy", false));
        let (o, end, stop) = offsets(&f);
        assert_eq!(o, [(0, false), (67, false)]);
        assert_eq!(end, 67 + 66);
        assert_eq!(stop, WalkEnd::Clean);
    }

    #[test]
    fn padded_walk() {
        let mut f = seg(0x05, 1, b"abc", true);
        f.extend(seg(0x0E, 2, &[1; 100], true));
        let (o, end, stop) = offsets(&f);
        assert_eq!(o, [(0, true), (128, true)]);
        assert_eq!(end, 320, "the last segment's padding is part of it");
        assert_eq!(
            stop,
            WalkEnd::Clean,
            "trailing pad of the last segment is zero"
        );
    }

    #[test]
    fn mixed_walk_zero_fill_then_padded() {
        let mut f = seg(0x05, 1, b"abc", false); // legacy, ends at 67
        f.resize(128, 0); // 0.5.0 zero fill
        f.extend(seg(0x0E, 2, b"k", true));
        let (o, _, stop) = offsets(&f);
        assert_eq!(o, [(0, true), (128, true)]);
        assert_eq!(stop, WalkEnd::Clean);
    }

    #[test]
    fn torn_tail_is_reported_not_walked() {
        let mut f = seg(0x05, 1, b"abc", false);
        let mut t = seg(0x0E, 2, &[7; 50], false);
        t.truncate(80);
        f.extend(t);
        let (o, end, stop) = offsets(&f);
        assert_eq!(o, [(0, false)]);
        assert_eq!(end, 67);
        assert_eq!(
            stop,
            WalkEnd::Torn(Error::SegmentOverrun {
                index: 1,
                offset: 67,
                payload_length: 50,
                body_end: 147
            })
        );
    }

    #[test]
    fn padding_before_a_torn_tail_belongs_to_the_segment() {
        let mut f = seg(0x05, 1, b"abc", true);
        f.extend_from_slice(b"0123456789");
        let (o, end, stop) = offsets(&f);
        assert_eq!(o, [(0, true)]);
        assert_eq!(end, 128);
        assert!(matches!(
            stop,
            WalkEnd::Torn(Error::Truncated {
                offset: 128,
                needed: 64,
                available: 10,
                ..
            })
        ));
    }

    #[test]
    fn huge_payload_length_is_an_overrun() {
        let mut f = seg(0x05, 1, b"", false);
        f[16..24].copy_from_slice(&(u64::MAX - 10).to_le_bytes());
        let mut w = Walk::new(&f);
        assert!(w.next().is_none());
        assert_eq!(
            w.stop(),
            WalkEnd::Torn(Error::SegmentOverrun {
                index: 0,
                offset: 0,
                payload_length: u64::MAX - 10,
                body_end: 64
            })
        );
    }

    #[test]
    fn bad_version_stops_walk() {
        let mut f = seg(0x05, 1, b"", false);
        f[4] = 2;
        let mut w = Walk::new(&f);
        assert!(w.next().is_none());
        assert_eq!(
            w.stop(),
            WalkEnd::Torn(Error::UnsupportedVersion {
                structure: Structure::SegmentHeader,
                offset: 0,
                version: 2
            })
        );
    }

    #[test]
    fn segment_limit_is_enforced() {
        let one = seg(0x01, 1, b"", false);
        let f: Vec<u8> = one
            .iter()
            .copied()
            .cycle()
            .take(64 * (MAX_SEGMENTS as usize + 5))
            .collect();
        let mut w = Walk::new(&f);
        assert_eq!(w.by_ref().count(), MAX_SEGMENTS as usize);
        assert_eq!(
            w.stop(),
            WalkEnd::Limit(Error::TooManySegments {
                offset: 64 * u64::from(MAX_SEGMENTS),
                limit: MAX_SEGMENTS
            })
        );
    }

    #[test]
    fn header_fields_writers_leave_zero_are_refused() {
        for (at, width, field) in [
            (0x06usize, 2usize, SegmentField::Flags),
            (0x21, 1, SegmentField::Compression),
            (0x22, 2, SegmentField::Reserved0),
            (0x24, 4, SegmentField::Reserved1),
            (0x38, 4, SegmentField::UncompressedLen),
        ] {
            let mut f = seg(0x05, 1, b"abc", false);
            assert_eq!(Walk::new(&f).next().unwrap().check_fields(), Ok(()));
            f[at..at + width].fill(0x01);
            let s = Walk::new(&f).next().unwrap();
            let value = if width == 1 {
                1
            } else if width == 2 {
                0x0101
            } else {
                0x0101_0101
            };
            assert_eq!(
                s.check_fields(),
                Err(Error::UnsupportedSegmentField {
                    index: 0,
                    offset: 0,
                    field,
                    value
                })
            );
        }
    }

    #[test]
    fn a_zero_tail_is_scanned_once_and_only_when_walked_to() {
        let mut f = seg(0x05, 1, b"abc", false);
        f.extend(seg(0x0E, 2, b"k", false));
        f.resize(f.len() + 100_000, 0);
        let mut w = Walk::new(&f);
        w.next().unwrap();
        w.next().unwrap();
        let early = w.work();
        assert!(early.fill_scanned <= 64, "{early:?}");
        assert!(early.header_reads <= 5, "{early:?}");
        assert!(w.next().is_none());
        assert_eq!(w.stop(), WalkEnd::Clean);
        let done = w.work();
        // Every tail byte once, plus the one byte after the first payload that
        // showed the next header starts there (its magic is not zero fill).
        assert_eq!(done.fill_scanned, 100_000 + 1, "{done:?}");
        assert!(w.next().is_none());
        assert_eq!(w.work(), done, "a finished walk does no more work");
        // A non-zero byte at the very end: torn, found by the same one scan.
        let n = f.len();
        f[n - 1] = 7;
        let mut w = Walk::new(&f);
        assert_eq!(w.by_ref().count(), 2);
        assert!(matches!(w.stop(), WalkEnd::Torn(Error::BadMagic { .. })));
        assert!(w.work().fill_scanned <= f.len() as u64);
    }

    #[test]
    fn root_page_split() {
        let mut f = seg(0x05, 1, b"abc", true);
        let mut page = std::vec![0u8; 4096];
        page[..4].copy_from_slice(&ROOT_PAGE_MAGIC.to_le_bytes());
        f.extend(&page);
        let (body, p) = split_root_page(&f);
        assert_eq!(body.len(), 128);
        assert_eq!(p.map(<[u8]>::len), Some(4096));
        // Too short to hold a segment before it: not a page.
        assert!(split_root_page(&page).1.is_none());
    }

    /// The header-by-header walk ([`read_header`] + [`after_segment`] on
    /// windows) as a device reader runs it: offsets and end.
    fn streamed(body: &[u8]) -> (Vec<(u64, bool)>, u64) {
        let mut out = Vec::new();
        let mut at = 0u64;
        loop {
            let Some(h) = body
                .get(at as usize..)
                .and_then(|b| read_header(b, at).ok())
            else {
                return (out, at);
            };
            let u = at + 64 + h.payload_length.get();
            if u > body.len() as u64 {
                return (out, at);
            }
            out.push((at, false));
            let w = &body[u as usize..(u + after_window(u)).min(body.len() as u64) as usize];
            match after_segment(w, u) {
                After::Next { offset, padded } => {
                    out.last_mut().unwrap().1 = padded;
                    at = offset;
                }
                After::End { end } => {
                    out.last_mut().unwrap().1 = end != u;
                    return (out, end);
                }
            }
        }
    }

    #[test]
    fn streamed_walk_matches_the_walk() {
        let a = seg(1, 1, b"abc", false);
        let b = seg(2, 2, b"defgh", true);
        let c = seg(5, 3, &[7; 70], false);
        let mut bodies: Vec<Vec<u8>> = Vec::new();
        bodies.push([a.clone(), b.clone(), c.clone()].concat());
        bodies.push([b.clone(), b.clone(), a.clone()].concat());
        // Legacy then zero fill then padded (mixed).
        let mut mixed = a.clone();
        mixed.resize(128, 0);
        mixed.extend_from_slice(&b);
        bodies.push(mixed.clone());
        // A zero tail, a garbage tail, a torn segment, a padded last segment.
        bodies.push([a.clone(), std::vec![0; 1000]].concat());
        bodies.push([a.clone(), std::vec![0x55; 10]].concat());
        bodies.push([b.clone(), c[..100].to_vec()].concat());
        bodies.push([a.clone(), b.clone()].concat());
        bodies.push([b.clone(), std::vec![0; 3]].concat());
        for body in &bodies {
            let (want, end, _) = offsets(body);
            assert_eq!(streamed(body), (want, end), "{body:?}");
        }
        assert_eq!(after_window(0), 64);
        assert_eq!(after_window(1), 127);
        assert_eq!(after_window(64), 64);
        assert_eq!(
            read_header(&a[..63], 9).unwrap_err(),
            Error::Truncated {
                structure: Structure::SegmentHeader,
                offset: 9,
                needed: 64,
                available: 63
            }
        );
        let mut v = a.clone();
        v[4] = 2;
        assert_eq!(
            read_header(&v, 0).unwrap_err(),
            Error::UnsupportedVersion {
                structure: Structure::SegmentHeader,
                offset: 0,
                version: 2
            }
        );
    }
}
