#!/usr/bin/env bash
# QEMU boot tests of the rvf-boot stub (run by CI). Each boot has a 60 s
# timeout. Prints one PASS/FAIL line per case and a final "N passed, M failed";
# exits non-zero if any case failed.
#
#   qemu/test.sh [CASE...]     cases: ruvbot ruvbot-smp2 ruvbot-smp1
#                              ruvbot-smp4 wire testkernel flip flip-rehash
#                              image-hash cmdline-long small-ram path-comma
#                              kernel-exit append-max append-over
#                              microvm microvm-seabios microvm-one-module
#                              microvm-flip microvm-signed exit-i8042 tpm-crb
#                              (default: all)
#
# Every RVF is written at test time by the test kit (host-tests/testkit): no
# node, no seed writer. Cases on the downloaded Debian kernel print its
# package version.
set -uo pipefail
# shellcheck source=qemu/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=qemu/testlib.sh
. "$QEMU_DIR/testlib.sh"

TIMEOUT=60
RVF_CMDLINE="console=ttyS0 ruvbot.api_port=3000 ruvbot.mode=rvf quiet"   # build-rvf.js (and the test kit)
WIRE_CMDLINE="console=ttyS0 rvf.test=1"                                   # host-tests/writers/common.rs
ALL_CASES=(ruvbot ruvbot-smp2 ruvbot-smp1 ruvbot-smp4 wire testkernel flip flip-rehash image-hash cmdline-long
           small-ram path-comma kernel-exit)
# What the stub prints about the second CPU when there is one: it hashed
# beside the inflate (at least one job), or it did not check in within the
# window (a loaded host) and the boot CPU verified alone. The window decides
# only who hashes, never the result, so the cases accept either line; which
# one came is printed, not asserted (no test asserts a timing).
ON_THE_AP='^rvf-boot: (second CPU: [1-9][0-9]* hash jobs beside the inflate, .*; parked and reset for Linux|one CPU: no application processor checked in within 55 ms of its SIPI; verified on the boot CPU alone)$'
# The stub's -append limit (the library's cmdline::APPEND_MAX: QEMU's PVH
# option ROM holds 4096 bytes with the NUL), both sides.
APPEND_MAX=4095
ALL_CASES+=(append-max append-over)
# QEMU -M microvm (boot.sh --machine microvm): qboot, its default firmware,
# and SeaBIOS; the initramfs through fw_cfg or packed in the RVF's module;
# boot.sh appends tsc_early_khz=<host kHz> there (TCG).
ALL_CASES+=(microvm microvm-seabios microvm-one-module microvm-flip microvm-signed)
# Firecracker's and Cloud Hypervisor's traits on QEMU: no isa-debug-exit
# (the stub's i8042 way out), a CRB TPM (left alone, never a hang).
ALL_CASES+=(exit-i8042 tpm-crb)
# The Debian kernel as an ELF vmlinux (qemu/vmlinux.sh unpacks whichever of
# gzip, xz, lz4 or zstd apt's bzImage carries): on pc and on microvm, and the
# unpacker's own round trip through every format.
ALL_CASES+=(vmlinux vmlinux-microvm vmlinux-unpack)
# A 250 MiB image that is no kernel, stored in about 250 KB: refused on its
# first 4 KiB (refuse early, accept late), the image never inflated.
ALL_CASES+=(huge-image)
TSC_KHZ="$(host_tsc_khz)"
MICROVM_EXTRA="${TSC_KHZ:+ tsc_early_khz=$TSC_KHZ}"
SIGNED_CMDLINE="console=ttyS0 rvf.auth=1"   # qemu/test-auth.sh
SIGNED_SEED=9

require_tools qemu-system-x86_64:qemu-system-x86 timeout:coreutils
build_stub
build_testkit
NAME_WIDTH=18 DEBIAN_ECHO=1 DEBIAN_TAG=1   # "Debian kernel: <version>", " [<version>]" on its cases' lines
start_tests "$@"

# run_append_case append-max|append-over — an -append of exactly APPEND_MAX
# bytes passes the stub's copy and is refused only later, by the library's
# check against the kernel's cmdline_size (2047), with the full length; one
# byte more is refused by the stub's copy itself. Same code 8, told apart by
# the message.
run_append_case() {
    local name="$1" len pad
    need_debian || { fail "$name" "could not build the RVF"; return; }
    len=$APPEND_MAX
    [ "$name" = append-over ] && len=$((APPEND_MAX + 1))
    pad="rvf.pad=$(head -c $((len - 8)) /dev/zero | tr '\0' x)"
    [ ${#pad} -eq "$len" ] || { fail "$name" "pad is ${#pad} bytes, want $len"; return; }
    if [ "$name" = append-max ]; then
        expect_refusal "$name" 8 "kernel command line: too long: $((${#RVF_CMDLINE} + 1 + len)) bytes" \
            --initrd "$initramfs" --append "$pad" "$ruvbot"
    else
        expect_refusal "$name" 8 "the -append string is longer than the stub's $APPEND_MAX-byte limit" \
            --initrd "$initramfs" --append "$pad" "$ruvbot"
    fi
}

run_case() {
    case "$1" in
    exit-i8042)
        # No isa-debug-exit (as on Firecracker): after its one error line the
        # stub leaves through ACPI S5 (nothing on pc) and the i8042 reset,
        # which ends QEMU -no-reboot with status 0; no hang.
        need_debian || { fail exit-i8042 "could not build the RVF"; return; }
        testkit mutate "$ruvbot" "$work/flip-i8042.rvf" flip-stored >/dev/null
        local log="$work/exit-i8042.log" t0 t1
        t0=$(date +%s%N)
        timeout -k 5 "$TIMEOUT" qemu-system-x86_64 -accel tcg -smp 1 -m 256 -no-reboot -display none \
            -monitor none -serial stdio -nic none -kernel "$STUB_BIN" -initrd "$work/flip-i8042.rvf" \
            < /dev/null 2>&1 | tr -d '\r' > "$log"
        rc=${PIPESTATUS[0]}
        t1=$(date +%s%N)
        secs=$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.2fs", ns / 1e9 }')
        if [ "$rc" != 0 ]; then fail exit-i8042 "QEMU exit status $rc, want 0 (i8042 reset with -no-reboot)" "$log"
        elif [ "$(grep -c '^rvf-boot: error: ' "$log")" != 1 ]; then fail exit-i8042 "want exactly one error line" "$log"
        elif ! grep -q '^rvf-boot: error: .*does not match content_hash' "$log"; then fail exit-i8042 "not the content-hash refusal" "$log"
        elif ! kernel_never_ran "$log"; then fail exit-i8042 "the kernel ran" "$log"
        else pass exit-i8042 "no isa-debug-exit: one error line, then QEMU ended by the i8042 reset ($secs)"
        fi
        ;;
    tpm-crb)
        # A CRB TPM (Cloud Hypervisor's kind): the ACPI TPM2 table says start
        # method 7, so the stub writes nothing to it, says so, and boots.
        need_debian || { fail tpm-crb "could not build the RVF"; return; }
        RVF_BOOT_TPM_DEVICE=tpm-crb boot tpm-crb --tpm --initrd "$initramfs" "$ruvbot"
        local log="$work/tpm-crb.log" got
        got=$(grep -m1 "^$MARKER cmdline=" "$log" | sed "s/^$MARKER cmdline=//; s/[[:space:]]*\$//")
        if [ "$rc" != 0 ]; then fail tpm-crb "exit status $rc, want 0" "$log"
        elif [ "$got" != "$RVF_CMDLINE" ]; then fail tpm-crb "/proc/cmdline is '$got', want '$RVF_CMDLINE'" "$log"
        elif [ "$(grep -c "^rvf-boot: no TPM: the ACPI TPM2 table's start method is 7 (CRB), not TIS (6)" "$log")" != 1 ]; then
            fail tpm-crb "no single 'start method is 7 (CRB)' line" "$log"
        elif grep -q '^rvf-boot: measured ' "$log"; then fail tpm-crb "the stub measured into a CRB TPM" "$log"
        else pass tpm-crb "CRB TPM (start method 7) left alone, booted to /init ($secs)"
        fi
        ;;
    vmlinux|vmlinux-microvm)
        # The vmlinux RVF: its PT_LOADs placed at their physical addresses,
        # the zero page for the 64-bit entry at e_entry.
        need_debian || { fail "$1" "could not build the RVF"; return; }
        local vmlinux_rvf machine=pc extra=""
        vmlinux_rvf="$("$QEMU_DIR/vmlinux.sh" 2>"$work/vmlinux.log")" ||
            { fail "$1" "qemu/vmlinux.sh failed" "$work/vmlinux.log"; return; }
        [ "$1" = vmlinux-microvm ] && machine=microvm extra="$MICROVM_EXTRA"
        NEED_LINE='^rvf-boot: verified sha256 image hash; ELF vmlinux, [0-9]+ segments at 0x[0-9a-f]+\.\.0x[0-9a-f]+, entry 0x[0-9a-f]+, cmdline ' \
            expect_marker "$1" "$RVF_CMDLINE$extra" --machine "$machine" --initrd "$initramfs" "$vmlinux_rvf"
        ;;
    huge-image)
        need_debian || { fail huge-image "could not fetch the kernel"; return; }
        truncate -s 250M "$work/zeros.bin"
        testkit ruvbot --kernel "$work/zeros.bin" --output "$work/huge.rvf" >/dev/null ||
            { rm -f "$work/zeros.bin"; fail huge-image "rvf-testkit ruvbot failed"; return; }
        rm -f "$work/zeros.bin"
        expect_refusal huge-image 7 "bzImage header: boot_flag is 0x0, must be 0xaa55" \
            --initrd "$initramfs" "$work/huge.rvf"
        ;;
    vmlinux-unpack)
        # gzip, xz, lz4 and zstd payloads repacked the kernel build's way and
        # unpacked, whichever format apt's kernel uses today.
        need_debian || { fail vmlinux-unpack "could not fetch the kernel"; return; }
        if "$QEMU_DIR/vmlinux.sh" --self-test >"$work/unpack.log" 2>&1; then
            pass vmlinux-unpack "$(tail -n 1 "$work/unpack.log")"
        else
            fail vmlinux-unpack "qemu/vmlinux.sh --self-test failed" "$work/unpack.log"
        fi
        ;;
    microvm)
        # The Debian bzImage RVF on microvm with qboot: the -append string
        # (tsc_early_khz) arrives in qboot's ACPI NVS range, the start-up
        # waits run on the TSC (no port 0x61).
        need_debian || { fail microvm "could not build the RVF"; return; }
        expect_marker microvm "$RVF_CMDLINE$MICROVM_EXTRA" --machine microvm --initrd "$initramfs" "$ruvbot"
        ;;
    microvm-seabios)
        # The same on microvm with SeaBIOS (the RVF through fw_cfg): SeaBIOS
        # leaves IRQ0 pending, which only the masked 8259s keep from Linux.
        need_debian || { fail microvm-seabios "could not build the RVF"; return; }
        expect_marker microvm-seabios "$RVF_CMDLINE$MICROVM_EXTRA" --machine microvm --firmware seabios \
            --initrd "$initramfs" "$ruvbot"
        ;;
    microvm-one-module)
        # One PVH module: the RVF, zero fill, the initramfs at the next 4 KiB
        # boundary (what Firecracker and Cloud Hypervisor pass); no fw_cfg file.
        need_debian || { fail microvm-one-module "could not build the RVF"; return; }
        local isize
        isize=$(stat -c %s "$initramfs")
        NEED_LINE="^rvf-boot: one module: RVF [0-9]+ bytes, initramfs $isize bytes at byte 0x[0-9a-f]*000\$" \
            expect_marker microvm-one-module "$RVF_CMDLINE$MICROVM_EXTRA" --machine microvm --one-module \
            --initrd "$initramfs" "$ruvbot"
        ;;
    microvm-flip)
        # A corrupted RVF on microvm: refused (nonzero status), the kernel never ran.
        need_debian || { fail microvm-flip "could not build the RVF"; return; }
        testkit mutate "$ruvbot" "$work/flip-microvm.rvf" flip-stored >/dev/null
        expect_refusal microvm-flip 3 "does not match content_hash" --machine microvm --one-module \
            --initrd "$initramfs" "$work/flip-microvm.rvf"
        ;;
    microvm-signed)
        # A create_signed store (rvf-runtime 0.5.0, as in qemu/test-auth.sh)
        # boots on microvm under its key.
        need_debian || { fail microvm-signed "could not fetch the kernel"; return; }
        local writer="$REPO_DIR/target/release/rvf-writer-05" pubkey
        if ! (cd "$REPO_DIR" && env -u RUSTFLAGS cargo build --release --quiet -p rvf-writer-05) >"$work/writer.log" 2>&1; then
            fail microvm-signed "cargo build -p rvf-writer-05 failed" "$work/writer.log"; return
        fi
        if ! "$writer" signed-kernel "$work/signed.rvf" "$kernel" "$SIGNED_CMDLINE" "$SIGNED_SEED" >"$work/writer.out" 2>&1; then
            fail microvm-signed "rvf-writer-05 signed-kernel failed" "$work/writer.out"; return
        fi
        pubkey="$(sed -n 's/^public key //p' "$work/writer.out")"
        NEED_LINE='^rvf-boot: authenticated: signed by' expect_marker microvm-signed "$SIGNED_CMDLINE$MICROVM_EXTRA" \
            --machine microvm --one-module --trusted-key "$pubkey" --initrd "$initramfs" "$work/signed.rvf"
        ;;
    append-max|append-over) run_append_case "$1" ;;
    ruvbot)
        # (a) RuvBot RVF (the test kit's build-rvf.js: gzip, SHA-256 hashes) around the
        # relocatable Debian cloud kernel; -append adds an argument. boot.sh's
        # two vCPUs: the hashes ran on the second one.
        need_debian || { fail ruvbot "could not build the RVF"; return; }
        NEED_LINE="$ON_THE_AP" expect_marker ruvbot "$RVF_CMDLINE rvf.extra=a" --initrd "$initramfs" --append "rvf.extra=a" "$ruvbot"
        ;;
    ruvbot-smp2)
        # (a) with two vCPUs: the stub hashes on the second one, parks it and
        # resets it with INIT; Linux must bring both up (/init counts them).
        need_debian || { fail ruvbot-smp2 "could not build the RVF"; return; }
        NEED_LINE="RVF-BOOT-CPUS 2\$
$ON_THE_AP" expect_marker ruvbot-smp2 "$RVF_CMDLINE" --smp 2 --initrd "$initramfs" "$ruvbot"
        ;;
    ruvbot-smp1)
        # (a) with one vCPU: no application processor checks in, the stub
        # says so once and verifies every hash on the boot CPU.
        need_debian || { fail ruvbot-smp1 "could not build the RVF"; return; }
        NEED_LINE='RVF-BOOT-CPUS 1$
^rvf-boot: one CPU: no application processor checked in within 55 ms of its SIPI; verified on the boot CPU alone$
^rvf-boot: Mcycles: .*hashes on the AP 0, hashes inline [1-9][0-9]*, BSP waiting 0\)' \
            expect_marker ruvbot-smp1 "$RVF_CMDLINE" --smp 1 --initrd "$initramfs" "$ruvbot"
        ;;
    ruvbot-smp4)
        # (a) with four vCPUs: the first AP to check in hashes, the others
        # halt; all are reset before the jump and Linux brings up all four.
        need_debian || { fail ruvbot-smp4 "could not build the RVF"; return; }
        NEED_LINE="RVF-BOOT-CPUS 4\$
$ON_THE_AP" expect_marker ruvbot-smp4 "$RVF_CMDLINE" --smp 4 --initrd "$initramfs" "$ruvbot"
        ;;
    wire)
        # (b) wire-dialect RVF written by rvf-runtime 0.5.0 embed_kernel
        # (raw image, XXH3-128 content hash, rvf-runtime image checksum).
        need_debian || { fail wire "could not fetch the kernel"; return; }
        local writer="$REPO_DIR/target/release/rvf-writer-05"
        if ! (cd "$REPO_DIR" && env -u RUSTFLAGS cargo build --release --quiet -p rvf-writer-05) >"$work/writer.log" 2>&1; then
            fail wire "cargo build -p rvf-writer-05 failed" "$work/writer.log"; return
        fi
        if ! "$writer" embed-kernel "$work/wire.rvf" "$kernel" >"$work/writer.log" 2>&1; then
            fail wire "rvf-writer-05 embed-kernel failed" "$work/writer.log"; return
        fi
        expect_marker wire "$WIRE_CMDLINE" --initrd "$initramfs" "$work/wire.rvf"
        ;;
    testkernel)
        # (c) the non-relocatable test kernel (qemu/testkernel) in a RuvBot
        # RVF: it checks the handoff itself and exits QEMU with 33 on success.
        if ! "$QEMU_DIR/testkernel/build.sh" >"$work/tk-build.log" 2>&1; then
            fail testkernel "qemu/testkernel/build.sh failed" "$work/tk-build.log"; return
        fi
        build_ruvbot_rvf "$QEMU_DIR/testkernel/out/testkernel.bzImage" "$work/testkernel.rvf" ||
            { fail testkernel "could not build the RVF"; return; }
        head -c 100000 /dev/urandom > "$work/tk-initrd.bin"
        boot testkernel --initrd "$work/tk-initrd.bin" --append "rvf.extra=c" "$work/testkernel.rvf"
        local log="$work/testkernel.log" ok
        ok=$(grep -m1 '^RVF-TESTKERNEL OK ' "$log")
        if [ "$rc" != 33 ]; then fail testkernel "exit status $rc, want 33 (test kernel OK)" "$log"
        elif [ -z "$ok" ]; then fail testkernel "no RVF-TESTKERNEL OK line" "$log"
        elif [[ "$ok" != *" rip=0x1000200 "* ]]; then fail testkernel "not entered at pref_address + 0x200" "$log"
        elif [[ "$ok" != *"+100000 "* ]]; then fail testkernel "ramdisk size is not 100000" "$log"
        elif [[ "$ok" != *"cmdline=$RVF_CMDLINE rvf.extra=c" ]]; then fail testkernel "cmdline is not the RVF's + -append" "$log"
        else pass testkernel "fixed load at pref_address, zero page checked by the kernel ($secs)"
        fi
        ;;
    flip)
        need_debian || { fail flip "could not build the RVF"; return; }
        testkit mutate "$ruvbot" "$work/flip.rvf" flip-stored >/dev/null
        expect_refusal flip 3 "does not match content_hash" --initrd "$initramfs" "$work/flip.rvf"
        ;;
    flip-rehash)
        # The same flip with the segment's content hash recomputed: refused by
        # the decompression layer behind it (code 5). Which check fires
        # (invalid deflate data, more or less output than image_size, gzip
        # CRC-32 or ISIZE) depends on where the flipped byte lands in this
        # kernel's deflate stream, so any of them passes; the kernel never runs.
        need_debian || { fail flip-rehash "could not build the RVF"; return; }
        testkit mutate "$ruvbot" "$work/flip2.rvf" flip-stored --rehash >/dev/null
        expect_refusal flip-rehash 5 "\\(gzip\\|deflate\\|inflate\\)" --initrd "$initramfs" "$work/flip2.rvf"
        ;;
    image-hash)
        need_debian || { fail image-hash "could not build the RVF"; return; }
        testkit mutate "$ruvbot" "$work/imghash.rvf" image-hash >/dev/null
        expect_refusal image-hash 6 "image_hash matches neither" --initrd "$initramfs" "$work/imghash.rvf"
        ;;
    cmdline-long)
        # The Debian kernel's cmdline_size is 2047.
        need_debian || { fail cmdline-long "could not build the RVF"; return; }
        local pad
        pad="rvf.pad=$(head -c 2100 /dev/zero | tr '\0' x)"
        expect_refusal cmdline-long 8 "kernel command line: too long" --initrd "$initramfs" --append "$pad" "$ruvbot"
        ;;
    small-ram)
        # 64 MiB cannot hold the 51.5 MiB kernel window plus the RVF and the
        # decompressed image.
        need_debian || { fail small-ram "could not build the RVF"; return; }
        expect_refusal small-ram 9 "not enough RAM" --memory 64 --initrd "$initramfs" "$ruvbot"
        ;;
    path-comma)
        # Issue 9 §6: the RVF and initrd paths have commas and spaces; boot.sh
        # must hand both to QEMU intact (the test kernel reports the ramdisk).
        "$QEMU_DIR/testkernel/build.sh" >"$work/tk-build.log" 2>&1 ||
            { fail path-comma "qemu/testkernel/build.sh failed" "$work/tk-build.log"; return; }
        local d="$work/dir, with,commas"
        mkdir -p "$d"
        build_ruvbot_rvf "$QEMU_DIR/testkernel/out/testkernel.bzImage" "$d/test kernel,1.rvf" ||
            { fail path-comma "could not build the RVF"; return; }
        head -c 4321 /dev/urandom > "$d/init rd,,2.bin"
        boot path-comma --initrd "$d/init rd,,2.bin" "$d/test kernel,1.rvf"
        local log="$work/path-comma.log" ok
        ok=$(grep -m1 '^RVF-TESTKERNEL OK ' "$log")
        if [ "$rc" != 33 ]; then fail path-comma "exit status $rc, want 33 (test kernel OK)" "$log"
        elif [[ "$ok" != *"+4321 "* ]]; then fail path-comma "ramdisk size is not 4321 (the initrd was not passed)" "$log"
        else pass path-comma "RVF and initrd paths with ',' and ' ' booted ($secs)"
        fi
        ;;
    kernel-exit)
        # Issue 9 §6: Linux itself writes the stub's refusal code 3 to the
        # stub's isa-debug-exit port. boot.sh saw the stub's handoff line, so
        # it must report the kernel's exit (status 32), not "the stub refused".
        need_debian || { fail kernel-exit "could not build the RVF"; return; }
        local exitrd
        exitrd="$(build_exitport_initramfs)" || { fail kernel-exit "could not build the initramfs"; return; }
        boot kernel-exit --initrd "$exitrd" "$ruvbot"
        local log="$work/kernel-exit.log"
        if [ "$rc" != 32 ]; then fail kernel-exit "exit status $rc, want 32 (the kernel's exit)" "$log"
        elif ! grep -q '^rvf-boot: entering kernel at' "$log"; then fail kernel-exit "no handoff line" "$log"
        elif ! grep -q '^RVF-BOOT-EXITPORT writing' "$log"; then fail kernel-exit "/init did not run" "$log"
        elif grep -q 'the stub refused' "$log"; then fail kernel-exit "reported as a stub refusal" "$log"
        else pass kernel-exit "kernel wrote code 3 to port 0xf4 after the handoff: status 32, not a refusal ($secs)"
        fi
        ;;
    *) fail "$1" "unknown case (known: ${ALL_CASES[*]})" ;;
    esac
}

run_cases
