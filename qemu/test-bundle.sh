#!/usr/bin/env bash
# In-guest self-extraction (issue 12): boot a RuvBot RVF through the stub
# with the same .rvf attached as a virtio-blk disk; the initramfs's /init
# loads the Debian kernel's virtio modules and runs the static rvf-boot CLI:
#   rvf-boot extract /dev/vda --bundle /app [--trusted-key K] [--expect-bundle-sha256 P]
# (the policy comes from the kernel command line: `rvfkey=K rvfpin=P`, which
# the kernel hands to /init as environment variables), then prints one marker line
#   RVF-BUNDLE rc=<status> files=<files under /app, .rvf/ excluded> package.json=<sha256>
# which must equal the host's extraction of the same file with the same binary
# under the same policy.
# Prints one PASS/FAIL line per case and a final "N passed, M failed"; exits
# non-zero if any case failed.
#
#   qemu/test-bundle.sh [CASE...]   cases: bundle bundle-many bundle-hostile
#                                   bundle-signed bundle-forged bundle-pinned
#                                   bundle-microvm (default: all)
#
# bundle          the test kit's RuvBot package (3 files) around the Debian kernel
# bundle-many     a package directory of several hundred files (rvf-testkit --package)
# bundle-hostile  a bundle with a "../" path: refused in the guest, /app never created
# bundle-signed   a create_signed store (rvf-runtime 0.5.0: the Debian kernel and a
#                 WASM module) extracted under its key (--trusted-key)
# bundle-forged   that store with its module byte, bytecode hash, content hash, SHDG
#                 entry, manifest hash and page commitment re-done: refused under
#                 the key (the signature does not verify), /app never created
# bundle-pinned   the RuvBot file under --expect-bundle-sha256 of its bundle
# bundle-microvm  the bundle case on QEMU -M microvm with the RVF as a
#                 virtio-blk-device (virtio-mmio, found through ACPI), the layout
#                 rvf-launch uses
set -uo pipefail
# shellcheck source=qemu/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=qemu/testlib.sh
. "$QEMU_DIR/testlib.sh"

TIMEOUT=90
ALL_CASES=(bundle bundle-many bundle-hostile bundle-signed bundle-forged bundle-pinned bundle-microvm)
SEED=9   # the signing key of bundle-signed: Ed25519 secret [9; 32]
SIGNED_CMDLINE="console=ttyS0 rvf.bundle=1"
# Load order (each module's `depends=`): virtio_blk needs virtio and virtio_ring;
# virtio_mmio is the transport on microvm (the pc cases' virtio_pci finds nothing there).
MODULES=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_mmio virtio_blk)

require_tools qemu-system-x86_64:qemu-system-x86 timeout:coreutils busybox-static:busybox-static \
    cpio:cpio gzip:gzip sha256sum:coreutils
build_stub
build_testkit
NAME_WIDTH=14 TAIL_LINES=20
start_tests "$@"

# The CLI as a static binary (glibc, +crt-static), in its own target dir so
# the normal build is not invalidated. Used in the guest and on the host.
CLI=""
build_static_cli() {
    [ -z "$CLI" ] || return 0
    log "building the static rvf-boot CLI (target/static)"
    (cd "$REPO_DIR" && env -u CARGO_BUILD_RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS \
        RUSTFLAGS='-C target-feature=+crt-static' \
        cargo build --release --quiet -p rvf-boot-cli --target x86_64-unknown-linux-gnu \
        --target-dir "$REPO_DIR/target/static") >&2 || return 1
    CLI="$REPO_DIR/target/static/x86_64-unknown-linux-gnu/release/rvf-boot"
    file_is_static "$CLI" || { log "$CLI is not static"; return 1; }
}

# The Debian kernel and, from its package, the virtio block modules.
kernel="" modules=""
need_kernel() {
    [ -z "$kernel" ] || return 0
    kernel="$(fetch_kernel)" || return 1
    local deb
    deb="$(ls -t "$CACHE_DIR"/deb/linux-image-*.deb 2>/dev/null | head -n1)"
    if [ -z "$deb" ]; then
        # The cached bzImage came without its package: fetch both again.
        rm -f "$kernel"
        kernel="$(fetch_kernel)" || return 1
        deb="$(ls -t "$CACHE_DIR"/deb/linux-image-*.deb 2>/dev/null | head -n1)"
    fi
    [ -n "$deb" ] || { log "no kernel package in $CACHE_DIR/deb"; return 1; }
    echo "Debian kernel: $(kernel_version "$kernel")"
    modules="$work/modules"
    mkdir -p "$work/deb" "$modules"
    dpkg-deb -x "$deb" "$work/deb" || return 1
    local m f
    for m in "${MODULES[@]}"; do
        f="$(find "$work/deb/lib/modules" -name "$m.ko" | head -n1)"
        [ -n "$f" ] || { log "$deb has no $m.ko"; return 1; }
        cp "$f" "$modules/"
    done
    rm -rf "$work/deb"
}

# The initramfs: static busybox, the static CLI, the modules and /init.
initramfs=""
build_bundle_initramfs() {
    [ -z "$initramfs" ] || return 0
    local root="$work/root"
    mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/lib/modules"
    cp /bin/busybox "$root/bin/busybox"
    ln -s busybox "$root/bin/sh"
    cp "$CLI" "$root/bin/rvf-boot"
    cp "$modules"/*.ko "$root/lib/modules/"
    cat > "$root/init" <<INIT
#!/bin/busybox sh
export PATH=/bin
bb=/bin/busybox
\$bb mount -t proc proc /proc
\$bb mount -t devtmpfs devtmpfs /dev 2>/dev/null
\$bb mount -t sysfs sysfs /sys
for m in ${MODULES[*]}; do \$bb insmod /lib/modules/\$m.ko || echo "RVF-BUNDLE-NOTE insmod \$m failed" > /dev/console; done
i=0
while [ ! -b /dev/vda ] && [ \$i -lt 50 ]; do \$bb sleep 0.1; i=\$((i + 1)); done
set --
[ -n "\${rvfkey:-}" ] && set -- "\$@" --trusted-key "\$rvfkey"
[ -n "\${rvfpin:-}" ] && set -- "\$@" --expect-bundle-sha256 "\$rvfpin"
/bin/rvf-boot extract /dev/vda --bundle /app "\$@" > /tmp/out 2>&1
rc=\$?
\$bb sed 's/^/RVF-BUNDLE-OUT /' /tmp/out > /dev/console
files=\$(\$bb find /app -type f ! -path '/app/.rvf/*' 2>/dev/null | \$bb wc -l)
sha=\$(\$bb sha256sum /app/package.json 2>/dev/null | \$bb cut -d' ' -f1)
exists=no; [ -e /app ] && exists=yes
echo "RVF-BUNDLE rc=\$rc files=\$files package.json=\${sha:-none} app=\$exists" > /dev/console
\$bb poweroff -f
INIT
    chmod 755 "$root/init"
    initramfs="$work/initramfs-bundle.cpio.gz"
    (cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -6 > "$initramfs") || return 1
}

setup() {
    build_static_cli || { fail "$1" "static build of the CLI failed"; return 1; }
    need_kernel || { fail "$1" "could not get the Debian kernel and its modules"; return 1; }
    build_bundle_initramfs || { fail "$1" "could not build the initramfs"; return 1; }
}

# The policy of the next boot and host extraction: a trusted key, a bundle pin.
POLICY_KEY="" POLICY_PIN=""
policy_flags() {
    [ -z "$POLICY_KEY" ] || printf '%s\n' --trusted-key "$POLICY_KEY"
    [ -z "$POLICY_PIN" ] || printf '%s\n' --expect-bundle-sha256 "$POLICY_PIN"
}

# boot_with_disk NAME RVF — boot RVF through the stub with RVF as /dev/vda,
# the policy on the kernel command line for /init.
boot_with_disk() {
    local name="$1" rvf="$2" append=""
    [ -z "$POLICY_KEY" ] || append="rvfkey=$POLICY_KEY"
    [ -z "$POLICY_PIN" ] || append="${append:+$append }rvfpin=$POLICY_PIN"
    local extra=()
    [ -z "$append" ] || extra=(--append "$append")
    if [ "${MACHINE:-pc}" = microvm ]; then
        RVF_BOOT_QEMU_ARGS="-drive file=$rvf,if=none,id=rvf,format=raw,readonly=on -device virtio-blk-device,drive=rvf" \
            boot "$name" --machine microvm --initrd "$initramfs" "${extra[@]}" "$rvf"
    else
        RVF_BOOT_QEMU_ARGS="-drive file=$rvf,if=virtio,format=raw,readonly=on" \
            boot "$name" --initrd "$initramfs" "${extra[@]}" "$rvf"
    fi
}

# host_marker RVF — what the guest's marker must say, from the host's
# extraction of the same file with the same binary under the same policy.
host_marker() {
    local rvf="$1" app="$work/host-app-$$-$RANDOM" flags
    mapfile -t flags < <(policy_flags)
    "$CLI" extract "$rvf" --bundle "$app" "${flags[@]}" > "$work/host.out" 2>&1
    local hrc=$? files sha exists=no
    files=$(find "$app" -type f ! -path "$app/.rvf/*" 2>/dev/null | wc -l)
    sha=$(sha256sum "$app/package.json" 2>/dev/null | cut -d' ' -f1)
    [ -e "$app" ] && exists=yes
    printf 'RVF-BUNDLE rc=%s files=%s package.json=%s app=%s\n' "$hrc" "$files" "${sha:-none}" "$exists"
    rm -rf "$app"
}

# expect_extraction NAME RVF FILES — the guest's marker equals the host's,
# and names FILES files.
expect_extraction() {
    local name="$1" rvf="$2" want_files="$3" want got log="$work/$1.log"
    want="$(host_marker "$rvf")"
    boot_with_disk "$name" "$rvf"
    got="$(grep -m1 '^RVF-BUNDLE rc=' "$log")"
    if [ "$rc" != 0 ]; then fail "$name" "boot.sh status $rc, want 0" "$log"
    elif [ -z "$got" ]; then fail "$name" "no RVF-BUNDLE marker from /init" "$log"
    elif [ "$got" != "$want" ]; then fail "$name" "guest '$got', host '$want'" "$log"
    elif [[ "$got" != "RVF-BUNDLE rc=0 files=$want_files "* ]]; then fail "$name" "want rc=0 and $want_files files: '$got'" "$log"
    else
        local read
        read="$(grep -m1 '^RVF-BUNDLE-OUT read: ' "$log" | sed 's/^RVF-BUNDLE-OUT //')"
        pass "$name" "guest extraction from /dev/vda = host's: ${got#RVF-BUNDLE } ($read)"
    fi
}

# The signed store (rvf-writer-05 signed-app around the Debian kernel) and
# its forgery (tamper-signed-wasm), with the signer's public key.
signed="" forged="" pubkey=""
need_signed() {
    [ -z "$signed" ] || return 0
    local writer="$REPO_DIR/target/release/rvf-writer-05"
    (cd "$REPO_DIR" && env -u RUSTFLAGS cargo build --release --quiet -p rvf-writer-05) >"$work/writer.log" 2>&1 ||
        { cat "$work/writer.log" >&2; return 1; }
    "$writer" signed-app "$work/signed.rvf" "$kernel" "$SIGNED_CMDLINE" "$SEED" >"$work/writer.out" || return 1
    pubkey="$(sed -n 's/^public key //p' "$work/writer.out")"
    "$writer" tamper-signed-wasm "$work/signed.rvf" "$work/forged.rvf" || return 1
    signed="$work/signed.rvf" forged="$work/forged.rvf"
}

# expect_refused NAME RVF PATTERN — the guest's extraction fails with a line
# matching PATTERN and /app is never created, as on the host.
expect_refused() {
    local name="$1" rvf="$2" pattern="$3" want got log="$work/$1.log"
    want="$(host_marker "$rvf")"
    boot_with_disk "$name" "$rvf"
    got="$(grep -m1 '^RVF-BUNDLE rc=' "$log")"
    if [ "$rc" != 0 ]; then fail "$name" "boot.sh status $rc, want 0" "$log"
    elif [ "$got" != "RVF-BUNDLE rc=1 files=0 package.json=none app=no" ]; then fail "$name" "guest '$got'" "$log"
    elif [ "$got" != "$want" ]; then fail "$name" "guest '$got', host '$want'" "$log"
    elif ! grep -q "^RVF-BUNDLE-OUT rvf-boot: .*$pattern" "$log"; then fail "$name" "no '$pattern' refusal" "$log"
    else pass "$name" "refused in the guest ($pattern), /app never created"
    fi
}

run_case() {
    POLICY_KEY="" POLICY_PIN=""
    case "$1" in
    bundle-signed)
        setup bundle-signed || return
        need_signed || { fail bundle-signed "rvf-writer-05 signed-app failed"; return; }
        POLICY_KEY="$pubkey"
        expect_extraction bundle-signed "$signed" 1
        grep -q "^RVF-BUNDLE-OUT authenticated: signed by " "$work/bundle-signed.log" ||
            fail bundle-signed-auth "no 'authenticated: signed by' line from the guest" "$work/bundle-signed.log"
        ;;
    bundle-forged)
        setup bundle-forged || return
        need_signed || { fail bundle-forged "rvf-writer-05 signed-app failed"; return; }
        POLICY_KEY="$pubkey"
        expect_refused bundle-forged "$forged" "signature rejected: signature does not verify"
        ;;
    bundle-pinned)
        setup bundle-pinned || return
        testkit ruvbot --kernel "$kernel" --output "$work/pinned.rvf" >/dev/null ||
            { fail bundle-pinned "rvf-testkit ruvbot failed"; return; }
        POLICY_PIN="$("$CLI" extract "$work/pinned.rvf" --bundle "$work/unused" --list --json |
            sed -n 's/.*"bundle_sha256":"\([0-9a-f]\{64\}\)".*/\1/p')"
        [ -n "$POLICY_PIN" ] || { fail bundle-pinned "no bundle_sha256 from --list --json"; return; }
        expect_extraction bundle-pinned "$work/pinned.rvf" 3
        grep -q "^RVF-BUNDLE-OUT authenticated: bundle sha256 $POLICY_PIN (pinned)" "$work/bundle-pinned.log" ||
            fail bundle-pinned-auth "no 'authenticated: bundle sha256' line from the guest" "$work/bundle-pinned.log"
        ;;
    bundle-microvm)
        setup bundle-microvm || return
        testkit ruvbot --kernel "$kernel" --output "$work/bundle.rvf" >/dev/null ||
            { fail bundle-microvm "rvf-testkit ruvbot failed"; return; }
        MACHINE=microvm expect_extraction bundle-microvm "$work/bundle.rvf" 3
        ;;
    bundle)
        setup bundle || return
        testkit ruvbot --kernel "$kernel" --output "$work/bundle.rvf" >/dev/null ||
            { fail bundle "rvf-testkit ruvbot failed"; return; }
        expect_extraction bundle "$work/bundle.rvf" 3
        ;;
    bundle-many)
        setup bundle-many || return
        # A RuvBot-shaped package: dist/ with 12 directories of 40 modules, an
        # index, bin/ruvbot.js, package.json: 483 files.
        local pkg="$work/pkg" d f
        mkdir -p "$pkg/dist" "$pkg/bin"
        for d in $(seq -w 0 11); do
            mkdir -p "$pkg/dist/lib$d"
            for f in $(seq -w 0 39); do
                printf 'module.exports = "lib%s/m%s";\n' "$d" "$f" > "$pkg/dist/lib$d/m$f.js"
            done
        done
        echo "require('./lib00/m00.js');" > "$pkg/dist/index.js"
        printf '#!/usr/bin/env node\nrequire("../dist/index.js");\n' > "$pkg/bin/ruvbot.js"
        printf '{"name":"ruvbot","version":"0.2.0","description":"many","dependencies":{"undici":"^6.0.0"}}\n' \
            > "$pkg/package.json"
        testkit ruvbot --kernel "$kernel" --package "$pkg" --output "$work/many.rvf" >/dev/null ||
            { fail bundle-many "rvf-testkit ruvbot --package failed"; return; }
        expect_extraction bundle-many "$work/many.rvf" 483
        ;;
    bundle-hostile)
        setup bundle-hostile || return
        # One file, path "../evil": count 1, path_len 7, data at 29, size 2.
        printf '\001\000\000\000\007\000\035\000\000\000\000\000\000\000\002\000\000\000\000\000\000\000../evilhi' \
            > "$work/hostile.bundle"
        testkit ruvbot --kernel "$kernel" --raw-bundle "$work/hostile.bundle" --output "$work/hostile.rvf" \
            >/dev/null || { fail bundle-hostile "rvf-testkit ruvbot --raw-bundle failed"; return; }
        local want got log="$work/bundle-hostile.log"
        want="$(host_marker "$work/hostile.rvf")"
        boot_with_disk bundle-hostile "$work/hostile.rvf"
        got="$(grep -m1 '^RVF-BUNDLE rc=' "$log")"
        if [ "$rc" != 0 ]; then fail bundle-hostile "boot.sh status $rc, want 0" "$log"
        elif [ "$got" != "RVF-BUNDLE rc=1 files=0 package.json=none app=no" ]; then
            fail bundle-hostile "guest '$got'" "$log"
        elif [ "$got" != "$want" ]; then fail bundle-hostile "guest '$got', host '$want'" "$log"
        elif ! grep -q "^RVF-BUNDLE-OUT rvf-boot: .*path has a '..' component" "$log"; then
            fail bundle-hostile "no '..' refusal from rvf-boot" "$log"
        else pass bundle-hostile "'../evil' refused in the guest, /app never created"
        fi
        ;;
    *) fail "$1" "unknown case (known: ${ALL_CASES[*]})" ;;
    esac
}

run_cases
