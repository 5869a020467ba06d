//! The 4096-byte RVM0 root page at the end of signed stores (§3.4).
//!
//! The page commits to one MANIFEST_SEG (offset, length, segment id and the
//! SHAKE-256-128 of its payload) and is signed with Ed25519 by rvf-runtime
//! `create_signed`. This module checks the page's CRC32C and its commitment to
//! the manifest; [`RootPage::verify_signature`] checks the Ed25519 signature
//! over [`RootPage::signed_message`] against the caller's trusted keys.

use crate::bytes::{le_u16, le_u32, le_u64, range, u64_from};
use crate::checksum::{ct_eq, shake256};
use crate::error::{Error, Result, Structure};
use crate::segment::{ROOT_PAGE_MAGIC, ROOT_PAGE_SIZE, SEGMENT_HEADER_SIZE, Segment};
use crc::{CRC_32_ISCSI, Crc};

testing_pub! {
    /// CRC32C (Castagnoli), as the page's last four bytes store it.
    pub const CRC32C: Crc<u32> = Crc::<u32>::new(&CRC_32_ISCSI);
}

/// Offset of the CRC32C field; the CRC covers the bytes before it.
const CRC_AT: u64 = 0xFFC;
/// The signature field: 64 bytes at 0x09C, zeroed in the signed message.
const SIG_AT: u64 = 0x09C;
const SIG_LEN: u64 = 64;

/// An RVM0 root-page field that is unknown or disagrees with the winning
/// manifest ([`Error::RootPageField`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PageField {
    /// 0x098 `sig_algo` (not 0 or 1).
    SigAlgo,
    /// 0x09A `sig_length` (not 64 for Ed25519, 0 unsigned).
    SigLength,
    /// 0x008 `l1_manifest_offset`.
    ManifestOffset,
    /// 0x010 `l1_manifest_length`.
    ManifestLength,
    /// 0xFF0 `l1_segment_id`.
    SegmentId,
    /// 0xFD0 `l1_content_hash` (the value reported is its first 8 bytes).
    ContentHashFirst8,
}

impl PageField {
    /// The field's name as in §3.4.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::SigAlgo => "sig_algo",
            Self::SigLength => "sig_length",
            Self::ManifestOffset => "l1_manifest_offset",
            Self::ManifestLength => "l1_manifest_length",
            Self::SegmentId => "l1_segment_id",
            Self::ContentHashFirst8 => "l1_content_hash (first 8 bytes)",
        }
    }
}

display_by_name!(PageField);

/// Why a root page's signature was rejected ([`Error::RootPageSignature`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureProblem {
    /// The page is not signed (`sig_algo` 0).
    Unsigned,
    /// No trusted key has the page's signer fingerprint.
    UnknownSigner,
    /// The trusted key with that fingerprint is not a valid Ed25519 point.
    MalformedKey,
    /// The signature does not verify (`verify_strict`).
    DoesNotVerify,
}

impl SignatureProblem {
    /// A short phrase, as in messages.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Unsigned => "unsigned",
            Self::UnknownSigner => "no trusted key has the signer's fingerprint",
            Self::MalformedKey => "malformed public key",
            Self::DoesNotVerify => "signature does not verify",
        }
    }
}

display_by_name!(SignatureProblem);

/// Signature algorithm codes of the Level-0 page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigAlgo {
    /// 0: the page is not signed.
    None,
    /// 1: Ed25519 (64-byte signature).
    Ed25519,
}

/// A checked RVM0 page, borrowed.
#[derive(Clone, Copy, Debug)]
pub struct RootPage<'a> {
    page: &'a [u8],
    offset: u64,
    sig_algo: SigAlgo,
}

impl<'a> RootPage<'a> {
    /// Parses the page at file offset `offset`, checking magic, version, the
    /// signature algorithm code and the CRC32C.
    ///
    /// # Errors
    /// [`Error::Truncated`], [`Error::BadMagic`], [`Error::UnsupportedVersion`],
    /// [`Error::RootPageField`] (unknown `sig_algo` or wrong `sig_length`),
    /// [`Error::RootPageCrc`].
    pub fn parse(page: &'a [u8], offset: u64) -> Result<Self> {
        let page = crate::bytes::slice(page, offset, 0, ROOT_PAGE_SIZE, Structure::RootPage)?;
        let magic = le_u32(page, 0).unwrap_or(0);
        if magic != ROOT_PAGE_MAGIC {
            return Err(Error::BadMagic {
                structure: Structure::RootPage,
                offset,
                found: magic,
            });
        }
        let version = le_u16(page, 4).unwrap_or(0);
        if version != 1 {
            return Err(Error::UnsupportedVersion {
                structure: Structure::RootPage,
                offset,
                version,
            });
        }
        let stored = le_u32(page, CRC_AT).unwrap_or(0);
        let computed = CRC32C.checksum(range(page, 0, CRC_AT).unwrap_or(&[]));
        if stored != computed {
            return Err(Error::RootPageCrc {
                offset,
                stored,
                computed,
            });
        }
        let field = |field: PageField, value: u64| Error::RootPageField {
            offset,
            field,
            value,
        };
        let sig_algo = match le_u16(page, 0x98).unwrap_or(0) {
            0 => SigAlgo::None,
            1 => SigAlgo::Ed25519,
            other => return Err(field(PageField::SigAlgo, u64::from(other))),
        };
        let sig_length = le_u16(page, 0x9A).unwrap_or(0);
        let want = if sig_algo == SigAlgo::Ed25519 { 64 } else { 0 };
        if sig_length != want {
            return Err(field(PageField::SigLength, u64::from(sig_length)));
        }
        Ok(Self {
            page,
            offset,
            sig_algo,
        })
    }

    /// File offset of the page.
    #[must_use]
    pub const fn offset(&self) -> u64 {
        self.offset
    }

    /// Header offset of the MANIFEST_SEG the page commits to.
    #[must_use]
    pub fn manifest_offset(&self) -> u64 {
        le_u64(self.page, 0x08).unwrap_or(0)
    }

    /// `64 + payload_length` of that manifest.
    #[must_use]
    pub fn manifest_length(&self) -> u64 {
        le_u64(self.page, 0x10).unwrap_or(0)
    }

    /// Segment id of that manifest.
    #[must_use]
    pub fn manifest_segment_id(&self) -> u64 {
        le_u64(self.page, 0xFF0).unwrap_or(0)
    }

    /// SHAKE-256-128 of that manifest's payload.
    #[must_use]
    pub fn manifest_content_hash(&self) -> &'a [u8] {
        range(self.page, 0xFD0, 16).unwrap_or(&[])
    }

    /// SHAKE-256-128 of the signer's 32-byte public key.
    #[must_use]
    pub fn signer_fingerprint(&self) -> &'a [u8] {
        range(self.page, 0xFE0, 16).unwrap_or(&[])
    }

    /// The signature algorithm.
    #[must_use]
    pub const fn sig_algo(&self) -> SigAlgo {
        self.sig_algo
    }

    /// The 64-byte signature (all zeros when unsigned).
    #[must_use]
    pub fn signature(&self) -> &'a [u8] {
        range(self.page, SIG_AT, SIG_LEN).unwrap_or(&[])
    }

    /// Writes the signed message (the page with the signature and CRC fields
    /// zeroed) into `out`.
    pub fn signed_message(&self, out: &mut [u8; 4096]) {
        for (o, (i, b)) in out.iter_mut().zip(self.page.iter().enumerate()) {
            let at = u64_from(i);
            let zeroed = (SIG_AT..SIG_AT.saturating_add(SIG_LEN)).contains(&at) || at >= CRC_AT;
            *o = if zeroed { 0 } else { *b };
        }
    }

    /// Verifies the page's Ed25519 signature (`verify_strict`, as rvf-runtime)
    /// against `trusted_keys` (32-byte public keys) and returns the index of
    /// the key that signed it. The key is chosen by the page's signer
    /// fingerprint (SHAKE-256-128 of the key).
    ///
    /// # Errors
    /// [`Error::RootPageSignature`] naming what failed.
    pub fn verify_signature(&self, trusted_keys: &[[u8; 32]]) -> Result<usize> {
        let fail = |problem| Error::RootPageSignature {
            offset: self.offset,
            problem,
        };
        if self.sig_algo != SigAlgo::Ed25519 {
            return Err(fail(SignatureProblem::Unsigned));
        }
        let (index, key) = trusted_keys
            .iter()
            .enumerate()
            .find(|(_, k)| ct_eq(&shake256(k.as_slice()), self.signer_fingerprint()))
            .ok_or(fail(SignatureProblem::UnknownSigner))?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(key)
            .map_err(|_| fail(SignatureProblem::MalformedKey))?;
        let sig: [u8; 64] = self
            .signature()
            .try_into()
            .map_err(|_| fail(SignatureProblem::DoesNotVerify))?;
        let sig = ed25519_dalek::Signature::from_bytes(&sig);
        let mut message = [0u8; 4096];
        self.signed_message(&mut message);
        key.verify_strict(&message, &sig)
            .map_err(|_| fail(SignatureProblem::DoesNotVerify))?;
        Ok(index)
    }

    /// Checks that the page commits to `manifest` (offset, length, segment id
    /// and SHAKE-256-128 of the payload).
    ///
    /// # Errors
    /// [`Error::RootPageField`] naming the first field that disagrees.
    pub fn check_commits_to(&self, manifest: &Segment<'_>) -> Result<()> {
        self.check_commits_to_counting(manifest, None, &mut 0)
    }

    /// [`Self::check_commits_to`], where `verified` is the manifest's content
    /// hash if it already verified as SHAKE-256-128 (checksum_algo 2, what
    /// signed stores write): the page's commitment is then compared with it
    /// instead of hashing the payload again. Adds the bytes hashed to `hashed`.
    pub(crate) fn check_commits_to_counting(
        &self,
        manifest: &Segment<'_>,
        verified: Option<&[u8; 16]>,
        hashed: &mut u64,
    ) -> Result<()> {
        let field = |field: PageField, value: u64| Error::RootPageField {
            offset: self.offset,
            field,
            value,
        };
        if self.manifest_offset() != manifest.offset {
            return Err(field(PageField::ManifestOffset, self.manifest_offset()));
        }
        let len = SEGMENT_HEADER_SIZE.saturating_add(manifest.payload_length());
        if self.manifest_length() != len {
            return Err(field(PageField::ManifestLength, self.manifest_length()));
        }
        if self.manifest_segment_id() != manifest.segment_id() {
            return Err(field(PageField::SegmentId, self.manifest_segment_id()));
        }
        let payload_hash = verified.copied().unwrap_or_else(|| {
            *hashed = hashed.saturating_add(u64_from(manifest.payload.len()));
            shake256(manifest.payload)
        });
        if !ct_eq(self.manifest_content_hash(), &payload_hash) {
            let first8 = le_u64(self.manifest_content_hash(), 0).unwrap_or(0);
            return Err(field(PageField::ContentHashFirst8, first8));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> [u8; 4096] {
        let mut p = [0u8; 4096];
        p[..4].copy_from_slice(&ROOT_PAGE_MAGIC.to_le_bytes());
        p[4] = 1;
        p[0x98] = 1;
        p[0x9A] = 64;
        p[0x9C..0xDC].fill(0x55);
        let crc = CRC32C.checksum(&p[..0xFFC]);
        p[0xFFC..].copy_from_slice(&crc.to_le_bytes());
        p
    }

    #[test]
    fn crc32c_check_value() {
        assert_eq!(CRC32C.checksum(b"123456789"), 0xE306_9283);
    }

    #[test]
    fn parses_and_checks_crc() {
        let p = page();
        let r = RootPage::parse(&p, 1000).unwrap();
        assert_eq!(r.sig_algo(), SigAlgo::Ed25519);
        assert_eq!(r.signature(), &[0x55; 64][..]);
        let mut m = [1u8; 4096];
        r.signed_message(&mut m);
        assert!(m[0x9C..0xDC].iter().all(|&b| b == 0));
        assert!(m[0xFFC..].iter().all(|&b| b == 0));
        assert_eq!(&m[..0x9C], &p[..0x9C]);
        let mut q = p;
        q[100] ^= 1;
        assert!(matches!(
            RootPage::parse(&q, 7).unwrap_err(),
            Error::RootPageCrc { offset: 7, .. }
        ));
        let mut v = p;
        v[4] = 2;
        assert_eq!(
            RootPage::parse(&v, 0).unwrap_err(),
            Error::UnsupportedVersion {
                structure: Structure::RootPage,
                offset: 0,
                version: 2
            }
        );
    }
}
