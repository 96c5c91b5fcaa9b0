//! `timeout <name> <delay>` in proxy sections: which timeouts exist, HAProxy's
//! error texts, and which ones the engine runtime honours.

use super::listen::{has_cap, Cap, ProxyState, Support};
use super::parse::Ctx;
use super::units::{parse_time_ms, trailing_warning, TimeError};
use super::Timeouts;
use std::time::Duration;

/// The timeouts `timeout <name>` accepts, with the engine's support.
const TIMEOUTS: &[(&str, Support)] = &[
    ("client", Support::Yes),
    ("server", Support::Yes),
    ("connect", Support::Yes),
    ("check", Support::Yes),
    ("queue", Support::Yes),
    // Only meaningful in HTTP mode; HAProxy ignores them in TCP proxies,
    // so a tcp proxy inheriting them from defaults is not "unimplemented".
    ("http-keep-alive", Support::Yes),
    ("http-request", Support::Yes),
    // Built for HTTP tunnels (after a 101); not in TCP mode yet.
    ("tunnel", Support::HttpYes),
    ("tarpit", Support::HttpOnly),
    ("client-fin", Support::Yes),
    ("server-fin", Support::Yes),
];

pub fn timeout(p: &mut ProxyState, ctx: &mut Ctx) {
    let here = ctx.here();
    let which = ctx.arg(1).to_string();
    let Some(&(_, support)) = TIMEOUTS.iter().find(|(n, _)| *n == which) else {
        ctx.alert(format!(
            "{here} : 'timeout' supports 'client', 'server', 'connect', 'check', 'queue', 'http-keep-alive', 'http-request', 'tunnel', 'tarpit', 'client-fin' and 'server-fin' (got '{which}')"
        ));
        return;
    };
    let value = ctx.arg(2).to_string();
    let t = match parse_time_ms(&value) {
        Ok(t) => t,
        Err(TimeError::Empty) => {
            ctx.alert(format!(
                "{here} : 'timeout {which}' expects an integer value (in milliseconds)"
            ));
            return;
        }
        Err(TimeError::Char(c)) => {
            ctx.alert(format!(
                "{here} : unexpected character '{c}' in 'timeout {which}'"
            ));
            return;
        }
        Err(TimeError::Over) => {
            ctx.alert(format!("{here} : timer overflow in argument '{value}' to 'timeout {which}' (maximum value is 2147483647 ms or ~24.8 days)"));
            return;
        }
        Err(TimeError::Under) => {
            ctx.alert(format!("{here} : timer underflow in argument '{value}' to 'timeout {which}' (minimum non-null value is 1 ms)"));
            return;
        }
    };
    if let Some(c) = t.trailing {
        ctx.warn(trailing_warning(c, &value));
    }
    let d = (t.ms > 0).then(|| t.duration());
    let cap = CAPS
        .iter()
        .find(|(n, _)| *n == which)
        .map_or(Cap::Any, |(_, c)| *c);
    if !p.is_defaults && !has_cap(p.px.kind, cap) {
        let need = if cap == Cap::Be {
            "backend"
        } else {
            "frontend"
        };
        ctx.warn(format!(
            "{here} : 'timeout {which}' will be ignored because {} '{}' has no {need} capability",
            p.type_str(),
            p.px.name
        ));
    } else if let Some(base) = &p.base_timeouts {
        // Set twice in this section: HAProxy compares with its defaults.
        if *slot(&mut p.px.timeouts, &which) != *slot(&mut base.clone(), &which) {
            ctx.warn(format!(
                "{here} : overwriting 'timeout {which}' which was already specified"
            ));
        }
    }
    if !ctx.arg(3).is_empty() {
        let extra = ctx.arg(3).to_string();
        ctx.alert(format!(
            "{here} : 'timeout {which}' : unexpected extra argument '{extra}' after value '{value}'."
        ));
    }
    *slot(&mut p.px.timeouts, &which) = d;
    p.note(ctx, format!("timeout {which}"), support);
}

/// Which proxies a timeout applies to.
const CAPS: &[(&str, Cap)] = &[
    ("client", Cap::Fe),
    ("client-fin", Cap::Fe),
    ("server", Cap::Be),
    ("server-fin", Cap::Be),
    ("connect", Cap::Be),
    ("check", Cap::Be),
    ("queue", Cap::Be),
    ("tunnel", Cap::Be),
];

fn slot<'a>(t: &'a mut Timeouts, which: &str) -> &'a mut Option<Duration> {
    match which {
        "client" => &mut t.client,
        "server" => &mut t.server,
        "connect" => &mut t.connect,
        "check" => &mut t.check,
        "queue" => &mut t.queue,
        "http-keep-alive" => &mut t.http_keep_alive,
        "http-request" => &mut t.http_request,
        "tunnel" => &mut t.tunnel,
        "tarpit" => &mut t.tarpit,
        "client-fin" => &mut t.client_fin,
        _ => &mut t.server_fin,
    }
}
