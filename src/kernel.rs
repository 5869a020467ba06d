//! KERNEL_SEG payloads (§4): the 128-byte kernel header in its two layouts,
//! and the stored image, cmdline and KernelBinding located by lengths.
//!
//! The header's `cmdline_offset` is never trusted (both writers put 128 there
//! while storing the cmdline after the image). The layout is decided by the
//! u32 at 0x6C (non-zero only in RuvBot files) and confirmed by the length
//! equation of §4.3; every other header fact a loader might want (arch,
//! flags, entry point) is advisory: the bzImage's own setup header rules.
//!
//! `image_size` is bounded when the header is parsed (issue 9): it may not
//! exceed what the stored bytes can inflate to (`gzip::max_inflated_size`;
//! a raw image's `image_size` is its stored size) nor [`MAX_IMAGE_SIZE`], so
//! no caller ever sizes a buffer from an absurd declared size.

use crate::bytes::{le_u16, le_u32, range, u64_from};
use crate::checksum::{ContentHash, HashCheck};
use crate::error::{Error, Result, Structure};
use crate::gzip;
use crate::policy::Policy;
use crate::segment::Segment;
use core::fmt;
use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, KnownLayout, Unaligned};

testing_pub! {
    /// `"RVKN"` as a little-endian u32 (wire bytes `4E 4B 56 52`).
    pub const KERNEL_MAGIC: u32 = 0x5256_4B4E;
}
/// Size of the kernel header.
pub(crate) const KERNEL_HEADER_SIZE: u64 = 128;
/// Size of the KernelBinding (§4.6).
pub(crate) const KERNEL_BINDING_SIZE: u64 = 128;

/// The largest `image_size` the reader accepts: 256 MiB.
///
/// The image is a bzImage (setup code plus the compressed kernel), not the
/// kernel it unpacks to. Distribution bzImages are 8-16 MiB (Debian's cloud
/// kernel: 13.5 MiB; the project's test kernel: a few KiB), and even one
/// with a large built-in initramfs stays far below 256 MiB. The QEMU stub
/// must place the image, the kernel's decompression window (`init_size`,
/// a few times the image), the RVF and an initrd below 4 GiB, so a larger
/// image could not boot there anyway. The cap bounds what a host tool
/// allocates for an image whose stored form is large enough to pass the
/// deflate bound (`image_size` ≤ 1032 × stored size).
pub const MAX_IMAGE_SIZE: u64 = 256 * 1024 * 1024;

/// A kernel-header field that contradicts the detected layout
/// ([`Error::KernelField`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeaderField {
    /// `compression` (0x28) is above 3 (no writer uses more).
    Compression,
    /// RuvBot layout: the u32 at 0x74 (the high half of the 64-bit cmdline
    /// length the crate layout has at 0x70) is not zero.
    CmdlineLengthHigh,
    /// RuvBot layout: `cmdline_length` at 0x78 (the crate layout's field) is
    /// not zero; RuvBot files keep the length at 0x70.
    CmdlineLength,
    /// `compressed_size` (0x20) differs from `image_size` although the
    /// image is stored uncompressed.
    CompressedSize,
}

impl HeaderField {
    /// The field as messages name it.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Compression => "compression",
            Self::CmdlineLengthHigh => "cmdline_length high half (0x74, RuvBot layout)",
            Self::CmdlineLength => "cmdline_length (0x78, RuvBot layout)",
            Self::CompressedSize => "compressed_size (must equal image_size when uncompressed)",
        }
    }
}

display_by_name!(HeaderField);

/// The limit an `image_size` exceeds ([`Error::ImageSize`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImageSizeLimit {
    /// More than a gzip member of `stored_size` bytes can inflate to
    /// (`gzip::max_inflated_size`): the header lies.
    Deflate {
        /// The stored (compressed) image's length.
        stored_size: u64,
    },
    /// More than [`MAX_IMAGE_SIZE`].
    Cap,
}

impl ImageSizeLimit {
    /// The largest `image_size` this limit allows.
    #[must_use]
    pub const fn max(self) -> u64 {
        match self {
            Self::Deflate { stored_size } => gzip::max_inflated_size(stored_size),
            Self::Cap => MAX_IMAGE_SIZE,
        }
    }
}

impl fmt::Display for ImageSizeLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Deflate { stored_size } => write!(
                f,
                "the {} bytes a {stored_size}-byte gzip member can inflate to (deflate expands at most {}:1)",
                self.max(),
                gzip::MAX_DEFLATE_RATIO
            ),
            Self::Cap => write!(f, "the reader's cap of {MAX_IMAGE_SIZE} bytes"),
        }
    }
}

/// The 128-byte kernel header as rvf-types defines it (§4.1). RuvBot files
/// reuse 0x6C..0x78 differently; [`KernelSegment`] reads those by layout.
#[derive(FromBytes, KnownLayout, Immutable, Unaligned, Debug)]
#[repr(C)]
pub struct KernelHeader {
    /// 0x00: `KERNEL_MAGIC`.
    pub kernel_magic: U32,
    /// 0x04: 1.
    pub header_version: U16,
    /// 0x06: architecture code (advisory: rvf-cli writes 1 for x86_64).
    pub arch: u8,
    /// 0x07: kernel type code.
    pub kernel_type: u8,
    /// 0x08: kernel flags (§4.5, advisory).
    pub kernel_flags: U32,
    /// 0x0C: minimum guest memory in MiB.
    pub min_memory_mb: U32,
    /// 0x10: entry point (untrusted: 0, 0x200000 or a load address).
    pub entry_point: U64,
    /// 0x18: uncompressed image size.
    pub image_size: U64,
    /// 0x20: stored (compressed) size.
    pub compressed_size: U64,
    /// 0x28: compression code (0 none; 1 gzip in RuvBot files, LZ4 in rvf-types).
    pub compression: u8,
    /// 0x29: API transport.
    pub api_transport: u8,
    /// 0x2A: API port (big-endian in crate files, little-endian in RuvBot files).
    pub api_port: [u8; 2],
    /// 0x2C: API version.
    pub api_version: U32,
    /// 0x30: hash of the uncompressed image (§4.4).
    pub image_hash: [u8; 32],
    /// 0x50: build id.
    pub build_id: [u8; 16],
    /// 0x60: build timestamp (crate: ns; RuvBot: seconds).
    pub build_timestamp: U64,
    /// 0x68: vCPU count.
    pub vcpu_count: U32,
    /// 0x6C: reserved (crate layout); cmdline offset u32 (RuvBot layout).
    pub reserved_0: U32,
    /// 0x70: cmdline offset u64 (crate); cmdline length u32 + 0 (RuvBot).
    pub cmdline_offset: U64,
    /// 0x78: cmdline length (crate layout); 0 in RuvBot files.
    pub cmdline_length: U32,
    /// 0x7C: reserved.
    pub reserved_1: U32,
}

/// The 128-byte KernelBinding (§4.6), present in the binding layout only.
#[derive(FromBytes, KnownLayout, Immutable, Unaligned, Debug)]
#[repr(C)]
pub struct KernelBinding {
    /// 0x00: manifest root hash (caller-supplied, unchecked at boot).
    pub manifest_root_hash: [u8; 32],
    /// 0x20: policy hash (caller-supplied, unchecked at boot).
    pub policy_hash: [u8; 32],
    /// 0x40: binding version (0 = no binding).
    pub binding_version: U16,
    /// 0x42: minimum runtime version (0 = any).
    pub min_runtime_version: U16,
    /// 0x44: padding.
    pub pad0: U32,
    /// 0x48: allowed segment types (bit n = type n; 0 = no restriction).
    pub allowed_segment_mask: U64,
    /// 0x50: reserved.
    pub reserved: [u8; 48],
}

const _: [(); 128] = [(); core::mem::size_of::<KernelHeader>()];
const _: [(); 128] = [(); core::mem::size_of::<KernelBinding>()];

/// Where the image and cmdline sit in the payload (§4.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelLayout {
    /// build-rvf.js: `header ‖ gzip(image) ‖ cmdline`, RuvBot header tail.
    RuvBot,
    /// rvf-runtime `embed_kernel`: `header ‖ image ‖ cmdline`.
    Simple,
    /// rvf-runtime `embed_kernel_with_binding`: `header ‖ binding ‖ cmdline ‖ image`.
    Binding,
}

impl KernelLayout {
    /// The report name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::RuvBot => "ruvbot",
            Self::Simple => "simple",
            Self::Binding => "binding",
        }
    }
}

/// How the image is stored, decided by the stream's magic (§4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoredFormat {
    /// A gzip member (`1F 8B 08`).
    Gzip,
    /// The raw image (compression 0, stored size = image size).
    Raw,
}

impl StoredFormat {
    /// The report name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Gzip => "gzip",
            Self::Raw => "none",
        }
    }
}

/// A parsed KERNEL_SEG: its header, stored image and cmdline, borrowed, and
/// the [`Policy`] it is verified under (the container's, handed on so that
/// extraction needs no second policy argument).
#[derive(Clone, Copy, Debug)]
pub struct KernelSegment<'a> {
    segment: Segment<'a>,
    header: &'a KernelHeader,
    layout: KernelLayout,
    format: StoredFormat,
    stored: &'a [u8],
    cmdline: &'a [u8],
    binding: Option<&'a KernelBinding>,
    content_hash: Option<HashCheck>,
    /// The file's algorithm-0 convention, when a container handed the kernel
    /// out with its content hash still to check
    /// ([`crate::Container::selected_kernel_deferred`]).
    algo0: Option<ContentHash>,
    policy: Policy,
}

const LZ4_FRAME_MAGIC: u32 = 0x184D_2204;
const ZSTD_MAGIC: u32 = 0xFD2F_B528;

impl<'a> KernelSegment<'a> {
    /// Parses a KERNEL_SEG's payload without checking its content hash (for
    /// tools and fuzzing; [`crate::Container`] checks the hash first and
    /// records it, see [`KernelSegment::content_hash`]).
    ///
    /// `policy` is the one the kernel is verified under later: since no
    /// container hands one on here, the caller passes it, once.
    /// [`crate::image::extract`] then checks the content hash itself (it has
    /// not been checked) and the `image_hash`, both under `policy`.
    ///
    /// # Errors
    /// [`Error::BadMagic`], [`Error::UnsupportedVersion`] or
    /// [`Error::Truncated`] for the header; [`Error::KernelLayout`] when the
    /// lengths fit no layout; [`Error::KernelField`] for a field that
    /// contradicts the layout; [`Error::UnsupportedCompression`];
    /// [`Error::ImageSize`] when `image_size` exceeds what the stored image
    /// can inflate to or [`MAX_IMAGE_SIZE`].
    pub fn parse_unverified(segment: Segment<'a>, policy: Policy) -> Result<Self> {
        let off = segment.offset;
        let p = segment.payload;
        let pbase = off.saturating_add(crate::segment::SEGMENT_HEADER_SIZE);
        let header: &KernelHeader = crate::bytes::view(p, pbase, 0, Structure::KernelHeader)?;
        if header.kernel_magic.get() != KERNEL_MAGIC {
            return Err(Error::BadMagic {
                structure: Structure::KernelHeader,
                offset: pbase,
                found: header.kernel_magic.get(),
            });
        }
        if header.header_version.get() != 1 {
            return Err(Error::UnsupportedVersion {
                structure: Structure::KernelHeader,
                offset: pbase,
                version: header.header_version.get(),
            });
        }
        let field = |field: HeaderField, value: u64| Error::KernelField {
            offset: off,
            field,
            value,
        };
        let compression = header.compression;
        if compression > 3 {
            return Err(field(HeaderField::Compression, u64::from(compression)));
        }
        let image_size = header.image_size.get();
        let stored_size = if compression == 0 {
            image_size
        } else {
            header.compressed_size.get()
        };
        let payload_length = u64_from(p.len());
        let ruvbot = header.reserved_0.get() != 0;
        let cmdline_length = if ruvbot {
            // u32 cmdline_offset at 0x6C, u32 cmdline_length at 0x70, zeros at 0x74..0x7C.
            if le_u32(p, 0x74) != Some(0) {
                return Err(field(
                    HeaderField::CmdlineLengthHigh,
                    u64::from(le_u32(p, 0x74).unwrap_or(0)),
                ));
            }
            if header.cmdline_length.get() != 0 {
                return Err(field(
                    HeaderField::CmdlineLength,
                    u64::from(header.cmdline_length.get()),
                ));
            }
            u64::from(le_u32(p, 0x70).unwrap_or(0))
        } else {
            u64::from(header.cmdline_length.get())
        };
        let layout_err = Error::KernelLayout {
            offset: off,
            payload_length,
            stored_size,
            cmdline_length,
        };
        let rest = payload_length
            .checked_sub(KERNEL_HEADER_SIZE)
            .ok_or(layout_err)?;
        let simple = stored_size.checked_add(cmdline_length);
        let binding = simple.and_then(|s| s.checked_add(KERNEL_BINDING_SIZE));
        let (layout, image_at, cmdline_at) = if simple == Some(rest) {
            let l = if ruvbot {
                KernelLayout::RuvBot
            } else {
                KernelLayout::Simple
            };
            (
                l,
                KERNEL_HEADER_SIZE,
                KERNEL_HEADER_SIZE.saturating_add(stored_size),
            )
        } else if !ruvbot && binding == Some(rest) {
            let cmd = KERNEL_HEADER_SIZE.saturating_add(KERNEL_BINDING_SIZE);
            (
                KernelLayout::Binding,
                cmd.saturating_add(cmdline_length),
                cmd,
            )
        } else {
            return Err(layout_err);
        };
        let stored = range(p, image_at, stored_size).ok_or(layout_err)?;
        let cmdline = range(p, cmdline_at, cmdline_length).ok_or(layout_err)?;
        let binding = match layout {
            KernelLayout::Binding => Some(crate::bytes::view(
                p,
                pbase,
                KERNEL_HEADER_SIZE,
                Structure::KernelBinding,
            )?),
            _ => None,
        };
        let format = Self::stored_format(off, header, stored)?;
        check_image_size(off, image_size, format, u64_from(stored.len()))?;
        Ok(Self {
            segment,
            header,
            layout,
            format,
            stored,
            cmdline,
            binding,
            content_hash: None,
            algo0: None,
            policy,
        })
    }

    fn stored_format(off: u64, header: &KernelHeader, stored: &[u8]) -> Result<StoredFormat> {
        if gzip::is_gzip(stored) {
            return Ok(StoredFormat::Gzip);
        }
        let magic = le_u32(stored, 0).unwrap_or(0);
        if header.compression != 0 || magic == LZ4_FRAME_MAGIC || magic == ZSTD_MAGIC {
            return Err(Error::UnsupportedCompression {
                offset: off,
                code: header.compression,
                magic,
            });
        }
        if header.compressed_size.get() != header.image_size.get() {
            return Err(Error::KernelField {
                offset: off,
                field: HeaderField::CompressedSize,
                value: header.compressed_size.get(),
            });
        }
        Ok(StoredFormat::Raw)
    }

    /// Records that the segment's content hash was checked (crate-internal).
    pub(crate) const fn with_content_hash(mut self, check: HashCheck) -> Self {
        self.content_hash = Some(check);
        self
    }

    /// Records that the content hash is still to be checked, under the
    /// file's algorithm-0 convention `algo0` (crate-internal).
    pub(crate) const fn deferring(mut self, algo0: ContentHash) -> Self {
        self.algo0 = Some(algo0);
        self
    }

    /// The algorithm-0 convention the unchecked content hash is checked
    /// under: the container's, `None` when parsed on its own (then any
    /// algorithm-0 hash is tried, [`crate::checksum::require_content_hash`]).
    pub(crate) const fn algo0(&self) -> Option<ContentHash> {
        self.algo0
    }

    /// The policy this kernel is verified under: its container's, or the one
    /// given to [`KernelSegment::parse_unverified`].
    #[must_use]
    pub const fn policy(&self) -> Policy {
        self.policy
    }

    /// The content-hash check the container made; `None` when it has not
    /// been made ([`KernelSegment::parse_unverified`],
    /// [`crate::Container::selected_kernel_deferred`]): then
    /// [`crate::image::extract`] makes it.
    #[must_use]
    pub const fn content_hash(&self) -> Option<HashCheck> {
        self.content_hash
    }

    /// The segment this kernel lives in.
    #[must_use]
    pub const fn segment(&self) -> &Segment<'a> {
        &self.segment
    }

    /// Absolute file offset of the KERNEL_SEG header.
    #[must_use]
    pub const fn segment_offset(&self) -> u64 {
        self.segment.offset
    }

    /// The raw kernel header.
    #[must_use]
    pub const fn header(&self) -> &'a KernelHeader {
        self.header
    }

    /// The payload layout.
    #[must_use]
    pub const fn layout(&self) -> KernelLayout {
        self.layout
    }

    /// How the image is stored.
    #[must_use]
    pub const fn format(&self) -> StoredFormat {
        self.format
    }

    /// Declared uncompressed image size.
    #[must_use]
    pub fn image_size(&self) -> u64 {
        self.header.image_size.get()
    }

    /// Stored (possibly compressed) image size.
    #[must_use]
    pub fn stored_size(&self) -> u64 {
        u64_from(self.stored.len())
    }

    /// The kernel command line stored in the segment (raw bytes, no NUL).
    #[must_use]
    pub const fn cmdline(&self) -> &'a [u8] {
        self.cmdline
    }

    /// The stored image bytes. Their segment's content hash has been checked
    /// when [`KernelSegment::content_hash`] is `Some`, but the image itself
    /// is not verified until extraction checks its CRC and `image_hash`.
    #[must_use]
    pub const fn stored_unverified(&self) -> &'a [u8] {
        self.stored
    }

    /// The KernelBinding (binding layout only; advisory).
    #[must_use]
    pub const fn binding(&self) -> Option<&'a KernelBinding> {
        self.binding
    }

    /// The 32-byte `image_hash` field.
    #[must_use]
    pub const fn image_hash(&self) -> &'a [u8; 32] {
        &self.header.image_hash
    }

    /// Architecture code (advisory; ambiguous between writers, §8).
    #[must_use]
    pub const fn arch(&self) -> u8 {
        self.header.arch
    }

    /// Kernel type code (advisory).
    #[must_use]
    pub const fn kernel_type(&self) -> u8 {
        self.header.kernel_type
    }

    /// Kernel flags (advisory, §4.5).
    #[must_use]
    pub fn kernel_flags(&self) -> u32 {
        self.header.kernel_flags.get()
    }

    /// API port in the byte order of the layout (little-endian in RuvBot files,
    /// big-endian in crate files).
    #[must_use]
    pub fn api_port(&self) -> u16 {
        match self.layout {
            KernelLayout::RuvBot => le_u16(&self.header.api_port, 0).unwrap_or(0),
            _ => u16::from_be_bytes(self.header.api_port),
        }
    }

    /// The header's `entry_point` (advisory and untrusted, §4.7).
    #[must_use]
    pub fn entry_point_advisory(&self) -> u64 {
        self.header.entry_point.get()
    }
}

/// Refuses an `image_size` the stored image cannot produce or the reader does
/// not accept. A raw image's `image_size` is its stored size (the layout
/// equation used it as such), so only the cap applies to it.
fn check_image_size(offset: u64, image_size: u64, format: StoredFormat, stored: u64) -> Result<()> {
    let deflate = ImageSizeLimit::Deflate {
        stored_size: stored,
    };
    let limits = match format {
        StoredFormat::Gzip => [Some(deflate), Some(ImageSizeLimit::Cap)],
        StoredFormat::Raw => [None, Some(ImageSizeLimit::Cap)],
    };
    match limits.into_iter().flatten().find(|l| image_size > l.max()) {
        Some(limit) => Err(Error::ImageSize {
            offset,
            image_size,
            limit,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::segment::{Walk, tests::seg};
    use std::vec::Vec;

    /// A crate-layout kernel header.
    pub(crate) fn crate_header(
        image: u64,
        stored: u64,
        compression: u8,
        cmdline_len: u32,
    ) -> Vec<u8> {
        let mut h = std::vec![0u8; 128];
        h[0..4].copy_from_slice(&KERNEL_MAGIC.to_le_bytes());
        h[4] = 1;
        h[0x18..0x20].copy_from_slice(&image.to_le_bytes());
        h[0x20..0x28].copy_from_slice(&stored.to_le_bytes());
        h[0x28] = compression;
        h[0x2A..0x2C].copy_from_slice(&8080u16.to_be_bytes());
        h[0x70..0x78].copy_from_slice(&128u64.to_le_bytes());
        h[0x78..0x7C].copy_from_slice(&cmdline_len.to_le_bytes());
        h
    }

    /// A RuvBot-layout kernel header.
    pub(crate) fn ruvbot_header(image: u64, stored: u64, cmdline_len: u32) -> Vec<u8> {
        let mut h = crate_header(image, stored, 1, 0);
        h[0x2A..0x2C].copy_from_slice(&3000u16.to_le_bytes());
        h[0x6C..0x70].copy_from_slice(&128u32.to_le_bytes());
        h[0x70..0x78].copy_from_slice(&u64::from(cmdline_len).to_le_bytes());
        h
    }

    type Parsed = (KernelLayout, StoredFormat, Vec<u8>, Vec<u8>, u16);

    fn parse(payload: &[u8]) -> Result<Parsed> {
        let f = seg(0x0E, 1, payload, false);
        let s = Walk::new(&f).next().unwrap();
        let k = KernelSegment::parse_unverified(s, Policy::default())?;
        Ok((
            k.layout(),
            k.format(),
            k.stored_unverified().to_vec(),
            k.cmdline().to_vec(),
            k.api_port(),
        ))
    }

    #[test]
    fn simple_layout() {
        let mut p = crate_header(4, 4, 0, 3);
        p.extend_from_slice(b"IMG!abc");
        let (l, f, img, cmd, port) = parse(&p).unwrap();
        assert_eq!(
            (l, f, &img[..], &cmd[..], port),
            (
                KernelLayout::Simple,
                StoredFormat::Raw,
                &b"IMG!"[..],
                &b"abc"[..],
                8080
            )
        );
    }

    #[test]
    fn binding_layout() {
        let mut p = crate_header(4, 4, 0, 3);
        p.extend_from_slice(&[0u8; 128]);
        p.extend_from_slice(b"abcIMG!");
        let (l, _, img, cmd, _) = parse(&p).unwrap();
        assert_eq!(
            (l, &img[..], &cmd[..]),
            (KernelLayout::Binding, &b"IMG!"[..], &b"abc"[..])
        );
    }

    #[test]
    fn ruvbot_layout() {
        // 20 stored bytes: enough for a 100-byte image_size (2 × 1032).
        let mut gz = [0u8; 20];
        gz[..3].copy_from_slice(&[0x1F, 0x8B, 0x08]);
        let mut p = ruvbot_header(100, 20, 2);
        p.extend_from_slice(&gz);
        p.extend_from_slice(b"q=");
        let (l, f, img, cmd, port) = parse(&p).unwrap();
        assert_eq!(
            (l, f, &img[..], &cmd[..], port),
            (
                KernelLayout::RuvBot,
                StoredFormat::Gzip,
                &gz[..],
                &b"q="[..],
                3000
            )
        );
    }

    #[test]
    fn huge_cmdline_length_is_a_layout_error() {
        let mut p = crate_header(4, 4, 0, 0xFFFF_FF00);
        p.extend_from_slice(b"IMG!abc");
        assert_eq!(
            parse(&p).unwrap_err(),
            Error::KernelLayout {
                offset: 0,
                payload_length: 135,
                stored_size: 4,
                cmdline_length: 0xFFFF_FF00
            }
        );
        let mut q = crate_header(u64::MAX, u64::MAX, 0, 0xFFFF_FF00);
        q.extend_from_slice(b"IMG!abc");
        assert!(matches!(parse(&q).unwrap_err(), Error::KernelLayout { .. }));
    }

    #[test]
    fn unsupported_compression_and_fields() {
        let mut p = crate_header(4, 4, 2, 0);
        p.extend_from_slice(&[0x28, 0xB5, 0x2F, 0xFD]);
        assert_eq!(
            parse(&p).unwrap_err(),
            Error::UnsupportedCompression {
                offset: 0,
                code: 2,
                magic: 0xFD2F_B528
            }
        );
        let mut q = crate_header(4, 4, 9, 0);
        q.extend_from_slice(b"IMG!");
        assert_eq!(
            parse(&q).unwrap_err(),
            Error::KernelField {
                offset: 0,
                field: HeaderField::Compression,
                value: 9
            }
        );
        let mut r = crate_header(4, 4, 0, 0);
        r[4] = 2;
        r.extend_from_slice(b"IMG!");
        assert_eq!(
            parse(&r).unwrap_err(),
            Error::UnsupportedVersion {
                structure: Structure::KernelHeader,
                offset: 64,
                version: 2
            }
        );
        let mut s = crate_header(4, 4, 0, 0);
        s[0] = 0;
        s.extend_from_slice(b"IMG!");
        assert!(matches!(
            parse(&s).unwrap_err(),
            Error::BadMagic {
                structure: Structure::KernelHeader,
                offset: 64,
                ..
            }
        ));
    }

    /// A RuvBot payload whose stored image is `stored` bytes starting with
    /// the gzip magic, declaring `image_size`.
    fn gzip_payload(image_size: u64, stored: usize) -> Vec<u8> {
        let mut p = ruvbot_header(image_size, stored as u64, 1);
        let mut gz = std::vec![0u8; stored];
        gz[..3].copy_from_slice(&[0x1F, 0x8B, 0x08]);
        p.extend_from_slice(&gz);
        p.push(b'q');
        p
    }

    #[test]
    fn image_size_deflate_bound_edge() {
        // 100 stored bytes: at most (100 - 18) × 1032 = 84 624 output bytes.
        let max = 82 * 1032;
        assert_eq!(
            parse(&gzip_payload(max, 100)).unwrap().1,
            StoredFormat::Gzip
        );
        assert_eq!(
            parse(&gzip_payload(max + 1, 100)).unwrap_err(),
            Error::ImageSize {
                offset: 0,
                image_size: max + 1,
                limit: ImageSizeLimit::Deflate { stored_size: 100 }
            }
        );
        // Shorter than a minimal member: nothing can come out of it.
        assert_eq!(parse(&gzip_payload(0, 18)).unwrap().1, StoredFormat::Gzip);
        assert_eq!(
            parse(&gzip_payload(1, 18)).unwrap_err(),
            Error::ImageSize {
                offset: 0,
                image_size: 1,
                limit: ImageSizeLimit::Deflate { stored_size: 18 }
            }
        );
    }

    #[test]
    fn image_size_cap_edge() {
        // Stored size large enough that the deflate bound is above the cap.
        let stored = (MAX_IMAGE_SIZE / 1032 + 19) as usize;
        assert!(gzip::max_inflated_size(stored as u64) > MAX_IMAGE_SIZE);
        let ok = parse(&gzip_payload(MAX_IMAGE_SIZE, stored)).unwrap();
        assert_eq!(ok.1, StoredFormat::Gzip);
        assert_eq!(
            parse(&gzip_payload(MAX_IMAGE_SIZE + 1, stored)).unwrap_err(),
            Error::ImageSize {
                offset: 0,
                image_size: MAX_IMAGE_SIZE + 1,
                limit: ImageSizeLimit::Cap
            }
        );
    }

    #[test]
    fn policy_is_carried() {
        let mut p = crate_header(4, 4, 0, 0);
        p.extend_from_slice(b"IMG!");
        let f = seg(0x0E, 1, &p, false);
        let s = Walk::new(&f).next().unwrap();
        let lax = Policy::allowing_unset_hash(true);
        assert_eq!(
            KernelSegment::parse_unverified(s, lax).unwrap().policy(),
            lax
        );
        assert_eq!(
            KernelSegment::parse_unverified(s, Policy::default())
                .unwrap()
                .policy(),
            Policy::default()
        );
    }
}
