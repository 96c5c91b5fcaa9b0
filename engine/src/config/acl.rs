//! ACLs and the rules that take a condition: `acl`, `use_backend`,
//! `redirect` (`http-request` is in http_request.rs).
//!
//! An ACL is `<fetch>[(<args>)][,<converter>...] [flags] [values]`. The
//! fetch must be known (table below, with its pattern type); values are
//! checked by type (addresses for `src`, a regex syntax check for `*_reg`).
//! A condition (`if|unless [!]acl [or] ...`) may only name ACLs declared
//! *before* it in the same proxy, or HAProxy's predefined ones (`TRUE`,
//! `METH_GET`...). Error texts are the 2.6 binary's.

use super::listen::ProxyState;
use super::parse::{atol, Ctx};
use super::{Acl, CondTerm, Condition, Redirect, RedirectKind, UseBackend};
use std::net::IpAddr;

pub use super::fetches::{Pattern, FETCHES};

/// HAProxy's predefined ACLs.
pub const PREDEFINED: &[&str] = &[
    "FALSE",
    "HTTP",
    "HTTP_1.0",
    "HTTP_1.1",
    "HTTP_2.0",
    "HTTP_CONTENT",
    "HTTP_URL_ABS",
    "HTTP_URL_SLASH",
    "HTTP_URL_STAR",
    "LOCALHOST",
    "METH_CONNECT",
    "METH_DELETE",
    "METH_GET",
    "METH_HEAD",
    "METH_OPTIONS",
    "METH_POST",
    "METH_PUT",
    "METH_TRACE",
    "RDP_COOKIE",
    "REQ_CONTENT",
    "TRUE",
    "WAIT_END",
];

const MATCH_METHODS: &[&str] = &[
    "found", "bool", "int", "ip", "bin", "len", "str", "sub", "reg", "beg", "end", "dir", "dom",
];

/// An ACL expression: everything after the ACL name. Errors are the text
/// after "error detected while parsing ACL 'x' : " (without the final dot).
pub fn parse_expr(
    words: &[String],
    at: &super::Location,
    name: &str,
) -> Result<(Acl, Option<String>), String> {
    let Some(expr) = words.first() else {
        return Err("missing fetch method in ACL expression ''".into());
    };
    let (fetch, args) = split_fetch(expr)?;
    let Some(kw) = super::fetches::find(&fetch) else {
        return Err(format!(
            "unknown fetch method '{fetch}' in ACL expression '{expr}'"
        ));
    };
    // `meth` checks its matching method before its argument.
    if kw.pattern == Pattern::NeedsMethod && kw.name == "meth" && !words.iter().any(|w| w == "-m") {
        return Err(format!(
            "matching method must be specified first (using '-m') when using a sample fetch of this type ('{fetch}')"
        ));
    }
    if let Some(e) = kw.missing_args(args.len()) {
        // ACL keywords end their message there; fetches name the expression.
        return Err(if kw.acl_keyword {
            e
        } else {
            format!("{e} in ACL expression '{expr}'")
        });
    }
    let ptype = kw.pattern;
    let mut acl = Acl {
        at: at.clone(),
        name: name.into(),
        fetch: fetch.clone(),
        fetch_args: args,
        ignore_case: false,
        match_method: None,
        values: vec![],
    };
    let mut i = 1;
    let mut from_files: Vec<String> = vec![];
    while let Some(w) = words.get(i).filter(|w| w.starts_with('-')) {
        match w.as_str() {
            "-i" => acl.ignore_case = true,
            "-n" | "-u" | "-M" => {}
            "--" => {
                i += 1;
                break;
            }
            "-m" | "-f" => {
                let v = words.get(i + 1).ok_or_else(|| format!("'{w}' expects an argument"))?;
                if w == "-m" {
                    if !MATCH_METHODS.contains(&v.as_str()) {
                        return Err(format!("unknown matching method '{v}' when parsing ACL expression"));
                    }
                    acl.match_method = Some(v.clone());
                } else {
                    // One pattern per line; blank lines and `#` comments skipped.
                    let text = std::fs::read_to_string(v)
                        .map_err(|_| format!("failed to open pattern file <{v}>"))?;
                    from_files.extend(
                        text.lines()
                            .map(str::trim)
                            .filter(|l| !l.is_empty() && !l.starts_with('#'))
                            .map(str::to_string),
                    );
                }
                i += 1;
            }
            _ => {
                return Err(format!(
                    "'{w}' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'"
                ))
            }
        }
        i += 1;
    }
    acl.values = from_files;
    acl.values.extend_from_slice(&words[i.min(words.len())..]);
    let ptype = match acl.match_method.as_deref() {
        Some("reg") => Pattern::Reg,
        Some("ip") => Pattern::Ip,
        Some("int" | "len") => Pattern::Int,
        Some("found" | "bool") => Pattern::Bool,
        Some(_) => Pattern::Str,
        None if ptype == Pattern::NeedsMethod => {
            return Err(format!(
                "matching method must be specified first (using '-m') when using a sample fetch of this type ('{fetch}')"
            ))
        }
        None => ptype,
    };
    for v in &acl.values {
        check_value(ptype, v)?;
    }
    let ends_flags = words.iter().any(|w| w == "--");
    let warning = (acl.values.is_empty() && ptype != Pattern::Bool && !ends_flags).then(|| {
        format!(
            "parsing acl keyword '{fetch}' :\n  no pattern to match against were provided, so this ACL will never match.\n  If this is what you intended, please add '--' to get rid of this warning.\n  If you intended to match only for existence, please use '-m found'.\n  If you wanted to force an int to match as a bool, please use '-m bool'.\n"
        )
    });
    Ok((acl, warning))
}

/// `hdr(host)` → ("hdr", ["host"]); converters after a comma are allowed.
fn split_fetch(expr: &str) -> Result<(String, Vec<String>), String> {
    let Some(open) = expr.find('(') else {
        let name = expr.split(',').next().unwrap_or("");
        return Ok((name.to_string(), vec![]));
    };
    let name = &expr[..open];
    let known = super::fetches::find(name).is_some();
    if !known {
        return Err(format!(
            "unknown fetch method '{name}' in ACL expression '{expr}'"
        ));
    }
    let Some(close) = expr[open..].find(')').map(|c| c + open) else {
        return Err(format!("ACL keyword '{name}' : expected ')'"));
    };
    let rest = &expr[close + 1..];
    if !rest.is_empty() && !rest.starts_with(',') {
        return Err(format!(
            "ACL keyword '{name}' : missing comma after fetch keyword."
        ));
    }
    let args = expr[open + 1..close]
        .split(',')
        .map(str::to_string)
        .filter(|a| !a.is_empty())
        .collect();
    Ok((name.to_string(), args))
}

fn check_value(ptype: Pattern, v: &str) -> Result<(), String> {
    match ptype {
        Pattern::Ip if !valid_net(v) => Err(format!("'{v}' is not a valid IPv4 or IPv6 address")),
        Pattern::Reg => check_regex(v),
        Pattern::Int if !valid_int(v) => Err(format!("'{v}' is not a number")),
        Pattern::DottedVersion if !valid_dotted(v) => Err(format!("'{v}' is not a dotted number")),
        _ => Ok(()),
    }
}

/// `M.m`, `M.m:M.m`... (`req.ssl_ver` patterns).
fn valid_dotted(v: &str) -> bool {
    let ver = |s: &str| {
        s.is_empty()
            || s.split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    };
    matches!(v, "eq" | "ge" | "gt" | "le" | "lt")
        || match v.split_once(':') {
            Some((x, y)) => ver(x) && ver(y),
            None => !v.is_empty() && ver(v),
        }
}

/// `N`, `N:M`, `:M`, `N:` or an operator (`eq`, `ge`, `gt`, `le`, `lt`)
/// applying to the next value.
fn valid_int(v: &str) -> bool {
    let num = |s: &str| {
        let s = s.strip_prefix('-').unwrap_or(s);
        s.is_empty() || s.bytes().all(|b| b.is_ascii_digit())
    };
    matches!(v, "eq" | "ge" | "gt" | "le" | "lt")
        || match v.split_once(':') {
            Some((a, b)) => num(a) && num(b),
            None => !v.is_empty() && num(v),
        }
}

/// `addr` or `addr/bits` or `addr/dotted-mask`.
fn valid_net(v: &str) -> bool {
    let (addr, mask) = match v.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (v, None),
    };
    let Ok(ip) = addr.parse::<IpAddr>() else {
        return false;
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    match mask {
        None => true,
        Some(m) if m.bytes().all(|b| b.is_ascii_digit()) && !m.is_empty() => atol(m) <= max,
        Some(m) => ip.is_ipv4() && m.parse::<std::net::Ipv4Addr>().is_ok(),
    }
}

/// Why `-c` refuses a regex: in HAProxy's words where the PCRE-like check
/// finds the fault, else in the regex crate's (the runtime compiles with
/// it, so what passes here runs). None for a good one.
pub(super) fn regex_error(re: &str) -> Option<String> {
    if let Err(e) = check_regex(re) {
        return Some(e);
    }
    let text = regex::bytes::Regex::new(re).err()?.to_string();
    let why = text
        .lines()
        .last()
        .unwrap_or_default()
        .trim_start_matches("error: ");
    Some(format!("regex '{re}' is invalid (error={why})"))
}

/// A light PCRE syntax check: balanced groups and classes, no dangling
/// escape. Reports as PCRE2 does.
fn check_regex(re: &str) -> Result<(), String> {
    let bad = |what: &str, off: usize| {
        Err(format!(
            "regex '{re}' is invalid (error={what}, erroffset={off})"
        ))
    };
    let mut depth = 0usize;
    let mut chars = re.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if chars.next().is_none() => return bad("\\ at end of pattern", re.len()),
            '\\' => {}
            '[' => {
                let mut closed = false;
                let mut first = true;
                while let Some((_, d)) = chars.next() {
                    if d == '\\' {
                        chars.next();
                    } else if d == ']' && !first {
                        closed = true;
                        break;
                    }
                    first = false;
                }
                if !closed {
                    return bad("missing terminating ] for character class", re.len());
                }
            }
            '(' => depth += 1,
            ')' if depth == 0 => return bad("unmatched closing parenthesis", i),
            ')' => depth -= 1,
            _ => {}
        }
    }
    if depth > 0 {
        return bad("missing closing parenthesis", re.len());
    }
    Ok(())
}

/// `acl <name> <expr...>`.
pub fn parse_acl_line(p: &mut ProxyState, ctx: &mut Ctx) {
    let here = ctx.here();
    let name = ctx.arg(1).to_string();
    if name.is_empty() {
        ctx.alert(format!("{here} : 'acl' expects an ACL name."));
        return;
    }
    if let Some(c) = super::section::invalid_char(&name) {
        ctx.alert(format!(
            "{here} : character '{c}' is not permitted in acl name '{name}'."
        ));
        return;
    }
    let words = ctx.args[2..].to_vec();
    match parse_expr(&words, ctx.at, &name) {
        Ok((acl, warning)) => {
            if let Some(w) = warning {
                ctx.warn(w);
            }
            p.px.acls.push(acl);
        }
        Err(e) => ctx.alert(format!(
            "{here} : error detected while parsing ACL '{name}' : {e}."
        )),
    }
}

/// Parses `if|unless <terms>` (`words[0]` is `if` or `unless`).
///
/// An anonymous ACL (`{ src 10.0.0.0/8 }`) is added to the proxy's ACLs
/// under its own text as name (`{ src 10.0.0.0/8 }`), so that conditions
/// only ever refer to ACLs by name.
pub fn parse_condition(
    words: &[String],
    p: &mut ProxyState,
    at: &super::Location,
) -> Result<Condition, String> {
    let unless = words[0] == "unless";
    let mut any_of = vec![vec![]];
    let mut negate = false;
    let mut i = 1;
    while i < words.len() {
        let w = words[i].as_str();
        i += 1;
        // `!{` negates an anonymous ACL, like `! {`.
        let w = match w.strip_prefix('!') {
            Some("{") => {
                negate = !negate;
                "{"
            }
            _ => w,
        };
        match w {
            "or" | "||" => any_of.push(vec![]),
            "!" => negate = !negate,
            "{" => {
                let end = words[i..]
                    .iter()
                    .position(|x| x == "}")
                    .ok_or("missing closing '}' in condition")?;
                let body = &words[i..i + end];
                let name = format!("{{ {} }}", body.join(" "));
                let (acl, _) = parse_expr(body, at, &name)?;
                if !p.px.acls.iter().any(|a| a.name == name) {
                    p.px.acls.push(acl);
                }
                i += end + 1;
                any_of
                    .last_mut()
                    .expect("one group")
                    .push(CondTerm { negate, acl: name });
                negate = false;
            }
            _ => {
                let (neg, name) = match w.strip_prefix('!') {
                    Some(n) => (!negate, n),
                    None => (negate, w),
                };
                if !PREDEFINED.contains(&name) && !p.px.acls.iter().any(|a| a.name == name) {
                    return Err(format!("no such ACL : '{name}'"));
                }
                any_of.last_mut().expect("one group").push(CondTerm {
                    negate: neg,
                    acl: name.into(),
                });
                negate = false;
            }
        }
    }
    Ok(Condition { unless, any_of })
}

/// `use_backend <backend> [if|unless <cond>]`.
pub fn parse_use_backend(p: &mut ProxyState, ctx: &mut Ctx) {
    let here = ctx.here();
    if ctx.arg(1).is_empty() {
        ctx.alert(format!("{here} : '{}' expects a backend name.", ctx.arg(0)));
        return;
    }
    let backend = ctx.arg(1).to_string();
    let rest: Vec<String> = ctx.args[2..].to_vec();
    let parsed = match rest.first().map(String::as_str) {
        None => None,
        Some("if" | "unless") => match parse_condition(&rest, p, ctx.at) {
            Ok(c) => Some(c),
            Err(e) => {
                ctx.alert(format!(
                    "{here} : error detected while parsing switching rule : {e}."
                ));
                return;
            }
        },
        Some(other) => {
            ctx.alert(format!(
                "{here} : unexpected keyword '{other}' after switching rule, only 'if' and 'unless' are allowed."
            ));
            return;
        }
    };
    p.px.use_backends.push(UseBackend {
        at: ctx.at.clone(),
        backend,
        condition: rest,
        parsed,
    });
}

/// `redirect location|prefix|scheme <to> [code N] [option...] [if|unless <cond>]`.
pub fn parse_redirect(p: &mut ProxyState, ctx: &mut Ctx) {
    let wrap = format!(
        "{} : error detected in {} '{}' while parsing redirect rule : ",
        ctx.here(),
        p.type_str(),
        p.px.name
    );
    if let Some(r) = redirect_rule(p, ctx, 1, &wrap, false) {
        p.px.redirects.push(r);
        super::http_request::warn_misplaced(p, ctx, "redirect", false);
    }
}

/// A redirect rule from the words at `start` (`redirect ...` or
/// `http-request redirect ...`), HAProxy's http_parse_redirect_rule;
/// errors start with `wrap` and, for `http-request`, abort the parsing.
pub fn redirect_rule(
    p: &mut ProxyState,
    ctx: &mut Ctx,
    start: usize,
    wrap: &str,
    abort: bool,
) -> Option<Redirect> {
    let fail = |ctx: &mut Ctx, msg: String| {
        if abort {
            ctx.abort(msg);
        } else {
            ctx.alert(msg);
        }
    };
    let mut kind = None;
    let mut to = String::new();
    let mut code = 302;
    let mut options = vec![];
    let mut condition = None;
    let mut i = start;
    while i < ctx.args.len() {
        let w = ctx.arg(i).to_string();
        let v = ctx.arg(i + 1).to_string();
        match w.as_str() {
            "location" | "prefix" | "scheme" => {
                kind = Some(match w.as_str() {
                    "location" => RedirectKind::Location,
                    "prefix" => RedirectKind::Prefix,
                    _ => RedirectKind::Scheme,
                });
                to = v;
                i += 2;
            }
            "code" => {
                let c = atol(&v);
                if ![301, 302, 303, 307, 308].contains(&c) {
                    fail(ctx, format!("{wrap}'code': unsupported HTTP code '{v}' (must be one of 301, 302, 303, 307 or 308)."));
                    return None;
                }
                code = c as u16;
                i += 2;
            }
            "set-cookie" | "clear-cookie" => {
                options.push(format!("{w} {v}"));
                i += 2;
            }
            "drop-query" | "append-slash" | "ignore-empty" => {
                options.push(w);
                i += 1;
            }
            "if" | "unless" => {
                match parse_condition(&ctx.args[i..], p, ctx.at) {
                    Ok(c) => condition = Some(c),
                    Err(e) => {
                        fail(ctx, format!("{wrap}error in condition: {e}."));
                        return None;
                    }
                }
                break;
            }
            _ => {
                fail(ctx, format!("{wrap}expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', 'drop-query', 'ignore-empty' or 'append-slash' (was '{w}')."));
                return None;
            }
        }
    }
    let Some(kind) = kind else {
        fail(
            ctx,
            format!("{wrap}redirection type expected ('prefix', 'location', or 'scheme')."),
        );
        return None;
    };
    if to.is_empty() {
        fail(
            ctx,
            format!(
                "{wrap}missing argument for '{}'.",
                match kind {
                    RedirectKind::Location => "location",
                    RedirectKind::Prefix => "prefix",
                    RedirectKind::Scheme => "scheme",
                }
            ),
        );
        return None;
    }
    Some(Redirect {
        at: ctx.at.clone(),
        kind,
        to,
        code,
        options,
        condition,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(s: &str) -> Result<(Acl, Option<String>), String> {
        let words: Vec<String> = s.split(' ').map(str::to_string).collect();
        parse_expr(
            &words,
            &super::super::Location {
                file: "f".into(),
                line: 1,
            },
            "a",
        )
    }

    #[test]
    fn seed_expressions() {
        let (a, w) = expr("hdr(host) -i www.test.com").unwrap();
        assert_eq!(
            (a.fetch.as_str(), a.fetch_args.as_slice(), a.ignore_case),
            ("hdr", &["host".to_string()][..], true)
        );
        assert!(w.is_none());
        assert_eq!(
            expr("path_end .gif .png").unwrap().0.values,
            [".gif", ".png"]
        );
        assert!(expr("src 10.96.20.0/24").is_ok());
        assert!(expr(r"path_end \.(gif|png|jpg|css?.*|js?.*)$").is_ok());
    }

    #[test]
    fn errors_are_haproxys() {
        assert_eq!(
            expr("hdr(host)-i x").unwrap_err(),
            "ACL keyword 'hdr' : missing comma after fetch keyword."
        );
        assert_eq!(
            expr("hdr(host x").unwrap_err(),
            "ACL keyword 'hdr' : expected ')'"
        );
        assert_eq!(
            expr("foo(bar) x").unwrap_err(),
            "unknown fetch method 'foo' in ACL expression 'foo(bar)'"
        );
        assert_eq!(
            expr("src 1.2.3.4/99").unwrap_err(),
            "'1.2.3.4/99' is not a valid IPv4 or IPv6 address"
        );
        assert_eq!(
            expr("path_reg (").unwrap_err(),
            "regex '(' is invalid (error=missing closing parenthesis, erroffset=1)"
        );
        assert!(expr("path_beg").unwrap().1.is_some(), "no-pattern warning");
    }
}
