//! Where things go in guest RAM: a fixed-capacity list of RAM regions (from
//! the memory map) and of ranges already taken, and a top-down placer.
//! Pure arithmetic, no `unsafe`: the only facts it produces are address
//! ranges that lie inside RAM and overlap nothing reserved before.

use heapless::Vec;

use crate::pvh::MAX_MEMMAP_ENTRIES;

/// Most RAM regions the layout keeps: one per RAM entry of the memory map,
/// which holds at most [`MAX_MEMMAP_ENTRIES`] entries.
pub const MAX_RAM_REGIONS: usize = MAX_MEMMAP_ENTRIES;

/// Most reservations the layout keeps. The stub makes five (itself, the RVF
/// module, the image buffer or its setup part, the kernel window, the
/// initramfs); the rest is headroom. Also the capacity of the `occupied`
/// list handed to the library's `BootPlan`.
pub const MAX_RESERVATIONS: usize = 16;

/// The lowest address the stub places anything at: below 1 MiB lie the
/// real-mode IVT/BDA, the EBDA and the firmware.
pub const LOW_LIMIT: u64 = 0x10_0000;

/// 4 GiB: the end of the identity map built in entry.rs.
pub const FOUR_GIB: u64 = 0x1_0000_0000;

/// A half-open physical range `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
}

impl Region {
    /// `[start, start + len)`, `None` on overflow.
    pub fn at(start: u64, len: u64) -> Option<Self> {
        Some(Self {
            start,
            end: start.checked_add(len)?,
        })
    }

    /// Length in bytes.
    pub const fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    /// Whether the two ranges share a byte.
    pub const fn overlaps(&self, other: &Self) -> bool {
        self.start < other.end
            && other.start < self.end
            && self.start < self.end
            && other.start < other.end
    }

    /// Whether `other` lies entirely inside `self`.
    pub const fn contains(&self, other: &Self) -> bool {
        self.start <= other.start && other.end <= self.end
    }
}

/// Why a range could not be placed or reserved.
#[derive(Clone, Copy, Debug)]
pub enum LayoutError {
    /// The fixed capacity is exhausted.
    Full,
}

/// RAM and reservations.
pub struct Layout {
    /// Usable RAM regions, at most [`MAX_RAM_REGIONS`].
    ram: Vec<Region, MAX_RAM_REGIONS>,
    /// Ranges already taken, in the order they were reserved, at most
    /// [`MAX_RESERVATIONS`].
    used: Vec<Region, MAX_RESERVATIONS>,
}

impl Layout {
    /// An empty layout.
    pub const fn new() -> Self {
        Self {
            ram: Vec::new(),
            used: Vec::new(),
        }
    }

    /// Record a usable RAM region; [`LayoutError::Full`] when
    /// [`MAX_RAM_REGIONS`] are recorded already.
    pub fn add_ram(&mut self, region: Region) -> Result<(), LayoutError> {
        self.ram.push(region).map_err(|_| LayoutError::Full)
    }

    /// Mark a range as taken; [`LayoutError::Full`] when
    /// [`MAX_RESERVATIONS`] are made already.
    pub fn reserve(&mut self, region: Region) -> Result<(), LayoutError> {
        self.used.push(region).map_err(|_| LayoutError::Full)
    }

    fn ram(&self) -> &[Region] {
        &self.ram
    }

    /// The reservations, in the order they were made.
    pub fn used(&self) -> &[Region] {
        &self.used
    }

    /// Whether `region` lies inside one RAM region.
    pub fn is_ram(&self, region: &Region) -> bool {
        self.ram().iter().any(|r| r.contains(region))
    }

    /// The RAM region containing byte `addr`, if any.
    pub fn ram_containing(&self, addr: u64) -> Option<Region> {
        self.ram()
            .iter()
            .copied()
            .find(|r| r.start <= addr && addr < r.end)
    }

    /// Whether `region` overlaps a reservation.
    pub fn is_free(&self, region: &Region) -> bool {
        !self.used().iter().any(|u| u.overlaps(region))
    }

    /// Highest end address of RAM (for messages).
    pub fn ram_top(&self) -> u64 {
        self.ram().iter().map(|r| r.end).max().unwrap_or(0)
    }

    /// The highest `align`-aligned range of `size` bytes (size > 0) that lies
    /// in one RAM region, at or above [`LOW_LIMIT`], ends at or below
    /// `max_end`, and overlaps no reservation. `align` must be a power of two.
    ///
    /// Every candidate end is a RAM region's end, a reservation's start, or
    /// `max_end`: the best placement is `align_down(boundary - size)` for the
    /// nearest boundary above it, so trying all of them finds it.
    pub fn place_top_down(&self, size: u64, align: u64, max_end: u64) -> Option<Region> {
        if size == 0 || !align.is_power_of_two() {
            return None;
        }
        let mask = !(align.wrapping_sub(1));
        let tops = self
            .ram()
            .iter()
            .map(|r| r.end)
            .chain(self.used().iter().map(|u| u.start))
            .chain(core::iter::once(max_end));
        let mut best: Option<Region> = None;
        for top in tops {
            let top = top.min(max_end);
            let Some(start) = top.checked_sub(size).map(|s| s & mask) else {
                continue;
            };
            if start < LOW_LIMIT {
                continue;
            }
            let Some(candidate) = Region::at(start, size) else {
                continue;
            };
            if self.is_ram(&candidate)
                && self.is_free(&candidate)
                && best.is_none_or(|b| b.start < start)
            {
                best = Some(candidate);
            }
        }
        best
    }
}
