#!/usr/bin/env python3
"""Independent RVF decoder used as the test oracle for the golden files.

Std-lib only (hashlib, zlib, struct, json). Written from the format notes (docs/format.md) and the
writers' sources, NOT from rvf-boot. Usage:

    decode.py FILE...            human-readable facts
    decode.py --json FILE...     {name: facts} JSON (what facts.json holds)

Facts (per file): size, root page, forward-walk segments (offset, type, id,
payload length, checksum_algo, matching hash, alignment_pad, where the next
header is), walk end, trailing bytes, dialect, the newest complete manifest
(offset, epoch, directory, trailers), every KERNEL_SEG in directory order
(layout, stored format, sizes, cmdline, sha256 of image and stored bytes) and
the selected kernel (first KERNEL in the directory, as the crates do).
"""
import hashlib
import json
import struct
import sys
import zlib

SEG_MAGIC = b"SFVR"
ROOT_MAGIC = b"0MVR"
KERNEL_MAGIC = b"NKVR"
M64 = (1 << 64) - 1

# ---------------------------------------------------------------- XXH3-128
# Transcribed from the XXH3 reference algorithm (seed 0, default secret).
SECRET = bytes.fromhex(
    "b8fe6c3923a44bbe7c01812cf721ad1cded46de9839097db7240a4a4b7b3671f"
    "cb79e64eccc0e578825ad07dccff7221b8084674f743248ee03590e6813a264c"
    "3c2852bb91c300cb88d0658b1b532ea371644897a20df94e3819ef46a9deacd8"
    "a8fa763fe39c343ff9dcbbc7c70b4f1d8a51e04bcdb45931c89f7ec9d9787364"
    "eac5ac8334d3ebc3c581a0fffa1363eb170ddd51b7f0da49d316552629d4689e"
    "2b16be587d47a1fc8ff8b8d17ad031ce45cb3a8f95160428afd7fbcabb4b407e")
P32_1, P32_2, P32_3 = 0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D
P64_1, P64_2, P64_3 = 0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9
P64_4, P64_5 = 0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5


def _r64(b, i):
    return int.from_bytes(b[i:i + 8], "little")


def _r32(b, i):
    return int.from_bytes(b[i:i + 4], "little")


def _fold(a, b):
    p = a * b
    return (p & M64) ^ (p >> 64)


def _avalanche(h):
    h ^= h >> 37
    h = (h * 0x165667919E3779F9) & M64
    return h ^ (h >> 32)


def _xxh64_avalanche(h):
    h ^= h >> 33
    h = (h * P64_2) & M64
    h ^= h >> 29
    h = (h * P64_3) & M64
    return h ^ (h >> 32)


def _mix16(b, i, s):
    return _fold(_r64(b, i) ^ _r64(SECRET, s), _r64(b, i + 8) ^ _r64(SECRET, s + 8))


def _mix32(acc, b, i1, i2, s):
    lo, hi = acc
    lo = (lo + _mix16(b, i1, s)) & M64
    lo ^= (_r64(b, i2) + _r64(b, i2 + 8)) & M64
    hi = (hi + _mix16(b, i2, s + 16)) & M64
    hi ^= (_r64(b, i1) + _r64(b, i1 + 8)) & M64
    return lo, hi


def _finish_mid(acc, n):
    lo = (acc[0] + acc[1]) & M64
    hi = (acc[0] * P64_1 + acc[1] * P64_4 + n * P64_2) & M64
    return _avalanche(lo) | (((-_avalanche(hi)) & M64) << 64)


def xxh3_128(b):
    """XXH3-128 of b (seed 0) as an int (low 64 bits = low half)."""
    n = len(b)
    if n == 0:
        return (_xxh64_avalanche(_r64(SECRET, 64) ^ _r64(SECRET, 72))
                | _xxh64_avalanche(_r64(SECRET, 80) ^ _r64(SECRET, 88)) << 64)
    if n <= 3:
        lo32 = (b[0] << 16) | (b[n >> 1] << 24) | b[n - 1] | (n << 8)
        sw = int.from_bytes(lo32.to_bytes(4, "little"), "big")
        hi32 = ((sw << 13) | (sw >> 19)) & 0xFFFFFFFF
        flo = _r32(SECRET, 0) ^ _r32(SECRET, 4)
        fhi = _r32(SECRET, 8) ^ _r32(SECRET, 12)
        return _xxh64_avalanche(lo32 ^ flo) | _xxh64_avalanche(hi32 ^ fhi) << 64
    if n <= 8:
        v = (_r32(b, 0) + (_r32(b, n - 4) << 32)) & M64
        p = (v ^ (_r64(SECRET, 16) ^ _r64(SECRET, 24))) * ((P64_1 + (n << 2)) & M64)
        lo, hi = p & M64, p >> 64
        hi = (hi + (lo << 1)) & M64
        lo ^= hi >> 3
        lo ^= lo >> 35
        lo = (lo * 0x9FB21C651E98DF25) & M64
        lo ^= lo >> 28
        return lo | _avalanche(hi) << 64
    if n <= 16:
        flo = _r64(SECRET, 32) ^ _r64(SECRET, 40)
        fhi = _r64(SECRET, 48) ^ _r64(SECRET, 56)
        ilo, ihi = _r64(b, 0), _r64(b, n - 8)
        p = (ilo ^ ihi ^ flo) * P64_1
        ml, mh = p & M64, p >> 64
        ml = (ml + ((n - 1) << 54)) & M64
        ihi ^= fhi
        mh = (mh + ihi + (ihi & 0xFFFFFFFF) * (P32_2 - 1)) & M64
        ml ^= int.from_bytes(mh.to_bytes(8, "little"), "big")
        p = ml * P64_2
        rl, rh = p & M64, ((p >> 64) + mh * P64_2) & M64
        return _avalanche(rl) | _avalanche(rh) << 64
    if n <= 128:
        acc = ((n * P64_1) & M64, 0)
        if n > 32:
            if n > 64:
                if n > 96:
                    acc = _mix32(acc, b, 48, n - 64, 96)
                acc = _mix32(acc, b, 32, n - 48, 64)
            acc = _mix32(acc, b, 16, n - 32, 32)
        acc = _mix32(acc, b, 0, n - 16, 0)
        return _finish_mid(acc, n)
    if n <= 240:
        acc = ((n * P64_1) & M64, 0)
        for i in range(4):
            acc = _mix32(acc, b, 32 * i, 32 * i + 16, 32 * i)
        acc = (_avalanche(acc[0]), _avalanche(acc[1]))
        for i in range(4, n // 32):
            acc = _mix32(acc, b, 32 * i, 32 * i + 16, 3 + 32 * (i - 4))
        acc = _mix32(acc, b, n - 16, n - 32, 136 - 17 - 16)
        return _finish_mid(acc, n)
    acc = [P32_3, P64_1, P64_2, P64_3, P64_4, P32_2, P64_5, P32_1]

    def stripe(at, s):
        for i in range(8):
            d = _r64(b, at + 8 * i)
            k = d ^ _r64(SECRET, s + 8 * i)
            acc[i ^ 1] = (acc[i ^ 1] + d) & M64
            acc[i] = (acc[i] + (k & 0xFFFFFFFF) * (k >> 32)) & M64

    stripes = (len(SECRET) - 64) // 8
    block = 64 * stripes
    blocks = (n - 1) // block
    for bl in range(blocks):
        for s in range(stripes):
            stripe(bl * block + 64 * s, 8 * s)
        for i in range(8):
            a = acc[i] ^ (acc[i] >> 47) ^ _r64(SECRET, len(SECRET) - 64 + 8 * i)
            acc[i] = (a * P32_1) & M64
    for s in range(((n - 1) - block * blocks) // 64):
        stripe(blocks * block + 64 * s, 8 * s)
    stripe(n - 64, len(SECRET) - 64 - 7)

    def merge(s, r):
        for i in range(4):
            r = (r + _fold(acc[2 * i] ^ _r64(SECRET, s + 16 * i),
                           acc[2 * i + 1] ^ _r64(SECRET, s + 16 * i + 8))) & M64
        return _avalanche(r)

    lo = merge(11, (n * P64_1) & M64)
    hi = merge(len(SECRET) - 64 - 11, ~(n * P64_2) & M64)
    return lo | hi << 64


# ------------------------------------------------------------- other hashes
def crc_rot4(b):
    c = zlib.crc32(b)
    rot = lambda v, r: ((v << r) | (v >> (32 - r))) & 0xFFFFFFFF if r else v
    return b"".join(struct.pack("<I", rot(c, r)) for r in (0, 8, 16, 24))


def crc32c(b):
    c = 0xFFFFFFFF
    for x in b:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
    return c ^ 0xFFFFFFFF


HASHES = {
    "crc32-rot4": crc_rot4,
    "sha256-16": lambda b: hashlib.sha256(b).digest()[:16],
    "xxh3-128": lambda b: xxh3_128(b).to_bytes(16, "little"),
    "shake256-128": lambda b: hashlib.shake_256(b).digest(16),
}
BY_ALGO = {0: ("crc32-rot4", "sha256-16", "xxh3-128"), 1: ("xxh3-128",), 2: ("shake256-128",)}


def hash_name(algo, stored, payload):
    if stored == bytes(16):
        return "unset"
    for name in BY_ALGO.get(algo, ()):
        if HASHES[name](payload) == stored:
            return name
    return "MISMATCH"


# ------------------------------------------------------------------ decoder
SEG_NAMES = {0x01: "VEC", 0x05: "MANIFEST", 0x07: "META", 0x0A: "WITNESS",
             0x0B: "PROFILE", 0x0E: "KERNEL", 0x10: "WASM"}


def align64(x):
    return (x + 63) // 64 * 64


def decode(data):
    f = {"size": len(data), "root_page": None}
    body_end = len(data)
    if len(data) >= 4096 + 64 and data[-4096:-4092] == ROOT_MAGIC:
        body_end = len(data) - 4096
        pg = data[body_end:]
        f["root_page"] = {
            "offset": body_end,
            "l1_manifest_offset": _r64(pg, 0x08),
            "l1_manifest_length": _r64(pg, 0x10),
            "epoch": _r32(pg, 0x24),
            "sig_algo": struct.unpack_from("<H", pg, 0x98)[0],
            "sig_length": struct.unpack_from("<H", pg, 0x9A)[0],
            "l1_segment_id": _r64(pg, 0xFF0),
            "crc32c_ok": crc32c(pg[:0xFFC]) == _r32(pg, 0xFFC),
            "signer_fingerprint": pg[0xFE0:0xFF0].hex(),
        }

    def is_hdr(pos):
        return pos + 64 <= body_end and data[pos:pos + 4] == SEG_MAGIC and data[pos + 4] == 1

    segs, off, stop = [], 0, None
    while off + 64 <= body_end:
        if not is_hdr(off):
            stop = "bad magic/version at %d" % off
            break
        h = data[off:off + 64]
        plen = _r64(h, 0x10)
        u = off + 64 + plen
        if u > body_end:
            stop = "truncated payload at %d" % off
            break
        payload = data[off + 64:u]
        p = align64(u)
        # padded = zero fill up to the aligned position p != u follows the
        # payload: the next header sits at p, or (last segment) only zero
        # bytes follow up to the end of the body and p is within it.
        padded = u != p and is_hdr(p) and data[u:p] == bytes(p - u)
        last_pad = (not padded and not is_hdr(u) and u != p and p <= body_end
                    and data[u:body_end] == bytes(body_end - u))
        padded = padded or last_pad
        nxt = p if padded else u
        segs.append({
            "index": len(segs), "offset": off, "seg_type": h[5],
            "type_name": SEG_NAMES.get(h[5], "0x%02X" % h[5]),
            "segment_id": _r64(h, 0x08), "payload_length": plen,
            "flags": struct.unpack_from("<H", h, 6)[0],
            "timestamp_ns": _r64(h, 0x18), "checksum_algo": h[0x20],
            "compression": h[0x21], "alignment_pad": _r32(h, 0x3C),
            "padded": padded, "next": nxt, "fill": nxt - u,
            "hash": hash_name(h[0x20], h[0x28:0x38], payload),
            "payload_sha256": hashlib.sha256(payload).hexdigest(),
        })
        off = nxt
    f["segments"] = segs
    f["walk_end"] = off
    f["walk_stop"] = stop
    tail = body_end - off
    f["trailing"] = [off, tail] if tail else None

    hashes = {s["hash"] for s in segs}
    if "sha256-16" in hashes and segs and segs[0]["seg_type"] == 0x0E:
        f["dialect"] = "ruvbot"
    else:
        legacy = "crc32-rot4" in hashes or any(s["next"] == s["offset"] + 64 + s["payload_length"]
                                               != align64(s["next"]) for s in segs[:-1])
        wire = bool(hashes & {"xxh3-128", "shake256-128"})
        f["dialect"] = "mixed" if legacy and wire else "legacy" if legacy else "wire"

    mans = [s for s in segs if s["seg_type"] == 0x05]
    f["manifest"] = parse_manifest(data, mans[-1]) if mans else None
    f["manifest_offsets"] = [s["offset"] for s in mans]

    by_off = {s["offset"]: s for s in segs}
    f["kernels"] = []
    if f["manifest"]:
        for e in f["manifest"]["entries"]:
            if e["seg_type"] == 0x0E:
                s = by_off[e["offset"]]
                assert (s["segment_id"], s["payload_length"]) == (e["segment_id"], e["payload_length"])
                f["kernels"].append(parse_kernel(data, s))
    f["selected_kernel"] = f["kernels"][0]["segment_offset"] if f["kernels"] else None
    f["kernels_in_file_order"] = [s["offset"] for s in segs if s["seg_type"] == 0x0E]
    return f


def parse_manifest(data, seg):
    p = data[seg["offset"] + 64:seg["offset"] + 64 + seg["payload_length"]]
    epoch, dim, total, count, prof, metric = struct.unpack_from("<IHQIBB", p, 0)
    at, entries = 22, []
    for _ in range(count):
        sid, off, plen, st = struct.unpack_from("<QQQB", p, at)
        entries.append({"segment_id": sid, "offset": off, "payload_length": plen, "seg_type": st})
        at += 25
    (dels,) = struct.unpack_from("<I", p, at)
    at += 4 + 8 * dels
    m = {"offset": seg["offset"], "segment_id": seg["segment_id"], "epoch": epoch,
         "dimension": dim, "total_vectors": total, "profile_id": prof, "metric": metric,
         "entries": entries, "del_count": dels, "fidi": None, "shdg": None}
    while at + 4 <= len(p):
        tag = p[at:at + 4]
        if tag == b"IDIF":
            fi = p[at + 4:at + 72]
            m["fidi"] = {"file_id": fi[:16].hex(), "parent_id": fi[16:32].hex(),
                         "lineage_depth": _r32(fi, 64)}
            at += 72
        elif tag == b"SHDG":
            (n,) = struct.unpack_from("<I", p, at + 4)
            m["shdg"] = [{"segment_id": _r64(p, at + 8 + 24 * i),
                          "content_hash": p[at + 16 + 24 * i:at + 32 + 24 * i].hex()}
                         for i in range(n)]
            at += 8 + 24 * n
        else:
            m["unparsed_tail"] = len(p) - at
            break
    return m


def parse_kernel(data, seg):
    p = data[seg["offset"] + 64:seg["offset"] + 64 + seg["payload_length"]]
    h = p[:128]
    assert h[:4] == KERNEL_MAGIC
    image_size, compressed_size = _r64(h, 0x18), _r64(h, 0x20)
    compression = h[0x28]
    js = _r32(h, 0x6C) != 0
    if js:
        cl, hint = _r32(h, 0x70), _r32(h, 0x6C)
        port = struct.unpack_from("<H", h, 0x2A)[0]
    else:
        cl, hint = _r32(h, 0x78), _r64(h, 0x70)
        port = struct.unpack_from(">H", h, 0x2A)[0]
    stored_len = image_size if compression == 0 else compressed_size
    rest = len(p) - 128
    if rest == stored_len + cl:
        layout = "ruvbot" if js else "simple"
        stored, cmd = p[128:128 + stored_len], p[128 + stored_len:]
    elif not js and rest == 128 + cl + stored_len:
        layout = "binding"
        cmd, stored = p[256:256 + cl], p[256 + cl:]
    else:
        raise ValueError("kernel length rule fails at %d" % seg["offset"])
    gz = stored[:3] == b"\x1f\x8b\x08"
    image = zlib.decompress(stored, 31) if gz else stored
    assert len(image) == image_size
    return {"segment_offset": seg["offset"], "segment_id": seg["segment_id"],
            "layout": layout, "format": "gzip" if gz else "raw",
            "image_size": image_size, "stored_size": len(stored),
            "compressed_size": compressed_size, "compression": compression,
            "cmdline": cmd.decode(), "cmdline_offset_hint": hint,
            "arch": h[6], "kernel_type": h[7], "kernel_flags": _r32(h, 8),
            "api_port": port, "entry_point": _r64(h, 0x10),
            "image_hash": h[0x30:0x50].hex(),
            "image_hash_is_sha256": h[0x30:0x50] == hashlib.sha256(image).digest(),
            "image_sha256": hashlib.sha256(image).hexdigest(),
            "stored_sha256": hashlib.sha256(stored).hexdigest()}


def describe(name, f):
    out = ["### %s" % name, "",
           "size %d, dialect **%s**, walk_end %d, trailing %s, root_page %s" % (
               f["size"], f["dialect"], f["walk_end"], f["trailing"],
               f["root_page"]["offset"] if f["root_page"] else None), "",
           "| # | offset | type | id | payload_len | algo | hash | align_pad | padded | fill |",
           "|---:|---:|---|---:|---:|---:|---|---:|---|---:|"]
    for s in f["segments"]:
        out.append("| %d | %d | %s (0x%02X) | %d | %d | %d | %s | %d | %s | %d |" % (
            s["index"], s["offset"], s["type_name"], s["seg_type"], s["segment_id"],
            s["payload_length"], s["checksum_algo"], s["hash"], s["alignment_pad"],
            s["padded"], s["fill"]))
    m = f["manifest"]
    if m:
        out += ["", "manifest @%d (id %d): epoch %d, dim %d, total_vectors %d, profile 0x%02X, "
                "del_count %d, FIDI %s, SHDG %s" % (
                    m["offset"], m["segment_id"], m["epoch"], m["dimension"], m["total_vectors"],
                    m["profile_id"], m["del_count"], "yes" if m["fidi"] else "no",
                    len(m["shdg"]) if m["shdg"] is not None else "no"),
                "directory: " + ", ".join("id %d @%d len %d type 0x%02X" % (
                    e["segment_id"], e["offset"], e["payload_length"], e["seg_type"])
                    for e in m["entries"])]
    for k in f["kernels"]:
        out += ["", "kernel @%d (id %d): layout %s, format %s, image_size %d, stored_size %d, "
                "compressed_size %d, compression %d, cmdline %r (offset hint %d), arch %d, type %d, flags 0x%X, "
                "api_port %d, image sha256 %s, image_hash is sha256: %s" % (
                    k["segment_offset"], k["segment_id"], k["layout"], k["format"],
                    k["image_size"], k["stored_size"], k["compressed_size"], k["compression"],
                    k["cmdline"],
                    k["cmdline_offset_hint"], k["arch"], k["kernel_type"], k["kernel_flags"],
                    k["api_port"], k["image_sha256"], k["image_hash_is_sha256"])]
    out += ["", "selected kernel: %s" % f["selected_kernel"]]
    if f["root_page"]:
        r = f["root_page"]
        out.append("root page @%d: l1_manifest_offset %d, l1_manifest_length %d, epoch %d, "
                   "sig_algo %d, sig_length %d, l1_segment_id %d, crc32c ok %s" % (
                       r["offset"], r["l1_manifest_offset"], r["l1_manifest_length"], r["epoch"],
                       r["sig_algo"], r["sig_length"], r["l1_segment_id"], r["crc32c_ok"]))
    return "\n".join(out) + "\n"


def _selftest():
    v = lambda b: HASHES["xxh3-128"](b).hex()
    assert v(b"") == "7f498d4624c30160d8984701d306aa99", v(b"")
    assert v(b"abc") == "50392f89945faf7885613a73b65ab006", v(b"abc")
    assert crc_rot4(b"123456789").hex() == "2639f4cbcb2639f4f4cb263939f4cb26"
    assert HASHES["shake256-128"](b"abc").hex() == "483366601360a8771c6863080cc4114d"
    assert crc32c(b"123456789") == 0xE3069283


if __name__ == "__main__":
    _selftest()
    args = sys.argv[1:]
    as_json = args[:1] == ["--json"]
    files = args[1:] if as_json else args
    res = {}
    for path in files:
        with open(path, "rb") as fh:
            res[path] = decode(fh.read())
    if as_json:
        print(json.dumps(res, indent=1, sort_keys=True))
    else:
        for path, f in res.items():
            print(describe(path, f))
