// SPDX-License-Identifier: Apache-2.0
//! Compiles the C parts a host program links: the host port (POSIX sockets,
//! OpenSSL, file-backed flash) and the NCS compatibility layer, exactly the
//! sources the host SDK ships.
//!
//! FOTA_RS_C_SANITIZE (a -fsanitize= list, e.g. "address,undefined"; `make
//! c-api-asan`) compiles these C parts with those sanitizers and links the
//! simulator's binaries and tests with their runtimes. The Rust side is not
//! instrumented (no sanitizer option on stable Rust).
fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let sources = [
        "ports/host/options.c",
        "ports/host/net_tls.c",
        "ports/host/flash.c",
        "ports/host/kv.c",
        "ports/host/worker.c",
        "ports/host/modem.c",
        "ports/host/port.c",
        "compat/fota_download.c",
        "compat/fota_download_b1.c",
        "compat/errno_posix.c",
        "sim/src/layout_check.c",
    ];
    let mut build = cc::Build::new();
    build
        .std("c11")
        .define("_GNU_SOURCE", None)
        .include(root.join("include"))
        .include(root.join("compat/include"))
        .include(root.join("compat"))
        .include(root.join("ports/host"))
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true);
    println!("cargo:rerun-if-env-changed=FOTA_RS_C_SANITIZE");
    if let Ok(list) = std::env::var("FOTA_RS_C_SANITIZE") {
        if !list.is_empty() {
            let sanitize = format!("-fsanitize={list}");
            // A finding stops the program (UBSan would only print and go on).
            for flag in [
                sanitize.as_str(),
                "-fno-omit-frame-pointer",
                "-fno-sanitize-recover=all",
            ] {
                build.flag(flag);
            }
            // The runtimes by name: rustc links with -nodefaultlibs, which
            // keeps `cc -fsanitize=...` from adding them. Named here, before
            // the C parts' own libraries, they come first among the
            // program's shared libraries, as ASan requires (its malloc must
            // win over libc's; rust-lld keeps a used --as-needed library
            // wherever it stands on the line).
            for name in list.split(',') {
                let runtime = match name {
                    "address" => "asan",
                    "undefined" => "ubsan",
                    other => panic!("FOTA_RS_C_SANITIZE: no runtime known for {other:?}"),
                };
                println!("cargo:rustc-link-lib=dylib={runtime}");
            }
        }
    }
    for s in sources {
        build.file(root.join(s));
        println!("cargo:rerun-if-changed={}", root.join(s).display());
    }
    for h in [
        "include/fota_rs.h",
        "include/fota_rs/port.h",
        "compat/include/net/fota_download.h",
        "compat/fota_rs_platform.h",
        "compat/ncs_generation.h",
        "compat/errno_posix.h",
        "ports/host/fota_rs_port_host.h",
        "ports/host/host_private.h",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(h).display());
    }
    build.compile("fota_rs_host_c");
    println!("cargo:rustc-link-lib=ssl");
    println!("cargo:rustc-link-lib=crypto");
    println!("cargo:rustc-link-lib=pthread");
}
