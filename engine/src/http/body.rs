//! Body framing decided from a parsed head, as HAProxy 2.6's H1 mux does.
//!
//! Smuggling defences: a `Transfer-Encoding` whose last coding is not
//! `chunked` refuses a request (400) and makes a response close-delimited;
//! with `Transfer-Encoding` present any `Content-Length` is ignored (and must
//! be removed when forwarding); several `Content-Length` values that differ,
//! or one that is not a number, are a 400 (502 for a response).

use super::head::Head;

/// How the body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body at all (HEAD reply, 1xx, 204, 304, or a request without one).
    None,
    /// Exactly this many bytes.
    Length(u64),
    /// Chunked; forwarded as chunked.
    Chunked,
    /// Until the server closes (responses only).
    Close,
}

/// Framing plus what the forwarder must do to the head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub framing: Framing,
    /// Content-Length came with Transfer-Encoding: drop it before forwarding.
    pub drop_content_length: bool,
    /// Close the client connection after this exchange: haproxy 2.6.12
    /// answered a CL+TE request with `connection: close` (wire_cases.rs).
    pub force_close: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    #[error("Transfer-Encoding does not end with chunked")]
    TransferEncoding,
    /// A coding before `chunked` (`gzip, chunked`): haproxy 2.6.12 answers
    /// the mux's 422 without closing.
    #[error("unsupported transfer-coding")]
    UnsupportedCoding,
    #[error("invalid or conflicting Content-Length")]
    ContentLength,
}

fn content_length(head: &Head, buf: &[u8]) -> Result<Option<u64>, FramingError> {
    let mut found: Option<u64> = None;
    for tok in head.tokens(buf, "content-length") {
        let s = std::str::from_utf8(tok).map_err(|_| FramingError::ContentLength)?;
        if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
            return Err(FramingError::ContentLength);
        }
        let n: u64 = s.parse().map_err(|_| FramingError::ContentLength)?;
        match found {
            Some(prev) if prev != n => return Err(FramingError::ContentLength),
            _ => found = Some(n),
        }
    }
    Ok(found)
}

/// `Some(true)`: TE ends in chunked; `Some(false)`: TE present, not chunked last.
fn chunked_last(head: &Head, buf: &[u8]) -> Option<bool> {
    let toks = head.tokens(buf, "transfer-encoding");
    let last = toks.last()?;
    Some(last.eq_ignore_ascii_case(b"chunked"))
}

impl FramingError {
    /// What a client gets for its request.
    pub fn request_status(&self) -> u16 {
        match self {
            FramingError::UnsupportedCoding => 422,
            _ => 400,
        }
    }
}

/// Framing of a request body.
pub fn request(head: &Head, buf: &[u8]) -> Result<Decision, FramingError> {
    let cl = content_length(head, buf);
    let te = head.tokens(buf, "transfer-encoding");
    if te.len() > 1
        && te
            .last()
            .is_some_and(|t| t.eq_ignore_ascii_case(b"chunked"))
    {
        return Err(FramingError::UnsupportedCoding);
    }
    match chunked_last(head, buf) {
        Some(true) => {
            let both = head.values(buf, "content-length").next().is_some();
            Ok(Decision {
                framing: Framing::Chunked,
                drop_content_length: both,
                force_close: both,
            })
        }
        Some(false) => Err(FramingError::TransferEncoding),
        None => Ok(Decision {
            framing: cl?.map_or(Framing::None, Framing::Length),
            drop_content_length: false,
            force_close: false,
        }),
    }
}

/// Framing of a response body; `method` is the request's.
pub fn response(head: &Head, buf: &[u8], method: &[u8]) -> Result<Decision, FramingError> {
    let status = head.status.unwrap_or(0);
    if method == b"HEAD" || (100..200).contains(&status) || status == 204 || status == 304 {
        return Ok(Decision {
            framing: Framing::None,
            drop_content_length: false,
            force_close: false,
        });
    }
    let cl = content_length(head, buf);
    match chunked_last(head, buf) {
        Some(true) => Ok(Decision {
            framing: Framing::Chunked,
            drop_content_length: head.values(buf, "content-length").next().is_some(),
            force_close: false,
        }),
        Some(false) => Ok(Decision {
            framing: Framing::Close,
            drop_content_length: true,
            force_close: true,
        }),
        None => Ok(Decision {
            framing: cl?.map_or(Framing::Close, Framing::Length),
            drop_content_length: false,
            force_close: false,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::super::head::{parse_request, parse_response};
    use super::*;

    fn rq(s: &str) -> Result<Decision, FramingError> {
        let h = parse_request(s.as_bytes()).unwrap().unwrap();
        request(&h, s.as_bytes())
    }

    #[test]
    fn cl_and_te_chunked_drops_content_length() {
        let d = rq("POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert_eq!(
            d,
            Ok(Decision {
                framing: Framing::Chunked,
                drop_content_length: true,
                force_close: true,
            })
        );
    }

    #[test]
    fn te_not_ending_in_chunked_is_refused() {
        let r = rq("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, identity\r\n\r\n");
        assert_eq!(r, Err(FramingError::TransferEncoding));
    }

    #[test]
    fn differing_content_lengths_are_refused() {
        let r = rq("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
        assert_eq!(r, Err(FramingError::ContentLength));
        let ok = rq("POST / HTTP/1.1\r\nContent-Length: 2, 2\r\n\r\n");
        assert_eq!(ok.unwrap().framing, Framing::Length(2));
        assert!(rq("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n").is_err());
    }

    #[test]
    fn bodiless_responses() {
        let b = b"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n";
        let h = parse_response(b).unwrap().unwrap();
        assert_eq!(response(&h, b, b"GET").unwrap().framing, Framing::None);
        let b = b"HTTP/1.1 200 OK\r\n\r\n";
        let h = parse_response(b).unwrap().unwrap();
        assert_eq!(response(&h, b, b"HEAD").unwrap().framing, Framing::None);
        assert_eq!(response(&h, b, b"GET").unwrap().framing, Framing::Close);
    }
}
