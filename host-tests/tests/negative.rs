//! Damaged golden files: every damage gets its own, exact error.
//!
//! Each test starts from the real writers' files in `golden/` and damages one
//! thing: a payload byte of every segment, truncation at every header boundary
//! and inside every payload, huge lengths, bad magics and versions, unknown
//! checksum algorithms, directory entries that point at the wrong offset.

use rvf_boot::checksum::{ContentHash, HashCheck, check_content_hash};
use rvf_boot::container::{DirectoryField, StoppedBy};
use rvf_boot::error::Structure;
use rvf_boot::root_page::PageField;
use rvf_boot::segment::{Segment, Walk, seg_type};
use rvf_boot::{Container, Error, Policy};

fn golden() -> Vec<(String, Vec<u8>)> {
    let out = host_tests::golden_files();
    assert_eq!(out.len(), 15, "golden set changed");
    out
}

struct Seg {
    index: u32,
    offset: u64,
    ty: u8,
    len: u64,
    algo: u8,
    hash: Option<ContentHash>,
}

fn segs(file: &[u8]) -> Vec<Seg> {
    let body = rvf_boot::segment::split_root_page(file).0;
    Walk::new(body)
        .map(|s: Segment<'_>| Seg {
            index: s.index,
            offset: s.offset,
            ty: s.seg_type(),
            len: s.payload_length(),
            algo: s.header.checksum_algo,
            hash: match check_content_hash(&s).unwrap() {
                HashCheck::Verified(h) => Some(h),
                HashCheck::Unset => None,
            },
        })
        .collect()
}

/// Recomputes the content hash of the segment at `off` with `algo`.
fn rehash(file: &mut [u8], off: u64, len: u64, algo: ContentHash) {
    let o = off as usize;
    let d = algo.digest(&file[o + 64..o + 64 + len as usize]);
    file[o + 0x28..o + 0x38].copy_from_slice(&d);
}

fn parse(f: &[u8]) -> Result<Container<'_>, Error> {
    Container::parse(f, Policy::default())
}

/// Everything a full check does: parse, every segment hash, every kernel.
fn full_check(f: &[u8]) -> Result<(), Error> {
    let c = parse(f)?;
    c.verify_segments()?;
    for k in c.kernels() {
        k?;
    }
    Ok(())
}

#[test]
fn every_golden_file_passes_the_full_check() {
    for (name, f) in golden() {
        assert_eq!(full_check(&f), Ok(()), "{name}");
    }
}

#[test]
fn a_flipped_payload_byte_in_every_segment_is_caught() {
    for (name, f) in golden() {
        for s in segs(&f) {
            if s.len == 0 {
                continue;
            }
            let mut g = f.clone();
            g[(s.offset + 64 + s.len / 2) as usize] ^= 0x01;
            let want = Error::ContentHashMismatch {
                index: s.index,
                offset: s.offset,
                algo: s.algo,
            };
            assert_eq!(
                full_check(&g),
                Err(want),
                "{name} segment #{} type {:#x}",
                s.index,
                s.ty
            );
        }
    }
}

#[test]
fn truncation_at_every_header_boundary() {
    for (name, f) in golden() {
        let all = segs(&f);
        for s in &all {
            let g = &f[..s.offset as usize];
            let got = parse(g);
            if s.offset == 0 {
                assert_eq!(
                    got.unwrap_err(),
                    Error::NotRvf {
                        found: 0,
                        file_size: 0
                    },
                    "{name}"
                );
                continue;
            }
            // The newest manifest that ends before the cut wins; none: no complete manifest.
            let older = all
                .iter()
                .rfind(|m| m.ty == seg_type::MANIFEST && m.offset < s.offset);
            let got = got.map(|c| (c.manifest().offset(), c.trailing()));
            match older {
                Some(m) => {
                    assert_eq!(got, Ok((m.offset, None)), "{name} cut at {}", s.offset);
                }
                None => assert_eq!(
                    got.unwrap_err(),
                    Error::NoCompleteManifest {
                        walk_end: s.offset,
                        file_size: s.offset,
                        stopped_by: StoppedBy::EndOfFile
                    },
                    "{name} cut at {}",
                    s.offset
                ),
            }
        }
    }
}

#[test]
fn truncation_inside_every_header_and_payload() {
    for (name, f) in golden() {
        let all = segs(&f);
        for s in &all {
            for cut in [s.offset + 1, s.offset + 63, s.offset + 64 + s.len / 2] {
                if cut >= s.offset + 64 + s.len.max(1) {
                    continue;
                }
                let g = &f[..cut as usize];
                let got = parse(g);
                if cut < 4 {
                    assert!(
                        matches!(got, Err(Error::NotRvf { .. })),
                        "{name} cut at {cut}"
                    );
                    continue;
                }
                let older = all
                    .iter()
                    .rfind(|m| m.ty == seg_type::MANIFEST && m.offset < s.offset);
                let got = got.map(|c| (c.manifest().offset(), c.trailing()));
                let cut_header = cut < s.offset + 64;
                // A torn MANIFEST_SEG (its header's type byte readable) is itself the newest manifest.
                let torn_manifest = s.ty == seg_type::MANIFEST && cut > s.offset + 5;
                match older {
                    Some(m) if !torn_manifest => {
                        assert_eq!(
                            got,
                            Ok((m.offset, Some((s.offset, cut - s.offset)))),
                            "{name} cut at {cut}"
                        );
                    }
                    _ => {
                        let stopped_by = if torn_manifest {
                            StoppedBy::TornManifest
                        } else if cut_header {
                            StoppedBy::TruncatedHeader
                        } else {
                            StoppedBy::PayloadOverrun
                        };
                        assert_eq!(
                            got.unwrap_err(),
                            Error::NoCompleteManifest {
                                walk_end: s.offset,
                                file_size: cut,
                                stopped_by
                            },
                            "{name} cut at {cut}"
                        );
                    }
                }
            }
        }
    }
}

/// The golden file `name` and its selected kernel's segment.
fn with_kernel(name: &str) -> (Vec<u8>, Seg) {
    let (_, f) = golden().into_iter().find(|(n, _)| n == name).unwrap();
    let k = segs(&f)
        .into_iter()
        .find(|s| s.ty == seg_type::KERNEL)
        .unwrap();
    (f, k)
}

#[test]
fn payload_length_near_u64_max() {
    for name in [
        "ruvbot/small.rvf",
        "runtime-05/embed-kernel.rvf",
        "runtime-03/embed-kernel.rvf",
    ] {
        let (mut f, k) = with_kernel(name);
        let at = k.offset as usize + 0x10;
        f[at..at + 8].copy_from_slice(&(u64::MAX - 3).to_le_bytes());
        match parse(&f) {
            // RuvBot: the kernel is the first segment and the only manifest comes after it.
            Err(e) => assert_eq!(
                e,
                Error::NoCompleteManifest {
                    walk_end: k.offset,
                    file_size: f.len() as u64,
                    stopped_by: StoppedBy::PayloadOverrun
                },
                "{name}"
            ),
            // rvf-runtime: the epoch-0 manifest at 0 is the newest complete one; the rest is a torn tail.
            Ok(c) => {
                assert!(name.starts_with("runtime"), "{name}");
                assert_eq!(c.manifest().offset(), 0);
                assert_eq!(c.trailing(), Some((k.offset, f.len() as u64 - k.offset)));
                assert_eq!(c.selected_kernel().err(), Some(Error::NoKernel));
            }
        }
        // The walk says exactly which segment overran.
        let mut w = Walk::new(rvf_boot::segment::split_root_page(&f).0);
        w.by_ref().for_each(drop);
        assert_eq!(
            w.stop(),
            rvf_boot::segment::WalkEnd::Torn(Error::SegmentOverrun {
                index: k.index,
                offset: k.offset,
                payload_length: u64::MAX - 3,
                body_end: rvf_boot::segment::split_root_page(&f).0.len() as u64,
            }),
            "{name}"
        );
    }
}

#[test]
fn cmdline_length_0xffffff00() {
    for (name, field_at) in [
        ("ruvbot/small.rvf", 0x70),
        ("runtime-05/embed-kernel.rvf", 0x78),
        ("runtime-03/embed-kernel-binding.rvf", 0x78),
    ] {
        let (mut f, k) = with_kernel(name);
        let at = k.offset as usize + 64 + field_at;
        f[at..at + 4].copy_from_slice(&0xFFFF_FF00u32.to_le_bytes());
        rehash(&mut f, k.offset, k.len, k.hash.unwrap());
        let c = parse(&f).unwrap();
        let err = c.selected_kernel().unwrap_err();
        assert!(
            matches!(err, Error::KernelLayout { offset, payload_length, cmdline_length: 0xFFFF_FF00, .. }
                if offset == k.offset && payload_length == k.len),
            "{name}: {err:?}"
        );
    }
}

#[test]
fn bad_magic_and_version() {
    let (f, k) = with_kernel("runtime-05/embed-kernel.rvf");
    // Kernel header magic (payload byte 0), hash recomputed so only the magic is wrong.
    let mut g = f.clone();
    g[k.offset as usize + 64] ^= 0xFF;
    rehash(&mut g, k.offset, k.len, k.hash.unwrap());
    let err = parse(&g).unwrap().selected_kernel().unwrap_err();
    assert!(
        matches!(err, Error::BadMagic { structure: Structure::KernelHeader, offset, .. } if offset == k.offset + 64)
    );
    // Kernel header version.
    let mut g = f.clone();
    g[k.offset as usize + 64 + 4] = 9;
    rehash(&mut g, k.offset, k.len, k.hash.unwrap());
    assert_eq!(
        parse(&g).unwrap().selected_kernel().unwrap_err(),
        Error::UnsupportedVersion {
            structure: Structure::KernelHeader,
            offset: k.offset + 64,
            version: 9
        }
    );
    // Segment header version of the kernel: the walk stops there. The runtime
    // file still has its epoch-0 manifest (the rest is a torn tail); the RuvBot
    // file's only manifest comes after the kernel.
    let mut g = f.clone();
    g[k.offset as usize + 4] = 2;
    let c = parse(&g).unwrap();
    assert_eq!(
        (c.manifest().offset(), c.trailing()),
        (0, Some((k.offset, f.len() as u64 - k.offset)))
    );
    let (r, rk) = with_kernel("ruvbot/small.rvf");
    let mut g = r.clone();
    g[rk.offset as usize + 4] = 2;
    assert_eq!(
        parse(&g).err(),
        Some(Error::NoCompleteManifest {
            walk_end: 0,
            file_size: r.len() as u64,
            stopped_by: StoppedBy::UnsupportedVersion
        })
    );
    // Not an RVF file at all.
    let mut g = f.clone();
    g[0] = b'X';
    assert!(matches!(parse(&g).unwrap_err(), Error::NotRvf { .. }));
}

#[test]
fn unknown_checksum_algorithm() {
    for name in [
        "ruvbot/small.rvf",
        "runtime-05/embed-kernel.rvf",
        "runtime-03/embed-kernel.rvf",
    ] {
        let (mut f, k) = with_kernel(name);
        f[k.offset as usize + 0x20] = 3;
        let c = parse(&f).unwrap();
        assert_eq!(
            c.selected_kernel().unwrap_err(),
            Error::UnknownChecksumAlgo {
                index: k.index,
                offset: k.offset,
                algo: 3
            },
            "{name}"
        );
        assert_eq!(
            c.verify_segments(),
            Err(Error::UnknownChecksumAlgo {
                index: k.index,
                offset: k.offset,
                algo: 3
            })
        );
    }
}

#[test]
fn directory_entry_at_the_wrong_offset() {
    let mut mismatches = 0;
    for name in [
        "ruvbot/small.rvf",
        "runtime-05/embed-kernel.rvf",
        "runtime-03/embed-kernel.rvf",
        "mixed/kernel-03-kernel-05.rvf",
    ] {
        let (f0, k) = with_kernel(name);
        let c = parse(&f0).unwrap();
        let m = c.manifest();
        let mo = m.offset();
        let entry = m
            .entries()
            .iter()
            .position(|e| e.offset.get() == k.offset)
            .unwrap();
        let all = segs(&f0);
        let ms = all.iter().find(|s| s.offset == mo).unwrap();
        for (delta, want) in [
            (
                1i64,
                Error::DirectoryEntryNotASegment {
                    entry: entry as u32,
                    offset: k.offset + 1,
                },
            ),
            (
                64,
                Error::DirectoryEntryNotASegment {
                    entry: entry as u32,
                    offset: k.offset + 64,
                },
            ),
        ] {
            let mut f = f0.clone();
            let at = mo as usize + 64 + 22 + 25 * entry + 8;
            f[at..at + 8].copy_from_slice(&((k.offset as i64 + delta) as u64).to_le_bytes());
            rehash(&mut f, mo, ms.len, ms.hash.unwrap());
            assert_eq!(parse(&f).unwrap_err(), want, "{name}");
        }
        // Pointing at another real segment: the header disagrees, unless the
        // previous entry already names that segment (a duplicate) or one
        // after it (out of file order), which is refused first.
        let other = all
            .iter()
            .find(|s| s.offset != k.offset && s.ty != seg_type::KERNEL && s.offset < mo)
            .unwrap();
        let mut f = f0.clone();
        let at = mo as usize + 64 + 22 + 25 * entry + 8;
        f[at..at + 8].copy_from_slice(&other.offset.to_le_bytes());
        rehash(&mut f, mo, ms.len, ms.hash.unwrap());
        let previous = entry.checked_sub(1).map(|p| m.entries()[p].offset.get());
        let want = match previous {
            Some(p) if p == other.offset => Error::DirectoryDuplicate {
                entry: entry as u32,
                first: entry as u32 - 1,
                offset: other.offset,
            },
            Some(p) if p > other.offset => Error::DirectoryOrder {
                entry: entry as u32,
                offset: other.offset,
                previous: p,
            },
            _ => {
                mismatches += 1;
                Error::DirectoryMismatch {
                    entry: entry as u32,
                    offset: other.offset,
                    field: DirectoryField::SegType,
                    directory: u64::from(seg_type::KERNEL),
                    header: u64::from(other.ty),
                }
            }
        };
        assert_eq!(parse(&f).unwrap_err(), want, "{name}");
    }
    assert!(mismatches >= 1, "some file exercises the header mismatch");
}

#[test]
fn unset_hashes_follow_the_policy() {
    let (mut f, k) = with_kernel("runtime-05/embed-kernel.rvf");
    f[k.offset as usize + 0x28..k.offset as usize + 0x38].fill(0);
    let c = parse(&f).unwrap();
    assert_eq!(
        c.selected_kernel().unwrap_err(),
        Error::ContentHashUnset {
            index: k.index,
            offset: k.offset
        }
    );
    let c = Container::parse(&f, Policy::allowing_unset_hash(true)).unwrap();
    assert_eq!(
        c.selected_kernel().unwrap().content_hash(),
        Some(HashCheck::Unset)
    );
}

#[test]
fn signed_store_root_page_damage() {
    let (_, f) = golden()
        .into_iter()
        .find(|(n, _)| n == "runtime-05/signed.rvf")
        .unwrap();
    let page_at = f.len() - 4096;
    let c = parse(&f).unwrap();
    assert_eq!(c.root_page_offset(), Some(page_at as u64));
    // A flipped bit in the page: CRC32C catches it.
    let mut g = f.clone();
    g[page_at + 0x200] ^= 1;
    assert!(
        matches!(parse(&g).unwrap_err(), Error::RootPageCrc { offset, .. } if offset == page_at as u64)
    );
    // A page that commits to another manifest (CRC fixed up): refused.
    let mut g = f.clone();
    g[page_at + 8] ^= 0x40;
    let crc = rvf_boot::root_page::CRC32C.checksum(&g[page_at..page_at + 0xFFC]);
    g[page_at + 0xFFC..].copy_from_slice(&crc.to_le_bytes());
    assert!(matches!(
        parse(&g).unwrap_err(),
        Error::RootPageField {
            field: PageField::ManifestOffset,
            ..
        }
    ));
    // The std-only crc32c crate agrees with the no_std CRC the library uses.
    assert_eq!(
        crc32c::crc32c(&f[page_at..page_at + 0xFFC]),
        u32::from_le_bytes(f[page_at + 0xFFC..].try_into().unwrap())
    );
}

/// Issue 9 §4, one hash per dialect: a file's `checksum_algo` 0 segments carry
/// one writer's hash, the one its winning manifest carries. The real RuvBot
/// file with its cmdline changed to `init=/bin/sh` and only the kernel
/// segment's hash replaced by its CRC-32 rot4 (the legacy writer's) is
/// refused, naming the kernel segment; so is the reverse on a legacy file (a
/// SHA-256[0..16] kernel) and on the legacy part of a mixed file. The same
/// edit rehashed with the file's own algorithm is a consistent file and
/// passes (content hashes detect damage, they do not authenticate).
#[test]
fn algo0_hashes_must_be_the_files_writers() {
    for (name, own, foreign) in [
        (
            "ruvbot/small.rvf",
            ContentHash::Sha256Trunc,
            ContentHash::Crc32Rot4,
        ),
        (
            "ruvbot/small.rvf",
            ContentHash::Sha256Trunc,
            ContentHash::Xxh3_128,
        ),
        (
            "runtime-03/embed-kernel.rvf",
            ContentHash::Crc32Rot4,
            ContentHash::Sha256Trunc,
        ),
        (
            "mixed/kernel-03-kernel-05.rvf",
            ContentHash::Crc32Rot4,
            ContentHash::Sha256Trunc,
        ),
    ] {
        let (mut f, k) = with_kernel(name);
        assert_eq!(k.algo, 0, "{name}: the first kernel is algo 0");
        assert_eq!(k.hash, Some(own), "{name}");
        // The cmdline, located through the library, becomes `init=/bin/sh`.
        let (at, len) = {
            let c = parse(&f).unwrap();
            let kernel = c.selected_kernel().unwrap();
            assert_eq!(kernel.segment_offset(), k.offset, "{name}");
            let cmd = kernel.cmdline();
            (cmd.as_ptr() as usize - f.as_ptr() as usize, cmd.len())
        };
        assert!(len >= 12, "{name}: cmdline long enough");
        f[at..at + len].fill(b' ');
        f[at..at + 12].copy_from_slice(b"init=/bin/sh");

        let mut own_file = f.clone();
        rehash(&mut own_file, k.offset, k.len, own);
        assert_eq!(full_check(&own_file), Ok(()), "{name}: consistent edit");
        let c = parse(&own_file).unwrap();
        assert_eq!(
            &c.selected_kernel().unwrap().cmdline()[..12],
            b"init=/bin/sh"
        );

        rehash(&mut f, k.offset, k.len, foreign);
        let want = Error::ContentHashOtherWriter {
            index: k.index,
            offset: k.offset,
            expected: own,
            found: foreign,
        };
        let c = parse(&f).unwrap();
        assert_eq!(c.algo0(), own, "{name}");
        assert_eq!(c.selected_kernel().err(), Some(want), "{name}");
        assert_eq!(c.verify_segments(), Err(want), "{name}");
        assert_eq!(full_check(&f), Err(want), "{name}");
        assert_eq!(
            c.content_hash(&c.segment_at(k.offset).unwrap()),
            Err(want),
            "{name}"
        );
        // The dialect-free check of the segment alone still sees a valid hash.
        let seg = c.segment_at(k.offset).unwrap();
        assert_eq!(check_content_hash(&seg), Ok(HashCheck::Verified(foreign)));
    }
}

/// Every golden file's algo-0 convention is its writer's.
#[test]
fn algo0_convention_of_every_golden_file() {
    for (name, f) in golden() {
        let c = parse(&f).unwrap();
        let want = if name.starts_with("ruvbot/") || name.starts_with("real-bzimage/") {
            ContentHash::Sha256Trunc
        } else {
            ContentHash::Crc32Rot4
        };
        assert_eq!(c.algo0(), want, "{name}");
    }
}
