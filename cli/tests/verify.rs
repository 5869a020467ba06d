//! `rvf-boot verify` (issue 10): flags, exit codes and JSON keys are a contract.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The public key of `rvf-writer-05 signed` (Ed25519 seed `[7u8; 32]`).
const SIGNED_PUBKEY: &str = "ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c";
const OTHER_KEY: &str = "fd1724385aa0c75b64fb78cd602fa1d991fdebf76b13c58ed702eac835e9f618";
const RUVBOT_SHA256: &str = "9a654047f2421af741410746e8ffffa420791946c575e0089c2bfd840b309302";
const RUVBOT_CMDLINE: &str = "console=ttyS0 ruvbot.api_port=3000 ruvbot.mode=rvf quiet";

fn golden(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../host-tests/golden")
        .join(rel)
}

/// `rvf-boot ARGS... --json`: (object, exit code).
fn json(args: &[&str]) -> (Value, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_rvf-boot"))
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "one JSON object: {stdout}");
    (
        serde_json::from_str(&stdout).unwrap(),
        out.status.code().unwrap(),
    )
}

fn path(rel: &str) -> String {
    golden(rel).to_str().unwrap().to_string()
}

#[test]
fn the_writers_key_authenticates_the_signed_store() {
    let f = path("runtime-05/signed.rvf");
    let (v, code) = json(&[
        "verify",
        &f,
        "--trusted-key",
        OTHER_KEY,
        "--trusted-key",
        SIGNED_PUBKEY,
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["error"], Value::Null);
    let a = &v["authenticated"];
    assert_eq!(a["trusted_key"], 1);
    assert_eq!(a["epoch"], v["manifest"]["epoch"]);
    assert_eq!(
        a["signer_fingerprint"],
        v["signature"]["signer_fingerprint"]
    );
    assert_eq!(a["unsigned_tail"], Value::Null);
    assert_eq!(v["signature"]["verified"], true);
    assert_eq!(v["policy"]["trusted_keys"][1], SIGNED_PUBKEY);
}

#[test]
fn an_untrusted_signer_or_an_unsigned_file_fails() {
    let (v, code) = json(&[
        "verify",
        &path("runtime-05/signed.rvf"),
        "--trusted-key",
        OTHER_KEY,
    ]);
    assert_eq!(code, 1);
    assert_eq!(v["authenticated"], Value::Null);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .ends_with("signature rejected: no trusted key has the signer's fingerprint"),
        "{v}"
    );
    let (v, code) = json(&[
        "verify",
        &path("ruvbot/small.rvf"),
        "--trusted-key",
        SIGNED_PUBKEY,
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        v["error"],
        "not authenticated: the file is unsigned (no RVM0 root page) and the policy requires a signature"
    );
    let (v, code) = json(&[
        "verify",
        &path("runtime-05/signed.rvf"),
        "--trusted-key",
        SIGNED_PUBKEY,
        "--min-epoch",
        "1000",
    ]);
    assert_eq!(code, 1);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("is below the minimum 1000"),
        "{v}"
    );
}

#[test]
fn inspect_shows_the_signer_but_cannot_say_trusted() {
    let (v, code) = json(&["inspect", &path("runtime-05/signed.rvf")]);
    assert_eq!(code, 0);
    let s = &v["signature"];
    assert_eq!(s["algorithm"], "ed25519");
    assert_eq!(s["verified"], false);
    assert_eq!(s["trusted_key"], Value::Null);
    assert_eq!(s["signer_fingerprint"].as_str().unwrap().len(), 32);
    let (v, _) = json(&["inspect", &path("ruvbot/small.rvf")]);
    assert_eq!(v["signature"], Value::Null);
}

#[test]
fn pins_right_and_wrong() {
    let f = path("ruvbot/small.rvf");
    let (v, code) = json(&[
        "verify",
        &f,
        "--expect-kernel-sha256",
        RUVBOT_SHA256,
        "--expect-cmdline",
        RUVBOT_CMDLINE,
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["authenticated"]["kernel_sha256"], RUVBOT_SHA256);
    assert_eq!(v["authenticated"]["signer_fingerprint"], Value::Null);
    let wrong = format!("00{}", &RUVBOT_SHA256[2..]);
    let (v, code) = json(&["verify", &f, "--expect-kernel-sha256", &wrong]);
    assert_eq!(code, 1);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .starts_with("not authenticated: kernel image"),
        "{v}"
    );
    let (v, code) = json(&["verify", &f, "--expect-cmdline", "console=ttyS0"]);
    assert_eq!(code, 1);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .starts_with("not authenticated: kernel command line"),
        "{v}"
    );
    // No policy flag: integrity only, as inspect.
    let (v, code) = json(&["verify", &f]);
    assert_eq!(code, 0);
    assert_eq!(v["authenticated"], Value::Null);
}

#[test]
fn malformed_keys_and_digests_are_usage_errors() {
    let f = path("ruvbot/small.rvf");
    let not_a_point = "02".repeat(32);
    for args in [
        vec!["verify", &f, "--trusted-key", "abcd"],
        vec!["verify", &f, "--trusted-key", &not_a_point],
        vec!["verify", &f, "--expect-kernel-sha256", "zz"],
        vec!["verify", &f, "--min-epoch", "3"],
    ] {
        let (v, code) = json(&args);
        assert_eq!(code, 2, "{args:?}: {v}");
        assert!(v["error"].is_string(), "{v}");
    }
}
