#!/usr/bin/env bash
# Boot the Linux kernel inside an RVF file under QEMU (TCG) through the
# rvf-boot stub, streaming the serial console to stdout.
#
#   qemu/boot.sh [--machine pc|microvm] [--initrd FILE] [--one-module]
#                [--append "ARGS"] [--timeout SECONDS] [--tpm]
#                [--trusted-key HEX]... [--expect-kernel-sha256 HEX] FILE.rvf
#
# --machine: QEMU's `pc` (default; SeaBIOS) or `microvm` (its default
# firmware qboot; --firmware seabios for SeaBIOS's microvm build). On
# microvm under TCG (always, here) boot.sh appends tsc_early_khz=<the
# host's TSC rate in kHz> to the command line and says so: microvm has no
# port 0x61, and Linux's early TSC calibration under TCG is unreliable
# without it.
#
# --initrd FILE: the initramfs, through the fw_cfg file opt/rvf-boot/initrd;
# with --one-module (what Firecracker and Cloud Hypervisor need: one PVH
# module, no fw_cfg) packed into the RVF's own module instead, at the first
# 4 KiB boundary after the RVF, zero fill between (docs/microvm.md).
#
# --tpm: attach a fresh software TPM 2.0 (swtpm, tpm-tis) for this boot; the
# stub measures the boot into it (qemu/README.md, "Measured boot").
#
# --trusted-key (repeatable) and --expect-kernel-sha256 boot through a stub
# built with that policy (RVF_BOOT_TRUSTED_KEYS / RVF_BOOT_PIN_KERNEL_SHA256,
# qemu/shell/build.rs; its own target dir per policy, so the default stub is
# not rebuilt): it refuses an unsigned file, an untrusted signer, a tampered
# file or another kernel image with one error line and its code.
#
# Extra options (not part of the stable interface): --firmware qboot|seabios
# (microvm only; with SeaBIOS the RVF module goes through the fw_cfg file
# opt/rvf-boot/rvf, since SeaBIOS's ACPI tables land where QEMU loads
# -initrd), --memory MIB (default 256),
# --cpu MODEL (default: QEMU's), --smp N (default 2: the stub hashes on the
# second CPU while the boot CPU inflates, then resets it; Linux starts them
# all; with 1 the stub verifies on one CPU), and RVF_BOOT_QEMU_ARGS (appended
# to QEMU's argv). TCG runs each vCPU on its own host thread (thread=multi,
# QEMU's default for x86 guests on x86 hosts).
#
# Paths may contain any character: -kernel and -initrd get a comma-free
# symlink when the path has a comma (QEMU 7.2 takes those two verbatim, newer
# option parsers may not), -fw_cfg gets its commas doubled (QemuOpts syntax).
#
# Exit status:
#   0        QEMU ended normally (the guest powered off, or a kernel panicked
#            with panic=-1: check its output for success)
#   1..15    the stub refused to boot, with this code (table in
#            qemu/README.md): QEMU status (code << 1) | 1 = 3..31 and the stub
#            never printed "rvf-boot: entering kernel at"
#   32       the booted kernel wrote a status of 3..31 (or 1) to the stub's
#            isa-debug-exit port after the handoff line: the kernel's exit,
#            never reported as a stub refusal
#   >= 33    QEMU's own odd status, unchanged: the booted kernel wrote
#            isa-debug-exit itself (qemu/testkernel: 33 = OK, 35 = failure)
#   124      timeout
#   125      QEMU itself failed
#   2        usage or setup error
# The serial console is streamed to stdout and also kept in a temporary log
# to tell a refusal from the kernel's own exit.
set -uo pipefail

usage() {
    echo "usage: $0 [--machine pc|microvm] [--initrd FILE] [--one-module] [--append \"ARGS\"] [--timeout SECONDS] [--tpm] [--trusted-key HEX]... [--expect-kernel-sha256 HEX] FILE.rvf" >&2
    exit 2
}

trusted_keys=() pin_kernel=""
initrd="" append="" have_append=0 timeout_s=60 memory=256 cpu="" smp=2 rvf=""
machine=pc firmware="" one_module=0
while [ $# -gt 0 ]; do
    case "$1" in
        --initrd) [ $# -ge 2 ] || usage; initrd="$2"; shift 2 ;;
        --machine) [ $# -ge 2 ] || usage; machine="$2"; shift 2 ;;
        --firmware) [ $# -ge 2 ] || usage; firmware="$2"; shift 2 ;;
        --one-module) one_module=1; shift ;;
        --append) [ $# -ge 2 ] || usage; append="$2"; have_append=1; shift 2 ;;
        --timeout) [ $# -ge 2 ] || usage; timeout_s="$2"; shift 2 ;;
        --memory) [ $# -ge 2 ] || usage; memory="$2"; shift 2 ;;
        --cpu) [ $# -ge 2 ] || usage; cpu="$2"; shift 2 ;;
        --smp) [ $# -ge 2 ] || usage; smp="$2"; shift 2 ;;
        --tpm) tpm=1; shift ;;
        --trusted-key) [ $# -ge 2 ] || usage; trusted_keys+=("$2"); shift 2 ;;
        --expect-kernel-sha256) [ $# -ge 2 ] || usage; pin_kernel="$2"; shift 2 ;;
        -h|--help) usage ;;
        --) shift; [ $# -eq 1 ] || usage; rvf="$1"; shift ;;
        -*) echo "unknown option $1" >&2; usage ;;
        *) [ -z "$rvf" ] || usage; rvf="$1"; shift ;;
    esac
done
[ -n "$rvf" ] || usage
# shellcheck source=qemu/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
check_boot_args
case "$machine" in
    pc) [ -z "$firmware" ] || { echo "error: --firmware is for --machine microvm" >&2; exit 2; } ;;
    microvm) case "${firmware:-qboot}" in qboot|seabios) ;; *) echo "error: --firmware wants qboot or seabios" >&2; exit 2 ;; esac ;;
    *) echo "error: --machine wants pc or microvm" >&2; exit 2 ;;
esac

require_tools qemu-system-x86_64:qemu-system-x86 timeout:coreutils
# A policy: a stub with it embedded, in a target dir of its own.
set_boot_policy "$pin_kernel" "${trusted_keys[@]}"
if [ -n "$POLICY_DIR" ]; then
    export CARGO_TARGET_DIR="$STUB_DIR/target/$POLICY_DIR"
    STUB_BIN="$CARGO_TARGET_DIR/release/rvf-boot-stub"
fi
build_stub

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# qemu_file PATH NAME — PATH, or a comma-free symlink to it in $work.
qemu_file() {
    case "$1" in
        *,*) ln -s "$(readlink -f "$1")" "$work/$2" && printf '%s\n' "$work/$2" ;;
        *) printf '%s\n' "$1" ;;
    esac
}
# --one-module: the RVF, zero fill to the next 4 KiB boundary, the initramfs,
# as one file (the stub's module.rs).
if [ "$one_module" = 1 ] && [ -n "$initrd" ]; then
    rvf_size=$(stat -c %s "$rvf")
    { cat "$rvf" && head -c $(( (4096 - rvf_size % 4096) % 4096 )) /dev/zero && cat "$initrd"; } > "$work/one-module" ||
        { echo "error: cannot write the one-module file in $work" >&2; exit 2; }
    echo "boot.sh: one module: the RVF ($rvf_size bytes), the initramfs at byte $(( (rvf_size + 4095) / 4096 * 4096 ))" >&2
    rvf="$work/one-module" initrd=""
fi
stub_arg="$(qemu_file "$STUB_BIN" stub)" && rvf_arg="$(qemu_file "$rvf" rvf)" ||
    { echo "error: cannot link $rvf into $work" >&2; exit 2; }
case "$rvf_arg$stub_arg" in *,*) echo "error: the temporary directory $work has a comma" >&2; exit 2 ;; esac

machine_args=(-M "$machine")
[ "$firmware" != seabios ] || machine_args+=(-bios /usr/share/seabios/bios.bin)
# Under TCG on microvm: the host's TSC rate for Linux's early TSC setup.
if [ "$machine" = microvm ]; then
    khz="$(host_tsc_khz)"
    if [ -n "$khz" ]; then
        if [ "$have_append" = 1 ]; then append="$append tsc_early_khz=$khz"; else append="tsc_early_khz=$khz"; fi
        have_append=1
        echo "boot.sh: TCG on microvm: appended tsc_early_khz=$khz (the host's TSC rate) to the command line" >&2
    else
        echo "boot.sh: TCG on microvm: no 'cpu MHz' in /proc/cpuinfo, tsc_early_khz not added" >&2
    fi
fi
# -mem-prealloc: QEMU touches the guest's RAM once, up front, instead of the
# host faulting it in page by page while the stub and Linux run; on a 2-core
# host that made this boot 250 ms faster to /init (and QEMU's own -kernel
# boot no slower): qemu/README.md, Measurements.
args=(qemu-system-x86_64 "${machine_args[@]}" -accel tcg,thread=multi -smp "$smp" -m "$memory" -mem-prealloc -no-reboot
      -display none -monitor none -serial stdio -nic none -device isa-debug-exit,iobase=0xf4,iosize=4
      -kernel "$stub_arg" -initrd "$rvf_arg")
[ -z "$cpu" ] || args+=(-cpu "$cpu")
[ -z "$initrd" ] || args+=(-fw_cfg "name=opt/rvf-boot/initrd,file=${initrd//,/,,}")
[ "$have_append" = 0 ] || args+=(-append "$append")
# shellcheck disable=SC2206
[ -z "${RVF_BOOT_QEMU_ARGS:-}" ] || args+=($RVF_BOOT_QEMU_ARGS)

# The RVF through fw_cfg instead of -initrd (see --tpm below): SeaBIOS on
# microvm puts its ACPI tables where QEMU loads -initrd.
rvf_by_fw_cfg=0
[ "$firmware" != seabios ] || rvf_by_fw_cfg=1

# ---- --tpm: a fresh swtpm for this boot only, removed afterwards
if [ "${tpm:-0}" = 1 ]; then
    rvf_by_fw_cfg=1
    start_swtpm
    args+=("${SWTPM_ARGS[@]}")
    # The RVF through fw_cfg instead of -initrd: QEMU puts -initrd 160 KiB
    # below the top of low RAM, but SeaBIOS's tables plus the TPM's 64 KiB
    # event log take 196 KiB there, so the RVF would overwrite the log (the
    # stub refuses a module in reserved memory). The stub reads
    # opt/rvf-boot/rvf itself into RAM the library places.
fi
if [ "$rvf_by_fw_cfg" = 1 ]; then
    tpm_args=()
    for ((i = 0; i < ${#args[@]}; i++)); do
        if [ "${args[i]}" = -initrd ]; then i=$((i + 1)); continue; fi
        tpm_args+=("${args[i]}")
    done
    args=("${tpm_args[@]}" -fw_cfg "name=opt/rvf-boot/rvf,file=${rvf//,/,,}")
fi

fg=()
[ -t 0 ] && fg=(--foreground)
serial="$work/serial.log"
timeout "${fg[@]}" -k 5 "$timeout_s" "${args[@]}" | tee "$serial"
rc=${PIPESTATUS[0]}
case "$rc" in
    0) exit 0 ;;
    124|137) echo "boot.sh: timed out after ${timeout_s}s" >&2; exit 124 ;;
esac
handed_off=0
grep -q 'rvf-boot: entering kernel at' "$serial" && handed_off=1
# isa-debug-exit: QEMU exits with (code << 1) | 1. The stub uses codes 1..15,
# and only before it prints the handoff line.
if [ "$handed_off" = 1 ] && [ $((rc & 1)) -eq 1 ] && [ "$rc" -le 31 ]; then
    echo "boot.sh: the booted kernel exited QEMU through isa-debug-exit (status $rc, after the stub's handoff: not a stub refusal)" >&2
    exit 32
fi
if [ $((rc & 1)) -eq 1 ] && [ "$rc" -ge 3 ] && [ "$rc" -le 31 ]; then
    code=$((rc >> 1))
    echo "boot.sh: the stub refused to boot (code $code)" >&2
    exit "$code"
fi
if [ $((rc & 1)) -eq 1 ] && [ "$rc" -ge 33 ]; then
    echo "boot.sh: the booted kernel exited QEMU through isa-debug-exit (status $rc)" >&2
    exit "$rc"
fi
echo "boot.sh: qemu-system-x86_64 failed (status $rc)" >&2
exit 125
