# SPDX-License-Identifier: Apache-2.0
#
# Checks fota_rs_rust_target() (cmake/fota_rs_rust.cmake) in script mode:
#
#   cmake -P tests/cmake/check_triple.cmake
#
# Each case sets the CONFIG_* variables a Zephyr build would define (bools as
# "y"), calls the mapping and compares the triple. Only positive cases: an
# unmapped CPU ends in message(FATAL_ERROR), which stops a -P script, so the
# negative path cannot be exercised from inside one run.
#
# Prints "N passed, M failed" last; FATAL_ERROR when anything failed.

cmake_minimum_required(VERSION 3.20)

include(${CMAKE_CURRENT_LIST_DIR}/../../cmake/fota_rs_rust.cmake)

# Every variable any case may set, cleared before each case so one case's
# inputs cannot leak into the next.
set(_all_inputs
  CONFIG_ARCH_POSIX CONFIG_64BIT CONFIG_FP_HARDABI CONFIG_FP_SOFTABI CONFIG_FPU
  CONFIG_CPU_CORTEX_M33 CONFIG_CPU_CORTEX_M4 CONFIG_CPU_CORTEX_M7
  CONFIG_CPU_CORTEX_M3 CONFIG_CPU_CORTEX_M0PLUS CONFIG_CPU_CORTEX_M
  CONFIG_ARCH CONFIG_SOC)

include(${CMAKE_CURRENT_LIST_DIR}/cases.cmake)

# check(<expected-triple> <name> [VAR=value ...])
macro(check expected name)
  set_case_inputs(${ARGN})
  fota_rs_rust_target(_got)
  if(_got STREQUAL "${expected}")
    record_case(TRUE "${name}" "${_got}")
  else()
    record_case(FALSE "${name}" "expected ${expected}, got ${_got}")
  endif()
endmacro()

# nRF9160 / nRF9161 DK, non-secure app: Cortex-M33 with SP FPU.
check(thumbv8m.main-none-eabihf "nRF9160 M33, FPU, hard ABI"
  CONFIG_CPU_CORTEX_M=y CONFIG_CPU_CORTEX_M33=y CONFIG_FPU=y CONFIG_FP_HARDABI=y
  CONFIG_ARCH=arm CONFIG_SOC=nrf9160)
check(thumbv8m.main-none-eabi "nRF9160 M33, FPU, softfp ABI"
  CONFIG_CPU_CORTEX_M=y CONFIG_CPU_CORTEX_M33=y CONFIG_FPU=y CONFIG_FP_SOFTABI=y)
check(thumbv8m.main-none-eabi "nRF9160 M33, no FPU"
  CONFIG_CPU_CORTEX_M=y CONFIG_CPU_CORTEX_M33=y)
# "n" (as a .config would spell an unset bool) must count as false.
check(thumbv8m.main-none-eabi "M33 with CONFIG_FP_HARDABI=n"
  CONFIG_CPU_CORTEX_M33=y CONFIG_FP_HARDABI=n)
check(thumbv7em-none-eabihf "Cortex-M4F, hard ABI (nRF52840)"
  CONFIG_CPU_CORTEX_M4=y CONFIG_FPU=y CONFIG_FP_HARDABI=y)
check(thumbv7em-none-eabi "Cortex-M4, soft ABI"
  CONFIG_CPU_CORTEX_M4=y)
check(thumbv7em-none-eabihf "Cortex-M7, hard ABI"
  CONFIG_CPU_CORTEX_M7=y CONFIG_FPU=y CONFIG_FP_HARDABI=y)
check(thumbv7em-none-eabi "Cortex-M7, soft ABI"
  CONFIG_CPU_CORTEX_M7=y)
check(thumbv7m-none-eabi "Cortex-M3"
  CONFIG_CPU_CORTEX_M3=y)
check(thumbv7m-none-eabi "Cortex-M3, FP_HARDABI ignored (no FPU exists)"
  CONFIG_CPU_CORTEX_M3=y CONFIG_FP_HARDABI=y)
check(thumbv6m-none-eabi "Cortex-M0+"
  CONFIG_CPU_CORTEX_M0PLUS=y)
check(x86_64-unknown-linux-gnu "native_sim/native/64"
  CONFIG_ARCH_POSIX=y CONFIG_64BIT=y CONFIG_ARCH=posix)
check(i686-unknown-linux-gnu "native_sim (32-bit)"
  CONFIG_ARCH_POSIX=y CONFIG_ARCH=posix)

finish_cases(fota_rs_rust_target)
