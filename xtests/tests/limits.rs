//! maxconn at its three levels (global, frontend, server), over real
//! sockets, for the engine and for HAProxy 2.6: while one client holds the
//! only slot, a second one gets nothing; when the first leaves, the second
//! is served.

use std::path::Path;
use std::time::Duration;

use xtests::{free_port, hold, NameServer, ProxyProcess};

/// How long the second client waits to conclude it is being held back.
const HELD_BACK: Duration = Duration::from_millis(400);

fn config(global: &str, frontend: &str, server: &str, fe: u16, port: u16) -> String {
    format!(
        "global
{global}
defaults
    mode tcp
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    timeout queue 10s

listen app
    bind 127.0.0.1:{fe}
{frontend}
    server s1 127.0.0.1:{port} {server}
"
    )
}

fn one_slot(binary: &Path, global: &str, frontend: &str, server: &str) {
    let backend = NameServer::start_holding("s1", 0);
    let fe = free_port();
    let cfg = xtests::config_file(
        &format!("limits-{fe}"),
        &config(global, frontend, server, fe, backend.port),
    );
    let mut proxy = ProxyProcess::start(binary, &cfg);
    proxy.wait_listening(fe, Duration::from_secs(5));

    let (first, got) = hold(fe, 2, Duration::from_secs(5));
    assert_eq!(got.as_deref(), Some("s1"));
    let (second, got) = hold(fe, 2, HELD_BACK);
    assert_eq!(got, None, "a second client got through a limit of one");
    drop(first);
    second
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 2];
    std::io::Read::read_exact(&mut &second, &mut buf).expect("served once the slot frees");
    assert_eq!(&buf, b"s1");
}

#[test]
fn server_maxconn_queues_the_next_connection() {
    for bin in xtests::proxies!() {
        one_slot(&bin, "", "", "maxconn 1");
    }
}

#[test]
fn frontend_maxconn_stops_accepting() {
    for bin in xtests::proxies!() {
        one_slot(&bin, "", "    maxconn 1", "");
    }
}

#[test]
fn global_maxconn_stops_accepting() {
    for bin in xtests::proxies!() {
        one_slot(&bin, "    maxconn 1", "", "");
    }
}
