#!/usr/bin/env bash
# The ELF vmlinux fixture: the Debian cloud kernel apt serves (the bzImage
# fetch_kernel downloads), unpacked to the vmlinux it carries, wrapped into
# an RVF by the test kit's RuvBot writer (as common.sh wraps the bzImage).
#
#   qemu/vmlinux.sh [--output RVF] [--vmlinux-only] [--bzimage FILE]
#   qemu/vmlinux.sh --self-test
#
# Prints the path of the RVF (default: the cache's debian-vmlinux.rvf), or
# with --vmlinux-only the path of the vmlinux, on stdout; the kernel's
# package and version, the payload's compression and the vmlinux's size on
# stderr. Both are cached and remade when the bzImage is newer. --bzimage
# unpacks FILE instead of the downloaded kernel (nothing cached; --output
# then names the vmlinux with --vmlinux-only, else the RVF, both required).
# --self-test repacks the start of the Debian vmlinux with each of gzip, xz,
# lz4 (legacy) and zstd, the way the kernel build does, into a bzImage
# around the Debian setup code, unpacks each and compares (exit 1 on a
# mismatch), so every format is exercised whichever one apt serves today.
#
# How: the bzImage's payload lies at payload_offset (setup header 0x248)
# from the protected-mode start ((setup_sects + 1) * 512, setup_sects 0
# meaning 4) and is payload_length (0x24C) bytes long. Its magic picks the
# decompressor: gzip (1f 8b), xz (fd 37 7a 58 5a 00), lz4 legacy frame
# (02 21 4c 18) or zstd (28 b5 2f fd); the kernel build appends the
# uncompressed size (u32, little-endian) to xz, lz4 and zstd payloads, which
# is cut off and checked against the output. The result must be an ELF64
# little-endian x86-64 executable. Exit status 2 on any failure.
set -euo pipefail
# shellcheck source=qemu/common.sh
. "$(dirname "$0")/common.sh"

out="" vmlinux_only=0 given_bz="" self_test=0
while [ $# -gt 0 ]; do
    case "$1" in
        --output) [ $# -ge 2 ] || die "--output needs a path"; out="$2"; shift 2 ;;
        --vmlinux-only) vmlinux_only=1; shift ;;
        --bzimage) [ $# -ge 2 ] || die "--bzimage needs a file"; given_bz="$2"; shift 2 ;;
        --self-test) self_test=1; shift ;;
        -h|--help) sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done

# le_uint FILE OFFSET BYTES — the little-endian unsigned integer at OFFSET.
le_uint() {
    local v
    v="$(od -An -v -t u"$3" -j "$2" -N "$3" "$1" | tr -d ' \n')"
    [ -n "$v" ] || die "$1: no $3-byte field at byte $2"
    printf '%s\n' "$v"
}

# hex_at FILE OFFSET BYTES — the bytes at OFFSET as lower-case hex, no spaces.
hex_at() {
    od -An -v -t x1 -j "$2" -N "$3" "$1" | tr -d ' \n'
}

# extract_vmlinux BZIMAGE OUT — the vmlinux inside BZIMAGE, to OUT.
extract_vmlinux() {
    local bz="$1" dst="$2" setup_sects pm off len magic kind trailer size
    [ "$(hex_at "$bz" $((0x1FE)) 2)" = 55aa ] || die "$bz: no bzImage boot_flag 0xaa55 at 0x1fe"
    [ "$(hex_at "$bz" $((0x202)) 4)" = 48647253 ] || die "$bz: no \"HdrS\" at 0x202"
    setup_sects="$(le_uint "$bz" $((0x1F1)) 1)"
    [ "$setup_sects" -ne 0 ] || setup_sects=4
    pm=$(((setup_sects + 1) * 512))
    off="$(le_uint "$bz" $((0x248)) 4)"
    len="$(le_uint "$bz" $((0x24C)) 4)"
    [ "$len" -gt 4 ] || die "$bz: payload_length is $len"
    [ $((pm + off + len)) -le "$(stat -c %s "$bz")" ] ||
        die "$bz: payload ($off + $len from $pm) runs past the file"
    tmp="$(mktemp -d)"
    dd if="$bz" of="$tmp/payload" bs=1M iflag=skip_bytes,count_bytes skip=$((pm + off)) \
        count="$len" status=none || die "$bz: could not read the payload"
    magic="$(hex_at "$tmp/payload" 0 6)"
    trailer=1
    case "$magic" in
        1f8b*) kind=gzip trailer=0 ;;
        fd377a585a00) kind=xz ;;
        02214c18*) kind=lz4 ;;
        28b52ffd*) kind=zstd ;;
        *) die "$bz: payload magic $magic is none of gzip, xz, lz4 (legacy), zstd" ;;
    esac
    case "$kind" in
        gzip) require_tools gzip:gzip ;;
        xz) require_tools xz:xz-utils ;;
        lz4) require_tools lz4:lz4 ;;
        zstd) require_tools zstd:zstd ;;
    esac
    if [ "$trailer" = 1 ]; then
        size="$(le_uint "$tmp/payload" $((len - 4)) 4)"
        truncate -s $((len - 4)) "$tmp/payload" && mv "$tmp/payload" "$tmp/stream"
    else
        size="" && mv "$tmp/payload" "$tmp/stream"
    fi
    local rc=0
    case "$kind" in
        # gzip exits 2 for a warning (trailing bytes); the ELF checks below decide.
        gzip) gzip -dc < "$tmp/stream" > "$tmp/vmlinux" || rc=$?; [ "$rc" -ne 2 ] || rc=0 ;;
        xz) xz -dc < "$tmp/stream" > "$tmp/vmlinux" || rc=$? ;;
        lz4) lz4 -dc < "$tmp/stream" > "$tmp/vmlinux" 2>/dev/null || rc=$? ;;
        zstd) zstd -qdc < "$tmp/stream" > "$tmp/vmlinux" || rc=$? ;;
    esac
    [ "$rc" -eq 0 ] || die "$bz: $kind could not decompress the payload"
    local got
    got="$(stat -c %s "$tmp/vmlinux")"
    [ -z "$size" ] || [ "$got" -eq "$size" ] ||
        die "$bz: $kind gave $got bytes, the payload's size trailer says $size"
    # ELF64 (2), little-endian (1), version 1; ET_EXEC (2), EM_X86_64 (0x3e).
    [ "$(hex_at "$tmp/vmlinux" 0 7)" = 7f454c46020101 ] ||
        die "$bz: the payload is not an ELF64 little-endian file (starts $(hex_at "$tmp/vmlinux" 0 8))"
    [ "$(le_uint "$tmp/vmlinux" $((0x10)) 2)" = 2 ] || die "$bz: the vmlinux is not ET_EXEC"
    [ "$(le_uint "$tmp/vmlinux" $((0x12)) 2)" = 62 ] || die "$bz: the vmlinux is not x86-64"
    log "vmlinux: $kind payload ($len bytes) -> $got-byte ELF64 x86-64 executable"
    mkdir -p "$(dirname "$dst")"
    mv "$tmp/vmlinux" "$dst.tmp" && mv "$dst.tmp" "$dst"
    rm -rf "$tmp"; tmp=""
}

# put_le32 FILE OFFSET VALUE — overwrite 4 bytes of FILE with VALUE (little-endian).
put_le32() {
    local h
    h="$(printf '%08x' "$3")"
    printf "\\x${h:6:2}\\x${h:4:2}\\x${h:2:2}\\x${h:0:2}" |
        dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# self_test VMLINUX BZIMAGE — repack and unpack the first 256 KiB of
# VMLINUX with every format (see the usage).
self_test() {
    local vm="$1" bz="$2" dir kind pm setup_sects n bad=0
    dir="$(mktemp -d)"
    require_tools gzip:gzip xz:xz-utils lz4:lz4 zstd:zstd
    # The ELF header and 256 KiB of the text (at 2 MiB in the file).
    { head -c 4096 "$vm"; tail -c +$((0x200001)) "$vm" | head -c 262144 || true; } > "$dir/sample"
    n="$(stat -c %s "$dir/sample")"
    setup_sects="$(le_uint "$bz" $((0x1F1)) 1)"
    [ "$setup_sects" -ne 0 ] || setup_sects=4
    pm=$(((setup_sects + 1) * 512))
    for kind in gzip xz lz4 zstd; do
        case "$kind" in
            gzip) gzip -9nc "$dir/sample" > "$dir/payload" ;;
            xz) xz --check=crc32 -c "$dir/sample" > "$dir/payload" ;;
            lz4) lz4 -l -9 -c "$dir/sample" > "$dir/payload" 2>/dev/null ;;
            zstd) zstd -q -19 -c "$dir/sample" > "$dir/payload" ;;
        esac
        if [ "$kind" != gzip ]; then   # the kernel build's size trailer
            printf '\0\0\0\0' >> "$dir/payload"
            put_le32 "$dir/payload" $(($(stat -c %s "$dir/payload") - 4)) "$n"
        fi
        head -c "$pm" "$bz" > "$dir/bz-$kind"
        cat "$dir/payload" >> "$dir/bz-$kind"
        put_le32 "$dir/bz-$kind" $((0x248)) 0
        put_le32 "$dir/bz-$kind" $((0x24C)) "$(stat -c %s "$dir/payload")"
        if (trap '[ -z "$tmp" ] || rm -rf "$tmp"' EXIT; extract_vmlinux "$dir/bz-$kind" "$dir/out-$kind") &&
            cmp -s "$dir/sample" "$dir/out-$kind"; then
            echo "self-test: $kind OK"
        else
            echo "self-test: $kind FAILED"; bad=1
        fi
        if [ "$kind" != gzip ]; then   # a wrong size trailer is refused
            put_le32 "$dir/bz-$kind" $(($(stat -c %s "$dir/bz-$kind") - 4)) $((n + 1))
            if (trap '[ -z "$tmp" ] || rm -rf "$tmp"' EXIT; extract_vmlinux "$dir/bz-$kind" "$dir/bad") 2>/dev/null; then
                echo "self-test: $kind with a wrong size trailer was accepted"; bad=1
            else
                echo "self-test: $kind with a wrong size trailer refused"
            fi
        fi
    done
    rm -rf "$dir"
    return "$bad"
}

tmp=""
trap '[ -z "$tmp" ] || rm -rf "$tmp"' EXIT

if [ -n "$given_bz" ]; then
    [ -f "$given_bz" ] || die "$given_bz: no such file"
    [ -n "$out" ] || die "--bzimage needs --output"
    if [ "$vmlinux_only" = 1 ]; then
        extract_vmlinux "$given_bz" "$out"
    else
        extract_vmlinux "$given_bz" "$out.vmlinux"
        build_ruvbot_rvf "$out.vmlinux" "$out"
        rm -f "$out.vmlinux"
    fi
    printf '%s\n' "$out"
    exit 0
fi

bz="$(fetch_kernel)"
log "Debian kernel: $(kernel_version "$bz")"
vmlinux="$CACHE_DIR/vmlinux-cloud-amd64"
if [ ! -s "$vmlinux" ] || [ "$bz" -nt "$vmlinux" ]; then
    extract_vmlinux "$bz" "$vmlinux"
else
    log "vmlinux: cached, $(stat -c %s "$vmlinux") bytes"
fi
if [ "$self_test" = 1 ]; then
    self_test "$vmlinux" "$bz"
    exit $?
fi
if [ "$vmlinux_only" = 1 ]; then
    printf '%s\n' "$vmlinux"
    exit 0
fi
[ -n "$out" ] || out="$CACHE_DIR/debian-vmlinux.rvf"
if [ ! -s "$out" ] || [ "$vmlinux" -nt "$out" ]; then
    build_ruvbot_rvf "$vmlinux" "$out"
fi
printf '%s\n' "$out"
