//! `rvf-writer-05 SCENARIO OUT.rvf [INPUT]`: writes one RVF test file with the
//! real rvf-runtime 0.5.0 (wire dialect). Scenarios: vectors, embed-kernel,
//! embed-kernel-binding, embed-wasm, two-kernels, signed, append-kernel
//! (`append-kernel IN OUT`: copies IN to OUT, reopens OUT, appends a kernel),
//! signed-kernel (`signed-kernel OUT IMAGE CMDLINE SEED`: `create_signed` with
//! the Ed25519 secret key `[SEED; 32]` (SEED 0..=255) around IMAGE with
//! CMDLINE; prints the kernel's segment id and the public key in hex),
//! signed-app (`signed-app OUT IMAGE CMDLINE SEED`: signed-kernel, then the
//! 8-byte empty WASM module embedded before the store is closed: the signed
//! manifest commits to both; prints both segment ids and the public key),
//! tamper-signed (`tamper-signed IN OUT`: one byte of IN's kernel image
//! flipped with the image hash, content hash, SHDG entry, manifest hash, page
//! commitment and page CRC all re-done, the signature left as it was: only
//! the signature can tell), tamper-signed-wasm (`tamper-signed-wasm IN OUT`:
//! the same for one byte of the WASM module's body and its rvf-runtime
//! bytecode hash).

#[path = "../../common.rs"]
mod common;
#[path = "../../scenarios.rs"]
mod scenarios;

use common::*;
use rvf_runtime::RvfStore;
use scenarios::{embed, ok, opts};
use std::path::Path;

/// Fixed Ed25519 secret key seed of the `signed` scenario.
const SIGNING_SEED: [u8; 32] = [7u8; 32];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (scenario, out) = match (args.first(), args.get(1)) {
        (Some(s), Some(o)) => (s.as_str(), o.clone()),
        _ => die("usage: rvf-writer-05 SCENARIO OUT.rvf [INPUT]  (append-kernel IN OUT [IMAGE])"),
    };
    let input = args.get(2);
    if scenarios::run(scenario, &out, input) {
        return;
    }
    match scenario {
        "signed" => {
            let out = Path::new(&out);
            fresh(out);
            let mut store = ok(
                RvfStore::create_signed(out, opts(), &SIGNING_SEED),
                "create_signed",
            );
            let id = embed(&mut store, &image_from(input), CMDLINE);
            ok(store.close(), "close");
            let pk = ed25519_dalek::SigningKey::from_bytes(&SIGNING_SEED).verifying_key();
            let hex: String = pk.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
            println!("kernel segment_id {id}");
            println!("public key {hex}");
        }
        "append-kernel" => {
            // append-kernel IN OUT [IMAGE]
            let (src, dst) = (Path::new(&out), args.get(2));
            let dst = Path::new(dst.unwrap_or_else(|| die("append-kernel IN OUT [IMAGE]")));
            fresh(dst);
            ok(std::fs::copy(src, dst), "copy");
            let mut store = ok(RvfStore::open(dst), "open");
            let image = match args.get(3) {
                Some(p) => ok(std::fs::read(p), "read image"),
                None => synthetic_image(2048, SECOND_SEED),
            };
            let id = embed(&mut store, &image, CMDLINE2);
            println!("kernel segment_id {id}");
            ok(store.close(), "close");
        }
        "signed-kernel" | "signed-app" => {
            // signed-kernel|signed-app OUT IMAGE CMDLINE SEED
            let usage = "signed-kernel|signed-app OUT IMAGE CMDLINE SEED";
            let (image, cmdline, seed) = match (args.get(2), args.get(3), args.get(4)) {
                (Some(i), Some(c), Some(s)) => (i, c, s),
                _ => die(usage),
            };
            let seed: u8 = seed.parse().unwrap_or_else(|_| die(usage));
            let secret = [seed; 32];
            let out = Path::new(&out);
            fresh(out);
            let mut store = ok(
                RvfStore::create_signed(out, opts(), &secret),
                "create_signed",
            );
            let image = ok(std::fs::read(image), "read image");
            let id = embed(&mut store, &image, cmdline);
            if scenario == "signed-app" {
                let w = ok(
                    store.embed_wasm(0, 0, 0, WASM_MODULE, 0, 0, 0),
                    "embed_wasm",
                );
                println!("wasm segment_id {w}");
            }
            ok(store.close(), "close");
            let pk = ed25519_dalek::SigningKey::from_bytes(&secret).verifying_key();
            let hex: String = pk.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
            println!("kernel segment_id {id}");
            println!("public key {hex}");
        }
        "tamper-signed" | "tamper-signed-wasm" => {
            let dst = args
                .get(2)
                .unwrap_or_else(|| die("tamper-signed[-wasm] IN OUT"));
            let mut f = ok(std::fs::read(&out), "read IN");
            if scenario == "tamper-signed" {
                tamper_signed(&mut f);
            } else {
                tamper_signed_wasm(&mut f);
            }
            ok(std::fs::write(dst, &f), "write OUT");
        }
        other => die(&format!("unknown scenario {other}")),
    }
}

/// See the module documentation (`tamper-signed`).
fn tamper_signed(f: &mut [u8]) {
    use rvf_boot::image_hash::{digest, ImageHash};
    use rvf_boot::{Container, Policy};
    let at = |inner: &[u8], whole: &[u8]| inner.as_ptr() as usize - whole.as_ptr() as usize;
    let (kpay, image, img_hash_at, manifest, mpay, page) = {
        let c = ok(Container::parse(f, Policy::default()), "parse IN");
        let k = ok(c.selected_kernel(), "kernel");
        let stored = k.stored_unverified();
        let ih = k.image_hash();
        let m = c.manifest_segment().0;
        (
            at(k.segment().payload, f),
            (at(stored, f), stored.len()),
            at(ih, f),
            m.offset as usize,
            (at(m.payload, f), m.payload.len()),
            c.root_page_offset()
                .unwrap_or_else(|| die("IN is not signed")) as usize,
        )
    };
    // The image byte, then the kernel header's image hash (rvf-runtime's).
    f[image.0 + image.1 / 2] ^= 0x01;
    let ih = digest(
        ImageHash::RvfRuntimeChecksum,
        &f[image.0..image.0 + image.1],
    );
    f[img_hash_at..img_hash_at + 32].copy_from_slice(&ih);
    rehash_signed(f, kpay, manifest, mpay, page);
}

/// `tamper-signed-wasm`: one byte of the WASM module's body (after its
/// magic) and the module's bytecode hash, then as `tamper-signed`.
fn tamper_signed_wasm(f: &mut [u8]) {
    use rvf_boot::image_hash::{digest, ImageHash};
    use rvf_boot::segment::seg_type;
    use rvf_boot::{Container, Policy};
    let at = |inner: &[u8], whole: &[u8]| inner.as_ptr() as usize - whole.as_ptr() as usize;
    let (wpay, wlen, manifest, mpay, page) = {
        let c = ok(Container::parse(f, Policy::default()), "parse IN");
        let w = ok(
            c.listed(seg_type::WASM)
                .next()
                .unwrap_or_else(|| die("no WASM_SEG")),
            "wasm",
        );
        let m = c.manifest_segment().0;
        (
            at(w.payload, f),
            w.payload.len(),
            m.offset as usize,
            (at(m.payload, f), m.payload.len()),
            c.root_page_offset()
                .unwrap_or_else(|| die("IN is not signed")) as usize,
        )
    };
    // Body byte 6 (a module keeps its magic), then the header's bytecode
    // hash (rvf-types layout: 0x18).
    f[wpay + 64 + 6] ^= 0x01;
    let h = digest(ImageHash::RvfRuntimeChecksum, &f[wpay + 64..wpay + wlen]);
    f[wpay + 0x18..wpay + 0x38].copy_from_slice(&h);
    rehash_signed(f, wpay, manifest, mpay, page);
}

/// The segment whose payload is at `pay`: its content hash, its SHDG entry,
/// the manifest's content hash, the page's commitment and CRC, all re-done;
/// the signature left as it was.
fn rehash_signed(f: &mut [u8], pay: usize, manifest: usize, mpay: (usize, usize), page: usize) {
    use rvf_boot::checksum::shake256;
    // The segment's content hash.
    let plen = u64::from_le_bytes(f[pay - 64 + 0x10..pay - 64 + 0x18].try_into().unwrap());
    let h = shake256(&f[pay..pay + plen as usize]);
    f[pay - 64 + 0x28..pay - 64 + 0x38].copy_from_slice(&h);
    // Its SHDG entry (by segment id).
    let id = u64::from_le_bytes(f[pay - 64 + 0x08..pay - 64 + 0x10].try_into().unwrap());
    let payload = &f[mpay.0..mpay.0 + mpay.1];
    let tag = payload
        .windows(4)
        .rposition(|w| w == b"SHDG")
        .unwrap_or_else(|| die("no SHDG"));
    let count = u32::from_le_bytes(payload[tag + 4..tag + 8].try_into().unwrap()) as usize;
    let entry = (0..count)
        .map(|i| mpay.0 + tag + 8 + 24 * i)
        .find(|&e| u64::from_le_bytes(f[e..e + 8].try_into().unwrap()) == id)
        .unwrap_or_else(|| die("no SHDG entry"));
    f[entry + 8..entry + 24].copy_from_slice(&h);
    // The manifest's content hash and the page's commitment and CRC.
    let mh = shake256(&f[mpay.0..mpay.0 + mpay.1]);
    f[manifest + 0x28..manifest + 0x38].copy_from_slice(&mh);
    f[page + 0xFD0..page + 0xFE0].copy_from_slice(&mh);
    let crc = rvf_boot::root_page::CRC32C.checksum(&f[page..page + 0xFFC]);
    f[page + 0xFFC..page + 0x1000].copy_from_slice(&crc.to_le_bytes());
}
