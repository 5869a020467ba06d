//! Measured boot through `EFI_TCG2_PROTOCOL` (issue 14): the library's
//! events ([`measure::boot_events`], the ones the PVH stub extends through
//! TIS) handed to the firmware's `HashLogExtendEvent`, in the library's
//! order, before the kernel is loaded.
//!
//! `r-efi` 7 has no TCG2 definitions, so the protocol is defined here from
//! the TCG EFI Protocol Specification, Family "2.0", Level 00 Revision 00.13
//! (2016-03-30), §6 "EFI TCG2 Protocol": the `EFI_TCG2_PROTOCOL` function
//! table, `GetActivePcrBanks`, `HashLogExtendEvent` and the packed
//! `EFI_TCG2_EVENT` (`Size`, then `EFI_TCG2_EVENT_HEADER` = `HeaderSize`,
//! `HeaderVersion` 1, `PCRIndex`, `EventType`, then the event data). Only the
//! two functions the loader calls are typed; the others are opaque pointers.
//!
//! **Digests.** `HashLogExtendEvent` hashes the buffer it is given (the
//! specification has no way to log a precomputed digest; `EFI_TCG2_EXTEND_ONLY`
//! skips the log, not the hash), so the loader passes, for each event, the
//! bytes whose SHA-256 the library's event carries ([`data_to_hash`]): the
//! stored MANIFEST_SEG (header and payload), the verified image (whose
//! SHA-256 verification computed), the initrd (hashed by the loader for the
//! library's event) and the final command line without its NUL. The
//! firmware's digests therefore equal the library's by construction (the
//! manifest's, the one slice the loader forms itself, is checked against
//! `measure::manifest_digest` before anything is extended); `qemu/test-uefi.sh
//! tpm-pcrs` checks the guest's log. The price is one firmware pass over the
//! kernel image (`PE_COFF_IMAGE` is not set: the image is hashed as bytes,
//! like the PVH stub's digest).
//!
//! **Event data** is the library's (`Event::data_parts`: label, text, NUL),
//! event type `EV_IPL`: with the SHA-256 bank the firmware's log entries are
//! byte for byte `rvf-boot measure --event-log`'s.

use rvf_boot::measure::{
    CMDLINE_PREFIX, Digest, Event, EventLog, INITRD_DATA, KERNEL_DATA, MANIFEST_DATA, MAX_EVENTS,
};

use crate::failure::Failure;
use crate::fw::Firmware;

/// `EFI_TCG2_BOOT_HASH_ALG_SHA256` in an `EFI_TCG2_EVENT_ALGORITHM_BITMAP`.
pub const BANK_SHA256: u32 = 0x0000_0002;

/// `EFI_TCG2_EVENT_HEADER_VERSION`.
const HEADER_VERSION: u16 = 1;

/// `sizeof(EFI_TCG2_EVENT_HEADER)` (packed): `HeaderSize`, `HeaderVersion`,
/// `PCRIndex`, `EventType`.
const HEADER_SIZE: u32 = 4 + 2 + 4 + 4;

/// Bytes of an `EFI_TCG2_EVENT` before its event data (`Size` and the
/// header).
pub const EVENT_PREFIX: usize = 4 + HEADER_SIZE as usize;

/// The bytes each event's digest is the SHA-256 of.
#[derive(Clone, Copy)]
pub struct Sources<'a> {
    /// The winning MANIFEST_SEG as stored (header and payload).
    pub manifest: &'a [u8],
    /// The verified, uncompressed kernel image.
    pub kernel: &'a [u8],
    /// The initrd as served.
    pub initrd: &'a [u8],
    /// The final command line without its NUL.
    pub cmdline: &'a [u8],
}

/// The bytes to hand `HashLogExtendEvent` for `event`, picked by the
/// event's label (the library's constants), so a change of the library's
/// event order cannot pair an event with the wrong bytes.
pub fn data_to_hash<'a>(event: &Event<'_>, src: &Sources<'a>) -> Result<&'a [u8], Failure> {
    let [label, _, _] = event.data_parts();
    match label {
        l if l == MANIFEST_DATA => Ok(src.manifest),
        l if l == KERNEL_DATA => Ok(src.kernel),
        l if l == INITRD_DATA => Ok(src.initrd),
        l if l == CMDLINE_PREFIX => Ok(src.cmdline),
        _ => Err(Failure::Internal("an event the loader has no data for")),
    }
}

/// Write `event` as an `EFI_TCG2_EVENT` into `buf`; returns its length
/// (`None` when `buf` is too small or the length does not fit its field).
pub fn encode(event: &Event<'_>, buf: &mut [u8]) -> Option<usize> {
    let len = EVENT_PREFIX.checked_add(event.data_len())?;
    let size = u32::try_from(len).ok()?;
    let out = buf.get_mut(..len)?;
    let fields: [&[u8]; 5] = [
        &size.to_le_bytes(),
        &HEADER_SIZE.to_le_bytes(),
        &HEADER_VERSION.to_le_bytes(),
        &event.pcr().to_le_bytes(),
        &event.event_type().to_le_bytes(),
    ];
    let mut bytes = out.iter_mut();
    for src in fields.iter().chain(&event.data_parts()) {
        // `src` first: zip stops on it without taking a byte of `out`.
        for (&s, d) in src.iter().zip(bytes.by_ref()) {
            *d = s;
        }
    }
    Some(len)
}

/// Most event data of one event: the command-line event's prefix, the
/// longest command line the library writes, the NUL.
pub const EVENT_DATA_MAX: usize = CMDLINE_PREFIX.len() + rvf_boot::cmdline::BUFFER_SIZE + 1;

/// The names of the banks set in an `EFI_TCG2_EVENT_ALGORITHM_BITMAP`.
pub struct Banks(pub u32);

impl core::fmt::Display for Banks {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let names = [
            (0x01, "SHA-1"),
            (BANK_SHA256, "SHA-256"),
            (0x04, "SHA-384"),
            (0x08, "SHA-512"),
            (0x10, "SM3-256"),
        ];
        let mut sep = "";
        for (bit, name) in names {
            if self.0 & bit != 0 {
                write!(f, "{sep}{name}")?;
                sep = ", ";
            }
        }
        let other = self.0 & !0x1f;
        if other != 0 {
            write!(f, "{sep}{other:#x}")?;
        } else if sep.is_empty() {
            f.write_str("none")?;
        }
        Ok(())
    }
}

/// What the loader measured.
pub enum Outcome {
    /// No `EFI_TCG2_PROTOCOL`: nothing measured.
    NoTpm,
    /// Every event hashed, extended and logged by the firmware.
    Measured {
        /// Events measured.
        events: usize,
        /// The active PCR banks.
        banks: u32,
    },
}

/// The manifest digest the library computed, checked against the bytes the
/// loader will hand the firmware for it.
pub fn check_manifest(manifest: &[u8], digest: &Digest) -> Result<(), Failure> {
    if rvf_boot::measure::sha256(manifest) == *digest {
        Ok(())
    } else {
        Err(Failure::Internal(
            "the manifest bytes do not hash to the library's manifest digest",
        ))
    }
}

/// What `event` measures, for messages.
pub fn name(event: &Event<'_>) -> &'static str {
    let [label, _, _] = event.data_parts();
    match label {
        l if l == MANIFEST_DATA => "the RVF manifest",
        l if l == KERNEL_DATA => "the kernel image",
        l if l == INITRD_DATA => "the initrd",
        l if l == CMDLINE_PREFIX => "the kernel command line",
        _ => "an unknown event",
    }
}

/// Measure `events` through the firmware's `EFI_TCG2_PROTOCOL`, each with
/// its bytes from `src`, in order. No protocol: [`Outcome::NoTpm`]. The
/// SHA-256 bank must be active (the bank `rvf-boot measure` predicts);
/// other active banks are the firmware's business (it logs every bank).
/// Every event is paired with its bytes and encoded before the first
/// extend, so a loader bug cannot leave the PCRs half measured.
pub fn measure(
    fw: &Firmware,
    events: &EventLog<'_>,
    src: &Sources<'_>,
) -> Result<Outcome, Failure> {
    let Some(tcg2) = fw.tcg2() else {
        return Ok(Outcome::NoTpm);
    };
    let banks = tcg2.active_pcr_banks().map_err(|status| Failure::Tcg2 {
        what: "GetActivePcrBanks",
        status,
    })?;
    if banks & BANK_SHA256 == 0 {
        return Err(Failure::NoSha256Bank { banks });
    }
    let list = events.events();
    let mut buf = fw.allocate(
        "TCG2 events",
        (MAX_EVENTS * (EVENT_PREFIX + EVENT_DATA_MAX)) as u64,
    )?;
    let mut data: [&[u8]; MAX_EVENTS] = [&[]; MAX_EVENTS];
    let mut lens = [0usize; MAX_EVENTS];
    fw.masked(|| {
        let mut chunks = buf.bytes_mut().chunks_mut(EVENT_PREFIX + EVENT_DATA_MAX);
        for ((e, d), n) in list.iter().zip(data.iter_mut()).zip(lens.iter_mut()) {
            *d = data_to_hash(e, src)?;
            let chunk = chunks.next().unwrap_or(&mut []);
            *n = encode(e, chunk).ok_or(Failure::Internal("TCG2 event larger than its buffer"))?;
        }
        Ok::<_, Failure>(())
    })?;
    let mut chunks = buf.bytes_mut().chunks_mut(EVENT_PREFIX + EVENT_DATA_MAX);
    for (index, ((e, d), n)) in list.iter().zip(data).zip(lens).enumerate() {
        let chunk = chunks.next().unwrap_or(&mut []);
        let event = chunk.get_mut(..n).unwrap_or(&mut []);
        tcg2.hash_log_extend_event(d, event)
            .map_err(|status| Failure::Tcg2Event {
                index,
                pcr: e.pcr(),
                what: name(e),
                status,
            })?;
    }
    Ok(Outcome::Measured {
        events: list.len(),
        banks,
    })
}
