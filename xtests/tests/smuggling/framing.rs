//! Message framing: Content-Length forms, Transfer-Encoding forms and
//! obfuscations, both together around a hidden request, chunk sizes and
//! extensions, trailers.

use crate::{bytes, chunked, next, one, Case, DENIED, HIDDEN};

// ---------------------------------------------------------------------
// 1. Content-Length forms

const CL_FORMS: &[(&str, &str)] = &[
    ("valid", "Content-Length: 5"),
    ("dup-equal", "Content-Length: 5\r\nContent-Length: 5"),
    ("dup-different", "Content-Length: 5\r\nContent-Length: 6"),
    (
        "dup-different-reversed",
        "Content-Length: 6\r\nContent-Length: 5",
    ),
    ("dup-one-invalid", "Content-Length: 5\r\nContent-Length: x"),
    ("list-equal", "Content-Length: 5, 5"),
    ("list-equal-nospace", "Content-Length: 5,5"),
    ("list-different", "Content-Length: 5, 6"),
    ("list-trailing-comma", "Content-Length: 5,"),
    ("list-leading-comma", "Content-Length: ,5"),
    ("list-empty-element", "Content-Length: 5,,5"),
    ("empty", "Content-Length: "),
    ("empty-no-space", "Content-Length:"),
    ("plus", "Content-Length: +5"),
    ("minus", "Content-Length: -5"),
    ("hex", "Content-Length: 0x5"),
    ("leading-zeros", "Content-Length: 0005"),
    ("decimal-point", "Content-Length: 5.0"),
    ("suffix-letter", "Content-Length: 5a"),
    ("inner-space", "Content-Length: 5 5"),
    ("huge-2p63", "Content-Length: 9223372036854775808"),
    ("huge-20-digits", "Content-Length: 99999999999999999999"),
    ("wrap-2p64-plus-5", "Content-Length: 18446744073709551621"),
    ("ws-sp-around", "Content-Length:   5   "),
    ("ws-htab-around", "Content-Length:\t5\t"),
    ("ws-vt-before", "Content-Length: \x0b5"),
    ("ws-ff-after", "Content-Length: 5\x0c"),
    ("ws-nbsp-before", "Content-Length: \u{a0}5"),
    ("name-upper", "CONTENT-LENGTH: 5"),
    ("name-space-before-colon", "Content-Length : 5"),
    ("name-tab-before-colon", "Content-Length\t: 5"),
];

pub fn content_length() -> Vec<Case> {
    let mut cases: Vec<Case> = CL_FORMS
        .iter()
        .map(|(name, header)| {
            let wire = format!(
                "POST /cl/{name} HTTP/1.1\r\nHost: a\r\n{header}\r\n\r\nhello{}",
                next("cl")
            );
            one(&format!("cl/{name}"), 2, wire)
        })
        .collect();
    cases.extend([
        one(
            "cl/get-with-body",
            2,
            format!("GET /cl/get HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello{}", next("cl")),
        ),
        one(
            "cl/get-body-hides-request",
            1,
            format!(
                "GET /cl/get HTTP/1.1\r\nHost: a\r\nContent-Length: {}\r\n\r\n{HIDDEN}",
                HIDDEN.len()
            ),
        ),
        one(
            "cl/body-shorter",
            1,
            "POST /cl/short HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhello",
        ),
        one(
            "cl/body-longer-garbage",
            2,
            "POST /cl/long HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello world\r\n\r\n",
        ),
        one(
            "cl/body-longer-pipelined",
            2,
            format!("POST /cl/long HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello{HIDDEN}"),
        ),
        one(
            "cl/zero-then-denied",
            2,
            format!("POST /cl/zero HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n{DENIED}"),
        ),
        one(
            "cl/body-then-denied",
            2,
            format!("POST /cl/a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello{DENIED}"),
        ),
        one(
            "cl/http10-keep-alive",
            2,
            format!(
                "POST /cl/10 HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\nContent-Length: 5\r\n\r\nhello{}",
                next("cl")
            ),
        ),
        one(
            "cl/http10-no-length-body",
            1,
            "POST /cl/10 HTTP/1.0\r\nHost: a\r\n\r\nhello",
        ),
    ]);
    cases
}

// ---------------------------------------------------------------------
// 2. Transfer-Encoding forms

/// Transfer-Encoding header lines, plain and obfuscated.
const TE_FORMS: &[(&str, &str)] = &[
    ("chunked", "Transfer-Encoding: chunked"),
    ("capitalised", "Transfer-Encoding: Chunked"),
    ("upper", "Transfer-Encoding: CHUNKED"),
    ("trailing-sp", "Transfer-Encoding: chunked "),
    ("leading-htab", "Transfer-Encoding:\tchunked"),
    ("leading-ff", "Transfer-Encoding: \x0cchunked"),
    ("leading-vt", "Transfer-Encoding: \x0bchunked"),
    ("trailing-ff", "Transfer-Encoding: chunked\x0c"),
    ("xchunked", "Transfer-Encoding: xchunked"),
    ("chunkedx", "Transfer-Encoding: chunkedx"),
    ("quoted", "Transfer-Encoding: \"chunked\""),
    ("with-param", "Transfer-Encoding: chunked;q=1"),
    ("list-twice", "Transfer-Encoding: chunked, chunked"),
    (
        "two-lines",
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked",
    ),
    (
        "two-lines-gzip-first",
        "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked",
    ),
    (
        "two-lines-chunked-first",
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip",
    ),
    ("gzip-chunked", "Transfer-Encoding: gzip, chunked"),
    ("identity-chunked", "Transfer-Encoding: identity, chunked"),
    ("chunked-identity", "Transfer-Encoding: chunked, identity"),
    ("identity", "Transfer-Encoding: identity"),
    ("trailing-comma", "Transfer-Encoding: chunked,"),
    ("leading-comma", "Transfer-Encoding: ,chunked"),
    ("empty", "Transfer-Encoding: "),
    (
        "empty-second-line",
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: ",
    ),
    ("obs-fold", "Transfer-Encoding:\r\n chunked"),
    (
        "obs-fold-after",
        "Transfer-Encoding: chunked\r\n , identity",
    ),
    ("space-before-colon", "Transfer-Encoding : chunked"),
    ("underscore-name", "Transfer_Encoding: chunked"),
    ("nul-in-value", "Transfer-Encoding: chun\x00ked"),
];

pub fn transfer_encoding() -> Vec<Case> {
    let body = chunked("hello");
    let mut cases: Vec<Case> = TE_FORMS
        .iter()
        .map(|(name, header)| {
            let wire = format!(
                "POST /te/{name} HTTP/1.1\r\nHost: a\r\n{header}\r\n\r\n{body}{}",
                next("te")
            );
            one(&format!("te/{name}"), 2, wire)
        })
        .collect();
    cases.extend([
        one(
            "te/http10",
            2,
            format!(
                "POST /te/10 HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n{body}{}",
                next("te")
            ),
        ),
        one(
            "te/http10-hides-request",
            1,
            format!(
                "POST /te/10 HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n{}",
                chunked(HIDDEN)
            ),
        ),
        one(
            "te/get",
            2,
            format!("GET /te/get HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n{body}{}", next("te")),
        ),
    ]);
    cases
}

// ---------------------------------------------------------------------
// 3. Transfer-Encoding with Content-Length

/// The obfuscations tried with a Content-Length beside them.
const TECL_FORMS: &[&str] = &[
    "chunked",
    "capitalised",
    "trailing-sp",
    "leading-htab",
    "leading-ff",
    "xchunked",
    "list-twice",
    "two-lines",
    "gzip-chunked",
    "identity-chunked",
    "chunked-identity",
    "obs-fold",
    "space-before-colon",
    "underscore-name",
];

fn te_header(name: &str) -> &'static str {
    TE_FORMS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, h)| *h)
        .expect("a TE form")
}

/// CL.TE: the length covers a last chunk and the hidden request; a proxy
/// that reads the chunks and keeps the connection would forward it.
fn cl_te(version: &str, te: &str, cl_first: bool) -> Vec<u8> {
    let body = format!("0\r\n\r\n{HIDDEN}");
    let cl = format!("Content-Length: {}", body.len());
    let (a, b) = if cl_first {
        (cl.as_str(), te)
    } else {
        (te, cl.as_str())
    };
    format!("POST /tecl HTTP/{version}\r\nHost: a\r\n{a}\r\n{b}\r\n\r\n{body}").into_bytes()
}

/// TE.CL: the chunk carries the hidden request; a proxy that reads the
/// 4-byte length forwards it.
fn te_cl(te: &str, cl_first: bool) -> Vec<u8> {
    let body = chunked(HIDDEN);
    let cl = "Content-Length: 4";
    let (a, b) = if cl_first { (cl, te) } else { (te, cl) };
    format!("POST /tecl HTTP/1.1\r\nHost: a\r\n{a}\r\n{b}\r\n\r\n{body}").into_bytes()
}

pub fn te_with_cl() -> Vec<Case> {
    let mut cases = vec![];
    for name in TECL_FORMS {
        let te = te_header(name);
        cases.push(one(
            &format!("tecl/cl-te/{name}"),
            1,
            cl_te("1.1", te, true),
        ));
        cases.push(one(&format!("tecl/te-cl/{name}"), 1, te_cl(te, false)));
    }
    let te = te_header("chunked");
    cases.extend([
        one("tecl/cl-te/te-line-first", 1, cl_te("1.1", te, false)),
        one("tecl/te-cl/cl-line-first", 1, te_cl(te, true)),
        one("tecl/cl-te/http10", 1, cl_te("1.0", te, true)),
        one(
            "tecl/cl-te/http10-keep-alive",
            1,
            format!(
                "POST /tecl HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\nContent-Length: {}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{HIDDEN}",
                5 + HIDDEN.len()
            ),
        ),
        one(
            "tecl/cl-zero",
            1,
            format!(
                "POST /tecl HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n{}",
                chunked(HIDDEN)
            ),
        ),
        one(
            "tecl/cl-list",
            1,
            format!(
                "POST /tecl HTTP/1.1\r\nHost: a\r\nContent-Length: 4, 4\r\nTransfer-Encoding: chunked\r\n\r\n{}",
                chunked(HIDDEN)
            ),
        ),
        one(
            "tecl/cl-invalid",
            1,
            format!(
                "POST /tecl HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\nTransfer-Encoding: chunked\r\n\r\n{}",
                chunked(HIDDEN)
            ),
        ),
        one(
            "tecl/get-cl-te",
            1,
            format!(
                "GET /tecl HTTP/1.1\r\nHost: a\r\nContent-Length: {}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{HIDDEN}",
                5 + HIDDEN.len()
            ),
        ),
    ]);
    cases
}

// ---------------------------------------------------------------------
// 4. Chunk sizes and extensions

fn chunk_case(name: &str, answers: usize, body: &[u8]) -> Case {
    let wire = bytes(&[
        format!("POST /chunk/{name} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
            .as_bytes(),
        body,
        next("chunk").as_bytes(),
    ]);
    one(&format!("chunk/{name}"), answers, wire)
}

pub fn chunk_sizes() -> Vec<Case> {
    let long_ext = format!("5;{}\r\nhello\r\n0\r\n\r\n", "e".repeat(17_000));
    let hidden = chunked(HIDDEN);
    let hidden_after = |size: &str| format!("{size}\r\nhello\r\n0\r\n\r\n{HIDDEN}");
    vec![
        chunk_case(
            "valid-two-chunks",
            2,
            b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        ),
        chunk_case("negative", 2, b"-5\r\nhello\r\n0\r\n\r\n"),
        chunk_case("hex-prefix", 2, b"0x5\r\nhello\r\n0\r\n\r\n"),
        chunk_case("leading-zeros", 2, b"0005\r\nhello\r\n0\r\n\r\n"),
        chunk_case(
            "17-hex-digits",
            2,
            b"00000000000000005\r\nhello\r\n0\r\n\r\n",
        ),
        chunk_case("2p52", 1, b"10000000000000\r\nhello\r\n0\r\n\r\n"),
        chunk_case("2p60", 1, b"1000000000000000\r\nhello\r\n0\r\n\r\n"),
        chunk_case(
            "wrap-2p64-plus-5",
            2,
            b"10000000000000005\r\nhello\r\n0\r\n\r\n",
        ),
        chunk_case("all-f-16", 1, b"ffffffffffffffff\r\nhello\r\n0\r\n\r\n"),
        chunk_case("empty-size", 2, b"\r\nhello\r\n0\r\n\r\n"),
        chunk_case("leading-space", 2, b" 5\r\nhello\r\n0\r\n\r\n"),
        chunk_case("trailing-space", 2, b"5 \r\nhello\r\n0\r\n\r\n"),
        chunk_case("trailing-htab", 2, b"5\t\r\nhello\r\n0\r\n\r\n"),
        chunk_case("missing-crlf-after-data", 2, b"5\r\nhelloXX0\r\n\r\n"),
        chunk_case("lf-after-data", 2, b"5\r\nhello\n0\r\n\r\n"),
        chunk_case("bare-lf-everywhere", 2, b"5\nhello\n0\n\n"),
        chunk_case("bare-lf-size", 2, b"5\nhello\r\n0\r\n\r\n"),
        chunk_case("bare-cr-in-size", 2, b"5\rX\r\nhello\r\n0\r\n\r\n"),
        chunk_case("upper-hex", 2, b"A\r\n0123456789\r\n0\r\n\r\n"),
        chunk_case("ext-space-before", 2, b"5 ;ext\r\nhello\r\n0\r\n\r\n"),
        chunk_case("ext-plain", 2, b"5;ext=1\r\nhello\r\n0\r\n\r\n"),
        chunk_case("ext-empty", 2, b"5;\r\nhello\r\n0\r\n\r\n"),
        chunk_case("ext-quoted", 2, b"5;a=\"b;c\"\r\nhello\r\n0\r\n\r\n"),
        chunk_case(
            "ext-quoted-crlf",
            2,
            b"5;a=\"x\r\n0\r\n\r\n\"\r\nhello\r\n0\r\n\r\n",
        ),
        chunk_case("ext-bare-cr", 2, b"5;a\rb\r\nhello\r\n0\r\n\r\n"),
        chunk_case("ext-very-long", 2, long_ext.as_bytes()),
        chunk_case("last-chunk-ext", 2, b"5\r\nhello\r\n0;ext=1\r\n\r\n"),
        chunk_case("last-chunk-00", 2, b"5\r\nhello\r\n00\r\n\r\n"),
        chunk_case("size-too-small", 2, b"3\r\nhello\r\n0\r\n\r\n"),
        chunk_case(
            "size-too-large-hides",
            1,
            format!("ff\r\n{}", &hidden).as_bytes(),
        ),
        chunk_case("hidden-after-last", 3, hidden_after("5").as_bytes()),
        chunk_case("hidden-after-bad-size", 2, hidden_after("5x").as_bytes()),
        chunk_case("hidden-in-chunk", 2, hidden.as_bytes()),
    ]
}

// ---------------------------------------------------------------------
// 5. Trailers

fn trailer_case(name: &str, answers: usize, trailers: &[u8]) -> Case {
    let wire = bytes(&[
        format!("POST /trailer/{name} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n")
            .as_bytes(),
        trailers,
        next("trailer").as_bytes(),
    ]);
    one(&format!("trailer/{name}"), answers, wire)
}

pub fn trailers() -> Vec<Case> {
    let flood: String = (0..900).map(|i| format!("X-T{i}: {:020}\r\n", i)).collect();
    let flood = format!("{flood}\r\n");
    let long = format!("X-T: {}\r\n\r\n", "t".repeat(17_000));
    let lines = |n: usize| -> String {
        let all: String = (0..n).map(|i| format!("X-T{i}: v\r\n")).collect();
        format!("{all}\r\n")
    };
    let many_small = lines(50);
    vec![
        trailer_case("valid", 2, b"X-T: 1\r\n\r\n"),
        trailer_case("none", 2, b"\r\n"),
        trailer_case("no-colon", 2, b"garbage\r\n\r\n"),
        trailer_case(
            "bare-cr-set-cookie",
            2,
            b"x-t: a\rSet-Cookie: evil=1\r\n\r\n",
        ),
        trailer_case("bare-lf-line", 2, b"X-T: 1\n\r\n"),
        trailer_case("bare-lf-end", 2, b"X-T: 1\r\n\n"),
        trailer_case(
            "transfer-encoding",
            2,
            b"Transfer-Encoding: chunked\r\n\r\n",
        ),
        trailer_case("content-length", 2, b"Content-Length: 50\r\n\r\n"),
        trailer_case("host", 2, b"Host: evil\r\n\r\n"),
        // Not `X-T : 1`: HAProxy 2.6.12 parses trailers with an h1m whose
        // err_pos is left uninitialised (h1_parse_msg_tlrs), so a
        // non-token character in a trailer name is accepted or rejected
        // at random (seen both ways over runs).
        trailer_case("lines-100", 2, lines(100).as_bytes()),
        trailer_case("lines-101", 2, lines(101).as_bytes()),
        trailer_case("empty-name", 2, b": v\r\n\r\n"),
        trailer_case("nul", 2, b"X-T: a\x00b\r\n\r\n"),
        trailer_case("obs-fold", 2, b"X-T: a\r\n b\r\n\r\n"),
        trailer_case("flood-over-16k", 2, flood.as_bytes()),
        trailer_case("one-long-over-16k", 2, long.as_bytes()),
        trailer_case("many-small", 2, many_small.as_bytes()),
        trailer_case(
            "then-denied",
            2,
            format!("X-T: 1\r\n\r\n{DENIED}").as_bytes(),
        ),
        trailer_case("hides-request", 2, format!("X-T: 1\r\n{HIDDEN}").as_bytes()),
    ]
}
