//! `on-marked-down shutdown-sessions` and `on-marked-up
//! shutdown-backup-sessions` side by side with HAProxy 2.6: a server whose
//! check fails (its check port closes while its traffic port still holds
//! a client) cuts that client, and the active server coming back cuts the
//! backup's client; both proxies log the same termination states.

use std::io::Read;
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

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
    let (p1, c1, p2) = (free_port(), free_port(), free_port());
    let _s1 = NameServer::start_holding("s1", p1);
    let check1 = NameServer::start("c1", c1);
    let _s2 = NameServer::start_holding("s2", p2);
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
        messages: xtests::state_changes(&proxy.stderr(), &["Server app/"]),
    }
}

#[test]
fn cut_sessions_match_haproxy_side_by_side() {
    let ours = session(&xtests::engine_bin!());
    assert_eq!(
        ours.clients,
        [("s1".to_string(), true), ("s2".to_string(), true)]
    );
    let Some(haproxy) = xtests::haproxy_bin() else {
        return;
    };
    let theirs = session(&haproxy);
    assert_eq!(ours.clients, theirs.clients, "who answered, who was cut");
    assert_eq!(ours.logged, theirs.logged, "termination states");
    assert_eq!(ours.messages, theirs.messages, "state changes");
}
