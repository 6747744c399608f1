# SPDX-License-Identifier: Apache-2.0
#
# Rust build helpers for the fota-rs Zephyr module.
#
# This file only defines functions. Including it has no side effect, so it can
# be included both from the module's CMakeLists.txt (project mode, inside a
# Zephyr build) and from tests/cmake/check_triple.cmake (script mode,
# `cmake -P`), where only fota_rs_rust_target() is usable.
#
#   fota_rs_rust_target(<out-var>)
#       Map the Kconfig CPU/ABI symbols (CONFIG_* CMake variables) to a Rust
#       target triple. FATAL_ERROR for a CPU with no mapping.
#
#   fota_rs_cargo_build(CRATE_DIR <dir> TARGET <triple> LIBRARY <imported-target>)
#       Project mode only: add a custom command that runs cargo for the
#       fota-rs crate and an IMPORTED STATIC library <imported-target> that
#       stands for the resulting libfota_rs.a.

# Collect the names of the CONFIG_CPU_* symbols that are set, for error
# messages: the point of the FATAL_ERROR is to tell the user which CPU has no
# Rust triple, so name it rather than printing a generic failure.
function(_fota_rs_cpu_names out_var)
  get_cmake_property(_all VARIABLES)
  set(_names "")
  foreach(_v IN LISTS _all)
    if(_v MATCHES "^CONFIG_CPU_" AND "${${_v}}" STREQUAL "y")
      list(APPEND _names "${_v}")
    endif()
  endforeach()
  if(_names STREQUAL "")
    set(_names "no CONFIG_CPU_* symbol set")
  endif()
  list(JOIN _names ", " _joined)
  set(${out_var} "${_joined}" PARENT_SCOPE)
endfunction()

function(fota_rs_rust_target out_var)
  # Hard-float ABI only when Zephyr itself builds with -mfloat-abi=hard:
  # CONFIG_FP_HARDABI. With CONFIG_FPU=y + CONFIG_FP_SOFTABI (softfp) the
  # argument-passing ABI is still the soft one, so the "eabi" triple is the
  # matching one. Mixing them fails at link time (VFP register arguments).
  if(CONFIG_FP_HARDABI)
    set(_hf "hf")
  else()
    set(_hf "")
  endif()

  if(CONFIG_ARCH_POSIX)
    # native_sim / native_posix: the "board" is a Linux process. Zephyr builds
    # it 32-bit unless CONFIG_64BIT (native_sim/native/64).
    if(CONFIG_64BIT)
      set(_triple "x86_64-unknown-linux-gnu")
    else()
      set(_triple "i686-unknown-linux-gnu")
    endif()
  elseif(CONFIG_CPU_CORTEX_M33)
    # nRF9160/nRF9161 (and nRF5340 app core): Armv8-M Mainline.
    set(_triple "thumbv8m.main-none-eabi${_hf}")
  elseif(CONFIG_CPU_CORTEX_M4 OR CONFIG_CPU_CORTEX_M7)
    # Armv7E-M. The M7's double-precision FPU still takes thumbv7em-*-eabihf
    # code (single-precision subset), so both map to the same triple.
    set(_triple "thumbv7em-none-eabi${_hf}")
  elseif(CONFIG_CPU_CORTEX_M3)
    # Armv7-M has no FPU, so there is no hf variant.
    set(_triple "thumbv7m-none-eabi")
  elseif(CONFIG_CPU_CORTEX_M0PLUS)
    set(_triple "thumbv6m-none-eabi")
  else()
    _fota_rs_cpu_names(_cpus)
    message(FATAL_ERROR
      "fota-rs: no Rust target triple for this CPU (${_cpus}; "
      "CONFIG_ARCH='${CONFIG_ARCH}', CONFIG_SOC='${CONFIG_SOC}'). "
      "Supported: Cortex-M33/M7/M4/M3/M0+ and the POSIX architecture. "
      "Add a mapping in cmake/fota_rs_rust.cmake.")
  endif()

  set(${out_var} "${_triple}" PARENT_SCOPE)
endfunction()

# Cargo arguments for the core's features from Kconfig (tests/cmake/
# check_features.cmake): a part the configuration does not use is not built
# (Cargo.toml [features]), and log records above the module's level are
# compiled out.
function(fota_rs_cargo_features out_var)
  set(_args --no-default-features)
  if(CONFIG_FOTA_RS_SIGNATURE)
    list(APPEND _args --features signature)
  endif()
  if(CONFIG_FOTA_RS_TARGET_MODEM_DELTA)
    list(APPEND _args --features modem-delta)
  endif()
  if(CONFIG_FOTA_RS_B1_IMAGES)
    list(APPEND _args --features b1)
  endif()
  if(CONFIG_FOTA_RS_CHECK_LAYOUT OR NOT CONFIG_FOTA_RS_ALLOW_DOWNGRADE)
    list(APPEND _args --features image-checks)
  endif()
  if(CONFIG_FOTA_RS_MAX_REDIRECTS GREATER 0)
    list(APPEND _args --features redirects)
  endif()
  if(CONFIG_FOTA_RS_PROGRESS_SAVE)
    list(APPEND _args --features progress-save)
  endif()
  if(CONFIG_FOTA_RS_FRAG_FIT GREATER 0)
    list(APPEND _args --features frag-fit)
  endif()
  set(_log_features log-off log-max-error log-max-warn log-max-info)
  if(DEFINED CONFIG_FOTA_RS_LOG_LEVEL AND CONFIG_FOTA_RS_LOG_LEVEL LESS 4)
    list(GET _log_features ${CONFIG_FOTA_RS_LOG_LEVEL} _log_feature)
    list(APPEND _args --features ${_log_feature})
  endif()
  if(CONFIG_FOTA_RS_LOG_TEXT)
    list(APPEND _args --features log-text)
  endif()
  set(${out_var} ${_args} PARENT_SCOPE)
endfunction()

# Project mode only (uses add_custom_command and friends).
function(fota_rs_cargo_build)
  cmake_parse_arguments(ARG "" "CRATE_DIR;TARGET;LIBRARY" "" ${ARGN})
  if(NOT ARG_CRATE_DIR OR NOT ARG_TARGET OR NOT ARG_LIBRARY)
    message(FATAL_ERROR "fota_rs_cargo_build: CRATE_DIR, TARGET and LIBRARY are required")
  endif()

  # Cargo path from Kconfig (CONFIG_FOTA_RS_CARGO, default "cargo"). A bare
  # name is looked up on PATH now so a missing toolchain fails at configure
  # time with a clear message instead of in the middle of the build.
  set(_cargo "${CONFIG_FOTA_RS_CARGO}")
  if(_cargo STREQUAL "")
    set(_cargo "cargo")
  endif()
  if(NOT IS_ABSOLUTE "${_cargo}")
    find_program(FOTA_RS_CARGO_EXE NAMES "${_cargo}")
    if(NOT FOTA_RS_CARGO_EXE)
      message(FATAL_ERROR
        "fota-rs: '${_cargo}' not found on PATH. Install a Rust toolchain or set "
        "CONFIG_FOTA_RS_CARGO to the full path of cargo.")
    endif()
    set(_cargo "${FOTA_RS_CARGO_EXE}")
  endif()

  if(CONFIG_FOTA_RS_RUST_DEBUG)
    set(_profile_dir "debug")
    set(_profile_args "")
  else()
    set(_profile_dir "release")
    set(_profile_args "--release")
  endif()

  # Cargo output stays inside the Zephyr build directory: a pristine build
  # then really is pristine, and two boards never share an artefact.
  set(_target_dir "${CMAKE_CURRENT_BINARY_DIR}/cargo")
  set(_lib "${_target_dir}/${ARG_TARGET}/${_profile_dir}/libfota_rs.a")

  # Environment for cargo. Kconfig values do not go through here: they reach
  # the core at run time in struct fota_rs_config (fota_rs_platform_config),
  # so changing one never forces a Rust rebuild.
  set(_env "CARGO_TARGET_DIR=${_target_dir}")
  # cargo runs whatever `rustc` is first on PATH. When a specific cargo was
  # configured (e.g. Debian's /usr/bin/cargo while rustup's proxies are on
  # PATH), use the rustc installed beside it: the two come as a pair, and
  # only that rustc finds its own rust-src for -Zbuild-std.
  get_filename_component(_cargo_dir "${_cargo}" DIRECTORY)
  if(IS_ABSOLUTE "${CONFIG_FOTA_RS_CARGO}" AND EXISTS "${_cargo_dir}/rustc")
    list(APPEND _env "RUSTC=${_cargo_dir}/rustc")
  endif()
  set(_std_args "")
  if(CONFIG_FOTA_RS_BUILD_STD)
    # For toolchains without a prebuilt core for the target (Debian's
    # rustc/cargo, or no `rustup target add`): build core from rust-src.
    # -Zbuild-std is a nightly flag; RUSTC_BOOTSTRAP=1 lets a stable compiler
    # accept it. compiler-builtins-mem provides memcpy & co. as weak symbols.
    list(APPEND _env "RUSTC_BOOTSTRAP=1")
    set(_std_args
      "-Zbuild-std=core,compiler_builtins"
      "-Zbuild-std-features=compiler-builtins-mem")
  endif()

  # -p fota-rs --lib: the workspace's default members include the host
  # simulator crate (sim/), which needs std and must not be built for the
  # device target.
  set(_cargo_args
    build
    --manifest-path "${ARG_CRATE_DIR}/Cargo.toml"
    -p fota-rs
    --lib
    --target "${ARG_TARGET}"
    --target-dir "${_target_dir}"
    ${_profile_args}
    ${_std_args}
    ${FOTA_RS_CARGO_EXTRA_ARGS}
  )
  fota_rs_cargo_features(_features)
  list(APPEND _cargo_args ${_features})

  # Rebuild when a Rust source, the manifest or the lock file changes.
  # CONFIGURE_DEPENDS re-runs the glob at build time, so a new .rs file is
  # noticed without a manual re-configure.
  file(GLOB_RECURSE _rs_sources CONFIGURE_DEPENDS
    "${ARG_CRATE_DIR}/src/*.rs")
  set(_deps ${_rs_sources} "${ARG_CRATE_DIR}/Cargo.toml")
  # Only list files that exist: a DEPENDS on a missing file with no rule to
  # make it is a hard Ninja error ("missing and no known rule to make it").
  foreach(_f Cargo.lock build.rs)
    if(EXISTS "${ARG_CRATE_DIR}/${_f}")
      list(APPEND _deps "${ARG_CRATE_DIR}/${_f}")
    endif()
  endforeach()

  add_custom_command(
    OUTPUT "${_lib}"
    COMMAND ${CMAKE_COMMAND} -E env ${_env} "${_cargo}" ${_cargo_args}
    DEPENDS ${_deps}
    WORKING_DIRECTORY "${ARG_CRATE_DIR}"
    COMMENT "fota-rs: cargo build --target ${ARG_TARGET} (${_profile_dir})"
    # Cargo prints progress and diagnostics; give it the console pool.
    USES_TERMINAL
    VERBATIM
  )
  add_custom_target(${ARG_LIBRARY}_cargo DEPENDS "${_lib}")

  add_library(${ARG_LIBRARY} STATIC IMPORTED GLOBAL)
  set_target_properties(${ARG_LIBRARY} PROPERTIES IMPORTED_LOCATION "${_lib}")
  # Dependencies added to an IMPORTED target are followed in its place
  # (CMake >= 3.3), so whoever links ${ARG_LIBRARY} waits for cargo.
  add_dependencies(${ARG_LIBRARY} ${ARG_LIBRARY}_cargo)

  set(FOTA_RS_RUST_LIB_PATH "${_lib}" PARENT_SCOPE)
endfunction()
