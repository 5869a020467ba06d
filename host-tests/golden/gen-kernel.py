#!/usr/bin/env python3
"""Deterministic synthetic "bzImage-shaped" kernel images for the golden files.

gen-kernel.py LEN SEED OUT: an xorshift32 byte stream (state = SEED; per step
x ^= x<<13; x ^= x>>17; x ^= x<<5 (mod 2^32); emit x as 4 LE bytes), cut to
LEN, then 0xAA55 at 0x1FE, "HdrS" at 0x202, protocol 0x020F at 0x206 (when
LEN >= 0x208). Same algorithm as host-tests/writers/common.rs::synthetic_image.
"""
import sys


def synthetic_image(n, seed):
    x, out = seed & 0xFFFFFFFF, bytearray()
    while len(out) < n:
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        out += x.to_bytes(4, "little")
    out = out[:n]
    if n >= 0x208:
        out[0x1FE:0x200] = b"\x55\xaa"
        out[0x202:0x206] = b"HdrS"
        out[0x206:0x208] = b"\x0f\x02"
    return bytes(out)


if __name__ == "__main__":
    n, seed, path = int(sys.argv[1], 0), int(sys.argv[2], 0), sys.argv[3]
    with open(path, "wb") as f:
        f.write(synthetic_image(n, seed))
