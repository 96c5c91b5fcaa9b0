//! What each fuzz target checks, apart from the AFL++ harness so that
//! `cargo test` can replay the corpus through the same code.
//!
//! - [`request`]: bytes → request head → framing → chunked body; the head
//!   re-serialised as the engine forwards it must parse again, to the same
//!   head and the same framing;
//! - [`response`]: the same for a response to a `GET`;
//! - [`config`]: configuration text → validated model.
//!
//! A panic anywhere (an engine panic or one of the assertions here) is a
//! finding. [`replay_args`] runs a target on files, outside AFL++.

use engine::http::body::{self, Framing};
use engine::http::chunked::{self, ChunkedDecoder};
use engine::http::head::{self, Head, HeadError, MAX_HEAD_BYTES};
use engine::http::message::Message;

/// The HTTP/1 request side, as the engine reads a client.
pub fn request(data: &[u8]) {
    let Ok(Some(head)) = head::parse_request(data) else {
        return;
    };
    let framing = body::request(&head, data).map(|d| d.framing);
    let m = Message::request(&head, data);
    if let Some((again, bytes)) = reparse(&m, head::parse_request) {
        assert_eq!(Message::request(&again, &bytes), m, "not a fixed point");
        let reframed = body::request(&again, &bytes).map(|d| d.framing);
        assert_eq!(reframed, framing, "the forwarded head frames differently");
    }
    assert_ne!(framing, Ok(Framing::Close), "a request ends at close");
    if framing == Ok(Framing::Chunked) {
        chunked_body(&data[head.len..], split_at(data));
    }
}

/// The HTTP/1 response side, as the engine reads a server answering a GET.
pub fn response(data: &[u8]) {
    let Ok(Some(head)) = head::parse_response(data) else {
        return;
    };
    let framing = body::response(&head, b"GET").map(|d| d.framing);
    let m = Message::response(&head, data);
    if let Some((again, bytes)) = reparse(&m, head::parse_response) {
        assert_eq!(Message::response(&again, &bytes), m, "not a fixed point");
        let reframed = body::response(&again, b"GET").map(|d| d.framing);
        assert_eq!(reframed, framing, "the forwarded head frames differently");
    }
    if framing == Ok(Framing::Chunked) {
        chunked_body(&data[head.len..], split_at(data));
    }
}

/// haproxy.cfg text, as `engine -c -f` reads it. Errors are expected;
/// only a panic counts.
pub fn config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = engine::config::load_str("fuzz.cfg", &text);
}

/// The head as the engine writes it to the other side must parse again,
/// whole, unless re-serialising grew it past the size limit (a bare LF
/// becomes CRLF, `a:b` becomes `a: b`): then `None`.
fn reparse(
    m: &Message,
    parse: fn(&[u8]) -> Result<Option<Head>, HeadError>,
) -> Option<(Head, Vec<u8>)> {
    let bytes = m.to_bytes();
    match parse(&bytes) {
        Ok(Some(again)) => {
            assert_eq!(again.len, bytes.len(), "head ends early");
            Some((again, bytes))
        }
        Err(HeadError::TooLarge) if bytes.len() > MAX_HEAD_BYTES => None,
        other => panic!(
            "re-serialised head does not parse: {other:?}\n{:?}",
            String::from_utf8_lossy(&bytes)
        ),
    }
}

/// Runs `check` on each file named on the command line, saying which
/// one it is about to run: how a crash input is replayed with a backtrace.
pub fn replay_args(check: fn(&[u8])) {
    for path in std::env::args_os().skip(1) {
        let data =
            std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.to_string_lossy()));
        eprintln!("{}", path.to_string_lossy());
        check(&data);
    }
}

/// Where to cut the body in two for the streaming check: the input's last
/// byte, which mutations reach easily.
fn split_at(data: &[u8]) -> usize {
    data.last().map_or(0, |&c| usize::from(c))
}

/// One decoder fed `rest` at once, another fed it in two pieces cut at
/// `at` (modulo its length): both must consume, yield and refuse the same.
/// A body decoded whole must decode the same once re-chunked.
fn chunked_body(rest: &[u8], at: usize) {
    let at = at % (rest.len() + 1);
    let (whole, whole_data, whole_dec) = decode(&[rest]);
    let (split, split_data, split_dec) = decode(&[&rest[..at], &rest[at..]]);
    assert_eq!(whole, split, "split at {at} changed the outcome");
    assert_eq!(whole_data, split_data, "split at {at} changed the data");
    assert_eq!(whole_dec.is_done(), split_dec.is_done());
    assert_eq!(whole_dec.trailers(), split_dec.trailers());
    if let Ok(n) = whole {
        assert!(n <= rest.len(), "consumed {n} of {} bytes", rest.len());
        assert!(n == rest.len() || whole_dec.is_done(), "stopped early");
        if whole_dec.is_done() {
            let again = chunked::encode(&whole_data, 7);
            let (m, data, dec) = decode(&[&again]);
            assert_eq!(m, Ok(again.len()));
            assert!(dec.is_done());
            assert_eq!(data, whole_data, "re-chunked body decodes differently");
        }
    }
}

/// Feeds `pieces` in order until the body ends or is refused: bytes of
/// the body consumed, data yielded, and the decoder's final state.
fn decode(pieces: &[&[u8]]) -> (Result<usize, chunked::ChunkError>, Vec<u8>, ChunkedDecoder) {
    let mut dec = ChunkedDecoder::default();
    let mut data = Vec::new();
    let mut used = 0;
    for piece in pieces {
        if dec.is_done() {
            break;
        }
        match dec.feed(piece, Some(&mut data)) {
            Ok(n) => used += n,
            Err(e) => return (Err(e), data, dec),
        }
    }
    (Ok(used), data, dec)
}
