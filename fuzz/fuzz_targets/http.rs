// SPDX-License-Identifier: Apache-2.0
//! HTTP response parser fed arbitrary bytes in arbitrary splits, through a
//! 2 KiB receive buffer as the engine uses it. No panic, no loop without
//! progress, every offset it returns lies inside the input, and the result
//! (heads, body bytes, how it ended) does not depend on how the bytes were
//! split. The head parser also agrees with httparse (which it replaced) on
//! the stream and on each piece it arrives in: complete (the same length,
//! version, status and fields), incomplete, or rejected.
#![no_main]

use fota_rs::http::{scan_head, Event, ResponseParser};
use fota_rs::Errno;
use fota_rs_fuzz::Input;
use libfuzzer_sys::fuzz_target;

const RX: usize = 2048;

/// status, Content-Length, chunked, close, Location bytes, Retry-After.
type HeadSummary = (u16, Option<u64>, bool, bool, Option<Vec<u8>>, Option<u32>);

#[derive(Debug, PartialEq)]
struct Outcome {
    heads: Vec<HeadSummary>,
    body: Vec<u8>,
    end: Result<&'static str, Errno>,
}

/// Run the parser over `stream`, `splits` giving the size of each arrival
/// (0 or exhausted: fill the buffer).
fn drive(stream: &[u8], splits: &[u8], head_request: bool) -> Outcome {
    let mut p = if head_request {
        ResponseParser::for_head_request()
    } else {
        ResponseParser::new()
    };
    let mut rx = [0u8; RX];
    let (mut filled, mut pos, mut k) = (0usize, 0usize, 0usize);
    let mut out = Outcome {
        heads: Vec::new(),
        body: Vec::new(),
        end: Ok(""),
    };
    let mut idle = 0u32;
    loop {
        let (used, ev) = match p.advance(&rx[..filled]) {
            Ok(x) => x,
            Err(e) => {
                out.end = Err(e);
                return out;
            }
        };
        assert!(used <= filled, "consumed {used} of {filled}");
        match ev {
            Event::Head => {
                let h = p.head();
                let loc = h.location.map(|(s, e)| {
                    assert!(s <= e && e <= filled, "location {s}..{e} outside {filled}");
                    rx[s..e].to_vec()
                });
                out.heads.push((
                    h.status,
                    h.content_length,
                    h.chunked,
                    h.close,
                    loc,
                    h.retry_after,
                ));
            }
            Event::Body { start, end } => {
                assert!(
                    start <= end && end <= filled,
                    "body {start}..{end} outside {filled}"
                );
                out.body.extend_from_slice(&rx[start..end]);
            }
            Event::End => {
                out.end = Ok("end");
                return out;
            }
            Event::NeedMore if used > 0 => {}
            Event::NeedMore => {
                if filled == RX {
                    out.end = Err(Errno::TooBig);
                    return out;
                }
                if pos == stream.len() {
                    out.end = p.eof().map(|_| "eof");
                    return out;
                }
                let want = splits.get(k).copied().unwrap_or(0) as usize;
                k += 1;
                let room = RX - filled;
                let n = if want == 0 { room } else { want.min(room) };
                let n = n.min(stream.len() - pos);
                rx[filled..filled + n].copy_from_slice(&stream[pos..pos + n]);
                filled += n;
                pos += n;
            }
        }
        if used == 0 && !matches!(ev, Event::NeedMore) {
            idle += 1;
            assert!(idle < 4, "no progress: {ev:?} without consuming");
        } else {
            idle = 0;
        }
        rx.copy_within(used..filled, 0);
        filled -= used;
    }
}

/// What a head parser made of some bytes: incomplete, rejected, or (length,
/// minor version, status, fields).
#[derive(Debug, PartialEq)]
enum Verdict {
    Partial,
    Bad(Errno),
    Head(usize, u8, u16, Vec<(Vec<u8>, Vec<u8>)>),
}

fn ours(b: &[u8]) -> Verdict {
    let mut fields = Vec::new();
    match scan_head(b, |n, v| fields.push((n.to_vec(), v.to_vec()))) {
        Ok(None) => Verdict::Partial,
        Err(e) => Verdict::Bad(e),
        Ok(Some(h)) => Verdict::Head(h.len, h.minor, h.status, fields),
    }
}

/// httparse with the header limit of `fota_rs::http` (32), mapped to the
/// errors the engine reported when it used it.
fn reference(b: &[u8]) -> Verdict {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(b) {
        Ok(httparse::Status::Partial) => Verdict::Partial,
        Err(httparse::Error::TooManyHeaders) => Verdict::Bad(Errno::TooBig),
        Err(_) => Verdict::Bad(Errno::BadMsg),
        Ok(httparse::Status::Complete(n)) => Verdict::Head(
            n,
            resp.version.unwrap(),
            resp.code.unwrap(),
            resp.headers
                .iter()
                .map(|h| (h.name.as_bytes().to_vec(), h.value.to_vec()))
                .collect(),
        ),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input(data);
    let flags = inp.byte();
    let nsplits = usize::from(inp.byte() % 64);
    let splits = inp.take(nsplits);
    let stream = inp.rest();
    let head_request = flags & 1 != 0;
    assert_eq!(ours(stream), reference(stream), "head parsers disagree");
    let mut cut = 0usize;
    for &s in splits {
        cut = (cut + usize::from(s)).min(stream.len());
        let part = &stream[..cut];
        assert_eq!(
            ours(part),
            reference(part),
            "head parsers disagree at {cut}"
        );
    }
    let whole = drive(stream, &[], head_request);
    let split = drive(stream, splits, head_request);
    let ones = drive(stream, &[1; 4096], head_request);
    assert_eq!(whole, split, "result depends on the split");
    if stream.len() <= 4096 {
        assert_eq!(
            whole, ones,
            "result depends on the split (one byte at a time)"
        );
    }
});
