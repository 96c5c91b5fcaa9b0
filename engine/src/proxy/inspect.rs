//! `tcp-request content accept|reject` with `tcp-request inspect-delay`:
//! a TCP stream is held before any server is chosen until its frontend's
//! rules decide on what the client sent (HAProxy's tcp_inspect_request).
//!
//! Rules run in order each time data arrives. A rule whose condition
//! cannot be decided yet (its fetch may still change, such as an RDP
//! cookie cut short) holds the stream until more data comes, the buffer
//! is full, the client stops sending, or the inspect delay runs out; then
//! the rules decide on what is there. No rule matching means accept. The
//! bytes read meanwhile go to the server first, and `balance rdp-cookie`
//! chooses by them.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::time::Instant;

use super::pump::{sleep_until, Early};
use crate::acl::{Acls, Stream};
use crate::config;
use crate::net::BoxStream;

/// The most HAProxy's buffer holds for inspection (tune.bufsize less the
/// rewrite reserve).
const INSPECT_MAX_BYTES: usize = 16384 - 1024;

/// A frontend's content rules, ready to run.
pub struct ContentRules {
    delay: Option<Duration>,
    rules: Vec<config::TcpContentRule>,
    acls: Acls,
}

/// What the rules decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    Reject,
}

impl ContentRules {
    /// The rules of a proxy with `tcp-request content` lines; `acls` are
    /// its compiled ACLs. The caller has made sure no condition reads HTTP.
    pub fn new(proxy: &config::Proxy, acls: Acls) -> Option<Self> {
        (!proxy.tcp_content.is_empty()).then(|| ContentRules {
            delay: proxy.inspect_delay,
            rules: proxy.tcp_content.clone(),
            acls,
        })
    }

    /// The first rule's verdict on `req`; None while a rule cannot decide
    /// yet on `partial` data.
    fn decide(&self, req: &Stream, partial: bool) -> Option<Verdict> {
        for rule in &self.rules {
            let hit = match &rule.cond {
                None => true,
                Some(cond) => self.acls.decide(cond, req, partial)?,
            };
            if hit {
                return Some(if rule.reject {
                    Verdict::Reject
                } else {
                    Verdict::Accept
                });
            }
        }
        Some(Verdict::Accept)
    }

    /// Reads from `client` into `early` until the rules decide.
    pub async fn inspect(
        &self,
        client: &mut BoxStream,
        early: &mut Early,
        src: Option<SocketAddr>,
        dst: Option<SocketAddr>,
        accepted_at: Instant,
    ) -> Verdict {
        let deadline = self.delay.map(|d| accepted_at + d);
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
            if let Some(verdict) = self.decide(&req, partial) {
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
}
