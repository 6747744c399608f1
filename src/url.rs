// SPDX-License-Identifier: Apache-2.0
//! URL handling for the forms NCS callers use.
//!
//! `fota_download_start(host, file, ...)` is called with a host ("example.com",
//! "example.com:8443", "https://example.com") and a path, or (Memfault) with the
//! same full pre-signed URL in both. Nothing is ever truncated: an input longer
//! than the configured limit is an error, and bytes that could inject a header
//! (CR, LF, NUL, space, other controls) are refused.

use crate::error::Errno;
use crate::text::Out;

// String searching without `str`'s pattern API, whose searchers link panic
// paths on the device (issue 5). URLs are printable ASCII (`check_bytes`),
// so every byte position is a character boundary.

/// Position of the first byte of `s` that is in `set`.
pub(crate) fn find_any(s: &str, set: &[u8]) -> Option<usize> {
    s.bytes().position(|b| crate::bytes::has(set, b))
}

/// Position of the first occurrence of `pat` in `s`.
pub(crate) fn find_sub(s: &str, pat: &str) -> Option<usize> {
    if pat.is_empty() {
        // `windows(0)` would panic.
        return Some(0);
    }
    s.as_bytes()
        .windows(pat.len())
        .position(|w| w == pat.as_bytes())
}

/// `(s[..i], s[i + skip..])`, or None where that would not be valid.
pub(crate) fn cut(s: &str, i: usize, skip: usize) -> Option<(&str, &str)> {
    Some((s.get(..i)?, s.get(i.checked_add(skip)?..)?))
}

/// `s` after its first byte, when that byte is `b`.
pub(crate) fn strip_byte(s: &str, b: u8) -> Option<&str> {
    match s.as_bytes() {
        [first, rest @ ..] if *first == b && b.is_ascii() => {
            // SAFETY: what is cut off is one ASCII byte, a whole character,
            // so the rest is UTF-8 (`str::get` checks that again, in code).
            Some(unsafe { core::str::from_utf8_unchecked(rest) })
        }
        _ => None,
    }
}

/// Splits at the first `sep`, which belongs to neither side.
pub(crate) fn split_once_byte(s: &str, sep: u8) -> Option<(&str, &str)> {
    cut(s, find_any(s, &[sep])?, 1)
}

/// The one rule for "this host is an IP address, not a name" (an https
/// connection to an address checks no name, so the rule is strict):
///
/// - IPv4: exactly four decimal parts, each 0-255, without leading zeros
///   ("0" alone is a part; "010" is not), as `inet_pton(AF_INET)` takes them;
/// - IPv6: the text form `inet_pton(AF_INET6)` takes (hex groups of 1-4
///   digits, at most one "::", an IPv4 tail as above), without the
///   brackets of the URL form (as [`Url::host`] holds it).
///
/// Everything else is a name and gets its name checked: the forms a
/// resolver may also read as addresses (`127.1`, `2130706433`, `0x7f.1`,
/// `0177.0.0.1`) included.
pub fn is_ip_literal(host: &str) -> bool {
    // One pass over the bytes each, no splitting: this runs in every build.
    is_ipv4(host.as_bytes()) || is_ipv6(host.as_bytes())
}

fn is_ipv4(b: &[u8]) -> bool {
    let (mut parts, mut value, mut digits) = (0u32, 0u32, false);
    let mut i = 0;
    loop {
        match b.get(i) {
            Some(c) if c.is_ascii_digit() => {
                if digits && value == 0 {
                    return false; // a leading zero
                }
                value = value * 10 + u32::from(c - b'0');
                if value > 255 {
                    return false;
                }
                digits = true;
            }
            end => {
                if !digits {
                    return false;
                }
                parts += 1;
                (value, digits) = (0, false);
                match end {
                    None => return parts == 4,
                    Some(b'.') if parts < 4 => {}
                    _ => return false,
                }
            }
        }
        i += 1;
    }
}

fn is_ipv6(b: &[u8]) -> bool {
    let (mut groups, mut gap) = (0u32, false);
    let mut i = 0;
    if let [b':', b':', ..] = b {
        (gap, i) = (true, 2);
    }
    while i < b.len() {
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_hexdigit) {
            i += 1;
        }
        if b.get(i) == Some(&b'.') {
            // An IPv4 tail ends the address and counts two groups.
            groups += 2;
            if !b.get(start..).is_some_and(is_ipv4) {
                return false;
            }
            break;
        }
        if !(1..=4).contains(&(i - start)) {
            return false;
        }
        groups += 1;
        match b.get(i..) {
            Some([]) => {}
            Some([b':', b':', ..]) if !gap => (gap, i) = (true, i + 2),
            Some([b':', _, ..]) => i += 1,
            _ => return false,
        }
    }
    // "::" stands for at least one group.
    if gap {
        groups <= 7
    } else {
        groups == 8
    }
}

/// Capacity for host names. DNS allows 253, NCS v2.0 took 64 and v2.6 255;
/// 128 covers real download hosts (S3: ~40) and keeps the static engine
/// within 4 KiB of RAM. A longer name is an error, never cut.
pub const HOST_CAP: usize = 128;
/// Capacity for path plus query. Memfault's pre-signed S3 URLs need ~700.
pub const PATH_CAP: usize = 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// Runtime length limits (at most the capacities above).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub host_max: usize,
    pub path_max: usize,
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        host_max: HOST_CAP,
        path_max: PATH_CAP,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// A parsed, owned URL.
#[derive(Clone, Debug)]
pub struct Url {
    pub scheme: Scheme,
    /// Without brackets for IPv6 literals.
    pub host: heapless::String<HOST_CAP>,
    pub port: u16,
    /// Starts with '/', includes the query.
    pub path: heapless::String<PATH_CAP>,
}

/// Borrowed pieces of an authority-form or absolute URL.
struct Parts<'a> {
    scheme: Option<Scheme>,
    host: &'a str,
    port: Option<u16>,
    /// Whatever follows the authority ('/...', '?...' or empty).
    rest: &'a str,
}

fn check_bytes(s: &str) -> Result<(), Errno> {
    // Printable ASCII only: anything else must be percent-encoded, and CR/LF/NUL/space
    // would let a URL write its own request headers.
    if s.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        Ok(())
    } else {
        Err(Errno::Inval)
    }
}

fn split_scheme(s: &str) -> Result<(Option<Scheme>, &str), Errno> {
    match find_sub(s, "://").and_then(|i| cut(s, i, 3)) {
        Some((name, rest)) => {
            let scheme = if crate::bytes::eq_lower(name.as_bytes(), b"https") {
                Scheme::Https
            } else if crate::bytes::eq_lower(name.as_bytes(), b"http") {
                Scheme::Http
            } else {
                return Err(Errno::NotSup);
            };
            Ok((Some(scheme), rest))
        }
        None => Ok((None, s)),
    }
}

/// Whether `b` can be part of a host: a name's letters, digits, '-', '.',
/// '_', or, between brackets (IPv6), hex digits, ':' and '.'.
fn host_byte(b: u8, ipv6: bool) -> bool {
    if ipv6 {
        b.is_ascii_hexdigit() || b == b':' || b == b'.'
    } else {
        b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_'
    }
}

/// Parse "[scheme://]host[:port][/path][?query]". The host ends at the first of
/// ':', '/', '?' (so a ':' in the query cannot be taken for a port).
fn parse_parts(s: &str) -> Result<Parts<'_>, Errno> {
    let (scheme, rest) = split_scheme(s)?;
    // One pass over the bytes: the host, ']' after an IPv6 one, the port's
    // digits, then the path must start at '/', '?' or the end.
    let b = rest.as_bytes();
    let ipv6 = b.first() == Some(&b'[');
    let start = usize::from(ipv6);
    let mut i = start;
    while b.get(i).is_some_and(|&c| host_byte(c, ipv6)) {
        i += 1;
    }
    let host_end = i;
    if ipv6 {
        if b.get(i) != Some(&b']') {
            return Err(Errno::Inval);
        }
        i += 1;
    }
    let path_starts = |i: usize| !matches!(b.get(i), Some(&c) if c != b'/' && c != b'?');
    let mut port = None;
    if b.get(i) == Some(&b':') {
        i += 1;
        let (digits, mut v) = (i, 0u32);
        while let Some(d) = b.get(i).filter(|d| d.is_ascii_digit()) {
            // Wraps only past 5 digits, refused below.
            v = v.wrapping_mul(10).wrapping_add(u32::from(d - b'0'));
            i += 1;
        }
        if !path_starts(i) || i - digits > 5 || (i > digits && !(1..=65535).contains(&v)) {
            return Err(Errno::Inval);
        }
        // Below 65536: the cast keeps the value.
        port = Some(v as u16).filter(|_| i > digits);
    } else if !ipv6 && !path_starts(i) {
        return Err(Errno::Inval);
    }
    if host_end == start {
        return Err(Errno::Inval);
    }
    // SAFETY: `start`, `host_end` and `i` are 0, the end of `rest`, or next
    // to an ASCII byte (one taken by `host_byte`, '[', ']', ':' or a digit),
    // so character boundaries of `rest`: the pieces are UTF-8.
    let piece = |from: usize, to: usize| {
        b.get(from..to)
            .map_or("", |p| unsafe { core::str::from_utf8_unchecked(p) })
    };
    Ok(Parts {
        scheme,
        host: piece(start, host_end),
        port,
        rest: piece(i, b.len()),
    })
}

/// Appends `s` to `dst` when it fits (the callers have checked that it
/// does): a memcpy, where heapless's `push_str` is a byte loop for each
/// capacity.
fn append<const N: usize>(dst: &mut heapless::String<N>, s: &str) {
    // SAFETY: the bytes of the `str` `s` are appended whole or not at all,
    // so `dst` stays UTF-8.
    let v = unsafe { dst.as_mut_vec() };
    let len = v.len();
    if s.len() <= N - len {
        // SAFETY: `len + s.len() <= N`, so the copy stays within the
        // buffer, whose first `len + s.len()` bytes are then written; `s`
        // cannot overlap `dst`, borrowed `&mut`.
        unsafe {
            core::ptr::copy_nonoverlapping(s.as_ptr(), v.as_mut_ptr().add(len), s.len());
            v.set_len(len + s.len());
        }
    }
}

impl Url {
    /// Build the URL from the two strings an NCS caller passes.
    ///
    /// `tls_default` picks https when the host carries no scheme (NCS: a
    /// sec_tag other than -1 means TLS).
    pub fn from_host_file(
        host: &str,
        file: &str,
        tls_default: bool,
        limits: Limits,
    ) -> Result<Url, Errno> {
        let mut url = Url::EMPTY;
        url.set_from_host_file(host, file, tls_default, limits)?;
        Ok(url)
    }

    /// An empty URL (all zero bytes).
    pub const EMPTY: Url = Url {
        scheme: Scheme::Http,
        host: heapless::String::new(),
        port: 0,
        path: heapless::String::new(),
    };

    /// [`Url::from_host_file`] in place: a device parses into the engine's
    /// own storage instead of moving a 1.3 KiB value across its stack. Leaves
    /// `self` unchanged on error.
    // Inlined in its one caller on the device (`Engine::start`): measured
    // smaller than the call.
    #[inline(always)]
    pub fn set_from_host_file(
        &mut self,
        host: &str,
        file: &str,
        tls_default: bool,
        limits: Limits,
    ) -> Result<(), Errno> {
        check_bytes(host)?;
        check_bytes(file)?;
        let parts = parse_parts(host)?;
        let scheme = parts.scheme.unwrap_or(if tls_default {
            Scheme::Https
        } else {
            Scheme::Http
        });
        // A file that is a full URL (Memfault passes the pre-signed URL as both
        // arguments) contributes only its path and query.
        let path = if find_sub(file, "://").is_some() {
            parse_parts(file)?.rest
        } else {
            file
        };
        self.replace(scheme, parts.host, parts.port, path, limits)
    }

    /// Set every part after checking every length, so a failure changes nothing.
    fn replace(
        &mut self,
        scheme: Scheme,
        host: &str,
        port: Option<u16>,
        path: &str,
        limits: Limits,
    ) -> Result<(), Errno> {
        if host.len() > limits.host_max.min(HOST_CAP) {
            return Err(Errno::NameTooLong);
        }
        // Checks its length before it changes anything.
        self.set_path(0, strip_byte(path, b'/').is_none(), path, limits)?;
        self.scheme = scheme;
        self.port = port.unwrap_or(scheme.default_port());
        self.host.clear();
        // Fits: checked above.
        append(&mut self.host, host);
        Ok(())
    }

    /// Parse one absolute URL.
    pub fn parse(s: &str, limits: Limits) -> Result<Url, Errno> {
        check_bytes(s)?;
        let parts = parse_parts(s)?;
        let scheme = parts.scheme.ok_or(Errno::Inval)?;
        let mut url = Url::EMPTY;
        url.replace(scheme, parts.host, parts.port, parts.rest, limits)?;
        Ok(url)
    }

    /// The path becomes its first `keep` bytes (0, or up to a '/'), a '/'
    /// when `slash`, and `add`; an error, and no change, when that is longer
    /// than the limit.
    fn set_path(
        &mut self,
        keep: usize,
        slash: bool,
        add: &str,
        limits: Limits,
    ) -> Result<(), Errno> {
        if keep + usize::from(slash) + add.len() > limits.path_max.min(PATH_CAP) {
            return Err(Errno::NameTooLong);
        }
        // heapless's `String::truncate` would assert a character boundary.
        // SAFETY: `keep` is 0 or just after a '/', a one-byte character, so
        // what is kept is UTF-8.
        unsafe { self.path.as_mut_vec() }.truncate(keep);
        // Both fit: checked above.
        if slash {
            append(&mut self.path, "/");
        }
        append(&mut self.path, add);
        Ok(())
    }

    /// The path without its query.
    pub fn path_only(&self) -> &str {
        split_once_byte(&self.path, b'?').map_or(self.path.as_str(), |(p, _)| p)
    }

    pub fn is_tls(&self) -> bool {
        self.scheme == Scheme::Https
    }

    /// True for IP literals by [`is_ip_literal`] (no TLS host name is
    /// set or checked for them); every other host is a name.
    pub fn host_is_ip(&self) -> bool {
        is_ip_literal(&self.host)
    }

    /// Value of the Host header: host, brackets for IPv6, port when not default.
    pub fn write_authority(&self, w: &mut dyn Out) {
        if self.host.bytes().any(|b| b == b':') {
            w.text("[").text(&self.host).text("]");
        } else {
            w.put(&self.host);
        }
        if self.port != self.scheme.default_port() {
            w.text(":").dec(self.port);
        }
    }

    /// Follow a `Location` header: absolute, scheme-relative, absolute-path or
    /// relative. A redirect from https to http is refused: it would send the
    /// rest of the download in clear text.
    pub fn redirect(&mut self, location: &str, limits: Limits) -> Result<(), Errno> {
        check_bytes(location)?;
        let absolute = strip_byte(location, b'/');
        // What names a host: the whole location, or what follows "//" (the
        // scheme stays).
        let (text, inherit) = match absolute.and_then(|r| strip_byte(r, b'/')) {
            Some(rest) => (rest, Some(self.scheme)),
            None if absolute.is_none() && find_sub(location, "://").is_some() => (location, None),
            None => {
                // A path: an absolute one replaces the whole path, a relative
                // one the last segment of the current path.
                let keep = if absolute.is_some() {
                    0
                } else {
                    let base = self.path_only().as_bytes();
                    base.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1)
                };
                return self.set_path(keep, false, location, limits);
            }
        };
        let parts = parse_parts(text)?;
        let scheme = inherit.or(parts.scheme).ok_or(Errno::Inval)?;
        if self.scheme == Scheme::Https && scheme == Scheme::Http {
            return Err(Errno::Access);
        }
        self.replace(scheme, parts.host, parts.port, parts.rest, limits)
    }

    /// The URL with credential-bearing query parameters redacted, for logs
    /// and diagnostics (a pre-signed URL is a credential).
    // Inlined in its one caller of an id build (`logging::Arg::write`,
    // itself inlined in `records::write_ids`): 36 bytes less than the call.
    #[inline(always)]
    pub fn write_redacted(&self, w: &mut dyn Out) {
        w.text(self.scheme.as_str()).text("://");
        self.write_authority(w);
        let (path, mut query) = match split_once_byte(&self.path, b'?') {
            Some((path, query)) => (path, Some(query)),
            None => (self.path.as_str(), None),
        };
        w.put(path);
        let mut sep = "?";
        while let Some(q) = query {
            let (param, rest) = match split_once_byte(q, b'&') {
                Some((param, rest)) => (param, Some(rest)),
                None => (q, None),
            };
            query = rest;
            w.put(sep);
            sep = "&";
            match split_once_byte(param, b'=') {
                Some((k, _)) if is_secret_param(k) => {
                    w.text(k).text("=REDACTED");
                }
                _ => w.put(param),
            }
        }
    }
}

/// Whether query parameter `k` carries a credential: its name, with `%XX`
/// escapes decoded (a server decodes them too, so `X%2DAmz%2DSignature` is
/// the signature), is one of `SECRET` in any case.
fn is_secret_param(k: &str) -> bool {
    // One string of NUL-terminated names, not a table of ten (pointer,
    // length) pairs.
    const SECRET: &str = "x-amz-signature\0x-amz-credential\0x-amz-security-token\0\
        x-goog-signature\0x-goog-credential\0signature\0sig\0token\0access_token\0\
        awsaccesskeyid\0";
    let mut rest = SECRET.as_bytes();
    while let Some(end) = rest.iter().position(|&b| b == 0) {
        let (name, tail) = rest.split_at(end);
        if eq_lower_decoded(k.as_bytes(), name) {
            return true;
        }
        rest = tail.get(1..).unwrap_or(&[]);
    }
    false
}

/// `s`, percent-decoded once, equals `lower` ignoring the case of `s`.
/// A `%` not followed by two hex digits stands for itself.
fn eq_lower_decoded(s: &[u8], lower: &[u8]) -> bool {
    let mut want = lower.iter();
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        i += 1;
        let mut byte = b;
        if b == b'%' {
            // One loop over the two digits, not a decoder for each.
            let pair = s.get(i..i + 2).and_then(|p| {
                p.iter()
                    .try_fold(0, |v, &d| Some(v * 16 + char::from(d).to_digit(16)?))
            });
            if let Some(v) = pair {
                // Two hex digits: at most 0xff, so the cast keeps the value.
                (byte, i) = (v as u8, i + 2);
            }
        }
        if want.next() != Some(&byte.to_ascii_lowercase()) {
            return false;
        }
    }
    want.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::String;

    fn l() -> Limits {
        Limits::default()
    }

    #[test]
    fn host_and_path() {
        let u = Url::from_host_file("example.com", "fw/app.bin", true, l()).unwrap();
        assert_eq!(u.scheme, Scheme::Https);
        assert_eq!(u.host.as_str(), "example.com");
        assert_eq!(u.port, 443);
        assert_eq!(u.path.as_str(), "/fw/app.bin");
        let u = Url::from_host_file("example.com:8080", "/a", false, l()).unwrap();
        assert_eq!((u.scheme, u.port), (Scheme::Http, 8080));
    }

    #[test]
    fn full_url_in_both_with_colon_in_query() {
        let url = "https://memfault-test.s3.amazonaws.com/abc/2655598254?X-Amz-Credential=AKIA%2F20220727%2Fus-east-1&X-Amz-Date=20220727T141720Z&t=12:30";
        let u = Url::from_host_file(url, url, true, l()).unwrap();
        assert_eq!(u.host.as_str(), "memfault-test.s3.amazonaws.com");
        assert_eq!(u.port, 443);
        assert!(u
            .path
            .starts_with("/abc/2655598254?X-Amz-Credential=AKIA%2F"));
        assert!(u.path.ends_with("t=12:30"));
    }

    #[test]
    fn ip_literals_by_one_strict_rule() {
        for ip in [
            "127.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "10.0.200.9",
            "::1",
            "::",
            "2001:db8::8:800:200c:417a",
            "2001:0db8:0000:0000:0000:0000:0000:0001",
            "fe80::",
            "::ffff:192.0.2.1",
            "1:2:3:4:5:6:1.2.3.4",
        ] {
            assert!(is_ip_literal(ip), "{ip} is an address");
        }
        for name in [
            "127.1",
            "2130706433",
            "0x7f.1",
            "0x7f.0.0.1",
            "0177.0.0.1",
            "127.0.0.01",
            "127.0.0.1.",
            "1.2.3.4.5",
            "256.0.0.1",
            "1.2.3.",
            ".1.2.3",
            "1..2.3",
            "1.2.3.4a",
            "s3.amazonaws.com",
            "1.2.3.example",
            "",
            ":",
            ":::",
            "1:2:3:4:5:6:7",
            "1:2:3:4:5:6:7:8:9",
            "1::2::3",
            "12345::",
            "1.2.3.4::",
            "::1.2.3",
            "[::1]",
            "[::1",
            "::1]",
            "[127.0.0.1]",
            "fe80::1%eth0",
        ] {
            assert!(!is_ip_literal(name), "{name} is a name");
        }
        for (url, ip) in [
            ("https://127.1/f", false),
            ("https://2130706433/f", false),
            ("https://127.0.0.1:8443/f", true),
            ("https://[2001:db8::1]/f", true),
        ] {
            assert_eq!(Url::parse(url, l()).unwrap().host_is_ip(), ip, "{url}");
        }
    }

    #[test]
    fn ipv6_literal() {
        let u = Url::parse("https://[::1]:8443/x", l()).unwrap();
        assert_eq!(u.host.as_str(), "::1");
        assert_eq!(u.port, 8443);
        assert!(u.host_is_ip());
        let mut s = String::new();
        u.write_authority(&mut s);
        assert_eq!(s, "[::1]:8443");
    }

    #[test]
    fn http_scheme_overrides_tag() {
        let u = Url::from_host_file("http://h", "/f", true, l()).unwrap();
        assert_eq!(u.scheme, Scheme::Http);
        assert_eq!(u.port, 80);
    }

    #[test]
    fn rejects_injection_and_garbage() {
        assert_eq!(
            Url::from_host_file("h", "/a\r\nX: y", true, l()).unwrap_err(),
            Errno::Inval
        );
        assert_eq!(
            Url::from_host_file("h", "/a b", true, l()).unwrap_err(),
            Errno::Inval
        );
        assert_eq!(
            Url::from_host_file("h\0", "/a", true, l()).unwrap_err(),
            Errno::Inval
        );
        assert_eq!(
            Url::from_host_file("", "/a", true, l()).unwrap_err(),
            Errno::Inval
        );
        assert_eq!(
            Url::from_host_file("h:99999", "/a", true, l()).unwrap_err(),
            Errno::Inval
        );
        assert_eq!(
            Url::from_host_file("ftp://h", "/a", true, l()).unwrap_err(),
            Errno::NotSup
        );
        assert_eq!(
            Url::from_host_file("user@h", "/a", true, l()).unwrap_err(),
            Errno::Inval
        );
    }

    #[test]
    fn too_long_is_an_error_not_truncation() {
        let long: String = "a".repeat(PATH_CAP);
        assert_eq!(
            Url::from_host_file("h", &long, true, l()).unwrap_err(),
            Errno::NameTooLong
        );
        let limits = Limits {
            host_max: 10,
            path_max: 20,
        };
        assert_eq!(
            Url::from_host_file("abcdefghijk", "/a", true, limits).unwrap_err(),
            Errno::NameTooLong
        );
        assert!(Url::from_host_file("abcdefghij", "/a", true, limits).is_ok());
    }

    #[test]
    fn redirects() {
        let mut u = Url::parse("https://a.test/d/e/f.bin?q=1", l()).unwrap();
        u.redirect("g.bin?z=2", l()).unwrap();
        assert_eq!(u.path.as_str(), "/d/e/g.bin?z=2");
        u.redirect("/root.bin", l()).unwrap();
        assert_eq!(u.path.as_str(), "/root.bin");
        u.redirect("//b.test:444/x", l()).unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("b.test", 444, "/x")
        );
        u.redirect("https://c.test/y", l()).unwrap();
        assert_eq!((u.host.as_str(), u.port), ("c.test", 443));
        assert_eq!(
            u.redirect("http://c.test/y", l()).unwrap_err(),
            Errno::Access
        );
    }

    #[test]
    fn a_redirect_that_does_not_fit_changes_nothing() {
        let limits = Limits {
            host_max: 10,
            path_max: 20,
        };
        let mut u = Url::parse("https://a.test/d/e/f.bin?q=1", limits).unwrap();
        for (location, err) in [
            ("0123456789abcdef", Errno::NameTooLong),
            ("/0123456789abcdefghij", Errno::NameTooLong),
            ("//b.test/0123456789abcdefghij", Errno::NameTooLong),
            ("//b0123456789.test/x", Errno::NameTooLong),
            ("https://b0123456789.test/x", Errno::NameTooLong),
            ("https://b.test/0123456789abcdefghij", Errno::NameTooLong),
            ("ftp://b.test/x", Errno::NotSup),
            ("//b.test:0/x", Errno::Inval),
            ("http://b.test/x", Errno::Access),
        ] {
            assert_eq!(u.redirect(location, limits).unwrap_err(), err, "{location}");
            assert_eq!(
                (u.scheme, u.host.as_str(), u.port, u.path.as_str()),
                (Scheme::Https, "a.test", 443, "/d/e/f.bin?q=1"),
                "{location}"
            );
        }
        // At the limit: 20 bytes of path, 10 of host.
        u.redirect("0123456789abcdef", Limits::DEFAULT).unwrap();
        assert_eq!(u.path.as_str(), "/d/e/0123456789abcdef");
        u.redirect("/0123456789abcdefghi", limits).unwrap();
        assert_eq!(u.path.as_str(), "/0123456789abcdefghi");
        u.redirect("//b012345678:8443/x", limits).unwrap();
        assert_eq!(
            (u.scheme, u.host.as_str(), u.port, u.path.as_str()),
            (Scheme::Https, "b012345678", 8443, "/x")
        );
    }

    #[test]
    fn redaction() {
        let u = Url::parse("https://s3.test/o?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIA%2Fx&X-Amz-Signature=deadbeef&X-Amz-Security-Token=tok", l()).unwrap();
        let mut s = String::new();
        u.write_redacted(&mut s);
        assert_eq!(s, "https://s3.test/o?X-Amz-Algorithm=AWS4&X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&X-Amz-Security-Token=REDACTED");
    }

    #[test]
    fn redaction_of_google_and_percent_encoded_names() {
        let u = Url::parse(
            "https://gcs.test/o?X-Goog-Signature=s1&x-goog-credential=c2&X%2DAmz%2DSignature=s3&x%2damz%2dcredential=c4&%58-Goog-Credential=c5&X-Amz-Security%2DToken=t6&X-Goog-Date=d7&X%2DAmz%2DDate=d8&X-Amz-Signature%=v9&X-Amz-Sig%6Eature%2=v10",
            l(),
        )
        .unwrap();
        let mut s = String::new();
        u.write_redacted(&mut s);
        assert_eq!(s, "https://gcs.test/o?X-Goog-Signature=REDACTED&x-goog-credential=REDACTED&X%2DAmz%2DSignature=REDACTED&x%2damz%2dcredential=REDACTED&%58-Goog-Credential=REDACTED&X-Amz-Security%2DToken=REDACTED&X-Goog-Date=d7&X%2DAmz%2DDate=d8&X-Amz-Signature%=v9&X-Amz-Sig%6Eature%2=v10");
        assert!(eq_lower_decoded(b"%25", b"%") && eq_lower_decoded(b"%", b"%"));
        assert!(!eq_lower_decoded(b"%2", b"-") && !eq_lower_decoded(b"sig%", b"sig"));
        assert!(!eq_lower_decoded(b"X%252DAmz", b"x-amz"));
    }
}
