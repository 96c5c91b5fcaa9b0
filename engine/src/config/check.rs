//! After parsing: cross-proxy checks and the final [`Config`]
//! (HAProxy's `check_config_validity`), run only when parsing raised no
//! alert, as HAProxy does.
//!
//! Per proxy, in declaration order and in HAProxy's order: tcp-mode
//! fallbacks (L7 hash, `option httplog`), `default_backend` then
//! `use_backend` targets (existence, mode compatibility: a tcp frontend may
//! reach an http backend, not the reverse), missing timeouts, then
//! "requires HTTP mode" warnings. Then unimplemented directives are
//! collected: those marked HTTP-only are dropped for tcp proxies, where
//! HAProxy ignores them too.

use super::listen::ProxyState;
use super::{Balance, Config, Diagnostic, HealthCheck, Mode, Proxy, Unimplemented};
use crate::log::format::LogFormat;

/// Runs the checks; returns true when an alert was raised.
pub fn finish(done: Vec<ProxyState>, config: &mut Config, diags: &mut Vec<Diagnostic>) -> bool {
    let proxies: Vec<ProxyState> = done.into_iter().filter(|p| !p.is_defaults).collect();
    let models: Vec<Proxy> = proxies.iter().map(|p| p.px.clone()).collect();
    let mut failed = false;
    for st in &proxies {
        failed |= check_proxy(st, &models, !config.global.log.is_empty(), diags);
    }
    for mut st in proxies {
        let tcp = st.px.mode == Mode::Tcp;
        if tcp {
            // HAProxy drops these in tcp mode (see the warnings above).
            st.px.options.forwardfor = None;
            if matches!(
                st.px.balance,
                Balance::Uri(_) | Balance::UrlParam(_) | Balance::Hdr { .. }
            ) {
                st.px.balance = Balance::RoundRobin;
            }
        }
        for item in log_format_unimplemented(&st) {
            config.unimplemented.push(item);
        }
        for p in st.pending.drain(..) {
            let harmless = (tcp && p.http_only) || (!tcp && p.http_yes);
            if !harmless && !config.unimplemented.contains(&p.item) {
                config.unimplemented.push(p.item);
            }
        }
        config.proxies.push(st.px);
    }
    failed
}

/// All checks of one proxy, in `check_config_validity`'s order.
fn check_proxy(
    st: &ProxyState,
    all: &[Proxy],
    global_log: bool,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    if st.px.mode == Mode::Tcp {
        ensure_no_http(st, diags);
    }
    if st.px.http_check.used && !matches!(st.px.health_check, HealthCheck::Http { .. }) {
        diags.push(Diagnostic::warning(format!(
            "{} '{}' uses http-check rules without 'option httpchk', so the rules are ignored.",
            st.type_str(),
            st.px.name
        )));
    }
    if !st.px.tcp_check.is_empty() && st.px.health_check != HealthCheck::TcpRules {
        diags.push(Diagnostic::warning(format!(
            "{} '{}' uses tcp-check rules without 'option tcp-check', so the rules are ignored.",
            st.type_str(),
            st.px.name
        )));
    }
    if st.px.kind.is_frontend() && st.px.binds.is_empty() {
        diags.push(Diagnostic::warning(format!(
            "{} '{}' has no 'bind' directive. Please declare it as a backend if this was intended.",
            st.type_str(),
            st.px.name
        )));
    }
    let failed = resolve_backends(st, all, diags)
        | balance_expression(st, diags)
        | log_format_error(st, diags);
    warn_timeouts_and_logs(st, global_log, diags);
    if st.px.mode == Mode::Tcp {
        warn_http_only(st, diags);
    }
    failed | server_checks(st, all, diags)
}

/// A frontend's `log-format`, parsed now that its mode is known (HAProxy
/// drops a backend's). Returns true on error.
fn log_format_error(st: &ProxyState, diags: &mut Vec<Diagnostic>) -> bool {
    let Some(Err(e)) = parsed_log_format(st) else {
        return false;
    };
    let at = &st.px.log_format.as_ref().expect("parsed").at;
    diags.push(Diagnostic::alert(format!(
        "Parsing [{at}]: failed to parse log-format : {e}."
    )));
    true
}

fn parsed_log_format(st: &ProxyState) -> Option<Result<LogFormat, String>> {
    let lf = st
        .px
        .log_format
        .as_ref()
        .filter(|_| st.px.kind.is_frontend())?;
    let is_fetch = |name: &str| super::fetches::find(name).is_some();
    Some(LogFormat::parse_with(
        &lf.format,
        st.px.mode == Mode::Http,
        &is_fetch,
    ))
}

/// What a valid `log-format` asks for that the engine cannot fill.
fn log_format_unimplemented(st: &ProxyState) -> Vec<Unimplemented> {
    let Some(Ok(lf)) = parsed_log_format(st) else {
        return vec![];
    };
    let at = &st.px.log_format.as_ref().expect("parsed").at;
    lf.unimplemented()
        .into_iter()
        .map(|label| Unimplemented {
            at: at.clone(),
            keyword: format!("log-format {label}"),
            section: st.px.kind.as_str().to_string(),
        })
        .collect()
}

/// `balance hash <expr>`: its fetch and converters must exist.
fn balance_expression(st: &ProxyState, diags: &mut Vec<Diagnostic>) -> bool {
    let Balance::Hash(expr) = &st.px.balance else {
        return false;
    };
    let fetch = &expr[..expr.find(['(', ',']).unwrap_or(expr.len())];
    let error = if super::fetches::find(fetch).is_none() {
        format!("unknown fetch method '{fetch}'")
    } else if let Some(conv) = super::converters::first_unknown(expr) {
        format!("unknown converter '{conv}'")
    } else {
        return false;
    };
    diags.push(Diagnostic::alert(format!(
        "{} '{}' [{}]: failed to parse 'balance hash' expression '{expr}' in : {error}.",
        st.type_str(),
        st.px.name,
        st.px.at
    )));
    true
}

/// `proxy_cfg_ensure_no_http()`: HTTP-only settings of a tcp proxy.
fn ensure_no_http(st: &ProxyState, diags: &mut Vec<Diagnostic>) {
    let (px, ty) = (&st.px, st.type_str());
    if st.cookie {
        diags.push(Diagnostic::warning(format!(
            "cookie will be ignored for {ty} '{}' (needs 'mode http').",
            px.name
        )));
    }
    if matches!(
        px.balance,
        Balance::Uri(_) | Balance::UrlParam(_) | Balance::Hdr { .. }
    ) {
        diags.push(Diagnostic::warning(format!(
            "Layer 7 hash not possible for {ty} '{}' (needs 'mode http'). Falling back to round robin.",
            px.name
        )));
    }
    if let (true, Some(at)) = (px.options.httplog || px.options.httpslog, &st.httplog_at) {
        let which = if px.options.httpslog {
            "httpslog"
        } else {
            "httplog"
        };
        diags.push(Diagnostic::warning(format!(
            "parsing [{at}] : 'option {which}' not usable with {ty} '{}' (needs 'mode http'). Falling back to 'option tcplog'.",
            px.name
        )));
    }
}

/// `default_backend` and `use_backend` targets. Any proxy may carry them
/// (HAProxy only warns when a backend does) and they are resolved all the
/// same. Returns true on error.
fn resolve_backends(st: &ProxyState, all: &[Proxy], diags: &mut Vec<Diagnostic>) -> bool {
    let px = &st.px;
    let mut alerts = 0;
    let mut alert = |diags: &mut Vec<Diagnostic>, m: String| {
        alerts += 1;
        diags.push(Diagnostic::alert(m));
    };
    let is_self = |b: &Proxy| b.name == px.name && b.kind == px.kind;
    if let Some(name) = &px.default_backend {
        match find_backend(all, name) {
            None => alert(diags, format!("Proxy '{}': unable to find required default_backend: '{name}'.", px.name)),
            Some(b) if is_self(b) => {
                alert(diags, format!("Proxy '{}': loop detected for default_backend: '{name}'.", px.name))
            }
            Some(b) if incompatible(px, b) => alert(diags, mode_message(st, b, "as its default backend")),
            Some(_) if !px.servers.is_empty() => diags.push(Diagnostic::warning(format!(
                "In proxy '{}', the 'default_backend' rule always has precedence over the servers, which will never be used.",
                px.name
            ))),
            Some(_) => {}
        }
    }
    // A log-format name (`%[...]`) is resolved per request.
    for ub in px.use_backends.iter().filter(|u| !u.backend.contains('%')) {
        let name = &ub.backend;
        match find_backend(all, name) {
            None => alert(
                diags,
                format!(
                    "Proxy '{}': unable to find required use_backend: '{name}'.",
                    px.name
                ),
            ),
            Some(b) if is_self(b) => alert(
                diags,
                format!(
                    "Proxy '{}': loop detected for use_backend: '{name}'.",
                    px.name
                ),
            ),
            Some(b) if incompatible(px, b) => {
                alert(diags, mode_message(st, b, "in a 'use_backend' rule"))
            }
            Some(_) => {}
        }
    }
    alerts > 0
}

/// Missing client/connect/server timeouts; a log format with nowhere to
/// send logs.
fn warn_timeouts_and_logs(st: &ProxyState, global_log: bool, diags: &mut Vec<Diagnostic>) {
    let (px, ty) = (&st.px, st.type_str());
    let unset = |d: Option<std::time::Duration>| d.is_none_or(|d| d.is_zero());
    let t = &px.timeouts;
    let fe_missing = px.kind.is_frontend() && unset(t.client);
    let be_missing = px.kind.is_backend()
        && !px.servers.is_empty()
        && (unset(t.connect) || (unset(t.server) && (px.mode == Mode::Http || t.tunnel.is_none())));
    if fe_missing || be_missing {
        diags.push(Diagnostic::warning(format!(
            "missing timeouts for {ty} '{}'.\n   | While not properly invalid, you will certainly encounter various problems\n   | with such a configuration. To fix this, please ensure that all following\n   | timeouts are set to a non-zero value: 'client', 'connect', 'server'.",
            px.name
        )));
    }
    let has_log = !px.log.is_empty() || (px.log_global && global_log);
    let o = &px.options;
    let any_format = o.httplog || o.httpslog || o.tcplog || px.log_format.is_some();
    if px.kind.is_frontend() && !has_log && any_format {
        diags.push(Diagnostic::warning(format!(
            "log format ignored for {ty} '{}' since it has no log address.",
            px.name
        )));
    }
}

/// HTTP-only statements HAProxy drops from a tcp proxy.
fn warn_http_only(st: &ProxyState, diags: &mut Vec<Diagnostic>) {
    let (px, ty) = (&st.px, st.type_str());
    let dropped = [
        (px.stats.enabled, "'stats' statement ignored", "it requires"),
        (
            !px.http_request.is_empty(),
            "'http-request' rules ignored",
            "they require",
        ),
        (
            !px.redirects.is_empty(),
            "'redirect' rules ignored",
            "they require",
        ),
        (
            px.options.forwardfor.is_some(),
            "'option forwardfor' ignored",
            "it requires",
        ),
    ];
    for (_, what, verb) in dropped.iter().filter(|d| d.0) {
        diags.push(Diagnostic::warning(format!(
            "{what} for {ty} '{}' as {verb} HTTP mode.",
            px.name
        )));
    }
}

/// The server settings HAProxy validates after parsing.
fn server_checks(st: &ProxyState, all: &[Proxy], diags: &mut Vec<Diagnostic>) -> bool {
    let px = &st.px;
    let mut failed = false;
    for (b, at) in &st.ssl_binds_without_crt {
        failed = true;
        diags.push(Diagnostic::alert(format!(
            "Proxy '{}': no SSL certificate specified for bind '{b}' at [{at}] (use 'crt').",
            px.name
        )));
    }
    for c in &st.server_checks {
        if px.mode == Mode::Tcp && c.cookie {
            diags.push(Diagnostic::warning(format!(
                "{} '{}' : ignoring cookie for server '{}' as HTTP mode is disabled.",
                st.type_str(),
                px.name,
                c.server
            )));
        }
        if px.mode == Mode::Tcp && c.redir {
            failed = true;
            diags.push(Diagnostic::alert(format!(
                "proxy '{}' : server cannot have cookie or redirect prefix in non-HTTP mode.",
                px.name
            )));
        }
        if c.verify_without_ca {
            failed = true;
            diags.push(Diagnostic::alert(format!("[{}] : 'server {}/{}' : verify is enabled by default but no CA file specified. If you're running on a LAN where you're certain to trust the server's certificate, please set an explicit 'verify none' statement on the 'server' line, or use 'ssl-server-verify none' in the global section to disable server-side verifications by default.", c.at, px.name, c.server)));
        }
        if let Some(r) = &c.resolvers {
            // No `resolvers` section can exist: the engine refuses them.
            failed = true;
            diags.push(Diagnostic::alert(format!(
                "proxy '{}', server '{}': unable to find required resolvers '{r}'",
                px.name, c.server
            )));
        }
        if let Some(t) = &c.track {
            let (bp, bs) = t.split_once('/').unwrap_or((px.name.as_str(), t.as_str()));
            let found = all.iter().any(|p| {
                p.kind.is_backend() && p.name == bp && p.servers.iter().any(|s| s.name == bs)
            });
            if !found {
                failed = true;
                diags.push(Diagnostic::alert(format!(
                    "[{}] : 'server {}/{}' : unable to find required server '{t}' for tracking.",
                    c.at, px.name, c.server
                )));
            }
        }
    }
    failed
}

fn find_backend<'a>(all: &'a [Proxy], name: &str) -> Option<&'a Proxy> {
    all.iter().find(|p| p.kind.is_backend() && p.name == name)
}

/// Modes differ, except the allowed tcp frontend → http backend upgrade.
fn incompatible(fe: &Proxy, be: &Proxy) -> bool {
    fe.mode != be.mode && !(fe.mode == Mode::Tcp && be.mode == Mode::Http)
}

fn mode_message(st: &ProxyState, be: &Proxy, how: &str) -> String {
    let fe = &st.px;
    let be_ty = if be.kind == super::ProxyKind::Listen {
        "proxy"
    } else {
        be.kind.as_str()
    };
    format!(
        "{} {} '{}' ({}) tries to use incompatible {} {be_ty} '{}' ({}) {how} (see 'mode').",
        fe.mode.as_str(),
        st.type_str(),
        fe.name,
        fe.at,
        be.mode.as_str(),
        be.name,
        be.at
    )
}
