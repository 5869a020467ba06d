//! rvf-boot.efi: a UEFI application that verifies the Linux kernel inside an
//! RVF file on the EFI system partition with `rvf-boot` and starts it.
//!
//! The firmware starts it (gnu-efi's `_start` relocates the image and calls
//! [`efi_main`]). It
//!
//! 1. reads the RVF from the volume it was loaded from: the first word of its
//!    load options that starts with `\`, default `\EFI\rvf\boot.rvf`
//!    ([`files`]), into pages from `AllocatePages` sized from the file
//!    system's file info,
//! 2. parses and checks it with the library (`Container::parse`,
//!    `selected_kernel`), allocates the image buffer the library's
//!    `image::buffer_size` names (bounded by the verified kernel header) and
//!    verifies the image into it (`image::extract`: content hash, gzip inflate
//!    + CRC-32, `image_hash`),
//! 3. checks the bzImage header (`BzImage::parse`) and that the image carries
//!    Linux's EFI stub (a PE/COFF header for x86_64, [`pe`]),
//! 4. assembles the command line with `cmdline::write`: the RVF's cmdline
//!    plus `\EFI\rvf\append.txt` when that file exists,
//! 5. measures the PVH stub's events (`measure::boot_events`) through the
//!    firmware's `EFI_TCG2_PROTOCOL`, where there is one ([`tcg2`]),
//! 6. serves `\EFI\rvf\initrd`, when it exists, through the Linux initrd
//!    media device path and `EFI_LOAD_FILE2_PROTOCOL` ([`initrd`]),
//! 7. `LoadImage`s the verified bzImage from the verified buffer (the
//!    firmware copies and relocates it: the bytes loaded are the bytes
//!    verified; under Secure Boot by the route [`secureboot`] describes),
//!    hands it the command line as UCS-2 load options and `StartImage`s it:
//!    Linux's EFI stub takes over.
//!
//! On any refusal it prints exactly one line `rvf-boot: error: <message>` on
//! the console (`ConOut`, which OVMF mirrors to the serial port) and returns
//! an error status to the firmware, which goes on to its next boot option
//! ([`failure`]). The kernel is never started with unverified bytes.
//!
//! Interrupts and the red zone: the prebuilt `core` of the
//! `x86_64-unknown-linux-gnu` target assumes a 128-byte red zone, which a
//! firmware interrupt (taken on the current stack) would overwrite. Every
//! crate compiled here is built with `-C no-redzone` (`.cargo/config.toml`),
//! and all the library's work and all formatting run with interrupts masked
//! (`RaiseTPL(TPL_HIGH_LEVEL)`, [`fw::Firmware::masked`]); firmware is called
//! only at the caller's TPL.
#![no_std]
#![deny(
    unsafe_op_in_unsafe_fn,
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unreachable,
    clippy::todo,
    clippy::unimplemented
)]

mod boot;
mod failure;
mod files;
mod fw;
mod initrd;
mod names;
mod secureboot;
mod tcg2;
mod text;

use core::sync::atomic::{AtomicPtr, Ordering};

use r_efi::efi::{Handle, Status, SystemTable};
// The runtime symbols (`memcpy` & co.) and the boot policy live in the
// shell crate shared with the PVH stub.
use rvf_boot_shell as _;

/// The firmware's handover, kept for the panic handler. In `.data`: gnu-efi's
/// linker script collects only the plain `.bss` section, and zero-initialised
/// statics would land in `.bss.*`.
#[unsafe(link_section = ".data")]
static SYSTEM_TABLE: AtomicPtr<SystemTable> = AtomicPtr::new(core::ptr::null_mut());

/// The loader's image handle, for the panic handler (see [`SYSTEM_TABLE`]).
#[unsafe(link_section = ".data")]
static IMAGE: AtomicPtr<core::ffi::c_void> = AtomicPtr::new(core::ptr::null_mut());

/// The application's entry, called by gnu-efi's `_start` (System V ABI) after
/// it applied the image's relocations.
#[unsafe(no_mangle)]
extern "C" fn efi_main(image: Handle, system_table: *mut SystemTable) -> Status {
    SYSTEM_TABLE.store(system_table, Ordering::Relaxed);
    IMAGE.store(image, Ordering::Relaxed);
    // SAFETY: the firmware passes its system table, valid (with its boot
    // services) until ExitBootServices, which only the kernel's EFI stub
    // calls, after this application handed over control.
    let Some(fw) = (unsafe { fw::Firmware::new(image, system_table) }) else {
        return Status::INVALID_PARAMETER;
    };
    match boot::run(&fw) {
        Ok(status) => status,
        Err(failure) => {
            fw.refuse(&failure);
            failure.status()
        }
    }
}

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    // The lint wall and the library's no-panic rule make this unreachable;
    // if it ever runs, refuse like any failure and leave through Exit.
    let st = SYSTEM_TABLE.load(Ordering::Relaxed);
    let image = IMAGE.load(Ordering::Relaxed);
    // SAFETY: both were stored by efi_main from the firmware's own call (or
    // are null, which `new` refuses); boot services are still running.
    if let Some(fw) = unsafe { fw::Firmware::new(image, st) } {
        let failure = failure::Failure::Internal("panic");
        fw.refuse(&failure);
        fw.exit(failure.status());
    }
    loop {
        core::hint::spin_loop();
    }
}
