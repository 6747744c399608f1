# SPDX-License-Identifier: Apache-2.0
#
# Checks fota_rs_cargo_features() (cmake/fota_rs_rust.cmake) in script mode:
#
#   cmake -P tests/cmake/check_features.cmake
#
# Each case sets the CONFIG_* variables a Zephyr build would define (bools as
# "y", ints as numbers; an unset bool is not defined at all) and compares the
# cargo arguments. Prints "N passed, M failed" last; FATAL_ERROR when anything
# failed.

cmake_minimum_required(VERSION 3.20)

include(${CMAKE_CURRENT_LIST_DIR}/../../cmake/fota_rs_rust.cmake)

set(_all_inputs
  CONFIG_FOTA_RS_SIGNATURE CONFIG_FOTA_RS_TARGET_MODEM_DELTA
  CONFIG_FOTA_RS_B1_IMAGES CONFIG_FOTA_RS_CHECK_LAYOUT
  CONFIG_FOTA_RS_ALLOW_DOWNGRADE CONFIG_FOTA_RS_MAX_REDIRECTS
  CONFIG_FOTA_RS_PROGRESS_SAVE CONFIG_FOTA_RS_FRAG_FIT CONFIG_FOTA_RS_LOG_LEVEL
  CONFIG_FOTA_RS_LOG_TEXT)

include(${CMAKE_CURRENT_LIST_DIR}/cases.cmake)

# check("<expected features, space-separated>" <name> [VAR=value ...])
macro(check expected name)
  set_case_inputs(${ARGN})
  fota_rs_cargo_features(_args)
  # "--no-default-features --features a --features b" -> "a b"
  list(GET _args 0 _first)
  list(REMOVE_ITEM _args --no-default-features --features)
  string(REPLACE ";" " " _got "${_args}")
  if(_first STREQUAL "--no-default-features" AND _got STREQUAL "${expected}")
    record_case(TRUE "${name}" "${_got}")
  else()
    record_case(FALSE "${name}" "expected \"${expected}\", got \"${_first} ${_got}\"")
  endif()
endmacro()

# The Kconfig defaults on an nRF9160 with the modem library and settings:
# everything but the signature, records up to INF.
check("modem-delta b1 image-checks redirects progress-save log-max-info"
  "Kconfig defaults (nRF9160, INF)"
  CONFIG_FOTA_RS_TARGET_MODEM_DELTA=y CONFIG_FOTA_RS_B1_IMAGES=y
  CONFIG_FOTA_RS_CHECK_LAYOUT=y CONFIG_FOTA_RS_MAX_REDIRECTS=5
  CONFIG_FOTA_RS_PROGRESS_SAVE=y CONFIG_FOTA_RS_LOG_LEVEL=3)
check("signature modem-delta b1 image-checks redirects progress-save"
  "signature, log level DBG (nothing compiled out)"
  CONFIG_FOTA_RS_SIGNATURE=y CONFIG_FOTA_RS_TARGET_MODEM_DELTA=y
  CONFIG_FOTA_RS_B1_IMAGES=y CONFIG_FOTA_RS_CHECK_LAYOUT=y
  CONFIG_FOTA_RS_MAX_REDIRECTS=5 CONFIG_FOTA_RS_PROGRESS_SAVE=y
  CONFIG_FOTA_RS_LOG_LEVEL=4)
# Records in words on the device (FOTA_RS_LOG_TEXT, default n: ids).
check("image-checks redirects log-max-info log-text" "records in words, INF"
  CONFIG_FOTA_RS_MAX_REDIRECTS=5 CONFIG_FOTA_RS_LOG_LEVEL=3 CONFIG_FOTA_RS_LOG_TEXT=y)
check("image-checks redirects log-max-info" "records as ids (LOG_TEXT n)"
  CONFIG_FOTA_RS_MAX_REDIRECTS=5 CONFIG_FOTA_RS_LOG_LEVEL=3 CONFIG_FOTA_RS_LOG_TEXT=n)
# The minimal build of docs/performance.md.
check("log-off" "every optional part off, logs off"
  CONFIG_FOTA_RS_CHECK_LAYOUT=n CONFIG_FOTA_RS_ALLOW_DOWNGRADE=y
  CONFIG_FOTA_RS_MAX_REDIRECTS=0 CONFIG_FOTA_RS_LOG_LEVEL=0)
# Ranges sized to the modem's buffer (off by default: FRAG_FIT 0).
check("image-checks frag-fit log-max-info" "frag-fit 2048"
  CONFIG_FOTA_RS_MAX_REDIRECTS=0 CONFIG_FOTA_RS_FRAG_FIT=2048 CONFIG_FOTA_RS_LOG_LEVEL=3)
# The version check alone still needs the checks.
check("image-checks log-max-error" "layout check off, downgrades refused"
  CONFIG_FOTA_RS_CHECK_LAYOUT=n CONFIG_FOTA_RS_MAX_REDIRECTS=0
  CONFIG_FOTA_RS_LOG_LEVEL=1)
check("image-checks redirects log-max-warn" "layout check on, downgrades allowed"
  CONFIG_FOTA_RS_CHECK_LAYOUT=y CONFIG_FOTA_RS_ALLOW_DOWNGRADE=y
  CONFIG_FOTA_RS_MAX_REDIRECTS=1 CONFIG_FOTA_RS_LOG_LEVEL=2)
# Without a log level symbol (logging off in Zephyr) nothing is compiled out
# by level; the logger then has no backend either.
check("image-checks" "no log level, no redirects (0)"
  CONFIG_FOTA_RS_MAX_REDIRECTS=0)

# What `make size` reports last, the Kconfig defaults of issue 16's
# application (an nRF9160 with the modem library, no settings subsystem):
# scripts/size.sh names the features; tests/kconfig/check_kconfig.py checks
# these CONFIG values are the Kconfig defaults for that application.
file(STRINGS ${CMAKE_CURRENT_LIST_DIR}/../../scripts/size.sh _size_line
  REGEX "^KCONFIG_DEFAULT_FEATURES=")
string(REGEX REPLACE "^KCONFIG_DEFAULT_FEATURES=" "" _size_features "${_size_line}")
string(REPLACE "," " " _size_features "${_size_features}")
check("${_size_features}" "scripts/size.sh's default build is the Kconfig defaults (no SETTINGS)"
  CONFIG_FOTA_RS_TARGET_MODEM_DELTA=y CONFIG_FOTA_RS_B1_IMAGES=y
  CONFIG_FOTA_RS_CHECK_LAYOUT=y CONFIG_FOTA_RS_MAX_REDIRECTS=5
  CONFIG_FOTA_RS_FRAG_FIT=0 CONFIG_FOTA_RS_LOG_LEVEL=3)

finish_cases(fota_rs_cargo_features)
