// SPDX-License-Identifier: Apache-2.0
//! `fota-sim memfault`: what `mflt_nrf fota` does before it calls
//! `fota_download_start`: ask Memfault's device API for the latest release.
//!
//! The query goes through the same host port the download uses (its
//! `connect`/`send`/`recv`: OpenSSL with CA certificates by sec_tag,
//! `--resolve`, the modem's way of reporting a refused handshake) and is
//! parsed by the core's sans-IO HTTP parser. So the query sees exactly the
//! TLS set-up a device would, and fota-sim needs no HTTP or TLS crate of its
//! own.

use fota_rs::ffi::{fota_rs_port, CPort};
use fota_rs::http::{Event, ResponseParser};
use fota_rs::port::{ConnectParams, Port, Tls};
use fota_rs::url::{Limits, Url};
use std::fmt::Write as _;

extern "C" {
    fn fota_rs_platform_port() -> *const fota_rs_port;
}

/// The fields `memfault_fota_start()` sends (from the device info).
#[derive(Clone, Debug, Default)]
pub struct Query {
    pub api: String,
    pub project_key: String,
    pub device_serial: String,
    pub hardware_version: String,
    pub software_type: String,
    pub current_version: String,
}

impl Query {
    fn fields(&self) -> [(&'static str, &str); 4] {
        [
            ("device_serial", &self.device_serial),
            ("hardware_version", &self.hardware_version),
            ("software_type", &self.software_type),
            ("current_version", &self.current_version),
        ]
    }

    /// `device_serial=S hardware_version=H ...` as sent (before encoding).
    pub fn describe(&self) -> String {
        self.fields()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn missing(&self) -> Option<&'static str> {
        [
            ("--api", &self.api),
            ("--project-key", &self.project_key),
            ("--device-serial", &self.device_serial),
            ("--hardware-version", &self.hardware_version),
            ("--software-type", &self.software_type),
            ("--current-version", &self.current_version),
        ]
        .into_iter()
        .find(|(_, v)| v.is_empty())
        .map(|(k, _)| k)
    }
}

/// What the API answered.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// 200: the release's download URL.
    Url(String),
    /// 204: nothing newer for these fields.
    UpToDate,
}

/// A failed query: the exit status and one line for the user.
#[derive(Debug)]
pub struct Failure {
    pub exit: u8,
    pub message: String,
}

fn fail(exit: u8, message: impl Into<String>) -> Failure {
    Failure {
        exit,
        message: message.into(),
    }
}

/// RFC 3986 unreserved characters stay, everything else is %XX, as the
/// Memfault SDK's memfault_http_urlencode does.
fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The request target: the API URL's own path (if any) + the releases path.
pub fn request_path(q: &Query, base: &Url) -> String {
    let prefix = base
        .path
        .split('?')
        .next()
        .unwrap_or("")
        .trim_end_matches('/');
    let mut p = format!("{prefix}/api/v0/releases/latest/url?");
    for (i, (k, v)) in q.fields().iter().enumerate() {
        let _ = write!(p, "{}{k}={}", if i > 0 { "&" } else { "" }, urlencode(v));
    }
    p
}

/// Ask for the latest release. `sec_tags`: the CA credentials the TLS
/// handshake may use (the download's tag and fallbacks).
pub fn latest_url(q: &Query, sec_tags: &[i32], timeout_ms: u32) -> Result<Answer, Failure> {
    let base = Url::parse(&q.api, Limits::DEFAULT)
        .map_err(|e| fail(2, format!("--api {}: not a URL ({})", q.api, e.name())))?;
    if base.is_tls() && sec_tags.is_empty() {
        return Err(fail(
            2,
            "an https --api needs --sec-tag N (DIR/N/ca.pem validates the API server)",
        ));
    }
    let path = request_path(q, &base);
    let mut authority = String::new();
    base.write_authority(&mut authority);
    eprintln!(
        "fota-sim: memfault: GET {}://{authority}{path}",
        base.scheme.as_str()
    );

    // SAFETY: plain call; the host port was configured by main().
    let table = unsafe { fota_rs_platform_port() };
    if table.is_null() {
        return Err(fail(2, "host port not configured"));
    }
    // SAFETY: the host port's table is static and never changes.
    let mut port = unsafe { CPort::new(table) };
    let tls = base.is_tls().then_some(Tls {
        sec_tags,
        hostname: (!base.host_is_ip()).then_some(base.host.as_str()),
    });
    let params = ConnectParams {
        host: &base.host,
        port: base.port,
        tls,
        pdn_id: 0,
        timeout_ms,
    };
    let handle = port.connect(&params).map_err(|e| {
        fail(
            3,
            format!(
                "cannot reach the Memfault API at {authority}: {} ({}){}{}",
                e.errno.name(),
                e.errno.describe(),
                if e.detail.is_empty() { "" } else { ": " },
                e.detail
            ),
        )
    })?;
    let result = exchange(&mut port, handle, q, &path, &authority, timeout_ms);
    port.close(handle);
    let (status, body) = result?;
    interpret(q, status, body)
}

fn exchange(
    port: &mut CPort,
    handle: fota_rs::port::Handle,
    q: &Query,
    path: &str,
    authority: &str,
    timeout_ms: u32,
) -> Result<(u16, Vec<u8>), Failure> {
    let io = |what: &str, e: fota_rs::Errno| {
        fail(
            3,
            format!(
                "Memfault API {what} failed: {} ({})",
                e.name(),
                e.describe()
            ),
        )
    };
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nMemfault-Project-Key: {}\r\nAccept: text/plain\r\nConnection: close\r\n\r\n",
        q.project_key
    );
    let mut sent = 0;
    while sent < req.len() {
        sent += port
            .send(handle, &req.as_bytes()[sent..])
            .map_err(|e| io("send", e))?;
    }
    // A release URL is a pre-signed S3 URL: about 1 KiB. Anything far
    // larger is not an answer to this request.
    const MAX_RESPONSE: usize = 16 * 1024;
    let mut parser = ResponseParser::new();
    let mut buf = vec![0u8; MAX_RESPONSE];
    let mut have = 0;
    let mut status = None;
    let mut body = Vec::new();
    loop {
        let (used, ev) = parser.advance(&buf[..have]).map_err(|e| {
            fail(
                4,
                format!("malformed response from the Memfault API ({})", e.name()),
            )
        })?;
        match ev {
            Event::Head => status = Some(parser.head().status),
            Event::Body { start, end } => body.extend_from_slice(&buf[start..end]),
            Event::End => break,
            Event::NeedMore => {
                if have == buf.len() {
                    return Err(fail(4, "Memfault API response head too large"));
                }
                let n = port
                    .recv(handle, &mut buf[have..], timeout_ms)
                    .map_err(|e| io("receive", e))?;
                if n == 0 {
                    parser.eof().map_err(|_| {
                        fail(4, "the Memfault API closed the connection mid-response")
                    })?;
                    break;
                }
                have += n;
                continue;
            }
        }
        buf.copy_within(used..have, 0);
        have -= used;
        if body.len() > MAX_RESPONSE {
            return Err(fail(4, "Memfault API response body too large for a URL"));
        }
        if parser.is_done() {
            break;
        }
    }
    let status = status.ok_or_else(|| fail(4, "no response from the Memfault API"))?;
    Ok((status, body))
}

fn interpret(q: &Query, status: u16, body: Vec<u8>) -> Result<Answer, Failure> {
    match status {
        200 => {
            let url = String::from_utf8(body)
                .map_err(|_| fail(4, "HTTP 200 but the body is not a URL (not UTF-8)"))?;
            let url = url.trim().to_string();
            if url.is_empty() {
                return Err(fail(4, "HTTP 200 but the body is empty (no release URL)"));
            }
            match Url::parse(&url, Limits::DEFAULT) {
                Ok(u) => {
                    let mut redacted = String::new();
                    u.write_redacted(&mut redacted);
                    eprintln!(
                        "fota-sim: memfault: release at {} ({} bytes)",
                        redacted,
                        url.len()
                    )
                }
                Err(e) => {
                    return Err(fail(
                        4,
                        format!(
                            "HTTP 200 but the body is not a usable URL ({}: {}; {} bytes)",
                            e.name(),
                            e.describe(),
                            url.len()
                        ),
                    ))
                }
            }
            Ok(Answer::Url(url))
        }
        204 => Ok(Answer::UpToDate),
        401 | 403 => Err(fail(
            4,
            format!(
                "Memfault API answered HTTP {status}: the project key was refused; use the \
                 project key from Memfault's project settings (--project-key, \
                 CONFIG_MEMFAULT_NCS_PROJECT_KEY), not an organization or user token"
            ),
        )),
        404 => Err(fail(
            4,
            format!(
                "Memfault API answered HTTP 404 for the releases endpoint: check --api \
                 (the device API, e.g. https://device.memfault.com); sent {}",
                q.describe()
            ),
        )),
        s => Err(fail(
            4,
            format!(
                "Memfault API answered HTTP {s}{}: {}",
                if s >= 500 {
                    " (server error; try again later)"
                } else {
                    ""
                },
                String::from_utf8_lossy(&body[..body.len().min(200)]).trim()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q() -> Query {
        Query {
            api: "https://device.memfault.com".into(),
            project_key: "k".into(),
            device_serial: "DEV 1".into(),
            hardware_version: "nrf9160dk".into(),
            software_type: "app-fw".into(),
            current_version: "1.0.0+a/b".into(),
        }
    }

    #[test]
    fn request_path_encodes_and_keeps_a_base_path() {
        let base = Url::parse("https://device.memfault.com", Limits::DEFAULT).unwrap();
        assert_eq!(
            request_path(&q(), &base),
            "/api/v0/releases/latest/url?device_serial=DEV%201&hardware_version=nrf9160dk&software_type=app-fw&current_version=1.0.0%2Ba%2Fb"
        );
        let base = Url::parse("http://127.0.0.1:8080/mflt/", Limits::DEFAULT).unwrap();
        assert!(request_path(&q(), &base).starts_with("/mflt/api/v0/releases/latest/url?"));
    }

    #[test]
    fn statuses() {
        assert_eq!(
            interpret(&q(), 200, b"https://s3.test/x.bin?sig=1\n".to_vec()).unwrap(),
            Answer::Url("https://s3.test/x.bin?sig=1".into())
        );
        assert_eq!(interpret(&q(), 204, vec![]).unwrap(), Answer::UpToDate);
        let e = interpret(&q(), 401, vec![]).unwrap_err();
        assert!(e.message.contains("project key"), "{}", e.message);
        assert_eq!(e.exit, 4);
        assert!(interpret(&q(), 200, vec![]).is_err());
        assert!(interpret(&q(), 200, b"not a url".to_vec()).is_err());
        let e = interpret(&q(), 503, b"busy".to_vec()).unwrap_err();
        assert!(e.message.contains("HTTP 503") && e.message.contains("busy"));
    }

    #[test]
    fn missing_fields() {
        let mut x = q();
        assert_eq!(x.missing(), None);
        x.software_type.clear();
        assert_eq!(x.missing(), Some("--software-type"));
    }
}
