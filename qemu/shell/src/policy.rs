//! The loaders' boot policy, fixed at build time (`build.rs` reads
//! `RVF_BOOT_TRUSTED_KEYS`, `RVF_BOOT_PIN_KERNEL_SHA256` and
//! `RVF_BOOT_PIN_CMDLINE_SHA256`; `qemu/boot.sh` and `qemu/boot-uefi.sh`
//! `--trusted-key` / `--expect-kernel-sha256` build such a loader). Checked
//! only by the library: `Container::parse` (signature), the container's
//! kernel (SHDG), `Policy::check_kernel` on the verified image right after
//! extraction and `Policy::check_cmdline` on the final command line; both
//! shells call them at the same points.

use rvf_boot::Policy;

mod generated {
    include!(concat!(env!("OUT_DIR"), "/policy.rs"));
}

/// The policy every boot of this loader runs under.
pub fn policy() -> Policy {
    let mut p = Policy::default();
    if !generated::TRUSTED_KEYS.is_empty() {
        p = p.requiring_signature(&generated::TRUSTED_KEYS);
    }
    if let Some(d) = generated::PIN_KERNEL_SHA256 {
        p = p.pinning_kernel_sha256(d);
    }
    if let Some(d) = generated::PIN_CMDLINE_SHA256 {
        p = p.pinning_cmdline_sha256(d);
    }
    p
}

/// Whether the policy asks for more than hashes (then the boot logs what it
/// authenticated).
pub fn is_strict() -> bool {
    !generated::TRUSTED_KEYS.is_empty()
        || generated::PIN_KERNEL_SHA256.is_some()
        || generated::PIN_CMDLINE_SHA256.is_some()
}
