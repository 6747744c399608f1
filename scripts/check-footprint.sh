#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# scripts/check-footprint.sh: issue 5's footprint targets hold on the
# Cortex-M33, at the two ends of what Kconfig selects, each linked by
# scripts/size.sh:
#
#   default build (every optional part, log records up to INF):
#       no panic path; static RAM at most 4 KiB
#   minimal build (no optional part, no log record):
#       no panic path; static RAM at most 4 KiB; flash at most 20 KiB
#
# A change that crosses the flash budget of the minimal build fails here,
# not in a later measurement (docs/performance.md has the figures and what
# each optional part weighs). The default build has no flash budget: its
# log text and hints are about 18 KB over it (issue 5's note).
#
# Not checked: the `signature` feature (Kconfig FOTA_RS_SIGNATURE), whose
# p256/elliptic-curve dependencies carry their own panic paths.
#
# Environment: FLASH_BUDGET, RAM_BUDGET (bytes; defaults 20480 and 4096).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

FLASH_BUDGET=${FLASH_BUDGET:-20480}
RAM_BUDGET=${RAM_BUDGET:-4096}

field() { # field NAME SUMMARY -> N
	sed -n "s/.*\b$1=\([0-9]*\).*/\1/p" <<<"$2"
}

mkdir -p target/footprint
fail=0
for cfg in "" minimal; do
	name=${cfg:-default}
	out=target/footprint/$name
	OUT=$out SIZE_CARGO_FLAGS="$cfg" scripts/size.sh >"$out.log" 2>&1 ||
		{ cat "$out.log"; echo "footprint: scripts/size.sh failed ($name build)"; exit 1; }
	summary=$(tail -n 1 "$out.log")
	echo "footprint: $name build: $summary"
	flash=$(field flash_bytes "$summary")
	ram=$(field static_ram_bytes "$summary")
	panics=$(field panic_paths "$summary")
	[ -n "$flash" ] && [ -n "$ram" ] && [ -n "$panics" ] ||
		{ echo "footprint: no summary line in $out.log"; exit 1; }
	if [ "$panics" != 0 ]; then
		sed -n '/== panic paths/,$p' "$out.log"
		echo "footprint: FAILED: $name build: $panics panic paths linked (callers above)"
		fail=1
	fi
	if [ "$ram" -gt "$RAM_BUDGET" ]; then
		echo "footprint: FAILED: $name build: static RAM $ram bytes, budget $RAM_BUDGET"
		fail=1
	fi
	if [ "$name" = minimal ] && [ "$flash" -gt "$FLASH_BUDGET" ]; then
		sed -n '/== largest project symbols (flash)/,/== largest project symbols (RAM)/p' "$out.log"
		echo "footprint: FAILED: minimal build: flash $flash bytes, budget $FLASH_BUDGET (over by $((flash - FLASH_BUDGET)))"
		fail=1
	fi
done
[ "$fail" = 0 ] || exit 1
echo "footprint: OK (minimal build within $FLASH_BUDGET bytes of flash; both builds within $RAM_BUDGET bytes of static RAM, no panic path)"
