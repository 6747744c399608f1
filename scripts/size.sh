#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# scripts/size.sh: flash, static RAM, context and stack of fota-rs on the
# nRF9160 (Cortex-M33, hard-float ABI), and the panic paths linked (`make size`).
#
# 1. The Rust staticlib for thumbv8m.main-none-eabihf with Debian's toolchain
#    (rustc-web / cargo-web and rust-web-src for -Zbuild-std), into its own
#    target directory (target/size/cargo) so host builds are not disturbed,
#    with -Z emit-stack-sizes for the per-function frame sizes.
# 2. the compat layer (compat/*.c) with the nRF9160 flags, -fstack-usage.
# 3. Two links with newlib's nosys.specs and --gc-sections: tests/size/main.c
#    (init + start, the whole download path) with the project, and the same
#    harness without it (-DSIZE_BASELINE).
# 4. tests/size/report.py: sizes per origin from the linker map, the largest
#    symbols, the engine context (fota_rs::capi::G), the deepest direct call
#    chain and the panic paths.
#
# Last line (also in target/size/summary.txt):
#   flash_bytes=N static_ram_bytes=N context_bytes=N max_stack_bytes=N panic_paths=N
# Exit 0 when everything built and linked; the panic check is mk/size.mk's.
#
# Environment: CARGO (default /usr/bin/cargo), RUSTC (default the rustc beside
# it: ~/.cargo/bin comes first on PATH and its rustc has no rust-src for this
# target), CC (default arm-none-eabi-gcc), OUT (default target/size),
# SIZE_CARGO_FLAGS (which build; unset or empty: the one an application gets
# from the Kconfig defaults, below; the word "minimal": the smallest build
# Kconfig can select, every optional part and log record out; the word
# "every-part": Cargo's default features, every optional part at INF with the
# log text, what host builds carry; anything else: cargo flags as given, e.g.
# "--no-default-features --features log-off,redirects").
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# The flash budgets (tests/size/report.py): the engine's 20 KiB for the
# minimal build, what every build carries; issue 16's 24 KiB for the build
# the Kconfig defaults give. Other builds only report their size.
FLASH_TARGET=()
# The Cargo features cmake/fota_rs_rust.cmake passes for the Kconfig defaults
# of issue 16's application: an nRF9160 with the modem library and MCUboot,
# log level INF, no settings subsystem (so no progress save: it depends on
# SETTINGS), FOTA_RS_FRAG_FIT 0. tests/cmake/check_features.cmake reads this
# line and checks it against that mapping, tests/kconfig/check_kconfig.py
# the Kconfig defaults it starts from.
KCONFIG_DEFAULT_FEATURES=modem-delta,b1,image-checks,redirects,log-max-info
case "${SIZE_CARGO_FLAGS:-}" in
"")
	SIZE_CARGO_FLAGS="--no-default-features --features $KCONFIG_DEFAULT_FEATURES"
	FLASH_TARGET=(--flash-target kconfig-default)
	;;
minimal)
	SIZE_CARGO_FLAGS="--no-default-features --features log-off"
	FLASH_TARGET=(--flash-target engine)
	;;
every-part) SIZE_CARGO_FLAGS="" ;;
esac

TRIPLE=thumbv8m.main-none-eabihf
OUT=${OUT:-$ROOT/target/size}
CARGO=${CARGO:-/usr/bin/cargo}
RUSTC=${RUSTC:-$(dirname "$CARGO")/rustc}
CC=${CC:-arm-none-eabi-gcc}
PREFIX=${CC%gcc}

die() { echo "size.sh: error: $*" >&2; exit 1; }
[ -x "$CARGO" ] || die "$CARGO missing (scripts/setup.sh --arm installs Debian's cargo-web)"
[ -x "$RUSTC" ] || die "$RUSTC missing (scripts/setup.sh --arm installs rustc-web)"
command -v "$CC" >/dev/null || die "$CC missing (scripts/setup.sh --arm installs gcc-arm-none-eabi)"
mkdir -p "$OUT"

echo "== $("$CARGO" --version), $("$RUSTC" --version), $("$CC" --version | head -1)"
# Stack sizes are a code-generation option: the library has its own target
# directory, so this does not rebuild anything else.
# shellcheck disable=SC2086 # SIZE_CARGO_FLAGS is a list of words
env RUSTC="$RUSTC" RUSTC_BOOTSTRAP=1 RUSTFLAGS="${RUSTFLAGS:-} -Z emit-stack-sizes" \
	"$CARGO" build --release -p fota-rs --target "$TRIPLE" \
	-Zbuild-std=core,compiler_builtins -Zbuild-std-features=compiler-builtins-mem \
	--target-dir "$OUT/cargo" --quiet ${SIZE_CARGO_FLAGS:-}
LIB="$OUT/cargo/$TRIPLE/release/libfota_rs.a"
[ -f "$LIB" ] || die "$LIB was not built"

ARCH=(-mcpu=cortex-m33 -mthumb -mfloat-abi=hard -mfpu=fpv5-sp-d16)
CFLAGS=("${ARCH[@]}" -Os -ffunction-sections -fdata-sections -std=c11 -Wall -Wextra -Werror
	-fstack-usage -I"$ROOT/include" -I"$ROOT/compat/include" -I"$ROOT/compat")
LDFLAGS=("${ARCH[@]}" --specs=nosys.specs -Wl,--gc-sections -Wl,--no-warn-rwx-segments)
rm -f "$OUT"/*.su "$OUT"/*.o
cc1() { "$CC" "${CFLAGS[@]}" -c "$@"; }
(cd "$OUT" &&
	for src in "$ROOT"/compat/*.c; do cc1 "$src" -o "compat_$(basename "$src" .c).o" || exit 1; done &&
	"$CC" -r -nostdlib compat_*.o -o compat.o &&
	cc1 "$ROOT/tests/size/main.c" -o main.o &&
	cc1 "$ROOT/tests/arm/compat_shim/stub_port.c" -o stub_port.o &&
	cc1 -DSIZE_BASELINE "$ROOT/tests/size/main.c" -o main_base.o)

# crtn.o of Debian's toolchain lacks .note.GNU-stack; ld's note about it is
# noise here.
link() { # link OUT.elf objects...
	local elf=$1
	shift
	"$CC" "${LDFLAGS[@]}" -Wl,-Map="${elf%.elf}.map" "$@" -o "$elf" 2>"${elf%.elf}.link.log" ||
		{ cat "${elf%.elf}.link.log" >&2; die "link of $elf failed"; }
}
# The Rust archive after the C library and libgcc, as the Zephyr build links
# it (CMakeLists.txt, "Where the Rust archive goes"): C objects bind to the C
# library's memcpy/memset/memcmp/strlen, and compiler_builtins serves only
# what Rust alone needs (its __aeabi_mem* and the memcpy/memset they call).
# Linked before them, its weak memcpy and memset won for the whole image and
# were counted as the project's.
link "$OUT/fota.elf" "$OUT/main.o" "$OUT/compat.o" "$OUT/stub_port.o" -lc -lgcc "$LIB"
link "$OUT/base.elf" "$OUT/main_base.o" "$OUT/stub_port.o"

# The image really holds the download path (the report would be meaningless
# with an empty one).
# (Whole outputs into grep: with pipefail, grep -q closing the pipe early
# would fail the producer.)
syms=$("${PREFIX}nm" "$OUT/fota.elf")
grep -qE ' T fota_rs_start$' <<<"$syms" || die "fota_rs_start not linked"
attrs=$("${PREFIX}readelf" -A "$OUT/fota.elf")
grep -q 'Tag_ABI_VFP_args: VFP registers' <<<"$attrs" || die "fota.elf is not hard-float ABI"

python3 "$ROOT/tests/size/report.py" --elf "$OUT/fota.elf" --map "$OUT/fota.map" \
	--baseline-elf "$OUT/base.elf" --baseline-map "$OUT/base.map" --su "$OUT" \
	--tools "$PREFIX" --json "$OUT/report.json" "${FLASH_TARGET[@]}" | tee "$OUT/report.txt"
tail -n 1 "$OUT/report.txt" >"$OUT/summary.txt"
