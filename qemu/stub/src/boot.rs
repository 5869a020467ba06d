//! The stub's part of a boot: the PVH start info and the memory map, the
//! RVF module, then the library's boot core ([`rvf_boot::boot::prepare`])
//! on a placing machine, which verifies, places and builds the zero page;
//! the stub gives it RAM (a slice over a range the core placed and
//! reserved), the initramfs from fw_cfg, its clock and log lines; then the
//! copy, measured boot and the jump. Returns only on failure. Every slice
//! over guest RAM is formed here, over a range the library checked with its
//! predicate and reserved.

use core::fmt::Write;

use rvf_boot::boot::{
    self, Initrd, InitrdSlot, Machine, Phase, Platform, Prepared, Request, Reservations,
};
use rvf_boot::gzip::InflateState;
use rvf_boot::memory::{MemoryRegion, PhysRange};
use rvf_boot::zero_page::ZERO_PAGE_SIZE;
use rvf_boot_shell::report::{AuthenticatedLine, KernelLine, VerifiedLine};

use crate::ap::{Report, SecondCpu};
use crate::cmdline::{APPEND_MAX, copy_append};
use crate::deliver;
use crate::failure::Failure;
use crate::hw::{self, FwCfg, Serial};
use crate::memmap::{self, BEYOND_IDENTITY_MAP};
use crate::meter::{Meter, Timed};
use crate::pvh::StartInfo;
use crate::tpm;

/// Size of the buffer the final command line is assembled in (the library's,
/// shared with `rvf-boot measure`); a kernel with a larger `cmdline_size` is
/// still limited to this.
const CMDLINE_BUF: usize = rvf_boot::cmdline::BUFFER_SIZE;

/// A page-aligned 4 KiB buffer in `.bss`.
#[repr(C, align(4096))]
struct Page([u8; ZERO_PAGE_SIZE]);

/// The zero page (`struct boot_params`) handed to the kernel in RSI. It lives
/// in the stub's `.bss`, which is reserved (the stub's image).
static mut ZERO_PAGE: Page = Page([0; ZERO_PAGE_SIZE]);

/// The command line the kernel receives (`cmd_line_ptr`), NUL-terminated.
static mut CMDLINE: [u8; CMDLINE_BUF] = [0; CMDLINE_BUF];

/// An uninhabited type: [`run`] only returns on failure.
pub enum Never {}

/// The boot. Returns only on failure.
pub fn run(start_info: u64, serial: &mut Serial, t0: u64) -> Result<Never, Failure> {
    // INIT to the other CPUs first: their 10 ms wait passes while the
    // container is checked.
    let second = SecondCpu::init();
    let info = StartInfo::read(start_info).map_err(Failure::Pvh)?;
    let memory = memmap::translate(&info)?;
    let memory: &[MemoryRegion] = &memory;

    // ---- what is taken before anything is placed
    let stub = memmap::stub_image();
    let mut reserved = Reservations::new();
    reserved.add(BEYOND_IDENTITY_MAP)?;
    reserved.add(stub)?;

    // ---- -append (copied into the stub before anything is placed)
    let mut append = [0u8; APPEND_MAX];
    let extra = copy_append(memory, stub, info.cmdline_paddr, &mut append)?;

    let mut fw = FwCfg::on_demand();
    let one = deliver::module(memory, &mut reserved, info.module, &mut fw)?;
    // The second CPU's start-up page, clear of the stub and the RVF.
    second.prepare(memory, &mut reserved)?;
    if one.initrd.is_some() {
        let _ = writeln!(serial, "{one}");
    }
    let (cmdline, zero_page) = (&raw mut CMDLINE, &raw mut ZERO_PAGE);
    // SAFETY: CMDLINE is touched only here, once, on the boot CPU (the APs
    // never see it), so this is its only reference.
    let cmdline: &'static mut [u8; CMDLINE_BUF] = unsafe { &mut *cmdline };
    // SAFETY: as for CMDLINE.
    let zero_page: &'static mut Page = unsafe { &mut *zero_page };
    let request = Request {
        rvf: one.rvf,
        policy: rvf_boot_shell::policy(),
        extra,
        cmdline,
        machine: Machine::Placing {
            memory,
            reserved: &mut reserved,
            acpi_rsdp: (info.rsdp_paddr != 0).then_some(info.rsdp_paddr),
            zero_page: &mut zero_page.0,
        },
    };
    let mut state = InflateState::new();
    let mut engine = Timed::new(&mut state);
    let mut shell = Shell {
        serial,
        fw: &mut fw,
        second: &second,
        times: [t0, 0, 0, 0],
        cpu: None,
        packed_initrd: one.initrd,
    };
    let prepared = boot::prepare(request, &mut shell, &mut engine, &second)?;
    let cpu = shell
        .cpu
        .ok_or(Failure::Internal("the core reported no extraction"))?;
    let meter = Meter {
        inflate: engine.step_cycles(),
        crc: engine.crc_cycles(),
        on_ap: cpu.ap_cycles,
        waiting: cpu.wait_cycles,
        times: shell.times,
    };
    hand_over(serial, &reserved, &info, &prepared, &meter)
}

/// The stub as the boot core's [`Platform`].
struct Shell<'s> {
    serial: &'s mut Serial,
    fw: &'s mut FwCfg,
    second: &'s SecondCpu,
    /// TSC at entry, once the container was checked, once the image was,
    /// once the second CPU stopped.
    times: [u64; 4],
    /// The second CPU's report, once it stopped.
    cpu: Option<Report>,
    /// The initramfs packed behind the RVF in its module, if any.
    packed_initrd: Option<&'static [u8]>,
}

impl Platform<'static> for Shell<'_> {
    type Error = Failure;

    fn image_buffer(
        &mut self,
        _size: u64,
        at: Option<PhysRange>,
    ) -> Result<&'static mut [u8], Failure> {
        deliver::image_buffer(at)
    }

    fn initrd(&mut self, slot: &mut InitrdSlot<'_>) -> Result<Option<Initrd<'static>>, Failure> {
        match self.packed_initrd {
            Some(initrd) => deliver::packed_initrd(slot, initrd),
            None => deliver::initrd_from_fw_cfg(self.fw, slot),
        }
    }

    fn phase(&mut self, phase: Phase<'_, '_>) -> Result<(), Failure> {
        match phase {
            Phase::Opened { .. } => self.times[1] = hw::rdtsc(),
            Phase::Extracted { container, kernel } => {
                self.times[2] = hw::rdtsc();
                // The second CPU parked and reset before anything uses the image.
                let cpu = self.second.finish()?;
                self.times[3] = hw::rdtsc();
                let _ = writeln!(self.serial, "{cpu}");
                self.cpu = Some(cpu);
                let _ = writeln!(self.serial, "{}", KernelLine { container, kernel });
            }
            _ => {}
        }
        Ok(())
    }
}

/// Copy, measure, jump. Returns only on failure.
fn hand_over(
    serial: &mut Serial,
    reserved: &Reservations,
    info: &StartInfo,
    prepared: &Prepared<'_, '_>,
    meter: &Meter,
) -> Result<Never, Failure> {
    if rvf_boot_shell::is_strict() {
        let line = AuthenticatedLine::from(prepared.authenticated());
        let _ = writeln!(serial, "{line}");
    }
    // ---- the kernel to where the plan put it
    let entry = deliver::place_kernel(prepared.handover())?;
    // ---- measured boot: the events `rvf-boot measure` predicts, extended
    // and logged before the jump; built (the initrd hashed) only when there
    // is a TPM to extend them into
    tpm::measure(serial, info.rsdp_paddr, reserved, || prepared.events())?;

    let _ = writeln!(serial, "{}", meter.line(hw::rdtsc()));
    let _ = writeln!(serial, "{}", VerifiedLine(prepared));
    let _ = writeln!(serial, "rvf-boot: entering kernel at {entry:#x}");
    // Only the address: the core built the page through its one reference.
    let zp_addr = (&raw const ZERO_PAGE).addr() as u64;
    // Both 8259s masked: Linux's 64-bit entry does not reprogram them, and
    // an IRQ a firmware left pending would arrive at an exception vector.
    hw::mask_pics();
    // SAFETY: every byte the kernel runs from was verified (image hash and,
    // for gzip, CRC-32) and copied to where the plan put it; the zero
    // page and command line are built; the 64-bit boot protocol asks for
    // long mode with an identity map covering the window, zero page and
    // command line (0..4 GiB is mapped and every placement is below it), the
    // GDT's 0x10/0x18 flat selectors loaded (entry.rs), interrupts off and
    // RSI = zero page. Control never returns.
    unsafe {
        core::arch::asm!("cli", "jmp {entry}", entry = in(reg) entry, in("rsi") zp_addr, options(noreturn));
    }
}
