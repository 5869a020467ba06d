# shellcheck shell=bash
# The harness shared by the QEMU test scripts (test.sh, test-uefi.sh,
# test-auth.sh, test-tpm.sh, test-bundle.sh). Sourced after common.sh; not
# run on its own. A script sets the settings below (defaults: the PVH stub
# through boot.sh), defines run_case CASE and ALL_CASES, then:
#
#   start_tests "$@"     # case selection, $work (removed on exit), counters
#   run_cases            # last line: one PASS/FAIL line per case, then
#                        # "N passed, M failed"; status non-zero on a failure
#
# Settings:
#   TIMEOUT         --timeout of each boot (seconds)
#   BOOT_SCRIPT     boot.sh (the PVH stub) or boot-uefi.sh (rvf-boot.efi)
#   HANDOVER        the loader's hand-over line: the PVH stub's
#                   "rvf-boot: entering kernel", rvf-boot.efi's
#                   "rvf-boot: starting the kernel"
#   LOADER          how FAIL lines name the loader
#   NAME_WIDTH      width of the case name in PASS/FAIL lines
#   TAIL_LINES      lines of the log a FAIL line shows
#   ERROR_WIDTH     characters of the error line a refusal's PASS line shows
#   SHOW_TIME       0: no "(1.23s)" at the end of expect_refusal's PASS line
#   DEBIAN_ECHO     1: need_debian prints "Debian kernel: <version>"
#   DEBIAN_TAG      1: PASS/FAIL lines of cases that called need_debian end
#                   with " [<version>]" (run_cases clears it for each case)
#   DEBIAN_INITRAMFS  the initramfs need_debian builds (build_initramfs)

: "${BOOT_SCRIPT:=boot.sh}"
: "${HANDOVER:=rvf-boot: entering kernel}"
: "${LOADER:=stub}"
: "${NAME_WIDTH:=12}"
: "${TAIL_LINES:=15}"
: "${ERROR_WIDTH:=90}"
: "${SHOW_TIME:=1}"
: "${DEBIAN_ECHO:=0}"
: "${DEBIAN_TAG:=0}"
: "${DEBIAN_INITRAMFS:=build_initramfs}"

# start_tests ARGS... — the cases to run (ARGS, or all of ALL_CASES), a
# fresh $work directory removed on exit, the counters at zero.
start_tests() {
    cases=("$@")
    [ ${#cases[@]} -gt 0 ] || cases=("${ALL_CASES[@]}")
    work="$(mktemp -d)"
    # shellcheck disable=SC2064  # $work is fixed from here on
    trap "rm -rf '$work'" EXIT
    passed=0 failed=0
}

# run_cases — run_case for each selected case, the closing line; the status
# says whether every case passed.
run_cases() {
    local c
    for c in "${cases[@]}"; do uses_debian=0; run_case "$c"; done
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

# Cases on the downloaded Debian kernel name its package version in their
# line (with DEBIAN_TAG=1).
uses_debian=0 debian_version=""
kver() { [ "$uses_debian" = 0 ] || printf ' [%s]' "$debian_version"; }
pass() { passed=$((passed + 1)); printf 'PASS %-*s %s%s\n' "$NAME_WIDTH" "$1" "$2" "$(kver)"; }
# fail NAME TEXT [LOG] — the FAIL line and the tail of LOG.
fail() {
    failed=$((failed + 1)); printf 'FAIL %-*s %s%s\n' "$NAME_WIDTH" "$1" "$2" "$(kver)"
    if [ -n "${3:-}" ] && [ -f "$3" ]; then sed 's/^/    | /' "$3" | tail -n "$TAIL_LINES"; fi
}

# boot NAME ARGS... — BOOT_SCRIPT with the test timeout; log in
# $work/NAME.log without CRs (and, from boot-uefi.sh, run niced, without the
# firmware console's escape sequences), status in $rc, wall time in $secs.
boot() {
    local name="$1"; shift
    local t0 t1
    t0=$(date +%s%N)
    if [ "$BOOT_SCRIPT" = boot-uefi.sh ]; then
        nice -n 10 "$QEMU_DIR/boot-uefi.sh" --timeout "$TIMEOUT" "$@" < /dev/null > "$work/$name.raw" 2>&1
        rc=$?
    else
        "$QEMU_DIR/$BOOT_SCRIPT" --timeout "$TIMEOUT" "$@" < /dev/null > "$work/$name.log" 2>&1
        rc=$?
    fi
    t1=$(date +%s%N)
    secs=$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.2fs", ns / 1e9 }')
    if [ "$BOOT_SCRIPT" = boot-uefi.sh ]; then
        sed 's/\x1b\[[0-9;=?]*[A-Za-z]//g; s/\r//g' "$work/$name.raw" > "$work/$name.log"
    else
        tr -d '\r' < "$work/$name.log" > "$work/$name.log.tmp" && mv "$work/$name.log.tmp" "$work/$name.log"
    fi
}

# kernel_never_ran LOG — the loader did not hand over and nothing of a
# kernel or /init appears in the log.
kernel_never_ran() {
    ! grep -q -e "$HANDOVER" -e "$MARKER" -e 'Linux version' -e 'RVF-TESTKERNEL' \
        -e 'EFI stub: ' -e 'reboot: ' "$1"
}

# expect_refusal NAME CODE PATTERN ARGS... — a negative boot: exactly one
# error line matching PATTERN, status CODE, the kernel never ran.
expect_refusal() {
    local name="$1" code="$2" pattern="$3"; shift 3
    boot "$name" "$@"
    local log="$work/$name.log" n time=""
    [ "$SHOW_TIME" = 0 ] || time=" ($secs)"
    n=$(grep -c '^rvf-boot: error: ' "$log")
    if [ "$rc" != "$code" ]; then fail "$name" "exit status $rc, want $code" "$log"
    elif [ "$n" != 1 ]; then fail "$name" "$n error lines, want exactly 1" "$log"
    elif ! grep -q "^rvf-boot: error: .*$pattern" "$log"; then fail "$name" "error line does not say '$pattern'" "$log"
    elif ! kernel_never_ran "$log"; then fail "$name" "the kernel ran" "$log"
    else pass "$name" "code $code: $(grep '^rvf-boot: error: ' "$log" | cut -c18- | cut -c1-"$ERROR_WIDTH")$time"
    fi
}

# marker_text NAME GOT NEED LOG — the text of expect_marker's PASS line (a
# script may define its own after sourcing this file).
marker_text() { printf "marker, cmdline from the RVF: '%s' (%s)" "$2" "$secs"; }

# unmatched PATTERNS LOG — the first of PATTERNS (extended regular
# expressions, one per line) that does not match exactly one line of LOG;
# status 1 when each does.
unmatched() {
    local p
    while IFS= read -r p; do
        [ -z "$p" ] || [ "$(grep -cE -- "$p" "$2")" = 1 ] || { printf '%s\n' "$p"; return 0; }
    done <<< "$1"
    return 1
}

# expect_marker NAME CMDLINE ARGS... — boots to /init, whose marker line
# carries exactly CMDLINE as /proc/cmdline; the loader printed no error, its
# hand-over line and one "no TPM" line (no --tpm). With NEED_LINE set (one or
# more extended regular expressions, one per line) exactly one line of the
# log matches each of them too.
expect_marker() {
    local name="$1" want="$2" need="${NEED_LINE:-}"; shift 2
    boot "$name" "$@"
    local log="$work/$name.log" got bad
    got=$(grep -m1 "^$MARKER cmdline=" "$log" | sed "s/^$MARKER cmdline=//; s/[[:space:]]*\$//")
    if [ "$rc" != 0 ]; then fail "$name" "exit status $rc, want 0" "$log"
    elif ! grep -q "^$MARKER " "$log"; then fail "$name" "no $MARKER line from /init" "$log"
    elif [ "$got" != "$want" ]; then fail "$name" "/proc/cmdline is '$got', want '$want'" "$log"
    elif grep -q '^rvf-boot: error: ' "$log"; then fail "$name" "$LOADER printed an error" "$log"
    elif ! grep -q "^$HANDOVER" "$log"; then fail "$name" "no hand-over line from the loader" "$log"
    elif [ "$(grep -c '^rvf-boot: no TPM: nothing measured$' "$log")" != 1 ]; then fail "$name" "no single 'no TPM' line (no --tpm)" "$log"
    elif [ -n "$need" ] && bad=$(unmatched "$need" "$log"); then fail "$name" "no single line matching '$bad'" "$log"
    else pass "$name" "$(marker_text "$name" "$got" "$need" "$log")"
    fi
}

# need_debian — the Debian cloud kernel ($kernel), DEBIAN_INITRAMFS
# ($initramfs) and a RuvBot RVF of the two ($ruvbot), built once.
kernel="" initramfs="" ruvbot=""
need_debian() {
    [ "$DEBIAN_TAG" = 0 ] || uses_debian=1
    [ -n "$ruvbot" ] && return 0
    kernel="$(fetch_kernel)" || return 1
    debian_version="$(kernel_version "$kernel")"
    [ "$DEBIAN_ECHO" = 0 ] || echo "Debian kernel: $debian_version"
    # shellcheck disable=SC2034  # for the scripts
    initramfs="$("$DEBIAN_INITRAMFS")" || return 1
    ruvbot="$work/ruvbot-debian.rvf"
    build_ruvbot_rvf "$kernel" "$ruvbot" || return 1
}
