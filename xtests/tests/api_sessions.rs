//! `show sess` on the runtime API, side by side with HAProxy 2.6: one line
//! per live stream, the API's own included, with the same protocol,
//! client, frontend, backend and server. HAProxy's line goes on with its
//! scheduler's internals, which the engine does not have: the comparison
//! stops at the stream's age.

use std::path::Path;
use std::time::Duration;

use xtests::{free_port, NameServer, ProxyProcess};

/// The lines, with what differs from run to run masked, sorted.
fn sessions(binary: &Path) -> Vec<String> {
    let server = NameServer::start("s1", 0);
    let fe = free_port();
    let socket = xtests::socket_path(&format!("sess-{fe}"));
    let cfg = xtests::config_file(
        &format!("sess-{fe}"),
        &format!(
            "global\n    stats socket {sock} level admin\n\ndefaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\nlisten app\n    bind 127.0.0.1:{fe}\n    server s1 127.0.0.1:{port}\n",
            sock = socket.display(),
            port = server.port,
        ),
    );
    let mut proxy = ProxyProcess::start(binary, &cfg);
    proxy.wait_bound(fe, Duration::from_secs(5));
    // The name server answers and closes; the client holds its side open
    // after reading, so the stream lives on, half-closed.
    let (held, got) = xtests::hold(fe, 2, Duration::from_secs(5));
    assert_eq!(got.as_deref(), Some("s1"));
    let mut lines: Vec<String> = xtests::api(&socket, "show sess")
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let l = &l[l.find(':').map_or(0, |i| i + 1)..];
            let l = &l[..l.find(" age=").unwrap_or(l.len())];
            // The client's port.
            match l.find("src=127.0.0.1:") {
                Some(i) => {
                    let at = i + "src=127.0.0.1:".len();
                    let end = l[at..].find(' ').map_or(l.len(), |j| at + j);
                    format!("{}PORT{}", &l[..at], &l[end..])
                }
                None => l.to_string(),
            }
        })
        .collect();
    lines.sort();
    drop(held);
    lines
}

#[test]
fn show_sess_lists_live_streams_as_haproxy() {
    let ours = sessions(&xtests::engine_bin!());
    assert_eq!(
        ours,
        [
            " proto=tcpv4 src=127.0.0.1:PORT fe=app be=app srv=s1 ts=00 epoch=0",
            " proto=unix_stream src=unix:1 fe=GLOBAL be=<NONE> srv=<none> ts=00 epoch=0",
        ]
    );
    if let Some(haproxy) = xtests::haproxy_bin() {
        assert_eq!(ours, sessions(&haproxy));
    }
}
