//! The C ABI's test cases, shared by `tests/abi.rs` (Rust through the C ABI)
//! and `examples/c_cases.rs` (writes them for the C test, `capi/test.sh`):
//! every golden file, damaged copies of each, and policy variants; and what
//! the Rust API says of each, one line per case, the line the C test prints.

#![allow(dead_code)] // each user takes what it needs

use rvf_boot::authenticate;
use rvf_boot::checksum::{HashCheck, check_content_hash};
use rvf_boot::error::Error;
use rvf_boot::gzip::InflateState;
use rvf_boot::image;
use rvf_boot::kernel::StoredFormat;
use rvf_boot::{Container, Policy};
use sha2::Digest as _;
use std::path::PathBuf;

/// The public key of Ed25519 seed `[7u8; 32]`, which signed the golden
/// `runtime-05/signed.rvf` (as `fuzz/src/invariants.rs` says).
pub const SIGNED_PUBKEY: [u8; 32] = [
    0xea, 0x4a, 0x6c, 0x63, 0xe2, 0x9c, 0x52, 0x0a, 0xbe, 0xf5, 0x50, 0x7b, 0x13, 0x2e, 0xc5, 0xf9,
    0x95, 0x47, 0x76, 0xae, 0xbe, 0xbe, 0x7b, 0x92, 0x42, 0x1e, 0xea, 0x69, 0x14, 0x46, 0xd2, 0x2c,
];

/// A policy as the C test gives it (`struct rvf_boot_policy` fields).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicySpec {
    /// `RVF_BOOT_POLICY_*` bits.
    pub flags: u32,
    /// `min_epoch`.
    pub min_epoch: u32,
    /// Trusted keys.
    pub keys: Vec<[u8; 32]>,
    /// Kernel image pin.
    pub kernel_sha256: Option<[u8; 32]>,
    /// Cmdline pin.
    pub cmdline_sha256: Option<[u8; 32]>,
}

impl PolicySpec {
    /// The policy field of a cases.txt line: `-` for none, else
    /// `flags:min_epoch:keys:kpin:cpin` (hex, `-` for empty).
    pub fn encode(&self, default: bool) -> String {
        if default {
            return "-".into();
        }
        let keys: String = self.keys.iter().map(|k| hex(k)).collect();
        let opt = |d: &Option<[u8; 32]>| d.map_or("-".into(), |d| hex(&d));
        format!(
            "{}:{}:{}:{}:{}",
            self.flags,
            self.min_epoch,
            if keys.is_empty() { "-".into() } else { keys },
            opt(&self.kernel_sha256),
            opt(&self.cmdline_sha256)
        )
    }

    /// The library policy it means, built as `rvf-boot verify` builds it
    /// (keys and digests leaked: a test process).
    pub fn policy(&self) -> Policy {
        let mut p = Policy::allowing_unset_hash(self.flags & 1 != 0);
        if !self.keys.is_empty() {
            let keys: &'static [[u8; 32]] = self.keys.clone().leak();
            p = p
                .requiring_signature(keys)
                .serving_signed_prefix(self.flags & 4 != 0);
            if self.flags & 2 != 0 {
                p = p.with_min_epoch(self.min_epoch);
            }
        }
        if let Some(d) = self.kernel_sha256 {
            p = p.pinning_kernel_sha256(Box::leak(Box::new(d)));
        }
        if let Some(d) = self.cmdline_sha256 {
            p = p.pinning_cmdline_sha256(Box::leak(Box::new(d)));
        }
        p
    }
}

/// One case: a name, the RVF bytes, the policy (`None`: the default
/// functions without a policy).
#[derive(Clone, Debug)]
pub struct Case {
    /// Unique, no spaces.
    pub name: String,
    /// The RVF.
    pub bytes: Vec<u8>,
    /// `None`: rvf_boot_image_size / rvf_boot_extract; else the
    /// `_with_policy` functions.
    pub policy: Option<PolicySpec>,
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn sha256(b: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(b).into()
}

fn golden_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../host-tests/golden")
}

/// Every golden RVF file (the real writers' files), sorted.
pub fn golden() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for dir in [
        "mixed",
        "real-bzimage",
        "runtime-03",
        "runtime-05",
        "ruvbot",
    ] {
        let mut names: Vec<_> = std::fs::read_dir(golden_root().join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "rvf"))
            .collect();
        names.sort();
        for p in names {
            let name = format!("{dir}/{}", p.file_name().unwrap().to_string_lossy());
            out.push((name, std::fs::read(&p).unwrap()));
        }
    }
    assert_eq!(out.len(), 16, "golden set changed");
    out
}

/// Where the selected kernel's pieces are in `file` (if it parses that far).
struct KernelSpots {
    header: usize,
    payload_len: usize,
    stored: (usize, usize),
    image_hash: usize,
    cmdline: (usize, usize),
    rehash: Option<rvf_boot::checksum::ContentHash>,
}

fn spots(file: &[u8]) -> Option<KernelSpots> {
    let c = Container::parse(file, Policy::default()).ok()?;
    let k = c.selected_kernel_deferred().ok()?;
    let at = |s: &[u8]| s.as_ptr() as usize - file.as_ptr() as usize;
    let seg = c.segment_at(k.segment_offset())?;
    let rehash = match check_content_hash(&seg) {
        Ok(HashCheck::Verified(h)) => Some(h),
        _ => None,
    };
    Some(KernelSpots {
        header: usize::try_from(k.segment_offset()).unwrap(),
        payload_len: usize::try_from(seg.payload_length()).unwrap(),
        stored: (at(k.stored_unverified()), k.stored_unverified().len()),
        image_hash: at(k.image_hash()),
        cmdline: (at(k.cmdline()), k.cmdline().len()),
        rehash,
    })
}

/// Recomputes the kernel segment's content hash after a damage inside it,
/// so the damage reaches the checks behind the hash.
fn rehash(f: &mut [u8], s: &KernelSpots) {
    if let Some(h) = s.rehash {
        let d = h.digest(&f[s.header + 64..s.header + 64 + s.payload_len]);
        f[s.header + 0x28..s.header + 0x38].copy_from_slice(&d);
    }
}

/// Every case, in a fixed order.
pub fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    let mut add = |name: String, bytes: Vec<u8>, policy: Option<PolicySpec>| {
        out.push(Case {
            name,
            bytes,
            policy,
        })
    };
    for (name, f) in golden() {
        let n = name.replace('/', "_");
        add(n.clone(), f.clone(), None);
        // One flipped byte at 15 spread offsets.
        for i in 1..16 {
            let mut g = f.clone();
            let at = f.len() * i / 16;
            g[at] ^= 0x01;
            add(format!("{n}@flip{at}"), g, None);
        }
        // Truncations.
        for cut in [0, 3, 64, f.len() / 3, f.len() / 2, f.len() - 1] {
            add(format!("{n}@cut{cut}"), f[..cut].to_vec(), None);
        }
        // Damages inside the kernel behind a recomputed content hash.
        if let Some(s) = spots(&f) {
            let (so, sl) = s.stored;
            let mut at = vec![
                ("kmagic", s.header + 64),
                ("kversion", s.header + 64 + 4),
                ("imghash", s.image_hash),
                ("imghash31", s.image_hash + 31),
            ];
            if sl > 0 {
                at.push(("stored0", so));
                at.push(("storedmid", so + sl / 2));
                at.push(("storedlast", so + sl - 1));
                if sl > 8 {
                    at.push(("crc", so + sl - 8));
                    at.push(("isize", so + sl - 4));
                }
            }
            if s.cmdline.1 > 0 {
                at.push(("cmdline", s.cmdline.0));
            }
            for (what, pos) in at {
                let mut g = f.clone();
                g[pos] ^= 0x20;
                rehash(&mut g, &s);
                add(format!("{n}@{what}"), g, None);
            }
            // An unset (all-zero) image hash: refused by default, accepted
            // with RVF_BOOT_POLICY_ALLOW_UNSET_HASH.
            let mut g = f.clone();
            g[s.image_hash..s.image_hash + 32].fill(0);
            rehash(&mut g, &s);
            add(format!("{n}@unsethash"), g.clone(), None);
            let unset = PolicySpec {
                flags: 1,
                ..PolicySpec::default()
            };
            add(format!("{n}@unsethash+allow"), g, Some(unset));
        }
        // Pins on every file: the right ones, a wrong kernel pin, a wrong
        // cmdline pin (an empty policy, through the _with_policy functions).
        add(
            format!("{n}+policy0"),
            f.clone(),
            Some(PolicySpec::default()),
        );
        if let Some((img, cmd)) = reference_digests(&f) {
            let pins = PolicySpec {
                kernel_sha256: Some(img),
                cmdline_sha256: Some(cmd),
                ..PolicySpec::default()
            };
            add(format!("{n}+pins"), f.clone(), Some(pins.clone()));
            let mut wrong = pins.clone();
            wrong.kernel_sha256.as_mut().unwrap()[31] ^= 1;
            add(format!("{n}+badkpin"), f.clone(), Some(wrong));
            let mut wrong = pins;
            wrong.cmdline_sha256.as_mut().unwrap()[0] ^= 1;
            add(format!("{n}+badcpin"), f.clone(), Some(wrong));
        }
        // A signature required: only the signed store passes.
        let signed = PolicySpec {
            keys: vec![SIGNED_PUBKEY],
            ..PolicySpec::default()
        };
        add(format!("{n}+key"), f.clone(), Some(signed.clone()));
        if name == "runtime-05/signed.rvf" {
            let mut other = signed.clone();
            other.keys.insert(0, [7; 32]);
            add(format!("{n}+2keys"), f.clone(), Some(other));
            let mut wrong = signed.clone();
            wrong.keys[0][5] ^= 1;
            add(format!("{n}+wrongkey"), f.clone(), Some(wrong));
            for (epoch, tag) in [(0, "epoch0"), (1, "epoch1"), (u32::MAX, "epochmax")] {
                let mut e = signed.clone();
                e.flags |= 2;
                e.min_epoch = epoch;
                add(format!("{n}+{tag}"), f.clone(), Some(e));
            }
            let mut t = signed.clone();
            t.flags |= 4;
            add(format!("{n}+tail"), f.clone(), Some(t));
            for i in 1..8 {
                let mut g = f.clone();
                let at = f.len() * i / 8;
                g[at] ^= 0x01;
                add(format!("{n}@flip{at}+key"), g, Some(signed.clone()));
            }
        }
    }
    let names: std::collections::HashSet<_> = out.iter().map(|c| c.name.clone()).collect();
    assert_eq!(names.len(), out.len(), "case names are unique");
    out
}

/// The image and cmdline SHA-256 of a file that extracts under the default
/// policy.
fn reference_digests(f: &[u8]) -> Option<([u8; 32], [u8; 32])> {
    let c = Container::parse(f, Policy::default()).ok()?;
    let k = c.selected_kernel().ok()?;
    let mut out = vec![0u8; usize::try_from(image::buffer_size(&k)).ok()?];
    let mut state = Box::new(InflateState::new());
    let v = image::extract(&k, &mut out, &mut state).ok()?;
    Some((v.sha256(), sha256(k.cmdline())))
}

/// What one case gives, in the C test's line format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Status of the image-size call and its size.
    pub size_status: i32,
    pub size: u64,
    /// Status of the extract call.
    pub status: i32,
    /// The extract call's error message (empty on success).
    pub message: String,
    /// On success: the image's SHA-256, where it is, the cmdline, format, offset.
    pub sha256: Option<[u8; 32]>,
    pub image_len: u64,
    pub image_at: String,
    pub cmdline: Vec<u8>,
    pub format: &'static str,
    pub kernel_offset: u64,
}

impl Outcome {
    /// One line: `name key=value ...`, the message last.
    pub fn line(&self, name: &str) -> String {
        format!(
            "{name} size_status={} size={} status={} sha256={} len={} at={} format={} offset={} cmdline={} msg={}",
            self.size_status,
            self.size,
            self.status,
            self.sha256.map_or("-".into(), |d| hex(&d)),
            self.image_len,
            self.image_at,
            self.format,
            self.kernel_offset,
            if self.cmdline.is_empty() {
                "-".into()
            } else {
                hex(&self.cmdline)
            },
            self.message
        )
    }
}

fn code(e: &Error) -> i32 {
    i32::from(e.class().exit_code())
}

/// What the Rust API says of `case`: the reference. The C side sizes its
/// buffer with the image-size call (0 bytes when that failed).
pub fn reference(case: &Case) -> Outcome {
    let file = &case.bytes[..];
    let policy = case
        .policy
        .as_ref()
        .map(PolicySpec::policy)
        .unwrap_or_default();
    let (size_status, size) = match Container::parse(file, policy)
        .and_then(|c| c.selected_kernel().map(|k| image::buffer_size(&k)))
    {
        Ok(s) => (0, s),
        Err(e) => (code(&e), 0),
    };
    let mut out = vec![0u8; usize::try_from(size).unwrap()];
    let out_ptr = out.as_ptr() as usize;
    let mut state = Box::new(InflateState::new());
    let mut o = Outcome {
        size_status,
        size,
        status: 0,
        message: String::new(),
        sha256: None,
        image_len: 0,
        image_at: "-".into(),
        cmdline: Vec::new(),
        format: "-",
        kernel_offset: 0,
    };
    let r = (|| {
        let c = Container::parse(file, policy)?;
        let k = c.selected_kernel()?;
        let v = image::extract(&k, &mut out, &mut state)?;
        authenticate(&c, &v, k.cmdline())?;
        Ok::<_, Error>((
            v.sha256(),
            v.bytes().as_ptr() as usize,
            v.bytes().len(),
            k.cmdline().to_vec(),
            k.format(),
            k.segment_offset(),
        ))
    })();
    match r {
        Ok((sha, at, len, cmdline, format, offset)) => {
            o.sha256 = Some(sha);
            o.image_len = len as u64;
            o.image_at = where_is(at, out_ptr, file.as_ptr() as usize, len, file.len());
            o.cmdline = cmdline;
            o.format = match format {
                StoredFormat::Gzip => "gzip",
                _ => "raw",
            };
            o.kernel_offset = offset;
        }
        Err(e) => {
            o.status = code(&e);
            o.message = e.to_string();
        }
    }
    o
}

/// `out` or `rvf+OFFSET`, where an image of `len` bytes at `at` lies.
pub fn where_is(at: usize, out: usize, rvf: usize, len: usize, rvf_len: usize) -> String {
    if at == out {
        "out".into()
    } else if at >= rvf && at + len <= rvf + rvf_len {
        format!("rvf+{}", at - rvf)
    } else {
        format!("elsewhere({at:#x})")
    }
}
