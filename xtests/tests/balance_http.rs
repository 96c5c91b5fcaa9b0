//! The HTTP hash algorithms choose the same server as HAProxy 2.6 for the
//! same requests: `balance uri` (and its `len`, `depth`, `whole`,
//! `path-only`), `url_param`, `hdr(<name>)` with `use_domain_only`, map-based
//! and consistent, each hash function, with weights, and round robin when
//! the key is missing.

use xtests::http::{compare, ok_response, Action, Received, Scenario, Step, Step::*};
use xtests::proxies;

fn name(r: &Received, who: &'static str) -> Action {
    let _ = r;
    Action::Send(ok_response(who))
}

fn run(label: &str, balance: &str, client: &[Step]) {
    let config = format!(
        "global\n    log stderr format raw local0 info\n    stats socket {{SOCKET}} level admin\n\
         defaults\n    mode http\n    option httplog\n    log global\n\
         \x20   timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
         listen L\n    bind 127.0.0.1:{{PORT}}\n    balance {balance}\n\
         \x20   server s1 {{S1}}\n    server s2 {{S2}} weight 2\n    server s3 {{S3}}\n    server s4 {{S4}} weight 3\n"
    );
    let logs = client.iter().filter(|s| matches!(s, Response)).count();
    compare(
        &proxies!(),
        &Scenario {
            name: label,
            config: &config,
            servers: &[
                ("S1", |r| name(r, "s1")),
                ("S2", |r| name(r, "s2")),
                ("S3", |r| name(r, "s3")),
                ("S4", |r| name(r, "s4")),
            ],
            client,
            logs,
        },
    );
}

const PATHS: &[Step] = &[
    Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
    Response,
    Send("GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"),
    Response,
    Send("GET /img/logo.png?v=3 HTTP/1.1\r\nHost: x\r\n\r\n"),
    Response,
    Send("GET /img/bg.png HTTP/1.1\r\nHost: x\r\n\r\n"),
    Response,
    Send("GET /app/user/42?session=a HTTP/1.1\r\nHost: x\r\n\r\n"),
    Response,
    Send("GET /app/user/42?session=b HTTP/1.1\r\nHost: x\r\n\r\n"),
    Response,
    Send("GET http://x.test.com/abs/path?q=1 HTTP/1.1\r\nHost: x.test.com\r\n\r\n"),
    Response,
    Send("GET /a/b/c/d/e/f HTTP/1.1\r\nHost: x\r\n\r\n"),
    Response,
];

#[test]
fn uri_map_based_and_consistent() {
    run("uri", "uri", PATHS);
    run("uri-whole", "uri whole", PATHS);
    run("uri-depth", "uri depth 2", PATHS);
    run("uri-len", "uri len 5", PATHS);
    run("uri-path-only", "uri path-only", PATHS);
    run("uri-consistent", "uri\n    hash-type consistent", PATHS);
}

#[test]
fn hash_functions() {
    for f in ["djb2", "wt6", "crc32", "sdbm avalanche"] {
        run(
            &format!("map-{f}"),
            &format!("uri\n    hash-type map-based {f}"),
            PATHS,
        );
        run(
            &format!("consistent-{f}"),
            &format!("uri\n    hash-type consistent {f}"),
            PATHS,
        );
    }
}

#[test]
fn url_param_falls_back_to_round_robin_without_it() {
    let client = [
        Send("GET /p?userid=42 HTTP/1.1\r\nHost: x\r\n\r\n"),
        Response,
        Send("GET /p?a=1&userid=7&b=2 HTTP/1.1\r\nHost: x\r\n\r\n"),
        Response,
        Send("GET /p?userid=42 HTTP/1.1\r\nHost: x\r\n\r\n"),
        Response,
        Send("GET /p HTTP/1.1\r\nHost: x\r\n\r\n"),
        Response,
        Send("GET /p?x=1 HTTP/1.1\r\nHost: x\r\n\r\n"),
        Response,
        Send("GET /p?userid= HTTP/1.1\r\nHost: x\r\n\r\n"),
        Response,
    ];
    run("url_param", "url_param userid", &client);
    run(
        "url_param-consistent",
        "url_param userid\n    hash-type consistent",
        &client,
    );
}

#[test]
fn hdr_and_use_domain_only() {
    let client = [
        Send("GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n"),
        Response,
        Send("GET / HTTP/1.1\r\nHost: img.example.com\r\n\r\n"),
        Response,
        Send("GET / HTTP/1.1\r\nHost: www.other.org\r\n\r\n"),
        Response,
        Send("GET / HTTP/1.1\r\nX-Other: 1\r\n\r\n"),
        Response,
        Send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"),
        Response,
    ];
    run("hdr", "hdr(host)", &client);
    run("hdr-domain", "hdr(Host) use_domain_only", &client);
}

/// A server leaves (maintenance) and comes back: the keys move and return
/// as they do in HAProxy, map-based and consistent.
#[test]
fn keys_move_when_a_server_leaves_and_come_back() {
    let mut client: Vec<Step> = PATHS.to_vec();
    client.push(Api("disable server L/s2"));
    client.extend_from_slice(PATHS);
    client.push(Api("enable server L/s2"));
    client.extend_from_slice(PATHS);
    let client: &'static [Step] = Box::leak(client.into_boxed_slice());
    run("uri-maint", "uri", client);
    run(
        "uri-maint-consistent",
        "uri\n    hash-type consistent",
        client,
    );
    run("url_param-maint", "url_param session", client);
}
