//! Streams queued on a server that goes DOWN, side by side with HAProxy
//! 2.6: with `option redispatch` they go back to the balancer ("2
//! requeued") and reach the other server; without it they stay in the
//! dead server's queue ("2 remaining in queue").

use std::io::Read;
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use xtests::{free_port, NameServer, ProxyProcess};

/// A client through the proxy that holds its connection; its server's
/// name once it has one.
fn connect(fe: u16) -> TcpStream {
    let c = TcpStream::connect(("127.0.0.1", fe)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    std::io::Write::write_all(&mut &c, b"x").unwrap();
    c
}

/// The server's name, or "none" when nothing came within a second.
fn name(c: &mut TcpStream) -> String {
    c.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let mut name = [0u8; 2];
    match c.read_exact(&mut name) {
        Ok(()) => String::from_utf8_lossy(&name).into_owned(),
        Err(_) => "none".into(),
    }
}

/// The DOWN line, and which server the two queued clients reached.
fn session(binary: &Path, redispatch: bool) -> (Vec<String>, Vec<String>) {
    // Ports the system picks and holds.
    let servers = [
        NameServer::start_holding("s1", 0),
        NameServer::start_holding("s2", 0),
    ];
    let ports = [servers[0].port, servers[1].port];
    let mut check_servers: Vec<Option<NameServer>> = (0..2)
        .map(|i| Some(NameServer::start(&format!("c{i}"), 0)))
        .collect();
    let checks: Vec<u16> = check_servers.iter().flatten().map(|s| s.port).collect();
    let fe = free_port();
    let socket = xtests::socket_path(&format!("requeue-{fe}"));
    let option = if redispatch {
        "option redispatch"
    } else {
        "no option redispatch"
    };
    let cfg = xtests::config_file(
        &format!("requeue-{fe}"),
        &format!(
            "global
    stats socket {sock} level admin

defaults
    mode tcp
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    timeout queue 10s

listen q
    bind 127.0.0.1:{fe}
    {option}
    balance source
    server s1 127.0.0.1:{p1} maxconn 1 check port {c1} inter 100 rise 1 fall 1
    server s2 127.0.0.1:{p2} maxconn 1 check port {c2} inter 100 rise 1 fall 1
",
            sock = socket.display(),
            p1 = ports[0],
            p2 = ports[1],
            c1 = checks[0],
            c2 = checks[1],
        ),
    );
    let mut proxy = ProxyProcess::start(binary, &cfg);
    // No probe connection: it would take (or queue for) a slot.
    proxy.wait_bound(fe, Duration::from_secs(5));
    // Every client comes from 127.0.0.1: the same server for all.
    let mut first = connect(fe);
    let chosen = name(&mut first);
    let mut queued = [connect(fe), connect(fe)];
    let what = format!("two queued on {chosen} ({})", binary.display());
    xtests::wait_until(Duration::from_secs(5), &what, || {
        xtests::stat_columns(&socket, &["qcur"])[&("q".to_string(), chosen.clone())][0] == "2"
    });
    let index = if chosen == "s1" { 0 } else { 1 };
    check_servers[index] = None; // its checks fail: DOWN
    proxy.wait_for(
        &format!("Server q/{chosen} is DOWN"),
        Duration::from_secs(5),
    );
    // With redispatch one queued client reaches the other server, the
    // other waits behind it (maxconn 1); without, both wait on. The long
    // `timeout queue` leaves time for the DOWN on a loaded machine.
    let reached: Vec<String> = queued.iter_mut().map(name).collect();
    drop(first);
    let messages = xtests::state_changes(&proxy.stderr(), &["is DOWN"])
        .into_iter()
        .map(|m| m.replace(&chosen, "SRV"))
        .collect();
    // Which of the two requeued streams gets the slot first is a race in
    // the engine (both are woken at once); HAProxy keeps their order.
    let mut reached: Vec<String> = reached
        .into_iter()
        .map(|r| {
            if r == chosen {
                "SRV".into()
            } else {
                r.replace(['1', '2'], "OTHER")
            }
        })
        .collect();
    reached.sort();
    (messages, reached)
}

#[test]
fn queued_streams_of_a_dead_server_match_haproxy() {
    for redispatch in [true, false] {
        let what = format!("option redispatch: {redispatch}");
        xtests::side_by_side(&xtests::proxies!(), &what, |bin| session(bin, redispatch));
    }
}
