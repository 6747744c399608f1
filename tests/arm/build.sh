#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# tests/arm/build.sh [--build-rust]
#
# Links the C that needs no Zephyr (compat/*.c) plus a stub port
# and a minimal main against the Rust core built for the nRF9160's CPU
# (Cortex-M33, hard-float ABI), with arm-none-eabi-gcc and newlib's
# nosys.specs. Nothing runs: the point is that the C <-> Rust boundary
# resolves for the device ABI. Two links:
#
#   normal  compat defines fota_download_*              (CONFIG_FOTA_DOWNLOAD=n)
#   wrap    compat defines __wrap_fota_download_*, a fake NCS object defines
#           the plain names, and -Wl,--wrap redirects   (CONFIG_FOTA_DOWNLOAD=y)
#
# --build-rust first builds the library:
#   RUSTC_BOOTSTRAP=1 cargo build --release --target thumbv8m.main-none-eabihf \
#     -Zbuild-std=core,compiler_builtins \
#     -Zbuild-std-features=compiler-builtins-mem -p fota-rs --lib
# (-p fota-rs --lib: the workspace's default members include the std-only
# simulator.) CARGO defaults to /usr/bin/cargo when present, with the rustc
# beside it (Debian's rustc finds its own rust-src; rustup's may not).
#
# Environment: CARGO, RUSTC, CC (arm-none-eabi-gcc), FOTA_RS_LIB (path of
# libfota_rs.a), OUT (build directory, default target/arm-compat-shim).
#
# Prints "N passed, M failed" last; exits 1 on any failure.

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SHIM="$ROOT/tests/arm/compat_shim"
TRIPLE=thumbv8m.main-none-eabihf
LIB=${FOTA_RS_LIB:-$ROOT/target/$TRIPLE/release/libfota_rs.a}
OUT=${OUT:-$ROOT/target/arm-compat-shim}
CC=${CC:-arm-none-eabi-gcc}
PREFIX=${CC%gcc}

# The nRF9160's CPU and the ABI Zephyr uses with CONFIG_FP_HARDABI=y.
ARCH_FLAGS=(-mcpu=cortex-m33 -mthumb -mfloat-abi=hard -mfpu=fpv5-sp-d16)
CFLAGS=("${ARCH_FLAGS[@]}" -std=c11 -Os -g -Wall -Wextra
	-ffunction-sections -fdata-sections
	-I"$ROOT/include" -I"$ROOT/compat/include" -I"$ROOT/compat")
LDFLAGS=("${ARCH_FLAGS[@]}" --specs=nosys.specs -Wl,--gc-sections)

# Every public fota_download_* of NCS; the same list as CMakeLists.txt.
NCS_SYMBOLS=(fota_download_init fota_download_start fota_download_start_with_image_type
	fota_download_cancel fota_download_target fota_download_s0_active_get
	fota_download fota_download_any fota_download_with_host_cfg fota_download_b1_file_parse)
# The ones compat/include/net/fota_download.h (NCS v2.0 API) declares; the
# compat layer must provide these in both modes.
COMPAT_SYMBOLS=(fota_download_init fota_download_start fota_download_start_with_image_type
	fota_download_cancel fota_download_target fota_download_s0_active_get)

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}

command -v "$CC" >/dev/null || { fail "$CC not found (apt-get install gcc-arm-none-eabi)"; finish; }
mkdir -p "$OUT"

if [ "${1:-}" = "--build-rust" ]; then
	if [ -z "${CARGO:-}" ]; then
		if [ -x /usr/bin/cargo ]; then CARGO=/usr/bin/cargo; else CARGO=cargo; fi
	fi
	if [ -z "${RUSTC:-}" ] && [ -x "$(dirname "$(command -v "$CARGO")")/rustc" ]; then
		RUSTC="$(dirname "$(command -v "$CARGO")")/rustc"
	fi
	echo "building $LIB with $CARGO (rustc: ${RUSTC:-from PATH})"
	if (cd "$ROOT" && env ${RUSTC:+RUSTC="$RUSTC"} RUSTC_BOOTSTRAP=1 "$CARGO" build --release \
		--target "$TRIPLE" -Zbuild-std=core,compiler_builtins \
		-Zbuild-std-features=compiler-builtins-mem -p fota-rs --lib); then
		pass "cargo build for $TRIPLE"
	else
		fail "cargo build for $TRIPLE"
		finish
	fi
fi

if [ ! -f "$LIB" ]; then
	fail "$LIB missing; run: tests/arm/build.sh --build-rust"
	finish
fi

compile() { # compile <out.o> <src> [extra flags...]
	local out=$1 src=$2
	shift 2
	if "$CC" "${CFLAGS[@]}" "$@" -c "$src" -o "$OUT/$out" 2>"$OUT/$out.log"; then
		pass "compile $(basename "$src") $*"
		return 0
	fi
	cat "$OUT/$out.log"
	fail "compile $(basename "$src") $*"
	return 1
}

# The compat layer's sources, as one relocatable object (the symbol checks
# below read one object): compile_compat <out.o> [extra flags...]
compile_compat() {
	local out=$1 src objs=()
	shift
	for src in "$ROOT"/compat/*.c; do
		compile "${out%.o}_$(basename "$src" .c).o" "$src" "$@" || return 1
		objs+=("$OUT/${out%.o}_$(basename "$src" .c).o")
	done
	"$CC" -r -nostdlib "${objs[@]}" -o "$OUT/$out"
}

# --- normal mode: compat provides fota_download_* ---------------------------

ok=1
compile main.o "$SHIM/main.c" || ok=0
compile stub_port.o "$SHIM/stub_port.c" || ok=0
compile_compat compat.o || ok=0

if [ $ok -eq 1 ]; then
	if "$CC" "${LDFLAGS[@]}" "$OUT/main.o" "$OUT/compat.o" "$OUT/stub_port.o" "$LIB" \
		-Wl,-Map="$OUT/shim.map" -o "$OUT/shim.elf" 2>"$OUT/link.log"; then
		pass "link shim.elf against $(basename "$LIB")"

		# The VFP argument ABI of the image; a soft-float object in the
		# mix would have failed the link already, this pins it down.
		# (Output captured first: `cmd | grep -q` under pipefail fails
		# whenever grep exits before cmd finishes writing.)
		attrs=$("${PREFIX}readelf" -A "$OUT/shim.elf")
		syms=$("${PREFIX}nm" "$OUT/shim.elf")
		if grep -q "Tag_ABI_VFP_args: VFP registers" <<<"$attrs"; then
			pass "shim.elf uses the hard-float (VFP registers) ABI"
		else
			fail "shim.elf is not hard-float ABI"
		fi
		# The Rust core really is in the image, reached through compat.
		if grep -qE " T fota_rs_init$" <<<"$syms"; then
			pass "fota_rs_init (Rust) linked in"
		else
			fail "fota_rs_init not in shim.elf"
		fi
		"${PREFIX}size" "$OUT/shim.elf"
	else
		cat "$OUT/link.log"
		fail "link shim.elf"
	fi
else
	fail "link shim.elf (not attempted: compile failed)"
fi

# --- wrap mode: NCS's implementation present, calls redirected --------------

ok=1
compile_compat compat_wrap.o -DFOTA_RS_COMPAT_WRAP_NCS=1 || ok=0
compile fake_ncs.o "$SHIM/fake_ncs_fota_download.c" || ok=0

if [ $ok -eq 1 ]; then
	defined=$("${PREFIX}nm" --defined-only "$OUT/compat_wrap.o" | awk '{print $3}')
	for sym in "${COMPAT_SYMBOLS[@]}"; do
		if grep -qx "__wrap_$sym" <<<"$defined"; then
			pass "wrap mode: compat defines __wrap_$sym"
		else
			fail "wrap mode: compat does not define __wrap_$sym"
		fi
		if grep -qx "$sym" <<<"$defined"; then
			fail "wrap mode: compat still defines $sym (clashes with NCS's)"
		fi
	done

	wrap_flags=()
	for sym in "${NCS_SYMBOLS[@]}"; do wrap_flags+=("-Wl,--wrap=$sym"); done
	if "$CC" "${LDFLAGS[@]}" "${wrap_flags[@]}" "$OUT/main.o" "$OUT/compat_wrap.o" \
		"$OUT/fake_ncs.o" "$OUT/stub_port.o" "$LIB" -o "$OUT/shim_wrap.elf" \
		2>"$OUT/link_wrap.log"; then
		pass "link shim_wrap.elf with -Wl,--wrap and a fake NCS fota_download"
		calls=$("${PREFIX}objdump" -d "$OUT/shim_wrap.elf" |
			awk '/<main>:/{m=1;next} /^$/{m=0} m && /bl/' )
		if grep -q "<__wrap_fota_download_init>" <<<"$calls" &&
			grep -q "<__wrap_fota_download_start>" <<<"$calls" &&
			! grep -qE "<fota_download_(init|start)>" <<<"$calls"; then
			pass "main calls __wrap_fota_download_init/_start, never NCS's"
		else
			echo "$calls"
			fail "main's calls are not redirected to __wrap_*"
		fi
	else
		cat "$OUT/link_wrap.log"
		fail "link shim_wrap.elf"
	fi
else
	fail "link shim_wrap.elf (not attempted: compile failed)"
fi

finish
