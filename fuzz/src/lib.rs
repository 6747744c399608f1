// SPDX-License-Identifier: Apache-2.0
//! Shared pieces of the fuzz targets: a [`Port`] with NOR-flash semantics, an
//! in-memory key/value store and a scripted server, plus an oracle that checks
//! an image in flash independently of the code under test.

use fota_rs::error::Errno;
use fota_rs::port::{ConnectError, ConnectParams, ConnectStage, FlashGeometry, Handle, Port};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};

/// Reads bytes off the front of the fuzzer's input.
pub struct Input<'a>(pub &'a [u8]);

impl<'a> Input<'a> {
    pub fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    pub fn u16(&mut self) -> u16 {
        u16::from(self.byte()) | (u16::from(self.byte()) << 8)
    }
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
    pub fn rest(&mut self) -> &'a [u8] {
        self.take(self.0.len())
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One connection's worth of server bytes and how they arrive.
pub struct Script {
    pub bytes: Vec<u8>,
    /// Bytes per recv (0: as many as fit).
    pub piece: usize,
    /// After the bytes: true = the peer closes, false = silence (timeouts).
    pub close_at_end: bool,
    /// An honest server: answers each request for [`FakePort::file`]
    /// (honouring Range), and cuts the connection after `budget` response
    /// bytes (`None`: never).
    pub honest: bool,
    pub budget: Option<usize>,
}

/// Port over memory. Flash is NOR: erase sets a page to 0xff, a write may
/// only clear bits, and a write over programmed bits panics (on a device it
/// silently corrupts the image), as do misaligned or out-of-slot accesses.
pub struct FakePort {
    pub geo: FlashGeometry,
    pub flash: Vec<u8>,
    pub kv: HashMap<String, Vec<u8>>,
    pub scripts: VecDeque<Script>,
    current: Option<Script>,
    pub upgrade_requests: Vec<bool>,
    /// Milliseconds of simulated time (recv timeouts and sleeps advance it).
    pub now_ms: u64,
    /// Port calls, to catch an engine that never ends.
    pub calls: u64,
    pub requests_sent: usize,
    /// What an honest script serves.
    pub file: Vec<u8>,
    req: Vec<u8>,
    /// Power cut: after this many persisting operations (flash erase and
    /// write, kv save and delete, upgrade request) nothing persists any more,
    /// the write in progress lands only `torn` bytes, and the network is gone.
    pub cut_after: Option<u64>,
    pub torn: usize,
    persisted: u64,
    pub dead: bool,
}

/// More calls than any finite script can justify: the engine is stuck.
const MAX_CALLS: u64 = 2_000_000;

impl FakePort {
    pub fn new(geo: FlashGeometry, fill: u8) -> FakePort {
        FakePort {
            geo,
            flash: vec![fill; geo.slot_size as usize],
            kv: HashMap::new(),
            scripts: VecDeque::new(),
            current: None,
            upgrade_requests: Vec::new(),
            now_ms: 0,
            calls: 0,
            requests_sent: 0,
            file: Vec::new(),
            req: Vec::new(),
            cut_after: None,
            torn: 0,
            persisted: 0,
            dead: false,
        }
    }

    /// Power back on: the next engine run sees what persisted.
    pub fn power_on(&mut self) {
        self.dead = false;
        self.cut_after = None;
        self.current = None;
    }

    /// Count a persisting operation; false once the power is cut. The call
    /// that reaches the cut is the one that gets torn.
    fn persist(&mut self) -> Result<bool, Errno> {
        if self.dead {
            return Err(Errno::Io);
        }
        self.persisted += 1;
        if self.cut_after.is_some_and(|c| self.persisted > c) {
            self.dead = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn answer(&mut self, request: &[u8]) {
        let text = String::from_utf8_lossy(request);
        let total = self.file.len();
        let range = text
            .lines()
            .find_map(|l| l.strip_prefix("Range: bytes="))
            .and_then(|r| {
                let (a, b) = r.split_once('-')?;
                let a: usize = a.parse().ok()?;
                let b = if b.is_empty() {
                    total.checked_sub(1)?
                } else {
                    b.parse::<usize>().ok()?.min(total.checked_sub(1)?)
                };
                (a <= b).then_some((a, b))
            });
        let mut out = match range {
            Some((a, b)) => {
                let mut o = format!(
                    "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {a}-{b}/{total}\r\nContent-Length: {}\r\n\r\n",
                    b + 1 - a
                )
                .into_bytes();
                o.extend_from_slice(&self.file[a..=b]);
                o
            }
            None if text.contains("Range:") => format!(
                "HTTP/1.1 416 No\r\nContent-Range: bytes */{total}\r\nContent-Length: 0\r\n\r\n"
            )
            .into_bytes(),
            None => {
                let mut o =
                    format!("HTTP/1.1 200 OK\r\nContent-Length: {total}\r\n\r\n").into_bytes();
                o.extend_from_slice(&self.file);
                o
            }
        };
        if let Some(s) = self.current.as_mut() {
            if let Some(left) = s.budget.as_mut() {
                // The connection dies after `budget` more bytes.
                out.truncate(*left);
                *left -= out.len();
                if *left == 0 {
                    s.close_at_end = true;
                }
            }
            s.bytes.extend_from_slice(&out);
        }
    }

    fn tick(&mut self) {
        self.calls += 1;
        assert!(
            self.calls < MAX_CALLS,
            "engine made {MAX_CALLS} port calls: livelock"
        );
    }
}

impl Port for FakePort {
    fn connect(&mut self, _p: &ConnectParams) -> Result<Handle, ConnectError> {
        self.tick();
        self.current = None;
        self.req.clear();
        let next = if self.dead {
            None
        } else {
            self.scripts.pop_front()
        };
        match next {
            Some(s) => {
                self.current = Some(s);
                Ok(Handle(7))
            }
            None => Err(ConnectError {
                errno: Errno::ConnRefused,
                stage: ConnectStage::Tcp,
                detail: Default::default(),
            }),
        }
    }
    fn send(&mut self, h: Handle, data: &[u8]) -> Result<usize, Errno> {
        self.tick();
        assert_eq!(h, Handle(7));
        assert!(!data.is_empty(), "empty send");
        if self.current.is_none() || self.dead {
            return Err(Errno::NotConn);
        }
        self.requests_sent += 1;
        if self.current.as_ref().is_some_and(|s| s.honest) {
            self.req.extend_from_slice(data);
            while let Some(end) = self.req.windows(4).position(|w| w == b"\r\n\r\n") {
                let r: Vec<u8> = self.req.drain(..end + 4).collect();
                self.answer(&r);
            }
        }
        Ok(data.len())
    }
    fn recv(&mut self, h: Handle, buf: &mut [u8], timeout_ms: u32) -> Result<usize, Errno> {
        self.tick();
        assert_eq!(h, Handle(7));
        if self.dead {
            return Err(Errno::ConnReset);
        }
        let Some(s) = self.current.as_mut() else {
            return Err(Errno::NotConn);
        };
        if s.bytes.is_empty() {
            if s.close_at_end {
                return Ok(0);
            }
            self.now_ms += u64::from(timeout_ms.max(1));
            return Err(Errno::TimedOut);
        }
        let mut n = buf.len().min(s.bytes.len());
        if s.piece > 0 {
            n = n.min(s.piece);
        }
        if n == 0 {
            return Err(Errno::Inval);
        }
        buf[..n].copy_from_slice(&s.bytes[..n]);
        s.bytes.drain(..n);
        Ok(n)
    }
    fn close(&mut self, _h: Handle) {
        self.current = None;
    }
    fn flash_geometry(&mut self) -> Result<FlashGeometry, Errno> {
        Ok(self.geo)
    }
    fn flash_erase(&mut self, off: u32, len: u32) -> Result<(), Errno> {
        self.tick();
        let g = self.geo;
        assert!(
            off.is_multiple_of(g.page_size) && len.is_multiple_of(g.page_size),
            "unaligned erase {off:#x}+{len:#x}"
        );
        let end = off.checked_add(len).expect("erase range overflows");
        assert!(end <= g.slot_size, "erase past the slot: {off:#x}+{len:#x}");
        if !self.persist()? {
            // A torn erase: part of the range erased.
            let torn = (off as usize + self.torn).min(end as usize);
            self.flash[off as usize..torn].fill(0xff);
            return Err(Errno::Io);
        }
        self.flash[off as usize..end as usize].fill(0xff);
        Ok(())
    }
    fn flash_write(&mut self, off: u32, data: &[u8]) -> Result<(), Errno> {
        self.tick();
        let wb = self.geo.write_block;
        assert!(
            off.is_multiple_of(wb) && (data.len() as u32).is_multiple_of(wb),
            "unaligned write {off:#x}+{:#x}",
            data.len()
        );
        let end = off as usize + data.len();
        assert!(end <= self.flash.len(), "write past the slot");
        let whole = self.persist()?;
        let n = if whole {
            data.len()
        } else {
            self.torn.min(data.len())
        };
        for (i, &d) in data[..n].iter().enumerate() {
            let cell = &mut self.flash[off as usize + i];
            assert_eq!(
                *cell & d,
                d,
                "write over programmed flash at {:#x} (needs an erase)",
                off as usize + i
            );
            *cell &= d;
        }
        if whole {
            Ok(())
        } else {
            Err(Errno::Io)
        }
    }
    fn flash_read(&mut self, off: u32, buf: &mut [u8]) -> Result<(), Errno> {
        self.tick();
        let end = off as usize + buf.len();
        assert!(end <= self.flash.len(), "read past the slot");
        buf.copy_from_slice(&self.flash[off as usize..end]);
        Ok(())
    }
    fn request_upgrade(&mut self, permanent: bool) -> Result<(), Errno> {
        if !self.persist()? {
            return Err(Errno::Io);
        }
        self.upgrade_requests.push(permanent);
        Ok(())
    }
    fn kv_load(&mut self, key: &str, buf: &mut [u8]) -> Result<usize, Errno> {
        let v = self.kv.get(key).ok_or(Errno::NoEnt)?;
        if v.len() > buf.len() {
            return Err(Errno::NoMem);
        }
        buf[..v.len()].copy_from_slice(v);
        Ok(v.len())
    }
    fn kv_save(&mut self, key: &str, value: &[u8]) -> Result<(), Errno> {
        // A kv store writes a record whole or not at all.
        if !self.persist()? {
            return Err(Errno::Io);
        }
        self.kv.insert(key.to_string(), value.to_vec());
        Ok(())
    }
    fn kv_delete(&mut self, key: &str) -> Result<(), Errno> {
        if !self.persist()? {
            return Err(Errno::Io);
        }
        self.kv.remove(key);
        Ok(())
    }
    fn uptime_ms(&mut self) -> u64 {
        self.tick();
        self.now_ms
    }
    fn sleep_ms(&mut self, ms: u32) {
        self.tick();
        self.now_ms += u64::from(ms);
    }
}

/// Where MCUboot's trailer starts in a slot of this geometry, computed from
/// MCUboot's `boot_trailer_sz`, not taken from the code under test:
/// max(128, sectors) status entries of 3 write blocks, five BOOT_MAX_ALIGN
/// (8) fields and the 16-byte magic.
pub fn mcuboot_trailer_start(geo: &FlashGeometry) -> usize {
    let sectors = (geo.slot_size / geo.page_size.max(1)) as usize;
    let trailer = sectors.max(128) * 3 * geo.write_block.max(1) as usize + 5 * 8 + 16;
    (geo.slot_size as usize).saturating_sub(trailer)
}

/// Independent check of an MCUboot image at the start of `flash`: header
/// magic, protected TLVs, TLV info, and a SHA256 TLV equal to the hash of
/// header + payload + protected TLVs. Returns the image length.
pub fn verify_image(flash: &[u8]) -> Result<usize, String> {
    let u16_at = |o: usize| -> Result<u16, String> {
        flash
            .get(o..o + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .ok_or(format!("read past the slot at {o:#x}"))
    };
    let u32_at = |o: usize| -> Result<u32, String> {
        flash
            .get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or(format!("read past the slot at {o:#x}"))
    };
    if u32_at(0)? != 0x96f3_b83d {
        return Err("bad image magic".into());
    }
    let hdr = usize::from(u16_at(8)?);
    let prot = usize::from(u16_at(10)?);
    let img = u32_at(12)? as usize;
    let hashed = hdr + img + prot;
    let mut off = hdr + img;
    if prot != 0 {
        if u16_at(off)? != 0x6908 || usize::from(u16_at(off + 2)?) != prot {
            return Err("bad protected TLV info".into());
        }
        off += prot;
    }
    if u16_at(off)? != 0x6907 {
        return Err("bad TLV info magic".into());
    }
    let tlv_end = off + usize::from(u16_at(off + 2)?);
    let mut p = off + 4;
    let mut found = None;
    while p + 4 <= tlv_end {
        let (t, l) = (u16_at(p)?, usize::from(u16_at(p + 2)?));
        if t == 0x10 && l == 32 {
            found = Some(flash.get(p + 4..p + 36).ok_or("SHA TLV past the slot")?);
        }
        p += 4 + l;
    }
    let want = found.ok_or("no SHA256 TLV")?;
    let got = Sha256::digest(flash.get(..hashed).ok_or("hashed area past the slot")?);
    if got[..] != want[..] {
        return Err("SHA256 TLV does not match the image".into());
    }
    Ok(tlv_end)
}

/// A well-formed image (header, payload, SHA256 TLV) for seeds and tests.
pub fn make_image(payload: usize) -> Vec<u8> {
    let hdr = 0x20usize;
    let mut v = vec![0u8; hdr];
    v[..4].copy_from_slice(&0x96f3_b83du32.to_le_bytes());
    v[8..10].copy_from_slice(&(hdr as u16).to_le_bytes());
    v[12..16].copy_from_slice(&(payload as u32).to_le_bytes());
    v[20] = 1;
    v.extend((0..payload).map(|i| (i * 31 + i / 7) as u8));
    let d = Sha256::digest(&v);
    v.extend_from_slice(&0x6907u16.to_le_bytes());
    v.extend_from_slice(&(4u16 + 36).to_le_bytes());
    v.extend_from_slice(&0x10u16.to_le_bytes());
    v.extend_from_slice(&32u16.to_le_bytes());
    v.extend_from_slice(&d);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oracle_accepts_a_good_image_and_refuses_a_flipped_byte() {
        let mut img = make_image(1000);
        assert_eq!(verify_image(&img), Ok(img.len()));
        img[100] ^= 1;
        assert!(verify_image(&img).is_err());
    }
}
