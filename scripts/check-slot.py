#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Check a simulated MCUboot secondary-slot file byte for byte.

    check-slot.py --flash SLOT --image IMG [--slot-size S] [--page-size 4096]
                  [--expect test|perm|none]

Layout checked (S = slot size, default: the size of SLOT, which must match):

    [0, len(IMG))              the image bytes, identical to IMG
    [len(IMG), S - page)       erased (0xFF)
    [S - page, S)              the trailer page:
        --expect none   entirely 0xFF (download finished, no upgrade requested)
        --expect test   magic 77 c2 95 f3 60 d2 ef 7f 35 52 50 0f 2c b6 79 80
                        at S-16, image_ok (S-24) and copy_done (S-32) erased,
                        swap_info byte at S-40 == 0x02 (TEST, image 0)
        --expect perm   as test but image_ok byte == 0x01 and swap_info == 0x03
        every other byte of the page 0xFF.

Prints a short report (image size, header version, hash TLV, trailer state)
and exits 0 when everything matches, 1 on a mismatch (naming the first bad
offset), 2 on usage or I/O errors. Numbers may be decimal or 0x hex.
"""

import argparse
import hashlib
import os
import struct
import sys

IMAGE_MAGIC = 0x96F3B83D
TLV_INFO_MAGIC = 0x6907
TLV_PROT_INFO_MAGIC = 0x6908
TLV_NAMES = {0x01: "KEYHASH", 0x02: "PUBKEY", 0x10: "SHA256", 0x11: "SHA384",
             0x12: "SHA512", 0x20: "RSA2048_PSS", 0x22: "ECDSA_SIG",
             0x24: "ED25519", 0x50: "SEC_CNT", 0x40: "DEPENDENCY"}
BOOT_MAGIC = bytes.fromhex("77c295f360d2ef7f3552500f2cb67980")
SWAP_TYPE_TEST = 2
SWAP_TYPE_PERM = 3


def intarg(s):
    try:
        return int(s, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {s!r}")


def parse_image(img):
    """Return (info dict, list of problems). Never raises on bad input."""
    info = {}
    probs = []
    if len(img) < 32:
        return info, ["image shorter than the 32-byte MCUboot header"]
    magic, load_addr, hdr_size, prot_size, img_size, flags = struct.unpack_from("<IIHHII", img, 0)
    major, minor, rev, build = struct.unpack_from("<BBHI", img, 20)
    if magic != IMAGE_MAGIC:
        return info, [f"image magic {magic:#010x} != {IMAGE_MAGIC:#010x}: not an MCUboot image"]
    info.update(hdr_size=hdr_size, img_size=img_size, prot_size=prot_size, flags=flags,
                load_addr=load_addr, version=f"{major}.{minor}.{rev}+{build}")
    end = hdr_size + img_size
    if hdr_size + 8 <= len(img):
        sp, reset = struct.unpack_from("<II", img, hdr_size)
        info.update(init_sp=sp, reset=reset)
    hashed_len = end + prot_size
    off = end
    tlvs = []
    if prot_size:
        if off + 4 > len(img):
            probs.append("protected TLV area truncated")
            return info, probs
        m, tot = struct.unpack_from("<HH", img, off)
        if m != TLV_PROT_INFO_MAGIC or tot != prot_size:
            probs.append(f"bad protected TLV info at {off:#x} (magic {m:#06x}, len {tot})")
            return info, probs
        off += prot_size
    if off + 4 > len(img):
        probs.append(f"TLV info header missing at {off:#x}")
        return info, probs
    m, tot = struct.unpack_from("<HH", img, off)
    if m != TLV_INFO_MAGIC:
        probs.append(f"bad TLV info magic {m:#06x} at {off:#x}")
        return info, probs
    tlv_end = off + tot
    info["total_len"] = tlv_end
    p = off + 4
    while p + 4 <= tlv_end:
        t, ln = struct.unpack_from("<HH", img, p)
        tlvs.append((t, img[p + 4:p + 4 + ln]))
        p += 4 + ln
    if p != tlv_end:
        probs.append("TLV entries overrun the TLV area")
    info["tlvs"] = tlvs
    for t, v in tlvs:
        if t == 0x10:
            digest = hashlib.sha256(img[:hashed_len]).digest()
            info["hash_ok"] = digest == v
            if digest != v:
                probs.append("SHA256 TLV does not match the image contents")
    if "hash_ok" not in info:
        probs.append("no SHA256 TLV")
    if tlv_end != len(img):
        probs.append(f"image file is {len(img)} bytes but header+TLVs end at {tlv_end}")
    return info, probs


def first_diff(a, b):
    """First index where a and b differ (same length), or None."""
    if a == b:
        return None
    # Binary search on chunks for speed with large slots.
    lo, hi = 0, len(a)
    while hi - lo > 64:
        mid = (lo + hi) // 2
        if a[lo:mid] != b[lo:mid]:
            hi = mid
        else:
            lo = mid
    for i in range(lo, hi):
        if a[i] != b[i]:
            return i
    return None


def first_not_erased(buf, start, end):
    seg = buf[start:end]
    stripped = seg.lstrip(b"\xff")
    if not stripped:
        return None
    return start + len(seg) - len(stripped)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--flash", required=True, help="simulated secondary slot file")
    ap.add_argument("--image", required=True, help="the image that was downloaded")
    ap.add_argument("--slot-size", type=intarg, help="slot size (default: size of --flash)")
    ap.add_argument("--page-size", type=intarg, default=4096, help="flash page size (default 4096)")
    ap.add_argument("--expect", choices=("test", "perm", "none"), default="test",
                    help="expected trailer state (default test)")
    a = ap.parse_args()

    try:
        with open(a.flash, "rb") as f:
            flash = f.read()
        with open(a.image, "rb") as f:
            img = f.read()
    except OSError as e:
        print(f"check-slot.py: error: {e}", file=sys.stderr)
        return 2

    S = a.slot_size if a.slot_size is not None else len(flash)
    page = a.page_size
    if page <= 0 or S <= 0 or S % page:
        print(f"check-slot.py: error: slot size {S:#x} is not a positive multiple of "
              f"page size {page:#x}", file=sys.stderr)
        return 2
    if S < page * 2 or S < 64:
        print(f"check-slot.py: error: slot size {S:#x} too small", file=sys.stderr)
        return 2

    errors = []   # (offset, message)
    notes = []

    # --- image header report ---------------------------------------------
    info, probs = parse_image(img)
    print(f"image:   {a.image}: {len(img)} bytes", end="")
    if "version" in info:
        print(f", version {info['version']}, header {info['hdr_size']:#x}, "
              f"payload {info['img_size']} bytes", end="")
    print()
    if "tlvs" in info:
        names = ", ".join(f"{TLV_NAMES.get(t, hex(t))}({len(v)})" for t, v in info["tlvs"])
        print(f"tlvs:    {names}")
    if "hash_ok" in info:
        print(f"hash:    SHA256 TLV found, {'matches' if info['hash_ok'] else 'DOES NOT match'} "
              f"the image")
    if "reset" in info:
        print(f"vectors: initial SP {info['init_sp']:#010x}, reset handler {info['reset']:#010x}")
    for p in probs:
        notes.append(f"warning: {p}")

    # --- slot size ---------------------------------------------------------
    if len(flash) != S:
        for n in notes:
            print(n)
        print(f"FAIL: first bad offset {min(len(flash), S):#x}: slot file is {len(flash)} "
              f"({len(flash):#x}) bytes, expected slot size {S} ({S:#x})")
        return 1

    trailer_start = S - page
    print(f"slot:    {a.flash}: slot size {S:#x}, page {page:#x}, trailer page at {trailer_start:#x}")

    # --- image bytes ---------------------------------------------------------
    if len(img) > trailer_start:
        errors.append((trailer_start, f"image ({len(img)} bytes) reaches into the trailer page "
                                      f"at {trailer_start:#x}"))
        cmp_len = min(len(img), S)
    else:
        cmp_len = len(img)
    d = first_diff(flash[:cmp_len], img[:cmp_len])
    if d is not None:
        errors.append((d, f"image byte mismatch at {d:#x}: slot has {flash[d]:#04x}, "
                          f"image has {img[d]:#04x}"))

    # --- erased gap ----------------------------------------------------------
    if len(img) < trailer_start:
        d = first_not_erased(flash, len(img), trailer_start)
        if d is not None:
            errors.append((d, f"byte at {d:#x} after the image is {flash[d]:#04x}, "
                              f"expected erased 0xff"))

    # --- trailer page --------------------------------------------------------
    expected = bytearray(b"\xff" * page)
    if a.expect in ("test", "perm"):
        def put(slot_off, data):
            expected[slot_off - trailer_start:slot_off - trailer_start + len(data)] = data
        put(S - 16, BOOT_MAGIC)
        if a.expect == "perm":
            put(S - 24, b"\x01")
            put(S - 40, bytes([SWAP_TYPE_PERM]))
        else:
            put(S - 40, bytes([SWAP_TYPE_TEST]))
    tpage = flash[trailer_start:S]
    d = first_diff(tpage, bytes(expected))
    if d is not None:
        off = trailer_start + d
        fields = ((S - 16, S, "magic"), (S - 24, S - 16, "image_ok"),
                  (S - 32, S - 24, "copy_done"), (S - 40, S - 32, "swap_info"))
        fname = next((n for lo, hi, n in fields if lo <= off < hi), "trailer page")
        errors.append((off, f"trailer byte at {off:#x} ({fname}) is {flash[off]:#04x}, "
                            f"expected {expected[d]:#04x} for --expect {a.expect}"))

    # --- trailer state report -------------------------------------------------
    magic = flash[S - 16:S]
    if magic == BOOT_MAGIC:
        mstate = "good"
    elif magic == b"\xff" * 16:
        mstate = "erased"
    else:
        mstate = "BAD"
    fmt = lambda b: "erased" if b == 0xFF else f"{b:#04x}"  # noqa: E731
    print(f"trailer: magic {mstate}, image_ok {fmt(flash[S - 24])}, "
          f"copy_done {fmt(flash[S - 32])}, swap_info {fmt(flash[S - 40])} "
          f"(expected: {a.expect})")

    for n in notes:
        print(n)
    if errors:
        errors.sort(key=lambda e: e[0])
        off, msg = errors[0]
        print(f"FAIL: first bad offset {off:#x}: {msg}")
        for _, msg in errors[1:]:
            print(f"      also: {msg}")
        return 1
    print("OK: slot matches the image and the expected trailer")
    return 0


if __name__ == "__main__":
    sys.exit(main())
