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
use super::listen_http::ERROR_CODES;
use super::parse::{atol, Ctx};
use super::{HttpRequestAction, HttpRequestRule};

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

/// Parses one `http-request` line.
pub fn parse_http_request(p: &mut ProxyState, ctx: &mut Ctx) {
    let here = ctx.here();
    let name = ctx.arg(1).to_string();
    let mut i = 2;
    let action = match name.as_str() {
        "deny" => {
            let mut status = 403;
            if ctx.arg(2) == "deny_status" {
                let code = atol(ctx.arg(3));
                if !ERROR_CODES.iter().any(|&c| i64::from(c) == code) {
                    ctx.abort(format!(
                        "{here} : error detected in {} '{}' while parsing 'http-request deny' rule : Unexpected status code '{}'.",
                        p.type_str(),
                        p.px.name,
                        ctx.arg(3)
                    ));
                    return;
                }
                status = code as u16;
                i = 4;
            }
            HttpRequestAction::Deny { status }
        }
        "allow" => HttpRequestAction::Allow,
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
    let condition = match ctx.arg(i) {
        "" => None,
        "if" | "unless" => match parse_condition(&ctx.args[i..], p, ctx.at) {
            Ok(c) => Some(c),
            Err(e) => {
                ctx.abort(format!(
                    "{here} : error detected while parsing an 'http-request {name}' condition : {e}."
                ));
                return;
            }
        },
        other => {
            ctx.abort(format!(
                "parsing [{}]: 'http-request {name}' expects either 'if' or 'unless' followed by a condition but found '{other}'.",
                ctx.at
            ));
            return;
        }
    };
    if matches!(action, HttpRequestAction::Other { .. }) {
        ctx.unimplemented(format!(
            "http-request {}",
            name.split('(').next().unwrap_or(&name)
        ));
    }
    p.px.http_request.push(HttpRequestRule {
        at: ctx.at.clone(),
        action,
        condition,
    });
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
