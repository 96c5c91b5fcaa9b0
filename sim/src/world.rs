//! A scenario as a turmoil world: proxies running the engine, real servers,
//! clients, an optional syslog collector; the timeline applied between
//! steps and the expectations checked at their times.
//!
//! Every host registers under its scenario address, so the engine's
//! configuration uses the same addresses as in production. Time is
//! virtual: a thirty-second scenario runs in well under a second.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use engine::config;
use engine::log::{LogSink, Severity};
use engine::pool;
use engine::runtime::Engine;

use crate::addresses::Addresses;
use crate::loss::{Dialer, Links};
use crate::net::SimNet;
use crate::report::{Report, StreamSummary, Streams};
use crate::scenario::{Action, Check, Failure, FailureMode, Scenario};
use crate::transcript::Transcript;

/// The pid the first simulated engine reports; the next ones count up.
const FIRST_PID: u32 = 1000;
/// Virtual time after the clients' last connection for things to settle.
const SETTLE: Duration = Duration::from_secs(1);
/// Pending connections turmoil allows per host: more than any scenario's
/// clients open at once.
const TCP_CAPACITY: usize = 16384;

/// What a run produced.
#[derive(Debug)]
pub struct Outcome {
    /// Every event, client answer and engine message, with virtual times.
    pub transcript: String,
    /// The clients' summary.
    pub report: String,
    /// Expectations that did not hold, one line each.
    pub failed: Vec<String>,
    /// The clients' figures, for whoever wants more than the summary.
    pub clients: Report,
    /// What the proxies saw of the streams they ended.
    pub streams: Vec<StreamSummary>,
    /// Every server's state changes, in order.
    pub health: Vec<HealthChange>,
    /// Every server's part in the load, when the clients stopped.
    pub servers: Vec<ServerShare>,
}

/// A server's part in its backend's load (from `show stat` when the
/// clients stop).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ServerShare {
    /// `backend/server`.
    pub server: String,
    /// Sessions it served (`stot`).
    pub sessions: u64,
    /// Its percentage of its backend's servers' sessions.
    pub share_pct: f64,
    /// The most sessions it had at once (`smax`), and the longest its
    /// queue was (`qmax`).
    pub peak: u64,
    pub queue_peak: u64,
}

/// The servers' lines of the engines' final `show stat`, with shares.
fn server_shares(csvs: &[String]) -> Vec<ServerShare> {
    let mut out = vec![];
    for csv in csvs {
        let stat = StatCsv::parse(csv);
        let number = |row: &[&str], column: &str| -> u64 {
            stat.cell(row, column)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        let servers: Vec<&Vec<&str>> = stat
            .rows
            .iter()
            .filter(|r| stat.cell(r, "type") == Some("2"))
            .collect();
        for r in &servers {
            let total: u64 = servers
                .iter()
                .filter(|o| o[0] == r[0])
                .map(|o| number(o, "stot"))
                .sum();
            let sessions = number(r, "stot");
            out.push(ServerShare {
                server: format!("{}/{}", r[0], r[1]),
                sessions,
                share_pct: if total == 0 {
                    0.0
                } else {
                    sessions as f64 * 100.0 / total as f64
                },
                peak: number(r, "smax"),
                queue_peak: number(r, "qmax"),
            });
        }
    }
    out
}

/// A `show stat` answer, split into its header and rows of cells.
struct StatCsv<'a> {
    header: Vec<&'a str>,
    rows: Vec<Vec<&'a str>>,
}

impl<'a> StatCsv<'a> {
    fn parse(csv: &'a str) -> Self {
        let mut lines = csv.lines().filter(|l| !l.is_empty());
        let header = lines
            .next()
            .map(|h| h.trim_start_matches("# ").split(',').collect())
            .unwrap_or_default();
        let rows = lines.map(|l| l.split(',').collect()).collect();
        StatCsv { header, rows }
    }

    /// The cell of `row` in `column`, if both exist.
    fn cell(&self, row: &[&'a str], column: &str) -> Option<&'a str> {
        let at = self.header.iter().position(|h| *h == column)?;
        row.get(at).copied()
    }
}

/// A server's state changed (as the stats show it, without `x/y`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HealthChange {
    /// Virtual time, in milliseconds.
    pub at_ms: u64,
    pub proxy: String,
    /// `backend/server`.
    pub server: String,
    pub state: String,
}

/// Every server's state word (`UP`, `DOWN`, `MAINT`, `DRAIN`, `NOLB`) in
/// every running engine, by (proxy, `backend/server`).
fn all_states(engines: &[(String, EngineSlot)]) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for (name, slot) in engines {
        let Some(running) = slot.lock().expect("slot").clone() else {
            continue;
        };
        for b in running.engine.backends() {
            for s in &b.servers {
                let word = state_word(&s.status());
                out.insert((name.clone(), format!("{}/{}", b.name, s.name())), word);
            }
        }
    }
    out
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("proxy {proxy}: configuration errors:\n{messages}")]
    Config { proxy: String, messages: String },
    #[error("simulation: {0}")]
    Sim(String),
}

/// Each proxy's running engine (replaced when its host restarts), for
/// expectations, and a way to ask it for its stats.
type EngineSlot = Arc<Mutex<Option<Running>>>;

#[derive(Clone)]
struct Running {
    engine: Arc<Engine>,
    /// Stats and API commands run inside the proxy's host, whose clock is
    /// the simulation's: the driver asks, the host answers.
    asks: tokio::sync::mpsc::UnboundedSender<Ask>,
}

/// A question for an engine, and where its answer goes.
struct Ask {
    /// None: `show stat`; Some: a runtime API command line.
    command: Option<String>,
    reply: tokio::sync::oneshot::Sender<String>,
}

/// The global settings that act on the operating-system process (its
/// root, identity, background, pid file, threads): a simulated host has
/// none (turmoil runs each host on one thread), so
/// the transcript says they were not applied.
fn process_settings(g: &config::Global) -> Vec<&'static str> {
    [
        (g.chroot.is_some(), "chroot"),
        (g.uid != 0, "user/uid"),
        (g.gid != 0, "group/gid"),
        (g.daemon, "daemon"),
        (g.pidfile.is_some(), "pidfile"),
        (g.nbthread.is_some(), "nbthread"),
    ]
    .into_iter()
    .filter_map(|(set, name)| set.then_some(name))
    .collect()
}

pub fn run(scenario: &Scenario) -> Result<Outcome, RunError> {
    run_with_progress(scenario, &mut |_, _| {})
}

/// [`run`], telling `progress` (virtual time so far, the run's whole
/// duration) as each virtual second passes, for a progress bar.
pub fn run_with_progress(
    scenario: &Scenario,
    progress: &mut dyn FnMut(Duration, Duration),
) -> Result<Outcome, RunError> {
    let transcript = Transcript::default();
    let report = Report::default();
    let streams = Streams::default();
    let links = Links::default();
    for proxy in &scenario.proxies {
        links.add_engine(proxy.address);
    }
    let addresses = Addresses::default();
    let hosts = scenario.proxies.iter().map(|p| p.address);
    let hosts = hosts.chain(scenario.servers.iter().map(|s| s.address));
    let hosts = hosts.chain(scenario.clients.iter().map(|c| c.address));
    for host in hosts.chain(scenario.syslog) {
        addresses.add_host(host);
    }

    let mut sim = turmoil::Builder::new()
        .epoch(scenario.epoch())
        .rng_seed(scenario.seed)
        .simulation_duration(sim_duration(scenario))
        .min_message_latency(scenario.latency.0)
        .max_message_latency(scenario.latency.0)
        .tcp_capacity(TCP_CAPACITY)
        .build();

    let mut engines: Vec<(String, EngineSlot)> = vec![];
    for (i, proxy) in scenario.proxies.iter().enumerate() {
        let text = proxy
            .config
            .as_deref()
            .expect("config_file is read at load");
        let loaded = config::load_str(&proxy.name, text).map_err(|e| RunError::Config {
            proxy: proxy.name.clone(),
            messages: e
                .diagnostics
                .iter()
                .map(|d| d.message.clone())
                .collect::<Vec<_>>()
                .join("\n"),
        })?;
        let config = Arc::new(loaded.config);
        let slot: EngineSlot = Arc::default();
        engines.push((proxy.name.clone(), slot.clone()));
        let (transcript, streams, links, addresses, address, seed, pid, name) = (
            transcript.clone(),
            streams.clone(),
            links.clone(),
            addresses.clone(),
            proxy.address,
            scenario.seed,
            FIRST_PID + i as u32,
            proxy.name.clone(),
        );
        sim.host(proxy.address, move || {
            let (config, slot, links, addresses, name) = (
                config.clone(),
                slot.clone(),
                links.clone(),
                addresses.clone(),
                name.clone(),
            );
            let sink: Arc<dyn LogSink> = Arc::new(transcript.sink(&name, pid, streams.clone()));
            async move {
                let skipped = process_settings(&config.global);
                if !skipped.is_empty() {
                    let message = format!(
                        "process settings a simulated host does not take: {}.",
                        skipped.join(", ")
                    );
                    sink.emit(Severity::Notice, &message);
                }
                let net = SimNet::new(seed, pid, &name, address, links, addresses);
                let engine = Engine::start(
                    &config,
                    Arc::new(net),
                    Arc::new(pool::Current),
                    sink,
                    "engine",
                )
                .await?;
                let engine = Arc::new(engine);
                let (asks, mut questions) = tokio::sync::mpsc::unbounded_channel::<Ask>();
                *slot.lock().expect("slot") = Some(Running {
                    engine: engine.clone(),
                    asks,
                });
                while let Some(q) = questions.recv().await {
                    let answer = match &q.command {
                        None => engine.show_stat(),
                        Some(c) => engine.execute(c).await,
                    };
                    let _ = q.reply.send(answer);
                }
                Ok(())
            }
        });
    }
    let mut failures = vec![];
    let mut rates = vec![];
    for server in &scenario.servers {
        let (spec, seed) = (server.clone(), scenario.seed);
        let (mode, _) = tokio::sync::watch::channel(Failure {
            server: spec.name.clone(),
            mode: FailureMode::None,
            delay: None,
        });
        let watched = mode.clone();
        failures.push((spec.name.clone(), mode));
        sim.host(server.address, move || {
            crate::server::serve(spec.clone(), seed, watched.subscribe())
        });
    }
    if let Some(collector) = scenario.syslog {
        let transcript = transcript.clone();
        sim.host(collector, move || collect_syslog(transcript.clone()));
    }
    for client in &scenario.clients {
        let (spec, transcript, report, duration, seed) = (
            client.clone(),
            transcript.clone(),
            report.clone(),
            scenario.duration.0,
            scenario.seed,
        );
        let (rate, watched) = tokio::sync::watch::channel(None);
        rates.push((client.name.clone(), rate));
        let dialer = Dialer::new(
            links.clone(),
            addresses.clone(),
            client.address,
            seed ^ name_hash(&client.name).rotate_left(17),
        );
        sim.client(client.address, async move {
            crate::client::run_client(&spec, duration, seed, &transcript, &report, watched, dialer)
                .await;
            Ok(())
        });
    }

    let address = |name: &str| scenario.address_of(name).expect("checked at load");
    for l in &scenario.links {
        let [a, b] = &l.between;
        if let Some(latency) = l.latency {
            sim.set_link_latency(address(a), address(b), latency.0);
            sim.set_link_max_message_latency(address(a), address(b), latency.0);
        }
        if let Some(loss) = l.loss {
            links.set_loss(address(a), address(b), loss.0);
        }
    }
    let Driven {
        mut failed,
        health,
        servers,
    } = drive(
        &mut sim,
        scenario,
        Handles {
            engines: &engines,
            failures: &failures,
            rates: &rates,
            links: &links,
        },
        &transcript,
        progress,
    )?;
    for o in &scenario.outcome {
        let lost = report.failed(&o.client);
        if let Some(max) = o.max_failed {
            if lost > max {
                failed.push(format!(
                    "client {}: {lost} connections failed, at most {max} allowed",
                    o.client
                ));
            }
        }
        if let Some(allowed) = &o.statuses {
            for (status, n) in report.statuses(&o.client) {
                if !allowed.contains(&status) {
                    failed.push(format!(
                        "client {}: {n} answers with status {status}, not among {allowed:?}",
                        o.client
                    ));
                }
            }
        }
        if let (Some(max), Some(p99)) = (o.max_p99, report.percentile(&o.client, 0.99)) {
            if p99 > max.0 {
                failed.push(format!(
                    "client {}: p99 latency {p99:?} above {:?}",
                    o.client, max.0
                ));
            }
        }
    }
    let mut text = report.render(scenario.duration.0);
    text.push_str(&streams.render());
    if !servers.is_empty() {
        text.push_str("servers (sessions, share of their backend, peak at once, queue peak):\n");
        for s in &servers {
            text.push_str(&format!(
                "  {:<20} {:>7} {:>5.1}% {:>5} {:>5}\n",
                s.server, s.sessions, s.share_pct, s.peak, s.queue_peak
            ));
        }
    }
    if !health.is_empty() {
        text.push_str("health timeline:\n");
        for h in &health {
            text.push_str(&format!(
                "  {:>3}.{:03}s  {} {} {}\n",
                h.at_ms / 1000,
                h.at_ms % 1000,
                h.proxy,
                h.server,
                h.state
            ));
        }
    }
    Ok(Outcome {
        transcript: transcript.render(),
        report: text,
        clients: report.clone(),
        streams: streams.summaries(),
        failed,
        health,
        servers,
    })
}

/// The virtual time a run lasts: the clients', then their patience, then
/// a settling second.
fn sim_duration(scenario: &Scenario) -> Duration {
    scenario.duration.0 + max_patience(scenario) + SETTLE
}

fn max_patience(scenario: &Scenario) -> Duration {
    scenario
        .clients
        .iter()
        .map(|c| c.patience.0)
        .max()
        .unwrap_or_default()
}

/// What driving the world found.
struct Driven {
    failed: Vec<String>,
    health: Vec<HealthChange>,
    servers: Vec<ServerShare>,
}

/// What the driver acts on besides turmoil: each proxy's engine, each
/// server's failure mode, each open-loop client's rate, the links' loss.
struct Handles<'a> {
    engines: &'a [(String, EngineSlot)],
    failures: &'a [(String, tokio::sync::watch::Sender<Failure>)],
    rates: &'a [(String, tokio::sync::watch::Sender<Option<Duration>>)],
    links: &'a Links,
}

/// Steps the world, applying timeline events and checking expectations
/// when their time comes.
fn drive(
    sim: &mut turmoil::Sim<'_>,
    scenario: &Scenario,
    handles: Handles<'_>,
    transcript: &Transcript,
    progress: &mut dyn FnMut(Duration, Duration),
) -> Result<Driven, RunError> {
    let Handles {
        engines,
        failures,
        rates,
        links,
    } = handles;
    // Every engine's `show stat` when the clients stop: each server's
    // share of the load and its peaks.
    let mut final_ask: Vec<Pending> = vec![];
    let mut asked_final = false;
    let mut final_stats: Vec<String> = vec![];
    let total = sim_duration(scenario);
    let mut told = Duration::ZERO;
    let mut states = BTreeMap::new();
    let mut health = vec![];
    // A state changes with a message (the engine's, or the timeline's):
    // the states are read again only when the transcript grew.
    let mut seen = usize::MAX;
    let mut events: Vec<_> = scenario.timeline.iter().collect();
    events.sort_by_key(|e| e.at.0);
    let mut events = events.into_iter().peekable();
    let mut checks: Vec<_> = scenario.expect.iter().collect();
    checks.sort_by_key(|c| c.at.0);
    let mut checks = checks.into_iter().peekable();
    let mut stats: Vec<_> = scenario.stats.iter().collect();
    stats.sort_by_key(|t| t.0);
    let mut stats = stats.into_iter().peekable();
    let mut pending: Vec<Pending> = vec![];
    // Stats cells asked for by expectations, read where the engine runs
    // (its rates read virtual time).
    let mut cells: Vec<CellCheck> = vec![];
    let mut failed = vec![];
    let address = |name: &str| scenario.address_of(name).expect("checked at load");
    loop {
        let now = sim.elapsed();
        let lines = transcript.len();
        let fresh = if lines != seen || states.is_empty() {
            seen = lines;
            all_states(engines)
        } else {
            BTreeMap::new()
        };
        for (key, state) in fresh {
            // An engine's first states are where it starts, not changes.
            if let Some(before) = states.insert(key.clone(), state.clone()) {
                if before != state {
                    health.push(HealthChange {
                        at_ms: now.as_millis() as u64,
                        proxy: key.0,
                        server: key.1,
                        state,
                    });
                }
            }
        }
        if now >= told + Duration::from_secs(1) {
            told = now;
            progress(now, total);
        }
        while let Some(e) = events.next_if(|e| e.at.0 <= now) {
            transcript.note_at(now, "timeline", &describe(&e.action));
            match &e.action {
                Action::Crash(h) => sim.crash(address(h)),
                Action::Restore(h) => sim.bounce(address(h)),
                Action::Partition([a, b]) => sim.partition(address(a), address(b)),
                Action::Heal([a, b]) => sim.repair(address(a), address(b)),
                Action::Latency {
                    between: [a, b],
                    value,
                } => {
                    sim.set_link_latency(address(a), address(b), value.0);
                    sim.set_link_max_message_latency(address(a), address(b), value.0);
                }
                Action::Loss {
                    between: [a, b],
                    value,
                } => links.set_loss(address(a), address(b), value.0),
                Action::Fail(f) => {
                    if let Some((_, mode)) = failures.iter().find(|(n, _)| *n == f.server) {
                        mode.send_replace(f.clone());
                    }
                }
                Action::Load(l) => {
                    if let Some((_, rate)) = rates.iter().find(|(n, _)| *n == l.client) {
                        rate.send_replace(Some(l.rate.interval));
                    }
                }
                Action::Api { proxy, command } => {
                    if let Some((name, slot)) = engines.iter().find(|(n, _)| n == proxy) {
                        ask_engine(slot, Some(command.clone()), now, name, "api", &mut pending);
                    }
                }
            }
        }
        while let Some(at) = stats.next_if(|t| t.0 <= now) {
            for (name, slot) in engines {
                ask_engine(slot, None, at.0, name, "stats", &mut pending);
            }
        }
        // Answers arrive once the proxies' hosts have run a step.
        pending.retain_mut(|(at, name, who, answer)| match answer.try_recv() {
            Ok(text) => {
                for line in text.lines().filter(|l| !l.is_empty()) {
                    transcript.note_at(*at, who, &format!("{name}: {line}"));
                }
                false
            }
            Err(tokio::sync::oneshot::error::TryRecvError::Empty) => true,
            Err(_) => false,
        });
        while let Some(c) = checks.next_if(|c| c.at.0 <= now) {
            let check = c.check().expect("checked at load");
            // The proxy it names, or every one (the first that knows).
            let engines: Vec<(String, EngineSlot)> = engines
                .iter()
                .filter(|(n, _)| c.proxy.as_ref().is_none_or(|p| p == n))
                .cloned()
                .collect();
            let engines = engines.as_slice();
            let (what, want, actual) = match &check {
                Check::Server(s, state) => (
                    s.clone(),
                    state.as_str().to_string(),
                    server_state(engines, s),
                ),
                Check::Backend(b, state) => (
                    b.clone(),
                    state.as_str().to_string(),
                    backend_state(engines, b),
                ),
                Check::Stat {
                    line,
                    column,
                    value,
                } => {
                    let mut answers = vec![];
                    for (name, slot) in engines {
                        ask_engine(slot, None, c.at.0, name, "expect", &mut answers);
                    }
                    cells.push(CellCheck {
                        at: c.at.0,
                        line: line.clone(),
                        column: column.clone(),
                        want: value.clone(),
                        answers: answers.into_iter().map(|p| p.3).collect(),
                        csv: vec![],
                    });
                    continue;
                }
            };
            if actual.as_deref() != Some(want.as_str()) {
                failed.push(format!(
                    "at {:?}: expected {what} {want}, found {}",
                    c.at.0,
                    actual
                        .as_deref()
                        .unwrap_or("nothing (no such server, backend or column)")
                ));
            }
        }
        if !asked_final && now >= scenario.duration.0 {
            asked_final = true;
            for (name, slot) in engines {
                ask_engine(slot, None, now, name, "final", &mut final_ask);
            }
        }
        final_ask.retain_mut(|p| match p.3.try_recv() {
            Ok(csv) => {
                final_stats.push(csv);
                false
            }
            Err(tokio::sync::oneshot::error::TryRecvError::Empty) => true,
            Err(_) => false,
        });
        cells.retain_mut(|c| {
            let Some(result) = c.settle() else {
                return true;
            };
            if let Err(found) = result {
                failed.push(format!(
                    "at {:?}: expected {} {} {}, found {found}",
                    c.at, c.line, c.column, c.want
                ));
            }
            false
        });
        if sim.step().map_err(|e| RunError::Sim(e.to_string()))? {
            break;
        }
    }
    for c in cells {
        failed.push(format!(
            "at {:?}: {} {}: the engine did not answer",
            c.at, c.line, c.column
        ));
    }
    // Expectations past the end are checked against the final state.
    for c in checks {
        failed.push(format!(
            "at {:?}: after the end of the run ({:?})",
            c.at.0,
            c.check().expect("checked at load")
        ));
    }
    Ok(Driven {
        failed,
        health,
        servers: server_shares(&final_stats),
    })
}

/// An answer on its way from a proxy's host: (time, proxy, transcript
/// label, answer).
type Pending = (
    Duration,
    String,
    &'static str,
    tokio::sync::oneshot::Receiver<String>,
);

/// Asks a running engine for its stats (no command) or to run a command.
fn ask_engine(
    slot: &EngineSlot,
    command: Option<String>,
    at: Duration,
    name: &str,
    label: &'static str,
    pending: &mut Vec<Pending>,
) {
    if let Some(running) = slot.lock().expect("slot").clone() {
        let (reply, answer) = tokio::sync::oneshot::channel();
        if running.asks.send(Ask { command, reply }).is_ok() {
            pending.push((at, name.to_string(), label, answer));
        }
    }
}

/// The state word of `backend/server` in the first engine that has it.
fn server_state(engines: &[(String, EngineSlot)], which: &str) -> Option<String> {
    let (backend, server) = which.split_once('/')?;
    engines.iter().find_map(|(_, slot)| {
        let running = slot.lock().expect("slot").clone()?;
        let b = running
            .engine
            .backends()
            .iter()
            .find(|b| b.name == backend)?;
        let s = b.servers.iter().find(|s| s.name() == server)?;
        Some(state_word(&s.status()))
    })
}

/// A server's state word from the stats' status: `UP 1/3` is `UP`, and
/// `no check` is `UP` too.
fn state_word(status: &str) -> String {
    match status.split(' ').next().unwrap_or_default() {
        "no" => "UP".to_string(),
        word => word.to_string(),
    }
}

/// A backend's state as the stats show it: `UP` or `DOWN`.
fn backend_state(engines: &[(String, EngineSlot)], which: &str) -> Option<String> {
    engines.iter().find_map(|(_, slot)| {
        let running = slot.lock().expect("slot").clone()?;
        let b = running.engine.backends().iter().find(|b| b.name == which)?;
        Some(
            if b.is_up() || b.servers.is_empty() {
                "UP"
            } else {
                "DOWN"
            }
            .to_string(),
        )
    })
}

/// A stats cell an expectation waits for, from every engine's `show stat`.
struct CellCheck {
    at: Duration,
    /// `proxy/svname`.
    line: String,
    column: String,
    want: String,
    answers: Vec<tokio::sync::oneshot::Receiver<String>>,
    csv: Vec<String>,
}

impl CellCheck {
    /// None while answers are missing; then whether the cell holds the
    /// value, or what it holds.
    fn settle(&mut self) -> Option<Result<(), String>> {
        let mut waiting = vec![];
        for mut a in std::mem::take(&mut self.answers) {
            match a.try_recv() {
                Ok(csv) => self.csv.push(csv),
                Err(tokio::sync::oneshot::error::TryRecvError::Empty) => waiting.push(a),
                Err(_) => {}
            }
        }
        self.answers = waiting;
        if !self.answers.is_empty() {
            return None;
        }
        let found = self
            .csv
            .iter()
            .find_map(|csv| stat_cell(csv, &self.line, &self.column));
        Some(match found {
            Some(v) if v == self.want => Ok(()),
            Some(v) => Err(v),
            None => Err("no such line or column".into()),
        })
    }
}

/// A `show stat` cell: `line` is `proxy/svname`.
fn stat_cell(csv: &str, line: &str, column: &str) -> Option<String> {
    let (px, sv) = line.split_once('/')?;
    let stat = StatCsv::parse(csv);
    let row = stat
        .rows
        .iter()
        .find(|cells| cells.first() == Some(&px) && cells.get(1) == Some(&sv))?;
    stat.cell(row, column).map(str::to_string)
}

fn describe(action: &Action) -> String {
    match action {
        Action::Crash(h) => format!("{h} crashes"),
        Action::Restore(h) => format!("{h} restarts"),
        Action::Partition([a, b]) => format!("{a} and {b} are partitioned"),
        Action::Heal([a, b]) => format!("{a} and {b} are reconnected"),
        Action::Api { proxy, command } => format!("{proxy} runs '{command}'"),
        Action::Latency {
            between: [a, b],
            value,
        } => format!("{a} <-> {b} latency {:?}", value.0),
        Action::Loss {
            between: [a, b],
            value,
        } => {
            // 0.07 * 100 is 7.000000000000001: three decimals at most.
            let percent = (value.0 * 100_000.0).round() / 1000.0;
            format!("{a} <-> {b} loses {percent}% of packets")
        }
        Action::Fail(f) => match (f.mode, f.delay) {
            (FailureMode::None, _) => format!("{} serves normally", f.server),
            (FailureMode::Slow, Some(d)) => format!("{} slows down by {:?}", f.server, d.0),
            (mode, _) => format!(
                "{} starts to {}",
                f.server,
                format!("{mode:?}").to_lowercase()
            ),
        },
        Action::Load(l) => {
            let per_second = 1.0 / l.rate.interval.as_secs_f64().max(1e-9);
            format!("{} now connects {per_second:.0} times a second", l.client)
        }
    }
}

/// A stable per-host seed component (FNV-1a of the name).
pub(crate) fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Receives syslog datagrams on UDP 514 and notes them.
async fn collect_syslog(transcript: Transcript) -> turmoil::Result {
    let socket = turmoil::net::UdpSocket::bind("0.0.0.0:514").await?;
    let mut buf = vec![0u8; 4096];
    loop {
        let (n, _) = socket.recv_from(&mut buf).await?;
        let line = String::from_utf8_lossy(&buf[..n]);
        transcript.note("syslog", line.trim_end());
    }
}
