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
