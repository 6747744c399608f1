// SPDX-License-Identifier: Apache-2.0
//! Where received body bytes go: the MCUboot slot writer or the modem's
//! delta area, with the image type told from the first bytes.

use super::Progress;
use crate::error::{Errno, Error, Stage};
use crate::image::{self, ImageSet, ImageType, DETECT_LEN};
use crate::mcuboot::{Checkpoint, SlotWriter};
use crate::port::{FlashGeometry, Port};

/// Key/value entry naming the download the modem's delta area belongs to.
pub(super) const DELTA_KEY: &str = "delta_url";

/// Modem delta images go to the modem through the port.
#[derive(Clone, Copy, Debug)]
pub(super) struct DeltaTarget {
    /// Bytes the modem already held when the transfer began (resume point).
    skip_below: u32,
}

/// Where received body bytes go.
pub(super) struct Sink {
    pub(super) geo: FlashGeometry,
    pub(super) expected: ImageSet,
    pub(super) found: ImageType,
    pub(super) first: [u8; DETECT_LEN],
    pub(super) writer: crate::zopt::ZeroOption<SlotWriter>,
    pub(super) delta: Option<DeltaTarget>,
    /// A modem erase ran in `deliver`: report ERASE_PENDING and ERASE_DONE.
    pub(super) erased: bool,
    pub(super) offset: u32,
    pub(super) total: Option<u32>,
    pub(super) last_percent: Option<u8>,
    /// Identity of this download for saved progress (None: do not save).
    pub(super) url_id: Option<[u8; 8]>,
    /// Offset this download resumed from after a reboot (0: fresh).
    pub(super) resumed_from: u32,
    /// Identity of the requested URL (see `url_id`).
    pub(super) download_id: [u8; 8],
    /// The slot holds the way back (the running image is not confirmed):
    /// no MCUboot image may be written there.
    pub(super) keep_slot: bool,
}

impl Sink {
    /// The modem delta being written. Always `None` in a build without the
    /// modem delta target (`begin_delta` refuses there): the compiler then
    /// leaves out every path that handles one.
    pub(super) fn delta(&self) -> Option<DeltaTarget> {
        if cfg!(feature = "modem-delta") {
            self.delta
        } else {
            None
        }
    }

    pub(super) const fn new(expected: ImageSet) -> Sink {
        Sink {
            // Zero until `run` asks the port (keeps the static engine in .bss).
            geo: FlashGeometry {
                slot_size: 0,
                page_size: 0,
                write_block: 0,
                erased_value: 0,
            },
            expected,
            found: ImageType::Any,
            first: [0; DETECT_LEN],
            writer: crate::zopt::ZeroOption::none(),
            delta: None,
            erased: false,
            offset: 0,
            total: None,
            last_percent: None,
            url_id: None,
            resumed_from: 0,
            download_id: [0; 8],
            keep_slot: false,
        }
    }

    pub(super) fn deliver<P: Port>(&mut self, port: &mut P, mut data: &[u8]) -> Result<(), Error> {
        let img = |e| Error::new(Stage::Image, e);
        if let Some(total) = self.total {
            if total
                .checked_sub(self.offset)
                .map_or(true, |room| data.len() > room as usize)
            {
                return Err(Error::new(Stage::Http, Errno::BadMsg));
            }
        }
        if self.delta().is_none() && self.writer.is_none() {
            let at = self.offset as usize;
            let take = crate::bytes::copy(self.first.get_mut(at..).unwrap_or(&mut []), data);
            self.offset += take as u32;
            data = data.get(take..).unwrap_or(&[]);
            if (self.offset as usize) < DETECT_LEN {
                return Ok(());
            }
            let found = image::detect(&self.first).map_err(img)?;
            self.found = found;
            image::check_expected(found, self.expected).map_err(img)?;
            match found {
                ImageType::Mcuboot if self.keep_slot => {
                    crate::logging::error!(UNCONFIRMED_OVERWRITE);
                    return Err(img(Errno::Access));
                }
                ImageType::Mcuboot => {
                    let mut w = SlotWriter::for_size(self.geo, self.total).map_err(img)?;
                    if let (Some(url_id), Some(total)) = (self.url_id, self.total) {
                        w.set_checkpoint(Checkpoint { url_id, total });
                    }
                    w.write(port, &self.first).map_err(flash_or_image)?;
                    self.writer.set(w);
                }
                ImageType::ModemDelta => {
                    let d = self.begin_delta(port)?;
                    // Recorded before the first write, so a failing write
                    // still ends the modem's transfer.
                    self.delta = Some(d);
                    write_delta(port, d, 0, &self.first)?;
                }
                _ => {
                    crate::logging::error!(
                        NEEDS_EXTERNAL_FLASH,
                        image = crate::records::Code(found as u8)
                    );
                    return Err(img(Errno::NotSup));
                }
            }
        }
        // The rest goes where the first bytes went.
        if let Some(d) = self.delta() {
            write_delta(port, d, self.offset, data)?;
            self.offset += data.len() as u32;
        } else if let Some(w) = self.writer.as_mut() {
            w.write(port, data).map_err(flash_or_image)?;
            self.offset += data.len() as u32;
        }
        Ok(())
    }

    /// Ask the modem how much of a delta it holds; erase when it holds
    /// something that cannot be continued.
    // One caller (`deliver`): inlined, the Result needs no trip through memory.
    #[inline(always)]
    pub(super) fn begin_delta<P: Port>(&mut self, port: &mut P) -> Result<DeltaTarget, Error> {
        let flash = |e| Error::new(Stage::Flash, e);
        // Without the feature, as on a platform without the target: the
        // rest of this path is not built.
        let offset = if cfg!(feature = "modem-delta") {
            port.modem_delta_offset()
        } else {
            Err(Errno::NotSup)
        };
        let held = match offset {
            Ok(off) => Some(off),
            Err(Errno::Again) => None,
            Err(Errno::NotSup) => {
                crate::logging::error!(NO_DELTA_TARGET);
                return Err(Error::new(Stage::Image, Errno::NotSup));
            }
            Err(e) => return Err(flash(e)),
        };
        // What the modem holds is only continued for the same download (NCS
        // erases when the URL changes).
        let mut id = [0u8; 8];
        let want = self.download_id;
        let same = matches!(port.kv_load(DELTA_KEY, &mut id), Ok(8) if id == want);
        let _ = port.kv_save(DELTA_KEY, &want);
        match (held, self.total) {
            (Some(0), _) => Ok(DeltaTarget { skip_below: 0 }),
            (Some(off), Some(total)) if off < total && same => {
                crate::logging::info!(DELTA_CONTINUED, bytes = off);
                Ok(DeltaTarget { skip_below: off })
            }
            _ => {
                crate::logging::info!(DELTA_ERASING);
                port.modem_delta_erase().map_err(flash)?;
                self.erased = true;
                Ok(DeltaTarget { skip_below: 0 })
            }
        }
    }

    // One caller (the pipeline): inlined there, the Option<Progress> needs no
    // trip through memory.
    #[inline(always)]
    pub(super) fn progress(&mut self) -> Option<Progress> {
        let total = self.total?;
        // 32-bit arithmetic (a 64-bit division links 500 bytes of runtime
        // on Cortex-M33): exact for images below 32 MiB, where offset * 100
        // fits; larger totals drop low bits from both sides.
        let shift = (32 - total.leading_zeros()).saturating_sub(25);
        let den = core::num::NonZeroU32::new(total >> shift)?;
        let num = (self.offset.min(total) >> shift) * 100;
        let percent = (num / den) as u8;
        if self.last_percent == Some(percent) {
            return None;
        }
        self.last_percent = Some(percent);
        Some(Progress {
            image_type: self.found,
            percent,
            offset: self.offset,
            total,
        })
    }
}

/// Write the part of `data` (at file offset `at`) the modem does not hold yet.
pub(super) fn write_delta<P: Port>(
    port: &mut P,
    d: DeltaTarget,
    at: u32,
    data: &[u8],
) -> Result<(), Error> {
    let skip = d.skip_below.saturating_sub(at) as usize;
    match data.get(skip..) {
        Some(rest) if !rest.is_empty() => port
            .modem_delta_write(rest)
            .map_err(|e| Error::new(Stage::Flash, e)),
        _ => Ok(()),
    }
}

// Out of line: three callers (two in `deliver`, one in the engine's finish).
#[inline(never)]
pub(super) fn flash_or_image(e: Errno) -> Error {
    match e {
        Errno::Io | Errno::Inval | Errno::NotSup => Error::new(Stage::Flash, e),
        _ => Error::new(Stage::Image, e),
    }
}
