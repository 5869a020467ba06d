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

use crate::bytes::{range, u64_from};
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
}
