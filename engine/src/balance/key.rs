//! What a hash-based `balance` hashes, as HAProxy 2.6's get_server_sh,
//! get_server_uh, get_server_ph and get_server_hh (src/backend.c) read
//! it, and the hash functions of `hash-type ... sdbm|djb2|wt6|crc32`
//! (src/hash.c; sdbm by default).
//!
//! A key that is missing (no such parameter, no such header) is None: the
//! algorithm then goes round robin, as HAProxy does.

use std::net::IpAddr;

use crate::config::{Balance, HashType};
use crate::http::head::{is_lws, is_token};

/// HAProxy's hash_sdbm.
pub fn sdbm(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0u32, |hash, &c| {
        u32::from(c)
            .wrapping_add(hash << 6)
            .wrapping_add(hash << 16)
            .wrapping_sub(hash)
    })
}

/// HAProxy's hash_djb2.
pub fn djb2(bytes: &[u8]) -> u32 {
    bytes.iter().fold(5381u32, |hash, &c| {
        (hash << 5).wrapping_add(hash).wrapping_add(u32::from(c))
    })
}

/// HAProxy's hash_wt6.
pub fn wt6(bytes: &[u8]) -> u32 {
    let (mut h0, mut h1) = (0xa53c_965a_u32, 0x5ca6_953a_u32);
    let (mut step0, mut step1) = (6u32, 18u32);
    for &c in bytes {
        let t = u32::from(c);
        h0 = !(h0 ^ t);
        h1 = !(h1.wrapping_add(t));
        let t = h1.rotate_left(step0);
        h1 = h0.rotate_left(step1);
        h0 = t;
        let t = ((h0 >> 16) ^ h1) & 0xffff;
        step0 = t & 0x1f;
        step1 = t >> 11;
    }
    h0 ^ h1
}

/// HAProxy's hash_crc32 (the IEEE polynomial, bit by bit).
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut hash = !0u32;
    for &c in bytes {
        hash ^= u32::from(c);
        for _ in 0..8 {
            hash = (hash >> 1) ^ if hash & 1 == 1 { 0xedb8_8320 } else { 0 };
        }
    }
    !hash
}

/// `hash-type`'s function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HashFn {
    #[default]
    Sdbm,
    Djb2,
    Wt6,
    Crc32,
}

impl HashFn {
    /// From `hash-type`'s word; `none` and no word hash with sdbm, as
    /// HAProxy's gen_hash does.
    pub fn from_name(name: Option<&str>) -> HashFn {
        match name {
            Some("djb2") => HashFn::Djb2,
            Some("wt6") => HashFn::Wt6,
            Some("crc32") => HashFn::Crc32,
            _ => HashFn::Sdbm,
        }
    }

    pub fn hash(self, bytes: &[u8]) -> u32 {
        match self {
            HashFn::Sdbm => sdbm(bytes),
            HashFn::Djb2 => djb2(bytes),
            HashFn::Wt6 => wt6(bytes),
            HashFn::Crc32 => crc32(bytes),
        }
    }
}

/// `balance source`'s key: the client address folded into 32 bits (the
/// XOR of its big-endian 32-bit words).
pub fn source_key(addr: IpAddr) -> u32 {
    match addr {
        IpAddr::V4(a) => u32::from(a),
        IpAddr::V6(a) => a
            .octets()
            .chunks(4)
            .map(|w| u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
            .fold(0, |h, w| h ^ w),
    }
}

/// A backend's hash input (from its `balance` line) and function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hashing {
    pub input: HashInput,
    pub function: HashFn,
}

impl Hashing {
    pub fn from_config(balance: &Balance, hash_type: &HashType) -> Hashing {
        Hashing {
            input: HashInput::from_balance(balance),
            function: HashFn::from_name(hash_type.function.as_deref()),
        }
    }

    /// The key of a stream for the backend's algorithm, whatever it reads:
    /// the client's address, an HTTP request's URI (as sent), a header, a
    /// POST `body` (`url_param`), the bytes a TCP client sent first
    /// (`rdp-cookie`), or a sample expression. The TCP and HTTP paths both
    /// ask here.
    pub fn key_of(&self, req: &dyn crate::acl::Request, body: Option<&[u8]>) -> Option<u32> {
        // A TCP stream has no request line: no URI to hash.
        let uri = (!req.method().is_empty()).then(|| req.uri());
        // Headers are listed only for an algorithm that reads one: every
        // request asks here, whatever the balance.
        let header = |name: &str| {
            req.headers()
                .into_iter()
                .filter(|(n, _)| *n == name.as_bytes())
                .flat_map(|(_, v)| v.split(|&c| c == b','))
                .map(|v| v.trim_ascii().to_vec())
                .next()
        };
        self.key(req.src().map(|a| a.ip()), uri, &header)
            .or_else(|| self.payload_key(req.payload().unwrap_or_default()))
            .or_else(|| self.body_key(body?))
            .or_else(|| self.sample_key(req))
    }

    /// The key for a request: its URI (as sent) and headers, or the
    /// client's address.
    fn key(
        &self,
        client: Option<IpAddr>,
        uri: Option<&[u8]>,
        header: &dyn Fn(&str) -> Option<Vec<u8>>,
    ) -> Option<u32> {
        self.input.key(self.function, client, uri, header)
    }

    /// The key in the bytes a TCP client sent first (`rdp-cookie`): only
    /// a whole, non-empty cookie counts (get_server_rch).
    fn payload_key(&self, payload: &[u8]) -> Option<u32> {
        match &self.input {
            HashInput::RdpCookie(name) => match crate::rdp::cookie(payload, name) {
                crate::rdp::Cookie::Found(v) if !v.is_empty() => Some(self.function.hash(v)),
                _ => None,
            },
            _ => None,
        }
    }

    /// The key of `balance hash <expr>`: the sample's bytes, hashed.
    fn sample_key(&self, req: &dyn crate::acl::Request) -> Option<u32> {
        match &self.input {
            HashInput::Sample(Some(sample)) => sample.bytes(req).map(|b| self.function.hash(&b)),
            _ => None,
        }
    }

    /// Whether a POST's body may hold the key (`url_param`).
    pub fn reads_body(&self) -> bool {
        matches!(self.input, HashInput::Param(_))
    }

    /// The key in a POST's body, for `url_param` when the query string
    /// has none.
    fn body_key(&self, body: &[u8]) -> Option<u32> {
        match &self.input {
            HashInput::Param(name) => {
                body_param_value(body, name.as_bytes()).map(|v| self.function.hash(v))
            }
            _ => None,
        }
    }
}

/// What a hash-based algorithm reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashInput {
    /// Not a hash-based algorithm.
    None,
    Source,
    /// `uri [len N] [depth N] [whole] [path-only]`.
    Uri {
        len: Option<usize>,
        /// The number of the `/` that ends the hashed part (depth + 1).
        depth_end: Option<usize>,
        whole: bool,
        path_only: bool,
    },
    /// `url_param <name>`.
    Param(String),
    /// `hdr(<name>) [use_domain_only]`.
    Header {
        name: String,
        domain_only: bool,
    },
    /// `rdp-cookie[(<name>)]`: the cookie an RDP client sends first
    /// (`mstshash` by default).
    RdpCookie(String),
    /// `hash <expr>`: a sample's bytes (None: an expression the runtime
    /// cannot evaluate, which it refuses to start with).
    Sample(Option<crate::acl::Sample>),
}

impl HashInput {
    pub fn from_balance(balance: &Balance) -> HashInput {
        match balance {
            Balance::Source => HashInput::Source,
            Balance::Uri(args) => {
                let (mut len, mut depth_end, mut whole, mut path_only) = (None, None, false, false);
                let mut words = args.iter();
                while let Some(w) = words.next() {
                    match w.as_str() {
                        "len" => len = words.next().and_then(|n| n.parse().ok()).filter(|&n| n > 0),
                        "depth" => {
                            depth_end = words
                                .next()
                                .and_then(|n| n.parse::<usize>().ok())
                                .filter(|&n| n > 0)
                                .map(|n| n + 1)
                        }
                        "whole" => whole = true,
                        "path-only" => path_only = true,
                        _ => {}
                    }
                }
                HashInput::Uri {
                    len,
                    depth_end,
                    whole,
                    path_only,
                }
            }
            Balance::UrlParam(args) => HashInput::Param(args.first().cloned().unwrap_or_default()),
            Balance::Hdr {
                name,
                use_domain_only,
            } => HashInput::Header {
                name: name.to_ascii_lowercase(),
                domain_only: *use_domain_only,
            },
            Balance::Hash(expr) => HashInput::Sample(crate::acl::Sample::compile(expr)),
            Balance::RdpCookie(name) => {
                HashInput::RdpCookie(name.clone().unwrap_or_else(|| "mstshash".into()))
            }
            _ => HashInput::None,
        }
    }

    fn key(
        &self,
        function: HashFn,
        client: Option<IpAddr>,
        uri: Option<&[u8]>,
        header: &dyn Fn(&str) -> Option<Vec<u8>>,
    ) -> Option<u32> {
        match self {
            // Read from the payload (see `payload_key`).
            HashInput::None | HashInput::RdpCookie(_) | HashInput::Sample(_) => None,
            HashInput::Source => client.map(source_key),
            HashInput::Uri {
                len,
                depth_end,
                whole,
                path_only,
            } => {
                let uri = uri?;
                let uri = if *path_only { path_of(uri) } else { uri };
                let uri = &uri[..len.map_or(uri.len(), |l| l.min(uri.len()))];
                let mut slashes = 0;
                let mut end = 0;
                for &c in uri {
                    if c == b'/' {
                        slashes += 1;
                        if Some(slashes) == *depth_end {
                            break;
                        }
                    } else if c == b'?' && !whole {
                        break;
                    }
                    end += 1;
                }
                Some(function.hash(&uri[..end]))
            }
            HashInput::Param(name) => param_value(uri?, name.as_bytes()).map(|v| function.hash(v)),
            HashInput::Header { name, domain_only } => {
                let value = header(name).filter(|v| !v.is_empty())?;
                Some(if *domain_only {
                    function.hash(main_domain(&value))
                } else {
                    function.hash(&value)
                })
            }
        }
    }
}

/// http_parse_path: an absolute URI loses its scheme and authority.
fn path_of(uri: &[u8]) -> &[u8] {
    if uri.first() == Some(&b'/') || uri == b"*" {
        return uri;
    }
    match uri.windows(3).position(|w| w == b"://") {
        Some(i) => {
            let after = &uri[i + 3..];
            after
                .iter()
                .position(|&c| c == b'/')
                .map_or(&b""[..], |j| &after[j..])
        }
        None => uri,
    }
}

/// get_server_ph: the value of the first `name=` in the query string, up
/// to the next `&`.
fn param_value<'a>(uri: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let q = uri.iter().position(|&c| c == b'?')?;
    let mut params = &uri[q + 1..];
    while params.len() > name.len() {
        if params[name.len()] == b'=' && params.starts_with(name) {
            let value = &params[name.len() + 1..];
            let end = value.iter().position(|&c| c == b'&').unwrap_or(value.len());
            return Some(&value[..end]);
        }
        let next = params.iter().position(|&c| c == b'&')?;
        params = &params[next + 1..];
    }
    None
}

/// get_server_ph_post: the value of the first `name=` of a form body, up
/// to the next `&`. HAProxy tests only the value's first character (its
/// loop never moves the pointer it tests): a blank there gives an empty
/// value, another non-token character no value at all (not a form).
fn body_param_value<'a>(body: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let mut params = body;
    while params.len() > name.len() {
        if params[name.len()] == b'=' && params.starts_with(name) {
            let value = &params[name.len() + 1..];
            let end = value.iter().position(|&c| c == b'&').unwrap_or(value.len());
            return match value.first() {
                Some(&c) if end > 0 && !is_token(c) => is_lws(c).then_some(&value[..0]),
                _ => Some(&value[..end]),
            };
        }
        let next = params.iter().position(|&c| c == b'&')?;
        params = &params[next + 1..];
    }
    None
}

/// `use_domain_only`: from `www.example.com` only `example` is hashed (the
/// label before the last dot); without a dot, the whole value.
fn main_domain(value: &[u8]) -> &[u8] {
    let Some(last_dot) = value.iter().rposition(|&c| c == b'.') else {
        return value;
    };
    let start = value[..last_dot]
        .iter()
        .rposition(|&c| c == b'.')
        .map_or(0, |d| d + 1);
    &value[start..last_dot]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri_key(opts: &[&str], uri: &str) -> Option<u32> {
        let input =
            HashInput::from_balance(&Balance::Uri(opts.iter().map(|s| s.to_string()).collect()));
        input.key(HashFn::Sdbm, None, Some(uri.as_bytes()), &|_| None)
    }

    #[test]
    fn a_form_body_holds_the_parameter_as_haproxy_reads_it() {
        let v = |body: &str| {
            body_param_value(body.as_bytes(), b"user")
                .map(|v| String::from_utf8_lossy(v).into_owned())
        };
        assert_eq!(v("user=42"), Some("42".into()));
        assert_eq!(v("a=1&user=7&b=2"), Some("7".into()));
        assert_eq!(v("username=1&user=x"), Some("x".into()));
        assert_eq!(v("user="), Some("".into()));
        assert_eq!(v("user= 42"), Some("".into()), "a blank first: empty");
        assert_eq!(v("user=(42"), None, "not a form");
        assert_eq!(
            v("user=4(2"),
            Some("4(2".into()),
            "only the first character is tested"
        );
        assert_eq!(v("x=1&y"), None);
        assert_eq!(v("user"), None);
    }

    #[test]
    fn sdbm_is_haprox_s() {
        // hash_sdbm("a") = 97; ("ab") = 98 + 97*65599.
        assert_eq!(sdbm(b"a"), 97);
        assert_eq!(sdbm(b"ab"), 98u32.wrapping_add(97u32.wrapping_mul(65599)));
    }

    /// Check values of the usual definitions (djb2 of "a" = 5381*33+97,
    /// crc32 of "123456789" = 0xCBF43926).
    #[test]
    fn the_other_functions() {
        assert_eq!(djb2(b"a"), 5381 * 33 + 97);
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_ne!(wt6(b"a"), wt6(b"b"));
    }

    #[test]
    fn uri_options() {
        assert_eq!(uri_key(&[], "/a/b?x=1"), Some(sdbm(b"/a/b")));
        assert_eq!(uri_key(&["whole"], "/a/b?x=1"), Some(sdbm(b"/a/b?x=1")));
        assert_eq!(uri_key(&["depth", "1"], "/a/b/c"), Some(sdbm(b"/a")));
        assert_eq!(uri_key(&["len", "3"], "/abcdef"), Some(sdbm(b"/ab")));
        assert_eq!(
            uri_key(&["path-only"], "http://x.com/p?q"),
            Some(sdbm(b"/p"))
        );
    }

    #[test]
    fn params_and_domains() {
        assert_eq!(
            param_value(b"/p?a=1&userid=42&b=2", b"userid"),
            Some(&b"42"[..])
        );
        assert_eq!(param_value(b"/p?xuserid=42", b"userid"), None);
        assert_eq!(param_value(b"/p", b"userid"), None);
        assert_eq!(main_domain(b"www.example.com"), b"example");
        assert_eq!(main_domain(b"localhost"), b"localhost");
    }
}
