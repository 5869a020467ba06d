//! Segment content hashes (§2.4): which algorithm a `checksum_algo` byte
//! means, computing it over the payload, and comparing in constant time.
//!
//! `checksum_algo = 0` hides three meanings: legacy rvf-runtime writes
//! CRC-32/IEEE rotated into four lanes, the RuvBot writer SHA-256[0..16], and
//! rvf-wire would validate XXH3-128. A file uses one of them: the winning
//! manifest's hash decides which (all three are tried on it, and it also tells
//! the dialect), and every other algorithm-0 segment of the file must carry
//! that one (the rule is decided in one place, `Rule`; its public faces are
//! `check_content_hash`, [`require_content_hash`] and
//! [`crate::Container::content_hash`]). 1 is XXH3-128 stored as
//! `u128::to_le_bytes`, 2 is SHAKE-256 truncated to 16 bytes. Anything else is
//! an error, never a fallback.

use crate::error::{Error, Result};
use crate::gzip::CRC32 as CRC32_IEEE;
use crate::segment::Segment;
use crc::Table;
use sha2::{Digest, Sha256};
use sha3::Shake256;
use sha3::digest::{ExtendableOutput, ExtendableOutputReset, Update, XofReader};
use subtle::ConstantTimeEq;
use xxhash_rust::xxh3::Xxh3Default;

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
            Self::Sha256Trunc => truncate16(&Sha256::digest(data).into()),
            Self::Crc32Rot4 => crc_rot4(CRC32_IEEE.checksum(data)),
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

impl ContentHash {
    /// An incremental hasher for this algorithm: [`ContentHasher::update`]
    /// over consecutive pieces of the data, then [`ContentHasher::finalize`],
    /// gives [`ContentHash::digest`] of their concatenation (no allocation;
    /// the state is 448 bytes, XXH3's being the largest). Never inlined, so
    /// its temporaries stay out of its callers' frames.
    #[must_use]
    #[inline(never)]
    pub(crate) fn hasher(self) -> ContentHasher {
        ContentHasher(match self {
            Self::Sha256Trunc => Incremental::Sha256Trunc(Sha256::new()),
            Self::Crc32Rot4 => Incremental::Crc32Rot4(CRC32_IEEE.digest()),
            Self::Xxh3_128 => Incremental::Xxh3_128(Xxh3Default::new()),
            Self::Shake256_128 => Incremental::Shake256_128(Shake256::default()),
        })
    }
}

/// A content hash computed piece by piece ([`ContentHash::hasher`]).
pub(crate) struct ContentHasher(Incremental);

enum Incremental {
    Sha256Trunc(Sha256),
    Crc32Rot4(crc::Digest<'static, u32, Table<16>>),
    Xxh3_128(Xxh3Default),
    Shake256_128(Shake256),
}

impl ContentHasher {
    /// The algorithm.
    #[must_use]
    pub(crate) const fn algorithm(&self) -> ContentHash {
        match self.0 {
            Incremental::Sha256Trunc(_) => ContentHash::Sha256Trunc,
            Incremental::Crc32Rot4(_) => ContentHash::Crc32Rot4,
            Incremental::Xxh3_128(_) => ContentHash::Xxh3_128,
            Incremental::Shake256_128(_) => ContentHash::Shake256_128,
        }
    }

    /// Continues the hash over `data`.
    pub(crate) fn update(&mut self, data: &[u8]) {
        // One frame per algorithm, never inlined into each other or into the
        // caller: the stack holds only the running algorithm's temporaries
        // (the stack bound of `image::extract_joined`, host-tests gzip.rs).
        #[inline(never)]
        fn sha256(h: &mut Sha256, data: &[u8]) {
            Digest::update(h, data);
        }
        #[inline(never)]
        fn crc(h: &mut crc::Digest<'static, u32, Table<16>>, data: &[u8]) {
            h.update(data);
        }
        #[inline(never)]
        fn xxh3(h: &mut Xxh3Default, data: &[u8]) {
            h.update(data);
        }
        #[inline(never)]
        fn shake(h: &mut Shake256, data: &[u8]) {
            Update::update(h, data);
        }
        match &mut self.0 {
            Incremental::Sha256Trunc(h) => sha256(h, data),
            Incremental::Crc32Rot4(h) => crc(h, data),
            Incremental::Xxh3_128(h) => xxh3(h, data),
            Incremental::Shake256_128(h) => shake(h, data),
        }
    }

    /// The 16-byte digest of everything given to [`Self::update`], as
    /// [`ContentHash::digest`] stores it.
    #[must_use]
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn finalize(mut self) -> [u8; 16] {
        self.finish_in_place()
    }

    /// [`Self::finalize`] without moving the state (no copy of it on the
    /// stack); the state is spent afterwards.
    fn finish_in_place(&mut self) -> [u8; 16] {
        #[inline(never)]
        fn sha256(h: &mut Sha256) -> [u8; 16] {
            truncate16(&Digest::finalize_reset(h).into())
        }
        #[inline(never)]
        fn shake(h: &mut Shake256) -> [u8; 16] {
            let mut out = [0u8; 16];
            ExtendableOutputReset::finalize_xof_reset(h).read(&mut out);
            out
        }
        match &mut self.0 {
            Incremental::Sha256Trunc(h) => sha256(h),
            Incremental::Crc32Rot4(h) => crc_rot4(h.clone().finalize()),
            Incremental::Xxh3_128(h) => h.digest128().to_le_bytes(),
            Incremental::Shake256_128(h) => shake(h),
        }
    }
}

impl core::fmt::Debug for ContentHasher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("ContentHasher")
            .field(&self.algorithm())
            .finish()
    }
}

/// The first 16 bytes of a SHA-256 digest.
fn truncate16(full: &[u8; 32]) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (o, i) in out.iter_mut().zip(full.iter()) {
        *o = *i;
    }
    out
}

/// A CRC-32 rotated into four little-endian lanes (0, 8, 16, 24 bits).
fn crc_rot4(c: u32) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (lane, rot) in out.chunks_exact_mut(4).zip([0u32, 8, 16, 24]) {
        lane.copy_from_slice(&c.rotate_left(rot).to_le_bytes());
    }
    out
}

testing_pub! {
    /// SHAKE-256 of `data`, first 16 bytes.
    ///
    /// Never inlined: its 200-byte sponge state stays out of the frames of
    /// [`ContentHash::digest`] and its callers when they hash otherwise (the
    /// stack high-water of the whole verify path, `host-tests/tests/gzip.rs`).
    #[must_use]
    #[inline(never)]
    pub fn shake256(data: &[u8]) -> [u8; 16] {
        let mut h = Shake256::default();
        h.update(data);
        let mut out = [0u8; 16];
        h.finalize_xof().read(&mut out);
        out
    }
}

/// Constant-time equality of two byte strings (length is not secret).
#[must_use]
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
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

testing_pub! {
    /// Checks `seg`'s payload against its header's `content_hash`, trying every
    /// algorithm its `checksum_algo` admits (for algo 0: SHA-256[0..16], CRC-32
    /// rot4, XXH3-128). This is the dialect-free check of one segment on its own;
    /// a [`crate::Container`] checks the segments of a file under the file's
    /// algorithm-0 convention ([`crate::Container::content_hash`]).
    ///
    /// # Errors
    /// [`Error::UnknownChecksumAlgo`] for a `checksum_algo` other than 0, 1, 2;
    /// [`Error::ContentHashMismatch`] when no admitted algorithm matches.
    pub fn check_content_hash(seg: &Segment<'_>) -> Result<HashCheck> {
        Rule::ANY.check(seg, &mut 0)
    }
}

/// The gate every segment passes before its payload is used: its header
/// fields ([`Segment::check_fields`]) and its content hash, refusing an unset
/// hash unless `allow_unset`. Dialect-free (see `check_content_hash`); a
/// [`crate::Container`] gates its segments with the file's convention.
///
/// # Errors
/// [`Error::UnsupportedSegmentField`], those of `check_content_hash`, and
/// [`Error::ContentHashUnset`].
pub fn require_content_hash(seg: &Segment<'_>, allow_unset: bool) -> Result<HashCheck> {
    Rule::ANY.require(seg, allow_unset, &mut 0)
}

/// The content-hash rule (§2.4), the one place it is decided: which
/// algorithm a segment's hash must be, and whether its payload matches.
///
/// `checksum_algo` 1 and 2 are XXH3-128 and SHAKE-256-128. Algorithm 0 is
/// the file writer's hash: `algo0` when the file's convention is known (a
/// [`crate::Container`]'s: SHA-256[0..16] for RuvBot, CRC-32 rot4 for legacy
/// rvf-runtime; another writer's hash is [`Error::ContentHashOtherWriter`]),
/// or, dialect-free (`None`, [`Rule::ANY`]), any of the three candidates, tried
/// in the order the header's timestamp suggests (every rvf-runtime writes 0,
/// the RuvBot writer the time), so a real file's payload is hashed once; any
/// order gives the same result, only the work differs (at most three hashes
/// of the payload). The payload is hashed once, except on the way to an
/// error (to say which hash it carries). Every method adds the payload
/// bytes it hashed to `hashed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rule {
    /// The file's algorithm-0 hash, `None` for any candidate.
    pub(crate) algo0: Option<ContentHash>,
}

/// What [`Rule::plan`] decides before hashing anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    /// The stored hash is all zeros: nothing to hash.
    Unset,
    /// The algorithm to compute first (the one the stored hash must be when
    /// the file's convention is known).
    Hash(ContentHash),
}

/// A segment's content hash as [`Rule::begin`] leaves it: checked, or still
/// to compute as `h` (beside other work, [`Interleaved`]) under `rule`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Content {
    /// Checked.
    Checked(HashCheck),
    /// Still to hash under `h`, then to judge by `rule`.
    Deferred {
        /// The rule that judges the digest.
        rule: Rule,
        /// The algorithm to compute.
        h: ContentHash,
    },
}

impl Rule {
    /// Dialect-free: any algorithm-0 candidate verifies.
    pub(crate) const ANY: Self = Self { algo0: None };

    /// The checks that need no hashing ([`Error::UnknownChecksumAlgo`], an
    /// unset hash) and the algorithm to compute first.
    pub(crate) fn plan(self, seg: &Segment<'_>) -> Result<Plan> {
        let algo = seg.header.checksum_algo;
        let first = match (algo, self.algo0) {
            (0, Some(algo0)) => Some(algo0),
            (0, None) if seg.header.timestamp_ns.get() == 0 => Some(ContentHash::Crc32Rot4),
            _ => ContentHash::candidates(algo).and_then(|c| c.first().copied()),
        };
        let h = first.ok_or(Error::UnknownChecksumAlgo {
            index: seg.index,
            offset: seg.offset,
            algo,
        })?;
        if seg.header.content_hash.iter().all(|&b| b == 0) {
            return Ok(Plan::Unset);
        }
        Ok(Plan::Hash(h))
    }

    /// The verdict given `digest`, the digest of the whole payload under the
    /// planned algorithm `h`: verified, or the error naming what the payload
    /// carries (which hashes it again under the other candidates). Never
    /// inlined: its one-shot hashes' temporaries stay out of the frames that
    /// are live during an inflate (`image::hash_beside`).
    #[inline(never)]
    pub(crate) fn verdict(
        self,
        seg: &Segment<'_>,
        h: ContentHash,
        digest: &[u8; 16],
        hashed: &mut u64,
    ) -> Result<HashCheck> {
        if ct_eq(digest, &seg.header.content_hash) {
            return Ok(HashCheck::Verified(h));
        }
        let algo = seg.header.checksum_algo;
        let others = ContentHash::candidates(algo).unwrap_or(&[]);
        let found = others
            .iter()
            .copied()
            .filter(|&o| o != h)
            .find(|&o| digest_matches(o, seg, hashed));
        match (found, self.algo0) {
            // Algorithm 1 or 2, or dialect-free: any candidate it admits verifies.
            (Some(found), _) if algo != 0 => Ok(HashCheck::Verified(found)),
            (Some(found), None) => Ok(HashCheck::Verified(found)),
            (Some(found), Some(expected)) => Err(Error::ContentHashOtherWriter {
                index: seg.index,
                offset: seg.offset,
                expected,
                found,
            }),
            (None, _) => Err(Error::ContentHashMismatch {
                index: seg.index,
                offset: seg.offset,
                algo,
            }),
        }
    }

    /// The algorithm a segment with `checksum_algo` `algo` verified under
    /// when it passed this rule (`None` for algorithm 0 dialect-free, which
    /// any candidate passes, or an unknown algorithm).
    pub(crate) fn verified_as(self, algo: u8) -> Option<ContentHash> {
        if algo == 0 {
            return self.algo0;
        }
        ContentHash::candidates(algo)?.first().copied()
    }

    /// [`Self::plan`], then the hash and [`Self::verdict`]: the content hash
    /// of `seg` alone (no header fields, an unset hash is `Unset`).
    pub(crate) fn check(self, seg: &Segment<'_>, hashed: &mut u64) -> Result<HashCheck> {
        match self.plan(seg)? {
            Plan::Unset => Ok(HashCheck::Unset),
            Plan::Hash(h) => {
                *hashed = hashed.saturating_add(crate::bytes::u64_from(seg.payload.len()));
                self.verdict(seg, h, &h.digest(seg.payload), hashed)
            }
        }
    }

    /// The gate: header fields ([`Segment::check_fields`]), [`Self::check`],
    /// and an unset hash refused unless `allow_unset`.
    pub(crate) fn require(
        self,
        seg: &Segment<'_>,
        allow_unset: bool,
        hashed: &mut u64,
    ) -> Result<HashCheck> {
        seg.check_fields()?;
        refuse_unset(seg, self.check(seg, hashed)?, allow_unset)
    }

    /// [`Self::require`] without the hashing: the header fields, the checks
    /// [`Self::plan`] makes and the unset refusal. `Ok(None)` for an unset
    /// hash the policy allows (nothing to hash), `Ok(Some(h))` for the one
    /// algorithm still to check.
    pub(crate) fn require_plan(
        self,
        seg: &Segment<'_>,
        allow_unset: bool,
    ) -> Result<Option<ContentHash>> {
        seg.check_fields()?;
        match self.plan(seg)? {
            Plan::Unset => refuse_unset(seg, HashCheck::Unset, allow_unset).map(|_| None),
            Plan::Hash(h) => Ok(Some(h)),
        }
    }

    /// The gate now ([`Self::require`]), or with `defer` only its checks that
    /// need no hashing ([`Self::require_plan`]), the hash left to the caller
    /// ([`Content::Deferred`]).
    pub(crate) fn begin(
        self,
        seg: &Segment<'_>,
        allow_unset: bool,
        defer: bool,
        hashed: &mut u64,
    ) -> Result<Content> {
        if !defer {
            return self.require(seg, allow_unset, hashed).map(Content::Checked);
        }
        Ok(match self.require_plan(seg, allow_unset)? {
            None => Content::Checked(HashCheck::Unset),
            Some(h) => Content::Deferred { rule: self, h },
        })
    }
}

impl Content {
    /// The check, hashing the whole payload now if it was deferred.
    pub(crate) fn settle(self, seg: &Segment<'_>, hashed: &mut u64) -> Result<HashCheck> {
        match self {
            Self::Checked(c) => Ok(c),
            Self::Deferred { rule, h } => {
                *hashed = hashed.saturating_add(crate::bytes::u64_from(seg.payload.len()));
                rule.verdict(seg, h, &h.digest(seg.payload), hashed)
            }
        }
    }
}

/// Whether `seg`'s stored hash is `h` of its payload (counting the bytes hashed).
fn digest_matches(h: ContentHash, seg: &Segment<'_>, hashed: &mut u64) -> bool {
    *hashed = hashed.saturating_add(crate::bytes::u64_from(seg.payload.len()));
    ct_eq(&h.digest(seg.payload), &seg.header.content_hash)
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

/// A content hash computed beside other work: the payload is hashed in
/// order, in pieces of [`crate::joined::FILL_PIECE`] bytes (it is a
/// [`crate::joined::Filler`]), and the rest at [`Self::finish`]. Each payload
/// byte is hashed exactly once.
#[derive(Debug)]
pub(crate) struct Interleaved<'a> {
    payload: &'a [u8],
    hasher: ContentHasher,
    done: usize,
}

impl<'a> Interleaved<'a> {
    /// A hash of `payload` under `h`, nothing hashed yet.
    pub(crate) fn new(payload: &'a [u8], h: ContentHash) -> Self {
        Self {
            payload,
            hasher: h.hasher(),
            done: 0,
        }
    }

    /// Hashes what is left of the payload; its digest.
    pub(crate) fn finish(&mut self) -> [u8; 16] {
        if let Some(rest) = self.payload.get(self.done..) {
            self.hasher.update(rest);
        }
        self.done = self.payload.len();
        self.hasher.finish_in_place()
    }
}

impl crate::joined::Filler for Interleaved<'_> {
    fn piece(&mut self) -> bool {
        let end = self
            .done
            .saturating_add(crate::joined::FILL_PIECE)
            .min(self.payload.len());
        match self.payload.get(self.done..end) {
            Some(piece) if !piece.is_empty() => {
                self.hasher.update(piece);
                self.done = end;
                true
            }
            _ => false,
        }
    }

    /// `done / len < part / whole` (exactly; never with no image).
    fn lags(&self, part: usize, whole: usize) -> bool {
        let wide = |n: usize| u128::from(crate::bytes::u64_from(n));
        let len = wide(self.payload.len());
        whole != 0 && wide(self.done).saturating_mul(wide(whole)) < wide(part).saturating_mul(len)
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

    const ALL: [ContentHash; 4] = [
        ContentHash::Sha256Trunc,
        ContentHash::Crc32Rot4,
        ContentHash::Xxh3_128,
        ContentHash::Shake256_128,
    ];

    /// Pseudo-random bytes (xorshift), long enough for XXH3's long path.
    fn data(n: usize) -> std::vec::Vec<u8> {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn incremental_hashers_equal_the_one_shot_digests() {
        for n in [
            0usize, 1, 15, 16, 17, 128, 129, 240, 241, 1024, 5000, 70_001,
        ] {
            let d = data(n);
            for h in ALL {
                let whole = h.digest(&d);
                for splits in [&[][..], &[0], &[1], &[n / 2], &[3, 64, 200, n / 3]] {
                    let mut inc = h.hasher();
                    assert_eq!(inc.algorithm(), h);
                    let mut at = 0;
                    for &cut in splits {
                        let cut = cut.clamp(at, n);
                        inc.update(&d[at..cut]);
                        at = cut;
                    }
                    inc.update(&d[at..]);
                    assert_eq!(inc.finalize(), whole, "{h:?} n={n} splits={splits:?}");
                }
            }
        }
        // The format notes' vectors, through the incremental path.
        let mut x = ContentHash::Xxh3_128.hasher();
        x.update(b"ab");
        x.update(b"c");
        assert_eq!(hex(&x.finalize()), "50392f89945faf7885613a73b65ab006");
    }

    #[test]
    fn interleaved_hashes_each_byte_once_in_order() {
        use crate::joined::{FILL_PIECE, Filler};
        let d = data(10_007); // 2 whole pieces and a part
        for h in ALL {
            let mut i = Interleaved::new(&d, h);
            assert!(!i.lags(0, 1) && i.lags(1, 10_007) && !i.lags(5, 0));
            assert!(i.piece());
            assert_eq!(i.done, FILL_PIECE);
            // 4096 / 10007 against 4096 / 10007 and one byte more.
            assert!(!i.lags(4096, 10_007) && i.lags(4097, 10_007));
            assert!(i.piece() && i.piece());
            assert_eq!(i.done, d.len());
            assert!(!i.piece() && !i.lags(1, 1));
            assert_eq!(i.finish(), h.digest(&d));
            // Part by pieces, the rest by finish.
            let mut i = Interleaved::new(&d, h);
            assert!(i.piece());
            assert_eq!(i.finish(), h.digest(&d));
            assert_eq!(Interleaved::new(&d, h).finish(), h.digest(&d));
            let mut empty = Interleaved::new(&[], h);
            assert!(!empty.piece() && !empty.lags(1, 1));
            assert_eq!(empty.finish(), h.digest(&[]));
        }
    }

    #[test]
    fn ct_eq_works() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }
}
