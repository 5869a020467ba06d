//! rvf-boot: a `no_std`, zero-allocation, never-panicking reader that walks an
//! RVF (RuVector Format) file, verifies its hashes, extracts the Linux kernel it
//! carries into a caller-supplied buffer and prepares the x86_64 boot.
//!
//! The data flows one way, each stage borrowing from the one before:
//!
//! ```text
//! &[u8] ─ segment::Walk ─ Container::parse(file, Policy) ─ kernel::KernelSegment
//!       ─ image::extract ─ image::VerifiedImage ─ bzimage::BzImage ─ plan::BootPlan ─ zero_page
//! ```
//!
//! The [`Policy`] is given once, to [`Container::parse`]; the kernels a
//! container hands out carry it on to [`image::extract`]. The boot side shares
//! one memory vocabulary ([`memory`]: address ranges, the e820 map, limits, the
//! usable-RAM predicate) with every loader shell.
//!
//! # Example
//!
//! Verify a file and inflate its kernel (a golden file from the repository;
//! on a loader, `file` is the RVF in memory and `out` a reserved region):
//!
//! ```rust
//! use rvf_boot::gzip::InflateState;
//! use rvf_boot::image::{buffer_size, extract};
//! use rvf_boot::{Container, Policy};
//!
//! let file = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/small.rvf"));
//! let rvf = Container::parse(file, Policy::default())?; // walk, newest manifest, directory checks
//! let kernel = rvf.selected_kernel()?; // first KERNEL_SEG listed, its content hash checked
//! let mut out = vec![0u8; usize::try_from(buffer_size(&kernel))?]; // image_size (bounded) for gzip, 0 for raw
//! let mut state = InflateState::new(); // InflateState::SIZE bytes (about 11 KiB), yours to place
//! let image = extract(&kernel, &mut out, &mut state)?; // VerifiedImage: gzip CRC/ISIZE, size, image_hash checked
//! assert_eq!(u64::try_from(image.bytes().len())?, kernel.image_size());
//! let cmdline: &[u8] = kernel.cmdline(); // borrowed from the file, checked by cmdline::write at boot
//! assert!(!cmdline.is_empty());
//! Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! * `sha2-asm`: SHA-256 through sha2's assembly where the CPU has no SHA-NI.
//! * `ruvbot`: the RuvBot bundle reader ([`bundle`]'s `WasmSegment`,
//!   `VerifiedBundle`, `Bundle`); on for the CLI, off for a firmware that only
//!   boots.
//! * `testing`: the work counters and the pieces the host tests and the fuzz
//!   targets take apart (`Container::parse_counting`,
//!   `image::extract_joined_counting`, `segment::Work`, the image hashers, ...);
//!   not for loaders.
//!
//! Byte layouts follow `docs/format.md` (the project's format reference); section
//! numbers (§) in doc comments refer to it.
#![no_std]
#![forbid(unsafe_code)]
// The no-panic wall (zerocopy's lint block, as errors). Tests may relax it.
#![deny(
    missing_docs,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::unreachable,
    clippy::todo,
    clippy::unimplemented,
    clippy::as_conversions,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap,
    clippy::missing_panics_doc,
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block,
    clippy::std_instead_of_core,
    clippy::alloc_instead_of_core,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::dbg_macro,
    clippy::wildcard_imports,
    unreachable_pub,
    missing_debug_implementations,
    rustdoc::broken_intra_doc_links
)]
#![cfg_attr(
    test,
    allow(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::as_conversions,
        clippy::cast_possible_truncation,
        clippy::missing_const_for_fn
    )
)]

// Tests (only) use std; the library itself is no_std and links neither std nor alloc.
#[rustfmt::skip] #[cfg(test)] extern crate std;

/// `Display` for a field or problem enum: its `name()`, the phrase used in
/// messages (one definition for every such enum in the crate).
macro_rules! display_by_name {
    ($t:ty) => {
        impl core::fmt::Display for $t {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

/// An item public with the `testing` feature and crate-internal without:
/// what the host tests and the fuzz targets use as an oracle or take apart
/// (the hashers, the one-segment checks, format constants), which a loader
/// does not need. The item is written once, as `pub`.
macro_rules! testing_pub {
    ($(#[$m:meta])* pub $kind:ident $($rest:tt)*) => {
        $(#[$m])*
        #[cfg(feature = "testing")]
        pub $kind $($rest)*

        $(#[$m])*
        #[cfg(not(feature = "testing"))]
        #[allow(unreachable_pub, dead_code)]
        pub(crate) $kind $($rest)*
    };
}

pub mod boot;
pub mod bundle;
mod bytes;
pub mod bzimage;
pub mod checksum;
pub mod cmdline;
pub mod container;
pub mod dialect;
pub mod elf;
pub mod error;
pub mod gzip;
pub mod image;
pub mod image_hash;
pub mod joined;
pub mod kernel;
pub mod manifest;
pub mod measure;
pub mod memory;
pub mod plan;
pub mod policy;
pub mod root_page;
pub mod segment;
mod signing;
pub mod zero_page;

// The vocabulary of a boot, by name at the crate root (as gimli-rs/object's
// `read`): parse, select, extract, authenticate, measure, hand over. The
// modules keep the detail (field enums, constants, the engine and scheduler
// traits' parts).
pub use bzimage::BzImage;
pub use checksum::{ContentHash, HashCheck};
pub use container::Container;
pub use error::{Error, ErrorClass, Result};
pub use gzip::{InflateState, Inflater};
pub use image::{VerifiedImage, authenticate, buffer_size, extract, extract_joined, extract_with};
pub use joined::{Join, Sequential};
pub use kernel::KernelSegment;
pub use measure::{BootInputs, EventLog, MeasureError, boot_events};
pub use memory::{E820Type, MemoryRegion, PhysRange};
pub use plan::BootPlan;
pub use policy::{Authenticated, Policy, Signed};
pub use segment::{Segment, Walk};
pub use zero_page::Handoff;
