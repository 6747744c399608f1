# SPDX-License-Identifier: Apache-2.0
"""Shared pieces of scripts/soak.py and scripts/powerloss.py: fixtures
(certificates, signed images), the fault server, fota-sim runs and the
either/or check of the promise:

    exit 0  -> the slot holds the image byte for byte, verified, and the
               upgrade is requested (scripts/check-slot.py)
    exit !0 -> an ERROR: line names a stage, and the trailer page is erased
"""

import json
import os
import signal
import subprocess
import sys
import time

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
SIM = os.path.join(ROOT, "target", "release", "fota-sim")
SERVER = os.path.join(ROOT, "tests", "faults", "fault_server.py")
CHECK_SLOT = os.path.join(ROOT, "scripts", "check-slot.py")
PAGE = 4096


def sh(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed:\n{r.stdout}{r.stderr}")
    return r


def fixtures(name, images):
    """Certificates and signed images under target/<name>.

    images: {file name: (payload size, version, seed)}. Returns the dir."""
    d = os.path.join(ROOT, "target", name)
    www = os.path.join(d, "www")
    os.makedirs(www, exist_ok=True)
    sh([os.path.join(ROOT, "scripts", "make-certs.sh"), os.path.join(d, "certs")])
    key = os.path.join(d, "key.pem")
    if not os.path.exists(key):
        sh(["imgtool", "keygen", "-t", "ecdsa-p256", "-k", key])
    for fname, (size, version, seed) in images.items():
        out = os.path.join(www, fname)
        if not os.path.exists(out):
            sh([sys.executable, os.path.join(ROOT, "scripts", "make-image.py"), "--out", out,
                "--size", str(size), "--version", version, "--seed", str(seed), "--key", key])
    if not os.access(SIM, os.X_OK):
        sys.exit(f"{SIM} missing: run 'cargo build --release -p fota-sim' first")
    return d


class FaultServer:
    """tests/faults/fault_server.py on 127.0.0.1; use as a context manager."""

    def __init__(self, fixdir, tls, tag, extra=()):
        self.fixdir = fixdir
        self.tls = tls
        work = os.path.join(fixdir, f"srv-{tag}-{os.getpid()}")
        os.makedirs(work, exist_ok=True)
        self.port_file = os.path.join(work, "port")
        self.plain_file = os.path.join(work, "plain-port")
        self.log_path = os.path.join(work, "log.jsonl")
        self.errors_path = os.path.join(work, "errors.log")
        for p in (self.port_file, self.plain_file, self.log_path, self.errors_path):
            if os.path.exists(p):
                os.remove(p)
        cmd = [sys.executable, SERVER, "--root", os.path.join(fixdir, "www"),
               "--port-file", self.port_file, "--log", self.log_path,
               "--error-log", self.errors_path, *extra]
        if tls:
            cmd += ["--cert", os.path.join(fixdir, "certs", "server.pem"),
                    "--key", os.path.join(fixdir, "certs", "server.key"),
                    "--plain-port-file", self.plain_file]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        self.port = self.plain_port = None
        t0 = time.monotonic()
        while self.port is None:
            if self.proc.poll() is not None:
                sys.exit("fault server exited at start")
            try:
                self.port = int(open(self.port_file).read())
                if tls:
                    self.plain_port = int(open(self.plain_file).read())
            except (OSError, ValueError):
                if time.monotonic() - t0 > 10:
                    sys.exit("fault server did not start")
                time.sleep(0.02)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        early = self.proc.poll()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.check(early)

    def check(self, early=None):
        """Exit when the server died early or raised exceptions of its own."""
        if early is not None:
            sys.exit(f"fault server exited during the run (status {early})")
        try:
            with open(self.errors_path, encoding="utf-8") as f:
                errors = f.read()
        except OSError:
            errors = ""
        if errors:
            sys.exit(f"fault server raised exceptions of its own ({self.errors_path}):\n{errors}")

    def url(self, fault, fname="app.bin"):
        prefix = f"/fault/{fault}" if fault else ""
        if self.tls:
            return f"https://fota.test:{self.port}{prefix}/{fname}"
        return f"http://127.0.0.1:{self.port}{prefix}/{fname}"

    def sim_args(self, fault, fname="app.bin"):
        a = [self.url(fault, fname)]
        if self.tls:
            a += ["--sec-tag", "42", "--resolve", f"fota.test:{self.port}:127.0.0.1",
                  "--resolve", f"fota.test:{self.plain_port}:127.0.0.1"]
        a += ["--cred-dir", os.path.join(self.fixdir, "certs", "creds")]
        return a

    def log(self):
        try:
            with open(self.log_path, encoding="utf-8") as f:
                return [json.loads(line) for line in f if line.strip()]
        except OSError:
            return []


def trailer_erased(slot):
    try:
        with open(slot, "rb") as f:
            data = f.read()
    except OSError:
        return True  # nothing written at all
    return len(data) >= PAGE and data[-PAGE:] == b"\xff" * PAGE


def check_slot(slot, image, expect="test"):
    """Return None when the slot holds `image` with the trailer `expect`."""
    r = subprocess.run([sys.executable, CHECK_SLOT, "--flash", slot, "--image", image,
                        "--expect", expect], capture_output=True, text=True)
    return None if r.returncode == 0 else (r.stdout + r.stderr).strip()


def error_line(stdout):
    for line in stdout.splitlines():
        if "ERROR:" in line and "stage=" in line:
            return line
    return None


def promise(code, stdout, slot, image, expect="test"):
    """The either/or. Returns a violation text, or None."""
    if code == 0:
        bad = check_slot(slot, image, expect)
        return f"exit 0 but the slot is wrong: {bad}" if bad else None
    if error_line(stdout) is None:
        return f"exit {code} without an ERROR: line naming a stage"
    if not trailer_erased(slot):
        return f"exit {code} but the trailer page is written"
    return None


def field(line, key):
    """`key=value` from a diagnostic line."""
    for tok in (line or "").split():
        if tok.startswith(key + "="):
            return tok[len(key) + 1:]
    return None
