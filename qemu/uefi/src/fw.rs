//! The firmware: every call into UEFI boot services and every raw pointer the
//! firmware hands over lives here (plus the LoadFile2 callback in
//! `initrd.rs`). Each `unsafe` block states why the call or the
//! dereference is sound.

use core::cell::Cell;
use core::ffi::c_void;
use core::ptr;

use r_efi::efi::{self, Boolean, BootServices, Guid, Handle, RuntimeServices, Status, SystemTable};
use r_efi::protocols::{file, loaded_image, simple_file_system, simple_text_output};

use crate::failure::Failure;
use crate::names::{FileKind, PATH_MAX, Path};
use crate::text::{self, Line};

/// UEFI page size.
pub const PAGE: u64 = 4096;

/// Largest single `EFI_FILE_PROTOCOL.Read` request (some firmware handles
/// huge reads badly).
const READ_CHUNK: usize = 16 << 20;

/// The firmware as the loader sees it.
pub struct Firmware {
    /// The loader's own image handle.
    image: Handle,
    /// Boot services (valid until ExitBootServices, which only Linux's EFI
    /// stub calls).
    bs: &'static BootServices,
    /// Runtime services (variables: `SecureBoot`); `None` when the system
    /// table has none.
    rt: Option<&'static RuntimeServices>,
    /// The console (may be null: then nothing is printed).
    con_out: *mut simple_text_output::Protocol,
    /// Write the error code to QEMU's isa-debug-exit after a refusal.
    debug_exit: Cell<bool>,
    /// The TPL [`Firmware::masked`] raised from, while it runs.
    masked_from: Cell<Option<efi::Tpl>>,
}

impl Firmware {
    /// Take the firmware's handover; `None` when the system table or its
    /// boot services are missing.
    ///
    /// # Safety
    /// `st` must be the system table the firmware passed to the image's
    /// entry point, and `image` the image handle, both from the same call.
    pub unsafe fn new(image: Handle, st: *mut SystemTable) -> Option<Self> {
        if st.is_null() {
            return None;
        }
        // SAFETY: non-null, and by the caller's contract the firmware's system
        // table, readable while boot services run.
        let st: &'static SystemTable = unsafe { &*st };
        if st.hdr.signature != efi::SYSTEM_TABLE_SIGNATURE || st.boot_services.is_null() {
            return None;
        }
        // SAFETY: non-null and set by the firmware to its boot services
        // table, which stays valid until ExitBootServices; the loader only
        // reads it (its function pointers).
        let bs: &'static BootServices = unsafe { &*st.boot_services };
        let rt = if st.runtime_services.is_null() {
            None
        } else {
            // SAFETY: non-null and set by the firmware to its runtime
            // services table, valid for the life of the system (and, before
            // ExitBootServices, at the address it has now); only read.
            Some(unsafe { &*st.runtime_services })
        };
        Some(Self {
            image,
            bs,
            rt,
            con_out: st.con_out,
            debug_exit: Cell::new(false),
            masked_from: Cell::new(None),
        })
    }

    /// Run `f` with interrupts masked (TPL_HIGH_LEVEL), so that code that
    /// may use the red zone (the prebuilt `core`) cannot be interrupted. `f`
    /// must not call the firmware.
    pub fn masked<R>(&self, f: impl FnOnce() -> R) -> R {
        // SAFETY: raising to TPL_HIGH_LEVEL is allowed from any TPL (it is
        // the highest), returns the previous TPL and has no other effect.
        let old = unsafe { (self.bs.raise_tpl)(efi::TPL_HIGH_LEVEL) };
        let outer = self.masked_from.replace(Some(old));
        let r = f();
        self.masked_from.set(outer);
        // SAFETY: restores exactly the TPL RaiseTPL returned, as the
        // specification requires of every RaiseTPL.
        unsafe { (self.bs.restore_tpl)(old) };
        r
    }

    /// Inside [`Firmware::masked`], run `f` at the TPL it raised from (a
    /// firmware call the library's boot core asks for, such as
    /// `AllocatePages`, which is not allowed at TPL_HIGH_LEVEL), then mask
    /// again; outside it, just run `f`.
    pub fn unmasked<R>(&self, f: impl FnOnce() -> R) -> R {
        let Some(old) = self.masked_from.get() else {
            return f();
        };
        // SAFETY: we are at TPL_HIGH_LEVEL, raised by `masked` from `old`;
        // restoring to `old` lowers it back, as `masked` itself does last.
        unsafe { (self.bs.restore_tpl)(old) };
        let r = f();
        // SAFETY: as in `masked`: raising to TPL_HIGH_LEVEL is allowed from
        // any TPL; `masked` restores `old` when it ends.
        let _ = unsafe { (self.bs.raise_tpl)(efi::TPL_HIGH_LEVEL) };
        r
    }

    /// Print `line` and a line break on the console.
    pub fn print(&self, line: &Line) {
        if self.con_out.is_null() {
            return;
        }
        let (bytes, cut) = line.bytes();
        let tail: &[u8] = if cut { b"...\n" } else { b"\n" };
        let mut buf = [0u16; 130];
        let mut n = 0usize;
        for &b in bytes.iter().chain(tail.iter()) {
            let units: &[u16] = if b == b'\n' {
                &[0x0d, 0x0a]
            } else {
                &[text::console_char(b)]
            };
            for &u in units {
                if let Some(slot) = buf.get_mut(n) {
                    *slot = u;
                    n = n.saturating_add(1);
                }
            }
            if n >= 126 {
                self.output(&mut buf, n);
                n = 0;
            }
        }
        self.output(&mut buf, n);
    }

    /// OutputString of the first `n` units of `buf` (NUL-terminated here).
    fn output(&self, buf: &mut [u16; 130], n: usize) {
        let Some(nul) = buf.get_mut(n) else { return };
        *nul = 0;
        // SAFETY: con_out is the firmware's non-null console protocol
        // (checked by the caller) and `buf` a NUL-terminated UCS-2 string
        // that lives across the call; OutputString only reads it.
        let f = unsafe { (*self.con_out).output_string };
        // SAFETY: as above: the protocol's own function with its own `this`.
        unsafe { f(self.con_out, buf.as_mut_ptr()) };
    }

    /// Print the refusal's one line; where asked, leave QEMU with its code.
    pub fn refuse(&self, failure: &Failure) {
        let line = self.masked(|| {
            let mut line = Line::new();
            let _ = core::fmt::write(&mut line, format_args!("rvf-boot: error: {failure}"));
            line
        });
        self.print(&line);
        if self.debug_exit.get() {
            let code = u32::from(failure.class().exit_code());
            // SAFETY: only when the ESP holds `\EFI\rvf\qemu-debug-exit`
            // (qemu/boot-uefi.sh puts it there and gives QEMU an
            // isa-debug-exit device at 0xf4): the write exits QEMU. An
            // I/O write touches no memory.
            unsafe {
                core::arch::asm!("out dx, eax", in("dx") 0xf4u16, in("eax") code, options(nomem, nostack, preserves_flags));
            }
        }
    }

    /// `Exit` from the loader's image with `status` (returns only if the
    /// firmware's Exit fails).
    pub fn exit(&self, status: Status) {
        // SAFETY: Exit of this image, called from within it, with no exit
        // data; control goes back to whoever started the image.
        let _ = unsafe { (self.bs.exit)(self.image, status, 0, ptr::null_mut()) };
    }

    /// Exit QEMU after a refusal (see [`Self::refuse`]).
    pub fn enable_debug_exit(&self) {
        self.debug_exit.set(true);
    }

    /// `HandleProtocol(handle, guid)`.
    fn protocol<T>(
        &self,
        handle: Handle,
        guid: &Guid,
        what: &'static str,
    ) -> Result<*mut T, Failure> {
        let mut guid = *guid;
        let mut iface: *mut c_void = ptr::null_mut();
        // SAFETY: HandleProtocol with a valid handle, a GUID and an out
        // pointer that live across the call; it writes only `iface`.
        let status = unsafe { (self.bs.handle_protocol)(handle, &mut guid, &mut iface) };
        if status.is_error() || iface.is_null() {
            return Err(Failure::Firmware {
                what,
                status: if status.is_error() {
                    status
                } else {
                    Status::NOT_FOUND
                },
            });
        }
        Ok(iface.cast())
    }

    /// The loader's own load options (UCS-2 units; empty when there are none).
    pub fn load_options(&self) -> Result<&[u16], Failure> {
        let li: *mut loaded_image::Protocol = self.protocol(
            self.image,
            &loaded_image::PROTOCOL_GUID,
            "LoadedImage of rvf-boot.efi",
        )?;
        // SAFETY: the firmware's LoadedImage protocol of this image, valid
        // while the image runs; only read.
        let li: &loaded_image::Protocol = unsafe { &*li };
        let opts = li.load_options.cast::<u16>();
        let units = usize::try_from(li.load_options_size / 2).unwrap_or(0);
        if opts.is_null() || !opts.is_aligned() || units == 0 {
            return Ok(&[]);
        }
        // SAFETY: LoadOptions points to LoadOptionsSize bytes owned by the
        // firmware for the life of the image; aligned for u16 (checked);
        // `units` u16s fit in those bytes; nothing writes them meanwhile.
        Ok(unsafe { core::slice::from_raw_parts(opts, units) })
    }

    /// The root directory of the volume the loader was loaded from.
    pub fn open_volume(&self) -> Result<Dir<'_>, Failure> {
        let li: *mut loaded_image::Protocol = self.protocol(
            self.image,
            &loaded_image::PROTOCOL_GUID,
            "LoadedImage of rvf-boot.efi",
        )?;
        // SAFETY: as in load_options: the firmware's protocol, only read.
        let device = unsafe { (*li).device_handle };
        let sfs: *mut simple_file_system::Protocol = self.protocol(
            device,
            &simple_file_system::PROTOCOL_GUID,
            "SimpleFileSystem of the loader's volume",
        )?;
        let mut root: *mut file::Protocol = ptr::null_mut();
        // SAFETY: sfs is the firmware's non-null protocol on that device.
        let open = unsafe { (*sfs).open_volume };
        // SAFETY: the protocol's own function with its own `this` and an out
        // pointer living across the call.
        let status = unsafe { open(sfs, &mut root) };
        if status.is_error() || root.is_null() {
            return Err(Failure::Firmware {
                what: "OpenVolume of the loader's volume",
                status: if status.is_error() {
                    status
                } else {
                    Status::NOT_FOUND
                },
            });
        }
        Ok(Dir {
            _fw: core::marker::PhantomData,
            root,
        })
    }

    /// `count` pages for `bytes` bytes (at least one page).
    pub fn allocate(&self, what: &'static str, bytes: u64) -> Result<Pages<'_>, Failure> {
        let refuse = |status| Failure::NoMemory {
            what,
            bytes,
            status,
        };
        let len = usize::try_from(bytes).map_err(|_| refuse(Status::OUT_OF_RESOURCES))?;
        let count = usize::try_from(bytes.div_ceil(PAGE).max(1))
            .map_err(|_| refuse(Status::OUT_OF_RESOURCES))?;
        let mut base: efi::PhysicalAddress = 0;
        // SAFETY: AllocatePages writes only `base`.
        let status = unsafe {
            (self.bs.allocate_pages)(efi::ALLOCATE_ANY_PAGES, efi::LOADER_DATA, count, &mut base)
        };
        if status.is_error() || base == 0 {
            return Err(refuse(if status.is_error() {
                status
            } else {
                Status::OUT_OF_RESOURCES
            }));
        }
        let mut pages = Pages {
            fw: self,
            base,
            count,
            len,
        };
        pages.bytes_mut().fill(0);
        Ok(pages)
    }

    /// `LoadImage` of the verified kernel from its buffer. The firmware
    /// copies (and relocates) the image into its own pages, so the bytes it
    /// loads are the bytes verified; under Secure Boot its
    /// `EFI_SECURITY2_ARCH_PROTOCOL` sees this very buffer (pointer and
    /// length: `secureboot.rs`). A refusal comes back as
    /// [`Refused`], after the handle edk2 returns with
    /// `EFI_SECURITY_VIOLATION` was unloaded.
    pub fn load_image(&self, image: &[u8]) -> Result<Handle, Refused> {
        let mut child: Handle = ptr::null_mut();
        // SAFETY: LoadImage reads `image.len()` bytes from the buffer (it
        // does not write it, so the const-to-mut cast is sound) and writes
        // only `child`. No device path: the image comes from memory.
        let status = unsafe {
            (self.bs.load_image)(
                Boolean::FALSE,
                self.image,
                ptr::null_mut(),
                image.as_ptr().cast_mut().cast(),
                image.len(),
                &mut child,
            )
        };
        if status.is_error() {
            let unloaded = !child.is_null() && self.unload_image(child);
            return Err(Refused { status, unloaded });
        }
        if child.is_null() {
            return Err(Refused {
                status: Status::SUCCESS,
                unloaded: false,
            });
        }
        Ok(child)
    }

    /// `UnloadImage` of an image this loader loaded and did not start (a
    /// Secure Boot refusal's handle, or a kernel it gives up on); whether
    /// the firmware unloaded it.
    pub fn unload_image(&self, child: Handle) -> bool {
        // SAFETY: the callers (`load_image`, `secureboot::start_kernel`)
        // pass only a handle this loader's LoadImage returned and that was
        // never started; UnloadImage frees the firmware's copy of that image
        // and checks the handle itself (EFI_INVALID_PARAMETER otherwise).
        let status = unsafe { (self.bs.unload_image)(child) };
        !status.is_error()
    }

    /// `LocateProtocol(guid)`: the first instance of a protocol, `None`
    /// when the firmware has none.
    pub fn locate<T>(&self, guid: &Guid) -> Option<*mut T> {
        let mut guid = *guid;
        let mut iface: *mut c_void = ptr::null_mut();
        // SAFETY: LocateProtocol with a GUID and an out pointer that live
        // across the call, no registration key; it writes only `iface`.
        let status = unsafe { (self.bs.locate_protocol)(&mut guid, ptr::null_mut(), &mut iface) };
        if status.is_error() || iface.is_null() {
            return None;
        }
        Some(iface.cast())
    }

    /// The global variable `SecureBoot` (UEFI 2.10 §3.3): `Some(true)` when
    /// the firmware enforces Secure Boot, `Some(false)` when it says it does
    /// not, `None` when the variable cannot be read (no runtime services,
    /// or a firmware without Secure Boot).
    pub fn secure_boot(&self) -> Option<bool> {
        let rt = self.rt?;
        let mut name = [0u16; 11];
        for (d, s) in name.iter_mut().zip(b"SecureBoot") {
            *d = u16::from(*s);
        }
        let mut guid = efi::GLOBAL_VARIABLE;
        let mut attributes = 0u32;
        let mut value = 0u8;
        let mut size = 1usize;
        // SAFETY: GetVariable with a NUL-terminated UCS-2 name, a GUID, an
        // attributes out pointer and a 1-byte buffer whose size is `size`,
        // all living across the call; it writes at most `size` bytes.
        let status = unsafe {
            (rt.get_variable)(
                name.as_mut_ptr(),
                &mut guid,
                &mut attributes,
                &mut size,
                ptr::from_mut(&mut value).cast(),
            )
        };
        if status.is_error() || size != 1 {
            return None;
        }
        Some(value == 1)
    }

    /// Give the loaded kernel its command line (UCS-2, NUL included) as load
    /// options. `options` must live until the kernel has read them (it does
    /// so before ExitBootServices; the loader keeps them until StartImage
    /// returns, if it ever does).
    pub fn set_load_options(&self, child: Handle, options: &[u16]) -> Result<(), Failure> {
        let li: *mut loaded_image::Protocol = self.protocol(
            child,
            &loaded_image::PROTOCOL_GUID,
            "LoadedImage of the kernel",
        )?;
        let size = u32::try_from(core::mem::size_of_val(options))
            .map_err(|_| Failure::Internal("load options larger than 4 GiB"))?;
        // SAFETY: the firmware's LoadedImage protocol of the image this
        // loader just loaded and has not started: setting its LoadOptions
        // is how a loader passes arguments (UEFI 2.10 §9.1). The kernel
        // only reads the options.
        unsafe {
            (*li).load_options = options.as_ptr().cast_mut().cast();
        }
        // SAFETY: as above.
        unsafe {
            (*li).load_options_size = size;
        }
        Ok(())
    }

    /// `StartImage`: returns only if the kernel's EFI stub returns.
    pub fn start_image(&self, child: Handle) -> Status {
        let mut exit_size = 0usize;
        let mut exit_data: *mut u16 = ptr::null_mut();
        // SAFETY: `child` was loaded by LoadImage and not started; the out
        // pointers live across the call.
        let status = unsafe { (self.bs.start_image)(child, &mut exit_size, &mut exit_data) };
        if !exit_data.is_null() {
            // SAFETY: ExitData is pool memory the caller must free.
            let _ = unsafe { (self.bs.free_pool)(exit_data.cast()) };
        }
        status
    }

    /// `LocateProtocol(EFI_TCG2_PROTOCOL_GUID)`: the firmware's TCG2
    /// protocol, `None` when it has none (no TPM).
    pub fn tcg2(&self) -> Option<Tcg2<'_>> {
        let mut guid = TCG2_PROTOCOL_GUID;
        let mut iface: *mut c_void = ptr::null_mut();
        // SAFETY: LocateProtocol with a GUID and an out pointer that live
        // across the call, no registration key; it writes only `iface`.
        let status = unsafe { (self.bs.locate_protocol)(&mut guid, ptr::null_mut(), &mut iface) };
        if status.is_error() || iface.is_null() {
            return None;
        }
        Some(Tcg2 {
            _fw: core::marker::PhantomData,
            proto: iface.cast(),
        })
    }

    /// `InstallProtocolInterface` on `*handle` (null: a new handle).
    ///
    /// # Safety
    /// `iface` must point to the protocol structure `guid` names and stay
    /// valid and unchanged until it is uninstalled.
    pub unsafe fn install(&self, handle: &mut Handle, guid: &Guid, iface: *mut c_void) -> Status {
        let mut guid = *guid;
        // SAFETY: handle and GUID live across the call; the interface's
        // validity is the caller's contract.
        unsafe {
            (self.bs.install_protocol_interface)(handle, &mut guid, efi::NATIVE_INTERFACE, iface)
        }
    }

    /// `UninstallProtocolInterface`.
    pub fn uninstall(&self, handle: Handle, guid: &Guid, iface: *mut c_void) -> Status {
        let mut guid = *guid;
        // SAFETY: removes an interface this loader installed (the firmware
        // checks handle, GUID and pointer); the GUID lives across the call.
        unsafe { (self.bs.uninstall_protocol_interface)(handle, &mut guid, iface) }
    }
}

/// `LoadImage` refused an image.
#[derive(Clone, Copy, Debug)]
pub struct Refused {
    /// Its status (`EFI_SUCCESS`: it succeeded but returned no handle).
    pub status: Status,
    /// It returned a handle with the refusal, and the loader unloaded it.
    pub unloaded: bool,
}

/// The firmware's `EFI_TCG2_PROTOCOL` (`tcg2.rs`).
pub struct Tcg2<'f> {
    _fw: core::marker::PhantomData<&'f Firmware>,
    proto: *mut Tcg2Protocol,
}

impl Tcg2<'_> {
    /// `GetActivePcrBanks`: the active banks' bitmap.
    pub fn active_pcr_banks(&self) -> Result<u32, Status> {
        // SAFETY: `proto` is the non-null interface LocateProtocol returned
        // for EFI_TCG2_PROTOCOL_GUID, whose layout `tcg2::Protocol` follows;
        // the firmware keeps it while boot services run. Only read.
        let f = unsafe { (*self.proto).get_active_pcr_banks };
        let f = f.ok_or(Status::UNSUPPORTED)?;
        let mut banks = 0u32;
        // SAFETY: the protocol's own function with its own `this` and an out
        // pointer living across the call; it writes only `banks`.
        let status = unsafe { f(self.proto, &mut banks) };
        if status.is_error() {
            return Err(status);
        }
        Ok(banks)
    }

    /// `HashLogExtendEvent(flags 0, data, event)`: the firmware hashes
    /// `data` in every active bank, extends the event's PCR and logs the
    /// event. `event` is a complete `EFI_TCG2_EVENT` (`tcg2::encode`).
    pub fn hash_log_extend_event(&self, data: &[u8], event: &mut [u8]) -> Result<(), Status> {
        // SAFETY: as in `active_pcr_banks`.
        let f = unsafe { (*self.proto).hash_log_extend_event };
        let f = f.ok_or(Status::UNSUPPORTED)?;
        // SAFETY: the protocol's own function with its own `this`; `data`
        // is `data.len()` readable bytes (identity-mapped under boot
        // services, so its address is its physical address) that the
        // firmware only reads; `event` is an EFI_TCG2_EVENT whose Size field
        // is its length (`tcg2::encode`), living across the call, which the
        // firmware only reads (it copies it into its log).
        let status = unsafe {
            f(
                self.proto,
                0,
                data.as_ptr() as u64,
                data.len() as u64,
                event.as_mut_ptr().cast(),
            )
        };
        if status.is_error() {
            return Err(status);
        }
        Ok(())
    }
}

/// Pages from `AllocatePages` (LoaderData), zeroed, freed on drop.
pub struct Pages<'f> {
    fw: &'f Firmware,
    base: efi::PhysicalAddress,
    count: usize,
    len: usize,
}

impl Pages<'_> {
    /// The requested bytes.
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: `count` pages at `base` (identity-mapped, as UEFI boot
        // services run) belong to this object alone and hold at least `len`
        // bytes; the borrow ties the slice to it.
        unsafe { core::slice::from_raw_parts(self.base as usize as *const u8, self.len) }
    }

    /// The requested bytes, writable.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `bytes`, and the exclusive borrow of `self` makes
        // this the only slice over them.
        unsafe { core::slice::from_raw_parts_mut(self.base as usize as *mut u8, self.len) }
    }

    /// The pages as UCS-2 units (page-aligned, so aligned for u16).
    pub fn units_mut(&mut self) -> &mut [u16] {
        // SAFETY: as in `bytes_mut`; `len / 2` u16s fit in `len` bytes and the
        // base is page-aligned; every bit pattern is a valid u16.
        unsafe { core::slice::from_raw_parts_mut(self.base as usize as *mut u16, self.len / 2) }
    }
}

impl Drop for Pages<'_> {
    fn drop(&mut self) {
        // SAFETY: frees exactly the pages AllocatePages returned; no slice
        // over them outlives `self` (every slice borrows it).
        let _ = unsafe { (self.fw.bs.free_pages)(self.base, self.count) };
    }
}

/// A directory (the volume's root) open for reading.
pub struct Dir<'f> {
    _fw: core::marker::PhantomData<&'f Firmware>,
    root: *mut file::Protocol,
}

impl Dir<'_> {
    /// Open `path` for reading; `Ok(None)` when it does not exist.
    pub fn open(&self, path: &Path, kind: FileKind) -> Result<Option<File>, Failure> {
        let mut name = [0u16; PATH_MAX + 1];
        for (d, s) in name.iter_mut().zip(path.with_nul()) {
            *d = *s;
        }
        let mut handle: *mut file::Protocol = ptr::null_mut();
        // SAFETY: root is the firmware's open directory.
        let open = unsafe { (*self.root).open };
        // SAFETY: the protocol's own function with its own `this`, a
        // NUL-terminated name and an out pointer that live across the call.
        let status = unsafe {
            open(
                self.root,
                &mut handle,
                name.as_mut_ptr(),
                file::MODE_READ,
                0,
            )
        };
        if status == Status::NOT_FOUND {
            return Ok(None);
        }
        if status.is_error() || handle.is_null() {
            return Err(Failure::File {
                file: kind,
                what: "open",
                status: if status.is_error() {
                    status
                } else {
                    Status::NOT_FOUND
                },
            });
        }
        Ok(Some(File { handle }))
    }
}

impl Drop for Dir<'_> {
    fn drop(&mut self) {
        // SAFETY: root is the firmware's open directory, closed once here.
        let close = unsafe { (*self.root).close };
        // SAFETY: its own function with its own `this`.
        let _ = unsafe { close(self.root) };
    }
}

/// A file open for reading.
pub struct File {
    handle: *mut file::Protocol,
}

/// `EFI_FILE_INFO` with room for a [`PATH_MAX`]-unit name.
#[repr(C, align(8))]
struct InfoBuf([u8; 80 + 2 * (PATH_MAX + 1)]);

impl File {
    /// Its size from the file system's `EFI_FILE_INFO`.
    pub fn size(&self, kind: FileKind) -> Result<u64, Failure> {
        let mut info = InfoBuf([0; 80 + 2 * (PATH_MAX + 1)]);
        let mut size = info.0.len();
        let mut guid = file::INFO_ID;
        // SAFETY: handle is the firmware's open file.
        let get_info = unsafe { (*self.handle).get_info };
        // SAFETY: its own function with its own `this`, a buffer of `size`
        // bytes and the GUID living across the call; it writes at most
        // `size` bytes.
        let status = unsafe {
            get_info(
                self.handle,
                &mut guid,
                &mut size,
                info.0.as_mut_ptr().cast(),
            )
        };
        if status.is_error() || size < core::mem::size_of::<file::Info>() {
            return Err(Failure::File {
                file: kind,
                what: "GetInfo",
                status: if status.is_error() {
                    status
                } else {
                    Status::BAD_BUFFER_SIZE
                },
            });
        }
        // SAFETY: the firmware filled an EFI_FILE_INFO (at least its fixed
        // part, checked above) at the start of the 8-aligned buffer.
        let file_size = unsafe { (*info.0.as_ptr().cast::<file::Info>()).file_size };
        Ok(file_size)
    }

    /// Fill `buf` from the start of the file; a short file is an error.
    pub fn read_exact(&self, kind: FileKind, buf: &mut [u8]) -> Result<(), Failure> {
        let mut done = 0usize;
        while done < buf.len() {
            let rest = buf.get_mut(done..).unwrap_or(&mut []);
            let want = rest.len().min(READ_CHUNK);
            let mut got = want;
            // SAFETY: handle is the firmware's open file.
            let read = unsafe { (*self.handle).read };
            // SAFETY: its own function with its own `this`; `rest` holds at
            // least `want` writable bytes and Read writes at most `got`.
            let status = unsafe { read(self.handle, &mut got, rest.as_mut_ptr().cast()) };
            if status.is_error() {
                return Err(Failure::File {
                    file: kind,
                    what: "read",
                    status,
                });
            }
            if got == 0 || got > want {
                return Err(Failure::File {
                    file: kind,
                    what: "read (shorter than its size)",
                    status: Status::END_OF_FILE,
                });
            }
            done = done.saturating_add(got);
        }
        Ok(())
    }
}

impl Drop for File {
    fn drop(&mut self) {
        // SAFETY: handle is the firmware's open file, closed once here.
        let close = unsafe { (*self.handle).close };
        // SAFETY: its own function with its own `this`.
        let _ = unsafe { close(self.handle) };
    }
}

/// The time-stamp counter, for the loader's timing line.
pub fn rdtsc() -> u64 {
    // SAFETY: RDTSC reads a counter; every x86_64 CPU has it, and UEFI
    // leaves it readable at CPL 0.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// `EFI_TCG2_PROTOCOL_GUID` (607f766c-7455-42be-930b-e4d76db2720f).
pub const TCG2_PROTOCOL_GUID: Guid = Guid::from_fields(
    0x607f_766c,
    0x7455,
    0x42be,
    0x93,
    0x0b,
    &[0xe4, 0xd7, 0x6d, 0xb2, 0x72, 0x0f],
);

/// `EFI_TCG2_PROTOCOL.GetActivePcrBanks(This, *ActivePcrBanks)`.
pub type GetActivePcrBanks = unsafe extern "efiapi" fn(*mut Tcg2Protocol, *mut u32) -> Status;

/// `EFI_TCG2_PROTOCOL.HashLogExtendEvent(This, Flags, DataToHash,
/// DataToHashLen, *EfiTcgEvent)`.
pub type HashLogExtendEvent =
    unsafe extern "efiapi" fn(*mut Tcg2Protocol, u64, u64, u64, *mut c_void) -> Status;

/// `EFI_TCG2_PROTOCOL`: seven function pointers, in the specification's
/// order (null ones are `None`).
#[repr(C)]
pub struct Tcg2Protocol {
    /// `GetCapability` (not called).
    pub get_capability: *const c_void,
    /// `GetEventLog` (not called: calling it would make the firmware start
    /// its final-events table before Linux asks for the log).
    pub get_event_log: *const c_void,
    /// `HashLogExtendEvent`.
    pub hash_log_extend_event: Option<HashLogExtendEvent>,
    /// `SubmitCommand` (not called).
    pub submit_command: *const c_void,
    /// `GetActivePcrBanks`.
    pub get_active_pcr_banks: Option<GetActivePcrBanks>,
    /// `SetActivePcrBanks` (not called).
    pub set_active_pcr_banks: *const c_void,
    /// `GetResultOfSetActivePcrBanks` (not called).
    pub get_result_of_set_active_pcr_banks: *const c_void,
}
