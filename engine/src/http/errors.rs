//! HAProxy 2.6's built-in error responses, byte for byte.
//!
//! Two renderings exist in HAProxy 2.6 and clients can tell them apart:
//! - the HTTP/1 mux answers its own failures (400 on a parse error, 408 on
//!   `timeout http-request`, 500, 501) with the raw text of `http_err_msgs`
//!   (src/http.c): mixed-case header names and always `Connection: close`;
//! - everything produced through the HTX path (`http-request deny` 403, 502,
//!   503, 504, ...) is re-serialised by the mux with lowercase names, and
//!   `connection: close` only when the client's connection is closing.
//!
//! The table is data: status, reason phrase, sentence. The bytes are built
//! from it so Content-Length can never disagree with the body.
//!
//! Every row is verified byte for byte on haproxy 2.6.12: see
//! errors_observed.rs for the bytes and the command that produced them.

/// One built-in response: what `http_err_msgs` says for a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltinError {
    pub status: u16,
    /// The reason phrase exactly as HAProxy spells it ("Bad request",
    /// "Request Time-out": not the RFC's capitalisation).
    pub reason: &'static str,
    /// The sentence between the `<h1>` line and `</body>`.
    pub sentence: &'static str,
}

/// Every status HAProxy 2.6 has a built-in page for, in status order.
pub const BUILTIN_ERRORS: &[BuiltinError] = &[
    e(400, "Bad request", "Your browser sent an invalid request."),
    e(
        401,
        "Unauthorized",
        "You need a valid user and password to access this content.",
    ),
    e(
        403,
        "Forbidden",
        "Request forbidden by administrative rules.",
    ),
    e(
        405,
        "Method Not Allowed",
        "A request was made of a resource using a request method not supported by that resource",
    ),
    e(
        407,
        "Unauthorized",
        "You need a valid user and password to access this content.",
    ),
    e(
        408,
        "Request Time-out",
        "Your browser didn't send a complete request in time.",
    ),
    e(
        410,
        "Gone",
        "The resource is no longer available and will not be available again.",
    ),
    e(
        413,
        "Payload Too Large",
        "The request entity exceeds the maximum allowed.",
    ),
    e(
        421,
        "Misdirected Request",
        "Request sent to a non-authoritative server.",
    ),
    e(
        422,
        "Unprocessable Content",
        "The server cannot process the contained instructions.",
    ),
    e(425, "Too Early", "Your browser sent early data."),
    e(
        429,
        "Too Many Requests",
        "You have sent too many requests in a given amount of time.",
    ),
    e(
        500,
        "Internal Server Error",
        "An internal server error occurred.",
    ),
    e(
        501,
        "Not Implemented",
        // The leading dot is HAProxy's own (observed on 2.6.12).
        ".The server does not support the functionality required to fulfill the request.",
    ),
    e(
        502,
        "Bad Gateway",
        "The server returned an invalid or incomplete response.",
    ),
    e(
        503,
        "Service Unavailable",
        "No server is available to handle this request.",
    ),
    e(
        504,
        "Gateway Time-out",
        "The server didn't respond in time.",
    ),
];

const fn e(status: u16, reason: &'static str, sentence: &'static str) -> BuiltinError {
    BuiltinError {
        status,
        reason,
        sentence,
    }
}

/// The table row for `status`, if HAProxy has a built-in page for it.
pub fn builtin(status: u16) -> Option<&'static BuiltinError> {
    BUILTIN_ERRORS.iter().find(|b| b.status == status)
}

impl BuiltinError {
    /// The HTML body, identical in both renderings.
    pub fn body(&self) -> String {
        format!(
            "<html><body><h1>{} {}</h1>\n{}\n</body></html>\n",
            self.status, self.reason, self.sentence
        )
    }

    /// Whether HAProxy's message says `Connection: close` (the 400 and
    /// the 408 only).
    pub fn closes(&self) -> bool {
        matches!(self.status, 400 | 408)
    }

    /// The bytes the HTTP/1 mux writes for its own errors (400, 408, 413,
    /// 422, 500, 501): HAProxy's raw messages (src/http.c http_err_msgs),
    /// mixed-case names; only the 400's and the 408's say `Connection:
    /// close`, before Content-Type (the connection closes after any of
    /// them all the same).
    pub fn mux_h1_bytes(&self) -> Vec<u8> {
        let body = self.body();
        let conn = if self.closes() {
            "Connection: close\r\n"
        } else {
            ""
        };
        format!(
            "HTTP/1.1 {} {}\r\nContent-length: {}\r\nCache-Control: no-cache\r\n\
             {}Content-Type: text/html\r\n\r\n{}",
            self.status,
            self.reason,
            body.len(),
            conn,
            body
        )
        .into_bytes()
    }

    /// The bytes of the HTX path (deny, 502, 503, 504...): lowercase names;
    /// `connection: close` after content-type only when `close` is set.
    pub fn htx_bytes(&self, close: bool) -> Vec<u8> {
        let body = self.body();
        let conn = if close { "connection: close\r\n" } else { "" };
        format!(
            "HTTP/1.1 {} {}\r\ncontent-length: {}\r\ncache-control: no-cache\r\n\
             content-type: text/html\r\n{}\r\n{}",
            self.status,
            self.reason,
            body.len(),
            conn,
            body
        )
        .into_bytes()
    }
}

#[cfg(test)]
#[path = "errors_observed.rs"]
mod observed;

#[cfg(test)]
mod tests {
    use super::*;

    // Bytes recorded from haproxy 2.6.12 (haproxy-notes.md).
    #[test]
    fn mux_400_matches_haproxy() {
        let want = "HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n";
        assert_eq!(builtin(400).unwrap().mux_h1_bytes(), want.as_bytes());
    }

    #[test]
    fn htx_503_matches_haproxy() {
        let want = "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n";
        assert_eq!(builtin(503).unwrap().htx_bytes(false), want.as_bytes());
    }

    #[test]
    fn close_variant_puts_connection_after_content_type() {
        let b = String::from_utf8(builtin(403).unwrap().htx_bytes(true)).unwrap();
        assert!(b.contains("content-type: text/html\r\nconnection: close\r\n\r\n"));
    }

    #[test]
    fn table_is_sorted_and_unique() {
        assert!(BUILTIN_ERRORS.windows(2).all(|w| w[0].status < w[1].status));
        assert!(builtin(404).is_none());
    }
}
