//! A request body that fails after the server was contacted, side by side
//! with HAProxy 2.6: the client goes away mid-body, or sends a bad chunk
//! once part of the body went up; and a bad chunk already at hand when the
//! head is parsed. What the client reads, what the server receives, and
//! the `option httplog` line (its termination state: `CD--`, `PH--`,
//! `<BADREQ>` with `PR--`) must agree.
//!
//! The server never answers: it records what arrives and holds the
//! connection, so the request's fate is the client's doing.

use std::net::{Shutdown, TcpStream};
use std::path::Path;
use std::time::Duration;

use xtests::conversation::{CheckServer, Step};

use xtests::http::{wait_logs, Client};
use xtests::{config_file, free_port, proxies, side_by_side, wait_until, ProxyProcess};

/// What the client does after its first bytes reached the server.
enum Then {
    /// Closes its connection.
    Hangup,
    /// Sends these bytes, then reads whatever comes until the proxy closes.
    Send(&'static [u8]),
    /// Nothing more: the first bytes were the whole story (the server is
    /// never expected to get anything).
    Read,
}

struct Case {
    name: &'static str,
    first: &'static [u8],
    then: Then,
}

const CHUNKED_HEAD: &[u8] =
    b"POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n";

fn transcript(bin: &Path, case: &Case) -> Vec<String> {
    // Reads and records, never answers, until the proxy closes.
    let server = CheckServer::start(vec![Step::Silent]);
    let port = free_port();
    let config = format!(
        "global\n    log stderr format raw local0 info\n\
         defaults\n    mode http\n    option httplog\n    log global\n\
         \x20   timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
         listen L\n    bind 127.0.0.1:{port}\n    server s1 127.0.0.1:{}\n",
        server.port
    );
    let path = config_file(&format!("body-aborts-{}-{port}", case.name), &config);
    let mut proxy = ProxyProcess::start(bin, &path);
    proxy.wait_bound(port, Duration::from_secs(5));

    let mut out = vec![];
    let mut client = Client::connect(port);
    client.send(case.first);
    match case.then {
        Then::Hangup | Then::Send(_) => {
            // The head went up: the server was contacted before the body
            // failed.
            wait_until(Duration::from_secs(5), "the server got the head", || {
                server.received().iter().any(|c| !c.is_empty())
            });
        }
        Then::Read => {}
    }
    match case.then {
        Then::Hangup => {
            let raw: TcpStream = client.into_stream();
            let _ = raw.shutdown(Shutdown::Both);
        }
        Then::Send(bytes) => {
            client.send(bytes);
            let (rest, closed) = client.rest();
            out.push(format!("client< {rest:?} closed={closed}"));
        }
        Then::Read => {
            let (rest, closed) = client.rest();
            out.push(format!("client< {rest:?} closed={closed}"));
        }
    }
    out.extend(wait_logs(&proxy, 1));
    // The server's side has ended with the stream: what it got is final.
    wait_until(Duration::from_secs(5), "the proxy left the server", || {
        server.all_ended()
    });
    let received = server.received().into_iter().filter(|c| !c.is_empty());
    for (i, bytes) in received.enumerate() {
        out.push(format!("server#{i}< {:?}", String::from_utf8_lossy(&bytes)));
    }
    drop(proxy);
    out
}

fn check(case: Case) {
    let what = format!("case {}", case.name);
    let engine = side_by_side(&proxies!(), &what, |bin| transcript(bin, &case));
    assert_eq!(
        engine.iter().filter(|l| l.starts_with("log ")).count(),
        1,
        "{engine:#?}"
    );
}

#[test]
fn a_client_gone_mid_body_is_logged_cd() {
    check(Case {
        name: "hangup-length",
        first: b"POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc",
        then: Then::Hangup,
    });
}

#[test]
fn a_client_gone_mid_chunked_body_is_logged_cd() {
    check(Case {
        name: "hangup-chunked",
        first: CHUNKED_HEAD,
        then: Then::Hangup,
    });
}

#[test]
fn a_bad_chunk_after_the_server_was_contacted_is_400_ph() {
    check(Case {
        name: "bad-chunk-late",
        first: CHUNKED_HEAD,
        then: Then::Send(b"zz\r\n"),
    });
}

#[test]
fn a_bad_chunk_at_hand_with_the_head_is_badreq_pr() {
    check(Case {
        name: "bad-chunk-early",
        first: b"POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        then: Then::Read,
    });
}
