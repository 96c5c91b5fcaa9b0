//! Renders a [`LogFormat`] with one line's [`Fields`], as HAProxy 2.6's
//! `sess_build_logline` does.
//!
//! Texts follow `lf_text`: `+Q` quotes, `+E` escapes `"\]` with `\`, and an
//! empty value prints `-` unless quoted (or `-M`). The request line and its
//! pieces are encoded as HAProxy encodes URLs (`"`, `#`, controls and
//! non-ASCII as `#XX`). Timers arrive already in HAProxy's arithmetic
//! (-1 for a phase that did not happen): the producers ([`super::httplog`],
//! [`super::tcplog`]) know which instants they measured.

use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Datelike, Timelike, Utc};

use super::format::{LogFormat, Node, Opts, Var};
use super::tcplog::{Cause, Phase};

/// What `%s` shows when no server was assigned.
pub const NO_SERVER: &str = "<NOSRV>";

/// Everything a log line may show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields {
    /// The client; None for a unix socket (`%ci` `unix`, `%cp` 1).
    pub client: Option<SocketAddr>,
    /// The address the client connected to (`%fi:%fp`).
    pub frontend_addr: Option<SocketAddr>,
    /// The server connected to (`%si:%sp`); None without a server.
    pub server_addr: Option<SocketAddr>,
    /// `%t`: the stream's start.
    pub accept_date: SystemTime,
    /// `%tr`: the request's first byte (HTTP; the accept date in TCP).
    pub request_date: SystemTime,
    pub frontend: String,
    pub backend: String,
    /// `%s`: a server, an applet (`<STATS>`), or `<NOSRV>`.
    pub server: String,
    pub timers: Timers,
    /// `%ST`: 0 in tcp mode, -1 when nothing was answered.
    pub status: i32,
    pub bytes_out: u64,
    pub bytes_in: u64,
    pub cause: Cause,
    pub phase: Phase,
    /// `%tsc`'s cookie letters, `--` without persistence.
    pub cookie: [char; 2],
    pub actconn: usize,
    pub feconn: usize,
    pub beconn: usize,
    pub srv_conn: usize,
    pub retries: u32,
    pub redispatched: bool,
    pub srv_queue: usize,
    pub backend_queue: usize,
    /// The request line as received; None for `<BADREQ>` (and in TCP).
    pub request_line: Option<Vec<u8>>,
    pub pid: u32,
}

/// The `%T*` timers in milliseconds, -1 when their phase did not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timers {
    /// `%Th`
    pub handshake: i64,
    /// `%Ti`
    pub idle: i64,
    /// `%TR`
    pub request: i64,
    /// `%Tq`
    pub request_total: i64,
    /// `%Tw`
    pub wait: i64,
    /// `%Tc`
    pub connect: i64,
    /// `%Tr`
    pub response: i64,
    /// `%Td`
    pub data: i64,
    /// `%Ta`
    pub active: i64,
    /// `%Tt`
    pub total: i64,
    /// `%Tu`
    pub user: i64,
}

impl LogFormat {
    pub fn render(&self, f: &Fields) -> String {
        let mut out = String::new();
        // A separator prints only after something printed (HAProxy's
        // last_isspace): an empty `%hr` takes its space with it.
        let mut last_isspace = true;
        for node in &self.nodes {
            let printed = match node {
                Node::Separator => {
                    if !last_isspace {
                        out.push(' ');
                        last_isspace = true;
                    }
                    continue;
                }
                Node::Text(t) => {
                    out.push_str(t);
                    true
                }
                Node::Var(var, opts) => var_into(&mut out, *var, *opts, f),
                // Refused at start (see LogFormat::unimplemented).
                Node::Sample(_, opts) => {
                    text(&mut out, None, *opts);
                    true
                }
            };
            if printed {
                last_isspace = false;
            }
        }
        out
    }
}

/// Writes one variable; false when it prints nothing at all (captures
/// when nothing is captured), which keeps the following separator out.
fn var_into(out: &mut String, var: Var, o: Opts, f: &Fields) -> bool {
    let t = &f.timers;
    match var {
        Var::Global => return false,
        Var::ClientIp => ip(out, f.client, o),
        Var::ClientPort => match f.client {
            Some(a) => port(out, a, o),
            None => out.push('1'),
        },
        Var::FrontendIp => ip(out, f.frontend_addr, o),
        Var::FrontendPort => match f.frontend_addr {
            Some(a) => port(out, a, o),
            None => out.push('1'),
        },
        Var::ServerIp => match f.server_addr {
            Some(_) => ip(out, f.server_addr, o),
            None => text(out, None, o),
        },
        Var::ServerPort => match f.server_addr {
            Some(a) => port(out, a, o),
            None => text(out, None, o),
        },
        Var::Date => out.push_str(&date(f.accept_date, true)),
        Var::RequestDate => out.push_str(&date(f.request_date, true)),
        Var::DateGmt | Var::DateLocal => out.push_str(&date(f.accept_date, false)),
        Var::RequestDateGmt | Var::RequestDateLocal => out.push_str(&date(f.request_date, false)),
        Var::Timestamp => hexa_or_dec(out, secs(f.accept_date), o),
        Var::Millis => {
            let ms = f
                .accept_date
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.subsec_millis());
            if o.has(Opts::HEXA) {
                out.push_str(&format!("{ms:02X}"));
            } else {
                out.push_str(&format!("{ms:03}"));
            }
        }
        Var::Frontend => text(out, Some(&f.frontend), o),
        Var::FrontendXprt => {
            // No TLS listener: never the `~` suffix.
            quoted_raw(out, &f.frontend, o)
        }
        Var::Backend => text(out, Some(&f.backend), o),
        Var::Server => text(out, Some(&f.server), o),
        Var::SslCipher | Var::SslVersion | Var::ClientCookie | Var::ServerCookie => {
            text(out, None, o)
        }
        Var::UniqueId => text(out, None, o),
        Var::TimeHandshake => num(out, t.handshake),
        Var::TimeIdle => num(out, t.idle),
        Var::TimeRequest => num(out, t.request),
        Var::TimeRequestTotal => num(out, t.request_total),
        Var::TimeWait => num(out, t.wait),
        Var::TimeConnect => num(out, t.connect),
        Var::TimeResponse => num(out, t.response),
        Var::TimeData => num(out, t.data),
        Var::TimeActive => num(out, t.active),
        Var::TimeTotal => num(out, t.total),
        Var::TimeUser => num(out, t.user),
        Var::Status => num(out, f.status),
        Var::BytesOut => num(out, f.bytes_out),
        Var::BytesIn => num(out, f.bytes_in),
        Var::TermState => {
            out.push(f.cause.letter());
            out.push(f.phase.letter());
        }
        Var::TermStateCookie => {
            out.push(f.cause.letter());
            out.push(f.phase.letter());
            out.push(f.cookie[0]);
            out.push(f.cookie[1]);
        }
        Var::ActConn => num(out, f.actconn),
        Var::FeConn => num(out, f.feconn),
        Var::BeConn => num(out, f.beconn),
        Var::SrvConn => num(out, f.srv_conn),
        Var::Retries => {
            if f.redispatched {
                out.push('+');
            }
            num(out, f.retries)
        }
        Var::SrvQueue => num(out, f.srv_queue),
        Var::BackendQueue => num(out, f.backend_queue),
        // `capture` is not built: nothing is ever captured.
        Var::ReqHeaders | Var::ReqHeaderList | Var::ResHeaders | Var::ResHeaderList => {
            return false
        }
        Var::Request => {
            let line = f.request_line.as_deref().unwrap_or(b"<BADREQ>");
            url_encoded(out, line, o)
        }
        Var::Method | Var::Uri | Var::Path | Var::PathOnly | Var::Query | Var::Version => {
            let piece = request_piece(var, f.request_line.as_deref());
            url_encoded(out, piece, o)
        }
        Var::Pid => hexa_or_dec(out, u64::from(f.pid), o),
        // Refused at start (see LogFormat::unimplemented).
        Var::Hostname | Var::BackendIp | Var::BackendPort | Var::LogCount | Var::Counter => {
            text(out, None, o)
        }
    }
    true
}

fn num(out: &mut String, n: impl std::fmt::Display) {
    out.push_str(&n.to_string());
}

fn hexa_or_dec(out: &mut String, n: u64, o: Opts) {
    if o.has(Opts::HEXA) {
        out.push_str(&format!("{n:04X}"));
    } else {
        num(out, n)
    }
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// HAProxy's `lf_text`.
fn text(out: &mut String, value: Option<&str>, o: Opts) {
    let quote = o.has(Opts::QUOTE);
    if quote {
        out.push('"');
    }
    match value.filter(|v| !v.is_empty()) {
        Some(v) if o.has(Opts::ESC) => {
            for c in v.chars() {
                if matches!(c, '"' | '\\' | ']') {
                    out.push('\\');
                }
                out.push(c);
            }
        }
        Some(v) => out.push_str(v),
        None if !quote && o.has(Opts::MANDATORY) => out.push('-'),
        None => {}
    }
    if quote {
        out.push('"');
    }
}

/// `%ft`: quoted on request, never escaped nor dashed.
fn quoted_raw(out: &mut String, v: &str, o: Opts) {
    let quote = o.has(Opts::QUOTE);
    if quote {
        out.push('"');
    }
    out.push_str(v);
    if quote {
        out.push('"');
    }
}

/// HAProxy's `lf_ip`: `+X` gives the address bytes in hex; a unix client
/// is `unix`.
fn ip(out: &mut String, addr: Option<SocketAddr>, o: Opts) {
    match addr {
        Some(a) if o.has(Opts::HEXA) => match a {
            SocketAddr::V4(a) => a
                .ip()
                .octets()
                .iter()
                .for_each(|b| out.push_str(&format!("{b:02X}"))),
            SocketAddr::V6(a) => a
                .ip()
                .octets()
                .iter()
                .for_each(|b| out.push_str(&format!("{b:02X}"))),
        },
        Some(a) => text(out, Some(&a.ip().to_string()), o),
        None => text(out, Some("unix"), o),
    }
}

/// HAProxy's `lf_port`: never quoted.
fn port(out: &mut String, addr: SocketAddr, o: Opts) {
    if o.has(Opts::HEXA) {
        out.push_str(&format!("{:04X}", addr.port()));
    } else {
        num(out, addr.port())
    }
}

/// The `%r` family: `"`, `#`, controls and bytes above 126 as `#XX`; with
/// `+E`, `\` and `]` also escaped with `\`.
fn url_encoded(out: &mut String, raw: &[u8], o: Opts) {
    let quote = o.has(Opts::QUOTE);
    if quote {
        out.push('"');
    }
    for &c in raw {
        if !(0x20..0x7f).contains(&c) || c == b'"' || c == b'#' {
            out.push_str(&format!("#{c:02X}"));
        } else {
            if o.has(Opts::ESC) && matches!(c, b'\\' | b']') {
                out.push('\\');
            }
            out.push(c as char);
        }
    }
    if quote {
        out.push('"');
    }
}

/// `%HM`, `%HU`, `%HP`, `%HPO`, `%HQ`, `%HV` cut from the request line as
/// HAProxy cuts them (`<BADREQ>` without one).
fn request_piece(var: Var, line: Option<&[u8]>) -> &[u8] {
    const BAD: &[u8] = b"<BADREQ>";
    let Some(line) = line else {
        return BAD;
    };
    let blank = |c: &u8| *c == b' ' || *c == b'\t';
    let method_len = line.iter().position(blank).unwrap_or(line.len());
    let after = &line[method_len..];
    let spaces = after.iter().take_while(|c| blank(c)).count();
    let uri_all = &after[spaces..];
    let uri = &uri_all[..uri_all.iter().position(blank).unwrap_or(uri_all.len())];
    match var {
        Var::Method if method_len == line.len() => BAD,
        Var::Method => &line[..method_len],
        _ if spaces == 0 && var != Var::Query => BAD,
        Var::Uri => uri,
        Var::Path => &uri[..uri.iter().position(|c| *c == b'?').unwrap_or(uri.len())],
        Var::PathOnly => {
            let path = path_of(uri);
            &path[..path.iter().position(|c| *c == b'?').unwrap_or(path.len())]
        }
        Var::Query => {
            let q = line.iter().position(|c| *c == b'?').unwrap_or(line.len());
            let rest = &line[q..];
            &rest[..rest.iter().position(blank).unwrap_or(rest.len())]
        }
        _ => {
            let rest = &uri_all[uri.len()..];
            let version = &rest[rest.iter().take_while(|c| blank(c)).count()..];
            if version.is_empty() {
                b"HTTP/0.9"
            } else {
                version
            }
        }
    }
}

/// The path of a request target: itself in origin form, after the
/// authority of an absolute URI, nothing for `*` or an authority.
fn path_of(uri: &[u8]) -> &[u8] {
    if uri.first() == Some(&b'/') {
        return uri;
    }
    let Some(scheme_end) = uri.windows(3).position(|w| w == b"://") else {
        return &[];
    };
    let authority = &uri[scheme_end + 3..];
    match authority.iter().position(|c| *c == b'/') {
        Some(p) => &authority[p..],
        None => &[],
    }
}

/// `%t` (`25/Nov/2026:06:40:20.357`) or `%T` (`25/Nov/2026:06:40:20 +0000`).
/// The engine's clock is UTC, so local dates are GMT ones.
pub fn date(t: SystemTime, millis: bool) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t: DateTime<Utc> = t.into();
    let head = format!(
        "{:02}/{}/{:04}:{:02}:{:02}:{:02}",
        t.day(),
        MONTHS[t.month0() as usize],
        t.year(),
        t.hour(),
        t.minute(),
        t.second(),
    );
    if millis {
        format!("{head}.{:03}", t.timestamp_subsec_millis())
    } else {
        format!("{head} +0000")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn fields() -> Fields {
        Fields {
            client: "127.0.0.1:44272".parse().ok(),
            frontend_addr: "127.0.0.1:8080".parse().ok(),
            server_addr: "10.0.0.1:80".parse().ok(),
            // 2026-11-25 05:17:44.965 UTC
            accept_date: UNIX_EPOCH + Duration::from_millis(1_795_583_864_965),
            request_date: UNIX_EPOCH + Duration::from_millis(1_795_583_864_965),
            frontend: "fe".into(),
            backend: "be".into(),
            server: "s1".into(),
            timers: Timers::default(),
            status: 200,
            bytes_out: 200,
            bytes_in: 77,
            cause: Cause::None,
            phase: Phase::None,
            cookie: ['-', '-'],
            actconn: 1,
            feconn: 1,
            beconn: 0,
            srv_conn: 0,
            retries: 0,
            redispatched: false,
            srv_queue: 0,
            backend_queue: 0,
            request_line: Some(b"GET /a/b?x=1&y=\"2\" HTTP/1.1".to_vec()),
            pid: 4242,
        }
    }

    fn render(fmt: &str) -> String {
        LogFormat::parse(fmt, true).unwrap().render(&fields())
    }

    #[test]
    fn request_pieces() {
        assert_eq!(
            render("%HM|%HU|%HP|%HPO|%HQ|%HV"),
            "GET|/a/b?x=1&y=#222#22|/a/b|/a/b|?x=1&y=#222#22|HTTP/1.1"
        );
        let mut f = fields();
        f.request_line = Some(b"GET http://h:1/p?q HTTP/1.0".to_vec());
        let lf = LogFormat::parse("%HPO %HP %HV", true).unwrap();
        assert_eq!(lf.render(&f), "/p http://h:1/p HTTP/1.0");
        f.request_line = None;
        assert_eq!(lf.render(&f), "<BADREQ> <BADREQ> <BADREQ>");
        f.server_addr = None;
        let lf = LogFormat::parse("%si:%sp %{+Q}si:%{+Q}sp", true).unwrap();
        assert_eq!(lf.render(&f), "-:- \"\":\"\"");
    }

    #[test]
    fn options_and_separators() {
        assert_eq!(
            render("%{+Q}ci %{+X}ci:%{+X}cp %{+Q}CC %CC %{-M}CC|"),
            "\"127.0.0.1\" 7F000001:ACF0 \"\" - |"
        );
        assert_eq!(render("  %b   %hr %hs %s "), "be s1 ");
        assert_eq!(render("%{+Q}o %b %{-Q}s %ft"), "\"be\" s1 \"fe\"");
        assert_eq!(
            render("%Ts %{+X}Ts %ms %{+X}ms %pid"),
            "1795583864 6B066F78 965 3C5 4242"
        );
        assert_eq!(
            render("%T %trg"),
            "25/Nov/2026:05:17:44 +0000 25/Nov/2026:05:17:44 +0000"
        );
        assert_eq!(
            render("%fi:%fp %si:%sp %U"),
            "127.0.0.1:8080 10.0.0.1:80 77"
        );
        let mut f = fields();
        f.server = "a\"b]".into();
        let lf = LogFormat::parse("%{+E}s %{+Q,+E}s", true).unwrap();
        assert_eq!(lf.render(&f), "a\\\"b\\] \"a\\\"b\\]\"");
    }
}
