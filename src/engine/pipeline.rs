// SPDX-License-Identifier: Apache-2.0
//! The request pipeline: ranged GETs in flight on one connection, their
//! responses parsed and checked against what was asked, and the end of each.

use super::{
    Engine, Notice, Outcome, FIT_GAVE_UP, FIT_MARGIN, MAX_BACKOFF_MS, MAX_PIPELINE, PAIR_DEPTH,
    POLL_SLICE_MS, RX_BUF,
};
use crate::diag::Hint;
use crate::error::{Errno, Error, Stage};
use crate::http::{self, ContentRange, Event as HttpEvent, Head, Range, ResponseParser};
use crate::port::{Handle, Port};
use crate::text::Out;
use core::sync::atomic::{AtomicBool, Ordering};

/// A request in flight, kept in 8 bytes: the queue lives in the static
/// engine, where every byte is RAM for the whole program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Asked {
    first: u32,
    last: u32,
}

impl Asked {
    /// `first == OPEN`: no Range header; `last == OPEN`: an open range.
    const OPEN: u32 = u32::MAX;

    fn range(self) -> Option<Range> {
        (self.first != Asked::OPEN).then_some(Range {
            first: self.first,
            last: (self.last != Asked::OPEN).then_some(self.last),
        })
    }
}

/// The requests in flight on one connection, oldest first: a ring with a
/// byte each for the oldest's place and the count. heapless::Deque's
/// word-sized indices and full flag made each length a computation of its
/// own, inlined at every one of its dozen uses.
#[repr(C)]
pub(super) struct InFlight {
    /// First, for the engine's short loads (see `Engine`).
    len: u8,
    head: u8,
    asked: [Asked; MAX_PIPELINE],
}

impl InFlight {
    pub(super) const fn new() -> InFlight {
        InFlight {
            asked: [Asked { first: 0, last: 0 }; MAX_PIPELINE],
            head: 0,
            len: 0,
        }
    }

    pub(super) fn len(&self) -> usize {
        usize::from(self.len)
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The oldest request, whose response comes next.
    fn front(&self) -> Option<Asked> {
        if self.is_empty() {
            return None;
        }
        self.asked
            .get(usize::from(self.head) % MAX_PIPELINE)
            .copied()
    }

    fn push_back(&mut self, a: Asked) -> Result<(), ()> {
        let len = self.len();
        let at = (usize::from(self.head) + len) % MAX_PIPELINE;
        match self.asked.get_mut(at) {
            Some(slot) if len < MAX_PIPELINE => {
                *slot = a;
                self.len += 1;
                Ok(())
            }
            _ => Err(()),
        }
    }

    fn pop_front(&mut self) {
        if !self.is_empty() {
            self.head = (self.head + 1) % MAX_PIPELINE as u8;
            self.len -= 1;
        }
    }

    /// Forget the requests after the first `n`.
    fn truncate(&mut self, n: usize) {
        if n < self.len() {
            self.len = n as u8;
        }
    }

    pub(super) fn clear(&mut self) {
        self.len = 0;
    }
}

impl Engine {
    /// The server mishandled pipelined requests: one at a time from now on.
    pub(super) fn stop_pipelining(&mut self, why: crate::records::Code) {
        if self.depth_cap > 1 {
            crate::logging::info!(PIPELINE_STOPPED, why = why, host = self.url.host.as_str());
        }
        self.depth_cap = 1;
    }

    /// The next request to send on this connection, if the pipeline has room.
    // Inlined in its one caller (`fill_pipeline`): the `Option<Asked>`
    // needs no trip through memory.
    #[inline(always)]
    pub(super) fn plan_request(&self) -> Option<Asked> {
        if !(self.url.is_tls() && self.ranged) {
            // One streamed GET; after a failure it resumes with an open range.
            if !self.in_flight.is_empty() {
                return None;
            }
            let off = self.sink.offset;
            let first = if off > 0 { off } else { Asked::OPEN };
            return Some(Asked {
                first,
                last: Asked::OPEN,
            });
        }
        // As deep as allowed from the first request on: the uplink must not
        // wait for responses to grow the pipeline (a server that mishandles
        // pipelining makes the download fall back to one at a time).
        if self.in_flight.len() >= usize::from(self.depth_cap) {
            return None;
        }
        let first = self.next_request;
        // Below `OPEN`, which would ask an open range.
        let last = first
            .saturating_add(self.range_len().saturating_sub(1))
            .min(Asked::OPEN - 1);
        let last = match self.sink.total {
            Some(total) if first >= total => return None,
            Some(total) => last.min(total - 1),
            // The size is unknown until the first response: ask once. A
            // server that ignores Range (a 200 with the whole file), answers
            // 503 or redirects would otherwise get the whole pipeline of
            // requests, and send the file once for each (issue 14: an attempt
            // that brings nothing costs one request).
            None if !self.in_flight.is_empty() => return None,
            None => last,
        };
        Some(Asked { first, last })
    }

    /// Bytes of the next range: `frag_size`, or with `frag_fit` what leaves
    /// room in that buffer for the longest head seen and the margin.
    pub(super) fn range_len(&self) -> u32 {
        let fit = u32::from(self.cfg.frag_fit);
        if fit == 0 || !cfg!(feature = "frag-fit") {
            return self.frag_size;
        }
        // Until a head was seen (and after a failure): a size that leaves
        // half of the buffer to the head.
        let first = self.frag_size.min(fit / 2).max(1);
        match self.fit_head {
            0 | FIT_GAVE_UP => first,
            head => fit
                .checked_sub(u32::from(head) + FIT_MARGIN)
                .filter(|&n| n >= first / 2)
                .unwrap_or(first),
        }
    }

    /// With `frag_fit`: learn the head of a response (`head_len` bytes, then
    /// `body` bytes if known) and say when one does not fit.
    fn fit_response(&mut self, head_len: usize, body: Option<u64>) {
        let fit = self.cfg.frag_fit;
        if fit == 0 || !cfg!(feature = "frag-fit") {
            return;
        }
        let head = u16::try_from(head_len).unwrap_or(FIT_GAVE_UP - 1);
        if self.fit_head != FIT_GAVE_UP && head > self.fit_head {
            self.fit_head = head;
            crate::logging::debug!(FRAG_FIT_SIZED, head = head, range = self.range_len());
        }
        if body.is_some_and(|b| b + head_len as u64 > u64::from(fit)) {
            // Asked before a longer head was seen: a modem would have failed
            // this response (the host port takes it).
            crate::logging::warn!(FRAG_FIT_MISSED, head = head, fit = fit);
        }
    }

    /// Send requests until the pipeline is full, all in one send when they
    /// fit the free part of the receive buffer, in sends of that size
    /// otherwise: each send is a TLS record of its own, 29 bytes on the
    /// uplink (5 of header, 8 of nonce, 16 of tag), and with a long
    /// pre-signed URL the uplink sets the pace. Requests are sent when the
    /// parser waits for bytes, after what arrived was taken out of the
    /// buffer, so its free part is nearly all of it.
    ///
    /// While the first request goes alone (the size is not known yet), the
    /// start of the second (request line and Host: most of a request with a
    /// long pre-signed URL) follows in a send of its own, on an otherwise
    /// idle uplink; its Range and the blank line go with the pipeline's fill
    /// once a 206 gave the size. A server that answers otherwise gets no
    /// second request (the connection closes with it unfinished): issue
    /// 14's one request per failed attempt holds. A send of its own,
    /// because the server reads a TLS record whole and the first request
    /// must not wait for it.
    pub(super) fn fill_pipeline<P: Port>(&mut self, port: &mut P, h: Handle) -> Result<(), Error> {
        if self.send_failed {
            // Nothing more on this connection: once the responses already
            // asked are read, the rest goes on a new one.
            if self.in_flight.is_empty() {
                return Err(Error::new(Stage::Http, Errno::ConnReset));
            }
            return Ok(());
        }
        // At `PAIR_DEPTH`, a lone free slot waits for the next response to
        // free a second, so that two requests share a send (one TLS record:
        // 29 bytes less on the uplink for the pair) while the link works on
        // the seven in flight. Not for the last pipeline's worth of ranges:
        // the server reads a record whole, so a pair's two responses leave
        // together and queue on the downlink, which single requests drain
        // before the end.
        let tail = (u32::from(self.depth_cap) + 1).saturating_mul(self.range_len());
        if self.depth_cap >= PAIR_DEPTH
            && self.in_flight.len() + 1 == usize::from(self.depth_cap)
            && self
                .sink
                .total
                .is_some_and(|t| self.next_request.saturating_add(tail) < t)
        {
            return Ok(());
        }
        let (asked, next) = (self.in_flight.len(), self.next_request);
        let mut started = self.next_started;
        // Requests are written as they are planned, after the `len` bytes
        // already in the free part of the receive buffer.
        let mut len = 0;
        let errno = loop {
            let asked_now = self.plan_request();
            // Right after the first request (nothing else to send, at the
            // next call): the start of the second, in a send of its own.
            let start_next = asked_now.is_none()
                && !started
                && asked == 1
                && self.in_flight.len() == 1
                && self.sink.total.is_none()
                && self.depth_cap > 1
                && self.url.is_tls()
                && self.ranged;
            let mut out = SendBuf::<P> {
                port: &mut *port,
                h,
                buf: self.rx.get_mut(self.filled..).unwrap_or(&mut []),
                len,
                err: None,
            };
            let Some(a) = asked_now else {
                if start_next {
                    http::write_request_start(&mut out, &self.url);
                }
                match out.finish() {
                    Ok(()) => {
                        self.next_started = started || start_next;
                        return Ok(());
                    }
                    Err(e) => break e,
                }
            };
            if !started {
                http::write_request_start(&mut out, &self.url);
            }
            started = false;
            http::write_request_end(&mut out, a.range());
            if let Some(e) = out.err {
                break e;
            }
            len = out.len;
            if self.in_flight.push_back(a).is_err() {
                return Err(Error::new(Stage::Http, Errno::Fault));
            }
            if a.last != Asked::OPEN {
                self.next_request = a.last.saturating_add(1);
            }
        };
        // None of this send counts as asked.
        self.in_flight.truncate(asked);
        self.next_request = next;
        if self.in_flight.is_empty() {
            return Err(Error::new(Stage::Http, errno));
        }
        // The peer may have closed after answering what is already asked:
        // take those responses before reconnecting.
        self.send_failed = true;
        Ok(())
    }

    /// Send one request and consume its response.
    pub(super) fn exchange<P: Port>(
        &mut self,
        port: &mut P,
        cancel: &AtomicBool,
        emit: &mut dyn FnMut(Notice),
    ) -> Result<Outcome, Error> {
        let h = self.conn.ok_or(Error::new(Stage::Http, Errno::NotConn))?;
        if self.in_flight.is_empty() {
            self.fill_pipeline(port, h)?;
        }
        // Responses come strictly in the order of the requests.
        let asked = self
            .in_flight
            .front()
            .ok_or(Error::new(Stage::Http, Errno::Fault))?;
        let mut parser = ResponseParser::new();
        // A head was read: the parser keeps it for the end of the response.
        let mut have_head = false;
        let mut discard = false;
        let mut waited: u32 = 0;
        // Bytes of the receive buffer the last event took.
        let mut used = 0;
        loop {
            self.consume(used);
            let ev;
            (used, ev) = parser
                .advance(self.rx.get(..self.filled).unwrap_or(&[]))
                .map_err(|e| Error::new(Stage::Http, e))?;
            match ev {
                HttpEvent::Head => {
                    let hd = parser.head();
                    have_head = true;
                    self.diag.http_status = hd.status;
                    if hd.status == 206 {
                        self.fit_response(used, hd.content_length);
                    }
                    discard = self.check_head(hd, asked)?;
                }
                HttpEvent::Body { start, end } => {
                    if !discard {
                        let body = self.rx.get(start..end);
                        let body = body.ok_or(Error::new(Stage::Http, Errno::Fault))?;
                        self.sink.deliver(port, body)?;
                        if core::mem::take(&mut self.sink.erased) {
                            // The port's erase returns when done; both events
                            // tell the caller the pause was an erase.
                            emit(Notice::ErasePending);
                            emit(Notice::EraseDone);
                        }
                        if self.cfg.progress_events {
                            if let Some(p) = self.sink.progress() {
                                emit(Notice::Progress(p));
                            }
                        }
                    }
                }
                HttpEvent::End => {
                    self.consume(used);
                    if !have_head {
                        return Err(Error::new(Stage::Http, Errno::BadMsg));
                    }
                    break;
                }
                HttpEvent::NeedMore if used > 0 => {}
                HttpEvent::NeedMore => {
                    if self.filled == RX_BUF {
                        // A head (or chunk line) that does not fit.
                        return Err(Error::new(Stage::Http, Errno::TooBig));
                    }
                    if cancel.load(Ordering::Relaxed) {
                        return Err(Error::new(Stage::None, Errno::Canceled));
                    }
                    // Requests for the room the last response left, sent
                    // now that what arrived is taken out of the receive
                    // buffer, so each fits its free part whole.
                    self.fill_pipeline(port, h)?;
                    let slice = POLL_SLICE_MS
                        .min(self.cfg.socket_timeout_ms.saturating_sub(waited))
                        .max(1);
                    let room = self.rx.get_mut(self.filled..).unwrap_or(&mut []);
                    match port.recv(h, room, slice) {
                        Ok(0) => {
                            parser.eof().map_err(|e| Error::new(Stage::Http, e))?;
                            if !have_head {
                                return Err(Error::new(Stage::Http, Errno::ConnReset));
                            }
                            self.close(port);
                            break;
                        }
                        Ok(n) => {
                            self.filled += n;
                            waited = 0;
                            if self.past_deadline(port) {
                                return Err(Error::new(Stage::Http, Errno::TimedOut));
                            }
                        }
                        Err(Errno::TimedOut) => {
                            waited = waited.saturating_add(slice);
                            if waited >= self.cfg.socket_timeout_ms {
                                return Err(Error::new(Stage::Http, Errno::TimedOut));
                            }
                        }
                        Err(e) => return Err(Error::new(Stage::Http, e)),
                    }
                }
            }
        }
        // Both ends of a response (its last byte, the peer's close) in
        // one place.
        self.end_of_response(port, parser.head(), discard)
    }

    // One copy: `exchange` had a second one inlined in its loop.
    #[inline(never)]
    pub(super) fn consume(&mut self, n: usize) {
        let n = n.min(self.filled);
        crate::bytes::shift_down(&mut self.rx, n, self.filled);
        self.filled -= n;
    }

    /// Validate a response head against the request. Returns true when the
    /// body is to be skipped (redirects).
    // Inlined in its one caller (`exchange`): 44 bytes less once the
    // parser and `end_of_response` were inlined there (0 before).
    #[inline(always)]
    pub(super) fn check_head(&mut self, hd: &Head, asked: Asked) -> Result<bool, Error> {
        let off = u64::from(self.sink.offset);
        // Every refusal here is the HTTP stage's: one exit builds the error
        // (`set_total` builds its own, an image error among them).
        let errno = 'refused: {
            match hd.status {
                206 => {
                    let Some(ContentRange { first, last, total }) = hd.content_range else {
                        break 'refused Errno::BadMsg;
                    };
                    if asked.first == Asked::OPEN {
                        break 'refused Errno::BadMsg;
                    }
                    // A range asked before the size was known may reach past
                    // the end: the server answers up to the last byte.
                    let at_end = total.is_some_and(|t| last + 1 == t);
                    let asked_last = (asked.last != Asked::OPEN).then_some(u64::from(asked.last));
                    let exact = u64::from(asked.first) == first
                        && asked_last.map_or(true, |l| l == last || (l > last && at_end));
                    if self.depth_cap > 1 && !exact {
                        // Out of order, dropped or shortened pipelined responses.
                        self.pipeline_broken = true;
                        break 'refused Errno::Range;
                    }
                    if first != off || asked_last.is_some_and(|l| last > l) {
                        crate::logging::error!(
                            OTHER_RANGE,
                            asked = off,
                            first = first,
                            last = last
                        );
                        break 'refused Errno::Range;
                    }
                    if hd.content_length.is_some_and(|l| l != last - first + 1) {
                        break 'refused Errno::BadMsg;
                    }
                    if let Some(t) = total {
                        self.set_total(t)?;
                    }
                    return Ok(false);
                }
                200 => {
                    if off != 0 {
                        // A server that ignores Range cannot resume us.
                        crate::logging::error!(RANGE_ANSWERED_200, asked = off);
                        break 'refused Errno::Range;
                    }
                    if asked.first != Asked::OPEN {
                        crate::logging::info!(RANGE_IGNORED);
                    }
                    self.ranged = false;
                    if let Some(l) = hd.content_length {
                        self.set_total(l)?;
                    }
                    return Ok(false);
                }
                301 | 302 | 303 | 307 | 308 => {
                    // The redirect limit is decided here alone, before the URL
                    // changes: a refused redirect leaves the URL that answered.
                    // None may be followed (max_redirects 0, or a build without
                    // them): the same answer either way.
                    if !cfg!(feature = "redirects") || self.cfg.max_redirects == 0 {
                        self.diag.note = Some(Hint::RedirectsOff);
                        break 'refused Errno::NotSup;
                    }
                    if self.redirects >= self.cfg.max_redirects {
                        crate::logging::error!(TOO_MANY_REDIRECTS, max = self.cfg.max_redirects);
                        self.diag.note = Some(Hint::RedirectLoop);
                        break 'refused Errno::BadMsg;
                    }
                    let loc = hd.location.and_then(|(s, e)| self.rx.get(s..e));
                    let Some(loc) = loc.and_then(crate::text::ascii) else {
                        break 'refused Errno::BadMsg;
                    };
                    // In place: a refused Location leaves the URL as it was.
                    if let Err(e) = self.url.redirect(loc, self.cfg.limits) {
                        if e == Errno::Access {
                            crate::logging::error!(HTTPS_TO_HTTP);
                            self.diag.note = Some(Hint::RedirectToHttp);
                        }
                        break 'refused e;
                    }
                    self.redirects += 1;
                    return Ok(true);
                }
                500 | 502 | 503 | 504 => return Ok(true),
                s => {
                    crate::logging::error!(HTTP_ERROR, status = s);
                    match s {
                        401 | 403 => Errno::Access,
                        404 | 410 => Errno::NoEnt,
                        416 => Errno::Range,
                        _ => Errno::BadMsg,
                    }
                }
            }
        };
        Err(Error::new(Stage::Http, errno))
    }

    pub(super) fn set_total(&mut self, t: u64) -> Result<(), Error> {
        let t32 = u32::try_from(t).map_err(|_| Error::new(Stage::Image, Errno::FileTooBig))?;
        match self.sink.total {
            Some(known) if known != t32 => {
                crate::logging::error!(SIZE_CHANGED, was = known, now = t32);
                Err(Error::new(Stage::Http, Errno::Range))
            }
            _ => {
                // A writer made while the size was unknown (a chunked stream)
                // learns it now, e.g. from the range answer after a resume.
                // Checked before a byte of this response is written: a size
                // past the trailer's start would let the server write
                // MCUboot's upgrade request.
                if let Some(w) = self.sink.writer.as_mut() {
                    if let Err(e) = w.set_total(t32) {
                        crate::logging::error!(
                            SIZE_DOES_NOT_FIT,
                            size = t32,
                            written = w.written()
                        );
                        self.diag.note = Some(Hint::SizePastTrailer);
                        return Err(Error::new(Stage::Http, e));
                    }
                }
                self.sink.total = Some(t32);
                Ok(())
            }
        }
    }

    // Inlined in its one caller (`exchange`): measured 30 bytes less than
    // the call once the parser was inlined there (14 more before).
    #[inline(always)]
    pub(super) fn end_of_response<P: Port>(
        &mut self,
        port: &mut P,
        hd: &Head,
        discard: bool,
    ) -> Result<Outcome, Error> {
        self.in_flight.pop_front();
        if hd.close {
            self.close(port);
        }
        match hd.status {
            301 | 302 | 303 | 307 | 308 => return Ok(Outcome::Redirect),
            500 | 502 | 503 | 504 => {
                let ms = hd
                    .retry_after
                    .map_or(self.cfg.retry_backoff_ms, |s| s.saturating_mul(1000));
                let ms = ms.min(MAX_BACKOFF_MS);
                crate::logging::warn!(SERVER_BUSY, status = hd.status, retry_ms = ms);
                return Ok(Outcome::RetryLater(ms as u16));
            }
            _ => {}
        }
        debug_assert!(!discard);
        match self.sink.total {
            Some(t) if self.sink.offset >= t => Ok(Outcome::Done),
            Some(_) => {
                if !self.ranged {
                    // A full-stream response ended early.
                    return Err(Error::new(Stage::Http, Errno::ConnReset));
                }
                Ok(Outcome::Continue)
            }
            None if !self.ranged => {
                // Chunked or close-delimited stream without a size: it is all there.
                self.set_total(u64::from(self.sink.offset))?;
                Ok(Outcome::Done)
            }
            None => Err(Error::new(Stage::Http, Errno::BadMsg)),
        }
    }
}

/// Sends all of `data`, however many calls the port takes.
fn send_all<P: Port>(port: &mut P, h: Handle, mut data: &[u8]) -> Result<(), Errno> {
    while !data.is_empty() {
        let n = port.send(h, data)?;
        data = data.get(n..).unwrap_or(&[]);
    }
    Ok(())
}

/// Writes requests through `buf` (the free part of the receive buffer),
/// sending it whenever it is full, so the URL (up to 1 KiB) needs no
/// request-sized buffer of its own.
pub(super) struct SendBuf<'a, P: Port> {
    port: &'a mut P,
    h: Handle,
    buf: &'a mut [u8],
    len: usize,
    err: Option<Errno>,
}

impl<P: Port> SendBuf<'_, P> {
    /// Send what is written (an error while writing comes first).
    fn finish(&mut self) -> Result<(), Errno> {
        match self.err.take() {
            None => self.flush(),
            Some(e) => Err(e),
        }
    }

    fn flush(&mut self) -> Result<(), Errno> {
        let data = self.buf.get(..self.len).unwrap_or(&[]);
        self.len = 0;
        send_all(self.port, self.h, data)
    }
}

impl<P: Port> Out for SendBuf<'_, P> {
    fn put(&mut self, s: &str) {
        let mut rest = s.as_bytes();
        while !rest.is_empty() && self.err.is_none() {
            if self.len == self.buf.len() {
                if self.buf.is_empty() {
                    self.err = Some(Errno::NoMem);
                } else if let Err(e) = self.flush() {
                    self.err = Some(e);
                }
                continue;
            }
            let n = crate::bytes::copy(self.buf.get_mut(self.len..).unwrap_or(&mut []), rest);
            self.len += n;
            rest = rest.get(n..).unwrap_or(&[]);
        }
    }
}
