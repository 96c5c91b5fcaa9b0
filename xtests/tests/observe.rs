//! Passive health checks side by side with HAProxy 2.6: `observe layer4`
//! counts failed connections and `observe layer7` bad responses; after
//! `error-limit` errors in a row, `on-error mark-down`, `fail-check` and
//! `sudden-death` move the health counter as HAProxy does, with its
//! "Health analyze" message, and the active checks (which pass) bring the
//! server back.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use xtests::http::{Action, ScriptedServer};
use xtests::{free_port, NameServer, ProxyProcess};

/// One client through `port`: it sends a request and reads what comes.
fn client(port: u16) {
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = c.write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    let mut sink = Vec::new();
    let _ = c.read_to_end(&mut sink);
}

#[derive(Debug, PartialEq)]
struct Outcome {
    messages: Vec<String>,
    /// check_status, last_chk, hanafail of each server.
    stats: Vec<Vec<String>>,
}

fn session(binary: &Path) -> Outcome {
    // Traffic ports refuse (nothing listens) while check ports accept.
    let checks: Vec<NameServer> = (0..4)
        .map(|i| NameServer::start(&format!("c{i}"), 0))
        .collect();
    let dead = [free_port(), free_port(), free_port()];
    let broken = ScriptedServer::start(|_| {
        Action::SendClose(b"HTTP/1.1 500 Oops\r\ncontent-length: 0\r\n\r\n".to_vec())
    });
    let fe: Vec<u16> = (0..4).map(|_| free_port()).collect();
    let socket = xtests::socket_path(&format!("observe-{}", fe[0]));
    let server = |i: usize, port: u16, rest: &str| {
        format!(
            "    server s 127.0.0.1:{port} check port {} inter 10000 rise 1 {rest}\n",
            checks[i].port
        )
    };
    let cfg = format!(
        "global
    stats socket {socket} level admin
    max-spread-checks 200

defaults
    mode tcp
    retries 0
    timeout connect 1s
    timeout client 5s
    timeout server 5s

listen markdown
    bind 127.0.0.1:{f0}
{s0}
listen failcheck
    bind 127.0.0.1:{f1}
{s1}
listen suddendeath
    bind 127.0.0.1:{f2}
{s2}
listen layer7
    mode http
    bind 127.0.0.1:{f3}
{s3}",
        socket = socket.display(),
        f0 = fe[0],
        f1 = fe[1],
        f2 = fe[2],
        f3 = fe[3],
        s0 = server(
            0,
            dead[0],
            "fastinter 100 fall 2 observe layer4 error-limit 3 on-error mark-down"
        ),
        s1 = server(
            1,
            dead[1],
            "fall 2 observe layer4 error-limit 2 on-error fail-check"
        ),
        s2 = server(
            2,
            dead[2],
            "fall 3 observe layer4 error-limit 2 on-error sudden-death"
        ),
        s3 = server(
            3,
            broken.port,
            "fall 2 observe layer7 error-limit 2 on-error mark-down"
        ),
    );
    let cfg = xtests::config_file(&format!("observe-{}", fe[0]), &cfg);
    let mut proxy = ProxyProcess::start(binary, &cfg);
    for &p in &fe {
        proxy.wait_listening(p, Duration::from_secs(5));
    }
    // Every server fully UP by its checks first (they all pass).
    xtests::wait_until(Duration::from_secs(5), "checks passed", || {
        xtests::stat_columns(&socket, &["check_status"])
            .values()
            .filter(|row| row[0] == "L4OK")
            .count()
            == 4
    });
    let patience = Duration::from_secs(5);
    let burst = |port: u16, n: usize| (0..n).for_each(|_| client(port));

    // A passing check forgets the errors seen before: the long `inter`
    // keeps checks out of the bursts below (`max-spread-checks` brings the
    // first ones within 200ms).
    // mark-down: 3 errors, DOWN at once; the next check, brought within
    // `fastinter`, brings it back.
    burst(fe[0], 3);
    proxy.wait_for("Server markdown/s is DOWN", patience);
    proxy.wait_for("Server markdown/s is UP", patience);
    // fail-check: each 2 errors are one failed check; fall 2 needs two.
    burst(fe[1], 4);
    proxy.wait_for("Server failcheck/s is DOWN", patience);
    // sudden-death: 2 errors leave it one failure from DOWN, 2 more end it.
    burst(fe[2], 4);
    proxy.wait_for("Server suddendeath/s is DOWN", patience);
    // layer7: two 500s in a row.
    burst(fe[3], 2);
    proxy.wait_for("Server layer7/s is DOWN", patience);

    let stats = xtests::stat_columns(&socket, &["hanafail"])
        .into_iter()
        .filter(|((_, sv), _)| sv == "s")
        .map(|((px, _), row)| std::iter::once(px).chain(row).collect())
        .collect();
    // The count of sessions active in a "Health analyze" line is taken at
    // a moment that differs: HAProxy at its next sync point, the engine
    // when the check task acts (see the book); it is masked.
    let mut messages: Vec<String> = xtests::state_changes(&proxy.stderr(), &["is DOWN"])
        .into_iter()
        .map(xtests::mask_sessions_active)
        .collect();
    messages.sort();
    Outcome { messages, stats }
}

#[test]
fn passive_checks_match_haproxy_side_by_side() {
    let what = "state changes and hanafail";
    let ours = xtests::side_by_side(&xtests::proxies!(), what, session);
    assert!(
        ours.messages.iter().any(|m| m.contains(
            "reason: Health analyze, info: \"Detected 3 consecutive errors, last one was: L4 unsuccessful connection\". 0 active"
        )),
        "{:#?}",
        ours.messages
    );
}
