#!/usr/bin/env bash
# Regenerates host-tests/golden/{runtime-05,runtime-03,mixed}/*.rvf with the REAL
# rvf-runtime crates (writer bins host-tests/writers/runtime-0{5,3}), then writes
# facts.json + README.md per directory from the independent decoder decode.py.
# Usage: host-tests/golden/regen-runtime.sh [OUT_ROOT]   (default: host-tests/golden)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
root="${1:-$here}"
( cd "$repo" && cargo build -q -p rvf-writer-05 -p rvf-writer-03 )
tgt="${CARGO_TARGET_DIR:-$repo/target}/debug"
w5="$tgt/rvf-writer-05"; w3="$tgt/rvf-writer-03"
mkdir -p "$root/runtime-05" "$root/runtime-03" "$root/mixed"
log="$(mktemp)"
for s in vectors embed-kernel embed-kernel-binding embed-wasm two-kernels; do
  "$w5" "$s" "$root/runtime-05/$s.rvf" | sed "s|^|runtime-05/$s.rvf: |" >> "$log"
  "$w3" "$s" "$root/runtime-03/$s.rvf" | sed "s|^|runtime-03/$s.rvf: |" >> "$log"
done
"$w5" signed "$root/runtime-05/signed.rvf" | sed "s|^|runtime-05/signed.rvf: |" >> "$log"
"$w5" append-kernel "$root/runtime-03/vectors.rvf" "$root/mixed/vectors-03-kernel-05.rvf" \
  | sed "s|^|mixed/vectors-03-kernel-05.rvf: |" >> "$log"
"$w5" append-kernel "$root/runtime-03/embed-kernel.rvf" "$root/mixed/kernel-03-kernel-05.rvf" \
  | sed "s|^|mixed/kernel-03-kernel-05.rvf: |" >> "$log"
rm -f "$root"/runtime-0?/*.lock "$root"/mixed/*.lock

for d in runtime-05 runtime-03 mixed; do
  ( cd "$root/$d" && python3 "$here/decode.py" --json *.rvf ) > "$root/$d/facts.json"
  {
    cat <<MD
# Golden files: $d

Written by \`host-tests/golden/regen-runtime.sh\` with the real crates
(\`rvf-writer-05\` = rvf-runtime 0.5.0 + rvf-types 0.3.0, \`rvf-writer-03\` =
rvf-runtime 0.3.2 + rvf-types 0.2.3; sources in \`host-tests/writers/\`).
Every store: dimension 4, default options. Kernels: built-in image
(\`synthetic_image(4096, 0x52564B4E)\`, sha256 \`fa61d99b…6362\`; second kernel
\`synthetic_image(2048, 2)\`, sha256 \`5f733a94…670a\`), arch 0, kernel_type 1,
flags 0x808, api_port 8080, cmdline "console=ttyS0 rvf.test=1" (second kernel
"…rvf.test=2"); binding = root hash 0x11×32, policy hash 0x22×32, version 1.
WASM: the 8-byte empty module. \`signed\`: \`create_signed\` with Ed25519 seed
[7u8; 32], public key \`ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c\`.
\`mixed/\`: copy of a runtime-03 file, reopened with 0.5.0 \`RvfStore::open\`,
second kernel appended (\`rvf-writer-05 append-kernel IN OUT\`).
Facts below and in \`facts.json\` come from \`host-tests/golden/decode.py\`.

**Bytes that differ between runs** (everything else, including every offset,
length, id and every KERNEL/VEC/WASM payload, is reproducible):
* every MANIFEST payload's FIDI \`file_id\` (16 bytes at payload+30 for the
  epoch-0 manifest, at the start of the FIDI trailer + 4 otherwise) — derived from
  the path and the clock (\`generate_file_id\`); a reopened file keeps its id;
* hence the \`content_hash\` (header+0x28..0x38) of every MANIFEST segment;
* WITNESS payload timestamp (0.3.2: payload+1..9, 0.5.0: payload+64..72) and
  the WITNESS \`content_hash\`;
* signed: the root page's signature (0x09C..0x0DC), FileIdentity (0xF00..),
  l1_content_hash (0xFD0..0xFE0) and CRC32C (0xFFC..), and the SHDG entry of
  the epoch-0 manifest.

Writer output:
\`\`\`
$(grep "^$d/" "$log" || true)
\`\`\`

## Facts

MD
    ( cd "$root/$d" && python3 "$here/decode.py" *.rvf )
  } > "$root/$d/README.md"
done
rm -f "$log"
ls -l "$root"/runtime-05 "$root"/runtime-03 "$root"/mixed
