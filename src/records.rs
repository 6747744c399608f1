// SPDX-License-Identifier: Apache-2.0
//! The log records, one entry each (id, level, message, key names): what a
//! device sends as `#id value ...` and the words a host prints for it.
//!
//! A device build (no cargo feature `log-text`) keeps only the ids: its
//! port gets `#17 12288 262144`, and none of the messages or key names
//! below is in its flash (docs/performance.md has what that saves). The
//! words come back on a host: `fota-rs-log` (sim/src/bin/fota-rs-log.rs)
//! reads a console log and replaces every record by [`write_words`]' text,
//! the same text a `log-text` build hands its port. Ids are never reused
//! or renumbered: a log taken from an older firmware decodes with a newer
//! table. A new record takes the next free id; a removed one leaves a gap.
//! A key whose value is one of a few fixed texts lists them with codes
//! (`why{1 NO_RESPONSE "..."}`): the device sends the code, the words
//! the text ([`Code`]).

use crate::logging::{Arg, Level};

/// One record of the table.
pub struct Record {
    pub id: u16,
    pub level: Level,
    pub message: &'static str,
    /// Names of the values, in the order the call site passes them.
    pub keys: &'static [&'static str],
}

/// A fixed text of a record's value ([`FIXED`]).
pub struct Fixed {
    pub id: u16,
    /// The key's place in the record's keys.
    pub key: u8,
    pub code: u8,
    pub text: &'static str,
}

/// A value that is one of its key's fixed texts (`why{...}` in the
/// table), by its code: the number in an id line, the text in words. The codes
/// are stable like the ids: never renumber one, add new ones at the end.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Code(pub u8);

macro_rules! records {
    ($($name:ident = $id:literal $level:ident $message:literal
        [$($key:ident $({$($code:literal $cname:ident $word:literal)*})?)*];)*) => {
        $(
            pub const $name: Record = Record {
                id: $id,
                level: Level::$level,
                message: $message,
                keys: &[$(stringify!($key)),*],
            };
            /// The codes of this record's fixed texts (empty when it has none).
            #[allow(non_snake_case)]
            pub mod $name {
                $($($(
                    #[doc = $word]
                    pub const $cname: super::Code = super::Code($code);
                )*)?)*
            }
        )*
        /// Every record (the decoder's table).
        #[cfg(any(feature = "log-text", test))]
        pub static ALL: &[Record] = &[$($name),*];
        /// Every fixed text of a value, of every record (a table of its
        /// own: a field in [`Record`] would cost every record a slice).
        #[cfg(any(feature = "log-text", test))]
        pub static FIXED: &[Fixed] = &[$($($($(Fixed {
            id: $id,
            key: key_index(&$name, stringify!($key)),
            code: $code,
            text: $word,
        },)*)?)*)*];
    };
}

records! {
    // src/capi.rs
    NO_SIGNATURE_SUPPORT = 1 Error "a verification key is configured but this build has no signature support (FOTA_RS_SIGNATURE)" [];
    BAD_VERIFY_KEY = 2 Error "verification key is not a P-256 SubjectPublicKeyInfo DER (imgtool getpub)" [];
    URL_LIMITS = 3 Error "URL limits outside 1 ..= the built-in capacity" [host_max path_max host_cap path_cap];
    PART_LEFT_OUT = 4 Error "the configuration asks for a part this build leaves out" [set{
        1 MAX_REDIRECTS "CONFIG_FOTA_RS_MAX_REDIRECTS"
        2 PROGRESS_SAVE "CONFIG_FOTA_RS_PROGRESS_SAVE"
        3 FRAG_FIT "CONFIG_FOTA_RS_FRAG_FIT"
        4 IMAGE_CHECKS "CONFIG_FOTA_RS_CHECK_LAYOUT / CONFIG_FOTA_RS_ALLOW_DOWNGRADE"
    }];
    CANCELLED = 5 Info "Download cancelled" [];
    FAILED = 6 Error "Download failed" [diag];
    // src/checks.rs
    LAYOUT_CHECK_SKIPPED = 7 Warn "Layout check skipped: the port does not tell the device layout" [];
    VERSION_CHECK_SKIPPED = 8 Warn "Version check skipped: the port does not tell the running version" [];
    NO_VERIFY_KEY = 9 Info "No verification key configured: the signature is left to MCUboot" [];
    SIGNATURE_VERIFIED = 10 Info "Signature verified (ECDSA-P256)" [key];
    // src/engine/connect.rs
    TLS_REFUSED_TAGS = 11 Warn "TLS handshake refused" [sec_tags detail];
    TRYING_FALLBACK_TAG = 12 Debug "Trying fallback sec_tag" [sec_tag];
    FALLBACK_TAG_WORKS = 13 Warn "Fallback sec_tag works; using it for this download" [sec_tag host refused];
    TLS_REFUSED_FALLBACK = 14 Warn "TLS handshake refused" [sec_tag detail];
    NO_SEC_TAG = 15 Error "https URL but no sec_tag given and no fallback sec_tag configured" [];
    // src/engine/mod.rs
    DOWNLOADING = 16 Info "Downloading" [url];
    FRAG_FIT_DROPPED = 17 Info "ranges no longer sized to the response buffer" [range];
    REDIRECTED = 18 Info "Redirected" [url];
    FILE_CHANGED = 19 Warn "the server's file changed since progress was saved; starting over" [saved_at];
    DEADLINE = 20 Error "the download did not finish in time" [deadline_ms];
    INTERRUPTED = 21 Warn "Transfer interrupted; retrying" [error offset retries_left];
    DELTA_HANDED_OVER = 22 Info "Modem delta handed over; the modem applies it at its next start" [bytes];
    IMAGE_VERIFIED = 23 Info "Image verified, SHA-256 matches" [version bytes];
    UPGRADE_REFUSED = 24 Error "Upgrade refused" [check refused];
    UPGRADE_REQUESTED = 25 Info "Upgrade requested" [swap{1 TEST "test" 2 PERMANENT "permanent"}];
    B1_NOT_AVAILABLE = 26 Error "\"s0 s1\" file form needs CONFIG_FOTA_RS_B1_IMAGES and the active B1 slot from the port" [error];
    // src/engine/pipeline.rs
    PIPELINE_STOPPED = 27 Info "no more pipelined requests" [why{
        1 NO_RESPONSE "no response to pipelined requests"
        2 BROKE "the connection broke with pipelined requests in flight"
        3 MISMATCH "a response did not match its pipelined request"
    } host];
    FRAG_FIT_SIZED = 28 Debug "ranges sized to the response buffer" [head range];
    FRAG_FIT_MISSED = 29 Warn "a response did not fit the buffer (FOTA_RS_FRAG_FIT)" [head fit];
    OTHER_RANGE = 30 Error "server sent another range" [asked first last];
    RANGE_ANSWERED_200 = 31 Error "server answered 200 to a range request" [asked];
    RANGE_IGNORED = 32 Info "server ignores Range; streaming the whole file" [];
    TOO_MANY_REDIRECTS = 33 Error "too many redirects" [max];
    HTTPS_TO_HTTP = 34 Error "refusing redirect from https to http" [];
    HTTP_ERROR = 35 Error "HTTP error from server" [status];
    SIZE_CHANGED = 36 Error "file size changed" [was now];
    SIZE_DOES_NOT_FIT = 37 Error "the server's file size does not fit what was downloaded" [size written];
    SERVER_BUSY = 38 Warn "server busy; retrying" [status retry_ms];
    // src/engine/resume.rs
    PROGRESS_OTHER_DOWNLOAD = 39 Info "saved progress belongs to another download; starting over" [];
    PROGRESS_MISMATCH = 40 Warn "saved progress does not match the slot; starting over" [error];
    RESUMING = 41 Info "Resuming (hash rebuilt from flash)" [offset total];
    // src/engine/sink.rs
    UNCONFIRMED_OVERWRITE = 42 Error "the running image is not confirmed, and the slot holds the previous image MCUboot would revert to; confirm the running image first (boot_write_img_confirmed) or allow the overwrite (CONFIG_FOTA_RS_ALLOW_UNCONFIRMED_OVERWRITE)" [];
    // The image codes are `enum fota_rs_image_type`'s (`ImageType`).
    NEEDS_EXTERNAL_FLASH = 43 Error "this image type needs an external-flash target, which this device does not have" [image{
        1 MCUBOOT "MCUboot"
        2 MODEM_DELTA "modem delta"
        3 FULL_MODEM "full modem"
    }];
    NO_DELTA_TARGET = 44 Error "no modem delta target (CONFIG_FOTA_RS_TARGET_MODEM_DELTA, or the platform has none)" [];
    DELTA_CONTINUED = 45 Info "The modem holds part of this delta; continuing from there" [bytes];
    DELTA_ERASING = 46 Info "Erasing the modem's firmware update area" [];
    // src/mcuboot.rs
    SAVE_FAILED = 47 Warn "could not save progress" [offset error];
}

/// Compile-time check of a call site against its entry (`record!` calls
/// it in a `const`): the level it logs at and the names of its values.
// Used only in `const _` items, which rustc 1.77 (the rust-version) does
// not count as uses; newer compilers do.
#[allow(dead_code)]
pub(crate) const fn check(record: &Record, level: Level, keys: &[&str]) {
    assert!(
        record.level as u8 == level as u8,
        "record logged at another level than its entry"
    );
    assert!(
        record.keys.len() == keys.len(),
        "record values differ from its entry's keys"
    );
    let mut i = 0;
    while i < keys.len() {
        assert!(
            same(record.keys[i], keys[i]),
            "record value named unlike its entry's key"
        );
        i += 1;
    }
}

/// The place of `key` in the record's keys (checked while compiling).
#[cfg(any(feature = "log-text", test))]
const fn key_index(record: &Record, key: &str) -> u8 {
    let mut i = 0;
    while i < record.keys.len() && !same(record.keys[i], key) {
        i += 1;
    }
    assert!(
        i < record.keys.len(),
        "a fixed text of a key the record lacks"
    );
    i as u8
}

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Writes a record's id line: `#id` and each value after a space, strings
/// as they are. The last value may hold spaces (a diagnostic line, a TLS
/// detail): the decoder gives it the rest of the line.
pub fn write_ids(out: &mut dyn crate::text::Out, id: u16, values: &[Arg<'_>]) {
    out.text("#").dec(id);
    for value in values {
        out.text(" ");
        value.write(out);
    }
}

/// The record with this id.
#[cfg(any(feature = "log-text", test))]
pub fn by_id(id: u16) -> Option<&'static Record> {
    ALL.iter().find(|r| r.id == id)
}

/// Writes a record's words: "message key=value ...".
#[cfg(any(feature = "log-text", test))]
pub fn write_words(out: &mut dyn crate::text::Out, record: &Record, values: &[Arg<'_>]) {
    out.put(record.message);
    for (i, (key, value)) in record.keys.iter().zip(values).enumerate() {
        out.text(" ").text(key).text("=");
        match value {
            &Arg::Num(code) => match fixed_text(record, i, code) {
                Some(text) => out.put(text),
                None => value.write(out),
            },
            _ => value.write(out),
        }
    }
}

/// The fixed texts of a record's key (by its place).
#[cfg(any(feature = "log-text", test))]
pub fn fixed_texts(record: &Record, key: usize) -> impl Iterator<Item = &'static Fixed> {
    let id = record.id;
    FIXED
        .iter()
        .filter(move |f| f.id == id && usize::from(f.key) == key)
}

/// The text of a fixed-text value's code.
#[cfg(any(feature = "log-text", test))]
fn fixed_text(record: &Record, key: usize, code: u32) -> Option<&'static str> {
    fixed_texts(record, key)
        .find(|f| u32::from(f.code) == code)
        .map(|f| f.text)
}

/// Most values a record has (a check in the tests keeps it so).
#[cfg(any(feature = "log-text", test))]
const MAX_KEYS: usize = 4;

/// Writes `line` (one console line, without its newline) with the record
/// in it in words: an id line at its start, or after the first "fota_rs: "
/// (the Zephyr and host log prefix) and, if Zephyr adds one, the function
/// name's "port_log: ". The prefix and a colour reset at the end are kept.
/// A line without a known record, or whose values do not match the
/// record's keys, is written unchanged.
#[cfg(any(feature = "log-text", test))]
pub fn expand_line(line: &str, out: &mut dyn crate::text::Out) {
    const PREFIX: &str = "fota_rs: ";
    const RESET: &str = "\x1b[0m";
    let (text, reset) = match line.strip_suffix(RESET) {
        Some(text) => (text, RESET),
        None => (line, ""),
    };
    let (head, body) = match text.split_once(PREFIX) {
        Some((head, body)) if body.starts_with('#') => (Some((head, "")), body),
        Some((head, body)) => match crate::url::split_once_byte(body, b' ') {
            Some((func, id_line)) if func.ends_with(':') && id_line.starts_with('#') => {
                (Some((head, func)), id_line)
            }
            _ => return out.put(line),
        },
        None => (None, text),
    };
    match parse(body) {
        Some((record, values)) => {
            if let Some((head, func)) = head {
                out.text(head).text(PREFIX);
                if !func.is_empty() {
                    out.text(func).text(" ");
                }
            }
            write_words(out, record, &values);
            out.put(reset);
        }
        None => out.put(line),
    }
}

/// The record and values of an id line.
#[cfg(any(feature = "log-text", test))]
fn parse(line: &str) -> Option<(&'static Record, heapless::Vec<Arg<'_>, MAX_KEYS>)> {
    let body = line.strip_prefix('#')?;
    let (id, rest) = match crate::url::split_once_byte(body, b' ') {
        Some((id, rest)) => (id, Some(rest)),
        None => (body, None),
    };
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let record = by_id(id.parse().ok()?)?;
    let mut values = heapless::Vec::new();
    match (record.keys.len(), rest) {
        (0, None) => {}
        (n, Some(mut rest)) if n > 0 => {
            for i in 0..n {
                let (value, tail) = next_value(rest, record, i, i + 1 == n)?;
                values.push(Arg::Str(value)).ok()?;
                rest = tail;
            }
        }
        _ => return None,
    }
    Some((record, values))
}

/// The next value of an id line and what follows it: up to the next
/// space, or the rest of the line for the last value. A key with fixed
/// texts gets the text of its `#N`, and also takes its text as builds
/// before the codes wrote it (spaces and all, where a space-separated
/// split would cut it).
#[cfg(any(feature = "log-text", test))]
fn next_value<'a>(
    rest: &'a str,
    record: &Record,
    key: usize,
    last: bool,
) -> Option<(&'a str, &'a str)> {
    for &Fixed { text, .. } in fixed_texts(record, key) {
        match rest.strip_prefix(text) {
            Some("") if last => return Some((text, "")),
            Some(after) if !last && after.starts_with(' ') => {
                return Some((text, after.get(1..).unwrap_or("")));
            }
            _ => {}
        }
    }
    let (value, tail) = if last {
        (rest, "")
    } else {
        crate::url::split_once_byte(rest, b' ')?
    };
    let coded = value.parse().ok().and_then(|c| fixed_text(record, key, c));
    Some((coded.unwrap_or(value), tail))
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use crate::text::Out;
    use std::string::{String, ToString};
    use std::vec::Vec;

    struct S(String);
    impl Out for S {
        fn put(&mut self, s: &str) {
            self.0.push_str(s);
        }
    }

    fn expanded(line: &str) -> String {
        let mut s = S(String::new());
        expand_line(line, &mut s);
        s.0
    }

    #[test]
    fn ids_are_unique_and_keys_fit() {
        let mut ids: Vec<u16> = ALL.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), ALL.len(), "two records share an id");
        assert!(ids.iter().all(|&id| id > 0));
        for r in ALL {
            assert!(r.keys.len() <= MAX_KEYS, "{}", r.message);
            assert!(!r.message.is_empty());
            for k in r.keys {
                assert!(!k.is_empty() && !k.contains(' '), "{}", r.message);
            }
        }
    }

    /// Every entry is logged somewhere in src/ (a record macro naming it);
    /// the compiler already checks that every name a call site uses is an
    /// entry with the same level and keys.
    #[test]
    fn every_entry_is_used() {
        let mut sources = String::new();
        let mut dirs = std::vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src"
        ))];
        while let Some(dir) = dirs.pop() {
            for e in std::fs::read_dir(&dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") && !p.ends_with("records.rs") {
                    sources.push_str(&std::fs::read_to_string(&p).unwrap());
                }
            }
        }
        let calls: String = sources.split_whitespace().collect();
        let table = include_str!("records.rs");
        let mut names = 0;
        for line in table.lines() {
            let Some((name, _)) = line.trim().split_once(" = ") else {
                continue;
            };
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            {
                continue;
            }
            names += 1;
            let used = ["error!(", "warn!(", "info!(", "debug!("].iter().any(|m| {
                calls.contains(&std::format!("{m}{name},"))
                    || calls.contains(&std::format!("{m}{name})"))
            });
            assert!(used, "record {name} is never logged");
        }
        assert_eq!(names, ALL.len());
    }

    /// Every entry round-trips: its id line, with values of each kind the
    /// call sites pass, decodes to the words a `log-text` build writes.
    #[test]
    fn every_id_line_decodes_to_its_words() {
        let samples = [
            Arg::Num(12288),
            Arg::Str("ECONNRESET"),
            Arg::Int(-5),
            Arg::Wide(5_000_000_000),
        ];
        for r in ALL {
            let mut values: Vec<Arg> = (0..r.keys.len())
                .map(|i| samples[i % samples.len()])
                .collect();
            if let Some(last) = values.last_mut() {
                // The last value may hold spaces.
                *last = Arg::Str("stage=HTTP errno=ENOENT (-2) hint=#3");
            }
            let mut ids = S(String::new());
            write_ids(&mut ids, r.id, &values);
            let mut words = S(String::from("[00:00:01.000,000] <inf> fota_rs: "));
            write_words(&mut words, r, &values);
            assert_eq!(
                expanded(&std::format!("[00:00:01.000,000] <inf> fota_rs: {}", ids.0)),
                words.0
            );
            assert_eq!(
                expanded(&ids.0),
                words.0["[00:00:01.000,000] <inf> fota_rs: ".len()..]
            );
        }
    }

    /// A value that is one of its key's fixed texts: its code in the id
    /// line gives the text, as the words a `log-text` build writes; the
    /// text itself, as builds before the codes sent it (spaces and all),
    /// decodes to the same words.
    #[test]
    fn fixed_texts_decode_to_their_words() {
        let mut coded = 0;
        for f in FIXED {
            let r = by_id(f.id).unwrap();
            assert!(usize::from(f.key) < r.keys.len(), "{}", r.message);
        }
        for r in ALL {
            for i in 0..r.keys.len() {
                let mut codes: Vec<u8> = fixed_texts(r, i).map(|f| f.code).collect();
                let n = codes.len();
                codes.sort_unstable();
                codes.dedup();
                assert_eq!(codes.len(), n, "{}: a code twice", r.message);
                for &Fixed { code, text, .. } in fixed_texts(r, i) {
                    assert!(code > 0 && !text.is_empty());
                    let others = ["fota.example.com", "12288", "x", "y"];
                    let mut values: Vec<Arg> = (0..r.keys.len())
                        .map(|k| Arg::Str(others[k % others.len()]))
                        .collect();
                    values[i] = Arg::from(Code(code));
                    let want: Vec<String> = r
                        .keys
                        .iter()
                        .enumerate()
                        .map(|(k, key)| {
                            let v = if k == i {
                                text
                            } else {
                                others[k % others.len()]
                            };
                            std::format!("{key}={v}")
                        })
                        .collect();
                    let want = std::format!("<inf> fota_rs: {} {}", r.message, want.join(" "));
                    let mut words = S(String::from("<inf> fota_rs: "));
                    write_words(&mut words, r, &values);
                    assert_eq!(words.0, want);
                    let mut ids = S(String::new());
                    write_ids(&mut ids, r.id, &values);
                    assert_eq!(ids.0.split(' ').nth(i + 1), Some(&*code.to_string()));
                    assert_eq!(expanded(&std::format!("<inf> fota_rs: {}", ids.0)), want);
                    values[i] = Arg::Str(text);
                    let mut old = S(String::new());
                    write_ids(&mut old, r.id, &values);
                    assert_eq!(expanded(&std::format!("<inf> fota_rs: {}", old.0)), want);
                    coded += 1;
                }
            }
        }
        assert!(coded >= 3, "{coded} fixed texts");
        assert_eq!(
            expanded("<inf> fota_rs: #27 2 fota.example.com"),
            "<inf> fota_rs: no more pipelined requests \
             why=the connection broke with pipelined requests in flight host=fota.example.com"
        );
        assert_eq!(
            expanded("#4 3"),
            "the configuration asks for a part this build leaves out set=CONFIG_FOTA_RS_FRAG_FIT"
        );
        // An unknown code stays a number.
        assert_eq!(
            expanded("#27 9 h"),
            "no more pipelined requests why=9 host=h"
        );
    }

    /// NEEDS_EXTERNAL_FLASH sends the found type's `ImageType` number.
    #[test]
    fn image_codes_are_the_image_types() {
        use crate::image::ImageType;
        for (t, code, name) in [
            (ImageType::Mcuboot, NEEDS_EXTERNAL_FLASH::MCUBOOT, "MCUboot"),
            (
                ImageType::ModemDelta,
                NEEDS_EXTERNAL_FLASH::MODEM_DELTA,
                "modem delta",
            ),
            (
                ImageType::FullModem,
                NEEDS_EXTERNAL_FLASH::FULL_MODEM,
                "full modem",
            ),
        ] {
            assert_eq!(Code(t as u8), code);
            assert_eq!(fixed_text(&NEEDS_EXTERNAL_FLASH, 0, t as u32), Some(name));
        }
    }

    #[test]
    fn other_lines_pass_unchanged() {
        for line in [
            "",
            "#",
            "#x 1",
            "#9999 1 2",
            "<inf> fota_rs: #16",           // a value missing
            "<inf> fota_rs: #5 extra",      // a value too many
            "<err> flash: #16 https://x/y", // another module
            "OK: image 0.1.3+0",
            "<inf> fota_rs: Downloading url=x",
        ] {
            assert_eq!(expanded(line), line);
        }
        assert_eq!(
            expanded("<inf> fota_rs: #16 http://h/p"),
            "<inf> fota_rs: Downloading url=http://h/p"
        );
        assert_eq!(expanded("#16 "), "Downloading url=");
        // Zephyr's function-name prefix and colours.
        assert_eq!(
            expanded("<inf> fota_rs: port_log: #25 test"),
            "<inf> fota_rs: port_log: Upgrade requested swap=test"
        );
        assert_eq!(
            expanded("\x1b[1;33m<wrn> fota_rs: #9\x1b[0m"),
            "\x1b[1;33m<wrn> fota_rs: No verification key configured: the signature is left to MCUboot\x1b[0m"
        );
        assert_eq!(
            expanded("<inf> fota_rs: port_log: text"),
            "<inf> fota_rs: port_log: text"
        );
    }
}
