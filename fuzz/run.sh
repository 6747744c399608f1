#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Bounded fuzzing of every target (or the ones named), with overflow checks
# and debug assertions on (cargo fuzz's default build):
#   fuzz/run.sh SECONDS [TARGET...]
# Seeds come from fuzz/corpus/<target> (committed, read only here); what the
# fuzzer learns goes to fuzz/target/corpus-work/<target>. A crash is copied to
# fuzz/regressions/<target>/ and fails the run. Prints executions per target.
set -euo pipefail
cd "$(dirname "$0")"
export PATH="$HOME/.cargo/bin:$PATH"
secs=${1:?usage: run.sh SECONDS [TARGET...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(url http mcuboot engine)
command -v cargo-fuzz >/dev/null || { echo "fuzz: cargo-fuzz missing (cargo install cargo-fuzz)" >&2; exit 1; }
mkdir -p target
cargo +nightly fuzz build >target/build.log 2>&1 || { cat target/build.log; echo "fuzz: build failed" >&2; exit 1; }
failed=0
summary=()
for t in "${targets[@]}"; do
  work=target/corpus-work/$t
  art=target/artifacts-run/$t/
  rm -rf "$art"
  mkdir -p "$work" "$art"
  log=target/fuzz-$t.log
  set +e
  cargo +nightly fuzz run "$t" "$work" "corpus/$t" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$art" \
    -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  if [ $rc -ne 0 ]; then
    failed=$((failed + 1))
    mkdir -p "regressions/$t"
    for a in "$art"*; do
      [ -f "$a" ] || continue
      cp "$a" "regressions/$t/"
      echo "fuzz: $t: CRASH, input saved as fuzz/regressions/$t/$(basename "$a")"
    done
    grep -m3 -E "panicked at|ERROR: AddressSanitizer|ERROR: libFuzzer" "$log" | sed 's/^/    /' || true
    summary+=("$t: FAILED after ${execs:-?} executions (log fuzz/$log)")
  else
    summary+=("$t: ${execs:-?} executions in ${secs} s, no crash")
  fi
done
for s in "${summary[@]}"; do echo "fuzz: $s"; done
echo "$(( ${#targets[@]} - failed )) passed, $failed failed"
[ $failed -eq 0 ]
