//! Patterns and match methods: how an ACL compares a fetched sample with
//! its values (HAProxy's `-m str|beg|end|sub|reg|dom|dir|len|int|ip|found`).
//!
//! Semantics, from HAProxy 2.6's configuration manual (7.1):
//! - `str` exact, `beg` prefix, `end` suffix, `sub` substring;
//! - `dir`: the pattern appears as whole words delimited by `/` or `?`
//!   (`path_dir img` matches `/img/x.png`), and `dom` the same with `.`
//!   and `:` delimiting too (`hdr_dom(host) test.com` matches
//!   `www.test.com`) — HAProxy's match_word;
//! - `len`: the sample's length compared as an integer;
//! - `int`: `N`, `N:M`, `:M`, `N:`, or an operator `eq|ge|gt|le|lt` before N;
//! - `ip`: an address with an optional `/mask` (bits or dotted);
//! - `found`: the sample exists, whatever its value.
//!
//! `-i` makes string comparisons ASCII case-insensitive.

use std::net::IpAddr;

use regex::bytes::{Regex, RegexBuilder};

/// One fetched value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Str(Vec<u8>),
    Int(i64),
    Ip(IpAddr),
}

/// How a sample is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Found,
    Str,
    Beg,
    End,
    Sub,
    Reg,
    Dir,
    Dom,
    Len,
    Int,
    Ip,
}

impl Method {
    pub fn from_name(name: &str) -> Option<Method> {
        Some(match name {
            "found" => Method::Found,
            "str" => Method::Str,
            "beg" => Method::Beg,
            "end" => Method::End,
            "sub" => Method::Sub,
            "reg" => Method::Reg,
            "dir" => Method::Dir,
            "dom" => Method::Dom,
            "len" => Method::Len,
            "int" | "bool" => Method::Int,
            "ip" => Method::Ip,
            _ => return None,
        })
    }
}

/// One compiled value of an ACL.
#[derive(Debug, Clone)]
pub enum Pattern {
    Bytes(Vec<u8>),
    Regex(Regex),
    /// An inclusive integer range.
    Range(i64, i64),
    Net(IpAddr, u8),
}

/// Why a value could not be compiled (the config already rejects these;
/// this is the runtime's own guard).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid pattern '{0}'")]
pub struct BadPattern(pub String);

/// Compiles an ACL's values for `method`. Integer operators consume the
/// value that follows them.
pub fn compile(
    method: Method,
    values: &[String],
    ignore_case: bool,
) -> Result<Vec<Pattern>, BadPattern> {
    let mut out = vec![];
    let mut op: Option<&str> = None;
    for v in values {
        let p = match method {
            Method::Found => continue,
            Method::Int | Method::Len => {
                if matches!(v.as_str(), "eq" | "ge" | "gt" | "le" | "lt") {
                    op = Some(v);
                    continue;
                }
                int_pattern(op.take(), v).ok_or_else(|| BadPattern(v.clone()))?
            }
            Method::Reg => Pattern::Regex(
                RegexBuilder::new(v)
                    .case_insensitive(ignore_case)
                    .build()
                    .map_err(|_| BadPattern(v.clone()))?,
            ),
            Method::Ip => ip_pattern(v).ok_or_else(|| BadPattern(v.clone()))?,
            _ => Pattern::Bytes(v.as_bytes().to_vec()),
        };
        out.push(p);
    }
    Ok(out)
}

fn int_pattern(op: Option<&str>, v: &str) -> Option<Pattern> {
    let n = |s: &str| s.parse::<i64>().ok();
    Some(match op {
        Some("eq") => Pattern::Range(n(v)?, n(v)?),
        Some("ge") => Pattern::Range(n(v)?, i64::MAX),
        Some("gt") => Pattern::Range(n(v)?.checked_add(1)?, i64::MAX),
        Some("le") => Pattern::Range(i64::MIN, n(v)?),
        Some("lt") => Pattern::Range(i64::MIN, n(v)?.checked_sub(1)?),
        _ => match v.split_once(':') {
            Some(("", hi)) => Pattern::Range(i64::MIN, n(hi)?),
            Some((lo, "")) => Pattern::Range(n(lo)?, i64::MAX),
            Some((lo, hi)) => Pattern::Range(n(lo)?, n(hi)?),
            None => Pattern::Range(n(v)?, n(v)?),
        },
    })
}

fn ip_pattern(v: &str) -> Option<Pattern> {
    network(v).map(|(ip, bits)| Pattern::Net(ip, bits))
}

/// `addr[/mask]`, the mask in bits or dotted: a network as (address, bits).
pub fn network(v: &str) -> Option<(IpAddr, u8)> {
    let (addr, mask) = match v.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (v, None),
    };
    let ip: IpAddr = addr.parse().ok()?;
    let full = if ip.is_ipv4() { 32 } else { 128 };
    let bits = match mask {
        None => full,
        Some(m) => match m.parse::<u8>() {
            Ok(b) if b <= full => b,
            Ok(_) => return None,
            // A dotted mask, e.g. 255.255.255.0.
            Err(_) => match m.parse::<std::net::Ipv4Addr>() {
                Ok(d) if ip.is_ipv4() => u32::from(d).count_ones() as u8,
                _ => return None,
            },
        },
    };
    Some((ip, bits))
}

/// Whether `value` matches any of `patterns` under `method`.
pub fn matches(method: Method, patterns: &[Pattern], ignore_case: bool, value: &Value) -> bool {
    if method == Method::Found {
        return true;
    }
    patterns
        .iter()
        .any(|p| matches_one(method, p, ignore_case, value))
}

fn matches_one(method: Method, pattern: &Pattern, ic: bool, value: &Value) -> bool {
    match (pattern, value) {
        (Pattern::Range(lo, hi), Value::Int(n)) => lo <= n && n <= hi,
        (Pattern::Range(lo, hi), Value::Str(s)) if method == Method::Len => {
            let n = s.len() as i64;
            *lo <= n && n <= *hi
        }
        (Pattern::Range(lo, hi), Value::Str(s)) => std::str::from_utf8(s)
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .is_some_and(|n| *lo <= n && n <= *hi),
        (Pattern::Regex(re), Value::Str(s)) => re.is_match(s),
        (Pattern::Net(net, bits), Value::Ip(ip)) => in_net(*ip, *net, *bits),
        (Pattern::Net(net, bits), Value::Str(s)) => std::str::from_utf8(s)
            .ok()
            .and_then(|s| s.parse().ok())
            .is_some_and(|ip| in_net(ip, *net, *bits)),
        (Pattern::Bytes(p), Value::Str(s)) => bytes_match(method, p, s, ic),
        _ => false,
    }
}

fn eq(a: &[u8], b: &[u8], ic: bool) -> bool {
    if ic {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

fn bytes_match(method: Method, p: &[u8], s: &[u8], ic: bool) -> bool {
    match method {
        Method::Str => eq(p, s, ic),
        Method::Beg => s.len() >= p.len() && eq(&s[..p.len()], p, ic),
        Method::End => s.len() >= p.len() && eq(&s[s.len() - p.len()..], p, ic),
        Method::Sub => p.is_empty() || s.windows(p.len()).any(|w| eq(w, p, ic)),
        Method::Dir => match_word(s, p, b"/?", ic),
        Method::Dom => match_word(s, p, b"/?.:", ic),
        _ => false,
    }
}

/// HAProxy's match_word: the pattern, stripped of delimiters at its ends,
/// must appear in the sample starting at a word start (the beginning or
/// just after a delimiter) and ending at a word end.
fn match_word(s: &[u8], p: &[u8], delimiters: &[u8], ic: bool) -> bool {
    let is_delim = |b: &u8| delimiters.contains(b);
    let start = p.iter().position(|b| !is_delim(b)).unwrap_or(p.len());
    let end = p
        .iter()
        .rposition(|b| !is_delim(b))
        .map_or(start, |i| i + 1);
    let p = &p[start..end];
    if p.len() > s.len() {
        return false;
    }
    let last = s.len() - p.len();
    let mut at_word_start = true;
    for i in 0..=last {
        if is_delim(&s[i]) {
            at_word_start = true;
            continue;
        }
        if at_word_start
            && eq(&s[i..i + p.len()], p, ic)
            && (i == last || is_delim(&s[i + p.len()]))
        {
            return true;
        }
        at_word_start = false;
    }
    false
}

pub fn in_net(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    let ip = match (ip, net) {
        (IpAddr::V6(v6), IpAddr::V4(_)) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => return false,
        },
        _ => ip,
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(method: Method, values: &[&str], ic: bool, sample: &str) -> bool {
        let values: Vec<String> = values.iter().map(|s| s.to_string()).collect();
        let p = compile(method, &values, ic).unwrap();
        matches(method, &p, ic, &Value::Str(sample.as_bytes().to_vec()))
    }

    #[test]
    fn string_methods() {
        assert!(m(Method::Str, &["www.test.com"], true, "WWW.Test.com"));
        assert!(!m(Method::Str, &["www.test.com"], false, "WWW.Test.com"));
        assert!(m(Method::Beg, &["www."], true, "www.test.com"));
        assert!(m(Method::Beg, &["/nginx/"], false, "/nginx/index.html"));
        assert!(m(
            Method::End,
            &[".gif", ".png", ".jpg"],
            false,
            "/img/a.png"
        ));
        assert!(m(
            Method::Sub,
            &["iphone"],
            true,
            "Mozilla/5.0 (iPhone; CPU)"
        ));
        assert!(!m(
            Method::Sub,
            &["android"],
            true,
            "Mozilla/5.0 (iPhone; CPU)"
        ));
    }

    #[test]
    fn dir_and_dom() {
        assert!(m(Method::Dir, &["img"], false, "/static/img/a.png"));
        assert!(!m(Method::Dir, &["im"], false, "/static/img/a.png"));
        assert!(m(Method::Dom, &["test"], false, "www.test.com"));
        assert!(m(Method::Dom, &["test.com"], false, "www.test.com"));
        assert!(!m(Method::Dom, &["est.com"], false, "www.test.com"));
    }

    #[test]
    fn the_seeds_extension_regex() {
        let re = r"\.(gif|png|jpg|css?.*|js?.*)$";
        assert!(m(Method::Reg, &[re], false, "/a/b.css"));
        assert!(m(Method::Reg, &[re], false, "/x.js"));
        assert!(!m(Method::Reg, &[re], false, "/index.html"));
    }

    #[test]
    fn integers_ranges_and_operators() {
        let int = |values: &[&str], n: i64| {
            let values: Vec<String> = values.iter().map(|s| s.to_string()).collect();
            matches(
                Method::Int,
                &compile(Method::Int, &values, false).unwrap(),
                false,
                &Value::Int(n),
            )
        };
        assert!(int(&["80"], 80));
        assert!(int(&["8000:8080"], 8042));
        assert!(!int(&[":1023"], 8080));
        assert!(int(&["gt", "10"], 11));
        assert!(!int(&["gt", "10"], 10));
        assert!(
            int(&["le", "5", "100"], 100),
            "the operator applies to its value only"
        );
        assert!(m(Method::Len, &["gt", "3"], false, "abcd"));
    }

    #[test]
    fn networks() {
        let ip = |values: &[&str], a: &str| {
            let values: Vec<String> = values.iter().map(|s| s.to_string()).collect();
            let p = compile(Method::Ip, &values, false).unwrap();
            matches(Method::Ip, &p, false, &Value::Ip(a.parse().unwrap()))
        };
        assert!(ip(&["10.96.20.0/24"], "10.96.20.89"));
        assert!(!ip(&["10.96.20.0/24"], "10.96.21.1"));
        assert!(ip(&["127.0.0.0/8"], "127.1.2.3"));
        assert!(ip(&["10.0.0.0/255.0.0.0"], "10.1.2.3"));
        assert!(
            ip(&["127.0.0.1"], "::ffff:127.0.0.1"),
            "v4-mapped clients match v4 networks"
        );
        assert!(compile(Method::Ip, &["10.0.0.0/33".into()], false).is_err());
    }
}
