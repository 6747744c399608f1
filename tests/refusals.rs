// SPDX-License-Identifier: Apache-2.0
//! The checks before the upgrade (src/checks.rs) refusing real imgtool
//! images, end to end: an image linked for another slot, an older one than
//! the running firmware, one signed with another key, and an unsigned one
//! while a key is configured.
//!
//! Through fota-sim (the NCS C API, the core and the host port, over HTTP on
//! 127.0.0.1, the device given by --primary-slot, --running-version and
//! --verify-key): exit 5, `stage=image` and the check named in the
//! diagnostic, the image in the slot (downloaded and hashed) but the trailer
//! page erased, though it held an upgrade request before. The same images
//! accepted when nothing is wrong show each refusal is the check's.
//!
//! Through the `Engine` directly (tests/memport's device with the same
//! layout, running version and key): the `CheckError` the diagnostic
//! carries, no `request_upgrade` call, no progress left.

use fota_rs::checks::{CheckError, Checks, VerifyKey};
use fota_rs::engine::{Config, Engine, Request};
use fota_rs::image::ImageSet;
use fota_rs::mcuboot::{Version, PROGRESS_KEY};
use fota_rs::port::{DeviceLayout, FlashGeometry};
use fota_rs::{Errno, Error, Stage};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

mod common;
mod memport;
use common::{fixture_dir, make_image_with, root, run, signing_key, PyServer, Sim};
use memport::{Device, BOOT_MAGIC};

/// fota-sim's default slot (0x70000) and page.
const SLOT: usize = 0x70000;
const PAGE: usize = 4096;
const RUNNING: &str = "1.2.0";

struct Fixtures {
    dir: PathBuf,
    www: PathBuf,
}

/// Images in `www`: `good` (1.3.0, the test key, linked for nRF9160's
/// primary slot 0xc000 + 0x200), `linked` (the same linked for 0x20200),
/// `old` (1.1.0), `other-key` (signed with another key), `unsigned`.
fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| {
        let (dir, www) = fixture_dir("refusals-fixtures");
        let key = root().join("tests/data/test-key.pem");
        let other = signing_key(&dir);
        let size = 20_000;
        let img = |name: &str, version: &str, key: Option<&Path>, extra: &[&str]| {
            make_image_with(&www.join(name), size, version, key, extra);
        };
        img("good.bin", "1.3.0", Some(&key), &[]);
        img(
            "linked.bin",
            "1.3.0",
            Some(&key),
            &["--load-addr", "0x20200"],
        );
        img("old.bin", "1.1.0", Some(&key), &[]);
        img("other-key.bin", "1.3.0", Some(&other), &[]);
        img("unsigned.bin", "1.3.0", None, &[]);
        Fixtures { dir, www }
    })
}

fn image(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().www.join(name)).unwrap()
}

fn server(tag: &str) -> PyServer {
    let f = fixtures();
    PyServer::spawn(
        "tests/server/fota_server.py",
        f.dir.join(format!("srv-{tag}-{}", std::process::id())),
        &["--root".into(), f.www.clone().into()],
    )
}

/// fota-sim on `name` with the device facts of these tests, `extra` last,
/// on a slot whose trailer holds a stale upgrade request (magic and a test
/// swap_info, as MCUboot's boot_request_upgrade leaves it).
fn sim(srv: &PyServer, case: &str, name: &str, extra: &[&str]) -> Sim {
    let f = fixtures();
    let slot = f.dir.join(format!("slot-{case}.bin"));
    let _ = std::fs::remove_file(slot.with_extension("bin.state"));
    let mut flash = vec![0xffu8; SLOT];
    flash[SLOT - 16..].copy_from_slice(&BOOT_MAGIC);
    flash[SLOT - 40] = 2;
    std::fs::write(&slot, &flash).unwrap();
    let key = root().join("tests/data/test-key.pub.pem");
    let url = format!("http://127.0.0.1:{}/{name}", srv.port);
    let out = Command::new(env!("CARGO_BIN_EXE_fota-sim"))
        .arg(&url)
        .arg("--flash")
        .arg(&slot)
        .args(["--running-version", RUNNING, "--verify-key"])
        .arg(&key)
        .args(["--backoff-ms", "50", "--timeout-ms", "5000", "--quiet"])
        .args(extra)
        .output()
        .expect("run fota-sim");
    let s = Sim { slot, out };
    eprintln!(
        "--- fota-sim {case} exit {}\n{}{}",
        s.code(),
        s.stdout(),
        s.stderr()
    );
    s
}

/// Refused by `check` with `errno`, the diagnostic saying `why`; the image
/// was downloaded and hashed, and the trailer page is erased.
fn assert_refused(s: &Sim, image: &[u8], check: &str, errno: &str, why: &str) {
    let out = s.stdout();
    assert_eq!(s.code(), 5, "exit status: {out}");
    assert!(out.contains("stage=image"), "{out}");
    assert!(out.contains(&format!("error={errno}")), "{out}");
    assert!(out.contains(&format!("check={check} ")), "{out}");
    assert!(out.contains(why), "diagnostic lacks {why:?}: {out}");
    assert!(out.contains("nothing was scheduled"), "{out}");
    assert!(!out.contains("upgrade requested"), "{out}");
    let slot = std::fs::read(&s.slot).unwrap();
    assert_eq!(slot.len(), SLOT);
    assert!(
        slot[SLOT - PAGE..].iter().all(|&b| b == 0xff),
        "trailer page not erased"
    );
    assert!(
        slot[..image.len()] == *image,
        "the image is not in the slot"
    );
}

#[test]
fn fota_sim_accepts_each_image_when_nothing_is_wrong() {
    let srv = server("accept");
    let good = sim(&srv, "accept-good", "good.bin", &[]);
    let layout_ok = sim(
        &srv,
        "accept-linked",
        "linked.bin",
        &["--primary-slot", "0x20000:0x60000"],
    );
    let downgrade = sim(&srv, "accept-old", "old.bin", &["--allow-downgrade"]);
    for (s, name) in [
        (&good, "good.bin"),
        (&layout_ok, "linked.bin"),
        (&downgrade, "old.bin"),
    ] {
        assert_eq!(s.code(), 0, "{name}: {}", s.stdout());
        run(Command::new("python3")
            .arg(root().join("scripts/check-slot.py"))
            .arg("--flash")
            .arg(&s.slot)
            .arg("--image")
            .arg(fixtures().www.join(name))
            .args(["--expect", "test"]));
    }
}

#[test]
fn fota_sim_refuses_an_image_linked_for_another_slot() {
    let srv = server("linked");
    // Linked for 0x20200 on a device whose primary slot is at 0xc000.
    let s = sim(&srv, "linked", "linked.bin", &[]);
    assert_refused(
        &s,
        &image("linked.bin"),
        "layout",
        "ENOEXEC",
        "image linked for 0x00020200 but this device needs 0x0000c200",
    );
    // Linked for 0xc200 on a device whose primary slot is at 0x20000.
    let s = sim(
        &srv,
        "moved-slot",
        "good.bin",
        &["--primary-slot", "0x20000:0x60000"],
    );
    assert_refused(
        &s,
        &image("good.bin"),
        "layout",
        "ENOEXEC",
        "image linked for 0x0000c200 but this device needs 0x00020200",
    );
}

#[test]
fn fota_sim_refuses_an_older_image() {
    let srv = server("old");
    let s = sim(&srv, "old", "old.bin", &[]);
    assert_refused(
        &s,
        &image("old.bin"),
        "version",
        "ENOEXEC",
        "image version 1.1.0+0 is not newer than the running 1.2.0+0",
    );
    // The same version as the running one is not newer either.
    let s = sim(&srv, "same", "good.bin", &["--running-version", "1.3.0"]);
    assert_refused(
        &s,
        &image("good.bin"),
        "version",
        "ENOEXEC",
        "image version 1.3.0+0 is not newer than the running 1.3.0+0",
    );
}

#[test]
fn fota_sim_refuses_an_image_signed_with_another_key() {
    let srv = server("other-key");
    let s = sim(&srv, "other-key", "other-key.bin", &[]);
    assert_refused(
        &s,
        &image("other-key.bin"),
        "signature",
        "EILSEQ",
        "image is signed with another key",
    );
}

#[test]
fn fota_sim_refuses_an_unsigned_image_when_a_key_is_configured() {
    let srv = server("unsigned");
    let s = sim(&srv, "unsigned", "unsigned.bin", &[]);
    assert_refused(
        &s,
        &image("unsigned.bin"),
        "signature",
        "EILSEQ",
        "image has no ECDSA-P256 signature TLV",
    );
}

// --- the engine directly ---------------------------------------------------

/// The test key as the engine takes it (it keeps a `'static` reference).
fn test_key() -> VerifyKey {
    static DER: OnceLock<Vec<u8>> = OnceLock::new();
    let der =
        DER.get_or_init(|| std::fs::read(root().join("tests/data/test-key.pub.der")).unwrap());
    VerifyKey::from_spki_der(der).unwrap()
}

/// nRF9160-like: primary slot 0xc000 + 0x70000, RAM 0x20000000 + 256 KiB,
/// running 1.2.0; the image on the in-memory server at /app.bin.
fn device(file: Vec<u8>) -> Device {
    let mut dev = Device::new(FlashGeometry {
        slot_size: SLOT as u32,
        page_size: PAGE as u32,
        write_block: 4,
        erased_value: 0xff,
    });
    dev.layout = Some(DeviceLayout {
        primary_addr: 0xc000,
        primary_size: 0x70000,
        ram_addr: 0x2000_0000,
        ram_size: 0x40000,
    });
    dev.running = Some(Version {
        major: 1,
        minor: 2,
        revision: 0,
        build: 0,
    });
    dev.files.insert("/app.bin".into(), file);
    dev
}

fn engine_download(dev: &mut Device) -> (Result<(), Error>, Option<CheckError>) {
    let cfg = Config {
        checks: Checks {
            layout: true,
            allow_downgrade: false,
            verify_key: Some(test_key()),
        },
        ..Config::default()
    };
    let mut e = Engine::new(cfg);
    let url = "https://fw.test/app.bin";
    let req = Request {
        host: url,
        file: url,
        sec_tags: &[42],
        pdn_id: 0,
        frag_size: 0,
        expected: ImageSet::ANY,
    };
    let r = e
        .start(dev, &req)
        .and_then(|_| e.run(dev, &std::sync::atomic::AtomicBool::new(false), &mut |_| {}))
        .map(drop);
    (r, e.diag().check.as_ref().copied())
}

#[test]
fn engine_refuses_each_image_and_requests_nothing() {
    let (r, check) = engine_download(&mut device(image("good.bin")));
    assert_eq!(r, Ok(()), "the good image is accepted");
    assert_eq!(check, None);

    /// The refusal each image must get.
    type Expected = fn(&CheckError) -> bool;
    let cases: [(&str, Errno, Expected); 4] = [
        ("linked.bin", Errno::NoExec, |c| {
            matches!(
                c,
                CheckError::LinkedElsewhere {
                    linked_for: 0x20200,
                    needed: 0xc200,
                    ..
                }
            )
        }),
        (
            "old.bin",
            Errno::NoExec,
            |c| matches!(c, CheckError::NotNewer { image, .. } if image.minor == 1),
        ),
        ("other-key.bin", Errno::IlSeq, |c| {
            matches!(
                c,
                CheckError::WrongKey {
                    image_key: Some(_),
                    ..
                }
            )
        }),
        ("unsigned.bin", Errno::IlSeq, |c| {
            matches!(c, CheckError::Unsigned)
        }),
    ];
    for (name, errno, expected) in cases {
        let img = image(name);
        let mut dev = device(img.clone());
        let (r, check) = engine_download(&mut dev);
        assert_eq!(r, Err(Error::new(Stage::Image, errno)), "{name}");
        let check = check.unwrap_or_else(|| panic!("{name}: no check in the diagnostic"));
        assert!(expected(&check), "{name}: {check:?}");
        assert_eq!(dev.upgrades_requested, 0, "{name}: upgrade requested");
        assert!(!dev.upgrade_pending(), "{name}");
        assert!(
            dev.flash[SLOT - PAGE..].iter().all(|&b| b == 0xff),
            "{name}: trailer page not erased"
        );
        assert_eq!(
            &dev.flash[..img.len()],
            &img[..],
            "{name}: image not in the slot"
        );
        assert!(!dev.kv.contains_key(PROGRESS_KEY), "{name}: progress left");
        assert_eq!(dev.dirty_writes, 0, "{name}");
    }
}
