#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Replay every saved crash input under fuzz/regressions/<target>/ once through
# its target: exits non-zero while any of them still fails.
#   fuzz/replay.sh [TARGET...]
set -uo pipefail
cd "$(dirname "$0")"
mkdir -p target
export PATH="$HOME/.cargo/bin:$PATH"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(url http mcuboot engine)
pass=0
fail=0
for t in "${targets[@]}"; do
  for f in regressions/"$t"/*; do
    [ -f "$f" ] || continue
    if cargo +nightly fuzz run "$t" "$f" -- -runs=1 >"target/replay.log" 2>&1; then
      echo "replay: $f ok"
      pass=$((pass + 1))
    else
      echo "replay: $f FAILS"
      grep -m2 -E "panicked at|ERROR:" target/replay.log | sed 's/^/    /'
      fail=$((fail + 1))
    fi
  done
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
