// SPDX-License-Identifier: Apache-2.0
//! Connecting: the request's sec_tags, then each fallback tag on a refused
//! handshake, then a plain TCP probe telling a refused certificate from a
//! closed port.

use super::Engine;
use crate::diag::{Tags, TcpProbe};
use crate::error::{Errno, Error, Stage};
use crate::port::{ConnectError, ConnectParams, ConnectStage, Handle, Port, Tls};

impl Engine {
    pub(super) fn try_connect<P: Port>(
        &mut self,
        port: &mut P,
        tags: &[i32],
    ) -> Result<Handle, ConnectError> {
        let hostname = if self.url.host_is_ip() {
            None
        } else {
            Some(self.url.host.as_str())
        };
        let params = ConnectParams {
            host: &self.url.host,
            port: self.url.port,
            tls: if self.url.is_tls() {
                Some(Tls {
                    sec_tags: tags,
                    hostname,
                })
            } else {
                None
            },
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
            let r = self.try_connect(port, &[]);
            return match &r {
                Ok(h) => {
                    self.conn = Some(*h);
                    Ok(())
                }
                Err(e) => Err(self.connect_error(e)),
            };
        }
        let first = self.tags.clone();
        // The last attempt's result, read in place: a `ConnectError` is
        // over 100 bytes, and each move of one was a copy.
        let mut last = None;
        if !first.is_empty() {
            self.note_tags(&first);
            let r = last.insert(self.try_connect(port, &first));
            match r {
                Ok(h) => {
                    self.conn = Some(*h);
                    self.diag.working_tag = first.first().copied();
                    return Ok(());
                }
                Err(e) if e.errno == Errno::ConnRefused && e.stage != ConnectStage::Tcp => {
                    crate::logging::warn!(
                        TLS_REFUSED_TAGS,
                        sec_tags = &Tags(&first),
                        detail = e.detail.as_str()
                    );
                }
                Err(e) => return Err(self.connect_error(e)),
            }
        }
        let fallback = self.cfg.fallback_sec_tags.clone();
        // `iter().any`, here and in `note_tags`, not `<[i32]>::contains`:
        // that is an unrolled search, about 190 bytes more on Cortex-M33.
        for &tag in &fallback {
            if first.iter().any(|&t| t == tag) {
                continue;
            }
            self.note_tags(&[tag]);
            crate::logging::debug!(TRYING_FALLBACK_TAG, sec_tag = tag);
            let r = last.insert(self.try_connect(port, &[tag]));
            match r {
                Ok(h) => {
                    let h = *h;
                    crate::logging::warn!(
                        FALLBACK_TAG_WORKS,
                        sec_tag = tag,
                        host = self.url.host.as_str(),
                        refused = &Tags(&first)
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
        let saved = self.url.scheme;
        self.url.scheme = crate::url::Scheme::Http;
        let probe = self.try_connect(port, &[]);
        self.url.scheme = saved;
        match probe {
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

    #[allow(clippy::manual_contains)] // on purpose: see `connect`
    pub(super) fn note_tags(&mut self, tags: &[i32]) {
        for &t in tags {
            if !self.diag.tags_tried.iter().any(|&x| x == t) {
                let _ = self.diag.tags_tried.push(t);
            }
        }
    }
}
