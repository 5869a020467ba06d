//! The boot sequence, the PVH stub's library calls in the same order:
//! `Container::parse`, `selected_kernel`, `image::buffer_size`,
//! `image::extract`, `BzImage::parse`, `cmdline::write`, `measure::boot_events`;
//! then the EFI stub check, measured boot through `EFI_TCG2_PROTOCOL`, the
//! initrd device, `LoadImage`, `StartImage`. Library work and
//! formatting run masked ([`Firmware::masked`]); firmware calls do not.

use core::fmt::Write;

use r_efi::efi::Status;
use rvf_boot::bzimage::BzImage;
use rvf_boot::gzip::InflateState;
use rvf_boot::image;
use rvf_boot::kernel::KernelSegment;
use rvf_boot::measure::{self, BootInputs, Digest};
use rvf_boot::segment::SEGMENT_HEADER_SIZE;
use rvf_boot::{Container, cmdline as kernel_cmdline};
use rvf_boot_shell::report::{AuthenticatedLine, KernelLine};

use crate::failure::Failure;
use crate::files::{self, FileKind, Path};
use crate::fw::Firmware;
use crate::text::{self, Line};
use crate::{initrd, pe, tcg2};

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

    // ---- the RVF, verified by the library
    let file = rvf.bytes();
    let (container, manifest, kernel, size) = fw.masked(|| {
        let container = Container::parse(file, rvf_boot_shell::policy())?;
        let manifest = measure::manifest_digest(&container)?;
        let kernel = container.selected_kernel()?;
        let size = image::buffer_size(&kernel);
        Ok::<_, Failure>((container, manifest, kernel, size))
    })?;
    let mut buffer = match size {
        0 => None,
        n => Some(fw.allocate("kernel image", n)?),
    };
    let mut cmdline = fw.allocate("command line", CMDLINE_BUF as u64)?;
    let mut options = fw.allocate("load options", 2 * CMDLINE_BUF as u64 + 2)?;
    let extra: &[u8] = append.as_ref().map_or(&[], |p| p.bytes());
    let out: &mut [u8] = match buffer.as_mut() {
        Some(p) => p.bytes_mut(),
        None => &mut [],
    };
    let prepared = fw.masked(|| {
        prepare(
            &container,
            &kernel,
            out,
            extra,
            cmdline.bytes_mut(),
            options.units_mut(),
            initramfs.is_some(),
        )
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
    let [kernel_line, verified_line] = &prepared.lines;
    let lines = core::iter::once(kernel_line)
        .chain(prepared.authenticated.as_ref())
        .chain([verified_line, &times]);
    for line in lines {
        fw.print(line);
    }

    // ---- measured boot: the events `rvf-boot measure` predicts (the PVH
    // stub's), through EFI_TCG2_PROTOCOL, before anything is handed over
    let initrd_bytes: &[u8] = initramfs.as_ref().map_or(&[], |p| p.bytes());
    let cmdline_bytes = cmdline.bytes().get(..prepared.cmdline_len).unwrap_or(&[]);
    let (events, sources) = fw.masked(|| {
        let manifest_bytes = manifest_bytes(&container)?;
        tcg2::check_manifest(manifest_bytes, &manifest)?;
        // Measured as served; an empty initrd is none (the library's rule).
        let initrd = (!initrd_bytes.is_empty()).then(|| measure::sha256(initrd_bytes));
        let events = measure::boot_events(&BootInputs {
            manifest,
            kernel_image: prepared.sha256,
            initrd,
            cmdline: cmdline_bytes,
        })?;
        let sources = tcg2::Sources {
            manifest: manifest_bytes,
            kernel: prepared.image,
            initrd: initrd_bytes,
            cmdline: cmdline_bytes,
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
    let opts = opts.get(..prepared.options_len).unwrap_or(&[]);
    // LoadImage (its route under Secure Boot), load options, StartImage.
    let failure = crate::secureboot::start_kernel(fw, prepared.image, opts, &kernel.policy());
    drop(served);
    Err(failure)
}

/// What [`prepare`] hands to the firmware part.
struct Prepared<'o> {
    /// The verified bzImage.
    image: &'o [u8],
    /// Its SHA-256, from verification's own pass (the measurement).
    sha256: Digest,
    /// Bytes of the final command line, without its NUL.
    cmdline_len: usize,
    /// UCS-2 units of the load options, NUL included.
    options_len: usize,
    /// Lines to print: the kernel, what was verified.
    lines: [Line; 2],
    /// What a strict policy authenticated (`rvf_boot_shell::is_strict`).
    authenticated: Option<Line>,
}

/// The library's work, masked: verify the image, check the bzImage and its
/// EFI stub, assemble the command line and its UCS-2 load options. The
/// policy's pins are checked where the PVH stub checks them: the kernel's on
/// the verified image right after extraction, the command line's on exactly
/// the line the kernel gets (refusals: `Error::Auth`, code 14,
/// `EFI_SECURITY_VIOLATION`).
fn prepare<'o, 'f: 'o>(
    container: &Container<'f>,
    kernel: &KernelSegment<'f>,
    out: &'o mut [u8],
    append_file: &[u8],
    cmdline_buf: &mut [u8],
    options: &mut [u16],
    has_initrd: bool,
) -> Result<Prepared<'o>, Failure> {
    let extra = append_text(append_file)?;
    let mut state = InflateState::new();
    let verified = image::extract(kernel, out, &mut state)?;
    // The policy's kernel pin, on the verified bytes, before anything uses them.
    let kernel_pin = container.policy().check_kernel(&verified)?;
    let bz = BzImage::parse(verified.bytes())?;
    pe::check_efi_stub(verified.bytes(), bz.setup_size())?;
    let len = kernel_cmdline::write(cmdline_buf, kernel.cmdline(), extra, bz.cmdline_size())?;
    let line = cmdline_buf.get(..len).unwrap_or(&[]);
    // The policy's cmdline pin, on exactly the line the kernel gets.
    let cmdline_pin = container.policy().check_cmdline(line)?;
    let authenticated = rvf_boot_shell::is_strict().then(|| {
        let mut l = Line::new();
        let _ = write!(
            l,
            "{}",
            AuthenticatedLine {
                signed: container.signed(),
                kernel_pin,
                cmdline_pin,
            }
        );
        l
    });
    let line = core::str::from_utf8(line).map_err(|_| Failure::CmdlineNotUtf8)?;
    let options_len =
        text::to_utf16(line, options).ok_or(Failure::Internal("load options buffer too small"))?;
    let mut lines = [Line::new(), Line::new()];
    let [first, second] = &mut lines;
    let _ = write!(first, "{}", KernelLine { container, kernel });
    let _ = write!(
        second,
        "rvf-boot: verified {} image hash; protocol {:#06x}, EFI stub, cmdline \"{}\"{}",
        verified.image_hash().name(),
        bz.version(),
        line,
        if has_initrd { ", initramfs" } else { "" },
    );
    Ok(Prepared {
        image: verified.bytes(),
        sha256: verified.sha256(),
        cmdline_len: len,
        options_len,
        lines,
        authenticated,
    })
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
