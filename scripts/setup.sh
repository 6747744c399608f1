#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install what the demo and the tests need on a fresh Debian machine. Safe to
# run again: each step is skipped when its tool is already there.
#   setup.sh          host tools (demo, tests)
#   setup.sh --arm    also the ARM toolchain (Debian's rustc-web with its
#                     library source, arm-none-eabi-gcc) for the target build
set -euo pipefail
cd "$(dirname "$0")/.."

want_arm=0
[ "${1:-}" = "--arm" ] && want_arm=1

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

pkgs=()
need_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed' || pkgs+=("$1"); }
for p in gcc make pkg-config libssl-dev openssl curl python3 python3-pip cmake libclang-dev valgrind binutils; do
  need_pkg "$p"
done
if [ $want_arm = 1 ]; then
  for p in gcc-arm-none-eabi libnewlib-arm-none-eabi rustc-web cargo-web rust-web-src; do need_pkg "$p"; done
fi
if [ ${#pkgs[@]} -gt 0 ]; then
  echo "setup: apt-get install ${pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${pkgs[@]}" >/dev/null
fi

# Python tools: imgtool makes and verifies real MCUboot images; kconfiglib
# parses the module's Kconfig.
py=python3
missing_py=()
$py -c 'import imgtool' 2>/dev/null || missing_py+=(imgtool)
$py -c 'import kconfiglib' 2>/dev/null || missing_py+=(kconfiglib)
if [ ${#missing_py[@]} -gt 0 ]; then
  echo "setup: pip install ${missing_py[*]}"
  $py -m pip install -q "${missing_py[@]}" 2>/dev/null \
    || $py -m pip install -q --break-system-packages "${missing_py[@]}"
fi
command -v imgtool >/dev/null || { echo "setup: imgtool is not on PATH after pip install" >&2; exit 1; }

# Header generators, pinned so the committed headers compare byte for byte.
export PATH="$HOME/.cargo/bin:$PATH"
if ! cbindgen --version 2>/dev/null | grep -q '0.29.4'; then
  echo "setup: cargo install cbindgen 0.29.4"
  cargo install --locked --quiet cbindgen --version 0.29.4
fi
if ! bindgen --version 2>/dev/null | grep -q '0.73.2'; then
  echo "setup: cargo install bindgen-cli 0.73.2"
  cargo install --locked --quiet bindgen-cli --version 0.73.2
fi
rustup component list --installed 2>/dev/null | grep -q clippy || rustup component add clippy rustfmt
# Fuzzing (make test runs each target briefly): nightly and cargo-fuzz.
# (The machine images ship nightly; rustup reaches no other registry here.)
rustup toolchain list 2>/dev/null | grep -q '^nightly' || rustup toolchain install nightly --profile minimal \
  || echo "setup: WARNING: no nightly toolchain: the fuzz targets cannot run" >&2
command -v cargo-fuzz >/dev/null || cargo install --locked --quiet cargo-fuzz --version 0.13.2 \
  || cargo install --locked --quiet cargo-fuzz
echo "setup: done"
