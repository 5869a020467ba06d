//! `rvf-writer-05 SCENARIO OUT.rvf [INPUT]`: writes one RVF test file with the
//! real rvf-runtime 0.5.0 (wire dialect). Scenarios: vectors, embed-kernel,
//! embed-kernel-binding, embed-wasm, two-kernels, signed, append-kernel
//! (`append-kernel IN OUT`: copies IN to OUT, reopens OUT, appends a kernel),
//! signed-kernel (`signed-kernel OUT IMAGE CMDLINE SEED`: `create_signed` with
//! the Ed25519 secret key `[SEED; 32]` (SEED 0..=255) around IMAGE with
//! CMDLINE; prints the kernel's segment id and the public key in hex).

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
        "signed-kernel" => {
            // signed-kernel OUT IMAGE CMDLINE SEED
            let usage = "signed-kernel OUT IMAGE CMDLINE SEED";
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
            ok(store.close(), "close");
            let pk = ed25519_dalek::SigningKey::from_bytes(&secret).verifying_key();
            let hex: String = pk.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
            println!("kernel segment_id {id}");
            println!("public key {hex}");
        }
        other => die(&format!("unknown scenario {other}")),
    }
}
