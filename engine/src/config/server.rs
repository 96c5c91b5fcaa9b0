//! `server <name> <addr>[:port] [settings]` and `default-server [settings]`:
//! the server keyword table (HAProxy's `srv_kws`, server.c and check.c).
//!
//! A `server` starts as a copy of the proxy's `default-server` template, so
//! `default-server inter 1s` then `server s1 ... check` checks every second.
//! Error texts are HAProxy's, including its quirks (the `inter` parsers
//! report a bad unit as an 'agent-inter' argument; errors end with "..").

use super::bind::parse_host;
use super::global::Runtime;
use super::parse::{atol, Ctx};
use super::units::{parse_time_ms, trailing_warning, Time, TimeError};
use super::{CheckSettings, Server, ServerPort};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

pub struct ServerKeyword {
    pub name: &'static str,
    /// Values after the keyword.
    pub nargs: usize,
    pub parse: fn(&mut Server, &str, &str) -> Result<(), String>,
    pub runtime: Runtime,
    pub doc: &'static str,
}

const fn kw(
    name: &'static str,
    nargs: usize,
    parse: fn(&mut Server, &str, &str) -> Result<(), String>,
    runtime: Runtime,
    doc: &'static str,
) -> ServerKeyword {
    ServerKeyword {
        name,
        nargs,
        parse,
        runtime,
        doc,
    }
}

use Runtime::{No, Yes};

/// Server settings, alphabetical. Keywords HAProxy has but that are not
/// listed here are refused as unknown.
#[rustfmt::skip]
pub const SERVER_KEYWORDS: &[ServerKeyword] = &[
    kw("addr", 1, addr, Yes, "addr <ip>: health checks go to this address."),
    kw("agent-check", 0, nothing, No, "agent-check: enable the agent check."),
    kw("agent-inter", 1, nothing, No, "agent-inter <delay>."),
    kw("agent-port", 1, nothing, No, "agent-port <port>."),
    kw("backup", 0, set_backup, Yes, "backup: used only when no active server is up."),
    kw("check", 0, set_check, Yes, "check: enable health checks."),
    kw("check-send-proxy", 0, nothing, No, "check-send-proxy: PROXY header on checks."),
    kw("check-ssl", 0, nothing, No, "check-ssl: checks over SSL."),
    kw("cookie", 1, set_cookie, No, "cookie <value>: persistence cookie value."),
    kw("disabled", 0, set_disabled, Yes, "disabled: start in maintenance."),
    kw("downinter", 1, downinter, Yes, "downinter <delay>: check interval while down."),
    kw("enabled", 0, set_enabled, Yes, "enabled: start in service."),
    kw("fall", 1, fall, Yes, "fall <n>: failures before DOWN (default 3)."),
    kw("fastinter", 1, fastinter, Yes, "fastinter <delay>: interval while changing state."),
    kw("id", 1, id, No, "id <n>: numeric identifier."),
    kw("init-addr", 1, nothing, No, "init-addr <methods>: how to resolve at startup."),
    kw("inter", 1, inter, Yes, "inter <delay>: check interval (default 2s)."),
    kw("maxconn", 1, set_maxconn, Yes, "maxconn <n>: concurrent connections."),
    kw("maxqueue", 1, set_maxqueue, No, "maxqueue <n>: queued requests."),
    kw("minconn", 1, nothing, No, "minconn <n>: dynamic maxconn floor."),
    kw("no-backup", 0, no_backup, Yes, "no-backup: undo a default-server backup."),
    kw("no-check", 0, no_check, Yes, "no-check: undo a default-server check."),
    kw("observe", 1, nothing, No, "observe layer4|layer7."),
    kw("on-error", 1, nothing, No, "on-error <mode>."),
    kw("on-marked-down", 1, nothing, No, "on-marked-down shutdown-sessions."),
    kw("port", 1, port, Yes, "port <port>: health checks go to this port."),
    kw("redir", 1, nothing, No, "redir <prefix>: redirect GET/HEAD to this server."),
    kw("resolvers", 1, nothing, No, "resolvers <id>."),
    kw("rise", 1, rise, Yes, "rise <n>: successes before UP (default 2)."),
    kw("send-proxy", 0, nothing, No, "send-proxy: PROXY protocol v1."),
    kw("send-proxy-v2", 0, nothing, No, "send-proxy-v2: PROXY protocol v2."),
    kw("slowstart", 1, nothing, No, "slowstart <delay>."),
    kw("source", 1, nothing, No, "source <addr>."),
    kw("ssl", 0, nothing, No, "ssl: connect over SSL."),
    kw("tfo", 0, nothing, No, "tfo: TCP fast open."),
    kw("track", 1, nothing, No, "track [<proxy>/]<server>."),
    kw("verify", 1, nothing, No, "verify none|required."),
    kw("weight", 1, weight, Yes, "weight <0..256>: share of the load (default 1)."),
];

fn nothing(_: &mut Server, _: &str, _: &str) -> Result<(), String> {
    Ok(())
}

fn set_backup(s: &mut Server, _: &str, _: &str) -> Result<(), String> {
    s.backup = true;
    Ok(())
}

fn no_backup(s: &mut Server, _: &str, _: &str) -> Result<(), String> {
    s.backup = false;
    Ok(())
}

fn set_check(s: &mut Server, _: &str, _: &str) -> Result<(), String> {
    s.check.enabled = true;
    Ok(())
}

fn no_check(s: &mut Server, _: &str, _: &str) -> Result<(), String> {
    s.check.enabled = false;
    Ok(())
}

fn set_disabled(s: &mut Server, _: &str, _: &str) -> Result<(), String> {
    s.disabled = true;
    Ok(())
}

fn set_enabled(s: &mut Server, _: &str, _: &str) -> Result<(), String> {
    s.disabled = false;
    Ok(())
}

fn set_cookie(s: &mut Server, _: &str, v: &str) -> Result<(), String> {
    s.cookie = Some(v.to_string());
    Ok(())
}

fn set_maxconn(s: &mut Server, _: &str, v: &str) -> Result<(), String> {
    s.maxconn = Some(atol(v).clamp(0, i64::from(u32::MAX)) as u32);
    Ok(())
}

fn set_maxqueue(s: &mut Server, _: &str, v: &str) -> Result<(), String> {
    s.maxqueue = Some(atol(v).clamp(0, i64::from(u32::MAX)) as u32);
    Ok(())
}

fn addr(s: &mut Server, kw: &str, v: &str) -> Result<(), String> {
    let ip = v
        .parse::<IpAddr>()
        .map_err(|_| format!("'{kw}' : invalid address '{v}'"))?;
    s.check.addr = Some(ip);
    Ok(())
}

fn port(s: &mut Server, kw: &str, v: &str) -> Result<(), String> {
    let p = atol(v);
    if !(1..=65535).contains(&p) {
        return Err(format!("'{kw}' expects a valid port number (got '{v}')"));
    }
    s.check.port = Some(p as u16);
    Ok(())
}

fn weight(s: &mut Server, _: &str, v: &str) -> Result<(), String> {
    let w = atol(v);
    if !(0..=256).contains(&w) {
        return Err(format!(
            "weight of server {} is not within 0 and 256 ({w}).",
            s.name
        ));
    }
    s.weight = w as u32;
    Ok(())
}

fn positive(kw: &str, v: &str) -> Result<u32, String> {
    let n = atol(v);
    if n <= 0 {
        return Err(format!("'{kw}' has to be > 0."));
    }
    Ok(n.min(i64::from(u32::MAX)) as u32)
}

fn rise(s: &mut Server, kw: &str, v: &str) -> Result<(), String> {
    s.check.rise = positive(kw, v)?;
    Ok(())
}

fn fall(s: &mut Server, kw: &str, v: &str) -> Result<(), String> {
    s.check.fall = positive(kw, v)?;
    Ok(())
}

fn id(s: &mut Server, kw: &str, v: &str) -> Result<(), String> {
    let n = atol(v);
    if n <= 0 {
        return Err(format!("'{kw}' : custom id has to be > 0."));
    }
    s.id = Some(n as u32);
    Ok(())
}

/// HAProxy's check-interval parser (with its 'agent-inter' wording).
fn delay(s: &Server, kw: &str, v: &str) -> Result<Duration, String> {
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

fn inter(s: &mut Server, kw: &str, v: &str) -> Result<(), String> {
    s.check.inter = delay(s, kw, v)?;
    Ok(())
}

fn fastinter(s: &mut Server, kw: &str, v: &str) -> Result<(), String> {
    s.check.fastinter = Some(delay(s, kw, v)?);
    Ok(())
}

fn downinter(s: &mut Server, kw: &str, v: &str) -> Result<(), String> {
    s.check.downinter = Some(delay(s, kw, v)?);
    Ok(())
}

/// The `default-server` template of a fresh proxy: HAProxy's defaults.
pub fn template() -> Server {
    Server {
        name: "default-server".into(),
        at: super::Location {
            file: String::new(),
            line: 0,
        },
        ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        fqdn: None,
        port: ServerPort::SameAsClient,
        weight: 1,
        backup: false,
        disabled: false,
        maxconn: None,
        maxqueue: None,
        cookie: None,
        id: None,
        check: CheckSettings::default(),
    }
}

/// Applies `settings` (the words after the address) to `srv`. `prefix` is
/// how errors name the server (`'server be/s1' : ` or empty).
fn apply_settings(srv: &mut Server, settings: &[String], ctx: &mut Ctx, prefix: &str, label: &str) {
    let at = ctx.at.clone();
    let mut i = 0;
    while i < settings.len() {
        let name = settings[i].as_str();
        let Some(k) = SERVER_KEYWORDS.iter().find(|k| k.name == name) else {
            let best = super::suggest::best_match(name, super::suggest::SERVER.iter().copied());
            let hint = if label == "default-server" {
                " Hint: no address was expected for this server."
            } else {
                ""
            };
            let msg = match best {
                Some(b) => format!(
                    "[{at}] : {prefix}unknown keyword '{name}'; did you mean '{b}' maybe ?{hint}"
                ),
                None => format!("[{at}] : {prefix}unknown keyword '{name}'.{hint}"),
            };
            ctx.alert(msg);
            return;
        };
        let value = settings.get(i + 1).map(String::as_str).unwrap_or("");
        if k.nargs > 0 && value.is_empty() {
            let what = if name.ends_with("inter") {
                "a delay"
            } else {
                "an integer argument"
            };
            let msg = if what == "a delay" {
                format!("'{name}' expects a delay as argument.")
            } else {
                format!("'{name}' expects {what}.")
            };
            ctx.alert(format!("[{at}] : {prefix}{msg}."));
            return;
        }
        if name.ends_with("inter") {
            if let Ok(Time {
                trailing: Some(c), ..
            }) = parse_time_ms(value)
            {
                ctx.warn(format!("[{at}] : {prefix}{}", trailing_warning(c, value)));
            }
        }
        if let Err(msg) = (k.parse)(srv, name, value) {
            ctx.alert(format!("[{at}] : {prefix}{msg}."));
            return;
        }
        if k.runtime == Runtime::No {
            ctx.unimplemented(format!("{label} {name}"));
        }
        i += 1 + k.nargs;
    }
}

/// `server <name> <addr>[:port] [settings]`; `proxy` names the backend.
pub fn parse_server(template: &Server, proxy: &str, ctx: &mut Ctx) -> Option<Server> {
    let at = ctx.at.clone();
    if ctx.arg(1).is_empty() || ctx.arg(2).is_empty() {
        ctx.alert(format!(
            "[{at}] : 'server' expects <name> and <addr>[:<port>] as arguments."
        ));
        return None;
    }
    let name = ctx.arg(1).to_string();
    let prefix = format!("'server {proxy}/{name}' : ");
    let (ip, fqdn, port) = match parse_server_addr(ctx.arg(2)) {
        Ok(a) => a,
        Err(msg) => {
            ctx.alert(format!("[{at}] : {prefix}{msg}"));
            return None;
        }
    };
    let mut srv = Server {
        name,
        at: at.clone(),
        ip,
        fqdn: fqdn.clone(),
        port,
        ..template.clone()
    };
    if fqdn.is_some() && ip.is_unspecified() {
        ctx.unimplemented(format!("server {} (unresolved)", ctx.arg(2)));
    }
    let settings = ctx.args[3..].to_vec();
    apply_settings(&mut srv, &settings, ctx, &prefix, "server");
    (!ctx.failed).then_some(srv)
}

/// `default-server [settings]`: updates the proxy's template.
pub fn parse_default_server(template: &mut Server, ctx: &mut Ctx) {
    let mut t = template.clone();
    let settings = ctx.args[1..].to_vec();
    apply_settings(&mut t, &settings, ctx, "", "default-server");
    if !ctx.failed {
        *template = t;
    }
}

/// `addr[:port]`, `addr:+N`, `addr:-N`; no ranges. A host name is kept
/// and resolved here if possible; HAProxy's `-c` never resolves it, so a
/// failure is not an error.
fn parse_server_addr(text: &str) -> Result<(IpAddr, Option<String>, ServerPort), String> {
    let rest = text
        .strip_prefix("ipv4@")
        .or_else(|| text.strip_prefix("ipv6@"))
        .unwrap_or(text);
    // As in HAProxy, the port follows the *last* colon, IPv6 included.
    let (host, port) = rest.rsplit_once(':').unwrap_or((rest, ""));
    if port.contains('-') && !port.starts_with('-') {
        return Err(format!("port range not permitted here in '{text}'"));
    }
    let port = if port.is_empty() {
        ServerPort::SameAsClient
    } else if let Some(off) = port
        .strip_prefix('+')
        .or_else(|| port.strip_prefix('-').map(|_| port))
    {
        let n: i32 = off.parse().map_err(|_| format!("invalid port '{port}'"))?;
        ServerPort::Offset(n)
    } else {
        match port.parse::<u32>() {
            Ok(p) if p <= 65535 => ServerPort::Fixed(p as u16),
            _ => return Err(format!("invalid port '{port}'")),
        }
    };
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok((ip, None, port));
    }
    let ip = parse_host(host, text, false).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    Ok((ip, Some(host.to_string()), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_forms() {
        let p = |s| parse_server_addr(s).unwrap();
        assert_eq!(p("1.2.3.4:80").2, ServerPort::Fixed(80));
        assert_eq!(p("1.2.3.4").2, ServerPort::SameAsClient);
        assert_eq!(p("1.2.3.4:+10").2, ServerPort::Offset(10));
        assert_eq!(p("1.2.3.4:-1").2, ServerPort::Offset(-1));
        assert_eq!(p("::1:80").0, "::1".parse::<IpAddr>().unwrap());
        let (ip, fqdn, _) = p("foo@1.2.3.4:80");
        assert!(ip.is_unspecified() && fqdn.as_deref() == Some("foo@1.2.3.4"));
        assert_eq!(
            parse_server_addr("1.2.3.4:99999").unwrap_err(),
            "invalid port '99999'"
        );
        assert_eq!(
            parse_server_addr("1.2.3.4:80-90").unwrap_err(),
            "port range not permitted here in '1.2.3.4:80-90'"
        );
    }

    #[test]
    fn keyword_errors() {
        let mut s = template();
        s.name = "s1".into();
        assert_eq!(
            weight(&mut s, "weight", "300").unwrap_err(),
            "weight of server s1 is not within 0 and 256 (300)."
        );
        assert_eq!(
            rise(&mut s, "rise", "0").unwrap_err(),
            "'rise' has to be > 0."
        );
        assert!(inter(&mut s, "inter", "1.5s")
            .unwrap_err()
            .contains("'agent-inter'"));
        inter(&mut s, "inter", "5000").unwrap();
        assert_eq!(s.check.inter, Duration::from_secs(5));
    }
}
