//! `tcp-request content` with `tcp-request inspect-delay`: a TCP stream is
//! held before any server is chosen until its frontend's rules
//! ([`crate::rules::tcp`]) decide on what the client sent (HAProxy's
//! tcp_inspect_request).
//!
//! The rules run each time data arrives. One that cannot decide yet holds
//! the stream until more data comes, the buffer is full, the client stops
//! sending, or the inspect delay runs out; then the rules decide on what
//! is there. The bytes read meanwhile go to the server first, and
//! `balance rdp-cookie` chooses by them.

use std::net::SocketAddr;

use tokio::io::AsyncReadExt;
use tokio::time::Instant;

use super::pump::Early;
use crate::acl::Stream;
use crate::http::forward::sleep_until;
use crate::net::BoxStream;
use crate::rules::tcp::{ContentRules, Verdict};

/// The most HAProxy's buffer holds for inspection (tune.bufsize less the
/// rewrite reserve).
const INSPECT_MAX_BYTES: usize = 16384 - 1024;

/// Reads from `client` into `early` until `rules` decide.
pub async fn inspect(
    rules: &ContentRules,
    client: &mut BoxStream,
    early: &mut Early,
    src: Option<SocketAddr>,
    dst: Option<SocketAddr>,
    accepted_at: Instant,
) -> Verdict {
    let deadline = rules.delay().map(|d| accepted_at + d);
    let mut buf = [0u8; 4096];
    loop {
        let partial = !early.eof
            && early.bytes.len() < INSPECT_MAX_BYTES
            && deadline.is_some_and(|d| Instant::now() < d);
        let req = Stream {
            src,
            dst,
            payload: &early.bytes,
        };
        if let Some(verdict) = rules.decide(&req, partial) {
            return verdict;
        }
        let room = INSPECT_MAX_BYTES - early.bytes.len();
        tokio::select! {
            n = client.read(&mut buf[..room.min(4096)]) => match n {
                Ok(0) | Err(_) => early.eof = true,
                Ok(n) => early.bytes.extend_from_slice(&buf[..n]),
            },
            // The delay is over: the next round decides on what is there.
            _ = sleep_until(deadline) => {}
        }
    }
}
