#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Build a test MCUboot image for fota-rs.

    make-image.py --out FILE [--size BYTES] [--version X.Y.Z] [--slot-size S]
                  [--key key.pem] [--seed N] [--load-addr 0xc200]

The payload (exactly --size bytes, written to FILE.raw) starts with a
Cortex-M vector table:

    word 0      initial SP   0x20010000
    word 1      reset        load_addr + 0x200 (MCUboot header) + 0x101
                             (odd: Thumb bit set)
    words 2-15  NMI, HardFault, MemManage, BusFault, UsageFault, SecureFault,
                reserved x3 (0), SVCall, DebugMonitor, reserved (0), PendSV,
                SysTick: odd addresses just after the reset handler

followed by deterministic pseudo-random bytes: SHA-256(b"fota-rs-image" ||
seed as u64 LE || block counter as u64 LE) concatenated, so the same --seed
and --size always give the same payload (and other tools can reproduce it).

It then runs

    imgtool sign --header-size 0x200 --pad-header --align 4 \
        --slot-size S --version V [--key K] FILE.raw FILE
    imgtool verify [-k K] FILE

and exits non-zero if either fails. Numbers may be given in decimal or 0x hex.
"""

import argparse
import hashlib
import os
import shutil
import struct
import subprocess
import sys

HEADER_SIZE = 0x200
DEFAULT_SLOT = 0x70000
# 256 KiB total minus the header and 1.5 KiB for the TLV area.
DEFAULT_SIZE = 256 * 1024 - HEADER_SIZE - 0x600


def intarg(s):
    try:
        return int(s, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {s!r}")


def die(msg, code=1):
    print(f"make-image.py: error: {msg}", file=sys.stderr)
    sys.exit(code)


def vector_table(load_addr):
    sp = 0x20010000
    reset = (load_addr + HEADER_SIZE + 0x101) | 1
    # Plausible exception handlers following the reset handler, 0 = reserved.
    h = lambda k: (reset + 0x40 + 4 * k) | 1  # noqa: E731
    words = [
        sp,
        reset,
        h(0),   # NMI
        h(1),   # HardFault
        h(2),   # MemManage
        h(3),   # BusFault
        h(4),   # UsageFault
        h(5),   # SecureFault
        0, 0, 0,  # reserved
        h(6),   # SVCall
        h(7),   # DebugMonitor
        0,      # reserved
        h(8),   # PendSV
        h(9),   # SysTick
    ]
    assert len(words) == 16
    return struct.pack("<16I", *words), reset


def prng_bytes(seed, n):
    out = bytearray()
    ctr = 0
    prefix = b"fota-rs-image" + struct.pack("<Q", seed & 0xFFFFFFFFFFFFFFFF)
    while len(out) < n:
        out += hashlib.sha256(prefix + struct.pack("<Q", ctr)).digest()
        ctr += 1
    return bytes(out[:n])


def run(cmd):
    print("+ " + " ".join(cmd), file=sys.stderr)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.stdout:
        sys.stderr.write(r.stdout)
    return r.returncode, r.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="signed image to write")
    ap.add_argument("--size", type=intarg, default=DEFAULT_SIZE,
                    help=f"payload size in bytes (default {DEFAULT_SIZE})")
    ap.add_argument("--version", default="0.1.3", help="image version X.Y.Z[+B]")
    ap.add_argument("--slot-size", type=intarg, default=DEFAULT_SLOT,
                    help=f"slot size (default {DEFAULT_SLOT:#x})")
    ap.add_argument("--key", help="signing key (e.g. from 'imgtool keygen -t ecdsa-p256')")
    ap.add_argument("--seed", type=intarg, default=1, help="PRNG seed (default 1)")
    ap.add_argument("--load-addr", type=intarg, default=0xC200,
                    help="address the payload's vector table is computed for (default 0xc200)")
    ap.add_argument("--imgtool", default=os.environ.get("IMGTOOL", "imgtool"),
                    help="imgtool command (default: $IMGTOOL or 'imgtool')")
    a = ap.parse_args()

    if a.size < 64:
        die("--size must be at least 64 bytes (vector table)")
    if a.key and not os.path.isfile(a.key):
        die(f"key file not found: {a.key}")
    imgtool = shutil.which(a.imgtool)
    if imgtool is None:
        die(f"'{a.imgtool}' not found in PATH; install it with 'pip install imgtool' "
            "(or 'make deps')")

    vt, reset = vector_table(a.load_addr)
    payload = vt + prng_bytes(a.seed, a.size - len(vt))
    assert len(payload) == a.size

    out_dir = os.path.dirname(os.path.abspath(a.out))
    os.makedirs(out_dir, exist_ok=True)
    raw = a.out + ".raw"
    with open(raw, "wb") as f:
        f.write(payload)

    tmp_out = a.out + ".tmp"
    cmd = [imgtool, "sign", "--header-size", hex(HEADER_SIZE), "--pad-header",
           "--align", "4", "--slot-size", str(a.slot_size), "--version", a.version]
    if a.key:
        cmd += ["--key", a.key]
    cmd += [raw, tmp_out]
    rc, _ = run(cmd)
    if rc != 0:
        try:
            os.unlink(tmp_out)
        except FileNotFoundError:
            pass
        die(f"imgtool sign failed (exit {rc})")

    cmd = [imgtool, "verify"]
    if a.key:
        cmd += ["-k", a.key]
    cmd += [tmp_out]
    rc, text = run(cmd)
    if rc != 0 or "correctly validated" not in text:
        os.unlink(tmp_out)
        die(f"imgtool verify failed (exit {rc})")
    os.replace(tmp_out, a.out)

    size = os.path.getsize(a.out)
    print(f"{a.out} {size} bytes (payload {a.size} bytes, version {a.version}, "
          f"reset handler {reset:#x}, slot {a.slot_size:#x}"
          f"{', signed with ' + a.key if a.key else ', unsigned (hash only)'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
