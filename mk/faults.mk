# SPDX-License-Identifier: Apache-2.0
# Issue 6, "nothing lost, nothing bricked": fault tests, randomized soak,
# power loss and fuzzing.
#   make faults           fota-sim against each fault of tests/faults/fault_server.py
#   make soak             300 seeded random fault runs (SOAK_SEED=N to replay)
#   make powerloss        >= 50 SIGKILLs over 8 downloads, resumed each time
#   make fuzz             every cargo-fuzz target for FUZZ_SECONDS (default 600) each
#   make fuzz-replay      re-run the crash inputs saved under fuzz/regressions/
#   make powercut-sweep   the engine over a simulated NOR device, the power cut at
#                         every persisting operation (torn too), then run again
# make test runs faults, soak-quick, powerloss-quick, powercut-sweep and
# fuzz-quick (10 s each).
.PHONY: faults soak soak-quick powerloss powerloss-quick powercut-sweep fuzz fuzz-quick fuzz-replay

SOAK_SEED ?=
FUZZ_SECONDS ?= 600

faults: build
	cargo test --release -p fota-sim --test faults

# A fixed seed in make test, so a red CI replays exactly.
soak-quick: build
	python3 scripts/soak.py --runs 30 --seed 1 --max-seconds 180

soak: build
	python3 scripts/soak.py --runs 300 $(if $(SOAK_SEED),--seed $(SOAK_SEED)) --max-seconds 1200

powerloss-quick: build
	python3 scripts/powerloss.py --downloads 3 --kills 6 --seed 1 --min-kills 10

powerloss: build
	python3 scripts/powerloss.py --downloads 8 --kills 10 --min-kills 50

# tests/powercut.rs (a few seconds; imgtool makes its images).
powercut-sweep: build
	cargo test --release -p fota-sim --test powercut

fuzz-quick:
	fuzz/run.sh 10

fuzz:
	fuzz/run.sh $(FUZZ_SECONDS)

fuzz-replay:
	fuzz/replay.sh

TEST_TARGETS += faults soak-quick powerloss-quick powercut-sweep fuzz-replay fuzz-quick
