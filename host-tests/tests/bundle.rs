//! The verified runtime reader (issue 12): `VerifiedBundle` on real writers'
//! files and on hostile bundles written by the test kit, each refused with
//! its one exact error; the header-by-header walk a device reader runs,
//! against the library's walk on every golden file.

use rvf_boot::bundle::{
    BytecodeHash, EntryField, MAX_BUNDLE_FILES, MAX_BUNDLE_RUNS, MODULE_FILE, PathProblem,
    VerifiedBundle,
};
use rvf_boot::checksum::{ContentHash, HashCheck};
use rvf_boot::segment::{After, after_segment, after_window, read_header, seg_type};
use rvf_boot::{Container, Error, Policy};
use rvf_testkit::ruvbot::{self, Inputs, Package};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("golden")
}

fn every_golden_rvf() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![golden_dir()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rvf") {
                out.push(p);
            }
        }
    }
    out.sort();
    assert!(out.len() >= 15, "{out:?}");
    out
}

/// The device reader's walk: headers and windows only. Returns the extent
/// (segments, then a root page right after them) and the bytes it looked at.
fn streamed_extent(file: &[u8]) -> (u64, u64) {
    let mut at = 0u64;
    let mut looked = 0u64;
    let end = loop {
        let h = &file[(at as usize).min(file.len())..];
        looked += h.len().min(64) as u64;
        let Ok(header) = read_header(h, at) else {
            break at;
        };
        let u = at + 64 + header.payload_length.get();
        if u > file.len() as u64 {
            break at;
        }
        let w = &file[u as usize..(u + after_window(u)).min(file.len() as u64) as usize];
        looked += w.len() as u64;
        match after_segment(w, u) {
            After::Next { offset, .. } => at = offset,
            After::End { end } => break end,
        }
    };
    let page = file.get(end as usize..end as usize + 4);
    if page == Some(&b"0MVR"[..]) && end as usize + 4096 <= file.len() {
        return (end + 4096, looked);
    }
    (end, looked)
}

#[test]
fn streamed_walk_finds_every_golden_files_extent() {
    for p in every_golden_rvf() {
        let file = std::fs::read(&p).unwrap();
        let Ok(c) = Container::parse(&file, Policy::allowing_unset_hash(true)) else {
            continue;
        };
        let mut w = c.segments();
        w.by_ref().for_each(drop);
        let want = c.root_page_offset().map_or(w.end(), |o| o + 4096);
        let (extent, looked) = streamed_extent(&file);
        assert_eq!(extent, want, "{}", p.display());
        if c.trailing().is_none() {
            assert_eq!(extent, file.len() as u64, "{}", p.display());
        }
        // Headers and ≤ 127-byte windows: never the payloads.
        let segs = c.segments().count() as u64;
        assert!(
            looked <= (segs + 1) * (64 + 127),
            "{}: {looked}",
            p.display()
        );
        // The same file with 1 MiB of garbage after it ends at the same place.
        let mut tailed = file[..extent as usize].to_vec();
        tailed.extend((0..1 << 20).map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
        assert_eq!(streamed_extent(&tailed).0, extent, "{}", p.display());
    }
}

fn golden_package() -> Package {
    Package::golden(true)
}

fn rvf_with_bundle(bundle: &[u8]) -> Vec<u8> {
    let pkg = golden_package();
    let kernel = std::fs::read(golden_dir().join("inputs/bzimage-600.bin")).unwrap();
    ruvbot::write_with_bundle(&Inputs::new(&kernel, &pkg), bundle)
}

fn rvf_of(pkg: &Package) -> Vec<u8> {
    let kernel = std::fs::read(golden_dir().join("inputs/bzimage-600.bin")).unwrap();
    ruvbot::write(&Inputs::new(&kernel, pkg))
}

type Files = Vec<(Vec<u8>, Vec<u8>)>;

fn verify(rvf: &[u8]) -> Result<Files, Error> {
    let c = Container::parse(rvf, Policy::default())?;
    let v = VerifiedBundle::from_container(&c)?;
    Ok(v.files()
        .map(|f| (f.path.to_vec(), f.data.to_vec()))
        .collect())
}

fn wasm_offset(rvf: &[u8]) -> u64 {
    let c = Container::parse(rvf, Policy::default()).unwrap();
    c.segments()
        .find(|s| s.seg_type() == seg_type::WASM)
        .unwrap()
        .offset
}

#[test]
fn the_golden_ruvbot_bundle_verifies() {
    let file = std::fs::read(golden_dir().join("ruvbot/small.rvf")).unwrap();
    let c = Container::parse(&file, Policy::default()).unwrap();
    let v = VerifiedBundle::from_container(&c).unwrap();
    assert_eq!(v.segment_offset(), 16657);
    assert_eq!(v.bytecode_hash(), BytecodeHash::Sha256);
    assert_eq!(
        v.segment_hash(),
        HashCheck::Verified(ContentHash::Sha256Trunc)
    );
    assert!(v.is_node_bundle());
    let pkg = golden_package();
    let mut want: Vec<(Vec<u8>, Vec<u8>)> = pkg
        .files
        .iter()
        .map(|(p, d)| (p.as_bytes().to_vec(), d.clone()))
        .collect();
    want.push((b"package.json".to_vec(), pkg.package_json().into_bytes()));
    let got: Vec<_> = v
        .files()
        .map(|f| (f.path.to_vec(), f.data.to_vec()))
        .collect();
    assert_eq!(got, want);
    assert_eq!(v.len(), 3);
    // The package.json digest the QEMU marker compares.
    assert_eq!(
        hex(&Sha256::digest(v.file(b"package.json").unwrap())),
        "e20b8872c97c0350d51d36e4598d6f4a2a1aa003ff30c7c00d74adf2033cf66a"
    );
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// rvf-runtime's additive checksum, from the formula in docs/format.md §4.4
/// (independent of the library's vectorised version).
fn toy_checksum(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, &b) in data.iter().enumerate() {
        out[i % 32] = out[i % 32].wrapping_add(b);
        let r = out[i % 32].rotate_left(3);
        out[(i + 13) % 32] = out[(i + 13) % 32].wrapping_add(r);
    }
    out
}

#[test]
fn crate_written_wasm_modules_verify_with_the_runtime_checksum() {
    for v in ["runtime-03", "runtime-05"] {
        let file = std::fs::read(golden_dir().join(v).join("embed-wasm.rvf")).unwrap();
        let c = Container::parse(&file, Policy::default()).unwrap();
        let b = VerifiedBundle::from_container(&c).unwrap();
        assert_eq!(b.bytecode_hash(), BytecodeHash::RvfRuntime, "{v}");
        assert!(!b.is_node_bundle());
        let files: Vec<_> = b.files().collect();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].path, MODULE_FILE);
        assert_eq!(files[0].data, [0x00, 0x61, 0x73, 0x6D, 0x01, 0, 0, 0]);
        assert_eq!(
            &b.wasm().bytecode_hash[..],
            &toy_checksum(files[0].data)[..]
        );
    }
    // A file with no WASM_SEG.
    let file = std::fs::read(golden_dir().join("runtime-05/embed-kernel.rvf")).unwrap();
    let c = Container::parse(&file, Policy::default()).unwrap();
    assert_eq!(
        VerifiedBundle::from_container(&c).unwrap_err(),
        Error::NoRuntime
    );
}

/// Rewrites the RuvBot segment at `offset`'s content hash (SHA-256[0..16]).
fn reseal(rvf: &mut [u8], offset: u64) {
    let o = offset as usize;
    let len = u64::from_le_bytes(rvf[o + 16..o + 24].try_into().unwrap()) as usize;
    let h = Sha256::digest(&rvf[o + 64..o + 64 + len]);
    rvf[o + 0x28..o + 0x38].copy_from_slice(&h[..16]);
}

#[test]
fn the_gate_then_the_bytecode_hash_come_before_the_table() {
    let good = rvf_of(&golden_package());
    let w = wasm_offset(&good);
    // A flipped bundle byte: the segment's content hash refuses it first.
    let mut bad = good.clone();
    let last = (w + 64 + 64 + 10) as usize;
    bad[last] ^= 1;
    assert!(matches!(
        verify(&bad).unwrap_err(),
        Error::ContentHashMismatch { offset, .. } if offset == w
    ));
    // Resealed: the bundle's SHA-256 (bytecode_hash) refuses it.
    reseal(&mut bad, w);
    assert_eq!(
        verify(&bad).unwrap_err(),
        Error::BytecodeHashMismatch {
            offset: w,
            algo: BytecodeHash::Sha256
        }
    );
    // A wrong bytecode_hash over a good bundle, resealed.
    let mut bad = good.clone();
    bad[(w + 64 + 0x1C) as usize] ^= 0x80;
    reseal(&mut bad, w);
    assert_eq!(
        verify(&bad).unwrap_err(),
        Error::BytecodeHashMismatch {
            offset: w,
            algo: BytecodeHash::Sha256
        }
    );
    // An all-zero bytecode_hash: unset, refused unless the policy allows it.
    let mut unset = good.clone();
    let h = (w + 64 + 0x1C) as usize;
    unset[h..h + 32].fill(0);
    reseal(&mut unset, w);
    assert_eq!(
        verify(&unset).unwrap_err(),
        Error::BytecodeHashUnset { offset: w }
    );
    let c = Container::parse(&unset, Policy::allowing_unset_hash(true)).unwrap();
    assert_eq!(
        VerifiedBundle::from_container(&c).unwrap().bytecode_hash(),
        BytecodeHash::Unset
    );
    // A hostile table behind a wrong hash: the hash is what is reported.
    let mut hostile = rvf_with_bundle(&rvf_testkit::ruvbot::bundle_table(&[(b"../evil", b"x")]));
    let w = wasm_offset(&hostile);
    hostile[(w + 64 + 0x1C) as usize] ^= 1;
    reseal(&mut hostile, w);
    assert!(matches!(
        verify(&hostile).unwrap_err(),
        Error::BytecodeHashMismatch { .. }
    ));
}

#[test]
fn hostile_bundles_are_refused_each_with_its_error() {
    let at1 = 4 + 18 + 8; // entry 1 after ("ok.js..": 8-byte path)
    let path_case = |p: &[u8], problem| {
        (
            rvf_testkit::ruvbot::bundle_table(&[(b"index.js", b"1"), (p, b"x")]),
            Error::BundlePath {
                entry: 1,
                at: at1,
                problem,
            },
        )
    };
    let big = vec![b'a'; 65_535];
    let mut cases = vec![
        path_case(b"/etc/passwd", PathProblem::Absolute),
        path_case(b"..", PathProblem::DotDotComponent),
        path_case(b"a/../../b", PathProblem::DotDotComponent),
        path_case(b"", PathProblem::Empty),
        path_case(b"a\0b", PathProblem::Nul),
        path_case(b"a\\b", PathProblem::Backslash),
        path_case(b"a//b", PathProblem::EmptyComponent),
        path_case(b"./x", PathProblem::DotComponent),
        path_case(b".rvf/meta.json", PathProblem::Reserved),
        path_case(&big, PathProblem::TooLong),
        (
            rvf_testkit::ruvbot::bundle_table(&[
                (b"a.js", b"1"),
                (b"bin/x", b"2"),
                (b"a.js", b"3"),
            ]),
            Error::BundleDuplicatePath { entry: 2, first: 0 },
        ),
        (
            rvf_testkit::ruvbot::bundle_table(&[(b"bin", b"1"), (b"bin/ruvbot.js", b"2")]),
            Error::BundlePathConflict { entry: 1, file: 0 },
        ),
        (
            rvf_testkit::ruvbot::bundle_table(&[
                (b"e", b""),
                (b"d", b""),
                (b"c", b""),
                (b"b", b""),
                (b"a", b""),
            ]),
            Error::BundleUnsorted {
                entry: 4,
                limit: MAX_BUNDLE_RUNS,
            },
        ),
    ];
    // A count that would overflow the table: u32::MAX, and the limit in a
    // one-file table.
    let mut t = rvf_testkit::ruvbot::bundle_table(&[(b"a", b"x")]);
    t[..4].copy_from_slice(&u32::MAX.to_le_bytes());
    cases.push((
        t,
        Error::TooManyBundleFiles {
            count: u32::MAX,
            limit: MAX_BUNDLE_FILES,
        },
    ));
    let mut t = rvf_testkit::ruvbot::bundle_table(&[(b"a", b"x")]);
    t[..4].copy_from_slice(&MAX_BUNDLE_FILES.to_le_bytes());
    cases.push((
        t,
        Error::BundleEntry {
            entry: 1,
            field: EntryField::PathLen,
            at: 23,
        },
    ));
    // Offsets past the end; a size that wraps.
    let mut t = rvf_testkit::ruvbot::bundle_table(&[(b"a", b"xy")]);
    t[6..14].copy_from_slice(&1000u64.to_le_bytes());
    cases.push((
        t,
        Error::BundleEntry {
            entry: 0,
            field: EntryField::Data,
            at: 4,
        },
    ));
    let mut t = rvf_testkit::ruvbot::bundle_table(&[(b"a", b"xy")]);
    t[14..22].copy_from_slice(&u64::MAX.to_le_bytes());
    cases.push((
        t,
        Error::BundleEntry {
            entry: 0,
            field: EntryField::Data,
            at: 4,
        },
    ));
    // Overlapping data: entry 1 starts inside entry 0's.
    let mut t = rvf_testkit::ruvbot::bundle_table(&[(b"a", b"xyz"), (b"b", b"uvw")]);
    let first = 4 + 19 + 19;
    t[4 + 19 + 2..4 + 19 + 10].copy_from_slice(&(first as u64 + 1).to_le_bytes());
    t[4 + 19 + 10..4 + 19 + 18].copy_from_slice(&2u64.to_le_bytes());
    cases.push((
        t,
        Error::BundleOverlap {
            entry: 1,
            data_offset: first as u64 + 1,
            previous_end: first as u64 + 3,
        },
    ));
    for (bundle, want) in cases {
        let rvf = rvf_with_bundle(&bundle);
        assert_eq!(verify(&rvf).unwrap_err(), want);
    }
}

#[test]
fn several_hundred_files_in_writer_order() {
    let mut pkg = golden_package();
    pkg.files.clear();
    // dist/**: 12 directories of 40 files (flattened), then bin/.
    for d in 0..12 {
        for f in 0..40 {
            pkg.files.push((
                format!("lib{d:02}/m{f:03}.js"),
                format!("module.exports = {};\n", d * 100 + f).into_bytes(),
            ));
        }
    }
    pkg.files
        .push(("index.js".into(), b"require('./lib00/m000.js');\n".to_vec()));
    pkg.files
        .push(("bin/ruvbot.js".into(), b"#!/usr/bin/env node\n".to_vec()));
    let files = verify(&rvf_of(&pkg)).unwrap();
    assert_eq!(files.len(), 12 * 40 + 3);
    assert_eq!(files[0].0, b"lib00/m000.js");
    assert_eq!(files[files.len() - 1].0, b"package.json");
}

#[test]
fn the_test_kit_reads_a_package_directory_as_build_rvf_js() {
    let d = std::env::temp_dir().join(format!("rvf-bundle-pkg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    let pkg = golden_package();
    pkg.write_to(&d).unwrap();
    let read = Package::from_dir(&d).unwrap();
    assert_eq!(ruvbot::bundle(&read), ruvbot::bundle(&pkg));
    assert_eq!(read.name, "ruvbot");
    assert_eq!(read.dependencies, pkg.dependencies);
    std::fs::remove_dir_all(&d).unwrap();
}
