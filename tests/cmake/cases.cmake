# SPDX-License-Identifier: Apache-2.0
#
# What the script-mode checks of cmake/fota_rs_rust.cmake share
# (check_triple.cmake, check_features.cmake): pass/fail counts and the
# inputs of one case.

set(_passed 0)
set(_failed 0)

# set_case_inputs(VAR=value ...): every name in _all_inputs is cleared first,
# so one case's inputs cannot leak into the next.
macro(set_case_inputs)
  foreach(_v ${_all_inputs})
    unset(${_v})
  endforeach()
  foreach(_kv ${ARGN})
    string(REGEX MATCH "^([^=]+)=(.*)$" _m "${_kv}")
    set(${CMAKE_MATCH_1} "${CMAKE_MATCH_2}")
  endforeach()
endmacro()

# record_case(<ok> <name> <detail>)
macro(record_case ok name detail)
  if(${ok})
    math(EXPR _passed "${_passed} + 1")
    message("PASS ${name}: ${detail}")
  else()
    math(EXPR _failed "${_failed} + 1")
    message("FAIL ${name}: ${detail}")
  endif()
endmacro()

# finish_cases(<what>): the summary line, FATAL_ERROR when a case failed.
macro(finish_cases what)
  message("${_passed} passed, ${_failed} failed")
  if(NOT _failed EQUAL 0)
    message(FATAL_ERROR "${what}: ${_failed} case(s) failed")
  endif()
endmacro()
