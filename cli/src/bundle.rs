//! `rvf-boot extract FILE --bundle DIR`: write the RVF's verified runtime
//! (RuvBot's Node bundle, or a crate's WASM module) and its META, PROFILE and
//! WITNESS payloads into DIR, all of it or nothing.
//!
//! Reading: FILE may be a block device or a file with anything after the RVF.
//! The headers are walked first (64-byte reads, and at most 127 bytes after
//! each payload to find the next header: the library's `read_header` and
//! `after_segment`, the walk's own rule), which gives the RVF's extent: its
//! segments and an RVM0 root page right after them. Nothing past the extent is
//! read. The library borrows the RVF as one slice, so a buffer of the
//! extent's size is allocated zeroed (`calloc`: fresh pages that stay
//! unmapped until written, after a fallible reservation of the same size
//! says the address space can be had) and only the headers, the fill
//! windows, the root page and the payloads used (the newest MANIFEST_SEG,
//! every WASM, META, PROFILE and WITNESS segment; the KERNEL_SEGs too when a
//! kernel pin is asked) are written into it; other payloads (vectors, the
//! kernel) are never touched: the container hashes only what it hands out.
//! Memory (resident): the bytes read, not the extent; address space: the
//! extent (≤ the device).
//!
//! Policy: verify's flags (a signature by a trusted key, the minimum epoch,
//! the unsigned tail, the kernel and cmdline pins, checked on the selected
//! kernel as `extract --kernel` does) and `--expect-bundle-sha256`; the
//! library checks the runtime and metadata segments against the signed
//! manifest and the pin before [`VerifiedBundle`] hands out a byte.
//!
//! Writing: everything is verified and planned before the first byte is
//! written. The files go into a staging directory created exclusively with an
//! unpredictable name beside DIR (`tempfile`, mode 0700 until it is
//! complete). Inside it, directories are made with `mkdirat` and entered with
//! `openat(O_DIRECTORY | O_NOFOLLOW)`, files created with
//! `openat(O_CREAT | O_EXCL | O_NOFOLLOW)`: no symlink is ever followed, no
//! file is opened twice. One `syncfs` makes it all durable before the rename. Modes are set exactly (0644; 0755 for the entry point
//! META names when it starts with `#!`; directories 0755). Then the staging
//! directory is renamed to DIR: over nothing or an empty directory in one
//! step; with `--force`, whatever is at DIR (directory, file or symlink, never
//! followed) is renamed aside first, the new tree renamed in, the old one
//! removed (put back if the second rename fails). Any failure removes the
//! staging directory: DIR is never half-written.

use crate::finish::{Failure, Json, Outcome};
use crate::report::{AuthFacts, auth_json, auth_table};
use crate::{image, input, verify};
use rustix::fs::{Mode, OFlags};
use rvf_boot::bundle::METADATA_TYPES;
use rvf_boot::bundle::{RESERVED_DIR, VerifiedBundle};
use rvf_boot::segment::seg_type;
use rvf_boot::{Container, Policy};
use rvf_boot_cli::read::{Counting, Loaded, load_for};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{self, Write as _};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

/// What the command was asked to do.
pub struct Request<'a> {
    /// The RVF file or block device.
    pub file: &'a Path,
    /// The directory to create.
    pub dir: &'a Path,
    /// Only list, write nothing.
    pub list: bool,
    /// Replace whatever is at `dir`.
    pub force: bool,
    /// The verification policy (the flags' and the bundle pin).
    pub policy: Policy,
    /// The policy flags (verify's), for the report.
    pub flags: &'a verify::Request,
    /// `--expect-bundle-sha256`.
    pub bundle_pin: Option<[u8; 32]>,
}

/// One output file.
struct Planned<'a> {
    path: Vec<u8>,
    data: &'a [u8],
    mode: u32,
}

/// Runs the command: its outcome (nothing written on a failure).
pub fn run(req: &Request<'_>) -> Outcome {
    run_checked(req).unwrap_or_else(|f| {
        let v = json!({"written": false, "policy": policy_json(req), "authenticated": null});
        Outcome::failed(f, v)
    })
}

/// The `policy` object: verify's keys and the bundle pin.
fn policy_json(req: &Request<'_>) -> Value {
    let mut v = req.flags.to_json();
    if let Value::Object(m) = &mut v {
        let pin = req.bundle_pin.map(|d| hex(&d));
        m.insert("expect_bundle_sha256".into(), json!(pin));
    }
    v
}

/// The usage checks: DIR names a directory that is not, and does not hold,
/// the input. Returns DIR's parent.
fn check_usage(req: &Request<'_>) -> Result<PathBuf, Failure> {
    let Some((parent, _)) = crate::output::place(req.dir) else {
        return Err(Failure::usage(format!(
            "{}: --bundle must name a directory",
            req.dir.display()
        )));
    };
    input::refuse_output_on_input("--bundle", req.dir, &[req.file], true)?;
    Ok(parent)
}

/// The matched kernel image and cmdline pins.
type KernelPins = (Option<[u8; 32]>, Option<[u8; 32]>);

/// The selected kernel and its pins, when a kernel pin is asked (as
/// `extract --kernel` checks them).
fn check_kernel(c: &Container<'_>, req: &Request<'_>) -> Result<KernelPins, rvf_boot::Error> {
    if !req.flags.pins_kernel() {
        return Ok((None, None));
    }
    let k = c.selected_kernel_deferred()?;
    let x = image::verify(&k)?;
    Ok((x.kernel_pin, req.policy.check_cmdline(k.cmdline())?))
}

fn run_checked(req: &Request<'_>) -> Result<Outcome, Failure> {
    let parent = check_usage(req)?;
    let file = req.file.display();
    let lib = |e: rvf_boot::Error| Failure::lib(&file, &e);
    let f = File::open(req.file).map_err(|e| Failure::input(format!("{file}: {e}")))?;
    let mut r = Counting::new(f);
    let loaded = load_for(&mut r, req.flags.pins_kernel())
        .map_err(|e| Failure::input(format!("{file}: {e}")))?;
    let c = Container::parse(&loaded.bytes, req.policy).map_err(lib)?;
    let (kernel_sha256, cmdline_sha256) = check_kernel(&c, req).map_err(lib)?;
    let v = VerifiedBundle::from_container(&c).map_err(lib)?;
    let plan = plan(&v);
    for w in &warnings(&v) {
        eprintln!("rvf-boot: warning: {w}");
    }
    if !req.list {
        write_tree(req, &parent, &plan).map_err(Failure::output)?;
    }
    let asked = req.flags.asked() || req.bundle_pin.is_some();
    let auth = asked.then(|| AuthFacts {
        signed: c.signed(),
        kernel_sha256,
        cmdline_sha256,
        bundle_sha256: v.pinned(),
    });
    let done = Done {
        v: &v,
        plan: &plan,
        loaded: &loaded,
        auth: auth.as_ref(),
    };
    Ok(Outcome::ok(
        done.to_text(req),
        Json::Object(done.to_json(req)),
    ))
}

/// The files to write: the runtime's, then the META, PROFILE and WITNESS
/// payloads under `.rvf/` (JSON when they parse as JSON).
fn plan<'a>(v: &VerifiedBundle<'a>) -> Vec<Planned<'a>> {
    let mut meta_json: Option<Value> = None;
    let mut metadata: Vec<(Vec<u8>, &'a [u8])> = Vec::new();
    for (ty, name) in METADATA_TYPES
        .into_iter()
        .zip(["meta", "profile", "witness"])
    {
        if let Some(payload) = v.metadata(ty) {
            let parsed = serde_json::from_slice::<Value>(payload).ok();
            let ext = if parsed.is_some() { "json" } else { "bin" };
            if ty == seg_type::META {
                meta_json = parsed;
            }
            let mut p = RESERVED_DIR.to_vec();
            p.extend_from_slice(format!("/{name}.{ext}").as_bytes());
            metadata.push((p, payload));
        }
    }
    let entry = meta_json
        .as_ref()
        .and_then(|m| m["entrypoint"].as_str())
        .map(str::as_bytes);
    let mut plan: Vec<Planned<'a>> = v
        .files()
        .map(|f| Planned {
            path: f.path.to_vec(),
            data: f.data,
            mode: if Some(f.path) == entry && f.data.starts_with(b"#!") {
                0o755
            } else {
                0o644
            },
        })
        .collect();
    plan.extend(metadata.into_iter().map(|(path, data)| Planned {
        path,
        data,
        mode: 0o644,
    }));
    plan
}

/// A finished extraction, for the report.
struct Done<'r, 'a> {
    v: &'r VerifiedBundle<'a>,
    plan: &'r [Planned<'a>],
    loaded: &'r Loaded,
    auth: Option<&'r AuthFacts>,
}

impl Done<'_, '_> {
    fn runtime(&self) -> &'static str {
        if self.v.is_node_bundle() {
            "node-bundle"
        } else {
            "wasm-module"
        }
    }

    fn total(&self) -> usize {
        self.plan.iter().map(|p| p.data.len()).sum()
    }

    fn to_json(&self, req: &Request<'_>) -> Value {
        let list: Vec<Value> = self
            .plan
            .iter()
            .map(|p| {
                json!({
                    "path": String::from_utf8_lossy(&p.path),
                    "size": p.data.len(),
                    "sha256": hex(&Sha256::digest(p.data)),
                    "mode": format!("{:04o}", p.mode),
                })
            })
            .collect();
        let v = self.v;
        json!({
            "file": req.file.to_string_lossy(),
            "dir": req.dir.to_string_lossy(),
            "written": !req.list,
            "runtime": self.runtime(),
            "segment_offset": v.segment_offset(),
            "content_hash": v.segment_hash().name(),
            "bytecode_hash": v.bytecode_hash().name(),
            "bundle_sha256": hex(&v.sha256()),
            "files": list,
            "total_size": self.total(),
            "warnings": warnings(v),
            "rvf_size": self.loaded.bytes.len(),
            "device_size": self.loaded.device_size,
            "bytes_read": self.loaded.bytes_read,
            "policy": policy_json(req),
            "authenticated": auth_json(self.auth),
            "error": null,
        })
    }

    fn to_text(&self, req: &Request<'_>) -> String {
        let (v, total) = (self.v, self.total());
        let mut s = String::new();
        if req.list {
            for p in self.plan {
                let _ = writeln!(
                    s,
                    "{:>10}  {:04o}  {}  {}",
                    p.data.len(),
                    p.mode,
                    hex(&Sha256::digest(p.data)),
                    String::from_utf8_lossy(&p.path)
                );
            }
            let _ = writeln!(
                s,
                "{} files, {total} bytes (nothing written)",
                self.plan.len()
            );
        } else {
            let _ = writeln!(
                s,
                "bundle: {} ({} files, {total} bytes; {} from WASM_SEG at byte {})",
                req.dir.display(),
                self.plan.len(),
                self.runtime(),
                v.segment_offset()
            );
        }
        let _ = writeln!(
            s,
            "checked: content hash {}, bytecode hash {}, {} paths",
            v.segment_hash().name(),
            v.bytecode_hash().name(),
            v.len()
        );
        if let Some(pj) = v.file(b"package.json") {
            let _ = writeln!(s, "package.json sha256: {}", hex(&Sha256::digest(pj)));
        }
        let l = self.loaded;
        let _ = writeln!(
            s,
            "read: {} bytes of {} (RVF extent {} bytes)",
            l.bytes_read,
            l.device_size,
            l.bytes.len()
        );
        if let Some(a) = self.auth {
            s.push_str(&req.flags.describe());
            if req.bundle_pin.is_some() {
                s.push_str("; the pinned bundle sha256");
            }
            s.push('\n');
            s.push_str(&auth_table(a));
        }
        s
    }
}

/// Known reasons a bundle does not run as packed, one line each.
fn warnings(v: &VerifiedBundle<'_>) -> Vec<String> {
    let has_dist = v.files().any(|f| f.path.starts_with(b"dist/"));
    let needle = b"../dist/";
    let flattened = v
        .files()
        .find(|f| f.path.starts_with(b"bin/") && f.data.windows(needle.len()).any(|w| w == needle));
    match flattened {
        Some(f) if !has_dist => vec![format!(
            "{} requires '../dist/...', but RuvBot's writer (build-rvf.js) stored dist/ at the bundle's root: it will not run as packed",
            String::from_utf8_lossy(f.path)
        )],
        _ => Vec::new(),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().fold(String::new(), |mut s, x| {
        let _ = write!(s, "{x:02x}");
        s
    })
}

/// Stages every file, then puts the tree at `req.dir` (see the module doc).
fn write_tree(req: &Request<'_>, parent: &Path, plan: &[Planned<'_>]) -> Result<(), String> {
    let dir = req.dir;
    let shown = dir.display();
    // What is at DIR now.
    let existing = match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("{shown}: {e}")),
        Ok(m) => Some(m),
    };
    let empty_dir = existing.as_ref().is_some_and(|m| {
        m.file_type().is_dir() && fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none())
    });
    if existing.is_some() && !empty_dir && !req.force {
        return Err(format!(
            "{shown} exists and is not an empty directory (--force replaces it)"
        ));
    }
    let stage = tempfile::Builder::new()
        .prefix(".rvf-boot-")
        .suffix(".tmp")
        .tempdir_in(parent)
        .map_err(|e| {
            format!(
                "{}: cannot create a staging directory: {e}",
                parent.display()
            )
        })?;
    let root = rustix::fs::open(
        stage.path(),
        OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| format!("{}: {e}", stage.path().display()))?;
    for p in plan {
        write_file(&root, &p.path, p.data, p.mode).map_err(|e| {
            format!(
                "{shown}/{}: {e} (nothing written)",
                String::from_utf8_lossy(&p.path)
            )
        })?;
    }
    // Every file and directory entry durable before the rename publishes
    // them: one syncfs instead of an fsync per file and directory.
    rustix::fs::fchmod(&root, Mode::from_raw_mode(0o755))
        .and_then(|()| rustix::fs::syncfs(&root))
        .map_err(|e| format!("{}: {e}", stage.path().display()))?;
    let replace = existing.is_some() && (!empty_dir || req.force);
    publish(stage, dir, parent, replace)?;
    let _ = File::open(parent).and_then(|d| d.sync_all());
    Ok(())
}

/// Renames the complete staging directory to `dir`: over nothing or an
/// empty directory in one step; with `replace`, the old entry is renamed
/// aside first (never followed), put back if the second rename fails, and
/// removed after it.
fn publish(
    stage: tempfile::TempDir,
    dir: &Path,
    parent: &Path,
    replace: bool,
) -> Result<(), String> {
    let shown = dir.display();
    let staged = stage.path().to_path_buf();
    if !replace {
        fs::rename(&staged, dir).map_err(|e| format!("{shown}: {e} (nothing written)"))?;
        let _ = stage.keep();
    } else {
        // Move the old entry aside (never following it), the new tree in.
        let aside = tempfile::Builder::new()
            .prefix(".rvf-boot-")
            .suffix(".old")
            .make_in(parent, |p| fs::rename(dir, p))
            .map_err(|e| format!("{shown}: cannot move it aside: {e} (nothing written)"))?;
        let aside: PathBuf = aside.path().to_path_buf();
        if let Err(e) = fs::rename(&staged, dir) {
            let back = fs::rename(&aside, dir);
            return Err(match back {
                Ok(()) => format!("{shown}: {e} (left as it was)"),
                Err(b) => format!(
                    "{shown}: {e}; and the old entry could not be put back from {}: {b}",
                    aside.display()
                ),
            });
        }
        let _ = stage.keep();
        let gone = match fs::symlink_metadata(&aside) {
            Ok(m) if m.file_type().is_dir() => fs::remove_dir_all(&aside),
            Ok(_) => fs::remove_file(&aside),
            Err(e) => Err(e),
        };
        if let Err(e) = gone {
            eprintln!(
                "rvf-boot: warning: the replaced {shown} is left at {}: {e}",
                aside.display()
            );
        }
    }
    Ok(())
}

/// Creates `path` (checked by the library: relative, no `.`/`..`/empty
/// components) under `root` with `data` and `mode`, making its directories;
/// never follows a symlink, never opens an existing file.
fn write_file(root: &OwnedFd, path: &[u8], data: &[u8], mode: u32) -> io::Result<()> {
    let dir_flags = OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::RDONLY | OFlags::CLOEXEC;
    let mut parts = path.split(|&b| b == b'/').peekable();
    let mut cur: Option<OwnedFd> = None;
    while let Some(part) = parts.next() {
        let at = cur.as_ref().map_or(root.as_fd(), AsFd::as_fd);
        if parts.peek().is_some() {
            let made = match rustix::fs::mkdirat(at, part, Mode::from_raw_mode(0o700)) {
                Ok(()) => true,
                Err(rustix::io::Errno::EXIST) => false,
                Err(e) => return Err(e.into()),
            };
            let d = rustix::fs::openat(at, part, dir_flags, Mode::empty())?;
            if made {
                rustix::fs::fchmod(&d, Mode::from_raw_mode(0o755))?;
            }
            cur = Some(d);
        } else {
            let fd = rustix::fs::openat(
                at,
                part,
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o600),
            )?;
            let mut file = File::from(fd);
            file.write_all(data)?;
            rustix::fs::fchmod(&file, Mode::from_raw_mode(mode))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvf_boot::segment::{ROOT_PAGE_SIZE, after_window};
    use rvf_boot_cli::read::load;
    use std::io::Cursor;

    fn small() -> Vec<u8> {
        fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../host-tests/golden/ruvbot/small.rvf"),
        )
        .unwrap()
    }

    /// Bytes `load` reads from `file`: the first header, after each payload
    /// the window up to the next header's end (≤ 127 bytes, fewer at the end
    /// of the device), the WASM, META, PROFILE, WITNESS and manifest
    /// payloads, and the 4-byte root-page probe.
    fn expected(file: &[u8], device: u64) -> u64 {
        let c = Container::parse(file, Policy::default()).unwrap();
        let mut n = 64;
        for s in c.segments() {
            let u = s.payload_end();
            n += after_window(u).min(device - u);
            if matches!(
                s.seg_type(),
                seg_type::WASM
                    | seg_type::META
                    | seg_type::PROFILE
                    | seg_type::WITNESS
                    | seg_type::MANIFEST
            ) {
                n += s.payload_length();
            }
        }
        // The root-page probe: 16 bytes (magic, manifest offset) where a
        // page would fit.
        if file.len() as u64 + ROOT_PAGE_SIZE <= device {
            n += 16;
        }
        n
    }

    #[test]
    fn reads_headers_windows_and_used_payloads_only() {
        let file = small();
        let mut r = Counting::new(Cursor::new(file.clone()));
        let l = load(&mut r).unwrap();
        assert_eq!(l.bytes_read, expected(&file, file.len() as u64));
        assert_eq!(l.bytes_read, 2519);
        assert_eq!(l.bytes.len(), file.len());
        // The kernel payload was never read: zeros in the buffer.
        assert!(l.bytes[64 + 128..16_000].iter().all(|&b| b == 0));
        // 64 MiB of garbage after it: one more window, nothing else.
        let mut dev = file.clone();
        dev.extend((0..64u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8 | 1));
        let device = dev.len() as u64;
        let mut r = Counting::new(Cursor::new(dev));
        let l = load(&mut r).unwrap();
        assert_eq!(l.bytes.len(), file.len());
        assert_eq!(l.device_size, file.len() as u64 + (64 << 20));
        // The window after the manifest (45 bytes to the boundary + 64) and
        // the 16-byte root-page probe.
        assert_eq!(l.bytes_read, expected(&file, device));
        assert_eq!(l.bytes_read, 2519 + 109 + 16);
        let c = Container::parse(&l.bytes, Policy::default()).unwrap();
        let v = VerifiedBundle::from_container(&c).unwrap();
        assert_eq!(v.len(), 3);
    }

    #[test]
    fn every_golden_file_loads_to_the_same_container_and_runtime() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../host-tests/golden");
        let mut n = 0;
        for sub in [
            "ruvbot",
            "runtime-03",
            "runtime-05",
            "mixed",
            "real-bzimage",
        ] {
            for e in fs::read_dir(root.join(sub)).unwrap() {
                let p = e.unwrap().path();
                if p.extension().is_none_or(|x| x != "rvf") {
                    continue;
                }
                let full = fs::read(&p).unwrap();
                let mut r = Counting::new(Cursor::new(full.clone()));
                let l = load(&mut r).unwrap();
                let policy = Policy::allowing_unset_hash(true);
                let a = Container::parse(&full, policy).unwrap();
                let b = Container::parse(&l.bytes, policy).unwrap();
                assert_eq!(a.dialect(), b.dialect(), "{}", p.display());
                assert_eq!(
                    a.manifest_segment().0.offset,
                    b.manifest_segment().0.offset,
                    "{}",
                    p.display()
                );
                assert_eq!(
                    a.root_page_offset(),
                    b.root_page_offset(),
                    "{}",
                    p.display()
                );
                let files = |c: &Container<'_>| {
                    VerifiedBundle::from_container(c).map(|v| {
                        v.files()
                            .map(|f| (f.path.to_vec(), f.data.to_vec()))
                            .collect::<Vec<_>>()
                    })
                };
                assert_eq!(files(&a), files(&b), "{}", p.display());
                assert!(l.bytes_read <= full.len() as u64, "{}", p.display());
                n += 1;
            }
        }
        assert!(n >= 15, "{n}");
    }
}
