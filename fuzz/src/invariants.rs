//! The invariants every `Ok` of rvf-boot must satisfy, checked with plain
//! `assert!`s. Shared by the fuzz targets (`fuzz/src/lib.rs`) and the property
//! tests (`host-tests/tests/properties.rs` includes this file by `#[path]`),
//! so it depends on nothing but `rvf_boot`, the test kit (`rvf_testkit`) and
//! `std`.
//!
//! Each `check_*` function runs one layer on its input and, whatever the
//! result, checks that an `Ok` is consistent with the bytes it came from and
//! that an `Err` is one of the errors that layer documents. None of them may
//! be reached with a panic from the library itself: a panic inside rvf-boot
//! is a bug, an assertion failure here is a bug too.
#![allow(
    dead_code,
    clippy::missing_panics_doc,
    clippy::too_many_lines,
    clippy::needless_range_loop
)]

use rvf_boot::bundle::{Bundle, WasmBody, WasmSegment};
use rvf_boot::bzimage::BzImage;
use rvf_boot::checksum::HashCheck;
use rvf_boot::cmdline::{self, CmdlineProblem};
use rvf_boot::gzip::InflateState;
use rvf_boot::image;
use rvf_boot::image_hash::{self, ImageHashCheck};
use rvf_boot::kernel::{ImageSizeLimit, KernelLayout, KernelSegment, MAX_IMAGE_SIZE, StoredFormat};
use rvf_boot::memory::{E820Type, MemoryRegion, PhysRange};
use rvf_boot::plan::{BootItem, BootPlan};
use rvf_boot::root_page::{RootPage, SigAlgo};
use rvf_boot::segment::{self, MAX_SEGMENTS, Segment, Walk, WalkEnd, seg_type};
use rvf_boot::zero_page::{self, Handoff, ZERO_PAGE_SIZE};
use rvf_boot::{Container, Error, Policy, gzip, joined};
use rvf_testkit::le::{u16_at, u32_at, u64_at};

/// The largest output buffer the checks allocate for an extraction.
pub const MAX_EXTRACT: u64 = 1 << 20;

const MIB: u64 = 0x10_0000;

/// Offset of `inner` inside `outer` if `inner` is a sub-slice of it (by
/// address); empty slices are accepted anywhere in `outer` or at its end.
pub fn offset_in(outer: &[u8], inner: &[u8]) -> Option<usize> {
    let o = outer.as_ptr() as usize;
    let i = inner.as_ptr() as usize;
    let at = i.checked_sub(o)?;
    let end = at.checked_add(inner.len())?;
    (end <= outer.len()).then_some(at)
}

/// Offset of the `T` at `r` inside `outer`, asserting all of it lies there.
pub fn struct_in<T>(outer: &[u8], r: &T, what: &str) -> usize {
    let at = (r as *const T as usize).checked_sub(outer.as_ptr() as usize);
    match at {
        Some(at) if at + core::mem::size_of::<T>() <= outer.len() => at,
        _ => panic!("{what} is not inside the {}-byte input", outer.len()),
    }
}

/// Asserts `inner` is `outer[at .. at + inner.len()]` and returns `at`.
pub fn assert_within(outer: &[u8], inner: &[u8], what: &str) -> usize {
    match offset_in(outer, inner) {
        Some(at) => at,
        None => panic!(
            "{what}: {} bytes at {:p} are not inside the {}-byte input at {:p}",
            inner.len(),
            inner.as_ptr(),
            outer.len(),
            outer.as_ptr()
        ),
    }
}

/// A segment's invariants: header and payload are where the offset says.
pub fn check_segment(body: &[u8], s: &Segment<'_>) {
    let off = usize::try_from(s.offset).expect("segment offset fits usize");
    let hdr = struct_in(body, s.header, "segment header");
    assert_eq!(hdr, off, "segment header is at its offset");
    assert_eq!(s.header.magic.get(), segment::SEGMENT_MAGIC);
    assert_eq!(s.header.version, segment::SEGMENT_VERSION);
    let p = assert_within(body, s.payload, "segment payload");
    assert_eq!(p, off + 64, "payload follows the header");
    assert_eq!(
        s.payload.len() as u64,
        s.payload_length(),
        "payload is payload_length long"
    );
    assert_eq!(s.payload_end(), s.offset + 64 + s.payload_length());
    assert!(s.payload_end() <= body.len() as u64);
}

/// Walks `body` and checks every segment; returns the segments seen.
pub fn check_walk<'a>(body: &'a [u8]) -> Vec<Segment<'a>> {
    let mut walk = Walk::new(body);
    let segs: Vec<Segment<'a>> = walk.by_ref().collect();
    assert!(
        segs.len() <= MAX_SEGMENTS as usize,
        "walk stops at MAX_SEGMENTS"
    );
    let mut prev_end = 0u64;
    for (i, s) in segs.iter().enumerate() {
        assert_eq!(s.index as usize, i, "indices count from 0");
        check_segment(body, s);
        assert!(
            s.offset >= prev_end,
            "segments in increasing, non-overlapping offsets"
        );
        if i == 0 {
            assert_eq!(s.offset, 0, "the walk starts at 0");
        } else {
            // Next header is right after the payload or at the 64-byte aligned position after zero fill.
            let u = segs[i - 1].payload_end();
            let p = u.div_ceil(64) * 64;
            assert!(
                s.offset == u || s.offset == p,
                "segment {i} at {} after end {u}",
                s.offset
            );
            if s.offset == p && p != u {
                assert!(
                    segs[i - 1].padded,
                    "an aligned successor means the predecessor is padded"
                );
                let fill = &body[u as usize..p as usize];
                assert!(fill.iter().all(|&b| b == 0), "padding is zero fill");
            }
        }
        prev_end = s.payload_end();
    }
    assert!(walk.end() <= body.len() as u64, "walk end inside the body");
    if let Some(last) = segs.last() {
        assert!(walk.end() >= last.payload_end());
    } else {
        assert_eq!(walk.end(), 0);
    }
    match walk.stop() {
        WalkEnd::Clean => {
            let rest = &body[walk.end() as usize..];
            // Either the end exactly, or only zero bytes after the last segment.
            assert!(rest.iter().all(|&b| b == 0) || segs.is_empty() && body.is_empty());
        }
        WalkEnd::Torn(e) => assert!(
            matches!(
                e,
                Error::Truncated { .. }
                    | Error::BadMagic { .. }
                    | Error::UnsupportedVersion { .. }
                    | Error::SegmentOverrun { .. }
            ),
            "torn walk reason {e:?}"
        ),
        WalkEnd::Limit(e) => {
            assert_eq!(segs.len(), MAX_SEGMENTS as usize);
            assert!(matches!(
                e,
                Error::TooManySegments {
                    limit: MAX_SEGMENTS,
                    ..
                }
            ));
        }
    }
    segs
}

/// A parsed kernel's invariants against its segment payload.
pub fn check_kernel(k: &KernelSegment<'_>) {
    let p = k.segment().payload;
    assert_eq!(struct_in(p, k.header(), "kernel header"), 0);
    let stored = k.stored_unverified();
    let cmd = k.cmdline();
    let s_at = assert_within(p, stored, "stored image");
    let c_at = assert_within(p, cmd, "cmdline");
    let (s_len, c_len) = (stored.len(), cmd.len());
    assert!(
        s_at >= 128 && c_at >= 128,
        "image and cmdline after the kernel header"
    );
    // Image and cmdline never overlap each other or the header/binding.
    assert!(s_at + s_len <= c_at || c_at + c_len <= s_at || s_len == 0 || c_len == 0);
    let extra = match k.layout() {
        KernelLayout::Binding => {
            let b = k.binding().expect("binding layout has a binding");
            assert_eq!(struct_in(p, b, "binding"), 128);
            assert_eq!(c_at, 256, "binding layout: cmdline after the binding");
            assert_eq!(s_at, 256 + c_len, "binding layout: image after the cmdline");
            128
        }
        KernelLayout::Simple | KernelLayout::RuvBot => {
            assert!(k.binding().is_none());
            assert_eq!(s_at, 128, "image right after the header");
            assert_eq!(c_at, 128 + s_len, "cmdline right after the image");
            0
        }
    };
    assert_eq!(
        128 + extra + s_len + c_len,
        p.len(),
        "the lengths add up to the payload"
    );
    assert_eq!(k.stored_size(), s_len as u64);
    let h = k.header();
    assert!(k.image_size() <= MAX_IMAGE_SIZE, "image_size is capped");
    match k.format() {
        StoredFormat::Gzip => {
            assert!(gzip::is_gzip(stored));
            assert!(
                k.image_size() <= gzip::max_inflated_size(s_len as u64),
                "image_size is what the stored member can produce"
            );
        }
        StoredFormat::Raw => {
            assert_eq!(h.compression, 0);
            assert_eq!(
                k.image_size(),
                s_len as u64,
                "raw: stored size is image_size"
            );
            assert_eq!(h.compressed_size.get(), h.image_size.get());
        }
    }
    if h.compression == 0 {
        assert_eq!(k.image_size(), s_len as u64);
    } else {
        assert_eq!(h.compressed_size.get(), s_len as u64);
    }
    let ruvbot = h.reserved_0.get() != 0;
    assert_eq!(ruvbot, k.layout() == KernelLayout::RuvBot);
    assert_eq!(k.segment_offset(), k.segment().offset);
}

/// Extracts `k` (under the policy it carries) into a bounded buffer (skipped
/// above [`MAX_EXTRACT`]) and checks the verified image. Returns a copy of it
/// on success.
pub fn check_extract(k: &KernelSegment<'_>, state: &mut InflateState) -> Option<Vec<u8>> {
    let policy = k.policy();
    let need = image::buffer_size(k);
    if need > MAX_EXTRACT {
        return None;
    }
    // A little slack after image_size, filled with a sentinel: nothing may be
    // written past image_size.
    let mut out = vec![0xA5u8; need as usize + 64];
    let res = image::extract(k, &mut out, state).map(|v| {
        let bytes = v.bytes();
        if k.format() == StoredFormat::Raw {
            assert_eq!(
                bytes.as_ptr(),
                k.stored_unverified().as_ptr(),
                "a raw image is borrowed, not copied"
            );
        }
        (
            bytes.to_vec(),
            v.image_hash(),
            v.content_hash(),
            v.gzip_crc32(),
            v.kernel_offset(),
        )
    });
    assert!(
        out[need as usize..].iter().all(|&b| b == 0xA5),
        "extract wrote past image_size"
    );
    match res {
        Ok((bytes, ih, ch, crc, koff)) => {
            assert_eq!(
                bytes.len() as u64,
                k.image_size(),
                "extracted length == image_size"
            );
            assert_eq!(koff, k.segment_offset());
            if let Some(c) = k.content_hash() {
                assert_eq!(ch, c, "the container's hash check is kept");
            }
            if !policy.allow_unset_hash {
                assert_ne!(ch, HashCheck::Unset);
                assert_ne!(ih, ImageHashCheck::Unset);
            }
            match k.format() {
                StoredFormat::Raw => assert_eq!(crc, None),
                StoredFormat::Gzip => {
                    assert_eq!(&out[..bytes.len()], &bytes[..]);
                    assert_eq!(
                        crc,
                        Some(gzip::crc32(&bytes)),
                        "gzip CRC matches the output"
                    );
                }
            }
            match ih {
                ImageHashCheck::Verified(h) => {
                    assert_eq!(
                        &image_hash::digest(h, &bytes),
                        k.image_hash(),
                        "image_hash verified"
                    );
                }
                ImageHashCheck::Unset => assert!(k.image_hash().iter().all(|&b| b == 0)),
            }
            Some(bytes)
        }
        Err(e) => {
            assert!(
                matches!(
                    e,
                    Error::ContentHashMismatch { .. }
                        | Error::ContentHashUnset { .. }
                        | Error::UnsupportedSegmentField { .. }
                        | Error::UnknownChecksumAlgo { .. }
                        | Error::ImageHashMismatch { .. }
                        | Error::ImageHashUnset { .. }
                        | Error::GzipHeader { .. }
                        | Error::GzipTruncated { .. }
                        | Error::Inflate { .. }
                        | Error::ImageOverflow { .. }
                        | Error::ImageShort { .. }
                        | Error::GzipCrc { .. }
                        | Error::GzipSize { .. }
                        | Error::GzipTrailingBytes { .. }
                ),
                "extract error {e:?}"
            );
            None
        }
    }
}

/// The outcome of one extraction, for comparing two paths: the image and
/// every fact of the verified image, or the error.
type Outcome = Result<(Vec<u8>, ImageHashCheck, HashCheck, Option<u32>, [u8; 32]), Error>;

/// The facts of one extraction's result.
fn outcome(r: Result<image::VerifiedImage<'_>, Error>) -> Outcome {
    r.map(|v| {
        (
            v.bytes().to_vec(),
            v.image_hash(),
            v.content_hash(),
            v.gzip_crc32(),
            v.sha256(),
        )
    })
}

/// A one-CPU [`joined::Join`] in which the side finishes first and fills
/// (the content hash) until nothing is left, before `main` runs: with
/// [`joined::Sequential`] (which never fills), the two ends of what a second
/// CPU may do.
struct FillsFirst;

impl joined::Join for FillsFirst {
    fn join<S, M, W>(&self, side: S, main: M, fill: &mut W)
    where
        S: FnOnce() + Send,
        M: FnOnce(),
        W: joined::Filler + ?Sized,
    {
        side();
        while fill.piece() {}
        main();
    }
}

/// The deferred path (the CLI's and the stub's: `kernel_at_deferred`, then
/// `extract_joined`, which checks the content hash beside the inflate) gives
/// exactly what `kernel_at` + `extract` gives, errors included, for the
/// kernel listed at `offset` (skipped above [`MAX_EXTRACT`]), whether the
/// content hash is filled in at once or left to the end.
pub fn check_deferred(c: &Container<'_>, offset: u64, state: &mut InflateState) {
    let Ok(u) = c.kernel_at_deferred(offset) else {
        let e = c.kernel_at_deferred(offset).err();
        assert_eq!(
            c.kernel_at(offset).err(),
            e,
            "the unverified kernel's own errors"
        );
        return;
    };
    let need = image::buffer_size(&u);
    if need > MAX_EXTRACT {
        return;
    }
    let mut out = vec![0u8; need as usize];
    let verified = match c.kernel_at(offset) {
        Ok(k) => outcome(image::extract(&k, &mut out, state)),
        Err(e) => Err(e),
    };
    let deferred = outcome(image::extract_joined(
        &u,
        &mut out,
        state,
        &joined::Sequential,
    ));
    assert_eq!(
        deferred, verified,
        "kernel_at_deferred + extract_joined == kernel_at + extract"
    );
    let filled = outcome(image::extract_joined(&u, &mut out, state, &FillsFirst));
    assert_eq!(
        filled, verified,
        "extract_joined filling the content hash first == kernel_at + extract"
    );
}

/// The whole-file path: container, walk, manifest, directory, kernels,
/// selection, extraction, listed WASM segments, and the boot chain on an
/// extracted image.
pub fn check_whole_file(file: &[u8]) {
    check_auth(file);
    let strict = Container::parse(file, Policy::default());
    let lax = Container::parse(file, Policy::allowing_unset_hash(true));
    match (&strict, &lax) {
        (Ok(s), Ok(l)) => assert_eq!(s.manifest().offset(), l.manifest().offset()),
        (Ok(_), Err(e)) => panic!("strict policy accepted what the lax one refused: {e:?}"),
        (Err(a), Err(b)) => assert!(
            a == b || matches!(a, Error::ContentHashUnset { .. }),
            "the policy changes only hash acceptance: {a:?} vs {b:?}"
        ),
        (Err(e), Ok(_)) => assert!(
            matches!(e, Error::ContentHashUnset { .. }),
            "only an unset hash separates the policies, got {e:?}"
        ),
    }
    let c = match lax {
        Ok(c) => c,
        Err(e) => {
            check_container_error(file, e);
            return;
        }
    };
    assert_eq!(c.file().as_ptr(), file.as_ptr());
    assert_eq!(c.file().len(), file.len());
    let (body, page) = segment::split_root_page(file);
    match c.root_page_offset() {
        Some(at) => {
            assert_eq!(at + 4096, file.len() as u64);
            assert_eq!(page.map(<[u8]>::len), Some(4096));
        }
        None => assert!(page.is_none()),
    }
    if let Some(at) = c.root_page_offset() {
        let rp = c
            .root_page()
            .expect("a root page the container accepted parses again");
        assert_eq!(rp.offset(), at);
        check_root_page_ok(&file[at as usize..], &rp);
        assert_eq!(
            rp.manifest_offset(),
            c.manifest().offset(),
            "the page commits to the winning manifest"
        );
    }
    let segs = check_walk(body);
    assert!(!segs.is_empty());
    // verify_segments: the first segment (in file order) failing the gate,
    // where an algo-0 segment must carry the file's algo-0 hash (issue 9 §4).
    let algo0 = c.algo0();
    let first_bad = segs.iter().find_map(|s| {
        match rvf_boot::checksum::require_content_hash(s, c.policy().allow_unset_hash) {
            Ok(rvf_boot::checksum::HashCheck::Verified(found))
                if s.header.checksum_algo == 0
                    && found != algo0
                    && algo0.digest(s.payload) != s.header.content_hash =>
            {
                Some(Error::ContentHashOtherWriter {
                    index: s.index,
                    offset: s.offset,
                    expected: algo0,
                    found,
                })
            }
            other => other.err(),
        }
    });
    assert_eq!(
        c.verify_segments().err(),
        first_bad,
        "verify_segments reports the first failure"
    );
    let walked: Vec<u64> = segs.iter().map(|s| s.offset).collect();
    let fresh: Vec<u64> = c.segments().map(|s| s.offset).collect();
    assert_eq!(walked, fresh, "Container::segments is the walk");
    let (ms, _check) = c.manifest_segment();
    assert_eq!(ms.seg_type(), seg_type::MANIFEST);
    assert!(
        walked.contains(&ms.offset),
        "the manifest is a walked segment"
    );
    let newest = segs
        .iter()
        .rfind(|s| s.seg_type() == seg_type::MANIFEST)
        .unwrap();
    assert_eq!(newest.offset, ms.offset, "the newest manifest wins");
    assert_eq!(c.manifest().offset(), ms.offset);
    if let Some((off, len)) = c.trailing() {
        assert_eq!(
            off + len,
            body.len() as u64,
            "trailing runs to the end of the body"
        );
        assert!(len > 0);
    }
    let entries = c.manifest().entries();
    assert!(entries.len() <= rvf_boot::manifest::MAX_DIRECTORY_ENTRIES as usize);
    assert!(
        entries
            .windows(2)
            .all(|w| w[0].offset.get() < w[1].offset.get()),
        "directory entries name segments once each, in file order"
    );
    for e in entries {
        let off = e.offset.get();
        let s = c
            .segment_at(off)
            .expect("directory entries point at walked segments");
        assert!(walked.contains(&off));
        assert_eq!(s.seg_type(), e.seg_type);
        assert_eq!(s.segment_id(), e.segment_id.get());
        assert_eq!(s.payload_length(), e.payload_length.get());
    }
    if let Some(h) = c.manifest().segment_hashes() {
        assert_eq!(h.len(), entries.len());
    }
    // Kernels: every Ok is consistent; selection is the first listed kernel.
    let kernels: Vec<_> = c.kernels().collect();
    let listed = entries
        .iter()
        .filter(|e| e.seg_type == seg_type::KERNEL)
        .count();
    assert_eq!(kernels.len(), listed);
    match c.selected_kernel() {
        Ok(k) => {
            let first = kernels.first().expect("a selected kernel is listed");
            assert_eq!(
                first.as_ref().map(KernelSegment::segment_offset).ok(),
                Some(k.segment_offset())
            );
        }
        Err(Error::NoKernel) => assert_eq!(listed, 0),
        Err(e) => assert_eq!(
            kernels.first().map(|r| r.as_ref().err().copied()),
            Some(Some(e))
        ),
    }
    let mut state = Box::<InflateState>::default();
    for (k, e) in kernels
        .iter()
        .zip(entries.iter().filter(|e| e.seg_type == seg_type::KERNEL))
    {
        match k {
            Ok(k) => {
                assert_eq!(k.segment_offset(), e.offset.get());
                assert_eq!(k.segment().seg_type(), seg_type::KERNEL);
                assert!(
                    k.content_hash().is_some(),
                    "container kernels are hash-checked"
                );
                check_kernel(k);
                let again = c
                    .kernel_at(k.segment_offset())
                    .expect("kernel_at finds a listed kernel");
                assert_eq!(again.segment_offset(), k.segment_offset());
                assert_eq!(
                    k.policy(),
                    c.policy(),
                    "kernels carry the container's policy"
                );
                // The same kernel from the strict container, if it hands one out.
                let strict = strict
                    .as_ref()
                    .ok()
                    .and_then(|s| s.kernel_at(k.segment_offset()).ok())
                    .and_then(|sk| {
                        assert_eq!(sk.policy(), Policy::default());
                        check_extract(&sk, &mut state)
                    });
                let lax = check_extract(k, &mut state);
                check_deferred(&c, k.segment_offset(), &mut state);
                if strict.is_some() {
                    assert_eq!(strict, lax, "the policy changes only hash acceptance");
                }
                if let Some(image) = lax {
                    check_boot_chain(&image, k.cmdline());
                }
            }
            Err(err) => {
                check_kernel_error(*err);
                check_deferred(&c, e.offset.get(), &mut state);
            }
        }
    }
    // Listed WASM segments (bundles).
    for w in c.listed(seg_type::WASM) {
        match w {
            Ok(s) => {
                check_segment(body, &s);
                check_wasm(s.payload, s.offset);
            }
            Err(e) => assert!(
                matches!(
                    e,
                    Error::ContentHashMismatch { .. }
                        | Error::ContentHashOtherWriter { .. }
                        | Error::ContentHashUnset { .. }
                        | Error::UnsupportedSegmentField { .. }
                        | Error::UnknownChecksumAlgo { .. }
                ),
                "listed() error {e:?}"
            ),
        }
    }
}

fn check_container_error(file: &[u8], e: Error) {
    assert!(
        matches!(
            e,
            Error::NotRvf { .. }
                | Error::NoCompleteManifest { .. }
                | Error::TooManySegments { .. }
                | Error::ManifestMalformed { .. }
                | Error::TooManyDirectoryEntries { .. }
                | Error::DirectoryEntryNotASegment { .. }
                | Error::DirectoryMismatch { .. }
                | Error::DirectoryDuplicate { .. }
                | Error::DirectoryOrder { .. }
                | Error::ContentHashMismatch { .. }
                | Error::ContentHashUnset { .. }
                | Error::UnsupportedSegmentField { .. }
                | Error::UnknownChecksumAlgo { .. }
                | Error::RootPageCrc { .. }
                | Error::RootPageField { .. }
                | Error::UnsupportedVersion { .. }
                | Error::BadMagic { .. }
                | Error::Truncated { .. }
        ),
        "container error {e:?}"
    );
    if let Error::NotRvf { file_size, .. } | Error::NoCompleteManifest { file_size, .. } = e {
        assert_eq!(file_size, file.len() as u64);
    }
    if let Error::NoCompleteManifest { walk_end, .. } = e {
        assert!(walk_end <= file.len() as u64);
    }
}

fn check_kernel_error(e: Error) {
    assert!(
        matches!(
            e,
            Error::BadMagic { .. }
                | Error::UnsupportedVersion { .. }
                | Error::Truncated { .. }
                | Error::KernelLayout { .. }
                | Error::KernelField { .. }
                | Error::ImageSize { .. }
                | Error::UnsupportedCompression { .. }
                | Error::ContentHashMismatch { .. }
                | Error::ContentHashOtherWriter { .. }
                | Error::ContentHashUnset { .. }
                | Error::UnsupportedSegmentField { .. }
                | Error::UnknownChecksumAlgo { .. }
                | Error::NoKernelAt { .. }
        ),
        "kernel error {e:?}"
    );
}

/// Builds a one-segment file (KERNEL_SEG, unset content hash) around
/// `payload` and returns it; the segment starts at 0.
pub fn wrap_in_segment(ty: u8, payload: &[u8]) -> Vec<u8> {
    rvf_testkit::build::segment_unhashed(ty, payload)
}

/// The kernel-segment parser on a fuzzed payload, then extraction under the
/// lax policy (the content hash is unset) and the boot chain.
pub fn check_kernel_payload(payload: &[u8]) {
    let file = wrap_in_segment(seg_type::KERNEL, payload);
    let seg = Walk::new(&file).next().expect("the wrapper is one segment");
    assert_eq!(seg.payload, payload);
    let lax_policy = Policy::allowing_unset_hash(true);
    let parsed = KernelSegment::parse_unverified(seg, lax_policy);
    let strict_parsed = KernelSegment::parse_unverified(seg, Policy::default());
    assert_eq!(
        parsed.as_ref().err(),
        strict_parsed.as_ref().err(),
        "parsing does not depend on the policy"
    );
    match parsed {
        Ok(k) => {
            assert_eq!(k.content_hash(), None);
            assert_eq!(k.policy(), lax_policy);
            check_kernel(&k);
            let mut state = Box::<InflateState>::default();
            // The strict policy must refuse the unset content hash.
            let strict_k = strict_parsed.expect("parsed under the lax policy");
            assert_eq!(strict_k.policy(), Policy::default());
            let strict = image::extract(&strict_k, &mut [0u8; 0][..], &mut state);
            assert!(
                matches!(
                    strict,
                    Err(Error::ContentHashUnset {
                        index: 0,
                        offset: 0
                    })
                ),
                "{strict:?}"
            );
            if let Some(image) = check_extract(&k, &mut state) {
                check_boot_chain(&image, k.cmdline());
            }
        }
        Err(e) => {
            check_kernel_error(e);
            if let Error::KernelLayout { payload_length, .. } = e {
                assert_eq!(payload_length, payload.len() as u64);
            }
            if let Error::ImageSize {
                offset,
                image_size,
                limit,
            } = e
            {
                assert_eq!(offset, 0);
                assert!(image_size > limit.max(), "{e:?}");
                assert_eq!(image_size, u64_at(payload, 0x18), "the header's image_size");
                if let ImageSizeLimit::Deflate { stored_size } = limit {
                    assert!(stored_size < payload.len() as u64);
                }
            }
        }
    }
}

/// `gzip::inflate` with a `chunk`-byte [`InflateState`] into a bounded buffer
/// with a sentinel tail, and `joined::inflate_joined` with the same engine,
/// which must agree exactly; returns the produced image on success.
/// `declared` is the image size to demand.
pub fn check_inflate(stored: &[u8], declared: u64, chunk: usize) -> Option<Vec<u8>> {
    let cap = declared.min(MAX_EXTRACT) as usize;
    let mut out = vec![0xA5u8; cap + 64];
    let buf_len = if declared > MAX_EXTRACT {
        cap
    } else {
        cap + 64
    };
    let mut state = Box::new(InflateState::with_chunk_size(chunk));
    let mut seen = Vec::new();
    let r = gzip::inflate(
        stored,
        &mut out[..buf_len],
        declared,
        &mut state,
        &mut |c: &[u8]| {
            assert!(
                c.len() <= chunk.max(1),
                "sink chunks are at most `chunk` bytes"
            );
            seen.extend_from_slice(c);
        },
    );
    if declared <= MAX_EXTRACT {
        assert!(
            out[cap..].iter().all(|&b| b == 0xA5),
            "inflate wrote past image_size"
        );
    }
    // The same engine pipelined (`inflate_joined`, its window the last
    // 32 KiB of the buffer, the sink lagging behind): the same result, the
    // same bytes in the buffer (partial output too), the same sink bytes
    // (a prefix of them on error), in chunks of at most `chunk`.
    let mut out2 = vec![0xA5u8; cap + 64];
    let mut seen2 = Vec::new();
    let r2 = joined::inflate_joined(
        stored,
        &mut out2[..buf_len],
        declared,
        &mut *state,
        &mut |c: &[u8]| {
            assert!(
                !c.is_empty() && c.len() <= chunk.max(1),
                "joined sink chunks are 1 ..= `chunk` bytes"
            );
            seen2.extend_from_slice(c);
        },
        &joined::Sequential,
    );
    assert_eq!(r2, r, "inflate_joined == inflate");
    assert!(out2 == out, "inflate_joined writes what inflate writes");
    assert!(
        seen.starts_with(&seen2) && (r.is_err() || seen2 == seen),
        "the joined sink sees inflate's bytes, all of them on success"
    );
    assert!(
        seen.len() as u64 <= declared,
        "the sink never sees more than image_size"
    );
    assert_eq!(
        &out[..seen.len()],
        &seen[..],
        "the sink sees exactly what was written"
    );
    match r {
        Ok(info) => {
            assert_eq!(info.image_size, declared);
            assert_eq!(
                seen.len() as u64,
                declared,
                "extracted length == image_size"
            );
            assert_eq!(info.crc32, gzip::crc32(&seen));
            assert_eq!(
                info.header.len + info.deflate_len + 8,
                stored.len() as u64,
                "member fills the input"
            );
            assert_eq!(gzip::parse_header(stored), Ok(info.header));
            let n = stored.len();
            assert_eq!(
                u32::from_le_bytes(stored[n - 8..n - 4].try_into().unwrap()),
                info.crc32
            );
            assert_eq!(
                u32::from_le_bytes(stored[n - 4..].try_into().unwrap()),
                declared as u32
            );
            Some(seen)
        }
        Err(e) => {
            match e {
                Error::BufferTooSmall { needed, available } => {
                    assert_eq!(needed, declared);
                    assert_eq!(available, buf_len as u64);
                    assert!(declared > buf_len as u64);
                }
                Error::GzipHeader { .. }
                | Error::GzipTruncated { .. }
                | Error::Inflate { .. }
                | Error::ImageOverflow { .. }
                | Error::ImageShort { .. }
                | Error::GzipCrc { .. }
                | Error::GzipSize { .. }
                | Error::GzipTrailingBytes { .. } => {}
                other => panic!("inflate error {other:?}"),
            }
            if let Error::ImageOverflow { image_size } = e {
                assert_eq!(image_size, declared);
                assert_eq!(seen.len() as u64, declared);
            }
            if let Error::ImageShort {
                image_size,
                produced,
            } = e
            {
                assert_eq!(image_size, declared);
                assert!(produced < declared);
            }
            None
        }
    }
}

/// The QEMU/SeaBIOS-like memory map for `-m 256` plus 1 GiB above 4 GiB.
pub const MEMORY_MAP: [MemoryRegion; 6] = [
    MemoryRegion {
        base: 0,
        size: 0x9_FC00,
        kind: E820Type::Ram,
    },
    MemoryRegion {
        base: 0x9_FC00,
        size: 0x400,
        kind: E820Type::Reserved,
    },
    MemoryRegion {
        base: 0xF_0000,
        size: 0x1_0000,
        kind: E820Type::Reserved,
    },
    MemoryRegion {
        base: MIB,
        size: 0xFEE_0000,
        kind: E820Type::Ram,
    },
    MemoryRegion {
        base: 0xFFFC_0000,
        size: 0x4_0000,
        kind: E820Type::Reserved,
    },
    MemoryRegion {
        base: 0x1_0000_0000,
        size: 0x4000_0000,
        kind: E820Type::Ram,
    },
];

/// What the loader already occupies: its stub at 1 MiB, an initrd near the
/// top of low RAM.
pub const OCCUPIED: [PhysRange; 2] = [
    PhysRange {
        base: MIB,
        size: MIB,
    },
    PhysRange {
        base: 0xF00_0000,
        size: 0x80_0000,
    },
];

const CMDLINE_AT: u64 = 0x2_0000;

fn overlaps(a: PhysRange, b: PhysRange) -> bool {
    let (ae, be) = (
        a.base as u128 + a.size as u128,
        b.base as u128 + b.size as u128,
    );
    a.size != 0 && b.size != 0 && (a.base as u128) < be && (b.base as u128) < ae
}

/// Independent window check: inside one RAM entry of [`MEMORY_MAP`] (no two
/// RAM entries there touch), under `limit`, clear of every non-RAM entry and
/// every occupied range.
fn fits(base: u64, size: u64, limit: u64) -> bool {
    let end = base as u128 + size as u128;
    if end > limit as u128 {
        return false;
    }
    let w = PhysRange { base, size };
    let in_ram = MEMORY_MAP.iter().any(|r| {
        r.kind == E820Type::Ram && r.base <= base && end <= r.base as u128 + r.size as u128
    });
    let blocked = MEMORY_MAP
        .iter()
        .filter(|r| r.kind != E820Type::Ram)
        .map(|r| PhysRange {
            base: r.base,
            size: r.size,
        })
        .chain(OCCUPIED)
        .any(|r| overlaps(r, w));
    in_ram && !blocked
}

/// bzImage validation, boot plan, cmdline and zero page on `image`, with
/// `cmdline` as the RVF cmdline (and a fixed extra argument).
pub fn check_boot_chain(image: &[u8], cmdline: &[u8]) {
    let bz = match BzImage::parse(image) {
        Ok(bz) => bz,
        Err(e) => {
            assert!(
                matches!(e, Error::BzImage { .. } | Error::Truncated { .. }),
                "bzImage error {e:?}"
            );
            if image.len() < 0x26C {
                assert!(matches!(e, Error::Truncated { .. }), "short image: {e:?}");
            }
            return;
        }
    };
    check_bzimage(image, &bz);
    let plan = BootPlan::new(&bz, &MEMORY_MAP, &OCCUPIED);
    let limit = bz.address_limit();
    let plan = match plan {
        Ok(p) => p,
        Err(e) => {
            assert_eq!(
                e,
                Error::NoRoom {
                    what: BootItem::Kernel,
                    size: bz.init_size(),
                    align: bz.kernel_alignment()
                }
            );
            if !bz.relocatable() {
                assert!(!fits(bz.pref_address(), bz.init_size(), limit));
            }
            return;
        }
    };
    let w = plan.window();
    assert_eq!(w.base, plan.load_address());
    assert_eq!(w.size, bz.init_size());
    assert!(
        fits(w.base, w.size, limit),
        "boot plan window inside RAM and free: {w:?}"
    );
    assert_eq!(plan.entry_64(), plan.load_address() + 0x200);
    assert_eq!(plan.protected_mode(), bz.protected_mode());
    if bz.relocatable() {
        let a = bz.kernel_alignment();
        assert_eq!(plan.load_address() % a, 0, "aligned load address");
        assert!(plan.load_address() >= bz.pref_address());
        let lower = plan.load_address() - a;
        if plan.load_address() >= bz.pref_address() + a {
            assert!(
                !fits(lower, w.size, limit),
                "the lowest fitting address is chosen"
            );
        }
    } else {
        assert_eq!(plan.load_address(), bz.pref_address());
    }

    // Command line: the RVF part and a fixed extra argument.
    let extra: &[u8] = b"console=ttyS0";
    let mut buf = vec![0x5Au8; 4096];
    let n = check_cmdline(&mut buf, cmdline, extra, bz.cmdline_size());
    let handoff = Handoff {
        cmdline: n.map(|n| PhysRange {
            base: CMDLINE_AT,
            size: n as u64 + 1,
        }),
        // With and without an initrd (by the image length's parity).
        initrd: image.len().is_multiple_of(2).then_some(OCCUPIED[1]),
        memory_map: &MEMORY_MAP,
        acpi_rsdp: Some(0xF_5A40),
    };
    let mut page = Box::new([0xEEu8; ZERO_PAGE_SIZE]);
    match zero_page::build(&mut page, &plan, &handoff) {
        Ok(()) => check_zero_page(&page, image, &bz, &plan, &handoff),
        Err(e) => {
            assert!(
                matches!(e, Error::BootAddress { .. }),
                "zero page error {e:?}"
            );
            if let (
                Error::BootAddress {
                    what: BootItem::Initrd,
                    ..
                },
                Some(r),
            ) = (e, handoff.initrd)
            {
                assert!(r.base + r.size > bz.initrd_addr_max() + 1 || overlaps(r, w));
            }
        }
    }
}

fn check_bzimage(image: &[u8], bz: &BzImage<'_>) {
    let pm = bz.protected_mode();
    let at = assert_within(image, pm, "protected-mode part");
    assert_eq!(at as u64, bz.setup_size());
    assert_eq!(
        at + pm.len(),
        image.len(),
        "protected-mode part runs to the end"
    );
    assert!(!pm.is_empty());
    assert_eq!(bz.setup_size() % 512, 0);
    assert!((0x264..=0x290).contains(&bz.header_end()));
    let hb = bz.setup_header_bytes();
    assert_eq!(assert_within(image, hb, "setup header"), 0x1F1);
    assert_eq!(0x1F1 + hb.len() as u64, bz.header_end());
    assert!(bz.kernel_alignment().is_power_of_two() && bz.kernel_alignment() >= 4096);
    assert!(bz.init_size() >= pm.len() as u64);
    assert!(bz.pref_address() >= MIB);
    assert!(bz.cmdline_size() > 0);
    assert!(bz.version() >= 0x020C);
    assert!(
        bz.pref_address()
            .checked_add(bz.init_size())
            .is_some_and(|e| e <= bz.address_limit())
    );
    assert_eq!(bz.header().setup_data.get(), 0);
}

/// `cmdline::write` with its invariants; the length on success.
pub fn check_cmdline(buf: &mut [u8], rvf: &[u8], extra: &[u8], cmdline_size: u64) -> Option<usize> {
    let sep: &[u8] = if rvf.is_empty() || extra.is_empty() {
        b""
    } else {
        b" "
    };
    let want: Vec<u8> = [rvf, sep, extra].concat();
    match cmdline::write(buf, rvf, extra, cmdline_size) {
        Ok(n) => {
            assert_eq!(n, want.len());
            assert!(n as u64 <= cmdline_size);
            assert_eq!(&buf[..n], &want[..]);
            assert_eq!(buf[n], 0);
            assert!(want.iter().all(|&b| b >= 0x20 && b != 0x7F));
            Some(n)
        }
        Err(Error::Cmdline(CmdlineProblem::TooLong { length, limit })) => {
            assert_eq!(length, want.len() as u64);
            assert_eq!(limit, cmdline_size);
            assert!(length > cmdline_size);
            None
        }
        Err(Error::Cmdline(problem)) => {
            let bad = want
                .iter()
                .position(|&b| b < 0x20 || b == 0x7F)
                .expect("a bad byte exists");
            let at = bad as u64;
            let expected = if want[bad] == 0 {
                CmdlineProblem::NulByte { at }
            } else {
                CmdlineProblem::ControlByte {
                    at,
                    byte: want[bad],
                }
            };
            assert_eq!(problem, expected, "the first bad byte is named");
            None
        }
        Err(Error::BufferTooSmall { needed, available }) => {
            assert_eq!(needed, want.len() as u64 + 1);
            assert!(available < needed);
            None
        }
        Err(e) => panic!("cmdline::write error {e:?}"),
    }
}

/// A bug already reported: fails unless `RVF_FUZZ_ALLOW_KNOWN_BUGS` is set
/// (so long fuzz runs can look past it while it is being fixed).
pub fn known_bug(what: &str) {
    if std::env::var_os("RVF_FUZZ_ALLOW_KNOWN_BUGS").is_none() {
        panic!("known bug: {what}");
    }
}

fn check_zero_page(
    page: &[u8; ZERO_PAGE_SIZE],
    image: &[u8],
    bz: &BzImage<'_>,
    plan: &BootPlan<'_>,
    h: &Handoff<'_>,
) {
    let end = bz.header_end() as usize;
    // Fields the loader writes, as (offset, length).
    let written: [(usize, usize); 7] = [
        (0x1FA, 2),
        (0x210, 1),
        (0x211, 1),
        (0x214, 4),
        (0x218, 8),
        (0x224, 2),
        (0x228, 4),
    ];
    let is_written = |i: usize| written.iter().any(|&(o, n)| (o..o + n).contains(&i));
    for i in 0x1F1..end {
        if !is_written(i) {
            assert_eq!(page[i], image[i], "setup header byte {i:#x} copied");
        }
    }
    for i in end..0x290 {
        if !is_written(i) {
            assert_eq!(page[i], 0, "byte {i:#x} past the header end is zero");
        }
    }
    assert!(page[..0x70].iter().all(|&b| b == 0));
    assert_eq!(u16_at(page, 0x1FA), 0xFFFF);
    assert_eq!(page[0x210], 0xFF);
    assert_eq!(page[0x211], image[0x211] & !0x80);
    assert_eq!(u16_at(page, 0x224), 0);
    let load = plan.load_address();
    if load < 1 << 32 {
        assert_eq!(u64::from(u32_at(page, 0x214)), load);
    }
    match h.cmdline {
        Some(c) => {
            assert_eq!(
                u64::from(u32_at(page, 0x228)) | u64::from(u32_at(page, 0xC8)) << 32,
                c.base
            );
        }
        None => {
            assert_eq!(u32_at(page, 0xC8), 0);
            if u32_at(page, 0x228) != 0 {
                known_bug(
                    "zero_page::build keeps the image's cmd_line_ptr when there is no cmdline",
                );
            }
        }
    }
    match h.initrd.filter(|r| r.size != 0) {
        Some(r) => {
            assert_eq!(
                u64::from(u32_at(page, 0x218)) | u64::from(u32_at(page, 0xC0)) << 32,
                r.base
            );
            assert_eq!(
                u64::from(u32_at(page, 0x21C)) | u64::from(u32_at(page, 0xC4)) << 32,
                r.size
            );
        }
        None => {
            assert_eq!(u32_at(page, 0xC0), 0);
            assert_eq!(u32_at(page, 0xC4), 0);
            if u32_at(page, 0x218) != 0 || u32_at(page, 0x21C) != 0 {
                known_bug(
                    "zero_page::build keeps the image's ramdisk_image/ramdisk_size when there is no initrd",
                );
            }
        }
    }
    assert_eq!(u64_at(page, 0x70), h.acpi_rsdp.unwrap_or(0));
    assert_eq!(usize::from(page[0x1E8]), h.memory_map.len());
    for (i, m) in h.memory_map.iter().enumerate() {
        let o = 0x2D0 + 20 * i;
        assert_eq!(u64_at(page, o), m.base);
        assert_eq!(u64_at(page, o + 8), m.size);
        assert_eq!(u32_at(page, o + 16), m.kind.code());
    }
    let table_end = 0x2D0 + 20 * h.memory_map.len();
    assert!(
        page[table_end..].iter().all(|&b| b == 0),
        "nothing after the e820 table"
    );
}

/// `WasmSegment::parse` on a WASM_SEG payload (its header at `offset`).
pub fn check_wasm(payload: &[u8], offset: u64) {
    match WasmSegment::parse(payload, offset) {
        Ok(w) => {
            assert_eq!(assert_within(payload, w.header, "WASM header"), 0);
            assert_eq!(w.header.len(), 64);
            assert_eq!(
                u32::from_le_bytes(payload[..4].try_into().unwrap()),
                rvf_boot::bundle::WASM_MAGIC
            );
            assert_eq!(
                u32_at(w.header, 0x0C) as usize,
                payload.len() - 64,
                "bytecode_size is the body"
            );
            let hat = assert_within(w.header, &w.bytecode_hash[..], "bytecode hash");
            assert_eq!(w.role, payload[6]);
            assert_eq!(w.target, payload[7]);
            match w.body {
                WasmBody::Module(m) => {
                    assert_eq!(assert_within(payload, m, "module"), 64);
                    assert_eq!(m.len(), payload.len() - 64);
                    assert!(m.starts_with(b"\0asm"));
                    assert_eq!(hat, 0x18);
                    assert_eq!(w.bundle_hash_ok(), None);
                }
                WasmBody::Bundle(b) => {
                    assert_eq!(assert_within(payload, b.bytes(), "bundle"), 64);
                    assert_eq!(hat, 0x1C);
                    assert!(w.bundle_hash_ok().is_some());
                    check_bundle_ok(&b);
                }
            }
        }
        Err(e) => assert!(
            matches!(
                e,
                Error::Truncated { .. }
                    | Error::BadMagic { .. }
                    | Error::UnsupportedVersion { .. }
                    | Error::WasmBodySize { .. }
            ) || is_bundle_table_error(&e),
            "WASM error {e:?}"
        ),
    }
    if let Err(Error::WasmBodySize {
        offset: at,
        declared,
        actual,
    }) = WasmSegment::parse(payload, offset)
    {
        assert_eq!(at, offset);
        assert_eq!(actual, payload.len() as u64 - 64);
        assert_eq!(declared, u64::from(u32_at(payload, 0x0C)));
        assert_ne!(declared, actual);
    }
}

/// The errors a RuvBot bundle's file table may give (`Bundle::parse`).
fn is_bundle_table_error(e: &Error) -> bool {
    matches!(
        e,
        Error::BundleTruncated { .. }
            | Error::TooManyBundleFiles { .. }
            | Error::BundleEntry { .. }
            | Error::BundlePath { .. }
            | Error::BundleOverlap { .. }
            | Error::BundleDuplicatePath { .. }
            | Error::BundlePathConflict { .. }
            | Error::BundleUnsorted { .. }
    )
}

/// `Bundle::parse` on raw bundle bytes.
pub fn check_bundle(bytes: &[u8]) {
    match Bundle::parse(bytes) {
        Ok(b) => {
            assert_eq!(b.bytes().as_ptr(), bytes.as_ptr());
            check_bundle_ok(&b);
        }
        Err(e) => {
            assert!(is_bundle_table_error(&e), "bundle error {e:?}");
            if let Error::BundleTruncated { length } = e {
                assert_eq!(length, bytes.len() as u64);
                assert!(bytes.len() < 4);
            }
            if let Error::TooManyBundleFiles { count, limit } = e {
                assert_eq!(limit, rvf_boot::bundle::MAX_BUNDLE_FILES);
                assert!(count > limit);
            }
        }
    }
}

fn check_bundle_ok(b: &Bundle<'_>) {
    let bytes = b.bytes();
    let files: Vec<_> = b.files_unverified().collect();
    assert_eq!(
        files.len() as u64,
        u64::from(b.len()),
        "iteration yields every listed file"
    );
    assert!(b.len() <= rvf_boot::bundle::MAX_BUNDLE_FILES);
    assert_eq!(b.is_empty(), files.is_empty());
    let mut at = 4usize;
    for f in &files {
        // The table entry: path_len u16, data_offset u64, data_size u64, path.
        let path_len = usize::from(u16_at(bytes, at));
        let data_off = u64_at(bytes, at + 2) as usize;
        let data_size = u64_at(bytes, at + 10) as usize;
        assert_eq!(assert_within(bytes, f.path, "bundle path"), at + 18);
        assert_eq!(f.path.len(), path_len);
        if data_size != 0 {
            assert_eq!(assert_within(bytes, f.data, "bundle data"), data_off);
        } else {
            assert_within(bytes, f.data, "bundle data");
        }
        assert_eq!(f.data.len(), data_size);
        // Every path passed the library's rules.
        assert!(rvf_boot::bundle::check_path(f.path).is_ok());
        at += 18 + path_len;
    }
}

/// The public key of Ed25519 seed `[7u8; 32]`, which signed the golden
/// `runtime-05/signed.rvf` (see host-tests/tests/golden_writers.rs).
pub const SIGNED_PUBKEY: [u8; 32] = [
    0xea, 0x4a, 0x6c, 0x63, 0xe2, 0x9c, 0x52, 0x0a, 0xbe, 0xf5, 0x50, 0x7b, 0x13, 0x2e, 0xc5, 0xf9,
    0x95, 0x47, 0x76, 0xae, 0xbe, 0xbe, 0x7b, 0x92, 0x42, 0x1e, 0xea, 0x69, 0x14, 0x46, 0xd2, 0x2c,
];

static TRUSTED: [[u8; 32]; 1] = [SIGNED_PUBKEY];
static UNTRUSTED: [[u8; 32]; 2] = [[0x42; 32], [0x24; 32]];
/// A pin no image's SHA-256 has.
static NO_IMAGE: [u8; 32] = [0; 32];

/// The signature and pin paths (issue 10) on any file: under the golden
/// signer's key, an untrusted key, a minimum epoch and the signed-prefix
/// option, and wrong pins. A signature policy accepts only what the
/// integrity reading also accepts (same manifest, unless an unsigned tail is
/// served past), says who signed, and never accepts an untrusted key.
pub fn check_auth(file: &[u8]) {
    use rvf_boot::image::authenticate;
    use rvf_boot::policy::AuthProblem;
    let signed = Policy::default().requiring_signature(&TRUSTED);
    let served = signed.serving_signed_prefix(true);
    match Container::parse(file, Policy::default().requiring_signature(&UNTRUSTED)) {
        Ok(_) => panic!("an untrusted key authenticated a file"),
        Err(e) => assert!(
            !matches!(
                e,
                Error::Auth(
                    AuthProblem::EpochBelowMinimum { .. } | AuthProblem::UnsignedTail { .. }
                )
            ),
            "steps after the signature ran without one: {e:?}"
        ),
    }
    check_pins(file);
    let strict = Container::parse(file, signed);
    let prefix = Container::parse(file, served);
    match (&strict, &prefix) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.signed(), b.signed());
            assert_eq!(a.signed().and_then(|s| s.unsigned_tail), None);
        }
        (Err(Error::Auth(AuthProblem::UnsignedTail { offset, length })), Ok(b)) => {
            assert_eq!(
                b.signed().and_then(|s| s.unsigned_tail),
                Some((*offset, *length))
            );
        }
        // Past the tail, the served prefix meets the later checks.
        (Err(Error::Auth(AuthProblem::UnsignedTail { .. })), Err(_)) => {}
        (Err(a), Err(b)) => assert_eq!(a, b, "the prefix option changes only the tail"),
        (a, b) => panic!(
            "prefix option: {:?} vs {:?}",
            a.as_ref().err(),
            b.as_ref().err()
        ),
    }
    let Ok(c) = prefix else { return };
    let who = c.signed().expect("a signature policy says who signed");
    assert_eq!(
        who.fingerprint,
        rvf_boot::checksum::shake256(&SIGNED_PUBKEY)
    );
    assert_eq!(who.key_index, 0);
    assert_eq!(who.root_page + 4096, file.len() as u64);
    assert_eq!(who.manifest_offset, c.manifest().offset());
    assert_eq!(who.epoch, c.manifest().epoch());
    assert!(c.manifest().segment_hashes().is_some());
    if who.unsigned_tail.is_none() {
        let plain = Container::parse(file, Policy::default())
            .expect("a signed file without a tail verifies as integrity");
        assert_eq!(plain.manifest().offset(), c.manifest().offset());
    }
    match Container::parse(file, served.with_min_epoch(who.epoch.saturating_add(1))) {
        Err(Error::Auth(AuthProblem::EpochBelowMinimum { epoch, minimum })) => {
            assert_eq!((epoch, minimum), (who.epoch, who.epoch + 1));
        }
        other if who.epoch == u32::MAX => assert!(other.is_ok()),
        other => panic!("epoch: {:?}", other.err()),
    }
    // The kernel the boot reads is the one the SHDG table commits to, and a
    // wrong pin is refused on the bytes handed over.
    if let Ok(k) = c.selected_kernel() {
        let committed = c.manifest().segment_hashes().and_then(|h| {
            c.manifest()
                .entries()
                .iter()
                .position(|e| e.offset.get() == k.segment_offset())
                .and_then(|i| h.get(i))
        });
        assert_eq!(
            committed.map(|h| h.content_hash),
            Some(rvf_boot::checksum::shake256(k.segment().payload))
        );
        if image::buffer_size(&k) <= 1 << 20 {
            let mut out = vec![0u8; image::buffer_size(&k) as usize];
            let mut state = Box::<InflateState>::default();
            if let Ok(img) = image::extract(&k, &mut out, &mut state) {
                let a = authenticate(&c, &img, k.cmdline()).expect("no pins: authenticated");
                assert_eq!(a.signed, Some(who));
                let pinned = Container::parse(
                    file,
                    served
                        .pinning_kernel_sha256(&NO_IMAGE)
                        .pinning_cmdline_sha256(&NO_IMAGE),
                )
                .expect("pins do not change the parse");
                let pk = pinned.selected_kernel().expect("same kernel");
                let img = image::extract(&pk, &mut out, &mut state).expect("same image");
                assert!(matches!(
                    authenticate(&pinned, &img, k.cmdline()),
                    Err(Error::Auth(AuthProblem::KernelPin {
                        pinned_first8: 0,
                        ..
                    }))
                ));
            }
        }
    }
}

/// Pins on any dialect: a pin no image has is refused after extraction,
/// naming the image's own digest; the cmdline pin likewise.
fn check_pins(file: &[u8]) {
    use rvf_boot::image::authenticate;
    use rvf_boot::policy::AuthProblem;
    let policy = Policy::allowing_unset_hash(true)
        .pinning_kernel_sha256(&NO_IMAGE)
        .pinning_cmdline_sha256(&NO_IMAGE);
    let Ok(c) = Container::parse(file, policy) else {
        return;
    };
    assert_eq!(c.signed(), None, "no signature policy, no signer");
    let Ok(k) = c.selected_kernel() else { return };
    match policy.check_cmdline(k.cmdline()) {
        Err(Error::Auth(AuthProblem::CmdlinePin {
            length,
            pinned_first8: 0,
            ..
        })) => {
            assert_eq!(length, k.cmdline().len() as u64);
        }
        other => panic!("cmdline pin: {other:?}"),
    }
    if image::buffer_size(&k) > 1 << 20 {
        return;
    }
    let mut out = vec![0u8; image::buffer_size(&k) as usize];
    let mut state = Box::<InflateState>::default();
    let Ok(img) = image::extract(&k, &mut out, &mut state) else {
        return;
    };
    let digest = image_hash::digest(image_hash::ImageHash::Sha256, img.bytes());
    match authenticate(&c, &img, k.cmdline()) {
        Err(Error::Auth(AuthProblem::KernelPin {
            offset,
            computed_first8,
            pinned_first8: 0,
        })) => {
            assert_eq!(offset, k.segment_offset());
            assert_eq!(computed_first8.to_be_bytes(), digest[..8]);
        }
        other => panic!("kernel pin: {other:?}"),
    }
}

/// `RootPage::parse` on a 4096-byte page (or any bytes), the signed message
/// and signature verification against the golden signer and a wrong key.
pub fn check_root_page(page: &[u8]) {
    match RootPage::parse(page, 0x1000) {
        Ok(rp) => {
            assert!(page.len() >= 4096);
            check_root_page_ok(page, &rp);
        }
        Err(e) => {
            assert!(
                matches!(
                    e,
                    Error::Truncated { .. }
                        | Error::BadMagic { .. }
                        | Error::UnsupportedVersion { .. }
                        | Error::RootPageCrc { .. }
                        | Error::RootPageField { .. }
                ),
                "root page error {e:?}"
            );
            if page.len() < 4096 {
                assert!(matches!(e, Error::Truncated { .. }), "{e:?}");
            }
        }
    }
}

fn check_root_page_ok(page: &[u8], rp: &RootPage<'_>) {
    assert_eq!(&page[..4], b"0MVR");
    let sig = rp.signature();
    assert_eq!(assert_within(page, sig, "signature"), 0x9C);
    assert_eq!(sig.len(), 64);
    assert!(assert_within(page, rp.manifest_content_hash(), "manifest hash") + 16 <= 4096);
    assert!(assert_within(page, rp.signer_fingerprint(), "fingerprint") + 16 <= 4096);
    let mut m = [0x11u8; 4096];
    rp.signed_message(&mut m);
    for i in 0..4096 {
        let zeroed = (0x9C..0xDC).contains(&i) || i >= 0xFFC;
        assert_eq!(
            m[i],
            if zeroed { 0 } else { page[i] },
            "signed message byte {i:#x}"
        );
    }
    let wrong = [[0x42u8; 32]];
    for keys in [&[SIGNED_PUBKEY][..], &wrong[..], &[][..]] {
        match rp.verify_signature(keys) {
            Ok(i) => {
                assert!(i < keys.len());
                assert_eq!(
                    rp.sig_algo(),
                    SigAlgo::Ed25519,
                    "only a signed page verifies"
                );
            }
            Err(e) => assert!(
                matches!(e, Error::RootPageSignature { .. }),
                "signature error {e:?}"
            ),
        }
    }
}

/// What the loader shells read from the firmware and the TPM, parsed by the
/// library (`rvf_boot::measure`): the firmware's TCG event log, TPM response
/// headers and whole responses, the RSDP, ACPI table headers, RSDT/XSDT
/// entries and the TPM2 table's log area. Every `Ok` is checked against the
/// bytes it came from; appending our events where `log_append_offset` says
/// must leave a log whose end `log_end` finds right after them.
pub fn check_measure_inputs(data: &[u8]) {
    use rvf_boot::measure::{
        self, ACPI_HEADER_LEN, BootInputs, RSDP_LEN, TPM_HEADER_LEN, TPM_RESPONSE_MAX,
    };
    // The firmware's event log.
    if let Ok(end) = measure::log_end(data) {
        assert!(
            end <= data.len(),
            "log end {end} past the {}-byte area",
            data.len()
        );
        let cmdline = data.get(..data.len().min(64)).unwrap_or(&[]);
        let cmdline: Vec<u8> = cmdline
            .iter()
            .map(|&b| if b == 0 { b'x' } else { b })
            .collect();
        let inputs = BootInputs {
            manifest: measure::sha256(b"manifest"),
            kernel_image: measure::sha256(b"kernel"),
            initrd: None,
            cmdline: &cmdline,
        };
        if let Ok(log) = measure::boot_events(&inputs) {
            match measure::log_append_offset(data, &log) {
                Ok(at) => {
                    assert_eq!(at, end, "events go right after the last entry");
                    let mut area = data.to_vec();
                    let n = log.write(&mut area[at..]).expect("the events fit: checked");
                    assert_eq!(n, log.encoded_len().unwrap());
                    // The rest of the area, zeroed, ends the log after our events.
                    area[at + n..].iter_mut().for_each(|b| *b = 0);
                    assert_eq!(
                        measure::log_end(&area),
                        Ok(at + n),
                        "our events are walkable"
                    );
                }
                Err(e) => assert!(
                    matches!(e, measure::MeasureError::LogAreaFull { .. }),
                    "a walkable log refuses only for room: {e:?}"
                ),
            }
        }
    }
    // TPM responses: the header, then the whole response.
    if let Some(h) = data.get(..TPM_HEADER_LEN) {
        let h: &[u8; TPM_HEADER_LEN] = h.try_into().unwrap();
        if let Ok(n) = measure::response_size(h) {
            assert!((TPM_HEADER_LEN..=TPM_RESPONSE_MAX).contains(&n));
            assert_eq!(n, u32::from_be_bytes(h[2..6].try_into().unwrap()) as usize);
        }
    }
    if measure::check_response(0x182, data).is_ok() {
        assert!(data.len() >= TPM_HEADER_LEN && data.len() <= TPM_RESPONSE_MAX);
        assert_eq!(
            u32::from_be_bytes(data[2..6].try_into().unwrap()) as usize,
            data.len()
        );
        assert_eq!(
            u32::from_be_bytes(data[6..10].try_into().unwrap()),
            0,
            "success code"
        );
    }
    // ACPI: the RSDP, a table header, the root table's entries, the TPM2 table.
    if let Some(r) = data.get(..RSDP_LEN) {
        let _ = measure::rsdp_root(r.try_into().unwrap());
    }
    if let Some(h) = data.get(..ACPI_HEADER_LEN)
        && let Ok((sig, len)) = measure::sdt_length(h.try_into().unwrap())
    {
        assert_eq!(&sig[..], &h[..4]);
        assert!(len >= ACPI_HEADER_LEN);
    }
    for xsdt in [false, true] {
        if let Ok(entries) = measure::sdt_entries(data, xsdt) {
            assert!(measure::acpi_checksum_ok(data));
            let width = if xsdt { 8 } else { 4 };
            assert_eq!(
                entries.count(),
                data.len().saturating_sub(ACPI_HEADER_LEN) / width
            );
        }
    }
    if let Ok((_, laml)) = measure::tpm2_log_area(data) {
        assert_eq!(&data[..4], b"TPM2");
        assert!(laml > 0, "an empty log area is refused");
    }
}
