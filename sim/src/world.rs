//! A scenario as a turmoil world: proxies running the engine, real servers,
//! clients, an optional syslog collector; the timeline applied between
//! steps and the expectations checked at their times.
//!
//! Every host registers under its scenario address, so the engine's
//! configuration uses the same addresses as in production. Time is
//! virtual: a thirty-second scenario runs in well under a second.
//!
//! This file builds the world (its hosts and links) and renders what a
//! run found; the driver (`world/driver.rs`) runs it, step by step; each
//! proxy host runs its engine generation after generation, as reloads
//! replace it (`world/generations.rs`).

mod driver;
mod generations;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use engine::config;

use crate::addresses::Addresses;
use crate::loss::{Dialer, Links};
use crate::report::{Report, StreamSummary, Streams};
use crate::scenario::{Failure, FailureMode, Scenario};
use crate::transcript::Transcript;
use driver::{Driven, Driver, Handles};
use generations::{EngineSlot, ProxyHost};

/// The pid the first simulated engine reports; the next ones count up
/// (each proxy's first generation, then each reload's new process).
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

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("proxy {proxy}: configuration errors:\n{messages}")]
    Config { proxy: String, messages: String },
    #[error("simulation: {0}")]
    Sim(String),
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
        let slot: EngineSlot = Arc::default();
        engines.push((proxy.name.clone(), slot.clone()));
        let host = ProxyHost {
            name: proxy.name.clone(),
            address: proxy.address,
            seed: scenario.seed,
            transcript: transcript.clone(),
            streams: streams.clone(),
            links: links.clone(),
            addresses: addresses.clone(),
            slot,
            current: Arc::new(Mutex::new((Arc::new(loaded.config), FIRST_PID + i as u32))),
        };
        sim.host(proxy.address, move || host.clone().run());
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
    let handles = Handles {
        engines: &engines,
        failures: &failures,
        rates: &rates,
        links: &links,
    };
    let Driven {
        mut failed,
        health,
        servers,
    } = Driver::new(sim, scenario, handles, &transcript).run(progress)?;
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
