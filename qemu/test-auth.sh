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

TIMEOUT=60
AUTH_CMDLINE="console=ttyS0 rvf.auth=1"
RVF_CMDLINE="console=ttyS0 ruvbot.api_port=3000 ruvbot.mode=rvf quiet"   # the test kit's RuvBot writer
SEED=9        # the signing key: Ed25519 secret [9; 32]
# A key that did not sign: rvf-writer-05 `signed`'s (secret [7; 32]).
OTHER_KEY=ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c
AUTH_CODE=14
ALL_CASES=(signed signed-tampered signed-wrong-key unsigned pin pin-wrong)
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=("${ALL_CASES[@]}")

require_tools qemu-system-x86_64:qemu-system-x86 timeout:coreutils sha256sum:coreutils
build_testkit
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

passed=0 failed=0
pass() { passed=$((passed + 1)); printf 'PASS %-17s %s\n' "$1" "$2"; }
fail() {
    failed=$((failed + 1)); printf 'FAIL %-17s %s\n' "$1" "$2"
    if [ -n "${3:-}" ] && [ -f "$3" ]; then sed 's/^/    | /' "$3" | tail -n 15; fi
}

# boot NAME ARGS... — boot.sh with the test timeout; log in $work/NAME.log, status in $rc.
boot() {
    local name="$1"; shift
    "$QEMU_DIR/boot.sh" --timeout "$TIMEOUT" "$@" < /dev/null > "$work/$name.log" 2>&1
    rc=$?
    tr -d '\r' < "$work/$name.log" > "$work/$name.log.tmp" && mv "$work/$name.log.tmp" "$work/$name.log"
}

kernel_never_ran() {
    ! grep -q -e 'rvf-boot: entering kernel' -e "$MARKER" -e 'Linux version' -e 'reboot: ' "$1"
}

# expect_refusal NAME PATTERN ARGS... — exactly one error line matching
# PATTERN, code 14, the kernel never entered.
expect_refusal() {
    local name="$1" pattern="$2"; shift 2
    boot "$name" "$@"
    local log="$work/$name.log" n
    n=$(grep -c '^rvf-boot: error: ' "$log")
    if [ "$rc" != "$AUTH_CODE" ]; then fail "$name" "exit status $rc, want $AUTH_CODE" "$log"
    elif [ "$n" != 1 ]; then fail "$name" "$n error lines, want exactly 1" "$log"
    elif ! grep -q "^rvf-boot: error: .*$pattern" "$log"; then fail "$name" "error line does not say '$pattern'" "$log"
    elif ! kernel_never_ran "$log"; then fail "$name" "the kernel ran" "$log"
    else pass "$name" "code $AUTH_CODE: $(grep '^rvf-boot: error: ' "$log" | cut -c18- | cut -c1-100)"
    fi
}

# expect_marker NAME CMDLINE NEED ARGS... — boots to /init with CMDLINE as
# /proc/cmdline, and the stub's log contains NEED.
expect_marker() {
    local name="$1" want="$2" need="$3"; shift 3
    boot "$name" "$@"
    local log="$work/$name.log" got
    got=$(grep -m1 "^$MARKER cmdline=" "$log" | sed "s/^$MARKER cmdline=//; s/[[:space:]]*\$//")
    if [ "$rc" != 0 ]; then fail "$name" "exit status $rc, want 0" "$log"
    elif [ "$got" != "$want" ]; then fail "$name" "/proc/cmdline is '$got', want '$want'" "$log"
    elif grep -q '^rvf-boot: error: ' "$log"; then fail "$name" "stub printed an error" "$log"
    elif ! grep -qF -- "$need" "$log"; then fail "$name" "no '$need' in the log" "$log"
    else pass "$name" "booted to /init: $(grep -m1 '^rvf-boot: authenticated:' "$log" | cut -c11- | cut -c1-90)"
    fi
}

kernel="" initramfs="" signed="" pubkey="" ruvbot=""
writer="$REPO_DIR/target/release/rvf-writer-05"
setup() {
    [ -n "$signed" ] && return 0
    kernel="$(fetch_kernel)" || return 1
    echo "Debian kernel: $(kernel_version "$kernel")"
    initramfs="$(build_initramfs)" || return 1
    (cd "$REPO_DIR" && env -u RUSTFLAGS cargo build --release --quiet -p rvf-writer-05) >"$work/writer.log" 2>&1 ||
        { cat "$work/writer.log" >&2; return 1; }
    "$writer" signed-kernel "$work/signed.rvf" "$kernel" "$AUTH_CMDLINE" "$SEED" >"$work/writer.out" || return 1
    pubkey="$(sed -n 's/^public key //p' "$work/writer.out")"
    "$writer" tamper-signed "$work/signed.rvf" "$work/tampered.rvf" || return 1
    ruvbot="$work/ruvbot.rvf"
    build_ruvbot_rvf "$kernel" "$ruvbot" || return 1
    signed="$work/signed.rvf"
}

run_case() {
    setup || { fail "$1" "could not build the RVF files"; return; }
    case "$1" in
    signed)
        # A create_signed store (rvf-runtime 0.5.0) boots under its key.
        expect_marker signed "$AUTH_CMDLINE" "rvf-boot: authenticated: signed by" \
            --trusted-key "$OTHER_KEY" --trusted-key "$pubkey" --initrd "$initramfs" "$signed"
        ;;
    signed-tampered)
        # One kernel byte flipped with the image hash, content hash, SHDG entry,
        # manifest hash, page commitment and CRC re-done: only the signature catches it.
        expect_refusal signed-tampered "signature rejected: signature does not verify" \
            --trusted-key "$pubkey" --initrd "$initramfs" "$work/tampered.rvf"
        ;;
    signed-wrong-key)
        expect_refusal signed-wrong-key "no trusted key has the signer's fingerprint" \
            --trusted-key "$OTHER_KEY" --initrd "$initramfs" "$signed"
        ;;
    unsigned)
        expect_refusal unsigned "the file is unsigned (no RVM0 root page)" \
            --trusted-key "$pubkey" --initrd "$initramfs" "$ruvbot"
        ;;
    pin)
        # A RuvBot file (no signature) under its kernel's SHA-256.
        local sha
        sha="$(sha256sum "$kernel" | cut -c1-64)"
        expect_marker pin "$RVF_CMDLINE" "rvf-boot: authenticated: kernel sha256 pinned" \
            --expect-kernel-sha256 "$sha" --initrd "$initramfs" "$ruvbot"
        ;;
    pin-wrong)
        expect_refusal pin-wrong "kernel image (KERNEL_SEG at byte [0-9]*): SHA-256 .* is not the pinned 0000000000000000" \
            --expect-kernel-sha256 "$(printf '0%.0s' {1..64})" --initrd "$initramfs" "$ruvbot"
        ;;
    *) fail "$1" "unknown case (known: ${ALL_CASES[*]})" ;;
    esac
}

for c in "${cases[@]}"; do run_case "$c"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
