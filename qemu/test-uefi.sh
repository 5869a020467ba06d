#!/usr/bin/env bash
# QEMU boot tests of rvf-boot.efi under OVMF (run by CI). OVMF under TCG is
# slow, so the cases are few and the timeout generous (240 s each). Prints
# one PASS/FAIL line per case and a final "N passed, M failed"; exits
# non-zero if any case failed.
#
#   qemu/test-uefi.sh [CASE...]   cases: ruvbot wire flip fallback rvf-path
#                                 testkernel append-over tpm-pcrs tpm-banks
#                                 tpm-nosha256 signed unsigned pin-wrong
#                                 (default: all)
#
# tpm-pcrs boots with a software TPM (boot-uefi.sh --tpm) and compares the
# guest's PCRs and event log with `rvf-boot measure` (qemu/README.md, UEFI
# section, "Measured boot"), and checks the firmware's PCR 7 (Secure Boot
# off: SecureBoot = 0; qemu/test-secureboot.sh tpm-pcr7 checks it on). signed, unsigned and pin-wrong boot through
# loaders built with a policy (boot-uefi.sh --trusted-key /
# --expect-kernel-sha256), as qemu/test-auth.sh does through the PVH stub.
set -uo pipefail
# shellcheck source=qemu/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=qemu/testlib.sh
. "$QEMU_DIR/testlib.sh"

TIMEOUT=240
RVF_CMDLINE="console=ttyS0 ruvbot.api_port=3000 ruvbot.mode=rvf quiet"   # build-rvf.js
WIRE_CMDLINE="console=ttyS0 rvf.test=1"                                   # host-tests/writers/common.rs
APPEND_MAX=4095                                                           # rvf_boot::cmdline::APPEND_MAX
AUTH_CMDLINE="console=ttyS0 rvf.auth=1"                                   # as qemu/test-auth.sh
SEED=9        # the signing key: Ed25519 secret [9; 32] (qemu/test-auth.sh's)
# A key that did not sign: rvf-writer-05 `signed`'s (secret [7; 32]).
OTHER_KEY=ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c
AUTH_CODE=14  # ErrorClass::Authentication's exit code
ALL_CASES=(ruvbot wire flip fallback rvf-path testkernel append-over tpm-pcrs tpm-banks tpm-nosha256
           signed unsigned pin-wrong)

require_tools qemu-system-x86_64:qemu-system-x86 timeout:coreutils
build_uefi
BOOT_SCRIPT=boot-uefi.sh HANDOVER="rvf-boot: starting the kernel" LOADER="the loader"
start_tests "$@"

# The text of expect_marker's PASS line: the cmdline and the NEED_LINE line.
marker_text() {
    if [ -n "$3" ]; then
        printf "marker, cmdline '%s'; %s (%s)" "$2" "$(grep -m1 -E -- "$3" "$4" | cut -c11- | cut -c1-80)" "$secs"
    else
        printf "marker, cmdline '%s' (%s)" "$2" "$secs"
    fi
}

# ---- authenticated boot (boot-uefi.sh --trusted-key / --expect-kernel-sha256)

signed="" pubkey=""
# need_signed — an rvf-runtime 0.5.0 create_signed store of the Debian
# kernel (rvf-writer-05 signed-kernel, key from SEED), as qemu/test-auth.sh
# makes it; sets $signed and $pubkey.
need_signed() {
    need_debian || return 1
    [ -n "$signed" ] && return 0
    local writer="$REPO_DIR/target/release/rvf-writer-05"
    (cd "$REPO_DIR" && env -u RUSTFLAGS nice -n 10 cargo build --release --quiet -p rvf-writer-05) >"$work/writer.log" 2>&1 ||
        { cat "$work/writer.log" >&2; return 1; }
    "$writer" signed-kernel "$work/signed.rvf" "$kernel" "$AUTH_CMDLINE" "$SEED" >"$work/signed.out" || return 1
    pubkey="$(sed -n 's/^public key //p' "$work/signed.out")"
    [[ "$pubkey" =~ ^[0-9a-f]{64}$ ]] || return 1
    signed="$work/signed.rvf"
}

# ---- measured boot (boot-uefi.sh --tpm)

CLI="$REPO_DIR/target/release/rvf-boot"
tpm_initramfs=""
need_tpm() {
    need_debian || return 1
    [ -n "$tpm_initramfs" ] && return 0
    require_tools swtpm:swtpm swtpm_setup:swtpm-tools tpm2_eventlog:tpm2-tools base64:coreutils \
        iconv:libc-bin sha256sum:coreutils od:coreutils
    tpm_initramfs="$(build_tpm_initramfs)" || return 1
    (cd "$REPO_DIR" && env -u RUSTFLAGS nice -n 10 cargo build --release --quiet -p rvf-boot-cli) >"$work/cli.log" 2>&1 ||
        { log "cargo build -p rvf-boot-cli failed"; cat "$work/cli.log" >&2; return 1; }
}

# field LOG KEY — the value of "RVF-TPM KEY <value>", lower case.
field() { grep -m1 "^RVF-TPM $2 " "$1" | cut -d' ' -f3 | tr -d '[:space:]' | tr 'A-F' 'a-f'; }

# extend PCR DIGEST — SHA-256(PCR || DIGEST), hex in and out.
extend() { printf '%b' "$(printf '%s%s' "$1" "$2" | sed 's/../\\x&/g')" | sha256sum | cut -c1-64; }

# hex_of FILE — the bytes of FILE as one line of lower-case hex.
hex_of() { od -An -v -t x1 "$1" | tr -d ' \n'; }

# pcr_events YAML PCR — "TYPE DIGEST" per event of PCR in tpm2_eventlog's
# output, in log order.
pcr_events() {
    awk -v want="$2" '
        /^  PCRIndex:/ { pcr = $2 }
        /^  EventType:/ { type = $2 }
        /^    Digest:/ { d = $2; gsub(/"/, "", d); if (pcr == want) print type, d }' "$1"
}

# tpm_pcrs NAME BANKS BANK_NAMES — the Debian RVF through OVMF with --tpm,
# swtpm's active PCR banks BANKS (swtpm_setup --pcr-banks); the checks are
# listed in qemu/README.md (UEFI section, "Measured boot"). With more banks
# than SHA-256 the log entries carry every bank's digest, so the log checks
# are left to the SHA-256-only case.
tpm_pcrs() {
    local name="$1" banks="$2" bank_names="$3" append="rvf.tpm=1" log json want8 want9 ours
    need_tpm || { fail "$name" "could not build the RVF, the initramfs or the CLI"; return; }
    log="$work/$name.log" ours="$work/$name.events"
    json=$("$CLI" measure "$ruvbot" --append "$append" --initrd "$tpm_initramfs" --json --event-log "$ours") ||
        { fail "$name" "rvf-boot measure failed"; return; }
    want8=$(printf '%s' "$json" | sed -n 's/.*"pcrs":{"8":"\([0-9a-f]\{64\}\)".*/\1/p')
    want9=$(printf '%s' "$json" | sed -n 's/.*"pcrs":{"8":"[0-9a-f]*","9":"\([0-9a-f]\{64\}\)".*/\1/p')
    local -a digests
    mapfile -t digests < <(printf '%s' "$json" | grep -o '"digest":"[0-9a-f]\{64\}"' | cut -d'"' -f4)
    if [ -z "$want8" ] || [ -z "$want9" ] || [ ${#digests[@]} != 4 ]; then
        fail "$name" "cannot read rvf-boot measure's JSON: $json"; return
    fi
    RVF_BOOT_SWTPM_BANKS="$banks" boot "$name" --tpm --initrd "$tpm_initramfs" --append "$append" "$ruvbot"
    local got8 got9 bin="$work/guest.bin" yaml="$work/eventlog.yaml" cmdline initrd_d opts_d
    got8=$(field "$log" PCR8) got9=$(field "$log" PCR9)
    # Linux's EFI stub (6.1+) measures after the loader, into PCR 9 too:
    # EV_EVENT_TAG "LOADED_IMAGE::LoadOptions" (SHA-256 of the UTF-16 load
    # options, NUL included), then EV_EVENT_TAG "Linux initrd" (SHA-256 of
    # the initrd it loaded through LoadFile2).
    cmdline="$RVF_CMDLINE $append"
    opts_d=$(printf '%s\0' "$cmdline" | iconv -f UTF-8 -t UTF-16LE | sha256sum | cut -c1-64)
    initrd_d=$(sha256sum < "$tpm_initramfs" | cut -c1-64)
    local want9_booted want_pcr9 want_pcr8
    want9_booted=$(extend "$(extend "$want9" "$opts_d")" "$initrd_d")
    want_pcr9="EV_IPL ${digests[0]}
EV_IPL ${digests[1]}
EV_IPL ${digests[2]}
EV_EVENT_TAG $opts_d
EV_EVENT_TAG $initrd_d"
    want_pcr8="EV_IPL ${digests[3]}"
    grep '^RVF-TPM-B64 ' "$log" | cut -d' ' -f2 | base64 -d > "$bin" 2>/dev/null
    tpm2_eventlog "$bin" > "$yaml" 2>&1
    local erc=$? guest_hex ours_hex before
    guest_hex=$(hex_of "$bin") ours_hex=$(hex_of "$ours")
    before="${guest_hex%%"$ours_hex"*}"
    if [ "$rc" != 0 ]; then fail "$name" "exit status $rc, want 0" "$log"
    elif [ "$(grep -c "^rvf-boot: measured 4 events into PCRs 9 and 8 through EFI_TCG2_PROTOCOL (PCR banks: $bank_names); Mcycles [0-9]*\$" "$log")" != 1 ]; then
        fail "$name" "the loader did not measure 4 events through EFI_TCG2_PROTOCOL" "$log"
    elif ! grep -q '^RVF-TPM END' "$log"; then fail "$name" "/init did not finish" "$log"
    elif [ "$got8" != "$want8" ]; then fail "$name" "PCR 8 is '$got8', rvf-boot measure predicts $want8" "$log"
    elif [ "$got9" != "$want9_booted" ]; then
        fail "$name" "PCR 9 is '$got9', want $want9_booted (rvf-boot measure's $want9 then Linux's two events)" "$log"
    elif [ "$banks" != sha256 ]; then
        pass "$name" "banks $bank_names: PCR 8 ${got8:0:16}.. as predicted; PCR 9 = prediction + Linux's 2 events ($secs)"
    elif [ "$(stat -c %s "$bin")" != "$(field "$log" LOGSIZE)" ]; then fail "$name" "copied $(stat -c %s "$bin") bytes of log, Linux says $(field "$log" LOGSIZE)" "$log"
    elif [ "$erc" != 0 ]; then fail "$name" "tpm2_eventlog failed (status $erc)" "$yaml"
    elif [ "$before" = "$guest_hex" ] || [ $(( ${#before} % 2 )) != 0 ]; then
        fail "$name" "the guest's log does not hold rvf-boot measure --event-log's $(stat -c %s "$ours") bytes" "$yaml"
    elif [ "$(pcr_events "$yaml" 8)" != "$want_pcr8" ]; then fail "$name" "PCR 8's events are not the loader's command line alone" "$yaml"
    elif [ "$(pcr_events "$yaml" 9)" != "$want_pcr9" ]; then fail "$name" "PCR 9's events are not the loader's 3 then Linux's LoadOptions and initrd" "$yaml"
    elif ! grep -qi "^ *8 *: *0x$got8\$" "$yaml" || ! grep -qi "^ *9 *: *0x$got9\$" "$yaml"; then
        fail "$name" "tpm2_eventlog's replay of PCR 8/9 differs from the booted values" "$yaml"
    elif [ "$(pcr_events "$yaml" 7 | grep -c '^EV_EFI_VARIABLE_DRIVER_CONFIG ')" != 5 ] ||
         [ "$(pcr_events "$yaml" 7 | grep -c '^EV_SEPARATOR ')" != 1 ]; then
        fail "$name" "PCR 7 lacks the firmware's Secure Boot configuration (SecureBoot, PK, KEK, db, dbx, separator)" "$yaml"
    elif [ "$(awk '/^  PCRIndex:/ { pcr = $2 } pcr == 7 && /^    UnicodeName: SecureBoot$/ { f = 1 }
                   f && /^    VariableData:/ { print $2; exit }' "$yaml")" != '"00"' ]; then
        fail "$name" "PCR 7 has no SecureBoot variable event saying 0 (Secure Boot off)" "$yaml"
    else
        pass "$name" "PCR 8 ${got8:0:16}.. as predicted; PCR 9 = prediction + Linux's 2 events; our $(stat -c %s "$ours") log bytes in the guest's log; PCR 7: SecureBoot = 0 ($secs)"
    fi
}

run_case() {
    case "$1" in
    ruvbot)
        # RuvBot RVF (build-rvf.js: gzip, SHA-256) around the Debian cloud
        # kernel; initramfs through LoadFile2, --append through append.txt.
        need_debian || { fail ruvbot "could not build the RVF"; return; }
        expect_marker ruvbot "$RVF_CMDLINE rvf.extra=a" --initrd "$initramfs" --append "rvf.extra=a" "$ruvbot"
        ;;
    wire)
        # Wire-dialect RVF written by rvf-runtime 0.5.0 embed_kernel (raw
        # image, XXH3-128 content hash), as qemu/test.sh's wire case.
        need_debian || { fail wire "could not fetch the kernel"; return; }
        local writer="$REPO_DIR/target/release/rvf-writer-05"
        if ! (cd "$REPO_DIR" && env -u RUSTFLAGS nice -n 10 cargo build --release --quiet -p rvf-writer-05) >"$work/writer.log" 2>&1; then
            fail wire "cargo build -p rvf-writer-05 failed" "$work/writer.log"; return
        fi
        if ! "$writer" embed-kernel "$work/wire.rvf" "$kernel" >"$work/writer.log" 2>&1; then
            fail wire "rvf-writer-05 embed-kernel failed" "$work/writer.log"; return
        fi
        expect_marker wire "$WIRE_CMDLINE rvf.extra=b" --initrd "$initramfs" --append "rvf.extra=b" "$work/wire.rvf"
        ;;
    flip)
        # One byte flipped in the compressed kernel: refused (content hash),
        # the firmware's next boot option is never reached because the loader
        # exits QEMU (qemu-debug-exit on the ESP).
        need_debian || { fail flip "could not build the RVF"; return; }
        testkit mutate "$ruvbot" "$work/flip.rvf" flip-stored >/dev/null
        expect_refusal flip 3 "does not match content_hash" --initrd "$initramfs" "$work/flip.rvf"
        ;;
    fallback)
        # The same refusal without the test's QEMU exit: the loader returns
        # an error status, the firmware reports it and starts its next boot
        # option (the UEFI shell, whose startup.nsh powers off).
        need_debian || { fail fallback "could not build the RVF"; return; }
        [ -f "$work/flip.rvf" ] || testkit mutate "$ruvbot" "$work/flip.rvf" flip-stored >/dev/null
        boot fallback --fallback-shutdown --initrd "$initramfs" "$work/flip.rvf"
        local log="$work/fallback.log" n
        n=$(grep -c '^rvf-boot: error: ' "$log")
        if [ "$rc" != 0 ]; then fail fallback "exit status $rc, want 0 (the shell powered off)" "$log"
        elif [ "$n" != 1 ]; then fail fallback "$n error lines, want exactly 1" "$log"
        elif ! grep -q '^rvf-boot: error: .*does not match content_hash' "$log"; then fail fallback "no content_hash refusal" "$log"
        elif ! grep -q 'BdsDxe: failed to start .*: Security Violation' "$log"; then fail fallback "the firmware did not get EFI_SECURITY_VIOLATION" "$log"
        elif ! grep -q 'BdsDxe: starting .*EFI Internal Shell' "$log"; then fail fallback "the firmware did not go on to its next boot option" "$log"
        elif ! kernel_never_ran "$log"; then fail fallback "the kernel ran" "$log"
        else pass fallback "EFI_SECURITY_VIOLATION to the firmware, next boot option started ($secs)"
        fi
        ;;
    rvf-path)
        # The RVF away from the default path: the firmware's own start of
        # the loader (no load options) is refused (no \EFI\rvf\boot.rvf),
        # the shell's startup.nsh starts it again with the path as its load
        # option, and that one boots.
        need_debian || { fail rvf-path "could not build the RVF"; return; }
        local alt='\EFI\alt\ruvbot-1.rvf'
        boot rvf-path --rvf-path "$alt" --initrd "$initramfs" --append "rvf.extra=p" "$ruvbot"
        local log="$work/rvf-path.log" got
        got=$(grep -m1 "^$MARKER cmdline=" "$log" | sed "s/^$MARKER cmdline=//; s/[[:space:]]*\$//")
        if [ "$rc" != 0 ]; then fail rvf-path "exit status $rc, want 0" "$log"
        elif [ "$(grep -c '^rvf-boot: error: ' "$log")" != 1 ]; then fail rvf-path "want exactly 1 error line (the default path)" "$log"
        elif ! grep -q '^rvf-boot: error: the RVF file: open failed: EFI_NOT_FOUND$' "$log"; then fail rvf-path "the default path was not refused as missing" "$log"
        elif ! grep -qF "rvf-boot: reading $alt" "$log"; then fail rvf-path "the loader did not read $alt" "$log"
        elif [ "$got" != "$RVF_CMDLINE rvf.extra=p" ]; then fail rvf-path "/proc/cmdline is '$got'" "$log"
        else pass rvf-path "default path refused (EFI_NOT_FOUND), load option $alt booted ($secs)"
        fi
        ;;
    testkernel)
        # qemu/testkernel has no EFI stub: verified, then refused because
        # rvf-boot.efi starts Linux only through its EFI stub.
        if ! "$QEMU_DIR/testkernel/build.sh" >"$work/tk-build.log" 2>&1; then
            fail testkernel "qemu/testkernel/build.sh failed" "$work/tk-build.log"; return
        fi
        build_ruvbot_rvf "$QEMU_DIR/testkernel/out/testkernel.bzImage" "$work/testkernel.rvf" ||
            { fail testkernel "could not build the RVF"; return; }
        expect_refusal testkernel 7 "the kernel has no EFI stub (no \"MZ\" at byte 0)" "$work/testkernel.rvf"
        ;;
    append-over)
        # append.txt one byte over the library's APPEND_MAX.
        need_debian || { fail append-over "could not build the RVF"; return; }
        local pad
        pad="rvf.pad=$(head -c $((APPEND_MAX + 1 - 8)) /dev/zero | tr '\0' x)"
        expect_refusal append-over 8 "append.txt holds $((APPEND_MAX + 1)) bytes" --append "$pad" "$ruvbot"
        ;;
    tpm-pcrs) tpm_pcrs tpm-pcrs sha256 SHA-256 ;;
    tpm-banks)
        # All four banks: the firmware hashes and logs every bank (the PVH
        # stub refuses this TPM: it cannot), SHA-256 still as predicted.
        tpm_pcrs tpm-banks sha1,sha256,sha384,sha512 "SHA-1, SHA-256, SHA-384, SHA-512" ;;
    tpm-nosha256)
        # swtpm with only the SHA-1 bank: rvf-boot measure's SHA-256 values
        # cannot hold, so the loader refuses (code 13) before it extends
        # anything; the kernel never runs.
        need_tpm || { fail tpm-nosha256 "could not build the RVF"; return; }
        RVF_BOOT_SWTPM_BANKS=sha1 expect_refusal tpm-nosha256 13 \
            "measured boot: the TPM's SHA-256 PCR bank is not active (active: SHA-1)" \
            --tpm --initrd "$tpm_initramfs" "$ruvbot"
        ;;
    signed)
        # A create_signed store (rvf-runtime 0.5.0) boots under its key, the
        # second of two trusted keys: one "authenticated" line, the stub's.
        need_signed || { fail signed "could not build the signed store"; return; }
        NEED_LINE='^rvf-boot: authenticated: signed by [0-9a-f]{32} \(trusted key #1\), epoch [0-9]+;$' \
            expect_marker signed "$AUTH_CMDLINE" --trusted-key "$OTHER_KEY" --trusted-key "$pubkey" \
            --initrd "$initramfs" "$signed"
        ;;
    unsigned)
        # A RuvBot file (no signature) under the same signature policy (the
        # same loader build): refused by Container::parse, code 14.
        need_signed || { fail unsigned "could not build the signed store"; return; }
        expect_refusal unsigned "$AUTH_CODE" "the file is unsigned (no RVM0 root page)" \
            --trusted-key "$OTHER_KEY" --trusted-key "$pubkey" --initrd "$initramfs" "$ruvbot"
        ;;
    pin-wrong)
        # A RuvBot file under an all-zero kernel pin: its verified image is
        # refused by Policy::check_kernel, code 14.
        need_debian || { fail pin-wrong "could not build the RVF"; return; }
        expect_refusal pin-wrong "$AUTH_CODE" \
            "kernel image (KERNEL_SEG at byte [0-9]*): SHA-256 .* is not the pinned 0000000000000000" \
            --expect-kernel-sha256 "$(printf '0%.0s' {1..64})" --initrd "$initramfs" "$ruvbot"
        ;;
    *) fail "$1" "unknown case (known: ${ALL_CASES[*]})" ;;
    esac
}

run_cases
