//! The boot core (`rvf_boot::boot::prepare`) against the library's steps
//! called one by one, on every golden file and damaged copies: the same
//! verified image, command line, events, or the same `Error`; and a placing
//! machine end to end over real memory (an anonymous mapping at the fixed
//! low address the test kernels load at), down to the zero page's bytes.

use rvf_boot::boot::{
    self, BootImage, Handover, Initrd, InitrdSlot, Machine, Phase, Platform, Request, Reservations,
};
use rvf_boot::bzimage::BzImage;
use rvf_boot::gzip::InflateState;
use rvf_boot::joined::Sequential;
use rvf_boot::measure::{self, BootInputs, MeasureError};
use rvf_boot::memory::{E820Type, MemoryRegion, PhysRange};
use rvf_boot::{Container, Error, Policy, cmdline, image};

/// What either path gives: image SHA-256, final command line, PCR 8 and 9.
type Facts = (Vec<u8>, [u8; 32], Vec<u8>, [u8; 32], [u8; 32]);

#[derive(Debug, PartialEq)]
enum Failed {
    Lib(Error),
    Measure(MeasureError),
}

impl From<Error> for Failed {
    fn from(e: Error) -> Self {
        Self::Lib(e)
    }
}

impl From<MeasureError> for Failed {
    fn from(e: MeasureError) -> Self {
        Self::Measure(e)
    }
}

/// The steps one by one, as the loaders made them before the core.
fn by_steps(file: &[u8], extra: &[u8], initrd: Option<&[u8]>) -> Result<Facts, Failed> {
    let c = Container::parse(file, Policy::default())?;
    let manifest = measure::manifest_digest(&c)?;
    let k = c.selected_kernel()?;
    let mut out = vec![0u8; usize::try_from(image::buffer_size(&k)).unwrap()];
    let img = image::extract(&k, &mut out, &mut InflateState::new())?;
    c.policy().check_kernel(&img)?;
    let bz = BzImage::parse(img.bytes())?;
    let mut buf = vec![0u8; cmdline::BUFFER_SIZE];
    let len = cmdline::write(&mut buf, k.cmdline(), extra, bz.cmdline_size())?;
    let line = &buf[..len];
    c.policy().check_cmdline(line)?;
    let log = measure::boot_events(&BootInputs {
        manifest,
        kernel_image: img.sha256(),
        initrd: initrd.filter(|i| !i.is_empty()).map(measure::sha256),
        cmdline: line,
    })?;
    Ok((
        img.bytes().to_vec(),
        img.sha256(),
        line.to_vec(),
        log.pcr(measure::PCR_STRINGS),
        log.pcr(measure::PCR_CONTENT),
    ))
}

/// A host platform: a Vec for the image, the initrd as given.
struct Host<'m> {
    out: Option<&'m mut Vec<u8>>,
    initrd: Option<&'m [u8]>,
    phases: Vec<&'static str>,
}

impl<'m> Platform<'m> for Host<'m> {
    type Error = Failed;

    fn image_buffer(&mut self, size: u64, at: Option<PhysRange>) -> Result<&'m mut [u8], Failed> {
        assert_eq!(at, None, "only a placing machine gets a placed buffer");
        let out = self.out.take().expect("one image buffer");
        out.resize(usize::try_from(size).unwrap(), 0);
        Ok(out)
    }

    fn initrd(&mut self, slot: &mut InitrdSlot<'_>) -> Result<Option<Initrd<'m>>, Failed> {
        assert_eq!(slot.place(4096).unwrap(), None, "nothing is placed here");
        Ok(self.initrd.map(Initrd::Bytes))
    }

    fn phase(&mut self, phase: Phase<'_, '_>) -> Result<(), Failed> {
        self.phases.push(match phase {
            Phase::Opened { .. } => "opened",
            Phase::Extracted { .. } => "extracted",
            _ => "other",
        });
        Ok(())
    }
}

fn by_core(
    file: &[u8],
    extra: &[u8],
    initrd: Option<&[u8]>,
    machine: Machine<'_, '_>,
) -> Result<Facts, Failed> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; cmdline::BUFFER_SIZE];
    let mut host = Host {
        out: Some(&mut out),
        initrd,
        phases: Vec::new(),
    };
    let request = Request {
        rvf: file,
        policy: Policy::default(),
        extra,
        cmdline: &mut buf,
        machine,
    };
    let p = boot::prepare(request, &mut host, &mut InflateState::new(), &Sequential);
    let p = match p {
        Ok(p) => p,
        Err(e) => {
            assert!(host.phases.len() <= 2);
            return Err(e);
        }
    };
    assert_eq!(host.phases, ["opened", "extracted"]);
    let log = p.events()?;
    assert_eq!(p.authenticated().signed, None);
    Ok((
        p.image().bytes().to_vec(),
        p.image().sha256(),
        p.cmdline().to_vec(),
        log.pcr(measure::PCR_STRINGS),
        log.pcr(measure::PCR_CONTENT),
    ))
}

/// The inputs that boot: the real bzImage, and its copies flipped past its
/// kernel (in segments a boot does not read: META, PROFILE, the bundle);
/// the synthetic kernels of the golden writers are refused by
/// `BzImage::parse`.
const BOOTS: &[&str] = &[
    "real-bzimage/testkernel.rvf",
    "real-bzimage/testkernel.rvf flipped at 1976",
    "real-bzimage/testkernel.rvf flipped at 2470",
    "real-bzimage/testkernel.rvf flipped at 2964",
    "real-bzimage/testkernel.rvf flipped at 3458",
];

/// Golden files and, for each, copies with one byte flipped across the file.
fn inputs() -> Vec<(String, Vec<u8>)> {
    let mut all = host_tests::golden_files();
    let real = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/golden/real-bzimage/testkernel.rvf"
    ))
    .unwrap();
    all.push(("real-bzimage/testkernel.rvf".into(), real));
    let mut damaged = Vec::new();
    for (name, bytes) in &all {
        for k in 1..8 {
            let at = bytes.len() * k / 8;
            let mut d = bytes.clone();
            d[at] ^= 0x40;
            damaged.push((format!("{name} flipped at {at}"), d));
        }
    }
    all.extend(damaged);
    all
}

#[test]
fn the_core_reports_what_the_steps_give_on_every_golden_and_damaged_file() {
    let mut booted = Vec::new();
    for (name, file) in inputs() {
        for (extra, initrd) in [
            (&b""[..], None),
            (&b"rvf.extra=1"[..], Some(&b"initrd"[..])),
        ] {
            let want = by_steps(&file, extra, initrd);
            let got = by_core(&file, extra, initrd, Machine::Report);
            assert_eq!(got, want, "{name}");
            if want.is_ok() {
                booted.push(name.clone());
            }
        }
    }
    booted.dedup();
    assert_eq!(booted, BOOTS, "{booted:#?}");
}

#[test]
fn an_efi_stub_machine_refuses_a_kernel_without_one() {
    let file = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/golden/real-bzimage/testkernel.rvf"
    ))
    .unwrap();
    let got = by_core(&file, b"", None, Machine::EfiStub);
    assert_eq!(
        got,
        Err(Failed::Lib(Error::NoEfiStub {
            problem: boot::EfiStubProblem::NoMz
        }))
    );
    assert_eq!(
        got.unwrap_err().to_string_lossy(),
        "the kernel has no EFI stub (no \"MZ\" at byte 0): rvf-boot.efi starts Linux only through its EFI stub"
    );
}

impl Failed {
    fn to_string_lossy(&self) -> String {
        match self {
            Self::Lib(e) => e.to_string(),
            Self::Measure(e) => e.to_string(),
        }
    }
}

/// Guest RAM for the placing machine: an anonymous mapping at a fixed low
/// address (the test kernels load at 16 MiB, and the zero page takes only
/// addresses below 4 GiB), unmapped on drop.
struct Ram {
    base: usize,
    len: usize,
    /// One mapping at the fixed address at a time (tests run in parallel).
    _one: std::sync::MutexGuard<'static, ()>,
}

static RAM_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

const RAM_BASE: usize = 0x0080_0000; // 8 MiB
const RAM_LEN: usize = 0x0400_0000; // 64 MiB

impl Ram {
    fn map() -> Self {
        const MAP_FIXED_NOREPLACE: i32 = 0x10_0000;
        let one = RAM_LOCK
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // SAFETY: a new anonymous private mapping at a fixed address that
        // must be free (MAP_FIXED_NOREPLACE fails rather than replace
        // anything); nothing else refers to it.
        let p = unsafe {
            libc_mmap(
                RAM_BASE as *mut u8,
                RAM_LEN,
                3,                          // PROT_READ | PROT_WRITE
                0x22 | MAP_FIXED_NOREPLACE, // MAP_PRIVATE | MAP_ANONYMOUS
                -1,
                0,
            )
        };
        assert_eq!(
            p as usize, RAM_BASE,
            "could not map the test's RAM at 8 MiB"
        );
        Self {
            base: RAM_BASE,
            len: RAM_LEN,
            _one: one,
        }
    }

    /// `range` (inside the mapping) as a slice.
    ///
    /// # Safety
    /// No other live slice may overlap `range`.
    unsafe fn slice(&self, range: PhysRange) -> &'static mut [u8] {
        let start = usize::try_from(range.base).unwrap();
        let len = usize::try_from(range.size).unwrap();
        assert!(start >= self.base && start + len <= self.base + self.len);
        // SAFETY: inside the mapping, exclusive by the caller's contract.
        unsafe { std::slice::from_raw_parts_mut(start as *mut u8, len) }
    }
}

impl Drop for Ram {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `map`; no slice over it
        // outlives the test that owns `self`.
        unsafe { libc_munmap(self.base as *mut u8, self.len) };
    }
}

unsafe extern "C" {
    #[link_name = "mmap"]
    fn libc_mmap(addr: *mut u8, len: usize, prot: i32, flags: i32, fd: i32, off: i64) -> *mut u8;
    #[link_name = "munmap"]
    fn libc_munmap(addr: *mut u8, len: usize) -> i32;
}

/// What a placing loader holds before the core runs: its own pages (the
/// command line and the zero page, at the top of the RAM), reserved.
struct Loader {
    own: PhysRange,
    reserved: Reservations,
    cmdline_buf: &'static mut [u8],
    zero_page: &'static mut [u8; 4096],
}

impl Ram {
    /// The firmware's map: the mapping is all the RAM there is.
    fn memory_map(&self) -> [MemoryRegion; 1] {
        [MemoryRegion {
            base: self.base as u64,
            size: self.len as u64,
            kind: E820Type::Ram,
        }]
    }

    /// The loader's own pages at the top of the RAM, reserved.
    fn loader(&self) -> Loader {
        let own = PhysRange {
            base: (self.base + self.len - 0x3000) as u64,
            size: 0x3000,
        };
        let mut reserved = Reservations::new();
        reserved.add(own).unwrap();
        // SAFETY: reserved above: the core places nothing there.
        let own_bytes = unsafe { self.slice(own) };
        let (cmdline_buf, zero_page) = own_bytes.split_at_mut(0x2000);
        let zero_page: &mut [u8; 4096] = (&mut zero_page[..4096]).try_into().unwrap();
        Loader {
            own,
            reserved,
            cmdline_buf,
            zero_page,
        }
    }
}

/// The stub as a test: RAM slices over what the core placed, an initrd
/// copied where the slot put it.
struct Placing<'r> {
    ram: &'r Ram,
    initrd: &'r [u8],
    placed: Vec<PhysRange>,
}

impl Platform<'static> for Placing<'_> {
    type Error = Failed;

    fn image_buffer(
        &mut self,
        size: u64,
        at: Option<PhysRange>,
    ) -> Result<&'static mut [u8], Failed> {
        let at = at.expect("a placing machine's buffer is placed by the core");
        assert_eq!(at.size, size);
        self.placed.push(at);
        // SAFETY: reserved by the core: no other slice overlaps it.
        Ok(unsafe { self.ram.slice(at) })
    }

    fn initrd(&mut self, slot: &mut InitrdSlot<'_>) -> Result<Option<Initrd<'static>>, Failed> {
        let at = slot.place(self.initrd.len() as u64)?.expect("placed");
        self.placed.push(at);
        // SAFETY: reserved by the core: no other slice overlaps it.
        let dst = unsafe { self.ram.slice(at) };
        dst.copy_from_slice(self.initrd);
        Ok(Some(Initrd::Bytes(dst)))
    }
}

#[test]
fn a_placing_machine_places_inflates_in_place_and_builds_the_zero_page() {
    // 'static, as a loader's RVF in RAM is.
    let file: &'static [u8] = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/golden/real-bzimage/testkernel.rvf"
    ))
    .unwrap()
    .leak();
    let ram = Ram::map();
    let memory = ram.memory_map();
    let Loader {
        own,
        mut reserved,
        cmdline_buf,
        zero_page,
    } = ram.loader();
    let cmdline_addr = cmdline_buf.as_ptr() as u64;
    let initrd = b"an initramfs of 32 bytes, exactly";
    let mut platform = Placing {
        ram: &ram,
        initrd: &initrd[..32],
        placed: Vec::new(),
    };
    let request = Request {
        rvf: file,
        policy: Policy::default(),
        extra: b"rvf.extra=1",
        cmdline: cmdline_buf,
        machine: Machine::Placing {
            memory: &memory,
            reserved: &mut reserved,
            acpi_rsdp: Some(0xF_0000),
            zero_page,
        },
    };
    let p = boot::prepare(
        request,
        &mut platform,
        &mut InflateState::new(),
        &Sequential,
    )
    .expect("the test kernel boots");
    let Handover::ZeroPage { plan, in_place } = p.handover() else {
        panic!("a zero-page hand-over");
    };
    // The non-relocatable kernel at its pref_address, 16 MiB; the image
    // buffer was placed by the hint so its protected-mode part is there.
    assert_eq!(plan.load_address(), 0x100_0000);
    assert!(in_place);
    let BootImage::BzImage(bz) = p.boot_image() else {
        panic!("a bzImage");
    };
    let setup = bz.setup_size();
    assert_eq!(platform.placed[0].base, 0x100_0000 - setup);
    assert_eq!(plan.protected_mode().as_ptr() as u64, 0x100_0000);
    // The initramfs top-down, page-aligned, in the mapping, below the
    // loader's own pages.
    let rd = platform.placed[1];
    assert_eq!(rd.base, own.base - 0x1000);
    assert_eq!(rd.size, 32);
    // Reserved: the loader's pages, the image buffer, the kernel window, the initrd.
    assert_eq!(reserved.as_slice().len(), 4);
    assert_eq!(reserved.as_slice()[3], rd);
    // The zero page, byte-exact where the core wrote the hand-over.
    // SAFETY: the core's borrow ended with `prepare`.
    let zp = unsafe {
        ram.slice(PhysRange {
            base: own.base + 0x2000,
            size: 4096,
        })
    };
    let le32 = |at: usize| u32::from_le_bytes(zp[at..at + 4].try_into().unwrap());
    assert_eq!(u16::from_le_bytes([zp[0x1FE], zp[0x1FF]]), 0xAA55);
    assert_eq!(zp[0x210], 0xFF, "type_of_loader");
    assert_eq!(u64::from(le32(0x228)), cmdline_addr, "cmd_line_ptr");
    assert_eq!(u64::from(le32(0x218)), rd.base, "ramdisk_image");
    assert_eq!(le32(0x21C), 32, "ramdisk_size");
    assert_eq!(
        u64::from_le_bytes(zp[0x70..0x78].try_into().unwrap()),
        0xF_0000,
        "acpi_rsdp_addr"
    );
    assert_eq!(zp[0x1E8], 1, "e820_entries");
    // The final command line, NUL-terminated in the loader's buffer.
    let line = p.cmdline();
    assert!(line.ends_with(b" rvf.extra=1"));
    // SAFETY: as above.
    let cmd = unsafe {
        ram.slice(PhysRange {
            base: cmdline_addr,
            size: line.len() as u64 + 1,
        })
    };
    assert_eq!(&cmd[..line.len()], line);
    assert_eq!(cmd[line.len()], 0);
    // The same facts as the report machine, with this initrd.
    let report = by_core(file, b"rvf.extra=1", Some(&initrd[..32]), Machine::Report).unwrap();
    let log = p.events().unwrap();
    assert_eq!(p.image().sha256(), report.1);
    assert_eq!(log.pcr(measure::PCR_STRINGS), report.3);
    assert_eq!(log.pcr(measure::PCR_CONTENT), report.4);
}

/// An engine that counts its steps (the inflate of the image proper).
struct Counting {
    inner: InflateState,
    steps: u64,
}

impl rvf_boot::gzip::Inflater for Counting {
    fn reset(&mut self) {
        self.inner.reset();
    }

    fn step(
        &mut self,
        input: &[u8],
        out: &mut [u8],
        out_pos: usize,
        room: usize,
    ) -> rvf_boot::gzip::Step {
        self.steps += 1;
        self.inner.step(input, out, out_pos, room)
    }

    fn crc32(&self) -> rvf_boot::gzip::Crc32Fn {
        self.inner.crc32()
    }

    fn reaches_back(&self) -> Option<usize> {
        self.inner.reaches_back()
    }
}

/// A platform that must never be asked for memory.
struct NoMemory;

impl<'m> Platform<'m> for NoMemory {
    type Error = Failed;

    fn image_buffer(&mut self, size: u64, _: Option<PhysRange>) -> Result<&'m mut [u8], Failed> {
        panic!("asked for a {size}-byte image buffer");
    }

    fn initrd(&mut self, _: &mut InitrdSlot<'_>) -> Result<Option<Initrd<'m>>, Failed> {
        panic!("asked for an initrd");
    }
}

fn hostile(image: &[u8]) -> Vec<u8> {
    let pkg = rvf_testkit::ruvbot::Package::golden(false);
    rvf_testkit::ruvbot::write(&rvf_testkit::ruvbot::Inputs::new(image, &pkg))
}

/// Issue 21's hostile file: a small RVF whose kernel inflates to a large
/// image that is no bzImage. The core refuses it on its first 4 KiB: no
/// image buffer, no step of the engine, the error the verified image would
/// get; and a damaged payload is still refused for its content hash.
#[test]
fn a_large_image_that_is_no_bzimage_is_refused_on_its_first_4_kib() {
    let image = vec![0u8; 16 << 20];
    let file = hostile(&image);
    assert!(
        file.len() < 64 << 10,
        "16 MiB of zeros stores small: {}",
        file.len()
    );
    let mut engine = Counting {
        inner: InflateState::new(),
        steps: 0,
    };
    let mut buf = vec![0u8; cmdline::BUFFER_SIZE];
    let request = Request {
        rvf: &file,
        policy: Policy::default(),
        extra: b"",
        cmdline: &mut buf,
        machine: Machine::Report,
    };
    let got = boot::prepare(request, &mut NoMemory, &mut engine, &Sequential).map(|_| ());
    let boot_flag = rvf_boot::bzimage::BzCheck::BootFlag;
    assert_eq!(
        got,
        Err(Failed::Lib(Error::BzImage {
            check: boot_flag,
            value: 0
        }))
    );
    assert_eq!(engine.steps, 0);
    // The steps one by one inflate everything first, then refuse the same.
    assert_eq!(by_steps(&file, b"", None), got.map(|_| unreachable!()));

    // The same file with its stored payload damaged (past the gzip
    // header): the content hash, as extraction reports it.
    let c = Container::parse(&file, Policy::default()).unwrap();
    let k = c.selected_kernel().unwrap();
    let at = usize::try_from(k.segment_offset()).unwrap() + 64 + 80 + 20;
    let mut damaged = file.clone();
    damaged[at] ^= 0x01;
    let mut buf = vec![0u8; cmdline::BUFFER_SIZE];
    let request = Request {
        rvf: &damaged,
        policy: Policy::default(),
        extra: b"",
        cmdline: &mut buf,
        machine: Machine::Report,
    };
    let got = boot::prepare(request, &mut NoMemory, &mut engine, &Sequential).map(|_| ());
    assert!(
        matches!(got, Err(Failed::Lib(Error::ContentHashMismatch { .. }))),
        "{got:?}"
    );
    assert_eq!(engine.steps, 0);
}

/// The one-module format (`boot::module`): the RVF's extent, zero fill to
/// the next 4 KiB boundary, the initramfs; anything else is the whole
/// module as the RVF.
#[test]
fn one_module_splits_exactly_at_the_format_and_nowhere_else() {
    use rvf_boot::boot::module::split;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/golden/");
    for name in [
        "ruvbot/small.rvf",
        "runtime-05/signed.rvf",
        "runtime-03/embed-kernel.rvf",
    ] {
        let rvf = std::fs::read(format!("{dir}{name}")).unwrap();
        let at = rvf.len().next_multiple_of(4096);
        let initrd = b"070701 an initramfs, any bytes".repeat(100);
        let mut module = rvf.clone();
        module.resize(at, 0);
        module.extend_from_slice(&initrd);
        let one = split(&module);
        // The RVF's extent: the file, and the zero fill the walk takes up to
        // its next 64-byte boundary.
        assert_eq!(
            one.rvf.len(),
            rvf.len().next_multiple_of(64).min(at),
            "{name}"
        );
        assert!(one.rvf[..rvf.len()] == rvf[..], "{name}");
        assert!(one.initrd == Some(&initrd[..]), "{name}");
        assert_eq!(one.initrd_at, at as u64, "{name}");
        // Alone, or with only fill after it: the whole module is the RVF.
        assert_eq!(split(&rvf).initrd, None, "{name}");
        assert_eq!(split(&module[..at]).rvf.len(), at, "{name}");
        assert_eq!(split(&module[..at]).initrd, None, "{name}");
        // A byte of fill that is not zero: no split.
        if at > rvf.len() {
            let mut dirty = module.clone();
            dirty[at - 1] = 1;
            assert_eq!(split(&dirty).initrd, None, "{name}");
            assert_eq!(split(&dirty).rvf.len(), dirty.len(), "{name}");
        }
        // What follows looks like a segment header: no split.
        let mut seg = module.clone();
        seg[at..at + 4].copy_from_slice(&rvf[..4]);
        assert_eq!(split(&seg).initrd, None, "{name}");
    }
}

/// An ELF vmlinux through the same core: its segments placed at their
/// physical addresses (checked against the map and the reservations), the
/// span reserved, the zero page for the 64-bit entry; refused with one line
/// by an EFI-stub machine.
#[test]
fn an_elf_vmlinux_goes_through_the_same_core() {
    use rvf_testkit::elf::ElfBuilder;
    const MIB: u64 = 0x10_0000;
    let text: Vec<u8> = (0..0x3000u32).map(|i| (i % 251) as u8).collect();
    let data = vec![7u8; 0x800];
    let raw = ElfBuilder::new(0x100_0000 + 0x40)
        .load(16 * MIB, &text, 0x3000)
        .load(18 * MIB, &data, 0x2000)
        .build();
    let file: &'static [u8] = hostile(&raw).leak();
    let ram = Ram::map();
    let memory = ram.memory_map();
    let Loader {
        own,
        mut reserved,
        cmdline_buf,
        zero_page,
    } = ram.loader();
    let mut platform = Placing {
        ram: &ram,
        initrd: b"initramfs",
        placed: Vec::new(),
    };
    let request = Request {
        rvf: file,
        policy: Policy::default(),
        extra: b"",
        cmdline: cmdline_buf,
        machine: Machine::Placing {
            memory: &memory,
            reserved: &mut reserved,
            acpi_rsdp: None,
            zero_page,
        },
    };
    let p = boot::prepare(
        request,
        &mut platform,
        &mut InflateState::new(),
        &Sequential,
    )
    .expect("the vmlinux boots");
    assert_eq!(p.boot_image().format().name(), "elf");
    let Handover::Elf { plan } = p.handover() else {
        panic!("an ELF hand-over");
    };
    assert_eq!(plan.entry_64(), 0x100_0040);
    let targets: Vec<_> = plan.copies().iter().map(|c| c.target()).collect();
    assert_eq!(
        targets,
        [
            PhysRange {
                base: 16 * MIB,
                size: 0x3000
            },
            PhysRange {
                base: 18 * MIB,
                size: 0x2000
            }
        ]
    );
    assert_eq!(plan.source(&plan.copies()[1]), &data[..]);
    assert_eq!(plan.copies()[1].zero, 0x1800);
    // Reserved: the loader's pages, the image buffer, the span, the initrd.
    let r = reserved.as_slice();
    assert_eq!(r.len(), 4);
    assert_eq!(
        r[2],
        PhysRange {
            base: 16 * MIB,
            size: 2 * MIB + 0x2000
        }
    );
    assert_eq!(r[3], platform.placed[1]);
    // The image buffer went top-down (no bzImage hint), clear of the span.
    assert!(platform.placed[0].base > 18 * MIB + 0x2000);
    // SAFETY: the core's borrow ended with `prepare`.
    let zp = unsafe {
        ram.slice(PhysRange {
            base: own.base + 0x2000,
            size: 4096,
        })
    };
    assert_eq!(u16::from_le_bytes([zp[0x1FE], zp[0x1FF]]), 0xAA55);
    assert_eq!(&zp[0x202..0x206], b"HdrS");
    assert_eq!(
        u64::from(u32::from_le_bytes(zp[0x218..0x21C].try_into().unwrap())),
        platform.placed[1].base
    );
    // An EFI-stub machine refuses it with one line.
    let got = by_core(file, b"", None, Machine::EfiStub).unwrap_err();
    assert_eq!(
        got.to_string_lossy(),
        "the kernel has no EFI stub (it is an ELF vmlinux, boot it through the PVH stub): \
         rvf-boot.efi starts Linux only through its EFI stub"
    );
    // A report gives the same facts as the steps, but for the bzImage
    // parser, which refuses a vmlinux.
    assert!(matches!(
        by_steps(file, b"", None),
        Err(Failed::Lib(Error::BzImage { .. }))
    ));
    assert_eq!(
        by_core(file, b"", None, Machine::Report).unwrap().1,
        p.image().sha256()
    );
}
