//! The boot core: the one firmware-neutral sequence every loader runs.
//!
//! [`prepare`] takes the RVF bytes, the policy, the loader's extra
//! arguments and what the machine is ([`Machine`]), and returns everything a
//! loader shell needs to hand over ([`Prepared`]: the verified image, the
//! final command line, the load plan and zero page, what was authenticated,
//! the measured-boot events) or one error. The shell keeps only what is
//! really its own, through [`Platform`]: memory it owns (the image buffer),
//! the initramfs it loads, the clock and log lines at each [`Phase`]; then
//! copying and the jump.
//!
//! The sequence, in this order (each step a library call, each refusal the
//! library's [`Error`]):
//!
//! 1. [`Container::parse`] under the policy (signature, directory, segments);
//!    [`measure::manifest_digest`]; the selected kernel, whose content hash
//!    is checked beside the inflate ([`Container::selected_kernel_deferred`]);
//! 2. refuse early: the kernel's header checks on the image's first 4 KiB,
//!    inflated but not verified yet ([`BzImage::check_head`],
//!    [`elf::check_head`] for an ELF vmlinux): a
//!    refusal costs 4 KiB of inflate and the stored payload's content hash
//!    (so a damaged payload is still refused for its hash), not the whole
//!    image; an acceptance still waits for every hash and the full check of
//!    step 5;
//! 3. the image buffer: [`image::buffer_size`] bytes, placed by the core on a
//!    [`Machine::Placing`] machine (`place`), else the platform's;
//! 4. [`image::extract_joined`]: every hash, CRC-32 and size checked, on two
//!    CPUs when the platform's [`Join`] has a second one ([`crate::joined::Sequential`]
//!    is the one-CPU case of the same call); then the policy's kernel pin;
//! 5. the kernel's format and headers ([`parse_kernel`]: [`BzImage::parse`],
//!    or [`Vmlinux::parse`] for an ELF vmlinux); on a placing machine the
//!    kernel window ([`crate::plan::BootPlan`]) or the ELF segments' places
//!    ([`elf::plan`]); on an EFI-stub machine the stub's PE header
//!    (`efi_stub::check`; an ELF vmlinux has none and is refused);
//! 6. the initramfs (the platform's, placed by the core on a placing machine);
//! 7. [`cmdline::write`] and the policy's command-line pin on exactly the line
//!    the kernel gets;
//! 8. on a placing machine, the zero page ([`zero_page::build`], or
//!    [`zero_page::build_for_elf`]).
//!
//! Both kernel formats are handed over through the 64-bit boot protocol
//! (RSI = the zero page): a bzImage at its load address + 0x200, an ELF
//! vmlinux at `e_entry` once its `PT_LOAD`s are copied ([`Handover`]).
//!
//! The measured-boot events ([`Prepared::events`]) are built on demand, so a
//! shell without a TPM never hashes the initramfs.
//!
//! Work and memory: those of the steps (each bounded by the input, as their
//! own documentation states); the core itself keeps a fixed
//! [`Reservations`] table ([`MAX_RESERVATIONS`] ranges) and nothing else.

mod efi_stub;
pub mod module;

pub use efi_stub::EfiStubProblem;
mod place;

pub use place::{MAX_RESERVATIONS, Reservations};

use crate::bzimage::BzImage;
use crate::cmdline;
use crate::container::Container;
use crate::elf::{self, ElfPlan, KernelFormat, Vmlinux};
use crate::error::{Error, Result};
use crate::gzip::Inflater;
use crate::image::{self, VerifiedImage};
use crate::joined::Join;
use crate::kernel::KernelSegment;
use crate::measure::{self, BootInputs, Digest, EventLog, MeasureError};
use crate::memory::{FOUR_GIB, MemoryRegion, PhysRange};
use crate::plan::BootPlan;
use crate::policy::Authenticated;
use crate::policy::Policy;
use crate::zero_page::{self, Handoff, ZERO_PAGE_SIZE};

use place::address_of;

/// What the machine is: how the kernel is handed over.
#[derive(Debug)]
#[non_exhaustive]
pub enum Machine<'a, 'm> {
    /// The loader places the kernel itself and enters it through the 64-bit
    /// boot protocol (the PVH stub). The core places the image buffer, the
    /// kernel window and the initramfs in `memory` around `reserved` (which
    /// holds what the loader took before: itself, the RVF, ...) and builds
    /// the zero page in `zero_page`. The loader's memory is identity-mapped:
    /// a slice's address is its physical address (the command-line buffer's
    /// and the initramfs's addresses go into the zero page as such).
    Placing {
        /// The firmware memory map.
        memory: &'a [MemoryRegion],
        /// What is taken already; the core adds what it places.
        reserved: &'a mut Reservations,
        /// The ACPI RSDP, when the firmware gave one.
        acpi_rsdp: Option<u64>,
        /// The zero page handed to the kernel in RSI.
        zero_page: &'m mut [u8; ZERO_PAGE_SIZE],
    },
    /// The firmware starts the kernel through its EFI stub (`rvf-boot.efi`:
    /// `LoadImage` of the verified image, the command line as load options):
    /// the core checks that the stub is there.
    EfiStub,
    /// Nothing is handed over: the boot's facts only (`rvf-boot inspect`,
    /// `rvf-boot measure`).
    Report,
}

/// One boot's inputs.
#[derive(Debug)]
pub struct Request<'f, 'a, 'm> {
    /// The RVF file.
    pub rvf: &'f [u8],
    /// The policy it boots under.
    pub policy: Policy,
    /// The loader's extra kernel arguments (appended after a space).
    pub extra: &'a [u8],
    /// Where the final command line is written, NUL-terminated
    /// ([`cmdline::BUFFER_SIZE`] bytes hold every line the library accepts).
    pub cmdline: &'m mut [u8],
    /// The machine.
    pub machine: Machine<'a, 'm>,
}

/// The initramfs a platform hands the core.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Initrd<'m> {
    /// Its bytes, where the kernel will find them (measured when
    /// [`Prepared::events`] is asked for).
    Bytes(&'m [u8]),
    /// Only its SHA-256 (a report that hashed it as it streamed); never
    /// handed over, so not for a [`Machine::Placing`] machine.
    Digest(Digest),
}

/// Where a platform's initramfs may go ([`Platform::initrd`]).
#[derive(Debug)]
pub struct InitrdSlot<'s> {
    placer: Option<(u64, &'s [MemoryRegion], &'s mut Reservations)>,
}

impl InitrdSlot<'_> {
    /// A slot that places nothing (a machine whose platform owns the
    /// initramfs's memory).
    const fn none() -> Self {
        Self { placer: None }
    }

    /// On a [`Machine::Placing`] machine, one past the highest address the
    /// initramfs may occupy (the kernel's `initrd_addr_max` + 1, at most
    /// 4 GiB): a platform whose initramfs already lies in RAM (one module
    /// with the RVF) hands it over in place when it ends at or below this,
    /// else places a copy ([`InitrdSlot::place`]). `None` on other machines.
    #[must_use]
    pub fn limit(&self) -> Option<u64> {
        self.placer.as_ref().map(|&(limit, ..)| limit)
    }

    /// On a [`Machine::Placing`] machine, places and reserves `size` bytes
    /// for the initramfs (top-down, below the kernel's `initrd_addr_max` and
    /// 4 GiB, clear of everything reserved) and returns where; `None` on
    /// other machines, whose platform owns the initramfs's memory.
    ///
    /// # Errors
    /// [`Error::NoRoom`], [`Error::TooManyReservations`].
    pub fn place(&mut self, size: u64) -> Result<Option<PhysRange>> {
        match &mut self.placer {
            Some((limit, memory, reserved)) => {
                place::initrd(*limit, memory, reserved, size).map(Some)
            }
            None => Ok(None),
        }
    }
}

/// Where the boot is, for a platform's clock and log ([`Platform::phase`]).
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Phase<'p, 'f> {
    /// The container passed and its kernel was selected; the image is next.
    Opened {
        /// The container.
        container: &'p Container<'f>,
        /// Its selected kernel.
        kernel: &'p KernelSegment<'f>,
    },
    /// The image is verified (the policy's kernel pin comes next); a second
    /// CPU that hashed may be stopped now.
    Extracted {
        /// The container.
        container: &'p Container<'f>,
        /// Its selected kernel.
        kernel: &'p KernelSegment<'f>,
    },
}

/// What the core asks of the loader shell.
pub trait Platform<'m> {
    /// The shell's failure type: every library error converts into it.
    type Error: From<Error> + From<MeasureError>;

    /// Writable memory of at least `size` bytes for the inflated image.
    /// `at` is the range the core placed and reserved for it on a
    /// [`Machine::Placing`] machine (the slice must be exactly that RAM);
    /// `None` elsewhere (the platform allocates it).
    ///
    /// # Errors
    /// The platform's (out of memory, ...).
    fn image_buffer(
        &mut self,
        size: u64,
        at: Option<PhysRange>,
    ) -> core::result::Result<&'m mut [u8], Self::Error>;

    /// The initramfs, if any, loaded where the kernel can use it: on a
    /// placing machine, where [`InitrdSlot::place`] put it or anywhere else
    /// the platform reserved. An empty one counts as none.
    ///
    /// # Errors
    /// The platform's, or the slot's.
    fn initrd(
        &mut self,
        slot: &mut InitrdSlot<'_>,
    ) -> core::result::Result<Option<Initrd<'m>>, Self::Error>;

    /// Told at each [`Phase`]; the default does nothing.
    ///
    /// # Errors
    /// The platform's (a second CPU that did not stop, ...).
    fn phase(&mut self, phase: Phase<'_, '_>) -> core::result::Result<(), Self::Error> {
        let _ = phase;
        Ok(())
    }
}

/// How the kernel is handed over.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
// No heap to box the ELF plan in; a loader holds one of these at a time.
#[allow(clippy::large_enum_variant)]
pub enum Handover<'m> {
    /// 64-bit boot protocol: the protected-mode part goes to the plan's load
    /// address (already there when `in_place`), RSI = the zero page, jump to
    /// [`BootPlan::entry_64`].
    ZeroPage {
        /// Where the kernel goes.
        plan: BootPlan<'m>,
        /// The protected-mode part already lies at the load address.
        in_place: bool,
    },
    /// 64-bit boot protocol for an ELF vmlinux: each of the plan's
    /// [`ElfPlan::copies`] copied to its physical address and its tail
    /// zeroed, RSI = the zero page, jump to [`ElfPlan::entry_64`].
    Elf {
        /// Where the kernel's segments go.
        plan: ElfPlan<'m>,
    },
    /// The firmware loads the verified image and starts its EFI stub.
    EfiStub,
    /// Nothing (a report).
    None,
}

/// The verified image as a kernel: which boot format, with its checked
/// headers.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
// No heap to box the vmlinux's load table in; one per boot.
#[allow(clippy::large_enum_variant)]
pub enum BootImage<'m> {
    /// A bzImage (boot protocol 2.12 or later, the 64-bit entry).
    BzImage(BzImage<'m>),
    /// An ELF64 vmlinux ([`crate::elf`]).
    Elf(Vmlinux<'m>),
}

impl BootImage<'_> {
    /// `"bzimage"` or `"elf"` ([`KernelFormat::name`]).
    #[must_use]
    pub const fn format(&self) -> KernelFormat {
        match self {
            Self::BzImage(_) => KernelFormat::BzImage,
            Self::Elf(_) => KernelFormat::Elf,
        }
    }
}

/// The command-line limit given to an ELF vmlinux, which carries no
/// `cmdline_size`: x86 Linux's `COMMAND_LINE_SIZE` (2048) less its NUL.
pub const ELF_CMDLINE_SIZE: u64 = 2047;

/// Parses the verified image as the kernel format its first bytes name:
/// an ELF vmlinux ([`Vmlinux::parse`]), else a bzImage ([`BzImage::parse`],
/// whose error names what a bzImage would need).
///
/// # Errors
/// The format's header errors.
pub fn parse_kernel(image: &[u8]) -> Result<BootImage<'_>> {
    match KernelFormat::detect(image) {
        Some(KernelFormat::Elf) => Vmlinux::parse(image).map(BootImage::Elf),
        _ => BzImage::parse(image).map(BootImage::BzImage),
    }
}

/// Everything a shell needs to hand over, all verified.
#[derive(Debug)]
pub struct Prepared<'f, 'm> {
    container: Container<'f>,
    kernel: KernelSegment<'f>,
    image: VerifiedImage<'m>,
    boot_image: BootImage<'m>,
    manifest: Digest,
    authenticated: Authenticated,
    cmdline: &'m [u8],
    initrd: Option<Initrd<'m>>,
    handover: Handover<'m>,
}

impl<'f, 'm> Prepared<'f, 'm> {
    /// The verified container.
    #[must_use]
    pub const fn container(&self) -> &Container<'f> {
        &self.container
    }

    /// Its selected kernel.
    #[must_use]
    pub const fn kernel(&self) -> &KernelSegment<'f> {
        &self.kernel
    }

    /// The verified image.
    #[must_use]
    pub const fn image(&self) -> &VerifiedImage<'m> {
        &self.image
    }

    /// The verified image's boot format and headers.
    #[must_use]
    pub const fn boot_image(&self) -> &BootImage<'m> {
        &self.boot_image
    }

    /// The RVF's measurement ([`measure::manifest_digest`]).
    #[must_use]
    pub const fn manifest(&self) -> Digest {
        self.manifest
    }

    /// What the policy authenticated (the signature, the matched pins).
    #[must_use]
    pub const fn authenticated(&self) -> Authenticated {
        self.authenticated
    }

    /// The final command line, without its NUL (the request's buffer holds
    /// it NUL-terminated).
    #[must_use]
    pub const fn cmdline(&self) -> &'m [u8] {
        self.cmdline
    }

    /// The initramfs, when there is one.
    #[must_use]
    pub const fn initrd(&self) -> Option<Initrd<'m>> {
        self.initrd
    }

    /// How to hand over.
    #[must_use]
    pub const fn handover(&self) -> Handover<'m> {
        self.handover
    }

    /// The measured-boot events of this boot (hashing the initramfs's bytes
    /// now, when it came as bytes): what every loader extends and logs, and
    /// what `rvf-boot measure` predicts.
    ///
    /// # Errors
    /// [`MeasureError`] from [`measure::boot_events`].
    pub fn events(&self) -> core::result::Result<EventLog<'m>, MeasureError> {
        let initrd = self.initrd.map(|i| match i {
            Initrd::Bytes(b) => measure::sha256(b),
            Initrd::Digest(d) => d,
        });
        measure::boot_events(&BootInputs {
            manifest: self.manifest,
            kernel_image: self.image.sha256(),
            initrd,
            cmdline: self.cmdline,
        })
    }
}

/// Runs the boot sequence (see the module documentation) for `request`,
/// inflating with `engine` and hashing beside it through `join`.
///
/// # Errors
/// The first refusal, as the library's [`Error`] (or [`MeasureError`] for
/// the manifest's measurement), converted into the platform's error; or the
/// platform's own.
pub fn prepare<'f: 'm, 'm, P, E, J>(
    request: Request<'f, '_, 'm>,
    platform: &mut P,
    engine: &mut E,
    join: &J,
) -> core::result::Result<Prepared<'f, 'm>, P::Error>
where
    P: Platform<'m>,
    E: Inflater + ?Sized,
    J: Join + ?Sized,
{
    let Request {
        rvf,
        policy,
        extra,
        cmdline: cmdline_buf,
        mut machine,
    } = request;
    let container = Container::parse(rvf, policy)?;
    let manifest = measure::manifest_digest(&container)?;
    // The content hash is left to extract_joined, which computes it beside
    // the inflate and accepts the image only when it and every other check
    // passed.
    let kernel = container.selected_kernel_deferred()?;
    platform.phase(Phase::Opened {
        container: &container,
        kernel: &kernel,
    })?;

    // ---- refuse early: the header checks on the first 4 KiB (not
    // verified: a refusal only, never an acceptance). Those bytes come from
    // the stored payload, so the refusal stands only once that payload's
    // content hash holds (hashing the stored bytes, not inflating the
    // image); a damaged payload is refused for its hash, as extraction
    // would refuse it.
    let hint = match place::peek(&kernel) {
        Ok(hint) => hint,
        Err(refusal) => {
            container.selected_kernel()?;
            return Err(refusal.into());
        }
    };

    // ---- the image, verified
    let size = image::buffer_size(&kernel);
    let (out, buffer): (&'m mut [u8], _) = match (&mut machine, size) {
        (_, 0) => (&mut [], None),
        (
            Machine::Placing {
                memory, reserved, ..
            },
            _,
        ) => {
            let b = place::image_buffer(memory, reserved, hint, size)?;
            (platform.image_buffer(size, Some(b.range))?, Some(b))
        }
        _ => (platform.image_buffer(size, None)?, None),
    };
    let image = image::extract_joined(&kernel, out, engine, join)?;
    platform.phase(Phase::Extracted {
        container: &container,
        kernel: &kernel,
    })?;
    // The policy's kernel pin, on the verified bytes, before anything uses them.
    let kernel_sha256 = container.policy().check_kernel(&image)?;
    let boot_image = parse_kernel(image.bytes())?;

    // ---- where it goes, and the initramfs
    let (handover, initrd) = match (&mut machine, boot_image) {
        (
            Machine::Placing {
                memory, reserved, ..
            },
            _,
        ) => {
            let (handover, limit) = match boot_image {
                BootImage::BzImage(bz) => {
                    let plan = place::kernel(&bz, memory, reserved, buffer)?;
                    let in_place = address_of(plan.protected_mode()) == plan.load_address();
                    let limit = bz.initrd_addr_max().saturating_add(1).min(FOUR_GIB);
                    (Handover::ZeroPage { plan, in_place }, limit)
                }
                BootImage::Elf(vmlinux) => {
                    let plan = elf::plan(&vmlinux, memory, reserved.as_slice())?;
                    reserved.add(plan.window())?;
                    (Handover::Elf { plan }, FOUR_GIB)
                }
            };
            let mut slot = InitrdSlot {
                placer: Some((limit, *memory, &mut **reserved)),
            };
            (handover, initrd(platform, &mut slot)?)
        }
        (Machine::EfiStub, BootImage::Elf(_)) => {
            return Err(Error::NoEfiStub {
                problem: EfiStubProblem::ElfVmlinux,
            }
            .into());
        }
        (Machine::EfiStub, BootImage::BzImage(bz)) => {
            efi_stub::check(image.bytes(), bz.setup_size())?;
            (
                Handover::EfiStub,
                initrd(platform, &mut InitrdSlot::none())?,
            )
        }
        (Machine::Report, _) => (Handover::None, initrd(platform, &mut InitrdSlot::none())?),
    };
    let cmdline_size = match boot_image {
        BootImage::BzImage(bz) => bz.cmdline_size(),
        BootImage::Elf(_) => ELF_CMDLINE_SIZE,
    };

    // ---- the command line the kernel gets, and its pin
    let len = cmdline::write(cmdline_buf, kernel.cmdline(), extra, cmdline_size)?;
    let cmdline_phys = PhysRange {
        base: address_of(cmdline_buf),
        size: crate::bytes::u64_from(len).saturating_add(1),
    };
    let written: &'m [u8] = cmdline_buf;
    let line = written.get(..len).unwrap_or(&[]);
    let cmdline_sha256 = container.policy().check_cmdline(line)?;

    if let Machine::Placing {
        memory,
        acpi_rsdp,
        zero_page,
        ..
    } = machine
    {
        let initrd = match initrd {
            Some(Initrd::Bytes(b)) => Some(PhysRange {
                base: address_of(b),
                size: crate::bytes::u64_from(b.len()),
            }),
            _ => None,
        };
        let handoff = Handoff {
            cmdline: Some(cmdline_phys),
            initrd,
            memory_map: memory,
            acpi_rsdp,
        };
        match &handover {
            Handover::ZeroPage { plan, .. } => zero_page::build(zero_page, plan, &handoff)?,
            Handover::Elf { plan } => zero_page::build_for_elf(zero_page, plan, &handoff)?,
            _ => {}
        }
    }
    Ok(Prepared {
        authenticated: Authenticated {
            signed: container.signed(),
            kernel_sha256,
            cmdline_sha256,
        },
        container,
        kernel,
        image,
        boot_image,
        manifest,
        cmdline: line,
        initrd,
        handover,
    })
}

/// The platform's initramfs; an empty one is none (the library's rule).
fn initrd<'m, P: Platform<'m>>(
    platform: &mut P,
    slot: &mut InitrdSlot<'_>,
) -> core::result::Result<Option<Initrd<'m>>, P::Error> {
    Ok(platform
        .initrd(slot)?
        .filter(|i| !matches!(i, Initrd::Bytes(b) if b.is_empty())))
}
