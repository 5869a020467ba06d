//! The initramfs, served the way Linux's EFI stub (5.8+) asks for it: a
//! handle carrying the vendor media device path `LINUX_EFI_INITRD_MEDIA_GUID`
//! and `EFI_LOAD_FILE2_PROTOCOL`, whose `LoadFile` copies the bytes into the
//! buffer the stub allocated. Installed only when there is an initramfs,
//! uninstalled when the kernel's EFI stub returns (if ever).

use core::ffi::c_void;
use core::ptr;

use r_efi::efi::{Boolean, Guid, Handle, Status};
use r_efi::protocols::{device_path, load_file, load_file2};

use crate::failure::Failure;
use crate::fw::{Firmware, Pages};

/// `LINUX_EFI_INITRD_MEDIA_GUID` (5568e427-68fc-4f3d-ac74-ca555231cc68).
const INITRD_MEDIA_GUID: Guid = Guid::from_fields(
    0x5568_e427,
    0x68fc,
    0x4f3d,
    0xac,
    0x74,
    &[0xca, 0x55, 0x52, 0x31, 0xcc, 0x68],
);

/// Vendor media node (4 + 16 bytes) and the end node (4 bytes).
const PATH_LEN: usize = 24;

/// What the handle's protocols point to; lives in its own page.
#[repr(C)]
struct Device {
    /// Must be first: `LoadFile`'s `this` is a pointer to it.
    load_file: load_file2::Protocol,
    /// The initramfs.
    data: *const u8,
    /// Its length.
    len: usize,
    /// The device path (byte-aligned nodes).
    path: [u8; PATH_LEN],
}

/// The installed initrd device; uninstalled on drop.
pub struct Served<'f> {
    fw: &'f Firmware,
    handle: Handle,
    device: Pages<'f>,
}

/// The device path bytes: vendor media node with the GUID, then the end.
fn device_path_bytes() -> [u8; PATH_LEN] {
    let mut p = [0u8; PATH_LEN];
    let guid = INITRD_MEDIA_GUID.as_bytes();
    let head = [
        device_path::TYPE_MEDIA,
        device_path::Media::SUBTYPE_VENDOR,
        20,
        0,
    ];
    let end = [
        device_path::TYPE_END,
        device_path::End::SUBTYPE_ENTIRE,
        4,
        0,
    ];
    for (d, s) in p
        .iter_mut()
        .zip(head.iter().chain(guid.iter()).chain(end.iter()))
    {
        *d = *s;
    }
    p
}

/// Install the initrd device for `initrd`, which must outlive it.
pub fn serve<'f>(fw: &'f Firmware, initrd: &'f [u8]) -> Result<Served<'f>, Failure> {
    let mut page = fw.allocate("initrd device", core::mem::size_of::<Device>() as u64)?;
    let dev = page.bytes_mut().as_mut_ptr().cast::<Device>();
    // SAFETY: the page is page-aligned (enough for Device), at least
    // size_of::<Device>() bytes, and owned by `page` alone; ptr::write does
    // not read the old contents.
    unsafe {
        ptr::write(
            dev,
            Device {
                load_file: load_file::Protocol {
                    load_file: load_file2_fn,
                },
                data: initrd.as_ptr(),
                len: initrd.len(),
                path: device_path_bytes(),
            },
        );
    }
    // SAFETY: `dev` was just initialised; the field pointer stays in it.
    let path_ptr = unsafe { ptr::addr_of_mut!((*dev).path) };
    let mut handle: Handle = ptr::null_mut();
    // SAFETY: a device path (byte-aligned nodes ending in an end node) in a
    // page that lives, unchanged, until `Served` uninstalls it on drop.
    let status = unsafe { fw.install(&mut handle, &device_path::PROTOCOL_GUID, path_ptr.cast()) };
    if status.is_error() {
        return Err(Failure::Firmware {
            what: "installing the initrd device path",
            status,
        });
    }
    // SAFETY: a LoadFile2 protocol structure at the start of the same page,
    // valid until uninstalled on drop; its function reads the initramfs,
    // which outlives `Served` (`'f`).
    let status = unsafe { fw.install(&mut handle, &load_file2::PROTOCOL_GUID, dev.cast()) };
    if status.is_error() {
        let _ = fw.uninstall(handle, &device_path::PROTOCOL_GUID, path_ptr.cast());
        return Err(Failure::Firmware {
            what: "installing the initrd LoadFile2 protocol",
            status,
        });
    }
    Ok(Served {
        fw,
        handle,
        device: page,
    })
}

impl Drop for Served<'_> {
    fn drop(&mut self) {
        let dev = self.device.bytes_mut().as_mut_ptr().cast::<Device>();
        // SAFETY: the page holds the Device written in `serve`.
        let path_ptr = unsafe { ptr::addr_of_mut!((*dev).path) };
        let _ = self
            .fw
            .uninstall(self.handle, &load_file2::PROTOCOL_GUID, dev.cast());
        let _ = self
            .fw
            .uninstall(self.handle, &device_path::PROTOCOL_GUID, path_ptr.cast());
    }
}

/// `EFI_LOAD_FILE2_PROTOCOL.LoadFile`: the initramfs into the caller's
/// buffer, or its size with `EFI_BUFFER_TOO_SMALL`.
unsafe extern "efiapi" fn load_file2_fn(
    this: *mut load_file::Protocol,
    _path: *mut device_path::Protocol,
    boot_policy: Boolean,
    size: *mut usize,
    buffer: *mut c_void,
) -> Status {
    if this.is_null() || size.is_null() {
        return Status::INVALID_PARAMETER;
    }
    if bool::from(boot_policy) {
        return Status::UNSUPPORTED;
    }
    // SAFETY: `this` is the protocol pointer installed in `serve`, the first
    // field of a Device (repr(C)) that lives until it is uninstalled.
    let dev: &Device = unsafe { &*this.cast::<Device>() };
    // SAFETY: `size` is the caller's non-null in/out size.
    let have = unsafe { size.read_unaligned() };
    if buffer.is_null() || have < dev.len {
        // SAFETY: as above.
        unsafe { size.write_unaligned(dev.len) };
        return Status::BUFFER_TOO_SMALL;
    }
    // SAFETY: the caller's buffer holds `have >= len` bytes; the initramfs
    // is `len` readable bytes in the loader's pages, which the caller's
    // freshly allocated buffer cannot overlap.
    unsafe { ptr::copy_nonoverlapping(dev.data, buffer.cast::<u8>(), dev.len) };
    // SAFETY: as above.
    unsafe { size.write_unaligned(dev.len) };
    Status::SUCCESS
}
