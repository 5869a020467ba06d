//! The `rvf-boot` command line: its names, JSON keys and exit codes are a
//! contract other tools rely on.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn golden(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../host-tests/golden")
        .join(rel)
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rvf-boot"))
        .args(args)
        .output()
        .unwrap()
}

fn inspect_json(path: &Path, extra: &[&str]) -> (Value, i32, String) {
    let mut args = vec!["inspect", "--json"];
    args.extend_from_slice(extra);
    let p = path.to_str().unwrap();
    args.push(p);
    let out = run(&args);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.lines().count(),
        1,
        "exactly one JSON object: {stdout}"
    );
    let v: Value = serde_json::from_str(&stdout).unwrap();
    (
        v,
        out.status.code().unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rvf-boot-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn inspect_json_ruvbot() {
    let (v, code, _) = inspect_json(&golden("ruvbot/small.rvf"), &[]);
    assert_eq!(code, 0);
    assert_eq!(v["file_size"], 18899);
    assert_eq!(v["dialect"], "ruvbot");
    assert_eq!(v["error"], Value::Null);
    assert_eq!(v["root_page"], Value::Null);
    assert_eq!(v["trailing"], Value::Null);
    let segs = v["segments"].as_array().unwrap();
    let offsets: Vec<u64> = segs.iter().map(|s| s["offset"].as_u64().unwrap()).collect();
    assert_eq!(offsets, [0, 16657, 17097, 17731, 18194, 18684]);
    let types: Vec<u64> = segs.iter().map(|s| s["type"].as_u64().unwrap()).collect();
    assert_eq!(types, [0x0E, 0x10, 0x07, 0x0B, 0x0A, 0x05]);
    for s in segs {
        assert_eq!(s["hash"], "sha256-16");
        assert_eq!(s["hash_ok"], true);
        assert_eq!(s["checksum_algo"], 0);
    }
    assert_eq!(segs[0]["id"], 1);
    assert_eq!(segs[0]["payload_length"], 16593);
    assert_eq!(
        v["manifest"],
        serde_json::json!({"offset": 18684, "epoch": 1, "entries": 5})
    );
    let k = &v["kernels"][0];
    assert_eq!(k["segment_offset"], 0);
    assert_eq!(k["layout"], "ruvbot");
    assert_eq!(k["compression"], "gzip");
    assert_eq!(k["image_size"], 16384);
    assert_eq!(k["stored_size"], 16409);
    assert_eq!(
        k["cmdline"],
        "console=ttyS0 ruvbot.api_port=3000 ruvbot.mode=rvf quiet"
    );
    assert_eq!(k["selected"], true);
    assert_eq!(
        k["image_sha256"],
        "9a654047f2421af741410746e8ffffa420791946c575e0089c2bfd840b309302"
    );
    assert_eq!(k["image_hash"], "sha256");
    assert_eq!(
        (
            k["api_port"].as_u64(),
            k["kernel_flags"].as_u64(),
            k["entry_point"].as_u64()
        ),
        (Some(3000), Some(0x3C58), Some(0x100_0000))
    );
    assert_eq!(
        (
            k["arch"].as_u64(),
            k["kernel_type"].as_u64(),
            k["binding"].as_bool()
        ),
        (Some(0), Some(1), Some(false))
    );
}

#[test]
fn inspect_json_signed_wire_store() {
    let (v, code, _) = inspect_json(&golden("runtime-05/signed.rvf"), &[]);
    assert_eq!(code, 0);
    assert_eq!(v["dialect"], "wire");
    assert_eq!(v["root_page"], serde_json::json!({"offset": 4864}));
    let segs = v["segments"].as_array().unwrap();
    assert!(
        segs.iter()
            .all(|s| s["hash"] == "shake256-128" && s["checksum_algo"] == 2)
    );
    assert_eq!(v["kernels"][0]["layout"], "simple");
    assert_eq!(v["kernels"][0]["compression"], "none");
    assert_eq!(v["kernels"][0]["image_hash"], "rvf-runtime-additive");
}

#[test]
fn inspect_json_two_kernels_lists_both_in_directory_order() {
    let (v, code, _) = inspect_json(&golden("runtime-05/two-kernels.rvf"), &[]);
    assert_eq!(code, 0);
    let ks = v["kernels"].as_array().unwrap();
    assert_eq!(ks.len(), 2);
    assert_eq!(
        (
            ks[0]["segment_offset"].as_u64(),
            ks[0]["selected"].as_bool()
        ),
        (Some(192), Some(true))
    );
    assert_eq!(
        (
            ks[1]["segment_offset"].as_u64(),
            ks[1]["selected"].as_bool()
        ),
        (Some(4800), Some(false))
    );
    assert_eq!(ks[1]["cmdline"], "console=ttyS0 rvf.test=2");
    assert_eq!(
        ks[1]["image_sha256"],
        Value::Null,
        "only the selected kernel is extracted"
    );
}

#[test]
fn inspect_mixed_and_legacy_dialects() {
    let (v, _, _) = inspect_json(&golden("mixed/kernel-03-kernel-05.rvf"), &[]);
    assert_eq!(v["dialect"], "mixed");
    let hashes: Vec<&str> = v["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["hash"].as_str().unwrap())
        .collect();
    assert!(
        hashes.contains(&"crc32-rot4") && hashes.contains(&"xxh3-128"),
        "{hashes:?}"
    );
    let (v, _, _) = inspect_json(&golden("runtime-03/embed-kernel-binding.rvf"), &[]);
    assert_eq!(v["dialect"], "legacy");
    assert_eq!(v["kernels"][0]["layout"], "binding");
    assert_eq!(v["kernels"][0]["binding"], true);
    assert_eq!(
        v["kernels"][0]["api_port"], 8080,
        "big-endian in crate files"
    );
    assert_eq!(v["kernels"][0]["content_hash"], "crc32-rot4");
}

#[test]
fn torn_tail_is_trailing_not_an_error() {
    let d = tmpdir("torn");
    let p = d.join("t.rvf");
    let mut f = std::fs::read(golden("runtime-05/embed-kernel.rvf")).unwrap();
    let n = f.len() as u64;
    f.extend_from_slice(b"0123456789");
    std::fs::write(&p, &f).unwrap();
    let (v, code, _) = inspect_json(&p, &[]);
    assert_eq!(code, 0);
    assert_eq!(
        v["trailing"],
        serde_json::json!({"offset": n, "length": 10})
    );
}

#[test]
fn bad_hash_exits_nonzero_with_the_error_on_stderr_and_in_json() {
    let d = tmpdir("bad");
    let p = d.join("b.rvf");
    let mut f = std::fs::read(golden("ruvbot/small.rvf")).unwrap();
    f[17097 + 64 + 10] ^= 1; // META payload
    std::fs::write(&p, &f).unwrap();
    let (v, code, stderr) = inspect_json(&p, &[]);
    assert_eq!(code, 1);
    let msg = "segment #2 at byte 17097: payload does not match content_hash (checksum_algo 0)";
    assert_eq!(v["error"], msg);
    assert!(stderr.contains(msg), "{stderr}");
    assert_eq!(v["segments"][2]["hash"], Value::Null);
    assert_eq!(v["segments"][2]["hash_ok"], false);
    assert_eq!(v["segments"][0]["hash_ok"], true);
}

#[test]
fn unset_hash_needs_the_flag() {
    let d = tmpdir("unset");
    let p = d.join("u.rvf");
    let mut f = std::fs::read(golden("ruvbot/small.rvf")).unwrap();
    f[17097 + 0x28..17097 + 0x38].fill(0); // META content_hash
    std::fs::write(&p, &f).unwrap();
    let (v, code, _) = inspect_json(&p, &[]);
    assert_eq!(
        (
            code,
            &v["segments"][2]["hash"],
            &v["segments"][2]["hash_ok"]
        ),
        (1, &Value::from("unset"), &Value::from(false))
    );
    let (v, code, _) = inspect_json(&p, &["--allow-unset-hash"]);
    assert_eq!(
        (code, &v["segments"][2]["hash_ok"], &v["error"]),
        (0, &Value::from(true), &Value::Null)
    );
}

#[test]
fn not_rvf_and_missing_file() {
    let d = tmpdir("notrvf");
    let p = d.join("n.rvf");
    std::fs::write(&p, b"hello").unwrap();
    let (v, code, _) = inspect_json(&p, &[]);
    assert_eq!(code, 1);
    assert_eq!(v["dialect"], Value::Null);
    assert_eq!(v["manifest"], Value::Null);
    assert!(v["error"].as_str().unwrap().starts_with("not an RVF file"));
    let out = run(&["inspect", d.join("missing.rvf").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let out = run(&["inspect"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn extract_writes_the_verified_image_and_cmdline() {
    let d = tmpdir("extract");
    let (k, c) = (d.join("vmlinuz"), d.join("cmdline"));
    let out = run(&[
        "extract",
        golden("ruvbot/small.rvf").to_str().unwrap(),
        "--kernel",
        k.to_str().unwrap(),
        "--cmdline",
        c.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let image = std::fs::read(&k).unwrap();
    assert_eq!(
        image,
        std::fs::read(golden("inputs/bzimage-16k.bin")).unwrap()
    );
    assert_eq!(
        std::fs::read(&c).unwrap(),
        b"console=ttyS0 ruvbot.api_port=3000 ruvbot.mode=rvf quiet"
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("9a654047f2421af741410746e8ffffa420791946c575e0089c2bfd840b309302"),
        "{stdout}"
    );
    assert!(
        stdout.contains("content hash sha256-16, image hash sha256, gzip CRC-32 and ISIZE"),
        "{stdout}"
    );
    // No temporary files are left beside the outputs.
    let mut names: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["cmdline", "vmlinuz"]);
}

#[test]
fn extract_failure_writes_nothing() {
    let d = tmpdir("extract-fail");
    let bad = d.join("bad.rvf");
    let mut f = std::fs::read(golden("ruvbot/small.rvf")).unwrap();
    // Corrupt the image hash and fix up the segment hash: only image_hash catches it.
    f[64 + 0x30] ^= 1;
    let payload_len = u64::from_le_bytes(f[16..24].try_into().unwrap()) as usize;
    let h = sha2_16(&f[64..64 + payload_len]);
    f[0x28..0x38].copy_from_slice(&h);
    std::fs::write(&bad, &f).unwrap();
    let k = d.join("vmlinuz");
    let out = run(&[
        "extract",
        bad.to_str().unwrap(),
        "--kernel",
        k.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("KERNEL_SEG at byte 0: image_hash matches neither"),
        "{stderr}"
    );
    let names: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["bad.rvf"]);
    // A file without a kernel.
    let out = run(&[
        "extract",
        golden("runtime-05/vectors.rvf").to_str().unwrap(),
        "--kernel",
        k.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("the manifest lists no KERNEL_SEG")
    );
    assert!(!k.exists());
}

fn sha2_16(b: &[u8]) -> [u8; 16] {
    use sha2::Digest;
    sha2::Sha256::digest(b)[..16].try_into().unwrap()
}
