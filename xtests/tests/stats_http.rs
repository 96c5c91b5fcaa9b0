//! `show stat` for HTTP proxies, side by side with HAProxy 2.6: the same
//! request sequence (answered, denied, redirected, refused, with bodies,
//! on kept-alive connections) leaves the same counters, byte counts and
//! response classes in every column the engine fills.

use std::path::Path;
use std::time::Duration;

use xtests::http::{Action, Client, Received, ScriptedServer};
use xtests::ProxyProcess;

/// Answers by path: `/404` and `/500` with those statuses, else 200.
fn answer(r: &Received) -> Action {
    let head = r.head_text();
    let status = if head.starts_with("GET /404 ") {
        "404 Not Found"
    } else if head.starts_with("GET /500 ") {
        "500 Internal Server Error"
    } else {
        "200 OK"
    };
    Action::Send(format!("HTTP/1.1 {status}\r\nContent-Length: 2\r\n\r\nok").into_bytes())
}

/// The requests, each on a connection of its own, and what each gets.
const REQUESTS: &[(&str, &str)] = &[
    ("GET / HTTP/1.1\r\nHost: a\r\n\r\n", "200"),
    ("GET /404 HTTP/1.1\r\nHost: a\r\n\r\n", "404"),
    (
        "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
        "200",
    ),
    (
        "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        "200",
    ),
    ("GET /500 HTTP/1.1\r\nHost: a\r\n\r\n", "500"),
    ("GET /denied HTTP/1.1\r\nHost: a\r\n\r\n", "403"),
    ("GET /moved HTTP/1.1\r\nHost: a\r\n\r\n", "302"),
    ("BAD\r\n\r\n", "400"),
    // Its Connection header is not counted in `bin`: HAProxy's parser
    // turns it into flags.
    (
        "GET /close HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        "200",
    ),
];

fn show_stat(binary: &Path) -> String {
    let s1 = ScriptedServer::start(answer);
    let s2 = ScriptedServer::start(answer);
    let fe = xtests::free_port();
    let socket = xtests::socket_path(&format!("stats-http-{fe}"));
    let cfg = xtests::config_file(
        &format!("stats-http-{fe}"),
        &format!(
            "global
    maxconn 1000
    stats socket {sock} level admin

defaults
    mode http
    option http-server-close
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend web
    bind 127.0.0.1:{fe}
    http-request deny if {{ path /denied }}
    redirect location /elsewhere if {{ path /moved }}
    default_backend app

backend app
    server s1 127.0.0.1:{p1}
    server s2 127.0.0.1:{p2}
    server b1 127.0.0.1:1 backup
",
            sock = socket.display(),
            p1 = s1.port,
            p2 = s2.port,
        ),
    );
    let mut proxy = ProxyProcess::start(binary, &cfg);
    proxy.wait_bound(fe, Duration::from_secs(5));
    for (request, status) in REQUESTS {
        let response = Client::connect(fe)
            .send(request.as_bytes())
            .response()
            .unwrap_or_default();
        assert!(
            response.starts_with(&format!("HTTP/1.1 {status} ")),
            "{request:?}: {response}"
        );
    }
    // Two requests on one kept-alive connection.
    let mut c = Client::connect(fe);
    for _ in 0..2 {
        let response = c
            .send(b"GET /again HTTP/1.1\r\nHost: a\r\n\r\n")
            .response()
            .unwrap_or_default();
        assert!(response.starts_with("HTTP/1.1 200 "), "{response}");
    }
    drop(c);
    // A stream is counted when it ends, just after its response went out.
    let answered = REQUESTS.len() as u64 + 2;
    xtests::wait_until(Duration::from_secs(5), "every request counted", || {
        let rows = xtests::csv::table(&xtests::api(&socket, "show stat")).1;
        let sum = |key: (&str, &str), columns: &[&str]| -> u64 {
            rows.get(&(key.0.to_string(), key.1.to_string()))
                .map_or(0, |r| {
                    columns
                        .iter()
                        .map(|c| r[*c].parse::<u64>().unwrap_or(0))
                        .sum()
                })
        };
        let classes = [
            "hrsp_1xx",
            "hrsp_2xx",
            "hrsp_3xx",
            "hrsp_4xx",
            "hrsp_5xx",
            "hrsp_other",
        ];
        // And every client connection seen closed (`scur`).
        sum(("web", "FRONTEND"), &classes) == answered
            && sum(("app", "BACKEND"), &["req_tot"]) == answered - 3
            && sum(("web", "FRONTEND"), &["scur"]) == 0
    });
    xtests::api(&socket, "show stat")
}

#[test]
fn http_counters_match_haproxy() {
    let ours = show_stat(&xtests::engine_bin!());
    let (our_header, our_rows) = xtests::csv::table(&ours);
    let cell = |px: &str, sv: &str, column: &str| our_rows[&(px.into(), sv.into())][column].clone();
    // What the sequence implies, whatever HAProxy says.
    assert_eq!(cell("web", "FRONTEND", "req_tot"), "11");
    assert_eq!(cell("web", "FRONTEND", "hrsp_2xx"), "6");
    assert_eq!(cell("web", "FRONTEND", "hrsp_3xx"), "1");
    assert_eq!(cell("web", "FRONTEND", "hrsp_4xx"), "3");
    assert_eq!(cell("web", "FRONTEND", "hrsp_5xx"), "1");
    assert_eq!(cell("web", "FRONTEND", "ereq"), "1");
    assert_eq!(cell("web", "FRONTEND", "dreq"), "1");
    assert_eq!(cell("web", "FRONTEND", "intercepted"), "1");
    assert_eq!(cell("app", "BACKEND", "req_tot"), "8");
    assert_eq!(cell("app", "s1", "req_tot"), "4");
    assert_eq!(cell("app", "s2", "hrsp_4xx"), "1");
    assert_eq!(cell("app", "s1", "hrsp_5xx"), "1");
    let Some(haproxy) = xtests::haproxy_bin() else {
        return;
    };
    let theirs = show_stat(&haproxy);
    let (their_header, their_rows) = xtests::csv::table(&theirs);
    assert_eq!(our_header, their_header);
    let differences = xtests::csv::differences(&our_rows, &their_rows, xtests::csv::TIMING);
    assert!(
        differences.is_empty(),
        "{}\n\nengine:\n{ours}\nHAProxy:\n{theirs}",
        differences.join("\n")
    );
}
