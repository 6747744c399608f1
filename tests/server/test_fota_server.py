#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Self-test of tests/server/fota_server.py (stdlib only, no pytest).

    python3 tests/server/test_fota_server.py [-v] [-k SUBSTRING]

Starts the server in subprocesses on 127.0.0.1 (plain HTTP, HTTPS with the
certificates from scripts/make-certs.sh, and HTTPS with the wrong-name
certificate limited to TLS 1.2), checks every behaviour with http.client and
raw sockets (including pipelined requests), stops the servers with SIGTERM
and prints "N passed, M failed". Exit status 0 only when nothing failed; an
exception of the server's own (its --error-log) or an exit status other than
0 on SIGTERM is a failure. No check depends on how long something took: the
server's log says what it did.

Certificates are generated into a temporary directory, or taken from
$FOTA_CERT_DIR when it is set (make-certs.sh is run there; it is idempotent).
"""

import hashlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
SERVER = os.path.join(HERE, "fota_server.py")
MAKE_CERTS = os.path.join(REPO, "scripts", "make-certs.sh")

VERBOSE = "-v" in sys.argv
FILTER = sys.argv[sys.argv.index("-k") + 1] if "-k" in sys.argv else None

FILE_SIZE = 300_000
REDIRECT_CODES = (301, 302, 303, 307, 308)


class Failure(Exception):
    pass


def check(cond, msg="check failed"):
    if not cond:
        raise Failure(msg)


def eq(a, b, what="value"):
    if a != b:
        ra, rb = repr(a), repr(b)
        raise Failure(f"{what}: got {ra[:200]}, expected {rb[:200]}")


# ---------------------------------------------------------------------------
# Server process
# ---------------------------------------------------------------------------

class ServerProc:
    def __init__(self, root, workdir, name, cert=None, key=None, extra=()):
        self.name = name
        self.port_file = os.path.join(workdir, f"{name}.port")
        self.log_file = os.path.join(workdir, f"{name}.log.jsonl")
        self.out_file = os.path.join(workdir, f"{name}.stdout")
        self.err_file = os.path.join(workdir, f"{name}.stderr")
        self.errors_file = os.path.join(workdir, f"{name}.errors")
        cmd = [sys.executable, SERVER, "--root", root, "--host", "127.0.0.1", "--port", "0",
               "--port-file", self.port_file, "--log", self.log_file,
               "--error-log", self.errors_file]
        if cert:
            cmd += ["--cert", cert, "--key", key]
        cmd += list(extra)
        self.tls = cert is not None
        self.out = open(self.out_file, "w")
        self.err = open(self.err_file, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.out, stderr=self.err)
        deadline = time.monotonic() + 15
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None:
                raise RuntimeError(f"server {name} exited with {self.proc.returncode}: "
                                   + open(self.err_file).read())
            if time.monotonic() > deadline:
                raise RuntimeError(f"server {name} did not write its port file")
            time.sleep(0.02)
        self.port = int(open(self.port_file).read().strip())
        # Wait for the stdout line too.
        while "listening on" not in open(self.out_file).read():
            if time.monotonic() > deadline:
                raise RuntimeError(f"server {name} did not print its listening line")
            time.sleep(0.02)

    def log_records(self, until=None):
        # Server threads may still be writing their lines when a client has
        # its bytes (more so on a loaded machine): read until the log
        # settles, or until `until(records)` holds (at most 5 s).
        def read():
            with open(self.log_file) as f:
                return [json.loads(line) for line in f if line.strip()]
        last, deadline = read(), time.monotonic() + 5
        while time.monotonic() < deadline:
            time.sleep(0.1)
            now = read()
            if (until(now) if until else now == last):
                return now
            last = now
        return last

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        self.out.close()
        self.err.close()
        return self.proc.returncode


# ---------------------------------------------------------------------------
# Raw HTTP client (reads responses strictly in order, handles chunked)
# ---------------------------------------------------------------------------

class Resp:
    def __init__(self, status, headers, head):
        self.status = status
        self.headers = headers  # list of (lower name, value)
        self.head = head
        self.body = b""
        self.chunks = []       # (size, extension) for chunked bodies
        self.trailers = []

    def h(self, name):
        vals = [v for k, v in self.headers if k == name.lower()]
        return vals[0] if vals else None


class Raw:
    """Raw HTTP client. For TLS it runs an ssl.SSLObject over MemoryBIOs on a
    plain socket, so a TCP reset shows up as ConnectionResetError and a close
    without close_notify as ssl.SSLEOFError."""

    def __init__(self, port, ctx=None, sni="localhost", timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = bytearray()
        self.tls = None
        if ctx is not None:
            self.inc = ssl.MemoryBIO()
            self.outg = ssl.MemoryBIO()
            self.tls = ctx.wrap_bio(self.inc, self.outg, server_hostname=sni)
            try:
                while True:
                    try:
                        self.tls.do_handshake()
                        break
                    except ssl.SSLWantReadError:
                        self._pump_out()
                        self._pump_in()
                self._pump_out()
            except Exception:
                self.sock.close()
                raise

    def version(self):
        return self.tls.version() if self.tls else None

    def _pump_out(self):
        d = self.outg.read()
        if d:
            self.sock.sendall(d)

    def _pump_in(self):
        d = self.sock.recv(65536)
        if d:
            self.inc.write(d)
        else:
            self.inc.write_eof()

    def recv(self):
        """Next bytes from the server; b"" on an orderly close."""
        if self.tls is None:
            return self.sock.recv(65536)
        while True:
            try:
                return self.tls.read(65536)
            except ssl.SSLWantReadError:
                self._pump_out()
                self._pump_in()
            except ssl.SSLZeroReturnError:
                return b""

    def send(self, b):
        if self.tls is None:
            self.sock.sendall(b)
        else:
            self.tls.write(b)
            self._pump_out()

    def _more(self):
        d = self.recv()
        if not d:
            raise EOFError("connection closed by server")
        self.buf += d

    def read_line(self):
        while b"\r\n" not in self.buf:
            self._more()
        i = self.buf.index(b"\r\n")
        line = bytes(self.buf[:i])
        del self.buf[:i + 2]
        return line

    def read_exact(self, n):
        while len(self.buf) < n:
            self._more()
        d = bytes(self.buf[:n])
        del self.buf[:n]
        return d

    def read_head(self):
        while b"\r\n\r\n" not in self.buf:
            self._more()
        i = self.buf.index(b"\r\n\r\n")
        head = bytes(self.buf[:i + 4])
        del self.buf[:i + 4]
        lines = head.decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.1 (\d{3}) ", lines[0])
        if not m:
            raise Failure(f"bad status line {lines[0]!r}")
        hdrs = []
        for ln in lines[1:]:
            if ln:
                k, v = ln.split(":", 1)
                hdrs.append((k.strip().lower(), v.strip()))
        return Resp(int(m.group(1)), hdrs, head)

    def read_response(self, method="GET"):
        r = self.read_head()
        if method == "HEAD" or r.status in (204, 304) or r.status < 200:
            return r
        te = r.h("transfer-encoding")
        if te and "chunked" in te.lower():
            body = bytearray()
            while True:
                line = self.read_line().decode("latin-1")
                size_s, _, ext = line.partition(";")
                size = int(size_s.strip(), 16)
                r.chunks.append((size, ext))
                if size == 0:
                    break
                body += self.read_exact(size)
                eq(self.read_exact(2), b"\r\n", "chunk terminator")
            while True:
                t = self.read_line()
                if not t:
                    break
                r.trailers.append(t.decode("latin-1"))
            r.body = bytes(body)
        else:
            cl = r.h("content-length")
            check(cl is not None, "response without Content-Length or chunked")
            r.body = self.read_exact(int(cl))
        return r

    def expect_eof(self):
        """True when the server closed the connection in order (TCP FIN, and
        for TLS a close_notify) with no extra data."""
        try:
            d = self.recv()
        except (OSError, ssl.SSLError):
            return False
        return d == b"" and not self.buf

    def read_until_reset(self):
        """Read until the connection dies; return (data, kind) with kind
        "reset" (TCP RST), "eof" (orderly close), "ssl-eof" (TCP FIN without
        close_notify) or "timeout"."""
        try:
            while True:
                d = self.recv()
                if not d:
                    return bytes(self.buf), "eof"
                self.buf += d
        except ConnectionResetError:
            return bytes(self.buf), "reset"
        except ssl.SSLEOFError:
            return bytes(self.buf), "ssl-eof"
        except socket.timeout:
            return bytes(self.buf), "timeout"

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def get_req(path, host="localhost", extra=""):
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n".encode()


def range_req(path, a, b=None, host="localhost", method="GET", extra=""):
    r = f"bytes={a}-{'' if b is None else b}"
    return (f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nRange: {r}\r\n"
            f"Connection: keep-alive\r\n{extra}\r\n").encode()


# ---------------------------------------------------------------------------
# Test registry
# ---------------------------------------------------------------------------

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


class Ctx:
    pass


C = Ctx()


def plain():
    return C.plain


def hc(srv=None, sni="localhost", ctx=None):
    srv = srv or C.plain
    if srv.tls:
        return http.client.HTTPSConnection("127.0.0.1", srv.port, timeout=10,
                                           context=ctx or C.ctx_a)
    return http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)


def fetch(path, headers=None, method="GET", srv=None):
    c = hc(srv)
    c.request(method, path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r, body


def check_s3_headers(r):
    get = r.getheader if hasattr(r, "getheader") else r.h
    amz = get("x-amz-id-2")
    check(amz is not None and re.fullmatch(r"[A-Za-z0-9+/]{76}", amz) is not None,
          f"x-amz-id-2 not 76 base64 chars: {amz!r}")
    rid = get("x-amz-request-id")
    check(rid is not None and re.fullmatch(r"[0-9A-Fa-f]{16}", rid) is not None,
          f"x-amz-request-id not 16 hex: {rid!r}")
    for h in ("Date", "Last-Modified"):
        v = get(h)
        check(v is not None and v.endswith(" GMT"), f"{h} missing/bad: {v!r}")
    check(re.fullmatch(r'"[0-9a-f]{32}"', get("ETag") or "") is not None, "ETag not quoted md5")
    eq(get("Accept-Ranges"), "bytes", "Accept-Ranges")
    eq(get("Content-Type"), "application/octet-stream", "Content-Type")
    eq(get("Server"), "AmazonS3", "Server")


# ---------------------------------------------------------------------------
# Plain HTTP tests
# ---------------------------------------------------------------------------

@test
def startup_port_file_and_banner():
    out = open(C.plain.out_file).read()
    check(f"listening on http://127.0.0.1:{C.plain.port}" in out, f"banner: {out!r}")
    out = open(C.tls.out_file).read()
    check(f"listening on https://127.0.0.1:{C.tls.port}" in out, f"banner: {out!r}")
    check(not [f for f in os.listdir(C.work) if f.endswith(".tmp")], "temp port file left")


@test
def get_full_file_with_s3_headers():
    r, body = fetch("/app.bin")
    eq(r.status, 200, "status")
    eq(r.version, 11, "HTTP version")
    eq(int(r.getheader("Content-Length")), FILE_SIZE, "Content-Length")
    eq(body, C.data, "body")
    check_s3_headers(r)
    eq(r.getheader("ETag"), f'"{hashlib.md5(C.data).hexdigest()}"', "ETag")
    check(r.getheader("Content-Range") is None, "Content-Range on 200")


@test
def get_file_in_subdirectory_and_percent_encoded():
    r, body = fetch("/sub/small.bin")
    eq((r.status, body), (200, C.small), "sub/small.bin")
    r, body = fetch("/sub%2Fsmall.bin")
    eq((r.status, body), (200, C.small), "sub%2Fsmall.bin")


@test
def head_request():
    r, body = fetch("/app.bin", method="HEAD")
    eq(r.status, 200, "status")
    eq(r.getheader("Content-Length"), str(FILE_SIZE), "Content-Length")
    eq(body, b"", "HEAD body")
    check_s3_headers(r)
    r, body = fetch("/app.bin", method="HEAD", headers={"Range": "bytes=10-19"})
    eq((r.status, r.getheader("Content-Range"), r.getheader("Content-Length")),
       (206, f"bytes 10-19/{FILE_SIZE}", "10"), "ranged HEAD")


@test
def range_requests():
    cases = [
        ("bytes=0-2047", 206, 0, 2048),
        ("bytes=2048-4095", 206, 2048, 4096),
        ("bytes=299000-", 206, 299000, FILE_SIZE),
        ("bytes=299990-400000", 206, 299990, FILE_SIZE),  # end clamped
        ("bytes=0-0", 206, 0, 1),
        ("bytes=-100", 206, FILE_SIZE - 100, FILE_SIZE),
        (f"bytes={FILE_SIZE - 1}-", 206, FILE_SIZE - 1, FILE_SIZE),
    ]
    for rng, code, a, b in cases:
        r, body = fetch("/app.bin", headers={"Range": rng})
        eq(r.status, code, f"status for {rng}")
        eq(r.getheader("Content-Range"), f"bytes {a}-{b - 1}/{FILE_SIZE}", f"Content-Range {rng}")
        eq(r.getheader("Content-Length"), str(b - a), f"Content-Length {rng}")
        eq(body, C.data[a:b], f"body {rng}")
        check_s3_headers(r)


@test
def range_unsatisfiable_416():
    for path, rng, total in (("/app.bin", f"bytes={FILE_SIZE}-", FILE_SIZE),
                             ("/app.bin", "bytes=999999-1000000", FILE_SIZE),
                             ("/empty.bin", "bytes=0-", 0)):
        r, body = fetch(path, headers={"Range": rng})
        eq(r.status, 416, f"status {rng}")
        eq(r.getheader("Content-Range"), f"bytes */{total}", "Content-Range")
        eq(r.getheader("Content-Length"), str(len(body)), "Content-Length")
        check_s3_headers(r)


@test
def range_ignored_when_malformed_or_multiple():
    for rng in ("bytes=5-3", "bytes=0-1,5-6", "items=0-5", "bytes=abc"):
        r, body = fetch("/app.bin", headers={"Range": rng})
        eq((r.status, len(body)), (200, FILE_SIZE), f"Range {rng!r}")


@test
def empty_file():
    r, body = fetch("/empty.bin")
    eq((r.status, r.getheader("Content-Length"), body), (200, "0", b""), "empty file")


@test
def query_string_ignored():
    q = ("?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20220602%2F"
         "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20220602T120000Z&X-Amz-Expires=3600"
         "&X-Amz-SignedHeaders=host&X-Amz-Signature=" + "ab" * 32 + "&odd=a:b:c")
    r, body = fetch("/app.bin" + q, headers={"Range": "bytes=100-199"})
    eq((r.status, body), (206, C.data[100:200]), "presigned query")
    rec = [x for x in C.plain.log_records() if x.get("query") == q[1:]]
    check(rec and rec[-1]["path"] == "/app.bin", "log path/query split")


@test
def keep_alive_reuses_connection():
    c = hc()
    for i in range(5):
        c.request("GET", f"/app.bin?ka={i}", headers={"Range": f"bytes={i * 2048}-{i * 2048 + 2047}"})
        r = c.getresponse()
        eq(r.read(), C.data[i * 2048:(i + 1) * 2048], f"fragment {i}")
        check(r.getheader("Connection") is None, "no Connection: close expected")
    c.close()
    recs = [x for x in C.plain.log_records() if (x.get("query") or "").startswith("ka=")]
    eq(len(recs), 5, "log records")
    eq(len({x["conn"] for x in recs}), 1, "all requests on one connection")


@test
def pipelined_pair():
    raw = Raw(C.plain.port)
    raw.send(range_req("/app.bin", 0, 2047) + range_req("/app.bin", 2048, 4095))
    r1 = raw.read_response()
    r2 = raw.read_response()
    eq((r1.status, r1.body), (206, C.data[0:2048]), "first pipelined response")
    eq((r2.status, r2.body), (206, C.data[2048:4096]), "second pipelined response")
    eq(r2.h("content-range"), f"bytes 2048-4095/{FILE_SIZE}", "second Content-Range")
    # The connection is still usable afterwards.
    raw.send(range_req("/app.bin", 4096, 4099))
    eq(raw.read_response().body, C.data[4096:4100], "third response")
    raw.close()


@test
def pipelined_mixed_methods_and_behaviours():
    raw = Raw(C.plain.port)
    raw.send(range_req("/chunked/app.bin", 10, 5009)
             + range_req("/app.bin", 0, 99, method="HEAD")
             + get_req("/status/404/app.bin")
             + get_req("/sub/small.bin")
             + get_req("/redirect/2/app.bin")
             + range_req("/no-range/sub/small.bin", 5, 6))
    r = raw.read_response()
    eq((r.status, r.body), (206, C.data[10:5010]), "chunked ranged")
    r = raw.read_response("HEAD")
    eq((r.status, r.h("content-length")), (206, "100"), "HEAD")
    r = raw.read_response()
    eq(r.status, 404, "status/404")
    r = raw.read_response()
    eq((r.status, r.body), (200, C.small), "small")
    r = raw.read_response()
    eq((r.status, r.h("location")), (303, "/redirect/1/app.bin"), "redirect/2")
    r = raw.read_response()
    eq((r.status, r.body), (200, C.small), "no-range")
    raw.close()


@test
def pipelined_requests_split_across_writes():
    raw = Raw(C.plain.port)
    data = range_req("/app.bin", 0, 9) + range_req("/app.bin", 10, 19)
    for i in range(0, len(data), 7):
        raw.send(data[i:i + 7])
        time.sleep(0.001)
    eq(raw.read_response().body, C.data[0:10], "first")
    eq(raw.read_response().body, C.data[10:20], "second")
    raw.close()


@test
def chunked_full():
    raw = Raw(C.plain.port)
    raw.send(get_req("/chunked/app.bin"))
    r = raw.read_response()
    eq(r.status, 200, "status")
    check(r.h("content-length") is None, "Content-Length with chunked")
    eq(r.h("transfer-encoding"), "chunked", "Transfer-Encoding")
    eq(r.body, C.data, "decoded body")
    sizes = [s for s, _ in r.chunks[:-1]]
    expect = []
    cyc = [1, 7, 100, 1000, 4096]
    left = FILE_SIZE
    i = 0
    while left:
        n = min(cyc[i % 5], left)
        expect.append(n)
        left -= n
        i += 1
    eq(sizes, expect, "chunk sizes")
    check(any(ext for _, ext in r.chunks), "no chunk extensions")
    check(all(ext in ("", "ext=1") for _, ext in r.chunks), "odd chunk extension")
    check(r.trailers, "no trailer after the last chunk")
    check_s3_headers(r)
    raw.close()
    # http.client decodes it too.
    r, body = fetch("/chunked/app.bin")
    eq((r.status, body), (200, C.data), "http.client chunked")


@test
def chunked_with_range():
    r, body = fetch("/chunked/app.bin", headers={"Range": "bytes=1000-2999"})
    eq(r.status, 206, "status")
    eq(r.getheader("Content-Range"), f"bytes 1000-2999/{FILE_SIZE}", "Content-Range")
    eq(r.getheader("Transfer-Encoding"), "chunked", "Transfer-Encoding")
    check(r.getheader("Content-Length") is None, "Content-Length")
    eq(body, C.data[1000:3000], "body")


@test
def chunked_head():
    raw = Raw(C.plain.port)
    raw.send(range_req("/chunked/app.bin", 0, 10, method="HEAD") + get_req("/sub/small.bin"))
    r = raw.read_response("HEAD")
    eq((r.status, r.h("transfer-encoding")), (206, "chunked"), "HEAD chunked")
    eq(raw.read_response().body, C.small, "next response after HEAD")
    raw.close()


@test
def close_behaviour():
    raw = Raw(C.plain.port)
    raw.send(range_req("/close/app.bin", 0, 99))
    r = raw.read_response()
    eq((r.status, r.body, r.h("connection")), (206, C.data[:100], "close"), "close response")
    check(raw.expect_eof(), "socket not closed after Connection: close")
    raw.close()


@test
def close_chunked_combined():
    raw = Raw(C.plain.port)
    raw.send(range_req("/close/chunked/app.bin", 5, 20004))
    r = raw.read_response()
    eq((r.status, r.h("connection"), r.h("transfer-encoding")), (206, "close", "chunked"), "head")
    eq(r.body, C.data[5:20005], "body")
    check(raw.expect_eof(), "not closed")
    raw.close()


@test
def client_connection_close_and_http10():
    raw = Raw(C.plain.port)
    raw.send(b"GET /sub/small.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    r = raw.read_response()
    eq((r.body, r.h("connection")), (C.small, "close"), "client close")
    check(raw.expect_eof(), "not closed")
    raw.close()
    raw = Raw(C.plain.port)
    raw.send(b"GET /sub/small.bin HTTP/1.0\r\n\r\n")
    r = raw.read_response()
    eq((r.body, r.h("connection")), (C.small, "close"), "HTTP/1.0")
    check(raw.expect_eof(), "not closed")
    raw.close()


def follow_redirects(srv, start, host="localhost", ctx=None):
    raw = Raw(srv.port, ctx=ctx)
    path = start
    hops = []
    for _ in range(10):
        raw.send(get_req(path, host=host))
        r = raw.read_response()
        if r.status not in REDIRECT_CODES:
            raw.close()
            return hops, r
        loc = r.h("location")
        hops.append((r.status, loc))
        m = re.match(r"^(https?)://([^/]+)(/.*)$", loc)
        path = m.group(3) if m else loc
    raise Failure("redirect loop")


@test
def redirects_chain():
    q = "?X-Amz-Credential=AK%2Fx:y&b=1"
    hops, r = follow_redirects(C.plain, "/redirect/5/app.bin" + q)
    eq((r.status, r.body), (200, C.data), "final response")
    p = C.plain.port
    eq(hops, [
        (301, f"http://localhost:{p}/redirect/4/app.bin{q}"),
        (308, f"/redirect/3/app.bin{q}"),
        (307, f"http://localhost:{p}/redirect/2/app.bin{q}"),
        (303, f"/redirect/1/app.bin{q}"),
        (302, f"http://localhost:{p}/redirect/0/app.bin{q}"),
    ], "redirect hops")


@test
def redirect_absolute_uses_host_header_name():
    raw = Raw(C.plain.port)
    raw.send(get_req("/redirect/1/sub/small.bin", host="memfault-test.s3.localhost:443"))
    r = raw.read_response()
    eq(r.status, 302, "status")
    eq(r.h("location"), f"http://memfault-test.s3.localhost:{C.plain.port}/redirect/0/sub/small.bin",
       "Location")
    eq(r.h("content-length"), str(len(r.body)), "Content-Length on redirect")
    raw.close()


@test
def redirect_combined_with_other_prefixes():
    raw = Raw(C.plain.port)
    raw.send(get_req("/close/redirect/2/chunked/app.bin?z=1"))
    r = raw.read_response()
    eq((r.status, r.h("location"), r.h("connection")),
       (303, "/close/redirect/1/chunked/app.bin?z=1", "close"), "close+redirect")
    check(raw.expect_eof(), "not closed")
    raw.close()
    hops, r = follow_redirects(C.plain, "/redirect/2/chunked/app.bin")
    eq((len(hops), r.status, r.h("transfer-encoding"), r.body), (2, 200, "chunked", C.data),
       "redirect to chunked")


@test
def status_codes():
    c = hc()
    for code in (404, 403, 500, 503, 400):
        c.request("GET", f"/status/{code}/app.bin?x=1")
        r = c.getresponse()
        body = r.read()
        eq(r.status, code, "status")
        eq(r.getheader("Content-Length"), str(len(body)), "Content-Length")
        check(0 < len(body) < 1024, "small body")
        check_s3_headers(r)
    # Connection still usable after error statuses (keep-alive).
    c.request("GET", "/sub/small.bin")
    eq(c.getresponse().read(), C.small, "after errors")
    c.close()
    r, body = fetch("/status/204/app.bin")
    eq((r.status, body), (204, b""), "204")


@test
def not_found_traversal_and_method():
    r, _ = fetch("/nope.bin")
    eq(r.status, 404, "missing file")
    r, _ = fetch("/sub")
    eq(r.status, 404, "directory")
    raw = Raw(C.plain.port)
    raw.send(get_req("/../../../../etc/passwd") + get_req("/%2e%2e/%2e%2e/etc/passwd"))
    r1 = raw.read_response()
    r2 = raw.read_response()
    check(r1.status in (403, 404) and r2.status in (403, 404), f"traversal {r1.status} {r2.status}")
    raw.send(b"POST /app.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc" + get_req("/sub/small.bin"))
    r = raw.read_response()
    eq((r.status, r.h("allow")), (405, "GET, HEAD"), "POST")
    eq(raw.read_response().body, C.small, "after POST")
    raw.close()


@test
def no_range_ignores_range():
    r, body = fetch("/no-range/app.bin", headers={"Range": "bytes=100-199"})
    eq((r.status, body), (200, C.data), "no-range")
    check(r.getheader("Content-Range") is None, "Content-Range")


@test
def reset_once_full_get():
    path = "/reset-once/1000/app.bin"
    raw = Raw(C.plain.port)
    raw.send(get_req(path))
    data, kind = raw.read_until_reset()
    raw.close()
    eq(kind, "reset", "connection end")
    i = data.index(b"\r\n\r\n") + 4
    check(data.startswith(b"HTTP/1.1 200 "), "status")
    eq(data[i:], C.data[:1000], "body bytes before reset")
    r, body = fetch(path)
    eq((r.status, body), (200, C.data), "second request served normally")
    mine = lambda recs: [x for x in recs if x["path"] == path]
    rec = mine(C.plain.log_records(until=lambda recs: len(mine(recs)) >= 2))
    eq([(x["event"], x["bytes"]) for x in rec], [("reset", 1000), (None, FILE_SIZE)], "log")


@test
def reset_once_ranged_fragments():
    path = "/reset-once/3000/app.bin"
    raw = Raw(C.plain.port)
    raw.send(range_req(path, 0, 1999))   # span [0,2000) does not contain 3000
    eq(raw.read_response().body, C.data[:2000], "first fragment")
    raw.send(range_req(path, 2000, 3999))  # contains 3000: 1000 bytes, then reset
    data, kind = raw.read_until_reset()
    raw.close()
    eq(kind, "reset", "connection end")
    check(data.startswith(b"HTTP/1.1 206 "), "206 before reset")
    eq(data[data.index(b"\r\n\r\n") + 4:], C.data[2000:3000], "partial fragment")
    r, body = fetch(path, headers={"Range": "bytes=2000-3999"})
    eq((r.status, body), (206, C.data[2000:4000]), "retried fragment")


@test
def reset_once_at_fragment_start_and_chunked():
    path = "/reset-once/4096/app.bin"
    raw = Raw(C.plain.port)
    raw.send(range_req(path, 4096, 6143))
    data, kind = raw.read_until_reset()
    raw.close()
    eq(kind, "reset", "end")
    check(data.endswith(b"\r\n\r\n") and data.startswith(b"HTTP/1.1 206"), "head only")

    path = "/reset-once/5000/chunked/app.bin"
    raw = Raw(C.plain.port)
    raw.send(get_req(path))
    r = raw.read_head()
    eq(r.h("transfer-encoding"), "chunked", "chunked")
    got = bytearray()
    kind = None
    try:
        while True:
            line = raw.read_line()
            n = int(line.split(b";")[0], 16)
            while len(raw.buf) < n + 2:
                raw._more()
            got += raw.read_exact(n)
            raw.read_exact(2)
    except (ConnectionResetError, EOFError) as e:
        kind = type(e).__name__
        got += raw.buf[:5000 - len(got)] if len(got) < 5000 else b""
    raw.close()
    eq(kind, "ConnectionResetError", "end")
    eq(bytes(got), C.data[:5000], "decoded chunked bytes before reset")
    r, body = fetch(path)
    eq(body, C.data, "second chunked request")


@test
def reset_head_once():
    path = "/reset-head-once/app.bin"
    raw = Raw(C.plain.port)
    raw.send(range_req(path, 0, 2047))
    data, kind = raw.read_until_reset()
    raw.close()
    eq(kind, "reset", "end")
    check(data.startswith(b"HTTP/1.1 206") and b"\r\n\r\n" not in data and len(data) > 20,
          f"partial head expected, got {data[:80]!r}")
    r, body = fetch(path, headers={"Range": "bytes=0-2047"})
    eq((r.status, body), (206, C.data[:2048]), "second request")


@test
def once_behaviours_not_fired_by_head():
    path = "/reset-head-once/sub/small.bin"
    r, _ = fetch(path, method="HEAD")
    eq(r.status, 200, "HEAD")
    raw = Raw(C.plain.port)
    raw.send(get_req(path))
    _, kind = raw.read_until_reset()
    raw.close()
    eq(kind, "reset", "first GET after HEAD still resets")


@test
def stall_once():
    path = "/stall-once/700/app.bin"
    raw = Raw(C.plain.port)
    raw.send(get_req(path))
    r = raw.read_head()
    half = FILE_SIZE // 2
    first = raw.read_exact(half)
    rest = raw.read_exact(FILE_SIZE - half)
    raw.close()
    eq(r.status, 200, "status")
    eq(first + rest, C.data, "body")
    r, body = fetch(path)
    eq((r.status, body), (200, C.data), "second request")
    # The server logs the stall as the event of the response it delayed.
    recs = C.plain.log_records(
        until=lambda rs: len([x for x in rs if x["path"] == path]) >= 2)
    gets = [x for x in recs if x["path"] == path and x["method"] == "GET"]
    eq([x["event"] for x in gets], ["stall", None], "events of the two GETs")
    eq([x["bytes"] for x in gets], [FILE_SIZE, FILE_SIZE], "bytes of the two GETs")


@test
def log_lines_are_complete_json():
    recs = C.plain.log_records()
    check(len(recs) > 20, "too few log records")
    for x in recs:
        for k in ("method", "path", "range", "status", "bytes", "conn", "t"):
            check(k in x, f"log record misses {k}: {x}")
        check(isinstance(x["conn"], int) and isinstance(x["t"], float), f"types: {x}")
    r = [x for x in recs if x["range"] == "bytes=299000-"]
    check(r and r[0]["status"] == 206 and r[0]["bytes"] == 1000, "range log record")


# ---------------------------------------------------------------------------
# HTTPS tests
# ---------------------------------------------------------------------------

def ctx_for(ca):
    ctx = ssl.create_default_context(cafile=ca)
    return ctx


@test
def tls_get_with_right_ca_all_names():
    for name in ("localhost", "fota.test", "memfault-test.s3.localhost", "127.0.0.1"):
        raw = Raw(C.tls.port, ctx=C.ctx_a, sni=name)
        raw.send(range_req("/app.bin", 0, 2047, host=name))
        r = raw.read_response()
        eq((r.status, r.body), (206, C.data[:2048]), f"TLS GET as {name}")
        check_s3_headers(r)
        raw.close()
    r, body = fetch("/app.bin", srv=C.tls)
    eq((r.status, body), (200, C.data), "https http.client")


@test
def tls_wrong_ca_rejected_and_logged():
    try:
        Raw(C.tls.port, ctx=C.ctx_b, sni="localhost")
    except ssl.SSLCertVerificationError:
        pass
    else:
        raise Failure("CA B unexpectedly validated the server")
    failed = lambda rs: [x for x in rs if x.get("event") == "tls-handshake-failed"]  # noqa: E731
    recs = failed(C.tls.log_records(until=failed))
    check(recs and recs[-1]["method"] is None, "handshake failure not logged")


@test
def tls_pipelined_pair():
    raw = Raw(C.tls.port, ctx=C.ctx_a)
    raw.send(range_req("/app.bin", 0, 2047) + range_req("/app.bin", 2048, 4095))
    r1 = raw.read_response()
    r2 = raw.read_response()
    eq((r1.body, r2.body), (C.data[:2048], C.data[2048:4096]), "pipelined over TLS")
    raw.close()


@test
def tls_chunked_range_keepalive():
    c = hc(C.tls)
    for a in (0, 70000, 299000):
        c.request("GET", "/chunked/app.bin", headers={"Range": f"bytes={a}-{a + 999}"})
        r = c.getresponse()
        eq((r.status, r.read()), (206, C.data[a:a + 1000]), f"chunked TLS at {a}")
    c.close()


@test
def tls_reset_once():
    path = "/reset-once/2500/app.bin"
    raw = Raw(C.tls.port, ctx=C.ctx_a)
    raw.send(range_req(path, 2048, 4095))
    data, kind = raw.read_until_reset()
    raw.close()
    eq(kind, "reset", "TLS connection end (TCP RST expected)")
    eq(data[data.index(b"\r\n\r\n") + 4:], C.data[2048:2500], "bytes before reset")
    r, body = fetch(path, headers={"Range": "bytes=2048-4095"}, srv=C.tls)
    eq(body, C.data[2048:4096], "retry")


@test
def tls_close_sends_eof():
    raw = Raw(C.tls.port, ctx=C.ctx_a)
    raw.send(range_req("/close/app.bin", 0, 9))
    eq(raw.read_response().body, C.data[:10], "body")
    check(raw.expect_eof(), "no EOF after close over TLS")
    raw.close()


@test
def tls_redirect_absolute_is_https():
    hops, r = follow_redirects(C.tls, "/redirect/3/app.bin?q=%2F", host="fota.test", ctx=C.ctx_a)
    eq(hops[0], (307, f"https://fota.test:{C.tls.port}/redirect/2/app.bin?q=%2F"), "first hop")
    eq(r.body, C.data, "final body")


@test
def tls_wrong_name_certificate_and_tls12():
    try:
        Raw(C.wrong.port, ctx=C.ctx_a, sni="localhost")
    except ssl.SSLCertVerificationError as e:
        check("mismatch" in str(e).lower() or "hostname" in str(e).lower(), f"reason: {e}")
    else:
        raise Failure("wrong-name certificate accepted for localhost")
    raw = Raw(C.wrong.port, ctx=C.ctx_a, sni="wrong.test")
    eq(raw.version(), "TLSv1.2", "--tls12 limits the version")
    raw.send(get_req("/sub/small.bin", host="wrong.test"))
    eq(raw.read_response().body, C.small, "body")
    raw.close()


# ---------------------------------------------------------------------------

def make_certs(work):
    d = os.environ.get("FOTA_CERT_DIR") or os.path.join(work, "certs")
    if shutil.which("openssl") is None:
        sys.exit("test_fota_server.py: openssl not found in PATH (needed by scripts/make-certs.sh)")
    r = subprocess.run(["bash", MAKE_CERTS, d], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    if r.returncode != 0:
        sys.exit(f"test_fota_server.py: scripts/make-certs.sh failed:\n{r.stdout}")
    return d


def main():
    work = tempfile.mkdtemp(prefix="fota-server-test.")
    root = os.path.join(work, "root")
    os.makedirs(os.path.join(root, "sub"))
    rnd = random.Random(20220602)
    C.data = rnd.randbytes(FILE_SIZE)
    C.small = b"small file contents\n" * 3
    with open(os.path.join(root, "app.bin"), "wb") as f:
        f.write(C.data)
    with open(os.path.join(root, "sub", "small.bin"), "wb") as f:
        f.write(C.small)
    open(os.path.join(root, "empty.bin"), "wb").close()
    C.work = work

    certs = make_certs(work)
    C.ctx_a = ctx_for(os.path.join(certs, "ca-a.pem"))
    C.ctx_b = ctx_for(os.path.join(certs, "ca-b.pem"))

    servers = []
    passed = failed = 0
    try:
        C.plain = ServerProc(root, work, "plain")
        servers.append(C.plain)
        C.tls = ServerProc(root, work, "tls", cert=os.path.join(certs, "server.pem"),
                           key=os.path.join(certs, "server.key"))
        servers.append(C.tls)
        C.wrong = ServerProc(root, work, "wrong", cert=os.path.join(certs, "server-wrongname.pem"),
                             key=os.path.join(certs, "server-wrongname.key"), extra=["--tls12"])
        servers.append(C.wrong)

        for fn in TESTS:
            if FILTER and FILTER not in fn.__name__:
                continue
            t0 = time.monotonic()
            try:
                fn()
            except Exception as e:
                failed += 1
                print(f"FAIL {fn.__name__}: {type(e).__name__}: {e}", flush=True)
                if VERBOSE or not isinstance(e, Failure):
                    traceback.print_exc()
            else:
                passed += 1
                if VERBOSE:
                    print(f"ok   {fn.__name__} ({time.monotonic() - t0:.2f}s)", flush=True)
    except Exception as e:
        failed += 1
        print(f"FAIL setup: {e}", flush=True)
    finally:
        for s in servers:
            # stop() kills after 10 s: None then means SIGTERM did not work.
            rc = s.stop()
            errors = open(s.errors_file).read() if os.path.exists(s.errors_file) else ""
            if rc == 0 and not errors:
                passed += 1
                if VERBOSE:
                    print(f"ok   sigterm_{s.name}, no exception of its own")
            else:
                failed += 1
                print(f"FAIL server {s.name}: exit status {rc} on SIGTERM, "
                      f"{'exceptions of its own:' if errors else 'no exception of its own'}")
                print(errors or open(s.err_file).read())
    if failed == 0:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"(server logs kept in {work})")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
