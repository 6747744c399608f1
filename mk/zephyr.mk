# SPDX-License-Identifier: Apache-2.0
# Checks of the Zephyr module that run without a Zephyr tree.
.PHONY: kconfig cmake-triple arm

kconfig:
	python3 tests/kconfig/check_kconfig.py

cmake-triple:
	cmake -P tests/cmake/check_triple.cmake
	cmake -P tests/cmake/check_features.cmake

# The Rust core for thumbv8m.main-none-eabihf with Debian's toolchain, and the
# compatibility layer linked with it by arm-none-eabi-gcc (needs setup-arm).
arm: setup-arm
	tests/arm/build.sh --build-rust

TEST_TARGETS += kconfig cmake-triple arm
