#!/bin/sh
# Build qemu/testkernel/out/testkernel.bzImage (deterministic: GNU as + ld +
# objcopy, no timestamps or build IDs). Usage: qemu/testkernel/build.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/out"
mkdir -p "$out"
obj="$out/testkernel.o.$$"; elf="$out/testkernel.elf.$$"
gcc -c -x assembler-with-cpp -m64 -o "$obj" "$here/testkernel.S"
ld -m elf_x86_64 -static -nostdlib --no-dynamic-linker -z noexecstack \
	--build-id=none --no-warn-rwx-segments -T "$here/testkernel.ld" -o "$elf" "$obj"
# Write to a temporary name and rename, so concurrent builds never expose a torn file.
objcopy -O binary "$elf" "$out/testkernel.bzImage.tmp.$$"
mv -f "$elf" "$out/testkernel.elf"; rm -f "$obj"
mv -f "$out/testkernel.bzImage.tmp.$$" "$out/testkernel.bzImage"
size=$(wc -c < "$out/testkernel.bzImage")
echo "built $out/testkernel.bzImage ($size bytes)"
