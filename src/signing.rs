//! The signature policy's checks on a signed store (the module
//! documentation of [`crate::policy`], steps 1-3 and 7): the root page is
//! signed and verifies under a trusted key, the manifest is the one the page
//! commits to, and a segment header is what the signing writer emits. The
//! [`crate::Container`] calls them at parse and on each segment it hands out.

use crate::bytes::u64_from;
use crate::checksum::{ContentHash, HashCheck};
use crate::error::{Error, Result};
use crate::policy::{AuthProblem, SignaturePolicy, WriterField};
use crate::root_page::RootPage;
use crate::segment::Segment;

/// Signature policy, steps 1-2: the page exists and is signed (`sig_algo`
/// checked before the CRC, as rvf-runtime), parses, and verifies under a
/// trusted key. Returns the page and the key's index.
pub(crate) fn check_signature<'a>(
    page: Option<&'a [u8]>,
    page_at: u64,
    sp: &SignaturePolicy,
) -> Result<(RootPage<'a>, usize)> {
    let Some(bytes) = page else {
        return Err(Error::Auth(AuthProblem::Unsigned { root_page: None }));
    };
    if crate::bytes::le_u16(bytes, 0x98) == Some(0) {
        return Err(Error::Auth(AuthProblem::Unsigned {
            root_page: Some(page_at),
        }));
    }
    let rp = RootPage::parse(bytes, page_at)?;
    let index = rp.verify_signature(sp.trusted_keys).map_err(|e| match e {
        Error::RootPageSignature { offset, problem } => Error::Auth(AuthProblem::Signature {
            root_page: offset,
            problem,
        }),
        other => other,
    })?;
    Ok((rp, index))
}

/// Signature policy, step 3: the manifest is the one the page commits to
/// (length, segment id, SHAKE-256-128; the offset chose it) and its header is
/// what the signing writer emits. The payload is hashed once.
pub(crate) fn check_signed_manifest(
    rp: &RootPage<'_>,
    manifest: &Segment<'_>,
    hashed: &mut u64,
) -> Result<HashCheck> {
    let commitment = |field, value| {
        Error::Auth(AuthProblem::Commitment {
            root_page: rp.offset(),
            field,
            value,
        })
    };
    let len = crate::segment::SEGMENT_HEADER_SIZE.saturating_add(manifest.payload_length());
    if rp.manifest_length() != len {
        return Err(commitment(
            crate::root_page::PageField::ManifestLength,
            rp.manifest_length(),
        ));
    }
    if rp.manifest_segment_id() != manifest.segment_id() {
        return Err(commitment(
            crate::root_page::PageField::SegmentId,
            rp.manifest_segment_id(),
        ));
    }
    *hashed = hashed.saturating_add(u64_from(manifest.payload.len()));
    let actual = crate::checksum::shake256(manifest.payload);
    if !crate::checksum::ct_eq(rp.manifest_content_hash(), &actual) {
        let first8 = crate::bytes::le_u64(rp.manifest_content_hash(), 0).unwrap_or(0);
        return Err(commitment(
            crate::root_page::PageField::ContentHashFirst8,
            first8,
        ));
    }
    check_writer_header(manifest, &actual)?;
    Ok(HashCheck::Verified(ContentHash::Shake256_128))
}

/// A signed store's segment header is exactly what rvf-runtime's signing
/// writer emits: SHAKE-256-128 `content_hash` equal to `payload_hash`, every
/// other field fixed (rvf-runtime `Committed::header_ok`).
pub(crate) fn check_writer_header(seg: &Segment<'_>, payload_hash: &[u8; 16]) -> Result<()> {
    let h = seg.header;
    let pad = crate::bytes::align64(seg.payload_end())
        .map_or(u64::MAX, |end| end.saturating_sub(seg.payload_end()));
    let fields = [
        (WriterField::ChecksumAlgo, u64::from(h.checksum_algo), 2),
        (WriterField::Alignment, seg.offset & 63, 0),
        (WriterField::Flags, u64::from(h.flags.get()), 0),
        (WriterField::Compression, u64::from(h.compression), 0),
        (WriterField::Reserved0, u64::from(h.reserved_0.get()), 0),
        (WriterField::Reserved1, u64::from(h.reserved_1.get()), 0),
        (
            WriterField::UncompressedLen,
            u64::from(h.uncompressed_len.get()),
            0,
        ),
        (WriterField::Timestamp, h.timestamp_ns.get(), 0),
        (
            WriterField::AlignmentPad,
            u64::from(h.alignment_pad.get()),
            pad,
        ),
    ];
    if let Some((field, value, _)) = fields.into_iter().find(|&(_, v, want)| v != want) {
        return Err(Error::Auth(AuthProblem::Header {
            offset: seg.offset,
            field,
            value,
        }));
    }
    if !crate::checksum::ct_eq(&h.content_hash, payload_hash) {
        return Err(Error::Auth(AuthProblem::Header {
            offset: seg.offset,
            field: WriterField::ContentHash,
            value: crate::bytes::le_u64(&h.content_hash, 0).unwrap_or(0),
        }));
    }
    Ok(())
}
