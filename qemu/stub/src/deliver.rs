//! What the stub takes from the firmware and hands the boot core: the RVF
//! and the initramfs from fw_cfg, and guest RAM as slices over ranges the
//! library placed and reserved. Every slice over guest RAM is formed here.

use rvf_boot::boot::module::{self, OneModule};
use rvf_boot::boot::{Handover, Initrd, InitrdSlot, Reservations};
use rvf_boot::memory::{MemoryRegion, PhysRange};

use crate::failure::Failure;
use crate::hw::FwCfg;
use crate::memmap;

/// The fw_cfg file that carries the optional initramfs.
const INITRD_FW_CFG_NAME: &[u8] = b"opt/rvf-boot/initrd";

/// The fw_cfg file that carries the RVF when QEMU passed no `-initrd`
/// (`boot.sh --tpm`: QEMU puts `-initrd` 160 KiB below the top of low RAM,
/// where SeaBIOS keeps its ACPI tables and, with a TPM, the 64 KiB TCG log
/// that no longer fits there).
const RVF_FW_CFG_NAME: &[u8] = b"opt/rvf-boot/rvf";

/// Guest RAM `range` as a mutable slice.
///
/// # Safety
/// `range` must be usable RAM below 4 GiB (checked against the memory map),
/// be reserved (so no other placement and no live slice overlaps it) and
/// not overlap the stub; the returned slice must be the only reference to it.
unsafe fn ram_mut(range: PhysRange) -> &'static mut [u8] {
    let len = usize::try_from(range.size).unwrap_or(0);
    // SAFETY: the caller guarantees the range is RAM (identity-mapped, so the
    // physical address is the pointer), exclusively ours and not aliased.
    unsafe { core::slice::from_raw_parts_mut(range.base as usize as *mut u8, len) }
}

/// The image buffer the boot core placed and reserved, as a slice.
pub fn image_buffer(at: Option<PhysRange>) -> Result<&'static mut [u8], Failure> {
    let range = at.ok_or(Failure::Internal("the core placed no image buffer"))?;
    // SAFETY: placed by the library in usable RAM below 4 GiB, it
    // overlapped no earlier reservation (stub, RVF module, the second
    // CPU's start-up page) and is now reserved itself; this is the only
    // slice over it.
    Ok(unsafe { ram_mut(range) })
}

/// The initramfs packed behind the RVF in its module
/// (`rvf_boot::boot::module`), as the kernel gets it: where it lies inside
/// the module when all of it is below the kernel's `initrd_addr_max` (the
/// module is usable RAM below 4 GiB, checked and reserved, so nothing is
/// placed over it); otherwise copied to a range the boot core places below
/// the limit (reserved). Measured as loaded.
pub fn packed_initrd(
    slot: &mut InitrdSlot<'_>,
    initrd: &'static [u8],
) -> Result<Option<Initrd<'static>>, Failure> {
    let end = (initrd.as_ptr() as u64).checked_add(initrd.len() as u64);
    if end
        .zip(slot.limit())
        .is_some_and(|(end, limit)| end <= limit)
    {
        return Ok(Some(Initrd::Bytes(initrd)));
    }
    let range = slot
        .place(initrd.len() as u64)?
        .ok_or(Failure::Internal("the core placed no initrd"))?;
    // SAFETY: `range` was placed by the library in usable RAM below 4 GiB
    // and `initrd_addr_max`, overlapping no reservation (stub, the module the
    // source lies in, the image buffer, the kernel window), and is now
    // reserved: the only slice over it; `range.size` is `initrd.len()`, and
    // it does not overlap the source (inside the reserved module).
    let dst = unsafe { ram_mut(range) };
    dst.copy_from_slice(initrd);
    Ok(Some(Initrd::Bytes(dst)))
}

/// The initramfs from the fw_cfg file [`INITRD_FW_CFG_NAME`], read straight
/// to where the boot core placed it; `None` when the file is absent or
/// empty.
pub fn initrd_from_fw_cfg(
    fw: &mut FwCfg,
    slot: &mut InitrdSlot<'_>,
) -> Result<Option<Initrd<'static>>, Failure> {
    let Some(file) = fw.find(INITRD_FW_CFG_NAME)?.filter(|f| f.size > 0) else {
        return Ok(None);
    };
    let range = slot
        .place(u64::from(file.size))?
        .ok_or(Failure::Internal("the core placed no initrd"))?;
    // SAFETY: placed by the library in usable RAM below 4 GiB and
    // initrd_addr_max, overlapping no reservation (stub, RVF, the whole
    // image buffer, the kernel window), now reserved; the only slice over
    // it.
    let dst = unsafe { ram_mut(range) };
    fw.read(file.select, 0, dst)?;
    // Measured as loaded (only read from now on).
    Ok(Some(Initrd::Bytes(dst)))
}

/// The RVF from the fw_cfg file [`RVF_FW_CFG_NAME`], read into a buffer
/// the library places top-down below 4 GiB, clear of everything reserved,
/// and reserved itself.
pub fn rvf_from_fw_cfg(
    memory: &[MemoryRegion],
    reserved: &mut Reservations,
    fw: &mut FwCfg,
) -> Result<PhysRange, Failure> {
    let Some(file) = fw.find(RVF_FW_CFG_NAME)?.filter(|f| f.size > 0) else {
        return Err(Failure::Pvh(crate::pvh::PvhError::NoModule));
    };
    let range = rvf_boot::plan::place_high(
        memory,
        reserved.as_slice(),
        rvf_boot::plan::BootItem::RvfFile,
        u64::from(file.size),
        0x1000,
        rvf_boot::memory::FOUR_GIB,
    )?;
    reserved.add(range)?;
    // SAFETY: placed by the library in usable RAM below 4 GiB, overlapping
    // no reservation (the stub), now reserved; the only slice over it until
    // it is read, after which it is only read.
    let dst = unsafe { ram_mut(range) };
    fw.read(file.select, 0, dst)?;
    Ok(range)
}

/// The RVF's module: PVH module 0 (checked against the memory map), else
/// the fw_cfg file [`RVF_FW_CFG_NAME`]; reserved; cut into the RVF and the
/// initramfs packed behind it, if any (`rvf_boot::boot::module`).
pub fn module(
    memory: &[MemoryRegion],
    reserved: &mut Reservations,
    pvh_module: Option<PhysRange>,
    fw: &mut FwCfg,
) -> Result<OneModule<'static>, Failure> {
    let range = match pvh_module {
        Some(m) => {
            let range = memmap::check_module(memory, m)?;
            reserved.add(range)?;
            range
        }
        None => rvf_from_fw_cfg(memory, reserved, fw)?,
    };
    let len = usize::try_from(range.size).unwrap_or(0);
    // SAFETY: `range` is usable RAM below 4 GiB clear of the stub
    // (check_module, or placed so by the library), reserved so no later
    // placement or mutable slice overlaps it, and nothing else writes it:
    // QEMU loaded it before the stub started, or `rvf_from_fw_cfg` did and
    // its slice is no longer used.
    let bytes: &'static [u8] =
        unsafe { core::slice::from_raw_parts(range.base as usize as *const u8, len) };
    Ok(module::split(bytes))
}

/// Put the verified kernel where the boot core's plan put it and return
/// its 64-bit entry: a bzImage's protected-mode part to the load address
/// (unless it was inflated there), an ELF vmlinux's `PT_LOAD`s to their
/// physical addresses with their tails zeroed.
pub fn place_kernel(handover: Handover<'_>) -> Result<u64, Failure> {
    match handover {
        Handover::ZeroPage { plan, in_place } => {
            let pm = plan.protected_mode();
            let load = plan.load_address();
            let dst = PhysRange {
                base: load,
                size: pm.len() as u64,
            };
            if !plan.window().contains(&dst) {
                return Err(Failure::Internal(
                    "protected-mode part outside the kernel window",
                ));
            }
            if !in_place {
                // SAFETY: the destination lies inside the kernel window,
                // which the library's plan placed in usable RAM below 4 GiB
                // away from every reservation (stub, RVF, the whole image
                // buffer) and which is reserved, so the initrd avoided it.
                // The source is the verified protected-mode part inside the
                // RVF or the image buffer, so the two do not overlap (`copy`
                // is memmove anyway). Nothing reads the source afterwards:
                // the zero page was built by the core.
                unsafe { core::ptr::copy(pm.as_ptr(), load as usize as *mut u8, pm.len()) };
            }
            Ok(plan.entry_64())
        }
        Handover::Elf { plan } => {
            for copy in plan.copies() {
                let src = plan.source(copy);
                // SAFETY: the target ([`SegmentCopy::target`]) was checked by
                // the library's `elf::plan` to be usable RAM from 1 MiB to
                // 4 GiB clear of every reservation (stub, RVF, the image
                // buffer the source lies in, the second CPU's page), and the
                // kernel's whole span was reserved after, so the initrd
                // avoided it; `src` is `file_size` verified bytes of the
                // image, outside the target.
                let dst = unsafe { ram_mut(copy.target()) };
                let (head, tail) = dst.split_at_mut(src.len().min(dst.len()));
                head.copy_from_slice(src.get(..head.len()).unwrap_or(&[]));
                tail.fill(0);
            }
            Ok(plan.entry_64())
        }
        _ => Err(Failure::Internal("the core made no 64-bit hand-over")),
    }
}
