#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write the small seed corpora under fuzz/corpus/<target>/ (deterministic).

The input layouts are the ones the targets in fuzz_targets/ decode."""

import hashlib
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def image(payload):
    hdr = bytearray(0x20)
    struct.pack_into("<IIHHI", hdr, 0, 0x96F3B83D, 0, 0x20, 0, payload)
    hdr[20] = 1
    body = bytes(hdr) + bytes(((i * 31 + i // 7) & 0xFF) for i in range(payload))
    d = hashlib.sha256(body).digest()
    return body + struct.pack("<HHHH", 0x6907, 40, 0x10, 32) + d


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def u16(n):
    return struct.pack("<H", n)


def main():
    # url: sel, host limit, path limit, "host \x01 file \x01 location"
    for i, s in enumerate([
        b"https://fota.test:8443/fw.bin?X-Amz-Signature=abc\x01https://fota.test/fw.bin?t=1:2\x01/next",
        b"memfault.s3.localhost\x01/a/b.bin\x01../c.bin",
        b"http://[::1]:80/x\x01x\x01//other.test:81/y?q",
        b"https://a.test/f\x01f\x01http://b.test/g",
        b"https://gcs.test/o?X-Goog-Signature=s1&x-goog-credential=c2&X-Goog-Date=d\x01f\x01"
        b"/p?X-Amz-Security-Token=t&X-Amz-Credential=c",
        b"s3.test\x01/o?X%2DAmz%2DSignature=s&x%2damz%2dcredential=c&%58-Goog-Credential=g&"
        b"X-Amz-Security%2DToken=t&X-Amz-Signature%=v\x01../q?X%2DGoog%2DSignature=z",
    ]):
        put("url", f"seed{i}", bytes([i & 1, 0, 0]) + s)

    img = image(700)
    n = len(img)
    ok200 = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % n + img
    part = (b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-511/%d\r\n"
            b"Content-Length: 512\r\n\r\n" % n + img[:512])
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"7\r\n" + img[:7] + b"\r\n3;ext=1\r\n" + img[7:10] + b"\r\n0\r\nx: y\r\n\r\n")
    redirect = b"HTTP/1.1 302 Found\r\nLocation: /other?x=1\r\nContent-Length: 0\r\n\r\n"
    retry = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 No\r\nRetry-After: 2\r\nConnection: close\r\n\r\n"
    # http: flags, nsplits, splits, stream
    for i, s in enumerate([ok200, part, chunked, redirect, retry]):
        put("http", f"seed{i}", bytes([0, 3, 5, 17, 1]) + s)

    # mcuboot: geometry, pages, declared total (0: input length), nsplits, splits, file
    put("mcuboot", "seed0", bytes([0x02, 6]) + u16(0) + bytes([2, 13, 100]) + img)
    put("mcuboot", "seed1", bytes([0x4a, 4]) + u16(0) + bytes([0]) + img)

    # engine: flags, flags2, u16 payload size of the served image,
    # [u16 corrupt index], [u16 power cut after N persisting ops, torn/4],
    # [kv], then per connection: u16 length (honest: budget/8), shape, bytes
    def conn(b, piece=0, close=True):
        return u16(len(b)) + bytes([piece | (0x80 if close else 0)]) + b

    def honest(budget8=0, piece=0, close=True):
        return u16(budget8) + bytes([0x40 | piece | (0x80 if close else 0)])

    def eng(flags, flags2=0, payload=10000, extra=b""):
        return bytes([flags, flags2]) + u16(payload - 64) + extra

    put("engine", "http-200", eng(0x00) + conn(ok200, 60))
    put("engine", "http-chunked",
        eng(0x00) + conn(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                         + b"".join(b"%x\r\n" % len(img[i:i + 300]) + img[i:i + 300] + b"\r\n"
                                    for i in range(0, n, 300)) + b"0\r\n\r\n", 37))
    put("engine", "http-cut-resume",
        eng(0x40) + conn(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % n + img[:300])
        + conn(b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 300-%d/%d\r\n"
               b"Content-Length: %d\r\n\r\n" % (n - 1, n, n - 300) + img[300:]))
    # https with 512-byte fragments (flags bits 4-5 = 1) on one connection.
    frags = b""
    for a in range(0, n, 512):
        b = min(a + 512, n)
        frags += (b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %d-%d/%d\r\n"
                  b"Content-Length: %d\r\n\r\n" % (a, b - 1, n, b - a) + img[a:b])
    put("engine", "https-frags", eng(0x11) + conn(frags, 0, False))
    put("engine", "https-redirect-then-frags",
        eng(0x11) + conn(redirect, 0, False) + conn(frags, 0, False))
    put("engine", "honest-http", eng(0x40) + honest())
    put("engine", "honest-https", eng(0x41) + honest(close=False))
    put("engine", "honest-http-cut", eng(0x40) + honest(625, 50) + honest())
    put("engine", "honest-https-cuts", eng(0x81) + honest(300) + honest(900, 0, False)
        + honest(close=False))
    put("engine", "honest-corrupt", eng(0x41, 0x02 | 0x60, 10000, u16(5000)) + honest())
    put("engine", "powercut-http", eng(0x40, 0x01, 20000, u16(12) + bytes([3])) + honest()
        + honest())
    put("engine", "powercut-https", eng(0x41, 0x01, 20000, u16(25) + bytes([1]))
        + honest(close=False) + honest(close=False))

if __name__ == "__main__":
    main()
