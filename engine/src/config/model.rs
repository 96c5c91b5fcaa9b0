//! The validated configuration model: inert data, every default written down.
//!
//! `config::load` turns haproxy.cfg files into a [`Config`]; the runtime
//! (`runtime::Engine::start`) turns a `Config` into running state. Nothing
//! here changes once built. Defaults are HAProxy 2.6's, and each field says
//! which one applies when the keyword is absent.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

pub use super::cookie::Persistence;
pub use crate::log::syslog::{Dest as LogDest, Format as SyslogFormat, Level as SyslogLevel};

/// HAProxy's default `tune.bufsize`: a buffer, what one message head and
/// what one read of a body may hold.
pub const TUNE_BUFSIZE: usize = 16384;
/// HAProxy's default `tune.maxrewrite`: room kept free for rewriting.
pub const TUNE_MAXREWRITE: usize = 1024;

/// Where a directive was written: the file and its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    pub file: String,
    pub line: u32,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// A whole configuration: the `global` section and every proxy, in file order.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub global: Global,
    /// Frontends, backends and listen sections in declaration order
    /// (defaults sections are folded into them and not kept).
    pub proxies: Vec<Proxy>,
    /// `vrrp` sections, in declaration order.
    pub vrrp: Vec<super::vrrp::VrrpInstance>,
    /// Directives that were parsed and validated but whose behaviour the
    /// runtime does not have yet. Starting the engine with any of these is
    /// refused ("not implemented yet", naming file:line); `-c` accepts them.
    pub unimplemented: Vec<Unimplemented>,
}

/// A directive understood by the parser but not yet run by the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unimplemented {
    pub at: Location,
    /// The keyword as the user wrote it, e.g. `option httplog` or `stats uri`.
    pub keyword: String,
    /// `global`, `defaults`, `frontend`, `backend` or `listen`.
    pub section: String,
}

/// The `global` section.
#[derive(Debug, Clone, Default)]
pub struct Global {
    /// `maxconn`: process-wide limit on concurrent client connections.
    /// None: derived from the file-descriptor limit, as HAProxy does.
    pub maxconn: Option<u32>,
    /// `daemon`: fork into the background (also `-D`).
    pub daemon: bool,
    /// `pidfile` (also `-p`).
    pub pidfile: Option<PathBuf>,
    /// `spread-checks <0..50>`: percent of random jitter added to check
    /// intervals. 0 (the default) means none.
    pub spread_checks_pct: u32,
    /// `chroot <dir>`.
    pub chroot: Option<PathBuf>,
    /// `grace <time>`.
    pub grace: Option<Duration>,
    /// `max-spread-checks <time>`.
    pub max_spread_checks: Option<Duration>,
    /// `ca-base`, `crt-base`, `server-state-base` directories.
    pub ca_base: Option<PathBuf>,
    pub crt_base: Option<PathBuf>,
    pub server_state_base: Option<PathBuf>,
    /// `server-state-file <file>`: the servers' states saved before a
    /// reload (`show servers state`), for backends that load it.
    pub server_state_file: Option<String>,
    /// `log-send-hostname [<name>]` ("" for the host's own name).
    pub log_send_hostname: Option<String>,
    /// Integer settings parsed and validated but not run yet (rate
    /// limits, socket buffer sizes), by keyword.
    pub tuning: std::collections::BTreeMap<String, i64>,
    /// `hard-stop-after <time>`: how long a soft stop may wait for live
    /// connections before closing them.
    pub hard_stop_after: Option<Duration>,
    /// `master-worker`: run as a master and its worker (as `-W`).
    pub master_worker: bool,
    /// `master-worker no-exit-on-failure`: a worker that fails does not
    /// take the master and the other workers with it.
    pub master_worker_no_exit_on_failure: bool,
    /// `mworker-max-reloads <n>`: an old worker still there after more
    /// reloads than this is terminated.
    pub mworker_max_reloads: Option<u32>,
    /// `uid` / `user <name>` (resolved while parsing). 0: unchanged.
    pub uid: i32,
    /// `gid` / `group <name>`. 0: unchanged.
    pub gid: i32,
    /// `log` lines of the global section.
    pub log: Vec<LogTarget>,
    /// `stats socket` lines.
    pub stats_sockets: Vec<StatsSocket>,
    /// `stats timeout`: how long an idle runtime API connection lasts.
    /// None: HAProxy's 10 s.
    pub stats_timeout: Option<Duration>,
    /// `stats maxconn`: concurrent runtime API connections. None: 10.
    pub stats_maxconn: Option<u32>,
    /// `nbthread <n>`: worker threads (1..=64). None: one per CPU.
    pub nbthread: Option<usize>,
    /// `ulimit-n <n>`. 0: unset.
    pub ulimit_n: i32,
    /// `nbproc <n>` (deprecated in 2.6, accepted when 1).
    pub nbproc: Option<u32>,
    /// `tune.maxaccept <n>`: connections accepted per wakeup (-1: no limit).
    pub tune_maxaccept: Option<i32>,
    /// `tune.maxpollevents <n>`: events processed per poll.
    pub tune_maxpollevents: Option<u32>,
    /// `quiet` (also `-q`): no messages once set.
    pub quiet: bool,
    /// `log-tag <tag>`: the program name in syslog headers. None: the name
    /// the engine was invoked as.
    pub log_tag: Option<String>,
}

/// One `log` target: `log <address> [len N] [format F] [sample R:S]
/// <facility> [level [minlevel]]`, typed when the configuration is read
/// (every argument was checked there, with HAProxy's messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogTarget {
    pub at: Location,
    /// Where the lines go: a UDP address (port 514 when none is written),
    /// a unix datagram socket (`/dev/log`, `unix@<path>`), `stdout` or
    /// `stderr`. None for the forms HAProxy accepts and the engine does
    /// not send to (rings, stream targets, `fd@`, abstract sockets, host
    /// names, wildcards): starting with one is refused as not implemented.
    pub dest: Option<LogDest>,
    /// `format <name>`: how lines are framed. Default: HAProxy's RFC 3164
    /// without a host name ([`SyslogFormat::Legacy`]). None for the
    /// formats the engine does not frame (`local`, `priority`, `timed`,
    /// `iso`).
    pub format: Option<SyslogFormat>,
    /// `len <n>` (80..=65535): the longest line sent. Default 1024.
    pub max_len: usize,
    /// `sample <ranges>:<size>`, as written (not run).
    pub sample: Option<String>,
    /// The facility's code (`local0` is 16).
    pub facility: u8,
    /// Lines less important than this are not sent. Default `debug` (all).
    pub max_level: SyslogLevel,
    /// Lines more important than this are sent at this level. Default
    /// `emerg` (none changed).
    pub min_level: SyslogLevel,
    /// `log <address> [len N] [format F] [sample S]` as written: how
    /// messages name the target.
    pub text: String,
}

/// `stats socket <address> [params]`: the runtime API's listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsSocket {
    pub at: Location,
    pub address: BindAddr,
    /// `level user|operator|admin`: what its commands may do. Default
    /// operator.
    pub level: CliLevel,
    /// `mode <octal>`: the permissions of a unix socket's file. None:
    /// left as created.
    pub mode: Option<u32>,
    /// `expose-fd listeners`: `_getsocks` hands the listening sockets to
    /// a process started with `-x`.
    pub expose_fd: bool,
    /// Bind keywords HAProxy accepts here that the engine does not run
    /// (`expose-fd`, `user`, `accept-proxy`...): starting with one is
    /// refused as not implemented.
    pub unsupported: bool,
    /// The words after the address, as written (messages quote them).
    pub params: Vec<String>,
}

/// `level` of a `stats socket`: HAProxy's ACCESS_LVL_*.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CliLevel {
    User,
    #[default]
    Operator,
    Admin,
}

impl CliLevel {
    pub fn from_name(name: &str) -> Option<CliLevel> {
        Some(match name {
            "user" => CliLevel::User,
            "operator" => CliLevel::Operator,
            "admin" => CliLevel::Admin,
            _ => return None,
        })
    }
}

/// `mode tcp|http`. HAProxy's default is tcp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Tcp,
    Http,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Tcp => "tcp",
            Mode::Http => "http",
        }
    }
}

/// What a proxy section can do: a frontend accepts, a backend has servers,
/// a listen section does both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyKind {
    Frontend,
    Backend,
    Listen,
}

impl ProxyKind {
    pub fn is_frontend(self) -> bool {
        matches!(self, ProxyKind::Frontend | ProxyKind::Listen)
    }
    pub fn is_backend(self) -> bool {
        matches!(self, ProxyKind::Backend | ProxyKind::Listen)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ProxyKind::Frontend => "frontend",
            ProxyKind::Backend => "backend",
            ProxyKind::Listen => "listen",
        }
    }

    /// HAProxy's proxy_cap_str: a listen section is a "proxy".
    pub fn cap_str(self) -> &'static str {
        match self {
            ProxyKind::Frontend => "frontend",
            ProxyKind::Backend => "backend",
            ProxyKind::Listen => "proxy",
        }
    }
}

/// A frontend, backend or listen section, with its defaults section applied.
#[derive(Debug, Clone)]
pub struct Proxy {
    pub name: String,
    pub kind: ProxyKind,
    /// `id <n>`: a forced proxy id (stats `iid`). None: numbered in
    /// declaration order among the free ids, as HAProxy does.
    pub id: Option<u32>,
    pub at: Location,
    pub mode: Mode,
    /// `bind` lines. Frontends and listen sections have them; HAProxy also
    /// keeps one written in a backend, after a warning.
    pub binds: Vec<Bind>,
    /// `maxconn`: concurrent connections accepted by this frontend.
    /// None: the global default (`-N`, 2000 when unset there too... resolved
    /// by the runtime).
    pub maxconn: Option<u32>,
    /// `backlog <n>`: the listen queue of the binds that set none. None
    /// (also from `backlog 0`): the frontend's maxconn, as in HAProxy.
    pub backlog: Option<u32>,
    pub timeouts: Timeouts,
    /// `retries`: connection attempts after the first. Default 3.
    pub retries: u32,
    /// `option redispatch [interval]`: None when off; Some(-1) is HAProxy's
    /// default interval (redispatch on the last retry).
    pub redispatch: Option<i32>,
    /// `option allbackups`: use every backup server at once, not the first.
    pub allbackups: bool,
    /// `balance`: default roundrobin.
    pub balance: Balance,
    /// `hash-type`: how hash-based algorithms map keys to servers.
    pub hash_type: HashType,
    /// `persist rdp-cookie[(<name>)]`: the RDP cookie (`msts` by default)
    /// whose encoded address names the server.
    pub persist_rdp: Option<String>,
    /// `server` lines (backends and listen only), in declaration order.
    pub servers: Vec<Server>,
    /// `default_backend <name>` (resolved and mode-checked by `load`).
    pub default_backend: Option<String>,
    /// `use_backend <name> if|unless <cond>` rules, in order.
    pub use_backends: Vec<UseBackend>,
    /// `log` lines; `log global` sets `log_global` instead.
    pub log: Vec<LogTarget>,
    /// `log global`: use the global section's log targets.
    pub log_global: bool,
    /// The `option` switches that are not behaviour of their own fields.
    pub options: ProxyOptions,
    /// `option httpchk|smtpchk|ldap-check|mysql-check...`: the probe sent by
    /// health checks. Default: a TCP connect.
    pub health_check: HealthCheck,
    /// `http-check` lines.
    pub http_check: HttpCheckRules,
    /// `tcp-check` lines, in order (run with `option tcp-check`).
    pub tcp_check: Vec<TcpCheckRule>,
    /// `stats enable|uri|auth|hide-version|realm`.
    pub stats: StatsSettings,
    /// `acl` lines, in declaration order. Anonymous ACLs of conditions
    /// (`if { src 10.0.0.0/8 }`) are here too, named by their own text.
    pub acls: Vec<Acl>,
    /// `http-request` rules, in order.
    pub http_request: Vec<HttpRequestRule>,
    /// `tcp-request inspect-delay`: how long content rules may wait for
    /// the data they look at. None: they decide on what is there.
    pub inspect_delay: Option<Duration>,
    /// `tcp-request content accept|reject` rules, in order.
    pub tcp_content: Vec<TcpContentRule>,
    /// `http-response` rules, in order.
    pub http_response: Vec<HttpResponseRule>,
    /// `redirect` rules, in order.
    pub redirects: Vec<Redirect>,
    /// `errorfile` / `errorloc*` replacements, by status code; a later line
    /// for the same code wins.
    pub errors: Vec<ErrorMessage>,
    /// `disabled`: the proxy is parsed and checked but does not start.
    pub disabled: bool,
    /// `cookie <name> [options]`: the persistence cookie (backends).
    pub cookie: Option<Persistence>,
    /// `fullconn`: the backend load at which servers reach their maxconn.
    pub fullconn: Option<u32>,
    /// `log-format`: the frontend's own log line. It and the `option
    /// httplog`/`tcplog` switches replace each other, the last one wins.
    pub log_format: Option<CustomLogFormat>,
    /// `load-server-state-from-file`: where a backend's servers find the
    /// state they had before a reload. None: not said (no file is read;
    /// a state carried by the master still applies).
    pub load_server_state: Option<LoadServerState>,
    /// `server-state-file-name`: the local state file (`local`), under
    /// `server-state-base`; None: the backend's name.
    pub server_state_file_name: Option<String>,
}

/// `load-server-state-from-file global|local|none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadServerState {
    /// The `global` section's `server-state-file`.
    Global,
    /// The backend's own file (`server-state-file-name`).
    Local,
    /// Nothing: the servers start as the configuration says.
    None,
}

/// A `log-format` string as written, and where (its errors cite the line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomLogFormat {
    pub format: String,
    pub at: Location,
}

/// Options stored as switches; `no option X` clears them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyOptions {
    pub httplog: bool,
    /// `option httplog clf`: the Common Log Format variant.
    pub httplog_clf: bool,
    /// `option httpslog`: the HTTPS variant of the HTTP log format.
    pub httpslog: bool,
    pub tcplog: bool,
    pub dontlognull: bool,
    /// `option socket-stats`: a stats line per listener.
    pub socket_stats: bool,
    /// `option idle-close-on-response`: at a soft stop, an idle HTTP
    /// connection is not closed at once but at its next response.
    pub idle_close_on_response: bool,
    pub http_server_close: bool,
    pub httpclose: bool,
    pub http_keep_alive: bool,
    pub splice_request: bool,
    pub splice_response: bool,
    pub splice_auto: bool,
    pub abortonclose: bool,
    pub tcpka: bool,
    pub clitcpka: bool,
    pub srvtcpka: bool,
    pub log_health_checks: bool,
    pub prefer_last_server: bool,
    /// `option forwardfor [except NET] [header NAME] [if-none]`.
    pub forwardfor: Option<ForwardFor>,
}

/// `option forwardfor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardFor {
    /// `except <net>`: sources for which no header is added, as written.
    pub except: Option<String>,
    /// `header <name>`. Default `x-forwarded-for`.
    pub header: String,
    /// `if-none`: only add the header when the request has none.
    pub if_none: bool,
}

/// `http-check` lines of a proxy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpCheckRules {
    /// Any `http-check send|expect|connect...` line (HAProxy warns when
    /// there is no `option httpchk` to run them).
    pub used: bool,
    pub disable_on_404: bool,
    pub send: Option<HttpCheckSend>,
    pub expects: Vec<HttpExpect>,
}

/// `http-check send [meth <m>] [uri <u>] [ver <v>] [hdr <n> <v>]... [body <b>]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpCheckSend {
    pub method: Option<String>,
    pub uri: Option<String>,
    pub version: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// Forms not built yet (`uri-lf`, `body-lf`, `comment`).
    pub unsupported: Vec<String>,
}

/// `http-check expect [!] <match> <pattern>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpExpect {
    pub negate: bool,
    pub kind: HttpExpectKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpExpectKind {
    /// Inclusive ranges of status codes.
    Status(Vec<(u16, u16)>),
    /// A regex on the status code.
    Rstatus(String),
    /// A string in the body.
    String(String),
    /// A regex on the body.
    Rstring(String),
    /// `hdr|fhdr name [-m <meth>] <name> [value [-m <meth>] <value>]`: a
    /// header whose name matches (and a value, each comma-separated one
    /// with `hdr`, the whole line with `fhdr`).
    Header {
        full: bool,
        name: HeaderMatch,
        value: Option<HeaderMatch>,
    },
}

/// A header name or value pattern of `http-check expect hdr`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderMatch {
    pub method: MatchMethod,
    pub pattern: String,
}

/// `-m str|beg|end|sub|reg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchMethod {
    Str,
    Beg,
    End,
    Sub,
    Reg,
}

/// One `tcp-check` line. Its place in the list is HAProxy's rule index
/// (step numbers in messages are index + 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpCheckRule {
    pub comment: Option<String>,
    pub action: TcpCheckAction,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpCheckAction {
    /// `connect [port <n>] [addr <ip>] [linger] [default] [comment <c>]`.
    Connect {
        port: Option<u16>,
        addr: Option<std::net::IpAddr>,
    },
    /// `send <string>` or `send-binary <hex>`: the bytes.
    Send(Vec<u8>),
    Expect(TcpExpect),
    /// `comment <text>`: a label for the next rules' messages.
    Comment,
    /// Forms recorded but not run (variables, log-format, TLS...).
    Unsupported(String),
}

/// `tcp-check expect [min-recv <n>] [ok-status|error-status|tout-status
/// <st>] [on-success|on-error <text>] [comment <c>] [!] <match> <pattern>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpExpect {
    pub negate: bool,
    pub pattern: TcpPattern,
    /// None: HAProxy's -1 (wait for more on a mismatch).
    pub min_recv: Option<usize>,
    /// Status codes as HAProxy spells them (`L7OK`, `L4CON`...).
    pub ok_status: Option<String>,
    pub error_status: Option<String>,
    pub tout_status: Option<String>,
    pub on_success: Option<String>,
    pub on_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpPattern {
    String(Vec<u8>),
    Rstring(String),
    Binary(Vec<u8>),
    Rbinary(String),
}

/// What a health check sends and expects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum HealthCheck {
    /// Connect only (the default).
    #[default]
    Tcp,
    /// `option httpchk [<method>] [<uri>] [<version>]`. `version` may carry
    /// `\r\n`-separated headers (deprecated in 2.6, still honoured).
    Http {
        method: String,
        uri: String,
        version: String,
    },
    /// `option smtpchk [HELO|EHLO <domain>]`.
    Smtp { verb: String, domain: String },
    /// `option ldap-check`.
    Ldap,
    /// `option mysql-check [user <name> [post-41|pre-41]]`.
    Mysql { user: Option<String>, pre41: bool },
    /// `option redis-check`.
    Redis,
    /// `option pgsql-check user <name>`.
    Pgsql { user: String },
    /// `option ssl-hello-chk`.
    SslHello,
    /// `option tcp-check`: the proxy's `tcp-check` rules.
    TcpRules,
}

/// The statistics page (`stats ...` in a proxy).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsSettings {
    /// `stats enable` (any other `stats` keyword also enables it).
    pub enabled: bool,
    pub hide_version: bool,
    /// `stats uri <prefix>`. None: `/haproxy?stats`.
    pub uri: Option<String>,
    /// `stats realm <realm>`. None: `HAProxy Statistics`.
    pub realm: Option<String>,
    /// `stats auth <user>:<password>`, in order.
    pub auth: Vec<(String, String)>,
    /// `stats refresh <delay>`.
    pub refresh: Option<Duration>,
    /// `stats admin if|unless <cond>`, in order: the first that holds
    /// opens the admin actions.
    pub admin: Vec<Condition>,
    /// `stats show-legends`: addresses, cookies and algorithms shown.
    pub show_legends: bool,
    /// `stats show-node [<name>]`: Some("") names the node as `node` does.
    pub show_node: Option<String>,
    /// `stats show-desc [<text>]`: Some("") uses the global `description`.
    pub show_desc: Option<String>,
    /// `stats scope <proxy>`, in order: only these proxies are shown (all
    /// when empty).
    pub scope: Vec<String>,
}

/// `acl <name> <criterion> [flags] [operator] [<value>] ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acl {
    pub at: Location,
    pub name: String,
    /// The sample fetch, e.g. `hdr` for `hdr(host)`.
    pub fetch: String,
    /// The fetch's arguments between parentheses, split on commas.
    pub fetch_args: Vec<String>,
    /// `-i`: case-insensitive matching.
    pub ignore_case: bool,
    /// `-m <method>` when given.
    pub match_method: Option<String>,
    /// The patterns, as written.
    pub values: Vec<String>,
}

/// One term of a condition: `[!]acl_name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CondTerm {
    pub negate: bool,
    pub acl: String,
}

/// `if|unless <terms>`: an OR (`or`, `||`) of ANDs of terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// true for `unless`.
    pub unless: bool,
    pub any_of: Vec<Vec<CondTerm>>,
}

/// A `tcp-request content accept|reject [if|unless <cond>]` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpContentRule {
    pub at: Location,
    pub reject: bool,
    pub cond: Option<Condition>,
}

/// An `http-request` rule (2.6 has many actions; these are parsed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequestRule {
    pub at: Location,
    pub action: HttpRequestAction,
    pub condition: Option<Condition>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpRequestAction {
    /// `deny [deny_status <code>]`. Default 403.
    Deny {
        status: u16,
    },
    /// `allow`.
    Allow,
    /// A header edit (`set-header`, `add-header`, ...).
    Header(HeaderAction),
    /// `set-path`, `set-query`, `set-uri`, `set-method` with a plain value.
    SetPath(String),
    SetQuery(String),
    SetUri(String),
    SetMethod(String),
    /// `redirect <rule>`: as the `redirect` keyword (its condition is the
    /// rule's).
    Redirect(Redirect),
    /// `return [status N] [content-type T] [string S | file F] [hdr N V]*`.
    Return(ReturnSpec),
    /// `use-service <name>`: an applet answers.
    UseService(Service),
    /// Any other HAProxy action (`set-header`, `redirect`, `track-sc0`...):
    /// its words up to the condition, as written. Always unimplemented.
    Other {
        action: String,
        args: Vec<String>,
    },
}

/// The services `http-request use-service` may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// `prometheus-exporter`: the stats as Prometheus metrics.
    PrometheusExporter,
}

/// A header edit of `http-request` or `http-response`, with a plain value
/// (a log-format value is not built yet and stays an `Other` action).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderAction {
    /// `set-header <name> <value>`: replaces every line of that name.
    Set { name: String, value: String },
    /// `add-header <name> <value>`: one more line.
    Add { name: String, value: String },
    /// `del-header <name>`.
    Del { name: String },
    /// `replace-header <name> <regex> <replace>`: on each whole line;
    /// `replace-value`: on each comma-separated value.
    Replace {
        name: String,
        regex: String,
        replace: String,
        each_value: bool,
    },
}

/// What `http-request return` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnSpec {
    /// 200 by default.
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// `hdr <name> <value>` lines, in order.
    pub headers: Vec<(String, String)>,
}

/// An `http-response` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponseRule {
    pub at: Location,
    pub action: HttpResponseAction,
    pub condition: Option<Condition>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpResponseAction {
    Allow,
    /// `deny [deny_status <code>]`: the response is replaced (502 default).
    Deny {
        status: u16,
    },
    Header(HeaderAction),
    /// Any other action, as written: not built yet.
    Other {
        action: String,
        args: Vec<String>,
    },
}

/// `redirect location|prefix|scheme <to> [code N] [options] [if|unless c]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub at: Location,
    pub kind: RedirectKind,
    pub to: String,
    /// 301, 302 (default), 303, 307 or 308.
    pub code: u16,
    /// `drop-query`, `append-slash`, `set-cookie X`, ... as written.
    pub options: Vec<String>,
    pub condition: Option<Condition>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectKind {
    Location,
    Prefix,
    Scheme,
}

/// A replacement for a generated error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorMessage {
    pub at: Location,
    pub status: u16,
    pub source: ErrorSource,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorSource {
    /// `errorfile <code> <file>`: the file's raw bytes (a full HTTP response).
    File { path: PathBuf, contents: Vec<u8> },
    /// `errorloc`/`errorloc302` (302) or `errorloc303` (303) to this URL.
    Location { code: u16, url: String },
}

/// One `use_backend` rule.
#[derive(Debug, Clone)]
pub struct UseBackend {
    pub at: Location,
    pub backend: String,
    /// The condition, as written after the backend name (`if www_domain`).
    pub condition: Vec<String>,
    /// The same condition, resolved against the proxy's ACLs.
    pub parsed: Option<Condition>,
}

/// The timeouts of a proxy. None: not set (HAProxy then waits forever, and
/// warns at startup for connect/client/server).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Option<Duration>,
    pub client: Option<Duration>,
    pub server: Option<Duration>,
    /// `timeout client-fin`: after the client half-closed. Default: client.
    pub client_fin: Option<Duration>,
    /// `timeout server-fin`: after the server half-closed. Default: server.
    pub server_fin: Option<Duration>,
    /// `timeout tunnel`.
    pub tunnel: Option<Duration>,
    /// `timeout queue`. Default: connect.
    pub queue: Option<Duration>,
    /// `timeout check`: read timeout of a health check once connected.
    pub check: Option<Duration>,
    pub http_request: Option<Duration>,
    pub http_keep_alive: Option<Duration>,
    /// `timeout tarpit`.
    pub tarpit: Option<Duration>,
}

/// `bind <addr>[,<addr>...] [params]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    pub at: Location,
    pub addrs: Vec<BindAddr>,
    /// `name <name>`: the listeners' name in the stats (else `sock-<id>`).
    pub name: Option<String>,
    /// `id <n>`: the listener's id (a single socket only).
    pub id: Option<u32>,
    /// `backlog <n>`: the listen queue of these sockets. None (also from
    /// `backlog 0`, as in HAProxy): the proxy's `backlog`, else its maxconn.
    pub backlog: Option<u32>,
    /// The addresses as written (messages quote them).
    pub text: String,
}

/// One listening address of a `bind` line (after expanding nothing: a port
/// range stays a range and the runtime opens one listener per port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindAddr {
    /// `[ipv4@|ipv6@]addr:port[-port]`; `*:80` and `:80` are the IPv4
    /// wildcard, `:::80` the IPv6 one.
    Inet {
        ip: IpAddr,
        port_first: u16,
        port_last: u16,
    },
    /// `unix@/path` or `/path`.
    Unix(PathBuf),
    /// `fd@<n>`: an inherited socket that already listens.
    Fd(i32),
}

/// `hash-type map-based|consistent [<function>] [avalanche]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HashType {
    /// `consistent`: a tree of server points; default `map-based`.
    pub consistent: bool,
    /// The hash function, as written; None: sdbm.
    pub function: Option<String>,
    /// `avalanche` (implied by a bare `consistent`): the key goes through
    /// a full-avalanche hash first.
    pub avalanche: bool,
}

/// `balance <algorithm> [args]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Balance {
    #[default]
    RoundRobin,
    StaticRr,
    LeastConn,
    First,
    Source,
    /// `uri [len N] [depth N] [whole] [path-only]`, args as written.
    Uri(Vec<String>),
    /// `url_param <name> [check_post]`.
    UrlParam(Vec<String>),
    /// `hdr(<name>) [use_domain_only]`.
    Hdr {
        name: String,
        use_domain_only: bool,
    },
    /// `rdp-cookie[(<name>)]`.
    RdpCookie(Option<String>),
    /// `hash <expr>`: a sample expression, as written.
    Hash(String),
    /// `random[(<draws>)]`.
    Random(u32),
}

impl Balance {
    /// The name as HAProxy's stats report it (the `algo` column).
    pub fn name(&self) -> &'static str {
        match self {
            Balance::RoundRobin => "roundrobin",
            Balance::StaticRr => "static-rr",
            Balance::LeastConn => "leastconn",
            Balance::First => "first",
            Balance::Source => "source",
            Balance::Uri(_) => "uri",
            Balance::UrlParam(_) => "url_param",
            Balance::Hash(_) => "hash",
            Balance::Hdr { .. } => "hdr",
            Balance::RdpCookie(_) => "rdp-cookie",
            Balance::Random(_) => "random",
        }
    }
}

/// Where a server's traffic goes: `server <name> <addr>[:port]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerPort {
    /// No port: the port the client connected to.
    SameAsClient,
    Fixed(u16),
    /// `+N` / `-N`: the client's destination port shifted by N.
    Offset(i32),
}

/// A `server` line, with `default-server` settings applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Server {
    pub name: String,
    pub at: Location,
    pub ip: IpAddr,
    /// The host name when the address was not a literal IP. HAProxy
    /// resolves it at startup (never during `-c`); `ip` holds the address
    /// the loader resolved, or is unspecified when resolution failed (then
    /// the server is also listed in `Config::unimplemented`).
    pub fqdn: Option<String>,
    pub port: ServerPort,
    /// `weight`: 0..=256, default 1.
    pub weight: u32,
    /// `backup`: used only when no active server is usable.
    pub backup: bool,
    /// `disabled`: starts in maintenance.
    pub disabled: bool,
    /// `maxconn`: concurrent connections to this server. None: unlimited.
    pub maxconn: Option<u32>,
    /// `maxqueue`: requests waiting for this server. None: unlimited.
    pub maxqueue: Option<u32>,
    /// `minconn`: the floor of a dynamic maxconn (with `fullconn`).
    pub minconn: Option<u32>,
    /// `slowstart`: the warm-up after coming back UP, in whole seconds
    /// (HAProxy rounds the delay up); 0: none.
    pub slowstart: u32,
    /// `cookie <value>`.
    pub cookie: Option<String>,
    /// `id <n>`: None means the default (position in the backend, from 1).
    pub id: Option<u32>,
    pub check: CheckSettings,
}

/// Health-check settings of one server.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CheckSettings {
    /// `check`: checks are on.
    pub enabled: bool,
    /// `port`: check this port instead of the traffic port.
    pub port: Option<u16>,
    /// `addr`: check this address instead of the traffic address.
    pub addr: Option<IpAddr>,
    /// `inter`: interval between checks. Default 2000 ms.
    pub inter: Duration,
    /// `fastinter`: interval while going up or down. Default: inter.
    pub fastinter: Option<Duration>,
    /// `downinter`: interval while fully down. Default: inter.
    pub downinter: Option<Duration>,
    /// `rise`: consecutive successes to be considered UP. Default 2.
    pub rise: u32,
    /// `fall`: consecutive failures to be considered DOWN. Default 3.
    pub fall: u32,
    /// `observe layer4|layer7`: traffic errors count against the server.
    pub observe: Observe,
    /// `on-error`: what `error-limit` consecutive observed errors do.
    pub on_error: OnError,
    /// `error-limit`: observed errors in a row that trigger `on-error`.
    /// Default 10.
    pub error_limit: u32,
    /// `on-marked-down shutdown-sessions`: its connections are cut when
    /// it goes DOWN.
    pub shutdown_on_down: bool,
    /// `on-marked-up shutdown-backup-sessions`: an active server coming
    /// UP cuts the connections of the backend's backup servers.
    pub shutdown_backups_on_up: bool,
}

/// `observe`: which traffic events passive health checks watch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Observe {
    #[default]
    None,
    /// Connection failures and successes.
    Layer4,
    /// Connection failures, and HTTP responses (5xx but 501 and 505,
    /// invalid ones, read errors and timeouts) and their successes.
    Layer7,
}

/// `on-error`, HAProxy's HANA_ONERR_*.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OnError {
    /// Check at `fastinter` only.
    FastInter,
    /// Count as a failed check (the default).
    #[default]
    FailCheck,
    /// One more failed check takes the server DOWN.
    SuddenDeath,
    /// DOWN at once.
    MarkDown,
}

impl Default for CheckSettings {
    fn default() -> Self {
        CheckSettings {
            enabled: false,
            port: None,
            addr: None,
            inter: Duration::from_millis(2000),
            fastinter: None,
            downinter: None,
            rise: 2,
            fall: 3,
            observe: Observe::None,
            on_error: OnError::FailCheck,
            error_limit: 10,
            shutdown_on_down: false,
            shutdown_backups_on_up: false,
        }
    }
}

impl Server {
    /// The address health checks connect to, given the traffic port rule.
    /// None when neither `port` nor a fixed server port says where to go.
    pub fn check_target(&self) -> Option<SocketAddr> {
        let ip = self.check.addr.unwrap_or(self.ip);
        let port = match (self.check.port, self.port) {
            (Some(p), _) => p,
            (None, ServerPort::Fixed(p)) => p,
            (None, _) => return None,
        };
        Some(SocketAddr::new(ip, port))
    }
}

/// HAProxy's automatic numbering of proxies and servers: forced ids stay;
/// each other one takes the first id not forced nor taken, counting from a
/// cursor that every entry moves forward by one, forced or not.
pub fn number_ids(forced: &[Option<u32>]) -> Vec<u32> {
    let mut used: std::collections::BTreeSet<u32> = forced.iter().flatten().copied().collect();
    let mut next = 1;
    forced
        .iter()
        .map(|f| {
            let id = f.unwrap_or_else(|| {
                while used.contains(&next) {
                    next += 1;
                }
                used.insert(next);
                next
            });
            next += 1;
            id
        })
        .collect()
}

#[cfg(test)]
mod numbering_tests {
    use super::number_ids;

    #[test]
    fn automatic_ids_go_around_forced_ones_as_in_haproxy() {
        // GLOBAL, fe, app (id 2), other, third (id 10): HAProxy 2.6 gives
        // fe 3 and other 5.
        assert_eq!(
            number_ids(&[None, None, Some(2), None, Some(10)]),
            [1, 3, 2, 5, 10]
        );
        assert_eq!(number_ids(&[None, Some(1)]), [2, 1]);
        assert_eq!(number_ids(&[None, None, None]), [1, 2, 3]);
    }
}
