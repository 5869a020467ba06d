//! What the loaders read from firmware and the TPM before they measure
//! (src/measure.rs): the firmware's TCG event log (`log_end`, and our events
//! appended where `log_append_offset` says), TPM response headers and
//! responses, the RSDP, ACPI table headers, RSDT/XSDT entries and the TPM2
//! table's log area. Invariants in `invariants::check_measure_inputs`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rvf_boot_fuzz::invariants::check_measure_inputs(data);
});
