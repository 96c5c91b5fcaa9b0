//! Head syntax: header lines, the request line and version, pipelined
//! requests (denied ones, ones after a broken request, Expect).

use crate::{bytes, chunked, next, one, send, steps, Case, Front, Step, DENIED, HIDDEN};

// ---------------------------------------------------------------------
// 6. Header syntax

fn header_case(name: &str, answers: usize, headers: &[u8]) -> Case {
    let wire = bytes(&[
        format!("GET /hdr/{name} HTTP/1.1\r\n").as_bytes(),
        headers,
        b"\r\n",
        next("hdr").as_bytes(),
    ]);
    one(&format!("hdr/{name}"), answers, wire)
}

pub fn headers() -> Vec<Case> {
    // Header lines, Host included, to the count.
    let lines = |n: usize| -> String {
        let mut out = String::from("Host: a\r\n");
        out.extend((1..n).map(|i| format!("X-H{i}: v\r\n")));
        out
    };
    let long = |len: usize| format!("Host: a\r\nX-Long: {}\r\n", "l".repeat(len));
    vec![
        header_case("baseline", 2, b"Host: a\r\n"),
        header_case("space-before-colon", 2, b"Host: a\r\nX-A : 1\r\n"),
        header_case("host-space-before-colon", 2, b"Host : a\r\n"),
        header_case("tab-in-name", 2, b"Host: a\r\nX\tA: 1\r\n"),
        header_case("space-in-name", 2, b"Host: a\r\nX A: 1\r\n"),
        header_case("empty-name", 2, b"Host: a\r\n: v\r\n"),
        header_case("no-colon", 2, b"Host: a\r\nGarbage\r\n"),
        header_case("non-token-name", 2, b"Host: a\r\nX(A): 1\r\n"),
        header_case("8bit-name", 2, b"Host: a\r\nX-\xe9: 1\r\n"),
        header_case("nul-in-value", 2, b"Host: a\r\nX-A: a\x00b\r\n"),
        header_case("cr-in-value", 2, b"Host: a\r\nX-A: a\rb\r\n"),
        header_case(
            "cr-in-value-hides-header",
            2,
            b"Host: a\r\nX-A: a\rTransfer-Encoding: chunked\r\n",
        ),
        header_case("lf-in-value", 2, b"Host: a\r\nX-A: a\nX-B: b\r\n"),
        header_case("del-in-value", 2, b"Host: a\r\nX-A: a\x7fb\r\n"),
        header_case("8bit-in-value", 2, b"Host: a\r\nX-A: caf\xe9\r\n"),
        header_case("obs-fold", 2, b"Host: a\r\nX-A: a\r\n b\r\n"),
        header_case("obs-fold-tab", 2, b"Host: a\r\nX-A: a\r\n\tb\r\n"),
        header_case("obs-fold-first-line", 2, b" X-A: a\r\nHost: a\r\n"),
        header_case("lines-100", 2, lines(100).as_bytes()),
        header_case("lines-101", 2, lines(101).as_bytes()),
        header_case("lines-102", 2, lines(102).as_bytes()),
        header_case("long-14000", 2, long(14_000).as_bytes()),
        header_case("long-15200", 2, long(15_200).as_bytes()),
        header_case("long-15500", 2, long(15_500).as_bytes()),
        header_case("long-16500", 2, long(16_500).as_bytes()),
        header_case("host-dup-same", 2, b"Host: a\r\nHost: a\r\n"),
        header_case("host-dup-different", 2, b"Host: a\r\nHost: b\r\n"),
        header_case("host-dup-case", 2, b"Host: a\r\nHost: A\r\n"),
        header_case("host-with-port", 2, b"Host: a:8080\r\n"),
        header_case("host-empty", 2, b"Host:\r\n"),
        header_case("host-missing", 2, b"X-A: 1\r\n"),
        header_case("host-list", 2, b"Host: a, b\r\n"),
        header_case(
            "value-leading-trailing-ws",
            2,
            b"Host: a\r\nX-A: \t v \t\r\n",
        ),
    ]
}

// ---------------------------------------------------------------------
// 7. Request line and version

fn line_case(name: &str, answers: usize, wire: &[u8]) -> Case {
    one(
        &format!("line/{name}"),
        answers,
        bytes(&[wire, next("line").as_bytes()]),
    )
}

pub fn request_line() -> Vec<Case> {
    let long = |len: usize| format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "p".repeat(len));
    vec![
        line_case("baseline", 2, b"GET /line HTTP/1.1\r\nHost: a\r\n\r\n"),
        line_case(
            "empty-line-before",
            2,
            b"\r\nGET /line HTTP/1.1\r\nHost: a\r\n\r\n",
        ),
        line_case(
            "empty-lines-before",
            2,
            b"\r\n\r\n\r\nGET /line HTTP/1.1\r\nHost: a\r\n\r\n",
        ),
        line_case(
            "bare-lf-before",
            2,
            b"\nGET /line HTTP/1.1\r\nHost: a\r\n\r\n",
        ),
        line_case("http-1.2", 2, b"GET /line HTTP/1.2\r\nHost: a\r\n\r\n"),
        line_case("http-2.0", 2, b"GET /line HTTP/2.0\r\nHost: a\r\n\r\n"),
        line_case("http-1.10", 2, b"GET /line HTTP/1.10\r\nHost: a\r\n\r\n"),
        line_case("http-01.1", 2, b"GET /line HTTP/01.1\r\nHost: a\r\n\r\n"),
        line_case("http-0.9", 2, b"GET /line\r\n\r\n"),
        line_case(
            "lowercase-version",
            2,
            b"GET /line http/1.1\r\nHost: a\r\n\r\n",
        ),
        line_case(
            "trailing-space",
            2,
            b"GET /line HTTP/1.1 \r\nHost: a\r\n\r\n",
        ),
        line_case("double-space", 2, b"GET  /line HTTP/1.1\r\nHost: a\r\n\r\n"),
        line_case(
            "tab-separators",
            2,
            b"GET\t/line\tHTTP/1.1\r\nHost: a\r\n\r\n",
        ),
        line_case("bare-lf-line", 2, b"GET /line HTTP/1.1\nHost: a\n\n"),
        line_case(
            "absolute-same-host",
            2,
            b"GET http://a/line HTTP/1.1\r\nHost: a\r\n\r\n",
        ),
        line_case(
            "absolute-other-host",
            2,
            b"GET http://a/line HTTP/1.1\r\nHost: b\r\n\r\n",
        ),
        line_case(
            "absolute-port-80",
            2,
            b"GET http://a:80/abs HTTP/1.1\r\nHost: a\r\n\r\n",
        ),
        line_case(
            "absolute-https",
            2,
            b"GET https://a/line HTTP/1.1\r\nHost: a\r\n\r\n",
        ),
        line_case(
            "absolute-denied",
            2,
            b"GET http://a/denied HTTP/1.1\r\nHost: a\r\n\r\n",
        ),
        line_case(
            "absolute-no-path",
            2,
            b"GET http://a HTTP/1.1\r\nHost: a\r\n\r\n",
        ),
        line_case(
            "double-slash-denied",
            2,
            b"GET //denied HTTP/1.1\r\nHost: a\r\n\r\n",
        ),
        line_case(
            "encoded-denied",
            2,
            b"GET /%64enied HTTP/1.1\r\nHost: a\r\n\r\n",
        ),
        line_case(
            "query-with-url",
            2,
            b"GET /login?next=https://app.example/cb HTTP/1.1\r\nHost: a\r\n\r\n",
        ),
        line_case("fragment", 2, b"GET /line#frag HTTP/1.1\r\nHost: a\r\n\r\n"),
        line_case("options-star", 2, b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"),
        line_case("get-star", 2, b"GET * HTTP/1.1\r\nHost: a\r\n\r\n"),
        line_case(
            "connect",
            2,
            b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n",
        ),
        line_case(
            "8bit-target",
            2,
            b"GET /caf\xe9 HTTP/1.1\r\nHost: a\r\n\r\n",
        ),
        line_case("ctl-target", 2, b"GET /a\x01b HTTP/1.1\r\nHost: a\r\n\r\n"),
        line_case("del-target", 2, b"GET /a\x7fb HTTP/1.1\r\nHost: a\r\n\r\n"),
        line_case("long-target-15000", 2, long(15_000).as_bytes()),
        line_case("long-target-17000", 2, long(17_000).as_bytes()),
        line_case(
            "method-non-token",
            2,
            b"GE(T /line HTTP/1.1\r\nHost: a\r\n\r\n",
        ),
        line_case(
            "method-lowercase",
            2,
            b"get /line HTTP/1.1\r\nHost: a\r\n\r\n",
        ),
        line_case(
            "method-unknown",
            2,
            b"FOO /line HTTP/1.1\r\nHost: a\r\n\r\n",
        ),
        line_case("no-target", 2, b"GET HTTP/1.1\r\nHost: a\r\n\r\n"),
    ]
}

// ---------------------------------------------------------------------
// 8. Pipelining

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: a\r\n\r\n")
}

pub fn pipelining() -> Vec<Case> {
    let expect_head = "POST /pipe/expect HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n";
    vec![
        one("pipe/two", 2, format!("{}{}", get("/pipe/1"), get("/pipe/2"))),
        one("pipe/three", 3, format!("{}{}{}", get("/pipe/1"), get("/pipe/2"), get("/pipe/3"))),
        one("pipe/ten", 10, (0..10).map(|i| get(&format!("/pipe/{i}"))).collect::<String>()),
        one("pipe/second-denied", 2, format!("{}{DENIED}", get("/pipe/1"))),
        one("pipe/first-denied", 2, format!("{DENIED}{}", get("/pipe/2"))),
        one("pipe/middle-denied", 3, format!("{}{DENIED}{}", get("/pipe/1"), get("/pipe/3"))),
        one(
            "pipe/post-then-denied",
            2,
            format!("POST /pipe/1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello{DENIED}"),
        ),
        one(
            "pipe/chunked-then-denied",
            2,
            format!("POST /pipe/1 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n{}{DENIED}", chunked("hello")),
        ),
        one(
            "pipe/bad-cl-then-hidden",
            2,
            format!("POST /pipe/1 HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n{HIDDEN}"),
        ),
        one(
            "pipe/bad-chunk-then-hidden",
            2,
            format!("POST /pipe/1 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n{HIDDEN}"),
        ),
        one(
            "pipe/bad-header-then-hidden",
            2,
            format!("GET /pipe/1 HTTP/1.1\r\nHost: a\r\nBad Header: 1\r\n\r\n{HIDDEN}"),
        ),
        one(
            "pipe/after-connection-close",
            2,
            format!("GET /pipe/1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n{HIDDEN}"),
        ),
        one(
            "pipe/after-http10",
            2,
            format!("GET /pipe/1 HTTP/1.0\r\nHost: a\r\n\r\n{HIDDEN}"),
        ),
        one(
            "pipe/upgrade-then-hidden",
            2,
            format!("GET /pipe/ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n{HIDDEN}"),
        ),
        one(
            "pipe/head-then-get",
            2,
            format!("HEAD /pipe/1 HTTP/1.1\r\nHost: a\r\n\r\n{}", get("/pipe/2")),
        ),
        steps(
            "pipe/expect-100-waits",
            Front::Main,
            2,
            vec![send(expect_head), Step::Read(1), send("hello")],
        ),
        one("pipe/expect-100-body-at-once", 2, format!("{expect_head}hello")),
        one(
            "pipe/expect-100-http10",
            1,
            "POST /pipe/expect HTTP/1.0\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello",
        ),
        one(
            "pipe/expect-unknown",
            1,
            "POST /pipe/expect HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 200-ok\r\n\r\nhello",
        ),
        one(
            "pipe/expect-100-then-denied",
            3,
            format!("{expect_head}hello{DENIED}"),
        ),
    ]
}
