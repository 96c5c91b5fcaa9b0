//! `disable health` and `enable health` on the runtime API, side by side
//! with HAProxy 2.6: checks stop and the last state stays (a DOWN server
//! stays DOWN, an UP one shows `no check`, the check columns go blank),
//! then resume with the counters kept.

use std::path::Path;
use std::time::Duration;

use xtests::{free_port, NameServer, ProxyProcess};

/// status, check_status, chkfail, check_health of servers `dead` and
/// `alive`, as `show stat` has them.
fn columns(socket: &Path) -> Vec<Vec<String>> {
    let cols = ["status", "check_status", "chkfail", "check_health"];
    xtests::stat_columns(socket, &cols)
        .into_iter()
        .filter(|((px, _), _)| px == "b")
        .filter(|((_, sv), _)| sv == "dead" || sv == "alive")
        .map(|((_, sv), row)| std::iter::once(sv).chain(row).collect())
        .collect()
}

fn session(binary: &Path) -> Vec<Vec<Vec<String>>> {
    let alive = NameServer::start("al", 0);
    let fe = free_port();
    let socket = xtests::socket_path(&format!("health-{fe}"));
    let cfg = xtests::config_file(
        &format!("health-{fe}"),
        &format!(
            "global
    stats socket {sock} level admin

defaults
    mode tcp
    timeout connect 1s
    timeout client 1s
    timeout server 1s

listen b
    bind 127.0.0.1:{fe}
    server dead 127.0.0.1:{dead} check inter 100 rise 1 fall 1
    server alive 127.0.0.1:{port} check inter 100 rise 1 fall 1
",
            sock = socket.display(),
            dead = free_port(),
            port = alive.port,
        ),
    );
    let proxy = ProxyProcess::start(binary, &cfg);
    proxy.wait_for("Server b/dead is DOWN", Duration::from_secs(5));
    xtests::wait_until(Duration::from_secs(5), "alive checked", || {
        columns(&socket)
            .iter()
            .any(|r| r[0] == "alive" && r[2] == "L4OK")
    });
    let before = columns(&socket);
    let mut answers = vec![];
    for c in [
        "disable health b/dead",
        "disable health b/alive",
        "disable health b/nope",
        "disable health",
    ] {
        answers.push(xtests::api(&socket, c));
    }
    let disabled = columns(&socket);
    for c in ["enable health b/dead", "enable health b/alive"] {
        answers.push(xtests::api(&socket, c));
    }
    // Checks resume: both servers checked again.
    xtests::wait_until(Duration::from_secs(5), "checks back", || {
        columns(&socket).iter().all(|r| !r[2].is_empty())
    });
    let enabled = columns(&socket);
    vec![before, disabled, enabled, vec![answers]]
}

#[test]
fn disable_and_enable_health_match_haproxy() {
    let ours = session(&xtests::engine_bin!());
    // Rows in name order: alive, dead.
    assert_eq!(
        ours[1][0][..2],
        ["alive".to_string(), "no check".to_string()]
    );
    assert_eq!(ours[1][1][..2], ["dead".to_string(), "DOWN".to_string()]);
    let Some(haproxy) = xtests::haproxy_bin() else {
        return;
    };
    let theirs = session(&haproxy);
    assert_eq!(ours, theirs);
}
