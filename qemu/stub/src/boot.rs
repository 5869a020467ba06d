//! The boot sequence: start info, the RVF verified by the library, the
//! kernel's image verified and placed, initrd, command line, zero page,
//! jump. Returns only on failure. Every slice over guest RAM is formed here,
//! over a range `place.rs` or `memmap.rs` checked with the library's
//! predicate and reserved.

use core::fmt::Write;

use rvf_boot::bzimage::BzImage;
use rvf_boot::gzip::InflateState;
use rvf_boot::image;
use rvf_boot::kernel::KernelSegment;
use rvf_boot::measure::{self, BootInputs, Digest};
use rvf_boot::memory::{MemoryRegion, PhysRange};
use rvf_boot::zero_page::{self, Handoff};
use rvf_boot::{Container, cmdline as kernel_cmdline};
use rvf_boot_shell::report::{AuthenticatedLine, KernelLine};

use crate::ap::SecondCpu;
use crate::cmdline::{APPEND_MAX, copy_append};
use crate::failure::Failure;
use crate::hw::{self, FwCfg, Serial};
use crate::memmap::{self, BEYOND_IDENTITY_MAP};
use crate::meter::Timed;
use crate::place::{self, ImageBuffer, Reserved};
use crate::pvh::StartInfo;
use crate::tpm;

/// The fw_cfg file that carries the optional initramfs.
const INITRD_FW_CFG_NAME: &[u8] = b"opt/rvf-boot/initrd";

/// The fw_cfg file that carries the RVF when QEMU passed no `-initrd`
/// (`boot.sh --tpm`: QEMU puts `-initrd` 160 KiB below the top of low RAM,
/// where SeaBIOS keeps its ACPI tables and, with a TPM, the 64 KiB TCG log
/// that no longer fits there).
const RVF_FW_CFG_NAME: &[u8] = b"opt/rvf-boot/rvf";

/// Size of the buffer the final command line is assembled in (the library's,
/// shared with `rvf-boot measure`); a kernel with a larger `cmdline_size` is
/// still limited to this.
const CMDLINE_BUF: usize = rvf_boot::cmdline::BUFFER_SIZE;

/// A page-aligned 4 KiB buffer in `.bss`.
#[repr(C, align(4096))]
struct Page([u8; 4096]);

/// The zero page (`struct boot_params`) handed to the kernel in RSI. It lives
/// in the stub's `.bss`, which is reserved (the stub's image).
static mut ZERO_PAGE: Page = Page([0; 4096]);

/// The command line the kernel receives (`cmd_line_ptr`), NUL-terminated.
static mut CMDLINE: [u8; CMDLINE_BUF] = [0; CMDLINE_BUF];

/// An uninhabited type: [`run`] only returns on failure.
pub enum Never {}

/// Guest RAM `range` as a mutable slice.
///
/// # Safety
/// `range` must be usable RAM below 4 GiB (checked against the memory map),
/// be reserved (so no other placement and no live slice overlaps it) and
/// not overlap the stub; the returned slice must be the only reference to it.
unsafe fn ram_mut(range: PhysRange) -> &'static mut [u8] {
    let len = usize::try_from(range.size).unwrap_or(0);
    // SAFETY: the caller guarantees the range is RAM (identity-mapped, so the
    // physical address is the pointer), exclusively ours and not aliased.
    unsafe { core::slice::from_raw_parts_mut(range.base as usize as *mut u8, len) }
}

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
    let mut reserved = Reserved::new();
    reserved.add(BEYOND_IDENTITY_MAP)?;
    reserved.add(stub)?;

    // ---- -append (copied into the stub before anything is placed)
    let mut append = [0u8; APPEND_MAX];
    let extra = copy_append(memory, stub, info.cmdline_paddr, &mut append)?;

    let mut fw = FwCfg::probe()?;
    let module = match info.module {
        Some(m) => {
            let module = memmap::check_module(memory, m)?;
            reserved.add(module)?;
            module
        }
        None => rvf_from_fw_cfg(memory, &mut reserved, &mut fw)?,
    };
    // The second CPU's start-up page, clear of the stub and the RVF.
    second.prepare(memory, &mut reserved)?;

    // ---- the RVF, verified
    let module_len = usize::try_from(module.size).unwrap_or(0);
    // SAFETY: `module` is usable RAM below 4 GiB clear of the stub
    // (check_module, or placed so by the library), reserved so no later
    // placement or mutable slice overlaps it, and nothing else writes it:
    // QEMU loaded it before the stub started, or `rvf_from_fw_cfg` did and
    // its slice is no longer used.
    let rvf: &[u8] =
        unsafe { core::slice::from_raw_parts(module.base as usize as *const u8, module_len) };
    let container = Container::parse(rvf, rvf_boot_shell::policy())?;
    let manifest = measure::manifest_digest(&container)?;
    let t1 = hw::rdtsc();
    // The content hash is left to extract_joined, which computes it beside
    // the inflate (on the second CPU when there is one) and accepts the
    // image only when it and every other check passed.
    let kernel = container.selected_kernel_deferred()?;
    let (verified, meter) = verify_image(memory, &mut reserved, &kernel, &second)?;
    // The second CPU parked and reset before anything uses the image.
    let cpu = second.finish()?;
    // The policy's kernel pin, on the verified bytes, before anything uses them.
    let kernel_pin = container.policy().check_kernel(&verified.proof)?;
    let t2 = hw::rdtsc();
    let _ = writeln!(serial, "{cpu}");
    let phases = Phases {
        inflate: meter.inflate,
        crc: meter.crc,
        on_ap: cpu.ap_cycles,
        // The rest of this CPU's time in the extraction: its share of the
        // hashing and CRC (sides it ran itself, filling, the sinks of the
        // steps that left the AP only filling, the content hash's rest) and
        // the loop's own work.
        inline: meter
            .extract
            .saturating_sub(meter.inflate)
            .saturating_sub(cpu.wait_cycles),
        waiting: cpu.wait_cycles,
    };
    let _ = writeln!(
        serial,
        "{}",
        KernelLine {
            container: &container,
            kernel: &kernel
        }
    );
    let input = Input {
        container: &container,
        kernel_pin,
        memory,
        kernel: &kernel,
        verified,
        extra,
        info: &info,
        manifest,
        times: [t0, t1, t2],
        phases,
    };
    boot(serial, &mut reserved, &mut fw, &input)
}

/// The RVF from the fw_cfg file [`RVF_FW_CFG_NAME`], read into a buffer
/// the library places top-down below 4 GiB, clear of everything reserved,
/// and reserved itself.
fn rvf_from_fw_cfg(
    memory: &[MemoryRegion],
    reserved: &mut Reserved,
    fw: &mut FwCfg,
) -> Result<PhysRange, Failure> {
    let Some(file) = fw.find(RVF_FW_CFG_NAME)?.filter(|f| f.size > 0) else {
        return Err(Failure::Pvh(crate::pvh::PvhError::NoModule));
    };
    let range = rvf_boot::plan::place_high(
        memory,
        reserved.as_slice(),
        rvf_boot::plan::BootItem::RvfFile,
        u64::from(file.size),
        0x1000,
        rvf_boot::memory::FOUR_GIB,
    )?;
    reserved.add(range)?;
    // SAFETY: placed by the library in usable RAM below 4 GiB, overlapping
    // no reservation (the stub), now reserved; the only slice over it until
    // it is read, after which it is only read.
    let dst = unsafe { ram_mut(range) };
    fw.read(file.select, 0, dst)?;
    Ok(range)
}

/// Where the verified image ended up.
#[derive(Clone, Copy)]
struct PlacedImage<'a> {
    /// The verified bzImage.
    image: &'a [u8],
    /// Which `image_hash` algorithm matched.
    hash: &'static str,
    /// Its SHA-256, from verification's own pass (the measurement).
    sha256: Digest,
    /// The buffer it was inflated into (`None`: raw, inside the RVF).
    buffer: Option<ImageBuffer>,
    /// The library's proof, for the policy's pins.
    proof: image::VerifiedImage<'a>,
}

/// Cycles of the verification's parts (TSC).
#[derive(Clone, Copy)]
struct Meter {
    /// In the engine's `step`.
    inflate: u64,
    /// In the engine's CRC-32.
    crc: u64,
    /// In `image::extract_joined` as a whole (boot CPU).
    extract: u64,
}

/// Cycles of the verification's parts, for the `Mcycles` line.
#[derive(Clone, Copy)]
struct Phases {
    /// The inflate (boot CPU).
    inflate: u64,
    /// The gzip CRC-32 (with the hashes, on either CPU; also counted in
    /// `on_ap` / `inline`).
    crc: u64,
    /// The hash sides the second CPU ran.
    on_ap: u64,
    /// The boot CPU's extraction time less the inflate and the waiting:
    /// the hashing and CRC it did itself, and the loop's own work.
    inline: u64,
    /// The boot CPU waiting for the second CPU's side.
    waiting: u64,
}

/// Verify the selected kernel's image with the library's
/// [`image::extract_joined`], whose `VerifiedImage` is the only proof the
/// stub accepts: a gzip-stored image is inflated into a reserved buffer by
/// the boot CPU while `second` hashes what was inflated (the image hashes
/// and the kernel's content hash; CRC-32, ISIZE, `image_hash` and the
/// content hash all checked before the image is returned); a raw one is
/// checked where it lies, inside the RVF.
fn verify_image<'a>(
    memory: &[MemoryRegion],
    reserved: &mut Reserved,
    kernel: &KernelSegment<'a>,
    second: &SecondCpu,
) -> Result<(PlacedImage<'a>, Meter), Failure> {
    let size = image::buffer_size(kernel);
    let mut state = InflateState::new();
    let mut engine = Timed::new(&mut state);
    let (verified, buffer, extract) = if size == 0 {
        let t = hw::rdtsc();
        let verified = image::extract_joined(kernel, &mut [], &mut engine, second)?;
        (verified, None, hw::rdtsc().wrapping_sub(t))
    } else {
        let buffer = place::image_buffer(memory, reserved, kernel.stored_unverified(), size)?;
        // SAFETY: the whole buffer is usable RAM below 4 GiB, overlapped no
        // earlier reservation (stub, RVF module, the second CPU's start-up
        // page) and is now reserved itself; this is the only slice over it.
        let out: &'a mut [u8] = unsafe { ram_mut(buffer.range) };
        let t = hw::rdtsc();
        let verified = image::extract_joined(kernel, out, &mut engine, second)?;
        (verified, Some(buffer), hw::rdtsc().wrapping_sub(t))
    };
    let meter = Meter {
        inflate: engine.step_cycles(),
        crc: engine.crc_cycles(),
        extract,
    };
    let placed = PlacedImage {
        image: verified.bytes(),
        hash: verified.image_hash().name(),
        sha256: verified.sha256(),
        buffer,
        proof: verified,
    };
    Ok((placed, meter))
}

/// What [`run`] found out before the kernel is placed.
struct Input<'a, 'k> {
    /// The verified RVF (its policy and signer).
    container: &'a Container<'k>,
    /// The kernel image's SHA-256 when the policy pins it (matched).
    kernel_pin: Option<[u8; 32]>,
    /// The firmware memory map, as the library wants it.
    memory: &'a [MemoryRegion],
    /// The selected, content-hash-checked kernel.
    kernel: &'a KernelSegment<'k>,
    /// Its verified image.
    verified: PlacedImage<'k>,
    /// The `-append` string.
    extra: &'a [u8],
    /// The PVH start info.
    info: &'a StartInfo,
    /// The RVF's measurement (`measure::manifest_digest`).
    manifest: Digest,
    /// TSC at entry, after the container was checked, after the image was.
    times: [u64; 3],
    /// Where the image's verification spent its cycles.
    phases: Phases,
}

/// Place, hand off, jump. Returns only on failure.
fn boot(
    serial: &mut Serial,
    reserved: &mut Reserved,
    fw: &mut FwCfg,
    input: &Input<'_, '_>,
) -> Result<Never, Failure> {
    let Input {
        container,
        kernel_pin,
        memory,
        kernel,
        verified,
        extra,
        info,
        manifest,
        times: [t0, t1, t2],
        phases,
    } = *input;
    let bz = BzImage::parse(verified.image)?;

    // ---- the kernel window, where the library's plan puts it
    let plan = place::kernel(&bz, memory, reserved, verified.buffer)?;
    let window = plan.window();

    // ---- the initramfs, straight from fw_cfg to its place
    let mut initrd_bytes: Option<&[u8]> = None;
    let initrd = match fw.find(INITRD_FW_CFG_NAME)? {
        Some(file) if file.size > 0 => {
            let range = place::initrd(&bz, memory, reserved, u64::from(file.size))?;
            // SAFETY: placed by the library in usable RAM below 4 GiB and
            // initrd_addr_max, overlapping no reservation (stub, RVF, the
            // whole image buffer, the kernel window), now reserved; the only
            // slice over it.
            let dst = unsafe { ram_mut(range) };
            fw.read(file.select, 0, dst)?;
            // Measured as loaded (only read from now on).
            initrd_bytes = Some(dst);
            Some(range)
        }
        _ => None,
    };

    // ---- command line and zero page, in the stub's .bss
    let cmdline_ptr = &raw mut CMDLINE;
    // SAFETY: CMDLINE is touched only here, once, on the boot CPU (the only
    // CPU the stub runs on), so this is the only reference to it.
    let cmdline_buf: &mut [u8; CMDLINE_BUF] = unsafe { &mut *cmdline_ptr };
    let cmdline_len =
        kernel_cmdline::write(cmdline_buf, kernel.cmdline(), extra, bz.cmdline_size())?;
    // The policy's cmdline pin, on exactly the line the kernel gets.
    let line = cmdline_buf.get(..cmdline_len).unwrap_or(&[]);
    let cmdline_pin = container.policy().check_cmdline(line)?;
    if rvf_boot_shell::is_strict() {
        let line = AuthenticatedLine {
            signed: container.signed(),
            kernel_pin,
            cmdline_pin,
        };
        let _ = writeln!(serial, "{line}");
    }
    let cmdline = PhysRange {
        base: cmdline_buf.as_ptr() as u64,
        size: cmdline_len as u64 + 1,
    };
    let zp_ptr = &raw mut ZERO_PAGE;
    // SAFETY: as for CMDLINE: the only reference to ZERO_PAGE.
    let zp: &mut Page = unsafe { &mut *zp_ptr };
    let handoff = Handoff {
        cmdline: Some(cmdline),
        initrd,
        memory_map: memory,
        acpi_rsdp: (info.rsdp_paddr != 0).then_some(info.rsdp_paddr),
    };
    zero_page::build(&mut zp.0, &plan, &handoff)?;

    // ---- protected-mode part to the load address (already there when the
    // image was inflated in place)
    let pm = plan.protected_mode();
    let load = plan.load_address();
    let dst = PhysRange {
        base: load,
        size: pm.len() as u64,
    };
    if !window.contains(&dst) {
        return Err(Failure::Internal(
            "protected-mode part outside the kernel window",
        ));
    }
    let in_place = pm.as_ptr() as u64 == load;
    if !in_place {
        // SAFETY: the destination lies inside the kernel window, which the
        // library's plan placed in usable RAM below 4 GiB away from every
        // reservation (stub, RVF, the whole image buffer) and which is
        // reserved, so the initrd avoided it. The source is the verified
        // protected-mode part inside the RVF or the image buffer, so the two
        // do not overlap (`copy` is memmove anyway). Nothing reads the
        // source afterwards: the zero page was built above.
        unsafe { core::ptr::copy(pm.as_ptr(), load as usize as *mut u8, pm.len()) };
    }
    // ---- measured boot: the events `rvf-boot measure` predicts, extended
    // and logged before the jump; built (the initrd hashed) only when there
    // is a TPM to extend them into
    let final_cmdline = cmdline_buf.get(..cmdline_len).unwrap_or(&[]);
    tpm::measure(serial, info.rsdp_paddr, reserved, || {
        measure::boot_events(&BootInputs {
            manifest,
            kernel_image: verified.sha256,
            initrd: initrd_bytes.map(measure::sha256),
            cmdline: final_cmdline,
        })
    })?;

    let entry = plan.entry_64();
    let t3 = hw::rdtsc();
    let m = |cycles: u64| cycles / 1_000_000;
    let _ = writeln!(
        serial,
        "rvf-boot: Mcycles: container {}, kernel verify+extract {} (inflate {}, CRC {}, \
         hashes on the AP {}, hashes inline {}, BSP waiting {}), place+handoff {}; SHA-NI {}",
        m(t1.wrapping_sub(t0)),
        m(t2.wrapping_sub(t1)),
        m(phases.inflate),
        m(phases.crc),
        m(phases.on_ap),
        m(phases.inline),
        m(phases.waiting),
        m(t3.wrapping_sub(t2)),
        if hw::has_sha_ni() { "yes" } else { "no" },
    );
    let _ = writeln!(
        serial,
        "rvf-boot: verified {} image hash; protocol {:#06x}, {} at {:#x} ({}), cmdline \"{}\"{}",
        verified.hash,
        bz.version(),
        if plan.relocatable() {
            "relocatable"
        } else {
            "fixed"
        },
        plan.load_address(),
        if in_place {
            "inflated in place"
        } else {
            "copied"
        },
        core::str::from_utf8(cmdline_buf.get(..cmdline_len).unwrap_or(&[])).unwrap_or("?"),
        if initrd.is_some() { ", initramfs" } else { "" },
    );
    let _ = writeln!(serial, "rvf-boot: entering kernel at {entry:#x}");
    let zp_addr = zp.0.as_ptr() as u64;
    // SAFETY: every byte the kernel runs from was verified (image hash and,
    // for gzip, CRC-32) and copied to the window the plan chose; the zero
    // page and command line are built; the 64-bit boot protocol asks for
    // long mode with an identity map covering the window, zero page and
    // command line (0..4 GiB is mapped and every placement is below it), the
    // GDT's 0x10/0x18 flat selectors loaded (entry.rs), interrupts off and
    // RSI = zero page. Control never returns.
    unsafe {
        core::arch::asm!("cli", "jmp {entry}", entry = in(reg) entry, in("rsi") zp_addr, options(noreturn));
    }
}
