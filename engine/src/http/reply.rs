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
        let mut headers = vec![
            (
                b"content-length".to_vec(),
                body.len().to_string().into_bytes(),
            ),
            (b"cache-control".to_vec(), b"no-cache".to_vec()),
        ];
        // HAProxy's 400 and 408 messages say `Connection: close`
        // themselves: the connection ends after them, and the log's size
        // counts the header although the output writes its own.
        if e.closes() {
            headers.push((b"connection".to_vec(), b"close".to_vec()));
        }
        headers.push((b"content-type".to_vec(), b"text/html".to_vec()));
        Reply {
            head: Message {
                start: [
                    b"HTTP/1.1".to_vec(),
                    e.status.to_string().into_bytes(),
                    e.reason.as_bytes().to_vec(),
                ],
                headers,
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

    /// `http-request return`: its headers, then the length and type.
    pub fn returned(spec: &crate::config::ReturnSpec) -> Reply {
        let mut head = Message {
            start: [
                b"HTTP/1.1".to_vec(),
                spec.status.to_string().into_bytes(),
                reason(spec.status).as_bytes().to_vec(),
            ],
            headers: vec![],
        };
        for (n, v) in &spec.headers {
            // An empty value adds nothing, as in HAProxy.
            if !v.is_empty() {
                head.add(n, v.as_bytes());
            }
        }
        head.add("content-length", spec.body.len().to_string());
        if let Some(t) = spec.content_type.as_ref().filter(|_| !spec.body.is_empty()) {
            head.add("content-type", t.as_bytes());
        }
        Reply {
            head,
            body: spec.body.clone(),
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

/// HAProxy's reason phrases (http_get_reason), for the replies it builds
/// from a status alone.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Moved Temporarily",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Time-out",
        409 => "Conflict",
        410 => "Gone",
        413 => "Request Entity Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway or Proxy Error",
        503 => "Service Unavailable",
        504 => "Gateway Time-out",
        _ => match status / 100 {
            1 => "Informational",
            2 => "Success",
            3 => "Redirection",
            4 => "Client Error",
            _ => "Server Error",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_pages_are_the_htx_rendering() {
        for status in [400, 403, 408, 502, 503, 504] {
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
