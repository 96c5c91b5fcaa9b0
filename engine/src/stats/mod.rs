//! Statistics: the counters ([`counters`], [`meter`]) and what shows them,
//! all from one snapshot of lines per proxy: HAProxy's `show stat` CSV
//! ([`csv`]) and its typed and JSON forms ([`typed`]), the HTML page
//! ([`html`]), the Prometheus exporter ([`prometheus`]), `show info`
//! ([`info`]).

pub mod applet;
pub mod csv;
pub mod filter;
pub mod html;
pub mod info;
pub mod page;
pub mod prometheus;
pub mod typed;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::backend::Backend;
use crate::balance::WEIGHT_SCALE;
use crate::config::parse::atol;
use crate::counters::Traffic;
use crate::proxy::{Frontend, Socket};
use crate::server::ServerState;
use csv::Line;
pub use filter::{Filter, Format};

/// One proxy's runtime parts, for the stats and the runtime API.
pub struct Entry {
    pub name: String,
    pub iid: u32,
    pub mode: &'static str,
    pub frontend: Option<Arc<Frontend>>,
    pub backend: Option<Arc<Backend>>,
    /// `disabled`: never started, so absent from the stats.
    pub disabled: bool,
}

/// Every proxy of an engine, in declaration order.
#[derive(Default)]
pub struct Registry {
    pub proxies: Vec<Entry>,
    /// A soft stop began: frontends show `STOP`.
    pub stopping: AtomicBool,
    /// Connections accepted on the stats sockets (HAProxy's `GLOBAL`
    /// frontend), reported when a soft stop begins.
    pub api_conns: std::sync::atomic::AtomicU64,
    /// The process's figures for `show info`.
    pub info: Option<info::Info>,
}

impl Registry {
    pub fn backend(&self, name: &str) -> Option<&Backend> {
        self.proxies
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.backend.as_deref())
    }

    /// `clear counters`: every peak of every proxy and server starts over.
    pub fn clear_max(&self) {
        for p in &self.proxies {
            if let Some(f) = &p.frontend {
                f.traffic.clear_max();
            }
            if let Some(b) = &p.backend {
                b.clear_max();
                for s in &b.servers {
                    s.traffic.clear_max();
                    s.queued_max.store(0, std::sync::atomic::Ordering::Release);
                }
            }
        }
    }

    /// `clear counters all`: every counter of every proxy and server
    /// starts over, check failures and DOWN transitions included.
    pub fn clear_all(&self) {
        self.clear_max();
        for p in &self.proxies {
            if let Some(f) = &p.frontend {
                f.traffic.clear_all();
            }
            if let Some(b) = &p.backend {
                b.traffic.clear_all();
                for s in &b.servers {
                    s.traffic.clear_all();
                    s.clear_check_counters();
                }
            }
        }
    }

    /// A proxy `show stat` can name: by name, or by id (atoi, -1 for all).
    pub fn knows_proxy(&self, px: &str) -> bool {
        // An id that matches no proxy lists nothing, as in HAProxy.
        self.proxies.iter().any(|p| p.name == px) || atol(px) != 0
    }

    /// HAProxy's `show stat`: the header, then per proxy in declaration
    /// order its frontend line, its server lines and its backend line,
    /// as far as `filter` lets them through.
    pub fn show_stat(&self, filter: &Filter) -> String {
        match filter.format {
            Format::Typed => return typed::stat_typed(&self.snapshot(filter)),
            Format::Json => return typed::stat_json(&self.snapshot(filter)),
            Format::Plain => {}
        }
        let mut out = csv::header();
        out.push('\n');
        for p in self.snapshot(filter) {
            for line in p.lines() {
                out.push_str(&line.render());
                out.push('\n');
            }
        }
        out.push('\n');
        out
    }

    /// Every line `filter` lets through, read now, per proxy in
    /// declaration order: what the CSV, the HTML page and the Prometheus
    /// exporter all print, so their numbers agree.
    pub fn snapshot(&self, filter: &Filter) -> Vec<ProxyLines> {
        let stopped = self.stopping.load(Ordering::Relaxed);
        let wants = |bit: i64| filter.types.is_none_or(|t| t & bit != 0);
        let mut proxies = Vec::new();
        for p in self.proxies.iter().filter(|p| !p.disabled) {
            if let Some(px) = &filter.proxy {
                if *px != p.name && atol(px) != i64::from(p.iid) {
                    continue;
                }
            }
            let mut lines = ProxyLines {
                sockets: Vec::new(),
                name: p.name.clone(),
                mode: p.mode,
                frontend: None,
                servers: Vec::new(),
                backend: None,
            };
            if let (Some(f), true) = (&p.frontend, wants(1)) {
                lines.frontend = Some(frontend_line(f, stopped));
            }
            if let (Some(f), true) = (&p.frontend, wants(8)) {
                if f.socket_stats {
                    lines.sockets = f
                        .sockets
                        .iter()
                        .map(|s| socket_line(f, s, stopped))
                        .collect();
                }
            }
            if let Some(b) = &p.backend {
                if wants(4) {
                    lines.servers = b
                        .servers
                        .iter()
                        .filter(|s| filter.sid.is_none_or(|id| id == s.id))
                        .filter(|s| !(filter.hide_maint && s.in_maint()))
                        .filter(|s| !(filter.hide_down && is_down_for_good(s)))
                        .map(|s| server_line(b, s, p.mode))
                        .collect();
                }
                if wants(2) {
                    let mut line = backend_line(b, p.mode);
                    if filter.hide_maint || filter.hide_down {
                        // HAProxy adds how many servers are not stopped.
                        let up = b
                            .servers
                            .iter()
                            .filter(|s| s.is_up() && !s.in_maint())
                            .count();
                        let status = format!("{} ({up}/{})", line.cell("status"), b.servers.len());
                        line.set("status", status);
                    }
                    lines.backend = Some(line);
                }
            }
            if filter.hide_legends {
                for line in lines.lines_mut() {
                    line.set("addr", "").set("cookie", "").set("algo", "");
                }
            }
            proxies.push(lines);
        }
        proxies
    }
}

/// One proxy's stats lines, as read at one moment.
#[derive(Debug, Clone)]
pub struct ProxyLines {
    pub name: String,
    /// `tcp` or `http`.
    pub mode: &'static str,
    pub frontend: Option<Line>,
    /// Its listening sockets' lines, with `option socket-stats`.
    pub sockets: Vec<Line>,
    /// In declaration order.
    pub servers: Vec<Line>,
    pub backend: Option<Line>,
}

impl ProxyLines {
    fn lines_mut(&mut self) -> impl Iterator<Item = &mut Line> {
        self.frontend
            .iter_mut()
            .chain(self.sockets.iter_mut())
            .chain(self.servers.iter_mut())
            .chain(self.backend.iter_mut())
    }

    /// The lines in HAProxy's order: frontend, servers, backend.
    pub fn lines(&self) -> impl Iterator<Item = &Line> {
        self.frontend
            .iter()
            .chain(self.sockets.iter())
            .chain(self.servers.iter())
            .chain(self.backend.iter())
    }
}

/// `show stat up` hides servers in maintenance, and DOWN servers unless a
/// check is moving them (health above 0).
fn is_down_for_good(s: &ServerState) -> bool {
    s.in_maint()
        || (!s.is_up()
            && (!s.config.check.enabled || s.health.lock().expect("health lock").value() == 0))
}

/// HAProxy's relative process number, always 1 here.
const PID: u32 = 1;

/// Counters the engine keeps but that stay 0 until HTTP, compression or
/// TLS exist (HAProxy prints them as 0 for TCP proxies too).
const FRONTEND_ZEROS: &[&str] = &[
    "dresp",
    "rate_lim",
    "comp_in",
    "comp_out",
    "comp_byp",
    "comp_rsp",
    "dcon",
    "dses",
    "wrew",
    "eint",
    "ssl_sess",
    "ssl_reused_sess",
    "ssl_failed_handshake",
];
const SERVER_ZEROS: &[&str] = &[
    "dresp",
    "wrew",
    "reuse",
    "eint",
    "ssl_sess",
    "ssl_reused_sess",
    "ssl_failed_handshake",
];
const BACKEND_ZEROS: &[&str] = &[
    "dreq",
    "dresp",
    "comp_in",
    "comp_out",
    "comp_byp",
    "comp_rsp",
    "wrew",
    "reuse",
    "eint",
    "agg_server_status",
    "agg_server_check_status",
    "agg_check_status",
    "ssl_sess",
    "ssl_reused_sess",
    "ssl_failed_handshake",
];

fn traffic(line: &mut Line, t: &Traffic) {
    line.set("smax", Traffic::get(&t.max_sessions))
        .set("stot", Traffic::get(&t.sessions))
        .set("bin", Traffic::get(&t.bytes_in))
        .set("bout", Traffic::get(&t.bytes_out))
        .set("rate", t.rate.value())
        .set("rate_max", t.rate.max());
}

/// HTTP's counters, on HTTP proxies' lines only.
fn http(line: &mut Line, t: &Traffic, mode: &str) {
    if mode != "http" {
        return;
    }
    let classes = [
        "hrsp_other",
        "hrsp_1xx",
        "hrsp_2xx",
        "hrsp_3xx",
        "hrsp_4xx",
        "hrsp_5xx",
    ];
    for (column, n) in classes.into_iter().zip(&t.responses) {
        line.set(column, Traffic::get(n));
    }
}

/// The HTTP/1 layer's counters of an HTTP frontend or backend (a TCP
/// proxy's stay 0, as HAProxy's).
fn h1(line: &mut Line, t: &Traffic, mode: &str) {
    if mode != "http" {
        return;
    }
    let h1 = &t.h1;
    line.set("h1_open_connections", Traffic::get(&h1.open))
        .set("h1_open_streams", Traffic::get(&h1.open_streams))
        .set("h1_total_connections", Traffic::get(&h1.connections))
        .set("h1_total_streams", Traffic::get(&h1.streams))
        .set("h1_bytes_in", Traffic::get(&h1.bytes_in))
        .set("h1_bytes_out", Traffic::get(&h1.bytes_out));
}

/// The time averages of a backend or server, over `samples` streams.
fn times(line: &mut Line, t: &Traffic, samples: u64) {
    let [q, c, r, total] = t.times.averages(samples);
    let [q_max, c_max, r_max, total_max] = t.times.peaks();
    line.set("qtime", q)
        .set("ctime", c)
        .set("rtime", r)
        .set("ttime", total)
        .set("qtime_max", q_max)
        .set("ctime_max", c_max)
        .set("rtime_max", r_max)
        .set("ttime_max", total_max);
}

/// What time averages count: HTTP requests, or in TCP streams balanced.
fn samples(t: &Traffic, mode: &str, balanced: u64) -> u64 {
    if mode == "http" {
        Traffic::get(&t.requests)
    } else {
        balanced
    }
}

fn errors(line: &mut Line, t: &Traffic) {
    line.set("econ", Traffic::get(&t.connect_errors))
        .set("eresp", Traffic::get(&t.response_errors))
        .set("wretr", Traffic::get(&t.retries))
        .set("wredis", Traffic::get(&t.redispatches))
        .set("cli_abrt", Traffic::get(&t.client_aborts))
        .set("srv_abrt", Traffic::get(&t.server_aborts))
        .set("lastsess", t.last_session_secs());
}

/// A frontend's line; `stopped` after a soft stop (`STOP`).
pub fn frontend_line(f: &Frontend, stopped: bool) -> Line {
    let mut l = Line::default();
    l.set("pxname", &f.name)
        .set("svname", "FRONTEND")
        .set("scur", f.limit.in_use())
        .set("slim", f.maxconn)
        .set("status", if stopped { "STOP" } else { "OPEN" })
        .set("pid", PID)
        .set("iid", f.iid)
        .set("sid", 0)
        .set("type", 0)
        .set("mode", f.mode)
        .set("-", "-")
        .zeros(FRONTEND_ZEROS)
        .zeros(csv::PROTOCOL_ZEROS);
    traffic(&mut l, &f.traffic);
    http(&mut l, &f.traffic, f.mode);
    h1(&mut l, &f.traffic, f.mode);
    if f.mode == "http" {
        l.set("intercepted", Traffic::get(&f.traffic.intercepted))
            .zeros(&["cache_lookups", "cache_hits"]);
    }
    l.set("dreq", Traffic::get(&f.traffic.denied_requests))
        .set("ereq", Traffic::get(&f.traffic.bad_requests))
        .set("req_rate", f.traffic.request_rate.value())
        .set("req_rate_max", f.traffic.request_rate.max())
        .set("req_tot", Traffic::get(&f.traffic.requests))
        .set("conn_rate", f.traffic.rate.value())
        .set("conn_rate_max", f.traffic.rate.max())
        .set("conn_tot", Traffic::get(&f.traffic.sessions));
    l
}

/// A listening socket's line (`option socket-stats`): its sessions,
/// bytes and refused requests.
pub fn socket_line(f: &Frontend, s: &Socket, stopped: bool) -> Line {
    let mut l = Line::default();
    let t = &s.traffic;
    l.set("pxname", &f.name)
        .set("svname", &s.name)
        .set("scur", s.current.load(Ordering::Relaxed))
        .set("smax", Traffic::get(&t.max_sessions))
        // No `maxconn` on `bind` lines yet: HAProxy's 0, no limit.
        .set("slim", 0)
        .set("stot", Traffic::get(&t.sessions))
        .set("bin", Traffic::get(&t.bytes_in))
        .set("bout", Traffic::get(&t.bytes_out))
        .set("dreq", Traffic::get(&t.denied_requests))
        .set("ereq", Traffic::get(&t.bad_requests))
        .set("status", if stopped { "STOP" } else { "OPEN" })
        .set("pid", PID)
        .set("iid", f.iid)
        .set("sid", s.id)
        .set("type", 3)
        .set("addr", &s.addr)
        .set("mode", f.mode)
        .set("-", "-")
        .zeros(&[
            "dresp",
            "dcon",
            "dses",
            "wrew",
            "eint",
            "ssl_sess",
            "ssl_reused_sess",
            "ssl_failed_handshake",
        ]);
    l
}

/// A server's line.
pub fn server_line(b: &Backend, s: &ServerState, mode: &str) -> Line {
    let mut l = Line::default();
    let c = &s.config;
    l.set("pxname", &b.name)
        .set("svname", s.name())
        .set("qcur", s.queued.load(std::sync::atomic::Ordering::Acquire))
        .set(
            "qmax",
            s.queued_max.load(std::sync::atomic::Ordering::Acquire),
        )
        .set("scur", s.current_conns())
        .set("status", s.status())
        .set("weight", s.shown_weight())
        .set("uweight", s.weight())
        .set("act", u8::from(!c.backup))
        .set("bck", u8::from(c.backup))
        .set("pid", PID)
        .set("iid", b.iid)
        .set("sid", s.id)
        .set("type", 2)
        .set("lbtot", Traffic::get(&s.traffic.selected))
        .set("connect", Traffic::get(&s.traffic.connects))
        // The engine keeps idle server connections per client connection
        // only (HAProxy's private ones): none are pooled for any taker.
        .zeros(&["srv_icur", "idle_conn_cur", "safe_conn_cur"])
        .set("used_conn_cur", s.current_conns())
        .set("addr", addr(s))
        .set("mode", mode)
        .set("-", "-")
        .zeros(SERVER_ZEROS);
    traffic(&mut l, &s.traffic);
    errors(&mut l, &s.traffic);
    http(&mut l, &s.traffic, mode);
    if mode == "http" {
        l.set("req_tot", Traffic::get(&s.traffic.requests));
    }
    let balanced = Traffic::get(&s.traffic.selected);
    times(&mut l, &s.traffic, samples(&s.traffic, mode, balanced));
    let a = *s.availability.lock().expect("availability lock");
    l.set("lastchg", a.last_change_secs());
    if let Some(m) = s.maxconn() {
        l.set("slim", m);
    }
    if let Some(t) = s.throttle() {
        l.set("throttle", t);
    }
    if let Some(q) = c.maxqueue {
        l.set("qlimit", q);
    }
    if s.checks_enabled() {
        let checks = s.checks.lock().expect("checks lock").clone();
        let health = s.health.lock().expect("health lock").value();
        l.set("chkfail", checks.failed)
            .set("chkdown", checks.downs)
            .set("downtime", a.downtime_secs())
            .set("check_rise", c.check.rise)
            .set("check_fall", c.check.fall)
            .set("check_health", health)
            .set("check_desc", checks.status.map_or("", |s| s.desc()))
            .set("last_chk", &checks.info);
        if let Some(status) = checks.status {
            let running = if checks.running { "* " } else { "" };
            l.set("check_status", format!("{running}{}", status.name()));
        }
        if let Some(code) = checks.code {
            l.set("check_code", code);
        }
        if let Some(d) = checks.duration_ms {
            l.set("check_duration", d);
        }
        if c.check.observe != crate::config::Observe::None {
            l.set("hanafail", s.analysis.triggered());
        }
    }
    l
}

/// A backend's line, after its servers'.
pub fn backend_line(b: &Backend, mode: &str) -> Line {
    let mut l = Line::default();
    let usable = |backup: bool| {
        b.servers
            .iter()
            .filter(move |s| s.is_backup() == backup && s.is_usable())
    };
    let group_backup = usable(false).next().is_none();
    let weight: u32 = usable(group_backup)
        .map(|s| s.eweight())
        .sum::<u32>()
        .div_ceil(WEIGHT_SCALE);
    let uweight: u32 = usable(group_backup).map(|s| s.weight()).sum();
    let sum = |f: fn(&ServerState) -> u64| b.servers.iter().map(|s| f(s)).sum::<u64>();
    let (a, downs) = *b.availability.lock().expect("availability lock");
    l.set("pxname", &b.name)
        .set("svname", "BACKEND")
        .set("qcur", b.queued())
        .set("qmax", b.queued_max())
        .set("scur", b.current_streams())
        .set("slim", b.fullconn)
        // A backend without servers shows UP, as HAProxy's (no weight
        // to lose).
        .set(
            "status",
            if b.is_up() || b.servers.is_empty() {
                "UP"
            } else {
                "DOWN"
            },
        )
        .set("weight", weight)
        .set("uweight", uweight)
        .set("act", usable(false).count())
        .set("bck", usable(true).count())
        .set("chkdown", downs)
        .set("lastchg", a.last_change_secs())
        .set("pid", PID)
        .set("iid", b.iid)
        .set("sid", 0)
        .set("type", 1)
        .set("lbtot", b.balanced())
        .set("connect", sum(|s| Traffic::get(&s.traffic.connects)))
        .set("mode", mode)
        .set("algo", b.balance)
        .set("-", "-")
        .zeros(BACKEND_ZEROS)
        .zeros(csv::PROTOCOL_ZEROS);
    if !b.servers.is_empty() {
        l.set("downtime", a.downtime_secs());
    }
    traffic(&mut l, &b.traffic);
    errors(&mut l, &b.traffic);
    http(&mut l, &b.traffic, mode);
    h1(&mut l, &b.traffic, mode);
    if mode == "http" {
        l.set("req_tot", Traffic::get(&b.traffic.requests))
            .zeros(&["cache_lookups", "cache_hits"]);
    }
    times(&mut l, &b.traffic, samples(&b.traffic, mode, b.balanced()));
    l
}

fn addr(s: &ServerState) -> String {
    let ip = match s.config.ip {
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        v4 => v4.to_string(),
    };
    match s.config.port {
        crate::config::ServerPort::Fixed(p) => format!("{ip}:{p}"),
        _ => ip,
    }
}
