//! The rvf-boot stub as Firecracker and Cloud Hypervisor load it: with
//! rust-vmm linux-loader's `Elf::load` (the version both lock, 0.14.0), no
//! load offset and a high-memory start of 1 MiB (both VMMs' call), into
//! guest memory. Then the PVH entry the loader found must be the stub's
//! (`e_entry` = `pvh_start`, and the PVH note's own descriptor), the one
//! PT_LOAD at 2 MiB with a 2 MiB `p_align` (what linux-loader's pending
//! alignment check, rust-vmm/linux-loader#227, asks of an x86_64 kernel), and
//! the guest bytes exactly the segment's file bytes.
//!
//! The stub is built first (`cargo build --release` in qemu/stub, as
//! qemu/common.sh's build_stub does; cargo decides what is stale).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use linux_loader::loader::elf::PvhBootCapability;
use linux_loader::loader::{Elf, KernelLoader};
use vm_memory::{Bytes, GuestAddress, GuestMemoryMmap};

/// Firecracker's and Cloud Hypervisor's `HIMEM_START` / `HIGH_RAM_START`,
/// the `highmem_start_address` both pass: the entry must lie at or above it.
const HIMEM_START: u64 = 0x10_0000;
/// Where link.ld puts the stub, and its segment alignment.
const STUB_BASE: u64 = 0x20_0000;
const TWO_MIB: u64 = 0x20_0000;
/// Guest RAM for the load: more than the stub's extent.
const GUEST_RAM: usize = 64 << 20;

fn stub_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../stub")
}

/// Build the stub (release, its own workspace and target dir) and return
/// its path.
fn build_stub() -> PathBuf {
    let dir = stub_dir();
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet"])
        .current_dir(&dir)
        // The stub's flags come from its build.rs; the caller's would leak
        // into a bare-metal link.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .expect("run cargo build in qemu/stub");
    assert!(
        status.success(),
        "cargo build --release in qemu/stub failed"
    );
    let bin = dir.join("target/release/rvf-boot-stub");
    assert!(bin.is_file(), "{} was not built", bin.display());
    bin
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().unwrap())
}
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// One ELF64 program header.
#[derive(Debug, Clone, Copy)]
struct Phdr {
    p_type: u32,
    offset: u64,
    paddr: u64,
    filesz: u64,
    memsz: u64,
    align: u64,
}

fn phdrs(elf: &[u8]) -> Vec<Phdr> {
    let phoff = u64_at(elf, 0x20) as usize;
    let phentsize = u16_at(elf, 0x36) as usize;
    let phnum = u16_at(elf, 0x38) as usize;
    assert_eq!(phentsize, 56);
    (0..phnum)
        .map(|i| {
            let p = phoff + i * phentsize;
            Phdr {
                p_type: u32_at(elf, p),
                offset: u64_at(elf, p + 8),
                paddr: u64_at(elf, p + 0x18),
                filesz: u64_at(elf, p + 0x20),
                memsz: u64_at(elf, p + 0x28),
                align: u64_at(elf, p + 0x30),
            }
        })
        .collect()
}

/// The descriptor of the `XEN_ELFNOTE_PHYS32_ENTRY` (18) note named "Xen".
fn pvh_note_entry(elf: &[u8], notes: &[Phdr]) -> Option<u64> {
    for n in notes {
        let mut at = n.offset as usize;
        let end = at + n.filesz as usize;
        while at + 12 <= end {
            let namesz = u32_at(elf, at) as usize;
            let descsz = u32_at(elf, at + 4) as usize;
            let ty = u32_at(elf, at + 8);
            let name = &elf[at + 12..at + 12 + namesz];
            let desc_at = at + 12 + namesz.next_multiple_of(4);
            if ty == 18 && name == b"Xen\0" {
                return Some(match descsz {
                    8 => u64_at(elf, desc_at),
                    4 => u64::from(u32_at(elf, desc_at)),
                    n => panic!("PVH note descriptor of {n} bytes"),
                });
            }
            at = desc_at + descsz.next_multiple_of(4);
        }
    }
    None
}

#[test]
fn linux_loader_finds_the_stubs_pvh_entry() {
    let bin = build_stub();
    let elf = std::fs::read(&bin).unwrap();
    assert_eq!(&elf[..4], b"\x7fELF");
    let e_entry = u64_at(&elf, 0x18);

    let mem = GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), GUEST_RAM)]).unwrap();
    let mut file = File::open(&bin).unwrap();
    let result = Elf::load(&mem, None, &mut file, Some(GuestAddress(HIMEM_START)))
        .expect("linux-loader 0.14 loads the stub");

    // The PVH entry: what the VMM jumps to in 32-bit protected mode.
    assert_eq!(
        result.pvh_boot_cap,
        PvhBootCapability::PvhEntryPresent(GuestAddress(e_entry)),
        "linux-loader's PVH entry is not the stub's e_entry (pvh_start)"
    );
    let all = phdrs(&elf);
    let notes: Vec<Phdr> = all.iter().copied().filter(|p| p.p_type == 4).collect();
    assert_eq!(pvh_note_entry(&elf, &notes), Some(e_entry));
    assert!(e_entry < 1 << 32, "the PVH entry must be a 32-bit address");
    assert_eq!(result.kernel_load, GuestAddress(e_entry));
    assert_eq!(result.setup_header, None);

    // One PT_LOAD at 2 MiB, 2 MiB aligned, the entry inside it.
    let loads: Vec<Phdr> = all.iter().copied().filter(|p| p.p_type == 1).collect();
    assert_eq!(loads.len(), 1, "program headers: {all:?}");
    let load = loads[0];
    assert_eq!(load.paddr, STUB_BASE);
    assert_eq!(load.align, TWO_MIB);
    assert_eq!(load.paddr % TWO_MIB, 0);
    assert_eq!(load.offset % TWO_MIB, load.paddr % TWO_MIB);
    assert!(load.filesz <= load.memsz);
    assert!((load.paddr..load.paddr + load.filesz).contains(&e_entry));
    assert_eq!(result.kernel_end, load.paddr + load.memsz);
    assert!(result.kernel_end <= GUEST_RAM as u64);

    // The guest holds exactly the segment's file bytes.
    let mut loaded = vec![0u8; load.filesz as usize];
    mem.read_slice(&mut loaded, GuestAddress(load.paddr))
        .unwrap();
    let want = &elf[load.offset as usize..(load.offset + load.filesz) as usize];
    assert!(loaded == want, "guest bytes differ from the segment's");
    // The entry's first instruction is the stub's `cli` (0xFA).
    let mut first = [0u8; 1];
    mem.read_slice(&mut first, GuestAddress(e_entry)).unwrap();
    assert_eq!(first, [0xFA]);
}

#[test]
fn a_load_offset_disables_pvh_as_the_vmms_expect() {
    // Both VMMs pass no offset for PVH: with one, linux-loader ignores the
    // note, and the stub (linked at fixed addresses) could not run.
    let bin = build_stub();
    let mem = GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), GUEST_RAM)]).unwrap();
    let mut file = File::open(&bin).unwrap();
    let result = Elf::load(&mem, Some(GuestAddress(0x100_0000)), &mut file, None).unwrap();
    assert_eq!(result.pvh_boot_cap, PvhBootCapability::PvhEntryIgnored);
}
