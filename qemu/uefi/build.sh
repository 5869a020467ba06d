#!/usr/bin/env bash
# Build rvf-boot.efi: the crate as a position-independent static library for
# the host's x86_64-unknown-linux-gnu target (no x86_64-unknown-uefi target or
# rust-src needed), linked with gnu-efi's crt0 and linker script into a shared
# object, converted to a PE32+ EFI application by objcopy.
#
#   qemu/uefi/build.sh      -> qemu/uefi/target/rvf-boot.efi
#
# With CARGO_TARGET_DIR set, everything goes there instead (DIR/rvf-boot.efi;
# boot-uefi.sh builds a loader per boot policy that way). The policy itself
# comes from the environment of the build (RVF_BOOT_TRUSTED_KEYS, ...:
# qemu/shell/build.rs).
#
# Needs the Debian packages gnu-efi and binutils.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
GNU_EFI_LIB="${GNU_EFI_LIB:-/usr/lib}"
crt0="$GNU_EFI_LIB/crt0-efi-x86_64.o"
lds="$GNU_EFI_LIB/elf_x86_64_efi.lds"
for f in "$crt0" "$lds" "$GNU_EFI_LIB/libgnuefi.a"; do
    [ -f "$f" ] || { echo "error: $f missing: install the Debian package gnu-efi" >&2; exit 2; }
done
target="${CARGO_TARGET_DIR:-$here/target}"
case "$target" in /*) ;; *) target="$PWD/$target" ;; esac
cd "$here"
env -u RUSTFLAGS -u CARGO_BUILD_RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS CARGO_TARGET_DIR="$target" \
    cargo build --release --quiet
lib="$target/release/librvf_boot_efi.a"
so="$target/rvf-boot.so"
efi="$target/rvf-boot.efi"
# -Bsymbolic and -shared: a PIC image whose only dynamic relocations are
# R_X86_64_RELATIVE, applied by gnu-efi's _relocate at start.
ld -nostdlib -znocombreloc -T "$lds" -shared -Bsymbolic --no-undefined \
    --entry _start -u efi_main \
    "$crt0" "$lib" "$GNU_EFI_LIB/libgnuefi.a" -o "$so"
# Every allocated section must be one objcopy keeps (gnu-efi's Makefile list):
# an orphan (e.g. .bss.*) would be silently dropped from the PE.
bad="$(LC_ALL=C readelf -SW "$so" | awk '$0 ~ /^ *\[ *[0-9]+\]/ { sub(/^ *\[ *[0-9]+\] */, ""); name=$1; flags=$7;
        if (flags ~ /A/ && name !~ /^(\.text|\.sdata|\.data|\.dynamic|\.dynsym|\.rel.*|\.reloc|\.hash|\.gnu\.hash|\.eh_frame|\.dynstr|\.note\.gnu\.build-id|\.sbat)$/) print name }')"
if [ -n "$bad" ]; then
    echo "error: sections the PE would lose: $bad" >&2; exit 1
fi
# .sbat: shim's SBAT metadata (src/secureboot.rs).
objcopy -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela -j '.rel.*' \
    -j '.rela.*' -j .reloc -j .sbat --target efi-app-x86_64 --subsystem=10 "$so" "$efi.tmp"
mv "$efi.tmp" "$efi"
echo "$efi"
