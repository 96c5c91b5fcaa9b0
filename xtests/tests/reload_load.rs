//! Reloads under load (issue 15, point 7): the real engine reloaded 10
//! times while client threads send HTTP/1.1 keep-alive requests through
//! it, every failed request counted, none allowed; then large uploads and
//! downloads kept in flight across reloads, which must arrive whole. Each
//! way of reloading has its test: master-worker (`-W`, SIGUSR2 to the
//! master) and the classic `-D -p pidfile -sf <old pid>`. HAProxy 2.6,
//! when installed, goes through the same harness and its counts are
//! printed beside the engine's (not asserted: HAProxy may lose some).
//!
//! The proxy is `mode http` in front of an origin server of this file (a
//! keep-alive HTTP/1.1 server, a thread per connection). Each
//! configuration generation adds `X-Gen: <n>` to the responses, so a
//! client knows which process answered it: a reload is over once every
//! client has been answered by the new generation, which proves the load
//! moved (an old process that kept its keep-alive connections would keep
//! the clients on the old generation forever).
//!
//! A failed request: a connect error, a read error or timeout, a
//! connection closed without a (whole) response to a request that was
//! sent, a fresh connection reset before its first request could be
//! sent, or a status other than 200. Normal, and counted apart: a kept
//! connection the proxy closed between requests (seen closed before the
//! next request is written, or the write refused), and a response with
//! `Connection: close` (the client reconnects for the next one).
//!
//! The transfers stop at each quarter of their bodies until a reload is
//! done, so each of the 3 reloads happens while both are in flight; a
//! reload is done once the new generation answers and every old process
//! is soft-stopping (it said `Proxy fe stopped`, or, a daemon, no longer
//! listens). Both must come back whole, answered by generation 0.
//!
//! Every wait is bounded and waits on a condition (a stderr line, the
//! clients' counters, a pidfile, a process gone), never on a bare sleep.
//! Before each SIGUSR2 the harness waits until the master CLI answers
//! `show proc`: HAProxy 2.6's master loses a SIGUSR2 sent right after
//! its `Loading success.` (seen: no reload at all); the engine's does
//! not, and the wait costs it nothing.
//! The tests of this file run one at a time: each measures a proxy under
//! load, and two at once would only slow each other down.

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use xtests::ProxyProcess;

/// Client threads of the keep-alive load.
const CLIENTS: usize = 4;
/// Reloads under keep-alive load, per way of reloading.
const RELOADS: usize = 10;
/// Requests every client must have had answered by a generation before
/// the next reload.
const PER_GENERATION: u64 = 10;
/// Reloads with the large transfers in flight.
const TRANSFER_RELOADS: usize = 3;
const UPLOAD: u64 = 20 << 20;
const DOWNLOAD: u64 = 50 << 20;

/// How long a client waits on a socket: a request without an answer
/// after this long has failed.
const PATIENCE: Duration = Duration::from_secs(10);
/// A reload's bound, from the signal (or the new process started) until
/// the proxy says it loaded; also a start's. Generous: a loaded machine
/// of 2 cores runs the clients, the proxy and its new process.
const RELOAD_WITHIN: Duration = Duration::from_secs(20);
/// Once loaded, how long until every client has been answered
/// PER_GENERATION times by the new generation (HAProxy 2.6 takes well
/// under a second on a loaded machine).
const MOVE_WITHIN: Duration = Duration::from_secs(10);
/// How long the old processes may take to leave once nothing holds them.
const LEAVE_WITHIN: Duration = Duration::from_secs(15);

const REQUEST: &[u8] = b"GET /small HTTP/1.1\r\nHost: reload.test\r\n\r\n";
const SMALL: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/// The tests of this file, one at a time.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

// ---------------------------------------------------------------------
// Bytes: the large bodies' pattern and checksum.

/// The byte stream of the large bodies: 8-byte words of splitmix64 of
/// their index, so that a byte lost, doubled or moved changes the
/// checksum. Fills `out` with the bytes from `offset` on.
fn pattern(offset: u64, out: &mut [u8]) {
    fn word(i: u64) -> [u8; 8] {
        let mut z = i.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)).to_le_bytes()
    }
    let mut at = 0;
    while at < out.len() {
        let pos = offset + at as u64;
        let w = word(pos / 8);
        let from = (pos % 8) as usize;
        let n = (8 - from).min(out.len() - at);
        out[at..at + n].copy_from_slice(&w[from..from + n]);
        at += n;
    }
}

/// FNV-1a, 64 bits, over a byte stream, with its length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Sum {
    len: u64,
    hash: u64,
}

impl Sum {
    fn new() -> Sum {
        Sum {
            len: 0,
            hash: 0xcbf2_9ce4_8422_2325,
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.hash = (self.hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.len += bytes.len() as u64;
    }

    /// The sum of the pattern's first `len` bytes.
    fn of_pattern(len: u64) -> Sum {
        let mut sum = Sum::new();
        let mut chunk = vec![0u8; 1 << 16];
        let mut at = 0;
        while at < len {
            let n = (chunk.len() as u64).min(len - at) as usize;
            pattern(at, &mut chunk[..n]);
            sum.update(&chunk[..n]);
            at += n as u64;
        }
        sum
    }
}

impl std::fmt::Display for Sum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} bytes, fnv1a64 {:016x}", self.len, self.hash)
    }
}

/// The download's expected sum, computed once.
fn download_sum() -> Sum {
    static SUM: OnceLock<Sum> = OnceLock::new();
    *SUM.get_or_init(|| Sum::of_pattern(DOWNLOAD))
}

// ---------------------------------------------------------------------
// HTTP/1.1 on a blocking socket, for the origin and the clients.

/// A connection with what was read from it and not used yet.
struct Wire {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Wire {
    fn new(stream: TcpStream) -> Wire {
        let _ = stream.set_nodelay(true);
        Wire {
            stream,
            buf: Vec::new(),
        }
    }

    /// Reads once more; Ok(0) at the end of the stream.
    fn fill(&mut self) -> std::io::Result<usize> {
        let mut chunk = [0u8; 16384];
        let n = self.stream.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// The next message head; Ok(None) when the stream ended before its
    /// first byte.
    fn head(&mut self) -> std::io::Result<Option<Head>> {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head: Vec<u8> = self.buf.drain(..end + 4).collect();
                return Ok(Some(Head::parse(&head)));
            }
            if self.buf.len() > 65536 {
                return Err(std::io::Error::new(ErrorKind::InvalidData, "head too long"));
            }
            if self.fill()? == 0 {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                let text = String::from_utf8_lossy(&self.buf).into_owned();
                return Err(std::io::Error::new(
                    ErrorKind::UnexpectedEof,
                    format!("the stream ended within a head: {text:?}"),
                ));
            }
        }
    }

    /// `n` body bytes, handed to `sink` as they come.
    fn body(
        &mut self,
        mut n: u64,
        mut sink: impl FnMut(&[u8]) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let buffered = (self.buf.len() as u64).min(n) as usize;
        if buffered > 0 {
            sink(&self.buf[..buffered])?;
            self.buf.drain(..buffered);
            n -= buffered as u64;
        }
        let mut chunk = vec![0u8; 1 << 16];
        while n > 0 {
            let want = (chunk.len() as u64).min(n) as usize;
            let got = self.stream.read(&mut chunk[..want])?;
            if got == 0 {
                return Err(std::io::Error::new(
                    ErrorKind::UnexpectedEof,
                    format!("the stream ended with {n} body bytes to come"),
                ));
            }
            sink(&chunk[..got])?;
            n -= got as u64;
        }
        Ok(())
    }

    /// Whether a kept connection is still open before the next request:
    /// Ok(false) when the peer closed it (or reset it), Err with what it
    /// sent when it sent something unasked.
    fn still_open(&mut self) -> Result<bool, String> {
        if !self.buf.is_empty() {
            return Err(format!(
                "unasked bytes: {:?}",
                String::from_utf8_lossy(&self.buf)
            ));
        }
        self.stream.set_nonblocking(true).expect("nonblocking");
        let mut byte = [0u8; 256];
        let seen = self.stream.peek(&mut byte);
        self.stream.set_nonblocking(false).expect("blocking");
        match seen {
            Ok(0) => Ok(false),
            Ok(n) => Err(format!(
                "unasked bytes: {:?}",
                String::from_utf8_lossy(&byte[..n])
            )),
            Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(true),
            Err(_) => Ok(false),
        }
    }
}

/// A parsed message head.
struct Head {
    /// The request line or the status line.
    first: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn parse(bytes: &[u8]) -> Head {
        let text = String::from_utf8_lossy(bytes);
        let mut lines = text.split("\r\n");
        let first = lines.next().unwrap_or_default().to_string();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        Head { first, headers }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// A response's status; 0 when the status line is not one.
    fn status(&self) -> u16 {
        self.first
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    /// A request's target.
    fn target(&self) -> &str {
        self.first.split(' ').nth(1).unwrap_or_default()
    }

    fn content_length(&self) -> Option<u64> {
        self.header("content-length").and_then(|v| v.parse().ok())
    }

    fn chunked(&self) -> bool {
        self.header("transfer-encoding").is_some()
    }

    /// `Connection: close`.
    fn close(&self) -> bool {
        self.headers.iter().any(|(n, v)| {
            n == "connection" && v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close"))
        })
    }

    /// The configuration generation that answered (`X-Gen`).
    fn generation(&self) -> Option<u32> {
        self.header("x-gen").and_then(|v| v.parse().ok())
    }
}

// ---------------------------------------------------------------------
// The origin server.

/// The origin behind the proxy: HTTP/1.1 keep-alive on a loopback port of
/// its own, a thread per connection. `GET /small` answers `ok`; `POST
/// /upload` answers the length and sum of the body it read; `GET
/// /download/<n>` answers `n` bytes of the pattern.
struct Origin {
    port: u16,
}

impl Origin {
    fn start() -> Origin {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind the origin");
        let port = listener.local_addr().expect("an address").port();
        thread::spawn(move || {
            for conn in listener.incoming() {
                match conn {
                    Ok(conn) => {
                        thread::spawn(move || origin_connection(conn));
                    }
                    Err(_) => return,
                }
            }
        });
        Origin { port }
    }
}

fn origin_connection(stream: TcpStream) {
    let mut wire = Wire::new(stream);
    while let Ok(Some(head)) = wire.head() {
        if head.chunked() {
            return; // not sent by these tests
        }
        let length = head.content_length().unwrap_or(0);
        let target = head.target().to_string();
        let answered = if target == "/small" {
            wire.body(length, |_| Ok(()))
                .and_then(|_| wire.stream.write_all(SMALL))
        } else if target == "/upload" {
            let mut sum = Sum::new();
            wire.body(length, |b| {
                sum.update(b);
                Ok(())
            })
            .and_then(|_| {
                let text = format!("{} {:016x}", sum.len, sum.hash);
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{text}",
                    text.len()
                );
                wire.stream.write_all(answer.as_bytes())
            })
        } else if let Some(n) = target
            .strip_prefix("/download/")
            .and_then(|n| n.parse::<u64>().ok())
        {
            wire.body(length, |_| Ok(())).and_then(|_| {
                let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {n}\r\n\r\n");
                wire.stream.write_all(head.as_bytes())?;
                let mut chunk = vec![0u8; 1 << 16];
                let mut at = 0;
                while at < n {
                    let len = (chunk.len() as u64).min(n - at) as usize;
                    pattern(at, &mut chunk[..len]);
                    wire.stream.write_all(&chunk[..len])?;
                    at += len as u64;
                }
                Ok(())
            })
        } else {
            wire.stream
                .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        };
        if answered.is_err() || head.close() {
            return;
        }
    }
}

// ---------------------------------------------------------------------
// The proxy's configuration and processes.

/// The configuration of generation `gen`: the proxy in front of the
/// origin, its responses marked `X-Gen: <gen>`. No `hard-stop-after`: an
/// old process waits for its last transfer.
fn config_text(fe: u16, origin: u16, gen: usize) -> String {
    format!(
        "global
    nbthread 2

defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s

frontend fe
    bind 127.0.0.1:{fe}
    http-response set-header X-Gen {gen}
    default_backend be

backend be
    server s1 127.0.0.1:{origin}
"
    )
}

/// Writes generation `gen` in place of the previous one, whole (a
/// process reading it never sees half a file).
fn write_config(path: &Path, fe: u16, origin: u16, gen: usize) {
    let next = path.with_extension("next");
    std::fs::write(&next, config_text(fe, origin, gen)).expect("write the configuration");
    std::fs::rename(&next, path).expect("replace the configuration");
}

/// A directory of its own for one run: its configuration, pidfile,
/// master socket and logs.
fn run_dir(tag: &str, fe: u16) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xtests-reload-{tag}-{fe}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a run directory");
    dir
}

/// Whether `pid` is a live process (not a zombie) started with the
/// configuration `cfg`: only those are ever signalled, so a pid reused
/// by another process is left alone.
fn ours(pid: i32, cfg: &Path) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // "pid (comm) S ...": the state follows the last ')'.
    let zombie = stat
        .rsplit_once(')')
        .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X']));
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let cfg = cfg.to_string_lossy();
    !zombie
        && String::from_utf8_lossy(&cmdline)
            .split('\0')
            .any(|arg| arg == cfg)
}

/// Ends the processes of `pids` started with `cfg`: SIGTERM, then SIGKILL
/// to those still there after a few seconds.
fn end_processes(pids: &[i32], cfg: &Path) {
    let live =
        |pids: &[i32]| -> Vec<i32> { pids.iter().copied().filter(|&p| ours(p, cfg)).collect() };
    for pid in live(pids) {
        // SAFETY: kill(2) on a process this test started (checked by ours).
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while !live(pids).is_empty() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10)); // polling other processes' exit
    }
    for pid in live(pids) {
        // SAFETY: as above.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
}

/// The pids of `[NOTICE]   (<master>) : New worker (<pid>) forked` lines.
fn forked_workers(stderr: &str) -> Vec<i32> {
    stderr
        .lines()
        .filter_map(|l| l.split_once("New worker (")?.1.split_once(") forked"))
        .filter_map(|(pid, _)| pid.parse().ok())
        .collect()
}

/// Polls `done` every 10 ms until it holds (Ok: how long it took) or
/// `within` has passed (Err).
fn poll(within: Duration, mut done: impl FnMut() -> bool) -> Result<Duration, Duration> {
    let start = Instant::now();
    loop {
        if done() {
            return Ok(start.elapsed());
        }
        if start.elapsed() > within {
            return Err(within);
        }
        thread::sleep(Duration::from_millis(10)); // the poll interval
    }
}

/// A way of reloading a proxy, with the processes it started: dropping it
/// ends them all, whatever happened.
trait Reloading: Sized {
    /// Starts generation 0 (frontend port `fe`) and returns once it
    /// serves.
    fn start(bin: &Path, cfg: &Path, dir: &Path, fe: u16) -> Result<Self, String>;
    /// Reload number `n` (the configuration has its new generation): Ok
    /// once the proxy says it loaded it, with how long that took.
    fn reload(&mut self, n: usize) -> Result<Duration, String>;
    /// Waits until every process older than the current one has left.
    fn old_ones_left(&self, within: Duration) -> Result<Duration, String>;
    /// What the processes said, for a failure's report.
    fn said(&self) -> String;
    /// The pid serving now.
    fn serving_pid(&self) -> i32;
    /// The processes older than the one serving now.
    fn old_pids(&self) -> Vec<i32>;
    /// Whether the old process `pid` began its soft stop (it was told to
    /// finish, and did stop accepting).
    fn stopping(&self, pid: i32) -> bool;
}

/// Master-worker mode: `bin -f cfg -db -W -S <dir>/master.sock`, reloaded
/// by SIGUSR2 to the master.
struct MasterWorker {
    /// None once ended.
    master: Option<ProxyProcess>,
    cfg: PathBuf,
    /// The master CLI (`-S`).
    socket: PathBuf,
    reloads: usize,
}

impl MasterWorker {
    /// The master CLI's answer to `show proc`, when it answers.
    fn show_proc(&self) -> Option<String> {
        use std::os::unix::net::UnixStream;
        let mut s = UnixStream::connect(&self.socket).ok()?;
        s.set_read_timeout(Some(PATIENCE)).ok()?;
        s.write_all(b"show proc\n").ok()?;
        s.shutdown(std::net::Shutdown::Write).ok()?;
        let mut answer = String::new();
        s.read_to_string(&mut answer).ok()?;
        Some(answer)
    }

    fn count(&self, needle: &str) -> usize {
        self.said().lines().filter(|l| l.contains(needle)).count()
    }

    fn wait_count(&self, needle: &str, n: usize, within: Duration) -> Result<Duration, String> {
        poll(within, || self.count(needle) >= n).map_err(|_| {
            format!(
                "{n} lines with {needle:?} expected within {within:?}, {} came",
                self.count(needle)
            )
        })
    }
}

impl Reloading for MasterWorker {
    fn start(bin: &Path, cfg: &Path, dir: &Path, _fe: u16) -> Result<Self, String> {
        let socket = dir.join("master.sock");
        let master = ProxyProcess::start_with(bin, cfg, &["-W", "-S", socket.to_str().unwrap()]);
        let started = MasterWorker {
            master: Some(master),
            cfg: cfg.to_path_buf(),
            socket,
            reloads: 0,
        };
        started.wait_count("Loading success.", 1, RELOAD_WITHIN)?;
        Ok(started)
    }

    fn reload(&mut self, n: usize) -> Result<Duration, String> {
        // HAProxy 2.6's master loses a SIGUSR2 sent right after its
        // `Loading success.`; once its CLI answers, it is in its loop and
        // takes the signal.
        poll(RELOAD_WITHIN, || {
            self.show_proc()
                .is_some_and(|a| a.lines().any(|l| l.contains("master")))
        })
        .map_err(|_| format!("the master CLI did not answer `show proc` before reload {n}"))?;
        let pid = self.master.as_ref().expect("a master").pid();
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(pid as i32, libc::SIGUSR2) };
        self.reloads = n;
        self.wait_count("Loading success.", n + 1, RELOAD_WITHIN)
    }

    fn old_ones_left(&self, within: Duration) -> Result<Duration, String> {
        self.wait_count("Former worker (", self.reloads, within)
    }

    fn said(&self) -> String {
        self.master.as_ref().map(|m| m.stderr()).unwrap_or_default()
    }

    fn serving_pid(&self) -> i32 {
        forked_workers(&self.said()).last().copied().unwrap_or(0)
    }

    fn old_pids(&self) -> Vec<i32> {
        let mut workers = forked_workers(&self.said());
        workers.pop();
        workers
    }

    /// Both HAProxy's workers and the engine's say so on the master's
    /// stderr.
    fn stopping(&self, pid: i32) -> bool {
        self.count(&format!("({pid}) : Proxy fe stopped")) > 0
    }
}

impl Drop for MasterWorker {
    /// SIGTERM to the master, which ends its workers; then whatever is
    /// left of them and of the master.
    fn drop(&mut self) {
        let Some(master) = self.master.take() else {
            return;
        };
        let workers = forked_workers(&master.stderr());
        let mut child: Child = master.into_child();
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let _ = poll(Duration::from_secs(5), || {
            matches!(child.try_wait(), Ok(Some(_)) | Err(_))
        });
        let _ = child.kill();
        let _ = child.wait();
        end_processes(&workers, &self.cfg);
    }
}

/// The classic mode: each process `bin -D -p <pidfile> -f cfg [-sf <pid
/// in the pidfile>]`; the launcher exits once its daemon is started.
struct Daemons {
    bin: PathBuf,
    fe: u16,
    cfg: PathBuf,
    dir: PathBuf,
    pidfile: PathBuf,
    /// Every daemon started, oldest first.
    pids: Vec<i32>,
}

impl Daemons {
    /// Starts a daemon (finishing `old` once it listens) and waits for
    /// its launcher to exit; the daemon's pid, from the pidfile.
    fn launch(&mut self, old: Option<i32>) -> Result<i32, String> {
        let n = self.pids.len();
        let log = self.dir.join(format!("daemon-{n}.log"));
        let file = std::fs::File::create(&log).expect("a log file");
        let mut cmd = Command::new(&self.bin);
        // -V: the daemon keeps its stderr (the log file) for a failure's
        // report.
        cmd.arg("-D")
            .arg("-V")
            .arg("-p")
            .arg(&self.pidfile)
            .arg("-f")
            .arg(&self.cfg);
        if let Some(old) = old {
            cmd.arg("-sf").arg(old.to_string());
        }
        let mut launcher = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(file))
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.bin.display()))?;
        let mut status = None;
        let waited = poll(RELOAD_WITHIN, || {
            status = launcher.try_wait().ok().flatten();
            status.is_some()
        });
        if waited.is_err() {
            let _ = launcher.kill();
            let _ = launcher.wait();
        }
        let said = std::fs::read_to_string(&log).unwrap_or_default();
        match status {
            Some(s) if s.success() => {}
            _ => return Err(format!("daemon {n} did not start ({status:?}):\n{said}")),
        }
        let pid = std::fs::read_to_string(&self.pidfile)
            .ok()
            .and_then(|t| t.trim().parse::<i32>().ok())
            .ok_or_else(|| format!("no pid in {} after daemon {n}", self.pidfile.display()))?;
        if Some(pid) == old || self.pids.contains(&pid) {
            return Err(format!("the pidfile still names {pid} after daemon {n}"));
        }
        self.pids.push(pid);
        Ok(pid)
    }

    fn current(&self) -> i32 {
        *self.pids.last().expect("a daemon")
    }
}

impl Reloading for Daemons {
    fn start(bin: &Path, cfg: &Path, dir: &Path, fe: u16) -> Result<Self, String> {
        let mut daemons = Daemons {
            bin: bin.to_path_buf(),
            fe,
            cfg: cfg.to_path_buf(),
            dir: dir.to_path_buf(),
            pidfile: dir.join("proxy.pid"),
            pids: vec![],
        };
        daemons.launch(None)?;
        Ok(daemons)
    }

    fn reload(&mut self, _n: usize) -> Result<Duration, String> {
        let start = Instant::now();
        let old = self.current();
        self.launch(Some(old))?;
        Ok(start.elapsed())
    }

    fn old_ones_left(&self, within: Duration) -> Result<Duration, String> {
        let old = &self.pids[..self.pids.len() - 1];
        poll(within, || old.iter().all(|&p| !ours(p, &self.cfg))).map_err(|_| {
            let left: Vec<i32> = old
                .iter()
                .copied()
                .filter(|&p| ours(p, &self.cfg))
                .collect();
            format!("old processes still running after {within:?}: {left:?}")
        })
    }

    fn said(&self) -> String {
        (0..self.pids.len() + 1)
            .filter_map(|n| std::fs::read_to_string(self.dir.join(format!("daemon-{n}.log"))).ok())
            .collect::<Vec<_>>()
            .join("")
    }

    fn serving_pid(&self) -> i32 {
        self.current()
    }

    fn old_pids(&self) -> Vec<i32> {
        self.pids[..self.pids.len() - 1].to_vec()
    }

    /// A daemon says nothing once detached (HAProxy's not even with
    /// `-V`): its listening socket on the frontend's port is closed.
    fn stopping(&self, pid: i32) -> bool {
        !listens(pid, self.fe)
    }
}

/// Whether process `pid` holds a socket listening on 127.0.0.1:`port`
/// (its descriptors matched with /proc/net/tcp's inodes).
fn listens(pid: i32, port: u16) -> bool {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    let needle = format!(":{port:04X}");
    // sl local_address rem_address st ... inode (the 10th column).
    let inodes: Vec<String> = table
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|c| c.len() > 9 && c[1].ends_with(&needle) && c[3] == "0A")
        .map(|c| format!("socket:[{}]", c[9]))
        .collect();
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.filter_map(Result::ok)
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .any(|target| inodes.iter().any(|i| target.to_string_lossy() == *i))
}

impl Drop for Daemons {
    /// Every daemon started, and the one the pidfile names.
    fn drop(&mut self) {
        let mut pids = self.pids.clone();
        if let Some(pid) = std::fs::read_to_string(&self.pidfile)
            .ok()
            .and_then(|t| t.trim().parse::<i32>().ok())
        {
            pids.push(pid);
        }
        end_processes(&pids, &self.cfg);
    }
}

// ---------------------------------------------------------------------
// The keep-alive load.

/// A failed request.
#[derive(Debug, Clone)]
struct Failure {
    client: usize,
    /// When, since the run started.
    at: Duration,
    what: String,
    /// Requests answered on that connection before this one.
    answered_before: u64,
    /// The generation that answered the connection's last request.
    generation_before: Option<u32>,
}

/// One client's counts.
#[derive(Debug, Default, Clone)]
struct Tally {
    /// Requests answered 200.
    ok: u64,
    /// Of those, by the generation that answered.
    by_generation: BTreeMap<u32, u64>,
    /// The generation of the last answer.
    last_generation: Option<u32>,
    connects: u64,
    /// Kept connections the proxy closed between requests.
    closed_between: u64,
    /// Answers with `Connection: close`.
    close_answers: u64,
    failures: Vec<Failure>,
}

/// A kept connection and what it answered so far.
struct Kept {
    wire: Wire,
    answered: u64,
    generation: Option<u32>,
}

/// The client threads.
struct Load {
    stop: Arc<AtomicBool>,
    tallies: Arc<Vec<Mutex<Tally>>>,
    threads: Vec<thread::JoinHandle<()>>,
}

impl Load {
    fn start(port: u16, t0: Instant) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let tallies: Arc<Vec<Mutex<Tally>>> =
            Arc::new((0..CLIENTS).map(|_| Mutex::default()).collect());
        let threads = (0..CLIENTS)
            .map(|id| {
                let (stop, tallies) = (stop.clone(), tallies.clone());
                thread::spawn(move || client(id, port, &stop, &tallies[id], t0))
            })
            .collect();
        Load {
            stop,
            tallies,
            threads,
        }
    }

    /// Each client's answers by `gen`.
    fn on_generation(&self, gen: u32) -> Vec<u64> {
        self.tallies
            .iter()
            .map(|t| {
                let t = t.lock().unwrap();
                t.by_generation.get(&gen).copied().unwrap_or(0)
            })
            .collect()
    }

    /// Waits until every client has had PER_GENERATION answers from
    /// `gen`.
    fn wait_generation(&self, gen: u32, within: Duration) -> Result<Duration, String> {
        poll(within, || {
            self.on_generation(gen)
                .iter()
                .all(|&n| n >= PER_GENERATION)
        })
        .map_err(|_| {
            let last: Vec<Option<u32>> = self
                .tallies
                .iter()
                .map(|t| t.lock().unwrap().last_generation)
                .collect();
            format!(
                "the clients were not all answered {PER_GENERATION} times by generation {gen} within {within:?}: \
                 answers from it per client {:?}, last generation per client {last:?} \
                 (a soft-stopping HAProxy closes its idle keep-alive connections and answers \
                 the next request of a busy one with `Connection: close`)",
                self.on_generation(gen)
            )
        })
    }

    fn finish(mut self) -> Vec<Tally> {
        self.halt();
        self.tallies
            .iter()
            .map(|t| t.lock().unwrap().clone())
            .collect()
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.halt();
    }
}

/// One client: keep-alive requests in a loop until `stop`.
fn client(id: usize, port: u16, stop: &AtomicBool, tally: &Mutex<Tally>, t0: Instant) {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut kept: Option<Kept> = None;
    let fail = |what: String, kept: &Option<Kept>| {
        tally.lock().unwrap().failures.push(Failure {
            client: id,
            at: t0.elapsed(),
            what,
            answered_before: kept.as_ref().map_or(0, |k| k.answered),
            generation_before: kept.as_ref().and_then(|k| k.generation),
        });
    };
    while !stop.load(Ordering::Relaxed) {
        if kept.is_none() {
            match TcpStream::connect_timeout(&addr, PATIENCE) {
                Ok(stream) => {
                    stream.set_read_timeout(Some(PATIENCE)).unwrap();
                    stream.set_write_timeout(Some(PATIENCE)).unwrap();
                    tally.lock().unwrap().connects += 1;
                    kept = Some(Kept {
                        wire: Wire::new(stream),
                        answered: 0,
                        generation: None,
                    });
                }
                Err(e) => {
                    fail(format!("connect: {e}"), &None);
                    thread::sleep(Duration::from_millis(10)); // a pause before trying again, not a wait on anything
                    continue;
                }
            }
        }
        let conn = kept.as_mut().expect("a connection");
        // A kept connection may have been closed between requests: that
        // is the proxy's right, the client reconnects.
        if conn.answered > 0 {
            match conn.wire.still_open() {
                Ok(true) => {}
                Ok(false) => {
                    tally.lock().unwrap().closed_between += 1;
                    kept = None;
                    continue;
                }
                Err(e) => {
                    fail(e, &kept);
                    kept = None;
                    continue;
                }
            }
        }
        if let Err(e) = conn.wire.stream.write_all(REQUEST) {
            // Refused: the connection was closed before the request went.
            // Normal on a kept connection, a failure on a fresh one.
            if conn.answered > 0 {
                tally.lock().unwrap().closed_between += 1;
            } else {
                fail(format!("fresh connection, write: {e}"), &kept);
            }
            kept = None;
            continue;
        }
        match response(&mut conn.wire) {
            Ok(head) if head.status() == 200 && head.generation().is_some() => {
                conn.answered += 1;
                conn.generation = head.generation();
                let mut t = tally.lock().unwrap();
                t.ok += 1;
                let gen = head.generation().unwrap_or_default();
                *t.by_generation.entry(gen).or_default() += 1;
                t.last_generation = Some(gen);
                if head.close() {
                    t.close_answers += 1;
                    drop(t);
                    kept = None;
                }
            }
            Ok(head) => {
                fail(format!("answered {:?}", head.first), &kept);
                kept = None;
            }
            Err(e) => {
                fail(e, &kept);
                kept = None;
            }
        }
    }
}

/// The response to a request just sent, its body read and dropped.
fn response(wire: &mut Wire) -> Result<Head, String> {
    let head = match wire.head() {
        Ok(Some(head)) => head,
        Ok(None) => return Err("closed without a response".into()),
        Err(e) => return Err(format!("reading the response head: {e} ({:?})", e.kind())),
    };
    match head.content_length() {
        Some(n) => wire
            .body(n, |_| Ok(()))
            .map_err(|e| format!("reading the body ({:?}): {e}", head.first))?,
        None if head.chunked() => return Err(format!("a chunked response: {:?}", head.first)),
        None => return Err(format!("a response without a length: {:?}", head.first)),
    }
    Ok(head)
}

/// What a run under keep-alive load found.
struct LoadOutcome {
    proxy: String,
    tallies: Vec<Tally>,
    /// Reloads done.
    reloads: usize,
    /// Per reload: until the proxy said it loaded, until every client was
    /// answered by the new generation.
    loaded: Vec<Duration>,
    moved: Vec<Duration>,
    /// Until the old processes left, after the last reload.
    left: Option<Duration>,
    /// What went wrong besides failed requests (the run stops there).
    problems: Vec<String>,
    /// What the proxy said, when something went wrong.
    said: String,
    /// (since the run started, event), for the failures' report.
    timeline: Vec<(Duration, String)>,
    elapsed: Duration,
}

impl LoadOutcome {
    fn requests(&self) -> u64 {
        self.tallies.iter().map(|t| t.ok).sum::<u64>() + self.failures().len() as u64
    }

    fn failures(&self) -> Vec<Failure> {
        let mut all: Vec<Failure> = self
            .tallies
            .iter()
            .flat_map(|t| t.failures.clone())
            .collect();
        all.sort_by_key(|f| f.at);
        all
    }

    fn sum(&self, f: impl Fn(&Tally) -> u64) -> u64 {
        self.tallies.iter().map(f).sum()
    }

    /// The failures, each with the reload events around it.
    fn report(&self) -> String {
        let mut out = String::new();
        for f in self.failures().iter().take(30) {
            let before = self.timeline.iter().rev().find(|(at, _)| *at <= f.at);
            let after = self.timeline.iter().find(|(at, _)| *at > f.at);
            out += &format!(
                "  {:>8.3}s client {} (connection had {} answers, last from generation {:?}): {}\n",
                f.at.as_secs_f64(),
                f.client,
                f.answered_before,
                f.generation_before,
                f.what
            );
            if let Some((at, e)) = before {
                out += &format!(
                    "            {:.3}s before: {e} (at {:.3}s)\n",
                    (f.at - *at).as_secs_f64(),
                    at.as_secs_f64()
                );
            }
            if let Some((at, e)) = after {
                out += &format!(
                    "            {:.3}s after: {e} (at {:.3}s)\n",
                    (*at - f.at).as_secs_f64(),
                    at.as_secs_f64()
                );
            }
        }
        out
    }
}

/// The harness: the proxy `bin`, reloaded RELOADS times the `R` way
/// under the keep-alive load of CLIENTS clients.
fn under_load<R: Reloading>(bin: &Path, proxy: &str, tag: &str) -> LoadOutcome {
    let t0 = Instant::now();
    let origin = Origin::start();
    let fe = xtests::free_port();
    let dir = run_dir(tag, fe);
    let cfg = dir.join("haproxy.cfg");
    write_config(&cfg, fe, origin.port, 0);
    let mut outcome = LoadOutcome {
        proxy: proxy.to_string(),
        tallies: vec![],
        reloads: 0,
        loaded: vec![],
        moved: vec![],
        left: None,
        problems: vec![],
        said: String::new(),
        timeline: vec![],
        elapsed: Duration::ZERO,
    };
    let mut reloading = match R::start(bin, &cfg, &dir, fe) {
        Ok(r) => r,
        Err(e) => {
            outcome.problems.push(format!("the first start: {e}"));
            return outcome;
        }
    };
    outcome.timeline.push((
        t0.elapsed(),
        format!("generation 0 loaded (pid {})", reloading.serving_pid()),
    ));
    let load = Load::start(fe, t0);
    let mut ran = load.wait_generation(0, RELOAD_WITHIN);
    for n in 1..=RELOADS {
        if ran.is_err() {
            break;
        }
        write_config(&cfg, fe, origin.port, n);
        outcome
            .timeline
            .push((t0.elapsed(), format!("reload {n} asked")));
        let asked = Instant::now();
        ran = reloading.reload(n).and_then(|took| {
            outcome.loaded.push(took);
            outcome.timeline.push((
                t0.elapsed(),
                format!("generation {n} loaded (pid {})", reloading.serving_pid()),
            ));
            load.wait_generation(n as u32, MOVE_WITHIN)
        });
        if ran.is_ok() {
            outcome.moved.push(asked.elapsed());
            outcome.reloads = n;
            outcome.timeline.push((
                t0.elapsed(),
                format!("every client answered by generation {n}"),
            ));
        }
    }
    if let Err(e) = ran {
        outcome.problems.push(e);
    }
    if outcome.problems.is_empty() {
        match reloading.old_ones_left(LEAVE_WITHIN) {
            Ok(took) => outcome.left = Some(took),
            Err(e) => outcome.problems.push(e),
        }
    }
    outcome.tallies = load.finish();
    let clean = outcome.problems.is_empty() && outcome.failures().is_empty();
    if !clean {
        outcome.said = reloading.said();
    }
    drop(reloading);
    if clean {
        let _ = std::fs::remove_dir_all(&dir); // kept for a look when something failed
    }
    outcome.elapsed = t0.elapsed();
    outcome
}

fn median_max(ds: &[Duration]) -> String {
    if ds.is_empty() {
        return "-".into();
    }
    let mut sorted = ds.to_vec();
    sorted.sort();
    format!(
        "{:.0}/{:.0}ms",
        sorted[sorted.len() / 2].as_secs_f64() * 1e3,
        sorted[sorted.len() - 1].as_secs_f64() * 1e3
    )
}

fn print_load(title: &str, outcomes: &[&LoadOutcome]) {
    println!("{title}: {CLIENTS} keep-alive clients, {RELOADS} reloads");
    println!(
        "  {:<12} {:>8} {:>7} {:>8} {:>9} {:>10} {:>7} {:>13} {:>13} {:>8} {:>8}",
        "proxy",
        "requests",
        "failed",
        "connects",
        "closed-ka",
        "conn-close",
        "reloads",
        "loaded p50/max",
        "moved p50/max",
        "left",
        "elapsed"
    );
    for o in outcomes {
        println!(
            "  {:<12} {:>8} {:>7} {:>8} {:>9} {:>10} {:>7} {:>13} {:>13} {:>8} {:>7.1}s",
            o.proxy,
            o.requests(),
            o.failures().len(),
            o.sum(|t| t.connects),
            o.sum(|t| t.closed_between),
            o.sum(|t| t.close_answers),
            o.reloads,
            median_max(&o.loaded),
            median_max(&o.moved),
            o.left
                .map_or("-".into(), |d| format!("{:.0}ms", d.as_secs_f64() * 1e3)),
            o.elapsed.as_secs_f64()
        );
    }
    for o in outcomes {
        if !o.failures().is_empty() {
            println!("  {} failures:\n{}", o.proxy, o.report());
        }
    }
}

/// One run on the engine, then on HAProxy when installed (one run at a
/// time across the file); both printed, with HAProxy's problems as notes;
/// the engine's outcome, for the caller's checks.
fn engine_then_haproxy<T>(
    title: &str,
    run: impl Fn(&std::path::Path, &str) -> T,
    problems: impl Fn(&T) -> &Vec<String>,
    print: impl Fn(&str, &[&T]),
) -> T {
    let _serial = serial();
    let engine = run(&xtests::engine_bin!(), "engine");
    let haproxy = xtests::haproxy_bin().map(|bin| run(&bin, "haproxy 2.6"));
    let mut shown = vec![&engine];
    shown.extend(haproxy.as_ref());
    print(title, &shown);
    for p in haproxy.iter().flat_map(&problems) {
        println!("  note: haproxy 2.6: {p}");
    }
    engine
}

/// The engine under load, then HAProxy when installed; both printed; the
/// engine must have lost nothing and every reload must have moved the
/// load.
fn load_test<R: Reloading>(title: &str, tag: &str) {
    let engine = engine_then_haproxy(
        title,
        |bin, who| under_load::<R>(bin, who, tag),
        |o| &o.problems,
        print_load,
    );
    assert_eq!(
        engine.failures().len(),
        0,
        "{title}: the engine failed requests:\n{}\nwhat it said:\n{}",
        engine.report(),
        engine.said
    );
    assert!(
        engine.problems.is_empty(),
        "{title}: the engine's run stopped after {} reloads: {}\nwhat it said:\n{}",
        engine.reloads,
        engine.problems.join("\n"),
        engine.said
    );
    assert!(
        engine.sum(|t| t.ok) >= (RELOADS as u64 + 1) * PER_GENERATION * CLIENTS as u64,
        "every generation answered every client"
    );
}

#[test]
fn master_worker_reloads_by_sigusr2_under_keep_alive_load_lose_nothing() {
    load_test::<MasterWorker>("master-worker, SIGUSR2", "mw-load");
}

#[test]
fn sf_reloads_of_daemons_under_keep_alive_load_lose_nothing() {
    load_test::<Daemons>("-D -sf <pid>", "sf-load");
}

// ---------------------------------------------------------------------
// Large transfers across reloads.

/// Where the two transfers are, and how many reloads the main thread has
/// done: each transfer stops at each quarter of its body until the
/// reload of that quarter is done, so every reload happens while both
/// are in flight.
#[derive(Default)]
struct Progress {
    /// Quarters done, per transfer; usize::MAX once it ended.
    quarters: [usize; 2],
    reloads: usize,
    /// The reloads stopped (a transfer need not wait for them).
    broken: bool,
}

#[derive(Default)]
struct Gate {
    progress: Mutex<Progress>,
    changed: Condvar,
}

impl Gate {
    fn update(&self, f: impl FnOnce(&mut Progress)) {
        f(&mut self.progress.lock().unwrap());
        self.changed.notify_all();
    }

    /// Waits until `done` holds; Err after `within`.
    fn wait(&self, within: Duration, done: impl Fn(&Progress) -> bool) -> Result<(), String> {
        let deadline = Instant::now() + within;
        let mut p = self.progress.lock().unwrap();
        while !done(&p) {
            let now = Instant::now();
            if now >= deadline {
                return Err(format!("waited {within:?}"));
            }
            p = self.changed.wait_timeout(p, deadline - now).unwrap().0;
        }
        Ok(())
    }

    /// Transfer `who` has done `quarter` quarters; waits until the reload
    /// of that quarter is done.
    fn quarter(&self, who: usize, quarter: usize) -> std::io::Result<()> {
        self.update(|p| p.quarters[who] = quarter);
        self.wait(RELOAD_WITHIN * 2, |p| p.reloads >= quarter || p.broken)
            .map_err(|e| std::io::Error::new(ErrorKind::TimedOut, format!("reload {quarter}: {e}")))
    }
}

const UP: usize = 0;
const DOWN: usize = 1;

/// What one transfer got.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Transfer {
    status: u16,
    /// The generation that answered.
    generation: Option<u32>,
    /// What arrived (the download) or what the origin says it received
    /// (the upload).
    got: Option<Sum>,
    expected: Sum,
    error: Option<String>,
    took: Duration,
}

impl Transfer {
    fn whole(&self) -> bool {
        self.error.is_none() && self.status == 200 && self.got == Some(self.expected)
    }
}

fn transfer_stream(port: u16) -> std::io::Result<Wire> {
    let stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    stream.set_write_timeout(Some(Duration::from_secs(60)))?;
    Ok(Wire::new(stream))
}

/// POSTs UPLOAD bytes of the pattern in 64 KiB writes, stopping at each
/// quarter for its reload.
fn upload(port: u16, gate: &Gate) -> Transfer {
    let start = Instant::now();
    let mut sent = Sum::new();
    let mut result = Transfer {
        status: 0,
        generation: None,
        got: None,
        expected: Sum::new(),
        error: None,
        took: Duration::ZERO,
    };
    let run = |result: &mut Transfer, sent: &mut Sum| -> std::io::Result<()> {
        let mut wire = transfer_stream(port)?;
        let head = format!(
            "POST /upload HTTP/1.1\r\nHost: reload.test\r\nContent-Length: {UPLOAD}\r\n\r\n"
        );
        wire.stream.write_all(head.as_bytes())?;
        let mut chunk = vec![0u8; 1 << 16];
        for quarter in 1..=4 {
            let end = UPLOAD * quarter as u64 / 4;
            while sent.len < end {
                let n = (chunk.len() as u64).min(end - sent.len) as usize;
                pattern(sent.len, &mut chunk[..n]);
                wire.stream.write_all(&chunk[..n])?;
                sent.update(&chunk[..n]);
            }
            if quarter < 4 {
                gate.quarter(UP, quarter)?;
            }
        }
        let head = wire
            .head()?
            .ok_or_else(|| std::io::Error::new(ErrorKind::UnexpectedEof, "no response"))?;
        result.status = head.status();
        result.generation = head.generation();
        let mut text = Vec::new();
        wire.body(head.content_length().unwrap_or(0), |b| {
            text.extend_from_slice(b);
            Ok(())
        })?;
        let text = String::from_utf8_lossy(&text).into_owned();
        result.got = text.split_once(' ').and_then(|(len, hash)| {
            Some(Sum {
                len: len.parse().ok()?,
                hash: u64::from_str_radix(hash, 16).ok()?,
            })
        });
        Ok(())
    };
    if let Err(e) = run(&mut result, &mut sent) {
        result.error = Some(format!("after {} bytes sent: {e}", sent.len));
    }
    gate.update(|p| p.quarters[UP] = usize::MAX);
    result.expected = Sum::of_pattern(UPLOAD);
    result.took = start.elapsed();
    result
}

/// GETs DOWNLOAD bytes, stopping at each quarter for its reload.
fn download(port: u16, gate: &Gate) -> Transfer {
    let start = Instant::now();
    let mut got = Sum::new();
    let mut result = Transfer {
        status: 0,
        generation: None,
        got: None,
        expected: download_sum(),
        error: None,
        took: Duration::ZERO,
    };
    let run = |result: &mut Transfer, got: &mut Sum| -> std::io::Result<()> {
        let mut wire = transfer_stream(port)?;
        let request = format!("GET /download/{DOWNLOAD} HTTP/1.1\r\nHost: reload.test\r\n\r\n");
        wire.stream.write_all(request.as_bytes())?;
        let head = wire
            .head()?
            .ok_or_else(|| std::io::Error::new(ErrorKind::UnexpectedEof, "no response"))?;
        result.status = head.status();
        result.generation = head.generation();
        let length = head.content_length().ok_or_else(|| {
            std::io::Error::new(ErrorKind::InvalidData, format!("no length: {}", head.first))
        })?;
        let mut next = 1;
        wire.body(length, |b| {
            got.update(b);
            if next < 4 && got.len >= DOWNLOAD * next as u64 / 4 {
                gate.quarter(DOWN, next)?;
                next += 1;
            }
            Ok(())
        })
    };
    if let Err(e) = run(&mut result, &mut got) {
        result.error = Some(format!("after {} bytes received: {e}", got.len));
    }
    result.got = Some(got);
    gate.update(|p| p.quarters[DOWN] = usize::MAX);
    result.took = start.elapsed();
    result
}

/// Asks `GET /small` on a connection of its own: the generation that
/// answered.
fn probe(port: u16) -> Option<u32> {
    let stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(PATIENCE)).ok()?;
    let mut wire = Wire::new(stream);
    wire.stream
        .write_all(b"GET /small HTTP/1.1\r\nHost: reload.test\r\nConnection: close\r\n\r\n")
        .ok()?;
    response(&mut wire)
        .ok()
        .filter(|h| h.status() == 200)
        .and_then(|h| h.generation())
}

/// What a run with transfers in flight found.
struct TransferOutcome {
    proxy: String,
    upload: Option<Transfer>,
    download: Option<Transfer>,
    reloads: usize,
    /// Until the old processes left once the transfers ended.
    left: Option<Duration>,
    problems: Vec<String>,
    /// What the proxy said, when something went wrong.
    said: String,
    elapsed: Duration,
}

/// The harness: an upload and a download through `bin`, TRANSFER_RELOADS
/// reloads the `R` way while both are in flight.
fn transfers<R: Reloading>(bin: &Path, proxy: &str, tag: &str) -> TransferOutcome {
    let t0 = Instant::now();
    let origin = Origin::start();
    let fe = xtests::free_port();
    let dir = run_dir(tag, fe);
    let cfg = dir.join("haproxy.cfg");
    write_config(&cfg, fe, origin.port, 0);
    let mut outcome = TransferOutcome {
        proxy: proxy.to_string(),
        upload: None,
        download: None,
        reloads: 0,
        left: None,
        problems: vec![],
        said: String::new(),
        elapsed: Duration::ZERO,
    };
    let mut reloading = match R::start(bin, &cfg, &dir, fe) {
        Ok(r) => r,
        Err(e) => {
            outcome.problems.push(format!("the first start: {e}"));
            return outcome;
        }
    };
    if poll(RELOAD_WITHIN, || probe(fe) == Some(0)).is_err() {
        outcome.problems.push("generation 0 never answered".into());
        return outcome;
    }
    let gate = Arc::new(Gate::default());
    let up = {
        let gate = gate.clone();
        thread::spawn(move || upload(fe, &gate))
    };
    let down = {
        let gate = gate.clone();
        thread::spawn(move || download(fe, &gate))
    };
    for n in 1..=TRANSFER_RELOADS {
        let reached = gate.wait(RELOAD_WITHIN * 2, |p| p.quarters.iter().all(|&q| q >= n));
        let done = reached
            .map_err(|e| format!("the transfers did not reach quarter {n}: {e}"))
            .and_then(|_| {
                write_config(&cfg, fe, origin.port, n);
                reloading.reload(n)
            })
            .and_then(|_| {
                poll(RELOAD_WITHIN, || probe(fe) == Some(n as u32))
                    .map_err(|_| format!("generation {n} never answered"))
            })
            .and_then(|_| {
                // The transfers go on only once every old process is
                // soft-stopping: the one that holds them must finish
                // them while it stops.
                let old = reloading.old_pids();
                poll(RELOAD_WITHIN, || old.iter().all(|&p| reloading.stopping(p))).map_err(|_| {
                    let not: Vec<i32> = old
                        .iter()
                        .copied()
                        .filter(|&p| !reloading.stopping(p))
                        .collect();
                    format!("after reload {n}, old processes {not:?} were not stopping")
                })
            });
        match done {
            Ok(_) => {
                outcome.reloads = n;
                gate.update(|p| p.reloads = n);
            }
            Err(e) => {
                outcome.problems.push(e);
                gate.update(|p| p.broken = true);
                break;
            }
        }
    }
    outcome.upload = up.join().ok();
    outcome.download = down.join().ok();
    if outcome.problems.is_empty() {
        match reloading.old_ones_left(LEAVE_WITHIN) {
            Ok(took) => outcome.left = Some(took),
            Err(e) => outcome.problems.push(e),
        }
    }
    let whole = [&outcome.upload, &outcome.download]
        .iter()
        .all(|t| t.as_ref().is_some_and(Transfer::whole));
    let clean = outcome.problems.is_empty() && whole;
    if !clean {
        outcome.said = reloading.said();
    }
    drop(reloading);
    if clean {
        let _ = std::fs::remove_dir_all(&dir); // kept for a look when something failed
    }
    outcome.elapsed = t0.elapsed();
    outcome
}

fn print_transfers(title: &str, outcomes: &[&TransferOutcome]) {
    println!(
        "{title}: a {} MiB upload and a {} MiB download in flight across {TRANSFER_RELOADS} reloads",
        UPLOAD >> 20,
        DOWNLOAD >> 20
    );
    for o in outcomes {
        for (what, t) in [("upload", &o.upload), ("download", &o.download)] {
            match t {
                Some(t) => println!(
                    "  {:<12} {what:<8} status {} generation {:?} {} (expected {}) {:.1}s{}",
                    o.proxy,
                    t.status,
                    t.generation,
                    t.got.map_or("nothing".into(), |s| s.to_string()),
                    t.expected,
                    t.took.as_secs_f64(),
                    t.error
                        .as_ref()
                        .map_or(String::new(), |e| format!(" error: {e}"))
                ),
                None => println!("  {:<12} {what:<8} did not run", o.proxy),
            }
        }
        println!(
            "  {:<12} reloads {}, old processes left {}, elapsed {:.1}s",
            o.proxy,
            o.reloads,
            o.left.map_or("-".into(), |d| format!(
                "{:.0}ms after",
                d.as_secs_f64() * 1e3
            )),
            o.elapsed.as_secs_f64()
        );
    }
}

/// The engine with transfers in flight, then HAProxy when installed;
/// both printed; the engine's transfers must be whole, each answered by
/// generation 0 (the process that was serving when they began, kept
/// across every reload), and the old processes must leave once they
/// end.
fn transfer_test<R: Reloading>(title: &str, tag: &str) {
    let engine = engine_then_haproxy(
        title,
        |bin, who| transfers::<R>(bin, who, tag),
        |o| &o.problems,
        print_transfers,
    );
    for (what, t) in [("upload", &engine.upload), ("download", &engine.download)] {
        let t = t
            .as_ref()
            .unwrap_or_else(|| panic!("{title}: the {what} did not run: {:?}", engine.problems));
        assert!(
            t.whole(),
            "{title}: the {what} is not whole: {t:?}\n{}\nwhat the engine said:\n{}",
            engine.problems.join("\n"),
            engine.said
        );
        assert_eq!(t.generation, Some(0), "{title}: the {what}'s answer");
    }
    assert!(
        engine.problems.is_empty(),
        "{title}: {}\nwhat the engine said:\n{}",
        engine.problems.join("\n"),
        engine.said
    );
    assert_eq!(engine.reloads, TRANSFER_RELOADS);
}

#[test]
fn master_worker_reloads_keep_large_transfers_whole() {
    transfer_test::<MasterWorker>("master-worker, SIGUSR2", "mw-transfer");
}

#[test]
fn sf_reloads_keep_large_transfers_whole() {
    transfer_test::<Daemons>("-D -sf <pid>", "sf-transfer");
}
