//! Health checks: the scheduler, the probes, and what their results do.
//!
//! Each checked server gets one task. Checks start spread over the first
//! interval (check k of n waits `min(inter) * k / n`, as HAProxy's start_checks), then repeat every `inter`,
//! or `fastinter` while the health counter is between its ends, or
//! `downinter` while fully down; `spread-checks` adds a seeded jitter. A
//! result moves the server's [`health::Health`] counter; crossing `rise` or
//! dropping to 0 moves the server in or out of rotation, with HAProxy's
//! message.

pub mod health;
mod http;
pub mod observe;
mod protocols;
mod tcp;
mod tcp_check;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::admin::{self, Notice};
use crate::backend::Backend;
use crate::config::OnError;
use crate::log::syslog::Level;
use crate::log::{Logger, Severity};
use crate::net::Net;
use crate::server::ServerState;
use crate::shutdown::Why;
use health::{Outcome, Transition};

/// The most of a response a check keeps (HAProxy's check buffer).
const CHECK_BUFFER_BYTES: usize = 16384;

/// HAProxy's check statuses: the code in the stats (`check_status`) and
/// the reason in its messages (`check_desc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Passive checks: `error-limit` errors observed in the traffic.
    Hana,
    SockErr,
    L4Ok,
    L4Tout,
    L4Con,
    L6Ok,
    L6Tout,
    L6Rsp,
    L7Tout,
    L7Rsp,
    L7Ok,
    L7OkCond,
    L7Sts,
}

/// Each status's code and reason, in HAProxy's order.
const STATUSES: [(Status, &str, &str); 13] = [
    (Status::Hana, "HANA", "Health analyze"),
    (Status::SockErr, "SOCKERR", "Socket error"),
    (Status::L4Ok, "L4OK", "Layer4 check passed"),
    (Status::L4Tout, "L4TOUT", "Layer4 timeout"),
    (Status::L4Con, "L4CON", "Layer4 connection problem"),
    (Status::L6Ok, "L6OK", "Layer6 check passed"),
    (Status::L6Tout, "L6TOUT", "Layer6 timeout"),
    (Status::L6Rsp, "L6RSP", "Layer6 invalid response"),
    (Status::L7Tout, "L7TOUT", "Layer7 timeout"),
    (Status::L7Rsp, "L7RSP", "Layer7 invalid response"),
    (Status::L7Ok, "L7OK", "Layer7 check passed"),
    (
        Status::L7OkCond,
        "L7OKC",
        "Layer7 check conditionally passed",
    ),
    (Status::L7Sts, "L7STS", "Layer7 wrong status"),
];

impl Status {
    fn entry(self) -> (Status, &'static str, &'static str) {
        *STATUSES
            .iter()
            .find(|(s, _, _)| *s == self)
            .expect("every status is listed")
    }

    /// `L4OK`, `L4CON`, ... as the stats show it.
    pub fn code(self) -> &'static str {
        self.entry().1
    }

    /// The words of HAProxy's messages: `Layer4 connection problem`...
    pub fn reason(self) -> &'static str {
        self.entry().2
    }

    /// The status named `word` (`L7OK`...), as `tcp-check expect
    /// ok-status` takes it.
    pub fn from_code(word: &str) -> Option<Status> {
        STATUSES.iter().find(|(_, c, _)| *c == word).map(|e| e.0)
    }

    pub fn outcome(self) -> Outcome {
        match self {
            Status::L4Ok | Status::L6Ok | Status::L7Ok | Status::L7OkCond => Outcome::Passed,
            _ => Outcome::Failed,
        }
    }

    /// Statuses past HAProxy's L57DATA carry a response code.
    pub fn has_code(self) -> bool {
        matches!(self, Status::L7Ok | Status::L7OkCond | Status::L7Sts)
    }
}

/// What one probe found, in HAProxy's vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub status: Status,
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
pub enum Probe {
    /// A TCP connection that opens passes.
    Connect,
    /// `option httpchk`.
    Http(http::HttpCheck),
    /// The protocol checks and `tcp-check` rules.
    Sequence(tcp_check::TcpCheck),
}

impl Probe {
    pub fn from_proxy(proxy: &crate::config::Proxy) -> Probe {
        if let Some(check) = http::HttpCheck::from_proxy(proxy) {
            return Probe::Http(check);
        }
        if proxy.health_check == crate::config::HealthCheck::TcpRules {
            return Probe::Sequence(tcp_check::TcpCheck::from_rules(&proxy.tcp_check));
        }
        protocols::sequence(&proxy.health_check).map_or(Probe::Connect, Probe::Sequence)
    }
}

/// Shared by every check task of an engine.
pub struct Checker {
    pub net: Arc<dyn Net>,
    pub logger: Arc<Logger>,
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
    let checked: Vec<(Arc<Backend>, Arc<ServerState>)> = backends
        .iter()
        .flat_map(|b| {
            b.servers
                .iter()
                .filter(|s| s.config.check.enabled)
                .map(move |s| (b.clone(), s.clone()))
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
        .map(|(_, s)| interval(s))
        .filter(|i| *i >= THRESHOLD)
        .min()
        .unwrap_or_default();
    checked
        .into_iter()
        .enumerate()
        .map(|(k, (backend, server))| {
            let mut spread = mininter.max(interval(&server));
            if let Some(cap) = checker.max_spread.filter(|c| !c.is_zero()) {
                spread = spread.min(cap);
            }
            let first = spread * k as u32 / count.max(1);
            let seed = checker.net.seed() ^ (k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let checker = checker.clone();
            tokio::spawn(async move { run(checker, backend, server, first, seed).await })
        })
        .collect()
}

async fn run(
    checker: Arc<Checker>,
    backend: Arc<Backend>,
    server: Arc<ServerState>,
    first: Duration,
    seed: u64,
) {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut next = tokio::time::Instant::now() + first;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(next) => {}
            _ = server.analysis.alert.notified() => {
                for info in server.analysis.take() {
                    next = analyzed(&checker, &backend, &server, info, next).await;
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
            next += interval(&server);
            continue;
        }
        let connect = connect_timeout(&backend, &server);
        let report = match &backend.probe {
            Probe::Connect => tcp::probe(&*checker.net, target, connect).await,
            Probe::Http(check) => {
                let reply = reply_timeout(&backend, &server);
                let up = server.is_up();
                check.probe(&*checker.net, target, connect, reply, up).await
            }
            Probe::Sequence(check) => {
                let reply = reply_timeout(&backend, &server);
                check.probe(&*checker.net, target, connect, reply).await
            }
        };
        if server.in_maint() {
            server.abandon_check();
            next = tokio::time::Instant::now();
            continue; // entered maintenance while probing: the result is moot
        }
        let previous = server.last_check_status();
        server.record_check(&report);
        let (change, lines) = apply(&backend, &server, &report, previous);
        announce(&checker.logger, &backend, &server, &report, (change, lines)).await;
        cut_sessions(&backend, &server, change);
        next =
            tokio::time::Instant::now() + jitter(interval(&server), checker.spread_pct, &mut rng);
    }
}

/// `on-error` after `error-limit` observed errors (HAProxy's
/// __health_adjust): a failed check (`fail-check`), one that leaves the
/// server a failure from DOWN (`sudden-death`), or DOWN at once
/// (`mark-down`); every mode brings the next check within `fastinter`.
/// Returns when the next check runs.
async fn analyzed(
    checker: &Checker,
    backend: &Backend,
    server: &ServerState,
    info: String,
    next: tokio::time::Instant,
) -> tokio::time::Instant {
    let c = &server.config.check;
    if c.on_error != OnError::FastInter {
        {
            let mut health = server.health.lock().expect("health lock");
            match c.on_error {
                OnError::SuddenDeath => health.to_brink_of_down(),
                OnError::MarkDown => health.to_rise(),
                _ => {}
            }
        }
        let report = Report {
            status: Status::Hana,
            code: None,
            info: Some(info),
            duration: Duration::ZERO,
            counts_twice: false,
        };
        let previous = server.last_check_status();
        server.record_check(&report);
        let (change, lines) = apply(backend, server, &report, previous);
        announce(&checker.logger, backend, server, &report, (change, lines)).await;
        cut_sessions(backend, server, change);
    }
    match c.fastinter {
        Some(fast) => next.min(tokio::time::Instant::now() + fast),
        None => next,
    }
}

/// What a check result changed in a server's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    None,
    /// Logged at notice rather than alert when it was stopping; with the
    /// streams its queue gave back to the balancer, and those left.
    Down {
        was_stopping: bool,
        requeued: usize,
        left: usize,
    },
    /// With the streams it takes from the backend's queue.
    Up {
        requeued: usize,
    },
    /// Into NOLB (`http-check disable-on-404`).
    Stopping,
}

/// Moves the health counter, then the server's state as HAProxy's
/// check_notify_failure/success/stopping do: DOWN when the counter
/// reaches 0, UP (out of NOLB too) on a pass at or above `rise`, NOLB on
/// a conditional pass of an UP server.
fn apply(
    backend: &Backend,
    server: &ServerState,
    report: &Report,
    previous: Option<&'static str>,
) -> (Change, Vec<String>) {
    if report.outcome() == Outcome::Passed {
        server.analysis.clear();
    }
    let mut lines = Vec::new();
    let (transition, up) = {
        let mut health = server.health.lock().expect("health lock");
        let passes = if report.counts_twice { 2 } else { 1 };
        let mut transition = Transition::None;
        for pass in 0..passes {
            let before = health.value();
            let t = health.record(report.outcome());
            if transition == Transition::None {
                transition = t;
            }
            // `option log-health-checks`: a new status, or a counter that
            // moved (HAProxy's set_server_check_status).
            let new_status = pass == 0 && previous != Some(report.status.code());
            if backend.log_health_checks && (new_status || health.value() != before) {
                lines.push(health_line(backend, server, report, &health));
            }
        }
        (transition, health.is_up())
    };
    let change = match transition {
        Transition::WentDown => {
            let was_stopping = server.is_stopping();
            // Counted before the queued streams are woken to move.
            let (requeued, left) = backend.requeue_on_down(server);
            server.set_stopping(false);
            backend.set_server_up(server, false);
            Change::Down {
                was_stopping,
                requeued,
                left,
            }
        }
        Transition::WentUp => {
            backend.set_server_up(server, true);
            Change::Up {
                requeued: backend.requeue_on_up(server),
            }
        }
        Transition::None if !up => Change::None,
        Transition::None => {
            let stopping = report.status == Status::L7OkCond;
            if stopping == server.is_stopping() || report.outcome() == Outcome::Failed {
                return (Change::None, lines);
            }
            backend.set_server_stopping(server, stopping);
            if stopping {
                Change::Stopping
            } else {
                Change::Up {
                    requeued: backend.requeue_on_up(server),
                }
            }
        }
    };
    (change, lines)
}

/// A health state an operator forces (`set server <b>/<s> health`, the
/// stats page's force UP / NOLB / DOWN actions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forced {
    Up,
    Stopping,
    Down,
}

/// Forces a server's health as HAProxy's srv_set_running, _stopping and
/// _stopped do: the counter to its top (or 0), the state changed if it
/// differs, and the change told with `why` as its reason (`changed from
/// CLI`); nothing is said when the server is already so.
pub fn force(backend: &Backend, server: &ServerState, to: Forced, why: &str) -> Vec<Notice> {
    server
        .health
        .lock()
        .expect("health lock")
        .force(to != Forced::Down);
    let up = server.is_up();
    let stopping = server.is_stopping();
    let change = match to {
        Forced::Down if up => {
            let (requeued, left) = backend.requeue_on_down(server);
            server.set_stopping(false);
            backend.set_server_up(server, false);
            Change::Down {
                was_stopping: stopping,
                requeued,
                left,
            }
        }
        Forced::Up if !up || stopping => {
            if up {
                backend.set_server_stopping(server, false);
            } else {
                backend.set_server_up(server, true);
            }
            Change::Up {
                requeued: backend.requeue_on_up(server),
            }
        }
        Forced::Stopping if !up || !stopping => {
            if !up {
                backend.set_server_up(server, true);
            }
            backend.set_server_stopping(server, true);
            Change::Stopping
        }
        _ => return vec![],
    };
    let notices = told(backend, server, change, &format!(", {why}"));
    cut_sessions(backend, server, change);
    notices
}

/// `option log-health-checks`: `Health check for server www/web1 failed,
/// reason: ..., status: 2/3 UP.` with the counter as the stats show it.
fn health_line(
    backend: &Backend,
    server: &ServerState,
    report: &Report,
    health: &health::Health,
) -> String {
    let (rise, fall) = (server.config.check.rise, server.config.check.fall);
    let value = health.value();
    let (n, of, state) = if value >= rise {
        let state = if server.weight() > 0 { "UP" } else { "DRAIN" };
        (value - rise + 1, fall, state)
    } else {
        (value, rise, "DOWN")
    };
    format!(
        "Health check for {}server {}/{} {}{}{}, status: {n}/{of} {state}.",
        if server.is_backup() { "backup " } else { "" },
        backend.name,
        server.name(),
        if report.status == Status::L7OkCond {
            "conditionally "
        } else {
            ""
        },
        if report.outcome() == Outcome::Passed {
            "succeeded"
        } else {
            "failed"
        },
        reason(report),
    )
}

/// HAProxy's srv_append_status for a check: `, reason: ..., code: ...,
/// info: "...", check duration: ...ms`.
fn reason(report: &Report) -> String {
    let mut text = format!(", reason: {}", report.status.reason());
    if let Some(code) = report.code {
        text.push_str(&format!(", code: {code}"));
    }
    if let Some(info) = &report.info {
        text.push_str(&format!(", info: \"{info}\""));
    }
    // A passive check has no duration (HAProxy's -1).
    if report.status != Status::Hana {
        text.push_str(&format!(
            ", check duration: {}ms",
            report.duration.as_millis()
        ));
    }
    text
}

/// `on-marked-down shutdown-sessions` and `on-marked-up
/// shutdown-backup-sessions`, once the change is told (HAProxy logs the
/// cut streams after the state change).
fn cut_sessions(backend: &Backend, server: &ServerState, change: Change) {
    let c = &server.config.check;
    match change {
        Change::Down { .. } if c.shutdown_on_down => server.cuts.cut(Why::Down),
        Change::Up { .. } if c.shutdown_backups_on_up && !server.is_backup() => {
            for backup in backend.servers.iter().filter(|s| s.is_backup()) {
                backup.cuts.cut(Why::Up);
            }
        }
        _ => {}
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

/// Reports a server's state change as HAProxy 2.6 words it: on stderr
/// (as a warning), and to the backend's log targets (DOWN at alert, UP at
/// notice); when no server is left, an alert on stderr and an emergency in
/// the log.
async fn announce(
    logger: &Logger,
    backend: &Backend,
    server: &ServerState,
    report: &Report,
    (change, lines): (Change, Vec<String>),
) {
    for line in &lines {
        logger.sink().emit(Severity::Warning, line);
        logger.send(&backend.log_targets, Level::Notice, line).await;
    }
    if change == Change::None {
        return;
    }
    // With `option log-health-checks` the check's line told the reason.
    let why = if backend.log_health_checks {
        String::new()
    } else {
        reason(report)
    };
    tell(logger, backend, server, change, &why).await;
}

/// Tells a state change, `why` after the state: on stderr and to the
/// backend's log targets, with the alert that no server is left.
async fn tell(logger: &Logger, backend: &Backend, server: &ServerState, change: Change, why: &str) {
    for notice in told(backend, server, change, why) {
        notice.publish(logger).await;
    }
}

/// What [`tell`] says, as notices for whoever publishes them.
fn told(backend: &Backend, server: &ServerState, change: Change, why: &str) -> Vec<Notice> {
    let (state, level) = match change {
        Change::None => return vec![],
        Change::Down {
            was_stopping: false,
            ..
        } => ("DOWN", Level::Alert),
        Change::Down { .. } => ("DOWN", Level::Notice),
        Change::Up { .. } => ("UP", Level::Notice),
        Change::Stopping => ("stopping", Level::Notice),
    };
    let (requeued, in_queue) = match change {
        Change::Down { requeued, left, .. } => (requeued, left),
        Change::Up { requeued } => (requeued, server.queued.load(Ordering::Acquire)),
        _ => (0, server.queued.load(Ordering::Acquire)),
    };
    let message = format!(
        "{} is {state}{why}{}.",
        admin::label(backend, server),
        admin::tail_moving(backend, server, requeued, in_queue),
    );
    let mut notices = vec![Notice::new(backend, level, message)];
    if matches!(change, Change::Down { .. } | Change::Stopping) && backend.count_up() == (0, 0) {
        notices.push(Notice::no_server(backend));
    }
    notices
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::Memory;
    use crate::testing::{proxy, Behaviour, FakeNet};

    const CFG: &str = "
defaults
    mode tcp
    timeout connect 1s
listen app
    bind :80
    server web1 10.0.0.1:80 check port 8080 addr 10.0.9.1 inter 1000 rise 2 fall 3
    server web2 10.0.0.2:80 check inter 1000
    server web7 10.0.0.7:80 check inter 1000 backup
";

    struct World {
        net: Arc<FakeNet>,
        log: Arc<Memory>,
        backend: Arc<Backend>,
        _tasks: Vec<tokio::task::JoinHandle<()>>,
    }

    fn start() -> World {
        let net = FakeNet::new();
        for a in ["10.0.9.1:8080", "10.0.0.2:80", "10.0.0.7:80"] {
            net.set(a, Behaviour::Accept);
        }
        let log = Arc::new(Memory::default());
        let backend = Arc::new(Backend::new(&proxy(CFG), 1, vec![], 0));
        let checker = Arc::new(Checker {
            net: net.clone(),
            logger: Arc::new(Logger::new(net.clone(), log.clone(), "engine")),
            spread_pct: 0,
            max_spread: None,
        });
        let tasks = spawn_all(checker, std::slice::from_ref(&backend));
        World {
            net,
            log,
            backend,
            _tasks: tasks,
        }
    }

    fn messages(log: &Memory) -> Vec<String> {
        log.lines().into_iter().map(|(_, m)| m).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn checks_go_to_addr_and_port_and_start_spread_over_the_interval() {
        let w = start();
        // Check k of 3 starts at k × 1000/3 ms (timers tick in whole ms).
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(w.net.attempts(), ["10.0.9.1:8080"]);
        tokio::time::sleep(Duration::from_millis(330)).await;
        assert_eq!(w.net.attempts(), ["10.0.9.1:8080", "10.0.0.2:80"]);
        tokio::time::sleep(Duration::from_millis(333)).await;
        assert_eq!(
            w.net.attempts(),
            ["10.0.9.1:8080", "10.0.0.2:80", "10.0.0.7:80"]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_refused_server_goes_down_after_fall_checks_and_comes_back_after_rise() {
        let w = start();
        // The first check passes: fully up (health rise+fall-1).
        tokio::time::sleep(Duration::from_millis(500)).await;
        w.net.set("10.0.9.1:8080", Behaviour::Refuse);
        // Failures at 1s, 2s and 3s: DOWN at the third.
        tokio::time::sleep(Duration::from_millis(2_490)).await;
        assert!(w.backend.servers[0].is_up(), "two failures leave it UP 1/3");
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!w.backend.servers[0].is_up(), "the third takes it DOWN");
        assert_eq!(
            messages(&w.log),
            ["Server app/web1 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: 0ms. 1 active and 1 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue."]
        );
        w.net.set("10.0.9.1:8080", Behaviour::Accept);
        // Passes at 4s and 5s: UP at the second (rise 2).
        tokio::time::sleep(Duration::from_millis(1_980)).await;
        assert!(!w.backend.servers[0].is_up(), "DOWN 1/2 after one pass");
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(w.backend.servers[0].is_up());
        assert!(
            messages(&w.log)[1].starts_with("Server app/web1 is UP, reason: Layer4 check passed")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_server_that_never_answers_fails_with_layer4_timeout_after_inter() {
        let w = start();
        w.net.set("10.0.0.2:80", Behaviour::Hang);
        // From its start health (UP 1/3), one failure is enough.
        tokio::time::sleep(Duration::from_millis(1_400)).await;
        assert!(!w.backend.servers[1].is_up());
        let m = messages(&w.log);
        assert!(
            m[0].starts_with(
                "Server app/web2 is DOWN, reason: Layer4 timeout, check duration: 1000ms."
            ),
            "{m:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_last_server_down_says_running_on_backup_then_no_server() {
        let w = start();
        for a in ["10.0.9.1:8080", "10.0.0.2:80"] {
            w.net.set(a, Behaviour::Refuse);
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
        let m = messages(&w.log);
        assert!(
            m[1].contains("0 active and 1 backup servers left. Running on backup."),
            "{m:?}"
        );
        w.net.set("10.0.0.7:80", Behaviour::Refuse);
        tokio::time::sleep(Duration::from_secs(5)).await;
        let m = messages(&w.log);
        assert!(m[2].starts_with("Backup Server app/web7 is DOWN"), "{m:?}");
        assert_eq!(m[3], "proxy 'app' has no server available!");
        assert_eq!(w.log.lines()[3].0, Severity::Alert);
    }
}
