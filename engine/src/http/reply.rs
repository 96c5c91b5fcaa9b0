//! Responses the proxy writes itself: its built-in error pages, the
//! `errorfile` and `errorloc` replacements, redirects.
//!
//! HAProxy 2.6 turns each into an internal message and writes it out
//! like any response: lowercase header names, and the connection header
//! the client needs (see [`super::connection`]).

use super::connection::take_tokens;
use super::errors::builtin;
use super::head::parse_response;
use super::message::Message;

/// A response head and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub head: Message,
    pub body: Vec<u8>,
}

impl Reply {
    /// HAProxy's page for `status`, or a bare 500 page for a status it
    /// has none for.
    pub fn builtin(status: u16) -> Reply {
        let e = builtin(status)
            .or_else(|| builtin(500))
            .expect("500 is in the table");
        let body = e.body().into_bytes();
        Reply {
            head: Message {
                start: [
                    b"HTTP/1.1".to_vec(),
                    e.status.to_string().into_bytes(),
                    e.reason.as_bytes().to_vec(),
                ],
                headers: vec![
                    (
                        b"content-length".to_vec(),
                        body.len().to_string().into_bytes(),
                    ),
                    (b"cache-control".to_vec(), b"no-cache".to_vec()),
                    (b"content-type".to_vec(), b"text/html".to_vec()),
                ],
            },
            body,
        }
    }

    /// An `errorfile`'s contents: a whole HTTP response. None when it is
    /// empty or not a response (`/dev/null` makes HAProxy close silently).
    pub fn from_file(contents: &[u8]) -> Option<Reply> {
        let head = parse_response(contents).ok()??;
        Some(Reply {
            head: Message::response(&head, contents),
            body: contents[head.len..].to_vec(),
        })
    }

    /// `errorloc`/`errorloc302` (302) and `errorloc303` (303).
    pub fn location(code: u16, url: &str) -> Reply {
        let reason: &[u8] = if code == 303 { b"See Other" } else { b"Found" };
        Reply {
            head: Message {
                start: [
                    b"HTTP/1.1".to_vec(),
                    code.to_string().into_bytes(),
                    reason.to_vec(),
                ],
                // The order of HAProxy's template (src/http_htx.c).
                headers: vec![
                    (b"cache-control".to_vec(), b"no-cache".to_vec()),
                    (b"content-length".to_vec(), b"0".to_vec()),
                    (b"location".to_vec(), url.as_bytes().to_vec()),
                ],
            },
            body: vec![],
        }
    }

    /// The status the reply carries.
    pub fn status(&self) -> u16 {
        std::str::from_utf8(&self.head.start[1])
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    /// Its HTTP version.
    pub fn version(&self) -> (u8, u8) {
        match self.head.start[0].as_slice() {
            b"HTTP/1.0" => (1, 0),
            _ => (1, 1),
        }
    }

    /// Whether the connection must end after it: its length is unknown,
    /// or it says `Connection: close` itself (an errorfile may).
    pub fn closes(&self) -> bool {
        let length = self.head.has("content-length") || self.head.has("transfer-encoding");
        !length || take_tokens(&mut self.head.clone()).close
    }

    /// The bytes, with `connection: <value>` last when given. Its own
    /// `close`/`keep-alive` tokens are not written (HAProxy's output
    /// drops them, though its size for the log counts them).
    pub fn to_bytes(&self, connection: Option<&str>) -> Vec<u8> {
        let mut head = self.head.clone();
        take_tokens(&mut head);
        if let Some(v) = connection {
            head.add("connection", v);
        }
        let mut out = head.to_bytes();
        out.extend_from_slice(&self.body);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_pages_are_the_htx_rendering() {
        for status in [403, 502, 503, 504] {
            let e = builtin(status).unwrap();
            assert_eq!(Reply::builtin(status).to_bytes(None), e.htx_bytes(false));
            assert_eq!(
                Reply::builtin(status).to_bytes(Some("close")),
                e.htx_bytes(true)
            );
        }
    }

    #[test]
    fn errorfiles_go_lowercase_and_keep_their_body() {
        let r = Reply::from_file(b"HTTP/1.0 503 Busy\r\nContent-Type: text/plain\r\n\r\nsorry")
            .unwrap();
        assert_eq!(
            r.to_bytes(None),
            b"HTTP/1.0 503 Busy\r\ncontent-type: text/plain\r\n\r\nsorry"
        );
        assert_eq!(r.status(), 503);
        assert!(Reply::from_file(b"").is_none());
    }
}
