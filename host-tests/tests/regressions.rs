//! Regression tests for bugs the fuzzers (fuzz/) and property tests found.
//! Each test names the target and the minimized input, and asserts the exact
//! behaviour the library documents.

use rvf_boot::bzimage::BzImage;
use rvf_boot::kernel::{ImageSizeLimit, KERNEL_MAGIC};
use rvf_boot::memory::{E820Type, MemoryRegion};
use rvf_boot::plan::BootPlan;
use rvf_boot::zero_page::{self, Handoff, ZERO_PAGE_SIZE};
use rvf_boot::{Container, Error, Policy};
use std::io::Write as _;

/// A valid, minimal bzImage (protocol 2.15, non-relocatable, 16 MiB
/// pref_address, 1 KiB setup, 2 KiB protected-mode part): the test kit's.
use rvf_testkit::build::{bzimage, file_with};
use rvf_testkit::le::u32_at;

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

/// Issue 9 §2: a 349-byte file whose kernel header declares a 6 GiB image
/// made `inspect` and `extract` reserve and zero 6 GiB before inflating. A
/// 21-byte gzip member can inflate to at most (21 − 18) × 1032 = 3096 bytes,
/// so the header is refused when the kernel is selected, before anyone sizes
/// a buffer from it, naming the limit.
#[test]
fn image_size_beyond_what_the_stored_member_can_produce_is_refused_at_selection() {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(b"K").unwrap();
    let stored = e.finish().unwrap();
    assert_eq!(stored.len(), 21);
    let cmdline = vec![b'x'; 21];
    let six_gib = 6u64 << 30;
    // Crate-layout kernel header, compression 1 (gzip), image hash set.
    let mut k = vec![0u8; 128];
    k[0..4].copy_from_slice(&KERNEL_MAGIC.to_le_bytes());
    k[4] = 1;
    k[0x18..0x20].copy_from_slice(&six_gib.to_le_bytes());
    k[0x20..0x28].copy_from_slice(&(stored.len() as u64).to_le_bytes());
    k[0x28] = 1;
    k[0x30..0x50].fill(0x5A);
    k[0x78..0x7C].copy_from_slice(&(cmdline.len() as u32).to_le_bytes());
    k.extend_from_slice(&stored);
    k.extend_from_slice(&cmdline);
    // KERNEL_SEG at 0, then a manifest listing it.
    let file = file_with(&k, None);
    assert_eq!(file.len(), 349);

    let c = Container::parse(&file, Policy::default()).expect("the container itself is valid");
    let want = Error::ImageSize {
        offset: 0,
        image_size: six_gib,
        limit: ImageSizeLimit::Deflate { stored_size: 21 },
    };
    assert_eq!(c.selected_kernel().unwrap_err(), want);
    assert_eq!(c.kernel_at(0).unwrap_err(), want);
    assert_eq!(
        want.to_string(),
        "KERNEL_SEG at byte 0: image_size 6442450944 exceeds the 3096 bytes a 21-byte \
         gzip member can inflate to (deflate expands at most 1032:1)"
    );
    assert_eq!(want.class(), rvf_boot::error::ErrorClass::KernelSegment);
}
