# SPDX-License-Identifier: Apache-2.0
# Issue 7, "safe before reboot, and the whole Memfault flow".
#   make memfault       fota-sim memfault against tests/memfault/fake_memfault.py
#                       and the S3-like test server (HTTPS on 127.0.0.1); the
#                       host port's device facts and modem delta DFU; the
#                       checks of src/checks.rs over the host port
#   make checks-nosig   src/checks.rs built without the `signature` feature
#                       (the small device build): a configured key is refused
#   make refusals       images refused by those checks (another slot, older,
#                       another key, unsigned) through fota-sim and the engine
#                       (tests/refusals.rs); through the C API in `make c-api`
# The checks' own unit tests (committed imgtool vectors in tests/data/) run in
# `make unit`.
.PHONY: memfault checks-nosig refusals

memfault: build
	cargo test --release -p fota-sim --bin fota-sim --test memfault

checks-nosig:
	cargo test -p fota-rs --lib --no-default-features checks

refusals: build
	cargo test --release -p fota-sim --test refusals

TEST_TARGETS += memfault checks-nosig refusals
