//! The server keyword table (HAProxy's `srv_kws`, server.c and check.c):
//! what may follow `server <name> <addr>` or `default-server`.
//!
//! Each row: name, number of values, the message HAProxy prints when the
//! value is missing (None: a missing value is accepted, as `atol("")`
//! does in HAProxy; Some(""): the parser itself reports), the parser,
//! engine support, documentation. Errors are wrapped by the caller as
//! `[file:line] : 'server be/s1' : <message>.`, which gives HAProxy's
//! double dots. Its quirks are kept: the `inter` family reports a bad unit
//! as an 'agent-inter' argument, `slowstart` without a value prints a
//! truncated message.

use super::global::Runtime;
use super::parse::atol;
use super::units::{parse_time_ms, TimeError};
use super::{Observe, OnError, Server};
use std::time::Duration;

/// A server while its line is parsed: the model plus the settings that
/// only matter for validation.
#[derive(Debug, Clone)]
pub struct Draft {
    pub srv: Server,
    pub ssl: bool,
    pub check_ssl: bool,
    pub verify_none: bool,
    pub ca_file: bool,
    pub agent_check: bool,
    pub agent_port: bool,
    pub tfo: bool,
    pub redir: Option<String>,
    pub resolvers: Option<String>,
    pub track: Option<String>,
}

impl Draft {
    pub fn new(srv: Server) -> Self {
        Draft {
            srv,
            ssl: false,
            check_ssl: false,
            verify_none: false,
            ca_file: false,
            agent_check: false,
            agent_port: false,
            tfo: false,
            redir: None,
            resolvers: None,
            track: None,
        }
    }
}

type Parse = fn(&mut Draft, &str, &str) -> Result<(), String>;

pub struct ServerKeyword {
    pub name: &'static str,
    /// Values after the keyword.
    pub nargs: usize,
    pub missing: Option<&'static str>,
    pub parse: Parse,
    pub runtime: Runtime,
    pub doc: &'static str,
}

const fn kw(
    name: &'static str,
    nargs: usize,
    missing: Option<&'static str>,
    parse: Parse,
    runtime: Runtime,
    doc: &'static str,
) -> ServerKeyword {
    ServerKeyword {
        name,
        nargs,
        missing,
        parse,
        runtime,
        doc,
    }
}

use Runtime::{No, Yes};

const DELAY: Option<&str> = Some("'{kw}' expects a delay as argument.");
const INTEGER: Option<&str> = Some("'{kw}' expects an integer argument.");
const SELF: Option<&str> = Some("");

/// Server settings, alphabetical. Keywords HAProxy has but that are not
/// listed here are refused as unknown (with HAProxy's suggestion).
#[rustfmt::skip]
pub const SERVER_KEYWORDS: &[ServerKeyword] = &[
    kw("addr", 1, Some("'addr' expects <ipv4|ipv6> as argument."), addr, Yes, "addr <ip>: health checks go to this address."),
    kw("agent-check", 0, None, |d, _, _| { d.agent_check = true; Ok(()) }, No, "agent-check: enable the agent check."),
    kw("agent-inter", 1, DELAY, |d, k, v| delay(&d.srv, k, v).map(drop), No, "agent-inter <delay>."),
    kw("agent-port", 1, Some("'agent-port' expects a port number as argument."), |d, _, _| { d.agent_port = true; Ok(()) }, No, "agent-port <port>."),
    kw("backup", 0, None, |d, _, _| { d.srv.backup = true; Ok(()) }, Yes, "backup: used only when no active server is up."),
    kw("ca-file", 1, Some("'ca-file' : missing CAfile path"), |d, _, _| { d.ca_file = true; Ok(()) }, No, "ca-file <file>: CAs to verify the server with."),
    kw("check", 0, None, |d, _, _| { d.srv.check.enabled = true; Ok(()) }, Yes, "check: enable health checks."),
    kw("check-send-proxy", 0, None, nothing, No, "check-send-proxy: PROXY header on checks."),
    kw("check-ssl", 0, None, |d, _, _| { d.check_ssl = true; Ok(()) }, No, "check-ssl: checks over SSL."),
    kw("cookie", 1, Some("'cookie' expects <value> as argument."), |d, _, v| { d.srv.cookie = Some(v.into()); Ok(()) }, Yes, "cookie <value>: persistence cookie value."),
    kw("disabled", 0, None, |d, _, _| { d.srv.disabled = true; Ok(()) }, Yes, "disabled: start in maintenance."),
    kw("downinter", 1, DELAY, |d, k, v| { d.srv.check.downinter = Some(delay(&d.srv, k, v)?); Ok(()) }, Yes, "downinter <delay>: check interval while down."),
    kw("error-limit", 1, INTEGER, error_limit, Yes, "error-limit <n>: observed errors in a row before on-error (default 10)."),
    kw("enabled", 0, None, |d, _, _| { d.srv.disabled = false; Ok(()) }, Yes, "enabled: start in service."),
    kw("fall", 1, INTEGER, |d, k, v| { d.srv.check.fall = positive(k, v)?; Ok(()) }, Yes, "fall <n>: failures before DOWN (default 3)."),
    kw("fastinter", 1, DELAY, |d, k, v| { d.srv.check.fastinter = Some(delay(&d.srv, k, v)?); Ok(()) }, Yes, "fastinter <delay>: interval while changing state."),
    kw("id", 1, Some("'id' : expects an integer argument"), id, Yes, "id <n>: numeric identifier."),
    kw("init-addr", 1, None, init_addr, No, "init-addr <methods>: how to resolve at startup."),
    kw("inter", 1, DELAY, |d, k, v| { d.srv.check.inter = delay(&d.srv, k, v)?; Ok(()) }, Yes, "inter <delay>: check interval (default 2s)."),
    kw("maxconn", 1, None, |d, _, v| { d.srv.maxconn = Some(count(v)); Ok(()) }, Yes, "maxconn <n>: concurrent connections."),
    kw("maxqueue", 1, None, |d, _, v| { d.srv.maxqueue = Some(count(v)); Ok(()) }, Yes, "maxqueue <n>: queued requests."),
    kw("minconn", 1, None, |d, _, v| { d.srv.minconn = Some(count(v)); Ok(()) }, Yes, "minconn <n>: dynamic maxconn floor."),
    kw("no-backup", 0, None, |d, _, _| { d.srv.backup = false; Ok(()) }, Yes, "no-backup: undo a default-server backup."),
    kw("no-check", 0, None, |d, _, _| { d.srv.check.enabled = false; Ok(()) }, Yes, "no-check: undo a default-server check."),
    kw("no-ssl", 0, None, |d, _, _| { d.ssl = false; Ok(()) }, No, "no-ssl: undo a default-server ssl."),
    kw("observe", 1, Some("'observe' expects <mode> as argument."), observe, Yes, "observe none|layer4|layer7: traffic errors count as failed checks."),
    kw("on-error", 1, SELF, on_error, Yes, "on-error fastinter|fail-check|sudden-death|mark-down: what error-limit observed errors do."),
    kw("on-marked-down", 1, SELF, on_marked_down, Yes, "on-marked-down shutdown-sessions: cut its connections when it goes DOWN."),
    kw("on-marked-up", 1, SELF, on_marked_up, Yes, "on-marked-up shutdown-backup-sessions: an active server back UP cuts the backups' connections."),
    kw("port", 1, Some("'port' expects a port number as argument."), port, Yes, "port <port>: health checks go to this port."),
    kw("redir", 1, Some("'redir' expects <prefix> as argument."), |d, _, v| { d.redir = Some(v.into()); Ok(()) }, No, "redir <prefix>: redirect GET/HEAD to this server."),
    kw("resolvers", 1, SELF, |d, _, v| { d.resolvers = Some(v.into()); Ok(()) }, No, "resolvers <id>."),
    kw("rise", 1, INTEGER, |d, k, v| { d.srv.check.rise = positive(k, v)?; Ok(()) }, Yes, "rise <n>: successes before UP (default 2)."),
    kw("send-proxy", 0, None, nothing, No, "send-proxy: PROXY protocol v1."),
    kw("send-proxy-v2", 0, None, nothing, No, "send-proxy-v2: PROXY protocol v2."),
    kw("slowstart", 1, SELF, slowstart, Yes, "slowstart <delay>: warm-up after coming back UP."),
    kw("source", 1, Some("'source' expects <addr>[:<port>[-<port>]], and optionally 'usesrc' <addr>, and 'interface' <name> as argument."), nothing, No, "source <addr>."),
    kw("ssl", 0, None, |d, _, _| { d.ssl = true; Ok(()) }, No, "ssl: connect over SSL."),
    kw("tfo", 0, None, |d, _, _| { d.tfo = true; Ok(()) }, No, "tfo: TCP fast open."),
    kw("track", 1, Some("'track' expects [<proxy>/]<server> as argument."), |d, _, v| { d.track = Some(v.into()); Ok(()) }, No, "track [<proxy>/]<server>."),
    kw("verify", 1, Some("'verify' : missing verify method"), verify, No, "verify none|required."),
    kw("weight", 1, None, weight, Yes, "weight <0..256>: share of the load (default 1)."),
];

fn nothing(_: &mut Draft, _: &str, _: &str) -> Result<(), String> {
    Ok(())
}

fn count(v: &str) -> u32 {
    atol(v).clamp(0, i64::from(u32::MAX)) as u32
}

fn addr(d: &mut Draft, kw: &str, v: &str) -> Result<(), String> {
    let ip = super::bind::parse_host(v, v, false).map_err(|e| format!("'{kw}' : {e}"))?;
    d.srv.check.addr = Some(ip);
    Ok(())
}

/// `port x` is accepted by HAProxy (atol gives 0): no check port then.
fn port(d: &mut Draft, _: &str, v: &str) -> Result<(), String> {
    let p = atol(v);
    d.srv.check.port = (1..=65535).contains(&p).then_some(p as u16);
    Ok(())
}

fn weight(d: &mut Draft, _: &str, v: &str) -> Result<(), String> {
    let w = atol(v);
    if !(0..=256).contains(&w) {
        return Err(format!(
            "weight of server {} is not within 0 and 256 ({w}).",
            d.srv.name
        ));
    }
    d.srv.weight = w as u32;
    Ok(())
}

fn positive(kw: &str, v: &str) -> Result<u32, String> {
    let n = atol(v);
    if n <= 0 {
        return Err(format!("'{kw}' has to be > 0."));
    }
    Ok(n.min(i64::from(u32::MAX)) as u32)
}

fn id(d: &mut Draft, kw: &str, v: &str) -> Result<(), String> {
    let n = atol(v);
    if n <= 0 {
        return Err(format!("'{kw}' : custom id has to be > 0"));
    }
    d.srv.id = Some(n as u32);
    Ok(())
}

fn init_addr(_: &mut Draft, kw: &str, v: &str) -> Result<(), String> {
    for m in v.split(',').filter(|m| !m.is_empty()) {
        if !matches!(m, "libc" | "last" | "none") && m.parse::<std::net::IpAddr>().is_err() {
            return Err(format!(
                "'{kw}' : unknown init-addr method '{m}', supported methods are 'libc', 'last', 'none'."
            ));
        }
    }
    Ok(())
}

fn observe(d: &mut Draft, kw: &str, v: &str) -> Result<(), String> {
    d.srv.check.observe = match v {
        "none" => Observe::None,
        "layer4" => Observe::Layer4,
        "layer7" => Observe::Layer7,
        _ => {
            return Err(format!(
                "'{kw}' expects one of 'none', 'layer4', 'layer7' but got '{v}'"
            ))
        }
    };
    Ok(())
}

fn on_error(d: &mut Draft, kw: &str, v: &str) -> Result<(), String> {
    d.srv.check.on_error = match v {
        "fastinter" => OnError::FastInter,
        "fail-check" => OnError::FailCheck,
        "sudden-death" => OnError::SuddenDeath,
        "mark-down" => OnError::MarkDown,
        _ => {
            return Err(format!(
            "'{kw}' expects one of 'fastinter', 'fail-check', 'sudden-death' or 'mark-down' but got '{v}'"
        ))
        }
    };
    Ok(())
}

fn error_limit(d: &mut Draft, _: &str, v: &str) -> Result<(), String> {
    let n = atol(v);
    if n <= 0 {
        return Err("error-limit has to be > 0.".into());
    }
    d.srv.check.error_limit = n.min(i64::from(u32::MAX)) as u32;
    Ok(())
}

fn on_marked_down(d: &mut Draft, kw: &str, v: &str) -> Result<(), String> {
    if v != "shutdown-sessions" {
        return Err(format!("'{kw}' expects 'shutdown-sessions' but got '{v}'"));
    }
    d.srv.check.shutdown_on_down = true;
    Ok(())
}

fn on_marked_up(d: &mut Draft, kw: &str, v: &str) -> Result<(), String> {
    if v != "shutdown-backup-sessions" {
        return Err(format!(
            "'{kw}' expects 'shutdown-backup-sessions' but got '{v}'"
        ));
    }
    d.srv.check.shutdown_backups_on_up = true;
    Ok(())
}

fn verify(d: &mut Draft, kw: &str, v: &str) -> Result<(), String> {
    match v {
        "none" => d.verify_none = true,
        "required" => d.verify_none = false,
        _ => {
            return Err(format!(
                "'{kw}' : unknown verify method '{v}', only 'none' and 'required' are supported"
            ))
        }
    }
    Ok(())
}

/// HAProxy prints the NUL it stopped on, which cuts its message short.
fn slowstart(d: &mut Draft, kw: &str, v: &str) -> Result<(), String> {
    match parse_time_ms(v) {
        Ok(t) => {
            d.srv.slowstart = t.ms.div_ceil(1000).try_into().unwrap_or(u32::MAX);
            Ok(())
        }
        Err(TimeError::Empty) => Err("unexpected character '".into()),
        Err(TimeError::Char(c)) => {
            Err(format!("unexpected character '{c}' in '{kw}' argument of server {}.", d.srv.name))
        }
        Err(_) => Err(format!("timer overflow in argument <{v}> to <{kw}> of server {}, maximum value is 2147483647 ms (~24.8 days).", d.srv.name)),
    }
}

/// HAProxy's check-interval parser (with its 'agent-inter' wording).
pub fn delay(s: &Server, kw: &str, v: &str) -> Result<Duration, String> {
    let t = parse_time_ms(v).map_err(|e| match e {
        TimeError::Over => format!(
            "timer overflow in argument <{v}> to <{kw}> of server {}, maximum value is 2147483647 ms (~24.8 days).",
            s.name
        ),
        TimeError::Under => format!(
            "timer underflow in argument <{v}> to <{kw}> of server {}, minimum non-null value is 1 ms.",
            s.name
        ),
        TimeError::Char(c) => {
            format!("unexpected character '{c}' in 'agent-inter' argument of server {}.", s.name)
        }
        TimeError::Empty => format!("'{kw}' expects a delay as argument."),
    })?;
    if t.ms == 0 {
        return Err(format!(
            "invalid value 0 for argument '{kw}' of server {}.",
            s.name
        ));
    }
    Ok(t.duration())
}
