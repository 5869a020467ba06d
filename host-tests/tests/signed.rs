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

/// Bounded work on a signed store: the manifest is hashed once (its content
/// hash is SHAKE-256-128, the same digest the root page commits to, so the
/// page is checked against the verified header instead of hashing again), and
/// `verify_segments` hashes every other payload once.
#[test]
fn the_manifest_of_a_signed_store_is_hashed_once() {
    let f = signed();
    let mut w = rvf_boot::segment::Work::default();
    let c = Container::parse_counting(&f, Policy::default(), &mut w).unwrap();
    let (m, _) = c.manifest_segment();
    assert_eq!(m.header.checksum_algo, 2);
    assert_eq!(w.hashed, m.payload_length());
    c.verify_segments().unwrap();
    let payloads: u64 = c.segments().map(|s| s.payload_length()).sum();
    assert_eq!(c.work().hashed, payloads);
    // A page committing to other bytes is still refused.
    let mut g = f.clone();
    let page_at = c.root_page_offset().unwrap() as usize;
    g[page_at + 0xFD0] ^= 1;
    let crc = CRC32C.checksum(&g[page_at..page_at + 0xFFC]);
    g[page_at + 0xFFC..page_at + 0x1000].copy_from_slice(&crc.to_le_bytes());
    assert_eq!(
        Container::parse(&g, Policy::default()).unwrap_err(),
        Error::RootPageField {
            offset: page_at as u64,
            field: rvf_boot::root_page::PageField::ContentHashFirst8,
            value: u64::from_le_bytes(g[page_at + 0xFD0..page_at + 0xFD8].try_into().unwrap()),
        }
    );
}
