#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""fota-rs on a simulated cellular link (`make bench`; not part of `make test`).

    bench.py [--rtt-ms 200] [--down-kbps 300] [--up-kbps 100]
             [--image-size 262144] [--frag-size 2048] [--rounds 3]
             [--out DIR] [--fota-sim PATH] [--sim-arg ARG]... [--no-calibrate]
             [--no-http] [--no-callgrind] [--section all|default|nrf91]
             [--nrf91-frags 1024,2048] [--frag-fit 2048] [--nrf91-contenders abcf]
             [--link-trace]

Everything runs on 127.0.0.1. tests/server/fota_server.py serves a real
imgtool-signed image (S3-like headers, TLS 1.2 like the nRF91 modem) behind
linksim (sim/src/bin/linksim.rs), which shapes both directions like LTE-M:
one-way delay RTT/2, down and up rate limits exact to the byte, one RTT for
the TCP handshake. Every contender goes through the same link, with the same
pre-signed S3-style URL, alternating within each round:

  https (a)  curl, one streamed GET: what the link itself allows
  https (b)  curl, sequential --frag-size ranges on one keep-alive
             connection: the request pattern of NCS's download_client
  https (c)  target/release/fota-sim with its defaults (sec_tag 42)
  http  (a)  curl, one streamed GET over plain HTTP
  http  (c)  fota-sim over plain HTTP

Times are wall-clock times of the client process (start to exit). Each run
is checked: curl's output against the image, fota-sim's exit status 0 and
its slot file with scripts/check-slot.py; the server log tells how many
connections and requests a run made. The report gives medians, the ratios
(b)/(a) and (c)/(a), and the bytes on the link per image byte.

Then the nRF91 + Memfault profile (--section nrf91 alone): the same link and
image, a 908-character pre-signed S3 URL (X-Amz-Credential,
X-Amz-Security-Token, X-Amz-Signature; sent again with every range, so a
request is about 960 bytes), 464-byte response heads (fota_server.py
--head-size), HTTPS. For each range size of --nrf91-frags: (b) the NCS
pattern with curl, (c) fota-sim --frag-size; once (a) curl streaming and
(f) fota-sim --frag-fit BYTES. Each run gets its physical limit from the
bytes it put on the link: max(bytes up / uplink rate, bytes down / downlink
rate) + 3 round trips (TCP and TLS 1.2 handshakes); fota-sim (c) is compared
with the limit of the pattern's bytes as (b) sent them, so bytes fota-sim
adds count against it.

--calibrate (on by default) first measures linksim itself against theory:
the image size down, 32 KiB up, and 1-byte round trips.

--callgrind (on by default; needs valgrind) runs fota-sim once over plain
HTTP straight to the server (no link) under callgrind, whose instruction
counts are deterministic, and splits instructions per image byte into SHA-256
hashing (inclusive cost of the sha2 functions) and everything else.

Exit status 0 when every run succeeded; 1 otherwise. Results are also
written to OUT/results.json.
"""

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
HOST = "memfault-test.s3.localhost"
# A pre-signed S3 URL's query, as Memfault hands it to fota_download_start:
# the request line is as long as on a device.
QUERY = ("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20221124%2F"
         "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20221124T141720Z&X-Amz-Expires=3600"
         "&X-Amz-SignedHeaders=host&X-Amz-Signature=4f2c6e1b9a0d7c3e5f8a1b2c3d4e5f60718293"
         "a4b5c6d7e8f9a0b1c2d3e4f5a6")
IMAGE = "app_update.bin"
HEADER_SIZE = 0x200


def memfault_query():
    """The query of a pre-signed S3 URL as Memfault's nRF91 SDK receives it
    with temporary credentials (X-Amz-Security-Token): the URL without a port
    is 908 characters long."""
    import base64
    import hashlib
    raw = b"".join(hashlib.sha256(bytes([i])).digest() for i in range(16))
    token = "IQoJb3JpZ2luX2VjE" + base64.b64encode(raw).decode()
    token = token.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    pre = ("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAEXAMPLE7QWERTYUI%2F20221124%2F"
           "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20221124T141720Z&X-Amz-Expires=3600"
           "&X-Amz-Security-Token=")
    post = ("&X-Amz-SignedHeaders=host&X-Amz-Signature="
            "4f2c6e1b9a0d7c3e5f8a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6")
    n = 908 - len(f"https://{HOST}/{IMAGE}?") - len(pre) - len(post)
    cut = token[:n]
    while "%" in cut[-2:]:  # never end inside a %XX escape
        cut = cut[:-1]
    return pre + cut + "A" * (n - len(cut)) + post


MEMFAULT_QUERY = memfault_query()
assert len(f"https://{HOST}/{IMAGE}?{MEMFAULT_QUERY}") == 908
# Response heads of the nRF91 + Memfault profile (S3 on a versioned bucket).
MEMFAULT_HEAD = 464


def log(msg):
    print(msg, flush=True)


def die(msg):
    print(f"bench: error: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


def run_checked(cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if r.returncode != 0:
        die(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}")
    return r.stdout


def wait_port_file(path, proc, what):
    for _ in range(200):
        if os.path.exists(path) and open(path).read().strip():
            return int(open(path).read())
        if proc.poll() is not None:
            die(f"{what} exited with {proc.returncode}")
        time.sleep(0.05)
    die(f"{what} did not start")


class Procs:
    """Background processes this script started; stopped by pid at exit."""

    def __init__(self):
        self.procs = []

    def start(self, cmd, out):
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


class Link:
    """One linksim process in front of one upstream port."""

    def __init__(self, procs, out, name, upstream_port, a):
        self.stats_path = os.path.join(out, f"linksim-{name}.json")
        port_file = os.path.join(out, f"linksim-{name}.port")
        for f in (self.stats_path, port_file):
            if os.path.exists(f):
                os.unlink(f)
        self.log = open(os.path.join(out, f"linksim-{name}.log"), "w")
        exe = os.path.join(ROOT, "target/release/linksim")
        self.proc = procs.start([exe, "--upstream", f"127.0.0.1:{upstream_port}",
                                 "--rtt-ms", str(a.rtt_ms), "--down-kbps", str(a.down_kbps),
                                 "--up-kbps", str(a.up_kbps), "--port-file", port_file,
                                 "--stats", self.stats_path, "--verbose"]
                                + (["--trace"] if a.link_trace else []), self.log)
        self.port = wait_port_file(port_file, self.proc, f"linksim ({name})")

    def stats(self):
        with open(self.stats_path) as f:
            return json.load(f)

    def settled(self, before, timeout=30.0):
        """Stats once every connection opened since `before` has ended (a
        client that failed before connecting gets a second's grace)."""
        t0 = time.monotonic()
        deadline = t0 + timeout
        while True:
            s = self.stats()
            if s["active"] == 0 and (s["connections"] > before["connections"]
                                     or time.monotonic() - t0 > 1.0):
                return s
            if time.monotonic() > deadline:
                die(f"link connections did not end: {s}")
            time.sleep(0.02)


class ServerLog:
    def __init__(self, path):
        self.path = path

    def mark(self):
        return os.path.getsize(self.path) if os.path.exists(self.path) else 0

    def since(self, mark):
        with open(self.path) as f:
            f.seek(mark)
            recs = [json.loads(line) for line in f if line.strip()]
        gets = [r for r in recs if r.get("method") == "GET"]
        return {"requests": len(gets), "connections": len({r["conn"] for r in recs}),
                "statuses": sorted({r["status"] for r in gets}),
                "events": [r["event"] for r in recs if r.get("event")]}


# -- calibration ---------------------------------------------------------------

def calibration_server(size):
    """Raw TCP peer for measuring the link: 'D' -> `size` bytes then close;
    'U' + 32767 bytes -> one byte; 'P' -> echo every byte."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    blob = bytes(size)

    def handle(c):
        with c:
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            cmd = c.recv(1)
            if cmd == b"D":
                c.sendall(blob)
            elif cmd == b"U":
                got = 1
                while got < 32768:
                    b = c.recv(65536)
                    if not b:
                        return
                    got += len(b)
                c.sendall(b"k")
            elif cmd == b"P":
                c.sendall(b"p")
                while True:
                    b = c.recv(1)
                    if not b:
                        return
                    c.sendall(b)

    def loop():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(c,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    return srv


def recv_exact(s, n):
    got = 0
    while got < n:
        b = s.recv(min(65536, n - got))
        if not b:
            break
        got += len(b)
    return got


def calibrate(procs, out, a, size):
    srv = calibration_server(size)
    link = Link(procs, out, "calibration", srv.getsockname()[1], a)
    rtt = a.rtt_ms / 1000.0
    down = a.down_kbps * 1000.0
    up = a.up_kbps * 1000.0
    res = {}

    def connect():
        s = socket.create_connection(("127.0.0.1", link.port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    before = link.stats()
    t0 = time.monotonic()
    s = connect()
    s.sendall(b"D")
    got = recv_exact(s, size)
    t = time.monotonic() - t0
    s.close()
    # Handshake RTT, the 1-byte request up and its delay, the data down and its delay.
    theory = 2 * rtt + 8 / up + size * 8 / down
    after = link.settled(before)
    res["down"] = {"bytes": got, "seconds": t, "theory": theory,
                   "link_down_bytes": after["down_bytes"] - before["down_bytes"]}

    before = after
    t0 = time.monotonic()
    s = connect()
    s.sendall(b"U" + bytes(32767))
    recv_exact(s, 1)
    t = time.monotonic() - t0
    s.close()
    theory = 2 * rtt + 32768 * 8 / up + 8 / down
    after = link.settled(before)
    res["up"] = {"bytes": 32768, "seconds": t, "theory": theory,
                 "link_up_bytes": after["up_bytes"] - before["up_bytes"]}

    s = connect()
    s.sendall(b"P")
    recv_exact(s, 1)
    rtts = []
    for _ in range(10):
        t0 = time.monotonic()
        s.sendall(b"x")
        recv_exact(s, 1)
        rtts.append(time.monotonic() - t0)
    s.close()
    res["rtt"] = {"median": statistics.median(rtts), "max": max(rtts),
                  "theory": rtt + 8 / up + 8 / down}
    srv.close()
    return res


# -- contenders ----------------------------------------------------------------

def curl_base(scheme, port, certs):
    cmd = ["curl", "--silent", "--show-error", "--fail", "--http1.1",
           "--resolve", f"{HOST}:{port}:127.0.0.1",
           # Only Host (and Range): the request NCS's download_client sends.
           "-H", "User-Agent:", "-H", "Accept:"]
    if scheme == "https":
        cmd += ["--cacert", os.path.join(certs, "ca-a.pem")]
    return cmd


def url_for(scheme, port, query=QUERY):
    return f"{scheme}://{HOST}:{port}/{IMAGE}?{query}"


def run_curl_stream(scheme, port, certs, image_bytes, work, query=QUERY):
    outf = os.path.join(work, "curl-stream.out")
    cmd = curl_base(scheme, port, certs) + ["-o", outf, url_for(scheme, port, query)]
    t0 = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    t = time.monotonic() - t0
    ok = r.returncode == 0 and open(outf, "rb").read() == image_bytes
    return t, ok, r.stdout.strip() or f"exit {r.returncode}"


def run_curl_ranges(scheme, port, certs, image_bytes, frag, work, query=QUERY):
    """All ranges in one curl invocation: curl keeps the connection open
    across the --next sections, like download_client's keep-alive socket."""
    cfg = os.path.join(work, "curl-ranges.cfg")
    # The options of curl_base() in config-file form; every --next section
    # starts afresh, so each repeats them (same TLS settings: same connection).
    per_url = ["silent", "show-error", "fail", "http1.1",
               f'resolve = "{HOST}:{port}:127.0.0.1"', 'header = "User-Agent:"',
               'header = "Accept:"']
    if scheme == "https":
        per_url.append(f'cacert = "{os.path.join(certs, "ca-a.pem")}"')
    with open(cfg, "w") as f:
        for first in range(0, len(image_bytes), frag):
            last = min(first + frag, len(image_bytes)) - 1
            if first:
                f.write("next\n")
            f.write(f'url = "{url_for(scheme, port, query)}"\n')
            f.write(f'range = "{first}-{last}"\n')
            for line in per_url:
                f.write(line + "\n")
    outf = os.path.join(work, "curl-ranges.out")
    t0 = time.monotonic()
    with open(outf, "wb") as o:
        r = subprocess.run(["curl", "--config", cfg], stdout=o, stderr=subprocess.PIPE)
    t = time.monotonic() - t0
    ok = r.returncode == 0 and open(outf, "rb").read() == image_bytes
    return t, ok, r.stderr.decode(errors="replace").strip() or f"exit {r.returncode}"


def run_fota_sim(sim, scheme, port, certs, image_path, work, extra, query=QUERY):
    slot = os.path.join(work, "slot.bin")
    for f in (slot, slot + ".state"):
        if os.path.exists(f):
            os.unlink(f)
    cmd = [sim, url_for(scheme, port, query),
           "--resolve", f"{HOST}:{port}:127.0.0.1", "--flash", slot, "--quiet"]
    if scheme == "https":
        cmd += ["--sec-tag", "42", "--cred-dir", os.path.join(certs, "creds")]
    cmd += extra
    t0 = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    t = time.monotonic() - t0
    if r.returncode != 0:
        return t, False, f"fota-sim exit {r.returncode}: {r.stdout.strip()}"
    chk = subprocess.run([sys.executable, os.path.join(ROOT, "scripts/check-slot.py"),
                          "--flash", slot, "--image", image_path, "--expect", "test"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if chk.returncode != 0:
        return t, False, f"slot check failed: {chk.stdout.strip()}"
    return t, True, r.stdout.strip()


# -- callgrind -------------------------------------------------------------------

def callgrind(sim, out, http_port, image_path, image_len):
    if shutil.which("valgrind") is None or shutil.which("callgrind_annotate") is None:
        return {"error": "valgrind not installed (apt-get install valgrind)"}
    work = os.path.join(out, "callgrind")
    os.makedirs(work, exist_ok=True)
    cg_out = os.path.join(work, "callgrind.out")
    slot = os.path.join(work, "slot.bin")
    for f in (cg_out, slot, slot + ".state"):
        if os.path.exists(f):
            os.unlink(f)
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={cg_out}",
           sim, f"http://127.0.0.1:{http_port}/{IMAGE}?{QUERY}", "--flash", slot, "--quiet"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        return {"error": f"fota-sim under valgrind exited {r.returncode}: {r.stdout[-2000:]}"}
    chk = subprocess.run([sys.executable, os.path.join(ROOT, "scripts/check-slot.py"),
                          "--flash", slot, "--image", image_path, "--expect", "test"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if chk.returncode != 0:
        return {"error": f"slot check failed: {chk.stdout}"}
    ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", cg_out],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
    self_ann = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", cg_out],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
    with open(os.path.join(work, "annotate-inclusive.txt"), "w") as f:
        f.write(ann)
    with open(os.path.join(work, "annotate-self.txt"), "w") as f:
        f.write(self_ann)

    def rows(text):
        out = []
        for line in text.splitlines():
            m = re.match(r"\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(\S.*)$", line)
            if m and ":" in m.group(2):
                out.append((int(m.group(1).replace(",", "")), m.group(2)))
        return out

    m = re.search(r"^\s*([\d,]+)\s+\(100\.0%\)\s+PROGRAM TOTALS", ann, re.M) or \
        re.search(r"^\s*([\d,]+)\s+PROGRAM TOTALS", ann, re.M)
    if not m:
        return {"error": "no PROGRAM TOTALS in callgrind_annotate output"}
    total = int(m.group(1).replace(",", ""))
    incl = rows(ann)
    sha_rows = [(n, fn) for n, fn in incl if "sha2::" in fn]
    # Inclusive costs of nested sha2 functions overlap: the outermost one
    # (the largest inclusive cost) holds all of them when one entry point
    # exists; the self costs, which never overlap, give the same sum.
    sha_incl = max((n for n, _ in sha_rows), default=0)
    sha_self = sum(n for n, fn in rows(self_ann) if "sha2::" in fn)
    worker = [(n, fn) for n, fn in incl if "worker_entry" in fn]
    return {
        "image_bytes": image_len,
        "total_instructions": total,
        "sha2_inclusive_instructions": sha_incl,
        "sha2_self_instructions": sha_self,
        "sha2_functions": [fn.split(" [")[0] for _, fn in sha_rows][:8],
        "worker_instructions": worker[0][0] if worker else None,
        "per_image_byte": {
            "total": total / image_len,
            "hashing": sha_incl / image_len,
            "rest": (total - sha_incl) / image_len,
            "worker": worker[0][0] / image_len if worker else None,
        },
    }


# -- the nRF91 + Memfault profile ----------------------------------------------------

def physical_limit(rec, a):
    """The least time a run's bytes need on this link: each direction
    carries its bytes at its rate, the two overlap, and the TCP and TLS 1.2
    handshakes take 3 round trips before the first request may leave."""
    up = rec["up_bytes"] * 8 / (a.up_kbps * 1000.0)
    down = rec["down_bytes"] * 8 / (a.down_kbps * 1000.0)
    return max(up, down) + 3 * a.rtt_ms / 1000.0


def nrf91_profile(procs, out, a, certs, image_path, image_bytes, sim, failed):
    """Real nRF91 + Memfault downloads: a 908-character pre-signed URL (sent
    again with every range), 464-byte S3 response heads, HTTPS, 1 KiB ranges
    (Memfault's nRF91 limit) and 2 KiB ranges; fota-sim with --frag-fit too."""
    n = len(image_bytes)
    work = os.path.join(out, "work-nrf91")
    os.makedirs(work, exist_ok=True)
    port_file = os.path.join(out, "server-nrf91.port")
    slog = os.path.join(out, "server-nrf91.log")
    for f in (port_file, slog):
        if os.path.exists(f):
            os.unlink(f)
    cmd = [sys.executable, os.path.join(ROOT, "tests/server/fota_server.py"),
           "--root", os.path.dirname(image_path), "--port-file", port_file, "--log", slog,
           "--cert", os.path.join(certs, "server.pem"), "--key", os.path.join(certs, "server.key"),
           "--tls12", "--head-size", str(MEMFAULT_HEAD)]
    p = procs.start(cmd, open(os.path.join(out, "server-nrf91.out"), "w"))
    port = wait_port_file(port_file, p, "fota_server (nrf91)")
    server_log = ServerLog(slog)
    link = Link(procs, out, "nrf91", port, a)
    q = MEMFAULT_QUERY
    contenders = [("a", 0, "curl, one streamed GET")]
    for frag in a.nrf91_frags:
        contenders += [("b", frag, f"curl, {frag}-byte ranges one per round trip (NCS)"),
                       ("c", frag, f"fota-sim --frag-size {frag}")]
    if a.frag_fit:
        contenders.append(("f", a.frag_fit, f"fota-sim --frag-fit {a.frag_fit}"))
    contenders = [c for c in contenders if c[0] in a.nrf91_contenders]
    log(f"nrf91 profile: URL {len(url_for('https', '', q)) - 1} characters without the port,"
        f" response heads {MEMFAULT_HEAD} bytes, HTTPS (TLS 1.2); ranges of"
        f" {', '.join(str(f) for f in a.nrf91_frags)} bytes; {a.rounds} rounds")
    runs = {f"{k} {f}": [] for k, f, _ in contenders}
    for rnd in range(1, a.rounds + 1):
        for kind, frag, what in contenders:
            lport = link.port
            mark = server_log.mark()
            before = link.stats()
            if kind == "a":
                t, ok, msg = run_curl_stream("https", lport, certs, image_bytes, work, q)
            elif kind == "b":
                t, ok, msg = run_curl_ranges("https", lport, certs, image_bytes, frag, work, q)
            else:
                extra = ["--frag-size", str(frag)] if kind == "c" else ["--frag-fit", str(frag)]
                t, ok, msg = run_fota_sim(sim, "https", lport, certs, image_path, work,
                                          extra + a.nrf91_sim_extra, q)
            after = link.settled(before)
            seen = server_log.since(mark)
            rec = {"round": rnd, "seconds": t, "ok": ok,
                   "down_bytes": after["down_bytes"] - before["down_bytes"],
                   "up_bytes": after["up_bytes"] - before["up_bytes"],
                   "link_connections": after["connections"] - before["connections"], **seen}
            rec["limit_s"] = physical_limit(rec, a)
            if not ok:
                rec["error"] = msg
                failed.append(f"nrf91 {kind} {frag} round {rnd}: {msg}")
            runs[f"{kind} {frag}"].append(rec)
            log(f"round {rnd} nrf91 {what}: {t:.2f} s, {'ok' if ok else 'FAILED'},"
                f" {seen['requests']} requests on {seen['connections']} connection(s),"
                f" link {rec['down_bytes']} B down / {rec['up_bytes']} B up,"
                f" limit {rec['limit_s']:.2f} s" + ("" if ok else f": {msg}"))

    def med(key):
        ts = [r["seconds"] for r in runs.get(key, []) if r["ok"]]
        return statistics.median(ts) if ts else None

    def last(key):
        rs = [r for r in runs.get(key, []) if r["ok"]]
        return rs[-1] if rs else None

    summary = {}
    stream = med("a 0")
    log("")
    log(f"== nrf91 + Memfault profile: medians of {a.rounds} rounds (seconds; x = over curl"
        f" streaming{f', {stream:.2f} s' if stream else ''})")
    log("  limit = max(bytes up / uplink rate, bytes down / downlink rate) + 3 round trips;"
        " for fota-sim (c) from the bytes the NCS pattern (b) of the same range size sent,"
        " for --frag-fit (f) from its own bytes; 'own' = from fota-sim's own bytes")

    def x(v):
        return f"{v:7.2f} s" + (f" ({v / stream:5.2f}x)" if stream else "")

    for kind, frag, what in contenders:
        key = f"{kind} {frag}"
        m = med(key)
        rec = last(key)
        if m is None or rec is None:
            log(f"  {what:<52} FAILED")
            continue
        s = {"median_s": m, "requests": rec["requests"], "connections": rec["connections"],
             "up_bytes": rec["up_bytes"], "down_bytes": rec["down_bytes"],
             "limit_s": rec["limit_s"], "rounds_s": [r["seconds"] for r in runs[key]]}
        if stream:
            s["x_stream"] = m / stream
            s["limit_x_stream"] = rec["limit_s"] / stream
        line = (f"  {what:<52} {x(m)}  [{fmt_times(s['rounds_s'])}]  {rec['requests']} req,"
                f" {rec['up_bytes']} B up / {rec['down_bytes']} B down")
        if kind in ("c", "f"):
            pattern = last(f"b {frag}") if kind == "c" else None
            limit = pattern["limit_s"] if pattern else rec["limit_s"]
            s["pattern_limit_s"] = limit
            s["x_limit"] = m / limit
            s["x_own_limit"] = m / rec["limit_s"]
            line += (f"; limit {x(limit)}{'' if pattern else ' (own bytes)'}, fota-sim x limit"
                     f" {s['x_limit']:.3f} (x own {s['x_own_limit']:.3f})")
        summary[key] = s
        log(line)
    return {"runs": runs, "summary": summary, "url_chars": len(url_for("https", "", q)) - 1,
            "head_bytes": MEMFAULT_HEAD}


# -- main ----------------------------------------------------------------------------

def make_image(out, size):
    """A signed image of `size` bytes in total (within the few bytes an
    ECDSA signature's DER length varies)."""
    www = os.path.join(out, "www")
    os.makedirs(www, exist_ok=True)
    key = os.path.join(out, "key.pem")
    if not os.path.exists(key):
        run_checked(["imgtool", "keygen", "-t", "ecdsa-p256", "-k", key])
    path = os.path.join(www, IMAGE)
    payload = size - HEADER_SIZE - 160
    # An ECDSA signature's DER length varies by a byte or two from one
    # signing to the next: retry for the exact size. Once the payload is
    # within those bytes, about one signing in four hits it; 8 tries missed
    # it often enough (262145 or 262146 bytes: one more, tiny range for
    # every contender, and figures that do not compare across sessions).
    for _ in range(64):
        run_checked([sys.executable, os.path.join(ROOT, "scripts/make-image.py"), "--out", path,
                     "--size", str(payload), "--version", "1.2.3", "--key", key])
        delta = size - os.path.getsize(path)
        if delta == 0:
            break
        if abs(delta) > 2:
            payload += delta
    if os.path.getsize(path) != size:
        log(f"bench: warning: image is {os.path.getsize(path)} bytes, not {size}")
    return path


def fmt_times(ts):
    return " ".join(f"{t:.2f}" for t in ts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rtt-ms", type=float, default=200, help="round-trip time (default 200)")
    ap.add_argument("--down-kbps", type=float, default=300, help="downlink kbit/s (default 300)")
    ap.add_argument("--up-kbps", type=float, default=100, help="uplink kbit/s (default 100)")
    ap.add_argument("--image-size", type=int, default=256 * 1024,
                    help="signed image size in bytes (default 262144)")
    ap.add_argument("--frag-size", type=int, default=2048,
                    help="range size of the NCS pattern (b) (default 2048)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    ap.add_argument("--out", default=os.path.join(ROOT, "target/bench"), help="work directory")
    ap.add_argument("--fota-sim", default=os.path.join(ROOT, "target/release/fota-sim"),
                    help="fota-sim binary (default target/release/fota-sim), e.g. another build")
    ap.add_argument("--sim-arg", action="append", default=[],
                    help="extra argument for fota-sim (repeat), e.g. --sim-arg=--frag-size=4096")
    ap.add_argument("--no-calibrate", action="store_true", help="skip the link calibration")
    ap.add_argument("--no-http", action="store_true", help="skip the plain-HTTP contenders")
    ap.add_argument("--no-callgrind", action="store_true", help="skip the callgrind run")
    ap.add_argument("--section", choices=("all", "default", "nrf91"), default="all",
                    help="all (default): the default comparison, then the nRF91 + Memfault"
                    " profile; or only one of them")
    ap.add_argument("--nrf91-frags", default="1024,2048",
                    help="range sizes of the nRF91 profile (default 1024,2048)")
    ap.add_argument("--frag-fit", type=int, default=2048,
                    help="buffer of the nRF91 profile's fota-sim --frag-fit run (default 2048;"
                    " 0: no such run)")
    ap.add_argument("--nrf91-contenders", default="abcf",
                    help="which runs of the nRF91 profile: a (curl streaming), b (NCS pattern),"
                    " c (fota-sim), f (fota-sim --frag-fit); default abcf")
    ap.add_argument("--link-trace", action="store_true",
                    help="linksim writes every segment (direction, bytes, times) to OUT/linksim-*.log")
    a = ap.parse_args()
    a.nrf91_frags = [int(f) for f in a.nrf91_frags.split(",") if f]
    if a.rounds < 1 or a.frag_size < 1 or a.image_size < 4096:
        die("--rounds and --frag-size must be >= 1, --image-size >= 4096")
    sim_extra = []
    for s in a.sim_arg:
        sim_extra += s.split("=", 1) if s.startswith("--") and "=" in s else [s]
    a.nrf91_sim_extra = sim_extra

    sim = os.path.abspath(a.fota_sim)
    for exe in (sim, os.path.join(ROOT, "target/release/linksim")):
        if not os.access(exe, os.X_OK):
            die(f"{exe} missing: cargo build --release -p fota-sim")
    for tool in ("curl", "imgtool", "openssl"):
        if shutil.which(tool) is None:
            die(f"{tool} not found (scripts/setup.sh installs it)")

    out = os.path.abspath(a.out)
    work = os.path.join(out, "work")
    os.makedirs(work, exist_ok=True)
    certs = os.path.join(out, "certs")
    run_checked([os.path.join(ROOT, "scripts/make-certs.sh"), certs])
    image_path = make_image(out, a.image_size)
    image_bytes = open(image_path, "rb").read()
    n = len(image_bytes)

    log(f"bench: link rtt {a.rtt_ms:g} ms, down {a.down_kbps:g} kbit/s, up {a.up_kbps:g} kbit/s;"
        f" image {n} bytes (imgtool-signed); ranges of {a.frag_size} bytes; {a.rounds} rounds")
    procs = Procs()
    results = {"params": {"rtt_ms": a.rtt_ms, "down_kbps": a.down_kbps, "up_kbps": a.up_kbps,
                          "image_bytes": n, "frag_size": a.frag_size, "rounds": a.rounds,
                          "fota_sim": sim, "sim_args": sim_extra}}
    failed = []
    if a.section != "nrf91":
        try:
            if not a.no_calibrate:
                c = calibrate(procs, out, a, n)
                results["calibration"] = c
                d, u, r = c["down"], c["up"], c["rtt"]
                log(f"link accuracy: {d['bytes']} B down in {d['seconds']:.3f} s (theory"
                    f" {d['theory']:.3f} s, {100 * (d['seconds'] / d['theory'] - 1):+.2f}%, link counted"
                    f" {d['link_down_bytes']} B); {u['bytes']} B up in {u['seconds']:.3f} s (theory"
                    f" {u['theory']:.3f} s, {100 * (u['seconds'] / u['theory'] - 1):+.2f}%, counted"
                    f" {u['link_up_bytes']} B); 1-byte round trip median {1000 * r['median']:.1f} ms,"
                    f" max {1000 * r['max']:.1f} ms (theory {1000 * r['theory']:.1f} ms)")

            servers = {}
            schemes = ["https"] + ([] if a.no_http else ["http"])
            for scheme in schemes:
                port_file = os.path.join(out, f"server-{scheme}.port")
                slog = os.path.join(out, f"server-{scheme}.log")
                for f in (port_file, slog):
                    if os.path.exists(f):
                        os.unlink(f)
                cmd = [sys.executable, os.path.join(ROOT, "tests/server/fota_server.py"),
                       "--root", os.path.dirname(image_path), "--port-file", port_file, "--log", slog]
                if scheme == "https":
                    cmd += ["--cert", os.path.join(certs, "server.pem"),
                            "--key", os.path.join(certs, "server.key"), "--tls12"]
                p = procs.start(cmd, open(os.path.join(out, f"server-{scheme}.out"), "w"))
                port = wait_port_file(port_file, p, f"fota_server ({scheme})")
                servers[scheme] = {"port": port, "log": ServerLog(slog),
                                   "link": Link(procs, out, scheme, port, a)}

            contenders = [
                ("https", "a", "curl, one streamed GET"),
                ("https", "b", f"curl, {a.frag_size}-byte ranges, one keep-alive connection"),
                ("https", "c", "fota-sim (defaults, sec_tag 42)"),
            ]
            if not a.no_http:
                contenders += [("http", "a", "curl, one streamed GET"),
                               ("http", "c", "fota-sim (defaults)")]
            runs = {f"{s} ({k})": [] for s, k, _ in contenders}
            for rnd in range(1, a.rounds + 1):
                for scheme, kind, what in contenders:
                    srv = servers[scheme]
                    lport = srv["link"].port
                    mark = srv["log"].mark()
                    before = srv["link"].stats()
                    if kind == "a":
                        t, ok, msg = run_curl_stream(scheme, lport, certs, image_bytes, work)
                    elif kind == "b":
                        t, ok, msg = run_curl_ranges(scheme, lport, certs, image_bytes,
                                                     a.frag_size, work)
                    else:
                        t, ok, msg = run_fota_sim(sim, scheme, lport, certs, image_path, work, sim_extra)
                    after = srv["link"].settled(before)
                    seen = srv["log"].since(mark)
                    rec = {"round": rnd, "seconds": t, "ok": ok,
                           "down_bytes": after["down_bytes"] - before["down_bytes"],
                           "up_bytes": after["up_bytes"] - before["up_bytes"],
                           "link_connections": after["connections"] - before["connections"],
                           **seen}
                    if not ok:
                        rec["error"] = msg
                        failed.append(f"{scheme} ({kind}) round {rnd}: {msg}")
                    runs[f"{scheme} ({kind})"].append(rec)
                    log(f"round {rnd} {scheme} ({kind}) {what}: {t:.2f} s, {'ok' if ok else 'FAILED'},"
                        f" {seen['requests']} requests on {seen['connections']} connection(s),"
                        f" link {rec['down_bytes']} B down / {rec['up_bytes']} B up"
                        + ("" if ok else f": {msg}"))
            results["runs"] = runs

            if not a.no_callgrind:
                if a.no_http:
                    results["callgrind"] = {"error": "needs the plain-HTTP server (--no-http given)"}
                else:
                    log("callgrind: fota-sim over plain HTTP, loopback, no link (takes a while)")
                    results["callgrind"] = callgrind(sim, out, servers["http"]["port"], image_path, n)
        finally:
            procs.stop()

        # -- report --------------------------------------------------------------
        def med(key):
            ts = [r["seconds"] for r in runs.get(key, []) if r["ok"]]
            return statistics.median(ts) if ts else None

        summary = {}
        log("")
        log(f"== results: median of {a.rounds} rounds (seconds, client process wall time)")
        for scheme, kind, what in contenders:
            key = f"{scheme} ({kind})"
            rs = runs[key]
            m = med(key)
            last = rs[-1]
            wire = (last["down_bytes"] + last["up_bytes"]) / n
            summary[key] = {"median_s": m, "wire_per_image_byte": wire,
                            "down_per_image_byte": last["down_bytes"] / n,
                            "up_per_image_byte": last["up_bytes"] / n,
                            "requests": last["requests"], "connections": last["connections"]}
            log(f"  {key:<11} {what:<52} {m if m is None else f'{m:7.2f}'}  [{fmt_times(r['seconds'] for r in rs)}]"
                f"  {last['requests']} req / {last['connections']} conn, {wire:.3f} link B per image B")
        ratios = {}
        for scheme in schemes:
            ma = med(f"{scheme} (a)")
            for k in ("b", "c"):
                mk = med(f"{scheme} ({k})")
                if ma and mk is not None and f"{scheme} ({k})" in runs:
                    ratios[f"{scheme} ({k})/(a)"] = mk / ma
        log("  ratios: " + ", ".join(f"{k} = {v:.2f}" for k, v in ratios.items()))
        for scheme in schemes:
            s = summary.get(f"{scheme} (c)")
            sa = summary.get(f"{scheme} (a)")
            if s:
                log(f"  {scheme} (c) fota-sim: {s['wire_per_image_byte']:.4f} link bytes per image byte"
                    f" ({s['down_per_image_byte']:.4f} down, {s['up_per_image_byte']:.4f} up),"
                    f" {s['requests']} requests on {s['connections']} connection(s)")
            if s and s["median_s"] and sa and sa["median_s"] and sa["down_per_image_byte"]:
                # However well requests overlap, (c) cannot beat the downlink
                # carrying its bytes: (a)'s time scaled by the down bytes.
                floor = sa["median_s"] * s["down_per_image_byte"] / sa["down_per_image_byte"]
                s["downlink_floor_s"] = floor
                log(f"  {scheme} (c) downlink-bound floor: {floor:.2f} s ((c)/(a) >= "
                    f"{floor / sa['median_s']:.2f}): (a)'s time scaled by (c)'s down bytes")
        cg = results.get("callgrind")
        if cg:
            if "error" in cg:
                log(f"  callgrind: {cg['error']}")
                failed.append(f"callgrind: {cg['error']}")
            else:
                p = cg["per_image_byte"]
                log(f"  callgrind (http, loopback): {p['total']:.1f} instructions per image byte in"
                    f" total = {p['hashing']:.1f} SHA-256 (sha2, inclusive) + {p['rest']:.1f} rest;"
                    + (f" download thread {p['worker']:.1f}" if p["worker"] is not None else ""))
        results["summary"] = summary
        results["ratios"] = ratios
    if a.section != "default":
        procs = Procs()
        try:
            results["nrf91"] = nrf91_profile(procs, out, a, certs, image_path, image_bytes,
                                             sim, failed)
        finally:
            procs.stop()
    results["failed"] = failed
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    if failed:
        log("bench: FAILED: " + "; ".join(failed))
        return 1
    log(f"bench: all runs ok; details in {os.path.join(out, 'results.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
