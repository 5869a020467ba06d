#!/usr/bin/env bash
# Regenerates capi/include/rvf_boot.h from capi/src/lib.rs with cbindgen.
#   capi/gen-header.sh           write the header
#   capi/gen-header.sh --check   fail (exit 1, with a diff) when the
#                                checked-in header is not cbindgen's output
set -euo pipefail
cd "$(dirname "$0")"
want_version="0.29.4"
if ! cbindgen --version 2>/dev/null | grep -qx "cbindgen $want_version"; then
  echo "needs cbindgen $want_version: cargo install --locked --version $want_version cbindgen" >&2
  exit 2
fi
if [ "${1:-}" = "--check" ]; then
  tmp="$(mktemp)"
  trap 'rm -f "$tmp"' EXIT
  cbindgen --quiet --config cbindgen.toml --crate rvf-boot-capi --output "$tmp" .
  if ! diff -u include/rvf_boot.h "$tmp"; then
    echo "capi/include/rvf_boot.h is stale: run capi/gen-header.sh" >&2
    exit 1
  fi
  echo "capi/include/rvf_boot.h matches cbindgen $want_version"
else
  cbindgen --quiet --config cbindgen.toml --crate rvf-boot-capi --output include/rvf_boot.h .
fi
