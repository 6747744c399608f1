// SPDX-License-Identifier: Apache-2.0
//! MCUboot slot writer over NOR flash, fed arbitrary bytes in arbitrary
//! writes, then finish(). No panic; flash is only written where erased,
//! aligned, inside the slot and in front of the trailer; and finish() says
//! Ok only for an image that an independent check (header, TLVs, SHA-256)
//! accepts, with the slot bytes equal to what was written and everything
//! after it erased.
#![no_main]

use fota_rs::mcuboot::SlotWriter;
use fota_rs::port::FlashGeometry;
use fota_rs_fuzz::{mcuboot_trailer_start, verify_image, FakePort, Input};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut inp = Input(data);
    let g = inp.byte();
    let page = [256u32, 1024, 4096, 512][usize::from(g & 3)];
    let write_block = [1u32, 4, 8, 16, 32, 2, 4, 4][usize::from((g >> 2) & 7)];
    let pages = u32::from(inp.byte() % 24) + 2;
    let geo = FlashGeometry {
        slot_size: page * pages,
        page_size: page,
        write_block,
        erased_value: 0xff,
    };
    // Stale contents: erased, programmed, or a previous image's bytes.
    let fill = [0xff, 0x00, 0x5a, 0xff][usize::from(g >> 6)];
    let mut port = FakePort::new(geo, fill);
    let declared = inp.u16();
    let nsplits = usize::from(inp.byte() % 32);
    let splits = inp.take(nsplits).to_vec();
    let file = inp.rest();
    let total = if declared == 0 {
        file.len() as u32
    } else {
        u32::from(declared)
    };
    let Ok(mut w) = SlotWriter::new(geo, total) else {
        return;
    };
    let mut pos = 0usize;
    let mut k = 0usize;
    while pos < file.len() {
        let n = match splits.get(k) {
            Some(&s) if s > 0 => usize::from(s).min(file.len() - pos),
            _ => file.len() - pos,
        };
        k += 1;
        if w.write(&mut port, &file[pos..pos + n]).is_err() {
            return;
        }
        pos += n;
    }
    let mut scratch = [0u8; 2048];
    let fin = w.finish(&mut port, &mut scratch);
    // Nothing may be written into the trailer by the writer.
    let trailer_start = mcuboot_trailer_start(&geo);
    if let Ok(v) = fin {
        let len = v.image_len as usize;
        assert_eq!(len, file.len(), "verified length is not what was written");
        assert_eq!(
            &port.flash[..len],
            file,
            "slot differs from the bytes written"
        );
        verify_image(&port.flash).unwrap_or_else(|e| panic!("finish() accepted a bad image: {e}"));
        assert!(len <= trailer_start, "image runs into the trailer");
        let tail_start = len.div_ceil(write_block as usize) * write_block as usize;
        assert!(
            port.flash[tail_start..].iter().all(|&b| b == 0xff),
            "slot not erased after the image"
        );
    }
});
