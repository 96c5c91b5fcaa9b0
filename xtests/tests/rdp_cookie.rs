//! `balance rdp-cookie` with `tcp-request inspect-delay` and `tcp-request
//! content` rules, side by side with HAProxy 2.6: the same Remote Desktop
//! users land on the same servers, clients without the cookie go round
//! robin (at once when their first bytes are no cookie, after the inspect
//! delay when the cookie never completes), and a rejected client is closed
//! and logged `PR--` as HAProxy does.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use xtests::{free_port, NameServer, ProxyProcess};

/// What a failed comparison says.
const HAPROXY: &str = "the engine vs HAProxy 2.6";

/// An RDP connection request: the 11-byte TPKT and X.224 header, then
/// the cookie line.
fn rdp(user: &str) -> Vec<u8> {
    let mut v = b"\x03\x00\x00\x2c\x27\xe0\x00\x00\x00\x00\x00".to_vec();
    v.extend_from_slice(format!("Cookie: mstshash={user}\r\n").as_bytes());
    v.extend_from_slice(b"\x01\x00\x08\x00\x03\x00\x00\x00");
    v
}

/// Sends `first`, then reads the 2-byte name of the server that answers
/// (or what a closed connection gives).
fn exchange(port: u16, first: &[u8]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    s.write_all(first).unwrap();
    let mut name = [0u8; 2];
    match s.read_exact(&mut name) {
        Ok(()) => String::from_utf8_lossy(&name).into_owned(),
        Err(_) => "closed".into(),
    }
}

/// The log line's server, bytes read and termination state.
fn log_fields(line: &str) -> String {
    let words: Vec<&str> = line.split(' ').collect();
    format!("{} {} {}", words[3], words[5], words[6])
}

/// `n` servers `s1`, `s2`... that answer their name and hold the
/// connection, and their ports.
fn servers(n: usize) -> (Vec<u16>, Vec<NameServer>) {
    // Ports the system picks and holds.
    let running: Vec<NameServer> = (0..n)
        .map(|i| NameServer::start_holding(&format!("s{}", i + 1), 0))
        .collect();
    (running.iter().map(|s| s.port).collect(), running)
}

fn session(binary: &Path) -> Vec<String> {
    let (ports, _servers) = servers(4);
    let fe = free_port();
    let cfg = xtests::config_file(
        &format!("rdp-{fe}"),
        &format!(
            "global
    log stderr format raw local0 info

defaults
    mode tcp
    log global
    option tcplog
    timeout connect 1s
    timeout client 5s
    timeout server 5s

listen rdp
    bind 127.0.0.1:{fe}
    balance rdp-cookie
    tcp-request inspect-delay 400ms
    tcp-request content reject if {{ req.rdp_cookie(mstshash) -m str blocked }}
    tcp-request content accept if RDP_COOKIE
    server s1 127.0.0.1:{} weight 2
    server s2 127.0.0.1:{}
    server s3 127.0.0.1:{} weight 3
    server s4 127.0.0.1:{}
",
            ports[0], ports[1], ports[2], ports[3]
        ),
    );
    let mut proxy = ProxyProcess::start(binary, &cfg);
    proxy.wait_bound(fe, Duration::from_secs(5));
    let mut out = vec![];
    for user in [
        "alice", "bob", "carol", "alice", "dave", "bob", "eve", "alice",
    ] {
        out.push(format!("{user}: {}", exchange(fe, &rdp(user))));
    }
    // Not RDP: no cookie line after the header, round robin at once.
    for _ in 0..3 {
        out.push(format!(
            "no cookie: {}",
            exchange(fe, b"hello, this is not RDP\r\n")
        ));
    }
    // A cookie cut short: round robin once the inspect delay is over.
    let partial = &rdp("frank")[..20];
    out.push(format!("partial: {}", exchange(fe, partial)));
    out.push(format!("blocked: {}", exchange(fe, &rdp("blocked"))));
    out.push(format!("alice again: {}", exchange(fe, &rdp("alice"))));
    let expected_lines = out.len();
    xtests::wait_until(Duration::from_secs(5), "the log lines", || {
        proxy
            .stderr()
            .lines()
            .filter(|l| l.starts_with("127.0.0.1:"))
            .count()
            >= expected_lines
    });
    let mut logs: Vec<String> = proxy
        .stderr()
        .lines()
        .filter(|l| l.starts_with("127.0.0.1:"))
        .map(log_fields)
        .collect();
    // Lines are written as connections end: their order is not the point.
    logs.sort();
    out.extend(logs);
    out
}

#[test]
fn rdp_users_keep_their_server_as_with_haproxy() {
    let engine = &xtests::side_by_side(&xtests::proxies!(), HAPROXY, session);
    let server_of = |user: &str| {
        engine
            .iter()
            .filter(|l| l.starts_with(&format!("{user}: ")))
            .map(|l| l.split(": ").nth(1).unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let alice = server_of("alice");
    assert!(alice.iter().all(|s| s == &alice[0]), "{engine:#?}");
    assert!(engine.iter().any(|l| l == "blocked: closed"), "{engine:#?}");
}

/// The load-balancing cookie a connection broker hands out:
/// `msts=<addr>.<port>.0000`, both numbers the network-order bytes read
/// as a little-endian integer.
fn msts(port: u16) -> Vec<u8> {
    let addr = u32::from_le_bytes([127, 0, 0, 1]);
    let mut v = b"\x03\x00\x00\x2c\x27\xe0\x00\x00\x00\x00\x00".to_vec();
    v.extend_from_slice(format!("Cookie: msts={addr}.{}.0000\r\n", port.swap_bytes()).as_bytes());
    v
}

fn persist_session(binary: &Path) -> Vec<String> {
    let (ports, _servers) = servers(3);
    let fe = free_port();
    let socket = xtests::socket_path(&format!("rdp-persist-{fe}"));
    let cfg = xtests::config_file(
        &format!("rdp-persist-{fe}"),
        &format!(
            "global
    stats socket {}

defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s

listen rdp
    bind 127.0.0.1:{fe}
    balance rdp-cookie
    persist rdp-cookie
    tcp-request inspect-delay 400ms
    tcp-request content accept if RDP_COOKIE
    server s1 127.0.0.1:{}
    server s2 127.0.0.1:{}
    server s3 127.0.0.1:{}
",
            socket.display(),
            ports[0],
            ports[1],
            ports[2]
        ),
    );
    let mut proxy = ProxyProcess::start(binary, &cfg);
    proxy.wait_bound(fe, Duration::from_secs(5));
    let mut out = vec![];
    let mut ask = |label: &str, first: &[u8]| out.push(format!("{label}: {}", exchange(fe, first)));
    for _ in 0..3 {
        ask("to s2", &msts(ports[1]));
    }
    ask("to s3", &msts(ports[2]));
    ask("to nobody", &msts(free_port()));
    ask("alice", &rdp("alice"));
    xtests::api(&socket, "disable server rdp/s2");
    ask("to s2 in maintenance", &msts(ports[1]));
    ask("to s2 in maintenance", &msts(ports[1]));
    xtests::api(&socket, "enable server rdp/s2");
    ask("to s2 back", &msts(ports[1]));
    out
}

#[test]
fn the_msts_cookie_sends_a_client_back_to_its_server_as_with_haproxy() {
    let engine = &xtests::side_by_side(&xtests::proxies!(), HAPROXY, persist_session);
    assert_eq!(
        &engine[..4],
        ["to s2: s2", "to s2: s2", "to s2: s2", "to s3: s3"],
        "{engine:#?}"
    );
    assert!(engine.iter().any(|l| l == "to s2 back: s2"), "{engine:#?}");
}
