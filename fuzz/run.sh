#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Bounded fuzzing of every target (or the ones named), with overflow checks
# and debug assertions on (cargo fuzz's default build):
#   fuzz/run.sh SECONDS [TARGET...]
# Seeds come from fuzz/corpus/<target> (committed, read only here); what the
# fuzzer learns goes to fuzz/target/corpus-work/<target>. A crash is copied to
# fuzz/regressions/<target>/ and fails the run. Prints executions per target;
# fewer than MIN_EXECS_PER_S[target] x SECONDS fails the run too (a target
# that barely ran proved nothing). The minima are a tenth of what each target
# did in 10 s on a 2-core machine shared with builds (url 9.5 k/s, http
# 4.9 k/s, mcuboot 16.6 k/s, engine 550/s; docs/robustness.md).
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
declare -A MIN_EXECS_PER_S=([url]=1000 [http]=500 [mcuboot]=1500 [engine]=50)
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
    min=$(( ${MIN_EXECS_PER_S[$t]:?no minimum rate for target $t} * secs ))
    if [ "${execs:-0}" -lt "$min" ]; then
      failed=$((failed + 1))
      summary+=("$t: FAILED: ${execs:-no} executions in ${secs} s, below the minimum $min (log fuzz/$log)")
    else
      summary+=("$t: ${execs} executions in ${secs} s (minimum $min), no crash")
    fi
  fi
done
for s in "${summary[@]}"; do echo "fuzz: $s"; done
echo "$(( ${#targets[@]} - failed )) passed, $failed failed"
[ $failed -eq 0 ]
