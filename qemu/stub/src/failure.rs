//! Everything that stops the boot, its exit code and its one-line message.
//!
//! Library errors keep the library's classification (`Error::class`); the
//! stub's own failures are classed in the same list: what the firmware
//! handed over, the `-append` string (a command-line error), measured boot
//! (the TPM failed or the event log cannot take the events) and the stub
//! itself. The exit code is the class's (`ErrorClass::exit_code`).

use core::fmt;

use rvf_boot::Error;
use rvf_boot::error::ErrorClass;
use rvf_boot::memory::{E820_MAX_ENTRIES, PhysRange, RangeProblem};

use crate::cmdline::APPEND_MAX;
use crate::hw::FwCfgError;
use crate::pvh::PvhError;
use crate::tpm::MeasureFailure;

/// Everything that stops the boot, with the exit code of its class.
#[derive(Clone, Copy, Debug)]
pub enum Failure {
    /// The library refused the file, the image or the plan.
    Lib(Error),
    /// The PVH start info is unusable.
    Pvh(PvhError),
    /// fw_cfg failed.
    FwCfg(FwCfgError),
    /// A range the firmware handed over cannot be used.
    Handover {
        /// What it is.
        what: Handover,
        /// Where the firmware put it (for the cmdline: the bytes the stub
        /// may read from its address).
        range: PhysRange,
        /// Why it cannot be used.
        problem: HandoverProblem,
    },
    /// The `-append` string is longer than [`APPEND_MAX`] bytes.
    AppendTooLong,
    /// Measured boot failed: the TPM answered an error or broke the
    /// protocol, or the event log cannot take the events.
    Measure(MeasureFailure),
    /// A condition the stub's own logic rules out (a bug if ever seen).
    Internal(&'static str),
}

/// What the firmware handed over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handover {
    /// PVH module 0, the RVF file (`-initrd FILE.rvf`).
    RvfFile,
    /// The PVH command line (`-append`).
    Cmdline,
}

impl fmt::Display for Handover {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::RvfFile => "RVF module",
            Self::Cmdline => "-append string",
        })
    }
}

/// Why a handed-over range cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandoverProblem {
    /// The library's range check ([`rvf_boot::memory::check_range`]): empty,
    /// wrapping, above the 4 GiB identity map, not usable RAM, or overlapping
    /// the stub's own image.
    Range(RangeProblem),
    /// No NUL before the end of the readable memory (or the stub's image)
    /// after it.
    Unterminated,
    /// Its first byte is not readable memory (RAM, ACPI or ACPI NVS in the
    /// memory map): the PVH command line only.
    Unreadable,
}

impl fmt::Display for HandoverProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Range(p) => write!(f, "{p}"),
            Self::Unterminated => f.write_str("has no NUL inside readable memory"),
            Self::Unreadable => {
                f.write_str("is not in RAM, ACPI or ACPI NVS memory of the memory map")
            }
        }
    }
}

impl Failure {
    /// Its class in the library's one list; the exit code is the class's
    /// ([`ErrorClass::exit_code`], the project's only exit-code table).
    pub const fn class(&self) -> ErrorClass {
        match self {
            Self::Pvh(_) | Self::FwCfg(_) | Self::Handover { .. } => ErrorClass::Handover,
            Self::AppendTooLong => ErrorClass::Cmdline,
            Self::Internal(_) => ErrorClass::Loader,
            Self::Measure(_) => ErrorClass::MeasuredBoot,
            Self::Lib(e) => e.class(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Lib(e) => write!(f, "{e}"),
            Self::Pvh(PvhError::BadMagic(m)) => write!(
                f,
                "not started through PVH: start info magic {m:#010x}, expected 0x336ec578"
            ),
            Self::Pvh(PvhError::NoMemmap) => f.write_str("PVH start info carries no memory map"),
            Self::Pvh(PvhError::MemmapTooLarge(n)) => write!(
                f,
                "PVH memory map has {n} entries, the stub keeps at most {E820_MAX_ENTRIES}"
            ),
            Self::Pvh(PvhError::NoModule) => {
                f.write_str("no RVF file: QEMU was started without -initrd FILE.rvf (or -fw_cfg name=opt/rvf-boot/rvf,file=FILE.rvf)")
            }
            Self::FwCfg(FwCfgError::Absent) => f.write_str("fw_cfg interface not found"),
            Self::FwCfg(FwCfgError::NoDma) => f.write_str("fw_cfg has no DMA interface"),
            Self::FwCfg(FwCfgError::Dma) => f.write_str("fw_cfg DMA transfer failed"),
            Self::Handover {
                what,
                range,
                problem,
            } => write!(
                f,
                "the {what} at {:#x}..{:#x} {problem}",
                range.base,
                range.end().unwrap_or(u64::MAX)
            ),
            Self::AppendTooLong => write!(
                f,
                "the -append string is longer than the stub's {APPEND_MAX}-byte limit"
            ),
            Self::Measure(m) => write!(f, "{m}"),
            Self::Internal(what) => write!(f, "stub bug: {what}"),
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Self::Lib(e)
    }
}

impl From<MeasureFailure> for Failure {
    fn from(e: MeasureFailure) -> Self {
        Self::Measure(e)
    }
}

impl From<rvf_boot::measure::MeasureError> for Failure {
    fn from(e: rvf_boot::measure::MeasureError) -> Self {
        Self::Measure(MeasureFailure::Lib(e))
    }
}

impl From<FwCfgError> for Failure {
    fn from(e: FwCfgError) -> Self {
        Self::FwCfg(e)
    }
}
