#!/usr/bin/env bash
# QEMU boot tests of authenticated boot (issue 10): stubs built with a policy
# (qemu/boot.sh --trusted-key / --expect-kernel-sha256) boot what they can
# authenticate and refuse the rest with one error line and code 14 (the
# library's Authentication class), before the kernel runs. Output as
# qemu/test.sh: one PASS/FAIL line per case, then "N passed, M failed".
#
#   qemu/test-auth.sh [CASE...]   cases: signed signed-tampered signed-wrong-key
#                                 unsigned pin pin-wrong (default: all)
#
# The signed store is written at test time by the real rvf-runtime 0.5.0
# (`rvf-writer-05 signed-kernel`, Ed25519 key from a fixed seed) around the
# Debian kernel; the RuvBot file by the test kit.
set -uo pipefail
# shellcheck source=qemu/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=qemu/testlib.sh
. "$QEMU_DIR/testlib.sh"

TIMEOUT=60
AUTH_CMDLINE="console=ttyS0 rvf.auth=1"
RVF_CMDLINE="console=ttyS0 ruvbot.api_port=3000 ruvbot.mode=rvf quiet"   # the test kit's RuvBot writer
SEED=9        # the signing key: Ed25519 secret [9; 32]
# A key that did not sign: rvf-writer-05 `signed`'s (secret [7; 32]).
OTHER_KEY=ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c
AUTH_CODE=14
ALL_CASES=(signed signed-tampered signed-wrong-key unsigned pin pin-wrong)

require_tools qemu-system-x86_64:qemu-system-x86 timeout:coreutils sha256sum:coreutils
build_testkit
NAME_WIDTH=17 ERROR_WIDTH=100 SHOW_TIME=0 DEBIAN_ECHO=1
start_tests "$@"

# The text of expect_marker's PASS line: the stub's "authenticated" line.
marker_text() { printf 'booted to /init: %s' "$(grep -m1 '^rvf-boot: authenticated:' "$4" | cut -c11- | cut -c1-90)"; }

signed="" pubkey=""
writer="$REPO_DIR/target/release/rvf-writer-05"
setup() {
    [ -n "$signed" ] && return 0
    need_debian || return 1
    (cd "$REPO_DIR" && env -u RUSTFLAGS cargo build --release --quiet -p rvf-writer-05) >"$work/writer.log" 2>&1 ||
        { cat "$work/writer.log" >&2; return 1; }
    "$writer" signed-kernel "$work/signed.rvf" "$kernel" "$AUTH_CMDLINE" "$SEED" >"$work/writer.out" || return 1
    pubkey="$(sed -n 's/^public key //p' "$work/writer.out")"
    "$writer" tamper-signed "$work/signed.rvf" "$work/tampered.rvf" || return 1
    signed="$work/signed.rvf"
}

run_case() {
    setup || { fail "$1" "could not build the RVF files"; return; }
    case "$1" in
    signed)
        # A create_signed store (rvf-runtime 0.5.0) boots under its key.
        NEED_LINE='^rvf-boot: authenticated: signed by' expect_marker signed "$AUTH_CMDLINE" \
            --trusted-key "$OTHER_KEY" --trusted-key "$pubkey" --initrd "$initramfs" "$signed"
        ;;
    signed-tampered)
        # One kernel byte flipped with the image hash, content hash, SHDG entry,
        # manifest hash, page commitment and CRC re-done: only the signature catches it.
        expect_refusal signed-tampered "$AUTH_CODE" "signature rejected: signature does not verify" \
            --trusted-key "$pubkey" --initrd "$initramfs" "$work/tampered.rvf"
        ;;
    signed-wrong-key)
        expect_refusal signed-wrong-key "$AUTH_CODE" "no trusted key has the signer's fingerprint" \
            --trusted-key "$OTHER_KEY" --initrd "$initramfs" "$signed"
        ;;
    unsigned)
        expect_refusal unsigned "$AUTH_CODE" "the file is unsigned (no RVM0 root page)" \
            --trusted-key "$pubkey" --initrd "$initramfs" "$ruvbot"
        ;;
    pin)
        # A RuvBot file (no signature) under its kernel's SHA-256.
        local sha
        sha="$(sha256sum "$kernel" | cut -c1-64)"
        NEED_LINE='^rvf-boot: authenticated: kernel sha256 pinned' expect_marker pin "$RVF_CMDLINE" \
            --expect-kernel-sha256 "$sha" --initrd "$initramfs" "$ruvbot"
        ;;
    pin-wrong)
        expect_refusal pin-wrong "$AUTH_CODE" "kernel image (KERNEL_SEG at byte [0-9]*): SHA-256 .* is not the pinned 0000000000000000" \
            --expect-kernel-sha256 "$(printf '0%.0s' {1..64})" --initrd "$initramfs" "$ruvbot"
        ;;
    *) fail "$1" "unknown case (known: ${ALL_CASES[*]})" ;;
    esac
}

run_cases
