//! The proxy keyword table (`defaults`, `frontend`, `backend`, `listen`
//! sections; their headers are in section.rs) and the state of a proxy
//! while it is parsed.
//!
//! Each table row says which capability the keyword needs (HAProxy warns
//! about most keywords a proxy has no capability for, then applies them
//! anyway, but refuses `server`/`default-server`), whether `defaults` may
//! hold it, and what the engine runtime supports.

use super::bind::parse_bind;
use super::global::parse_log;
use super::listen_http::{errorfile, errorloc, stats};
use super::parse::{atol, Ctx, Kwm};
use super::server::{parse_default_server, parse_server};
use super::server_kw::Draft;
use super::timeout::timeout;
use super::units::{parse_time_ms, TimeError};
use super::{acl, http_request, shape};
use super::{options, suggest};
use super::{Balance, LoadServerState, Location, Mode, Proxy, ProxyKind, Timeouts, Unimplemented};

/// What the engine runtime does with a directive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    Yes,
    No,
    /// HAProxy ignores it outside `mode http`: unimplemented only there.
    HttpOnly,
    /// Runs in `mode http`; not built for `mode tcp` yet.
    HttpYes,
    /// The parser decides and calls [`ProxyState::note`].
    Parser,
}

/// A server setting HAProxy validates after parsing (mode, resolvers
/// sections and tracked servers are known only then).
#[derive(Debug, Clone)]
pub struct ServerCheck {
    pub at: Location,
    pub server: String,
    pub cookie: bool,
    pub redir: bool,
    pub resolvers: Option<String>,
    pub track: Option<String>,
    /// SSL with certificate verification but no CA file.
    pub verify_without_ca: bool,
}

/// An unimplemented directive waiting to know its proxy's final mode.
#[derive(Debug, Clone)]
pub struct Pending {
    pub item: Unimplemented,
    pub http_only: bool,
    pub http_yes: bool,
}

/// A proxy or defaults section while it is being parsed.
#[derive(Debug, Clone)]
pub struct ProxyState {
    pub px: Proxy,
    /// The forced ids of the proxies declared before (HAProxy's
    /// used_proxy_id tree), with their kind, name and place.
    pub earlier_ids: Vec<(u32, &'static str, String, Location)>,
    pub is_defaults: bool,
    /// The `default-server` template.
    pub template: Draft,
    /// Server settings checked once the whole configuration is known.
    pub server_checks: Vec<ServerCheck>,
    /// The timeouts of the defaults this section started from (None for a
    /// defaults section without `from`), to spot a timeout set twice.
    pub base_timeouts: Option<Timeouts>,
    /// A `cookie` (persistence) keyword was given.
    pub cookie: bool,
    /// `bind` addresses with `ssl` but no `crt` (refused after parsing).
    pub ssl_binds_without_crt: Vec<(String, Location)>,
    pub pending: Vec<Pending>,
    /// Where `option httplog` was set (HAProxy's tcp-mode warning cites it).
    pub httplog_at: Option<Location>,
    /// The section has `tcp-check` lines of its own (which replace those
    /// of its defaults).
    pub own_tcp_check: bool,
}

/// `id <n>`: a forced proxy id, unique among proxies.
fn proxy_id(p: &mut ProxyState, ctx: &mut Ctx) {
    let at = ctx.at.clone();
    // Refused here rather than by the table: HAProxy's wording differs.
    if p.is_defaults {
        ctx.alert(format!(
            "parsing [{at}]: 'id' not allowed in 'defaults' section."
        ));
        return;
    }
    if ctx.too_many_args(1, 0) {
        return;
    }
    if ctx.arg(1).is_empty() {
        ctx.alert(format!(
            "parsing [{at}]: '{}' expects an integer argument.",
            ctx.arg(0)
        ));
        return;
    }
    // HAProxy keeps atol's long in an int.
    let uuid = atol(ctx.arg(1)) as i32;
    if uuid <= 0 {
        ctx.alert(format!("parsing [{at}]: custom id has to be > 0."));
        return;
    }
    let uuid = uuid as u32;
    let (cap, name) = (p.px.kind.cap_str(), p.px.name.clone());
    // A second `id` in the same proxy finds the proxy's own entry in
    // HAProxy's tree, whatever the value, and HAProxy has already changed
    // the proxy's id to the new one.
    let clash = match p.px.id.replace(uuid) {
        Some(_) => Some((cap, name.clone(), p.px.at.clone())),
        None => p
            .earlier_ids
            .iter()
            .find(|(id, ..)| *id == uuid)
            .map(|(_, c, n, a)| (*c, n.clone(), a.clone())),
    };
    if let Some((their_cap, their_name, their_at)) = clash {
        ctx.alert(format!(
            "parsing [{at}]: {cap} {name} reuses same custom id as {their_cap} {their_name} (declared at {their_at})."
        ));
    }
}

impl ProxyState {
    /// Records `label` as unimplemented according to `support`.
    pub fn note(&mut self, ctx: &Ctx, label: String, support: Support) {
        if matches!(support, Support::Yes | Support::Parser) {
            return;
        }
        let section = if self.is_defaults {
            "defaults"
        } else {
            self.px.kind.as_str()
        };
        self.pending.push(Pending {
            item: Unimplemented {
                at: ctx.at.clone(),
                keyword: label,
                section: section.into(),
            },
            http_only: support == Support::HttpOnly,
            http_yes: support == Support::HttpYes,
        });
    }

    /// The "type" HAProxy prints for this proxy (`proxy_type_str`).
    pub fn type_str(&self) -> &'static str {
        if self.is_defaults {
            return "defaults";
        }
        match self.px.kind {
            ProxyKind::Listen => "proxy",
            k => k.as_str(),
        }
    }
}

/// Needed capability of a keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cap {
    Fe,
    Be,
    Any,
}

pub struct ProxyKeyword {
    pub name: &'static str,
    pub cap: Cap,
    /// Allowed in a `defaults` section.
    pub in_defaults: bool,
    pub support: Support,
    pub parse: fn(&mut ProxyState, &mut Ctx),
    pub doc: &'static str,
}

const fn kw(
    name: &'static str,
    cap: Cap,
    in_defaults: bool,
    support: Support,
    parse: fn(&mut ProxyState, &mut Ctx),
    doc: &'static str,
) -> ProxyKeyword {
    ProxyKeyword {
        name,
        cap,
        in_defaults,
        support,
        parse,
        doc,
    }
}

use Support::{HttpYes, No, Parser, Yes};

/// The proxy keywords, alphabetical. Columns: name, capability needed,
/// allowed in `defaults`, engine support, parser, documentation. Rows
/// parsed by `shape::argsN` are recognised and argument-checked only: the
/// engine does not implement them, so they always land in `unimplemented`.
#[rustfmt::skip]
pub const PROXY_KEYWORDS: &[ProxyKeyword] = &[
    kw("acl", Cap::Any, false, HttpYes, acl::parse_acl_line, "acl <name> <criterion> [flags] [operator] <value>..."),
    kw("backlog", Cap::Fe, true, Yes, backlog, "backlog <n>: listen queue of the binds without their own; default the frontend's maxconn."),
    kw("balance", Cap::Be, true, Parser, balance, "balance <algorithm> [args]: default roundrobin."),
    kw("bind", Cap::Fe, false, Parser, bind, "bind <addr>[,<addr>...] [options]."),
    kw("capture", Cap::Fe, false, No, shape::check, "capture cookie|request header|response header ..."),
    kw("clitimeout", Cap::Any, true, Yes, removed, "removed in 2.1: timeout client."),
    kw("compression", Cap::Any, true, No, shape::check, "compression algo|type|offload ..."),
    kw("contimeout", Cap::Any, true, Yes, removed, "removed in 2.1: timeout connect."),
    kw("cookie", Cap::Be, true, Yes, cookie, "cookie <name> [insert|rewrite|prefix] [indirect] [nocache]..."),
    kw("declare", Cap::Fe, false, No, shape::check, "declare capture request|response len <n>."),
    kw("default-server", Cap::Be, true, Parser, default_server, "default-server [settings]: template for servers."),
    kw("default_backend", Cap::Fe, true, Yes, default_backend, "default_backend <backend>."),
    kw("description", Cap::Any, false, No, shape::description, "description <text>."),
    kw("disabled", Cap::Any, true, Yes, disabled, "disabled: the proxy does not start."),
    kw("dispatch", Cap::Be, false, No, dispatch, "dispatch <addr>:<port>: server of last resort."),
    kw("email-alert", Cap::Any, true, No, shape::check, "email-alert from|to|level|mailers|myhostname <value>."),
    kw("enabled", Cap::Any, true, Yes, disabled, "enabled: undo `disabled`."),
    kw("errorfile", Cap::Any, true, Yes, errorfile, "errorfile <code> <file>."),
    kw("errorfiles", Cap::Any, true, No, shape::check, "errorfiles <http-errors section> [<code>...]."),
    kw("errorloc", Cap::Any, true, Yes, errorloc, "errorloc <code> <url>: 302 redirect."),
    kw("errorloc302", Cap::Any, true, Yes, errorloc, "errorloc302 <code> <url>."),
    kw("errorloc303", Cap::Any, true, Yes, errorloc, "errorloc303 <code> <url>."),
    kw("external-check", Cap::Be, true, No, shape::check, "external-check command|path <value>."),
    kw("force-persist", Cap::Be, false, No, shape::check, "force-persist if|unless <cond>."),
    kw("fullconn", Cap::Be, true, Yes, fullconn, "fullconn <n>: dynamic maxconn reference."),
    kw("hash-type", Cap::Be, true, Parser, hash_type, "hash-type map-based|consistent [<function>] [avalanche]."),
    kw("http-after-response", Cap::Any, false, No, shape::http_response, "http-after-response <action> [if|unless <cond>]."),
    kw("http-check", Cap::Be, true, Parser, super::http_check::parse, "http-check disable-on-404 | send ... | expect [!] status|rstatus|string|rstring <pattern>."),
    kw("http-error", Cap::Any, true, No, shape::check, "http-error status <code> [content-type ...]."),
    kw("http-request", Cap::Any, false, Parser, http_request::parse_http_request, "http-request <action> [if|unless <cond>]."),
    kw("http-response", Cap::Any, false, Parser, http_request::parse_http_response, "http-response <action> [if|unless <cond>]."),
    kw("http-reuse", Cap::Be, true, No, shape::check, "http-reuse never|safe|aggressive|always."),
    kw("http-send-name-header", Cap::Be, false, No, shape::check, "http-send-name-header [<name>]."),
    kw("id", Cap::Any, true, Yes, proxy_id, "id <n>: numeric proxy identifier."),
    kw("ignore-persist", Cap::Be, false, No, shape::check, "ignore-persist if|unless <cond>."),
    kw("load-server-state-from-file", Cap::Be, true, Yes, load_server_state, "load-server-state-from-file global|local|none."),
    kw("log", Cap::Any, true, Parser, log, "log global | log <addr> <facility> [level]."),
    kw("log-format", Cap::Any, true, Yes, log_format, "log-format <format>: the frontend's own log line."),
    kw("log-tag", Cap::Any, true, No, shape::check, "log-tag <tag>."),
    kw("max-keep-alive-queue", Cap::Be, true, No, shape::check, "max-keep-alive-queue <n>."),
    kw("maxconn", Cap::Fe, true, Yes, maxconn, "maxconn <n>: concurrent connections of this frontend."),
    kw("mode", Cap::Any, true, Parser, mode, "mode tcp|http: default tcp."),
    kw("monitor", Cap::Fe, false, No, shape::check, "monitor fail if|unless <cond>."),
    kw("monitor-uri", Cap::Fe, true, No, shape::check, "monitor-uri <uri>."),
    kw("option", Cap::Any, true, Parser, options::parse, "[no] option <name> [args]."),
    kw("persist", Cap::Be, true, Yes, persist, "persist rdp-cookie[(<name>)]: the RDP cookie names the server."),
    kw("rate-limit", Cap::Fe, true, No, shape::check, "rate-limit sessions <rate>."),
    kw("redirect", Cap::Any, false, Yes, acl::parse_redirect, "redirect location|prefix|scheme <to> [code N] [if|unless <cond>]."),
    kw("retries", Cap::Be, true, Yes, retries, "retries <n>: connection retries (default 3)."),
    kw("retry-on", Cap::Be, true, No, shape::check, "retry-on <events>."),
    kw("server", Cap::Be, false, Parser, server, "server <name> <addr>[:port] [settings]."),
    kw("server-state-file-name", Cap::Be, true, Yes, server_state_file_name, "server-state-file-name [<file>|use-backend-name]: the local state file."),
    kw("server-template", Cap::Be, false, No, server_template, "server-template <prefix> <num> <fqdn>[:port] [settings]."),
    kw("source", Cap::Be, true, No, shape::check, "source <addr>[:port] [usesrc ...]."),
    kw("srvtimeout", Cap::Any, true, Yes, removed, "removed in 2.1: timeout server."),
    kw("stats", Cap::Any, true, Parser, stats, "stats enable|uri|auth|realm|hide-version|refresh."),
    kw("stick", Cap::Be, false, No, shape::check, "stick match|on|store-request|store-response <pattern>."),
    kw("stick-table", Cap::Any, false, No, stick_table, "stick-table type <type> size <size> ..."),
    kw("tcp-check", Cap::Be, true, Parser, super::tcp_check::parse, "tcp-check connect|send|send-binary|expect|comment ... ."),
    kw("tcp-request", Cap::Any, false, Parser, super::tcp_request::parse, "tcp-request inspect-delay <time> | content accept|reject [if|unless <cond>]."),
    kw("tcp-response", Cap::Be, false, No, shape::check, "tcp-response content|inspect-delay ..."),
    kw("timeout", Cap::Any, true, Parser, timeout, "timeout <name> <delay>."),
    kw("unique-id-format", Cap::Fe, true, No, shape::check, "unique-id-format <format>."),
    kw("unique-id-header", Cap::Fe, true, No, shape::check, "unique-id-header <name>."),
    kw("use-server", Cap::Be, false, No, shape::check, "use-server <server> [if|unless <cond>]."),
    kw("use_backend", Cap::Fe, false, HttpYes, acl::parse_use_backend, "use_backend <backend> [if|unless <cond>]."),
];

/// Parses one line of a proxy or defaults section.
pub fn parse(p: &mut ProxyState, ctx: &mut Ctx) {
    let name = ctx.arg(0).to_string();
    let here = ctx.here();
    let Some(k) = PROXY_KEYWORDS.iter().find(|k| k.name == name) else {
        let section = if p.is_defaults {
            "defaults"
        } else {
            p.px.kind.as_str()
        };
        let cands = suggest::LISTEN_REGISTERED
            .iter()
            .chain(suggest::LISTEN_COMMON)
            .copied();
        let hint =
            suggest::best_match(&name, cands).map(|b| format!("; did you mean '{b}' maybe ?"));
        ctx.alert(format!(
            "{here} : unknown keyword '{name}' in '{section}' section{}",
            hint.unwrap_or_default()
        ));
        return;
    };
    if p.is_defaults && !k.in_defaults {
        let rule = matches!(name.as_str(), "acl" | "http-request");
        // Named defaults may carry ACLs and http-request rules (2.5+).
        if !rule || p.px.name.is_empty() {
            let msg = match name.as_str() {
                "server" => format!("[{}] : 'server' not allowed in 'defaults' section.", ctx.at),
                _ if rule => {
                    format!("{here} : '{name}' not allowed in anonymous 'defaults' section.")
                }
                _ => format!("{here} : '{name}' not allowed in 'defaults' section."),
            };
            ctx.alert(msg);
            return;
        }
    }
    if !p.is_defaults && !has_cap(p.px.kind, k.cap) {
        let need = if k.cap == Cap::Fe {
            "no frontend"
        } else {
            "no backend"
        };
        if matches!(name.as_str(), "server" | "default-server") {
            ctx.alert(format!(
                "[{}] : {here} : '{name}' not allowed because {} '{}' has {need} capability.",
                ctx.at,
                p.type_str(),
                p.px.name
            ));
            return;
        }
        // HAProxy warns, then (except for `stick`) parses the line anyway:
        // a backend's `default_backend` is still checked, a frontend's
        // `balance` still applies.
        let hint = match name.as_str() {
            "maxconn" => " Maybe you want 'fullconn' instead ?",
            "fullconn" => " Maybe you want 'maxconn' instead ?",
            _ => "",
        };
        ctx.warn(format!(
            "{here} : '{name}' ignored because {} '{}' has {need} capability.{hint}",
            p.type_str(),
            p.px.name
        ));
        if name == "stick" {
            return;
        }
    }
    (k.parse)(p, ctx);
    if !ctx.failed {
        for label in std::mem::take(&mut ctx.unimplemented) {
            p.note(ctx, label, Support::No);
        }
        p.note(ctx, name, k.support);
    }
}

pub fn has_cap(kind: ProxyKind, cap: Cap) -> bool {
    match cap {
        Cap::Fe => kind.is_frontend(),
        Cap::Be => kind.is_backend(),
        Cap::Any => true,
    }
}

fn removed(_: &mut ProxyState, ctx: &mut Ctx) {
    let new = match ctx.arg(0) {
        "contimeout" => "timeout connect",
        "clitimeout" => "timeout client",
        _ => "timeout server",
    };
    let msg = format!(
        "{} : the '{}' directive is not supported anymore since HAProxy 2.1. Use '{new}'.",
        ctx.here(),
        ctx.arg(0)
    );
    ctx.alert(msg);
}

fn mode(p: &mut ProxyState, ctx: &mut Ctx) {
    if ctx.too_many_args(1, 0) {
        return;
    }
    let here = ctx.here();
    match ctx.arg(1) {
        "http" => {
            p.px.mode = Mode::Http;
        }
        "tcp" => p.px.mode = Mode::Tcp,
        "health" => ctx.alert(format!(
            "{here} : 'mode health' doesn't exist anymore. Please use 'http-request return status 200' instead."
        )),
        other => ctx.alert(format!("{here} : unknown proxy mode '{other}'.")),
    }
}

/// HAProxy's "'<kw>' expects an integer argument<extra>." for a missing value.
fn missing_integer(ctx: &mut Ctx, extra: &str) -> bool {
    if !ctx.arg(1).is_empty() {
        return false;
    }
    let msg = format!(
        "{} : '{}' expects an integer argument{extra}.",
        ctx.here(),
        ctx.arg(0)
    );
    ctx.alert(msg);
    true
}

fn maxconn(p: &mut ProxyState, ctx: &mut Ctx) {
    if !ctx.too_many_args(1, 0) && !missing_integer(ctx, "") {
        p.px.maxconn = Some(atol(ctx.arg(1)).clamp(0, i64::from(u32::MAX)) as u32);
    }
}

/// `backlog <n>`: atol's long kept in an unsigned int, as HAProxy does (so
/// `-1` is the largest, which the kernel caps); 0 (also from junk) means
/// unset.
fn backlog(p: &mut ProxyState, ctx: &mut Ctx) {
    if !missing_integer(ctx, "") && !ctx.too_many_args(1, 0) {
        p.px.backlog = Some(atol(ctx.arg(1)) as u32).filter(|&n| n > 0);
    }
}

fn retries(p: &mut ProxyState, ctx: &mut Ctx) {
    if !ctx.too_many_args(1, 0) && !missing_integer(ctx, " (dispatch counts for one)") {
        p.px.retries = atol(ctx.arg(1)).clamp(0, i64::from(u32::MAX)) as u32;
    }
}

/// `load-server-state-from-file global|local|none` (HAProxy checks no
/// extra argument).
fn load_server_state(p: &mut ProxyState, ctx: &mut Ctx) {
    p.px.load_server_state = Some(match ctx.arg(1) {
        "global" => LoadServerState::Global,
        "local" => LoadServerState::Local,
        "none" => LoadServerState::None,
        other => {
            let msg = format!(
                "{} : '{}' expects 'global', 'local' or 'none'. Got '{other}'",
                ctx.here(),
                ctx.arg(0)
            );
            ctx.alert(msg);
            return;
        }
    });
}

/// `server-state-file-name [<file>|use-backend-name]`: without a name,
/// the section's own (as HAProxy copies it at this line).
fn server_state_file_name(p: &mut ProxyState, ctx: &mut Ctx) {
    if ctx.too_many_args(1, 0) {
        return;
    }
    let name = match ctx.arg(1) {
        "" | "use-backend-name" => p.px.name.clone(),
        file => file.to_string(),
    };
    p.px.server_state_file_name = Some(name);
}

fn bind(p: &mut ProxyState, ctx: &mut Ctx) {
    let section = p.px.kind.as_str();
    if let Some((b, ssl_without_crt)) = parse_bind(ctx, section) {
        if let Some(taken) =
            b.id.and_then(|id| p.px.binds.iter().find(|o| o.id == Some(id)))
        {
            let msg = format!(
                "{} : 'bind {}' in section '{section}' : 'id' : custom id {} already used at {} ('bind {}')",
                ctx.here(),
                ctx.arg(1),
                b.id.unwrap_or_default(),
                taken.at,
                taken.text,
            );
            ctx.alert(msg);
            return;
        }
        if ssl_without_crt {
            p.ssl_binds_without_crt
                .push((ctx.arg(1).to_string(), ctx.at.clone()));
        }
        p.px.binds.push(b);
    }
}

fn server(p: &mut ProxyState, ctx: &mut Ctx) {
    let name = p.px.name.clone();
    if let Some(d) = parse_server(&p.template, &name, ctx) {
        // HAProxy judges by the mode in force at the server line.
        if d.srv.check.observe == super::Observe::Layer7 && p.px.mode != Mode::Http {
            let at = ctx.at.clone();
            let srv = d.srv.name.clone();
            ctx.alert(format!(
                "[{at}] : 'server {name}/{srv}' : 'layer7' can only be used in http proxies.."
            ));
            return;
        }
        p.server_checks.push(ServerCheck {
            at: ctx.at.clone(),
            server: d.srv.name.clone(),
            cookie: d.srv.cookie.is_some(),
            redir: d.redir.is_some(),
            resolvers: d.resolvers.clone(),
            track: d.track.clone(),
            verify_without_ca: (d.ssl || d.check_ssl) && !d.verify_none && !d.ca_file,
        });
        p.px.servers.push(d.srv);
    }
}

fn default_server(p: &mut ProxyState, ctx: &mut Ctx) {
    parse_default_server(&mut p.template, ctx);
}

fn default_backend(p: &mut ProxyState, ctx: &mut Ctx) {
    if ctx.too_many_args(1, 0) {
        return;
    }
    if ctx.arg(1).is_empty() {
        let msg = format!("{} : '{}' expects a backend name.", ctx.here(), ctx.arg(0));
        ctx.alert(msg);
        return;
    }
    p.px.default_backend = Some(ctx.arg(1).to_string());
}

fn log(p: &mut ProxyState, ctx: &mut Ctx) {
    if ctx.kwm == Kwm::No {
        p.px.log.clear();
        p.px.log_global = false;
        return;
    }
    if ctx.arg(1) == "global" {
        if !ctx.too_many_args(1, 0) {
            p.px.log_global = true;
        }
        return;
    }
    if let Some(t) = parse_log(ctx, true) {
        p.px.log.push(t);
    }
}

/// `log-format <string>`: checked once the proxy's mode is known (see
/// check.rs), as HAProxy does.
fn log_format(p: &mut ProxyState, ctx: &mut Ctx) {
    shape::check(p, ctx);
    if ctx.failed {
        return;
    }
    options::warn_override(p, ctx, true, "log-format");
    if !p.is_defaults && !p.px.kind.is_frontend() {
        ctx.warn(format!(
            "{} : backend '{}' : 'log-format' directive is ignored in backends.",
            ctx.here(),
            p.px.name
        ));
    }
    let o = &mut p.px.options;
    (o.httplog, o.httplog_clf, o.httpslog, o.tcplog) = (false, false, false, false);
    p.httplog_at = None;
    p.px.log_format = Some(super::CustomLogFormat {
        format: ctx.arg(1).to_string(),
        at: ctx.at.clone(),
    });
}

fn balance(p: &mut ProxyState, ctx: &mut Ctx) {
    let here = ctx.here();
    let algo = ctx.arg(1).to_string();
    let args: Vec<String> = ctx.args.iter().skip(2).cloned().collect();
    let b = match algo.as_str() {
        // HAProxy (atol-style) accepts a bare `balance`: nothing changes.
        "" => return,
        "roundrobin" => Balance::RoundRobin,
        "static-rr" => Balance::StaticRr,
        "leastconn" => Balance::LeastConn,
        "first" => Balance::First,
        "source" => Balance::Source,
        "uri" => Balance::Uri(args),
        "url_param" if !args.is_empty() => Balance::UrlParam(args),
        "url_param" => {
            ctx.alert(format!(
                "{here} : 'balance url_param' requires an URL parameter name."
            ));
            return;
        }
        a if a.starts_with("hdr(") && a.ends_with(')') && a.len() > 5 => Balance::Hdr {
            name: a[4..a.len() - 1].to_string(),
            use_domain_only: ctx.arg(2) == "use_domain_only",
        },
        "hash" => match (ctx.arg(2), ctx.arg(3)) {
            ("", _) => {
                ctx.alert(format!(
                    "{here} : balance hash requires a sample expression."
                ));
                return;
            }
            (_, extra) if !extra.is_empty() => {
                ctx.alert(format!(
                    "{here} : balance hash takes no other argument (got '{extra}')."
                ));
                return;
            }
            (expr, _) => Balance::Hash(expr.to_string()),
        },
        "rdp-cookie" => Balance::RdpCookie(None),
        a if a.starts_with("rdp-cookie(") && a.ends_with(')') => {
            Balance::RdpCookie(Some(a[11..a.len() - 1].to_string()))
        }
        "random" => Balance::Random(2),
        a if a.starts_with("random(") && a.ends_with(')') => {
            Balance::Random(atol(&a[7..a.len() - 1]).max(1) as u32)
        }
        _ => {
            ctx.alert(format!("{here} : balance only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', 'hdr(name)' and 'rdp-cookie(name)' options."));
            return;
        }
    };
    let built = matches!(
        b,
        Balance::RoundRobin
            | Balance::StaticRr
            | Balance::LeastConn
            | Balance::First
            | Balance::Source
            | Balance::Uri(_)
            | Balance::Hdr { .. }
            | Balance::Random(_)
            | Balance::UrlParam(_)
            | Balance::RdpCookie(_)
            // The runtime refuses the expressions it cannot evaluate.
            | Balance::Hash(_)
    );
    if !built {
        p.note(ctx, format!("balance {}", b.name()), Support::No);
    }
    p.px.balance = b;
}

/// `persist rdp-cookie[(<name>)]`, read as HAProxy reads it (any word
/// starting with `rdp-cookie`).
fn persist(p: &mut ProxyState, ctx: &mut Ctx) {
    if ctx.too_many_args(1, 0) {
        return;
    }
    let here = ctx.here();
    let method = ctx.arg(1).to_string();
    let Some(rest) = method.strip_prefix("rdp-cookie") else {
        let what = if method.is_empty() {
            "missing"
        } else {
            "unknown"
        };
        ctx.alert(format!("{here} : {what} persist method."));
        return;
    };
    let name = match rest.strip_prefix('(') {
        None if rest.is_empty() => Some("msts"),
        None => None,
        Some(inner) => inner
            .split_once(')')
            .map(|(n, _)| n)
            .filter(|n| !n.is_empty()),
    };
    match name {
        Some(n) => p.px.persist_rdp = Some(n.to_string()),
        None => ctx.alert(format!(
            "{here} : persist rdp-cookie(name)' requires an rdp cookie name."
        )),
    }
}

fn fullconn(p: &mut ProxyState, ctx: &mut Ctx) {
    if ctx.too_many_args(1, 0) {
        return;
    }
    if ctx.arg(1).is_empty() {
        let msg = format!(
            "{} : '{}' expects an integer argument.",
            ctx.here(),
            ctx.arg(0)
        );
        ctx.alert(msg);
        return;
    }
    // HAProxy keeps atol's value; 0 means "computed".
    p.px.fullconn = Some(atol(ctx.arg(1)) as u32).filter(|&n| n > 0);
}

/// `hash-type map-based|consistent [sdbm|djb2|wt6|crc32|none] [avalanche]`.
fn hash_type(p: &mut ProxyState, ctx: &mut Ctx) {
    let here = ctx.here();
    if !matches!(ctx.arg(1), "map-based" | "consistent") {
        ctx.alert(format!(
            "{here} : '{}' only supports 'consistent' and 'map-based'.",
            ctx.arg(0)
        ));
        return;
    }
    let f = ctx.arg(2).to_string();
    if !f.is_empty() && !matches!(f.as_str(), "sdbm" | "djb2" | "wt6" | "crc32" | "none") {
        ctx.alert(format!(
            "{here} : '{}' only supports 'sdbm', 'djb2', 'crc32', or 'wt6' hash functions.",
            ctx.arg(0)
        ));
        return;
    }
    if !matches!(ctx.arg(3), "" | "avalanche") {
        ctx.alert(format!(
            "{here} : '{}' only supports 'avalanche' as a modifier for hash functions.",
            ctx.arg(0)
        ));
        return;
    }
    let consistent = ctx.arg(1) == "consistent";
    // HAProxy: `consistent` with no function also implies avalanche.
    let avalanche = ctx.arg(3) == "avalanche" || (consistent && f.is_empty());
    let function = (!f.is_empty()).then_some(f);
    p.px.hash_type = crate::config::HashType {
        consistent,
        function,
        avalanche,
    };
}

/// `disabled` / `enabled`: a disabled proxy does not start.
fn disabled(p: &mut ProxyState, ctx: &mut Ctx) {
    if !ctx.too_many_args(0, 0) {
        p.px.disabled = ctx.arg(0) == "disabled";
    }
}

fn dispatch(_: &mut ProxyState, ctx: &mut Ctx) {
    let here = ctx.here();
    if ctx.arg(1).is_empty() {
        ctx.alert(format!(
            "{here} : 'dispatch' : '' resolves to an empty address (environment variable missing?)\n"
        ));
    } else if let Err(e) = super::bind::parse_addr(ctx.arg(1), false) {
        ctx.alert(format!("{here} : 'dispatch' : {e}"));
    }
}

fn server_template(_: &mut ProxyState, ctx: &mut Ctx) {
    let at = ctx.at.clone();
    if ctx.arg(3).is_empty() {
        ctx.alert(format!("[{at}] : 'server-template' expects <prefix> <nb | range> <addr>[:<port>] as arguments."));
        return;
    }
    let range = ctx.arg(2).to_string();
    let ok = range
        .split('-')
        .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if !ok {
        ctx.alert(format!(
            "[{at}] : Wrong server-template number or range arg '{range}'."
        ));
    }
}

/// `stick-table type <type> size <size> [expire ..] [nopurge] [peers ..] [store ..]...`.
fn stick_table(_: &mut ProxyState, ctx: &mut Ctx) {
    let here = ctx.here();
    let mut i = 1;
    let mut size = false;
    while !ctx.arg(i).is_empty() {
        let w = ctx.arg(i).to_string();
        let takes_value = matches!(
            w.as_str(),
            "type" | "size" | "expire" | "peers" | "store" | "srvkey" | "write-to" | "len"
        );
        if !takes_value && w != "nopurge" {
            ctx.alert(format!("{here} : stick-table: unknown argument '{w}'."));
            return;
        }
        size |= w == "size";
        let value = ctx.arg(i + 1).to_string();
        let bad = match w.as_str() {
            "size" => super::units::parse_size(&value)
                .err()
                .map(|c| c.unwrap_or(' ')),
            "expire" => match parse_time_ms(&value) {
                Err(TimeError::Char(c)) => Some(c),
                _ => None,
            },
            _ => None,
        };
        if let Some(c) = bad {
            ctx.alert(format!(
                "{here} : stick-table: unexpected character '{c}' in argument of '{w}'."
            ));
            return;
        }
        i += if takes_value { 2 } else { 1 };
    }
    if !size {
        ctx.alert(format!("{here} : stick-table: missing size."));
    }
}

fn cookie(p: &mut ProxyState, ctx: &mut Ctx) {
    p.cookie = true;
    if ctx.arg(1).is_empty() {
        let msg = format!(
            "{} : '{}' expects <cookie_name> as argument.",
            ctx.here(),
            ctx.arg(0)
        );
        ctx.alert(msg);
        return;
    }
    let mut i = 2;
    while !ctx.arg(i).is_empty() {
        let w = ctx.arg(i).to_string();
        let valued = matches!(w.as_str(), "domain" | "maxidle" | "maxlife" | "attr");
        let flag = matches!(
            w.as_str(),
            "rewrite"
                | "insert"
                | "prefix"
                | "indirect"
                | "nocache"
                | "postonly"
                | "httponly"
                | "secure"
                | "preserve"
                | "dynamic"
        );
        if !valued && !flag {
            let msg = format!("{} : '{}' supports 'rewrite', 'insert', 'prefix', 'indirect', 'nocache', 'postonly', 'domain', 'maxidle', 'dynamic', 'maxlife' and 'attr' options.", ctx.here(), ctx.arg(0));
            ctx.alert(msg);
            return;
        }
        if valued && ctx.arg(i + 1).is_empty() {
            let what = match w.as_str() {
                "domain" => "<domain>",
                "maxidle" => "<idletime> in seconds",
                "maxlife" => "<lifetime> in seconds",
                _ => "<value>",
            };
            let msg = format!("parsing [{}]: '{w}' expects {what} as argument.", ctx.at);
            ctx.alert(msg);
            return;
        }
        if w == "domain" && !ctx.arg(i + 1).contains('.') {
            let msg = format!(
                "parsing [{}]: domain '{}' contains no embedded dot, this configuration may not work properly (see RFC6265#5.2.3).",
                ctx.at,
                ctx.arg(i + 1)
            );
            ctx.warn(msg);
        }
        i += if valued { 2 } else { 1 };
    }
    let words: Vec<&str> = (1..i).map(|k| ctx.arg(k)).collect();
    match super::cookie::Persistence::parse(&words) {
        Ok(persistence) => p.px.cookie = Some(persistence),
        Err(e) => {
            let msg = format!("parsing [{}] : {e}", ctx.at);
            ctx.alert(msg);
            return;
        }
    }
    if words.contains(&"dynamic") {
        ctx.unimplemented("cookie dynamic");
    }
}
