//! WASM_SEG payloads (§5): the 64-byte WASM header in both writers' layouts,
//! and the RuvBot Node.js file bundle as a borrowed iterator of files.
//!
//! The two headers agree up to 0x16 and differ after it: rvf-types has u8
//! `max_memory_pages`/`table_count` and the 32-byte hash at 0x18; build-rvf.js
//! has u16 fields and the hash (SHA-256 of the bundle) at 0x1C. The body's
//! magic tells them apart: `00 61 73 6D` is a WASM module (crate writers),
//! anything else is read as a RuvBot bundle.

//!
//! The reader (`WasmSegment`, `VerifiedBundle`, `Bundle`, `check_path`)
//! is behind the `ruvbot` cargo feature (on for the CLI, off for a firmware
//! that only boots); the problems it reports, which [`crate::Error`] names,
//! are always here.

#[cfg(feature = "ruvbot")]
mod reader;
#[cfg(feature = "ruvbot")]
pub use reader::{
    Bundle, BundleFile, BundleFiles, MAX_BUNDLE_FILES, MAX_BUNDLE_PATH, MAX_BUNDLE_RUNS,
    MAX_PATH_COMPONENT, METADATA_TYPES, MODULE_FILE, RESERVED_DIR, VerifiedBundle, VerifiedFiles,
    WASM_MAGIC, WasmBody, WasmSegment, check_path,
};

/// A bundle file-table field that runs past the end of the bundle
/// ([`crate::Error::BundleEntry`]).
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

/// Why a bundle path is refused ([`crate::Error::BundlePath`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathProblem {
    /// The path is empty.
    Empty,
    /// It starts with `/`.
    Absolute,
    /// `a//b` or a trailing `/`.
    EmptyComponent,
    /// A `.` component.
    DotComponent,
    /// A `..` component.
    DotDotComponent,
    /// A NUL byte.
    Nul,
    /// A backslash (a separator elsewhere).
    Backslash,
    /// Longer than `MAX_BUNDLE_PATH` (4095 bytes).
    TooLong,
    /// A component longer than `MAX_PATH_COMPONENT` (255 bytes).
    ComponentTooLong,
    /// The first component is `RESERVED_DIR` (`.rvf`).
    Reserved,
}

impl PathProblem {
    /// A phrase, as in messages ("path {phrase}").
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Empty => "is empty",
            Self::Absolute => "is absolute (starts with '/')",
            Self::EmptyComponent => "has an empty component ('//' or a trailing '/')",
            Self::DotComponent => "has a '.' component",
            Self::DotDotComponent => "has a '..' component",
            Self::Nul => "contains a NUL byte",
            Self::Backslash => "contains a backslash",
            Self::TooLong => "is longer than 4095 bytes",
            Self::ComponentTooLong => "has a component longer than 255 bytes",
            Self::Reserved => "starts with '.rvf/', where the extractor writes the RVF's metadata",
        }
    }
}

display_by_name!(PathProblem);

/// The algorithm a WASM header's `bytecode_hash` verified under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BytecodeHash {
    /// SHA-256 of the bundle (build-rvf.js).
    Sha256,
    /// rvf-runtime's additive 32-byte checksum of the module (§4.4; not a
    /// security check: the segment's content hash is).
    RvfRuntime,
    /// All zeros, accepted by [`crate::Policy::allow_unset_hash`].
    Unset,
}

impl BytecodeHash {
    /// The name in messages and reports.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::RvfRuntime => "rvf-runtime-checksum",
            Self::Unset => "unset",
        }
    }
}

display_by_name!(BytecodeHash);

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

display_by_name!(EntryField);

#[cfg(test)]
#[cfg(feature = "ruvbot")]
mod tests {
    use super::*;
    use crate::error::Error;
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
        let files: Vec<_> = p.files_unverified().collect();
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

    fn err(files: &[(&str, &[u8])]) -> Error {
        Bundle::parse(&bundle(files)).unwrap_err()
    }

    #[test]
    fn paths_are_checked() {
        let cases: &[(&str, PathProblem)] = &[
            ("", PathProblem::Empty),
            ("/etc/passwd", PathProblem::Absolute),
            ("..", PathProblem::DotDotComponent),
            ("../x", PathProblem::DotDotComponent),
            ("a/../../b", PathProblem::DotDotComponent),
            ("a/./b", PathProblem::DotComponent),
            (".", PathProblem::DotComponent),
            ("a//b", PathProblem::EmptyComponent),
            ("a/", PathProblem::EmptyComponent),
            ("a\0b", PathProblem::Nul),
            ("a\\..\\b", PathProblem::Backslash),
            (".rvf/meta.json", PathProblem::Reserved),
            (".rvf", PathProblem::Reserved),
        ];
        for &(p, problem) in cases {
            assert_eq!(
                err(&[("ok.js", b"1"), (p, b"x")]),
                Error::BundlePath {
                    entry: 1,
                    at: 4 + 18 + 5,
                    problem
                },
                "{p:?}"
            );
        }
        // Allowed: dot files, dots inside names, a .rvf deeper down.
        for p in ["a/.rvf", ".rvfx", "a..b", "...", "a/.hidden"] {
            assert!(check_path(p.as_bytes()).is_ok(), "{p}");
        }
        let long = "x".repeat(usize::from(MAX_BUNDLE_PATH) + 1);
        assert_eq!(check_path(long.as_bytes()), Err(PathProblem::TooLong));
        let max = std::vec!["y".repeat(255); 16].join("/");
        assert_eq!(max.len(), 4095);
        assert!(check_path(max.as_bytes()).is_ok());
        let comp = std::format!("a/{}", "z".repeat(256));
        assert_eq!(
            check_path(comp.as_bytes()),
            Err(PathProblem::ComponentTooLong)
        );
        let huge = "q".repeat(65_535);
        assert_eq!(
            err(&[(&huge, b"")]),
            Error::BundlePath {
                entry: 0,
                at: 4,
                problem: PathProblem::TooLong
            }
        );
    }

    #[test]
    fn writer_order_is_accepted_and_clashes_are_found() {
        // build-rvf.js: dist/** (flattened, tree order), bin/**, package.json.
        let ok = bundle(&[
            ("a.js", b"1"),
            ("lib/x.js", b"2"),
            ("lib.js", b"3"),
            ("z.js", b""),
            ("bin/ruvbot.js", b"#!"),
            ("package.json", b"{}"),
        ]);
        let b = Bundle::parse(&ok).unwrap();
        assert_eq!(b.files_unverified().count(), 6);
        // dist/bin/ruvbot.js flattens onto bin/ruvbot.js.
        assert_eq!(
            err(&[
                ("bin/ruvbot.js", b"1"),
                ("index.js", b"2"),
                ("bin/ruvbot.js", b"3"),
                ("package.json", b"4"),
            ]),
            Error::BundleDuplicatePath { entry: 2, first: 0 }
        );
        // dist/package.json and the package's own.
        assert_eq!(
            err(&[
                ("index.js", b"1"),
                ("package.json", b"2"),
                ("package.json", b"3")
            ]),
            Error::BundleDuplicatePath { entry: 2, first: 1 }
        );
        // A file named bin in dist/, a bin/ directory after it.
        assert_eq!(
            err(&[("bin", b"1"), ("x.js", b"2"), ("bin/ruvbot.js", b"3")]),
            Error::BundlePathConflict { entry: 2, file: 0 }
        );
        assert_eq!(
            err(&[("a", b"1"), ("a/b", b"2")]),
            Error::BundlePathConflict { entry: 1, file: 0 }
        );
        // Merged order: the clash is found across runs, either way round.
        assert_eq!(
            err(&[("m/k", b"1"), ("z", b"2"), ("m", b"3")]),
            Error::BundlePathConflict { entry: 0, file: 2 }
        );
        // Five runs: more than the reader merges.
        assert_eq!(
            err(&[("e", b""), ("d", b""), ("c", b""), ("b", b""), ("a", b"")]),
            Error::BundleUnsorted {
                entry: 4,
                limit: MAX_BUNDLE_RUNS
            }
        );
        assert!(Bundle::parse(&bundle(&[("d", b""), ("c", b""), ("b", b""), ("a", b"")])).is_ok());
    }

    #[test]
    fn data_must_not_overlap() {
        // Entry 1's data moved onto entry 0's.
        let mut b = bundle(&[("a", b"xy"), ("b", b"zw")]);
        let first = u64::from_le_bytes(b[6..14].try_into().unwrap());
        let at1 = 4 + 19;
        b[at1 + 2..at1 + 10].copy_from_slice(&(first + 1).to_le_bytes());
        b[at1 + 10..at1 + 18].copy_from_slice(&1u64.to_le_bytes());
        assert_eq!(
            Bundle::parse(&b).unwrap_err(),
            Error::BundleOverlap {
                entry: 1,
                data_offset: first + 1,
                previous_end: first + 2
            }
        );
        // Data inside the table.
        let mut b = bundle(&[("a", b"xy")]);
        b[6..14].copy_from_slice(&4u64.to_le_bytes());
        assert_eq!(
            Bundle::parse(&b).unwrap_err(),
            Error::BundleOverlap {
                entry: 0,
                data_offset: 4,
                previous_end: 23
            }
        );
        // A count whose table cannot fit: the first entry past the end.
        let mut c = bundle(&[("a", b"x")]);
        c[..4].copy_from_slice(&MAX_BUNDLE_FILES.to_le_bytes());
        assert_eq!(
            Bundle::parse(&c).unwrap_err(),
            Error::BundleEntry {
                entry: 1,
                field: EntryField::PathLen,
                at: 23
            }
        );
    }
}
