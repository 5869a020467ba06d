//! Where things go in guest RAM: a fixed-capacity list of RAM regions (from
//! the memory map) and of ranges already taken, and a top-down placer.
//! Pure arithmetic, no `unsafe`: the only facts it produces are address
//! ranges that lie inside RAM and overlap nothing reserved before.

/// Most memory-map entries / reservations the stub keeps.
pub const MAX_REGIONS: usize = 128;

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
    ram: [Region; MAX_REGIONS],
    ram_len: usize,
    used: [Region; MAX_REGIONS],
    used_len: usize,
}

impl Layout {
    /// An empty layout.
    pub const fn new() -> Self {
        let zero = Region { start: 0, end: 0 };
        Self {
            ram: [zero; MAX_REGIONS],
            ram_len: 0,
            used: [zero; MAX_REGIONS],
            used_len: 0,
        }
    }

    /// Record a usable RAM region.
    pub fn add_ram(&mut self, region: Region) -> Result<(), LayoutError> {
        let slot = self.ram.get_mut(self.ram_len).ok_or(LayoutError::Full)?;
        *slot = region;
        self.ram_len = self.ram_len.saturating_add(1);
        Ok(())
    }

    /// Mark a range as taken.
    pub fn reserve(&mut self, region: Region) -> Result<(), LayoutError> {
        let slot = self.used.get_mut(self.used_len).ok_or(LayoutError::Full)?;
        *slot = region;
        self.used_len = self.used_len.saturating_add(1);
        Ok(())
    }

    fn ram(&self) -> &[Region] {
        self.ram.get(..self.ram_len).unwrap_or(&[])
    }

    /// Drop a reservation made earlier (no effect if there is none equal).
    pub fn release(&mut self, region: Region) {
        let used = self.used.get(..self.used_len).unwrap_or(&[]);
        if let Some(i) = used.iter().position(|u| *u == region) {
            let last = self.used_len.saturating_sub(1);
            self.used.swap(i, last);
            self.used_len = last;
        }
    }

    /// The reservations, in the order they were made.
    pub fn used(&self) -> &[Region] {
        self.used.get(..self.used_len).unwrap_or(&[])
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
