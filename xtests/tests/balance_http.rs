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

/// A POST without the parameter in its query string is held until its
/// body is in (or the buffer is full), and the parameter is looked for in
/// the body, as HAProxy 2.6 does for `url_param` with or without
/// `check_post`; an `Expect: 100-continue` is answered by the proxy.
#[test]
fn url_param_looks_in_the_body_of_a_post() {
    let client = [
        Send("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nuserid=42"),
        Response,
        Send("POST /p?userid=7 HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nuserid=42"),
        Response,
        Send("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 16\r\n\r\na=1&userid=7&b=2"),
        Response,
        Send("POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nuseri\r\n4\r\nd=42\r\n0\r\n\r\n"),
        Response,
        Send("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nuserid=%4"),
        Send("2"),
        Response,
        Send("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nuserid= 42"),
        Response,
        Send("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nuserid=42"),
        Response,
        Send("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nx=1&y"),
        Response,
        Send("POST /p HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 9\r\n\r\n"),
        HeadResponse,
        Send("userid=42"),
        Response,
        Send("PUT /p HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nuserid=42"),
        Response,
    ];
    run("url_param-post", "url_param userid", &client);
    run(
        "url_param-check_post",
        "url_param userid check_post\n    hash-type consistent",
        &client,
    );
}

/// A POST whose body does not come in time is answered 408 and logged
/// `cD`, as HAProxy's body wait does; the backend's `timeout
/// http-request` bounds the wait.
#[test]
fn url_param_gives_up_on_a_body_that_does_not_come() {
    let config = "global\n    log stderr format raw local0 info\n\
         defaults\n    mode http\n    option httplog\n    log global\n\
         \x20   timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
         listen L\n    bind 127.0.0.1:{PORT}\n    balance url_param userid\n\
         \x20   timeout http-request 300ms\n\
         \x20   server s1 {S1}\n    server s2 {S2}\n";
    compare(
        &proxies!(),
        &Scenario {
            name: "url_param-slow-body",
            config,
            servers: &[("S1", |r| name(r, "s1")), ("S2", |r| name(r, "s2"))],
            client: &[
                Send("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nuser"),
                UntilClose,
            ],
            logs: 1,
        },
    );
}

/// `balance hash <expr>`: the sample's bytes hashed as HAProxy does (a
/// header's last value, a path, an address's bytes), round robin when the
/// sample is missing.
#[test]
fn hash_of_a_sample_expression() {
    let client = [
        Send("GET /a HTTP/1.1\r\nHost: x\r\nX-User: alice\r\n\r\n"),
        Response,
        Send("GET /b HTTP/1.1\r\nHost: x\r\nX-User: bob\r\n\r\n"),
        Response,
        Send("GET /c HTTP/1.1\r\nHost: x\r\nX-User: carol, alice\r\n\r\n"),
        Response,
        Send("GET /d HTTP/1.1\r\nHost: x\r\n\r\n"),
        Response,
        Send("GET /e HTTP/1.1\r\nHost: x\r\nX-User: dave\r\nX-User: bob\r\n\r\n"),
        Response,
        Send("GET /f HTTP/1.1\r\nHost: x\r\n\r\n"),
        Response,
    ];
    run("hash-hdr", "hash req.hdr(x-user)", &client);
    run(
        "hash-fhdr",
        "hash req.fhdr(x-user)\n    hash-type consistent",
        &client,
    );
    run(
        "hash-path",
        "hash path\n    hash-type map-based djb2",
        PATHS,
    );
    run("hash-src", "hash src", PATHS);
}
