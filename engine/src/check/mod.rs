//! Health checks: the scheduler and the probes. A check only probes and
//! reports; what a report does to the server (its health counter, its
//! state, HAProxy's messages) is the status module's business, which the
//! runtime hands in as [`Checker::apply`].
//!
//! Each checked server gets one task. Checks start spread over the first
//! interval (check k of n waits `min(inter) * k / n`, as HAProxy's start_checks), then repeat every `inter`,
//! or `fastinter` while the health counter is between its ends, or
//! `downinter` while fully down; `spread-checks` adds a seeded jitter.
//! Errors the traffic reports (`observe`, see [`crate::server::observe`])
//! reach the task as a passive check's report.

mod http;
mod protocols;
mod tcp;
mod tcp_check;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::backend::Backend;
use crate::config::OnError;
use crate::log::Logger;
use crate::net::Net;
use crate::server::health::Outcome;
use crate::server::{CheckStatus, ServerState};

/// The most of a response a check keeps (HAProxy's check buffer).
const CHECK_BUFFER_BYTES: usize = 16384;

/// What one probe found, in HAProxy's vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub status: CheckStatus,
    /// The response's status code, for checks that read one.
    pub code: Option<u16>,
    /// The system's words for a failure (`Connection refused`), or the
    /// server's (a reason phrase), if any.
    pub info: Option<String>,
    pub duration: Duration,
    /// HAProxy 2.6 counts a passing MySQL or LDAP check twice: their
    /// parsers and the end of the sequence both report the success, and
    /// each report moves the health counter (so `rise 2` is met at once).
    pub counts_twice: bool,
}

impl Report {
    pub fn outcome(&self) -> Outcome {
        self.status.outcome()
    }
}

/// When the server's answer must be in.
#[derive(Debug, Clone, Copy)]
pub enum ReplyTimeout {
    /// This long after the connection opened (`timeout check`).
    FromConnect(Duration),
    /// This long after the check started (`inter`).
    FromStart(Duration),
}

/// How a backend probes its servers.
#[derive(Debug)]
enum Probe {
    /// A TCP connection that opens passes.
    Connect,
    /// `option httpchk`.
    Http(http::HttpCheck),
    /// The protocol checks and `tcp-check` rules.
    Sequence(tcp_check::TcpCheck),
}

impl Probe {
    /// The probe a backend's check settings describe.
    fn new(backend: &Backend) -> Probe {
        if let Some(check) =
            http::HttpCheck::from_config(&backend.health_check, &backend.http_check)
        {
            return Probe::Http(check);
        }
        if backend.health_check == crate::config::HealthCheck::TcpRules {
            return Probe::Sequence(tcp_check::TcpCheck::from_rules(&backend.tcp_check));
        }
        protocols::sequence(&backend.health_check).map_or(Probe::Connect, Probe::Sequence)
    }
}

/// What takes a finished check's report and applies it to the server:
/// the status module's `checked`. Handed in rather than called, because
/// the status module sits above the checks.
pub type Apply = for<'a> fn(
    &'a Logger,
    &'a Backend,
    &'a ServerState,
    Report,
) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Shared by every check task of an engine.
pub struct Checker {
    pub net: Arc<dyn Net>,
    pub logger: Arc<Logger>,
    /// Where reports go.
    pub apply: Apply,
    /// `spread-checks`: percent of jitter on every interval.
    pub spread_pct: u32,
    /// `max-spread-checks`: the most the first checks are spread over.
    pub max_spread: Option<Duration>,
}

/// Starts a check task for every server with `check`, across all backends.
pub fn spawn_all(
    checker: Arc<Checker>,
    backends: &[Arc<Backend>],
) -> Vec<tokio::task::JoinHandle<()>> {
    let checked: Vec<(Arc<Backend>, Arc<Probe>, Arc<ServerState>)> = backends
        .iter()
        .flat_map(|b| {
            let probe = Arc::new(Probe::new(b));
            b.servers
                .iter()
                .filter(|s| s.config.check.enabled)
                .map(move |s| (b.clone(), probe.clone(), s.clone()))
        })
        .collect();
    let count = checked.len() as u32;
    // HAProxy's start_checks: the first checks are spread over the
    // smallest interval of at least SRV_CHK_INTER_THRES (1s) among all
    // servers (each as its starting health makes it: `fastinter` while
    // UP 1/3), or a server's own when longer, capped by
    // `max-spread-checks`; check k of n starts at that × k / n.
    const THRESHOLD: Duration = Duration::from_secs(1);
    let mininter = checked
        .iter()
        .map(|(_, _, s)| interval(s))
        .filter(|i| *i >= THRESHOLD)
        .min()
        .unwrap_or_default();
    checked
        .into_iter()
        .enumerate()
        .map(|(k, (backend, probe, server))| {
            let mut spread = mininter.max(interval(&server));
            if let Some(cap) = checker.max_spread.filter(|c| !c.is_zero()) {
                spread = spread.min(cap);
            }
            let first = spread * k as u32 / count.max(1);
            let seed = checker.net.seed() ^ (k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let checker = checker.clone();
            let task = Task {
                checker,
                backend,
                probe,
                server,
            };
            tokio::spawn(async move { task.run(first, seed).await })
        })
        .collect()
}

/// One server's checks.
struct Task {
    checker: Arc<Checker>,
    backend: Arc<Backend>,
    probe: Arc<Probe>,
    server: Arc<ServerState>,
}

impl Task {
    async fn run(self, first: Duration, seed: u64) {
        let (checker, backend, server) = (&self.checker, &self.backend, &self.server);
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut next = tokio::time::Instant::now() + first;
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(next) => {}
                _ = server.analysis.alert.notified() => {
                    for info in server.analysis.take() {
                        next = self.analyzed(info, next).await;
                    }
                    continue;
                }
            }
            let Some(target) = server.config.check_target() else {
                return; // the config refuses this; nothing to check
            };
            // Maintenance pauses checks, as HAProxy's CHK_ST_PAUSED, and
            // `disable health` stops them.
            if server.in_maint() || !server.start_check() {
                next += interval(server);
                continue;
            }
            let connect = connect_timeout(backend, server);
            let report = match &*self.probe {
                Probe::Connect => tcp::probe(&*checker.net, target, connect).await,
                Probe::Http(check) => {
                    let reply = reply_timeout(backend, server);
                    let up = server.is_up();
                    check.probe(&*checker.net, target, connect, reply, up).await
                }
                Probe::Sequence(check) => {
                    let reply = reply_timeout(backend, server);
                    check.probe(&*checker.net, target, connect, reply).await
                }
            };
            if server.in_maint() {
                server.abandon_check();
                next = tokio::time::Instant::now();
                continue; // entered maintenance while probing: the result is moot
            }
            (checker.apply)(&checker.logger, backend, server, report).await;
            next = tokio::time::Instant::now()
                + jitter(interval(server), checker.spread_pct, &mut rng);
        }
    }

    /// `on-error` after `error-limit` observed errors (HAProxy's
    /// __health_adjust): every mode but `fast-inter` reports a failed
    /// passive check (`HANA`, whose health move `sudden-death` and
    /// `mark-down` add is the status module's), and every mode brings
    /// the next check within `fastinter`. Returns when the next check runs.
    async fn analyzed(&self, info: String, next: tokio::time::Instant) -> tokio::time::Instant {
        let c = &self.server.config.check;
        if c.on_error != OnError::FastInter {
            let report = Report {
                status: CheckStatus::Hana,
                code: None,
                info: Some(info),
                duration: Duration::ZERO,
                counts_twice: false,
            };
            let checker = &self.checker;
            (checker.apply)(&checker.logger, &self.backend, &self.server, report).await;
        }
        match c.fastinter {
            Some(fast) => next.min(tokio::time::Instant::now() + fast),
            None => next,
        }
    }
}

/// HAProxy: with `timeout check`, connecting may take min(timeout connect,
/// inter); without it, the whole check must fit in `inter`.
fn connect_timeout(backend: &Backend, server: &ServerState) -> Duration {
    let inter = server.config.check.inter;
    match (backend.timeouts.check, backend.timeouts.connect) {
        (Some(_), Some(connect)) => connect.min(inter),
        _ => inter,
    }
}

/// How long a server may take to answer once connected: `timeout check`
/// from the connection (HAProxy re-arms the check task with it), or else
/// what is left of `inter` from the start of the check.
fn reply_timeout(backend: &Backend, server: &ServerState) -> ReplyTimeout {
    match backend.timeouts.check {
        Some(check) => ReplyTimeout::FromConnect(check),
        None => ReplyTimeout::FromStart(server.config.check.inter),
    }
}

/// The next interval: `inter` when fully up, `downinter` when fully down,
/// `fastinter` in between (HAProxy's srv_getinter).
fn interval(server: &ServerState) -> Duration {
    let c = &server.config.check;
    let health = server.health.lock().expect("health lock");
    if !health.in_transition() && health.is_up() {
        c.inter
    } else if health.value() == 0 {
        c.downinter.unwrap_or(c.inter)
    } else {
        c.fastinter.unwrap_or(c.inter)
    }
}

/// `spread-checks N`: the interval varies by up to ±N percent.
fn jitter(interval: Duration, pct: u32, rng: &mut SmallRng) -> Duration {
    if pct == 0 {
        return interval;
    }
    let ms = interval.as_millis() as i64;
    let spread = ms * i64::from(pct) / 100;
    let offset = rng.random_range(-spread..=spread);
    Duration::from_millis((ms + offset).max(1) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::Memory;
    use crate::testing::{proxy, Behaviour, FakeNet};

    use crate::testing::CHECKED as CFG;

    /// Reports go nowhere: these tests watch the probes only (what
    /// reports do is tested with the status module).
    fn ignore<'a>(
        _: &'a Logger,
        _: &'a Backend,
        _: &'a ServerState,
        _: Report,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
        Box::pin(async {})
    }

    #[tokio::test(start_paused = true)]
    async fn checks_go_to_addr_and_port_and_start_spread_over_the_interval() {
        let net = FakeNet::new();
        for a in crate::testing::CHECK_TARGETS {
            net.set(a, Behaviour::Accept);
        }
        let backend = Arc::new(Backend::new(&proxy(CFG), 1, vec![], 0));
        let checker = Arc::new(Checker {
            net: net.clone(),
            logger: Arc::new(Logger::new(
                net.clone(),
                Arc::new(Memory::default()),
                "engine",
            )),
            apply: ignore,
            spread_pct: 0,
            max_spread: None,
        });
        let _tasks = spawn_all(checker, std::slice::from_ref(&backend));
        // Check k of 3 starts at k × 1000/3 ms (timers tick in whole ms).
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(net.attempts(), ["10.0.9.1:8080"]);
        tokio::time::sleep(Duration::from_millis(330)).await;
        assert_eq!(net.attempts(), ["10.0.9.1:8080", "10.0.0.2:80"]);
        tokio::time::sleep(Duration::from_millis(333)).await;
        assert_eq!(
            net.attempts(),
            ["10.0.9.1:8080", "10.0.0.2:80", "10.0.0.7:80"]
        );
    }
}
