//! What one proxy's configuration says about the HTTP messages crossing
//! it: its connection mode, `option forwardfor`, and its replacement error
//! pages. A stream consults its frontend's and its backend's.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::connection::Mode;
use super::message::Message;
use super::reply::Reply;
use crate::acl::{in_net, network};
use crate::config::{self, ErrorSource};

/// `option forwardfor [except NET] [header NAME] [if-none]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardFor {
    pub except: Option<(IpAddr, u8)>,
    /// Lowercase.
    pub header: String,
    /// Without `if-none`: added even when the request has one already.
    pub always: bool,
}

/// A proxy's HTTP settings.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub mode: Mode,
    pub forwardfor: Option<ForwardFor>,
    /// Replacement pages by status; None: an empty `errorfile` (the
    /// connection closes without a response).
    pub errors: BTreeMap<u16, Option<Reply>>,
}

impl Policy {
    pub fn from_proxy(p: &config::Proxy) -> Policy {
        let o = &p.options;
        let mode = if o.httpclose {
            Mode::Close
        } else if o.http_server_close {
            Mode::ServerClose
        } else {
            Mode::KeepAlive
        };
        let forwardfor = o.forwardfor.as_ref().map(|f| ForwardFor {
            except: f.except.as_deref().and_then(network),
            header: f.header.to_ascii_lowercase(),
            always: !f.if_none,
        });
        let errors = p
            .errors
            .iter()
            .map(|e| {
                let reply = match &e.source {
                    ErrorSource::File { contents, .. } => Reply::from_file(contents),
                    ErrorSource::Location { code, url } => Some(Reply::location(*code, url)),
                };
                (e.status, reply)
            })
            .collect();
        Policy {
            mode,
            forwardfor,
            errors,
        }
    }
}

/// The page for `status`: the backend's replacement, else the frontend's,
/// else HAProxy's own. None: close without answering.
pub fn error_page(front: &Policy, back: Option<&Policy>, status: u16) -> Option<Reply> {
    back.and_then(|b| b.errors.get(&status))
        .or_else(|| front.errors.get(&status))
        .cloned()
        .unwrap_or_else(|| Some(Reply::builtin(status)))
}

/// Adds the client's address as HAProxy does when either proxy has
/// `option forwardfor`: the header name is the backend's when it sets
/// one; `if-none` on both skips a request that already has the header;
/// a source inside either proxy's `except` network gets none.
pub fn forward_for(front: &Policy, back: &Policy, client: Option<IpAddr>, msg: &mut Message) {
    let (f, b) = (front.forwardfor.as_ref(), back.forwardfor.as_ref());
    let Some(first) = b.or(f) else {
        return;
    };
    let Some(ip) = client else {
        return;
    };
    let always = f.is_some_and(|f| f.always) || b.is_some_and(|b| b.always);
    if !always && msg.has(&first.header) {
        return;
    }
    let excepted = [f, b]
        .into_iter()
        .flatten()
        .filter_map(|x| x.except)
        .any(|(net, bits)| in_net(ip, net, bits));
    if excepted {
        return;
    }
    msg.add(&first.header, ip.to_string());
}
