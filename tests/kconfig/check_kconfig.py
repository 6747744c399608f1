#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Check the module's Kconfig without a Zephyr tree.

Parses Kconfig with kconfiglib (`pip install kconfiglib`) on top of
tests/kconfig/zephyr_stub.Kconfig, which stands in for the Zephyr/NCS symbols
it depends on, and checks:

  * it parses, with no warning and no reference to an undefined symbol;
  * the defaults (FRAG_SIZE=2048, URL_MAX_LEN=1024, PIPELINE_DEPTH=6, ...);
  * the dependencies (REPLACE_NCS follows FOTA_DOWNLOAD, PROGRESS_SAVE needs
    SETTINGS, SHELL needs SHELL, the MCUboot target needs MCUboot, the modem
    delta target and its erase bound need NRF_MODEM_LIB, ...);
  * the ranges (PIPELINE_DEPTH 1-8, URL/HOST limits);
  * every CONFIG_FOTA_RS* named in a .c/.h/.cmake/CMakeLists.txt/.conf file
    of the repository (target/ and build/ excluded) is defined;
  * every CONFIG_FOTA_RS* assignment in a .conf file takes effect;
  * each sample's prj.conf, alone and with each of its NCS generation
    fragments (ncs-*.conf), loads as Zephyr's kconfig.py would accept it: no
    select of a symbol whose dependencies are unmet, every assignment to a
    symbol the stub models takes effect. The stub models NCS v2.0's
    DFU_TARGET -> STREAM_FLASH_ERASE chain, and a control case shows the
    check fails when IMG_ERASE_PROGRESSIVELY is missing.

Prints `N passed, M failed` last; exits 1 on any failure.

Usage: python3 tests/kconfig/check_kconfig.py
"""

import glob
import io
import os
import re
import sys
import tempfile
from contextlib import redirect_stderr, redirect_stdout

try:
    import kconfiglib
except ImportError:
    print("kconfiglib is not installed: pip install kconfiglib", file=sys.stderr)
    print("0 passed, 1 failed")
    sys.exit(1)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
STUB = os.path.join(HERE, "zephyr_stub.Kconfig")

# Stand-in for zephyr/subsys/logging/Kconfig.template.log_config: same
# symbols ($(module)_LOG_LEVEL_* choice and the int $(module)_LOG_LEVEL),
# same defaults, written out at run time under a temporary $srctree so the
# module's `source "subsys/logging/Kconfig.template.log_config"` resolves.
LOG_TEMPLATE = """\
choice
	prompt "Max compiled-in log level for $(module-str)"
	default $(module)_LOG_LEVEL_DEFAULT
	depends on LOG

config $(module)_LOG_LEVEL_OFF
	bool "Off"

config $(module)_LOG_LEVEL_ERR
	bool "Error"

config $(module)_LOG_LEVEL_WRN
	bool "Warning"

config $(module)_LOG_LEVEL_INF
	bool "Info"

config $(module)_LOG_LEVEL_DBG
	bool "Debug"

config $(module)_LOG_LEVEL_DEFAULT
	bool "Default"

endchoice

config $(module)_LOG_LEVEL
	int
	depends on LOG
	default 0 if $(module)_LOG_LEVEL_OFF
	default 1 if $(module)_LOG_LEVEL_ERR
	default 2 if $(module)_LOG_LEVEL_WRN
	default 3 if $(module)_LOG_LEVEL_INF
	default 4 if $(module)_LOG_LEVEL_DBG
	default LOG_DEFAULT_LEVEL if $(module)_LOG_LEVEL_DEFAULT
"""

SCAN_EXCLUDE_DIRS = {".git", "target", "build"}
CONFIG_REF = re.compile(r"\bCONFIG_(FOTA_RS(?:_[A-Z0-9_]+)?)\b")
CONF_LINE = re.compile(r"^\s*CONFIG_(FOTA_RS(?:_[A-Z0-9_]+)?)=(.*?)\s*$")
ANY_CONF_LINE = re.compile(r"^\s*CONFIG_([A-Z0-9_]+)=(.*?)\s*$")
# kconfiglib's text for a select that overrides unmet dependencies; Zephyr's
# kconfig.py turns every warning into "Aborting due to Kconfig warnings".
SELECT_WARNING = "but is currently being"

passed = 0
failed = 0


def check(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"PASS {what}")
    else:
        failed += 1
        print(f"FAIL {what}" + (f": {detail}" if detail else ""))


def new_kconf():
    """Parse the stub + module Kconfig; return (kconf, warnings)."""
    sink = io.StringIO()
    with redirect_stdout(sink), redirect_stderr(sink):
        kconf = kconfiglib.Kconfig(STUB, warn_to_stderr=False)
    return kconf, list(kconf.warnings)


def is_number(name):
    try:
        int(name, 0)
        return True
    except ValueError:
        return False


def setv(kconf, **values):
    for name, val in values.items():
        sym = kconf.syms[name]
        if not sym.set_value(val):
            raise RuntimeError(f"cannot set {name}={val}")


def base(kconf):
    """The configuration a typical nRF9160 app starts from."""
    setv(kconf, NETWORKING="y", NET_SOCKETS="y", FOTA_RS="y")


def val(kconf, name):
    return kconf.syms[name].str_value


def scan_repo_references():
    """{symbol: [files]} for every CONFIG_FOTA_RS* in the scanned file types."""
    refs = {}
    for root, dirs, files in os.walk(REPO):
        rel_root = os.path.relpath(root, REPO)
        top = rel_root.split(os.sep)[0]
        if top in SCAN_EXCLUDE_DIRS:
            dirs[:] = []
            continue
        dirs[:] = [d for d in dirs if d not in SCAN_EXCLUDE_DIRS]
        for f in files:
            if not (f.endswith((".c", ".h", ".cmake", ".conf"))
                    or f == "CMakeLists.txt"):
                continue
            path = os.path.join(root, f)
            try:
                text = open(path, encoding="utf-8", errors="replace").read()
            except OSError:
                continue
            for m in CONFIG_REF.finditer(text):
                refs.setdefault(m.group(1), set()).add(os.path.relpath(path, REPO))
    return refs


def conf_files():
    out = []
    for root, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in SCAN_EXCLUDE_DIRS]
        if os.path.relpath(root, REPO).split(os.sep)[0] in SCAN_EXCLUDE_DIRS:
            continue
        out += [os.path.join(root, f) for f in files if f.endswith(".conf")]
    return sorted(out)


def sample_configs():
    """[(label, [files])]: each sample's prj.conf alone, or with each of its
    NCS generation fragments (samples/<name>/ncs-*.conf) in turn."""
    out = []
    samples = os.path.join(REPO, "samples")
    for name in sorted(os.listdir(samples)):
        prj = os.path.join(samples, name, "prj.conf")
        if not os.path.isfile(prj):
            continue
        frags = sorted(glob.glob(os.path.join(samples, name, "ncs-*.conf")))
        if not frags:
            out.append((f"samples/{name}/prj.conf", [prj]))
        for frag in frags:
            out.append((f"samples/{name}/prj.conf + {os.path.basename(frag)}", [prj, frag]))
    return out


def load_like_zephyr(files):
    """Load prj.conf and its fragments in order, as Zephyr does, and evaluate
    every symbol (as kconfig.py does) so that select warnings are raised."""
    kconf, _ = new_kconf()
    sink = io.StringIO()
    with redirect_stdout(sink), redirect_stderr(sink):
        for i, path in enumerate(files):
            kconf.load_config(path, replace=(i == 0))
        for sym in kconf.unique_defined_syms:
            sym.str_value
    return kconf


def modeled_assignments(files):
    """{symbol: value} assigned in the files to symbols the stub or the module
    defines (the rest, MEMFAULT_* and such, are not modelled here)."""
    kconf, _ = new_kconf()
    out = {}
    for path in files:
        with open(path, encoding="utf-8") as f:
            for line in f:
                m = ANY_CONF_LINE.match(line)
                if m and m.group(1) in kconf.syms and kconf.syms[m.group(1)].nodes:
                    v = m.group(2)
                    out[m.group(1)] = v[1:-1] if v.startswith('"') and v.endswith('"') else v
    return out


def main():
    srctree = tempfile.mkdtemp(prefix="fota_rs_kconfig_")
    tmpl_dir = os.path.join(srctree, "subsys", "logging")
    os.makedirs(tmpl_dir)
    with open(os.path.join(tmpl_dir, "Kconfig.template.log_config"), "w") as f:
        f.write(LOG_TEMPLATE)
    os.environ["srctree"] = srctree
    os.environ["ZEPHYR_FOTA_RS_MODULE_DIR"] = REPO
    # Zephyr's own kconfig.py sets these; kconfiglib only reads them.
    os.environ.setdefault("KCONFIG_WARN_UNDEF", "y")

    # --- parsing ---------------------------------------------------------
    try:
        kconf, warnings = new_kconf()
    except kconfiglib.KconfigError as e:
        check(False, "Kconfig parses", str(e))
        print(f"{passed} passed, {failed} failed")
        return 1
    check(True, "Kconfig parses with kconfiglib")
    check(not warnings, "no Kconfig warnings", "; ".join(warnings))

    # kconfiglib keeps unquoted numbers (range bounds, int defaults) in
    # kconf.syms as node-less symbols, and MODULES is its built-in m-symbol.
    undefined = sorted(name for name, s in kconf.syms.items()
                       if not s.nodes and name != "MODULES" and not is_number(name))
    check(not undefined, "every referenced symbol is defined (module or stub)",
          ", ".join(undefined))

    module_syms = sorted(n for n, s in kconf.syms.items()
                         if n.startswith("FOTA_RS") and s.nodes)
    print("     module symbols: " + " ".join(module_syms))

    # --- visibility ------------------------------------------------------
    kconf, _ = new_kconf()
    check(val(kconf, "FOTA_RS") == "n" and kconf.syms["FOTA_RS"].visibility == 0,
          "FOTA_RS is hidden without NET_SOCKETS")

    # --- defaults --------------------------------------------------------
    kconf, _ = new_kconf()
    base(kconf)
    expected = {
        "FOTA_RS": "y",
        "FOTA_RS_FRAG_SIZE": "2048",
        "FOTA_RS_FRAG_FIT": "0",
        "FOTA_RS_URL_MAX_LEN": "1024",
        "FOTA_RS_HOST_MAX_LEN": "128",
        "FOTA_RS_RETRIES": "3",
        "FOTA_RS_RETRY_BACKOFF_MS": "1000",
        "FOTA_RS_SOCKET_TIMEOUT_MS": "30000",
        "FOTA_RS_FALLBACK_SEC_TAGS": "",
        "FOTA_RS_ALLOW_TLS_IP_LITERAL": "n",
        "FOTA_RS_PROGRESS_EVT": "y",
        "FOTA_RS_PIPELINE_DEPTH": "6",
        "FOTA_RS_THREAD_STACK_SIZE": "4096",
        "FOTA_RS_THREAD_PRIORITY": "14",
        "FOTA_RS_PERMANENT": "n",
        "FOTA_RS_MAX_REDIRECTS": "5",
        "FOTA_RS_B1_IMAGES": "y",
        "FOTA_RS_CARGO": "cargo",
        "FOTA_RS_BUILD_STD": "n",
        "FOTA_RS_RUST_DEBUG": "n",
        "FOTA_RS_LOG_TEXT": "n",
        "FOTA_RS_REPLACE_NCS": "n",
        "FOTA_RS_PROGRESS_SAVE": "n",
        "FOTA_RS_SHELL": "n",
        "FOTA_RS_TARGET_MCUBOOT": "n",
        "FOTA_RS_TARGET_MODEM_DELTA": "n",
        # Depends on FOTA_RS_TARGET_MCUBOOT.
        "FOTA_RS_ALLOW_UNCONFIRMED_OVERWRITE": "n",
        # An int whose dependency is off has no value at all.
        "FOTA_RS_MODEM_DELTA_ERASE_TIMEOUT": "",
        "FOTA_RS_LOG_LEVEL": "3",
    }
    for name, want in expected.items():
        got = val(kconf, name)
        check(got == want, f"default {name}={want!r}", f"got {got!r}")

    # The download thread's stack (docs/performance.md, "The download
    # thread's stack"): 4096 measured for deferred logging; the P-256
    # arithmetic of the signature check needs about 7 KiB, immediate
    # logging formats on the thread; an explicit value still wins.
    kconf, _ = new_kconf()
    base(kconf)
    setv(kconf, FOTA_RS_SIGNATURE="y")
    check(val(kconf, "FOTA_RS_THREAD_STACK_SIZE") == "8192",
          "FOTA_RS_SIGNATURE=y raises the FOTA_RS_THREAD_STACK_SIZE default to 8192",
          val(kconf, "FOTA_RS_THREAD_STACK_SIZE"))
    setv(kconf, FOTA_RS_THREAD_STACK_SIZE="10240")
    check(val(kconf, "FOTA_RS_THREAD_STACK_SIZE") == "10240",
          "an explicit FOTA_RS_THREAD_STACK_SIZE wins over that default")
    kconf, _ = new_kconf()
    base(kconf)
    setv(kconf, LOG_MODE_IMMEDIATE="y")
    check(val(kconf, "FOTA_RS_THREAD_STACK_SIZE") == "4608",
          "LOG_MODE_IMMEDIATE=y raises the FOTA_RS_THREAD_STACK_SIZE default to 4608",
          val(kconf, "FOTA_RS_THREAD_STACK_SIZE"))
    setv(kconf, FOTA_RS_SIGNATURE="y")
    check(val(kconf, "FOTA_RS_THREAD_STACK_SIZE") == "8192",
          "with both, FOTA_RS_SIGNATURE's 8192 applies",
          val(kconf, "FOTA_RS_THREAD_STACK_SIZE"))

    # --- dependencies ----------------------------------------------------
    kconf, _ = new_kconf()
    base(kconf)
    setv(kconf, FOTA_DOWNLOAD="y")
    check(val(kconf, "FOTA_RS_REPLACE_NCS") == "y",
          "FOTA_RS_REPLACE_NCS=y when FOTA_DOWNLOAD=y")

    kconf, _ = new_kconf()
    base(kconf)
    setv(kconf, SETTINGS="y")
    check(val(kconf, "FOTA_RS_PROGRESS_SAVE") == "y",
          "FOTA_RS_PROGRESS_SAVE defaults to y with SETTINGS")
    kconf, _ = new_kconf()
    base(kconf)
    check(kconf.syms["FOTA_RS_PROGRESS_SAVE"].visibility == 0,
          "FOTA_RS_PROGRESS_SAVE hidden without SETTINGS")

    kconf, _ = new_kconf()
    base(kconf)
    check(kconf.syms["FOTA_RS_SHELL"].visibility == 0,
          "FOTA_RS_SHELL hidden without SHELL")
    setv(kconf, SHELL="y")
    check(kconf.syms["FOTA_RS_SHELL"].set_value("y") and val(kconf, "FOTA_RS_SHELL") == "y",
          "FOTA_RS_SHELL settable with SHELL")

    kconf, _ = new_kconf()
    base(kconf)
    check(kconf.syms["FOTA_RS_TARGET_MODEM_DELTA"].visibility == 0,
          "FOTA_RS_TARGET_MODEM_DELTA hidden without NRF_MODEM_LIB")
    check(kconf.syms["FOTA_RS_MODEM_DELTA_ERASE_TIMEOUT"].visibility == 0,
          "FOTA_RS_MODEM_DELTA_ERASE_TIMEOUT hidden without NRF_MODEM_LIB")

    # With the modem library the delta target is on by default (as NCS's
    # DFU_TARGET_MODEM_DELTA), with its erase bound; off, the bound goes too.
    kconf, _ = new_kconf()
    base(kconf)
    setv(kconf, NRF_MODEM_LIB="y")
    got = (val(kconf, "FOTA_RS_TARGET_MODEM_DELTA"),
           val(kconf, "FOTA_RS_MODEM_DELTA_ERASE_TIMEOUT"))
    check(got == ("y", "300"),
          "NRF_MODEM_LIB=y gives FOTA_RS_TARGET_MODEM_DELTA=y, ERASE_TIMEOUT=300", str(got))
    setv(kconf, FOTA_RS_TARGET_MODEM_DELTA="n")
    check(kconf.syms["FOTA_RS_MODEM_DELTA_ERASE_TIMEOUT"].visibility == 0
          and val(kconf, "FOTA_RS_MODEM_DELTA_ERASE_TIMEOUT") == "",
          "FOTA_RS_MODEM_DELTA_ERASE_TIMEOUT gone with FOTA_RS_TARGET_MODEM_DELTA=n")

    # The Kconfig defaults behind `make size`'s last line (issue 16's
    # application: an nRF9160 with the modem library, MCUboot, logging, no
    # settings subsystem). tests/cmake/check_features.cmake maps these values
    # to scripts/size.sh's KCONFIG_DEFAULT_FEATURES.
    kconf, _ = new_kconf()
    base(kconf)
    setv(kconf, NRF_MODEM_LIB="y")
    app = {"FOTA_RS_TARGET_MODEM_DELTA": "y", "FOTA_RS_B1_IMAGES": "y",
           "FOTA_RS_CHECK_LAYOUT": "y", "FOTA_RS_ALLOW_DOWNGRADE": "n",
           "FOTA_RS_MAX_REDIRECTS": "5", "FOTA_RS_PROGRESS_SAVE": "n",
           "FOTA_RS_FRAG_FIT": "0", "FOTA_RS_SIGNATURE": "n",
           "FOTA_RS_LOG_LEVEL": "3", "FOTA_RS_LOG_TEXT": "n"}
    got = {name: val(kconf, name) for name in app}
    check(got == app, "the defaults `make size` reports last (nRF9160, modem library, no SETTINGS)",
          str(got))

    # Ranges: a value outside is rejected (kconfiglib falls back to the
    # default, as Zephyr's kconfig does after its out-of-range warning).
    # Pipelining depth: 1 (NCS behaviour) to the core's cap 8; redirects:
    # 0 (the code left out) to 10.
    for name, default, limits, cases in (
            ("FOTA_RS_PIPELINE_DEPTH", "6", "1-8",
             (("1", True), ("8", True), ("0", False), ("9", False))),
            ("FOTA_RS_MAX_REDIRECTS", "5", "0-10",
             (("0", True), ("10", True), ("11", False)))):
        for want, ok in cases:
            kconf, _ = new_kconf()
            base(kconf)
            kconf.syms[name].set_value(want)
            got = val(kconf, name)
            check((got == want) if ok else (got == default and bool(kconf.warnings)),
                  f"{name}={want} " + ("accepted" if ok else f"rejected (range {limits})"),
                  f"got {got!r}")

    # BOOTLOADER_MCUBOOT alone: FOTA_RS implies the image manager, flash map
    # and page layout, so the MCUboot target comes on by default.
    kconf, _ = new_kconf()
    base(kconf)
    setv(kconf, BOOTLOADER_MCUBOOT="y")
    got = {n: val(kconf, n) for n in ("IMG_MANAGER", "MCUBOOT_IMG_MANAGER", "FLASH_MAP",
                                      "FLASH_PAGE_LAYOUT", "FOTA_RS_TARGET_MCUBOOT")}
    check(all(v == "y" for v in got.values()),
          "BOOTLOADER_MCUBOOT=y gives FOTA_RS_TARGET_MCUBOOT=y (implied deps)", str(got))
    check(val(kconf, "FOTA_RS_ALLOW_UNCONFIRMED_OVERWRITE") == "n",
          "with the MCUboot target, an unconfirmed image's way back is kept by default")

    # An app that turns the image manager off loses the target, cleanly.
    kconf, _ = new_kconf()
    base(kconf)
    setv(kconf, BOOTLOADER_MCUBOOT="y", IMG_MANAGER="n")
    check(val(kconf, "FOTA_RS_TARGET_MCUBOOT") == "n" and not kconf.warnings,
          "IMG_MANAGER=n gives FOTA_RS_TARGET_MCUBOOT=n without warnings")

    # Ranges reject values the core cannot take.
    kconf, _ = new_kconf()
    base(kconf)
    setv(kconf, FOTA_RS_URL_MAX_LEN="4096", FOTA_RS_HOST_MAX_LEN="1000")
    check(val(kconf, "FOTA_RS_URL_MAX_LEN") == "1024"
          and val(kconf, "FOTA_RS_HOST_MAX_LEN") == "128",
          "URL/HOST limits clamp to the core's maxima (1024/128)",
          f"{val(kconf, 'FOTA_RS_URL_MAX_LEN')}/{val(kconf, 'FOTA_RS_HOST_MAX_LEN')}")

    # --- every CONFIG_FOTA_RS* used in the repo is defined ---------------
    kconf, _ = new_kconf()
    refs = scan_repo_references()
    check(bool(refs), "found CONFIG_FOTA_RS* references in the repository")
    for name in sorted(refs):
        sym = kconf.syms.get(name)
        check(sym is not None and bool(sym.nodes), f"CONFIG_{name} is defined",
              "used in " + ", ".join(sorted(refs[name])))

    # --- .conf assignments take effect -----------------------------------
    for path in conf_files():
        assigns = {}
        with open(path, encoding="utf-8") as f:
            for line in f:
                m = CONF_LINE.match(line)
                if m:
                    v = m.group(2)
                    if v.startswith('"') and v.endswith('"'):
                        v = v[1:-1]
                    assigns[m.group(1)] = v
        if not assigns:
            continue
        kconf, _ = new_kconf()
        sink = io.StringIO()
        with redirect_stdout(sink), redirect_stderr(sink):
            # Other symbols of the file (MEMFAULT_*, LTE_*...) are not in the
            # stub; kconfiglib warns about them, which is expected here.
            kconf.load_config(path, replace=True)
        rel = os.path.relpath(path, REPO)
        for name, want in sorted(assigns.items()):
            got = val(kconf, name) if name in kconf.syms else None
            check(got == want, f"{rel}: CONFIG_{name}={want!r} takes effect",
                  f"got {got!r}")
        # What the file implies: an MCUboot app gets the MCUboot target, an
        # app with NCS's fota_download gets the link-time replacement.
        if val(kconf, "FOTA_RS") == "y":
            if val(kconf, "BOOTLOADER_MCUBOOT") == "y":
                check(val(kconf, "FOTA_RS_TARGET_MCUBOOT") == "y",
                      f"{rel}: FOTA_RS_TARGET_MCUBOOT=y (MCUboot app)")
            check(val(kconf, "FOTA_RS_REPLACE_NCS") == val(kconf, "FOTA_DOWNLOAD"),
                  f"{rel}: FOTA_RS_REPLACE_NCS follows FOTA_DOWNLOAD "
                  f"({val(kconf, 'FOTA_DOWNLOAD')})")

    # --- samples per NCS generation, as Zephyr's kconfig.py sees them ------
    configs = sample_configs()
    check(any("+ ncs-" in label for label, _ in configs),
          "the samples have NCS generation fragments (ncs-*.conf)")
    for label, files in configs:
        kconf = load_like_zephyr(files)
        selects = [w for w in kconf.warnings if SELECT_WARNING in w]
        check(not selects, f"{label}: no select with unmet dependencies",
              " | ".join(w.splitlines()[0] for w in selects))
        for name, want in sorted(modeled_assignments(files).items()):
            got = val(kconf, name)
            check(got == want, f"{label}: CONFIG_{name}={want!r} takes effect", f"got {got!r}")
        # Control: the check above would see NCS v2.0's stop. Without
        # IMG_ERASE_PROGRESSIVELY, DFU_TARGET_MCUBOOT selects DFU_TARGET_STREAM
        # whose STREAM_FLASH_ERASE dependency nothing else satisfies.
        if val(kconf, "DFU_TARGET_MCUBOOT") == "y":
            kconf.syms["IMG_ERASE_PROGRESSIVELY"].set_value("n")
            sink = io.StringIO()
            with redirect_stdout(sink), redirect_stderr(sink):
                for sym in kconf.unique_defined_syms:
                    sym.str_value
            check(any(SELECT_WARNING in w and "DFU_TARGET_STREAM" in w
                      for w in kconf.warnings),
                  f"{label}: control: without IMG_ERASE_PROGRESSIVELY the "
                  "DFU_TARGET_STREAM select warns (the NCS v2.0 stop)")

    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
