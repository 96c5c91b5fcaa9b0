//! `[no] option <name> [args]`: the option table (HAProxy's `cfg_opts`,
//! `cfg_opts2` and the hand-written options of cfgparse-listen.c).
//!
//! Each row says whether `no option` is allowed, which capability the
//! option needs, and whether the engine runtime implements it. Options
//! HAProxy ignores in TCP mode (`httpclose`, `forwardfor`...) are dropped
//! there with its warning (check.rs).

use super::listen::{has_cap, Cap, ProxyState, Support};
use super::parse::{Ctx, Kwm};
use super::suggest;
use super::{ForwardFor, HealthCheck, ProxyOptions};

/// What an option needs: the engine's support for it.
pub struct OptionKeyword {
    pub name: &'static str,
    /// The capability a proxy needs; others warn and ignore the option.
    pub cap: Cap,
    /// `no option <name>` / `default option <name>` allowed.
    pub negatable: bool,
    pub support: Support,
    pub parse: fn(&mut ProxyState, &mut Ctx, bool),
    pub doc: &'static str,
}

const fn opt(
    name: &'static str,
    cap: Cap,
    negatable: bool,
    support: Support,
    parse: fn(&mut ProxyState, &mut Ctx, bool),
    doc: &'static str,
) -> OptionKeyword {
    OptionKeyword {
        name,
        cap,
        negatable,
        support,
        parse,
        doc,
    }
}

/// A switch stored in [`ProxyOptions`].
macro_rules! flag {
    ($field:ident) => {
        |p: &mut ProxyState, ctx: &mut Ctx, on: bool| {
            if !ctx.too_many_args(0, 1) {
                p.px.options.$field = on;
            }
        }
    };
}

use Support::{No, Yes};

#[rustfmt::skip]
pub const OPTIONS: &[OptionKeyword] = &[
    opt("abortonclose", Cap::Be, true, No, flag!(abortonclose), "abort queued requests whose client left."),
    opt("accept-invalid-http-request", Cap::Fe, true, No, switch_only, "option accept-invalid-http-request: recognised, not run by the engine."),
    opt("accept-invalid-http-response", Cap::Be, true, No, switch_only, "option accept-invalid-http-response: recognised, not run by the engine."),
    opt("allbackups", Cap::Be, true, Yes, |p, c, on| { if !c.too_many_args(0, 1) { p.px.allbackups = on } }, "use all backup servers at once."),
    opt("checkcache", Cap::Be, true, No, switch_only, "option checkcache: recognised, not run by the engine."),
    opt("clitcpka", Cap::Fe, true, No, flag!(clitcpka), "TCP keep-alive on the client side."),
    opt("contstats", Cap::Fe, true, No, switch_only, "option contstats: recognised, not run by the engine."),
    opt("disable-h2-upgrade", Cap::Fe, true, No, switch_only, "option disable-h2-upgrade: recognised, not run by the engine."),
    opt("dontlog-normal", Cap::Fe, true, No, switch_only, "option dontlog-normal: recognised, not run by the engine."),
    opt("dontlognull", Cap::Fe, true, Yes, flag!(dontlognull), "do not log connections without data."),
    opt("external-check", Cap::Be, false, No, switch_only, "option external-check: recognised, not run by the engine."),
    opt("forwardfor", Cap::Any, false, Yes, forwardfor, "add X-Forwarded-For [except NET] [header NAME] [if-none]."),
    opt("h1-case-adjust-bogus-client", Cap::Fe, true, No, switch_only, "option h1-case-adjust-bogus-client: recognised, not run by the engine."),
    opt("h1-case-adjust-bogus-server", Cap::Be, true, No, switch_only, "option h1-case-adjust-bogus-server: recognised, not run by the engine."),
    opt("http-buffer-request", Cap::Any, true, No, switch_only, "option http-buffer-request: recognised, not run by the engine."),
    opt("http-ignore-probes", Cap::Fe, true, No, switch_only, "option http-ignore-probes: recognised, not run by the engine."),
    opt("http-keep-alive", Cap::Any, true, Yes, conn_mode, "keep-alive on both sides (default)."),
    opt("http-no-delay", Cap::Any, true, No, switch_only, "option http-no-delay: recognised, not run by the engine."),
    opt("http-pretend-keepalive", Cap::Be, true, No, switch_only, "option http-pretend-keepalive: recognised, not run by the engine."),
    opt("http-server-close", Cap::Any, true, Yes, conn_mode, "close the server side after each response."),
    opt("http-use-proxy-header", Cap::Fe, true, No, switch_only, "option http-use-proxy-header: recognised, not run by the engine."),
    opt("httpchk", Cap::Be, false, Yes, httpchk, "HTTP health checks: [<method>] [<uri>] [<version>]."),
    opt("httpclose", Cap::Any, true, Yes, conn_mode, "close both sides after each response."),
    opt("httplog", Cap::Fe, true, Yes, httplog, "HTTP log format [clf]."),
    opt("httpslog", Cap::Fe, true, No, httpslog, "option httpslog: recognised, not run by the engine."),
    opt("idle-close-on-response", Cap::Fe, true, Yes, flag!(idle_close_on_response), "at a soft stop, close idle connections at their next response."),
    opt("independent-streams", Cap::Any, true, No, switch_only, "option independent-streams: recognised, not run by the engine."),
    opt("ldap-check", Cap::Be, false, Yes, |p, c, _| { if !c.too_many_args(0, 1) { p.px.health_check = HealthCheck::Ldap } }, "LDAPv3 bind health check."),
    opt("log-health-checks", Cap::Be, true, Yes, flag!(log_health_checks), "log every check state change."),
    opt("log-separate-errors", Cap::Fe, true, No, switch_only, "option log-separate-errors: recognised, not run by the engine."),
    opt("logasap", Cap::Fe, true, No, switch_only, "option logasap: recognised, not run by the engine."),
    opt("mysql-check", Cap::Be, false, Yes, mysql_check, "MySQL health check [user <name> [post-41]]."),
    opt("nolinger", Cap::Any, true, No, switch_only, "option nolinger: recognised, not run by the engine."),
    opt("persist", Cap::Be, true, No, switch_only, "option persist: recognised, not run by the engine."),
    opt("pgsql-check", Cap::Be, false, Yes, pgsql_check, "PostgreSQL health check user <name>."),
    opt("prefer-last-server", Cap::Be, true, No, flag!(prefer_last_server), "reuse the last server of a connection."),
    opt("redis-check", Cap::Be, false, Yes, |p, c, _| { if !c.too_many_args(0, 1) { p.px.health_check = HealthCheck::Redis } }, "Redis PING health check."),
    opt("redispatch", Cap::Be, true, Yes, redispatch, "last retry may go to another server [interval]."),
    opt("smtpchk", Cap::Be, false, Yes, smtpchk, "SMTP health check [HELO|EHLO <domain>]."),
    opt("socket-stats", Cap::Fe, true, Yes, flag!(socket_stats), "a stats line per listener."),
    opt("splice-auto", Cap::Any, true, No, flag!(splice_auto), "kernel splicing, automatic."),
    opt("splice-request", Cap::Any, true, No, flag!(splice_request), "kernel splicing of requests."),
    opt("splice-response", Cap::Any, true, No, flag!(splice_response), "kernel splicing of responses."),
    opt("srvtcpka", Cap::Be, true, No, flag!(srvtcpka), "TCP keep-alive on the server side."),
    opt("ssl-hello-chk", Cap::Be, false, No, |p, c, _| { if !c.too_many_args(0, 1) { p.px.health_check = HealthCheck::SslHello } }, "SSLv3 client hello health check."),
    opt("tcp-check", Cap::Be, false, Yes, |p, c, _| { if !c.too_many_args(0, 1) { p.px.health_check = HealthCheck::TcpRules } }, "health checks run the tcp-check rules."),
    opt("tcp-smart-accept", Cap::Fe, true, No, switch_only, "option tcp-smart-accept: recognised, not run by the engine."),
    opt("tcp-smart-connect", Cap::Be, true, No, switch_only, "option tcp-smart-connect: recognised, not run by the engine."),
    opt("tcpka", Cap::Any, true, No, flag!(tcpka), "TCP keep-alive on both sides."),
    opt("tcplog", Cap::Any, true, Yes, tcplog, "TCP log format."),
    opt("transparent", Cap::Be, true, No, switch_only, "option transparent: recognised, not run by the engine."),
];

/// Parses one `option` line into the proxy.
pub fn parse(p: &mut ProxyState, ctx: &mut Ctx) {
    let name = ctx.arg(1).to_string();
    if name.is_empty() {
        ctx.alert(format!(
            "parsing [{}]: 'option' expects an option name.",
            ctx.at
        ));
        return;
    }
    let found = OPTIONS.iter().find(|o| o.name == name);
    if ctx.kwm != Kwm::Std && !found.is_some_and(|o| o.negatable) {
        ctx.alert(format!(
            "parsing [{}]: negation/default is not supported for option '{name}'.",
            ctx.at
        ));
        return;
    }
    let Some(o) = found else {
        let here = ctx.here();
        match suggest::best_match(&name, suggest::OPTIONS.iter().copied()) {
            Some(b) => ctx.alert(format!(
                "{here} : unknown option '{name}'; did you mean '{b}' maybe ?"
            )),
            None => ctx.alert(format!("{here} : unknown option '{name}'.")),
        }
        return;
    };
    if !p.is_defaults && !has_cap(p.px.kind, o.cap) {
        // HAProxy names only the option here, not "option <name>".
        let need = if o.cap == Cap::Fe {
            "frontend"
        } else {
            "backend"
        };
        if name == "httplog" {
            // Said, but the log format is set all the same (HAProxy then
            // warns again if the backend is in tcp mode).
            ctx.warn(format!(
                "{} : backend '{}' : 'option httplog' directive is ignored in backends.",
                ctx.here(),
                p.px.name
            ));
        } else {
            ctx.warn(format!(
                "{} : '{name}' ignored because {} '{}' has no {need} capability.",
                ctx.here(),
                p.type_str(),
                p.px.name
            ));
            return;
        }
    }
    let on = ctx.kwm != Kwm::No;
    if ctx.kwm == Kwm::Default {
        // `default option x`: back to the built-in default (off).
        (o.parse)(p, ctx, false);
        return;
    }
    (o.parse)(p, ctx, on);
    if on && !ctx.failed {
        p.note(ctx, format!("option {name}"), o.support);
    }
}

/// An option without a field in the model (unimplemented anyway).
fn switch_only(_: &mut ProxyState, ctx: &mut Ctx, _: bool) {
    ctx.too_many_args(0, 1);
}

/// `option httpslog`: HAProxy takes no value and ignores extra words.
fn httpslog(p: &mut ProxyState, ctx: &mut Ctx, on: bool) {
    // HAProxy names it 'option httplog' in this warning.
    warn_override(p, ctx, on, "option httplog");
    set_log_format(p, LogFormat::Https, on);
    p.httplog_at = on.then(|| ctx.at.clone());
}

/// The log formats replace each other: the last one wins.
#[derive(PartialEq)]
enum LogFormat {
    Http,
    Clf,
    Https,
    Tcp,
}

fn set_log_format(p: &mut ProxyState, which: LogFormat, on: bool) {
    let o = &mut p.px.options;
    o.httplog = on && matches!(which, LogFormat::Http | LogFormat::Clf);
    o.httplog_clf = on && which == LogFormat::Clf;
    o.httpslog = on && which == LogFormat::Https;
    o.tcplog = on && which == LogFormat::Tcp;
    if on {
        p.px.log_format = None;
    }
}

/// The log format a defaults section holds, as HAProxy names it.
pub fn current_log_format(p: &ProxyState) -> Option<&'static str> {
    let o = &p.px.options;
    if p.px.log_format.is_some() {
        Some("log-format")
    } else if o.httplog_clf {
        Some("option httplog clf")
    } else if o.httplog {
        Some("option httplog")
    } else if o.httpslog {
        Some("option httpslog")
    } else if o.tcplog {
        Some("option tcplog")
    } else {
        None
    }
}

/// In `defaults`, HAProxy warns when a log format replaces another.
pub fn warn_override(p: &ProxyState, ctx: &mut Ctx, on: bool, new: &str) {
    if let (true, true, Some(old)) = (on, p.is_defaults, current_log_format(p)) {
        ctx.warn(format!(
            "parsing [{}]: '{new}' overrides previous '{old}' in 'defaults' section.",
            ctx.at
        ));
    }
}

fn tcplog(p: &mut ProxyState, ctx: &mut Ctx, on: bool) {
    warn_override(p, ctx, on, "option tcplog");
    if !ctx.too_many_args(0, 1) {
        set_log_format(p, LogFormat::Tcp, on);
        p.httplog_at = None;
    }
}

/// `http-keep-alive`, `http-server-close`, `httpclose`: one connection
/// mode per proxy, the last one set wins (HAProxy's PR_O_HTTP_MODE); `no`
/// clears only the mode it names.
fn conn_mode(p: &mut ProxyState, ctx: &mut Ctx, on: bool) {
    if ctx.too_many_args(0, 1) {
        return;
    }
    let o = &mut p.px.options;
    if on {
        o.http_keep_alive = false;
        o.http_server_close = false;
        o.httpclose = false;
    }
    match ctx.arg(1) {
        "http-keep-alive" => o.http_keep_alive = on,
        "http-server-close" => o.http_server_close = on,
        _ => o.httpclose = on,
    }
}

fn httplog(p: &mut ProxyState, ctx: &mut Ctx, on: bool) {
    if !ctx.arg(2).is_empty() && ctx.arg(2) != "clf" {
        let msg = format!(
            "{} : keyword 'httplog' only supports option 'clf'.",
            ctx.here()
        );
        ctx.alert(msg);
        return;
    }
    if ctx.too_many_args(1, 1) {
        return;
    }
    let clf = ctx.arg(2) == "clf";
    let new = if clf {
        "option httplog clf"
    } else {
        "option httplog"
    };
    warn_override(p, ctx, on, new);
    set_log_format(p, if clf { LogFormat::Clf } else { LogFormat::Http }, on);
    p.httplog_at = on.then(|| ctx.at.clone());
}

/// `option redispatch [<interval>]`; HAProxy ignores further words.
fn redispatch(p: &mut ProxyState, ctx: &mut Ctx, on: bool) {
    p.px.redispatch = if on {
        Some(if ctx.arg(2).is_empty() {
            -1
        } else {
            super::parse::atol(ctx.arg(2)) as i32
        })
    } else {
        None
    };
}

fn forwardfor(p: &mut ProxyState, ctx: &mut Ctx, _: bool) {
    let mut ff = ForwardFor {
        except: None,
        header: "x-forwarded-for".into(),
        if_none: false,
    };
    let mut i = 2;
    while !ctx.arg(i).is_empty() {
        match ctx.arg(i) {
            "except" | "header" if ctx.arg(i + 1).is_empty() => {
                let msg = format!(
                    "{} : '{} {} {}' expects {} as argument.",
                    ctx.here(),
                    ctx.arg(0),
                    ctx.arg(1),
                    ctx.arg(i),
                    if ctx.arg(i) == "except" {
                        "<address>[/mask]"
                    } else {
                        "<header_name>"
                    }
                );
                ctx.alert(msg);
                return;
            }
            "except" => ff.except = Some(ctx.arg(i + 1).to_string()),
            "header" => ff.header = ctx.arg(i + 1).to_lowercase(),
            "if-none" => {
                ff.if_none = true;
                i += 1;
                continue;
            }
            _ => {
                let msg = format!(
                    "{} : '{} {}' only supports optional values: 'except', 'header' and 'if-none'.",
                    ctx.here(),
                    ctx.arg(0),
                    ctx.arg(1)
                );
                ctx.alert(msg);
                return;
            }
        }
        i += 2;
    }
    p.px.options.forwardfor = Some(ff);
}

fn httpchk(p: &mut ProxyState, ctx: &mut Ctx, _: bool) {
    if ctx.too_many_args(3, 1) {
        return;
    }
    // One argument is the URI; two or three are method, URI, version.
    let (method, uri, version) = match (ctx.arg(2), ctx.arg(3)) {
        ("", _) => ("OPTIONS", "/", "HTTP/1.0"),
        (u, "") => ("OPTIONS", u, "HTTP/1.0"),
        (m, u) => (
            m,
            u,
            if ctx.arg(4).is_empty() {
                "HTTP/1.0"
            } else {
                ctx.arg(4)
            },
        ),
    };
    let (method, uri, version) = (method.to_string(), uri.to_string(), version.to_string());
    if version.contains(['\r', '\n']) {
        ctx.warn(format!(
            "parsing [{}]: 'option httpchk' : hiding headers or body at the end of the version string is deprecated. Please, consider to use 'http-check send' directive instead.",
            ctx.at
        ));
    }
    p.px.health_check = HealthCheck::Http {
        method,
        uri,
        version,
    };
}

fn smtpchk(p: &mut ProxyState, ctx: &mut Ctx, _: bool) {
    if ctx.too_many_args(2, 1) {
        return;
    }
    let (verb, domain) = match (ctx.arg(2), ctx.arg(3)) {
        (v @ ("HELO" | "EHLO"), d) if !d.is_empty() => (v, d),
        _ => ("HELO", "localhost"),
    };
    p.px.health_check = HealthCheck::Smtp {
        verb: verb.into(),
        domain: domain.into(),
    };
}

fn mysql_check(p: &mut ProxyState, ctx: &mut Ctx, _: bool) {
    let mut user = None;
    let mut pre41 = false;
    if !ctx.arg(2).is_empty() {
        let here = ctx.here();
        if ctx.arg(2) != "user" {
            let got = ctx.arg(2).to_string();
            ctx.alert(format!("{here} : 'option mysql-check' only supports optional values: 'user' (got '{got}')."));
            return;
        }
        if ctx.arg(3).is_empty() {
            ctx.alert(format!(
                "{here} : 'option mysql-check user' expects <username> as argument."
            ));
            return;
        }
        user = Some(ctx.arg(3).to_string());
        match ctx.arg(4) {
            "" | "post-41" => {}
            "pre-41" => pre41 = true,
            other => {
                let msg = format!(
                    "{} : keyword '{}' only supports 'post-41' and 'pre-41' (got '{other}').",
                    ctx.here(),
                    ctx.arg(2),
                );
                ctx.alert(msg);
                return;
            }
        }
    }
    p.px.health_check = HealthCheck::Mysql { user, pre41 };
}

fn pgsql_check(p: &mut ProxyState, ctx: &mut Ctx, _: bool) {
    if !ctx.arg(2).is_empty() && ctx.arg(2) != "user" {
        let msg = format!(
            "{} : 'option pgsql-check' only supports optional values: 'user'.",
            ctx.here()
        );
        ctx.alert(msg);
        return;
    }
    if ctx.arg(2).is_empty() || ctx.arg(3).is_empty() {
        let msg = format!(
            "{} : '{} {}' expects 'user <username>' as argument.",
            ctx.here(),
            ctx.arg(0),
            ctx.arg(1)
        );
        ctx.alert(msg);
        return;
    }
    p.px.health_check = HealthCheck::Pgsql {
        user: ctx.arg(3).into(),
    };
}

/// The option switches a fresh proxy starts with.
pub fn defaults() -> ProxyOptions {
    ProxyOptions::default()
}
