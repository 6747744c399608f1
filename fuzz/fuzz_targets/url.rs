// SPDX-License-Identifier: Apache-2.0
//! URL parsing and redirects: no panic, the limits hold, no byte that could
//! break the request line or add a header gets through, an https URL is never
//! redirected to http, and the request written from any URL has exactly the
//! request line, Host and Range; and no credential's value survives the
//! redaction for logs.
#![no_main]

use fota_rs::http::{write_request, Range};
use fota_rs::url::{Limits, Url, HOST_CAP, PATH_CAP};
use fota_rs_fuzz::Input;
use libfuzzer_sys::fuzz_target;

fn check(u: &Url, limits: Limits) {
    assert!(u.path.starts_with('/'), "path {:?}", u.path);
    assert!(
        u.path.len() <= limits.path_max,
        "path longer than the limit"
    );
    assert!(
        u.host.len() <= limits.host_max,
        "host longer than the limit"
    );
    let printable = |s: &str| s.bytes().all(|b| (0x21..=0x7e).contains(&b));
    assert!(printable(&u.host) && printable(&u.path), "{u:?}");
    let mut req = String::new();
    let range = Range {
        first: 5,
        last: Some(9),
    };
    write_request(&mut req, u, Some(range));
    let lines: Vec<&str> = req.split("\r\n").collect();
    assert_eq!(lines.len(), 5, "request framing broken: {req:?}");
    assert!(lines[0].starts_with("GET /") && lines[0].ends_with(" HTTP/1.1"));
    assert_eq!(lines[0].matches(' ').count(), 2, "{req:?}");
    assert!(lines[1].starts_with("Host: ") && !lines[1][6..].contains(' '));
    assert_eq!(lines[2], "Range: bytes=5-9");
    assert_eq!((lines[3], lines[4]), ("", ""));
    check_redacted(u);
}

/// Query parameters that carry credentials, by name as a server reads it
/// (percent-decoded once, any case).
const SECRET_NAMES: [&str; 10] = [
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "x-goog-signature",
    "x-goog-credential",
    "signature",
    "sig",
    "token",
    "access_token",
    "awsaccesskeyid",
];

/// `s` percent-decoded once ("%" without two hex digits stays), lowercased.
fn decoded_lower(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let hex = |i: usize| b.get(i).and_then(|&c| (c as char).to_digit(16));
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match (b[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out.to_ascii_lowercase()
}

/// The redacted URL is the URL with the value of every credential parameter
/// replaced, and nothing else changed.
fn check_redacted(u: &Url) {
    let mut red = String::new();
    u.write_redacted(&mut red);
    let mut want = String::new();
    u.write_authority(&mut want);
    want = format!("{}://{want}", u.scheme.as_str());
    match u.path.split_once('?') {
        None => want += u.path.as_str(),
        Some((path, query)) => {
            want += path;
            let params: Vec<String> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((k, _))
                        if SECRET_NAMES
                            .iter()
                            .any(|n| decoded_lower(k) == n.as_bytes()) =>
                    {
                        format!("{k}=REDACTED")
                    }
                    _ => p.to_string(),
                })
                .collect();
            want = format!("{want}?{}", params.join("&"));
        }
    }
    assert_eq!(red, want, "a credential survives the redaction of {u:?}");
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input(data);
    let sel = inp.byte();
    let lim = |b: u8, cap: usize| {
        if b == 0 {
            cap
        } else {
            (usize::from(b) * 5).min(cap)
        }
    };
    let limits = Limits {
        host_max: lim(inp.byte(), HOST_CAP),
        path_max: lim(inp.byte(), PATH_CAP),
    };
    let text = String::from_utf8_lossy(inp.rest());
    // 0x01 never survives check_bytes, so it is free to separate the strings.
    let mut parts = text.splitn(3, '\u{1}');
    let (a, b, c) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let candidates = [
        Url::from_host_file(a, b, sel & 1 != 0, limits),
        Url::parse(a, limits),
    ];
    for mut u in candidates.into_iter().flatten() {
        check(&u, limits);
        let was_tls = u.is_tls();
        // The engine redirects a clone and keeps it only on success.
        if u.redirect(c, limits).is_ok() {
            check(&u, limits);
            assert!(!was_tls || u.is_tls(), "https redirected to http: {u:?}");
        }
    }
});
