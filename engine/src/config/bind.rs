//! Addresses (`str2sa_range` in HAProxy) and the `bind` keyword.
//!
//! `[ipv4@|ipv6@]host:port[-port]`, `*:80` / `:80` (IPv4 any), `:::80`
//! (IPv6 any), `unix@/path` or `/path`, `abns@name` (a Unix path starting
//! with NUL), `fd@<n>`. The port is split at the
//! *last* colon, so `::1:80` is `[::1]:80`. Host names resolve at load time
//! as HAProxy does (first address returned).
//!
//! Bind options are recognised (an unknown one is an error with HAProxy's
//! suggestion); the runtime implements `name`, `id` and `backlog`, and
//! each other one is recorded as unimplemented under `bind <option>`.

use super::parse::{atol, Ctx};
use super::suggest;
use super::{Bind, BindAddr, LogDest};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

/// Why an address was refused; the text follows `'bind' : `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddrError {
    #[error("missing port specification in '{0}'")]
    MissingPort(String),
    #[error("invalid port '{0}'")]
    InvalidPort(String),
    #[error("invalid address: '{host}' in '{full}'")]
    InvalidHost { host: String, full: String },
    #[error("port range not permitted here in '{0}'")]
    Range(String),
    #[error("unsupported address family in '{0}'")]
    Family(String),
    #[error("dgram-type address not acceptable in '{0}'")]
    Dgram(String),
}

/// Resolves the host part of an address (`*` and empty mean "any").
pub fn parse_host(host: &str, full: &str, v6: bool) -> Result<IpAddr, AddrError> {
    if host.is_empty() || host == "*" {
        return Ok(if v6 {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        });
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(ip);
    }
    let bad = || AddrError::InvalidHost {
        host: host.to_string(),
        full: full.to_string(),
    };
    let valid_name = host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if !valid_name {
        return Err(bad());
    }
    let mut addrs = (host, 0).to_socket_addrs().map_err(|_| bad())?;
    addrs.next().map(|a| a.ip()).ok_or_else(bad)
}

fn parse_port(p: &str) -> Option<u16> {
    if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    p.parse::<u16>().ok().filter(|&n| n > 0)
}

/// Parses a comma-separated list of listening addresses.
pub fn parse_addr(text: &str, allow_unix: bool) -> Result<Vec<BindAddr>, AddrError> {
    text.split(',')
        .map(|one| parse_one(one, allow_unix))
        .collect()
}

fn parse_one(full: &str, allow_unix: bool) -> Result<BindAddr, AddrError> {
    let (family, rest) = match full.split_once('@') {
        Some((f, r)) => (f, r),
        None => ("", full),
    };
    match family {
        "unix" if allow_unix => return Ok(BindAddr::Unix(PathBuf::from(rest))),
        "" if allow_unix && rest.starts_with('/') => {
            return Ok(BindAddr::Unix(PathBuf::from(rest)))
        }
        "fd" => {
            let fd = rest
                .parse::<i32>()
                .map_err(|_| AddrError::InvalidPort(rest.to_string()))?;
            return Ok(BindAddr::Fd(fd));
        }
        // Linux abstract namespace: a Unix path whose first byte is NUL.
        "abns" if allow_unix => return Ok(BindAddr::Unix(PathBuf::from(format!("\0{rest}")))),
        "udp" | "udp4" | "udp6" | "quic4" | "quic6" => {
            return Err(AddrError::Dgram(full.to_string()))
        }
        "" | "ipv4" | "ipv6" => {}
        _ => return Err(AddrError::Family(full.to_string())),
    }
    let Some((host, ports)) = rest.rsplit_once(':') else {
        return Err(AddrError::MissingPort(full.to_string()));
    };
    let (first, last) = match ports.split_once('-') {
        Some((a, b)) => (a, b),
        None => (ports, ports),
    };
    let invalid = || AddrError::InvalidPort(ports.to_string());
    let port_first = parse_port(first).ok_or_else(invalid)?;
    let port_last = parse_port(last).ok_or_else(invalid)?;
    if port_last < port_first {
        return Err(invalid());
    }
    let ip = parse_host(host, full, family == "ipv6" || host == "::")?;
    Ok(BindAddr::Inet {
        ip,
        port_first,
        port_last,
    })
}

/// A `log` target's address, as HAProxy's `parse_logsrv` reads it
/// (`str2sa_range` with an optional port, name resolution, raw file
/// descriptors, datagram and stream families). Errors carry HAProxy's
/// text after `log : `, its trailing newline included where it has one.
/// Ok(None): a form HAProxy accepts that the engine does not send to
/// (rings, stream targets, `fd@`, abstract and stream unix sockets, host
/// names, addresses that are not an IP literal with an optional port).
pub fn parse_log_addr(full: &str) -> Result<Option<LogDest>, String> {
    match full {
        "stdout" => return Ok(Some(LogDest::Stdout)),
        "stderr" => return Ok(Some(LogDest::Stderr)),
        _ => {}
    }
    if full.starts_with("ring@") {
        return Ok(None);
    }
    for forced in ["stream+", "dgram+"] {
        if let Some(rest) = full.strip_prefix(forced) {
            return parse_log_addr(rest).map(|_| None);
        }
    }
    if let Some(path) = full.strip_prefix("unix@") {
        return Ok(Some(LogDest::Unix(PathBuf::from(path))));
    }
    if full.starts_with('/') {
        return Ok(Some(LogDest::Unix(PathBuf::from(full))));
    }
    if ["uxdg@", "uxst@", "abns@"]
        .iter()
        .any(|f| full.starts_with(f))
    {
        return Ok(None);
    }
    for fd in ["fd@", "sockpair@"] {
        if let Some(n) = full.strip_prefix(fd) {
            let valid = !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit());
            if !valid {
                return Err(format!(
                    "file descriptor '{n}' is not a valid integer in '{full}'\n"
                ));
            }
            return Ok(None);
        }
    }
    // The families the engine sends to, then the others it only checks.
    const SENT: [&str; 5] = ["udp@", "udp4@", "udp6@", "ipv4@", "ipv6@"];
    const CHECKED: [&str; 6] = ["ip@", "tcp@", "tcp4@", "tcp6@", "quic4@", "quic6@"];
    let (family, rest) = SENT
        .iter()
        .chain(&CHECKED)
        .find_map(|f| full.strip_prefix(f).map(|r| (*f, r)))
        .unwrap_or(("", full));
    check_log_inet(rest, full, family.contains('6'))?;
    if !family.is_empty() && !SENT.contains(&family) {
        return Ok(None);
    }
    let addr = rest.parse::<SocketAddr>().ok().or_else(|| {
        rest.parse::<IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, SYSLOG_PORT))
    });
    Ok(addr.map(LogDest::Udp))
}

/// syslog's UDP port, for a `log` address that names none.
pub const SYSLOG_PORT: u16 = 514;

/// str2sa_range's checks of `host[:port]` for a `log` target: the port is
/// what follows the last colon not inside brackets, optional, single, at
/// most 65535; the host an IP address or a name that resolves.
fn check_log_inet(rest: &str, full: &str, v6: bool) -> Result<(), String> {
    // HAProxy scans from the end for ':' or ']', never looking at the
    // first character.
    let cut = rest
        .char_indices()
        .skip(1)
        .filter(|&(_, c)| c == ':' || c == ']')
        .last();
    let (host, port) = match cut {
        Some((i, ':')) => (&rest[..i], &rest[i + 1..]),
        _ => (rest, ""),
    };
    match port.chars().next() {
        Some(c) if c.is_ascii_digit() => {
            if port.contains('-') {
                return Err(format!("port range not permitted here in '{full}'"));
            }
            let digits: String = port.chars().take_while(char::is_ascii_digit).collect();
            if digits.parse::<u32>().map_or(true, |p| p > 65535) {
                return Err(format!("invalid port '{port}'"));
            }
        }
        Some('-' | '+') => return Err(format!("port offset not permitted here in '{full}'")),
        Some(c) => {
            return Err(format!(
                "invalid character '{c}' in port number '{port}' in '{full}'\n"
            ))
        }
        None => {}
    }
    parse_host(host, full, v6).map_err(|e| format!("{e}\n"))?;
    Ok(())
}

/// Bind options: name, number of values, and what HAProxy 2.6 says when
/// the value is missing (after `'bind <addr>' in section '<s>' : '<opt>' : `).
#[rustfmt::skip]
pub const BIND_OPTIONS: &[(&str, usize, &str)] = &[
    ("accept-netscaler-cip", 1, "missing value"),
    ("accept-proxy", 0, ""),
    ("allow-0rtt", 0, ""),
    ("alpn", 1, "missing the comma-delimited ALPN protocol suite"),
    ("backlog", 1, "missing value"),
    ("ca-file", 1, "missing CAfile path"),
    ("ciphers", 1, "missing cipher suite"),
    ("ciphersuites", 1, "missing cipher suite"),
    ("crl-file", 1, "missing CRLfile path"),
    ("crt", 1, "missing certificate location"),
    ("crt-list", 1, "missing certificate location"),
    ("curves", 1, "missing curve suite"),
    ("defer-accept", 0, ""),
    ("expose-fd", 1, "missing fd type"),
    ("force-sslv3", 0, ""),
    ("force-tlsv10", 0, ""),
    ("force-tlsv11", 0, ""),
    ("force-tlsv12", 0, ""),
    ("force-tlsv13", 0, ""),
    ("generate-certificates", 0, ""),
    ("gid", 1, "missing value"),
    ("group", 1, "missing group name"),
    ("id", 1, "expects an integer argument"),
    ("interface", 1, "missing interface name"),
    ("level", 1, "missing level"),
    ("maxconn", 1, "missing value"),
    ("mode", 1, "missing or invalid mode '' (octal integer expected)"),
    ("mss", 1, "missing MSS value"),
    ("name", 1, "missing name"),
    ("namespace", 1, "missing namespace id"),
    ("nice", 1, "missing value"),
    ("no-ca-names", 0, ""),
    ("no-sslv3", 0, ""),
    ("no-tls-tickets", 0, ""),
    ("no-tlsv10", 0, ""),
    ("no-tlsv11", 0, ""),
    ("no-tlsv12", 0, ""),
    ("no-tlsv13", 0, ""),
    ("npn", 1, "missing the comma-delimited NPN protocol suite"),
    ("prefer-client-ciphers", 0, ""),
    ("process", 1, "'' is not a valid number/range. It supports numbers from 1 to 1."),
    ("proto", 1, "missing value"),
    ("severity-output", 1, "missing severity format"),
    ("ssl", 0, ""),
    ("ssl-max-ver", 1, "missing the ssl/tls version"),
    ("ssl-min-ver", 1, "missing the ssl/tls version"),
    ("strict-sni", 0, ""),
    ("tcp-ut", 1, "missing TCP User Timeout value"),
    ("tfo", 0, ""),
    ("thread", 1, "'' is not a valid number/range. It supports numbers from 1 to 64."),
    ("tls-ticket-keys", 1, "missing TLS ticket keys file path"),
    ("transparent", 0, ""),
    ("uid", 1, "missing value"),
    ("user", 1, "missing user name"),
    ("v4v6", 0, ""),
    ("v6only", 0, ""),
    ("verify", 1, "missing verify method"),
];

/// HAProxy loads certificates while parsing: a missing file, or one
/// without a PEM certificate, fails `-c`. A directory is a set of files.
fn check_certificate(path: &str) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| {
        format!(
            "unable to stat SSL certificate from file '{path}' : {}.",
            super::source::strerror(&e)
        )
    })?;
    if meta.is_dir() {
        return Ok(());
    }
    let pem = std::fs::read(path).unwrap_or_default();
    let has_cert = pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----");
    if !has_cert {
        return Err(format!("unable to load certificate from file '{path}'."));
    }
    Ok(())
}

/// How many listening sockets the addresses open (a port range, one per
/// port).
pub fn sockets(addrs: &[BindAddr]) -> usize {
    addrs
        .iter()
        .map(|a| match a {
            BindAddr::Inet {
                port_first,
                port_last,
                ..
            } => usize::from(port_last - port_first) + 1,
            _ => 1,
        })
        .sum()
}

/// `bind <addr>[,<addr>...] [options]`. The flag says `ssl` was asked
/// without a certificate (HAProxy refuses that after parsing).
pub fn parse_bind(ctx: &mut Ctx, section: &str) -> Option<(Bind, bool)> {
    let here = ctx.here();
    if ctx.arg(1).is_empty() {
        ctx.alert(format!(
            "{here} : 'bind' expects {{<path>|[addr1]:port1[-end1]}}{{,[addr]:port[-end]}}... as arguments."
        ));
        return None;
    }
    let addrs = match parse_addr(ctx.arg(1), true) {
        Ok(a) => a,
        Err(e) => {
            ctx.alert(format!("{here} : 'bind' : {e}"));
            return None;
        }
    };
    let abstract_ns = |a: &BindAddr| matches!(a, BindAddr::Unix(p) if p.as_os_str().as_encoded_bytes().first() == Some(&0));
    if addrs.iter().any(abstract_ns) {
        ctx.unimplemented("bind abns@");
    }
    let (mut ssl, mut crt) = (false, false);
    let (mut listener_name, mut id, mut backlog) = (None, None, None);
    let mut i = 2;
    while !ctx.arg(i).is_empty() {
        let name = ctx.arg(i).to_string();
        let Some(&(_, nvals, missing)) = BIND_OPTIONS.iter().find(|(n, _, _)| *n == name) else {
            let best = suggest::best_match(&name, BIND_OPTIONS.iter().map(|(n, _, _)| *n));
            let hint = best
                .map(|b| format!("; did you mean '{b}' maybe ?"))
                .unwrap_or_else(|| ".".into());
            ctx.alert(format!(
                "{here} : 'bind {}' in section '{section}': unknown keyword '{name}'{hint}",
                ctx.arg(1)
            ));
            return None;
        };
        if nvals > 0 && ctx.arg(i + 1).is_empty() {
            // `thread` names itself '' in 2.6's message.
            let shown = if name == "thread" { "" } else { name.as_str() };
            ctx.alert(format!(
                "{here} : 'bind {}' in section '{section}' : '{shown}' : {missing}",
                ctx.arg(1)
            ));
            return None;
        }
        ssl |= name == "ssl";
        crt |= name == "crt" || name == "crt-list";
        if name == "crt" {
            if let Err(e) = check_certificate(ctx.arg(i + 1)) {
                ctx.alert(format!(
                    "{here} : 'bind {}' in section '{section}' : {e}",
                    ctx.arg(1)
                ));
                return None;
            }
        }
        match name.as_str() {
            "name" => listener_name = Some(ctx.arg(i + 1).to_string()),
            "id" if sockets(&addrs) > 1 => {
                ctx.alert(format!(
                    "{here} : 'bind {}' in section '{section}' : 'id' can only be used with a single socket",
                    ctx.arg(1)
                ));
                return None;
            }
            "id" => match ctx.arg(i + 1).parse::<u32>() {
                Ok(n) if n > 0 => id = Some(n),
                _ => {
                    ctx.alert(format!(
                        "{here} : 'bind {}' in section '{section}' : 'id' : custom id has to be > 0",
                        ctx.arg(1)
                    ));
                    return None;
                }
            },
            // HAProxy keeps atol's long in an int; 0 (also from junk)
            // leaves the choice to the proxy.
            "backlog" => match atol(ctx.arg(i + 1)) as i32 {
                n if n < 0 => {
                    ctx.alert(format!(
                        "{here} : 'bind {}' in section '{section}' : 'backlog' : invalid value {n}, must be > 0",
                        ctx.arg(1)
                    ));
                    return None;
                }
                n => backlog = Some(n as u32).filter(|&n| n > 0),
            },
            _ => ctx.unimplemented(format!("bind {name}")),
        }
        i += 1 + nvals;
    }
    Some((
        Bind {
            at: ctx.at.clone(),
            addrs,
            name: listener_name,
            id,
            backlog,
            text: ctx.arg(1).to_string(),
        },
        ssl && !crt,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inet(s: &str) -> (IpAddr, u16, u16) {
        match parse_addr(s, true).unwrap().remove(0) {
            BindAddr::Inet {
                ip,
                port_first,
                port_last,
            } => (ip, port_first, port_last),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn log_addresses_are_typed_or_refused_as_haproxy_reads_them() {
        let udp = |s: &str| Ok(Some(LogDest::Udp(s.parse().unwrap())));
        assert_eq!(parse_log_addr("127.0.0.1"), udp("127.0.0.1:514"));
        assert_eq!(parse_log_addr("udp@10.0.0.1:515"), udp("10.0.0.1:515"));
        assert_eq!(parse_log_addr("[::1]:514"), udp("[::1]:514"));
        assert_eq!(parse_log_addr("stdout"), Ok(Some(LogDest::Stdout)));
        let unix = Ok(Some(LogDest::Unix("/dev/log".into())));
        assert_eq!(parse_log_addr("unix@/dev/log"), unix);
        // Accepted, not sent to by the engine.
        for a in [
            "ring@buf",
            "fd@3",
            "tcp@127.0.0.1:514",
            "127.0.0.1:",
            "localhost:514",
        ] {
            assert_eq!(parse_log_addr(a), Ok(None), "{a}");
        }
        // Refused with HAProxy's texts.
        let e = |s: &str| parse_log_addr(s).unwrap_err();
        assert_eq!(e("::1"), "invalid address: ':' in '::1'\n");
        assert_eq!(e("127.0.0.1:99999"), "invalid port '99999'");
        assert_eq!(
            e("127.0.0.1:514-516"),
            "port range not permitted here in '127.0.0.1:514-516'"
        );
        assert_eq!(
            e("fd@x"),
            "file descriptor 'x' is not a valid integer in 'fd@x'\n"
        );
    }

    #[test]
    fn address_forms() {
        assert_eq!(inet("*:80"), ("0.0.0.0".parse().unwrap(), 80, 80));
        assert_eq!(inet(":80"), ("0.0.0.0".parse().unwrap(), 80, 80));
        assert_eq!(inet(":::80"), ("::".parse().unwrap(), 80, 80));
        assert_eq!(inet("::1:80"), ("::1".parse().unwrap(), 80, 80));
        assert_eq!(
            inet("10.0.0.1:8000-8010"),
            ("10.0.0.1".parse().unwrap(), 8000, 8010)
        );
        assert_eq!(
            parse_addr("/tmp/s", true).unwrap(),
            [BindAddr::Unix("/tmp/s".into())]
        );
        assert_eq!(parse_addr("fd@3", true).unwrap(), [BindAddr::Fd(3)]);
    }

    #[test]
    fn errors_read_like_haproxy() {
        let e = |s| parse_addr(s, true).unwrap_err().to_string();
        assert_eq!(e("1.2.3.4"), "missing port specification in '1.2.3.4'");
        assert_eq!(e(":99999"), "invalid port '99999'");
        assert_eq!(e("foo_:80"), "invalid address: 'foo_' in 'foo_:80'");
    }
}
