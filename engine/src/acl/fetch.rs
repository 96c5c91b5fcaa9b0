//! Sample fetches: what an ACL looks at in a request, and the ACL
//! keywords that pair a fetch with a match method (`hdr_beg` is `hdr`
//! compared with `beg`).

use std::net::SocketAddr;

use super::pattern::{Method, Value};

/// The parts of a request that fetches read. The HTTP layer implements it
/// over a parsed request head; tests implement it over plain values.
pub trait Request {
    fn method(&self) -> &[u8];
    /// The request target as sent (`/path?query` or an absolute URI).
    fn uri(&self) -> &[u8];
    /// `HTTP/1.1`.
    fn version(&self) -> &[u8];
    /// Every header line, in order, as (name, value).
    fn headers(&self) -> Vec<(&[u8], &[u8])>;
    fn src(&self) -> Option<SocketAddr>;
    fn dst(&self) -> Option<SocketAddr>;
    /// The raw bytes a TCP stream has buffered (`tcp-request content`);
    /// None on the HTTP path, where payload fetches find nothing.
    fn payload(&self) -> Option<&[u8]> {
        None
    }
}

/// A TCP stream as fetches see it: its addresses and the bytes it has
/// buffered.
pub struct Stream<'a> {
    pub src: Option<SocketAddr>,
    pub dst: Option<SocketAddr>,
    pub payload: &'a [u8],
}

impl Request for Stream<'_> {
    fn method(&self) -> &[u8] {
        b""
    }
    fn uri(&self) -> &[u8] {
        b""
    }
    fn version(&self) -> &[u8] {
        b""
    }
    fn headers(&self) -> Vec<(&[u8], &[u8])> {
        vec![]
    }
    fn src(&self) -> Option<SocketAddr> {
        self.src
    }
    fn dst(&self) -> Option<SocketAddr> {
        self.dst
    }
    fn payload(&self) -> Option<&[u8]> {
        Some(self.payload)
    }
}

/// A fetch the runtime knows, with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetch {
    /// `hdr(name[,occ])`, `req.hdr`: values split on commas.
    Hdr {
        name: Option<String>,
        occ: Option<i64>,
    },
    /// `req.fhdr(name[,occ])`: whole lines, not split.
    FullHdr {
        name: Option<String>,
        occ: Option<i64>,
    },
    HdrCnt(Option<String>),
    HdrVal(String),
    Path,
    Url,
    Query,
    UrlParam(String),
    Base,
    Method,
    Version,
    Src,
    Dst,
    SrcPort,
    DstPort,
    Always(bool),
    /// `req.rdp_cookie([name])`: the RDP cookie's value.
    RdpCookie(Option<String>),
    /// `req.rdp_cookie_cnt([name])`: 1 when the RDP cookie is there.
    RdpCookieCnt(Option<String>),
    /// `req.len`: the bytes buffered so far.
    ReqLen,
}

impl Fetch {
    /// Whether it reads an HTTP request (the TCP path has none to give).
    pub fn is_http(&self) -> bool {
        !matches!(
            self,
            Fetch::Src
                | Fetch::Dst
                | Fetch::SrcPort
                | Fetch::DstPort
                | Fetch::Always(_)
                | Fetch::RdpCookie(_)
                | Fetch::RdpCookieCnt(_)
                | Fetch::ReqLen
        )
    }
}

/// The ACL keywords the runtime evaluates: name, fetch family, default
/// match method. `_*` suffixes change the method, as in HAProxy.
pub fn keyword(name: &str, args: &[String]) -> Option<(Fetch, Method)> {
    let arg = |i: usize| args.get(i).filter(|a| !a.is_empty()).cloned();
    let occ = || args.get(1).and_then(|o| o.parse::<i64>().ok());
    // Payload fetches, whose names hold underscores of their own.
    match name {
        "req.rdp_cookie" | "rdp_cookie" | "req_rdp_cookie" => {
            return Some((Fetch::RdpCookie(arg(0)), Method::Str))
        }
        "req.rdp_cookie_cnt" | "rdp_cookie_cnt" | "req_rdp_cookie_cnt" => {
            return Some((Fetch::RdpCookieCnt(arg(0)), Method::Int))
        }
        "req.len" | "req_len" => return Some((Fetch::ReqLen, Method::Int)),
        _ => {}
    }
    let (family, suffix) = match name.split_once('_') {
        Some((f, s))
            if !matches!(
                name,
                "url_param" | "src_port" | "dst_port" | "req_ver" | "always_true" | "always_false"
            ) =>
        {
            (f, Some(s))
        }
        _ => (name, None),
    };
    // `hdr_cnt` and `hdr_val` are fetches of their own, compared as integers.
    match (family, suffix) {
        ("hdr", Some("cnt")) => return Some((Fetch::HdrCnt(arg(0)), Method::Int)),
        ("hdr", Some("val")) => return Some((Fetch::HdrVal(arg(0)?), Method::Int)),
        _ => {}
    }
    let method = match suffix {
        None => None,
        Some(s) => Some(Method::from_name(s)?),
    };
    let (fetch, default) = match family {
        "hdr" | "req.hdr" => (
            Fetch::Hdr {
                name: arg(0),
                occ: occ(),
            },
            Method::Str,
        ),
        "req.fhdr" => (
            Fetch::FullHdr {
                name: arg(0),
                occ: occ(),
            },
            Method::Str,
        ),
        "path" => (Fetch::Path, Method::Str),
        "url" => (Fetch::Url, Method::Str),
        "query" => (Fetch::Query, Method::Str),
        "base" => (Fetch::Base, Method::Str),
        "url_param" | "urlp" => (Fetch::UrlParam(arg(0)?), Method::Str),
        "method" => (Fetch::Method, Method::Str),
        "req_ver" | "req.ver" => (Fetch::Version, Method::Str),
        "src" => (Fetch::Src, Method::Ip),
        "dst" => (Fetch::Dst, Method::Ip),
        "src_port" => (Fetch::SrcPort, Method::Int),
        "dst_port" => (Fetch::DstPort, Method::Int),
        "always_true" => (Fetch::Always(true), Method::Found),
        "always_false" => (Fetch::Always(false), Method::Found),
        _ => return None,
    };
    Some((fetch, method.unwrap_or(default)))
}

/// The values `fetch` finds in `req`, and whether they may still change
/// as more data comes (HAProxy's SMP_F_MAY_CHANGE).
pub fn sample(fetch: &Fetch, req: &dyn Request) -> (Vec<Value>, bool) {
    use crate::rdp::{cookie, Cookie};
    let rdp = |name: &Option<String>| {
        req.payload()
            .map(|p| cookie(p, name.as_deref().unwrap_or("")))
    };
    match fetch {
        Fetch::RdpCookie(name) => match rdp(name) {
            Some(Cookie::Found(v)) => (vec![Value::Str(v.to_vec())], false),
            Some(Cookie::TooShort) => (vec![], true),
            _ => (vec![], false),
        },
        Fetch::RdpCookieCnt(name) => match rdp(name) {
            Some(Cookie::TooShort) => (vec![], true),
            found => (
                vec![Value::Int(matches!(found, Some(Cookie::Found(_))).into())],
                false,
            ),
        },
        Fetch::ReqLen => match req.payload() {
            Some(p) => (vec![Value::Int(p.len() as i64)], true),
            None => (vec![], false),
        },
        _ => (values(fetch, req), false),
    }
}

/// The values `fetch` finds in `req`; none when the request lacks it.
fn values(fetch: &Fetch, req: &dyn Request) -> Vec<Value> {
    let s = |b: &[u8]| Value::Str(b.to_vec());
    match fetch {
        Fetch::Hdr { name, occ } => pick(split_commas(header_lines(req, name.as_deref())), *occ)
            .into_iter()
            .map(s)
            .collect(),
        Fetch::FullHdr { name, occ } => pick(header_lines(req, name.as_deref()), *occ)
            .into_iter()
            .map(s)
            .collect(),
        Fetch::HdrCnt(name) => vec![Value::Int(
            split_commas(header_lines(req, name.as_deref())).len() as i64,
        )],
        Fetch::HdrVal(name) => pick(split_commas(header_lines(req, Some(name))), Some(-1))
            .into_iter()
            .filter_map(|v| std::str::from_utf8(v).ok()?.trim().parse().ok())
            .map(Value::Int)
            .collect(),
        Fetch::Path => vec![s(path(req.uri()))],
        Fetch::Url => vec![s(req.uri())],
        Fetch::Query => query(req.uri()).map(s).into_iter().collect(),
        Fetch::UrlParam(name) => query(req.uri())
            .into_iter()
            .flat_map(|q| q.split(|&b| b == b'&'))
            .filter_map(|kv| {
                let (k, v) = split_once(kv, b'=').unwrap_or((kv, b""));
                (k == name.as_bytes()).then(|| s(v))
            })
            .take(1)
            .collect(),
        Fetch::Base => {
            let host = header_lines(req, Some("host"))
                .into_iter()
                .next()
                .unwrap_or(b"");
            let mut b = host.to_vec();
            b.extend_from_slice(path(req.uri()));
            vec![Value::Str(b)]
        }
        Fetch::Method => vec![s(req.method())],
        Fetch::Version => vec![s(req
            .version()
            .strip_prefix(b"HTTP/")
            .unwrap_or(req.version()))],
        Fetch::Src => req.src().map(|a| Value::Ip(a.ip())).into_iter().collect(),
        Fetch::Dst => req.dst().map(|a| Value::Ip(a.ip())).into_iter().collect(),
        Fetch::SrcPort => req
            .src()
            .map(|a| Value::Int(a.port().into()))
            .into_iter()
            .collect(),
        Fetch::DstPort => req
            .dst()
            .map(|a| Value::Int(a.port().into()))
            .into_iter()
            .collect(),
        Fetch::Always(true) => vec![Value::Int(1)],
        Fetch::Always(false) => vec![],
        Fetch::RdpCookie(_) | Fetch::RdpCookieCnt(_) | Fetch::ReqLen => sample(fetch, req).0,
    }
}

/// Values of the headers named `name` (all headers when None), in order.
fn header_lines<'a>(req: &'a dyn Request, name: Option<&str>) -> Vec<&'a [u8]> {
    req.headers()
        .into_iter()
        .filter(|(n, _)| name.is_none_or(|want| n.eq_ignore_ascii_case(want.as_bytes())))
        .map(|(_, v)| trim(v))
        .collect()
}

/// HAProxy's `hdr()` sees each comma-separated element as a value.
fn split_commas(lines: Vec<&[u8]>) -> Vec<&[u8]> {
    lines
        .into_iter()
        .flat_map(|l| l.split(|&b| b == b','))
        .map(trim)
        .collect()
}

/// `occ`: 1 is the first value, -1 the last; none means all.
fn pick(values: Vec<&[u8]>, occ: Option<i64>) -> Vec<&[u8]> {
    match occ {
        None | Some(0) => values,
        Some(n) if n > 0 => values.get(n as usize - 1).copied().into_iter().collect(),
        Some(n) => {
            let back = n.unsigned_abs() as usize;
            values
                .len()
                .checked_sub(back)
                .and_then(|i| values.get(i).copied())
                .into_iter()
                .collect()
        }
    }
}

fn trim(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    &v[start..end]
}

fn split_once(v: &[u8], sep: u8) -> Option<(&[u8], &[u8])> {
    let i = v.iter().position(|&b| b == sep)?;
    Some((&v[..i], &v[i + 1..]))
}

/// The path of a request target: an absolute URI loses its scheme and
/// authority; the query goes.
pub fn path(uri: &[u8]) -> &[u8] {
    let without_query = split_once(uri, b'?').map_or(uri, |(p, _)| p);
    match find(without_query, b"://") {
        Some(i) => {
            let after = &without_query[i + 3..];
            after
                .iter()
                .position(|&b| b == b'/')
                .map_or(b"" as &[u8], |j| &after[j..])
        }
        None => without_query,
    }
}

fn query(uri: &[u8]) -> Option<&[u8]> {
    split_once(uri, b'?').map(|(_, q)| q)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
