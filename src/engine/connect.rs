// SPDX-License-Identifier: Apache-2.0
//! Connecting: the request's sec_tags, then each fallback tag on a refused
//! handshake, then a plain TCP probe telling a refused certificate from a
//! closed port.

use super::Engine;
use crate::diag::{Tags, TcpProbe, MAX_TAGS};
use crate::error::{Errno, Error, Stage};
use crate::port::{ConnectError, ConnectParams, ConnectStage, Handle, Port, Tls};

impl Engine {
    /// One connect to the URL's host and port: TLS with `tags`, or plain
    /// TCP with None (an http URL, and the probe after a refused handshake).
    pub(super) fn try_connect<P: Port>(
        &self,
        port: &mut P,
        tags: Option<&[i32]>,
    ) -> Result<Handle, ConnectError> {
        let hostname = if self.url.host_is_ip() {
            None
        } else {
            Some(self.url.host.as_str())
        };
        let params = ConnectParams {
            host: &self.url.host,
            port: self.url.port,
            tls: tags.map(|sec_tags| Tls { sec_tags, hostname }),
            pdn_id: self.pdn_id,
            timeout_ms: self.cfg.socket_timeout_ms,
        };
        port.connect(&params)
    }

    pub(super) fn connect_error(&mut self, e: &ConnectError) -> Error {
        self.diag.detail = e.detail.clone();
        let stage = match e.stage {
            ConnectStage::Dns => Stage::Dns,
            ConnectStage::Tls => Stage::Tls,
            _ if e.errno == Errno::HostUnreach => Stage::Dns,
            _ => Stage::Connect,
        };
        self.fail(Error::new(stage, e.errno))
    }

    /// Connect with the active tags; on a refused handshake try each fallback
    /// tag in order; if none works, find out whether the port or the
    /// certificate was refused.
    #[allow(clippy::manual_contains)] // on purpose: see the fallback loop
    pub(super) fn connect<P: Port>(&mut self, port: &mut P) -> Result<(), Error> {
        self.close(port);
        if !self.url.is_tls() {
            let r = self.try_connect(port, None);
            return match &r {
                Ok(h) => {
                    self.conn = Some(*h);
                    Ok(())
                }
                Err(e) => Err(self.connect_error(e)),
            };
        }
        // The request's tags and the fallback tags are read in place (no
        // copies): `self.tags` changes only once a fallback tag works.
        // The last attempt's result, read in place too: a `ConnectError`
        // is over 100 bytes, and each move of one was a copy.
        let mut last = None;
        if !self.tags.is_empty() {
            note_tags(&mut self.diag.tags_tried, &self.tags);
            let r = last.insert(self.try_connect(port, Some(&self.tags)));
            match r {
                Ok(h) => {
                    self.conn = Some(*h);
                    self.diag.working_tag = self.tags.first().copied();
                    return Ok(());
                }
                Err(e) if e.errno == Errno::ConnRefused && e.stage != ConnectStage::Tcp => {
                    crate::logging::warn!(
                        TLS_REFUSED_TAGS,
                        sec_tags = &Tags(&self.tags),
                        detail = e.detail.as_str()
                    );
                }
                Err(e) => return Err(self.connect_error(e)),
            }
        }
        // `iter().any`, here and in `note_tags`, not `<[i32]>::contains`:
        // that is an unrolled search, about 190 bytes more on Cortex-M33.
        for i in 0..self.cfg.fallback_sec_tags.len() {
            let Some(&tag) = self.cfg.fallback_sec_tags.get(i) else {
                break;
            };
            if self.tags.iter().any(|&t| t == tag) {
                continue;
            }
            note_tags(&mut self.diag.tags_tried, &[tag]);
            crate::logging::debug!(TRYING_FALLBACK_TAG, sec_tag = tag);
            let r = last.insert(self.try_connect(port, Some(&[tag])));
            match r {
                Ok(h) => {
                    let h = *h;
                    crate::logging::warn!(
                        FALLBACK_TAG_WORKS,
                        sec_tag = tag,
                        host = self.url.host.as_str(),
                        refused = &Tags(&self.tags)
                    );
                    self.conn = Some(h);
                    self.tags.clear();
                    let _ = self.tags.push(tag);
                    self.diag.working_tag = Some(tag);
                    return Ok(());
                }
                Err(e) if e.errno == Errno::ConnRefused && e.stage != ConnectStage::Tcp => {
                    crate::logging::warn!(
                        TLS_REFUSED_FALLBACK,
                        sec_tag = tag,
                        detail = e.detail.as_str()
                    );
                }
                Err(e) => return Err(self.connect_error(e)),
            }
        }
        let Some(Err(e)) = &last else {
            // https with no tag at all: nothing to verify the server with.
            crate::logging::error!(NO_SEC_TAG);
            return Err(self.fail(Error::new(Stage::Tls, Errno::Inval)));
        };
        // The modem reports a refused certificate and a refused port alike;
        // one plain TCP connect tells them apart.
        let err = self.connect_error(e);
        match self.try_connect(port, None) {
            Ok(h) => {
                port.close(h);
                self.diag.tcp_probe = TcpProbe::PortOpen;
                Err(self.fail(Error::new(Stage::Tls, err.errno)))
            }
            Err(p) if p.errno == Errno::ConnRefused => {
                self.diag.tcp_probe = TcpProbe::Refused;
                Err(self.fail(Error::new(Stage::Connect, err.errno)))
            }
            Err(_) => Err(err),
        }
    }
}

/// Add `tags` to the diagnostics' tags tried, each once.
// One copy: inlined at both of its calls, each had the loop.
#[inline(never)]
#[allow(clippy::manual_contains)] // on purpose: see `connect`
fn note_tags(tried: &mut heapless::Vec<i32, MAX_TAGS>, tags: &[i32]) {
    for &t in tags {
        if !tried.iter().any(|&x| x == t) {
            let _ = tried.push(t);
        }
    }
}
