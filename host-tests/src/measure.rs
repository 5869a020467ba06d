//! The two resource meters of the host tests, one copy each: the painted-stack
//! high-water mark ([`high_water`]) and the counting global allocator
//! ([`Counting`]).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

const PAINT: usize = 128 * 1024;
const PATTERN: u64 = 0xC3A5_5A3C_E1F0_0F1E;

/// Fill `PAINT` bytes of stack just below this frame with `PATTERN`, and
/// return the lowest painted address. The frame is dead afterwards, but the
/// memory keeps the pattern until something deeper overwrites it.
#[inline(never)]
fn paint() -> usize {
    let mut buf = [0u64; PAINT / 8];
    for w in buf.iter_mut() {
        // SAFETY: `w` is a valid, aligned, exclusive reference.
        unsafe { std::ptr::write_volatile(w, PATTERN) };
    }
    std::hint::black_box(&mut buf);
    buf.as_ptr() as usize
}

/// Run `f` on a fresh thread and return how many bytes of stack it used
/// below the measuring frame (at most 128 KiB can be measured).
///
/// Method: paint a large region below the current frame, call `f` (never
/// inlined, so its frames and its callees' live in the painted region), then
/// scan the region upward from its lowest address for the first word that
/// no longer holds the pattern. Everything above that word, up to the
/// measuring frame, counts as used. This over-counts by at most the part of
/// the measuring frame below `top` (tens of bytes) and can under-count only
/// if the deepest word written happens to equal the 64-bit pattern. Stack
/// space a callee reserves but never writes is not counted (it cannot be
/// corrupted either). The thread has a known 1 MiB stack, far beyond the
/// painted region, so the scan never leaves mapped memory.
///
/// # Panics
/// If the thread cannot be spawned or `f` panics.
pub fn high_water(f: fn()) -> usize {
    std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            let marker = 0u8;
            let top = std::hint::black_box(&marker) as *const u8 as usize;
            let low = paint();
            assert!(low < top && top - low < PAINT + 4096);
            std::hint::black_box(f)();
            let mut p = low;
            // SAFETY: [low, top) lies inside this thread's mapped stack
            // (painted above, and below the live frame); reads are aligned
            // u64 volatile loads of plain memory.
            while p + 8 <= top && unsafe { std::ptr::read_volatile(p as *const u64) } == PATTERN {
                p += 8;
            }
            top - p
        })
        .unwrap()
        .join()
        .unwrap()
}

/// A global allocator that forwards to the system allocator and counts
/// allocations (and reallocations). A test binary installs it with
/// `#[global_allocator] static GLOBAL: Counting = Counting;` and reads
/// [`allocations`] around the code under test; keep one test per such
/// binary, since the count is process-wide.
pub struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

/// Allocations (and reallocations) so far through [`Counting`].
pub fn allocations() -> usize {
    ALLOCATIONS.load(Ordering::SeqCst)
}

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}
