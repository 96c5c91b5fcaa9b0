//! Body framing decided from a parsed head, as HAProxy 2.6's H1 mux does
//! (src/h1_htx.c h1_postparse_*_hdrs, src/mux_h1.c h1_handle_headers).
//!
//! The head parser has already refused what cannot be framed (a length
//! that is not one number, `chunked` twice, a request whose last coding is
//! not `chunked`) and dropped `Content-Length` beside `Transfer-Encoding`.
//! What is left to decide here: a coding other than `chunked` anywhere is
//! refused (422 for a request, 502 for a response), and an HTTP/1.0 GET,
//! HEAD or DELETE may not carry a body (413).

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

/// Framing, and whether the connection must close after the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub framing: Framing,
    /// Close the client connection after this exchange: haproxy 2.6.12
    /// answered a CL+TE request with `connection: close` (wire_cases.rs).
    pub force_close: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    /// A coding besides `chunked` (`gzip, chunked`): the mux's 422 to a
    /// request (then the connection closes), a 502 for a response.
    #[error("unsupported transfer-coding")]
    UnsupportedCoding,
    /// An HTTP/1.0 GET, HEAD or DELETE with a body: the mux's 413.
    #[error("HTTP/1.0 GET/HEAD/DELETE request with a payload")]
    PayloadForbidden,
}

impl FramingError {
    /// What a client gets for its request.
    pub fn request_status(&self) -> u16 {
        match self {
            FramingError::UnsupportedCoding => 422,
            FramingError::PayloadForbidden => 413,
        }
    }
}

/// Framing of a request body.
pub fn request(head: &Head, buf: &[u8]) -> Result<Decision, FramingError> {
    let b = head.body;
    let method = head.first.of(buf);
    let payload = b.chunked || b.content_length.is_some_and(|n| n > 0);
    if head.version < (1, 1) && payload && matches!(method, b"GET" | b"HEAD" | b"DELETE") {
        return Err(FramingError::PayloadForbidden);
    }
    if b.other_coding {
        return Err(FramingError::UnsupportedCoding);
    }
    // A CONNECT has no body: what follows is the tunnel's.
    let framing = if method == b"CONNECT" {
        Framing::None
    } else if b.chunked {
        Framing::Chunked
    } else {
        b.content_length
            .filter(|&n| n > 0)
            .map_or(Framing::None, Framing::Length)
    };
    Ok(Decision {
        framing,
        force_close: b.close,
    })
}

/// Framing of a response body; `method` is the request's.
pub fn response(head: &Head, method: &[u8]) -> Result<Decision, FramingError> {
    let b = head.body;
    if b.other_coding {
        return Err(FramingError::UnsupportedCoding);
    }
    let status = head.status.unwrap_or(0);
    let bodiless = method == b"HEAD"
        || (100..200).contains(&status)
        || status == 204
        || status == 304
        || (method == b"CONNECT" && (200..300).contains(&status));
    if bodiless {
        return Ok(Decision {
            framing: Framing::None,
            force_close: false,
        });
    }
    let framing = if b.chunked {
        Framing::Chunked
    } else {
        b.content_length.map_or(Framing::Close, Framing::Length)
    };
    // An HTTP/1.0 response with `Transfer-Encoding` ends the client's
    // connection too; with `Content-Length` beside it, only the server's
    // (haproxy 2.6.12 kept the client's open).
    Ok(Decision {
        framing,
        force_close: framing == Framing::Close || (b.transfer_encoding && head.version < (1, 1)),
    })
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
    fn cl_and_te_chunked_is_chunked_and_closes() {
        let d = rq("POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert_eq!(
            d,
            Ok(Decision {
                framing: Framing::Chunked,
                force_close: true,
            })
        );
    }

    #[test]
    fn another_coding_is_422() {
        let r = rq("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
        assert_eq!(r, Err(FramingError::UnsupportedCoding));
        assert_eq!(r.unwrap_err().request_status(), 422);
    }

    #[test]
    fn an_http10_get_with_a_body_is_413() {
        let r = rq("GET / HTTP/1.0\r\nContent-Length: 2\r\n\r\n");
        assert_eq!(r, Err(FramingError::PayloadForbidden));
        // An empty body is no body; POST may carry one.
        assert!(rq("GET / HTTP/1.0\r\nContent-Length: 0\r\n\r\n").is_ok());
        assert!(rq("POST / HTTP/1.0\r\nContent-Length: 2\r\n\r\n").is_ok());
    }

    #[test]
    fn bodiless_responses() {
        let b = b"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n";
        let h = parse_response(b).unwrap().unwrap();
        assert_eq!(response(&h, b"GET").unwrap().framing, Framing::None);
        let b = b"HTTP/1.1 200 OK\r\n\r\n";
        let h = parse_response(b).unwrap().unwrap();
        assert_eq!(response(&h, b"HEAD").unwrap().framing, Framing::None);
        assert_eq!(response(&h, b"GET").unwrap().framing, Framing::Close);
    }

    #[test]
    fn a_response_coding_other_than_chunked_is_refused() {
        for te in ["xchunked", "\x0cchunked", "gzip", "chunked, gzip"] {
            let raw = format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: {te}\r\n\r\n");
            let h = parse_response(raw.as_bytes()).unwrap().unwrap();
            assert_eq!(
                response(&h, b"GET"),
                Err(FramingError::UnsupportedCoding),
                "{te:?}"
            );
        }
    }
}
