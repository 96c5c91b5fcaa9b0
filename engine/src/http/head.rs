//! Request and response heads: the original bytes plus parsed spans.
//!
//! Hand-written rather than `httparse` because HAProxy 2.6's rules differ:
//! it accepts a bare LF as a line end and obs-fold continuation lines
//! (folding them into spaces), and it answers 400 to a space before the
//! colon. A head keeps the caller's bytes untouched; every part is a
//! [`Span`] into them so rewriting later need not re-serialise the head.
//!
//! Streaming: [`parse_request`] / [`parse_response`] return
//! `Ok(None)` until the blank line ending the head has arrived.

use super::errors::BuiltinError;

/// HAProxy's default `tune.bufsize`.
pub const TUNE_BUFSIZE: usize = 16384;
/// HAProxy's default `tune.maxrewrite`: room kept free for rewriting.
pub const TUNE_MAXREWRITE: usize = 1024;
/// Largest head accepted. HAProxy's head must fit the buffer minus the
/// rewrite reserve (15360) once converted to HTX, whose per-block overhead we
/// do not model: 15277 raw bytes is the largest one-header request haproxy
/// 2.6.12 accepted (bisected; 15278 got the mux's 400). Heads with many
/// headers are refused slightly earlier by HAProxy than here.
pub const MAX_HEAD_BYTES: usize = 15277;
const _: () = assert!(MAX_HEAD_BYTES < TUNE_BUFSIZE - TUNE_MAXREWRITE);
/// Bound on header lines in one head (HAProxy's `global.tune.max_http_hdr`).
pub const MAX_HEADERS: usize = 101;

/// A byte range of the head's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn of<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        &buf[self.start..self.end]
    }
}

/// One header line: name and value spans (value trimmed of outer blanks;
/// an obs-folded value spans its continuation lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub name: Span,
    pub value: Span,
}

/// A parsed head. For a request the start line is method, uri, version;
/// for a response it is version, status, reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// Bytes of the head including its final blank line.
    pub len: usize,
    /// Method (request) or reason phrase (response).
    pub first: Span,
    /// URI (request) or status code digits (response).
    pub second: Span,
    /// (major, minor).
    pub version: (u8, u8),
    /// Status code, for responses.
    pub status: Option<u16>,
    /// Header lines in wire order (order matters; no map).
    pub headers: Vec<Header>,
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
fn is_token(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

/// Finds the end of the head (index just past the blank line), accepting
/// CRLF or bare LF line ends.
fn head_end(buf: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(off) = buf[i..].iter().position(|&c| c == b'\n') {
        let nl = i + off;
        let next = nl + 1;
        match buf.get(next) {
            Some(b'\n') => return Some(next + 1),
            Some(b'\r') if buf.get(next + 1) == Some(&b'\n') => return Some(next + 2),
            _ => i = next,
        }
    }
    None
}

/// Splits the head into lines (without their CRLF/LF), as spans.
fn lines(buf: &[u8], end: usize) -> Vec<Span> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 0..end {
        if buf[i] == b'\n' {
            let stop = if i > start && buf[i - 1] == b'\r' {
                i - 1
            } else {
                i
            };
            out.push(Span { start, end: stop });
            start = i + 1;
        }
    }
    out
}

fn parse_version(v: &[u8]) -> Result<(u8, u8), HeadError> {
    match v {
        [b'H', b'T', b'T', b'P', b'/', maj, b'.', min]
            if maj.is_ascii_digit() && min.is_ascii_digit() =>
        {
            Ok((maj - b'0', min - b'0'))
        }
        _ => Err(HeadError::Version),
    }
}

/// Splits a start line at its first two single spaces.
fn three_parts(buf: &[u8], line: Span) -> Result<(Span, Span, Span), HeadError> {
    let l = line.of(buf);
    let a = l
        .iter()
        .position(|&c| c == b' ')
        .ok_or(HeadError::StartLine)?;
    let b = l[a + 1..]
        .iter()
        .position(|&c| c == b' ')
        .map(|p| p + a + 1)
        .ok_or(HeadError::StartLine)?;
    let s = line.start;
    Ok((
        Span {
            start: s,
            end: s + a,
        },
        Span {
            start: s + a + 1,
            end: s + b,
        },
        Span {
            start: s + b + 1,
            end: line.end,
        },
    ))
}

/// Parses a request head from the start of `buf`. `Ok(None)`: need more bytes.
pub fn parse_request(buf: &[u8]) -> Result<Option<Head>, HeadError> {
    let Some(end) = find_end(buf)? else {
        return Ok(None);
    };
    let ls = lines(buf, end);
    let (method, uri, ver) = three_parts(buf, ls[0])?;
    if method.start == method.end || !method.of(buf).iter().all(|&c| is_token(c)) {
        return Err(HeadError::StartLine);
    }
    // Control characters, space, DEL and non-ASCII bytes are refused in the URI.
    if uri.start == uri.end || uri.of(buf).iter().any(|&c| c <= b' ' || c >= 0x7f) {
        return Err(HeadError::StartLine);
    }
    let version = parse_version(ver.of(buf))?;
    let headers = parse_headers(buf, &ls[1..])?;
    Ok(Some(Head {
        len: end,
        first: method,
        second: uri,
        version,
        status: None,
        headers,
    }))
}

/// Parses a response head from the start of `buf`. `Ok(None)`: need more bytes.
pub fn parse_response(buf: &[u8]) -> Result<Option<Head>, HeadError> {
    let Some(end) = find_end(buf)? else {
        return Ok(None);
    };
    let ls = lines(buf, end);
    let l = ls[0];
    let text = l.of(buf);
    // "HTTP/x.y SSS" with an optional reason.
    if text.len() < 12 || text[8] != b' ' {
        return Err(HeadError::StartLine);
    }
    let version = parse_version(&text[..8])?;
    let code = &text[9..12];
    if !code.iter().all(u8::is_ascii_digit) || (text.len() > 12 && text[12] != b' ') {
        return Err(HeadError::StartLine);
    }
    let status = code.iter().fold(0u16, |a, &c| a * 10 + u16::from(c - b'0'));
    let reason_start = (l.start + 13).min(l.end);
    let headers = parse_headers(buf, &ls[1..])?;
    Ok(Some(Head {
        len: end,
        first: Span {
            start: reason_start,
            end: l.end,
        },
        second: Span {
            start: l.start + 9,
            end: l.start + 12,
        },
        version,
        status: Some(status),
        headers,
    }))
}

fn find_end(buf: &[u8]) -> Result<Option<usize>, HeadError> {
    match head_end(buf) {
        Some(end) if end > MAX_HEAD_BYTES => Err(HeadError::TooLarge),
        Some(end) => Ok(Some(end)),
        None if buf.len() > MAX_HEAD_BYTES => Err(HeadError::TooLarge),
        None => Ok(None),
    }
}

/// Header lines, the last of which is the empty line ending the head.
fn parse_headers(buf: &[u8], ls: &[Span]) -> Result<Vec<Header>, HeadError> {
    let mut out: Vec<Header> = Vec::new();
    for &l in ls.iter().filter(|l| l.start != l.end) {
        let text = l.of(buf);
        if text[0] == b' ' || text[0] == b'\t' {
            // obs-fold: HAProxy joins it to the previous value with spaces.
            let prev = out.last_mut().ok_or(HeadError::HeaderName)?;
            check_value(text)?;
            prev.value.end = l.end;
            continue;
        }
        let colon = text
            .iter()
            .position(|&c| c == b':')
            .ok_or(HeadError::HeaderName)?;
        // A space before the colon, or any non-token byte, is a 400.
        if colon == 0 || !text[..colon].iter().all(|&c| is_token(c)) {
            return Err(HeadError::HeaderName);
        }
        let raw = &text[colon + 1..];
        check_value(raw)?;
        let lead = raw.iter().take_while(|&&c| c == b' ' || c == b'\t').count();
        let trail = raw[lead..]
            .iter()
            .rev()
            .take_while(|&&c| c == b' ' || c == b'\t')
            .count();
        let vstart = l.start + colon + 1 + lead;
        if out.len() == MAX_HEADERS {
            return Err(HeadError::TooManyHeaders);
        }
        out.push(Header {
            name: Span {
                start: l.start,
                end: l.start + colon,
            },
            value: Span {
                start: vstart,
                end: (l.end - trail).max(vstart),
            },
        });
    }
    Ok(out)
}

/// A lone CR is refused in values. NUL is not: haproxy 2.6.12 answered 200
/// to `A: b\0c` (see wire_cases.rs), so we accept it too.
fn check_value(v: &[u8]) -> Result<(), HeadError> {
    if v.contains(&b'\r') {
        return Err(HeadError::HeaderValue);
    }
    Ok(())
}

impl Head {
    /// Values of every header named `name` (ASCII case-insensitive), in order.
    pub fn values<'a>(&'a self, buf: &'a [u8], name: &'a str) -> impl Iterator<Item = &'a [u8]> {
        self.headers
            .iter()
            .filter(move |h| h.name.of(buf).eq_ignore_ascii_case(name.as_bytes()))
            .map(move |h| h.value.of(buf))
    }

    /// Comma-separated tokens of every `name` header, trimmed, in order.
    pub fn tokens<'a>(&'a self, buf: &'a [u8], name: &'a str) -> Vec<&'a [u8]> {
        self.values(buf, name)
            .flat_map(|v| v.split(|&c| c == b','))
            .map(trim)
            .filter(|t| !t.is_empty())
            .collect()
    }

    /// Keep-alive as HAProxy decides it: HTTP/1.1 unless `Connection: close`,
    /// HTTP/1.0 only with `Connection: keep-alive`.
    pub fn keep_alive(&self, buf: &[u8]) -> bool {
        let toks = self.tokens(buf, "connection");
        let has = |w: &str| toks.iter().any(|t| t.eq_ignore_ascii_case(w.as_bytes()));
        if self.version >= (1, 1) {
            !has("close")
        } else {
            has("keep-alive") && !has("close")
        }
    }
}

fn trim(v: &[u8]) -> &[u8] {
    let s = v
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(v.len());
    let e = v
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(s, |e| e + 1);
    &v[s..e]
}

#[cfg(test)]
#[path = "head_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "wire_cases.rs"]
mod wire_cases;
