//! Raw requests with the verdict haproxy 2.6.12 gave them.
//!
//! How each verdict was observed (2026-11-25): a config with `mode http`,
//! `bind 127.0.0.1:18480` and `http-request return status 200 content-type
//! text/plain string ok`, started with `haproxy -f h.cfg -D`; each request
//! below was sent by python3 (`socket.create_connection`, `sendall`, read to
//! EOF) and the status line of the answer recorded. "400" answers were the
//! mux's exact 400 bytes (errors.rs). The verdict here combines the head
//! parser and the request framing decision.
//!

use super::super::body;
use super::*;

/// (name, raw request, status haproxy answered).
const CASES: &[(&str, &[u8], u16)] = &[
    ("ok", b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 200),
    // HTTP/1.1 without Host is not refused by 2.6.
    ("no_host_11", b"GET / HTTP/1.1\r\n\r\n", 200),
    ("space_before_colon", b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
    // CL+TE: accepted, CL dropped, answered with `connection: close`.
    (
        "cl_te",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        200,
    ),
    (
        "te_chunked_identity",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
        400,
    ),
    // obs-fold is unfolded: TE is chunked.
    (
        "te_obs_fold",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n",
        200,
    ),
    (
        "cl_differ",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        400,
    ),
    (
        "cl_same",
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab",
        200,
    ),
    ("bad_version", b"GET / HTTP/1.x\r\n\r\n", 400),
    ("bad_method", b"G(T / HTTP/1.1\r\n\r\n", 400),
    ("nul_value", b"GET / HTTP/1.1\r\nA: b\x00c\r\n\r\n", 200),
    ("lone_cr_value", b"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", 400),
    ("bare_lf", b"GET / HTTP/1.1\nHost: a\n\n", 200),
    ("uri_8bit", b"GET /\xe9 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("te_identity", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", 400),
    (
        "te_gzip_chunked",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        422,
    ),
    ("te_http10", b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 200),
    ("cl_plus", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +2\r\n\r\nab", 400),
    ("cl_list_same", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2, 2\r\n\r\nab", 200),
    (
        "chunk_ext_trailer",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2;a=b\r\nab\r\n0\r\nT: 1\r\n\r\n",
        200,
    ),
    (
        "bad_chunk_size",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n",
        400,
    ),
    (
        "chunk_size_overflow",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n11111111111111111\r\n",
        400,
    ),
    ("space_in_name", b"GET / HTTP/1.1\r\nA B: c\r\n\r\n", 400),
    // Observed 2026-12-07 the same way (haproxy 2.6.12-1+deb12u3).
    ("empty_lines_before", b"\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 200),
    ("spaces_and_tabs", b"GET \t /x  HTTP/1.1\r\nHost: a\r\n\r\n", 200),
    ("fragment", b"GET /a#f HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("http09", b"GET /\r\n", 400),
    ("http12", b"GET / HTTP/1.2\r\nHost: a\r\n\r\n", 200),
    ("http20", b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 200),
    ("lower_version", b"GET / http/1.1\r\nHost: a\r\n\r\n", 400),
    ("version_space", b"GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400),
    ("oauth_next", b"GET /login?next=https://app.example/cb HTTP/1.1\r\nHost: a\r\n\r\n", 200),
    ("abs_default_port", b"GET http://a:80/abs HTTP/1.1\r\nHost: a\r\n\r\n", 200),
    ("abs_other_host", b"GET http://b/abs HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("abs_other_port", b"GET http://a:8080/abs HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("host_differ", b"GET / HTTP/1.1\r\nHost: other\r\nHost: a\r\n\r\n", 400),
    ("host_same", b"GET / HTTP/1.1\r\nHost: a\r\nHost: A\r\n\r\n", 200),
    ("cl_empty", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", 400),
    ("cl_comma", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ,\r\n\r\n", 400),
    ("cl_trailing_comma", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,\r\n\r\nhello", 400),
    ("cl_leading_comma", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ,5\r\n\r\nhello", 400),
    ("cl_form_feed", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \x0c5\r\n\r\nhello", 400),
    ("te_form_feed", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \x0cchunked\r\n\r\n0\r\n\r\n", 400),
    ("te_leading_comma", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,chunked\r\n\r\n0\r\n\r\n", 422),
    ("te_twice", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    ("te_identity_chunked", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n", 422),
    ("expect_10", b"POST / HTTP/1.0\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\nab", 200),
    ("get10_body", b"GET / HTTP/1.0\r\nContent-Length: 2\r\n\r\nab", 413),
    ("chunk_negative", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk_0x", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", 400),
    ("chunk_2e52", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000\r\n", 400),
    ("chunk_leading_zeros", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000000005\r\nhello\r\n0\r\n\r\n", 200),
    ("chunk_cr_in_ext", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a\rb\r\nhello\r\n0\r\n\r\n", 400),
    ("trailer_no_colon", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nabc\r\n\r\n", 400),
    ("trailer_bare_cr", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nx-t: a\rSet-Cookie: evil=1\r\n\r\n", 400),
    ("trailer_te", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
    ("trailer_cl", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nContent-Length: 5\r\n\r\n", 200),
    ("connect_no_port", b"CONNECT a HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("nul_in_target", b"GET /\x00 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("del_in_target", b"GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("space_first", b" GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
    ("bare_cr_after_line", b"GET / HTTP/1.1\rHost: a\r\n\r\n", 400),
];

fn verdict(raw: &[u8]) -> u16 {
    match parse_request(raw) {
        Ok(Some(h)) => match body::request(&h, raw) {
            Ok(d) if d.framing == body::Framing::Chunked => {
                let mut c = super::super::chunked::ChunkedDecoder::default();
                match c.feed(&raw[h.len..], None) {
                    Ok(_) => 200,
                    Err(_) => 400,
                }
            }
            Ok(_) => 200,
            Err(e) => e.request_status(),
        },
        Ok(None) => 0,
        Err(e) => e.status(true),
    }
}

#[test]
fn every_case_gets_haproxys_verdict() {
    for (name, raw, want) in CASES {
        assert_eq!(verdict(raw), *want, "{name}");
    }
}

/// haproxy 2.6.12 answered 200 to 100 header lines and 400 to 101.
#[test]
fn a_hundred_header_lines_at_most() {
    let head = |n: usize| {
        let lines: String = (0..n).map(|i| format!("X-{i}: a\r\n")).collect();
        format!("GET / HTTP/1.1\r\n{lines}\r\n").into_bytes()
    };
    assert_eq!(verdict(&head(100)), 200);
    assert_eq!(verdict(&head(101)), 400);
}

/// Bisected on the binary: a one-header request of 15277 bytes was
/// answered 200, one of 15278 bytes the mux's 400; 20000 bytes → 400.
#[test]
fn huge_heads_at_haproxys_boundary() {
    let head = |n: usize| {
        let (pre, suf) = (&b"GET / HTTP/1.1\r\nA: "[..], &b"\r\n\r\n"[..]);
        let mut v = pre.to_vec();
        v.resize(n - suf.len(), b'x');
        v.extend_from_slice(suf);
        v
    };
    assert_eq!(verdict(&head(15277)), 200);
    assert_eq!(verdict(&head(15278)), 400);
    assert_eq!(verdict(&head(20000)), 400);
}

/// Responses: a python3 server on 127.0.0.1:18490 answering raw bytes per
/// path, behind `frontend fe` (bind 127.0.0.1:18482) → `backend be` →
/// `server s1 127.0.0.1:18490`; haproxy answered the client the HTX 502
/// (errors.rs, lowercase, no close) for both, and passed the valid one.
#[test]
fn malformed_responses_are_502() {
    for (raw, want) in [
        (&b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"[..], None),
        (
            b"HTTP/1.1 200 OK\r\nA : b\r\nContent-Length: 0\r\n\r\n",
            Some(502),
        ),
        (b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n", Some(502)),
    ] {
        let got = parse_response(raw).err().map(|e| e.status(false));
        assert_eq!(got, want, "{raw:?}");
    }
}
