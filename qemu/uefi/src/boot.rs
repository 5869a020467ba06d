//! The UEFI loader's part of a boot: the files from its volume, then the
//! library's boot core ([`rvf_boot::boot::prepare`]) on an EFI-stub machine
//! (verify, check the EFI stub, assemble the command line and its pins);
//! the loader gives it pages (`AllocatePages`) and the initramfs file; then
//! measured boot through `EFI_TCG2_PROTOCOL`, the initrd device,
//! `LoadImage`, `StartImage`. Library work and formatting run masked
//! ([`Firmware::masked`]); firmware calls do not ([`Firmware::unmasked`]).

use core::fmt::Write;

use r_efi::efi::Status;
use rvf_boot::boot::{self, Initrd, InitrdSlot, Machine, Platform, Prepared, Request};
use rvf_boot::gzip::InflateState;
use rvf_boot::joined::Sequential;
use rvf_boot::memory::PhysRange;
use rvf_boot::segment::SEGMENT_HEADER_SIZE;
use rvf_boot::{Container, cmdline as kernel_cmdline};
use rvf_boot_shell::report::{AuthenticatedLine, KernelLine, VerifiedLine};

use crate::failure::Failure;
use crate::files::{self, FileKind, Path};
use crate::fw::{Firmware, Pages};
use crate::text::{self, Line};
use crate::{initrd, tcg2};

/// The command-line buffer (the library's size, shared with `rvf-boot
/// measure` and the PVH stub).
const CMDLINE_BUF: usize = kernel_cmdline::BUFFER_SIZE;

/// The boot. Returns only when the kernel was not started or its EFI stub
/// returned (both are failures).
pub fn run(fw: &Firmware) -> Result<Status, Failure> {
    let t0 = crate::fw::rdtsc();
    let options = fw.load_options()?;
    let (rvf_path, append_path, initrd_path, debug_path) = fw.masked(|| {
        Ok::<_, Failure>((
            files::rvf_path(options)?,
            Path::ascii(files::APPEND)?,
            Path::ascii(files::INITRD)?,
            Path::ascii(files::DEBUG_EXIT)?,
        ))
    })?;
    let dir = fw.open_volume()?;
    if dir.open(&debug_path, FileKind::DebugExit)?.is_some() {
        fw.enable_debug_exit();
    }
    let line = fw.masked(|| {
        let mut l = Line::new();
        let _ = write!(l, "rvf-boot: reading {rvf_path}");
        l
    });
    fw.print(&line);

    // ---- the files, sized by the file system, checked against limits
    let rvf =
        files::read(fw, &dir, &rvf_path, FileKind::Rvf, files::RVF_MAX)?.ok_or(Failure::File {
            file: FileKind::Rvf,
            what: "open",
            status: Status::NOT_FOUND,
        })?;
    // append.txt: read up to a generous size, its length checked below.
    let append = files::read(
        fw,
        &dir,
        &append_path,
        FileKind::Append,
        files::APPEND_FILE_MAX,
    )?;
    let initramfs = files::read(fw, &dir, &initrd_path, FileKind::Initrd, files::INITRD_MAX)?;
    drop(dir);
    let t1 = crate::fw::rdtsc();

    // ---- the boot core: the RVF, its kernel and command line, verified
    let mut cmdline = fw.allocate("command line", CMDLINE_BUF as u64)?;
    let mut options = fw.allocate("load options", 2 * CMDLINE_BUF as u64 + 2)?;
    let mut image_pages = None;
    let mut shell = Shell {
        fw,
        image: Some(&mut image_pages),
        initrd: initramfs.as_ref().map(Pages::bytes),
    };
    let extra = append.as_ref().map_or(&[][..], Pages::bytes);
    let (prepared, options_len, lines) = fw.masked(|| {
        let request = Request {
            rvf: rvf.bytes(),
            policy: rvf_boot_shell::policy(),
            extra: append_text(extra)?,
            cmdline: cmdline.bytes_mut(),
            machine: Machine::EfiStub,
        };
        let prepared = boot::prepare(request, &mut shell, &mut InflateState::new(), &Sequential)?;
        let line = core::str::from_utf8(prepared.cmdline()).map_err(|_| Failure::CmdlineNotUtf8)?;
        let options_len = text::to_utf16(line, options.units_mut())
            .ok_or(Failure::Internal("load options buffer too small"))?;
        let lines = report(&prepared);
        Ok::<_, Failure>((prepared, options_len, lines))
    })?;
    let t2 = crate::fw::rdtsc();
    let times = fw.masked(|| {
        let mut l = Line::new();
        let _ = write!(
            l,
            "rvf-boot: Mcycles: read files {}, verify+extract {}",
            t1.wrapping_sub(t0) / 1_000_000,
            t2.wrapping_sub(t1) / 1_000_000
        );
        l
    });
    for line in lines.iter().flatten().chain([&times]) {
        fw.print(line);
    }

    // ---- measured boot: the events `rvf-boot measure` predicts (the PVH
    // stub's), through EFI_TCG2_PROTOCOL, before anything is handed over
    let initrd_bytes: &[u8] = initramfs.as_ref().map_or(&[], Pages::bytes);
    let (events, sources) = fw.masked(|| {
        let manifest_bytes = manifest_bytes(prepared.container())?;
        tcg2::check_manifest(manifest_bytes, &prepared.manifest())?;
        let events = prepared.events()?;
        let sources = tcg2::Sources {
            manifest: manifest_bytes,
            kernel: prepared.image().bytes(),
            initrd: initrd_bytes,
            cmdline: prepared.cmdline(),
        };
        Ok::<_, Failure>((events, sources))
    })?;
    let t3 = crate::fw::rdtsc();
    let outcome = tcg2::measure(fw, &events, &sources)?;
    let t4 = crate::fw::rdtsc();
    let line = fw.masked(|| {
        let mut l = Line::new();
        let _ = match outcome {
            tcg2::Outcome::NoTpm => write!(l, "rvf-boot: no TPM: nothing measured"),
            tcg2::Outcome::Measured { events, banks } => write!(
                l,
                "rvf-boot: measured {events} events into PCRs 9 and 8 through EFI_TCG2_PROTOCOL (PCR banks: {}); Mcycles {}",
                tcg2::Banks(banks),
                t4.wrapping_sub(t3) / 1_000_000
            ),
        };
        l
    });
    fw.print(&line);

    // ---- hand over: initrd device, LoadImage from the verified buffer,
    // the command line as load options, StartImage
    let served = match initramfs.as_ref() {
        Some(p) => Some(initrd::serve(fw, p.bytes())?),
        None => None,
    };
    let opts = options.units_mut();
    let opts = opts.get(..options_len).unwrap_or(&[]);
    // LoadImage (its route under Secure Boot), load options, StartImage.
    let policy = prepared.container().policy();
    let failure = crate::secureboot::start_kernel(fw, prepared.image().bytes(), opts, &policy);
    drop(served);
    Err(failure)
}

/// The loader as the boot core's [`Platform`]: pages for the image, the
/// initramfs file it read.
struct Shell<'f, 'm> {
    fw: &'f Firmware,
    /// Where the image's pages are kept (freed when `run` returns).
    image: Option<&'m mut Option<Pages<'f>>>,
    /// The initramfs file, if any.
    initrd: Option<&'m [u8]>,
}

impl<'m> Platform<'m> for Shell<'_, 'm> {
    type Error = Failure;

    fn image_buffer(&mut self, size: u64, _at: Option<PhysRange>) -> Result<&'m mut [u8], Failure> {
        let slot = self
            .image
            .take()
            .ok_or(Failure::Internal("a second image buffer"))?;
        let fw = self.fw;
        let pages = fw.unmasked(|| fw.allocate("kernel image", size))?;
        Ok(slot.insert(pages).bytes_mut())
    }

    fn initrd(&mut self, _slot: &mut InitrdSlot<'_>) -> Result<Option<Initrd<'m>>, Failure> {
        Ok(self.initrd.map(Initrd::Bytes))
    }
}

/// The lines to print: the kernel, what a strict policy authenticated
/// (`rvf_boot_shell::is_strict`), what was verified.
fn report(prepared: &Prepared<'_, '_>) -> [Option<Line>; 3] {
    let mut kernel = Line::new();
    let _ = write!(
        kernel,
        "{}",
        KernelLine {
            container: prepared.container(),
            kernel: prepared.kernel()
        }
    );
    let authenticated = rvf_boot_shell::is_strict().then(|| {
        let mut l = Line::new();
        let _ = write!(l, "{}", AuthenticatedLine(prepared.authenticated()));
        l
    });
    let mut verified = Line::new();
    let _ = write!(verified, "{}", VerifiedLine(prepared));
    [Some(kernel), authenticated, Some(verified)]
}

/// The extra arguments from `append.txt`: one final `\n` (or `\r\n`)
/// dropped, at most the library's `APPEND_MAX` bytes; the library's
/// `cmdline::write` checks the rest (control bytes, the kernel's limit).
fn append_text(file: &[u8]) -> Result<&[u8], Failure> {
    let t = file.strip_suffix(b"\n").unwrap_or(file);
    let t = t.strip_suffix(b"\r").unwrap_or(t);
    if t.len() > kernel_cmdline::APPEND_MAX {
        return Err(Failure::AppendTooLong {
            length: t.len() as u64,
        });
    }
    Ok(t)
}

/// The winning MANIFEST_SEG as stored, its 64-byte header then its payload:
/// the bytes `measure::manifest_digest` hashes (checked against it by the
/// caller), handed to the firmware to hash for the manifest event.
fn manifest_bytes<'f>(container: &Container<'f>) -> Result<&'f [u8], Failure> {
    let (seg, _) = container.manifest_segment();
    let start = usize::try_from(seg.offset).ok();
    let len = usize::try_from(SEGMENT_HEADER_SIZE)
        .ok()
        .and_then(|h| h.checked_add(seg.payload.len()));
    start
        .zip(len)
        .and_then(|(s, n)| container.file().get(s..s.checked_add(n)?))
        .ok_or(Failure::Internal("the manifest lies outside the file"))
}
