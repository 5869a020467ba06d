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
//! `EVENT_HEADER_LEN` (50) bytes plus the data. A log holds at most
//! [`MAX_EVENTS`] (4) events; nothing is allocated.
//!
//! # Layout
//!
//! Events and PCRs (what a boot measures); the firmware's
//! event log (walking it to append); the TPM 2.0 command and response codec;
//! the ACPI tables that locate the log. Every item is re-exported here.

mod acpi;
mod error;
mod event;
mod firmware_log;
#[cfg(test)]
mod tests;
mod tpm;

pub use acpi::{
    ACPI_HEADER_LEN, ACPI_TABLE_MAX, RSDP_LEN, acpi_checksum_ok, rsdp_root, sdt_entries,
    sdt_length, tpm2_log_area,
};
pub use error::{AcpiProblem, LogProblem, MeasureError};
pub use event::{
    BootInputs, CMDLINE_PREFIX, Digest, EV_IPL, Event, EventLog, INITRD_DATA, KERNEL_DATA,
    MANIFEST_DATA, MAX_EVENTS, PCR_CONTENT, PCR_STRINGS, boot_events, extend, kernel_sha256,
    manifest_digest, sha256,
};
pub use firmware_log::{log_append_offset, log_end};
pub use tpm::{
    PCR_EXTEND_LEN, TPM_CC_PCR_EXTEND, TPM_HEADER_LEN, TPM_RESPONSE_MAX, check_response,
    pcr_extend_command, response_size,
};
