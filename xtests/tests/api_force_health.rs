//! `set server <b>/<s> health up|stopping|down` on the runtime API, side
//! by side with HAProxy 2.6: the replies, the messages each change prints
//! (nothing when the server is already so), and the states `show stat`
//! shows after each command.

use std::path::Path;
use std::time::Duration;

use xtests::{free_port, NameServer, ProxyProcess};

fn session(binary: &Path) -> (Vec<String>, Vec<String>) {
    let alive = NameServer::start("al", 0);
    let fe = free_port();
    let socket = xtests::socket_path(&format!("force-{fe}"));
    let cfg = xtests::config_file(
        &format!("force-{fe}"),
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
    server s1 127.0.0.1:{port} check inter 60s
    server s2 127.0.0.1:{port}
    server s3 127.0.0.1:{port} check inter 60s backup
",
            sock = socket.display(),
            port = alive.port,
        ),
    );
    let mut proxy = ProxyProcess::start(binary, &cfg);
    proxy.wait_bound(fe, Duration::from_secs(5));
    // s1's first check runs at once (s3's half an `inter` later): passing
    // after a forced DOWN, it would start the climb back up, in HAProxy as
    // here. The commands wait for it.
    xtests::wait_until(Duration::from_secs(5), "s1's first check", || {
        xtests::stat_columns(&socket, &["check_status"])
            .get(&("b".to_string(), "s1".to_string()))
            .is_some_and(|r| r[0] == "L4OK")
    });
    let status = |socket: &Path| -> String {
        xtests::stat_columns(socket, &["status"])
            .into_iter()
            .filter(|((px, sv), _)| px == "b" && sv != "FRONTEND")
            .map(|((_, sv), row)| format!("{sv}={}", row[0]))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut answers = vec![];
    for c in [
        "set server b/s1 health down",
        "set server b/s1 health down",
        "set server b/s1 health stopping",
        "set server b/s1 health up",
        "set server b/s2 health down",
        "set server b/s3 health bogus",
        "set server b/s3 health stopping",
        "set server b/s1 health down",
        "set server b/nope health up",
        "set server b/s3 health",
    ] {
        answers.push(format!("{c}: {:?}", xtests::api(&socket, c)));
        answers.push(status(&socket));
    }
    // The last change leaves no server: its alert is the last message.
    proxy.wait_for("has no server available", Duration::from_secs(5));
    let messages = xtests::state_changes(&proxy.stderr(), &["Server b/", "no server"]);
    (answers, messages)
}

#[test]
fn forced_health_changes_as_haproxys() {
    let (answers, messages) = session(&xtests::engine_bin!());
    assert!(answers[1].contains("s1=DOWN s2=no check"), "{answers:#?}");
    assert!(
        messages[0]
            .contains("Server b/s1 is DOWN, changed from CLI. 1 active and 1 backup servers left."),
        "{messages:#?}"
    );
    let Some(haproxy) = xtests::haproxy_bin() else {
        return;
    };
    let (their_answers, their_messages) = session(&haproxy);
    assert_eq!(answers, their_answers);
    assert_eq!(messages, their_messages);
}
