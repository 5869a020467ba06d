//! rvf-boot-stub: a bare-metal x86_64 loader that QEMU starts through PVH.
//!
//! QEMU hands it the RVF file as PVH module 0 (`-initrd FILE.rvf`), extra
//! kernel arguments as the PVH command line (`-append`), and optionally an
//! initramfs as the fw_cfg file `opt/rvf-boot/initrd`. The stub
//!
//! 1. reads the PVH start info and the firmware's memory map,
//! 2. parses and checks the RVF with `rvf-boot` (walk, newest manifest,
//!    directory, manifest hash),
//! 3. selects and verifies the kernel with the library: content hash, gzip
//!    inflate + CRC-32, `image_hash` ([`verify_kernel`]), inflating straight
//!    into the kernel window when the layout allows,
//! 4. validates the bzImage header and plans the load address,
//! 5. reads the initramfs, builds the zero page and the command line,
//! 6. moves the protected-mode part to the load address if it is not there
//!    yet and jumps to load + 0x200 with RSI = zero page, interrupts off.
//!
//! On any failure it prints exactly one line `rvf-boot: error: <message>` on
//! COM1 and leaves QEMU through isa-debug-exit with the code of the error's
//! class (table in `qemu/README.md` and [`Failure::code`]).
//!
//! Memory: the stub occupies [1 MiB, `__stub_end`), which includes its
//! stack, page tables, zero page and command-line buffer. Buffers are placed
//! top-down from the top of RAM, never overlapping the RVF module, the stub,
//! or anything placed before; the kernel window goes where the library's
//! `BootPlan` puts it (lowest fit at or above `pref_address`). Only the boot
//! CPU runs the stub; other vCPUs are left in reset for Linux to start.
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

mod entry;
mod hw;
mod layout;
mod pvh;
mod rt;

use core::fmt::{self, Write};

use hw::{FwCfg, FwCfgError, Serial, exit_qemu};
use layout::{Layout, MAX_RESERVATIONS, Region};
use miniz_oxide::inflate::core::{decompress, inflate_flags};
use pvh::{E820_RAM, MAX_MEMMAP_ENTRIES, PvhError, StartInfo};
use rvf_boot::bzimage::{BootPlan, BzImage, E820Type, MemoryRegion, PhysRange};
use rvf_boot::error::ErrorClass;
use rvf_boot::extract::{self, DecompressorOxide};
use rvf_boot::image_hash::ImageHashCheck;
use rvf_boot::kernel::KernelSegment;
use rvf_boot::zero_page::{self, Handoff};
use rvf_boot::{Container, Error, Policy, gzip};

/// The fw_cfg file that carries the optional initramfs.
const INITRD_FW_CFG_NAME: &[u8] = b"opt/rvf-boot/initrd";

/// Largest `-append` string the stub accepts (the kernel's own limit is
/// checked by the library when the command line is assembled).
const EXTRA_CMDLINE_MAX: usize = 4096;

/// Size of the buffer the final command line is assembled in; a kernel with
/// a larger `cmdline_size` is still limited to this.
const CMDLINE_BUF: usize = 16384;

unsafe extern "C" {
    /// First byte of the stub image (link.ld).
    static __stub_start: u8;
    /// One past the stub's last byte, `.bss` included (link.ld).
    static __stub_end: u8;
}

/// A page-aligned 4 KiB buffer in `.bss`.
#[repr(C, align(4096))]
struct Page([u8; 4096]);

/// The zero page (`struct boot_params`) handed to the kernel in RSI. It lives
/// in the stub's `.bss`, which no placement overlaps.
static mut ZERO_PAGE: Page = Page([0; 4096]);

/// The command line the kernel receives (`cmd_line_ptr`), NUL-terminated.
static mut CMDLINE: [u8; CMDLINE_BUF] = [0; CMDLINE_BUF];

/// Everything that stops the boot, with the exit code of its class.
#[derive(Clone, Copy, Debug)]
enum Failure {
    /// The library refused the file, the image or the plan.
    Lib(Error),
    /// The PVH start info is unusable.
    Pvh(PvhError),
    /// fw_cfg failed.
    FwCfg(FwCfgError),
    /// A blob QEMU handed over is not inside RAM.
    NotRam {
        what: &'static str,
        start: u64,
        end: u64,
    },
    /// No RAM left for a buffer the stub needs.
    NoRam {
        what: &'static str,
        size: u64,
        ram_top: u64,
    },
    /// The `-append` string is longer than the stub's buffer.
    ExtraCmdline,
    /// The stub's fixed tables are full.
    LayoutFull,
    /// A condition the stub's own logic rules out (a bug if ever seen).
    Internal(&'static str),
}

impl Failure {
    /// The isa-debug-exit code; QEMU exits with `(code << 1) | 1`.
    fn code(&self) -> u8 {
        match self {
            Self::Pvh(_) | Self::FwCfg(_) | Self::NotRam { .. } | Self::LayoutFull => 1,
            Self::Internal(_) => 11,
            Self::NoRam { .. } => 9,
            Self::ExtraCmdline => 8,
            Self::Lib(e) => lib_code(e),
        }
    }
}

/// Exit code for each class of library error (see qemu/README.md); the
/// classification itself is the library's (`Error::class`).
const fn lib_code(e: &Error) -> u8 {
    match e.class() {
        ErrorClass::Structure => 2,
        ErrorClass::Integrity => 3,
        ErrorClass::KernelSegment => 4,
        ErrorClass::Decompression => 5,
        ErrorClass::ImageHash => 6,
        ErrorClass::BzImage => 7,
        ErrorClass::Cmdline => 8,
        ErrorClass::Memory => 9,
        _ => 10,
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Lib(e) => write!(f, "{e}"),
            Self::Pvh(PvhError::BadMagic(m)) => {
                write!(
                    f,
                    "not started through PVH: start info magic {m:#010x}, expected 0x336ec578"
                )
            }
            Self::Pvh(PvhError::NoMemmap) => f.write_str("PVH start info carries no memory map"),
            Self::Pvh(PvhError::MemmapTooLarge(n)) => {
                write!(
                    f,
                    "PVH memory map has {n} entries, the stub keeps at most {MAX_MEMMAP_ENTRIES}"
                )
            }
            Self::Pvh(PvhError::NoModule) => {
                f.write_str("no RVF file: QEMU was started without -initrd FILE.rvf")
            }
            Self::FwCfg(FwCfgError::Absent) => f.write_str("fw_cfg interface not found"),
            Self::FwCfg(FwCfgError::NoDma) => f.write_str("fw_cfg has no DMA interface"),
            Self::FwCfg(FwCfgError::Dma) => f.write_str("fw_cfg DMA transfer failed"),
            Self::NotRam { what, start, end } => {
                write!(f, "the {what} at {start:#x}..{end:#x} is not inside RAM")
            }
            Self::NoRam {
                what,
                size,
                ram_top,
            } => write!(
                f,
                "not enough RAM: no free region holds the {what} ({size} bytes; RAM ends at {} MiB)",
                ram_top >> 20
            ),
            Self::ExtraCmdline => {
                write!(
                    f,
                    "the -append string is longer than the stub's {EXTRA_CMDLINE_MAX}-byte limit"
                )
            }
            Self::LayoutFull => f.write_str("too many memory regions for the stub's tables"),
            Self::Internal(what) => write!(f, "stub bug: {what}"),
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Self::Lib(e)
    }
}

impl From<FwCfgError> for Failure {
    fn from(e: FwCfgError) -> Self {
        Self::FwCfg(e)
    }
}

impl From<layout::LayoutError> for Failure {
    fn from(_: layout::LayoutError) -> Self {
        Self::LayoutFull
    }
}

/// Rust entry, called by `pvh_start` in long mode with the start info address.
#[unsafe(no_mangle)]
extern "C" fn stub_main(start_info: u64) -> ! {
    let t0 = hw::rdtsc();
    let mut serial = Serial::init();
    let failure = match run(start_info, &mut serial, t0) {
        Ok(never) => match never {},
        Err(f) => f,
    };
    let _ = writeln!(serial, "rvf-boot: error: {failure}");
    exit_qemu(failure.code())
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let mut serial = Serial;
    let _ = writeln!(serial, "rvf-boot: error: stub bug: {}", info.message());
    exit_qemu(11)
}

/// An uninhabited type: `run` only returns on failure.
enum Never {}

/// Guest RAM `[region.start, region.end)` as a mutable slice.
///
/// # Safety
/// `region` must lie in RAM (checked against the memory map), be reserved in
/// the layout (so no other placement and no live slice overlaps it) and not
/// overlap the stub; the returned slice must be the only reference to it.
unsafe fn ram_mut(region: Region) -> &'static mut [u8] {
    let len = usize::try_from(region.len()).unwrap_or(0);
    // SAFETY: the caller guarantees the range is RAM (identity-mapped, so the
    // physical address is the pointer), exclusively ours and not aliased.
    unsafe { core::slice::from_raw_parts_mut(region.start as usize as *mut u8, len) }
}

/// The boot. Returns only on failure.
fn run(start_info: u64, serial: &mut Serial, t0: u64) -> Result<Never, Failure> {
    let info = StartInfo::read(start_info).map_err(Failure::Pvh)?;

    // ---- memory map -> layout and the library's view of it
    let mut layout = Layout::new();
    let mut memory: heapless::Vec<MemoryRegion, MAX_MEMMAP_ENTRIES> = heapless::Vec::new();
    for e in info.memmap() {
        memory
            .push(MemoryRegion {
                base: e.addr,
                size: e.size,
                kind: E820Type::from_code(e.kind),
            })
            .map_err(|_| Failure::LayoutFull)?;
        if e.kind == E820_RAM
            && let Some(r) = Region::at(e.addr, e.size)
        {
            layout.add_ram(r)?;
        }
    }
    let memory: &[MemoryRegion] = &memory;

    let stub = Region {
        start: core::ptr::addr_of!(__stub_start) as u64,
        end: core::ptr::addr_of!(__stub_end) as u64,
    };
    layout.reserve(stub)?;
    let module = info.module;
    if !layout.is_ram(&module) || module.len() == 0 {
        return Err(Failure::NotRam {
            what: "RVF module",
            start: module.start,
            end: module.end,
        });
    }
    layout.reserve(module)?;

    // ---- -append (copied into the stub before anything is placed)
    let mut extra = [0u8; EXTRA_CMDLINE_MAX];
    let extra_len = if info.cmdline_paddr == 0 {
        0
    } else {
        // Read at most the buffer plus its NUL, and never past the end of
        // the RAM region the string starts in.
        let at = info.cmdline_paddr;
        let ram = layout.ram_containing(at).ok_or(Failure::NotRam {
            what: "command line",
            start: at,
            end: at.saturating_add(1),
        })?;
        let limit = usize::try_from(ram.end - at)
            .unwrap_or(usize::MAX)
            .min(EXTRA_CMDLINE_MAX + 1);
        let buf = extra.get_mut(..limit.saturating_sub(1)).unwrap_or(&mut []);
        // SAFETY: copy_cmdline reads at most buf.len() + 1 = `limit` bytes
        // from `at`, all inside the RAM region [ram.start, ram.end) of the
        // memory map (at + limit <= ram.end); RAM reads have no side effects.
        unsafe { pvh::copy_cmdline(at, buf) }.ok_or(Failure::ExtraCmdline)?
    };
    let extra = extra.get(..extra_len).unwrap_or(&[]);

    // ---- the RVF, verified
    let module_len = usize::try_from(module.len()).unwrap_or(0);
    // SAFETY: `module` lies in RAM (checked above), is reserved so no later
    // placement or mutable slice overlaps it, and nothing else writes it:
    // QEMU loaded it before the stub started.
    let rvf: &[u8] =
        unsafe { core::slice::from_raw_parts(module.start as usize as *const u8, module_len) };
    let policy = Policy::default();
    let container = Container::parse(rvf, policy)?;
    let t1 = hw::rdtsc();
    let mut fw = FwCfg::probe()?;
    let (kernel, extracted) = verify_kernel(&mut layout, &container, policy)?;
    let t2 = hw::rdtsc();
    let _ = writeln!(
        serial,
        "rvf-boot: {} RVF, kernel at byte {} ({} layout, {}, {} bytes)",
        container.dialect().name(),
        kernel.segment_offset(),
        kernel.layout().name(),
        kernel.format().name(),
        kernel.image_size()
    );

    let input = Input {
        memory,
        kernel: &kernel,
        extracted,
        extra,
        info: &info,
        times: [t0, t1, t2],
    };
    boot(serial, &mut layout, &mut fw, &input)
}

/// Where the verified image ended up.
#[derive(Clone, Copy)]
struct Extracted<'a> {
    image: &'a [u8],
    hash: &'static str,
}

/// A placement hint from the first 4 KiB of a gzip-stored image, inflated
/// before anything is verified. It only decides where the image buffer goes
/// (so that its protected-mode part lands on the load address the plan will
/// most likely choose and needs no copy); nothing read here is trusted: the
/// plan is made from the verified image, and a wrong guess costs one copy.
struct Hint {
    setup: u64,
    load: u64,
    init_size: u64,
}

fn peek_hint(stored: &[u8]) -> Option<Hint> {
    let header = gzip::parse_header(stored).ok()?;
    let body = stored.get(usize::try_from(header.len).ok()?..)?;
    let mut state = DecompressorOxide::new();
    let mut head = [0u8; 4096];
    let flags = inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF
        | inflate_flags::TINFL_FLAG_HAS_MORE_INPUT;
    let (_, _, produced) = decompress(&mut state, body, &mut head, 0, flags);
    let head = head.get(..produced)?;
    let u32_at = |at: usize| Some(u32::from_le_bytes(head.get(at..at + 4)?.try_into().ok()?));
    let setup_sects = match *head.get(0x1F1)? {
        0 => 4,
        n => u64::from(n),
    };
    let setup = (setup_sects + 1) * 512;
    let align = u64::from(u32_at(0x230)?);
    let relocatable = *head.get(0x234)? != 0;
    let pref = u64::from(u32_at(0x258)?) | (u64::from(u32_at(0x25C)?) << 32);
    let init_size = u64::from(u32_at(0x260)?);
    let load = if relocatable && align.is_power_of_two() {
        pref.checked_add(align - 1)? & !(align - 1)
    } else {
        pref
    };
    Some(Hint {
        setup,
        load,
        init_size,
    })
}

/// Select and verify the kernel: `Container::selected_kernel` (the
/// segment's content hash) and the library's `extract` ([`extract`]), whose
/// `VerifiedImage` is the only proof that the bytes were verified.
fn verify_kernel<'a>(
    layout: &mut Layout,
    container: &Container<'a>,
    policy: Policy,
) -> Result<(KernelSegment<'a>, Extracted<'a>), Failure> {
    let kernel = container.selected_kernel()?;
    let extracted = extract(layout, &kernel, policy)?;
    Ok((kernel, extracted))
}

/// Place the buffer a gzip-stored image of `size` bytes is inflated into and
/// reserve it (see [`extract`]).
fn place_image_buffer(layout: &mut Layout, stored: &[u8], size: u64) -> Result<Region, Failure> {
    let in_place = peek_hint(stored).and_then(|h| {
        let buffer = Region::at(h.load.checked_sub(h.setup)?, size)?;
        let window = Region::at(h.load, h.init_size.max(size.checked_sub(h.setup)?))?;
        let fits = |r: &Region| {
            r.start >= layout::LOW_LIMIT
                && r.end <= layout::FOUR_GIB
                && layout.is_ram(r)
                && layout.is_free(r)
        };
        (fits(&buffer) && fits(&window)).then_some((buffer, h.setup))
    });
    Ok(match in_place {
        Some((buffer, setup)) => {
            layout.reserve(Region {
                start: buffer.start,
                end: buffer.start + setup,
            })?;
            buffer
        }
        None => {
            let r = layout
                .place_top_down(size, 0x1000, layout::FOUR_GIB)
                .ok_or(Failure::NoRam {
                    what: "decompressed kernel",
                    size,
                    ram_top: layout.ram_top(),
                })?;
            layout.reserve(r)?;
            r
        }
    })
}

/// Verify the selected kernel's image with the library's `extract` and return
/// it: a gzip-stored image is inflated into a buffer in RAM (CRC-32 and
/// `image_hash` checked in the same pass); a raw one is checked where it
/// lies, inside the RVF.
///
/// The buffer goes, if the [`Hint`] allows, at `load - setup` so that the
/// protected-mode part is inflated straight into the kernel window; only the
/// setup part is reserved then, the rest is claimed by the window once the
/// plan confirms it. Otherwise the buffer is placed top-down and reserved.
fn extract<'a>(
    layout: &mut Layout,
    kernel: &KernelSegment<'a>,
    policy: Policy,
) -> Result<Extracted<'a>, Failure> {
    let size = extract::buffer_size(kernel);
    let mut state = DecompressorOxide::new();
    let verified = if size == 0 {
        // Raw image: verified where it lies, inside the RVF.
        extract::extract(kernel, policy, &mut [], &mut state)?
    } else {
        let region = place_image_buffer(layout, kernel.stored_unverified(), size)?;
        // SAFETY: `region` lies inside RAM and overlaps no reservation made
        // so far (stub, RVF module): both paths above checked that. Either
        // all of it is now reserved, or its setup part is and the rest lies
        // in the free window the plan claims next, before anything else is
        // placed; this is the only slice over it.
        let out: &'a mut [u8] = unsafe { ram_mut(region) };
        extract::extract(kernel, policy, out, &mut state)?
    };
    let hash = match verified.image_hash() {
        ImageHashCheck::Verified(h) => h.name(),
        ImageHashCheck::Unset => "no (unset, allowed by policy)",
    };
    Ok(Extracted {
        image: verified.bytes(),
        hash,
    })
}

/// What `run` found out before the kernel is extracted.
struct Input<'a, 'k> {
    /// The firmware memory map, as the library wants it.
    memory: &'a [MemoryRegion],
    /// The selected, content-hash-checked kernel.
    kernel: &'a KernelSegment<'k>,
    /// Its verified image.
    extracted: Extracted<'k>,
    /// The `-append` string.
    extra: &'a [u8],
    /// The PVH start info.
    info: &'a StartInfo,
    /// TSC at entry, after the container was checked, after the image was.
    times: [u64; 3],
}

/// Verify, place, hand off, jump. Returns only on failure.
fn boot(
    serial: &mut Serial,
    layout: &mut Layout,
    fw: &mut FwCfg,
    input: &Input<'_, '_>,
) -> Result<Never, Failure> {
    let Input {
        memory,
        kernel,
        extracted,
        extra,
        info,
        times: [t0, t1, t2],
    } = *input;
    let bz = BzImage::parse(extracted.image)?;

    // ---- the kernel window, where the library's plan puts it
    let mut occupied: heapless::Vec<PhysRange, MAX_RESERVATIONS> = heapless::Vec::new();
    for r in layout.used() {
        occupied
            .push(PhysRange {
                base: r.start,
                size: r.len(),
            })
            .map_err(|_| Failure::LayoutFull)?;
    }
    let plan = BootPlan::new(&bz, memory, &occupied)?;
    let window = plan.window();
    let window =
        Region::at(window.base, window.size).ok_or(Failure::Internal("kernel window wraps"))?;
    layout.reserve(window)?;

    // ---- the initramfs, straight from fw_cfg to its place
    let initrd = match fw.find(INITRD_FW_CFG_NAME)? {
        Some(file) if file.size > 0 => {
            let size = u64::from(file.size);
            let max_end = bz.initrd_addr_max().saturating_add(1).min(layout::FOUR_GIB);
            let region = layout
                .place_top_down(size, 0x1000, max_end)
                .ok_or(Failure::NoRam {
                    what: "initramfs",
                    size,
                    ram_top: layout.ram_top(),
                })?;
            layout.reserve(region)?;
            // SAFETY: placed inside RAM, overlapping no reservation (stub,
            // RVF, image buffer, kernel window), now reserved; only slice.
            let dst = unsafe { ram_mut(region) };
            fw.read(file.select, 0, dst)?;
            Some(PhysRange {
                base: region.start,
                size,
            })
        }
        _ => None,
    };

    // ---- command line and zero page, in the stub's .bss
    let cmdline_ptr = &raw mut CMDLINE;
    // SAFETY: CMDLINE is touched only here, once, on the boot CPU (the only
    // CPU the stub runs on), so this is the only reference to it.
    let cmdline_buf: &mut [u8; CMDLINE_BUF] = unsafe { &mut *cmdline_ptr };
    let cmdline_len =
        zero_page::write_cmdline(cmdline_buf, kernel.cmdline(), extra, bz.cmdline_size())?;
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
    let dst_region =
        Region::at(load, pm.len() as u64).ok_or(Failure::Internal("protected-mode part wraps"))?;
    if !window.contains(&dst_region) {
        return Err(Failure::Internal(
            "protected-mode part outside the kernel window",
        ));
    }
    let in_place = pm.as_ptr() as u64 == load;
    if !in_place {
        // SAFETY: the destination lies inside the kernel window, which the
        // plan placed in RAM away from every reservation (stub, RVF, the
        // image buffer or its setup part) and which is reserved, so the
        // initrd avoided it. The source is the verified protected-mode part;
        // it can overlap the destination only when an in-place guess was
        // wrong, and `copy` is memmove. Nothing reads the source afterwards:
        // the zero page was built above from the setup part, outside the
        // window.
        unsafe { core::ptr::copy(pm.as_ptr(), load as usize as *mut u8, pm.len()) };
    }
    let entry = plan.entry_64();
    let t3 = hw::rdtsc();
    let _ = writeln!(
        serial,
        "rvf-boot: Mcycles: container {}, kernel verify+extract {}, place+handoff {}; SHA-NI {}",
        t1.wrapping_sub(t0) / 1_000_000,
        t2.wrapping_sub(t1) / 1_000_000,
        t3.wrapping_sub(t2) / 1_000_000,
        if hw::has_sha_ni() { "yes" } else { "no" },
    );
    let _ = writeln!(
        serial,
        "rvf-boot: verified {} image hash; protocol {:#06x}, {} at {:#x} ({}), cmdline \"{}\"{}",
        extracted.hash,
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
    // command line (0..4 GiB is mapped), the GDT's 0x10/0x18 flat selectors
    // loaded (entry.rs), interrupts off and RSI = zero page. Control never
    // returns.
    unsafe {
        core::arch::asm!("cli", "jmp {entry}", entry = in(reg) entry, in("rsi") zp_addr, options(noreturn));
    }
}
