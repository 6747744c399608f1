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
    pub note: Option<&'static str>,
    /// The pre-upgrade check that refused the image.
    pub check: crate::zopt::ZeroOption<crate::checks::CheckError>,
}

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

    /// One line: stage, cause, errno name, tags, status, offset, and a hint.
    pub fn write_text(&self, w: &mut dyn Out, url: &Url) {
        let Some(errno) = self.errno else {
            w.put("no error");
            return;
        };
        w.text("stage=")
            .text(self.stage.name())
            .text(" error=")
            .text(errno.name())
            .text(" (")
            .text(errno.describe())
            .text(")");
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
            w.text(" check=").text(c.check()).text(" refused=\"");
            c.write_text(w);
            w.put("\" hint: the image was downloaded and its hash is right, but it must not be installed on this device; nothing was scheduled");
            return;
        }
        w.put(" hint: ");
        match self.note {
            Some(n) => w.put(n),
            None => self.write_hint(w, url, errno),
        }
    }

    fn write_hint(&self, w: &mut dyn Out, url: &Url, errno: Errno) {
        let host = url.host.as_str();
        let port = url.port;
        let text = match (self.stage, errno) {
            (Stage::Tls, Errno::ConnRefused) => {
                if self.tcp_probe == TcpProbe::PortOpen {
                    w.text("TCP to ").text(host).text(":").dec(port).text(" works but the TLS handshake was refused with sec_tag ");
                } else {
                    w.text("the TLS handshake with ").text(host).text(":").dec(port).text(" was refused with sec_tag ");
                }
                put_tags(w, &self.tags_tried);
                ": the CA stored under that tag does not validate the server's certificate chain; provision the server's root CA (Amazon Root CA 1 for S3) under the tag or add a fallback tag"
            }
            (Stage::Tls, Errno::Inval) => "an https URL needs a sec_tag holding the server's root CA",
            (Stage::Connect, Errno::ConnRefused) => {
                w.text("nothing accepts TCP connections on ").text(host).text(":").dec(port);
                if self.tcp_probe == TcpProbe::Refused {
                    w.put(" (checked with a plain TCP connect)");
                }
                ", so this is not a certificate problem: check the URL's port and the server"
            }
            (Stage::Dns, _) => {
                w.put(host);
                " did not resolve: check the host name, the PDN and that the network is up"
            }
            (Stage::Url, Errno::NameTooLong) => "the URL is longer than CONFIG_FOTA_RS_URL_MAX_LEN / the host longer than CONFIG_FOTA_RS_HOST_MAX_LEN; raise the limit",
            (Stage::Url, _) => "the URL is malformed (only http and https; no spaces or control characters)",
            (_, Errno::TimedOut) => {
                w.text("no data from ").text(host);
                " within the socket timeout: check coverage, or raise the timeout"
            }
            (_, Errno::ConnReset) => "the connection kept dropping and the retries ran out: check coverage, or raise the retry count",
            (_, Errno::Access) => "the server refused access: a pre-signed URL may have expired; request a new one",
            (_, Errno::NoEnt) => "the file is not on the server: check the path",
            (_, Errno::Range) => "the server did not honour the byte range asked for (or the file changed during the download)",
            (_, Errno::TooBig) if self.stage == Stage::Http => "the response head is larger than the 2 KiB receive buffer",
            (Stage::Http, Errno::Again) => "the server kept answering 5xx; try again later",
            (_, Errno::FileTooBig) => "the image is larger than the secondary slot minus MCUboot's trailer: build a smaller image or enlarge the slot",
            (_, Errno::IlSeq) => "the image failed verification (SHA-256, TLVs or length): it was corrupted in transit or is not a signed MCUboot image; nothing was scheduled",
            (_, Errno::NoExec) => "the image type is not the one expected by the caller",
            (_, Errno::NotSup) if self.stage == Stage::Image => "this device cannot install this image type: MCUboot images go to the secondary slot, modem deltas need the platform's modem target, full modem images an external-flash target",
            (Stage::Flash, _) => "writing the update target failed (MCUboot secondary slot, or the modem's DFU area for modem deltas): check the flash partition or the modem",
            (Stage::Schedule, _) => "the image is in flash and verified, but marking it for MCUboot failed",
            (_, Errno::Canceled) => "the download was cancelled",
            (_, Errno::BadMsg) => "the server's response was malformed or unexpected",
            _ => "see the log for details",
        };
        w.put(text);
    }
}

impl Default for Diag {
    fn default() -> Self {
        Diag::new()
    }
}

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
