//! Measured boot (issue 11): the library's events ([`measure::boot_events`])
//! extended into a TPM 2.0 through the TIS FIFO interface, and appended to
//! the firmware's TCG event log, right before the jump. The events (and the
//! initrd's SHA-256 they carry) are built only once a TPM and its log area
//! were found: without a TPM nothing is hashed for measurement.
//!
//! * **TPM**: TIS (TCG PC Client Platform TPM Profile, FIFO interface) at
//!   [`TIS_BASE`], locality 0: request the locality, then for each event one
//!   `TPM2_PCR_Extend` (SHA-256 bank, password session with an empty
//!   password, built by the library): command ready, the command through
//!   the data FIFO in bursts of at most `burstCount` bytes (`Expect` checked
//!   before and after the last byte), go, wait for `dataAvail`, read the
//!   10-byte response header, check it with the library
//!   ([`measure::response_size`]: tag, `10 <= size <= TPM_RESPONSE_MAX`), read
//!   the rest into the fixed [`TPM_RESPONSE_MAX`]-byte buffer, check that
//!   nothing is left and the whole response ([`measure::check_response`]:
//!   size, response code, tag). Every wait is a bounded poll
//!   ([`POLL_LIMIT`] register reads). Finally the locality is released.
//! * **Event log**: the area the ACPI TPM2 table describes (`LASA`, `LAML`,
//!   table revision 4+ layout), which SeaBIOS fills. The RSDP comes from the
//!   PVH start info (else the BIOS area 0xE0000..0x100000 is scanned); the
//!   RSDT/XSDT and every table header are copied into the stub and checked
//!   by the library (signature, length bounded by `ACPI_TABLE_MAX`,
//!   checksum); the log is walked to its end by the library
//!   ([`measure::log_append_offset`]), which also checks that the events
//!   fit, before any PCR is extended. Then the PCRs, then the entries.
//! * **No TPM** (the TIS access register reads 0xFF or has no valid bit, the
//!   TPM is not a TPM 2.0, or there is no TPM2 ACPI table): one line
//!   `rvf-boot: no TPM: nothing measured`, and the boot goes on.
//! * **Not TIS**: the ACPI TPM2 table's `StartMethod` is read before
//!   anything is written to the TPM, and only 6 (TIS, memory-mapped) is
//!   driven; any other (7 = CRB, Cloud Hypervisor's TPM at the same
//!   address) gives one line `rvf-boot: no TPM: the ACPI TPM2 table's start
//!   method is 7 (CRB), not TIS (6), ...: nothing measured` and the boot goes
//!   on, never a hang. (The probe before it only reads the access register.)
//! * A TPM that fails (an error response code, a malformed response, a
//!   timeout) or a log the events cannot be appended to refuses the boot
//!   ([`MeasureFailure`], exit code 13).
//!
//! Every firmware range the stub reads or writes (ACPI tables, the log
//! area) must be non-empty, below the 4 GiB identity map and clear of every
//! stub reservation (its image, the RVF, the image buffer, the kernel
//! window, the initrd) and of the TIS registers ([`firmware_range`]).

use core::fmt::{self, Write};

use rvf_boot::measure::{
    self, ACPI_HEADER_LEN, ACPI_TABLE_MAX, EventLog, MeasureError, PCR_EXTEND_LEN, RSDP_LEN,
    TPM_CC_PCR_EXTEND, TPM_HEADER_LEN, TPM_RESPONSE_MAX,
};
use rvf_boot::memory::{FOUR_GIB, PhysRange};

use crate::hw::Serial;
use crate::pvh::read_phys;
use rvf_boot::boot::Reservations as Reserved;

/// Physical base of the TIS registers of locality 0.
pub const TIS_BASE: u64 = 0xFED4_0000;
/// The TIS register window (five localities of 4 KiB).
const TIS_WINDOW: PhysRange = PhysRange {
    base: TIS_BASE,
    size: 0x5000,
};
/// `TPM_ACCESS_0` (8 bits).
const ACCESS: u64 = 0x00;
/// `TPM_STS_0` (32 bits; `burstCount` in bits 8..24, family in 26..28).
const STS: u64 = 0x18;
/// `TPM_DATA_FIFO_0` (8-bit accesses).
const DATA_FIFO: u64 = 0x24;

const ACCESS_VALID: u8 = 0x80;
const ACCESS_ACTIVE_LOCALITY: u8 = 0x20;
const ACCESS_REQUEST_USE: u8 = 0x02;
const STS_VALID: u32 = 0x80;
const STS_COMMAND_READY: u32 = 0x40;
const STS_GO: u32 = 0x20;
const STS_DATA_AVAIL: u32 = 0x10;
const STS_EXPECT: u32 = 0x08;
/// `TPM_STS.tpmFamily` value of a TPM 2.0.
const STS_FAMILY_TPM2: u32 = 1;

/// Most register reads one wait may take (each is a trip to the device
/// model; swtpm answers a `PCR_Extend` in well under a million).
pub const POLL_LIMIT: u32 = 20_000_000;

/// Why measured boot refused the boot (exit code 13).
#[derive(Clone, Copy, Debug)]
pub enum MeasureFailure {
    /// The library refused a response, the ACPI tables or the log.
    Lib(MeasureError),
    /// A wait for the TPM ran out of polls.
    Timeout(&'static str),
    /// The TPM broke the TIS protocol.
    Protocol(&'static str),
    /// A firmware range the stub would read or write is unusable.
    Range {
        /// What it is.
        what: &'static str,
        /// Where the firmware says it is.
        base: u64,
        /// Its length.
        size: u64,
    },
}

impl fmt::Display for MeasureFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Lib(e) => write!(f, "{e}"),
            Self::Timeout(what) => write!(f, "TPM: no answer ({what})"),
            Self::Protocol(what) => write!(f, "TPM: {what}"),
            Self::Range { what, base, size } => write!(
                f,
                "measured boot: the {what} at {base:#x} ({size} bytes) is outside the 4 GiB identity map or overlaps the stub's memory"
            ),
        }
    }
}

impl From<MeasureError> for MeasureFailure {
    fn from(e: MeasureError) -> Self {
        Self::Lib(e)
    }
}

/// What [`measure`] did.
pub enum Outcome {
    /// No TPM 2.0 or no TPM2 ACPI table: nothing measured.
    NoTpm,
    /// The ACPI TPM2 table's start method is not TIS (this start method:
    /// 7 = CRB, Cloud Hypervisor's TPM): the stub drives only TIS, so
    /// nothing was written to the TPM and nothing measured.
    NotTis(u32),
    /// Every event extended and logged.
    Measured {
        /// Events extended.
        events: usize,
        /// Where they were appended.
        log_at: u64,
        /// Bytes appended.
        bytes: usize,
    },
}

/// Extend the events `events` builds into the TPM and append them to the
/// firmware's log; prints one line saying what happened. `events` runs only
/// when there is a TPM.
pub fn measure<'a>(
    serial: &mut Serial,
    rsdp_paddr: u64,
    reserved: &Reserved,
    events: impl FnOnce() -> Result<EventLog<'a>, MeasureError>,
) -> Result<Outcome, MeasureFailure> {
    let outcome = measure_inner(rsdp_paddr, reserved, events)?;
    match outcome {
        Outcome::NoTpm => {
            let _ = writeln!(serial, "rvf-boot: no TPM: nothing measured");
        }
        Outcome::NotTis(method) => {
            let _ = writeln!(
                serial,
                "rvf-boot: no TPM: the ACPI TPM2 table's start method is {method}{}, not TIS (6), which is all this stub drives: nothing measured",
                if method == START_METHOD_CRB {
                    " (CRB)"
                } else {
                    ""
                }
            );
        }
        Outcome::Measured {
            events,
            log_at,
            bytes,
        } => {
            let _ = writeln!(
                serial,
                "rvf-boot: measured {events} events into PCRs 9 and 8 (TPM 2.0, SHA-256), {bytes} bytes of event log at {log_at:#x}"
            );
        }
    }
    Ok(outcome)
}

fn measure_inner<'a>(
    rsdp_paddr: u64,
    reserved: &Reserved,
    events: impl FnOnce() -> Result<EventLog<'a>, MeasureError>,
) -> Result<Outcome, MeasureFailure> {
    // A read of the access register only: nothing is written to the TPM
    // before the ACPI table says its interface is TIS.
    let Some(mut tis) = Tis::probe() else {
        return Ok(Outcome::NoTpm);
    };
    let (lasa, laml) = match find_tpm2(rsdp_paddr, reserved)? {
        None => return Ok(Outcome::NoTpm),
        Some(Tpm2Table::Other(method)) => return Ok(Outcome::NotTis(method)),
        Some(Tpm2Table::Tis { lasa, laml }) => (lasa, laml),
    };
    let events = &events()?;
    let area_range = firmware_range("TCG event log area", lasa, u64::from(laml), reserved)?;
    let len = usize::try_from(area_range.size).unwrap_or(0);
    // SAFETY: `area_range` is the firmware's log area (ACPI TPM2 LASA/LAML),
    // memory the firmware reserved for it: `firmware_range` checked that it
    // is non-empty, below the 4 GiB identity map (so the address is the
    // pointer), clear of the TIS registers and of every stub reservation,
    // which hold every other slice the stub formed (its image with its
    // statics and stack, the RVF, the image buffer, the kernel window, the
    // initrd): this is the only reference to it, and nothing else runs.
    let area: &mut [u8] =
        unsafe { core::slice::from_raw_parts_mut(area_range.base as usize as *mut u8, len) };
    // Checked before any PCR changes: a log the events cannot be appended
    // to refuses the boot with the PCRs untouched.
    let at = measure::log_append_offset(area, events)?;
    tis.request_locality()?;
    if !tis.is_tpm2() {
        // A TPM 1.2: nothing this stub can extend.
        tis.release_locality();
        return Ok(Outcome::NoTpm);
    }
    let result = extend_all(&mut tis, events);
    tis.release_locality();
    result?;
    let tail = area.get_mut(at..).unwrap_or(&mut []);
    let bytes = events.write(tail)?;
    Ok(Outcome::Measured {
        events: events.events().len(),
        log_at: area_range.base.saturating_add(at as u64),
        bytes,
    })
}

fn extend_all(tis: &mut Tis, events: &EventLog<'_>) -> Result<(), MeasureFailure> {
    let mut response = [0u8; TPM_RESPONSE_MAX];
    for e in events.events() {
        let command: [u8; PCR_EXTEND_LEN] = measure::pcr_extend_command(e.pcr(), e.digest());
        let n = tis.execute(&command, &mut response)?;
        measure::check_response(TPM_CC_PCR_EXTEND, response.get(..n).unwrap_or(&[]))?;
    }
    Ok(())
}

// ---------------------------------------------------------------- TIS

/// The TIS registers of locality 0 (a TPM answers there).
struct Tis(());

/// Read a TIS register.
fn reg_read<T: Copy>(offset: u64) -> T {
    // SAFETY: TIS_BASE + offset is a register of QEMU's tpm-tis device
    // (callers pass ACCESS, STS or DATA_FIFO, all inside the window), which
    // lies below 4 GiB and is identity-mapped; a volatile read of a device
    // register touches no Rust object (reading the FIFO consumes a response
    // byte, which is what the callers want). Where no device answers, QEMU
    // returns all-ones or zeros without side effect.
    unsafe { core::ptr::read_volatile((TIS_BASE + offset) as usize as *const T) }
}

/// Write a TIS register.
fn reg_write<T: Copy>(offset: u64, value: T) {
    // SAFETY: as for `reg_read`; only called once `Tis::probe` found a
    // TPM answering at TIS_BASE, with ACCESS, STS or DATA_FIFO: the writes
    // change TPM state only, never memory.
    unsafe { core::ptr::write_volatile((TIS_BASE + offset) as usize as *mut T, value) };
}

impl Tis {
    /// A TPM 2.0 behind the TIS registers, or `None`.
    fn probe() -> Option<Self> {
        let access: u8 = reg_read(ACCESS);
        if access == 0xFF || access & ACCESS_VALID == 0 {
            return None;
        }
        Some(Self(()))
    }

    /// Whether the TPM is a TPM 2.0 (`TPM_STS.tpmFamily`). Needs the
    /// locality: the registers of an inactive one read as all-ones.
    fn is_tpm2(&self) -> bool {
        let sts: u32 = reg_read(STS);
        sts != u32::MAX && (sts >> 26) & 3 == STS_FAMILY_TPM2
    }

    /// Poll `done` on the register value until it holds.
    fn wait<T: Copy>(
        &self,
        offset: u64,
        what: &'static str,
        done: impl Fn(T) -> bool,
    ) -> Result<T, MeasureFailure> {
        for _ in 0..POLL_LIMIT {
            let v: T = reg_read(offset);
            if done(v) {
                return Ok(v);
            }
            core::hint::spin_loop();
        }
        Err(MeasureFailure::Timeout(what))
    }

    fn request_locality(&mut self) -> Result<(), MeasureFailure> {
        reg_write(ACCESS, ACCESS_REQUEST_USE);
        self.wait(ACCESS, "locality 0 not granted", |a: u8| {
            a & (ACCESS_VALID | ACCESS_ACTIVE_LOCALITY) == ACCESS_VALID | ACCESS_ACTIVE_LOCALITY
        })?;
        Ok(())
    }

    fn release_locality(&mut self) {
        // Writing activeLocality relinquishes it.
        reg_write(ACCESS, ACCESS_ACTIVE_LOCALITY);
    }

    /// The current `burstCount`, waiting for it to be non-zero.
    fn burst(&self, what: &'static str) -> Result<usize, MeasureFailure> {
        // stsValid is not set before the first command byte: only the
        // count matters here (as in Linux's tpm_tis get_burstcount).
        let sts = self.wait(STS, what, |s: u32| (s >> 8) & 0xFFFF != 0)?;
        Ok(((sts >> 8) & 0xFFFF) as usize)
    }

    /// Send `command`, read the response into `response`; returns its size
    /// (checked by the library against the buffer).
    fn execute(
        &mut self,
        command: &[u8],
        response: &mut [u8; TPM_RESPONSE_MAX],
    ) -> Result<usize, MeasureFailure> {
        reg_write(STS, STS_COMMAND_READY);
        self.wait(STS, "command ready", |s: u32| s & STS_COMMAND_READY != 0)?;
        let Some((last, body)) = command.split_last() else {
            return Err(MeasureFailure::Protocol("empty command"));
        };
        let mut rest = body;
        while !rest.is_empty() {
            let burst = self.burst("burst count while sending")?;
            let (now, later) = rest.split_at(burst.min(rest.len()));
            for &b in now {
                reg_write(DATA_FIFO, b);
            }
            rest = later;
        }
        let sts = self.wait(STS, "status after the command", |s: u32| s & STS_VALID != 0)?;
        if sts & STS_EXPECT == 0 {
            return Err(MeasureFailure::Protocol(
                "the TPM stopped expecting command bytes early",
            ));
        }
        self.burst("burst count for the last byte")?;
        reg_write(DATA_FIFO, *last);
        let sts = self.wait(STS, "status after the command", |s: u32| s & STS_VALID != 0)?;
        if sts & STS_EXPECT != 0 {
            return Err(MeasureFailure::Protocol(
                "the TPM expects more bytes than the command has",
            ));
        }
        reg_write(STS, STS_GO);
        self.wait(STS, "response", |s: u32| {
            s & (STS_VALID | STS_DATA_AVAIL) == STS_VALID | STS_DATA_AVAIL
        })?;
        // The header, then as many bytes as it announces (bounded by the
        // buffer: `response_size` refuses more than TPM_RESPONSE_MAX).
        let mut header = [0u8; TPM_HEADER_LEN];
        self.read_fifo(&mut header)?;
        let size = measure::response_size(&header)?;
        let (head, body) = response.split_at_mut(TPM_HEADER_LEN);
        head.copy_from_slice(&header);
        let body = body
            .get_mut(..size.saturating_sub(TPM_HEADER_LEN))
            .ok_or(MeasureFailure::Protocol("response larger than the buffer"))?;
        self.read_fifo(body)?;
        let sts = self.wait(STS, "status after the response", |s: u32| {
            s & STS_VALID != 0
        })?;
        if sts & STS_DATA_AVAIL != 0 {
            return Err(MeasureFailure::Protocol(
                "the TPM has more response bytes than its size field says",
            ));
        }
        reg_write(STS, STS_COMMAND_READY);
        Ok(size)
    }

    /// Fill `buf` from the FIFO, at most `burstCount` bytes at a time, each
    /// burst only while `dataAvail` is set.
    fn read_fifo(&self, buf: &mut [u8]) -> Result<(), MeasureFailure> {
        let mut rest = buf;
        while !rest.is_empty() {
            let sts = self.wait(STS, "response bytes", |s: u32| {
                s & (STS_VALID | STS_DATA_AVAIL) == STS_VALID | STS_DATA_AVAIL
                    && (s >> 8) & 0xFFFF != 0
            })?;
            let burst = ((sts >> 8) & 0xFFFF) as usize;
            let (now, later) = rest.split_at_mut(burst.min(rest.len()));
            for b in now.iter_mut() {
                *b = reg_read(DATA_FIFO);
            }
            rest = later;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- ACPI

/// The BIOS area scanned for the RSDP when the start info has none.
const BIOS_AREA: PhysRange = PhysRange {
    base: 0xE_0000,
    size: 0x2_0000,
};

/// `[base, base + size)` as a firmware range the stub may read or write:
/// non-empty, not wrapping, below 4 GiB, clear of the TIS registers and of
/// every stub reservation.
fn firmware_range(
    what: &'static str,
    base: u64,
    size: u64,
    reserved: &Reserved,
) -> Result<PhysRange, MeasureFailure> {
    let range = PhysRange { base, size };
    let bad = MeasureFailure::Range { what, base, size };
    match range.end() {
        Some(end) if size != 0 && end <= FOUR_GIB => {}
        _ => return Err(bad),
    }
    if range.overlaps(&TIS_WINDOW) || reserved.as_slice().iter().any(|r| r.overlaps(&range)) {
        return Err(bad);
    }
    Ok(range)
}

/// Copy firmware memory `[base, base + buf.len())` into `buf`.
fn copy_in(
    what: &'static str,
    base: u64,
    buf: &mut [u8],
    reserved: &Reserved,
) -> Result<(), MeasureFailure> {
    let range = firmware_range(what, base, buf.len() as u64, reserved)?;
    let mut at = range.base;
    for b in buf.iter_mut() {
        // SAFETY: `at` lies inside `range`, which `firmware_range` checked:
        // below the 4 GiB identity map, not the TIS registers, clear of
        // every stub reservation (so no Rust object or live slice); it is
        // firmware memory (the BIOS area, ACPI tables) whose reads have no
        // side effect. A byte accepts any bit pattern.
        *b = unsafe { read_phys::<u8>(at) };
        at = at.wrapping_add(1);
    }
    Ok(())
}

/// The RSDP: the start info's, else the first checksummed one in the BIOS area.
fn find_rsdp(
    rsdp_paddr: u64,
    reserved: &Reserved,
) -> Result<Option<[u8; RSDP_LEN]>, MeasureFailure> {
    let mut rsdp = [0u8; RSDP_LEN];
    if rsdp_paddr != 0 {
        copy_in("ACPI RSDP", rsdp_paddr, &mut rsdp, reserved)?;
        return Ok(Some(rsdp));
    }
    let mut at = BIOS_AREA.base;
    while at < BIOS_AREA.base + BIOS_AREA.size {
        copy_in("BIOS area", at, &mut rsdp, reserved)?;
        if rsdp.starts_with(b"RSD PTR ") && measure::rsdp_root(&rsdp).is_ok() {
            return Ok(Some(rsdp));
        }
        at += 16;
    }
    Ok(None)
}

/// `StartMethod` of the ACPI TPM2 table for a TIS (FIFO) interface: "uses
/// memory-mapped I/O", the value QEMU's `tpm-tis` and SeaBIOS give.
const START_METHOD_TIS: u32 = 6;
/// `StartMethod` of a Command Response Buffer interface (Cloud Hypervisor).
const START_METHOD_CRB: u32 = 7;
/// Offset of `StartMethod` in the TPM2 table: the 36-byte header, platform
/// class (2), reserved (2), address of the control area (8).
const START_METHOD_AT: usize = 48;

/// What the ACPI TPM2 table says.
enum Tpm2Table {
    /// A TIS interface, with its log area `(LASA, LAML)`.
    Tis {
        /// Log area start.
        lasa: u64,
        /// Log area length.
        laml: u32,
    },
    /// Another start method (its value).
    Other(u32),
}

/// The TPM2 table's start method and, for TIS, its log area; `None` without
/// an RSDP or a TPM2 table. The table is copied and checked by the library
/// (signature, length, checksum) before its start method is read.
fn find_tpm2(rsdp_paddr: u64, reserved: &Reserved) -> Result<Option<Tpm2Table>, MeasureFailure> {
    let Some(rsdp) = find_rsdp(rsdp_paddr, reserved)? else {
        return Ok(None);
    };
    let (root, xsdt) = measure::rsdp_root(&rsdp)?;
    let mut root_buf = [0u8; ACPI_TABLE_MAX];
    let root_table = read_table("ACPI root table", root, &mut root_buf, reserved)?;
    for addr in measure::sdt_entries(root_table, xsdt)? {
        let mut header = [0u8; ACPI_HEADER_LEN];
        copy_in("ACPI table header", addr, &mut header, reserved)?;
        if header.starts_with(b"TPM2") {
            let mut tpm2_buf = [0u8; ACPI_TABLE_MAX];
            let tpm2 = read_table("ACPI TPM2 table", addr, &mut tpm2_buf, reserved)?;
            // A table too short to hold the field has no start method: 0,
            // which is not TIS.
            let method = tpm2
                .get(START_METHOD_AT..)
                .and_then(|t| t.first_chunk::<4>())
                .map_or(0, |b| u32::from_le_bytes(*b));
            if method != START_METHOD_TIS {
                return Ok(Some(Tpm2Table::Other(method)));
            }
            let (lasa, laml) = measure::tpm2_log_area(tpm2)?;
            return Ok(Some(Tpm2Table::Tis { lasa, laml }));
        }
    }
    Ok(None)
}

/// Copy the whole table at `addr` (its header's checked length) into `buf`.
fn read_table<'b>(
    what: &'static str,
    addr: u64,
    buf: &'b mut [u8; ACPI_TABLE_MAX],
    reserved: &Reserved,
) -> Result<&'b [u8], MeasureFailure> {
    let mut header = [0u8; ACPI_HEADER_LEN];
    copy_in(what, addr, &mut header, reserved)?;
    let (_, len) = measure::sdt_length(&header)?;
    let dst = buf.get_mut(..len).unwrap_or(&mut []);
    copy_in(what, addr, dst, reserved)?;
    Ok(dst)
}
