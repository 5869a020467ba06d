//! The QEMU test kernel (`qemu/testkernel/`) against the library's bzImage
//! checks, boot plan and zero page: it must validate, report non-relocatable,
//! and be planned at its `pref_address` 0x1000000 with entry 0x1000200.

use rvf_boot::Error;
use rvf_boot::bzimage::BzImage;
use rvf_boot::cmdline::{self, CmdlineProblem};
use rvf_boot::memory::{E820Type, MemoryRegion, PhysRange};
use rvf_boot::plan::{BootItem, BootPlan};
use rvf_boot::zero_page::{self, AddressProblem, Handoff};
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

const MIB: u64 = 0x10_0000;

/// Build the test kernel with its build script (once per test binary) and read it.
fn testkernel() -> &'static [u8] {
    static IMAGE: OnceLock<Vec<u8>> = OnceLock::new();
    IMAGE.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../qemu/testkernel");
        let status = Command::new("sh")
            .arg(dir.join("build.sh"))
            .status()
            .expect("run qemu/testkernel/build.sh (needs gcc, ld, objcopy)");
        assert!(status.success(), "qemu/testkernel/build.sh failed");
        std::fs::read(dir.join("out/testkernel.bzImage")).expect("read testkernel.bzImage")
    })
}

/// QEMU/SeaBIOS-like e820 map for `-m 256` (the fuzz invariants' map, below 4 GiB).
fn seabios_map() -> &'static [MemoryRegion] {
    &host_tests::invariants::MEMORY_MAP[..5]
}

#[test]
fn testkernel_validates_as_non_relocatable_2_15() {
    let img = testkernel();
    let bz = BzImage::parse(img).expect("test kernel passes every bzImage check");
    assert_eq!(bz.version(), 0x020F);
    assert!(!bz.relocatable());
    assert_eq!(bz.pref_address(), 0x100_0000);
    assert_eq!(bz.kernel_alignment(), 0x20_0000);
    assert_eq!(bz.cmdline_size(), 2047);
    assert_eq!(bz.header_end(), 0x26C);
    assert_eq!(bz.setup_size(), 1024);
    assert_eq!(bz.protected_mode(), &img[1024..]);
    assert!(!bz.above_4g());
    assert_eq!(bz.initrd_addr_max(), 0x7FFF_FFFF);
    // init_size covers the file part and the .bss (stack), page-rounded.
    assert!(bz.init_size() >= img.len() as u64 - 1024);
    assert_eq!(bz.init_size() % 4096, 0);
    // syssize is the protected-mode size in 16-byte paragraphs.
    assert_eq!(
        u64::from(bz.header().syssize.get()) * 16,
        img.len() as u64 - 1024
    );
    // The 64-bit entry at pm offset 0x200 starts with `mov %cs, %r8d` (41 8C C8)... or
    // at least is not the zero fill.
    assert_ne!(&bz.protected_mode()[0x200..0x204], &[0, 0, 0, 0]);
}

#[test]
fn testkernel_plan_is_pref_address() {
    let img = testkernel();
    let bz = BzImage::parse(img).unwrap();
    let map = seabios_map();
    // The stub at 1 MiB and an initrd near the top of RAM do not touch 16 MiB.
    let occupied = [
        PhysRange {
            base: MIB,
            size: 0x10_0000,
        },
        PhysRange {
            base: 0xF00_0000,
            size: 0x80_0000,
        },
    ];
    let plan = BootPlan::new(&bz, map, &occupied).unwrap();
    assert!(!plan.relocatable());
    assert_eq!(plan.load_address(), 0x100_0000);
    assert_eq!(plan.entry_64(), 0x100_0200);
    assert_eq!(
        plan.window(),
        PhysRange {
            base: 0x100_0000,
            size: bz.init_size()
        }
    );
    assert_eq!(plan.protected_mode(), &img[1024..]);

    // Non-relocatable: anything in the window is fatal, never a move.
    let blocked = [PhysRange {
        base: 0x100_1000,
        size: 1,
    }];
    assert_eq!(
        BootPlan::new(&bz, map, &blocked).unwrap_err(),
        Error::NoRoom {
            what: BootItem::Kernel,
            size: bz.init_size(),
            align: 0x20_0000
        }
    );
    // Not enough RAM for 16 MiB + init_size.
    let small = [MemoryRegion {
        base: MIB,
        size: 15 * MIB,
        kind: E820Type::Ram,
    }];
    assert_eq!(
        BootPlan::new(&bz, &small, &[]).unwrap_err(),
        Error::NoRoom {
            what: BootItem::Kernel,
            size: bz.init_size(),
            align: 0x20_0000
        }
    );
}

#[test]
fn testkernel_zero_page() {
    let img = testkernel();
    let bz = BzImage::parse(img).unwrap();
    let map = seabios_map();
    let plan = BootPlan::new(&bz, map, &[]).unwrap();
    let mut cmdline = [0u8; 2048];
    let n = cmdline::write(
        &mut cmdline,
        b"console=ttyS0",
        b"rvf.test=1",
        bz.cmdline_size(),
    )
    .unwrap();
    assert_eq!(&cmdline[..=n], b"console=ttyS0 rvf.test=1\0");
    let mut zp = [0u8; 4096];
    let handoff = Handoff {
        cmdline: Some(PhysRange {
            base: 0x2_0000,
            size: n as u64 + 1,
        }),
        initrd: Some(PhysRange {
            base: 0xF00_0000,
            size: 12345,
        }),
        memory_map: map,
        acpi_rsdp: Some(0xF_5A20),
    };
    zero_page::build(&mut zp, &plan, &handoff).unwrap();
    // What the test kernel checks, at the offsets it reads.
    assert_eq!(&zp[0x1FE..0x200], &[0x55, 0xAA]);
    assert_eq!(&zp[0x202..0x206], b"HdrS");
    assert_eq!(&zp[0x206..0x208], &[0x0F, 0x02]);
    assert_eq!(zp[0x210], 0xFF);
    assert_eq!(zp[0x211] & 1, 1);
    assert_eq!(&zp[0x258..0x260], &0x100_0000u64.to_le_bytes());
    assert_eq!(
        &zp[0x260..0x264],
        &u32::try_from(bz.init_size()).unwrap().to_le_bytes()
    );
    assert_eq!(zp[0x1E8], 5);
    assert_eq!(&zp[0x228..0x22C], &0x2_0000u32.to_le_bytes());
    assert_eq!(&zp[0x0C8..0x0CC], &[0; 4]);
    assert_eq!(&zp[0x218..0x21C], &0xF00_0000u32.to_le_bytes());
    assert_eq!(&zp[0x21C..0x220], &12345u32.to_le_bytes());
    assert_eq!(&zp[0x070..0x078], &0xF_5A20u64.to_le_bytes());
    assert_eq!(&zp[0x2D0 + 3 * 20..0x2D0 + 3 * 20 + 20], &{
        let mut e = [0u8; 20];
        e[..8].copy_from_slice(&MIB.to_le_bytes());
        e[8..16].copy_from_slice(&0xFEE_0000u64.to_le_bytes());
        e[16..].copy_from_slice(&1u32.to_le_bytes());
        e
    });
    // The setup header is the image's, except the loader-written fields.
    for off in 0x1F1..0x26C {
        let loader_field = matches!(off, 0x1FA..=0x1FB | 0x210..=0x21F | 0x224..=0x22B);
        if !loader_field {
            assert_eq!(zp[off], img[off], "setup header byte {off:#x}");
        }
    }
    // This kernel cannot take an initrd above initrd_addr_max (0x7FFFFFFF).
    let high = Handoff {
        initrd: Some(PhysRange {
            base: 0x8000_0000,
            size: 1,
        }),
        ..handoff
    };
    assert_eq!(
        zero_page::build(&mut zp, &plan, &high),
        Err(Error::BootAddress {
            what: BootItem::Initrd,
            address: 0x8000_0000,
            problem: AddressProblem::AboveInitrdAddrMax
        })
    );
    // Its cmdline limit is 2047 bytes.
    let long = [b'a'; 2048];
    assert_eq!(
        cmdline::write(&mut cmdline, &long, b"", bz.cmdline_size()),
        Err(Error::Cmdline(CmdlineProblem::TooLong {
            length: 2048,
            limit: 2047
        }))
    );
}
