#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Hostile HTTP/1.1 (and HTTPS) server for fault tests of fota-rs.

Usage:
    fault_server.py --root DIR [--cert server.pem --key server.key]
                    [--plain-port-file F] [--port-file F] [--log F]
                    [--rate BYTES_PER_S] [--fault SPEC] [--trickle-max-s S]

Serves files under --root like an S3 bucket (GET, Range, keep-alive) and
breaks the exchange on purpose. A fault is chosen per request by a path
prefix, or for every request of the run with --fault:

    /fault/SPEC/app.bin        SPEC = GROUP[+GROUP...]
    GROUP = ITEM[,ITEM...]     ITEM = name or name=value

Each group is a set of faults with its own schedule, counted per exact path
(query excluded) over the server's life: `once` (fire on the first matching
request only), `times=N`, `after=N` (skip the first N matching requests),
`min=OFF` (only requests whose range starts at or after OFF). A reset or close
at a body offset only matches requests whose body span contains the offset.

Faults (OFF = absolute file offset of a body byte, N = count of bytes):
  reset=OFF          TCP RST (SO_LINGER 0, no TLS close_notify) at OFF
  close=OFF          orderly close (close_notify, FIN) at OFF
  reset-head=N       send N bytes of the head, then RST
  close-head=N       send N bytes of the head, then orderly close
  stall=MS           sleep MS ms in the middle of the body (stall-at=OFF: there)
  stall-head=MS      sleep MS ms before sending the head
  close-each         "Connection: close" on every response, then close
  close-silent       close after the response without announcing it
  no-range           ignore Range: 200 with the whole file
  wrong-range=D      206 whose Content-Range (and bytes) start D bytes later
  cl-short=N         Content-Length N less than the body that is sent
  cl-long=N          Content-Length N more than the body that is sent
  chunked            Transfer-Encoding: chunked (valid)
  chunked-trunc=OFF  chunked, the connection closes at OFF inside a chunk
  chunk-overflow     chunked with a 20-hex-digit chunk size
  big-head=N         one extra header line with an N-byte value
  many-headers=N     N extra small header lines
  no-colon           a header line without a colon
  nul-head           a NUL byte inside a header value
  trickle            the whole response at one byte per second (bounded by
                     --trickle-max-s, then the connection is closed)
  redirect-loop      302 to the same URL, forever
  redirect-http      https only: 302 to the same file over plain http (on the
                     --plain-port-file listener, which really serves it)
  long-location=N    302 with a Location of about N bytes
  status=CODE        answer CODE with a small body (retry-after=S adds
                     Retry-After: S)
  empty-206          ranged requests: a 206 head for the range (no
                     Content-Length), no body, "Connection: close", close
  trailer-total=S    serve the file as if it were S bytes long (a slot's
                     size): erased padding, and in its last 40 bytes an
                     MCUboot trailer asking for a permanent swap (magic,
                     image_ok 0x01, swap_info 0x03)

--rate paces every body (bytes per second, in small pieces) so a download
lasts long enough to be interrupted. --log appends one JSON object per
response: method, path, range, status, bytes (body bytes handed to the
socket), conn, port, event, faults (the names of the faults injected into
this response), t. A stall-head or trickle response is logged when it starts
(event "stall" or "trickle") and again when it ends.
--error-log F records the server's own exceptions (tests/server/server_errors.py):
a harness fails when F is not empty.
On start it writes the port(s) to the port files (atomically) and prints
"listening on ...". SIGTERM/SIGINT exit with status 0.
"""

import argparse
import json
import os
import re
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server"))
import server_errors  # noqa: E402

MAX_REQ_HEAD = 64 * 1024
CHUNK_SIZES = (1, 7, 100, 1000, 4096)
PACE_PIECE = 256
SEND_PIECE = 16 * 1024


class Abort(Exception):
    """Stop serving this connection (how is in .how: reset, close, gone)."""

    def __init__(self, how):
        super().__init__(how)
        self.how = how


def parse_spec(spec):
    """'a=1,once+b' -> [{'a': '1', 'once': ''}, {'b': ''}]"""
    groups = []
    for g in spec.split("+"):
        items = {}
        for it in g.split(","):
            if not it:
                continue
            k, _, v = it.partition("=")
            items[k] = v
        if items:
            groups.append(items)
    return groups


def num(v, default=0):
    try:
        return int(v, 0)
    except (TypeError, ValueError):
        return default


class Log:
    def __init__(self, path):
        self.lock = threading.Lock()
        self.f = open(path, "a", encoding="utf-8") if path else None

    def write(self, **rec):
        rec.setdefault("t", time.time())
        if not self.f:
            return
        with self.lock:
            self.f.write(json.dumps(rec, separators=(",", ":")) + "\n")
            self.f.flush()


class Server:
    def __init__(self, args):
        self.root = os.path.realpath(args.root)
        self.log = Log(args.log)
        self.rate = args.rate
        self.trickle_max_s = args.trickle_max_s
        self.default_spec = args.fault or ""
        self.counts = {}
        self.count_lock = threading.Lock()
        self.next_conn = 0
        self.ctx = None
        if args.cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(args.cert, args.key)
            self.ctx = ctx
        self.listeners = []  # (socket, tls?)
        self.main_port = self.listen(self.ctx is not None)
        self.plain_port = None
        if args.plain_port_file and self.ctx is not None:
            self.plain_port = self.listen(False)

    def listen(self, tls):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        self.listeners.append((s, tls))
        return s.getsockname()[1]

    def conn_id(self):
        with self.count_lock:
            self.next_conn += 1
            return self.next_conn

    def schedule(self, path, idx, group, first, end):
        """Whether group idx fires for this request (and count it)."""
        if "min" in group and first < num(group["min"]):
            return False
        for k in ("reset", "close", "chunked-trunc"):
            if k in group and not first <= num(group[k]) < end:
                return False
        with self.count_lock:
            key = (path, idx)
            n = self.counts.get(key, 0)
            self.counts[key] = n + 1
        n -= num(group.get("after"))
        if n < 0:
            return False
        if "once" in group:
            return n == 0
        if "times" in group:
            return n < num(group["times"])
        return True

    def serve(self):
        for s, tls in self.listeners:
            threading.Thread(target=self.accept_loop, args=(s, tls), daemon=True).start()
        while True:
            time.sleep(3600)

    def accept_loop(self, lsock, tls):
        while True:
            try:
                s, _ = lsock.accept()
            except OSError:
                time.sleep(0.01)
                continue
            c = Connection(self, s, tls, self.conn_id(), lsock.getsockname()[1])
            threading.Thread(target=c.run, daemon=True).start()


def reason(code):
    return {200: "OK", 206: "Partial Content", 301: "Moved Permanently", 302: "Found",
            404: "Not Found", 416: "Range Not Satisfiable", 500: "Internal Server Error",
            502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}.get(
                code, "Status")


def parse_range(value, total):
    if value is None:
        return None
    m = re.fullmatch(r"\s*bytes=(\d+)-(\d*)\s*", value)
    if not m:
        return None
    first = int(m.group(1))
    last = int(m.group(2)) if m.group(2) else total - 1
    if first >= total:
        return "unsat"
    return first, min(last, total - 1)


class Connection:
    def __init__(self, srv, sock, tls, cid, port):
        self.srv = srv
        self.raw = sock
        self.sock = sock
        self.tls = tls
        self.cid = cid
        self.port = port
        self.sent = 0  # body bytes of the current response handed to the socket

    # -- socket helpers ---------------------------------------------------
    def send(self, b):
        try:
            self.sock.sendall(b)
        except (OSError, ssl.SSLError):
            raise Abort("gone")

    def paced(self, b, body=True):
        """Send body bytes, honouring --rate; count what was handed over."""
        mv = memoryview(b)
        rate = self.srv.rate
        piece = PACE_PIECE if rate else SEND_PIECE
        while mv:
            n = min(piece, len(mv))
            self.send(bytes(mv[:n]))
            if body:
                self.sent += n
            mv = mv[n:]
            if rate:
                time.sleep(n / rate)

    def drain(self):
        """Wait until the kernel sent what we queued, so a reset cuts exactly."""
        try:
            import fcntl
            import termios
            fd = self.raw.fileno()
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline:
                q = struct.unpack("i", fcntl.ioctl(fd, termios.TIOCOUTQ, b"\0\0\0\0"))[0]
                if q == 0:
                    return
                time.sleep(0.005)
        except (OSError, ValueError, ImportError):
            time.sleep(0.05)

    def reset(self):
        self.drain()
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.abandon()

    def close(self):
        try:
            self.sock.settimeout(1.0)
            if isinstance(self.sock, ssl.SSLSocket):
                try:
                    self.sock = self.sock.unwrap()
                except (OSError, ssl.SSLError, ValueError):
                    pass
            self.sock.shutdown(socket.SHUT_WR)
            end = time.monotonic() + 1.0
            while time.monotonic() < end and self.sock.recv(65536):
                pass
        except (OSError, ssl.SSLError, ValueError):
            pass
        self.abandon()

    def abandon(self):
        for s in (self.sock, self.raw):
            try:
                fd = s.detach()
                if fd >= 0:
                    os.close(fd)
            except (OSError, ValueError):
                pass

    # -- request loop -----------------------------------------------------
    def run(self):
        how = "close"
        try:
            self.raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.raw.settimeout(30)
            if self.tls:
                try:
                    self.sock = self.srv.ctx.wrap_socket(self.raw, server_side=True)
                except (OSError, ssl.SSLError) as e:
                    self.srv.log.write(method=None, conn=self.cid, port=self.port,
                                       event="tls-handshake-failed", error=str(e))
                    self.abandon()
                    return
            buf = b""
            while True:
                while b"\r\n\r\n" not in buf:
                    if len(buf) > MAX_REQ_HEAD:
                        raise Abort("close")
                    try:
                        d = self.sock.recv(65536)
                    except (OSError, ssl.SSLError):
                        raise Abort("gone")
                    if not d:
                        raise Abort("close")
                    buf += d
                head, _, buf = buf.partition(b"\r\n\r\n")
                if not self.handle(head.decode("latin-1")):
                    break
        except Abort as a:
            how = a.how
        except server_errors.PEER_ERRORS:
            how = "gone"
        except Exception as e:  # a bug of the server's own: fail the test
            server_errors.record(f"fault_server: conn {self.cid}", e)
            how = "gone"
        if how == "reset":
            self.reset()
        elif how == "close":
            self.close()
        else:
            self.abandon()

    def handle(self, head):
        lines = head.split("\r\n")
        parts = lines[0].split()
        if len(parts) != 3:
            raise Abort("close")
        method, target = parts[0], parts[1]
        hdrs = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        path, _, query = target.partition("?")
        spec = self.srv.default_spec
        m = re.match(r"^/fault/([^/]*)(/.*)$", path)
        if m:
            spec = "+".join(s for s in (spec, urllib.parse.unquote(m.group(1))) if s)
            file_path = m.group(2)
        else:
            file_path = path
        rel = urllib.parse.unquote(file_path.lstrip("/"))
        full = os.path.realpath(os.path.join(self.srv.root, rel))
        rng_hdr = hdrs.get("range")
        base = dict(method=method, path=path, range=rng_hdr, conn=self.cid, port=self.port)
        if not full.startswith(self.srv.root + os.sep) or not os.path.isfile(full):
            return self.simple(404, base, [], close=False)
        with open(full, "rb") as f:
            data = f.read()
        total = len(data)
        rng = parse_range(rng_hdr, total)
        if rng == "unsat":
            return self.simple(416, base, [("Content-Range", f"bytes */{total}")], close=False)
        first, end = (0, total) if rng is None else (rng[0], rng[1] + 1)

        f = {}
        fired = []
        for i, g in enumerate(parse_spec(spec)):
            if self.srv.schedule(path, i, g, first, end):
                f.update(g)
                fired += [k for k in g if k not in ("once", "times", "after", "min")]
        base["faults"] = fired
        return self.respond(method, path, query, hdrs, data, rng, f, base)

    def simple(self, code, base, extra, close, body=None):
        if body is None:
            body = f"<Error><Code>{code}</Code></Error>\n".encode()
        h = [f"HTTP/1.1 {code} {reason(code)}", "Server: AmazonS3",
             f"Content-Length: {len(body)}"]
        h += [f"{k}: {v}" for k, v in extra]
        if close:
            h.append("Connection: close")
        self.srv.log.write(status=code, bytes=len(body), event=None, **base)
        self.send(("\r\n".join(h) + "\r\n\r\n").encode("latin-1") + body)
        if close:
            raise Abort("close")
        return True

    def respond(self, method, path, query, hdrs, data, rng, f, base):
        if "trailer-total" in f:
            data = with_trailer(data, num(f["trailer-total"]))
            rng = parse_range(hdrs.get("range"), len(data))
        total = len(data)
        close_after = "close-each" in f or "close-silent" in f
        host = hdrs.get("host", "127.0.0.1")
        if "stall-head" in f:
            # Logged now: the client may be long gone when the stall ends.
            self.srv.log.write(status=None, bytes=0, event="stall", **base)
            time.sleep(num(f["stall-head"]) / 1000)
        if "status" in f:
            extra = [("Retry-After", f["retry-after"])] if "retry-after" in f else []
            return self.simple(num(f["status"]), base, extra, close="close-each" in f)
        if "redirect-loop" in f or "redirect-http" in f or "long-location" in f:
            q = f"?{query}" if query else ""
            if "redirect-http" in f:
                name = host.rsplit(":", 1)[0]
                m = re.match(r"^/fault/[^/]*(/.*)$", path)
                loc = f"http://{name}:{self.srv.plain_port}{m.group(1) if m else path}{q}"
            elif "long-location" in f:
                n = num(f["long-location"])
                loc = "/" + "a" * max(1, n - 1 - len(path)) + path
            else:
                loc = path + q
            return self.simple(302, base, [("Location", loc)], close="close-each" in f,
                               body=b"")

        if "no-range" in f or rng is None:
            code, first, end = 200, 0, total
        else:
            code, first, end = 206, rng[0], rng[1] + 1
        if code == 206 and "empty-206" in f:
            h = [f"HTTP/1.1 206 {reason(206)}", "Server: AmazonS3",
                 f"Content-Range: bytes {first}-{end - 1}/{total}", "Connection: close"]
            self.srv.log.write(status=206, bytes=0, event=None, **base)
            self.send(("\r\n".join(h) + "\r\n\r\n").encode("latin-1"))
            raise Abort("close")
        src = first
        if code == 206 and "wrong-range" in f:
            src = min(first + num(f["wrong-range"]), total - 1)
            end = min(end + (src - first), total)
        body = data[src:end]
        h = [f"HTTP/1.1 {code} {reason(code)}",
             "x-amz-request-id: 0123456789ABCDEF", "Accept-Ranges: bytes",
             "Content-Type: application/octet-stream"]
        if code == 206:
            h.append(f"Content-Range: bytes {src}-{end - 1}/{total}")
        chunked = any(k in f for k in ("chunked", "chunked-trunc", "chunk-overflow"))
        if chunked:
            h.append("Transfer-Encoding: chunked")
        else:
            n = len(body) - num(f.get("cl-short")) + num(f.get("cl-long"))
            h.append(f"Content-Length: {max(0, n)}")
        if "big-head" in f:
            h.append("x-amz-meta-padding: " + "p" * num(f["big-head"]))
        for i in range(num(f.get("many-headers"))):
            h.append(f"x-amz-meta-h{i}: v")
        if "no-colon" in f:
            h.append("x-amz-broken-header-without-colon")
        if "nul-head" in f:
            h.append("x-amz-meta-nul: a\0b")
        if "close-each" in f:
            h.append("Connection: close")
        head = ("\r\n".join(h) + "\r\n\r\n").encode("latin-1")

        self.sent = 0
        self.base = base
        event = None
        if "trailer-total" in f:
            # Logged before the head: the client refuses the head at once and
            # may have exited before the body's send fails and is logged.
            self.srv.log.write(status=code, bytes=0, event="trailer-total", **base)
        try:
            if "trickle" in f:
                # Logged now: the client gives up long before the end.
                self.srv.log.write(status=code, bytes=0, event="trickle", **base)
                self.trickle(head + self.frame(body, chunked, f))
            else:
                self.send_head(head, f)
                self.send_body(body, src, chunked, f)
        except Abort as a:
            base["bytes"] = self.sent
            self.srv.log.write(status=code, event=a.how, **base)
            raise
        self.srv.log.write(status=code, bytes=self.sent, event=event, **base)
        if close_after:
            raise Abort("close")
        return True

    def send_head(self, head, f):
        for k, how in (("reset-head", "reset"), ("close-head", "close")):
            if k in f:
                self.send(head[: num(f[k])])
                raise Abort(how)
        self.send(head)

    def frame(self, body, chunked, f):
        if not chunked:
            return body
        out = bytearray()
        if "chunk-overflow" in f:
            out += b"1" + b"0" * 19 + b"\r\n"
        i = k = 0
        while i < len(body):
            n = min(CHUNK_SIZES[k % len(CHUNK_SIZES)], len(body) - i)
            out += f"{n:x}\r\n".encode() + body[i:i + n] + b"\r\n"
            i += n
            k += 1
        return bytes(out + b"0\r\n\r\n")

    def send_body(self, body, pos, chunked, f):
        """Body bytes with cut points at absolute file offsets."""
        cut = None
        for k, how in (("reset", "reset"), ("close", "close"), ("chunked-trunc", "close")):
            if k in f:
                cut = (num(f[k]), how)
        stall_at = None
        if "stall" in f:
            stall_at = num(f["stall-at"]) if "stall-at" in f else pos + len(body) // 2
        if chunked:
            if "chunk-overflow" in f:
                self.send(b"1" + b"0" * 19 + b"\r\n")
            i = k = 0
            while i < len(body):
                n = min(CHUNK_SIZES[k % len(CHUNK_SIZES)], len(body) - i)
                self.send(f"{n:x}\r\n".encode())
                self.body_piece(body[i:i + n], pos + i, cut, stall_at, f)
                self.send(b"\r\n")
                i += n
                k += 1
            self.send(b"0\r\n\r\n")
        else:
            self.body_piece(body, pos, cut, stall_at, f)

    def body_piece(self, b, pos, cut, stall_at, f):
        end = pos + len(b)
        points = sorted(p for p in ((cut[0] if cut else None), stall_at)
                        if p is not None and pos <= p < end)
        at = pos
        for p in points:
            self.paced(b[at - pos:p - pos])
            at = p
            if stall_at == p:
                self.srv.log.write(status=None, bytes=self.sent, event="stall", **self.base)
                time.sleep(num(f["stall"]) / 1000)
            if cut and cut[0] == p:
                raise Abort(cut[1])
        self.paced(b[at - pos:])

    def trickle(self, wire):
        """One byte per second, until --trickle-max-s has passed."""
        stop = time.monotonic() + self.srv.trickle_max_s
        for i in range(len(wire)):
            if time.monotonic() >= stop:
                raise Abort("close")
            self.send(wire[i:i + 1])
            self.sent += 1
            time.sleep(1.0)


BOOT_MAGIC = bytes.fromhex("77c295f360d2ef7f3552500f2cb67980")


def with_trailer(data, size):
    """`data` padded with 0xFF to `size` bytes, ending in an MCUboot trailer
    that asks for a permanent swap of image 0."""
    out = bytearray(data + b"\xff" * max(0, size - len(data)))
    out[-16:] = BOOT_MAGIC
    out[-24] = 0x01  # image_ok
    out[-40] = 0x03  # swap_info: PERM
    return bytes(out)


def write_port_file(path, port):
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as fh:
        fh.write(f"{port}\n")
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description="hostile HTTP(S) server for fota-rs fault tests")
    ap.add_argument("--root", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--port-file")
    ap.add_argument("--plain-port-file", help="with --cert: also serve plain http, port here")
    ap.add_argument("--log")
    ap.add_argument("--rate", type=float, default=0.0, help="pace bodies (bytes/s)")
    ap.add_argument("--fault", help="fault spec applied to every request")
    ap.add_argument("--trickle-max-s", type=float, default=60.0)
    ap.add_argument("--error-log", help="append the server's own exceptions here")
    args = ap.parse_args()
    server_errors.install(args.error_log)
    if bool(args.cert) != bool(args.key):
        ap.error("--cert and --key go together")

    def on_signal(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    srv = Server(args)
    if args.plain_port_file and srv.plain_port:
        write_port_file(args.plain_port_file, srv.plain_port)
    if args.port_file:
        write_port_file(args.port_file, srv.main_port)
    scheme = "https" if srv.ctx else "http"
    print(f"listening on {scheme}://127.0.0.1:{srv.main_port}"
          + (f" and http://127.0.0.1:{srv.plain_port}" if srv.plain_port else ""), flush=True)
    try:
        srv.serve()
    except SystemExit:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
