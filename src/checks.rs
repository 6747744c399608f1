// SPDX-License-Identifier: Apache-2.0
//! Checks made on the image in the secondary slot after it was written and
//! its SHA-256 matched, and before the upgrade is requested: everything that
//! would make MCUboot refuse the image, or make it swap in an image that
//! cannot run here, is caught while the running firmware can still say why.
//!
//! - **Layout**: the application's vector table starts right after the image
//!   header. Its initial stack pointer must point into this device's RAM and
//!   its reset handler (Thumb) into the image's own code as this device will
//!   place it (primary slot + header size). An image linked for another
//!   partition layout (the NCS v1.9 -> v2.0 SPM/TF-M trap) fails here instead
//!   of after the swap.
//! - **Version**: the image must be newer than the running one (major, minor,
//!   revision, then build), unless downgrades are allowed.
//! - **Signature**: the ECDSA-P256 signature TLV, as `imgtool sign --key`
//!   writes it, must verify with the configured key. The rules follow
//!   MCUboot's `bootutil_img_validate`: a signature counts only when a
//!   KEYHASH (or full PUBKEY) TLV naming the key precedes it, and the digest
//!   it signs is the SHA-256 over header + payload + protected TLVs, recomputed
//!   here from flash (so the check also reads back what was programmed).
//!
//! Everything reads the slot through [`Port::flash_read`] into a buffer the
//! caller lends; nothing allocates. A refusal is a [`CheckError`] carrying the
//! numbers that did not match; it requests nothing.

use crate::error::Errno;
use crate::mcuboot::{ImageHeader, HEADER_LEN};
use crate::port::{DeviceLayout, Port};
use crate::sha256::{self, Sha256};
use crate::text::Out;
use crate::version::Version;

/// TLV types (MCUboot `bootutil/image.h`).
pub const TLV_KEYHASH: u16 = 0x01;
pub const TLV_PUBKEY: u16 = 0x02;
pub const TLV_SHA256: u16 = 0x10;
pub const TLV_ECDSA_SIG: u16 = 0x22;
const TLV_INFO_MAGIC: u16 = 0x6907;
const TLV_PROT_INFO_MAGIC: u16 = 0x6908;
/// MCUboot's SIG_BUF_SIZE for ECDSA: a longer signature TLV is refused.
const MAX_SIG_LEN: usize = 128;
/// Flash page granularity assumed when guessing where an image was linked.
const LINK_GUESS_ALIGN: u32 = 0x1000;

/// Length of a P-256 SubjectPublicKeyInfo in DER (what `imgtool getpub` prints).
pub const SPKI_LEN: usize = 91;
/// SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING (0x04 ...) }:
/// everything of the DER before the 64 bytes of X and Y.
const SPKI_P256_PREFIX: [u8; 27] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
];

/// An ECDSA-P256 public key in the form MCUboot embeds and imgtool exports
/// (`imgtool getpub -k key.pem`: the SubjectPublicKeyInfo DER). It refers
/// to the caller's copy, which lives as long as the program (a `static` in
/// the port): the engine sits in static RAM and keeps no second copy.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct VerifyKey {
    spki: &'static [u8; SPKI_LEN],
}

impl core::fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The key is public, but 91 bytes of DER help nobody reading a log.
        f.write_str("VerifyKey")
    }
}

impl VerifyKey {
    /// From the SubjectPublicKeyInfo DER of a P-256 key. With the
    /// `signature` feature the point is also checked to lie on the curve.
    pub fn from_spki_der(der: &'static [u8]) -> Result<VerifyKey, CheckError> {
        let spki: &'static [u8; SPKI_LEN] = der.try_into().map_err(|_| CheckError::BadKey)?;
        if spki.get(..SPKI_P256_PREFIX.len()) != Some(&SPKI_P256_PREFIX[..]) {
            return Err(CheckError::BadKey);
        }
        let key = VerifyKey { spki };
        #[cfg(feature = "signature")]
        sig::verifying_key(&key)?;
        Ok(key)
    }

    /// The DER as given (what a KEYHASH TLV hashes, what a PUBKEY TLV holds).
    pub fn spki_der(&self) -> &[u8; SPKI_LEN] {
        self.spki
    }

    /// SHA-256 of the DER: the value of imgtool's KEYHASH TLV.
    pub fn key_hash(&self) -> [u8; 32] {
        sha256::digest(self.spki)
    }

    /// The uncompressed SEC1 point (0x04 || X || Y) at the end of the DER.
    #[cfg_attr(not(feature = "signature"), allow(dead_code))]
    fn sec1(&self) -> &[u8] {
        self.spki.get(SPKI_P256_PREFIX.len() - 1..).unwrap_or(&[])
    }
}

/// Which checks run. Every check is on by default; the signature check runs
/// when a key is configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checks {
    /// Refuse an image whose vector table does not fit this device's layout
    /// (skipped when the port cannot tell the layout).
    pub layout: bool,
    /// Accept an image that is not newer than the running one.
    pub allow_downgrade: bool,
    /// Key the image must be signed with; `None` leaves the signature to
    /// MCUboot (logged).
    pub verify_key: Option<VerifyKey>,
}

impl Checks {
    /// Both checks on; a build without them (no `image-checks`) allows
    /// what it cannot check.
    pub const DEFAULT: Checks = Checks {
        layout: cfg!(feature = "image-checks"),
        allow_downgrade: !cfg!(feature = "image-checks"),
        verify_key: None,
    };
}

impl Default for Checks {
    fn default() -> Self {
        Checks::DEFAULT
    }
}

/// What a port query or a flash read was for, when it failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Query {
    FlashRead,
    DeviceLayout,
    RunningVersion,
}

/// How the image in the slot is malformed (the writer accepted it, so these
/// mean the flash no longer holds what was written, or a caller skipped it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Malformed {
    Header,
    /// Payload shorter than the two words of a vector table.
    NoVectorTable,
    ProtectedTlvArea,
    TlvArea,
    /// No SHA256 TLV, or one of the wrong length.
    NoHash,
}

/// Outcome of one check that did not refuse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    /// Turned off by the configuration.
    Disabled,
    /// The port cannot supply what the check needs (`ENOTSUP`).
    Skipped,
}

/// All checks that did not refuse, for logs and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Passed {
    pub layout: Outcome,
    pub version: Outcome,
    pub signature: Outcome,
}

/// Why the image must not be scheduled, with the numbers that did not match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckError {
    /// The port failed a query other than with `ENOTSUP`.
    Port {
        query: Query,
        errno: Errno,
    },
    Malformed(Malformed),
    /// The initial stack pointer (vector table word 0) is not in RAM.
    StackPointer {
        sp: u32,
        ram_start: u32,
        ram_end: u32,
    },
    /// The reset handler (word 1) lacks the Thumb bit: not Cortex-M code.
    ResetNotThumb {
        reset: u32,
    },
    /// The reset handler lies outside the image's code as this device places
    /// it: the image was linked for another start address.
    LinkedElsewhere {
        reset: u32,
        /// The image's code here: `needed .. needed + img_size`.
        code_start: u32,
        code_end: u32,
        /// Vector table address the image's handlers imply (a best guess:
        /// the highest address at `hdr_size` past a 4 KiB boundary that lies
        /// below every handler).
        linked_for: u32,
        /// Where this device runs the vector table: primary slot + header.
        needed: u32,
        primary_addr: u32,
        hdr_size: u16,
    },
    /// The image is not newer than the running firmware.
    NotNewer {
        image: Version,
        running: Version,
    },
    /// The slot's content does not hash to its SHA256 TLV.
    HashMismatch,
    /// A key is configured but the image carries no ECDSA signature TLV.
    Unsigned,
    /// Signatures are present, but no KEYHASH/PUBKEY TLV before them names
    /// the configured key (`image_key` is the first KEYHASH found, if any).
    WrongKey {
        image_key: Option<[u8; 4]>,
        key: [u8; 4],
    },
    /// The signature for the configured key is malformed or does not verify.
    BadSignature,
    /// The configured key is not a P-256 SubjectPublicKeyInfo.
    BadKey,
    /// A key is configured but this build has no `signature` feature.
    SignatureUnsupported,
}

impl CheckError {
    /// The error code for the diagnostic and the C API.
    pub fn errno(&self) -> Errno {
        match self {
            CheckError::Port { errno, .. } => *errno,
            CheckError::Malformed(_)
            | CheckError::HashMismatch
            | CheckError::Unsigned
            | CheckError::WrongKey { .. }
            | CheckError::BadSignature => Errno::IlSeq,
            CheckError::StackPointer { .. }
            | CheckError::ResetNotThumb { .. }
            | CheckError::LinkedElsewhere { .. }
            | CheckError::NotNewer { .. } => Errno::NoExec,
            CheckError::BadKey => Errno::Inval,
            CheckError::SignatureUnsupported => Errno::NotSup,
        }
    }

    /// Which check refused: "layout", "version", "signature", or "image".
    pub fn check(&self) -> &'static str {
        match self {
            CheckError::StackPointer { .. }
            | CheckError::ResetNotThumb { .. }
            | CheckError::LinkedElsewhere { .. } => "layout",
            CheckError::NotNewer { .. } => "version",
            CheckError::Unsigned
            | CheckError::WrongKey { .. }
            | CheckError::BadSignature
            | CheckError::BadKey
            | CheckError::SignatureUnsupported => "signature",
            CheckError::Port {
                query: Query::DeviceLayout,
                ..
            } => "layout",
            CheckError::Port {
                query: Query::RunningVersion,
                ..
            } => "version",
            CheckError::Port { .. } | CheckError::Malformed(_) | CheckError::HashMismatch => {
                "image"
            }
        }
    }
}

/// "major.minor.revision+build", as imgtool prints it.
pub(crate) fn put_version(w: &mut dyn Out, v: &Version) {
    w.dec(v.major)
        .text(".")
        .dec(v.minor)
        .text(".")
        .dec(v.revision)
        .text("+")
        .dec(v.build);
}

impl Query {
    pub const ALL: [Query; 3] = [Query::FlashRead, Query::DeviceLayout, Query::RunningVersion];

    /// The name in a compact refusal.
    pub fn name(self) -> &'static str {
        // In the order of the variants ([`crate::text::word`]).
        crate::text::word(
            "flash_read\0device_layout\0running_version\0",
            self as usize,
        )
    }
}

impl Malformed {
    pub const ALL: [Malformed; 5] = [
        Malformed::Header,
        Malformed::NoVectorTable,
        Malformed::ProtectedTlvArea,
        Malformed::TlvArea,
        Malformed::NoHash,
    ];

    /// The name in a compact refusal.
    pub fn name(self) -> &'static str {
        // In the order of the variants ([`crate::text::word`]).
        crate::text::word(
            "header\0no_vector_table\0protected_tlv_area\0tlv_area\0no_hash\0",
            self as usize,
        )
    }
}

impl CheckError {
    /// What was refused and the numbers that did not match, in this
    /// build's form ([`crate::diag::FORM`]).
    pub fn write_text(&self, w: &mut dyn Out) {
        self.write_form(w, crate::diag::FORM);
    }

    /// The refusal in either form: a sentence, or its name and numbers
    /// (`not_newer image=1.2.0+0 running=1.3.0+0`), which
    /// [`CheckError::parse_compact`] reads back.
    #[inline(always)]
    pub fn write_form(&self, w: &mut dyn Out, form: crate::diag::Form) {
        match form {
            crate::diag::Form::Words => self.write_words(w),
            crate::diag::Form::Compact => self.write_compact(w),
        }
    }

    /// The name of the refusal in a compact line.
    fn name(&self) -> &'static str {
        // Word n of one string ([`crate::text::word`]); n is the variant's
        // place in the declaration, which the compiler reads off the tag.
        let n = match self {
            CheckError::Port { .. } => 0,
            CheckError::Malformed(_) => 1,
            CheckError::StackPointer { .. } => 2,
            CheckError::ResetNotThumb { .. } => 3,
            CheckError::LinkedElsewhere { .. } => 4,
            CheckError::NotNewer { .. } => 5,
            CheckError::HashMismatch => 6,
            CheckError::Unsigned => 7,
            CheckError::WrongKey { .. } => 8,
            CheckError::BadSignature => 9,
            CheckError::BadKey => 10,
            CheckError::SignatureUnsupported => 11,
        };
        crate::text::word(
            "port_query\0malformed\0stack_pointer\0reset_not_thumb\0linked_elsewhere\0\
             not_newer\0hash_mismatch\0unsigned\0wrong_key\0bad_signature\0bad_key\0\
             signature_unsupported\0",
            n,
        )
    }

    /// The name, then each number as ` key=value` (addresses in hex,
    /// ranges as `start..end`).
    fn write_compact(&self, w: &mut dyn Out) {
        w.put(self.name());
        // The layout refusals are addresses only: one loop writes them
        // (a call per number instead of an inlined sequence each).
        let (keys, addrs): (&'static str, [u32; 7]) = match *self {
            CheckError::Port { query, errno } => {
                w.text(" query=")
                    .text(query.name())
                    .text(" errno=")
                    .text(errno.name());
                return;
            }
            CheckError::Malformed(m) => {
                w.text(" part=").text(m.name());
                return;
            }
            CheckError::NotNewer { image, running } => {
                w.put(" image=");
                put_version(w, &image);
                w.put(" running=");
                put_version(w, &running);
                return;
            }
            CheckError::WrongKey { image_key, key } => {
                w.put(" image_key=");
                match image_key {
                    Some(k) => {
                        w.hex(&k);
                    }
                    None => w.put("none"),
                }
                w.text(" key=").hex(&key);
                return;
            }
            CheckError::StackPointer {
                sp,
                ram_start,
                ram_end,
            } => (" sp=\0 ram=\0..\0", [sp, ram_start, ram_end, 0, 0, 0, 0]),
            CheckError::ResetNotThumb { reset } => (" reset=\0", [reset, 0, 0, 0, 0, 0, 0]),
            CheckError::LinkedElsewhere {
                reset,
                code_start,
                code_end,
                linked_for,
                needed,
                primary_addr,
                hdr_size,
            } => (
                LINKED_ELSEWHERE_KEYS,
                [
                    linked_for,
                    needed,
                    primary_addr,
                    hdr_size.into(),
                    reset,
                    code_start,
                    code_end,
                ],
            ),
            CheckError::HashMismatch
            | CheckError::Unsigned
            | CheckError::BadSignature
            | CheckError::BadKey
            | CheckError::SignatureUnsupported => return,
        };
        // The keys are NUL-terminated in one string ([`crate::text::word`]);
        // the numbers after the last key are not written.
        for (i, &addr) in addrs.iter().enumerate() {
            let key = crate::text::word(keys, i);
            if key.is_empty() {
                break;
            }
            w.text(key).addr(addr);
        }
    }

    /// The refusal a compact line names (what [`CheckError::write_form`]
    /// wrote with [`crate::diag::Form::Compact`]), for decoders.
    #[cfg(any(test, feature = "log-text"))]
    pub fn parse_compact(text: &str) -> Option<CheckError> {
        let mut words = text.split(' ');
        let name = words.next()?;
        let val = |key: &str| {
            text.split(' ')
                .skip(1)
                .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
        };
        let addr = |key: &str| parse_addr(val(key)?);
        let range = |key: &str| {
            let (a, b) = val(key)?.split_once("..")?;
            Some((parse_addr(a)?, parse_addr(b)?))
        };
        let key = |key: &str| {
            let v = val(key)?;
            if v.len() != 8 {
                return None;
            }
            u32::from_str_radix(v, 16).ok().map(u32::to_be_bytes)
        };
        let e = match name {
            "port_query" => CheckError::Port {
                query: Query::ALL
                    .into_iter()
                    .find(|q| Some(q.name()) == val("query"))?,
                errno: Errno::from_name(val("errno")?)?,
            },
            "malformed" => CheckError::Malformed(
                Malformed::ALL
                    .into_iter()
                    .find(|m| Some(m.name()) == val("part"))?,
            ),
            "stack_pointer" => {
                let (ram_start, ram_end) = range("ram")?;
                CheckError::StackPointer {
                    sp: addr("sp")?,
                    ram_start,
                    ram_end,
                }
            }
            "reset_not_thumb" => CheckError::ResetNotThumb {
                reset: addr("reset")?,
            },
            "linked_elsewhere" => {
                let (code_start, code_end) = range("code")?;
                CheckError::LinkedElsewhere {
                    reset: addr("reset")?,
                    code_start,
                    code_end,
                    linked_for: addr("linked_for")?,
                    needed: addr("needed")?,
                    primary_addr: addr("primary")?,
                    hdr_size: u16::try_from(addr("header")?).ok()?,
                }
            }
            "not_newer" => CheckError::NotNewer {
                image: parse_version(val("image")?)?,
                running: parse_version(val("running")?)?,
            },
            "hash_mismatch" => CheckError::HashMismatch,
            "unsigned" => CheckError::Unsigned,
            "wrong_key" => CheckError::WrongKey {
                image_key: match val("image_key")? {
                    "none" => None,
                    _ => Some(key("image_key")?),
                },
                key: key("key")?,
            },
            "bad_signature" => CheckError::BadSignature,
            "bad_key" => CheckError::BadKey,
            "signature_unsupported" => CheckError::SignatureUnsupported,
            _ => return None,
        };
        Some(e)
    }

    /// What was refused and the numbers that did not match, in one sentence.
    fn write_words(&self, w: &mut dyn Out) {
        let text = match *self {
            CheckError::Port { query, errno } => {
                w.put(match query {
                    Query::FlashRead => "reading the slot",
                    Query::DeviceLayout => "asking the port for the device layout",
                    Query::RunningVersion => "asking the port for the running version",
                });
                w.text(" failed: ").text(errno.name()).text(" (").text(errno.describe());
                ")"
            }
            CheckError::Malformed(m) => {
                w.put("malformed image in the slot: ");
                match m {
                    Malformed::Header => "the image header",
                    Malformed::NoVectorTable => "the payload is too short for a vector table",
                    Malformed::ProtectedTlvArea => "the protected TLV area",
                    Malformed::TlvArea => "the TLV area",
                    Malformed::NoHash => "no SHA256 TLV",
                }
            }
            CheckError::StackPointer {
                sp,
                ram_start,
                ram_end,
            } => {
                w.text("initial stack pointer ")
                    .addr(sp)
                    .text(" is outside RAM ")
                    .addr(ram_start)
                    .text("..")
                    .addr(ram_end);
                ": the image was built for another device or memory layout"
            }
            CheckError::ResetNotThumb { reset } => {
                w.text("reset handler ").addr(reset);
                " has no Thumb bit: no Cortex-M vector table after the header"
            }
            CheckError::LinkedElsewhere {
                reset,
                code_start,
                code_end,
                linked_for,
                needed,
                primary_addr,
                hdr_size,
            } => {
                w.text("image linked for ")
                    .addr(linked_for)
                    .text(" but this device needs ")
                    .addr(needed)
                    .text(" (primary slot ")
                    .addr(primary_addr)
                    .text(" + header ")
                    .addr(hdr_size.into())
                    .text("): reset handler ")
                    .addr(reset)
                    .text(" is outside the image's code here (")
                    .addr(code_start)
                    .text("..")
                    .addr(code_end);
                "); rebuild it with this device's partition layout (same NCS version / SPM or TF-M)"
            }
            CheckError::NotNewer { image, running } => {
                w.put("image version ");
                put_version(w, &image);
                w.put(" is not newer than the running ");
                put_version(w, &running);
                " (allow downgrades to install it)"
            }
            CheckError::HashMismatch => {
                "the slot read back does not match the image's SHA256 TLV (flash corrupted after writing)"
            }
            CheckError::Unsigned => {
                "image has no ECDSA-P256 signature TLV (0x22) but a verification key is configured: sign it with imgtool sign --key"
            }
            CheckError::WrongKey { image_key, key } => {
                w.put("image is signed with another key: ");
                match image_key {
                    Some(k) => {
                        w.text("its KEYHASH starts ").hex(&k);
                    }
                    None => w.put("no KEYHASH/PUBKEY TLV names a key before the signature"),
                }
                w.text(", the configured key's SHA-256 starts ").hex(&key);
                ""
            }
            CheckError::BadSignature => "ECDSA-P256 signature does not verify with the configured key",
            CheckError::BadKey => {
                "verification key is not a P-256 SubjectPublicKeyInfo DER (imgtool getpub)"
            }
            CheckError::SignatureUnsupported => {
                "a verification key is configured but this build has no signature support (cargo feature `signature`)"
            }
        };
        w.put(text);
    }
}

/// The numbers of a compact [`CheckError::LinkedElsewhere`], in order.
const LINKED_ELSEWHERE_KEYS: &str =
    " linked_for=\0 needed=\0 primary=\0 header=\0 reset=\0 code=\0..\0";

/// "0x0001a000" as written by `Out::addr`.
#[cfg(any(test, feature = "log-text"))]
fn parse_addr(s: &str) -> Option<u32> {
    u32::from_str_radix(s.strip_prefix("0x")?, 16).ok()
}

/// "1.2.3+4" as written by [`put_version`].
#[cfg(any(test, feature = "log-text"))]
fn parse_version(s: &str) -> Option<Version> {
    let (mmr, build) = s.split_once('+')?;
    let mut parts = mmr.split('.');
    let v = Version {
        major: parts.next()?.parse().ok()?,
        minor: parts.next()?.parse().ok()?,
        revision: parts.next()?.parse().ok()?,
        build: build.parse().ok()?,
    };
    parts.next().is_none().then_some(v)
}

fn read<P: Port>(port: &mut P, off: u32, buf: &mut [u8]) -> Result<(), CheckError> {
    port.flash_read(off, buf).map_err(|errno| CheckError::Port {
        query: Query::FlashRead,
        errno,
    })
}

fn le32(b: &[u8], at: usize) -> u32 {
    b.get(at..)
        .and_then(|b| b.get(..4))
        .and_then(|w| <[u8; 4]>::try_from(w).ok())
        .map_or(0, u32::from_le_bytes)
}

/// Run every configured check on the image at the start of the slot.
/// `scratch` (any length > 0; a few hundred bytes or more is faster) is used
/// to hash the image when a key is configured.
// One caller (the engine): inlined there, the Result needs no trip
// through memory.
#[inline(always)]
pub fn check_image<P: Port>(
    port: &mut P,
    cfg: &Checks,
    scratch: &mut [u8],
) -> Result<Passed, CheckError> {
    let mut first = [0u8; HEADER_LEN];
    read(port, 0, &mut first)?;
    let h = ImageHeader::parse(&first).map_err(|_| CheckError::Malformed(Malformed::Header))?;
    let layout = if !cfg.layout {
        Outcome::Disabled
    } else {
        match port.device_layout() {
            Ok(l) => {
                check_layout(port, &h, &l)?;
                Outcome::Passed
            }
            Err(Errno::NotSup) => {
                crate::logging::warn!(LAYOUT_CHECK_SKIPPED);
                Outcome::Skipped
            }
            Err(errno) => {
                return Err(CheckError::Port {
                    query: Query::DeviceLayout,
                    errno,
                })
            }
        }
    };
    let version = if cfg.allow_downgrade {
        Outcome::Disabled
    } else {
        match port.running_version() {
            Ok(running) => {
                check_version(h.version, running)?;
                Outcome::Passed
            }
            Err(Errno::NotSup) => {
                crate::logging::warn!(VERSION_CHECK_SKIPPED);
                Outcome::Skipped
            }
            Err(errno) => {
                return Err(CheckError::Port {
                    query: Query::RunningVersion,
                    errno,
                })
            }
        }
    };
    let signature = match &cfg.verify_key {
        // Without the `signature` feature nothing of the TLV walk is linked
        // (1.4 KB on Cortex-M33); the C API refuses a key at init already.
        Some(_) if !cfg!(feature = "signature") => return Err(CheckError::SignatureUnsupported),
        Some(key) => {
            check_signature(port, &h, key, scratch)?;
            Outcome::Passed
        }
        None => {
            crate::logging::info!(NO_VERIFY_KEY);
            Outcome::Disabled
        }
    };
    Ok(Passed {
        layout,
        version,
        signature,
    })
}

/// Refuse an image that is not newer than `running`.
pub fn check_version(image: Version, running: Version) -> Result<(), CheckError> {
    // Version orders by major, minor, revision, build (field order).
    if image > running {
        Ok(())
    } else {
        Err(CheckError::NotNewer { image, running })
    }
}

/// The vector table at `hdr_size` against this device's RAM and primary slot.
// One caller (`check_image`): inlined, its Result<(), CheckError> needs no
// trip through memory.
#[inline(always)]
pub fn check_layout<P: Port>(
    port: &mut P,
    h: &ImageHeader,
    l: &DeviceLayout,
) -> Result<(), CheckError> {
    if h.img_size < 8 {
        return Err(CheckError::Malformed(Malformed::NoVectorTable));
    }
    // Sixteen words: SP, reset and the system exception handlers, the
    // latter only to estimate where the image was linked.
    let mut vt = [0u8; 64];
    let words = (h.img_size.min(64) / 4) as usize;
    let vt = vt.get_mut(..words * 4).unwrap_or(&mut []);
    read(port, u32::from(h.hdr_size), vt)?;
    let sp = le32(vt, 0);
    let reset = le32(vt, 4);

    let ram_start = l.ram_addr;
    let ram_end = l.ram_addr.saturating_add(l.ram_size);
    // A full descending stack starts at the top: SP may equal the end.
    if sp < ram_start || sp > ram_end {
        return Err(CheckError::StackPointer {
            sp,
            ram_start,
            ram_end,
        });
    }
    if reset & 1 == 0 {
        return Err(CheckError::ResetNotThumb { reset });
    }
    let needed = l.primary_addr.saturating_add(u32::from(h.hdr_size));
    // The reset handler is code of this image, so it must fall inside the
    // payload as placed here, which is tighter than "inside the slot": an
    // image linked a few KiB off still points into the slot, not into itself.
    let slot_end = l.primary_addr.saturating_add(l.primary_size);
    let code_start = needed;
    let code_end = needed.saturating_add(h.img_size).min(slot_end);
    let entry = reset & !1;
    if entry < code_start || entry >= code_end {
        return Err(CheckError::LinkedElsewhere {
            reset,
            code_start,
            code_end,
            linked_for: guess_link_address(vt, h),
            needed,
            primary_addr: l.primary_addr,
            hdr_size: h.hdr_size,
        });
    }
    Ok(())
}

/// Where the vector table was linked to: every handler lies in
/// `[V, V + img_size)`, and slots start on a page, so V is taken as the
/// highest `page boundary + hdr_size` not above the lowest handler.
// One caller (`check_layout`): inlined, measured smaller than the call.
#[inline(always)]
fn guess_link_address(vt: &[u8], h: &ImageHeader) -> u32 {
    let reset = le32(vt, 4) & !1;
    let hdr = u32::from(h.hdr_size);
    let mut lowest = reset;
    let mut highest = reset;
    for i in 2..vt.len() / 4 {
        let w = le32(vt, i * 4);
        // Reserved entries are 0; anything not Thumb or far from the reset
        // handler is not a handler of this image.
        if w & 1 == 1 && w.abs_diff(reset) < h.img_size {
            lowest = lowest.min(w & !1);
            highest = highest.max(w & !1);
        }
    }
    let floor = highest.saturating_sub(h.img_size.saturating_sub(1));
    let guess = (lowest.saturating_sub(hdr) / LINK_GUESS_ALIGN) * LINK_GUESS_ALIGN + hdr;
    if guess <= lowest && guess >= floor {
        guess
    } else {
        floor
    }
}

/// Iterate the TLVs of the protected area, then of the unprotected one,
/// as MCUboot's `bootutil_tlv_iter` does.
fn for_each_tlv<P: Port>(
    port: &mut P,
    h: &ImageHeader,
    mut f: impl FnMut(&mut P, u16, u32, u16) -> Result<(), CheckError>,
) -> Result<(), CheckError> {
    let hashed = h
        .hashed_len()
        .ok_or(CheckError::Malformed(Malformed::Header))?;
    let mut info = [0u8; 4];
    let mut areas = [(0u32, 0u32); 2];
    if h.protect_tlv_size != 0 {
        let start = hashed - u32::from(h.protect_tlv_size);
        read(port, start, &mut info)?;
        if u16::from_le_bytes([info[0], info[1]]) != TLV_PROT_INFO_MAGIC
            || u16::from_le_bytes([info[2], info[3]]) != h.protect_tlv_size
        {
            return Err(CheckError::Malformed(Malformed::ProtectedTlvArea));
        }
        areas[0] = (start + 4, hashed);
    }
    read(port, hashed, &mut info)?;
    let total = u16::from_le_bytes([info[2], info[3]]);
    if u16::from_le_bytes([info[0], info[1]]) != TLV_INFO_MAGIC || total < 4 {
        return Err(CheckError::Malformed(Malformed::TlvArea));
    }
    let end = hashed
        .checked_add(u32::from(total))
        .ok_or(CheckError::Malformed(Malformed::TlvArea))?;
    areas[1] = (hashed + 4, end);
    for (i, (mut off, end)) in areas.into_iter().enumerate() {
        let bad = CheckError::Malformed(if i == 0 {
            Malformed::ProtectedTlvArea
        } else {
            Malformed::TlvArea
        });
        while off < end {
            if end - off < 4 {
                return Err(bad);
            }
            read(port, off, &mut info)?;
            let ty = u16::from_le_bytes([info[0], info[1]]);
            let len = u16::from_le_bytes([info[2], info[3]]);
            let value = off + 4;
            let next = value.checked_add(u32::from(len)).ok_or(bad)?;
            if next > end {
                return Err(bad);
            }
            f(port, ty, value, len)?;
            off = next;
        }
    }
    Ok(())
}

/// SHA-256 over header + payload + protected TLVs, read back from flash.
fn hash_slot<P: Port>(
    port: &mut P,
    h: &ImageHeader,
    scratch: &mut [u8],
) -> Result<[u8; 32], CheckError> {
    if scratch.is_empty() {
        return Err(CheckError::Port {
            query: Query::FlashRead,
            errno: Errno::NoMem,
        });
    }
    let end = h
        .hashed_len()
        .ok_or(CheckError::Malformed(Malformed::Header))?;
    let mut hasher = Sha256::new();
    let mut off = 0u32;
    while off < end {
        let n = (end - off).min(scratch.len() as u32) as usize;
        let chunk = scratch.get_mut(..n).unwrap_or(&mut []);
        read(port, off, chunk)?;
        hasher.update(&*chunk);
        off += n as u32;
    }
    Ok(hasher.finalize())
}

/// Verify the image's ECDSA-P256 signature with `key`, MCUboot's way.
pub fn check_signature<P: Port>(
    port: &mut P,
    h: &ImageHeader,
    key: &VerifyKey,
    scratch: &mut [u8],
) -> Result<(), CheckError> {
    let digest = hash_slot(port, h, scratch)?;
    let key_hash = key.key_hash();
    let mut tlv_hash: Option<[u8; 32]> = None;
    // Whether the last KEYHASH/PUBKEY TLV named our key; reset after every
    // signature, as MCUboot resets key_id.
    let mut ours: Option<bool> = None;
    let mut first_other: Option<[u8; 4]> = None;
    let mut signatures = 0u32;
    // MCUboot keeps the result of the last signature it could check.
    let mut verdict: Option<bool> = None;
    let mut buf = [0u8; MAX_SIG_LEN];
    for_each_tlv(port, h, |port, ty, off, len| {
        let len_us = usize::from(len);
        match ty {
            TLV_SHA256 => {
                let mut v = [0u8; 32];
                if len_us != v.len() || tlv_hash.is_some() {
                    return Err(CheckError::Malformed(Malformed::NoHash));
                }
                read(port, off, &mut v)?;
                if v != digest {
                    return Err(CheckError::HashMismatch);
                }
                tlv_hash = Some(v);
            }
            TLV_KEYHASH => {
                let mut v = [0u8; 32];
                let matches = len_us == v.len() && {
                    read(port, off, &mut v)?;
                    v == key_hash
                };
                if !matches && first_other.is_none() {
                    let mut p = [0u8; 4];
                    crate::bytes::copy(&mut p, &v);
                    first_other = Some(p);
                }
                ours = Some(matches);
            }
            TLV_PUBKEY => {
                let mut v = [0u8; SPKI_LEN];
                let matches = len_us == SPKI_LEN && {
                    read(port, off, &mut v)?;
                    v == *key.spki_der()
                };
                if !matches && first_other.is_none() {
                    let mut p = [0u8; 4];
                    crate::bytes::copy(&mut p, &sha256::digest(&v));
                    first_other = Some(p);
                }
                ours = Some(matches);
            }
            TLV_ECDSA_SIG => {
                signatures += 1;
                if ours.take() == Some(true) {
                    let sig = buf.get_mut(..len_us).ok_or(CheckError::BadSignature)?;
                    read(port, off, sig)?;
                    verdict = Some(verify(key, &digest, sig)?);
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    if tlv_hash.is_none() {
        return Err(CheckError::Malformed(Malformed::NoHash));
    }
    let mut key_prefix = [0u8; 4];
    crate::bytes::copy(&mut key_prefix, &key_hash);
    match verdict {
        Some(true) => {
            crate::logging::info!(SIGNATURE_VERIFIED, key = &crate::text::Hex(&key_prefix));
            Ok(())
        }
        Some(false) => Err(CheckError::BadSignature),
        None if signatures == 0 => Err(CheckError::Unsigned),
        None => Err(CheckError::WrongKey {
            image_key: first_other,
            key: key_prefix,
        }),
    }
}

/// r and s from a DER `SEQUENCE { INTEGER r, INTEGER s }`, each as 32
/// big-endian bytes. Trailing zero bytes after the sequence are imgtool's
/// `--pad-sig` (MCUboot < 1.5 wanted 72 bytes) and are accepted.
pub fn parse_der_signature(der: &[u8]) -> Option<([u8; 32], [u8; 32])> {
    let (&tag, rest) = der.split_first()?;
    let (&len, rest) = rest.split_first()?;
    // A P-256 signature body is at most 70 bytes: short-form length.
    if tag != 0x30 || len >= 0x80 {
        return None;
    }
    let body = rest.get(..usize::from(len))?;
    let pad = rest.get(usize::from(len)..)?;
    if pad.iter().any(|&b| b != 0) {
        return None;
    }
    let (r, body) = der_uint(body)?;
    let (s, body) = der_uint(body)?;
    if !body.is_empty() {
        return None;
    }
    Some((r, s))
}

/// One non-negative DER INTEGER of at most 32 significant bytes.
fn der_uint(b: &[u8]) -> Option<([u8; 32], &[u8])> {
    let (&tag, rest) = b.split_first()?;
    let (&len, rest) = rest.split_first()?;
    let len = usize::from(len);
    if tag != 0x02 || len == 0 || len > 33 {
        return None;
    }
    let mut v = rest.get(..len)?;
    let rest = rest.get(len..)?;
    let first = *v.first()?;
    if first & 0x80 != 0 {
        return None; // negative
    }
    if first == 0 && len > 1 {
        // Minimal encoding: a leading zero only to clear the sign bit.
        if v.get(1).is_some_and(|&b| b & 0x80 == 0) {
            return None;
        }
        v = v.get(1..)?;
    }
    if v.len() > 32 {
        return None;
    }
    let mut out = [0u8; 32];
    crate::bytes::copy(out.get_mut(32 - v.len()..)?, v);
    Some((out, rest))
}

#[cfg(feature = "signature")]
mod sig {
    use super::{CheckError, VerifyKey};
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    use p256::ecdsa::{Signature, VerifyingKey};

    pub fn verifying_key(key: &VerifyKey) -> Result<VerifyingKey, CheckError> {
        VerifyingKey::from_sec1_bytes(key.sec1()).map_err(|_| CheckError::BadKey)
    }

    /// Ok(false) when the signature does not verify; Err for a malformed one.
    pub fn verify(key: &VerifyKey, digest: &[u8; 32], der: &[u8]) -> Result<bool, CheckError> {
        let vk = verifying_key(key)?;
        let (r, s) = super::parse_der_signature(der).ok_or(CheckError::BadSignature)?;
        let sig = Signature::from_scalars(r, s).map_err(|_| CheckError::BadSignature)?;
        Ok(vk.verify_prehash(digest, &sig).is_ok())
    }
}

#[cfg(feature = "signature")]
fn verify(key: &VerifyKey, digest: &[u8; 32], der: &[u8]) -> Result<bool, CheckError> {
    sig::verify(key, digest, der)
}

#[cfg(not(feature = "signature"))]
fn verify(_key: &VerifyKey, _digest: &[u8; 32], _der: &[u8]) -> Result<bool, CheckError> {
    Err(CheckError::SignatureUnsupported)
}

#[cfg(test)]
// Without `signature` the vectors only the signature tests use stay unused.
#[cfg_attr(not(feature = "signature"), allow(dead_code))]
mod tests {
    use super::*;

    fn err_text(e: &CheckError) -> std::string::String {
        let mut t = std::string::String::new();
        e.write_form(&mut t, crate::diag::Form::Words);
        t
    }
    use crate::port::FlashGeometry;
    use std::vec::Vec;

    const GOOD: &[u8] = include_bytes!("../tests/data/app-1.2.3.bin");
    const PUBKEY_TLV: &[u8] = include_bytes!("../tests/data/app-1.2.3-pubkey.bin");
    const PADSIG: &[u8] = include_bytes!("../tests/data/app-1.2.3-padsig.bin");
    const UNSIGNED: &[u8] = include_bytes!("../tests/data/app-1.2.3-unsigned.bin");
    const LINKED_0X20200: &[u8] = include_bytes!("../tests/data/app-linked-0x20200.bin");
    const KEY: &[u8] = include_bytes!("../tests/data/test-key.pub.der");
    const OTHER_KEY: &[u8] = include_bytes!("../tests/data/other-key.pub.der");
    const SLOT: usize = 0x4000;

    /// nRF9160 as in the host port's defaults.
    const NRF9160: DeviceLayout = DeviceLayout {
        primary_addr: 0xc000,
        primary_size: 0x70000,
        ram_addr: 0x2000_0000,
        ram_size: 0x40000,
    };

    struct Slot {
        flash: Vec<u8>,
        layout: Result<DeviceLayout, Errno>,
        running: Result<Version, Errno>,
    }

    impl Slot {
        fn new(image: &[u8]) -> Slot {
            let mut flash = std::vec![0xffu8; SLOT];
            flash[..image.len()].copy_from_slice(image);
            Slot {
                flash,
                layout: Ok(NRF9160),
                running: Ok(ver(1, 2, 2, 0)),
            }
        }
    }

    fn ver(major: u8, minor: u8, revision: u16, build: u32) -> Version {
        Version {
            major,
            minor,
            revision,
            build,
        }
    }

    impl Port for Slot {
        crate::port::no_network!();
        fn flash_geometry(&mut self) -> Result<FlashGeometry, Errno> {
            Ok(FlashGeometry {
                slot_size: SLOT as u32,
                page_size: 4096,
                write_block: 4,
                erased_value: 0xff,
            })
        }
        fn flash_erase(&mut self, _: u32, _: u32) -> Result<(), Errno> {
            unreachable!("checks never erase")
        }
        fn flash_write(&mut self, _: u32, _: &[u8]) -> Result<(), Errno> {
            unreachable!("checks never write")
        }
        fn flash_read(&mut self, off: u32, buf: &mut [u8]) -> Result<(), Errno> {
            let off = off as usize;
            let src = self.flash.get(off..off + buf.len()).ok_or(Errno::Inval)?;
            buf.copy_from_slice(src);
            Ok(())
        }
        fn request_upgrade(&mut self, _: bool) -> Result<(), Errno> {
            unreachable!("checks never request the upgrade")
        }
        fn kv_load(&mut self, _: &str, _: &mut [u8]) -> Result<usize, Errno> {
            Err(Errno::NoEnt)
        }
        fn kv_save(&mut self, _: &str, _: &[u8]) -> Result<(), Errno> {
            Ok(())
        }
        fn kv_delete(&mut self, _: &str) -> Result<(), Errno> {
            Ok(())
        }
        fn uptime_ms(&mut self) -> u64 {
            0
        }
        fn sleep_ms(&mut self, _: u32) {}
        fn running_version(&mut self) -> Result<Version, Errno> {
            self.running
        }
        fn device_layout(&mut self) -> Result<DeviceLayout, Errno> {
            self.layout
        }
    }

    /// Layout and version checks on, whatever the build's defaults are.
    const BOTH: Checks = Checks {
        layout: true,
        allow_downgrade: false,
        verify_key: None,
    };

    fn key() -> VerifyKey {
        VerifyKey::from_spki_der(KEY).unwrap()
    }

    fn signed() -> Checks {
        Checks {
            verify_key: Some(key()),
            ..BOTH
        }
    }

    /// Every check, the signature too where this build has it.
    fn all() -> Checks {
        if cfg!(feature = "signature") {
            signed()
        } else {
            BOTH
        }
    }

    #[test]
    #[cfg(not(feature = "signature"))]
    fn configured_key_without_signature_support_refuses() {
        assert_eq!(
            run(&mut Slot::new(GOOD), &signed()),
            Err(CheckError::SignatureUnsupported)
        );
    }

    fn run(slot: &mut Slot, cfg: &Checks) -> Result<Passed, CheckError> {
        let mut scratch = [0u8; 256];
        check_image(slot, cfg, &mut scratch)
    }

    /// Offset and length of the first TLV of `ty` in an image file.
    fn tlv(image: &[u8], ty: u16) -> (usize, usize) {
        let h = ImageHeader::parse(image).unwrap();
        let mut off = h.hashed_len().unwrap() as usize + 4;
        loop {
            let t = u16::from_le_bytes([image[off], image[off + 1]]);
            let l = u16::from_le_bytes([image[off + 2], image[off + 3]]) as usize;
            if t == ty {
                return (off + 4, l);
            }
            off += 4 + l;
        }
    }

    #[test]
    #[cfg(feature = "signature")]
    fn good_image_passes_every_check() {
        let mut s = Slot::new(GOOD);
        assert_eq!(
            run(&mut s, &signed()),
            Ok(Passed {
                layout: Outcome::Passed,
                version: Outcome::Passed,
                signature: Outcome::Passed,
            })
        );
    }

    #[test]
    #[cfg(feature = "signature")]
    fn other_imgtool_forms_pass() {
        // Full public key TLV instead of its hash, and a zero-padded signature.
        for image in [PUBKEY_TLV, PADSIG] {
            assert_eq!(
                run(&mut Slot::new(image), &signed()).map(|p| p.signature),
                Ok(Outcome::Passed)
            );
        }
    }

    #[test]
    #[cfg(feature = "signature")]
    fn flipped_signature_byte_fails() {
        let (off, len) = tlv(GOOD, TLV_ECDSA_SIG);
        // Last byte of s: still well-formed DER, no longer a valid signature.
        let mut s = Slot::new(GOOD);
        s.flash[off + len - 1] ^= 0x01;
        assert_eq!(run(&mut s, &signed()), Err(CheckError::BadSignature));
        // A broken DER header is refused the same way.
        let mut s = Slot::new(GOOD);
        s.flash[off] = 0x31;
        assert_eq!(run(&mut s, &signed()), Err(CheckError::BadSignature));
    }

    #[test]
    #[cfg(feature = "signature")]
    fn high_s_signature_is_accepted_like_mcuboot() {
        // (r, n - s) verifies as well; MCUboot (mbedTLS/tinycrypt) accepts
        // it, so must we, or an OpenSSL-signed image could be refused.
        let (off, len) = tlv(GOOD, TLV_ECDSA_SIG);
        let (r, s) = parse_der_signature(&GOOD[off..off + len]).unwrap();
        let n: [u8; 32] = [
            0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2,
            0xfc, 0x63, 0x25, 0x51,
        ];
        let mut s2 = [0u8; 32];
        let mut borrow = 0i16;
        for i in (0..32).rev() {
            let d = n[i] as i16 - s[i] as i16 - borrow;
            borrow = (d < 0) as i16;
            s2[i] = d.rem_euclid(256) as u8;
        }
        let h = ImageHeader::parse(GOOD).unwrap();
        let mut slot = Slot::new(GOOD);
        let digest = hash_slot(&mut slot, &h, &mut [0u8; 64]).unwrap();
        let der = |r: &[u8; 32], s: &[u8; 32]| {
            let int = |v: &[u8; 32]| {
                let mut out = std::vec![0x02u8];
                let skip = v.iter().take_while(|&&b| b == 0).count();
                let pad = v[skip] & 0x80 != 0;
                out.push((32 - skip + pad as usize) as u8);
                if pad {
                    out.push(0);
                }
                out.extend_from_slice(&v[skip..]);
                out
            };
            let body = [int(r), int(s)].concat();
            [std::vec![0x30, body.len() as u8], body].concat()
        };
        assert_eq!(verify(&key(), &digest, &der(&r, &s)), Ok(true));
        assert_eq!(verify(&key(), &digest, &der(&r, &s2)), Ok(true));
    }

    #[test]
    #[cfg(feature = "signature")]
    fn wrong_key_fails() {
        let cfg = Checks {
            verify_key: Some(VerifyKey::from_spki_der(OTHER_KEY).unwrap()),
            ..BOTH
        };
        let other_hash = VerifyKey::from_spki_der(OTHER_KEY).unwrap().key_hash();
        let (off, _) = tlv(GOOD, TLV_KEYHASH);
        let err = run(&mut Slot::new(GOOD), &cfg).unwrap_err();
        assert_eq!(
            err,
            CheckError::WrongKey {
                image_key: Some(GOOD[off..off + 4].try_into().unwrap()),
                key: other_hash[..4].try_into().unwrap(),
            }
        );
        assert_eq!(&GOOD[off..off + 32], &key().key_hash()[..], "KEYHASH TLV");
        let text = err_text(&err);
        assert!(text.contains("signed with another key"), "{text}");
    }

    #[test]
    #[cfg(feature = "signature")]
    fn keyhash_must_name_the_key_before_the_signature() {
        // MCUboot ignores a signature no KEYHASH names: so do we, even when
        // the signature itself would verify.
        let (off, _) = tlv(GOOD, TLV_KEYHASH);
        let mut s = Slot::new(GOOD);
        s.flash[off] ^= 0xff;
        assert!(matches!(
            run(&mut s, &signed()),
            Err(CheckError::WrongKey {
                image_key: Some(_),
                ..
            })
        ));
    }

    #[test]
    #[cfg(feature = "signature")]
    fn unsigned_image_refused_when_a_key_is_configured() {
        assert_eq!(
            run(&mut Slot::new(UNSIGNED), &signed()),
            Err(CheckError::Unsigned)
        );
        // Without a key it is left to MCUboot.
        assert_eq!(
            run(&mut Slot::new(UNSIGNED), &BOTH).map(|p| p.signature),
            Ok(Outcome::Disabled)
        );
    }

    #[test]
    #[cfg(feature = "signature")]
    fn flipped_payload_byte_fails_the_readback_hash() {
        let mut s = Slot::new(GOOD);
        s.flash[0x200 + 700] ^= 0x40;
        assert_eq!(run(&mut s, &signed()), Err(CheckError::HashMismatch));
    }

    #[test]
    fn image_linked_for_another_address_is_refused_with_both_addresses() {
        let mut s = Slot::new(LINKED_0X20200);
        let err = run(&mut s, &signed()).unwrap_err();
        assert_eq!(
            err,
            CheckError::LinkedElsewhere {
                reset: 0x20501,
                code_start: 0xc200,
                code_end: 0xc600,
                linked_for: 0x20200,
                needed: 0xc200,
                primary_addr: 0xc000,
                hdr_size: 0x200,
            }
        );
        assert_eq!(err.check(), "layout");
        assert_eq!(err.errno(), Errno::NoExec);
        let text = err_text(&err);
        assert!(
            text.contains("linked for 0x00020200") && text.contains("needs 0x0000c200"),
            "{text}"
        );
        // 0x20501 lies inside the primary slot (0xc000..0x7c000): a slot-wide
        // bound would have let this image through.
        assert!((0xc000..0x7c000).contains(&0x20501));
    }

    #[test]
    fn same_image_passes_on_a_device_laid_out_for_it() {
        let mut s = Slot::new(LINKED_0X20200);
        s.layout = Ok(DeviceLayout {
            primary_addr: 0x20000,
            primary_size: 0x60000,
            ..NRF9160
        });
        assert_eq!(run(&mut s, &all()).map(|p| p.layout), Ok(Outcome::Passed));
    }

    #[test]
    fn stack_pointer_and_thumb_bit() {
        let mut s = Slot::new(GOOD);
        s.layout = Ok(DeviceLayout {
            ram_addr: 0x2000_0000,
            ram_size: 0x8000,
            ..NRF9160
        });
        assert_eq!(
            run(&mut s, &BOTH),
            Err(CheckError::StackPointer {
                sp: 0x2001_0000,
                ram_start: 0x2000_0000,
                ram_end: 0x2000_8000
            })
        );
        // SP at the very end of RAM is a valid full-descending stack top.
        s.layout = Ok(DeviceLayout {
            ram_size: 0x10000,
            ..NRF9160
        });
        assert!(run(&mut s, &BOTH).is_ok());
        let mut s = Slot::new(GOOD);
        s.flash[0x204] &= !1;
        assert_eq!(
            run(&mut s, &BOTH),
            Err(CheckError::ResetNotThumb { reset: 0xc500 })
        );
    }

    #[test]
    fn layout_check_skipped_without_device_layout_or_when_disabled() {
        let mut s = Slot::new(LINKED_0X20200);
        s.layout = Err(Errno::NotSup);
        assert_eq!(run(&mut s, &all()).map(|p| p.layout), Ok(Outcome::Skipped));
        let mut s = Slot::new(LINKED_0X20200);
        let cfg = Checks {
            layout: false,
            ..all()
        };
        assert_eq!(run(&mut s, &cfg).map(|p| p.layout), Ok(Outcome::Disabled));
        // Any other port failure refuses: the check could not be made.
        let mut s = Slot::new(GOOD);
        s.layout = Err(Errno::Io);
        assert_eq!(
            run(&mut s, &all()),
            Err(CheckError::Port {
                query: Query::DeviceLayout,
                errno: Errno::Io
            })
        );
    }

    #[test]
    fn version_policy() {
        let mut s = Slot::new(GOOD);
        for (running, ok) in [
            (ver(1, 2, 2, 0), true),
            (ver(0, 9, 99, 99), true),
            (ver(1, 2, 3, 0), false),
            (ver(1, 3, 0, 0), false),
            (ver(2, 0, 0, 0), false),
        ] {
            s.running = Ok(running);
            let r = run(&mut s, &all());
            if ok {
                assert!(r.is_ok(), "{running:?}: {r:?}");
            } else {
                assert_eq!(
                    r,
                    Err(CheckError::NotNewer {
                        image: ver(1, 2, 3, 0),
                        running
                    })
                );
            }
        }
        s.running = Ok(ver(1, 3, 0, 0));
        let text = err_text(&run(&mut s, &all()).unwrap_err());
        assert!(
            text.contains("1.2.3+0 is not newer than the running 1.3.0+0"),
            "{text}"
        );
        let allow = Checks {
            allow_downgrade: true,
            ..all()
        };
        assert_eq!(
            run(&mut s, &allow).map(|p| p.version),
            Ok(Outcome::Disabled)
        );
        s.running = Err(Errno::NotSup);
        assert_eq!(run(&mut s, &all()).map(|p| p.version), Ok(Outcome::Skipped));
        // The build number decides last.
        assert!(check_version(ver(1, 2, 3, 5), ver(1, 2, 3, 4)).is_ok());
        assert!(check_version(ver(1, 2, 3, 4), ver(1, 2, 3, 4)).is_err());
        assert!(check_version(ver(1, 2, 4, 0), ver(1, 2, 3, 9)).is_ok());
    }

    #[test]
    fn key_forms() {
        assert_eq!(key().spki_der(), KEY);
        // Exactly the bytes `imgtool getpub` prints as a C array.
        let c_array: Vec<u8> = include_str!("../tests/data/test-key.pub.c")
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter_map(|t| t.strip_prefix("0x"))
            .map(|h| u8::from_str_radix(h, 16).unwrap())
            .collect();
        assert_eq!(c_array, KEY);
        assert_eq!(VerifyKey::from_spki_der(&KEY[1..]), Err(CheckError::BadKey));
        let wrong_curve: &'static mut [u8; SPKI_LEN] =
            std::boxed::Box::leak(std::boxed::Box::new([0u8; SPKI_LEN]));
        wrong_curve.copy_from_slice(KEY);
        wrong_curve[22] ^= 1;
        assert_eq!(
            VerifyKey::from_spki_der(wrong_curve),
            Err(CheckError::BadKey)
        );
        // A point not on the curve (only the curve arithmetic can tell).
        #[cfg(feature = "signature")]
        {
            let off_curve: &'static mut [u8; SPKI_LEN] =
                std::boxed::Box::leak(std::boxed::Box::new([0u8; SPKI_LEN]));
            off_curve.copy_from_slice(KEY);
            off_curve[90] ^= 1;
            assert_eq!(VerifyKey::from_spki_der(off_curve), Err(CheckError::BadKey));
        }
    }

    #[test]
    fn der_parser_edges() {
        let mut sig = std::vec![0x30, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x07];
        let (r, s) = parse_der_signature(&sig).unwrap();
        assert_eq!((r[31], s[31]), (5, 7));
        sig.extend_from_slice(&[0, 0]);
        assert!(parse_der_signature(&sig).is_some(), "zero padding");
        sig.push(1);
        assert!(parse_der_signature(&sig).is_none(), "trailing garbage");
        // Negative, non-minimal, overlong and truncated integers.
        for bad in [
            &[0x30, 0x06, 0x02, 0x01, 0x85, 0x02, 0x01, 0x07][..],
            &[0x30, 0x07, 0x02, 0x02, 0x00, 0x05, 0x02, 0x01, 0x07],
            &[0x30, 0x05, 0x02, 0x01, 0x05, 0x02, 0x01],
            &[0x30, 0x06, 0x02, 0x01, 0x05, 0x02, 0x02, 0x07],
            &[],
        ] {
            assert!(parse_der_signature(bad).is_none(), "{bad:x?}");
        }
        let mut long = std::vec![0x30, 0x26, 0x02, 0x21, 0x01];
        long.extend_from_slice(&[0x11; 32]);
        long.extend_from_slice(&[0x02, 0x01, 0x07]);
        assert!(parse_der_signature(&long).is_none(), "33 significant bytes");
    }

    /// The names a compact refusal carries (docs/ncs-integration.md lists
    /// them) come from one string each, by position.
    #[test]
    fn query_and_part_names_are_the_documented_ones() {
        let queries: std::vec::Vec<_> = Query::ALL.iter().map(|q| q.name()).collect();
        assert_eq!(queries, ["flash_read", "device_layout", "running_version"]);
        let parts: std::vec::Vec<_> = Malformed::ALL.iter().map(|m| m.name()).collect();
        assert_eq!(
            parts,
            [
                "header",
                "no_vector_table",
                "protected_tlv_area",
                "tlv_area",
                "no_hash"
            ]
        );
    }

    /// Each refusal's compact name, by position in one string, is the one
    /// docs/ncs-integration.md documents and `parse_compact` reads.
    #[test]
    fn refusal_names_are_the_documented_ones() {
        let v = Version {
            major: 1,
            minor: 0,
            revision: 0,
            build: 0,
        };
        let refusals = [
            (
                CheckError::Port {
                    query: Query::FlashRead,
                    errno: Errno::Io,
                },
                "port_query",
            ),
            (CheckError::Malformed(Malformed::NoHash), "malformed"),
            (
                CheckError::StackPointer {
                    sp: 0,
                    ram_start: 0,
                    ram_end: 0,
                },
                "stack_pointer",
            ),
            (CheckError::ResetNotThumb { reset: 0 }, "reset_not_thumb"),
            (
                CheckError::LinkedElsewhere {
                    reset: 0,
                    code_start: 0,
                    code_end: 0,
                    linked_for: 0,
                    needed: 0,
                    primary_addr: 0,
                    hdr_size: 0,
                },
                "linked_elsewhere",
            ),
            (
                CheckError::NotNewer {
                    image: v,
                    running: v,
                },
                "not_newer",
            ),
            (CheckError::HashMismatch, "hash_mismatch"),
            (CheckError::Unsigned, "unsigned"),
            (
                CheckError::WrongKey {
                    image_key: None,
                    key: [0; 4],
                },
                "wrong_key",
            ),
            (CheckError::BadSignature, "bad_signature"),
            (CheckError::BadKey, "bad_key"),
            (CheckError::SignatureUnsupported, "signature_unsupported"),
        ];
        let doc = include_str!("../docs/ncs-integration.md");
        for (e, name) in refusals {
            assert_eq!(e.name(), name);
            assert!(doc.contains(&std::format!("`{name}`")), "{name}");
            let mut compact = std::string::String::new();
            e.write_form(&mut compact, crate::diag::Form::Compact);
            assert_eq!(CheckError::parse_compact(&compact), Some(e), "{compact}");
        }
    }

    #[test]
    fn flash_read_failure_is_reported() {
        let mut s = Slot::new(GOOD);
        s.flash.truncate(0x100);
        assert_eq!(
            run(&mut s, &signed()),
            Err(CheckError::Port {
                query: Query::FlashRead,
                errno: Errno::Inval
            })
        );
    }
}
