// SPDX-License-Identifier: Apache-2.0
//! Log records: an entry of the table in `src/records.rs` and its values,
//! handed to the port's log function (`src/ffi/mod.rs`).
//!
//! ```ignore
//! info!(RESUMING, offset = saved.offset, total = total);
//! ```
//!
//! A device build hands its port `#41 12288 262144` (the entry's id and the
//! values); a `log-text` build hands it the words, "Resuming (hash rebuilt
//! from flash) offset=12288 total=262144", and `fota-rs-log` turns the
//! first into the second on a host. Neither needs `core::fmt` (issue 5).
//!
//! Why not the `log` crate: sending the same ids through its facade and
//! key-values measured 1071 bytes more Cortex-M33 flash (docs/performance.md,
//! "Log records as ids") for what is here a number and a few values, and
//! `log::info!` call sites cost a few hundred bytes each more. The static level keeps the `log`
//! crate's feature names (`log-off`, `log-max-error`, `log-max-warn`,
//! `log-max-info`, from Kconfig `FOTA_RS_LOG_LEVEL`): records above it
//! compile to nothing, and the compiler checks each call site's level and
//! value names against its entry.

use core::sync::atomic::{AtomicU8, Ordering};

/// A record's level, in the port's numbering (enum fota_rs_log_level).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
#[repr(u8)]
pub enum Level {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
}

/// The most verbose level compiled in (0: none): the first of the cargo
/// features `log-off`, `log-max-error`, `log-max-warn`, `log-max-info`
/// that is on, or every level when none is.
pub const STATIC_MAX: u8 = if cfg!(feature = "log-off") {
    0
} else if cfg!(feature = "log-max-error") {
    Level::Error as u8
} else if cfg!(feature = "log-max-warn") {
    Level::Warn as u8
} else if cfg!(feature = "log-max-info") {
    Level::Info as u8
} else {
    Level::Debug as u8
};

/// Whether records at `level` are compiled in (a constant).
// With `log-off` STATIC_MAX is 0 and this is false for every level, as
// meant.
#[allow(clippy::absurd_extreme_comparisons)]
pub const fn compiled(level: Level) -> bool {
    level as u8 <= STATIC_MAX
}

/// The run-time level: nothing until a logger is installed ([`start`],
/// from `PortLogger::install`).
static MAX: AtomicU8 = AtomicU8::new(0);

/// Records of every level compiled in reach the logger from now on.
pub fn start() {
    MAX.store(STATIC_MAX, Ordering::Relaxed);
}

/// Whether records at `level` reach the logger (static and run-time level).
#[inline]
pub fn enabled(level: Level) -> bool {
    compiled(level) && level as u8 <= MAX.load(Ordering::Relaxed)
}

/// Hands one record to the port's logger when its level is on at run
/// time. Not inlined, and the run-time level is read here rather than at
/// each call site, which only stores its values and calls. The record is
/// its level and id in one number ([`packed`]): one argument to load.
#[inline(never)]
pub fn emit(record: u32, values: &[Arg<'_>]) {
    let (level, id) = unpacked(record);
    if level as u8 > MAX.load(Ordering::Relaxed) {
        return;
    }
    crate::ffi::LOGGER.log(level, id, values);
}

/// A record's id and level as [`emit`] takes them, one number: below 256,
/// which a call site loads with one 16-bit instruction, for ids below 64.
pub const fn packed(level: Level, id: u16) -> u32 {
    (id as u32) << 2 | (level as u32 - 1)
}

/// The level and id of a [`packed`] record.
fn unpacked(record: u32) -> (Level, u16) {
    let level = match record & 3 {
        0 => Level::Error,
        1 => Level::Warn,
        2 => Level::Info,
        _ => Level::Debug,
    };
    (level, (record >> 2) as u16)
}

/// Whether a `log-text` build hands its port id lines, as a device build
/// does (fota-sim's `FOTA_RS_LOG_IDS`, to test the decoder against words).
#[cfg(any(feature = "log-text", test))]
static IDS_ONLY: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Id lines instead of words from now on (`log-text` builds).
#[cfg(any(feature = "log-text", test))]
pub fn set_ids_only(on: bool) {
    IDS_ONLY.store(on, Ordering::Relaxed);
}

/// Writes one record as the port gets it: words in a `log-text` build
/// (unless [`set_ids_only`]), else its id line.
pub fn write_record(out: &mut dyn crate::text::Out, id: u16, values: &[Arg<'_>]) {
    #[cfg(any(feature = "log-text", test))]
    if !IDS_ONLY.load(Ordering::Relaxed) {
        if let Some(record) = crate::records::by_id(id) {
            return crate::records::write_words(out, record, values);
        }
    }
    crate::records::write_ids(out, id, values);
}

/// A value of a record: a call site stores a tag and a word (two for a
/// string) per value.
#[derive(Clone, Copy)]
pub enum Arg<'a> {
    Num(u32),
    /// What a server sent can exceed 32 bits.
    Wide(u64),
    Int(i32),
    Str(&'a str),
    // The values below write themselves into the record's line: no text
    // buffer of their own on the call site's stack, and nothing written
    // when the record is off. Variants rather than a `dyn` writer: no
    // vtable and no forwarding function per kind, and a site stores no
    // vtable pointer.
    /// A URL, redacted ([`crate::url::Url::write_redacted`]).
    Url(&'a crate::url::Url),
    /// A tag list ([`crate::diag::put_tags`]).
    Tags(&'a [i32]),
    Version(&'a crate::version::Version),
    /// A refused check, in this build's form.
    Refusal(&'a crate::checks::CheckError),
    /// The failure line ([`crate::diag::Diag::write_text`]).
    Failure(&'a crate::diag::Diag, &'a crate::url::Url),
    /// Bytes in lowercase hex.
    Hex(&'a [u8]),
}

impl Arg<'_> {
    /// Writes the value: a number in decimal (beyond 32 bits in hex, see
    /// `text`), a string as it is, the others by their writers.
    // Inlined in its one caller in an id build (`records::write_ids`):
    // measured 50 bytes less than the call. A `log-text` build has a
    // second caller (`records::write_words`), which would get a copy.
    #[cfg_attr(not(feature = "log-text"), inline(always))]
    pub fn write(&self, out: &mut dyn crate::text::Out) {
        match *self {
            Arg::Num(n) => {
                out.dec(n);
            }
            Arg::Wide(n) => {
                out.dec(n);
            }
            Arg::Int(n) => {
                out.signed(n);
            }
            Arg::Str(s) => out.put(s),
            Arg::Url(u) => u.write_redacted(out),
            Arg::Tags(t) => crate::diag::put_tags(out, t),
            Arg::Version(v) => crate::checks::put_version(out, v),
            Arg::Refusal(c) => c.write_text(out),
            Arg::Failure(d, u) => d.write_text(out, u),
            // Only the signature record has them: no hex writer here
            // in builds without it.
            Arg::Hex(b) => {
                if cfg!(feature = "signature") {
                    out.hex(b);
                }
            }
        }
    }
}

impl From<u32> for Arg<'_> {
    fn from(n: u32) -> Self {
        Arg::Num(n)
    }
}

impl From<u64> for Arg<'_> {
    fn from(n: u64) -> Self {
        Arg::Wide(n)
    }
}

impl From<u16> for Arg<'_> {
    fn from(n: u16) -> Self {
        Arg::Num(n.into())
    }
}

impl From<u8> for Arg<'_> {
    fn from(n: u8) -> Self {
        Arg::Num(n.into())
    }
}

impl From<usize> for Arg<'_> {
    fn from(n: usize) -> Self {
        Arg::Num(u32::try_from(n).unwrap_or(u32::MAX))
    }
}

impl From<i32> for Arg<'_> {
    fn from(n: i32) -> Self {
        Arg::Int(n)
    }
}

impl<'a> From<&'a crate::url::Url> for Arg<'a> {
    fn from(u: &'a crate::url::Url) -> Self {
        Arg::Url(u)
    }
}

impl<'a, 'b: 'a> From<&'a crate::diag::Tags<'b>> for Arg<'a> {
    fn from(t: &'a crate::diag::Tags<'b>) -> Self {
        Arg::Tags(t.0)
    }
}

impl<'a> From<&'a crate::version::Version> for Arg<'a> {
    fn from(v: &'a crate::version::Version) -> Self {
        Arg::Version(v)
    }
}

impl<'a> From<&'a crate::checks::CheckError> for Arg<'a> {
    fn from(c: &'a crate::checks::CheckError) -> Self {
        Arg::Refusal(c)
    }
}

impl<'a, 'b: 'a> From<&'a crate::diag::Failure<'b>> for Arg<'a> {
    fn from(f: &'a crate::diag::Failure<'b>) -> Self {
        Arg::Failure(f.0, f.1)
    }
}

impl<'a, 'b: 'a> From<&'a crate::text::Hex<'b>> for Arg<'a> {
    fn from(h: &'a crate::text::Hex<'b>) -> Self {
        Arg::Hex(h.0)
    }
}

/// A fixed text by its code: a number in an id line, the text in words
/// ([`crate::records::write_words`]).
impl From<crate::records::Code> for Arg<'_> {
    fn from(c: crate::records::Code) -> Self {
        Arg::Num(c.0.into())
    }
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(s: &'a str) -> Self {
        Arg::Str(s)
    }
}

macro_rules! record {
    ($level:ident, $name:ident $(, $key:ident = $value:expr)* $(,)?) => {{
        // The entry's level and keys are this call's (checked while compiling).
        const _: () = $crate::records::check(
            &$crate::records::$name,
            $crate::logging::Level::$level,
            &[$(stringify!($key)),*],
        );
        // The static level is a constant: records above it compile to nothing.
        if $crate::logging::compiled($crate::logging::Level::$level) {
            const RECORD: u32 = $crate::logging::packed(
                $crate::logging::Level::$level,
                $crate::records::$name.id,
            );
            $crate::logging::emit(RECORD, &[$($crate::logging::Arg::from($value)),*]);
        }
    }};
}

/// `error!(ENTRY, key = value, ...)`: see the module documentation.
macro_rules! error {
    ($($t:tt)*) => { $crate::logging::record!(Error, $($t)*) };
}
macro_rules! warning {
    ($($t:tt)*) => { $crate::logging::record!(Warn, $($t)*) };
}
macro_rules! info {
    ($($t:tt)*) => { $crate::logging::record!(Info, $($t)*) };
}
macro_rules! debug {
    ($($t:tt)*) => { $crate::logging::record!(Debug, $($t)*) };
}

// `warn` itself would clash with the built-in attribute in this `use`.
pub(crate) use {debug, error, info, record, warning as warn};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packed_record_gives_back_its_level_and_id() {
        for level in [Level::Error, Level::Warn, Level::Info, Level::Debug] {
            for id in [1, 47, 63, 64, 1000, u16::MAX] {
                assert_eq!(unpacked(packed(level, id)), (level, id));
            }
        }
        assert!(packed(Level::Debug, 63) < 256);
    }
}
