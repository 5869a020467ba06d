//! KERNEL_SEG payloads (§4): the 128-byte kernel header in its two layouts,
//! and the stored image, cmdline and KernelBinding located by lengths.
//!
//! The header's `cmdline_offset` is never trusted (both writers put 128 there
//! while storing the cmdline after the image). The layout is decided by the
//! u32 at 0x6C (non-zero only in RuvBot files) and confirmed by the length
//! equation of §4.3; every other header fact a loader might want (arch,
//! flags, entry point) is advisory: the bzImage's own setup header rules.

use crate::bytes::{le_u16, le_u32, range, u64_from};
use crate::checksum::HashCheck;
use crate::error::{Error, Result, Structure};
use crate::segment::Segment;
use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, KnownLayout, Unaligned};

/// `"RVKN"` as a little-endian u32 (wire bytes `4E 4B 56 52`).
pub const KERNEL_MAGIC: u32 = 0x5256_4B4E;
/// Size of the kernel header.
pub const KERNEL_HEADER_SIZE: u64 = 128;
/// Size of the KernelBinding (§4.6).
pub const KERNEL_BINDING_SIZE: u64 = 128;

/// The 128-byte kernel header as rvf-types defines it (§4.1). RuvBot files
/// reuse 0x6C..0x78 differently; [`KernelSegment`] reads those by layout.
#[derive(FromBytes, KnownLayout, Immutable, Unaligned, Debug)]
#[repr(C)]
pub struct KernelHeader {
    /// 0x00: [`KERNEL_MAGIC`].
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

/// A parsed KERNEL_SEG: its header, stored image and cmdline, borrowed.
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
}

const GZIP_MAGIC: [u8; 3] = [0x1F, 0x8B, 0x08];
const LZ4_FRAME_MAGIC: u32 = 0x184D_2204;
const ZSTD_MAGIC: u32 = 0xFD2F_B528;

impl<'a> KernelSegment<'a> {
    /// Parses a KERNEL_SEG's payload without checking its content hash (for
    /// tools and fuzzing; [`crate::Container`] checks the hash first and
    /// records it, see [`KernelSegment::content_hash`]).
    ///
    /// # Errors
    /// [`Error::BadMagic`], [`Error::UnsupportedVersion`] or
    /// [`Error::Truncated`] for the header; [`Error::KernelLayout`] when the
    /// lengths fit no layout; [`Error::KernelField`] for a field that
    /// contradicts the layout; [`Error::UnsupportedCompression`].
    pub fn parse_unverified(segment: Segment<'a>) -> Result<Self> {
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
        let field = |field: &'static str, value: u64| Error::KernelField {
            offset: off,
            field,
            value,
        };
        let compression = header.compression;
        if compression > 3 {
            return Err(field("compression", u64::from(compression)));
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
                    "cmdline_length high half (0x74, RuvBot layout)",
                    u64::from(le_u32(p, 0x74).unwrap_or(0)),
                ));
            }
            if header.cmdline_length.get() != 0 {
                return Err(field(
                    "cmdline_length (0x78, RuvBot layout)",
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
        Ok(Self {
            segment,
            header,
            layout,
            format,
            stored,
            cmdline,
            binding,
            content_hash: None,
        })
    }

    fn stored_format(off: u64, header: &KernelHeader, stored: &[u8]) -> Result<StoredFormat> {
        if stored.starts_with(&GZIP_MAGIC) {
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
                field: "compressed_size (must equal image_size when uncompressed)",
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

    /// The content-hash check the container made, `None` if parsed unverified.
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
    /// when this came from a [`crate::Container`], but the image itself is
    /// not verified until extraction checks its CRC and `image_hash`.
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
        let k = KernelSegment::parse_unverified(s)?;
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
        let gz = [0x1F, 0x8B, 0x08, 0, 0];
        let mut p = ruvbot_header(100, 5, 2);
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
                field: "compression",
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
}
