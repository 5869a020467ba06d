//! Memory bounded by what is used (issue 21 §4), measured as peak resident
//! memory (`VmHWM`, reset through `/proc/self/clear_refs` before each case)
//! of the readers the CLI runs: one test, cases in sequence, alone in its
//! process.

use rvf_boot::bundle::VerifiedBundle;
use rvf_boot::segment::{SEGMENT_MAGIC, seg_type};
use rvf_boot::{Container, Policy};
use rvf_boot_cli::read::{
    self, CHUNK, Counting, INITRD_NON_REGULAR_MAX, NON_REGULAR_MAX, hash_initrd,
    hash_initrd_limited, load_for, read_whole_limited,
};
use std::fs::{self, File};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

const MIB: u64 = 1 << 20;
/// SHA-256 of 256 MiB of zero bytes (`head -c 268435456 /dev/zero | sha256sum`).
const ZEROS_256M: &str = "a6d72ac7690f53be6ae46ba88506bd97302a093f7108472bd9efc3cefda06484";

fn tmpdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("rvf-boot-memory-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

/// Resets the peak, runs `f`, returns its result and the peak in bytes.
fn peak<T>(f: impl FnOnce() -> T) -> (T, u64) {
    fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM");
    let r = f();
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|v| v.trim().parse().ok())
        .expect("VmHWM in /proc/self/status");
    (r, kb * 1024)
}

/// `small.rvf` with a 2 GiB VEC segment (no bytes on disk: a hole) before
/// its manifest, as a vector store grows: 2 GiB + 20 KB, 24 KB on disk.
fn sparse_store(dir: &Path) -> (PathBuf, Vec<u8>) {
    let small = fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../host-tests/golden/ruvbot/small.rvf"),
    )
    .unwrap();
    let m = Container::parse(&small, Policy::default())
        .unwrap()
        .manifest_segment()
        .0
        .offset as usize;
    let mut h = [0u8; 64];
    h[0..4].copy_from_slice(&SEGMENT_MAGIC.to_le_bytes());
    h[4] = 1;
    h[5] = seg_type::VEC;
    h[8..16].copy_from_slice(&999u64.to_le_bytes());
    h[0x10..0x18].copy_from_slice(&(2048 * MIB).to_le_bytes());
    let p = dir.join("sparse.rvf");
    let mut f = File::create(&p).unwrap();
    f.write_all(&small[..m]).unwrap();
    f.write_all(&h).unwrap();
    f.seek(SeekFrom::Current((2048 * MIB) as i64)).unwrap();
    f.write_all(&small[m..]).unwrap();
    (p, small)
}

fn files(c: &Container<'_>) -> Vec<(Vec<u8>, Vec<u8>)> {
    VerifiedBundle::from_container(c)
        .unwrap()
        .files()
        .map(|f| (f.path.to_vec(), f.data.to_vec()))
        .collect()
}

#[test]
fn memory_follows_what_is_read() {
    let d = tmpdir();

    // 1. A 2 GiB sparse vector segment before the manifest: extract --bundle
    //    holds the pages it reads, not the extent (the bound: 256 MB;
    //    what it needs: the headers, windows and payloads, about 20 KB).
    let (p, small) = sparse_store(&d);
    let len = fs::metadata(&p).unwrap().len();
    assert_eq!(len, small.len() as u64 + 64 + 2048 * MIB);
    let (got, bytes) = peak(|| {
        let mut r = Counting::new(File::open(&p).unwrap());
        let l = load_for(&mut r, false).unwrap();
        let c = Container::parse(&l.bytes, Policy::default()).unwrap();
        (files(&c), l.bytes.len() as u64, l.bytes_read)
    });
    let (files_got, extent, bytes_read) = got;
    let want = files(&Container::parse(&small, Policy::default()).unwrap());
    assert_eq!(files_got, want);
    assert_eq!(extent, len);
    assert!(bytes_read < 4096, "{bytes_read}");
    eprintln!(
        "bundle from a 2 GiB sparse store: peak RSS {} KiB",
        bytes / 1024
    );
    assert!(bytes < 64 * MIB, "peak {bytes} bytes");

    // 2. A 256 MiB initrd (a hole) is hashed while it streams, in CHUNK
    //    reads: the peak does not depend on its size.
    assert_eq!(CHUNK, 1 << 20);
    let initrd = d.join("initrd");
    File::create(&initrd).unwrap().set_len(256 * MIB).unwrap();
    let (digest, bytes) = peak(|| hash_initrd(&initrd).unwrap());
    // sha256sum of 256 MiB of zeros.
    assert_eq!(
        digest.map(|d| d.iter().map(|b| format!("{b:02x}")).collect::<String>()),
        Some(ZEROS_256M.to_string())
    );
    eprintln!("256 MiB initrd: peak RSS {} KiB", bytes / 1024);
    assert!(bytes < 64 * MIB, "peak {bytes} bytes");
    assert_eq!(hash_initrd(&d.join("none")).unwrap_err().lines().count(), 1);
    File::create(d.join("empty")).unwrap();
    assert_eq!(hash_initrd(&d.join("empty")), Ok(None));

    // 3. Inputs without a length are refused past their maximum, one line.
    assert_eq!(
        (NON_REGULAR_MAX, INITRD_NON_REGULAR_MAX),
        (1 << 30, (1 << 32) - 1)
    );
    let zero = Path::new("/dev/zero");
    let (e, bytes) = peak(|| read_whole_limited(zero, 8 * MIB).unwrap_err());
    assert_eq!(
        e,
        "/dev/zero: not a regular file or block device, and longer than the 8388608-byte maximum for such an input"
    );
    assert!(bytes < 64 * MIB, "peak {bytes} bytes");
    let (e, bytes) = peak(|| hash_initrd_limited(zero, 8 * MIB).unwrap_err());
    assert_eq!(
        e,
        "/dev/zero: not a regular file or block device, and longer than the 8388608-byte maximum for such an initrd"
    );
    assert!(bytes < 64 * MIB, "peak {bytes} bytes");
    // Within the maximum a pipe is read whole.
    let (e, _) = peak(|| read::read_whole_limited(Path::new("/dev/null"), 8 * MIB));
    assert_eq!(e, Ok(Vec::new()));
    let _ = fs::remove_dir_all(&d);
}
