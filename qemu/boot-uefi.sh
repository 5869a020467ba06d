#!/usr/bin/env bash
# Boot the Linux kernel inside an RVF file under QEMU (TCG) with OVMF and
# rvf-boot.efi, streaming the serial console to stdout.
#
#   qemu/boot-uefi.sh [--initrd FILE] [--append "ARGS"] [--timeout SECONDS] [--tpm]
#                     [--trusted-key HEX]... [--expect-kernel-sha256 HEX] FILE.rvf
#
# It builds rvf-boot.efi if needed and makes a FAT EFI system partition image
# holding
#   \EFI\BOOT\BOOTX64.EFI      rvf-boot.efi (the removable-media default path)
#   \EFI\rvf\boot.rvf          FILE.rvf (the loader's default RVF path)
#   \EFI\rvf\initrd            --initrd FILE (served through LoadFile2)
#   \EFI\rvf\append.txt        --append ARGS (added to the RVF's cmdline)
#   \EFI\rvf\qemu-debug-exit   empty: refusals also exit QEMU (test convenience)
# and boots it with OVMF (a scratch copy of OVMF_VARS), -no-reboot, no network.
#
# --tpm: attach a fresh software TPM 2.0 (swtpm, tpm-tis; start_swtpm in
# common.sh, as boot.sh --tpm); OVMF's EFI_TCG2_PROTOCOL drives it and the
# loader measures the boot through it (qemu/README.md, UEFI section).
#
# --trusted-key (repeatable) and --expect-kernel-sha256, as boot.sh: boot
# through an rvf-boot.efi built with that policy (RVF_BOOT_TRUSTED_KEYS /
# RVF_BOOT_PIN_KERNEL_SHA256, qemu/shell/build.rs, the crate both loaders
# share; its own target dir per policy, qemu/uefi/target/policy-*, so the
# default loader is not rebuilt): it refuses an unsigned file, an untrusted
# signer, a tampered file or another kernel image with one error line and
# code 14 (EFI_SECURITY_VIOLATION to the firmware).
#
# Extra options (not part of the stable interface): --memory MIB (default
# 512), --smp N (default 1), --keep-esp DIR (leave the ESP image there),
# --fallback-shutdown (no qemu-debug-exit; instead \startup.nsh runs `reset
# -s`, so a refusal shows the firmware going on to its next boot option, the
# UEFI shell, which powers off: status 0), --rvf-path PATH (the RVF goes to
# PATH, e.g. '\EFI\alt\x.rvf', instead of the default path, without
# qemu-debug-exit; \startup.nsh starts the loader with PATH as its load
# option after the firmware's own attempt was refused), and RVF_BOOT_QEMU_ARGS
# (appended to QEMU's argv).
#
# Exit status (as boot.sh): 0 when QEMU ends normally (the guest powered off:
# check its output for success); the loader's error code (1..15, table in
# qemu/README.md) when rvf-boot.efi refused to boot (QEMU status (code << 1) |
# 1); QEMU's own odd status >= 33 unchanged when something else wrote
# isa-debug-exit; 124 on timeout; 125 when QEMU itself failed; 2 on a usage or
# setup error.
set -uo pipefail

usage() {
    echo "usage: $0 [--initrd FILE] [--append \"ARGS\"] [--timeout SECONDS] [--tpm] [--trusted-key HEX]... [--expect-kernel-sha256 HEX] FILE.rvf" >&2
    exit 2
}

trusted_keys=() pin_kernel=""
initrd="" append="" have_append=0 timeout_s=300 memory=512 smp=1 keep="" fallback=0 rvf_path="" rvf="" tpm=0
while [ $# -gt 0 ]; do
    case "$1" in
        --initrd) [ $# -ge 2 ] || usage; initrd="$2"; shift 2 ;;
        --append) [ $# -ge 2 ] || usage; append="$2"; have_append=1; shift 2 ;;
        --timeout) [ $# -ge 2 ] || usage; timeout_s="$2"; shift 2 ;;
        --tpm) tpm=1; shift ;;
        --trusted-key) [ $# -ge 2 ] || usage; trusted_keys+=("$2"); shift 2 ;;
        --expect-kernel-sha256) [ $# -ge 2 ] || usage; pin_kernel="$2"; shift 2 ;;
        --memory) [ $# -ge 2 ] || usage; memory="$2"; shift 2 ;;
        --smp) [ $# -ge 2 ] || usage; smp="$2"; shift 2 ;;
        --keep-esp) [ $# -ge 2 ] || usage; keep="$2"; shift 2 ;;
        --fallback-shutdown) fallback=1; shift ;;
        --rvf-path) [ $# -ge 2 ] || usage; rvf_path="$2"; shift 2 ;;
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
case "$rvf_path" in ''|"\\"*) ;; *) echo "error: --rvf-path wants an absolute ESP path (\\...)" >&2; exit 2 ;; esac
case "$rvf_path" in *[!A-Za-z0-9._\\-]*) echo "error: --rvf-path: letters, digits, . _ - and \\ only" >&2; exit 2 ;; esac

require_tools qemu-system-x86_64:qemu-system-x86 timeout:coreutils mformat:mtools mmd:mtools \
    mcopy:mtools
find_ovmf
# A policy: a loader with it embedded, in a target dir of its own.
set_boot_policy "$pin_kernel" "${trusted_keys[@]}"
[ -z "$POLICY_DIR" ] || UEFI_EFI="$UEFI_DIR/target/$POLICY_DIR/rvf-boot.efi"
build_uefi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# ---- the ESP: a FAT image (no partition table; OVMF mounts it as is) sized
# for its files plus slack.
bytes=$(( $(stat -c %s "$rvf") + $(stat -c %s "$UEFI_EFI") ))
[ -z "$initrd" ] || bytes=$(( bytes + $(stat -c %s "$initrd") ))
mib=$(( bytes / 1048576 + 16 ))
[ "$mib" -ge 40 ] || mib=40
esp="$work/esp.img"
truncate -s "${mib}M" "$esp" || { echo "error: cannot create the ESP image" >&2; exit 2; }
export MTOOLS_SKIP_CHECK=1
{
    mformat -i "$esp" -F -v RVFBOOT :: &&
    mmd -i "$esp" ::/EFI ::/EFI/BOOT ::/EFI/rvf &&
    mcopy -i "$esp" "$UEFI_EFI" ::/EFI/BOOT/BOOTX64.EFI &&
    if [ -n "$rvf_path" ]; then
        dos="${rvf_path//\\//}" dir="" part=""
        IFS=/ read -r -a parts <<< "${dos#/}"
        for part in "${parts[@]:0:${#parts[@]}-1}"; do
            dir="$dir/$part"
            mmd -i "$esp" "::$dir" 2>/dev/null || true
        done
        mcopy -i "$esp" "$rvf" "::$dos" &&
        printf 'fs0:\\EFI\\BOOT\\BOOTX64.EFI %s\r\n' "$rvf_path" > "$work/startup.nsh" &&
        mcopy -i "$esp" "$work/startup.nsh" ::/startup.nsh
    else
        mcopy -i "$esp" "$rvf" ::/EFI/rvf/boot.rvf
    fi &&
    if [ -n "$rvf_path" ]; then
        :
    elif [ "$fallback" = 1 ]; then
        printf 'reset -s\r\n' > "$work/startup.nsh" && mcopy -i "$esp" "$work/startup.nsh" ::/startup.nsh
    else
        : > "$work/qemu-debug-exit" && mcopy -i "$esp" "$work/qemu-debug-exit" ::/EFI/rvf/qemu-debug-exit
    fi
} >"$work/mtools.log" 2>&1 || { cat "$work/mtools.log" >&2; echo "error: cannot build the ESP image" >&2; exit 2; }
if [ -n "$initrd" ]; then
    mcopy -i "$esp" "$initrd" ::/EFI/rvf/initrd >"$work/mtools.log" 2>&1 ||
        { cat "$work/mtools.log" >&2; echo "error: cannot copy the initrd to the ESP" >&2; exit 2; }
fi
if [ "$have_append" = 1 ]; then
    printf '%s\n' "$append" > "$work/append.txt"
    mcopy -i "$esp" "$work/append.txt" ::/EFI/rvf/append.txt >"$work/mtools.log" 2>&1 ||
        { cat "$work/mtools.log" >&2; echo "error: cannot copy append.txt to the ESP" >&2; exit 2; }
fi
cp "$OVMF_VARS" "$work/vars.fd"

# QEMU splits -drive options at commas: double them in paths.
esc() { printf '%s' "${1//,/,,}"; }
# shellcheck disable=SC2054
args=(qemu-system-x86_64 -accel tcg -m "$memory" -no-reboot -display none -monitor none
      -serial stdio -nic none -device isa-debug-exit,iobase=0xf4,iosize=4
      -drive "if=pflash,format=raw,unit=0,readonly=on,file=$(esc "$OVMF_CODE")"
      -drive "if=pflash,format=raw,unit=1,file=$(esc "$work/vars.fd")"
      -drive "if=none,id=esp,format=raw,file=$(esc "$esp")" -device virtio-blk-pci,drive=esp)
[ "$smp" = 1 ] || args+=(-smp "$smp")
# ---- --tpm: a fresh swtpm for this boot only, removed afterwards
if [ "$tpm" = 1 ]; then
    start_swtpm
    args+=("${SWTPM_ARGS[@]}")
fi
# shellcheck disable=SC2206
[ -z "${RVF_BOOT_QEMU_ARGS:-}" ] || args+=($RVF_BOOT_QEMU_ARGS)

fg=()
[ -t 0 ] && fg=(--foreground)
timeout "${fg[@]}" -k 5 "$timeout_s" "${args[@]}"
rc=$?
if [ -n "$keep" ]; then mkdir -p "$keep" && cp "$esp" "$keep/esp.img"; fi
case "$rc" in
    0) exit 0 ;;
    124|137) echo "boot-uefi.sh: timed out after ${timeout_s}s" >&2; exit 124 ;;
esac
# isa-debug-exit: QEMU exits with (code << 1) | 1. The loader uses codes 1..15.
if [ $((rc & 1)) -eq 1 ] && [ "$rc" -ge 3 ] && [ "$rc" -le 31 ]; then
    code=$((rc >> 1))
    echo "boot-uefi.sh: rvf-boot.efi refused to boot (code $code)" >&2
    exit "$code"
fi
if [ $((rc & 1)) -eq 1 ] && [ "$rc" -ge 33 ]; then
    echo "boot-uefi.sh: the guest exited QEMU through isa-debug-exit (status $rc)" >&2
    exit "$rc"
fi
echo "boot-uefi.sh: qemu-system-x86_64 failed (status $rc)" >&2
exit 125
