#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Power-loss test: SIGKILL fota-sim at seeded random moments and restart it.

    powerloss.py [--downloads D] [--kills K] [--seed S] [--rate BYTES_PER_S]
                 [--max-seconds T] [-v]

Serves a signed image over real HTTPS on 127.0.0.1 from
tests/faults/fault_server.py, paced to --rate bytes/s so one download lasts a
few seconds. For each of D downloads it starts fota-sim with a fresh
`--state S --flash F`, kills it with SIGKILL K times at random moments
(a power cut: nothing in the process survives, what reached the file system
does), restarting it each time with the same --state and --flash, then lets
it finish. One download in three first gets part of a different image under
the same --state/--flash, so the saved progress must be recognised as
another download's and the slot started over. Downloads alternate between
HTTPS (2 KiB ranged fragments) and plain HTTP (one streamed GET).

Checked, per kill: the trailer page is erased unless the slot already holds
the whole image verified (no half image is ever scheduled), and the next run
resumes from the last whole page of the image that was in flash at the kill
(at most one page behind: progress is saved per page). Per download:
the final run exits 0 and scripts/check-slot.py finds the image byte for byte
with the TEST trailer. Over all: the bytes re-downloaded per interruption
(bytes served for the download, from the server's request log, minus the
image size, divided by the interruptions) stay below one fragment plus one
flash page. Prints the figures and "N passed, N failed" (downloads).
"""

import argparse
import os
import random
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "faults"))
import harness  # noqa: E402

FRAG = 2048
PAGE = 4096


def served(srv, tag):
    """Body bytes served for download `tag` (its unique URL path)."""
    path = f"/fault/run={tag}"
    return sum(rec.get("bytes") or 0 for rec in srv.log()
               if rec.get("method") == "GET" and (rec.get("path") or "").startswith(path + "/")
               and rec.get("status") in (200, 206))


def start(cmd, log):
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)


def in_flash(slot, image):
    """How many leading bytes of the image the slot holds."""
    try:
        with open(slot, "rb") as f:
            a = f.read(len(image))
    except OSError:
        return 0
    n = 0
    while n < len(a) and a[n:n + PAGE] == image[n:n + PAGE]:
        n += PAGE
    while n < len(a) and a[n] == image[n]:
        n += 1
    return n


def resumed_at(log_path, pos):
    """The offset a run resumed at (0: it started over), from its log."""
    with open(log_path, encoding="utf-8", errors="replace") as f:
        f.seek(pos)
        for line in f:
            if "Resuming" in line and " offset=" in line:
                return int(line.split(" offset=")[1].split()[0])
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--downloads", type=int, default=6)
    ap.add_argument("--kills", type=int, default=10, help="SIGKILLs per download")
    ap.add_argument("--seed", type=int, default=None, help="default: from the clock")
    ap.add_argument("--rate", type=float, default=40000.0, help="server pacing, bytes/s")
    ap.add_argument("--max-seconds", type=float, default=600.0)
    ap.add_argument("--min-kills", type=int, default=0,
                    help="fail unless at least this many kills landed mid-download")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else int(time.time()) % 1_000_000
    rng = random.Random(seed)
    print(f"powerloss: seed {seed}, {args.downloads} downloads x {args.kills} kills, "
          f"server paced at {args.rate:.0f} B/s", flush=True)

    fix = harness.fixtures("powerloss-fixtures", {"app.bin": (100000, "0.1.3", 1),
                                                   "other.bin": (80000, "0.2.0", 2)})
    image = os.path.join(fix, "www", "app.bin")
    size = os.path.getsize(image)
    with open(image, "rb") as f:
        image_bytes = f.read()
    other_size = os.path.getsize(os.path.join(fix, "www", "other.bin"))
    # A download lasts about size/rate; with cuts spread over twice its
    # share of that, the download ends around the last planned kill.
    window = max(0.1, 2.0 * size / args.rate / max(1, args.kills))
    work = os.path.join(fix, f"run-{os.getpid()}")
    os.makedirs(work, exist_ok=True)

    t0 = time.monotonic()
    failures = []
    figures = []  # (download, interruptions, served, overhead)
    kills_total = 0
    lag_worst = 0
    with harness.FaultServer(fix, True, "powerloss", ["--rate", str(args.rate)]) as srv:
        for d in range(args.downloads):
            if time.monotonic() - t0 > args.max_seconds:
                print("powerloss: time limit reached", flush=True)
                break
            slot = os.path.join(work, f"slot-{d}.bin")
            state = os.path.join(work, f"slot-{d}.state")
            for p in (slot, state):
                if os.path.exists(p):
                    os.remove(p)
            logf = open(os.path.join(work, f"sim-{d}.log"), "w")
            base = ["--flash", slot, "--state", state, "--frag-size", str(FRAG),
                    "--backoff-ms", "50", "--timeout-ms", "2000", "--quiet"]
            tag = f"{seed}.{d}"
            problem = None
            switched = d % 3 == 2
            other_served = 0
            if switched:
                # Part of another image first, same state and slot.
                otag = f"{seed}.{d}.other"
                p = start([harness.SIM, *srv.sim_args(f"run={otag}", "other.bin"), *base], logf)
                time.sleep(rng.uniform(0.3, 0.9) * other_size / args.rate)
                p.send_signal(signal.SIGKILL)
                p.wait()
                other_served = served(srv, otag)
            plain = d % 2 == 1
            if plain:
                # The same server's plain-http listener: one streamed GET,
                # resumed with Range: bytes=N-.
                url = f"http://127.0.0.1:{srv.plain_port}/fault/run={tag}/app.bin"
                cmd = [harness.SIM, url, *base]
            else:
                cmd = [harness.SIM, *srv.sim_args(f"run={tag}"), *base]
            interruptions = 0
            finished = False
            # Bytes of this image in flash at the last kill: the next run must
            # resume from the last whole page of them (progress saved per page).
            held = None

            def check_resume(pos):
                nonlocal lag_worst
                if held is None:
                    return None
                at = resumed_at(logf.name, pos)
                lag = held // PAGE * PAGE - at
                lag_worst = max(lag_worst, lag)
                if lag > PAGE:
                    return (f"{held} bytes were in flash at the kill but the next run "
                            f"resumed at {at}: progress was not saved")
                return None

            for k in range(args.kills):
                pos = os.path.getsize(logf.name)
                p = start(cmd, logf)
                time.sleep(rng.uniform(0.02, window))
                if p.poll() is not None:
                    # Ended before the cut: the download is over.
                    finished = True
                    if p.returncode != 0:
                        problem = f"run {k} failed with exit {p.returncode} before the kill"
                    break
                p.send_signal(signal.SIGKILL)
                p.wait()
                interruptions += 1
                problem = check_resume(pos)
                held = in_flash(slot, image_bytes)
                if problem:
                    break
                if not harness.trailer_erased(slot):
                    bad = harness.check_slot(slot, image)
                    if bad:
                        problem = f"after kill {k}: trailer written over a bad slot: {bad}"
                        break
            kills_total += interruptions
            if problem is None:
                if not finished:
                    pos = os.path.getsize(logf.name)
                    p = start(cmd, logf)
                    try:
                        p.wait(120)
                    except subprocess.TimeoutExpired:
                        p.kill()
                        p.wait()
                    problem = check_resume(pos)
                if problem:
                    pass
                elif p.returncode != 0:
                    problem = f"final run exited {p.returncode}"
                else:
                    bad = harness.check_slot(slot, image)
                    if bad:
                        problem = f"final slot wrong: {bad}"
            logf.close()
            total = served(srv, tag)
            over = total - size
            figures.append((d, interruptions, total, over, switched))
            per = over / interruptions if interruptions else 0.0
            status = "ok" if problem is None else f"FAILED: {problem}"
            what = ("http" if plain else "https") + (
                ", after part of another image" if switched else "")
            print(f"powerloss: download {d} ({what}):"
                  f" {interruptions} kills, {total} bytes served for a {size}-byte image, "
                  f"{over} re-downloaded ({per:.0f} per kill"
                  f"{f'; {other_served} of the other image' if switched else ''}): {status}",
                  flush=True)
            if problem:
                failures.append(f"download {d}: {problem} (log {logf.name})")

    kills = sum(f[1] for f in figures)
    over = sum(f[3] for f in figures)
    bound = FRAG + PAGE
    per = over / kills if kills else 0.0
    worst = max((f[3] / f[1] for f in figures if f[1]), default=0.0)
    print(f"\npowerloss: {len(figures)} downloads, {kills} kills in "
          f"{time.monotonic() - t0:.1f} s (seed {seed})")
    print(f"  resume point behind the last whole page in flash: at most {max(0, lag_worst)} "
          f"bytes (allowed: one page, {PAGE})")
    print(f"  re-downloaded per interruption: {per:.0f} bytes on average, {worst:.0f} worst "
          f"download (bound: fragment {FRAG} + page {PAGE} = {bound})")
    if kills < args.min_kills:
        failures.append(f"only {kills} kills landed mid-download, {args.min_kills} wanted")
    if kills and per >= bound:
        failures.append(f"re-downloaded {per:.0f} bytes per interruption, bound {bound}")
    for f in failures:
        print(f"FAILED: {f}")
    n_fail = len(failures)
    print(f"{max(0, len(figures) - n_fail)} passed, {n_fail} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
