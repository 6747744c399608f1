#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Size, stack and panic report of the fota-rs ARM image (scripts/size.sh).

    report.py --elf fota.elf --map fota.map --baseline-elf base.elf
              --baseline-map base.map --su DIR [--tools arm-none-eabi-]
              [--top 15] [--json OUT]

Attribution: every input section the linker kept is charged, through the
map file, to the object it came from: the Rust staticlib (per crate), the
compatibility layer (compat.o), the size harness (main.o, stub_port.o: not
counted), or the toolchain's libraries. The baseline image (same harness,
no project) tells how much of the C library the project pulls in.

Stack: frame sizes from the Rust objects' .stack_sizes section
(-Z emit-stack-sizes) and from gcc's -fstack-usage (.su files), summed
along the direct call graph read from the disassembly (bl, and b/b.w to a
function start as tail calls, counted as calls: an upper bound). What it
cannot see: calls through function pointers (the port table, the event
callback, trait objects such as core::fmt::Write and log::Log), frames of
functions without stack information (the C library), and recursion (cut
and reported).

Panic paths: symbols matching core::panicking or panic_bounds_check, and
the functions outside `core` that call into them.

The last line is machine-readable:
flash_bytes=N static_ram_bytes=N context_bytes=N max_stack_bytes=N panic_paths=N
"""

import argparse
import bisect
import glob
import json
import os
import re
import subprocess
import sys

FLASH_SECTIONS = (".text", ".rodata", ".ARM.exidx", ".ARM.extab")
RAM_SECTIONS = (".data", ".bss")
PANIC_RE = re.compile(r"core::panicking|panic_bounds_check")
# The budgets, here only (scripts/check-footprint.sh reads them from the
# JSON report): issue 5's 20 KiB for the engine (the minimal build), issue
# 16's 24 KiB for the build the Kconfig defaults give (INF records as ids),
# issue 5's 4 KiB of static RAM for every build. FLASH_BUDGET / RAM_BUDGET
# in the environment lower them, to check that the footprint check can
# fail.
FLASH_TARGETS = {
    "engine": ("the engine's, issue 5", int(os.environ.get("FLASH_BUDGET", 20 * 1024))),
    "kconfig-default": ("the Kconfig defaults', issue 16",
                        int(os.environ.get("FLASH_BUDGET", 24 * 1024))),
}
RAM_TARGET = int(os.environ.get("RAM_BUDGET", 4 * 1024))


def tool(prefix, name, *args):
    return subprocess.run([prefix + name, *args], check=True, stdout=subprocess.PIPE,
                          text=True).stdout


def origin_of(path):
    """(group, detail) for an input file named in the map."""
    base = os.path.basename(path)
    m = re.search(r"libfota_rs\.a\(([A-Za-z0-9_]+)-", path)
    if m:
        return "rust", m.group(1)
    if base == "compat.o":
        return "compat", base
    if base in ("main.o", "main_base.o", "stub_port.o"):
        return "harness", base
    m = re.search(r"(lib[a-z]+\.a)\(", path)
    return "toolchain", m.group(1) if m else base


def parse_map(path):
    """Kept input sections: list of (output section, input section, addr, size, origin path)."""
    with open(path) as f:
        text = f.read()
    i = text.find("Linker script and memory map")
    lines = text[i:].splitlines() if i >= 0 else []
    out, pending, cur = [], None, None
    for line in lines:
        m = re.match(r"^(\.[^\s]+|[A-Za-z_][^\s]*)(\s+0x[0-9a-f]+\s+0x[0-9a-f]+.*)?$", line)
        if m and not line.startswith(" "):
            cur = m.group(1)
            pending = None
            continue
        m = re.match(r"^ (\S+)\s*$", line)
        if m and not m.group(1).startswith("*"):
            pending = m.group(1)
            continue
        m = re.match(r"^ (\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$", line)
        if m:
            name = m.group(1) or pending
            pending = None
            if name is None or name.startswith("*"):
                continue
            size = int(m.group(3), 16)
            if size:
                out.append((cur, name, int(m.group(2), 16), size, m.group(4).strip()))
            continue
        pending = None if line.strip() and not line.startswith("                ") else pending
    return out


def tally(sections):
    """{group: {output section: bytes}} and {(group, detail): {...}}."""
    groups, details = {}, {}
    for outsec, _, _, size, origin in sections:
        g, d = origin_of(origin)
        groups.setdefault(g, {}).setdefault(outsec, 0)
        groups[g][outsec] += size
        details.setdefault((g, d), {}).setdefault(outsec, 0)
        details[(g, d)][outsec] += size
    return groups, details


def flash_ram(by_sec):
    text = by_sec.get(".text", 0)
    rodata = sum(by_sec.get(s, 0) for s in FLASH_SECTIONS if s != ".text")
    data = by_sec.get(".data", 0)
    bss = by_sec.get(".bss", 0)
    return text, rodata, data, bss


def symbols(prefix, elf):
    """(addr, size, type, demangled name) of every sized symbol."""
    out = []
    for line in tool(prefix, "nm", "-S", "-C", elf).splitlines():
        m = re.match(r"^([0-9a-f]+) ([0-9a-f]+) (\w) (.*)$", line)
        if m:
            out.append((int(m.group(1), 16) & ~1, int(m.group(2), 16), m.group(3), m.group(4)))
    return out


def all_symbol_names(prefix, elf):
    names = []
    for line in tool(prefix, "nm", "-C", elf).splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3:
            names.append(parts[2])
        elif len(parts) == 2:
            names.append(parts[1])
    return names


def read_uleb(b, i):
    v, shift = 0, 0
    while True:
        byte = b[i]
        i += 1
        v |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return v, i


def rust_stack_sizes(prefix, elf, tmp):
    path = os.path.join(tmp, "stack_sizes.bin")
    if os.path.exists(path):
        os.unlink(path)
    r = subprocess.run([prefix + "objcopy", f"--dump-section=.stack_sizes={path}", elf,
                        os.path.join(tmp, "discard.elf")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sizes = {}
    if r.returncode != 0 or not os.path.exists(path):
        return sizes
    b = open(path, "rb").read()
    i = 0
    while i + 4 <= len(b):
        addr = int.from_bytes(b[i:i + 4], "little") & ~1
        size, i = read_uleb(b, i + 4)
        sizes[addr] = size
    return sizes


def c_stack_sizes(su_dir):
    sizes = {}
    for su in glob.glob(os.path.join(su_dir, "*.su")):
        for line in open(su):
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 2:
                name = parts[0].rsplit(":", 1)[-1]
                sizes[name] = max(sizes.get(name, 0), int(parts[1]))
    return sizes


def disassemble(prefix, elf):
    """Functions {start: name} and edges {start: set(target starts)}, plus
    the starts of functions that make indirect calls."""
    text = tool(prefix, "objdump", "-d", "-C", "--no-show-raw-insn", elf)
    funcs, body = {}, {}
    cur = None
    for line in text.splitlines():
        m = re.match(r"^([0-9a-f]+) <(.*)>:$", line)
        if m:
            cur = int(m.group(1), 16)
            funcs[cur] = m.group(2)
            body[cur] = []
            continue
        m = re.match(r"^\s+([0-9a-f]+):\s+([a-z][\w.]*)\s*([^;@]*)", line)
        if m and cur is not None:
            body[cur].append((m.group(2), m.group(3).strip()))
    starts = set(funcs)
    edges, indirect = {}, set()
    for f, insns in body.items():
        e = set()
        for op, args in insns:
            if op in ("bl", "blx") or re.fullmatch(r"b(eq|ne|cs|hs|cc|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le|al)?(\.w|\.n)?", op):
                m = re.match(r"([0-9a-f]+)\b", args)
                if m:
                    t = int(m.group(1), 16)
                    if t in starts and t != f:
                        e.add(t)
                    continue
                if op == "blx":
                    indirect.add(f)
            elif op == "bx" and args.split()[0] not in ("lr",):
                indirect.add(f)
        edges[f] = e
    return funcs, edges, indirect


def worst_paths(funcs, edges, frame):
    """Deepest stack from each function (memoised DFS, cycles cut)."""
    memo, cycles = {}, set()
    on_stack = set()

    def visit(f):
        if f in memo:
            return memo[f]
        on_stack.add(f)
        best, best_path = 0, []
        for t in edges.get(f, ()):
            if t in on_stack:
                cycles.add((funcs[f], funcs[t]))
                continue
            d, p = visit(t)
            if d > best:
                best, best_path = d, p
        on_stack.discard(f)
        own = frame(f)
        memo[f] = ((own or 0) + best, [f] + best_path)
        return memo[f]

    sys.setrecursionlimit(100000)
    return visit, cycles


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--elf", required=True)
    ap.add_argument("--map", required=True)
    ap.add_argument("--baseline-elf", required=True)
    ap.add_argument("--baseline-map", required=True)
    ap.add_argument("--su", required=True, help="directory with the -fstack-usage .su files")
    ap.add_argument("--tools", default="arm-none-eabi-")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--json")
    ap.add_argument("--flash-target", choices=sorted(FLASH_TARGETS),
                    help="the flash budget this build is held to (none: it only reports)")
    a = ap.parse_args()
    tmp = os.path.dirname(os.path.abspath(a.elf))

    secs = parse_map(a.map)
    groups, details = tally(secs)
    base_groups, _ = tally(parse_map(a.baseline_map))
    rust = flash_ram(groups.get("rust", {}))
    compat = flash_ram(groups.get("compat", {}))
    libc_full = flash_ram(groups.get("toolchain", {}))
    libc_base = flash_ram(base_groups.get("toolchain", {}))
    libc = tuple(x - y for x, y in zip(libc_full, libc_base))
    proj = tuple(x + y for x, y in zip(rust, compat))
    flash = proj[0] + proj[1]
    ram = proj[2] + proj[3]

    def row(name, t):
        return (f"  {name:<34} text {t[0]:6}  rodata {t[1]:6}  data {t[2]:5}  bss {t[3]:5}"
                f"  = flash {t[0] + t[1]:6} (+{t[2]} data image), RAM {t[2] + t[3]:5}")

    print("== size (bytes), from the linker map; flash = text + rodata, static RAM = data + bss")
    print(row("Rust core (libfota_rs.a)", rust))
    for (g, d), by in sorted(details.items(), key=lambda kv: -sum(flash_ram(kv[1])[:3])):
        if g == "rust" and sum(flash_ram(by)):
            print(row(f"    crate {d}", flash_ram(by)))
    print(row("compat layer (compat.o)", compat))
    print(row("project total", proj))
    print(row("C library pulled in (vs baseline)", libc))
    if sum(libc) < 0:
        print("    (negative: the staticlib's compiler_builtins memset/memcpy replace newlib's)")
    flash_budget = FLASH_TARGETS[a.flash_target][1] if a.flash_target else None
    if flash_budget is not None:
        flash_note = (f"flash {flash} of {flash_budget} ({FLASH_TARGETS[a.flash_target][0]})"
                      f" ({'OK' if flash <= flash_budget else f'over by {flash - flash_budget}'})")
    else:
        flash_note = (f"flash {flash} (no budget for this build: the minimal build and the"
                      " Kconfig defaults have one)")
    print(f"  targets: {flash_note},"
          f" static RAM {ram} of {RAM_TARGET}"
          f" ({'OK' if ram <= RAM_TARGET else f'over by {ram - RAM_TARGET}'})")

    syms = symbols(a.tools, a.elf)
    ctx = [s for s in syms if s[3] in ("fota_rs::capi::G",) or s[3].endswith("::capi::G")]
    context = ctx[0][1] if ctx else 0
    ctx_sec = ctx[0][2] if ctx else "?"
    print(f"  engine context fota_rs::capi::G: {context} bytes"
          f" ({'.data: initialised, so also ' + str(context) + ' bytes of flash' if ctx_sec in 'dD' else '.bss' if ctx_sec in 'bB' else ctx_sec})")

    # Largest symbols of the project.
    ranges = sorted((addr, size, origin_of(o)) for _, _, addr, size, o in secs)
    starts = [r[0] for r in ranges]

    def owner(addr):
        k = bisect.bisect_right(starts, addr) - 1
        if k >= 0 and ranges[k][0] <= addr < ranges[k][0] + ranges[k][1]:
            return ranges[k][2]
        return ("?", "?")

    ours = [(s, owner(s[0])) for s in syms]
    ours = [(s, o) for s, o in ours if o[0] in ("rust", "compat")]
    print(f"== largest project symbols (flash), top {a.top}")
    for (addr, size, typ, name), (g, d) in sorted(
            [x for x in ours if x[0][2] in "tTrR"], key=lambda x: -x[0][1])[:a.top]:
        short = name if len(name) <= 110 else name[:107] + "..."
        print(f"  {size:6}  {typ}  {d:<12} {short}")
    print(f"== largest project symbols (RAM), top 5")
    for (addr, size, typ, name), (g, d) in sorted(
            [x for x in ours if x[0][2] in "dDbB"], key=lambda x: -x[0][1])[:5]:
        print(f"  {size:6}  {typ}  {d:<12} {name}")

    # Stack.
    funcs, edges, indirect = disassemble(a.tools, a.elf)
    rs = rust_stack_sizes(a.tools, a.elf, tmp)
    cs = c_stack_sizes(a.su)
    unknown = set()

    def frame(f):
        if f in rs:
            return rs[f]
        name = funcs[f]
        if name in cs:
            return cs[name]
        unknown.add(name)
        return None

    # A panic ends in the handler's endless loop: a halt, not a path the
    # download runs. Its frames are left out of the figure (the panic check
    # below is about them).
    panicky = {f for f, n in funcs.items()
               if PANIC_RE.search(n) or re.search(r"_fail\b|_fail_rt\b|do_panic|rust_begin_unwind", n)}
    run_edges = {f: {t for t in es if t not in panicky} for f, es in edges.items()}
    visit, cycles = worst_paths(funcs, run_edges, frame)
    by_name = {}
    for addr, name in funcs.items():
        by_name.setdefault(name, addr)
    roots = ["fota_download_init", "fota_download_start", "fota_rs::capi::worker_entry",
             "trampoline"]
    print("== stack: deepest direct call chain (bytes; .stack_sizes + -fstack-usage;"
          " panic paths left out)")
    print(f"  frames known: {len(rs)} Rust functions (.stack_sizes), {len(cs)} C functions (.su)")
    depth = {}
    for r in roots:
        if r not in by_name:
            print(f"  {r}: not in the image")
            continue
        unknown.clear()
        d, path = visit(by_name[r])
        depth[r] = d
        chain = " > ".join(f"{funcs[p]}({frame(p) if frame(p) is not None else '?'})"
                           for p in path)
        ind = sorted({funcs[p] for p in path if p in indirect})
        print(f"  {r}: {d} bytes: {chain}")
        if ind:
            print(f"    calls through pointers on this path (not followed): {', '.join(ind)[:300]}")
        unk = sorted({funcs[p] for p in path if frame(p) is None})
        if unk:
            print(f"    no frame size for: {', '.join(unk)}")
    if cycles:
        print(f"  recursion cut at: {'; '.join(f'{x} -> {y}' for x, y in sorted(cycles))[:400]}")
    max_stack = max(depth.get("fota_download_start", 0), depth.get("fota_rs::capi::worker_entry", 0))
    print(f"  download path: max of fota_download_start (caller's thread) and worker_entry"
          f" (download thread) = {max_stack} bytes; add the port functions' and the event"
          f" callback's frames (reached through pointers)")

    # Panic paths.
    names = all_symbol_names(a.tools, a.elf)
    panics = sorted({n for n in names if PANIC_RE.search(n)})
    panic_addrs = {addr for addr, name in funcs.items() if PANIC_RE.search(name)}
    # Who brings them: walk up from the panic functions through `core`
    # code (formatting, slice and str helpers, generic or not) to the first
    # caller of another crate. A core function nothing calls directly is
    # reached through a pointer (formatting traits): it is listed itself.
    def short(name, n=80):
        return name if len(name) <= n else name[:n - 3] + "..."

    def crate_of(name):
        m = re.match(r"^<*(?:&(?:mut )?)?([A-Za-z_][A-Za-z0-9_]*)::", name)
        return m.group(1) if m else "core"

    rev = {}
    for f, es in edges.items():
        for t in es:
            rev.setdefault(t, set()).add(f)
    callers, seen, todo = set(), set(panic_addrs), list(panic_addrs)
    while todo:
        t = todo.pop()
        ups = rev.get(t, set())
        if not ups and t not in panic_addrs:
            callers.add(("core", funcs[t] + "  [reached through a pointer]"))
        for f in ups:
            if f in seen:
                continue
            seen.add(f)
            c = crate_of(funcs[f])
            if c in ("core", "compiler_builtins", "__rustc"):
                todo.append(f)
            else:
                callers.add((c, f"{short(funcs[f], 110)}  -> {short(funcs[t])}"))
    print(f"== panic paths: {len(panics)} symbols matching core::panicking|panic_bounds_check"
          f" linked")
    for n in panics:
        print(f"  {n}")
    if callers:
        print("  called from (outside core):")
        for d, c in sorted(callers):
            print(f"    {d:<13} {c}")

    summary = {"flash_bytes": flash, "static_ram_bytes": ram, "context_bytes": context,
               "max_stack_bytes": max_stack, "panic_paths": len(panics)}
    if a.json:
        with open(a.json, "w") as f:
            # flash_budget is null for a build no flash target is for.
            json.dump({**summary, "flash_budget": flash_budget, "ram_budget": RAM_TARGET,
                       "rust": rust, "compat": compat, "libc_pulled_in": libc,
                       "stack": depth, "panic_symbols": panics,
                       "panic_callers": sorted(f"{d}: {c}" for d, c in callers)}, f, indent=1)
    print(" ".join(f"{k}={v}" for k, v in summary.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
