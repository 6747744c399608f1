// SPDX-License-Identifier: Apache-2.0
//! HTTP/1.1 client as a sans-IO state machine.
//!
//! The caller owns the bytes: it writes a request with [`write_request`], then
//! feeds whatever arrived to [`ResponseParser::advance`], which says how many
//! bytes it used and what they were (the head, a run of body bytes, or the end
//! of the response). Nothing here blocks or knows about sockets.

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
    pub content_range: Option<ContentRange>,
    /// Total size from `Content-Range: bytes */total` (416 responses).
    pub unsatisfied_total: Option<u64>,
    pub chunked: bool,
    /// The server will close the connection after this response.
    pub close: bool,
    /// Byte offsets of the Location value within the input given to `advance`.
    pub location: Option<(usize, usize)>,
    /// Seconds, from `Retry-After` (delta-seconds form only).
    pub retry_after: Option<u32>,
}

/// What a call to [`ResponseParser::advance`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Feed more bytes (all of `consumed` were used, if any).
    NeedMore,
    /// The response head; body events follow unless the response has none.
    Head(Head),
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
}

impl ResponseParser {
    pub const fn new() -> Self {
        ResponseParser {
            state: State::Head,
            head_request: false,
        }
    }

    /// For a response to HEAD (never has a body).
    pub const fn for_head_request() -> Self {
        ResponseParser {
            state: State::Head,
            head_request: true,
        }
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
            State::ChunkSize => {
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
                let size = parse_chunk_size(&input[..line_end])?;
                self.state = if size == 0 {
                    State::Trailers
                } else {
                    State::ChunkData { remaining: size }
                };
                Ok((line_end + 2, Event::NeedMore))
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
            State::ChunkDataEnd => {
                if input.len() < 2 {
                    return Ok((0, Event::NeedMore));
                }
                if &input[..2] != b"\r\n" {
                    return Err(Errno::BadMsg);
                }
                self.state = State::ChunkSize;
                Ok((2, Event::NeedMore))
            }
            State::Trailers => {
                let Some(line_end) = find_crlf(input) else {
                    // A line of MAX_CHUNK_LINE bytes may still wait for its "\n".
                    return if input.len() > MAX_CHUNK_LINE + 1 {
                        Err(Errno::BadMsg)
                    } else {
                        Ok((0, Event::NeedMore))
                    };
                };
                if line_end > MAX_CHUNK_LINE {
                    return Err(Errno::BadMsg);
                }
                if line_end == 0 {
                    self.state = State::Done;
                    return Ok((2, Event::End));
                }
                Ok((line_end + 2, Event::NeedMore))
            }
            State::Done => Ok((0, Event::End)),
        }
    }

    fn parse_head(&mut self, input: &[u8]) -> Result<(usize, Event), Errno> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut resp = httparse::Response::new(&mut headers);
        let n = match resp.parse(input) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => return Ok((0, Event::NeedMore)),
            Err(httparse::Error::TooManyHeaders) => return Err(Errno::TooBig),
            Err(_) => return Err(Errno::BadMsg),
        };
        let status = resp.code.ok_or(Errno::BadMsg)?;
        let mut head = Head {
            status,
            content_length: None,
            content_range: None,
            unsatisfied_total: None,
            chunked: false,
            close: resp.version == Some(0),
            location: None,
            retry_after: None,
        };
        for h in resp.headers.iter() {
            let v = h.value;
            if h.name.eq_ignore_ascii_case("content-length") {
                let len = parse_u64(trim(v)).ok_or(Errno::BadMsg)?;
                // Two different lengths means the framing cannot be trusted.
                if head.content_length.is_some_and(|l| l != len) {
                    return Err(Errno::BadMsg);
                }
                head.content_length = Some(len);
            } else if h.name.eq_ignore_ascii_case("content-range") {
                let (range, unsatisfied) = parse_content_range(trim(v))?;
                head.content_range = range;
                head.unsatisfied_total = unsatisfied;
            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                // Only chunked (as the final coding) is understood.
                let last = v.rsplit(|&b| b == b',').next().map(trim).unwrap_or(&[]);
                if last.eq_ignore_ascii_case(b"chunked") {
                    head.chunked = true;
                } else if !last.eq_ignore_ascii_case(b"identity") {
                    return Err(Errno::NotSup);
                }
            } else if h.name.eq_ignore_ascii_case("connection") {
                for token in v.split(|&b| b == b',') {
                    let t = trim(token);
                    if t.eq_ignore_ascii_case(b"close") {
                        head.close = true;
                    } else if t.eq_ignore_ascii_case(b"keep-alive") {
                        head.close = false;
                    }
                }
            } else if h.name.eq_ignore_ascii_case("location") {
                let start = offset_in(input, v).ok_or(Errno::Fault)?;
                let t = trim(v);
                let lead = t.as_ptr() as usize - v.as_ptr() as usize;
                head.location = Some((start + lead, start + lead + t.len()));
            } else if h.name.eq_ignore_ascii_case("retry-after") {
                head.retry_after = parse_u64(trim(v)).map(|s| s.min(u64::from(u32::MAX)) as u32);
            }
        }
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
        Ok((n, Event::Head(head)))
    }
}

impl Default for ResponseParser {
    fn default() -> Self {
        Self::new()
    }
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
    if v.is_empty() || v.len() > 19 {
        return None;
    }
    let mut n: u64 = 0;
    for &b in v {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(n)
}

fn parse_chunk_size(line: &[u8]) -> Result<u64, Errno> {
    let size = match line.iter().position(|&b| b == b';') {
        Some(i) => &line[..i],
        None => line,
    };
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

/// `bytes first-last/total`, `bytes first-last/*`, or `bytes */total`.
fn parse_content_range(v: &[u8]) -> Result<(Option<ContentRange>, Option<u64>), Errno> {
    let rest = v
        .strip_prefix(b"bytes ")
        .or_else(|| v.strip_prefix(b"bytes="))
        .ok_or(Errno::BadMsg)?;
    let slash = rest.iter().position(|&b| b == b'/').ok_or(Errno::BadMsg)?;
    let (range, total) = (&rest[..slash], &rest[slash + 1..]);
    let total = if total == b"*" {
        None
    } else {
        Some(parse_u64(total).ok_or(Errno::BadMsg)?)
    };
    if range == b"*" {
        return Ok((None, total));
    }
    let dash = range.iter().position(|&b| b == b'-').ok_or(Errno::BadMsg)?;
    let first = parse_u64(&range[..dash]).ok_or(Errno::BadMsg)?;
    let last = parse_u64(&range[dash + 1..]).ok_or(Errno::BadMsg)?;
    if last < first || total.is_some_and(|t| last >= t) {
        return Err(Errno::BadMsg);
    }
    Ok((Some(ContentRange { first, last, total }), None))
}

/// Requested byte range: `first..=last`, or `first..` when `last` is `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    pub first: u64,
    pub last: Option<u64>,
}

/// Write a GET request. Only what the server needs: the request line, Host,
/// and Range when asked (HTTP/1.1 is keep-alive by default).
pub fn write_request(w: &mut dyn Out, url: &Url, range: Option<Range>) {
    w.text("GET ").text(&url.path).text(" HTTP/1.1\r\nHost: ");
    url.write_authority(w);
    w.put("\r\n");
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
                Event::Head(h) => head = Some(h),
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
        let Event::Head(h) = ev else { panic!() };
        let (s, e) = h.location.unwrap();
        assert_eq!(&msg[s..e], b"/next?a=b");
        assert!(p.is_done());
    }

    #[test]
    fn content_range_forms() {
        assert_eq!(
            parse_content_range(b"bytes 0-9/10")
                .unwrap()
                .0
                .unwrap()
                .total,
            Some(10)
        );
        assert_eq!(
            parse_content_range(b"bytes */1234").unwrap(),
            (None, Some(1234))
        );
        assert_eq!(
            parse_content_range(b"bytes 5-9/*")
                .unwrap()
                .0
                .unwrap()
                .total,
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
