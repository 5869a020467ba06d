//! What an ELF vmlinux's checks name when they fail: the file-header
//! field, the program-header and note problems, the placement target and
//! problem ([`crate::Error::ElfHeader`], [`crate::Error::ElfSegment`], [`crate::Error::ElfNote`],
//! [`crate::Error::ElfPlacement`]).

use core::fmt;

use crate::memory::RangeProblem;

/// The file-header field (or derived quantity) a [`crate::Error::ElfHeader`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ElfField {
    /// `e_ident[0..4]`, the magic (value: the four bytes as a little-endian u32).
    Magic,
    /// `e_ident[EI_CLASS]`.
    Class,
    /// `e_ident[EI_DATA]`.
    Data,
    /// `e_ident[EI_VERSION]`.
    IdentVersion,
    /// `e_ident[EI_OSABI]`.
    OsAbi,
    /// `e_ident[EI_ABIVERSION]`.
    AbiVersion,
    /// `e_type`.
    Type,
    /// `e_machine`.
    Machine,
    /// `e_version`.
    Version,
    /// `e_flags`.
    Flags,
    /// `e_ehsize`.
    EhSize,
    /// `e_phentsize`.
    PhEntSize,
    /// `e_phnum`.
    PhNum,
    /// `e_phoff`: the program-header table must lie inside the image.
    PhOff,
    /// The number of `PT_LOAD` segments (at least one).
    Loads,
    /// `e_entry`: inside a `PT_LOAD`'s file-backed part.
    Entry,
}

impl ElfField {
    /// The field's name, as in messages.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Magic => "e_ident magic",
            Self::Class => "EI_CLASS",
            Self::Data => "EI_DATA",
            Self::IdentVersion => "EI_VERSION",
            Self::OsAbi => "EI_OSABI",
            Self::AbiVersion => "EI_ABIVERSION",
            Self::Type => "e_type",
            Self::Machine => "e_machine",
            Self::Version => "e_version",
            Self::Flags => "e_flags",
            Self::EhSize => "e_ehsize",
            Self::PhEntSize => "e_phentsize",
            Self::PhNum => "e_phnum",
            Self::PhOff => "e_phoff",
            Self::Loads => "the number of PT_LOAD segments",
            Self::Entry => "e_entry",
        }
    }

    /// What the field must be, completing "must be ...".
    #[must_use]
    pub const fn requirement(self) -> &'static str {
        match self {
            Self::Magic => "7f 45 4c 46 (\"\\x7fELF\")",
            Self::Class => "2 (ELFCLASS64)",
            Self::Data => "1 (ELFDATA2LSB, little-endian)",
            Self::IdentVersion | Self::Version => "1 (EV_CURRENT)",
            Self::OsAbi => "0 (System V) or 3 (GNU/Linux)",
            Self::AbiVersion => "0",
            Self::Type => "2 (ET_EXEC, an executable)",
            Self::Machine => "62 (EM_X86_64)",
            Self::Flags => "0 (x86-64 defines no flags)",
            Self::EhSize => "64 (the ELF64 file header)",
            Self::PhEntSize => "56 (the ELF64 program header)",
            Self::PhNum => "between 1 and 64 (the reader's limit)",
            Self::PhOff => "such that the program-header table lies inside the image",
            Self::Loads => "at least 1",
            Self::Entry => "inside the file-backed part of a PT_LOAD (a physical address)",
        }
    }
}

display_by_name!(ElfField);

/// What is wrong with a program header ([`crate::Error::ElfSegment`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SegmentProblem {
    /// `p_type` is not one this loader knows.
    UnknownType {
        /// The `p_type` found.
        p_type: u32,
    },
    /// A `PT_LOAD`'s `p_flags` has bits other than `PF_X`, `PF_W`, `PF_R`.
    Flags {
        /// The `p_flags` found.
        p_flags: u32,
    },
    /// `[p_offset, p_offset + p_filesz)` runs past the image (or wraps).
    OutsideImage {
        /// `p_offset`.
        p_offset: u64,
        /// `p_filesz`.
        p_filesz: u64,
        /// The image size.
        image_size: u64,
    },
    /// `p_filesz > p_memsz`.
    FileSizeOverMemSize {
        /// `p_filesz`.
        p_filesz: u64,
        /// `p_memsz`.
        p_memsz: u64,
    },
    /// `p_align` is neither 0 nor a power of two.
    Align {
        /// `p_align`.
        p_align: u64,
    },
    /// `p_offset` and `p_vaddr` differ modulo `p_align`.
    AlignMismatch {
        /// `p_align`.
        p_align: u64,
    },
    /// `p_paddr + p_memsz` (or `p_vaddr + p_memsz`) wraps around the address space.
    Wraps {
        /// The address that wraps (`p_paddr` or `p_vaddr`).
        address: u64,
        /// `p_memsz`.
        p_memsz: u64,
    },
    /// Its physical range overlaps an earlier `PT_LOAD`'s.
    Overlaps {
        /// The earlier `PT_LOAD`'s program-header index.
        other: u16,
    },
    /// More `PT_LOAD`s than [`super::MAX_LOADS`].
    TooManyLoads {
        /// The limit.
        limit: u16,
    },
    /// A `PT_NOTE`'s `p_align` is not 0, 1, 4 or 8.
    NoteAlign {
        /// `p_align`.
        p_align: u64,
    },
}

impl fmt::Display for SegmentProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::UnknownType { p_type } => write!(
                f,
                "p_type {p_type:#x} is none of PT_NULL, PT_LOAD, PT_NOTE, PT_GNU_STACK, PT_GNU_PROPERTY"
            ),
            Self::Flags { p_flags } => write!(
                f,
                "p_flags {p_flags:#x} has bits other than PF_X, PF_W, PF_R"
            ),
            Self::OutsideImage {
                p_offset,
                p_filesz,
                image_size,
            } => write!(
                f,
                "p_offset {p_offset:#x} + p_filesz {p_filesz:#x} runs past the {image_size}-byte image"
            ),
            Self::FileSizeOverMemSize { p_filesz, p_memsz } => write!(
                f,
                "p_filesz {p_filesz:#x} is more than p_memsz {p_memsz:#x}"
            ),
            Self::Align { p_align } => {
                write!(f, "p_align {p_align:#x} is neither 0 nor a power of two")
            }
            Self::AlignMismatch { p_align } => {
                write!(f, "p_offset and p_vaddr differ modulo p_align {p_align:#x}")
            }
            Self::Wraps { address, p_memsz } => write!(
                f,
                "{address:#x} + p_memsz {p_memsz:#x} wraps around the address space"
            ),
            Self::Overlaps { other } => write!(
                f,
                "its physical range overlaps that of PT_LOAD program header #{other}"
            ),
            Self::TooManyLoads { limit } => {
                write!(f, "more than {limit} PT_LOAD segments (the reader's limit)")
            }
            Self::NoteAlign { p_align } => {
                write!(f, "PT_NOTE p_align {p_align:#x} is not 0, 1, 4 or 8")
            }
        }
    }
}

/// What is wrong with a note ([`crate::Error::ElfNote`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoteProblem {
    /// The note's header, name or descriptor runs past the end of its `PT_NOTE`.
    Truncated {
        /// Bytes the note needs from its start.
        needed: u64,
        /// Bytes left in the segment from its start.
        available: u64,
    },
    /// A PVH entry note whose descriptor is not 4 or 8 bytes.
    DescSize {
        /// `n_descsz`.
        n_descsz: u32,
    },
    /// A PVH entry at or above 4 GiB (it is a 32-bit entry).
    AboveFourGib {
        /// The entry.
        entry: u64,
    },
    /// A second PVH entry note.
    Duplicate,
    /// The PVH entry lies outside every `PT_LOAD`'s file-backed part.
    EntryOutsideLoads {
        /// The entry.
        entry: u64,
    },
}

impl fmt::Display for NoteProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Truncated { needed, available } => write!(
                f,
                "needs {needed} bytes, only {available} remain in its PT_NOTE"
            ),
            Self::DescSize { n_descsz } => write!(
                f,
                "the PVH entry (Xen note type 18) has a {n_descsz}-byte descriptor, not 4 or 8"
            ),
            Self::AboveFourGib { entry } => {
                write!(f, "the PVH entry {entry:#x} is not a 32-bit address")
            }
            Self::Duplicate => f.write_str("a second PVH entry note (Xen note type 18)"),
            Self::EntryOutsideLoads { entry } => write!(
                f,
                "the PVH entry {entry:#x} is outside the file-backed part of every PT_LOAD"
            ),
        }
    }
}

/// What a placement error is about ([`crate::Error::ElfPlacement`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoadTarget {
    /// One `PT_LOAD`'s target `[p_paddr, p_paddr + p_memsz)`.
    Segment {
        /// Its program-header index.
        index: u16,
    },
    /// The kernel's span, from the lowest `p_paddr` to the highest end.
    Span,
}

impl fmt::Display for LoadTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Segment { index } => write!(f, "PT_LOAD program header #{index}"),
            Self::Span => f.write_str("kernel span (lowest p_paddr to highest end)"),
        }
    }
}

/// Why a target range cannot be used ([`crate::Error::ElfPlacement`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlacementProblem {
    /// It starts below 1 MiB (the lowest address a kernel may load at).
    BelowOneMib,
    /// [`crate::memory::check_range`] refused it (empty, wraps, above 4 GiB, not
    /// usable RAM, overlaps a kept range).
    Range(RangeProblem),
}

impl fmt::Display for PlacementProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::BelowOneMib => f.write_str("starts below 1 MiB"),
            Self::Range(p) => p.fmt(f),
        }
    }
}
