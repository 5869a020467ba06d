//! What counts as verified: [`Policy`], the one policy type, given once to
//! [`crate::Container::parse`] and carried to the kernels and
//! [`crate::image::authenticate`].
//!
//! Three layers, each optional but the first:
//! - **hashes** (always): every content hash, the manifest, the directory, the
//!   root page's CRC and commitment, the kernel's `image_hash` and gzip trailer;
//! - **signature** ([`Policy::requiring_signature`]): the file must be a signed
//!   store (rvf-runtime `create_signed`) whose RVM0 root page verifies under one
//!   of the caller's trusted Ed25519 keys, and every segment the boot reads must
//!   be the one the signed manifest's SHDG table commits to. The refusals come
//!   in rvf-runtime 0.5.0's Strict order, each its own [`AuthProblem`]:
//!   1. no root page, or one with `sig_algo` 0: [`AuthProblem::Unsigned`]
//!      (a page with a bad CRC32C, an unknown `sig_algo` or a wrong
//!      `sig_length` is [`Error::RootPageCrc`] / [`Error::RootPageField`]);
//!   2. no trusted key has the signer's fingerprint, the key is not a valid
//!      point, or the signature does not verify (`verify_strict`):
//!      [`AuthProblem::Signature`];
//!   3. the manifest is not the one the page commits to (no MANIFEST_SEG at
//!      its offset, another length, segment id or SHAKE-256-128):
//!      [`AuthProblem::Commitment`]; its header is not what the writer emits
//!      (`checksum_algo` 2, 64-byte aligned, zero flags/compression/reserved/
//!      timestamp, exact `alignment_pad`, `content_hash` = SHAKE-256-128 of the
//!      payload): [`AuthProblem::Header`];
//!   4. the manifest has no SHDG per-segment hash table: [`AuthProblem::NoSegmentHashes`];
//!   5. the manifest's epoch is below the caller's minimum: [`AuthProblem::EpochBelowMinimum`];
//!   6. bytes between the signed manifest and the page (an unsigned tail:
//!      segments appended, a newer manifest planted, or a page copied back over
//!      newer data): [`AuthProblem::UnsignedTail`], unless the caller chose to
//!      serve the signed prefix ([`Policy::serving_signed_prefix`], rvf-runtime's
//!      `serve_signed_prefix`): the tail is then ignored, never read;
//!   7. on use (kernels, listed segments): a header not what the writer emits
//!      ([`AuthProblem::Header`]), a header hash other than its SHDG entry
//!      ([`Error::DirectoryMismatch`], checked for every entry at parse), a
//!      payload whose SHAKE-256-128 is not its SHDG entry ([`AuthProblem::SegmentHash`]).
//! - **pins** ([`Policy::pinning_kernel_sha256`], [`Policy::pinning_cmdline_sha256`]):
//!   [`crate::image::authenticate`] compares, in constant time, the SHA-256 of the verified
//!   image (the bytes handed to the kernel) and of the final command line (as
//!   [`crate::cmdline::write`] produced it) with the caller's digests.
//!
//! The signature part is enforced by the [`crate::Container`] (parse, and each
//! segment it hands out); a kernel parsed with
//! [`crate::kernel::KernelSegment::parse_unverified`] is not authenticated
//! by anything, whatever policy it carries.
//!
//! Keys and digests are `&'static`: a loader embeds them (the QEMU stub's come
//! from its build), a std tool leaks the parsed ones once. No heap.

use crate::checksum::ct_eq;
use crate::error::{Error, Result};
use crate::root_page::{PageField, SignatureProblem};
use core::fmt;

/// What counts as verified. The default (hashes only) is what every file's
/// integrity needs; signatures and pins are added by the builder methods.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Policy {
    /// Accept segments (and kernel images) whose stored hash is all zeros,
    /// i.e. carry no hash at all. Off by default.
    pub allow_unset_hash: bool,
    /// Require a signed store (see the module documentation).
    pub signature: Option<SignaturePolicy>,
    /// Pinned digests, checked by [`crate::image::authenticate`].
    pub pins: Pins,
}

/// The signature part of a [`Policy`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignaturePolicy {
    /// Trusted Ed25519 public keys (32 bytes each); the page's signer
    /// fingerprint picks the key.
    pub trusted_keys: &'static [[u8; 32]],
    /// Refuse a signed manifest whose epoch is below this (rollback).
    pub min_epoch: Option<u32>,
    /// Serve the signed prefix when unsigned bytes follow the signed
    /// manifest, instead of refusing the file.
    pub serve_signed_prefix: bool,
}

/// Pinned SHA-256 digests ([`crate::image::authenticate`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Pins {
    /// SHA-256 of the uncompressed kernel image.
    pub kernel_sha256: Option<&'static [u8; 32]>,
    /// SHA-256 of the final kernel command line (without its NUL).
    pub cmdline_sha256: Option<&'static [u8; 32]>,
    /// SHA-256 of the runtime bundle's bytes (the WASM_SEG body: a RuvBot
    /// Node bundle, whose WASM header's `bytecode_hash` carries it, or a WASM
    /// module), checked by `VerifiedBundle::from_container` (feature `ruvbot`).
    pub bundle_sha256: Option<&'static [u8; 32]>,
}

impl Policy {
    /// The default policy with `allow_unset_hash` set as given.
    #[must_use]
    pub const fn allowing_unset_hash(allow: bool) -> Self {
        Self {
            allow_unset_hash: allow,
            signature: None,
            pins: Pins {
                kernel_sha256: None,
                cmdline_sha256: None,
                bundle_sha256: None,
            },
        }
    }

    /// This policy, also requiring a signature by one of `trusted_keys` (no
    /// minimum epoch, unsigned tails refused).
    #[must_use]
    pub const fn requiring_signature(mut self, trusted_keys: &'static [[u8; 32]]) -> Self {
        self.signature = Some(SignaturePolicy {
            trusted_keys,
            min_epoch: None,
            serve_signed_prefix: false,
        });
        self
    }

    /// Sets the minimum manifest epoch of the signature policy (no effect
    /// without one).
    #[must_use]
    pub const fn with_min_epoch(mut self, min_epoch: u32) -> Self {
        if let Some(s) = self.signature.as_mut() {
            s.min_epoch = Some(min_epoch);
        }
        self
    }

    /// Serve the signed prefix of a file with an unsigned tail (no effect
    /// without a signature policy).
    #[must_use]
    pub const fn serving_signed_prefix(mut self, serve: bool) -> Self {
        if let Some(s) = self.signature.as_mut() {
            s.serve_signed_prefix = serve;
        }
        self
    }

    /// Pins the SHA-256 of the uncompressed kernel image.
    #[must_use]
    pub const fn pinning_kernel_sha256(mut self, digest: &'static [u8; 32]) -> Self {
        self.pins.kernel_sha256 = Some(digest);
        self
    }

    /// Pins the SHA-256 of the final kernel command line.
    #[must_use]
    pub const fn pinning_cmdline_sha256(mut self, digest: &'static [u8; 32]) -> Self {
        self.pins.cmdline_sha256 = Some(digest);
        self
    }

    /// Pins the SHA-256 of the runtime bundle's bytes (any dialect; see
    /// [`Pins::bundle_sha256`]).
    #[must_use]
    pub const fn pinning_bundle_sha256(mut self, digest: &'static [u8; 32]) -> Self {
        self.pins.bundle_sha256 = Some(digest);
        self
    }

    /// Checks the bundle pin (if any) against `digest`, the SHA-256 of the
    /// bundle's bytes in the WASM_SEG whose header is at `offset`, in
    /// constant time. Returns the matched digest.
    ///
    /// # Errors
    /// [`AuthProblem::BundlePin`].
    pub fn check_bundle(&self, offset: u64, digest: &[u8; 32]) -> Result<Option<[u8; 32]>> {
        let Some(pin) = self.pins.bundle_sha256 else {
            return Ok(None);
        };
        if !ct_eq(digest, pin) {
            return Err(Error::Auth(AuthProblem::BundlePin {
                offset,
                computed_first8: first8(digest),
                pinned_first8: first8(pin),
            }));
        }
        Ok(Some(*digest))
    }

    /// Checks the command-line pin (if any) on the final command line, as
    /// [`crate::cmdline::write`] produced it (without the NUL). Returns the
    /// matched digest. [`crate::image::authenticate`] calls it; a loader may call it early.
    ///
    /// # Errors
    /// [`AuthProblem::CmdlinePin`].
    pub fn check_cmdline(&self, line: &[u8]) -> Result<Option<[u8; 32]>> {
        let Some(pin) = self.pins.cmdline_sha256 else {
            return Ok(None);
        };
        let got = sha256(line);
        if !ct_eq(&got, pin) {
            return Err(Error::Auth(AuthProblem::CmdlinePin {
                length: crate::bytes::u64_from(line.len()),
                computed_first8: first8(&got),
                pinned_first8: first8(pin),
            }));
        }
        Ok(Some(got))
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

pub(crate) fn first8(d: &[u8]) -> u64 {
    crate::bytes::le_u64(d, 0).map_or(0, u64::swap_bytes)
}

/// Who signed a file that passed a signature policy
/// ([`crate::Container::signed`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Signed {
    /// The signer's fingerprint (SHAKE-256-128 of its public key).
    pub fingerprint: [u8; 16],
    /// Index of the trusted key that verified the signature.
    pub key_index: usize,
    /// The signed manifest's epoch.
    pub epoch: u32,
    /// Header offset of the signed manifest.
    pub manifest_offset: u64,
    /// Offset of the RVM0 root page.
    pub root_page: u64,
    /// `(offset, length)` of the unsigned tail served past, if the policy
    /// serves the signed prefix and there was one.
    pub unsigned_tail: Option<(u64, u64)>,
}

/// What a boot authenticated ([`crate::image::authenticate`]), for a log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Authenticated {
    /// The signature, when the policy required one.
    pub signed: Option<Signed>,
    /// The kernel image's SHA-256, when pinned (and matched).
    pub kernel_sha256: Option<[u8; 32]>,
    /// The final command line's SHA-256, when pinned (and matched).
    pub cmdline_sha256: Option<[u8; 32]>,
}

/// A segment-header field that is not what the signing writer emits
/// ([`AuthProblem::Header`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WriterField {
    /// `checksum_algo` (must be 2, SHAKE-256-128).
    ChecksumAlgo,
    /// The header offset (must be 64-byte aligned).
    Alignment,
    /// `flags`.
    Flags,
    /// `compression`.
    Compression,
    /// `reserved_0`.
    Reserved0,
    /// `reserved_1`.
    Reserved1,
    /// `uncompressed_len`.
    UncompressedLen,
    /// `timestamp_ns` (the signing writer writes 0).
    Timestamp,
    /// `alignment_pad` (must pad the segment to 64 bytes exactly).
    AlignmentPad,
    /// `content_hash` (must be the SHAKE-256-128 of the payload; the value
    /// reported is its first 8 bytes).
    ContentHash,
}

impl WriterField {
    /// The field's name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::ChecksumAlgo => "checksum_algo",
            Self::Alignment => "offset (64-byte alignment)",
            Self::Flags => "flags",
            Self::Compression => "compression",
            Self::Reserved0 => "reserved_0",
            Self::Reserved1 => "reserved_1",
            Self::UncompressedLen => "uncompressed_len",
            Self::Timestamp => "timestamp_ns",
            Self::AlignmentPad => "alignment_pad",
            Self::ContentHash => "content_hash (first 8 bytes)",
        }
    }
}

display_by_name!(WriterField);

/// Why a file or a boot does not satisfy the policy ([`Error::Auth`]). Digest
/// values are their first 8 bytes, big-endian (as hex prints them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthProblem {
    /// A signature is required and the file has no RVM0 root page, or one
    /// with `sig_algo` 0.
    Unsigned {
        /// Offset of the unsigned page, `None` when there is none.
        root_page: Option<u64>,
    },
    /// The root page's signature is not by a trusted key.
    Signature {
        /// Offset of the page.
        root_page: u64,
        /// What failed.
        problem: SignatureProblem,
    },
    /// The manifest used is not the one the signed page commits to.
    Commitment {
        /// Offset of the page.
        root_page: u64,
        /// The page field that names something else.
        field: PageField,
        /// The page's value (the hash: first 8 bytes, little-endian).
        value: u64,
    },
    /// A signed store's segment header is not what its writer emits.
    Header {
        /// Header offset of the segment.
        offset: u64,
        /// The field.
        field: WriterField,
        /// Its value.
        value: u64,
    },
    /// The signed manifest has no SHDG per-segment hash table.
    NoSegmentHashes {
        /// Header offset of the manifest.
        offset: u64,
    },
    /// The signed manifest's epoch is below the caller's minimum.
    EpochBelowMinimum {
        /// The manifest's epoch.
        epoch: u32,
        /// The minimum.
        minimum: u32,
    },
    /// Bytes follow the signed manifest before the root page.
    UnsignedTail {
        /// Where they start (the end of the signed manifest).
        offset: u64,
        /// How many.
        length: u64,
    },
    /// A segment the boot reads hashes (SHAKE-256-128) to something other
    /// than its SHDG entry.
    SegmentHash {
        /// Header offset of the segment.
        offset: u64,
        /// Its segment id.
        segment_id: u64,
    },
    /// The kernel image's SHA-256 is not the pinned digest.
    KernelPin {
        /// Header offset of the KERNEL_SEG.
        offset: u64,
        /// The image's digest, first 8 bytes.
        computed_first8: u64,
        /// The pin, first 8 bytes.
        pinned_first8: u64,
    },
    /// The final command line's SHA-256 is not the pinned digest.
    CmdlinePin {
        /// The line's length.
        length: u64,
        /// Its digest, first 8 bytes.
        computed_first8: u64,
        /// The pin, first 8 bytes.
        pinned_first8: u64,
    },
    /// The runtime bundle's SHA-256 is not the pinned digest.
    BundlePin {
        /// Header offset of the WASM_SEG.
        offset: u64,
        /// The bundle's digest, first 8 bytes.
        computed_first8: u64,
        /// The pin, first 8 bytes.
        pinned_first8: u64,
    },
}

impl fmt::Display for AuthProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Unsigned { root_page: None } => f.write_str(
                "the file is unsigned (no RVM0 root page) and the policy requires a signature",
            ),
            Self::Unsigned {
                root_page: Some(at),
            } => write!(
                f,
                "the file is unsigned (the RVM0 root page at byte {at} has sig_algo 0) and the policy requires a signature"
            ),
            Self::Signature { root_page, problem } => write!(
                f,
                "RVM0 root page at byte {root_page}: signature rejected: {problem}"
            ),
            Self::Commitment {
                root_page,
                field,
                value,
            } => write!(
                f,
                "RVM0 root page at byte {root_page}: the signed {field} {value:#x} does not name the manifest in the file"
            ),
            Self::Header {
                offset,
                field,
                value,
            } => write!(
                f,
                "signed store: segment at byte {offset}: {field} is {value:#x}, not what the signing writer emits"
            ),
            Self::NoSegmentHashes { offset } => write!(
                f,
                "signed store: the manifest at byte {offset} has no SHDG per-segment hash table"
            ),
            Self::EpochBelowMinimum { epoch, minimum } => write!(
                f,
                "signed store: manifest epoch {epoch} is below the minimum {minimum} (rollback)"
            ),
            Self::UnsignedTail { offset, length } => write!(
                f,
                "signed store: {length} unsigned bytes at byte {offset} follow the signed manifest (not served without the signed-prefix option)"
            ),
            Self::SegmentHash { offset, segment_id } => write!(
                f,
                "signed store: segment {segment_id} at byte {offset}: payload SHAKE-256-128 is not its SHDG entry"
            ),
            Self::KernelPin {
                offset,
                computed_first8,
                pinned_first8,
            } => write!(
                f,
                "kernel image (KERNEL_SEG at byte {offset}): SHA-256 {computed_first8:016x}... is not the pinned {pinned_first8:016x}..."
            ),
            Self::CmdlinePin {
                length,
                computed_first8,
                pinned_first8,
            } => write!(
                f,
                "kernel command line ({length} bytes): SHA-256 {computed_first8:016x}... is not the pinned {pinned_first8:016x}..."
            ),
            Self::BundlePin {
                offset,
                computed_first8,
                pinned_first8,
            } => write!(
                f,
                "runtime bundle (WASM_SEG at byte {offset}): SHA-256 {computed_first8:016x}... is not the pinned {pinned_first8:016x}..."
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    static KEYS: [[u8; 32]; 1] = [[1; 32]];
    static PIN: [u8; 32] = [0xAB; 32];

    #[test]
    fn builders_compose_and_need_a_signature_for_its_options() {
        let p = Policy::default()
            .with_min_epoch(3)
            .serving_signed_prefix(true);
        assert_eq!(p, Policy::default(), "no signature policy, nothing to set");
        let p = Policy::allowing_unset_hash(true)
            .requiring_signature(&KEYS)
            .with_min_epoch(3)
            .serving_signed_prefix(true)
            .pinning_kernel_sha256(&PIN);
        let s = p.signature.unwrap();
        assert_eq!(s.trusted_keys, &KEYS[..]);
        assert_eq!((s.min_epoch, s.serve_signed_prefix), (Some(3), true));
        assert_eq!(p.pins.kernel_sha256, Some(&PIN));
        assert_eq!(p.pins.cmdline_sha256, None);
        assert!(p.allow_unset_hash);
    }

    #[test]
    fn cmdline_pin_is_on_the_exact_line() {
        let line = b"console=ttyS0 quiet";
        let d = sha256(line);
        let pin: &'static [u8; 32] = std::boxed::Box::leak(std::boxed::Box::new(d));
        let p = Policy::default().pinning_cmdline_sha256(pin);
        assert_eq!(p.check_cmdline(line), Ok(Some(d)));
        assert_eq!(
            p.check_cmdline(b"console=ttyS0 quiet "),
            Err(Error::Auth(AuthProblem::CmdlinePin {
                length: 20,
                computed_first8: first8(&sha256(b"console=ttyS0 quiet ")),
                pinned_first8: first8(&d),
            }))
        );
        assert_eq!(Policy::default().check_cmdline(b"x"), Ok(None));
    }

    #[test]
    fn bundle_pin_is_constant_time_on_the_digest() {
        let p = Policy::default().pinning_bundle_sha256(&PIN);
        assert_eq!(p.pins.bundle_sha256, Some(&PIN));
        assert_eq!(p.check_bundle(64, &PIN), Ok(Some(PIN)));
        assert_eq!(
            p.check_bundle(64, &[0xAC; 32]).map_err(|e| e.to_string()),
            Err("not authenticated: runtime bundle (WASM_SEG at byte 64): SHA-256 acacacacacacacac... is not the pinned abababababababab...".into())
        );
        assert_eq!(Policy::default().check_bundle(64, &[0; 32]), Ok(None));
    }

    #[test]
    fn messages() {
        let e = Error::Auth(AuthProblem::EpochBelowMinimum {
            epoch: 1,
            minimum: 2,
        });
        assert_eq!(e.class(), crate::error::ErrorClass::Authentication);
        assert_eq!(
            e.to_string(),
            "not authenticated: signed store: manifest epoch 1 is below the minimum 2 (rollback)"
        );
        assert_eq!(
            AuthProblem::KernelPin {
                offset: 64,
                computed_first8: 0x0123_4567_89ab_cdef,
                pinned_first8: 0,
            }
            .to_string(),
            "kernel image (KERNEL_SEG at byte 64): SHA-256 0123456789abcdef... is not the pinned 0000000000000000..."
        );
        assert_eq!(
            AuthProblem::Header {
                offset: 192,
                field: WriterField::Timestamp,
                value: 1
            }
            .to_string(),
            "signed store: segment at byte 192: timestamp_ns is 0x1, not what the signing writer emits"
        );
    }
}
