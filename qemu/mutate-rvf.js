#!/usr/bin/env node
// Make broken copies of an RVF for the negative QEMU tests (qemu/test.sh).
//
//   node qemu/mutate-rvf.js IN OUT flip-stored [--rehash]
//       flip one byte in the middle of the first KERNEL_SEG's stored
//       (compressed) image
//   node qemu/mutate-rvf.js IN OUT image-hash
//       flip one byte of the kernel header's image_hash (always rehashed)
//
// --rehash recomputes the segment's content_hash afterwards (checksum_algo 0
// as build-rvf.js writes it: SHA-256(payload)[0..16]), so the damage is
// caught by the layer behind the content hash (inflate / CRC / image_hash).
// Segments are walked unpadded (the RuvBot dialect this is used with).
"use strict";
const fs = require("fs");
const crypto = require("crypto");

const [, , input, output, what, ...flags] = process.argv;
if (!input || !output || !["flip-stored", "image-hash"].includes(what)) {
  console.error("usage: mutate-rvf.js IN OUT flip-stored|image-hash [--rehash]");
  process.exit(2);
}
const rehash = what === "image-hash" || flags.includes("--rehash");
const buf = fs.readFileSync(input);
const HDR = 64;
let off = 0;
let kernel = -1;
while (off + HDR <= buf.length) {
  const type = buf[off + 5];
  const len = Number(buf.readBigUInt64LE(off + 16));
  if (type === 0x0e) {
    kernel = off;
    break;
  }
  off += HDR + len;
}
if (kernel < 0) {
  console.error("no KERNEL_SEG found by an unpadded walk");
  process.exit(1);
}
const payload = kernel + HDR;
const payloadLen = Number(buf.readBigUInt64LE(kernel + 16));
if (what === "flip-stored") {
  // Stored image starts after the 128-byte kernel header; flip a byte in the
  // middle of it (well inside the deflate stream, away from its header).
  const stored = Number(buf.readBigUInt64LE(payload + 0x20)) || payloadLen - 128;
  const at = payload + 128 + Math.floor(stored / 2);
  buf[at] ^= 0x01;
  console.log(`flipped byte at file offset ${at}`);
} else {
  buf[payload + 0x30] ^= 0x01;
  console.log(`flipped image_hash byte at file offset ${payload + 0x30}`);
}
if (rehash) {
  if (buf[kernel + 32] !== 0) {
    console.error(`checksum_algo ${buf[kernel + 32]} is not the RuvBot SHA-256 form`);
    process.exit(1);
  }
  const digest = crypto.createHash("sha256").update(buf.subarray(payload, payload + payloadLen)).digest();
  digest.copy(buf, kernel + 40, 0, 16);
  console.log("content_hash recomputed");
}
fs.writeFileSync(output, buf);
