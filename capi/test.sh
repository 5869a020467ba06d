#!/usr/bin/env bash
# The C test of the C ABI (issue 23). Builds target/release/librvf_boot_capi.a,
# writes the test cases and the Rust API's results for them
# (examples/c_cases.rs: every golden file, damaged copies, policy variants),
# then, twice (plain -O2, and AddressSanitizer + UndefinedBehaviorSanitizer):
#   - tests/c/golden.c runs every case through rvf_boot.h; its lines must be
#     exactly the Rust API's (status, message, image SHA-256, where the image
#     is, cmdline), and sha256sum of every image it wrote must be the line's;
#   - tests/c/hostile.c: NULL, wrapping, short, misaligned, overlapping
#     arguments and invalid policies get their statuses;
# and finally the freestanding link: tests/c/freestanding.c with
# -ffreestanding -nostdlib -static (its own _start and mem* functions, no C
# library), run, must extract a golden kernel byte-exact.
#
#   capi/test.sh          everything above (needs gcc with libasan/libubsan)
#   CC=clang capi/test.sh another compiler
set -euo pipefail
cd "$(dirname "$0")/.."
cc="${CC:-gcc}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "capi: cargo build --release -p rvf-boot-capi"
cargo build --release --quiet -p rvf-boot-capi
lib=target/release/librvf_boot_capi.a
[ -f "$lib" ] || { echo "capi: $lib missing" >&2; exit 1; }

echo "capi: writing the cases (cargo run --example c_cases)"
cargo run --quiet -p rvf-boot-capi --example c_cases -- "$work/cases"
ncases=$(wc -l <"$work/cases/expected.txt")

strict=(-std=c11 -Wall -Wextra -Werror -Wpedantic -Icapi/include)
passed=0
for mode in plain sanitizers; do
  case "$mode" in
    plain) flags=(-O2) ;;
    sanitizers) flags=(-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all) ;;
  esac
  bin="$work/$mode"
  mkdir -p "$bin"
  "$cc" "${strict[@]}" "${flags[@]}" capi/tests/c/golden.c "$lib" -o "$bin/golden"
  "$cc" "${strict[@]}" "${flags[@]}" capi/tests/c/hostile.c "$lib" -o "$bin/hostile"
  rm -f "$work/cases/"*.img
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 "$bin/golden" "$work/cases" >"$work/got-$mode.txt"
  if ! diff -u "$work/cases/expected.txt" "$work/got-$mode.txt" >"$work/diff" ; then
    head -40 "$work/diff"
    echo "capi ($mode): the C ABI's results differ from the Rust API's" >&2
    exit 1
  fi
  # Every extracted image, hashed by coreutils: byte-exact.
  images=0
  while read -r name file _ && read -r got <&3; do
    sha=$(sed -n 's/.* sha256=\([0-9a-f-]*\) .*/\1/p' <<<"$got")
    [ "$sha" = "-" ] && continue
    img="$work/cases/${file%.rvf}.img"
    real=$(sha256sum "$img" | cut -d' ' -f1)
    if [ "$real" != "$sha" ]; then
      echo "capi ($mode): $name: image sha256 $real, the ABI said $sha" >&2
      exit 1
    fi
    images=$((images + 1))
  done <"$work/cases/cases.txt" 3<"$work/got-$mode.txt"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 "$bin/hostile" host-tests/golden/ruvbot/small.rvf
  echo "capi ($mode): $ncases cases identical to the Rust API, $images images byte-exact, hostile arguments refused"
  passed=$((passed + 2))
done

echo "capi: freestanding link (-ffreestanding -nostdlib -static, no C library)"
golden=host-tests/golden/ruvbot/small.rvf
line=$(grep '^ruvbot_small.rvf ' "$work/cases/expected.txt")
sha=$(sed -n 's/.* sha256=\([0-9a-f]*\) .*/\1/p' <<<"$line")
len=$(sed -n 's/.* len=\([0-9]*\) .*/\1/p' <<<"$line")
init="{$(sed 's/../0x&,/g; s/,$//' <<<"$sha")}"
"$cc" -std=c11 -Wall -Wextra -Werror -O2 -ffreestanding -fno-builtin \
  -fno-tree-loop-distribute-patterns -fno-stack-protector -fno-pie -no-pie \
  -nostdlib -static -Icapi/include \
  "-DRVF_PATH=$PWD/$golden" "-DEXPECT_SHA256=$init" "-DEXPECT_LEN=$len" \
  capi/tests/c/freestanding.c "$lib" -Wl,--gc-sections -o "$work/freestanding"
set +e
"$work/freestanding"
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
  echo "capi: the freestanding program failed at step $rc (see tests/c/freestanding.c)" >&2
  exit 1
fi
text=$(size -A "$work/freestanding" | awk '$1 == ".text" {print $2}')
echo "capi: freestanding program linked (.text $text bytes) and extracted $golden byte-exact"
passed=$((passed + 1))
echo "capi C tests: $passed passed, 0 failed"
