# Shared helpers for qemu/*.sh (sourced, not run). Paths are absolute; the
# cache lives in qemu/.cache (gitignored).

QEMU_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$QEMU_DIR/.." && pwd)"
CACHE_DIR="${RVF_BOOT_CACHE:-$QEMU_DIR/.cache}"
STUB_DIR="$QEMU_DIR/stub"
STUB_BIN="$STUB_DIR/target/release/rvf-boot-stub"
SHELL_DIR="$QEMU_DIR/shell"   # rvf-boot-shell: what both loaders share
TESTKIT_BIN="$REPO_DIR/target/release/rvf-testkit"
MARKER="RVF-BOOT-MARKER"

log() { printf '%s\n' "$*" >&2; }
die() { log "error: $*"; exit 2; }

# require_tools CMD:PACKAGE ... — install the Debian packages of missing
# commands when running as root with apt-get, otherwise name what is missing.
require_tools() {
    local missing_cmds=() missing_pkgs=() spec cmd pkg
    for spec in "$@"; do
        cmd="${spec%%:*}"; pkg="${spec#*:}"
        if [ "$cmd" = busybox-static ]; then
            [ -x /bin/busybox ] && file_is_static /bin/busybox && continue
        elif command -v "$cmd" >/dev/null 2>&1; then
            continue
        fi
        missing_cmds+=("$cmd"); missing_pkgs+=("$pkg")
    done
    [ ${#missing_pkgs[@]} -eq 0 ] && return 0
    install_packages "${missing_cmds[*]}" "${missing_pkgs[@]}"
}

# install_packages WHAT PACKAGE... — install Debian packages for the missing
# WHAT (commands or files) when running as root with apt-get, otherwise stop
# and name what is missing.
install_packages() {
    local what="$1"; shift
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing $* (missing: $what)"
        if ! { apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1 ||
               { apt-get update >/dev/null 2>&1 &&
                 apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1; }; }; then
            die "could not install $* with apt-get"
        fi
    else
        die "missing $what: install the Debian packages $* (e.g. sudo apt-get install $*)"
    fi
}

# check_boot_args — the checks boot.sh and boot-uefi.sh make of their common
# arguments (the variables rvf, initrd, timeout_s, memory, smp, trusted_keys
# and pin_kernel of the calling script); a bad one is a usage error (exit 2).
check_boot_args() {
    [ -f "$rvf" ] || { echo "error: $rvf: no such file" >&2; exit 2; }
    [ -z "$initrd" ] || [ -f "$initrd" ] || { echo "error: $initrd: no such file" >&2; exit 2; }
    case "$timeout_s" in ''|*[!0-9]*) echo "error: --timeout wants whole seconds" >&2; exit 2 ;; esac
    case "$memory" in ''|*[!0-9]*) echo "error: --memory wants MiB" >&2; exit 2 ;; esac
    case "$smp" in ''|*[!0-9]*) echo "error: --smp wants a CPU count" >&2; exit 2 ;; esac
    local h
    for h in "${trusted_keys[@]}" ${pin_kernel:+"$pin_kernel"}; do
        [[ "$h" =~ ^[0-9a-fA-F]{64}$ ]] || { echo "error: $h is not 64 hex digits" >&2; exit 2; }
    done
}

file_is_static() {
    # A static executable has no PT_INTERP program header.
    ! LC_ALL=C readelf -l "$1" 2>/dev/null | grep -q 'Requesting program interpreter'
}

# set_boot_policy PIN_KERNEL [KEY...] — the build environment of a loader
# (stub or rvf-boot.efi) with this policy, for qemu/shell/build.rs: exports
# RVF_BOOT_TRUSTED_KEYS (the KEYs, lower case, comma-separated) and
# RVF_BOOT_PIN_KERNEL_SHA256 (PIN_KERNEL, lower case; may be empty), unsets
# RVF_BOOT_PIN_CMDLINE_SHA256, and sets POLICY_DIR to the name of the
# policy's own target directory, policy-TAG (TAG: the first 16 hex digits of
# the SHA-256 of "KEYS|PIN_KERNEL"), so that the default loader is not
# rebuilt. No key and no pin: the default policy, all three unset and
# POLICY_DIR empty. The caller checked that each value is 64 hex digits.
set_boot_policy() {
    local pin keys
    pin="$(printf '%s' "$1" | tr 'A-F' 'a-f')"; shift
    keys="$(IFS=,; printf '%s' "$*" | tr 'A-F' 'a-f')"
    unset RVF_BOOT_PIN_CMDLINE_SHA256
    if [ -z "$keys" ] && [ -z "$pin" ]; then
        unset RVF_BOOT_TRUSTED_KEYS RVF_BOOT_PIN_KERNEL_SHA256
        POLICY_DIR=""
        return 0
    fi
    export RVF_BOOT_TRUSTED_KEYS="$keys" RVF_BOOT_PIN_KERNEL_SHA256="$pin"
    POLICY_DIR="policy-$(printf '%s|%s' "$keys" "$pin" | sha256sum | cut -c1-16)"
}

# build_stub — cargo build --release in qemu/stub when any input is newer
# than the binary (or it does not exist).
build_stub() {
    if [ -x "$STUB_BIN" ] && [ -z "$(find "$STUB_DIR/src" "$STUB_DIR/Cargo.toml" "$STUB_DIR/build.rs" \
            "$STUB_DIR/link.ld" "$SHELL_DIR/src" "$SHELL_DIR/Cargo.toml" "$SHELL_DIR/build.rs" \
            "$REPO_DIR/src" "$REPO_DIR/Cargo.toml" -newer "$STUB_BIN" -print -quit)" ]; then
        return 0
    fi
    command -v cargo >/dev/null 2>&1 || die "cargo not found: install Rust (https://rustup.rs) to build the stub"
    log "building the stub (cargo build --release in qemu/stub)"
    (cd "$STUB_DIR" && env -u RUSTFLAGS -u CARGO_BUILD_RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS \
        cargo build --release --quiet) >&2 || die "stub build failed"
}

# host_tsc_khz — the host's TSC rate in kHz ('cpu MHz' of /proc/cpuinfo,
# which is the TSC's rate on hosts with constant_tsc), or nothing. Under TCG
# the guest's TSC runs at the host's rate: boot.sh and bench.sh give it to
# Linux on microvm as tsc_early_khz=.
host_tsc_khz() {
    awk -F: '/^cpu MHz/ { k = int($2 * 1000 + 0.5); if (k > 0) print k; exit }' /proc/cpuinfo 2>/dev/null
}

# fetch_kernel — the Debian cloud kernel's bzImage, cached; prints its path.
fetch_kernel() {
    local out="$CACHE_DIR/vmlinuz-cloud-amd64"
    if [ -s "$out" ]; then printf '%s\n' "$out"; return 0; fi
    require_tools apt-get:apt dpkg-deb:dpkg
    mkdir -p "$CACHE_DIR/deb"
    local pkg
    pkg="$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}')"
    if [ -z "$pkg" ]; then
        [ "$(id -u)" = 0 ] && apt-get update >/dev/null 2>&1
        pkg="$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}')"
    fi
    [ -n "$pkg" ] || die "apt-cache does not know linux-image-cloud-amd64 (run apt-get update on a Debian system)"
    log "downloading $pkg"
    (cd "$CACHE_DIR/deb" && apt-get download "$pkg" >/dev/null 2>&1) || die "apt-get download $pkg failed"
    local deb
    deb="$(ls -t "$CACHE_DIR/deb/${pkg}"_*.deb | head -n1)"
    rm -rf "$CACHE_DIR/deb/x" && mkdir -p "$CACHE_DIR/deb/x"
    dpkg-deb -x "$deb" "$CACHE_DIR/deb/x"
    local vmlinuz
    vmlinuz="$(ls "$CACHE_DIR"/deb/x/boot/vmlinuz-* | head -n1)"
    [ -s "$vmlinuz" ] || die "no /boot/vmlinuz-* in $deb"
    dpkg-deb -f "$deb" Package Version | awk '{ printf "%s%s", sep, $2; sep = " " } END { print "" }' \
        > "$out.version"
    cp "$vmlinuz" "$out.tmp" && mv "$out.tmp" "$out"
    rm -rf "$CACHE_DIR/deb/x"
    printf '%s\n' "$out"
}

# kernel_version KERNEL — the Debian package and version KERNEL came from
# (recorded by fetch_kernel), else the bzImage's own version string.
kernel_version() {
    if [ -s "$1.version" ]; then cat "$1.version"; return 0; fi
    local at
    at=$(od -An -t u2 -j $((0x20E)) -N 2 "$1" 2>/dev/null | tr -d ' ')
    if [ -n "$at" ] && [ "$at" -gt 0 ]; then
        printf 'bzImage version string: %s\n' "$(dd if="$1" bs=1 skip=$((at + 0x200)) count=120 2>/dev/null | tr '\0' '\n' | head -n1)"
    else
        echo "unknown"
    fi
}

# build_initramfs — a busybox initramfs whose /init prints
#   RVF-BOOT-CPUS <number of CPUs in /proc/cpuinfo>
#   RVF-BOOT-MARKER cmdline=<contents of /proc/cmdline>
# on the console and powers off. Cached; prints its path.
build_initramfs() {
    make_initramfs "$CACHE_DIR/initramfs-marker-v2.cpio.gz" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
cpus="RVF-BOOT-CPUS $(/bin/busybox grep -c ^processor /proc/cpuinfo)"
echo "$cpus" > /dev/console 2>/dev/null || echo "$cpus"
echo "RVF-BOOT-MARKER cmdline=$(/bin/busybox cat /proc/cmdline)" > /dev/console 2>/dev/null ||
    echo "RVF-BOOT-MARKER cmdline=$(/bin/busybox cat /proc/cmdline)"
/bin/busybox poweroff -f
INIT
}

# build_exitport_initramfs — a busybox initramfs whose /init, once Linux
# runs, writes the stub's refusal code 3 to the stub's isa-debug-exit port
# (0xf4) with a 10-instruction static program (iopl(3), outb): boot.sh must
# report the kernel's exit, not a stub refusal. (The Debian cloud kernel has
# no /dev/port, and busybox no outb.) Needs gcc. Cached; prints its path.
build_exitport_initramfs() {
    local out="$CACHE_DIR/initramfs-exitport-v3.cpio.gz" src
    if [ ! -s "$out" ]; then
        require_tools gcc:gcc
        src="$(mktemp -d)"
        cat > "$src/outb.S" <<'ASM'
        .globl _start
_start: mov $172, %eax          /* iopl(3) */
        mov $3, %edi
        syscall
        mov $0xf4, %dx
        mov $3, %al             /* the stub's code 3 */
        outb %al, %dx
        mov $60, %eax           /* exit(1): QEMU did not stop */
        mov $1, %edi
        syscall
ASM
        gcc -nostdlib -static -o "$src/outb" "$src/outb.S" || die "gcc could not build the outb helper"
        EXTRA_BIN="$src/outb" make_initramfs "$out" <<'INIT' >/dev/null
#!/bin/busybox sh
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "RVF-BOOT-EXITPORT writing 3 to port 0xf4" > /dev/console
/bin/outb
echo "RVF-BOOT-EXITPORT still running" > /dev/console
/bin/busybox poweroff -f
INIT
        rm -rf "$src"
    fi
    printf '%s\n' "$out"
}

# make_initramfs OUT < INIT — a static busybox initramfs with INIT (stdin)
# as /init, gzip'd cpio at OUT unless OUT exists. Prints OUT.
make_initramfs() {
    local out="$1"
    if [ -s "$out" ]; then cat >/dev/null; printf '%s\n' "$out"; return 0; fi
    require_tools busybox-static:busybox-static cpio:cpio gzip:gzip
    local bb=/bin/busybox root
    file_is_static "$bb" || die "$bb is not static: install busybox-static"
    root="$(mktemp -d)"
    mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev"
    cp "$bb" "$root/bin/busybox"
    ln -s busybox "$root/bin/sh"
    [ -z "${EXTRA_BIN:-}" ] || cp "$EXTRA_BIN" "$root/bin/"
    cat > "$root/init"
    chmod 755 "$root/init"
    mkdir -p "$CACHE_DIR"
    (cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -9 > "$out.tmp") &&
        mv "$out.tmp" "$out"
    rm -rf "$root"
    printf '%s\n' "$out"
}

# start_swtpm — a fresh software TPM 2.0 for one boot (boot.sh --tpm,
# boot-uefi.sh --tpm): swtpm_setup on a new state directory, then `swtpm
# socket` on a control socket in it; sets SWTPM_ARGS to QEMU's -chardev,
# -tpmdev emulator and -device tpm-tis arguments (RVF_BOOT_TPM_DEVICE, not
# part of the stable interface, names another device: tpm-crb for
# qemu/test.sh's tpm-crb case), and chains an EXIT trap
# (after the caller's own) that stops swtpm and removes the directory. Exits
# the script with status 2 when swtpm cannot be set up or started.
start_swtpm() {
    require_tools swtpm:swtpm swtpm_setup:swtpm-tools
    tpm_dir="$(mktemp -d)"
    tpm_pid=""
    # shellcheck disable=SC2317  # run by the EXIT trap
    stop_swtpm() {
        [ -z "$tpm_pid" ] || { kill "$tpm_pid" 2>/dev/null; wait "$tpm_pid" 2>/dev/null; }
        rm -rf "$tpm_dir"
    }
    # Chained to whatever EXIT trap the script set before (its own cleanup).
    tpm_prev_trap="$(trap -p EXIT | sed "s/^trap -- '\(.*\)' EXIT\$/\1/")"
    trap 'stop_swtpm; eval "$tpm_prev_trap"' EXIT
    # Only the SHA-256 bank active (RVF_BOOT_SWTPM_BANKS, not part of the
    # stable interface, overrides it): the stub extends and logs SHA-256
    # only and refuses a TPM with more banks (qemu/README.md); under OVMF
    # the firmware's log entries then carry the SHA-256 digest alone, as
    # `rvf-boot measure --event-log` writes them.
    swtpm_setup --tpm2 --tpmstate "$tpm_dir" --pcr-banks "${RVF_BOOT_SWTPM_BANKS:-sha256}" \
        > "$tpm_dir/setup.log" 2>&1 || { echo "error: swtpm_setup failed" >&2; cat "$tpm_dir/setup.log" >&2; exit 2; }
    # --terminate: swtpm also exits when QEMU closes its control channel.
    swtpm socket --tpm2 --tpmstate dir="$tpm_dir" --ctrl type=unixio,path="$tpm_dir/sock" \
        --terminate --log file="$tpm_dir/log" &
    tpm_pid=$!
    for _ in $(seq 100); do [ -S "$tpm_dir/sock" ] && break; sleep 0.05; done
    [ -S "$tpm_dir/sock" ] || { echo "error: swtpm did not start" >&2; cat "$tpm_dir/log" >&2; exit 2; }
    # shellcheck disable=SC2054,SC2034  # QEMU's comma-separated values; read by the caller
    SWTPM_ARGS=(-chardev "socket,id=chrtpm,path=$tpm_dir/sock" -tpmdev emulator,id=tpm0,chardev=chrtpm
                -device "${RVF_BOOT_TPM_DEVICE:-tpm-tis},tpmdev=tpm0")
}

# build_tpm_initramfs — a busybox initramfs whose /init mounts sysfs and
# securityfs and prints
#   RVF-TPM PCR8 <hex of /sys/class/tpm/tpm0/pcr-sha256/8>
#   RVF-TPM PCR9 <hex of .../9>
#   RVF-TPM LOGSIZE <bytes of /sys/kernel/security/tpm0/binary_bios_measurements>
#   RVF-TPM-B64 <line>...   (the binary log, base64)
#   RVF-TPM END
# then powers off (qemu/test-tpm.sh, qemu/test-uefi.sh). Cached; prints its
# path.
build_tpm_initramfs() {
    local out="$CACHE_DIR/initramfs-tpm-v1.cpio.gz"
    if [ -s "$out" ]; then printf '%s\n' "$out"; return 0; fi
    require_tools busybox-static:busybox-static cpio:cpio gzip:gzip
    local bb=/bin/busybox root
    file_is_static "$bb" || die "$bb is not static: install busybox-static"
    root="$(mktemp -d)"
    mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev"
    cp "$bb" "$root/bin/busybox"
    ln -s busybox "$root/bin/sh"
    cat > "$root/init" <<'INIT'
#!/bin/busybox sh
bb=/bin/busybox
$bb mount -t proc proc /proc
$bb mount -t sysfs sysfs /sys
$bb mount -t devtmpfs devtmpfs /dev 2>/dev/null
$bb mount -t securityfs securityfs /sys/kernel/security
say() { echo "$1" > /dev/console 2>/dev/null || echo "$1"; }
say "RVF-TPM PCR8 $($bb cat /sys/class/tpm/tpm0/pcr-sha256/8)"
say "RVF-TPM PCR9 $($bb cat /sys/class/tpm/tpm0/pcr-sha256/9)"
log=/sys/kernel/security/tpm0/binary_bios_measurements
say "RVF-TPM LOGSIZE $($bb cat $log | $bb wc -c)"
$bb cat $log | $bb base64 | while read -r line; do say "RVF-TPM-B64 $line"; done
say "RVF-TPM END"
$bb poweroff -f
INIT
    chmod 755 "$root/init"
    mkdir -p "$CACHE_DIR"
    (cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -9 > "$out.tmp") &&
        mv "$out.tmp" "$out"
    rm -rf "$root"
    printf '%s\n' "$out"
}

# build_testkit — cargo build --release -p rvf-testkit (the test kit's RuvBot
# writer and mutations, host-tests/testkit); cargo decides what is stale.
build_testkit() {
    [ -z "${TESTKIT_BUILT:-}" ] || return 0
    command -v cargo >/dev/null 2>&1 || die "cargo not found: install Rust (https://rustup.rs) to build the test kit"
    (cd "$REPO_DIR" && env -u RUSTFLAGS -u CARGO_BUILD_RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS \
        cargo build --release --quiet -p rvf-testkit) >&2 || die "cargo build -p rvf-testkit failed"
    TESTKIT_BUILT=1
}

# testkit ARGS... — run the test kit's binary (built on first use).
testkit() {
    build_testkit
    "$TESTKIT_BIN" "$@"
}

# build_ruvbot_rvf KERNEL OUT — wrap KERNEL the way the RuvBot writer
# (build-rvf.js) does, with the test kit's Rust port of it (byte-identical
# given the same gzip stream: host-tests/tests/ruvbot_writer.rs).
build_ruvbot_rvf() {
    local kernel="$1" out="$2"
    mkdir -p "$(dirname "$out")"
    testkit ruvbot --kernel "$kernel" --output "$out" >/dev/null || die "rvf-testkit ruvbot failed"
}

# --- UEFI (qemu/boot-uefi.sh, qemu/test-uefi.sh) ---
UEFI_DIR="$QEMU_DIR/uefi"
UEFI_EFI="$UEFI_DIR/target/rvf-boot.efi"

# require_files FILE:PACKAGE ... — like require_tools, for packages that ship
# files rather than commands (gnu-efi, ovmf).
require_files() {
    local missing=() pkgs=() spec f pkg
    for spec in "$@"; do
        f="${spec%%:*}"; pkg="${spec#*:}"
        [ -e "$f" ] && continue
        missing+=("$f"); pkgs+=("$pkg")
    done
    [ ${#pkgs[@]} -eq 0 ] && return 0
    install_packages "${missing[*]}" "${pkgs[@]}"
}

# build_uefi — qemu/uefi/build.sh when any input is newer than $UEFI_EFI
# (or it does not exist), with the target directory $UEFI_EFI lies in
# (boot-uefi.sh points it at a policy's own, see set_boot_policy).
build_uefi() {
    if [ -f "$UEFI_EFI" ] && [ -z "$(find "$UEFI_DIR/src" "$UEFI_DIR/Cargo.toml" "$UEFI_DIR/Cargo.lock" \
            "$UEFI_DIR/build.sh" "$UEFI_DIR/.cargo" "$SHELL_DIR/src" "$SHELL_DIR/Cargo.toml" \
            "$SHELL_DIR/build.rs" "$REPO_DIR/src" "$REPO_DIR/Cargo.toml" \
            -newer "$UEFI_EFI" -print -quit)" ]; then
        return 0
    fi
    command -v cargo >/dev/null 2>&1 || die "cargo not found: install Rust (https://rustup.rs) to build rvf-boot.efi"
    require_tools ld:binutils objcopy:binutils
    require_files /usr/lib/crt0-efi-x86_64.o:gnu-efi
    log "building rvf-boot.efi (qemu/uefi/build.sh)"
    CARGO_TARGET_DIR="$(dirname "$UEFI_EFI")" "$UEFI_DIR/build.sh" >/dev/null ||
        die "rvf-boot.efi build failed"
}

# find_ovmf — sets OVMF_CODE and OVMF_VARS (the Debian package ovmf: the 4 MiB
# build where it exists, else the 2 MiB one).
find_ovmf() {
    local d=/usr/share/OVMF
    [ -f "$d/OVMF_CODE_4M.fd" ] || [ -f "$d/OVMF_CODE.fd" ] || require_files "$d/OVMF_VARS_4M.fd:ovmf"
    if [ -f "$d/OVMF_CODE_4M.fd" ] && [ -f "$d/OVMF_VARS_4M.fd" ]; then
        OVMF_CODE="$d/OVMF_CODE_4M.fd" OVMF_VARS="$d/OVMF_VARS_4M.fd"
    elif [ -f "$d/OVMF_CODE.fd" ] && [ -f "$d/OVMF_VARS.fd" ]; then
        OVMF_CODE="$d/OVMF_CODE.fd" OVMF_VARS="$d/OVMF_VARS.fd"
    else
        die "no OVMF_CODE(_4M).fd with its OVMF_VARS in $d: install the Debian package ovmf"
    fi
}
