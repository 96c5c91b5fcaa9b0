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
use super::{Balance, Config, Diagnostic, Mode, Proxy};

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
        for p in st.pending.drain(..) {
            let harmless = tcp && p.http_only;
            if !harmless && !config.unimplemented.contains(&p.item) {
                config.unimplemented.push(p.item);
            }
        }
        config.proxies.push(st.px);
    }
    failed
}

fn check_proxy(
    st: &ProxyState,
    all: &[Proxy],
    global_log: bool,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    let px = &st.px;
    let ty = st.type_str();
    let mut failed = false;
    let mut alert = |diags: &mut Vec<Diagnostic>, m: String| {
        failed = true;
        diags.push(Diagnostic::alert(m));
    };
    let tcp = px.mode == Mode::Tcp;
    // proxy_cfg_ensure_no_http(): HTTP-only settings in a tcp proxy.
    if tcp && st.cookie && px.kind.is_backend() {
        diags.push(Diagnostic::warning(format!(
            "cookie will be ignored for {ty} '{}' (needs 'mode http').",
            px.name
        )));
    }
    if tcp
        && matches!(
            px.balance,
            Balance::Uri(_) | Balance::UrlParam(_) | Balance::Hdr { .. }
        )
    {
        diags.push(Diagnostic::warning(format!(
            "Layer 7 hash not possible for {ty} '{}' (needs 'mode http'). Falling back to round robin.",
            px.name
        )));
    }
    if tcp && (px.options.httplog || px.options.httpslog) {
        if let Some(at) = &st.httplog_at {
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
    if px.kind.is_frontend() && px.binds.is_empty() {
        diags.push(Diagnostic::warning(format!(
            "{ty} '{}' has no 'bind' directive. Please declare it as a backend if this was intended.",
            px.name
        )));
    }
    // Any proxy may carry these (HAProxy only warns when a backend has
    // them), and they are resolved all the same.
    if let Some(name) = &px.default_backend {
        match find_backend(all, name) {
            None => alert(diags, format!("Proxy '{}': unable to find required default_backend: '{name}'.", px.name)),
            Some(b) if b.name == px.name && b.kind == px.kind => {
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
    for ub in &px.use_backends {
        // A log-format name (`%[...]`) is resolved per request.
        if ub.backend.contains('%') {
            continue;
        }
        match find_backend(all, &ub.backend) {
            None => alert(
                diags,
                format!(
                    "Proxy '{}': unable to find required use_backend: '{}'.",
                    px.name, ub.backend
                ),
            ),
            Some(b) if b.name == px.name && b.kind == px.kind => alert(
                diags,
                format!(
                    "Proxy '{}': loop detected for use_backend: '{}'.",
                    px.name, ub.backend
                ),
            ),
            Some(b) if incompatible(px, b) => {
                alert(diags, mode_message(st, b, "in a 'use_backend' rule"))
            }
            Some(_) => {}
        }
    }
    let t = &px.timeouts;
    let fe_missing = px.kind.is_frontend() && t.client.is_none_or(|d| d.is_zero());
    let be_missing = px.kind.is_backend()
        && !px.servers.is_empty()
        && (t.connect.is_none_or(|d| d.is_zero())
            || (t.server.is_none_or(|d| d.is_zero())
                && (px.mode == Mode::Http || t.tunnel.is_none())));
    if fe_missing || be_missing {
        diags.push(Diagnostic::warning(format!(
            "missing timeouts for {ty} '{}'.\n   | While not properly invalid, you will certainly encounter various problems\n   | with such a configuration. To fix this, please ensure that all following\n   | timeouts are set to a non-zero value: 'client', 'connect', 'server'.",
            px.name
        )));
    }
    // A log format (httplog/tcplog) with nowhere to send logs.
    let has_log = !px.log.is_empty() || (px.log_global && global_log);
    if px.kind.is_frontend()
        && !has_log
        && (px.options.httplog || px.options.httpslog || px.options.tcplog)
    {
        diags.push(Diagnostic::warning(format!(
            "log format ignored for {ty} '{}' since it has no log address.",
            px.name
        )));
    }
    if tcp {
        let mut warn = |what: &str| {
            diags.push(Diagnostic::warning(format!(
                "{what} for {ty} '{}' as {}",
                px.name,
                if what.contains("rules") {
                    "they require HTTP mode."
                } else {
                    "it requires HTTP mode."
                }
            )));
        };
        if px.stats.enabled {
            warn("'stats' statement ignored");
        }
        if !px.http_request.is_empty() {
            warn("'http-request' rules ignored");
        }
        if !px.redirects.is_empty() {
            warn("'redirect' rules ignored");
        }
        if px.options.forwardfor.is_some() {
            warn("'option forwardfor' ignored");
        }
    }
    failed | server_checks(st, all, diags)
}

/// The server settings HAProxy validates after parsing.
fn server_checks(st: &ProxyState, all: &[Proxy], diags: &mut Vec<Diagnostic>) -> bool {
    let px = &st.px;
    let mut failed = false;
    for b in &st.ssl_binds_without_crt {
        // HAProxy 2.6 prints an empty location here ("at  (use").
        failed = true;
        diags.push(Diagnostic::alert(format!(
            "Proxy '{}': no SSL certificate specified for bind '{b}' at  (use 'crt').",
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
