//! The second CPU as a hashing coprocessor (QEMU `-smp 2`, MTTCG runs each
//! vCPU on its own host thread).
//!
//! [`start`] wakes the application processor (AP) with INIT + SIPI through
//! the local APIC: it runs the real-mode trampoline of `entry.rs` (copied to
//! [`TRAMPOLINE`]), switches to long mode on the stub's page tables and GDT,
//! and waits in [`ap_main`] for one job at a time. [`Ap::join`] runs a job
//! there while the boot CPU runs its own half, and returns only when both
//! are done, so the job may borrow the caller's stack. [`Ap::halt`] parks
//! the AP (`cli; hlt`) before the kernel is entered; Linux later restarts it
//! with its own INIT/SIPI. Without a second CPU everything runs on the boot
//! CPU, in an order that needs no second CPU.

use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use crate::hw::{self, FwCfg};
use crate::layout::{Layout, Region};

/// Physical page the trampoline runs from (SIPI vector = page number).
pub const TRAMPOLINE: u64 = 0x8000;
const SIPI_VECTOR: u32 = 0x08;
const FW_CFG_NB_CPUS: u16 = 0x0005;
const IA32_APIC_BASE: u32 = 0x1B;
const ICR_LOW: u64 = 0x300;
const ICR_HIGH: u64 = 0x310;
/// How long to wait for the AP to report, in TSC ticks (~40 ms at 2.5 GHz).
const START_TIMEOUT: u64 = 100_000_000;

const IDLE: u32 = 1;
const POSTED: u32 = 2;
const DONE: u32 = 3;
const HALT: u32 = 4;

/// The AP's state: 0 before it runs, then IDLE / POSTED / DONE / HALT.
static STATE: AtomicU32 = AtomicU32::new(0);
/// The posted job: a `fn(usize)` and its argument.
static JOB_FN: AtomicUsize = AtomicUsize::new(0);
static JOB_CTX: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" {
    static ap_trampoline_start: u8;
    static ap_trampoline_end: u8;
}

/// Proof that the AP is running and idle.
pub struct Ap(());

fn rdmsr(msr: u32) -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: IA32_APIC_BASE (the only MSR read) exists on every x86_64 CPU
    // with a local APIC, which QEMU's pc machine always has; RDMSR only
    // reads a register.
    unsafe {
        core::arch::asm!("rdmsr", in("ecx") msr, out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags));
    }
    u64::from(lo) | (u64::from(hi) << 32)
}

/// Send an IPI with ICR low word `low` to APIC ID `target` and wait until
/// the local APIC reports it delivered.
fn send_ipi(apic: u64, target: u32, low: u32) {
    let high = (apic + ICR_HIGH) as usize as *mut u32;
    let low_reg = (apic + ICR_LOW) as usize as *mut u32;
    // SAFETY: `apic` is the local APIC's MMIO base from IA32_APIC_BASE,
    // identity-mapped (below 4 GiB, checked by the caller); ICR high selects
    // the destination and has no other effect.
    unsafe { core::ptr::write_volatile(high, target << 24) };
    // SAFETY: as above; writing ICR low sends the IPI (INIT or SIPI to the
    // one AP), which affects only that CPU.
    unsafe { core::ptr::write_volatile(low_reg, low) };
    for _ in 0..1_000_000 {
        // SAFETY: reading ICR low has no side effect; bit 12 is "send pending".
        if unsafe { core::ptr::read_volatile(low_reg) } & (1 << 12) == 0 {
            break;
        }
        core::hint::spin_loop();
    }
}

fn wait_for(state: u32, ticks: u64) -> bool {
    let t0 = hw::rdtsc();
    while STATE.load(Ordering::Acquire) != state {
        if hw::rdtsc().wrapping_sub(t0) > ticks {
            return false;
        }
        core::hint::spin_loop();
    }
    true
}

/// Start the second CPU if QEMU has one. `layout` must show the trampoline
/// page as RAM; nothing the stub still needs may lie there (the PVH start
/// info was copied before this is called).
pub fn start(fw: &mut FwCfg, layout: &Layout) -> Option<Ap> {
    let mut n = [0u8; 2];
    fw.read(FW_CFG_NB_CPUS, 0, &mut n).ok()?;
    if u16::from_le_bytes(n) < 2 {
        return None;
    }
    let page = Region {
        start: TRAMPOLINE,
        end: TRAMPOLINE + 0x1000,
    };
    let src = &raw const ap_trampoline_start;
    let len = (&raw const ap_trampoline_end as usize).checked_sub(src as usize)?;
    if !layout.is_ram(&page) || len > 0x1000 {
        return None;
    }
    // SAFETY: the destination page is RAM below 1 MiB (checked above) that
    // no placement uses (placements start at 1 MiB) and nothing still reads;
    // the source is the trampoline's `len` bytes in the stub's .rodata; the
    // two do not overlap (the stub lives at 1 MiB and above).
    unsafe { core::ptr::copy_nonoverlapping(src, TRAMPOLINE as usize as *mut u8, len) };

    let apic = rdmsr(IA32_APIC_BASE) & 0xF_FFFF_F000;
    if apic == 0 || apic >= crate::layout::FOUR_GIB {
        return None;
    }
    let me = core::arch::x86_64::__cpuid(1).ebx >> 24;
    let target = u32::from(me == 0);
    send_ipi(apic, target, 0x0000_4500); // INIT
    send_ipi(apic, target, 0x0000_4600 | SIPI_VECTOR); // STARTUP
    if !wait_for(IDLE, START_TIMEOUT) {
        send_ipi(apic, target, 0x0000_4600 | SIPI_VECTOR); // second STARTUP, as the MP spec says
        if !wait_for(IDLE, START_TIMEOUT) {
            return None;
        }
    }
    Some(Ap(()))
}

/// Calls the `Option<J>` at `ctx` once.
fn call_job<J: FnOnce()>(ctx: usize) {
    // SAFETY: `ctx` is the address of the `Option<J>` on the stack of the
    // `join` call that posted this job; `join` does not return (so the slot
    // lives and nothing else touches it) until this function has returned
    // and the AP has reported DONE.
    let slot = unsafe { &mut *(ctx as *mut Option<J>) };
    if let Some(job) = slot.take() {
        job();
    }
}

impl Ap {
    /// Run `job` on the AP while `main` runs here; returns `main`'s result
    /// once both have finished.
    pub fn join<J: FnOnce() + Send, R>(&mut self, job: J, main: impl FnOnce() -> R) -> R {
        let mut slot = Some(job);
        JOB_FN.store(call_job::<J> as fn(usize) as usize, Ordering::Relaxed);
        JOB_CTX.store(&raw mut slot as usize, Ordering::Relaxed);
        STATE.store(POSTED, Ordering::Release);
        let result = main();
        while STATE.load(Ordering::Acquire) != DONE {
            core::hint::spin_loop();
        }
        result
    }

    /// Park the AP (`cli; hlt`) for good.
    pub fn halt(self) {
        STATE.store(HALT, Ordering::Release);
    }
}

/// The AP's Rust entry (from `ap_long_mode` in entry.rs).
#[unsafe(no_mangle)]
extern "C" fn ap_main() -> ! {
    STATE.store(IDLE, Ordering::Release);
    loop {
        match STATE.load(Ordering::Acquire) {
            POSTED => {
                let f = JOB_FN.load(Ordering::Relaxed);
                let ctx = JOB_CTX.load(Ordering::Relaxed);
                // SAFETY: `join` stored a `fn(usize)` (a `call_job::<J>`)
                // as usize before publishing POSTED with Release; the
                // Acquire load above makes that store visible.
                let job: fn(usize) = unsafe { core::mem::transmute::<usize, fn(usize)>(f) };
                job(ctx);
                STATE.store(DONE, Ordering::Release);
            }
            HALT => hw::halt(),
            _ => core::hint::spin_loop(),
        }
    }
}
