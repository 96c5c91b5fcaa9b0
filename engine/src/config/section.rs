//! Proxy section headers (`defaults [name] [from x]`, `frontend`,
//! `backend`, `listen <name> [from x]`) and defaults inheritance.
//!
//! A new proxy starts as a copy of the last `defaults` section, or of the
//! one named by `from`, minus what defaults cannot carry (binds, servers,
//! rules). As in HAProxy, only proxies with the backend capability inherit
//! `balance` and only those with the frontend capability the log format.
//! Names clash per capability: a frontend and a backend may share one, a
//! `listen` clashes with either.

use super::listen::ProxyState;
use super::parse::Ctx;
use super::server::template;
use super::{
    options, Balance, HealthCheck, Location, Mode, Proxy, ProxyKind, StatsSettings, Timeouts,
};

pub fn fresh(name: &str, kind: ProxyKind, at: &Location) -> ProxyState {
    ProxyState {
        px: Proxy {
            name: name.into(),
            kind,
            at: at.clone(),
            mode: Mode::Tcp,
            binds: vec![],
            maxconn: None,
            backlog: None,
            timeouts: Timeouts::default(),
            retries: 3,
            redispatch: None,
            allbackups: false,
            balance: Balance::RoundRobin,
            hash_type: Default::default(),
            persist_rdp: None,
            servers: vec![],
            default_backend: None,
            use_backends: vec![],
            log: vec![],
            log_global: false,
            options: options::defaults(),
            health_check: HealthCheck::Tcp,
            http_check: Default::default(),
            tcp_check: vec![],
            stats: StatsSettings::default(),
            acls: vec![],
            http_request: vec![],
            inspect_delay: None,
            tcp_content: vec![],
            redirects: vec![],
            errors: vec![],
            cookie: None,
            http_response: vec![],
            fullconn: None,
            log_format: None,
            load_server_state: None,
            server_state_file_name: None,
            disabled: false,
            id: None,
        },
        earlier_ids: vec![],
        is_defaults: false,
        template: template(),
        server_checks: vec![],
        ssl_binds_without_crt: vec![],
        cookie: false,
        base_timeouts: None,
        pending: vec![],
        httplog_at: None,
        own_tcp_check: false,
    }
}

/// Characters HAProxy allows in proxy and ACL names (`invalid_char`).
pub fn invalid_char(name: &str) -> Option<char> {
    name.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':')))
}

/// The type HAProxy prints for a proxy being declared (`proxy_cap_str`).
fn cap_str(kind: ProxyKind, is_def: bool) -> &'static str {
    match (is_def, kind) {
        (true, _) => "defaults",
        (false, ProxyKind::Listen) => "proxy",
        (false, k) => k.as_str(),
    }
}

/// Checks a proxy header's name and words; false when the section must
/// be skipped.
fn check_header(done: &[ProxyState], ctx: &mut Ctx, kind: ProxyKind, name: &str) -> bool {
    let here = ctx.here();
    let kw = ctx.arg(0).to_string();
    if name.is_empty() {
        ctx.abort(format!("{here} : '{kw}' expects an <id> argument"));
        return false;
    }
    if let Some(c) = invalid_char(name) {
        ctx.alert(format!(
            "{here} : character '{c}' is not permitted in '{kw}' name '{name}'."
        ));
    }
    let fe = kind.is_frontend();
    let clash = done.iter().find(|d| {
        !d.is_defaults
            && d.px.name == name
            && if fe {
                d.px.kind.is_frontend()
            } else {
                d.px.kind.is_backend()
            }
    });
    if let Some(d) = clash {
        ctx.alert(format!(
            "Parsing [{}]: {} '{name}' has the same name as {} '{name}' declared at {}.",
            ctx.at,
            cap_str(kind, false),
            d.type_str(),
            d.px.at
        ));
    }
    let extra = ctx.arg(2);
    if (!extra.is_empty() && (ctx.arg(3).is_empty() || extra != "from")) || ctx.too_many_args(3, 0)
    {
        if fe {
            ctx.alert(format!(
                "{here} : please use the 'bind' keyword for listening addresses."
            ));
        }
        return false;
    }
    true
}

/// The defaults section a new section starts from. Err: a `from` names
/// no defaults section (HAProxy aborts).
fn base<'a>(
    done: &'a [ProxyState],
    ctx: &mut Ctx,
    from_at: usize,
    kind: ProxyKind,
    is_def: bool,
    name: &str,
) -> Result<Option<&'a ProxyState>, ()> {
    if ctx.arg(from_at) == "from" {
        let wanted = ctx.arg(from_at + 1).to_string();
        return match done
            .iter()
            .rev()
            .find(|d| d.is_defaults && d.px.name == wanted)
        {
            Some(d) => Ok(Some(d)),
            None => {
                let cap = cap_str(kind, is_def);
                ctx.abort(format!(
                    "{} : defaults section '{wanted}' not found for {cap} '{name}'.",
                    ctx.here()
                ));
                Err(())
            }
        };
    }
    Ok(if is_def {
        None
    } else {
        done.iter().rev().find(|d| d.is_defaults)
    })
}

/// Copies what a section inherits from its defaults.
fn inherit(st: &mut ProxyState, b: &ProxyState) {
    let (name, kind, at) = (st.px.name.clone(), st.px.kind, st.px.at.clone());
    st.px = Proxy {
        name,
        kind,
        at,
        ..b.px.clone()
    };
    // HAProxy does not copy a defaults section's server-state-file-name
    // (a backend's own file is then named after the backend).
    st.px.server_state_file_name = None;
    // Defaults cannot hold these; keep the copy honest anyway.
    st.px.binds.clear();
    st.px.servers.clear();
    st.px.use_backends.clear();
    if !kind.is_backend() {
        st.px.balance = Balance::RoundRobin;
    }
    if !kind.is_frontend() {
        st.px.options.httplog = false;
        st.px.options.httpslog = false;
        st.px.options.tcplog = false;
        st.px.options.httplog_clf = false;
        st.px.log_format = None;
    }
    st.template = b.template.clone();
    st.pending = b.pending.clone();
    st.httplog_at = b.httplog_at.clone();
    // The persistence cookie is a backend setting.
    st.cookie = b.cookie && kind.is_backend();
    if !kind.is_backend() {
        st.px.cookie = None;
    }
}

/// Handles a section header line. `done` holds the sections before it.
pub fn start_section(done: &[ProxyState], ctx: &mut Ctx) -> Option<ProxyState> {
    let is_def = ctx.arg(0) == "defaults";
    let kind = match ctx.arg(0) {
        "frontend" => ProxyKind::Frontend,
        "backend" => ProxyKind::Backend,
        _ => ProxyKind::Listen,
    };
    // `defaults from x` is a nameless defaults section inheriting from x.
    let (name, from_at) =
        if is_def && ctx.arg(1) == "from" && !ctx.arg(2).is_empty() && ctx.arg(3).is_empty() {
            (String::new(), 1)
        } else {
            (ctx.arg(1).to_string(), 2)
        };
    if !is_def && !check_header(done, ctx, kind, &name) {
        return None;
    }
    let base = base(done, ctx, from_at, kind, is_def, &name).ok()?;
    let mut st = fresh(&name, kind, ctx.at);
    if let Some(b) = base {
        inherit(&mut st, b);
    }
    st.is_defaults = is_def;
    st.earlier_ids = done
        .iter()
        .filter(|d| !d.is_defaults)
        .filter_map(|d| {
            let px = &d.px;
            px.id
                .map(|id| (id, px.kind.cap_str(), px.name.clone(), px.at.clone()))
        })
        .collect();
    // A proxy always has a defaults proxy (an empty one if none was
    // declared); a defaults section only when it names one with `from`.
    st.base_timeouts = match base {
        Some(b) => Some(b.px.timeouts),
        None if is_def => None,
        None => Some(Timeouts::default()),
    };
    Some(st)
}
