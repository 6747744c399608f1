# SPDX-License-Identifier: Apache-2.0
# Host SDK (docs/host-sdk.md) and the C API tests built against it.
#
#   make host-sdk   build/host-sdk: headers, libfota_rs_host.a, fota-rs-host.pc
#   make c-api      tests/c/run.sh: test_fota_download.c against the v2.0.0,
#                   v2.6 and v1.7.1 headers, real downloads over loopback HTTPS

HOST_SDK_DIR := build/host-sdk

.PHONY: host-sdk c-api

host-sdk: setup
	scripts/host-sdk.sh $(HOST_SDK_DIR)

c-api: host-sdk
	HOST_SDK=$(CURDIR)/$(HOST_SDK_DIR) tests/c/run.sh

TEST_TARGETS += c-api

# `make c-api-asan`: the C parts (host port, compat layer) compiled with
# AddressSanitizer and UndefinedBehaviorSanitizer, taken from the same source
# lists as the normal builds (scripts/host-sdk.sh, sim/build.rs), which read
# the sanitizer list from HOST_SDK_SANITIZE / FOTA_RS_C_SANITIZE. Then the C
# API tests against that SDK and fota-sim's e2e tests on those C parts, in
# their own build and target directories so the normal ones stay as they are.
# The Rust core is not instrumented (stable Rust has no -Zsanitizer); gcc
# links the sanitizers' runtimes into each program (-fsanitize at link time),
# so no LD_PRELOAD is needed. A finding makes the program exit non-zero.
HOST_SDK_ASAN_DIR := build/host-sdk-asan
C_SANITIZE := address,undefined
SANITIZER_ENV := ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1 \
	UBSAN_OPTIONS=print_stacktrace=1

.PHONY: c-api-asan
c-api-asan: setup
	HOST_SDK_SANITIZE=$(C_SANITIZE) scripts/host-sdk.sh $(HOST_SDK_ASAN_DIR)
	$(SANITIZER_ENV) HOST_SDK=$(CURDIR)/$(HOST_SDK_ASAN_DIR) OUT=$(CURDIR)/build/c-api-asan tests/c/run.sh
	$(SANITIZER_ENV) FOTA_RS_C_SANITIZE=$(C_SANITIZE) CARGO_TARGET_DIR=target/asan \
		cargo test --release -p fota-sim --test e2e

TEST_TARGETS += c-api-asan
