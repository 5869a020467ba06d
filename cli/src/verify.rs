//! `rvf-boot verify`: `inspect` under a policy. Exit 0 only when the file
//! verifies and the policy (trusted signer, minimum epoch, pinned kernel and
//! cmdline digests) holds; a malformed key or digest is a usage error.

use crate::report::Report;
use clap::Args;
use rvf_boot::Policy;
use serde_json::{Value, json};
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt as _;

/// The policy flags, one definition for `verify`, `extract` and `measure`
/// (flattened into each subcommand's arguments), with one meaning and one
/// order of refusals: the library's (signature steps at parse, then the
/// kernel pin on the verified image, then the cmdline pin).
#[derive(Args, Clone, Debug, Default)]
pub struct Request {
    /// Require a signature by this Ed25519 public key (64 hex digits);
    /// repeat for several.
    #[arg(long = "trusted-key", value_name = "HEX", value_parser = parse_key)]
    pub trusted_keys: Vec<[u8; 32]>,
    /// Require this SHA-256 (64 hex digits) of the uncompressed kernel image.
    #[arg(long = "expect-kernel-sha256", value_name = "HEX", value_parser = parse_hex32)]
    pub kernel_sha256: Option<[u8; 32]>,
    /// Require this kernel command line (the RVF's, exactly).
    #[arg(id = "expect_cmdline", long = "expect-cmdline", value_name = "STR")]
    pub cmdline: Option<OsString>,
    /// Refuse a signed manifest whose epoch is below N (needs --trusted-key).
    #[arg(long, value_name = "N", requires = "trusted_keys")]
    pub min_epoch: Option<u32>,
    /// Serve the signed prefix when unsigned bytes follow the signed
    /// manifest, instead of refusing (needs --trusted-key).
    #[arg(long, requires = "trusted_keys")]
    pub allow_unsigned_tail: bool,
}

impl Request {
    /// The library policy. Its keys and digests must be `'static`: they are
    /// leaked once, for the life of this short process.
    pub fn policy(&self) -> Policy {
        self.policy_from(Policy::default())
    }

    /// Whether anything beyond hashes is asked (then `authenticated` says
    /// what held).
    pub fn asked(&self) -> bool {
        !self.trusted_keys.is_empty() || self.kernel_sha256.is_some() || self.cmdline.is_some()
    }

    /// Whether a kernel pin (image or cmdline) is asked.
    pub const fn pins_kernel(&self) -> bool {
        self.kernel_sha256.is_some() || self.cmdline.is_some()
    }

    /// The command line asked for, as bytes.
    pub fn cmdline_bytes(&self) -> Option<&[u8]> {
        self.cmdline.as_ref().map(|c| c.as_bytes())
    }

    /// `base` (its `allow_unset_hash`) under these flags.
    pub fn policy_from(&self, base: Policy) -> Policy {
        let mut p = base;
        if !self.trusted_keys.is_empty() {
            let keys: &'static [[u8; 32]] = self.trusted_keys.clone().leak();
            p = p
                .requiring_signature(keys)
                .serving_signed_prefix(self.allow_unsigned_tail);
            if let Some(m) = self.min_epoch {
                p = p.with_min_epoch(m);
            }
        }
        if let Some(d) = self.kernel_sha256 {
            p = p.pinning_kernel_sha256(Box::leak(Box::new(d)));
        }
        if let Some(c) = self.cmdline_bytes() {
            p = p.pinning_cmdline_sha256(Box::leak(Box::new(sha256(c))));
        }
        p
    }

    /// What was asked, for the report.
    pub fn to_json(&self) -> Value {
        json!({
            "trusted_keys": self.trusted_keys.iter().map(|k| crate::image::hex(k)).collect::<Vec<_>>(),
            "min_epoch": self.min_epoch,
            "allow_unsigned_tail": self.allow_unsigned_tail,
            "expect_kernel_sha256": self.kernel_sha256.map(|d| crate::image::hex(&d)),
            "expect_cmdline": self.cmdline_bytes().map(|c| String::from_utf8_lossy(c).into_owned()),
        })
    }

    /// One line saying what is checked.
    pub fn describe(&self) -> String {
        let mut parts = vec!["hashes".to_string()];
        if !self.trusted_keys.is_empty() {
            let n = self.trusted_keys.len();
            let mut s = format!(
                "a signature by one of {n} trusted key{}",
                if n == 1 { "" } else { "s" }
            );
            if let Some(m) = self.min_epoch {
                s.push_str(&format!(" (manifest epoch >= {m})"));
            }
            s.push_str(if self.allow_unsigned_tail {
                ", an unsigned tail ignored"
            } else {
                ", no unsigned tail"
            });
            parts.push(s);
        }
        if self.kernel_sha256.is_some() {
            parts.push("the pinned kernel image sha256".into());
        }
        if self.cmdline.is_some() {
            parts.push("the expected cmdline".into());
        }
        format!("policy: {}", parts.join("; "))
    }
}

fn sha256(b: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(b).into()
}

/// 64 hex digits, as clap's value parser.
pub fn parse_hex32(s: &str) -> Result<[u8; 32], String> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return Err(format!("want 64 hex digits, got {} characters", b.len()));
    }
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(b.chunks_exact(2)) {
        let pair = std::str::from_utf8(pair).map_err(|_| "not hex".to_string())?;
        *o = u8::from_str_radix(pair, 16).map_err(|_| format!("{pair:?} is not hex"))?;
    }
    Ok(out)
}

/// An Ed25519 public key: 64 hex digits that decode to a valid point.
pub fn parse_key(s: &str) -> Result<[u8; 32], String> {
    let k = parse_hex32(s)?;
    ed25519_dalek::VerifyingKey::from_bytes(&k)
        .map_err(|_| "not a valid Ed25519 public key".to_string())?;
    Ok(k)
}

/// Runs `verify` on `bytes`: the inspect report under the policy.
pub fn report(bytes: &[u8], req: &Request) -> Report {
    Report::build(bytes, req.policy())
}

/// The `--json` object: `inspect`'s keys, `policy` and `authenticated`.
pub fn to_json(report: &Report, req: &Request) -> Value {
    let mut v = report.to_json();
    if let Value::Object(m) = &mut v {
        m.insert("policy".into(), req.to_json());
        m.insert("authenticated".into(), report.authenticated_json());
    }
    v
}

/// The table: `inspect`'s, then the policy and what it authenticated.
pub fn to_table(report: &Report, req: &Request) -> String {
    let mut t = report.to_table();
    t.push_str(&req.describe());
    t.push('\n');
    t.push_str(&report.authenticated_table());
    if report.error.is_none() {
        t.push_str("OK: the policy holds\n");
    }
    t
}
