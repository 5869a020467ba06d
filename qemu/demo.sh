#!/usr/bin/env bash
# Demo: fetch the Debian cloud kernel (apt-get download), wrap it in a RuvBot
# RVF with the test kit's RuvBot writer (build-rvf.js in Rust,
# host-tests/testkit), build a busybox
# initramfs whose /init prints the kernel command line, and boot the RVF
# through the rvf-boot stub with qemu/boot.sh.
#
#   qemu/demo.sh [--append "ARGS"]
#
# Downloads and builds are cached in qemu/.cache (gitignored). Installs
# qemu-system-x86, busybox-static and cpio when run as root on Debian,
# otherwise names what is missing.
set -euo pipefail
# shellcheck source=qemu/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

append="rvf.demo=1"
if [ "${1:-}" = "--append" ] && [ $# -ge 2 ]; then append="$2"; shift 2; fi
[ $# -eq 0 ] || { echo "usage: $0 [--append \"ARGS\"]" >&2; exit 2; }

require_tools qemu-system-x86_64:qemu-system-x86 busybox-static:busybox-static cpio:cpio gzip:gzip
kernel="$(fetch_kernel)"
log "Debian kernel: $(kernel_version "$kernel")"
initramfs="$(build_initramfs)"
rvf="$CACHE_DIR/ruvbot-debian-cloud.rvf"
if [ ! -s "$rvf" ] || [ "$kernel" -nt "$rvf" ]; then
    log "wrapping $(basename "$kernel") with the RuvBot writer (rvf-testkit ruvbot) -> $rvf"
    build_ruvbot_rvf "$kernel" "$rvf"
fi
log "booting: qemu/boot.sh --initrd $(basename "$initramfs") --append \"$append\" $(basename "$rvf")"
status=0
"$QEMU_DIR/boot.sh" --initrd "$initramfs" --append "$append" "$rvf" | tee "$CACHE_DIR/demo.log" || status=$?
if grep -q "^$MARKER " "$CACHE_DIR/demo.log"; then
    log "demo OK: /init ran with the RVF's command line"
else
    log "demo FAILED (boot.sh status $status): no $MARKER line"
    exit 1
fi
