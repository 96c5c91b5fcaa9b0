//! `option socket-stats`: a stats line per listening socket, side by side
//! with HAProxy 2.6 (names from `bind ... name`, else `sock-<id>`; ids
//! from `bind ... id`, else the next free ones), in the CSV and in the
//! typed form.

use std::path::Path;
use std::time::Duration;

use xtests::http::{Client, ScriptedServer};
use xtests::ProxyProcess;

fn session(binary: &Path) -> (String, Vec<String>) {
    let s1 = ScriptedServer::named("s1");
    let (a, b, c) = (
        xtests::free_port(),
        xtests::free_port(),
        xtests::free_port(),
    );
    let socket = xtests::socket_path(&format!("sockets-{a}"));
    let cfg = xtests::config_file(
        &format!("sockets-{a}"),
        &format!(
            "global
    maxconn 1000
    stats socket {sock} level admin

defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend web
    bind 127.0.0.1:{a} name first
    bind 127.0.0.1:{b} id 1
    bind 127.0.0.1:{c}
    option socket-stats
    http-request deny if {{ path /denied }}
    default_backend app

backend app
    server s1 127.0.0.1:{p1}
",
            sock = socket.display(),
            p1 = s1.port,
        ),
    );
    let mut proxy = ProxyProcess::start(binary, &cfg);
    for port in [a, b, c] {
        proxy.wait_bound(port, Duration::from_secs(5));
    }
    let ask = |port: u16, path: &str| {
        Client::connect(port)
            .send(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
            .response()
            .unwrap_or_default()
    };
    assert!(ask(a, "/").starts_with("HTTP/1.1 200"));
    assert!(ask(b, "/").starts_with("HTTP/1.1 200"));
    assert!(ask(b, "/denied").starts_with("HTTP/1.1 403"));
    let _ = Client::connect(c).send(b"BAD\r\n\r\n").response();
    // Four requests counted, and every connection's end too (the 400's
    // connection may still be closing when its answer has arrived).
    xtests::wait_until(Duration::from_secs(5), "four requests counted", || {
        let cells = xtests::stat_columns(&socket, &["req_tot", "scur"]);
        let frontend = cells.get(&("web".to_string(), "FRONTEND".to_string()));
        frontend.is_some_and(|r| r[0] == "4")
            && cells
                .iter()
                .filter(|((px, _), _)| px == "web")
                .all(|(_, r)| r[1] == "0" || r[1].is_empty())
    });
    let typed = xtests::api(&socket, "show stat typed")
        .lines()
        .filter(|l| l.starts_with("L."))
        // The value goes: the tags and types are compared.
        .map(|l| l[..l.rfind(':').unwrap_or(l.len())].to_string())
        .collect();
    (xtests::api(&socket, "show stat"), typed)
}

#[test]
fn socket_lines_match_haproxys() {
    let (csv, typed) = session(&xtests::engine_bin!());
    let (_, rows) = xtests::csv::table(&csv);
    let names: Vec<&str> = rows
        .iter()
        .filter(|(_, r)| r["type"] == "3")
        .map(|((_, sv), r)| {
            assert_eq!(r["pxname"], "web");
            sv.as_str()
        })
        .collect();
    assert_eq!(names, ["first", "sock-1", "sock-4"]);
    let cell = |sv: &str, c: &str| rows[&("web".to_string(), sv.to_string())][c].clone();
    assert_eq!(
        (cell("sock-1", "stot"), cell("sock-1", "dreq")),
        ("2".into(), "1".into())
    );
    assert_eq!(cell("sock-4", "ereq"), "1");
    let Some(haproxy) = xtests::haproxy_bin() else {
        return;
    };
    let (their_csv, their_typed) = session(&haproxy);
    let (_, their_rows) = xtests::csv::table(&their_csv);
    let sockets = |rows: xtests::csv::Rows| -> xtests::csv::Rows {
        rows.into_iter().filter(|(_, r)| r["type"] == "3").collect()
    };
    let differences =
        xtests::csv::differences(&sockets(rows), &sockets(their_rows), xtests::csv::TIMING);
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    assert_eq!(typed, their_typed);
}
