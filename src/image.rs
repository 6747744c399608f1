// SPDX-License-Identifier: Apache-2.0
//! Image type from the first bytes of a download (as NCS's dfu_target does).

use crate::error::Errno;

/// Bytes needed to tell the type.
pub const DETECT_LEN: usize = 32;

/// Discriminants equal `enum fota_rs_image_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ImageType {
    /// As an expectation: accept any supported type.
    Any = 0,
    Mcuboot = 1,
    ModemDelta = 2,
    FullModem = 3,
}

impl ImageType {
    pub fn from_u8(v: u8) -> Option<ImageType> {
        match v {
            0 => Some(ImageType::Any),
            1 => Some(ImageType::Mcuboot),
            2 => Some(ImageType::ModemDelta),
            3 => Some(ImageType::FullModem),
            _ => None,
        }
    }
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// Classify the first [`DETECT_LEN`] bytes. Unknown content is `EILSEQ`.
// Inlined in its caller: the length is then known (the engine passes 32
// bytes), and the result needs no trip through memory.
#[inline(always)]
pub fn detect(first: &[u8]) -> Result<ImageType, Errno> {
    if first.len() < DETECT_LEN {
        return Err(Errno::Inval);
    }
    if le32(first, 0) == Some(crate::mcuboot::IMAGE_MAGIC) {
        Ok(ImageType::Mcuboot)
    } else if le32(first, 4) == Some(0x7544_656d) {
        Ok(ImageType::ModemDelta)
    } else if first.get(0..2) == Some(&0x84d2u16.to_le_bytes()[..]) {
        Ok(ImageType::FullModem)
    } else {
        Err(Errno::IlSeq)
    }
}

/// The image types a caller accepts: bit `1 << type` per [`ImageType`]
/// (NCS v2.6 passes such a set); empty means any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageSet(pub u8);

impl ImageSet {
    pub const ANY: ImageSet = ImageSet(0);

    pub const fn only(t: ImageType) -> ImageSet {
        match t {
            ImageType::Any => ImageSet::ANY,
            t => ImageSet(1 << t as u8),
        }
    }

    pub fn contains(self, t: ImageType) -> bool {
        self.0 == 0 || self.0 & (1 << t as u8) != 0
    }
}

/// Check a detected type against what the caller accepts.
pub fn check_expected(found: ImageType, accepted: ImageSet) -> Result<(), Errno> {
    if accepted.contains(found) {
        Ok(())
    } else {
        Err(Errno::NoExec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_types() {
        let mut b = [0u8; 32];
        b[..4].copy_from_slice(&0x96f3b83du32.to_le_bytes());
        assert_eq!(detect(&b), Ok(ImageType::Mcuboot));
        let mut b = [0u8; 32];
        b[4..8].copy_from_slice(&0x7544656du32.to_le_bytes());
        assert_eq!(detect(&b), Ok(ImageType::ModemDelta));
        let mut b = [0u8; 32];
        b[..2].copy_from_slice(&0x84d2u16.to_le_bytes());
        assert_eq!(detect(&b), Ok(ImageType::FullModem));
        assert_eq!(detect(&[0u8; 32]), Err(Errno::IlSeq));
        assert_eq!(detect(&[0u8; 8]), Err(Errno::Inval));
        assert_eq!(
            check_expected(ImageType::Mcuboot, ImageSet::only(ImageType::ModemDelta)),
            Err(Errno::NoExec)
        );
        assert_eq!(check_expected(ImageType::Mcuboot, ImageSet::ANY), Ok(()));
        let delta_or_full = ImageSet(1 << 2 | 1 << 3);
        assert_eq!(
            check_expected(ImageType::Mcuboot, delta_or_full),
            Err(Errno::NoExec)
        );
        assert_eq!(check_expected(ImageType::FullModem, delta_or_full), Ok(()));
    }
}
