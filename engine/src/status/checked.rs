//! A check's report applied to its server, as HAProxy's
//! set_server_check_status and check_notify_failure/success/stopping do:
//! the result recorded for the stats, the health counter moved, and the
//! server taken DOWN, UP or into NOLB when the counter says so, with
//! HAProxy's messages (and `option log-health-checks`' lines).

use std::future::Future;
use std::pin::Pin;

use super::notice::{self, Notice};
use super::{came_up, cut_sessions, go_down, set_stopping, set_up, Change};
use crate::backend::Backend;
use crate::check::Report;
use crate::config::OnError;
use crate::log::syslog::Level;
use crate::log::{Logger, Severity};
use crate::server::health::{Health, Outcome, Transition};
use crate::server::{CheckStatus, ServerState};

/// Applies one report of `server`'s checks (the checks' `Apply`): a
/// passive check's (`HANA`) first moves the counter as `on-error` says.
pub fn checked<'a>(
    logger: &'a Logger,
    backend: &'a Backend,
    server: &'a ServerState,
    report: Report,
) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
    Box::pin(async move {
        if report.status == CheckStatus::Hana {
            on_error(server);
        }
        let previous = server.last_check_status();
        record(server, &report);
        let (change, lines) = apply(backend, server, &report, previous);
        announce(logger, backend, server, &report, (change, lines)).await;
        cut_sessions(backend, server, change);
    })
}

/// `on-error sudden-death` leaves the server a failure from DOWN,
/// `mark-down` takes it DOWN with the failure to come (HAProxy's
/// __health_adjust); `fail-check` only counts the failure.
fn on_error(server: &ServerState) {
    let mut health = server.health.lock().expect("health lock");
    match server.config.check.on_error {
        OnError::SuddenDeath => health.to_brink_of_down(),
        OnError::MarkDown => health.to_rise(),
        _ => {}
    }
}

/// Records a check's result for the stats.
fn record(server: &ServerState, report: &Report) {
    // HAProxy counts a failure only while the health counter has
    // somewhere to fall: a server fully DOWN fails uncounted.
    let can_fall = server.health.lock().expect("health lock").value() > 0;
    let mut c = server.checks.lock().expect("checks lock");
    c.running = false;
    c.status = Some(report.status);
    c.code = report.code;
    c.info = report.info.clone().unwrap_or_default();
    // A passive check has no duration.
    c.duration_ms =
        (report.status != CheckStatus::Hana).then_some(report.duration.as_millis() as u64);
    if report.outcome() == Outcome::Failed && can_fall {
        c.failed += 1;
    }
}

/// Moves the health counter, then the server's state as HAProxy's
/// check_notify_failure/success/stopping do: DOWN when the counter
/// reaches 0, UP (out of NOLB too) on a pass at or above `rise`, NOLB on
/// a conditional pass of an UP server.
fn apply(
    backend: &Backend,
    server: &ServerState,
    report: &Report,
    previous: Option<CheckStatus>,
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
            let new_status = pass == 0 && previous != Some(report.status);
            if backend.log_health_checks && (new_status || health.value() != before) {
                lines.push(health_line(backend, server, report, &health));
            }
        }
        (transition, health.is_up())
    };
    let change = match transition {
        Transition::WentDown => go_down(backend, server),
        Transition::WentUp => {
            set_up(backend, server, true);
            came_up(backend, server)
        }
        Transition::None if !up => Change::None,
        Transition::None => {
            let stopping = report.status == CheckStatus::L7OkCond;
            if stopping == server.is_stopping() || report.outcome() == Outcome::Failed {
                return (Change::None, lines);
            }
            set_stopping(backend, server, stopping);
            if stopping {
                Change::Stopping
            } else {
                came_up(backend, server)
            }
        }
    };
    (change, lines)
}

/// `option log-health-checks`: `Health check for server www/web1 failed,
/// reason: ..., status: 2/3 UP.` with the counter as the stats show it.
fn health_line(
    backend: &Backend,
    server: &ServerState,
    report: &Report,
    health: &Health,
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
        if report.status == CheckStatus::L7OkCond {
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
    let mut text = format!(", reason: {}", report.status.desc());
    if let Some(code) = report.code {
        text.push_str(&format!(", code: {code}"));
    }
    if let Some(info) = &report.info {
        text.push_str(&format!(", info: \"{info}\""));
    }
    // A passive check has no duration (HAProxy's -1).
    if report.status != CheckStatus::Hana {
        text.push_str(&format!(
            ", check duration: {}ms",
            report.duration.as_millis()
        ));
    }
    text
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
    let notices: Vec<Notice> = notice::told(backend, server, change, &why);
    for notice in notices {
        notice.publish(logger).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::check::{spawn_all, Checker};
    use crate::log::Memory;
    use crate::testing::{proxy, Behaviour, FakeNet};

    use crate::testing::CHECKED as CFG;

    struct World {
        net: Arc<FakeNet>,
        log: Arc<Memory>,
        backend: Arc<Backend>,
        _tasks: Vec<tokio::task::JoinHandle<()>>,
    }

    /// The checks of CFG running, their reports applied here.
    fn start() -> World {
        let net = FakeNet::new();
        for a in crate::testing::CHECK_TARGETS {
            net.set(a, Behaviour::Accept);
        }
        let log = Arc::new(Memory::default());
        let backend = Arc::new(Backend::new(&proxy(CFG), 1, vec![], 0));
        let checker = Arc::new(Checker {
            net: net.clone(),
            logger: Arc::new(Logger::new(net.clone(), log.clone(), "engine")),
            apply: checked,
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
