# SPDX-License-Identifier: Apache-2.0
# `make size`: flash, static RAM, engine context and stack of the Cortex-M33
# build, and the panic paths linked (scripts/size.sh). Needs the ARM
# toolchain (setup-arm). Not part of `make test`; its panic-path check is
# (`make no-panic`, below).
.PHONY: size no-panic

size: setup-arm
	scripts/size.sh
	@# Issue 5: no panic path in the linked ARM code.
	@grep -q ' panic_paths=0$$' target/size/summary.txt || { echo "make size: FAILED: panic paths are linked (list above)"; exit 1; }

# Part of `make test`: no panic path at either end of the log levels
# (scripts/check-no-panic.sh, about a minute).
no-panic: setup-arm
	scripts/check-no-panic.sh

TEST_TARGETS += no-panic
