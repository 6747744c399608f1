// SPDX-License-Identifier: Apache-2.0
//! End-to-end tests: `fota-sim` (C compatibility layer, Rust core, host port
//! with OpenSSL and NOR-like file flash) against the test server on 127.0.0.1
//! with real certificates and real imgtool-signed MCUboot images. Each test
//! checks the slot file byte for byte with scripts/check-slot.py or by hand.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

mod common;
use common::{fixture_dir, make_image, root, run, signing_key, Sim};

/// Certificates and images, made once per test run.
struct Fixtures {
    dir: PathBuf,
    www: PathBuf,
    image: PathBuf,
    image_len: usize,
}

fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| {
        let (dir, www) = fixture_dir("e2e-fixtures");
        let key = signing_key(&dir);
        let image = www.join("app.bin");
        make_image(&image, 100_000, "0.1.3", Some(&key));
        let bytes = std::fs::read(&image).unwrap();
        // Same image with one payload byte flipped: its SHA256 TLV no longer matches.
        let mut bad = bytes.clone();
        bad[0x200 + 5000] ^= 0x40;
        std::fs::write(www.join("corrupt.bin"), &bad).unwrap();
        // An image that cannot fit a 128 KiB slot.
        make_image(&www.join("big.bin"), 200_000, "0.2.0", None);
        Fixtures {
            dir,
            www,
            image_len: bytes.len(),
            image,
        }
    })
}

use common::PyServer as Server;

impl Server {
    fn start(tls: bool, tag: &str) -> Server {
        Server::start_as(tls.then_some("server"), tag)
    }

    /// HTTPS with the certificate `certs/<cert>.pem` (make-certs.sh), or
    /// plain HTTP for None.
    fn start_as(cert: Option<&str>, tag: &str) -> Server {
        let f = fixtures();
        let mut args: Vec<std::ffi::OsString> = vec!["--root".into(), f.www.clone().into()];
        if let Some(cert) = cert {
            args.extend([
                "--cert".into(),
                f.dir.join(format!("certs/{cert}.pem")).into(),
                "--key".into(),
                f.dir.join(format!("certs/{cert}.key")).into(),
                "--tls12".into(),
            ]);
        }
        let work = f.dir.join(format!("srv-{tag}-{}", std::process::id()));
        Server::spawn("tests/server/fota_server.py", work, &args)
    }
}

impl Sim {
    fn slot_bytes(&self) -> Vec<u8> {
        std::fs::read(&self.slot).unwrap()
    }
    /// The last page (trailer) still erased: nothing was scheduled.
    fn assert_not_scheduled(&self) {
        let s = self.slot_bytes();
        assert!(
            s[s.len() - 4096..].iter().all(|&b| b == 0xff),
            "trailer page not erased"
        );
    }
    fn assert_scheduled(&self, image: &Path) {
        run(Command::new("python3")
            .arg(root().join("scripts/check-slot.py"))
            .arg("--flash")
            .arg(&self.slot)
            .arg("--image")
            .arg(image)
            .args(["--expect", "test"]));
    }
}

/// Run fota-sim with a fresh slot file.
fn sim(name: &str, args: &[&str]) -> Sim {
    sim_env(name, args, &[])
}

/// `sim` with extra environment variables (FOTA_RS_HOST_*).
fn sim_env(name: &str, args: &[&str], env: &[(&str, &str)]) -> Sim {
    let slot = fixtures().dir.join(format!("slot-{name}.bin"));
    let _ = std::fs::remove_file(&slot);
    let _ = std::fs::remove_file(slot.with_extension("bin.state"));
    sim_on(slot, args, env)
}

/// Run fota-sim on the slot file as it is.
fn sim_on(slot: PathBuf, args: &[&str], env: &[(&str, &str)]) -> Sim {
    let f = fixtures();
    let out = Command::new(env!("CARGO_BIN_EXE_fota-sim"))
        .args(args)
        .arg("--cred-dir")
        .arg(f.dir.join("certs/creds"))
        .arg("--flash")
        .arg(&slot)
        .args(["--backoff-ms", "50", "--timeout-ms", "5000"])
        .envs(env.iter().copied())
        .output()
        .expect("run fota-sim");
    let s = Sim { slot, out };
    eprintln!(
        "--- fota-sim {args:?} exit {}\n{}{}",
        s.code(),
        s.stdout(),
        s.stderr()
    );
    s
}

/// fota-sim on `path` of an HTTPS server, with the tag holding its CA (42)
/// and the test host name resolved to loopback; `extra` comes last.
fn sim_tls(srv: &Server, name: &str, path: &str, extra: &[&str]) -> Sim {
    let (url, resolve) = https_url(srv, path);
    let mut args = vec![url.as_str(), "--sec-tag", "42", "--resolve", &resolve];
    args.extend_from_slice(extra);
    sim(name, &args)
}

/// fota-sim called the way the Memfault SDK calls fota_download_start: the
/// same full URL as host and as file.
fn sim_as_memfault(name: &str, url: &str, resolve: &str, sec_tag: &str, extra: &[&str]) -> Sim {
    let mut args = vec![
        "--host",
        url,
        "--file",
        url,
        "--sec-tag",
        sec_tag,
        "--resolve",
        resolve,
    ];
    args.extend_from_slice(extra);
    sim(name, &args)
}

fn https_url(srv: &Server, path: &str) -> (String, String) {
    (
        format!("https://fota.test:{}/{path}", srv.port),
        format!("fota.test:{}:127.0.0.1", srv.port),
    )
}

#[test]
fn plain_http_single_streamed_get() {
    let srv = Server::start(false, "plain");
    let url = format!("http://127.0.0.1:{}/app.bin", srv.port);
    let s = sim("plain", &[&url]);
    assert_eq!(s.code(), 0);
    assert!(s.stdout().contains("OK: image 0.1.3+0"), "{}", s.stdout());
    s.assert_scheduled(&fixtures().image);
    let gets = srv.gets();
    assert_eq!(gets.len(), 1, "{gets:?}");
    assert!(gets[0].contains("\"range\":null"), "{gets:?}");
}

#[test]
fn https_in_2k_fragments_on_one_connection() {
    let srv = Server::start(true, "frag");
    let s = sim_tls(&srv, "frag", "app.bin", &[]);
    assert_eq!(s.code(), 0);
    s.assert_scheduled(&fixtures().image);
    let gets = srv.gets();
    assert_eq!(gets.len(), fixtures().image_len.div_ceil(2048));
    assert!(gets[0].contains("bytes=0-2047"), "{}", gets[0]);
    let conn = |l: &str| {
        l.split("\"conn\":")
            .nth(1)
            .and_then(|r| r.split([',', '}']).next())
            .map(String::from)
    };
    assert!(
        gets.iter().all(|l| conn(l) == conn(&gets[0])),
        "keep-alive not used"
    );
}

#[test]
fn permanent_upgrade_writes_image_ok() {
    let srv = Server::start(true, "perm");
    let s = sim_tls(&srv, "perm", "app.bin", &["--permanent"]);
    assert_eq!(s.code(), 0);
    run(Command::new("python3")
        .arg(root().join("scripts/check-slot.py"))
        .arg("--flash")
        .arg(&s.slot)
        .arg("--image")
        .arg(&fixtures().image)
        .args(["--expect", "perm"]));
}

#[test]
fn chunked_over_http_and_https() {
    let srv = Server::start(false, "chunk-h");
    let s = sim(
        "chunk-h",
        &[&format!("http://127.0.0.1:{}/chunked/app.bin", srv.port)],
    );
    assert_eq!(s.code(), 0);
    s.assert_scheduled(&fixtures().image);
    let srv = Server::start(true, "chunk-s");
    let s = sim_tls(&srv, "chunk-s", "chunked/app.bin", &[]);
    assert_eq!(s.code(), 0);
    s.assert_scheduled(&fixtures().image);
}

#[test]
fn redirects_relative_and_absolute() {
    let srv = Server::start(true, "redir");
    let s = sim_tls(
        &srv,
        "redir",
        "redirect/3/app.bin?X-Amz-Signature=secret",
        &[],
    );
    assert_eq!(s.code(), 0);
    s.assert_scheduled(&fixtures().image);
    assert!(
        !s.stderr().contains("secret"),
        "signature leaked into the log"
    );
    let srv = Server::start(true, "redir-loop");
    let s = sim_tls(&srv, "redir-loop", "redirect/9/app.bin", &[]);
    assert_eq!(s.code(), 4, "more than 5 hops must fail");
    s.assert_not_scheduled();
}

#[test]
fn connection_reset_mid_body_resumes() {
    let srv = Server::start(false, "reset-h");
    let s = sim(
        "reset-h",
        &[&format!(
            "http://127.0.0.1:{}/reset-once/50001/app.bin",
            srv.port
        )],
    );
    assert_eq!(s.code(), 0);
    s.assert_scheduled(&fixtures().image);
    let gets = srv.gets();
    assert_eq!(gets.len(), 2, "{gets:?}");
    assert!(
        gets[1].contains("\"range\":\"bytes="),
        "resume must ask for a range: {gets:?}"
    );

    let srv = Server::start(true, "reset-s");
    let s = sim_tls(&srv, "reset-s", "reset-once/50001/app.bin", &[]);
    assert_eq!(s.code(), 0);
    s.assert_scheduled(&fixtures().image);
    assert!(srv.log().iter().any(|l| l.contains("\"event\":\"reset\"")));
}

#[test]
fn not_found_and_forbidden() {
    let srv = Server::start(true, "status");
    for (code, errno, hint) in [
        ("404", "ENOENT", "not on the server"),
        ("403", "EACCES", "pre-signed URL may have expired"),
    ] {
        let (url, resolve) = https_url(&srv, &format!("status/{code}/app.bin"));
        let s = sim(
            &format!("status-{code}"),
            &[&url, "--sec-tag", "42", "--resolve", &resolve],
        );
        assert_eq!(s.code(), 4);
        let out = s.stdout();
        assert!(
            out.contains("stage=http")
                && out.contains(errno)
                && out.contains(&format!("http_status={code}")),
            "{out}"
        );
        assert!(out.contains(hint), "{out}");
        s.assert_not_scheduled();
    }
}

#[test]
fn wrong_ca_is_refused_like_the_modem_and_explained() {
    let srv = Server::start(true, "wrongca");
    let (url, resolve) = https_url(&srv, "app.bin");
    let s = sim_as_memfault("wrongca", &url, &resolve, "1003", &[]);
    assert_eq!(s.code(), 3);
    let out = s.stdout();
    assert!(
        out.contains("fota_download_start returned -111 (ECONNREFUSED"),
        "{out}"
    );
    assert!(
        out.contains("stage=tls") && out.contains("sec_tags_tried=1003"),
        "{out}"
    );
    assert!(
        out.contains("TLS handshake with fota.test:") && out.contains("(plain TCP to it works)"),
        "{out}"
    );
    s.assert_not_scheduled();
}

#[test]
fn fallback_tag_fixes_the_reported_failure() {
    let srv = Server::start(true, "fallback");
    let (url, resolve) = https_url(&srv, "app.bin");
    let s = sim_as_memfault(
        "fallback",
        &url,
        &resolve,
        "1003",
        &["--fallback-sec-tag", "1004"],
    );
    assert_eq!(s.code(), 0);
    s.assert_scheduled(&fixtures().image);
    assert!(
        s.stderr().contains("Fallback sec_tag works") && s.stderr().contains("sec_tag=1004"),
        "{}",
        s.stderr()
    );
}

#[test]
fn wrong_host_name_is_refused() {
    let srv = Server::start(true, "wrongname");
    let url = format!("https://other.test:{}/app.bin", srv.port);
    let resolve = format!("other.test:{}:127.0.0.1", srv.port);
    let s = sim(
        "wrongname",
        &[&url, "--sec-tag", "42", "--resolve", &resolve],
    );
    assert_eq!(s.code(), 3);
    assert!(
        s.stdout().contains("ECONNREFUSED") && s.stdout().contains("stage=tls"),
        "{}",
        s.stdout()
    );
    s.assert_not_scheduled();
}

/// An IP literal is checked against the certificate's IP entries: server.pem
/// names IP 127.0.0.1, server-wrongname.pem only DNS wrong.test (both signed
/// by the CA under tag 42).
#[test]
fn ip_literal_is_checked_against_the_certificates_ip_entries() {
    let srv = Server::start_as(Some("server"), "ip-san");
    let url = format!("https://127.0.0.1:{}/app.bin", srv.port);
    let s = sim("ip-san", &[&url, "--sec-tag", "42"]);
    assert_eq!(s.code(), 0, "{}", s.stdout());
    s.assert_scheduled(&fixtures().image);

    let srv = Server::start_as(Some("server-wrongname"), "ip-no-san");
    let url = format!("https://127.0.0.1:{}/app.bin", srv.port);
    let s = sim("ip-no-san", &[&url, "--sec-tag", "42"]);
    assert_eq!(s.code(), 3);
    let out = s.stdout();
    assert!(
        out.contains("stage=tls")
            && out.contains("IP address mismatch")
            && out.contains("certificate is not issued for 127.0.0.1"),
        "{out}"
    );
    s.assert_not_scheduled();
}

/// After a test swap the slot holds the previous image, MCUboot's way back
/// until the running image is confirmed: an MCUboot download then fails
/// (stage image, before the slot is touched) unless allowed.
#[test]
fn unconfirmed_running_image_keeps_its_way_back() {
    let srv = Server::start(true, "unconfirmed");
    let slot = fixtures().dir.join("slot-unconfirmed.bin");
    let _ = std::fs::remove_file(slot.with_extension("bin.state"));
    // The previous image: any bytes that are not an erased slot (fota-sim's
    // default slot is 0x70000 bytes).
    let previous: Vec<u8> = (0..0x70000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&slot, &previous).unwrap();
    let (url, resolve) = https_url(&srv, "app.bin");
    let args = [url.as_str(), "--sec-tag", "42", "--resolve", &resolve];

    let refused = [&args[..], &["--running-unconfirmed"]].concat();
    let s = sim_on(slot.clone(), &refused, &[]);
    assert_eq!(s.code(), 5, "{}", s.stdout());
    let out = s.stdout();
    assert!(
        out.contains("stage=image")
            && out.contains("EACCES")
            && out.contains("call boot_write_img_confirmed() first"),
        "{out}"
    );
    assert!(s.slot_bytes() == previous, "the slot changed");

    let allowed = [&args[..], &["--running-unconfirmed", "--allow-unconfirmed"]].concat();
    let s = sim_on(slot, &allowed, &[]);
    assert_eq!(s.code(), 0, "{}", s.stdout());
    s.assert_scheduled(&fixtures().image);
}

#[test]
fn closed_port_is_diagnosed_as_port_not_certificate() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("https://fota.test:{port}/app.bin");
    let resolve = format!("fota.test:{port}:127.0.0.1");
    let s = sim("closed", &[&url, "--sec-tag", "42", "--resolve", &resolve]);
    assert_eq!(s.code(), 3);
    let out = s.stdout();
    assert!(
        out.contains("stage=connect") && out.contains("nothing accepts TCP connections"),
        "{out}"
    );
    assert!(
        out.contains("(checked with plain TCP)"),
        "the modem-like port must be probed: {out}"
    );
}

#[test]
fn image_larger_than_slot_is_refused() {
    let srv = Server::start(true, "big");
    let s = sim_tls(&srv, "big", "big.bin", &["--slot-size", "0x20000"]);
    assert_eq!(s.code(), 5);
    assert!(s.stdout().contains("EFBIG"), "{}", s.stdout());
    s.assert_not_scheduled();
}

#[test]
fn corrupted_payload_is_never_scheduled() {
    let srv = Server::start(true, "corrupt");
    let s = sim_tls(&srv, "corrupt", "corrupt.bin", &[]);
    assert_eq!(s.code(), 5);
    assert!(
        s.stdout().contains("EILSEQ") && s.stdout().contains("stage=image"),
        "{}",
        s.stdout()
    );
    s.assert_not_scheduled();
}

#[test]
fn cancel_stops_without_scheduling() {
    let srv = Server::start(true, "cancel");
    let s = sim_tls(&srv, "cancel", "app.bin", &["--cancel-at", "30"]);
    assert_eq!(s.code(), 7);
    assert!(s.stdout().contains("CANCELLED"), "{}", s.stdout());
    s.assert_not_scheduled();
    assert!(srv.gets().len() < fixtures().image_len.div_ceil(2048));
}

#[test]
fn long_presigned_url_with_colons_and_escapes() {
    let srv = Server::start(true, "longurl");
    let query = format!(
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20221124%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20221124T141720Z&X-Amz-Expires=3600&response-content-disposition=attachment%3Bfilename%3Dapp.bin&t=14:17:20&X-Amz-Security-Token={}&X-Amz-SignedHeaders=host&X-Amz-Signature={}",
        "IQoJb3JpZ2luX2VjE".repeat(20),
        "ab12".repeat(16)
    );
    let url = format!(
        "https://memfault-test.s3.localhost:{}/app.bin?{query}",
        srv.port
    );
    assert!(url.len() > 700, "{}", url.len());
    let resolve = format!("memfault-test.s3.localhost:{}:127.0.0.1", srv.port);
    let s = sim_as_memfault("longurl", &url, &resolve, "42", &[]);
    assert_eq!(s.code(), 0);
    s.assert_scheduled(&fixtures().image);
    let gets = srv.gets();
    assert!(
        gets[0].contains("t=14:17:20"),
        "query not passed intact: {}",
        gets[0]
    );
    // Its signature lies past what a log line keeps: the secrets are
    // checked by presigned_secrets_never_reach_the_log.
}

/// The queries of tests/data/secret-queries.txt, each with its parameter
/// values (every one a credential).
fn secret_queries() -> Vec<(String, Vec<String>)> {
    std::fs::read_to_string(root().join("tests/data/secret-queries.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|q| {
            let values = q
                .split('&')
                .map(|p| p.split_once('=').unwrap().1.to_string())
                .collect();
            (q.to_string(), values)
        })
        .collect()
}

/// At the most verbose log level, no credential of a pre-signed URL reaches
/// stdout or stderr, whether the download succeeds (through two redirects
/// whose Location carries the query) or fails: 403, refused TLS certificate,
/// hash mismatch, cancel, refused redirect (a loop). The secrets sit in the
/// URL's first 100 bytes, so a log line's 160-byte cut cannot hide a leak.
#[test]
fn presigned_secrets_never_reach_the_log() {
    let srv = Server::start(true, "secrets");
    let dbg = [("FOTA_RS_HOST_LOG_LEVEL", "dbg")];
    let cases: [(&str, &str, &str, &[&str], i32); 6] = [
        ("ok", "redirect/2/app.bin", "42", &[], 0),
        ("403", "status/403/app.bin", "42", &[], 4),
        ("tls", "app.bin", "1003", &[], 3),
        ("hash", "corrupt.bin", "42", &[], 5),
        ("cancel", "app.bin", "42", &["--cancel-at", "30"], 7),
        ("loop", "redirect/9/app.bin", "42", &[], 4),
    ];
    for (qi, (query, secrets)) in secret_queries().iter().enumerate() {
        for (what, path, tag, extra, code) in cases {
            let (url, resolve) = https_url(&srv, &format!("{path}?{query}"));
            for v in secrets {
                let end = url.find(v.as_str()).unwrap() + v.len();
                assert!(end <= 100, "{v} ends at byte {end} of {url}");
            }
            let mut args = vec![url.as_str(), "--sec-tag", tag, "--resolve", &resolve];
            args.extend_from_slice(extra);
            let s = sim_env(&format!("secrets-{what}-{qi}"), &args, &dbg);
            assert_eq!(s.code(), code, "{what} {query}");
            let (out, err) = (s.stdout(), s.stderr());
            for v in secrets {
                assert!(
                    !out.contains(v.as_str()) && !err.contains(v.as_str()),
                    "{what}: {v} of {query} leaked:\n{out}{err}"
                );
            }
            // The URL was logged, so there was something to redact.
            assert!(err.contains("=REDACTED&"), "{what}: URL not logged:\n{err}");
            if what == "ok" {
                s.assert_scheduled(&fixtures().image);
                assert_eq!(err.matches("Redirected").count(), 2, "{err}");
            }
        }
    }
    // Every request but the refused handshakes carried the secrets.
    let gets = srv.gets();
    assert!(!gets.is_empty() && gets.iter().all(|g| g.contains("SEKRI")));
}

/// `--frag-fit 2048` against S3-sized heads (464 bytes): the first range
/// (sent alone, before any head is seen) is half the buffer, every later one the
/// buffer minus the head and the 32-byte margin, so each response fits the
/// buffer whole; the server's log shows exactly that many requests.
#[test]
fn frag_fit_sizes_ranges_from_the_learned_head() {
    const FIT: usize = 2048;
    const HEAD: usize = 464;
    let f = fixtures();
    let mut args: Vec<std::ffi::OsString> = vec![
        "--root".into(),
        f.www.clone().into(),
        "--cert".into(),
        f.dir.join("certs/server.pem").into(),
        "--key".into(),
        f.dir.join("certs/server.key").into(),
        "--tls12".into(),
        "--head-size".into(),
    ];
    args.push(HEAD.to_string().into());
    let work = f.dir.join(format!("srv-fragfit-{}", std::process::id()));
    let srv = Server::spawn("tests/server/fota_server.py", work, &args);
    let s = sim_tls(
        &srv,
        "fragfit",
        "app.bin",
        &["--frag-fit", "2048", "--pipeline-depth", "4"],
    );
    assert_eq!(s.code(), 0);
    s.assert_scheduled(&f.image);

    let first = FIT / 2;
    let learned = FIT - HEAD - 32;
    let len = f.image_len;
    let expected = 1 + (len - first).div_ceil(learned);
    let gets = srv.gets();
    assert_eq!(gets.len(), expected, "{gets:#?}");
    let range = |l: &str| -> (usize, usize) {
        let r = l.split("\"range\":\"bytes=").nth(1);
        let r = r.unwrap_or_else(|| panic!("no range in {l}"));
        let (a, b) = r.split_once('-').unwrap();
        let b: String = b.chars().take_while(char::is_ascii_digit).collect();
        (a.parse().unwrap(), b.parse().unwrap())
    };
    let mut next = 0;
    for (i, l) in gets.iter().enumerate() {
        let (a, b) = range(l);
        assert_eq!(a, next, "request {i}: {l}");
        let size = if i == 0 { first } else { learned };
        assert_eq!(b + 1, (a + size).min(len), "request {i}: {l}");
        assert!(HEAD + b + 1 - a <= FIT, "request {i} does not fit: {l}");
        next = b + 1;
    }
    assert_eq!(next, len);
}

/// The fota_rs records of a run's log, without their timestamps.
fn record_lines(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.contains("> fota_rs: "))
        .map(|l| l.split_once("] ").map_or(l, |(_, rest)| rest).to_string())
        .collect()
}

/// The same runs logging ids (as a device build does) and words: the ids
/// through fota-rs-log give the words, line for line. The runs cover
/// records with numbers, URLs, a TLS refusal detail, a fallback tag and a
/// failure line.
#[test]
fn log_ids_decode_to_the_words() {
    let srv = Server::start(true, "ids");
    let (url, resolve) = https_url(&srv, "redirect/2/app.bin");
    let (missing, _) = https_url(&srv, "status/404/app.bin");
    let (plain, _) = https_url(&srv, "app.bin");
    let runs: [Vec<&str>; 3] = [
        vec![&url, "--sec-tag", "42", "--resolve", &resolve],
        vec![&missing, "--sec-tag", "42", "--resolve", &resolve],
        vec![
            &plain,
            "--sec-tag",
            "1003",
            "--fallback-sec-tag",
            "1004",
            "--resolve",
            &resolve,
        ],
    ];
    let mut records = 0;
    for (i, args) in runs.iter().enumerate() {
        let words = sim(&format!("ids-w{i}"), args);
        let ids = sim_env(&format!("ids-i{i}"), args, &[("FOTA_RS_LOG_IDS", "1")]);
        assert_eq!(words.code(), ids.code());
        let words = record_lines(&words.stderr());
        let raw = record_lines(&ids.stderr());
        assert!(!words.is_empty());
        assert!(
            raw.iter().all(|l| l.contains("fota_rs: #")),
            "not id lines: {raw:?}"
        );
        let decoded = fota_rs_log(&ids.stderr());
        // Lines that are not records pass unchanged.
        assert_eq!(decoded.lines().count(), ids.stderr().lines().count());
        assert_eq!(record_lines(&decoded), words);
        records += words.len();
    }
    // Downloading, 2 x Redirected, verified, requested; HTTP error, failed;
    // refused, fallback works, verified, requested (and more at DBG).
    assert!(records >= 11, "{records} records");
}

/// A device build's failure lines (no `log-text`: hint codes, errnos by
/// name, a refused check as name and numbers) through fota-rs-log give the
/// words a `log-text` build writes for the same failure.
#[test]
fn fota_rs_log_expands_the_failure_line() {
    use fota_rs::checks::CheckError;
    use fota_rs::diag::{Diag, Form};
    use fota_rs::error::{Errno, Stage};
    use fota_rs::version::Version;
    let url = fota_rs::url::Url::parse(
        "https://fota.example.com/app.bin",
        fota_rs::url::Limits::DEFAULT,
    )
    .unwrap();
    let line = |d: &Diag, form| {
        let mut s = String::new();
        d.write_form(&mut s, &url, form);
        s
    };
    let refusal = CheckError::NotNewer {
        image: Version {
            major: 1,
            minor: 2,
            revision: 0,
            build: 0,
        },
        running: Version {
            major: 1,
            minor: 3,
            revision: 0,
            build: 0,
        },
    };
    let mut timed_out = Diag::new();
    timed_out.stage = Stage::Http;
    timed_out.errno = Some(Errno::TimedOut);
    timed_out.offset = 12288;
    let mut flash = Diag::new();
    flash.stage = Stage::Flash;
    flash.errno = Some(Errno::Io);
    let mut refused = Diag::new();
    refused.stage = Stage::Image;
    refused.errno = Some(refusal.errno());
    refused.check.set(refusal);
    let mut input = String::new();
    let mut want = String::new();
    for d in [&timed_out, &flash, &refused] {
        let compact = line(d, Form::Compact);
        assert!(compact.contains("hint=#") || compact.contains("refused=not_newer"));
        input += &format!("[00:00:05.120,000] <err> fota_rs: #6 {compact}\n");
        want += &format!(
            "[00:00:05.120,000] <err> fota_rs: Download failed diag={}\n",
            line(d, Form::Words)
        );
    }
    let (mut compact, mut words) = (String::new(), String::new());
    refusal.write_form(&mut compact, Form::Compact);
    refusal.write_form(&mut words, Form::Words);
    input += &format!("<err> fota_rs: #24 version {compact}\nnot a record hint=#3\n");
    want += &format!(
        "<err> fota_rs: Upgrade refused check=version refused={words}\nnot a record hint=#3\n"
    );

    let decoded = fota_rs_log(&input);
    assert_eq!(decoded, want);
    assert!(decoded.contains("no data from fota.example.com within the socket timeout"));
}

/// A record value that is one of its key's fixed texts (the reason
/// pipelining stopped, ...): a device build sends its code, fota-rs-log
/// gives the text, the line a `log-text` build writes. A log of a build
/// that sent the text itself decodes to the same line.
#[test]
fn fota_rs_log_gives_fixed_texts_their_words() {
    use fota_rs::logging::Arg;
    use fota_rs::records::{by_id, write_ids, Code, FIXED};
    struct S(String);
    impl fota_rs::text::Out for S {
        fn put(&mut self, s: &str) {
            self.0.push_str(s);
        }
    }
    let (mut input, mut want) = (String::new(), String::new());
    let mut coded = 0;
    for f in FIXED {
        let (r, code, text) = (by_id(f.id).unwrap(), f.code, f.text);
        let i = usize::from(f.key);
        let other = |k: usize| format!("v{k}");
        let others: Vec<String> = (0..r.keys.len()).map(other).collect();
        let mut values: Vec<Arg> = others.iter().map(|v| Arg::Str(v)).collect();
        for form in [Arg::from(Code(code)), Arg::Str(text)] {
            values[i] = form;
            let mut ids = S(String::new());
            write_ids(&mut ids, r.id, &values);
            input += &format!("[00:00:03.000,000] <inf> fota_rs: {}\n", ids.0);
            let pairs: Vec<String> = r
                .keys
                .iter()
                .enumerate()
                .map(|(k, key)| {
                    let v = if k == i { text.to_string() } else { other(k) };
                    format!("{key}={v}")
                })
                .collect();
            want += &format!(
                "[00:00:03.000,000] <inf> fota_rs: {} {}\n",
                r.message,
                pairs.join(" ")
            );
        }
        coded += 1;
    }
    assert!(coded >= 3, "{coded} fixed texts");
    assert!(input.contains("fota_rs: #27 1 v1\n"), "{input}");
    assert!(want.contains("why=no response to pipelined requests host=v1\n"));
    assert_eq!(fota_rs_log(&input), want);
}

/// Console text through the fota-rs-log binary; it must exit 0.
fn fota_rs_log(input: &str) -> String {
    use std::io::Write;
    let mut decoder = Command::new(env!("CARGO_BIN_EXE_fota-rs-log"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run fota-rs-log");
    {
        let mut stdin = decoder.stdin.take().unwrap();
        stdin.write_all(input.as_bytes()).unwrap();
    }
    let decoded = decoder.wait_with_output().unwrap();
    assert!(decoded.status.success());
    String::from_utf8(decoded.stdout).unwrap()
}
