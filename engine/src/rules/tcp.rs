//! `tcp-request content accept|reject`: the verdict of a frontend's
//! content rules on what a TCP client sent so far (HAProxy's
//! tcp_inspect_request decides; the proxy reads and holds the stream, see
//! [`crate::proxy::inspect`]).
//!
//! Rules run in order. A rule whose condition cannot be decided yet (its
//! fetch may still change, such as an RDP cookie cut short) makes the
//! verdict wait; no rule matching means accept.

use std::time::Duration;

use crate::acl::{Acls, Stream};
use crate::config;

/// A frontend's content rules, ready to run.
pub struct ContentRules {
    delay: Option<Duration>,
    rules: Vec<config::TcpContentRule>,
    acls: std::sync::Arc<Acls>,
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
    pub fn new(proxy: &config::Proxy, acls: std::sync::Arc<Acls>) -> Option<Self> {
        (!proxy.tcp_content.is_empty()).then(|| ContentRules {
            delay: proxy.inspect_delay,
            rules: proxy.tcp_content.clone(),
            acls,
        })
    }

    /// `tcp-request inspect-delay`: how long a stream may be held.
    pub fn delay(&self) -> Option<Duration> {
        self.delay
    }

    /// The first rule's verdict on `req`; None while a rule cannot decide
    /// yet on `partial` data.
    pub fn decide(&self, req: &Stream, partial: bool) -> Option<Verdict> {
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
}
