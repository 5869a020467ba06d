#!/usr/bin/env bash
# QEMU measured-boot tests (issue 11): boots the Debian-kernel RuvBot RVF
# through the rvf-boot stub with a software TPM 2.0 (boot.sh --tpm: swtpm +
# tpm-tis) and compares what Linux sees with what `rvf-boot measure`
# predicts offline for the same file, --append and --initrd. Prints one
# PASS/FAIL line per case and a final "N passed, M failed"; exits non-zero
# if any case failed.
#
#   qemu/test-tpm.sh [CASE...]   cases: tpm-pcrs tpm-append tpm-eventlog no-tpm
#                                tpm-banks (default: all)
#
# The initramfs's /init mounts sysfs and securityfs and prints
#   RVF-TPM PCR8 <hex of /sys/class/tpm/tpm0/pcr-sha256/8>
#   RVF-TPM PCR9 <hex of .../9>
#   RVF-TPM LOGSIZE <bytes of /sys/kernel/security/tpm0/binary_bios_measurements>
#   RVF-TPM-B64 <line>...   (the binary log, base64)
# then powers off.
#
# PCRs 8 and 9 start at zero and SeaBIOS extends neither (it measures into
# PCRs 0-7 only: the guest's log, checked by tpm-eventlog, has no other
# PCR 8/9 event), so the booted values are the stub's events alone: the
# prediction must equal them exactly. boot.sh --tpm activates only the
# SHA-256 bank (tpm-banks: a TPM with more banks is refused).
set -uo pipefail
# shellcheck source=qemu/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=qemu/testlib.sh
. "$QEMU_DIR/testlib.sh"

TIMEOUT=90
ALL_CASES=(tpm-pcrs tpm-append tpm-eventlog no-tpm tpm-banks)

require_tools qemu-system-x86_64:qemu-system-x86 timeout:coreutils swtpm:swtpm swtpm_setup:swtpm-tools \
    tpm2_eventlog:tpm2-tools base64:coreutils
build_stub
DEBIAN_INITRAMFS=build_tpm_initramfs
start_tests "$@"

# field LOG KEY — the value of "RVF-TPM KEY <value>", lower case.
field() { grep -m1 "^RVF-TPM $2 " "$1" | cut -d' ' -f3 | tr -d '[:space:]' | tr 'A-F' 'a-f'; }

# predict NAME APPEND — rvf-boot measure --json and --event-log for the
# Debian RVF with APPEND and the TPM initramfs; sets $want8 $want9, writes
# $work/NAME.events.
predict() {
    local name="$1" append="$2" json
    json=$("$CLI" measure "$ruvbot" --append "$append" --initrd "$initramfs" --json \
        --event-log "$work/$name.events") || return 1
    want8=$(printf '%s' "$json" | sed -n 's/.*"pcrs":{"8":"\([0-9a-f]\{64\}\)".*/\1/p')
    want9=$(printf '%s' "$json" | sed -n 's/.*"pcrs":{"8":"[0-9a-f]*","9":"\([0-9a-f]\{64\}\)".*/\1/p')
    [ -n "$want8" ] && [ -n "$want9" ]
}

CLI="$REPO_DIR/target/release/rvf-boot"
# need_tpm — need_debian (with the TPM initramfs) and the CLI, built once.
cli_built=""
need_tpm() {
    need_debian || return 1
    [ -n "$cli_built" ] && return 0
    (cd "$REPO_DIR" && env -u RUSTFLAGS cargo build --release --quiet -p rvf-boot-cli) >"$work/cli.log" 2>&1 ||
        { log "cargo build -p rvf-boot-cli failed"; cat "$work/cli.log" >&2; return 1; }
    cli_built=1
}

# measured_boot NAME APPEND — boot with --tpm; checks the stub measured, the
# kernel ran, and PCR 8 and 9 equal the prediction. Sets $got8 $got9.
measured_boot() {
    local name="$1" append="$2" log
    log="$work/$name.log"
    predict "$name" "$append" || { fail "$name" "rvf-boot measure failed"; return 1; }
    boot "$name" --tpm --initrd "$initramfs" --append "$append" "$ruvbot"
    got8=$(field "$log" PCR8) got9=$(field "$log" PCR9)
    if [ "$rc" != 0 ]; then fail "$name" "exit status $rc, want 0" "$log"
    elif ! grep -q '^rvf-boot: measured 4 events into PCRs 9 and 8' "$log"; then fail "$name" "the stub did not measure" "$log"
    elif ! grep -q '^RVF-TPM END' "$log"; then fail "$name" "/init did not finish" "$log"
    elif [ "$got8" != "$want8" ]; then fail "$name" "PCR 8 is '$got8', rvf-boot measure predicts $want8" "$log"
    elif [ "$got9" != "$want9" ]; then fail "$name" "PCR 9 is '$got9', rvf-boot measure predicts $want9" "$log"
    else return 0
    fi
    return 1
}

run_case() {
    case "$1" in
    tpm-pcrs)
        need_tpm || { fail tpm-pcrs "could not build the RVF"; return; }
        measured_boot tpm-pcrs "rvf.tpm=1" &&
            pass tpm-pcrs "PCR 8 ${got8:0:16}.. and PCR 9 ${got9:0:16}.. as predicted ($secs)"
        ;;
    tpm-append)
        # Another --append: PCR 8 changes (and is predicted), PCR 9 does not.
        need_tpm || { fail tpm-append "could not build the RVF"; return; }
        predict tpm-append-ref "rvf.tpm=1" || { fail tpm-append "rvf-boot measure failed"; return; }
        local ref8="$want8" ref9="$want9"
        measured_boot tpm-append "rvf.tpm=2 quiet" || return
        if [ "$got8" = "$ref8" ]; then fail tpm-append "PCR 8 did not change with --append"
        elif [ "$got9" != "$ref9" ]; then fail tpm-append "PCR 9 changed with --append"
        else pass tpm-append "other --append: PCR 8 ${got8:0:16}.. as predicted, PCR 9 unchanged ($secs)"
        fi
        ;;
    tpm-eventlog)
        # The guest's log: its size as Linux reports it, the stub's entries
        # byte for byte at its end, and tpm2_eventlog parses it, finds the
        # events and replays PCR 8 and 9 to the booted values.
        need_tpm || { fail tpm-eventlog "could not build the RVF"; return; }
        measured_boot tpm-eventlog "rvf.tpm=1" || return
        local log="$work/tpm-eventlog.log" bin="$work/guest.log" size ours n yaml
        grep '^RVF-TPM-B64 ' "$log" | cut -d' ' -f2 | base64 -d > "$bin" 2>/dev/null ||
            { fail tpm-eventlog "the log is not base64" "$log"; return; }
        size=$(field "$log" LOGSIZE)
        ours="$work/tpm-eventlog.events"
        n=$(stat -c %s "$ours")
        tpm2_eventlog "$bin" > "$work/eventlog.yaml" 2>&1
        local erc=$?
        yaml="$work/eventlog.yaml"
        if [ "$(stat -c %s "$bin")" != "$size" ]; then fail tpm-eventlog "copied $(stat -c %s "$bin") bytes, Linux says $size" "$log"
        elif ! cmp -s <(tail -c "$n" "$bin") "$ours"; then fail tpm-eventlog "the log does not end with rvf-boot measure --event-log's $n bytes" "$log"
        elif [ "$erc" != 0 ]; then fail tpm-eventlog "tpm2_eventlog failed (status $erc)" "$yaml"
        elif ! grep -q 'rvf-boot: kernel image' "$yaml" || ! grep -q 'rvf-boot: RVF manifest' "$yaml" ||
             ! grep -q 'rvf-boot: initrd' "$yaml" || ! grep -q 'kernel_cmdline: .*rvf.tpm=1' "$yaml"; then
            fail tpm-eventlog "tpm2_eventlog does not show the stub's four events" "$yaml"
        elif ! grep -qi "8 *: *0x$want8" "$yaml" || ! grep -qi "9 *: *0x$want9" "$yaml"; then
            fail tpm-eventlog "tpm2_eventlog's replay of PCR 8/9 differs from the booted values" "$yaml"
        else pass tpm-eventlog "$size-byte log, ends with our $n bytes; tpm2_eventlog finds the events, replays PCR 8/9 ($secs)"
        fi
        ;;
    no-tpm)
        # Without --tpm: one line, nothing measured, the kernel runs.
        need_tpm || { fail no-tpm "could not build the RVF"; return; }
        boot no-tpm --initrd "$initramfs" --append "rvf.tpm=0" "$ruvbot"
        local log="$work/no-tpm.log"
        if [ "$rc" != 0 ]; then fail no-tpm "exit status $rc, want 0" "$log"
        elif [ "$(grep -c '^rvf-boot: no TPM: nothing measured$' "$log")" != 1 ]; then fail no-tpm "no 'no TPM' line" "$log"
        elif grep -q '^rvf-boot: measured' "$log"; then fail no-tpm "the stub measured without a TPM" "$log"
        elif ! grep -q '^RVF-TPM END' "$log"; then fail no-tpm "the kernel's /init did not run" "$log"
        else pass no-tpm "one line 'rvf-boot: no TPM: nothing measured', kernel booted ($secs)"
        fi
        ;;
    tpm-banks)
        # swtpm with all four banks (SHA-1, -256, -384, -512): the stub
        # cannot give its entries every bank's digest, so it refuses before
        # extending anything (code 13); the kernel never runs.
        need_tpm || { fail tpm-banks "could not build the RVF"; return; }
        RVF_BOOT_SWTPM_BANKS=sha1,sha256,sha384,sha512 boot tpm-banks --tpm --initrd "$initramfs" "$ruvbot"
        local log="$work/tpm-banks.log" want="rvf-boot: error: measured boot: the TPM has 4 PCR banks active"
        if [ "$rc" != 13 ]; then fail tpm-banks "exit status $rc, want 13" "$log"
        elif [ "$(grep -c '^rvf-boot: error: ' "$log")" != 1 ]; then fail tpm-banks "want exactly one error line" "$log"
        elif ! grep -q "^$want" "$log"; then fail tpm-banks "the error line does not say '$want'" "$log"
        elif ! kernel_never_ran "$log" || grep -q '^RVF-TPM' "$log"; then fail tpm-banks "the kernel ran" "$log"
        else pass tpm-banks "code 13: $(grep '^rvf-boot: error: ' "$log" | cut -c18- | cut -c1-70).. ($secs)"
        fi
        ;;
    *) fail "$1" "unknown case (known: ${ALL_CASES[*]})" ;;
    esac
}

run_cases
