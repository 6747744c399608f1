// SPDX-License-Identifier: Apache-2.0
//! The download engine: connect (with sec_tag fallback), request, receive,
//! hand body bytes to the slot writer, reconnect and resume at the exact byte
//! after a failure, verify, and request the upgrade.
//!
//! It is generic over [`Port`], so the same code runs over the C port table on
//! a device and over in-memory fakes in unit tests.

use crate::diag::{Diag, TcpProbe, MAX_TAGS};
use crate::error::{Errno, Error, Stage};
use crate::http::{self, ContentRange, Event as HttpEvent, Head, Range, ResponseParser};
use crate::image::{self, ImageSet, ImageType, DETECT_LEN};
use crate::mcuboot::{
    Checkpoint, Progress as SavedProgress, SlotWriter, PROGRESS_KEY, PROGRESS_LEN,
};
use crate::port::{ConnectError, ConnectParams, ConnectStage, FlashGeometry, Handle, Port, Tls};
use crate::text::{Line, Out};
use crate::url::{Limits, Url};
use core::sync::atomic::{AtomicBool, Ordering};

/// Receive buffer: the nRF91 modem delivers TLS records of at most ~2 KB.
pub const RX_BUF: usize = 2048;
/// Longest wait in one recv call, so a cancel is seen promptly.
const POLL_SLICE_MS: u32 = 250;
/// Most requests the engine tracks in flight (the configured depth is capped here).
pub const MAX_PIPELINE: usize = 8;
/// Pipelining starts this deep and grows by one per completed response.
const START_DEPTH: u8 = 2;
/// Upper bound for one backoff sleep.
const MAX_BACKOFF_MS: u32 = 30_000;

/// Settings (from Kconfig on Zephyr, flags in fota-sim).
#[derive(Clone, Debug)]
pub struct Config {
    pub frag_size: u32,
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
    pub limits: Limits,
}

impl Config {
    /// NCS-compatible defaults: 2 KiB fragments, 30 s socket timeout.
    pub const DEFAULT: Config = Config {
        frag_size: 2048,
        retries: 3,
        retry_backoff_ms: 1000,
        socket_timeout_ms: 30_000,
        fallback_sec_tags: heapless::Vec::new(),
        // Parts the build leaves out are off (cargo features).
        max_redirects: if cfg!(feature = "redirects") { 5 } else { 0 },
        permanent: false,
        progress_events: true,
        progress_save: cfg!(feature = "progress-save"),
        pipeline_depth: 6,
        deadline_ms: 0,
        checks: crate::checks::Checks::DEFAULT,
        limits: Limits::DEFAULT,
    };
}

impl Config {
    /// Whether progress is saved: asked for, and built in.
    pub fn saves_progress(&self) -> bool {
        cfg!(feature = "progress-save") && self.progress_save
    }

    /// The first part this configuration asks for that the build leaves out
    /// (a cargo feature it was built without), as the Kconfig option to set.
    pub fn needs_left_out(&self) -> Option<&'static str> {
        if self.max_redirects > 0 && !cfg!(feature = "redirects") {
            Some("CONFIG_FOTA_RS_MAX_REDIRECTS")
        } else if self.progress_save && !cfg!(feature = "progress-save") {
            Some("CONFIG_FOTA_RS_PROGRESS_SAVE")
        } else if (self.checks.layout || !self.checks.allow_downgrade)
            && !cfg!(feature = "image-checks")
        {
            Some("CONFIG_FOTA_RS_CHECK_LAYOUT / CONFIG_FOTA_RS_ALLOW_DOWNGRADE")
        } else {
            None
        }
    }

    /// All zero: only for the static engine before `set_config`.
    const UNSET: Config = Config {
        frag_size: 0,
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
    /// MCUboot images: the verified header.
    pub header: Option<crate::mcuboot::ImageHeader>,
}

/// Key/value entry naming the download the modem's delta area belongs to.
const DELTA_KEY: &str = "delta_url";

/// Modem delta images go to the modem through the port.
#[derive(Clone, Copy, Debug)]
struct DeltaTarget {
    /// Bytes the modem already held when the transfer began (resume point).
    skip_below: u32,
}

/// How one request/response exchange ended.
enum Outcome {
    /// The image is complete.
    Done,
    /// More ranges to fetch.
    Continue,
    /// Follow the new URL (already stored).
    Redirect,
    /// Server asked to come back later (5xx), after this many ms.
    RetryLater(u32),
}

/// Where received body bytes go.
struct Sink {
    geo: FlashGeometry,
    expected: ImageSet,
    found: ImageType,
    first: [u8; DETECT_LEN],
    writer: crate::zopt::ZeroOption<SlotWriter>,
    delta: Option<DeltaTarget>,
    /// A modem erase ran in `deliver`: report ERASE_PENDING and ERASE_DONE.
    erased: bool,
    offset: u32,
    total: Option<u32>,
    last_percent: Option<u8>,
    /// Identity of this download for saved progress (None: do not save).
    url_id: Option<[u8; 8]>,
    /// Offset this download resumed from after a reboot (0: fresh).
    resumed_from: u32,
    /// Identity of the requested URL (see `url_id`).
    download_id: [u8; 8],
}

impl Sink {
    const fn new(expected: ImageSet) -> Sink {
        Sink {
            // Zero until `run` asks the port (keeps the static engine in .bss).
            geo: FlashGeometry {
                slot_size: 0,
                page_size: 0,
                write_block: 0,
                erased_value: 0,
            },
            expected,
            found: ImageType::Any,
            first: [0; DETECT_LEN],
            writer: crate::zopt::ZeroOption::none(),
            delta: None,
            erased: false,
            offset: 0,
            total: None,
            last_percent: None,
            url_id: None,
            resumed_from: 0,
            download_id: [0; 8],
        }
    }

    fn deliver<P: Port>(&mut self, port: &mut P, mut data: &[u8]) -> Result<(), Error> {
        let img = |e| Error::new(Stage::Image, e);
        if let Some(total) = self.total {
            if u64::from(self.offset) + data.len() as u64 > u64::from(total) {
                return Err(Error::new(Stage::Http, Errno::BadMsg));
            }
        }
        if let Some(d) = self.delta {
            write_delta(port, d, self.offset, data)?;
            self.offset += data.len() as u32;
            return Ok(());
        }
        if self.writer.is_none() {
            let at = self.offset as usize;
            let take = crate::bytes::copy(self.first.get_mut(at..).unwrap_or(&mut []), data);
            self.offset += take as u32;
            data = data.get(take..).unwrap_or(&[]);
            if (self.offset as usize) < DETECT_LEN {
                return Ok(());
            }
            let found = image::detect(&self.first).map_err(img)?;
            self.found = found;
            image::check_expected(found, self.expected).map_err(img)?;
            match found {
                ImageType::Mcuboot => {}
                ImageType::ModemDelta => {
                    let d = self.begin_delta(port)?;
                    // Recorded before the first write, so a failing write
                    // still ends the modem's transfer.
                    self.delta = Some(d);
                    let first = self.first;
                    write_delta(port, d, 0, &first)?;
                    write_delta(port, d, DETECT_LEN as u32, data)?;
                    self.offset += data.len() as u32;
                    return Ok(());
                }
                _ => {
                    crate::logging::error!("this image type needs an external-flash target, which this device does not have", image = found.name());
                    return Err(img(Errno::NotSup));
                }
            }
            let total = self.total.unwrap_or(SlotWriter::capacity(&self.geo));
            let mut w = SlotWriter::new(self.geo, total).map_err(img)?;
            if let (Some(url_id), Some(total)) = (self.url_id, self.total) {
                w.set_checkpoint(Checkpoint { url_id, total });
            }
            let first = self.first;
            w.write(port, &first).map_err(flash_or_image)?;
            self.writer.set(w);
        }
        if let Some(w) = self.writer.as_mut() {
            w.write(port, data).map_err(flash_or_image)?;
            self.offset += data.len() as u32;
        }
        Ok(())
    }

    /// Ask the modem how much of a delta it holds; erase when it holds
    /// something that cannot be continued.
    fn begin_delta<P: Port>(&mut self, port: &mut P) -> Result<DeltaTarget, Error> {
        let flash = |e| Error::new(Stage::Flash, e);
        // Without the feature, as on a platform without the target: the
        // rest of this path is not built.
        let offset = if cfg!(feature = "modem-delta") {
            port.modem_delta_offset()
        } else {
            Err(Errno::NotSup)
        };
        let held = match offset {
            Ok(off) => Some(off),
            Err(Errno::Again) => None,
            Err(Errno::NotSup) => {
                crate::logging::error!("no modem delta target (CONFIG_FOTA_RS_TARGET_MODEM_DELTA, or the platform has none)");
                return Err(Error::new(Stage::Image, Errno::NotSup));
            }
            Err(e) => return Err(flash(e)),
        };
        // What the modem holds is only continued for the same download (NCS
        // erases when the URL changes).
        let mut id = [0u8; 8];
        let want = self.download_id;
        let same = matches!(port.kv_load(DELTA_KEY, &mut id), Ok(8) if id == want);
        let _ = port.kv_save(DELTA_KEY, &want);
        match (held, self.total) {
            (Some(0), _) => Ok(DeltaTarget { skip_below: 0 }),
            (Some(off), Some(total)) if off < total && same => {
                crate::logging::info!(
                    "The modem holds part of this delta; continuing from there",
                    bytes = off
                );
                Ok(DeltaTarget { skip_below: off })
            }
            _ => {
                crate::logging::info!("Erasing the modem's firmware update area");
                port.modem_delta_erase().map_err(flash)?;
                self.erased = true;
                Ok(DeltaTarget { skip_below: 0 })
            }
        }
    }

    fn progress(&mut self) -> Option<Progress> {
        let total = self.total?;
        // 32-bit arithmetic (a 64-bit division links 500 bytes of runtime
        // on Cortex-M33): exact for images below 32 MiB, where offset * 100
        // fits; larger totals drop low bits from both sides.
        let shift = (32 - total.leading_zeros()).saturating_sub(25);
        let den = core::num::NonZeroU32::new(total >> shift)?;
        let num = (self.offset.min(total) >> shift) * 100;
        let percent = (num / den) as u8;
        if self.last_percent == Some(percent) {
            return None;
        }
        self.last_percent = Some(percent);
        Some(Progress {
            image_type: self.found,
            percent,
            offset: self.offset,
            total,
        })
    }
}

/// Write the part of `data` (at file offset `at`) the modem does not hold yet.
fn write_delta<P: Port>(port: &mut P, d: DeltaTarget, at: u32, data: &[u8]) -> Result<(), Error> {
    let skip = d.skip_below.saturating_sub(at) as usize;
    match data.get(skip..) {
        Some(rest) if !rest.is_empty() => port
            .modem_delta_write(rest)
            .map_err(|e| Error::new(Stage::Flash, e)),
        _ => Ok(()),
    }
}

fn flash_or_image(e: Errno) -> Error {
    match e {
        Errno::Io | Errno::Inval | Errno::NotSup => Error::new(Stage::Flash, e),
        _ => Error::new(Stage::Image, e),
    }
}

/// A request in flight, kept in 8 bytes: the queue lives in the static
/// engine, where every byte is RAM for the whole program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Asked {
    first: u32,
    last: u32,
}

impl Asked {
    /// `first == OPEN`: no Range header; `last == OPEN`: an open range.
    const OPEN: u32 = u32::MAX;

    fn from(r: Option<Range>) -> Asked {
        let narrow = |v: u64| {
            u32::try_from(v)
                .unwrap_or(Asked::OPEN - 1)
                .min(Asked::OPEN - 1)
        };
        match r {
            None => Asked {
                first: Asked::OPEN,
                last: Asked::OPEN,
            },
            Some(Range { first, last }) => Asked {
                first: narrow(first),
                last: last.map_or(Asked::OPEN, narrow),
            },
        }
    }

    fn range(self) -> Option<Range> {
        (self.first != Asked::OPEN).then_some(Range {
            first: u64::from(self.first),
            last: (self.last != Asked::OPEN).then_some(u64::from(self.last)),
        })
    }
}

/// The engine. One download at a time.
pub struct Engine {
    cfg: Config,
    url: Url,
    tags: heapless::Vec<i32, MAX_TAGS>,
    pdn_id: u8,
    frag_size: u32,
    /// Ask for ranges (TLS fragments); false once a server answered 200.
    ranged: bool,
    /// Requests sent on this connection whose responses have not ended, in order.
    in_flight: heapless::Deque<Asked, MAX_PIPELINE>,
    /// First byte not yet asked for.
    next_request: u32,
    /// Current pipelining depth, and the most this server gets (1 once it
    /// mishandled pipelined requests).
    depth: u8,
    depth_cap: u8,
    /// Set when a response did not match its pipelined request.
    pipeline_broken: bool,
    /// A send on this connection failed: read what already arrived, send no more.
    send_failed: bool,
    /// Uptime (ms) by which the download must be complete.
    deadline: Option<u64>,
    conn: Option<Handle>,
    rx: [u8; RX_BUF],
    filled: usize,
    sink: Sink,
    diag: Diag,
    /// Identity of the requested URL (before redirects) for saved progress.
    url_id: [u8; 8],
    /// Redirects followed in this download (`check_head` alone counts them).
    redirects: u8,
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
            in_flight: heapless::Deque::new(),
            next_request: 0,
            depth: 0,
            depth_cap: 0,
            pipeline_broken: false,
            redirects: 0,
            send_failed: false,
            deadline: None,
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
        self.diag = Diag::new();
        self.sink = Sink::new(req.expected);
        self.filled = 0;
        self.ranged = true;
        self.depth_cap = self.cfg.pipeline_depth.clamp(1, MAX_PIPELINE as u8);
        self.depth = START_DEPTH.min(self.depth_cap);
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
        self.url_id = url_id(&self.url);
        crate::logging::info!("Downloading", url = redacted(&self.url).as_str());
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
    }

    /// The server mishandled pipelined requests: one at a time from now on.
    fn stop_pipelining(&mut self, why: &str) {
        if self.depth_cap > 1 {
            crate::logging::warn!(
                "no more pipelined requests",
                why = why,
                host = self.url.host.as_str()
            );
        }
        self.depth = 1;
        self.depth_cap = 1;
    }

    fn try_connect<P: Port>(&mut self, port: &mut P, tags: &[i32]) -> Result<Handle, ConnectError> {
        let hostname = if self.url.host_is_ip() {
            None
        } else {
            Some(self.url.host.as_str())
        };
        let params = ConnectParams {
            host: &self.url.host,
            port: self.url.port,
            tls: if self.url.is_tls() {
                Some(Tls {
                    sec_tags: tags,
                    hostname,
                })
            } else {
                None
            },
            pdn_id: self.pdn_id,
            timeout_ms: self.cfg.socket_timeout_ms,
        };
        port.connect(&params)
    }

    fn connect_error(&mut self, e: &ConnectError) -> Error {
        self.diag.detail = e.detail.clone();
        let stage = match e.stage {
            ConnectStage::Dns => Stage::Dns,
            ConnectStage::Tls => Stage::Tls,
            _ if e.errno == Errno::HostUnreach => Stage::Dns,
            _ => Stage::Connect,
        };
        self.fail(Error::new(stage, e.errno))
    }

    /// Connect with the active tags; on a refused handshake try each fallback
    /// tag in order; if none works, find out whether the port or the
    /// certificate was refused.
    fn connect<P: Port>(&mut self, port: &mut P) -> Result<(), Error> {
        self.close(port);
        if !self.url.is_tls() {
            let r = self.try_connect(port, &[]);
            return match r {
                Ok(h) => {
                    self.conn = Some(h);
                    Ok(())
                }
                Err(e) => Err(self.connect_error(&e)),
            };
        }
        let first = self.tags.clone();
        let mut last_err = None;
        if !first.is_empty() {
            self.note_tags(&first);
            match self.try_connect(port, &first) {
                Ok(h) => {
                    self.conn = Some(h);
                    self.diag.working_tag = first.first().copied();
                    return Ok(());
                }
                Err(e) if e.errno == Errno::ConnRefused && e.stage != ConnectStage::Tcp => {
                    if crate::logging::enabled(crate::logging::Level::Warn) {
                        let mut tags = Line::<48>::line();
                        crate::diag::put_tags(&mut tags, &first);
                        crate::logging::warn!(
                            "TLS handshake refused",
                            sec_tags = tags.as_str(),
                            detail = e.detail.as_str()
                        );
                    }
                    last_err = Some(e);
                }
                Err(e) => return Err(self.connect_error(&e)),
            }
        }
        let fallback = self.cfg.fallback_sec_tags.clone();
        for &tag in fallback.iter().filter(|t| !first.contains(t)) {
            self.note_tags(&[tag]);
            crate::logging::info!("Trying fallback sec_tag", sec_tag = tag);
            match self.try_connect(port, &[tag]) {
                Ok(h) => {
                    if crate::logging::enabled(crate::logging::Level::Warn) {
                        let mut refused = Line::<48>::line();
                        crate::diag::put_tags(&mut refused, &first);
                        crate::logging::warn!(
                            "Fallback sec_tag works; using it for this download",
                            sec_tag = tag,
                            host = self.url.host.as_str(),
                            refused = refused.as_str()
                        );
                    }
                    self.conn = Some(h);
                    self.tags.clear();
                    let _ = self.tags.push(tag);
                    self.diag.working_tag = Some(tag);
                    return Ok(());
                }
                Err(e) if e.errno == Errno::ConnRefused && e.stage != ConnectStage::Tcp => {
                    crate::logging::warn!(
                        "TLS handshake refused",
                        sec_tag = tag,
                        detail = e.detail.as_str()
                    );
                    last_err = Some(e);
                }
                Err(e) => return Err(self.connect_error(&e)),
            }
        }
        let Some(e) = last_err else {
            // https with no tag at all: nothing to verify the server with.
            crate::logging::error!(
                "https URL but no sec_tag given and no fallback sec_tag configured"
            );
            return Err(self.fail(Error::new(Stage::Tls, Errno::Inval)));
        };
        // The modem reports a refused certificate and a refused port alike;
        // one plain TCP connect tells them apart.
        let err = self.connect_error(&e);
        let saved = self.url.scheme;
        self.url.scheme = crate::url::Scheme::Http;
        let probe = self.try_connect(port, &[]);
        self.url.scheme = saved;
        match probe {
            Ok(h) => {
                port.close(h);
                self.diag.tcp_probe = TcpProbe::PortOpen;
                Err(self.fail(Error::new(Stage::Tls, err.errno)))
            }
            Err(p) if p.errno == Errno::ConnRefused => {
                self.diag.tcp_probe = TcpProbe::Refused;
                Err(self.fail(Error::new(Stage::Connect, err.errno)))
            }
            Err(_) => Err(err),
        }
    }

    fn note_tags(&mut self, tags: &[i32]) {
        for &t in tags {
            if !self.diag.tags_tried.contains(&t) {
                let _ = self.diag.tags_tried.push(t);
            }
        }
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
        if r.is_err() && self.sink.delta.is_some() {
            // Keep what the modem holds for a later attempt, without applying it.
            let _ = port.modem_delta_done(false);
        }
        if r.is_err() && self.sink.writer.is_some() {
            // Whatever failed, MCUboot finds no upgrade request in the slot.
            let geo = self.sink.geo;
            let _ = crate::mcuboot::clear_trailer(port, &geo, &mut self.rx);
        }
        // Saved progress outlives only failures that a later attempt can
        // continue from: the network's.
        let keep = matches!(&r, Err(e) if e.errno.is_transient() || e.errno == Errno::Again);
        if self.cfg.saves_progress() && !keep {
            let _ = port.kv_delete(PROGRESS_KEY);
        }
        match r {
            Ok(v) => Ok(v),
            Err(e) => Err(self.fail(e)),
        }
    }

    fn run_inner<P: Port>(
        &mut self,
        port: &mut P,
        cancel: &AtomicBool,
        emit: &mut dyn FnMut(Notice),
    ) -> Result<Finished, Error> {
        let geo = port
            .flash_geometry()
            .map_err(|e| Error::new(Stage::Flash, e))?;
        self.sink.geo = geo;
        self.sink.download_id = self.url_id;
        // No stale upgrade request may survive into a half-written slot.
        crate::mcuboot::clear_trailer(port, &geo, &mut self.rx)
            .map_err(|e| Error::new(Stage::Flash, e))?;
        if self.cfg.saves_progress() {
            self.sink.url_id = Some(self.url_id);
            self.try_resume(port);
        }
        self.next_request = self.sink.offset;
        let mut retries_left = self.cfg.retries;
        let mut attempt: u32 = 0;
        self.redirects = 0;
        self.deadline = match self.cfg.deadline_ms {
            0 => None,
            ms => Some(port.uptime_ms().saturating_add(u64::from(ms))),
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
                        "no response to pipelined requests"
                    } else {
                        "the connection broke with pipelined requests in flight"
                    });
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
                    crate::logging::info!("Redirected", url = redacted(&self.url).as_str());
                    self.close(port);
                    continue;
                }
                Ok(Outcome::RetryLater(ms)) => {
                    self.close(port);
                    if retries_left == 0 {
                        self.diag.note = Some("the server kept answering 5xx and the retries ran out; try again later");
                        return Err(Error::new(Stage::Http, Errno::Again));
                    }
                    ms
                }
                Err(e) if e.errno == Errno::Range && self.pipeline_broken => {
                    self.pipeline_broken = false;
                    self.stop_pipelining("a response did not match its pipelined request");
                    self.close(port);
                    continue;
                }
                Err(e) if e.errno == Errno::Range && self.sink.resumed_from > 0 => {
                    // The file is not the one the saved progress was for.
                    crate::logging::warn!(
                        "the server's file changed since progress was saved; starting over",
                        saved_at = self.sink.resumed_from
                    );
                    self.close(port);
                    let _ = port.kv_delete(PROGRESS_KEY);
                    let url_id = self.sink.url_id;
                    self.sink = Sink::new(self.sink.expected);
                    self.sink.geo = geo;
                    self.sink.url_id = url_id;
                    self.ranged = true;
                    continue;
                }
                Err(e) if e.errno == Errno::TimedOut && self.past_deadline(port) => {
                    crate::logging::error!(
                        "the download did not finish in time",
                        deadline_ms = self.cfg.deadline_ms
                    );
                    return Err(e);
                }
                Err(e) if (e.errno.is_transient() || empty) && retries_left > 0 => {
                    self.close(port);
                    crate::logging::warn!(
                        "Transfer interrupted; retrying",
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
        if self.sink.delta.is_some() {
            if self.sink.total != Some(self.sink.offset) {
                return Err(Error::new(Stage::Image, Errno::IlSeq));
            }
            // The modem checks the delta itself when it applies it.
            port.modem_delta_done(true)
                .map_err(|e| Error::new(Stage::Schedule, e))?;
            crate::logging::info!(
                "Modem delta handed over; the modem applies it at its next start",
                bytes = self.sink.offset
            );
            return Ok(Finished {
                image_type: ImageType::ModemDelta,
                image_len: self.sink.offset,
                header: None,
            });
        }
        let writer = self
            .sink
            .writer
            .as_mut()
            .ok_or(Error::new(Stage::Image, Errno::IlSeq))?;
        let verified = writer.finish(port, &mut self.rx).map_err(flash_or_image)?;
        let mut version = Line::<24>::line();
        crate::checks::put_version(&mut version, verified.header.version);
        crate::logging::info!(
            "Image verified, SHA-256 matches",
            version = version.as_str(),
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
            if crate::logging::enabled(crate::logging::Level::Error) {
                let mut why = Line::<160>::line();
                e.write_text(&mut why);
                crate::logging::error!(
                    "Upgrade refused",
                    check = e.check(),
                    refused = why.as_str()
                );
            }
            self.diag.check.set(e);
            return Err(Error::new(Stage::Image, e.errno()));
        }
        // The upgrade request goes to an erased trailer only. The download
        // never writes there: bytes found there fail it (and are erased).
        let geo = self.sink.geo;
        match crate::mcuboot::clear_trailer(port, &geo, &mut self.rx) {
            Ok(false) => {}
            Ok(true) => return Err(Error::new(Stage::Schedule, Errno::Io)),
            Err(e) => return Err(Error::new(Stage::Flash, e)),
        }
        port.request_upgrade(self.cfg.permanent)
            .map_err(|e| Error::new(Stage::Schedule, e))?;
        crate::logging::info!(
            "Upgrade requested",
            swap = if self.cfg.permanent {
                "permanent"
            } else {
                "test"
            }
        );
        Ok(Finished {
            image_type: ImageType::Mcuboot,
            image_len: verified.image_len,
            header: Some(verified.header),
        })
    }

    /// Continue a download that a reboot interrupted, if the saved progress
    /// is for this URL and matches what is in flash; otherwise start over.
    fn try_resume<P: Port>(&mut self, port: &mut P) {
        let mut buf = [0u8; PROGRESS_LEN];
        let saved = match port.kv_load(PROGRESS_KEY, &mut buf) {
            Ok(n) => buf.get(..n).and_then(SavedProgress::decode),
            Err(_) => return,
        };
        let Some(saved) = saved else {
            let _ = port.kv_delete(PROGRESS_KEY);
            return;
        };
        if saved.checkpoint.url_id != self.url_id {
            crate::logging::info!("saved progress belongs to another download; starting over");
            let _ = port.kv_delete(PROGRESS_KEY);
            return;
        }
        let writer = match SlotWriter::resume(port, self.sink.geo, &saved, &mut self.rx) {
            Ok(w) => w,
            Err(e) => {
                crate::logging::warn!(
                    "saved progress does not match the slot; starting over",
                    error = e.name()
                );
                let _ = port.kv_delete(PROGRESS_KEY);
                return;
            }
        };
        let first = *writer.first_bytes();
        let found = match image::detect(&first) {
            Ok(t) if image::check_expected(t, self.sink.expected).is_ok() => t,
            _ => {
                let _ = port.kv_delete(PROGRESS_KEY);
                return;
            }
        };
        crate::logging::info!(
            "Resuming (hash rebuilt from flash)",
            offset = saved.offset,
            total = saved.checkpoint.total
        );
        self.sink.first = first;
        self.sink.found = found;
        self.sink.writer.set(writer);
        self.sink.offset = saved.offset;
        self.sink.total = Some(saved.checkpoint.total);
        self.sink.resumed_from = saved.offset;
    }

    fn past_deadline<P: Port>(&self, port: &mut P) -> bool {
        self.deadline.is_some_and(|d| port.uptime_ms() >= d)
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

    /// The next request to send on this connection, if the pipeline has room.
    fn plan_request(&self) -> Option<Option<Range>> {
        if self.send_failed {
            return None;
        }
        if !(self.url.is_tls() && self.ranged) {
            // One streamed GET; after a failure it resumes with an open range.
            if !self.in_flight.is_empty() {
                return None;
            }
            let off = self.sink.offset;
            return Some((off > 0).then_some(Range {
                first: u64::from(off),
                last: None,
            }));
        }
        if self.in_flight.len() >= usize::from(self.depth) {
            return None;
        }
        let first = self.next_request;
        let last = match self.sink.total {
            Some(total) if first >= total => return None,
            Some(total) => {
                (u64::from(first) + u64::from(self.frag_size) - 1).min(u64::from(total) - 1)
            }
            // The size is unknown until the first response: ask once.
            None if !self.in_flight.is_empty() => return None,
            None => u64::from(first) + u64::from(self.frag_size) - 1,
        };
        Some(Some(Range {
            first: u64::from(first),
            last: Some(last),
        }))
    }

    /// Send requests until the pipeline is full.
    fn fill_pipeline<P: Port>(&mut self, port: &mut P, h: Handle) -> Result<(), Error> {
        while let Some(range) = self.plan_request() {
            // The request goes out through a small buffer in pieces.
            let mut out = SendBuf::<P> {
                port,
                h,
                buf: heapless::Vec::new(),
                err: None,
            };
            http::write_request(&mut out, &self.url, range);
            let ok = out.err.is_none() && out.flush();
            if !ok {
                let e = Error::new(Stage::Http, out.err.unwrap_or(Errno::NoMem));
                if self.in_flight.is_empty() {
                    return Err(e);
                }
                // The peer may have closed after answering what is already
                // asked: take those responses before reconnecting.
                self.send_failed = true;
                return Ok(());
            }
            if self.in_flight.push_back(Asked::from(range)).is_err() {
                return Err(Error::new(Stage::Http, Errno::Fault));
            }
            if let Some(Range {
                last: Some(last), ..
            }) = range
            {
                self.next_request = u32::try_from(last + 1).unwrap_or(u32::MAX);
            }
        }
        Ok(())
    }

    /// Send one request and consume its response.
    fn exchange<P: Port>(
        &mut self,
        port: &mut P,
        cancel: &AtomicBool,
        emit: &mut dyn FnMut(Notice),
    ) -> Result<Outcome, Error> {
        let h = self.conn.ok_or(Error::new(Stage::Http, Errno::NotConn))?;
        self.fill_pipeline(port, h)?;
        // Responses come strictly in the order of the requests.
        let range = self
            .in_flight
            .front()
            .ok_or(Error::new(Stage::Http, Errno::Fault))?
            .range();
        let mut parser = ResponseParser::new();
        let mut head: Option<Head> = None;
        let mut discard = false;
        let mut waited: u32 = 0;
        loop {
            let (used, ev) = parser
                .advance(self.rx.get(..self.filled).unwrap_or(&[]))
                .map_err(|e| Error::new(Stage::Http, e))?;
            match ev {
                HttpEvent::Head(hd) => {
                    head = Some(hd);
                    self.diag.http_status = hd.status;
                    discard = self.check_head(&hd, range)?;
                }
                HttpEvent::Body { start, end } => {
                    if !discard {
                        let body = self.rx.get(start..end);
                        let body = body.ok_or(Error::new(Stage::Http, Errno::Fault))?;
                        self.sink.deliver(port, body)?;
                        if core::mem::take(&mut self.sink.erased) {
                            // The port's erase returns when done; both events
                            // tell the caller the pause was an erase.
                            emit(Notice::ErasePending);
                            emit(Notice::EraseDone);
                        }
                        if self.cfg.progress_events {
                            if let Some(p) = self.sink.progress() {
                                emit(Notice::Progress(p));
                            }
                        }
                    }
                }
                HttpEvent::End => {
                    self.consume(used);
                    let hd = head.ok_or(Error::new(Stage::Http, Errno::BadMsg))?;
                    return self.end_of_response(port, &hd, discard);
                }
                HttpEvent::NeedMore if used > 0 => {}
                HttpEvent::NeedMore => {
                    if self.filled == RX_BUF {
                        // A head (or chunk line) that does not fit.
                        return Err(Error::new(Stage::Http, Errno::TooBig));
                    }
                    if cancel.load(Ordering::Relaxed) {
                        return Err(Error::new(Stage::None, Errno::Canceled));
                    }
                    let slice = POLL_SLICE_MS
                        .min(self.cfg.socket_timeout_ms.saturating_sub(waited))
                        .max(1);
                    let room = self.rx.get_mut(self.filled..).unwrap_or(&mut []);
                    match port.recv(h, room, slice) {
                        Ok(0) => {
                            parser.eof().map_err(|e| Error::new(Stage::Http, e))?;
                            let hd = head.ok_or(Error::new(Stage::Http, Errno::ConnReset))?;
                            self.close(port);
                            return self.end_of_response(port, &hd, discard);
                        }
                        Ok(n) => {
                            self.filled += n;
                            waited = 0;
                            if self.past_deadline(port) {
                                return Err(Error::new(Stage::Http, Errno::TimedOut));
                            }
                        }
                        Err(Errno::TimedOut) => {
                            waited = waited.saturating_add(slice);
                            if waited >= self.cfg.socket_timeout_ms {
                                return Err(Error::new(Stage::Http, Errno::TimedOut));
                            }
                        }
                        Err(e) => return Err(Error::new(Stage::Http, e)),
                    }
                }
            }
            self.consume(used);
        }
    }

    fn consume(&mut self, n: usize) {
        let n = n.min(self.filled);
        crate::bytes::shift_down(&mut self.rx, n, self.filled);
        self.filled -= n;
    }

    /// Validate a response head against the request. Returns true when the
    /// body is to be skipped (redirects).
    fn check_head(&mut self, hd: &Head, asked: Option<Range>) -> Result<bool, Error> {
        let http = |e| Error::new(Stage::Http, e);
        let off = u64::from(self.sink.offset);
        match hd.status {
            206 => {
                let Some(asked) = asked else {
                    return Err(http(Errno::BadMsg));
                };
                let ContentRange { first, last, total } =
                    hd.content_range.ok_or(http(Errno::BadMsg))?;
                let exact = asked.first == first && asked.last.map_or(true, |l| l == last);
                if self.depth_cap > 1 && !exact {
                    // Out of order, dropped or shortened pipelined responses.
                    self.pipeline_broken = true;
                    return Err(http(Errno::Range));
                }
                if first != off || asked.last.is_some_and(|l| last > l) {
                    crate::logging::error!(
                        "server sent another range",
                        asked = off,
                        first = first,
                        last = last
                    );
                    return Err(http(Errno::Range));
                }
                if hd.content_length.is_some_and(|l| l != last - first + 1) {
                    return Err(http(Errno::BadMsg));
                }
                if let Some(t) = total {
                    self.set_total(t)?;
                }
                Ok(false)
            }
            200 => {
                if off != 0 {
                    // A server that ignores Range cannot resume us.
                    crate::logging::error!("server answered 200 to a range request", asked = off);
                    return Err(http(Errno::Range));
                }
                if asked.is_some() {
                    crate::logging::info!("server ignores Range; streaming the whole file");
                }
                self.ranged = false;
                if let Some(l) = hd.content_length {
                    self.set_total(l)?;
                }
                Ok(false)
            }
            301 | 302 | 303 | 307 | 308 => {
                // The redirect limit is decided here alone, before the URL
                // changes: a refused redirect leaves the URL that answered.
                // None may be followed (max_redirects 0, or a build without
                // them): the same answer either way.
                if !cfg!(feature = "redirects") || self.cfg.max_redirects == 0 {
                    self.diag.note = Some("the server redirects and following redirects is off (max_redirects 0, CONFIG_FOTA_RS_MAX_REDIRECTS=0)");
                    return Err(http(Errno::NotSup));
                }
                if self.redirects >= self.cfg.max_redirects {
                    crate::logging::error!("too many redirects", max = self.cfg.max_redirects);
                    self.diag.note = Some("the server redirected more times than allowed (a redirect loop?); check the URL");
                    return Err(http(Errno::BadMsg));
                }
                let (s, e) = hd.location.ok_or(http(Errno::BadMsg))?;
                let loc = self.rx.get(s..e).ok_or(http(Errno::BadMsg))?;
                let loc = crate::text::ascii(loc).ok_or(http(Errno::BadMsg))?;
                // In place: a refused Location leaves the URL as it was.
                self.url.redirect(loc, self.cfg.limits).map_err(|e| {
                    if e == Errno::Access {
                        crate::logging::error!("refusing redirect from https to http");
                        self.diag.note = Some("the server redirected from https to http; refused to continue the download in clear text");
                    }
                    http(e)
                })?;
                self.redirects += 1;
                Ok(true)
            }
            500 | 502 | 503 | 504 => Ok(true),
            s => {
                let errno = match s {
                    401 | 403 => Errno::Access,
                    404 | 410 => Errno::NoEnt,
                    416 => Errno::Range,
                    _ => Errno::BadMsg,
                };
                crate::logging::error!("HTTP error from server", status = s);
                Err(http(errno))
            }
        }
    }

    fn set_total(&mut self, t: u64) -> Result<(), Error> {
        let t32 = u32::try_from(t).map_err(|_| Error::new(Stage::Image, Errno::FileTooBig))?;
        match self.sink.total {
            Some(known) if known != t32 => {
                crate::logging::error!("file size changed", was = known, now = t32);
                Err(Error::new(Stage::Http, Errno::Range))
            }
            _ => {
                // A writer made while the size was unknown (a chunked stream)
                // learns it now, e.g. from the range answer after a resume.
                // Checked before a byte of this response is written: a size
                // past the trailer's start would let the server write
                // MCUboot's upgrade request.
                if let Some(w) = self.sink.writer.as_mut() {
                    if let Err(e) = w.set_total(t32) {
                        crate::logging::error!(
                            "the server's file size does not fit what was downloaded",
                            size = t32,
                            written = w.written()
                        );
                        self.diag.note = Some("the server announced a size past the slot's trailer start or below what it sent; refused");
                        return Err(Error::new(Stage::Http, e));
                    }
                }
                self.sink.total = Some(t32);
                Ok(())
            }
        }
    }

    fn end_of_response<P: Port>(
        &mut self,
        port: &mut P,
        hd: &Head,
        discard: bool,
    ) -> Result<Outcome, Error> {
        self.in_flight.pop_front();
        if hd.status == 206 && self.depth < self.depth_cap {
            // The server keeps up: allow one more request in flight.
            self.depth += 1;
        }
        if hd.close {
            self.close(port);
        }
        match hd.status {
            301 | 302 | 303 | 307 | 308 => return Ok(Outcome::Redirect),
            500 | 502 | 503 | 504 => {
                let ms = hd
                    .retry_after
                    .map(|s| s.saturating_mul(1000))
                    .unwrap_or(self.cfg.retry_backoff_ms)
                    .min(MAX_BACKOFF_MS);
                crate::logging::warn!("server busy; retrying", status = hd.status, retry_ms = ms);
                return Ok(Outcome::RetryLater(ms));
            }
            _ => {}
        }
        debug_assert!(!discard);
        match self.sink.total {
            Some(t) if self.sink.offset >= t => Ok(Outcome::Done),
            Some(_) => {
                if !self.ranged {
                    // A full-stream response ended early.
                    return Err(Error::new(Stage::Http, Errno::ConnReset));
                }
                Ok(Outcome::Continue)
            }
            None if !self.ranged => {
                // Chunked or close-delimited stream without a size: it is all there.
                self.set_total(u64::from(self.sink.offset))?;
                Ok(Outcome::Done)
            }
            None => Err(Error::new(Stage::Http, Errno::BadMsg)),
        }
    }
}

/// NCS's dual-image form for the B1 bootloader: `file` is "s0.bin s1.bin"
/// and the image for the slot that is not running is downloaded.
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
            crate::logging::error!(
                "\"s0 s1\" file form needs CONFIG_FOTA_RS_B1_IMAGES and the active B1 slot from the port",
                error = e.name()
            );
            Err(Errno::NotSup)
        }
    }
}

/// The URL for a log record, credentials redacted (cut to fit a log line).
fn redacted(url: &Url) -> Line<160> {
    let mut line = Line::line();
    if crate::logging::enabled(crate::logging::Level::Info) {
        url.write_redacted(&mut line);
    }
    line
}

/// Identity of a download for saved progress: the URL without its query
/// (pre-signed URLs carry a fresh signature on every release query).
fn url_id(url: &Url) -> [u8; 8] {
    let path = crate::url::split_once_byte(&url.path, b'?').map_or(url.path.as_str(), |(p, _)| p);
    let mut h = crate::sha256::Sha256::new();
    h.update(url.scheme.as_str().as_bytes());
    h.update(url.host.as_bytes());
    h.update(&url.port.to_le_bytes());
    h.update(path.as_bytes());
    let mut id = [0u8; 8];
    for (i, d) in id.iter_mut().zip(h.finalize()) {
        *i = d;
    }
    id
}

/// Writes a request through a small stack buffer, flushing to the socket when
/// it fills, so the URL (up to 1 KiB) needs no request-sized buffer.
struct SendBuf<'a, P: Port> {
    port: &'a mut P,
    h: Handle,
    buf: heapless::Vec<u8, 256>,
    err: Option<Errno>,
}

impl<P: Port> SendBuf<'_, P> {
    fn flush(&mut self) -> bool {
        if self.err.is_some() {
            return false;
        }
        let mut data: &[u8] = &self.buf;
        while !data.is_empty() {
            match self.port.send(self.h, data) {
                Ok(n) => data = data.get(n..).unwrap_or(&[]),
                Err(e) => {
                    self.err = Some(e);
                    return false;
                }
            }
        }
        self.buf.clear();
        true
    }
}

impl<P: Port> Out for SendBuf<'_, P> {
    fn put(&mut self, s: &str) {
        for &b in s.as_bytes() {
            if self.err.is_some() || (self.buf.is_full() && !self.flush()) {
                return;
            }
            let _ = self.buf.push(b);
        }
    }
}

#[cfg(test)]
mod tests {
    //! The engine against an in-memory server and NOR flash.
    use super::*;
    extern crate std;
    use crate::port::Detail;
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
        /// The connection was reset: recv fails with ECONNRESET.
        rst: bool,
        resets: u32,
        /// Requests that arrived while an earlier response was unread, after
        /// the first reset.
        pipelined_after_reset: u32,
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
                rst: false,
                resets: 0,
                pipelined_after_reset: 0,
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
            let (a, b, status) = match range {
                Some((a, b)) if !self.b.ignore_range => (a, b, 206),
                _ => (0, total - 1, 200),
            };
            head += &std::format!("HTTP/1.1 {} X\r\nServer: fake\r\n", status);
            if status == 206 {
                head += &std::format!("Content-Range: bytes {}-{}/{}\r\n", a, b, total);
            }
            if self.b.close_each {
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
                head += &std::format!("Content-Length: {}\r\n\r\n", body.len());
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
            if self.b.close_each {
                self.closed = true;
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
            Ok(Handle(1))
        }
        fn send(&mut self, _: Handle, data: &[u8]) -> Result<usize, Errno> {
            if self.closed {
                return Err(Errno::ConnReset);
            }
            self.inbox.extend_from_slice(data);
            while let Some(end) = self.inbox.windows(4).position(|w| w == b"\r\n\r\n") {
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
                        return Ok(data.len());
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
        assert_eq!(f.requests[0], "GET /fw.bin?X-Amz-Signature=abc HTTP/1.1\r\nHost: s3.test\r\nRange: bytes=0-2047\r\n\r\n");
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
            let mut f = Fake::new(img.clone(), b);
            download(&mut f, "https://h.test/fw.bin", &[42], Config::default()).unwrap();
            check_slot(&f, &img);
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
        assert!(text.contains("TCP to s3.test:443 works"), "{text}");
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
        let mut e = Engine::new(Config::default());
        let req = req("https://h.test/f", "https://h.test/f", &[42]);
        e.start(&mut f, &req).unwrap();
        e.run(&mut f, &AtomicBool::new(false), &mut |_| {}).unwrap();
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
        let mut e = Engine::new(Config::default());
        let req = req("https://h.test/f", "https://h.test/f", &[42]);
        e.start(&mut f, &req).unwrap();
        e.run(&mut f, &AtomicBool::new(false), &mut |_| {}).unwrap();
        check_slot(&f, &img);
        assert_eq!(f.upgraded, Some(false));
        assert_eq!(f.resets, 1, "pipelined again after the reset");
        assert_eq!(
            f.pipelined_after_reset, 0,
            "more than one request outstanding after the first reset"
        );
        assert_eq!(e.depth_cap, 1);
    }

    /// A download from a server that behaves as `b` on every request, with
    /// two retries: the error and the connections made.
    fn never_progressing(b: Behaviour, cfg: Config) -> (Error, usize) {
        let mut f = Fake::new(image(5_000), b);
        let cfg = Config { retries: 2, ..cfg };
        let err = download(&mut f, "https://h.test/fw.bin", &[42], cfg).unwrap_err();
        assert_eq!(f.upgraded, None);
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
            checks: crate::checks::Checks {
                layout: true,
                allow_downgrade: false,
                verify_key: None,
            },
            ..Config::default()
        };
        let all_in = cfg!(feature = "redirects")
            && cfg!(feature = "progress-save")
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
        let note = e.diag().note.unwrap_or("");
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
        let note = e.diag().note.unwrap_or("");
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
            DELTA_KEY.into(),
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
            0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2, 0xef, 0x7f, 0x35, 0x52, 0x50, 0x0f, 0x2c, 0xb6,
            0x79, 0x80,
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
        assert!(e.diag().note.unwrap_or("").contains("trailer"));
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
}
