//! The server's side: responses scripted byte for byte (framing, status
//! lines, bodies where none may be, trailers), and a server that
//! misbehaves around connection reuse (stray bytes on an idle connection,
//! a close after answering).

use crate::{send, steps, Case, Front, Step};
use xtests::recorder::{Reply, Seen, OK};

/// The stray response a misbehaving server writes on an idle connection.
const STRAY: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\ninjected";

// ---------------------------------------------------------------------
// 9. Response side: the recorder answers scripted raw bytes

/// What the recorder does after a scripted answer.
#[derive(Clone, Copy)]
enum Tail {
    /// Keeps the connection and reads the next request.
    Keep,
    /// Closes its side.
    Close,
    /// Writes [`STRAY`] once the client has the answer.
    Stray,
}

/// Scripted answers: (request path, what follows, the answer's bytes).
const RESPONSES: &[(&str, Tail, &[u8])] = &[
    ("/resp/te-chunked", Tail::Keep, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
    ("/resp/te-xchunked", Tail::Close, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
    ("/resp/te-ff-chunked", Tail::Close, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: \x0cchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
    ("/resp/te-chunked-http10", Tail::Close, b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
    ("/resp/chunk-bad-size", Tail::Keep, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"),
    ("/resp/chunk-size-wrap", Tail::Keep, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n"),
    ("/resp/chunk-ext-bare-cr", Tail::Keep, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a\rb\r\nhello\r\n0\r\n\r\n"),
    ("/resp/chunked-then-response", Tail::Keep, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\ninjected"),
    ("/resp/trailer-bare-cr-cookie", Tail::Keep, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nx-t: a\rSet-Cookie: evil=1\r\n\r\n"),
    ("/resp/trailer-cookie", Tail::Keep, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nSet-Cookie: evil=1\r\n\r\n"),
    ("/resp/trailer-no-colon", Tail::Keep, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\ninjected\r\n\r\n"),
    ("/resp/cl-te", Tail::Keep, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
    ("/resp/te-cl-hides-response", Tail::Keep, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 50\r\n\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\ninjected"),
    ("/resp/cl-two-different", Tail::Keep, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 10\r\n\r\nokinjected"),
    ("/resp/cl-two-equal", Tail::Keep, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"),
    ("/resp/cl-list-different", Tail::Keep, b"HTTP/1.1 200 OK\r\nContent-Length: 2, 10\r\n\r\nokinjected"),
    ("/resp/cl-negative", Tail::Keep, b"HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\nok"),
    ("/resp/cl-plus", Tail::Keep, b"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok"),
    ("/resp/cl-huge", Tail::Close, b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\nok"),
    ("/resp/cl-space-before-colon", Tail::Keep, b"HTTP/1.1 200 OK\r\nContent-Length : 8\r\n\r\ninjected"),
    ("/resp/extra-after-body", Tail::Keep, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokinjected"),
    ("/resp/second-response", Tail::Keep, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\ninjected"),
    ("/resp/status-2000", Tail::Keep, b"HTTP/1.1 2000 X\r\nContent-Length: 2\r\n\r\nok"),
    ("/resp/status-20", Tail::Keep, b"HTTP/1.1 20 X\r\nContent-Length: 2\r\n\r\nok"),
    ("/resp/status-099", Tail::Keep, b"HTTP/1.1 099 X\r\nContent-Length: 2\r\n\r\nok"),
    ("/resp/status-999", Tail::Keep, b"HTTP/1.1 999 X\r\nContent-Length: 2\r\n\r\nok"),
    ("/resp/status-no-reason", Tail::Keep, b"HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok"),
    ("/resp/204-with-body", Tail::Keep, b"HTTP/1.1 204 No Content\r\nContent-Length: 8\r\n\r\ninjected"),
    ("/resp/204-then-response", Tail::Keep, b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\ninjected"),
    ("/resp/304-with-body", Tail::Keep, b"HTTP/1.1 304 Not Modified\r\nContent-Length: 8\r\n\r\ninjected"),
    ("/resp/close-delimited", Tail::Close, b"HTTP/1.1 200 OK\r\n\r\nhello"),
    ("/resp/close-delimited-http10", Tail::Close, b"HTTP/1.0 200 OK\r\n\r\nhello"),
    ("/resp/100-then-200", Tail::Keep, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    ("/resp/100-with-body", Tail::Keep, b"HTTP/1.1 100 Continue\r\nContent-Length: 8\r\n\r\ninjectedHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    ("/resp/101-unrequested", Tail::Close, b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\ninjected"),
    ("/resp/obs-fold", Tail::Keep, b"HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 2\r\n\r\nok"),
    ("/resp/obs-fold-cl", Tail::Keep, b"HTTP/1.1 200 OK\r\nContent-Length:\r\n 2\r\n\r\nok"),
    ("/resp/header-bare-cr-cookie", Tail::Keep, b"HTTP/1.1 200 OK\r\nX-A: a\rSet-Cookie: evil=1\r\nContent-Length: 2\r\n\r\nok"),
    ("/resp/header-nul", Tail::Keep, b"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 2\r\n\r\nok"),
    ("/resp/bare-lf", Tail::Keep, b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok"),
    ("/resp/garbage", Tail::Close, b"FOO\r\n\r\n"),
    ("/resp/head-with-body", Tail::Keep, b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\ninjected"),
    ("/reuse/stray", Tail::Stray, OK),
    ("/reuse/stray-same-write", Tail::Keep, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\ninjected"),
    ("/reuse/stray-garbage", Tail::Stray, OK),
    ("/reuse/stray-100", Tail::Stray, OK),
    ("/reuse/stray-partial", Tail::Stray, OK),
    ("/reuse/stray-after-204", Tail::Stray, b"HTTP/1.1 204 No Content\r\n\r\n"),
    ("/reuse/stray-then-post", Tail::Stray, OK),
    ("/reuse/stray-chunked", Tail::Stray, OK),
    ("/reuse/stray-after-chunked", Tail::Stray, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"),
    ("/reuse/stray-three", Tail::Stray, OK),
    ("/reuse/stray-http10", Tail::Stray, b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok"),
    ("/reuse/close", Tail::Close, OK),
    ("/reuse/close-http10", Tail::Close, b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    ("/reuse/close-header-kept-open", Tail::Keep, b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"),
];

/// What each `/reuse/stray*` path writes on the idle connection.
fn stray_bytes(path: &str) -> Vec<u8> {
    match path {
        "/reuse/stray-garbage" => b"XXXXXXXXXXXXXXXX injected".to_vec(),
        "/reuse/stray-100" => b"HTTP/1.1 100 Continue\r\nX-Injected: injected\r\n\r\n".to_vec(),
        "/reuse/stray-chunked" => {
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\ninjected\r\n0\r\n\r\n"
                .to_vec()
        }
        "/reuse/stray-partial" => b"HTTP/1.1 200 OK\r\nX-Injected: injected\r\nContent-Le".to_vec(),
        _ => STRAY.to_vec(),
    }
}

/// The recorders' script: the scripted answer for a path of
/// [`RESPONSES`], [`OK`] otherwise.
pub fn script(seen: &Seen) -> Reply {
    let path = seen.target.split('?').next().unwrap_or("");
    let Some((_, tail, answer)) = RESPONSES.iter().find(|(p, _, _)| *p == path) else {
        return Reply::Ok;
    };
    match tail {
        Tail::Keep => Reply::Raw(answer.to_vec()),
        Tail::Close => Reply::RawThenClose(answer.to_vec()),
        Tail::Stray => Reply::RawThenStray(answer.to_vec(), stray_bytes(path)),
    }
}

pub fn responses() -> Vec<Case> {
    RESPONSES
        .iter()
        .filter_map(|(path, _, _)| path.strip_prefix("/resp/"))
        .map(|name| {
            let method = if name == "head-with-body" {
                "HEAD"
            } else {
                "GET"
            };
            let mut case = steps(
                &format!("resp/{name}"),
                Front::Resp,
                2,
                vec![
                    send(format!("{method} /resp/{name} HTTP/1.1\r\nHost: a\r\n\r\n")),
                    Step::Read(1),
                    Step::Settle,
                    send(format!("{method} /after HTTP/1.1\r\nHost: a\r\n\r\n")),
                ],
            );
            case.head_only = method == "HEAD";
            case
        })
        .collect()
}

// ---------------------------------------------------------------------
// 10. Server misbehaviour around connection reuse

/// Request 1 to `path`, its answer read, the stray bytes let out and the
/// server connection settled, then request 2 (`second`).
fn reuse_case(name: &str, path: &str, first: &str, second: &str, answers: usize) -> Case {
    let mut s = vec![
        send(first.replace("{P}", path)),
        Step::Read(1),
        Step::Signal,
        Step::Settle,
    ];
    s.push(send(second));
    steps(&format!("reuse/{name}"), Front::Resp, answers, s)
}

pub fn reuse() -> Vec<Case> {
    let req1 = "GET {P} HTTP/1.1\r\nHost: a\r\n\r\n";
    let req2 = "GET /after HTTP/1.1\r\nHost: a\r\n\r\n";
    // Not pipelined (request 2 sent with request 1): HAProxy then sends
    // request 2 on the kept server connection or on a new one at random
    // (whether the first stream has released it yet), so what the client
    // gets is random too. Nor a server that closes when request 2 comes
    // (after answering request 1): HAProxy then closes the client's
    // connection, or had sent request 2 on a new server connection and
    // answers it, at random.
    vec![
        reuse_case("stray-after-answer", "/reuse/stray", req1, req2, 2),
        reuse_case("stray-same-write", "/reuse/stray-same-write", req1, req2, 2),
        reuse_case("stray-garbage", "/reuse/stray-garbage", req1, req2, 2),
        reuse_case("stray-100", "/reuse/stray-100", req1, req2, 2),
        reuse_case("stray-partial", "/reuse/stray-partial", req1, req2, 2),
        reuse_case("stray-after-204", "/reuse/stray-after-204", req1, req2, 2),
        reuse_case(
            "stray-then-post",
            "/reuse/stray-then-post",
            req1,
            "POST /after HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
            2,
        ),
        reuse_case("stray-chunked", "/reuse/stray-chunked", req1, req2, 2),
        reuse_case(
            "stray-after-chunked",
            "/reuse/stray-after-chunked",
            req1,
            req2,
            2,
        ),
        reuse_case(
            "stray-three",
            "/reuse/stray-three",
            req1,
            &format!("{req2}{req2}"),
            3,
        ),
        reuse_case(
            "stray-http10",
            "/reuse/stray-http10",
            "GET {P} HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n",
            "GET /after HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n",
            2,
        ),
        reuse_case("close-after-answer", "/reuse/close", req1, req2, 2),
        reuse_case("close-http10", "/reuse/close-http10", req1, req2, 2),
        reuse_case(
            "close-header-kept-open",
            "/reuse/close-header-kept-open",
            req1,
            req2,
            2,
        ),
        reuse_case("baseline", "/reuse/plain", req1, req2, 2),
    ]
}
