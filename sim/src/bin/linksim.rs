// SPDX-License-Identifier: Apache-2.0
//! linksim: a TCP proxy on loopback that behaves like a slow cellular link
//! (LTE-M on an nRF91), so that download strategies can be compared on the
//! link they are meant for rather than on loopback, where round trips and
//! bytes cost nothing.
//!
//! Model, per direction (down = upstream server to client, up = client to
//! server): one serializer shared by every connection, like the one radio
//! bearer of a modem, followed by a fixed one-way delay of RTT/2. A segment
//! of `n` bytes read at time `t` starts leaving at `max(t, busy_until)`,
//! occupies the link for `n * 8 / rate` seconds and is written out one delay
//! after its last bit left. That is a token bucket without burst, exact to
//! the byte; the queue in front of the serializer is unbounded (a modem
//! buffers whatever the TCP stack hands it). Segments are at most `--mss`
//! bytes, so a long response reaches the client as a stream of packets, not
//! in one lump at the end.
//!
//! The TCP handshake costs one RTT: the client's first byte cannot leave
//! before one RTT after the connection was accepted. FINs travel in order
//! behind the data. Not modelled: TCP/IP headers and ACKs (the byte counts
//! are TCP payload, i.e. what TLS and HTTP put on the link), loss, and the
//! senders' congestion windows.
//!
//! The totals (connections, payload bytes and segments each way) are written
//! to `--stats FILE` as one JSON object at start and whenever a connection
//! has ended in both directions, atomically (temp file + rename).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const USAGE: &str = "\
usage: linksim --upstream HOST:PORT [--listen ADDR:PORT] [--rtt-ms MS]
               [--down-kbps K] [--up-kbps K] [--mss BYTES]
               [--port-file FILE] [--stats FILE] [--verbose] [--trace]

A TCP proxy shaped like a cellular link. Defaults (LTE-M on an nRF91):
--listen 127.0.0.1:0, --rtt-ms 200, --down-kbps 300, --up-kbps 100
(1 kbit/s = 1000 bit/s; 0 = no rate limit), --mss 1460.
--trace writes one line per segment to stderr: direction, connection,
bytes, and the seconds since start at which it was read, started and ended
on the link, and reached the other end.
Only loopback addresses are accepted for --listen and --upstream.";

struct Args {
    listen: String,
    upstream: String,
    rtt: Duration,
    down_bps: u64,
    up_bps: u64,
    mss: usize,
    port_file: Option<String>,
    stats: Option<String>,
    verbose: bool,
    trace: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        listen: "127.0.0.1:0".into(),
        upstream: String::new(),
        rtt: Duration::from_millis(200),
        down_bps: 300_000,
        up_bps: 100_000,
        mss: 1460,
        port_file: None,
        stats: None,
        verbose: false,
        trace: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut val = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        let num = |s: String| -> Result<f64, String> {
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or(format!("not a non-negative number: {s}"))
        };
        match arg.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--listen" => a.listen = val("--listen")?,
            "--upstream" => a.upstream = val("--upstream")?,
            "--rtt-ms" => a.rtt = Duration::from_secs_f64(num(val("--rtt-ms")?)? / 1000.0),
            "--down-kbps" => a.down_bps = (num(val("--down-kbps")?)? * 1000.0).round() as u64,
            "--up-kbps" => a.up_bps = (num(val("--up-kbps")?)? * 1000.0).round() as u64,
            "--mss" => {
                a.mss = num(val("--mss")?)? as usize;
                if a.mss == 0 {
                    return Err("--mss must be at least 1".into());
                }
            }
            "--port-file" => a.port_file = Some(val("--port-file")?),
            "--stats" => a.stats = Some(val("--stats")?),
            "--verbose" | "-v" => a.verbose = true,
            "--trace" => a.trace = true,
            _ => return Err(format!("unknown argument {arg}")),
        }
    }
    if a.upstream.is_empty() {
        return Err("--upstream is required".into());
    }
    Ok(a)
}

/// Resolves `s` and refuses anything but loopback: this tool only ever
/// shapes traffic between processes on this machine.
fn loopback_addr(s: &str) -> Result<SocketAddr, String> {
    let addr = s
        .to_socket_addrs()
        .map_err(|e| format!("{s}: {e}"))?
        .next()
        .ok_or(format!("{s}: no address"))?;
    if !addr.ip().is_loopback() {
        return Err(format!("{s}: not a loopback address"));
    }
    Ok(addr)
}

/// One direction of the link: a serializer shared by all connections, then
/// a fixed propagation delay.
struct Link {
    name: &'static str,
    bits_per_s: u64,
    delay: Duration,
    busy_until: Mutex<Instant>,
    bytes: AtomicU64,
    segments: AtomicU64,
}

impl Link {
    fn new(name: &'static str, bits_per_s: u64, delay: Duration) -> Link {
        Link {
            name,
            bits_per_s,
            delay,
            busy_until: Mutex::new(Instant::now()),
            bytes: AtomicU64::new(0),
            segments: AtomicU64::new(0),
        }
    }

    /// Time on the wire of `len` bytes, in whole nanoseconds (the rounding
    /// error stays below 1 ns per segment).
    fn serialization(&self, len: usize) -> Duration {
        if self.bits_per_s == 0 {
            return Duration::ZERO;
        }
        let nanos = (len as u128 * 8 * 1_000_000_000).div_ceil(u128::from(self.bits_per_s));
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// Queues `len` bytes of connection `id` that arrived now and may not
    /// leave before `not_before`; returns when they reach the other end.
    /// With `trace` (the process's start), writes a line for the segment.
    fn schedule(
        &self,
        not_before: Instant,
        len: usize,
        id: u64,
        trace: Option<Instant>,
    ) -> Instant {
        let now = Instant::now();
        let mut busy = self.busy_until.lock().unwrap_or_else(|e| e.into_inner());
        let start = now.max(*busy).max(not_before);
        let end = start + self.serialization(len);
        *busy = end;
        if let Some(t0) = trace {
            let s = |t: Instant| t.saturating_duration_since(t0).as_secs_f64();
            eprintln!(
                "linksim: seg {} conn {id} {len} B read {:.6} start {:.6} end {:.6} arrive {:.6}",
                self.name,
                s(now),
                s(start),
                s(end),
                s(end + self.delay)
            );
        }
        if len > 0 {
            self.bytes.fetch_add(len as u64, Ordering::Relaxed);
            self.segments.fetch_add(1, Ordering::Relaxed);
        }
        end + self.delay
    }
}

enum Item {
    Data(Instant, Vec<u8>),
    /// The source closed (FIN) or failed (then `true`: abort both ends).
    End(Instant, bool),
}

struct Shared {
    down: Link,
    up: Link,
    connections: AtomicU64,
    active: AtomicUsize,
    stats_path: Option<String>,
    stats_lock: Mutex<()>,
    verbose: bool,
    /// `--trace`: the process's start, which segment times count from.
    trace: Option<Instant>,
}

impl Shared {
    fn write_stats(&self) {
        let Some(path) = &self.stats_path else {
            return;
        };
        let _guard = self.stats_lock.lock().unwrap_or_else(|e| e.into_inner());
        let json = format!(
            "{{\"connections\":{},\"active\":{},\"down_bytes\":{},\"up_bytes\":{},\
             \"down_segments\":{},\"up_segments\":{}}}\n",
            self.connections.load(Ordering::SeqCst),
            self.active.load(Ordering::SeqCst),
            self.down.bytes.load(Ordering::SeqCst),
            self.up.bytes.load(Ordering::SeqCst),
            self.down.segments.load(Ordering::SeqCst),
            self.up.segments.load(Ordering::SeqCst),
        );
        if let Err(e) = write_atomic(path, &json) {
            eprintln!("linksim: cannot write {path}: {e}");
        }
    }
}

fn write_atomic(path: &str, text: &str) -> std::io::Result<()> {
    let tmp = format!("{path}.{}.tmp", std::process::id());
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

fn sleep_until(t: Instant) {
    let now = Instant::now();
    if t > now {
        thread::sleep(t - now);
    }
}

/// Reads segments from `src` (connection `id`) and queues them on `link`.
fn reader(
    mut src: TcpStream,
    link: &Link,
    not_before: Instant,
    mss: usize,
    tx: Sender<Item>,
    (id, trace): (u64, Option<Instant>),
) -> u64 {
    let mut buf = vec![0u8; mss];
    let mut total = 0u64;
    loop {
        match src.read(&mut buf) {
            Ok(0) => {
                let _ = tx.send(Item::End(link.schedule(not_before, 0, id, trace), false));
                return total;
            }
            Ok(n) => {
                total += n as u64;
                let at = link.schedule(not_before, n, id, trace);
                if tx.send(Item::Data(at, buf[..n].to_vec())).is_err() {
                    return total;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => {
                let _ = tx.send(Item::End(link.schedule(not_before, 0, id, trace), true));
                return total;
            }
        }
    }
}

/// Delivers queued segments to `dst` at their arrival times. `src` is the
/// other socket of the pair, shut down when `dst` fails so that its reader
/// ends too.
fn writer(mut dst: TcpStream, src: TcpStream, rx: Receiver<Item>) {
    for item in rx {
        match item {
            Item::Data(at, bytes) => {
                sleep_until(at);
                if dst.write_all(&bytes).is_err() {
                    let _ = dst.shutdown(Shutdown::Both);
                    let _ = src.shutdown(Shutdown::Both);
                    return;
                }
            }
            Item::End(at, abort) => {
                sleep_until(at);
                if abort {
                    let _ = dst.shutdown(Shutdown::Both);
                    let _ = src.shutdown(Shutdown::Both);
                } else {
                    let _ = dst.shutdown(Shutdown::Write);
                }
                return;
            }
        }
    }
}

fn serve(client: TcpStream, upstream: SocketAddr, shared: Arc<Shared>, mss: usize, id: u64) {
    let accepted = Instant::now();
    if let Some(t0) = shared.trace {
        let at = accepted.saturating_duration_since(t0).as_secs_f64();
        eprintln!("linksim: accept conn {id} at {at:.6}");
    }
    let server = match TcpStream::connect(upstream) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("linksim: conn {id}: upstream {upstream}: {e}");
            shared.active.fetch_sub(1, Ordering::SeqCst);
            shared.write_stats();
            return;
        }
    };
    // The proxy must not add Nagle or delayed-ACK stalls of its own.
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let clones = (|| -> std::io::Result<_> {
        Ok((
            client.try_clone()?,
            server.try_clone()?,
            client.try_clone()?,
            server.try_clone()?,
        ))
    })();
    let (c_read, s_read, c_peer, s_peer) = match clones {
        Ok(c) => c,
        Err(e) => {
            eprintln!("linksim: conn {id}: {e}");
            shared.active.fetch_sub(1, Ordering::SeqCst);
            shared.write_stats();
            return;
        }
    };
    // The client's first byte leaves after the SYN / SYN-ACK round trip.
    let up_not_before = accepted + shared.up.delay * 2;
    let (up_tx, up_rx) = channel();
    let (down_tx, down_rx) = channel();
    let up_writer = thread::spawn(move || writer(server, c_peer, up_rx));
    let down_writer = thread::spawn(move || writer(client, s_peer, down_rx));
    let sh = Arc::clone(&shared);
    let trace = (id, shared.trace);
    let up_reader = thread::spawn(move || reader(c_read, &sh.up, up_not_before, mss, up_tx, trace));
    let down = reader(s_read, &shared.down, accepted, mss, down_tx, trace);
    let up = up_reader.join().unwrap_or(0);
    let _ = up_writer.join();
    let _ = down_writer.join();
    shared.active.fetch_sub(1, Ordering::SeqCst);
    if shared.verbose {
        eprintln!(
            "linksim: conn {id} closed after {:.3} s: up {up} B, down {down} B",
            accepted.elapsed().as_secs_f64()
        );
    }
    shared.write_stats();
}

fn run(a: Args) -> Result<(), String> {
    let listen = loopback_addr(&a.listen)?;
    let upstream = loopback_addr(&a.upstream)?;
    let listener = TcpListener::bind(listen).map_err(|e| format!("bind {listen}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let delay = a.rtt / 2;
    let shared = Arc::new(Shared {
        down: Link::new("down", a.down_bps, delay),
        up: Link::new("up", a.up_bps, delay),
        connections: AtomicU64::new(0),
        active: AtomicUsize::new(0),
        stats_path: a.stats.clone(),
        stats_lock: Mutex::new(()),
        verbose: a.verbose,
        trace: a.trace.then(Instant::now),
    });
    shared.write_stats();
    if let Some(p) = &a.port_file {
        write_atomic(p, &format!("{}\n", local.port())).map_err(|e| format!("{p}: {e}"))?;
    }
    println!(
        "linksim: listening on {local} -> {upstream}: rtt {} ms, down {} bit/s, up {} bit/s, mss {}",
        a.rtt.as_millis(),
        a.down_bps,
        a.up_bps,
        a.mss
    );
    let _ = std::io::stdout().flush();
    for conn in listener.incoming() {
        let client = match conn {
            Ok(c) => c,
            Err(e) => {
                eprintln!("linksim: accept: {e}");
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let id = shared.connections.fetch_add(1, Ordering::SeqCst) + 1;
        shared.active.fetch_add(1, Ordering::SeqCst);
        let sh = Arc::clone(&shared);
        let mss = a.mss;
        thread::spawn(move || serve(client, upstream, sh, mss, id));
    }
    Ok(())
}

fn main() -> ExitCode {
    match parse_args() {
        Ok(a) => match run(a) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("linksim: {e}");
                ExitCode::FAILURE
            }
        },
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("linksim: {msg}");
            }
            eprintln!("{USAGE}");
            ExitCode::from(if msg.is_empty() { 0 } else { 2 })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialization_is_exact_to_the_byte() {
        let l = Link::new("down", 300_000, Duration::ZERO);
        // 256 KiB at 300 kbit/s: 262144 * 8 / 300000 s = 6.990506667 s.
        assert_eq!(
            l.serialization(262_144),
            Duration::from_nanos(6_990_506_667)
        );
        assert_eq!(l.serialization(1), Duration::from_nanos(26_667));
        assert_eq!(
            Link::new("down", 0, Duration::ZERO).serialization(1 << 20),
            Duration::ZERO
        );
    }

    #[test]
    fn segments_queue_behind_each_other() {
        let l = Link::new("up", 8_000, Duration::from_millis(100));
        let t0 = Instant::now();
        let a = l.schedule(t0, 100, 1, None); // 100 ms on the wire
        let b = l.schedule(t0, 100, 1, None); // waits for the first
        assert!(b - a == Duration::from_millis(100));
        assert!(a >= t0 + Duration::from_millis(200));
        assert_eq!(l.bytes.load(Ordering::Relaxed), 200);
    }

    #[test]
    fn only_loopback() {
        assert!(loopback_addr("127.0.0.1:1").is_ok());
        assert!(loopback_addr("[::1]:1").is_ok());
        assert!(loopback_addr("10.0.0.1:1").is_err());
    }
}
