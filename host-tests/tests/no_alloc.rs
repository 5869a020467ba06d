//! The whole verify + extract path allocates nothing: a counting global
//! allocator sees zero allocations between "buffers ready" and "image
//! verified", for every golden file with a kernel (gzip'd and raw).

use host_tests::measure::{Counting, allocations};
use rvf_boot::gzip::InflateState;
use rvf_boot::image::{buffer_size, extract};
use rvf_boot::{Container, Policy};

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn verify_and_extract_allocate_nothing() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/golden");
    let files = [
        "ruvbot/small.rvf",
        "ruvbot/tiny.rvf",
        "runtime-05/embed-kernel.rvf",
        "runtime-03/embed-kernel-binding.rvf",
        "mixed/kernel-03-kernel-05.rvf",
        "runtime-05/signed.rvf",
    ];
    let mut checked = 0;
    for name in files {
        let bytes = std::fs::read(format!("{dir}/{name}")).unwrap();
        let mut out = vec![0u8; 1 << 20];
        let mut state = Box::<InflateState>::default();
        let before = allocations();
        let c = Container::parse(&bytes, Policy::default()).unwrap();
        c.verify_segments().unwrap();
        let k = c.selected_kernel().unwrap();
        assert!(buffer_size(&k) <= out.len() as u64);
        let image = extract(&k, &mut out, &mut state).unwrap();
        let len = image.bytes().len() as u64;
        let after = allocations();
        assert_eq!(after - before, 0, "{name} allocated");
        assert_eq!(len, k.image_size(), "{name}");
        checked += 1;
    }
    assert_eq!(checked, 6);
}
