// SPDX-License-Identifier: Apache-2.0
//! MCUboot image format and the secondary-slot writer.
//!
//! The writer streams a download into the slot: pages are erased just ahead
//! of the writes, writes respect the flash write block (a partial block waits
//! in a small tail buffer), the SHA-256 over header + payload + protected TLVs
//! is computed on the way, and [`SlotWriter::finish`] compares it with the
//! image's SHA256 TLV read back from flash. The trailer area stays erased: the
//! upgrade is requested only after `finish` succeeds.

use crate::error::Errno;
use crate::port::{FlashGeometry, Port};
use sha2::{Digest, Sha256};

pub const IMAGE_MAGIC: u32 = 0x96f3_b83d;
pub const HEADER_LEN: usize = 32;
const TLV_INFO_MAGIC: u16 = 0x6907;
const TLV_PROT_INFO_MAGIC: u16 = 0x6908;
const TLV_SHA256: u16 = 0x10;
/// Largest flash write block handled (nRF91: 4; most MCUs: 4..16).
pub const MAX_WRITE_BLOCK: usize = 32;
/// MCUboot's BOOT_MAX_ALIGN: trailer fields sit in slots of this size.
const BOOT_MAX_ALIGN: u32 = 8;
/// MCUboot's BOOT_STATUS_MAX_ENTRIES x BOOT_STATUS_STATE_COUNT.
const BOOT_STATUS_SLOTS: u32 = 128 * 3;

/// Image version from the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u8,
    pub minor: u8,
    pub revision: u16,
    pub build: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageHeader {
    pub load_addr: u32,
    pub hdr_size: u16,
    pub protect_tlv_size: u16,
    pub img_size: u32,
    pub flags: u32,
    pub version: Version,
}

impl ImageHeader {
    /// Parse and sanity-check the 32-byte header.
    pub fn parse(b: &[u8]) -> Result<ImageHeader, Errno> {
        let b: &[u8; HEADER_LEN] = b
            .get(..HEADER_LEN)
            .and_then(|s| s.try_into().ok())
            .ok_or(Errno::IlSeq)?;
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let u16_at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        if u32_at(0) != IMAGE_MAGIC {
            return Err(Errno::IlSeq);
        }
        let h = ImageHeader {
            load_addr: u32_at(4),
            hdr_size: u16_at(8),
            protect_tlv_size: u16_at(10),
            img_size: u32_at(12),
            flags: u32_at(16),
            version: Version {
                major: b[20],
                minor: b[21],
                revision: u16_at(22),
                build: u32_at(24),
            },
        };
        if usize::from(h.hdr_size) < HEADER_LEN {
            return Err(Errno::IlSeq);
        }
        Ok(h)
    }

    /// End of the hashed region: header + payload + protected TLVs.
    pub fn hashed_len(&self) -> Option<u32> {
        u32::from(self.hdr_size)
            .checked_add(self.img_size)?
            .checked_add(u32::from(self.protect_tlv_size))
    }
}

/// Bytes at the end of the slot that belong to MCUboot's trailer (swap status,
/// swap info, copy done, image ok, swap size, magic), as `boot_trailer_sz`
/// computes it for a write block (imgtool's `--align`).
pub fn trailer_size(write_block: u32) -> u32 {
    BOOT_STATUS_SLOTS * write_block.max(1) + BOOT_MAX_ALIGN * 4 + 16
}

/// Streams an image into the secondary slot.
pub struct SlotWriter {
    geo: FlashGeometry,
    total: u32,
    /// File bytes accepted so far.
    written: u32,
    /// Pages below this offset have been erased by us.
    erased_to: u32,
    tail: [u8; MAX_WRITE_BLOCK],
    tail_len: usize,
    first: [u8; HEADER_LEN],
    header: Option<ImageHeader>,
    hasher: Sha256,
    /// Bytes programmed to flash (and hashed) so far.
    flashed_to: u32,
    checkpoint: Option<Checkpoint>,
}

/// Key under which download progress is kept in the port's key/value store.
pub const PROGRESS_KEY: &str = "progress";
const PROGRESS_VERSION: u8 = 1;
/// Encoded size of [`Progress`].
pub const PROGRESS_LEN: usize = 36;

/// What identifies a download across a reboot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// SHA-256 prefix of the original URL without its query (a pre-signed
    /// URL's signature changes on every release query).
    pub url_id: [u8; 8],
    pub total: u32,
}

/// Saved progress: the first `offset` bytes (a page boundary) are in flash,
/// and `digest` is the SHA-256 prefix of what the writer hashed up to there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    pub checkpoint: Checkpoint,
    pub offset: u32,
    pub digest: [u8; 16],
}

impl Progress {
    pub fn encode(&self) -> [u8; PROGRESS_LEN] {
        let mut b = [0u8; PROGRESS_LEN];
        b[0] = PROGRESS_VERSION;
        b[4..12].copy_from_slice(&self.checkpoint.url_id);
        b[12..16].copy_from_slice(&self.checkpoint.total.to_le_bytes());
        b[16..20].copy_from_slice(&self.offset.to_le_bytes());
        b[20..36].copy_from_slice(&self.digest);
        b
    }

    pub fn decode(b: &[u8]) -> Option<Progress> {
        let b: &[u8; PROGRESS_LEN] = b.try_into().ok()?;
        if b[0] != PROGRESS_VERSION {
            return None;
        }
        let mut url_id = [0u8; 8];
        url_id.copy_from_slice(&b[4..12]);
        let mut digest = [0u8; 16];
        digest.copy_from_slice(&b[20..36]);
        Some(Progress {
            checkpoint: Checkpoint {
                url_id,
                total: u32::from_le_bytes([b[12], b[13], b[14], b[15]]),
            },
            offset: u32::from_le_bytes([b[16], b[17], b[18], b[19]]),
            digest,
        })
    }
}

/// Outcome of a successful [`SlotWriter::finish`].
#[derive(Clone, Copy, Debug)]
pub struct Verified {
    pub header: ImageHeader,
    pub image_len: u32,
}

impl SlotWriter {
    /// Start an image of `total` bytes. Fails with `EFBIG` when it cannot fit
    /// in front of the trailer.
    pub fn new(geo: FlashGeometry, total: u32) -> Result<SlotWriter, Errno> {
        let wb = geo.write_block;
        if wb == 0
            || wb as usize > MAX_WRITE_BLOCK
            || geo.page_size == 0
            || geo.slot_size % geo.page_size != 0
        {
            return Err(Errno::NotSup);
        }
        if total > Self::capacity(&geo) {
            return Err(Errno::FileTooBig);
        }
        if (total as usize) < HEADER_LEN {
            return Err(Errno::IlSeq);
        }
        Ok(SlotWriter {
            geo,
            total,
            written: 0,
            erased_to: 0,
            tail: [0; MAX_WRITE_BLOCK],
            tail_len: 0,
            first: [0; HEADER_LEN],
            header: None,
            hasher: Sha256::new(),
            flashed_to: 0,
            checkpoint: None,
        })
    }

    /// Save progress under [`PROGRESS_KEY`] at every page boundary.
    pub fn set_checkpoint(&mut self, cp: Checkpoint) {
        self.checkpoint = Some(cp);
    }

    /// Rebuild a writer from saved progress: the hash state is recomputed
    /// from the bytes in flash (never trusted from storage) and must match
    /// the saved digest; the page at `offset` is erased again before use.
    pub fn resume<P: Port>(
        port: &mut P,
        geo: FlashGeometry,
        saved: &Progress,
        scratch: &mut [u8],
    ) -> Result<SlotWriter, Errno> {
        let mut w = SlotWriter::new(geo, saved.checkpoint.total)?;
        let off = saved.offset;
        if off % geo.page_size != 0
            || (off as usize) < HEADER_LEN
            || off > w.total
            || scratch.len() < HEADER_LEN
        {
            return Err(Errno::Inval);
        }
        port.flash_read(0, &mut w.first)?;
        let first = w.first;
        w.absorb_header(&first)?;
        let mut at = 0u32;
        while at < off {
            let n = (scratch.len() as u32).min(off - at) as usize;
            let chunk = scratch.get_mut(..n).ok_or(Errno::Fault)?;
            port.flash_read(at, chunk)?;
            w.hash_flashed(chunk);
            at += n as u32;
        }
        if w.digest_prefix() != saved.digest {
            return Err(Errno::IlSeq);
        }
        w.written = off;
        w.erased_to = off;
        w.checkpoint = Some(saved.checkpoint);
        Ok(w)
    }

    /// The first bytes of the image (valid once 32 bytes were written).
    pub fn first_bytes(&self) -> &[u8; HEADER_LEN] {
        &self.first
    }

    fn digest_prefix(&self) -> [u8; 16] {
        let full: [u8; 32] = self.hasher.clone().finalize().into();
        let mut d = [0u8; 16];
        d.copy_from_slice(&full[..16]);
        d
    }

    /// Largest image the slot takes.
    pub fn capacity(geo: &FlashGeometry) -> u32 {
        geo.slot_size.saturating_sub(trailer_size(geo.write_block))
    }

    /// Fix the size of a download whose length was not announced (chunked
    /// or close-delimited streams), once it has ended.
    pub fn set_total(&mut self, total: u32) {
        self.total = total;
    }

    pub fn written(&self) -> u32 {
        self.written
    }

    pub fn header(&self) -> Option<&ImageHeader> {
        self.header.as_ref()
    }

    /// Make sure the trailer area holds no stale upgrade request before any
    /// image byte is written (a reboot mid-download must not swap).
    pub fn clear_trailer<P: Port>(&self, port: &mut P, scratch: &mut [u8]) -> Result<(), Errno> {
        let start = self.geo.slot_size - trailer_size(self.geo.write_block);
        let start = start - start % self.geo.page_size;
        ensure_erased(port, &self.geo, start, self.geo.slot_size, scratch)
    }

    /// Accept the next bytes of the file.
    pub fn write<P: Port>(&mut self, port: &mut P, mut data: &[u8]) -> Result<(), Errno> {
        let room = self.total - self.written;
        if data.len() as u64 > u64::from(room) {
            return Err(Errno::FileTooBig);
        }
        self.absorb_header(data)?;
        let wb = self.geo.write_block as usize;
        // Complete a pending partial block first.
        if self.tail_len > 0 {
            let take = (wb - self.tail_len).min(data.len());
            self.tail[self.tail_len..self.tail_len + take].copy_from_slice(&data[..take]);
            self.tail_len += take;
            self.written += take as u32;
            data = &data[take..];
            if self.tail_len == wb {
                let off = self.written - wb as u32;
                let block = self.tail;
                self.program(port, off, &block[..wb])?;
                self.tail_len = 0;
            }
        }
        let whole = data.len() - data.len() % wb;
        if whole > 0 {
            let off = self.written;
            self.program(port, off, &data[..whole])?;
            self.written += whole as u32;
        }
        let rest = &data[whole..];
        self.tail[..rest.len()].copy_from_slice(rest);
        self.tail_len += rest.len();
        self.written += rest.len() as u32;
        Ok(())
    }

    fn absorb_header(&mut self, data: &[u8]) -> Result<(), Errno> {
        if self.header.is_some() {
            return Ok(());
        }
        let at = self.written as usize;
        let take = HEADER_LEN.saturating_sub(at).min(data.len());
        self.first[at..at + take].copy_from_slice(&data[..take]);
        if at + take == HEADER_LEN {
            let h = ImageHeader::parse(&self.first)?;
            let hashed = h.hashed_len().ok_or(Errno::IlSeq)?;
            // The TLV area (at least its 4-byte info header) must follow.
            if u64::from(hashed) + 4 > u64::from(self.total) {
                return Err(Errno::IlSeq);
            }
            self.header = Some(h);
        }
        Ok(())
    }

    /// Hash bytes as they reach flash, so the hash state always matches
    /// what a resume after a power cut can re-read.
    fn hash_flashed(&mut self, data: &[u8]) {
        // Until the header is known the hashed length is unknown, but it is
        // at least the header itself, so hashing the first bytes is safe.
        let end = self.header.and_then(|h| h.hashed_len()).unwrap_or(u32::MAX);
        if self.flashed_to < end {
            let n = ((end - self.flashed_to) as usize).min(data.len());
            self.hasher.update(&data[..n]);
        }
        self.flashed_to = self.flashed_to.saturating_add(data.len() as u32);
    }

    /// Program whole write blocks, page by page: erase each page just before
    /// its first write, and checkpoint at every completed page.
    fn program<P: Port>(
        &mut self,
        port: &mut P,
        mut off: u32,
        mut data: &[u8],
    ) -> Result<(), Errno> {
        let page = self.geo.page_size;
        while !data.is_empty() {
            let page_end = (off / page)
                .checked_add(1)
                .and_then(|p| p.checked_mul(page))
                .ok_or(Errno::Inval)?;
            let n = ((page_end - off) as usize).min(data.len());
            let end = off + n as u32;
            while self.erased_to < end {
                port.flash_erase(self.erased_to, page)?;
                self.erased_to += page;
            }
            let (now, rest) = data.split_at(n);
            port.flash_write(off, now)?;
            self.hash_flashed(now);
            off = end;
            data = rest;
            if off == page_end {
                self.save_progress(port, off);
            }
        }
        Ok(())
    }

    fn save_progress<P: Port>(&mut self, port: &mut P, offset: u32) {
        let Some(checkpoint) = self.checkpoint else {
            return;
        };
        let p = Progress {
            checkpoint,
            offset,
            digest: self.digest_prefix(),
        };
        // Losing a checkpoint costs a re-download, not correctness.
        if let Err(e) = port.kv_save(PROGRESS_KEY, &p.encode()) {
            crate::logging::warn!("could not save progress", offset = offset, error = e.name());
            self.checkpoint = None;
        }
    }

    /// Flush, check the image against its SHA256 TLV, and leave everything
    /// after it erased. No upgrade may be requested unless this succeeds.
    pub fn finish<P: Port>(&mut self, port: &mut P, scratch: &mut [u8]) -> Result<Verified, Errno> {
        if self.written != self.total {
            return Err(Errno::IlSeq);
        }
        if self.tail_len > 0 {
            let wb = self.geo.write_block as usize;
            let mut block = self.tail;
            block[self.tail_len..wb].fill(self.geo.erased_value);
            let off = self.written - self.tail_len as u32;
            self.program(port, off, &block[..wb])?;
            self.tail_len = 0;
        }
        let header = self.header.ok_or(Errno::IlSeq)?;
        let hashed = header.hashed_len().ok_or(Errno::IlSeq)?;
        let digest: [u8; 32] = self.hasher.clone().finalize().into();
        let expected = find_sha256(port, &header, hashed, self.total)?;
        if digest != expected {
            return Err(Errno::IlSeq);
        }
        // Everything between the image and the end of the slot must read
        // erased, so MCUboot sees no stale trailer and the check is exact.
        let end = self.erased_to.max(round_up(self.total, self.geo.page_size));
        ensure_erased(port, &self.geo, end, self.geo.slot_size, scratch)?;
        Ok(Verified {
            header,
            image_len: self.total,
        })
    }
}

fn round_up(v: u32, to: u32) -> u32 {
    v.div_ceil(to).saturating_mul(to)
}

fn read_u16_pair<P: Port>(port: &mut P, off: u32) -> Result<(u16, u16), Errno> {
    let mut b = [0u8; 4];
    port.flash_read(off, &mut b)?;
    Ok((
        u16::from_le_bytes([b[0], b[1]]),
        u16::from_le_bytes([b[2], b[3]]),
    ))
}

/// Walk the TLV areas in flash and return the SHA256 TLV's value. The file
/// must end exactly where the TLV area ends (no trailing bytes).
fn find_sha256<P: Port>(
    port: &mut P,
    h: &ImageHeader,
    hashed: u32,
    total: u32,
) -> Result<[u8; 32], Errno> {
    if h.protect_tlv_size != 0 {
        let prot_off = hashed - u32::from(h.protect_tlv_size);
        let (magic, len) = read_u16_pair(port, prot_off)?;
        if magic != TLV_PROT_INFO_MAGIC || len != h.protect_tlv_size {
            return Err(Errno::IlSeq);
        }
    }
    let (magic, tlv_total) = read_u16_pair(port, hashed)?;
    if magic != TLV_INFO_MAGIC || tlv_total < 4 {
        return Err(Errno::IlSeq);
    }
    let end = hashed
        .checked_add(u32::from(tlv_total))
        .ok_or(Errno::IlSeq)?;
    if end != total {
        return Err(Errno::IlSeq);
    }
    let mut off = hashed + 4;
    let mut found = None;
    while off < end {
        if end - off < 4 {
            return Err(Errno::IlSeq);
        }
        let (ty, len) = read_u16_pair(port, off)?;
        let value = off + 4;
        let next = value.checked_add(u32::from(len)).ok_or(Errno::IlSeq)?;
        if next > end {
            return Err(Errno::IlSeq);
        }
        if ty == TLV_SHA256 {
            if len != 32 || found.is_some() {
                return Err(Errno::IlSeq);
            }
            let mut v = [0u8; 32];
            port.flash_read(value, &mut v)?;
            found = Some(v);
        }
        off = next;
    }
    found.ok_or(Errno::IlSeq)
}

/// Erase every page in [from, to) that does not already read erased.
pub fn ensure_erased<P: Port>(
    port: &mut P,
    geo: &FlashGeometry,
    from: u32,
    to: u32,
    scratch: &mut [u8],
) -> Result<(), Errno> {
    if scratch.is_empty() {
        return Err(Errno::NoMem);
    }
    let mut page = from - from % geo.page_size;
    while page < to {
        let mut off = page;
        let page_end = page + geo.page_size;
        let mut dirty = false;
        while off < page_end && !dirty {
            let n = (scratch.len() as u32).min(page_end - off) as usize;
            port.flash_read(off, &mut scratch[..n])?;
            dirty = scratch[..n].iter().any(|&b| b != geo.erased_value);
            off += n as u32;
        }
        if dirty {
            port.flash_erase(page, geo.page_size)?;
        }
        page = page_end;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailer_size_matches_mcuboot() {
        // 128 * 3 * 4 + 4 * 8 + 16, as boot_trailer_sz(4).
        assert_eq!(trailer_size(4), 1584);
        assert_eq!(trailer_size(8), 3120);
    }

    #[test]
    fn header_parse() {
        let mut b = [0u8; 32];
        b[..4].copy_from_slice(&IMAGE_MAGIC.to_le_bytes());
        b[8..10].copy_from_slice(&0x200u16.to_le_bytes());
        b[12..16].copy_from_slice(&1000u32.to_le_bytes());
        b[20] = 1;
        b[21] = 2;
        b[22..24].copy_from_slice(&3u16.to_le_bytes());
        let h = ImageHeader::parse(&b).unwrap();
        assert_eq!(h.hashed_len(), Some(0x200 + 1000));
        assert_eq!(
            h.version,
            Version {
                major: 1,
                minor: 2,
                revision: 3,
                build: 0
            }
        );
        b[8] = 0;
        b[9] = 0;
        assert_eq!(ImageHeader::parse(&b), Err(Errno::IlSeq));
    }
}
