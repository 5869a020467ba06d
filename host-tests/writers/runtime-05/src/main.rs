//! `rvf-writer-05 SCENARIO OUT.rvf [INPUT]`: writes one RVF test file with the
//! real rvf-runtime 0.5.0 (wire dialect). Scenarios: vectors, embed-kernel,
//! embed-kernel-binding, embed-wasm, two-kernels, signed, append-kernel
//! (`append-kernel IN OUT`: copies IN to OUT, reopens OUT, appends a kernel).

#[path = "../../common.rs"]
mod common;

use common::*;
use rvf_runtime::{RvfOptions, RvfStore};
use rvf_types::KernelBinding;
use std::path::Path;

/// Fixed Ed25519 secret key seed of the `signed` scenario.
const SIGNING_SEED: [u8; 32] = [7u8; 32];

fn opts() -> RvfOptions {
    RvfOptions {
        dimension: DIM,
        ..RvfOptions::default()
    }
}

fn ok<T, E: std::fmt::Debug>(r: Result<T, E>, what: &str) -> T {
    r.unwrap_or_else(|e| die(&format!("{what}: {e:?}")))
}

fn create(out: &Path) -> RvfStore {
    fresh(out);
    ok(RvfStore::create(out, opts()), "create")
}

fn embed(store: &mut RvfStore, image: &[u8], cmdline: &str) -> u64 {
    ok(
        store.embed_kernel(
            ARCH_X86_64,
            KERNEL_TYPE_MICROLINUX,
            KERNEL_FLAGS,
            image,
            API_PORT,
            Some(cmdline),
        ),
        "embed_kernel",
    )
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (scenario, out) = match (args.first(), args.get(1)) {
        (Some(s), Some(o)) => (s.as_str(), o.clone()),
        _ => die("usage: rvf-writer-05 SCENARIO OUT.rvf [INPUT]  (append-kernel IN OUT [IMAGE])"),
    };
    let input = args.get(2);
    match scenario {
        "vectors" => {
            let mut store = create(Path::new(&out));
            let vs = vectors();
            let refs: Vec<&[f32]> = vs.iter().map(|(_, v)| &v[..]).collect();
            let ids: Vec<u64> = vs.iter().map(|(id, _)| *id).collect();
            ok(store.ingest_batch(&refs, &ids, None), "ingest_batch");
            ok(store.close(), "close");
        }
        "embed-kernel" => {
            let mut store = create(Path::new(&out));
            let id = embed(&mut store, &image_from(input), CMDLINE);
            println!("kernel segment_id {id}");
            ok(store.close(), "close");
        }
        "embed-kernel-binding" => {
            let mut store = create(Path::new(&out));
            let binding = KernelBinding {
                manifest_root_hash: [0x11; 32],
                policy_hash: [0x22; 32],
                binding_version: 1,
                min_runtime_version: 0,
                _pad0: 0,
                allowed_segment_mask: 0,
                _reserved: [0; 48],
            };
            let id = ok(
                store.embed_kernel_with_binding(
                    ARCH_X86_64,
                    KERNEL_TYPE_MICROLINUX,
                    KERNEL_FLAGS,
                    &image_from(input),
                    API_PORT,
                    Some(CMDLINE),
                    &binding,
                ),
                "embed_kernel_with_binding",
            );
            println!("kernel segment_id {id}");
            ok(store.close(), "close");
        }
        "embed-wasm" => {
            let mut store = create(Path::new(&out));
            let id = ok(
                store.embed_wasm(0, 0, 0, WASM_MODULE, 0, 0, 0),
                "embed_wasm",
            );
            println!("wasm segment_id {id}");
            ok(store.close(), "close");
        }
        "two-kernels" => {
            let mut store = create(Path::new(&out));
            let a = embed(&mut store, &image_from(input), CMDLINE);
            let b = embed(&mut store, &synthetic_image(2048, SECOND_SEED), CMDLINE2);
            println!("kernel segment_ids {a} {b}");
            ok(store.close(), "close");
        }
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
        other => die(&format!("unknown scenario {other}")),
    }
}
