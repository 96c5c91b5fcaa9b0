//! `on-marked-down shutdown-sessions` and `on-marked-up
//! shutdown-backup-sessions` side by side with HAProxy 2.6: a server whose
//! check fails (its check port closes while its traffic port still holds
//! a client) cuts that client, and the active server coming back cuts the
//! backup's client; both proxies log the same termination states.

use std::io::Read;
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use xtests::http::{Action, ScriptedServer};
use xtests::syslog::Collector;
use xtests::{free_port, NameServer, ProxyProcess};

/// What a client held through the proxy saw: the server that answered,
/// and whether the proxy closed the connection (rather than our timeout).
fn hold(fe: u16) -> (TcpStream, String) {
    let mut c = TcpStream::connect(("127.0.0.1", fe)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // A byte, so that `option dontlognull` logs it.
    std::io::Write::write_all(&mut c, b"x").unwrap();
    let mut name = [0u8; 2];
    c.read_exact(&mut name).unwrap();
    (c, String::from_utf8_lossy(&name).into_owned())
}

/// Reads until the proxy closes; false if it did not within the timeout.
fn closed_by_proxy(mut c: TcpStream) -> bool {
    let mut rest = Vec::new();
    c.read_to_end(&mut rest).is_ok()
}

#[derive(Debug, PartialEq)]
struct Outcome {
    /// Server, then whether the proxy cut it, for each held client.
    clients: Vec<(String, bool)>,
    /// `backend/server termination` of each tcplog line, in order (the
    /// state-change lines may come before or after: HAProxy's order
    /// varies).
    logged: Vec<String>,
    messages: Vec<String>,
}

fn session(binary: &Path) -> Outcome {
    let log = Collector::start();
    // Ports the system picks and holds.
    let s1 = NameServer::start_holding("s1", 0);
    let check1 = NameServer::start("c1", 0);
    let s2 = NameServer::start_holding("s2", 0);
    let (p1, c1, p2) = (s1.port, check1.port, s2.port);
    let fe = free_port();
    let cfg = xtests::config_file(
        &format!("shutdown-{fe}"),
        &format!(
            "global
    log 127.0.0.1:{syslog} local0

defaults
    mode tcp
    log global
    option tcplog
    option dontlognull
    timeout connect 1s
    timeout client 10s
    timeout server 10s

listen app
    bind 127.0.0.1:{fe}
    server s1 127.0.0.1:{p1} check port {c1} inter 100 rise 1 fall 1 on-marked-down shutdown-sessions on-marked-up shutdown-backup-sessions
    server s2 127.0.0.1:{p2} check inter 100 rise 1 fall 1 backup
",
            syslog = log.port
        ),
    );
    let mut proxy = ProxyProcess::start(binary, &cfg);
    proxy.wait_listening(fe, Duration::from_secs(5));
    let patience = Duration::from_secs(5);

    // s1 takes the client; its check port closes: DOWN cuts the client.
    let (a, on_a) = hold(fe);
    check1.stop();
    proxy.wait_for("Server app/s1 is DOWN", patience);
    let a_cut = closed_by_proxy(a);

    // The backup takes the next client; s1 back UP cuts it.
    let (b, on_b) = hold(fe);
    let _check1 = NameServer::start("c1", c1);
    proxy.wait_for("Server app/s1 is UP", patience);
    let b_cut = closed_by_proxy(b);
    log.wait_for(" app/s2 ");

    let logged = log
        .all()
        .iter()
        .filter(|l| !l.contains("Server app/"))
        .filter_map(|l| {
            // `... app app/s1 1/0/1234 2 DD 2/2/1/1/0 0/0`
            let words: Vec<&str> = l.split(' ').collect();
            let at = words.iter().position(|w| w.starts_with("app/"))?;
            Some(format!("{} {}", words[at], words.get(at + 3)?))
        })
        .collect();
    Outcome {
        clients: vec![(on_a, a_cut), (on_b, b_cut)],
        logged,
        // Whether the cut streams still count when the DOWN line is written
        // is a race in HAProxy too.
        messages: xtests::state_changes(&proxy.stderr(), &["Server app/"])
            .into_iter()
            .map(xtests::mask_sessions_active)
            .collect(),
    }
}

#[test]
fn cut_sessions_match_haproxy_side_by_side() {
    let what = "who answered, who was cut, termination states, state changes";
    let ours = xtests::side_by_side(&xtests::proxies!(), what, session);
    assert_eq!(
        ours.clients,
        [("s1".to_string(), true), ("s2".to_string(), true)]
    );
}

/// In HTTP mode: a request waiting for its response when the server goes
/// DOWN. Returns what the client got and the termination state logged.
fn http_session(binary: &Path) -> (String, Vec<String>) {
    let log = Collector::start();
    let s1 = ScriptedServer::start(|_| Action::Hang);
    let check1 = NameServer::start("c1", 0);
    let (p1, c1) = (s1.port, check1.port);
    let fe = free_port();
    let cfg = xtests::config_file(
        &format!("shutdown-http-{fe}"),
        &format!(
            "global
    log 127.0.0.1:{syslog} local0

defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 10s
    timeout server 10s

listen web
    bind 127.0.0.1:{fe}
    server s1 127.0.0.1:{p1} check port {c1} inter 100 rise 1 fall 1 on-marked-down shutdown-sessions
",
            syslog = log.port
        ),
    );
    let mut proxy = ProxyProcess::start(binary, &cfg);
    proxy.wait_listening(fe, Duration::from_secs(5));
    let mut c = TcpStream::connect(("127.0.0.1", fe)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    std::io::Write::write_all(
        &mut c,
        b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .unwrap();
    // The server holds the request without answering.
    xtests::wait_until(Duration::from_secs(5), "the request at the server", || {
        s1.requests().len() == 1
    });
    check1.stop();
    proxy.wait_for("Server web/s1 is DOWN", Duration::from_secs(5));
    let mut got = Vec::new();
    let _ = c.read_to_end(&mut got);
    log.wait_for("\"GET / HTTP/1.1\"");
    let got = String::from_utf8_lossy(&got);
    let status_line = got.lines().next().unwrap_or("").to_string();
    let logged = log
        .all()
        .iter()
        .filter(|l| l.contains("\"GET / HTTP/1.1\""))
        .filter_map(|l| {
            // `... web web/s1 0/0/0/-1/123 502 ... - - DH-- ...`
            let words: Vec<&str> = l.split(' ').collect();
            let at = words.iter().position(|w| w.starts_with("web/"))?;
            Some(format!(
                "{} {} {}",
                words[at],
                words.get(at + 2)?,
                words.get(at + 6)?
            ))
        })
        .collect();
    (status_line, logged)
}

#[test]
fn a_cut_http_request_matches_haproxy() {
    xtests::side_by_side(
        &xtests::proxies!(),
        "the client's status line, the log's status and termination",
        http_session,
    );
}

/// The runtime API's `shutdown sessions server`: what the held client and
/// the API saw, and the termination state logged.
fn api_session(binary: &Path) -> (bool, Vec<String>, Vec<String>) {
    let log = Collector::start();
    let s1 = NameServer::start_holding("s1", 0);
    let p1 = s1.port;
    let fe = free_port();
    let socket = xtests::socket_path(&format!("shutdown-api-{fe}"));
    let cfg = xtests::config_file(
        &format!("shutdown-api-{fe}"),
        &format!(
            "global
    log 127.0.0.1:{syslog} local0
    stats socket {sock} level admin

defaults
    mode tcp
    log global
    option tcplog
    option dontlognull
    timeout connect 1s
    timeout client 10s
    timeout server 10s

listen app
    bind 127.0.0.1:{fe}
    server s1 127.0.0.1:{p1}
",
            syslog = log.port,
            sock = socket.display(),
        ),
    );
    let mut proxy = ProxyProcess::start(binary, &cfg);
    proxy.wait_listening(fe, Duration::from_secs(5));
    let (held, _) = hold(fe);
    let answers = [
        "shutdown sessions server app/s1",
        "shutdown sessions server app/nope",
        "shutdown sessions server",
    ]
    .iter()
    .map(|c| xtests::api(&socket, c))
    .collect();
    let cut = closed_by_proxy(held);
    log.wait_for(" app/s1 ");
    let logged = log
        .all()
        .iter()
        .filter_map(|l| {
            let words: Vec<&str> = l.split(' ').collect();
            let at = words.iter().position(|w| w.starts_with("app/"))?;
            Some(format!("{} {}", words[at], words.get(at + 3)?))
        })
        .collect();
    (cut, answers, logged)
}

#[test]
fn shutdown_sessions_on_the_runtime_api_matches_haproxy() {
    let ours = xtests::side_by_side(
        &xtests::proxies!(),
        "cut, API answers, termination state",
        api_session,
    );
    assert!(ours.0, "the held client is cut");
}
