//! rvf-boot-shell: what the two loader shells share, the PVH stub
//! (`qemu/stub`) and the UEFI loader `rvf-boot.efi` (`qemu/uefi`). The
//! firmware-neutral core is the `rvf-boot` library; this crate holds the part
//! of the shells that does not depend on the firmware either:
//!
//! - [`policy`]: the boot policy, fixed when the loader is built
//!   (`RVF_BOOT_TRUSTED_KEYS`, `RVF_BOOT_PIN_KERNEL_SHA256`,
//!   `RVF_BOOT_PIN_CMDLINE_SHA256`, read by `build.rs`), so one environment
//!   gives both loaders the same policy;
//! - [`report`]: the `rvf-boot:` log lines both print, word for word;
//! - [`rt`]: the C runtime symbols (`memcpy`, `memmove`, `memset`, `memcmp`,
//!   `bcmp`, `rust_eh_personality`) that code compiled for the
//!   `x86_64-unknown-linux-gnu` target calls and that neither loader gets
//!   from a libc.
//!
//! It counts as shell code: it may hold `unsafe` (only [`rt`] does), each
//! block with a `// SAFETY:` proof, under the stub's lint wall. Everything
//! that decides whether a file boots stays in the library.
#![no_std]
#![deny(
    unsafe_op_in_unsafe_fn,
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unreachable,
    clippy::todo,
    clippy::unimplemented
)]

pub mod policy;
pub mod report;
pub mod rt;

pub use policy::{is_strict, policy};
