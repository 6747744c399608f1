#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# scripts/check-no-panic.sh: the Cortex-M33 build links no panic path
# (issue 5), at the two ends of what Kconfig selects: the default build
# (every optional part, log records up to INF) and the minimal one (no
# optional part, no log record). Each configuration is linked by
# scripts/size.sh, which lists any caller of core::panicking.
#
# Not checked: the `signature` feature (Kconfig FOTA_RS_SIGNATURE), whose
# p256/elliptic-curve dependencies carry their own panic paths.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

fail=0
for cfg in "" minimal; do
	out=target/no-panic/$cfg
	out=${out%/}
	OUT=$out SIZE_CARGO_FLAGS="$cfg" scripts/size.sh >"$out.log" 2>&1 ||
		{ cat "$out.log"; echo "no-panic: scripts/size.sh failed (${cfg:-default})"; exit 1; }
	summary=$(tail -n 1 "$out.log")
	echo "no-panic: ${cfg:-default features}: $summary"
	if ! grep -q ' panic_paths=0$' <<<"$summary"; then
		sed -n '/== panic paths/,$p' "$out.log"
		fail=1
	fi
done
[ "$fail" = 0 ] || { echo "no-panic: FAILED: panic paths are linked (callers above)"; exit 1; }
echo "no-panic: OK"
