//! HTTP mode side by side with HAProxy 2.6: the same configuration, the
//! same scripted server, the same client bytes; what the client receives,
//! what the server receives, and the `option httplog` lines must agree.
//!
//! Each case is a transcript: every response the client read (exact
//! bytes), whether the proxy then closed, every request head and body the
//! server got (per server connection), and the log lines with the client
//! port, the date and the timers' jitter normalised away.

use xtests::http::{compare, ok_response, Action, Received, Scenario, Step, Step::*};
use xtests::proxies;

struct Case {
    name: &'static str,
    /// Proxy lines after `listen L` and its bind (`{S1}` is the server).
    proxy: &'static str,
    server: fn(&Received) -> Action,
    client: &'static [Step],
    /// Log lines the case produces (the test waits for them).
    logs: usize,
}

fn ok(_: &Received) -> Action {
    Action::Send(ok_response("ok"))
}

fn check(case: &Case) {
    let config = format!(
        "global\n    log stderr format raw local0 info\n\
         defaults\n    mode http\n    option httplog\n    log global\n\
         \x20   timeout connect 1s\n    timeout client 3s\n    timeout server 3s\n\
         listen L\n    bind 127.0.0.1:{{PORT}}\n{}\n",
        case.proxy
    );
    compare(
        &proxies!(),
        &Scenario {
            name: case.name,
            config: &config,
            servers: &[("S1", case.server)],
            client: case.client,
            logs: case.logs,
        },
    );
}

const GET: &str = "GET /a?b=1 HTTP/1.1\r\nHost: x\r\nUser-Agent: T\r\nX-Mixed-Case: V\r\n\r\n";

#[test]
fn header_case_and_keep_alive() {
    check(&Case {
        name: "basic",
        proxy: "    server s1 {S1}",
        server: |_| {
            Action::Send(
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Srv-Header: y\r\n\r\nok".to_vec(),
            )
        },
        client: &[Send(GET), Response, Send(GET), Response],
        logs: 2,
    });
}

#[test]
fn http_1_0_clients() {
    check(&Case {
        name: "http10",
        proxy: "    server s1 {S1}",
        server: ok,
        client: &[
            Send("GET /a HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n"),
            Response,
            Send("GET /b HTTP/1.0\r\n\r\n"),
            Response,
            UntilClose,
        ],
        logs: 2,
    });
}

#[test]
fn connection_close_from_either_side() {
    check(&Case {
        name: "close",
        proxy: "    server s1 {S1}",
        server: |r| {
            if r.head_text().starts_with("GET /srv-close") {
                Action::SendClose(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".to_vec(),
                )
            } else {
                Action::Send(ok_response("ok"))
            }
        },
        client: &[
            Send("GET /srv-close HTTP/1.1\r\nHost: x\r\n\r\n"),
            Response,
            Send("GET /client-close HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            Response,
            UntilClose,
        ],
        logs: 2,
    });
}

#[test]
fn close_delimited_response() {
    check(&Case {
        name: "eof-body",
        proxy: "    server s1 {S1}",
        server: |_| Action::SendClose(b"HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\nhello world".to_vec()),
        client: &[Send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"), UntilClose],
        logs: 1,
    });
}

#[test]
fn server_close_and_httpclose_modes() {
    for (name, proxy, logs) in [
        (
            "server-close",
            "    option http-server-close\n    server s1 {S1}",
            2,
        ),
        // The client's connection closes after the first response.
        ("httpclose", "    option httpclose\n    server s1 {S1}", 1),
        (
            "keep-alive",
            "    option http-keep-alive\n    server s1 {S1}",
            2,
        ),
    ] {
        check(&Case {
            name,
            proxy,
            server: ok,
            client: &[
                Send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"),
                Response,
                Send("GET /2 HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n"),
                Response,
            ],
            logs,
        });
    }
}

#[test]
fn forwardfor_variants() {
    for (name, proxy) in [
        ("xff", "    option forwardfor\n    server s1 {S1}"),
        (
            "xff-except",
            "    option forwardfor except 127.0.0.0/8\n    server s1 {S1}",
        ),
        (
            "xff-header",
            "    option forwardfor header X-Real-IP\n    server s1 {S1}",
        ),
        (
            "xff-if-none",
            "    option forwardfor if-none\n    server s1 {S1}",
        ),
    ] {
        check(&Case {
            name,
            proxy,
            server: ok,
            client: &[
                Send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"),
                Response,
                Send("GET /2 HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n"),
                Response,
            ],
            logs: 2,
        });
    }
}

#[test]
fn chunked_bodies_are_rechunked() {
    check(&Case {
        name: "chunked",
        proxy: "    server s1 {S1}",
        server: |_| {
            Action::Send(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;foo=bar\r\nabc\r\n00A\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n"
                    .to_vec(),
            )
        },
        client: &[
            Send("POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0006\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"),
            Response,
            Send("POST /l HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 2\r\nX-A: 1\r\ncontent-length: 2\r\n\r\nhi"),
            Response,
            Send("POST /d HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"),
            Response,
            UntilClose,
        ],
        logs: 3,
    });
}

#[test]
fn bodiless_responses() {
    check(&Case {
        name: "bodiless",
        proxy: "    server s1 {S1}",
        server: |r| {
            let head = r.head_text();
            Action::Send(if head.starts_with("HEAD") {
                b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n".to_vec()
            } else if head.starts_with("GET /204") {
                b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n".to_vec()
            } else {
                b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\nETag: \"e\"\r\n\r\n".to_vec()
            })
        },
        client: &[
            Send("HEAD /h HTTP/1.1\r\nHost: x\r\n\r\n"),
            HeadResponse,
            Send("GET /204 HTTP/1.1\r\nHost: x\r\n\r\n"),
            Response,
            Send("GET /304 HTTP/1.1\r\nHost: x\r\n\r\n"),
            Response,
        ],
        logs: 3,
    });
}

#[test]
fn expect_100_continue() {
    check(&Case {
        name: "expect",
        proxy: "    server s1 {S1}",
        server: |_| Action::Send(b"HTTP/1.1 100 Continue\r\nX-Info: i\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec()),
        client: &[
            Send("POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello"),
            Response,
            Response,
            Send("GET / HTTP/1.0\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"),
            UntilClose,
        ],
        logs: 2,
    });
}

#[test]
fn websocket_upgrade_becomes_a_tunnel() {
    check(&Case {
        name: "websocket",
        proxy: "    server s1 {S1}",
        server: |_| {
            Action::SendClose(
                b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\nfrom-server"
                    .to_vec(),
            )
        },
        client: &[
            Send("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"),
            HeadResponse,
            UntilClose,
        ],
        logs: 1,
    });
    check(&Case {
        name: "websocket-tunnel-timeout",
        proxy: "    timeout tunnel 1s\n    server s1 {S1}",
        server: |_| {
            Action::Send(
                b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
                    .to_vec(),
            )
        },
        client: &[
            Send("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"),
            HeadResponse,
            UntilClose,
        ],
        logs: 1,
    });
    check(&Case {
        name: "websocket-no-key",
        proxy: "    server s1 {S1}",
        server: ok,
        client: &[
            Send(
                "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
            ),
            UntilClose,
        ],
        logs: 1,
    });
}

#[test]
fn server_failures() {
    // A server that closes without answering: a 502 for a connection's
    // first request; a later one's connection just closes, unlogged, so
    // that the client may retry.
    check(&Case {
        name: "garbage",
        proxy: "    server s1 {S1}",
        server: |r| {
            if r.head_text().starts_with("GET /garbage") {
                Action::SendClose(b"FOO\r\n\r\n".to_vec())
            } else {
                Action::Close
            }
        },
        client: &[
            Send("GET /garbage HTTP/1.1\r\nHost: x\r\n\r\n"),
            Response,
            Send("GET /close HTTP/1.1\r\nHost: x\r\n\r\n"),
            Response,
        ],
        logs: 1,
    });
    check(&Case {
        name: "close-first",
        proxy: "    server s1 {S1}",
        server: |_| Action::Close,
        client: &[Send("GET /close HTTP/1.1\r\nHost: x\r\n\r\n"), Response],
        logs: 1,
    });
    check(&Case {
        name: "timeout-server",
        proxy: "    timeout server 1s\n    server s1 {S1}",
        server: |_| Action::Hang,
        client: &[Send("GET /g HTTP/1.1\r\nHost: x\r\n\r\n"), Response],
        logs: 1,
    });
}

#[test]
fn no_server_and_refused_connections() {
    check(&Case {
        name: "refused",
        proxy: "    retries 1\n    server s1 127.0.0.1:1",
        server: ok,
        client: &[Send("GET /g HTTP/1.1\r\nHost: x\r\n\r\n"), Response],
        logs: 1,
    });
}

#[test]
fn bad_requests_and_request_timeouts() {
    check(&Case {
        name: "bad-header",
        proxy: "    server s1 {S1}",
        server: ok,
        client: &[
            Send("GET /g HTTP/1.1\r\nHost: x\r\nBad Header: x\r\n\r\n"),
            UntilClose,
        ],
        logs: 1,
    });
    // A head larger than HAProxy's buffer (tune.bufsize, 16 KiB).
    let big: &'static str = Box::leak(
        format!(
            "GET /big HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
            "a".repeat(17_000)
        )
        .into_boxed_str(),
    );
    let client: &'static [Step] = Box::leak(Box::new([Send(big), UntilClose]));
    check(&Case {
        name: "too-large",
        proxy: "    server s1 {S1}",
        server: ok,
        client,
        logs: 1,
    });
    check(&Case {
        name: "partial-head",
        proxy: "    timeout http-request 1s\n    server s1 {S1}",
        server: ok,
        client: &[Send("GET /g HTTP/1.1\r\nHost: x\r\n"), UntilClose],
        logs: 1,
    });
    check(&Case {
        name: "host-mismatch",
        proxy: "    server s1 {S1}",
        server: ok,
        client: &[
            Send("GET http://a.test.com/x HTTP/1.1\r\nHost: A.test.com\r\n\r\n"),
            Response,
            Send("GET http://a.test.com/x HTTP/1.1\r\nHost: b.test.com\r\n\r\n"),
            UntilClose,
        ],
        logs: 2,
    });
    // The seed's Chrome pre-connect workaround: an empty 408 page.
    check(&Case {
        name: "408-dev-null",
        proxy: "    timeout http-request 1s\n    errorfile 408 /dev/null\n    server s1 {S1}",
        server: ok,
        client: &[Send("GET /g HTTP/1.1\r\nHost: x\r\n"), UntilClose],
        logs: 1,
    });
    check(&Case {
        name: "keep-alive-timeout",
        proxy: "    timeout http-keep-alive 1s\n    server s1 {S1}",
        server: ok,
        client: &[
            Send("GET /g HTTP/1.1\r\nHost: x\r\n\r\n"),
            Response,
            UntilClose,
        ],
        logs: 1,
    });
}

#[test]
fn deny_and_pipelining() {
    check(&Case {
        name: "deny",
        proxy: "    http-request deny if { path /d }\n    server s1 {S1}",
        server: ok,
        client: &[
            Send("GET /d HTTP/1.1\r\nHost: x\r\n\r\nGET /1 HTTP/1.1\r\nHost: x\r\n\r\n"),
            Response,
            Response,
        ],
        logs: 2,
    });
}

#[test]
fn request_and_response_rules_edit_headers() {
    check(&Case {
        name: "rules",
        proxy: "    http-request set-header X-Proto http\n\
                 \x20   http-request add-header X-Added a\n\
                 \x20   http-request del-header X-Remove\n\
                 \x20   http-request replace-header User-Agent (.*)bot(.*) \\1robot\\2\n\
                 \x20   http-request replace-value Accept ^text/(.*)$ app/\\1\n\
                 \x20   http-request set-path /rewritten if { path_beg /old }\n\
                 \x20   http-request set-query q=1 if { path_beg /query }\n\
                 \x20   http-request set-method POST if { path_beg /method }\n\
                 \x20   http-response set-header X-Resp yes\n\
                 \x20   http-response del-header X-Server\n\
                 \x20   http-response add-header Cache-Control no-store\n\
                 \x20   server s1 {S1}",
        server: |r| {
            let deny = if r.head_text().contains("/deny") { "X-Deny: 1\r\n" } else { "" };
            Action::Send(
                format!("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Server: s1\r\n{deny}\r\nok")
                    .into_bytes(),
            )
        },
        client: &[
            Send("GET /old/x?a=b HTTP/1.1\r\nHost: x\r\nX-Proto: https\r\nX-Remove: 1\r\nUser-Agent: googlebot/2\r\nAccept: text/html, image/png\r\n\r\n"),
            Response,
            Send("GET /query?z=9 HTTP/1.1\r\nHost: x\r\n\r\n"),
            Response,
            Send("GET /method HTTP/1.1\r\nHost: x\r\n\r\n"),
            Response,
            Send("GET /after HTTP/1.1\r\nHost: x\r\n\r\n"),
            Response,
        ],
        logs: 4,
    });
    check(&Case {
        name: "response-deny",
        proxy: "    http-response deny deny_status 503\n    server s1 {S1}",
        server: ok,
        client: &[
            Send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n"),
            Response,
            Send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n"),
            UntilClose,
        ],
        logs: 2,
    });
}

#[test]
fn error_locations() {
    check(&Case {
        name: "errorloc",
        proxy: "    errorloc 502 http://www.test.com/502.html\n    errorloc303 503 http://www.test.com/503.html\n    server s1 {S1}",
        server: |_| Action::SendClose(b"FOO\r\n\r\n".to_vec()),
        client: &[Send("GET /g HTTP/1.1\r\nHost: x\r\n\r\n"), Response],
        logs: 1,
    });
    check(&Case {
        name: "errorloc303",
        proxy: "    errorloc303 503 http://www.test.com/503.html\n    timeout client 1s\n    retries 0\n    server s1 127.0.0.1:1",
        server: ok,
        client: &[
            Send("GET /g HTTP/1.1\r\nHost: x\r\n\r\n"),
            Response,
            Send("GET /h HTTP/1.1\r\nHost: x\r\n\r\n"),
            Response,
        ],
        logs: 2,
    });
}

#[test]
fn http_request_redirect() {
    check(&Case {
        name: "hr-redirect",
        proxy: "    http-request redirect scheme https code 301 if { hdr(host) -i secure.x }\n\
                 \x20   http-request redirect location /moved drop-query if { path_beg /old }\n\
                 \x20   server s1 {S1}",
        server: ok,
        client: &[
            Send("GET /a?b=1 HTTP/1.1\r\nHost: secure.x\r\n\r\n"),
            Response,
            Send("GET /old/x?y=2 HTTP/1.1\r\nHost: x\r\n\r\n"),
            Response,
            Send("GET /other HTTP/1.1\r\nHost: x\r\n\r\n"),
            Response,
        ],
        logs: 3,
    });
}

#[test]
fn http_request_return() {
    check(&Case {
        name: "hr-return",
        proxy: "    http-request return status 200 content-type text/plain string ok hdr X-A 1 if { path /health }\n\
                 \x20   http-request return status 404 if { path /missing }\n\
                 \x20   server s1 {S1}",
        server: ok,
        client: &[
            Send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"),
            Response,
            Send("GET /missing HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n"),
            Response,
            Send("GET /other HTTP/1.1\r\nHost: x\r\n\r\n"),
            Response,
        ],
        logs: 3,
    });
}

/// HAProxy's 400 and 408 messages say `Connection: close` themselves: a
/// deny with either closes the connection, and the logged size counts the
/// header; a 403 keeps the connection.
#[test]
fn deny_statuses_that_close() {
    check(&Case {
        name: "deny-closing",
        proxy: "    http-request deny deny_status 400 if { path /400 }\n\
                 \x20   http-request deny deny_status 408 if { path /408 }\n\
                 \x20   http-request deny if { path /403 }\n\
                 \x20   server s1 {S1}",
        server: ok,
        client: &[
            Send("GET /403 HTTP/1.1\r\nHost: x\r\n\r\n"),
            Response,
            Send("GET /400 HTTP/1.1\r\nHost: x\r\n\r\n"),
            UntilClose,
            Reconnect,
            Send("GET /408 HTTP/1.1\r\nHost: x\r\n\r\n"),
            UntilClose,
        ],
        logs: 3,
    });
}
