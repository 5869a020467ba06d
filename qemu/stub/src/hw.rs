//! The devices the stub talks to through x86 I/O ports, on QEMU's `pc` and
//! `microvm` machines, Firecracker and Cloud Hypervisor: the COM1 UART
//! (0x3F8); the ways out ([`exit_vm`]: `isa-debug-exit` at 0xF4, added by
//! `-device isa-debug-exit,iobase=0xf4,iosize=4`, then ACPI S5 at 0x600,
//! then the i8042 reset line at 0x64); the two 8259 PICs (0x21/0xA1, masked
//! before the jump); fw_cfg (0x510/0x511, DMA at 0x514), probed only when a
//! file is asked for ([`FwCfg::on_demand`]); and the clock of the second
//! CPU's start-up waits ([`OneShot`]): channel 2 of the 8254 PIT (0x42/0x43,
//! gate and output at 0x61) where port 0x61 works, else the TSC calibrated
//! against PIT channel 0 (0x40), else none. Port I/O touches no memory, so
//! the only `unsafe` facts are "this port is that device" (or "nothing that
//! minds is there": a VMM ignores writes to ports it does not emulate) and,
//! for fw_cfg DMA, "the buffer is ours".

use core::arch::asm;
use core::fmt;
use core::sync::atomic::Ordering::Relaxed;
use core::sync::atomic::{AtomicU8, AtomicU64};

/// Write one byte to an I/O port.
///
/// # Safety
/// `port` must be a device register whose write has no effect on memory the
/// program relies on (true for every port this module names).
unsafe fn outb(port: u16, value: u8) {
    // SAFETY: `out` writes a device register only (caller's contract); it
    // reads no memory and uses no stack.
    unsafe {
        asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack, preserves_flags))
    };
}

/// Write four bytes to an I/O port.
///
/// # Safety
/// As [`outb`].
unsafe fn outl(port: u16, value: u32) {
    // SAFETY: as in `outb`.
    unsafe {
        asm!("out dx, eax", in("dx") port, in("eax") value, options(nomem, nostack, preserves_flags))
    };
}

/// Write two bytes to an I/O port.
///
/// # Safety
/// As [`outb`].
unsafe fn outw(port: u16, value: u16) {
    // SAFETY: as in `outb`.
    unsafe {
        asm!("out dx, ax", in("dx") port, in("ax") value, options(nomem, nostack, preserves_flags))
    };
}

/// Read one byte from an I/O port.
///
/// # Safety
/// `port` must be a device register whose read has no side effect the
/// program does not expect.
unsafe fn inb(port: u16) -> u8 {
    let value: u8;
    // SAFETY: `in` reads a device register only (caller's contract).
    unsafe {
        asm!("in al, dx", in("dx") port, out("al") value, options(nomem, nostack, preserves_flags))
    };
    value
}

// ---------------------------------------------------------------- serial

const COM1: u16 = 0x3F8;

/// The COM1 16550 UART, which QEMU connects to `-serial stdio`.
pub struct Serial;

impl Serial {
    /// Program 115200 8N1, FIFOs on, interrupts off.
    pub fn init() -> Self {
        for (offset, value) in [
            (1, 0x00),
            (3, 0x80),
            (0, 0x01),
            (1, 0x00),
            (3, 0x03),
            (2, 0xC7),
            (4, 0x03),
        ] {
            // SAFETY: COM1..COM1+7 are the UART's registers (IER, LCR, DLL,
            // DLM, FCR, MCR); programming them affects only the UART.
            unsafe { outb(COM1 + offset, value) };
        }
        Self
    }

    fn put(&mut self, byte: u8) {
        // Wait for "transmit holding register empty" (LSR bit 5); QEMU's UART
        // is always ready, so bound the wait instead of spinning forever.
        for _ in 0..100_000 {
            // SAFETY: COM1+5 is the line status register; reading it has no
            // side effect on the transmitter.
            if unsafe { inb(COM1 + 5) } & 0x20 != 0 {
                break;
            }
        }
        // SAFETY: COM1+0 with DLAB clear is the transmit register.
        unsafe { outb(COM1, byte) };
    }
}

impl fmt::Write for Serial {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for byte in s.bytes() {
            if byte == b'\n' {
                self.put(b'\r');
            }
            self.put(byte);
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- exit

/// The i8042 controller's command/status port.
const I8042_COMMAND: u16 = 0x64;
/// i8042 command: pulse the CPU reset line.
const I8042_RESET: u8 = 0xFE;
/// Cloud Hypervisor's ACPI shutdown register (HW-reduced ACPI sleep
/// control, port 0x600), and the value that enters S5: SLP_EN | SLP_TYP 5.
const ACPI_SLEEP_CONTROL: u16 = 0x600;
const ACPI_S5: u8 = 0x34;

/// Leave the virtual machine, trying each VMM's way out in turn:
///
/// 1. QEMU `isa-debug-exit` (port 0xF4): QEMU exits with status
///    `(code << 1) | 1`, the only way that carries the code;
/// 2. ACPI S5 (0x34 to port 0x600): Cloud Hypervisor powers off. It comes
///    before the i8042 because Cloud Hypervisor has an i8042 too, whose
///    reset *reboots* the VM (the stub would refuse again, forever); port
///    0x600 is nothing on Firecracker, and on QEMU (where isa-debug-exit
///    already ended the run) the PM1 status register of PIIX4/ICH9, where
///    writing 0x34 only clears status bits;
/// 3. the i8042 reset (0xFE to port 0x64): Firecracker exits (status 0), and
///    QEMU with `-no-reboot`;
/// 4. halt.
///
/// Where a device is absent its write is ignored (VMMs drop writes to ports
/// they do not emulate). Only QEMU's way carries the code: under
/// Firecracker and Cloud Hypervisor the error line on the serial console
/// says what failed.
pub fn exit_vm(code: u8) -> ! {
    // SAFETY: 0xF4 is the isa-debug-exit port boot.sh configures; writing it
    // ends the emulator. Without the device the write is ignored.
    unsafe { outl(0xF4, u32::from(code)) };
    // SAFETY: Cloud Hypervisor's ACPI shutdown register: S5 powers the VM
    // off. Elsewhere nothing, or a PM1 status register whose write-1-to-clear
    // bits only acknowledge events (interrupts are off).
    unsafe { outb(ACPI_SLEEP_CONTROL, ACPI_S5) };
    // The i8042 takes a command once its input buffer is empty (status bit
    // 1); bounded, since an absent controller reads 0xFF forever.
    for _ in 0..10_000 {
        // SAFETY: reading the i8042 status register has no side effect.
        if unsafe { inb(I8042_COMMAND) } & 0x02 == 0 {
            break;
        }
    }
    // SAFETY: the i8042 command port: 0xFE pulses the reset line, which ends
    // the VM (Firecracker, QEMU -no-reboot); ignored where there is none.
    unsafe { outb(I8042_COMMAND, I8042_RESET) };
    halt()
}

/// Stop this CPU for good (interrupts are off).
pub fn halt() -> ! {
    loop {
        // SAFETY: `cli; hlt` only stops the CPU; no memory or stack effect.
        unsafe { asm!("cli", "hlt", options(nomem, nostack)) };
    }
}

// ---------------------------------------------------------------- PICs

/// Mask every line of both 8259 PICs (0xFF to the master's and the slave's
/// data ports), right before the jump. Linux's own 16-bit setup does it; the
/// 64-bit entry does not, and Linux on a hardware-reduced ACPI machine
/// (`-M microvm`) never re-initialises the 8259s: an IRQ0 the firmware left
/// pending (SeaBIOS's timer) arrives at vector 8 at Linux's first `sti` and
/// double-faults it. Where there are no 8259s (Cloud Hypervisor) the writes
/// are ignored.
pub fn mask_pics() {
    // SAFETY: 0x21 is the master 8259's data port; with the controller
    // initialised (the firmware did), writing it sets the interrupt mask
    // register. Masking affects interrupt delivery only, and interrupts are
    // off.
    unsafe { outb(0x21, 0xFF) };
    // SAFETY: as above, the slave 8259's data port.
    unsafe { outb(0xA1, 0xFF) };
}

// ---------------------------------------------------------------- fw_cfg

const FW_CFG_SELECTOR: u16 = 0x510;
const FW_CFG_DATA: u16 = 0x511;
const FW_CFG_DMA_HIGH: u16 = 0x514;
const FW_CFG_SIGNATURE: u16 = 0x0000;
const FW_CFG_ID: u16 = 0x0001;
const FW_CFG_FILE_DIR: u16 = 0x0019;
const DMA_CTL_ERROR: u32 = 0x01;
const DMA_CTL_READ: u32 = 0x02;
const DMA_CTL_SKIP: u32 = 0x04;
const DMA_CTL_SELECT: u32 = 0x08;

/// What went wrong talking to fw_cfg.
#[derive(Clone, Copy, Debug)]
pub enum FwCfgError {
    /// No "QEMU" signature at the selector port.
    Absent,
    /// The interface lacks the DMA feature.
    NoDma,
    /// The device set the DMA error bit.
    Dma,
}

/// One entry of the fw_cfg file directory.
#[derive(Clone, Copy)]
pub struct FwFile {
    /// Selector of the item.
    pub select: u16,
    /// Its size in bytes.
    pub size: u32,
}

/// QEMU's firmware configuration interface, DMA mode, probed on first use
/// ([`FwCfg::on_demand`]): Firecracker has no fw_cfg and Cloud Hypervisor
/// has one only in builds with its `fw_cfg` feature, so nothing touches the
/// ports until a file is looked up.
pub struct FwCfg {
    /// `None` until the first [`FwCfg::find`] probed.
    state: Option<Result<(), FwCfgError>>,
}

/// The DMA descriptor (all fields big-endian), 16 bytes, 8-aligned as the
/// device's 64-bit address wants.
#[repr(C, align(16))]
struct DmaAccess {
    control: u32,
    length: u32,
    address: u64,
}

impl FwCfg {
    /// A handle that probes the interface when a file is first looked up.
    pub const fn on_demand() -> Self {
        Self { state: None }
    }

    /// Probe once; `Ok(false)` when there is no fw_cfg at all.
    fn ready(&mut self) -> Result<bool, FwCfgError> {
        let state = *self.state.get_or_insert_with(Self::probe);
        match state {
            Ok(()) => Ok(true),
            Err(FwCfgError::Absent) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Check the signature and the DMA feature bit.
    fn probe() -> Result<(), FwCfgError> {
        // SAFETY: 0x510 is the fw_cfg selector; selecting an item has no
        // effect besides resetting the data port's read position.
        unsafe { outw(FW_CFG_SELECTOR, FW_CFG_SIGNATURE) };
        let mut sig = [0u8; 4];
        for b in &mut sig {
            // SAFETY: 0x511 is the fw_cfg data port; a read returns the next
            // byte of the selected item.
            *b = unsafe { inb(FW_CFG_DATA) };
        }
        if &sig != b"QEMU" {
            return Err(FwCfgError::Absent);
        }
        // SAFETY: as above, selecting the feature bitmap.
        unsafe { outw(FW_CFG_SELECTOR, FW_CFG_ID) };
        // SAFETY: as above; the first byte's bit 1 is "DMA supported".
        let features = unsafe { inb(FW_CFG_DATA) };
        if features & 0x02 == 0 {
            return Err(FwCfgError::NoDma);
        }
        Ok(())
    }

    /// Select item `select` and read `buf.len()` bytes of it, starting
    /// `skip` bytes in.
    pub fn read(&mut self, select: u16, skip: u32, buf: &mut [u8]) -> Result<(), FwCfgError> {
        if !self.ready()? {
            return Err(FwCfgError::Absent);
        }
        if skip > 0 {
            self.dma(
                (u32::from(select) << 16) | DMA_CTL_SELECT | DMA_CTL_SKIP,
                skip,
                0,
            )?;
            self.dma(
                DMA_CTL_READ,
                buf.len().try_into().map_err(|_| FwCfgError::Dma)?,
                buf.as_mut_ptr() as u64,
            )
        } else {
            self.dma(
                (u32::from(select) << 16) | DMA_CTL_SELECT | DMA_CTL_READ,
                buf.len().try_into().map_err(|_| FwCfgError::Dma)?,
                buf.as_mut_ptr() as u64,
            )
        }
    }

    /// Run one DMA transfer and wait for it. `address` must be the start of a
    /// writable buffer of `length` bytes owned by the caller (or 0 when the
    /// control word does not read).
    fn dma(&mut self, control: u32, length: u32, address: u64) -> Result<(), FwCfgError> {
        let mut access = DmaAccess {
            control: control.to_be(),
            length: length.to_be(),
            address: address.to_be(),
        };
        let desc = core::ptr::addr_of_mut!(access) as u64;
        // SAFETY: writing the descriptor's physical address (paging is an
        // identity map, so virtual == physical) to 0x514/0x518 starts the
        // transfer; the device writes only the descriptor (ours, alive until
        // the poll below sees completion) and `length` bytes at `address`,
        // which every caller passes from a `&mut [u8]` of exactly that length.
        // No `nomem` option: the compiler must finish writing `access` before
        // the `out` and assume memory changed after it.
        unsafe {
            asm!(
                "out dx, eax",
                "mov eax, {low:e}",
                "mov dx, 0x518",
                "out dx, eax",
                low = in(reg) (desc as u32).to_be(),
                inout("dx") FW_CFG_DMA_HIGH => _,
                inout("eax") ((desc >> 32) as u32).to_be() => _,
                options(nostack, preserves_flags)
            );
        }
        loop {
            // SAFETY: `access` is a live local; a volatile read is required
            // because the device, not the program, changes it.
            let ctl = u32::from_be(unsafe {
                core::ptr::read_volatile(core::ptr::addr_of!(access.control))
            });
            if ctl & DMA_CTL_ERROR != 0 {
                return Err(FwCfgError::Dma);
            }
            if ctl == 0 {
                // The device wrote the buffer: no read may move above this.
                core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
                return Ok(());
            }
            core::hint::spin_loop();
        }
    }

    /// Find `name` in the file directory; `None` also when there is no
    /// fw_cfg at all (probed here, on the first call).
    pub fn find(&mut self, name: &[u8]) -> Result<Option<FwFile>, FwCfgError> {
        if !self.ready()? {
            return Ok(None);
        }
        let mut count = [0u8; 4];
        self.read(FW_CFG_FILE_DIR, 0, &mut count)?;
        let count = u32::from_be_bytes(count);
        for i in 0..count.min(4096) {
            let mut entry = [0u8; 64];
            self.read(FW_CFG_FILE_DIR, 4 + i * 64, &mut entry)?;
            let [s0, s1, s2, s3, sel0, sel1, ..] = entry;
            let stored = entry.get(8..).unwrap_or(&[]);
            let len = stored.iter().position(|&b| b == 0).unwrap_or(stored.len());
            if stored.get(..len) == Some(name) {
                return Ok(Some(FwFile {
                    select: u16::from_be_bytes([sel0, sel1]),
                    size: u32::from_be_bytes([s0, s1, s2, s3]),
                }));
            }
        }
        Ok(None)
    }
}

// ---------------------------------------------------------------- PIT

/// PIT channel 0's data port.
const PIT_CH0: u16 = 0x40;
/// PIT channel 2's data port.
const PIT_CH2: u16 = 0x42;
/// PIT mode/command port.
const PIT_MODE: u16 = 0x43;
/// Port B of the (emulated) 8255: bit 0 gates channel 2, bit 1 connects it
/// to the speaker, bit 5 reads its output.
const PORT_B: u16 = 0x61;

/// PIT input clock, Hz: the counts of [`OneShot::start`] for a wait are
/// `ceil(seconds × PIT_HZ)`.
pub const PIT_HZ: u64 = 1_193_182;

/// PIT ticks the TSC is calibrated over (2 ms).
const CALIBRATION_TICKS: u64 = 2_387;
/// Most channel-0 reads calibration takes (each is a trip to the device
/// model, about a microsecond or more): well past 2 ms of a counting PIT.
const CALIBRATION_READS: u32 = 2_000_000;
/// Reads of a channel-0 count that never changes before it is given up on.
const STILL_READS: u32 = 100_000;

/// The clock behind [`OneShot`], chosen by [`OneShot::calibrate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// PIT channel 2 gated and read through port 0x61 (`pc`, Firecracker).
    PitChannel2,
    /// The TSC, its rate measured against PIT channel 0 (QEMU `microvm`,
    /// where port 0x61 reads 0xFF: no speaker port, so channel 2's gate
    /// stays low and its output cannot be read).
    CalibratedTsc,
    /// Neither (Cloud Hypervisor has no PIT): nothing to time the start-up
    /// waits with.
    None,
}

/// Which [`Clock`] the waits use: 0 not chosen yet, 1 channel 2, 2 TSC,
/// 3 none. Only the boot CPU touches it.
static CLOCK: AtomicU8 = AtomicU8::new(0);
/// TSC cycles per 65 536 PIT ticks (the calibrated TSC).
static TSC_PER_64K_TICKS: AtomicU64 = AtomicU64::new(0);
/// TSC deadline of the running wait (the calibrated TSC).
static DEADLINE: AtomicU64 = AtomicU64::new(0);

/// A fixed-rate one-shot wait, for the second CPU's start-up: PIT channel
/// 2 (mode 0) where it works, else a TSC deadline with the TSC's rate
/// measured against PIT channel 0 ([`OneShot::calibrate`]). Only the stub
/// uses it, before the kernel (which programs the PIT itself) is entered.
pub struct OneShot;

impl OneShot {
    /// Choose the clock (once; later calls return the first choice):
    /// channel 2 when port 0x61 does not read 0xFF and a freshly started
    /// 54.9 ms count-down has not run out at once; else the TSC against
    /// channel 0 (reprogrammed to mode 2 with the full count, which is the
    /// BIOS's 18.2 Hz setting) when its count moves; else [`Clock::None`].
    /// Costs 2 ms on the TSC path.
    pub fn calibrate() -> Clock {
        match CLOCK.load(Relaxed) {
            1 => return Clock::PitChannel2,
            2 => return Clock::CalibratedTsc,
            3 => return Clock::None,
            _ => {}
        }
        let clock = if Self::channel2_works() {
            Clock::PitChannel2
        } else if let Some(rate) = tsc_against_channel0() {
            TSC_PER_64K_TICKS.store(rate, Relaxed);
            Clock::CalibratedTsc
        } else {
            Clock::None
        };
        let code = match clock {
            Clock::PitChannel2 => 1,
            Clock::CalibratedTsc => 2,
            Clock::None => 3,
        };
        CLOCK.store(code, Relaxed);
        clock
    }

    /// Whether channel 2 can be gated and read through port 0x61.
    fn channel2_works() -> bool {
        // SAFETY: reading port B has no side effect.
        if unsafe { inb(PORT_B) } == 0xFF {
            return false;
        }
        Self::pit2_start(u16::MAX);
        // Output low right after the count was loaded, still low a few reads
        // later: the count-down runs. A port B that always reads the output
        // bit set (0x20: Cloud Hypervisor) fails here.
        let runs = (0..4).all(|_| !Self::pit2_expired());
        Self::pit2_stop();
        runs
    }

    /// (Re)start the count-down: it runs out once `ticks` periods of
    /// [`PIT_HZ`] have passed (at most 0xFFFF: 54.9 ms). With
    /// [`Clock::None`] (or before [`Self::calibrate`]) it has run out at once.
    pub fn start(ticks: u16) {
        match Self::calibrate() {
            Clock::PitChannel2 => Self::pit2_start(ticks),
            Clock::CalibratedTsc => {
                let rate = u128::from(TSC_PER_64K_TICKS.load(Relaxed));
                let cycles = u64::try_from(rate * u128::from(ticks) / 65_536).unwrap_or(u64::MAX);
                DEADLINE.store(rdtsc().saturating_add(cycles), Relaxed);
            }
            Clock::None => DEADLINE.store(0, Relaxed),
        }
    }

    /// Whether the count-down started last has run out.
    pub fn expired() -> bool {
        match CLOCK.load(Relaxed) {
            1 => Self::pit2_expired(),
            _ => rdtsc() >= DEADLINE.load(Relaxed),
        }
    }

    /// Stop the count-down (channel 2: gate and speaker off again).
    pub fn stop() {
        if CLOCK.load(Relaxed) == 1 {
            Self::pit2_stop();
        }
    }

    fn pit2_start(ticks: u16) {
        // SAFETY: reading port B has no side effect.
        let port_b = unsafe { inb(PORT_B) };
        // SAFETY: port B: gate channel 2 on, speaker off (what Linux's PIT
        // calibration writes); the other bits are written back as read.
        unsafe { outb(PORT_B, (port_b & !0x02) | 0x01) };
        // SAFETY: mode port: channel 2, low then high byte, mode 0, binary.
        unsafe { outb(PIT_MODE, 0xB0) };
        let [low, high] = ticks.to_le_bytes();
        // SAFETY: channel 2's count, low byte then high byte as programmed;
        // writing the high byte starts the count-down.
        unsafe { outb(PIT_CH2, low) };
        // SAFETY: as above.
        unsafe { outb(PIT_CH2, high) };
    }

    fn pit2_expired() -> bool {
        // SAFETY: reading port B has no side effect.
        unsafe { inb(PORT_B) & 0x20 != 0 }
    }

    fn pit2_stop() {
        // SAFETY: reading port B has no side effect.
        let port_b = unsafe { inb(PORT_B) };
        // SAFETY: port B: gate and speaker bits cleared, the rest as read.
        unsafe { outb(PORT_B, port_b & !0x03) };
    }
}

/// Channel 0's current count (latched, low byte then high byte).
fn channel0_count() -> u16 {
    // SAFETY: mode port: counter-latch command for channel 0; it freezes the
    // value the next two reads of port 0x40 return, nothing else.
    unsafe { outb(PIT_MODE, 0x00) };
    // SAFETY: channel 0's data port: the latched count's low byte.
    let low = unsafe { inb(PIT_CH0) };
    // SAFETY: as above, its high byte.
    let high = unsafe { inb(PIT_CH0) };
    u16::from_le_bytes([low, high])
}

/// TSC cycles per 65 536 PIT ticks, measured over [`CALIBRATION_TICKS`] of
/// channel 0 counting down in mode 2; `None` when channel 0 does not count
/// (no PIT) or the measurement does not finish within its bounded reads.
fn tsc_against_channel0() -> Option<u64> {
    // SAFETY: mode port: channel 0, low then high byte, mode 2 (rate
    // generator), binary: the BIOS's setting; Linux reprograms channel 0
    // itself. Its IRQ0 reaches no CPU: interrupts are off, and the 8259s are
    // masked before the jump.
    unsafe { outb(PIT_MODE, 0x34) };
    // SAFETY: channel 0's count, 0 = 65 536, low byte then high byte.
    unsafe { outb(PIT_CH0, 0) };
    // SAFETY: as above.
    unsafe { outb(PIT_CH0, 0) };
    // Start on a tick edge.
    let first = channel0_count();
    let mut prev = first;
    let mut moved = false;
    for _ in 0..STILL_READS {
        prev = channel0_count();
        if prev != first {
            moved = true;
            break;
        }
    }
    if !moved {
        return None;
    }
    let t0 = rdtsc();
    let mut elapsed: u64 = 0;
    for _ in 0..CALIBRATION_READS {
        let now = channel0_count();
        // Counting down, modulo 65 536; reads far less than 54.9 ms apart.
        elapsed += u64::from(prev.wrapping_sub(now));
        prev = now;
        if elapsed >= CALIBRATION_TICKS {
            let cycles = rdtsc().wrapping_sub(t0);
            let rate = u128::from(cycles) * 65_536 / u128::from(elapsed);
            return u64::try_from(rate).ok().filter(|&r| r > 0);
        }
    }
    None
}

// ---------------------------------------------------------------- cpu

/// The time-stamp counter (under TCG it runs at the host TSC's rate).
pub fn rdtsc() -> u64 {
    // SAFETY: RDTSC exists on every x86_64 CPU and only reads a counter.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Whether the CPU has the SHA extensions (CPUID.7.0:EBX bit 29), which the
/// `sha2` crate detects and uses by itself.
pub fn has_sha_ni() -> bool {
    // Leaf 0 reports the highest basic leaf; leaf 7 is queried only if it exists.
    let max = core::arch::x86_64::__cpuid(0).eax;
    max >= 7 && core::arch::x86_64::__cpuid_count(7, 0).ebx & (1 << 29) != 0
}
