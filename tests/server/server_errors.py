# SPDX-License-Identifier: Apache-2.0
"""The test servers' own exceptions, recorded so that the tests fail on them.

A test server (fota_server.py, fault_server.py, fake_memfault.py) hitting a
bug of its own must not only drop the connection: the client would take it
for a network fault and might even pass. With --error-log F each server
appends every such exception, with its traceback, to F (created empty at
start); the harnesses fail when F is not empty: tests/common/mod.rs
(PyServer), tests/faults/harness.py, tests/server/test_fota_server.py and
tests/c/run.sh. A client that goes away (reset, broken pipe, TLS alert) is
not the server's error and is not recorded.
"""

import socket
import ssl
import sys
import threading
import traceback

# Raised when the peer goes away or misbehaves: part of the tests, not a bug.
PEER_ERRORS = (ConnectionError, ssl.SSLError, socket.timeout)

_path = None
_lock = threading.Lock()


def install(path):
    """Record to `path` (None: stderr only), threads' uncaught exceptions too."""
    global _path
    _path = path
    if path:
        open(path, "a", encoding="utf-8").close()
    threading.excepthook = lambda a: record(
        f"thread {a.thread.name if a.thread else '?'}", a.exc_value)


def record(where, exc):
    """Print and append one exception of the server's own."""
    text = f"{where}: " + "".join(
        traceback.format_exception(type(exc), exc, exc.__traceback__))
    print(text, file=sys.stderr, flush=True)
    if _path:
        with _lock, open(_path, "a", encoding="utf-8") as f:
            f.write(text)
            f.flush()
