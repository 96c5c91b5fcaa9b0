//! What a frontend decides for an HTTP request, in HAProxy's order:
//! `http-request` rules first (the first `allow` or `deny` whose condition
//! holds ends them), then `redirect` rules (the first that applies
//! answers), then `use_backend` rules (the first that applies routes),
//! then `default_backend`. The order in the file between these kinds does
//! not matter, only the order within each kind (HAProxy warns when the
//! file says otherwise).

pub mod edit;
pub mod redirect;
pub mod stats_uri;
pub mod tcp;

use std::net::SocketAddr;

use crate::acl::{Acls, Request};
use crate::config::{Condition, HttpRequestAction, HttpResponseAction, HttpResponseRule, Proxy};
use crate::http::message::Message;
use crate::http::reply::Reply;
use redirect::Redirection;

/// The outcome of the rules for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Answer with this status (`http-request deny [deny_status N]`).
    Deny(u16),
    Redirect(Redirection),
    /// Go to this backend; None when no rule and no default apply (503).
    Backend(Option<String>),
    /// `http-request return`.
    Return(Reply),
    /// The statistics page (`stats uri`) takes the request.
    Stats,
    /// `http-request use-service`.
    Service(crate::config::Service),
}

/// A request as the ACLs see it.
pub struct View<'a> {
    pub request: &'a Message,
    pub src: Option<SocketAddr>,
    pub dst: Option<SocketAddr>,
}

impl Request for View<'_> {
    fn method(&self) -> &[u8] {
        &self.request.start[0]
    }
    fn uri(&self) -> &[u8] {
        &self.request.start[1]
    }
    fn version(&self) -> &[u8] {
        &self.request.start[2]
    }
    fn headers(&self) -> Vec<(&[u8], &[u8])> {
        self.request
            .headers
            .iter()
            .map(|(n, v)| (n.as_slice(), v.as_slice()))
            .collect()
    }
    fn src(&self) -> Option<SocketAddr> {
        self.src
    }
    fn dst(&self) -> Option<SocketAddr> {
        self.dst
    }
}

fn holds(cond: Option<&Condition>, acls: &Acls, req: &dyn Request) -> bool {
    cond.is_none_or(|c| acls.eval(c, req))
}

/// Runs a frontend's rules on a request, editing it as they say.
pub fn decide(
    proxy: &Proxy,
    acls: &Acls,
    msg: &mut Message,
    src: Option<SocketAddr>,
    dst: Option<SocketAddr>,
) -> Verdict {
    for rule in &proxy.http_request {
        let view = View {
            request: msg,
            src,
            dst,
        };
        if !holds(rule.condition.as_ref(), acls, &view) {
            continue;
        }
        match &rule.action {
            HttpRequestAction::Allow => break,
            HttpRequestAction::Deny { status } => return Verdict::Deny(*status),
            HttpRequestAction::Header(h) => edit::apply(h, msg),
            HttpRequestAction::SetPath(p) => edit::set_path(msg, p),
            HttpRequestAction::SetQuery(q) => edit::set_query(msg, q),
            HttpRequestAction::SetUri(u) => msg.start[1] = u.as_bytes().to_vec(),
            HttpRequestAction::SetMethod(m) => msg.start[0] = m.as_bytes().to_vec(),
            HttpRequestAction::Return(spec) => return Verdict::Return(Reply::returned(spec)),
            HttpRequestAction::UseService(s) => return Verdict::Service(*s),
            HttpRequestAction::Redirect(r) => {
                if let Some(to) = Redirection::for_request(r, &view) {
                    return Verdict::Redirect(to);
                }
            }
            // Other actions are refused at start until they are built.
            HttpRequestAction::Other { .. } => {}
        }
    }
    // After the `http-request` rules, before the redirects: HAProxy's
    // http_process_req_common.
    if stats_uri::wants(&proxy.stats, &msg.start[0], &msg.start[1]) {
        return Verdict::Stats;
    }
    let view = View {
        request: msg,
        src,
        dst,
    };
    for rule in &proxy.redirects {
        if holds(rule.condition.as_ref(), acls, &view) {
            if let Some(r) = Redirection::for_request(rule, &view) {
                return Verdict::Redirect(r);
            }
        }
    }
    let chosen = proxy
        .use_backends
        .iter()
        .find(|u| holds(u.parsed.as_ref(), acls, &view))
        .map(|u| u.backend.clone())
        .or_else(|| proxy.default_backend.clone());
    Verdict::Backend(chosen)
}

/// Runs `http-response` rules on a response; Some(status) when one denies.
pub fn respond(
    rules: &[HttpResponseRule],
    acls: &Acls,
    request: &Message,
    response: &mut Message,
    src: Option<SocketAddr>,
    dst: Option<SocketAddr>,
) -> Option<u16> {
    for rule in rules {
        let view = View { request, src, dst };
        if !holds(rule.condition.as_ref(), acls, &view) {
            continue;
        }
        match &rule.action {
            HttpResponseAction::Allow => break,
            HttpResponseAction::Deny { status } => return Some(*status),
            HttpResponseAction::Header(h) => edit::apply(h, response),
            HttpResponseAction::Other { .. } => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;

    /// The seed's user-agent and source rules, with its routing by path.
    const SEED: &str = "
defaults
    mode http
    timeout connect 1s
    timeout client 1s
    timeout server 1s
frontend test
    bind *:80
    acl valid_ip        src     10.96.20.0/24
    acl iphone_users    hdr_sub(user-agent)     -i      iphone
    redirect    prefix  http://3g-iphone.test.com       if      iphone_users
    acl android_users   hdr_sub(user-agent)     -i      android
    redirect    prefix  http://3g-android.test.com      if      android_users
    acl dynamic_test    path_beg        /php/
    use_backend blog    if      dynamic_test
    http-request        deny    if      !       valid_ip
    default_backend     www
backend www
    server web1 172.16.10.118:80
backend blog
    server web1 172.16.10.119:80
";

    fn decide_for(uri: &'static str, ua: &'static str, src: &'static str) -> Verdict {
        let loaded = config::load_str("seed.cfg", SEED).unwrap();
        let fe = loaded.config.proxies.into_iter().next().unwrap();
        let acls = crate::acl::compile(&fe.acls).unwrap();
        let mut msg = Message {
            start: [
                b"GET".to_vec(),
                uri.as_bytes().to_vec(),
                b"HTTP/1.1".to_vec(),
            ],
            headers: vec![
                (b"host".to_vec(), b"www.test.com".to_vec()),
                (b"user-agent".to_vec(), ua.as_bytes().to_vec()),
            ],
        };
        decide(&fe, &acls, &mut msg, src.parse().ok(), None)
    }

    #[test]
    fn deny_comes_before_redirects_whatever_the_file_order() {
        assert_eq!(
            decide_for("/", "iPhone", "192.168.1.1:5"),
            Verdict::Deny(403)
        );
    }

    #[test]
    fn redirects_come_before_use_backend() {
        match decide_for("/php/x", "Android 9", "10.96.20.89:5") {
            Verdict::Redirect(r) => assert_eq!(r.location, "http://3g-android.test.com/php/x"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn use_backend_then_default_backend() {
        assert_eq!(
            decide_for("/php/x", "curl", "10.96.20.89:5"),
            Verdict::Backend(Some("blog".into()))
        );
        assert_eq!(
            decide_for("/x", "curl", "10.96.20.89:5"),
            Verdict::Backend(Some("www".into()))
        );
    }
}
