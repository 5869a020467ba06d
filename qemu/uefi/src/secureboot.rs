//! Starting the verified kernel under UEFI Secure Boot: one function for the
//! hand-over, [`start_kernel`], whose route depends on what the firmware and
//! the loader's built-in policy say (docs/security.md has the whole chain).
//!
//! | Secure Boot | shim's Shim Lock | policy authenticates the kernel | route |
//! |---|---|---|---|
//! | off / unknown | - | - | `LoadImage` as is |
//! | on | absent | no | `LoadImage` as is: the firmware's db decides |
//! | on | absent | yes | `LoadImage` under a scoped security override |
//! | on | present | either | shim's `Verify`, then the override |
//!
//! "The policy authenticates the kernel" means the loader was built with
//! trusted keys (the file's signature covers the kernel segment) or a kernel
//! pin ([`authorises_kernel`]); a command-line pin alone does not name a
//! kernel and does not count. A signed loader without such a policy never
//! starts a kernel the firmware (or shim) would not start itself.
//!
//! **The override.** The firmware's `LoadImage` asks its
//! `EFI_SECURITY2_ARCH_PROTOCOL.FileAuthentication` about every image (edk2
//! `CoreLoadImageCommon`: with the image's device path, the source buffer and
//! its size); that is where db decides. For the one `LoadImage` call of the
//! verified kernel the loader replaces the function pointer in the firmware's
//! protocol structure with [`file_authentication`], which approves exactly
//! one call: no device path, `BootPolicy` false, and the source buffer's
//! address and length equal to the verified image's (edk2 hands its caller's
//! buffer through unchanged). Every other call goes to the firmware's own
//! function. `EFI_SECURITY_ARCH_PROTOCOL.FileAuthenticationState` (older
//! firmware, and edk2 for images from firmware volumes) names a file by its
//! device path only; its replacement [`file_authentication_state`] approves
//! only a call without a device path (the loader's image has none; edk2 never
//! asks it about such an image). The originals are put back as soon as
//! `LoadImage` returns ([`Override`]'s `Drop`), before anything else runs.
//!
//! **shim.** Where shim's Shim Lock protocol is present (shim started the
//! loader), the kernel goes through shim's `Verify` first (db, MokList, shim's
//! vendor key; dbx, MokListX): shim 15.3 and later halt at
//! `ExitBootServices` unless the next stage verified through it, and
//! shim 16 also replaces `LoadImage` with its own verifying loader. The
//! policy then narrows what shim allows; it never widens it.
//!
//! The measured-boot events are unchanged (PCRs 8 and 9, `tcg2.rs`);
//! the firmware measures the Secure Boot configuration and the db entry that
//! allowed the loader into PCR 7. edk2 measures an image into PCR 4 from the
//! same `FileAuthentication` call that checks db, so under the override the
//! kernel has no firmware PCR 4 event (the loader's PCR 9 event stands for
//! it): the route is visible in PCR 4.
//!
//! **SBAT.** shim starts a second stage only with an `.sbat` section:
//! [`SBAT`], kept in the PE by `qemu/uefi/build.sh`.

use core::ffi::c_void;
use core::fmt::Write;
use core::ptr;
use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use r_efi::efi::{Boolean, Guid, Handle, Status};
use r_efi::protocols::device_path;
use rvf_boot::Policy;

use crate::failure::{Failure, Verifier};
use crate::fw::{Firmware, Refused};
use crate::text::Line;

/// `EFI_SECURITY_ARCH_PROTOCOL_GUID` (a46423e3-4617-49f1-b9ff-d1bfa9115839,
/// PI 1.8 volume 2 §12.8).
const SECURITY_GUID: Guid = Guid::from_fields(
    0xa464_23e3,
    0x4617,
    0x49f1,
    0xb9,
    0xff,
    &[0xd1, 0xbf, 0xa9, 0x11, 0x58, 0x39],
);

/// `EFI_SECURITY2_ARCH_PROTOCOL_GUID` (94ab2f58-1438-4ef1-9152-18941a3a0e68,
/// PI 1.8 volume 2 §12.9).
const SECURITY2_GUID: Guid = Guid::from_fields(
    0x94ab_2f58,
    0x1438,
    0x4ef1,
    0x91,
    0x52,
    &[0x18, 0x94, 0x1a, 0x3a, 0x0e, 0x68],
);

/// shim's `SHIM_LOCK_GUID` (605dab50-e046-4300-abb6-3dd810dd8b23).
const SHIM_LOCK_GUID: Guid = Guid::from_fields(
    0x605d_ab50,
    0xe046,
    0x4300,
    0xab,
    0xb6,
    &[0x3d, 0xd8, 0x10, 0xdd, 0x8b, 0x23],
);

/// `EFI_SECURITY_FILE_AUTHENTICATION_STATE(This, AuthenticationStatus, File)`.
type FileAuthenticationState =
    unsafe extern "efiapi" fn(*const SecurityProtocol, u32, *const device_path::Protocol) -> Status;

/// `EFI_SECURITY_ARCH_PROTOCOL`: one function.
#[repr(C)]
struct SecurityProtocol {
    file_authentication_state: FileAuthenticationState,
}

/// `EFI_SECURITY2_FILE_AUTHENTICATION(This, File, FileBuffer, FileSize,
/// BootPolicy)`.
type FileAuthentication = unsafe extern "efiapi" fn(
    *const Security2Protocol,
    *const device_path::Protocol,
    *mut c_void,
    usize,
    Boolean,
) -> Status;

/// `EFI_SECURITY2_ARCH_PROTOCOL`: one function.
#[repr(C)]
struct Security2Protocol {
    file_authentication: FileAuthentication,
}

/// shim's `SHIM_LOCK.Verify(buffer, size)`. shim declares its protocol
/// functions without `EFIAPI`: they use the System V calling convention.
type ShimVerify = unsafe extern "sysv64" fn(*mut c_void, u32) -> Status;

/// shim's `SHIM_LOCK`: `Verify`, `Hash`, `Context` (only `Verify` is used).
#[repr(C)]
struct ShimLock {
    verify: ShimVerify,
    hash: *const c_void,
    context: *const c_void,
}

// The override's state, read by the replacement functions (which get only
// the firmware's arguments). In `.data`: gnu-efi's linker script keeps only
// the plain `.bss`, and zero-initialised statics would land in `.bss.*`.
/// Address of the one buffer the override approves (0: none).
#[unsafe(link_section = ".data")]
static APPROVED_ADDR: AtomicUsize = AtomicUsize::new(0);
/// Its length.
#[unsafe(link_section = ".data")]
static APPROVED_LEN: AtomicUsize = AtomicUsize::new(0);
/// The firmware's `FileAuthentication` while it is replaced.
#[unsafe(link_section = ".data")]
static ORIGINAL2: AtomicPtr<()> = AtomicPtr::new(ptr::null_mut());
/// The firmware's `FileAuthenticationState` while it is replaced.
#[unsafe(link_section = ".data")]
static ORIGINAL1: AtomicPtr<()> = AtomicPtr::new(ptr::null_mut());

/// Whether `policy` authenticates the kernel itself: trusted keys (the
/// signature covers the kernel segment) or a kernel pin.
pub fn authorises_kernel(policy: &Policy) -> bool {
    policy.signature.is_some_and(|s| !s.trusted_keys.is_empty())
        || policy.pins.kernel_sha256.is_some()
}

/// Start the verified kernel: `LoadImage` of `image` by the route the module
/// table names, its command line `options` (UCS-2, NUL included) as load
/// options, `StartImage`. Returns only when the kernel was not started or
/// its EFI stub returned: the failure to report.
///
/// `image` must be the bytes the loader verified under `policy` (the
/// library's `image::extract` output, after `Policy::check_kernel`), and
/// `options` must outlive the kernel's use of them.
pub fn start_kernel(fw: &Firmware, image: &[u8], options: &[u16], policy: &Policy) -> Failure {
    let child = match load(fw, image, policy) {
        Ok(child) => child,
        Err(failure) => return failure,
    };
    if let Err(failure) = fw.set_load_options(child, options) {
        let _ = fw.unload_image(child);
        return failure;
    }
    say(fw, format_args!("rvf-boot: starting the kernel's EFI stub"));
    let status = fw.start_image(child);
    Failure::KernelRefused {
        what: "StartImage",
        status,
    }
}

/// Print one line (formatted masked).
fn say(fw: &Firmware, args: core::fmt::Arguments<'_>) {
    let line = fw.masked(|| {
        let mut l = Line::new();
        let _ = l.write_fmt(args);
        l
    });
    fw.print(&line);
}

/// `LoadImage` of the verified kernel by its route.
fn load(fw: &Firmware, image: &[u8], policy: &Policy) -> Result<Handle, Failure> {
    if fw.secure_boot() != Some(true) {
        return fw.load_image(image).map_err(refused);
    }
    if let Some(shim) = fw.locate::<ShimLock>(&SHIM_LOCK_GUID) {
        shim_verify(shim, image)?;
        say(
            fw,
            format_args!(
                "rvf-boot: Secure Boot on: shim verified the kernel (Shim Lock); LoadImage approves exactly its {} bytes{}",
                image.len(),
                if authorises_kernel(policy) {
                    ", which the boot policy authenticated too"
                } else {
                    ""
                }
            ),
        );
        let _window = Override::install(fw, image);
        return fw.load_image(image).map_err(refused);
    }
    if authorises_kernel(policy) {
        let by = match (
            policy.signature.is_some(),
            policy.pins.kernel_sha256.is_some(),
        ) {
            (true, true) => "a trusted key's signature and the kernel pin",
            (true, false) => "a trusted key's signature",
            (false, _) => "the kernel pin",
        };
        say(
            fw,
            format_args!(
                "rvf-boot: Secure Boot on: the boot policy authenticated the kernel ({by}); LoadImage approves exactly its {} bytes",
                image.len()
            ),
        );
        let _window = Override::install(fw, image);
        return fw.load_image(image).map_err(refused);
    }
    say(
        fw,
        format_args!(
            "rvf-boot: Secure Boot on, no boot policy that authenticates the kernel: the firmware's db decides"
        ),
    );
    fw.load_image(image).map_err(refused)
}

/// A `LoadImage` refusal as a failure: the two Secure Boot statuses are the
/// firmware's verdict (code 15), anything else the firmware's trouble with
/// the image (code 12).
fn refused(r: Refused) -> Failure {
    match r.status {
        Status::SUCCESS => Failure::Internal("LoadImage returned no handle"),
        Status::ACCESS_DENIED | Status::SECURITY_VIOLATION => Failure::SecureBootRefused {
            by: Verifier::Firmware,
            status: r.status,
            unloaded: r.unloaded,
        },
        status => Failure::KernelRefused {
            what: "LoadImage",
            status,
        },
    }
}

/// shim's `Verify` of the verified image.
fn shim_verify(shim: *mut ShimLock, image: &[u8]) -> Result<(), Failure> {
    let len = u32::try_from(image.len()).map_err(|_| Failure::SecureBootRefused {
        by: Verifier::Shim,
        status: Status::BAD_BUFFER_SIZE,
        unloaded: false,
    })?;
    // SAFETY: `shim` is the non-null interface LocateProtocol returned for
    // SHIM_LOCK_GUID, installed by shim, whose layout `ShimLock` follows;
    // shim keeps it while boot services run. Only read.
    let verify = unsafe { (*shim).verify };
    // SAFETY: shim's own Verify with a buffer of `len` readable bytes that
    // lives across the call; shim reads the image (it hashes and checks its
    // signature) and writes nothing of it, so the const-to-mut cast is sound.
    let status = unsafe { verify(image.as_ptr().cast_mut().cast(), len) };
    if status.is_error() {
        return Err(Failure::SecureBootRefused {
            by: Verifier::Shim,
            status,
            unloaded: false,
        });
    }
    Ok(())
}

/// The scoped security override: installed for one buffer, removed on drop
/// (right after the one `LoadImage` it exists for).
struct Override {
    security2: Option<*mut Security2Protocol>,
    security: Option<*mut SecurityProtocol>,
}

impl Override {
    /// Approve exactly `image` (address and length) until dropped.
    fn install(fw: &Firmware, image: &[u8]) -> Self {
        APPROVED_LEN.store(image.len(), Ordering::SeqCst);
        APPROVED_ADDR.store(image.as_ptr() as usize, Ordering::SeqCst);
        let security2 = fw.locate::<Security2Protocol>(&SECURITY2_GUID);
        if let Some(p) = security2 {
            // SAFETY: `p` is the non-null interface LocateProtocol returned
            // for the Security2 architectural protocol, a repr(C) structure
            // whose only field, at offset 0, is the function pointer DxeCore
            // calls through (aligned: the firmware's structure); reading it
            // is sound.
            let original = unsafe { p.cast::<FileAuthentication>().read() };
            ORIGINAL2.store(original as *mut (), Ordering::SeqCst);
            // SAFETY: the same field, written with a function of the same
            // type; the original is saved above and put back in `drop`.
            // The write is one aligned pointer store: DxeCore sees either
            // function, both valid.
            unsafe { p.cast::<FileAuthentication>().write(file_authentication) };
        }
        let security = fw.locate::<SecurityProtocol>(&SECURITY_GUID);
        if let Some(p) = security {
            // SAFETY: as above, for the Security architectural protocol.
            let original = unsafe { p.cast::<FileAuthenticationState>().read() };
            ORIGINAL1.store(original as *mut (), Ordering::SeqCst);
            // SAFETY: as above.
            unsafe {
                p.cast::<FileAuthenticationState>()
                    .write(file_authentication_state);
            };
        }
        Self {
            security2,
            security,
        }
    }
}

impl Drop for Override {
    fn drop(&mut self) {
        APPROVED_ADDR.store(0, Ordering::SeqCst);
        APPROVED_LEN.store(0, Ordering::SeqCst);
        if let Some(p) = self.security2
            && let Some(original) = original2()
        {
            // SAFETY: the field `install` replaced, given back the
            // firmware's own function it read there.
            unsafe { p.cast::<FileAuthentication>().write(original) };
        }
        if let Some(p) = self.security
            && let Some(original) = original1()
        {
            // SAFETY: as above.
            unsafe { p.cast::<FileAuthenticationState>().write(original) };
        }
        ORIGINAL2.store(ptr::null_mut(), Ordering::SeqCst);
        ORIGINAL1.store(ptr::null_mut(), Ordering::SeqCst);
    }
}

/// The saved `FileAuthentication`.
fn original2() -> Option<FileAuthentication> {
    let p = ORIGINAL2.load(Ordering::SeqCst);
    if p.is_null() {
        return None;
    }
    // SAFETY: ORIGINAL2 holds null or a value `Override::install` read from
    // the firmware's `FileAuthentication` field, a function of this type.
    Some(unsafe { core::mem::transmute::<*mut (), FileAuthentication>(p) })
}

/// The saved `FileAuthenticationState`.
fn original1() -> Option<FileAuthenticationState> {
    let p = ORIGINAL1.load(Ordering::SeqCst);
    if p.is_null() {
        return None;
    }
    // SAFETY: as in `original2`, for `FileAuthenticationState`.
    Some(unsafe { core::mem::transmute::<*mut (), FileAuthenticationState>(p) })
}

/// Whether the override approves this buffer: the one it was installed for.
fn approved(buffer: *const c_void, size: usize) -> bool {
    let addr = APPROVED_ADDR.load(Ordering::SeqCst);
    addr != 0 && buffer as usize == addr && size == APPROVED_LEN.load(Ordering::SeqCst)
}

/// The replacement `FileAuthentication`: success for the verified buffer
/// loaded from memory by the loader, the firmware's own answer otherwise.
unsafe extern "efiapi" fn file_authentication(
    this: *const Security2Protocol,
    file: *const device_path::Protocol,
    buffer: *mut c_void,
    size: usize,
    boot_policy: Boolean,
) -> Status {
    if file.is_null() && !bool::from(boot_policy) && approved(buffer, size) {
        return Status::SUCCESS;
    }
    match original2() {
        // SAFETY: the firmware's own function, called with the arguments
        // the firmware passed (its own `this` included).
        Some(f) => unsafe { f(this, file, buffer, size, boot_policy) },
        None => Status::ACCESS_DENIED,
    }
}

/// The replacement `FileAuthenticationState`: success for a file without a
/// device path while the override stands (the loader's image from memory),
/// the firmware's own answer otherwise.
unsafe extern "efiapi" fn file_authentication_state(
    this: *const SecurityProtocol,
    status: u32,
    file: *const device_path::Protocol,
) -> Status {
    if file.is_null() && APPROVED_ADDR.load(Ordering::SeqCst) != 0 {
        return Status::SUCCESS;
    }
    match original1() {
        // SAFETY: as in `file_authentication`.
        Some(f) => unsafe { f(this, status, file) },
        None => Status::ACCESS_DENIED,
    }
}

/// The loader's SBAT metadata (shim's `SBAT.md`): shim 15.4 and later start a
/// second stage in secure mode only when it has an `.sbat` section whose
/// component generations its revocation level does not exceed. Component
/// `rvf-boot`, generation 1 (raise it to revoke every earlier loader through
/// shim's `SbatLevel`); no vendor version or URL. `qemu/uefi/build.sh` keeps
/// the section in the PE.
#[used]
#[unsafe(link_section = ".sbat")]
static SBAT: [u8; 113] =
    *b"sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md\nrvf-boot,1,rvf-boot,rvf-boot-efi,-,-\n";
