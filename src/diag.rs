// SPDX-License-Identifier: Apache-2.0
//! What went wrong, in words a person can act on.

use crate::error::{Errno, Stage};
use crate::port::Detail;
use crate::text::Out;
use crate::url::Url;

/// Most sec_tags in one request plus fallbacks (NCS v2.6 allows 5 by default).
pub const MAX_TAGS: usize = 8;

/// Result of the plain-TCP probe made after a refused TLS connect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum TcpProbe {
    NotDone = 0,
    /// TCP connects: the certificate was refused.
    PortOpen = 1,
    /// TCP is refused too: nothing listens on the port.
    Refused = 2,
}

/// How a failure line is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// Every hint, errno description and check in words (cargo feature
    /// `log-text`, Kconfig `FOTA_RS_LOG_TEXT`).
    Words,
    /// Words for the failures people meet (refused TLS or TCP, DNS, HTTP
    /// 4xx, image checks); every other hint as `hint=#N` ([`Hint`]), their
    /// errnos by name alone, a refused check as its name and numbers.
    /// [`expand_codes`] turns such a line back into the words of
    /// [`Form::Words`].
    Compact,
}

/// Whether this build writes [`Form::Words`]: only with `log-text`, whose
/// text costs 2.7 KB of flash (docs/performance.md). The writers take it as a const
/// parameter, so a build links the text of its own form alone.
const WORDS: bool = cfg!(feature = "log-text");

/// The form this build writes.
pub const FORM: Form = if WORDS { Form::Words } else { Form::Compact };

/// The hints outside the failures people meet: a compact line names them
/// as `hint=#N`. The numbers are stable (a decoder reads lines of older
/// builds): never renumber one, add new ones at the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Hint {
    UrlTooLong = 1,
    UrlMalformed = 2,
    /// Names the host: `hint=#3 host=fota.example.com`.
    NoData = 3,
    ConnDropped = 4,
    HeadTooBig = 5,
    ServerBusy = 6,
    Flash = 7,
    Schedule = 8,
    Cancelled = 9,
    BadResponse = 10,
    SeeLog = 11,
    RedirectsOff = 12,
    RedirectLoop = 13,
    RedirectToHttp = 14,
    SizePastTrailer = 15,
    RetriesOut5xx = 16,
}

impl Hint {
    pub const ALL: [Hint; 16] = [
        Hint::UrlTooLong,
        Hint::UrlMalformed,
        Hint::NoData,
        Hint::ConnDropped,
        Hint::HeadTooBig,
        Hint::ServerBusy,
        Hint::Flash,
        Hint::Schedule,
        Hint::Cancelled,
        Hint::BadResponse,
        Hint::SeeLog,
        Hint::RedirectsOff,
        Hint::RedirectLoop,
        Hint::RedirectToHttp,
        Hint::SizePastTrailer,
        Hint::RetriesOut5xx,
    ];

    /// The `N` of `hint=#N`.
    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: u32) -> Option<Hint> {
        Hint::ALL.into_iter().find(|h| u32::from(h.code()) == code)
    }

    /// Whether the words name the host (the compact line then carries it).
    pub fn names_host(self) -> bool {
        code_names_host(self.code())
    }

    /// The words, the one table both the device (`log-text`) and
    /// [`expand_codes`] write: `(before, Some(after))` puts the host
    /// between the two.
    pub fn words(self) -> (&'static str, Option<&'static str>) {
        code_words(self.code())
    }

    /// ` hint: <words>` or ` hint=#N[ host=H]`.
    fn write<const WORDS: bool>(self, w: &mut dyn Out, host: &str) {
        write_hint_code::<WORDS>(self.code(), w, host);
    }
}

// The hints by their code (what a [`RULES`] row holds): no table from
// code to [`Hint`] in flash.

fn code_names_host(code: u8) -> bool {
    code == Hint::NoData.code()
}

/// [`Hint::words`] of the hint with this code.
fn code_words(code: u8) -> (&'static str, Option<&'static str>) {
    let text = HINT_WORDS
        .get(usize::from(code).wrapping_sub(1))
        .copied()
        .unwrap_or("");
    if code_names_host(code) {
        (text, Some(NO_DATA_AFTER_HOST))
    } else {
        (text, None)
    }
}

/// [`Hint::write`] of the hint with this code.
fn write_hint_code<const WORDS: bool>(code: u8, w: &mut dyn Out, host: &str) {
    if WORDS {
        let (before, after) = code_words(code);
        w.text(HINT).text(before);
        if let Some(after) = after {
            w.text(host).text(after);
        }
    } else {
        w.text(" hint=#").dec(code);
        if code_names_host(code) {
            w.text(" host=").text(host);
        }
    }
}

/// The words of each [`Hint`], at its code minus one (a table rather than
/// a match: one lookup in the `log-text` build).
const HINT_WORDS: [&str; Hint::ALL.len()] = [
    "raise CONFIG_FOTA_RS_URL_MAX_LEN or CONFIG_FOTA_RS_HOST_MAX_LEN",
    "malformed URL: only http and https, no spaces or control characters",
    "no data from ",
    "the connection kept dropping until the retries ran out: check coverage or raise the retry count",
    "the receive buffer holds 2 KiB",
    "the server kept answering 5xx: try again later",
    "writing the update target failed (MCUboot secondary slot, or the modem's DFU area for modem deltas): check the flash partition or the modem",
    "the image is in flash and verified, but marking it for MCUboot failed",
    "the download was cancelled",
    "the server's response was malformed or unexpected",
    "see the log for details",
    "the server redirects but redirects are off (max_redirects 0, CONFIG_FOTA_RS_MAX_REDIRECTS=0)",
    "more redirects than allowed (a redirect loop?): check the URL",
    "the server redirected from https to http: refused to continue in clear text",
    "refused: the server announced a size past the slot's trailer start or below what it sent",
    "the server kept answering 5xx until the retries ran out: try again later",
];

/// What follows the host in the words of [`Hint::NoData`].
const NO_DATA_AFTER_HOST: &str = " within the socket timeout: check coverage or raise the timeout";

/// What separates a line from its hint in words.
const HINT: &str = " hint: ";

/// The hint of every refused check, in both forms.
const CHECK_HINT: &str =
    " hint: the image arrived intact but must not be installed here; nothing was scheduled";

/// The last failure (or the state of the last download).
#[derive(Clone, Debug)]
pub struct Diag {
    pub stage: Stage,
    pub errno: Option<Errno>,
    pub http_status: u16,
    pub offset: u32,
    pub tags_tried: heapless::Vec<i32, MAX_TAGS>,
    pub working_tag: Option<i32>,
    pub tcp_probe: TcpProbe,
    /// Platform detail of the last failed connect (e.g. the TLS verify error).
    pub detail: Detail,
    /// A hint the engine knows better than the generic one for the errno.
    pub note: Option<Hint>,
    /// The pre-upgrade check that refused the image.
    pub check: crate::zopt::ZeroOption<crate::checks::CheckError>,
}

/// The hint of a failure with no note: a [`Hint`] code, or the words of
/// the failures people meet ([`SAID`]).
#[derive(Clone, Copy)]
enum Said {
    Code(Hint),
    /// Word `i` of [`SAID`].
    Words(u8),
}

/// Matches every stage or errno in a [`RULES`] row.
const ANY: u8 = 0xff;

/// One row of [`RULES`], as three bytes: stage, errno, what is said (a
/// [`Hint`] code below [`WORDS_FROM`], else [`WORDS_FROM`] plus the
/// word's place in [`SAID`]).
const fn rule(stage: Option<Stage>, errno: Option<Errno>, said: Said) -> [u8; 3] {
    [
        match stage {
            Some(s) => s as u8,
            None => ANY,
        },
        match errno {
            Some(e) => e as i32 as u8,
            None => ANY,
        },
        match said {
            Said::Code(h) => h as u8,
            Said::Words(i) => WORDS_FROM + i,
        },
    ]
}

/// The first said byte of a word of [`SAID`].
const WORDS_FROM: u8 = 0x20;

/// The hint by stage and errno, in the order the rules apply (the first
/// row that matches; none: [`Hint::SeeLog`]). A table of three bytes a
/// row and one string of words instead of a `match`: its decision tree
/// and a string load per arm were about 200 bytes more flash.
const RULES: [[u8; 3]; 23] = {
    use Errno as E;
    use Said::{Code, Words};
    use Stage as S;
    [
        rule(Some(S::Tls), Some(E::ConnRefused), Words(TLS_REFUSED)),
        rule(Some(S::Tls), Some(E::Inval), Words(8)), // needs a sec_tag
        rule(Some(S::Tls), Some(E::NotSup), Words(9)), // cannot check an IP address
        rule(
            Some(S::Connect),
            Some(E::ConnRefused),
            Words(NOTHING_ACCEPTS),
        ),
        rule(Some(S::Dns), None, Words(7)), // did not resolve
        rule(Some(S::Url), Some(E::NameTooLong), Code(Hint::UrlTooLong)),
        rule(Some(S::Url), None, Code(Hint::UrlMalformed)),
        rule(None, Some(E::TimedOut), Code(Hint::NoData)),
        rule(None, Some(E::ConnReset), Code(Hint::ConnDropped)),
        rule(Some(S::Image), Some(E::Access), Words(10)), // not confirmed
        rule(None, Some(E::Access), Words(11)),           // refused access
        rule(None, Some(E::NoEnt), Words(12)),            // not on the server
        rule(None, Some(E::Range), Words(13)),            // byte range
        rule(Some(S::Http), Some(E::TooBig), Code(Hint::HeadTooBig)),
        rule(Some(S::Http), Some(E::Again), Code(Hint::ServerBusy)),
        rule(None, Some(E::FileTooBig), Words(14)), // larger than the slot
        rule(None, Some(E::IlSeq), Words(15)),      // failed verification
        rule(None, Some(E::NoExec), Words(16)),     // not the type expected
        rule(Some(S::Image), Some(E::NotSup), Words(17)), // cannot install this type
        rule(Some(S::Flash), None, Code(Hint::Flash)),
        rule(Some(S::Schedule), None, Code(Hint::Schedule)),
        rule(None, Some(E::Canceled), Code(Hint::Cancelled)),
        rule(None, Some(E::BadMsg), Code(Hint::BadResponse)),
    ]
};

/// Where a word of [`SAID`] names the URL's host, then its port, then
/// the sec_tags tried (the words name them in this order).
const SLOT: u8 = 1;

/// The places in [`SAID`] of the words a refused TLS handshake or TCP
/// connect begins with; what follows each depends on more than the rule.
const TLS_REFUSED: u8 = 0;
const NOTHING_ACCEPTS: u8 = 4;

/// The hints in words, NUL-terminated ([`crate::text::word`]), with
/// a [`SLOT`] where the host, port or tags go: a refused TLS handshake
/// (0, then 1 when plain TCP to the port works, then 2, or 3 when the
/// platform's detail names a mismatch), a refused TCP connect (4, 5 when
/// a probe checked it, 6), then one word each.
const SAID: &str = "TLS handshake with \x01:\x01 refused with sec_tag \x01\0\
    \x20(plain TCP to it works)\0\
    : the CA under that tag does not validate the server's certificate chain; provision its root CA (Amazon Root CA 1 for S3) under the tag or add a fallback tag\0\
    : the server's certificate is not issued for \x01: use its host name in the URL, or a certificate for this host\0\
    nothing accepts TCP connections on \x01:\x01\0\
    \x20(checked with plain TCP)\0\
    : not a certificate problem; check the URL's port and the server\0\
    check the host name \x01, the PDN and that the network is up\0\
    https needs a sec_tag holding the server's root CA\0\
    this platform cannot check a certificate for an IP address: use the host name in the URL (CONFIG_FOTA_RS_ALLOW_TLS_IP_LITERAL allows it unchecked)\0\
    the running image is unconfirmed and the secondary slot holds MCUboot's way back: call boot_write_img_confirmed() first or set CONFIG_FOTA_RS_ALLOW_UNCONFIRMED_OVERWRITE; slot untouched\0\
    a pre-signed URL may have expired: request a new one\0\
    not on the server: check the path\0\
    the server did not honour the range, or the file changed during the download\0\
    it must fit the secondary slot minus MCUboot's trailer: shrink the image or enlarge the slot\0\
    bad SHA-256, TLVs or length: corrupted in transit or not a signed MCUboot image; nothing was scheduled\0\
    not the type the caller expects\0\
    cannot install this image type here: MCUboot images need the secondary slot, modem deltas the platform's modem target, full modem images an external-flash target\0";

impl Diag {
    pub const fn new() -> Diag {
        Diag {
            stage: Stage::None,
            errno: None,
            http_status: 0,
            offset: 0,
            tags_tried: heapless::Vec::new(),
            working_tag: None,
            tcp_probe: TcpProbe::NotDone,
            detail: heapless::String::new(),
            note: None,
            check: crate::zopt::ZeroOption::none(),
        }
    }

    /// One line: stage, cause, errno name, tags, status, offset, and a
    /// hint, in this build's [`FORM`]. The log's failure record and
    /// `fota_rs_diag_text` both write it.
    pub fn write_text(&self, w: &mut dyn Out, url: &Url) {
        self.write_line::<WORDS>(w, url);
    }

    /// The line in either form (tests and host tools write both).
    pub fn write_form(&self, w: &mut dyn Out, url: &Url, form: Form) {
        match form {
            Form::Words => self.write_line::<true>(w, url),
            Form::Compact => self.write_line::<false>(w, url),
        }
    }

    fn write_line<const WORDS: bool>(&self, w: &mut dyn Out, url: &Url) {
        let Some(errno) = self.errno else {
            w.put("no error");
            return;
        };
        w.text("stage=")
            .text(self.stage.name())
            .text(" error=")
            .text(errno.name());
        let description = if WORDS {
            Some(errno.describe())
        } else {
            errno.plain_description()
        };
        if let Some(text) = description {
            w.text(" (").text(text).text(")");
        }
        if !self.tags_tried.is_empty() {
            w.put(" sec_tags_tried=");
            put_tags(w, &self.tags_tried);
        }
        if self.http_status != 0 {
            w.text(" http_status=").dec(self.http_status);
        }
        w.text(" offset=").dec(self.offset);
        if !self.detail.is_empty() {
            w.text(" detail=\"").text(&self.detail).text("\"");
        }
        if let Some(c) = self.check.as_ref() {
            w.text(" check=").text(c.check()).text(" refused=");
            if WORDS {
                w.put("\"");
                c.write_form(w, Form::Words);
                w.put("\"");
            } else {
                c.write_form(w, Form::Compact);
            }
            w.put(CHECK_HINT);
            return;
        }
        match self.note {
            Some(h) => h.write::<WORDS>(w, url.host.as_str()),
            None => self.write_hint::<WORDS>(w, url, errno),
        }
    }

    fn write_hint<const WORDS: bool>(&self, w: &mut dyn Out, url: &Url, errno: Errno) {
        let (stage, errno) = (self.stage as u8, errno as i32 as u8);
        let said = RULES
            .iter()
            .find(|[s, e, _]| (*s == ANY || *s == stage) && (*e == ANY || *e == errno))
            .map_or(Hint::SeeLog as u8, |[_, _, said]| *said);
        let Some(mut word) = said.checked_sub(WORDS_FROM) else {
            return write_hint_code::<WORDS>(said, w, url.host.as_str());
        };
        w.put(HINT);
        if word == TLS_REFUSED || word == NOTHING_ACCEPTS {
            // What was refused, then what the plain-TCP probe found, if
            // it found what the refusal suggests.
            self.put_said(w, url, word);
            let probed = if word == TLS_REFUSED {
                TcpProbe::PortOpen
            } else {
                TcpProbe::Refused
            };
            if self.tcp_probe == probed {
                self.put_said(w, url, word + 1);
            }
            // Only a port that can tell says so in its detail (the host
            // port's "hostname mismatch" / "IP address mismatch").
            let mismatch = word == TLS_REFUSED
                && crate::url::find_sub(self.detail.as_str(), " mismatch").is_some();
            word += 2 + u8::from(mismatch);
        }
        self.put_said(w, url, word);
    }

    /// Word `i` of [`SAID`], with the host, port and tags in their places.
    fn put_said(&self, w: &mut dyn Out, url: &Url, i: u8) {
        let mut rest = crate::text::word(SAID, usize::from(i));
        let mut slot = 0;
        while let Some((text, tail)) = crate::url::split_once_byte(rest, SLOT) {
            w.put(text);
            match slot {
                0 => w.put(url.host.as_str()),
                1 => {
                    w.dec(url.port);
                }
                _ => put_tags(w, &self.tags_tried),
            }
            slot += 1;
            rest = tail;
        }
        w.put(rest);
    }
}

impl Default for Diag {
    fn default() -> Self {
        Diag::new()
    }
}

/// A tag list in a log record, as [`put_tags`] writes it
/// ([`crate::logging::Arg::Tags`]).
pub struct Tags<'a>(pub &'a [i32]);

/// The failure line in a log record ([`Diag::write_text`],
/// [`crate::logging::Arg::Failure`]).
pub struct Failure<'a>(pub &'a Diag, pub &'a Url);

/// Writes a tag list as "1003,1004" ("none" when empty).
pub fn put_tags(w: &mut dyn Out, tags: &[i32]) {
    if tags.is_empty() {
        w.put("none");
    }
    for (i, t) in tags.iter().enumerate() {
        if i > 0 {
            w.put(",");
        }
        w.signed(*t);
    }
}

/// Rewrites the compact parts of `line` ([`Form::Compact`], what a build
/// without `log-text` writes) into the words a `log-text` build writes for
/// the same failure, and copies everything else unchanged:
///
/// - `error=NAME` not followed by a description gets ` (description)`;
/// - a check refused as name and numbers (`refused=not_newer image=1.2.0+0
///   running=1.3.0+0`) becomes its sentence (`refused="image version ..."`
///   in the failure line, unquoted in the `Upgrade refused` record);
/// - `hint=#N` (with ` host=H` for the hints that name it) becomes
///   `hint: <words>`.
///
/// `line` may be a failure line alone or a log record holding one (the
/// decoder passes each console line). A hint code counts only after an
/// `error=`; a code this build does not know, or a `hint=#3` without its
/// host, stays as written. The words come from the tables the device writes them from
/// ([`Hint::words`], [`Errno::describe`], `CheckError`'s writer), so an
/// expanded line equals the `log-text` line.
#[cfg(any(test, feature = "log-text"))]
pub fn expand_codes(line: &str, out: &mut dyn Out) {
    let mut rest = line;
    // The errno's description; a line without one is no failure line.
    let failure_line = after_key(rest, "error=");
    if let Some((head, tail)) = failure_line {
        let end = tail.find(' ').unwrap_or(tail.len());
        let (name, tail) = split(tail, end);
        out.text(head).text(name);
        if !tail.starts_with(" (") {
            if let Some(e) = Errno::from_name(name) {
                out.text(" (").text(e.describe()).text(")");
            }
        }
        rest = tail;
    }
    // A refused check as its sentence.
    if let Some((head, tail)) = after_key(rest, "refused=") {
        if !tail.starts_with('"') {
            let end = tail.find(" hint:").unwrap_or(tail.len());
            let (compact, tail) = split(tail, end);
            out.put(head);
            match crate::checks::CheckError::parse_compact(compact) {
                // The failure line quotes the sentence (its hint follows);
                // the `Upgrade refused` record ends with it, unquoted.
                Some(c) if tail.starts_with(" hint:") => {
                    out.put("\"");
                    c.write_form(out, Form::Words);
                    out.put("\"");
                }
                Some(c) => c.write_form(out, Form::Words),
                None => out.put(compact),
            }
            rest = tail;
        }
    }
    // The hint code.
    if let Some(at) = rest.rfind(" hint=#").filter(|_| failure_line.is_some()) {
        let (head, code) = split(rest, at);
        let code = code.get(" hint=#".len()..).unwrap_or("");
        let end = code.find(' ').unwrap_or(code.len());
        let (number, mut tail) = split(code, end);
        let hint = number.parse().ok().and_then(Hint::from_code);
        // The host of the hints that name it; without it the code stays.
        let mut host = Some("");
        if hint.is_some_and(Hint::names_host) {
            host = tail.strip_prefix(" host=").map(|h| {
                let end = h.find(' ').unwrap_or(h.len());
                let (host, after) = split(h, end);
                tail = after;
                host
            });
        }
        if let (Some(hint), Some(host)) = (hint, host) {
            out.put(head);
            hint.write::<true>(out, host);
            rest = tail;
        }
    }
    out.put(rest);
}

/// `s` cut at `i` (which `find` gave: a character boundary).
#[cfg(any(test, feature = "log-text"))]
fn split(s: &str, i: usize) -> (&str, &str) {
    crate::url::cut(s, i, 0).unwrap_or((s, ""))
}

/// `(line up to and with key, what follows)` for the first `key` that
/// starts a word.
#[cfg(any(test, feature = "log-text"))]
fn after_key<'a>(line: &'a str, key: &str) -> Option<(&'a str, &'a str)> {
    let mut from = 0;
    loop {
        let at = from + line.get(from..)?.find(key)?;
        let end = at + key.len();
        if at == 0 || line.get(..at)?.ends_with(' ') {
            return Some((line.get(..end)?, line.get(end..)?));
        }
        from = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::url::Limits;

    fn hint(detail: &str, errno: Errno) -> std::string::String {
        let url = Url::parse("https://fota.test/app.bin", Limits::DEFAULT).unwrap();
        let mut d = Diag::new();
        d.stage = Stage::Tls;
        d.errno = Some(errno);
        d.tcp_probe = TcpProbe::PortOpen;
        d.tags_tried.push(42).unwrap();
        d.detail.push_str(detail).unwrap();
        let mut out = std::string::String::new();
        d.write_text(&mut out, &url);
        out
    }

    #[test]
    fn a_name_mismatch_is_not_blamed_on_the_ca() {
        for detail in [
            "hostname mismatch: fota.test (tags 42)",
            "IP address mismatch: 10.0.0.1 (tags 42)",
        ] {
            let text = hint(detail, Errno::ConnRefused);
            assert!(
                text.contains("certificate is not issued for fota.test"),
                "{text}"
            );
            assert!(!text.contains("does not validate"), "{text}");
        }
        let text = hint(
            "certificate verify failed: unable to get local issuer certificate (tags 42)",
            Errno::ConnRefused,
        );
        assert!(
            text.contains("does not validate the server's certificate chain"),
            "{text}"
        );
    }

    #[test]
    fn a_refused_ip_literal_names_the_option() {
        let text = hint(
            "https to IP 10.0.0.1: cannot be verified; use a host name",
            Errno::NotSup,
        );
        assert!(
            text.contains("CONFIG_FOTA_RS_ALLOW_TLS_IP_LITERAL"),
            "{text}"
        );
    }

    use crate::checks::{CheckError, Malformed, Query};
    use crate::version::Version;
    use std::string::String;

    fn url() -> Url {
        Url::parse("https://fota.test:8443/app.bin", Limits::DEFAULT).unwrap()
    }

    fn line(d: &Diag, form: Form) -> String {
        let mut out = String::new();
        d.write_form(&mut out, &url(), form);
        out
    }

    fn expanded(compact: &str) -> String {
        let mut out = String::new();
        expand_codes(compact, &mut out);
        out
    }

    fn diag(stage: Stage, errno: Errno) -> Diag {
        let mut d = Diag::new();
        d.stage = stage;
        d.errno = Some(errno);
        d.offset = 4096;
        d
    }

    /// One refusal of each kind, with numbers that differ from each other.
    fn refusals() -> std::vec::Vec<CheckError> {
        let v = |major, minor, revision, build| Version {
            major,
            minor,
            revision,
            build,
        };
        std::vec![
            CheckError::Port {
                query: Query::FlashRead,
                errno: Errno::Io
            },
            CheckError::Port {
                query: Query::DeviceLayout,
                errno: Errno::Inval
            },
            CheckError::Port {
                query: Query::RunningVersion,
                errno: Errno::TimedOut
            },
            CheckError::Malformed(Malformed::Header),
            CheckError::Malformed(Malformed::NoVectorTable),
            CheckError::Malformed(Malformed::ProtectedTlvArea),
            CheckError::Malformed(Malformed::TlvArea),
            CheckError::Malformed(Malformed::NoHash),
            CheckError::StackPointer {
                sp: 0x3000_0000,
                ram_start: 0x2000_0000,
                ram_end: 0x2004_0000
            },
            CheckError::ResetNotThumb { reset: 0x0001_0400 },
            CheckError::LinkedElsewhere {
                reset: 0x0002_0a01,
                code_start: 0x0001_0200,
                code_end: 0x0001_4000,
                linked_for: 0x0002_0200,
                needed: 0x0001_0200,
                primary_addr: 0x0001_0000,
                hdr_size: 0x200
            },
            CheckError::NotNewer {
                image: v(1, 2, 0, 0),
                running: v(1, 3, 65535, 4_000_000_000)
            },
            CheckError::HashMismatch,
            CheckError::Unsigned,
            CheckError::WrongKey {
                image_key: Some([0xde, 0xad, 0x00, 0x0f]),
                key: [0x12, 0x34, 0x56, 0x78]
            },
            CheckError::WrongKey {
                image_key: None,
                key: [0, 0, 0, 1]
            },
            CheckError::BadSignature,
            CheckError::BadKey,
            CheckError::SignatureUnsupported,
        ]
    }

    #[test]
    fn hint_codes_are_stable_and_unique() {
        for (i, h) in Hint::ALL.into_iter().enumerate() {
            assert_eq!(usize::from(h.code()), i + 1, "{h:?}");
            assert_eq!(Hint::from_code(u32::from(h.code())), Some(h));
        }
        assert_eq!(Hint::from_code(0), None);
        assert_eq!(Hint::from_code(Hint::ALL.len() as u32 + 1), None);
        // The numbers a decoder relies on: a change here breaks old lines.
        assert_eq!(Hint::NoData.code(), 3);
        assert_eq!(Hint::SeeLog.code(), 11);
        assert_eq!(Hint::RetriesOut5xx.code(), 16);
        // Each code has its own words (the table is by position).
        for (h, says) in [
            (Hint::UrlTooLong, "URL_MAX_LEN"),
            (Hint::UrlMalformed, "malformed URL"),
            (Hint::NoData, "no data from "),
            (Hint::ConnDropped, "kept dropping"),
            (Hint::HeadTooBig, "receive buffer holds 2 KiB"),
            (Hint::ServerBusy, "kept answering 5xx: try"),
            (Hint::Flash, "writing the update target failed"),
            (Hint::Schedule, "marking it for MCUboot failed"),
            (Hint::Cancelled, "the download was cancelled"),
            (Hint::BadResponse, "response was malformed"),
            (Hint::SeeLog, "see the log"),
            (Hint::RedirectsOff, "redirects are off"),
            (Hint::RedirectLoop, "a redirect loop?"),
            (Hint::RedirectToHttp, "from https to http"),
            (Hint::SizePastTrailer, "trailer start"),
            (Hint::RetriesOut5xx, "the retries ran out: try again"),
        ] {
            assert!(h.words().0.contains(says), "{h:?}: {:?}", h.words());
        }
    }

    /// Every stage and errno, with each engine note, with and without tags,
    /// status and detail: the compact line expanded is the words line.
    #[test]
    fn every_compact_line_expands_to_the_log_text_line() {
        let mut codes_seen = std::collections::BTreeSet::new();
        let mut lines = 0;
        let notes = core::iter::once(None).chain(Hint::ALL.into_iter().map(Some));
        for note in notes {
            for stage in Stage::ALL {
                for code in 1..=Errno::Fault as i32 {
                    for probe in [TcpProbe::NotDone, TcpProbe::PortOpen, TcpProbe::Refused] {
                        let mut d = diag(stage, Errno::from_code(code));
                        d.note = note;
                        d.tcp_probe = probe;
                        if probe == TcpProbe::PortOpen {
                            d.tags_tried.push(1003).unwrap();
                            d.tags_tried.push(-2).unwrap();
                            d.http_status = 403;
                            d.detail.push_str("hostname mismatch: fota.test").unwrap();
                        }
                        let compact = line(&d, Form::Compact);
                        let words = line(&d, Form::Words);
                        assert_eq!(expanded(&compact), words, "compact: {compact}");
                        if let Some((_, n)) = compact.rsplit_once(" hint=#") {
                            let n: u32 = n.split(' ').next().unwrap().parse().unwrap();
                            codes_seen.insert(n);
                            assert!(!compact.contains(" hint: "), "{compact}");
                        } else {
                            // No code: the hint is in the device's own words.
                            fn hint(l: &str) -> Option<&str> {
                                l.split_once(" hint: ").map(|(_, h)| h)
                            }
                            assert_eq!(hint(&compact), hint(&words));
                            assert!(hint(&compact).is_some(), "{compact}");
                        }
                        lines += 1;
                    }
                }
            }
        }
        let all: std::collections::BTreeSet<u32> =
            Hint::ALL.into_iter().map(|h| u32::from(h.code())).collect();
        assert_eq!(codes_seen, all, "a hint code is never written");
        assert!(lines > 1000);
    }

    /// The failures people meet read the same without `log-text`: refused
    /// TLS (both probe results, a name mismatch, no tag, an IP literal),
    /// refused TCP, DNS, HTTP 4xx, image verification and the unconfirmed
    /// slot.
    #[test]
    fn the_failures_people_meet_keep_their_words() {
        let tls = |probe, detail: &str| {
            let mut d = diag(Stage::Tls, Errno::ConnRefused);
            d.tcp_probe = probe;
            d.tags_tried.push(1003).unwrap();
            d.detail.push_str(detail).unwrap();
            d
        };
        let http = |errno, status| {
            let mut d = diag(Stage::Http, errno);
            d.http_status = status;
            d
        };
        let cases = [
            (tls(TcpProbe::PortOpen, "certificate verify failed"),
             "stage=tls error=ECONNREFUSED (connection refused) sec_tags_tried=1003 offset=4096 detail=\"certificate verify failed\" hint: TLS handshake with fota.test:8443 refused with sec_tag 1003 (plain TCP to it works): the CA under that tag does not validate the server's certificate chain; provision its root CA (Amazon Root CA 1 for S3) under the tag or add a fallback tag"),
            (tls(TcpProbe::NotDone, ""),
             "stage=tls error=ECONNREFUSED (connection refused) sec_tags_tried=1003 offset=4096 hint: TLS handshake with fota.test:8443 refused with sec_tag 1003: the CA under that tag does not validate the server's certificate chain; provision its root CA (Amazon Root CA 1 for S3) under the tag or add a fallback tag"),
            (tls(TcpProbe::PortOpen, "hostname mismatch: fota.test"),
             "stage=tls error=ECONNREFUSED (connection refused) sec_tags_tried=1003 offset=4096 detail=\"hostname mismatch: fota.test\" hint: TLS handshake with fota.test:8443 refused with sec_tag 1003 (plain TCP to it works): the server's certificate is not issued for fota.test: use its host name in the URL, or a certificate for this host"),
            (diag(Stage::Tls, Errno::Inval),
             "stage=tls error=EINVAL (invalid argument) offset=4096 hint: https needs a sec_tag holding the server's root CA"),
            (diag(Stage::Tls, Errno::NotSup),
             "stage=tls error=ENOTSUP (not supported) offset=4096 hint: this platform cannot check a certificate for an IP address: use the host name in the URL (CONFIG_FOTA_RS_ALLOW_TLS_IP_LITERAL allows it unchecked)"),
            ({ let mut d = diag(Stage::Connect, Errno::ConnRefused); d.tcp_probe = TcpProbe::Refused; d },
             "stage=connect error=ECONNREFUSED (connection refused) offset=4096 hint: nothing accepts TCP connections on fota.test:8443 (checked with plain TCP): not a certificate problem; check the URL's port and the server"),
            (diag(Stage::Dns, Errno::HostUnreach),
             "stage=dns error=EHOSTUNREACH (host name did not resolve) offset=4096 hint: check the host name fota.test, the PDN and that the network is up"),
            (http(Errno::Access, 403),
             "stage=http error=EACCES (access denied) http_status=403 offset=4096 hint: a pre-signed URL may have expired: request a new one"),
            (http(Errno::NoEnt, 404),
             "stage=http error=ENOENT (not found) http_status=404 offset=4096 hint: not on the server: check the path"),
            (http(Errno::Range, 416),
             "stage=http error=ERANGE (response does not match the range) http_status=416 offset=4096 hint: the server did not honour the range, or the file changed during the download"),
            (diag(Stage::Image, Errno::IlSeq),
             "stage=image error=EILSEQ (image integrity check failed) offset=4096 hint: bad SHA-256, TLVs or length: corrupted in transit or not a signed MCUboot image; nothing was scheduled"),
            (diag(Stage::Image, Errno::NoExec),
             "stage=image error=ENOEXEC (unexpected image type) offset=4096 hint: not the type the caller expects"),
            (diag(Stage::Image, Errno::FileTooBig),
             "stage=image error=EFBIG (image larger than the slot) offset=4096 hint: it must fit the secondary slot minus MCUboot's trailer: shrink the image or enlarge the slot"),
            (diag(Stage::Image, Errno::NotSup),
             "stage=image error=ENOTSUP (not supported) offset=4096 hint: cannot install this image type here: MCUboot images need the secondary slot, modem deltas the platform's modem target, full modem images an external-flash target"),
            (diag(Stage::Image, Errno::Access),
             "stage=image error=EACCES (access denied) offset=4096 hint: the running image is unconfirmed and the secondary slot holds MCUboot's way back: call boot_write_img_confirmed() first or set CONFIG_FOTA_RS_ALLOW_UNCONFIRMED_OVERWRITE; slot untouched"),
        ];
        for (d, want) in cases {
            assert_eq!(line(&d, Form::Compact), want);
            assert_eq!(line(&d, Form::Words), want);
        }
    }

    /// Every word a rule names is in [`SAID`], and every word there is
    /// said (the words of a refused TLS handshake or TCP connect follow
    /// their first).
    #[test]
    fn the_rules_name_the_words() {
        let count = (0..)
            .find(|&i| crate::text::word(SAID, i).is_empty())
            .unwrap();
        let mut said = std::vec![false; count];
        for i in 0..=NOTHING_ACCEPTS + 2 {
            said[usize::from(i)] = true;
        }
        for [_, _, s] in RULES {
            match s.checked_sub(WORDS_FROM) {
                Some(i) => said[usize::from(i)] = true,
                None => assert!((1..=Hint::ALL.len() as u8).contains(&s)),
            }
        }
        assert!(said.iter().all(|&s| s), "{said:?}");
        assert!(!SAID.bytes().any(|b| (SLOT + 1..b' ').contains(&b)));
    }

    /// docs/ncs-integration.md lists each code with the words it stands for.
    #[test]
    fn the_documented_hint_codes_are_the_table() {
        let doc = include_str!("../docs/ncs-integration.md");
        for h in Hint::ALL {
            let (before, after) = h.words();
            let after = after.map(|a| std::format!("<host>{a}")).unwrap_or_default();
            let row = std::format!("| `hint=#{}` | {before}{after} |", h.code());
            assert!(doc.contains(&row), "missing: {row}");
        }
        assert!(!doc.contains(&std::format!("`hint=#{}`", Hint::ALL.len() + 1)));
    }

    /// `write_text` (the log record, `fota_rs_diag_text`) writes the form
    /// of the build's features.
    #[test]
    fn write_text_is_the_form_of_the_build() {
        let want = if cfg!(feature = "log-text") {
            Form::Words
        } else {
            Form::Compact
        };
        assert_eq!(FORM, want);
        let d = diag(Stage::Http, Errno::BadMsg);
        let mut text = String::new();
        d.write_text(&mut text, &url());
        assert_eq!(text, line(&d, want));
        let mut c = String::new();
        CheckError::HashMismatch.write_text(&mut c);
        let mut w = String::new();
        CheckError::HashMismatch.write_form(&mut w, want);
        assert_eq!(c, w);
    }

    /// The other failures: errno name alone, the hint as its code (and
    /// the host where the words name it).
    #[test]
    fn other_failures_are_codes() {
        let mut d = diag(Stage::Http, Errno::TimedOut);
        d.tags_tried.push(7).unwrap();
        assert_eq!(
            line(&d, Form::Compact),
            "stage=http error=ETIMEDOUT sec_tags_tried=7 offset=4096 hint=#3 host=fota.test"
        );
        assert_eq!(
            expanded(&line(&d, Form::Compact)),
            "stage=http error=ETIMEDOUT (timed out) sec_tags_tried=7 offset=4096 hint: no data from fota.test within the socket timeout: check coverage or raise the timeout"
        );
        let mut d = diag(Stage::Http, Errno::Again);
        d.note = Some(Hint::RetriesOut5xx);
        d.http_status = 503;
        assert_eq!(
            line(&d, Form::Compact),
            "stage=http error=EAGAIN http_status=503 offset=4096 hint=#16"
        );
    }

    /// A refused check: its name and numbers on the device, the sentence
    /// back on the host, for every kind of refusal.
    #[test]
    fn refused_checks_are_name_and_numbers_and_expand_to_the_sentence() {
        for c in refusals() {
            let mut d = diag(Stage::Image, c.errno());
            d.check.set(c);
            let compact = line(&d, Form::Compact);
            let words = line(&d, Form::Words);
            assert_eq!(expanded(&compact), words, "compact: {compact}");
            assert!(compact.ends_with(CHECK_HINT), "{compact}");
            let mut refusal = String::new();
            c.write_form(&mut refusal, Form::Compact);
            assert_eq!(CheckError::parse_compact(&refusal), Some(c), "{refusal}");
            assert!(
                !refusal.contains('"') && !refusal.contains(':'),
                "{refusal}"
            );
            // The `Upgrade refused` record: check and refusal, last on the line.
            let mut sentence = String::new();
            c.write_form(&mut sentence, Form::Words);
            let record = |r: &str| std::format!("Upgrade refused check={} refused={r}", c.check());
            assert_eq!(expanded(&record(&refusal)), record(&sentence));
        }
        let v = |minor| Version {
            major: 1,
            minor,
            revision: 0,
            build: 0,
        };
        let mut d = diag(Stage::Image, Errno::NoExec);
        d.check.set(CheckError::NotNewer {
            image: v(2),
            running: v(3),
        });
        assert_eq!(
            line(&d, Form::Compact),
            std::format!("stage=image error=ENOEXEC (unexpected image type) offset=4096 check=version refused=not_newer image=1.2.0+0 running=1.3.0+0{CHECK_HINT}")
        );
        let mut d = diag(Stage::Image, Errno::NoExec);
        d.check.set(refusals()[10]);
        assert_eq!(
            line(&d, Form::Compact),
            std::format!("stage=image error=ENOEXEC (unexpected image type) offset=4096 check=layout refused=linked_elsewhere linked_for=0x00020200 needed=0x00010200 primary=0x00010000 header=0x00000200 reset=0x00020a01 code=0x00010200..0x00014000{CHECK_HINT}")
        );
    }

    /// What is not a compact code stays as written: other records, unknown
    /// codes, lines already in words, a failure line inside a record.
    #[test]
    fn expand_codes_leaves_the_rest_alone() {
        for text in [
            "",
            "Downloading url=https://fota.test/app.bin",
            "stage=http error=EFOO offset=0 hint=#99",
            "stage=http error=EBADMSG (malformed or unexpected HTTP response) offset=0 hint: the server's response was malformed or unexpected",
            "terror=EIO xhint=#3",
            "not a failure line hint=#3 host=fota.test",
            "stage=http error=ETIMEDOUT (timed out) offset=0 hint=#3",
            "check=version refused=not_newer image=1.x running=2",
        ] {
            assert_eq!(expanded(text), text);
        }
        assert_eq!(
            expanded("<err> fota_rs: #12 diag=stage=flash error=EIO offset=8 hint=#7 (end)"),
            "<err> fota_rs: #12 diag=stage=flash error=EIO (flash or storage I/O error) offset=8 hint: writing the update target failed (MCUboot secondary slot, or the modem's DFU area for modem deltas): check the flash partition or the modem (end)"
        );
    }
}
