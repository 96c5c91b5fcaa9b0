//! TCP proxying cost, measured three ways in one run: a direct connection
//! to the server, through the engine, through HAProxy 2.6 (when installed).
//! Prints wall times and the ratios to the direct connection.
//!
//! Two workloads, each bounded in count: connection rate (connect, read a
//! short answer, close) and bulk throughput (one stream of BULK_BYTES).
//! Run with `cargo bench -p xtests`; with BENCH_BASELINE_ENGINE naming
//! another engine binary, that build is measured too (`baseline`).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use xtests::{free_port, ProxyProcess};

const CONNECTIONS: usize = 3_000;
const BULK_BYTES: usize = 1 << 30;
const CHUNK: usize = 64 * 1024;
const ROUNDS: usize = 3;

/// Serves forever on `port`: a connection whose first byte is `b` gets
/// BULK_BYTES, any other gets a two-byte answer.
fn server(port: u16) {
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            thread::spawn(move || {
                let mut first = [0u8; 1];
                if s.read_exact(&mut first).is_err() {
                    return;
                }
                if first[0] == b'b' {
                    let chunk = vec![0u8; CHUNK];
                    for _ in 0..BULK_BYTES / CHUNK {
                        if s.write_all(&chunk).is_err() {
                            return;
                        }
                    }
                } else {
                    let _ = s.write_all(b"ok");
                }
            });
        }
    });
}

fn connection_rate(port: u16) -> Duration {
    let start = Instant::now();
    for _ in 0..CONNECTIONS {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.write_all(b"c").unwrap();
        let mut answer = Vec::new();
        s.read_to_end(&mut answer).unwrap();
        assert_eq!(answer, b"ok");
    }
    start.elapsed()
}

fn bulk(port: u16) -> Duration {
    let start = Instant::now();
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"b").unwrap();
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0;
    loop {
        let n = s.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        total += n;
    }
    assert_eq!(total, BULK_BYTES);
    start.elapsed()
}

fn proxy(binary: &Path, server_port: u16) -> (ProxyProcess, u16) {
    let fe = free_port();
    let cfg = xtests::config_file(&format!("bench-{fe}"),
        &format!(
            "global\n    maxconn 4000\ndefaults\n    mode tcp\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\nlisten bench\n    bind 127.0.0.1:{fe}\n    server s1 127.0.0.1:{server_port}\n"
        ));
    let mut p = ProxyProcess::start(binary, &cfg);
    p.wait_listening(fe, Duration::from_secs(5));
    (p, fe)
}

fn main() {
    let server_port = free_port();
    server(server_port);

    let mut targets: Vec<(&str, Option<ProxyProcess>, u16)> = vec![("direct", None, server_port)];
    let (engine, engine_port) = proxy(&xtests::engine_bin!(), server_port);
    targets.push(("engine", Some(engine), engine_port));
    // Another engine build to compare with in the same run (a change's
    // "before"): BENCH_BASELINE_ENGINE=/path/to/engine.
    if let Some(baseline) = std::env::var_os("BENCH_BASELINE_ENGINE") {
        let (b, port) = proxy(Path::new(&baseline), server_port);
        targets.push(("baseline", Some(b), port));
    }
    if let Some(haproxy) = xtests::haproxy_bin() {
        let (h, port) = proxy(&haproxy, server_port);
        targets.push(("haproxy 2.6", Some(h), port));
    }

    println!("best of {ROUNDS} rounds, each round over every target in turn; ratio = time / direct time (lower is better)");
    // Rounds go over the targets in turn rather than one target's rounds
    // in a row: whatever drifts during a run (a warming machine, sockets
    // in TIME_WAIT) then weighs on every target alike.
    let mut best = vec![(Duration::MAX, Duration::MAX); targets.len()];
    for _ in 0..ROUNDS {
        for ((_, _process, port), best) in targets.iter().zip(best.iter_mut()) {
            best.0 = best.0.min(connection_rate(*port));
            best.1 = best.1.min(bulk(*port));
        }
    }
    println!(
        "{:<12} {:>16} {:>8} {:>16} {:>8}",
        "target", "conn rate", "ratio", "bulk MiB/s", "ratio"
    );
    let (d_conns, d_bulk) = best[0];
    for ((name, _, _), (conns, bulk_time)) in targets.iter().zip(&best) {
        println!(
            "{:<12} {:>12.0} c/s {:>8.2} {:>16.0} {:>8.2}",
            name,
            CONNECTIONS as f64 / conns.as_secs_f64(),
            conns.as_secs_f64() / d_conns.as_secs_f64(),
            BULK_BYTES as f64 / (1 << 20) as f64 / bulk_time.as_secs_f64(),
            bulk_time.as_secs_f64() / d_bulk.as_secs_f64(),
        );
    }
}
