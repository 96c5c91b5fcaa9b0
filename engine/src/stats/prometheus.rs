//! HAProxy 2.6's Prometheus exporter (`http-request use-service
//! prometheus-exporter`): the page it serves at `/metrics`, rendered from
//! `show info`'s fields and the stats snapshot `show stat` prints, so the
//! numbers agree.
//!
//! HAProxy dumps metric by metric, not object by object: the process
//! metrics, then each frontend metric for every frontend, then the
//! backends', then the servers', in stats-field order; a metric's
//! `# HELP` and `# TYPE` come with its first sample. Two tables hold the
//! metrics ([`GLOBALS`], [`STATS`]): names, types and help texts are
//! HAProxy 2.6.12's.
//!
//! A sample's value is its CSV cell. Where the cell is empty:
//! - HAProxy leaves some cells empty too (a server without `maxconn`,
//!   without checks, not in slowstart) and prints `NaN`: so do we;
//! - otherwise the engine does not measure it (queue and response times,
//!   HTTP counters): the sample is left out rather than made up, and a
//!   metric left with no sample has no `# HELP` either, as in HAProxy.
//!
//! Left out entirely, their scopes accepted and selecting nothing:
//! - `haproxy_listener_*` (`current_sessions`, `max_sessions`,
//!   `limit_sessions`, `sessions_total`, `bytes_in_total`,
//!   `bytes_out_total`, `requests_denied_total`, `responses_denied_total`,
//!   `request_errors_total`, `status`, `denied_connections_total`,
//!   `denied_sessions_total`, `failed_header_rewriting_total`,
//!   `internal_errors_total`): the engine keeps no per-listener counters,
//!   and HAProxy shows them only under `option socket-stats`;
//! - `haproxy_sticktable_size` and `_used`: the engine has no stick tables.

use std::fmt::Write;

use super::csv::Line;
use super::ProxyLines;
use crate::server::check_status::{CheckResult, CheckStatus};

/// The content type of the page: Prometheus' text format 0.0.4.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4";

/// The headers of HAProxy's `200 OK`, as it writes them on HTTP/1.1.
/// HAProxy streams the page with `transfer-encoding: chunked`; a
/// `content-length` frames the whole page as well. A HEAD request gets the
/// headers alone; a query [`Query::parse`] refuses gets HAProxy's 400 page.
pub const HEADERS: [(&str, &str); 2] = [
    ("cache-control", "no-cache"),
    ("content-type", CONTENT_TYPE),
];

/// What the query string of `/metrics` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Query {
    /// `SCOPE_*` bits.
    scopes: u8,
    /// `no-maint`: no server metric for servers in maintenance.
    pub no_maint: bool,
}

const SCOPE_GLOBAL: u8 = 1;
const SCOPE_FRONTEND: u8 = 2;
const SCOPE_BACKEND: u8 = 4;
const SCOPE_SERVER: u8 = 8;
const SCOPE_LISTENER: u8 = 16;
const SCOPE_STICKTABLE: u8 = 32;
const SCOPE_ALL: u8 = 63;

/// A query string HAProxy answers with a 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad query string for the Prometheus exporter")]
pub struct BadQuery;

impl Default for Query {
    /// No query string: every scope, servers in maintenance included.
    fn default() -> Self {
        Query {
            scopes: SCOPE_ALL,
            no_maint: false,
        }
    }
}

impl Query {
    /// HAProxy's reading of the query string (what follows `?`; "" for
    /// none). Each `scope=` adds a scope (`global`, `frontend`, `backend`,
    /// `server`, `listener`, `sticktable`, `*` for all); an empty one
    /// clears those given before it; without any, all are shown.
    /// `no-maint` hides servers in maintenance. Other parameters are
    /// ignored. Refused: an unknown scope, `scope` without `=`, a second
    /// `=` in a value, a bad `%` escape.
    pub fn parse(query: &str) -> Result<Query, BadQuery> {
        let query = query.split('#').next().unwrap_or_default();
        let mut q = Query::default();
        let mut scoped = false;
        for param in query.split('&') {
            let (key, value) = match param.split_once('=') {
                Some((_, v)) if v.contains('=') => return Err(BadQuery),
                Some((k, v)) => (url_decode(k)?, Some(url_decode(v)?)),
                None => (url_decode(param)?, None),
            };
            match key.as_str() {
                "scope" => {
                    if !scoped {
                        scoped = true;
                        q.scopes = 0;
                    }
                    q.scopes = match value.as_deref().ok_or(BadQuery)? {
                        "" => 0,
                        name => q.scopes | scope(name)?,
                    };
                }
                "no-maint" => q.no_maint = true,
                _ => {}
            }
        }
        Ok(q)
    }

    fn wants(self, scope: u8) -> bool {
        self.scopes & scope != 0
    }
}

fn scope(name: &str) -> Result<u8, BadQuery> {
    Ok(match name {
        "*" => SCOPE_ALL,
        "global" => SCOPE_GLOBAL,
        "frontend" => SCOPE_FRONTEND,
        "backend" => SCOPE_BACKEND,
        "server" => SCOPE_SERVER,
        "listener" => SCOPE_LISTENER,
        "sticktable" => SCOPE_STICKTABLE,
        _ => return Err(BadQuery),
    })
}

/// HAProxy's `url_decode` for forms: `+` is a space, `%` takes two hex
/// digits; the result ends at a NUL, as a C string does.
fn url_decode(s: &str) -> Result<String, BadQuery> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        out.push(match b {
            b'+' => b' ',
            b'%' => {
                let hex = |c: Option<u8>| c.and_then(|c| (c as char).to_digit(16)).ok_or(BadQuery);
                let (hi, lo) = (hex(bytes.next())?, hex(bytes.next())?);
                (hi * 16 + lo) as u8
            }
            b => b,
        });
    }
    if let Some(nul) = out.iter().position(|&b| b == 0) {
        out.truncate(nul);
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// The page for `query`. `info` are `show info`'s fields; `proxies` the
/// whole snapshot (unfiltered: a backend's aggregated states count every
/// server, `no-maint` or not, as HAProxy's do).
pub fn render(info: &[(&str, String)], proxies: &[ProxyLines], query: Query) -> String {
    let mut page = Page::default();
    if query.wants(SCOPE_GLOBAL) {
        globals(&mut page, info);
    }
    let sections = [
        (SCOPE_FRONTEND, FE, "haproxy_frontend_"),
        (SCOPE_BACKEND, BE, "haproxy_backend_"),
        (SCOPE_SERVER, SV, "haproxy_server_"),
    ];
    for (scope, object, prefix) in sections {
        if query.wants(scope) {
            section(&mut page, prefix, object, proxies, query.no_maint);
        }
    }
    page.text
}

/// Prometheus' two metric types, as HAProxy assigns them.
#[derive(Clone, Copy)]
enum Kind {
    Gauge,
    Counter,
}
use Kind::{Counter, Gauge};

/// The objects a metric exists for.
const FE: u8 = 1;
const BE: u8 = 2;
const SV: u8 = 4;

/// How a metric reads its line.
#[derive(Clone, Copy)]
enum How {
    /// The cell; no sample where it is empty (the engine does not measure it).
    Plain,
    /// The cell, `NaN` where empty: HAProxy leaves it empty too.
    NanWhenEmpty,
    /// The cell, for HTTP proxies only.
    Http,
    /// The cell, labelled with its status class, for HTTP proxies only.
    Code(&'static str),
    /// The cell's milliseconds in seconds (a check's duration is there
    /// once a check finished, as HAProxy wants it).
    Seconds,
    /// One sample per state, 1 for the object's.
    Status,
    /// One sample per finished check status, 1 for the last one's, when
    /// the server's check is enabled.
    CheckStatus,
    /// The check's layer 5-7 code, 0 when it has none, check enabled.
    CheckCode,
    /// A backend's servers counted per state.
    AggServer,
    /// A backend's servers counted per last check status.
    AggCheck,
}
use How::*;

/// A frontend, backend or server metric: its CSV column, its name after
/// the object's prefix, and what HAProxy's `# HELP` says.
struct Stat {
    column: &'static str,
    name: &'static str,
    kind: Kind,
    on: u8,
    how: How,
    help: &'static str,
}

impl Stat {
    const fn new(
        column: &'static str,
        name: &'static str,
        kind: Kind,
        on: u8,
        how: How,
        help: &'static str,
    ) -> Stat {
        Stat {
            column,
            name,
            kind,
            on,
            how,
            help,
        }
    }
}

/// HAProxy 2.6.12's frontend, backend and server metrics, in its order.
/// The 4 `*_time_average_seconds` are the CSV's averages: HAProxy's
/// exporter divides by 1024 samples even before it has seen 1024, so its
/// values are smaller until then.
#[rustfmt::skip]
const STATS: [Stat; 75] = [
    Stat::new("qcur", "current_queue", Gauge, BE | SV, Plain, "Number of current queued connections"),
    Stat::new("qmax", "max_queue", Gauge, BE | SV, Plain, "Highest value of queued connections encountered since process started"),
    Stat::new("scur", "current_sessions", Gauge, FE | BE | SV, Plain, "Number of current sessions on the frontend, backend or server"),
    Stat::new("smax", "max_sessions", Gauge, FE | BE | SV, Plain, "Highest value of current sessions encountered since process started"),
    Stat::new("slim", "limit_sessions", Gauge, FE | BE | SV, NanWhenEmpty, "Frontend/listener/server's maxconn, backend's fullconn"),
    Stat::new("stot", "sessions_total", Counter, FE | BE | SV, Plain, "Total number of sessions since process started"),
    Stat::new("bin", "bytes_in_total", Counter, FE | BE | SV, Plain, "Total number of request bytes since process started"),
    Stat::new("bout", "bytes_out_total", Counter, FE | BE | SV, Plain, "Total number of response bytes since process started"),
    Stat::new("dreq", "requests_denied_total", Counter, FE | BE, Plain, "Total number of denied requests since process started"),
    Stat::new("dresp", "responses_denied_total", Counter, FE | BE | SV, Plain, "Total number of denied responses since process started"),
    Stat::new("ereq", "request_errors_total", Counter, FE, Plain, "Total number of invalid requests since process started"),
    Stat::new("econ", "connection_errors_total", Counter, BE | SV, Plain, "Total number of failed connections to server since the worker process started"),
    Stat::new("eresp", "response_errors_total", Counter, BE | SV, Plain, "Total number of invalid responses since the worker process started"),
    Stat::new("wretr", "retry_warnings_total", Counter, BE | SV, Plain, "Total number of server connection retries since the worker process started"),
    Stat::new("wredis", "redispatch_warnings_total", Counter, BE | SV, Plain, "Total number of server redispatches due to connection failures since the worker process started"),
    Stat::new("status", "status", Gauge, FE | BE | SV, Status, "Current status of the service, per state label value."),
    Stat::new("weight", "weight", Gauge, BE | SV, Plain, "Server's effective weight, or sum of active servers' effective weights for a backend"),
    Stat::new("act", "active_servers", Gauge, BE, Plain, "Total number of active UP servers with a non-zero weight"),
    Stat::new("bck", "backup_servers", Gauge, BE, Plain, "Total number of backup UP servers with a non-zero weight"),
    Stat::new("chkfail", "check_failures_total", Counter, SV, NanWhenEmpty, "Total number of failed individual health checks per server/backend, since the worker process started"),
    Stat::new("chkdown", "check_up_down_total", Counter, BE | SV, NanWhenEmpty, "Total number of failed checks causing UP to DOWN server transitions, per server/backend, since the worker process started"),
    Stat::new("lastchg", "check_last_change_seconds", Gauge, BE | SV, Plain, "How long ago the last server state changed, in seconds"),
    Stat::new("downtime", "downtime_seconds_total", Counter, BE | SV, NanWhenEmpty, "Total time spent in DOWN state, for server or backend"),
    Stat::new("qlimit", "queue_limit", Gauge, SV, NanWhenEmpty, "Limit on the number of connections in queue, for servers only (maxqueue argument)"),
    Stat::new("throttle", "current_throttle", Gauge, SV, NanWhenEmpty, "Throttling ratio applied to a server's maxconn and weight during the slowstart period (0 to 100%)"),
    Stat::new("lbtot", "loadbalanced_total", Counter, BE | SV, Plain, "Total number of requests routed by load balancing since the worker process started (ignores queue pop and stickiness)"),
    Stat::new("rate_lim", "limit_session_rate", Gauge, FE, Plain, "Limit on the number of sessions accepted in a second (frontend only, 'rate-limit sessions' setting)"),
    Stat::new("rate_max", "max_session_rate", Gauge, FE | BE | SV, Plain, "Highest value of sessions per second observed since the worker process started"),
    Stat::new("check_status", "check_status", Gauge, SV, CheckStatus, "Status of last health check, per state label value."),
    Stat::new("check_code", "check_code", Gauge, SV, CheckCode, "layer5-7 code, if available of the last health check."),
    Stat::new("check_duration", "check_duration_seconds", Gauge, SV, Seconds, "Total duration of the latest server health check, in seconds."),
    Stat::new("hrsp_1xx", "http_responses_total", Counter, FE | BE | SV, Code("1xx"), "Total number of HTTP responses with status 100-199 returned by this object since the worker process started"),
    Stat::new("hrsp_2xx", "http_responses_total", Counter, FE | BE | SV, Code("2xx"), "Total number of HTTP responses with status 100-199 returned by this object since the worker process started"),
    Stat::new("hrsp_3xx", "http_responses_total", Counter, FE | BE | SV, Code("3xx"), "Total number of HTTP responses with status 100-199 returned by this object since the worker process started"),
    Stat::new("hrsp_4xx", "http_responses_total", Counter, FE | BE | SV, Code("4xx"), "Total number of HTTP responses with status 100-199 returned by this object since the worker process started"),
    Stat::new("hrsp_5xx", "http_responses_total", Counter, FE | BE | SV, Code("5xx"), "Total number of HTTP responses with status 100-199 returned by this object since the worker process started"),
    Stat::new("hrsp_other", "http_responses_total", Counter, FE | BE | SV, Code("other"), "Total number of HTTP responses with status 100-199 returned by this object since the worker process started"),
    Stat::new("req_rate_max", "http_requests_rate_max", Gauge, FE, Http, "Highest value of http requests observed since the worker process started"),
    Stat::new("req_tot", "http_requests_total", Counter, FE | BE, Http, "Total number of HTTP requests processed by this object since the worker process started"),
    Stat::new("cli_abrt", "client_aborts_total", Counter, BE | SV, Plain, "Total number of requests or connections aborted by the client since the worker process started"),
    Stat::new("srv_abrt", "server_aborts_total", Counter, BE | SV, Plain, "Total number of requests or connections aborted by the server since the worker process started"),
    Stat::new("comp_in", "http_comp_bytes_in_total", Counter, FE | BE, Http, "Total number of bytes submitted to the HTTP compressor for this object since the worker process started"),
    Stat::new("comp_out", "http_comp_bytes_out_total", Counter, FE | BE, Http, "Total number of bytes emitted by the HTTP compressor for this object since the worker process started"),
    Stat::new("comp_byp", "http_comp_bytes_bypassed_total", Counter, FE | BE, Http, "Total number of bytes that bypassed HTTP compression for this object since the worker process started (CPU/memory/bandwidth limitation)"),
    Stat::new("comp_rsp", "http_comp_responses_total", Counter, FE | BE, Http, "Total number of HTTP responses that were compressed for this object since the worker process started"),
    Stat::new("lastsess", "last_session_seconds", Gauge, BE | SV, Plain, "How long ago some traffic was seen on this object on this worker process, in seconds"),
    Stat::new("qtime", "queue_time_average_seconds", Gauge, BE | SV, Seconds, "Avg. queue time for last 1024 successful connections."),
    Stat::new("ctime", "connect_time_average_seconds", Gauge, BE | SV, Seconds, "Avg. connect time for last 1024 successful connections."),
    Stat::new("rtime", "response_time_average_seconds", Gauge, BE | SV, Seconds, "Avg. response time for last 1024 successful connections."),
    Stat::new("ttime", "total_time_average_seconds", Gauge, BE | SV, Seconds, "Avg. total time for last 1024 successful connections."),
    Stat::new("conn_rate_max", "connections_rate_max", Gauge, FE, Plain, "Highest value of connections per second observed since the worker process started"),
    Stat::new("conn_tot", "connections_total", Counter, FE, Plain, "Total number of new connections accepted on this frontend since the worker process started"),
    Stat::new("intercepted", "intercepted_requests_total", Counter, FE, Http, "Total number of HTTP requests intercepted on the frontend (redirects/stats/services) since the worker process started"),
    Stat::new("dcon", "denied_connections_total", Counter, FE, Plain, "Total number of incoming connections blocked on a listener/frontend by a tcp-request connection rule since the worker process started"),
    Stat::new("dses", "denied_sessions_total", Counter, FE, Plain, "Total number of incoming sessions blocked on a listener/frontend by a tcp-request connection rule since the worker process started"),
    Stat::new("wrew", "failed_header_rewriting_total", Counter, FE | BE | SV, Plain, "Total number of failed HTTP header rewrites since the worker process started"),
    Stat::new("connect", "connection_attempts_total", Counter, BE | SV, Plain, "Total number of outgoing connection attempts on this backend/server since the worker process started"),
    Stat::new("reuse", "connection_reuses_total", Counter, BE | SV, Plain, "Total number of reused connection on this backend/server since the worker process started"),
    Stat::new("cache_lookups", "http_cache_lookups_total", Counter, FE | BE, Http, "Total number of HTTP requests looked up in the cache on this frontend/backend since the worker process started"),
    Stat::new("cache_hits", "http_cache_hits_total", Counter, FE | BE, Http, "Total number of HTTP requests not found in the cache on this frontend/backend since the worker process started"),
    Stat::new("srv_icur", "idle_connections_current", Gauge, SV, Plain, "Current number of idle connections available for reuse on this server"),
    Stat::new("src_ilim", "idle_connections_limit", Gauge, SV, NanWhenEmpty, "Limit on the number of available idle connections on this server (server 'pool_max_conn' directive)"),
    Stat::new("qtime_max", "max_queue_time_seconds", Gauge, BE | SV, Seconds, "Maximum observed time spent in the queue"),
    Stat::new("ctime_max", "max_connect_time_seconds", Gauge, BE | SV, Seconds, "Maximum observed time spent waiting for a connection to complete"),
    Stat::new("rtime_max", "max_response_time_seconds", Gauge, BE | SV, Seconds, "Maximum observed time spent waiting for a server response"),
    Stat::new("ttime_max", "max_total_time_seconds", Gauge, BE | SV, Seconds, "Maximum observed total request+response time (request+queue+connect+response+processing)"),
    Stat::new("eint", "internal_errors_total", Counter, FE | BE | SV, Plain, "Total number of internal errors since process started"),
    Stat::new("idle_conn_cur", "unsafe_idle_connections_current", Gauge, SV, Plain, "Current number of unsafe idle connections"),
    Stat::new("safe_conn_cur", "safe_idle_connections_current", Gauge, SV, Plain, "Current number of safe idle connections"),
    Stat::new("used_conn_cur", "used_connections_current", Gauge, SV, Plain, "Current number of connections in use"),
    Stat::new("need_conn_est", "need_connections_current", Gauge, SV, Plain, "Estimated needed number of connections"),
    Stat::new("uweight", "uweight", Gauge, BE | SV, Plain, "Server's user weight, or sum of active servers' user weights for a backend"),
    Stat::new("agg_server_status", "agg_server_status", Gauge, BE, AggServer, "Backend's aggregated gauge of servers' status"),
    Stat::new("agg_server_check_status", "agg_server_check_status", Gauge, BE, AggServer, "Backend's aggregated gauge of servers' state check status"),
    Stat::new("agg_check_status", "agg_check_status", Gauge, BE, AggCheck, "Backend's aggregated gauge of servers' state check status"),
];

/// A process metric: the `show info` field it reads, its name after
/// `haproxy_process_`, and its help (the field's description).
struct Global {
    field: &'static str,
    name: &'static str,
    kind: Kind,
    help: &'static str,
}

impl Global {
    const fn new(
        field: &'static str,
        name: &'static str,
        kind: Kind,
        help: &'static str,
    ) -> Global {
        Global {
            field,
            name,
            kind,
            help,
        }
    }
}

/// HAProxy 2.6.12's process metrics, in its order.
#[rustfmt::skip]
const GLOBALS: [Global; 60] = [
    Global::new("Nbthread", "nbthread", Gauge, "Number of started threads (global.nbthread)"),
    Global::new("Nbproc", "nbproc", Gauge, "Number of started worker processes (historical, always 1)"),
    Global::new("Process_num", "relative_process_id", Gauge, "Relative worker process number (1)"),
    Global::new("Uptime_sec", "uptime_seconds", Gauge, "How long ago this worker process was started (seconds)"),
    Global::new("PoolFailed", "pool_failures_total", Counter, "Number of failed pool allocations since this worker was started"),
    Global::new("Ulimit-n", "max_fds", Gauge, "Hard limit on the number of per-process file descriptors"),
    Global::new("Maxsock", "max_sockets", Gauge, "Hard limit on the number of per-process sockets"),
    Global::new("Maxconn", "max_connections", Gauge, "Hard limit on the number of per-process connections (configured or imposed by Ulimit-n)"),
    Global::new("Hard_maxconn", "hard_max_connections", Gauge, "Hard limit on the number of per-process connections (imposed by Memmax_MB or Ulimit-n)"),
    Global::new("CurrConns", "current_connections", Gauge, "Current number of connections on this worker process"),
    Global::new("CumConns", "connections_total", Counter, "Total number of connections on this worker process since started"),
    Global::new("CumReq", "requests_total", Counter, "Total number of requests on this worker process since started"),
    Global::new("MaxSslConns", "max_ssl_connections", Gauge, "Hard limit on the number of per-process SSL endpoints (front+back), 0=unlimited"),
    Global::new("CurrSslConns", "current_ssl_connections", Gauge, "Current number of SSL endpoints on this worker process (front+back)"),
    Global::new("CumSslConns", "ssl_connections_total", Counter, "Total number of SSL endpoints on this worker process since started (front+back)"),
    Global::new("Maxpipes", "max_pipes", Gauge, "Hard limit on the number of pipes for splicing, 0=unlimited"),
    Global::new("PipesUsed", "pipes_used_total", Counter, "Current number of pipes in use in this worker process"),
    Global::new("PipesFree", "pipes_free_total", Counter, "Current number of allocated and available pipes in this worker process"),
    Global::new("ConnRate", "current_connection_rate", Gauge, "Number of front connections created on this worker process over the last second"),
    Global::new("ConnRateLimit", "limit_connection_rate", Gauge, "Hard limit for ConnRate (global.maxconnrate)"),
    Global::new("MaxConnRate", "max_connection_rate", Gauge, "Highest ConnRate reached on this worker process since started (in connections per second)"),
    Global::new("SessRate", "current_session_rate", Gauge, "Number of sessions created on this worker process over the last second"),
    Global::new("SessRateLimit", "limit_session_rate", Gauge, "Hard limit for SessRate (global.maxsessrate)"),
    Global::new("MaxSessRate", "max_session_rate", Gauge, "Highest SessRate reached on this worker process since started (in sessions per second)"),
    Global::new("SslRate", "current_ssl_rate", Gauge, "Number of SSL connections created on this worker process over the last second"),
    Global::new("SslRateLimit", "limit_ssl_rate", Gauge, "Hard limit for SslRate (global.maxsslrate)"),
    Global::new("MaxSslRate", "max_ssl_rate", Gauge, "Highest SslRate reached on this worker process since started (in connections per second)"),
    Global::new("SslFrontendKeyRate", "current_frontend_ssl_key_rate", Gauge, "Number of SSL keys created on frontends in this worker process over the last second"),
    Global::new("SslFrontendMaxKeyRate", "max_frontend_ssl_key_rate", Gauge, "Highest SslFrontendKeyRate reached on this worker process since started (in SSL keys per second)"),
    Global::new("SslFrontendSessionReuse_pct", "frontend_ssl_reuse", Gauge, "Percent of frontend SSL connections which did not require a new key"),
    Global::new("SslBackendKeyRate", "current_backend_ssl_key_rate", Gauge, "Number of SSL keys created on backends in this worker process over the last second"),
    Global::new("SslBackendMaxKeyRate", "max_backend_ssl_key_rate", Gauge, "Highest SslBackendKeyRate reached on this worker process since started (in SSL keys per second)"),
    Global::new("SslCacheLookups", "ssl_cache_lookups_total", Counter, "Total number of SSL session ID lookups in the SSL session cache on this worker since started"),
    Global::new("SslCacheMisses", "ssl_cache_misses_total", Counter, "Total number of SSL session ID lookups that didn't find a session in the SSL session cache on this worker since started"),
    Global::new("CompressBpsIn", "http_comp_bytes_in_total", Counter, "Number of bytes submitted to the HTTP compressor in this worker process over the last second"),
    Global::new("CompressBpsOut", "http_comp_bytes_out_total", Counter, "Number of bytes emitted by the HTTP compressor in this worker process over the last second"),
    Global::new("CompressBpsRateLim", "limit_http_comp", Gauge, "Limit of CompressBpsOut beyond which HTTP compression is automatically disabled"),
    Global::new("ZlibMemUsage", "current_zlib_memory", Gauge, "Amount of memory currently used by HTTP compression on the current worker process (in bytes)"),
    Global::new("MaxZlibMemUsage", "max_zlib_memory", Gauge, "Limit on the amount of memory used by HTTP compression above which it is automatically disabled (in bytes, see global.maxzlibmem)"),
    Global::new("Tasks", "current_tasks", Gauge, "Total number of tasks in the current worker process (active + sleeping)"),
    Global::new("Run_queue", "current_run_queue", Gauge, "Total number of active tasks+tasklets in the current worker process"),
    Global::new("Idle_pct", "idle_time_percent", Gauge, "Percentage of last second spent waiting in the current worker thread"),
    Global::new("Stopping", "stopping", Gauge, "1 if the worker process is currently stopping, otherwise zero"),
    Global::new("Jobs", "jobs", Gauge, "Current number of active jobs on the current worker process (frontend connections, master connections, listeners)"),
    Global::new("Unstoppable Jobs", "unstoppable_jobs", Gauge, "Current number of unstoppable jobs on the current worker process (master connections)"),
    Global::new("Listeners", "listeners", Gauge, "Current number of active listeners on the current worker process"),
    Global::new("ActivePeers", "active_peers", Gauge, "Current number of verified active peers connections on the current worker process"),
    Global::new("ConnectedPeers", "connected_peers", Gauge, "Current number of peers having passed the connection step on the current worker process"),
    Global::new("DroppedLogs", "dropped_logs_total", Counter, "Total number of dropped logs for current worker process since started"),
    Global::new("BusyPolling", "busy_polling_enabled", Gauge, "1 if busy-polling is currently in use on the worker process, otherwise zero (config.busy-polling)"),
    Global::new("FailedResolutions", "failed_resolutions", Counter, "Total number of failed DNS resolutions in current worker process since started"),
    Global::new("TotalBytesOut", "bytes_out_total", Counter, "Total number of bytes emitted by current worker process since started"),
    Global::new("TotalSplicdedBytesOut", "spliced_bytes_out_total", Counter, "Total number of bytes emitted by current worker process through a kernel pipe since started"),
    Global::new("BytesOutRate", "bytes_out_rate", Gauge, "Number of bytes emitted by current worker process over the last second"),
    Global::new("CumRecvLogs", "recv_logs_total", Counter, "Total number of log messages received by log-forwarding listeners on this worker process since started"),
    Global::new("Build info", "build_info", Gauge, "Build info"),
    Global::new("Memmax_bytes", "max_memory_bytes", Gauge, "Worker process's hard limit on memory usage in byes (-m on command line)"),
    Global::new("PoolAlloc_bytes", "pool_allocated_bytes", Gauge, "Amount of memory allocated in pools (in bytes)"),
    Global::new("PoolUsed_bytes", "pool_used_bytes", Gauge, "Amount of pool memory currently used (in bytes)"),
    Global::new("Start_time_sec", "start_time_seconds", Gauge, "Start time in seconds"),
];

/// Fields HAProxy 2.6.12 leaves unset in a build without zlib, which the
/// exporter prints as `NaN`; the engine has no zlib either.
const UNSET_IN_HAPROXY: [&str; 2] = ["ZlibMemUsage", "MaxZlibMemUsage"];

/// The states of `status` (frontends and backends have the first two).
const SERVER_STATES: [&str; 5] = ["DOWN", "UP", "MAINT", "DRAIN", "NOLB"];

/// The statuses of a finished check HAProxy labels (those whose result is
/// a failure or a success), in its order.
fn check_states() -> Vec<&'static str> {
    CheckStatus::all()
        .filter(|s| s.result() >= CheckResult::Failed)
        .map(CheckStatus::name)
        .collect()
}

/// The page being written, and the metric whose header is out.
#[derive(Default)]
struct Page {
    text: String,
    headed: String,
}

impl Page {
    /// One sample; the metric's header first if it is its first sample.
    fn sample(&mut self, name: &str, kind: Kind, help: &str, labels: &[(&str, &str)], value: &str) {
        if self.headed != name {
            let kind = match kind {
                Gauge => "gauge",
                Counter => "counter",
            };
            let _ = write!(self.text, "# HELP {name} {help}\n# TYPE {name} {kind}\n");
            self.headed = name.to_string();
        }
        self.text.push_str(name);
        if !labels.is_empty() {
            self.text.push('{');
            for (i, (label, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.text.push(',');
                }
                let _ = write!(self.text, "{label}=\"{v}\"");
            }
            self.text.push('}');
        }
        let _ = writeln!(self.text, " {value}");
    }
}

fn globals(page: &mut Page, info: &[(&str, String)]) {
    let field = |name: &str| {
        info.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    };
    for g in &GLOBALS {
        let name = format!("haproxy_process_{}", g.name);
        match (g.field, field(g.field)) {
            ("Build info", Some(version)) => {
                page.sample(&name, g.kind, g.help, &[("version", version)], "1")
            }
            (_, Some(value)) => page.sample(&name, g.kind, g.help, &[], value),
            (f, None) if UNSET_IN_HAPROXY.contains(&f) => {
                page.sample(&name, g.kind, g.help, &[], "NaN")
            }
            (_, None) => {}
        }
    }
}

/// Every metric of one kind of object (`object`: FE, BE or SV), each over
/// every proxy in order.
fn section(page: &mut Page, prefix: &str, object: u8, proxies: &[ProxyLines], no_maint: bool) {
    for stat in STATS.iter().filter(|s| s.on & object != 0) {
        let name = format!("{prefix}{}", stat.name);
        for p in proxies {
            let lines: Vec<&Line> = match object {
                FE => p.frontend.iter().collect(),
                BE => p.backend.iter().collect(),
                _ => p
                    .servers
                    .iter()
                    .filter(|s| !(no_maint && server_state(s.cell("status")) == "MAINT"))
                    .collect(),
            };
            for line in lines {
                let mut labels = vec![("proxy", p.name.as_str())];
                if object == SV {
                    labels.push(("server", line.cell("svname")));
                }
                let mut metric = Metric {
                    page,
                    name: &name,
                    stat,
                    labels,
                };
                samples(&mut metric, object, p, line);
            }
        }
    }
}

/// One metric of one object, being written.
struct Metric<'a> {
    page: &'a mut Page,
    name: &'a str,
    stat: &'a Stat,
    labels: Vec<(&'a str, &'a str)>,
}

impl<'a> Metric<'a> {
    fn emit(&mut self, value: &str) {
        let s = self.stat;
        self.page
            .sample(self.name, s.kind, s.help, &self.labels, value);
    }

    /// One sample per state, `value(state)` each.
    fn per_state(&mut self, states: &[&'a str], value: impl Fn(&str) -> String) {
        for state in states {
            self.labels.push(("state", state));
            self.emit(&value(state));
            self.labels.pop();
        }
    }
}

fn samples<'a>(m: &mut Metric<'a>, object: u8, p: &'a ProxyLines, line: &'a Line) {
    let cell = line.cell(m.stat.column);
    let http = p.mode == "http";
    match m.stat.how {
        Plain if !cell.is_empty() => m.emit(cell),
        NanWhenEmpty => m.emit(if cell.is_empty() { "NaN" } else { cell }),
        Http if http && !cell.is_empty() => m.emit(cell),
        Code(class) if http && !cell.is_empty() => {
            m.labels.push(("code", class));
            m.emit(cell);
        }
        Seconds => {
            if let Some(secs) = seconds(cell) {
                m.emit(&secs);
            }
        }
        Status => {
            let status = line.cell("status");
            let (states, current) = match object {
                FE => (
                    &SERVER_STATES[..2],
                    if status == "STOP" { "DOWN" } else { "UP" },
                ),
                BE => (
                    &SERVER_STATES[..2],
                    if status.starts_with("UP") {
                        "UP"
                    } else {
                        "DOWN"
                    },
                ),
                _ => (&SERVER_STATES[..], server_state(status)),
            };
            m.per_state(states, |s| u8::from(s == current).to_string());
        }
        CheckStatus => {
            if let Some(current) = check_status(line) {
                m.per_state(&check_states(), |s| u8::from(s == current).to_string());
            }
        }
        CheckCode if check_status(line).is_some() => {
            m.emit(if cell.is_empty() { "0" } else { cell });
        }
        AggServer if !p.servers.is_empty() => {
            let states = p.servers.iter().map(|s| server_state(s.cell("status")));
            let states: Vec<&str> = states.collect();
            m.per_state(&SERVER_STATES, |s| {
                states.iter().filter(|x| **x == s).count().to_string()
            });
        }
        AggCheck if !p.servers.is_empty() => {
            let checks: Vec<&str> = p.servers.iter().filter_map(check_status).collect();
            m.per_state(&check_states(), |s| {
                checks.iter().filter(|x| **x == s).count().to_string()
            });
        }
        _ => {}
    }
}

/// A server's state as the exporter names it, from its CSV status
/// (`UP 1/3` is up, going down; `DOWN 1/2` down, going up; `no check` up).
fn server_state(status: &str) -> &'static str {
    ["MAINT", "DRAIN", "NOLB", "UP"]
        .into_iter()
        .find(|s| status.starts_with(s))
        .unwrap_or(if status == "no check" { "UP" } else { "DOWN" })
}

/// The last check's status when the check is enabled, without the `* `
/// marking one in progress.
fn check_status(line: &Line) -> Option<&str> {
    let status = line.cell("check_status");
    (!status.is_empty()).then(|| status.trim_start_matches("* "))
}

/// Milliseconds as HAProxy prints seconds (`%f`: six decimals).
fn seconds(ms: &str) -> Option<String> {
    let ms: u64 = ms.parse().ok()?;
    Some(format!("{}.{:03}000", ms / 1000, ms % 1000))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::typed::proxies_from_csv;

    const CSV: &str = include_str!("testdata/haproxy-2.6-stat.csv");

    #[test]
    fn the_check_states_labelled_are_haproxys() {
        assert_eq!(
            check_states(),
            [
                "HANA", "SOCKERR", "L4OK", "L4TOUT", "L4CON", "L6OK", "L6TOUT", "L6RSP", "L7TOUT",
                "L7RSP", "L7OK", "L7OKC", "L7STS", "PROCERR", "PROCTOUT", "PROCOK",
            ]
        );
    }
    const INFO: &str = include_str!("testdata/haproxy-2.6-info.txt");

    fn info() -> Vec<(&'static str, String)> {
        INFO.lines()
            .filter_map(|l| l.split_once(": "))
            .map(|(n, v)| (n, v.to_string()))
            .collect()
    }

    /// Compares a page with HAProxy's line by line, values included but
    /// where they cannot agree: the process metrics (taken at another
    /// moment), the `prom` frontend (serving the page, it counts itself)
    /// and the averages (see [`STATS`]).
    fn assert_same_page(ours: &str, haproxys: &str) {
        let ours: Vec<&str> = ours.lines().collect();
        let theirs: Vec<&str> = haproxys.lines().collect();
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            let loose = b.starts_with("haproxy_process_")
                || b.starts_with("haproxy_frontend_") && b.contains("proxy=\"prom\"")
                || b.contains("_time_average_seconds{");
            let (a, b) = if loose {
                (
                    a.rsplit_once(' ').map_or(*a, |x| x.0),
                    b.rsplit_once(' ').map_or(*b, |x| x.0),
                )
            } else {
                (*a, *b)
            };
            assert_eq!(a, b, "line {}", i + 1);
        }
        assert_eq!(ours.len(), theirs.len());
    }

    #[test]
    fn the_page_is_haproxys() {
        let expected = include_str!("testdata/haproxy-2.6-metrics.txt");
        let page = render(&info(), &proxies_from_csv(CSV), Query::default());
        assert_same_page(&page, expected);
    }

    #[test]
    fn scopes_and_no_maint_select_as_haproxy_does() {
        let expected = include_str!("testdata/haproxy-2.6-metrics-server-global-no-maint.txt");
        let query = Query::parse("scope=server&scope=global&no-maint").unwrap();
        let page = render(&info(), &proxies_from_csv(CSV), query);
        assert_same_page(&page, expected);
        assert!(!page.contains("server=\"s3\""), "s3 is in maintenance");
        // The backends' counts are not exported in this scope.
        assert!(!page.contains("haproxy_backend_"));
    }

    #[test]
    fn the_query_string_is_read_as_haproxy_reads_it() {
        let scopes = |q: &str| Query::parse(q).map(|q| q.scopes);
        assert_eq!(scopes(""), Ok(SCOPE_ALL));
        assert_eq!(scopes("no-maint"), Ok(SCOPE_ALL));
        assert_eq!(
            scopes("scope=backend&scope=server"),
            Ok(SCOPE_BACKEND | SCOPE_SERVER)
        );
        assert_eq!(scopes("scope=*"), Ok(SCOPE_ALL));
        // An empty scope clears what came before it, not after.
        assert_eq!(
            scopes("scope=global&scope=&scope=frontend"),
            Ok(SCOPE_FRONTEND)
        );
        assert_eq!(scopes("scope="), Ok(0));
        assert_eq!(
            scopes("sc%6Fpe=gl%6Fbal&x=y#scope=server"),
            Ok(SCOPE_GLOBAL)
        );
        assert_eq!(scopes("scope=bogus"), Err(BadQuery));
        assert_eq!(scopes("scope"), Err(BadQuery));
        assert_eq!(scopes("scope=a=b"), Err(BadQuery));
        assert_eq!(scopes("x=%zz"), Err(BadQuery));
        assert!(Query::parse("scope=server&no-maint=1").unwrap().no_maint);
        assert_eq!(
            render(
                &info(),
                &proxies_from_csv(CSV),
                Query::parse("scope=").unwrap()
            ),
            ""
        );
    }

    #[test]
    fn the_headers_are_haproxys() {
        assert_eq!(HEADERS[0], ("cache-control", "no-cache"));
        assert_eq!(HEADERS[1], ("content-type", "text/plain; version=0.0.4"));
    }

    /// An engine line: what it does not measure leaves no sample (nor
    /// header); what HAProxy leaves empty too reads NaN.
    #[test]
    fn empty_cells_are_left_out_or_nan_as_haproxy_would_have_them() {
        let mut server = Line::default();
        server
            .set("pxname", "app")
            .set("svname", "s1")
            .set("type", 2)
            .set("status", "UP")
            .set("scur", 0)
            .set("lbtot", 3);
        let proxies = [ProxyLines {
            sockets: Vec::new(),
            name: "app".into(),
            mode: "http",
            frontend: None,
            servers: vec![server],
            backend: None,
        }];
        let page = render(&[], &proxies, Query::parse("scope=server").unwrap());
        assert!(page.contains("haproxy_server_current_sessions{proxy=\"app\",server=\"s1\"} 0\n"));
        assert!(page.contains("haproxy_server_limit_sessions{proxy=\"app\",server=\"s1\"} NaN\n"));
        assert!(
            page.contains("haproxy_server_status{proxy=\"app\",server=\"s1\",state=\"UP\"} 1\n")
        );
        assert!(!page.contains("queue_time_average"));
        assert!(!page.contains("http_responses_total"));
        // No check: no check metric at all.
        assert!(!page.contains("check_status"));
    }

    #[test]
    fn server_states_read_from_the_csv_status() {
        assert_eq!(server_state("UP 1/3"), "UP");
        assert_eq!(server_state("DOWN 1/2"), "DOWN");
        assert_eq!(server_state("no check"), "UP");
        assert_eq!(server_state("MAINT (via app/s1)"), "MAINT");
        assert_eq!(server_state("DRAIN (agent)"), "DRAIN");
        assert_eq!(server_state("NOLB 2/3"), "NOLB");
        assert_eq!(server_state("DOWN (agent)"), "DOWN");
        assert_eq!(seconds("1234"), Some("1.234000".into()));
        assert_eq!(seconds(""), None);
    }
}
