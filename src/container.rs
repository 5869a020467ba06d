//! A whole RVF file: the walk, the winning manifest checked against the
//! headers it names, and the kernels it lists (§3, §11 steps 1-4).

use crate::bytes::{le_u32, u64_from};
use crate::checksum::{HashCheck, require_content_hash};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::kernel::KernelSegment;
use crate::manifest::{DirectoryEntry, Manifest};
use crate::root_page::RootPage;
use crate::segment::{SEGMENT_MAGIC, Segment, Walk, WalkEnd, seg_type, split_root_page};

/// What counts as verified. The default is the strictest policy.
///
/// The roadmap adds trusted Ed25519 keys for signed root pages and pinned
/// kernel digests here; new fields arrive with defaults that keep old
/// callers strict.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Policy {
    /// Accept segments (and kernel images) whose stored hash is all zeros,
    /// i.e. carry no hash at all. Off by default.
    pub allow_unset_hash: bool,
}

impl Policy {
    /// The default policy with `allow_unset_hash` set as given.
    #[must_use]
    pub const fn allowing_unset_hash(allow: bool) -> Self {
        Self {
            allow_unset_hash: allow,
        }
    }
}

/// A parsed, checked RVF file, borrowing its bytes.
///
/// Construction ([`Container::parse`]) walks every segment, takes the newest
/// complete MANIFEST_SEG, verifies its content hash and checks every
/// directory entry against the segment header really at its offset. Kernels
/// are parsed and hash-checked when asked for.
#[derive(Clone, Copy, Debug)]
pub struct Container<'a> {
    file: &'a [u8],
    body: &'a [u8],
    root_page: bool,
    manifest_segment: Segment<'a>,
    manifest_hash: HashCheck,
    manifest: Manifest<'a>,
    dialect: Dialect,
    trailing: Option<(u64, u64)>,
    policy: Policy,
}

impl<'a> Container<'a> {
    /// Parses and checks `file`.
    ///
    /// # Errors
    /// [`Error::NotRvf`] if the file does not start with a segment header;
    /// [`Error::TooManySegments`]; [`Error::NoCompleteManifest`] when no
    /// complete MANIFEST_SEG exists or the newest one is torn; the manifest's
    /// parse and content-hash errors; [`Error::DirectoryEntryNotASegment`] and
    /// [`Error::DirectoryMismatch`] for directory entries that disagree with
    /// the file; for a file ending in an RVM0 root page, its CRC and field
    /// errors, and [`Error::RootPageField`] when it does not commit to the
    /// winning manifest.
    pub fn parse(file: &'a [u8], policy: Policy) -> Result<Self> {
        let file_size = u64_from(file.len());
        let (body, page) = split_root_page(file);
        if le_u32(body, 0) != Some(SEGMENT_MAGIC) {
            return Err(Error::NotRvf {
                found: le_u32(file, 0).unwrap_or(0),
                file_size,
            });
        }
        let mut walk = Walk::new(body);
        let newest = walk
            .by_ref()
            .filter(|s| s.seg_type() == seg_type::MANIFEST)
            .last();
        let no_manifest = |stopped_by| Error::NoCompleteManifest {
            walk_end: walk.end(),
            file_size,
            stopped_by,
        };
        let (trailing, stopped_by) = match walk.stop() {
            WalkEnd::Clean => (None, "the end of the file"),
            WalkEnd::Limit(e) => return Err(e),
            WalkEnd::Torn(e) => {
                // A torn MANIFEST_SEG is the newest manifest and it is incomplete.
                if torn_manifest_header(body, walk.end()) {
                    return Err(no_manifest("a torn MANIFEST_SEG"));
                }
                let len = u64_from(body.len()).saturating_sub(walk.end());
                (Some((walk.end(), len)), stop_reason(&e))
            }
        };
        let manifest_segment = newest.ok_or_else(|| no_manifest(stopped_by))?;
        let manifest_hash = require_content_hash(&manifest_segment, policy.allow_unset_hash)?;
        let manifest = Manifest::parse(manifest_segment.payload, manifest_segment.offset)?;
        if let Some(page) = page {
            RootPage::parse(page, u64_from(body.len()))?.check_commits_to(&manifest_segment)?;
        }
        let committed = manifest.segment_hashes().unwrap_or(&[]);
        for (i, entry) in manifest.entries().iter().enumerate() {
            let shdg = committed.get(i).map(|h| &h.content_hash);
            check_entry(body, u32::try_from(i).unwrap_or(u32::MAX), entry, shdg)?;
        }
        let dialect = Dialect::detect(Walk::new(body), &manifest_segment, manifest_hash);
        Ok(Self {
            file,
            body,
            root_page: page.is_some(),
            manifest_segment,
            manifest_hash,
            manifest,
            dialect,
            trailing,
            policy,
        })
    }

    /// The whole file.
    #[must_use]
    pub const fn file(&self) -> &'a [u8] {
        self.file
    }

    /// A fresh walk over every complete segment, in file order.
    #[must_use]
    pub const fn segments(&self) -> Walk<'a> {
        Walk::new(self.body)
    }

    /// The file's dialect.
    #[must_use]
    pub const fn dialect(&self) -> Dialect {
        self.dialect
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
    /// commitment to the winning manifest were checked; its signature is not:
    /// see [`RootPage::signed_message`]).
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

    /// The policy this container was parsed with.
    #[must_use]
    pub const fn policy(&self) -> Policy {
        self.policy
    }

    /// The segment whose header is at `offset` (any walked segment).
    #[must_use]
    pub fn segment_at(&self, offset: u64) -> Option<Segment<'a>> {
        segment_at(self.body, offset)
    }

    /// Checks the content hash of every complete segment in the file (listed
    /// or not) under the policy: what `rvf-boot inspect` requires for exit 0.
    /// Booting needs only the manifest and the kernel, which are always checked.
    ///
    /// # Errors
    /// The first segment's content-hash error, in file order.
    pub fn verify_segments(&self) -> Result<()> {
        self.segments()
            .try_for_each(|s| require_content_hash(&s, self.policy.allow_unset_hash).map(drop))
    }

    /// Every segment of type `ty` the manifest lists (META, PROFILE, WITNESS,
    /// WASM, ...), in directory order, each with its content hash checked
    /// under the policy. The payloads are borrowed from the file.
    pub fn listed(&self, ty: u8) -> impl Iterator<Item = Result<Segment<'a>>> + '_ {
        self.manifest
            .entries()
            .iter()
            .enumerate()
            .filter(move |(_, e)| e.seg_type == ty)
            .map(|(i, e)| {
                let offset = e.offset.get();
                // check_entry proved a segment starts there; stay total anyway.
                let entry = u32::try_from(i).unwrap_or(u32::MAX);
                let seg = segment_at(self.body, offset)
                    .ok_or(Error::DirectoryEntryNotASegment { entry, offset })?;
                require_content_hash(&seg, self.policy.allow_unset_hash)?;
                Ok(seg)
            })
    }

    /// Every KERNEL_SEG the manifest lists, in directory order, each parsed
    /// and with its content hash checked under the policy.
    pub fn kernels(&self) -> impl Iterator<Item = Result<KernelSegment<'a>>> + '_ {
        self.manifest
            .entries()
            .iter()
            .filter(|e| e.seg_type == seg_type::KERNEL)
            .map(|e| self.load_kernel(e.offset.get()))
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
        let listed = self
            .manifest
            .entries()
            .iter()
            .any(|e| e.seg_type == seg_type::KERNEL && e.offset.get() == header_offset);
        if !listed {
            return Err(Error::NoKernelAt {
                offset: header_offset,
            });
        }
        self.load_kernel(header_offset)
    }

    fn load_kernel(&self, offset: u64) -> Result<KernelSegment<'a>> {
        let seg = segment_at(self.body, offset).ok_or(Error::NoKernelAt { offset })?;
        let check = require_content_hash(&seg, self.policy.allow_unset_hash)?;
        Ok(KernelSegment::parse_unverified(seg, self.policy)?.with_content_hash(check))
    }
}

/// What the walk met where it stopped, as a phrase for [`Error::NoCompleteManifest`].
const fn stop_reason(e: &Error) -> &'static str {
    match e {
        Error::SegmentOverrun { .. } => "a segment whose payload runs past the end of the file",
        Error::BadMagic { .. } => "bytes that are not a segment header (bad magic)",
        Error::UnsupportedVersion { .. } => "a segment header with an unsupported version",
        Error::Truncated { .. } => "a truncated segment header",
        _ => "bytes that form no segment",
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

/// The walked segment whose header is at `offset`. Walks from the start:
/// O(segments), bounded by [`crate::segment::MAX_SEGMENTS`].
fn segment_at(body: &[u8], offset: u64) -> Option<Segment<'_>> {
    Walk::new(body)
        .take_while(|s| s.offset <= offset)
        .find(|s| s.offset == offset)
}

/// Checks one directory entry (and its SHDG commitment, in signed stores)
/// against the header at its offset.
fn check_entry(body: &[u8], entry: u32, e: &DirectoryEntry, shdg: Option<&[u8; 16]>) -> Result<()> {
    let offset = e.offset.get();
    let seg = segment_at(body, offset).ok_or(Error::DirectoryEntryNotASegment { entry, offset })?;
    let fields = [
        ("seg_type", u64::from(e.seg_type), u64::from(seg.seg_type())),
        ("segment_id", e.segment_id.get(), seg.segment_id()),
        (
            "payload_length",
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
            field: "content_hash (SHDG, first 8 bytes)",
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
    use std::vec::Vec;

    /// A legacy-dialect segment with its CRC-rot4 content hash set.
    fn hashed(ty: u8, id: u64, payload: &[u8]) -> Vec<u8> {
        let mut s = seg(ty, id, payload, false);
        s[0x28..0x38].copy_from_slice(&ContentHash::Crc32Rot4.digest(payload));
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
                stopped_by: "a torn MANIFEST_SEG"
            }
        );
        let mut h = file();
        h.truncate(h.len() - 1);
        assert_eq!(
            Container::parse(&h, Policy::default()).unwrap_err(),
            Error::NoCompleteManifest {
                walk_end: 199,
                file_size: h.len() as u64,
                stopped_by: "a torn MANIFEST_SEG"
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
                field: "segment_id",
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
                field: "seg_type",
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
    }
}
