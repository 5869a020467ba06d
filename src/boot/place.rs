//! Where a placing loader puts things (the PVH stub; any loader that hands
//! over through the 64-bit boot protocol): a fixed table of reserved ranges,
//! the image buffer (in place under the kernel window when a peek at the
//! image allows, else top-down), the kernel window ([`BootPlan`]) and the
//! initrd. Every range produced is usable RAM below 4 GiB that overlaps
//! nothing reserved before, and is reserved itself; the loader forms slices
//! over them.
//!
//! Everything that will be used stays reserved until the jump: the loader
//! itself, the RVF, the second CPU's start-up page, the **whole** image
//! buffer, the kernel window and the initrd, so no later placement (and no
//! firmware DMA) lands on verified bytes.

use miniz_oxide::inflate::core::{DecompressorOxide, decompress, inflate_flags};

use crate::bytes::u64_from;
use crate::bzimage::{BzImage, SetupHeader};
use crate::elf;
use crate::error::{Error, Result};
use crate::gzip;
use crate::kernel::{KernelSegment, StoredFormat};
use crate::memory::{self, FOUR_GIB, LOW_MEMORY_END, MemoryRegion, PhysRange};
use crate::plan::{self, BootItem, BootPlan};

/// Most reservations a boot makes: the identity-map limit, the loader, the
/// RVF, the second CPU's start-up page, the image buffer, the kernel window,
/// the initrd; the rest is headroom. Also the capacity of the `occupied`
/// list given to [`BootPlan`].
pub const MAX_RESERVATIONS: usize = 10;

/// Page size: the alignment of the buffers placed here.
const PAGE: u64 = 0x1000;

/// The ranges already taken, in the order they were reserved (at most
/// [`MAX_RESERVATIONS`]).
#[derive(Clone, Copy, Debug)]
pub struct Reservations {
    ranges: [PhysRange; MAX_RESERVATIONS],
    len: usize,
}

impl Default for Reservations {
    fn default() -> Self {
        Self::new()
    }
}

impl Reservations {
    /// An empty table.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            ranges: [PhysRange { base: 0, size: 0 }; MAX_RESERVATIONS],
            len: 0,
        }
    }

    /// Marks `range` as taken.
    ///
    /// # Errors
    /// [`Error::TooManyReservations`] when the table is full.
    pub fn add(&mut self, range: PhysRange) -> Result<()> {
        let slot = self
            .ranges
            .get_mut(self.len)
            .ok_or(Error::TooManyReservations {
                capacity: u64_from(MAX_RESERVATIONS),
            })?;
        *slot = range;
        self.len = self.len.saturating_add(1);
        Ok(())
    }

    /// The reservations.
    #[must_use]
    pub fn as_slice(&self) -> &[PhysRange] {
        self.ranges.get(..self.len).unwrap_or(&[])
    }
}

/// The buffer a gzip-stored image is inflated into.
#[derive(Clone, Copy, Debug)]
pub(super) struct ImageBuffer {
    /// Where it lies (reserved, all of it).
    pub(super) range: PhysRange,
    /// The load address the [`Hint`] expects, when the buffer was placed so
    /// that its protected-mode part starts there.
    pub(super) hinted_load: Option<u64>,
}

/// A placement hint from the first 4 KiB of a gzip-stored image, inflated
/// before anything is verified. It only decides where the image buffer goes
/// (so that its protected-mode part lands on the load address the plan will
/// most likely choose and needs no copy); nothing read here is trusted: the
/// plan is made from the verified image, and a wrong guess costs one copy.
#[derive(Clone, Copy, Debug)]
pub(super) struct Hint {
    /// `(setup_sects + 1) * 512`.
    setup: u64,
    /// `pref_address`, rounded up to `kernel_alignment` if relocatable.
    load: u64,
    /// `init_size`.
    init_size: u64,
}

/// Bytes of the image peeked at before verification.
const HEAD: usize = 4096;

/// The first [`HEAD`] bytes of `kernel`'s image, **not verified**: inflated
/// from a gzip-stored image (as far as they inflate), the stored bytes of a
/// raw one. Refuses early what the kernel's header checks would refuse
/// once the image is verified ([`elf::check_head`] for an ELF vmlinux,
/// else [`BzImage::check_head`], against the declared
/// `image_size`, which extraction enforces), so a hostile file costs 4 KiB of
/// inflate, not its whole image; returns the placement [`Hint`]. Never
/// inlined: the 4 KiB and the decompressor live only in this frame.
///
/// # Errors
/// The [`Error::BzImage`] the verified image would get.
#[inline(never)]
pub(super) fn peek(kernel: &KernelSegment<'_>) -> Result<Option<Hint>> {
    let mut head = [0u8; HEAD];
    let stored = kernel.stored_unverified();
    let n = match kernel.format() {
        StoredFormat::Raw => {
            let n = stored.len().min(HEAD);
            if let (Some(dst), Some(src)) = (head.get_mut(..n), stored.get(..n)) {
                dst.copy_from_slice(src);
            }
            n
        }
        StoredFormat::Gzip => inflate_head(stored, &mut head),
    };
    let head = head.get(..n).unwrap_or(&[]);
    if elf::is_elf(head) {
        elf::check_head(head, kernel.image_size())?;
        // An ELF kernel's segments go to their own addresses: the buffer
        // goes wherever there is room.
        return Ok(None);
    }
    BzImage::check_head(head, kernel.image_size())?;
    Ok(match kernel.format() {
        StoredFormat::Gzip => hint(head),
        StoredFormat::Raw => None,
    })
}

/// Inflates the start of the gzip member `stored` into `head`; the bytes
/// produced (0 when the header or the stream is bad: the verified inflate
/// names that error).
fn inflate_head(stored: &[u8], head: &mut [u8; HEAD]) -> usize {
    let Some(body) = gzip::parse_header(stored)
        .ok()
        .and_then(|h| stored.get(usize::try_from(h.len).ok()?..))
    else {
        return 0;
    };
    let mut state = DecompressorOxide::new();
    let flags = inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF
        | inflate_flags::TINFL_FLAG_HAS_MORE_INPUT;
    let (_, _, produced) = decompress(&mut state, body, head, 0, flags);
    produced
}

/// The hint, read through the library's [`SetupHeader`] (unchecked peek).
fn hint(head: &[u8]) -> Option<Hint> {
    let h = SetupHeader::peek(head)?;
    let align = u64::from(h.kernel_alignment.get());
    let pref = h.pref_address.get();
    let load = if h.relocatable_kernel != 0 && align.is_power_of_two() {
        let mask = align.checked_sub(1)?;
        pref.checked_add(mask)? & !mask
    } else {
        pref
    };
    Some(Hint {
        setup: h.setup_size(),
        load,
        init_size: u64::from(h.init_size.get()),
    })
}

/// Place and reserve (all of) the buffer a gzip-stored image of `size`
/// bytes is inflated into: at `load - setup` when the [`Hint`]'s buffer and
/// kernel window are both usable RAM, above low memory and free; otherwise
/// top-down below 4 GiB ([`plan::place_high`]).
pub(super) fn image_buffer(
    memory: &[MemoryRegion],
    reserved: &mut Reservations,
    hint: Option<Hint>,
    size: u64,
) -> Result<ImageBuffer> {
    let hinted = hint.and_then(|h| {
        let buffer = PhysRange {
            base: h.load.checked_sub(h.setup)?,
            size,
        };
        let window = PhysRange {
            base: h.load,
            size: h.init_size.max(size.checked_sub(h.setup)?),
        };
        let free = |r: PhysRange| {
            r.base >= LOW_MEMORY_END
                && memory::check_range(memory, r, FOUR_GIB, reserved.as_slice()).is_ok()
        };
        (free(buffer) && free(window)).then_some(ImageBuffer {
            range: buffer,
            hinted_load: Some(h.load),
        })
    });
    let buffer = match hinted {
        Some(b) => b,
        None => ImageBuffer {
            range: plan::place_high(
                memory,
                reserved.as_slice(),
                BootItem::ImageBuffer,
                size,
                PAGE,
                FOUR_GIB,
            )?,
            hinted_load: None,
        },
    };
    reserved.add(buffer.range)?;
    Ok(buffer)
}

/// Plan the kernel window with the library's [`BootPlan`] and reserve it.
///
/// When the image buffer was placed by the hint, first plan as if the
/// buffer's protected-mode part were free (it is meant to become the start
/// of the window) and keep that plan only if it loads the kernel exactly
/// where that part already lies: then nothing moves, and buffer and window
/// are both reserved. Otherwise plan around everything reserved, the whole
/// buffer included, and the protected-mode part is copied later.
pub(super) fn kernel<'a>(
    bz: &BzImage<'a>,
    memory: &[MemoryRegion],
    reserved: &mut Reservations,
    buffer: Option<ImageBuffer>,
) -> Result<BootPlan<'a>> {
    let pm_base = address_of(bz.protected_mode());
    if let Some(ImageBuffer {
        range,
        hinted_load: Some(load),
    }) = buffer
        && load == pm_base
    {
        let setup = PhysRange {
            base: range.base,
            size: load.saturating_sub(range.base),
        };
        let mut others = Reservations::new();
        for &r in reserved.as_slice().iter().filter(|&&r| r != range) {
            others.add(r)?;
        }
        others.add(setup)?;
        if let Ok(plan) = BootPlan::new(bz, memory, others.as_slice())
            && plan.load_address() == load
        {
            reserved.add(plan.window())?;
            return Ok(plan);
        }
    }
    let plan = BootPlan::new(bz, memory, reserved.as_slice())?;
    reserved.add(plan.window())?;
    Ok(plan)
}

/// Place and reserve the initrd: top-down, below `limit` (the kernel's
/// `initrd_addr_max` + 1, at most the 4 GiB identity map), clear of
/// everything reserved.
pub(super) fn initrd(
    limit: u64,
    memory: &[MemoryRegion],
    reserved: &mut Reservations,
    size: u64,
) -> Result<PhysRange> {
    let r = plan::place_high(
        memory,
        reserved.as_slice(),
        BootItem::Initrd,
        size,
        PAGE,
        limit,
    )?;
    reserved.add(r)?;
    Ok(r)
}

/// The physical address of `bytes` on a placing loader, whose memory is
/// identity-mapped (the address is the pointer).
pub(super) fn address_of(bytes: &[u8]) -> u64 {
    u64_from(bytes.as_ptr().addr())
}
