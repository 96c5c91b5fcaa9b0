//! Cookie persistence side by side with HAProxy 2.6: which server gets each
//! request, the `cookie` header the server sees, the `set-cookie` the
//! client gets, and the cookie letters of the log line, for the `cookie`
//! modes of the seed (insert, rewrite, prefix) and a cookie naming a
//! server that is gone.

use xtests::http::{compare, Action, Received, Scenario, Step, Step::*};
use xtests::proxies;

fn web(name: &str, r: &Received) -> Action {
    let head = r.head_text();
    // A server that sets its own session cookie when asked to.
    let own = if head.contains("/login") {
        "Set-Cookie: JSESSIONID=abc; Path=/\r\n"
    } else {
        ""
    };
    Action::Send(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n{own}\r\n{name}",
            name.len()
        )
        .into_bytes(),
    )
}

fn run(name: &str, cookie: &str, extra: &str, client: &[Step], logs: usize) {
    let config = format!(
        "global\n    log stderr format raw local0 info\n\
         defaults\n    mode http\n    option httplog\n    log global\n\
         \x20   timeout connect 1s\n    timeout client 3s\n    timeout server 3s\n\
         listen L\n    bind 127.0.0.1:{{PORT}}\n    balance roundrobin\n    {cookie}\n{extra}\
         \x20   server s1 {{S1}} cookie a1\n    server s2 {{S2}} cookie a2\n"
    );
    compare(
        &proxies!(),
        &Scenario {
            name,
            config: &config,
            servers: &[("S1", |r| web("web1", r)), ("S2", |r| web("web2", r))],
            client,
            logs,
        },
    );
}

const REQUESTS: &[Step] = &[
    Send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"),
    Response,
    Send("GET /2 HTTP/1.1\r\nHost: x\r\nCookie: SERVERID=a2\r\n\r\n"),
    Response,
    Send("GET /3 HTTP/1.1\r\nHost: x\r\nCookie: a=1; SERVERID=a2; b=2\r\n\r\n"),
    Response,
    Send("GET /4 HTTP/1.1\r\nHost: x\r\nCookie: SERVERID=zz\r\n\r\n"),
    Response,
    Send("GET /5 HTTP/1.1\r\nHost: x\r\nCookie: SERVERID=a1\r\n\r\n"),
    Response,
];

#[test]
fn insert_indirect_nocache() {
    run(
        "insert",
        "cookie SERVERID insert indirect nocache",
        "",
        REQUESTS,
        5,
    );
    run(
        "insert-attrs",
        "cookie SERVERID insert httponly secure domain .test.com",
        "",
        REQUESTS,
        5,
    );
}

#[test]
fn rewrite_and_prefix() {
    let client = [
        Send("GET /login HTTP/1.1\r\nHost: x\r\n\r\n"),
        Response,
        Send("GET /login HTTP/1.1\r\nHost: x\r\nCookie: JSESSIONID=a2~abc\r\n\r\n"),
        Response,
        Send("GET /other HTTP/1.1\r\nHost: x\r\nCookie: x=1; JSESSIONID=a1~abc; y=2\r\n\r\n"),
        Response,
    ];
    run("prefix", "cookie JSESSIONID prefix", "", &client, 3);
    let client = [
        Send("GET /login HTTP/1.1\r\nHost: x\r\n\r\n"),
        Response,
        Send("GET /login HTTP/1.1\r\nHost: x\r\nCookie: JSESSIONID=a2\r\n\r\n"),
        Response,
    ];
    run("rewrite", "cookie JSESSIONID rewrite", "", &client, 2);
}

#[test]
fn a_cookie_naming_a_server_that_is_gone() {
    // s2 is in maintenance from the start: its clients go elsewhere and
    // get a new cookie.
    let client = [
        Send("GET /1 HTTP/1.1\r\nHost: x\r\nCookie: SERVERID=a2\r\n\r\n"),
        Response,
    ];
    run(
        "down",
        "cookie SERVERID insert indirect",
        "    default-server disabled\n",
        &client,
        1,
    );
}

#[test]
fn a_cookie_naming_a_server_that_refuses() {
    // s2's port refuses: with option redispatch, the last retry goes to
    // s1 at once, and the client gets a new cookie.
    let client = [
        Send("GET /1 HTTP/1.1\r\nHost: x\r\nCookie: SERVERID=a2\r\n\r\n"),
        Response,
    ];
    compare(
        &proxies!(),
        &Scenario {
            name: "refused",
            config: "global\n    log stderr format raw local0 info\n\
                     defaults\n    mode http\n    option httplog\n    log global\n\
                     \x20   timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
                     \x20   option redispatch\n\
                     listen L\n    bind 127.0.0.1:{PORT}\n    cookie SERVERID insert indirect\n\
                     \x20   server s1 {S1} cookie a1\n    server s2 127.0.0.1:1 cookie a2\n",
            servers: &[("S1", |r| web("web1", r))],
            client: &client,
            logs: 1,
        },
    );
}
