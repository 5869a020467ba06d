//! The verified bundle reader allocates nothing: a counting global allocator
//! sees zero allocations from parse to the last file handed out, for a
//! several-hundred-file bundle in three sorted runs (the merge path) and for
//! a crate-written WASM module. (One test per binary: the counter is global.)

use rvf_boot::bundle::VerifiedBundle;
use rvf_boot::{Container, Policy};
use rvf_testkit::ruvbot::{self, Inputs, Package};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn verified_bundle_allocates_nothing() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/golden");
    let mut pkg = Package::golden(true);
    pkg.files.clear();
    for d in 0..10 {
        for f in 0..50 {
            pkg.files.push((
                format!("lib{d}/m{f:02}.js"),
                format!("//{d}.{f}\n").into_bytes(),
            ));
        }
    }
    pkg.files
        .push(("bin/ruvbot.js".into(), b"#!/usr/bin/env node\n".to_vec()));
    let kernel = std::fs::read(format!("{dir}/inputs/bzimage-600.bin")).unwrap();
    let many = ruvbot::write(&Inputs::new(&kernel, &pkg));
    let module = std::fs::read(format!("{dir}/runtime-05/embed-wasm.rvf")).unwrap();
    for (bytes, want) in [(&many, 502), (&module, 1)] {
        let before = ALLOCATIONS.load(Ordering::SeqCst);
        let c = Container::parse(bytes, Policy::default()).unwrap();
        let v = VerifiedBundle::from_container(&c).unwrap();
        let (mut n, mut total) = (0, 0);
        for f in v.files() {
            n += 1;
            total += f.data.len();
        }
        let after = ALLOCATIONS.load(Ordering::SeqCst);
        assert_eq!(after - before, 0, "allocated");
        assert_eq!(n, want);
        assert!(total > 0);
    }
}
