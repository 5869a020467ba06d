//! The selected kernel's image, verified by the library into a buffer the
//! CLI allocates fallibly, and the boot checks the stub runs on it.

use rvf_boot::Policy;
use rvf_boot::boot;
use rvf_boot::cmdline;
use rvf_boot::gzip::InflateState;
use rvf_boot::image::{buffer_size, extract_joined, extract_with};
use rvf_boot::joined::Sequential;
use rvf_boot::kernel::KernelSegment;
use rvf_boot::memory::PhysRange;
use rvf_boot_cli::engine::{Choice, FastEngine, Threads};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::path::Path;

/// A verified image and what verified it. A gzip'd image lives in the
/// buffer it was inflated into; a raw one is borrowed from the file.
pub struct CheckedImage<'a> {
    /// The image bytes.
    pub image: Cow<'a, [u8]>,
    /// Hex SHA-256 of the image.
    pub sha256_hex: String,
    /// The algorithm that verified `image_hash` ("unset" if none).
    pub image_hash: &'static str,
    /// The algorithm that verified the segment's content hash.
    pub content_hash: &'static str,
    /// The image's SHA-256 when the kernel's policy pins it (and it matched).
    pub kernel_pin: Option<[u8; 32]>,
}

/// A zeroed buffer of `bytes` bytes, or the library's
/// [`rvf_boot::Error::BufferUnavailable`]: nothing is reserved unless all of
/// it can be (a memory limit, or a size this machine cannot address).
pub fn alloc_buffer(bytes: u64) -> Result<Vec<u8>, rvf_boot::Error> {
    let fail = rvf_boot::Error::BufferUnavailable { needed: bytes };
    let Ok(n) = usize::try_from(bytes) else {
        return Err(fail);
    };
    let mut out = Vec::new();
    out.try_reserve_exact(n).map_err(|_| fail)?;
    out.resize(n, 0);
    Ok(out)
}

/// Runs the library's verified extraction for `kernel`, without copying the
/// image again and without a second SHA-256 pass: the library computes the
/// image's SHA-256 in its verification pass. The inflate and CRC-32 engine
/// plugged into it is zlib-rs + crc32fast ([`FastEngine`]), by default with
/// the hashes on a second thread ([`Threads`]) where there are two CPUs
/// (`RVF_BOOT_ENGINE` chooses, see [`Choice`]); the checks and errors are the
/// library's. A kernel from `Container::selected_kernel_deferred` has its
/// content hash checked here (beside the inflate on two threads).
///
/// The library refuses an `image_size` that the stored bytes cannot produce
/// or that exceeds its cap when the kernel header is parsed, so `need` is
/// bounded before anything is reserved.
pub fn verify<'a>(kernel: &KernelSegment<'a>) -> Result<CheckedImage<'a>, rvf_boot::Error> {
    let need = buffer_size(kernel);
    let mut out = alloc_buffer(need)?;
    let s = match Choice::from_env() {
        Choice::ZlibRs => summary(
            kernel,
            &extract_with(kernel, &mut out, &mut FastEngine::new())?,
        )?,
        Choice::ZlibRsTwoCpus => summary(
            kernel,
            &extract_joined(kernel, &mut out, &mut FastEngine::new(), &Threads)?,
        )?,
        Choice::Miniz => summary(
            kernel,
            &extract_with(kernel, &mut out, &mut *Box::<InflateState>::default())?,
        )?,
    };
    let Summary {
        image_hash,
        content_hash,
        len,
        sha256,
        kernel_pin,
    } = s;
    let image: Cow<'a, [u8]> = if need > 0 {
        out.truncate(len);
        Cow::Owned(out)
    } else {
        // A raw image is verified where it lies in the file.
        Cow::Borrowed(kernel.stored_unverified())
    };
    Ok(CheckedImage {
        image,
        sha256_hex: hex(&sha256),
        image_hash: image_hash.name(),
        content_hash,
        kernel_pin,
    })
}

/// What [`verify`] keeps of a verified image once its buffer is owned again.
struct Summary {
    image_hash: rvf_boot::image_hash::ImageHashCheck,
    content_hash: &'static str,
    len: usize,
    sha256: [u8; 32],
    kernel_pin: Option<[u8; 32]>,
}

/// The facts of `v`, and its kernel pin checked: the pin is compared on the
/// bytes that would be handed to the kernel.
fn summary(
    kernel: &KernelSegment<'_>,
    v: &rvf_boot::image::VerifiedImage<'_>,
) -> Result<Summary, rvf_boot::Error> {
    Ok(Summary {
        image_hash: v.image_hash(),
        content_hash: v.content_hash().name(),
        len: v.bytes().len(),
        sha256: v.sha256(),
        kernel_pin: kernel.policy().check_kernel(v)?,
    })
}

/// The checks the stub runs before it plans the boot, in its order: the
/// kernel's format and headers (a bzImage's setup header, an ELF vmlinux's
/// file and program headers: the boot core's [`boot::parse_kernel`]), then
/// the command line against the kernel's limit (no `--append` here). The
/// memory plan depends on the machine and is not checked. Returns the
/// format's name (`bzimage`, `elf`) once the headers passed, and the
/// result.
pub fn boot_check(
    image: &[u8],
    cmdline: &[u8],
) -> (Option<&'static str>, Result<(), rvf_boot::Error>) {
    let kernel = match boot::parse_kernel(image) {
        Ok(k) => k,
        Err(e) => return (None, Err(e)),
    };
    let limit = match kernel {
        boot::BootImage::BzImage(bz) => bz.cmdline_size(),
        _ => boot::ELF_CMDLINE_SIZE,
    };
    let mut buf = vec![0u8; cmdline.len().saturating_add(1)];
    let line = cmdline::write(&mut buf, cmdline, b"", limit).map(|_| ());
    (Some(kernel.format().name()), line)
}

/// Why the boot core stopped for the CLI.
pub enum Stop {
    /// The library refused.
    Lib(rvf_boot::Error),
    /// The manifest's measurement or the events failed.
    Measure(rvf_boot::measure::MeasureError),
    /// The CLI's own input (the initrd) failed.
    Cli(crate::finish::Failure),
}

impl From<rvf_boot::Error> for Stop {
    fn from(e: rvf_boot::Error) -> Self {
        Self::Lib(e)
    }
}

impl From<rvf_boot::measure::MeasureError> for Stop {
    fn from(e: rvf_boot::measure::MeasureError) -> Self {
        Self::Measure(e)
    }
}

/// The CLI as the boot core's platform: a fallibly reserved buffer for the
/// image, the initrd hashed while it streams.
struct Cli<'m, 'r> {
    out: Option<&'m mut Vec<u8>>,
    initrd: Option<&'r Path>,
}

impl<'m> boot::Platform<'m> for Cli<'m, '_> {
    type Error = Stop;

    fn image_buffer(&mut self, size: u64, _: Option<PhysRange>) -> Result<&'m mut [u8], Stop> {
        let out = self
            .out
            .take()
            .ok_or(Stop::Lib(rvf_boot::Error::BufferUnavailable {
                needed: size,
            }))?;
        *out = alloc_buffer(size)?;
        Ok(out)
    }

    fn initrd(&mut self, _: &mut boot::InitrdSlot<'_>) -> Result<Option<boot::Initrd<'m>>, Stop> {
        let digest = self
            .initrd
            .map(crate::input::hash_initrd)
            .transpose()
            .map_err(Stop::Cli)?
            .flatten();
        Ok(digest.map(boot::Initrd::Digest))
    }
}

/// The boot the stub makes of `file` (the library's boot core on a report
/// machine, with the engine [`verify`] uses): verified image, final command
/// line with `append`, what the policy authenticated, the events; the
/// initrd at `initrd` hashed as it streams. `cmdline` receives the line,
/// `out` the inflated image.
///
/// # Errors
/// The core's first refusal.
pub fn boot_report<'f: 'm, 'm>(
    file: &'f [u8],
    policy: Policy,
    append: &[u8],
    initrd: Option<&Path>,
    cmdline: &'m mut [u8],
    out: &'m mut Vec<u8>,
) -> Result<boot::Prepared<'f, 'm>, Stop> {
    let request = boot::Request {
        rvf: file,
        policy,
        extra: append,
        cmdline,
        machine: boot::Machine::Report,
    };
    let mut cli = Cli {
        out: Some(out),
        initrd,
    };
    match Choice::from_env() {
        Choice::ZlibRs => boot::prepare(request, &mut cli, &mut FastEngine::new(), &Sequential),
        Choice::ZlibRsTwoCpus => boot::prepare(request, &mut cli, &mut FastEngine::new(), &Threads),
        Choice::Miniz => boot::prepare(
            request,
            &mut cli,
            &mut *Box::<InflateState>::default(),
            &Sequential,
        ),
    }
}

/// Lower-case hex.
pub fn hex(b: &[u8]) -> String {
    use std::fmt::Write as _;
    b.iter()
        .fold(String::with_capacity(b.len() * 2), |mut s, x| {
            let _ = write!(s, "{x:02x}");
            s
        })
}

/// Hex SHA-256 of `b`.
pub fn sha256_hex(b: &[u8]) -> String {
    hex(&Sha256::digest(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unaddressable_buffer_is_its_own_error() {
        // Above isize::MAX: refused without allocating anything.
        let e = alloc_buffer(u64::MAX).unwrap_err();
        assert_eq!(e, rvf_boot::Error::BufferUnavailable { needed: u64::MAX });
        assert_eq!(
            e.to_string(),
            "cannot obtain a 18446744073709551615-byte output buffer for the image (out of memory)"
        );
        let e = alloc_buffer(1 << 63).unwrap_err().to_string();
        assert!(!e.contains("has 0"), "{e}");
        assert_eq!(alloc_buffer(16).unwrap(), [0u8; 16]);
    }
}
