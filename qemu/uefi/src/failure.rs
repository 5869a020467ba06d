//! Everything that stops the boot: its one-line message, the status returned
//! to the firmware and the code written to QEMU's isa-debug-exit (only where
//! the ESP asks for it, a test convenience: [`crate::fw::Firmware::refuse`]).
//!
//! Codes follow the PVH stub's table (`qemu/README.md`): library errors keep
//! the library's classification (`Error::class`, codes 2..10); the loader's
//! own failures are about the firmware and the ESP's files (1), a kernel
//! without an EFI stub (7, a bzImage problem), `append.txt` (8), memory (9),
//! the loader itself (11), the firmware refusing the image for another reason
//! than Secure Boot or the kernel's EFI stub returning (12), measured boot
//! (13, the PVH stub's code for TPM failures) and Secure Boot's verdict on
//! the kernel (15: the firmware's `LoadImage` answered
//! `EFI_ACCESS_DENIED` / `EFI_SECURITY_VIOLATION`, or shim's Verify refused
//! it; [`crate::secureboot`]).

use core::fmt;

use r_efi::efi::Status;
use rvf_boot::Error;
use rvf_boot::cmdline::APPEND_MAX;
use rvf_boot::error::ErrorClass;
use rvf_boot::measure::MeasureError;

use crate::files::FileKind;

/// Everything that stops the boot.
#[derive(Clone, Copy, Debug)]
pub enum Failure {
    /// The library refused the file, the image or the command line.
    Lib(Error),
    /// A firmware service failed.
    Firmware {
        /// What the loader asked for.
        what: &'static str,
        /// The firmware's status.
        status: Status,
    },
    /// A file on the ESP could not be opened or read.
    File {
        /// Which file.
        file: FileKind,
        /// What failed.
        what: &'static str,
        /// The firmware's status.
        status: Status,
    },
    /// A file is larger than the loader accepts for it.
    FileTooLarge {
        /// Which file.
        file: FileKind,
        /// Its size from the file system.
        size: u64,
        /// The loader's limit.
        limit: u64,
    },
    /// `AllocatePages` failed.
    NoMemory {
        /// For what.
        what: &'static str,
        /// How many bytes.
        bytes: u64,
        /// The firmware's status.
        status: Status,
    },
    /// The load options name an RVF path longer than the loader's buffer.
    PathTooLong,
    /// `append.txt` holds more than [`APPEND_MAX`] bytes (after its final
    /// newline is dropped).
    AppendTooLong {
        /// Its length.
        length: u64,
    },
    /// The final command line is not UTF-8 (Linux's EFI stub takes UTF-16
    /// load options).
    CmdlineNotUtf8,
    /// The firmware refused to load the verified image (`LoadImage`: e.g.
    /// Secure Boot), or the kernel's EFI stub returned (`StartImage`).
    KernelRefused {
        /// Which call.
        what: &'static str,
        /// Its status.
        status: Status,
    },
    /// Secure Boot refused the verified kernel ([`crate::secureboot`]): the
    /// firmware's `LoadImage` (db, dbx) or shim's `Verify`.
    SecureBootRefused {
        /// Who decided.
        by: Verifier,
        /// Its status.
        status: Status,
        /// `LoadImage` returned an image handle with its refusal (edk2 does
        /// for `EFI_SECURITY_VIOLATION`), and the loader unloaded it.
        unloaded: bool,
    },
    /// A condition the loader's own logic rules out (a bug if ever seen).
    Internal(&'static str),
    /// Measured boot: the library refused to build the events.
    Measure(MeasureError),
    /// Measured boot: an `EFI_TCG2_PROTOCOL` call other than an event's
    /// failed.
    Tcg2 {
        /// Which call.
        what: &'static str,
        /// Its status.
        status: Status,
    },
    /// Measured boot: `HashLogExtendEvent` of one event failed.
    Tcg2Event {
        /// The event's index in the library's list.
        index: usize,
        /// Its PCR.
        pcr: u32,
        /// What it measures.
        what: &'static str,
        /// The firmware's status.
        status: Status,
    },
    /// Measured boot: the TPM's SHA-256 PCR bank is not active.
    NoSha256Bank {
        /// The active banks (`EFI_TCG2_EVENT_ALGORITHM_BITMAP`).
        banks: u32,
    },
}

/// Who refused a kernel under Secure Boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verifier {
    /// The firmware's `LoadImage` (its `EFI_SECURITY2_ARCH_PROTOCOL`: db, dbx).
    Firmware,
    /// shim's Shim Lock protocol (`Verify`: db, MokList, shim's vendor key).
    Shim,
}

impl Failure {
    /// Its class in the library's one list; the exit code is the class's
    /// ([`ErrorClass::exit_code`], the project's only exit-code table).
    pub const fn class(&self) -> ErrorClass {
        match self {
            Self::Firmware { .. } | Self::File { .. } | Self::PathTooLong => ErrorClass::Handover,
            Self::AppendTooLong { .. } | Self::CmdlineNotUtf8 => ErrorClass::Cmdline,
            Self::FileTooLarge { .. } | Self::NoMemory { .. } => ErrorClass::Memory,
            Self::Internal(_) => ErrorClass::Loader,
            Self::KernelRefused { .. } => ErrorClass::FirmwareRefused,
            Self::Measure(_)
            | Self::Tcg2 { .. }
            | Self::Tcg2Event { .. }
            | Self::NoSha256Bank { .. } => ErrorClass::MeasuredBoot,
            Self::SecureBootRefused { .. } => ErrorClass::SecureBootRefused,
            Self::Lib(e) => e.class(),
        }
    }

    /// The status returned to the firmware.
    pub fn status(&self) -> Status {
        match self {
            Self::Firmware { status, .. }
            | Self::File { status, .. }
            | Self::NoMemory { status, .. }
            | Self::KernelRefused { status, .. }
            | Self::SecureBootRefused { status, .. }
            | Self::Tcg2 { status, .. }
            | Self::Tcg2Event { status, .. }
                if status.is_error() =>
            {
                *status
            }
            Self::FileTooLarge { .. } => Status::BAD_BUFFER_SIZE,
            Self::Lib(e)
                if matches!(
                    e.class(),
                    ErrorClass::Integrity | ErrorClass::ImageHash | ErrorClass::Authentication
                ) =>
            {
                Status::SECURITY_VIOLATION
            }
            Self::PathTooLong
            | Self::Firmware { .. }
            | Self::File { .. }
            | Self::NoMemory { .. }
            | Self::KernelRefused { .. }
            | Self::Tcg2 { .. }
            | Self::Tcg2Event { .. }
            | Self::Measure(_)
            | Self::NoSha256Bank { .. }
            | Self::AppendTooLong { .. }
            | Self::CmdlineNotUtf8
            | Self::Internal(_)
            | Self::Lib(_) => Status::LOAD_ERROR,
            Self::SecureBootRefused { .. } => Status::SECURITY_VIOLATION,
        }
    }
}

/// A firmware status by its UEFI name.
pub struct StatusName(pub Status);

impl fmt::Display for StatusName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        let name = [
            (Status::LOAD_ERROR, "EFI_LOAD_ERROR"),
            (Status::INVALID_PARAMETER, "EFI_INVALID_PARAMETER"),
            (Status::UNSUPPORTED, "EFI_UNSUPPORTED"),
            (Status::BAD_BUFFER_SIZE, "EFI_BAD_BUFFER_SIZE"),
            (Status::BUFFER_TOO_SMALL, "EFI_BUFFER_TOO_SMALL"),
            (Status::DEVICE_ERROR, "EFI_DEVICE_ERROR"),
            (Status::OUT_OF_RESOURCES, "EFI_OUT_OF_RESOURCES"),
            (Status::VOLUME_CORRUPTED, "EFI_VOLUME_CORRUPTED"),
            (Status::NO_MEDIA, "EFI_NO_MEDIA"),
            (Status::NOT_FOUND, "EFI_NOT_FOUND"),
            (Status::ACCESS_DENIED, "EFI_ACCESS_DENIED"),
            (Status::ABORTED, "EFI_ABORTED"),
            (Status::SECURITY_VIOLATION, "EFI_SECURITY_VIOLATION"),
        ]
        .into_iter()
        .find(|(st, _)| *st == s)
        .map(|(_, n)| n);
        match name {
            Some(n) => f.write_str(n),
            None => write!(f, "status {:#x}", s.as_usize()),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Lib(e) => write!(f, "{e}"),
            Self::Firmware { what, status } => {
                write!(f, "firmware: {what} failed: {}", StatusName(*status))
            }
            Self::File { file, what, status } => {
                write!(f, "{file}: {what} failed: {}", StatusName(*status))
            }
            Self::FileTooLarge { file, size, limit } => write!(
                f,
                "{file}: {size} bytes, more than the loader's {limit}-byte limit for it"
            ),
            Self::NoMemory {
                what,
                bytes,
                status,
            } => write!(
                f,
                "no memory for the {what} ({bytes} bytes): {}",
                StatusName(*status)
            ),
            Self::PathTooLong => write!(
                f,
                "the RVF path in the load options is longer than {} characters",
                crate::files::PATH_MAX
            ),
            Self::AppendTooLong { length } => write!(
                f,
                "append.txt holds {length} bytes, more than the loader's {APPEND_MAX}-byte limit"
            ),
            Self::CmdlineNotUtf8 => f.write_str(
                "kernel command line: not UTF-8 (Linux's EFI stub takes UTF-16 load options)",
            ),
            Self::KernelRefused { what, status } => write!(
                f,
                "the verified kernel was not started: {what} returned {}",
                StatusName(*status)
            ),
            Self::SecureBootRefused {
                by: Verifier::Firmware,
                status,
                unloaded,
            } => write!(
                f,
                "Secure Boot: the firmware refused the verified kernel: LoadImage returned {} (its db does not allow this kernel{})",
                StatusName(*status),
                if *unloaded {
                    "; the image handle it returned was unloaded"
                } else {
                    ""
                }
            ),
            Self::SecureBootRefused {
                by: Verifier::Shim,
                status,
                ..
            } => write!(
                f,
                "Secure Boot: shim refused the verified kernel: Shim Lock Verify returned {} (neither db nor shim's MOK or vendor key allows it)",
                StatusName(*status)
            ),
            Self::Internal(what) => write!(f, "loader bug: {what}"),
            Self::Measure(e) => write!(f, "measured boot: {e}"),
            Self::Tcg2 { what, status } => write!(
                f,
                "measured boot: EFI_TCG2_PROTOCOL.{what} failed: {}",
                StatusName(*status)
            ),
            Self::Tcg2Event {
                index,
                pcr,
                what,
                status,
            } => write!(
                f,
                "measured boot: EFI_TCG2_PROTOCOL.HashLogExtendEvent of event {} ({what}, PCR {pcr}) failed: {}",
                index.saturating_add(1),
                StatusName(*status)
            ),
            Self::NoSha256Bank { banks } => write!(
                f,
                "measured boot: the TPM's SHA-256 PCR bank is not active (active: {}): rvf-boot measures into SHA-256",
                crate::tcg2::Banks(*banks)
            ),
        }
    }
}

impl From<MeasureError> for Failure {
    fn from(e: MeasureError) -> Self {
        Self::Measure(e)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Self::Lib(e)
    }
}
