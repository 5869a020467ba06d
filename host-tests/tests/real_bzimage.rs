//! A real bzImage through the whole host-side path: the project's own
//! non-relocatable test kernel (qemu/testkernel), wrapped by the RuvBot writer
//! (`golden/real-bzimage/testkernel.rvf`, made by `golden/regen-ruvbot.sh`),
//! parsed, verified, inflated, validated and planned exactly as the QEMU stub
//! does before it jumps.

use rvf_boot::bzimage::BzImage;
use rvf_boot::gzip::InflateState;
use rvf_boot::image::extract;
use rvf_boot::image_hash::{ImageHash, ImageHashCheck};
use rvf_boot::kernel::{KernelLayout, StoredFormat};
use rvf_boot::memory::{E820Type, MemoryRegion, PhysRange};
use rvf_boot::plan::BootPlan;
use rvf_boot::zero_page::{self, Handoff};
use rvf_boot::{Container, Policy};
use sha2::Digest;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/golden");

#[test]
fn testkernel_rvf_verifies_extracts_and_plans_at_pref_address() {
    let rvf = std::fs::read(format!("{DIR}/real-bzimage/testkernel.rvf")).unwrap();
    let raw = std::fs::read(format!("{DIR}/inputs/testkernel.bzImage")).unwrap();
    let c = Container::parse(&rvf, Policy::default()).unwrap();
    c.verify_segments().unwrap();
    assert_eq!(c.dialect().name(), "ruvbot");
    let k = c.selected_kernel().unwrap();
    assert_eq!(
        (k.segment_offset(), k.layout(), k.format()),
        (0, KernelLayout::RuvBot, StoredFormat::Gzip)
    );
    assert_eq!(k.image_size(), raw.len() as u64);
    assert_eq!(
        k.cmdline(),
        b"console=ttyS0 ruvbot.api_port=3000 ruvbot.mode=rvf quiet"
    );

    let mut out = vec![0u8; raw.len()];
    let mut state = Box::<InflateState>::default();
    let img = extract(&k, &mut out, &mut state).unwrap();
    assert_eq!(img.bytes(), &raw[..]);
    assert_eq!(
        img.image_hash(),
        ImageHashCheck::Verified(ImageHash::Sha256)
    );
    assert_eq!(img.gzip_crc32(), Some(crc32(&raw)));

    let bz = BzImage::parse(img.bytes()).unwrap();
    assert!(!bz.relocatable());
    assert_eq!(bz.pref_address(), 0x100_0000);
    let map = [
        MemoryRegion {
            base: 0,
            size: 0x9_FC00,
            kind: E820Type::Ram,
        },
        MemoryRegion {
            base: 0x10_0000,
            size: 0x0FF0_0000,
            kind: E820Type::Ram,
        },
    ];
    let plan = BootPlan::new(
        &bz,
        &map,
        &[PhysRange {
            base: 0x10_0000,
            size: 0x10_0000,
        }],
    )
    .unwrap();
    assert_eq!(
        (plan.load_address(), plan.entry_64()),
        (0x100_0000, 0x100_0200)
    );
    assert_eq!(
        plan.protected_mode(),
        &raw[(usize::from(raw[0x1F1]) + 1) * 512..]
    );

    let cmdline_at = 0x9_0000;
    let handoff = Handoff {
        cmdline: Some(PhysRange {
            base: cmdline_at,
            size: k.cmdline().len() as u64 + 1,
        }),
        initrd: None,
        memory_map: &map,
        acpi_rsdp: None,
    };
    let mut page = [0u8; 4096];
    zero_page::build(&mut page, &plan, &handoff).unwrap();
    assert_eq!(&page[0x202..0x206], b"HdrS");
    assert_eq!(page[0x210], 0xFF, "type_of_loader");
    assert_eq!(
        u32::from_le_bytes(page[0x228..0x22C].try_into().unwrap()),
        cmdline_at as u32
    );
    assert_eq!(page[0x1E8], 2, "e820 entries");
}

fn crc32(b: &[u8]) -> u32 {
    // The gzip trailer CRC, recomputed independently of the library.
    let mut c = !0u32;
    for &x in b {
        c ^= u32::from(x);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

#[test]
fn image_is_the_input_sha256() {
    let raw = std::fs::read(format!("{DIR}/inputs/testkernel.bzImage")).unwrap();
    let rvf = std::fs::read(format!("{DIR}/real-bzimage/testkernel.rvf")).unwrap();
    let c = Container::parse(&rvf, Policy::default()).unwrap();
    let k = c.selected_kernel().unwrap();
    assert_eq!(&k.image_hash()[..], sha2::Sha256::digest(&raw).as_slice());
}
