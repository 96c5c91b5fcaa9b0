//! Head parser tests: valid heads, HAProxy's 400 cases, proptests.
use super::*;
use proptest::prelude::*;

fn req(s: &str) -> Result<Option<Head>, HeadError> {
    parse_request(s.as_bytes())
}

#[test]
fn incomplete_head_needs_more_bytes() {
    assert_eq!(req("GET / HTTP/1.1\r\nHost: a\r\n"), Ok(None));
}

#[test]
fn spans_point_into_the_original_bytes() {
    let b = b"GET /x HTTP/1.1\r\nHost:  a.b \r\nX-A: 1\r\n\r\nBODY";
    let h = parse_request(b).unwrap().unwrap();
    assert_eq!(h.first.of(b), b"GET");
    assert_eq!(h.second.of(b), b"/x");
    assert_eq!(h.version, (1, 1));
    assert_eq!(h.len, b.len() - 4);
    assert_eq!(h.values(b, "HOST").collect::<Vec<_>>(), vec![&b"a.b"[..]]);
}

#[test]
fn bare_lf_line_ends_are_accepted() {
    assert!(req("GET / HTTP/1.0\nA: b\n\n").unwrap().is_some());
}

#[test]
fn refused_heads_are_400() {
    for bad in [
        "G(T / HTTP/1.1\r\n\r\n",
        "GET /a\x01 HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
        "GET / HTTP/1.1\r\nHo\"st: a\r\n\r\n",
        "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n",
        "GET / HTTP/1.1\r\n: b\r\n\r\n",
    ] {
        let e = req(bad).expect_err(bad);
        assert_eq!(e.status(true), 400, "{bad:?}");
    }
}

#[test]
fn obs_fold_joins_the_previous_value() {
    let b = b"GET / HTTP/1.1\r\nA: x\r\n y\r\n\r\n";
    let h = parse_request(b).unwrap().unwrap();
    assert_eq!(h.headers.len(), 1);
    assert!(h.headers[0].value.of(b).ends_with(b" y"));
}

#[test]
fn oversized_head_is_refused() {
    let big = format!(
        "GET / HTTP/1.1\r\nA: {}\r\n\r\n",
        "x".repeat(MAX_HEAD_BYTES)
    );
    assert_eq!(req(&big), Err(HeadError::TooLarge));
    assert_eq!(req(&big[..MAX_HEAD_BYTES + 1]), Err(HeadError::TooLarge));
    assert_eq!(req(&big[..MAX_HEAD_BYTES]), Ok(None));
}

/// Keep-alive as the proxy decides it from a parsed request: HTTP/1.1
/// unless `Connection: close`, HTTP/1.0 only with `keep-alive`.
#[test]
fn keep_alive_defaults_by_version() {
    use super::super::{connection, message::Message};
    let k = |s: &str| {
        let h = req(s).unwrap().unwrap();
        let tokens = connection::take_tokens(&mut Message::request(&h, s.as_bytes()));
        !connection::client_wants_close(h.version, tokens)
    };
    assert!(k("GET / HTTP/1.1\r\n\r\n"));
    assert!(!k("GET / HTTP/1.1\r\nConnection: foo, Close\r\n\r\n"));
    assert!(!k("GET / HTTP/1.0\r\n\r\n"));
    assert!(k("GET / HTTP/1.0\r\nconnection: keep-alive\r\n\r\n"));
}

#[test]
fn response_start_line() {
    let b = b"HTTP/1.1 204 No Content\r\n\r\n";
    let h = parse_response(b).unwrap().unwrap();
    assert_eq!(h.status, Some(204));
    assert_eq!(h.first.of(b), b"No Content");
    assert!(parse_response(b"HTTP/1.1 20x OK\r\n\r\n").is_err());
}

proptest! {
    #[test]
    fn never_panics(b in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_request(&b);
        let _ = parse_response(&b);
    }

    #[test]
    fn generated_requests_parse_back(
        method in "[A-Z]{1,8}",
        uri in "/[a-zA-Z0-9/?=&%.-]{0,40}",
        minor in 0u8..2,
        hdrs in proptest::collection::vec(("[a-zA-Z][a-zA-Z0-9-]{0,15}", "[!-~]([ !-~]{0,30}[!-~])?"), 0..10),
    ) {
        let mut s = format!("{method} {uri} HTTP/1.{minor}\r\n");
        for (n, v) in &hdrs { s.push_str(&format!("{n}: {v}\r\n")); }
        s.push_str("\r\n");
        let b = s.as_bytes();
        let h = parse_request(b).unwrap().unwrap();
        prop_assert_eq!(h.first.of(b), method.as_bytes());
        prop_assert_eq!(h.second.of(b), uri.as_bytes());
        prop_assert_eq!(h.version, (1, minor));
        prop_assert_eq!(h.headers.len(), hdrs.len());
        for (got, (n, v)) in h.headers.iter().zip(&hdrs) {
            prop_assert_eq!(got.name.of(b), n.as_bytes());
            prop_assert_eq!(got.value.of(b), v.as_bytes());
        }
        prop_assert_eq!(h.len, b.len());
    }
}

/// HAProxy's parser refuses a byte as soon as it arrives; it does not wait
/// for the rest of the head (nor for a timeout).
#[test]
fn a_bad_byte_is_refused_before_the_head_ends() {
    for partial in [
        "GET /a#",
        "GET /\r\n",
        "G(",
        "GET / HTTP/1.1\r\nHost : a",
        "GET / HTTP/1.1\r\nA: b\rc",
        "GET / HTTP/1.1\r\nContent-Length: 1, 2\r\nX",
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nX",
    ] {
        assert!(req(partial).is_err(), "{partial:?}");
    }
    // A version is judged once the head is whole, as HAProxy does.
    assert_eq!(req("GET / HTTP/1.10\r\nA: b\r\n"), Ok(None));
    assert_eq!(req("GET / HTTP/1.10\r\n\r\n"), Err(HeadError::Version));
}

#[test]
fn duplicates_haproxy_drops_are_gone() {
    let b = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\nHost: A\r\nContent-Length: 3\r\n\r\n";
    let h = parse_request(b).unwrap().unwrap();
    let names: Vec<&[u8]> = h.headers.iter().map(|x| x.name.of(b)).collect();
    assert_eq!(names, [&b"Host"[..], b"Content-Length"]);
    assert_eq!(h.values(b, "content-length").next(), Some(&b"3"[..]));
    assert_eq!(h.body.content_length, Some(3));
    let b = b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n";
    let h = parse_request(b).unwrap().unwrap();
    assert_eq!(h.values(b, "content-length").count(), 0);
    assert!(h.body.chunked && h.body.close && h.body.content_length.is_none());
}

#[test]
fn a_default_port_leaves_the_target() {
    let n = |u: &str| without_default_port(u.as_bytes());
    assert_eq!(
        n("http://a:80/abs?q"),
        Some((b"http://a/abs?q".to_vec(), b"a".to_vec()))
    );
    assert_eq!(
        n("https://u@a:443"),
        Some((b"https://u@a".to_vec(), b"a".to_vec()))
    );
    assert_eq!(n("http://a:443/"), None);
    assert_eq!(n("http://a/"), None);
    assert_eq!(n("/x?next=http://a:80/"), None);
}

proptest! {
    /// What the parser accepts, written back as the proxy writes heads,
    /// parses again to the same parts: nothing forwarded can be read
    /// differently by the next hop.
    #[test]
    fn accepted_heads_survive_a_round_trip(b in proptest::collection::vec(
        prop_oneof![
            Just(b"GET / HTTP/1.1\r\n".to_vec()), Just(b"Host: a\r\n".to_vec()),
            Just(b"A: b\r\n".to_vec()), Just(b" c\r\n".to_vec()), Just(b"\r\n".to_vec()),
            Just(b"Content-Length: 1, 1\r\n".to_vec()), Just(b"Transfer-Encoding: chunked\r\n".to_vec()),
            Just(b"\t".to_vec()), Just(b"\n".to_vec()), Just(b"x".to_vec()), Just(b":".to_vec()),
        ], 0..12)) {
        let raw = b.concat();
        if let Ok(Some(head)) = parse_request(&raw) {
            let msg = super::super::message::Message::request(&head, &raw);
            let out = msg.to_bytes();
            let again = parse_request(&out).expect("re-parses").expect("whole");
            prop_assert_eq!(again.headers.len(), head.headers.len());
            // The framing survives; `close` need not (a dropped
            // Content-Length took its reason with it).
            prop_assert_eq!(again.body.chunked, head.body.chunked);
            prop_assert_eq!(again.body.content_length, head.body.content_length);
        }
    }
}
