# Shared helpers for qemu/*.sh (sourced, not run). Paths are absolute; the
# cache lives in qemu/.cache (gitignored).

QEMU_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$QEMU_DIR/.." && pwd)"
CACHE_DIR="${RVF_BOOT_CACHE:-$QEMU_DIR/.cache}"
STUB_DIR="$QEMU_DIR/stub"
STUB_BIN="$STUB_DIR/target/release/rvf-boot-stub"
SEED_WRITER="${RVF_SEED_WRITER:-$REPO_DIR/../shared/seed/build-rvf.js}"
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
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing ${missing_pkgs[*]} (missing: ${missing_cmds[*]})"
        if ! { apt-get install -y --no-install-recommends "${missing_pkgs[@]}" >/dev/null 2>&1 ||
               { apt-get update >/dev/null 2>&1 &&
                 apt-get install -y --no-install-recommends "${missing_pkgs[@]}" >/dev/null 2>&1; }; }; then
            die "could not install ${missing_pkgs[*]} with apt-get"
        fi
    else
        die "missing ${missing_cmds[*]}: install the Debian packages ${missing_pkgs[*]} (e.g. sudo apt-get install ${missing_pkgs[*]})"
    fi
}

file_is_static() {
    # A static executable has no PT_INTERP program header.
    ! LC_ALL=C readelf -l "$1" 2>/dev/null | grep -q 'Requesting program interpreter'
}

# build_stub — cargo build --release in qemu/stub when any input is newer
# than the binary (or it does not exist).
build_stub() {
    if [ -x "$STUB_BIN" ] && [ -z "$(find "$STUB_DIR/src" "$STUB_DIR/Cargo.toml" "$STUB_DIR/build.rs" \
            "$STUB_DIR/link.ld" "$REPO_DIR/src" "$REPO_DIR/Cargo.toml" -newer "$STUB_BIN" -print -quit)" ]; then
        return 0
    fi
    command -v cargo >/dev/null 2>&1 || die "cargo not found: install Rust (https://rustup.rs) to build the stub"
    log "building the stub (cargo build --release in qemu/stub)"
    (cd "$STUB_DIR" && env -u RUSTFLAGS -u CARGO_BUILD_RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS \
        cargo build --release --quiet) >&2 || die "stub build failed"
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
    cp "$vmlinuz" "$out.tmp" && mv "$out.tmp" "$out"
    rm -rf "$CACHE_DIR/deb/x"
    printf '%s\n' "$out"
}

# build_initramfs — a busybox initramfs whose /init prints
#   RVF-BOOT-CPUS <number of CPUs in /proc/cpuinfo>
#   RVF-BOOT-MARKER cmdline=<contents of /proc/cmdline>
# on the console and powers off. Cached; prints its path.
build_initramfs() {
    local out="$CACHE_DIR/initramfs-marker-v2.cpio.gz"
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
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
cpus="RVF-BOOT-CPUS $(/bin/busybox grep -c ^processor /proc/cpuinfo)"
echo "$cpus" > /dev/console 2>/dev/null || echo "$cpus"
echo "RVF-BOOT-MARKER cmdline=$(/bin/busybox cat /proc/cmdline)" > /dev/console 2>/dev/null ||
    echo "RVF-BOOT-MARKER cmdline=$(/bin/busybox cat /proc/cmdline)"
/bin/busybox poweroff -f
INIT
    chmod 755 "$root/init"
    mkdir -p "$CACHE_DIR"
    (cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -9 > "$out.tmp") &&
        mv "$out.tmp" "$out"
    rm -rf "$root"
    printf '%s\n' "$out"
}

# build_ruvbot_rvf KERNEL OUT — wrap KERNEL with the seed writer (build-rvf.js)
# in a scratch package, as shared/seed/README.md says.
build_ruvbot_rvf() {
    local kernel="$1" out="$2" pkg
    require_tools node:nodejs
    [ -f "$SEED_WRITER" ] || die "seed writer not found at $SEED_WRITER (set RVF_SEED_WRITER)"
    pkg="$(mktemp -d)"
    mkdir -p "$pkg/scripts" "$pkg/dist" "$pkg/bin"
    cp "$SEED_WRITER" "$pkg/scripts/build-rvf.js"
    echo '{"name":"ruvbot","version":"0.2.0","description":"test","dependencies":{}}' > "$pkg/package.json"
    echo "console.log('hi')" > "$pkg/dist/index.js"
    mkdir -p "$(dirname "$out")"
    node "$pkg/scripts/build-rvf.js" --kernel "$(readlink -f "$kernel")" \
        --output "$(readlink -f "$(dirname "$out")")/$(basename "$out")" >/dev/null ||
        { rm -rf "$pkg"; die "build-rvf.js failed"; }
    rm -rf "$pkg"
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
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing ${pkgs[*]} (missing: ${missing[*]})"
        if ! { apt-get install -y --no-install-recommends "${pkgs[@]}" >/dev/null 2>&1 ||
               { apt-get update >/dev/null 2>&1 &&
                 apt-get install -y --no-install-recommends "${pkgs[@]}" >/dev/null 2>&1; }; }; then
            die "could not install ${pkgs[*]} with apt-get"
        fi
    else
        die "missing ${missing[*]}: install the Debian packages ${pkgs[*]}"
    fi
}

# build_uefi — qemu/uefi/build.sh when any input is newer than rvf-boot.efi
# (or it does not exist).
build_uefi() {
    if [ -f "$UEFI_EFI" ] && [ -z "$(find "$UEFI_DIR/src" "$UEFI_DIR/Cargo.toml" "$UEFI_DIR/Cargo.lock" \
            "$UEFI_DIR/build.sh" "$UEFI_DIR/.cargo" "$REPO_DIR/src" "$REPO_DIR/Cargo.toml" \
            -newer "$UEFI_EFI" -print -quit)" ]; then
        return 0
    fi
    command -v cargo >/dev/null 2>&1 || die "cargo not found: install Rust (https://rustup.rs) to build rvf-boot.efi"
    require_tools ld:binutils objcopy:binutils
    require_files /usr/lib/crt0-efi-x86_64.o:gnu-efi
    log "building rvf-boot.efi (qemu/uefi/build.sh)"
    "$UEFI_DIR/build.sh" >/dev/null || die "rvf-boot.efi build failed"
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
