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

pub use fetch::{path, Request};
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

impl Matcher {
    fn matches(&self, req: &dyn Request) -> bool {
        fetch::values(&self.fetch, req)
            .iter()
            .any(|v| pattern::matches(self.method, &self.patterns, self.ignore_case, v))
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
        self.by_name
            .get(name)
            .is_some_and(|lines| lines.iter().any(|m| m.matches(req)))
    }

    /// Decides an `if`/`unless` condition.
    pub fn eval(&self, cond: &config::Condition, req: &dyn Request) -> bool {
        let holds = cond
            .any_of
            .iter()
            .any(|all| all.iter().all(|t| self.test(&t.acl, req) != t.negate));
        holds != cond.unless
    }
}

#[cfg(test)]
mod tests;
