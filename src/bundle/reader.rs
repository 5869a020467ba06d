//! The WASM_SEG reader and the RuvBot file bundle (the `ruvbot` feature):
//! the header in both layouts, the bundle's file table and its files.

use crate::bytes::{le_u16, le_u32, le_u64, range, u64_from};
use crate::checksum::{ContentHash, HashCheck, ct_eq};
use crate::container::Container;
use crate::error::{Error, Result, Structure};
use crate::image_hash::RvfRuntimeChecksum;
use crate::segment::seg_type;
use core::cmp::Ordering;
use sha2::{Digest, Sha256};

use super::{BytecodeHash, EntryField, PathProblem};

/// `"RVWM"` as a little-endian u32 (wire bytes `4D 57 56 52`).
pub const WASM_MAGIC: u32 = 0x5256_574D;
/// Size of the WASM header.
pub(crate) const WASM_HEADER_SIZE: u64 = 64;
/// The most files a bundle may list (a bound on work per iteration pass).
pub const MAX_BUNDLE_FILES: u32 = 65_536;
/// The longest path a bundle entry may have, in bytes (Linux `PATH_MAX`
/// without its NUL).
pub const MAX_BUNDLE_PATH: u16 = 4095;
/// The longest component of a bundle path, in bytes (Linux `NAME_MAX`).
pub const MAX_PATH_COMPONENT: usize = 255;
/// The most sorted runs a bundle's file table may consist of. Paths are
/// compared component by component (bytes within a component); build-rvf.js
/// lists `dist/**` in that order (node's `readdirSync` sorts), then `bin/**`,
/// then `package.json`: at most three runs. Duplicates and file/directory
/// clashes are found by merging the runs, with one cursor per run: linear
/// work, no heap.
pub const MAX_BUNDLE_RUNS: usize = 4;
/// The first path component a bundle may not use: the extractor writes the
/// META, PROFILE and WITNESS payloads under it.
pub const RESERVED_DIR: &[u8] = b".rvf";
/// The file name a WASM module (crate writers) is handed out as.
pub const MODULE_FILE: &[u8] = b"module.wasm";
const WASM_MODULE_MAGIC: [u8; 4] = [0x00, 0x61, 0x73, 0x6D];
/// Size of a file-table entry before its path.
const ENTRY_FIXED_SIZE: u64 = 18;

/// Checks one bundle path: relative, components neither empty nor `.` nor
/// `..`, no NUL, no backslash, at most [`MAX_BUNDLE_PATH`] bytes and
/// [`MAX_PATH_COMPONENT`] per component, not under [`RESERVED_DIR`]. O(len).
///
/// # Errors
/// The first problem found.
pub fn check_path(path: &[u8]) -> core::result::Result<(), PathProblem> {
    if path.is_empty() {
        return Err(PathProblem::Empty);
    }
    if path.len() > usize::from(MAX_BUNDLE_PATH) {
        return Err(PathProblem::TooLong);
    }
    if path.first() == Some(&b'/') {
        return Err(PathProblem::Absolute);
    }
    if path.contains(&0) {
        return Err(PathProblem::Nul);
    }
    if path.contains(&b'\\') {
        return Err(PathProblem::Backslash);
    }
    for (i, c) in path.split(|&b| b == b'/').enumerate() {
        match c {
            b"" => return Err(PathProblem::EmptyComponent),
            b"." => return Err(PathProblem::DotComponent),
            b".." => return Err(PathProblem::DotDotComponent),
            c if c.len() > MAX_PATH_COMPONENT => return Err(PathProblem::ComponentTooLong),
            c if i == 0 && c == RESERVED_DIR => return Err(PathProblem::Reserved),
            _ => {}
        }
    }
    Ok(())
}

/// Compares two checked paths component by component (bytes within a
/// component), and says whether `a`'s components are a proper prefix of
/// `b`'s (then `a` would be both a file and a directory).
fn relate(a: &[u8], b: &[u8]) -> (Ordering, bool) {
    let mut x = a.split(|&c| c == b'/');
    let mut y = b.split(|&c| c == b'/');
    loop {
        match (x.next(), y.next()) {
            (None, None) => return (Ordering::Equal, false),
            (None, Some(_)) => return (Ordering::Less, true),
            (Some(_), None) => return (Ordering::Greater, false),
            (Some(p), Some(q)) => match p.cmp(q) {
                Ordering::Equal => {}
                o => return (o, false),
            },
        }
    }
}

/// What the WASM_SEG body is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WasmBody<'a> {
    /// A WASM module (crate writers); the header is the rvf-types layout.
    Module(&'a [u8]),
    /// A RuvBot Node.js file bundle; the header is the build-rvf.js layout.
    Bundle(Bundle<'a>),
}

/// A parsed WASM_SEG payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WasmSegment<'a> {
    /// The raw 64-byte header.
    pub header: &'a [u8],
    /// Role code (0x06).
    pub role: u8,
    /// Target code (0x07).
    pub target: u8,
    /// The 32-byte bytecode hash (offset by layout).
    pub bytecode_hash: &'a [u8; 32],
    /// The body.
    pub body: WasmBody<'a>,
}

/// The WASM header checked, the body not yet looked into.
struct RawWasm<'a> {
    header: &'a [u8],
    body: &'a [u8],
    module: bool,
    bytecode_hash: &'a [u8; 32],
}

impl<'a> RawWasm<'a> {
    fn parse(payload: &'a [u8], offset: u64) -> Result<Self> {
        let base = offset.saturating_add(crate::segment::SEGMENT_HEADER_SIZE);
        let header =
            crate::bytes::slice(payload, base, 0, WASM_HEADER_SIZE, Structure::WasmHeader)?;
        let magic = le_u32(header, 0).unwrap_or(0);
        if magic != WASM_MAGIC {
            return Err(Error::BadMagic {
                structure: Structure::WasmHeader,
                offset: base,
                found: magic,
            });
        }
        let version = le_u16(header, 4).unwrap_or(0);
        if version != 1 {
            return Err(Error::UnsupportedVersion {
                structure: Structure::WasmHeader,
                offset: base,
                version,
            });
        }
        let body = payload.get(64..).unwrap_or(&[]);
        let size = u64::from(le_u32(header, 0x0C).unwrap_or(0));
        if size != u64_from(body.len()) {
            return Err(Error::WasmBodySize {
                offset,
                declared: size,
                actual: u64_from(body.len()),
            });
        }
        let module = body.starts_with(&WASM_MODULE_MAGIC);
        let hash_at = if module { 0x18 } else { 0x1C };
        // `header` has WASM_HEADER_SIZE bytes, so this cannot fail; stay total.
        let bytecode_hash = range(header, hash_at, 32)
            .and_then(|h| h.try_into().ok())
            .ok_or(Error::Truncated {
                structure: Structure::WasmHeader,
                offset: base,
                needed: WASM_HEADER_SIZE,
                available: u64_from(header.len()),
            })?;
        Ok(Self {
            header,
            body,
            module,
            bytecode_hash,
        })
    }

    fn segment(self, body: WasmBody<'a>) -> WasmSegment<'a> {
        WasmSegment {
            header: self.header,
            role: self.header.get(6).copied().unwrap_or(0),
            target: self.header.get(7).copied().unwrap_or(0),
            bytecode_hash: self.bytecode_hash,
            body,
        }
    }
}

impl<'a> WasmSegment<'a> {
    /// Parses the payload of the WASM_SEG whose header is at `offset`. Checks
    /// the structure (for a bundle: the whole file table, as
    /// [`Bundle::parse`]), not the hashes: [`VerifiedBundle`] does both.
    ///
    /// # Errors
    /// [`Error::Truncated`], [`Error::BadMagic`], [`Error::UnsupportedVersion`]
    /// for the header; [`Error::WasmBodySize`] when the body length disagrees
    /// with the header; the [`Bundle::parse`] errors for a RuvBot bundle.
    pub fn parse(payload: &'a [u8], offset: u64) -> Result<Self> {
        let raw = RawWasm::parse(payload, offset)?;
        let body = if raw.module {
            WasmBody::Module(raw.body)
        } else {
            WasmBody::Bundle(Bundle::parse(raw.body)?)
        };
        Ok(raw.segment(body))
    }

    /// For a RuvBot bundle: whether `bytecode_hash` is the SHA-256 of the
    /// bundle (constant-time compare). `None` for a WASM module, whose hash is
    /// rvf-runtime's non-cryptographic checksum.
    #[must_use]
    pub fn bundle_hash_ok(&self) -> Option<bool> {
        match self.body {
            WasmBody::Bundle(b) => Some(ct_eq(&Sha256::digest(b.bytes), self.bytecode_hash)),
            WasmBody::Module(_) => None,
        }
    }
}

/// A WASM_SEG's runtime, verified: what the extractor writes.
///
/// Holding one proves, in this order: the segment is listed by the winning
/// manifest and passed the container's gate (header fields, content hash
/// under the policy, and whatever else the gate checks); the WASM header
/// parsed and its `bytecode_hash` matched the body (SHA-256 for a RuvBot
/// bundle, rvf-runtime's checksum for a module; constant-time), before the
/// file table was read; and every table entry passed [`Bundle::parse`]
/// (bounds, paths, no overlap, no duplicate). No public constructor.
///
/// Under a policy with a signature ([`crate::Policy::requiring_signature`]),
/// the WASM_SEG and the META, PROFILE and WITNESS payloads
/// ([`Self::metadata`]) are each a segment the signed manifest's SHDG table
/// commits to (the kernel's check, [`Container::listed`]); under a bundle pin
/// ([`crate::Policy::pinning_bundle_sha256`]) the SHA-256 of the bundle's
/// bytes is the pinned digest (constant-time). All of it is checked by
/// [`Self::from_container`], before any byte is handed out.
#[derive(Clone, Copy, Debug)]
pub struct VerifiedBundle<'a> {
    segment_offset: u64,
    segment_hash: HashCheck,
    wasm: WasmSegment<'a>,
    bytecode: BytecodeHash,
    sha256: [u8; 32],
    pinned: Option<[u8; 32]>,
    metadata: [Option<&'a [u8]>; 3],
}

/// The segment types whose payloads travel with the runtime
/// ([`VerifiedBundle::metadata`]), in the order they are checked: META,
/// PROFILE, WITNESS.
pub const METADATA_TYPES: [u8; 3] = [seg_type::META, seg_type::PROFILE, seg_type::WITNESS];

impl<'a> VerifiedBundle<'a> {
    /// Verifies the first WASM_SEG the winning manifest lists.
    ///
    /// # Errors
    /// [`Error::NoRuntime`] when none is listed; the gate's errors
    /// ([`Container::listed`]: in a signed store, the SHDG commitment's
    /// [`crate::policy::AuthProblem`]s); the WASM header's
    /// ([`WasmSegment::parse`]); [`Error::BytecodeHashMismatch`],
    /// [`Error::BytecodeHashUnset`]; [`crate::policy::AuthProblem::BundlePin`];
    /// the [`Bundle::parse`] errors; then the gate's errors for the first
    /// listed META, PROFILE and WITNESS segments, in that order.
    pub fn from_container(c: &Container<'a>) -> Result<Self> {
        let seg = c
            .listed(seg_type::WASM)
            .next()
            .unwrap_or(Err(Error::NoRuntime))?;
        // The gate passed: what it verified under follows from the header
        // (an all-zero hash is unset; algo 0 is the file's writer's hash).
        let h = &seg.header;
        let segment_hash = if crate::bytes::all_zero(&h.content_hash) {
            HashCheck::Unset
        } else if h.checksum_algo == 0 {
            HashCheck::Verified(c.algo0())
        } else {
            ContentHash::candidates(h.checksum_algo)
                .and_then(|a| a.first().copied())
                .map_or(HashCheck::Unset, HashCheck::Verified)
        };
        let raw = RawWasm::parse(seg.payload, seg.offset)?;
        // The bundle's SHA-256: a RuvBot header's `bytecode_hash`, and the
        // digest a bundle pin names (any dialect).
        let sha256: [u8; 32] = Sha256::digest(raw.body).into();
        let computed: [u8; 32] = if raw.module {
            let mut h = RvfRuntimeChecksum::new();
            h.update(raw.body);
            h.finalize()
        } else {
            sha256
        };
        let bytecode = if ct_eq(&computed, raw.bytecode_hash) {
            if raw.module {
                BytecodeHash::RvfRuntime
            } else {
                BytecodeHash::Sha256
            }
        } else if crate::bytes::all_zero(raw.bytecode_hash) {
            if !c.policy().allow_unset_hash {
                return Err(Error::BytecodeHashUnset { offset: seg.offset });
            }
            BytecodeHash::Unset
        } else {
            return Err(Error::BytecodeHashMismatch {
                offset: seg.offset,
                algo: if raw.module {
                    BytecodeHash::RvfRuntime
                } else {
                    BytecodeHash::Sha256
                },
            });
        };
        let pinned = c.policy().check_bundle(seg.offset, &sha256)?;
        let body = if raw.module {
            WasmBody::Module(raw.body)
        } else {
            WasmBody::Bundle(Bundle::parse(raw.body)?)
        };
        // The metadata payloads, each through the same gate (and, in a
        // signed store, its SHDG commitment): the first listed of each type.
        let mut metadata = [None; 3];
        for (slot, ty) in metadata.iter_mut().zip(METADATA_TYPES) {
            *slot = c.listed(ty).next().transpose()?.map(|s| s.payload);
        }
        Ok(Self {
            segment_offset: seg.offset,
            segment_hash,
            wasm: raw.segment(body),
            bytecode,
            sha256,
            pinned,
            metadata,
        })
    }

    /// The SHA-256 of the bundle's bytes (the WASM_SEG body), what a bundle
    /// pin is compared with.
    #[must_use]
    pub const fn sha256(&self) -> [u8; 32] {
        self.sha256
    }

    /// The digest the policy's bundle pin named (it matched), if it had one.
    #[must_use]
    pub const fn pinned(&self) -> Option<[u8; 32]> {
        self.pinned
    }

    /// The payload of the first META, PROFILE or WITNESS segment (`ty`, one
    /// of [`METADATA_TYPES`]) the manifest lists, verified as the runtime
    /// is; `None` when there is none or `ty` is another type.
    #[must_use]
    pub fn metadata(&self, ty: u8) -> Option<&'a [u8]> {
        METADATA_TYPES
            .iter()
            .zip(self.metadata)
            .find(|(t, _)| **t == ty)
            .and_then(|(_, m)| m)
    }

    /// Header offset of the WASM_SEG.
    #[must_use]
    pub const fn segment_offset(&self) -> u64 {
        self.segment_offset
    }

    /// How the segment's content hash checked.
    #[must_use]
    pub const fn segment_hash(&self) -> HashCheck {
        self.segment_hash
    }

    /// How `bytecode_hash` checked.
    #[must_use]
    pub const fn bytecode_hash(&self) -> BytecodeHash {
        self.bytecode
    }

    /// The WASM header and body.
    #[must_use]
    pub const fn wasm(&self) -> &WasmSegment<'a> {
        &self.wasm
    }

    /// Whether the runtime is a RuvBot Node bundle (else a WASM module).
    #[must_use]
    pub const fn is_node_bundle(&self) -> bool {
        matches!(self.wasm.body, WasmBody::Bundle(_))
    }

    /// Number of files [`Self::files`] yields (1 for a module).
    #[must_use]
    pub const fn len(&self) -> u32 {
        match self.wasm.body {
            WasmBody::Bundle(b) => b.count,
            WasmBody::Module(_) => 1,
        }
    }

    /// Whether there is no file (an empty bundle).
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The files, in table order; a WASM module is one file, [`MODULE_FILE`].
    #[must_use]
    pub const fn files(&self) -> VerifiedFiles<'a> {
        match self.wasm.body {
            WasmBody::Bundle(b) => VerifiedFiles {
                files: Some(b.files_unverified()),
                module: None,
            },
            WasmBody::Module(m) => VerifiedFiles {
                files: None,
                module: Some(m),
            },
        }
    }

    /// The file at `path`, if the runtime has one. O(table).
    #[must_use]
    pub fn file(&self, path: &[u8]) -> Option<&'a [u8]> {
        self.files().find(|f| f.path == path).map(|f| f.data)
    }
}

/// Iterator over a [`VerifiedBundle`]'s files.
#[derive(Clone, Debug)]
pub struct VerifiedFiles<'a> {
    files: Option<BundleFiles<'a>>,
    module: Option<&'a [u8]>,
}

impl<'a> Iterator for VerifiedFiles<'a> {
    type Item = BundleFile<'a>;

    fn next(&mut self) -> Option<BundleFile<'a>> {
        if let Some(m) = self.module.take() {
            return Some(BundleFile {
                path: MODULE_FILE,
                data: m,
            });
        }
        self.files.as_mut()?.next()
    }
}

/// A RuvBot Node.js bundle: `file_count u32`, then per file `path_len u16,
/// data_offset u64, data_size u64, path`, then the file data. Offsets count
/// from the bundle start. Every entry is checked when the bundle is parsed,
/// so iteration cannot fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bundle<'a> {
    bytes: &'a [u8],
    count: u32,
}

/// One file of a [`Bundle`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BundleFile<'a> {
    /// The path as stored (UTF-8 per the writer; not checked).
    pub path: &'a [u8],
    /// The file's bytes.
    pub data: &'a [u8],
}

impl<'a> Bundle<'a> {
    /// Parses and checks every entry of the file table, in three linear
    /// passes and without storage:
    /// 1. structure: `file_count` ≤ [`MAX_BUNDLE_FILES`]; every entry's
    ///    fields and data range lie inside the bundle (a count larger than
    ///    the table stops at the first entry that runs past the end);
    /// 2. each path passes [`check_path`]; data ranges follow the table and
    ///    each other in table order (`data_offset` ≥ the previous file's end,
    ///    the first ≥ the table's end: no overlap; build-rvf.js writes them
    ///    back to back); the table splits into at most [`MAX_BUNDLE_RUNS`]
    ///    runs sorted by path (component order); neighbours in a run are
    ///    checked for duplicates and file/directory clashes;
    /// 3. with more than one run, the runs are merged (one cursor each) and
    ///    neighbours in the merged order are checked the same way.
    ///
    /// Work: O(table bytes × [`MAX_BUNDLE_RUNS`]).
    ///
    /// # Errors
    /// [`Error::BundleTruncated`] when `bytes` has no 4-byte `file_count`;
    /// [`Error::TooManyBundleFiles`] over [`MAX_BUNDLE_FILES`];
    /// [`Error::BundleEntry`] naming the entry, field and bundle offset;
    /// [`Error::BundlePath`], [`Error::BundleOverlap`],
    /// [`Error::BundleUnsorted`], [`Error::BundleDuplicatePath`],
    /// [`Error::BundlePathConflict`].
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        let length = u64_from(bytes.len());
        let count = le_u32(bytes, 0).ok_or(Error::BundleTruncated { length })?;
        if count > MAX_BUNDLE_FILES {
            return Err(Error::TooManyBundleFiles {
                count,
                limit: MAX_BUNDLE_FILES,
            });
        }
        let b = Self { bytes, count };
        // 1. Structure.
        let mut at = 4u64;
        for i in 0..count {
            let (_, next) = b.entry(i, at)?;
            at = next;
        }
        // 2. Paths, data order, runs.
        let mut previous_end = at;
        let mut runs = [(0u32, 4u64); MAX_BUNDLE_RUNS];
        let mut run_count = 0usize;
        let mut previous: Option<(u32, &[u8])> = None;
        let mut at = 4u64;
        for i in 0..count {
            let (f, next) = b.entry(i, at)?;
            check_path(f.path).map_err(|problem| Error::BundlePath {
                entry: i,
                at,
                problem,
            })?;
            let data_offset = le_u64(bytes, at.saturating_add(2)).unwrap_or(0);
            if data_offset < previous_end {
                return Err(Error::BundleOverlap {
                    entry: i,
                    data_offset,
                    previous_end,
                });
            }
            previous_end = data_offset.saturating_add(u64_from(f.data.len()));
            let new_run = match previous {
                None => true,
                Some((p, path)) => match relate(path, f.path) {
                    (Ordering::Less, false) => false,
                    (Ordering::Less, true) => {
                        return Err(Error::BundlePathConflict { entry: i, file: p });
                    }
                    (Ordering::Equal, _) => {
                        return Err(Error::BundleDuplicatePath { entry: i, first: p });
                    }
                    (Ordering::Greater, _) => true,
                },
            };
            if new_run {
                let slot = runs.get_mut(run_count).ok_or(Error::BundleUnsorted {
                    entry: i,
                    limit: MAX_BUNDLE_RUNS,
                })?;
                *slot = (i, at);
                run_count = run_count.saturating_add(1);
            }
            previous = Some((i, f.path));
            at = next;
        }
        // 3. Merge the runs.
        if run_count > 1 {
            b.merge_check(&runs, run_count)?;
        }
        Ok(b)
    }

    /// Walks the table's sorted runs in merged path order (one cursor per
    /// run) and checks each path against the one before it.
    fn merge_check(&self, runs: &[(u32, u64); MAX_BUNDLE_RUNS], n: usize) -> Result<()> {
        // Cursor k: next entry index, its table offset, the run's end index.
        let mut cursors = [(0u32, 0u64, 0u32); MAX_BUNDLE_RUNS];
        for k in 0..n {
            let (start, at) = runs.get(k).copied().unwrap_or((0, 0));
            let end = runs
                .get(k.saturating_add(1))
                .filter(|_| k.saturating_add(1) < n)
                .map_or(self.count, |r| r.0);
            if let Some(c) = cursors.get_mut(k) {
                *c = (start, at, end);
            }
        }
        let active = cursors.get(..n).unwrap_or(&[]).len();
        let mut previous: Option<(u32, &[u8])> = None;
        loop {
            // The smallest head among the cursors not yet exhausted.
            let mut best: Option<(usize, BundleFile<'a>, u32, u64)> = None;
            for k in 0..active {
                let Some(&(i, at, end)) = cursors.get(k) else {
                    continue;
                };
                if i >= end {
                    continue;
                }
                let (f, next) = self.entry(i, at)?;
                let better = match &best {
                    None => true,
                    Some((_, g, _, _)) => relate(f.path, g.path).0 == Ordering::Less,
                };
                if better {
                    best = Some((k, f, i, next));
                }
            }
            let Some((k, f, i, next)) = best else {
                return Ok(());
            };
            if let Some(c) = cursors.get_mut(k) {
                c.0 = i.saturating_add(1);
                c.1 = next;
            }
            if let Some((p, path)) = previous {
                match relate(path, f.path) {
                    (Ordering::Equal, _) => {
                        return Err(Error::BundleDuplicatePath {
                            entry: i.max(p),
                            first: i.min(p),
                        });
                    }
                    (_, true) => {
                        return Err(Error::BundlePathConflict { entry: i, file: p });
                    }
                    _ => {}
                }
            }
            previous = Some((i, f.path));
        }
    }

    /// Reads the entry `i` at table offset `at`: the file and the next entry's offset.
    fn entry(&self, i: u32, at: u64) -> Result<(BundleFile<'a>, u64)> {
        let bad = |field: EntryField| Error::BundleEntry {
            entry: i,
            field,
            at,
        };
        let path_len = le_u16(self.bytes, at).ok_or(bad(EntryField::PathLen))?;
        let data_offset =
            le_u64(self.bytes, at.saturating_add(2)).ok_or(bad(EntryField::DataOffset))?;
        let data_size =
            le_u64(self.bytes, at.saturating_add(10)).ok_or(bad(EntryField::DataSize))?;
        let path_at = at.saturating_add(ENTRY_FIXED_SIZE);
        let path = range(self.bytes, path_at, u64::from(path_len)).ok_or(bad(EntryField::Path))?;
        let data = range(self.bytes, data_offset, data_size).ok_or(bad(EntryField::Data))?;
        let next = path_at.saturating_add(u64::from(path_len));
        Ok((BundleFile { path, data }, next))
    }

    /// Number of files.
    #[must_use]
    pub const fn len(&self) -> u32 {
        self.count
    }

    /// Whether the bundle lists no files.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The whole bundle.
    #[must_use]
    pub const fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The files, in table order. The table is checked, the bytes are not
    /// yet authenticated: extract through [`VerifiedBundle::files`], which
    /// checked the segment's content hash and the bundle's SHA-256 first.
    #[must_use]
    pub const fn files_unverified(&self) -> BundleFiles<'a> {
        BundleFiles {
            bundle: *self,
            next: 0,
            at: 4,
        }
    }
}

/// Iterator over a [`Bundle`]'s files.
#[derive(Clone, Debug)]
pub struct BundleFiles<'a> {
    bundle: Bundle<'a>,
    next: u32,
    at: u64,
}

impl<'a> Iterator for BundleFiles<'a> {
    type Item = BundleFile<'a>;

    fn next(&mut self) -> Option<BundleFile<'a>> {
        if self.next >= self.bundle.count {
            return None;
        }
        // Every entry was checked by `Bundle::parse`.
        let (file, at) = self.bundle.entry(self.next, self.at).ok()?;
        self.next = self.next.saturating_add(1);
        self.at = at;
        Some(file)
    }
}
