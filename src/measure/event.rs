//! The events of one boot and the PCR values they produce: the digests
//! ([`sha256`], [`extend`], [`manifest_digest`], [`kernel_sha256`]), the
//! fixed-capacity [`EventLog`] and its `TCG_PCR_EVENT2` serialisation, and
//! [`boot_events`], the list every loader extends and logs.

use super::error::MeasureError;
use crate::bytes::{range, u64_from};
use crate::container::Container;
use crate::image::VerifiedImage;
use crate::segment::SEGMENT_HEADER_SIZE;
use sha2::{Digest as _, Sha256};

/// A SHA-256 digest or PCR value.
pub type Digest = [u8; 32];

/// PCR for strings (the kernel command line).
pub const PCR_STRINGS: u32 = 8;
/// PCR for content (the RVF manifest, the kernel image, the initrd).
pub const PCR_CONTENT: u32 = 9;
/// TCG event type `EV_IPL`.
pub const EV_IPL: u32 = 0x0000_000D;
/// TPM 2.0 algorithm id of SHA-256 (`TPM_ALG_SHA256`).
pub(crate) const TPM_ALG_SHA256: u16 = 0x000B;
/// Bytes of an entry before its event data: PCR index, type, digest count,
/// algorithm id, digest, event size.
pub(crate) const EVENT_HEADER_LEN: usize = 4 + 4 + 4 + 2 + 32 + 4;
/// Capacity of an [`EventLog`]: the four events of [`boot_events`].
pub const MAX_EVENTS: usize = 4;

/// Event data of the manifest event (a NUL follows).
pub const MANIFEST_DATA: &[u8] = b"rvf-boot: RVF manifest";
/// Event data of the kernel image event (a NUL follows).
pub const KERNEL_DATA: &[u8] = b"rvf-boot: kernel image";
/// Event data of the initrd event (a NUL follows).
pub const INITRD_DATA: &[u8] = b"rvf-boot: initrd";
/// Event data of the command-line event: this prefix, the command line, a NUL.
pub const CMDLINE_PREFIX: &[u8] = b"kernel_cmdline: ";

/// SHA-256 of `bytes`.
#[must_use]
pub fn sha256(bytes: &[u8]) -> Digest {
    Sha256::digest(bytes).into()
}

/// One PCR extend: `SHA-256(pcr || digest)`.
#[must_use]
pub fn extend(pcr: &Digest, digest: &Digest) -> Digest {
    let mut h = Sha256::new();
    h.update(pcr);
    h.update(digest);
    h.finalize().into()
}

/// SHA-256 of the winning MANIFEST_SEG exactly as stored: its 64-byte header
/// then its `payload_length` bytes of payload (no padding). One pass over
/// the manifest only.
///
/// # Errors
/// [`MeasureError::ManifestOutsideFile`], which a parsed container never
/// gives.
pub fn manifest_digest(container: &Container<'_>) -> Result<Digest, MeasureError> {
    let (seg, _) = container.manifest_segment();
    let len = SEGMENT_HEADER_SIZE.saturating_add(u64_from(seg.payload.len()));
    range(container.file(), seg.offset, len)
        .map(sha256)
        .ok_or(MeasureError::ManifestOutsideFile { offset: seg.offset })
}

/// The verified image's SHA-256 without hashing it again: verification
/// computed it in its single pass over the image, whatever the `image_hash`
/// algorithm ([`VerifiedImage::sha256`]).
#[must_use]
pub const fn kernel_sha256(image: &VerifiedImage<'_>) -> Digest {
    image.sha256()
}

/// One `TCG_PCR_EVENT2` entry with a SHA-256 digest. Its event data is a
/// fixed label, then borrowed text, then one NUL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event<'a> {
    pcr: u32,
    event_type: u32,
    digest: Digest,
    label: &'static [u8],
    text: &'a [u8],
}

impl<'a> Event<'a> {
    /// An event extending `pcr` with `digest`, its data `label || text || NUL`.
    #[must_use]
    pub const fn new(
        pcr: u32,
        event_type: u32,
        digest: Digest,
        label: &'static [u8],
        text: &'a [u8],
    ) -> Self {
        Self {
            pcr,
            event_type,
            digest,
            label,
            text,
        }
    }

    /// The PCR it extends.
    #[must_use]
    pub const fn pcr(&self) -> u32 {
        self.pcr
    }

    /// The TCG event type.
    #[must_use]
    pub const fn event_type(&self) -> u32 {
        self.event_type
    }

    /// The SHA-256 digest extended into the PCR.
    #[must_use]
    pub const fn digest(&self) -> &Digest {
        &self.digest
    }

    /// The event data in its three parts: label, text, the NUL.
    #[must_use]
    pub fn data_parts(&self) -> [&'a [u8]; 3] {
        [self.label, self.text, b"\0"]
    }

    /// Length of the event data (label, text and NUL), saturating.
    #[must_use]
    pub fn data_len(&self) -> usize {
        self.label
            .len()
            .saturating_add(self.text.len())
            .saturating_add(1)
    }

    /// Length of the serialised entry, saturating.
    #[must_use]
    pub fn encoded_len(&self) -> usize {
        EVENT_HEADER_LEN.saturating_add(self.data_len())
    }
}

/// A fixed-capacity list of events, in log order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventLog<'a> {
    events: [Event<'a>; MAX_EVENTS],
    len: usize,
}

impl Default for EventLog<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> EventLog<'a> {
    /// An empty log.
    #[must_use]
    pub const fn new() -> Self {
        const EMPTY: Event<'static> = Event::new(0, 0, [0; 32], b"", b"");
        Self {
            events: [EMPTY; MAX_EVENTS],
            len: 0,
        }
    }

    /// Appends `event`.
    ///
    /// # Errors
    /// [`MeasureError::LogFull`] when it holds [`MAX_EVENTS`] already.
    pub fn push(&mut self, event: Event<'a>) -> Result<(), MeasureError> {
        let slot = self.events.get_mut(self.len).ok_or(MeasureError::LogFull {
            capacity: MAX_EVENTS,
        })?;
        *slot = event;
        self.len = self.len.saturating_add(1);
        Ok(())
    }

    /// The events, in log order.
    #[must_use]
    pub fn events(&self) -> &[Event<'a>] {
        self.events.get(..self.len).unwrap_or(&[])
    }

    /// The value of PCR `index` after extending, from 32 zero bytes, every
    /// event of this log for that PCR, in order.
    #[must_use]
    pub fn pcr(&self, index: u32) -> Digest {
        self.events()
            .iter()
            .filter(|e| e.pcr == index)
            .fold([0; 32], |pcr, e| extend(&pcr, &e.digest))
    }

    /// Bytes [`EventLog::write`] needs.
    ///
    /// # Errors
    /// [`MeasureError::EventTooLarge`] for data a `u32` cannot size.
    pub fn encoded_len(&self) -> Result<usize, MeasureError> {
        let mut total = 0usize;
        for (i, e) in self.events().iter().enumerate() {
            event_size(i, e)?;
            total = total.saturating_add(e.encoded_len());
        }
        Ok(total)
    }

    /// Writes every event as a `TCG_PCR_EVENT2` entry, back to back, into
    /// `buf`; returns the bytes written. Nothing is written on error.
    ///
    /// # Errors
    /// [`MeasureError::EventTooLarge`]; [`MeasureError::BufferTooSmall`] when
    /// `buf` is shorter than [`EventLog::encoded_len`].
    pub fn write(&self, buf: &mut [u8]) -> Result<usize, MeasureError> {
        let needed = self.encoded_len()?;
        let available = u64_from(buf.len());
        let out = buf.get_mut(..needed).ok_or(MeasureError::BufferTooSmall {
            needed: u64_from(needed),
            available,
        })?;
        let mut bytes = out.iter_mut();
        for (i, e) in self.events().iter().enumerate() {
            let size = event_size(i, e)?;
            let fields: [&[u8]; 6] = [
                &e.pcr.to_le_bytes(),
                &e.event_type.to_le_bytes(),
                &1u32.to_le_bytes(),
                &TPM_ALG_SHA256.to_le_bytes(),
                &e.digest,
                &size.to_le_bytes(),
            ];
            for src in fields.iter().chain(&e.data_parts()) {
                // `src` first: zip stops on it without taking a byte of `out`.
                for (&s, d) in src.iter().zip(bytes.by_ref()) {
                    *d = s;
                }
            }
        }
        Ok(needed)
    }
}

/// The `EventSize` field of event `i`.
fn event_size(i: usize, e: &Event<'_>) -> Result<u32, MeasureError> {
    u32::try_from(e.data_len()).map_err(|_| MeasureError::EventTooLarge {
        event: i,
        length: u64_from(e.data_len()),
    })
}

/// What one boot measures (see the module docs for the meaning of each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootInputs<'a> {
    /// [`manifest_digest`] of the container.
    pub manifest: Digest,
    /// SHA-256 of the verified, uncompressed kernel image ([`kernel_sha256`]).
    pub kernel_image: Digest,
    /// SHA-256 of the initrd, `None` when there is none (an empty initrd is
    /// none: the stub loads nothing for it).
    pub initrd: Option<Digest>,
    /// The final command line as [`crate::cmdline::write`] wrote
    /// it, without the NUL.
    pub cmdline: &'a [u8],
}

/// The events of one boot, in log order: manifest, kernel image, initrd
/// (if any) into PCR 9, then the command line into PCR 8.
///
/// # Errors
/// [`MeasureError::CmdlineNul`] when the command line holds a NUL (the
/// builder never produces one).
pub fn boot_events<'a>(inputs: &BootInputs<'a>) -> Result<EventLog<'a>, MeasureError> {
    if let Some(at) = inputs.cmdline.iter().position(|&b| b == 0) {
        return Err(MeasureError::CmdlineNul { at: u64_from(at) });
    }
    let mut log = EventLog::new();
    let content = |digest, label| Event::new(PCR_CONTENT, EV_IPL, digest, label, b"");
    log.push(content(inputs.manifest, MANIFEST_DATA))?;
    log.push(content(inputs.kernel_image, KERNEL_DATA))?;
    if let Some(d) = inputs.initrd {
        log.push(content(d, INITRD_DATA))?;
    }
    log.push(Event::new(
        PCR_STRINGS,
        EV_IPL,
        sha256(inputs.cmdline),
        CMDLINE_PREFIX,
        inputs.cmdline,
    ))?;
    Ok(log)
}
