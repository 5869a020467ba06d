//! Regression tests for bugs the fuzzers (fuzz/) and property tests found.
//! Each test names the target and the minimized input, and asserts the exact
//! behaviour the library documents.

use rvf_boot::bzimage::{BootPlan, BzImage, E820Type, MemoryRegion};
use rvf_boot::zero_page::{self, Handoff, ZERO_PAGE_SIZE};

/// A valid, minimal bzImage (protocol 2.15, non-relocatable, 16 MiB
/// pref_address, 1 KiB setup, 2 KiB protected-mode part): the test kit's.
use rvf_testkit::build::bzimage;

fn u32_at(p: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(p[o..o + 4].try_into().unwrap())
}

/// Found by `fuzz/fuzz_targets/bzimage.rs` in its first minute (crash
/// `crash-314ca63a…`, 1220 bytes; minimized by hand to the three header
/// fields below): a bzImage whose setup header carries non-zero
/// `ramdisk_image`/`ramdisk_size` (0x218/0x21C) or `cmd_line_ptr` (0x228),
/// booted without an initrd or without a command line.
///
/// `zero_page::build` copies the image's setup header into the zero page and
/// overwrites those fields only when the handoff supplies an initrd/cmdline,
/// so the image's stale values reached the kernel: it would take arbitrary
/// memory for an initrd and read its command line from an address the image
/// chose. The documented behaviour (`Handoff::cmdline`: "`None` leaves
/// `cmd_line_ptr` 0"; `Handoff::initrd`: "`None` (or size 0) leaves the
/// ramdisk fields 0") is that the loader owns these fields and zeroes them.
#[test]
fn zero_page_never_passes_the_images_initrd_or_cmdline_pointers() {
    let mut img = bzimage();
    img[0x218..0x21C].copy_from_slice(&0x0BAD_0000u32.to_le_bytes()); // ramdisk_image
    img[0x21C..0x220].copy_from_slice(&0x0010_0000u32.to_le_bytes()); // ramdisk_size
    img[0x228..0x22C].copy_from_slice(&0x0BAD_1000u32.to_le_bytes()); // cmd_line_ptr
    let bz = BzImage::parse(&img).expect("the header fields are the loader's, not checked");
    let map = [MemoryRegion {
        base: 0x10_0000,
        size: 0x1000_0000,
        kind: E820Type::Ram,
    }];
    let plan = BootPlan::new(&bz, &map, &[]).unwrap();
    let mut page = [0xEEu8; ZERO_PAGE_SIZE];
    let handoff = Handoff {
        cmdline: None,
        initrd: None,
        memory_map: &map,
        acpi_rsdp: None,
    };
    zero_page::build(&mut page, &plan, &handoff).unwrap();
    assert_eq!(
        u32_at(&page, 0x218),
        0,
        "ramdisk_image must be 0 without an initrd"
    );
    assert_eq!(
        u32_at(&page, 0x21C),
        0,
        "ramdisk_size must be 0 without an initrd"
    );
    assert_eq!(
        u32_at(&page, 0x228),
        0,
        "cmd_line_ptr must be 0 without a cmdline"
    );
    assert_eq!(u32_at(&page, 0x0C0), 0);
    assert_eq!(u32_at(&page, 0x0C4), 0);
    assert_eq!(u32_at(&page, 0x0C8), 0);
}
