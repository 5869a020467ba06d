//! Every use of the `rvf_boot` library by the C ABI, in one file: the policy,
//! the two operations, the inflate state, the error classes and messages.
//! The rest of the crate deals only in C arguments and in this module's
//! types, so a move of the library's modules touches only this file.

use core::ffi::c_int;
use core::fmt;
use core::mem::{MaybeUninit, align_of, size_of};

use rvf_boot::authenticate;
use rvf_boot::error::ErrorClass;
use rvf_boot::gzip::InflateState;
use rvf_boot::image;
use rvf_boot::kernel::StoredFormat;
use rvf_boot::{Container, Error, Policy};

/// The library's state for one inflate, placed in the caller's memory.
pub(crate) type State = InflateState;

/// Bytes of caller memory that always hold a [`State`], whatever its
/// alignment: the state and the worst padding before it.
pub(crate) const STATE_NEED: usize = size_of::<State>() + (align_of::<State>() - 1);

/// The alignment a [`State`] needs.
pub(crate) const STATE_ALIGN: usize = align_of::<State>();

// The header's RVF_BOOT_STATE_SIZE is a literal (cbindgen copies literals);
// the build fails if it no longer holds a state at any alignment.
const _: () = assert!(STATE_NEED <= crate::RVF_BOOT_STATE_SIZE);

// The header's status literals are the library's exit codes.
#[allow(clippy::as_conversions)] // u8 -> c_int, lossless; `From` is not const
const _: () = {
    assert!(ErrorClass::Structure.exit_code() as c_int == crate::RVF_BOOT_E_STRUCTURE);
    assert!(ErrorClass::Integrity.exit_code() as c_int == crate::RVF_BOOT_E_INTEGRITY);
    assert!(ErrorClass::KernelSegment.exit_code() as c_int == crate::RVF_BOOT_E_KERNEL_SEGMENT);
    assert!(ErrorClass::Decompression.exit_code() as c_int == crate::RVF_BOOT_E_DECOMPRESSION);
    assert!(ErrorClass::ImageHash.exit_code() as c_int == crate::RVF_BOOT_E_IMAGE_HASH);
    assert!(ErrorClass::BzImage.exit_code() as c_int == crate::RVF_BOOT_E_BZIMAGE);
    assert!(ErrorClass::Cmdline.exit_code() as c_int == crate::RVF_BOOT_E_CMDLINE);
    assert!(ErrorClass::Memory.exit_code() as c_int == crate::RVF_BOOT_E_MEMORY);
    assert!(ErrorClass::Authentication.exit_code() as c_int == crate::RVF_BOOT_E_AUTHENTICATION);
};

/// Initialises a fresh [`State`] in `slot` (the library resets its
/// decompressor on every use; a fresh one costs the same and trusts nothing
/// the caller's memory held). Stack: `State::new` builds the state in a
/// temporary and this copies it (about 2 x 10.5 KiB; the library has no
/// in-place initialiser). Not inlined, so the extraction that follows runs
/// without those temporaries on the stack.
#[inline(never)]
pub(crate) fn init_state(slot: &mut MaybeUninit<State>) -> &mut State {
    slot.write(State::new())
}

/// What the caller asks of the policy (`struct rvf_boot_policy`, checked).
/// The references are `'static` for the library's sake; they live as long
/// as the call (see `lib.rs`).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Rules {
    /// Accept all-zero (unset) content and image hashes.
    pub(crate) allow_unset_hash: bool,
    /// Require a signature by one of these keys (`None`: no signature).
    pub(crate) trusted_keys: Option<&'static [[u8; 32]]>,
    /// Minimum signed manifest epoch.
    pub(crate) min_epoch: Option<u32>,
    /// Serve the signed prefix past an unsigned tail.
    pub(crate) allow_unsigned_tail: bool,
    /// Pinned SHA-256 of the kernel image.
    pub(crate) kernel_sha256: Option<&'static [u8; 32]>,
    /// Pinned SHA-256 of the kernel command line.
    pub(crate) cmdline_sha256: Option<&'static [u8; 32]>,
}

impl Rules {
    /// The library's policy, built as `rvf-boot verify` builds it.
    fn policy(&self) -> Policy {
        let mut p = Policy::allowing_unset_hash(self.allow_unset_hash);
        if let Some(keys) = self.trusted_keys {
            p = p
                .requiring_signature(keys)
                .serving_signed_prefix(self.allow_unsigned_tail);
            if let Some(m) = self.min_epoch {
                p = p.with_min_epoch(m);
            }
        }
        if let Some(d) = self.kernel_sha256 {
            p = p.pinning_kernel_sha256(d);
        }
        if let Some(d) = self.cmdline_sha256 {
            p = p.pinning_cmdline_sha256(d);
        }
        p
    }
}

/// A library error: its status (the loaders' exit code) and its sentence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Refusal(Error);

impl Refusal {
    /// The status: the error class's exit code.
    pub(crate) fn status(self) -> c_int {
        c_int::from(self.0.class().exit_code())
    }
}

impl fmt::Display for Refusal {
    /// The error's one-line Display, the sentence the CLI prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<Error> for Refusal {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

/// The buffer the kernel `rvf_boot_extract` would boot needs: parse, select
/// the kernel (its content hash checked), `image::buffer_size`.
pub(crate) fn image_size(rvf: &[u8], rules: &Rules) -> Result<u64, Refusal> {
    let container = Container::parse(rvf, rules.policy())?;
    let kernel = container.selected_kernel()?;
    Ok(image::buffer_size(&kernel))
}

/// A verified kernel: the image (in `out` or in the RVF), its SHA-256, the
/// command line (in the RVF) and where the KERNEL_SEG is.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Extracted<'a> {
    /// The verified image.
    pub(crate) image: &'a [u8],
    /// Its SHA-256.
    pub(crate) image_sha256: [u8; 32],
    /// The RVF's kernel command line.
    pub(crate) cmdline: &'a [u8],
    /// Header offset of the KERNEL_SEG.
    pub(crate) kernel_offset: u64,
    /// Whether the stored image was gzip (else raw: `image` is in the RVF).
    pub(crate) gzip: bool,
}

/// The whole verified extraction: parse under the policy, the selected
/// kernel (content hash, signature coverage), `image::extract` (gzip CRC and
/// ISIZE, exact size, image hash), then the policy's pins on the image and
/// on the RVF's own command line (`image::authenticate`).
pub(crate) fn extract<'a>(
    rvf: &'a [u8],
    rules: &Rules,
    out: &'a mut [u8],
    state: &mut State,
) -> Result<Extracted<'a>, Refusal> {
    let container = Container::parse(rvf, rules.policy())?;
    let kernel = container.selected_kernel()?;
    let verified = image::extract(&kernel, out, state)?;
    // No hand-over here: the final command line is the RVF's own.
    authenticate(&container, &verified, kernel.cmdline())?;
    Ok(Extracted {
        image: verified.bytes(),
        image_sha256: verified.sha256(),
        cmdline: kernel.cmdline(),
        kernel_offset: verified.kernel_offset(),
        gzip: matches!(kernel.format(), StoredFormat::Gzip),
    })
}

/// The name of the library error class whose exit code is `status`.
pub(crate) fn class_name(status: c_int) -> Option<&'static str> {
    [
        ErrorClass::Structure,
        ErrorClass::Integrity,
        ErrorClass::KernelSegment,
        ErrorClass::Decompression,
        ErrorClass::ImageHash,
        ErrorClass::BzImage,
        ErrorClass::Cmdline,
        ErrorClass::Memory,
        ErrorClass::Authentication,
    ]
    .into_iter()
    .find(|c| c_int::from(c.exit_code()) == status)
    .map(ErrorClass::name)
}
