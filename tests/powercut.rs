// SPDX-License-Identifier: Apache-2.0
//! Deterministic power-cut sweep: the real `Engine` over tests/memport's NOR
//! device, with the power cut at every persisting operation of a download
//! (each page erase, each flash write, each progress save, each progress
//! delete, each trailer field), torn where NOR can tear (a write landing a
//! prefix, an erase leaving part of its page unerased, with the old content
//! or noise), then booted again and downloaded again.
//!
//! After every cut: no upgrade is pending unless the slot's image verifies,
//! and nothing was programmed over unerased cells. After the next run: the
//! slot holds the image byte for byte with the trailer of `request_upgrade`,
//! no progress is left behind, and no byte was downloaded more than one
//! fragment plus one page over the image's length. When the server's file
//! changed between the runs, the next run starts over and ends with the new
//! file (a change of size is seen at the first answer; one of the same size
//! only by its hash, one refused run later). A second test cuts the run
//! after a cut again, at each of its operations.

use fota_rs::engine::{Config, Engine, Finished, Request, RX_BUF};
use fota_rs::image::ImageSet;
use fota_rs::mcuboot::PROGRESS_KEY;
use fota_rs::port::FlashGeometry;
use fota_rs::{Errno, Error, Stage};
use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;

mod common;
mod memport;
use memport::{Cut, Device, OpKind, Tear};

const GEO: FlashGeometry = FlashGeometry {
    slot_size: 16 * 1024,
    page_size: 1024,
    write_block: 4,
    erased_value: 0xff,
};
const FRAG: u32 = 2048;
const PATH: &str = "/app.bin";

/// The sweep's images: a small imgtool image, and two newer builds
/// of it (the server's file changed): one of another size, one of the same.
struct Images {
    image: Vec<u8>,
    other_size: Vec<u8>,
    same_size: Vec<u8>,
}

/// Made once per test binary (the tests run in parallel and share the files).
fn images() -> &'static Images {
    static IMAGES: std::sync::OnceLock<Images> = std::sync::OnceLock::new();
    IMAGES.get_or_init(make_images)
}

fn make_images() -> Images {
    let (dir, _) = common::fixture_dir("powercut-fixtures");
    // Hash-only (an ECDSA signature's DER length varies by a byte, and the
    // same-size build must be exactly the same size).
    let make = |name: &str, size: usize, version: &str| {
        let out = dir.join(name);
        common::make_image(&out, size, version, None);
        std::fs::read(&out).unwrap()
    };
    let image = make("app.bin", 6000, "1.0.0");
    let other_size = make("app-bigger.bin", 7100, "1.0.1");
    let same_size = make("app-same-size.bin", 6000, "1.0.2");
    assert_eq!(image.len(), same_size.len());
    assert_ne!(image.len(), other_size.len());
    assert_ne!(image, same_size);
    Images {
        image,
        other_size,
        same_size,
    }
}

#[derive(Clone, Copy, Debug)]
struct Mode {
    https: bool,
    permanent: bool,
}

fn download(dev: &mut Device, mode: Mode) -> Result<Finished, Error> {
    let url = if mode.https {
        "https://fw.test/app.bin?X-Amz-Signature=1"
    } else {
        "http://fw.test/app.bin"
    };
    let tags: &[i32] = if mode.https { &[42] } else { &[] };
    let mut e = Engine::new(Config {
        frag_size: FRAG,
        permanent: mode.permanent,
        ..Config::default()
    });
    let req = Request {
        host: url,
        file: url,
        sec_tags: tags,
        pdn_id: 0,
        frag_size: 0,
        expected: ImageSet::ANY,
    };
    e.start(dev, &req)?;
    e.run(dev, &AtomicBool::new(false), &mut |_| {})
}

fn device(file: &[u8]) -> Device {
    let mut dev = Device::new(GEO);
    dev.files.insert(PATH.into(), file.to_vec());
    dev
}

/// The ways an operation of `kind` (a write: of `write_len` bytes) can end
/// when the power goes during it.
fn tears(kind: OpKind, write_len: usize) -> Vec<Tear> {
    let page = GEO.page_size as usize;
    match kind {
        OpKind::Erase => vec![
            Tear::Before,
            Tear::EraseFirst {
                n: page / 2,
                garbage: false,
            },
            Tear::EraseFirst {
                n: page / 4,
                garbage: true,
            },
        ],
        OpKind::Write | OpKind::TrailerWrite => {
            let mut v = vec![Tear::Before];
            for n in [1, write_len / 2, write_len - 1] {
                if n > 0 && n < write_len && !v.contains(&Tear::WritePrefix(n)) {
                    v.push(Tear::WritePrefix(n));
                }
            }
            v
        }
        OpKind::KvSave | OpKind::KvDelete => vec![Tear::Before],
    }
}

/// What one clean run does, operation by operation, with each write's length.
fn clean_run(file: &[u8], mode: Mode) -> Vec<(OpKind, usize)> {
    let mut dev = device(file);
    download(&mut dev, mode).expect("clean run");
    assert_eq!(dev.dirty_writes, 0);
    dev.slot_holds(file, mode.permanent).unwrap();
    assert!(!dev.kv.contains_key(PROGRESS_KEY));
    dev.ops
}

/// What the sweep saw, for the assertions at the end.
#[derive(Default, Debug)]
struct Tally {
    /// Cuts made, by the kind of operation cut.
    cuts: BTreeMap<OpKind, usize>,
    torn: usize,
    runs: usize,
    /// After the cut: an upgrade pending (for a verified image), or not.
    pending_after_cut: usize,
    not_pending_after_cut: usize,
    /// The run after the cut: continued from saved progress, or from 0.
    resumed: usize,
    from_zero: usize,
    /// Changed file: the next run started over and ended with the new file
    /// (size change), or was refused by its hash and the run after it did.
    changed_restarts: usize,
    changed_refused_then_restarted: usize,
    most_redownloaded: u64,
}

/// The checks right after a cut: nothing unverified can be swapped in.
fn after_cut(dev: &Device, what: &str, t: &mut Tally) {
    assert_eq!(
        dev.dirty_writes, 0,
        "{what}: programmed over unerased cells"
    );
    if dev.upgrade_pending() {
        assert!(
            dev.slot_verifies(),
            "{what}: upgrade pending for a slot that does not verify"
        );
        t.pending_after_cut += 1;
    } else {
        t.not_pending_after_cut += 1;
    }
}

/// First ranged request's start (or 0 for a plain GET) among `reqs`.
fn first_offset(reqs: &[String]) -> u64 {
    let r = reqs.first().expect("a request");
    let range = r.rsplit("range=").next().unwrap();
    range.split('-').next().unwrap().parse().unwrap_or(0)
}

/// The next run after a cut: succeeds and leaves exactly the image.
fn run_again(dev: &mut Device, file: &[u8], mode: Mode, what: &str, t: &mut Tally) {
    dev.reboot();
    dev.requests.clear();
    let r = download(dev, mode);
    t.runs += 1;
    let fin = r.unwrap_or_else(|e| panic!("{what}: the run after the cut failed: {e:?}"));
    assert_eq!(fin.image_len as usize, file.len(), "{what}");
    assert_eq!(
        dev.dirty_writes, 0,
        "{what}: programmed over unerased cells"
    );
    dev.slot_holds(file, mode.permanent)
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(!dev.kv.contains_key(PROGRESS_KEY), "{what}: progress left");
}

fn sweep(imgs: &Images, mode: Mode, t: &mut Tally) {
    let file = &imgs.image;
    let plan = clean_run(file, mode);
    let kinds: Vec<OpKind> = plan.iter().map(|p| p.0).collect();
    for k in [
        OpKind::Erase,
        OpKind::Write,
        OpKind::KvSave,
        OpKind::KvDelete,
        OpKind::TrailerWrite,
    ] {
        assert!(kinds.contains(&k), "{mode:?}: a clean run has no {k:?}");
    }
    let bound = u64::from(FRAG.max(RX_BUF as u32) + GEO.page_size);
    for (at, &(kind, len)) in plan.iter().enumerate() {
        for tear in tears(kind, len) {
            let what = format!("{mode:?} cut at op {at} ({kind:?}, {tear:?})");
            // Same file on the next boot.
            let mut dev = device(file);
            dev.cut = Some(Cut { at, tear });
            let first = download(&mut dev, mode);
            t.runs += 1;
            assert!(dev.dead, "{what}: the cut was not reached");
            *t.cuts.entry(kind).or_default() += 1;
            t.torn += usize::from(tear != Tear::Before);
            if first.is_ok() {
                // Only the final progress delete can fail unseen.
                assert_eq!(kind, OpKind::KvDelete, "{what}: {first:?}");
            }
            after_cut(&dev, &what, t);
            let received = dev.body_received;
            dev.body_received = 0;
            run_again(&mut dev, file, mode, &what, t);
            if first_offset(&dev.requests) > 0 {
                t.resumed += 1;
            } else {
                t.from_zero += 1;
            }
            let again = received + dev.body_received - file.len() as u64;
            assert!(
                again <= bound,
                "{what}: {again} bytes downloaded twice (bound {bound})"
            );
            t.most_redownloaded = t.most_redownloaded.max(again);

            // The server's file changed while the power was off.
            if tear != Tear::Before {
                continue;
            }
            for (new, same) in [(&imgs.other_size, false), (&imgs.same_size, true)] {
                let what = format!(
                    "{what}, then a {} file",
                    if same { "same-size" } else { "resized" }
                );
                let mut dev = device(file);
                dev.cut = Some(Cut { at, tear });
                let _ = download(&mut dev, mode);
                t.runs += 1;
                after_cut(&dev, &what, t);
                dev.files.insert(PATH.into(), new.clone());
                let resumes = dev.kv.contains_key(PROGRESS_KEY);
                dev.reboot();
                dev.requests.clear();
                let r = download(&mut dev, mode);
                t.runs += 1;
                if same && resumes {
                    // Same size: only the hash can tell; refused, nothing requested.
                    let e = r.expect_err(&what);
                    assert_eq!(e, Error::new(Stage::Image, Errno::IlSeq), "{what}");
                    assert!(!dev.upgrade_pending(), "{what}: upgrade pending");
                    assert!(!dev.kv.contains_key(PROGRESS_KEY), "{what}: progress left");
                    run_again(&mut dev, new, mode, &what, t);
                    assert_eq!(first_offset(&dev.requests), 0, "{what}: did not start over");
                    t.changed_refused_then_restarted += 1;
                } else {
                    let fin = r.unwrap_or_else(|e| panic!("{what}: {e:?}"));
                    assert_eq!(fin.image_len as usize, new.len());
                    assert_eq!(dev.dirty_writes, 0, "{what}");
                    dev.slot_holds(new, mode.permanent)
                        .unwrap_or_else(|e| panic!("{what}: {e}"));
                    assert!(!dev.kv.contains_key(PROGRESS_KEY), "{what}: progress left");
                    // It started over: some request asked for the file from 0.
                    assert!(
                        dev.requests
                            .iter()
                            .any(|r| r.contains("range=-") || r.contains("range=0-")),
                        "{what}: never asked from 0: {:?}",
                        dev.requests
                    );
                    t.changed_restarts += usize::from(resumes);
                }
            }
        }
    }
}

#[test]
fn power_cut_at_every_persisting_operation() {
    let imgs = images();
    let mut t = Tally::default();
    for mode in [
        Mode {
            https: true,
            permanent: false,
        },
        Mode {
            https: false,
            permanent: false,
        },
        Mode {
            https: true,
            permanent: true,
        },
    ] {
        sweep(imgs, mode, &mut t);
    }
    eprintln!("power-cut sweep: {t:#?}");
    let cuts: usize = t.cuts.values().sum();
    // A 6 KB image over 1 KiB pages: at least 6 erases, 6 progress saves and
    // a dozen writes per mode, each cut whole and torn.
    assert!(cuts >= 300, "only {cuts} cuts");
    assert!(t.torn >= 150, "only {} torn operations", t.torn);
    assert!(t.cuts[&OpKind::KvSave] >= 3 * 5);
    assert!(t.cuts[&OpKind::TrailerWrite] >= 3 * 2);
    assert!(t.resumed >= 30, "resumed {}", t.resumed);
    assert!(t.from_zero >= 3, "from zero {}", t.from_zero);
    assert!(t.pending_after_cut >= 3, "{t:?}");
    assert!(t.changed_restarts >= 15, "{t:?}");
    assert!(t.changed_refused_then_restarted >= 15, "{t:?}");
}

/// A second cut while the run after the first one recovers (re-erasing the
/// trailer, resuming, re-erasing the page it resumes at): every operation of
/// the first run cut whole, every operation of the run after it cut whole or
/// torn, then a clean run. https only, to keep the pairs to a few thousand.
#[test]
fn a_second_cut_while_recovering() {
    let imgs = images();
    let file = &imgs.image;
    let mode = Mode {
        https: true,
        permanent: false,
    };
    let plan = clean_run(file, mode);
    let mut t = Tally::default();
    let mut pairs = 0;
    for first in 0..plan.len() {
        let mut dev = device(file);
        dev.cut = Some(Cut {
            at: first,
            tear: Tear::Before,
        });
        let _ = download(&mut dev, mode);
        assert!(dev.dead);
        dev.reboot();
        // What the run after the cut does when nothing stops it.
        let base = dev.ops.len();
        let mut probe = dev.clone();
        download(&mut probe, mode).expect("the run after one cut");
        for (at, &(kind, len)) in probe.ops.iter().enumerate().skip(base) {
            for tear in tears(kind, len) {
                let what = format!("cut at op {first}, then at op {at} ({kind:?}, {tear:?})");
                let mut d = dev.clone();
                d.cut = Some(Cut { at, tear });
                let _ = download(&mut d, mode);
                t.runs += 1;
                assert!(d.dead, "{what}: the second cut was not reached");
                after_cut(&d, &what, &mut t);
                run_again(&mut d, file, mode, &what, &mut t);
                *t.cuts.entry(kind).or_default() += 1;
                t.torn += usize::from(tear != Tear::Before);
                pairs += 1;
            }
        }
    }
    eprintln!("second cuts: {pairs} pairs, {t:#?}");
    assert!(pairs >= 1000, "only {pairs} pairs of cuts");
    assert!(t.torn >= 500, "only {} torn second cuts", t.torn);
    assert!(t.cuts[&OpKind::KvSave] >= 50, "{t:?}");
    assert!(t.cuts[&OpKind::Erase] >= 200, "{t:?}");
    assert!(t.pending_after_cut >= 3, "{t:?}");
}
