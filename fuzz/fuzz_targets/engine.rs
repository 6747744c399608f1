// SPDX-License-Identifier: Apache-2.0
//! The whole engine against arbitrary servers, with power cuts.
//!
//! Each connection replays one script of the input: either arbitrary bytes
//! (arbitrary recv sizes, then a close or silence), or an honest server for
//! the run's image (honouring Range) that dies after a chosen number of
//! bytes. Flash is NOR with stale contents; the key/value store may hold a
//! saved progress record (or garbage). Optionally the power is cut after a
//! chosen number of persisting operations (the write in progress torn), and
//! a fresh engine then runs on what persisted, with the same URL.
//!
//! Checked: no panic, no livelock, flash written only where erased, and the
//! promise: an upgrade is requested only by a run that succeeds, exactly once,
//! and then the slot holds an image that an independent check accepts, with
//! the trailer area erased.
#![no_main]

use core::sync::atomic::AtomicBool;
use fota_rs::engine::{Config, Engine, Request};
use fota_rs::image::ImageSet;
use fota_rs::port::FlashGeometry;
use fota_rs_fuzz::{make_image, mcuboot_trailer_start, verify_image, FakePort, Input, Script};
use libfuzzer_sys::fuzz_target;

fn debug() -> bool {
    std::env::var_os("FOTA_FUZZ_DEBUG").is_some()
}

fn download(port: &mut FakePort, cfg: &Config, tls: bool) {
    let url = if tls {
        "https://fota.test/fw.bin?X-Amz-Signature=x"
    } else {
        "http://fota.test/fw.bin"
    };
    let req = Request {
        host: url,
        file: url,
        sec_tags: if tls { &[42] } else { &[] },
        pdn_id: 0,
        frag_size: 0,
        expected: ImageSet::ANY,
    };
    let before = port.upgrade_requests.len();
    let mut e = Engine::new(cfg.clone());
    let cancel = AtomicBool::new(false);
    let result = e
        .start(port, &req)
        .and_then(|_| e.run(port, &cancel, &mut |_| {}));
    if debug() {
        eprintln!(
            "engine: {result:?}, {} requests, power {}",
            port.requests_sent,
            if port.dead { "cut" } else { "on" }
        );
    }
    let new = port.upgrade_requests.len() - before;
    match result {
        Ok(v) => {
            assert_eq!(new, 1, "upgrade requested {new} times");
            let len = verify_image(&port.flash)
                .unwrap_or_else(|err| panic!("engine scheduled a bad image: {err}"));
            assert_eq!(len, v.image_len as usize);
            let geo = port.geo;
            let t = mcuboot_trailer_start(&geo);
            assert!(
                port.flash[t..].iter().all(|&b| b == 0xff),
                "trailer area not erased"
            );
        }
        Err(_) if new > 0 => {
            // Only a power cut between the request and the return may do this,
            // and then the request must have been for a good image.
            assert!(port.dead, "upgrade requested by a failed download");
            verify_image(&port.flash)
                .unwrap_or_else(|err| panic!("engine scheduled a bad image: {err}"));
        }
        Err(_) => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input(data);
    let flags = inp.byte();
    let flags2 = inp.byte();
    let tls = flags & 1 != 0;
    let geo = FlashGeometry {
        slot_size: 16 * 4096,
        page_size: 4096,
        write_block: if flags & 2 != 0 { 8 } else { 4 },
        erased_value: 0xff,
    };
    let fill = if flags & 4 != 0 { 0x00 } else { 0xff };
    let mut port = FakePort::new(geo, fill);
    port.file = make_image(usize::from(inp.u16() % 24_000) + 64);
    if flags2 & 2 != 0 {
        let at = usize::from(inp.u16()) % port.file.len();
        port.file[at] ^= 1 << (flags2 >> 5);
    }
    if flags2 & 1 != 0 {
        port.cut_after = Some(u64::from(inp.u16()));
        port.torn = usize::from(inp.byte()) * 4;
    }
    if flags & 8 != 0 {
        // A saved progress record (or garbage) from an earlier run.
        let n = usize::from(inp.byte() % 64);
        port.kv.insert("progress".to_string(), inp.take(n).to_vec());
    }
    let cfg = Config {
        frag_size: [2048, 512, 1000, 4096][usize::from((flags >> 4) & 3)],
        retries: (flags >> 6) & 3,
        retry_backoff_ms: 10,
        socket_timeout_ms: 1000,
        permanent: flags & 0x80 != 0,
        pipeline_depth: 1 + ((flags2 >> 3) & 3),
        deadline_ms: if flags2 & 4 != 0 { 20_000 } else { 0 },
        ..Config::default()
    };
    while !inp.is_empty() && port.scripts.len() < 64 {
        let len = usize::from(inp.u16() % 8192);
        let shape = inp.byte();
        let honest = shape & 0x40 != 0;
        port.scripts.push_back(Script {
            piece: usize::from(shape & 0x3f),
            close_at_end: shape & 0x80 != 0,
            honest,
            budget: (honest && len > 0).then_some(len * 8),
            bytes: if honest {
                Vec::new()
            } else {
                inp.take(len).to_vec()
            },
        });
    }
    download(&mut port, &cfg, tls);
    if flags2 & 1 != 0 {
        port.power_on();
        download(&mut port, &cfg, tls);
    }
});
