// SPDX-License-Identifier: Apache-2.0
//! What went wrong, in words a person can act on.

use crate::engine::MAX_TAGS;
use crate::error::{Errno, Stage};
use crate::port::Detail;
use crate::url::Url;
use core::fmt;

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
    pub fn write_text<W: fmt::Write>(&self, w: &mut W, url: &Url) -> fmt::Result {
        let Some(errno) = self.errno else {
            return w.write_str("no error");
        };
        write!(
            w,
            "stage={} error={} ({})",
            self.stage.name(),
            errno.name(),
            errno.describe()
        )?;
        if !self.tags_tried.is_empty() {
            write!(w, " sec_tags_tried={}", Tags(&self.tags_tried))?;
        }
        if self.http_status != 0 {
            write!(w, " http_status={}", self.http_status)?;
        }
        write!(w, " offset={}", self.offset)?;
        if !self.detail.is_empty() {
            write!(w, " detail=\"{}\"", self.detail)?;
        }
        if let Some(c) = self.check.as_ref() {
            write!(w, " check={} refused=\"{}\"", c.check(), c)?;
            return w.write_str(" hint: the image was downloaded and its hash is right, but it must not be installed on this device; nothing was scheduled");
        }
        w.write_str(" hint: ")?;
        if let Some(n) = self.note {
            return w.write_str(n);
        }
        self.write_hint(w, url, errno)
    }

    fn write_hint<W: fmt::Write>(&self, w: &mut W, url: &Url, errno: Errno) -> fmt::Result {
        let host = &url.host;
        let port = url.port;
        match (self.stage, errno) {
            (Stage::Tls, Errno::ConnRefused) => {
                if self.tcp_probe == TcpProbe::PortOpen {
                    write!(w, "TCP to {}:{} works but the TLS handshake was refused with sec_tag {}: ", host, port, Tags(&self.tags_tried))?;
                } else {
                    write!(w, "the TLS handshake with {}:{} was refused with sec_tag {}: ", host, port, Tags(&self.tags_tried))?;
                }
                w.write_str("the CA stored under that tag does not validate the server's certificate chain; provision the server's root CA (Amazon Root CA 1 for S3) under the tag or add a fallback tag")
            }
            (Stage::Tls, Errno::Inval) => w.write_str("an https URL needs a sec_tag holding the server's root CA"),
            (Stage::Connect, Errno::ConnRefused) => {
                let how = if self.tcp_probe == TcpProbe::Refused { " (checked with a plain TCP connect)" } else { "" };
                write!(w, "nothing accepts TCP connections on {}:{}{}, so this is not a certificate problem: check the URL's port and the server", host, port, how)
            }
            (Stage::Dns, _) => write!(w, "{} did not resolve: check the host name, the PDN and that the network is up", host),
            (Stage::Url, Errno::NameTooLong) => w.write_str("the URL is longer than CONFIG_FOTA_RS_URL_MAX_LEN / the host longer than CONFIG_FOTA_RS_HOST_MAX_LEN; raise the limit"),
            (Stage::Url, _) => w.write_str("the URL is malformed (only http and https; no spaces or control characters)"),
            (_, Errno::TimedOut) => write!(w, "no data from {} within the socket timeout: check coverage, or raise the timeout", host),
            (_, Errno::ConnReset) => w.write_str("the connection kept dropping and the retries ran out: check coverage, or raise the retry count"),
            (_, Errno::Access) => w.write_str("the server refused access: a pre-signed URL may have expired; request a new one"),
            (_, Errno::NoEnt) => w.write_str("the file is not on the server: check the path"),
            (_, Errno::Range) => w.write_str("the server did not honour the byte range asked for (or the file changed during the download)"),
            (_, Errno::TooBig) if self.stage == Stage::Http => w.write_str("the response head is larger than the 2 KiB receive buffer"),
            (Stage::Http, Errno::Again) => w.write_str("the server kept answering 5xx; try again later"),
            (_, Errno::FileTooBig) => w.write_str("the image is larger than the secondary slot minus MCUboot's trailer: build a smaller image or enlarge the slot"),
            (_, Errno::IlSeq) => w.write_str("the image failed verification (SHA-256, TLVs or length): it was corrupted in transit or is not a signed MCUboot image; nothing was scheduled"),
            (_, Errno::NoExec) => w.write_str("the image type is not the one expected by the caller"),
            (_, Errno::NotSup) if self.stage == Stage::Image => w.write_str("this device cannot install this image type: MCUboot images go to the secondary slot, modem deltas need the platform's modem target, full modem images an external-flash target"),
            (Stage::Flash, _) => w.write_str("writing the update target failed (MCUboot secondary slot, or the modem's DFU area for modem deltas): check the flash partition or the modem"),
            (Stage::Schedule, _) => w.write_str("the image is in flash and verified, but marking it for MCUboot failed"),
            (_, Errno::Canceled) => w.write_str("the download was cancelled"),
            (_, Errno::BadMsg) => w.write_str("the server's response was malformed or unexpected"),
            _ => w.write_str("see the log for details"),
        }
    }
}

impl Default for Diag {
    fn default() -> Self {
        Diag::new()
    }
}

/// Displays a tag list as "1003,1004" ("none" when empty).
pub struct Tags<'a>(pub &'a [i32]);

impl fmt::Display for Tags<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        for (i, t) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}", t)?;
        }
        Ok(())
    }
}

/// Displays a URL with credentials in its query redacted.
pub struct Redacted<'a>(pub &'a Url);

impl fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write_redacted(f)
    }
}

/// Formats into a caller's byte buffer, always NUL-terminated, counting the
/// length the whole text needs (like snprintf).
pub struct SliceWriter<'a> {
    buf: &'a mut [u8],
    used: usize,
    needed: usize,
}

impl<'a> SliceWriter<'a> {
    pub fn new(buf: &'a mut [u8]) -> Self {
        SliceWriter {
            buf,
            used: 0,
            needed: 0,
        }
    }

    /// Terminate and return the full length.
    pub fn finish(self) -> usize {
        if let Some(b) = self.buf.get_mut(self.used) {
            *b = 0;
        }
        self.needed
    }
}

impl fmt::Write for SliceWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.needed += s.len();
        let room = self.buf.len().saturating_sub(1).saturating_sub(self.used);
        let n = room.min(s.len());
        if let Some(dst) = self.buf.get_mut(self.used..self.used + n) {
            dst.copy_from_slice(&s.as_bytes()[..n]);
            self.used += n;
        }
        Ok(())
    }
}

/// A fixed-size text buffer for log lines that keeps what fits.
pub struct TextBuf<const N: usize> {
    buf: heapless::String<N>,
}

impl<const N: usize> TextBuf<N> {
    pub const fn new() -> Self {
        TextBuf {
            buf: heapless::String::new(),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.buf
    }
}

impl<const N: usize> Default for TextBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Write for TextBuf<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            if self.buf.push(c).is_err() {
                break;
            }
        }
        Ok(())
    }
}
