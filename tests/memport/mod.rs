// SPDX-License-Identifier: Apache-2.0
//! An in-memory device for driving the real `Engine` from integration tests:
//! NOR flash whose power can be cut at any persisting operation (torn writes
//! and erases included), a key/value store that keeps the old or the new
//! value, the trailer write of the host port, and an HTTP/1.1 file server.
#![allow(dead_code)] // each test binary uses a different subset

use fota_rs::checks::TLV_SHA256;
use fota_rs::mcuboot::{ImageHeader, Version};
use fota_rs::port::{
    ConnectError, ConnectParams, ConnectStage, DeviceLayout, FlashGeometry, Handle, Port,
};
use fota_rs::Errno;
use std::collections::BTreeMap;

/// MCUboot's trailer magic (the last 16 bytes of a slot with a pending upgrade).
pub const BOOT_MAGIC: [u8; 16] = [
    0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2, 0xef, 0x7f, 0x35, 0x52, 0x50, 0x0f, 0x2c, 0xb6, 0x79, 0x80,
];

/// What kind of persisting operation an operation index is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum OpKind {
    Erase,
    Write,
    KvSave,
    KvDelete,
    /// One field of the trailer written by `request_upgrade`.
    TrailerWrite,
}

/// How the operation the power is cut at ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tear {
    /// It does not happen at all (for the key/value store: the old value).
    Before,
    /// A write lands only its first `n` bytes.
    WritePrefix(usize),
    /// An erase sets the first `n` bytes of the page to 0xff; the rest keeps
    /// its old content or, with `garbage`, reads as noise.
    EraseFirst { n: usize, garbage: bool },
}

/// Where the power goes: at persisting operation number `at` (0-based,
/// counted since the device was made), ending it as `tear` says.
#[derive(Clone, Copy, Debug)]
pub struct Cut {
    pub at: usize,
    pub tear: Tear,
}

/// Deterministic noise (xorshift), so every run of the sweep is the same.
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[derive(Clone)]
pub struct Device {
    pub geo: FlashGeometry,
    pub flash: Vec<u8>,
    pub kv: BTreeMap<String, Vec<u8>>,
    /// The server's files by path.
    pub files: BTreeMap<String, Vec<u8>>,
    pub layout: Option<DeviceLayout>,
    pub running: Option<Version>,
    /// Request lines with their Range header, in order.
    pub requests: Vec<String>,
    /// Body bytes handed to the device by `recv` (every byte counted each
    /// time it is received).
    pub body_received: u64,
    /// Most bytes one `recv` returns.
    pub recv_chunk: usize,
    /// Persisting operations so far (index = operation number): the kind
    /// and, for writes, the length.
    pub ops: Vec<(OpKind, usize)>,
    pub cut: Option<Cut>,
    /// The power is off: nothing persists any more, everything fails.
    pub dead: bool,
    /// Writes that had to clear a bit of a cell not erased first (the data
    /// in flash then differs from what was written).
    pub dirty_writes: u32,
    /// `request_upgrade` calls that returned success.
    pub upgrades_requested: u32,
    clock_ms: u64,
    inbox: Vec<u8>,
    /// Bytes queued to the device; the second field is set for body bytes.
    outbox: std::collections::VecDeque<(u8, bool)>,
    closed: bool,
}

impl Device {
    /// A slot of `geo` holding old content (noise), an empty store, no files.
    pub fn new(geo: FlashGeometry) -> Device {
        Device {
            geo,
            flash: noise(7, geo.slot_size as usize),
            kv: BTreeMap::new(),
            files: BTreeMap::new(),
            layout: None,
            running: None,
            requests: Vec::new(),
            body_received: 0,
            recv_chunk: 1000,
            ops: Vec::new(),
            cut: None,
            dead: false,
            dirty_writes: 0,
            upgrades_requested: 0,
            clock_ms: 0,
            inbox: Vec::new(),
            outbox: Default::default(),
            closed: true,
        }
    }

    /// Power back on: the flash and the store keep what persisted; the
    /// network connection is gone.
    pub fn reboot(&mut self) {
        self.dead = false;
        self.cut = None;
        self.inbox.clear();
        self.outbox.clear();
        self.closed = true;
    }

    /// MCUboot would swap: the slot's trailer magic is complete.
    pub fn upgrade_pending(&self) -> bool {
        let s = self.flash.len();
        self.flash[s - 16..] == BOOT_MAGIC
    }

    /// The trailer `request_upgrade` writes, every other byte of the slot
    /// after `image` erased, and the image byte for byte in front.
    pub fn slot_holds(&self, image: &[u8], permanent: bool) -> Result<(), String> {
        let s = self.flash.len();
        if self.flash[..image.len()] != *image {
            let at = self.flash.iter().zip(image).position(|(a, b)| a != b);
            return Err(format!("image differs at {at:?}"));
        }
        let mut want = vec![0xffu8; s - image.len()];
        let base = image.len();
        want[s - 16 - base..].copy_from_slice(&BOOT_MAGIC);
        if permanent {
            want[s - 24 - base] = 0x01;
        }
        want[s - 40 - base] = if permanent { 3 } else { 2 };
        if self.flash[base..] != want[..] {
            let at = self.flash[base..]
                .iter()
                .zip(&want)
                .position(|(a, b)| a != b);
            return Err(format!(
                "after the image: first difference at slot offset {:?}",
                at.map(|a| a + base)
            ));
        }
        Ok(())
    }

    /// The slot's image verifies by itself: header, then the SHA256 TLV over
    /// header + payload + protected TLVs (what MCUboot checks before a swap).
    pub fn slot_verifies(&self) -> bool {
        let f = &self.flash;
        let Ok(h) = ImageHeader::parse(&f[..32]) else {
            return false;
        };
        let Some(hashed) = h.hashed_len() else {
            return false;
        };
        let hashed = hashed as usize;
        if hashed + 4 > f.len() || u16::from_le_bytes([f[hashed], f[hashed + 1]]) != 0x6907 {
            return false;
        }
        let end = hashed + usize::from(u16::from_le_bytes([f[hashed + 2], f[hashed + 3]]));
        let mut off = hashed + 4;
        while off + 4 <= end.min(f.len()) {
            let ty = u16::from_le_bytes([f[off], f[off + 1]]);
            let len = usize::from(u16::from_le_bytes([f[off + 2], f[off + 3]]));
            if ty == TLV_SHA256 && len == 32 && off + 36 <= f.len() {
                return f[off + 4..off + 36] == fota_rs::sha256::digest(&f[..hashed]);
            }
            off += 4 + len;
        }
        false
    }

    /// Count one persisting operation; `Some(tear)` when the power goes now.
    fn op(&mut self, kind: OpKind, len: usize) -> Result<Option<Tear>, Errno> {
        if self.dead {
            return Err(Errno::Io);
        }
        let at = self.ops.len();
        self.ops.push((kind, len));
        match self.cut {
            Some(c) if c.at == at => {
                self.dead = true;
                Ok(Some(c.tear))
            }
            _ => Ok(None),
        }
    }

    fn program(&mut self, off: u32, data: &[u8]) {
        for (cell, &d) in self.flash[off as usize..].iter_mut().zip(data) {
            if *cell & d != d {
                self.dirty_writes += 1;
            }
            *cell &= d;
        }
    }

    fn nor_write(&mut self, kind: OpKind, off: u32, data: &[u8]) -> Result<(), Errno> {
        let wb = self.geo.write_block as usize;
        assert_eq!(off as usize % wb, 0, "write at {off} off the write block");
        assert_eq!(data.len() % wb, 0, "write of {} bytes", data.len());
        assert!(off as usize + data.len() <= self.flash.len());
        match self.op(kind, data.len())? {
            None => {
                self.program(off, data);
                Ok(())
            }
            Some(Tear::WritePrefix(n)) => {
                self.program(off, &data[..n.min(data.len())]);
                Err(Errno::Io)
            }
            Some(_) => Err(Errno::Io),
        }
    }

    // -- the HTTP server --------------------------------------------------

    fn respond(&mut self, req: &str) {
        let line = req.lines().next().unwrap_or("");
        let path = line.split(' ').nth(1).unwrap_or("");
        let path = path.split('?').next().unwrap_or("");
        let range = req
            .lines()
            .find_map(|l| l.strip_prefix("Range: bytes="))
            .map(|r| r.split_once('-').unwrap());
        self.requests.push(format!(
            "{line} range={}",
            range.map_or("-".to_string(), |(a, b)| format!("{a}-{b}"))
        ));
        let put = |d: &mut Device, bytes: &[u8], body: bool| {
            d.outbox.extend(bytes.iter().map(|&b| (b, body)));
        };
        let Some(file) = self.files.get(path).cloned() else {
            put(
                self,
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
                false,
            );
            return;
        };
        let len = file.len();
        let (first, last, status) = match range {
            None => (0, len - 1, 200),
            Some((a, b)) => {
                let a: usize = a.parse().unwrap();
                if a >= len {
                    let head = format!(
                        "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{len}\r\nContent-Length: 0\r\n\r\n"
                    );
                    put(self, head.as_bytes(), false);
                    return;
                }
                let b = if b.is_empty() {
                    len - 1
                } else {
                    b.parse::<usize>().unwrap().min(len - 1)
                };
                (a, b, 206)
            }
        };
        let mut head = format!("HTTP/1.1 {status} X\r\n");
        if status == 206 {
            head += &format!("Content-Range: bytes {first}-{last}/{len}\r\n");
        }
        head += &format!("Content-Length: {}\r\n\r\n", last + 1 - first);
        put(self, head.as_bytes(), false);
        put(self, &file[first..=last], true);
    }
}

impl Port for Device {
    fn connect(&mut self, _: &ConnectParams) -> Result<Handle, ConnectError> {
        if self.dead {
            return Err(ConnectError {
                errno: Errno::Io,
                stage: ConnectStage::Unknown,
                detail: Default::default(),
            });
        }
        self.inbox.clear();
        self.outbox.clear();
        self.closed = false;
        Ok(Handle(1))
    }
    fn send(&mut self, _: Handle, data: &[u8]) -> Result<usize, Errno> {
        if self.dead || self.closed {
            return Err(Errno::ConnReset);
        }
        self.inbox.extend_from_slice(data);
        while let Some(end) = self.inbox.windows(4).position(|w| w == b"\r\n\r\n") {
            let req: Vec<u8> = self.inbox.drain(..end + 4).collect();
            self.respond(&String::from_utf8(req).unwrap());
        }
        Ok(data.len())
    }
    fn recv(&mut self, _: Handle, buf: &mut [u8], _: u32) -> Result<usize, Errno> {
        if self.dead {
            return Err(Errno::Io);
        }
        if self.outbox.is_empty() {
            return if self.closed {
                Ok(0)
            } else {
                Err(Errno::TimedOut)
            };
        }
        let n = buf.len().min(self.outbox.len()).min(self.recv_chunk);
        for (slot, (b, body)) in buf.iter_mut().zip(self.outbox.drain(..n)) {
            *slot = b;
            self.body_received += u64::from(body);
        }
        Ok(n)
    }
    fn close(&mut self, _: Handle) {
        self.closed = true;
        self.outbox.clear();
    }

    fn flash_geometry(&mut self) -> Result<FlashGeometry, Errno> {
        if self.dead {
            return Err(Errno::Io);
        }
        Ok(self.geo)
    }
    fn flash_erase(&mut self, off: u32, len: u32) -> Result<(), Errno> {
        let page = self.geo.page_size;
        assert!(off % page == 0 && len % page == 0 && off + len <= self.geo.slot_size);
        // One operation per page, as a NOR controller erases.
        for p in (off..off + len).step_by(page as usize) {
            let range = p as usize..(p + page) as usize;
            match self.op(OpKind::Erase, 0)? {
                None => self.flash[range].fill(0xff),
                Some(Tear::EraseFirst { n, garbage }) => {
                    let (done, rest) = self.flash[range].split_at_mut(n);
                    done.fill(0xff);
                    if garbage {
                        rest.copy_from_slice(&noise(u64::from(p) + 99, rest.len()));
                    }
                    return Err(Errno::Io);
                }
                Some(_) => return Err(Errno::Io),
            }
        }
        Ok(())
    }
    fn flash_write(&mut self, off: u32, data: &[u8]) -> Result<(), Errno> {
        self.nor_write(OpKind::Write, off, data)
    }
    fn flash_read(&mut self, off: u32, buf: &mut [u8]) -> Result<(), Errno> {
        if self.dead {
            return Err(Errno::Io);
        }
        let src = self
            .flash
            .get(off as usize..off as usize + buf.len())
            .ok_or(Errno::Inval)?;
        buf.copy_from_slice(src);
        Ok(())
    }
    /// What the host port (and MCUboot's boot_request_upgrade) does: the
    /// magic, image_ok for a permanent swap, then swap_info, each one
    /// write-block-padded program operation.
    fn request_upgrade(&mut self, permanent: bool) -> Result<(), Errno> {
        if self.dead {
            return Err(Errno::Io);
        }
        let s = self.geo.slot_size;
        let wb = self.geo.write_block as usize;
        if self.upgrade_pending() {
            self.upgrades_requested += 1;
            return Ok(());
        }
        if self.flash[s as usize - 16..].iter().any(|&b| b != 0xff) {
            return Err(Errno::Io);
        }
        let field = |v: &[u8]| {
            let mut f = vec![0xffu8; v.len().div_ceil(wb) * wb];
            f[..v.len()].copy_from_slice(v);
            f
        };
        self.nor_write(OpKind::TrailerWrite, s - 16, &field(&BOOT_MAGIC))?;
        if permanent {
            self.nor_write(OpKind::TrailerWrite, s - 24, &field(&[1]))?;
        }
        let swap_info = if permanent { 3 } else { 2 };
        self.nor_write(OpKind::TrailerWrite, s - 40, &field(&[swap_info]))?;
        self.upgrades_requested += 1;
        Ok(())
    }

    /// Settings on NVS: a save or delete lands whole or not at all.
    fn kv_load(&mut self, key: &str, buf: &mut [u8]) -> Result<usize, Errno> {
        if self.dead {
            return Err(Errno::Io);
        }
        let v = self.kv.get(key).ok_or(Errno::NoEnt)?;
        let dst = buf.get_mut(..v.len()).ok_or(Errno::NoMem)?;
        dst.copy_from_slice(v);
        Ok(v.len())
    }
    fn kv_save(&mut self, key: &str, value: &[u8]) -> Result<(), Errno> {
        if self.op(OpKind::KvSave, 0)?.is_some() {
            return Err(Errno::Io);
        }
        self.kv.insert(key.into(), value.to_vec());
        Ok(())
    }
    fn kv_delete(&mut self, key: &str) -> Result<(), Errno> {
        if !self.kv.contains_key(key) {
            return if self.dead { Err(Errno::Io) } else { Ok(()) };
        }
        if self.op(OpKind::KvDelete, 0)?.is_some() {
            return Err(Errno::Io);
        }
        self.kv.remove(key);
        Ok(())
    }

    fn uptime_ms(&mut self) -> u64 {
        self.clock_ms
    }
    fn sleep_ms(&mut self, ms: u32) {
        self.clock_ms += u64::from(ms);
    }
    fn running_version(&mut self) -> Result<Version, Errno> {
        self.running.ok_or(Errno::NotSup)
    }
    fn device_layout(&mut self) -> Result<DeviceLayout, Errno> {
        self.layout.ok_or(Errno::NotSup)
    }
}
