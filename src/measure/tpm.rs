//! The TPM 2.0 commands a loader sends and the responses it checks:
//! `TPM2_PCR_Extend` ([`pcr_extend_command`]), response headers
//! ([`response_size`]) and whole responses ([`check_response`]).

use super::error::MeasureError;
use super::event::{Digest, TPM_ALG_SHA256};
use crate::bytes::u64_from;

/// `TPM_ST_NO_SESSIONS`.
pub(crate) const TPM_ST_NO_SESSIONS: u16 = 0x8001;
/// `TPM_ST_SESSIONS`.
pub(crate) const TPM_ST_SESSIONS: u16 = 0x8002;
/// `TPM_CC_PCR_Extend`.
pub const TPM_CC_PCR_EXTEND: u32 = 0x0000_0182;
/// `TPM_RS_PW`: the password session (empty password: PCR 0-15 need no
/// authorisation value by default).
pub(crate) const TPM_RS_PW: u32 = 0x4000_0009;
/// Bytes of a TPM 2.0 command or response header (tag, size, code).
pub const TPM_HEADER_LEN: usize = 10;
/// Bytes of the [`pcr_extend_command`].
pub const PCR_EXTEND_LEN: usize = TPM_HEADER_LEN + 4 + 4 + 9 + 4 + 2 + 32;
/// Largest response a loader accepts (its fixed buffer); `PCR_Extend`
/// answers 19 bytes, an error 10.
pub const TPM_RESPONSE_MAX: usize = 256;

/// `TPM2_PCR_Extend` of PCR `pcr` with one SHA-256 `digest`, in the
/// password session with an empty password (TPM 2.0 Part 3 §22.2).
#[must_use]
pub fn pcr_extend_command(pcr: u32, digest: &Digest) -> [u8; PCR_EXTEND_LEN] {
    let size = u32::try_from(PCR_EXTEND_LEN).unwrap_or(0);
    let fields: [&[u8]; 12] = [
        &TPM_ST_SESSIONS.to_be_bytes(),
        &size.to_be_bytes(),
        &TPM_CC_PCR_EXTEND.to_be_bytes(),
        &pcr.to_be_bytes(),
        &9u32.to_be_bytes(), // authorizationSize
        &TPM_RS_PW.to_be_bytes(),
        &0u16.to_be_bytes(), // nonce: empty
        &[0],                // sessionAttributes
        &0u16.to_be_bytes(), // hmac (password): empty
        &1u32.to_be_bytes(), // TPML_DIGEST_VALUES.count
        &TPM_ALG_SHA256.to_be_bytes(),
        digest,
    ];
    let mut out = [0u8; PCR_EXTEND_LEN];
    let mut bytes = out.iter_mut();
    for src in fields {
        for (&s, d) in src.iter().zip(bytes.by_ref()) {
            *d = s;
        }
    }
    out
}

/// The total size a response header announces, after checking it: a known
/// tag and `TPM_HEADER_LEN <= size <= TPM_RESPONSE_MAX`. `header` is the
/// first [`TPM_HEADER_LEN`] bytes the TPM gave.
///
/// # Errors
/// [`MeasureError::TpmResponseHeader`].
pub fn response_size(header: &[u8; TPM_HEADER_LEN]) -> Result<usize, MeasureError> {
    let [t0, t1, s0, s1, s2, s3, ..] = *header;
    let tag = u16::from_be_bytes([t0, t1]);
    let size = u32::from_be_bytes([s0, s1, s2, s3]);
    let n = usize::try_from(size).unwrap_or(usize::MAX);
    if !matches!(tag, TPM_ST_NO_SESSIONS | TPM_ST_SESSIONS)
        || !(TPM_HEADER_LEN..=TPM_RESPONSE_MAX).contains(&n)
    {
        return Err(MeasureError::TpmResponseHeader { tag, size });
    }
    Ok(n)
}

/// Checks a complete response to `command` (the bytes the TPM gave): header
/// ([`response_size`]), size field equal to the length, response code 0,
/// and, for success, the sessions tag (the command had a session).
///
/// # Errors
/// [`MeasureError::TpmResponseHeader`], [`MeasureError::TpmResponseLength`],
/// [`MeasureError::TpmResponseCode`].
pub fn check_response(command: u32, response: &[u8]) -> Result<(), MeasureError> {
    let header: &[u8; TPM_HEADER_LEN] = response
        .get(..TPM_HEADER_LEN)
        .and_then(|h| h.try_into().ok())
        .ok_or(MeasureError::TpmResponseLength {
            declared: 0,
            got: u64_from(response.len()),
        })?;
    let n = response_size(header)?;
    if n != response.len() {
        return Err(MeasureError::TpmResponseLength {
            declared: u32::try_from(n).unwrap_or(u32::MAX),
            got: u64_from(response.len()),
        });
    }
    let [t0, t1, _, _, _, _, c0, c1, c2, c3] = *header;
    let code = u32::from_be_bytes([c0, c1, c2, c3]);
    if code != 0 {
        return Err(MeasureError::TpmResponseCode { command, code });
    }
    let tag = u16::from_be_bytes([t0, t1]);
    if tag != TPM_ST_SESSIONS {
        return Err(MeasureError::TpmResponseHeader {
            tag,
            size: u32::try_from(n).unwrap_or(u32::MAX),
        });
    }
    Ok(())
}
