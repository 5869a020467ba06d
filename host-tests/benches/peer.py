#!/usr/bin/env python3
"""The benchmark's Python peer of `rvf-boot extract FILE --kernel OUT` (issue 13).

The same checks on a RuvBot RVF (build-rvf.js's layout) with C zlib and
hashlib (OpenSSL): walk the segment headers, check every segment's algo-0
content hash (SHA-256[0..16]), take the last MANIFEST_SEG's first KERNEL_SEG
entry, check the 128-byte kernel header's length rule, inflate the gzip member
(zlib checks CRC-32 and ISIZE; no bytes may follow it), check the exact
image_size and the SHA-256 image_hash, then write OUT the way the CLI does
(temporary file in the same directory, fsync, rename, fsync of the directory).

Usage: peer.py FILE OUT.  Exit 0 when verified and written, 1 otherwise.
"""
import hashlib
import os
import struct
import sys
import tempfile
import zlib

SEG_MAGIC = b"SFVR"
KERNEL_MAGIC = b"NKVR"


def fail(msg):
    print("peer: " + msg, file=sys.stderr)
    sys.exit(1)


def main(path, out):
    with open(path, "rb") as f:
        data = f.read()
    mv = memoryview(data)
    segs, off = [], 0
    while off + 64 <= len(data):
        if data[off:off + 4] != SEG_MAGIC or data[off + 4] != 1:
            fail("bad segment header at %d" % off)
        plen = struct.unpack_from("<Q", data, off + 0x10)[0]
        end = off + 64 + plen
        if end > len(data):
            fail("segment at %d runs past the end" % off)
        if data[off + 0x20] != 0:
            fail("checksum_algo %d at %d" % (data[off + 0x20], off))
        want = data[off + 0x28:off + 0x38]
        if hashlib.sha256(mv[off + 64:end]).digest()[:16] != want:
            fail("content hash mismatch at %d" % off)
        segs.append((off, data[off + 5], plen))
        off = end
    mans = [s for s in segs if s[1] == 0x05]
    if not mans:
        fail("no manifest")
    moff, _, mlen = mans[-1]
    p = mv[moff + 64:moff + 64 + mlen]
    count = struct.unpack_from("<I", p, 14)[0]
    kernel = None
    for i in range(count):
        sid, eoff, elen, st = struct.unpack_from("<QQQB", p, 22 + 25 * i)
        if st == 0x0E:
            kernel = (eoff, elen)
            break
    if kernel is None:
        fail("no kernel in the manifest")
    koff, klen = kernel
    if not any(s[0] == koff and s[2] == klen and s[1] == 0x0E for s in segs):
        fail("manifest entry names no KERNEL_SEG")
    k = mv[koff + 64:koff + 64 + klen]
    h = bytes(k[:128])
    if h[:4] != KERNEL_MAGIC:
        fail("kernel header magic")
    image_size, compressed_size = struct.unpack_from("<QQ", h, 0x18)
    cmdline_len = struct.unpack_from("<I", h, 0x70)[0]
    if 128 + compressed_size + cmdline_len != klen:
        fail("kernel length rule")
    stored = k[128:128 + compressed_size]
    d = zlib.decompressobj(31)
    image = d.decompress(stored, image_size + 1)
    if not d.eof or d.unused_data or d.unconsumed_tail or len(image) != image_size:
        fail("gzip member does not inflate to exactly image_size")
    if hashlib.sha256(image).digest() != h[0x30:0x50]:
        fail("image hash mismatch")
    directory = os.path.dirname(os.path.abspath(out))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".peer-")
    with os.fdopen(fd, "wb") as f:
        f.write(image)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, out)
    dfd = os.open(directory, os.O_RDONLY)
    os.fsync(dfd)
    os.close(dfd)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        fail("usage: peer.py FILE OUT")
    main(sys.argv[1], sys.argv[2])
