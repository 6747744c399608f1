# SPDX-License-Identifier: Apache-2.0
# `make size`: flash, static RAM, engine context and stack of the Cortex-M33
# build, and the panic paths linked (scripts/size.sh). Needs the ARM
# toolchain (setup-arm). Not part of `make test`; its budget and panic-path
# checks are (`make footprint`, below).
.PHONY: size footprint

# First the smallest build Kconfig can select (logs off, every optional part
# left out: docs/performance.md) and the build with every part (Cargo's
# defaults, what host builds carry), a line each; then the build the Kconfig
# defaults give an application, in full, whose last line is the
# machine-readable summary.
size: setup-arm
	@OUT=target/size-minimal SIZE_CARGO_FLAGS=minimal scripts/size.sh >target/size-minimal.log 2>&1 || { cat target/size-minimal.log; exit 1; }
	@echo "== minimal build (no optional part, no log record): $$(grep 'targets (issue 5)' target/size-minimal.log | sed 's/^ *//')"
	@echo "   $$(tail -n 1 target/size-minimal.log)"
	@OUT=target/size-every-part SIZE_CARGO_FLAGS=every-part scripts/size.sh >target/size-every-part.log 2>&1 || { cat target/size-every-part.log; exit 1; }
	@echo "== every optional part, INF (Cargo's default features):"
	@echo "   $$(tail -n 1 target/size-every-part.log)"
	@echo "== the Kconfig defaults (issue 16's application):"
	scripts/size.sh
	@# Issue 5: no panic path in the linked ARM code.
	@grep -q ' panic_paths=0$$' target/size/summary.txt || { echo "make size: FAILED: panic paths are linked (list above)"; exit 1; }

# Part of `make test`: the budgets, checked on the default build, the one
# with every part and the minimal one (scripts/check-footprint.sh, about a
# minute): no panic path, static RAM within 4 KiB, the default build within
# 24 KiB of flash (issue 16) and the minimal build within 20 KiB (issue 5).
footprint: setup-arm
	scripts/check-footprint.sh

TEST_TARGETS += footprint
