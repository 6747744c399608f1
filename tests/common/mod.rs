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
    make_image_with(out, size, version, key, &[]);
}

/// [`make_image`] with more make-image.py options (e.g. `--load-addr`).
pub fn make_image_with(out: &Path, size: usize, version: &str, key: Option<&Path>, extra: &[&str]) {
    let mut cmd = Command::new("python3");
    cmd.arg(root().join("scripts/make-image.py"))
        .arg("--out")
        .arg(out)
        .args(["--size", &size.to_string(), "--version", version])
        .args(extra);
    if let Some(k) = key {
        cmd.arg("--key").arg(k);
    }
    run(&mut cmd);
}

/// A Python test server on 127.0.0.1, killed and reaped on drop.
pub struct PyServer {
    child: std::process::Child,
    pub port: u16,
    /// Its JSON-lines request log.
    pub log: PathBuf,
    /// Its scratch directory (port files, log).
    pub work: PathBuf,
}

impl Drop for PyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port number a server wrote to `path`, once it is there.
pub fn read_port(path: &Path) -> Option<u16> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

impl PyServer {
    /// Start `script` (relative to the repository) with `args` plus
    /// `--port-file` and `--log` in `work`, and wait until it listens.
    pub fn spawn(script: &str, work: PathBuf, args: &[std::ffi::OsString]) -> PyServer {
        std::fs::create_dir_all(&work).unwrap();
        let port_file = work.join("port");
        let log = work.join("log.jsonl");
        let _ = std::fs::remove_file(&port_file);
        let _ = std::fs::remove_file(&log);
        let child = Command::new("python3")
            .arg(root().join(script))
            .args(args)
            .arg("--port-file")
            .arg(&port_file)
            .arg("--log")
            .arg(&log)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {script}: {e}"));
        // The guard owns the child from here on, so it is killed and reaped
        // whatever happens.
        let mut srv = PyServer {
            child,
            port: 0,
            log,
            work,
        };
        let t0 = std::time::Instant::now();
        while srv.port == 0 {
            if let Some(p) = read_port(&port_file) {
                srv.port = p;
            }
            assert!(
                t0.elapsed() < std::time::Duration::from_secs(10),
                "{script} did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        srv
    }

    /// The request log so far, one JSON object a line.
    pub fn log(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }

    /// The GET requests of the log.
    pub fn gets(&self) -> Vec<String> {
        self.log()
            .into_iter()
            .filter(|l| l.contains("\"method\":\"GET\""))
            .collect()
    }
}

/// One finished fota-sim run: its slot file and what it printed. Each suite
/// adds the assertions it needs.
pub struct Sim {
    pub slot: PathBuf,
    pub out: Output,
}

impl Sim {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
    pub fn code(&self) -> i32 {
        self.out.status.code().unwrap_or(-1)
    }
}
