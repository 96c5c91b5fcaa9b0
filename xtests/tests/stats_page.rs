//! The statistics page (`stats uri`), side by side with HAProxy 2.6: the
//! 401 without an account, the page's headers, its CSV export, the rows
//! of its HTML table and their status classes, and the admin form's POST
//! (its 303 and the state it leaves) with and without `stats admin`.

use std::path::Path;
use std::time::Duration;

use xtests::http::{Client, ScriptedServer};
use xtests::ProxyProcess;

/// `admin:admin`, as the seed configures it.
const AUTH: &str = "Authorization: Basic YWRtaW46YWRtaW4=\r\n";

struct Session {
    /// Exact replies, in order (heads only for the page and the CSV).
    replies: Vec<String>,
    /// The CSV export before the admin actions.
    csv: String,
    /// The HTML page's row classes, in order, after the admin actions.
    rows: Vec<String>,
    /// `show stat` status column after the actions, per server.
    states: Vec<String>,
}

fn head(response: &str) -> String {
    response
        .split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The body of a chunked response, chunks joined.
fn dechunk(response: &str) -> String {
    let mut rest = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&tail[..n]);
        rest = &tail[n + 2..];
    }
    out
}

/// `<tr class="...">` of the page, in order.
fn row_classes(html: &str) -> Vec<String> {
    html.match_indices("<tr class=\"")
        .map(|(i, m)| {
            let rest = &html[i + m.len()..];
            rest[..rest.find('"').unwrap_or(0)].to_string()
        })
        .collect()
}

fn ask(port: u16, request: &str) -> String {
    Client::connect(port)
        .send(request.as_bytes())
        .response()
        .unwrap_or_default()
}

fn session(binary: &Path) -> Session {
    let s1 = ScriptedServer::named("s1");
    let (stats, view) = (xtests::free_port(), xtests::free_port());
    let socket = xtests::socket_path(&format!("stats-page-{stats}"));
    let cfg = xtests::config_file(
        &format!("stats-page-{stats}"),
        &format!(
            "global
    maxconn 1000
    stats socket {sock} level admin

defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

listen stats
    bind 127.0.0.1:{stats}
    stats enable
    stats uri /admin?stats
    stats realm Haproxy\\ Statistics
    stats auth admin:admin
    stats hide-version
    stats refresh 30s
    stats admin if TRUE

listen view
    bind 127.0.0.1:{view}
    stats enable
    stats uri /view

backend app
    server s1 127.0.0.1:{p1} check inter 200
    server s2 127.0.0.1:1 check inter 200
    server b1 127.0.0.1:{p1} backup
",
            sock = socket.display(),
            p1 = s1.port,
        ),
    );
    let proxy = ProxyProcess::start(binary, &cfg);
    proxy.wait_for("Server app/s2 is DOWN", Duration::from_secs(5));
    let mut replies = vec![ask(stats, "GET /admin?stats HTTP/1.1\r\nHost: a\r\n\r\n")];
    let csv = ask(
        stats,
        &format!("GET /admin?stats;csv HTTP/1.1\r\nHost: a\r\n{AUTH}\r\n"),
    );
    replies.push(head(&csv));
    let csv = dechunk(&csv);
    let post = |port: u16, uri: &str, body: &str| {
        ask(
            port,
            &format!(
                "POST {uri} HTTP/1.1\r\nHost: a\r\n{AUTH}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ),
        )
    };
    replies.push(post(
        stats,
        "/admin?stats;up",
        "s=s2&s=nope&action=maint&b=app",
    ));
    replies.push(post(stats, "/admin?stats", "s=b1&action=drain&b=app"));
    replies.push(post(stats, "/admin?stats", "s=s1&action=bogus&b=app"));
    replies.push(post(stats, "/admin?stats", "s=s1&action=maint&b=nope"));
    replies.push(post(view, "/view", "s=s1&action=maint&b=app"));
    let page = ask(
        stats,
        &format!("GET /admin?stats HTTP/1.1\r\nHost: a\r\n{AUTH}\r\n"),
    );
    replies.push(head(&page));
    let rows = row_classes(&dechunk(&page));
    let states = xtests::stat_columns(&socket, &["status"])
        .into_iter()
        .filter(|((px, _), _)| px == "app")
        .map(|((_, sv), row)| format!("{sv}={}", row[0]))
        .collect();
    Session {
        replies,
        csv,
        rows,
        states,
    }
}

#[test]
fn the_stats_page_answers_as_haproxys() {
    let ours = session(&xtests::engine_bin!());
    assert!(
        ours.replies[0].starts_with("HTTP/1.1 401 Unauthorized\r\n"),
        "{}",
        ours.replies[0]
    );
    assert!(ours.replies[0].contains("www-authenticate: Basic realm=\"Haproxy Statistics\"\r\n"));
    assert!(
        ours.replies[2].contains("location: /admin?stats;st=PART;up\r\n"),
        "{}",
        ours.replies[2]
    );
    assert!(
        ours.replies[6].contains("location: /view;st=DENY\r\n"),
        "{}",
        ours.replies[6]
    );
    assert_eq!(ours.states, ["BACKEND=UP", "b1=DRAIN", "s1=UP", "s2=MAINT"]);
    assert!(ours.rows.iter().any(|c| c == "maintain"), "{:?}", ours.rows);
    let Some(haproxy) = xtests::haproxy_bin() else {
        return;
    };
    let theirs = session(&haproxy);
    assert_eq!(ours.replies, theirs.replies);
    assert_eq!(ours.states, theirs.states);
    assert_eq!(ours.rows, theirs.rows);
    // The CSV export: the same cells for the proxied traffic's proxies
    // (the page's own proxies count the page's size, which differs).
    let (header, our_rows) = xtests::csv::table(&ours.csv);
    let (their_header, their_rows) = xtests::csv::table(&theirs.csv);
    assert_eq!(header, their_header);
    let app = |rows: xtests::csv::Rows| -> xtests::csv::Rows {
        rows.into_iter()
            .filter(|((px, _), _)| px == "app")
            .collect()
    };
    let differences =
        xtests::csv::differences(&app(our_rows), &app(their_rows), xtests::csv::TIMING);
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

/// A frontend's page (taken before `use_backend` rules) and a backend's
/// (taken once the backend is chosen); other requests reach the servers.
fn sections(binary: &Path) -> Vec<String> {
    let s1 = ScriptedServer::named("s1");
    let fe = xtests::free_port();
    let cfg = xtests::config_file(
        &format!("stats-sections-{fe}"),
        &format!(
            "global
    maxconn 1000

defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend web
    bind 127.0.0.1:{fe}
    stats enable
    stats uri /fe-stats
    use_backend other if {{ path_beg /fe-stats }}
    default_backend app

backend app
    stats enable
    stats uri /be-stats
    stats auth admin:admin
    server s1 127.0.0.1:{p1}

backend other
    server s1 127.0.0.1:{p1}
",
            p1 = s1.port,
        ),
    );
    let mut proxy = ProxyProcess::start(binary, &cfg);
    proxy.wait_bound(fe, Duration::from_secs(5));
    let csv_head = |path: &str, auth: &str| {
        let r = ask(fe, &format!("GET {path} HTTP/1.1\r\nHost: a\r\n{auth}\r\n"));
        // The status line and the CSV's first line's name, whoever
        // answered (its counters move with timing).
        let body = dechunk(&r);
        let first: Vec<&str> = body
            .lines()
            .nth(1)
            .unwrap_or_default()
            .split(',')
            .take(2)
            .collect();
        format!(
            "{} | {}",
            r.lines().next().unwrap_or_default(),
            first.join(",")
        )
    };
    vec![
        csv_head("/fe-stats;csv", ""),
        csv_head("/be-stats;csv", ""),
        csv_head("/be-stats;csv", AUTH),
        head(&ask(fe, "GET /other HTTP/1.1\r\nHost: a\r\n\r\n")),
    ]
}

#[test]
fn frontend_and_backend_pages_answer_as_haproxys() {
    let ours = sections(&xtests::engine_bin!());
    assert!(
        ours[0].starts_with("HTTP/1.1 200 OK | web,FRONTEND"),
        "{ours:#?}"
    );
    assert!(
        ours[1].starts_with("HTTP/1.1 401 Unauthorized"),
        "{ours:#?}"
    );
    assert!(
        ours[2].starts_with("HTTP/1.1 200 OK | web,FRONTEND"),
        "{ours:#?}"
    );
    assert!(ours[3].contains("x-server: s1"), "{ours:#?}");
    if let Some(haproxy) = xtests::haproxy_bin() {
        assert_eq!(ours, sections(&haproxy));
    }
}
