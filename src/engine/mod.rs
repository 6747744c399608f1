// SPDX-License-Identifier: Apache-2.0
//! The download engine: connect (with sec_tag fallback), request, receive,
//! hand body bytes to the slot writer, reconnect and resume at the exact byte
//! after a failure, verify, and request the upgrade.
//!
//! It is generic over [`Port`], so the same code runs over the C port table on
//! a device and over in-memory fakes in unit tests.
//!
//! This file holds the settings, the request, the engine's state, `start`,
//! and `run`: the retry loop and the end of a complete download (verify,
//! checks, upgrade request; kept in `run_inner`, as a function of its own it
//! costs flash). The other phases have files of their own: `connect.rs`
//! (sec_tag fallback and the TCP probe), `pipeline.rs` (requests in flight and
//! their responses), `sink.rs` (where body bytes go) and `resume.rs` (saved
//! progress).

mod connect;
mod pipeline;
mod resume;
mod sink;
#[cfg(test)]
mod tests;

use crate::diag::{Diag, Hint, MAX_TAGS};
use crate::error::{Errno, Error, Stage};
use crate::image::{ImageSet, ImageType};
use crate::mcuboot::PROGRESS_KEY;
use crate::port::{Handle, Port};
use crate::records::{PIPELINE_STOPPED, UPGRADE_REQUESTED};
use crate::url::{Limits, Url};
use core::sync::atomic::{AtomicBool, Ordering};
use pipeline::InFlight;
use resume::url_id;
use sink::{flash_or_image, Sink};

/// Receive buffer: the nRF91 modem delivers TLS records of at most ~2 KB.
pub const RX_BUF: usize = 2048;
/// Longest wait in one recv call, so a cancel is seen promptly.
const POLL_SLICE_MS: u32 = 250;
/// Most requests the engine tracks in flight (the configured depth is capped here).
pub const MAX_PIPELINE: usize = 8;
/// Least pipeline depth at which a lone request waits for a second to share
/// its send (`fill_pipeline`). The wait takes one request out of the
/// pipeline: on make bench's nRF91 profile depth 6 then left the uplink
/// idle (11.89 s against 11.35 s unpaired), 8 kept it busy (11.21 s).
const PAIR_DEPTH: u8 = MAX_PIPELINE as u8;
/// Bytes a response head may grow by, past the largest one seen, and still
/// fit a `frag_fit` buffer (Content-Range's digits: up to 2 x 10).
pub const FIT_MARGIN: u32 = 32;
/// `Engine::fit_head` after a failure with `frag_fit` on: ranges of the
/// first, smaller size for the rest of the download.
const FIT_GAVE_UP: u16 = u16::MAX;
/// Upper bound for one backoff sleep.
const MAX_BACKOFF_MS: u32 = 30_000;
// `Outcome::RetryLater` holds a wait of at most this in 16 bits.
const _: () = assert!(MAX_BACKOFF_MS <= u16::MAX as u32);

/// Settings (from Kconfig on Zephyr, flags in fota-sim).
#[derive(Clone, Debug)]
pub struct Config {
    pub frag_size: u32,
    /// 0: ranges of `frag_size`. Otherwise the buffer a whole response (head
    /// and body) must fit, as the nRF91 modem's TLS buffer: ranges are this
    /// minus the largest head seen minus `FIT_MARGIN`, and before any head
    /// was seen the smaller of `frag_size` and half of this.
    pub frag_fit: u16,
    pub retries: u8,
    pub retry_backoff_ms: u32,
    pub socket_timeout_ms: u32,
    pub fallback_sec_tags: heapless::Vec<i32, MAX_TAGS>,
    pub max_redirects: u8,
    pub permanent: bool,
    pub progress_events: bool,
    /// Keep progress in the port's key/value store and resume after a reboot.
    pub progress_save: bool,
    /// Most ranged GETs in flight on one connection (HTTP/1.1 pipelining);
    /// 1 disables pipelining.
    pub pipeline_depth: u8,
    /// Upper bound for a whole download in ms (0: none). A server that
    /// trickles one byte per second never trips the socket timeout.
    pub deadline_ms: u32,
    /// Checks made on a verified MCUboot image before the upgrade is requested.
    pub checks: crate::checks::Checks,
    /// Write an MCUboot image into the slot even while the running image is
    /// not confirmed (port `running_confirmed`), which destroys the previous
    /// image MCUboot would revert to.
    pub allow_unconfirmed_overwrite: bool,
    pub limits: Limits,
}

impl Config {
    /// NCS-compatible defaults: 2 KiB fragments, 30 s socket timeout.
    pub const DEFAULT: Config = Config {
        frag_size: 2048,
        frag_fit: 0,
        retries: 3,
        retry_backoff_ms: 1000,
        socket_timeout_ms: 30_000,
        fallback_sec_tags: heapless::Vec::new(),
        // Parts the build leaves out are off (cargo features).
        max_redirects: if cfg!(feature = "redirects") { 5 } else { 0 },
        permanent: false,
        progress_events: true,
        progress_save: cfg!(feature = "progress-save"),
        pipeline_depth: 8,
        deadline_ms: 0,
        checks: crate::checks::Checks::DEFAULT,
        allow_unconfirmed_overwrite: false,
        limits: Limits::DEFAULT,
    };
}

impl Config {
    /// Whether progress is saved: asked for, and built in.
    pub fn saves_progress(&self) -> bool {
        cfg!(feature = "progress-save") && self.progress_save
    }

    /// The first part this configuration asks for that the build leaves out
    /// (a cargo feature it was built without), as the Kconfig option to set
    /// (a fixed text of the `PART_LEFT_OUT` record).
    pub fn needs_left_out(&self) -> Option<crate::records::Code> {
        use crate::records::PART_LEFT_OUT as SET;
        if self.max_redirects > 0 && !cfg!(feature = "redirects") {
            Some(SET::MAX_REDIRECTS)
        } else if self.progress_save && !cfg!(feature = "progress-save") {
            Some(SET::PROGRESS_SAVE)
        } else if self.frag_fit > 0 && !cfg!(feature = "frag-fit") {
            Some(SET::FRAG_FIT)
        } else if (self.checks.layout || !self.checks.allow_downgrade)
            && !cfg!(feature = "image-checks")
        {
            Some(SET::IMAGE_CHECKS)
        } else {
            None
        }
    }

    /// All zero: only for the static engine before `set_config`.
    const UNSET: Config = Config {
        frag_size: 0,
        frag_fit: 0,
        retries: 0,
        retry_backoff_ms: 0,
        socket_timeout_ms: 0,
        fallback_sec_tags: heapless::Vec::new(),
        max_redirects: 0,
        permanent: false,
        progress_events: false,
        progress_save: false,
        pipeline_depth: 0,
        deadline_ms: 0,
        checks: crate::checks::Checks {
            layout: false,
            allow_downgrade: false,
            verify_key: None,
        },
        allow_unconfirmed_overwrite: false,
        limits: Limits {
            host_max: 0,
            path_max: 0,
        },
    };
}

impl Default for Config {
    fn default() -> Self {
        Config::DEFAULT
    }
}

/// One download as the caller asks for it.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub host: &'a str,
    pub file: &'a str,
    /// Empty: no TLS unless the URL says https.
    pub sec_tags: &'a [i32],
    pub pdn_id: u8,
    /// 0: the configured default.
    pub frag_size: u32,
    /// Image types the caller accepts (NCS `expected_type`).
    pub expected: ImageSet,
}

/// Why an ERROR event happened, in NCS terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Cause {
    None = 0,
    ConnectFailed = 1,
    DownloadFailed = 2,
    InvalidUpdate = 3,
    TypeMismatch = 4,
    Internal = 5,
}

impl Cause {
    pub fn of(e: Error) -> Cause {
        match (e.stage, e.errno) {
            (_, Errno::NoExec) => Cause::TypeMismatch,
            (Stage::Url | Stage::Dns | Stage::Connect | Stage::Tls, _) => Cause::ConnectFailed,
            (Stage::Image, _) | (_, Errno::FileTooBig) => Cause::InvalidUpdate,
            (Stage::Http, _) => Cause::DownloadFailed,
            _ => Cause::Internal,
        }
    }
}

/// Progress report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    pub image_type: ImageType,
    pub percent: u8,
    pub offset: u32,
    pub total: u32,
}

/// What the engine reports while it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    Progress(Progress),
    /// A target must erase before it can take the image (modem delta area).
    ErasePending,
    EraseDone,
}

/// A finished download: verified and scheduled.
#[derive(Clone, Copy, Debug)]
pub struct Finished {
    pub image_type: ImageType,
    pub image_len: u32,
}

/// How one request/response exchange ended.
enum Outcome {
    /// The image is complete.
    Done,
    /// More ranges to fetch.
    Continue,
    /// Follow the new URL (already stored).
    Redirect,
    /// Server asked to come back later (5xx), after this many ms (at most
    /// `MAX_BACKOFF_MS`). 16 bits: the result of an exchange is then 8
    /// bytes, not 12, less to store at each of its return sites.
    RetryLater(u16),
}

/// The engine. One download at a time.
///
/// In this order (`repr(C)`): the fields read at every step first, where
/// Thumb-2's 16-bit loads and stores reach them from `self` (bytes up to
/// offset 31, words up to 124); Rust's own order put them past the 2 KiB
/// receive buffer, each access a 32-bit instruction.
#[repr(C)]
pub struct Engine {
    /// Ask for ranges (TLS fragments); false once a server answered 200.
    ranged: bool,
    /// Most requests in flight for this server (1 once it mishandled
    /// pipelined requests).
    depth_cap: u8,
    /// Set when a response did not match its pipelined request.
    pipeline_broken: bool,
    /// A send on this connection failed: read what already arrived, send no more.
    send_failed: bool,
    /// The start of the next request (request line and Host) went out while
    /// the first response was awaited; its end (Range, blank line) follows.
    next_started: bool,
    /// Redirects followed in this download (`check_head` alone counts them).
    redirects: u8,
    /// With `frag_fit`: the longest response head seen in this download (0:
    /// none yet; `FIT_GAVE_UP` after a failure).
    fit_head: u16,
    filled: usize,
    /// First byte not yet asked for.
    next_request: u32,
    frag_size: u32,
    /// Requests sent on this connection whose responses have not ended, in order.
    in_flight: InFlight,
    conn: Option<Handle>,
    /// Uptime (ms) by which the download must be complete; 0: none (a
    /// deadline is at least its 1 ms past the start).
    deadline: u64,
    sink: Sink,
    tags: heapless::Vec<i32, MAX_TAGS>,
    /// Identity of the requested URL (before redirects) for saved progress.
    url_id: [u8; 8],
    pdn_id: u8,
    cfg: Config,
    diag: Diag,
    url: Url,
    rx: [u8; RX_BUF],
}

impl Engine {
    pub fn new(cfg: Config) -> Engine {
        let mut e = Engine::new_const();
        e.cfg = cfg;
        e
    }

    /// An engine buildable in a `static` (no multi-kilobyte value ever
    /// passes through a small stack). Every byte is zero, so the static
    /// lands in .bss and costs no flash for an initial copy; `set_config`
    /// must run before `start` (the C API's state machine makes sure).
    pub const fn new_const() -> Engine {
        Engine {
            cfg: Config::UNSET,
            url: Url::EMPTY,
            tags: heapless::Vec::new(),
            pdn_id: 0,
            frag_size: 0,
            ranged: false,
            in_flight: InFlight::new(),
            next_request: 0,
            depth_cap: 0,
            fit_head: 0,
            pipeline_broken: false,
            redirects: 0,
            send_failed: false,
            next_started: false,
            deadline: 0,
            conn: None,
            rx: [0; RX_BUF],
            filled: 0,
            sink: Sink::new(ImageSet::ANY),
            diag: Diag::new(),
            url_id: [0; 8],
        }
    }

    pub fn set_config(&mut self, cfg: Config) {
        self.cfg = cfg;
    }

    /// Drop the connection of a started download that will not run.
    pub fn abort<P: Port>(&mut self, port: &mut P) {
        self.close(port);
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    pub fn diag(&self) -> &Diag {
        &self.diag
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Image type found in the download so far (`Any` before 32 bytes).
    pub fn image_type(&self) -> ImageType {
        self.sink.found
    }

    // One copy for its nine calls (inlined, each had the three stores).
    #[inline(never)]
    fn fail(&mut self, e: Error) -> Error {
        self.diag.stage = e.stage;
        self.diag.errno = Some(e.errno);
        self.diag.offset = self.sink.offset;
        e
    }

    /// Check the request, parse the URL and connect (DNS, TCP, TLS with
    /// fallback tags). Runs on the caller's thread so a connect error can be
    /// the return value of `fota_download_start`, as NCS callers expect.
    pub fn start<P: Port>(&mut self, port: &mut P, req: &Request) -> Result<(), Error> {
        self.close(port);
        // From constants, which are zero but for padding: the compiler
        // clears the fields in place, where a value built at run time (the
        // request's image types) was built on the stack and copied in.
        // (Named constants, not `const {}` blocks: those need Rust 1.79,
        // the crate's rust-version is 1.77.)
        const FRESH_DIAG: Diag = Diag::new();
        const FRESH_SINK: Sink = Sink::new(ImageSet::ANY);
        self.diag = FRESH_DIAG;
        self.sink = FRESH_SINK;
        self.sink.expected = req.expected;
        self.filled = 0;
        self.ranged = true;
        self.depth_cap = self.cfg.pipeline_depth.clamp(1, MAX_PIPELINE as u8);
        self.fit_head = 0;
        self.pdn_id = req.pdn_id;
        self.frag_size = if req.frag_size == 0 {
            self.cfg.frag_size
        } else {
            req.frag_size
        };
        if self.frag_size == 0 {
            return Err(self.fail(Error::new(Stage::Url, Errno::Inval)));
        }
        self.tags.clear();
        for &t in req.sec_tags {
            if self.tags.push(t).is_err() {
                return Err(self.fail(Error::new(Stage::Url, Errno::TooBig)));
            }
        }
        let limits = self.cfg.limits;
        let file = match select_b1_image(port, req.file) {
            Ok(f) => f,
            Err(e) => return Err(self.fail(Error::new(Stage::Url, e))),
        };
        if let Err(e) =
            self.url
                .set_from_host_file(req.host, file, !req.sec_tags.is_empty(), limits)
        {
            return Err(self.fail(Error::new(Stage::Url, e)));
        }
        // Read only by the saved progress and the modem delta's resume: a
        // build without both leaves the hash out.
        if cfg!(any(feature = "progress-save", feature = "modem-delta")) {
            self.url_id = url_id(&self.url);
        }
        crate::logging::info!(DOWNLOADING, url = &self.url);
        self.connect(port)
    }

    fn close<P: Port>(&mut self, port: &mut P) {
        if let Some(h) = self.conn.take() {
            port.close(h);
        }
        self.filled = 0;
        // Whatever was asked on this connection is asked again on the next.
        self.in_flight.clear();
        self.next_request = self.sink.offset;
        self.send_failed = false;
        self.next_started = false;
    }

    /// Run the download to the end. `emit` gets progress reports. Returns the
    /// verified image after the upgrade was requested.
    pub fn run<P: Port>(
        &mut self,
        port: &mut P,
        cancel: &AtomicBool,
        emit: &mut dyn FnMut(Notice),
    ) -> Result<Finished, Error> {
        let r = self.run_inner(port, cancel, emit);
        self.close(port);
        // `r` is returned as it came (re-wrapping it copied the result).
        let failed = r.as_ref().err().copied();
        if failed.is_some() && self.sink.delta().is_some() {
            // Keep what the modem holds for a later attempt, without applying it.
            let _ = port.modem_delta_done(false);
        }
        if failed.is_some() && self.sink.writer.is_some() {
            // Whatever failed, MCUboot finds no upgrade request in the slot.
            let _ = crate::mcuboot::clear_trailer(port, &self.sink.geo, &mut self.rx);
        }
        // Saved progress outlives only failures that a later attempt can
        // continue from: the network's.
        let keep = matches!(failed, Some(e) if e.errno.is_transient() || e.errno == Errno::Again);
        if self.cfg.saves_progress() && !keep {
            let _ = port.kv_delete(PROGRESS_KEY);
        }
        if let Some(e) = failed {
            self.fail(e);
        }
        r
    }

    fn run_inner<P: Port>(
        &mut self,
        port: &mut P,
        cancel: &AtomicBool,
        emit: &mut dyn FnMut(Notice),
    ) -> Result<Finished, Error> {
        let geo = port.flash_geometry();
        let geo = match &geo {
            Ok(g) => g,
            Err(e) => return Err(Error::new(Stage::Flash, *e)),
        };
        self.sink.geo = *geo;
        self.sink.download_id = self.url_id;
        // After a test swap, until the running image confirms itself, the
        // slot holds the previous image: MCUboot's only way back. Nothing
        // there is touched then, and an MCUboot image is refused (`deliver`).
        self.sink.keep_slot =
            !self.cfg.allow_unconfirmed_overwrite && port.running_confirmed() == Ok(false);
        if !self.sink.keep_slot {
            // No stale upgrade request may survive into a half-written slot.
            crate::mcuboot::clear_trailer(port, geo, &mut self.rx)
                .map_err(|e| Error::new(Stage::Flash, e))?;
            if self.cfg.saves_progress() {
                self.sink.url_id = Some(self.url_id);
                self.try_resume(port);
            }
        }
        self.next_request = self.sink.offset;
        let mut retries_left = self.cfg.retries;
        let mut attempt: u32 = 0;
        self.redirects = 0;
        self.deadline = match self.cfg.deadline_ms {
            0 => 0,
            ms => port.uptime_ms().saturating_add(u64::from(ms)),
        };
        loop {
            if cancel.load(Ordering::Relaxed) {
                return Err(Error::new(Stage::None, Errno::Canceled));
            }
            let before = self.sink.offset;
            // A response came (not only a connect) in this step.
            let exchanged = self.conn.is_some();
            let step = if !exchanged {
                self.connect(port).map(|_| Outcome::Continue)
            } else {
                self.exchange(port, cancel, emit)
            };
            let progressed = self.sink.offset > before;
            // A response that brought no byte (an empty range, a close right
            // after the head) is a failed attempt like a dropped connection:
            // a server answering only those must not keep the device
            // reconnecting forever.
            let empty = exchanged && !progressed && matches!(step, Ok(Outcome::Continue));
            let step = if empty {
                Err(Error::new(Stage::Http, Errno::BadMsg))
            } else {
                step
            };
            if let Err(e) = &step {
                // A device's TLS stack may break on records that pack several
                // responses (the nRF91 modem decrypts ~2 KB at most): after a
                // timeout, receive error or reset with more than one request
                // in flight, the rest of this download asks one at a time.
                if e.errno.is_transient() && self.in_flight.len() > 1 {
                    self.stop_pipelining(if e.errno == Errno::TimedOut {
                        PIPELINE_STOPPED::NO_RESPONSE
                    } else {
                        PIPELINE_STOPPED::BROKE
                    });
                }
                // The same failure is what a modem shows for a response
                // that did not fit its buffer: the rest of the download
                // asks ranges of the first, smaller size.
                if cfg!(feature = "frag-fit")
                    && e.errno.is_transient()
                    && self.cfg.frag_fit != 0
                    && self.fit_head != FIT_GAVE_UP
                {
                    self.fit_head = FIT_GAVE_UP;
                    crate::logging::info!(FRAG_FIT_DROPPED, range = self.range_len());
                }
            }
            if progressed {
                retries_left = self.cfg.retries;
                attempt = 0;
            }
            let wait = match step {
                Ok(Outcome::Done) => break,
                Ok(Outcome::Continue) => continue,
                Ok(Outcome::Redirect) => {
                    crate::logging::info!(REDIRECTED, url = &self.url);
                    self.close(port);
                    continue;
                }
                Ok(Outcome::RetryLater(ms)) => {
                    self.close(port);
                    if retries_left == 0 {
                        self.diag.note = Some(Hint::RetriesOut5xx);
                        return Err(Error::new(Stage::Http, Errno::Again));
                    }
                    u32::from(ms)
                }
                Err(e) if e.errno == Errno::Range && self.pipeline_broken => {
                    self.pipeline_broken = false;
                    self.stop_pipelining(PIPELINE_STOPPED::MISMATCH);
                    self.close(port);
                    continue;
                }
                Err(e)
                    if e.errno == Errno::Range
                        && cfg!(feature = "progress-save")
                        && self.sink.resumed_from > 0 =>
                {
                    // The file is not the one the saved progress was for.
                    crate::logging::warn!(FILE_CHANGED, saved_at = self.sink.resumed_from);
                    self.close(port);
                    let _ = port.kv_delete(PROGRESS_KEY);
                    let url_id = self.sink.url_id;
                    self.sink = Sink::new(self.sink.expected);
                    self.sink.geo = *geo;
                    self.sink.url_id = url_id;
                    self.ranged = true;
                    continue;
                }
                Err(e) if e.errno == Errno::TimedOut && self.past_deadline(port) => {
                    crate::logging::error!(DEADLINE, deadline_ms = self.cfg.deadline_ms);
                    return Err(e);
                }
                Err(e) if (e.errno.is_transient() || empty) && retries_left > 0 => {
                    self.close(port);
                    crate::logging::warn!(
                        INTERRUPTED,
                        error = e.errno.name(),
                        offset = self.sink.offset,
                        retries_left = retries_left
                    );
                    let shift = attempt.min(5);
                    self.cfg
                        .retry_backoff_ms
                        .saturating_mul(1 << shift)
                        .min(MAX_BACKOFF_MS)
                }
                Err(e) => return Err(e),
            };
            retries_left -= 1;
            attempt += 1;
            self.sleep(port, wait, cancel)?;
        }
        self.close(port);
        if self.sink.delta().is_some() {
            if self.sink.total != Some(self.sink.offset) {
                return Err(Error::new(Stage::Image, Errno::IlSeq));
            }
            // The modem checks the delta itself when it applies it.
            port.modem_delta_done(true)
                .map_err(|e| Error::new(Stage::Schedule, e))?;
            crate::logging::info!(DELTA_HANDED_OVER, bytes = self.sink.offset);
            return Ok(Finished {
                image_type: ImageType::ModemDelta,
                image_len: self.sink.offset,
            });
        }
        let writer = self
            .sink
            .writer
            .as_mut()
            .ok_or(Error::new(Stage::Image, Errno::IlSeq))?;
        let verified = writer.finish(port, &mut self.rx);
        let verified = match &verified {
            Ok(v) => v,
            Err(e) => return Err(flash_or_image(*e)),
        };
        // The version text only for the log record (not built with logs off).
        crate::logging::info!(
            IMAGE_VERIFIED,
            version = &verified.version,
            bytes = verified.image_len
        );
        // An image MCUboot would reject at boot, or that would not start on
        // this device, is refused before anything is requested.
        let checked = if cfg!(feature = "image-checks") {
            crate::checks::check_image(port, &self.cfg.checks, &mut self.rx).map(drop)
        } else {
            Ok(())
        };
        if let Err(e) = checked {
            crate::logging::error!(UPGRADE_REFUSED, check = e.check(), refused = &e);
            self.diag.check.set(e);
            return Err(Error::new(Stage::Image, e.errno()));
        }
        // The upgrade request goes to an erased trailer only. The download
        // never writes there: bytes found there fail it (and are erased).
        match crate::mcuboot::clear_trailer(port, &self.sink.geo, &mut self.rx) {
            Ok(false) => {}
            Ok(true) => return Err(Error::new(Stage::Schedule, Errno::Io)),
            Err(e) => return Err(Error::new(Stage::Flash, e)),
        }
        port.request_upgrade(self.cfg.permanent)
            .map_err(|e| Error::new(Stage::Schedule, e))?;
        crate::logging::info!(
            UPGRADE_REQUESTED,
            swap = if self.cfg.permanent {
                UPGRADE_REQUESTED::PERMANENT
            } else {
                UPGRADE_REQUESTED::TEST
            }
        );
        Ok(Finished {
            image_type: ImageType::Mcuboot,
            image_len: verified.image_len,
        })
    }

    // Left to the compiler: `#[inline(never)]` (one copy for `run_inner`
    // and `exchange`) measured 14 bytes more on the merged tree.
    fn past_deadline<P: Port>(&self, port: &mut P) -> bool {
        self.deadline != 0 && port.uptime_ms() >= self.deadline
    }

    fn sleep<P: Port>(&mut self, port: &mut P, ms: u32, cancel: &AtomicBool) -> Result<(), Error> {
        let mut left = ms;
        while left > 0 {
            if cancel.load(Ordering::Relaxed) {
                return Err(Error::new(Stage::None, Errno::Canceled));
            }
            let s = left.min(POLL_SLICE_MS);
            port.sleep_ms(s);
            left -= s;
        }
        Ok(())
    }
}

/// NCS's dual-image form for the B1 bootloader: `file` is "s0.bin s1.bin"
/// and the image for the slot that is not running is downloaded.
// Inlined in its one caller (`start`): its `Result<&str, _>` no longer
// goes through memory.
#[inline(always)]
fn select_b1_image<'a, P: Port>(port: &mut P, file: &'a str) -> Result<&'a str, Errno> {
    let Some((s0, s1)) = crate::url::split_once_byte(file, b' ') else {
        return Ok(file);
    };
    let mut s1 = s1;
    while let Some(rest) = crate::url::strip_byte(s1, b' ') {
        s1 = rest;
    }
    if s0.is_empty() || s1.is_empty() || s1.bytes().any(|b| b == b' ') {
        return Err(Errno::Inval);
    }
    let s0_active = if cfg!(feature = "b1") {
        port.s0_active()
    } else {
        Err(Errno::NotSup)
    };
    match s0_active {
        Ok(true) => Ok(s1),
        Ok(false) => Ok(s0),
        Err(e) => {
            crate::logging::error!(B1_NOT_AVAILABLE, error = e.name());
            Err(Errno::NotSup)
        }
    }
}
