//! From a validated [`Config`] to a running engine, and back down.
//!
//! Three steps, which a reload takes apart: the configuration's typed
//! values become the runtime state (backends, frontends: `Plan`, no I/O,
//! refusing what the engine cannot run); [`bind`] binds every listener
//! (all or nothing, as HAProxy refuses to start when one bind fails);
//! [`Engine::start_with`] builds the process and the stats registry, then
//! starts the accept loops over listeners it may not have bound, the
//! health checks and the runtime API. [`Engine::start`] does all three.
//! `soft_stop` stops accepting and waits for live streams; dropping the
//! engine aborts everything.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::acl::Acls;
use crate::api;
use crate::backend::Backend;
use crate::check::{self, Checker};
use crate::config::{BindAddr, CliLevel, Config, Location, LogTarget, Mode, Proxy, Unimplemented};
use crate::counters::Traffic;
use crate::http::policy::Policy;
use crate::log::format::{self, LogFormat};
use crate::log::syslog::{Dest, Level, Target};
use crate::log::{LogSink, Logger, Severity};
use crate::net::{strerror, ListenAddr, ListenSpec, Listener, Net};
use crate::pool::Pool;
use crate::proxy::applet::Applets;
use crate::proxy::http::HttpFrontend;
use crate::proxy::{self, Frontend, FrontendLog, Limit, Process, Streams};
use crate::rules::tcp::ContentRules;
use crate::stats::applet;
use crate::stats::info::Info;
use crate::stats::Filter;
use crate::stats::{Entry, Registry};
use crate::status;

/// Connection limit when neither the global section nor the frontend sets
/// `maxconn` (HAProxy derives it from the file-descriptor limit).
const DEFAULT_MAXCONN: usize = 100_000;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Directives that parse but do not run yet, one per line.
    #[error("{}", not_implemented_lines(.0))]
    NotImplemented(Vec<Unimplemented>),
    /// Listeners that could not be bound, one line each as HAProxy 2.6
    /// prints them (the binary adds HAProxy's closing line, which names
    /// the program).
    #[error("{}", bind_lines(.0))]
    Bind(Vec<BindFailure>),
}

/// `Binding [f:7] for proxy app: cannot bind socket (Address already in use) for [127.0.0.1:80]`.
#[derive(Debug)]
pub struct BindFailure {
    pub at: Location,
    pub kind: &'static str,
    pub proxy: String,
    pub addr: ListenAddr,
    pub reason: String,
}

fn bind_lines(failures: &[BindFailure]) -> String {
    failures
        .iter()
        .map(|f| {
            format!(
                "Binding [{}] for {} {}: cannot bind socket ({}) for [{}]",
                f.at, f.kind, f.proxy, f.reason, f.addr
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn not_implemented_lines(items: &[Unimplemented]) -> String {
    items
        .iter()
        .map(|u| {
            format!(
                "parsing [{}] : '{}' in '{}' section is not implemented yet",
                u.at, u.keyword, u.section
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `-c`: the configuration loaded as a start loads it, with what HAProxy's
/// check says beyond the configuration itself (the server-state files it
/// reads: a missing or damaged one is a warning).
pub fn load_for_check(
    paths: &[std::path::PathBuf],
) -> Result<crate::config::Loaded, crate::config::LoadError> {
    let mut result = crate::config::load(paths);
    if let Ok(loaded) = result.as_mut() {
        let warnings = status::restore::check(&loaded.config);
        loaded
            .diagnostics
            .extend(warnings.into_iter().map(crate::config::Diagnostic::warning));
    }
    result
}

/// `engine -c`'s report for these files.
pub fn check_paths(paths: &[std::path::PathBuf], pid: u32) -> crate::config::CheckReport {
    crate::config::check_report(&load_for_check(paths), pid)
}

pub struct Engine {
    logger: Arc<Logger>,
    backends: Vec<Arc<Backend>>,
    registry: Arc<Registry>,
    /// Each proxy's log targets, in declaration order (for stop messages).
    targets: Vec<Vec<Target>>,
    /// The `global` section's log targets (process-wide messages).
    global_targets: Vec<Target>,
    /// `hard-stop-after`.
    hard_stop_after: Option<Duration>,
    has_stats_socket: bool,
    stop: watch::Sender<bool>,
    /// The streams' side of a soft stop (HTTP keep-alive connections
    /// close), told once the listening sockets are closed.
    streams_stop: watch::Sender<bool>,
    /// Ends (None) once every accept loop has let its listener go.
    listening: tokio::sync::Mutex<mpsc::Receiver<()>>,
    /// SIGTTOU / SIGTTIN: the accept loops pause and resume.
    paused: watch::Sender<u64>,
    /// A handle on each listening socket that can refuse connections
    /// while paused (see [`Listener::pause`]).
    /// Gone at a soft stop, so that the sockets close with the accept
    /// loops.
    pausers: std::sync::Mutex<Vec<Box<dyn Listener>>>,
    /// What `_getsocks` hands over; let go at a soft stop too.
    exported: Arc<api::Exported>,
    streams: Arc<Streams>,
    tasks: Vec<JoinHandle<()>>,
    /// The addresses actually bound, in configuration order (useful when a
    /// bind asked for port 0).
    pub bound: Vec<ListenAddr>,
}

/// The listening sockets of one generation, bound from a configuration by
/// [`bind`]. A reload hands them to the next generation's
/// [`Engine::start_with`], which did not bind them.
pub struct Listeners {
    /// Each enabled frontend's sockets, in configuration order.
    pub frontends: Vec<FrontendListeners>,
    /// One per `stats socket` line, in order.
    pub stats: Vec<Box<dyn Listener>>,
    /// A worker's channel to its master: the master's CLI reaches the
    /// runtime API through it, at level admin.
    pub master: Option<Box<dyn Listener>>,
}

/// The sockets of one frontend (or listen section), in the order its
/// `bind` lines list their addresses (port ranges expanded).
pub struct FrontendListeners {
    pub proxy: String,
    pub sockets: Vec<(ListenAddr, Box<dyn Listener>)>,
}

/// Binds every listener `config` asks for, in the world `net` reaches:
/// each enabled frontend's addresses, then the stats sockets (a unix
/// socket's file gets its `mode`). All or nothing, as HAProxy refuses to
/// start when one bind fails: every address is tried and every failure
/// reported, with HAProxy's message.
pub async fn bind(config: &Config, net: &dyn Net) -> Result<Listeners, StartError> {
    bind_reusing(config, net, &mut |_| None).await
}

/// A listening socket a configuration asks for, as [`bind_reusing`]
/// offers it to a process that may already hold it.
pub struct Wanted<'a> {
    /// The frontend; None for a `stats socket`.
    pub proxy: Option<&'a str>,
    pub addr: &'a ListenAddr,
}

/// [`bind`], where `reuse` may answer a socket with one already open (a
/// master's across reloads, a worker's from its master): the listener
/// then adopts that descriptor (`fd@<n>`) instead of binding anew.
pub async fn bind_reusing(
    config: &Config,
    net: &dyn Net,
    reuse: &mut dyn FnMut(Wanted<'_>) -> Option<std::os::fd::OwnedFd>,
) -> Result<Listeners, StartError> {
    use std::os::fd::IntoRawFd;
    let mut adopt = |proxy: Option<&str>, spec: &ListenSpec| match reuse(Wanted {
        proxy,
        addr: &spec.addr,
    }) {
        Some(fd) => ListenSpec::new(ListenAddr::Fd(fd.into_raw_fd()), spec.backlog),
        None => spec.clone(),
    };
    let mut failures = vec![];
    let mut frontends = vec![];
    for proxy in config
        .proxies
        .iter()
        .filter(|p| p.kind.is_frontend() && !p.disabled)
    {
        let mut sockets = vec![];
        for (at, spec) in listen_addrs(proxy, frontend_maxconn(config, proxy)) {
            match net.listen(&adopt(Some(&proxy.name), &spec)).await {
                Ok(listener) => sockets.push((spec.addr, listener)),
                Err(e) => failures.push(BindFailure {
                    at,
                    kind: if proxy.kind.is_backend() {
                        "proxy"
                    } else {
                        "frontend"
                    },
                    proxy: proxy.name.clone(),
                    addr: spec.addr,
                    reason: strerror(&e),
                }),
            }
        }
        frontends.push(FrontendListeners {
            proxy: proxy.name.clone(),
            sockets,
        });
    }
    let mut stats = vec![];
    // HAProxy's CLI frontend listens with its maxconn as backlog.
    let api_backlog = config
        .global
        .stats_maxconn
        .unwrap_or(api::DEFAULT_STATS_MAXCONN);
    for socket in &config.global.stats_sockets {
        let addr = bind_addr(&socket.address);
        match net
            .listen(&adopt(None, &ListenSpec::new(addr.clone(), api_backlog)))
            .await
        {
            Ok(listener) => {
                set_mode(&addr, socket.mode);
                stats.push(listener);
            }
            Err(e) => failures.push(BindFailure {
                at: socket.at.clone(),
                kind: "frontend",
                proxy: "GLOBAL".into(),
                addr,
                reason: strerror(&e),
            }),
        }
    }
    if !failures.is_empty() {
        return Err(StartError::Bind(failures));
    }
    Ok(Listeners {
        frontends,
        stats,
        master: None,
    })
}

impl Engine {
    /// Starts everything `config` describes, in the world `net` reaches,
    /// its streams on `pool`'s event loops: [`bind`], then
    /// [`Engine::start_with`]. What the engine cannot run is refused
    /// before anything is bound. `log_tag` is the program name in syslog
    /// headers when the configuration sets no `log-tag` (HAProxy: the
    /// name it was invoked as).
    pub async fn start(
        config: &Config,
        net: Arc<dyn Net>,
        pool: Arc<dyn Pool>,
        sink: Arc<dyn LogSink>,
        log_tag: &str,
    ) -> Result<Engine, StartError> {
        let plan = Plan::new(config, &*net)?;
        let listeners = bind(config, &*net).await?;
        Ok(plan.run(config, listeners, None, net, pool, sink, log_tag))
    }

    /// Starts the engine `config` describes over listeners already bound
    /// for it (by [`bind`], in this generation or an earlier one): every
    /// enabled frontend of `config` must find its sockets there, under its
    /// name, one per address; stats sockets are taken in order. Refuses,
    /// as [`Engine::start`] does, a configuration the engine cannot run.
    /// `carried`: the servers' states of the generation this one
    /// replaces, applied in place of the state files (see
    /// [`status::restore`]).
    pub fn start_with(
        config: &Config,
        listeners: Listeners,
        carried: Option<&status::restore::Saved>,
        net: Arc<dyn Net>,
        pool: Arc<dyn Pool>,
        sink: Arc<dyn LogSink>,
        log_tag: &str,
    ) -> Result<Engine, StartError> {
        let plan = Plan::new(config, &*net)?;
        Ok(plan.run(config, listeners, carried, net, pool, sink, log_tag))
    }

    /// SIGTTOU (`true`) and SIGTTIN: every listener stops accepting, or
    /// accepts again, and each proxy says so (`Paused frontend fe.`), as
    /// HAProxy's pause_listener and resume_listener. Nothing is said when
    /// nothing changes. A paused TCP socket refuses connections (HAProxy
    /// disconnects it) before anything is said; the stats sockets (unix)
    /// keep theirs waiting in the backlog, as HAProxy's do.
    pub async fn pause(&self, on: bool) {
        let phase = *self.paused.borrow();
        if (phase % 2 == 1) == on {
            return;
        }
        for p in self.pausers.lock().expect("pausers lock").iter() {
            let _ = if on { p.pause() } else { p.resume() };
        }
        let _ = self.paused.send(phase + 1);
        let word = if on { "Paused" } else { "Resumed" };
        for (p, targets) in self.registry.proxies.iter().zip(&self.targets) {
            if p.disabled || p.frontend.is_none() {
                continue;
            }
            let kind = if p.backend.is_some() {
                "proxy"
            } else {
                "frontend"
            };
            let message = format!("{word} {kind} {}.", p.name);
            self.logger.sink().emit(Severity::Warning, &message);
            self.logger.send(targets, Level::Warning, &message).await;
        }
        if self.has_stats_socket {
            let message = format!("{word} frontend GLOBAL.");
            self.logger.sink().emit(Severity::Warning, &message);
            self.logger
                .send(&self.global_targets, Level::Warning, &message)
                .await;
        }
    }

    /// Stops accepting, says so for every proxy as HAProxy does, then
    /// waits for every live stream to end (HAProxy's soft stop, SIGUSR1).
    pub async fn soft_stop(&self) {
        // `hard-stop-after` counts from the signal.
        let signalled = tokio::time::Instant::now();
        self.pausers.lock().expect("pausers lock").clear();
        self.exported.clear();
        let _ = self.stop.send(true);
        // The listening sockets close first: a client whose keep-alive
        // connection closes next reconnects to the process that serves
        // now, not into a queue about to be dropped. (Bounded: a loop on a
        // busy event loop may be slow to see the stop.)
        let mut listening = self.listening.lock().await;
        let _ = tokio::time::timeout(Duration::from_secs(1), listening.recv()).await;
        let _ = self.streams_stop.send(true);
        self.registry.stopping.store(true, Ordering::Relaxed);
        for (p, targets) in self.registry.proxies.iter().zip(&self.targets) {
            if p.disabled {
                continue;
            }
            let fe = p
                .frontend
                .as_ref()
                .map_or(0, |f| f.total_conns.load(Ordering::Relaxed));
            let be = p.backend.as_ref().map_or(0, |b| b.total_streams());
            let message = format!(
                "Proxy {} stopped (cumulated conns: FE: {fe}, BE: {be}).",
                p.name
            );
            self.logger.sink().emit(Severity::Warning, &message);
            self.logger.send(targets, Level::Warning, &message).await;
        }
        // The stats sockets' frontend, as HAProxy names it, comes last.
        if self.has_stats_socket {
            let n = self.registry.api_conns.load(Ordering::Relaxed);
            let message = format!("Proxy GLOBAL stopped (cumulated conns: FE: {n}, BE: {n}).");
            self.logger.sink().emit(Severity::Warning, &message);
            self.logger
                .send(&self.global_targets, Level::Warning, &message)
                .await;
        }
        let drained = self.streams.drained();
        match self.hard_stop_after {
            None => drained.await,
            Some(limit) => {
                if tokio::time::timeout_at(signalled + limit, drained)
                    .await
                    .is_err()
                {
                    self.hard_stop().await;
                }
            }
        }
    }

    /// SIGHUP: every server's state and every proxy's, as HAProxy's
    /// sig_dump_state words them, on stderr and to each proxy's logs.
    pub async fn dump_servers_state(&self) {
        self.logger.sink().emit(
            Severity::Warning,
            "SIGHUP received, dumping servers states.",
        );
        for (p, targets) in self.registry.proxies.iter().zip(&self.targets) {
            let heading = format!(
                "SIGHUP received, dumping servers states for proxy {}.",
                p.name
            );
            self.logger.send(targets, Level::Notice, &heading).await;
            let mut lines = vec![];
            let servers = p.backend.iter().flat_map(|b| b.servers.iter());
            for s in servers {
                let up = s.is_up() && !s.in_maint();
                lines.push(format!(
                    "SIGHUP: Server {}/{} is {}. Conn: {} act, {} pend, {} tot.",
                    p.name,
                    s.name(),
                    if up { "UP" } else { "DOWN" },
                    s.current_conns(),
                    s.waiting(),
                    crate::counters::Traffic::get(&s.traffic.sessions),
                ));
            }
            let fe = p.frontend.as_ref();
            let be = p.backend.as_ref();
            let unassigned = be.map_or(0, |b| b.queued());
            let pending =
                unassigned + be.map_or(0, |b| b.servers.iter().map(|s| s.waiting()).sum::<usize>());
            let conns = format!(
                "Conn: act(FE+BE): {}+{}, {pending} pend ({unassigned} unass), tot(FE+BE): {}+{}.",
                fe.map_or(0, |f| f.limit.in_use()),
                be.map_or(0, |b| b.current_streams()),
                fe.map_or(0, |f| f.total_conns.load(Ordering::Relaxed)),
                be.map_or(0, |b| b.total_streams()),
            );
            let (active, backup) = be.map_or((0, 0), |b| b.count_up());
            lines.push(match be.filter(|b| !b.servers.is_empty()) {
                None => format!("SIGHUP: Proxy {} has no servers. {conns}", p.name),
                Some(_) if active == 0 => format!(
                    "SIGHUP: Proxy {} {} ! {conns}",
                    p.name,
                    if backup > 0 {
                        "is running on backup servers"
                    } else {
                        "has no server available"
                    }
                ),
                Some(_) => format!(
                    "SIGHUP: Proxy {} has {active} active servers and {backup} backup servers available. {conns}",
                    p.name
                ),
            });
            for line in lines {
                self.logger.sink().emit(Severity::Warning, &line);
                self.logger.send(targets, Level::Notice, &line).await;
            }
        }
    }

    /// `hard-stop-after` expired: says which frontends still hold
    /// connections; they close as the engine returns.
    async fn hard_stop(&self) {
        let message = "soft-stop running for too long, performing a hard-stop.";
        self.logger.sink().emit(Severity::Warning, message);
        self.logger
            .send(&self.global_targets, Level::Warning, message)
            .await;
        for (p, targets) in self.registry.proxies.iter().zip(&self.targets) {
            let Some(live) = p.frontend.as_ref().map(|f| f.limit.in_use()) else {
                continue;
            };
            if live == 0 {
                continue;
            }
            let message = format!(
                "Proxy {} hard-stopped ({live} remaining conns will be closed).",
                p.name
            );
            self.logger.sink().emit(Severity::Warning, &message);
            self.logger.send(targets, Level::Warning, &message).await;
        }
    }

    /// HAProxy's `show stat`, unfiltered.
    pub fn show_stat(&self) -> String {
        self.registry.show_stat(&Filter::default())
    }

    /// Runs a runtime API command line (commands separated by `;`) with
    /// admin rights, as on an admin-level stats socket.
    pub async fn execute(&self, line: &str) -> String {
        api::run_line(line, &self.registry, &self.logger, api::Level::Admin).await
    }

    /// The runtime backends (in name order), for inspection: server states
    /// and counters.
    pub fn backends(&self) -> &[Arc<Backend>] {
        &self.backends
    }

    /// Streams currently being served.
    pub fn live_streams(&self) -> usize {
        self.streams.live()
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Everything an engine is made of but its sockets and tasks, built from
/// the configuration's typed values: nothing here binds or spawns, so a
/// configuration the engine cannot run is refused before any bind.
struct Plan {
    /// Each proxy's log targets, in declaration order.
    targets: Vec<Vec<Target>>,
    /// The `global` section's log targets.
    global_targets: Vec<Target>,
    /// The command level of each `stats socket`, in order.
    api_levels: Vec<api::Level>,
    backends: BTreeMap<String, Arc<Backend>>,
    /// The proxies' ids, in declaration order.
    ids: Vec<u32>,
    /// The enabled frontends, in declaration order, with their index.
    frontends: Vec<(usize, Arc<Frontend>)>,
}

impl Plan {
    fn new(config: &Config, net: &dyn Net) -> Result<Plan, StartError> {
        let mut unimplemented = config.unimplemented.clone();
        // Global targets are checked even when no proxy uses them: a
        // target the engine cannot send to is never silently dropped.
        let unix = net.has_unix_sockets();
        let mut global_targets = vec![];
        for t in &config.global.log {
            match log_target(t, unix) {
                Some(target) => global_targets.push(target),
                None => unimplemented.push(unsupported_log(t, "global")),
            }
        }
        let targets: Vec<Vec<Target>> = config
            .proxies
            .iter()
            .map(|p| proxy_log_targets(config, p, unix, &mut unimplemented))
            .collect();
        for s in config.global.stats_sockets.iter().filter(|s| s.unsupported) {
            unimplemented.push(Unimplemented {
                at: s.at.clone(),
                keyword: format!("stats socket {}", s.params.join(" "))
                    .trim_end()
                    .to_string(),
                section: "global".into(),
            });
        }
        if !unimplemented.is_empty() {
            return Err(StartError::NotImplemented(unimplemented));
        }
        let api_levels = config
            .global
            .stats_sockets
            .iter()
            .map(|s| api_level(s.level))
            .collect();
        let ids = proxy_ids(config);
        let mut acls = CompiledAcls::default();
        let backends = build_backends(config, &ids, &targets, net.seed(), &mut acls)?;
        let mut frontends = vec![];
        for (i, (proxy, targets)) in config.proxies.iter().zip(&targets).enumerate() {
            if !proxy.kind.is_frontend() || proxy.disabled {
                continue;
            }
            let maxconn = frontend_maxconn(config, proxy);
            let frontend = Frontend {
                name: proxy.name.clone(),
                iid: ids[i],
                mode: proxy.mode.as_str(),
                maxconn,
                traffic: Traffic::default(),
                backend: frontend_backend(proxy, &backends),
                timeouts: proxy.timeouts,
                limit: Limit::new(maxconn),
                log: FrontendLog {
                    targets: targets.clone(),
                    format: log_format(proxy)?,
                    dontlognull: proxy.options.dontlognull,
                },
                total_conns: AtomicU64::new(0),
                http: match proxy.mode {
                    Mode::Http => Some(http_frontend(proxy, &backends, &mut acls)?),
                    Mode::Tcp => None,
                },
                content: content_rules(proxy, &mut acls)?,
                sockets: sockets(proxy),
                socket_stats: proxy.options.socket_stats,
            };
            frontends.push((i, Arc::new(frontend)));
        }
        Ok(Plan {
            targets,
            global_targets,
            api_levels,
            backends,
            ids,
            frontends,
        })
    }

    /// Builds the process-wide state and the stats registry, then starts
    /// the accept loops over `listeners`, the health checks and the
    /// runtime API.
    #[allow(clippy::too_many_arguments)]
    fn run(
        self,
        config: &Config,
        listeners: Listeners,
        carried: Option<&status::restore::Saved>,
        net: Arc<dyn Net>,
        pool: Arc<dyn Pool>,
        sink: Arc<dyn LogSink>,
        log_tag: &str,
    ) -> Engine {
        let Plan {
            targets,
            global_targets,
            api_levels,
            backends,
            ids,
            frontends,
        } = self;
        let tag = config.global.log_tag.as_deref().unwrap_or(log_tag);
        // `log-send-hostname` alone names this host.
        let host = config.global.log_send_hostname.as_ref().map(|h| {
            if h.is_empty() {
                net.host_name()
            } else {
                h.clone()
            }
        });
        let logger = Arc::new(Logger::new(net.clone(), sink, tag).with_host(host));
        let Listeners {
            frontends: mut bound_sockets,
            stats: mut api_listeners,
            master,
        } = listeners;
        let mut api_levels = api_levels;
        // The master's channel comes last; it is not paused (SIGTTOU):
        // the master CLI reaches a paused worker.
        let pausable = api_listeners.len();
        if let Some(channel) = master {
            api_listeners.push(channel);
            api_levels.push(api::Level::Admin);
        }
        assert_eq!(
            api_listeners.len(),
            api_levels.len(),
            "one listener per stats socket"
        );
        // Each frontend's sockets, in the plan's order.
        let sockets: Vec<Vec<(ListenAddr, Box<dyn Listener>)>> = frontends
            .iter()
            .map(|(_, f)| {
                let at = bound_sockets.iter().position(|b| b.proxy == f.name);
                let at = at.unwrap_or_else(|| panic!("no listeners for frontend {}", f.name));
                let sockets = bound_sockets.swap_remove(at).sockets;
                assert_eq!(sockets.len(), f.sockets.len(), "one listener per address");
                sockets
            })
            .collect();
        let bound: Vec<ListenAddr> = sockets.iter().flatten().map(|(a, _)| a.clone()).collect();
        // In declaration order, as HAProxy numbers its checks' start.
        let all: Vec<Arc<Backend>> = config
            .proxies
            .iter()
            .filter_map(|p| backends.get(&p.name))
            .cloned()
            .collect();
        // The registry exists before anything accepts: the process holds
        // it (weakly: its `show info` holds the process).
        let maxconn = config
            .global
            .maxconn
            .map_or(DEFAULT_MAXCONN, |m| m as usize);
        let (stop, stop_rx) = watch::channel(false);
        let (streams_stop, streams_stop_rx) = watch::channel(false);
        let (listening_tx, listening) = mpsc::channel(1);
        let (paused, paused_rx) = watch::channel(0u64);
        let registry = Arc::new_cyclic(|registry| {
            let process = Arc::new(Process {
                net: net.clone(),
                pool: pool.clone(),
                logger: logger.clone(),
                global: Limit::new(maxconn),
                applets: Applets {
                    stats: Box::new(applet::Page(applet::Handle::new(registry.clone()))),
                    metrics: Box::new(applet::Metrics(applet::Handle::new(registry.clone()))),
                },
                sessions: Default::default(),
                stopping: streams_stop_rx,
                paused: paused_rx,
            });
            Registry {
                proxies: registry_entries(config, &ids, &frontends, &backends),
                stopping: Default::default(),
                api_conns: Default::default(),
                info: Some(Info {
                    pid: net.pid(),
                    nbthread: pool.event_loops(),
                    maxconn,
                    listeners: bound.len() + api_listeners.len(),
                    node: net.host_name(),
                    started: tokio::time::Instant::now(),
                    started_wall_secs: net
                        .wall_clock()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs()),
                    process,
                }),
            }
        });
        let process = registry
            .info
            .as_ref()
            .map(|i| i.process.clone())
            .expect("built with its info");
        let streams = Arc::new(Streams::default());
        let mut tasks = vec![];
        // A handle on each socket that can refuse connections, for SIGTTOU,
        // and, where a socket may hand them over (`expose-fd listeners`,
        // a master's channel), a copy of each for `_getsocks`.
        let mut pausers = vec![];
        let mut exported = vec![];
        let exposes = api_listeners.len() > pausable
            || config.global.stats_sockets.iter().any(|s| s.expose_fd);
        if exposes {
            for l in sockets
                .iter()
                .flatten()
                .map(|(_, l)| l)
                .chain(api_listeners.iter())
            {
                if let Some(Ok(fd)) = l.handover() {
                    exported.push(fd);
                }
            }
        }
        let exported = Arc::new(api::Exported::new(exported));
        for ((_, frontend), sockets) in frontends.iter().zip(sockets) {
            for ((_, listener), socket) in sockets.into_iter().zip(&frontend.sockets) {
                if let Some(Ok(handle)) = listener.try_clone() {
                    pausers.push(handle);
                }
                let accept = Accept {
                    frontend: frontend.clone(),
                    socket: socket.clone(),
                    process: process.clone(),
                    streams: streams.clone(),
                    stop: stop_rx.clone(),
                    listening: listening_tx.clone(),
                };
                accept.spawn(listener, &*pool, &mut tasks);
            }
        }
        let checker = Arc::new(Checker {
            net: net.clone(),
            logger: logger.clone(),
            apply: status::checked,
            spread_pct: config.global.spread_checks_pct,
            max_spread: config.global.max_spread_checks,
        });
        let started: Vec<Arc<Backend>> = all.iter().filter(|b| !b.disabled).cloned().collect();
        // The states from before a reload, before any check may change them.
        let restored = status::restore::apply(config, &started, carried);
        if !restored.is_empty() {
            let logger = logger.clone();
            tasks.push(tokio::spawn(async move {
                for notice in restored {
                    notice.publish(&logger).await;
                }
            }));
        }
        tasks.extend(check::spawn_all(checker, &started));
        tasks.extend(status::spawn_warm_ups(&started));
        let limits = api::Limits::new(config.global.stats_maxconn, config.global.stats_timeout);
        for (n, (listener, level)) in api_listeners.into_iter().zip(api_levels).enumerate() {
            // HAProxy's worker end of the master's channel always may.
            let expose = config
                .global
                .stats_sockets
                .get(n)
                .is_none_or(|s| s.expose_fd);
            let access = api::Access {
                level,
                sockets: expose.then(|| exported.clone()),
            };
            tasks.push(tokio::spawn(api::serve(
                listener,
                registry.clone(),
                logger.clone(),
                access,
                limits.clone(),
                n < pausable,
            )));
        }
        Engine {
            stop,
            streams_stop,
            listening: tokio::sync::Mutex::new(listening),
            streams,
            tasks,
            bound,
            logger,
            registry,
            targets,
            global_targets,
            hard_stop_after: config.global.hard_stop_after,
            has_stats_socket: !config.global.stats_sockets.is_empty(),
            paused,
            pausers: std::sync::Mutex::new(pausers),
            exported,
            backends: all,
        }
    }
}

/// What one listener's accept loops share.
struct Accept {
    frontend: Arc<Frontend>,
    socket: Arc<proxy::Socket>,
    process: Arc<Process>,
    streams: Arc<Streams>,
    stop: watch::Receiver<bool>,
    /// Held until the accept loop has let its listener go.
    listening: mpsc::Sender<()>,
}

impl Accept {
    /// One accept loop per event loop when the socket can be shared, as
    /// each HAProxy thread accepts; else one here that spreads.
    fn spawn(self, listener: Box<dyn Listener>, pool: &dyn Pool, tasks: &mut Vec<JoinHandle<()>>) {
        let clones: Option<Vec<Box<dyn Listener>>> = (1..pool.event_loops())
            .map(|_| listener.try_clone().and_then(Result::ok))
            .collect();
        match clones {
            Some(clones) if pool.event_loops() > 0 => {
                let all = std::iter::once(listener).chain(clones);
                for (n, l) in all.enumerate() {
                    let task = proxy::accept_loop(
                        l,
                        self.frontend.clone(),
                        self.socket.clone(),
                        self.process.clone(),
                        self.streams.clone(),
                        self.stop.clone(),
                        false,
                    );
                    let listening = self.listening.clone();
                    tasks.push(pool.spawn_on(
                        n,
                        Box::pin(async move {
                            task.await;
                            drop(listening);
                        }),
                    ));
                }
            }
            _ => {
                let task = proxy::accept_loop(
                    listener,
                    self.frontend,
                    self.socket,
                    self.process,
                    self.streams,
                    self.stop,
                    true,
                );
                let listening = self.listening;
                tasks.push(tokio::spawn(async move {
                    task.await;
                    drop(listening);
                }));
            }
        }
    }
}

/// The stats registry's proxies, in declaration order.
fn registry_entries(
    config: &Config,
    ids: &[u32],
    frontends: &[(usize, Arc<Frontend>)],
    backends: &BTreeMap<String, Arc<Backend>>,
) -> Vec<Entry> {
    config
        .proxies
        .iter()
        .enumerate()
        .map(|(i, p)| Entry {
            name: p.name.clone(),
            iid: ids[i],
            mode: p.mode.as_str(),
            frontend: frontends
                .iter()
                .find(|(_, f)| f.name == p.name && p.kind.is_frontend())
                .map(|(_, f)| f.clone()),
            backend: p
                .kind
                .is_backend()
                .then(|| backends.get(&p.name).cloned())
                .flatten(),
            disabled: p.disabled,
        })
        .collect()
}

/// The runtime API's level for a `stats socket`'s.
fn api_level(level: CliLevel) -> api::Level {
    match level {
        CliLevel::User => api::Level::User,
        CliLevel::Operator => api::Level::Operator,
        CliLevel::Admin => api::Level::Admin,
    }
}

/// One runtime backend per backend-capable proxy, by name. BTreeMap: the
/// runs are repeatable.
fn build_backends(
    config: &Config,
    ids: &[u32],
    targets: &[Vec<Target>],
    seed: u64,
    compiled: &mut CompiledAcls,
) -> Result<BTreeMap<String, Arc<Backend>>, StartError> {
    let mut backends = BTreeMap::new();
    for (i, (proxy, targets)) in config.proxies.iter().zip(targets).enumerate() {
        if !proxy.kind.is_backend() {
            continue;
        }
        // Rules evaluate a backend's ACLs in `mode http` only: there, one
        // the engine cannot evaluate is refused; a TCP backend has none to
        // evaluate.
        let acls = match compiled.of(proxy) {
            Ok(acls) => acls,
            Err(u) if proxy.mode == Mode::Http => return Err(unsupported_acl(proxy, u)),
            Err(_) => Arc::default(),
        };
        if let crate::config::Balance::Hash(expr) = &proxy.balance {
            if crate::acl::Sample::compile(expr).is_none() {
                return Err(StartError::NotImplemented(vec![Unimplemented {
                    at: proxy.at.clone(),
                    keyword: format!("balance hash {expr}"),
                    section: proxy.kind.as_str().to_string(),
                }]));
            }
        }
        if let (false, Some(rule)) = (proxy.kind.is_frontend(), proxy.tcp_content.first()) {
            return Err(StartError::NotImplemented(vec![Unimplemented {
                at: rule.at.clone(),
                keyword: "tcp-request content (backend)".into(),
                section: proxy.kind.as_str().to_string(),
            }]));
        }
        let mut backend = Backend::new(proxy, ids[i], targets.clone(), seed ^ i as u64);
        backend.acls = acls;
        if proxy.fullconn.is_none() {
            backend.fullconn = default_fullconn(config, &proxy.name);
        }
        backends.insert(proxy.name.clone(), Arc::new(backend));
    }
    Ok(backends)
}

/// HAProxy's `fullconn` for a backend that sets none
/// (proxy_adjust_all_maxconn): a tenth, rounded up, of the `maxconn` of
/// every frontend that may route to it (its `default_backend`, a listen
/// section's own servers, each backend its `use_backend` rules name once),
/// at least 1.
fn default_fullconn(config: &Config, backend: &str) -> u32 {
    let mut total: u64 = 0;
    for fe in config
        .proxies
        .iter()
        .filter(|p| p.kind.is_frontend() && !p.disabled)
    {
        let maxconn = fe
            .maxconn
            .or(config.global.maxconn)
            .map_or(DEFAULT_MAXCONN as u64, u64::from);
        let by_default = match &fe.default_backend {
            Some(d) => d == backend,
            None => fe.kind.is_backend() && fe.name == backend,
        };
        let by_rule = fe.default_backend.as_deref() != Some(backend)
            && fe.use_backends.iter().any(|u| u.backend == backend);
        if by_default || by_rule {
            total += maxconn;
        }
    }
    (total.div_ceil(10) as u32).max(1)
}

/// The proxies' ids as HAProxy 2.6 numbers them, the stats socket's
/// `GLOBAL` frontend first.
fn proxy_ids(config: &Config) -> Vec<u32> {
    let global = !config.global.stats_sockets.is_empty();
    let forced: Vec<Option<u32>> = global
        .then_some(None)
        .into_iter()
        .chain(config.proxies.iter().map(|p| p.id))
        .collect();
    crate::config::number_ids(&forced)[usize::from(global)..].to_vec()
}

/// An ACL whose fetch the runtime lacks stops the start, naming its line.
/// Each proxy's ACLs, compiled once for all that evaluate them (its
/// backend's rules, its frontend's, its content rules); a proxy whose ACLs
/// do not compile is left out, for each user to refuse or not.
#[derive(Default)]
struct CompiledAcls(BTreeMap<String, Arc<Acls>>);

impl CompiledAcls {
    fn of(&mut self, proxy: &Proxy) -> Result<Arc<Acls>, crate::acl::Unsupported> {
        if let Some(acls) = self.0.get(&proxy.name) {
            return Ok(acls.clone());
        }
        let acls = Arc::new(crate::acl::compile(&proxy.acls)?);
        self.0.insert(proxy.name.clone(), acls.clone());
        Ok(acls)
    }
}

fn unsupported_acl(proxy: &Proxy, u: crate::acl::Unsupported) -> StartError {
    StartError::NotImplemented(vec![Unimplemented {
        at: u.at,
        keyword: format!("acl {} {}", u.name, u.fetch),
        section: proxy.kind.as_str().to_string(),
    }])
}

/// A TCP frontend's `tcp-request content` rules. Not built yet: those of
/// HTTP frontends and of backends, and conditions reading HTTP.
fn content_rules(
    proxy: &Proxy,
    compiled: &mut CompiledAcls,
) -> Result<Option<ContentRules>, StartError> {
    let Some(first) = proxy.tcp_content.first() else {
        return Ok(None);
    };
    let refuse = |at: &crate::config::Location, keyword: String| {
        StartError::NotImplemented(vec![Unimplemented {
            at: at.clone(),
            keyword,
            section: proxy.kind.as_str().to_string(),
        }])
    };
    if proxy.mode == Mode::Http {
        return Err(refuse(&first.at, "tcp-request content (mode http)".into()));
    }
    let acls = compiled.of(proxy).map_err(|u| unsupported_acl(proxy, u))?;
    for rule in &proxy.tcp_content {
        if let Some(name) = rule.cond.as_ref().and_then(|c| acls.http_acl(c)) {
            let keyword = format!("tcp-request content with HTTP ACL '{name}'");
            return Err(refuse(&rule.at, keyword));
        }
    }
    Ok(ContentRules::new(proxy, acls))
}

/// A frontend's log format: its `log-format`, else the one its options
/// name (HAProxy falls back from httplog to tcplog in TCP mode).
fn log_format(proxy: &Proxy) -> Result<Option<Arc<LogFormat>>, StartError> {
    let http = proxy.mode == Mode::Http;
    let o = &proxy.options;
    let text = match &proxy.log_format {
        Some(custom) => custom.format.as_str(),
        None if o.httplog && !http => format::TCPLOG,
        None if o.httplog_clf => format::CLF,
        None if o.httplog => format::HTTPLOG,
        None if o.tcplog => format::TCPLOG,
        None => return Ok(None),
    };
    let refuse = |keyword: String| {
        let at = proxy.log_format.as_ref().map_or(&proxy.at, |c| &c.at);
        StartError::NotImplemented(vec![Unimplemented {
            at: at.clone(),
            keyword,
            section: proxy.kind.as_str().to_string(),
        }])
    };
    // A configuration that did not come through `-c`'s checks (the
    // simulator builds its own) may still hold a bad format.
    let lf = LogFormat::parse(text, http).map_err(|e| refuse(format!("log-format ({e})")))?;
    if let Some(label) = lf.unimplemented().into_iter().next() {
        return Err(refuse(format!("log-format {label}")));
    }
    Ok(Some(Arc::new(lf)))
}

/// What a `mode http` frontend needs: its rules and ACLs, the backends
/// its rules may name, where requests go by default.
fn http_frontend(
    proxy: &Proxy,
    backends: &BTreeMap<String, Arc<Backend>>,
    compiled: &mut CompiledAcls,
) -> Result<HttpFrontend, StartError> {
    let acls = compiled.of(proxy).map_err(|u| unsupported_acl(proxy, u))?;
    // A `default_backend` wins over a listen section's own servers.
    let default = proxy
        .default_backend
        .as_ref()
        .or(proxy.kind.is_backend().then_some(&proxy.name))
        .and_then(|n| backends.get(n))
        .cloned();
    Ok(HttpFrontend {
        rules: proxy.clone(),
        acls,
        backends: backends.clone(),
        default,
        policy: Policy::from_proxy(proxy),
    })
}

/// A listen section serves its own servers; a frontend its default_backend.
fn frontend_backend(
    proxy: &Proxy,
    backends: &BTreeMap<String, Arc<Backend>>,
) -> Option<Arc<Backend>> {
    let name = if proxy.kind.is_backend() {
        Some(&proxy.name)
    } else {
        proxy.default_backend.as_ref()
    };
    // A disabled backend takes no traffic: the frontend closes at once.
    name.and_then(|n| backends.get(n))
        .filter(|b| !b.disabled)
        .cloned()
}

/// A frontend's sockets for the stats, one per listening address in
/// `listen_addrs`'s order: ids as `bind ... id` sets them, the others the
/// next free ones, names as `bind ... name` sets them or `sock-<id>`, as
/// HAProxy numbers its listeners.
fn sockets(proxy: &Proxy) -> Vec<Arc<proxy::Socket>> {
    let taken: Vec<u32> = proxy.binds.iter().filter_map(|b| b.id).collect();
    let mut next = 1;
    let mut out = vec![];
    for bind in &proxy.binds {
        for addr in bind_addrs(bind) {
            // HAProxy moves its candidate on for every listener, numbered
            // or not: `name`, `id 1`, then a third get ids 2, 1 and 4.
            let id = bind.id.unwrap_or_else(|| {
                while taken.contains(&next) {
                    next += 1;
                }
                next
            });
            next += 1;
            out.push(Arc::new(proxy::Socket {
                name: bind.name.clone().unwrap_or_else(|| format!("sock-{id}")),
                id,
                addr: match addr {
                    ListenAddr::Inet(a) => a.to_string(),
                    _ => "unix".into(),
                },
                ..proxy::Socket::default()
            }));
        }
    }
    out
}

/// A frontend's connection limit: its `maxconn`, else the global one,
/// else the engine's default.
fn frontend_maxconn(config: &Config, proxy: &Proxy) -> usize {
    proxy
        .maxconn
        .or(config.global.maxconn)
        .map_or(DEFAULT_MAXCONN, |m| m as usize)
}

/// Every socket a frontend listens on, port ranges expanded, with its
/// `bind` line; `maxconn` is the frontend's, resolved. A spec takes the
/// address and the listen backlog from the configuration; its socket
/// options stay at their defaults, since the parser refuses the `bind`
/// options that would set them (`v6only`, `interface`, `transparent`)
/// and the global `noreuseport`.
fn listen_addrs(proxy: &Proxy, maxconn: usize) -> Vec<(Location, ListenSpec)> {
    proxy
        .binds
        .iter()
        .flat_map(|b| {
            let backlog = listener_backlog(b, proxy, maxconn);
            bind_addrs(b)
                .into_iter()
                .map(move |a| (b.at.clone(), ListenSpec::new(a, backlog)))
        })
        .collect()
}

/// listen(2)'s backlog when nothing sets one (HAProxy's last resort).
const FALLBACK_BACKLOG: u32 = 1024;

/// The listen backlog of a bind line's sockets, as HAProxy 2.6's
/// `listener_backlog` chooses it: the bind's `backlog`, else the proxy's,
/// else the frontend's `maxconn` (its own, else the global one: the
/// runtime's `maxconn` here), else 1024. (HAProxy tries the bind's
/// `maxconn` before the frontend's; the engine refuses that option at
/// start.) The kernel caps the value at `net.core.somaxconn`.
fn listener_backlog(bind: &crate::config::Bind, proxy: &Proxy, maxconn: usize) -> u32 {
    bind.backlog
        .or(proxy.backlog)
        .or(Some(maxconn.min(u32::MAX as usize) as u32).filter(|&n| n > 0))
        .unwrap_or(FALLBACK_BACKLOG)
}

/// The addresses a `bind` line listens on, one per port of a range.
fn bind_addrs(bind: &crate::config::Bind) -> Vec<ListenAddr> {
    let mut out = vec![];
    for addr in bind.addrs.iter().cloned() {
        match addr {
            BindAddr::Inet {
                ip,
                port_first,
                port_last,
            } => out.extend(
                (port_first..=port_last).map(|port| ListenAddr::Inet(SocketAddr::new(ip, port))),
            ),
            BindAddr::Unix(path) => out.push(ListenAddr::Unix(path)),
            BindAddr::Fd(fd) => out.push(ListenAddr::Fd(fd)),
        }
    }
    out
}

/// A proxy's log targets: the global ones with `log global`, then its own.
/// Targets the engine cannot send to yet are listed as not implemented.
fn proxy_log_targets(
    config: &Config,
    proxy: &Proxy,
    unix: bool,
    unimplemented: &mut Vec<Unimplemented>,
) -> Vec<Target> {
    let global = if proxy.log_global {
        &config.global.log[..]
    } else {
        &[]
    };
    global
        .iter()
        .chain(&proxy.log)
        .filter_map(|t| match log_target(t, unix) {
            Some(target) => Some(target),
            None => {
                // Global targets were reported once already.
                if !unimplemented.iter().any(|u| u.at == t.at) {
                    unimplemented.push(unsupported_log(t, proxy.kind.as_str()));
                }
                None
            }
        })
        .collect()
}

fn unsupported_log(t: &LogTarget, section: &str) -> Unimplemented {
    Unimplemented {
        at: t.at.clone(),
        keyword: t.text.clone(),
        section: section.to_string(),
    }
}

/// A configured `log` target, ready to send, when the engine sends to it:
/// not a form the configuration marked as not sent (rings, stream
/// targets, other formats), not sampled, and not a unix socket where the
/// seam has none (`unix`). None for the rest, which start-up reports as
/// not implemented.
fn log_target(t: &LogTarget, unix: bool) -> Option<Target> {
    let dest = t
        .dest
        .clone()
        .filter(|d| unix || !matches!(d, Dest::Unix(_)))?;
    if t.sample.is_some() {
        return None;
    }
    Some(Target {
        dest,
        format: t.format?,
        max_len: t.max_len,
        facility: t.facility,
        max_level: t.max_level,
        min_level: t.min_level,
    })
}

/// Applies `mode <octal>` to a unix socket's file.
fn set_mode(addr: &ListenAddr, mode: Option<u32>) {
    if let (ListenAddr::Unix(path), Some(mode)) = (addr, mode) {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
    }
}

/// Where a `stats socket` listens.
pub fn stats_socket_addr(socket: &crate::config::StatsSocket) -> ListenAddr {
    bind_addr(&socket.address)
}

fn bind_addr(addr: &BindAddr) -> ListenAddr {
    match addr {
        BindAddr::Inet { ip, port_first, .. } => {
            ListenAddr::Inet(SocketAddr::new(*ip, *port_first))
        }
        BindAddr::Unix(path) => ListenAddr::Unix(path.clone()),
        BindAddr::Fd(fd) => ListenAddr::Fd(*fd),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::Memory;
    use crate::testing::FakeNet;

    #[tokio::test]
    async fn a_seam_without_unix_sockets_refuses_unix_log_targets() {
        let cfg = "global\n    log /dev/log local0\n    log 127.0.0.1:514 local0\n\ndefaults\n    mode tcp\n\nlisten app\n    bind :80\n    server s1 10.0.0.1:80\n";
        let config = crate::config::load_str("test.cfg", cfg)
            .expect("loads")
            .config;
        let net = FakeNet::new();
        let started =
            Engine::start(&config, net.clone(), net, Arc::new(Memory::default()), "e").await;
        let Err(StartError::NotImplemented(list)) = started else {
            panic!("a unix log target must be refused where the seam has none");
        };
        let keywords: Vec<&str> = list.iter().map(|u| u.keyword.as_str()).collect();
        assert_eq!(keywords, ["log /dev/log"]);
    }

    /// The backlog of each listening address of each frontend of `cfg`
    /// (after a `defaults` section that sets nothing), in order.
    fn backlogs(cfg: &str) -> Vec<(String, u32)> {
        let text = format!("defaults\n    mode tcp\n{cfg}");
        let config = crate::config::load_str("test.cfg", &text)
            .expect("loads")
            .config;
        config
            .proxies
            .iter()
            .filter(|p| p.kind.is_frontend())
            .flat_map(|p| listen_addrs(p, frontend_maxconn(&config, p)))
            .map(|(_, spec)| (spec.addr.to_string(), spec.backlog))
            .collect()
    }

    fn one(addr: &str, backlog: u32) -> (String, u32) {
        (addr.to_string(), backlog)
    }

    #[test]
    fn the_listen_backlog_is_chosen_as_haproxy_listener_backlog_does() {
        // The bind's own, else the proxy's (inherited from defaults too).
        assert_eq!(
            backlogs(
                "    backlog 9\n\
                 frontend a\n    bind 127.0.0.1:81 backlog 4\n    bind 127.0.0.1:82\n    maxconn 33\n\
                 frontend b\n    backlog 7\n    bind 127.0.0.1:83\n"
            ),
            [
                one("127.0.0.1:81", 4),
                one("127.0.0.1:82", 9),
                one("127.0.0.1:83", 7)
            ]
        );
        // Else the frontend's maxconn, its own or the global one.
        assert_eq!(
            backlogs("frontend a\n    maxconn 33\n    bind 127.0.0.1:81-82\n"),
            [one("127.0.0.1:81", 33), one("127.0.0.1:82", 33)]
        );
        assert_eq!(
            backlogs("frontend a\n    bind 127.0.0.1:81\n")[0].1,
            DEFAULT_MAXCONN as u32
        );
        let global = crate::config::load_str(
            "test.cfg",
            "global\n    maxconn 50\ndefaults\n    mode tcp\nfrontend a\n    bind 127.0.0.1:81\n",
        )
        .expect("loads")
        .config;
        assert_eq!(
            listen_addrs(
                &global.proxies[0],
                frontend_maxconn(&global, &global.proxies[0])
            )[0]
            .1
            .backlog,
            50
        );
        // 0 is "unset" at both levels; the proxy's -1 is kept in an
        // unsigned int (the kernel caps it at somaxconn).
        assert_eq!(
            backlogs(
                "frontend a\n    backlog 0\n    maxconn 33\n    bind 127.0.0.1:81 backlog 0\n"
            ),
            [one("127.0.0.1:81", 33)]
        );
        assert_eq!(
            backlogs("frontend a\n    backlog -1\n    bind 127.0.0.1:81\n"),
            [one("127.0.0.1:81", u32::MAX)]
        );
    }
}
