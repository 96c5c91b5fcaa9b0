//! Cookie persistence side by side with HAProxy 2.6: which server gets each
//! request, the `cookie` header the server sees, the `set-cookie` the
//! client gets, and the cookie letters of the log line, for the `cookie`
//! modes of the seed (insert, rewrite, prefix) and a cookie naming a
//! server that is gone.

use xtests::http::{compare, Action, Received, Scenario, Step, Step::*};
use xtests::{proxies, side_by_side};

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

/// A cookie names a server at its `maxconn` whose queue is at its
/// `maxqueue`: the request is refused (503), or, with `option redispatch`,
/// goes elsewhere. Three clients in turn: the first is served slowly, the
/// second waits in the server's queue, the third finds it full.
///
/// One thread: when the first ends, HAProxy hands its slot to the second
/// (process_srv_queue) and logs the first in the same pass, before the
/// second's task runs and connects (which is when `cur_sess`, the log's
/// `%sc`, counts it). With threads, the second's task may connect on
/// another one before that log line, which then reads 1 instead of 0.
fn server_queue(binary: &std::path::Path, redispatch: bool) -> Vec<String> {
    use std::time::Duration;
    use xtests::http::{ok_response, Client, ScriptedServer};
    let s1 =
        ScriptedServer::start(|_| Action::SendAfter(Duration::from_millis(700), ok_response("s1")));
    let s2 = ScriptedServer::start(|_| Action::Send(ok_response("s2")));
    let fe = xtests::free_port();
    let socket = xtests::socket_path(&format!("queue-{fe}"));
    let config = format!(
        "global\n    nbthread 1\n    stats socket {sock} level admin\n    log stderr format raw local0 info\n\
         defaults\n    mode http\n    option httplog\n    log global\n{redisp}\
         \x20   timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n    timeout queue 5s\n\
         listen L\n    bind 127.0.0.1:{fe}\n    cookie SERVERID insert indirect\n\
         \x20   server s1 127.0.0.1:{p1} cookie a1 maxconn 1 maxqueue 1\n\
         \x20   server s2 127.0.0.1:{p2} cookie a2\n",
        sock = socket.display(),
        redisp = if redispatch { "    option redispatch\n" } else { "" },
        p1 = s1.port,
        p2 = s2.port,
    );
    let path = xtests::config_file(&format!("queue-{fe}"), &config);
    let mut proxy = xtests::ProxyProcess::start(binary, &path);
    proxy.wait_bound(fe, Duration::from_secs(5));
    let ask = |n: u32| {
        let mut c = Client::connect(fe);
        c.send(format!("GET /{n} HTTP/1.1\r\nHost: x\r\nCookie: SERVERID=a1\r\n\r\n").as_bytes());
        c
    };
    let s1_queue = || {
        xtests::api(&socket, "show stat L 4 -1")
            .lines()
            .find(|l| l.starts_with("L,s1,"))
            .and_then(|l| l.split(',').nth(2).map(str::to_string))
            .unwrap_or_default()
    };
    let mut first = ask(1);
    xtests::wait_until(Duration::from_secs(5), "s1 busy", || {
        s1.requests().len() == 1
    });
    let mut second = ask(2);
    xtests::wait_until(Duration::from_secs(5), "one queued on s1", || {
        s1_queue() == "1"
    });
    let mut third = ask(3);
    let status = |r: Option<String>| {
        r.map(|r| {
            let body = r.rsplit("\r\n\r\n").next().unwrap_or("").to_string();
            format!(
                "{} {}",
                &r[9..12],
                if body.len() <= 3 { body } else { String::new() }
            )
        })
    };
    let answers = vec![
        format!("third: {:?}", status(third.response())),
        format!("first: {:?}", status(first.response())),
        format!("second: {:?}", status(second.response())),
    ];
    let mut out = answers;
    let mut logs: Vec<String> = Vec::new();
    xtests::wait_until(Duration::from_secs(5), "three log lines", || {
        logs = proxy
            .stderr()
            .lines()
            .filter(|l| l.starts_with("127.0.0.1:"))
            .map(|l| {
                // Client port, date and timers vary: keep the rest.
                let w: Vec<&str> = l.split(' ').collect();
                format!(
                    "{} {} {} {} {} {} {} {}",
                    w[2],
                    w[3],
                    w[5],
                    w[8],
                    w[9],
                    w[10],
                    w[11],
                    w[12..].join(" ")
                )
            })
            .collect();
        logs.len() == 3
    });
    logs.sort();
    out.extend(logs);
    out
}

#[test]
fn a_full_server_queue_refuses_or_redispatches() {
    for redispatch in [false, true] {
        let what = format!("redispatch {redispatch}");
        let ours = side_by_side(&proxies!(), &what, |bin| server_queue(bin, redispatch));
        assert!(
            ours[0].contains(if redispatch { "200 s2" } else { "503" }),
            "{ours:#?}"
        );
    }
}

/// Weight 0 takes a server out of the round robin but keeps the clients
/// its cookie names, as in HAProxy.
#[test]
fn weight_zero_keeps_persistent_clients() {
    let config =
        "global\n    log stderr format raw local0 info\n    stats socket {SOCKET} level admin\n\
         defaults\n    mode http\n    option httplog\n    log global\n\
         \x20   timeout connect 1s\n    timeout client 3s\n    timeout server 3s\n\
         listen L\n    bind 127.0.0.1:{PORT}\n    balance roundrobin\n\
         \x20   cookie SERVERID insert indirect nocache\n\
         \x20   server s1 {S1} cookie a1\n    server s2 {S2} cookie a2\n";
    let client = [
        Api("set weight L/s2 0"),
        Send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"),
        Response,
        Send("GET /2 HTTP/1.1\r\nHost: x\r\n\r\n"),
        Response,
        Send("GET /3 HTTP/1.1\r\nHost: x\r\nCookie: SERVERID=a2\r\n\r\n"),
        Response,
        Api("set weight L/s2 1"),
        Send("GET /4 HTTP/1.1\r\nHost: x\r\n\r\n"),
        Response,
        Send("GET /5 HTTP/1.1\r\nHost: x\r\n\r\n"),
        Response,
    ];
    compare(
        &proxies!(),
        &Scenario {
            name: "weight-zero",
            config,
            servers: &[("S1", |r| web("web1", r)), ("S2", |r| web("web2", r))],
            client: &client,
            logs: 5,
        },
    );
}
