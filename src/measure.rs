//! Measured boot (issue 11): the TCG event log of one boot and the PCR
//! values it produces, computed without hardware, without heap, without a
//! second pass over the kernel.
//!
//! The library does not talk to a TPM. It builds the events a loader extends
//! and logs ([`boot_events`]), folds them into PCR values ([`EventLog::pcr`]),
//! and serialises them as TCG PC Client crypto-agile entries
//! ([`EventLog::write`]). The stub extends the same digests into the TPM and
//! appends the same bytes to the firmware's log; `rvf-boot measure` prints
//! them offline. Both call [`boot_events`] with the same inputs, so the
//! prediction is the boot.
//!
//! # What is measured, where, in which order
//!
//! The Linux-loader convention (GRUB, shim, Limine): strings into PCR 8,
//! content into PCR 9, SHA-256 bank only. In log order:
//!
//! | # | PCR | type | digest (SHA-256 of) | event data (ASCII, NUL-terminated) |
//! |---|---|---|---|---|
//! | 1 | 9 | `EV_IPL` | the winning MANIFEST_SEG as stored: its 64-byte header then its payload ([`manifest_digest`]) | `rvf-boot: RVF manifest` |
//! | 2 | 9 | `EV_IPL` | the verified, uncompressed kernel image (an input: see [`kernel_sha256`]) | `rvf-boot: kernel image` |
//! | 3 | 9 | `EV_IPL` | the initrd as loaded (an input; no event without an initrd, or for an empty one) | `rvf-boot: initrd` |
//! | 4 | 8 | `EV_IPL` | the final kernel command line without its NUL | `kernel_cmdline: ` + the command line |
//!
//! * **The command line** is exactly what [`crate::cmdline::write`]
//!   wrote (the RVF's cmdline, one space, the loader's extra arguments), the
//!   bytes the kernel reads, *without* the terminating NUL. GRUB measures its
//!   `kernel_cmdline` the same way (digest of the string without NUL, event
//!   data `kernel_cmdline: <string>` with NUL), and systemd measures command
//!   lines without trailing NULs too; `tpm2_eventlog` recomputes exactly this
//!   digest for `EV_IPL` events on PCR 8 (the text after the first space, NUL
//!   excluded) and so verifies the event from the log alone.
//! * **RVF identity: the winning manifest**, not the root page. Every valid
//!   file has exactly one winning manifest (the root page exists only in
//!   signed stores), it names every segment of this version of the file (its
//!   directory, epoch and segment hashes), and a root page, when present,
//!   commits to it (offset, length, id and SHAKE-256-128 of its payload):
//!   measuring the manifest identifies signed and unsigned files alike, and a
//!   verifier holding a signed root page can tie it to the measured manifest.
//!   The root page itself carries a signature, which is not identity. The
//!   manifest is small (bounded by its directory), so hashing it costs little.
//! * **The kernel image's SHA-256 is an input**: verification computes it
//!   in its single pass over the image, whatever the `image_hash` algorithm
//!   (see [`kernel_sha256`]); measuring adds no pass over the kernel.
//! * **Event type `EV_IPL` (0x0D) for every event.** It is what GRUB and shim
//!   use for PCR 8 and 9, the type Linux-side tools expect there:
//!   `tpm2_eventlog` verifies PCR 8 `EV_IPL` events from their data and
//!   accepts PCR 9 `EV_IPL` events as content measurements, and prints the
//!   data as text. `EV_EVENT_TAG` (which systemd uses for new measurements)
//!   would need a registered tag id and is shown by those tools as opaque
//!   bytes.
//! * **Deterministic**: event data carries no address, no size, no time, no
//!   path; the same file, extra arguments and initrd always give the same log,
//!   byte for byte, and the same PCR values.
//!
//! PCR values assume the PCRs start at 32 zero bytes and that nothing else
//! extends PCR 8 or 9 before the loader (true under SeaBIOS; UEFI firmware
//! may measure into them too, and then only the events, not the values, are
//! predicted).
//!
//! # Entry format (`TCG_PCR_EVENT2`, little-endian)
//!
//! ```text
//! u32 PCRIndex | u32 EventType | u32 DigestCount = 1 | u16 AlgorithmId = 0x000B
//! | [u8; 32] SHA-256 digest | u32 EventSize | EventSize bytes of event data
//! ```
//!
//! [`EVENT_HEADER_LEN`] (50) bytes plus the data. A log holds at most
//! [`MAX_EVENTS`] (4) events; nothing is allocated.

use crate::bytes::{le_u16, le_u32, le_u64, range, u64_from};
use crate::container::Container;
use crate::image::VerifiedImage;
use crate::segment::SEGMENT_HEADER_SIZE;
use core::fmt;
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
pub const TPM_ALG_SHA256: u16 = 0x000B;
/// Bytes of an entry before its event data: PCR index, type, digest count,
/// algorithm id, digest, event size.
pub const EVENT_HEADER_LEN: usize = 4 + 4 + 4 + 2 + 32 + 4;
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

/// Why no event list or no log bytes were produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MeasureError {
    /// [`EventLog::push`] on a full log.
    LogFull {
        /// [`MAX_EVENTS`].
        capacity: usize,
    },
    /// The caller's buffer cannot hold the serialised log; nothing was written.
    BufferTooSmall {
        /// Bytes the log needs.
        needed: u64,
        /// Bytes the buffer has.
        available: u64,
    },
    /// An event's data is longer than its `u32` size field can say.
    EventTooLarge {
        /// Position of the event in the log.
        event: usize,
        /// Its data length.
        length: u64,
    },
    /// The command line holds a NUL byte: the kernel would stop reading
    /// there, and the event data would be cut.
    CmdlineNul {
        /// Offset of the NUL in the command line.
        at: u64,
    },
    /// The winning manifest's bytes are not inside [`Container::file`]
    /// (cannot happen for a parsed container).
    ManifestOutsideFile {
        /// Header offset of the MANIFEST_SEG.
        offset: u64,
    },
    /// The firmware's event log is not a crypto-agile TCG log this module
    /// can walk ([`log_end`]).
    LogMalformed {
        /// Offset in the log area of the entry (or field) at fault.
        at: u64,
        /// What is wrong.
        what: &'static str,
    },
    /// The firmware's log does not declare the SHA-256 bank with 32-byte
    /// digests: entries carrying only a SHA-256 digest would not parse.
    LogNoSha256,
    /// The firmware's log declares other PCR banks besides SHA-256: every
    /// entry must then carry a digest for each (Linux stops reading the log
    /// at an entry that does not), and those banks would stay unextended.
    /// rvf-boot computes SHA-256 only (in verification's pass).
    LogOtherBanks {
        /// Banks the Spec ID event declares.
        banks: u32,
    },
    /// The log area has no room left for the events.
    LogAreaFull {
        /// Bytes the events need.
        needed: u64,
        /// Bytes left after the log's last entry.
        available: u64,
    },
    /// A TPM response whose header cannot be right: an unknown tag, or a
    /// size below the 10-byte header or above [`TPM_RESPONSE_MAX`].
    TpmResponseHeader {
        /// The response's tag.
        tag: u16,
        /// Its size field.
        size: u32,
    },
    /// A TPM response whose size field disagrees with the bytes it gave.
    TpmResponseLength {
        /// The size field.
        declared: u32,
        /// Bytes actually read.
        got: u64,
    },
    /// The TPM answered a command with an error response code.
    TpmResponseCode {
        /// The command code.
        command: u32,
        /// The TPM's `responseCode`.
        code: u32,
    },
    /// An ACPI table that fails its checks (signature, length, checksum).
    AcpiTable {
        /// The table's signature as found.
        signature: [u8; 4],
        /// What is wrong.
        what: &'static str,
    },
}

impl fmt::Display for MeasureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::LogFull { capacity } => {
                write!(
                    f,
                    "measured boot: the event log is full ({capacity} events)"
                )
            }
            Self::BufferTooSmall { needed, available } => write!(
                f,
                "measured boot: the event log needs {needed} bytes, the buffer has {available}"
            ),
            Self::EventTooLarge { event, length } => write!(
                f,
                "measured boot: event {event} has {length} bytes of data, more than a u32 size field holds"
            ),
            Self::CmdlineNul { at } => write!(
                f,
                "measured boot: the kernel command line has a NUL byte at offset {at}"
            ),
            Self::ManifestOutsideFile { offset } => write!(
                f,
                "measured boot: the MANIFEST_SEG at byte {offset} is not inside the file"
            ),
            Self::LogMalformed { at, what } => write!(
                f,
                "measured boot: the firmware's TCG event log is malformed at byte {at}: {what}"
            ),
            Self::LogNoSha256 => {
                f.write_str("measured boot: the firmware's TCG event log has no SHA-256 bank")
            }
            Self::LogOtherBanks { banks } => write!(
                f,
                "measured boot: the TPM has {banks} PCR banks active; rvf-boot extends and logs the SHA-256 bank only (activate only SHA-256, e.g. swtpm_setup --pcr-banks sha256)"
            ),
            Self::LogAreaFull { needed, available } => write!(
                f,
                "measured boot: the firmware's TCG event log area has {available} bytes left, the events need {needed}"
            ),
            Self::TpmResponseHeader { tag, size } => write!(
                f,
                "TPM: malformed response header (tag {tag:#06x}, size {size})"
            ),
            Self::TpmResponseLength { declared, got } => {
                write!(f, "TPM: response says {declared} bytes, the TPM gave {got}")
            }
            Self::TpmResponseCode { command, code } => write!(
                f,
                "TPM: command {command:#x} failed with response code {code:#x}"
            ),
            Self::AcpiTable { signature, what } => {
                f.write_str("measured boot: ACPI table \"")?;
                for &b in &signature {
                    let c = if b.is_ascii_graphic() || b == b' ' {
                        char::from(b)
                    } else {
                        '?'
                    };
                    write!(f, "{c}")?;
                }
                write!(f, "\" {what}")
            }
        }
    }
}

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

// ---------------------------------------------------------------- firmware log

/// TCG event type `EV_NO_ACTION` (the Spec ID event's type).
pub const EV_NO_ACTION: u32 = 0x0000_0003;
/// Signature of the crypto-agile log's Spec ID event (TCG PC Client PFP).
pub const SPEC_ID_SIGNATURE: &[u8; 16] = b"Spec ID Event03\0";
/// Most algorithms a Spec ID event may declare for [`log_end`] (TPM 2.0
/// defines about ten hash algorithms).
pub const MAX_LOG_ALGORITHMS: usize = 16;
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
        return Err(bad(0, "no Spec ID event"));
    };
    if kind != EV_NO_ACTION {
        return Err(bad(0, "the first event is not a Spec ID event"));
    }
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    let data = area
        .get(LEGACY_HEADER_LEN..)
        .and_then(|d| d.get(..size))
        .ok_or(bad(0, "the Spec ID event runs past the log area"))?;
    if data.get(..16) != Some(SPEC_ID_SIGNATURE.as_slice()) {
        return Err(bad(LEGACY_HEADER_LEN, "no \"Spec ID Event03\" signature"));
    }
    // signature 16, platformClass 4, versions + uintnSize 4, count 4
    let count = le_u32(data, 24).ok_or(bad(LEGACY_HEADER_LEN, "Spec ID event too short"))?;
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    if count == 0 || count > MAX_LOG_ALGORITHMS {
        return Err(bad(
            LEGACY_HEADER_LEN.saturating_add(24),
            "the Spec ID event declares no or too many algorithms",
        ));
    }
    let mut algs = [(0u16, 0u16); MAX_LOG_ALGORITHMS];
    for (i, slot) in algs.iter_mut().take(count).enumerate() {
        let off = 28u64.saturating_add(4u64.saturating_mul(u64_from(i)));
        let (Some(id), Some(len)) = (le_u16(data, off), le_u16(data, off.saturating_add(2))) else {
            return Err(bad(LEGACY_HEADER_LEN, "Spec ID event too short"));
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
            return Err(bad(at, "entry past the log area"));
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
            return Err(bad(at, "more digests than the Spec ID event declares"));
        }
        let mut off = 12usize;
        for _ in 0..digests {
            let id = le_u16(rest, u64_from(off)).ok_or(bad(at, "entry past the log area"))?;
            let len = algs
                .iter()
                .find(|&&(a, _)| a == id)
                .map(|&(_, l)| usize::from(l))
                .ok_or(bad(
                    at,
                    "digest of an algorithm the Spec ID event does not declare",
                ))?;
            off = off.saturating_add(2).saturating_add(len);
        }
        let data_len = le_u32(rest, u64_from(off)).ok_or(bad(at, "entry past the log area"))?;
        if kind == 0 && data_len == 0 {
            // The zero-filled rest of the area.
            return Ok(at);
        }
        let total = off
            .saturating_add(4)
            .saturating_add(usize::try_from(data_len).unwrap_or(usize::MAX));
        if total > rest.len() {
            return Err(bad(at, "entry past the log area"));
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

// ---------------------------------------------------------------- TPM 2.0 commands

/// `TPM_ST_NO_SESSIONS`.
pub const TPM_ST_NO_SESSIONS: u16 = 0x8001;
/// `TPM_ST_SESSIONS`.
pub const TPM_ST_SESSIONS: u16 = 0x8002;
/// `TPM_CC_PCR_Extend`.
pub const TPM_CC_PCR_EXTEND: u32 = 0x0000_0182;
/// `TPM_RS_PW`: the password session (empty password: PCR 0-15 need no
/// authorisation value by default).
pub const TPM_RS_PW: u32 = 0x4000_0009;
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

// ---------------------------------------------------------------- ACPI

/// Bytes of an ACPI system description table header.
pub const ACPI_HEADER_LEN: usize = 36;
/// Bytes of an ACPI 2.0+ RSDP (a revision 0 RSDP has the first 20).
pub const RSDP_LEN: usize = 36;
/// Largest RSDT/XSDT or TPM2 table [`sdt_length`] accepts.
pub const ACPI_TABLE_MAX: usize = 4096;
/// Bytes of a TPM2 table with the log area fields (table revision 4+).
pub const TPM2_TABLE_LEN: usize = 76;

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
        return Err(bad("has no \"RSD PTR \" signature"));
    }
    if !acpi_checksum_ok(rsdp.get(..20).unwrap_or(&[])) {
        return Err(bad("fails its checksum"));
    }
    let revision = rsdp.get(15).copied().unwrap_or(0);
    let xsdt = le_u64(rsdp, 24).unwrap_or(0);
    if revision >= 2 && xsdt != 0 {
        if !acpi_checksum_ok(rsdp) {
            return Err(bad("fails its extended checksum"));
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
            what: "has an impossible length",
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
            what: "is not the root table the RSDP names",
        });
    }
    if !acpi_checksum_ok(table) {
        return Err(MeasureError::AcpiTable {
            signature,
            what: "fails its checksum",
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
        return Err(bad("has another signature"));
    }
    if !acpi_checksum_ok(table) {
        return Err(bad("fails its checksum"));
    }
    let (Some(laml), Some(lasa)) = (le_u32(table, 64), le_u64(table, 68)) else {
        return Err(bad("has no event log area (shorter than 76 bytes)"));
    };
    if laml == 0 || lasa == 0 {
        return Err(bad("describes no event log area"));
    }
    Ok((lasa, laml))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString as _;
    use std::vec::Vec;

    fn unhex(s: &str) -> Digest {
        let v: Vec<u8> = (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect();
        v.try_into().unwrap()
    }

    /// SHA-256 over an explicitly written concatenation, with sha2's own
    /// one-shot API (not through this module).
    fn h(parts: &[&[u8]]) -> Digest {
        let all: Vec<u8> = parts.concat();
        Sha256::digest(&all).into()
    }

    fn inputs(initrd: bool, cmdline: &[u8]) -> BootInputs<'_> {
        BootInputs {
            manifest: h(&[b"manifest"]),
            kernel_image: h(&[b"kernel"]),
            initrd: initrd.then(|| h(&[b"initrd"])),
            cmdline,
        }
    }

    #[test]
    fn extend_known_answers() {
        // Computed with Python's hashlib: sha256(bytes(32) + sha256(b"abc")).
        assert_eq!(
            extend(&[0; 32], &sha256(b"abc")),
            unhex("589f9ffed4c477966bfb8d41f37895b08c69047df8f911d6f3b57fbe08faee8d")
        );
        let d = h(&[b"x"]);
        let p = [7u8; 32];
        assert_eq!(extend(&p, &d), h(&[&p, &d]));
    }

    #[test]
    fn boot_pcrs_known_answers() {
        // Python hashlib: fold of sha256(b"manifest"), sha256(b"kernel"),
        // sha256(b"initrd") into PCR 9; sha256(b"console=ttyS0") into PCR 8.
        let log = boot_events(&inputs(true, b"console=ttyS0")).unwrap();
        assert_eq!(
            log.pcr(9),
            unhex("f3898bb37c734b1feddd85343adba94c667099608f2101a44fec68e650d52fa8")
        );
        assert_eq!(
            log.pcr(8),
            unhex("bbe217b39b278e40dedc042037694bc2a513d9648088146a50b7c2d9c7c6c491")
        );
        let log = boot_events(&inputs(false, b"console=ttyS0")).unwrap();
        assert_eq!(
            log.pcr(9),
            unhex("5ae5a2ccce81b31e10c3f4abb89d1e1ba611e517f4d8d4e31f03f4001e1efaca")
        );
        // Untouched PCRs stay zero.
        assert_eq!(log.pcr(0), [0; 32]);
    }

    #[test]
    fn boot_pcrs_equal_an_independent_fold() {
        let cmd = b"console=ttyS0 quiet root=/dev/vda";
        let inp = inputs(true, cmd);
        let log = boot_events(&inp).unwrap();
        let z = [0u8; 32];
        let p9 = h(&[&z, &inp.manifest]);
        let p9 = h(&[&p9, &inp.kernel_image]);
        let p9 = h(&[&p9, &inp.initrd.unwrap()]);
        assert_eq!(log.pcr(9), p9);
        assert_eq!(log.pcr(8), h(&[&z, &h(&[cmd])]));
        // A different command line: PCR 8 changes, PCR 9 does not.
        let other = boot_events(&inputs(true, b"console=ttyS0 quiet root=/dev/vdb")).unwrap();
        assert_ne!(other.pcr(8), log.pcr(8));
        assert_eq!(other.pcr(9), log.pcr(9));
    }

    #[test]
    fn boot_event_order_types_and_data() {
        let log = boot_events(&inputs(true, b"a b")).unwrap();
        let got: Vec<(u32, u32, Vec<u8>)> = log
            .events()
            .iter()
            .map(|e| (e.pcr(), e.event_type(), e.data_parts().concat()))
            .collect();
        assert_eq!(
            got,
            [
                (9, 0xD, b"rvf-boot: RVF manifest\0".to_vec()),
                (9, 0xD, b"rvf-boot: kernel image\0".to_vec()),
                (9, 0xD, b"rvf-boot: initrd\0".to_vec()),
                (8, 0xD, b"kernel_cmdline: a b\0".to_vec()),
            ]
        );
        assert_eq!(log.events()[3].digest(), &h(&[b"a b"]));
        assert_eq!(boot_events(&inputs(false, b"")).unwrap().events().len(), 3);
    }

    #[test]
    fn serialised_bytes_are_exact() {
        let digest: Digest = core::array::from_fn(|i| i as u8);
        let mut log = EventLog::new();
        log.push(Event::new(8, EV_IPL, digest, b"ab: ", b"c"))
            .unwrap();
        let mut expected: Vec<u8> = Vec::new();
        expected.extend_from_slice(&[8, 0, 0, 0]); // PCR index
        expected.extend_from_slice(&[0x0D, 0, 0, 0]); // EV_IPL
        expected.extend_from_slice(&[1, 0, 0, 0]); // one digest
        expected.extend_from_slice(&[0x0B, 0x00]); // TPM_ALG_SHA256
        expected.extend_from_slice(&digest);
        expected.extend_from_slice(&[6, 0, 0, 0]); // "ab: c" + NUL
        expected.extend_from_slice(b"ab: c\0");
        assert_eq!(log.encoded_len(), Ok(56));
        let mut buf = [0xAAu8; 60];
        assert_eq!(log.write(&mut buf), Ok(56));
        assert_eq!(&buf[..56], &expected[..]);
        assert_eq!(&buf[56..], &[0xAA; 4], "nothing past the entry");
    }

    #[test]
    fn whole_boot_log_bytes_parse_back() {
        let log = boot_events(&inputs(true, b"console=ttyS0")).unwrap();
        let len = log.encoded_len().unwrap();
        assert_eq!(
            len,
            4 * 50 + 23 + 23 + 17 + (16 + 13 + 1),
            "header + data of each event"
        );
        let mut buf = std::vec![0u8; len];
        assert_eq!(log.write(&mut buf), Ok(len));
        // An independent parser.
        let mut at = 0;
        let u32_at = |b: &[u8], o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
        for e in log.events() {
            assert_eq!(u32_at(&buf, at), e.pcr());
            assert_eq!(u32_at(&buf, at + 4), 0xD);
            assert_eq!(u32_at(&buf, at + 8), 1);
            assert_eq!(&buf[at + 12..at + 14], &[0x0B, 0x00]);
            assert_eq!(&buf[at + 14..at + 46], e.digest());
            let size = u32_at(&buf, at + 46) as usize;
            assert_eq!(&buf[at + 50..at + 50 + size], &e.data_parts().concat()[..]);
            at += 50 + size;
        }
        assert_eq!(at, len);
    }

    #[test]
    fn too_small_buffer_is_refused_untouched() {
        let log = boot_events(&inputs(false, b"x")).unwrap();
        let len = log.encoded_len().unwrap();
        let mut buf = std::vec![0x55u8; len - 1];
        assert_eq!(
            log.write(&mut buf),
            Err(MeasureError::BufferTooSmall {
                needed: len as u64,
                available: len as u64 - 1
            })
        );
        assert!(buf.iter().all(|&b| b == 0x55));
        assert_eq!(
            EventLog::new().write(&mut []),
            Ok(0),
            "an empty log needs no room"
        );
    }

    #[test]
    fn full_log_and_nul_are_refused() {
        let mut log = boot_events(&inputs(true, b"x")).unwrap();
        assert_eq!(
            log.push(Event::new(8, EV_IPL, [0; 32], b"", b"")),
            Err(MeasureError::LogFull { capacity: 4 })
        );
        assert_eq!(log.events().len(), 4);
        assert_eq!(
            boot_events(&inputs(true, b"ab\0c")),
            Err(MeasureError::CmdlineNul { at: 2 })
        );
        assert_eq!(
            MeasureError::CmdlineNul { at: 2 }.to_string(),
            "measured boot: the kernel command line has a NUL byte at offset 2"
        );
    }

    #[test]
    fn manifest_and_kernel_digests_of_a_golden_file() {
        use crate::Policy;
        use crate::gzip::InflateState;
        use crate::image::extract;
        let file: &[u8] = include_bytes!("../host-tests/golden/ruvbot/small.rvf");
        let c = Container::parse(file, Policy::default()).unwrap();
        // The winning MANIFEST_SEG is the file's last 215 bytes (header at
        // 18684, 151-byte payload); digest from Python's hashlib.
        assert_eq!(file.len(), 18_899);
        let want = unhex("157261a66ef9df1d7329149e85017dd2fb50e374130c98f7533dc3a395a96928");
        assert_eq!(h(&[&file[18_684..]]), want);
        assert_eq!(manifest_digest(&c), Ok(want));
        let k = c.selected_kernel().unwrap();
        let mut out = std::vec![0u8; 16_384];
        let mut state = InflateState::new();
        let v = extract(&k, &mut out, &mut state).unwrap();
        let sha = kernel_sha256(&v);
        assert_eq!(
            sha,
            unhex("9a654047f2421af741410746e8ffffa420791946c575e0089c2bfd840b309302")
        );
        assert_eq!(sha, h(&[v.bytes()]));
    }

    #[test]
    fn kernel_digest_of_every_golden_layout_is_its_sha256() {
        use crate::Policy;
        use crate::gzip::InflateState;
        use crate::image::extract;
        use crate::image_hash::{ImageHash, ImageHashCheck};
        let files: [&[u8]; 3] = [
            include_bytes!("../host-tests/golden/runtime-05/embed-kernel.rvf"),
            include_bytes!("../host-tests/golden/runtime-05/embed-kernel-binding.rvf"),
            include_bytes!("../host-tests/golden/real-bzimage/testkernel.rvf"),
        ];
        for file in files {
            let c = Container::parse(file, Policy::default()).unwrap();
            let k = c.selected_kernel().unwrap();
            let mut out = std::vec![0u8; crate::image::buffer_size(&k) as usize];
            let mut state = std::boxed::Box::new(InflateState::new());
            let v = extract(&k, &mut out, &mut state).unwrap();
            assert_eq!(kernel_sha256(&v), h(&[v.bytes()]));
            // The measurement never turns into an image_hash verdict.
            if v.image_hash() == ImageHashCheck::Verified(ImageHash::Sha256) {
                assert_eq!(k.layout(), crate::kernel::KernelLayout::RuvBot);
            }
        }
    }

    #[test]
    fn same_inputs_same_log() {
        let a = boot_events(&inputs(true, b"q")).unwrap();
        let b = boot_events(&inputs(true, b"q")).unwrap();
        assert_eq!(a, b);
        let (mut x, mut y) = ([0u8; 400], [1u8; 400]);
        let n = a.write(&mut x).unwrap();
        assert_eq!(b.write(&mut y), Ok(n));
        assert_eq!(x[..n], y[..n]);
    }

    // ------------------------------------------------ firmware log, TPM, ACPI

    /// A SeaBIOS-style log: the Spec ID event declaring `algs` (id, digest
    /// size), then `n` TCG_PCR_EVENT2 entries carrying a digest for each;
    /// returns the bytes and where each entry starts.
    fn firmware_log_with(n: usize, algs: &[(u16, u16)]) -> (Vec<u8>, Vec<usize>) {
        let mut spec = Vec::new();
        spec.extend_from_slice(b"Spec ID Event03\0");
        spec.extend_from_slice(&0u32.to_le_bytes()); // platformClass
        spec.extend_from_slice(&[0, 2, 0, 2]); // minor, major, errata, uintnSize
        spec.extend_from_slice(&(algs.len() as u32).to_le_bytes());
        for &(id, len) in algs {
            spec.extend_from_slice(&id.to_le_bytes());
            spec.extend_from_slice(&len.to_le_bytes());
        }
        spec.push(0); // vendorInfoSize
        let mut log = Vec::new();
        log.extend_from_slice(&0u32.to_le_bytes());
        log.extend_from_slice(&3u32.to_le_bytes()); // EV_NO_ACTION
        log.extend_from_slice(&[0; 20]);
        log.extend_from_slice(&(spec.len() as u32).to_le_bytes());
        log.extend_from_slice(&spec);
        let mut starts = Vec::new();
        for i in 0..n {
            starts.push(log.len());
            log.extend_from_slice(&(i as u32).to_le_bytes()); // PCR
            log.extend_from_slice(&8u32.to_le_bytes()); // EV_S_CRTM_VERSION
            log.extend_from_slice(&(algs.len() as u32).to_le_bytes());
            for &(id, len) in algs {
                log.extend_from_slice(&id.to_le_bytes());
                log.extend(core::iter::repeat_n(0x11, usize::from(len)));
            }
            let data = std::format!("event {i}");
            log.extend_from_slice(&(data.len() as u32).to_le_bytes());
            log.extend_from_slice(data.as_bytes());
        }
        (log, starts)
    }

    /// A SeaBIOS log of a TPM with only the SHA-256 bank active.
    fn firmware_log(n: usize) -> (Vec<u8>, Vec<usize>) {
        firmware_log_with(n, &[(0x000B, 32)])
    }

    #[test]
    fn log_end_of_a_firmware_log() {
        let (mut log, starts) = firmware_log(3);
        // Spec ID event: 32-byte header + 16+4+4+4+4+1 = 33 bytes of data.
        assert_eq!(starts[0], 32 + 33);
        // Each entry: 12 + (2+32) + 4 + 7 = 57 bytes.
        assert_eq!(starts[1] - starts[0], 57);
        let end = log.len();
        assert_eq!(end, 65 + 3 * 57);
        // Exactly full, and with a zero-filled rest.
        assert_eq!(log_end(&log), Ok(end));
        log.resize(end + 1000, 0);
        assert_eq!(log_end(&log), Ok(end));
        // Our events go there, and parse with the log's own sizes.
        let ours = boot_events(&inputs(true, b"console=ttyS0")).unwrap();
        assert_eq!(log_append_offset(&log, &ours), Ok(end));
        let n = ours.write(&mut log[end..]).unwrap();
        assert_eq!(log_end(&log), Ok(end + n));
        // Fewer than an entry header's bytes left: the end.
        let (log, _) = firmware_log(1);
        let mut short = log.clone();
        short.extend_from_slice(&[0; 15]);
        assert_eq!(log_end(&short), Ok(log.len()));
    }

    #[test]
    fn log_append_needs_room() {
        let (mut log, _) = firmware_log(2);
        let end = log.len();
        let ours = boot_events(&inputs(false, b"x")).unwrap();
        let need = ours.encoded_len().unwrap();
        log.resize(end + need - 1, 0);
        assert_eq!(
            log_append_offset(&log, &ours),
            Err(MeasureError::LogAreaFull {
                needed: need as u64,
                available: need as u64 - 1
            })
        );
        log.push(0);
        assert_eq!(log_append_offset(&log, &ours), Ok(end));
    }

    #[test]
    fn malformed_logs_are_refused_at_the_exact_place() {
        let malformed = |at: u64, what| Err(MeasureError::LogMalformed { at, what });
        assert_eq!(log_end(&[]), malformed(0, "no Spec ID event"));
        assert_eq!(
            log_end(&[0; 4096]),
            malformed(0, "the first event is not a Spec ID event")
        );
        let (good, starts) = firmware_log(2);
        let mut l = good.clone();
        l[32] = b'X';
        assert_eq!(
            log_end(&l),
            malformed(32, "no \"Spec ID Event03\" signature")
        );
        // Spec ID event longer than the area.
        assert_eq!(
            log_end(&good[..60]),
            malformed(0, "the Spec ID event runs past the log area")
        );
        // No SHA-256 bank: declare SHA-384 instead.
        let mut l = good.clone();
        l[32 + 28] = 0x0C;
        assert_eq!(log_end(&l), Err(MeasureError::LogNoSha256));
        // Other banks besides SHA-256: our entries could not carry their
        // digests (Linux would stop reading the log there).
        let (two, _) = firmware_log_with(1, &[(0x0004, 20), (0x000B, 32)]);
        assert_eq!(log_end(&two), Err(MeasureError::LogOtherBanks { banks: 2 }));
        assert_eq!(
            MeasureError::LogOtherBanks { banks: 2 }.to_string(),
            "measured boot: the TPM has 2 PCR banks active; rvf-boot extends and logs the SHA-256 bank only (activate only SHA-256, e.g. swtpm_setup --pcr-banks sha256)"
        );
        // Too many algorithms declared.
        let mut l = good.clone();
        l[32 + 24] = 17;
        assert_eq!(
            log_end(&l),
            malformed(56, "the Spec ID event declares no or too many algorithms")
        );
        // An entry with an undeclared algorithm.
        let mut l = good.clone();
        l[starts[1] + 12] = 0x0C;
        assert_eq!(
            log_end(&l),
            malformed(
                starts[1] as u64,
                "digest of an algorithm the Spec ID event does not declare"
            )
        );
        // More digests than algorithms.
        let mut l = good.clone();
        l[starts[0] + 8] = 3;
        assert_eq!(
            log_end(&l),
            malformed(
                starts[0] as u64,
                "more digests than the Spec ID event declares"
            )
        );
        // The last entry cut short / its size past the area.
        assert_eq!(
            log_end(&good[..good.len() - 1]),
            malformed(starts[1] as u64, "entry past the log area")
        );
        let mut l = good.clone();
        let size_at = starts[1] + 12 + 34;
        l[size_at..size_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            log_end(&l),
            malformed(starts[1] as u64, "entry past the log area")
        );
        assert_eq!(
            MeasureError::LogMalformed { at: 7, what: "x" }.to_string(),
            "measured boot: the firmware's TCG event log is malformed at byte 7: x"
        );
    }

    #[test]
    fn pcr_extend_command_bytes_are_exact() {
        let d: Digest = core::array::from_fn(|i| 0xA0 ^ i as u8);
        let mut want: Vec<u8> = std::vec![
            0x80, 0x02, // TPM_ST_SESSIONS
            0, 0, 0, 65, // size
            0, 0, 0x01, 0x82, // TPM_CC_PCR_Extend
            0, 0, 0, 9, // PCR 9
            0, 0, 0, 9, // authorizationSize
            0x40, 0, 0, 9, // TPM_RS_PW
            0, 0, // nonce
            0, // attributes
            0, 0, // hmac
            0, 0, 0, 1, // one digest
            0x00, 0x0B, // SHA-256
        ];
        want.extend_from_slice(&d);
        assert_eq!(want.len(), PCR_EXTEND_LEN);
        assert_eq!(pcr_extend_command(9, &d).to_vec(), want);
    }

    #[test]
    fn tpm_responses_are_checked_like_file_input() {
        let ok = [
            0x80, 0x02, 0, 0, 0, 19, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        let hdr = |b: &[u8]| -> [u8; 10] { b[..10].try_into().unwrap() };
        assert_eq!(response_size(&hdr(&ok)), Ok(19));
        assert_eq!(check_response(0x182, &ok), Ok(()));
        // An error answer: TPM_RC_VALUE | parameter 1 (0x1C4), no sessions.
        let err = [0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x01, 0xC4];
        assert_eq!(response_size(&hdr(&err)), Ok(10));
        assert_eq!(
            check_response(0x182, &err),
            Err(MeasureError::TpmResponseCode {
                command: 0x182,
                code: 0x1C4
            })
        );
        assert_eq!(
            MeasureError::TpmResponseCode {
                command: 0x182,
                code: 0x1C4
            }
            .to_string(),
            "TPM: command 0x182 failed with response code 0x1c4"
        );
        // Unknown tag, size below the header, size above the buffer.
        let mut bad = ok;
        bad[0] = 0;
        assert_eq!(
            response_size(&hdr(&bad)),
            Err(MeasureError::TpmResponseHeader {
                tag: 0x0002,
                size: 19
            })
        );
        let mut bad = ok;
        bad[5] = 9;
        assert_eq!(
            response_size(&hdr(&bad)),
            Err(MeasureError::TpmResponseHeader {
                tag: 0x8002,
                size: 9
            })
        );
        let mut bad = ok;
        bad[2..6].copy_from_slice(&257u32.to_be_bytes());
        assert_eq!(
            response_size(&hdr(&bad)),
            Err(MeasureError::TpmResponseHeader {
                tag: 0x8002,
                size: 257
            })
        );
        assert_eq!(
            response_size(&hdr(&[0xFF; 10])),
            Err(MeasureError::TpmResponseHeader {
                tag: 0xFFFF,
                size: u32::MAX
            })
        );
        // Size field and bytes disagree; a success without the sessions tag.
        assert_eq!(
            check_response(0x182, &ok[..18]),
            Err(MeasureError::TpmResponseLength {
                declared: 19,
                got: 18
            })
        );
        assert_eq!(
            check_response(0x182, &ok[..4]),
            Err(MeasureError::TpmResponseLength {
                declared: 0,
                got: 4
            })
        );
        let mut nosess = ok;
        nosess[1] = 0x01;
        assert_eq!(
            check_response(0x182, &nosess),
            Err(MeasureError::TpmResponseHeader {
                tag: 0x8001,
                size: 19
            })
        );
    }

    /// Sets byte `at` so that `t` sums to zero.
    fn fix_checksum(t: &mut [u8], at: usize) {
        t[at] = 0;
        let sum = t.iter().fold(0u8, |a, &b| a.wrapping_add(b));
        t[at] = sum.wrapping_neg();
    }

    fn table(sig: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut t = std::vec![0u8; 36];
        t[..4].copy_from_slice(sig);
        t.extend_from_slice(body);
        let len = t.len() as u32;
        t[4..8].copy_from_slice(&len.to_le_bytes());
        t[8] = 4;
        fix_checksum(&mut t, 9);
        t
    }

    #[test]
    fn acpi_rsdp_root_tables_and_tpm2() {
        let mut rsdp = [0u8; 36];
        rsdp[..8].copy_from_slice(b"RSD PTR ");
        rsdp[16..20].copy_from_slice(&0x7FE1_234Cu32.to_le_bytes());
        fix_checksum(&mut rsdp[..20], 8);
        assert_eq!(rsdp_root(&rsdp), Ok((0x7FE1_234C, false)));
        let mut v2 = rsdp;
        v2[15] = 2;
        v2[24..32].copy_from_slice(&0x7FE1_3000u64.to_le_bytes());
        fix_checksum(&mut v2[..20], 8);
        fix_checksum(&mut v2, 32);
        assert_eq!(rsdp_root(&v2), Ok((0x7FE1_3000, true)));
        let mut bad = v2;
        bad[33] ^= 1;
        assert_eq!(
            rsdp_root(&bad),
            Err(MeasureError::AcpiTable {
                signature: *b"RSDP",
                what: "fails its extended checksum"
            })
        );
        rsdp[0] = b'X';
        assert_eq!(
            rsdp_root(&rsdp),
            Err(MeasureError::AcpiTable {
                signature: *b"RSDP",
                what: "has no \"RSD PTR \" signature"
            })
        );

        let rsdt = table(b"RSDT", &[0x10, 0, 0, 0, 0x20, 0, 0, 0]);
        let hdr: [u8; 36] = rsdt[..36].try_into().unwrap();
        assert_eq!(sdt_length(&hdr), Ok((*b"RSDT", 44)));
        let e: Vec<u64> = sdt_entries(&rsdt, false).unwrap().collect();
        assert_eq!(e, [0x10, 0x20]);
        assert!(sdt_entries(&rsdt, true).is_err(), "an RSDT is not an XSDT");
        let xsdt = table(b"XSDT", &0x1_2345_6789u64.to_le_bytes());
        let e: Vec<u64> = sdt_entries(&xsdt, true).unwrap().collect();
        assert_eq!(e, [0x1_2345_6789]);
        let mut bad = rsdt.clone();
        bad[40] ^= 1;
        assert_eq!(
            sdt_entries(&bad, false).err(),
            Some(MeasureError::AcpiTable {
                signature: *b"RSDT",
                what: "fails its checksum"
            })
        );
        let mut huge = hdr;
        huge[4..8].copy_from_slice(&4097u32.to_le_bytes());
        assert_eq!(
            sdt_length(&huge),
            Err(MeasureError::AcpiTable {
                signature: *b"RSDT",
                what: "has an impossible length"
            })
        );

        // TPM2, revision 4 layout: platform class, reserved, control area,
        // start method, 12 bytes of parameters, LAML, LASA.
        let mut body = std::vec![0u8; 28];
        body.extend_from_slice(&0x1_0000u32.to_le_bytes());
        body.extend_from_slice(&0x7FE0_0000u64.to_le_bytes());
        let tpm2 = table(b"TPM2", &body);
        assert_eq!(tpm2.len(), TPM2_TABLE_LEN);
        assert_eq!(tpm2_log_area(&tpm2), Ok((0x7FE0_0000, 0x1_0000)));
        let short = table(b"TPM2", &body[..28]);
        assert_eq!(
            tpm2_log_area(&short),
            Err(MeasureError::AcpiTable {
                signature: *b"TPM2",
                what: "has no event log area (shorter than 76 bytes)"
            })
        );
        let mut bad = tpm2.clone();
        bad[70] ^= 1;
        assert_eq!(
            tpm2_log_area(&bad),
            Err(MeasureError::AcpiTable {
                signature: *b"TPM2",
                what: "fails its checksum"
            })
        );
        assert_eq!(
            MeasureError::AcpiTable {
                signature: *b"TP\x002",
                what: "fails its checksum"
            }
            .to_string(),
            "measured boot: ACPI table \"TP?2\" fails its checksum"
        );
    }
}
