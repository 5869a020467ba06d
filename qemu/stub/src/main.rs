//! rvf-boot-stub: a bare-metal x86_64 loader that QEMU (`pc`, `microvm`),
//! Firecracker or Cloud Hypervisor starts through PVH.
//!
//! The VMM hands it the RVF file as PVH module 0 (`-initrd FILE.rvf`;
//! Firecracker's `initrd_path`, Cloud Hypervisor's `--initramfs`), extra
//! kernel arguments as the PVH command line (`-append`), and optionally an
//! initramfs, either packed in the same module behind the RVF ([`module`])
//! or as the fw_cfg file `opt/rvf-boot/initrd`. The stub
//!
//! 1. reads the PVH start info and the firmware's memory map ([`pvh`],
//!    [`memmap`]) and checks the RVF module's and the `-append` string's
//!    addresses ([`memmap`], [`cmdline`]),
//! 2. parses and checks the RVF with `rvf-boot` (walk, newest manifest,
//!    directory, manifest hash),
//! 3. selects and verifies the kernel with the library: content hash, gzip
//!    inflate + CRC-32, `image_hash`, inflating straight into the kernel
//!    window when the layout allows ([`boot`], [`place`]), the hashes on a
//!    second CPU when there is one ([`ap`]),
//! 4. validates the bzImage header and plans the load address with the
//!    library's `BootPlan`,
//! 5. reads the initramfs, builds the zero page and the command line,
//! 6. with a TPM 2.0, extends the library's measured-boot events (RVF
//!    manifest, kernel image, initrd into PCR 9; the final command line into
//!    PCR 8) and appends them to the firmware's TCG event log ([`tpm`]),
//! 7. moves the protected-mode part to the load address if it is not there
//!    yet and jumps to load + 0x200 with RSI = zero page, interrupts off.
//!
//! Before the jump both 8259 PICs are masked ([`hw::mask_pics`]).
//!
//! On any failure it prints exactly one line `rvf-boot: error: <message>` on
//! COM1 and leaves QEMU through isa-debug-exit with the code of the error's
//! class ([`failure`], table in `qemu/README.md`); without that device,
//! through ACPI S5 (Cloud Hypervisor) or the i8042 reset (Firecracker), else
//! it halts ([`hw::exit_vm`]).
//!
//! Memory: one vocabulary, the library's (`rvf_boot::memory`): its
//! `PhysRange`/`MemoryRegion`, its limits and its usable-RAM predicate
//! (reserved entries win over RAM they overlap). The stub occupies [2 MiB,
//! `__stub_end`), which includes its stack, page tables, zero page and
//! command-line buffer. Everything used until the jump is reserved ([`place`]);
//! buffers go top-down below 4 GiB (`rvf_boot::plan::place_high`), the kernel
//! window where `BootPlan` puts it (lowest fit at or above `pref_address`).
//! The boot CPU runs the stub; one application processor, if it answers
//! INIT-SIPI-SIPI, hashes beside the inflate and is reset with INIT before
//! the jump ([`ap`]), so Linux starts every other CPU itself.
#![no_std]
#![no_main]
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

mod ap;
mod boot;
mod cmdline;
mod deliver;
mod entry;
mod failure;
mod hw;
mod memmap;
mod meter;
mod pvh;
mod tpm;

use core::fmt::Write;

use hw::{Serial, exit_vm};
// The runtime symbols (`memcpy` & co.) and the boot policy live in the
// shell crate shared with rvf-boot.efi.
use rvf_boot_shell as _;

/// Rust entry, called by `pvh_start` in long mode with the start info address.
#[unsafe(no_mangle)]
extern "C" fn stub_main(start_info: u64) -> ! {
    let t0 = hw::rdtsc();
    let mut serial = Serial::init();
    let failure = match boot::run(start_info, &mut serial, t0) {
        Ok(never) => match never {},
        Err(f) => f,
    };
    let _ = writeln!(serial, "rvf-boot: error: {failure}");
    exit_vm(failure.class().exit_code())
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let mut serial = Serial;
    let _ = writeln!(serial, "rvf-boot: error: stub bug: {}", info.message());
    exit_vm(11)
}
