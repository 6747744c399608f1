# SPDX-License-Identifier: Apache-2.0
# Issue 7, "safe before reboot, and the whole Memfault flow".
#   make memfault       fota-sim memfault against tests/memfault/fake_memfault.py
#                       and the S3-like test server (HTTPS on 127.0.0.1); the
#                       host port's device facts and modem delta DFU; the
#                       checks of src/checks.rs over the host port
#   make checks-nosig   src/checks.rs built without the `signature` feature
#                       (the small device build): a configured key is refused
# The checks' own unit tests (committed imgtool vectors in tests/data/) run in
# `make unit`.
.PHONY: memfault checks-nosig

memfault: build
	cargo test --release -p fota-sim --bin fota-sim --test memfault

checks-nosig:
	cargo test -p fota-rs --lib --no-default-features checks

TEST_TARGETS += memfault checks-nosig
