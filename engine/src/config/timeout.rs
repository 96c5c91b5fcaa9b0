//! `timeout <name> <delay>` in proxy sections: which timeouts exist, HAProxy's
//! error texts, and which ones the engine runtime honours.

use super::listen::{ProxyState, Support};
use super::parse::Ctx;
use super::units::{parse_time_ms, trailing_warning, TimeError};

/// The timeouts `timeout <name>` accepts, with the engine's support.
const TIMEOUTS: &[(&str, Support)] = &[
    ("client", Support::Yes),
    ("server", Support::Yes),
    ("connect", Support::Yes),
    ("check", Support::Yes),
    ("queue", Support::Yes),
    // Only meaningful in HTTP mode; HAProxy ignores them in TCP proxies,
    // so a tcp proxy inheriting them from defaults is not "unimplemented".
    ("http-keep-alive", Support::HttpOnly),
    ("http-request", Support::HttpOnly),
    ("tunnel", Support::No),
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
    if ctx.too_many_args(1, 1) {
        return;
    }
    let d = Some(t.duration());
    let to = &mut p.px.timeouts;
    match which.as_str() {
        "client" => to.client = d,
        "server" => to.server = d,
        "connect" => to.connect = d,
        "check" => to.check = d,
        "queue" => to.queue = d,
        "http-keep-alive" => to.http_keep_alive = d,
        "http-request" => to.http_request = d,
        "tunnel" => to.tunnel = d,
        "tarpit" => to.tarpit = d,
        "client-fin" => to.client_fin = d,
        _ => to.server_fin = d,
    }
    p.note(ctx, format!("timeout {which}"), support);
}
