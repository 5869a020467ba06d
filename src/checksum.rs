//! Segment content hashes (§2.4): which algorithm a `checksum_algo` byte
//! means, computing it over the payload, and comparing in constant time.
//!
//! `checksum_algo = 0` hides three meanings: legacy rvf-runtime writes
//! CRC-32/IEEE rotated into four lanes, the RuvBot writer SHA-256[0..16], and
//! rvf-wire would validate XXH3-128. A file uses one of them: the winning
//! manifest's hash decides which (all three are tried on it, and it also tells
//! the dialect), and every other algorithm-0 segment of the file must carry
//! that one ([`check_content_hash_as`]). 1 is XXH3-128 stored as
//! `u128::to_le_bytes`, 2 is SHAKE-256 truncated to 16 bytes. Anything else is
//! an error, never a fallback.

use crate::error::{Error, Result};
use crate::segment::Segment;
use crc::{CRC_32_ISO_HDLC, Crc, Table};
use sha2::{Digest, Sha256};
use sha3::Shake256;
use sha3::digest::{ExtendableOutput, Update, XofReader};
use subtle::ConstantTimeEq;

/// CRC-32/IEEE (zlib, gzip): reflected 0xEDB88320, init and xorout 0xFFFFFFFF
/// (slice-by-16 tables, as the gzip trailer check).
pub static CRC32_IEEE: Crc<u32, Table<16>> = Crc::<u32, Table<16>>::new(&CRC_32_ISO_HDLC);

/// A content-hash algorithm that verified a payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContentHash {
    /// SHA-256, first 16 bytes (RuvBot writer, algo 0).
    Sha256Trunc,
    /// CRC-32/IEEE rotated into four lanes (legacy rvf-runtime, algo 0).
    Crc32Rot4,
    /// XXH3-128, seed 0, `u128::to_le_bytes` (algo 1; rvf-wire's algo 0).
    Xxh3_128,
    /// SHAKE-256, first 16 XOF bytes (algo 2, signed stores).
    Shake256_128,
}

impl ContentHash {
    /// The name used in reports and JSON.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Sha256Trunc => "sha256-16",
            Self::Crc32Rot4 => "crc32-rot4",
            Self::Xxh3_128 => "xxh3-128",
            Self::Shake256_128 => "shake256-128",
        }
    }

    /// The 16-byte digest of `data` under this algorithm, as stored in a header.
    #[must_use]
    pub fn digest(self, data: &[u8]) -> [u8; 16] {
        match self {
            Self::Sha256Trunc => {
                let full: [u8; 32] = Sha256::digest(data).into();
                let mut out = [0u8; 16];
                for (o, i) in out.iter_mut().zip(full.iter()) {
                    *o = *i;
                }
                out
            }
            Self::Crc32Rot4 => {
                let c = CRC32_IEEE.checksum(data);
                let mut out = [0u8; 16];
                for (lane, rot) in out.chunks_exact_mut(4).zip([0u32, 8, 16, 24]) {
                    lane.copy_from_slice(&c.rotate_left(rot).to_le_bytes());
                }
                out
            }
            Self::Xxh3_128 => xxhash_rust::xxh3::xxh3_128(data).to_le_bytes(),
            Self::Shake256_128 => shake256(data),
        }
    }

    /// The candidates `checksum_algo` admits, in the order they are tried, or
    /// `None` for an unknown code.
    #[must_use]
    pub const fn candidates(algo: u8) -> Option<&'static [Self]> {
        match algo {
            0 => Some(&[Self::Sha256Trunc, Self::Crc32Rot4, Self::Xxh3_128]),
            1 => Some(&[Self::Xxh3_128]),
            2 => Some(&[Self::Shake256_128]),
            _ => None,
        }
    }
}

/// SHAKE-256 of `data`, first 16 bytes.
#[must_use]
pub fn shake256(data: &[u8]) -> [u8; 16] {
    let mut h = Shake256::default();
    h.update(data);
    let mut out = [0u8; 16];
    h.finalize_xof().read(&mut out);
    out
}

/// Constant-time equality of two byte strings (length is not secret).
#[must_use]
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    bool::from(a.ct_eq(b))
}

/// The outcome of checking a content hash that did not fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashCheck {
    /// The payload matched under this algorithm.
    Verified(ContentHash),
    /// The stored hash is all zeros: nothing was checked.
    Unset,
}

impl HashCheck {
    /// The report name: the algorithm's, or `"unset"`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Verified(h) => h.name(),
            Self::Unset => "unset",
        }
    }
}

/// Checks `seg`'s payload against its header's `content_hash`, trying every
/// algorithm its `checksum_algo` admits (for algo 0: SHA-256[0..16], CRC-32
/// rot4, XXH3-128). This is the dialect-free check of one segment on its own;
/// a [`crate::Container`] checks the segments of a file with
/// [`check_content_hash_as`] and the file's algorithm-0 convention.
///
/// # Errors
/// [`Error::UnknownChecksumAlgo`] for a `checksum_algo` other than 0, 1, 2;
/// [`Error::ContentHashMismatch`] when no admitted algorithm matches.
pub fn check_content_hash(seg: &Segment<'_>) -> Result<HashCheck> {
    let mut hashed = 0;
    check_any(seg, &mut hashed)
}

/// [`check_content_hash`], adding the payload bytes hashed to `hashed`.
///
/// For algorithm 0 the candidates are tried in the order the header's
/// timestamp suggests (every rvf-runtime writes 0, the RuvBot writer the
/// time), so a real file's payload is hashed once; any order gives the same
/// result, only the work differs (at most three hashes of the payload).
pub(crate) fn check_any(seg: &Segment<'_>, hashed: &mut u64) -> Result<HashCheck> {
    let algo = seg.header.checksum_algo;
    let stored = &seg.header.content_hash;
    let candidates = match algo {
        0 if seg.header.timestamp_ns.get() == 0 => Some(
            &[
                ContentHash::Crc32Rot4,
                ContentHash::Sha256Trunc,
                ContentHash::Xxh3_128,
            ][..],
        ),
        _ => ContentHash::candidates(algo),
    }
    .ok_or(Error::UnknownChecksumAlgo {
        index: seg.index,
        offset: seg.offset,
        algo,
    })?;
    if stored.iter().all(|&b| b == 0) {
        return Ok(HashCheck::Unset);
    }
    candidates
        .iter()
        .copied()
        .find(|&h| digest_matches(h, seg, hashed))
        .map(HashCheck::Verified)
        .ok_or(Error::ContentHashMismatch {
            index: seg.index,
            offset: seg.offset,
            algo,
        })
}

/// Whether `seg`'s stored hash is `h` of its payload (counting the bytes hashed).
fn digest_matches(h: ContentHash, seg: &Segment<'_>, hashed: &mut u64) -> bool {
    *hashed = hashed.saturating_add(crate::bytes::u64_from(seg.payload.len()));
    ct_eq(&h.digest(seg.payload), &seg.header.content_hash)
}

/// Checks `seg`'s content hash the way the segments of one file are checked:
/// `checksum_algo` 0 must be `algo0`, the one algorithm-0 hash the file's
/// writer uses (§2.4: SHA-256[0..16] for RuvBot, CRC-32 rot4 for legacy
/// rvf-runtime); 1 and 2 are XXH3-128 and SHAKE-256-128. The payload is
/// hashed once, except on the way to an error (to say which hash it carries).
/// Adds the payload bytes hashed to `hashed`.
///
/// # Errors
/// [`Error::UnknownChecksumAlgo`]; [`Error::ContentHashOtherWriter`] when an
/// algorithm-0 segment carries another writer's hash; [`Error::ContentHashMismatch`].
pub fn check_content_hash_as(
    seg: &Segment<'_>,
    algo0: ContentHash,
    hashed: &mut u64,
) -> Result<HashCheck> {
    let algo = seg.header.checksum_algo;
    if algo != 0 {
        return check_any(seg, hashed);
    }
    if seg.header.content_hash.iter().all(|&b| b == 0) {
        return Ok(HashCheck::Unset);
    }
    if digest_matches(algo0, seg, hashed) {
        return Ok(HashCheck::Verified(algo0));
    }
    let others = ContentHash::candidates(0).unwrap_or(&[]);
    match others
        .iter()
        .copied()
        .filter(|&h| h != algo0)
        .find(|&h| digest_matches(h, seg, hashed))
    {
        Some(found) => Err(Error::ContentHashOtherWriter {
            index: seg.index,
            offset: seg.offset,
            expected: algo0,
            found,
        }),
        None => Err(Error::ContentHashMismatch {
            index: seg.index,
            offset: seg.offset,
            algo,
        }),
    }
}

/// The gate every segment passes before its payload is used: its header
/// fields ([`Segment::check_fields`]) and its content hash, refusing an unset
/// hash unless `allow_unset`. Dialect-free (see [`check_content_hash`]); a
/// [`crate::Container`] gates its segments with the file's convention.
///
/// # Errors
/// [`Error::UnsupportedSegmentField`], those of [`check_content_hash`], and
/// [`Error::ContentHashUnset`].
pub fn require_content_hash(seg: &Segment<'_>, allow_unset: bool) -> Result<HashCheck> {
    seg.check_fields()?;
    refuse_unset(seg, check_content_hash(seg)?, allow_unset)
}

/// [`require_content_hash`] under the file's algorithm-0 convention
/// ([`check_content_hash_as`]), counting the bytes hashed.
pub(crate) fn require_content_hash_as(
    seg: &Segment<'_>,
    algo0: ContentHash,
    allow_unset: bool,
    hashed: &mut u64,
) -> Result<HashCheck> {
    seg.check_fields()?;
    refuse_unset(seg, check_content_hash_as(seg, algo0, hashed)?, allow_unset)
}

fn refuse_unset(seg: &Segment<'_>, check: HashCheck, allow_unset: bool) -> Result<HashCheck> {
    match check {
        HashCheck::Unset if !allow_unset => Err(Error::ContentHashUnset {
            index: seg.index,
            offset: seg.offset,
        }),
        ok => Ok(ok),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;
    use std::string::String;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn vectors_from_the_format_notes() {
        assert_eq!(
            hex(&ContentHash::Xxh3_128.digest(b"")),
            "7f498d4624c30160d8984701d306aa99"
        );
        assert_eq!(
            hex(&ContentHash::Xxh3_128.digest(b"abc")),
            "50392f89945faf7885613a73b65ab006"
        );
        assert_eq!(
            hex(&ContentHash::Shake256_128.digest(b"abc")),
            "483366601360a8771c6863080cc4114d"
        );
        assert_eq!(
            hex(&ContentHash::Crc32Rot4.digest(b"123456789")),
            "2639f4cbcb2639f4f4cb263939f4cb26"
        );
        assert_eq!(
            hex(&ContentHash::Sha256Trunc.digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223"
        );
    }

    #[test]
    fn unknown_algorithms_are_refused() {
        for a in 3..=255u8 {
            assert!(ContentHash::candidates(a).is_none());
        }
        assert_eq!(
            ContentHash::candidates(1),
            Some(&[ContentHash::Xxh3_128][..])
        );
    }

    #[test]
    fn ct_eq_works() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }
}
