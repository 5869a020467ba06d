#!/usr/bin/env bash
# Short, bounded fuzz runs of every target, for CI (.ci/run calls this).
#
#   fuzz/run-ci.sh [target ...]      default: every target in fuzz/Cargo.toml
#
# Environment:
#   FUZZ_SECONDS   seconds per target (default 30)
#   FUZZ_JOBS      parallel libFuzzer jobs per target (default 1)
#
# Each target starts from a temporary copy of its committed corpus
# (fuzz/corpus/<target>/), so CI never grows the committed corpus, with the
# dictionary fuzz/rvf.dict. Any crash, assertion failure, timeout or OOM
# fails the run; the script prints the target, the crashing input in hex and
# the command that reproduces it.
set -euo pipefail
cd "$(dirname "$0")"

seconds="${FUZZ_SECONDS:-30}"
jobs="${FUZZ_JOBS:-1}"

if ! command -v cargo-fuzz >/dev/null 2>&1 && ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "cargo-fuzz needs a nightly toolchain (rustup toolchain install nightly)" >&2
  exit 1
fi

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo +nightly fuzz list)
fi

echo "building ${#targets[@]} fuzz targets (debug assertions and overflow checks on)"
cargo +nightly fuzz build

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=()
for t in "${targets[@]}"; do
  corpus="$work/corpus-$t"
  artifacts="$work/artifacts-$t/"
  mkdir -p "$corpus" "$artifacts"
  if [ -d "corpus/$t" ]; then
    cp -r "corpus/$t/." "$corpus/"
  fi
  echo "==== fuzz $t for ${seconds}s ($(find "$corpus" -type f | wc -l) seeds)"
  log="$work/$t.log"
  set +e
  cargo +nightly fuzz run "$t" "$corpus" -- \
    -dict=rvf.dict -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -jobs="$jobs" -workers="$jobs" -print_final_stats=1 \
    -artifact_prefix="$artifacts" >"$log" 2>&1
  rc=$?
  set -e
  # With -jobs, libFuzzer logs to fuzz-N.log in the current directory.
  for l in fuzz-*.log; do [ -f "$l" ] && cat "$l" >>"$log" && rm -f "$l"; done
  grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb)|#[0-9]+ +DONE" "$log" | tail -3 || true
  crashes=("$artifacts"*)
  if [ "$rc" -ne 0 ] || [ -e "${crashes[0]}" ]; then
    failed+=("$t")
    echo "!!!! fuzz target $t FAILED (exit $rc)"
    grep -E -A3 "panicked at" "$log" | head -20 || true
    grep -E "ERROR: libFuzzer|SUMMARY" "$log" | head -4 || true
    for c in "${crashes[@]}"; do
      [ -e "$c" ] || continue
      echo "---- crashing input for $t: $(basename "$c") ($(stat -c %s "$c") bytes), hex:"
      # head stops reading early on a large input: od's SIGPIPE (141) must not
      # end the script under pipefail before the reproduce line.
      od -An -tx1 -v "$c" | head -200 || true
      mkdir -p "artifacts/$t"
      cp "$c" "artifacts/$t/"
      echo "---- reproduce: (cd fuzz && cargo +nightly fuzz run $t artifacts/$t/$(basename "$c"))"
    done
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzzing found crashes in: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets clean for ${seconds}s each"
