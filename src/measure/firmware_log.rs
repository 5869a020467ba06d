//! The firmware's TCG PC Client crypto-agile event log: where it ends
//! ([`log_end`]) and where a boot's events go after it
//! ([`log_append_offset`]).

use super::error::{LogProblem, MeasureError};
use super::event::{EventLog, TPM_ALG_SHA256};
use crate::bytes::{le_u16, le_u32, u64_from};

/// TCG event type `EV_NO_ACTION` (the Spec ID event's type).
pub(crate) const EV_NO_ACTION: u32 = 0x0000_0003;
/// Signature of the crypto-agile log's Spec ID event (TCG PC Client PFP).
pub(crate) const SPEC_ID_SIGNATURE: &[u8; 16] = b"Spec ID Event03\0";
/// Most algorithms a Spec ID event may declare for [`log_end`] (TPM 2.0
/// defines about ten hash algorithms).
pub(crate) const MAX_LOG_ALGORITHMS: usize = 16;
/// Bytes of the legacy `TCG_PCClientPCREvent` header before its data: PCR
/// index, type, SHA-1 digest, event size.
const LEGACY_HEADER_LEN: usize = 4 + 4 + 20 + 4;

/// Offset of the end of a TCG PC Client crypto-agile event log held in
/// `area` (the whole log area the firmware reserved, ACPI TPM2 `LASA`,
/// `LAML` bytes): where the next entry goes.
///
/// The first entry is the legacy-format Spec ID event (`EV_NO_ACTION`,
/// signature `Spec ID Event03`), which declares the algorithms and digest
/// sizes; then `TCG_PCR_EVENT2` entries, each walked with those sizes. The
/// log ends at the first all-zero entry (type 0 and event size 0: the
/// unused, zero-filled rest of the area, as Linux reads it), or where
/// fewer bytes than an entry header remain. Work: one step per entry, each
/// at least 16 bytes, so at most `area.len() / 16` steps.
///
/// # Errors
/// [`MeasureError::LogMalformed`] naming the offset and the problem (no
/// Spec ID event, an entry running past the area, an algorithm the Spec ID
/// event did not declare, more digests than declared algorithms);
/// [`MeasureError::LogNoSha256`] when SHA-256 (32 bytes) is not declared;
/// [`MeasureError::LogOtherBanks`] when other banks are declared too (each
/// entry must carry every declared bank's digest: the TCG PC Client
/// profile says so and Linux stops reading at an entry that does not).
pub fn log_end(area: &[u8]) -> Result<usize, MeasureError> {
    let bad = |at: usize, what| MeasureError::LogMalformed {
        at: u64_from(at),
        what,
    };
    let u32_at = |at: usize| le_u32(area, u64_from(at));
    // ---- the Spec ID event (legacy TCG_PCClientPCREvent)
    let (Some(kind), Some(size)) = (u32_at(4), u32_at(28)) else {
        return Err(bad(0, LogProblem::NoSpecIdEvent));
    };
    if kind != EV_NO_ACTION {
        return Err(bad(0, LogProblem::FirstNotSpecId));
    }
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    let data = area
        .get(LEGACY_HEADER_LEN..)
        .and_then(|d| d.get(..size))
        .ok_or(bad(0, LogProblem::SpecIdPastArea))?;
    if data.get(..16) != Some(SPEC_ID_SIGNATURE.as_slice()) {
        return Err(bad(LEGACY_HEADER_LEN, LogProblem::NoSpecIdSignature));
    }
    // signature 16, platformClass 4, versions + uintnSize 4, count 4
    let count = le_u32(data, 24).ok_or(bad(LEGACY_HEADER_LEN, LogProblem::SpecIdTooShort))?;
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    if count == 0 || count > MAX_LOG_ALGORITHMS {
        return Err(bad(
            LEGACY_HEADER_LEN.saturating_add(24),
            LogProblem::AlgorithmCount,
        ));
    }
    let mut algs = [(0u16, 0u16); MAX_LOG_ALGORITHMS];
    for (i, slot) in algs.iter_mut().take(count).enumerate() {
        let off = 28u64.saturating_add(4u64.saturating_mul(u64_from(i)));
        let (Some(id), Some(len)) = (le_u16(data, off), le_u16(data, off.saturating_add(2))) else {
            return Err(bad(LEGACY_HEADER_LEN, LogProblem::SpecIdTooShort));
        };
        *slot = (id, len);
    }
    let algs = algs.get(..count).unwrap_or(&[]);
    if !algs.contains(&(TPM_ALG_SHA256, 32)) {
        return Err(MeasureError::LogNoSha256);
    }
    if count != 1 {
        return Err(MeasureError::LogOtherBanks {
            banks: u32::try_from(count).unwrap_or(u32::MAX),
        });
    }
    // ---- TCG_PCR_EVENT2 entries
    let mut at = LEGACY_HEADER_LEN.saturating_add(size);
    loop {
        let Some(rest) = area.get(at..) else {
            return Err(bad(at, LogProblem::EntryPastArea));
        };
        // PCR index, type, digest count, (no digests), event size.
        if rest.len() < 16 {
            return Ok(at);
        }
        let (Some(kind), Some(digests)) = (le_u32(rest, 4), le_u32(rest, 8)) else {
            return Ok(at);
        };
        let digests = usize::try_from(digests).unwrap_or(usize::MAX);
        if digests > count {
            return Err(bad(at, LogProblem::TooManyDigests));
        }
        let mut off = 12usize;
        for _ in 0..digests {
            let id = le_u16(rest, u64_from(off)).ok_or(bad(at, LogProblem::EntryPastArea))?;
            let len = algs
                .iter()
                .find(|&&(a, _)| a == id)
                .map(|&(_, l)| usize::from(l))
                .ok_or(bad(at, LogProblem::UndeclaredAlgorithm))?;
            off = off.saturating_add(2).saturating_add(len);
        }
        let data_len = le_u32(rest, u64_from(off)).ok_or(bad(at, LogProblem::EntryPastArea))?;
        if kind == 0 && data_len == 0 {
            // The zero-filled rest of the area.
            return Ok(at);
        }
        let total = off
            .saturating_add(4)
            .saturating_add(usize::try_from(data_len).unwrap_or(usize::MAX));
        if total > rest.len() {
            return Err(bad(at, LogProblem::EntryPastArea));
        }
        at = at.saturating_add(total);
    }
}

/// Where `log` goes in a firmware log area: checks the area
/// ([`log_end`]) and that the serialised events fit after its last entry,
/// and returns that offset. Nothing is written: a loader checks this before
/// it extends any PCR, so a log it cannot complete never leaves PCRs
/// without their events.
///
/// # Errors
/// As [`log_end`]; [`MeasureError::LogAreaFull`]; [`MeasureError::EventTooLarge`].
pub fn log_append_offset(area: &[u8], log: &EventLog<'_>) -> Result<usize, MeasureError> {
    let end = log_end(area)?;
    let needed = log.encoded_len()?;
    let available = area.len().saturating_sub(end);
    if needed > available {
        return Err(MeasureError::LogAreaFull {
            needed: u64_from(needed),
            available: u64_from(available),
        });
    }
    Ok(end)
}
