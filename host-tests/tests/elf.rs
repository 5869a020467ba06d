//! ELF vmlinux kernels (`rvf_boot::elf`, `zero_page::build_for_elf`): the
//! test kit's Linux-shaped vmlinux parsed field by field, one exact error
//! for every check of the module table, the load plan's copies and
//! refusals, the zero page byte by byte, and random damage through the
//! fuzz target's invariants.

use host_tests::elf_invariants::check_elf_chain;
use proptest::prelude::*;
use rvf_boot::elf::{
    self, ElfField, ElfWork, KernelFormat, Load, LoadTarget, MAX_LOADS, NoteProblem,
    PlacementProblem, SegmentCopy, SegmentProblem, Vmlinux,
};
use rvf_boot::error::{ErrorClass, Structure};
use rvf_boot::memory::{E820Type, MemoryRegion, PhysRange, RangeProblem};
use rvf_boot::plan::BootItem;
use rvf_boot::zero_page::{self, AddressProblem, Handoff};
use rvf_boot::{Error, Result};
use rvf_testkit::elf::{
    ElfBuilder, KERNEL_MAP, PT_DYNAMIC, PT_GNU_STACK, PT_NULL, PT_TLS, Segment, note, ph, ph_field,
    pvh_note, vmlinux, vmlinux_builder,
};

const MIB: u64 = 0x10_0000;

fn put_u16(f: &mut [u8], o: usize, v: u16) {
    f[o..o + 2].copy_from_slice(&v.to_le_bytes());
}
fn put_u32(f: &mut [u8], o: usize, v: u32) {
    f[o..o + 4].copy_from_slice(&v.to_le_bytes());
}
fn put_u64(f: &mut [u8], o: usize, v: u64) {
    f[o..o + 8].copy_from_slice(&v.to_le_bytes());
}

fn parse(f: &[u8]) -> Result<Vmlinux<'_>> {
    Vmlinux::parse(f)
}

fn hdr_err(field: ElfField, value: u64) -> Result<()> {
    Err(Error::ElfHeader { field, value })
}

fn seg_err(index: u16, problem: SegmentProblem) -> Result<()> {
    Err(Error::ElfSegment {
        index,
        offset: 64 + 56 * u64::from(index),
        problem,
    })
}

fn unit(r: Result<Vmlinux<'_>>) -> Result<()> {
    r.map(|_| ())
}

/// The file offset of the test kernel's first note (after the 5 headers
/// and the segments' bytes): the PT_NOTE's p_offset.
fn note_offset(f: &[u8]) -> u64 {
    u64::from_le_bytes(f[ph_field(4, ph::OFFSET)..][..8].try_into().unwrap())
}

#[test]
fn linux_shaped_vmlinux_parses_field_by_field() {
    let f = vmlinux();
    let v = parse(&f).unwrap();
    assert_eq!(v.entry_64(), 0x100_0000);
    assert_eq!(v.pvh_entry(), Some(0x100_0850));
    assert_eq!(v.image().len(), f.len());
    assert_eq!(
        v.work(),
        ElfWork {
            program_headers: 5,
            overlap_checks: 6,
            note_steps: 3
        }
    );
    // The builder's layout: headers end at 64 + 5 * 56 = 344; the text goes
    // at 0x1000 (congruent to its vaddr mod 0x1000), then each segment.
    let expect = [
        Load {
            index: 0,
            flags: 5,
            offset: 0x1000,
            vaddr: KERNEL_MAP + 0x100_0000,
            paddr: 0x100_0000,
            filesz: 0x1000,
            memsz: 0x1000,
            align: 0x1000,
        },
        Load {
            index: 1,
            flags: 5,
            offset: 0x2000,
            vaddr: KERNEL_MAP + 0x120_0000,
            paddr: 0x120_0000,
            filesz: 0x800,
            memsz: 0x2000,
            align: 0x1000,
        },
        Load {
            index: 2,
            flags: 5,
            offset: 0x3000,
            vaddr: 0,
            paddr: 0x120_2000,
            filesz: 0x100,
            memsz: 0x100,
            align: 0x1000,
        },
        Load {
            index: 3,
            flags: 5,
            offset: 0x4000,
            vaddr: KERNEL_MAP + 0x130_0000,
            paddr: 0x130_0000,
            filesz: 0x400,
            memsz: 0x10_0000,
            align: 0x1000,
        },
    ];
    assert_eq!(v.loads(), &expect);
    assert_eq!(note_offset(&f), 0x4400);
    assert_eq!(v.file_bytes(&expect[1]), &f[0x2000..0x2800]);
    assert_eq!(
        v.span(),
        PhysRange {
            base: 0x100_0000,
            size: 0x40_0000
        }
    );
    assert_eq!(
        expect[1].target(),
        PhysRange {
            base: 0x120_0000,
            size: 0x2000
        }
    );
    assert!(expect[0].backs(0x100_0FFF) && !expect[0].backs(0x100_1000));
    assert!(
        !expect[1].backs(0x120_0800),
        "the zeroed tail backs nothing"
    );
}

#[test]
fn kernel_format_detection() {
    let f = vmlinux();
    assert_eq!(KernelFormat::detect(&f), Some(KernelFormat::Elf));
    let bz = rvf_testkit::build::bzimage();
    assert_eq!(KernelFormat::detect(&bz), Some(KernelFormat::BzImage));
    assert_eq!(KernelFormat::detect(b"\x7fEL"), None);
    assert_eq!(KernelFormat::detect(&[]), None);
    assert_eq!(KernelFormat::detect(&[0u8; 4096]), None);
    let mut half = bz.clone();
    half[0x202] = b'h';
    assert_eq!(KernelFormat::detect(&half), None);
    assert_eq!(KernelFormat::Elf.name(), "elf");
    assert_eq!(KernelFormat::BzImage.to_string(), "bzimage");
}

#[test]
fn file_header_checks_in_order() {
    let f = vmlinux();
    // Shorter than the 64-byte header.
    assert_eq!(
        unit(parse(&f[..63])),
        Err(Error::Truncated {
            structure: Structure::ElfHeader,
            offset: 0,
            needed: 64,
            available: 63
        })
    );
    type Patch = fn(&mut Vec<u8>);
    let cases: [(Patch, ElfField, u64); 16] = [
        (|f| f[3] = b'f', ElfField::Magic, 0x664C_457F),
        (|f| f[4] = 1, ElfField::Class, 1),
        (|f| f[5] = 2, ElfField::Data, 2),
        (|f| f[6] = 0, ElfField::IdentVersion, 0),
        (|f| f[7] = 9, ElfField::OsAbi, 9),
        (|f| f[8] = 1, ElfField::AbiVersion, 1),
        (|f| put_u16(f, 0x10, 3), ElfField::Type, 3), // ET_DYN
        (|f| put_u16(f, 0x12, 3), ElfField::Machine, 3), // EM_386
        (|f| put_u32(f, 0x14, 2), ElfField::Version, 2),
        (|f| put_u32(f, 0x30, 1), ElfField::Flags, 1),
        (|f| put_u16(f, 0x34, 52), ElfField::EhSize, 52),
        (|f| put_u16(f, 0x36, 32), ElfField::PhEntSize, 32),
        (|f| put_u16(f, 0x38, 0), ElfField::PhNum, 0),
        (|f| put_u16(f, 0x38, 65), ElfField::PhNum, 65),
        (|f| put_u64(f, 0x20, 0x4400 + 0x80), ElfField::PhOff, 0x4480),
        (
            |f| put_u64(f, 0x20, u64::MAX - 8),
            ElfField::PhOff,
            u64::MAX - 8,
        ),
    ];
    for (patch, field, value) in cases {
        let mut g = f.clone();
        patch(&mut g);
        assert_eq!(unit(parse(&g)), hdr_err(field, value), "{field}");
    }
    // OS ABI 3 (GNU/Linux) is accepted; the e_ident padding and section
    // header fields are not read.
    let mut g = f.clone();
    g[7] = 3;
    g[9..16].fill(0xEE);
    put_u64(&mut g, 0x28, u64::MAX);
    put_u16(&mut g, 0x3C, 0xFFFF);
    parse(&g).unwrap();
    // The table ends exactly at the end of the file.
    let mut g = f.clone();
    g.truncate(64 + 5 * 56);
    assert_eq!(
        unit(parse(&g)),
        seg_err(
            0,
            SegmentProblem::OutsideImage {
                p_offset: 0x1000,
                p_filesz: 0x1000,
                image_size: 344
            }
        )
    );
    // Messages.
    let e = Error::ElfHeader {
        field: ElfField::Machine,
        value: 3,
    };
    assert_eq!(
        e.to_string(),
        "ELF header: e_machine is 0x3, must be 62 (EM_X86_64)"
    );
    assert_eq!(e.class(), ErrorClass::BzImage);
    assert_eq!(
        Error::ElfHeader {
            field: ElfField::Type,
            value: 3
        }
        .to_string(),
        "ELF header: e_type is 0x3, must be 2 (ET_EXEC, an executable)"
    );
    assert_eq!(
        Error::ElfHeader {
            field: ElfField::Class,
            value: 1
        }
        .to_string(),
        "ELF header: EI_CLASS is 0x1, must be 2 (ELFCLASS64)"
    );
}

#[test]
fn loads_entry_and_counts() {
    // No PT_LOAD at all.
    let f = ElfBuilder::new(0x100_0000)
        .notes(&pvh_note(0x100_0000))
        .build();
    assert_eq!(unit(parse(&f)), hdr_err(ElfField::Loads, 0));
    // Entry in the zeroed tail, not file-backed.
    let mut b = vmlinux_builder();
    b.e_entry = 0x120_0800;
    assert_eq!(
        unit(parse(&b.build())),
        hdr_err(ElfField::Entry, 0x120_0800)
    );
    // Entry at the last file-backed byte is fine.
    b.e_entry = 0x120_07FF;
    parse(&b.build()).unwrap();
    // A virtual entry (as some other kernels have) is refused.
    b.e_entry = KERNEL_MAP + 0x100_0000;
    assert_eq!(
        unit(parse(&b.build())),
        hdr_err(ElfField::Entry, KERNEL_MAP + 0x100_0000)
    );
    // PT_NULL and PT_GNU_STACK are skipped; an empty PT_LOAD is kept but
    // copies nothing.
    let skip = |t| Segment {
        p_type: t,
        p_flags: 6,
        p_vaddr: 0,
        p_paddr: 0,
        data: vec![],
        p_memsz: 0,
        p_align: 16,
    };
    let f = vmlinux_builder()
        .segment(skip(PT_NULL))
        .segment(skip(PT_GNU_STACK))
        .load(0x200_0000, &[], 0)
        .build();
    let v = parse(&f).unwrap();
    assert_eq!(v.loads().len(), 5);
    assert_eq!(v.loads()[4].index, 7);
    let p = elf::plan(&v, &ram_256m(), &[]).unwrap();
    assert_eq!(p.copies().len(), 4);
    // MAX_LOADS PT_LOADs pass; one more is refused at its header.
    let mut b = ElfBuilder::new(0x100_0000);
    for i in 0..MAX_LOADS as u64 {
        b = b.load(0x100_0000 + i * 0x1000, &[0x90; 16], 0x1000);
    }
    let v16 = b.clone().build();
    assert_eq!(parse(&v16).unwrap().loads().len(), 16);
    // Each PT_LOAD is compared with the ones before it: 0 + 1 + ... + 15.
    assert_eq!(parse(&v16).unwrap().work().overlap_checks, 120);
    let f = b.load(0x200_0000, &[1], 1).build();
    assert_eq!(
        unit(parse(&f)),
        seg_err(16, SegmentProblem::TooManyLoads { limit: 16 })
    );
}

#[test]
fn program_header_checks() {
    let f = vmlinux();
    let len = f.len() as u64;
    type Patch = fn(&mut Vec<u8>);
    let cases: [(Patch, u16, SegmentProblem); 14] = [
        (
            |f| put_u32(f, ph_field(2, ph::TYPE), PT_DYNAMIC),
            2,
            SegmentProblem::UnknownType { p_type: 2 },
        ),
        (
            |f| put_u32(f, ph_field(0, ph::TYPE), PT_TLS),
            0,
            SegmentProblem::UnknownType { p_type: 7 },
        ),
        (
            |f| put_u32(f, ph_field(1, ph::FLAGS), 0x10_0006),
            1,
            SegmentProblem::Flags { p_flags: 0x10_0006 },
        ),
        (
            |f| put_u64(f, ph_field(3, ph::FILESZ), 0x1000),
            3,
            SegmentProblem::OutsideImage {
                p_offset: 0x4000,
                p_filesz: 0x1000,
                image_size: 0x4400 + 84,
            },
        ),
        (
            |f| put_u64(f, ph_field(0, ph::OFFSET), u64::MAX),
            0,
            SegmentProblem::OutsideImage {
                p_offset: u64::MAX,
                p_filesz: 0x1000,
                image_size: 0x4400 + 84,
            },
        ),
        (
            |f| put_u64(f, ph_field(1, ph::MEMSZ), 0x7FF),
            1,
            SegmentProblem::FileSizeOverMemSize {
                p_filesz: 0x800,
                p_memsz: 0x7FF,
            },
        ),
        (
            |f| put_u64(f, ph_field(1, ph::ALIGN), 0x3000),
            1,
            SegmentProblem::Align { p_align: 0x3000 },
        ),
        (
            |f| put_u64(f, ph_field(1, ph::VADDR), KERNEL_MAP + 0x120_0010),
            1,
            SegmentProblem::AlignMismatch { p_align: 0x1000 },
        ),
        (
            |f| put_u64(f, ph_field(3, ph::PADDR), u64::MAX - 0xF_FFFF),
            3,
            SegmentProblem::Wraps {
                address: u64::MAX - 0xF_FFFF,
                p_memsz: 0x10_0000,
            },
        ),
        (
            |f| put_u64(f, ph_field(3, ph::VADDR), u64::MAX - 0xFFF),
            3,
            SegmentProblem::Wraps {
                address: u64::MAX - 0xFFF,
                p_memsz: 0x10_0000,
            },
        ),
        (
            // The percpu segment moved onto the data segment's zeroed tail.
            |f| put_u64(f, ph_field(2, ph::PADDR), 0x120_1000),
            2,
            SegmentProblem::Overlaps { other: 1 },
        ),
        (
            // The init segment reaching back into the text.
            |f| put_u64(f, ph_field(3, ph::PADDR), 0x100_0000 - 0x10_0000 + 1),
            3,
            SegmentProblem::Overlaps { other: 0 },
        ),
        (
            |f| put_u64(f, ph_field(4, ph::ALIGN), 2),
            4,
            SegmentProblem::NoteAlign { p_align: 2 },
        ),
        (
            |f| put_u64(f, ph_field(4, ph::FILESZ), 85),
            4,
            SegmentProblem::OutsideImage {
                p_offset: 0x4400,
                p_filesz: 85,
                image_size: 0x4400 + 84,
            },
        ),
    ];
    assert_eq!(len, 0x4400 + 84);
    for (patch, index, problem) in cases {
        let mut g = f.clone();
        patch(&mut g);
        assert_eq!(unit(parse(&g)), seg_err(index, problem), "{problem}");
    }
    // Adjacent segments do not overlap (1 ends at 0x120_2000, where 2
    // starts: `vmlinux()` parses); p_align 0 means none; the gABI's
    // congruence is on p_vaddr, not p_paddr (the percpu segment's vaddr is 0).
    let mut g = f.clone();
    put_u64(&mut g, ph_field(1, ph::ALIGN), 0);
    put_u64(&mut g, ph_field(1, ph::VADDR), 7);
    put_u64(&mut g, ph_field(2, ph::PADDR), 0x120_2001);
    parse(&g).unwrap();
    // Messages.
    let e = Error::ElfSegment {
        index: 2,
        offset: 176,
        problem: SegmentProblem::Overlaps { other: 1 },
    };
    assert_eq!(
        e.to_string(),
        "ELF program header #2 at byte 176: its physical range overlaps that of PT_LOAD program header #1"
    );
    assert_eq!(e.class(), ErrorClass::BzImage);
    assert_eq!(
        Error::ElfSegment {
            index: 1,
            offset: 120,
            problem: SegmentProblem::FileSizeOverMemSize {
                p_filesz: 0x800,
                p_memsz: 0x7FF
            }
        }
        .to_string(),
        "ELF program header #1 at byte 120: p_filesz 0x800 is more than p_memsz 0x7ff"
    );
}

/// A vmlinux whose only PT_NOTE holds `notes` (p_align `align`).
fn with_notes(notes: &[u8], align: u64) -> Vec<u8> {
    let mut b = ElfBuilder::new(0x100_0000).load(0x100_0000, &[0xCC; 0x1000], 0x1000);
    b = b.segment(Segment {
        p_type: 4,
        p_flags: 4,
        p_vaddr: 0,
        p_paddr: 0,
        data: notes.to_vec(),
        p_memsz: notes.len() as u64,
        p_align: align,
    });
    b.build()
}

/// The file offset of the PT_NOTE's bytes in a [`with_notes`] file.
const NOTES_AT: u64 = 0x1000 + 0x1000;

fn note_err(offset: u64, problem: NoteProblem) -> Result<()> {
    Err(Error::ElfNote { offset, problem })
}

#[test]
fn pvh_note_forms_and_refusals() {
    let pvh = |v: &[u8]| parse(v).map(|v| v.pvh_entry());
    // 4-byte descriptor, other notes before it, 8-byte aligned notes.
    let mut n = note(b"Linux\0", 1, b"x", 4);
    n.extend(note(b"Xen\0", 18, &0x100_0010u32.to_le_bytes(), 4));
    assert_eq!(pvh(&with_notes(&n, 4)), Ok(Some(0x100_0010)));
    assert_eq!(NOTES_AT, note_offset_of(&with_notes(&n, 4)));
    let n8 = note(b"Xen\0", 18, &0x100_0020u64.to_le_bytes(), 8);
    assert_eq!(pvh(&with_notes(&n8, 8)), Ok(Some(0x100_0020)));
    // With 8-byte alignment the descriptor starts at the header + name
    // rounded up (12 + 6 -> 24), not at the name padded alone (12 + 8).
    let mut n8 = note(b"Linux\0", 1, &[7; 3], 8);
    assert_eq!(n8.len(), 32);
    n8.extend(note(b"Xen\0", 18, &0x100_0030u64.to_le_bytes(), 8));
    assert_eq!(pvh(&with_notes(&n8, 8)), Ok(Some(0x100_0030)));
    // Other Xen notes and other names with type 18 are not the PVH entry.
    let mut n = note(b"Xen\0", 17, &[1; 8], 4);
    n.extend(note(b"XEN\0", 18, &[2; 8], 4));
    n.extend(note(b"Xen", 18, &[3; 8], 4));
    assert_eq!(pvh(&with_notes(&n, 4)), Ok(None));
    // No padding after the last descriptor (a 1-byte desc at the end).
    let mut n = pvh_note(0x100_0000);
    n.extend(&note(b"GNU\0", 1, b"z", 4)[..17]);
    assert_eq!(pvh(&with_notes(&n, 4)), Ok(Some(0x100_0000)));

    // Truncated header (11 bytes), name, descriptor.
    let n = pvh_note(0x100_0000);
    assert_eq!(
        unit(parse(&with_notes(&n[..11], 4))),
        note_err(
            NOTES_AT,
            NoteProblem::Truncated {
                needed: 12,
                available: 11
            }
        )
    );
    assert_eq!(
        unit(parse(&with_notes(&n[..23], 4))),
        note_err(
            NOTES_AT,
            NoteProblem::Truncated {
                needed: 24,
                available: 23
            }
        )
    );
    let mut two = note(b"GNU\0", 1, &[0; 4], 4);
    let at2 = NOTES_AT + two.len() as u64;
    two.extend(&n[..14]);
    assert_eq!(
        unit(parse(&with_notes(&two, 4))),
        note_err(
            at2,
            NoteProblem::Truncated {
                needed: 24,
                available: 14
            }
        )
    );
    // A name length near u32::MAX.
    let mut huge = n.clone();
    put_u32(&mut huge, 0, u32::MAX);
    assert_eq!(
        unit(parse(&with_notes(&huge, 4))),
        note_err(
            NOTES_AT,
            NoteProblem::Truncated {
                needed: 12 + 0x1_0000_0000 + 8,
                available: 24
            }
        )
    );
    // Descriptor sizes.
    let n2 = note(b"Xen\0", 18, &[0x10, 0], 4);
    assert_eq!(
        unit(parse(&with_notes(&n2, 4))),
        note_err(NOTES_AT, NoteProblem::DescSize { n_descsz: 2 })
    );
    // Above 4 GiB.
    let hi = pvh_note(0x1_0000_0000);
    assert_eq!(
        unit(parse(&with_notes(&hi, 4))),
        note_err(
            NOTES_AT,
            NoteProblem::AboveFourGib {
                entry: 0x1_0000_0000
            }
        )
    );
    // Twice in one segment, and in two segments.
    let mut dup = pvh_note(0x100_0000);
    dup.extend(pvh_note(0x100_0004));
    assert_eq!(
        unit(parse(&with_notes(&dup, 4))),
        note_err(NOTES_AT + 24, NoteProblem::Duplicate)
    );
    let f = vmlinux_builder().notes(&pvh_note(0x100_0850)).build();
    let second = u64::from_le_bytes(f[ph_field(5, ph::OFFSET)..][..8].try_into().unwrap());
    assert_eq!(unit(parse(&f)), note_err(second, NoteProblem::Duplicate));
    // Outside every PT_LOAD's file-backed part.
    let out = pvh_note(0x100_1000);
    assert_eq!(
        unit(parse(&with_notes(&out, 4))),
        note_err(
            NOTES_AT,
            NoteProblem::EntryOutsideLoads { entry: 0x100_1000 }
        )
    );
    assert_eq!(
        Error::ElfNote {
            offset: 8192,
            problem: NoteProblem::EntryOutsideLoads { entry: 0x100_1000 }
        }
        .to_string(),
        "ELF note at byte 8192: the PVH entry 0x1001000 is outside the file-backed part of every PT_LOAD"
    );
}

fn note_offset_of(f: &[u8]) -> u64 {
    u64::from_le_bytes(f[ph_field(1, ph::OFFSET)..][..8].try_into().unwrap())
}

fn ram_256m() -> Vec<MemoryRegion> {
    vec![
        MemoryRegion {
            base: 0,
            size: 0x9_FC00,
            kind: E820Type::Ram,
        },
        MemoryRegion {
            base: 0xF_0000,
            size: 0x1_0000,
            kind: E820Type::Reserved,
        },
        MemoryRegion {
            base: MIB,
            size: 255 * MIB,
            kind: E820Type::Ram,
        },
    ]
}

fn r(base: u64, size: u64) -> PhysRange {
    PhysRange { base, size }
}

#[test]
fn plan_copies_and_refusals() {
    let f = vmlinux();
    let v = parse(&f).unwrap();
    let mem = ram_256m();
    // The stub at 1 MiB, the image buffer high, the initrd below it.
    let kept = [r(MIB, MIB), r(200 * MIB, 0x10_0000), r(180 * MIB, 4 * MIB)];
    let p = elf::plan(&v, &mem, &kept).unwrap();
    assert_eq!(
        p.copies(),
        &[
            SegmentCopy {
                index: 0,
                file_offset: 0x1000,
                file_size: 0x1000,
                destination: 0x100_0000,
                zero: 0
            },
            SegmentCopy {
                index: 1,
                file_offset: 0x2000,
                file_size: 0x800,
                destination: 0x120_0000,
                zero: 0x1800
            },
            SegmentCopy {
                index: 2,
                file_offset: 0x3000,
                file_size: 0x100,
                destination: 0x120_2000,
                zero: 0
            },
            SegmentCopy {
                index: 3,
                file_offset: 0x4000,
                file_size: 0x400,
                destination: 0x130_0000,
                zero: 0xF_FC00
            },
        ]
    );
    assert_eq!(p.source(&p.copies()[1]), &f[0x2000..0x2800]);
    assert_eq!(p.copies()[1].zero_range(), r(0x120_0800, 0x1800));
    assert_eq!(p.copies()[3].target(), r(0x130_0000, 0x10_0000));
    assert_eq!(p.window(), r(0x100_0000, 0x40_0000));
    assert_eq!(
        (p.entry_64(), p.pvh_entry()),
        (0x100_0000, Some(0x100_0850))
    );
    assert_eq!(p.image().len(), f.len());
    // What a loader holds on its stack.
    assert!(std::mem::size_of::<Vmlinux<'_>>() <= 1024);
    assert!(std::mem::size_of::<elf::ElfPlan<'_>>() <= 768);

    let placement = |target, base, size, problem| {
        Err(Error::ElfPlacement {
            target,
            base,
            size,
            problem,
        })
    };
    let seg = |index| LoadTarget::Segment { index };
    let plan = |mem: &[MemoryRegion], kept: &[PhysRange]| elf::plan(&v, mem, kept).map(|_| ());
    // A kept range inside segment 1's zeroed tail.
    let k = [r(0x120_1FFF, 1)];
    assert_eq!(
        plan(&mem, &k),
        placement(
            seg(1),
            0x120_0000,
            0x2000,
            PlacementProblem::Range(RangeProblem::Overlaps { other: k[0] })
        )
    );
    // A kept range in the gap between segments 2 and 3: the span refuses.
    let k = [r(0x128_0000, 0x1000)];
    assert_eq!(
        plan(&mem, &k),
        placement(
            LoadTarget::Span,
            0x100_0000,
            0x40_0000,
            PlacementProblem::Range(RangeProblem::Overlaps { other: k[0] })
        )
    );
    // A reserved e820 entry over segment 3, one in the gap.
    let mut m = mem.clone();
    m.push(MemoryRegion {
        base: 0x13F_F000,
        size: 0x1000,
        kind: E820Type::Nvs,
    });
    assert_eq!(
        plan(&m, &[]),
        placement(
            seg(3),
            0x130_0000,
            0x10_0000,
            PlacementProblem::Range(RangeProblem::NotUsableRam)
        )
    );
    let mut m = mem.clone();
    m.push(MemoryRegion {
        base: 0x110_0000,
        size: 1,
        kind: E820Type::Reserved,
    });
    assert_eq!(
        plan(&m, &[]),
        placement(
            LoadTarget::Span,
            0x100_0000,
            0x40_0000,
            PlacementProblem::Range(RangeProblem::NotUsableRam)
        )
    );
    // Too little RAM.
    let small = [MemoryRegion {
        base: 0,
        size: 0x120_0000,
        kind: E820Type::Ram,
    }];
    assert_eq!(
        plan(&small, &[]),
        placement(
            seg(1),
            0x120_0000,
            0x2000,
            PlacementProblem::Range(RangeProblem::NotUsableRam)
        )
    );
    // Below 1 MiB, and above 4 GiB.
    let low = ElfBuilder::new(0x9_0000)
        .load(0x9_0000, &[1; 16], 0x1000)
        .build();
    let vl = parse(&low).unwrap();
    assert_eq!(
        elf::plan(&vl, &mem, &[]).map(|_| ()),
        placement(seg(0), 0x9_0000, 0x1000, PlacementProblem::BelowOneMib)
    );
    let high = ElfBuilder::new(0xFFFF_F000)
        .load(0xFFFF_F000, &[1; 16], 0x2000)
        .build();
    let vh = parse(&high).unwrap();
    let big = [MemoryRegion {
        base: MIB,
        size: 8 << 30,
        kind: E820Type::Ram,
    }];
    let e = elf::plan(&vh, &big, &[]).map(|_| ());
    assert_eq!(
        e,
        placement(
            seg(0),
            0xFFFF_F000,
            0x2000,
            PlacementProblem::Range(RangeProblem::AboveLimit { limit: 1 << 32 })
        )
    );
    let e = e.unwrap_err();
    assert_eq!(e.class(), ErrorClass::Memory);
    assert_eq!(
        e.to_string(),
        "ELF kernel: the PT_LOAD program header #0 at 0xfffff000..0x100001000 ends above 0x100000000"
    );
    assert_eq!(
        Error::ElfPlacement {
            target: LoadTarget::Span,
            base: 0x100_0000,
            size: 0x40_0000,
            problem: PlacementProblem::Range(RangeProblem::Overlaps {
                other: r(0x128_0000, 0x1000)
            })
        }
        .to_string(),
        "ELF kernel: the kernel span (lowest p_paddr to highest end) at 0x1000000..0x1400000 overlaps 0x1280000..0x1281000"
    );
}

#[test]
fn zero_page_for_elf_byte_by_byte() {
    let f = vmlinux();
    let v = parse(&f).unwrap();
    let mem = ram_256m();
    let p = elf::plan(&v, &mem, &[]).unwrap();
    let mut zp = [0xEEu8; 4096];
    let h = Handoff {
        cmdline: Some(r(0x1_2345_6000, 10)),
        initrd: Some(r(0x2_0000_1000, 0x1_0000_0005)),
        memory_map: &mem,
        acpi_rsdp: Some(0xF_5A10),
    };
    zero_page::build_for_elf(&mut zp, &p, &h).unwrap();
    let mut expect = [0u8; 4096];
    expect[0x070..0x078].copy_from_slice(&0xF_5A10u64.to_le_bytes());
    expect[0x0C0..0x0C4].copy_from_slice(&2u32.to_le_bytes());
    expect[0x0C4..0x0C8].copy_from_slice(&1u32.to_le_bytes());
    expect[0x0C8..0x0CC].copy_from_slice(&1u32.to_le_bytes());
    expect[0x1E8] = 3;
    expect[0x1FE..0x200].copy_from_slice(&[0x55, 0xAA]);
    expect[0x202..0x206].copy_from_slice(b"HdrS");
    expect[0x210] = 0xFF;
    expect[0x218..0x21C].copy_from_slice(&0x1000u32.to_le_bytes());
    expect[0x21C..0x220].copy_from_slice(&5u32.to_le_bytes());
    expect[0x228..0x22C].copy_from_slice(&0x2345_6000u32.to_le_bytes());
    expect[0x238..0x23C].copy_from_slice(&9u32.to_le_bytes());
    for (i, m) in mem.iter().enumerate() {
        let o = 0x2D0 + 20 * i;
        expect[o..o + 8].copy_from_slice(&m.base.to_le_bytes());
        expect[o + 8..o + 16].copy_from_slice(&m.size.to_le_bytes());
        expect[o + 16..o + 20].copy_from_slice(&m.kind.code().to_le_bytes());
    }
    for i in 0..4096 {
        assert_eq!(zp[i], expect[i], "zero page byte {i:#x}");
    }
    // No cmdline, no initrd (an empty one counts as none), no map.
    let h = Handoff {
        cmdline: None,
        initrd: Some(r(0x100_0000, 0)),
        memory_map: &[],
        acpi_rsdp: None,
    };
    zero_page::build_for_elf(&mut zp, &p, &h).unwrap();
    let mut expect = [0u8; 4096];
    expect[0x1FE..0x200].copy_from_slice(&[0x55, 0xAA]);
    expect[0x202..0x206].copy_from_slice(b"HdrS");
    expect[0x210] = 0xFF;
    assert!(zp == expect);
}

#[test]
fn zero_page_for_elf_refusals() {
    let f = vmlinux();
    let v = parse(&f).unwrap();
    let mem = ram_256m();
    let p = elf::plan(&v, &mem, &[]).unwrap();
    let mut zp = [0u8; 4096];
    let ok = Handoff {
        cmdline: Some(r(0x2_0000, 16)),
        initrd: Some(r(100 * MIB, MIB)),
        memory_map: &mem,
        acpi_rsdp: None,
    };
    zero_page::build_for_elf(&mut zp, &p, &ok).unwrap();
    let big = [mem[0]; 129];
    assert_eq!(
        zero_page::build_for_elf(
            &mut zp,
            &p,
            &Handoff {
                memory_map: &big,
                ..ok
            }
        ),
        Err(Error::MemoryMapTooLarge {
            count: 129,
            limit: 128
        })
    );
    let addr = |what, address, problem| {
        Err(Error::BootAddress {
            what,
            address,
            problem,
        })
    };
    // The initrd in the gap between segments 2 and 3 (inside the span).
    assert_eq!(
        zero_page::build_for_elf(
            &mut zp,
            &p,
            &Handoff {
                initrd: Some(r(0x128_0000, 0x1000)),
                ..ok
            }
        ),
        addr(
            BootItem::Initrd,
            0x128_0000,
            AddressProblem::OverlapsKernelWindow
        )
    );
    assert_eq!(
        zero_page::build_for_elf(
            &mut zp,
            &p,
            &Handoff {
                initrd: Some(r(u64::MAX, 2)),
                ..ok
            }
        ),
        addr(BootItem::Initrd, u64::MAX, AddressProblem::Wraps)
    );
    assert_eq!(
        zero_page::build_for_elf(
            &mut zp,
            &p,
            &Handoff {
                cmdline: Some(r(0x13F_FFFF, 2)),
                ..ok
            }
        ),
        addr(
            BootItem::Cmdline,
            0x13F_FFFF,
            AddressProblem::OverlapsKernelWindow
        )
    );
    // Just past the span, and far above 4 GiB: fine (the kernel reads ext_*).
    zero_page::build_for_elf(
        &mut zp,
        &p,
        &Handoff {
            cmdline: Some(r(0x140_0000, 2)),
            initrd: Some(r(0x10_0000_0000, MIB)),
            ..ok
        },
    )
    .unwrap();
    assert_eq!(&zp[0x0C0..0x0C4], &0x10u32.to_le_bytes());
}

#[test]
fn many_notes_and_headers_stay_bounded() {
    // The note walk's worst case: 64 program headers, all PT_NOTE over the
    // same 64 KiB of minimal (12-byte, empty-name) notes, plus one PT_LOAD:
    // 63 × 5461 note steps, no error.
    let notes: Vec<u8> = (0..5461).flat_map(|_| note(b"", 0, b"", 4)).collect();
    assert_eq!(notes.len(), 65532);
    let mut b = ElfBuilder::new(0x100_0000).load(0x100_0000, &[0xCC; 16], 0x1000);
    for _ in 0..63 {
        b = b.notes(&[]);
    }
    let mut f = b.build();
    let at = f.len() as u64;
    f.extend(&notes);
    for i in 1..64 {
        put_u64(&mut f, ph_field(i, ph::OFFSET), at);
        put_u64(&mut f, ph_field(i, ph::FILESZ), notes.len() as u64);
    }
    let v = parse(&f).unwrap();
    assert_eq!((v.loads().len(), v.pvh_entry()), (1, None));
    // Counted, not timed: every header read once, every note stepped once
    // per PT_NOTE (the bound: p_filesz / 12 + 1 each).
    assert_eq!(
        v.work(),
        ElfWork {
            program_headers: 64,
            overlap_checks: 0,
            note_steps: 63 * 5461
        }
    );
    assert!(v.work().note_steps <= 63 * (notes.len() as u64 / 12 + 1));
    // One more header is over the limit.
    let mut g = f.clone();
    put_u16(&mut g, 0x38, 65);
    assert_eq!(unit(parse(&g)), hdr_err(ElfField::PhNum, 65));
    check_elf_chain(&f);
}

#[test]
fn invariants_hold_on_the_builders_images() {
    check_elf_chain(&vmlinux());
    check_elf_chain(&with_notes(&pvh_note(0x100_0000), 4));
    check_elf_chain(&rvf_testkit::build::bzimage());
    check_elf_chain(&[]);
}

proptest! {
    /// Random damage to the Linux-shaped vmlinux: truncation, bit flips and
    /// program-header field overwrites with edge values never panic, and
    /// every `Ok` satisfies the fuzz target's invariants.
    #[test]
    fn damaged_vmlinux_never_panics(
        cut in 0usize..0x4500,
        flips in proptest::collection::vec((0usize..0x4500, 0u8..8), 0..4),
        field in proptest::option::of((0usize..5, 0usize..8, prop_oneof![
            Just(0u64), Just(1), Just(0xFFF), Just(0x1000), Just(0x100_0000),
            Just(u32::MAX as u64), Just(u64::MAX), Just(u64::MAX - 0xFFF),
            Just(KERNEL_MAP), 0u64..0x200_0000,
        ])),
    ) {
        let mut f = vmlinux();
        if let Some((i, k, v)) = field {
            // k 0: p_type, 1: p_flags (u32); 2..8: p_offset .. p_align (u64).
            match k {
                0 => put_u32(&mut f, ph_field(i, ph::TYPE), v as u32),
                1 => put_u32(&mut f, ph_field(i, ph::FLAGS), v as u32),
                _ => put_u64(&mut f, ph_field(i, ph::OFFSET + 8 * (k - 2)), v),
            }
        }
        for (at, bit) in flips {
            if at < f.len() {
                f[at] ^= 1 << bit;
            }
        }
        if cut < f.len() && cut % 3 == 0 {
            f.truncate(cut);
        }
        check_elf_chain(&f);
    }
}

#[test]
fn ruvbot_rvf_around_a_vmlinux_verifies_extracts_and_plans() {
    use rvf_boot::gzip::InflateState;
    use rvf_boot::image::extract;
    use rvf_boot::{Container, Policy};
    let raw = vmlinux();
    let pkg = rvf_testkit::ruvbot::Package::golden(false);
    let rvf = rvf_testkit::ruvbot::write(&rvf_testkit::ruvbot::Inputs::new(&raw, &pkg));
    let c = Container::parse(&rvf, Policy::default()).unwrap();
    c.verify_segments().unwrap();
    let k = c.selected_kernel().unwrap();
    let mut out = vec![0u8; raw.len()];
    let mut state = Box::<InflateState>::default();
    let img = extract(&k, &mut out, &mut state).unwrap();
    assert_eq!(img.bytes(), &raw[..]);
    assert_eq!(KernelFormat::detect(img.bytes()), Some(KernelFormat::Elf));
    // The bzImage parser refuses it with the line users saw (issue 20).
    let e = rvf_boot::bzimage::BzImage::parse(img.bytes()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "bzImage header: boot_flag is 0x0, must be 0xaa55"
    );
    let v = Vmlinux::parse(img.bytes()).unwrap();
    // The loader keeps its stub and the buffer the image lies in.
    let kept = [r(MIB, MIB), r(200 * MIB, raw.len() as u64)];
    let p = elf::plan(&v, &ram_256m(), &kept).unwrap();
    assert_eq!(p.copies().len(), 4);
    assert_eq!(p.source(&p.copies()[0]), &raw[0x1000..0x2000]);
    let mut zp = [0u8; 4096];
    let mem = ram_256m();
    let h = Handoff {
        cmdline: Some(r(0x2_0000, k.cmdline().len() as u64 + 1)),
        initrd: None,
        memory_map: &mem,
        acpi_rsdp: None,
    };
    zero_page::build_for_elf(&mut zp, &p, &h).unwrap();
    assert_eq!(
        u32::from_le_bytes(zp[0x238..0x23C].try_into().unwrap()) as usize,
        k.cmdline().len()
    );
}

/// `testdata/vmlinux.elf`, which the `elf` module's doctest reads (shipped
/// with the crate), is the test kit's vmlinux byte for byte
/// (`RVF_BOOT_REGEN=1` rewrites it).
#[test]
fn the_doctest_vmlinux_is_the_test_kits() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/vmlinux.elf");
    let want = vmlinux();
    if std::env::var_os("RVF_BOOT_REGEN").is_some() {
        std::fs::write(path, &want).unwrap();
    }
    assert!(
        std::fs::read(path).unwrap() == want,
        "{path} differs from rvf_testkit::elf::vmlinux()"
    );
}
