//! Authenticated boot, first step: the RVM0 root page of a store written by
//! rvf-runtime 0.5.0 `create_signed` verifies against the writer's key.

use rvf_boot::root_page::{CRC32C, SigAlgo, SignatureProblem};
use rvf_boot::{Container, Error, Policy};

/// The public key of `rvf-writer-05 signed` (Ed25519 seed `[7u8; 32]`),
/// shared with the fuzz invariants.
fn key() -> [u8; 32] {
    host_tests::invariants::SIGNED_PUBKEY
}

fn signed() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/golden/runtime-05/signed.rvf"
    ))
    .unwrap()
}

#[test]
fn the_writers_key_verifies_the_page() {
    let f = signed();
    let c = Container::parse(&f, Policy::default()).unwrap();
    let page = c.root_page().unwrap();
    assert_eq!(page.offset(), 4864);
    assert_eq!(page.sig_algo(), SigAlgo::Ed25519);
    assert_eq!(page.manifest_offset(), c.manifest().offset());
    let other = [1u8; 32];
    assert_eq!(page.verify_signature(&[other, key()]), Ok(1));
}

#[test]
fn an_untrusted_key_or_a_changed_page_is_refused() {
    let f = signed();
    let c = Container::parse(&f, Policy::default()).unwrap();
    let page = c.root_page().unwrap();
    assert_eq!(
        page.verify_signature(&[[1u8; 32]]),
        Err(Error::RootPageSignature {
            offset: 4864,
            problem: SignatureProblem::UnknownSigner
        })
    );
    // Change a signed byte (total_vectors) and fix the CRC: the signature no longer verifies.
    let mut g = f.clone();
    let at = 4864 + 0x18;
    g[at] ^= 1;
    let crc = CRC32C.checksum(&g[4864..4864 + 0xFFC]);
    g[4864 + 0xFFC..].copy_from_slice(&crc.to_le_bytes());
    let c = Container::parse(&g, Policy::default()).unwrap();
    assert_eq!(
        c.root_page().unwrap().verify_signature(&[key()]),
        Err(Error::RootPageSignature {
            offset: 4864,
            problem: SignatureProblem::DoesNotVerify
        })
    );
}
