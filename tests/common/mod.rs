// SPDX-License-Identifier: Apache-2.0
//! Shared pieces of the integration tests (e2e, faults, memfault): paths,
//! running tools, and the fixtures every suite makes the same way (a test
//! CA with a modem-like credential store, imgtool-signed images).
#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository (the tests are compiled from sim/).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Run a tool and fail the test, with its output, when it fails.
pub fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `target/<name>` with `www/` to serve and `certs/` from make-certs.sh.
pub fn fixture_dir(name: &str) -> (PathBuf, PathBuf) {
    let dir = root().join("target").join(name);
    let www = dir.join("www");
    std::fs::create_dir_all(&www).unwrap();
    run(Command::new(root().join("scripts/make-certs.sh")).arg(dir.join("certs")));
    (dir, www)
}

/// An ECDSA-P256 signing key in `dir`, made once.
pub fn signing_key(dir: &Path) -> PathBuf {
    let key = dir.join("key.pem");
    if !key.exists() {
        run(Command::new("imgtool")
            .args(["keygen", "-t", "ecdsa-p256", "-k"])
            .arg(&key));
    }
    key
}

/// A signed (or, without a key, hash-only) MCUboot image of `size` payload bytes.
pub fn make_image(out: &Path, size: usize, version: &str, key: Option<&Path>) {
    let mut cmd = Command::new("python3");
    cmd.arg(root().join("scripts/make-image.py"))
        .arg("--out")
        .arg(out)
        .args(["--size", &size.to_string(), "--version", version]);
    if let Some(k) = key {
        cmd.arg("--key").arg(k);
    }
    run(&mut cmd);
}
