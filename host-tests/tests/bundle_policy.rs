//! The runtime bundle under the policy (issue 21 §2): in a signed store the
//! WASM_SEG and the META/PROFILE/WITNESS payloads are segments the signed
//! manifest commits to, checked by `VerifiedBundle::from_container` before
//! it hands out a byte; a bundle pin (SHA-256 of the bundle's bytes) on any
//! dialect. Signed stores are written at test time by the real rvf-runtime
//! 0.5.0 (`rvf-writer-05 signed-app`). Every refusal asserts its exact error.

use host_tests::forge::{self, PAGE};
use rvf_boot::bundle::{BytecodeHash, METADATA_TYPES, VerifiedBundle, WasmBody};
use rvf_boot::checksum::shake256;
use rvf_boot::container::DirectoryField;
use rvf_boot::policy::AuthProblem;
use rvf_boot::root_page::SignatureProblem;
use rvf_boot::segment::seg_type;
use rvf_boot::{Container, Error, Policy};
use sha2::Digest;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const SEED: u8 = 9;
/// Where `signed-app` puts the WASM_SEG (after manifest #1, the 40 000-byte
/// kernel and manifest #3) and its segment id.
const WASM_AT: usize = 40_768;
const WASM_ID: u64 = 4;
/// The 8-byte empty WASM module the writers embed.
const MODULE: [u8; 8] = [0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00];

fn public(seed: u8) -> [u8; 32] {
    ed25519_dalek::SigningKey::from_bytes(&[seed; 32])
        .verifying_key()
        .to_bytes()
}

fn signed(seed: u8) -> Policy {
    Policy::default().requiring_signature(Box::leak(Box::new([public(seed)])))
}

fn leak(d: [u8; 32]) -> &'static [u8; 32] {
    Box::leak(Box::new(d))
}

fn sha256(b: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(b).into()
}

/// A `create_signed` store with a kernel and the WASM module, signed with
/// `[SEED; 32]`, written once per test binary by the real rvf-runtime 0.5.0.
fn signed_app() -> Vec<u8> {
    static FILE: OnceLock<Vec<u8>> = OnceLock::new();
    FILE.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let target = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(t) => PathBuf::from(t).join("golden-writers"),
            None => root.join("target").join("golden-writers"),
        };
        let status = Command::new(env!("CARGO"))
            .current_dir(root)
            .args(["build", "-q", "-p", "rvf-writer-05", "--target-dir"])
            .arg(&target)
            .status()
            .expect("cargo build");
        assert!(status.success(), "building rvf-writer-05 failed");
        let dir = target.join(format!("bundle-policy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let img = dir.join("image");
        let image: Vec<u8> = (0..40_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        std::fs::write(&img, image).unwrap();
        let out = dir.join("signed-app.rvf");
        let run = Command::new(target.join("debug/rvf-writer-05"))
            .arg("signed-app")
            .arg(&out)
            .arg(&img)
            .arg("console=ttyS0")
            .arg(SEED.to_string())
            .output()
            .expect("run the writer");
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let stdout = String::from_utf8(run.stdout).unwrap();
        assert!(
            stdout.contains(&format!("wasm segment_id {WASM_ID}")),
            "{stdout}"
        );
        let bytes = std::fs::read(&out).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        bytes
    })
    .clone()
}

fn small() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/golden/ruvbot/small.rvf"
    ))
    .unwrap()
}

/// The files a bundle hands out: (path, data).
type Files = Vec<(Vec<u8>, Vec<u8>)>;

fn bundle(f: &[u8], policy: Policy) -> Result<Files, Error> {
    let c = Container::parse(f, policy)?;
    let v = VerifiedBundle::from_container(&c)?;
    Ok(v.files()
        .map(|x| (x.path.to_vec(), x.data.to_vec()))
        .collect())
}

/// Flips a byte of the module (not its magic) and re-does its rvf-runtime
/// bytecode hash: the payload is consistent, only its hash in the header
/// and in the SHDG table still name the original.
fn forge_module(f: &mut [u8]) {
    use rvf_boot::image_hash::{ImageHash, digest};
    let body = WASM_AT + 64 + 64;
    f[body + 6] ^= 0x01;
    let h = digest(ImageHash::RvfRuntimeChecksum, &f[body..body + 8]);
    f[WASM_AT + 64 + 0x18..WASM_AT + 64 + 0x38].copy_from_slice(&h);
}

/// Re-does the WASM_SEG header's content hash (SHAKE-256-128).
fn rehash_header(f: &mut [u8]) -> [u8; 16] {
    let h = shake256(&f[WASM_AT + 64..WASM_AT + 64 + 72]);
    f[WASM_AT + 0x28..WASM_AT + 0x38].copy_from_slice(&h);
    h
}

#[test]
fn the_signed_runtime_is_handed_out_under_its_key_only() {
    let f = signed_app();
    let want = vec![(b"module.wasm".to_vec(), MODULE.to_vec())];
    assert_eq!(bundle(&f, signed(SEED)), Ok(want.clone()));
    assert_eq!(bundle(&f, Policy::default()), Ok(want));
    let c = Container::parse(&f, signed(SEED)).unwrap();
    let v = VerifiedBundle::from_container(&c).unwrap();
    assert_eq!(v.segment_offset(), WASM_AT as u64);
    assert_eq!(v.bytecode_hash(), BytecodeHash::RvfRuntime);
    assert_eq!(v.sha256(), sha256(&MODULE));
    assert_eq!(v.pinned(), None);
    for ty in METADATA_TYPES {
        assert_eq!(v.metadata(ty), None);
    }
    assert_eq!(c.signed().unwrap().epoch, 2);
    // A wrong key: no container, so no bundle.
    let root_page = (f.len() - PAGE) as u64;
    assert_eq!(
        bundle(&f, signed(SEED + 1)),
        Err(Error::Auth(AuthProblem::Signature {
            root_page,
            problem: SignatureProblem::UnknownSigner
        }))
    );
    // An unsigned file under a signature policy.
    assert_eq!(
        bundle(&small(), signed(SEED)),
        Err(Error::Auth(AuthProblem::Unsigned { root_page: None }))
    );
}

#[test]
fn a_changed_runtime_is_refused_at_every_depth_of_forgery() {
    let f = signed_app();
    // 1. A module byte and its bytecode hash: the content hash refuses it
    //    with or without a signature policy.
    let mut g = f.clone();
    forge_module(&mut g);
    assert_eq!(
        bundle(&g, signed(SEED)),
        Err(Error::Auth(AuthProblem::SegmentHash {
            offset: WASM_AT as u64,
            segment_id: WASM_ID
        }))
    );
    assert!(matches!(
        bundle(&g, Policy::default()),
        Err(Error::ContentHashMismatch { offset, .. }) if offset == WASM_AT as u64
    ));
    // 2. Re-hashed (the header's content hash too): the manifest's SHDG
    //    table still names the original, with or without a signature policy.
    let h = rehash_header(&mut g);
    let e = bundle(&g, Policy::default()).unwrap_err();
    assert!(
        matches!(e, Error::DirectoryMismatch { entry: 3, offset, field: DirectoryField::ShdgContentHash, header, .. }
            if offset == WASM_AT as u64 && header == u64::from_le_bytes(h[..8].try_into().unwrap())),
        "{e:?}"
    );
    assert_eq!(bundle(&g, signed(SEED)), Err(e));
    // 3. The SHDG entry, the manifest's hash, the page's commitment and CRC
    //    re-done too: a hashes-only policy cannot tell, only the signature can.
    forge::rewrite_shdg(&mut g, WASM_ID, &h);
    forge::rehash_manifest_and_page(&mut g);
    let forged = bundle(&g, Policy::default()).unwrap();
    assert_eq!(forged[0].1[6], 0x01, "the forgery passes the hashes");
    assert_eq!(
        bundle(&g, signed(SEED)),
        Err(Error::Auth(AuthProblem::Signature {
            root_page: (g.len() - PAGE) as u64,
            problem: SignatureProblem::DoesNotVerify
        }))
    );
}

#[test]
fn a_bundle_pin_holds_for_either_dialect() {
    // RuvBot: the pin is what the WASM header's bytecode_hash carries.
    let f = small();
    let c = Container::parse(&f, Policy::default()).unwrap();
    let v = VerifiedBundle::from_container(&c).unwrap();
    let carried = *v.wasm().bytecode_hash;
    let WasmBody::Bundle(_) = v.wasm().body else {
        panic!("a RuvBot bundle")
    };
    assert_eq!(v.sha256(), carried);
    let meta = c.listed(seg_type::META).next().unwrap().unwrap().payload;
    assert_eq!(v.metadata(seg_type::META), Some(meta));
    assert_eq!(v.metadata(seg_type::KERNEL), None);
    let pinned = Policy::default().pinning_bundle_sha256(leak(carried));
    let c = Container::parse(&f, pinned).unwrap();
    assert_eq!(
        VerifiedBundle::from_container(&c).unwrap().pinned(),
        Some(carried)
    );
    let mut wrong = carried;
    wrong[0] ^= 0x80;
    let c = Container::parse(&f, Policy::default().pinning_bundle_sha256(leak(wrong))).unwrap();
    let first8 = |d: [u8; 32]| u64::from_be_bytes(d[..8].try_into().unwrap());
    let e = VerifiedBundle::from_container(&c).unwrap_err();
    assert_eq!(
        e,
        Error::Auth(AuthProblem::BundlePin {
            offset: v.segment_offset(),
            computed_first8: first8(carried),
            pinned_first8: first8(wrong),
        })
    );
    assert!(
        e.to_string()
            .starts_with("not authenticated: runtime bundle (WASM_SEG at byte "),
        "{e}"
    );
    // A WASM module in a signed store: the module's SHA-256, with the key.
    let f = signed_app();
    let both = signed(SEED).pinning_bundle_sha256(leak(sha256(&MODULE)));
    let c = Container::parse(&f, both).unwrap();
    assert_eq!(
        VerifiedBundle::from_container(&c).unwrap().pinned(),
        Some(sha256(&MODULE))
    );
    let c = Container::parse(&f, signed(SEED).pinning_bundle_sha256(leak(carried))).unwrap();
    assert!(matches!(
        VerifiedBundle::from_container(&c),
        Err(Error::Auth(AuthProblem::BundlePin { offset, .. })) if offset == WASM_AT as u64
    ));
}
