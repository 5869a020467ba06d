//! Authenticated boot (issue 10): signature and pin policies on files written
//! at test time by the real rvf-runtime 0.5.0 `create_signed`
//! (`rvf-writer-05 signed-kernel`), and pins on RuvBot, legacy and wire files.
//! Every refusal asserts its exact error.

use host_tests::forge::{PAGE, fix_crc, manifest, page_at, rehash_manifest_and_page, rewrite_shdg};
use host_tests::measure::high_water;
use rvf_boot::checksum::shake256;
use rvf_boot::gzip::InflateState;
use rvf_boot::image::authenticate;
use rvf_boot::image::extract;
use rvf_boot::policy::{AuthProblem, Signed, WriterField};
use rvf_boot::root_page::{CRC32C, PageField, SignatureProblem};
use rvf_boot::{Container, Error, Policy};
use sha2::Digest;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const SEED: u8 = 9;
const OTHER_SEED: u8 = 10;
const CMDLINE: &str = "console=ttyS0 rvf.auth=1";
/// Header offsets in a `signed-kernel` file: manifest #1, the kernel, manifest #3.
const KERNEL_AT: usize = 192;
const KERNEL_ID: u64 = 2;

fn public(seed: u8) -> [u8; 32] {
    ed25519_dalek::SigningKey::from_bytes(&[seed; 32])
        .verifying_key()
        .to_bytes()
}

fn keys(k: &[[u8; 32]]) -> &'static [[u8; 32]] {
    Box::leak(k.to_vec().into_boxed_slice())
}

fn signed_policy(k: &[[u8; 32]]) -> Policy {
    Policy::default().requiring_signature(keys(k))
}

fn digest(d: [u8; 32]) -> &'static [u8; 32] {
    Box::leak(Box::new(d))
}

fn sha256(b: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(b).into()
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The kernel image the signed stores carry (raw; any bytes will do).
fn image() -> Vec<u8> {
    (0..40_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

/// A `create_signed` store around [`image`], signed with `[SEED; 32]`,
/// written once per test binary by the real rvf-runtime 0.5.0.
fn signed_store() -> Vec<u8> {
    static FILE: OnceLock<Vec<u8>> = OnceLock::new();
    FILE.get_or_init(|| {
        let root = workspace_root();
        let target = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(t) => PathBuf::from(t).join("golden-writers"),
            None => root.join("target").join("golden-writers"),
        };
        let status = Command::new(env!("CARGO"))
            .current_dir(&root)
            .args(["build", "-q", "-p", "rvf-writer-05", "--target-dir"])
            .arg(&target)
            .status()
            .expect("cargo build");
        assert!(status.success(), "building rvf-writer-05 failed");
        let dir = target.join(format!("auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let img = dir.join("image");
        std::fs::write(&img, image()).unwrap();
        let out = dir.join("signed.rvf");
        let run = Command::new(target.join("debug/rvf-writer-05"))
            .arg("signed-kernel")
            .arg(&out)
            .arg(&img)
            .arg(CMDLINE)
            .arg(SEED.to_string())
            .output()
            .expect("run the writer");
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let stdout = String::from_utf8(run.stdout).unwrap();
        let hex: String = public(SEED).iter().map(|b| format!("{b:02x}")).collect();
        assert!(stdout.contains(&format!("public key {hex}")), "{stdout}");
        assert!(
            stdout.contains(&format!("kernel segment_id {KERNEL_ID}")),
            "{stdout}"
        );
        let bytes = std::fs::read(&out).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        bytes
    })
    .clone()
}

fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// Signs the page again with `[seed; 32]` (signature and CRC fields zeroed
/// in the message, as rvf-runtime) and fixes its CRC.
fn resign(f: &mut [u8], seed: u8) {
    use ed25519_dalek::Signer;
    let p = page_at(f);
    let mut msg = f[p..p + PAGE].to_vec();
    msg[0x9C..0x9C + 64].fill(0);
    msg[0xFFC..].fill(0);
    let sig = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]).sign(&msg);
    f[p + 0x9C..p + 0x9C + 64].copy_from_slice(&sig.to_bytes());
    fix_crc(f);
}

/// Flips a byte of the kernel image (inside the KERNEL_SEG payload).
fn flip_kernel_byte(f: &mut [u8]) {
    f[KERNEL_AT + 64 + 200 + 1000] ^= 0x40;
}

/// Re-does the kernel header's `image_hash` (rvf-runtime's additive checksum).
fn rehash_image(f: &mut [u8]) {
    use rvf_boot::image_hash::{ImageHash, digest};
    let old = digest(ImageHash::RvfRuntimeChecksum, &image());
    let header = KERNEL_AT + 64;
    let at = f[header..header + 128]
        .windows(32)
        .position(|w| w == old)
        .expect("image_hash in the kernel header")
        + header;
    let len = image().len();
    let new = digest(
        ImageHash::RvfRuntimeChecksum,
        &f[header + 128..header + 128 + len],
    );
    f[at..at + 32].copy_from_slice(&new);
}

fn rehash_kernel_header(f: &mut [u8]) -> [u8; 16] {
    let len = le64(f, KERNEL_AT + 0x10) as usize;
    let h = shake256(&f[KERNEL_AT + 64..KERNEL_AT + 64 + len]);
    f[KERNEL_AT + 0x28..KERNEL_AT + 0x38].copy_from_slice(&h);
    h
}

fn auth(e: Error) -> AuthProblem {
    match e {
        Error::Auth(p) => p,
        other => panic!("expected Error::Auth, got {other:?} ({other})"),
    }
}

/// Parse, select, extract and authenticate, as the stub does (no extra
/// cmdline arguments).
fn boot(f: &[u8], policy: Policy) -> Result<rvf_boot::policy::Authenticated, Error> {
    let c = Container::parse(f, policy)?;
    let k = c.selected_kernel()?;
    let mut out = vec![0u8; rvf_boot::image::buffer_size(&k) as usize];
    let mut state = Box::<InflateState>::default();
    let image = extract(&k, &mut out, &mut state)?;
    let mut line = vec![0u8; rvf_boot::cmdline::BUFFER_SIZE];
    let n = rvf_boot::cmdline::write(&mut line, k.cmdline(), b"", 2048)?;
    authenticate(&c, &image, &line[..n])
}

#[test]
fn the_right_key_boots_and_says_who_signed() {
    let f = signed_store();
    let (m, _) = manifest(&f);
    let a = boot(&f, signed_policy(&[public(SEED)])).unwrap();
    let signed = a.signed.unwrap();
    assert_eq!(
        (signed.fingerprint, signed.key_index, signed.epoch),
        (shake256(&public(SEED)), 0, 1)
    );
    assert_eq!(signed.manifest_offset, m as u64);
    assert_eq!(signed.root_page, page_at(&f) as u64);
    assert_eq!(signed.unsigned_tail, None);
    assert_eq!((a.kernel_sha256, a.cmdline_sha256), (None, None));
    // Two keys, the second one right.
    let a = boot(&f, signed_policy(&[public(OTHER_SEED), public(SEED)])).unwrap();
    assert_eq!(a.signed.unwrap().key_index, 1);
    // Signature and pins together.
    let both = signed_policy(&[public(SEED)])
        .pinning_kernel_sha256(digest(sha256(&image())))
        .pinning_cmdline_sha256(digest(sha256(CMDLINE.as_bytes())));
    let a = boot(&f, both).unwrap();
    assert_eq!(a.kernel_sha256, Some(sha256(&image())));
    assert_eq!(a.cmdline_sha256, Some(sha256(CMDLINE.as_bytes())));
    assert!(a.signed.is_some());
}

#[test]
fn a_wrong_key_or_no_key_is_refused() {
    let f = signed_store();
    let p = page_at(&f) as u64;
    for k in [&[public(OTHER_SEED)][..], &[]] {
        assert_eq!(
            auth(Container::parse(&f, signed_policy(k)).unwrap_err()),
            AuthProblem::Signature {
                root_page: p,
                problem: SignatureProblem::UnknownSigner
            }
        );
    }
    // Signed by the other key: its fingerprint is not trusted.
    let mut g = f.clone();
    g[p as usize + 0xFE0..p as usize + 0xFF0].copy_from_slice(&shake256(&public(OTHER_SEED)));
    resign(&mut g, OTHER_SEED);
    let e = Container::parse(&g, signed_policy(&[public(SEED)])).unwrap_err();
    assert_eq!(e.class(), rvf_boot::error::ErrorClass::Authentication);
    assert_eq!(
        auth(e),
        AuthProblem::Signature {
            root_page: p,
            problem: SignatureProblem::UnknownSigner
        }
    );
    // ... and accepted under that key.
    let a = boot(&g, signed_policy(&[public(OTHER_SEED)])).unwrap();
    assert_eq!(a.signed.unwrap().fingerprint, shake256(&public(OTHER_SEED)));
}

#[test]
fn an_unsigned_file_is_refused_under_a_signature_policy() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/golden");
    for name in [
        "runtime-05/embed-kernel.rvf",
        "ruvbot/small.rvf",
        "runtime-03/embed-kernel.rvf",
    ] {
        let f = std::fs::read(format!("{dir}/{name}")).unwrap();
        assert_eq!(
            auth(Container::parse(&f, signed_policy(&[public(SEED)])).unwrap_err()),
            AuthProblem::Unsigned { root_page: None },
            "{name}"
        );
    }
    // A page with sig_algo 0 (CRC fixed): unsigned, before anything else.
    let mut g = signed_store();
    let p = page_at(&g);
    g[p + 0x98] = 0;
    g[p + 0x9A] = 0;
    fix_crc(&mut g);
    assert_eq!(
        auth(Container::parse(&g, signed_policy(&[public(SEED)])).unwrap_err()),
        AuthProblem::Unsigned {
            root_page: Some(p as u64)
        }
    );
    // The signature field zeroed instead: the signature does not verify.
    let mut h = signed_store();
    h[p + 0x9C..p + 0x9C + 64].fill(0);
    fix_crc(&mut h);
    assert_eq!(
        auth(Container::parse(&h, signed_policy(&[public(SEED)])).unwrap_err()),
        AuthProblem::Signature {
            root_page: p as u64,
            problem: SignatureProblem::DoesNotVerify
        }
    );
}

#[test]
fn a_tampered_kernel_byte_is_refused_at_every_depth() {
    let f = signed_store();
    let policy = signed_policy(&[public(SEED)]);
    // Plain: the payload no longer hashes to its SHDG entry (checked on use,
    // before the header's own content hash).
    let mut g = f.clone();
    flip_kernel_byte(&mut g);
    let c = Container::parse(&g, policy).unwrap();
    assert_eq!(
        auth(c.selected_kernel().unwrap_err()),
        AuthProblem::SegmentHash {
            offset: KERNEL_AT as u64,
            segment_id: KERNEL_ID
        }
    );
    assert_eq!(
        Container::parse(&g, Policy::default())
            .unwrap()
            .selected_kernel()
            .unwrap_err(),
        Error::ContentHashMismatch {
            index: 1,
            offset: KERNEL_AT as u64,
            algo: 2
        }
    );
    // Image hash and content hash re-done: the header's hash is not its SHDG
    // entry (every directory entry is compared with its SHDG entry at parse).
    rehash_image(&mut g);
    let new = rehash_kernel_header(&mut g);
    let committed =
        shake256(&f[KERNEL_AT + 64..KERNEL_AT + 64 + le64(&f, KERNEL_AT + 0x10) as usize]);
    assert_eq!(
        Container::parse(&g, policy).unwrap_err(),
        Error::DirectoryMismatch {
            entry: 1,
            offset: KERNEL_AT as u64,
            field: rvf_boot::container::DirectoryField::ShdgContentHash,
            directory: le64(&committed, 0),
            header: le64(&new, 0),
        }
    );
    // SHDG entry re-done too: the manifest no longer hashes to the page's commitment.
    rewrite_shdg(&mut g, KERNEL_ID, &new);
    let p = page_at(&g) as u64;
    assert_eq!(
        auth(Container::parse(&g, policy).unwrap_err()),
        AuthProblem::Commitment {
            root_page: p,
            field: PageField::ContentHashFirst8,
            value: le64(&g, p as usize + 0xFD0)
        }
    );
    // Manifest hash, page commitment and page CRC re-done: only the signature
    // catches it, and every integrity check passes.
    rehash_manifest_and_page(&mut g);
    let c = Container::parse(&g, Policy::default()).unwrap();
    c.verify_segments().unwrap();
    assert!(boot(&g, Policy::default()).is_ok());
    assert_eq!(
        auth(Container::parse(&g, policy).unwrap_err()),
        AuthProblem::Signature {
            root_page: p,
            problem: SignatureProblem::DoesNotVerify
        }
    );
}

#[test]
fn a_bad_page_crc_is_refused_before_the_signature() {
    let mut g = signed_store();
    let p = page_at(&g);
    g[p + 0x20] ^= 1;
    let stored = u32::from_le_bytes(g[p + 0xFFC..].try_into().unwrap());
    let computed = CRC32C.checksum(&g[p..p + 0xFFC]);
    let want = Error::RootPageCrc {
        offset: p as u64,
        stored,
        computed,
    };
    assert_eq!(
        Container::parse(&g, signed_policy(&[public(SEED)])).unwrap_err(),
        want
    );
    assert_eq!(Container::parse(&g, Policy::default()).unwrap_err(), want);
}

#[test]
fn a_page_naming_a_manifest_that_is_not_there() {
    let f = signed_store();
    let p = page_at(&f);
    let mut g = f.clone();
    g[p + 0x08..p + 0x10].copy_from_slice(&(KERNEL_AT as u64).to_le_bytes());
    fix_crc(&mut g);
    let policy = signed_policy(&[public(SEED)]);
    // Changed after signing: the signature fails first.
    assert_eq!(
        auth(Container::parse(&g, policy).unwrap_err()),
        AuthProblem::Signature {
            root_page: p as u64,
            problem: SignatureProblem::DoesNotVerify
        }
    );
    // Signed that way by the right key: the page names no manifest.
    resign(&mut g, SEED);
    assert_eq!(
        auth(Container::parse(&g, policy).unwrap_err()),
        AuthProblem::Commitment {
            root_page: p as u64,
            field: PageField::ManifestOffset,
            value: KERNEL_AT as u64
        }
    );
    // Signed with another length for the right manifest.
    let mut h = f.clone();
    let len = le64(&h, p + 0x10);
    h[p + 0x10..p + 0x18].copy_from_slice(&(len + 64).to_le_bytes());
    resign(&mut h, SEED);
    assert_eq!(
        auth(Container::parse(&h, policy).unwrap_err()),
        AuthProblem::Commitment {
            root_page: p as u64,
            field: PageField::ManifestLength,
            value: len + 64
        }
    );
    // A manifest header the writer does not emit (timestamp), re-signed.
    let mut t = f.clone();
    let (m, _) = manifest(&t);
    t[m + 0x18] = 1;
    resign(&mut t, SEED);
    assert_eq!(
        auth(Container::parse(&t, policy).unwrap_err()),
        AuthProblem::Header {
            offset: m as u64,
            field: WriterField::Timestamp,
            value: 1
        }
    );
}

/// Unsigned segments between the signed manifest and the page (rvf-runtime's
/// "unsigned tail"): refused, or served past with the explicit option.
#[test]
fn an_unsigned_tail_is_refused_unless_the_signed_prefix_is_served() {
    let f = signed_store();
    let body = &f[..page_at(&f)];
    let page = &f[page_at(&f)..];
    let (m, mlen) = manifest(&f);
    // A copy of the kernel segment and a newer manifest (copy of the signed one).
    let mut g = body.to_vec();
    let kend = KERNEL_AT + 64 + le64(&f, KERNEL_AT + 0x10) as usize;
    let kseg = f[KERNEL_AT..kend.div_ceil(64) * 64].to_vec();
    g.extend_from_slice(&kseg);
    g.extend_from_slice(&f[m..(m + 64 + mlen).div_ceil(64) * 64]);
    let tail = (g.len() - body.len()) as u64;
    g.extend_from_slice(page);
    let policy = signed_policy(&[public(SEED)]);
    assert_eq!(
        auth(Container::parse(&g, policy).unwrap_err()),
        AuthProblem::UnsignedTail {
            offset: body.len() as u64,
            length: tail
        }
    );
    // The integrity reading takes the newest manifest, which the page does not name.
    assert_eq!(
        Container::parse(&g, Policy::default()).unwrap_err(),
        Error::RootPageField {
            offset: (g.len() - PAGE) as u64,
            field: PageField::ManifestOffset,
            value: m as u64
        }
    );
    let served = policy.serving_signed_prefix(true);
    let a = boot(&g, served).unwrap();
    assert_eq!(
        a.signed.unwrap().unsigned_tail,
        Some((body.len() as u64, tail))
    );
    let c = Container::parse(&g, served).unwrap();
    assert_eq!(c.manifest().offset(), m as u64);
    assert_eq!(
        c.segments().last().unwrap().offset,
        m as u64,
        "walks end at the signed manifest"
    );
    // Any bytes count: a damaged manifest-shaped header (rvf-runtime F4-04).
    let mut h = body.to_vec();
    let mut shaped = [0u8; 64];
    shaped[..4].copy_from_slice(&0x5256_4653u32.to_le_bytes());
    shaped[5] = 0x05;
    h.extend_from_slice(&shaped);
    h.extend_from_slice(page);
    assert_eq!(
        auth(Container::parse(&h, policy).unwrap_err()),
        AuthProblem::UnsignedTail {
            offset: body.len() as u64,
            length: 64
        }
    );
    assert!(boot(&h, served).is_ok());
}

/// Bytes after the page itself: the file no longer ends in a root page, so
/// it is unsigned (as for rvf-runtime, whose page is the file's last 4096
/// bytes); serving the signed prefix does not change that.
#[test]
fn bytes_after_the_page_leave_the_file_unsigned() {
    let mut g = signed_store();
    g.extend_from_slice(&[0u8; 64]);
    let policy = signed_policy(&[public(SEED)]);
    for p in [policy, policy.serving_signed_prefix(true)] {
        assert_eq!(
            auth(Container::parse(&g, p).unwrap_err()),
            AuthProblem::Unsigned { root_page: None }
        );
    }
}

#[test]
fn an_epoch_below_the_minimum_is_refused() {
    let f = signed_store();
    let policy = signed_policy(&[public(SEED)]);
    assert!(boot(&f, policy.with_min_epoch(1)).is_ok());
    assert_eq!(
        auth(Container::parse(&f, policy.with_min_epoch(2)).unwrap_err()),
        AuthProblem::EpochBelowMinimum {
            epoch: 1,
            minimum: 2
        }
    );
}

#[test]
fn the_kernel_segment_header_must_be_the_writers() {
    // alignment_pad is covered by no hash; the signing writer's value is fixed.
    let f = signed_store();
    let mut g = f.clone();
    g[KERNEL_AT + 0x3C] ^= 1; // alignment_pad
    let c = Container::parse(&g, signed_policy(&[public(SEED)])).unwrap();
    assert_eq!(
        auth(c.selected_kernel().unwrap_err()),
        AuthProblem::Header {
            offset: KERNEL_AT as u64,
            field: WriterField::AlignmentPad,
            value: u64::from(u32::from_le_bytes(
                g[KERNEL_AT + 0x3C..KERNEL_AT + 0x40].try_into().unwrap()
            ))
        }
    );
}

/// Pins on every dialect: right, wrong kernel, wrong cmdline.
#[test]
fn pins_right_and_wrong_on_ruvbot_legacy_and_wire_files() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/golden");
    for name in [
        "ruvbot/small.rvf",
        "runtime-03/embed-kernel.rvf",
        "runtime-05/embed-kernel.rvf",
    ] {
        let f = std::fs::read(format!("{dir}/{name}")).unwrap();
        let c = Container::parse(&f, Policy::default()).unwrap();
        let k = c.selected_kernel().unwrap();
        let mut out = vec![0u8; rvf_boot::image::buffer_size(&k) as usize];
        let mut state = Box::<InflateState>::default();
        let img = extract(&k, &mut out, &mut state).unwrap();
        let (isha, csha) = (sha256(img.bytes()), sha256(k.cmdline()));
        let offset = k.segment_offset();
        let right = Policy::default()
            .pinning_kernel_sha256(digest(isha))
            .pinning_cmdline_sha256(digest(csha));
        let a = boot(&f, right).unwrap();
        assert_eq!(
            (a.kernel_sha256, a.cmdline_sha256),
            (Some(isha), Some(csha)),
            "{name}"
        );
        assert_eq!(a.signed, None::<Signed>);
        let mut wrong = isha;
        wrong[31] ^= 1;
        let be = |d: &[u8; 32]| u64::from_be_bytes(d[..8].try_into().unwrap());
        assert_eq!(
            auth(boot(&f, right.pinning_kernel_sha256(digest(wrong))).unwrap_err()),
            AuthProblem::KernelPin {
                offset,
                computed_first8: be(&isha),
                pinned_first8: be(&wrong)
            },
            "{name}"
        );
        let mut wrong = csha;
        wrong[0] ^= 1;
        assert_eq!(
            auth(boot(&f, right.pinning_cmdline_sha256(digest(wrong))).unwrap_err()),
            AuthProblem::CmdlinePin {
                length: k.cmdline().len() as u64,
                computed_first8: be(&csha),
                pinned_first8: be(&wrong)
            },
            "{name}"
        );
        // The pin is on the final line: extra arguments change it.
        let mut line = [0u8; 256];
        let n = rvf_boot::cmdline::write(&mut line, k.cmdline(), b"quiet", 2048).unwrap();
        assert!(right.check_cmdline(&line[..n]).is_err(), "{name}");
    }
}

#[test]
fn messages_name_what_failed() {
    let e = Error::Auth(AuthProblem::UnsignedTail {
        offset: 100,
        length: 64,
    });
    assert_eq!(
        e.to_string(),
        "not authenticated: signed store: 64 unsigned bytes at byte 100 follow the signed manifest (not served without the signed-prefix option)"
    );
    assert_eq!(
        Error::Auth(AuthProblem::Unsigned { root_page: None }).to_string(),
        "not authenticated: the file is unsigned (no RVM0 root page) and the policy requires a signature"
    );
}

// ---- stack high-water of the authenticated path (same method as gzip.rs) --

/// The documented stack bound of the authenticated boot path (release
/// builds; debug frames are several times larger). The hashes-only path keeps
/// its 4 KiB bound (gzip.rs); Ed25519 verification adds curve25519-dalek's
/// double-base scalar multiplication (lookup tables and NAFs on the stack),
/// SHA-512 and the 4 KiB signed message (README, "Measurements").
const STACK_BOUND_RELEASE: usize = 24 * 1024;
const STACK_BOUND_DEBUG: usize = 96 * 1024;
type Bufs = (
    Vec<u8>,
    Box<InflateState>,
    Vec<u8>,
    &'static [[u8; 32]],
    &'static [u8; 32],
);
static BUFS: std::sync::Mutex<Option<Bufs>> = std::sync::Mutex::new(None);

/// Parse under a signature policy, select (SHDG check), extract, and
/// authenticate with both pins: the stub's whole authenticated path.
#[inline(never)]
fn signed_whole_path() {
    let mut g = BUFS.lock().unwrap();
    let (file, state, out, keys, pin) = g.as_mut().unwrap();
    let policy = Policy::default()
        .requiring_signature(keys)
        .pinning_kernel_sha256(pin);
    let c = Container::parse(file, policy).unwrap();
    let k = c.selected_kernel().unwrap();
    let image = extract(&k, out, state).unwrap();
    let a = authenticate(&c, &image, k.cmdline()).unwrap();
    std::hint::black_box(a);
}

#[test]
fn stack_high_water_of_the_authenticated_path() {
    let f = signed_store();
    *BUFS.lock().unwrap() = Some((
        f,
        Box::default(),
        Vec::new(),
        keys(&[public(SEED)]),
        digest(sha256(&image())),
    ));
    let used = high_water(signed_whole_path);
    let bound = if cfg!(debug_assertions) {
        STACK_BOUND_DEBUG
    } else {
        STACK_BOUND_RELEASE
    };
    eprintln!(
        "stack high-water: signed parse + select + extract + authenticate {used} bytes (bound {bound})"
    );
    assert!(
        used <= bound,
        "the authenticated path used {used} bytes of stack, bound {bound}"
    );
}
