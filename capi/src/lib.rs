//! rvf-boot-capi: the C ABI of rvf-boot, for bootloaders and firmware
//! written in C (GRUB, U-Boot, EDK2 drivers, coreboot payloads).
//!
//! A thin layer over the same library (no second reader): it checks the C
//! arguments (NULL, lengths that wrap, short or overlapping buffers), turns
//! them into slices, calls the library (`src/verify.rs`, the only module that
//! uses it) and writes plain C structs back. No heap, no global state, no
//! panic across the boundary: every failure is a status, and the call's
//! `struct rvf_boot_error` says what and where in one line, the sentence the
//! CLI prints.
//!
//! Built with `cargo build --release -p rvf-boot-capi`, the crate is a
//! `no_std` static library (`target/release/librvf_boot_capi.a`) that links
//! into a program with no C library (`-ffreestanding -nostdlib`): it needs
//! only `memcpy`, `memmove`, `memset`, `memcmp` and `bcmp` from its caller.
//! The header `capi/include/rvf_boot.h` is generated from this file by
//! cbindgen (`capi/gen-header.sh`). Guide, ownership of every pointer, the
//! status table and the link recipe: `docs/c-api.md`.
//!
//! # Panics and profiles
//! A `no_std` archive must bring its panic handler, and the release profile
//! builds with `panic = "abort"` (a staticlib without std cannot unwind).
//! The library never panics (its lint wall); this crate keeps the same wall,
//! so the handler is unreachable; if it ever runs, it traps (`ud2` on x86,
//! `udf` on ARM), it never returns into C. Builds that unwind (dev and test
//! profiles) and the `std` feature link std and use its handler instead.
#![no_std]
// The no-panic wall of the library (src/lib.rs), as errors; unsafe is
// allowed here (raw C pointers) but every block carries its SAFETY proof.
#![deny(
    missing_docs,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::unreachable,
    clippy::todo,
    clippy::unimplemented,
    clippy::as_conversions,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap,
    clippy::missing_panics_doc,
    clippy::missing_safety_doc,
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block,
    clippy::std_instead_of_core,
    clippy::alloc_instead_of_core,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::dbg_macro,
    clippy::wildcard_imports,
    unsafe_op_in_unsafe_fn,
    unreachable_pub,
    missing_debug_implementations,
    rustdoc::broken_intra_doc_links
)]
#![cfg_attr(
    test,
    allow(
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::as_conversions,
        clippy::cast_possible_truncation,
        clippy::undocumented_unsafe_blocks,
        clippy::multiple_unsafe_ops_per_block
    )
)]

// std only where it is the host's: unit tests, the `std` feature, and
// unwinding builds (a no_std staticlib cannot be built with panic=unwind).
#[cfg(any(test, feature = "std", panic = "unwind"))]
extern crate std;

mod verify;

use core::ffi::{c_char, c_int, c_void};
use core::fmt::{self, Write as _};
use core::mem::{MaybeUninit, align_of, size_of};
use core::ptr;

use verify::{Extracted, Refusal, Rules};

/// Bytes of caller memory [`rvf_boot_extract`] needs for its inflate state,
/// at any alignment (the state is about 11 KiB; the rest is alignment slack).
/// A compile-time assertion keeps it at least what the library needs.
pub const RVF_BOOT_STATE_SIZE: usize = 11264;

/// Bytes of [`rvf_boot_error::message`], its NUL included.
pub const RVF_BOOT_MESSAGE_SIZE: usize = 512;

/// Success.
pub const RVF_BOOT_OK: c_int = 0;
/// The file's structure: not an RVF, truncated, malformed, inconsistent.
pub const RVF_BOOT_E_STRUCTURE: c_int = 2;
/// A content hash, root-page CRC or signature does not verify.
pub const RVF_BOOT_E_INTEGRITY: c_int = 3;
/// The kernel segment: missing, lengths that fit no layout, unsupported fields.
pub const RVF_BOOT_E_KERNEL_SEGMENT: c_int = 4;
/// The gzip member or deflate stream.
pub const RVF_BOOT_E_DECOMPRESSION: c_int = 5;
/// The kernel header's `image_hash`.
pub const RVF_BOOT_E_IMAGE_HASH: c_int = 6;
/// The bzImage boot-protocol header (not returned by this ABI yet).
pub const RVF_BOOT_E_BZIMAGE: c_int = 7;
/// The kernel command line (not returned by this ABI yet).
pub const RVF_BOOT_E_CMDLINE: c_int = 8;
/// Memory: the output buffer is smaller than the image.
pub const RVF_BOOT_E_MEMORY: c_int = 9;
/// The policy's signature, epoch or pinned digests are not satisfied.
pub const RVF_BOOT_E_AUTHENTICATION: c_int = 14;
/// A required pointer argument is NULL.
pub const RVF_BOOT_E_NULL: c_int = 20;
/// A pointer and its length wrap around the address space or exceed
/// `PTRDIFF_MAX`, or a struct pointer is misaligned.
pub const RVF_BOOT_E_RANGE: c_int = 21;
/// The inflate state is smaller than [`RVF_BOOT_STATE_SIZE`].
pub const RVF_BOOT_E_STATE: c_int = 22;
/// Two caller buffers overlap where one of them is written.
pub const RVF_BOOT_E_OVERLAP: c_int = 23;
/// The policy is invalid: unknown flag bits, or a minimum epoch or an
/// unsigned tail asked for without trusted keys.
pub const RVF_BOOT_E_POLICY: c_int = 24;

/// [`rvf_boot_policy::flags`]: accept all-zero (unset) content and image hashes.
pub const RVF_BOOT_POLICY_ALLOW_UNSET_HASH: u32 = 1;
/// [`rvf_boot_policy::flags`]: refuse a signed manifest whose epoch is below
/// [`rvf_boot_policy::min_epoch`] (needs trusted keys).
pub const RVF_BOOT_POLICY_MIN_EPOCH: u32 = 2;
/// [`rvf_boot_policy::flags`]: serve the signed prefix when unsigned bytes
/// follow the signed manifest, instead of refusing (needs trusted keys).
pub const RVF_BOOT_POLICY_ALLOW_UNSIGNED_TAIL: u32 = 4;
const POLICY_FLAGS: u32 = RVF_BOOT_POLICY_ALLOW_UNSET_HASH
    | RVF_BOOT_POLICY_MIN_EPOCH
    | RVF_BOOT_POLICY_ALLOW_UNSIGNED_TAIL;

/// [`rvf_boot_kernel::format`]: the image was stored raw; `image` points
/// into the RVF.
pub const RVF_BOOT_FORMAT_RAW: u32 = 0;
/// [`rvf_boot_kernel::format`]: the image was stored as gzip; `image` points
/// into `out`.
pub const RVF_BOOT_FORMAT_GZIP: u32 = 1;

/// What a call refused, in one line.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct rvf_boot_error {
    /// The status the call returned ([`RVF_BOOT_OK`] on success).
    pub status: c_int,
    /// The sentence the CLI prints for this failure (what and where),
    /// NUL-terminated, one line; empty on success. Cut (at a character
    /// boundary) to `RVF_BOOT_MESSAGE_SIZE - 1` bytes if longer.
    pub message: [c_char; RVF_BOOT_MESSAGE_SIZE],
}

/// The verified kernel [`rvf_boot_extract`] returns. On failure every
/// pointer is NULL, every number 0, and `error` says why.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct rvf_boot_kernel {
    /// The verified image: inside `out` (gzip) or inside the RVF (stored
    /// raw; see `format`). Valid while that buffer is.
    pub image: *const u8,
    /// Its length in bytes (the kernel header's `image_size`).
    pub image_len: u64,
    /// The kernel command line, borrowed from the RVF bytes, not
    /// NUL-terminated (NULL when empty).
    pub cmdline: *const u8,
    /// Its length in bytes.
    pub cmdline_len: usize,
    /// SHA-256 of the image (the measured-boot digest).
    pub image_sha256: [u8; 32],
    /// File offset of the KERNEL_SEG's header in the RVF.
    pub kernel_offset: u64,
    /// [`RVF_BOOT_FORMAT_RAW`] or [`RVF_BOOT_FORMAT_GZIP`].
    pub format: u32,
    /// The status and its one-line explanation.
    pub error: rvf_boot_error,
}

/// A verification policy beyond the default (every hash checked, unset
/// hashes refused, no signature, no pins). All-zero means the default.
/// Every pointer it holds is read only during the call.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct rvf_boot_policy {
    /// `RVF_BOOT_POLICY_*` bits; any other bit is [`RVF_BOOT_E_POLICY`].
    pub flags: u32,
    /// The minimum signed manifest epoch, with [`RVF_BOOT_POLICY_MIN_EPOCH`].
    pub min_epoch: u32,
    /// `trusted_keys_count` Ed25519 public keys, 32 bytes each, back to back.
    /// With at least one key the file must be a signed store whose root page
    /// verifies under one of them.
    pub trusted_keys: *const u8,
    /// The number of keys (0: no signature required).
    pub trusted_keys_count: usize,
    /// NULL, or the 32-byte SHA-256 the kernel image must have.
    pub kernel_sha256: *const u8,
    /// NULL, or the 32-byte SHA-256 the kernel command line must have (the
    /// RVF's own command line: this ABI appends no arguments).
    pub cmdline_sha256: *const u8,
}

/// Why the C arguments cannot be used (before the library is called).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Arg {
    /// A required pointer is NULL.
    Null(&'static str),
    /// Pointer + length wraps or exceeds `isize::MAX`.
    Range(&'static str),
    /// A struct pointer is not aligned.
    Misaligned(&'static str, usize),
    /// The state is too small.
    State(usize),
    /// Two regions overlap, one of them written.
    Overlap(&'static str, &'static str),
    /// Unknown policy flag bits.
    PolicyFlags(u32),
    /// A signature option without keys.
    PolicyNeedsKeys,
}

/// Why a call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Failure {
    Arg(Arg),
    Lib(Refusal),
}

impl Failure {
    fn status(self) -> c_int {
        match self {
            Self::Lib(r) => r.status(),
            Self::Arg(Arg::Null(_)) => RVF_BOOT_E_NULL,
            Self::Arg(Arg::Range(_) | Arg::Misaligned(..)) => RVF_BOOT_E_RANGE,
            Self::Arg(Arg::State(_)) => RVF_BOOT_E_STATE,
            Self::Arg(Arg::Overlap(..)) => RVF_BOOT_E_OVERLAP,
            Self::Arg(Arg::PolicyFlags(_) | Arg::PolicyNeedsKeys) => RVF_BOOT_E_POLICY,
        }
    }
}

impl From<Arg> for Failure {
    fn from(a: Arg) -> Self {
        Self::Arg(a)
    }
}

impl From<Refusal> for Failure {
    fn from(r: Refusal) -> Self {
        Self::Lib(r)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Lib(r) => write!(f, "{r}"),
            Self::Arg(Arg::Null(what)) => write!(f, "argument {what} is NULL"),
            Self::Arg(Arg::Range(what)) => write!(
                f,
                "argument {what}: pointer plus length wraps around the address space or exceeds PTRDIFF_MAX"
            ),
            Self::Arg(Arg::Misaligned(what, align)) => {
                write!(f, "argument {what} is not aligned to {align} bytes")
            }
            Self::Arg(Arg::State(have)) => write!(
                f,
                "the inflate state has {have} bytes, fewer than RVF_BOOT_STATE_SIZE ({RVF_BOOT_STATE_SIZE})"
            ),
            Self::Arg(Arg::Overlap(a, b)) => write!(
                f,
                "argument {a} overlaps {b}; buffers the call writes must not overlap any other"
            ),
            Self::Arg(Arg::PolicyFlags(bits)) => write!(
                f,
                "policy flags {bits:#x} has bits other than RVF_BOOT_POLICY_* ({POLICY_FLAGS:#x})"
            ),
            Self::Arg(Arg::PolicyNeedsKeys) => f.write_str(
                "policy: a minimum epoch or an allowed unsigned tail needs at least one trusted key",
            ),
        }
    }
}

/// One caller buffer: its address range and whether the call writes it.
#[derive(Clone, Copy, Debug)]
struct Region {
    what: &'static str,
    start: usize,
    len: usize,
    written: bool,
}

impl Region {
    const NONE: Self = Self {
        what: "",
        start: 0,
        len: 0,
        written: false,
    };

    /// `[p, p + len)`, checked: NULL only when `len` is 0 and `null_ok`; no
    /// wrap, at most `isize::MAX` bytes (what a Rust slice may span).
    fn new(
        what: &'static str,
        p: *const u8,
        len: usize,
        null_ok: bool,
        written: bool,
    ) -> Result<Self, Arg> {
        if p.is_null() && !(null_ok && len == 0) {
            return Err(Arg::Null(what));
        }
        let start = p.addr();
        if isize::try_from(len).is_err() || start.checked_add(len).is_none() {
            return Err(Arg::Range(what));
        }
        Ok(Self {
            what,
            start,
            len,
            written,
        })
    }

    /// A struct the call writes or reads: non-NULL, aligned, no wrap.
    fn of<T>(what: &'static str, p: *const T, written: bool) -> Result<Self, Arg> {
        if p.is_null() {
            return Err(Arg::Null(what));
        }
        if !p.is_aligned() {
            return Err(Arg::Misaligned(what, align_of::<T>()));
        }
        Self::new(what, p.cast(), size_of::<T>(), false, written)
    }

    fn overlaps(&self, other: &Self) -> bool {
        // Both end without wrapping (checked in `new`).
        let end = self.start.saturating_add(self.len);
        let other_end = other.start.saturating_add(other.len);
        self.len != 0 && other.len != 0 && self.start < other_end && other.start < end
    }
}

/// The first pair of regions that overlap where one is written.
fn disjoint(regions: &[Region]) -> Result<(), Arg> {
    for (i, a) in regions.iter().enumerate() {
        for b in regions.iter().skip(i.saturating_add(1)) {
            if (a.written || b.written) && a.overlaps(b) {
                return Err(Arg::Overlap(a.what, b.what));
            }
        }
    }
    Ok(())
}

/// The caller's bytes `[p, p + len)` as a slice (empty: a dangling one).
///
/// # Safety
/// `region` was checked by [`Region::new`] for `p` and `len`, and the caller
/// of the C function guarantees the bytes are readable and not written by
/// anyone for `'a` (the duration of the call).
unsafe fn bytes<'a>(p: *const u8, region: &Region) -> &'a [u8] {
    if region.len == 0 {
        return &[];
    }
    // SAFETY: p is non-NULL (len != 0 and Region::new refused NULL), u8 needs
    // no alignment, the range does not wrap and spans at most isize::MAX
    // bytes (Region::new), the caller guarantees it is readable and unchanged
    // for 'a; no &mut to it exists (`disjoint` checked the written regions).
    unsafe { core::slice::from_raw_parts(p, region.len) }
}

/// The caller's writable bytes `[p, p + len)` (empty: a dangling slice).
///
/// # Safety
/// As [`bytes`], and the bytes are writable and overlap no other region the
/// call uses (checked by [`disjoint`]).
unsafe fn bytes_mut<'a>(p: *mut u8, region: &Region) -> &'a mut [u8] {
    if region.len == 0 {
        return &mut [];
    }
    // SAFETY: as in `bytes`; the range is writable (caller's contract) and
    // disjoint from every other region of the call (`disjoint`), so this is
    // the only reference to it.
    unsafe { core::slice::from_raw_parts_mut(p, region.len) }
}

/// The policy the caller gave (NULL: the default), checked, with the
/// regions of its keys and digests appended to `regions`.
///
/// # Safety
/// `p` is NULL or points to a readable `rvf_boot_policy` whose pointers
/// (when non-NULL) point to readable memory of the lengths it states, all
/// unchanged during the call.
unsafe fn read_policy(p: *const rvf_boot_policy, regions: &mut [Region; 3]) -> Result<Rules, Arg> {
    if p.is_null() {
        return Ok(Rules::default());
    }
    Region::of("policy", p, false)?;
    // SAFETY: p is non-NULL and aligned (Region::of), and readable (the
    // caller's contract); the struct is plain data (integers and raw
    // pointers): every bit pattern is a valid value. A copy is taken.
    let pol = unsafe { p.read() };
    if pol.flags & !POLICY_FLAGS != 0 {
        return Err(Arg::PolicyFlags(pol.flags));
    }
    let mut rules = Rules {
        allow_unset_hash: pol.flags & RVF_BOOT_POLICY_ALLOW_UNSET_HASH != 0,
        allow_unsigned_tail: pol.flags & RVF_BOOT_POLICY_ALLOW_UNSIGNED_TAIL != 0,
        min_epoch: (pol.flags & RVF_BOOT_POLICY_MIN_EPOCH != 0).then_some(pol.min_epoch),
        ..Rules::default()
    };
    if pol.trusted_keys_count == 0 {
        if rules.min_epoch.is_some() || rules.allow_unsigned_tail {
            return Err(Arg::PolicyNeedsKeys);
        }
    } else {
        let Some(len) = pol.trusted_keys_count.checked_mul(32) else {
            return Err(Arg::Range("policy->trusted_keys"));
        };
        let r = Region::new("policy->trusted_keys", pol.trusted_keys, len, false, false)?;
        // SAFETY: [u8; 32] has alignment 1; the range was checked by
        // Region::new (non-NULL, no wrap, <= isize::MAX bytes) and is
        // readable and unchanged during the call (caller's contract). The
        // 'static lifetime is the library's API (loaders embed their keys):
        // the reference goes into a Policy that lives only inside this call
        // (Container, kernel and image are dropped before it returns), and no
        // &mut to it exists (`disjoint`).
        let keys: &'static [[u8; 32]] =
            unsafe { core::slice::from_raw_parts(pol.trusted_keys.cast(), pol.trusted_keys_count) };
        rules.trusted_keys = Some(keys);
        regions[0] = r;
    }
    for (slot, (what, pin, region)) in [
        (
            &mut rules.kernel_sha256,
            ("policy->kernel_sha256", pol.kernel_sha256, 1),
        ),
        (
            &mut rules.cmdline_sha256,
            ("policy->cmdline_sha256", pol.cmdline_sha256, 2),
        ),
    ] {
        if pin.is_null() {
            continue;
        }
        let r = Region::new(what, pin, 32, false, false)?;
        // SAFETY: as for the keys: non-NULL, 32 bytes that do not wrap,
        // alignment 1, readable and unchanged during the call, and used only
        // by a Policy that does not outlive it.
        let digest: &'static [u8; 32] = unsafe { &*pin.cast::<[u8; 32]>() };
        *slot = Some(digest);
        if let Some(s) = regions.get_mut(region) {
            *s = r;
        }
    }
    Ok(rules)
}

/// A fixed buffer receiving a NUL-terminated line; counts the full length.
struct Line<'b> {
    buf: &'b mut [c_char],
    len: usize,
    full: usize,
    cut: bool,
}

impl<'b> Line<'b> {
    fn new(buf: &'b mut [c_char]) -> Self {
        Self {
            buf,
            len: 0,
            full: 0,
            cut: false,
        }
    }

    /// Writes the NUL and returns the full length (as `snprintf`).
    fn finish(self) -> usize {
        if let Some(b) = self.buf.get_mut(self.len) {
            *b = 0;
        }
        self.full
    }
}

impl fmt::Write for Line<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.full = self.full.saturating_add(s.len());
        for ch in s.chars() {
            let mut enc = [0u8; 4];
            let enc = ch.encode_utf8(&mut enc).as_bytes();
            // Room for the character and the NUL after it.
            let end = self.len.saturating_add(enc.len());
            let fits = !self.cut && end < self.buf.len();
            match self.buf.get_mut(self.len..end) {
                Some(dst) if fits => {
                    for (d, &b) in dst.iter_mut().zip(enc) {
                        *d = c_char::from_ne_bytes([b]);
                    }
                    self.len = end;
                }
                _ => self.cut = true,
            }
        }
        Ok(())
    }
}

/// `status` and `failure`'s sentence as a `struct rvf_boot_error`.
fn error_struct(status: c_int, failure: Option<&Failure>) -> rvf_boot_error {
    let mut e = rvf_boot_error {
        status,
        message: [0; RVF_BOOT_MESSAGE_SIZE],
    };
    if let Some(f) = failure {
        let mut line = Line::new(&mut e.message);
        // Line::write_str never fails.
        let _ = write!(line, "{f}");
        let _ = line.finish();
    }
    e
}

/// The sentence of a status (class, not detail).
fn status_sentence(status: c_int, f: &mut Line<'_>) -> fmt::Result {
    if let Some(class) = verify::class_name(status) {
        let what = match status {
            RVF_BOOT_E_STRUCTURE => {
                "the file is not an RVF store, or it is truncated, malformed or inconsistent"
            }
            RVF_BOOT_E_INTEGRITY => "a content hash, root-page CRC or signature does not verify",
            RVF_BOOT_E_KERNEL_SEGMENT => {
                "no kernel, or its lengths or header fields are invalid or unsupported"
            }
            RVF_BOOT_E_DECOMPRESSION => "the kernel's gzip member or deflate stream is invalid",
            RVF_BOOT_E_IMAGE_HASH => "the kernel image does not match its image_hash",
            RVF_BOOT_E_BZIMAGE => "the kernel's boot-protocol header fails a check",
            RVF_BOOT_E_CMDLINE => "the kernel command line cannot be handed to the kernel",
            RVF_BOOT_E_MEMORY => "the output buffer is smaller than the kernel image",
            RVF_BOOT_E_AUTHENTICATION => {
                "the policy's signature, epoch or pinned digests are not satisfied"
            }
            _ => "refused by the library",
        };
        return write!(f, "{class}: {what}");
    }
    f.write_str(match status {
        RVF_BOOT_OK => "success",
        RVF_BOOT_E_NULL => "argument: a required pointer is NULL",
        RVF_BOOT_E_RANGE => {
            "argument: a pointer and its length wrap around the address space or exceed PTRDIFF_MAX, or a struct pointer is misaligned"
        }
        RVF_BOOT_E_STATE => "argument: the inflate state is smaller than RVF_BOOT_STATE_SIZE",
        RVF_BOOT_E_OVERLAP => "argument: a buffer the call writes overlaps another buffer",
        RVF_BOOT_E_POLICY => {
            "argument: invalid policy (unknown flags, or a signature option without trusted keys)"
        }
        _ => return write!(f, "unknown rvf-boot status {status}"),
    })
}

/// Writes the one-line sentence for `status` (what class of failure it is;
/// the call's `struct rvf_boot_error` has the detail: what and where) into
/// `buf`, NUL-terminated and cut to `buf_len - 1` bytes, like `snprintf`.
/// Returns the sentence's full length without the NUL (a return value of
/// `buf_len` or more means it was cut). Writes nothing when `buf` is NULL,
/// `buf_len` is 0, or `[buf, buf + buf_len)` wraps around the address space.
///
/// # Safety
/// When `buf` is not NULL, `buf_len` bytes at `buf` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rvf_boot_error_message(
    status: c_int,
    buf: *mut c_char,
    buf_len: usize,
) -> usize {
    let mut none: [c_char; 0] = [];
    let out: &mut [c_char] = match Region::new("buf", buf.cast_const().cast(), buf_len, true, true)
    {
        Ok(r) if r.len != 0 => {
            // SAFETY: buf is non-NULL (len != 0), c_char has alignment 1, the
            // range does not wrap and spans at most isize::MAX bytes
            // (Region::new), and the caller guarantees it is writable; the
            // call uses no other buffer.
            unsafe { core::slice::from_raw_parts_mut(buf, r.len) }
        }
        _ => &mut none,
    };
    let mut line = Line::new(out);
    let _ = status_sentence(status, &mut line);
    line.finish()
}

/// [`rvf_boot_image_size_with_policy`] under the default policy, without
/// the error detail.
///
/// # Safety
/// As [`rvf_boot_image_size_with_policy`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rvf_boot_image_size(
    rvf: *const u8,
    rvf_len: usize,
    image_size: *mut u64,
) -> c_int {
    // SAFETY: the same contract, with NULL for the optional pointers.
    unsafe {
        rvf_boot_image_size_with_policy(rvf, rvf_len, ptr::null(), image_size, ptr::null_mut())
    }
}

/// Parses the RVF, selects the kernel a loader boots (its content hash
/// checked; under a signature policy, its signature coverage) and stores in
/// `*image_size` the output buffer [`rvf_boot_extract`] needs: the image
/// size for a gzip'd kernel (at most 256 MiB and at most what its stored
/// bytes can inflate to), 0 for a stored one (verified in place).
///
/// Returns [`RVF_BOOT_OK`] or a status. `*image_size` is written (0 on
/// failure) and, when `error` is not NULL, `*error` too, except when that
/// pointer itself is unusable (NULL `image_size`, misaligned, wrapping, or
/// overlapping another argument).
///
/// # Safety
/// `rvf_len` bytes at `rvf` readable; `policy` NULL or a readable
/// `struct rvf_boot_policy` (its keys and digests readable as it states);
/// `image_size` and `error` (if not NULL) writable; nothing the call reads
/// is written by anyone during it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rvf_boot_image_size_with_policy(
    rvf: *const u8,
    rvf_len: usize,
    policy: *const rvf_boot_policy,
    image_size: *mut u64,
    error: *mut rvf_boot_error,
) -> c_int {
    let size_region = match Region::of("image_size", image_size.cast_const(), true) {
        Ok(r) => r,
        Err(a) => return Failure::Arg(a).status(),
    };
    let error_region = if error.is_null() {
        Region::NONE
    } else {
        match Region::of("error", error.cast_const(), true) {
            Ok(r) => r,
            Err(a) => return Failure::Arg(a).status(),
        }
    };
    let outputs = [size_region, error_region];
    // SAFETY: the caller's contract for rvf and policy; outputs are checked.
    let result = unsafe { image_size_checked(rvf, rvf_len, policy, &outputs) };
    let status = match result {
        Ok(_) => RVF_BOOT_OK,
        Err(f) => f.status(),
    };
    if let Err(Failure::Arg(Arg::Overlap(a, b))) = result
        && [a, b].iter().any(|w| ["image_size", "error"].contains(w))
    {
        // Writing either output would change a buffer the caller passed
        // for something else: report only the status.
        return status;
    }
    // SAFETY: image_size is non-NULL, aligned and in a range that does not
    // wrap (Region::of), writable (caller's contract), overlaps no buffer the
    // call read (`disjoint`), and every borrow of the caller's memory ended
    // with image_size_checked.
    unsafe { image_size.write(*result.as_ref().unwrap_or(&0)) };
    if !error.is_null() {
        let e = error_struct(status, result.as_ref().err());
        // SAFETY: as for image_size: non-NULL, aligned, writable, disjoint.
        unsafe { error.write(e) };
    }
    status
}

/// # Safety
/// As [`rvf_boot_image_size_with_policy`]; `outputs` are the checked
/// regions of the call's output structs.
unsafe fn image_size_checked(
    rvf: *const u8,
    rvf_len: usize,
    policy: *const rvf_boot_policy,
    outputs: &[Region; 2],
) -> Result<u64, Failure> {
    let [o1, o2] = *outputs;
    // The outputs against each argument as soon as it is known to be a
    // buffer, so an output is never written over another argument.
    disjoint(&[o1, o2])?;
    let rvf_region = Region::new("rvf", rvf, rvf_len, false, false)?;
    disjoint(&[rvf_region, o1, o2])?;
    let mut policy_regions = [Region::NONE; 3];
    // SAFETY: the caller's contract for policy.
    let rules = unsafe { read_policy(policy, &mut policy_regions) };
    let [k, kp, cp] = policy_regions;
    disjoint(&[rvf_region, k, kp, cp, o1, o2])?;
    let rules = rules?;
    // SAFETY: rvf_region checked rvf and rvf_len; readable and unchanged
    // during the call (caller's contract); no written region overlaps it.
    let file = unsafe { bytes(rvf, &rvf_region) };
    Ok(verify::image_size(file, &rules)?)
}

/// [`rvf_boot_extract_with_policy`] under the default policy.
///
/// # Safety
/// As [`rvf_boot_extract_with_policy`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rvf_boot_extract(
    rvf: *const u8,
    rvf_len: usize,
    out: *mut u8,
    out_len: usize,
    state: *mut c_void,
    state_len: usize,
    kernel: *mut rvf_boot_kernel,
) -> c_int {
    // SAFETY: the same contract, with a NULL (default) policy.
    unsafe {
        rvf_boot_extract_with_policy(
            rvf,
            rvf_len,
            ptr::null(),
            out,
            out_len,
            state,
            state_len,
            kernel,
        )
    }
}

/// The whole verified extraction of the kernel a loader boots: every check
/// the library makes (the file's structure and manifest, the kernel's
/// content hash, the gzip CRC-32 and ISIZE, the exact image size, the
/// header's `image_hash`), then the policy's signature, epoch and pins.
///
/// `out` (`out_len` bytes, at least what [`rvf_boot_image_size`] said;
/// may be NULL when that is 0) receives a gzip'd image; a stored image is
/// verified in place and `kernel->image` points into the RVF. `state` is
/// scratch memory of at least [`RVF_BOOT_STATE_SIZE`] bytes, any alignment,
/// any content. Returns [`RVF_BOOT_OK`] or a status, and writes `*kernel`
/// (the verified kernel, or NULLs and the error) unless `kernel` itself is
/// unusable (NULL, misaligned, wrapping, overlapping another argument).
/// On failure `out` and `state` hold unspecified bytes.
///
/// # Safety
/// `rvf_len` bytes at `rvf` readable, `out_len` bytes at `out` and
/// `state_len` bytes at `state` writable, `policy` NULL or a readable
/// `struct rvf_boot_policy` (its keys and digests readable as it states),
/// `kernel` writable; nothing the call uses is accessed by anyone else
/// during it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rvf_boot_extract_with_policy(
    rvf: *const u8,
    rvf_len: usize,
    policy: *const rvf_boot_policy,
    out: *mut u8,
    out_len: usize,
    state: *mut c_void,
    state_len: usize,
    kernel: *mut rvf_boot_kernel,
) -> c_int {
    let kernel_region = match Region::of("kernel", kernel.cast_const(), true) {
        Ok(r) => r,
        Err(a) => return Failure::Arg(a).status(),
    };
    let args = ExtractArgs {
        rvf,
        rvf_len,
        policy,
        out,
        out_len,
        state: state.cast(),
        state_len,
        kernel: kernel_region,
    };
    // SAFETY: the caller's contract, passed on.
    let result = unsafe { extract_checked(&args) };
    let k = match result {
        Ok(x) => kernel_struct(&x),
        Err(f @ Failure::Arg(Arg::Overlap(a, b))) if a == "kernel" || b == "kernel" => {
            // Writing *kernel would change a buffer the caller passed for
            // something else: report only the status.
            return f.status();
        }
        Err(f) => failed_kernel(&f),
    };
    let status = k.error.status;
    // SAFETY: kernel is non-NULL, aligned and in a range that does not wrap
    // (Region::of), writable (caller's contract), and overlaps no buffer the
    // call used (`disjoint` checked it, else we returned above); the slices
    // of the call are no longer used (kernel_struct made raw pointers).
    unsafe { kernel.write(k) };
    status
}

/// The raw arguments of an extraction.
struct ExtractArgs {
    rvf: *const u8,
    rvf_len: usize,
    policy: *const rvf_boot_policy,
    out: *mut u8,
    out_len: usize,
    state: *mut u8,
    state_len: usize,
    kernel: Region,
}

/// # Safety
/// As [`rvf_boot_extract_with_policy`].
unsafe fn extract_checked(a: &ExtractArgs) -> Result<Extracted<'static>, Failure> {
    // The kernel struct against each argument as soon as it is known to be
    // a buffer, so *kernel is never written over another argument.
    let rvf_region = Region::new("rvf", a.rvf, a.rvf_len, false, false)?;
    disjoint(&[rvf_region, a.kernel])?;
    let mut policy_regions = [Region::NONE; 3];
    // SAFETY: the caller's contract for policy.
    let rules = unsafe { read_policy(a.policy, &mut policy_regions) };
    let [k, kp, cp] = policy_regions;
    disjoint(&[k, kp, cp, a.kernel])?;
    let rules = rules?;
    let out_region = Region::new("out", a.out.cast_const(), a.out_len, true, true)?;
    disjoint(&[out_region, a.kernel])?;
    let state_region = Region::new("state", a.state.cast_const(), a.state_len, false, true)?;
    disjoint(&[state_region, a.kernel])?;
    if a.state_len < RVF_BOOT_STATE_SIZE {
        return Err(Arg::State(a.state_len).into());
    }
    disjoint(&[rvf_region, k, kp, cp, out_region, state_region, a.kernel])?;
    // The state at its alignment inside the caller's bytes.
    let pad = a.state.align_offset(verify::STATE_ALIGN);
    if pad.saturating_add(size_of::<verify::State>()) > a.state_len {
        // Unreachable while RVF_BOOT_STATE_SIZE holds the worst padding
        // (a compile-time assertion), kept as a status, not a panic.
        return Err(Arg::State(a.state_len).into());
    }
    // SAFETY: pad + size_of::<State>() <= state_len (just checked), so the
    // offset stays inside the caller's state region.
    let slot = unsafe { a.state.add(pad) }.cast::<MaybeUninit<verify::State>>();
    // SAFETY: slot is aligned for State (align_offset), its bytes lie in the
    // state region (checked above), which is writable and disjoint from
    // every other region of the call; MaybeUninit accepts any content.
    let slot = unsafe { &mut *slot };
    let state = verify::init_state(slot);
    // SAFETY: rvf_region checked rvf/rvf_len; readable and unchanged during
    // the call; disjoint from every written region. The 'static lifetime
    // ends with this call: the result is turned into raw pointers by the
    // caller before it returns.
    let file: &'static [u8] = unsafe { bytes(a.rvf, &rvf_region) };
    // SAFETY: out_region checked out/out_len (NULL only when empty); writable
    // and disjoint from every other region of the call; lifetime as above.
    let out: &'static mut [u8] = unsafe { bytes_mut(a.out, &out_region) };
    Ok(verify::extract(file, &rules, out, state)?)
}

/// The C view of a verified kernel.
fn kernel_struct(x: &Extracted<'_>) -> rvf_boot_kernel {
    rvf_boot_kernel {
        image: x.image.as_ptr(),
        image_len: u64::try_from(x.image.len()).unwrap_or(u64::MAX),
        cmdline: if x.cmdline.is_empty() {
            ptr::null()
        } else {
            x.cmdline.as_ptr()
        },
        cmdline_len: x.cmdline.len(),
        image_sha256: x.image_sha256,
        kernel_offset: x.kernel_offset,
        format: if x.gzip {
            RVF_BOOT_FORMAT_GZIP
        } else {
            RVF_BOOT_FORMAT_RAW
        },
        error: error_struct(RVF_BOOT_OK, None),
    }
}

/// The kernel struct of a failed call.
fn failed_kernel(f: &Failure) -> rvf_boot_kernel {
    rvf_boot_kernel {
        image: ptr::null(),
        image_len: 0,
        cmdline: ptr::null(),
        cmdline_len: 0,
        image_sha256: [0; 32],
        kernel_offset: 0,
        format: RVF_BOOT_FORMAT_RAW,
        error: error_struct(f.status(), Some(f)),
    }
}

/// The archive's panic handler, unreachable (the crate and the library keep
/// the no-panic lint wall): if it ever ran, it traps rather than return into
/// C code or spin silently.
#[cfg(not(any(test, feature = "std", panic = "unwind")))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    trap()
}

#[cfg(all(
    not(any(test, feature = "std", panic = "unwind")),
    any(target_arch = "x86", target_arch = "x86_64")
))]
fn trap() -> ! {
    // SAFETY: ud2 only raises #UD (invalid opcode); it touches no memory and
    // never returns (noreturn).
    unsafe { core::arch::asm!("ud2", options(noreturn, nomem, nostack)) }
}

#[cfg(all(
    not(any(test, feature = "std", panic = "unwind")),
    target_arch = "aarch64"
))]
fn trap() -> ! {
    // SAFETY: udf only raises an undefined-instruction exception; it touches
    // no memory and never returns (noreturn).
    unsafe { core::arch::asm!("udf #0", options(noreturn, nomem, nostack)) }
}

#[cfg(all(
    not(any(test, feature = "std", panic = "unwind")),
    not(any(target_arch = "x86", target_arch = "x86_64", target_arch = "aarch64"))
))]
fn trap() -> ! {
    loop {
        core::hint::spin_loop();
    }
}

/// The host's precompiled `core` refers to this symbol even with
/// `panic = "abort"`; nothing calls it (nothing unwinds). Defined so the
/// archive links into a C program without a Rust runtime.
#[cfg(not(any(test, feature = "std", panic = "unwind")))]
#[unsafe(no_mangle)]
pub extern "C" fn rust_eh_personality() {}

#[cfg(test)]
mod tests;
