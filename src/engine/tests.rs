// SPDX-License-Identifier: Apache-2.0
//! The engine against an in-memory server and NOR flash.
use super::*;
extern crate std;
use crate::diag::TcpProbe;
use crate::mcuboot::SlotWriter;
use crate::port::{ConnectError, ConnectParams, ConnectStage, Detail, FlashGeometry};
use std::vec::Vec;

const SLOT: u32 = 64 * 1024;
const PAGE: u32 = 4096;

/// A synthetic but well-formed MCUboot image.
fn image(payload_len: usize) -> Vec<u8> {
    let hdr_size = 0x200usize;
    let mut v = std::vec![0u8; hdr_size];
    v[..4].copy_from_slice(&crate::mcuboot::IMAGE_MAGIC.to_le_bytes());
    v[8..10].copy_from_slice(&(hdr_size as u16).to_le_bytes());
    v[12..16].copy_from_slice(&(payload_len as u32).to_le_bytes());
    v[20] = 1;
    v.extend((0..payload_len).map(|i| (i * 7 + i / 251) as u8));
    let digest = crate::sha256::digest(&v);
    v.extend_from_slice(&0x6907u16.to_le_bytes());
    v.extend_from_slice(&(4u16 + 36).to_le_bytes());
    v.extend_from_slice(&0x10u16.to_le_bytes());
    v.extend_from_slice(&32u16.to_le_bytes());
    v.extend_from_slice(&digest);
    v
}

#[derive(Default, Clone)]
struct Behaviour {
    chunked: bool,
    close_each: bool,
    ignore_range: bool,
    /// Cut the connection once when this file offset is reached.
    reset_at: Option<usize>,
    /// Tags whose CA validates the server.
    good_tags: Vec<i32>,
    port_closed: bool,
    status: Option<u16>,
    /// Answer one pair of pipelined requests in the wrong order.
    misorder_once: bool,
    /// One byte per recv, one second per byte.
    trickle: bool,
    s0_active: Option<bool>,
    /// The running image is a test swap not yet confirmed.
    unconfirmed: bool,
    /// Simulated modem: None has no delta target; Some(Err(Again)) is dirty.
    modem: Option<Result<u32, Errno>>,
    /// Page size the port reports (None: PAGE).
    page_size: Option<u32>,
    /// Something else writes the trailer's last byte once the image
    /// reaches the slot's last page.
    scribble_trailer: bool,
    /// Reset the connection when a request arrives while an earlier
    /// response is still unread (a TLS stack that cannot take records
    /// packing several responses).
    reset_when_pipelined: bool,
    /// Answer every ranged request with a 206 head for the range, no
    /// body, and `Connection: close`.
    empty_206: bool,
    /// Redirects (`status` 3xx) point at the requested path itself.
    redirect_self: bool,
    /// Every 206 head this many bytes long (an `x-amz-version-id`
    /// header fills it up); from the response numbered `.1` on (0 is
    /// the first), `.2` bytes longer.
    head_len: Option<(usize, usize, usize)>,
    /// A modem's TLS buffer: a response longer than this (head and
    /// body) resets the connection.
    fit: Option<usize>,
    /// The send call with this index (counted over all connections) fails
    /// with ECONNRESET, once.
    fail_send: Option<usize>,
    /// Answers at most this many requests per connection, the last with
    /// `Connection: close`, then closes (Apache's MaxKeepAliveRequests,
    /// nginx's keepalive_requests).
    keepalive_max: Option<usize>,
}

struct Fake {
    file: Vec<u8>,
    b: Behaviour,
    inbox: Vec<u8>,
    outbox: Vec<u8>,
    closed: bool,
    cut: bool,
    connects: Vec<Vec<i32>>,
    /// The TLS host name of each TLS connect (None: an IP, no name check).
    hostnames: Vec<Option<std::string::String>>,
    requests: Vec<std::string::String>,
    flash: Vec<u8>,
    upgraded: Option<bool>,
    kv: std::collections::BTreeMap<std::string::String, Vec<u8>>,
    held: Option<std::string::String>,
    clock_ms: u64,
    modem_data: Vec<u8>,
    modem_applied: Option<bool>,
    modem_erases: u32,
    /// Most requests received back to back without a recv in between.
    max_burst: usize,
    burst: usize,
    /// Per send call: the requests it completed, and whether it ended
    /// inside a request.
    sends: Vec<(usize, bool)>,
    /// The connection was reset: recv fails with ECONNRESET.
    rst: bool,
    resets: u32,
    /// Requests that arrived while an earlier response was unread, after
    /// the first reset.
    pipelined_after_reset: u32,
    /// 206 responses made with `head_len`.
    ranged_answers: usize,
    /// Responses that did not fit `fit`, and the requests received
    /// when the last one was made.
    misfits: u32,
    misfit_at: usize,
    /// Responses on the current connection (for `keepalive_max`).
    answered_on_conn: usize,
}

impl Fake {
    fn new(file: Vec<u8>, b: Behaviour) -> Fake {
        Fake {
            file,
            b,
            inbox: Vec::new(),
            outbox: Vec::new(),
            closed: false,
            cut: false,
            connects: Vec::new(),
            hostnames: Vec::new(),
            requests: Vec::new(),
            flash: std::vec![0x5a; SLOT as usize],
            upgraded: None,
            kv: Default::default(),
            held: None,
            clock_ms: 0,
            modem_data: Vec::new(),
            modem_applied: None,
            modem_erases: 0,
            max_burst: 0,
            burst: 0,
            sends: Vec::new(),
            rst: false,
            resets: 0,
            pipelined_after_reset: 0,
            ranged_answers: 0,
            misfits: 0,
            misfit_at: 0,
            answered_on_conn: 0,
        }
    }

    fn respond(&mut self, req: &str) {
        let range = req
            .lines()
            .find_map(|l| l.strip_prefix("Range: bytes="))
            .map(|r| {
                let (a, b) = r.split_once('-').unwrap();
                let a: usize = a.parse().unwrap();
                let b = if b.is_empty() {
                    self.file.len() - 1
                } else {
                    b.parse::<usize>().unwrap().min(self.file.len() - 1)
                };
                (a, b)
            });
        let total = self.file.len();
        let mut head = std::string::String::new();
        if let Some(s) = self.b.status {
            head += &std::format!("HTTP/1.1 {} X\r\nContent-Length: 0\r\n", s);
            if (300..400).contains(&s) && self.b.redirect_self {
                let path = req.split(' ').nth(1).unwrap();
                head += &std::format!("Location: {path}\r\n");
            } else if (300..400).contains(&s) {
                // A new place each time: the URL tells which hop it is.
                head += &std::format!("Location: /hop{}.bin\r\n", self.connects.len());
            }
            head += "\r\n";
            self.outbox.extend_from_slice(head.as_bytes());
            return;
        }
        if let (Some((a, b)), true) = (range, self.b.empty_206) {
            head += &std::format!(
                "HTTP/1.1 206 X\r\nContent-Range: bytes {a}-{b}/{total}\r\nConnection: close\r\n\r\n"
            );
            self.outbox.extend_from_slice(head.as_bytes());
            self.closed = true;
            return;
        }
        if range.is_some_and(|(a, _)| a >= total) && !self.b.ignore_range {
            head += &std::format!(
                "HTTP/1.1 416 X\r\nContent-Range: bytes */{total}\r\nContent-Length: 0\r\n\r\n"
            );
            self.outbox.extend_from_slice(head.as_bytes());
            return;
        }
        let (a, b, status) = match range {
            Some((a, b)) if !self.b.ignore_range => (a, b, 206),
            _ => (0, total - 1, 200),
        };
        head += &std::format!("HTTP/1.1 {} X\r\nServer: fake\r\n", status);
        if status == 206 {
            head += &std::format!("Content-Range: bytes {}-{}/{}\r\n", a, b, total);
        }
        self.answered_on_conn += 1;
        let last_on_conn = self
            .b
            .keepalive_max
            .is_some_and(|max| self.answered_on_conn >= max);
        if self.b.close_each || last_on_conn {
            head += "Connection: close\r\n";
        }
        let body = &self.file[a..=b];
        let mut bytes = Vec::new();
        if self.b.chunked {
            head += "Transfer-Encoding: chunked\r\n\r\n";
            bytes.extend_from_slice(head.as_bytes());
            if let Some(at) = self.b.reset_at.filter(|&at| at > a && at <= b && !self.cut) {
                // Cut inside the stream: the chunks before `at`, no end.
                for c in body[..at - a].chunks(333) {
                    bytes.extend_from_slice(std::format!("{:x}\r\n", c.len()).as_bytes());
                    bytes.extend_from_slice(c);
                    bytes.extend_from_slice(b"\r\n");
                }
                self.cut = true;
                self.outbox.extend_from_slice(&bytes);
                self.closed = true;
                return;
            }
            for c in body.chunks(333) {
                bytes.extend_from_slice(std::format!("{:x}\r\n", c.len()).as_bytes());
                bytes.extend_from_slice(c);
                bytes.extend_from_slice(b"\r\n");
            }
            bytes.extend_from_slice(b"0\r\n\r\n");
        } else {
            head += &std::format!("Content-Length: {}\r\n", body.len());
            if let Some((len, from, more)) = self.b.head_len.filter(|_| status == 206) {
                let len = len + if self.ranged_answers >= from { more } else { 0 };
                let pad = len - head.len() - "x-amz-version-id: \r\n\r\n".len();
                head += &std::format!("x-amz-version-id: {}\r\n", "v".repeat(pad));
                self.ranged_answers += 1;
            }
            head += "\r\n";
            if self.b.fit.is_some_and(|fit| head.len() + body.len() > fit) {
                // The modem cannot decrypt it and fails the socket.
                self.misfits += 1;
                self.misfit_at = self.requests.len();
                self.rst = true;
                self.closed = true;
                return;
            }
            bytes.extend_from_slice(head.as_bytes());
            if let Some(at) = self
                .b
                .reset_at
                .filter(|&at| at >= a && at <= b && !self.cut)
            {
                bytes.extend_from_slice(&body[..at - a]);
                self.cut = true;
                self.outbox.extend_from_slice(&bytes);
                self.closed = true;
                return;
            }
            bytes.extend_from_slice(body);
        }
        self.outbox.extend_from_slice(&bytes);
        if self.b.close_each || last_on_conn {
            self.closed = true;
        }
    }
    /// The requests completed in the inbox, answered as they arrive.
    fn take_requests(&mut self) {
        while let Some(end) = self.inbox.windows(4).position(|w| w == b"\r\n\r\n") {
            if self.closed {
                // Closed after answering a request of the same send: the
                // rest is never read.
                self.inbox.clear();
                return;
            }
            let req: Vec<u8> = self.inbox.drain(..end + 4).collect();
            let req = std::string::String::from_utf8(req).unwrap();
            self.requests.push(req.clone());
            if !self.outbox.is_empty() {
                if self.resets > 0 {
                    self.pipelined_after_reset += 1;
                }
                if self.b.reset_when_pipelined {
                    self.outbox.clear();
                    self.rst = true;
                    self.closed = true;
                    self.resets += 1;
                    return;
                }
            }
            self.burst += 1;
            self.max_burst = self.max_burst.max(self.burst);
            if self.b.misorder_once && self.requests.len() > 1 && self.held.is_none() {
                self.held = Some(req);
                continue;
            }
            self.respond(&req);
            if let Some(first) = self.held.take() {
                self.b.misorder_once = false;
                self.respond(&first);
            }
        }
    }
}

impl Port for Fake {
    fn connect(&mut self, p: &ConnectParams) -> Result<Handle, ConnectError> {
        let refuse = |stage| ConnectError {
            errno: Errno::ConnRefused,
            stage,
            detail: Detail::new(),
        };
        if self.b.port_closed {
            return Err(refuse(ConnectStage::Unknown));
        }
        assert!(self.connects.len() < 1000, "the engine reconnects forever");
        if let Some(tls) = p.tls {
            self.connects.push(tls.sec_tags.to_vec());
            self.hostnames.push(tls.hostname.map(Into::into));
            if !tls.sec_tags.iter().any(|t| self.b.good_tags.contains(t)) {
                return Err(refuse(ConnectStage::Unknown));
            }
        }
        self.inbox.clear();
        self.outbox.clear();
        self.closed = false;
        self.rst = false;
        self.answered_on_conn = 0;
        Ok(Handle(1))
    }
    fn send(&mut self, _: Handle, data: &[u8]) -> Result<usize, Errno> {
        if self.closed {
            return Err(Errno::ConnReset);
        }
        if self.b.fail_send == Some(self.sends.len()) {
            // The peer stopped reading: this send fails, what was asked
            // before is still answered.
            self.b.fail_send = None;
            self.sends.push((0, false));
            return Err(Errno::ConnReset);
        }
        self.inbox.extend_from_slice(data);
        let before = self.requests.len();
        self.take_requests();
        self.sends
            .push((self.requests.len() - before, !self.inbox.is_empty()));
        Ok(data.len())
    }
    fn recv(&mut self, _: Handle, buf: &mut [u8], _: u32) -> Result<usize, Errno> {
        self.burst = 0;
        if self.rst {
            return Err(Errno::ConnReset);
        }
        if self.outbox.is_empty() {
            return if self.closed {
                Ok(0)
            } else {
                Err(Errno::TimedOut)
            };
        }
        let mut n = buf.len().min(self.outbox.len()).min(700);
        if self.b.trickle {
            n = 1;
            self.clock_ms += 1000;
        }
        buf[..n].copy_from_slice(&self.outbox[..n]);
        self.outbox.drain(..n);
        Ok(n)
    }
    fn close(&mut self, _: Handle) {
        self.closed = true;
        self.outbox.clear();
        self.held = None;
    }
    fn flash_geometry(&mut self) -> Result<FlashGeometry, Errno> {
        Ok(FlashGeometry {
            slot_size: SLOT,
            page_size: self.b.page_size.unwrap_or(PAGE),
            write_block: 4,
            erased_value: 0xff,
        })
    }
    fn flash_erase(&mut self, off: u32, len: u32) -> Result<(), Errno> {
        assert_eq!(off % PAGE, 0);
        self.flash[off as usize..(off + len) as usize].fill(0xff);
        Ok(())
    }
    fn flash_write(&mut self, off: u32, data: &[u8]) -> Result<(), Errno> {
        assert_eq!(off % 4, 0);
        assert_eq!(data.len() % 4, 0);
        for (i, &d) in data.iter().enumerate() {
            let cell = &mut self.flash[off as usize + i];
            assert_eq!(*cell & d, d, "write needs an erase at {}", off as usize + i);
            *cell &= d;
        }
        if self.b.scribble_trailer && off + PAGE >= SLOT {
            let last = self.flash.len() - 1;
            self.flash[last] = 0x03;
        }
        Ok(())
    }
    fn flash_read(&mut self, off: u32, buf: &mut [u8]) -> Result<(), Errno> {
        buf.copy_from_slice(&self.flash[off as usize..off as usize + buf.len()]);
        Ok(())
    }
    fn request_upgrade(&mut self, permanent: bool) -> Result<(), Errno> {
        self.upgraded = Some(permanent);
        Ok(())
    }
    fn kv_load(&mut self, k: &str, buf: &mut [u8]) -> Result<usize, Errno> {
        let v = self.kv.get(k).ok_or(Errno::NoEnt)?;
        buf[..v.len()].copy_from_slice(v);
        Ok(v.len())
    }
    fn kv_save(&mut self, k: &str, v: &[u8]) -> Result<(), Errno> {
        self.kv.insert(k.into(), v.to_vec());
        Ok(())
    }
    fn kv_delete(&mut self, k: &str) -> Result<(), Errno> {
        self.kv.remove(k);
        Ok(())
    }
    fn uptime_ms(&mut self) -> u64 {
        self.clock_ms
    }
    fn sleep_ms(&mut self, ms: u32) {
        self.clock_ms += u64::from(ms);
    }
    fn s0_active(&mut self) -> Result<bool, Errno> {
        self.b.s0_active.ok_or(Errno::NotSup)
    }
    fn running_confirmed(&mut self) -> Result<bool, Errno> {
        Ok(!self.b.unconfirmed)
    }
    fn modem_delta_offset(&mut self) -> Result<u32, Errno> {
        self.b.modem.ok_or(Errno::NotSup)?
    }
    fn modem_delta_erase(&mut self) -> Result<(), Errno> {
        self.modem_erases += 1;
        self.modem_data.clear();
        self.b.modem = Some(Ok(0));
        Ok(())
    }
    fn modem_delta_write(&mut self, d: &[u8]) -> Result<(), Errno> {
        self.modem_data.extend_from_slice(d);
        Ok(())
    }
    fn modem_delta_done(&mut self, apply: bool) -> Result<(), Errno> {
        self.modem_applied = Some(apply);
        Ok(())
    }
}

fn req<'a>(host: &'a str, file: &'a str, sec_tags: &'a [i32]) -> Request<'a> {
    Request {
        host,
        file,
        sec_tags,
        pdn_id: 0,
        frag_size: 0,
        expected: ImageSet::ANY,
    }
}

/// A download of `https://h.test/f` with tag 42 that must complete; the
/// engine afterwards, for its state.
fn run_to_end(f: &mut Fake, cfg: Config) -> Engine {
    let mut e = Engine::new(cfg);
    let rq = req("https://h.test/f", "https://h.test/f", &[42]);
    e.start(f, &rq).unwrap();
    e.run(f, &AtomicBool::new(false), &mut |_| {}).unwrap();
    e
}

fn download(fake: &mut Fake, url: &str, tags: &[i32], cfg: Config) -> Result<Finished, Error> {
    let mut e = Engine::new(cfg);
    let req = req(url, url, tags);
    e.start(fake, &req)?;
    let cancel = AtomicBool::new(false);
    e.run(fake, &cancel, &mut |_| {})
}

fn check_slot(fake: &Fake, img: &[u8]) {
    assert_eq!(&fake.flash[..img.len()], img);
    assert!(
        fake.flash[img.len()..].iter().all(|&b| b == 0xff),
        "tail not erased"
    );
}

fn tls() -> Behaviour {
    Behaviour {
        good_tags: std::vec![42],
        ..Default::default()
    }
}

#[test]
fn https_fragments() {
    let img = image(10_000);
    let mut f = Fake::new(img.clone(), tls());
    let v = download(
        &mut f,
        "https://s3.test/fw.bin?X-Amz-Signature=abc",
        &[42],
        Config::default(),
    )
    .unwrap();
    assert_eq!(v.image_len as usize, img.len());
    check_slot(&f, &img);
    assert_eq!(f.upgraded, Some(false));
    assert_eq!(f.requests.len(), img.len().div_ceil(2048));
    assert_eq!(
        f.requests[0],
        "GET /fw.bin?X-Amz-Signature=abc HTTP/1.1\r\nHost: s3.test\r\nRange: bytes=0-2047\r\n\r\n"
    );
}

#[test]
fn plain_http_stream_chunked_and_close() {
    for b in [
        Behaviour::default(),
        Behaviour {
            chunked: true,
            ..Default::default()
        },
        Behaviour {
            close_each: true,
            ..Default::default()
        },
    ] {
        let img = image(9_999);
        let mut f = Fake::new(img.clone(), b);
        download(&mut f, "http://h.test/fw.bin", &[], Config::default()).unwrap();
        check_slot(&f, &img);
        assert_eq!(f.requests.len(), 1);
    }
}

#[test]
fn https_chunked_close_each_and_ignored_range() {
    for b in [
        Behaviour {
            chunked: true,
            ..tls()
        },
        Behaviour {
            close_each: true,
            ..tls()
        },
        Behaviour {
            ignore_range: true,
            ..tls()
        },
    ] {
        let img = image(7_000);
        let ignores_range = b.ignore_range;
        let mut f = Fake::new(img.clone(), b);
        download(&mut f, "https://h.test/fw.bin", &[42], Config::default()).unwrap();
        check_slot(&f, &img);
        if ignores_range {
            assert_eq!(f.requests.len(), 1, "the file once: {:?}", f.requests);
        }
    }
}

#[test]
fn reset_mid_body_resumes_at_the_exact_byte() {
    for (url, at) in [("http://h.test/f", 5_001usize), ("https://h.test/f", 3_333)] {
        let img = image(12_000);
        let mut f = Fake::new(
            img.clone(),
            Behaviour {
                reset_at: Some(at),
                ..tls()
            },
        );
        download(&mut f, url, &[42], Config::default()).unwrap();
        check_slot(&f, &img);
        let resumed = std::format!("Range: bytes={}-", at);
        assert!(
            f.requests.iter().any(|r| r.contains(&resumed)),
            "{:?}",
            f.requests
        );
    }
}

#[test]
fn fallback_tag_and_diagnostics() {
    let img = image(3_000);
    let mut f = Fake::new(
        img.clone(),
        Behaviour {
            good_tags: std::vec![1004],
            ..Default::default()
        },
    );
    let mut cfg = Config::default();
    cfg.fallback_sec_tags.push(1004).unwrap();
    download(&mut f, "https://s3.test/f", &[1003], cfg).unwrap();
    assert_eq!(f.connects[0], [1003]);
    assert_eq!(f.connects[1], [1004]);
    assert!(f.connects[2..].iter().all(|c| c == &[1004]));
    check_slot(&f, &img);

    let mut f = Fake::new(
        img,
        Behaviour {
            good_tags: std::vec![1004],
            ..Default::default()
        },
    );
    let mut e = Engine::new(Config::default());
    let req = req("https://s3.test/f", "https://s3.test/f", &[1003]);
    let err = e.start(&mut f, &req).unwrap_err();
    assert_eq!(err, Error::new(Stage::Tls, Errno::ConnRefused));
    assert_eq!(e.diag().tcp_probe, TcpProbe::PortOpen);
    let mut text = std::string::String::new();
    e.diag().write_text(&mut text, e.url());
    assert!(text.contains("sec_tags_tried=1003"), "{text}");
    assert!(
        text.contains("s3.test:443 refused with sec_tag 1003 (plain TCP to it works)"),
        "{text}"
    );
}

/// Only a strict IP literal connects without a name to check; a host a
/// resolver may also read as an address ("127.1") is a name.
#[test]
fn only_strict_ip_literals_skip_the_name_check() {
    for (url, name) in [
        ("https://127.1/f", Some("127.1")),
        ("https://2130706433/f", Some("2130706433")),
        ("https://0x7f.0.0.1/f", Some("0x7f.0.0.1")),
        ("https://s3.test/f", Some("s3.test")),
        ("https://127.0.0.1/f", None),
        ("https://[::1]/f", None),
    ] {
        let mut f = Fake::new(image(100), tls());
        let mut e = Engine::new(Config::default());
        e.start(&mut f, &req(url, url, &[42])).unwrap();
        assert_eq!(f.hostnames, [name.map(Into::into)], "{url}");
    }
}

#[test]
fn closed_port_is_not_a_certificate_problem() {
    let mut f = Fake::new(
        image(100),
        Behaviour {
            port_closed: true,
            ..tls()
        },
    );
    let mut e = Engine::new(Config::default());
    let req = req("s3.test", "f", &[42]);
    let err = e.start(&mut f, &req).unwrap_err();
    assert_eq!(err, Error::new(Stage::Connect, Errno::ConnRefused));
    assert_eq!(e.diag().tcp_probe, TcpProbe::Refused);
}

#[test]
fn corrupted_payload_is_never_scheduled() {
    let mut img = image(5_000);
    img[0x300] ^= 1;
    let mut f = Fake::new(img, tls());
    let err = download(&mut f, "https://h.test/f", &[42], Config::default()).unwrap_err();
    assert_eq!(err, Error::new(Stage::Image, Errno::IlSeq));
    assert_eq!(f.upgraded, None);
}

#[test]
fn too_big_and_wrong_type_and_http_errors() {
    let mut f = Fake::new(image(SLOT as usize), tls());
    let err = download(&mut f, "https://h.test/f", &[42], Config::default()).unwrap_err();
    assert_eq!(err, Error::new(Stage::Image, Errno::FileTooBig));
    let mut f = Fake::new(std::vec![0u8; 5000], tls());
    let err = download(&mut f, "https://h.test/f", &[42], Config::default()).unwrap_err();
    assert_eq!(err, Error::new(Stage::Image, Errno::IlSeq));
    for (s, e) in [(404, Errno::NoEnt), (403, Errno::Access)] {
        let mut f = Fake::new(
            image(100),
            Behaviour {
                status: Some(s),
                ..tls()
            },
        );
        let err = download(&mut f, "https://h.test/f", &[42], Config::default()).unwrap_err();
        assert_eq!(err, Error::new(Stage::Http, e));
        assert_eq!(f.upgraded, None);
    }
}

#[cfg(feature = "progress-save")]
#[test]
fn resumes_after_a_reboot_from_the_saved_page() {
    let img = image(30_000);
    let cfg = Config {
        retries: 0,
        ..Config::default()
    };
    // First boot: the link drops at byte 13_000 and no retry is left.
    let mut f = Fake::new(
        img.clone(),
        Behaviour {
            reset_at: Some(13_000),
            ..tls()
        },
    );
    let err = download(&mut f, "https://h.test/f?sig=1", &[42], cfg.clone()).unwrap_err();
    assert_eq!(err.errno, Errno::ConnReset);
    let saved = crate::mcuboot::Progress::decode(&f.kv[PROGRESS_KEY]).unwrap();
    assert_eq!(saved.offset, 12_288, "last completed page before the cut");
    // Garbage written after the checkpoint (a page being written at the
    // power cut) must not matter: the page is erased again.
    f.flash[12_300] = 0;
    // Second boot: a fresh engine, a new pre-signed query, same flash and kv.
    f.b.reset_at = None;
    f.requests.clear();
    download(&mut f, "https://h.test/f?sig=2", &[42], cfg.clone()).unwrap();
    check_slot(&f, &img);
    assert!(
        f.requests[0].contains("Range: bytes=12288-14335"),
        "{}",
        f.requests[0]
    );
    assert!(
        !f.kv.contains_key(PROGRESS_KEY),
        "progress must be cleared after success"
    );

    // Saved progress whose digest does not match the flash: start over.
    let mut f = Fake::new(
        img.clone(),
        Behaviour {
            reset_at: Some(13_000),
            ..tls()
        },
    );
    let _ = download(&mut f, "https://h.test/f", &[42], cfg.clone());
    f.flash[100] ^= 0xff;
    f.b.reset_at = None;
    f.requests.clear();
    download(&mut f, "https://h.test/f", &[42], cfg.clone()).unwrap();
    assert!(
        f.requests[0].contains("Range: bytes=0-2047"),
        "{}",
        f.requests[0]
    );
    check_slot(&f, &img);

    // A different URL starts over too.
    let mut f = Fake::new(
        img.clone(),
        Behaviour {
            reset_at: Some(13_000),
            ..tls()
        },
    );
    let _ = download(&mut f, "https://h.test/f", &[42], cfg.clone());
    f.b.reset_at = None;
    f.requests.clear();
    download(&mut f, "https://h.test/other", &[42], cfg).unwrap();
    assert!(
        f.requests[0].contains("Range: bytes=0-2047"),
        "{}",
        f.requests[0]
    );
    check_slot(&f, &img);
}

#[test]
fn pipelines_ranges_and_falls_back_when_the_server_misorders() {
    let img = image(40_000);
    let mut f = Fake::new(img.clone(), tls());
    download(&mut f, "https://h.test/f", &[42], Config::default()).unwrap();
    check_slot(&f, &img);
    assert!(
        f.max_burst >= 3,
        "requests were not pipelined: {}",
        f.max_burst
    );
    assert_eq!(
        f.requests.len(),
        img.len().div_ceil(2048),
        "no range asked twice"
    );

    let mut f = Fake::new(img.clone(), tls());
    let cfg = Config {
        pipeline_depth: 1,
        ..Config::default()
    };
    download(&mut f, "https://h.test/f", &[42], cfg).unwrap();
    assert_eq!(f.max_burst, 1, "depth 1 must not pipeline");

    let mut f = Fake::new(
        img.clone(),
        Behaviour {
            misorder_once: true,
            ..tls()
        },
    );
    let e = run_to_end(&mut f, Config::default());
    check_slot(&f, &img);
    assert_eq!(e.depth_cap, 1, "must fall back to one request at a time");
}

/// A TLS stack that breaks when several responses are in flight (the
/// nRF91 modem and records packing pipelined responses): after the first
/// reset the download goes on one request at a time, and completes.
#[test]
fn a_reset_with_pipelined_requests_in_flight_falls_back_to_depth_one() {
    let img = image(40_000);
    let mut f = Fake::new(
        img.clone(),
        Behaviour {
            reset_when_pipelined: true,
            ..tls()
        },
    );
    let e = run_to_end(&mut f, Config::default());
    check_slot(&f, &img);
    assert_eq!(f.upgraded, Some(false));
    assert_eq!(f.resets, 1, "pipelined again after the reset");
    assert_eq!(
        f.pipelined_after_reset, 0,
        "more than one request outstanding after the first reset"
    );
    assert_eq!(e.depth_cap, 1);
}

/// A server that ends keep-alive after a number of requests and says so
/// (`Connection: close` on the last answer) drops the requests pipelined
/// behind it: the engine asks them again on a new connection, still
/// pipelined, since nothing went wrong with pipelining itself.
#[test]
fn an_announced_keep_alive_limit_keeps_the_pipeline() {
    let img = image(40_000);
    let mut f = Fake::new(
        img.clone(),
        Behaviour {
            keepalive_max: Some(5),
            ..tls()
        },
    );
    let e = run_to_end(&mut f, Config::default());
    check_slot(&f, &img);
    assert_eq!(f.upgraded, Some(false));
    // 20 ranges at 5 answers per connection.
    assert!(f.connects.len() >= 4, "{} connections", f.connects.len());
    assert!(f.max_burst > 1, "never pipelined");
    assert!(e.depth_cap > 1, "fell back to one request at a time");
}

/// The requests each send of `f` carried (sends that carried none left
/// out); every send ends between two requests, but the one after the first
/// request, which starts the second.
fn requests_per_send(f: &Fake) -> Vec<usize> {
    assert_eq!(f.sends.get(1), Some(&(0, true)), "{:?}", f.sends);
    assert!(
        f.sends.iter().skip(2).all(|&(_, inside)| !inside),
        "a send ended inside a request: {:?}",
        f.sends
    );
    f.sends.iter().map(|&(n, _)| n).filter(|&n| n > 0).collect()
}

/// While the first request goes alone, the start of the second (request
/// line and Host) goes out in a send of its own; its end follows with the
/// pipeline's fill once the size is known, and the server reads one whole
/// request.
#[test]
fn the_second_request_starts_while_the_first_goes_alone() {
    let img = image(30_000);
    let mut f = Fake::new(img.clone(), tls());
    download(&mut f, "https://h.test/f", &[42], Config::default()).unwrap();
    check_slot(&f, &img);
    assert_eq!(&f.sends[..3], &[(1, false), (0, true), (7, false)]);
    assert_eq!(
        f.requests[1],
        "GET /f HTTP/1.1\r\nHost: h.test\r\nRange: bytes=2048-4095\r\n\r\n"
    );
    // Not without pipelining: one request per round trip, as NCS.
    let mut f = Fake::new(img.clone(), tls());
    let cfg = Config {
        pipeline_depth: 1,
        ..Config::default()
    };
    download(&mut f, "https://h.test/f", &[42], cfg).unwrap();
    check_slot(&f, &img);
    assert!(f.sends.iter().all(|&s| s == (1, false)), "{:?}", f.sends);
}

/// Each send is a TLS record of its own (29 bytes on the uplink): once the
/// size is known the free slots are filled in one send, and at the default
/// depth a freed slot waits for a second so that requests go two by two;
/// the first request goes alone, the last eight ranges one by one.
#[test]
fn pipelined_requests_go_out_two_per_send() {
    let img = image(60_000);
    let mut f = Fake::new(img.clone(), tls());
    download(&mut f, "https://h.test/f", &[42], Config::default()).unwrap();
    check_slot(&f, &img);
    let n = img.len().div_ceil(2048);
    assert_eq!(f.requests.len(), n, "no range asked twice");
    let per_send = requests_per_send(&f);
    assert_eq!(per_send.iter().sum::<usize>(), n);
    assert_eq!(per_send[0], 1, "the first request goes alone: {per_send:?}");
    assert_eq!(
        per_send[1], 7,
        "the pipeline filled in one send: {per_send:?}"
    );
    let last = &per_send[per_send.len() - 8..];
    assert_eq!(last, &[1; 8], "the last ranges go one by one: {per_send:?}");
    let middle = &per_send[2..per_send.len() - 8];
    assert!(
        !middle.is_empty() && middle.iter().all(|&k| k == 2),
        "two per send in between: {per_send:?}"
    );
}

/// Below depth 8 no request waits for another: one per send once the
/// pipeline runs (the free slots after the first response still go in one).
#[test]
fn below_depth_eight_requests_do_not_wait_for_a_second() {
    let img = image(60_000);
    let mut f = Fake::new(img.clone(), tls());
    let cfg = Config {
        pipeline_depth: 6,
        ..Config::default()
    };
    download(&mut f, "https://h.test/f", &[42], cfg).unwrap();
    check_slot(&f, &img);
    let per_send = requests_per_send(&f);
    assert_eq!(&per_send[..2], &[1, 5], "{per_send:?}");
    assert!(per_send[2..].iter().all(|&k| k == 1), "{per_send:?}");
}

/// Requests longer than half the receive buffer: the pipeline's fill goes
/// out in sends of the buffer's size, a request across two of them (7
/// requests of 1 KiB in 4 sends, not 7), and the download completes.
#[test]
fn long_requests_fill_the_pipeline_in_sends_of_the_buffers_size() {
    let img = image(30_000);
    let mut f = Fake::new(img.clone(), tls());
    let url = std::format!("https://h.test/f?sig={}", "s".repeat(1000));
    download(&mut f, &url, &[42], Config::default()).unwrap();
    check_slot(&f, &img);
    assert_eq!(f.requests.len(), img.len().div_ceil(2048));
    assert!(f.requests[0].len() > RX_BUF / 2);
    // 0: the first request, 1: the start of the second, 2..6: the fill.
    let fill = &f.sends[2..6];
    assert_eq!(
        fill.iter().map(|&(n, _)| n).sum::<usize>(),
        7,
        "{:?}",
        f.sends
    );
    assert!(fill[..3].iter().all(|&(_, inside)| inside), "{:?}", f.sends);
    assert!(!fill[3].1, "{:?}", f.sends);
    assert!(f.max_burst >= 3, "pipelined: {}", f.max_burst);
}

/// A send that fails while responses are in flight (the peer stopped
/// reading): those responses are taken, the requests of the failed send are
/// asked again on a new connection, and the download completes.
#[test]
fn a_failed_send_with_responses_in_flight_goes_on_on_a_new_connection() {
    let img = image(40_000);
    let b = Behaviour {
        // 0: the first request, 1: the start of the second, 2: the
        // pipeline's fill, 3: the first pair (six requests in flight).
        fail_send: Some(3),
        ..tls()
    };
    let mut f = Fake::new(img.clone(), b);
    let cfg = Config {
        retry_backoff_ms: 1,
        ..Config::default()
    };
    download(&mut f, "https://h.test/f", &[42], cfg).unwrap();
    check_slot(&f, &img);
    assert_eq!(f.sends[3], (0, false), "the failed send");
    assert_eq!(f.connects.len(), 2);
    // The six responses in flight were read on the first connection.
    assert_eq!(
        f.requests.len(),
        img.len().div_ceil(2048),
        "no range asked twice"
    );
}

#[cfg(feature = "frag-fit")]
/// The ranges of the requests `f` received, as (first, last).
fn ranges(f: &Fake) -> Vec<(usize, usize)> {
    f.requests
        .iter()
        .map(|r| {
            let v = r
                .lines()
                .find_map(|l| l.strip_prefix("Range: bytes="))
                .unwrap();
            let (a, b) = v.split_once('-').unwrap();
            (a.parse().unwrap(), b.parse().unwrap())
        })
        .collect()
}

#[cfg(feature = "frag-fit")]
fn fit_cfg() -> Config {
    Config {
        frag_fit: 2048,
        pipeline_depth: 3,
        ..Config::default()
    }
}

/// With `frag_fit`, the first request (sent alone: the size is not known
/// yet) asks half the buffer; every later one the buffer minus the head and
/// the margin.
#[cfg(feature = "frag-fit")]
#[test]
fn frag_fit_sizes_ranges_from_the_learned_head() {
    let img = image(40_000);
    let b = Behaviour {
        head_len: Some((464, 0, 0)),
        fit: Some(2048),
        ..tls()
    };
    let mut f = Fake::new(img.clone(), b);
    download(&mut f, "https://h.test/f", &[42], fit_cfg()).unwrap();
    check_slot(&f, &img);
    assert_eq!(f.misfits, 0);
    let learned = 2048 - 464 - FIT_MARGIN as usize;
    let r = ranges(&f);
    let mut next = 0;
    for (i, &(a, b)) in r.iter().enumerate() {
        let size = if i == 0 { 1024 } else { learned };
        assert_eq!((a, b), (next, (a + size).min(img.len()) - 1), "request {i}");
        next = b + 1;
    }
    assert_eq!(next, img.len());
    assert_eq!(r.len(), 1 + (img.len() - 1024).div_ceil(learned));

    // Off (the default): every range is frag_size.
    let mut f = Fake::new(
        img.clone(),
        Behaviour {
            head_len: Some((464, 0, 0)),
            ..tls()
        },
    );
    download(&mut f, "https://h.test/f", &[42], Config::default()).unwrap();
    assert!(ranges(&f)
        .iter()
        .all(|&(a, b)| b - a + 1 == 2048 || b + 1 == img.len()));
}

/// A head longer than any before shrinks the ranges asked after it.
#[cfg(feature = "frag-fit")]
#[test]
fn a_longer_head_shrinks_the_ranges_after_it() {
    let img = image(40_000);
    let b = Behaviour {
        head_len: Some((400, 6, 20)),
        ..tls()
    };
    let mut f = Fake::new(img.clone(), b);
    let e = run_to_end(&mut f, fit_cfg());
    check_slot(&f, &img);
    assert_eq!(e.fit_head, 420);
    let sizes: Vec<usize> = ranges(&f).iter().map(|&(a, b)| b - a + 1).collect();
    let before = 2048 - 400 - FIT_MARGIN as usize;
    let after = 2048 - 420 - FIT_MARGIN as usize;
    // Request 0 goes alone; 1..=8 were asked before the seventh head arrived.
    assert_eq!(sizes[0], 1024);
    assert_eq!(&sizes[1..9], &[before; 8], "{sizes:?}");
    let last = sizes.len() - 1;
    assert!(sizes[9..last].iter().all(|&n| n == after), "{sizes:?}");
}

/// Heads that grow past the margin make responses that no longer fit:
/// the modem fails the socket, the download resumes at the exact byte
/// with ranges of the first size, and completes.
#[cfg(feature = "frag-fit")]
#[test]
fn a_response_that_does_not_fit_falls_back_to_the_first_size() {
    let img = image(40_000);
    let b = Behaviour {
        head_len: Some((464, 6, 100)),
        fit: Some(2048),
        ..tls()
    };
    let mut f = Fake::new(img.clone(), b);
    let e = run_to_end(&mut f, fit_cfg());
    check_slot(&f, &img);
    assert_eq!(f.upgraded, Some(false));
    assert_eq!(f.misfits, 1, "the fallback must not fail again");
    assert_eq!(e.fit_head, FIT_GAVE_UP);
    assert_eq!(f.connects.len(), 2);
    // After the reset: ranges of 1024 bytes (the first size) only.
    let r = ranges(&f);
    let after = &r[f.misfit_at..];
    assert!(after.len() > 3, "{r:?}");
    assert!(
        after
            .iter()
            .all(|&(a, b)| b - a + 1 == 1024 || b + 1 == img.len()),
        "{r:?}"
    );
}

/// A download from a server that behaves as `b` on every request, with
/// two retries: the error and the connections made.
fn never_progressing(b: Behaviour, cfg: Config) -> (Error, usize) {
    let mut f = Fake::new(image(5_000), b);
    let cfg = Config { retries: 2, ..cfg };
    let err = download(&mut f, "https://h.test/fw.bin", &[42], cfg).unwrap_err();
    assert_eq!(f.upgraded, None);
    // Issue 14: an attempt that brings nothing costs one request (the
    // start of a second one may have gone out, never its end).
    assert_eq!(f.requests.len(), f.connects.len(), "{:?}", f.requests);
    (err, f.connects.len())
}

/// Empty 206 answers with `Connection: close`: each is a failed attempt.
#[test]
fn empty_ranges_end_after_the_retries() {
    let b = Behaviour {
        empty_206: true,
        ..tls()
    };
    let (err, connects) = never_progressing(b, Config::default());
    assert_eq!(err, Error::new(Stage::Http, Errno::BadMsg));
    assert_eq!(connects, 3, "the first try and two retries");
}

#[test]
fn server_errors_forever_end_after_the_retries() {
    let b = Behaviour {
        status: Some(503),
        ..tls()
    };
    let (err, connects) = never_progressing(b, Config::default());
    assert_eq!(err, Error::new(Stage::Http, Errno::Again));
    assert_eq!(connects, 3, "the first try and two retries");
}

#[test]
fn a_redirect_to_itself_ends_at_the_redirect_limit() {
    let b = Behaviour {
        status: Some(302),
        redirect_self: true,
        ..tls()
    };
    let cfg = Config {
        max_redirects: if cfg!(feature = "redirects") { 5 } else { 0 },
        ..Config::default()
    };
    let (err, connects) = never_progressing(b, cfg.clone());
    let want = if cfg!(feature = "redirects") {
        Errno::BadMsg
    } else {
        Errno::NotSup
    };
    assert_eq!(err, Error::new(Stage::Http, want));
    assert_eq!(connects, usize::from(cfg.max_redirects) + 1);
}

#[test]
fn a_trickling_server_is_bounded_by_the_deadline() {
    let mut f = Fake::new(
        image(5_000),
        Behaviour {
            trickle: true,
            ..tls()
        },
    );
    let cfg = Config {
        deadline_ms: 60_000,
        ..Config::default()
    };
    let err = download(&mut f, "https://h.test/f", &[42], cfg).unwrap_err();
    assert_eq!(err, Error::new(Stage::Http, Errno::TimedOut));
    assert!(
        f.clock_ms <= 62_000,
        "ran past the deadline: {} ms",
        f.clock_ms
    );
    assert_eq!(f.upgraded, None);
}

#[cfg(feature = "b1")]
#[test]
fn b1_dual_image_picks_the_inactive_slot() {
    for (active, want) in [(true, "/fw/s1.bin"), (false, "/fw/s0.bin")] {
        let mut f = Fake::new(
            image(3_000),
            Behaviour {
                s0_active: Some(active),
                ..tls()
            },
        );
        let mut e = Engine::new(Config::default());
        let req = req("h.test", "fw/s0.bin fw/s1.bin", &[42]);
        e.start(&mut f, &req).unwrap();
        assert_eq!(e.url().path.as_str(), want);
    }
    let mut f = Fake::new(image(3_000), tls());
    let mut e = Engine::new(Config::default());
    let req = req("h.test", "s0.bin s1.bin", &[42]);
    assert_eq!(
        e.start(&mut f, &req).unwrap_err(),
        Error::new(Stage::Url, Errno::NotSup)
    );
}

// Parts left out of the build (cargo features) fail clearly where they
// would be needed; `make unit` runs these with --no-default-features.

#[test]
fn a_config_asking_for_a_left_out_part_is_named() {
    assert_eq!(Config::default().needs_left_out(), None);
    let ask = Config {
        max_redirects: 1,
        progress_save: true,
        frag_fit: 2048,
        checks: crate::checks::Checks {
            layout: true,
            allow_downgrade: false,
            verify_key: None,
        },
        ..Config::default()
    };
    let all_in = cfg!(feature = "redirects")
        && cfg!(feature = "progress-save")
        && cfg!(feature = "frag-fit")
        && cfg!(feature = "image-checks");
    assert_eq!(ask.needs_left_out().is_none(), all_in);
}

#[cfg(not(feature = "b1"))]
#[test]
fn b1_form_without_the_feature_is_not_supported() {
    let mut f = Fake::new(
        image(3_000),
        Behaviour {
            s0_active: Some(true),
            ..tls()
        },
    );
    let mut e = Engine::new(Config::default());
    let req = req("h.test", "fw/s0.bin fw/s1.bin", &[42]);
    assert_eq!(
        e.start(&mut f, &req).unwrap_err(),
        Error::new(Stage::Url, Errno::NotSup)
    );
    assert!(f.connects.is_empty(), "refused before connecting");
}

#[cfg(not(feature = "modem-delta"))]
#[test]
fn modem_delta_without_the_feature_is_not_supported() {
    let mut f = Fake::new(
        delta_image(9_000),
        Behaviour {
            modem: Some(Ok(0)),
            ..tls()
        },
    );
    let err = download(&mut f, "https://h.test/d.bin", &[42], Config::default()).unwrap_err();
    assert_eq!(err, Error::new(Stage::Image, Errno::NotSup));
    assert!(f.modem_data.is_empty());
    assert_eq!(f.upgraded, None);
}

/// A download of "/fw.bin" from a server that answers every request
/// with 302 to a new place ("/hop<n>.bin"): the failure, what the engine
/// holds after it, and the connections made.
fn always_redirected(max_redirects: u8) -> (Error, Engine, Fake) {
    let mut f = Fake::new(
        image(3_000),
        Behaviour {
            status: Some(302),
            ..tls()
        },
    );
    let mut e = Engine::new(Config {
        max_redirects,
        ..Config::default()
    });
    e.start(&mut f, &req("h.test", "fw.bin", &[42])).unwrap();
    let err = e
        .run(&mut f, &AtomicBool::new(false), &mut |_| {})
        .unwrap_err();
    (err, e, f)
}

// Without the feature, or with it and max_redirects 0: one behaviour.
#[test]
fn redirect_when_none_may_be_followed_is_not_supported_and_says_so() {
    let (err, e, f) = always_redirected(0);
    assert_eq!(err, Error::new(Stage::Http, Errno::NotSup));
    let note = e.diag().note.map_or("", |h| h.words().0);
    assert!(note.contains("CONFIG_FOTA_RS_MAX_REDIRECTS"), "{note}");
    assert_eq!(
        e.url.path.as_str(),
        "/fw.bin",
        "the URL is the one asked for"
    );
    assert_eq!(f.connects.len(), 1, "no request after the redirect");
}

#[cfg(feature = "redirects")]
#[test]
fn redirects_past_the_limit_are_refused_before_the_url_changes() {
    let (err, e, f) = always_redirected(2);
    assert_eq!(err, Error::new(Stage::Http, Errno::BadMsg));
    let note = e.diag().note.map_or("", |h| h.words().0);
    assert!(note.contains("redirect loop"), "{note}");
    assert_eq!(
        f.connects.len(),
        3,
        "two redirects followed, the third refused"
    );
    assert_eq!(
        e.url.path.as_str(),
        "/hop2.bin",
        "the URL is the last one followed, which answered the refused redirect"
    );
}

#[cfg(not(feature = "progress-save"))]
#[test]
fn progress_is_not_saved_without_the_feature() {
    let img = image(20_000);
    let mut f = Fake::new(
        img,
        Behaviour {
            reset_at: Some(12_000),
            ..tls()
        },
    );
    let cfg = Config {
        retries: 0,
        ..Config::default()
    };
    assert!(download(&mut f, "https://h.test/fw.bin", &[42], cfg).is_err());
    assert!(f.kv.is_empty(), "nothing saved: {:?}", f.kv.keys());
}

fn delta_image(len: usize) -> Vec<u8> {
    let mut v: Vec<u8> = (0..len).map(|i| (i * 13) as u8).collect();
    v[4..8].copy_from_slice(&0x7544_656du32.to_le_bytes());
    v
}

#[cfg(feature = "modem-delta")]
#[test]
fn modem_delta_goes_to_the_modem_and_resumes_from_its_offset() {
    let img = delta_image(9_000);
    // Empty modem area.
    let mut f = Fake::new(
        img.clone(),
        Behaviour {
            modem: Some(Ok(0)),
            ..tls()
        },
    );
    let r = download(&mut f, "https://h.test/d.bin", &[42], Config::default()).unwrap();
    assert_eq!(r.image_type, ImageType::ModemDelta);
    assert_eq!(f.modem_data, img);
    assert_eq!(f.modem_applied, Some(true));
    assert_eq!(f.upgraded, None, "no MCUboot request for a modem image");
    // The modem holds 5000 bytes of this same download: only the rest is written.
    let mut f = Fake::new(
        img.clone(),
        Behaviour {
            modem: Some(Ok(5_000)),
            ..tls()
        },
    );
    f.kv.insert(
        super::sink::DELTA_KEY.into(),
        url_id(&Url::parse("https://h.test/d.bin", Limits::DEFAULT).unwrap()).to_vec(),
    );
    f.modem_data = img[..5_000].to_vec();
    download(&mut f, "https://h.test/d.bin", &[42], Config::default()).unwrap();
    assert_eq!(f.modem_data, img);
    assert_eq!(f.modem_erases, 0, "resumed without an erase");
    // The same 5000 bytes under another URL: erased and written anew.
    let mut f = Fake::new(
        img.clone(),
        Behaviour {
            modem: Some(Ok(5_000)),
            ..tls()
        },
    );
    f.modem_data = std::vec![9; 5_000];
    download(&mut f, "https://h.test/other.bin", &[42], Config::default()).unwrap();
    assert_eq!(f.modem_data, img);
    assert_eq!(f.modem_erases, 1);
    // A dirty area is erased first, with ERASE_PENDING / ERASE_DONE.
    let mut f = Fake::new(
        img.clone(),
        Behaviour {
            modem: Some(Err(Errno::Again)),
            ..tls()
        },
    );
    f.modem_data = std::vec![1, 2, 3];
    let mut e = Engine::new(Config::default());
    let req = req("h.test", "d.bin", &[42]);
    e.start(&mut f, &req).unwrap();
    let mut notices = Vec::new();
    e.run(&mut f, &AtomicBool::new(false), &mut |n| notices.push(n))
        .unwrap();
    assert_eq!(f.modem_data, img);
    let erase: Vec<_> = notices
        .iter()
        .filter(|n| !matches!(n, Notice::Progress(_)))
        .collect();
    assert_eq!(erase, [&Notice::ErasePending, &Notice::EraseDone]);
    // No delta target on this platform, and full modem images: refused.
    let mut f = Fake::new(img, tls());
    let err = download(&mut f, "https://h.test/d.bin", &[42], Config::default()).unwrap_err();
    assert_eq!(err, Error::new(Stage::Image, Errno::NotSup));
    let mut full = std::vec![0u8; 4000];
    full[..2].copy_from_slice(&0x84d2u16.to_le_bytes());
    let mut f = Fake::new(
        full,
        Behaviour {
            modem: Some(Ok(0)),
            ..tls()
        },
    );
    let err = download(&mut f, "https://h.test/m.bin", &[42], Config::default()).unwrap_err();
    assert_eq!(err, Error::new(Stage::Image, Errno::NotSup));
}

/// Where MCUboot's trailer starts in the fake's slot.
fn trailer_start() -> usize {
    SlotWriter::capacity(&Fake::new(Vec::new(), tls()).flash_geometry().unwrap()) as usize
}

/// A slot-sized "file": `img`, erased bytes, and in the last bytes an
/// MCUboot trailer asking for a permanent swap (magic, image_ok,
/// swap_info PERM), as a hostile server would serve it.
fn file_with_trailer(img: &[u8]) -> Vec<u8> {
    let mut f = img.to_vec();
    f.resize(SLOT as usize, 0xff);
    let end = f.len();
    f[end - 16..].copy_from_slice(&[
        0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2, 0xef, 0x7f, 0x35, 0x52, 0x50, 0x0f, 0x2c, 0xb6, 0x79,
        0x80,
    ]);
    f[end - 24] = 0x01;
    f[end - 40] = 0x03;
    f
}

/// A plain-http server streams a chunked 200 (size unknown), cuts it,
/// and answers the resume with a 206 whose total reaches the slot's end:
/// refused before a byte of it is written, the trailer stays erased.
#[test]
fn a_size_reaching_into_the_trailer_is_refused_and_the_trailer_stays_erased() {
    let img = image(9_000);
    let mut f = Fake::new(
        file_with_trailer(&img),
        Behaviour {
            chunked: true,
            reset_at: Some(5_000),
            ..Default::default()
        },
    );
    let mut e = Engine::new(Config::default());
    e.start(
        &mut f,
        &req("http://h.test/fw.bin", "http://h.test/fw.bin", &[]),
    )
    .unwrap();
    let err = e
        .run(&mut f, &AtomicBool::new(false), &mut |_| {})
        .unwrap_err();
    assert_eq!(err, Error::new(Stage::Http, Errno::FileTooBig));
    assert!(e
        .diag()
        .note
        .map_or("", |h| h.words().0)
        .contains("trailer"));
    assert!(
        f.requests[1].contains("Range: bytes=5000-"),
        "{:?}",
        f.requests
    );
    assert_eq!(f.upgraded, None);
    let start = trailer_start();
    assert!(
        f.flash[start..].iter().all(|&b| b == 0xff),
        "the trailer area was written"
    );
    assert_eq!(
        &f.flash[..5_000],
        &img[..5_000],
        "only the 200's bytes are in the slot"
    );
}

/// Trailer bytes that appear during the download (not written by it)
/// fail the download at the schedule stage, and are erased.
#[test]
fn a_trailer_written_during_the_download_is_an_error_not_an_upgrade() {
    let start = trailer_start();
    // The image ends in the trailer's page, so the slot writer's own
    // erase of the pages after the image does not cover it.
    let img = image(start - 600);
    // Image bytes in the trailer's page are not trailer bytes.
    let mut f = Fake::new(img.clone(), tls());
    download(&mut f, "https://h.test/fw.bin", &[42], Config::default()).unwrap();
    check_slot(&f, &img);
    assert_eq!(f.upgraded, Some(false));
    let mut f = Fake::new(
        img.clone(),
        Behaviour {
            scribble_trailer: true,
            ..tls()
        },
    );
    let mut e = Engine::new(Config::default());
    e.start(
        &mut f,
        &req("https://h.test/fw.bin", "https://h.test/fw.bin", &[42]),
    )
    .unwrap();
    let err = e
        .run(&mut f, &AtomicBool::new(false), &mut |_| {})
        .unwrap_err();
    assert_eq!(err, Error::new(Stage::Schedule, Errno::Io));
    assert_eq!(f.upgraded, None);
    assert!(f.flash[start..].iter().all(|&b| b == 0xff));
}

/// A port reporting a flash page size of 0 fails the download with a
/// flash error before anything is written (no division by zero).
#[test]
fn page_size_zero_is_a_flash_error() {
    let mut f = Fake::new(
        image(1000),
        Behaviour {
            page_size: Some(0),
            ..tls()
        },
    );
    let err = download(&mut f, "https://h.test/fw.bin", &[42], Config::default()).unwrap_err();
    assert_eq!(err, Error::new(Stage::Flash, Errno::NotSup));
    assert!(f.requests.is_empty());
    assert_eq!(f.upgraded, None);
}

/// After a test swap the slot holds the image MCUboot reverts to: an
/// MCUboot download is refused once its type is known, with the slot as it
/// was (not even the trailer erased), and the hint says what to do.
#[test]
fn mcuboot_image_while_the_running_one_is_unconfirmed_is_refused_untouched() {
    let unconfirmed = Behaviour {
        unconfirmed: true,
        ..tls()
    };
    let mut f = Fake::new(image(10_000), unconfirmed.clone());
    let before = f.flash.clone();
    let mut e = Engine::new(Config::default());
    e.start(
        &mut f,
        &req("https://h.test/fw.bin", "https://h.test/fw.bin", &[42]),
    )
    .unwrap();
    let err = e
        .run(&mut f, &AtomicBool::new(false), &mut |_| {})
        .unwrap_err();
    assert_eq!(err, Error::new(Stage::Image, Errno::Access));
    assert!(f.flash == before, "the slot was written");
    assert_eq!(f.upgraded, None);
    let mut text = std::string::String::new();
    e.diag().write_text(&mut text, e.url());
    assert!(
        text.contains("stage=image") && text.contains("call boot_write_img_confirmed() first"),
        "{text}"
    );

    // Allowed: the download goes ahead as usual.
    let img = image(10_000);
    let mut f = Fake::new(img.clone(), unconfirmed);
    let cfg = Config {
        allow_unconfirmed_overwrite: true,
        ..Config::default()
    };
    download(&mut f, "https://h.test/fw.bin", &[42], cfg).unwrap();
    check_slot(&f, &img);
    assert_eq!(f.upgraded, Some(false));
}

/// A modem delta does not use the slot: not affected.
#[cfg(feature = "modem-delta")]
#[test]
fn modem_delta_while_the_running_image_is_unconfirmed_goes_ahead() {
    let img = delta_image(9_000);
    let mut f = Fake::new(
        img.clone(),
        Behaviour {
            unconfirmed: true,
            modem: Some(Ok(0)),
            ..tls()
        },
    );
    let before = f.flash.clone();
    let r = download(&mut f, "https://h.test/d.bin", &[42], Config::default()).unwrap();
    assert_eq!(r.image_type, ImageType::ModemDelta);
    assert_eq!(f.modem_data, img);
    assert!(f.flash == before, "the slot was written");
}
