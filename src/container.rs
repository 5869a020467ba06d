//! A whole RVF file: the walk, the winning manifest checked against the
//! headers it names, and the kernels it lists (§3, §11 steps 1-4).
//!
//! Work is linear in the file (§ "bounded work" in the README): parsing walks
//! the segments once to find the newest manifest and once more, merged with
//! the directory, to check every entry; every accessor that finds listed
//! segments is one such merged walk; each payload is hashed at most once per
//! container (the result is remembered in a 1024-bit set); zero fill is
//! scanned at most once. `Container::work` counts all of it.

use crate::bytes::{le_u32, u64_from, usize_from};
use crate::checksum::{ContentHash, HashCheck, Rule};
use crate::dialect::{Dialect, Layout};
use crate::error::{Error, Result};
use crate::kernel::KernelSegment;
use crate::manifest::{DirectoryEntry, Manifest};
use crate::policy::{AuthProblem, Signed};
use crate::root_page::RootPage;
use crate::segment::{
    MAX_SEGMENTS, SEGMENT_MAGIC, Segment, Walk, WalkEnd, Work, seg_type, split_root_page,
};
use crate::signing::{check_signature, check_signed_manifest, check_writer_header};
use core::cell::Cell;

use crate::policy::Policy;

/// What the walk met where complete segments end, when no complete manifest
/// was found ([`Error::NoCompleteManifest`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoppedBy {
    /// The end of the file (only zero bytes, if any, after the last segment).
    EndOfFile,
    /// A MANIFEST_SEG header whose payload is cut off: the newest manifest is incomplete.
    TornManifest,
    /// A segment whose payload runs past the end of the file.
    PayloadOverrun,
    /// Bytes that are not a segment header (bad magic).
    BadMagic,
    /// A segment header with an unsupported version.
    UnsupportedVersion,
    /// Fewer than 64 bytes where a header would start.
    TruncatedHeader,
    /// Any other bytes that form no segment.
    NoSegment,
}

impl StoppedBy {
    /// What a torn walk's error says the bytes were.
    const fn from_torn(e: &Error) -> Self {
        match e {
            Error::SegmentOverrun { .. } => Self::PayloadOverrun,
            Error::BadMagic { .. } => Self::BadMagic,
            Error::UnsupportedVersion { .. } => Self::UnsupportedVersion,
            Error::Truncated { .. } => Self::TruncatedHeader,
            _ => Self::NoSegment,
        }
    }

    /// A phrase, as in messages ("... where the walk met {phrase}").
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::EndOfFile => "the end of the file",
            Self::TornManifest => "a torn MANIFEST_SEG",
            Self::PayloadOverrun => "a segment whose payload runs past the end of the file",
            Self::BadMagic => "bytes that are not a segment header (bad magic)",
            Self::UnsupportedVersion => "a segment header with an unsupported version",
            Self::TruncatedHeader => "a truncated segment header",
            Self::NoSegment => "bytes that form no segment",
        }
    }
}

display_by_name!(StoppedBy);

/// A directory-entry field that disagrees with the segment header at the
/// entry's offset ([`Error::DirectoryMismatch`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DirectoryField {
    /// `seg_type`.
    SegType,
    /// `segment_id`.
    SegmentId,
    /// `payload_length`.
    PayloadLength,
    /// The SHDG trailer's committed content hash (values are its first 8 bytes).
    ShdgContentHash,
}

impl DirectoryField {
    /// A short name, as in messages.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::SegType => "seg_type",
            Self::SegmentId => "segment_id",
            Self::PayloadLength => "payload_length",
            Self::ShdgContentHash => "content_hash (SHDG, first 8 bytes)",
        }
    }
}

display_by_name!(DirectoryField);

/// One bit per segment index ([`MAX_SEGMENTS`] bits): whose content hash verified.
const VERIFIED_WORDS: usize = 16;
// Every segment index (< MAX_SEGMENTS) has its bit.
const _: [(); 1] = [(); if MAX_SEGMENTS <= 64 * 16 { 1 } else { 0 }];

/// A parsed, checked RVF file, borrowing its bytes.
///
/// Construction ([`Container::parse`]) walks every segment, takes the newest
/// complete MANIFEST_SEG, verifies its content hash and checks every
/// directory entry against the segment header really at its offset. Kernels
/// are parsed and hash-checked when asked for; a payload whose hash verified
/// is not hashed again by the same container.
#[derive(Clone, Debug)]
pub struct Container<'a> {
    file: &'a [u8],
    body: &'a [u8],
    /// `body` up to the end of the last complete segment (what the walk covered).
    walked: &'a [u8],
    root_page: bool,
    manifest_segment: Segment<'a>,
    manifest_hash: HashCheck,
    manifest: Manifest<'a>,
    dialect: Dialect,
    algo0: ContentHash,
    trailing: Option<(u64, u64)>,
    policy: Policy,
    signed: Option<Signed>,
    work: Cell<Work>,
    verified: Cell<[u64; VERIFIED_WORDS]>,
}

impl<'a> Container<'a> {
    /// Parses and checks `file`.
    ///
    /// # Errors
    /// [`Error::NotRvf`] if the file does not start with a segment header;
    /// [`Error::TooManySegments`]; [`Error::NoCompleteManifest`] when no
    /// complete MANIFEST_SEG exists or the newest one is torn; the manifest's
    /// parse and content-hash errors; [`Error::DirectoryDuplicate`] and
    /// [`Error::DirectoryOrder`] for a directory not listing segments once
    /// each in file order; [`Error::DirectoryEntryNotASegment`] and
    /// [`Error::DirectoryMismatch`] for directory entries that disagree with
    /// the file; for a file ending in an RVM0 root page, its CRC and field
    /// errors, and [`Error::RootPageField`] when it does not commit to the
    /// winning manifest.
    pub fn parse(file: &'a [u8], policy: Policy) -> Result<Self> {
        Self::parse_into(file, policy, &mut Work::default())
    }

    /// [`Self::parse`], writing the work it did to `work` whether it succeeds
    /// or not (so tests can bound the work spent refusing a file, too; the
    /// `testing` feature).
    ///
    /// # Errors
    /// Those of [`Self::parse`].
    #[cfg(feature = "testing")]
    pub fn parse_counting(file: &'a [u8], policy: Policy, work: &mut Work) -> Result<Self> {
        Self::parse_into(file, policy, work)
    }

    /// [`Self::parse`], writing the work it did to `work`.
    fn parse_into(file: &'a [u8], policy: Policy, work: &mut Work) -> Result<Self> {
        let file_size = u64_from(file.len());
        let (body, page) = split_root_page(file);
        if le_u32(body, 0) != Some(SEGMENT_MAGIC) {
            let mut first = [0u8; 4];
            first.iter_mut().zip(file).for_each(|(o, i)| *o = *i);
            return Err(Error::NotRvf {
                found: u32::from_le_bytes(first),
                file_size,
            });
        }
        let page_at = u64_from(body.len());
        // Under a signature policy the page names the manifest (rvf-runtime:
        // newer lookalikes are never consulted); remember it during the walk.
        let named_at = policy
            .signature
            .and(page)
            .and_then(|p| crate::bytes::le_u64(p, 0x08));
        let mut walk = Walk::new(body);
        let mut layout = Layout::default();
        let mut newest = None;
        let mut named = None;
        for s in walk.by_ref() {
            layout.see(&s);
            if s.seg_type() == seg_type::MANIFEST {
                newest = Some(s);
                if Some(s.offset) == named_at {
                    named = Some(s);
                }
            }
        }
        *work = walk.work();
        // Signature policy, steps 1-2: a signed page, by a trusted key.
        let signer = match policy.signature {
            Some(sp) => Some(check_signature(page, page_at, &sp)?),
            None => None,
        };
        let no_manifest = |stopped_by| Error::NoCompleteManifest {
            walk_end: walk.end(),
            file_size,
            stopped_by,
        };
        let (mut trailing, stopped_by) = match walk.stop() {
            WalkEnd::Clean => (None, StoppedBy::EndOfFile),
            WalkEnd::Limit(e) => return Err(e),
            WalkEnd::Torn(e) => {
                // A torn MANIFEST_SEG is the newest manifest and it is incomplete
                // (under a signature policy: an unsigned tail, or no signed manifest).
                if signer.is_none() && torn_manifest_header(body, walk.end()) {
                    return Err(no_manifest(StoppedBy::TornManifest));
                }
                let len = u64_from(body.len()).saturating_sub(walk.end());
                (Some((walk.end(), len)), StoppedBy::from_torn(&e))
            }
        };
        let manifest_segment = match signer {
            // Step 3: the manifest the page commits to, or nothing.
            Some(_) => named.ok_or(Error::Auth(AuthProblem::Commitment {
                root_page: page_at,
                field: crate::root_page::PageField::ManifestOffset,
                value: named_at.unwrap_or(0),
            }))?,
            None => newest.ok_or_else(|| no_manifest(stopped_by))?,
        };
        let mut walked = usize_from(walk.end())
            .and_then(|end| body.get(..end))
            .unwrap_or(body);
        let manifest_hash = if let Some((rp, _)) = &signer {
            check_signed_manifest(rp, &manifest_segment, &mut work.hashed)?
        } else {
            manifest_segment.check_fields()?;
            match Rule::ANY.check(&manifest_segment, &mut work.hashed)? {
                HashCheck::Unset if !policy.allow_unset_hash => {
                    return Err(Error::ContentHashUnset {
                        index: manifest_segment.index,
                        offset: manifest_segment.offset,
                    });
                }
                check => check,
            }
        };
        // The manifest's algorithm-0 hash names the file's writer; a manifest
        // hashed otherwise (wire, or unset) leaves algorithm 0 to the only
        // other writer of it, legacy rvf-runtime (the legacy+wire append case).
        let algo0 = match manifest_hash {
            HashCheck::Verified(h) if manifest_segment.header.checksum_algo == 0 => h,
            _ => ContentHash::Crc32Rot4,
        };
        let manifest = Manifest::parse(manifest_segment.payload, manifest_segment.offset)?;
        let mut signed = None;
        if let (Some((rp, key_index)), Some(sp)) = (signer, policy.signature) {
            // Steps 4-6: the SHDG table, the epoch, an unsigned tail.
            let offset = manifest_segment.offset;
            if manifest.segment_hashes().is_none() {
                return Err(Error::Auth(AuthProblem::NoSegmentHashes { offset }));
            }
            let epoch = manifest.epoch();
            if let Some(minimum) = sp.min_epoch
                && epoch < minimum
            {
                return Err(Error::Auth(AuthProblem::EpochBelowMinimum {
                    epoch,
                    minimum,
                }));
            }
            // The header check proved alignment_pad pads to 64 bytes.
            let signed_end = manifest_segment
                .payload_end()
                .saturating_add(u64::from(manifest_segment.header.alignment_pad.get()));
            let tail = page_at.saturating_sub(signed_end);
            let unsigned_tail = (tail > 0).then_some((signed_end, tail));
            if let Some((offset, length)) = unsigned_tail {
                if !sp.serve_signed_prefix {
                    return Err(Error::Auth(AuthProblem::UnsignedTail { offset, length }));
                }
                // Served past, never read: walks end at the signed manifest.
                walked = usize_from(signed_end)
                    .and_then(|end| body.get(..end))
                    .unwrap_or(walked);
                trailing = None;
            }
            let mut fingerprint = [0u8; 16];
            fingerprint
                .iter_mut()
                .zip(rp.signer_fingerprint())
                .for_each(|(o, i)| *o = *i);
            signed = Some(Signed {
                fingerprint,
                key_index,
                epoch,
                manifest_offset: offset,
                root_page: page_at,
                unsigned_tail,
            });
        } else if let Some(page) = page {
            let shake = (manifest_hash == HashCheck::Verified(ContentHash::Shake256_128))
                .then_some(&manifest_segment.header.content_hash);
            RootPage::parse(page, page_at)?.check_commits_to_counting(
                &manifest_segment,
                shake,
                &mut work.hashed,
            )?;
        }
        let dialect = Dialect::detect(layout, &manifest_segment, manifest_hash);
        let mut verified = [0u64; VERIFIED_WORDS];
        if let HashCheck::Verified(_) = manifest_hash {
            mark(&mut verified, manifest_segment.index);
        }
        let container = Self {
            file,
            body,
            walked,
            root_page: page.is_some(),
            manifest_segment,
            manifest_hash,
            manifest,
            dialect,
            algo0,
            trailing,
            policy,
            signed,
            work: Cell::new(*work),
            verified: Cell::new(verified),
        };
        let checked = container.check_directory();
        *work = container.work();
        checked.map(|()| container)
    }

    /// Checks every directory entry (and its SHDG commitment, in signed
    /// stores) against the walked segment at its offset, in one merged walk.
    fn check_directory(&self) -> Result<()> {
        let committed = self.manifest.segment_hashes().unwrap_or(&[]);
        for (entry, e, seg) in self.directory() {
            let shdg = usize_from(u64::from(entry))
                .and_then(|i| committed.get(i))
                .map(|h| &h.content_hash);
            check_entry(entry, e, &seg?, shdg)?;
        }
        Ok(())
    }

    /// The whole file.
    #[must_use]
    pub const fn file(&self) -> &'a [u8] {
        self.file
    }

    /// A fresh walk over every complete segment, in file order. It covers the
    /// segment area up to the end of the last complete segment, so it ends
    /// `Clean` without scanning a zero or torn tail again (see [`Self::trailing`]).
    #[must_use]
    pub const fn segments(&self) -> Walk<'a> {
        Walk::new(self.walked)
    }

    /// The file's dialect.
    #[must_use]
    pub const fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The algorithm-0 content hash of the file's writer, which every
    /// `checksum_algo` 0 segment of the file must carry (§2.4): decided by the
    /// winning manifest's hash; CRC-32 rot4 when that manifest does not use
    /// algorithm 0.
    #[must_use]
    pub const fn algo0(&self) -> ContentHash {
        self.algo0
    }

    /// The winning manifest.
    #[must_use]
    pub const fn manifest(&self) -> &Manifest<'a> {
        &self.manifest
    }

    /// The winning MANIFEST_SEG and how its content hash checked.
    #[must_use]
    pub const fn manifest_segment(&self) -> (&Segment<'a>, HashCheck) {
        (&self.manifest_segment, self.manifest_hash)
    }

    /// The RVM0 root page, if the file ends with one (its CRC32C and its
    /// commitment to the winning manifest were checked; its signature is
    /// checked by [`RootPage::verify_signature`]).
    #[must_use]
    pub fn root_page(&self) -> Option<RootPage<'a>> {
        let at = u64_from(self.body.len());
        self.root_page
            .then(|| RootPage::parse(self.file.get(self.body.len()..)?, at).ok())
            .flatten()
    }

    /// Offset of the RVM0 root page, if the file ends with one.
    #[must_use]
    pub fn root_page_offset(&self) -> Option<u64> {
        self.root_page.then(|| u64_from(self.body.len()))
    }

    /// `(offset, length)` of bytes after the last complete segment that form
    /// no segment (a torn, uncommitted tail), if any.
    #[must_use]
    pub const fn trailing(&self) -> Option<(u64, u64)> {
        self.trailing
    }

    /// Who signed the file, when the policy required a signature (it
    /// verified: otherwise there is no container).
    #[must_use]
    pub const fn signed(&self) -> Option<Signed> {
        self.signed
    }

    /// The policy this container was parsed with.
    #[must_use]
    pub const fn policy(&self) -> Policy {
        self.policy
    }

    /// The work this container has done so far: headers read, fill scanned
    /// and payload bytes hashed by [`Self::parse`] and every accessor since
    /// (walks a caller makes with [`Self::segments`] count in their own
    /// [`Walk::work`]). The `testing` feature.
    #[cfg(feature = "testing")]
    #[must_use]
    pub fn work(&self) -> Work {
        self.work.get()
    }

    /// The work this container has done so far (crate-internal without the
    /// `testing` feature).
    #[cfg(not(feature = "testing"))]
    pub(crate) fn work(&self) -> Work {
        self.work.get()
    }

    /// The segment whose header is at `offset` (any walked segment). One walk:
    /// O(segments), bounded by [`MAX_SEGMENTS`].
    #[must_use]
    pub fn segment_at(&self, offset: u64) -> Option<Segment<'a>> {
        let mut walk = self.segments();
        let found = walk
            .by_ref()
            .take_while(|s| s.offset <= offset)
            .find(|s| s.offset == offset);
        self.add_work(walk.work());
        found
    }

    /// Checks `seg`'s header fields and content hash under the policy and the
    /// file's algorithm-0 convention ([`Self::algo0`]). For a segment of this
    /// file; it is hashed each time (accessors of the container remember what
    /// verified instead).
    ///
    /// # Errors
    /// [`Error::UnsupportedSegmentField`], [`Error::UnknownChecksumAlgo`],
    /// [`Error::ContentHashOtherWriter`], [`Error::ContentHashMismatch`],
    /// [`Error::ContentHashUnset`].
    pub fn content_hash(&self, seg: &Segment<'_>) -> Result<HashCheck> {
        let mut hashed = 0;
        let r = self
            .rule()
            .require(seg, self.policy.allow_unset_hash, &mut hashed);
        self.add_work(Work {
            hashed,
            ..Work::default()
        });
        r
    }

    /// Every complete segment in file order with the outcome of its gate
    /// (header fields and content hash under the policy and the file's
    /// algorithm-0 convention): what `rvf-boot inspect` shows per segment.
    /// Each payload is hashed at most once per container.
    pub fn checked_segments(&self) -> impl Iterator<Item = (Segment<'a>, Result<HashCheck>)> + '_ {
        Counted::new(self.segments(), &self.work).map(|s| {
            let check = self.gate(&s);
            (s, check)
        })
    }

    /// Checks the content hash of every complete segment in the file (listed
    /// or not) under the policy: what `rvf-boot inspect` requires for exit 0.
    /// Booting needs only the manifest and the kernel, which are always checked.
    ///
    /// # Errors
    /// The first segment's content-hash error, in file order.
    pub fn verify_segments(&self) -> Result<()> {
        self.checked_segments().try_for_each(|(_, r)| r.map(drop))
    }

    /// Every segment of type `ty` the manifest lists (META, PROFILE, WITNESS,
    /// WASM, ...), in directory order, each with its content hash checked
    /// under the policy. The payloads are borrowed from the file.
    pub fn listed(&self, ty: u8) -> impl Iterator<Item = Result<Segment<'a>>> + '_ {
        self.directory()
            .filter(move |(_, e, _)| e.seg_type == ty)
            .map(|(entry, _, seg)| {
                let seg = seg?;
                self.committed(entry, &seg)?;
                self.gate(&seg)?;
                Ok(seg)
            })
    }

    /// Every KERNEL_SEG the manifest lists, in directory order, each parsed
    /// and with its content hash checked under the policy.
    pub fn kernels(&self) -> impl Iterator<Item = Result<KernelSegment<'a>>> + '_ {
        self.directory()
            .filter(|(_, e, _)| e.seg_type == seg_type::KERNEL)
            .map(|(entry, _, seg)| self.load_kernel(entry, seg?))
    }

    /// The kernel to boot by default: the first KERNEL_SEG in directory order
    /// (what rvf-launch boots).
    ///
    /// # Errors
    /// [`Error::NoKernel`], or the kernel's parse and hash errors.
    pub fn selected_kernel(&self) -> Result<KernelSegment<'a>> {
        self.kernels().next().unwrap_or(Err(Error::NoKernel))
    }

    /// The listed kernel whose header is at `header_offset`.
    ///
    /// # Errors
    /// [`Error::NoKernelAt`], or the kernel's parse and hash errors.
    pub fn kernel_at(&self, header_offset: u64) -> Result<KernelSegment<'a>> {
        let (entry, seg) = self.kernel_entry_at(header_offset)?;
        self.load_kernel(entry, seg)
    }

    /// The directory entry and segment of the listed kernel whose header is
    /// at `header_offset` (the directory is in offset order: the search
    /// stops past it).
    fn kernel_entry_at(&self, header_offset: u64) -> Result<(u32, Segment<'a>)> {
        self.directory()
            .take_while(|(_, e, _)| e.offset.get() <= header_offset)
            .find(|(_, e, _)| e.seg_type == seg_type::KERNEL && e.offset.get() == header_offset)
            .map_or(
                Err(Error::NoKernelAt {
                    offset: header_offset,
                }),
                |(entry, _, seg)| Ok((entry, seg?)),
            )
    }

    fn load_kernel(&self, entry: u32, seg: Segment<'a>) -> Result<KernelSegment<'a>> {
        self.committed(entry, &seg)?;
        self.gated_kernel(seg)
    }

    /// `seg` through its gate (header fields, content hash), then parsed as a
    /// kernel carrying that check.
    fn gated_kernel(&self, seg: Segment<'a>) -> Result<KernelSegment<'a>> {
        let check = self.gate(&seg)?;
        Ok(KernelSegment::parse_unverified(seg, self.policy)?.with_content_hash(check))
    }

    /// [`Self::selected_kernel`] with the hashing of the kernel's payload
    /// deferred, not skipped: its content hash is checked by every extract,
    /// [`crate::image::extract`] (or
    /// [`crate::image::extract_joined`], which hashes it on the second CPU
    /// beside the inflate), under this file's algorithm-0 convention
    /// ([`Self::algo0`]). Everything else is checked here, in
    /// [`Self::selected_kernel`]'s order: a signed store's commitment, the
    /// header fields, the checks of the content hash that need no hashing
    /// ([`Error::UnknownChecksumAlgo`], [`Error::ContentHashUnset`]) and the
    /// kernel header. The kernel's [`KernelSegment::content_hash`] is `None`
    /// (nothing about its payload is verified yet), except when this
    /// container has already verified that payload (a signed store's
    /// commitment, or an earlier verified accessor) or its hash is unset and
    /// allowed: then it is what [`Self::selected_kernel`] would record.
    ///
    /// The result and the errors are those of [`Self::selected_kernel`]
    /// followed by [`crate::image::extract`]: when the kernel header does not
    /// parse, the payload is hashed here after all, so that a content-hash
    /// error still comes first (the work [`Self::selected_kernel`] does).
    ///
    /// # Errors
    /// [`Error::NoKernel`], or the kernel's parse errors and the content-hash
    /// errors above.
    pub fn selected_kernel_deferred(&self) -> Result<KernelSegment<'a>> {
        self.directory()
            .find(|(_, e, _)| e.seg_type == seg_type::KERNEL)
            .map_or(Err(Error::NoKernel), |(entry, _, seg)| {
                self.load_kernel_deferred(entry, seg?)
            })
    }

    /// [`Self::kernel_at`] with the content hash left to extraction, as
    /// [`Self::selected_kernel_deferred`].
    ///
    /// # Errors
    /// [`Error::NoKernelAt`], or those of [`Self::selected_kernel_deferred`].
    pub fn kernel_at_deferred(&self, header_offset: u64) -> Result<KernelSegment<'a>> {
        let (entry, seg) = self.kernel_entry_at(header_offset)?;
        self.load_kernel_deferred(entry, seg)
    }

    fn load_kernel_deferred(&self, entry: u32, seg: Segment<'a>) -> Result<KernelSegment<'a>> {
        self.committed(entry, &seg)?;
        if is_marked(&self.verified.get(), seg.index) {
            // Verified before: the gate hashes nothing, as in `load_kernel`.
            return self.gated_kernel(seg);
        }
        let plan = self
            .rule()
            .require_plan(&seg, self.policy.allow_unset_hash)?;
        match KernelSegment::parse_unverified(seg, self.policy) {
            Ok(k) => Ok(match plan {
                None => k.with_content_hash(HashCheck::Unset),
                Some(_) => k.deferring(self.algo0),
            }),
            Err(e) => {
                // `selected_kernel` would have named a content-hash error first.
                self.gate(&seg)?;
                Err(e)
            }
        }
    }

    /// Signature policy, on use: directory entry `entry` (`seg`) has the
    /// header the signing writer emits and its payload hashes to its SHDG
    /// entry (the header hash was compared with that entry at parse). The
    /// payload is hashed once and then counts as verified for [`Self::gate`].
    fn committed(&self, entry: u32, seg: &Segment<'a>) -> Result<()> {
        if self.signed.is_none() {
            return Ok(());
        }
        let committed = self
            .manifest
            .segment_hashes()
            .and_then(|h| h.get(usize_from(u64::from(entry))?))
            .map(|h| h.content_hash)
            .ok_or(Error::Auth(AuthProblem::NoSegmentHashes {
                offset: self.manifest_segment.offset,
            }))?;
        check_writer_header(seg, &committed)?;
        let mut set = self.verified.get();
        if !is_marked(&set, seg.index) {
            self.add_work(Work {
                hashed: u64_from(seg.payload.len()),
                ..Work::default()
            });
            let actual = crate::checksum::shake256(seg.payload);
            if !crate::checksum::ct_eq(&actual, &committed) {
                return Err(Error::Auth(AuthProblem::SegmentHash {
                    offset: seg.offset,
                    segment_id: seg.segment_id(),
                }));
            }
            // The header carries the same hash (checked above): verified.
            mark(&mut set, seg.index);
            self.verified.set(set);
        }
        Ok(())
    }

    /// The directory merged with one walk ([`Directory`]).
    fn directory(&self) -> Directory<'_, 'a> {
        Directory {
            walk: Counted::new(self.segments(), &self.work),
            entries: self.manifest.entries().iter().zip(0u32..),
            pending: None,
            previous: None,
        }
    }

    /// The gate for a segment this container walked: header fields, then the
    /// content hash under the file's convention, hashing a payload only if it
    /// has not verified before.
    fn gate(&self, seg: &Segment<'a>) -> Result<HashCheck> {
        seg.check_fields()?;
        let mut set = self.verified.get();
        if is_marked(&set, seg.index)
            && let Some(h) = self.rule().verified_as(seg.header.checksum_algo)
        {
            return Ok(HashCheck::Verified(h));
        }
        let check = self.content_hash(seg)?;
        if let HashCheck::Verified(_) = check {
            mark(&mut set, seg.index);
            self.verified.set(set);
        }
        Ok(check)
    }

    /// The content-hash rule of this file (its algorithm-0 convention).
    const fn rule(&self) -> Rule {
        Rule {
            algo0: Some(self.algo0),
        }
    }

    fn add_work(&self, more: Work) {
        self.work.set(self.work.get().plus(more));
    }
}

fn bit(index: u32) -> Option<(usize, u64)> {
    let word = usize_from(u64::from(index.checked_shr(6)?))?;
    Some((word, 1u64.checked_shl(index & 63)?))
}

fn mark(set: &mut [u64; VERIFIED_WORDS], index: u32) {
    if let Some((w, b)) = bit(index)
        && let Some(word) = set.get_mut(w)
    {
        *word |= b;
    }
}

fn is_marked(set: &[u64; VERIFIED_WORDS], index: u32) -> bool {
    bit(index).is_some_and(|(w, b)| set.get(w).is_some_and(|word| word & b != 0))
}

/// A walk whose header reads and fill scans are added to a container's count
/// as it goes.
struct Counted<'c, 'a> {
    walk: Walk<'a>,
    counted: Work,
    total: &'c Cell<Work>,
}

impl<'c, 'a> Counted<'c, 'a> {
    const fn new(walk: Walk<'a>, total: &'c Cell<Work>) -> Self {
        Self {
            walk,
            counted: Work {
                header_reads: 0,
                fill_scanned: 0,
                hashed: 0,
            },
            total,
        }
    }
}

impl<'a> Iterator for Counted<'_, 'a> {
    type Item = Segment<'a>;

    fn next(&mut self) -> Option<Segment<'a>> {
        let s = self.walk.next();
        let now = self.walk.work();
        let delta = Work {
            header_reads: now.header_reads.saturating_sub(self.counted.header_reads),
            fill_scanned: now.fill_scanned.saturating_sub(self.counted.fill_scanned),
            hashed: 0,
        };
        self.counted = now;
        self.total.set(self.total.get().plus(delta));
        s
    }
}

/// The directory entries in order, each with the walked segment at its
/// offset, found by one walk merged with the directory: entries must name
/// segments in strictly increasing offset order (every writer's order), so
/// each step only moves forward. O(segments + entries), no storage.
struct Directory<'c, 'a> {
    walk: Counted<'c, 'a>,
    entries: core::iter::Zip<core::slice::Iter<'a, DirectoryEntry>, core::ops::RangeFrom<u32>>,
    /// A walked segment past the previous entry's offset, not yet matched.
    pending: Option<Segment<'a>>,
    /// The previous entry's index and offset.
    previous: Option<(u32, u64)>,
}

impl<'a> Iterator for Directory<'_, 'a> {
    type Item = (u32, &'a DirectoryEntry, Result<Segment<'a>>);

    fn next(&mut self) -> Option<Self::Item> {
        let (e, entry) = self.entries.next()?;
        let offset = e.offset.get();
        if let Some((first, previous)) = self.previous {
            if offset == previous {
                return Some((
                    entry,
                    e,
                    Err(Error::DirectoryDuplicate {
                        entry,
                        first,
                        offset,
                    }),
                ));
            }
            if offset < previous {
                return Some((
                    entry,
                    e,
                    Err(Error::DirectoryOrder {
                        entry,
                        offset,
                        previous,
                    }),
                ));
            }
        }
        self.previous = Some((entry, offset));
        let mut next = self.pending.take().or_else(|| self.walk.next());
        while next.is_some_and(|s| s.offset < offset) {
            next = self.walk.next();
        }
        let found = match next {
            Some(s) if s.offset == offset => Ok(s),
            other => {
                self.pending = other;
                Err(Error::DirectoryEntryNotASegment { entry, offset })
            }
        };
        Some((entry, e, found))
    }
}

/// Whether the bytes at `at` start a MANIFEST_SEG header (magic and type)
/// whose payload is cut off.
fn torn_manifest_header(body: &[u8], at: u64) -> bool {
    // The torn part may start after zero fill (mixed/wire layouts).
    let candidates = [Some(at), crate::bytes::align64(at)];
    candidates.into_iter().flatten().any(|o| {
        le_u32(body, o) == Some(SEGMENT_MAGIC)
            && crate::bytes::range(body, o.saturating_add(5), 1) == Some(&[seg_type::MANIFEST][..])
    })
}

/// Checks one directory entry (and its SHDG commitment, in signed stores)
/// against the header of the walked segment at its offset.
fn check_entry(
    entry: u32,
    e: &DirectoryEntry,
    seg: &Segment<'_>,
    shdg: Option<&[u8; 16]>,
) -> Result<()> {
    let offset = e.offset.get();
    let fields = [
        (
            DirectoryField::SegType,
            u64::from(e.seg_type),
            u64::from(seg.seg_type()),
        ),
        (
            DirectoryField::SegmentId,
            e.segment_id.get(),
            seg.segment_id(),
        ),
        (
            DirectoryField::PayloadLength,
            e.payload_length.get(),
            seg.payload_length(),
        ),
    ];
    for (field, directory, header) in fields {
        if directory != header {
            return Err(Error::DirectoryMismatch {
                entry,
                offset,
                field,
                directory,
                header,
            });
        }
    }
    if let Some(committed) = shdg
        && !crate::checksum::ct_eq(committed, &seg.header.content_hash)
    {
        let first8 = |h: &[u8; 16]| crate::bytes::le_u64(h, 0).unwrap_or(0);
        return Err(Error::DirectoryMismatch {
            entry,
            offset,
            field: DirectoryField::ShdgContentHash,
            directory: first8(committed),
            header: first8(&seg.header.content_hash),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checksum::ContentHash;
    use crate::kernel::tests::crate_header;
    use crate::manifest::tests::payload as manifest_payload;
    use crate::segment::tests::seg;
    use std::string::ToString;
    use std::vec::Vec;

    /// A legacy-dialect segment with its CRC-rot4 content hash set.
    fn hashed(ty: u8, id: u64, payload: &[u8]) -> Vec<u8> {
        let mut s = seg(ty, id, payload, false);
        s[0x28..0x38].copy_from_slice(&rvf_testkit::build::crc32_rot4(payload));
        s
    }

    fn kernel_payload() -> Vec<u8> {
        let mut p = crate_header(4, 4, 0, 3);
        p.extend_from_slice(b"IMG!abc");
        p
    }

    /// kernel @0 (64+135=199 bytes), manifest @199 listing it.
    fn file() -> Vec<u8> {
        let k = kernel_payload();
        let mut f = hashed(0x0E, 1, &k);
        let m = manifest_payload(1, &[(1, 0, k.len() as u64, 0x0E)]);
        f.extend(hashed(0x05, 2, &m));
        f
    }

    #[test]
    fn parses_and_selects_the_kernel() {
        let f = file();
        let c = Container::parse(&f, Policy::default()).unwrap();
        assert_eq!(c.manifest().offset(), 199);
        assert_eq!(c.dialect(), Dialect::Legacy);
        assert_eq!(c.trailing(), None);
        let k = c.selected_kernel().unwrap();
        assert_eq!(k.segment_offset(), 0);
        assert_eq!(k.cmdline(), b"abc");
        assert_eq!(
            k.content_hash(),
            Some(HashCheck::Verified(ContentHash::Crc32Rot4))
        );
        assert_eq!(
            c.kernel_at(199).unwrap_err(),
            Error::NoKernelAt { offset: 199 }
        );
    }

    #[test]
    fn torn_tail_is_trailing_but_torn_manifest_is_fatal() {
        let mut f = file();
        let good = f.len();
        f.extend(&hashed(0x01, 3, &[9; 40])[..70]);
        let c = Container::parse(&f, Policy::default()).unwrap();
        assert_eq!(c.trailing(), Some((good as u64, 70)));
        let mut g = file();
        g.extend(&hashed(0x05, 3, &[9; 40])[..70]);
        assert_eq!(
            Container::parse(&g, Policy::default()).unwrap_err(),
            Error::NoCompleteManifest {
                walk_end: good as u64,
                file_size: good as u64 + 70,
                stopped_by: StoppedBy::TornManifest
            }
        );
        let mut h = file();
        h.truncate(h.len() - 1);
        assert_eq!(
            Container::parse(&h, Policy::default()).unwrap_err(),
            Error::NoCompleteManifest {
                walk_end: 199,
                file_size: h.len() as u64,
                stopped_by: StoppedBy::TornManifest
            }
        );
    }

    #[test]
    fn directory_must_match_headers() {
        let k = kernel_payload();
        let build = |entry: (u64, u64, u64, u8)| {
            let mut f = hashed(0x0E, 1, &k);
            f.extend(hashed(0x05, 2, &manifest_payload(1, &[entry])));
            f
        };
        let n = k.len() as u64;
        let f = build((1, 64, n, 0x0E));
        assert_eq!(
            Container::parse(&f, Policy::default()).unwrap_err(),
            Error::DirectoryEntryNotASegment {
                entry: 0,
                offset: 64
            }
        );
        let f = build((7, 0, n, 0x0E));
        assert_eq!(
            Container::parse(&f, Policy::default()).unwrap_err(),
            Error::DirectoryMismatch {
                entry: 0,
                offset: 0,
                field: DirectoryField::SegmentId,
                directory: 7,
                header: 1
            }
        );
        let f = build((1, 0, n, 0x10));
        assert_eq!(
            Container::parse(&f, Policy::default()).unwrap_err(),
            Error::DirectoryMismatch {
                entry: 0,
                offset: 0,
                field: DirectoryField::SegType,
                directory: 0x10,
                header: 0x0E
            }
        );
    }

    #[test]
    fn hashes_are_checked_under_the_policy() {
        let mut f = file();
        f[64 + 130] ^= 1; // a byte of the kernel image
        let c = Container::parse(&f, Policy::default()).unwrap();
        assert_eq!(
            c.selected_kernel().unwrap_err(),
            Error::ContentHashMismatch {
                index: 0,
                offset: 0,
                algo: 0
            }
        );
        let mut g = file();
        g[0x28..0x38].fill(0);
        let c = Container::parse(&g, Policy::default()).unwrap();
        assert_eq!(
            c.selected_kernel().unwrap_err(),
            Error::ContentHashUnset {
                index: 0,
                offset: 0
            }
        );
        let c = Container::parse(&g, Policy::allowing_unset_hash(true)).unwrap();
        assert_eq!(
            c.selected_kernel().unwrap().content_hash(),
            Some(HashCheck::Unset)
        );
        let mut h = file();
        h[0x20] = 3;
        let c = Container::parse(&h, Policy::default()).unwrap();
        assert_eq!(
            c.selected_kernel().unwrap_err(),
            Error::UnknownChecksumAlgo {
                index: 0,
                offset: 0,
                algo: 3
            }
        );
    }

    #[test]
    fn not_rvf() {
        assert_eq!(
            Container::parse(b"MZ\x90\x00", Policy::default()).unwrap_err(),
            Error::NotRvf {
                found: 0x0090_5A4D,
                file_size: 4
            }
        );
        assert_eq!(
            Container::parse(b"", Policy::default()).unwrap_err(),
            Error::NotRvf {
                found: 0,
                file_size: 0
            }
        );
        let short = Container::parse(b"MZ", Policy::default()).unwrap_err();
        assert_eq!(
            short,
            Error::NotRvf {
                found: 0x5A4D,
                file_size: 2
            }
        );
        assert_eq!(
            short.to_string(),
            "not an RVF file: it does not start with a segment header (first bytes [4d, 5a], file size 2)"
        );
    }

    #[test]
    fn directory_entries_name_segments_once_in_file_order() {
        let k = kernel_payload();
        let n = k.len() as u64;
        let mut body = hashed(0x0E, 1, &k);
        body.extend(hashed(0x01, 7, b"vectors"));
        let build = |entries: &[(u64, u64, u64, u8)]| {
            let mut f = body.clone();
            f.extend(hashed(0x05, 2, &manifest_payload(1, entries)));
            f
        };
        let kernel = (1, 0, n, 0x0E);
        let vec = (7, 64 + n, 7, 0x01);
        let c = build(&[kernel, vec]);
        let c = Container::parse(&c, Policy::default()).unwrap();
        assert_eq!(
            c.listed(0x01)
                .map(|s| s.unwrap().offset)
                .collect::<Vec<_>>(),
            [64 + n]
        );
        assert_eq!(
            Container::parse(&build(&[kernel, kernel]), Policy::default()).unwrap_err(),
            Error::DirectoryDuplicate {
                entry: 1,
                first: 0,
                offset: 0
            }
        );
        assert_eq!(
            Container::parse(&build(&[vec, kernel]), Policy::default()).unwrap_err(),
            Error::DirectoryOrder {
                entry: 1,
                offset: 0,
                previous: 64 + n
            }
        );
        // An entry between two segments, then one naming the segment after it.
        assert_eq!(
            Container::parse(&build(&[(1, 10, n, 0x0E), vec]), Policy::default()).unwrap_err(),
            Error::DirectoryEntryNotASegment {
                entry: 0,
                offset: 10
            }
        );
    }

    #[test]
    fn each_payload_is_hashed_once_per_container() {
        let f = file();
        let mut w = crate::segment::Work::default();
        let c = Container::parse_into(&f, Policy::default(), &mut w).unwrap();
        let manifest_len = c.manifest_segment().0.payload_length();
        assert_eq!(
            w.hashed, manifest_len,
            "parse hashes the manifest once (CRC first: timestamp 0)"
        );
        assert_eq!(c.work(), w);
        let k = kernel_payload().len() as u64;
        c.verify_segments().unwrap();
        assert_eq!(c.work().hashed, manifest_len + k);
        c.selected_kernel().unwrap();
        assert!(c.kernels().all(|k| k.is_ok()));
        c.verify_segments().unwrap();
        assert_eq!(c.work().hashed, manifest_len + k, "nothing hashed twice");
        // Two walks to parse, three accessors: at most three header reads per segment each.
        assert!(c.work().header_reads <= 3 * 3 * 5, "{:?}", c.work());
    }
}
