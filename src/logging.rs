// SPDX-License-Identifier: Apache-2.0
//! Log records: a literal message and numbers or strings as key-values,
//! handed to the `log` crate's logger.
//!
//! Why not `log::info!` and friends: each of their call sites expands to a
//! few hundred bytes of record building (about 20 KB of flash for this
//! crate on Cortex-M33), and formatted messages need `core::fmt`, which
//! links panic paths (issue 5). Here a call site stores its values and calls
//! one function; the logger (the port's, `src/ffi/mod.rs`) renders
//! "message key=value ..." without `core::fmt`.
//!
//! ```ignore
//! info!("Resuming", offset = saved.offset, total = total);
//! ```
//!
//! Records above the `log` crate's static level (cargo features `log-off`,
//! `log-max-*`, from Kconfig `FOTA_RS_LOG_LEVEL`) compile to nothing.

pub use log::Level;

/// Whether records at `level` reach the logger (static and run-time level).
#[inline]
pub fn enabled(level: Level) -> bool {
    level <= log::STATIC_MAX_LEVEL && level <= log::max_level()
}

/// Hands one record to the installed logger when its level is on at run
/// time. Not inlined, and the run-time level is read here rather than at
/// each call site, which only stores its values and calls (two string
/// values: about 70 bytes of Cortex-M33 code, 100 with the names stored per
/// value and the level read there). `message` comes from
/// `format_args!` on a literal, so `as_str()` gives it back without
/// formatting; `keys` are the values' names, each followed by a space.
#[inline(never)]
pub fn emit(
    level: Level,
    message: core::fmt::Arguments<'_>,
    keys: &'static str,
    values: &[Arg<'_>],
) {
    if level > log::max_level() {
        return;
    }
    log::logger().log(
        &log::Record::builder()
            .args(message)
            .level(level)
            .target("fota_rs")
            .key_values(&Values { keys, values })
            .build(),
    );
}

/// A value of a record. Smaller than `log::kv::Value` and built inline: a
/// call site stores a tag and a word (two for a string) per value; the
/// conversion to `Value` happens once, in [`emit`]'s `Source`.
#[derive(Clone, Copy)]
pub enum Arg<'a> {
    Num(u32),
    /// What a server sent can exceed 32 bits.
    Wide(u64),
    Int(i32),
    Str(&'a str),
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

impl<'a> From<&'a str> for Arg<'a> {
    fn from(s: &'a str) -> Self {
        Arg::Str(s)
    }
}

struct Values<'a> {
    /// Names, each followed by a space (`concat!` in `record!`).
    keys: &'static str,
    values: &'a [Arg<'a>],
}

impl log::kv::Source for Values<'_> {
    fn visit<'kvs>(
        &'kvs self,
        visitor: &mut dyn log::kv::VisitSource<'kvs>,
    ) -> Result<(), log::kv::Error> {
        let mut keys = self.keys;
        for &arg in self.values {
            let Some((key, rest)) = crate::url::split_once_byte(keys, b' ') else {
                break;
            };
            keys = rest;
            let value = match arg {
                Arg::Num(n) => log::kv::Value::from(n),
                Arg::Wide(n) => log::kv::Value::from(n),
                Arg::Int(n) => log::kv::Value::from(n),
                Arg::Str(s) => log::kv::Value::from(s),
            };
            visitor.visit_pair(log::kv::Key::from_str(key), value)?;
        }
        Ok(())
    }
}

macro_rules! record {
    ($level:ident, $message:literal $(, $key:ident = $value:expr)* $(,)?) => {
        // The static level is a constant: records above it compile to nothing.
        if $crate::logging::Level::$level <= log::STATIC_MAX_LEVEL {
            $crate::logging::emit(
                $crate::logging::Level::$level,
                format_args!($message),
                concat!($(stringify!($key), " "),*),
                &[$($crate::logging::Arg::from($value)),*],
            );
        }
    };
}

/// `error!("message", key = value, ...)`: see the module documentation.
macro_rules! error {
    ($($t:tt)*) => { $crate::logging::record!(Error, $($t)*) };
}
macro_rules! warning {
    ($($t:tt)*) => { $crate::logging::record!(Warn, $($t)*) };
}
macro_rules! info {
    ($($t:tt)*) => { $crate::logging::record!(Info, $($t)*) };
}

// `warn` itself would clash with the built-in attribute in this `use`.
pub(crate) use {error, info, record, warning as warn};
