//! `server <name> <addr>[:port] [settings]` and `default-server [settings]`.
//!
//! A `server` starts as a copy of the proxy's `default-server` template, so
//! `default-server inter 1s` then `server s1 ... check` checks every second.
//! The settings themselves are in server_kw.rs; this file handles the line,
//! the address, and the checks HAProxy makes once a line is complete.

use super::bind::parse_host;
use super::global::Runtime;
use super::parse::Ctx;
use super::server_kw::{Draft, SERVER_KEYWORDS};
use super::units::{parse_time_ms, trailing_warning, Time};
use super::{CheckSettings, Server, ServerPort};
use std::net::{IpAddr, Ipv4Addr};

/// The `default-server` template of a fresh proxy: HAProxy's defaults.
pub fn template() -> Draft {
    Draft::new(Server {
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
        slowstart: 0,
        minconn: None,
        cookie: None,
        id: None,
        check: CheckSettings::default(),
    })
}

/// Applies `settings` (the words after the address). `prefix` is how
/// errors name the server (`'server be/s1' : ` or empty), `label` how
/// unimplemented settings are recorded (`server` or `default-server`).
fn apply_settings(d: &mut Draft, settings: &[String], ctx: &mut Ctx, prefix: &str, label: &str) {
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
            if let Some(m) = k.missing.filter(|m| !m.is_empty()) {
                ctx.alert(format!("[{at}] : {prefix}{}.", m.replace("{kw}", name)));
                return;
            }
        }
        if name.ends_with("inter") {
            if let Ok(Time {
                trailing: Some(c), ..
            }) = parse_time_ms(value)
            {
                ctx.warn(format!("[{at}] : {prefix}{}", trailing_warning(c, value)));
            }
        }
        if let Err(msg) = (k.parse)(d, name, value) {
            ctx.alert(format!("[{at}] : {prefix}{msg}."));
            return;
        }
        if k.runtime == Runtime::No {
            ctx.unimplemented(format!("{label} {name}"));
        }
        i += 1 + k.nargs;
    }
}

/// What HAProxy checks once a server line is complete.
fn finish_line(d: &Draft, ctx: &mut Ctx, prefix: &str) {
    let at = ctx.at.clone();
    if d.agent_check && !d.agent_port {
        let msg = format!(
            "[{at}] : {prefix}server {} does not have agent port. Agent check has been disabled.",
            d.srv.name
        );
        ctx.alert(msg);
    }
    if d.tfo {
        ctx.warn(format!("[{at}] : {prefix}server has tfo activated, the backend should be configured with at least 'conn-failure', 'empty-response' and 'response-timeout' or we wouldn't be able to retry the connection on failure."));
    }
}

/// `server <name> <addr>[:port] [settings]`; `proxy` names the backend.
pub fn parse_server(template: &Draft, proxy: &str, ctx: &mut Ctx) -> Option<Draft> {
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
    let mut d = template.clone();
    d.srv = Server {
        name,
        at: at.clone(),
        ip,
        fqdn: fqdn.clone(),
        port,
        ..template.srv.clone()
    };
    if fqdn.is_some() && ip.is_unspecified() {
        ctx.unimplemented(format!("server {} (unresolved)", ctx.arg(2)));
    }
    let settings = ctx.args[3..].to_vec();
    apply_settings(&mut d, &settings, ctx, &prefix, "server");
    if ctx.failed {
        return None;
    }
    finish_line(&d, ctx, &prefix);
    (!ctx.failed).then_some(d)
}

/// `default-server [settings]`: updates the proxy's template.
pub fn parse_default_server(template: &mut Draft, ctx: &mut Ctx) {
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
        let mut d = template();
        d.srv.name = "s1".into();
        let kw = |n: &str| SERVER_KEYWORDS.iter().find(|k| k.name == n).unwrap();
        assert_eq!(
            (kw("weight").parse)(&mut d, "weight", "300").unwrap_err(),
            "weight of server s1 is not within 0 and 256 (300)."
        );
        assert_eq!(
            (kw("rise").parse)(&mut d, "rise", "0").unwrap_err(),
            "'rise' has to be > 0."
        );
        assert!((kw("inter").parse)(&mut d, "inter", "1.5s")
            .unwrap_err()
            .contains("'agent-inter'"));
        (kw("inter").parse)(&mut d, "inter", "5000").unwrap();
        assert_eq!(d.srv.check.inter, std::time::Duration::from_secs(5));
    }
}
