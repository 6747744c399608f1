#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A Memfault-like device API for the fota-rs tests, on loopback.

    fake_memfault.py --project-key KEY --release SPEC [--release SPEC ...]
                     [--cert server.pem --key server.key] [--host 127.0.0.1]
                     [--port 0] [--port-file F] [--log F]

Answers only what `mflt_nrf fota` asks (Memfault SDK memfault_fota_start):

    GET /api/v0/releases/latest/url?device_serial=S&hardware_version=H
        &software_type=T&current_version=V
    Memfault-Project-Key: KEY

  401  the Memfault-Project-Key header is missing or not KEY (JSON error body,
       as the real API)
  400  a query parameter is missing
  200  text/plain body = the release's URL, when a --release matches
       hardware_version, software_type and current_version exactly
  204  no body, otherwise ("up to date")
  404  any other path

SPEC is "hardware_version=H,software_type=T,current_version=V,url=URL" (the URL
last: it may contain commas).

--log F appends one JSON object per request: {"method", "path", "query" (dict
of the decoded parameters), "key_ok", "status"}. On start the port is written
to --port-file (temp file + rename). --error-log F records the server's own
exceptions (tests/server/server_errors.py): a harness fails when F is not
empty. SIGTERM/SIGINT exit with status 0.
"""

import argparse
import json
import os
import signal
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server"))
import server_errors  # noqa: E402

FIELDS = ("device_serial", "hardware_version", "software_type", "current_version")
MATCH = ("hardware_version", "software_type", "current_version")


def parse_release(spec):
    head, sep, url = spec.partition("url=")
    if not sep or not url:
        raise argparse.ArgumentTypeError(f"--release {spec!r}: needs url=URL last")
    rel = {"url": url}
    for part in filter(None, head.split(",")):
        k, eq, v = part.partition("=")
        if not eq or k not in MATCH:
            raise argparse.ArgumentTypeError(f"--release {spec!r}: unknown field {k!r}")
        rel[k] = v
    missing = [k for k in MATCH if k not in rel]
    if missing:
        raise argparse.ArgumentTypeError(f"--release {spec!r}: missing {', '.join(missing)}")
    return rel


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-memfault/1"

    def log_message(self, fmt, *args):
        pass

    def _log(self, query, key_ok, status):
        if self.server.log_path:
            entry = {"method": self.command, "path": urlsplit(self.path).path,
                     "query": query, "key_ok": key_ok, "status": status}
            with self.server.log_lock, open(self.server.log_path, "a") as f:
                f.write(json.dumps(entry) + "\n")

    def _send(self, status, body=b"", ctype="text/plain"):
        self.send_response(status)
        if status != 204:
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 204 and self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        key_ok = self.headers.get("Memfault-Project-Key") == self.server.project_key
        if parts.path != "/api/v0/releases/latest/url":
            status, body, ctype = 404, b'{"error":{"message":"Not found"}}', "application/json"
        elif not key_ok:
            status, body, ctype = (401, b'{"error":{"code":1001,"message":"Invalid project key"}}',
                                   "application/json")
        elif any(f not in query for f in FIELDS):
            status, body, ctype = 400, b'{"error":{"message":"missing parameter"}}', \
                "application/json"
        else:
            rel = next((r for r in self.server.releases
                        if all(r[k] == query[k] for k in MATCH)), None)
            if rel is None:
                status, body, ctype = 204, b"", ""
            else:
                status, body, ctype = 200, rel["url"].encode(), "text/plain"
        self._log(query, key_ok, status)
        self._send(status, body, ctype)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        """A handler's exception: the client's doing, or a bug to fail on."""
        exc = sys.exc_info()[1]
        if not isinstance(exc, server_errors.PEER_ERRORS):
            server_errors.record(f"fake_memfault: request from {client_address}", exc)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--project-key", required=True)
    ap.add_argument("--release", type=parse_release, action="append", default=[])
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--log")
    ap.add_argument("--error-log", help="append the server's own exceptions here")
    a = ap.parse_args()
    server_errors.install(a.error_log)
    if a.host not in ("127.0.0.1", "::1", "localhost"):
        ap.error("loopback only")

    srv = Server((a.host, a.port), Handler)
    srv.project_key = a.project_key
    srv.releases = a.release
    srv.log_path = a.log
    srv.log_lock = threading.Lock()
    scheme = "http"
    if a.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        scheme = "https"
    port = srv.server_address[1]
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, a.port_file)
    print(f"listening on {scheme}://{a.host}:{port}", flush=True)

    def stop(*_):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
