//! `tcp-request inspect-delay <time>` and `tcp-request content <action>
//! [if|unless <cond>]`, with HAProxy 2.6's messages.
//!
//! The runtime runs `accept` and `reject` content rules (with conditions
//! on the buffered payload, such as `RDP_COOKIE`); the other content
//! actions, and `tcp-request connection|session`, are parsed and recorded
//! as not implemented yet.

use super::acl::parse_condition;
use super::http_request::action_in;
use super::listen::ProxyState;
use super::listen::Support;
use super::parse::Ctx;
use super::units::{parse_time_ms, TimeError};
use super::TcpContentRule;

/// The content actions HAProxy 2.6.12 lists when one is unknown.
const CONTENT_ACTIONS: &str = "'accept', 'reject', 'capture', 'expect-proxy', 'expect-netscaler-cip', 'track-sc0' ... 'track-sc2', 'ot-group', 'set-log-level', 'set-nice', 'switch-mode', 'use-service', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'do-resolve(*)', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-src', 'set-src-port', 'set-dst', 'set-dst-port', 'set-mark', 'set-tos', 'silent-drop', 'set-priority-class', 'set-priority-offset'";

pub fn parse(p: &mut ProxyState, ctx: &mut Ctx) {
    match ctx.arg(1) {
        "inspect-delay" => inspect_delay(p, ctx),
        "content" => content(p, ctx),
        "connection" | "session" => {
            let what = format!("tcp-request {}", ctx.arg(1));
            p.note(ctx, what, Support::No);
        }
        // The missing or unknown first word, in HAProxy's words.
        _ => super::shape::check(p, ctx),
    }
}

fn inspect_delay(p: &mut ProxyState, ctx: &mut Ctx) {
    let base = format!(
        "{} : 'tcp-request inspect-delay' expects a positive delay in milliseconds, in {} '{}'",
        ctx.here(),
        p.type_str(),
        p.px.name
    );
    let value = ctx.arg(2).to_string();
    let detail = match parse_time_ms(&value) {
        Ok(t) => {
            p.px.inspect_delay = Some(t.duration()).filter(|d| !d.is_zero());
            return;
        }
        Err(TimeError::Empty) => String::new(),
        Err(TimeError::Char(c)) => format!(" (unexpected character '{c}')"),
        Err(TimeError::Over) => {
            format!(" (timer overflow in '{value}', maximum value is 2147483647 ms or ~24.8 days)")
        }
        Err(TimeError::Under) => {
            format!(" (timer underflow in '{value}', minimum non-null value is 1 ms)")
        }
    };
    ctx.alert(format!("{base}{detail}"));
}

fn content(p: &mut ProxyState, ctx: &mut Ctx) {
    let action = ctx.arg(2).to_string();
    let reject = match action.as_str() {
        "accept" => false,
        "reject" => true,
        a if !a.is_empty() && (action_in(CONTENT_ACTIONS, a) || a.starts_with("track-sc")) => {
            p.note(ctx, format!("tcp-request content {a}"), Support::No);
            return;
        }
        a => {
            ctx.alert(format!(
                "{} : 'tcp-request content' expects {CONTENT_ACTIONS} in {} '{}' (got '{a}').\n",
                ctx.here(),
                p.type_str(),
                p.px.name
            ));
            return;
        }
    };
    let cond = match ctx.arg(3) {
        "" => None,
        word @ ("if" | "unless") => {
            let word = word.to_string();
            let words = ctx.args[3..].to_vec();
            match parse_condition(&words, p, ctx.at) {
                Ok(c) => Some(c),
                Err(e) => {
                    ctx.alert(format!(
                        "{} : 'tcp-request content {action}' : error detected in {} '{}' while parsing '{word}' condition : {e}",
                        ctx.here(),
                        p.type_str(),
                        p.px.name
                    ));
                    return;
                }
            }
        }
        other => {
            ctx.alert(format!(
                "{} : 'tcp-request content {action}' only accepts 'if' or 'unless', in {} '{}' (got '{other}')",
                ctx.here(),
                p.type_str(),
                p.px.name
            ));
            return;
        }
    };
    p.px.tcp_content.push(TcpContentRule {
        at: ctx.at.clone(),
        reject,
        cond,
    });
}
