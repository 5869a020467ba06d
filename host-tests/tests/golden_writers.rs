//! Golden files from the REAL writers (build-rvf.js, rvf-runtime 0.5.0 and
//! 0.3.2, and 0.3.2 files appended to by 0.5.0), checked fact by fact against
//! `host-tests/golden/*/facts.json`, which the independent Python decoder
//! `host-tests/golden/decode.py` derived from the same bytes.
//!
//! `writers_run_now` also builds and runs both writer binaries
//! (`host-tests/writers/`) at test time and checks the fresh files against the
//! golden facts, skipping only what differs between runs (FIDI file ids and
//! witness timestamps, hence MANIFEST/WITNESS payload bytes; see the READMEs).

use rvf_boot::checksum::check_content_hash;
use rvf_boot::kernel::{KernelLayout, StoredFormat};
use rvf_boot::segment::WalkEnd;
use rvf_boot::{Container, Error, Policy};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

const SEG_MANIFEST: u8 = 0x05;
const SEG_WITNESS: u8 = 0x0A;

/// Public key of Ed25519 seed [7u8; 32] (the `signed` scenario).
const SIGNED_PUBKEY: &str = "ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c";

fn golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("golden")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn sha256_hex(b: &[u8]) -> String {
    hex(&Sha256::digest(b))
}

fn facts(dir: &str) -> serde_json::Map<String, Value> {
    let path = golden().join(dir).join("facts.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    match serde_json::from_str(&text).expect("facts.json parses") {
        Value::Object(m) => m,
        _ => panic!("facts.json is not an object"),
    }
}

fn u(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("fact {key} missing in {v}"))
}

fn s<'v>(v: &'v Value, key: &str) -> &'v str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("fact {key} missing in {v}"))
}

/// Checks every fact of `f` on `bytes`. `fresh`: the file was written now, so
/// the bytes that vary between runs (MANIFEST and WITNESS payloads, root page)
/// are not compared.
fn check(name: &str, bytes: &[u8], f: &Value, fresh: bool) {
    let ctx = |what: &str| format!("{name}: {what}");
    assert_eq!(bytes.len() as u64, u(f, "size"), "{}", ctx("size"));
    let c = Container::parse(bytes, Policy::default())
        .unwrap_or_else(|e| panic!("{}: {e}", ctx("Container::parse")));

    // Forward walk: offsets, types, ids, lengths, padding, hash algorithms.
    let want = f["segments"].as_array().expect("segments");
    let mut walk = c.segments();
    let got: Vec<_> = walk.by_ref().collect();
    assert_eq!(walk.stop(), WalkEnd::Clean, "{}", ctx("walk stop"));
    assert_eq!(got.len(), want.len(), "{}", ctx("segment count"));
    for (g, w) in got.iter().zip(want) {
        let at = ctx(&format!("segment #{} @{}", u(w, "index"), u(w, "offset")));
        assert_eq!(u64::from(g.index), u(w, "index"), "{at} index");
        assert_eq!(g.offset, u(w, "offset"), "{at} offset");
        assert_eq!(u64::from(g.seg_type()), u(w, "seg_type"), "{at} seg_type");
        assert_eq!(g.segment_id(), u(w, "segment_id"), "{at} segment_id");
        assert_eq!(
            g.payload_length(),
            u(w, "payload_length"),
            "{at} payload_length"
        );
        assert_eq!(u64::from(g.header.flags.get()), u(w, "flags"), "{at} flags");
        assert_eq!(
            u64::from(g.header.checksum_algo),
            u(w, "checksum_algo"),
            "{at} checksum_algo"
        );
        assert_eq!(
            u64::from(g.header.compression),
            u(w, "compression"),
            "{at} compression"
        );
        assert_eq!(
            u64::from(g.header.alignment_pad.get()),
            u(w, "alignment_pad"),
            "{at} alignment_pad"
        );
        assert_eq!(
            g.padded,
            w["padded"].as_bool().expect("padded"),
            "{at} padded"
        );
        assert_eq!(
            g.header.timestamp_ns.get(),
            u(w, "timestamp_ns"),
            "{at} timestamp_ns"
        );
        let hc = check_content_hash(g).unwrap_or_else(|e| panic!("{at} content hash: {e}"));
        assert_eq!(hc.name(), s(w, "hash"), "{at} hash algorithm");
        let varies = fresh && matches!(g.seg_type(), SEG_MANIFEST | SEG_WITNESS);
        if !varies {
            assert_eq!(
                sha256_hex(g.payload),
                s(w, "payload_sha256"),
                "{at} payload bytes"
            );
        }
    }

    assert_eq!(c.dialect().name(), s(f, "dialect"), "{}", ctx("dialect"));
    assert_eq!(
        c.root_page_offset(),
        f["root_page"].get("offset").and_then(Value::as_u64),
        "{}",
        ctx("root page offset")
    );
    let trailing = f["trailing"]
        .as_array()
        .map(|a| (a[0].as_u64().unwrap(), a[1].as_u64().unwrap()));
    assert_eq!(c.trailing(), trailing, "{}", ctx("trailing"));

    // The winning manifest and its directory.
    let m = &f["manifest"];
    let man = c.manifest();
    assert_eq!(man.offset(), u(m, "offset"), "{}", ctx("manifest offset"));
    assert_eq!(
        u64::from(man.epoch()),
        u(m, "epoch"),
        "{}",
        ctx("manifest epoch")
    );
    assert_eq!(
        u64::from(man.fixed().dimension.get()),
        u(m, "dimension"),
        "{}",
        ctx("dimension")
    );
    assert_eq!(
        man.fixed().total_vectors.get(),
        u(m, "total_vectors"),
        "{}",
        ctx("total_vectors")
    );
    assert_eq!(
        u64::from(man.fixed().profile_id),
        u(m, "profile_id"),
        "{}",
        ctx("profile_id")
    );
    assert_eq!(
        man.deleted_ids().count() as u64,
        u(m, "del_count"),
        "{}",
        ctx("del_count")
    );
    let (mseg, mhash) = c.manifest_segment();
    assert_eq!(mseg.offset, u(m, "offset"), "{}", ctx("manifest segment"));
    assert_eq!(
        mseg.segment_id(),
        u(m, "segment_id"),
        "{}",
        ctx("manifest segment id")
    );
    let mseg_fact = want
        .iter()
        .find(|w| u(w, "offset") == u(m, "offset"))
        .expect("manifest in walk");
    assert_eq!(
        mhash.name(),
        s(mseg_fact, "hash"),
        "{}",
        ctx("manifest hash")
    );
    let entries: Vec<(u64, u64, u64, u64)> = man
        .entries()
        .iter()
        .map(|e| {
            (
                e.segment_id.get(),
                e.offset.get(),
                e.payload_length.get(),
                u64::from(e.seg_type),
            )
        })
        .collect();
    let want_entries: Vec<(u64, u64, u64, u64)> = m["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                u(e, "segment_id"),
                u(e, "offset"),
                u(e, "payload_length"),
                u(e, "seg_type"),
            )
        })
        .collect();
    assert_eq!(entries, want_entries, "{}", ctx("directory"));
    match (&m["fidi"], man.identity()) {
        (Value::Null, None) => {}
        (Value::Object(w), Some(id)) => {
            assert_eq!(
                u64::from(id.lineage_depth.get()),
                w["lineage_depth"].as_u64().unwrap(),
                "{}",
                ctx("lineage")
            );
            assert_eq!(
                hex(&id.parent_id),
                w["parent_id"].as_str().unwrap(),
                "{}",
                ctx("parent_id")
            );
            if !fresh {
                assert_eq!(
                    hex(&id.file_id),
                    w["file_id"].as_str().unwrap(),
                    "{}",
                    ctx("file_id")
                );
            }
        }
        (w, g) => panic!("{}: FIDI fact {w} vs {:?}", ctx("FIDI"), g.is_some()),
    }
    match (&m["shdg"], man.segment_hashes()) {
        (Value::Null, None) => {}
        (Value::Array(w), Some(h)) => {
            assert_eq!(h.len(), w.len(), "{}", ctx("SHDG count"));
            for (g, w) in h.iter().zip(w) {
                assert_eq!(g.segment_id.get(), u(w, "segment_id"), "{}", ctx("SHDG id"));
                if !fresh {
                    assert_eq!(
                        hex(&g.content_hash),
                        s(w, "content_hash"),
                        "{}",
                        ctx("SHDG hash")
                    );
                }
            }
        }
        (w, g) => panic!("{}: SHDG fact {w} vs {:?}", ctx("SHDG"), g.is_some()),
    }

    // Kernels in directory order, the selected one, and kernel_at.
    let want_k = f["kernels"].as_array().expect("kernels");
    let got_k: Vec<_> = c
        .kernels()
        .map(|k| k.unwrap_or_else(|e| panic!("{}: {e}", ctx("kernel"))))
        .collect();
    assert_eq!(got_k.len(), want_k.len(), "{}", ctx("kernel count"));
    for (k, w) in got_k.iter().zip(want_k) {
        let at = ctx(&format!("kernel @{}", u(w, "segment_offset")));
        assert_eq!(k.segment_offset(), u(w, "segment_offset"), "{at} offset");
        assert_eq!(
            k.segment().segment_id(),
            u(w, "segment_id"),
            "{at} segment id"
        );
        let layout = match s(w, "layout") {
            "ruvbot" => KernelLayout::RuvBot,
            "simple" => KernelLayout::Simple,
            "binding" => KernelLayout::Binding,
            other => panic!("{at}: layout fact {other}"),
        };
        assert_eq!(k.layout(), layout, "{at} layout");
        assert_eq!(k.layout().name(), s(w, "layout"), "{at} layout name");
        let format = if s(w, "format") == "gzip" {
            StoredFormat::Gzip
        } else {
            StoredFormat::Raw
        };
        assert_eq!(k.format(), format, "{at} stored format");
        assert_eq!(k.image_size(), u(w, "image_size"), "{at} image_size");
        assert_eq!(k.stored_size(), u(w, "stored_size"), "{at} stored_size");
        assert_eq!(
            k.header().compressed_size.get(),
            u(w, "compressed_size"),
            "{at} compressed_size"
        );
        assert_eq!(
            u64::from(k.header().compression),
            u(w, "compression"),
            "{at} compression"
        );
        assert_eq!(k.cmdline(), s(w, "cmdline").as_bytes(), "{at} cmdline");
        assert_eq!(u64::from(k.arch()), u(w, "arch"), "{at} arch");
        assert_eq!(
            u64::from(k.kernel_type()),
            u(w, "kernel_type"),
            "{at} kernel_type"
        );
        assert_eq!(
            u64::from(k.kernel_flags()),
            u(w, "kernel_flags"),
            "{at} kernel_flags"
        );
        assert_eq!(u64::from(k.api_port()), u(w, "api_port"), "{at} api_port");
        assert_eq!(
            k.entry_point_advisory(),
            u(w, "entry_point"),
            "{at} entry_point"
        );
        assert_eq!(hex(k.image_hash()), s(w, "image_hash"), "{at} image_hash");
        assert_eq!(
            sha256_hex(k.stored_unverified()),
            s(w, "stored_sha256"),
            "{at} stored bytes"
        );
        if format == StoredFormat::Raw {
            assert_eq!(
                sha256_hex(k.stored_unverified()),
                s(w, "image_sha256"),
                "{at} image bytes"
            );
        }
        assert_eq!(
            k.binding().is_some(),
            layout == KernelLayout::Binding,
            "{at} binding"
        );
        let hc = k
            .content_hash()
            .expect("container kernels carry their hash check");
        let seg_fact = want
            .iter()
            .find(|x| u(x, "offset") == k.segment_offset())
            .expect("walked");
        assert_eq!(hc.name(), s(seg_fact, "hash"), "{at} content hash");
        let again = c
            .kernel_at(k.segment_offset())
            .expect("kernel_at a listed kernel");
        assert_eq!(again.segment_offset(), k.segment_offset(), "{at} kernel_at");
    }
    match f["selected_kernel"].as_u64() {
        Some(off) => {
            let k = c
                .selected_kernel()
                .unwrap_or_else(|e| panic!("{}: {e}", ctx("selected")));
            assert_eq!(k.segment_offset(), off, "{}", ctx("selected kernel"));
        }
        None => assert!(
            matches!(c.selected_kernel(), Err(Error::NoKernel)),
            "{}",
            ctx("no kernel")
        ),
    }
    // kernel_at refuses the header offset of a segment that is not a listed kernel.
    let m_off = u(m, "offset");
    assert!(
        matches!(c.kernel_at(m_off), Err(Error::NoKernelAt { offset }) if offset == m_off),
        "{}",
        ctx("kernel_at(manifest)")
    );
}

fn check_dir(dir: &str, expect: &[&str]) {
    let facts = facts(dir);
    let mut names: Vec<&str> = facts.keys().map(String::as_str).collect();
    names.sort_unstable();
    let mut want = expect.to_vec();
    want.sort_unstable();
    assert_eq!(names, want, "{dir}: golden file set");
    for (name, f) in &facts {
        let bytes = std::fs::read(golden().join(dir).join(name)).expect("golden file");
        check(&format!("{dir}/{name}"), &bytes, f, false);
    }
}

#[test]
fn ruvbot_golden_files() {
    check_dir("ruvbot", &["small.rvf", "tiny.rvf"]);
    // Independent of facts.json: the raw kernels the files were built from.
    let facts = facts("ruvbot");
    for (rvf, input) in [
        ("small.rvf", "bzimage-16k.bin"),
        ("tiny.rvf", "bzimage-600.bin"),
    ] {
        let raw = std::fs::read(golden().join("inputs").join(input)).expect("input kernel");
        let k = &facts[rvf]["kernels"][0];
        assert_eq!(raw.len() as u64, u(k, "image_size"), "{rvf}");
        assert_eq!(sha256_hex(&raw), s(k, "image_sha256"), "{rvf}");
        // build-rvf.js stores SHA-256(raw image) as image_hash.
        assert_eq!(s(k, "image_hash"), sha256_hex(&raw), "{rvf}");
        assert_eq!(raw.get(0x1FE..0x200), Some(&[0x55, 0xAA][..]), "{input}");
        assert_eq!(raw.get(0x202..0x206), Some(&b"HdrS"[..]), "{input}");
    }
}

#[test]
fn runtime_05_golden_files() {
    check_dir(
        "runtime-05",
        &[
            "vectors.rvf",
            "embed-kernel.rvf",
            "embed-kernel-binding.rvf",
            "embed-wasm.rvf",
            "two-kernels.rvf",
            "signed.rvf",
        ],
    );
}

#[test]
fn runtime_03_golden_files() {
    check_dir(
        "runtime-03",
        &[
            "vectors.rvf",
            "embed-kernel.rvf",
            "embed-kernel-binding.rvf",
            "embed-wasm.rvf",
            "two-kernels.rvf",
        ],
    );
}

#[test]
fn mixed_golden_files() {
    check_dir(
        "mixed",
        &["vectors-03-kernel-05.rvf", "kernel-03-kernel-05.rvf"],
    );
}

/// Spot checks written out by hand (not from facts.json), so a regenerated
/// facts.json cannot silently move them.
#[test]
fn golden_headline_facts() {
    let load = |p: &str| std::fs::read(golden().join(p)).expect("golden file");

    let b = load("ruvbot/small.rvf");
    let c = Container::parse(&b, Policy::default()).expect("small.rvf");
    assert_eq!(c.dialect().name(), "ruvbot");
    assert_eq!(c.manifest().offset(), 18684);
    assert_eq!(c.manifest().epoch(), 1);
    let k = c.selected_kernel().expect("kernel");
    assert_eq!(
        (k.segment_offset(), k.layout(), k.format()),
        (0, KernelLayout::RuvBot, StoredFormat::Gzip)
    );
    assert_eq!((k.image_size(), k.api_port()), (16384, 3000));
    assert_eq!(
        k.cmdline(),
        b"console=ttyS0 ruvbot.api_port=3000 ruvbot.mode=rvf quiet"
    );

    let b = load("runtime-05/embed-kernel.rvf");
    let c = Container::parse(&b, Policy::default()).expect("05 embed-kernel");
    assert_eq!(c.dialect().name(), "wire");
    let k = c.selected_kernel().expect("kernel");
    assert_eq!(
        (
            k.segment_offset(),
            k.layout(),
            k.image_size(),
            k.stored_size()
        ),
        (192, KernelLayout::Simple, 4096, 4096)
    );
    assert_eq!(k.cmdline(), b"console=ttyS0 rvf.test=1");
    assert_eq!((c.manifest().offset(), c.manifest().epoch()), (4544, 1));

    let b = load("runtime-03/embed-kernel-binding.rvf");
    let c = Container::parse(&b, Policy::default()).expect("03 binding");
    assert_eq!(c.dialect().name(), "legacy");
    let k = c.selected_kernel().expect("kernel");
    assert_eq!(
        (k.segment_offset(), k.layout()),
        (162, KernelLayout::Binding)
    );
    assert_eq!(k.cmdline(), b"console=ttyS0 rvf.test=1");

    let b = load("runtime-05/signed.rvf");
    let c = Container::parse(&b, Policy::default()).expect("signed");
    assert_eq!(c.root_page_offset(), Some(4864));
    assert_eq!(c.manifest().offset(), 4544);
    assert_eq!(c.manifest().segment_hashes().map(<[_]>::len), Some(2));

    let b = load("mixed/kernel-03-kernel-05.rvf");
    let c = Container::parse(&b, Policy::default()).expect("mixed");
    assert_eq!(c.dialect().name(), "mixed");
    assert_eq!((c.manifest().offset(), c.manifest().epoch()), (7040, 2));
    // Both kernels are listed; the crates boot the first (the 0.3.2 one).
    let offs: Vec<u64> = c
        .kernels()
        .map(|k| k.expect("kernel").segment_offset())
        .collect();
    assert_eq!(offs, [162, 4736]);
    assert_eq!(c.selected_kernel().expect("kernel").segment_offset(), 162);
    // The appended KERNEL reuses the id of the served legacy manifest (§3.3).
    assert_eq!(c.segment_at(4474).map(|s| s.segment_id()), Some(3));
    assert_eq!(c.segment_at(4736).map(|s| s.segment_id()), Some(3));
}

// ---------------------------------------------------------------- fresh runs

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Builds both writer binaries in a target dir of their own (the outer
/// `cargo test` holds the lock on the normal one) and returns its debug dir.
fn build_writers() -> PathBuf {
    let root = workspace_root();
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) => PathBuf::from(t).join("golden-writers"),
        None => root.join("target").join("golden-writers"),
    };
    let status = Command::new(env!("CARGO"))
        .current_dir(&root)
        .args([
            "build",
            "-q",
            "-p",
            "rvf-writer-05",
            "-p",
            "rvf-writer-03",
            "--target-dir",
        ])
        .arg(&target)
        .status()
        .expect("run cargo build for the writers");
    assert!(status.success(), "building the writer binaries failed");
    target.join("debug")
}

fn run(bin: &Path, args: &[&Path]) -> String {
    let out = Command::new(bin).args(args).output().expect("run writer");
    assert!(
        out.status.success(),
        "{} {:?}: {}",
        bin.display(),
        args,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

#[test]
fn writers_run_now() {
    let bins = build_writers();
    let w5 = bins.join("rvf-writer-05");
    let w3 = bins.join("rvf-writer-03");
    let tmp = bins.join(format!("fresh-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).expect("temp dir");

    let (f5, f3, fm) = (facts("runtime-05"), facts("runtime-03"), facts("mixed"));
    let scenario = |w: &Path, sc: &str, out: &Path| {
        run(w, &[Path::new(sc), out]);
    };
    for sc in [
        "vectors",
        "embed-kernel",
        "embed-kernel-binding",
        "embed-wasm",
        "two-kernels",
    ] {
        for (w, f, tag) in [(&w5, &f5, "05"), (&w3, &f3, "03")] {
            let out = tmp.join(format!("{tag}-{sc}.rvf"));
            scenario(w, sc, &out);
            let bytes = std::fs::read(&out).expect("fresh file");
            check(
                &format!("fresh {tag}/{sc}"),
                &bytes,
                &f[&format!("{sc}.rvf")],
                true,
            );
        }
    }
    // A kernel given on the command line is embedded as-is.
    let image: Vec<u8> = (0..3000u32)
        .map(|i| (i.wrapping_mul(7) % 251) as u8)
        .collect();
    let image_path = tmp.join("image.bin");
    std::fs::write(&image_path, &image).expect("image");
    let out = tmp.join("05-input.rvf");
    run(&w5, &[Path::new("embed-kernel"), &out, &image_path]);
    let bytes = std::fs::read(&out).expect("fresh file");
    let c = Container::parse(&bytes, Policy::default()).expect("05 with input");
    let k = c.selected_kernel().expect("kernel");
    assert_eq!((k.image_size(), k.stored_unverified()), (3000, &image[..]));

    let signed = tmp.join("05-signed.rvf");
    let stdout = run(&w5, &[Path::new("signed"), &signed]);
    assert!(
        stdout.contains(&format!("public key {SIGNED_PUBKEY}")),
        "{stdout}"
    );
    check(
        "fresh 05/signed",
        &std::fs::read(&signed).expect("signed"),
        &f5["signed.rvf"],
        true,
    );

    for (base, name) in [
        ("03-vectors.rvf", "vectors-03-kernel-05.rvf"),
        ("03-embed-kernel.rvf", "kernel-03-kernel-05.rvf"),
    ] {
        let out = tmp.join(name);
        run(&w5, &[Path::new("append-kernel"), &tmp.join(base), &out]);
        check(
            &format!("fresh mixed/{name}"),
            &std::fs::read(&out).expect("mixed"),
            &fm[name],
            true,
        );
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
