//! rvf-testkit: what the rvf-boot tests need to make RVF bytes without the
//! library under test and without node.
//!
//! - [`ruvbot`]: the RuvBot-dialect writer (`build-rvf.js` in Rust), proven
//!   byte-identical to the committed golden files it wrote
//!   (`host-tests/tests/ruvbot_writer.rs`).
//! - [`build`]: segments, manifests, kernel payloads and a minimal bzImage.
//! - [`elf`]: ELF64 vmlinux images (program headers, notes).
//! - [`mutate`]: damaged copies for the refusal tests.
//! - [`le`]: little-endian field readers.
//!
//! The `rvf-testkit` binary exposes the writer and the mutations to the QEMU
//! scripts and benches (`rvf-testkit --help`).

pub mod build;
pub mod elf;
pub mod le;
pub mod mutate;
pub mod ruvbot;
