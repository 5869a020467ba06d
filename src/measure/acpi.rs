//! The ACPI tables that locate the firmware's event log: the RSDP, the
//! RSDT/XSDT and the TPM2 table ([`tpm2_log_area`]).

use super::error::{AcpiProblem, MeasureError};
use crate::bytes::{le_u32, le_u64};

/// Bytes of an ACPI system description table header.
pub const ACPI_HEADER_LEN: usize = 36;
/// Bytes of an ACPI 2.0+ RSDP (a revision 0 RSDP has the first 20).
pub const RSDP_LEN: usize = 36;
/// Largest RSDT/XSDT or TPM2 table [`sdt_length`] accepts.
pub const ACPI_TABLE_MAX: usize = 4096;
/// Bytes of a TPM2 table with the log area fields (table revision 4+).
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) const TPM2_TABLE_LEN: usize = 76;

/// Whether `bytes` sum to 0 mod 256 (the ACPI checksum rule).
#[must_use]
pub fn acpi_checksum_ok(bytes: &[u8]) -> bool {
    bytes.iter().fold(0u8, |a, &b| a.wrapping_add(b)) == 0
}

/// The root table of an RSDP: `(address, true)` for the XSDT (revision 2+
/// with a non-zero XSDT address), `(address, false)` for the RSDT.
///
/// # Errors
/// [`MeasureError::AcpiTable`] (signature `RSD ` ...) for a wrong signature
/// or checksum.
pub fn rsdp_root(rsdp: &[u8; RSDP_LEN]) -> Result<(u64, bool), MeasureError> {
    let bad = |what| MeasureError::AcpiTable {
        signature: *b"RSDP",
        what,
    };
    if rsdp.get(..8) != Some(b"RSD PTR ".as_slice()) {
        return Err(bad(AcpiProblem::NoRsdpSignature));
    }
    if !acpi_checksum_ok(rsdp.get(..20).unwrap_or(&[])) {
        return Err(bad(AcpiProblem::Checksum));
    }
    let revision = rsdp.get(15).copied().unwrap_or(0);
    let xsdt = le_u64(rsdp, 24).unwrap_or(0);
    if revision >= 2 && xsdt != 0 {
        if !acpi_checksum_ok(rsdp) {
            return Err(bad(AcpiProblem::ExtendedChecksum));
        }
        return Ok((xsdt, true));
    }
    Ok((u64::from(le_u32(rsdp, 16).unwrap_or(0)), false))
}

/// The signature and checked length of the table whose header is `header`:
/// `ACPI_HEADER_LEN <= length <= ACPI_TABLE_MAX`.
///
/// # Errors
/// [`MeasureError::AcpiTable`].
pub fn sdt_length(header: &[u8; ACPI_HEADER_LEN]) -> Result<([u8; 4], usize), MeasureError> {
    let [a, b, c, d, ..] = *header;
    let signature = [a, b, c, d];
    let len = le_u32(header, 4)
        .and_then(|l| usize::try_from(l).ok())
        .unwrap_or(0);
    if !(ACPI_HEADER_LEN..=ACPI_TABLE_MAX).contains(&len) {
        return Err(MeasureError::AcpiTable {
            signature,
            what: AcpiProblem::ImpossibleLength,
        });
    }
    Ok((signature, len))
}

/// The table addresses an RSDT (`xsdt == false`, 4-byte entries) or XSDT
/// (8-byte entries) lists, after checking its checksum; `table` is the
/// whole table (its header's length).
///
/// # Errors
/// [`MeasureError::AcpiTable`].
pub fn sdt_entries(
    table: &[u8],
    xsdt: bool,
) -> Result<impl Iterator<Item = u64> + '_, MeasureError> {
    let signature: [u8; 4] = table
        .get(..4)
        .and_then(|s| s.try_into().ok())
        .unwrap_or([0; 4]);
    let want = if xsdt { b"XSDT" } else { b"RSDT" };
    if &signature != want {
        return Err(MeasureError::AcpiTable {
            signature,
            what: AcpiProblem::NotRootTable,
        });
    }
    if !acpi_checksum_ok(table) {
        return Err(MeasureError::AcpiTable {
            signature,
            what: AcpiProblem::Checksum,
        });
    }
    let width = if xsdt { 8 } else { 4 };
    Ok(table
        .get(ACPI_HEADER_LEN..)
        .unwrap_or(&[])
        .chunks_exact(width)
        .map(|e| {
            e.iter()
                .rev()
                .fold(0u64, |a, &b| a.wrapping_shl(8) | u64::from(b))
        }))
}

/// The event log area of a TPM2 ACPI table (`table` is the whole table):
/// `(LASA, LAML)`, the log's physical address and length, from the table
/// revision 4 layout (TCG ACPI Specification: LAML at byte 64, LASA at 68).
///
/// # Errors
/// [`MeasureError::AcpiTable`] for a wrong signature or checksum, a table
/// too short to carry the log area, or an empty area.
pub fn tpm2_log_area(table: &[u8]) -> Result<(u64, u32), MeasureError> {
    let bad = |what| MeasureError::AcpiTable {
        signature: *b"TPM2",
        what,
    };
    if table.get(..4) != Some(b"TPM2".as_slice()) {
        return Err(bad(AcpiProblem::OtherSignature));
    }
    if !acpi_checksum_ok(table) {
        return Err(bad(AcpiProblem::Checksum));
    }
    let (Some(laml), Some(lasa)) = (le_u32(table, 64), le_u64(table, 68)) else {
        return Err(bad(AcpiProblem::NoLogArea));
    };
    if laml == 0 || lasa == 0 {
        return Err(bad(AcpiProblem::EmptyLogArea));
    }
    Ok((lasa, laml))
}
