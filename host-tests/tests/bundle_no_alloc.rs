//! The verified bundle reader allocates nothing: a counting global allocator
//! sees zero allocations from parse to the last file handed out, for a
//! several-hundred-file bundle in three sorted runs (the merge path) and for
//! a crate-written WASM module. (One test per binary: the counter is global.)

use host_tests::measure::{Counting, allocations};
use rvf_boot::bundle::VerifiedBundle;
use rvf_boot::{Container, Policy};
use rvf_testkit::ruvbot::{self, Inputs, Package};

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
        let before = allocations();
        let c = Container::parse(bytes, Policy::default()).unwrap();
        let v = VerifiedBundle::from_container(&c).unwrap();
        let (mut n, mut total) = (0, 0);
        for f in v.files() {
            n += 1;
            total += f.data.len();
        }
        let after = allocations();
        assert_eq!(after - before, 0, "allocated");
        assert_eq!(n, want);
        assert!(total > 0);
    }
}
