#!/usr/bin/env python3
"""Regenerates the committed seed corpora under fuzz/corpus/<target>/ from the
golden files (host-tests/golden/) and the QEMU test kernel
(qemu/testkernel/out/testkernel.bzImage, built by qemu/testkernel/build.sh).

Standard library only. Deterministic. Run from anywhere:
    python3 fuzz/make-corpus.py

Besides copies of golden files it writes a few synthetic RVF files that carry
the (valid) test kernel, raw and gzip'd, so whole_file reaches the bzImage,
boot-plan and zero-page code, and "unhashed" variants (content and image
hashes zeroed: accepted by the lax policy the targets also use), so mutated
payloads still get past the hash checks.
"""
import gzip
import hashlib
import os
import shutil
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(ROOT, "host-tests", "golden")
OUT = os.path.join(ROOT, "fuzz", "corpus")
TESTKERNEL = os.path.join(ROOT, "qemu", "testkernel", "out", "testkernel.bzImage")

SEG_MAGIC = b"SFVR"  # 0x52564653 little-endian ("RVFS" as a u32)
KERNEL, MANIFEST, WASM = 0x0E, 0x05, 0x10


def walk(body):
    """(offset, header, payload) of every complete segment (rvf-boot's walk)."""
    segs, off = [], 0
    while off + 64 <= len(body) and body[off:off + 4] == SEG_MAGIC:
        n = struct.unpack_from("<Q", body, off + 0x10)[0]
        if off + 64 + n > len(body):
            break
        segs.append((off, body[off:off + 64], body[off + 64:off + 64 + n]))
        u = off + 64 + n
        p = (u + 63) // 64 * 64
        if p != u and body[u:p] == bytes(p - u) and body[p:p + 4] == SEG_MAGIC:
            off = p
        else:
            off = u
    return segs


def read(rel):
    with open(os.path.join(GOLDEN, rel), "rb") as f:
        return f.read()


def body_of(f):
    if len(f) >= 4096 + 64 and f[-4096:-4092] == b"0MVR":
        return f[:-4096]
    return f


def segment(ty, seg_id, payload, hashed=True):
    h = hashlib.sha256(payload).digest()[:16] if hashed else bytes(16)
    return (SEG_MAGIC + bytes([1, ty]) + bytes(2) + struct.pack("<QQQ", seg_id, len(payload), 0)
            + bytes([0, 0]) + bytes(6) + h + bytes(8) + payload)


def manifest(entries):
    """entries: (id, offset, length, type)."""
    p = struct.pack("<IHQIBBH", 1, 0, 0, len(entries), 0x42, 0, 0)
    for (i, off, n, ty) in entries:
        p += struct.pack("<QQQB", i, off, n, ty)
    return p + struct.pack("<I", 0)


def kernel_crate(image, cmdline, hashed=True):
    h = bytearray(128)
    struct.pack_into("<IHBB", h, 0, 0x52564B4E, 1, 1, 0)
    struct.pack_into("<QQ", h, 0x18, len(image), len(image))
    struct.pack_into(">H", h, 0x2A, 8080)
    if hashed:
        h[0x30:0x50] = hashlib.sha3_256(image).digest()
    struct.pack_into("<QI", h, 0x70, 128, len(cmdline))
    return bytes(h) + image + cmdline


def kernel_ruvbot(image, cmdline, hashed=True):
    gz = gzip.compress(image, compresslevel=9, mtime=0)
    h = bytearray(128)
    struct.pack_into("<IHBB", h, 0, 0x52564B4E, 1, 0, 0)
    struct.pack_into("<QQB", h, 0x18, len(image), len(gz), 1)
    struct.pack_into("<H", h, 0x2A, 3000)
    if hashed:
        h[0x30:0x50] = hashlib.sha256(image).digest()
    struct.pack_into("<II", h, 0x6C, 128 + len(gz), len(cmdline))
    return bytes(h) + gz + cmdline


def rvf_with_kernel(kpayload, hashed=True):
    k = segment(KERNEL, 1, kpayload, hashed)
    m = manifest([(1, 0, len(kpayload), KERNEL)])
    return k + segment(MANIFEST, 2, m, hashed)


def unhash_file(f):
    """Zero every content hash and every kernel image_hash of a golden file."""
    f = bytearray(f)
    for off, hdr, payload in walk(body_of(bytes(f))):
        f[off + 0x28:off + 0x38] = bytes(16)
        if hdr[5] == KERNEL and len(payload) >= 128:
            f[off + 64 + 0x30:off + 64 + 0x50] = bytes(32)
    return bytes(f)


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    with open(TESTKERNEL, "rb") as f:
        tk = f.read()
    cmd = b"console=ttyS0 panic=-1"

    # whole_file: real writers' files, plus synthetic files carrying the test kernel.
    golden = ["ruvbot/tiny.rvf", "ruvbot/small.rvf", "runtime-05/embed-kernel-binding.rvf",
              "runtime-03/embed-kernel.rvf", "runtime-05/two-kernels.rvf", "runtime-05/signed.rvf",
              "runtime-05/embed-wasm.rvf", "mixed/vectors-03-kernel-05.rvf"]
    for g in golden:
        put("whole_file", g.replace("/", "-"), read(g))
    put("whole_file", "ruvbot-tiny-unhashed.rvf", unhash_file(read("ruvbot/tiny.rvf")))
    put("whole_file", "runtime-05-embed-kernel-unhashed.rvf", unhash_file(read("runtime-05/embed-kernel.rvf")))
    put("whole_file", "testkernel-raw.rvf", rvf_with_kernel(kernel_crate(tk, cmd)))
    put("whole_file", "testkernel-gzip.rvf", rvf_with_kernel(kernel_ruvbot(tk, cmd)))
    put("whole_file", "testkernel-gzip-unhashed.rvf", rvf_with_kernel(kernel_ruvbot(tk, cmd, False), False))

    # kernel_segment: KERNEL_SEG payloads of every layout.
    seen = set()
    for g in ["ruvbot/tiny.rvf", "runtime-05/embed-kernel.rvf", "runtime-05/embed-kernel-binding.rvf",
              "runtime-03/embed-kernel.rvf", "runtime-03/embed-kernel-binding.rvf"]:
        for off, hdr, payload in walk(body_of(read(g))):
            if hdr[5] == KERNEL and payload not in seen:
                seen.add(payload)
                put("kernel_segment", g.replace("/", "-") + f"@{off}", payload)
    put("kernel_segment", "testkernel-raw", kernel_crate(tk, cmd, False))
    put("kernel_segment", "testkernel-gzip", kernel_ruvbot(tk, cmd, False))

    # gzip_inflate: image_size u32 ‖ chunk selector ‖ gzip member.
    for g in ["ruvbot/tiny.rvf", "ruvbot/small.rvf"]:
        for off, hdr, payload in walk(body_of(read(g))):
            if hdr[5] == KERNEL:
                image_size, stored = struct.unpack_from("<QQ", payload, 0x18)
                gz = payload[128:128 + stored]
                put("gzip_inflate", g.replace("/", "-"), struct.pack("<IB", image_size, 0) + gz)
                put("gzip_inflate", g.replace("/", "-") + "-chunk3", struct.pack("<IB", image_size, 3) + gz)
    tkgz = gzip.compress(tk, compresslevel=9, mtime=0)
    put("gzip_inflate", "testkernel", struct.pack("<IB", len(tk), 1) + tkgz)
    # FNAME/FCOMMENT/FEXTRA/FHCRC header: all optional fields present.
    hdr = bytearray(b"\x1f\x8b\x08\x1e\0\0\0\0\0\x03") + struct.pack("<H", 4) + b"ab\x02\0" + b"name\0" + b"note\0"
    import zlib
    hdr += struct.pack("<H", zlib.crc32(bytes(hdr)) & 0xFFFF)
    body = tkgz[10:]
    put("gzip_inflate", "testkernel-allflags", struct.pack("<IB", len(tk), 0) + bytes(hdr) + body)

    # bzimage: cmdline length u8 ‖ cmdline ‖ bzImage.
    put("bzimage", "testkernel", b"\0" + tk)
    put("bzimage", "testkernel-cmdline", bytes([len(cmd)]) + cmd + tk)
    rel = bytearray(tk)
    rel[0x234] = 1   # relocatable_kernel
    rel[0x235] = 21  # min_alignment: 2 MiB
    put("bzimage", "testkernel-relocatable", b"\0" + bytes(rel))
    hi = bytearray(rel)
    struct.pack_into("<H", hi, 0x236, struct.unpack_from("<H", hi, 0x236)[0] | 2)  # above 4 GiB
    put("bzimage", "testkernel-above4g", b"\0" + bytes(hi))
    with open(os.path.join(GOLDEN, "inputs", "bzimage-600.bin"), "rb") as f:
        put("bzimage", "synthetic-600", b"\0" + f.read())

    root_pages()
    elf_seeds()
    capi_seeds()

    # bundle: WASM_SEG payloads (RuvBot bundle and crate module) and a bare bundle.
    for g in ["ruvbot/tiny.rvf", "runtime-05/embed-wasm.rvf", "runtime-03/embed-wasm.rvf"]:
        for off, hdr, payload in walk(body_of(read(g))):
            if hdr[5] == WASM:
                put("bundle", g.replace("/", "-") + f"@{off}", payload)
                if payload[64:68] != b"\0asm":
                    put("bundle", g.replace("/", "-") + f"@{off}-bare", payload[64:])


def elf_note(name, n_type, desc, align=4):
    """One note; the descriptor starts at the header + name rounded up to
    `align`, and the note ends rounded up likewise."""
    pad = lambda b: b + bytes(-len(b) % align)
    return pad(pad(struct.pack("<III", len(name), len(desc), n_type) + name) + desc)


def elf_image(entry, loads, notes, note_align=4):
    """An x86-64 ET_EXEC: loads are (paddr, vaddr, data, memsz, flags); one
    PT_NOTE holding `notes` when given. Segment bytes at offsets congruent
    to their vaddr modulo 0x1000 (p_align)."""
    phnum = len(loads) + (1 if notes is not None else 0)
    f = bytearray(64 + 56 * phnum)
    f[0:16] = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    struct.pack_into("<HHIQQQIHHHHHH", f, 16, 2, 62, 1, entry, 64, 0, 0, 64, 56, phnum, 64, 0, 0)
    for i, (paddr, vaddr, data, memsz, flags) in enumerate(loads):
        off = len(f) + (vaddr - len(f)) % 0x1000
        f += bytes(off - len(f)) + data
        struct.pack_into("<IIQQQQQQ", f, 64 + 56 * i, 1, flags, off, vaddr, paddr, len(data), memsz, 0x1000)
    if notes is not None:
        off = len(f) + (-len(f) % note_align)
        f += bytes(off - len(f)) + notes
        struct.pack_into("<IIQQQQQQ", f, 64 + 56 * len(loads), 4, 4, off, 0, 0, len(notes), len(notes), note_align)
    return bytes(f)


def elf_seeds():
    """elf: Linux-shaped vmlinux images (text, data, percpu at vaddr 0, init
    with a zeroed tail; "GNU", "Xen" PVH and "Linux" notes) and variants."""
    kmap = 0xFFFFFFFF80000000
    fill = lambda n, b: bytes((b + i * 7) & 0xFF for i in range(n))
    loads = [(0x1000000, kmap + 0x1000000, fill(0x1000, 1), 0x1000, 5),
             (0x1200000, kmap + 0x1200000, fill(0x800, 2), 0x2000, 6),
             (0x1202000, 0, fill(0x100, 3), 0x100, 6),
             (0x1300000, kmap + 0x1300000, fill(0x400, 4), 0x100000, 7)]
    notes = (elf_note(b"GNU\0", 3, bytes(20)) + elf_note(b"Xen\0", 18, struct.pack("<Q", 0x1000850))
             + elf_note(b"Linux\0", 6, b"6.1\0"))
    put("elf", "linux-shaped", elf_image(0x1000000, loads, notes))
    put("elf", "no-pvh-note", elf_image(0x1000000, loads, elf_note(b"GNU\0", 3, bytes(20))))
    put("elf", "pvh-desc4-align8", elf_image(0x1000000, loads[:1],
                                             elf_note(b"Xen\0", 18, struct.pack("<I", 0x1000010), 8), 8))
    put("elf", "no-notes", elf_image(0x1000000, loads[:2], None))


def capi_seeds():
    """capi: mode ‖ policy ‖ out_delta ‖ state ‖ RVF (fuzz_targets/capi.rs)."""
    for g in ["ruvbot/tiny.rvf", "ruvbot/small.rvf", "runtime-05/embed-kernel.rvf",
              "runtime-03/embed-kernel-binding.rvf", "mixed/kernel-03-kernel-05.rvf",
              "real-bzimage/testkernel.rvf"]:
        put("capi", g.replace("/", "-"), bytes(4) + read(g))
    put("capi", "runtime-05-signed.rvf+key", bytes([1, 8, 0, 0]) + read("runtime-05/signed.rvf"))
    put("capi", "runtime-05-signed.rvf+key-epoch", bytes([1, 8 | 2 | 128, 0, 0]) + read("runtime-05/signed.rvf"))
    put("capi", "ruvbot-tiny.rvf+short-out-skewed-state", bytes([0, 0, 0xFF, 3]) + read("ruvbot/tiny.rvf"))
    put("capi", "ruvbot-tiny.rvf+overlap", bytes([16, 0, 0, 0]) + read("ruvbot/tiny.rvf"))
    put("capi", "ruvbot-tiny.rvf+pins", bytes([1, 32 | 64, 0, 0]) + read("ruvbot/tiny.rvf"))


def root_pages():
    f = read("runtime-05/signed.rvf")
    page = f[-4096:]
    put("root_page", "signed", page)
    # The same page with its CRC field zeroed: the target recomputes the CRC.
    put("root_page", "signed-crc0", page[:-4] + bytes(4))


if __name__ == "__main__":
    main()
