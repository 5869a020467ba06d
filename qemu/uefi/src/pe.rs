//! Does the verified bzImage carry Linux's EFI stub? A loader-specific check
//! (the PVH stub ignores the PE header): `MZ` at byte 0, `e_lfanew` at 0x3c
//! pointing inside the setup area at `PE\0\0`, and a COFF machine of x86_64.
//! The firmware's own PE loader checks the rest when it loads the image.

use crate::failure::Failure;

/// `IMAGE_FILE_MACHINE_AMD64`.
const MACHINE_X86_64: u16 = 0x8664;

/// Offset of `e_lfanew` in the MS-DOS header.
const E_LFANEW: usize = 0x3c;

/// Check the PE/COFF header of `image` (the verified bzImage), whose setup
/// area is `setup_size` bytes long (the library's `BzImage::setup_size`).
pub fn check_efi_stub(image: &[u8], setup_size: u64) -> Result<(), Failure> {
    if image.get(..2) != Some(b"MZ".as_slice()) {
        return Err(Failure::NoEfiStub("no \"MZ\" at byte 0"));
    }
    let lfanew = image
        .get(E_LFANEW..E_LFANEW.wrapping_add(4))
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_le_bytes)
        .ok_or(Failure::NoEfiStub("no e_lfanew"))?;
    let at = usize::try_from(lfanew).map_err(|_| Failure::NoEfiStub("e_lfanew out of range"))?;
    // The PE header sits in the real-mode setup, as Linux's header.S puts it.
    let pe_end = at
        .checked_add(6)
        .ok_or(Failure::NoEfiStub("e_lfanew out of range"))?;
    if u64::try_from(pe_end).map_or(true, |end| end > setup_size) {
        return Err(Failure::NoEfiStub("e_lfanew points outside the setup area"));
    }
    let pe = image
        .get(at..pe_end)
        .ok_or(Failure::NoEfiStub("e_lfanew out of range"))?;
    if pe.get(..4) != Some(b"PE\0\0".as_slice()) {
        return Err(Failure::NoEfiStub("no \"PE\\0\\0\" signature at e_lfanew"));
    }
    let machine = pe
        .get(4..6)
        .and_then(|b| <[u8; 2]>::try_from(b).ok())
        .map(u16::from_le_bytes)
        .ok_or(Failure::NoEfiStub("e_lfanew out of range"))?;
    if machine != MACHINE_X86_64 {
        return Err(Failure::NoEfiStub("the PE image is not for x86_64"));
    }
    Ok(())
}
