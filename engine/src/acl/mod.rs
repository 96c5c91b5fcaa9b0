//! ACLs at run time: named tests on a request, combined into conditions.
//!
//! `compile` turns a proxy's `acl` lines (the config model) into matchers;
//! `Acls::eval` decides an `if`/`unless` condition for one request. As in
//! HAProxy, several `acl` lines with the same name are ORed, a condition
//! is an OR (`or`, `||`) of ANDs (juxtaposition) of possibly negated
//! (`!`) names, an ACL whose fetch finds nothing does not match, and the
//! predefined ACLs (`TRUE`, `LOCALHOST`, `METH_GET`, ...) need no line.

mod fetch;
mod pattern;

pub use fetch::{path, Request, Stream};
pub use pattern::{in_net, network};

use std::collections::BTreeMap;

use crate::config;
use fetch::Fetch;
use pattern::{Method, Pattern};

/// One compiled `acl` line.
#[derive(Debug)]
struct Matcher {
    fetch: Fetch,
    method: Method,
    ignore_case: bool,
    patterns: Vec<Pattern>,
}

/// HAProxy's three-valued ACL results, combined bitwise: AND is `&`, OR
/// is `|`, and a miss (not decidable yet: more data may come) stays a
/// miss when negated.
const FAIL: u8 = 0;
const MISS: u8 = 1;
const PASS: u8 = 3;

fn negate(r: u8) -> u8 {
    match r {
        PASS => FAIL,
        FAIL => PASS,
        miss => miss,
    }
}

impl Matcher {
    /// PASS, FAIL, or MISS when nothing matched yet but more data may
    /// come (only while `partial`).
    fn test(&self, req: &dyn Request, partial: bool) -> u8 {
        let (values, may_change) = fetch::sample(&self.fetch, req);
        if values
            .iter()
            .any(|v| pattern::matches(self.method, &self.patterns, self.ignore_case, v))
        {
            PASS
        } else if may_change && partial {
            MISS
        } else {
            FAIL
        }
    }
}

/// An ACL the runtime cannot evaluate yet (its fetch is parsed by the
/// configuration but not built), named by its line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ACL '{name}' uses '{fetch}', which is not implemented yet")]
pub struct Unsupported {
    pub at: config::Location,
    pub name: String,
    pub fetch: String,
}

/// A proxy's ACLs by name (BTreeMap: nothing iterates them into output,
/// but lookups stay deterministic).
#[derive(Debug, Default)]
pub struct Acls {
    by_name: BTreeMap<String, Vec<Matcher>>,
}

/// HAProxy 2.6's predefined ACLs that the runtime evaluates.
const PREDEFINED: &[(&str, &str, &[&str])] = &[
    ("TRUE", "always_true", &[]),
    ("FALSE", "always_false", &[]),
    ("LOCALHOST", "src", &["127.0.0.1/8", "::1"]),
    ("HTTP_1.0", "req_ver", &["1.0"]),
    ("HTTP_1.1", "req_ver", &["1.1"]),
    ("HTTP_URL_ABS", "url_reg", &["^[^/:]*://"]),
    ("HTTP_URL_SLASH", "url_beg", &["/"]),
    ("HTTP_URL_STAR", "url", &["*"]),
    ("HTTP_CONTENT", "hdr_val", &["gt", "0"]),
    ("METH_CONNECT", "method", &["CONNECT"]),
    ("METH_DELETE", "method", &["DELETE"]),
    ("METH_GET", "method", &["GET", "HEAD"]),
    ("METH_HEAD", "method", &["HEAD"]),
    ("METH_OPTIONS", "method", &["OPTIONS"]),
    ("METH_POST", "method", &["POST"]),
    ("METH_PUT", "method", &["PUT"]),
    ("METH_TRACE", "method", &["TRACE"]),
    ("RDP_COOKIE", "req.rdp_cookie_cnt", &["gt", "0"]),
    ("REQ_CONTENT", "req.len", &["gt", "0"]),
];

fn compile_one(
    at: &config::Location,
    name: &str,
    fetch: &str,
    args: &[String],
    match_method: Option<&str>,
    ignore_case: bool,
    values: &[String],
) -> Result<Matcher, Unsupported> {
    let unsupported = || Unsupported {
        at: at.clone(),
        name: name.to_string(),
        fetch: fetch.to_string(),
    };
    let (fetch, default) = fetch::keyword(fetch, args).ok_or_else(unsupported)?;
    let method = match match_method {
        Some(m) => Method::from_name(m).ok_or_else(unsupported)?,
        None => default,
    };
    let patterns = pattern::compile(method, values, ignore_case).map_err(|_| unsupported())?;
    Ok(Matcher {
        fetch,
        method,
        ignore_case,
        patterns,
    })
}

/// Compiles a proxy's `acl` lines, with the predefined ACLs.
pub fn compile(acls: &[config::Acl]) -> Result<Acls, Unsupported> {
    let mut out = Acls::default();
    let builtin = config::Location {
        file: "<predefined>".into(),
        line: 0,
    };
    for (name, fetch, values) in PREDEFINED {
        let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        let fetch_args = if *fetch == "hdr_val" {
            vec!["content-length".to_string()]
        } else {
            vec![]
        };
        let m = compile_one(&builtin, name, fetch, &fetch_args, None, false, &values)?;
        out.by_name.entry(name.to_string()).or_default().push(m);
    }
    for acl in acls {
        let m = compile_one(
            &acl.at,
            &acl.name,
            &acl.fetch,
            &acl.fetch_args,
            acl.match_method.as_deref(),
            acl.ignore_case,
            &acl.values,
        )?;
        // A user ACL with a predefined name replaces it (HAProxy forbids
        // redefining them; the configuration reports that).
        out.by_name.entry(acl.name.clone()).or_default().push(m);
    }
    Ok(out)
}

impl Acls {
    /// Whether the named ACL matches: any of its lines does.
    pub fn test(&self, name: &str, req: &dyn Request) -> bool {
        self.test3(name, req, false) == PASS
    }

    fn test3(&self, name: &str, req: &dyn Request, partial: bool) -> u8 {
        self.by_name.get(name).map_or(FAIL, |lines| {
            lines.iter().fold(FAIL, |r, m| r | m.test(req, partial))
        })
    }

    /// Decides an `if`/`unless` condition.
    pub fn eval(&self, cond: &config::Condition, req: &dyn Request) -> bool {
        self.decide(cond, req, false) == Some(true)
    }

    /// Decides a condition on data that may still grow (`partial`): None
    /// when it cannot be decided until more comes (HAProxy's ACL_TEST_MISS).
    pub fn decide(
        &self,
        cond: &config::Condition,
        req: &dyn Request,
        partial: bool,
    ) -> Option<bool> {
        let mut result = FAIL;
        for all in &cond.any_of {
            let mut suite = PASS;
            for t in all {
                let r = self.test3(&t.acl, req, partial);
                suite &= if t.negate { negate(r) } else { r };
                if suite == FAIL {
                    break;
                }
            }
            result |= suite;
            if result == PASS {
                break;
            }
        }
        let result = if cond.unless { negate(result) } else { result };
        match result {
            PASS => Some(true),
            FAIL => Some(false),
            _ => None,
        }
    }

    /// The first ACL of `cond` that reads an HTTP request, which the TCP
    /// path cannot give.
    pub fn http_acl<'a>(&self, cond: &'a config::Condition) -> Option<&'a str> {
        cond.any_of
            .iter()
            .flatten()
            .map(|t| t.acl.as_str())
            .find(|name| {
                self.by_name
                    .get(*name)
                    .is_some_and(|lines| lines.iter().any(|m| m.fetch.is_http()))
            })
    }
}

/// A sample expression the runtime can evaluate outside an ACL (`balance
/// hash <expr>`): one fetch, without converters for now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample(Fetch);

impl Sample {
    /// `name[(args)]`; None for a fetch the runtime lacks or an
    /// expression with converters.
    pub fn compile(expr: &str) -> Option<Sample> {
        // A comma outside the parentheses starts the converters.
        let mut depth = 0i32;
        for c in expr.chars() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                ',' if depth == 0 => return None,
                _ => {}
            }
        }
        let (name, args) = match expr.split_once('(') {
            Some((n, rest)) => (
                n,
                rest.strip_suffix(')')?
                    .split(',')
                    .map(str::to_string)
                    .collect(),
            ),
            None => (expr, vec![]),
        };
        let (fetch, _) = fetch::keyword(name, &args)?;
        // As a sample, a header fetch gives its last value.
        let fetch = match fetch {
            Fetch::Hdr { name, occ: None } => Fetch::Hdr {
                name,
                occ: Some(-1),
            },
            Fetch::FullHdr { name, occ: None } => Fetch::FullHdr {
                name,
                occ: Some(-1),
            },
            Fetch::Always(_) => return None,
            f => f,
        };
        Some(Sample(fetch))
    }

    /// The sample as the bytes HAProxy hashes (its binary form): a
    /// string's bytes, an address's network-order bytes, an integer's 8
    /// big-endian bytes. None when the request has none.
    pub fn bytes(&self, req: &dyn Request) -> Option<Vec<u8>> {
        let (values, _) = fetch::sample(&self.0, req);
        Some(match values.into_iter().next()? {
            pattern::Value::Str(b) => b,
            pattern::Value::Int(i) => i.to_be_bytes().to_vec(),
            pattern::Value::Ip(std::net::IpAddr::V4(a)) => a.octets().to_vec(),
            pattern::Value::Ip(std::net::IpAddr::V6(a)) => a.octets().to_vec(),
        })
    }
}

#[cfg(test)]
mod tests;
