// SPDX-License-Identifier: Apache-2.0
//! fota-rs-log: a console log on stdin, written to stdout with every fota-rs
//! record id line (`<inf> fota_rs: #41 12288 262144`) in words.
//!
//! Device builds send records as ids (no cargo feature `log-text`, Kconfig
//! FOTA_RS_LOG_TEXT=n): `fota-rs-log < console.txt` prints them as a
//! `log-text` build would, from the same table (src/records.rs). Every other
//! line, and the text around a record (timestamps, level, module), is kept.
//! Usage: `fota-rs-log [FILE]` (stdin without FILE).

use std::io::{BufRead, Write};

struct Words(String);

impl fota_rs::text::Out for Words {
    fn put(&mut self, s: &str) {
        self.0.push_str(s);
    }
}

/// The failure line's codes in words (`hint=#N`, a check's name and
/// numbers, the errno descriptions a device build leaves out), in
/// `Download failed` and `Upgrade refused` (src/diag.rs).
fn expand_diag(line: String) -> String {
    let mut words = Words(String::with_capacity(line.len() + 128));
    fota_rs::diag::expand_codes(&line, &mut words);
    words.0
}

/// One console line in words.
fn decode(line: &str) -> String {
    let mut words = Words(String::with_capacity(line.len() + 64));
    fota_rs::records::expand_line(line, &mut words);
    expand_diag(words.0)
}

fn main() {
    let input: Box<dyn BufRead> = match std::env::args_os().nth(1) {
        Some(path) => match std::fs::File::open(&path) {
            Ok(f) => Box::new(std::io::BufReader::new(f)),
            Err(e) => {
                eprintln!("fota-rs-log: {}: {e}", path.to_string_lossy());
                std::process::exit(2);
            }
        },
        None => Box::new(std::io::stdin().lock()),
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for line in input.split(b'\n') {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                eprintln!("fota-rs-log: {e}");
                std::process::exit(2);
            }
        };
        // Bytes that are not UTF-8 (a garbled UART) pass through as they are.
        let (text, cr) = match line.strip_suffix(b"\r") {
            Some(l) => (l, true),
            None => (&line[..], false),
        };
        let written = match std::str::from_utf8(text) {
            Ok(s) => out.write_all(decode(s).as_bytes()),
            Err(_) => out.write_all(text),
        };
        let end: &[u8] = if cr { b"\r\n" } else { b"\n" };
        if written.and_then(|()| out.write_all(end)).is_err() {
            // stdout closed (a pipe into head): nothing more to do.
            return;
        }
    }
    let _ = out.flush();
}
