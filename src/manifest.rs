//! The MANIFEST_SEG payload (§3.3): epoch, segment directory, deleted ids and
//! the optional FIDI (file identity) and SHDG (per-segment hash) trailers.
//!
//! Everything is borrowed from the payload; the directory is a zerocopy slice
//! of 25-byte entries. A manifest never lists itself and segment ids are not
//! unique, so entries are keyed by header offset.

use crate::bytes::{le_u32, range, u64_from, usize_from};
use crate::error::{Error, Result};
use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, KnownLayout, Unaligned};

testing_pub! {
    /// The most directory entries a manifest may have (as many as segments the walk visits).
    pub const MAX_DIRECTORY_ENTRIES: u32 = crate::segment::MAX_SEGMENTS;
}

/// `"FIDI"` trailer tag as a little-endian u32 (wire bytes `49 44 49 46`).
pub(crate) const FIDI_TAG: u32 = 0x4649_4449;
/// `"SHDG"` trailer tag as a little-endian u32 (wire bytes `53 48 44 47`).
pub(crate) const SHDG_TAG: u32 = 0x4744_4853;

/// The part of a MANIFEST_SEG payload that is malformed ([`Error::ManifestMalformed`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ManifestField {
    /// The fixed 22-byte header.
    Header,
    /// `seg_count` (does not fit this machine's address space).
    SegCount,
    /// The directory (shorter than `seg_count` entries).
    Directory,
    /// `del_count`.
    DelCount,
    /// The deleted ids (shorter than `del_count`).
    DeletedIds,
    /// The FIDI trailer.
    FidiTrailer,
    /// The SHDG count (missing or not `seg_count`).
    ShdgCount,
    /// The SHDG entries.
    ShdgEntries,
    /// An SHDG entry's segment id (disagrees with the directory entry).
    ShdgSegmentId,
    /// Bytes after the known trailers.
    UnknownTrailer,
}

impl ManifestField {
    /// A short name, as in messages.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Header => "header",
            Self::SegCount => "seg_count",
            Self::Directory => "directory",
            Self::DelCount => "del_count",
            Self::DeletedIds => "deleted_ids",
            Self::FidiTrailer => "FIDI trailer",
            Self::ShdgCount => "SHDG count",
            Self::ShdgEntries => "SHDG entries",
            Self::ShdgSegmentId => "SHDG segment_id",
            Self::UnknownTrailer => "trailer (unknown bytes after the manifest)",
        }
    }
}

display_by_name!(ManifestField);

/// The fixed 22-byte part at the start of the payload.
#[derive(FromBytes, KnownLayout, Immutable, Unaligned, Debug)]
#[repr(C)]
pub struct ManifestFixed {
    /// 0: epoch.
    pub epoch: U32,
    /// 4: vector dimension.
    pub dimension: U16,
    /// 6: live vectors.
    pub total_vectors: U64,
    /// 14: number of directory entries.
    pub seg_count: U32,
    /// 18: hardware profile (RuvBot: 0x42).
    pub profile_id: u8,
    /// 19: distance metric.
    pub metric: u8,
    /// 20: reserved.
    pub reserved: U16,
}

/// One 25-byte directory entry.
#[derive(FromBytes, KnownLayout, Immutable, Unaligned, Debug)]
#[repr(C)]
pub struct DirectoryEntry {
    /// Segment id (not unique).
    pub segment_id: U64,
    /// Absolute file offset of the segment's header.
    pub offset: U64,
    /// The segment's payload length.
    pub payload_length: U64,
    /// The segment's type code.
    pub seg_type: u8,
}

/// The FIDI file-identity trailer (68 bytes after the tag).
#[derive(FromBytes, KnownLayout, Immutable, Unaligned, Debug)]
#[repr(C)]
pub struct FileIdentity {
    /// Random file id.
    pub file_id: [u8; 16],
    /// Parent file id (derived stores).
    pub parent_id: [u8; 16],
    /// Parent hash.
    pub parent_hash: [u8; 32],
    /// Derivation depth.
    pub lineage_depth: U32,
}

/// One SHDG entry: the content hash committed for a directory entry.
#[derive(FromBytes, KnownLayout, Immutable, Unaligned, Debug)]
#[repr(C)]
pub struct SegmentHashEntry {
    /// Segment id of the directory entry at the same position.
    pub segment_id: U64,
    /// Its committed content hash.
    pub content_hash: [u8; 16],
}

const _: [(); 22] = [(); core::mem::size_of::<ManifestFixed>()];
const _: [(); 25] = [(); core::mem::size_of::<DirectoryEntry>()];
const _: [(); 68] = [(); core::mem::size_of::<FileIdentity>()];
const _: [(); 24] = [(); core::mem::size_of::<SegmentHashEntry>()];

/// A parsed MANIFEST_SEG payload, borrowed.
#[derive(Clone, Copy, Debug)]
pub struct Manifest<'a> {
    offset: u64,
    fixed: &'a ManifestFixed,
    directory: &'a [DirectoryEntry],
    deleted: &'a [U64],
    identity: Option<&'a FileIdentity>,
    segment_hashes: Option<&'a [SegmentHashEntry]>,
}

impl<'a> Manifest<'a> {
    /// Parses the payload of the MANIFEST_SEG whose header is at `offset`.
    ///
    /// # Errors
    /// [`Error::ManifestMalformed`] naming the field and its payload offset;
    /// [`Error::TooManyDirectoryEntries`].
    pub fn parse(payload: &'a [u8], offset: u64) -> Result<Self> {
        let bad = |field: ManifestField, at: usize| Error::ManifestMalformed {
            offset,
            field,
            at: u64_from(at),
        };
        let (fixed, rest) =
            ManifestFixed::ref_from_prefix(payload).map_err(|_| bad(ManifestField::Header, 0))?;
        let count = fixed.seg_count.get();
        if count > MAX_DIRECTORY_ENTRIES {
            return Err(Error::TooManyDirectoryEntries {
                offset,
                count,
                limit: MAX_DIRECTORY_ENTRIES,
            });
        }
        let mut at: usize = core::mem::size_of::<ManifestFixed>();
        let n = usize_from(u64::from(count)).ok_or(bad(ManifestField::SegCount, 14))?;
        let (directory, rest) = <[DirectoryEntry]>::ref_from_prefix_with_elems(rest, n)
            .map_err(|_| bad(ManifestField::Directory, at))?;
        at = at.saturating_add(core::mem::size_of_val(directory));
        let (del_count, rest) =
            U32::ref_from_prefix(rest).map_err(|_| bad(ManifestField::DelCount, at))?;
        let dn = usize_from(u64::from(del_count.get())).ok_or(bad(ManifestField::DelCount, at))?;
        at = at.saturating_add(4);
        let (deleted, mut rest) = <[U64]>::ref_from_prefix_with_elems(rest, dn)
            .map_err(|_| bad(ManifestField::DeletedIds, at))?;
        at = at.saturating_add(core::mem::size_of_val(deleted));

        let mut identity = None;
        let mut segment_hashes = None;
        if le_u32(rest, 0) == Some(FIDI_TAG) {
            let body = rest.get(4..).unwrap_or(&[]);
            let (id, r) = FileIdentity::ref_from_prefix(body)
                .map_err(|_| bad(ManifestField::FidiTrailer, at))?;
            identity = Some(id);
            rest = r;
            at = at
                .saturating_add(4)
                .saturating_add(core::mem::size_of::<FileIdentity>());
        }
        if le_u32(rest, 0) == Some(SHDG_TAG) {
            let m = le_u32(rest, 4).ok_or(bad(ManifestField::ShdgCount, at.saturating_add(4)))?;
            if m != count {
                return Err(bad(ManifestField::ShdgCount, at.saturating_add(4)));
            }
            let body = range(rest, 8, u64_from(rest.len()).saturating_sub(8)).unwrap_or(&[]);
            let (hashes, r) = <[SegmentHashEntry]>::ref_from_prefix_with_elems(body, n)
                .map_err(|_| bad(ManifestField::ShdgEntries, at.saturating_add(8)))?;
            for (i, (h, d)) in hashes.iter().zip(directory.iter()).enumerate() {
                if h.segment_id.get() != d.segment_id.get() {
                    let entry_at = i.saturating_mul(24).saturating_add(at).saturating_add(8);
                    return Err(bad(ManifestField::ShdgSegmentId, entry_at));
                }
            }
            segment_hashes = Some(hashes);
            rest = r;
            at = at
                .saturating_add(8)
                .saturating_add(core::mem::size_of_val(hashes));
        }
        if !rest.is_empty() {
            return Err(bad(ManifestField::UnknownTrailer, at));
        }
        Ok(Self {
            offset,
            fixed,
            directory,
            deleted,
            identity,
            segment_hashes,
        })
    }

    /// Header offset of this MANIFEST_SEG.
    #[must_use]
    pub const fn offset(&self) -> u64 {
        self.offset
    }

    /// The epoch.
    #[must_use]
    pub fn epoch(&self) -> u32 {
        self.fixed.epoch.get()
    }

    /// The fixed fields (dimension, total_vectors, profile_id, metric).
    #[must_use]
    pub const fn fixed(&self) -> &'a ManifestFixed {
        self.fixed
    }

    /// The directory, in order.
    #[must_use]
    pub const fn entries(&self) -> &'a [DirectoryEntry] {
        self.directory
    }

    /// Deleted vector ids.
    pub fn deleted_ids(&self) -> impl Iterator<Item = u64> + 'a {
        self.deleted.iter().map(|v| v.get())
    }

    /// The FIDI trailer, if present (rvf-runtime always writes it; RuvBot never).
    #[must_use]
    pub const fn identity(&self) -> Option<&'a FileIdentity> {
        self.identity
    }

    /// The SHDG trailer (signed stores): one committed hash per directory entry.
    #[must_use]
    pub const fn segment_hashes(&self) -> Option<&'a [SegmentHashEntry]> {
        self.segment_hashes
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::vec::Vec;

    /// A manifest payload listing `(id, offset, len, type)` entries (the test
    /// kit's builder).
    pub(crate) fn payload(epoch: u32, entries: &[(u64, u64, u64, u8)]) -> Vec<u8> {
        rvf_testkit::build::manifest_epoch(epoch, entries)
    }

    #[test]
    fn parses_directory() {
        let p = payload(3, &[(1, 0, 10, 0x0E), (2, 74, 5, 0x10)]);
        let m = Manifest::parse(&p, 200).unwrap();
        assert_eq!(m.epoch(), 3);
        assert_eq!(m.entries().len(), 2);
        assert_eq!(m.entries()[1].offset.get(), 74);
        assert_eq!(m.entries()[1].seg_type, 0x10);
        assert!(m.identity().is_none());
    }

    #[test]
    fn fidi_and_shdg_trailers() {
        let mut p = payload(1, &[(9, 0, 10, 0x0E)]);
        p.extend_from_slice(&FIDI_TAG.to_le_bytes());
        p.extend_from_slice(&[0xAB; 68]);
        p.extend_from_slice(&SHDG_TAG.to_le_bytes());
        p.extend_from_slice(&1u32.to_le_bytes());
        p.extend_from_slice(&9u64.to_le_bytes());
        p.extend_from_slice(&[0xCD; 16]);
        let m = Manifest::parse(&p, 0).unwrap();
        assert_eq!(m.identity().unwrap().file_id, [0xAB; 16]);
        assert_eq!(m.segment_hashes().unwrap()[0].content_hash, [0xCD; 16]);
        // SHDG id that disagrees with the directory.
        let n = p.len();
        p[n - 24] = 8;
        assert_eq!(
            Manifest::parse(&p, 0).unwrap_err(),
            Error::ManifestMalformed {
                offset: 0,
                field: ManifestField::ShdgSegmentId,
                at: 22 + 25 + 4 + 72 + 8
            }
        );
    }

    #[test]
    fn malformed_fields_are_named() {
        let p = payload(1, &[(1, 0, 10, 0x0E)]);
        assert_eq!(
            Manifest::parse(&p[..30], 64).unwrap_err(),
            Error::ManifestMalformed {
                offset: 64,
                field: ManifestField::Directory,
                at: 22
            }
        );
        assert_eq!(
            Manifest::parse(&p[..48], 64).unwrap_err(),
            Error::ManifestMalformed {
                offset: 64,
                field: ManifestField::DelCount,
                at: 47
            }
        );
        let mut q = p.clone();
        q.push(1);
        assert_eq!(
            Manifest::parse(&q, 64).unwrap_err(),
            Error::ManifestMalformed {
                offset: 64,
                field: ManifestField::UnknownTrailer,
                at: 51
            }
        );
        let mut big = payload(1, &[]);
        big[14..18].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            Manifest::parse(&big, 0).unwrap_err(),
            Error::TooManyDirectoryEntries {
                offset: 0,
                count: u32::MAX,
                limit: MAX_DIRECTORY_ENTRIES
            }
        );
        let mut dels = payload(1, &[]);
        let n = dels.len();
        dels[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            Manifest::parse(&dels, 0).unwrap_err(),
            Error::ManifestMalformed {
                offset: 0,
                field: ManifestField::DeletedIds,
                at: 26
            }
        );
    }
}
