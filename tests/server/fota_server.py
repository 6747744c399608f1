#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""S3-like HTTP/1.1 (and HTTPS) test server for the fota-rs simulator.

Usage:
    fota_server.py --root DIR [--cert server.pem --key server.key]
                   [--host 127.0.0.1] [--port 0] [--port-file F] [--log F]
                   [--tls12] [--idle-timeout SECONDS] [--head-size BYTES] [-v]

Serves the files under --root for GET and HEAD, one thread per connection,
persistent connections and pipelined requests (answered in order). The query
string is ignored for the file lookup. Range "bytes=a-b", "bytes=a-" and
"bytes=-n" give 206 + Content-Range; an unsatisfiable range gives 416 with
"Content-Range: bytes */total"; a malformed or multi-range header is ignored
(200). Every response carries S3-like headers (x-amz-id-2, x-amz-request-id,
Date, Last-Modified, ETag "md5", Accept-Ranges, Content-Type, Server).
--head-size N pads the head of every file response (200 and 206) to N bytes
with an x-amz-version-id header, as S3 sends on a versioned bucket (heads
that are already N bytes or longer are left as they are).

Behaviours are chosen by path prefixes, stripped before the file lookup and
combinable in order (e.g. /close/chunked/app.bin):

  /chunked/            Transfer-Encoding: chunked, chunk sizes cycling
                       1, 7, 100, 1000, 4096; every third chunk carries the
                       extension ";ext=1", hex sizes alternate lower/upper case;
                       a trailer "x-fota-trailer: done" follows the last chunk.
                       Ranges give 206 + chunked.
  /close/              "Connection: close" on the response, then close.
  /redirect/N/         N > 0: status 301/302/303/307/308 picked as
                       [301,302,303,307,308][N % 5] (so N=1 -> 302), Location
                       = the same URL with N-1 (path-absolute for even N,
                       absolute scheme://host:port/... for odd N), query kept.
                       N = 0 serves the file.
  /status/CODE/        answer CODE with a small body (Content-Length).
  /reset-once/OFFSET/  armed once per exact path (query excluded) since server
                       start: the first GET whose body span contains absolute
                       file offset OFFSET sends the head and the body bytes up
                       to OFFSET, waits (<= 2 s) until the kernel send queue is
                       drained, then resets the connection (SO_LINGER 0 +
                       close: a TCP RST, no TLS close_notify). With chunked the
                       cut may fall inside a chunk. Requests whose span does not
                       contain OFFSET are served normally and do not disarm it.
  /reset-head-once/    the first GET of this exact path sends half of the
                       response head, then resets as above.
  /no-range/           ignore Range: always 200 with the whole file.
  /stall-once/MS/      the first GET of this exact path sends the head and the
                       first half of the body, sleeps MS milliseconds, then
                       continues.

HEAD requests never fire or disarm the *-once behaviours.

--log F appends one JSON object per request and flushes it:
  {"method", "path" (without query), "query", "range", "status", "bytes"
   (body payload bytes sent), "conn" (connection id), "t" (unix time),
   "event" (null, "reset", "reset-head", "stall", "error", ...)}
TLS handshake failures are logged with "method": null and
"event": "tls-handshake-failed".

--error-log F records the server's own exceptions (tests/server/server_errors.py):
a harness fails when F is not empty.

On start it writes the port to --port-file (atomically: temp file + rename) and
prints "listening on http[s]://HOST:PORT". SIGTERM/SIGINT exit with status 0.
"""

import argparse
import base64
import email.utils
import hashlib
import http
import json
import os
import re
import secrets
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse

import server_errors

CHUNK_SIZES = (1, 7, 100, 1000, 4096)
REDIRECT_CODES = (301, 302, 303, 307, 308)
MAX_LINE = 16 * 1024
MAX_HEAD = 64 * 1024
SEND_BUF = 16 * 1024

VERBOSE = False


def vlog(msg):
    if VERBOSE:
        print(msg, file=sys.stderr, flush=True)


class ResetNow(Exception):
    """Raised inside the body writer when the connection must be reset."""


class ClientGone(Exception):
    pass


class BadRequest(Exception):
    def __init__(self, status, msg):
        super().__init__(msg)
        self.status = status
        self.msg = msg


class Request:
    def __init__(self, method, target, version, headers):
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers  # list of (name_lower, value)

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return None

    def header_tokens(self, name):
        out = []
        for k, v in self.headers:
            if k == name.lower():
                out += [t.strip().lower() for t in v.split(",") if t.strip()]
        return out


class Log:
    def __init__(self, path):
        self.lock = threading.Lock()
        self.f = open(path, "a", encoding="utf-8") if path else None

    def write(self, **rec):
        rec.setdefault("t", time.time())
        if VERBOSE:
            vlog("fota_server: " + json.dumps(rec))
        if not self.f:
            return
        line = json.dumps(rec, separators=(",", ":")) + "\n"
        with self.lock:
            self.f.write(line)
            self.f.flush()


class Server:
    def __init__(self, args):
        self.root = os.path.realpath(args.root)
        if not os.path.isdir(self.root):
            raise SystemExit(f"fota_server: --root {args.root} is not a directory")
        self.log = Log(args.log)
        self.idle_timeout = args.idle_timeout
        self.head_size = args.head_size
        self.ctx = None
        if args.cert or args.key:
            if not (args.cert and args.key):
                raise SystemExit("fota_server: --cert and --key must be given together")
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            if args.tls12:
                ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(args.cert, args.key)
            self.ctx = ctx
        self.scheme = "https" if self.ctx else "http"
        self.once_lock = threading.Lock()
        self.once_fired = set()
        self.conn_lock = threading.Lock()
        self.next_conn = 0
        self.md5_cache = {}
        self.md5_lock = threading.Lock()

        infos = socket.getaddrinfo(args.host, args.port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
        fam, stype, proto, _, addr = infos[0]
        self.sock = socket.socket(fam, stype, proto)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(addr)
        self.sock.listen(128)
        self.host = args.host
        self.port = self.sock.getsockname()[1]

    # -- once-only behaviours --------------------------------------------
    def fire_once(self, key):
        with self.once_lock:
            if key in self.once_fired:
                return False
            self.once_fired.add(key)
            return True

    def is_armed(self, key):
        with self.once_lock:
            return key not in self.once_fired

    def new_conn_id(self):
        with self.conn_lock:
            self.next_conn += 1
            return self.next_conn

    def file_md5(self, path, st):
        key = (path, st.st_mtime_ns, st.st_size)
        with self.md5_lock:
            v = self.md5_cache.get(key)
        if v is None:
            h = hashlib.md5()
            with open(path, "rb") as f:
                for blk in iter(lambda: f.read(1 << 16), b""):
                    h.update(blk)
            v = h.hexdigest()
            with self.md5_lock:
                self.md5_cache[key] = v
        return v

    def serve_forever(self):
        while True:
            try:
                s, addr = self.sock.accept()
            except OSError:
                time.sleep(0.01)
                continue
            cid = self.new_conn_id()
            t = threading.Thread(target=Connection(self, s, addr, cid).run,
                                 name=f"conn-{cid}", daemon=True)
            t.start()


def http_date(ts=None):
    return email.utils.formatdate(ts if ts is not None else time.time(), usegmt=True)


def reason(code):
    try:
        return http.HTTPStatus(code).phrase
    except ValueError:
        return "Status"


def parse_range(value, total):
    """Return None (ignore: serve 200), 'unsat' or (first, last) inclusive."""
    if value is None:
        return None
    m = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", value, re.IGNORECASE)
    if not m:
        return None  # malformed or multiple ranges: ignore (like S3)
    a, b = m.group(1), m.group(2)
    if a == "" and b == "":
        return None
    if a == "":
        n = int(b)
        if n == 0 or total == 0:
            return "unsat"
        return (max(0, total - n), total - 1)
    first = int(a)
    last = int(b) if b != "" else total - 1
    if b != "" and last < first:
        return None  # invalid spec: ignore the header
    if first >= total:
        return "unsat"
    return (first, min(last, total - 1))


class Body:
    """Buffered writer of a response body with cut (reset) and stall points.

    Offsets are absolute file offsets of the payload bytes."""

    def __init__(self, conn, pos, cut=None, stall=None, stall_ms=0):
        self.conn = conn
        self.pos = pos
        self.cut = cut
        self.stall = stall
        self.stall_ms = stall_ms
        self.buf = bytearray()
        self.sent = 0
        self.stalled = False

    def flush(self):
        if self.buf:
            self.conn.send(bytes(self.buf))
            self.buf.clear()

    def frame(self, b):
        self.buf += b
        if len(self.buf) >= SEND_BUF:
            self.flush()

    def _check_points(self):
        if self.stall is not None and not self.stalled and self.pos == self.stall:
            self.flush()
            self.stalled = True
            self.conn.event = "stall"
            vlog(f"fota_server: conn {self.conn.cid}: stalling {self.stall_ms} ms at {self.pos}")
            time.sleep(self.stall_ms / 1000.0)
        if self.cut is not None and self.pos == self.cut:
            self.flush()
            raise ResetNow()

    def data(self, b):
        mv = memoryview(b)
        while True:
            self._check_points()
            if not mv:
                return
            n = len(mv)
            for p in (self.cut, None if self.stalled else self.stall):
                if p is not None and self.pos < p < self.pos + n:
                    n = p - self.pos
            self.buf += mv[:n]
            self.pos += n
            self.sent += n
            mv = mv[n:]
            if len(self.buf) >= SEND_BUF:
                self.flush()


class Connection:
    def __init__(self, server, sock, addr, cid):
        self.srv = server
        self.raw = sock
        self.sock = sock
        self.addr = addr
        self.cid = cid
        self.rfile = None
        self.event = None

    # -- socket helpers ---------------------------------------------------
    def send(self, b):
        try:
            self.sock.sendall(b)
        except (OSError, ssl.SSLError) as e:
            raise ClientGone(str(e))

    def reset(self):
        """Abort the connection with a TCP RST once the send queue drained.

        For TLS the descriptor is closed without a close_notify."""
        try:
            fd = self.sock.fileno()
        except OSError:
            return
        if fd < 0:
            return
        deadline = time.monotonic() + 2.0
        try:
            import fcntl
            import termios
            while time.monotonic() < deadline:
                outq = struct.unpack("i", fcntl.ioctl(fd, termios.TIOCOUTQ, b"\0\0\0\0"))[0]
                if outq == 0:
                    break
                time.sleep(0.005)
        except Exception:
            time.sleep(0.05)
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            os.close(self.sock.detach())
        except OSError:
            pass

    def close(self):
        """Orderly close: close_notify (TLS), FIN, drain briefly, close."""
        try:
            self.sock.settimeout(0.5)
            if isinstance(self.sock, ssl.SSLSocket):
                try:
                    self.sock = self.sock.unwrap()
                except (OSError, ssl.SSLError, ValueError):
                    pass
            self.sock.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + 0.5
            while time.monotonic() < deadline:
                if not self.sock.recv(65536):
                    break
        except (OSError, ssl.SSLError, ValueError):
            pass
        self.abandon()

    def abandon(self):
        """Close the descriptor now, whatever references remain."""
        for s in (self.sock, self.raw):
            try:
                fd = s.detach()
                if fd >= 0:
                    os.close(fd)
            except OSError:
                pass

    # -- main loop --------------------------------------------------------
    def run(self):
        try:
            self.raw.settimeout(self.srv.idle_timeout)
            self.raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.srv.ctx is not None:
                try:
                    self.raw.settimeout(10)
                    s = self.srv.ctx.wrap_socket(self.raw, server_side=True,
                                                 do_handshake_on_connect=False)
                    s.do_handshake()
                    s.settimeout(self.srv.idle_timeout)
                    self.sock = s
                except (OSError, ssl.SSLError) as e:
                    self.srv.log.write(method=None, path=None, query=None, range=None,
                                       status=None, bytes=0, conn=self.cid,
                                       event="tls-handshake-failed", error=str(e))
                    self.abandon()
                    return
            self.rfile = self.sock.makefile("rb", buffering=65536)
            while True:
                try:
                    req = self.read_request()
                except BadRequest as e:
                    self.simple_response(None, e.status, e.msg, close=True)
                    break
                if req is None:
                    break
                keep = self.handle(req)
                if not keep:
                    break
            self.close()
        except ResetNow:
            self.reset()
        except (ClientGone, *server_errors.PEER_ERRORS):
            self.abandon()
        except Exception as e:  # a bug of the server's own: fail the test
            server_errors.record(f"fota_server: conn {self.cid}", e)
            self.abandon()

    def read_request(self):
        total = 0
        while True:
            try:
                line = self.rfile.readline(MAX_LINE + 1)
            except (OSError, ssl.SSLError, ValueError):
                return None
            if not line:
                return None
            if len(line) > MAX_LINE:
                raise BadRequest(414, "request line too long")
            if line.strip():
                break  # tolerate empty lines before a request (RFC 9112 2.2)
        total += len(line)
        parts = line.decode("latin-1").strip().split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            raise BadRequest(400, "malformed request line")
        method, target, version = parts
        headers = []
        while True:
            try:
                h = self.rfile.readline(MAX_LINE + 1)
            except (OSError, ssl.SSLError, ValueError):
                return None
            if not h:
                return None
            total += len(h)
            if len(h) > MAX_LINE or total > MAX_HEAD:
                raise BadRequest(431, "request header fields too large")
            if h in (b"\r\n", b"\n"):
                break
            s = h.decode("latin-1").rstrip("\r\n")
            if ":" not in s:
                raise BadRequest(400, "malformed header line")
            k, v = s.split(":", 1)
            headers.append((k.strip().lower(), v.strip()))
        req = Request(method, target, version, headers)
        # Discard a request body, if any.
        cl = req.header("content-length")
        if cl:
            try:
                n = int(cl)
            except ValueError:
                raise BadRequest(400, "bad Content-Length")
            while n > 0:
                b = self.rfile.read(min(n, 65536))
                if not b:
                    return None
                n -= len(b)
        elif "chunked" in req.header_tokens("transfer-encoding"):
            raise BadRequest(411, "chunked request bodies are not supported")
        return req

    # -- responses --------------------------------------------------------
    def base_headers(self, etag=None, mtime=None):
        return [
            ("x-amz-id-2", base64.b64encode(secrets.token_bytes(57)).decode()),
            ("x-amz-request-id", secrets.token_hex(8).upper()),
            ("Date", http_date()),
            ("Last-Modified", http_date(mtime)),
            ("ETag", f'"{etag}"'),
            ("Accept-Ranges", "bytes"),
        ]

    @staticmethod
    def head_bytes(code, headers):
        lines = [f"HTTP/1.1 {code} {reason(code)}"]
        lines += [f"{k}: {v}" for k, v in headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def wants_close(self, req):
        if req is None:
            return True
        tokens = req.header_tokens("connection")
        if "close" in tokens:
            return True
        if req.version == "HTTP/1.0" and "keep-alive" not in tokens:
            return True
        return False

    def simple_response(self, req, code, text, close=False, extra=(), path=None, query=None):
        """Small non-file response with Content-Length. Returns keep-alive."""
        close = close or self.wants_close(req)
        body = b""
        if code >= 200 and code not in (204, 304):
            body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                    f"<Message>{text}</Message><RequestId>{secrets.token_hex(8).upper()}"
                    f"</RequestId></Error>\n").encode()
        hdrs = self.base_headers(etag=hashlib.md5(body).hexdigest())
        hdrs += list(extra)
        hdrs.append(("Content-Type", "application/octet-stream"))
        if code >= 200 and code not in (204, 304):
            hdrs.append(("Content-Length", str(len(body))))
        hdrs.append(("Server", "AmazonS3"))
        if close:
            hdrs.append(("Connection", "close"))
        out = self.head_bytes(code, hdrs)
        is_head = req is not None and req.method == "HEAD"
        if not is_head:
            out += body
        # Log first, so the line exists once the client has the whole response.
        self.srv.log.write(method=req.method if req else None, path=path,
                           query=query, range=req.header("range") if req else None,
                           status=code, bytes=0 if is_head else len(body), conn=self.cid,
                           event=self.event)
        self.event = None
        self.send(out)
        return not close

    def handle(self, req):
        target = req.target
        # Absolute-form request target: strip scheme and authority.
        m = re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*", target)
        if m:
            target = target[m.end():] or "/"
        if not target.startswith("/"):
            target = "/" + target
        raw_path, _, query = target.partition("?")
        query = query if "?" in target else None
        log_path = raw_path

        if req.method not in ("GET", "HEAD"):
            return self.simple_response(req, 405, "method not allowed",
                                        extra=[("Allow", "GET, HEAD")],
                                        path=log_path, query=query)

        segs = raw_path.split("/")[1:]  # leading "" removed
        flags = {"chunked": False, "close": False, "no_range": False}
        action = None  # ("redirect", idx, n) or ("status", code)
        reset_at = None
        reset_head = False
        stall_ms = None
        i = 0
        try:
            while i < len(segs):
                s = segs[i]
                if s in ("chunked", "close", "no-range"):
                    flags[s.replace("-", "_")] = True
                    i += 1
                elif s == "reset-head-once":
                    reset_head = True
                    i += 1
                elif s in ("redirect", "status", "reset-once", "stall-once"):
                    if i + 1 >= len(segs) or not segs[i + 1].isdigit():
                        raise BadRequest(400, f"/{s}/ needs a numeric parameter")
                    n = int(segs[i + 1])
                    if s == "redirect":
                        if n > 0 and action is None:
                            action = ("redirect", i + 1, n)
                    elif s == "status":
                        if not 100 <= n <= 999:
                            raise BadRequest(400, "bad status code")
                        if action is None:
                            action = ("status", n)
                    elif s == "reset-once":
                        reset_at = n
                    else:
                        stall_ms = n
                    i += 2
                else:
                    break
        except BadRequest as e:
            return self.simple_response(req, e.status, e.msg, path=log_path, query=query)
        file_segs = segs[i:]
        close = flags["close"] or self.wants_close(req)

        if action and action[0] == "redirect":
            _, idx, n = action
            new_segs = list(segs)
            new_segs[idx] = str(n - 1)
            loc = "/" + "/".join(new_segs)
            if query is not None:
                loc += "?" + query
            if n % 2 == 1:
                loc = f"{self.srv.scheme}://{self.authority(req)}{loc}"
            code = REDIRECT_CODES[n % len(REDIRECT_CODES)]
            return self.simple_response(req, code, f"redirect {n}", close=close,
                                        extra=[("Location", loc)], path=log_path, query=query)
        if action and action[0] == "status":
            return self.simple_response(req, action[1], f"status {action[1]}", close=close,
                                        path=log_path, query=query)

        # -- file lookup ----------------------------------------------------
        rel = urllib.parse.unquote("/".join(file_segs))
        full = os.path.realpath(os.path.join(self.srv.root, rel))
        if full != self.srv.root and not full.startswith(self.srv.root + os.sep):
            return self.simple_response(req, 403, "AccessDenied", close=close,
                                        path=log_path, query=query)
        try:
            st = os.stat(full)
            if not os.path.isfile(full):
                raise FileNotFoundError
        except OSError:
            return self.simple_response(req, 404, "NoSuchKey", close=close,
                                        path=log_path, query=query)
        total = st.st_size
        etag = self.srv.file_md5(full, st)

        rng = None if flags["no_range"] else parse_range(req.header("range"), total)
        if rng == "unsat":
            return self.simple_response(
                req, 416, "InvalidRange", close=close,
                extra=[("Content-Range", f"bytes */{total}")], path=log_path, query=query)

        hdrs = self.base_headers(etag=etag, mtime=st.st_mtime)
        if rng is None:
            code, first, end = 200, 0, total
        else:
            code, first, end = 206, rng[0], rng[1] + 1
            hdrs.append(("Content-Range", f"bytes {first}-{end - 1}/{total}"))
        hdrs.append(("Content-Type", "application/octet-stream"))
        if flags["chunked"]:
            hdrs.append(("Transfer-Encoding", "chunked"))
            hdrs.append(("Trailer", "x-fota-trailer"))
        else:
            hdrs.append(("Content-Length", str(end - first)))
        hdrs.append(("Server", "AmazonS3"))
        if close:
            hdrs.append(("Connection", "close"))
        if self.srv.head_size:
            pad = self.srv.head_size - len(self.head_bytes(code, hdrs)) - len("x-amz-version-id: \r\n")
            if pad > 0:
                version = (secrets.token_urlsafe(pad) * 2)[:pad]
                hdrs.insert(2, ("x-amz-version-id", version))
        head = self.head_bytes(code, hdrs)

        once_key = raw_path
        is_get = req.method == "GET"
        cut = stall = None
        if is_get and reset_head and self.srv.fire_once(("reset-head", once_key)):
            self.srv.log.write(method=req.method, path=log_path, query=query,
                               range=req.header("range"), status=code, bytes=0,
                               conn=self.cid, event="reset-head")
            self.send(head[: len(head) // 2])
            raise ResetNow()
        if (is_get and reset_at is not None and first <= reset_at < end
                and self.srv.fire_once(("reset", once_key))):
            cut = reset_at
            self.event = "reset"
        if is_get and stall_ms is not None and self.srv.fire_once(("stall", once_key)):
            stall = first + (end - first) // 2

        body = Body(self, first, cut=cut, stall=stall, stall_ms=stall_ms or 0)
        body.frame(head)
        try:
            if is_get:
                with open(full, "rb") as f:
                    f.seek(first)
                    remaining = end - first
                    if flags["chunked"]:
                        k = 0
                        while remaining > 0:
                            n = min(CHUNK_SIZES[k % len(CHUNK_SIZES)], remaining)
                            data = f.read(n)
                            if len(data) != n:
                                raise ClientGone("file shrank while serving")
                            size = f"{n:X}" if k % 2 else f"{n:x}"
                            ext = ";ext=1" if k % 3 == 2 else ""
                            body.frame(f"{size}{ext}\r\n".encode())
                            body.data(data)
                            body.frame(b"\r\n")
                            remaining -= n
                            k += 1
                        body._check_points()
                        body.frame(b"0\r\nx-fota-trailer: done\r\n\r\n")
                    else:
                        while remaining > 0:
                            data = f.read(min(remaining, 65536))
                            if not data:
                                raise ClientGone("file shrank while serving")
                            body.data(data)
                            remaining -= len(data)
                        body._check_points()
            # Log before the last flush, so the line exists once the client
            # has the whole response.
            self.srv.log.write(method=req.method, path=log_path, query=query,
                               range=req.header("range"), status=code, bytes=body.sent,
                               conn=self.cid, event=self.event)
            self.event = None
            body.flush()
        except ResetNow:
            self.srv.log.write(method=req.method, path=log_path, query=query,
                               range=req.header("range"), status=code, bytes=body.sent,
                               conn=self.cid, event="reset")
            raise
        except ClientGone as e:
            self.srv.log.write(method=req.method, path=log_path, query=query,
                               range=req.header("range"), status=code, bytes=body.sent,
                               conn=self.cid, event="error", error=str(e))
            raise
        return not close

    def authority(self, req):
        host = req.header("host")
        if host:
            if host.startswith("["):
                name = host[: host.find("]") + 1] if "]" in host else host
            else:
                name = host.rsplit(":", 1)[0] if ":" in host else host
        else:
            name = self.srv.host
            if ":" in name:
                name = f"[{name}]"
        return f"{name}:{self.srv.port}"


def write_port_file(path, port):
    d = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(d, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        f.write(f"{port}\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main():
    global VERBOSE
    ap = argparse.ArgumentParser(description="S3-like HTTP/1.1 test server for fota-rs")
    ap.add_argument("--root", required=True, help="directory to serve")
    ap.add_argument("--cert", help="server certificate (PEM): enables HTTPS")
    ap.add_argument("--key", help="server private key (PEM)")
    ap.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    ap.add_argument("--port-file", help="write the bound port number here")
    ap.add_argument("--log", help="append one JSON line per request here")
    ap.add_argument("--tls12", action="store_true", help="limit TLS to version 1.2 (like the modem)")
    ap.add_argument("--idle-timeout", type=float, default=60.0,
                    help="close idle connections after this many seconds (default 60)")
    ap.add_argument("--head-size", type=int, default=0,
                    help="pad file responses' heads to this many bytes (default 0: no padding)")
    ap.add_argument("-v", "--verbose", action="store_true", help="log requests to stderr")
    ap.add_argument("--error-log", help="append the server's own exceptions here")
    args = ap.parse_args()
    VERBOSE = args.verbose
    server_errors.install(args.error_log)

    def on_signal(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    try:
        srv = Server(args)
    except (OSError, ssl.SSLError) as e:
        print(f"fota_server: cannot start: {e}", file=sys.stderr)
        return 1
    if args.port_file:
        write_port_file(args.port_file, srv.port)
    host = f"[{srv.host}]" if ":" in srv.host else srv.host
    print(f"listening on {srv.scheme}://{host}:{srv.port}", flush=True)
    try:
        srv.serve_forever()
    except SystemExit:
        pass
    finally:
        try:
            srv.sock.close()
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
