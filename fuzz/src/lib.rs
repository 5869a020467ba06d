//! Shared invariant checks for the rvf-boot fuzz targets (see
//! `src/invariants.rs`, also used by `host-tests/tests/properties.rs`).

pub mod elf_invariants;
pub mod invariants;
