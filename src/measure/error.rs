//! Why measuring, the firmware's log, the TPM or ACPI refused (one error
//! type for the measured-boot path, [`MeasureError`]), with the problems it
//! names as enums ([`LogProblem`], [`AcpiProblem`]).

use core::fmt;

/// Why no event list or no log bytes were produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MeasureError {
    /// [`EventLog::push`](super::EventLog::push) on a full log.
    LogFull {
        /// [`MAX_EVENTS`](super::MAX_EVENTS).
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
    /// The winning manifest's bytes are not inside [`Container::file`](crate::container::Container::file)
    /// (cannot happen for a parsed container).
    ManifestOutsideFile {
        /// Header offset of the MANIFEST_SEG.
        offset: u64,
    },
    /// The firmware's event log is not a crypto-agile TCG log this module
    /// can walk ([`log_end`](super::log_end)).
    LogMalformed {
        /// Offset in the log area of the entry (or field) at fault.
        at: u64,
        /// What is wrong.
        what: LogProblem,
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
    /// size below the 10-byte header or above [`TPM_RESPONSE_MAX`](super::TPM_RESPONSE_MAX).
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
        what: AcpiProblem,
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

/// What is wrong with a firmware event log ([`MeasureError::LogMalformed`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogProblem {
    /// The area is too short for the Spec ID event's header.
    NoSpecIdEvent,
    /// The first event's type is not `EV_NO_ACTION`.
    FirstNotSpecId,
    /// The Spec ID event's data runs past the log area.
    SpecIdPastArea,
    /// The Spec ID event lacks its `Spec ID Event03` signature.
    NoSpecIdSignature,
    /// The Spec ID event is too short for the algorithms it declares.
    SpecIdTooShort,
    /// The Spec ID event declares no algorithm, or more than
    /// `MAX_LOG_ALGORITHMS` (16).
    AlgorithmCount,
    /// An entry runs past the log area.
    EntryPastArea,
    /// An entry carries more digests than the Spec ID event declares.
    TooManyDigests,
    /// An entry carries a digest of an undeclared algorithm.
    UndeclaredAlgorithm,
}

impl LogProblem {
    /// The phrase used in messages.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::NoSpecIdEvent => "no Spec ID event",
            Self::FirstNotSpecId => "the first event is not a Spec ID event",
            Self::SpecIdPastArea => "the Spec ID event runs past the log area",
            Self::NoSpecIdSignature => "no \"Spec ID Event03\" signature",
            Self::SpecIdTooShort => "Spec ID event too short",
            Self::AlgorithmCount => "the Spec ID event declares no or too many algorithms",
            Self::EntryPastArea => "entry past the log area",
            Self::TooManyDigests => "more digests than the Spec ID event declares",
            Self::UndeclaredAlgorithm => {
                "digest of an algorithm the Spec ID event does not declare"
            }
        }
    }
}

display_by_name!(LogProblem);

/// What is wrong with an ACPI table ([`MeasureError::AcpiTable`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AcpiProblem {
    /// The RSDP lacks its `RSD PTR ` signature.
    NoRsdpSignature,
    /// The table's bytes do not sum to 0.
    Checksum,
    /// An ACPI 2.0+ RSDP's 36 bytes do not sum to 0.
    ExtendedChecksum,
    /// The header's length is below the header or above
    /// [`ACPI_TABLE_MAX`](super::ACPI_TABLE_MAX).
    ImpossibleLength,
    /// The table is not the RSDT or XSDT the RSDP names.
    NotRootTable,
    /// The table is not the one looked for (another signature).
    OtherSignature,
    /// A TPM2 table shorter than the log area fields.
    NoLogArea,
    /// A TPM2 table whose log area is empty or at address 0.
    EmptyLogArea,
}

impl AcpiProblem {
    /// The phrase used in messages (after the table's signature).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::NoRsdpSignature => "has no \"RSD PTR \" signature",
            Self::Checksum => "fails its checksum",
            Self::ExtendedChecksum => "fails its extended checksum",
            Self::ImpossibleLength => "has an impossible length",
            Self::NotRootTable => "is not the root table the RSDP names",
            Self::OtherSignature => "has another signature",
            Self::NoLogArea => "has no event log area (shorter than 76 bytes)",
            Self::EmptyLogArea => "describes no event log area",
        }
    }
}

display_by_name!(AcpiProblem);
