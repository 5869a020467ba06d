//! The scenarios both rvf-runtime versions write with the same source code.
//! Included by each writer crate as a module, so `rvf_runtime` and
//! `rvf_types` resolve to that crate's own pinned versions (they cannot share
//! a binary: both export the same `#[no_mangle]` symbols).

use crate::common::*;
use rvf_runtime::{RvfOptions, RvfStore};
use rvf_types::KernelBinding;
use std::path::Path;

pub fn opts() -> RvfOptions {
    RvfOptions {
        dimension: DIM,
        ..RvfOptions::default()
    }
}

pub fn ok<T, E: std::fmt::Debug>(r: Result<T, E>, what: &str) -> T {
    r.unwrap_or_else(|e| die(&format!("{what}: {e:?}")))
}

pub fn create(out: &Path) -> RvfStore {
    fresh(out);
    ok(RvfStore::create(out, opts()), "create")
}

pub fn embed(store: &mut RvfStore, image: &[u8], cmdline: &str) -> u64 {
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

/// Writes `scenario` to `out`; `false` when the scenario is not a common one.
pub fn run(scenario: &str, out: &str, input: Option<&String>) -> bool {
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
        _ => return false,
    }
    true
}
