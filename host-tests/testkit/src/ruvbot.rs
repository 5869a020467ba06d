//! A RuvBot-dialect writer: what `build-rvf.js` (the RuvBot package's
//! `scripts/build-rvf.js`, run with node) writes, reproduced in Rust from the
//! same inputs. Layout facts: `docs/format.md` §2, §3.3, §4.1–§4.4, §5, §6, §8.
//!
//! Six segments, unpadded, `checksum_algo` 0 = SHA-256[0..16] of the payload,
//! ids 1..=6 in this order: KERNEL (0x0E), WASM (0x10, a Node file bundle),
//! META (0x07, JSON), PROFILE (0x0B, JSON), WITNESS (0x0A, JSON), MANIFEST
//! (0x05, listing the five before it). The writer reads the clock four times
//! (segment `timestamp_ns`, KernelHeader `build_timestamp`, META
//! `build_time`, WITNESS `timestamp`); [`Inputs::now_ms`] pins it.
//!
//! The one thing this writer cannot reproduce from the inputs alone is the
//! gzip stream: node 20 compresses with its bundled Chromium zlib
//! (`1.3.1-e00f703`), whose level-9 match finder differs from stock zlib,
//! zlib-rs and miniz_oxide (none of them gives the same deflate bytes for
//! every golden kernel; see `host-tests/tests/ruvbot_writer.rs`). So the
//! stream is an input: [`Gzip::Compress`] compresses with flate2
//! (miniz_oxide) at the best level and writes the header node writes
//! (`1F 8B 08 00 00000000 02 03`); [`Gzip::Given`] takes a gzip member
//! produced elsewhere (node's, for the byte-for-byte proof). Every other byte
//! is computed here.

use sha2::{Digest, Sha256};
use std::io::Write;

/// The command line `build-rvf.js` stores (hard-coded there).
pub const CMDLINE: &str = "console=ttyS0 ruvbot.api_port=3000 ruvbot.mode=rvf quiet";

/// The pinned clock of the committed golden files (2026-02-20T23:07:11.962Z),
/// the `RVF_FAKE_NOW_MS` default of `host-tests/golden/regen-ruvbot.sh`.
pub const GOLDEN_NOW_MS: u64 = 1_771_628_831_962;

/// Segment types the writer emits.
pub const SEG_MANIFEST: u8 = 0x05;
/// META_SEG.
pub const SEG_META: u8 = 0x07;
/// WITNESS_SEG.
pub const SEG_WITNESS: u8 = 0x0A;
/// PROFILE_SEG.
pub const SEG_PROFILE: u8 = 0x0B;
/// KERNEL_SEG.
pub const SEG_KERNEL: u8 = 0x0E;
/// WASM_SEG.
pub const SEG_WASM: u8 = 0x10;

/// The RuvBot package the writer bundles: `package.json` fields and the files
/// under `dist/` and `bin/`.
#[derive(Clone, Debug)]
pub struct Package {
    /// `name`.
    pub name: String,
    /// `version`.
    pub version: String,
    /// `description`.
    pub description: String,
    /// `dependencies` as (name, version range), in `package.json` order.
    pub dependencies: Vec<(String, String)>,
    /// Bundle paths and contents in the order build-rvf.js collects them:
    /// `dist/**` without the `dist/` prefix, then `bin/**` as `bin/…`, each
    /// directory's names in byte order (node's `readdirSync` sorts).
    /// `package.json` is appended by the writer.
    pub files: Vec<(String, Vec<u8>)>,
    /// The `package.json` bytes as read from a package directory
    /// ([`Package::from_dir`]); `None`: [`Package::package_json`] writes them.
    pub package_json_bytes: Option<Vec<u8>>,
}

impl Package {
    /// The package `host-tests/golden/regen-ruvbot.sh` builds: `small.rvf`
    /// has the two bundle files (`with_files`), `tiny.rvf` and
    /// `testkernel.rvf` only `package.json`.
    pub fn golden(with_files: bool) -> Self {
        let files = if with_files {
            vec![
                (
                    "index.js".to_string(),
                    b"'use strict';\nmodule.exports = { hello: () => 'hi from ruvbot golden' };\n"
                        .to_vec(),
                ),
                (
                    "bin/ruvbot.js".to_string(),
                    b"#!/usr/bin/env node\nrequire('../dist/index.js');\n".to_vec(),
                ),
            ]
        } else {
            Vec::new()
        };
        Package {
            name: "ruvbot".into(),
            version: "0.2.0".into(),
            description: "golden test".into(),
            dependencies: vec![("undici".into(), "^6.0.0".into())],
            files,
            package_json_bytes: None,
        }
    }

    /// Reads a package directory the way build-rvf.js does: `package.json`
    /// (its bytes are bundled as they are; `name`, `version`, `description`
    /// and the `dependencies` names feed META, dependencies in key order),
    /// `dist/**` without the `dist/` prefix, then `bin/**` as `bin/…`, each
    /// directory's names in byte order (node's `readdirSync` sorts), regular
    /// files only (symlinks are followed, as node's `statSync`).
    pub fn from_dir(dir: &std::path::Path) -> std::io::Result<Self> {
        use std::io::{Error, ErrorKind};
        let raw = std::fs::read(dir.join("package.json"))?;
        let v: serde_json::Value = serde_json::from_slice(&raw)
            .map_err(|e| Error::new(ErrorKind::InvalidData, format!("package.json: {e}")))?;
        let field = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        let dependencies = v["dependencies"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let mut files = Vec::new();
        for (sub, prefix) in [("dist", ""), ("bin", "bin/")] {
            let d = dir.join(sub);
            if d.exists() {
                collect(&d, prefix, &mut files)?;
            }
        }
        Ok(Package {
            name: field("name"),
            version: field("version"),
            description: field("description"),
            dependencies,
            files,
            package_json_bytes: Some(raw),
        })
    }

    /// The `package.json` text: compact JSON plus a newline, as the golden
    /// script writes it (`printf '%s\n'`).
    pub fn package_json(&self) -> String {
        let deps: Vec<String> = self
            .dependencies
            .iter()
            .map(|(k, v)| format!("{}:{}", js(k), js(v)))
            .collect();
        format!(
            "{{\"name\":{},\"version\":{},\"description\":{},\"dependencies\":{{{}}}}}\n",
            js(&self.name),
            js(&self.version),
            js(&self.description),
            deps.join(",")
        )
    }

    /// Writes the package as a directory (`package.json`, `dist/`, `bin/`),
    /// the way the seed writer expects to find it beside `scripts/`.
    pub fn write_to(&self, dir: &std::path::Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("package.json"), self.package_json())?;
        for (path, data) in &self.files {
            let rel = if path.starts_with("bin/") {
                path.clone()
            } else {
                format!("dist/{path}")
            };
            let full = dir.join(rel);
            if let Some(parent) = full.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(full, data)?;
        }
        Ok(())
    }
}

/// What node reports in the WITNESS payload (`process.version`, `.platform`,
/// `.arch`).
#[derive(Clone, Debug)]
pub struct NodeInfo {
    /// `process.version`, e.g. `v20.20.2`.
    pub version: String,
    /// `process.platform`, e.g. `linux`.
    pub platform: String,
    /// `process.arch`, e.g. `x64`.
    pub arch: String,
}

impl NodeInfo {
    /// The node that wrote the committed golden files.
    pub fn golden() -> Self {
        NodeInfo {
            version: "v20.20.2".into(),
            platform: "linux".into(),
            arch: "x64".into(),
        }
    }
}

/// Where the kernel's gzip member comes from.
#[derive(Clone, Copy, Debug)]
pub enum Gzip<'a> {
    /// Compress here (flate2, best level, node's header bytes).
    Compress,
    /// A complete gzip member made elsewhere (e.g. by node), stored as is.
    Given(&'a [u8]),
}

/// Everything the output depends on.
#[derive(Clone, Debug)]
pub struct Inputs<'a> {
    /// The raw kernel image (`--kernel`).
    pub kernel: &'a [u8],
    /// The kernel command line (build-rvf.js: always [`CMDLINE`]).
    pub cmdline: &'a str,
    /// The package bundled into WASM_SEG and described by META_SEG.
    pub package: &'a Package,
    /// `Date.now()` in milliseconds.
    pub now_ms: u64,
    /// The node named in WITNESS_SEG.
    pub node: NodeInfo,
    /// The gzip member of the kernel.
    pub gzip: Gzip<'a>,
}

impl<'a> Inputs<'a> {
    /// The golden files' settings around `kernel` and `package`: pinned
    /// clock, node v20.20.2 on linux/x64, [`CMDLINE`], compressed here.
    pub fn new(kernel: &'a [u8], package: &'a Package) -> Self {
        Inputs {
            kernel,
            cmdline: CMDLINE,
            package,
            now_ms: GOLDEN_NOW_MS,
            node: NodeInfo::golden(),
            gzip: Gzip::Compress,
        }
    }
}

/// `gzipSync(raw, {level: 9})` with node's header bytes, compressed by
/// flate2 (miniz_oxide): a valid member of the same shape, not node's bytes.
pub fn gzip(raw: &[u8]) -> Vec<u8> {
    let mut enc = flate2::GzBuilder::new()
        .operating_system(3)
        .write(Vec::new(), flate2::Compression::best());
    enc.write_all(raw).expect("writing to a Vec");
    enc.finish().expect("writing to a Vec")
}

/// SHA-256.
pub fn sha256(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A JSON string literal, escaped as `JSON.stringify` escapes it.
fn js(s: &str) -> String {
    serde_json::to_string(s).expect("a str serialises")
}

/// `new Date(ms).toISOString()`: `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Days since 1970-01-01 to a civil date (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        ms % 1000
    )
}

/// `Math.floor(Date.now() * 1e6)` through a double, as the segment header's
/// `timestamp_ns` (so 1771628831962 ms gives 1771628831961999872).
pub fn timestamp_ns(now_ms: u64) -> u64 {
    ((now_ms as f64) * 1e6).floor() as u64
}

/// The 64-byte segment header build-rvf.js writes (algo 0 = SHA-256[0..16]).
pub fn segment_header(seg_type: u8, id: u64, payload: &[u8], now_ms: u64) -> [u8; 64] {
    let mut h = [0u8; 64];
    h[0..4].copy_from_slice(&0x5256_4653u32.to_le_bytes());
    h[4] = 1;
    h[5] = seg_type;
    h[0x08..0x10].copy_from_slice(&id.to_le_bytes());
    h[0x10..0x18].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    h[0x18..0x20].copy_from_slice(&timestamp_ns(now_ms).to_le_bytes());
    h[0x28..0x38].copy_from_slice(&sha256(payload)[..16]);
    h
}

/// The 128-byte RuvBot KernelHeader (§4.1, JS column), image hash filled in.
pub fn kernel_header(raw: &[u8], stored_len: usize, cmdline_len: usize, now_ms: u64) -> [u8; 128] {
    let mut h = [0u8; 128];
    h[0..4].copy_from_slice(&0x5256_4B4Eu32.to_le_bytes());
    h[4..6].copy_from_slice(&1u16.to_le_bytes());
    h[6] = 0; // arch x86_64
    h[7] = 1; // MicroLinux
    // HAS_NETWORKING | HAS_QUERY_API | HAS_ADMIN_API | COMPRESSED |
    // RELOCATABLE | HAS_VIRTIO_NET | HAS_VIRTIO_BLK
    h[0x08..0x0C].copy_from_slice(&0x3C58u32.to_le_bytes());
    h[0x0C..0x10].copy_from_slice(&64u32.to_le_bytes());
    h[0x10..0x18].copy_from_slice(&0x100_0000u64.to_le_bytes());
    h[0x18..0x20].copy_from_slice(&(raw.len() as u64).to_le_bytes());
    h[0x20..0x28].copy_from_slice(&(stored_len as u64).to_le_bytes());
    h[0x28] = 1; // gzip
    h[0x2A..0x2C].copy_from_slice(&3000u16.to_le_bytes());
    h[0x2C..0x2E].copy_from_slice(&1u16.to_le_bytes());
    let img = sha256(raw);
    h[0x30..0x50].copy_from_slice(&img);
    h[0x50..0x60].copy_from_slice(&img[..16]);
    h[0x60..0x68].copy_from_slice(&(now_ms / 1000).to_le_bytes());
    h[0x68] = 1; // vcpu_count
    h[0x6C..0x70].copy_from_slice(&128u32.to_le_bytes());
    h[0x70..0x74].copy_from_slice(&(cmdline_len as u32).to_le_bytes());
    h
}

/// build-rvf.js's `collectFiles`: names in byte order, directories recursed
/// in place.
fn collect(
    dir: &std::path::Path,
    prefix: &str,
    out: &mut Vec<(String, Vec<u8>)>,
) -> std::io::Result<()> {
    let mut names: Vec<_> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()?;
    names.sort();
    for name in names {
        let full = dir.join(&name);
        let rel = format!("{prefix}{}", name.to_string_lossy());
        let md = std::fs::metadata(&full)?;
        if md.is_dir() {
            collect(&full, &format!("{rel}/"), out)?;
        } else if md.is_file() {
            out.push((rel, std::fs::read(&full)?));
        }
    }
    Ok(())
}

/// The Node file bundle (§5): `file_count u32`, per file `{path_len u16,
/// data_offset u64, data_size u64, path}`, then the data; `package.json`
/// last.
pub fn bundle(pkg: &Package) -> Vec<u8> {
    let pj = pkg
        .package_json_bytes
        .clone()
        .unwrap_or_else(|| pkg.package_json().into_bytes());
    let mut files: Vec<(&str, &[u8])> = pkg
        .files
        .iter()
        .map(|(p, d)| (p.as_str(), d.as_slice()))
        .collect();
    files.push(("package.json", &pj));
    let files: Vec<(&[u8], &[u8])> = files.iter().map(|(p, d)| (p.as_bytes(), *d)).collect();
    bundle_table(&files)
}

/// A bundle (§5) from `(path, data)` pairs in the given order: `file_count
/// u32`, per file `{path_len u16, data_offset u64, data_size u64, path}`,
/// then the data back to back after the table (what build-rvf.js writes;
/// tests pass hostile paths and orders through it).
pub fn bundle_table(files: &[(&[u8], &[u8])]) -> Vec<u8> {
    let table: usize = files.iter().map(|(p, _)| 18 + p.len()).sum();
    let mut out = (files.len() as u32).to_le_bytes().to_vec();
    let mut data_off = (4 + table) as u64;
    for (p, d) in files {
        out.extend_from_slice(&(p.len() as u16).to_le_bytes());
        out.extend_from_slice(&data_off.to_le_bytes());
        out.extend_from_slice(&(d.len() as u64).to_le_bytes());
        out.extend_from_slice(p);
        data_off += d.len() as u64;
    }
    for (_, d) in files {
        out.extend_from_slice(d);
    }
    out
}

/// The 64-byte WASM header of a RuvBot bundle (§5, build-rvf.js column).
pub fn wasm_header(bundle: &[u8]) -> [u8; 64] {
    let mut h = [0u8; 64];
    h[0..4].copy_from_slice(&0x5256_574Du32.to_le_bytes());
    h[4..6].copy_from_slice(&1u16.to_le_bytes());
    h[6] = 2; // Combined
    h[7] = 1; // "NODE"
    h[0x0A..0x0C].copy_from_slice(&12u16.to_le_bytes());
    h[0x0C..0x10].copy_from_slice(&(bundle.len() as u32).to_le_bytes());
    h[0x15] = 2;
    h[0x1C..0x3C].copy_from_slice(&sha256(bundle));
    h
}

fn meta(inp: &Inputs<'_>, stored_len: usize) -> String {
    let p = inp.package;
    let deps: Vec<String> = p.dependencies.iter().map(|(k, _)| js(k)).collect();
    format!(
        concat!(
            "{{\"name\":{},\"version\":{},\"description\":{},\"format\":\"rvf-self-contained\",",
            "\"runtime\":\"node\",\"runtime_version\":\">=18.0.0\",\"arch\":\"x86_64\",",
            "\"kernel\":{{\"type\":\"microlinux\",\"version\":\"6.6.80\",\"config\":\"tinyconfig+virtio+net\",",
            "\"image_size\":{},\"compressed_size\":{}}},\"build_time\":\"{}\",",
            "\"builder\":\"ruvbot/build-rvf.js\",\"capabilities\":[\"self-booting\",\"api-server\",",
            "\"chat\",\"vector-search\",\"self-learning\",\"multi-llm\",\"security-scanning\"],",
            "\"dependencies\":[{}],\"entrypoint\":\"bin/ruvbot.js\",\"api_port\":3000,",
            "\"firecracker_compatible\":true}}"
        ),
        js(&p.name),
        js(&p.version),
        js(&p.description),
        inp.kernel.len(),
        stored_len,
        iso8601(inp.now_ms),
        deps.join(",")
    )
}

/// The PROFILE_SEG payload (fixed in build-rvf.js).
pub const PROFILE: &str = concat!(
    "{\"profile_id\":66,\"domain\":\"ai-assistant\",\"name\":\"RuvBot\",\"version\":\"0.2.0\",",
    "\"capabilities\":{\"chat\":true,\"vector_search\":true,\"embeddings\":true,\"self_learning\":true,",
    "\"multi_model\":true,\"security\":true,\"self_booting\":true},\"models\":[\"claude-sonnet-4-20250514\",",
    "\"gemini-2.0-flash\",\"gpt-4o\",\"openrouter/*\"],\"boot_config\":{\"vcpus\":1,\"memory_mb\":64,",
    "\"api_port\":3000,\"cmdline\":\"console=ttyS0 ruvbot.mode=rvf\"}}"
);

fn witness(inp: &Inputs<'_>, kernel_hash: &[u8], runtime_hash: &[u8]) -> String {
    format!(
        concat!(
            "{{\"witness_type\":\"build_provenance\",\"timestamp\":\"{}\",",
            "\"builder\":{{\"tool\":\"build-rvf.js\",\"node_version\":{},\"platform\":{},\"arch\":{}}},",
            "\"artifacts\":{{\"kernel\":{{\"hash_sha256\":\"{}\",\"type\":\"linux-6.6-bzimage\"}},",
            "\"runtime\":{{\"hash_sha256\":\"{}\",\"type\":\"nodejs-bundle\"}}}},\"chain\":[]}}"
        ),
        iso8601(inp.now_ms),
        js(&inp.node.version),
        js(&inp.node.platform),
        js(&inp.node.arch),
        hex(kernel_hash),
        hex(runtime_hash)
    )
}

/// The RuvBot manifest payload (§3.3): epoch 1, profile 0x42, the directory
/// `(id, header offset, payload_length, type)`, del_count 0, no trailers.
pub fn manifest(entries: &[(u64, u64, u64, u8)]) -> Vec<u8> {
    let mut m = Vec::with_capacity(26 + 25 * entries.len());
    m.extend_from_slice(&1u32.to_le_bytes());
    m.extend_from_slice(&0u16.to_le_bytes());
    m.extend_from_slice(&0u64.to_le_bytes());
    m.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    m.extend_from_slice(&[0x42, 0, 0, 0]);
    for &(id, off, len, ty) in entries {
        m.extend_from_slice(&id.to_le_bytes());
        m.extend_from_slice(&off.to_le_bytes());
        m.extend_from_slice(&len.to_le_bytes());
        m.push(ty);
    }
    m.extend_from_slice(&0u32.to_le_bytes());
    m
}

/// The whole file, as build-rvf.js assembles it.
pub fn write(inp: &Inputs<'_>) -> Vec<u8> {
    write_with_bundle(inp, &bundle(inp.package))
}

/// [`write`] with the WASM_SEG's bundle given as bytes (any bytes: hostile
/// bundles for the extractor's tests); the WASM header carries their
/// SHA-256 and META still describes `inp.package`.
pub fn write_with_bundle(inp: &Inputs<'_>, runtime: &[u8]) -> Vec<u8> {
    let compressed;
    let stored: &[u8] = match inp.gzip {
        Gzip::Compress => {
            compressed = gzip(inp.kernel);
            &compressed
        }
        Gzip::Given(g) => g,
    };
    let cmdline = inp.cmdline.as_bytes();
    let mut kernel = kernel_header(inp.kernel, stored.len(), cmdline.len(), inp.now_ms).to_vec();
    kernel.extend_from_slice(stored);
    kernel.extend_from_slice(cmdline);

    let mut wasm = wasm_header(runtime).to_vec();
    wasm.extend_from_slice(runtime);

    let segments: Vec<(u8, Vec<u8>)> = vec![
        (SEG_KERNEL, kernel),
        (SEG_WASM, wasm),
        (SEG_META, meta(inp, stored.len()).into_bytes()),
        (SEG_PROFILE, PROFILE.as_bytes().to_vec()),
        (
            SEG_WITNESS,
            witness(inp, &sha256(inp.kernel), &sha256(runtime)).into_bytes(),
        ),
    ];
    let mut dir = Vec::new();
    let mut off = 0u64;
    for (i, (ty, p)) in segments.iter().enumerate() {
        dir.push((i as u64 + 1, off, p.len() as u64, *ty));
        off += 64 + p.len() as u64;
    }
    let mut out = Vec::with_capacity(off as usize + 64 + 26 + 25 * dir.len());
    for (i, (ty, p)) in segments.iter().enumerate() {
        out.extend_from_slice(&segment_header(*ty, i as u64 + 1, p, inp.now_ms));
        out.extend_from_slice(p);
    }
    let man = manifest(&dir);
    out.extend_from_slice(&segment_header(
        SEG_MANIFEST,
        segments.len() as u64 + 1,
        &man,
        inp.now_ms,
    ));
    out.extend_from_slice(&man);
    out
}

/// The gzip member stored in a RuvBot file's first KERNEL_SEG (the bytes
/// between the 128-byte kernel header and the cmdline), if the file starts
/// with one. Used to feed another writer's deflate stream back into
/// [`write`] for a byte comparison.
pub fn stored_gzip(rvf: &[u8]) -> Option<&[u8]> {
    if rvf.len() < 64 + 128 || rvf[5] != SEG_KERNEL {
        return None;
    }
    let stored = u64::from_le_bytes(rvf[64 + 0x20..64 + 0x28].try_into().ok()?) as usize;
    rvf.get(64 + 128..(64 + 128usize).checked_add(stored)?)
}
