//! Keep-alive or close, on each side, as HAProxy 2.6's HTTP/1 mux decides
//! it (src/mux_h1.c: h1_set_cli_conn_mode, h1_set_srv_conn_mode and the
//! `Connection:` value they write).
//!
//! - Every message's `Connection` header loses its `keep-alive` and `close`
//!   tokens on the way in (the header goes when nothing else is left); the
//!   tokens only set flags. Each side then says what it needs on the way out.
//! - Client side: an HTTP/1.0 request without `keep-alive`, or any request
//!   with `close`, closes after its response; so does a response whose end
//!   is the connection's end, a `Transfer-Encoding` + `Content-Length` or
//!   HTTP/1.0 chunked response, and every response of a frontend with
//!   `option httpclose`.
//! - Server side: `option http-server-close` or `option httpclose` on the
//!   frontend or the backend close the server connection after the
//!   response; so does a response that says `close`, an HTTP/1.0 response
//!   without `keep-alive`, or one whose end is the connection's end.
//! - What is written: a side that stays open says `connection: keep-alive`
//!   to an HTTP/1.0 peer; a side that closes says `connection: close` to an
//!   HTTP/1.1 peer; otherwise nothing. A 101 response and a request that
//!   asks to upgrade are left as they are.

use super::head::is_lws;
use super::message::Message;

/// `option http-keep-alive` (the default), `http-server-close`, `httpclose`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    KeepAlive,
    ServerClose,
    Close,
}

/// What a message's `Connection` header said.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tokens {
    pub keep_alive: bool,
    pub close: bool,
    pub upgrade: bool,
}

/// Reads the `Connection` headers of `msg` and removes their `keep-alive`
/// and `close` tokens as HAProxy does: the other words stay, the first
/// ones untouched, any after a removed one joined by a bare comma.
pub fn take_tokens(msg: &mut Message) -> Tokens {
    let mut tokens = Tokens::default();
    let mut kept = Vec::new();
    for (name, value) in std::mem::take(&mut msg.headers) {
        if name != b"connection" {
            kept.push((name, value));
            continue;
        }
        let cleaned = clean(&value, &mut tokens);
        if !cleaned.is_empty() {
            kept.push((name, cleaned));
        }
    }
    msg.headers = kept;
    tokens
}

/// h1_parse_connection_header with H1_MF_CLEAN_CONN_HDR.
fn clean(value: &[u8], tokens: &mut Tokens) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::new();
    let mut rewritten = false;
    let mut start = 0;
    while start < value.len() {
        if is_lws(value[start]) || value[start] == b',' {
            start += 1;
            continue;
        }
        let end = value[start..]
            .iter()
            .position(|&c| c == b',')
            .map_or(value.len(), |p| start + p);
        let mut word = &value[start..end];
        while word.last().is_some_and(|&c| is_lws(c)) {
            word = &word[..word.len() - 1];
        }
        let drop = if word.eq_ignore_ascii_case(b"keep-alive") {
            tokens.keep_alive = true;
            true
        } else if word.eq_ignore_ascii_case(b"close") {
            tokens.close = true;
            true
        } else {
            if word.eq_ignore_ascii_case(b"upgrade") {
                tokens.upgrade = true;
            }
            false
        };
        if drop {
            rewritten = true;
        } else if !rewritten {
            // Nothing removed so far: the original bytes up to here stay.
            out = value[..end].to_vec();
        } else {
            if !out.is_empty() {
                out.push(b',');
            }
            out.extend_from_slice(word);
        }
        start = end;
    }
    out
}

/// Whether the client connection may carry another request, judged from
/// the request alone (HTTP/1.0 needs `keep-alive`; `close` ends it).
pub fn client_wants_close(version: (u8, u8), tokens: Tokens) -> bool {
    tokens.close || (version < (1, 1) && !tokens.keep_alive)
}

/// Whether the server connection closes after this request (decided when
/// the request is sent).
pub fn server_close_for_request(front: Mode, back: Mode) -> bool {
    front != Mode::KeepAlive || back != Mode::KeepAlive
}

/// Whether the server's response ends its connection's reuse.
pub fn server_closes(version: (u8, u8), tokens: Tokens, has_length: bool) -> bool {
    !has_length || tokens.close || (version < (1, 1) && !tokens.keep_alive)
}

/// The `Connection` value written on a request to the server.
pub fn request_value(close: bool, version: (u8, u8), upgrade: bool) -> Option<&'static str> {
    written(close, version >= (1, 1), version >= (1, 1), upgrade)
}

/// The `Connection` value written on a response to the client.
pub fn response_value(
    close: bool,
    response_version: (u8, u8),
    request_version: (u8, u8),
    upgrade: bool,
) -> Option<&'static str> {
    let v11 = response_version >= (1, 1);
    written(close, v11, v11 && request_version >= (1, 1), upgrade)
}

fn written(close: bool, v11: bool, both_v11: bool, upgrade: bool) -> Option<&'static str> {
    match (upgrade, close) {
        (true, _) => None,
        (false, false) if !both_v11 => Some("keep-alive"),
        (false, true) if v11 => Some("close"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cleaned(v: &str) -> (String, Tokens) {
        let mut t = Tokens::default();
        let out = clean(v.as_bytes(), &mut t);
        (String::from_utf8(out).unwrap(), t)
    }

    #[test]
    fn keep_alive_and_close_tokens_go_the_rest_stays() {
        assert_eq!(cleaned("close").0, "");
        assert!(cleaned("Keep-Alive").1.keep_alive);
        assert_eq!(
            cleaned("Upgrade, HTTP2-Settings").0,
            "Upgrade, HTTP2-Settings"
        );
        assert_eq!(cleaned("keep-alive, Upgrade").0, "Upgrade");
        assert_eq!(cleaned("Upgrade, close, foo").0, "Upgrade,foo");
        assert!(cleaned("x, upgrade").1.upgrade);
    }

    #[test]
    fn what_each_side_is_told() {
        // A 1.0 client kept alive is told so; a 1.1 one hears nothing.
        assert_eq!(
            response_value(false, (1, 1), (1, 0), false),
            Some("keep-alive")
        );
        assert_eq!(response_value(false, (1, 1), (1, 1), false), None);
        assert_eq!(response_value(true, (1, 1), (1, 1), false), Some("close"));
        assert_eq!(response_value(true, (1, 0), (1, 1), false), None);
        assert_eq!(request_value(true, (1, 1), false), Some("close"));
        assert_eq!(request_value(false, (1, 0), false), Some("keep-alive"));
        assert_eq!(request_value(true, (1, 1), true), None);
    }

    #[test]
    fn who_closes() {
        assert!(client_wants_close((1, 0), Tokens::default()));
        assert!(!client_wants_close((1, 1), Tokens::default()));
        assert!(server_close_for_request(Mode::KeepAlive, Mode::ServerClose));
        assert!(server_closes((1, 1), Tokens::default(), false));
        assert!(!server_closes((1, 1), Tokens::default(), true));
    }
}
