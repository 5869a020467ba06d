//! `extract` and `measure` under `verify`'s policy (issue 21 §1, §2, §5):
//! the same flags, the same refusals in the same order and exit codes,
//! nothing written when the policy does not hold, `policy` and
//! `authenticated` in the JSON; the bundle pin; outputs that name an input.

use serde_json::Value;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The public key of `rvf-writer-05 signed` (Ed25519 seed `[7u8; 32]`).
const SIGNED_PUBKEY: &str = "ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c";
/// Seed 9's public key (`signed-app` below).
const APP_PUBKEY: &str = "fd1724385aa0c75b64fb78cd602fa1d991fdebf76b13c58ed702eac835e9f618";
const OTHER_KEY: &str = "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c";
const ZERO64: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn golden(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../host-tests/golden")
        .join(rel)
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rvf-boot-policy-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

fn run<S: AsRef<OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rvf-boot"))
        .args(args)
        .output()
        .unwrap()
}

/// `rvf-boot ARGS... --json`: (object, exit code); exactly one object.
fn json<S: AsRef<OsStr>>(args: &[S]) -> (Value, i32) {
    let mut out = Command::new(env!("CARGO_BIN_EXE_rvf-boot"));
    out.args(args).arg("--json");
    let out = out.output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "one JSON object: {stdout}");
    (
        serde_json::from_str(&stdout).unwrap(),
        out.status.code().unwrap(),
    )
}

fn names(d: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

/// A file written by `rvf-writer-05 SCENARIO OUT ARGS...` (built once).
fn writer(args: &[&OsStr]) -> String {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let exe = BUILT.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let target = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(t) => PathBuf::from(t).join("golden-writers"),
            None => root.join("target").join("golden-writers"),
        };
        let ok = Command::new(env!("CARGO"))
            .current_dir(root)
            .args(["build", "-q", "-p", "rvf-writer-05", "--target-dir"])
            .arg(&target)
            .status()
            .unwrap()
            .success();
        assert!(ok, "building rvf-writer-05 failed");
        target.join("debug/rvf-writer-05")
    });
    let out = Command::new(exe).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The policy cases every subcommand refuses as `verify` does, on FILE.
fn refusals() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        ("runtime-05/signed.rvf", vec!["--trusted-key", OTHER_KEY]),
        ("ruvbot/small.rvf", vec!["--trusted-key", SIGNED_PUBKEY]),
        (
            "runtime-05/signed.rvf",
            vec!["--trusted-key", SIGNED_PUBKEY, "--min-epoch", "1000"],
        ),
        (
            "runtime-05/signed.rvf",
            vec![
                "--trusted-key",
                SIGNED_PUBKEY,
                "--expect-kernel-sha256",
                ZERO64,
            ],
        ),
        (
            "runtime-05/signed.rvf",
            vec!["--expect-cmdline", "console=ttyS0"],
        ),
        (
            "real-bzimage/testkernel.rvf",
            vec!["--expect-kernel-sha256", ZERO64],
        ),
    ]
}

#[test]
fn extract_and_measure_refuse_exactly_as_verify_and_write_nothing() {
    let d = tmpdir("refusals");
    for (rel, flags) in refusals() {
        let file = golden(rel);
        let f = file.to_str().unwrap();
        let (v, code) = json(&[&["verify", f][..], &flags].concat());
        assert_eq!(code, 1, "{rel} {flags:?}: {v}");
        let want = format!("{f}: {}", v["error"].as_str().unwrap());
        assert_eq!(v["error_class"], "authentication", "{v}");
        assert_eq!(v["exit_code"], 1);
        let k = d.join("k");
        let c = d.join("c");
        let b = d.join("b");
        let log = d.join("log");
        let (k, c, b, log) = (
            k.to_str().unwrap(),
            c.to_str().unwrap(),
            b.to_str().unwrap(),
            log.to_str().unwrap(),
        );
        let mut runs = vec![
            [&["extract", f, "--kernel", k, "--cmdline", c][..], &flags].concat(),
            [&["extract", f, "--bundle", b][..], &flags].concat(),
        ];
        // measure runs the stub's boot core, which refuses a kernel whose
        // first 4 KiB fail the boot-header checks before it inflates the
        // rest, so before either pin is compared (signed.rvf's kernel is no
        // bzImage): only the refusals before that are compared here, the
        // others must be that header refusal.
        let measure = [&["measure", f, "--event-log", log][..], &flags].concat();
        let pinned =
            flags.contains(&"--expect-cmdline") || flags.contains(&"--expect-kernel-sha256");
        if rel == "runtime-05/signed.rvf" && pinned {
            let (got, code) = json(&measure);
            assert_eq!(code, 1, "{measure:?}: {got}");
            assert_eq!(
                got["error_class"], "kernel_boot_header",
                "{measure:?}: {got}"
            );
            assert_eq!(
                got["error"].as_str(),
                Some(format!("{f}: bzImage header: header_end is 0x2fd, must be at most 0x290 (the zero page's setup-header area)").as_str())
            );
            assert!(!std::path::Path::new(log).exists());
        } else {
            runs.push(measure);
        }
        for args in runs {
            let (got, code) = json(&args);
            assert_eq!(
                (code, got["error"].as_str()),
                (1, Some(want.as_str())),
                "{args:?}: {got}"
            );
            assert_eq!(got["error_class"], "authentication");
            assert_eq!(got["exit_code"], 1);
            assert_eq!(got["authenticated"], Value::Null);
            // verify's policy keys (and the bundle pin's, for --bundle).
            let mut policy = got["policy"].clone();
            if let Some(pin) = policy
                .as_object_mut()
                .unwrap()
                .remove("expect_bundle_sha256")
            {
                assert_eq!((args[2], pin), ("--bundle", Value::Null));
            }
            assert_eq!(policy, v["policy"], "{args:?}");
            assert!(names(&d).is_empty(), "{args:?}: nothing written");
            // The table form: the same line on stderr, nothing on stdout.
            let out = run(&args);
            assert_eq!(out.status.code(), Some(1));
            assert!(out.stdout.is_empty());
            assert_eq!(
                String::from_utf8(out.stderr).unwrap(),
                format!("rvf-boot: {want}\n")
            );
        }
    }
    // A malformed key is a usage error everywhere, as in verify.
    for sub in [
        &["extract", "F", "--kernel", "k"][..],
        &["measure", "F"],
        &["verify", "F"],
    ] {
        let (v, code) = json(&[sub, &["--trusted-key", "abc"]].concat());
        assert_eq!(
            (code, &v["error_class"], &v["exit_code"]),
            (2, &"usage".into(), &2.into()),
            "{v}"
        );
    }
    let (v, code) = json(&["extract", "F", "--kernel", "k", "--min-epoch", "3"]);
    assert_eq!(code, 2, "--min-epoch needs --trusted-key: {v}");
}

#[test]
fn the_right_key_extracts_and_says_what_it_authenticated() {
    let d = tmpdir("right");
    let file = golden("runtime-05/signed.rvf");
    let f = file.to_str().unwrap();
    let (v, code) = json(&["verify", f, "--trusted-key", SIGNED_PUBKEY]);
    assert_eq!(code, 0, "{v}");
    let image_sha = v["kernels"][0]["image_sha256"]
        .as_str()
        .unwrap()
        .to_string();
    let k = d.join("vmlinuz");
    let args = [
        "extract",
        f,
        "--kernel",
        k.to_str().unwrap(),
        "--trusted-key",
        SIGNED_PUBKEY,
        "--expect-kernel-sha256",
        &image_sha,
    ];
    let (x, code) = json(&args);
    assert_eq!(code, 0, "{x}");
    assert_eq!(x["written"], true);
    assert_eq!(x["image_sha256"], image_sha.as_str());
    assert_eq!(x["authenticated"]["trusted_key"], 0);
    assert_eq!(x["authenticated"]["epoch"], v["authenticated"]["epoch"]);
    assert_eq!(
        x["authenticated"]["signer_fingerprint"],
        v["authenticated"]["signer_fingerprint"]
    );
    assert_eq!(x["authenticated"]["kernel_sha256"], image_sha.as_str());
    assert_eq!(
        (&x["error"], &x["error_class"], &x["exit_code"]),
        (&Value::Null, &Value::Null, &0.into())
    );
    assert_eq!(sha256_hex(&fs::read(&k).unwrap()), image_sha);
    // The table says what was authenticated, verify's lines.
    fs::remove_file(&k).unwrap();
    let out = run(&args);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("policy: hashes; a signature by one of 1 trusted key, no unsigned tail; the pinned kernel image sha256\n"), "{text}");
    assert!(
        text.contains(&format!(
            "authenticated: kernel image sha256 {image_sha} (pinned)\n"
        )),
        "{text}"
    );
    // The writer's forgery (image, image hash, content hash, SHDG, manifest
    // hash, page commitment and CRC re-done): only the signature tells.
    let forged = d.join("forged.rvf");
    writer(&[
        "tamper-signed".as_ref(),
        file.as_os_str(),
        forged.as_os_str(),
    ]);
    let fg = forged.to_str().unwrap();
    let (_, code) = json(&["extract", fg, "--kernel", k.to_str().unwrap()]);
    assert_eq!(code, 0, "hashes alone cannot tell");
    fs::remove_file(&k).unwrap();
    let (x, code) = json(&[
        "extract",
        fg,
        "--kernel",
        k.to_str().unwrap(),
        "--trusted-key",
        SIGNED_PUBKEY,
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        x["error"],
        format!(
            "{fg}: not authenticated: RVM0 root page at byte 4864: signature rejected: signature does not verify"
        )
    );
    assert_eq!(names(&d), ["forged.rvf"], "nothing written");
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

#[test]
fn a_signed_bundle_under_its_key_and_a_ruvbot_bundle_under_its_pin() {
    let d = tmpdir("bundles");
    let img = d.join("image");
    fs::write(&img, vec![0x5a; 4096]).unwrap();
    let app = d.join("app.rvf");
    let out = writer(&[
        "signed-app".as_ref(),
        app.as_os_str(),
        img.as_os_str(),
        "console=ttyS0".as_ref(),
        "9".as_ref(),
    ]);
    assert!(out.contains(&format!("public key {APP_PUBKEY}")), "{out}");
    let a = app.to_str().unwrap();
    let b = d.join("b");
    let bs = b.to_str().unwrap();
    let (v, code) = json(&["extract", a, "--bundle", bs, "--trusted-key", APP_PUBKEY]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["authenticated"]["trusted_key"], 0);
    assert_eq!(fs::read(b.join("module.wasm")).unwrap(), b"\0asm\x01\0\0\0");
    fs::remove_dir_all(&b).unwrap();
    // An unsigned tail (a copy of the signed manifest appended before the
    // page): refused as verify refuses it, served with --allow-unsigned-tail,
    // where the page's manifest is read, not the newest.
    let bytes = fs::read(&app).unwrap();
    let (v, _) = json(&["inspect", a]);
    let m = v["manifest"]["offset"].as_u64().unwrap() as usize;
    let page = bytes.len() - 4096;
    let tailed = d.join("tailed.rvf");
    fs::write(
        &tailed,
        [&bytes[..page], &bytes[m..page], &bytes[page..]].concat(),
    )
    .unwrap();
    let t = tailed.to_str().unwrap();
    for allow in [false, true] {
        let mut args = vec!["--trusted-key", APP_PUBKEY];
        if allow {
            args.push("--allow-unsigned-tail");
        }
        let (v, vc) = json(&[&["verify", t][..], &args].concat());
        let (x, xc) = json(&[&["extract", t, "--bundle", bs][..], &args].concat());
        assert_eq!(
            (vc, xc),
            (u8::from(!allow) as i32, u8::from(!allow) as i32),
            "{v} {x}"
        );
        if allow {
            assert_eq!(
                x["authenticated"]["unsigned_tail"],
                v["authenticated"]["unsigned_tail"]
            );
            assert_eq!(fs::read(b.join("module.wasm")).unwrap(), b"\0asm\x01\0\0\0");
            fs::remove_dir_all(&b).unwrap();
        } else {
            assert_eq!(x["error"], format!("{t}: {}", v["error"].as_str().unwrap()));
            assert!(!b.exists());
        }
    }
    // A forgery of the signed store: refused under the key, nothing written.
    let forged = d.join("forged.rvf");
    writer(&[
        "tamper-signed".as_ref(),
        app.as_os_str(),
        forged.as_os_str(),
    ]);
    let (v, code) = json(&[
        "extract",
        forged.to_str().unwrap(),
        "--bundle",
        bs,
        "--force",
        "--trusted-key",
        APP_PUBKEY,
    ]);
    assert_eq!(code, 1);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .ends_with("signature rejected: signature does not verify"),
        "{v}"
    );
    assert_eq!(v["written"], false);
    assert!(!b.exists());
    // RuvBot: no signature, but a pin on the bundle's bytes.
    let small = golden("ruvbot/small.rvf");
    let s = small.to_str().unwrap();
    let (v, _) = json(&["extract", s, "--bundle", bs, "--list"]);
    let pin = v["bundle_sha256"].as_str().unwrap().to_string();
    assert_eq!(
        pin,
        "6bd5f38af5db404eae6adea9266f17d4b45b33543782084cb25965402be31f21"
    );
    let (v, code) = json(&["extract", s, "--bundle", bs, "--expect-bundle-sha256", &pin]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["authenticated"]["bundle_sha256"], pin.as_str());
    assert_eq!(v["policy"]["expect_bundle_sha256"], pin.as_str());
    assert!(b.join("package.json").exists());
    fs::remove_dir_all(&b).unwrap();
    let mut wrong = pin.clone();
    wrong.replace_range(..1, "7");
    let (v, code) = json(&[
        "extract",
        s,
        "--bundle",
        bs,
        "--expect-bundle-sha256",
        &wrong,
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        v["error"],
        format!(
            "{s}: not authenticated: runtime bundle (WASM_SEG at byte 16657): SHA-256 6bd5f38af5db404e... is not the pinned 7bd5f38af5db404e..."
        )
    );
    assert_eq!(
        (&v["error_class"], &v["written"]),
        (&"authentication".into(), &false.into())
    );
    assert!(!b.exists());
    // The pin is a --bundle flag.
    let (_, code) = json(&["extract", s, "--kernel", bs, "--expect-bundle-sha256", &pin]);
    assert_eq!(code, 2);
}

#[test]
fn measure_under_pins_adds_policy_and_authenticated() {
    let file = golden("real-bzimage/testkernel.rvf");
    let f = file.to_str().unwrap();
    let (v, _) = json(&["verify", f]);
    let image = v["kernels"][0]["image_sha256"]
        .as_str()
        .unwrap()
        .to_string();
    let line = "console=ttyS0 ruvbot.api_port=3000 ruvbot.mode=rvf quiet";
    let (m, code) = json(&[
        "measure",
        f,
        "--expect-kernel-sha256",
        &image,
        "--expect-cmdline",
        line,
    ]);
    assert_eq!(code, 0, "{m}");
    assert_eq!(m["authenticated"]["kernel_sha256"], image.as_str());
    assert_eq!(
        m["authenticated"]["cmdline_sha256"],
        sha256_hex(line.as_bytes())
    );
    assert_eq!(m["policy"]["expect_cmdline"], line);
    // The pin is on the final line the stub boots: --append changes it.
    let (m, code) = json(&["measure", f, "--append", "x=1", "--expect-cmdline", line]);
    assert_eq!(code, 1);
    assert!(
        m["error"]
            .as_str()
            .unwrap()
            .contains("kernel command line ("),
        "{m}"
    );
}

#[test]
fn an_output_that_names_an_input_is_a_usage_error() {
    let d = tmpdir("same");
    let f = d.join("in.rvf");
    let original = fs::read(golden("real-bzimage/testkernel.rvf")).unwrap();
    fs::write(&f, &original).unwrap();
    fs::create_dir(d.join("sub")).unwrap();
    fs::hard_link(&f, d.join("hard")).unwrap();
    std::os::unix::fs::symlink(&f, d.join("soft")).unwrap();
    let fs_ = f.to_str().unwrap().to_string();
    let spelled = d.join("sub/../in.rvf").to_str().unwrap().to_string();
    let hard = d.join("hard").to_str().unwrap().to_string();
    let soft = d.join("soft").to_str().unwrap().to_string();
    let dir = d.to_str().unwrap().to_string();
    let initrd = d.join("initrd");
    fs::write(&initrd, b"initrd").unwrap();
    let ini = initrd.to_str().unwrap().to_string();
    let cases: Vec<Vec<&str>> = vec![
        vec!["extract", &fs_, "--kernel", &fs_],
        vec!["extract", &fs_, "--kernel", &spelled],
        vec!["extract", &fs_, "--kernel", &hard],
        vec!["extract", &fs_, "--kernel", &soft],
        vec!["extract", &fs_, "--kernel", "k", "--cmdline", &spelled],
        vec!["extract", &fs_, "--bundle", &fs_],
        vec!["extract", &fs_, "--bundle", &fs_, "--force"],
        vec!["extract", &fs_, "--bundle", &dir, "--force"],
        vec!["measure", &fs_, "--event-log", &hard],
        vec!["measure", &fs_, "--initrd", &ini, "--event-log", &ini],
    ];
    for args in cases {
        let (v, code) = json(&args);
        assert_eq!(code, 2, "{args:?}: {v}");
        assert_eq!(v["error_class"], "usage");
        let e = v["error"].as_str().unwrap();
        assert!(e.ends_with("an output may not name an input"), "{e}");
        assert_eq!(fs::read(&f).unwrap(), original, "{args:?}");
        assert_eq!(fs::read(&initrd).unwrap(), b"initrd");
    }
    assert_eq!(names(&d), ["hard", "in.rvf", "initrd", "soft", "sub"]);
    let (v, _) = json(&["extract", &fs_, "--bundle", &dir, "--force"]);
    assert_eq!(
        v["error"],
        format!("--bundle {dir} holds the input {fs_}: an output may not name an input")
    );
}
