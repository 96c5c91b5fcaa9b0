//! Memory bounds under floods: the engine's resident memory (VmRSS of its
//! process) stays under [`RSS_BOUND_KB`] while a client sends what a proxy
//! must not buffer without limit — endless trailers, an endless chunk
//! extension, an endless request head, pipelined requests whose responses
//! are never read — and while 2,000 idle connections press on a frontend
//! that accepts 500. HAProxy 2.6 runs the same floods in the same test when
//! it is installed; both figures are printed (`bounds:` lines on stderr,
//! for the book), only the engine's bound is asserted.
//!
//! Every flood is bounded: [`FLOOD_BYTES`] sent, [`FLOOD_TIME`] spent, the
//! proxy answering or closing, its reading stalling for [`STALL`], or its
//! memory passing [`ABANDON_KB`] (the verdict is known by then, and the
//! machine is shared).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use xtests::{free_port, ProxyProcess};

/// The engine's stated bound on its resident memory under any one flood.
const RSS_BOUND_KB: u64 = 64 * 1024;
/// A flood stops once this much memory is resident: the bound is long
/// broken, and the test machine is shared.
const ABANDON_KB: u64 = 4 * RSS_BOUND_KB;
/// A flood stops after this many bytes...
const FLOOD_BYTES: u64 = 200 * 1024 * 1024;
/// ... or this long.
const FLOOD_TIME: Duration = Duration::from_secs(10);
/// A proxy that takes nothing for this long has stopped reading.
const STALL: Duration = Duration::from_secs(2);
/// How long a proxy has, once the flood stops, to answer or close.
const VERDICT_WAIT: Duration = Duration::from_secs(3);
/// How often resident memory is read while a flood runs.
const SAMPLE_EVERY: Duration = Duration::from_millis(5);
/// Connections of the idle flood, and the frontend's `maxconn`.
const IDLE_CONNECTIONS: usize = 2_000;
const IDLE_MAXCONN: usize = 500;
/// How long the idle connections are held, at rest, while memory is sampled.
const IDLE_HOLD: Duration = Duration::from_millis(500);

const TRAILERS: &[u8] =
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n";
const EXTENSION: &[u8] = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;";
const HEAD: &[u8] = b"GET / HTTP/1.1\r\nHost: a\r\n";
const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";

/// `name: <len x 'a'>\r\n`.
fn header_line(name: &str, len: usize) -> Vec<u8> {
    let mut line = format!("{name}: ").into_bytes();
    line.resize(line.len() + len, b'a');
    line.extend_from_slice(b"\r\n");
    line
}

/// Trailers that never end (`0\r\n` then header lines): HAProxy 2.6
/// answers 400 once they pass its buffer (16 KB).
#[test]
fn trailer_flood_is_refused_within_the_bound() {
    let flood = Flood {
        name: "trailer flood",
        prefix: TRAILERS,
        unit: header_line("X-T", 8000),
        watch_answer: true,
    };
    for m in measure_http(&flood) {
        m.assert_refused_within_bound();
    }
}

/// A chunk size line that never ends (`5;aaaa...`). HAProxy 2.6 stops
/// reading once the line fills its buffer, and neither answers nor closes
/// before its timeouts; the engine is held to a 400 or a close.
#[test]
fn endless_chunk_extension_is_refused_within_the_bound() {
    let flood = Flood {
        name: "chunk extension",
        prefix: EXTENSION,
        unit: vec![b'a'; 8192],
        watch_answer: true,
    };
    for m in measure_http(&flood) {
        m.assert_refused_within_bound();
    }
}

/// A request head that never ends (header lines of 100 bytes): HAProxy
/// 2.6 answers 400.
#[test]
fn endless_request_head_is_refused_within_the_bound() {
    let flood = Flood {
        name: "header flood",
        prefix: HEAD,
        unit: header_line("X-H", 100),
        watch_answer: true,
    };
    for m in measure_http(&flood) {
        m.assert_refused_within_bound();
    }
}

/// Pipelined GETs whose responses the client never reads: the proxy can
/// write only so much before its socket fills, and must then stop reading
/// requests (backpressure) — the client's writes stall.
#[test]
fn unread_pipelined_requests_stay_within_the_bound() {
    let flood = Flood {
        name: "pipelined, never read",
        prefix: b"",
        unit: GET.to_vec(),
        watch_answer: false,
    };
    for m in measure_http(&flood) {
        m.assert_within_bound();
        assert!(
            !m.engine || m.stop == Stop::Stall,
            "{}: the engine kept reading ({:?} after {} bytes)",
            m.flood,
            m.stop,
            m.sent
        );
    }
}

/// 2,000 connections that send nothing, against a `mode tcp` frontend with
/// `maxconn 500`: 500 are accepted (each with its server connection), the
/// rest wait in the kernel (the listen backlog, then SYN retries). Memory
/// stays bounded, and once they all close a normal request is served.
#[test]
fn idle_connections_beyond_maxconn_stay_within_the_bound() {
    let limit = raise_fd_limit(8 * IDLE_CONNECTIONS as u64);
    if limit < 3 * IDLE_CONNECTIONS as u64 {
        eprintln!("note: file-descriptor limit {limit} is too low, skipping the idle flood");
        return;
    }
    for bin in xtests::proxies!() {
        let m = idle_flood(&bin);
        m.print();
        m.assert_within_bound();
    }
}

/// What a flood sends: `prefix` once, then `unit` over and over.
struct Flood {
    name: &'static str,
    prefix: &'static [u8],
    unit: Vec<u8>,
    /// Read what the proxy answers (and stop when it does). Off for the
    /// pipelined flood, whose point is that the client never reads.
    watch_answer: bool,
}

/// Why the client stopped sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Answered,
    Closed,
    Sent,
    Time,
    Stall,
    Abandoned,
    /// The idle flood: its connections were held, then closed.
    Held,
}

/// What the proxy did to the flooding connection.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// Its first line.
    Answered(String),
    Closed,
    Open,
}

struct Measurement {
    flood: &'static str,
    proxy: &'static str,
    engine: bool,
    idle_kb: u64,
    peak_kb: u64,
    sent: u64,
    /// How long the flood ran.
    took: Duration,
    stop: Stop,
    outcome: Outcome,
}

impl Measurement {
    fn print(&self) {
        eprintln!(
            "bounds: {}: {}: peak RSS {:.1} MB (idle {:.1} MB), sent {} bytes in {:.1} s, stopped: {:?}, outcome: {:?}",
            self.flood,
            self.proxy,
            self.peak_kb as f64 / 1024.0,
            self.idle_kb as f64 / 1024.0,
            self.sent,
            self.took.as_secs_f64(),
            self.stop,
            self.outcome
        );
    }

    /// The engine's memory stayed under the bound (HAProxy's is only
    /// printed).
    fn assert_within_bound(&self) {
        assert!(
            !self.engine || self.peak_kb < RSS_BOUND_KB,
            "{}: the engine's RSS reached {} kB (bound {RSS_BOUND_KB} kB), after {} bytes",
            self.flood,
            self.peak_kb,
            self.sent
        );
    }

    /// The engine's verdict on a request that can never complete: a 400,
    /// or a close, and memory under the bound meanwhile.
    fn assert_refused_within_bound(&self) {
        self.assert_within_bound();
        if !self.engine {
            return;
        }
        match &self.outcome {
            Outcome::Closed => {}
            Outcome::Answered(line) => assert!(
                line.starts_with("HTTP/1.1 400"),
                "{}: the engine answered {line:?}, not 400",
                self.flood
            ),
            Outcome::Open => panic!(
                "{}: the engine neither answered nor closed after {} bytes ({:?})",
                self.flood, self.sent, self.stop
            ),
        }
    }
}

fn proxy_name(binary: &Path) -> (&'static str, bool) {
    let engine = binary == xtests::engine_bin!();
    (if engine { "engine" } else { "haproxy" }, engine)
}

/// Runs `flood` against each proxy in front of a backend that reads and
/// never answers (pipelined GETs: one that answers each), and prints what
/// each proxy did.
fn measure_http(flood: &Flood) -> Vec<Measurement> {
    let mut out = vec![];
    for bin in xtests::proxies!() {
        let backend = if flood.watch_answer {
            Backend::start(Serve::Sink)
        } else {
            // Large answers fill the client's unread socket quickly.
            Backend::start(Serve::AnswerGets {
                body_len: 16 * 1024,
            })
        };
        let fe = free_port();
        let cfg = xtests::config_file(
            &format!("bounds-{fe}"),
            &config("http", "", fe, backend.port),
        );
        let mut proxy = ProxyProcess::start(&bin, &cfg);
        proxy.wait_listening(fe, Duration::from_secs(5));
        let (name, engine) = proxy_name(&bin);
        let rss = Sampler::start(proxy.pid());
        let idle_kb = rss.peak_kb();
        let start = Instant::now();
        let (sent, stop, outcome) = run_flood(fe, flood, &rss);
        let took = start.elapsed();
        let m = Measurement {
            flood: flood.name,
            proxy: name,
            engine,
            idle_kb,
            peak_kb: rss.stop(),
            sent,
            took,
            stop,
            outcome,
        };
        m.print();
        out.push(m);
    }
    out
}

fn config(mode: &str, frontend: &str, fe: u16, server: u16) -> String {
    format!(
        "defaults
    mode {mode}
    timeout connect 2s
    timeout client 30s
    timeout server 30s

frontend fe
    bind 127.0.0.1:{fe}
{frontend}
    default_backend be

backend be
    server s1 127.0.0.1:{server}
"
    )
}

/// Sends `flood` on one connection until one of its bounds; how much was
/// sent, why it stopped, and what the proxy did.
fn run_flood(port: u16, flood: &Flood, rss: &Sampler) -> (u64, Stop, Outcome) {
    let mut conn = TcpStream::connect(("127.0.0.1", port)).expect("connect to the proxy");
    // Short, so that the loop checks its bounds while the proxy reads slowly.
    conn.set_write_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let answers = flood.watch_answer.then(|| watch(&conn));
    // A run of units, so that each write is large; a partial write leaves
    // the rest of the run (mid-unit) to go next.
    let run: Vec<u8> = flood.unit.repeat((65_536 / flood.unit.len()).max(1));
    let mut bytes: Vec<u8> = flood.prefix.to_vec();
    let mut sent = 0u64;
    let start = Instant::now();
    let mut progress = start;
    let stop = loop {
        if let Some(got) = answers.as_ref().and_then(|rx| rx.try_recv().ok()) {
            return (sent, Stop::Answered, got);
        }
        if sent >= FLOOD_BYTES {
            break Stop::Sent;
        }
        if start.elapsed() >= FLOOD_TIME {
            break Stop::Time;
        }
        if progress.elapsed() >= STALL {
            break Stop::Stall;
        }
        if rss.peak_kb() >= ABANDON_KB {
            break Stop::Abandoned;
        }
        if bytes.is_empty() {
            bytes.extend_from_slice(&run);
        }
        match conn.write(&bytes) {
            Ok(n) => {
                sent += n as u64;
                progress = Instant::now();
                bytes.drain(..n);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break Stop::Closed,
        }
    };
    // The proxy may have answered just before closing, or be about to.
    let outcome = match (answers, stop) {
        (Some(rx), Stop::Closed) => rx.recv_timeout(VERDICT_WAIT).unwrap_or(Outcome::Closed),
        (Some(rx), _) => rx.recv_timeout(VERDICT_WAIT).unwrap_or(Outcome::Open),
        (None, Stop::Closed) => Outcome::Closed,
        (None, _) => Outcome::Open,
    };
    (sent, stop, outcome)
}

/// Reads what the proxy says on `conn`: its first line, or that it closed.
fn watch(conn: &TcpStream) -> mpsc::Receiver<Outcome> {
    let mut reader = conn.try_clone().expect("a second handle");
    reader
        .set_read_timeout(Some(FLOOD_TIME + VERDICT_WAIT))
        .unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut got = vec![];
        let mut buf = [0u8; 4096];
        let outcome = loop {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) if got.is_empty() => break Outcome::Closed,
                Ok(0) | Err(_) => break first_line(&got),
                Ok(n) => {
                    got.extend_from_slice(&buf[..n]);
                    if got.windows(2).any(|w| w == b"\r\n") {
                        break first_line(&got);
                    }
                }
            }
        };
        let _ = tx.send(outcome);
    });
    rx
}

fn first_line(bytes: &[u8]) -> Outcome {
    let text = String::from_utf8_lossy(bytes);
    Outcome::Answered(text.lines().next().unwrap_or("").to_string())
}

/// The idle flood against `binary`: connects [`IDLE_CONNECTIONS`] without
/// waiting for each handshake, waits until the proxy has opened
/// [`IDLE_MAXCONN`] server connections, samples a while, closes them all,
/// then asks for a normal answer.
fn idle_flood(binary: &Path) -> Measurement {
    let backend = Backend::start(Serve::AnswerGets { body_len: 2 });
    let fe = free_port();
    let cfg = xtests::config_file(
        &format!("bounds-idle-{fe}"),
        &config(
            "tcp",
            &format!("    maxconn {IDLE_MAXCONN}"),
            fe,
            backend.port,
        ),
    );
    let mut proxy = ProxyProcess::start(binary, &cfg);
    // Not wait_listening: its probe would be a connection of its own.
    proxy.wait_bound(fe, Duration::from_secs(5));
    let (name, engine) = proxy_name(binary);
    let rss = Sampler::start(proxy.pid());
    let idle_kb = rss.peak_kb();
    let start = Instant::now();
    let conns: Vec<TcpStream> = (0..IDLE_CONNECTIONS)
        .map(|_| xtests::connect_in_background(fe).expect("a connection under way"))
        .collect();
    xtests::wait_until(
        Duration::from_secs(10),
        "the proxy accepts up to its maxconn",
        || backend.accepted() >= IDLE_MAXCONN,
    );
    // A measurement period, not a wait on an event: memory is sampled
    // while the connections rest.
    thread::sleep(IDLE_HOLD);
    let over = backend.accepted();
    assert!(
        !engine || over <= IDLE_MAXCONN,
        "{name}: {over} server connections under maxconn {IDLE_MAXCONN}"
    );
    drop(conns);
    let mut answer = String::new();
    xtests::wait_until(
        Duration::from_secs(15),
        "a normal request is served after the flood",
        || {
            answer = ask_once(fe);
            answer.starts_with("HTTP/1.1 200")
        },
    );
    Measurement {
        flood: "2000 idle connections, maxconn 500",
        proxy: name,
        engine,
        idle_kb,
        peak_kb: rss.stop(),
        sent: 0,
        took: start.elapsed(),
        stop: Stop::Held,
        outcome: first_line(answer.as_bytes()),
    }
}

/// One GET on a fresh connection, with short patience (the proxy may still
/// be draining the flood's closed connections from its backlog): what came
/// back, "" for nothing.
fn ask_once(port: u16) -> String {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut conn) = TcpStream::connect_timeout(&addr, Duration::from_secs(3)) else {
        return String::new();
    };
    conn.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    if conn.write_all(GET).is_err() {
        return String::new();
    }
    let mut got = vec![];
    let mut buf = [0u8; 1024];
    let whole = ok_response(2);
    while !got.ends_with(&whole) {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// Raises this process's soft limit on open files towards `want` (capped
/// by the hard limit); the proxies started afterwards inherit it. Returns
/// the limit in force.
fn raise_fd_limit(want: u64) -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid rlimit struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 0;
        }
        if limit.rlim_cur < want {
            limit.rlim_cur = want.min(limit.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
    }
    limit.rlim_cur
}

/// A process's VmRSS, sampled every [`SAMPLE_EVERY`] on a thread of its
/// own; the largest value read.
struct Sampler {
    peak_kb: Arc<AtomicU64>,
    done: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Sampler {
    fn start(pid: u32) -> Sampler {
        let peak_kb = Arc::new(AtomicU64::new(rss_kb(pid)));
        let done = Arc::new(AtomicBool::new(false));
        let thread = {
            let (peak_kb, done) = (peak_kb.clone(), done.clone());
            thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    peak_kb.fetch_max(rss_kb(pid), Ordering::Relaxed);
                    thread::sleep(SAMPLE_EVERY); // the sampling period
                }
            })
        };
        Sampler {
            peak_kb,
            done,
            thread: Some(thread),
        }
    }

    fn peak_kb(&self) -> u64 {
        self.peak_kb.load(Ordering::Relaxed)
    }

    /// Stops sampling; the peak.
    fn stop(mut self) -> u64 {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.peak_kb()
    }
}

/// `VmRSS` of `/proc/<pid>/status`, in kB (0 once the process is gone).
fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// What the test's backend does with each connection.
#[derive(Debug, Clone, Copy)]
enum Serve {
    /// Reads and discards; never answers.
    Sink,
    /// Answers each request head (requests without a body) with a `200`
    /// of `body_len` bytes.
    AnswerGets { body_len: usize },
}

/// A trivial backend of the test's own: a thread per connection, nothing
/// recorded but the count of connections accepted.
struct Backend {
    port: u16,
    accepted: Arc<AtomicUsize>,
}

impl Backend {
    fn start(serve: Serve) -> Backend {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the backend");
        let port = listener.local_addr().unwrap().port();
        // A proxy opens its server connections by the hundred at once;
        // past std's backlog of 128, the kernel answers their SYNs with
        // cookies and drops the final ACK of a full queue, and the
        // connection is lost (the proxy, with nothing to send, never
        // learns it).
        // SAFETY: listen(2) again on a listening socket only sets its
        // backlog.
        unsafe { libc::listen(listener.as_raw_fd(), 4096) };
        let accepted = Arc::new(AtomicUsize::new(0));
        {
            let accepted = accepted.clone();
            thread::spawn(move || {
                for conn in listener.incoming() {
                    let Ok(conn) = conn else { continue };
                    accepted.fetch_add(1, Ordering::Relaxed);
                    thread::spawn(move || serve_one(conn, serve));
                }
            });
        }
        Backend { port, accepted }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }
}

/// The backend's `200`, its body `body_len` bytes ending in `ok`.
fn ok_response(body_len: usize) -> Vec<u8> {
    let mut body = vec![b'.'; body_len.saturating_sub(2)];
    body.extend_from_slice(b"ok");
    let mut out = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend(body);
    out
}

fn serve_one(mut conn: TcpStream, serve: Serve) {
    let mut buf = vec![0u8; 65_536];
    // The end of the previous read, for a `\r\n\r\n` split across reads.
    let mut tail: Vec<u8> = vec![];
    loop {
        let n = match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if let Serve::AnswerGets { body_len } = serve {
            tail.extend_from_slice(&buf[..n]);
            let heads = tail.windows(4).filter(|w| w == b"\r\n\r\n").count();
            let keep = tail.len().min(3);
            tail.drain(..tail.len() - keep);
            if heads > 0
                && conn
                    .write_all(&ok_response(body_len).repeat(heads))
                    .is_err()
            {
                return;
            }
        }
    }
}
