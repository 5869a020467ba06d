//! The invariants every `Ok` of the ELF vmlinux path must satisfy, checked
//! with plain `assert!`s: `Vmlinux::parse`, `elf::plan` on the fixed memory
//! map of [`crate::invariants`], and `zero_page::build_for_elf`. Shared by
//! the fuzz target `elf` and `host-tests/tests/elf.rs` (included there by
//! `#[path]`), so it depends on nothing but `rvf_boot` and `std`.
#![allow(clippy::missing_panics_doc)]

use crate::invariants::{MEMORY_MAP, OCCUPIED};
use rvf_boot::Error;
use rvf_boot::elf::{self, KernelFormat, MAX_LOADS, Vmlinux};
use rvf_boot::memory::PhysRange;
use rvf_boot::zero_page::{self, Handoff};

/// Where the checks put the cmdline (below 1 MiB, clear of every kernel).
const CMDLINE_AT: u64 = 0x2_0000;

/// Parse, plan and hand over `image`; assert what every `Ok` promises and
/// that every `Err` is one the layer documents.
pub fn check_elf_chain(image: &[u8]) {
    let v = match Vmlinux::parse(image) {
        Ok(v) => v,
        Err(e) => {
            assert!(
                matches!(
                    e,
                    Error::ElfHeader { .. }
                        | Error::ElfSegment { .. }
                        | Error::ElfNote { .. }
                        | Error::Truncated { .. }
                ),
                "ELF error {e:?}"
            );
            if image.len() < 64 {
                assert!(matches!(e, Error::Truncated { .. }), "short image: {e:?}");
            }
            return;
        }
    };
    assert_eq!(
        elf::KernelFormat::detect(image),
        Some(elf::KernelFormat::Elf)
    );
    assert_eq!(KernelFormat::detect(image), Some(KernelFormat::Elf));
    let loads = v.loads();
    assert!(!loads.is_empty() && loads.len() <= MAX_LOADS);
    for (i, l) in loads.iter().enumerate() {
        // Inside the image, filesz <= memsz, no wrap.
        let end = l.offset as u128 + l.filesz as u128;
        assert!(
            end <= image.len() as u128,
            "PT_LOAD file range inside the image"
        );
        assert_eq!(v.file_bytes(l).len() as u64, l.filesz);
        assert!(l.filesz <= l.memsz);
        assert!(l.paddr.checked_add(l.memsz).is_some());
        assert!(l.align == 0 || l.align.is_power_of_two());
        // The header it came from says the same.
        let phoff = u64::from_le_bytes(image[0x20..0x28].try_into().unwrap()) as usize;
        let h = phoff + 56 * usize::from(l.index);
        let ph = &image[h..h + 56];
        assert_eq!(u32::from_le_bytes(ph[0..4].try_into().unwrap()), 1);
        assert_eq!(
            u64::from_le_bytes(ph[0x18..0x20].try_into().unwrap()),
            l.paddr
        );
        assert_eq!(
            u64::from_le_bytes(ph[0x28..0x30].try_into().unwrap()),
            l.memsz
        );
        for o in &loads[..i] {
            assert!(o.index < l.index, "program-header order");
            let (a, b) = (o.target(), l.target());
            let disjoint = a.size == 0
                || b.size == 0
                || a.base as u128 + a.size as u128 <= b.base as u128
                || b.base as u128 + b.size as u128 <= a.base as u128;
            assert!(disjoint, "PT_LOADs overlap: {o:?} {l:?}");
        }
    }
    let backs = |a: u64| loads.iter().any(|l| a >= l.paddr && a - l.paddr < l.filesz);
    assert!(backs(v.entry_64()), "entry inside a PT_LOAD");
    if let Some(p) = v.pvh_entry() {
        assert!(backs(u64::from(p)), "PVH entry inside a PT_LOAD");
    }

    let plan = match elf::plan(&v, &MEMORY_MAP, &OCCUPIED) {
        Ok(p) => p,
        Err(e) => {
            assert!(matches!(e, Error::ElfPlacement { .. }), "plan error {e:?}");
            return;
        }
    };
    let span = plan.window();
    assert_eq!(span, v.span());
    assert!(span.base >= 0x10_0000 && span.base as u128 + span.size as u128 <= 1 << 32);
    for r in OCCUPIED {
        assert!(!r.overlaps(&span), "span clear of occupied ranges");
    }
    assert!(rvf_boot::memory::is_usable(&MEMORY_MAP, span));
    let non_empty = loads.iter().filter(|l| l.memsz != 0).count();
    assert_eq!(plan.copies().len(), non_empty);
    for c in plan.copies() {
        let l = loads.iter().find(|l| l.index == c.index).unwrap();
        assert_eq!(plan.source(c), v.file_bytes(l));
        assert_eq!(
            (c.destination, c.file_size, c.zero),
            (l.paddr, l.filesz, l.memsz - l.filesz)
        );
        assert!(span.contains(&c.target()));
    }
    assert_eq!(plan.entry_64(), v.entry_64());
    assert_eq!(plan.pvh_entry(), v.pvh_entry());

    let mut zp = [0x5Au8; zero_page::ZERO_PAGE_SIZE];
    let h = Handoff {
        cmdline: Some(PhysRange {
            base: CMDLINE_AT,
            size: 14,
        }),
        initrd: Some(OCCUPIED[1]),
        memory_map: &MEMORY_MAP,
        acpi_rsdp: None,
    };
    zero_page::build_for_elf(&mut zp, &plan, &h).unwrap();
    assert_eq!(&zp[0x1FE..0x200], &[0x55, 0xAA]);
    assert_eq!(&zp[0x202..0x206], b"HdrS");
    assert_eq!(zp[0x210], 0xFF);
    assert_eq!(&zp[0x228..0x22C], &(CMDLINE_AT as u32).to_le_bytes());
    assert_eq!(&zp[0x238..0x23C], &13u32.to_le_bytes());
    assert_eq!(&zp[0x218..0x21C], &(OCCUPIED[1].base as u32).to_le_bytes());
    assert_eq!(usize::from(zp[0x1E8]), MEMORY_MAP.len());
    assert!(zp[..0x70].iter().all(|&b| b == 0));
}
