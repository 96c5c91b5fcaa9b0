//! `http-request <action> [args] [if|unless <cond>]`.
//!
//! HAProxy 2.6 knows the actions listed in [`ACTIONS`]; this parser
//! models `deny [deny_status <code>]` and `allow`, and keeps the other
//! known actions as written (their arguments unchecked, their condition
//! checked), recorded as unimplemented. As in HAProxy, any
//! error in an `http-request` line aborts the parsing of the configuration
//! (ERR_ABORT): nothing after it is read.

use super::acl::parse_condition;
use super::listen::ProxyState;
use super::listen_http::{read_sized, FileError, BUFSIZE, ERROR_CODES};
use super::parse::{atol, Ctx};
use super::{
    Condition, HeaderAction, HttpRequestAction, HttpRequestRule, HttpResponseAction,
    HttpResponseRule, ReturnSpec, Service,
};

/// The action list exactly as HAProxy 2.6.12 prints it when an action is
/// unknown (its registration order).
pub const ACTIONS: &str = "'wait-for-handshake', 'ot-group', 'set-log-level', 'set-nice', 'use-service', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'do-resolve(*)', 'cache-use', 'add-acl(*)', 'add-header', 'allow', 'auth', 'capture', 'del-acl(*)', 'del-header', 'del-map(*)', 'deny', 'disable-l7-retry', 'early-hint', 'normalize-uri', 'redirect', 'reject', 'replace-header', 'replace-path', 'replace-pathq', 'replace-uri', 'replace-value', 'return', 'set-header', 'set-map(*)', 'set-method', 'set-path', 'set-pathq', 'set-query', 'set-uri', 'strict-mode', 'tarpit', 'track-sc(*)', 'set-timeout', 'wait-for-body', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-dst', 'set-dst-port', 'set-mark', 'set-src', 'set-src-port', 'set-tos', 'silent-drop', 'set-priority-class', 'set-priority-offset', ";

/// Whether `name` is one of HAProxy's actions. `x(*)` entries match by
/// prefix (`track-sc(*)` covers `track-sc0`, `set-var(*)` covers
/// `set-var(txn.x)`), as `action_lookup` does.
pub fn known_action(name: &str) -> bool {
    action_in(ACTIONS, name)
}

/// `action_lookup` over one of HAProxy's printed action lists.
pub fn action_in(list: &str, name: &str) -> bool {
    list.split(", ")
        .map(|a| a.trim_matches(|c| c == '\'' || c == ',' || c == ' '))
        .filter(|a| !a.is_empty())
        .any(|a| {
            a == name
                || a.strip_suffix("(*)")
                    .is_some_and(|prefix| name.starts_with(prefix))
        })
}

/// Header edits, in either direction.
fn header_action_name(name: &str) -> bool {
    matches!(
        name,
        "set-header" | "add-header" | "del-header" | "replace-header" | "replace-value"
    )
}

/// Request-line edits of `http-request`.
fn plain_line_action(name: &str) -> bool {
    matches!(name, "set-path" | "set-query" | "set-uri" | "set-method")
}

/// A value HAProxy reads as a log-format string: plain text is built; a
/// `%` expression is not yet.
fn is_plain(value: &str) -> bool {
    !value.replace("%%", "").contains('%')
}

/// Parses a header or request-line edit with HAProxy's argument checks;
/// returns the action and the index of the word after its arguments.
/// A value with a log-format expression becomes an `Other` action.
fn parse_edit(
    p: &mut ProxyState,
    ctx: &mut Ctx,
    rule: &str,
    name: &str,
) -> Option<(HttpRequestAction, usize)> {
    let here = ctx.here();
    // HAProxy notes where the last log-format value was parsed (its
    // "option httplog not usable" warning cites it): these take one.
    if p.httplog_at.is_some() && !matches!(name, "del-header" | "replace-header" | "replace-value")
    {
        p.httplog_at = Some(ctx.at.clone());
    }
    let (ty, px_name) = (p.type_str(), p.px.name.clone());
    let fail = |ctx: &mut Ctx, err: &str| {
        ctx.abort(format!(
            "{here} : error detected in {ty} '{px_name}' while parsing '{rule} {name}' rule : {err}."
        ));
    };
    let arg = |k: usize| ctx.arg(k).to_string();
    let other = |end: usize, ctx: &Ctx| HttpRequestAction::Other {
        action: name.to_string(),
        args: ctx.args[2..end].to_vec(),
    };
    match name {
        "set-header" | "add-header" => {
            if arg(2).is_empty() || arg(3).is_empty() {
                fail(ctx, "expects exactly 2 arguments");
                return None;
            }
            let (header, value) = (arg(2), arg(3));
            if !is_plain(&value) {
                return Some((other(4, ctx), 4));
            }
            let value = value.replace("%%", "%");
            let edit = if name == "set-header" {
                HeaderAction::Set {
                    name: header,
                    value,
                }
            } else {
                HeaderAction::Add {
                    name: header,
                    value,
                }
            };
            Some((HttpRequestAction::Header(edit), 4))
        }
        "del-header" => {
            if arg(2).is_empty() {
                fail(ctx, "expects at least 1 argument");
                return None;
            }
            if arg(3) == "-m" {
                // Matching methods for the name are not built yet.
                let end = if arg(4).is_empty() { 4 } else { 5 };
                return Some((other(end, ctx), end));
            }
            Some((
                HttpRequestAction::Header(HeaderAction::Del { name: arg(2) }),
                3,
            ))
        }
        "replace-header" | "replace-value" => {
            if arg(2).is_empty() || arg(3).is_empty() || arg(4).is_empty() {
                fail(ctx, "expects exactly 3 arguments");
                return None;
            }
            if let Err(e) = regex::Regex::new(&arg(3)) {
                fail(ctx, &format!("failed to parse the regex : {e}"));
                return None;
            }
            if !is_plain(&arg(4)) {
                return Some((other(5, ctx), 5));
            }
            Some((
                HttpRequestAction::Header(HeaderAction::Replace {
                    name: arg(2),
                    regex: arg(3),
                    replace: arg(4).replace("%%", "%"),
                    each_value: name == "replace-value",
                }),
                5,
            ))
        }
        _ => {
            let next = arg(3);
            if arg(2).is_empty() || (!next.is_empty() && next != "if" && next != "unless") {
                fail(ctx, "expects exactly 1 argument <format>");
                return None;
            }
            if !is_plain(&arg(2)) {
                return Some((other(3, ctx), 3));
            }
            let value = arg(2).replace("%%", "%");
            let action = match name {
                "set-path" => HttpRequestAction::SetPath(value),
                "set-query" => HttpRequestAction::SetQuery(value),
                "set-uri" => HttpRequestAction::SetUri(value),
                _ => HttpRequestAction::SetMethod(value),
            };
            Some((action, 3))
        }
    }
}

/// `return`'s arguments, with HAProxy's checks (http_parse_http_reply).
/// Bodies from error files or log-format strings are not built yet: the
/// action then stays `Other`.
fn parse_return(p: &ProxyState, ctx: &mut Ctx) -> Option<(HttpRequestAction, usize)> {
    let here = ctx.here();
    let (ty, px_name) = (p.type_str(), p.px.name.clone());
    let fail = |ctx: &mut Ctx, err: String| {
        ctx.abort(format!(
            "{here} : error detected in {ty} '{px_name}' while parsing 'http-request return' rule : {err}."
        ));
    };
    let mut spec = ReturnSpec {
        status: 200,
        content_type: None,
        body: vec![],
        headers: vec![],
    };
    let mut payload: Option<String> = None;
    let mut other = false;
    let mut i = 2;
    loop {
        let w = ctx.arg(i).to_string();
        let v = ctx.arg(i + 1).to_string();
        match w.as_str() {
            "status" => {
                if v.is_empty() {
                    fail(ctx, format!("'{w}' expects <status_code> as argument"));
                    return None;
                }
                let code = atol(&v);
                if !(200..=599).contains(&code) {
                    fail(ctx, format!("Unexpected status code '{code}'"));
                    return None;
                }
                spec.status = code as u16;
                i += 2;
            }
            "content-type" => {
                if v.is_empty() {
                    fail(ctx, format!("'{w}' expects <ctype> as argument"));
                    return None;
                }
                spec.content_type = Some(v);
                i += 2;
            }
            "string" | "file" | "errorfile" | "errorfiles" | "lf-string" | "lf-file"
            | "default-errorfiles" => {
                if let Some(prev) = &payload {
                    fail(
                        ctx,
                        format!("unexpected '{w}' argument, '{prev}' already defined"),
                    );
                    return None;
                }
                payload = Some(w.clone());
                if w == "default-errorfiles" {
                    other = true;
                    i += 1;
                    continue;
                }
                if v.is_empty() {
                    let what = match w.as_str() {
                        "string" => "<str>",
                        "file" | "lf-file" => "<file>",
                        "errorfiles" => "<name>",
                        _ => "<fmt>",
                    };
                    fail(ctx, format!("'{w}' expects {what} as argument"));
                    return None;
                }
                match w.as_str() {
                    "string" => spec.body = v.into_bytes(),
                    "file" => match read_sized(std::path::Path::new(&v)) {
                        Ok((_, size)) if size > BUFSIZE as u64 => {
                            fail(
                                ctx,
                                format!("file '{v}' exceeds the buffer size ({size} > {BUFSIZE})"),
                            );
                            return None;
                        }
                        Ok((b, _)) => spec.body = b,
                        Err(FileError::Open) => {
                            fail(ctx, format!("error opening file '{v}'"));
                            return None;
                        }
                        Err(FileError::Read) => {
                            fail(ctx, format!("error reading file '{v}'"));
                            return None;
                        }
                    },
                    _ => other = true,
                }
                i += 2;
            }
            "hdr" => {
                let value = ctx.arg(i + 2).to_string();
                if v.is_empty() || value.is_empty() {
                    fail(
                        ctx,
                        format!("'{w}' expects <name> and <value> as arguments"),
                    );
                    return None;
                }
                if !is_plain(&value) {
                    other = true;
                }
                spec.headers.push((v, value.replace("%%", "%")));
                i += 3;
            }
            _ => break,
        }
    }
    if !other && !spec.body.is_empty() {
        if matches!(spec.status, 204 | 304) {
            fail(
                ctx,
                format!("No body expected for {} responses", spec.status),
            );
            return None;
        }
        if spec.content_type.is_none() {
            fail(
                ctx,
                "a content type must be defined when non-empty payload is configured".into(),
            );
            return None;
        }
    }
    if let (Some(t), true) = (&spec.content_type, spec.body.is_empty() && !other) {
        let why = if payload.is_none() {
            "because neither errorfile nor payload defined"
        } else {
            "when used with an empty payload"
        };
        let msg = format!(
            "parsing [{}] : content-type '{t}' ignored by the http reply {why}.",
            ctx.at
        );
        ctx.warn(msg);
        spec.content_type = None;
    }
    let action = if other {
        HttpRequestAction::Other {
            action: "return".into(),
            args: ctx.args[2..i].to_vec(),
        }
    } else {
        HttpRequestAction::Return(spec)
    };
    Some((action, i))
}

/// Parses one `http-response` line: header edits, `allow` and `deny`
/// are modelled; other actions are kept as written, not built yet.
pub fn parse_http_response(p: &mut ProxyState, ctx: &mut Ctx) {
    super::shape::http_response(p, ctx);
    if ctx.failed {
        return;
    }
    let name = ctx.arg(1).to_string();
    let mut i = 2;
    let action = match name.as_str() {
        "allow" => HttpResponseAction::Allow,
        "deny" => match deny_status(p, ctx, "http-response", 502) {
            Some((status, next)) => {
                i = next;
                HttpResponseAction::Deny { status }
            }
            None => return,
        },
        other if header_action_name(other) => {
            let Some((action, next)) = parse_edit(p, ctx, "http-response", other) else {
                return;
            };
            i = next;
            match action {
                HttpRequestAction::Header(h) => HttpResponseAction::Header(h),
                HttpRequestAction::Other { action, args } => {
                    HttpResponseAction::Other { action, args }
                }
                _ => unreachable!("header edits only"),
            }
        }
        _ => {
            // Recognised (the shape check said so), not modelled.
            let end = ctx.args[2..]
                .iter()
                .position(|w| w == "if" || w == "unless")
                .map_or(ctx.args.len(), |k| k + 2);
            i = end;
            HttpResponseAction::Other {
                action: name.clone(),
                args: ctx.args[2..end].to_vec(),
            }
        }
    };
    let Some(condition) = rule_condition(p, ctx, i, "http-response", &name) else {
        return;
    };
    if matches!(action, HttpResponseAction::Other { .. }) {
        ctx.unimplemented(format!(
            "http-response {}",
            name.split('(').next().unwrap_or(&name)
        ));
    } else if condition.is_some() {
        // Response-side fetches (res.hdr, status) are not built yet, and
        // request-side ones do not match there in haproxy 2.6.12.
        ctx.unimplemented(format!("http-response {name} with a condition"));
    }
    p.px.http_response.push(HttpResponseRule {
        at: ctx.at.clone(),
        action,
        condition,
    });
}

/// Parses one `http-request` line.
pub fn parse_http_request(p: &mut ProxyState, ctx: &mut Ctx) {
    let here = ctx.here();
    let name = ctx.arg(1).to_string();
    let mut i = 2;
    if p.px
        .http_request
        .last()
        .is_some_and(|r| r.condition.is_none() && is_final(&r.action))
    {
        let msg = format!(
            "parsing [{}]: previous 'http-request' action is final and has no condition attached, further entries are NOOP.",
            ctx.at
        );
        ctx.warn(msg);
    }
    let action = match name.as_str() {
        "deny" => match deny_status(p, ctx, "http-request", 403) {
            Some((status, next)) => {
                i = next;
                HttpRequestAction::Deny { status }
            }
            None => return,
        },
        "allow" => HttpRequestAction::Allow,
        "redirect" => {
            let wrap = format!(
                "{here} : error detected in {} '{}' while parsing 'http-request redirect' rule : ",
                p.type_str(),
                p.px.name
            );
            let Some(mut rule) = super::acl::redirect_rule(p, ctx, 2, &wrap, true) else {
                return;
            };
            // Its location is a log-format string (see parse_edit).
            if p.httplog_at.is_some() {
                p.httplog_at = Some(ctx.at.clone());
            }
            let condition = rule.condition.take();
            warn_misplaced(p, ctx, "http-request", true);
            p.px.http_request.push(HttpRequestRule {
                at: ctx.at.clone(),
                action: HttpRequestAction::Redirect(rule),
                condition,
            });
            return;
        }
        "use-service" => {
            if ctx.arg(2) != "prometheus-exporter" {
                let msg = format!(
                    "{} : error detected in {} '{}' while parsing 'http-request use-service' rule : '{}' unknown service name..",
                    ctx.here(),
                    p.type_str(),
                    p.px.name,
                    ctx.arg(2)
                );
                ctx.abort(msg);
                return;
            }
            i = 3;
            HttpRequestAction::UseService(Service::PrometheusExporter)
        }
        "return" => match parse_return(p, ctx) {
            Some((action, next)) => {
                i = next;
                action
            }
            None => return,
        },
        other if header_action_name(other) || plain_line_action(other) => {
            let (action, next) = match parse_edit(p, ctx, "http-request", other) {
                Some(parsed) => parsed,
                None => return,
            };
            i = next;
            action
        }
        other if known_action(other) => {
            // Recognised, not modelled: its arguments run up to the
            // condition, which is still checked.
            let end = ctx.args[2..]
                .iter()
                .position(|w| w == "if" || w == "unless")
                .map_or(ctx.args.len(), |k| k + 2);
            i = end;
            // HAProxy records where the last log-format expression of the
            // proxy was parsed, and cites that line in its "option httplog
            // not usable" warning: these actions take one.
            let lf = [
                "add-header",
                "set-header",
                "early-hint",
                "set-path",
                "set-pathq",
                "set-query",
                "set-uri",
                "set-method",
                "redirect",
                "return",
            ];
            if p.httplog_at.is_some() && (lf.contains(&other) || other.starts_with("set-var-fmt")) {
                p.httplog_at = Some(ctx.at.clone());
            }
            HttpRequestAction::Other {
                action: other.to_string(),
                args: ctx.args[2..end].to_vec(),
            }
        }
        other => {
            let missing = if other.is_empty() {
                " (missing argument)"
            } else {
                ""
            };
            ctx.abort(format!(
                "parsing [{}]: 'http-request' expects {ACTIONS}but got '{other}'{missing}.",
                ctx.at
            ));
            return;
        }
    };
    let Some(condition) = rule_condition(p, ctx, i, "http-request", &name) else {
        return;
    };
    let built = !matches!(action, HttpRequestAction::Other { .. });
    if !built {
        ctx.unimplemented(format!(
            "http-request {}",
            name.split('(').next().unwrap_or(&name)
        ));
    }
    warn_misplaced(p, ctx, "http-request", true);
    p.px.http_request.push(HttpRequestRule {
        at: ctx.at.clone(),
        action,
        condition,
    });
}

/// The `if`/`unless` condition that ends a rule at word `i`: Some(None)
/// without one, None after an error (which aborts the parsing).
fn rule_condition(
    p: &mut ProxyState,
    ctx: &mut Ctx,
    i: usize,
    rule: &str,
    name: &str,
) -> Option<Option<Condition>> {
    match ctx.arg(i) {
        "" => Some(None),
        "if" | "unless" => match parse_condition(&ctx.args[i..], p, ctx.at) {
            Ok(c) => Some(Some(c)),
            Err(e) => {
                let msg = format!(
                    "{} : error detected while parsing an '{rule} {name}' condition : {e}.",
                    ctx.here()
                );
                ctx.abort(msg);
                None
            }
        },
        other => {
            let msg = format!(
                "parsing [{}]: '{rule} {name}' expects either 'if' or 'unless' followed by a condition but found '{other}'.",
                ctx.at
            );
            ctx.abort(msg);
            None
        }
    }
}

/// `deny [deny_status <code>]` of either rule kind: the status (by
/// default `default`) and the index of the next word; None after an error.
fn deny_status(p: &ProxyState, ctx: &mut Ctx, rule: &str, default: u16) -> Option<(u16, usize)> {
    if ctx.arg(2) != "deny_status" {
        return Some((default, 2));
    }
    let code = atol(ctx.arg(3));
    if !ERROR_CODES.iter().any(|&c| i64::from(c) == code) {
        let msg = format!(
            "{} : error detected in {} '{}' while parsing '{rule} deny' rule : Unexpected status code '{}'.",
            ctx.here(),
            p.type_str(),
            p.px.name,
            ctx.arg(3)
        );
        ctx.abort(msg);
        return None;
    }
    Some((code as u16, 4))
}

/// Actions after which HAProxy evaluates no further `http-request` rule
/// (ACT_FLAG_FINAL).
fn is_final(action: &HttpRequestAction) -> bool {
    match action {
        HttpRequestAction::Allow
        | HttpRequestAction::Deny { .. }
        | HttpRequestAction::Redirect(_)
        | HttpRequestAction::Return(_)
        | HttpRequestAction::UseService(_) => true,
        HttpRequestAction::Other { action, .. } => matches!(
            action.as_str(),
            "tarpit" | "auth" | "reject" | "silent-drop" | "use-service"
        ),
        _ => false,
    }
}

/// HAProxy's warning for a rule written after one of a kind that runs
/// later (`http-request` after `redirect` or `use_backend`, `redirect`
/// after `use_backend`): it still runs first. Only the first applies.
pub fn warn_misplaced(p: &ProxyState, ctx: &mut Ctx, what: &str, after_redirect: bool) {
    let later = if after_redirect && !p.px.redirects.is_empty() {
        "a 'redirect'"
    } else if !p.px.use_backends.is_empty() {
        "a 'use_backend'"
    } else {
        return;
    };
    let msg = format!(
        "parsing [{}] : a '{what}' rule placed after {later} rule will still be processed before.",
        ctx.at
    );
    ctx.warn(msg);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_haproxys_actions() {
        assert!(known_action("set-header"));
        assert!(known_action("set-var(txn.x)"));
        assert!(known_action("silent-drop"));
        assert!(!known_action("foo"));
        assert!(known_action("track-sc0"));
        assert!(!known_action("track"));
    }
}
