//! Does the verified bzImage carry Linux's EFI stub? The check a loader that
//! starts Linux through the firmware (`rvf-boot.efi`: `LoadImage` +
//! `StartImage`) makes before handing it over: `MZ` at byte 0, `e_lfanew` at
//! 0x3c pointing inside the setup area at `PE\0\0`, and a COFF machine of
//! x86_64. The firmware's own PE loader checks the rest when it loads the
//! image; a loader that places the kernel itself ignores the PE header.

use crate::error::{Error, Result};

/// `IMAGE_FILE_MACHINE_AMD64`.
const MACHINE_X86_64: u16 = 0x8664;

/// Offset of `e_lfanew` in the MS-DOS header.
const E_LFANEW: usize = 0x3c;

/// Why an image has no usable EFI stub ([`Error::NoEfiStub`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EfiStubProblem {
    /// Byte 0 is not `MZ`.
    NoMz,
    /// The image ends before `e_lfanew`.
    NoLfanew,
    /// `e_lfanew` does not fit the address space or the image.
    LfanewOutOfRange,
    /// `e_lfanew` points past the real-mode setup area.
    LfanewOutsideSetup,
    /// No `PE\0\0` at `e_lfanew`.
    NoPeSignature,
    /// The COFF machine is not x86_64.
    NotX86_64,
    /// The kernel is an ELF vmlinux, which never has one.
    ElfVmlinux,
}

impl EfiStubProblem {
    /// The problem, as in messages.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::NoMz => "no \"MZ\" at byte 0",
            Self::NoLfanew => "no e_lfanew",
            Self::LfanewOutOfRange => "e_lfanew out of range",
            Self::LfanewOutsideSetup => "e_lfanew points outside the setup area",
            Self::NoPeSignature => "no \"PE\\0\\0\" signature at e_lfanew",
            Self::NotX86_64 => "the PE image is not for x86_64",
            Self::ElfVmlinux => "it is an ELF vmlinux, boot it through the PVH stub",
        }
    }
}

display_by_name!(EfiStubProblem);

/// Check the PE/COFF header of `image` (the verified bzImage), whose setup
/// area is `setup_size` bytes long ([`crate::bzimage::BzImage::setup_size`]).
///
/// # Errors
/// [`Error::NoEfiStub`] naming the first check that failed.
pub(super) fn check(image: &[u8], setup_size: u64) -> Result<()> {
    let refuse = |problem| Error::NoEfiStub { problem };
    if image.get(..2) != Some(b"MZ".as_slice()) {
        return Err(refuse(EfiStubProblem::NoMz));
    }
    let lfanew = image
        .get(E_LFANEW..E_LFANEW.wrapping_add(4))
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_le_bytes)
        .ok_or(refuse(EfiStubProblem::NoLfanew))?;
    let at = usize::try_from(lfanew).map_err(|_| refuse(EfiStubProblem::LfanewOutOfRange))?;
    // The PE header sits in the real-mode setup, as Linux's header.S puts it.
    let pe_end = at
        .checked_add(6)
        .ok_or(refuse(EfiStubProblem::LfanewOutOfRange))?;
    if u64::try_from(pe_end).map_or(true, |end| end > setup_size) {
        return Err(refuse(EfiStubProblem::LfanewOutsideSetup));
    }
    let pe = image
        .get(at..pe_end)
        .ok_or(refuse(EfiStubProblem::LfanewOutOfRange))?;
    if pe.get(..4) != Some(b"PE\0\0".as_slice()) {
        return Err(refuse(EfiStubProblem::NoPeSignature));
    }
    let machine = pe
        .get(4..6)
        .and_then(|b| <[u8; 2]>::try_from(b).ok())
        .map(u16::from_le_bytes)
        .ok_or(refuse(EfiStubProblem::LfanewOutOfRange))?;
    if machine != MACHINE_X86_64 {
        return Err(refuse(EfiStubProblem::NotX86_64));
    }
    Ok(())
}
