//! TCP timeouts, side by side with HAProxy 2.6 over real sockets: a silent
//! client is half-closed after `timeout client` (its server gets a FIN and
//! may still answer), and an idle connection closes when the longer of the
//! two timeouts has run out.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use xtests::{free_port, ProxyProcess};

/// How far a measured timeout may drift from the configured one on a
/// loaded machine (both proxies are held to the same bound).
const TOLERANCE: Duration = Duration::from_millis(350);

fn start_proxy(
    binary: &Path,
    client_ms: u64,
    server_ms: u64,
    server_port: u16,
) -> (ProxyProcess, u16) {
    let fe = free_port();
    let cfg = xtests::config_file(&format!("timeouts-{fe}"),
        &format!(
            "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client {client_ms}ms\n    timeout server {server_ms}ms\nlisten t\n    bind 127.0.0.1:{fe}\n    server s1 127.0.0.1:{server_port}\n"
        ));
    let mut p = ProxyProcess::start(binary, &cfg);
    p.wait_listening(fe, Duration::from_secs(5));
    (p, fe)
}

/// A server for one connection that reports when the FIN arrived, then
/// answers `late` and closes.
fn fin_reporting_server(late: &'static [u8]) -> (u16, mpsc::Receiver<Instant>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        // The first connection is wait_listening's probe of the proxy
        // (HAProxy and the engine both forward it); skip short ones.
        for stream in listener.incoming() {
            let mut s = stream.unwrap();
            let mut sink = Vec::new();
            let _ = s.read_to_end(&mut sink);
            let _ = tx.send(Instant::now());
            let _ = s.write_all(late);
        }
    });
    (port, rx)
}

fn silent_client_gets_half_closed(binary: &Path) {
    let (server_port, fins) = fin_reporting_server(b"late");
    let (_proxy, fe) = start_proxy(binary, 1_000, 10_000, server_port);
    let _probe_fin = fins
        .recv_timeout(Duration::from_secs(5))
        .expect("the probe's FIN");
    let connected = Instant::now();
    let mut client = TcpStream::connect(("127.0.0.1", fe)).unwrap();
    let fin = fins
        .recv_timeout(Duration::from_secs(5))
        .expect("the server got a FIN");
    let after = fin - connected;
    assert!(
        after >= Duration::from_millis(1_000) - TOLERANCE
            && after <= Duration::from_millis(1_000) + TOLERANCE,
        "{}: FIN after {after:?}",
        binary.display()
    );
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut answer = Vec::new();
    client.read_to_end(&mut answer).unwrap();
    assert_eq!(
        answer,
        b"late",
        "{}: the server still answered",
        binary.display()
    );
}

fn idle_closes_at_the_longer_timeout(binary: &Path) {
    // A server that holds connections open and says nothing.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server_port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        let mut held = vec![];
        for s in listener.incoming() {
            held.push(s);
        }
    });
    let (_proxy, fe) = start_proxy(binary, 1_000, 2_000, server_port);
    let start = Instant::now();
    let mut client = TcpStream::connect(("127.0.0.1", fe)).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut rest = Vec::new();
    let _ = client.read_to_end(&mut rest);
    let closed = start.elapsed();
    assert!(
        closed >= Duration::from_millis(2_000) - TOLERANCE
            && closed <= Duration::from_millis(2_000) + TOLERANCE,
        "{}: closed after {closed:?}",
        binary.display()
    );
}

#[test]
fn a_silent_client_is_half_closed_after_timeout_client() {
    for bin in xtests::proxies!() {
        silent_client_gets_half_closed(&bin);
    }
}

#[test]
fn an_idle_connection_closes_at_the_longer_timeout() {
    for bin in xtests::proxies!() {
        idle_closes_at_the_longer_timeout(&bin);
    }
}
