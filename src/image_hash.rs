//! The kernel header's `image_hash` over the uncompressed image (§4.4).
//!
//! Three writers, three algorithms, one 32-byte field:
//!
//! | writer | algorithm | [`ImageHash`] |
//! |---|---|---|
//! | build-rvf.js (RuvBot) | SHA-256 | [`ImageHash::Sha256`] |
//! | rvf-kernel `KernelVerifier` / `from_prebuilt` | SHA3-256 | [`ImageHash::Sha3_256`] |
//! | rvf-runtime `embed_kernel*` | additive toy checksum (`simple_shake256_256`) | [`ImageHash::RvfRuntimeChecksum`] |
//!
//! The rvf-runtime checksum is **not cryptographic**: anyone can construct an
//! image with any given value. A match proves only that the image is the one
//! the writer saw absent tampering; integrity for those files comes from the
//! segment content hash (and a signature, if any).
//!
//! Which candidates to compute is a parameter (`Candidates`), so the layout
//! can narrow it: RuvBot files carry SHA-256, crate files the toy checksum or
//! SHA3-256 (`Candidates::for_layout`). SHA3-256 is the slowest of the
//! three by far; computing it on every RuvBot boot would buy nothing.
//!
//! SHA-256 of the image is computed in the same pass whatever the
//! candidates (`ImageHasher::finalize_measured`, `check_image_measured`):
//! it is the image's measurement (`crate::measure`), so measured boot adds
//! no pass over the kernel. It counts for the `image_hash` check only when
//! [`ImageHash::Sha256`] is a candidate: a crate-layout kernel is never
//! "verified as SHA-256".

use crate::error::{Error, Result};
use crate::kernel::KernelLayout;
use sha2::Digest as _;
use subtle::ConstantTimeEq as _;

/// An algorithm a kernel header's `image_hash` may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ImageHash {
    /// SHA-256 (build-rvf.js, RuvBot files).
    Sha256,
    /// SHA3-256 (rvf-kernel's `KernelVerifier`).
    Sha3_256,
    /// rvf-runtime's `simple_shake256_256`, an additive, non-cryptographic
    /// checksum despite its name (§4.4).
    RvfRuntimeChecksum,
}

impl ImageHash {
    /// Every algorithm, in the order `check` tries them.
    pub const ALL: [Self; 3] = [Self::Sha256, Self::Sha3_256, Self::RvfRuntimeChecksum];

    /// The name used in reports: `sha256`, `sha3-256`, `rvf-runtime-additive`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha3_256 => "sha3-256",
            Self::RvfRuntimeChecksum => "rvf-runtime-additive",
        }
    }

    /// Whether a match says anything against a deliberate forgery.
    #[must_use]
    pub const fn is_cryptographic(self) -> bool {
        !matches!(self, Self::RvfRuntimeChecksum)
    }

    const fn bit(self) -> u8 {
        match self {
            Self::Sha256 => 1,
            Self::Sha3_256 => 2,
            Self::RvfRuntimeChecksum => 4,
        }
    }
}

testing_pub! {
    /// A set of [`ImageHash`] algorithms to compute.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct Candidates(u8);
}

#[cfg_attr(not(feature = "testing"), allow(unreachable_pub, dead_code))]
impl Candidates {
    /// No algorithm.
    pub const NONE: Self = Self(0);
    /// All three algorithms.
    pub const ALL: Self = Self(7);
    /// What a RuvBot (build-rvf.js) kernel header uses: SHA-256.
    pub const RUVBOT: Self = Self(ImageHash::Sha256.bit());
    /// What crate-written headers use: the rvf-runtime checksum or SHA3-256.
    pub const CRATE: Self = Self(ImageHash::RvfRuntimeChecksum.bit() | ImageHash::Sha3_256.bit());

    /// The candidates for a kernel layout: SHA-256 for RuvBot, the
    /// rvf-runtime checksum and SHA3-256 for the crate layouts.
    #[must_use]
    pub const fn for_layout(layout: KernelLayout) -> Self {
        match layout {
            KernelLayout::RuvBot => Self::RUVBOT,
            KernelLayout::Simple | KernelLayout::Binding => Self::CRATE,
        }
    }

    /// Exactly one algorithm.
    #[must_use]
    pub const fn only(h: ImageHash) -> Self {
        Self(h.bit())
    }

    /// This set plus `h`.
    #[must_use]
    pub const fn with(self, h: ImageHash) -> Self {
        Self(self.0 | h.bit())
    }

    /// Whether `h` is in the set.
    #[must_use]
    pub const fn contains(self, h: ImageHash) -> bool {
        self.0 & h.bit() != 0
    }

    /// Whether the set is empty.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

testing_pub! {
    /// rvf-runtime's `simple_shake256_256`, incrementally.
    ///
    /// The reference (§4.4), over bytes `b[0..n]`, wrapping `u8` arithmetic:
    ///
    /// ```text
    /// out = [0; 32]
    /// for i, b in bytes: out[i%32] += b; out[(i+13)%32] += rotl(out[i%32], 3)
    /// ```
    ///
    /// Let `v[i]` be `out[i%32]` right after step `i` adds `b[i]`. Between steps
    /// `i-32` and `i` the only other write to `out[i%32]` is step `i-13`'s, so
    /// `v[i] = v[i-32] + rotl(v[i-13], 3) + b[i]` (with `v[<0] = 0`): a recurrence
    /// whose nearest dependency is 13 bytes back. A 32-byte block is therefore
    /// three independent lane groups (0..13, 13..26, 26..32) that the compiler
    /// vectorises; the state is the last 32 `v` values, indexed by position mod
    /// 32. At the end, the last 13 steps' `rotl` additions have not yet been
    /// folded into a later `v` and are applied to a copy ([`Self::finalize`]).
    #[derive(Clone, Debug)]
    pub struct RvfRuntimeChecksum {
        /// `v` of the latest position with each residue mod 32.
        v: [u8; 32],
        /// Bytes of an incomplete block (positions `total - pending .. total`).
        buf: [u8; 32],
        /// How many bytes of `buf` are used (< 32).
        pending: usize,
        /// Total bytes absorbed, mod 2^64.
        total: u64,
    }
}

impl Default for RvfRuntimeChecksum {
    fn default() -> Self {
        Self::new()
    }
}

/// `dst[k] = prev[k] + rotl(rot[k], 3) + b[k]` (wrapping), lane-wise.
#[inline(always)]
fn mix(dst: &mut [u8], prev: &[u8], rot: &[u8], b: &[u8]) {
    for (((d, &p), &r), &x) in dst.iter_mut().zip(prev).zip(rot).zip(b) {
        *d = p.wrapping_add(r.rotate_left(3)).wrapping_add(x);
    }
}

/// One aligned 32-byte block (positions ≡ 0..32 mod 32).
#[inline(always)]
fn block(v: &mut [u8; 32], b: &[u8; 32]) {
    let prev = *v;
    let (p_lo, p_rest) = prev.split_at(13);
    let (p_mid, p_hi) = p_rest.split_at(13);
    let (b_lo, b_rest) = b.split_at(13);
    let (b_mid, b_hi) = b_rest.split_at(13);
    let (lo, rest) = v.split_at_mut(13);
    let (mid, hi) = rest.split_at_mut(13);
    // k in 0..13 reads v[k-13] = the previous block's v[k+19].
    mix(lo, p_lo, p_rest.get(6..).unwrap_or(&[]), b_lo);
    mix(mid, p_mid, lo, b_mid);
    mix(hi, p_hi, mid, b_hi);
}

#[cfg_attr(not(feature = "testing"), allow(unreachable_pub, dead_code))]
impl RvfRuntimeChecksum {
    /// A fresh state (the checksum of nothing is all zeros).
    #[must_use]
    pub const fn new() -> Self {
        Self {
            v: [0; 32],
            buf: [0; 32],
            pending: 0,
            total: 0,
        }
    }

    /// Absorb `data`.
    pub fn update(&mut self, mut data: &[u8]) {
        self.total = self.total.wrapping_add(crate::bytes::u64_from(data.len()));
        if self.pending != 0 {
            let want = 32usize.saturating_sub(self.pending);
            let (head, rest) = data.split_at(want.min(data.len()));
            let end = self.pending.saturating_add(head.len());
            if let Some(dst) = self.buf.get_mut(self.pending..end) {
                dst.copy_from_slice(head);
            }
            self.pending = end;
            data = rest;
            if self.pending < 32 {
                return;
            }
            let b = self.buf;
            block(&mut self.v, &b);
            self.pending = 0;
        }
        let mut blocks = data.chunks_exact(32);
        for b in &mut blocks {
            if let Ok(b) = <&[u8; 32]>::try_from(b) {
                block(&mut self.v, b);
            }
        }
        let tail = blocks.remainder();
        if let Some(dst) = self.buf.get_mut(..tail.len()) {
            dst.copy_from_slice(tail);
        }
        self.pending = tail.len();
    }

    /// The 32-byte checksum of everything absorbed.
    #[must_use]
    pub fn finalize(&self) -> [u8; 32] {
        // Fold the incomplete block in, sequentially: in position order,
        // v[k-13] (k >= 13) is already this block's and v[k+19] still the
        // previous block's, exactly as the recurrence needs.
        let mut v = self.v;
        for k in 0..self.pending.min(32) {
            let rot = v
                .get((k.wrapping_add(19)) % 32)
                .copied()
                .unwrap_or(0)
                .rotate_left(3);
            let b = self.buf.get(k).copied().unwrap_or(0);
            if let Some(x) = v.get_mut(k) {
                *x = x.wrapping_add(rot).wrapping_add(b);
            }
        }
        // Steps s in [total-13, total) have added rotl(v[s]) to
        // out[(s+13)%32] after that position's last v was taken.
        let mut out = v;
        let last = self.total.min(13);
        let mut s = self.total.wrapping_sub(last);
        while s != self.total {
            let src = usize::try_from(s % 32).unwrap_or(0);
            let dst = usize::try_from(s.wrapping_add(13) % 32).unwrap_or(0);
            let rot = v.get(src).copied().unwrap_or(0).rotate_left(3);
            if let Some(x) = out.get_mut(dst) {
                *x = x.wrapping_add(rot);
            }
            s = s.wrapping_add(1);
        }
        out
    }
}

testing_pub! {
    /// The digests an [`ImageHasher`] computed (`None` for algorithms not asked for).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct ImageDigests {
        /// SHA-256 of the image.
        pub sha256: Option<[u8; 32]>,
        /// SHA3-256 of the image.
        pub sha3_256: Option<[u8; 32]>,
        /// rvf-runtime checksum of the image.
        pub rvf_runtime: Option<[u8; 32]>,
    }
}

#[cfg_attr(not(feature = "testing"), allow(unreachable_pub, dead_code))]
impl ImageDigests {
    /// The digest for `h`, if computed.
    #[must_use]
    pub const fn get(&self, h: ImageHash) -> Option<&[u8; 32]> {
        match h {
            ImageHash::Sha256 => self.sha256.as_ref(),
            ImageHash::Sha3_256 => self.sha3_256.as_ref(),
            ImageHash::RvfRuntimeChecksum => self.rvf_runtime.as_ref(),
        }
    }
}

testing_pub! {
    /// Computes a set of [`Candidates`] over an image fed in chunks (for
    /// example from [`crate::gzip::inflate`]'s sink), and always SHA-256 (the
    /// image's measurement, [`ImageHasher::finalize_measured`]).
    #[derive(Clone, Debug)]
    pub struct ImageHasher {
        candidates: Candidates,
        sha256: sha2::Sha256,
        sha3_256: sha3::Sha3_256,
        rvf_runtime: RvfRuntimeChecksum,
    }
}

#[cfg_attr(not(feature = "testing"), allow(unreachable_pub, dead_code))]
impl ImageHasher {
    /// A hasher computing `candidates`.
    #[must_use]
    pub fn new(candidates: Candidates) -> Self {
        Self {
            candidates,
            sha256: sha2::Sha256::new(),
            sha3_256: sha3::Sha3_256::new(),
            rvf_runtime: RvfRuntimeChecksum::new(),
        }
    }

    /// The algorithms being computed.
    #[must_use]
    pub const fn candidates(&self) -> Candidates {
        self.candidates
    }

    /// Absorb the next chunk of the image.
    pub fn update(&mut self, chunk: &[u8]) {
        // Always: the measurement, whatever the candidates.
        self.sha256.update(chunk);
        if self.candidates.contains(ImageHash::Sha3_256) {
            self.sha3_256.update(chunk);
        }
        if self.candidates.contains(ImageHash::RvfRuntimeChecksum) {
            self.rvf_runtime.update(chunk);
        }
    }

    /// The digests of everything absorbed, for the candidates only.
    #[must_use]
    pub fn finalize(self) -> ImageDigests {
        self.finalize_measured().0
    }

    /// The digests of the candidates (SHA-256 among them only if it is
    /// one: only those count for [`check`]), and the SHA-256 of everything
    /// absorbed, which is always computed.
    #[must_use]
    pub fn finalize_measured(self) -> (ImageDigests, [u8; 32]) {
        let c = self.candidates;
        let sha256: [u8; 32] = self.sha256.finalize().into();
        let digests = ImageDigests {
            sha256: c.contains(ImageHash::Sha256).then_some(sha256),
            sha3_256: c
                .contains(ImageHash::Sha3_256)
                .then(|| self.sha3_256.finalize().into()),
            rvf_runtime: c
                .contains(ImageHash::RvfRuntimeChecksum)
                .then(|| self.rvf_runtime.finalize()),
        };
        (digests, sha256)
    }
}

/// Chunk size of [`check_image_measured`]'s pass: small enough that each
/// chunk is still in cache for the second algorithm.
const MEASURE_CHUNK: usize = 16 * 1024;

testing_pub! {
    /// The digest of `image` under `h`, in one call.
    #[must_use]
    pub fn digest(h: ImageHash, image: &[u8]) -> [u8; 32] {
        match h {
            ImageHash::Sha256 => sha2::Sha256::digest(image).into(),
            ImageHash::Sha3_256 => sha3::Sha3_256::digest(image).into(),
            ImageHash::RvfRuntimeChecksum => {
                let mut c = RvfRuntimeChecksum::new();
                c.update(image);
                c.finalize()
            }
        }
    }
}

/// The outcome of an `image_hash` check that did not fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageHashCheck {
    /// The image matches under this algorithm.
    Verified(ImageHash),
    /// The header's `image_hash` is all zeros: nothing to check. The caller
    /// applies the same policy as for unset content hashes
    /// ([`Error::ImageHashUnset`] when unset hashes are refused).
    Unset,
}

impl ImageHashCheck {
    /// The report name: the algorithm's ([`ImageHash::name`]), or `"unset"`
    /// (as [`crate::checksum::HashCheck::name`]).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Verified(h) => h.name(),
            Self::Unset => "unset",
        }
    }
}

testing_pub! {
    /// Check `expected` (the kernel header's `image_hash`) against computed
    /// digests, in the order of [`ImageHash::ALL`]. Each comparison runs in
    /// constant time.
    ///
    /// # Errors
    /// [`Error::ImageHashMismatch`] naming `kernel_offset` (the KERNEL_SEG header
    /// offset) if `expected` is non-zero and equals none of the digests computed.
    pub fn check(
        expected: &[u8; 32],
        digests: &ImageDigests,
        kernel_offset: u64,
    ) -> Result<ImageHashCheck> {
        if crate::bytes::all_zero(expected) {
            return Ok(ImageHashCheck::Unset);
        }
        for h in ImageHash::ALL {
            if digests
                .get(h)
                .is_some_and(|d| bool::from(d.ct_eq(expected)))
            {
                return Ok(ImageHashCheck::Verified(h));
            }
        }
        Err(Error::ImageHashMismatch {
            offset: kernel_offset,
        })
    }
}

/// Check `expected` against a complete image held in memory (the raw,
/// uncompressed layouts), computing candidates lazily, cheapest first (the
/// rvf-runtime checksum, SHA-256, SHA3-256), and stopping at the first match:
/// a crate file whose header holds the toy checksum never pays for SHA3-256.
///
/// # Errors
/// As [`check`].
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn check_image(
    expected: &[u8; 32],
    image: &[u8],
    candidates: Candidates,
    kernel_offset: u64,
) -> Result<ImageHashCheck> {
    if crate::bytes::all_zero(expected) {
        return Ok(ImageHashCheck::Unset);
    }
    for h in [
        ImageHash::RvfRuntimeChecksum,
        ImageHash::Sha256,
        ImageHash::Sha3_256,
    ] {
        if candidates.contains(h) && bool::from(digest(h, image).ct_eq(expected)) {
            return Ok(ImageHashCheck::Verified(h));
        }
    }
    Err(Error::ImageHashMismatch {
        offset: kernel_offset,
    })
}

/// [`check_image`] that also returns the image's SHA-256, computed in the
/// same pass as the first candidates: one chunked pass computes SHA-256
/// and, if a candidate, the rvf-runtime checksum (checked first, then
/// SHA-256 if a candidate); SHA3-256, if a candidate and nothing matched
/// yet, takes a second pass, as in [`check_image`]. An unset `expected`
/// checks nothing but the SHA-256 is still computed.
///
/// # Errors
/// As [`check`].
pub(crate) fn check_image_measured(
    expected: &[u8; 32],
    image: &[u8],
    candidates: Candidates,
    kernel_offset: u64,
) -> Result<(ImageHashCheck, [u8; 32])> {
    let unset = crate::bytes::all_zero(expected);
    let first = if unset {
        Candidates::NONE
    } else {
        Candidates(candidates.0 & !ImageHash::Sha3_256.bit())
    };
    let mut hasher = ImageHasher::new(first);
    for chunk in image.chunks(MEASURE_CHUNK) {
        hasher.update(chunk);
    }
    let (digests, sha256) = hasher.finalize_measured();
    if unset {
        return Ok((ImageHashCheck::Unset, sha256));
    }
    for h in [ImageHash::RvfRuntimeChecksum, ImageHash::Sha256] {
        if digests
            .get(h)
            .is_some_and(|d| bool::from(d.ct_eq(expected)))
        {
            return Ok((ImageHashCheck::Verified(h), sha256));
        }
    }
    if candidates.contains(ImageHash::Sha3_256)
        && bool::from(digest(ImageHash::Sha3_256, image).ct_eq(expected))
    {
        return Ok((ImageHashCheck::Verified(ImageHash::Sha3_256), sha256));
    }
    Err(Error::ImageHashMismatch {
        offset: kernel_offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvf_testkit::build::noise;
    use std::vec::Vec;

    /// §4.4 verbatim.
    fn reference(bytes: &[u8]) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, &b) in bytes.iter().enumerate() {
            out[i % 32] = out[i % 32].wrapping_add(b);
            let j = (i + 13) % 32;
            out[j] = out[j].wrapping_add(out[i % 32].rotate_left(3));
        }
        out
    }

    fn hex(s: &str) -> [u8; 32] {
        let mut o = [0u8; 32];
        for (i, b) in o.iter_mut().enumerate() {
            *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        o
    }

    #[test]
    fn toy_vector_abc() {
        let want = hex("616263000000000000000000000b131b00000000000000000000000000000000");
        assert_eq!(reference(b"abc"), want);
        assert_eq!(digest(ImageHash::RvfRuntimeChecksum, b"abc"), want);
        assert_eq!(digest(ImageHash::RvfRuntimeChecksum, b""), [0; 32]);
    }

    #[test]
    fn toy_matches_reference_on_random_inputs_and_splits() {
        for (seed, n) in [
            (1u64, 1usize),
            (2, 12),
            (3, 13),
            (4, 14),
            (5, 31),
            (6, 32),
            (7, 33),
            (8, 45),
            (9, 64),
            (10, 1000),
            (11, 65_537),
        ] {
            let data = noise(seed, n);
            let want = reference(&data);
            assert_eq!(digest(ImageHash::RvfRuntimeChecksum, &data), want, "n={n}");
            // Every split pattern: chunk sizes cycling through 1..=40.
            let mut c = RvfRuntimeChecksum::new();
            let mut rest = &data[..];
            let mut k = 1;
            while !rest.is_empty() {
                let (a, b) = rest.split_at(k.min(rest.len()));
                c.update(a);
                rest = b;
                k = k % 40 + 1;
            }
            assert_eq!(c.finalize(), want, "split n={n}");
        }
        for n in 0..100 {
            let data = noise(n as u64 + 100, n);
            assert_eq!(
                digest(ImageHash::RvfRuntimeChecksum, &data),
                reference(&data),
                "n={n}"
            );
        }
    }

    #[test]
    fn known_sha_vectors() {
        assert_eq!(
            digest(ImageHash::Sha256, b"abc"),
            hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert_eq!(
            digest(ImageHash::Sha3_256, b"abc"),
            hex("3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532")
        );
    }

    #[test]
    fn names() {
        let n: Vec<_> = ImageHash::ALL.iter().map(|h| h.name()).collect();
        assert_eq!(n, ["sha256", "sha3-256", "rvf-runtime-additive"]);
        assert_eq!(
            ImageHashCheck::Verified(ImageHash::Sha3_256).name(),
            "sha3-256"
        );
        assert_eq!(ImageHashCheck::Unset.name(), "unset");
        assert!(!ImageHash::RvfRuntimeChecksum.is_cryptographic());
        assert!(ImageHash::Sha256.is_cryptographic());
    }

    #[test]
    fn candidates() {
        assert_eq!(
            Candidates::for_layout(KernelLayout::RuvBot),
            Candidates::only(ImageHash::Sha256)
        );
        let c = Candidates::for_layout(KernelLayout::Binding);
        assert!(c.contains(ImageHash::Sha3_256) && c.contains(ImageHash::RvfRuntimeChecksum));
        assert!(!c.contains(ImageHash::Sha256));
        assert_eq!(Candidates::for_layout(KernelLayout::Simple), c);
        assert!(Candidates::NONE.is_empty());
        assert_eq!(
            Candidates::NONE
                .with(ImageHash::Sha256)
                .with(ImageHash::Sha3_256)
                .with(ImageHash::RvfRuntimeChecksum),
            Candidates::ALL
        );
    }

    #[test]
    fn hasher_and_check() {
        let img = noise(42, 10_000);
        let mut h = ImageHasher::new(Candidates::ALL);
        for c in img.chunks(777) {
            h.update(c);
        }
        let d = h.finalize();
        for a in ImageHash::ALL {
            assert_eq!(d.get(a), Some(&digest(a, &img)));
            assert_eq!(
                check(&digest(a, &img), &d, 5),
                Ok(ImageHashCheck::Verified(a))
            );
            assert_eq!(
                check_image(&digest(a, &img), &img, Candidates::ALL, 5),
                Ok(ImageHashCheck::Verified(a))
            );
        }
        assert_eq!(check(&[0; 32], &d, 5), Ok(ImageHashCheck::Unset));
        assert_eq!(
            check_image(&[0; 32], &img, Candidates::NONE, 5),
            Ok(ImageHashCheck::Unset)
        );
        let mut bad = digest(ImageHash::Sha256, &img);
        bad[31] ^= 1;
        assert_eq!(
            check(&bad, &d, 5),
            Err(Error::ImageHashMismatch { offset: 5 })
        );
        assert_eq!(
            check_image(&bad, &img, Candidates::ALL, 5),
            Err(Error::ImageHashMismatch { offset: 5 })
        );
        // Narrowed: a SHA-256 value is a mismatch when only crate algorithms run.
        let sha = digest(ImageHash::Sha256, &img);
        let only = ImageHasher::new(Candidates::CRATE);
        let mut only = only;
        only.update(&img);
        let d2 = only.finalize();
        assert_eq!(d2.sha256, None);
        assert_eq!(
            check(&sha, &d2, 9),
            Err(Error::ImageHashMismatch { offset: 9 })
        );
        assert_eq!(
            check_image(&sha, &img, Candidates::CRATE, 9),
            Err(Error::ImageHashMismatch { offset: 9 })
        );
    }

    #[test]
    fn sha256_is_always_measured_but_accepted_only_as_a_candidate() {
        let img = noise(43, 40_000);
        let sha = digest(ImageHash::Sha256, &img);
        for c in [
            Candidates::NONE,
            Candidates::CRATE,
            Candidates::RUVBOT,
            Candidates::ALL,
        ] {
            let mut h = ImageHasher::new(c);
            for part in img.chunks(999) {
                h.update(part);
            }
            let (d, measured) = h.finalize_measured();
            assert_eq!(measured, sha, "{c:?}");
            assert_eq!(d.sha256.is_some(), c.contains(ImageHash::Sha256), "{c:?}");
        }
        // A crate kernel whose header holds the image's SHA-256 is still a
        // mismatch: the measurement is not a candidate.
        let mut h = ImageHasher::new(Candidates::CRATE);
        h.update(&img);
        let (d, measured) = h.finalize_measured();
        assert_eq!(
            check(&measured, &d, 3),
            Err(Error::ImageHashMismatch { offset: 3 })
        );
        assert_eq!(
            check_image_measured(&sha, &img, Candidates::CRATE, 3),
            Err(Error::ImageHashMismatch { offset: 3 })
        );
        for a in ImageHash::ALL {
            let c = Candidates::for_layout(if a == ImageHash::Sha256 {
                KernelLayout::RuvBot
            } else {
                KernelLayout::Simple
            });
            assert_eq!(
                check_image_measured(&digest(a, &img), &img, c, 3),
                Ok((ImageHashCheck::Verified(a), sha)),
                "{a:?}"
            );
        }
        assert_eq!(
            check_image_measured(&[0; 32], &img, Candidates::CRATE, 3),
            Ok((ImageHashCheck::Unset, sha))
        );
        let mut bad = sha;
        bad[0] ^= 1;
        assert_eq!(
            check_image_measured(&bad, &img, Candidates::ALL, 3),
            Err(Error::ImageHashMismatch { offset: 3 })
        );
        assert_eq!(
            check_image_measured(&[1; 32], &[], Candidates::ALL, 3),
            Err(Error::ImageHashMismatch { offset: 3 })
        );
    }
}
