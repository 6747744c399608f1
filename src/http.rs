// SPDX-License-Identifier: Apache-2.0
//! HTTP/1.1 client as a sans-IO state machine.
//!
//! The caller owns the bytes: it writes a request with [`write_request`], then
//! feeds whatever arrived to [`ResponseParser::advance`], which says how many
//! bytes it used and what they were (the head, a run of body bytes, or the end
//! of the response). Nothing here blocks or knows about sockets.

use crate::bytes::eq_lower;
use crate::error::Errno;
use crate::text::Out;
use crate::url::Url;

/// Most header lines we look at in one head. S3 sends about a dozen.
const MAX_HEADERS: usize = 32;
/// Longest chunk-size line (size, extensions) we accept.
const MAX_CHUNK_LINE: usize = 256;

/// Byte range of a 206 response (`Content-Range: bytes first-last/total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContentRange {
    pub first: u64,
    pub last: u64,
    /// `None` for `/*`.
    pub total: Option<u64>,
}

/// What the engine needs from a response head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    pub content_length: Option<u64>,
    /// `None` also for `bytes */total` (416 responses): that size is checked
    /// but not kept, the engine has no use for it.
    pub content_range: Option<ContentRange>,
    pub chunked: bool,
    /// The server will close the connection after this response.
    pub close: bool,
    /// Byte offsets of the Location value within the input given to `advance`.
    pub location: Option<(usize, usize)>,
    /// Seconds, from `Retry-After` (delta-seconds form only).
    pub retry_after: Option<u32>,
}

impl Head {
    /// Before any head: what each field is when the response does not send it.
    const NONE: Head = Head {
        status: 0,
        content_length: None,
        content_range: None,
        chunked: false,
        close: false,
        location: None,
        retry_after: None,
    };
}

/// What a call to [`ResponseParser::advance`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Feed more bytes (all of `consumed` were used, if any).
    NeedMore,
    /// The response head, now in [`ResponseParser::head`] (kept there, not
    /// moved through each event); body events follow unless the response
    /// has none.
    Head,
    /// Body bytes at `input[start..end]`.
    Body { start: usize, end: usize },
    /// The response is complete; bytes after `consumed` belong to the next one.
    End,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Head,
    Length { remaining: u64 },
    UntilClose,
    ChunkSize,
    ChunkData { remaining: u64 },
    ChunkDataEnd,
    Trailers,
    Done,
}

/// Parser for one response.
#[derive(Clone, Copy, Debug)]
pub struct ResponseParser {
    state: State,
    head_request: bool,
    head: Head,
}

impl ResponseParser {
    pub const fn new() -> Self {
        ResponseParser {
            state: State::Head,
            head_request: false,
            head: Head::NONE,
        }
    }

    /// For a response to HEAD (never has a body).
    pub const fn for_head_request() -> Self {
        ResponseParser {
            state: State::Head,
            head_request: true,
            head: Head::NONE,
        }
    }

    /// The head of the response, once [`Event::Head`] was returned.
    pub fn head(&self) -> &Head {
        &self.head
    }

    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// True while the body runs until the peer closes (no length, not chunked).
    pub fn until_close(&self) -> bool {
        self.state == State::UntilClose
    }

    /// The peer closed the connection: fine only for a body delimited by close.
    pub fn eof(&mut self) -> Result<(), Errno> {
        match self.state {
            State::UntilClose | State::Done => {
                self.state = State::Done;
                Ok(())
            }
            _ => Err(Errno::ConnReset),
        }
    }

    /// Use bytes from `input`. Returns `(consumed, event)`; the caller drops
    /// `consumed` bytes from its buffer after acting on the event (body ranges
    /// and the Location offsets point into `input`).
    // Inlined in its one caller on the device (the engine's `exchange`):
    // its `(usize, Event)` result no longer goes through memory.
    #[inline(always)]
    pub fn advance(&mut self, input: &[u8]) -> Result<(usize, Event), Errno> {
        match self.state {
            State::Head => self.parse_head(input),
            State::Length { remaining } => {
                if input.is_empty() {
                    return Ok((0, Event::NeedMore));
                }
                let n = clamp(input.len(), remaining);
                let left = remaining - n as u64;
                self.state = if left == 0 {
                    State::Done
                } else {
                    State::Length { remaining: left }
                };
                Ok((n, Event::Body { start: 0, end: n }))
            }
            State::UntilClose => {
                if input.is_empty() {
                    return Ok((0, Event::NeedMore));
                }
                Ok((
                    input.len(),
                    Event::Body {
                        start: 0,
                        end: input.len(),
                    },
                ))
            }
            State::ChunkData { remaining } => {
                if input.is_empty() {
                    return Ok((0, Event::NeedMore));
                }
                let n = clamp(input.len(), remaining);
                let left = remaining - n as u64;
                self.state = if left == 0 {
                    State::ChunkDataEnd
                } else {
                    State::ChunkData { remaining: left }
                };
                Ok((n, Event::Body { start: 0, end: n }))
            }
            State::ChunkDataEnd => match input {
                [b'\r', b'\n', ..] => {
                    self.state = State::ChunkSize;
                    Ok((2, Event::NeedMore))
                }
                [] | [_] => Ok((0, Event::NeedMore)),
                _ => Err(Errno::BadMsg),
            },
            // Both line states: a chunk-size line or a trailer line.
            State::ChunkSize | State::Trailers => {
                let Some(line_end) = find_crlf(input) else {
                    // A line of MAX_CHUNK_LINE bytes may still wait for its "\n".
                    return if input.len() > MAX_CHUNK_LINE + 1 {
                        Err(Errno::BadMsg)
                    } else {
                        Ok((0, Event::NeedMore))
                    };
                };
                // The limit holds however the bytes were split.
                if line_end > MAX_CHUNK_LINE {
                    return Err(Errno::BadMsg);
                }
                if self.state == State::ChunkSize {
                    let size = parse_chunk_size(split_at(input, line_end).0)?;
                    self.state = if size == 0 {
                        State::Trailers
                    } else {
                        State::ChunkData { remaining: size }
                    };
                } else if line_end == 0 {
                    // The blank line after the trailers.
                    self.state = State::Done;
                    return Ok((2, Event::End));
                }
                Ok((line_end + 2, Event::NeedMore))
            }
            State::Done => Ok((0, Event::End)),
        }
    }

    // Inlined in its one caller, `advance` (itself inlined on the device):
    // its result no longer goes through memory.
    #[inline(always)]
    fn parse_head(&mut self, input: &[u8]) -> Result<(usize, Event), Errno> {
        // Each try starts afresh (an interim 1xx head was read before).
        self.head = Head::NONE;
        let head = &mut self.head;
        // The fields are read as the syntax check meets them, but a syntax
        // error anywhere in the head (or a head not complete yet) wins over
        // what they mean: the first meaning error is kept for the end.
        let mut meaning = Ok(());
        let mut close = None;
        let raw = scan_head(input, |name, v| {
            if meaning.is_ok() {
                meaning = read_field(head, &mut close, input, name, v);
            }
        })?;
        let Some(raw) = raw else {
            return Ok((0, Event::NeedMore));
        };
        meaning?;
        let (n, status) = (raw.len, raw.status);
        head.status = status;
        // Connection tokens decide; without them HTTP/1.0 closes.
        head.close = close.unwrap_or(raw.minor == 0);
        if (100..200).contains(&status) {
            // Interim response (100 Continue): the real head follows.
            return Ok((n, Event::NeedMore));
        }
        let no_body = self.head_request || status == 204 || status == 304;
        self.state = if no_body {
            State::Done
        } else if head.chunked {
            State::ChunkSize
        } else if let Some(len) = head.content_length {
            if len == 0 {
                State::Done
            } else {
                State::Length { remaining: len }
            }
        } else {
            head.close = true;
            State::UntilClose
        };
        Ok((n, Event::Head))
    }
}

/// What one field of a head means for `head`: `close` gets the last
/// Connection token that decides, `input` is the whole input (for the
/// Location offsets). Field values come without surrounding whitespace.
fn read_field(
    head: &mut Head,
    close: &mut Option<bool>,
    input: &[u8],
    name: &[u8],
    v: &[u8],
) -> Result<(), Errno> {
    if eq_lower(name, b"content-length") {
        let len = parse_u64(v).ok_or(Errno::BadMsg)?;
        // Two different lengths means the framing cannot be trusted.
        if head.content_length.is_some_and(|l| l != len) {
            return Err(Errno::BadMsg);
        }
        head.content_length = Some(len);
    } else if eq_lower(name, b"content-range") {
        head.content_range = parse_content_range(v)?;
    } else if eq_lower(name, b"transfer-encoding") {
        // Only chunked (as the final coding) is understood.
        let last = v.rsplit(|&b| b == b',').next().map(trim).unwrap_or(&[]);
        if eq_lower(last, b"chunked") {
            head.chunked = true;
        } else if !eq_lower(last, b"identity") {
            return Err(Errno::NotSup);
        }
    } else if eq_lower(name, b"connection") {
        for token in v.split(|&b| b == b',') {
            let t = trim(token);
            if eq_lower(t, b"close") {
                *close = Some(true);
            } else if eq_lower(t, b"keep-alive") {
                *close = Some(false);
            }
        }
    } else if eq_lower(name, b"location") {
        let start = offset_in(input, v).ok_or(Errno::Fault)?;
        head.location = Some((start, start + v.len()));
    } else if eq_lower(name, b"retry-after") {
        head.retry_after = parse_u64(v).map(|s| s.min(u64::from(u32::MAX)) as u32);
    }
    Ok(())
}

impl Default for ResponseParser {
    fn default() -> Self {
        Self::new()
    }
}

/// A response head whose syntax has been checked ([`scan_head`]); what the
/// fields mean is [`ResponseParser`]'s business.
///
/// Public (hidden) for the differential fuzz target, which holds it against
/// httparse.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct RawHead {
    /// Bytes of the head, blank line included (any empty lines before the
    /// status line too).
    pub len: usize,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor: u8,
    pub status: u16,
}

/// Check the syntax of the response head at the start of `input` (RFC 9112,
/// accepting what httparse accepts with its default configuration, so that
/// replacing it changed nothing on the wire):
///
/// - empty lines before the status line are skipped;
/// - status line `HTTP/1.0|1.1 SP 3DIGIT [SP reason]`, the reason HTAB, SP,
///   VCHAR or obs-text;
/// - field lines `token ":" OWS value OWS`, the value HTAB, SP, VCHAR or
///   obs-text; no obs-fold (a line starting with SP or HTAB), no space
///   between name and colon;
/// - lines end in CRLF or a bare LF (a bare CR is an error);
/// - at most `MAX_HEADERS` field lines.
///
/// `field` gets `(name, value)` of each field line in order as the check
/// meets it, the value without surrounding whitespace; the lines after it
/// may still be incomplete or malformed.
///
/// `Ok(None)`: the bytes so far are a valid start of a head; errors are found
/// as soon as the offending byte arrives, not only once the head is complete.
/// `Err(TooBig)` for too many field lines, `Err(BadMsg)` for anything else.
///
/// Written with slice patterns and `get` so that no bounds check (and no
/// panic path) is left on the device.
#[doc(hidden)]
// Inlined into its one caller on the device, `parse_head`: 32 bytes less
// than a call, whose result and field reader go through memory.
#[inline(always)]
pub fn scan_head<'a>(
    input: &'a [u8],
    mut field: impl FnMut(&'a [u8], &'a [u8]),
) -> Result<Option<RawHead>, Errno> {
    let mut s = input;
    // RFC 9112 section 2.2: a client should ignore empty lines received
    // before the status line (such as the CRLF after a previous body).
    while let [b'\r' | b'\n', ..] = s {
        let Some(rest) = line_end(s)? else {
            return Ok(None);
        };
        s = rest;
    }
    // `HTTP/1.0` or `HTTP/1.1`, then a space; any prefix of it is
    // incomplete.
    let (prefix, s) = split_at(s, 7);
    if !b"HTTP/1.".starts_with(prefix) {
        return Err(Errno::BadMsg);
    }
    let (minor, s) = match s {
        [m @ (b'0' | b'1'), b' ', rest @ ..] => (m - b'0', rest),
        [] | [b'0' | b'1'] => return Ok(None),
        _ => return Err(Errno::BadMsg),
    };
    let (code, s) = split_at(s, 3);
    // Fewer than 3 digits leaves `s` empty: incomplete, found below.
    let mut status = 0u16;
    for &d in code {
        if !d.is_ascii_digit() {
            return Err(Errno::BadMsg);
        }
        status = status * 10 + u16::from(d - b'0');
    }
    // The reason phrase is optional (RFC 9112 section 4), and unused.
    let s = match s {
        [b' ', rest @ ..] => split_while(rest, is_text).1,
        _ => s,
    };
    let Some(mut s) = line_end(s)? else {
        return Ok(None);
    };
    let mut count = 0;
    // Field lines up to the blank line.
    while !matches!(s, [b'\r' | b'\n', ..]) {
        let (name, rest) = split_while(s, is_tchar);
        let rest = match rest {
            [] => return Ok(None),
            [b':', rest @ ..] if !name.is_empty() => rest,
            // Also obs-fold and leading whitespace: an empty name.
            _ => return Err(Errno::BadMsg),
        };
        let (value, rest) = split_while(rest, is_text);
        let Some(rest) = line_end(rest)? else {
            return Ok(None);
        };
        if count == MAX_HEADERS {
            return Err(Errno::TooBig);
        }
        count += 1;
        field(name, trim(value));
        s = rest;
    }
    let Some(rest) = line_end(s)? else {
        return Ok(None);
    };
    Ok(Some(RawHead {
        len: input.len() - rest.len(),
        minor,
        status,
    }))
}

/// The bytes after the line end at the start of `s` (CRLF or LF); `Ok(None)`
/// when `s` ends first, an error for anything else.
fn line_end(s: &[u8]) -> Result<Option<&[u8]>, Errno> {
    match s {
        [b'\n', rest @ ..] | [b'\r', b'\n', rest @ ..] => Ok(Some(rest)),
        [] | [b'\r'] => Ok(None),
        _ => Err(Errno::BadMsg),
    }
}

/// tchar of RFC 9110 section 5.6.2: the bytes of a field name.
fn is_tchar(b: u8) -> bool {
    TCHAR
        .get(usize::from(b >> 3))
        .is_some_and(|bits| bits >> (b & 7) & 1 != 0)
}

/// [`is_tchar`] as one bit per ASCII byte: a look-up, not a search of the
/// 15 symbols for each byte of each name.
const TCHAR: [u8; 16] = {
    let mut bits = [0u8; 16];
    let mut b = 0u8;
    while b < 128 {
        let symbol = matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        );
        if b.is_ascii_alphanumeric() || symbol {
            bits[(b >> 3) as usize] |= 1 << (b & 7);
        }
        b += 1;
    }
    bits
};

/// HTAB, SP, VCHAR or obs-text: the bytes of a field value or reason phrase.
fn is_text(b: u8) -> bool {
    b == b'\t' || (b >= b' ' && b != 0x7f)
}

/// `s.split_at(n)` without its panic path: `(s, [])` when `n` is past the end.
fn split_at(s: &[u8], n: usize) -> (&[u8], &[u8]) {
    match (s.get(..n), s.get(n..)) {
        (Some(a), Some(b)) => (a, b),
        _ => (s, &[]),
    }
}

/// The longest prefix of `s` whose bytes satisfy `f`, and the rest.
fn split_while(s: &[u8], f: impl Fn(u8) -> bool) -> (&[u8], &[u8]) {
    split_at(s, s.iter().position(|&b| !f(b)).unwrap_or(s.len()))
}

/// The bytes before and after the first `sep`.
fn split_once(s: &[u8], sep: u8) -> Option<(&[u8], &[u8])> {
    let i = s.iter().position(|&b| b == sep)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

fn clamp(avail: usize, remaining: u64) -> usize {
    if (avail as u64) < remaining {
        avail
    } else {
        remaining as usize
    }
}

fn find_crlf(b: &[u8]) -> Option<usize> {
    b.windows(2).position(|w| w == b"\r\n")
}

fn trim(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

fn offset_in(outer: &[u8], inner: &[u8]) -> Option<usize> {
    let o = outer.as_ptr() as usize;
    let i = inner.as_ptr() as usize;
    if i >= o && i + inner.len() <= o + outer.len() {
        Some(i - o)
    } else {
        None
    }
}

/// Decimal digits only, no sign, no overflow.
pub fn parse_u64(v: &[u8]) -> Option<u64> {
    // 19 digits are below 10^19 < u64::MAX: no step can overflow, so no
    // checked 64-bit multiply.
    if v.is_empty() || v.len() > 19 {
        return None;
    }
    let mut n: u64 = 0;
    for &b in v {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u64::from(b - b'0');
    }
    Some(n)
}

// Inlined in its one caller, `advance` (itself inlined on the device): its
// `Result<u64, _>` no longer goes through memory.
#[inline(always)]
fn parse_chunk_size(line: &[u8]) -> Result<u64, Errno> {
    let size = split_once(line, b';').map_or(line, |(size, _)| size);
    let size = trim(size);
    // 15 hex digits keeps the value far from overflow on any device integer.
    if size.is_empty() || size.len() > 15 {
        return Err(Errno::BadMsg);
    }
    let mut n: u64 = 0;
    for &b in size {
        let d = (b as char).to_digit(16).ok_or(Errno::BadMsg)?;
        n = (n << 4) | u64::from(d);
    }
    Ok(n)
}

/// `bytes first-last/total`, `bytes first-last/*`, or `bytes */total`
/// (`None`).
fn parse_content_range(v: &[u8]) -> Result<Option<ContentRange>, Errno> {
    let rest = v
        .strip_prefix(b"bytes ")
        .or_else(|| v.strip_prefix(b"bytes="))
        .ok_or(Errno::BadMsg)?;
    let (range, total) = split_once(rest, b'/').ok_or(Errno::BadMsg)?;
    let total = if total == b"*" {
        None
    } else {
        Some(parse_u64(total).ok_or(Errno::BadMsg)?)
    };
    if range == b"*" {
        return Ok(None);
    }
    let (first, last) = split_once(range, b'-').ok_or(Errno::BadMsg)?;
    let first = parse_u64(first).ok_or(Errno::BadMsg)?;
    let last = parse_u64(last).ok_or(Errno::BadMsg)?;
    if last < first || total.is_some_and(|t| last >= t) {
        return Err(Errno::BadMsg);
    }
    Ok(Some(ContentRange { first, last, total }))
}

/// Requested byte range: `first..=last`, or `first..` when `last` is `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    /// 32 bits, as the engine's offsets (and a range is compared with the
    /// answer's 64-bit numbers widened, never narrowed).
    pub first: u32,
    pub last: Option<u32>,
}

/// Write a GET request. Only what the server needs: the request line, Host,
/// and Range when asked (HTTP/1.1 is keep-alive by default).
pub fn write_request(w: &mut dyn Out, url: &Url, range: Option<Range>) {
    write_request_start(w, url);
    write_request_end(w, range);
}

/// The part of a request that does not depend on the range: the request
/// line and Host. A server reads no request until [`write_request_end`]
/// completes it.
pub fn write_request_start(w: &mut dyn Out, url: &Url) {
    w.text("GET ").text(&url.path).text(" HTTP/1.1\r\nHost: ");
    url.write_authority(w);
    w.put("\r\n");
}

/// Range when asked, and the blank line that ends the request.
// Inlined in its one caller on the device (the engine's `fill_pipeline`):
// the `Option<Range>` no longer goes through memory (66 bytes less).
#[inline(always)]
pub fn write_request_end(w: &mut dyn Out, range: Option<Range>) {
    if let Some(r) = range {
        w.text("Range: bytes=").dec(r.first).text("-");
        if let Some(last) = r.last {
            w.dec(last);
        }
        w.put("\r\n");
    }
    w.put("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::String;
    use std::vec::Vec;

    /// Feed `input` in pieces of `step` bytes, collecting head and body.
    fn run(input: &[u8], step: usize) -> Result<(Head, Vec<u8>, usize), Errno> {
        let mut p = ResponseParser::new();
        let mut buf: Vec<u8> = Vec::new();
        let mut fed = 0;
        let mut head = None;
        let mut body = Vec::new();
        loop {
            let (n, ev) = p.advance(&buf)?;
            match ev {
                Event::Head => head = Some(*p.head()),
                Event::Body { start, end } => body.extend_from_slice(&buf[start..end]),
                Event::End => {
                    buf.drain(..n);
                    return Ok((head.unwrap(), body, buf.len() + input.len() - fed));
                }
                Event::NeedMore => {
                    if n == 0 {
                        if fed == input.len() {
                            p.eof()?;
                            return Ok((head.unwrap(), body, 0));
                        }
                        let m = step.min(input.len() - fed);
                        buf.extend_from_slice(&input[fed..fed + m]);
                        fed += m;
                    }
                }
            }
            buf.drain(..n);
            if p.is_done() && !matches!(ev, Event::End) {
                // next advance reports End
            }
        }
    }

    #[test]
    fn content_length_any_split() {
        let msg = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\nhelloHTTP/1.1";
        for step in 1..msg.len() {
            let (h, body, left) = run(msg, step).unwrap();
            assert_eq!(h.status, 200);
            assert_eq!(h.content_length, Some(5));
            assert!(!h.close);
            assert_eq!(body, b"hello");
            assert_eq!(left, 8, "step {step}");
        }
    }

    #[test]
    fn chunked_with_extensions_and_trailers() {
        let msg = b"HTTP/1.1 206 Partial Content\r\nTransfer-Encoding: chunked\r\nContent-Range: bytes 10-16/100\r\n\r\n3;ext=1\r\nabc\r\n4\r\ndefg\r\n0\r\nX-T: 1\r\n\r\n";
        for step in 1..msg.len() {
            let (h, body, left) = run(msg, step).unwrap();
            assert!(h.chunked);
            assert_eq!(
                h.content_range,
                Some(ContentRange {
                    first: 10,
                    last: 16,
                    total: Some(100)
                })
            );
            assert_eq!(body, b"abcdefg");
            assert_eq!(left, 0);
        }
    }

    #[test]
    fn chunk_line_limit_does_not_depend_on_the_split() {
        let ext = "x".repeat(300);
        let msg = std::format!(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;{ext}\r\nabc\r\n0\r\n\r\n"
        );
        for step in [1, 7, msg.len()] {
            assert_eq!(
                run(msg.as_bytes(), step).unwrap_err(),
                Errno::BadMsg,
                "step {step}"
            );
        }
        let msg = std::format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX: {ext}\r\n\r\n");
        for step in [1, 7, msg.len()] {
            assert_eq!(
                run(msg.as_bytes(), step).unwrap_err(),
                Errno::BadMsg,
                "step {step}"
            );
        }
    }

    #[test]
    fn chunk_line_of_exactly_the_limit_is_fine_in_any_split() {
        let ext = "x".repeat(MAX_CHUNK_LINE - 2);
        let msg = std::format!(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;{ext}\r\nabc\r\n0\r\n\r\n"
        );
        for step in [1, 7, msg.len()] {
            assert_eq!(run(msg.as_bytes(), step).unwrap().1, b"abc", "step {step}");
        }
    }

    #[test]
    fn chunk_size_overflow_and_garbage() {
        let msg = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n";
        assert_eq!(run(msg, 7).unwrap_err(), Errno::BadMsg);
        let msg = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
        assert_eq!(run(msg, 7).unwrap_err(), Errno::BadMsg);
        let msg = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n";
        assert_eq!(run(msg, 7).unwrap_err(), Errno::BadMsg);
    }

    #[test]
    fn truncated_bodies_are_resets() {
        let msg = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
        assert_eq!(run(msg, 4).unwrap_err(), Errno::ConnReset);
        let msg = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab";
        assert_eq!(run(msg, 4).unwrap_err(), Errno::ConnReset);
    }

    #[test]
    fn until_close_and_connection_close() {
        let msg = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nabcdef";
        let (h, body, _) = run(msg, 3).unwrap();
        assert!(h.close);
        assert_eq!(body, b"abcdef");
    }

    #[test]
    fn redirect_location_offsets() {
        let msg = b"HTTP/1.1 302 Found\r\nLocation:  /next?a=b \r\nContent-Length: 0\r\n\r\n";
        let mut p = ResponseParser::new();
        let (_, ev) = p.advance(msg).unwrap();
        assert_eq!(ev, Event::Head);
        let (s, e) = p.head().location.unwrap();
        assert_eq!(&msg[s..e], b"/next?a=b");
        assert!(p.is_done());
    }

    #[test]
    fn content_range_forms() {
        assert_eq!(
            parse_content_range(b"bytes 0-9/10").unwrap().unwrap().total,
            Some(10)
        );
        assert_eq!(parse_content_range(b"bytes */1234"), Ok(None));
        assert!(parse_content_range(b"bytes */12x4").is_err());
        assert_eq!(
            parse_content_range(b"bytes 5-9/*").unwrap().unwrap().total,
            None
        );
        assert!(parse_content_range(b"bytes 9-5/10").is_err());
        assert!(parse_content_range(b"bytes 0-10/10").is_err());
        assert!(parse_content_range(b"items 0-1/2").is_err());
    }

    #[test]
    fn conflicting_lengths_and_bad_heads() {
        let msg = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n";
        assert_eq!(
            ResponseParser::new().advance(msg).unwrap_err(),
            Errno::BadMsg
        );
        let msg = b"HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n";
        assert_eq!(
            ResponseParser::new().advance(msg).unwrap_err(),
            Errno::BadMsg
        );
        let msg = b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n";
        assert_eq!(
            ResponseParser::new().advance(msg).unwrap_err(),
            Errno::BadMsg
        );
    }

    #[test]
    fn interim_100_is_skipped() {
        let msg = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        let (h, body, _) = run(msg, 5).unwrap();
        assert_eq!(h.status, 200);
        assert_eq!(body, b"ok");
    }

    /// What a head parser made of some bytes, for comparing two of them.
    #[derive(Debug, PartialEq)]
    enum Verdict {
        Partial,
        Bad(Errno),
        Head {
            len: usize,
            minor: u8,
            status: u16,
            fields: Vec<(Vec<u8>, Vec<u8>)>,
        },
    }

    fn ours(input: &[u8]) -> Verdict {
        let mut fields = Vec::new();
        match scan_head(input, |n, v| fields.push((n.to_vec(), v.to_vec()))) {
            Ok(None) => Verdict::Partial,
            Err(e) => Verdict::Bad(e),
            Ok(Some(raw)) => Verdict::Head {
                len: raw.len,
                minor: raw.minor,
                status: raw.status,
                fields,
            },
        }
    }

    /// httparse as the engine used it before it had its own parser.
    fn reference(input: &[u8]) -> Verdict {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut resp = httparse::Response::new(&mut headers);
        match resp.parse(input) {
            Ok(httparse::Status::Partial) => Verdict::Partial,
            Err(httparse::Error::TooManyHeaders) => Verdict::Bad(Errno::TooBig),
            Err(_) => Verdict::Bad(Errno::BadMsg),
            Ok(httparse::Status::Complete(len)) => Verdict::Head {
                len,
                minor: resp.version.unwrap(),
                status: resp.code.unwrap(),
                fields: resp
                    .headers
                    .iter()
                    .map(|h| (h.name.as_bytes().to_vec(), h.value.to_vec()))
                    .collect(),
            },
        }
    }

    /// Both parsers on every prefix of `input` (the head arriving cut at any
    /// byte).
    fn same_on_every_prefix(input: &[u8]) {
        for k in 0..=input.len() {
            let part = &input[..k];
            assert_eq!(
                ours(part),
                reference(part),
                "{:?}",
                String::from_utf8_lossy(part)
            );
        }
    }

    fn many_fields(n: usize, last: &str) -> Vec<u8> {
        let mut s = String::from("HTTP/1.1 200 OK\r\n");
        for i in 0..n {
            s += &std::format!("H{i}: {i}\r\n");
        }
        s += last;
        s += "\r\n";
        s.into_bytes()
    }

    #[test]
    fn head_parser_agrees_with_httparse() {
        let heads: &[&[u8]] = &[
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\nhello",
            b"HTTP/1.0 404 Not Found\nServer: x\n\nbody",
            b"\r\n\nHTTP/1.1 204\r\n\r\n",
            b"HTTP/1.1 204\n\n",
            b"HTTP/1.1 302 \r\nLocation:  /a b \t\r\nEmpty:\r\nE2: \t \r\n\r\n",
            b"HTTP/1.1 200 \xe9t\xe9\tok\r\nX: v\xff\x80 \t\r\n\r\n",
            b"HTTP/1.1 200 OK\r\n!#$%&'*+-.^_`|~09azAZ: v\r\n\r\n",
            b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/10\r\nA:b\r\n\r\n",
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
            // Malformed.
            b"HTTP/1.2 200 OK\r\n\r\n",
            b"HTTP/2 200\r\n\r\n",
            b"http/1.1 200 OK\r\n\r\n",
            b" HTTP/1.1 200 OK\r\n\r\n",
            b"\rHTTP/1.1 200 OK\r\n\r\n",
            b"HTTP/1.1  200 OK\r\n\r\n",
            b"HTTP/1.1\t200 OK\r\n\r\n",
            b"HTTP/1.1 20 OK\r\n\r\n",
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"HTTP/1.1 2x0 OK\r\n\r\n",
            b"HTTP/1.1 200\tOK\r\n\r\n",
            b"HTTP/1.1 200 O\x01K\r\n\r\n",
            b"HTTP/1.1 200 OK\x7f\r\n\r\n",
            b"HTTP/1.1 200 OK\rX: y\r\n\r\n",
            b"HTTP/1.1 200 OK\r\n Folded: x\r\n\r\n",
            b"HTTP/1.1 200 OK\r\n\tFolded: x\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA : b\r\n\r\n",
            b"HTTP/1.1 200 OK\r\n: b\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA(b): c\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA\x00: b\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA: b\x7f\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA: \x00\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nA:\x0b\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n",
            b"HTTP/1.1 200 OK\r\n\r\r\n",
        ];
        for head in heads {
            same_on_every_prefix(head);
        }
        // Each byte replaced by one that matters to the grammar, or dropped.
        let swaps = b"\0\t\n\r :(/\x7f\x80\xffA0";
        for head in heads {
            for i in 0..head.len() {
                for &b in swaps {
                    let mut m = head.to_vec();
                    m[i] = b;
                    same_on_every_prefix(&m);
                }
                let mut m = head.to_vec();
                m.remove(i);
                same_on_every_prefix(&m);
            }
        }
        // Every byte value in the name, the value, the reason and the code.
        for b in 0..=255u8 {
            let b = char::from(b);
            for head in [
                std::format!("HTTP/1.1 200 OK\r\nA{b}z: v\r\n\r\n"),
                std::format!("HTTP/1.1 200 OK\r\nA: {b}v{b}\r\n\r\n"),
                std::format!("HTTP/1.1 200 {b}O{b}\r\n\r\n"),
                std::format!("HTTP/1.1 2{b}0 OK\r\n\r\n"),
            ] {
                // As Latin-1: one byte per char.
                let head: Vec<u8> = head.chars().map(|c| c as u8).collect();
                same_on_every_prefix(&head);
            }
        }
        // The field limit: MAX_HEADERS fit, one more is TooBig once its line
        // is complete, a broken line after the limit is still BadMsg.
        for (n, last, want) in [
            (MAX_HEADERS, "", None),
            (MAX_HEADERS, "X: y\r\n", Some(Errno::TooBig)),
            (MAX_HEADERS, "X y\r\n", Some(Errno::BadMsg)),
        ] {
            let head = many_fields(n, last);
            same_on_every_prefix(&head);
            assert_eq!(ResponseParser::new().advance(&head).err(), want);
        }
    }

    #[test]
    fn head_syntax_through_the_parser() {
        // Bare LF line ends, empty lines first, no reason phrase.
        let msg = b"\r\n\nHTTP/1.0 200\nContent-Length: 2\n\nok";
        let (h, body, _) = run(msg, 3).unwrap();
        assert_eq!(
            (h.status, h.close, body.as_slice()),
            (200, true, &b"ok"[..])
        );
        // Errors show as soon as the offending byte is there.
        for msg in [
            &b"HTTP/1.1 200 OK\r\nA: b\r\n c"[..],
            b"HTTP/1.1 200 OK\r\nA: b\rc",
            b"HTTP/1.1 200 OK\r\nA b",
            b"HTTP/1.1 200 OK\x01",
            b"HTTP/1.3",
        ] {
            assert_eq!(
                ResponseParser::new().advance(msg).unwrap_err(),
                Errno::BadMsg,
                "{:?}",
                String::from_utf8_lossy(msg)
            );
        }
        assert_eq!(
            ResponseParser::new().advance(b"HTTP/1.1 200 OK\r\nA: b\r\n"),
            Ok((0, Event::NeedMore))
        );
    }

    #[test]
    fn request_bytes() {
        let url = Url::parse("https://s3.test:8443/a/b?x=1", Default::default()).unwrap();
        let mut s = String::new();
        write_request(
            &mut s,
            &url,
            Some(Range {
                first: 2048,
                last: Some(4095),
            }),
        );
        assert_eq!(
            s,
            "GET /a/b?x=1 HTTP/1.1\r\nHost: s3.test:8443\r\nRange: bytes=2048-4095\r\n\r\n"
        );
        let url = Url::parse("http://h/f", Default::default()).unwrap();
        let mut s = String::new();
        write_request(&mut s, &url, None);
        assert_eq!(s, "GET /f HTTP/1.1\r\nHost: h\r\n\r\n");
    }
}
