// SPDX-License-Identifier: Apache-2.0
//! fota-sim: an nRF9160 FOTA download on a PC.
//!
//! Runs the same path a device runs: `fota_download_init` /
//! `fota_download_start` (the NCS compatibility layer, C) → the Rust core →
//! the host port (POSIX sockets, OpenSSL with credentials by sec_tag like the
//! modem, a file standing in for the MCUboot secondary slot).

use std::ffi::{c_char, c_int, CString};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::{Condvar, Mutex};
use std::time::Instant;

mod memfault;

/// Mirror of `struct fota_rs_host_options` (checked by sim/src/layout_check.c).
#[repr(C)]
struct HostOptions {
    cred_dir: *const c_char,
    flash_path: *const c_char,
    slot_size: u32,
    page_size: u32,
    write_block: u32,
    state_path: *const c_char,
    resolve: *const c_char,
    fallback_sec_tags: *const c_char,
    log_level: c_int,
    insecure_no_verify: c_int,
    permanent: c_int,
    retries: c_int,
    socket_timeout_ms: u32,
    retry_backoff_ms: u32,
    running_version: *const c_char,
    primary_addr: u32,
    primary_size: u32,
    ram_addr: u32,
    ram_size: u32,
    allow_downgrade: c_int,
    modem_erase_ms: u32,
    verify_key_path: *const c_char,
    pipeline_depth: u32,
    deadline_ms: u32,
    running_unconfirmed: c_int,
    allow_unconfirmed_overwrite: c_int,
    frag_fit: u32,
}

/// Mirror of `struct fota_download_evt` (v2.0.0 layout).
#[repr(C)]
struct FotaDownloadEvt {
    id: c_int,
    /// `cause` for ERROR, `progress` for PROGRESS.
    value: c_int,
}

const EVT_PROGRESS: c_int = 0;
const EVT_FINISHED: c_int = 1;
const EVT_ERROR: c_int = 4;
const EVT_CANCELLED: c_int = 5;

extern "C" {
    fn fota_rs_host_options_default(o: *mut HostOptions);
    fn fota_rs_host_options_from_env(o: *mut HostOptions) -> c_int;
    fn fota_rs_host_configure(o: *const HostOptions) -> c_int;
    fn fota_rs_host_wait_idle(timeout_ms: u32) -> c_int;
    fn fota_download_init(cb: extern "C" fn(*const FotaDownloadEvt)) -> c_int;
    fn fota_download_start_with_image_type(
        host: *const c_char,
        file: *const c_char,
        sec_tag: c_int,
        pdn_id: u8,
        fragment_size: usize,
        expected: c_int,
    ) -> c_int;
    fn fota_download_cancel() -> c_int;
    fn fota_download_progress_bytes(offset: *mut u32, total: *mut u32);
}

const USAGE: &str = "\
usage: fota-sim [URL] [--host H --file F] [--sec-tag N]... [--fallback-sec-tag N]...
                [--cred-dir DIR] [--resolve HOST:PORT:ADDR] [--flash FILE]
                [--slot-size BYTES] [--page-size BYTES] [--write-block BYTES]
                [--frag-size BYTES] [--frag-fit BYTES] [--state FILE] [--permanent]
                [--retries N] [--timeout-ms MS] [--backoff-ms MS]
                [--cancel-at PERCENT] [--pipeline-depth N] [--deadline-ms MS] [--quiet]
                [--primary-slot ADDR:SIZE] [--running-version X.Y.Z[+B]]
                [--allow-downgrade] [--verify-key PEM]
                [--running-unconfirmed] [--allow-unconfirmed]
       fota-sim memfault --api URL --project-key KEY --device-serial S
                --hardware-version H --software-type T --current-version V
                [download options above, no URL]

Downloads an MCUboot image over HTTP(S) through fota_download_start() into a
file standing in for the secondary slot, verifies it and requests the upgrade.
URL: a full URL, passed as both host and file (as Memfault does), unless
--host and --file give the two strings. Without --sec-tag the URL's scheme
decides (https needs a tag: --sec-tag 42 with DIR/42/ca.pem).
Defaults: --cred-dir ./certs, --flash fota-slot.bin, --slot-size 0x70000,
--page-size 4096, --write-block 4, --frag-size 2048.
--frag-fit BYTES: size ranges so that each response, head and body, fits
BYTES (the nRF91 modem's TLS buffer: 2048); the head size is learned from
the responses (see docs/performance.md).
Checks before the upgrade, against this simulated device: --primary-slot
(default 0x0000c000:0x70000, nRF9160), --running-version (default 0.0.0),
--allow-downgrade, --verify-key (PEM public or signing key; images must carry
an ECDSA-P256 signature by it). --running-unconfirmed: the running image is a
test swap not yet confirmed, so the slot holds the way back and an MCUboot
download is refused unless --allow-unconfirmed.
memfault: asks the Memfault device API for the latest release (as mflt_nrf
fota does; TLS with --sec-tag and --fallback-sec-tag), then downloads it
through fota_download_start(url, url, tag, 0, 0).
Environment: FOTA_RS_LOG_IDS=1 logs records as a device build does
(\"#41 12288 262144\"); fota-rs-log turns them back into words.
Exit status: 0 upgrade requested; 2 usage; 3 url/dns/connect/tls; 4 http;
5 image; 6 flash/schedule; 7 cancelled; 8 memfault: up to date.";

struct Args {
    host: String,
    file: String,
    sec_tags: Vec<i32>,
    fallback: Vec<i32>,
    cred_dir: Option<String>,
    resolve: Vec<String>,
    flash: Option<String>,
    slot_size: Option<u32>,
    page_size: Option<u32>,
    write_block: Option<u32>,
    frag_size: u32,
    frag_fit: Option<u32>,
    state: Option<String>,
    permanent: bool,
    retries: Option<i32>,
    timeout_ms: Option<u32>,
    backoff_ms: Option<u32>,
    pipeline_depth: Option<u32>,
    deadline_ms: Option<u32>,
    cancel_at: Option<i32>,
    quiet: bool,
    primary_slot: Option<(u32, u32)>,
    running_version: Option<String>,
    allow_downgrade: bool,
    running_unconfirmed: bool,
    allow_unconfirmed: bool,
    verify_key: Option<String>,
    /// `fota-sim memfault ...`: ask Memfault for the URL first.
    memfault: Option<memfault::Query>,
}

fn parse_num(s: &str) -> Result<u64, String> {
    let r = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16),
        None => s.parse(),
    };
    r.map_err(|_| format!("not a number: {s}"))
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        host: String::new(),
        file: String::new(),
        sec_tags: vec![],
        fallback: vec![],
        cred_dir: None,
        resolve: vec![],
        flash: None,
        slot_size: None,
        page_size: None,
        write_block: None,
        frag_size: 0,
        frag_fit: None,
        state: None,
        permanent: false,
        retries: None,
        timeout_ms: None,
        backoff_ms: None,
        pipeline_depth: None,
        deadline_ms: None,
        cancel_at: None,
        quiet: false,
        primary_slot: None,
        running_version: None,
        allow_downgrade: false,
        running_unconfirmed: false,
        allow_unconfirmed: false,
        verify_key: None,
        memfault: None,
    };
    let mut url = None;
    let mut it = std::env::args().skip(1).peekable();
    if it.peek().map(String::as_str) == Some("memfault") {
        it.next();
        a.memfault = Some(memfault::Query::default());
    }
    while let Some(arg) = it.next() {
        let mut val = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        let u32v = |s: String| {
            parse_num(&s).and_then(|v| u32::try_from(v).map_err(|_| format!("too large: {s}")))
        };
        match arg.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--host" => a.host = val("--host")?,
            "--file" => a.file = val("--file")?,
            "--sec-tag" => a.sec_tags.push(u32v(val("--sec-tag")?)? as i32),
            "--fallback-sec-tag" => a.fallback.push(u32v(val("--fallback-sec-tag")?)? as i32),
            "--cred-dir" => a.cred_dir = Some(val("--cred-dir")?),
            "--resolve" => a.resolve.push(val("--resolve")?),
            "--flash" => a.flash = Some(val("--flash")?),
            "--slot-size" => a.slot_size = Some(u32v(val("--slot-size")?)?),
            "--page-size" => a.page_size = Some(u32v(val("--page-size")?)?),
            "--write-block" => a.write_block = Some(u32v(val("--write-block")?)?),
            "--frag-size" => a.frag_size = u32v(val("--frag-size")?)?,
            "--frag-fit" => a.frag_fit = Some(u32v(val("--frag-fit")?)?),
            "--state" => a.state = Some(val("--state")?),
            "--permanent" => a.permanent = true,
            "--retries" => a.retries = Some(u32v(val("--retries")?)?.min(255) as i32),
            "--timeout-ms" => a.timeout_ms = Some(u32v(val("--timeout-ms")?)?),
            "--backoff-ms" => a.backoff_ms = Some(u32v(val("--backoff-ms")?)?),
            "--pipeline-depth" => {
                a.pipeline_depth = Some(u32v(val("--pipeline-depth")?)?.clamp(1, 8))
            }
            "--deadline-ms" => a.deadline_ms = Some(u32v(val("--deadline-ms")?)?),
            "--cancel-at" => a.cancel_at = Some(u32v(val("--cancel-at")?)?.min(100) as i32),
            "--quiet" | "-q" => a.quiet = true,
            "--primary-slot" => {
                let v = val("--primary-slot")?;
                let (addr, size) = v
                    .split_once(':')
                    .ok_or(format!("--primary-slot {v}: not ADDR:SIZE"))?;
                a.primary_slot = Some((u32v(addr.into())?, u32v(size.into())?));
            }
            "--running-version" => a.running_version = Some(val("--running-version")?),
            "--allow-downgrade" => a.allow_downgrade = true,
            "--running-unconfirmed" => a.running_unconfirmed = true,
            "--allow-unconfirmed" => a.allow_unconfirmed = true,
            "--verify-key" => a.verify_key = Some(val("--verify-key")?),
            "--api" | "--project-key" | "--device-serial" | "--hardware-version"
            | "--software-type" | "--current-version" => {
                let v = val(&arg)?;
                let q = a
                    .memfault
                    .as_mut()
                    .ok_or(format!("{arg} belongs to `fota-sim memfault`"))?;
                *match arg.as_str() {
                    "--api" => &mut q.api,
                    "--project-key" => &mut q.project_key,
                    "--device-serial" => &mut q.device_serial,
                    "--hardware-version" => &mut q.hardware_version,
                    "--software-type" => &mut q.software_type,
                    _ => &mut q.current_version,
                } = v;
            }
            s if s.starts_with('-') => return Err(format!("unknown option {s}")),
            _ if url.is_none() => url = Some(arg),
            _ => return Err(format!("unexpected argument {arg}")),
        }
    }
    if let Some(q) = &a.memfault {
        if let Some(missing) = q.missing() {
            return Err(format!("memfault needs {missing}"));
        }
        if url.is_some() || !a.host.is_empty() || !a.file.is_empty() {
            return Err(
                "memfault takes the URL from the Memfault API, not the command line".into(),
            );
        }
        // Filled in from the API's answer.
        a.host = String::from("-");
        a.file = String::from("-");
    }
    match (url, a.host.is_empty(), a.file.is_empty()) {
        (Some(u), true, true) => {
            a.host = u.clone();
            a.file = u;
        }
        (None, false, false) => {}
        _ => return Err("give a URL, or both --host and --file".into()),
    }
    if a.sec_tags.len() > 1 {
        return Err(
            "fota_download_start takes one sec_tag; give the others as --fallback-sec-tag".into(),
        );
    }
    Ok(a)
}

enum Outcome {
    Finished,
    Error { cause: i32, diag: String },
    Cancelled,
}

static DONE: Mutex<Option<Outcome>> = Mutex::new(None);
static DONE_CV: Condvar = Condvar::new();
static PROGRESS: Mutex<Progress> = Mutex::new(Progress {
    tty: false,
    quiet: false,
    last: -1,
    cancel_at: None,
    samples: std::collections::VecDeque::new(),
});

struct Progress {
    /// stdout is a terminal: one line that updates in place, as curl's meter.
    tty: bool,
    quiet: bool,
    last: i32,
    cancel_at: Option<i32>,
    /// (time, bytes) of the recent events, for the rate over the last seconds.
    samples: std::collections::VecDeque<(Instant, u32)>,
}

/// The rate is taken over this window, like curl's "current speed".
const RATE_WINDOW_S: f64 = 5.0;

/// Bytes in binary units, as curl prints them.
fn human_bytes(n: f64) -> String {
    if n < 1024.0 {
        format!("{n:.0} B")
    } else if n < 1024.0 * 1024.0 {
        format!("{:.1} KiB", n / 1024.0)
    } else {
        format!("{:.1} MiB", n / (1024.0 * 1024.0))
    }
}

fn clock(secs: f64) -> String {
    let s = secs.round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// The terminal line: percent, bytes of total, rate, time left.
fn meter_line(pct: i32, offset: u32, total: u32, rate: Option<f64>) -> String {
    let size = if total > 0 {
        format!(
            "{} / {}",
            human_bytes(offset.into()),
            human_bytes(total.into())
        )
    } else {
        human_bytes(offset.into())
    };
    let (speed, left) = match rate {
        Some(r) if r > 0.0 => (
            format!("{}/s", human_bytes(r)),
            if total > offset {
                clock(f64::from(total - offset) / r)
            } else {
                clock(0.0)
            },
        ),
        _ => ("--".into(), "--:--:--".into()),
    };
    format!("{pct:3}%  {size:>23}  {speed:>12}  {left} left")
}

fn diag_text() -> String {
    let mut buf = vec![0u8; 1024];
    // SAFETY: buf is writable for its length; the call NUL-terminates.
    let n = unsafe { fota_rs::capi::fota_rs_diag_text(buf.as_mut_ptr().cast(), buf.len()) };
    buf.truncate(n.min(buf.len() - 1));
    String::from_utf8_lossy(&buf).into_owned()
}

extern "C" fn on_event(evt: *const FotaDownloadEvt) {
    // SAFETY: the compatibility layer passes a valid event for the call.
    let evt = unsafe { &*evt };
    let outcome = match evt.id {
        EVT_PROGRESS => {
            let pct = evt.value;
            let cancel = {
                let mut p = PROGRESS.lock().unwrap_or_else(|e| e.into_inner());
                let due = p.cancel_at.is_some_and(|c| pct >= c);
                if due {
                    p.cancel_at = None;
                }
                due
            };
            if cancel {
                // Not under the lock: an SDK before v2.4 delivers CANCELLED
                // from inside fota_download_cancel, back into this callback.
                // SAFETY: plain call; cancelling from the callback is allowed.
                let rc = unsafe { fota_download_cancel() };
                eprintln!("fota-sim: cancelling at {pct}% (fota_download_cancel returned {rc})");
            }
            let mut p = PROGRESS.lock().unwrap_or_else(|e| e.into_inner());
            if !p.quiet {
                if p.tty {
                    let (mut offset, mut total) = (0u32, 0u32);
                    // SAFETY: called from the PROGRESS callback, as the
                    // function asks; both pointers are valid for writing.
                    unsafe { fota_download_progress_bytes(&mut offset, &mut total) };
                    let now = Instant::now();
                    p.samples.push_back((now, offset));
                    while p.samples.len() > 2
                        && p.samples.get(1).is_some_and(|(t, _)| {
                            now.duration_since(*t).as_secs_f64() >= RATE_WINDOW_S
                        })
                    {
                        p.samples.pop_front();
                    }
                    let rate = p.samples.front().and_then(|&(t, b)| {
                        let dt = now.duration_since(t).as_secs_f64();
                        (dt > 0.0 && offset >= b).then(|| f64::from(offset - b) / dt)
                    });
                    // Padded so a shorter line covers a longer one.
                    print!("\r{:<72}", meter_line(pct, offset, total, rate));
                    if pct >= 100 {
                        // The log lines that follow (verification,
                        // upgrade) start on a line of their own.
                        println!();
                    }
                    let _ = std::io::stdout().flush();
                } else if pct / 10 != p.last / 10 {
                    eprintln!("progress: {pct}%");
                }
            }
            p.last = pct;
            return;
        }
        EVT_FINISHED => Outcome::Finished,
        EVT_ERROR => Outcome::Error {
            cause: evt.value,
            diag: diag_text(),
        },
        EVT_CANCELLED => Outcome::Cancelled,
        _ => return,
    };
    if PROGRESS
        .lock()
        .map(|p| p.tty && !p.quiet && (0..100).contains(&p.last))
        .unwrap_or(false)
    {
        println!();
    }
    *DONE.lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
    DONE_CV.notify_all();
}

fn errno_name(rc: i32) -> String {
    let e = std::io::Error::from_raw_os_error(-rc);
    let name = match -rc {
        libc_names::ECONNREFUSED => "ECONNREFUSED",
        libc_names::EHOSTUNREACH => "EHOSTUNREACH",
        libc_names::EINVAL => "EINVAL",
        libc_names::EALREADY => "EALREADY",
        libc_names::ENAMETOOLONG => "ENAMETOOLONG",
        libc_names::ETIMEDOUT => "ETIMEDOUT",
        libc_names::ECONNRESET => "ECONNRESET",
        _ => "",
    };
    format!(
        "{rc} ({name}{}{e})",
        if name.is_empty() { "" } else { ": " }
    )
}

/// Linux errno numbers, only to name fota_download_start's return value.
mod libc_names {
    pub const EINVAL: i32 = 22;
    pub const ENAMETOOLONG: i32 = 36;
    pub const EALREADY: i32 = 114;
    pub const ECONNRESET: i32 = 104;
    pub const ETIMEDOUT: i32 = 110;
    pub const ECONNREFUSED: i32 = 111;
    pub const EHOSTUNREACH: i32 = 113;
}

fn exit_for_diag(diag: &str) -> u8 {
    let stage = diag
        .strip_prefix("stage=")
        .and_then(|s| s.split(' ').next())
        .unwrap_or("");
    match stage {
        "url" | "dns" | "connect" | "tls" => 3,
        "http" => 4,
        "image" => 5,
        "flash" | "schedule" => 6,
        _ => 1,
    }
}

fn read_slot_header(path: &str) -> Option<fota_rs::mcuboot::ImageHeader> {
    let bytes = std::fs::read(path).ok()?;
    fota_rs::mcuboot::ImageHeader::parse(bytes.get(..32)?).ok()
}

fn main() -> ExitCode {
    if std::env::var_os("FOTA_RS_LOG_IDS").is_some_and(|v| v == "1") {
        fota_rs::logging::set_ids_only(true);
    }
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("fota-sim: {msg}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(if msg.is_empty() { 0 } else { 2 });
        }
    };
    let keep: Vec<CString> = Vec::new();
    let mut keep = keep;
    let mut cs = |s: &str| -> *const c_char {
        keep.push(CString::new(s).unwrap_or_default());
        keep.last().map(|c| c.as_ptr()).unwrap_or(std::ptr::null())
    };
    // SAFETY: HostOptions mirrors the C struct; the calls fill it.
    let mut o: HostOptions = unsafe { std::mem::zeroed() };
    // SAFETY: `o` is a valid, writable struct of the C layout.
    unsafe {
        fota_rs_host_options_default(&mut o);
        if fota_rs_host_options_from_env(&mut o) != 0 {
            return ExitCode::from(2);
        }
    }
    if let Some(d) = &args.cred_dir {
        o.cred_dir = cs(d);
    }
    if let Some(f) = &args.flash {
        o.flash_path = cs(f);
    }
    if let Some(s) = &args.state {
        o.state_path = cs(s);
    }
    if !args.resolve.is_empty() {
        o.resolve = cs(&args.resolve.join(","));
    }
    if !args.fallback.is_empty() {
        let list: Vec<String> = args.fallback.iter().map(|t| t.to_string()).collect();
        o.fallback_sec_tags = cs(&list.join(","));
    }
    o.slot_size = args.slot_size.unwrap_or(o.slot_size);
    o.page_size = args.page_size.unwrap_or(o.page_size);
    o.write_block = args.write_block.unwrap_or(o.write_block);
    o.permanent = c_int::from(args.permanent);
    if let Some(r) = args.retries {
        o.retries = r;
    }
    if let Some(t) = args.timeout_ms {
        o.socket_timeout_ms = t;
    }
    if let Some(d) = args.pipeline_depth {
        o.pipeline_depth = d;
    }
    if let Some(d) = args.deadline_ms {
        o.deadline_ms = d;
    }
    if let Some(f) = args.frag_fit {
        o.frag_fit = f;
    }
    if let Some(b) = args.backoff_ms {
        o.retry_backoff_ms = b;
    }
    if let Some((addr, size)) = args.primary_slot {
        o.primary_addr = addr;
        o.primary_size = size;
    }
    if let Some(v) = &args.running_version {
        o.running_version = cs(v);
    }
    if args.allow_downgrade {
        o.allow_downgrade = 1;
    }
    if args.running_unconfirmed {
        o.running_unconfirmed = 1;
    }
    if args.allow_unconfirmed {
        o.allow_unconfirmed_overwrite = 1;
    }
    if let Some(k) = &args.verify_key {
        o.verify_key_path = cs(k);
    }
    let flash_path = if o.flash_path.is_null() {
        String::from("fota-slot.bin")
    } else {
        // SAFETY: set above or by the defaults to a NUL-terminated string.
        unsafe { std::ffi::CStr::from_ptr(o.flash_path) }
            .to_string_lossy()
            .into_owned()
    };
    // SAFETY: `o` is fully initialised; its strings live in `keep` or env.
    let rc = unsafe { fota_rs_host_configure(&o) };
    if rc != 0 {
        eprintln!("fota-sim: host port configuration failed ({rc})");
        return ExitCode::from(2);
    }
    {
        let mut p = PROGRESS.lock().unwrap_or_else(|e| e.into_inner());
        p.tty = std::io::stdout().is_terminal();
        p.quiet = args.quiet;
        p.cancel_at = args.cancel_at;
    }
    // SAFETY: on_event matches fota_download_callback_t.
    let rc = unsafe { fota_download_init(on_event) };
    if rc != 0 {
        eprintln!("fota-sim: fota_download_init returned {}", errno_name(rc));
        return ExitCode::from(2);
    }
    let tag = args.sec_tags.first().copied().unwrap_or(-1);
    let (host, file) = match &args.memfault {
        None => (cs(&args.host), cs(&args.file)),
        Some(q) => {
            let tags: Vec<i32> = args
                .sec_tags
                .iter()
                .chain(&args.fallback)
                .copied()
                .collect();
            match memfault::latest_url(q, &tags, args.timeout_ms.unwrap_or(30_000)) {
                Ok(memfault::Answer::Url(url)) => {
                    // Exactly Memfault's call: the whole URL as host and file.
                    let url = cs(&url);
                    (url, url)
                }
                Ok(memfault::Answer::UpToDate) => {
                    println!(
                        "fota-sim: up to date: Memfault offers no release for {} (HTTP 204). \
                         A release is offered only when software_type and hardware_version \
                         match its cohort and current_version is older than its latest \
                         release; check these values (CONFIG_MEMFAULT_NCS_FW_TYPE, \
                         CONFIG_MEMFAULT_NCS_FW_VERSION, the hardware version) against \
                         the release in Memfault.",
                        q.describe()
                    );
                    return ExitCode::from(8);
                }
                Err(f) => {
                    println!("fota-sim: ERROR: memfault: {}", f.message);
                    return ExitCode::from(f.exit);
                }
            }
        }
    };
    let t0 = Instant::now();
    // SAFETY: host and file are NUL-terminated and outlive the call.
    let rc = unsafe {
        fota_download_start_with_image_type(host, file, tag, 0, args.frag_size as usize, 0)
    };
    if rc != 0 {
        let diag = diag_text();
        println!(
            "fota-sim: ERROR: fota_download_start returned {}",
            errno_name(rc)
        );
        println!("fota-sim: ERROR: {diag}");
        return ExitCode::from(exit_for_diag(&diag));
    }
    let outcome = {
        let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
        while done.is_none() {
            done = DONE_CV.wait(done).unwrap_or_else(|e| e.into_inner());
        }
        done.take()
    };
    // SAFETY: plain call; waits for the download thread to return.
    unsafe { fota_rs_host_wait_idle(u32::MAX) };
    let secs = t0.elapsed().as_secs_f64();
    match outcome {
        Some(Outcome::Finished)
            if fota_rs::capi::fota_rs_current_image_type()
                == fota_rs::image::ImageType::ModemDelta as u8 =>
        {
            let held = std::fs::metadata(format!("{flash_path}.modem")).map_or(0, |m| m.len());
            println!(
                "fota-sim: OK: modem delta image ({held} bytes) handed to the simulated modem \
                 ({flash_path}.modem); it applies it at its next start ({secs:.2} s)"
            );
            ExitCode::SUCCESS
        }
        Some(Outcome::Finished) => {
            let what = match read_slot_header(&flash_path) {
                Some(h) => format!(
                    "image {}.{}.{}+{} ({} bytes + header and TLVs)",
                    h.version.major,
                    h.version.minor,
                    h.version.revision,
                    h.version.build,
                    h.img_size
                ),
                None => "image".into(),
            };
            println!(
                "fota-sim: OK: {what} verified (SHA-256) in {flash_path}; upgrade requested ({}) in {secs:.2} s",
                if args.permanent { "permanent" } else { "test swap" }
            );
            ExitCode::SUCCESS
        }
        Some(Outcome::Error { cause, diag }) => {
            println!("fota-sim: ERROR: download failed (cause {cause}): {diag}");
            ExitCode::from(exit_for_diag(&diag))
        }
        Some(Outcome::Cancelled) | None => {
            println!(
                "fota-sim: CANCELLED: download cancelled after {secs:.2} s; no upgrade requested"
            );
            ExitCode::from(7)
        }
    }
}
