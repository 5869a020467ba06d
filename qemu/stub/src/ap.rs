//! The second CPU: one application processor (AP) runs the side of the
//! library's [`Join`] (the image and content hashes) while the boot CPU
//! inflates, so `rvf_boot::image::extract_joined` verifies on two CPUs.
//!
//! Start-up is the usual INIT-SIPI-SIPI through the boot CPU's local xAPIC,
//! broadcast to "all excluding self", with the waits of Intel's MP start-up
//! algorithm (10 ms after INIT, 200 µs after each SIPI) timed by PIT channel
//! 2 ([`OneShot`]: a fixed 1.193182 MHz clock, where the TSC's rate is
//! unknown), or where port 0x61 does not work (QEMU `microvm`: it reads
//! 0xFF, so a channel-2 count-down would "run out" at once) by the TSC, its
//! rate measured against PIT channel 0 first; with no PIT at all (Cloud
//! Hypervisor) no IPI is sent and the boot CPU verifies alone
//! ([`Why::NoTimer`]). No wait blocks: INIT goes out when the boot starts, the SIPIs
//! from [`SecondCpu::poll`] once their time has come, and every join before
//! the AP has checked in runs both sides on the boot CPU. An AP that has not
//! checked in 54.9 ms after the second SIPI is given up on (QEMU `-smp 1`):
//! the boot goes on with one CPU and says so once.
//!
//! The SIPI starts the APs in real mode at the 4 KiB page it names, below
//! 1 MiB: [`SecondCpu::prepare`] takes the highest page in [4 KiB, 640 KiB)
//! that the memory map calls usable RAM and nothing reserved overlaps (page 0
//! keeps the BIOS data area Linux reads), reserves it (so no later placement
//! lands on it) and copies the 16-bit start-up code there. That code loads a
//! GDT of the stub's and jumps into the stub proper, which enters long mode
//! with the boot CPU's CR3 and SSE enabled as on the boot CPU (`entry.rs`).
//! The first AP there claims the one AP stack and runs [`ap_main`]; any other
//! halts without touching memory. Linux reserves the first 1 MiB, and the
//! page matters to nobody once the APs have been reset.
//!
//! Before the kernel is trusted, [`SecondCpu::finish`] parks the AP (`cli;
//! hlt`, acknowledged) and sends INIT to all other CPUs again, so every AP
//! waits for a SIPI, the state Linux starts them from, whatever became of it
//! (an AP that checked in late never runs stub code while Linux owns the
//! memory).

use core::arch::{asm, global_asm};
use core::cell::Cell;
use core::fmt;
use core::hint::spin_loop;
use core::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release, SeqCst};
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8, AtomicU32, AtomicU64, fence};

use rvf_boot::joined::{Filler, Join};
use rvf_boot::memory::{self, MemoryRegion, PhysRange};

use crate::failure::Failure;
use crate::hw::{self, Clock, OneShot, PIT_HZ};
use rvf_boot::boot::Reservations as Reserved;

/// The AP's stack. Its side work is the library's hash sink (the CRC-32 and
/// the image hashers' `update`) and filling (the content hasher's): 376
/// bytes deep for the Debian kernel's RuvBot RVF (SHA-256 both). [`SecondCpu::finish`]
/// measures the high-water mark (the stack is painted before the SIPI),
/// prints it, and refuses the boot if the paint is gone at the bottom.
const AP_STACK_SIZE: usize = 16 * 1024;

/// The byte the AP stack is painted with.
const PAINT: u8 = 0xA5;

/// The AP's stack, used by the one AP that claims [`AP_CLAIMED`].
#[repr(C, align(16))]
struct ApStack([u8; AP_STACK_SIZE]);

static mut AP_STACK: ApStack = ApStack([0; AP_STACK_SIZE]);

/// 0 until the first AP in long mode claims the stack (`lock cmpxchg` in the
/// start-up code, before the stack is touched).
static AP_CLAIMED: AtomicU32 = AtomicU32::new(0);

/// The boot CPU's CR3, for the APs' start-up code (below 4 GiB).
static AP_CR3: AtomicU32 = AtomicU32::new(0);

/// TSC when the AP checked in (0: not yet).
static CHECKED_IN: AtomicU64 = AtomicU64::new(0);

/// The job posted to the AP (null: none). The boot CPU stores a job only
/// when it is null; the AP stores null once the job has returned.
static MAILBOX: AtomicPtr<Job> = AtomicPtr::new(core::ptr::null_mut());

/// Which CPU of the current join finished its part first and so fills
/// ([`Join`]): [`NOBODY`] yet, [`SIDE`] (the AP) or [`MAIN`] (the boot
/// CPU). Claimed with one compare-exchange each, so exactly one CPU fills.
static FIRST: AtomicU8 = AtomicU8::new(NOBODY);
const NOBODY: u8 = 0;
const SIDE: u8 = 1;
const MAIN: u8 = 2;

/// Set by the boot CPU when its part of the current join is done (the AP,
/// filling, stops after its current piece).
static MAIN_DONE: AtomicBool = AtomicBool::new(false);

/// Set by the boot CPU when no more work will come: the AP halts.
static PARK: AtomicBool = AtomicBool::new(false);

/// Set by the AP right before it halts for good.
static PARKED: AtomicBool = AtomicBool::new(false);

/// TSC cycles the AP spent in jobs, and the number of jobs.
static AP_CYCLES: AtomicU64 = AtomicU64::new(0);
static AP_JOBS: AtomicU64 = AtomicU64::new(0);

global_asm!(
    r#"
    /* Real-mode start-up code, copied to the SIPI page and entered with
       CS = page >> 4, IP = 0. It uses no stack and only DS-relative data in
       the copied bytes; the GDT and everything after the far jump are in the
       stub at their link addresses. */
    .pushsection .rodata.ap_trampoline, "a"
    .balign 16
    .code16
    .globl ap_trampoline_start
ap_trampoline_start:
    cli
    cld
    movw %cs, %ax
    movw %ax, %ds
    lgdtl ap_gdt_ptr - ap_trampoline_start
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl *(ap_pm_ptr - ap_trampoline_start)
    .balign 4
ap_gdt_ptr:
    /* The stub's GDT (entry.rs: 0x08 32-bit code, 0x10 64-bit code, 0x18
       data), whose 4 entries this limit covers. */
    .word 4 * 8 - 1
    .long stub_gdt
ap_pm_ptr:
    .long ap_protected_mode
    .word 0x08
    .globl ap_trampoline_end
ap_trampoline_end:
    .code64
    .popsection

    .pushsection .text.ap_start, "ax"
    .code32
ap_protected_mode:
    movl $0x18, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    /* The boot CPU's page tables, then long mode as the boot CPU enters it
       (entry.rs). */
    movl {cr3}, %eax
    movl %eax, %cr3
    movl $1f, %ebx
    jmp stub_enable_long_mode
1:  ljmpl $0x10, $ap_long_mode
    .code64
ap_long_mode:
    movl $0x18, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    movl %eax, %fs
    movl %eax, %gs
    /* One stack: only the first AP goes on; the others halt here. */
    movl $1, %ecx
    xorl %eax, %eax
    lock cmpxchgl %ecx, {claimed}(%rip)
    jnz 2f
    leaq {stack}+{stack_size}(%rip), %rsp
    fninit
    call {main}
2:  cli
    hlt
    jmp 2b
    .popsection
"#,
    cr3 = sym AP_CR3,
    claimed = sym AP_CLAIMED,
    stack = sym AP_STACK,
    stack_size = const AP_STACK_SIZE,
    main = sym ap_main,
    options(att_syntax)
);

unsafe extern "C" {
    /// First byte of the 16-bit start-up code (the assembly above).
    static ap_trampoline_start: u8;
    /// One past its last byte.
    static ap_trampoline_end: u8;
}

/// One posted side: a monomorphic caller of the closure, and the closure.
struct Job {
    /// `run_slot::<S>` for the closure's type `S`.
    run: unsafe fn(*mut ()),
    /// The `Option<S>` the closure lives in, on the boot CPU's stack.
    slot: *mut (),
}

/// Take the closure out of its slot and run it.
///
/// # Safety
/// `slot` must point to a live `Option<S>` that nothing else accesses until
/// this returns, and `S` must be `Send` (it may run on another CPU).
unsafe fn run_slot<S: FnOnce()>(slot: *mut ()) {
    // SAFETY: the caller's contract: a live, exclusively ours Option<S>.
    let slot = unsafe { &mut *slot.cast::<Option<S>>() };
    if let Some(side) = slot.take() {
        side();
    }
}

/// The AP's Rust entry (from the start-up code, on [`AP_STACK`]): check in,
/// run jobs until told to park, then halt with interrupts off.
extern "C" fn ap_main() -> ! {
    CHECKED_IN.store(hw::rdtsc().max(1), Release);
    loop {
        let job = MAILBOX.load(Acquire);
        if !job.is_null() {
            let t = hw::rdtsc();
            // SAFETY: a non-null MAILBOX is a `Job` on the boot CPU's stack
            // in `SecondCpu::join`, which does not return (so the Job stays
            // alive and unwritten) until it loads null from MAILBOX, stored
            // below only after the job has returned. The Acquire load pairs
            // with its Release store: the Job is fully written.
            let Job { run, slot } = unsafe { job.read() };
            // SAFETY: `run` is `run_slot::<S>` and `slot` that frame's live
            // `Option<S>`, which the boot CPU does not touch until the null
            // store below (same argument); `join` requires `S: Send`, so
            // running the closure on this CPU is allowed.
            unsafe { run(slot) };
            AP_CYCLES.fetch_add(hw::rdtsc().wrapping_sub(t), Relaxed);
            AP_JOBS.fetch_add(1, Relaxed);
            // Publishes the job's writes (and the counts) to the boot CPU.
            MAILBOX.store(core::ptr::null_mut(), Release);
        } else if PARK.load(Acquire) {
            PARKED.store(true, Release);
            hw::halt();
        } else {
            spin_loop();
        }
    }
}

/// The local xAPIC of the boot CPU (memory-mapped, below 4 GiB).
#[derive(Clone, Copy)]
struct Apic {
    base: u64,
}

/// `IA32_APIC_BASE`.
const IA32_APIC_BASE: u32 = 0x1B;
/// Interrupt command register, low and high halves.
const ICR_LOW: u64 = 0x300;
const ICR_HIGH: u64 = 0x310;
/// ICR: delivery status (send pending).
const ICR_PENDING: u32 = 1 << 12;
/// ICR: INIT, level assert, edge, to all excluding self.
const IPI_INIT: u32 = 0x000C_4500;
/// ICR: start-up (vector = page number), to all excluding self.
const IPI_SIPI: u32 = 0x000C_4600;

/// PIT ticks of the waits: 10 ms after INIT, 200 µs after a SIPI (rounded
/// up), and the check-in window after the second SIPI (the PIT's longest
/// one-shot, 54.9 ms).
const INIT_TICKS: u16 = ticks(10_000);
const SIPI_TICKS: u16 = ticks(200);
const CHECK_IN_TICKS: u16 = u16::MAX;

/// PIT ticks in `us` microseconds, rounded up (`us` <= 54 925).
const fn ticks(us: u64) -> u16 {
    let t = (us * PIT_HZ).div_ceil(1_000_000);
    if t > u16::MAX as u64 {
        u16::MAX
    } else {
        t as u16
    }
}

impl Apic {
    /// The boot CPU's xAPIC, if it is present, enabled, in xAPIC (not
    /// x2APIC) mode and inside the 4 GiB identity map.
    fn find() -> Result<Self, Why> {
        if core::arch::x86_64::__cpuid(1).edx & (1 << 9) == 0 {
            return Err(Why::NoApic);
        }
        let (low, high): (u32, u32);
        // SAFETY: IA32_APIC_BASE exists on every CPU with CPUID.1:EDX.APIC
        // (checked above); RDMSR at CPL 0 only reads it.
        unsafe {
            asm!("rdmsr", in("ecx") IA32_APIC_BASE, out("eax") low, out("edx") high,
                 options(nomem, nostack, preserves_flags));
        }
        if low & (1 << 11) == 0 {
            return Err(Why::NoApic);
        }
        if low & (1 << 10) != 0 {
            return Err(Why::X2Apic);
        }
        let base = (u64::from(high) << 32 | u64::from(low)) & 0x000F_FFFF_FFFF_F000;
        if base > memory::FOUR_GIB - 0x1000 {
            return Err(Why::ApicAbove4G);
        }
        Ok(Self { base })
    }

    /// Send the IPI `icr` (a shorthand destination: ICR high is 0) and wait,
    /// bounded, until the APIC has sent it.
    fn send(self, icr: u32) -> Result<(), Why> {
        let high = (self.base + ICR_HIGH) as usize as *mut u32;
        let low = (self.base + ICR_LOW) as usize as *mut u32;
        // SAFETY: `base` is the boot CPU's enabled xAPIC (IA32_APIC_BASE),
        // identity-mapped below 4 GiB; ICR high is a 32-bit register at
        // +0x310. Writing it only sets the (unused) destination field.
        unsafe { core::ptr::write_volatile(high, 0) };
        // SAFETY: as above, ICR low at +0x300: writing it sends the IPI to
        // the other CPUs (INIT resets them; a SIPI starts them at the page
        // `prepare` filled, running only the start-up code and `ap_main`).
        unsafe { core::ptr::write_volatile(low, icr) };
        for _ in 0..1_000_000 {
            // SAFETY: reading ICR low has no side effect.
            if unsafe { core::ptr::read_volatile(low) } & ICR_PENDING == 0 {
                return Ok(());
            }
            spin_loop();
        }
        Err(Why::IpiStuck)
    }
}

/// Why the second CPU did no work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// No local APIC, or it is disabled.
    NoApic,
    /// The APIC is in x2APIC mode (no MMIO interface).
    X2Apic,
    /// The APIC's registers lie above the 4 GiB identity map.
    ApicAbove4G,
    /// The APIC never reported an IPI as sent.
    IpiStuck,
    /// No free usable 4 KiB page in [4 KiB, 640 KiB) for the start-up code.
    NoPage,
    /// The boot CPU's CR3 is above 4 GiB (the start-up code loads 32 bits).
    Cr3High,
    /// No AP checked in within the window after the second SIPI.
    NoAnswer,
    /// Verification ended before the AP had checked in.
    NotYet,
    /// No clock to time the start-up waits with (no PIT: Cloud Hypervisor).
    NoTimer,
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoApic => "the boot CPU has no enabled local APIC",
            Self::X2Apic => "the local APIC is in x2APIC mode",
            Self::ApicAbove4G => "the local APIC lies above 4 GiB",
            Self::IpiStuck => "the local APIC did not send the start-up IPIs",
            Self::NoPage => "no free page below 640 KiB for the start-up code",
            Self::Cr3High => "the page tables lie above 4 GiB",
            Self::NoAnswer => "no application processor checked in within 55 ms of its SIPI",
            Self::NotYet => "verification ended before the application processor checked in",
            Self::NoTimer => {
                "no timer for the start-up waits (neither PIT channel 2 nor channel 0 counts)"
            }
        })
    }
}

/// Where the start-up stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Not used.
    Off(Why),
    /// INIT sent, the 10 ms running; the SIPI vector once `prepare` copied
    /// the start-up code.
    Init(Option<u8>),
    /// The first SIPI sent, its 200 µs running.
    Sipi1(u8),
    /// The second SIPI sent, the check-in window running.
    Sipi2,
    /// Checked in: takes the side of every join.
    Online,
}

/// The boot CPU's handle on the second CPU: a [`Join`] that runs the side on
/// the AP once it has checked in, and on the boot CPU (after `main`) before.
pub struct SecondCpu {
    apic: Option<Apic>,
    state: Cell<State>,
    /// The start-up page (0: none yet).
    page: Cell<u64>,
    /// TSC at the SIPI.
    sipi_at: Cell<u64>,
    /// Cycles the boot CPU waited for the AP to finish a side.
    wait_cycles: Cell<u64>,
}

/// What the second CPU did, for the log.
pub struct Report {
    /// `None`: the AP took the sides from its check-in on.
    pub why_not: Option<Why>,
    /// TSC cycles from the SIPI to the AP's check-in.
    pub check_in: u64,
    /// Sides the AP ran.
    pub jobs: u64,
    /// Cycles the AP spent in them.
    pub ap_cycles: u64,
    /// Cycles the boot CPU waited for the AP.
    pub wait_cycles: u64,
    /// Bytes of the AP's stack ever used (0 if it did not park).
    pub stack_used: usize,
    /// Whether the AP acknowledged parking before the INIT.
    pub parked: bool,
    /// The start-up page (0: none).
    pub page: u64,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.why_not {
            None => write!(
                f,
                "rvf-boot: second CPU: {} hash jobs beside the inflate, checked in {} kcycles \
                 after its SIPI at {:#x}, stack {} of {} bytes; {} for Linux",
                self.jobs,
                self.check_in / 1000,
                self.page,
                self.stack_used,
                AP_STACK_SIZE,
                if self.parked {
                    "parked and reset"
                } else {
                    "reset (no parking acknowledged)"
                }
            ),
            Some(why) => write!(
                f,
                "rvf-boot: one CPU: {why}; verified on the boot CPU alone"
            ),
        }
    }
}

impl SecondCpu {
    /// Send INIT to every other CPU and start the 10 ms wait. Without a
    /// usable xAPIC the handle runs every join on the boot CPU.
    pub fn init() -> Self {
        let found = Apic::find()
            .and_then(|apic| match OneShot::calibrate() {
                Clock::None => Err(Why::NoTimer),
                _ => Ok(apic),
            })
            .and_then(|apic| apic.send(IPI_INIT).map(|()| apic));
        let (apic, state) = match found {
            Ok(apic) => {
                OneShot::start(INIT_TICKS);
                (Some(apic), State::Init(None))
            }
            Err(why) => (None, State::Off(why)),
        };
        Self {
            apic,
            state: Cell::new(state),
            page: Cell::new(0),
            sipi_at: Cell::new(0),
            wait_cycles: Cell::new(0),
        }
    }

    /// Reserve the start-up page, copy the start-up code there and paint the
    /// AP's stack; the SIPIs follow from [`Self::poll`]. Fails only when the
    /// reservation table is full.
    pub fn prepare(&self, memory: &[MemoryRegion], reserved: &mut Reserved) -> Result<(), Failure> {
        if self.state.get() != State::Init(None) {
            return Ok(());
        }
        let code = trampoline();
        let Some(page) = start_page(memory, reserved.as_slice(), code.len()) else {
            self.state.set(State::Off(Why::NoPage));
            return Ok(());
        };
        let cr3: u64;
        // SAFETY: reading CR3 at CPL 0 has no side effect.
        unsafe { asm!("mov {}, cr3", out(reg) cr3, options(nomem, nostack, preserves_flags)) };
        let Ok(cr3) = u32::try_from(cr3) else {
            self.state.set(State::Off(Why::Cr3High));
            return Ok(());
        };
        reserved.add(page)?;
        self.page.set(page.base);
        AP_CR3.store(cr3, Relaxed);
        // SAFETY: `page` is usable RAM below 640 KiB that no reservation
        // overlaps (so no slice of the stub's covers it), now reserved; only
        // the stub's start-up code will run there, once the SIPI names it.
        // The source is the stub's read-only data, `code.len()` <= 4096
        // bytes (checked by `start_page`).
        unsafe {
            core::ptr::copy_nonoverlapping(code.as_ptr(), page.base as usize as *mut u8, code.len())
        };
        let stack = &raw mut AP_STACK;
        // SAFETY: no AP runs yet (all were reset by INIT and no SIPI has
        // been sent), so nothing else uses the AP stack.
        unsafe { core::ptr::write_bytes(stack.cast::<u8>(), PAINT, AP_STACK_SIZE) };
        let vector = u8::try_from(page.base >> 12).unwrap_or(0);
        self.state.set(State::Init(Some(vector)));
        self.poll();
        Ok(())
    }

    /// Advance the start-up when its wait has passed; whether the AP takes
    /// sides now.
    fn poll(&self) -> bool {
        let Some(apic) = self.apic else {
            return false;
        };
        let next = match self.state.get() {
            State::Online => return true,
            State::Off(_) | State::Init(None) => return false,
            State::Init(Some(vector)) if OneShot::expired() => {
                // The page, the CR3 and the painted stack are written.
                fence(SeqCst);
                self.sipi_at.set(hw::rdtsc());
                match apic.send(IPI_SIPI | u32::from(vector)) {
                    Ok(()) => {
                        OneShot::start(SIPI_TICKS);
                        State::Sipi1(vector)
                    }
                    Err(why) => State::Off(why),
                }
            }
            State::Sipi1(_) | State::Sipi2 if CHECKED_IN.load(Acquire) != 0 => {
                OneShot::stop();
                State::Online
            }
            State::Sipi1(vector) if OneShot::expired() => {
                match apic.send(IPI_SIPI | u32::from(vector)) {
                    Ok(()) => {
                        OneShot::start(CHECK_IN_TICKS);
                        State::Sipi2
                    }
                    Err(why) => State::Off(why),
                }
            }
            State::Sipi2 if OneShot::expired() => State::Off(Why::NoAnswer),
            state => state,
        };
        self.state.set(next);
        next == State::Online
    }

    /// Park the AP (acknowledged, bounded), reset every other CPU with INIT
    /// so Linux finds them waiting for a SIPI, and say what the second CPU
    /// did. Called once verification is over, before the kernel is used.
    pub fn finish(&self) -> Result<Report, Failure> {
        let state = self.state.get();
        let mut stack_used = 0;
        let mut parked = false;
        if state == State::Online {
            PARK.store(true, Release);
            OneShot::start(CHECK_IN_TICKS);
            // 54.9 ms by the PIT, and a TSC bound in case the PIT never
            // runs out (2^33 cycles: seconds at any TSC rate seen so far).
            let t = hw::rdtsc();
            while !PARKED.load(Acquire)
                && !OneShot::expired()
                && hw::rdtsc().wrapping_sub(t) < 1 << 33
            {
                spin_loop();
            }
            parked = PARKED.load(Acquire);
            if parked {
                stack_used = stack_high_water();
                if stack_used >= AP_STACK_SIZE {
                    return Err(Failure::Internal("the second CPU overflowed its stack"));
                }
            }
        }
        if let Some(apic) = self.apic {
            // Whatever the state: after this no AP runs stub code.
            apic.send(IPI_INIT)
                .map_err(|_| Failure::Internal("the local APIC did not send INIT"))?;
            OneShot::stop();
        }
        let why_not = match state {
            State::Online => None,
            State::Off(why) => Some(why),
            State::Init(_) | State::Sipi1(_) | State::Sipi2 => Some(Why::NotYet),
        };
        let checked_in = CHECKED_IN.load(Acquire);
        Ok(Report {
            why_not,
            check_in: if checked_in == 0 {
                0
            } else {
                checked_in.wrapping_sub(self.sipi_at.get())
            },
            jobs: AP_JOBS.load(Acquire),
            ap_cycles: AP_CYCLES.load(Acquire),
            wait_cycles: self.wait_cycles.get(),
            stack_used,
            parked,
            page: self.page.get(),
        })
    }
}

/// The filler of one join, for the CPU that claims it ([`FIRST`]).
struct FillPtr<W: ?Sized>(*mut W);

impl<W: ?Sized> FillPtr<W> {
    /// The pointer (a method, so a closure captures the whole `Send` wrapper).
    fn get(&self) -> *mut W {
        self.0
    }
}

// SAFETY: the pointer is dereferenced only by the one CPU that claimed
// FIRST in its join (see `SecondCpu::join`), and `W: Filler` is `Send`, so
// using it on the AP is allowed.
unsafe impl<W: ?Sized + Send> Send for FillPtr<W> {}

/// The job that runs the closure in `slot`.
fn job_for<F: FnOnce() + Send>(slot: &mut Option<F>) -> Job {
    Job {
        run: run_slot::<F>,
        slot: core::ptr::from_mut(slot).cast::<()>(),
    }
}

impl Join for SecondCpu {
    fn join<S, M, W>(&self, side: S, main: M, fill: &mut W)
    where
        S: FnOnce() + Send,
        M: FnOnce(),
        W: Filler + ?Sized,
    {
        if !self.poll() {
            // One CPU: nobody waits, so nothing is filled.
            main();
            side();
            return;
        }
        let fill = core::ptr::from_mut(fill);
        let ap_fill = FillPtr(fill);
        // Both are ordered before the AP sees the job by the Release store
        // of MAILBOX below.
        FIRST.store(NOBODY, Relaxed);
        MAIN_DONE.store(false, Relaxed);
        let side = move || {
            side();
            if FIRST
                .compare_exchange(NOBODY, SIDE, AcqRel, Acquire)
                .is_ok()
            {
                // SAFETY: this CPU claimed FIRST, so the boot CPU does not
                // touch the filler in this join, and the join (which holds
                // the `&mut W` it points to) returns only after this job
                // has returned (MAILBOX null). Its last writer's writes are
                // visible: the AP's own by program order, the boot CPU's by
                // the MAILBOX Release store that posted this job.
                let f = unsafe { &mut *ap_fill.get() };
                while !MAIN_DONE.load(Acquire) {
                    if !f.piece() {
                        break;
                    }
                }
            }
        };
        let mut slot = Some(side);
        let job = job_for(&mut slot);
        // Scoped-thread argument: `job` and `slot` live in this frame, which
        // is left only after the wait below sees the AP store null, and the
        // AP stores null only after the side has returned (and was dropped
        // by `run_slot`); this CPU does not touch `slot` meanwhile. No
        // unwinding leaves the frame early: the stub aborts on panic (its
        // handler exits QEMU). `S: Send` and `FillPtr<W>: Send`, so the
        // side may run on the AP.
        // Release: the AP's Acquire load sees `job` and `slot` written.
        MAILBOX.store((&raw const job).cast_mut(), Release);
        main();
        if FIRST
            .compare_exchange(NOBODY, MAIN, AcqRel, Acquire)
            .is_ok()
        {
            // SAFETY: this CPU claimed FIRST, so the AP does not touch the
            // filler in this join; its writes from earlier joins are visible
            // (this join's Acquire of MAILBOX null in the previous join).
            let f = unsafe { &mut *fill };
            while !MAILBOX.load(Acquire).is_null() {
                if !f.piece() {
                    break;
                }
            }
        } else {
            // The AP fills; it stops after its current piece.
            MAIN_DONE.store(true, Release);
        }
        let t = hw::rdtsc();
        // Unbounded but finite: the side is the library's bounded work on a
        // CPU that checked in, and its filling stops at MAIN_DONE or when
        // the filler runs out (an AP that faults triple-faults, and QEMU
        // stops the machine). Acquire: the side's writes are visible.
        while !MAILBOX.load(Acquire).is_null() {
            spin_loop();
        }
        add(&self.wait_cycles, hw::rdtsc().wrapping_sub(t));
        // `job` and `slot` go out of scope only here, after the AP is done.
    }
}

/// `cell += n`.
fn add(cell: &Cell<u64>, n: u64) {
    cell.set(cell.get().wrapping_add(n));
}

/// The 16-bit start-up code, as linked.
fn trampoline() -> &'static [u8] {
    let start = core::ptr::addr_of!(ap_trampoline_start);
    let end = core::ptr::addr_of!(ap_trampoline_end);
    let len = (end as usize).saturating_sub(start as usize);
    // SAFETY: [start, end) is the start-up code in the stub's read-only
    // data (the assembly above, one section), never written.
    unsafe { core::slice::from_raw_parts(start, len) }
}

/// The highest 4 KiB page in [4 KiB, 640 KiB) that is usable RAM and
/// overlaps nothing in `reserved` (the library's range check), if the
/// start-up code fits in a page.
fn start_page(memory: &[MemoryRegion], reserved: &[PhysRange], len: usize) -> Option<PhysRange> {
    const PAGE: u64 = 0x1000;
    const LOW_RAM_END: u64 = 0xA_0000;
    if len == 0 || len > 0x1000 {
        return None;
    }
    (1..LOW_RAM_END / PAGE)
        .rev()
        .map(|n| PhysRange {
            base: n * PAGE,
            size: PAGE,
        })
        .find(|&page| memory::check_range(memory, page, LOW_RAM_END, reserved).is_ok())
}

/// Bytes of the AP stack written since it was painted: from the first
/// unpainted byte up to the top.
fn stack_high_water() -> usize {
    let stack = &raw const AP_STACK;
    // SAFETY: the AP parked (PARKED, Acquire: its writes are visible) and
    // writes its stack no more; nothing else uses it.
    let bytes = unsafe { &(*stack).0 };
    AP_STACK_SIZE
        - bytes
            .iter()
            .position(|&b| b != PAINT)
            .unwrap_or(AP_STACK_SIZE)
}
