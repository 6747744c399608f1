#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# scripts/host-sdk.sh [OUT]    (default OUT: build/host-sdk; `make host-sdk`)
#
# Builds the host SDK: what a C program on Linux needs to call the NCS
# fota_download_* API (or the native fota_rs_* API) with the fota-rs core
# behind it and the host port (POSIX sockets, OpenSSL, a file as flash).
#
#   OUT/include/net/fota_download.h   the NCS v2.0.0-form header (compat/include)
#   OUT/include/fota_rs.h, fota_rs/port.h, fota_rs/errno_map.h, fota_rs_port_host.h, fota_rs_platform.h
#   OUT/lib/libfota_rs_host.a         Rust core + compat layer + host port, one archive
#   OUT/lib/libfota_rs_core_host.a    Rust core + host port, without the compat layer,
#                                     for programs that compile the compat layer
#                                     themselves against another SDK's header
#   OUT/src/compat/*.c, *.h           that compat layer's sources
#   OUT/fota-rs-host.pc               pkg-config for libfota_rs_host.a
#   OUT/fota-rs-core-host.pc          pkg-config for libfota_rs_core_host.a
#
# and one header set and library per NCS API generation, for programs
# written against that NCS's <net/fota_download.h> (the compat layer
# compiled against the same header, so it behaves as that NCS does):
#
#   OUT/ncs-GEN/include/              net/fota_download.h, dfu/dfu_target.h,
#                                     ncs_version.h (3.0: net/downloader.h)
#   OUT/lib/libfota_rs_host_ncs_GEN.a
#   OUT/fota-rs-host-ncs-GEN.pc       GEN: v1.7, v2.0, v2.4, v2.6, v3.0
#
# fota-rs-host is the v2.0 form (fota-rs-host-ncs-v2.0 is the same API).
# The headers of v1.7, v2.4, v2.6 and v3.0 are the C API tests' fixtures
# (tests/c/ncs-*: this project's own text, the declarations checked by hand
# against sdk-nrf at the tag each names).
#
# Use:  cc app.c $(PKG_CONFIG_PATH=OUT pkg-config --cflags --libs fota-rs-host)
#
# The .pc files locate everything relative to themselves, so OUT can be
# moved. Environment: CARGO, CC, AR, RANLIB, OBJCOPY (the tools, by their
# usual names by default), HOST_SDK_TARGET_DIR (cargo's target directory for this build,
# default target/host-sdk), HOST_SDK_SANITIZE (a -fsanitize= list such as
# "address,undefined": the C parts are compiled with those sanitizers and the
# .pc files pass the same flags on, so programs built with them are too and
# link the sanitizers' runtimes; `make c-api-asan`. The Rust core is not
# instrumented: stable Rust has no sanitizer option, and ASan still checks
# every access the C parts make to memory the core hands them).

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$(realpath -m -- "${1:-$ROOT/build/host-sdk}")
CARGO=${CARGO:-cargo}
CC=${CC:-cc}
AR=${AR:-ar}
TARGET_DIR=${HOST_SDK_TARGET_DIR:-$ROOT/target/host-sdk}
case $TARGET_DIR in /*) ;; *) TARGET_DIR=$ROOT/$TARGET_DIR ;; esac
RUST_LIB=$TARGET_DIR/release/libfota_rs.a

die() { echo "host-sdk.sh: error: $*" >&2; exit 1; }

# OUT is emptied and refilled: never "/", a top-level directory, or the tree.
case $ROOT/ in "$OUT"/*) die "refusing to use $OUT: it holds the source tree" ;; esac
[ "$OUT" != / ] && [ "$(dirname "$OUT")" != / ] || die "refusing to empty $OUT"

# -- Rust core ------------------------------------------------------------
#
# `cargo rustc --crate-type staticlib` rather than `cargo build`, and a
# target directory of its own, for two reasons found the hard way:
#  - With the crate's usual crate-type = ["rlib", "staticlib"] cargo applies
#    no LTO and rustc embeds LLVM bitcode (.llvmbc) in every object for the
#    rlib's sake. binutils loads every plugin in /usr/lib/bfd-plugins; with
#    Debian's LLVMgold-14 there (llvm-14-linker-tools, which libclang-dev
#    pulls in) ar, nm and ld fail to read those objects and see no symbols:
#    the merged archive's index then lacks every fota_rs_* function.
#    A staticlib alone gets the release profile's LTO and no bitcode.
#  - target/release/libfota_rs.a is a copy of whichever build of the crate
#    ran last (fota-sim's dependency build replaces it), so in a shared tree
#    it is not necessarily this build's.
# The same call prints the system libraries the staticlib needs (std's
# runtime on hosted targets); cargo replays the note when the build is fresh.
# With `log-text` (records in words, as fota-sim logs them) and the
# `signature` feature: on a PC their KBs do not matter, and a C
# program can then check a FOTA_RS_HOST_VERIFY_KEY as a device would.
log=$TARGET_DIR/host-sdk-cargo.log
mkdir -p "$TARGET_DIR"
if ! (cd "$ROOT" && CARGO_TARGET_DIR="$TARGET_DIR" "$CARGO" rustc --release -p fota-rs --lib \
	--features signature,log-text --crate-type staticlib -- --print native-static-libs) >"$log" 2>&1; then
	cat "$log" >&2
	die "cargo rustc failed"
fi
[ -f "$RUST_LIB" ] || die "$RUST_LIB was not produced"
native=$(sed -n 's/^note: native-static-libs: //p' "$log" | tail -n 1)
[ -n "$native" ] || die "cargo did not report native-static-libs (see $log)"

# -- C parts ----------------------------------------------------------------
rm -rf "$OUT"
mkdir -p "$OUT/include/net" "$OUT/include/fota_rs" "$OUT/lib" "$OUT/src/compat" "$OUT/obj"

cp "$ROOT/compat/include/net/fota_download.h" "$OUT/include/net/"
cp "$ROOT/include/fota_rs.h" "$OUT/include/"
cp "$ROOT/include/fota_rs/port.h" "$ROOT/include/fota_rs/errno_map.h" "$OUT/include/fota_rs/"
cp "$ROOT/ports/host/fota_rs_port_host.h" "$OUT/include/"
cp "$ROOT/compat/fota_rs_platform.h" "$OUT/include/"
cp "$ROOT"/compat/*.c "$ROOT/compat/ncs_generation.h" "$ROOT/compat/errno_posix.h" "$OUT/src/compat/"

# The same warnings as the simulator's build (sim/build.rs); -fPIC so the
# archive can also go into a shared library (Rust's host objects are PIC).
CFLAGS=(-std=c11 -O2 -g -fPIC -D_GNU_SOURCE -Wall -Wextra -Werror -I"$OUT/include")
# A sanitizer finding stops the program (UBSan would only print and go on).
SANITIZE_FLAGS=()
if [ -n "${HOST_SDK_SANITIZE:-}" ]; then
	SANITIZE_FLAGS=(-fsanitize="$HOST_SDK_SANITIZE" -fno-omit-frame-pointer -fno-sanitize-recover=all)
	CFLAGS+=("${SANITIZE_FLAGS[@]}")
fi
port_objs=()
for src in "$ROOT"/ports/host/*.c; do
	obj=$OUT/obj/host_$(basename "$src" .c).o
	"$CC" "${CFLAGS[@]}" -c "$src" -o "$obj"
	port_objs+=("$obj")
done
# The port's files share state and functions that host_private.h declares
# hidden. One relocatable object with the hidden symbols made local keeps
# them out of the archive's symbol table: a program linking the SDK sees the
# public API only, and names such as host_connect or g stay free for it.
"$CC" -r -nostdlib -o "$OUT/obj/fota_rs_port_host.o" "${port_objs[@]}"
"${OBJCOPY:-objcopy}" --localize-hidden "$OUT/obj/fota_rs_port_host.o"
leaked=$(nm -g --defined-only "$OUT/obj/fota_rs_port_host.o" | awk '$3 !~ /^fota_rs_/ {print $3}')
[ -z "$leaked" ] || die "host port exports private symbols: $(echo $leaked)"
# The compat layer's sources as one object: compat_obj OUT.o [flags first]...
compat_obj() {
	local out=$1 src objs=()
	shift
	for src in "$OUT"/src/compat/*.c; do
		objs+=("${out%.o}_$(basename "$src" .c).o")
		"$CC" "$@" "${CFLAGS[@]}" -c "$src" -o "${objs[-1]}"
	done
	"$CC" -r -nostdlib "${objs[@]}" -o "$out"
}
compat_obj "$OUT/obj/fota_download.o"

# The staticlib's compiler_builtins members still carry LLVM bitcode (the
# toolchain ships them that way): the LLVMgold-14 problem above, once per
# member (about 300 "failed to create LTO module" lines from ar and ranlib,
# and their symbols missing from the index). Nothing here does
# cross-language LTO, so the bitcode sections go.
"${OBJCOPY:-objcopy}" -R .llvmbc -R .llvmcmd "$RUST_LIB" "$OUT/obj/libfota_rs.a"

# One archive each: the Rust staticlib's members plus the C objects, merged
# with an ar MRI script (ADDLIB copies every member of an archive).
merge() { # merge OUT.a OBJ...
	local out=$1
	shift
	{
		echo "CREATE $out"
		echo "ADDLIB $OUT/obj/libfota_rs.a"
		for o in "$@"; do echo "ADDMOD $o"; done
		echo "SAVE"
		echo "END"
	} | "$AR" -M
	"${RANLIB:-ranlib}" "$out"
}
# The index must name the Rust core's entry points (see above for how it
# can silently lose them) and, in the full archive, the compat layer's.
has_index_entry() { # has_index_entry ARCHIVE SYMBOL
	nm -s "$1" 2>/dev/null | grep -E "^$2 in " >/dev/null
}
merge "$OUT/lib/libfota_rs_host.a" "$OUT/obj/fota_rs_port_host.o" "$OUT/obj/fota_download.o"
merge "$OUT/lib/libfota_rs_core_host.a" "$OUT/obj/fota_rs_port_host.o"
for sym in fota_rs_init fota_rs_start fota_rs_diag_text fota_rs_platform_port fota_download_init; do
	has_index_entry "$OUT/lib/libfota_rs_host.a" "$sym" ||
		die "libfota_rs_host.a: $sym missing from the archive index"
done

# One header set and archive per NCS generation: GEN, its headers' directory.
GENERATIONS=(
	"v1.7 tests/c/ncs-v1.7.1"
	"v2.0 compat/include"
	"v2.4 tests/c/ncs-v2.4"
	"v2.6 tests/c/ncs-v2.6"
	"v3.0 tests/c/ncs-v3.x"
)
for g in "${GENERATIONS[@]}"; do
	read -r gen dir <<<"$g"
	inc=$OUT/ncs-$gen/include
	mkdir -p "$inc"
	(cd "$ROOT/$dir" && find . -name '*.h' -exec cp --parents {} "$inc/" \;)
	[ -f "$inc/net/fota_download.h" ] || die "$dir has no net/fota_download.h"
	# The generation's directory first: its net/fota_download.h wins.
	compat_obj "$OUT/obj/fota_download_ncs_$gen.o" -I"$inc"
	merge "$OUT/lib/libfota_rs_host_ncs_${gen/./_}.a" "$OUT/obj/fota_rs_port_host.o" \
		"$OUT/obj/fota_download_ncs_$gen.o"
	has_index_entry "$OUT/lib/libfota_rs_host_ncs_${gen/./_}.a" fota_download_init ||
		die "libfota_rs_host_ncs_${gen/./_}.a: fota_download_init missing from the archive index"
done
has_index_entry "$OUT/lib/libfota_rs_core_host.a" fota_rs_init ||
	die "libfota_rs_core_host.a: fota_rs_init missing from the archive index"
rm -rf "$OUT/obj"

# OpenSSL through its own .pc when there is one (non-standard prefixes).
if pkg-config --exists openssl 2>/dev/null; then
	requires="Requires: openssl"
	ssl_libs=""
else
	requires=""
	ssl_libs="-lssl -lcrypto "
fi
version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -n 1)

pc() { # pc NAME LIB DESCRIPTION [INCLUDEDIR]
	local first_inc=""
	[ $# -lt 4 ] || first_inc="-I\${prefix}/$4 "
	cat >"$OUT/$1.pc" <<EOF
# SPDX-License-Identifier: Apache-2.0
# Generated by scripts/host-sdk.sh. Relocatable: paths are relative to this file.
prefix=\${pcfiledir}
includedir=\${prefix}/include
libdir=\${prefix}/lib

Name: $1
Description: $3
Version: ${version:-0}
$requires
Cflags: $first_inc-I\${includedir}${SANITIZE_FLAGS[*]:+ ${SANITIZE_FLAGS[*]}}
Libs: ${SANITIZE_FLAGS[*]:+${SANITIZE_FLAGS[*]} }-L\${libdir} -l$2 ${ssl_libs}$native
EOF
}
pc fota-rs-host fota_rs_host \
	"fota-rs: NCS fota_download API + Rust download engine + host port (sockets, OpenSSL, file flash)"
pc fota-rs-core-host fota_rs_core_host \
	"fota-rs: Rust download engine + host port, without the fota_download compatibility layer"
for g in "${GENERATIONS[@]}"; do
	read -r gen _ <<<"$g"
	pc "fota-rs-host-ncs-$gen" "fota_rs_host_ncs_${gen/./_}" \
		"fota-rs: NCS $gen fota_download API (as NCS $gen behaves) + Rust download engine + host port" \
		"ncs-$gen/include"
done

echo "host-sdk.sh: $OUT ready (native libs: $native)"
