#!/usr/bin/env bash
# QEMU boot tests of rvf-boot.efi under UEFI Secure Boot (issue 22): OVMF
# with Secure Boot enforcing and Debian's snakeoil certificate as PK, KEK and
# db, the loader signed with sbsign (qemu/boot-uefi.sh --secure-boot). Prints
# one PASS/FAIL line per case and a final "N passed, M failed"; exits
# non-zero if any case failed.
#
#   qemu/test-secureboot.sh [CASE...]   cases: unsigned no-policy db-signed pin
#                                       pin-wrong signed tampered tpm-pcr7 shim
#                                       shim-refused (default: all)
#
# unsigned   the loader unsigned: the firmware refuses it (`Access Denied`),
#            boot-uefi.sh stops QEMU and reports the refusal (status 15);
# no-policy  the signed loader without a policy, Debian's kernel (signed by
#            Debian, not in db): LoadImage refuses it, one error line, code 15;
# db-signed  the same loader, Debian's kernel re-signed with the db key
#            (sbattach --remove, sbsign): boots, Linux says Secure Boot is on;
# pin        a loader pinning Debian's kernel: boots it although db does not
#            know it (the scoped security override), Secure Boot on in Linux;
# pin-wrong  an all-zero pin: refused by rvf-boot (code 14) before LoadImage;
# signed     an rvf-runtime 0.5.0 create_signed store under its key: boots;
# tampered   the signed store with one kernel byte flipped and every hash
#            redone: refused by rvf-boot (signature, code 14);
# tpm-pcr7   the pin boot with a software TPM: PCR 7 carries the firmware's
#            Secure Boot measurements (SecureBoot = 1, PK, KEK, db, dbx and
#            the db entry that allowed the loader), PCR 4 one application
#            (the loader: the override also skips the firmware's PCR 4 event
#            for the kernel, docs/security.md), PCR 8 is rvf-boot measure's
#            prediction;
# shim       Debian's shim (shim-unsigned, fetched with apt-get download and
#            cached like the kernel; its vendor certificate is Debian's CA)
#            signed with the db key starts the loader as its second stage
#            (boot-uefi.sh --sb-shim); without a policy the loader has shim's
#            Shim Lock Verify accept Debian's kernel, and it boots;
# shim-refused  under shim, Debian's kernel with its signature removed and a
#            pin for exactly that image: rvf-boot accepts it, shim refuses it
#            (code 15): under shim the policy narrows, never widens.
#
# Linux prints `secureboot: Secure boot enabled` at loglevel 6; the RuvBot
# file's cmdline has `quiet`, so the boots to /init append loglevel=7.
set -uo pipefail
# shellcheck source=qemu/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=qemu/testlib.sh
. "$QEMU_DIR/testlib.sh"

TIMEOUT=240
RVF_CMDLINE="console=ttyS0 ruvbot.api_port=3000 ruvbot.mode=rvf quiet"   # the test kit's RuvBot writer
AUTH_CMDLINE="console=ttyS0 rvf.auth=1"                                   # as qemu/test-auth.sh
SEED=9        # the signing key: Ed25519 secret [9; 32] (qemu/test-auth.sh's)
# A key that did not sign: rvf-writer-05 `signed`'s (secret [7; 32]).
OTHER_KEY=ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c
AUTH_CODE=14  # ErrorClass::Authentication's exit code
SB_CODE=15    # Secure Boot refused (rvf-boot.efi's Failure::SecureBootRefused; boot-uefi.sh)
LOUD="loglevel=7"
SB_LINE='^\[ *[0-9.]+\] secureboot: Secure boot enabled$'
ALL_CASES=(unsigned no-policy db-signed pin pin-wrong signed tampered tpm-pcr7 shim shim-refused)

require_tools qemu-system-x86_64:qemu-system-x86 timeout:coreutils sbsign:sbsigntool \
    sbattach:sbsigntool openssl:openssl sha256sum:coreutils
build_uefi
BOOT_SCRIPT=boot-uefi.sh HANDOVER="rvf-boot: starting the kernel" LOADER="the loader"
NAME_WIDTH=12 ERROR_WIDTH=110 DEBIAN_TAG=1
start_tests "$@"

# The text of expect_marker's PASS line: the loader's Secure Boot line.
marker_text() {
    printf '/init, Linux: Secure boot enabled; %s (%s)' \
        "$(grep -m1 '^rvf-boot: Secure Boot on' "$4" | cut -c11- | cut -c1-100)" "$secs"
}

# need_key — the snakeoil db key, decrypted for sbsign ($work/db.key).
need_key() {
    [ -f "$work/db.key" ] && return 0
    (umask 077 && openssl pkey -in /usr/share/ovmf/PkKek-1-snakeoil.key -passin pass:snakeoil \
        -out "$work/db.key") 2>"$work/key.log"
}

signed="" pubkey=""
# need_signed — an rvf-runtime 0.5.0 create_signed store of the Debian
# kernel and its tampered copy (rvf-writer-05, key from SEED), as
# qemu/test-auth.sh makes them; sets $signed and $pubkey.
need_signed() {
    need_debian || return 1
    [ -n "$signed" ] && return 0
    local writer="$REPO_DIR/target/release/rvf-writer-05"
    (cd "$REPO_DIR" && env -u RUSTFLAGS nice -n 10 cargo build --release --quiet -p rvf-writer-05) >"$work/writer.log" 2>&1 ||
        { cat "$work/writer.log" >&2; return 1; }
    "$writer" signed-kernel "$work/signed.rvf" "$kernel" "$AUTH_CMDLINE" "$SEED" >"$work/signed.out" || return 1
    "$writer" tamper-signed "$work/signed.rvf" "$work/tampered.rvf" || return 1
    pubkey="$(sed -n 's/^public key //p' "$work/signed.out")"
    [[ "$pubkey" =~ ^[0-9a-f]{64}$ ]] || return 1
    signed="$work/signed.rvf"
}

# need_bare — Debian's kernel with its Authenticode signature removed
# ($work/vmlinuz.unsigned).
need_bare() {
    need_debian || return 1
    [ -s "$work/vmlinuz.unsigned" ] && return 0
    { cp "$kernel" "$work/vmlinuz.tmp" && sbattach --remove "$work/vmlinuz.tmp" &&
      mv "$work/vmlinuz.tmp" "$work/vmlinuz.unsigned"; } >"$work/bare.log" 2>&1
}

shim=""
# need_shim — Debian's shimx64.efi (package shim-unsigned), cached in
# $CACHE_DIR; sets $shim.
need_shim() {
    [ -n "$shim" ] && return 0
    local out="$CACHE_DIR/shimx64.efi" deb
    if [ ! -s "$out" ]; then
        require_tools apt-get:apt dpkg-deb:dpkg
        mkdir -p "$CACHE_DIR/deb"
        (cd "$CACHE_DIR/deb" && { apt-get download shim-unsigned >/dev/null 2>&1 ||
            { apt-get update >/dev/null 2>&1 && apt-get download shim-unsigned >/dev/null 2>&1; }; }) || return 1
        deb="$(ls -t "$CACHE_DIR"/deb/shim-unsigned_*.deb | head -n1)"
        rm -rf "$CACHE_DIR/deb/shim" && mkdir -p "$CACHE_DIR/deb/shim" &&
            dpkg-deb -x "$deb" "$CACHE_DIR/deb/shim" || return 1
        dpkg-deb -f "$deb" Package Version | awk '{ printf "%s%s", sep, $2; sep = " " } END { print "" }' \
            > "$out.version"
        cp "$CACHE_DIR/deb/shim/usr/lib/shim/shimx64.efi" "$out.tmp" && mv "$out.tmp" "$out" || return 1
        rm -rf "$CACHE_DIR/deb/shim"
    fi
    shim="$out"
}

# pcr_types YAML PCR — "TYPE" per event of PCR in tpm2_eventlog's output.
pcr_types() {
    awk -v want="$2" '/^  PCRIndex:/ { pcr = $2 } /^  EventType:/ { if (pcr == want) print $2 }' "$1"
}

run_case() {
    case "$1" in
    unsigned)
        need_debian || { fail unsigned "could not build the RVF"; return; }
        boot unsigned --secure-boot --sb-unsigned --initrd "$initramfs" "$ruvbot"
        local log="$work/unsigned.log"
        if [ "$rc" != "$SB_CODE" ]; then fail unsigned "exit status $rc, want $SB_CODE" "$log"
        elif ! grep -q '^BdsDxe: failed to load .*: Access Denied$' "$log"; then fail unsigned "no 'Access Denied' from the firmware" "$log"
        elif [ "$(grep -c '^boot-uefi.sh: the firmware refused to load rvf-boot.efi (Secure Boot: Access Denied; code 15)$' "$log")" != 1 ]; then
            fail unsigned "boot-uefi.sh did not report the firmware's refusal" "$log"
        elif grep -q '^rvf-boot: ' "$log"; then fail unsigned "the loader ran" "$log"
        elif ! kernel_never_ran "$log"; then fail unsigned "the kernel ran" "$log"
        else pass unsigned "the firmware: $(grep -m1 '^BdsDxe: failed to load .*: Access Denied$' "$log" | sed 's/ from .*:/:/' | cut -c9-80); QEMU stopped, status 15 ($secs)"
        fi
        ;;
    no-policy)
        need_debian || { fail no-policy "could not build the RVF"; return; }
        expect_refusal no-policy "$SB_CODE" \
            "Secure Boot: the firmware refused the verified kernel: LoadImage returned EFI_ACCESS_DENIED (its db does not allow this kernel)\$" \
            --secure-boot --initrd "$initramfs" "$ruvbot"
        local log="$work/no-policy.log"
        if [ "$rc" = "$SB_CODE" ] && [ "$(grep -c '^rvf-boot: Secure Boot on, no boot policy that authenticates the kernel: the firmware.s db decides$' "$log")" != 1 ]; then
            fail no-policy "no line saying the firmware's db decides" "$log"
        fi
        ;;
    db-signed)
        need_bare && need_key || { fail db-signed "could not strip the kernel or decrypt the key"; return; }
        local resigned="$work/vmlinuz.db-signed"
        if ! sbsign --key "$work/db.key" --cert /usr/share/ovmf/PkKek-1-snakeoil.pem \
                --output "$resigned" "$work/vmlinuz.unsigned" >"$work/resign.log" 2>&1; then
            fail db-signed "could not re-sign the kernel" "$work/resign.log"; return
        fi
        build_ruvbot_rvf "$resigned" "$work/db-signed.rvf" || { fail db-signed "could not build the RVF"; return; }
        NEED_LINE="$SB_LINE
^rvf-boot: Secure Boot on, no boot policy that authenticates the kernel: the firmware.s db decides\$" \
            expect_marker db-signed "$RVF_CMDLINE $LOUD" --secure-boot --append "$LOUD" \
            --initrd "$initramfs" "$work/db-signed.rvf"
        ;;
    pin)
        need_debian || { fail pin "could not build the RVF"; return; }
        local sha
        sha="$(sha256sum "$kernel" | cut -c1-64)"
        NEED_LINE="$SB_LINE
^rvf-boot: authenticated: kernel sha256 pinned
^rvf-boot: Secure Boot on: the boot policy authenticated the kernel \\(the kernel pin\\); LoadImage approves exactly its $(stat -c %s "$kernel") bytes\$" \
            expect_marker pin "$RVF_CMDLINE $LOUD" --secure-boot --expect-kernel-sha256 "$sha" \
            --append "$LOUD" --initrd "$initramfs" "$ruvbot"
        ;;
    pin-wrong)
        need_debian || { fail pin-wrong "could not build the RVF"; return; }
        expect_refusal pin-wrong "$AUTH_CODE" \
            "kernel image (KERNEL_SEG at byte [0-9]*): SHA-256 .* is not the pinned 0000000000000000" \
            --secure-boot --expect-kernel-sha256 "$(printf '0%.0s' {1..64})" --initrd "$initramfs" "$ruvbot"
        if [ "$rc" = "$AUTH_CODE" ] && grep -q '^rvf-boot: Secure Boot on' "$work/pin-wrong.log"; then
            fail pin-wrong "the loader went on to LoadImage" "$work/pin-wrong.log"
        fi
        ;;
    signed)
        need_signed || { fail signed "could not build the signed store"; return; }
        NEED_LINE="$SB_LINE
^rvf-boot: authenticated: signed by [0-9a-f]{32} \\(trusted key #1\\), epoch [0-9]+;\$
^rvf-boot: Secure Boot on: the boot policy authenticated the kernel \\(a trusted key.s signature\\); LoadImage approves exactly its [0-9]+ bytes\$" \
            expect_marker signed "$AUTH_CMDLINE" --secure-boot --trusted-key "$OTHER_KEY" \
            --trusted-key "$pubkey" --initrd "$initramfs" "$signed"
        ;;
    tampered)
        need_signed || { fail tampered "could not build the signed store"; return; }
        expect_refusal tampered "$AUTH_CODE" "signature rejected: signature does not verify" \
            --secure-boot --trusted-key "$OTHER_KEY" --trusted-key "$pubkey" --initrd "$initramfs" \
            "$work/tampered.rvf"
        ;;
    tpm-pcr7) tpm_pcr7 ;;
    shim)
        need_debian && need_shim || { fail shim "could not build the RVF or fetch shim"; return; }
        NEED_LINE="$SB_LINE
^rvf-boot: Secure Boot on: shim verified the kernel \\(Shim Lock\\); LoadImage approves exactly its $(stat -c %s "$kernel") bytes\$" \
            expect_marker shim "$RVF_CMDLINE $LOUD" --secure-boot --sb-shim "$shim" --append "$LOUD" \
            --initrd "$initramfs" "$ruvbot"
        ;;
    shim-refused)
        need_bare && need_shim || { fail shim-refused "could not fetch shim or strip the kernel"; return; }
        build_ruvbot_rvf "$work/vmlinuz.unsigned" "$work/bare.rvf" || { fail shim-refused "could not build the RVF"; return; }
        expect_refusal shim-refused "$SB_CODE" \
            "Secure Boot: shim refused the verified kernel: Shim Lock Verify returned EFI_SECURITY_VIOLATION" \
            --secure-boot --sb-shim "$shim" --expect-kernel-sha256 "$(sha256sum "$work/vmlinuz.unsigned" | cut -c1-64)" \
            --initrd "$initramfs" "$work/bare.rvf"
        if [ "$rc" = "$SB_CODE" ] && ! grep -q '^rvf-boot: authenticated: kernel sha256 pinned' "$work/shim-refused.log"; then
            fail shim-refused "rvf-boot did not accept the pinned kernel first" "$work/shim-refused.log"
        fi
        ;;
    *) fail "$1" "unknown case (known: ${ALL_CASES[*]})" ;;
    esac
}

# tpm_pcr7 — the pin boot under --tpm with the TPM initramfs (common.sh's
# build_tpm_initramfs): the guest's event log, parsed by tpm2_eventlog, has
# PCR 7's Secure Boot events, among them SecureBoot = 1 and the db entry
# that verified the loader (EV_EFI_VARIABLE_AUTHORITY), and a nonzero PCR 7;
# PCR 8 is `rvf-boot measure`'s prediction (the loader's events unchanged
# under Secure Boot).
tpm_pcr7() {
    need_debian || { fail tpm-pcr7 "could not build the RVF"; return; }
    require_tools swtpm:swtpm swtpm_setup:swtpm-tools tpm2_eventlog:tpm2-tools base64:coreutils
    local tinit cli="$REPO_DIR/target/release/rvf-boot" json want8 got8 sha append="rvf.tpm=7"
    tinit="$(build_tpm_initramfs)" || { fail tpm-pcr7 "could not build the TPM initramfs"; return; }
    (cd "$REPO_DIR" && env -u RUSTFLAGS nice -n 10 cargo build --release --quiet -p rvf-boot-cli) >"$work/cli.log" 2>&1 ||
        { fail tpm-pcr7 "cargo build -p rvf-boot-cli failed" "$work/cli.log"; return; }
    json=$("$cli" measure "$ruvbot" --append "$append" --initrd "$tinit" --json) ||
        { fail tpm-pcr7 "rvf-boot measure failed"; return; }
    want8=$(printf '%s' "$json" | sed -n 's/.*"pcrs":{"8":"\([0-9a-f]\{64\}\)".*/\1/p')
    sha="$(sha256sum "$kernel" | cut -c1-64)"
    boot tpm-pcr7 --secure-boot --tpm --expect-kernel-sha256 "$sha" --append "$append" --initrd "$tinit" "$ruvbot"
    local log="$work/tpm-pcr7.log" bin="$work/tpm-pcr7.bin" yaml="$work/tpm-pcr7.yaml" types pcr7
    got8=$(grep -m1 '^RVF-TPM PCR8 ' "$log" | cut -d' ' -f3 | tr -d '[:space:]' | tr 'A-F' 'a-f')
    grep '^RVF-TPM-B64 ' "$log" | cut -d' ' -f2 | base64 -d > "$bin" 2>/dev/null
    tpm2_eventlog "$bin" > "$yaml" 2>&1
    local erc=$?
    types="$(pcr_types "$yaml" 7 | sort | uniq -c | awk '{ printf "%s%s x%s", sep, $2, $1; sep = ", " }')"
    pcr7=$(awk '/^  sha256:/ { s = 1; next } s && /^ *7 *:/ { print tolower($3); exit }' "$yaml")
    if [ "$rc" != 0 ]; then fail tpm-pcr7 "exit status $rc, want 0" "$log"
    elif ! grep -q '^RVF-TPM END' "$log"; then fail tpm-pcr7 "/init did not finish" "$log"
    elif [ "$erc" != 0 ]; then fail tpm-pcr7 "tpm2_eventlog failed (status $erc)" "$yaml"
    elif [ -z "$want8" ] || [ "$got8" != "$want8" ]; then fail tpm-pcr7 "PCR 8 is '$got8', rvf-boot measure predicts '$want8'" "$log"
    elif [ "$(pcr_types "$yaml" 7 | grep -c '^EV_EFI_VARIABLE_DRIVER_CONFIG$')" -lt 5 ]; then
        fail tpm-pcr7 "PCR 7 lacks the Secure Boot configuration (SecureBoot, PK, KEK, db, dbx): $types" "$yaml"
    elif [ "$(awk '/^  PCRIndex:/ { pcr = $2 } pcr == 7 && /^    UnicodeName: SecureBoot$/ { f = 1 }
                   f && /^    VariableData:/ { print $2; exit }' "$yaml")" != '"01"' ]; then
        fail tpm-pcr7 "PCR 7 has no SecureBoot variable event saying 1" "$yaml"
    elif [ "$(pcr_types "$yaml" 7 | grep -c '^EV_EFI_VARIABLE_AUTHORITY$')" -lt 1 ]; then
        fail tpm-pcr7 "PCR 7 has no EV_EFI_VARIABLE_AUTHORITY (the db entry that allowed the loader): $types" "$yaml"
    elif [ "$(pcr_types "$yaml" 4 | grep -c '^EV_EFI_BOOT_SERVICES_APPLICATION$')" != 1 ]; then
        fail tpm-pcr7 "PCR 4 does not hold exactly one application (the loader; the override skips the kernel's)" "$yaml"
    elif ! [[ "$pcr7" =~ ^0x[0-9a-f]{64}$ ]] || [ "$pcr7" = "0x$(printf '0%.0s' {1..64})" ]; then
        fail tpm-pcr7 "tpm2_eventlog's replayed PCR 7 is '$pcr7'" "$yaml"
    else pass tpm-pcr7 "PCR 7: $types, SecureBoot = 1, replayed ${pcr7:2:16}..; PCR 4: 1 application; PCR 8 as predicted ($secs)"
    fi
}

run_cases
