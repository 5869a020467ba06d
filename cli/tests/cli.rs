//! The `rvf-boot` command line: its names, JSON keys and exit codes are a
//! contract other tools rely on.

use rvf_testkit::build::sha256_16;
use rvf_testkit::mutate::{Damage, mutate};
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
    assert_eq!(mutate(&mut f, Damage::ImageHash, true), Ok(64 + 0x30));
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

// ---- issue 9: a CLI that cannot be turned against its user ----

fn run_os(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rvf-boot"))
        .args(args)
        .output()
        .unwrap()
}

/// The one JSON object stdout must hold.
fn one_object(out: &Output) -> Value {
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(
        stdout.lines().count(),
        1,
        "exactly one JSON object: {stdout:?} (stderr {})",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert!(v.is_object(), "{v}");
    v
}

/// Recomputes the SHA-256[0..16] content hash of the RuvBot segment at 0.
fn reseal_first_segment(f: &mut [u8]) {
    let payload_len = u64::from_le_bytes(f[16..24].try_into().unwrap()) as usize;
    let h = sha256_16(&f[64..64 + payload_len]);
    f[0x28..0x38].copy_from_slice(&h);
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

fn dir_names(d: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn help_for_every_subcommand_and_version() {
    for sub in ["inspect", "extract"] {
        let out = run(&[sub, "--help"]);
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(&format!("Usage: rvf-boot {sub}")), "{text}");
    }
    let out = run(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("inspect") && text.contains("extract"),
        "{text}"
    );
    let out = run(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("rvf-boot {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn with_json_every_usage_error_prints_one_object_and_exits_2() {
    let file = golden("ruvbot/small.rvf");
    let file = file.to_str().unwrap();
    for args in [
        &["inspect", "--json"][..],
        &["inspect", "--json", "--bogus", file],
        &["inspect", "--json", file, file],
        &["--json"],
        &["--json", "inspect"],
        &["frobnicate", "--json"],
        &["extract", "--json", file, "--kernel", "k", "--force"],
        &["extract", "--json", file, "--kernel", file],
        &["extract", file, "--json"],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let v = one_object(&out);
        let e = v["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{args:?}: {v}"));
        assert!(!e.is_empty() && !e.contains('\n'), "{args:?}: {e:?}");
        // The class and the exit code travel with the message (issue 19).
        assert_eq!(
            (&v["error_class"], &v["exit_code"]),
            (&"usage".into(), &2.into()),
            "{v}"
        );
        assert!(
            !out.stderr.is_empty(),
            "{args:?}: the error is on stderr too"
        );
    }
    // Without --json a usage error prints nothing on stdout.
    let out = run(&["inspect", "--bogus", file]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    // `--` ends the flags: this FILE is named --json.
    let out = run(&["inspect", "--", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}

#[test]
fn non_utf8_paths_work_and_never_panic() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt as _;
    let d = tmpdir("non-utf8");
    let rvf = d.join(OsStr::from_bytes(b"k\xff\xfe.rvf"));
    std::fs::copy(golden("ruvbot/small.rvf"), &rvf).unwrap();
    let out = run_os(&[OsStr::new("inspect"), OsStr::new("--json"), rvf.as_os_str()]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(one_object(&out)["dialect"], "ruvbot");
    // A missing non-UTF-8 path: exit 1, one object naming the file.
    let missing = d.join(OsStr::from_bytes(b"gone\xff.rvf"));
    let out = run_os(&[
        OsStr::new("inspect"),
        OsStr::new("--json"),
        missing.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let v = one_object(&out);
    assert!(v["error"].as_str().unwrap().contains("gone"), "{v}");
    let out = run_os(&[OsStr::new("inspect"), missing.as_os_str()]);
    assert_eq!(out.status.code(), Some(1));
    // Extract from and to non-UTF-8 names.
    let (k, c) = (
        d.join(OsStr::from_bytes(b"vmlinuz\x80")),
        d.join(OsStr::from_bytes(b"cmdline\x80")),
    );
    let out = run_os(&[
        OsStr::new("extract"),
        rvf.as_os_str(),
        OsStr::new("--kernel"),
        k.as_os_str(),
        OsStr::new("--cmdline"),
        c.as_os_str(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(&k).unwrap(),
        std::fs::read(golden("inputs/bzimage-16k.bin")).unwrap()
    );
    assert_eq!(
        std::fs::read(&c).unwrap(),
        b"console=ttyS0 ruvbot.api_port=3000 ruvbot.mode=rvf quiet"
    );
}

#[test]
fn inspect_reports_the_boot_checks_and_the_cmdline_digest() {
    // The test kernel is a real bzImage: the stub's checks pass.
    let p = golden("real-bzimage/testkernel.rvf");
    let (v, code, _) = inspect_json(&p, &[]);
    assert_eq!(code, 0);
    let k = &v["kernels"][0];
    assert_eq!(
        k["boot"],
        serde_json::json!({"bootable": true, "format": "bzimage", "error": null})
    );
    let cmdline = "console=ttyS0 ruvbot.api_port=3000 ruvbot.mode=rvf quiet";
    assert_eq!(k["cmdline"], cmdline);
    assert_eq!(k["cmdline_sha256"], sha256_hex(cmdline.as_bytes()));
    let out = run(&["inspect", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let table = String::from_utf8(out.stdout).unwrap();
    let digest_line = format!(
        "  image sha256 {} (sha256 checked), cmdline sha256 {}\n  kernel format: bzimage\n  bootable on x86_64: yes\n",
        k["image_sha256"].as_str().unwrap(),
        sha256_hex(cmdline.as_bytes())
    );
    assert!(table.contains(&digest_line), "{table}");

    // The synthetic 16 KiB image is no bootable bzImage: valid file (exit 0,
    // every hash verified), but not bootable, and the table says why.
    let p = golden("ruvbot/small.rvf");
    let (v, code, _) = inspect_json(&p, &[]);
    assert_eq!(code, 0);
    let why = "bzImage header: header_end is 0x2ac, must be at most 0x290 \
               (the zero page's setup-header area)";
    assert_eq!(
        v["kernels"][0]["boot"],
        serde_json::json!({"bootable": false, "format": null, "error": why})
    );
    let table = String::from_utf8(run(&["inspect", p.to_str().unwrap()]).stdout).unwrap();
    assert!(
        table.contains(&format!("  bootable on x86_64: no: {why}\n")),
        "{table}"
    );
    assert!(table.ends_with("\nOK: every hash verified\n"), "{table}");

    // A kernel that is not the selected one is not extracted nor boot-checked.
    let (v, _, _) = inspect_json(&golden("runtime-05/two-kernels.rvf"), &[]);
    assert_eq!(v["kernels"][1]["boot"]["bootable"], false);
    assert_eq!(
        v["kernels"][1]["boot"]["error"],
        "not the selected kernel (a loader boots the first KERNEL_SEG in directory order)"
    );
    assert_eq!(
        v["kernels"][1]["cmdline_sha256"],
        sha256_hex(b"console=ttyS0 rvf.test=2")
    );
}

#[test]
fn a_cmdline_the_stub_refuses_is_not_bootable() {
    let d = tmpdir("cmdline-bytes");
    let f = std::fs::read(golden("real-bzimage/testkernel.rvf")).unwrap();
    let at = f.windows(13).position(|w| w == b"console=ttyS0").unwrap();
    for (byte, problem) in [
        (b'\n', "control byte 0x0a at offset 7"),
        (0u8, "NUL byte at offset 7"),
    ] {
        let mut f = f.clone();
        f[at + 7] = byte; // console?ttyS0
        reseal_first_segment(&mut f);
        let p = d.join("c.rvf");
        std::fs::write(&p, &f).unwrap();
        let (v, code, _) = inspect_json(&p, &[]);
        // Every hash verifies: the exit code keeps its meaning.
        assert_eq!((code, &v["error"]), (0, &Value::Null));
        let why = format!("kernel command line: {problem}");
        assert_eq!(
            v["kernels"][0]["boot"],
            serde_json::json!({"bootable": false, "format": "bzimage", "error": why})
        );
        let mut cmdline = b"console=ttyS0 ruvbot.api_port=3000 ruvbot.mode=rvf quiet".to_vec();
        cmdline[7] = byte;
        assert_eq!(v["kernels"][0]["cmdline_sha256"], sha256_hex(&cmdline));
        let table = String::from_utf8(run(&["inspect", p.to_str().unwrap()]).stdout).unwrap();
        assert!(
            table.contains(&format!("  bootable on x86_64: no: {why}\n")),
            "{table}"
        );
    }
}

#[test]
fn a_declared_6_gib_image_is_refused_before_anything_is_allocated() {
    let d = tmpdir("6gib");
    let mut f = std::fs::read(golden("ruvbot/small.rvf")).unwrap();
    f[64 + 0x18..64 + 0x20].copy_from_slice(&(6u64 << 30).to_le_bytes()); // image_size
    reseal_first_segment(&mut f);
    let p = d.join("big.rvf");
    std::fs::write(&p, &f).unwrap();
    // Under a 1 GiB address-space limit: reserving (let alone zero-filling)
    // 6 GiB would fail or kill the process; a refusal is one JSON object.
    let limited = |args: &[&str]| {
        Command::new("sh")
            .arg("-c")
            .arg("ulimit -v 1048576 && exec \"$0\" \"$@\"")
            .arg(env!("CARGO_BIN_EXE_rvf-boot"))
            .args(args)
            .output()
            .unwrap()
    };
    let out = limited(&["inspect", "--json", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let v = one_object(&out);
    let e = v["error"].as_str().unwrap();
    assert!(e.contains("image_size"), "{e}");
    assert!(!e.contains("has 0"), "{e}");
    assert!(
        v["kernels"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["image_sha256"].is_null() && k["boot"]["bootable"] == false),
        "{v}"
    );
    let k = d.join("vmlinuz");
    let out = limited(&[
        "extract",
        p.to_str().unwrap(),
        "--kernel",
        k.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("image_size"), "{stderr}");
    assert_eq!(dir_names(&d), ["big.rvf"]);
}

fn extract_to(k: &Path, c: Option<&Path>) -> Output {
    let g = golden("ruvbot/small.rvf");
    let mut args = vec![
        g.as_os_str(),
        std::ffi::OsStr::new("--kernel"),
        k.as_os_str(),
    ];
    if let Some(c) = c {
        args.extend([std::ffi::OsStr::new("--cmdline"), c.as_os_str()]);
    }
    let mut all = vec![std::ffi::OsStr::new("extract")];
    all.extend(args);
    run_os(&all)
}

#[test]
fn a_symlink_at_the_output_is_replaced_not_written_through() {
    let d = tmpdir("symlink");
    let victim = d.join("victim");
    std::fs::write(&victim, b"keep me").unwrap();
    let (k, c) = (d.join("vmlinuz"), d.join("cmdline"));
    std::os::unix::fs::symlink(&victim, &k).unwrap();
    std::os::unix::fs::symlink(&victim, &c).unwrap();
    let out = extract_to(&k, Some(&c));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
    for p in [&k, &c] {
        assert!(std::fs::symlink_metadata(p).unwrap().file_type().is_file());
    }
    assert_eq!(
        std::fs::read(&k).unwrap(),
        std::fs::read(golden("inputs/bzimage-16k.bin")).unwrap()
    );
    assert_eq!(dir_names(&d), ["cmdline", "victim", "vmlinuz"]);
}

#[test]
fn kernel_and_cmdline_naming_one_file_is_a_usage_error() {
    let d = tmpdir("same-out");
    std::fs::create_dir(d.join("sub")).unwrap();
    std::os::unix::fs::symlink(&d, d.join("alias")).unwrap();
    let x = d.join("x");
    std::fs::write(&x, b"old").unwrap();
    for other in [
        d.join("x"),
        d.join("./x"),
        d.join("sub/../x"),
        d.join("alias/x"),
    ] {
        let out = extract_to(&x, Some(&other));
        assert_eq!(out.status.code(), Some(2), "{}", other.display());
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            stderr.contains("--kernel and --cmdline name the same file"),
            "{stderr}"
        );
        assert_eq!(std::fs::read(&x).unwrap(), b"old");
    }
    // Relative spellings, from inside the directory.
    let out = Command::new(env!("CARGO_BIN_EXE_rvf-boot"))
        .current_dir(&d)
        .args([
            "extract",
            golden("ruvbot/small.rvf").to_str().unwrap(),
            "--kernel",
            "x",
            "--cmdline",
        ])
        .arg(d.join("x"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read(&x).unwrap(), b"old");
    assert_eq!(dir_names(&d), ["alias", "sub", "x"]);
}

#[test]
fn when_the_cmdline_cannot_be_written_the_kernel_output_is_unchanged() {
    let d = tmpdir("cmdline-fails");
    let k = d.join("vmlinuz");
    let mut unwritable = vec![
        // A directory that does not exist.
        d.join("missing/cmdline"),
        // A directory no one, root included, can create files in.
        PathBuf::from("/proc/rvf-boot-cmdline"),
    ];
    let ro = d.join("ro");
    std::fs::create_dir(&ro).unwrap();
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    unwritable.push(ro.join("cmdline")); // unwritable unless we are root
    // Failing at staging: nothing was renamed.
    for c in &unwritable {
        std::fs::write(&k, b"old kernel").unwrap();
        let out = extract_to(&k, Some(c));
        if out.status.code() == Some(0) {
            // Only the 0555 directory, and only for root.
            assert!(c.starts_with(&ro), "{}", c.display());
            std::fs::remove_file(c).unwrap();
            continue;
        }
        assert_eq!(out.status.code(), Some(1), "{}", c.display());
        assert!(
            std::fs::read(&k).unwrap() == b"old kernel",
            "{}",
            c.display()
        );
    }
    // Failing after the kernel was renamed into place (the cmdline output is
    // a directory: only its rename fails): the old kernel comes back.
    std::fs::write(&k, b"old kernel").unwrap();
    let c = d.join("cmdline-is-a-dir");
    std::fs::create_dir(&c).unwrap();
    std::fs::write(c.join("inside"), b"x").unwrap();
    let out = extract_to(&k, Some(&c));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("(no output was changed)"), "{stderr}");
    assert!(std::fs::read(&k).unwrap() == b"old kernel");
    // ... and a kernel output that did not exist is gone again.
    std::fs::remove_file(&k).unwrap();
    let out = extract_to(&k, Some(&c));
    assert_eq!(out.status.code(), Some(1));
    assert!(!k.exists());
    // ... and a symlink at the kernel output is a symlink again.
    let victim = d.join("victim");
    std::fs::write(&victim, b"keep me").unwrap();
    std::os::unix::fs::symlink(&victim, &k).unwrap();
    let out = extract_to(&k, Some(&c));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read_link(&k).unwrap(), victim);
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
    // No temporary file or backup link is left anywhere.
    assert_eq!(
        dir_names(&d),
        ["cmdline-is-a-dir", "missing", "ro", "victim", "vmlinuz"]
            .into_iter()
            .filter(|n| *n != "missing")
            .collect::<Vec<_>>()
    );
    assert_eq!(dir_names(&c), ["inside"]);
    assert!(dir_names(&ro).is_empty());
}

// ---- issue 11: `rvf-boot measure` predicts the stub's PCR 8 and PCR 9 ----

/// SHA-256 with sha2 directly (not through the library's measure module).
fn sha256(b: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(b).into()
}

fn hex32(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A PCR extended, from 32 zero bytes, with each digest in order.
fn fold(digests: &[[u8; 32]]) -> String {
    let pcr = digests.iter().fold([0u8; 32], |pcr, d| {
        let mut cat = pcr.to_vec();
        cat.extend_from_slice(d);
        sha256(&cat)
    });
    hex32(&pcr)
}

/// The testkernel RVF's cmdline (RuvBot writer).
const TESTKERNEL_CMDLINE: &str = "console=ttyS0 ruvbot.api_port=3000 ruvbot.mode=rvf quiet";

/// The testkernel RVF and its two content digests, computed here from the
/// bytes: the winning MANIFEST_SEG is the file's last 215 bytes (header at
/// 3737), the kernel image is the bzImage the golden file was written from.
fn testkernel() -> (PathBuf, [u8; 32], [u8; 32]) {
    let path = golden("real-bzimage/testkernel.rvf");
    let file = std::fs::read(&path).unwrap();
    assert_eq!(file.len(), 3952);
    assert_eq!(
        &file[3737..3741],
        &0x5256_4653u32.to_le_bytes(),
        "a segment header"
    );
    assert_eq!(file[3737 + 5], 0x05, "MANIFEST_SEG");
    let manifest = sha256(&file[3737..]);
    let kernel = sha256(&std::fs::read(golden("inputs/testkernel.bzImage")).unwrap());
    (path, manifest, kernel)
}

fn measure(args: &[&std::ffi::OsStr]) -> (Value, i32) {
    let mut all: Vec<&std::ffi::OsStr> = vec!["measure".as_ref(), "--json".as_ref()];
    all.extend_from_slice(args);
    let out = run_os(&all);
    (one_object(&out), out.status.code().unwrap())
}

fn ev(pcr: u32, digest: &[u8; 32], data: &str) -> Value {
    serde_json::json!({"pcr": pcr, "type": "EV_IPL", "digest": hex32(digest), "data": data})
}

#[test]
fn measure_predicts_exact_pcrs_for_the_testkernel() {
    let (path, manifest, kernel) = testkernel();
    let cmd = sha256(TESTKERNEL_CMDLINE.as_bytes());
    let out = run_os(&["measure".as_ref(), "--json".as_ref(), path.as_os_str()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty());
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    // Exactly this object, keys in the documented order.
    assert!(stdout.starts_with(r#"{"pcrs":{"8":""#), "{stdout}");
    let v = one_object(&out);
    assert_eq!(
        v,
        serde_json::json!({
            "pcrs": {"8": fold(&[cmd]), "9": fold(&[manifest, kernel])},
            "events": [
                ev(9, &manifest, "rvf-boot: RVF manifest"),
                ev(9, &kernel, "rvf-boot: kernel image"),
                ev(8, &cmd, &format!("kernel_cmdline: {TESTKERNEL_CMDLINE}")),
            ],
            "kernel_format": "bzimage",
        })
    );
    // Known answers (Python hashlib over the same bytes), so a change in
    // what is measured cannot pass unnoticed.
    assert_eq!(
        v["pcrs"]["8"],
        "e58786c0bfd619821ab47cddd44921d16e67370f752d3e7d407d5e4beacdd8eb"
    );
    assert_eq!(
        v["pcrs"]["9"],
        "69c64c7d611d74b561e6ceb4eaa5dc9d8f9a9b7f7da93b67d07d05687cc2239f"
    );
    // The table says the same.
    let out = run_os(&["measure".as_ref(), path.as_os_str()]);
    assert_eq!(out.status.code(), Some(0));
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.contains(&format!("PCR 8: {}\n", fold(&[cmd]))),
        "{table}"
    );
    assert!(
        table.contains(&format!("PCR 9: {}\n", fold(&[manifest, kernel]))),
        "{table}"
    );
    assert!(
        table.contains(&format!("event 2: PCR 9 EV_IPL sha256 {}", hex32(&kernel))),
        "{table}"
    );
}

#[test]
fn measure_append_changes_pcr8_only_and_initrd_extends_pcr9() {
    let (path, manifest, kernel) = testkernel();
    let p = path.as_os_str();
    let (base, code) = measure(&[p]);
    assert_eq!(code, 0);
    // As the stub: the RVF's cmdline, one space, the -append string.
    let line = format!("{TESTKERNEL_CMDLINE} rvf.test=1 quiet=2");
    let (v, code) = measure(&[p, "--append".as_ref(), "rvf.test=1 quiet=2".as_ref()]);
    assert_eq!(code, 0);
    assert_eq!(v["pcrs"]["8"], fold(&[sha256(line.as_bytes())]));
    assert_ne!(v["pcrs"]["8"], base["pcrs"]["8"]);
    assert_eq!(v["pcrs"]["9"], base["pcrs"]["9"]);
    assert_eq!(v["events"][2]["data"], format!("kernel_cmdline: {line}"));
    // An empty --append adds no space (cmdline::write), so nothing changes.
    let (v, _) = measure(&[p, "--append".as_ref(), "".as_ref()]);
    assert_eq!(v, base);
    // An initrd: one more PCR 9 event after the kernel; PCR 8 unchanged.
    let d = tmpdir("measure-initrd");
    let initrd = d.join("initrd.cpio");
    std::fs::write(&initrd, b"070701 an initramfs").unwrap();
    let i = sha256(b"070701 an initramfs");
    let (v, code) = measure(&[p, "--initrd".as_ref(), initrd.as_os_str()]);
    assert_eq!(code, 0);
    assert_eq!(v["pcrs"]["9"], fold(&[manifest, kernel, i]));
    assert_eq!(v["pcrs"]["8"], base["pcrs"]["8"]);
    assert_eq!(v["events"][2], ev(9, &i, "rvf-boot: initrd"));
    assert_eq!(v["events"].as_array().unwrap().len(), 4);
    // An empty initrd is no initrd (the stub loads nothing for it).
    std::fs::write(&initrd, b"").unwrap();
    let (v, _) = measure(&[p, "--initrd".as_ref(), initrd.as_os_str()]);
    assert_eq!(v, base);
}

#[test]
fn measure_event_log_bytes_parse_back_to_the_printed_events() {
    let (path, _, _) = testkernel();
    let d = tmpdir("measure-log");
    let initrd = d.join("initrd");
    std::fs::write(&initrd, [7u8; 1000]).unwrap();
    let log = d.join("events.bin");
    let (v, code) = measure(&[
        path.as_os_str(),
        "--append".as_ref(),
        "x=y".as_ref(),
        "--initrd".as_ref(),
        initrd.as_os_str(),
        "--event-log".as_ref(),
        log.as_os_str(),
    ]);
    assert_eq!(code, 0);
    let bytes = std::fs::read(&log).unwrap();
    let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap());
    // An independent TCG_PCR_EVENT2 parser; PCRs replayed from the log.
    let (mut at, mut parsed, mut pcr) = (0usize, Vec::new(), [[0u8; 32]; 2]);
    while at < bytes.len() {
        let (index, ty, count) = (u32_at(at), u32_at(at + 4), u32_at(at + 8));
        assert_eq!((ty, count), (0x0D, 1), "EV_IPL, one digest");
        assert_eq!(&bytes[at + 12..at + 14], &[0x0B, 0x00], "TPM_ALG_SHA256");
        let digest: [u8; 32] = bytes[at + 14..at + 46].try_into().unwrap();
        let size = u32_at(at + 46) as usize;
        let data = &bytes[at + 50..at + 50 + size];
        assert_eq!(data.last(), Some(&0), "NUL-terminated");
        let text = std::str::from_utf8(&data[..size - 1]).unwrap();
        parsed.push(ev(index, &digest, text));
        let slot = &mut pcr[(index - 8) as usize];
        *slot = sha256(&[&slot[..], &digest[..]].concat());
        at += 50 + size;
    }
    assert_eq!(at, bytes.len(), "no trailing bytes");
    assert_eq!(&Value::from(parsed), &v["events"]);
    assert_eq!(v["pcrs"]["8"], hex32(&pcr[0]));
    assert_eq!(v["pcrs"]["9"], hex32(&pcr[1]));
    // The cmdline event verifies from the log alone, as tpm2_eventlog does
    // it: the digest covers the text after the first space, NUL excluded.
    let cmd = &v["events"][3];
    let text = cmd["data"].as_str().unwrap();
    let after = &text[text.find(' ').unwrap() + 1..];
    assert_eq!(after, format!("{TESTKERNEL_CMDLINE} x=y"));
    assert_eq!(cmd["digest"], hex32(&sha256(after.as_bytes())));
    // 4 headers of 50 bytes, the data of each with its NUL.
    assert_eq!(bytes.len(), 4 * 50 + 23 + 23 + 17 + 16 + after.len() + 1);
    // Written atomically: no temporary file is left beside it.
    assert_eq!(dir_names(&d), ["events.bin", "initrd"]);
}

#[test]
fn measure_refuses_what_the_stub_refuses_and_writes_nothing() {
    let d = tmpdir("measure-refuse");
    let log = d.join("events.bin");
    let l = log.as_os_str();
    // small.rvf verifies, but its kernel fails the stub's bzImage checks:
    // the stub boots (and measures) nothing.
    let small = golden("ruvbot/small.rvf");
    let (v, code) = measure(&[small.as_os_str(), "--event-log".as_ref(), l]);
    assert_eq!(code, 1);
    assert_eq!(
        v,
        serde_json::json!({
            "error": format!("{}: bzImage header: header_end is 0x2ac, must be at most 0x290 (the zero page's setup-header area)", small.display()),
            "error_class": "kernel_boot_header",
            "exit_code": 1,
        })
    );
    let (path, _, _) = testkernel();
    let p = path.as_os_str();
    // A command line the kernel's cmdline_size (2047) cannot take.
    let long = "a".repeat(2047 - TESTKERNEL_CMDLINE.len());
    let (v, code) = measure(&[
        p,
        "--append".as_ref(),
        long.as_ref(),
        "--event-log".as_ref(),
        l,
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        v["error"],
        format!(
            "{}: kernel command line: too long: 2048 bytes, the kernel's cmdline_size is 2047",
            path.display()
        )
    );
    // One byte less fits.
    let (_, code) = measure(&[p, "--append".as_ref(), long[1..].as_ref()]);
    assert_eq!(code, 0);
    // A control byte; an -append over the stub's 4095-byte limit.
    let (v, code) = measure(&[
        p,
        "--append".as_ref(),
        "a\tb".as_ref(),
        "--event-log".as_ref(),
        l,
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        v["error"],
        format!(
            "{}: kernel command line: control byte 0x09 at offset {}",
            path.display(),
            TESTKERNEL_CMDLINE.len() + 2
        )
    );
    let (v, code) = measure(&[p, "--append".as_ref(), "a".repeat(4096).as_ref()]);
    assert_eq!(code, 1);
    assert_eq!(
        v["error"],
        "--append: 4096 bytes, longer than the stub's 4095-byte limit"
    );
    // At the limit, the stub's copy takes it and the kernel's cmdline_size refuses it.
    let (v, code) = measure(&[p, "--append".as_ref(), "a".repeat(4095).as_ref()]);
    assert_eq!(code, 1);
    assert_eq!(
        v["error"],
        format!(
            "{}: kernel command line: too long: {} bytes, the kernel's cmdline_size is 2047",
            path.display(),
            TESTKERNEL_CMDLINE.len() + 1 + 4095
        )
    );
    // A missing initrd.
    let (v, code) = measure(&[
        p,
        "--initrd".as_ref(),
        d.join("nope").as_os_str(),
        "--event-log".as_ref(),
        l,
    ]);
    assert_eq!(code, 1);
    assert!(
        v["error"].as_str().unwrap().contains("nope: No such file"),
        "{v}"
    );
    assert!(dir_names(&d).is_empty(), "nothing written");
    // Usage errors: exit 2, one object.
    let (v, code) = measure(&[p, "--event-log".as_ref(), "/".as_ref()]);
    assert_eq!(
        (code, v),
        (
            2,
            serde_json::json!({"error": "/: an output must name a file", "error_class": "usage", "exit_code": 2})
        )
    );
    let (v, code) = measure(&[]);
    assert_eq!(code, 2);
    assert!(v["error"].as_str().unwrap().contains("<FILE>"), "{v}");
    let out = run(&["measure", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    for s in [
        "Usage: rvf-boot measure",
        "--append <ARGS>",
        "--initrd <FILE>",
        "--json",
        "--event-log <OUT>",
    ] {
        assert!(text.contains(s), "{s}: {text}");
    }
}

// ---- issue 12: extract --bundle DIR (the runtime bundle, safely) ----

fn bundle_out(args: &[&str]) -> Output {
    let mut a = vec!["extract"];
    a.extend_from_slice(args);
    run(&a)
}

/// Every entry under `d` (not following symlinks): relative path, mode
/// (type bits included) and, for files, the SHA-256.
fn tree(d: &Path) -> Vec<(String, u32, String)> {
    use std::os::unix::fs::PermissionsExt as _;
    let mut out = Vec::new();
    let mut stack = vec![d.to_path_buf()];
    while let Some(p) = stack.pop() {
        for e in std::fs::read_dir(&p).unwrap() {
            let e = e.unwrap().path();
            let m = std::fs::symlink_metadata(&e).unwrap();
            let rel = e.strip_prefix(d).unwrap().to_string_lossy().into_owned();
            let sha = if m.file_type().is_file() {
                sha256_hex(&std::fs::read(&e).unwrap())
            } else {
                String::new()
            };
            if m.file_type().is_dir() {
                stack.push(e.clone());
            }
            out.push((rel, m.permissions().mode(), sha));
        }
    }
    out.sort();
    out
}

const SMALL_PACKAGE_JSON_SHA: &str =
    "e20b8872c97c0350d51d36e4598d6f4a2a1aa003ff30c7c00d74adf2033cf66a";

#[test]
fn bundle_extraction_writes_every_file_with_its_mode() {
    let d = tmpdir("bundle-ok");
    let app = d.join("app");
    let out = bundle_out(&[
        golden("ruvbot/small.rvf").to_str().unwrap(),
        "--bundle",
        app.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let t = tree(&app);
    let names: Vec<(&str, u32)> = t.iter().map(|(p, m, _)| (p.as_str(), *m)).collect();
    assert_eq!(
        names,
        [
            (".rvf", 0o40755),
            (".rvf/meta.json", 0o100644),
            (".rvf/profile.json", 0o100644),
            (".rvf/witness.json", 0o100644),
            ("bin", 0o40755),
            ("bin/ruvbot.js", 0o100755),
            ("index.js", 0o100644),
            ("package.json", 0o100644),
        ]
    );
    assert_eq!(
        std::fs::metadata(&app).unwrap().permissions().mode() & 0o7777,
        0o755
    );
    let pkg = rvf_testkit::ruvbot::Package::golden(true);
    assert_eq!(
        std::fs::read(app.join("bin/ruvbot.js")).unwrap(),
        pkg.files[1].1
    );
    assert_eq!(
        std::fs::read(app.join("package.json")).unwrap(),
        pkg.package_json().as_bytes()
    );
    assert_eq!(t[7].2, SMALL_PACKAGE_JSON_SHA);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains(&format!("package.json sha256: {SMALL_PACKAGE_JSON_SHA}")),
        "{stdout}"
    );
    // The packed bundle cannot run: one warning line.
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("rvf-boot: warning: bin/ruvbot.js requires '../dist/...'"),
        "{stderr}"
    );
    // Nothing but DIR beside it: the staging directory is gone.
    assert_eq!(dir_names(&d), ["app"]);
    use std::os::unix::fs::PermissionsExt as _;
}

#[test]
fn bundle_list_and_json_write_nothing() {
    let d = tmpdir("bundle-list");
    let app = d.join("app");
    let file = golden("ruvbot/small.rvf");
    let (f, a) = (file.to_str().unwrap(), app.to_str().unwrap());
    let out = bundle_out(&[f, "--bundle", a, "--list"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!(
            "        99  0644  {SMALL_PACKAGE_JSON_SHA}  package.json\n"
        )),
        "{text}"
    );
    assert!(
        text.contains("6 files, 1616 bytes (nothing written)"),
        "{text}"
    );
    assert!(dir_names(&d).is_empty());
    let out = bundle_out(&[f, "--bundle", a, "--list", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v = one_object(&out);
    assert_eq!(v["written"], false);
    assert_eq!(v["runtime"], "node-bundle");
    assert_eq!(v["segment_offset"], 16657);
    assert_eq!(v["content_hash"], "sha256-16");
    assert_eq!(v["bytecode_hash"], "sha256");
    assert_eq!(v["error"], Value::Null);
    let files = v["files"].as_array().unwrap();
    let paths: Vec<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        [
            "index.js",
            "bin/ruvbot.js",
            "package.json",
            ".rvf/meta.json",
            ".rvf/profile.json",
            ".rvf/witness.json"
        ]
    );
    assert_eq!(files[1]["mode"], "0755");
    assert_eq!(files[2]["sha256"], SMALL_PACKAGE_JSON_SHA);
    assert_eq!(v["warnings"].as_array().unwrap().len(), 1);
    assert!(dir_names(&d).is_empty());
    // A WASM module (rvf-runtime): module.wasm, its checksum checked.
    let out = bundle_out(&[
        golden("runtime-05/embed-wasm.rvf").to_str().unwrap(),
        "--bundle",
        a,
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v = one_object(&out);
    assert_eq!(v["runtime"], "wasm-module");
    assert_eq!(v["bytecode_hash"], "rvf-runtime-checksum");
    assert_eq!(
        std::fs::read(app.join("module.wasm")).unwrap(),
        [0, 0x61, 0x73, 0x6D, 1, 0, 0, 0]
    );
    // Usage: --list without --bundle, --bundle with --kernel.
    for args in [
        &["extract", f, "--list", "--json"][..],
        &["extract", f, "--bundle", a, "--kernel", "k", "--json"],
        &["extract", f, "--bundle", a, "--cmdline", "c", "--json"],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(one_object(&out)["error"].is_string());
    }
}

/// A RuvBot RVF (test kit, bzimage-600 kernel) whose WASM_SEG holds `bundle`.
fn rvf_with_bundle(d: &Path, name: &str, bundle: &[u8]) -> PathBuf {
    let pkg = rvf_testkit::ruvbot::Package::golden(true);
    let kernel = std::fs::read(golden("inputs/bzimage-600.bin")).unwrap();
    let inp = rvf_testkit::ruvbot::Inputs::new(&kernel, &pkg);
    let p = d.join(name);
    std::fs::write(&p, rvf_testkit::ruvbot::write_with_bundle(&inp, bundle)).unwrap();
    p
}

#[test]
fn hostile_bundles_write_nothing() {
    let src = tmpdir("bundle-hostile-src");
    let big = vec![b'p'; 65_535];
    let mut overlap = rvf_testkit::ruvbot::bundle_table(&[(b"a", b"xyz"), (b"b", b"uvw")]);
    overlap[25..33].copy_from_slice(&43u64.to_le_bytes());
    let mut count = rvf_testkit::ruvbot::bundle_table(&[(b"a", b"x")]);
    count[..4].copy_from_slice(&u32::MAX.to_le_bytes());
    let mut past = rvf_testkit::ruvbot::bundle_table(&[(b"a", b"xy")]);
    past[6..14].copy_from_slice(&(1u64 << 40).to_le_bytes());
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "abs",
            rvf_testkit::ruvbot::bundle_table(&[(b"/tmp/evil", b"x")]),
            "entry 0 (bundle byte 4): path is absolute",
        ),
        (
            "dotdot",
            rvf_testkit::ruvbot::bundle_table(&[(b"..", b"x")]),
            "path has a '..' component",
        ),
        (
            "climb",
            rvf_testkit::ruvbot::bundle_table(&[(b"a/../../evil", b"x")]),
            "path has a '..' component",
        ),
        (
            "empty",
            rvf_testkit::ruvbot::bundle_table(&[(b"", b"x")]),
            "path is empty",
        ),
        (
            "nul",
            rvf_testkit::ruvbot::bundle_table(&[(b"a\0b", b"x")]),
            "path contains a NUL byte",
        ),
        (
            "long",
            rvf_testkit::ruvbot::bundle_table(&[(&big, b"x")]),
            "path is longer than 4095 bytes",
        ),
        (
            "dup",
            rvf_testkit::ruvbot::bundle_table(&[
                (b"package.json", b"1"),
                (b"x", b"2"),
                (b"package.json", b"3"),
            ]),
            "runtime bundle entry 2: same path as entry 0",
        ),
        (
            "count",
            count,
            "lists 4294967295 files, more than the reader's limit of 65536",
        ),
        (
            "past",
            past,
            "runtime bundle entry 0: invalid data_offset/data_size at bundle byte 4",
        ),
        (
            "overlap",
            overlap,
            "entry 1: data starts at bundle byte 43, before byte 45",
        ),
    ];
    for (name, bundle, msg) in cases {
        let file = rvf_with_bundle(&src, &format!("{name}.rvf"), &bundle);
        let d = tmpdir(&format!("bundle-hostile-{name}"));
        let app = d.join("app");
        let out = bundle_out(&[file.to_str().unwrap(), "--bundle", app.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains(msg), "{name}: {stderr}");
        assert!(dir_names(&d).is_empty(), "{name}: {:?}", dir_names(&d));
        let out = bundle_out(&[
            file.to_str().unwrap(),
            "--bundle",
            app.to_str().unwrap(),
            "--json",
        ]);
        let v = one_object(&out);
        assert!(v["error"].as_str().unwrap().contains(msg), "{name}: {v}");
        assert_eq!(v["written"], false);
    }
    // A wrong bundle SHA-256 in the WASM header (segment hash resealed).
    let good = std::fs::read(golden("ruvbot/small.rvf")).unwrap();
    let mut bad = good.clone();
    let w = 16657usize;
    bad[w + 64 + 0x1C] ^= 1;
    let len = u64::from_le_bytes(bad[w + 16..w + 24].try_into().unwrap()) as usize;
    let h = sha256_16(&bad[w + 64..w + 64 + len]);
    bad[w + 0x28..w + 0x38].copy_from_slice(&h);
    let file = src.join("sha.rvf");
    std::fs::write(&file, &bad).unwrap();
    let d = tmpdir("bundle-hostile-sha");
    let out = bundle_out(&[
        file.to_str().unwrap(),
        "--bundle",
        d.join("app").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("WASM_SEG at byte 16657: bytecode_hash does not match the body (sha256)"),
        "{out:?}"
    );
    assert!(dir_names(&d).is_empty());
}

#[test]
fn an_existing_dir_or_symlink_is_replaced_only_with_force() {
    use std::os::unix::fs::symlink;
    let file = golden("ruvbot/small.rvf");
    let f = file.to_str().unwrap();
    let d = tmpdir("bundle-exists");
    let app = d.join("app");
    // An empty directory is taken as it is.
    std::fs::create_dir(&app).unwrap();
    let out = bundle_out(&[f, "--bundle", app.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // Not empty now: refused, untouched.
    std::fs::write(app.join("mine.txt"), b"keep").unwrap();
    let before = tree(&app);
    let out = bundle_out(&[f, "--bundle", app.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("exists and is not an empty directory"),
        "{out:?}"
    );
    assert_eq!(tree(&app), before);
    assert_eq!(dir_names(&d), ["app"]);
    // --force: replaced as a whole (mine.txt is gone), nothing left beside it.
    let out = bundle_out(&[f, "--bundle", app.to_str().unwrap(), "--force"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(!app.join("mine.txt").exists());
    assert!(app.join("package.json").is_file());
    assert_eq!(dir_names(&d), ["app"]);
    // A symlink at DIR's place: refused, then replaced, never followed.
    let victim = d.join("victim");
    std::fs::create_dir(&victim).unwrap();
    std::fs::write(victim.join("v.txt"), b"v").unwrap();
    let link = d.join("link");
    symlink(&victim, &link).unwrap();
    let out = bundle_out(&[f, "--bundle", link.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(dir_names(&victim), ["v.txt"]);
    let out = bundle_out(&[f, "--bundle", link.to_str().unwrap(), "--force"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_dir()
    );
    assert_eq!(dir_names(&victim), ["v.txt"]);
    assert_eq!(dir_names(&d), ["app", "link", "victim"]);
}

#[test]
fn a_device_sized_file_is_read_only_as_far_as_the_rvf() {
    // The RVF, then 64 MiB of zeros (sparse), or of garbage then zeros.
    let d = tmpdir("bundle-tail");
    let small = std::fs::read(golden("ruvbot/small.rvf")).unwrap();
    let read = |p: &Path| {
        let out = bundle_out(&[
            p.to_str().unwrap(),
            "--bundle",
            d.join("x").to_str().unwrap(),
            "--list",
            "--json",
        ]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let v = one_object(&out);
        (
            v["bytes_read"].as_u64().unwrap(),
            v["rvf_size"].as_u64().unwrap(),
            v["device_size"].as_u64().unwrap(),
            v["files"][2]["sha256"].as_str().unwrap().to_string(),
        )
    };
    let (plain, size, _, sha) = read(&golden("ruvbot/small.rvf"));
    assert_eq!(size, 18899);
    assert_eq!(sha, SMALL_PACKAGE_JSON_SHA);
    // Headers, the ≤ 127-byte windows, and the WASM, META, PROFILE,
    // WITNESS and manifest payloads: not the 16 KiB kernel.
    assert!(plain < 3000, "{plain}");
    for (name, garbage) in [("zeros", 0usize), ("garbage", 1 << 20)] {
        let p = d.join(format!("{name}.img"));
        let mut bytes = small.clone();
        bytes.extend((0..garbage).map(|i| (i * 7 + 3) as u8));
        std::fs::write(&p, &bytes).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&p)
            .unwrap()
            .set_len(small.len() as u64 + (64 << 20))
            .unwrap();
        let (n, size, device, sha) = read(&p);
        // Zeros after the last payload are its padding up to 64 bytes (as
        // the library's walk reads them); garbage is not.
        let want = if garbage == 0 { 18944 } else { 18899 };
        assert_eq!((size, device), (want, 18899 + (64 << 20)), "{name}");
        assert_eq!(sha, SMALL_PACKAGE_JSON_SHA);
        // Only the window after the last payload (≤ 127 bytes) and the
        // 4-byte root-page probe are new.
        assert!(n > plain && n <= plain + 127 + 4, "{name}: {n} vs {plain}");
    }
}

/// Runs `f` on a fresh tmpfs of `opts`, or says why it cannot.
fn on_tmpfs(name: &str, opts: &str, f: impl FnOnce(&Path)) {
    let mnt = tmpdir(name);
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", opts, "tmpfs", mnt.to_str().unwrap()])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        println!("note: {name} skipped: cannot mount a tmpfs here (not root?)");
        return;
    }
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mnt)));
    let _ = Command::new("umount").arg(&mnt).output();
    if let Err(e) = r {
        std::panic::resume_unwind(e);
    }
}

#[test]
fn a_full_or_read_only_disk_leaves_nothing_behind() {
    let src = tmpdir("bundle-disk-src");
    let mut pkg = rvf_testkit::ruvbot::Package::golden(true);
    pkg.files.push(("big.js".into(), vec![b'x'; 200 << 10]));
    let kernel = std::fs::read(golden("inputs/bzimage-600.bin")).unwrap();
    let rvf = src.join("big.rvf");
    std::fs::write(
        &rvf,
        rvf_testkit::ruvbot::write(&rvf_testkit::ruvbot::Inputs::new(&kernel, &pkg)),
    )
    .unwrap();
    on_tmpfs("bundle-full", "size=64k", |mnt| {
        let out = bundle_out(&[
            rvf.to_str().unwrap(),
            "--bundle",
            mnt.join("app").to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("No space left on device"), "{stderr}");
        assert!(dir_names(mnt).is_empty(), "{:?}", dir_names(mnt));
    });
    on_tmpfs("bundle-ro", "ro,size=64k", |mnt| {
        let out = bundle_out(&[
            rvf.to_str().unwrap(),
            "--bundle",
            mnt.join("app").to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("Read-only file system"), "{stderr}");
        assert!(dir_names(mnt).is_empty());
    });
}

/// An ELF vmlinux in a RuvBot RVF (issue 20): `inspect` names the format
/// and calls it bootable, `measure` predicts its events through the boot
/// core and names the format too.
#[test]
fn an_elf_vmlinux_is_bootable_and_measured() {
    use rvf_testkit::elf::ElfBuilder;
    let text: Vec<u8> = (0..0x3000u32).map(|i| (i % 251) as u8).collect();
    let raw = ElfBuilder::new(0x100_0040)
        .load(0x100_0000, &text, 0x4000)
        .build();
    let pkg = rvf_testkit::ruvbot::Package::golden(false);
    let rvf = rvf_testkit::ruvbot::write(&rvf_testkit::ruvbot::Inputs::new(&raw, &pkg));
    let d = std::env::temp_dir().join(format!("rvf-boot-cli-elf-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join("vmlinux.rvf");
    std::fs::write(&p, &rvf).unwrap();
    let (v, code, _) = inspect_json(&p, &[]);
    assert_eq!(code, 0);
    assert_eq!(
        v["kernels"][0]["boot"],
        serde_json::json!({"bootable": true, "format": "elf", "error": null})
    );
    let table = String::from_utf8(run(&["inspect", p.to_str().unwrap()]).stdout).unwrap();
    assert!(
        table.contains("\n  kernel format: elf\n  bootable on x86_64: yes\n"),
        "{table}"
    );
    let out = run(&["measure", p.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let m: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(m["kernel_format"], "elf");
    assert_eq!(m["events"][1]["digest"], sha256_hex(&raw));
    std::fs::remove_dir_all(&d).unwrap();
}
