//! The `rvf-boot:` lines both loaders print, formatted in one place so that a
//! log reads the same whichever shell booted (the tests grep for them).
//! Each is a `Display` value without the final newline; the shell writes it
//! to its console (the stub's serial port, the UEFI `ConOut`).

use core::fmt;

use rvf_boot::Container;
use rvf_boot::boot::{BootImage, Handover, Prepared};
use rvf_boot::kernel::KernelSegment;
use rvf_boot::policy::Authenticated;

/// `rvf-boot: <dialect> RVF, kernel at byte N (<layout> layout, <format>, S
/// bytes)`: which kernel the container handed out.
pub struct KernelLine<'a, 'f> {
    /// The verified container.
    pub container: &'a Container<'f>,
    /// Its selected kernel.
    pub kernel: &'a KernelSegment<'f>,
}

impl fmt::Display for KernelLine<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let k = self.kernel;
        write!(
            f,
            "rvf-boot: {} RVF, kernel at byte {} ({} layout, {}, {} bytes)",
            self.container.dialect().name(),
            k.segment_offset(),
            k.layout().name(),
            k.format().name(),
            k.image_size()
        )
    }
}

/// `rvf-boot: authenticated: [signed by <fingerprint> (trusted key #i),
/// epoch e;] [kernel sha256 pinned;] [cmdline sha256 pinned;]`: what a
/// strict policy ([`crate::is_strict`]) authenticated, as the library's boot
/// core found it ([`rvf_boot::boot::Prepared::authenticated`]).
pub struct AuthenticatedLine(pub Authenticated);

impl From<Authenticated> for AuthenticatedLine {
    fn from(a: Authenticated) -> Self {
        Self(a)
    }
}

impl fmt::Display for AuthenticatedLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("rvf-boot: authenticated:")?;
        let a = &self.0;
        if let Some(s) = a.signed {
            f.write_str(" signed by ")?;
            for b in s.fingerprint {
                write!(f, "{b:02x}")?;
            }
            write!(f, " (trusted key #{}), epoch {};", s.key_index, s.epoch)?;
        }
        if a.kernel_sha256.is_some() {
            f.write_str(" kernel sha256 pinned;")?;
        }
        if a.cmdline_sha256.is_some() {
            f.write_str(" cmdline sha256 pinned;")?;
        }
        Ok(())
    }
}

/// `rvf-boot: verified <hash> image hash; protocol 0xNNNN|ELF vmlinux,
/// <hand-over>, cmdline "<line>"[, initramfs]`: what the boot core verified
/// and how it is handed over (`relocatable|fixed at 0xADDR (inflated in
/// place|copied)` for a bzImage, `N segments at A..B, entry E` for an ELF
/// vmlinux, `EFI stub` through the firmware).
pub struct VerifiedLine<'a, 'f, 'm>(pub &'a Prepared<'f, 'm>);

impl fmt::Display for VerifiedLine<'_, '_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.0;
        write!(
            f,
            "rvf-boot: verified {} image hash; ",
            p.image().image_hash().name()
        )?;
        match p.boot_image() {
            BootImage::BzImage(bz) => write!(f, "protocol {:#06x}, ", bz.version())?,
            _ => f.write_str("ELF vmlinux, ")?,
        }
        match p.handover() {
            Handover::ZeroPage { plan, in_place } => write!(
                f,
                "{} at {:#x} ({})",
                if plan.relocatable() {
                    "relocatable"
                } else {
                    "fixed"
                },
                plan.load_address(),
                if in_place {
                    "inflated in place"
                } else {
                    "copied"
                },
            )?,
            Handover::Elf { plan } => write!(
                f,
                "{} segments at {:#x}..{:#x}, entry {:#x}",
                plan.copies().len(),
                plan.window().base,
                plan.window().end().unwrap_or(u64::MAX),
                plan.entry_64()
            )?,
            Handover::EfiStub => f.write_str("EFI stub")?,
            _ => f.write_str("no hand-over")?,
        }
        let line = core::str::from_utf8(p.cmdline()).unwrap_or("?");
        write!(f, ", cmdline \"{line}\"")?;
        if p.initrd().is_some() {
            f.write_str(", initramfs")?;
        }
        Ok(())
    }
}
