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
