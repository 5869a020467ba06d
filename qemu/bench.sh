#!/usr/bin/env bash
# Wall time from QEMU start to the /init marker line: the RuvBot RVF of the
# Debian cloud kernel booted through the rvf-boot stub (fully verified:
# segment content hashes, inflate + CRC-32, SHA-256 image hash) against
# QEMU's own `-kernel bzImage -initrd initramfs` boot of the same kernel with
# the same command line. Runs alternate; prints both medians, the ratio, the
# stub's own cycle counts per phase (medians of its "Mcycles" line: container
# parse; kernel verify + extract, and inside it the inflate, the CRC-32, the
# hashes on the second CPU and on the boot CPU, the boot CPU waiting for the
# second; place + measure + handoff) and its size.
#
#   qemu/bench.sh [--machine pc|microvm] [RUNS]        (default pc, 7 runs)
#
# --machine microvm: both boots on QEMU's -M microvm with its default
# firmware (qboot), QEMU's own boot being its microvm boot of the same
# bzImage; both get tsc_early_khz=<host kHz> appended, as boot.sh does there.
#
# Both boots get -smp 2 (the stub hashes on the second vCPU; Linux brings up
# both) and -accel tcg,thread=multi (one host thread per vCPU, QEMU's default
# for x86 on x86); RVF_BOOT_BENCH_SMP=N sets -smp N instead and
# RVF_BOOT_BENCH_CPU=max adds -cpu max, to BOTH boots. Both boots get
# boot.sh's -mem-prealloc (QEMU's own boot is no slower with it);
# RVF_BOOT_BENCH_PREALLOC=0 drops it from BOTH, and RVF_BOOT_BENCH_WARM_MB=N
# touches N MiB of host memory before every boot (both diagnostics of the
# host's first touches of guest memory: qemu/README.md, Measurements).
set -euo pipefail
# shellcheck source=qemu/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

machine=pc
if [ "${1:-}" = --machine ]; then
    [ $# -ge 2 ] || { echo "usage: $0 [--machine pc|microvm] [RUNS]" >&2; exit 2; }
    machine="$2"; shift 2
fi
case "$machine" in pc|microvm) ;; *) echo "error: --machine wants pc or microvm" >&2; exit 2 ;; esac
runs="${1:-7}"
cpu=(-smp "${RVF_BOOT_BENCH_SMP:-2}")
[ -z "${RVF_BOOT_BENCH_CPU:-}" ] || cpu+=(-cpu "$RVF_BOOT_BENCH_CPU")
[ "${RVF_BOOT_BENCH_PREALLOC:-1}" = 0 ] || cpu+=(-mem-prealloc)
require_tools qemu-system-x86_64:qemu-system-x86 timeout:coreutils
build_stub
kernel="$(fetch_kernel)"
echo "Debian kernel: $(kernel_version "$kernel")"
initramfs="$(build_initramfs)"
rvf="$CACHE_DIR/ruvbot-debian-cloud.rvf"
if [ ! -s "$rvf" ] || [ "$kernel" -nt "$rvf" ]; then build_ruvbot_rvf "$kernel" "$rvf"; fi
cmdline="console=ttyS0 ruvbot.api_port=3000 ruvbot.mode=rvf quiet"   # what build-rvf.js (and rvf-testkit) stores

extra=""
if [ "$machine" = microvm ]; then
    khz="$(host_tsc_khz)"
    [ -z "$khz" ] || extra="tsc_early_khz=$khz"
fi
common=(-M "$machine" -accel tcg,thread=multi "${cpu[@]}" -m 256 -no-reboot -display none -monitor none -serial stdio -nic none
        -device isa-debug-exit,iobase=0xf4,iosize=4)
direct=(-kernel "$kernel" -initrd "$initramfs" -append "$cmdline${extra:+ $extra}")
stub=(-kernel "$STUB_BIN" -initrd "$rvf" -fw_cfg "name=opt/rvf-boot/initrd,file=${initramfs//,/,,}")
[ -z "$extra" ] || stub+=(-append "$extra")

cycles_log="$(mktemp)"
trap 'rm -f "$cycles_log"' EXIT

# one_run ARGS... — milliseconds from start to the marker line (or "fail");
# the stub's "Mcycles" line, if any, is appended to $cycles_log. With
# RVF_BOOT_BENCH_WARM_MB=N, first touches N MiB of host memory and frees it
# (dd's buffer), so the boot starts on warm host pages whichever boot ran
# before it (see qemu/README.md, Measurements).
one_run() {
    local start ms=fail line
    if [ "${RVF_BOOT_BENCH_WARM_MB:-0}" -gt 0 ]; then
        dd if=/dev/zero of=/dev/null bs="${RVF_BOOT_BENCH_WARM_MB}M" count=1 iflag=fullblock 2>/dev/null
    fi
    start=$(date +%s%N)
    while IFS= read -r line; do
        case "$line" in
            *"$MARKER cmdline=$cmdline"*) ms=$(( ($(date +%s%N) - start) / 1000000 )) ;;
            *"rvf-boot: Mcycles:"*) echo "$line" >> "$cycles_log" ;;
        esac
    done < <(timeout 60 qemu-system-x86_64 "${common[@]}" "$@" < /dev/null 2>&1)
    echo "$ms"
}

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ a[NR] = $1 } END {
    if (NR == 0) { print "nan"; exit } if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

d_all="" s_all=""
for i in $(seq 1 "$runs"); do
    d=$(one_run "${direct[@]}")
    s=$(one_run "${stub[@]}")
    printf 'run %d: qemu -kernel %s ms, rvf-boot stub %s ms\n' "$i" "$d" "$s"
    [ "$d" = fail ] || d_all="$d_all $d"
    [ "$s" = fail ] || s_all="$s_all $s"
done
dm=$(echo "$d_all" | median)
sm=$(echo "$s_all" | median)
echo "machine: $machine${extra:+ (both boots: $extra)}"
echo "median qemu -kernel bzImage -initrd: ${dm} ms"
echo "median rvf-boot stub (RVF, verified): ${sm} ms"
awk -v s="$sm" -v d="$dm" 'BEGIN { if (d > 0) printf "ratio stub/direct: %.3f (goal <= 1.15)\n", s / d }'
# The stub's own phases: "Mcycles: container A, kernel verify+extract B
# (inflate C, CRC D, hashes on the AP E, hashes inline F, BSP waiting G),
# place+handoff H; SHA-NI yes|no".
phase() { sed -n "s/.*$1 \([0-9]*\).*/\1/p" "$cycles_log" | median; }
if [ -s "$cycles_log" ]; then
    echo "stub phases (median Mcycles of $(wc -l < "$cycles_log") runs): container $(phase container)," \
         "kernel verify+extract $(phase 'verify+extract')" \
         "(inflate $(phase inflate), CRC $(phase CRC), hashes on the second CPU $(phase 'on the AP')," \
         "hashes on the boot CPU $(phase 'hashes inline'), boot CPU waiting $(phase 'BSP waiting'))," \
         "place+measure+handoff $(phase 'place+handoff');" \
         "SHA-NI $(sed -n 's/.*SHA-NI \([a-z]*\).*/\1/p' "$cycles_log" | sort -u | tr '\n' ' ')"
fi
read -r filesz memsz < <(LC_ALL=C readelf -lW "$STUB_BIN" | awk '$1 == "LOAD" { print $5, $6; exit }')
echo "stub: $(stat -c %s "$STUB_BIN") bytes ELF, $((filesz)) bytes loaded, $((memsz)) bytes in memory (.bss: stacks, page tables, zero page, cmdline)"
echo "qemu flags: -M $machine -accel tcg,thread=multi ${cpu[*]} -m 256; host memory warmed before each boot: ${RVF_BOOT_BENCH_WARM_MB:-0} MiB; $(nproc) host CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
