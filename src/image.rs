//! The verified kernel image (§4.2-§4.4): [`extract`] is the one public way
//! to obtain kernel image bytes, and [`VerifiedImage`] what it returns.
//!
//! [`extract`] checks the KERNEL_SEG's content hash (unless the container
//! already did; under the file's algorithm-0 convention for a kernel from
//! [`crate::Container::selected_kernel_deferred`]), inflates a gzip'd image into the caller's buffer while
//! hashing the output in the same pass, checks the gzip CRC-32 and ISIZE,
//! the exact `image_size`, and the header's `image_hash`; the image's
//! SHA-256 (its measurement, [`VerifiedImage::sha256`]) is computed in that
//! same pass whatever the `image_hash` algorithm. Only then does it
//! return a [`VerifiedImage`], which has no public constructor: holding one is
//! the proof that every check passed. A raw (uncompressed) image is not
//! copied: the verified image borrows the file.
//!
//! Every check runs under the [`crate::Policy`] the kernel carries (its
//! container's, see [`KernelSegment::policy`]): the policy is given once.

use crate::Container;
use crate::checksum::{Content, ContentHash, HashCheck, Interleaved, Rule, ct_eq};
use crate::error::{Error, Result};
use crate::gzip::{self, Inflater};
use crate::image_hash::{self, Candidates, ImageHashCheck, ImageHasher};
use crate::joined::{self, Filler, Join};
use crate::kernel::{KernelSegment, StoredFormat};
use crate::policy::{AuthProblem, Authenticated, Policy, first8};

/// A kernel image that passed every check. Constructed only by [`extract`].
#[derive(Clone, Copy, Debug)]
pub struct VerifiedImage<'a> {
    bytes: &'a [u8],
    kernel_offset: u64,
    content_hash: HashCheck,
    image_hash: ImageHashCheck,
    gzip_crc32: Option<u32>,
    sha256: [u8; 32],
}

impl<'a> VerifiedImage<'a> {
    /// The verified, uncompressed image (exactly `image_size` bytes).
    #[must_use]
    pub const fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Header offset of the KERNEL_SEG it came from.
    #[must_use]
    pub const fn kernel_offset(&self) -> u64 {
        self.kernel_offset
    }

    /// How the segment's content hash checked.
    #[must_use]
    pub const fn content_hash(&self) -> HashCheck {
        self.content_hash
    }

    /// How the kernel header's `image_hash` checked.
    #[must_use]
    pub const fn image_hash(&self) -> ImageHashCheck {
        self.image_hash
    }

    /// The gzip trailer's CRC-32 (checked), for a gzip'd image.
    #[must_use]
    pub const fn gzip_crc32(&self) -> Option<u32> {
        self.gzip_crc32
    }

    /// SHA-256 of [`VerifiedImage::bytes`], computed in verification's own
    /// pass over the image whatever the `image_hash` algorithm (the
    /// measured-boot digest, `crate::measure`).
    #[must_use]
    pub const fn sha256(&self) -> [u8; 32] {
        self.sha256
    }
}

/// The output buffer `kernel` needs: its `image_size` for a gzip'd image,
/// 0 for a raw one (which is borrowed, not copied). At most
/// [`crate::kernel::MAX_IMAGE_SIZE`], and at most what the stored image can
/// inflate to: both were checked when the kernel header was parsed.
#[must_use]
pub fn buffer_size(kernel: &KernelSegment<'_>) -> u64 {
    match kernel.format() {
        StoredFormat::Gzip => kernel.image_size(),
        StoredFormat::Raw => 0,
    }
}

/// Verifies `kernel` and produces its image.
///
/// `out` receives a gzip'd image (it must hold `image_size` bytes; a raw image
/// is borrowed from the file and `out` is untouched). `state` is the inflate
/// state ([`gzip::InflateState::SIZE`] bytes), supplied by the caller so it
/// need not sit on the stack; its decompressor is reset, its chunk size used.
/// [`extract_with`] takes any [`Inflater`] instead (a std build's faster
/// engine, plugged into this same verification).
/// The policy is the kernel's own ([`KernelSegment::policy`]).
///
/// # Errors
/// The content-hash errors ([`Error::ContentHashMismatch`],
/// [`Error::ContentHashOtherWriter`], [`Error::ContentHashUnset`], ...) when
/// the container has not checked it
/// ([`KernelSegment::content_hash`] is `None`);
/// the gzip errors of [`gzip::inflate`] ([`Error::BufferTooSmall`] first);
/// [`Error::ImageHashMismatch`]; [`Error::ImageHashUnset`] when the policy
/// refuses unset hashes.
pub fn extract<'o, 'f: 'o>(
    kernel: &KernelSegment<'f>,
    out: &'o mut [u8],
    state: &mut gzip::InflateState,
) -> Result<VerifiedImage<'o>> {
    extract_with(kernel, out, state)
}

/// [`extract`] with any inflate engine ([`Inflater`]): the same checks in
/// the same order, the same errors (a plugged engine's failures are named by
/// the library's own engine, `gzip::inflate_with`).
///
/// # Errors
/// As [`extract`].
pub fn extract_with<'o, 'f: 'o, E>(
    kernel: &KernelSegment<'f>,
    out: &'o mut [u8],
    state: &mut E,
) -> Result<VerifiedImage<'o>>
where
    E: Inflater + ?Sized,
{
    verify(kernel, out, false, &mut 0, |stored, out, size, sink, _| {
        gzip::inflate_with(stored, out, size, state, sink)
    })
}

/// [`extract_with`] with the hashes on a second CPU: `join` (a std build's
/// scoped thread, the stub's application processor) hashes the output the
/// engine can no longer reach while it inflates the next chunk
/// ([`joined::inflate_joined`]: the previous chunk for an engine with its own
/// window, all but the last 32 KiB for [`gzip::InflateState`]). The same
/// checks, results and errors; the image is returned only after every hash
/// and the trailer checked.
///
/// When the kernel's content hash is still to be checked under its file's
/// convention ([`crate::Container::selected_kernel_deferred`]), that hash
/// is the join's [`joined::Filler`] (`joined::inflate_joined_beside`): hashed
/// in pieces by whichever CPU would otherwise wait, kept level with the image
/// hashes (when it lags, the inflating CPU takes the next step's sink), and
/// what is left once the inflate returns is hashed then. The checks that need no
/// hashing (an unset hash the policy refuses, an unknown algorithm) still
/// come before any work, and the errors keep [`extract`]'s order: a
/// content-hash error before any gzip error, a gzip error before an
/// image-hash error. Work: the payload is hashed exactly once when the
/// stored hash matches, and on the way to an error as often as [`extract`]
/// would hash it (once, plus once per other algorithm-0 candidate tried to
/// name the error: at most three times). `extract_joined_counting` (the
/// `testing` feature) counts it.
///
/// # Errors
/// As [`extract`].
pub fn extract_joined<'o, 'f: 'o, E, J>(
    kernel: &KernelSegment<'f>,
    out: &'o mut [u8],
    state: &mut E,
    join: &J,
) -> Result<VerifiedImage<'o>>
where
    E: Inflater + ?Sized,
    J: Join + ?Sized,
{
    verify(
        kernel,
        out,
        true,
        &mut 0,
        |stored, out, size, sink, fill| {
            joined::inflate_joined_beside(stored, out, size, state, sink, fill, join)
        },
    )
}

/// [`extract_joined`], adding to `hashed` the payload bytes it hashed for
/// the kernel's content hash (0 when the container had checked it), whether
/// it succeeds or not (for tests of the work bound; the `testing` feature).
///
/// # Errors
/// As [`extract`].
#[cfg(feature = "testing")]
pub fn extract_joined_counting<'o, 'f: 'o, E, J>(
    kernel: &KernelSegment<'f>,
    out: &'o mut [u8],
    state: &mut E,
    join: &J,
    hashed: &mut u64,
) -> Result<VerifiedImage<'o>>
where
    E: Inflater + ?Sized,
    J: Join + ?Sized,
{
    verify(
        kernel,
        out,
        true,
        hashed,
        |stored, out, size, sink, fill| {
            joined::inflate_joined_beside(stored, out, size, state, sink, fill, join)
        },
    )
}

/// Every check of [`extract`], with the gzip inflate (which feeds the sink
/// every chunk of the image, and may advance the filler beside it) given as
/// `inflate`. With `defer`, a content hash still to check under the file's
/// convention is that filler, hashed beside the inflate; otherwise first.
fn verify<'o, 'f: 'o, I>(
    kernel: &KernelSegment<'f>,
    out: &'o mut [u8],
    defer: bool,
    hashed: &mut u64,
    inflate: I,
) -> Result<VerifiedImage<'o>>
where
    I: for<'s> FnOnce(
        &'s [u8],
        &mut [u8],
        u64,
        &mut (dyn FnMut(&[u8]) + Send),
        &mut dyn Filler,
    ) -> Result<gzip::GzipInfo<'s>>,
{
    let policy = kernel.policy();
    let offset = kernel.segment_offset();
    let seg = kernel.segment();
    let allow_unset = policy.allow_unset_hash;
    let content = match (kernel.content_hash(), kernel.algo0()) {
        (Some(c), _) => Content::Checked(c),
        // A kernel parsed on its own: dialect-free, checked first (not counted).
        (None, None) => Content::Checked(Rule::ANY.require(seg, allow_unset, &mut 0)?),
        (None, Some(algo0)) => {
            Rule { algo0: Some(algo0) }.begin(seg, allow_unset, defer, hashed)?
        }
    };
    if matches!(content, Content::Checked(HashCheck::Unset)) && !allow_unset {
        return Err(Error::ContentHashUnset {
            index: seg.index,
            offset,
        });
    }
    let expected = kernel.image_hash();
    let unset = crate::bytes::all_zero(expected);
    if unset && !policy.allow_unset_hash {
        // Refused before any work: an unset image hash verifies nothing
        // (after the content hash, whose error comes first).
        content.settle(seg, hashed)?;
        return Err(Error::ImageHashUnset { offset });
    }
    let candidates = if unset {
        Candidates::NONE
    } else {
        Candidates::for_layout(kernel.layout())
    };
    let stored = kernel.stored_unverified();
    let (content_hash, bytes, image_hash, gzip_crc32, sha256): (_, &'o [u8], _, _, _) =
        match kernel.format() {
            StoredFormat::Raw => {
                let content_hash = content.settle(seg, hashed)?;
                let (check, sha256) =
                    image_hash::check_image_measured(expected, stored, candidates, offset)?;
                (content_hash, stored, check, None, sha256)
            }
            StoredFormat::Gzip => {
                // One pass: the output is hashed chunk by chunk as it is
                // produced, while it is still in cache (see the extract
                // benchmark), and a deferred content hash moves along with it.
                let size = kernel.image_size();
                let mut hasher = ImageHasher::new(candidates);
                let (info, content_hash) = match content {
                    Content::Checked(c) => {
                        let sink = &mut |c: &[u8]| hasher.update(c);
                        let info = inflate(stored, out, size, sink, &mut ())?;
                        (info, c)
                    }
                    Content::Deferred { rule, h } => {
                        hash_beside(kernel, rule, h, &mut hasher, hashed, |sink, fill| {
                            inflate(stored, out, size, sink, fill)
                        })?
                    }
                };
                let (digests, sha256) = hasher.finalize_measured();
                let check = image_hash::check(expected, &digests, offset)?;
                let len = crate::bytes::usize_from(info.image_size).unwrap_or(usize::MAX);
                let image = out.get(..len).ok_or(Error::BufferTooSmall {
                    needed: info.image_size,
                    available: crate::bytes::u64_from(out.len()),
                })?;
                (content_hash, image, check, Some(info.crc32), sha256)
            }
        };
    Ok(VerifiedImage {
        bytes,
        kernel_offset: offset,
        content_hash,
        image_hash,
        gzip_crc32,
        sha256,
    })
}

/// Runs `run` (the inflate) with a sink that hashes each image chunk into
/// `hasher` and the kernel's payload under `h` as its filler (hashed in
/// pieces by whichever CPU is free, [`joined::inflate_joined_beside`]); then
/// hashes what the filler has left and decides the content hash first
/// (under `rule`), the inflate's result second. Its own frame:
/// the incremental content-hash state is on the stack only on this path
/// (not on [`extract`]'s).
#[inline(never)]
fn hash_beside<T, R>(
    kernel: &KernelSegment<'_>,
    rule: Rule,
    h: ContentHash,
    hasher: &mut ImageHasher,
    hashed: &mut u64,
    run: R,
) -> Result<(T, HashCheck)>
where
    R: FnOnce(&mut (dyn FnMut(&[u8]) + Send), &mut dyn Filler) -> Result<T>,
{
    let seg = kernel.segment();
    let mut beside = Interleaved::new(seg.payload, h);
    let r = run(&mut |c: &[u8]| hasher.update(c), &mut beside);
    *hashed = hashed.saturating_add(crate::bytes::u64_from(seg.payload.len()));
    let digest = beside.finish();
    // The content hash's verdict first, then the inflate's.
    let c = rule.verdict(seg, h, &digest, hashed)?;
    Ok((r?, c))
}

/// The pin on the verified image: defined here, beside [`VerifiedImage`], so
/// that the policy stays below the image in the layering.
impl Policy {
    /// Checks the kernel-image pin (if any) on the verified image. Returns
    /// the matched digest.
    ///
    /// # Errors
    /// [`AuthProblem::KernelPin`].
    pub fn check_kernel(&self, image: &VerifiedImage<'_>) -> Result<Option<[u8; 32]>> {
        let Some(pin) = self.pins.kernel_sha256 else {
            return Ok(None);
        };
        // Computed in extract's single pass: no second pass over the image.
        let got = image.sha256();
        if !ct_eq(&got, pin) {
            return Err(Error::Auth(AuthProblem::KernelPin {
                offset: image.kernel_offset(),
                computed_first8: first8(&got),
                pinned_first8: first8(pin),
            }));
        }
        Ok(Some(got))
    }
}

/// The last step of a boot under `container`'s policy, on exactly what is
/// handed to the kernel: `image` (extracted from one of the container's
/// kernels) and `final_cmdline` (what [`crate::cmdline::write`] wrote, without
/// its NUL). The signature was checked by [`Container::parse`](crate::Container::parse) and the
/// kernel's SHDG entry when the container handed the kernel out; this compares
/// the pins in constant time and says what was authenticated.
///
/// # Errors
/// [`AuthProblem::KernelPin`], then [`AuthProblem::CmdlinePin`].
pub fn authenticate(
    container: &Container<'_>,
    image: &VerifiedImage<'_>,
    final_cmdline: &[u8],
) -> Result<Authenticated> {
    let policy = container.policy();
    let kernel_sha256 = policy.check_kernel(image)?;
    let cmdline_sha256 = policy.check_cmdline(final_cmdline)?;
    Ok(Authenticated {
        signed: container.signed(),
        kernel_sha256,
        cmdline_sha256,
    })
}
