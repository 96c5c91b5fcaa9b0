//! Request and response heads: the original bytes plus parsed spans.
//!
//! The grammar is HAProxy 2.6's, rule by rule (src/h1.c,
//! `h1_headers_to_hdr_list`, and src/h1_htx.c for the version checks),
//! because the proxy must never accept what HAProxy refuses, nor frame a
//! message differently: every difference is a way to smuggle a request
//! past the rules. What that means, in short:
//! - empty lines before a request or status line are skipped;
//! - start-line parts are separated by one or more SP/HTAB; a target holds
//!   bytes 0x21..0x7e except `#`; an HTTP/0.9 request line is refused;
//! - a line may end with CRLF or a bare LF, never a bare CR;
//! - a header name is a token followed at once by a colon; a value is any
//!   byte but CR and LF, trimmed of blanks; obs-fold continues it (its CR
//!   and LF become spaces);
//! - `Content-Length` and `Transfer-Encoding` are read as the head is
//!   (h1_parse_cont_len_header, h1_parse_xfer_enc_header): a list of equal
//!   lengths collapses to one, anything else that is not digits is refused;
//!   `chunked` twice, or a coding after `chunked` in a request, is refused;
//! - two `Host` lines must agree (the second goes), and an absolute-form
//!   target's authority must match `Host` (default ports aside);
//! - at most [`MAX_HEADERS`] header lines, and the head must fit the buffer.
//!
//! A head keeps the caller's bytes untouched; every part is a [`Span`] into
//! them. [`parse_request`] / [`parse_response`] return `Ok(None)` until the
//! head is complete, but refuse a byte that can never be valid as soon as it
//! arrives, as HAProxy's parser does.

use super::errors::BuiltinError;

pub use crate::config::{TUNE_BUFSIZE, TUNE_MAXREWRITE};
/// What one HAProxy buffer holds of a message besides the rewrite reserve:
/// the bound on a chunk-size line and on a trailer section too.
pub const BUFFER_ROOM: usize = TUNE_BUFSIZE - TUNE_MAXREWRITE;
/// Largest head accepted. HAProxy's head must fit the buffer minus the
/// rewrite reserve (15360) once converted to HTX, whose per-block overhead we
/// do not model: 15277 raw bytes is the largest one-header request haproxy
/// 2.6.12 accepted (bisected; 15278 got the mux's 400). Heads with many
/// headers are refused slightly earlier by HAProxy than here.
pub const MAX_HEAD_BYTES: usize = 15277;
const _: () = assert!(MAX_HEAD_BYTES < BUFFER_ROOM);
/// Header lines one head may hold: HAProxy's `tune.http.maxhdr` (101) less
/// the slot its list spends on the end marker. haproxy 2.6.12 answered 200
/// to 100 header lines and 400 to 101.
pub const MAX_HEADERS: usize = 100;

/// A byte range of the head's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn of<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        &buf[self.start..self.end]
    }

    fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }
}

/// One header line: name and value spans. The value is trimmed of outer
/// blanks; an obs-folded value spans its continuation lines (their CR and
/// LF become spaces on the way out); a `Content-Length` value is the one
/// length a list of equal ones said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub name: Span,
    pub value: Span,
}

/// What the head says about its body, as HAProxy's `h1m` flags hold it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BodyFlags {
    /// A `Transfer-Encoding` header is present.
    pub transfer_encoding: bool,
    /// `chunked` is its last coding.
    pub chunked: bool,
    /// A coding other than `chunked` appeared (`gzip, chunked`).
    pub other_coding: bool,
    /// The length a `Content-Length` said; dropped when
    /// `Transfer-Encoding` is present too.
    pub content_length: Option<u64>,
    /// The connection must close after this message: `Transfer-Encoding`
    /// came with `Content-Length`, or in an HTTP/1.0 message.
    pub close: bool,
}

/// A parsed head. For a request the start line is method, uri, version;
/// for a response it is version, status, reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// Bytes of the head including empty lines before it and its final
    /// blank line.
    pub len: usize,
    /// Method (request) or reason phrase (response).
    pub first: Span,
    /// URI (request) or status code digits (response).
    pub second: Span,
    /// The version as received (`HTTP/1.2`).
    pub version_text: Span,
    /// (major, minor), read as HAProxy does: any version from 1.1 on is
    /// 1.1, the version it speaks and writes.
    pub version: (u8, u8),
    /// Status code, for responses (any number of digits, as HAProxy
    /// takes them: `HTTP/1.1 2000` passes).
    pub status: Option<u16>,
    /// Header lines in wire order (order matters; no map), without the
    /// duplicates HAProxy drops (a repeated equal `Host` or
    /// `Content-Length`, and `Content-Length` beside `Transfer-Encoding`).
    pub headers: Vec<Header>,
    pub body: BodyFlags,
}

/// Why a head is refused, with what the client gets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    #[error("invalid start line")]
    StartLine,
    #[error("invalid HTTP version")]
    Version,
    #[error("invalid header name")]
    HeaderName,
    #[error("invalid character in header value")]
    HeaderValue,
    #[error("invalid Content-Length")]
    ContentLength,
    #[error("invalid Transfer-Encoding")]
    TransferEncoding,
    #[error("Host headers disagree")]
    Host,
    #[error("target authority does not match Host")]
    Authority,
    #[error("head larger than the buffer")]
    TooLarge,
    #[error("too many headers")]
    TooManyHeaders,
}

impl HeadError {
    /// Status the client receives: a request parse error is the H1 mux's
    /// 400 (termination `CR`); a response parse error is a 502 (`SH`).
    pub fn status(&self, is_request: bool) -> u16 {
        if is_request {
            400
        } else {
            502
        }
    }

    /// HAProxy's termination state letters for the log's `%tsc`.
    pub fn termination(&self, is_request: bool) -> &'static str {
        if is_request {
            "CR"
        } else {
            "SH"
        }
    }

    pub fn response(&self, is_request: bool) -> &'static BuiltinError {
        super::errors::builtin(self.status(is_request)).expect("400 and 502 are in the table")
    }
}

/// RFC 9110 tchar: what HAProxy accepts in methods and header names.
pub fn is_token(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

/// HTTP_IS_SPHT.
fn is_spht(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// HTTP_IS_CRLF.
fn is_crlf(c: u8) -> bool {
    c == b'\r' || c == b'\n'
}

/// HTTP_IS_LWS: the blanks HAProxy trims and skips in lists. Not form
/// feed nor vertical tab: `\x0cchunked` is not `chunked`.
pub fn is_lws(c: u8) -> bool {
    is_spht(c) || is_crlf(c)
}

/// HTTP_IS_VER_TOKEN: `H`, `T`, `P`, `/`, `.` and digits.
fn is_ver_token(c: u8) -> bool {
    c.is_ascii_digit() || matches!(c, b'H' | b'T' | b'P' | b'/' | b'.')
}

/// Why the scan stopped early.
enum Halt {
    /// The bytes end before the head does.
    More,
    Bad(HeadError),
}

impl From<HeadError> for Halt {
    fn from(e: HeadError) -> Halt {
        Halt::Bad(e)
    }
}

type Scan<T> = Result<T, Halt>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Request,
    Response,
    /// A trailer section: header lines only, read as a request's are
    /// (HAProxy parses trailers without the response flag).
    Trailers,
}

struct Cursor<'a> {
    buf: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn at(&self) -> Scan<u8> {
        self.buf.get(self.i).copied().ok_or(Halt::More)
    }

    /// Consumes a line end at the cursor (CRLF or LF); a CR must be
    /// followed by LF.
    fn line_end(&mut self, bad: HeadError) -> Scan<()> {
        if self.at()? == b'\r' {
            self.i += 1;
        }
        if self.at()? != b'\n' {
            return Err(Halt::Bad(bad));
        }
        self.i += 1;
        Ok(())
    }

    fn skip_spht(&mut self) -> Scan<()> {
        while is_spht(self.at()?) {
            self.i += 1;
        }
        Ok(())
    }

    /// Empty lines before a start line (RFC 9112 §2.2).
    fn skip_empty_lines(&mut self) -> Scan<()> {
        loop {
            match self.at()? {
                b'\n' => self.i += 1,
                b'\r' => {
                    self.i += 1;
                    if self.at()? != b'\n' {
                        return Err(Halt::Bad(HeadError::StartLine));
                    }
                    self.i += 1;
                }
                _ => return Ok(()),
            }
        }
    }
}

/// Parses a request head from the start of `buf`. `Ok(None)`: need more bytes.
pub fn parse_request(buf: &[u8]) -> Result<Option<Head>, HeadError> {
    bounded(buf, scan_request(buf))
}

/// Parses a response head from the start of `buf`. `Ok(None)`: need more bytes.
pub fn parse_response(buf: &[u8]) -> Result<Option<Head>, HeadError> {
    bounded(buf, scan_response(buf))
}

/// Parses a chunked body's trailer section (header lines up to and with
/// the empty line). `Ok(None)`: need more bytes.
pub fn parse_trailers(buf: &[u8]) -> Result<Option<(usize, Vec<Header>)>, HeadError> {
    let mut c = Cursor { buf, i: 0 };
    let scanned = scan_headers(&mut c, Kind::Trailers, false).map(|(headers, _)| (c.i, headers));
    match scanned {
        Ok(done) => Ok(Some(done)),
        Err(Halt::More) => Ok(None),
        Err(Halt::Bad(e)) => Err(e),
    }
}

/// The size limit over a scan's outcome.
fn bounded(buf: &[u8], scanned: Scan<Head>) -> Result<Option<Head>, HeadError> {
    match scanned {
        Ok(h) if h.len > MAX_HEAD_BYTES => Err(HeadError::TooLarge),
        Ok(h) => Ok(Some(h)),
        Err(Halt::More) if buf.len() > MAX_HEAD_BYTES => Err(HeadError::TooLarge),
        Err(Halt::More) => Ok(None),
        Err(Halt::Bad(e)) => Err(e),
    }
}

fn scan_request(buf: &[u8]) -> Scan<Head> {
    let mut c = Cursor { buf, i: 0 };
    c.skip_empty_lines()?;
    let m0 = c.i;
    if !is_token(c.at()?) {
        return Err(HeadError::StartLine.into());
    }
    while is_token(c.at()?) {
        c.i += 1;
    }
    let method = Span::new(m0, c.i);
    // An HTTP/0.9 request line (no version) ends where a part should
    // follow; haproxy 2.6.12 answers it 400 at once.
    if !is_spht(c.at()?) {
        return Err(if is_crlf(c.at()?) {
            HeadError::Version
        } else {
            HeadError::StartLine
        }
        .into());
    }
    c.skip_spht()?;
    let u0 = c.i;
    loop {
        let b = c.at()?;
        match b {
            b'#' => return Err(HeadError::StartLine.into()),
            0x21..=0x7e => c.i += 1,
            b' ' | b'\t' => break,
            b'\r' | b'\n' => return Err(HeadError::Version.into()),
            _ => return Err(HeadError::StartLine.into()),
        }
    }
    let uri = Span::new(u0, c.i);
    c.skip_spht()?;
    let v0 = c.i;
    if is_crlf(c.at()?) {
        return Err(HeadError::Version.into());
    }
    while is_ver_token(c.at()?) {
        c.i += 1;
    }
    let version_text = Span::new(v0, c.i);
    c.line_end(HeadError::Version)?;
    let ver11 = is_ver11(version_text.of(buf));
    let (headers, body) = scan_headers(&mut c, Kind::Request, ver11)?;
    // h1_process_req_vsn, once the head is whole: exactly `HTTP/d.d`.
    let version = match version_text.of(buf) {
        [b'H', b'T', b'T', b'P', b'/', maj, b'.', min]
            if maj.is_ascii_digit() && min.is_ascii_digit() =>
        {
            effective(*maj, *min)
        }
        _ => return Err(HeadError::Version.into()),
    };
    let head = Head {
        len: c.i,
        first: method,
        second: uri,
        version_text,
        version,
        status: None,
        headers,
        body,
    };
    check_authority(&head, buf)?;
    Ok(head)
}

fn scan_response(buf: &[u8]) -> Scan<Head> {
    let mut c = Cursor { buf, i: 0 };
    c.skip_empty_lines()?;
    let v0 = c.i;
    if !is_token(c.at()?) {
        return Err(HeadError::StartLine.into());
    }
    while is_ver_token(c.at()?) {
        c.i += 1;
    }
    let version_text = Span::new(v0, c.i);
    if !is_spht(c.at()?) {
        return Err(HeadError::StartLine.into());
    }
    c.skip_spht()?;
    let s0 = c.i;
    let mut status: u16 = 0;
    while c.at()?.is_ascii_digit() {
        // HAProxy's status is 16 bits wide and takes any number of digits.
        status = status
            .wrapping_mul(10)
            .wrapping_add(u16::from(c.at()? - b'0'));
        c.i += 1;
    }
    let code = Span::new(s0, c.i);
    if code.start == code.end || !is_lws(c.at()?) {
        return Err(HeadError::StartLine.into());
    }
    c.skip_spht()?;
    let r0 = c.i;
    while !is_crlf(c.at()?) {
        c.i += 1;
    }
    let reason = Span::new(r0, c.i);
    c.line_end(HeadError::StartLine)?;
    let ver11 = is_ver11(version_text.of(buf));
    let (headers, body) = scan_headers(&mut c, Kind::Response, ver11)?;
    // h1_process_res_vsn: eight bytes, `/`, digit, `.`, digit.
    let version = match version_text.of(buf) {
        [_, _, _, _, b'/', maj, b'.', min] if maj.is_ascii_digit() && min.is_ascii_digit() => {
            effective(*maj, *min)
        }
        _ => return Err(HeadError::Version.into()),
    };
    Ok(Head {
        len: c.i,
        first: reason,
        second: code,
        version_text,
        version,
        status: Some(status),
        headers,
        body,
    })
}

/// H1_MF_VER_11, decided on the raw version as HAProxy does.
fn is_ver11(v: &[u8]) -> bool {
    v.len() == 8 && (v[5] > b'1' || (v[5] == b'1' && v[7] >= b'1'))
}

fn effective(maj: u8, min: u8) -> (u8, u8) {
    let v = (maj - b'0', min - b'0');
    if v >= (1, 1) {
        (1, 1)
    } else {
        v
    }
}

/// Header lines up to and with the empty line ending them.
fn scan_headers(c: &mut Cursor, kind: Kind, ver11: bool) -> Scan<(Vec<Header>, BodyFlags)> {
    let buf = c.buf;
    let mut out: Vec<Header> = Vec::new();
    let mut body = BodyFlags::default();
    let mut te_chunked_seen = false;
    let mut host: Option<Span> = None;
    loop {
        let sol = c.i;
        if is_crlf(c.at()?) {
            c.line_end(HeadError::HeaderName)?;
            break;
        }
        while is_token(c.at()?) {
            c.i += 1;
        }
        // A space before the colon, an empty name, or any non-token byte.
        if c.at()? != b':' || c.i == sol {
            return Err(HeadError::HeaderName.into());
        }
        let name = Span::new(sol, c.i);
        c.i += 1;
        c.skip_spht()?;
        let sov = c.i;
        let eol = loop {
            while !is_crlf(c.at()?) {
                c.i += 1;
            }
            let eol = c.i;
            c.line_end(HeadError::HeaderValue)?;
            // obs-fold: the value goes on over the next line.
            if !is_spht(c.at()?) {
                break eol;
            }
        };
        let value = trim_lws(buf, Span::new(sov, eol));
        let n = name.of(buf);
        let v = value.of(buf);
        let mut header = Header { name, value };
        if n.eq_ignore_ascii_case(b"transfer-encoding") {
            parse_transfer_encoding(v, kind, &mut body, &mut te_chunked_seen)?;
        } else if n.eq_ignore_ascii_case(b"content-length") {
            let first = body.content_length.is_none();
            let (length, word) = parse_content_length(v, body.content_length)?;
            body.content_length = Some(length);
            if !first {
                continue;
            }
            header.value = Span::new(value.start + word.start, value.start + word.end);
        } else if kind != Kind::Response && n.eq_ignore_ascii_case(b"host") {
            match host {
                None => host = Some(value),
                Some(h) if h.of(buf).eq_ignore_ascii_case(v) => continue,
                Some(_) => return Err(HeadError::Host.into()),
            }
        }
        if out.len() == MAX_HEADERS {
            return Err(HeadError::TooManyHeaders.into());
        }
        out.push(header);
    }
    if body.transfer_encoding {
        if body.content_length.take().is_some() {
            // T-E + C-L: force close and remove C-L.
            body.close = true;
            out.retain(|h| !h.name.of(buf).eq_ignore_ascii_case(b"content-length"));
        } else if !ver11 {
            body.close = true;
        }
        // RFC 9112 §6.3: a request whose last coding is not chunked.
        if !body.chunked && kind != Kind::Response {
            return Err(HeadError::TransferEncoding.into());
        }
    }
    Ok((out, body))
}

fn trim_lws(buf: &[u8], s: Span) -> Span {
    let (mut a, mut b) = (s.start, s.end);
    while a < b && is_lws(buf[a]) {
        a += 1;
    }
    while b > a && is_lws(buf[b - 1]) {
        b -= 1;
    }
    Span::new(a, b)
}

/// http_find_hdr_value_end: the next comma outside a quoted string.
fn list_item_end(v: &[u8], from: usize) -> usize {
    let (mut quoted, mut pair) = (false, false);
    for (i, &c) in v.iter().enumerate().skip(from) {
        if pair {
            pair = false;
        } else if quoted {
            match c {
                b'\\' => pair = true,
                b'"' => quoted = false,
                _ => {}
            }
        } else if c == b'"' {
            quoted = true;
        } else if c == b',' {
            return i;
        }
    }
    v.len()
}

/// h1_parse_xfer_enc_header: `chunked` at most once; in a request, no
/// coding after it.
fn parse_transfer_encoding(
    v: &[u8],
    kind: Kind,
    body: &mut BodyFlags,
    chunked_seen: &mut bool,
) -> Scan<()> {
    body.transfer_encoding = true;
    let mut i = 0;
    while i < v.len() {
        if is_lws(v[i]) {
            i += 1;
            continue;
        }
        // An empty element (`,chunked`) is a coding too, not `chunked`:
        // haproxy 2.6.12 answered 422.
        let end = list_item_end(v, i);
        let mut word = &v[i..end];
        while word.last().is_some_and(|&c| is_lws(c)) {
            word = &word[..word.len() - 1];
        }
        body.chunked = false;
        if word.eq_ignore_ascii_case(b"chunked") {
            if *chunked_seen {
                return Err(HeadError::TransferEncoding.into());
            }
            *chunked_seen = true;
            body.chunked = true;
        } else {
            if *chunked_seen && kind != Kind::Response {
                return Err(HeadError::TransferEncoding.into());
            }
            body.other_coding = true;
        }
        i = end + 1;
    }
    Ok(())
}

/// h1_parse_cont_len_header (with the fix for empty values and empty list
/// elements that Debian's 2.6.12 carries): digits only, a list of equal
/// values, equal to any earlier header's. Returns the length and the span
/// of its last digits within `v`.
fn parse_content_length(v: &[u8], earlier: Option<u64>) -> Scan<(u64, Span)> {
    let bad = || Halt::Bad(HeadError::ContentLength);
    let mut i = 0;
    let mut found = None;
    loop {
        if i >= v.len() {
            // An empty value, or an empty element after a comma.
            return Err(bad());
        }
        if is_lws(v[i]) {
            i += 1;
            continue;
        }
        let start = i;
        let mut n: u64 = 0;
        while i < v.len() && v[i].is_ascii_digit() {
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(v[i] - b'0')))
                .ok_or_else(bad)?;
            i += 1;
        }
        if i == start {
            return Err(bad());
        }
        let word = Span::new(start, i);
        while i < v.len() && is_lws(v[i]) {
            i += 1;
        }
        if i < v.len() && v[i] != b',' {
            return Err(bad());
        }
        // HAProxy holds the length in a signed 64-bit integer and refuses
        // one that reads negative, but for -1 (2^64 - 1), its "unknown
        // length": haproxy 2.6.12 answered 2^63 with a 400, 2^63 - 1 and
        // 2^64 - 1 with a 200.
        if n > i64::MAX as u64 && n != u64::MAX {
            return Err(bad());
        }
        if earlier.or(found).is_some_and(|e| e != n) {
            return Err(bad());
        }
        found = Some(n);
        if i == v.len() {
            return Ok((n, word));
        }
        i += 1;
    }
}

/// The authority of an absolute-form or authority-form target, and its
/// scheme (`http://`) when it has one (http_parse_scheme and
/// http_parse_authority, user info skipped).
fn authority(uri: &[u8]) -> Option<(Option<&[u8]>, &[u8])> {
    if uri.is_empty() || uri[0] == b'/' || uri[0] == b'*' {
        return None;
    }
    let mut scheme = None;
    let mut rest = uri;
    if uri[0].is_ascii_alphabetic() {
        let n = uri[1..]
            .iter()
            .take_while(|&&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
            .count()
            + 1;
        if uri[n..].starts_with(b"://") {
            scheme = Some(&uri[..n + 3]);
            rest = &uri[n + 3..];
        }
    }
    let end = rest.iter().position(|&c| c == b'/').unwrap_or(rest.len());
    let auth = &rest[..end];
    let auth = match auth.iter().rposition(|&c| c == b'@') {
        Some(at) => &auth[at + 1..],
        None => auth,
    };
    Some((scheme, auth))
}

/// http_get_host_port: the digits after the last colon. `Some(empty)` for
/// a trailing colon.
fn host_port(host: &[u8]) -> (&[u8], Option<&[u8]>) {
    let digits = host.iter().rev().take_while(|c| c.is_ascii_digit()).count();
    let colon = host.len() - digits;
    if colon == 0 || host[colon - 1] != b':' {
        return (host, None);
    }
    (&host[..colon - 1], Some(&host[colon..]))
}

/// http_is_default_port.
fn default_port(scheme: Option<&[u8]>, port: &[u8]) -> bool {
    if port.is_empty() {
        return true;
    }
    match scheme {
        None => port == b"443" || port == b"80",
        Some(s) => {
            (port == b"443" && s.eq_ignore_ascii_case(b"https://"))
                || (port == b"80" && s.eq_ignore_ascii_case(b"http://"))
        }
    }
}

/// The end of h1_headers_to_hdr_list for requests: a CONNECT names a
/// host and port that `Host` agrees with; another method's absolute-form
/// target names the host `Host` does, default ports aside.
fn check_authority(head: &Head, buf: &[u8]) -> Scan<()> {
    let host = head.values(buf, "host").next();
    let target = authority(head.second.of(buf));
    if head.first.of(buf) == b"CONNECT" {
        let Some((_, auth)) = target else {
            return Err(HeadError::Authority.into());
        };
        let (uri_host, Some(uri_port)) = host_port(auth) else {
            return Err(HeadError::Authority.into());
        };
        if uri_port.is_empty() {
            return Err(HeadError::Authority.into());
        }
        let Some(h) = host else {
            return Ok(());
        };
        let agrees = match host_port(h) {
            (name, Some(port)) if !port.is_empty() => {
                name.eq_ignore_ascii_case(uri_host) && port == uri_port
            }
            (name, _) => default_port(None, uri_port) && name.eq_ignore_ascii_case(uri_host),
        };
        return if agrees {
            Ok(())
        } else {
            Err(HeadError::Authority.into())
        };
    }
    let (Some(h), Some((scheme, auth))) = (host, target) else {
        return Ok(());
    };
    if auth.is_empty() || auth.eq_ignore_ascii_case(h) {
        return Ok(());
    }
    // h1_validate_mismatch_authority.
    let Some(scheme) = scheme else {
        return Err(HeadError::Authority.into());
    };
    let (uri_host, uri_port) = host_port(auth);
    let (host_name, host_port) = host_port(h);
    let agrees = match (uri_port, host_port) {
        (None, None) => false,
        (Some(p), _) if !default_port(Some(scheme), p) => false,
        (_, Some(p)) if !default_port(Some(scheme), p) => false,
        _ => uri_host.eq_ignore_ascii_case(host_name),
    };
    if agrees {
        Ok(())
    } else {
        Err(HeadError::Authority.into())
    }
}

/// http_scheme_based_normalize: an absolute-form target naming its
/// scheme's default port (`http://a:80/x`) loses the port. Returns the
/// target without it and the bare host, which every `Host` then holds.
pub fn without_default_port(uri: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let (Some(scheme), auth) = authority(uri)? else {
        return None;
    };
    let (host, Some(port)) = host_port(auth) else {
        return None;
    };
    if !default_port(Some(scheme), port) {
        return None;
    }
    let at = auth.as_ptr() as usize - uri.as_ptr() as usize;
    let mut target = uri[..at].to_vec();
    target.extend_from_slice(host);
    target.extend_from_slice(&uri[at + auth.len()..]);
    Some((target, host.to_vec()))
}

impl Head {
    /// Values of every header named `name` (ASCII case-insensitive), in order.
    pub fn values<'a>(&'a self, buf: &'a [u8], name: &'a str) -> impl Iterator<Item = &'a [u8]> {
        self.headers
            .iter()
            .filter(move |h| h.name.of(buf).eq_ignore_ascii_case(name.as_bytes()))
            .map(move |h| h.value.of(buf))
    }

    /// The request line as HAProxy logs it (`%r`): method, target and the
    /// version as received, one space apart.
    pub fn request_line(&self, buf: &[u8]) -> Vec<u8> {
        let mut line = self.first.of(buf).to_vec();
        line.push(b' ');
        line.extend_from_slice(self.second.of(buf));
        line.push(b' ');
        line.extend_from_slice(self.version_text.of(buf));
        line
    }
}

#[cfg(test)]
#[path = "head_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "wire_cases.rs"]
mod wire_cases;
