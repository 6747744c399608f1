// SPDX-License-Identifier: Apache-2.0
//! The Memfault flow on a PC and the host port's device facts.
//!
//! `fota-sim memfault` against tests/memfault/fake_memfault.py (a Memfault-like
//! device API over HTTPS on 127.0.0.1) and tests/server/fota_server.py (the
//! S3-like server holding the release), with real certificates and a real
//! imgtool-signed image: the release query as `mflt_nrf fota` sends it, the
//! download through `fota_download_start(url, url, tag, 0, 0)`, "up to date"
//! with the fields that did not match, and a refused project key.
//!
//! `modem_delta_resumes_from_the_modems_offset` sends a modem delta image
//! through fota-sim into the host port's simulated modem ("<slot>.modem"),
//! cancelled and then resumed from the offset the modem reports.
//!
//! `host_port_device_facts_and_modem_delta` drives the host port's optional
//! members (running version, device layout, modem delta DFU) through the
//! core's C adapter, and the checks of src/checks.rs over it, in a child
//! process (the port is process-global and configured from the environment).

use fota_rs::checks::{check_image, CheckError, Checks, Outcome, VerifyKey};
use fota_rs::port::{DeviceLayout, Port};
use fota_rs::version::Version;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

const PROJECT_KEY: &str = "mflt-test-project-key";
const HW: &str = "nrf9160dk";
const SW: &str = "app-fw";
const CURRENT: &str = "1.2.0";
/// A pre-signed-URL-like query the download must carry unchanged.
const S3_QUERY: &str = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600&X-Amz-Signature=0123456789abcdef0123456789abcdef";

mod common;
use common::{fixture_dir, make_image, root, run, Sim};

struct Fixtures {
    dir: PathBuf,
    www: PathBuf,
    image: PathBuf,
}

fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| {
        let (dir, www) = fixture_dir("memfault-fixtures");
        let image = www.join("release.bin");
        make_image(
            &image,
            30_000,
            "1.3.0",
            Some(&root().join("tests/data/test-key.pem")),
        );
        Fixtures { dir, www, image }
    })
}

use common::PyServer as Server;

impl Server {
    fn start(tag: &str, script: &str, args: &[String]) -> Server {
        let f = fixtures();
        let mut all: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
        all.extend([
            "--cert".into(),
            f.dir.join("certs/server.pem").into(),
            "--key".into(),
            f.dir.join("certs/server.key").into(),
        ]);
        Server::spawn(
            script,
            f.dir.join(format!("{tag}-{}", std::process::id())),
            &all,
        )
    }
}

/// The release on an S3-like server and a Memfault API pointing to it.
struct Cloud {
    s3: Server,
    api: Server,
}

impl Cloud {
    fn start(tag: &str) -> Cloud {
        let f = fixtures();
        let s3 = Server::start(
            &format!("{tag}-s3"),
            "tests/server/fota_server.py",
            &[
                "--root".into(),
                f.www.display().to_string(),
                "--tls12".into(),
            ],
        );
        let url = format!(
            "https://memfault-test.s3.localhost:{}/release.bin?{S3_QUERY}",
            s3.port
        );
        let api = Server::start(
            &format!("{tag}-api"),
            "tests/memfault/fake_memfault.py",
            &[
                "--project-key".into(),
                PROJECT_KEY.into(),
                "--release".into(),
                format!(
                    "hardware_version={HW},software_type={SW},current_version={CURRENT},url={url}"
                ),
            ],
        );
        Cloud { s3, api }
    }

    /// `fota-sim memfault` with the given field overrides.
    fn sim(&self, name: &str, overrides: &[(&str, &str)]) -> Sim {
        let f = fixtures();
        let slot = f.dir.join(format!("slot-{name}.bin"));
        let _ = std::fs::remove_file(&slot);
        let _ = std::fs::remove_file(slot.with_extension("bin.state"));
        let mut fields = vec![
            ("--api", format!("https://localhost:{}", self.api.port)),
            ("--project-key", PROJECT_KEY.to_string()),
            ("--device-serial", "TEST-DEVICE-1".to_string()),
            ("--hardware-version", HW.to_string()),
            ("--software-type", SW.to_string()),
            ("--current-version", CURRENT.to_string()),
        ];
        for (k, v) in overrides {
            if let Some(f) = fields.iter_mut().find(|(n, _)| n == k) {
                f.1 = v.to_string();
            }
        }
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_fota-sim"));
        cmd.arg("memfault");
        for (k, v) in &fields {
            cmd.arg(k).arg(v);
        }
        let out = cmd
            .args(["--sec-tag", "42", "--resolve"])
            .arg(format!("localhost:{}:127.0.0.1", self.api.port))
            .arg("--resolve")
            .arg(format!(
                "memfault-test.s3.localhost:{}:127.0.0.1",
                self.s3.port
            ))
            .arg("--cred-dir")
            .arg(f.dir.join("certs/creds"))
            .arg("--flash")
            .arg(&slot)
            .args(["--backoff-ms", "50", "--timeout-ms", "5000", "--quiet"])
            .output()
            .expect("run fota-sim");
        let s = Sim { slot, out };
        eprintln!(
            "--- fota-sim memfault ({name}) exit {}\n{}{}",
            s.code(),
            s.stdout(),
            s.stderr()
        );
        s
    }

    fn s3_gets(&self) -> Vec<String> {
        self.s3.gets()
    }
}

impl Sim {
    fn assert_nothing_written(&self) {
        // fota-sim creates the slot erased; nothing may have been programmed.
        let s = std::fs::read(&self.slot).unwrap_or_default();
        assert!(s.iter().all(|&b| b == 0xff), "slot was written");
    }
}

/// The request as the fake API logged it: (query fields, key accepted, status).
fn api_requests(cloud: &Cloud) -> Vec<String> {
    cloud.api.log()
}

#[test]
fn release_found_is_downloaded_like_mflt_nrf_fota() {
    let cloud = Cloud::start("found");
    let s = cloud.sim("found", &[]);
    assert_eq!(s.code(), 0, "{}", s.stdout());
    assert!(s.stdout().contains("OK: image 1.3.0+0"), "{}", s.stdout());
    run(Command::new("python3")
        .arg(root().join("scripts/check-slot.py"))
        .arg("--flash")
        .arg(&s.slot)
        .arg("--image")
        .arg(&fixtures().image)
        .args(["--expect", "test"]));

    let reqs = api_requests(&cloud);
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    for want in [
        "\"path\": \"/api/v0/releases/latest/url\"",
        "\"device_serial\": \"TEST-DEVICE-1\"",
        &format!("\"hardware_version\": \"{HW}\""),
        &format!("\"software_type\": \"{SW}\""),
        &format!("\"current_version\": \"{CURRENT}\""),
        "\"key_ok\": true",
        "\"status\": 200",
    ] {
        assert!(reqs[0].contains(want), "{want} not in {}", reqs[0]);
    }
    // The URL went to the download as a whole: every ranged GET carries the
    // pre-signed query, and the signature is not in the log.
    let gets = cloud.s3_gets();
    assert!(!gets.is_empty());
    assert!(
        gets.iter()
            .all(|g| g.contains("\"path\":\"/release.bin\"") && g.contains(S3_QUERY)),
        "{gets:?}"
    );
    assert!(
        !s.stderr().contains("0123456789abcdef"),
        "signature leaked: {}",
        s.stderr()
    );
}

#[test]
fn no_matching_release_says_up_to_date_with_the_fields_sent() {
    let cloud = Cloud::start("uptodate");
    // The user's trap: another CONFIG_MEMFAULT_NCS_FW_TYPE.
    let s = cloud.sim("uptodate", &[("--software-type", "app-fw-v2")]);
    assert_eq!(s.code(), 8, "{}", s.stdout());
    let out = s.stdout();
    assert!(out.contains("up to date"), "{out}");
    for field in [
        "device_serial=TEST-DEVICE-1",
        "hardware_version=nrf9160dk",
        "software_type=app-fw-v2",
        "current_version=1.2.0",
    ] {
        assert!(out.contains(field), "{field} not in {out}");
    }
    assert!(out.contains("HTTP 204"), "{out}");
    assert!(cloud.s3_gets().is_empty(), "nothing may be downloaded");
    s.assert_nothing_written();
    let reqs = api_requests(&cloud);
    assert!(reqs[0].contains("\"status\": 204"), "{reqs:?}");

    // Same for a version the release does not start from.
    let s = cloud.sim("uptodate-ver", &[("--current-version", "1.3.0")]);
    assert_eq!(s.code(), 8);
    assert!(
        s.stdout().contains("current_version=1.3.0"),
        "{}",
        s.stdout()
    );
}

#[test]
fn wrong_project_key_is_named() {
    let cloud = Cloud::start("badkey");
    let s = cloud.sim("badkey", &[("--project-key", "not-the-key")]);
    assert_eq!(s.code(), 4, "{}", s.stdout());
    let out = s.stdout();
    assert!(
        out.contains("HTTP 401") && out.contains("project key"),
        "{out}"
    );
    assert!(cloud.s3_gets().is_empty());
    s.assert_nothing_written();
    assert!(api_requests(&cloud)[0].contains("\"key_ok\": false"));
}

#[test]
fn api_certificate_refused_like_the_modem() {
    let cloud = Cloud::start("apitls");
    let f = fixtures();
    let slot = f.dir.join("slot-apitls.bin");
    let _ = std::fs::remove_file(&slot);
    // Tag 1003 holds a CA that does not validate the API's certificate.
    let out = Command::new(env!("CARGO_BIN_EXE_fota-sim"))
        .args(["memfault", "--api"])
        .arg(format!("https://localhost:{}", cloud.api.port))
        .args(["--project-key", PROJECT_KEY, "--device-serial", "D"])
        .args(["--hardware-version", HW, "--software-type", SW])
        .args(["--current-version", CURRENT, "--sec-tag", "1003"])
        .arg("--resolve")
        .arg(format!("localhost:{}:127.0.0.1", cloud.api.port))
        .arg("--cred-dir")
        .arg(f.dir.join("certs/creds"))
        .arg("--flash")
        .arg(&slot)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(
        stdout.contains("ECONNREFUSED") && stdout.contains("certificate verify failed"),
        "{stdout}"
    );
    assert!(api_requests(&cloud).is_empty(), "no request without TLS");
}

#[test]
fn usage_errors_of_the_new_options() {
    let out = Command::new(env!("CARGO_BIN_EXE_fota-sim"))
        .args(["memfault", "--api", "https://x.test", "--project-key", "k"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("memfault needs --device-serial"));
    let out = Command::new(env!("CARGO_BIN_EXE_fota-sim"))
        .args(["https://x.test/a.bin", "--software-type", "t"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // The device-fact options are checked when the host port is configured.
    let slot = root().join(format!(
        "target/memfault-fixtures/usage-{}.bin",
        std::process::id()
    ));
    std::fs::create_dir_all(slot.parent().unwrap()).unwrap();
    let data = root().join("tests/data");
    for (opt, val, why) in [
        ("--running-version", "1.x".to_string(), "is not X.Y.Z[+B]"),
        (
            "--running-version",
            "256.0.0".to_string(),
            "is not X.Y.Z[+B]",
        ),
        (
            "--verify-key",
            data.join("test-key.pub.der").display().to_string(),
            "is not a PEM public key",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_fota-sim"))
            .args(["http://127.0.0.1:9/a.bin", opt, &val, "--flash"])
            .arg(&slot)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{opt} {val}: {err}");
        assert!(err.contains(why), "{opt} {val}: {err}");
    }
    let _ = std::fs::remove_file(&slot);
}

/// A modem delta download through fota-sim lands in "<slot>.modem": the
/// first attempt erases the never-erased area and is cancelled part-way,
/// the second continues from the offset the simulated modem reports.
#[test]
fn modem_delta_resumes_from_the_modems_offset() {
    let f = fixtures();
    // Delta images are told by the u32 at offset 4 (0x7544656d); the rest
    // is opaque to the download (the modem checks it).
    let mut delta: Vec<u8> = (0..60_000u32).map(|i| (i * 31 + i / 251) as u8).collect();
    delta[4..8].copy_from_slice(&0x7544_656du32.to_le_bytes());
    std::fs::write(f.www.join("delta.bin"), &delta).unwrap();
    let srv = Server::start(
        "delta",
        "tests/server/fota_server.py",
        &["--root".into(), f.www.display().to_string()],
    );
    let slot = f.dir.join(format!("slot-delta-{}.bin", std::process::id()));
    let modem = f
        .dir
        .join(format!("slot-delta-{}.bin.modem", std::process::id()));
    let pending = modem.with_extension("modem.pending");
    for p in [&slot, &modem, &pending] {
        let _ = std::fs::remove_file(p);
    }
    let sim = |path: &str, extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_fota-sim"))
            .arg(format!("https://fota.test:{}/{path}", srv.port))
            .args(["--sec-tag", "42", "--resolve"])
            .arg(format!("fota.test:{}:127.0.0.1", srv.port))
            .arg("--cred-dir")
            .arg(f.dir.join("certs/creds"))
            .arg("--flash")
            .arg(&slot)
            .args(extra)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!("--- fota-sim {path} {extra:?}\n{text}");
        (out.status.code(), text)
    };
    // The stall keeps the first attempt running until the cancel lands.
    let (code, text) = sim("stall-once/1000/delta.bin", &["--cancel-at", "10"]);
    assert_eq!(code, Some(7), "{text}");
    assert!(text.contains("Erasing the modem"), "{text}");
    let held = std::fs::metadata(&modem).unwrap().len() as usize;
    assert!(held > 0 && held < delta.len(), "held {held}");
    assert_eq!(std::fs::read(&modem).unwrap(), delta[..held]);
    assert!(!pending.exists(), "a cancelled delta must not be applied");

    // Same URL (the stall happens once per path): the modem's bytes are kept.
    let (code, text) = sim("stall-once/1000/delta.bin", &["--quiet"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(!text.contains("Erasing"), "resume must not erase: {text}");
    assert!(
        text.contains(&format!(
            "The modem holds part of this delta; continuing from there bytes={held}"
        )),
        "{text}"
    );
    assert!(
        text.contains("OK: modem delta image (60000 bytes)"),
        "{text}"
    );
    assert_eq!(std::fs::read(&modem).unwrap(), delta);
    assert_eq!(std::fs::read_to_string(&pending).unwrap().trim(), "60000");
    // The MCUboot slot was not touched.
    assert!(std::fs::read(&slot).unwrap().iter().all(|&b| b == 0xff));
}

extern "C" {
    fn fota_rs_platform_port() -> *const fota_rs::ffi::fota_rs_port;
}

const CHILD_ENV: &str = "FOTA_RS_TEST_HOST_PORT_CHILD";

/// Runs `host_port_child` in a fresh process with the host port configured
/// from the environment as fota-sim's options would configure it.
#[test]
fn host_port_device_facts_and_modem_delta() {
    let dir = root().join(format!(
        "target/memfault-fixtures/port-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "host_port_child", "--ignored", "--nocapture"])
        .env(CHILD_ENV, &dir)
        .env("FOTA_RS_HOST_FLASH", dir.join("slot.bin"))
        .env("FOTA_RS_HOST_SLOT_SIZE", "0x10000")
        .env("FOTA_RS_HOST_RUNNING_VERSION", "1.2.2+7")
        .env("FOTA_RS_HOST_PRIMARY_SLOT", "0x20000:0x60000")
        .env("FOTA_RS_HOST_LOG_LEVEL", "dbg")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{text}");
    assert!(out.status.success(), "child failed:\n{text}");
    assert!(text.contains("1 passed"), "child did not run:\n{text}");
}

#[test]
#[ignore = "run by host_port_device_facts_and_modem_delta in its own process"]
fn host_port_child() {
    let Some(dir) = std::env::var_os(CHILD_ENV).map(PathBuf::from) else {
        return;
    };
    let data = root().join("tests/data");
    // The slot file exists before the port opens it: the linked-for-0x20200
    // image, which is right for this (0x20000) layout.
    let slot = |image: &str| {
        let mut s = vec![0xffu8; 0x10000];
        let img = std::fs::read(data.join(image)).unwrap();
        s[..img.len()].copy_from_slice(&img);
        std::fs::write(dir.join("slot.bin"), s).unwrap();
    };
    slot("app-linked-0x20200.bin");
    // SAFETY: plain call; configures the host port from the environment.
    let table = unsafe { fota_rs_platform_port() };
    assert!(!table.is_null(), "host port configuration failed");
    // SAFETY: the host port's table is static.
    let mut port = unsafe { fota_rs::ffi::CPort::new(table) };

    assert_eq!(
        port.running_version(),
        Ok(Version {
            major: 1,
            minor: 2,
            revision: 2,
            build: 7
        })
    );
    assert_eq!(
        port.device_layout(),
        Ok(DeviceLayout {
            primary_addr: 0x20000,
            primary_size: 0x60000,
            ram_addr: 0x2000_0000,
            ram_size: 0x40000,
        })
    );

    // The checks over the real port: right layout, newer version, good signature.
    let key = VerifyKey::from_spki_der(Box::leak(
        std::fs::read(data.join("test-key.pub.der"))
            .unwrap()
            .into_boxed_slice(),
    ))
    .unwrap();
    let cfg = Checks {
        verify_key: Some(key),
        ..Checks::DEFAULT
    };
    let mut scratch = [0u8; 512];
    let passed = check_image(&mut port, &cfg, &mut scratch).unwrap();
    assert_eq!(
        (passed.layout, passed.version, passed.signature),
        (Outcome::Passed, Outcome::Passed, Outcome::Passed)
    );
    // The image built for 0xc200 is refused here, naming both addresses.
    slot("app-1.2.3.bin");
    match check_image(&mut port, &cfg, &mut scratch) {
        Err(CheckError::LinkedElsewhere {
            linked_for, needed, ..
        }) => assert_eq!((linked_for, needed), (0xc200, 0x20200)),
        other => panic!("{other:?}"),
    }

    // Modem delta DFU: a never-erased area is dirty (the core erases on
    // EAGAIN, as the Zephyr port reports OFFSET_DIRTY) and refuses writes.
    let modem = dir.join("slot.bin.modem");
    let pending = dir.join("slot.bin.modem.pending");
    let _ = std::fs::remove_file(&modem);
    let _ = std::fs::remove_file(&pending);
    assert_eq!(port.modem_delta_offset(), Err(fota_rs::Errno::Again));
    assert!(port.modem_delta_write(b"delta").is_err());
    port.modem_delta_erase().unwrap();
    assert_eq!(port.modem_delta_offset(), Ok(0));
    let part: Vec<u8> = (0..3000u32).map(|i| (i * 7) as u8).collect();
    port.modem_delta_write(&part[..1000]).unwrap();
    port.modem_delta_write(&part[1000..2000]).unwrap();
    // Interrupted: finished without applying, then resumed at its offset.
    port.modem_delta_done(false).unwrap();
    assert!(!pending.exists());
    assert_eq!(port.modem_delta_offset(), Ok(2000));
    port.modem_delta_write(&part[2000..]).unwrap();
    port.modem_delta_done(true).unwrap();
    assert_eq!(std::fs::read(&modem).unwrap(), part);
    assert_eq!(std::fs::read_to_string(&pending).unwrap().trim(), "3000");
    // A new erase starts over and drops the scheduled update.
    port.modem_delta_erase().unwrap();
    assert_eq!(port.modem_delta_offset(), Ok(0));
    assert!(!pending.exists());
}
