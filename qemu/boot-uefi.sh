#!/usr/bin/env bash
# Boot the Linux kernel inside an RVF file under QEMU (TCG) with OVMF and
# rvf-boot.efi, streaming the serial console to stdout.
#
#   qemu/boot-uefi.sh [--initrd FILE] [--append "ARGS"] [--timeout SECONDS] [--tpm]
#                     [--trusted-key HEX]... [--expect-kernel-sha256 HEX]
#                     [--secure-boot] FILE.rvf
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
# --secure-boot: OVMF with UEFI Secure Boot enforcing (q35 with SMM, the
# secure pflash, Debian's OVMF_CODE_4M.secboot.fd with OVMF_VARS_4M.snakeoil.fd:
# PK, KEK and db hold Debian's snakeoil test certificate,
# /usr/share/ovmf/PkKek-1-snakeoil.pem), and rvf-boot.efi signed with sbsign
# by the snakeoil key (a decrypted copy in the scratch directory; the key's
# password is "snakeoil"; TEST ONLY: docs/security.md says how to sign and
# enroll for real hardware). The other flags work as without it. Without a
# policy the firmware's db decides whether the kernel starts (a refusal is
# code 15); with --trusted-key / --expect-kernel-sha256 the loader starts
# exactly the kernel it verified (docs/security.md). Extra options for
# --secure-boot (not part of the stable interface): --sb-unsigned (put the
# loader on the ESP unsigned: the firmware refuses it), --sb-key KEY
# --sb-cert CERT (sign with this pair instead: a key not in db is refused
# like an unsigned loader), --sb-shim SHIMX64.EFI (shim, signed with the same
# key, as \EFI\BOOT\BOOTX64.EFI and the loader as its second stage
# \EFI\BOOT\grubx64.efi: shim starts it and its Shim Lock protocol is
# there for the loader). When the firmware refuses the loader it prints
# `Access Denied` and would wait forever: the script watches the console for
# that line, stops QEMU and exits with 15.
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
# 1); 15 also when, under --secure-boot, the firmware refused to load
# rvf-boot.efi itself (its line "boot-uefi.sh: the firmware refused ..."); QEMU's own odd status >= 33 unchanged when something else wrote
# isa-debug-exit; 124 on timeout; 125 when QEMU itself failed; 2 on a usage or
# setup error.
set -uo pipefail

usage() {
    echo "usage: $0 [--initrd FILE] [--append \"ARGS\"] [--timeout SECONDS] [--tpm] [--trusted-key HEX]... [--expect-kernel-sha256 HEX] [--secure-boot] FILE.rvf" >&2
    exit 2
}

trusted_keys=() pin_kernel="" secure_boot=0 sb_unsigned=0 sb_key="" sb_cert="" sb_shim=""
initrd="" append="" have_append=0 timeout_s=300 memory=512 smp=1 keep="" fallback=0 rvf_path="" rvf="" tpm=0
while [ $# -gt 0 ]; do
    case "$1" in
        --initrd) [ $# -ge 2 ] || usage; initrd="$2"; shift 2 ;;
        --append) [ $# -ge 2 ] || usage; append="$2"; have_append=1; shift 2 ;;
        --timeout) [ $# -ge 2 ] || usage; timeout_s="$2"; shift 2 ;;
        --tpm) tpm=1; shift ;;
        --secure-boot) secure_boot=1; shift ;;
        --sb-unsigned) sb_unsigned=1; shift ;;
        --sb-key) [ $# -ge 2 ] || usage; sb_key="$2"; shift 2 ;;
        --sb-cert) [ $# -ge 2 ] || usage; sb_cert="$2"; shift 2 ;;
        --sb-shim) [ $# -ge 2 ] || usage; sb_shim="$2"; shift 2 ;;
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
if [ "$secure_boot" = 1 ]; then
    # Debian's ovmf: the Secure Boot build and the variable store with the
    # snakeoil certificate enrolled as PK, KEK and db, Secure Boot on.
    SB_CODE=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd SB_VARS=/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd
    SNAKEOIL_KEY=/usr/share/ovmf/PkKek-1-snakeoil.key SNAKEOIL_CERT=/usr/share/ovmf/PkKek-1-snakeoil.pem
    require_files "$SB_CODE:ovmf" "$SB_VARS:ovmf" "$SNAKEOIL_KEY:ovmf"
    require_tools sbsign:sbsigntool openssl:openssl
    OVMF_CODE="$SB_CODE" OVMF_VARS="$SB_VARS"
    if [ -n "$sb_key$sb_cert" ] && { [ ! -f "$sb_key" ] || [ ! -f "$sb_cert" ]; }; then
        echo "error: --sb-key and --sb-cert go together and name existing files" >&2; exit 2
    fi
    [ -z "$sb_shim" ] || [ -f "$sb_shim" ] || { echo "error: $sb_shim: no such file" >&2; exit 2; }
elif [ "$sb_unsigned" = 1 ] || [ -n "$sb_key$sb_cert$sb_shim" ]; then
    echo "error: --sb-unsigned, --sb-key, --sb-cert and --sb-shim need --secure-boot" >&2; exit 2
fi
# A policy: a loader with it embedded, in a target dir of its own.
set_boot_policy "$pin_kernel" "${trusted_keys[@]}"
[ -z "$POLICY_DIR" ] || UEFI_EFI="$UEFI_DIR/target/$POLICY_DIR/rvf-boot.efi"
build_uefi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# ---- --secure-boot: the loader the firmware gets, signed (or not, on purpose)
loader="$UEFI_EFI"
if [ "$secure_boot" = 1 ] && [ "$sb_unsigned" = 0 ]; then
    if [ -z "$sb_key" ]; then
        # sbsign cannot take a password: a decrypted copy for this boot only.
        sb_key="$work/snakeoil.key" sb_cert="$SNAKEOIL_CERT"
        (umask 077 && openssl pkey -in "$SNAKEOIL_KEY" -passin pass:snakeoil -out "$sb_key") 2>"$work/sign.log" ||
            { cat "$work/sign.log" >&2; echo "error: cannot decrypt $SNAKEOIL_KEY" >&2; exit 2; }
    fi
    loader="$work/rvf-boot.efi"
    sbsign --key "$sb_key" --cert "$sb_cert" --output "$loader" "$UEFI_EFI" >"$work/sign.log" 2>&1 ||
        { cat "$work/sign.log" >&2; echo "error: sbsign failed" >&2; exit 2; }
    if [ -n "$sb_shim" ]; then
        sbsign --key "$sb_key" --cert "$sb_cert" --output "$work/shim.efi" "$sb_shim" >"$work/sign.log" 2>&1 ||
            { cat "$work/sign.log" >&2; echo "error: sbsign of $sb_shim failed" >&2; exit 2; }
    fi
fi

# ---- the ESP: a FAT image (no partition table; OVMF mounts it as is) sized
# for its files plus slack.
bytes=$(( $(stat -c %s "$rvf") + $(stat -c %s "$UEFI_EFI") + 65536 ))
[ -z "$sb_shim" ] || bytes=$(( bytes + $(stat -c %s "$sb_shim") ))
[ -z "$initrd" ] || bytes=$(( bytes + $(stat -c %s "$initrd") ))
mib=$(( bytes / 1048576 + 16 ))
[ "$mib" -ge 40 ] || mib=40
esp="$work/esp.img"
truncate -s "${mib}M" "$esp" || { echo "error: cannot create the ESP image" >&2; exit 2; }
export MTOOLS_SKIP_CHECK=1
{
    mformat -i "$esp" -F -v RVFBOOT :: &&
    mmd -i "$esp" ::/EFI ::/EFI/BOOT ::/EFI/rvf &&
    if [ -n "$sb_shim" ]; then
        mcopy -i "$esp" "$work/shim.efi" ::/EFI/BOOT/BOOTX64.EFI &&
        mcopy -i "$esp" "$loader" ::/EFI/BOOT/grubx64.efi
    else
        mcopy -i "$esp" "$loader" ::/EFI/BOOT/BOOTX64.EFI
    fi &&
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
# Secure Boot: OVMF's authenticated variables live in SMM, which only the
# secure pflash lets write the variable store.
[ "$secure_boot" = 0 ] || args+=(-M q35,smm=on -global driver=cfi.pflash01,property=secure,value=on)
# ---- --tpm: a fresh swtpm for this boot only, removed afterwards
if [ "$tpm" = 1 ]; then
    start_swtpm
    args+=("${SWTPM_ARGS[@]}")
fi
# shellcheck disable=SC2206
[ -z "${RVF_BOOT_QEMU_ARGS:-}" ] || args+=($RVF_BOOT_QEMU_ARGS)

fg=()
[ -t 0 ] && fg=(--foreground)
denied=0
if [ "$secure_boot" = 1 ]; then
    # The firmware refuses a loader that db does not allow with one line
    # (edk2's BdsDxe: `failed to load Boot0001 ...: Access Denied`) and then
    # has nothing left to boot: watch the console for it and stop QEMU.
    mkfifo "$work/console"
    timeout "${fg[@]}" -k 5 "$timeout_s" "${args[@]}" > "$work/console" 2>&1 &
    qpid=$!
    while IFS= read -r line || [ -n "$line" ]; do
        printf '%s\n' "$line"
        case "$line" in
            *"BdsDxe: failed to load "*"Access Denied"*)
                [ "$denied" = 1 ] || kill "$qpid" 2>/dev/null
                denied=1 ;;
        esac
    done < "$work/console"
    wait "$qpid"
    rc=$?
else
    timeout "${fg[@]}" -k 5 "$timeout_s" "${args[@]}"
    rc=$?
fi
if [ -n "$keep" ]; then mkdir -p "$keep" && cp "$esp" "$keep/esp.img"; fi
if [ "$denied" = 1 ]; then
    echo "boot-uefi.sh: the firmware refused to load rvf-boot.efi (Secure Boot: Access Denied; code 15)" >&2
    exit 15
fi
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
