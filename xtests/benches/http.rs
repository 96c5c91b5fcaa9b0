//! HTTP proxying cost under load, measured three ways in one run with `wrk`:
//! straight to the origin server, through the engine, through HAProxy 2.6
//! (when installed). Both proxies get the same configuration (`mode http`,
//! `nbthread 2`, one server, no logging). Prints requests per second, the
//! 50th/90th/99th latency percentiles, and the ratios engine/haproxy and
//! engine/direct.
//!
//! Two scenarios, each bounded in time (a WARMUP run, then a RUN run per
//! target): keep-alive (KEEPALIVE_CONNS connections, many requests each)
//! and connection per request (`Connection: close`, CLOSE_CONNS
//! connections). The origin is an HTTP/1.1 keep-alive server in this
//! process, on a tokio runtime of ORIGIN_THREADS threads, answering every
//! request with a 13-byte body (and closing after `Connection: close`).
//! Everything runs on loopback and shares the machine's CPUs with wrk:
//! the numbers compare targets within one run, not runs or machines.
//! Needs `wrk` (`apt-get install wrk`); skips with a note without it. Run
//! with `cargo bench -p xtests --bench http`; with BENCH_BASELINE_ENGINE
//! naming another engine binary, that build is measured too (`baseline`).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use xtests::{free_port, ProxyProcess};

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nhello, world\n";
/// The answer to a request with `Connection: close`: saying so, as HTTP/1.1
/// asks of a server that closes (wrk would count the close as an error).
const RESPONSE_CLOSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nConnection: close\r\n\r\nhello, world\n";
const ORIGIN_THREADS: usize = 2;
const PROXY_THREADS: usize = 2;
const WRK_THREADS: usize = 2;
const KEEPALIVE_CONNS: usize = 50;
const CLOSE_CONNS: usize = 20;
const WARMUP: Duration = Duration::from_secs(1);
const RUN: Duration = Duration::from_secs(5);
/// A request head larger than this is refused (the connection closed).
const MAX_HEAD: usize = 16 * 1024;

/// Serves one connection: answers each complete request head in the buffer
/// (pipelined ones too), closes after a request with `Connection: close`.
async fn serve(mut s: TcpStream) {
    let _ = s.set_nodelay(true);
    let mut buf = Vec::with_capacity(4096);
    let mut out = Vec::with_capacity(RESPONSE.len());
    loop {
        let mut close = false;
        let mut start = 0;
        while let Some(end) = head_end(&buf[start..]) {
            let head = &buf[start..start + end];
            start += end;
            if asks_close(head) {
                out.extend_from_slice(RESPONSE_CLOSE);
                close = true;
                break;
            }
            out.extend_from_slice(RESPONSE);
        }
        buf.drain(..start);
        if !out.is_empty() {
            if s.write_all(&out).await.is_err() {
                return;
            }
            out.clear();
        }
        if close || buf.len() > MAX_HEAD {
            return;
        }
        match s.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// The length of the request head at the start of `buf`, blank line
/// included, when it is complete. Requests have no body (wrk sends GETs).
fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

/// Whether a request head has a `Connection` header with `close`.
fn asks_close(head: &[u8]) -> bool {
    head.split(|&b| b == b'\n').any(|line| {
        let line = String::from_utf8_lossy(line).to_ascii_lowercase();
        line.strip_prefix("connection:")
            .is_some_and(|v| v.split(',').any(|t| t.trim() == "close"))
    })
}

/// Starts the origin server on `port`, on a runtime of its own that lives
/// as long as the returned value.
fn origin(port: u16) -> tokio::runtime::Runtime {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(ORIGIN_THREADS)
        .enable_all()
        .build()
        .expect("origin runtime");
    let listener = rt
        .block_on(TcpListener::bind(("127.0.0.1", port)))
        .expect("bind origin");
    rt.spawn(async move {
        loop {
            if let Ok((s, _)) = listener.accept().await {
                tokio::spawn(serve(s));
            }
        }
    });
    rt
}

fn proxy(binary: &Path, origin_port: u16) -> (ProxyProcess, u16) {
    let fe = free_port();
    let cfg = xtests::config_file(
        &format!("bench-http-{fe}"),
        &format!(
            "global\n    nbthread {PROXY_THREADS}\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\nlisten bench\n    bind 127.0.0.1:{fe}\n    server s1 127.0.0.1:{origin_port}\n"
        ),
    );
    let mut p = ProxyProcess::start(binary, &cfg);
    p.wait_bound(fe, Duration::from_secs(5));
    (p, fe)
}

/// What one wrk run measured. Latencies in microseconds.
#[derive(Debug, Clone, Copy)]
struct Measure {
    rps: f64,
    p50: f64,
    p90: f64,
    p99: f64,
    /// Socket errors plus non-2xx/3xx responses.
    errors: u64,
}

/// Runs wrk against `port` for `duration`, with `connections` and the
/// extra `headers`.
fn wrk(port: u16, connections: usize, duration: Duration, headers: &[&str]) -> Measure {
    let mut cmd = Command::new("wrk");
    cmd.arg(format!("-t{WRK_THREADS}"))
        .arg(format!("-c{connections}"))
        .arg(format!("-d{}s", duration.as_secs()))
        .arg("--latency");
    for h in headers {
        cmd.arg("-H").arg(h);
    }
    let out = cmd
        .arg(format!("http://127.0.0.1:{port}/"))
        .output()
        .expect("run wrk");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "wrk failed ({}):\n{text}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    parse_wrk(&text).unwrap_or_else(|| panic!("cannot read wrk's output:\n{text}"))
}

/// Reads `Requests/sec`, the 50/90/99% lines of the latency distribution,
/// and the error counts from wrk's report.
fn parse_wrk(text: &str) -> Option<Measure> {
    let mut rps = None;
    let (mut p50, mut p90, mut p99) = (None, None, None);
    let mut errors = 0;
    for line in text.lines().map(str::trim) {
        if let Some(v) = line.strip_prefix("Requests/sec:") {
            rps = v.trim().parse().ok();
        } else if let Some(v) = line.strip_prefix("Non-2xx or 3xx responses:") {
            errors += v.trim().parse::<u64>().ok()?;
        } else if let Some(v) = line.strip_prefix("Socket errors:") {
            // "connect 0, read 0, write 0, timeout 0"
            for part in v.split(',') {
                errors += part.split_whitespace().nth(1)?.parse::<u64>().ok()?;
            }
        } else if let Some((pct, value)) = line.split_once('%') {
            let slot = match pct {
                "50" => &mut p50,
                "90" => &mut p90,
                "99" => &mut p99,
                _ => continue,
            };
            *slot = parse_time(value.trim());
        }
    }
    Some(Measure {
        rps: rps?,
        p50: p50?,
        p90: p90?,
        p99: p99?,
        errors,
    })
}

/// A wrk time ("180.00us", "1.25ms", "2.00s", "1.00m") in microseconds.
fn parse_time(s: &str) -> Option<f64> {
    let split = s.find(|c: char| c.is_ascii_alphabetic())?;
    let (n, unit) = s.split_at(split);
    let scale = match unit {
        "us" => 1.0,
        "ms" => 1e3,
        "s" => 1e6,
        "m" => 60e6,
        "h" => 3600e6,
        _ => return None,
    };
    Some(n.parse::<f64>().ok()? * scale)
}

fn fmt_us(us: f64) -> String {
    if us >= 1e3 {
        format!("{:.2}ms", us / 1e3)
    } else {
        format!("{us:.0}us")
    }
}

fn print_ratio(label: &str, a: &Measure, b: &Measure) {
    println!(
        "  {:<14} {:>10.2} {:>10.2} {:>10.2} {:>10.2}",
        label,
        a.rps / b.rps,
        a.p50 / b.p50,
        a.p90 / b.p90,
        a.p99 / b.p99,
    );
}

fn main() {
    if Command::new("wrk").arg("-v").output().is_err() {
        println!("note: wrk is not installed (apt-get install wrk), skipping the HTTP bench");
        return;
    }

    let origin_port = free_port();
    let _origin = origin(origin_port);

    let mut targets: Vec<(&str, Option<ProxyProcess>, u16)> = vec![("direct", None, origin_port)];
    let (engine, engine_port) = proxy(&xtests::engine_bin!(), origin_port);
    targets.push(("engine", Some(engine), engine_port));
    // Another engine build to compare with in the same run (a change's
    // "before"): BENCH_BASELINE_ENGINE=/path/to/engine.
    if let Some(baseline) = std::env::var_os("BENCH_BASELINE_ENGINE") {
        let (b, port) = proxy(Path::new(&baseline), origin_port);
        targets.push(("baseline", Some(b), port));
    }
    if let Some(haproxy) = xtests::haproxy_bin() {
        let (h, port) = proxy(&haproxy, origin_port);
        targets.push(("haproxy 2.6", Some(h), port));
    }

    let scenarios: [(&str, usize, &[&str]); 2] = [
        ("keep-alive", KEEPALIVE_CONNS, &[]),
        ("connection: close", CLOSE_CONNS, &["Connection: close"]),
    ];
    println!(
        "wrk -t{WRK_THREADS} --latency, {}s warm-up then {}s per target; proxies nbthread {PROXY_THREADS}, origin {ORIGIN_THREADS} threads",
        WARMUP.as_secs(),
        RUN.as_secs()
    );
    println!("ratios: req/s higher is better for the engine, latency lower is better");
    for (scenario, conns, headers) in scenarios {
        println!();
        println!("{scenario} (-c{conns})");
        println!(
            "  {:<14} {:>10} {:>10} {:>10} {:>10} {:>8}",
            "target", "req/s", "p50", "p90", "p99", "errors"
        );
        let mut results: Vec<(&str, Measure)> = vec![];
        for (name, _process, port) in &targets {
            wrk(*port, conns, WARMUP, headers);
            let m = wrk(*port, conns, RUN, headers);
            println!(
                "  {:<14} {:>10.0} {:>10} {:>10} {:>10} {:>8}",
                name,
                m.rps,
                fmt_us(m.p50),
                fmt_us(m.p90),
                fmt_us(m.p99),
                m.errors
            );
            results.push((name, m));
        }
        let find = |n: &str| results.iter().find(|(name, _)| *name == n).map(|r| r.1);
        let engine = find("engine").expect("engine measured");
        if let Some(haproxy) = find("haproxy 2.6") {
            print_ratio("engine/haproxy", &engine, &haproxy);
        }
        print_ratio("engine/direct", &engine, &find("direct").expect("direct"));
        if let Some(baseline) = find("baseline") {
            print_ratio("engine/baseline", &engine, &baseline);
        }
    }
}
