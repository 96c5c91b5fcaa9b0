//! `log-format` strings, parsed as HAProxy 2.6 parses them
//! (`parse_logformat_string`, doc section 8.2.4).
//!
//! A format is a list of [`Node`]s: literal text, separators (each space;
//! runs of them print as one), `%var` and `%{+Q,-M,...}var` variables, and
//! `%[sample]` expressions. `%%` is a literal `%`; a `%` followed by
//! anything but a letter, `{`, `[`, `%`, a digit or a blank is dropped.
//! `%o` sets the options of every variable after it.
//!
//! The variables are a table ([`VARS`]) of HAProxy's names; rendering is in
//! [`super::render`]. What the engine cannot fill is listed by
//! [`LogFormat::unimplemented`] and refused at start, never printed as `-`.

/// `option httplog`.
pub const HTTPLOG: &str = "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r";
/// `option httplog clf`.
pub const CLF: &str = "%{+Q}o %{-Q}ci - - [%trg] %r %ST %B \"\" \"\" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc %ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl";
/// `option tcplog`.
pub const TCPLOG: &str = "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq";

/// Per-variable options, HAProxy's `LOG_OPT_*` bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Opts(u8);

impl Opts {
    /// `M`: an empty text value prints `-` (on by default in log-format).
    pub const MANDATORY: Opts = Opts(1);
    /// `Q`: text values in double quotes.
    pub const QUOTE: Opts = Opts(2);
    /// `X`: addresses, ports and some counters in hexadecimal.
    pub const HEXA: Opts = Opts(4);
    /// `E`: `"`, `\` and `]` escaped with `\` (RFC 5424 structured data).
    pub const ESC: Opts = Opts(8);

    pub fn has(self, o: Opts) -> bool {
        self.0 & o.0 != 0
    }

    fn with(self, o: Opts, on: bool) -> Opts {
        if on {
            Opts(self.0 | o.0)
        } else {
            Opts(self.0 & !o.0)
        }
    }

    /// Applies `{+Q,-M,...}`: each item signed by its last `+` or `-`;
    /// unknown names and unsigned items are ignored, as HAProxy does.
    fn apply(mut self, args: &str) -> Opts {
        for item in args.split(',') {
            let Some(at) = item.rfind(['+', '-']) else {
                continue;
            };
            let on = item.as_bytes()[at] == b'+';
            let bit = match &item[at + 1..] {
                "M" => Opts::MANDATORY,
                "Q" => Opts::QUOTE,
                "X" => Opts::HEXA,
                "E" => Opts::ESC,
                _ => continue,
            };
            self = self.with(bit, on);
        }
        self
    }
}

/// A format variable, named as in HAProxy's `logformat_keywords`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Var {
    /// `%o`: sets the default options (never printed).
    Global,
    BytesOut,
    ClientCookie,
    ServerCookie,
    Hostname,
    UniqueId,
    Status,
    DateGmt,
    TimeActive,
    TimeConnect,
    TimeHandshake,
    TimeIdle,
    DateLocal,
    TimeRequestTotal,
    TimeResponse,
    TimeRequest,
    TimeData,
    Timestamp,
    TimeTotal,
    TimeUser,
    TimeWait,
    BytesIn,
    ActConn,
    Backend,
    BeConn,
    BackendIp,
    BackendPort,
    BackendQueue,
    ClientIp,
    ClientPort,
    Frontend,
    FeConn,
    FrontendIp,
    FrontendPort,
    FrontendXprt,
    ReqHeaders,
    ReqHeaderList,
    ResHeaders,
    ResHeaderList,
    Method,
    Path,
    PathOnly,
    Query,
    Uri,
    Version,
    LogCount,
    Millis,
    Pid,
    Request,
    Retries,
    Counter,
    Server,
    SrvConn,
    ServerIp,
    ServerPort,
    SrvQueue,
    SslCipher,
    SslVersion,
    Date,
    RequestDate,
    RequestDateGmt,
    RequestDateLocal,
    TermState,
    TermStateCookie,
}

/// One row of the variable table.
pub struct VarDef {
    pub name: &'static str,
    pub var: Var,
    /// Refused outside `mode http` ("reserved for HTTP mode").
    pub http_only: bool,
    /// The engine has the value (false: refused at start).
    pub built: bool,
    pub doc: &'static str,
}

const fn v(
    name: &'static str,
    var: Var,
    http_only: bool,
    built: bool,
    doc: &'static str,
) -> VarDef {
    VarDef {
        name,
        var,
        http_only,
        built,
        doc,
    }
}

/// HAProxy 2.6's variables, in its order.
#[rustfmt::skip]
pub const VARS: &[VarDef] = &[
    v("o", Var::Global, false, true, "sets the options of the variables after it"),
    v("B", Var::BytesOut, false, true, "bytes sent to the client"),
    v("CC", Var::ClientCookie, true, true, "captured request cookie (no `capture cookie`: `-`)"),
    v("CS", Var::ServerCookie, true, true, "captured response cookie (no `capture cookie`: `-`)"),
    v("H", Var::Hostname, false, false, "host name"),
    v("ID", Var::UniqueId, false, true, "unique id (no `unique-id-format`: `-`)"),
    v("ST", Var::Status, false, true, "HTTP status (0 in tcp mode)"),
    v("T", Var::DateGmt, false, true, "accept date, GMT"),
    v("Ta", Var::TimeActive, true, true, "active time: request start to end"),
    v("Tc", Var::TimeConnect, false, true, "time to connect to the server"),
    v("Th", Var::TimeHandshake, false, true, "handshake time (0: no TLS)"),
    v("Ti", Var::TimeIdle, true, true, "idle time before the request"),
    v("Tl", Var::DateLocal, false, true, "accept date, local time (the engine's clock is UTC)"),
    v("Tq", Var::TimeRequestTotal, true, true, "Th + Ti + TR"),
    v("Tr", Var::TimeResponse, true, true, "server response time, to its headers"),
    v("TR", Var::TimeRequest, true, true, "time to receive the request head"),
    v("Td", Var::TimeData, false, true, "data transfer time"),
    v("Ts", Var::Timestamp, false, true, "accept date, seconds since the epoch"),
    v("Tt", Var::TimeTotal, false, true, "total time"),
    v("Tu", Var::TimeUser, false, true, "total time minus idle time"),
    v("Tw", Var::TimeWait, false, true, "time in queues"),
    v("U", Var::BytesIn, false, true, "bytes received from the client"),
    v("ac", Var::ActConn, false, true, "concurrent connections of the process"),
    v("b", Var::Backend, false, true, "backend name"),
    v("bc", Var::BeConn, false, true, "concurrent connections of the backend"),
    v("bi", Var::BackendIp, false, false, "source address of the server connection"),
    v("bp", Var::BackendPort, false, false, "source port of the server connection"),
    v("bq", Var::BackendQueue, false, true, "backend queue length met"),
    v("ci", Var::ClientIp, false, true, "client address"),
    v("cp", Var::ClientPort, false, true, "client port"),
    v("f", Var::Frontend, false, true, "frontend name"),
    v("fc", Var::FeConn, false, true, "concurrent connections of the frontend"),
    v("fi", Var::FrontendIp, false, true, "address the client connected to"),
    v("fp", Var::FrontendPort, false, true, "port the client connected to"),
    v("ft", Var::FrontendXprt, false, true, "frontend name (`~` suffix with TLS)"),
    v("hr", Var::ReqHeaders, false, true, "captured request headers (none: nothing)"),
    v("hrl", Var::ReqHeaderList, false, true, "captured request headers, as a list"),
    v("hs", Var::ResHeaders, false, true, "captured response headers (none: nothing)"),
    v("hsl", Var::ResHeaderList, false, true, "captured response headers, as a list"),
    v("HM", Var::Method, true, true, "HTTP method"),
    v("HP", Var::Path, true, true, "HTTP path, with the query string"),
    v("HPO", Var::PathOnly, true, true, "HTTP path only"),
    v("HQ", Var::Query, true, true, "HTTP query string, with its `?`"),
    v("HU", Var::Uri, true, true, "HTTP URI"),
    v("HV", Var::Version, true, true, "HTTP version"),
    v("lc", Var::LogCount, false, false, "frontend log counter"),
    v("ms", Var::Millis, false, true, "accept date's milliseconds"),
    v("pid", Var::Pid, false, true, "process id"),
    v("r", Var::Request, true, true, "request line"),
    v("rc", Var::Retries, false, true, "connection retries (`+` when redispatched)"),
    v("rt", Var::Counter, false, false, "request counter"),
    v("s", Var::Server, false, true, "server name"),
    v("sc", Var::SrvConn, false, true, "concurrent connections of the server"),
    v("si", Var::ServerIp, false, true, "server address"),
    v("sp", Var::ServerPort, false, true, "server port"),
    v("sq", Var::SrvQueue, false, true, "server queue length met"),
    v("sslc", Var::SslCipher, false, true, "TLS cipher (no TLS: `-`)"),
    v("sslv", Var::SslVersion, false, true, "TLS version (no TLS: `-`)"),
    v("t", Var::Date, false, true, "accept date"),
    v("tr", Var::RequestDate, true, true, "request date"),
    v("trg", Var::RequestDateGmt, true, true, "request date, GMT"),
    v("trl", Var::RequestDateLocal, true, true, "request date, local time"),
    v("ts", Var::TermState, false, true, "termination state"),
    v("tsc", Var::TermStateCookie, false, true, "termination state with cookie status"),
];

/// One piece of a parsed format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Text(String),
    /// A space; consecutive ones (and those after an empty value) print once.
    Separator,
    Var(Var, Opts),
    /// `%[expr]`: sample expressions are not built yet.
    Sample(String, Opts),
}

/// A parsed `log-format` string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFormat {
    pub nodes: Vec<Node>,
}

impl LogFormat {
    /// Parses `fmt` as HAProxy does for a proxy's `log-format`; `http` is
    /// whether the proxy is in `mode http`. The error is HAProxy's text,
    /// to follow "failed to parse log-format : ".
    pub fn parse(fmt: &str, http: bool) -> Result<LogFormat, String> {
        LogFormat::parse_with(fmt, http, &|_| true)
    }

    /// [`LogFormat::parse`], with `is_fetch` telling which sample fetch
    /// names exist (the config knows them; `%[...]` is checked as far as
    /// its fetch's name).
    pub fn parse_with(
        fmt: &str,
        http: bool,
        is_fetch: &dyn Fn(&str) -> bool,
    ) -> Result<LogFormat, String> {
        Parser {
            fmt,
            is_fetch,
            bytes: fmt.as_bytes(),
            pos: 0,
            http,
            defaults: Opts::MANDATORY,
            nodes: Vec::new(),
            text: String::new(),
        }
        .run()
    }

    /// One of HAProxy's built-in formats, known to parse.
    pub fn builtin(fmt: &str, http: bool) -> LogFormat {
        LogFormat::parse(fmt, http).expect("built-in log format")
    }

    /// What this format asks for that the engine cannot fill, as the
    /// labels a start-up refusal names (`%[src]`, `%rt`...).
    pub fn unimplemented(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for node in &self.nodes {
            let label = match node {
                Node::Sample(expr, _) => format!("%[{expr}]"),
                Node::Var(var, _) => match VARS.iter().find(|d| d.var == *var && !d.built) {
                    Some(d) => format!("%{}", d.name),
                    None => continue,
                },
                _ => continue,
            };
            if !out.contains(&label) {
                out.push(label);
            }
        }
        out
    }
}

struct Parser<'a> {
    fmt: &'a str,
    is_fetch: &'a dyn Fn(&str) -> bool,
    bytes: &'a [u8],
    pos: usize,
    http: bool,
    /// The options a new variable starts with (`%o` changes them).
    defaults: Opts,
    nodes: Vec<Node>,
    text: String,
}

impl Parser<'_> {
    fn run(mut self) -> Result<LogFormat, String> {
        while let Some(&c) = self.bytes.get(self.pos) {
            match c {
                b'%' => {
                    self.pos += 1;
                    self.percent()?;
                }
                b' ' => {
                    self.flush();
                    self.nodes.push(Node::Separator);
                    self.pos += 1;
                }
                _ => self.literal(),
            }
        }
        self.flush();
        Ok(LogFormat { nodes: self.nodes })
    }

    /// Copies one character of literal text.
    fn literal(&mut self) {
        let ch = self.fmt[self.pos..].chars().next().expect("in bounds");
        self.text.push(ch);
        self.pos += ch.len_utf8();
    }

    fn flush(&mut self) {
        if !self.text.is_empty() {
            self.nodes.push(Node::Text(std::mem::take(&mut self.text)));
        }
    }

    /// What follows a `%`.
    fn percent(&mut self) -> Result<(), String> {
        let Some(&c) = self.bytes.get(self.pos) else {
            return Err("truncated line after '%'".into());
        };
        match c {
            b'%' => self.literal(),
            b'{' => {
                let start = self.pos + 1;
                let Some(len) = self.fmt[start..].find('}') else {
                    return Err(format!("truncated line after '{}'", &self.fmt[start..]));
                };
                let args = &self.fmt[start..start + len];
                self.pos = start + len + 1;
                match self.bytes.get(self.pos) {
                    Some(b'[') => self.sample(Some(args))?,
                    Some(c) if c.is_ascii_alphanumeric() => self.var(Some(args))?,
                    _ => {
                        return Err(format!(
                            "parse argument modifier without variable name near '%{{{args}}}'"
                        ))
                    }
                }
            }
            b'[' => self.sample(None)?,
            c if c.is_ascii_alphabetic() => self.var(None)?,
            c if c.is_ascii_digit() || c == b' ' || c == b'\t' => {
                return Err(format!(
                    "unexpected variable name near '{}' at position {} line : '{}'. Maybe you want to write a single '%', use the syntax '%%'",
                    c as char, self.pos, self.fmt
                ));
            }
            // Any other character: the `%` is dropped, the text goes on.
            _ => {}
        }
        Ok(())
    }

    /// A variable name: letters and digits from `pos`.
    fn var(&mut self, args: Option<&str>) -> Result<(), String> {
        let start = self.pos;
        let len = self.bytes[start..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        self.pos += len;
        let name = &self.fmt[start..start + len];
        let Some(def) = VARS.iter().find(|d| d.name == name) else {
            return Err(format!(
                "no such format variable '{name}'. If you wanted to emit the '%' character verbatim, you need to use '%%'"
            ));
        };
        if def.http_only && !self.http {
            return Err(format!(
                "format variable '{name}' is reserved for HTTP mode"
            ));
        }
        let opts = args.map_or(self.defaults, |a| self.defaults.apply(a));
        self.flush();
        if def.var == Var::Global {
            self.defaults = opts;
        } else {
            self.nodes.push(Node::Var(def.var, opts));
        }
        Ok(())
    }

    /// `%[expr]`, kept whole up to its closing bracket (outside
    /// parentheses); `pos` is at the `[`.
    fn sample(&mut self, args: Option<&str>) -> Result<(), String> {
        let start = self.pos + 1;
        let mut depth = 0usize;
        let mut end = None;
        for (i, &c) in self.bytes[start..].iter().enumerate() {
            match c {
                b'(' => depth += 1,
                b')' => depth = depth.saturating_sub(1),
                b']' if depth == 0 => {
                    end = Some(start + i);
                    break;
                }
                _ => {}
            }
        }
        let expr = &self.fmt[start..end.unwrap_or(self.fmt.len())];
        if expr.is_empty() {
            return Err(format!(
                "failed to parse sample expression <{expr}> : missing fetch method"
            ));
        }
        let fetch = &expr[..expr.find(['(', ',', ']']).unwrap_or(expr.len())];
        if !(self.is_fetch)(fetch) {
            // HAProxy quotes the rest of the string from the fetch on.
            return Err(format!(
                "failed to parse sample expression <{}> : unknown fetch method '{fetch}'",
                &self.fmt[start..]
            ));
        }
        let Some(end) = end else {
            return Err(format!("missing ']' after '{expr}'"));
        };
        let opts = args.map_or(self.defaults, |a| self.defaults.apply(a));
        self.flush();
        self.nodes.push(Node::Sample(expr.to_string(), opts));
        self.pos = end + 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(fmt: &str, http: bool) -> String {
        LogFormat::parse(fmt, http).unwrap_err()
    }

    #[test]
    fn builtin_formats_parse() {
        for (f, http) in [(HTTPLOG, true), (CLF, true), (TCPLOG, false)] {
            let lf = LogFormat::parse(f, http).unwrap();
            assert!(lf.unimplemented().is_empty(), "{f}");
        }
    }

    #[test]
    fn nodes_and_options() {
        let lf = LogFormat::parse("%ci:%cp  %{+Q,+X}r%%x%-y %{+Q}o%b", true).unwrap();
        let m = Opts::MANDATORY;
        let q = Opts(m.0 | Opts::QUOTE.0);
        assert_eq!(
            lf.nodes,
            vec![
                Node::Var(Var::ClientIp, m),
                Node::Text(":".into()),
                Node::Var(Var::ClientPort, m),
                Node::Separator,
                Node::Separator,
                Node::Var(Var::Request, Opts(q.0 | Opts::HEXA.0)),
                Node::Text("%x-y".into()),
                Node::Separator,
                Node::Var(Var::Backend, q),
            ]
        );
        let lf = LogFormat::parse("%{-M,+E,Z,+nope}s", false).unwrap();
        assert_eq!(lf.nodes, vec![Node::Var(Var::Server, Opts::ESC)]);
    }

    /// The texts HAProxy 2.6.12 prints after "failed to parse log-format : ".
    #[test]
    fn haproxy_errors() {
        assert_eq!(
            err("%ci %foo", true),
            "no such format variable 'foo'. If you wanted to emit the '%' character verbatim, you need to use '%%'"
        );
        assert_eq!(err("%ci 50%", true), "truncated line after '%'");
        assert_eq!(
            err("%ci %5", true),
            "unexpected variable name near '5' at position 5 line : '%ci %5'. Maybe you want to write a single '%', use the syntax '%%'"
        );
        assert_eq!(
            err("%{+Q} x", true),
            "parse argument modifier without variable name near '%{+Q}'"
        );
        assert_eq!(
            err("%{+Q}", true),
            "parse argument modifier without variable name near '%{+Q}'"
        );
        assert_eq!(err("%ci %{+Q", true), "truncated line after '+Q'");
        assert_eq!(
            err("%ci %r", false),
            "format variable 'r' is reserved for HTTP mode"
        );
        assert_eq!(
            err("%ci %TR", false),
            "format variable 'TR' is reserved for HTTP mode"
        );
        assert_eq!(err("%[src", true), "missing ']' after 'src'");
        let known = |f: &str| f == "src";
        assert_eq!(
            LogFormat::parse_with("%[src] %[nosuch] %b", true, &known).unwrap_err(),
            "failed to parse sample expression <nosuch] %b> : unknown fetch method 'nosuch'"
        );
        assert_eq!(
            err("%ci %[", true),
            "failed to parse sample expression <> : missing fetch method"
        );
    }

    #[test]
    fn unimplemented_parts_are_named() {
        let lf = LogFormat::parse("%rt %[src] %H %rt %bi", false).unwrap();
        assert_eq!(lf.unimplemented(), vec!["%rt", "%[src]", "%H", "%bi"]);
    }
}
