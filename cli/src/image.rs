//! The selected kernel's image, verified by the library into a buffer the
//! CLI allocates fallibly, and the boot checks the stub runs on it.

use rvf_boot::Policy;
use rvf_boot::bzimage::BzImage;
use rvf_boot::extract::{DecompressorOxide, buffer_size, extract};
use rvf_boot::image_hash::{ImageHash, ImageHashCheck};
use rvf_boot::kernel::{KernelSegment, StoredFormat};
use rvf_boot::zero_page::write_cmdline;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::fmt;

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
}

/// Why no verified image could be produced.
#[derive(Debug)]
pub enum ImageError {
    /// The library refused the kernel.
    Library(rvf_boot::Error),
    /// The output buffer could not be allocated (a memory limit, or a size
    /// this machine cannot address).
    Alloc { offset: u64, bytes: u64 },
    /// TEMPORARY (issue 9 §2): `image_size` no gzip stream of `stored_size`
    /// bytes can produce. The library is gaining this check at kernel-header
    /// parse time (so `Container::kernels` refuses such a kernel first);
    /// remove this variant and [`deflate_can_produce`] once it has.
    Implausible {
        offset: u64,
        image_size: u64,
        stored_size: u64,
    },
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Library(e) => e.fmt(f),
            Self::Alloc { offset, bytes } => write!(
                f,
                "KERNEL_SEG at byte {offset}: cannot allocate {bytes} bytes for the image \
                 (out of memory or over this process's memory limit)"
            ),
            Self::Implausible {
                offset,
                image_size,
                stored_size,
            } => write!(
                f,
                "KERNEL_SEG at byte {offset}: image_size {image_size} cannot come from \
                 {stored_size} stored gzip bytes (deflate expands at most {DEFLATE_MAX_RATIO}:1)"
            ),
        }
    }
}

impl From<rvf_boot::Error> for ImageError {
    fn from(e: rvf_boot::Error) -> Self {
        Self::Library(e)
    }
}

/// Deflate's largest expansion: a 258-byte match costs at least 2 bits.
const DEFLATE_MAX_RATIO: u64 = 1032;

/// TEMPORARY (issue 9 §2), see [`ImageError::Implausible`].
fn deflate_can_produce(image_size: u64, stored_size: u64) -> bool {
    image_size <= stored_size.saturating_mul(DEFLATE_MAX_RATIO)
}

/// A zeroed buffer of `bytes` bytes, or [`ImageError::Alloc`]: nothing is
/// reserved unless all of it can be.
pub fn alloc_buffer(offset: u64, bytes: u64) -> Result<Vec<u8>, ImageError> {
    let fail = ImageError::Alloc { offset, bytes };
    let Ok(n) = usize::try_from(bytes) else {
        return Err(fail);
    };
    let mut out = Vec::new();
    out.try_reserve_exact(n).map_err(|_| fail)?;
    out.resize(n, 0);
    Ok(out)
}

/// Runs the library's verified extraction for `kernel`, without copying the
/// image again and without a second SHA-256 pass when the library already
/// verified the image's SHA-256.
pub fn verify<'a>(
    kernel: &KernelSegment<'a>,
    policy: Policy,
) -> Result<CheckedImage<'a>, ImageError> {
    let offset = kernel.segment_offset();
    let need = buffer_size(kernel);
    if kernel.format() == StoredFormat::Gzip
        && !deflate_can_produce(kernel.image_size(), kernel.stored_size())
    {
        return Err(ImageError::Implausible {
            offset,
            image_size: kernel.image_size(),
            stored_size: kernel.stored_size(),
        });
    }
    let mut out = alloc_buffer(offset, need)?;
    let mut state = Box::<DecompressorOxide>::default();
    let v = extract(kernel, policy, &mut out, &mut state)?;
    let (image_hash, content_hash) = (v.image_hash(), v.content_hash().name());
    let len = v.bytes().len();
    let image: Cow<'a, [u8]> = if need > 0 {
        out.truncate(len);
        Cow::Owned(out)
    } else {
        // A raw image is verified where it lies in the file.
        Cow::Borrowed(kernel.stored_unverified())
    };
    let sha256_hex = match image_hash {
        // image_hash verified as SHA-256: it is the image's SHA-256.
        ImageHashCheck::Verified(ImageHash::Sha256) => hex(kernel.image_hash()),
        _ => hex(&Sha256::digest(&image)),
    };
    Ok(CheckedImage {
        image,
        sha256_hex,
        image_hash: match image_hash {
            ImageHashCheck::Verified(h) => h.name(),
            ImageHashCheck::Unset => "unset",
        },
        content_hash,
    })
}

/// The checks the stub runs before it plans the boot, in its order: the
/// bzImage setup header, then the command line against the kernel's
/// `cmdline_size` (no `--append` here). The memory plan depends on the
/// machine and is not checked.
///
/// # Errors
/// The library's first refusal.
pub fn boot_check(image: &[u8], cmdline: &[u8]) -> Result<(), rvf_boot::Error> {
    let bz = BzImage::parse(image)?;
    let mut buf = vec![0u8; cmdline.len().saturating_add(1)];
    write_cmdline(&mut buf, cmdline, b"", bz.cmdline_size())?;
    Ok(())
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
        let e = alloc_buffer(0, u64::MAX).unwrap_err();
        assert!(matches!(
            e,
            ImageError::Alloc {
                offset: 0,
                bytes: u64::MAX
            }
        ));
        assert_eq!(
            e.to_string(),
            "KERNEL_SEG at byte 0: cannot allocate 18446744073709551615 bytes for the image \
             (out of memory or over this process's memory limit)"
        );
        let e = alloc_buffer(64, 1 << 63).unwrap_err().to_string();
        assert!(!e.contains("has 0"), "{e}");
        assert_eq!(alloc_buffer(0, 16).unwrap(), [0u8; 16]);
    }

    #[test]
    fn deflate_ratio_bound() {
        assert!(deflate_can_produce(1032, 1));
        assert!(!deflate_can_produce(1033, 1));
        assert!(deflate_can_produce(u64::MAX, u64::MAX));
        assert!(!deflate_can_produce(6 << 30, 349));
    }
}
