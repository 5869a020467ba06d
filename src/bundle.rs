//! WASM_SEG payloads (§5): the 64-byte WASM header in both writers' layouts,
//! and the RuvBot Node.js file bundle as a borrowed iterator of files.
//!
//! The two headers agree up to 0x16 and differ after it: rvf-types has u8
//! `max_memory_pages`/`table_count` and the 32-byte hash at 0x18; build-rvf.js
//! has u16 fields and the hash (SHA-256 of the bundle) at 0x1C. The body's
//! magic tells them apart: `00 61 73 6D` is a WASM module (crate writers),
//! anything else is read as a RuvBot bundle.

use crate::bytes::{le_u16, le_u32, le_u64, range, u64_from};
use crate::checksum::ct_eq;
use crate::error::{Error, Result, Structure};
use core::fmt;
use sha2::{Digest, Sha256};

/// `"RVWM"` as a little-endian u32 (wire bytes `4D 57 56 52`).
pub const WASM_MAGIC: u32 = 0x5256_574D;
/// Size of the WASM header.
pub(crate) const WASM_HEADER_SIZE: u64 = 64;
/// The most files a bundle may list (a bound on work per iteration pass).
pub const MAX_BUNDLE_FILES: u32 = 65_536;
const WASM_MODULE_MAGIC: [u8; 4] = [0x00, 0x61, 0x73, 0x6D];
/// Size of a file-table entry before its path.
const ENTRY_FIXED_SIZE: u64 = 18;

/// A bundle file-table field that runs past the end of the bundle
/// ([`Error::BundleEntry`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntryField {
    /// The u16 `path_len` at the entry's start.
    PathLen,
    /// The u64 `data_offset` at entry byte 2.
    DataOffset,
    /// The u64 `data_size` at entry byte 10.
    DataSize,
    /// The `path_len`-byte path at entry byte 18.
    Path,
    /// The file data `data_offset .. data_offset + data_size`.
    Data,
}

impl EntryField {
    /// The field as messages name it.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::PathLen => "path_len",
            Self::DataOffset => "data_offset",
            Self::DataSize => "data_size",
            Self::Path => "path",
            Self::Data => "data_offset/data_size",
        }
    }
}

impl fmt::Display for EntryField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
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

impl<'a> WasmSegment<'a> {
    /// Parses the payload of the WASM_SEG whose header is at `offset`.
    ///
    /// # Errors
    /// [`Error::Truncated`], [`Error::BadMagic`], [`Error::UnsupportedVersion`]
    /// for the header; [`Error::WasmBodySize`] when the body length disagrees
    /// with the header; the [`Bundle::parse`] errors for a RuvBot bundle.
    pub fn parse(payload: &'a [u8], offset: u64) -> Result<Self> {
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
        let (hash_at, body) = if body.starts_with(&WASM_MODULE_MAGIC) {
            (0x18, WasmBody::Module(body))
        } else {
            (0x1C, WasmBody::Bundle(Bundle::parse(body)?))
        };
        // `header` has WASM_HEADER_SIZE bytes, so this cannot fail; stay total.
        let bytecode_hash = range(header, hash_at, 32)
            .and_then(|h| h.try_into().ok())
            .ok_or(Error::Truncated {
                structure: Structure::WasmHeader,
                offset: base,
                needed: WASM_HEADER_SIZE,
                available: u64_from(header.len()),
            })?;
        let role = header.get(6).copied().unwrap_or(0);
        let target = header.get(7).copied().unwrap_or(0);
        Ok(Self {
            header,
            role,
            target,
            bytecode_hash,
            body,
        })
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
    /// Parses and checks every entry of the file table.
    ///
    /// # Errors
    /// [`Error::BundleTruncated`] when `bytes` has no 4-byte `file_count`;
    /// [`Error::TooManyBundleFiles`] over [`MAX_BUNDLE_FILES`];
    /// [`Error::BundleEntry`] naming the entry, field and bundle offset.
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        let count = le_u32(bytes, 0).ok_or(Error::BundleTruncated {
            length: u64_from(bytes.len()),
        })?;
        if count > MAX_BUNDLE_FILES {
            return Err(Error::TooManyBundleFiles {
                count,
                limit: MAX_BUNDLE_FILES,
            });
        }
        let b = Self { bytes, count };
        let mut at = 4u64;
        for i in 0..count {
            let (_, next) = b.entry(i, at)?;
            at = next;
        }
        Ok(b)
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

    /// The files, in table order.
    #[must_use]
    pub const fn files(&self) -> BundleFiles<'a> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn bundle(files: &[(&str, &[u8])]) -> Vec<u8> {
        let table: usize = files.iter().map(|(p, _)| 18 + p.len()).sum();
        let mut v = (files.len() as u32).to_le_bytes().to_vec();
        let mut data_at = (4 + table) as u64;
        for (p, d) in files {
            v.extend_from_slice(&(p.len() as u16).to_le_bytes());
            v.extend_from_slice(&data_at.to_le_bytes());
            v.extend_from_slice(&(d.len() as u64).to_le_bytes());
            v.extend_from_slice(p.as_bytes());
            data_at += d.len() as u64;
        }
        for (_, d) in files {
            v.extend_from_slice(d);
        }
        v
    }

    #[test]
    fn iterates_files() {
        let b = bundle(&[("dist/index.js", b"hi"), ("package.json", b"{}")]);
        let p = Bundle::parse(&b).unwrap();
        let files: Vec<_> = p.files().collect();
        assert_eq!(files.len(), 2);
        assert_eq!(
            files[0],
            BundleFile {
                path: b"dist/index.js",
                data: b"hi"
            }
        );
        assert_eq!(
            files[1],
            BundleFile {
                path: b"package.json",
                data: b"{}"
            }
        );
    }

    #[test]
    fn bad_entries_are_named() {
        let mut b = bundle(&[("a", b"x")]);
        b[6..14].copy_from_slice(&u64::MAX.to_le_bytes()); // data_offset
        assert_eq!(
            Bundle::parse(&b).unwrap_err(),
            Error::BundleEntry {
                entry: 0,
                field: EntryField::Data,
                at: 4
            }
        );
        let b = bundle(&[("abc", b"x")]);
        assert_eq!(
            Bundle::parse(&b[..24]).unwrap_err(),
            Error::BundleEntry {
                entry: 0,
                field: EntryField::Path,
                at: 4
            }
        );
        let mut c = bundle(&[]);
        c[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            Bundle::parse(&c).unwrap_err(),
            Error::TooManyBundleFiles {
                count: u32::MAX,
                limit: MAX_BUNDLE_FILES
            }
        );
        assert_eq!(
            Bundle::parse(&c[..3]).unwrap_err(),
            Error::BundleTruncated { length: 3 }
        );
        let b = bundle(&[("a", b"x")]);
        assert_eq!(
            Bundle::parse(&b[..16]).unwrap_err(),
            Error::BundleEntry {
                entry: 0,
                field: EntryField::DataSize,
                at: 4
            }
        );
    }

    #[test]
    fn wasm_body_size_must_match() {
        let mut h = std::vec![0u8; 64];
        h[0..4].copy_from_slice(&WASM_MAGIC.to_le_bytes());
        h[4] = 1;
        h[0x0C..0x10].copy_from_slice(&5u32.to_le_bytes());
        h.extend_from_slice(&[0x00, 0x61, 0x73, 0x6D]);
        assert_eq!(
            WasmSegment::parse(&h, 128).unwrap_err(),
            Error::WasmBodySize {
                offset: 128,
                declared: 5,
                actual: 4
            }
        );
    }
}
