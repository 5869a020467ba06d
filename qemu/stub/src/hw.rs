//! The devices the stub talks to through x86 I/O ports of QEMU's `pc`
//! machine: the COM1 UART (0x3F8), `isa-debug-exit` (0xF4, added by
//! `-device isa-debug-exit,iobase=0xf4,iosize=4`), fw_cfg (0x510/0x511, DMA
//! at 0x514) and channel 2 of the 8254 PIT (0x42/0x43, gate and output at
//! 0x61), the timer of the second CPU's start-up waits. Port I/O touches no
//! memory, so the only `unsafe` facts are "this port is that device" and, for
//! fw_cfg DMA, "the buffer is ours".

use core::arch::asm;
use core::fmt;

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

/// Leave QEMU through `isa-debug-exit`: QEMU exits with status
/// `(code << 1) | 1`. Halts if the device is absent.
pub fn exit_qemu(code: u8) -> ! {
    // SAFETY: 0xF4 is the isa-debug-exit port boot.sh configures; writing it
    // ends the emulator. Without the device the write is ignored.
    unsafe { outl(0xF4, u32::from(code)) };
    halt()
}

/// Stop this CPU for good (interrupts are off).
pub fn halt() -> ! {
    loop {
        // SAFETY: `cli; hlt` only stops the CPU; no memory or stack effect.
        unsafe { asm!("cli", "hlt", options(nomem, nostack)) };
    }
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

/// QEMU's firmware configuration interface, DMA mode.
pub struct FwCfg(());

/// The DMA descriptor (all fields big-endian), 16 bytes, 8-aligned as the
/// device's 64-bit address wants.
#[repr(C, align(16))]
struct DmaAccess {
    control: u32,
    length: u32,
    address: u64,
}

impl FwCfg {
    /// Check the signature and the DMA feature bit.
    pub fn probe() -> Result<Self, FwCfgError> {
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
        Ok(Self(()))
    }

    /// Select item `select` and read `buf.len()` bytes of it, starting
    /// `skip` bytes in.
    pub fn read(&mut self, select: u16, skip: u32, buf: &mut [u8]) -> Result<(), FwCfgError> {
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

    /// Find `name` in the file directory.
    pub fn find(&mut self, name: &[u8]) -> Result<Option<FwFile>, FwCfgError> {
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

/// PIT channel 2 as a one-shot timer (mode 0): a fixed-rate clock that needs
/// no calibration, unlike the TSC. Only the stub uses it, before the kernel
/// (which programs the PIT itself) is entered.
pub struct OneShot;

impl OneShot {
    /// (Re)start the count-down: the output goes low now and high once
    /// `ticks` periods of [`PIT_HZ`] have passed (at most 0xFFFF: 54.9 ms).
    pub fn start(ticks: u16) {
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

    /// Whether the count-down started last has run out (channel 2's output
    /// is high).
    pub fn expired() -> bool {
        // SAFETY: reading port B has no side effect.
        unsafe { inb(PORT_B) & 0x20 != 0 }
    }

    /// Gate channel 2 off again (speaker off).
    pub fn stop() {
        // SAFETY: reading port B has no side effect.
        let port_b = unsafe { inb(PORT_B) };
        // SAFETY: port B: gate and speaker bits cleared, the rest as read.
        unsafe { outb(PORT_B, port_b & !0x03) };
    }
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
