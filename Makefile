# SPDX-License-Identifier: Apache-2.0
# Entry points. `make demo` and `make test` install what they need first.
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)

.PHONY: demo test setup setup-arm build headers check-headers lint unit e2e server-selftest clean

setup:
	scripts/setup.sh

setup-arm:
	scripts/setup.sh --arm

build: setup
	cargo build --release -p fota-sim

demo: build
	scripts/demo.sh

headers:
	scripts/gen-headers.sh

check-headers:
	scripts/gen-headers.sh --check

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --features signature -- -D warnings
	cargo clippy -p fota-rs --lib --no-default-features -- -D warnings

# Twice: with every part (and `signature`), and with every optional part
# left out, where the tests of what a left-out part does instead run.
unit:
	cargo test -p fota-rs --lib --features signature
	cargo test -p fota-rs --lib --no-default-features

e2e: build
	cargo test --release -p fota-sim --test e2e

server-selftest:
	python3 tests/server/test_fota_server.py

# mk/*.mk files add their checks with `TEST_TARGETS += name`.
TEST_TARGETS := check-headers lint unit server-selftest e2e

test: setup
	@set -e; for t in $(TEST_TARGETS); do echo "== make $$t"; $(MAKE) --no-print-directory $$t; done
	@echo "make test: all checks passed ($(TEST_TARGETS))"

# Further targets (host SDK, benchmarks, size, soak, fuzz) live in mk/.
-include mk/*.mk

clean:
	cargo clean
	rm -rf build
