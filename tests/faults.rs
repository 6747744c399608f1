// SPDX-License-Identifier: Apache-2.0
//! Fault tests: `fota-sim` against tests/faults/fault_server.py, a hostile
//! HTTP(S) server on 127.0.0.1 (real TLS, real imgtool-signed image), one
//! fault per case. Every run must keep the promise: either exit 0 with a
//! byte-identical, hash-verified image and the upgrade requested
//! (scripts/check-slot.py --expect test), or a non-zero exit with an `ERROR:`
//! line naming a stage and the trailer page still erased. On top of that,
//! faults a client can ride out must end in success, and hostile ones in the
//! specific error. And every run must have met its fault: the server's own
//! log has to list each fault of the spec as injected into a response.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

mod common;
use common::{fixture_dir, make_image, read_port, root, run, signing_key, PyServer};

struct Fixtures {
    dir: PathBuf,
    www: PathBuf,
    image: PathBuf,
}

fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| {
        let (dir, www) = fixture_dir("faults-fixtures");
        let key = signing_key(&dir);
        let image = www.join("app.bin");
        make_image(&image, 100_000, "0.1.3", Some(&key));
        Fixtures { dir, www, image }
    })
}

/// The fault server, with the plain-http listener a TLS server also opens
/// (target of https->http redirects).
struct Server {
    py: PyServer,
    plain_port: Option<u16>,
}

impl std::ops::Deref for Server {
    type Target = PyServer;
    fn deref(&self) -> &PyServer {
        &self.py
    }
}

impl Server {
    fn start(tls: bool, tag: &str, extra: &[&str]) -> Server {
        let f = fixtures();
        let work = f.dir.join(format!("srv-{tag}-{}", std::process::id()));
        let plain_file = work.join("plain-port");
        let _ = std::fs::remove_file(&plain_file);
        let mut args: Vec<std::ffi::OsString> = vec!["--root".into(), f.www.clone().into()];
        args.extend(extra.iter().map(Into::into));
        if tls {
            args.extend([
                "--cert".into(),
                f.dir.join("certs/server.pem").into(),
                "--key".into(),
                f.dir.join("certs/server.key").into(),
                "--plain-port-file".into(),
                plain_file.clone().into(),
            ]);
        }
        let py = PyServer::spawn("tests/faults/fault_server.py", work, &args);
        // The main port file is written last, so both are there once it is.
        let plain_port = read_port(&plain_file);
        Server { py, plain_port }
    }

    /// URL of the image behind `fault` (a fault spec, "" for none).
    fn url(&self, fault: &str) -> String {
        let scheme = if self.plain_port.is_some() {
            "https://fota.test"
        } else {
            "http://127.0.0.1"
        };
        let prefix = if fault.is_empty() {
            String::new()
        } else {
            format!("/fault/{fault}")
        };
        format!("{scheme}:{}{prefix}/app.bin", self.port)
    }

    /// Log lines of requests for `fault`'s path.
    fn requests(&self, fault: &str) -> Vec<String> {
        let needle = format!("\"path\":\"/fault/{fault}/app.bin\"");
        self.log()
            .into_iter()
            .filter(|l| l.contains(&needle))
            .collect()
    }

    /// Each group of the spec `fault` fired: some response for its path
    /// lists all of the group's faults in the log's "faults" field.
    fn assert_injected(&self, fault: &str) {
        const SCHEDULE: [&str; 6] = ["once", "times", "after", "min", "retry-after", "stall-at"];
        let reqs = self.requests(fault);
        for group in fault.split('+') {
            let names: Vec<&str> = group
                .split(',')
                .map(|item| item.split('=').next().unwrap_or(item))
                .filter(|n| !n.is_empty() && !SCHEDULE.contains(n))
                .collect();
            assert!(
                reqs.iter().any(|l| {
                    let fired = l
                        .split("\"faults\":[")
                        .nth(1)
                        .and_then(|r| r.split(']').next());
                    fired.is_some_and(|f| names.iter().all(|n| f.contains(&format!("\"{n}\""))))
                }),
                "the server's log shows no response with {names:?} injected: {reqs:#?}"
            );
        }
    }

    /// fota-sim against `fault`; the promise and the injection asserted.
    fn sim(&self, name: &str, fault: &str, extra: &[&str]) -> Sim {
        let url = self.url(fault);
        let mut args: Vec<String> = vec![url];
        if self.plain_port.is_some() {
            args.push("--sec-tag".into());
            args.push("42".into());
            args.push("--resolve".into());
            args.push(format!("fota.test:{}:127.0.0.1", self.port));
            if let Some(p) = self.plain_port {
                args.push("--resolve".into());
                args.push(format!("fota.test:{p}:127.0.0.1"));
            }
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let s = sim(name, &args, Duration::from_secs(60));
        self.assert_injected(fault);
        s
    }
}

fn json_field(line: &str, key: &str) -> Option<String> {
    let rest = line.split(&format!("\"{key}\":")).nth(1)?;
    let v = if let Some(s) = rest.strip_prefix('"') {
        s.split('"').next()?
    } else {
        rest.split([',', '}']).next()?
    };
    Some(v.to_string())
}

struct Sim {
    slot: PathBuf,
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// The guard killed it: it did not end by itself.
    killed: bool,
}

/// Run fota-sim with a fresh slot; kill it if it runs longer than `guard`.
fn sim(name: &str, args: &[String], guard: Duration) -> Sim {
    let f = fixtures();
    let work = f.dir.join(format!("sim-{name}"));
    std::fs::create_dir_all(&work).unwrap();
    let slot = work.join("slot.bin");
    let _ = std::fs::remove_file(&slot);
    let _ = std::fs::remove_file(work.join("slot.bin.state"));
    let (out, err) = (work.join("stdout"), work.join("stderr"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_fota-sim"))
        .args(args)
        .arg("--cred-dir")
        .arg(f.dir.join("certs/creds"))
        .arg("--flash")
        .arg(&slot)
        .args(["--backoff-ms", "50", "--timeout-ms", "2000", "--quiet"])
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .expect("run fota-sim");
    let t0 = Instant::now();
    let mut killed = false;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t0.elapsed() > guard {
            killed = true;
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let s = Sim {
        slot,
        code: status.code(),
        stdout: std::fs::read_to_string(&out).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err).unwrap_or_default(),
        killed,
    };
    eprintln!(
        "--- fota-sim {args:?} exit {:?}{}\n{}{}",
        s.code,
        if killed { " (killed by the guard)" } else { "" },
        s.stdout,
        s.stderr
    );
    s.assert_promise();
    s
}

impl Sim {
    fn trailer_erased(&self) -> bool {
        let s = std::fs::read(&self.slot).unwrap_or_default();
        s.len() >= 4096 && s[s.len() - 4096..].iter().all(|&b| b == 0xff)
    }

    /// The either/or that every run must satisfy, whatever the fault.
    fn assert_promise(&self) {
        assert!(!self.killed, "fota-sim did not end by itself");
        if self.code == Some(0) {
            run(Command::new("python3")
                .arg(root().join("scripts/check-slot.py"))
                .arg("--flash")
                .arg(&self.slot)
                .arg("--image")
                .arg(&fixtures().image)
                .args(["--expect", "test"]));
        } else {
            assert!(
                self.stdout
                    .lines()
                    .any(|l| l.contains("ERROR:") && l.contains("stage=")),
                "failure without an ERROR line naming a stage:\n{}",
                self.stdout
            );
            assert!(
                self.trailer_erased(),
                "failed download left the trailer written"
            );
        }
    }

    fn assert_ok(&self) {
        assert_eq!(self.code, Some(0), "expected success:\n{}", self.stdout);
    }

    /// Failed, with `stage=` and `error=` as given.
    fn assert_error(&self, stage: &str, errno: &str) {
        assert_ne!(self.code, Some(0), "expected a failure");
        let line = self
            .stdout
            .lines()
            .find(|l| l.contains("ERROR: download failed") || l.contains("stage="))
            .unwrap_or_default();
        assert!(
            line.contains(&format!("stage={stage} ")) && line.contains(&format!("error={errno} ")),
            "expected stage={stage} error={errno}:\n{}",
            self.stdout
        );
    }
}

// ---------------------------------------------------------------------------
// Faults a client rides out: the download must succeed.

#[test]
fn reset_and_close_inside_the_body_resume_at_the_exact_byte() {
    for tls in [true, false] {
        let srv = Server::start(tls, &format!("body-cut-{tls}"), &[]);
        for fault in ["reset=50001,once", "close=50001,once"] {
            let s = srv.sim(&format!("body-cut-{tls}-{fault}"), fault, &[]);
            s.assert_ok();
            let reqs = srv.requests(fault);
            assert!(
                reqs.iter()
                    .any(|l| json_field(l, "range").is_some_and(|r| r.starts_with("bytes=50001-"))),
                "no resume at byte 50001: {reqs:#?}"
            );
        }
    }
}

#[test]
fn reset_and_close_inside_the_head_are_retried() {
    for tls in [true, false] {
        let srv = Server::start(tls, &format!("head-cut-{tls}"), &[]);
        for fault in [
            "reset-head=40,once",
            "close-head=40,once",
            "close-head=0,once",
        ] {
            let s = srv.sim(&format!("head-cut-{tls}-{fault}"), fault, &[]);
            s.assert_ok();
            assert!(srv.requests(fault).len() >= 2);
        }
    }
}

#[test]
fn a_stall_longer_than_the_socket_timeout_is_survived_once() {
    let srv = Server::start(true, "stall", &[]);
    for fault in ["stall=3000,once", "stall-head=3000,once"] {
        let s = srv.sim(&format!("stall-{fault}"), fault, &[]);
        s.assert_ok();
        let conns: std::collections::BTreeSet<_> = srv
            .requests(fault)
            .iter()
            .filter_map(|l| json_field(l, "conn"))
            .collect();
        assert!(conns.len() >= 2, "no reconnect after the stall: {conns:?}");
    }
}

#[test]
fn close_after_every_response_announced_or_not() {
    for tls in [true, false] {
        let srv = Server::start(tls, &format!("close-each-{tls}"), &[]);
        for fault in ["close-each", "close-silent"] {
            let s = srv.sim(&format!("close-each-{tls}-{fault}"), fault, &[]);
            s.assert_ok();
        }
    }
}

#[test]
fn server_error_with_retry_after_then_success() {
    let srv = Server::start(true, "5xx", &[]);
    for fault in [
        "status=503,retry-after=1,once",
        "status=500,retry-after=0,times=2",
    ] {
        let s = srv.sim(&format!("5xx-{fault}"), fault, &[]);
        s.assert_ok();
        let reqs = srv.requests(fault);
        let code = fault[7..10].to_string();
        assert_eq!(json_field(&reqs[0], "status"), Some(code), "{reqs:#?}");
        assert_eq!(
            json_field(reqs.last().unwrap(), "status").as_deref(),
            Some("206")
        );
    }
    // Retry-After, not the 50 ms backoff, sets the wait.
    let s = srv.sim("5xx-wait", "status=503,retry-after=1,times=1", &[]);
    assert!(s.stderr.contains("retry_ms=1000"), "{}", s.stderr);
}

#[test]
fn whole_file_200_instead_of_206_from_offset_zero() {
    let srv = Server::start(true, "no-range", &[]);
    let s = srv.sim("no-range", "no-range", &[]);
    s.assert_ok();
    assert_eq!(
        srv.requests("no-range").len(),
        1,
        "the 200 must be streamed"
    );
}

#[test]
fn chunked_body_cut_inside_a_chunk_over_https() {
    let srv = Server::start(true, "chunk-cut-s", &[]);
    for fault in ["chunked", "chunked-trunc=50001,once"] {
        srv.sim(&format!("chunk-cut-s-{fault}"), fault, &[])
            .assert_ok();
    }
}

/// A plain-http chunked stream has no announced size; after a cut the
/// resumed 206 tells the size, which the slot writer must then take.
#[test]
fn chunked_body_cut_inside_a_chunk_over_http() {
    let srv = Server::start(false, "chunk-cut-h", &[]);
    for fault in ["chunked", "chunked-trunc=50001,once"] {
        srv.sim(&format!("chunk-cut-h-{fault}"), fault, &[])
            .assert_ok();
    }
}

// ---------------------------------------------------------------------------
// Hostile servers: the specific error, nothing scheduled.

#[test]
fn chunk_size_with_20_hex_digits_is_refused() {
    for tls in [true, false] {
        let srv = Server::start(tls, &format!("chunk-ovf-{tls}"), &[]);
        srv.sim(&format!("chunk-ovf-{tls}"), "chunk-overflow", &[])
            .assert_error("http", "EBADMSG");
    }
}

#[test]
fn response_head_larger_than_2k_is_refused() {
    let srv = Server::start(true, "big-head", &[]);
    for fault in ["big-head=2100", "many-headers=40"] {
        srv.sim(&format!("big-head-{fault}"), fault, &[])
            .assert_error("http", "E2BIG");
    }
}

#[test]
fn malformed_heads_are_refused() {
    let srv = Server::start(true, "bad-head", &[]);
    for fault in ["no-colon", "nul-head"] {
        srv.sim(&format!("bad-head-{fault}"), fault, &[])
            .assert_error("http", "EBADMSG");
    }
}

#[test]
fn redirect_loop_ends_after_the_hop_limit() {
    let srv = Server::start(true, "loop", &[]);
    let s = srv.sim("loop", "redirect-loop", &[]);
    s.assert_error("http", "EBADMSG");
    assert!(s.stdout.contains("redirect loop"), "{}", s.stdout);
    let n = srv.requests("redirect-loop").len();
    assert!((5..=7).contains(&n), "{n} requests for a loop");
}

#[test]
fn redirect_from_https_to_http_is_refused() {
    let srv = Server::start(true, "to-http", &[]);
    let s = srv.sim("to-http", "redirect-http", &[]);
    s.assert_error("http", "EACCES");
    assert!(
        s.stdout.contains("clear text") && !s.stdout.contains("pre-signed"),
        "{}",
        s.stdout
    );
    let plain = srv.plain_port.unwrap().to_string();
    assert!(
        !srv.log()
            .iter()
            .any(|l| json_field(l, "port").as_deref() == Some(plain.as_str())),
        "the plain-http target was contacted"
    );
}

/// `127.1` and `2130706433` reach 127.0.0.1 through the resolver, but neither
/// is an IP literal by the core's rule: each is a name, checked against the
/// server's certificate (whose names are fota.test, localhost and IP
/// 127.0.0.1), and refused. `127.0.0.1` itself is checked against the certificate's IP.
#[test]
fn a_non_canonical_ip_is_a_name_and_its_name_is_checked() {
    let srv = Server::start(true, "ip-forms", &[]);
    let run_for = |name: &str, host: &str| {
        let args = vec![
            format!("https://{host}:{}/app.bin", srv.port),
            "--sec-tag".into(),
            "42".into(),
        ];
        sim(name, &args, Duration::from_secs(60))
    };
    run_for("ip-forms-short", "127.1").assert_error("tls", "ECONNREFUSED");
    run_for("ip-forms-integer", "2130706433").assert_error("tls", "ECONNREFUSED");
    run_for("ip-forms-canonical", "127.0.0.1").assert_ok();
}

#[test]
fn location_longer_than_the_limit_is_refused() {
    let srv = Server::start(true, "long-loc", &[]);
    srv.sim("long-loc", "long-location=1500", &[])
        .assert_error("http", "ENAMETOOLONG");
}

#[test]
fn content_range_other_than_asked_is_refused() {
    let srv = Server::start(true, "wrong-range-s", &[]);
    srv.sim("wrong-range-s", "wrong-range=100", &[])
        .assert_error("http", "ERANGE");
    // Plain http asks for a range only when resuming.
    let srv = Server::start(false, "wrong-range-h", &[]);
    srv.sim("wrong-range-h", "reset=50001,once+wrong-range=5,min=1", &[])
        .assert_error("http", "ERANGE");
}

#[test]
fn content_length_that_disagrees_with_the_body() {
    let srv = Server::start(true, "cl-s", &[]);
    for fault in ["cl-short=10", "cl-long=10"] {
        srv.sim(&format!("cl-s-{fault}"), fault, &[])
            .assert_error("http", "EBADMSG");
    }
    // One streamed GET: a short length truncates the image (refused by the
    // hash check); a long one leaves the client waiting for bytes that never
    // come, and the resume asks for a range past the end.
    let srv = Server::start(false, "cl-h", &[]);
    srv.sim("cl-h-short", "cl-short=10", &[])
        .assert_error("image", "EILSEQ");
    for fault in ["cl-long=10", "cl-long=10,close-each"] {
        srv.sim(&format!("cl-h-{fault}"), fault, &[])
            .assert_error("http", "ERANGE");
    }
}

/// A chunked 200 (size unknown) is cut; the resume's 206 claims a total
/// reaching the slot's end (fota-sim's default slot, 0x70000 bytes) and
/// carries MCUboot trailer bytes asking for a permanent swap there. The
/// size is refused before a byte of that response is written, and the slot
/// holds no upgrade request.
#[test]
fn a_resumed_range_reaching_into_the_trailer_is_refused() {
    let srv = Server::start(false, "trailer-total", &[]);
    let fault = "chunked-trunc=50001,once+trailer-total=0x70000,min=1";
    let s = srv.sim("trailer-total", fault, &[]);
    s.assert_error("http", "EFBIG");
    assert_eq!(s.code, Some(4), "exit code for stage=http");
    assert!(s.stdout.contains("trailer"), "{}", s.stdout);
    let reqs = srv.requests(fault);
    assert!(
        reqs.iter().any(
            |l| json_field(l, "range").as_deref() == Some("bytes=50001-")
                && json_field(l, "status").as_deref() == Some("206")
        ),
        "the attack's 206 was not served: {reqs:#?}"
    );
    let slot = std::fs::read(&s.slot).unwrap();
    assert_eq!(slot.len(), 0x70000);
    // Everything from the end of the 200's bytes to the slot's end is erased:
    // no byte of the 206 reached the flash, MCUboot's trailer least of all.
    assert!(
        slot[50_001..].iter().all(|&b| b == 0xff),
        "bytes of the refused response reached the slot"
    );
}

#[test]
fn whole_file_200_in_the_middle_of_a_download_is_refused() {
    let srv = Server::start(true, "no-range-mid", &[]);
    // min=50001: over https every 2 KiB request after the first starts past
    // byte 1, so min=1 answered the second request with the 200 and the
    // reset never came (the server's log showed it).
    srv.sim("no-range-mid", "reset=50001,once+no-range,min=50001", &[])
        .assert_error("http", "ERANGE");
}

#[test]
fn server_errors_that_never_end() {
    let srv = Server::start(true, "5xx-forever", &[]);
    let fault = "status=503,retry-after=0";
    let s = srv.sim("5xx-forever", fault, &[]);
    s.assert_error("http", "EAGAIN");
    assert!(
        s.stdout.contains("kept answering 5xx") && !s.stdout.contains("cancel"),
        "{}",
        s.stdout
    );
    // --retries 3 by default: the first try and three more.
    assert_eq!(srv.requests(fault).len(), 4);
}

/// Empty 206 answers with `Connection: close` to every range bring no byte:
/// each is a failed attempt, so `--retries 2` ends the download after three
/// requests instead of reconnecting forever.
#[test]
fn empty_ranges_forever_end_after_the_retries() {
    let srv = Server::start(true, "empty-206", &[]);
    let fault = "empty-206";
    let s = srv.sim("empty-206", fault, &["--retries", "2"]);
    s.assert_error("http", "EBADMSG");
    // One request per connection: the server closes after each answer.
    assert_eq!(
        srv.requests(fault).len(),
        3,
        "the first try and two retries"
    );
}

#[test]
fn a_server_that_stalls_every_response_times_out() {
    let srv = Server::start(true, "stall-forever", &[]);
    srv.sim("stall-forever", "stall-head=3000", &[])
        .assert_error("http", "ETIMEDOUT");
}

/// One byte per second never trips the socket (idle) timeout, so only the
/// deadline on the whole download can end it (`--deadline-ms`; the engine's
/// default is no deadline). The server gives up after 120 s; the client must
/// end the download itself, with the error, long before.
#[test]
fn a_one_byte_per_second_server_is_ended_by_the_deadline() {
    let srv = Server::start(true, "trickle", &["--trickle-max-s", "120"]);
    let args = vec![
        srv.url("trickle"),
        "--sec-tag".into(),
        "42".into(),
        "--resolve".into(),
        format!("fota.test:{}:127.0.0.1", srv.port),
        "--deadline-ms".into(),
        "5000".into(),
    ];
    let s = sim("trickle", &args, Duration::from_secs(60));
    s.assert_error("http", "ETIMEDOUT");
    srv.assert_injected("trickle");
}
