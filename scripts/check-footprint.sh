#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# scripts/check-footprint.sh: the footprint targets hold on the Cortex-M33,
# at the two ends of what Kconfig selects and at its defaults, each linked
# by scripts/size.sh:
#
#   default build (the Kconfig defaults of issue 16's application: INF
#   records as ids, the failure line's words for the failures people meet):
#       no panic path; static RAM at most 4 KiB; flash at most 24 KiB
#   the build with every optional part (log records up to INF, log text):
#       no panic path; static RAM at most 4 KiB
#   minimal build (no optional part, no log record):
#       no panic path; static RAM at most 4 KiB; flash at most 20 KiB
#
# A change that crosses a flash budget fails here, not in a later
# measurement (docs/performance.md has the figures and what each optional
# part weighs). The 20 KiB target is the engine's, the code every build
# carries (docs/performance.md, "The 20 KiB target decided"); the 24 KiB
# one is issue 16's, for what an application gets without choosing.
#
# Not checked: the `signature` feature (Kconfig FOTA_RS_SIGNATURE), whose
# p256/elliptic-curve dependencies carry their own panic paths.
#
# The budgets are tests/size/report.py's (20480, 24576 and 4096 bytes), read
# back from its JSON report, which has a flash budget for those two builds;
# FLASH_BUDGET, RAM_BUDGET in the environment lower them (to see this check
# fail).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

field() { # field NAME REPORT.json -> N
	python3 -c 'import json, sys; print(json.load(open(sys.argv[2]))[sys.argv[1]])' "$1" "$2"
}

mkdir -p target/footprint
fail=0
for cfg in "" every-part minimal; do
	name=${cfg:-default}
	out=target/footprint/$name
	OUT=$out SIZE_CARGO_FLAGS="$cfg" scripts/size.sh >"$out.log" 2>&1 ||
		{ cat "$out.log"; echo "footprint: scripts/size.sh failed ($name build)"; exit 1; }
	summary=$(tail -n 1 "$out.log")
	echo "footprint: $name build: $summary"
	report=$out/report.json
	flash=$(field flash_bytes "$report")
	ram=$(field static_ram_bytes "$report")
	panics=$(field panic_paths "$report")
	flash_budget=$(field flash_budget "$report")
	ram_budget=$(field ram_budget "$report")
	if [ "$panics" != 0 ]; then
		sed -n '/== panic paths/,$p' "$out.log"
		echo "footprint: FAILED: $name build: $panics panic paths linked (callers above)"
		fail=1
	fi
	if [ "$ram" -gt "$ram_budget" ]; then
		echo "footprint: FAILED: $name build: static RAM $ram bytes, budget $ram_budget"
		fail=1
	fi
	if [ "$flash_budget" != None ] && [ "$flash" -gt "$flash_budget" ]; then
		sed -n '/== largest project symbols (flash)/,/== largest project symbols (RAM)/p' "$out.log"
		echo "footprint: FAILED: $name build: flash $flash bytes, budget $flash_budget (over by $((flash - flash_budget)))"
		fail=1
	fi
	[ "$flash_budget" = None ] || budgets="${budgets:+$budgets, }$name build within $flash_budget"
done
[ "$fail" = 0 ] || exit 1
echo "footprint: OK (flash: $budgets bytes; all three builds within $ram_budget bytes of static RAM, no panic path)"
