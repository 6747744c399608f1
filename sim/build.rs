// SPDX-License-Identifier: Apache-2.0
//! Compiles the C parts a host program links: the host port (POSIX sockets,
//! OpenSSL, file-backed flash) and the NCS compatibility layer, exactly the
//! sources the host SDK ships.
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
    for s in sources {
        build.file(root.join(s));
        println!("cargo:rerun-if-changed={}", root.join(s).display());
    }
    for h in [
        "include/fota_rs.h",
        "include/fota_rs/port.h",
        "compat/include/net/fota_download.h",
        "compat/fota_rs_platform.h",
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
