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
use crate::sha256::Sha256;
/// The header's version field (the port reports the running one in this type too).
pub use crate::version::Version;
use core::num::{NonZeroU32, NonZeroUsize};

pub const IMAGE_MAGIC: u32 = 0x96f3_b83d;
pub const HEADER_LEN: usize = 32;
const TLV_INFO_MAGIC: u16 = 0x6907;
const TLV_PROT_INFO_MAGIC: u16 = 0x6908;
const TLV_SHA256: u16 = 0x10;
/// Largest flash write block handled (nRF91: 4; most MCUs: 4..16).
pub const MAX_WRITE_BLOCK: usize = 32;
/// MCUboot's BOOT_MAX_ALIGN: trailer fields sit in slots of this size.
const BOOT_MAX_ALIGN: u32 = 8;
/// MCUboot's BOOT_MAX_IMG_SECTORS when the slot has no more sectors than
/// this: its Kconfig default, and `west sign`'s fallback for imgtool.
const BOOT_MAX_IMG_SECTORS: u32 = 128;
/// MCUboot's BOOT_STATUS_STATE_COUNT: 3 with swap using scratch, and with
/// swap using move (one move state and two swap states).
const BOOT_STATUS_STATE_COUNT: u32 = 3;
/// MCUboot's trailer fields after the status, as `boot_trailer_info_sz`
/// counts them: swap type, copy done, image ok and swap size in
/// BOOT_MAX_ALIGN each, one more for swap using offset (its TLV size), and
/// the 16-byte magic. The offset mode's field is always counted: 8 bytes too
/// many elsewhere, never too few.
const BOOT_TRAILER_INFO: u32 = BOOT_MAX_ALIGN * 5 + 16;

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
    #[inline(never)]
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
/// computes it for a write block (imgtool's `--align`). Its status part has
/// one entry per sector MCUboot can swap (BOOT_MAX_IMG_SECTORS), which is at
/// least the slot's sector count: a slot of more than 128 sectors has a
/// larger trailer than MCUboot's default assumes.
fn trailer_size(geo: &FlashGeometry) -> u64 {
    let sectors = geo.slot_size.div_ceil(geo.page_size.max(1));
    let entries = sectors.max(BOOT_MAX_IMG_SECTORS);
    // In 64 bits: no overflow for any geometry a port reports.
    u64::from(entries) * u64::from(BOOT_STATUS_STATE_COUNT) * u64::from(geo.write_block.max(1))
        + u64::from(BOOT_TRAILER_INFO)
}

/// Copy `src` into `dst` at `at`, as far as it fits.
fn put(dst: &mut [u8], at: usize, src: &[u8]) {
    crate::bytes::copy(dst.get_mut(at..).unwrap_or(&mut []), src);
}

/// `N` bytes of `b` from `at`, if there are that many.
fn array_at<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..)?.get(..N)?.try_into().ok()
}

/// A [`FlashGeometry`] the writer can work with, checked once where it
/// enters: page and write block sizes are non-zero (divisions by them cannot
/// fail), the write block fits the tail buffer, the slot is whole pages.
#[derive(Clone, Copy, Debug)]
struct Geometry {
    slot_size: u32,
    page: NonZeroU32,
    /// At most [`MAX_WRITE_BLOCK`].
    block: NonZeroUsize,
    erased_value: u8,
}

impl Geometry {
    fn new(geo: &FlashGeometry) -> Result<Geometry, Errno> {
        let page = NonZeroU32::new(geo.page_size).ok_or(Errno::NotSup)?;
        let block = usize::try_from(geo.write_block)
            .ok()
            .and_then(NonZeroUsize::new)
            .filter(|b| b.get() <= MAX_WRITE_BLOCK)
            .ok_or(Errno::NotSup)?;
        if geo.slot_size % page != 0 {
            return Err(Errno::NotSup);
        }
        Ok(Geometry {
            slot_size: geo.slot_size,
            page,
            block,
            erased_value: geo.erased_value,
        })
    }
}

/// Streams an image into the secondary slot.
pub struct SlotWriter {
    geo: Geometry,
    total: u32,
    /// Where MCUboot's trailer starts ([`SlotWriter::capacity`]): no image
    /// byte is ever written at or past it, whatever a server announced.
    capacity: u32,
    /// File bytes accepted so far.
    written: u32,
    /// Pages below this offset have been erased by us.
    erased_to: u32,
    tail: [u8; MAX_WRITE_BLOCK],
    tail_len: usize,
    first: [u8; HEADER_LEN],
    /// End of the hashed region once the header in `first` was accepted
    /// (`u32::MAX` until then); the header itself is parsed again from
    /// `first` where it is needed, in `finish`.
    hashed: u32,
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
        // Version, 3 reserved bytes, URL id, total, offset, digest.
        let mut b = [0u8; PROGRESS_LEN];
        put(&mut b, 0, &[PROGRESS_VERSION]);
        put(&mut b, 4, &self.checkpoint.url_id);
        put(&mut b, 12, &self.checkpoint.total.to_le_bytes());
        put(&mut b, 16, &self.offset.to_le_bytes());
        put(&mut b, 20, &self.digest);
        b
    }

    pub fn decode(b: &[u8]) -> Option<Progress> {
        if b.len() != PROGRESS_LEN || b.first() != Some(&PROGRESS_VERSION) {
            return None;
        }
        Some(Progress {
            checkpoint: Checkpoint {
                url_id: array_at(b, 4)?,
                total: u32::from_le_bytes(array_at(b, 12)?),
            },
            offset: u32::from_le_bytes(array_at(b, 16)?),
            digest: array_at(b, 20)?,
        })
    }
}

/// Outcome of a successful [`SlotWriter::finish`].
#[derive(Clone, Copy, Debug)]
pub struct Verified {
    /// The header's version.
    pub version: Version,
    pub image_len: u32,
}

impl SlotWriter {
    /// Start an image of `total` bytes. Fails with `EFBIG` when it cannot fit
    /// in front of the trailer.
    pub fn new(geo: FlashGeometry, total: u32) -> Result<SlotWriter, Errno> {
        Self::for_size(geo, Some(total))
    }

    /// [`SlotWriter::new`]; for a size not known yet (`None`), an image up
    /// to the capacity until [`SlotWriter::set_total`] tells.
    // Inlined in the engine's `deliver`: the writer is built in place of
    // the Result rather than copied out of one.
    #[inline(always)]
    pub fn for_size(geo: FlashGeometry, total: Option<u32>) -> Result<SlotWriter, Errno> {
        let checked = Geometry::new(&geo)?;
        let capacity = Self::capacity(&geo);
        let total = total.unwrap_or(capacity);
        if total > capacity {
            return Err(Errno::FileTooBig);
        }
        if (total as usize) < HEADER_LEN {
            return Err(Errno::IlSeq);
        }
        Ok(SlotWriter {
            geo: checked,
            total,
            capacity,
            written: 0,
            erased_to: 0,
            tail: [0; MAX_WRITE_BLOCK],
            tail_len: 0,
            first: [0; HEADER_LEN],
            hashed: u32::MAX,
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
        if off % w.geo.page != 0
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
        let step = u32::try_from(scratch.len()).unwrap_or(u32::MAX);
        while at < off {
            let n = step.min(off - at) as usize;
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
        let mut d = [0u8; 16];
        crate::bytes::copy(&mut d, &self.hasher.clone().finalize());
        d
    }

    /// Largest image the slot takes: where MCUboot's trailer starts.
    #[inline(never)]
    pub fn capacity(geo: &FlashGeometry) -> u32 {
        let room = u64::from(geo.slot_size).saturating_sub(trailer_size(geo));
        u32::try_from(room).unwrap_or(0)
    }

    /// Fix the size of a download whose length was not announced (chunked
    /// or close-delimited streams): when it ends, or when a later response
    /// tells it. `EFBIG` for a size that reaches into the trailer, `EBADMSG`
    /// for one below what is already written; the writer keeps its size.
    pub fn set_total(&mut self, total: u32) -> Result<(), Errno> {
        if total > self.capacity {
            return Err(Errno::FileTooBig);
        }
        if total < self.written {
            return Err(Errno::BadMsg);
        }
        self.total = total;
        Ok(())
    }

    pub fn written(&self) -> u32 {
        self.written
    }

    /// Accept the next bytes of the file.
    pub fn write<P: Port>(&mut self, port: &mut P, mut data: &[u8]) -> Result<(), Errno> {
        let room = self.total.saturating_sub(self.written);
        if data.len() > room as usize {
            return Err(Errno::FileTooBig);
        }
        self.absorb_header(data)?;
        let wb = self.geo.block.get();
        // Whole write blocks go to flash from `data` when no partial block
        // is pending; bytes short of a block wait in the tail, which is
        // programmed once full.
        while !data.is_empty() {
            if self.tail_len == 0 && data.len() >= wb {
                let whole = data.len() - data.len() % wb;
                let off = self.written;
                self.program(port, off, data.get(..whole).ok_or(Errno::Fault)?)?;
                self.written += whole as u32;
                data = data.get(whole..).unwrap_or(&[]);
            } else {
                let free = self.tail.get_mut(self.tail_len..wb).unwrap_or(&mut []);
                let take = crate::bytes::copy(free, data);
                self.tail_len += take;
                self.written += take as u32;
                data = data.get(take..).unwrap_or(&[]);
                if self.tail_len == wb {
                    self.flush_tail(port)?;
                }
            }
        }
        Ok(())
    }

    /// Program the tail block: a full one (from `write`), or the image's
    /// last, partial one padded with the erased value (from `finish`).
    fn flush_tail<P: Port>(&mut self, port: &mut P) -> Result<(), Errno> {
        let wb = self.geo.block.get();
        let mut block = self.tail;
        if let Some(pad) = block.get_mut(self.tail_len..wb) {
            pad.fill(self.geo.erased_value);
        }
        let off = self.written - self.tail_len as u32;
        self.program(port, off, block.get(..wb).ok_or(Errno::Fault)?)?;
        self.tail_len = 0;
        Ok(())
    }

    // Inlined in `write`, its one caller without progress saving (`resume`
    // is the other): measured smaller than the call.
    #[inline(always)]
    fn absorb_header(&mut self, data: &[u8]) -> Result<(), Errno> {
        if self.hashed != u32::MAX {
            return Ok(());
        }
        let at = self.written as usize;
        let take = crate::bytes::copy(self.first.get_mut(at..).unwrap_or(&mut []), data);
        if at + take == HEADER_LEN {
            let h = ImageHeader::parse(&self.first)?;
            let hashed = h.hashed_len().ok_or(Errno::IlSeq)?;
            // The TLV area (at least its 4-byte info header) must follow.
            if hashed > self.total.saturating_sub(4) {
                return Err(Errno::IlSeq);
            }
            self.hashed = hashed;
        }
        Ok(())
    }

    /// Hash bytes as they reach flash, so the hash state always matches
    /// what a resume after a power cut can re-read.
    fn hash_flashed(&mut self, data: &[u8]) {
        // Until the header is known the hashed length is unknown, but it is
        // at least the header itself, so hashing the first bytes is safe.
        let end = self.hashed;
        if self.flashed_to < end {
            let n = ((end - self.flashed_to) as usize).min(data.len());
            self.hasher.update(data.get(..n).unwrap_or(data));
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
        let page = self.geo.page;
        while !data.is_empty() {
            let page_end = (off / page)
                .checked_add(1)
                .and_then(|p| p.checked_mul(page.get()))
                .ok_or(Errno::Inval)?;
            let n = ((page_end - off) as usize).min(data.len());
            let end = off + n as u32;
            // The trailer is MCUboot's. Image bytes end at `total`, which
            // never passes `capacity` (`new`, `set_total`); only the erased
            // padding of the last write block may reach past it.
            if off >= self.capacity {
                return Err(Errno::FileTooBig);
            }
            while self.erased_to < end {
                port.flash_erase(self.erased_to, page.get())?;
                self.erased_to += page.get();
            }
            let now = data.get(..n).unwrap_or(data);
            let rest = data.get(n..).unwrap_or(&[]);
            port.flash_write(off, now)?;
            self.hash_flashed(now);
            off = end;
            data = rest;
            if cfg!(feature = "progress-save") && off == page_end {
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
            crate::logging::warn!(SAVE_FAILED, offset = offset, error = e.name());
            self.checkpoint = None;
        }
    }

    /// Flush, check the image against its SHA256 TLV, and leave everything
    /// after it erased. No upgrade may be requested unless this succeeds.
    // One caller (the engine): inlined there, its Result<Verified, Errno> needs
    // no trip through memory.
    #[inline(always)]
    pub fn finish<P: Port>(&mut self, port: &mut P, scratch: &mut [u8]) -> Result<Verified, Errno> {
        if self.written != self.total {
            return Err(Errno::IlSeq);
        }
        if self.tail_len > 0 {
            self.flush_tail(port)?;
        }
        let hashed = self.hashed;
        if hashed == u32::MAX {
            return Err(Errno::IlSeq);
        }
        let header = ImageHeader::parse(&self.first)?;
        // The hasher is spent: the image is complete.
        let digest = self.hasher.finalize();
        check_sha256(port, &header, hashed, self.total, &digest)?;
        // Everything between the image and the end of the slot must read
        // erased, so MCUboot sees no stale trailer and the check is exact.
        let g = &self.geo;
        let end = self.erased_to.max(round_up(self.total, g.page));
        erase_dirty(port, g.page, g.erased_value, end, g.slot_size, scratch)?;
        Ok(Verified {
            version: header.version,
            image_len: self.total,
        })
    }
}

/// `v` rounded up to a multiple of `to` (`u32::MAX` when that overflows).
fn round_up(v: u32, to: NonZeroU32) -> u32 {
    match v % to {
        0 => v,
        r => v.saturating_add(to.get() - r),
    }
}

// Inlined at its three call sites in `check_sha256` (measured smaller: the
// pair no longer goes through memory).
#[inline(always)]
fn read_u16_pair<P: Port>(port: &mut P, off: u32) -> Result<(u16, u16), Errno> {
    let mut b = [0u8; 4];
    port.flash_read(off, &mut b)?;
    Ok((
        u16::from_le_bytes([b[0], b[1]]),
        u16::from_le_bytes([b[2], b[3]]),
    ))
}

/// Walk the TLV areas in flash and check that the one SHA256 TLV holds
/// `digest`. The file must end exactly where the TLV area ends (no trailing
/// bytes). The walk goes to the end whatever the value, so a flash error
/// after a mismatch is still reported as such.
// One caller (`finish`): inlined, measured smaller than the call.
#[inline(always)]
fn check_sha256<P: Port>(
    port: &mut P,
    h: &ImageHeader,
    hashed: u32,
    total: u32,
    digest: &[u8; 32],
) -> Result<(), Errno> {
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
            found = Some(v == *digest);
        }
        off = next;
    }
    match found {
        Some(true) => Ok(()),
        _ => Err(Errno::IlSeq),
    }
}

/// Make sure MCUboot's trailer area (from [`SlotWriter::capacity`] to the
/// slot's end) holds no upgrade request: before any image byte is written
/// (a reboot mid-download must not swap), after a failure, and as the check
/// before the upgrade is requested. True when it did not read erased (and
/// was erased now).
#[inline(never)]
pub fn clear_trailer<P: Port>(
    port: &mut P,
    geo: &FlashGeometry,
    scratch: &mut [u8],
) -> Result<bool, Errno> {
    ensure_erased(port, geo, SlotWriter::capacity(geo), geo.slot_size, scratch)
}

/// Erase every page holding a byte in [from, to) that does not read erased
/// (bytes of those pages outside the range are not looked at, and go with
/// the page). True when a page was erased. `NotSup` for a geometry with page
/// size 0.
pub fn ensure_erased<P: Port>(
    port: &mut P,
    geo: &FlashGeometry,
    from: u32,
    to: u32,
    scratch: &mut [u8],
) -> Result<bool, Errno> {
    let page = NonZeroU32::new(geo.page_size).ok_or(Errno::NotSup)?;
    erase_dirty(port, page, geo.erased_value, from, to, scratch)
}

fn erase_dirty<P: Port>(
    port: &mut P,
    page_size: NonZeroU32,
    erased_value: u8,
    from: u32,
    to: u32,
    scratch: &mut [u8],
) -> Result<bool, Errno> {
    if scratch.is_empty() {
        return Err(Errno::NoMem);
    }
    let step = u32::try_from(scratch.len()).unwrap_or(u32::MAX);
    let mut page = from - from % page_size;
    let mut erased = false;
    while page < to {
        let mut off = page.max(from);
        let page_end = page.checked_add(page_size.get()).ok_or(Errno::Inval)?;
        let end = page_end.min(to);
        let mut dirty = false;
        while off < end && !dirty {
            let n = step.min(end - off) as usize;
            let chunk = scratch.get_mut(..n).ok_or(Errno::Fault)?;
            port.flash_read(off, chunk)?;
            dirty = chunk.iter().any(|&b| b != erased_value);
            off += n as u32;
        }
        if dirty {
            port.flash_erase(page, page_size.get())?;
            erased = true;
        }
        page = page_end;
    }
    Ok(erased)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailer_size_matches_mcuboot() {
        let geo = |slot_size, write_block| FlashGeometry {
            slot_size,
            page_size: 4096,
            write_block,
            erased_value: 0xff,
        };
        // nRF9160's 448 KiB slot (112 sectors): MCUboot's default of 128
        // entries, 128 * 3 * 4 + 5 * 8 + 16: boot_trailer_sz(4) with swap
        // using offset, 8 bytes more than with move or scratch.
        assert_eq!(trailer_size(&geo(448 * 1024, 4)), 1592);
        assert_eq!(trailer_size(&geo(448 * 1024, 8)), 3128);
        // 1 MiB of 4 KiB sectors: MCUboot needs 256 entries at least.
        assert_eq!(trailer_size(&geo(1024 * 1024, 4)), 256 * 3 * 4 + 56);
        assert_eq!(
            SlotWriter::capacity(&geo(1024 * 1024, 4)),
            1024 * 1024 - (256 * 3 * 4 + 56)
        );
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

    extern crate std;
    use std::vec::Vec;

    const SLOT: u32 = 64 * 1024;
    const PAGE: u32 = 4096;

    fn geo(page_size: u32, write_block: u32) -> FlashGeometry {
        FlashGeometry {
            slot_size: SLOT,
            page_size,
            write_block,
            erased_value: 0xff,
        }
    }

    /// NOR flash and a one-entry key/value store.
    struct Mem {
        geo: FlashGeometry,
        flash: Vec<u8>,
        kv: Option<Vec<u8>>,
        erases: u32,
    }

    impl Mem {
        fn new(geo: FlashGeometry) -> Mem {
            Mem {
                geo,
                flash: std::vec![0xa5; SLOT as usize],
                kv: None,
                erases: 0,
            }
        }
    }

    impl Port for Mem {
        crate::port::no_network!();
        fn flash_geometry(&mut self) -> Result<FlashGeometry, Errno> {
            Ok(self.geo)
        }
        fn flash_erase(&mut self, off: u32, len: u32) -> Result<(), Errno> {
            assert_eq!(off % PAGE, 0);
            assert_eq!(len, PAGE);
            self.erases += 1;
            self.flash[off as usize..(off + len) as usize].fill(0xff);
            Ok(())
        }
        fn flash_write(&mut self, off: u32, data: &[u8]) -> Result<(), Errno> {
            let wb = self.geo.write_block as usize;
            assert_eq!(off as usize % wb, 0);
            assert_eq!(data.len() % wb, 0);
            for (cell, &d) in self.flash[off as usize..].iter_mut().zip(data) {
                assert_eq!(*cell, 0xff, "write needs an erase");
                *cell = d;
            }
            Ok(())
        }
        fn flash_read(&mut self, off: u32, buf: &mut [u8]) -> Result<(), Errno> {
            let src = self
                .flash
                .get(off as usize..off as usize + buf.len())
                .ok_or(Errno::Inval)?;
            buf.copy_from_slice(src);
            Ok(())
        }
        fn request_upgrade(&mut self, _: bool) -> Result<(), Errno> {
            unreachable!()
        }
        fn kv_load(&mut self, _: &str, buf: &mut [u8]) -> Result<usize, Errno> {
            let v = self.kv.as_ref().ok_or(Errno::NoEnt)?;
            buf[..v.len()].copy_from_slice(v);
            Ok(v.len())
        }
        fn kv_save(&mut self, key: &str, value: &[u8]) -> Result<(), Errno> {
            assert_eq!(key, PROGRESS_KEY);
            self.kv = Some(value.to_vec());
            Ok(())
        }
        fn kv_delete(&mut self, _: &str) -> Result<(), Errno> {
            self.kv = None;
            Ok(())
        }
        fn uptime_ms(&mut self) -> u64 {
            0
        }
        fn sleep_ms(&mut self, _: u32) {}
    }

    /// A well-formed image: header, payload, a protected TLV area, and the
    /// SHA256 TLV over header + payload + protected TLVs.
    fn image(payload_len: usize) -> Vec<u8> {
        let mut v = std::vec![0u8; 0x200];
        v[..4].copy_from_slice(&IMAGE_MAGIC.to_le_bytes());
        v[8..10].copy_from_slice(&0x200u16.to_le_bytes());
        v[10..12].copy_from_slice(&12u16.to_le_bytes());
        v[12..16].copy_from_slice(&(payload_len as u32).to_le_bytes());
        v.extend((0..payload_len).map(|i| (i * 13 + i / 241) as u8));
        v.extend_from_slice(&TLV_PROT_INFO_MAGIC.to_le_bytes());
        v.extend_from_slice(&12u16.to_le_bytes());
        v.extend_from_slice(&[0x50, 0, 4, 0, 1, 2, 3, 4]);
        let digest = crate::sha256::digest(&v);
        v.extend_from_slice(&TLV_INFO_MAGIC.to_le_bytes());
        v.extend_from_slice(&(4u16 + 36).to_le_bytes());
        v.extend_from_slice(&TLV_SHA256.to_le_bytes());
        v.extend_from_slice(&32u16.to_le_bytes());
        v.extend_from_slice(&digest);
        v
    }

    fn write_all(w: &mut SlotWriter, port: &mut Mem, img: &[u8], piece: usize) {
        for c in img.chunks(piece) {
            w.write(port, c).unwrap();
        }
    }

    #[test]
    fn writes_and_verifies_for_every_write_block() {
        let mut scratch = [0u8; 256];
        for wb in [1, 2, 4, 8, 16, 32] {
            for (len, piece) in [(10_000, 1), (10_001, 7), (12_287, 333), (3, 4096)] {
                let img = image(len);
                let mut port = Mem::new(geo(PAGE, wb));
                port.flash[SLOT as usize - 1] = 0; // a stale trailer byte
                let mut w = SlotWriter::new(port.geo, img.len() as u32).unwrap();
                let g = port.geo;
                clear_trailer(&mut port, &g, &mut scratch).unwrap();
                write_all(&mut w, &mut port, &img, piece);
                let v = w.finish(&mut port, &mut scratch).unwrap();
                assert_eq!(v.image_len as usize, img.len());
                assert_eq!(&port.flash[..img.len()], &img[..], "wb {wb} len {len}");
                let pad = img.len().div_ceil(wb as usize) * wb as usize;
                assert!(port.flash[pad..].iter().all(|&b| b == 0xff));
            }
        }
    }

    /// A size learnt late (a chunked stream resumed with a range) never
    /// moves the end past the trailer's start, nor below what is written.
    #[test]
    fn a_late_size_stays_in_front_of_the_trailer() {
        let g = geo(PAGE, 4);
        let cap = SlotWriter::capacity(&g);
        let img = image(9_000);
        let mut port = Mem::new(g);
        let mut w = SlotWriter::new(g, cap).unwrap();
        write_all(&mut w, &mut port, &img[..5_000], 100);
        assert_eq!(w.set_total(SLOT), Err(Errno::FileTooBig));
        assert_eq!(w.set_total(cap + 1), Err(Errno::FileTooBig));
        assert_eq!(w.set_total(4_999), Err(Errno::BadMsg));
        // Refused sizes leave the writer as it was: at most the capacity.
        let room = vec_of(cap as usize - 5_000);
        assert!(w.write(&mut port, &room).is_ok());
        assert_eq!(w.write(&mut port, &[0u8; 4]), Err(Errno::FileTooBig));
        assert!(port.flash[cap as usize..].iter().all(|&b| b == 0xff));
        let mut w = SlotWriter::new(g, cap).unwrap();
        let mut port = Mem::new(g);
        write_all(&mut w, &mut port, &img[..5_000], 100);
        assert_eq!(w.set_total(img.len() as u32), Ok(()));
        write_all(&mut w, &mut port, &img[5_000..], 100);
        let mut scratch = [0u8; 256];
        assert!(w.finish(&mut port, &mut scratch).is_ok());
    }

    fn vec_of(n: usize) -> Vec<u8> {
        std::vec![0x11; n]
    }

    #[test]
    fn corrupt_image_is_refused() {
        let mut scratch = [0u8; 256];
        let mut img = image(5000);
        img[0x300] ^= 1;
        let mut port = Mem::new(geo(PAGE, 4));
        let mut w = SlotWriter::new(port.geo, img.len() as u32).unwrap();
        write_all(&mut w, &mut port, &img, 100);
        assert_eq!(w.finish(&mut port, &mut scratch).err(), Some(Errno::IlSeq));
        // More than announced.
        let mut w = SlotWriter::new(port.geo, 100).unwrap();
        assert_eq!(w.write(&mut port, &img[..101]), Err(Errno::FileTooBig));
    }

    #[test]
    fn progress_round_trip() {
        let p = Progress {
            checkpoint: Checkpoint {
                url_id: [1, 2, 3, 4, 5, 6, 7, 8],
                total: 0x1122_3344,
            },
            offset: 0x5566_7788,
            digest: [0xd0; 16],
        };
        let b = p.encode();
        assert_eq!(b[..4], [PROGRESS_VERSION, 0, 0, 0]);
        assert_eq!(b[4..12], [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(b[12..16], 0x1122_3344u32.to_le_bytes());
        assert_eq!(b[16..20], 0x5566_7788u32.to_le_bytes());
        assert_eq!(b[20..], [0xd0; 16]);
        assert_eq!(Progress::decode(&b), Some(p));
        assert_eq!(Progress::decode(&b[..35]), None);
        assert_eq!(Progress::decode(&[]), None);
        let mut long = [0u8; 37];
        long[..36].copy_from_slice(&b);
        assert_eq!(Progress::decode(&long), None);
        let mut other = b;
        other[0] = PROGRESS_VERSION + 1;
        assert_eq!(Progress::decode(&other), None);
    }

    #[cfg(feature = "progress-save")]
    #[test]
    fn resume_from_checkpoint() {
        let mut scratch = [0u8; 300];
        let img = image(20_000);
        let cp = Checkpoint {
            url_id: [9; 8],
            total: img.len() as u32,
        };
        let g = geo(PAGE, 4);
        let mut port = Mem::new(g);
        let mut w = SlotWriter::new(g, cp.total).unwrap();
        w.set_checkpoint(cp);
        // Power cut after 2.5 pages: progress says 2 pages.
        write_all(&mut w, &mut port, &img[..2 * PAGE as usize + 2000], 999);
        let saved = Progress::decode(port.kv.as_ref().unwrap()).unwrap();
        assert_eq!(saved.offset, 2 * PAGE);
        let mut w = SlotWriter::resume(&mut port, g, &saved, &mut scratch).unwrap();
        assert_eq!(w.written(), 2 * PAGE);
        write_all(&mut w, &mut port, &img[2 * PAGE as usize..], 1234);
        w.finish(&mut port, &mut scratch).unwrap();
        assert_eq!(&port.flash[..img.len()], &img[..]);

        // Flash that no longer matches the saved digest, an offset off a
        // page boundary: refused.
        port.flash[100] ^= 1;
        let e = SlotWriter::resume(&mut port, g, &saved, &mut scratch).err();
        assert_eq!(e, Some(Errno::IlSeq));
        port.flash[100] ^= 1;
        let odd = Progress {
            offset: saved.offset + 4,
            ..saved
        };
        let e = SlotWriter::resume(&mut port, g, &odd, &mut scratch).err();
        assert_eq!(e, Some(Errno::Inval));
    }

    /// A port reporting a page or write block size of 0 (or one the writer
    /// cannot handle) gets an error, not a division by zero.
    #[test]
    fn unusable_geometry_is_an_error() {
        let mut scratch = [0u8; 64];
        let saved = Progress {
            checkpoint: Checkpoint {
                url_id: [0; 8],
                total: 1000,
            },
            offset: PAGE,
            digest: [0; 16],
        };
        for g in [
            geo(0, 4),
            geo(PAGE, 0),
            geo(PAGE, MAX_WRITE_BLOCK as u32 + 1),
            geo(PAGE - 1, 4),
        ] {
            let mut port = Mem::new(g);
            assert_eq!(SlotWriter::new(g, 1000).err(), Some(Errno::NotSup));
            let e = SlotWriter::resume(&mut port, g, &saved, &mut scratch).err();
            assert_eq!(e, Some(Errno::NotSup));
        }
        let mut port = Mem::new(geo(0, 4));
        let g = port.flash_geometry().unwrap();
        let e = ensure_erased(&mut port, &g, 0, SLOT, &mut scratch);
        assert_eq!(e, Err(Errno::NotSup));
        assert_eq!(port.erases, 0);
    }

    #[test]
    fn ensure_erased_erases_dirty_pages_only() {
        let mut port = Mem::new(geo(PAGE, 4));
        port.flash.fill(0xff);
        port.flash[PAGE as usize + 17] = 0;
        port.flash[3 * PAGE as usize - 1] = 0;
        let g = port.geo;
        let mut scratch = [0u8; 1000];
        ensure_erased(&mut port, &g, PAGE + 5, 3 * PAGE, &mut scratch).unwrap();
        assert_eq!(port.erases, 2);
        assert!(port.flash.iter().all(|&b| b == 0xff));
        assert_eq!(
            ensure_erased(&mut port, &g, 0, PAGE, &mut []),
            Err(Errno::NoMem)
        );
    }

    #[test]
    fn round_up_to_pages() {
        let p = NonZeroU32::new(PAGE).unwrap();
        assert_eq!(round_up(0, p), 0);
        assert_eq!(round_up(1, p), PAGE);
        assert_eq!(round_up(PAGE, p), PAGE);
        assert_eq!(round_up(PAGE + 1, p), 2 * PAGE);
        assert_eq!(round_up(u32::MAX, p), u32::MAX);
    }
}
