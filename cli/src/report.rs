//! `rvf-boot inspect`: one report model, built from the library's results
//! (the file is parsed once and every payload hashed once), rendered twice:
//! as the table and as the `--json` object.

use crate::image;
use rvf_boot::checksum::{HashCheck, require_content_hash};
use rvf_boot::kernel::KernelSegment;
use rvf_boot::segment::{Segment, Walk, seg_type, split_root_page};
use rvf_boot::{Container, Error, Policy};
use serde_json::{Value, json};
use std::fmt::Write as _;

/// Everything `inspect` found.
pub struct Report {
    /// The file's size; `None` when it could not be read.
    pub file_size: Option<u64>,
    /// Every complete segment in file order.
    pub segments: Vec<SegmentRow>,
    /// What the container parse found, if it succeeded.
    pub container: Option<ContainerFacts>,
    /// The kernels the manifest lists (those that parsed), directory order.
    pub kernels: Vec<KernelRow>,
    /// The signed root page, if the file ends in one.
    pub signature: Option<SignatureFacts>,
    /// What the policy's signature and pins authenticated (when they hold).
    pub authenticated: Option<AuthFacts>,
    /// The first error: the file is valid (under the policy) iff `None`.
    pub error: Option<String>,
    /// The library error behind [`Self::error`] (its class goes into the
    /// JSON), `None` for a file that could not be read.
    pub error_class: Option<Error>,
}

/// A signed store's root page, as `inspect` shows it: who claims to have
/// signed it. Only a policy with trusted keys (`verify --trusted-key`) can
/// say whether that signer is trusted.
pub struct SignatureFacts {
    /// Hex SHAKE-256-128 fingerprint of the signer's public key.
    pub signer_fingerprint: String,
    /// The epoch of the manifest the page signs.
    pub epoch: u32,
    /// Index of the trusted key that verified it; `None` when no trusted key
    /// was given (the signature cannot be checked without one).
    pub verified_by: Option<usize>,
}

/// What a policy authenticated.
pub struct AuthFacts {
    /// The signature, when required: fingerprint, trusted-key index, epoch,
    /// the unsigned tail served past.
    pub signed: Option<rvf_boot::policy::Signed>,
    /// The kernel image's SHA-256, when pinned.
    pub kernel_sha256: Option<[u8; 32]>,
    /// The cmdline's SHA-256, when pinned.
    pub cmdline_sha256: Option<[u8; 32]>,
    /// The runtime bundle's SHA-256, when pinned (`extract --bundle`).
    pub bundle_sha256: Option<[u8; 32]>,
}

/// One walked segment and how its gate (header fields + content hash) went.
pub struct SegmentRow {
    pub offset: u64,
    pub seg_type: u8,
    pub id: u64,
    pub payload_length: u64,
    pub checksum_algo: u8,
    /// The algorithm that verified the payload, `"unset"`, or `None` when
    /// the segment was refused.
    pub hash: Option<&'static str>,
    /// Passed the gate under the policy.
    pub hash_ok: bool,
}

/// The winning manifest and what surrounds it.
pub struct ContainerFacts {
    pub dialect: &'static str,
    pub manifest_offset: u64,
    pub manifest_epoch: u32,
    pub manifest_entries: usize,
    pub root_page: Option<u64>,
    pub trailing: Option<(u64, u64)>,
}

/// One listed kernel.
pub struct KernelRow {
    pub segment_offset: u64,
    pub layout: &'static str,
    pub compression: &'static str,
    pub image_size: u64,
    pub stored_size: u64,
    pub cmdline: Vec<u8>,
    pub cmdline_sha256: String,
    pub selected: bool,
    /// The verified image's digest and image-hash algorithm (the selected
    /// kernel only, when it verified).
    pub image: Option<(String, &'static str)>,
    pub arch: u8,
    pub kernel_type: u8,
    pub kernel_flags: u32,
    pub api_port: u16,
    pub entry_point: u64,
    pub binding: bool,
    pub content_hash: Option<&'static str>,
    /// `Ok` when the stub's boot checks pass, else why not.
    pub boot: Result<(), String>,
    /// The kernel's format (`bzimage`, `elf`) once its headers passed.
    pub format: Option<&'static str>,
}

/// Why a kernel that is not the selected one is not checked for booting.
const NOT_SELECTED: &str =
    "not the selected kernel (a loader boots the first KERNEL_SEG in directory order)";

impl Report {
    /// The report for a file that could not be read.
    pub fn unreadable(error: String) -> Self {
        Self {
            file_size: None,
            segments: Vec::new(),
            container: None,
            kernels: Vec::new(),
            signature: None,
            authenticated: None,
            error: Some(error),
            error_class: None,
        }
    }

    /// Inspects `bytes` (the whole file) under `policy`.
    pub fn build(bytes: &[u8], policy: Policy) -> Self {
        let mut report = Self {
            file_size: Some(u64::try_from(bytes.len()).unwrap_or(u64::MAX)),
            ..Self::unreadable(String::new())
        };
        report.error = None;
        let container = Container::parse(bytes, policy);
        let kernels: Vec<_> = container.iter().flat_map(Container::kernels).collect();
        report.segments = report.gate_segments(bytes, container.as_ref().ok(), policy);
        let mut pins = (None, None);
        match &container {
            Err(e) => report.note(e),
            Ok(c) => {
                report.container_facts(c);
                for (i, k) in kernels.into_iter().enumerate() {
                    match k {
                        Ok(k) => report.kernel_row(&k, i == 0, policy, &mut pins),
                        Err(e) => report.note(&e),
                    }
                }
            }
        }
        let asked = policy.signature.is_some()
            || policy.pins.kernel_sha256.is_some()
            || policy.pins.cmdline_sha256.is_some();
        if asked && report.error.is_none() {
            report.authenticated = Some(AuthFacts {
                signed: container.as_ref().ok().and_then(Container::signed),
                kernel_sha256: pins.0,
                cmdline_sha256: pins.1,
                bundle_sha256: None,
            });
        }
        report
    }

    /// Records `e` if it is the first error.
    fn note(&mut self, e: &Error) {
        if self.error.is_none() {
            self.error = Some(e.to_string());
            self.error_class = Some(*e);
        }
    }

    /// Every walked segment through its gate. The container gates every
    /// segment (header fields, content hash under the policy and the file's
    /// algorithm-0 writer) and remembers what verified, so each payload is
    /// hashed once for the whole report. A file that does not parse is
    /// walked as far as it goes, each segment gated on its own.
    fn gate_segments(
        &mut self,
        bytes: &[u8],
        container: Option<&Container<'_>>,
        policy: Policy,
    ) -> Vec<SegmentRow> {
        let checked: Vec<(Segment<'_>, Result<HashCheck, Error>)> = match container {
            Some(c) => c.checked_segments().collect(),
            None => Walk::new(split_root_page(bytes).0)
                .map(|s| {
                    let check = require_content_hash(&s, policy.allow_unset_hash);
                    (s, check)
                })
                .collect(),
        };
        checked
            .into_iter()
            .map(|(s, check)| {
                if let Err(e) = &check {
                    self.note(e);
                }
                segment_row(&s, check)
            })
            .collect()
    }

    /// The container's facts and its signature.
    fn container_facts(&mut self, c: &Container<'_>) {
        let m = c.manifest();
        self.container = Some(ContainerFacts {
            dialect: c.dialect().name(),
            manifest_offset: m.offset(),
            manifest_epoch: m.epoch(),
            manifest_entries: m.entries().len(),
            root_page: c.root_page_offset(),
            trailing: c.trailing(),
        });
        self.signature = c
            .root_page()
            .filter(|p| p.sig_algo() == rvf_boot::root_page::SigAlgo::Ed25519)
            .map(|p| SignatureFacts {
                signer_fingerprint: image::hex(p.signer_fingerprint()),
                epoch: m.epoch(),
                verified_by: c.signed().map(|s| s.key_index),
            });
    }

    /// One listed kernel; the selected one is verified and boot-checked, its
    /// pins compared (`pins`: the kernel image's, the cmdline's).
    fn kernel_row(
        &mut self,
        k: &KernelSegment<'_>,
        selected: bool,
        policy: Policy,
        pins: &mut (Option<[u8; 32]>, Option<[u8; 32]>),
    ) {
        let mut format = None;
        let (image, boot) = if selected {
            match image::verify(k) {
                Ok(x) => {
                    pins.0 = x.kernel_pin;
                    // No extra arguments: the final line is the RVF's.
                    match policy.check_cmdline(k.cmdline()) {
                        Ok(d) => pins.1 = d,
                        Err(e) => self.note(&e),
                    }
                    let (f, boot) = image::boot_check(&x.image, k.cmdline());
                    format = f;
                    (
                        Some((x.sha256_hex, x.image_hash)),
                        boot.map_err(|e| e.to_string()),
                    )
                }
                Err(e) => {
                    self.note(&e);
                    (None, Err(format!("not verified: {e}")))
                }
            }
        } else {
            (None, Err(NOT_SELECTED.to_string()))
        };
        self.kernels.push(KernelRow {
            segment_offset: k.segment_offset(),
            layout: k.layout().name(),
            compression: k.format().name(),
            image_size: k.image_size(),
            stored_size: k.stored_size(),
            cmdline: k.cmdline().to_vec(),
            cmdline_sha256: image::sha256_hex(k.cmdline()),
            selected,
            image,
            arch: k.arch(),
            kernel_type: k.kernel_type(),
            kernel_flags: k.kernel_flags(),
            api_port: k.api_port(),
            entry_point: k.entry_point_advisory(),
            binding: k.binding().is_some(),
            content_hash: k.content_hash().map(HashCheck::name),
            boot,
            format,
        });
    }

    /// The `--json` object.
    pub fn to_json(&self) -> Value {
        let segments: Vec<Value> = self
            .segments
            .iter()
            .map(|s| {
                json!({
                    "offset": s.offset,
                    "type": s.seg_type,
                    "type_name": seg_type::name(s.seg_type),
                    "id": s.id,
                    "payload_length": s.payload_length,
                    "checksum_algo": s.checksum_algo,
                    "hash": s.hash,
                    "hash_ok": s.hash_ok,
                })
            })
            .collect();
        let kernels: Vec<Value> = self
            .kernels
            .iter()
            .map(|k| {
                json!({
                    "segment_offset": k.segment_offset,
                    "layout": k.layout,
                    "compression": k.compression,
                    "image_size": k.image_size,
                    "stored_size": k.stored_size,
                    "cmdline": String::from_utf8_lossy(&k.cmdline),
                    "cmdline_sha256": k.cmdline_sha256,
                    "selected": k.selected,
                    "image_sha256": k.image.as_ref().map(|(d, _)| d),
                    "image_hash": k.image.as_ref().map(|(_, h)| h),
                    // Advisory header facts (§4.1): the bzImage's own header rules.
                    "arch": k.arch,
                    "kernel_type": k.kernel_type,
                    "kernel_flags": k.kernel_flags,
                    "api_port": k.api_port,
                    "entry_point": k.entry_point,
                    "binding": k.binding,
                    "content_hash": k.content_hash,
                    "boot": {
                        "bootable": k.boot.is_ok(),
                        "format": k.format,
                        "error": k.boot.as_ref().err(),
                    },
                })
            })
            .collect();
        let c = self.container.as_ref();
        json!({
            "file_size": self.file_size,
            "dialect": c.map(|c| c.dialect),
            "segments": segments,
            "manifest": c.map(|c| json!({
                "offset": c.manifest_offset,
                "epoch": c.manifest_epoch,
                "entries": c.manifest_entries,
            })),
            "root_page": c.and_then(|c| c.root_page).map(|o| json!({"offset": o})),
            "trailing": c.and_then(|c| c.trailing).map(|(o, l)| json!({"offset": o, "length": l})),
            "kernels": kernels,
            "signature": self.signature.as_ref().map(|g| json!({
                "algorithm": "ed25519",
                "signer_fingerprint": g.signer_fingerprint,
                "epoch": g.epoch,
                // Without a trusted key nothing can say the signature is good.
                "verified": g.verified_by.is_some(),
                "trusted_key": g.verified_by,
            })),
            "error": self.error,
        })
    }

    /// The `authenticated` object of `verify --json` (`null` unless a policy
    /// beyond hashes was asked for and held).
    pub fn authenticated_json(&self) -> Value {
        auth_json(self.authenticated.as_ref())
    }

    /// The `authenticated` lines of `verify`'s table.
    pub fn authenticated_table(&self) -> String {
        self.authenticated
            .as_ref()
            .map(auth_table)
            .unwrap_or_default()
    }

    /// The human-readable table.
    pub fn to_table(&self) -> String {
        let mut t = String::new();
        if self.file_size.is_none() {
            // Nothing was read: the error line says why.
            let _ = writeln!(t, "INVALID: {}", self.error.as_deref().unwrap_or(""));
            return t;
        }
        self.segments_table(&mut t);
        if let Some(c) = &self.container {
            let _ = writeln!(
                t,
                "\ndialect: {}\nmanifest: offset {}, epoch {}, {} entries",
                c.dialect, c.manifest_offset, c.manifest_epoch, c.manifest_entries
            );
            if let Some(o) = c.root_page {
                let _ = writeln!(t, "root page: offset {o}");
            }
            if let Some(g) = &self.signature {
                let _ = match g.verified_by {
                    Some(i) => writeln!(
                        t,
                        "signature: ed25519 by {}, epoch {}: verified under trusted key #{i}",
                        g.signer_fingerprint, g.epoch
                    ),
                    None => writeln!(
                        t,
                        "signature: ed25519 by {}, epoch {}: not verified (no trusted key given; `rvf-boot verify --trusted-key HEX` checks it)",
                        g.signer_fingerprint, g.epoch
                    ),
                };
            }
            if let Some((o, l)) = c.trailing {
                let _ = writeln!(t, "trailing: {l} bytes at offset {o} (torn, uncommitted)");
            }
            for k in &self.kernels {
                kernel_table(&mut t, k);
            }
            if self.kernels.is_empty() {
                let _ = writeln!(t, "kernels: none");
            }
        }
        match &self.error {
            Some(e) => {
                let _ = writeln!(t, "\nINVALID: {e}");
            }
            None => {
                let _ = writeln!(t, "\nOK: every hash verified");
            }
        }
        t
    }
    /// The segment lines of the table.
    fn segments_table(&self, t: &mut String) {
        let _ = writeln!(
            *t,
            "{:>10}  {:<9} {:>6} {:>10}  {:<4} {:<12} ok",
            "offset", "type", "id", "length", "algo", "hash"
        );
        for s in &self.segments {
            let _ = writeln!(
                *t,
                "{:>10}  {:<9} {:>6} {:>10}  {:<4} {:<12} {}",
                s.offset,
                seg_type::name(s.seg_type)
                    .map_or_else(|| format!("{:#04x}", s.seg_type), str::to_string),
                s.id,
                s.payload_length,
                s.checksum_algo,
                s.hash.unwrap_or("-"),
                if s.hash_ok { "yes" } else { "NO" }
            );
        }
    }
}

/// The lines of one kernel in the table.
fn kernel_table(t: &mut String, k: &KernelRow) {
    let _ = writeln!(
        *t,
        "kernel @{}{}: layout {}, {} {} -> {} bytes, cmdline {:?}",
        k.segment_offset,
        if k.selected { " (selected)" } else { "" },
        k.layout,
        k.compression,
        k.stored_size,
        k.image_size,
        String::from_utf8_lossy(&k.cmdline)
    );
    match &k.image {
        Some((digest, checked)) => {
            let _ = writeln!(
                *t,
                "  image sha256 {digest} ({checked} checked), cmdline sha256 {}",
                k.cmdline_sha256
            );
        }
        None => {
            let _ = writeln!(
                *t,
                "  image not verified, cmdline sha256 {}",
                k.cmdline_sha256
            );
        }
    }
    if let Some(format) = k.format {
        let _ = writeln!(*t, "  kernel format: {format}");
    }
    match &k.boot {
        Ok(()) => {
            let _ = writeln!(*t, "  bootable on x86_64: yes");
        }
        Err(e) => {
            let _ = writeln!(*t, "  bootable on x86_64: no: {e}");
        }
    }
}

fn segment_row(s: &Segment<'_>, check: Result<HashCheck, Error>) -> SegmentRow {
    let (hash, hash_ok) = match check {
        Ok(c) => (Some(c.name()), true),
        // Refused only because the policy does not accept unset hashes.
        Err(Error::ContentHashUnset { .. }) => (Some(HashCheck::Unset.name()), false),
        Err(_) => (None, false),
    };
    SegmentRow {
        offset: s.offset,
        seg_type: s.seg_type(),
        id: s.segment_id(),
        payload_length: s.payload_length(),
        checksum_algo: s.header.checksum_algo,
        hash,
        hash_ok,
    }
}

/// The `authenticated` object (`null` unless a policy beyond hashes was
/// asked for and held): one shape for `verify`, `extract` and `measure`.
pub fn auth_json(a: Option<&AuthFacts>) -> Value {
    a.map_or(Value::Null, |a| {
        let mut v = json!({
            "signer_fingerprint": a.signed.map(|s| image::hex(&s.fingerprint)),
            "trusted_key": a.signed.map(|s| s.key_index),
            "epoch": a.signed.map(|s| s.epoch),
            "unsigned_tail": a.signed.and_then(|s| s.unsigned_tail)
                .map(|(o, l)| json!({"offset": o, "length": l})),
            "kernel_sha256": a.kernel_sha256.map(|d| image::hex(&d)),
            "cmdline_sha256": a.cmdline_sha256.map(|d| image::hex(&d)),
        });
        if let (Some(d), Value::Object(m)) = (a.bundle_sha256, &mut v) {
            m.insert("bundle_sha256".into(), image::hex(&d).into());
        }
        v
    })
}

/// The `authenticated: ...` lines of a table.
pub fn auth_table(a: &AuthFacts) -> String {
    let mut t = String::new();
    if let Some(s) = a.signed {
        let _ = writeln!(
            t,
            "authenticated: signed by {} (trusted key #{}), manifest epoch {}",
            image::hex(&s.fingerprint),
            s.key_index,
            s.epoch
        );
        if let Some((o, l)) = s.unsigned_tail {
            let _ = writeln!(
                t,
                "authenticated: served the signed prefix; {l} unsigned bytes at offset {o} ignored"
            );
        }
    }
    for (what, d) in [
        ("kernel image", a.kernel_sha256),
        ("cmdline", a.cmdline_sha256),
        ("bundle", a.bundle_sha256),
    ] {
        if let Some(d) = d {
            let _ = writeln!(
                t,
                "authenticated: {what} sha256 {} (pinned)",
                image::hex(&d)
            );
        }
    }
    t
}
