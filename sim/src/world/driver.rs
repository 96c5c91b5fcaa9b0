//! The driver: steps a built world to its end, applying the timeline's
//! events and checking the expectations when their time comes, and
//! collects what the run found (failed expectations, the health
//! timeline, every engine's stats when the clients stop).
//!
//! One turn, in this order: sample the servers' states, tell the
//! progress bar, apply the events due, ask for the stats due, note the
//! answers that arrived, check the expectations due, ask for the final
//! stats once the clients stop, collect answers, step turmoil. The order
//! is part of the output: the same seed gives the same bytes only while
//! it holds.

use std::collections::BTreeMap;
use std::iter::Peekable;
use std::time::Duration;

use tokio::sync::oneshot::error::TryRecvError;

use super::generations::{Ask, Control, EngineSlot, ReloadOrder};
use super::{server_shares, sim_duration, HealthChange, RunError, ServerShare, StatCsv, FIRST_PID};
use crate::loss::Links;
use crate::scenario::{Action, Check, Event, Expectation, Failure, FailureMode, Scenario, Time};
use crate::transcript::Transcript;

/// What driving the world found.
pub(super) struct Driven {
    pub(super) failed: Vec<String>,
    pub(super) health: Vec<HealthChange>,
    pub(super) servers: Vec<ServerShare>,
}

/// What the driver acts on besides turmoil: each proxy's engine, each
/// server's failure mode, each open-loop client's rate, the links' loss.
pub(super) struct Handles<'a> {
    pub(super) engines: &'a [(String, EngineSlot)],
    pub(super) failures: &'a [(String, tokio::sync::watch::Sender<Failure>)],
    pub(super) rates: &'a [(String, tokio::sync::watch::Sender<Option<Duration>>)],
    pub(super) links: &'a Links,
}

/// A world on its way: turmoil, the timeline still to come, the answers
/// on their way from the engines, and what the run found so far.
pub(super) struct Driver<'a> {
    sim: turmoil::Sim<'a>,
    scenario: &'a Scenario,
    handles: Handles<'a>,
    transcript: &'a Transcript,
    /// The run's whole virtual duration, and when progress was last told.
    total: Duration,
    told: Duration,
    /// The timeline, each part in time order: events, expectations,
    /// moments to note every engine's stats.
    events: Peekable<std::vec::IntoIter<&'a Event>>,
    checks: Peekable<std::vec::IntoIter<&'a Expectation>>,
    stats: Peekable<std::vec::IntoIter<&'a Time>>,
    /// Stats and API answers for the transcript.
    pending: Vec<Pending>,
    /// Stats cells asked for by expectations, read where the engine runs
    /// (its rates read virtual time).
    cells: Vec<CellCheck>,
    /// Every engine's `show stat` when the clients stop: each server's
    /// share of the load and its peaks.
    final_ask: Vec<Pending>,
    asked_final: bool,
    final_stats: Vec<String>,
    /// Every server's last state, and the transcript's length when they
    /// were read: a state changes with a message (the engine's, or the
    /// timeline's), so they are read again only when it grew.
    states: BTreeMap<(String, String), String>,
    seen: usize,
    health: Vec<HealthChange>,
    failed: Vec<String>,
    /// The pid the next reload's process gets.
    next_pid: u32,
}

impl<'a> Driver<'a> {
    /// A driver for a world built from `scenario`, its hosts added.
    pub(super) fn new(
        sim: turmoil::Sim<'a>,
        scenario: &'a Scenario,
        handles: Handles<'a>,
        transcript: &'a Transcript,
    ) -> Self {
        let mut events: Vec<_> = scenario.timeline.iter().collect();
        events.sort_by_key(|e| e.at.0);
        let mut checks: Vec<_> = scenario.expect.iter().collect();
        checks.sort_by_key(|c| c.at.0);
        let mut stats: Vec<_> = scenario.stats.iter().collect();
        stats.sort_by_key(|t| t.0);
        Driver {
            sim,
            scenario,
            handles,
            transcript,
            total: sim_duration(scenario),
            told: Duration::ZERO,
            events: events.into_iter().peekable(),
            checks: checks.into_iter().peekable(),
            stats: stats.into_iter().peekable(),
            pending: vec![],
            cells: vec![],
            final_ask: vec![],
            asked_final: false,
            final_stats: vec![],
            states: BTreeMap::new(),
            seen: usize::MAX,
            health: vec![],
            failed: vec![],
            next_pid: FIRST_PID + scenario.proxies.len() as u32,
        }
    }

    /// Steps the world until turmoil's duration ends, telling `progress`
    /// (virtual time so far, the whole duration) each virtual second.
    pub(super) fn run(
        mut self,
        progress: &mut dyn FnMut(Duration, Duration),
    ) -> Result<Driven, RunError> {
        loop {
            let now = self.sim.elapsed();
            self.sample_states(now);
            self.tell_progress(now, progress);
            self.apply_due_events(now);
            self.ask_due_stats(now);
            self.note_answers();
            self.check_due_expectations(now);
            self.ask_final_stats(now);
            self.collect_answers();
            if self.step()? {
                break;
            }
        }
        Ok(self.finish())
    }

    /// Notes every server whose state changed since the last sample in
    /// the health timeline.
    fn sample_states(&mut self, now: Duration) {
        let lines = self.transcript.len();
        let fresh = if lines != self.seen || self.states.is_empty() {
            self.seen = lines;
            all_states(self.handles.engines)
        } else {
            BTreeMap::new()
        };
        for (key, state) in fresh {
            // An engine's first states are where it starts, not changes.
            if let Some(before) = self.states.insert(key.clone(), state.clone()) {
                if before != state {
                    self.health.push(HealthChange {
                        at_ms: now.as_millis() as u64,
                        proxy: key.0,
                        server: key.1,
                        state,
                    });
                }
            }
        }
    }

    fn tell_progress(&mut self, now: Duration, progress: &mut dyn FnMut(Duration, Duration)) {
        if now >= self.told + Duration::from_secs(1) {
            self.told = now;
            progress(now, self.total);
        }
    }

    /// Notes and applies every timeline event whose time has come.
    fn apply_due_events(&mut self, now: Duration) {
        while let Some(e) = self.events.next_if(|e| e.at.0 <= now) {
            self.transcript
                .note_at(now, "timeline", &describe(&e.action));
            self.apply(&e.action, now);
        }
    }

    fn apply(&mut self, action: &Action, now: Duration) {
        let address = |name: &str| self.scenario.address_of(name).expect("checked at load");
        let Handles {
            engines,
            failures,
            rates,
            links,
        } = self.handles;
        match action {
            Action::Crash(h) => self.sim.crash(address(h)),
            Action::Restore(h) => self.sim.bounce(address(h)),
            Action::Partition([a, b]) => self.sim.partition(address(a), address(b)),
            Action::Heal([a, b]) => self.sim.repair(address(a), address(b)),
            Action::Latency {
                between: [a, b],
                value,
            } => {
                self.sim.set_link_latency(address(a), address(b), value.0);
                self.sim
                    .set_link_max_message_latency(address(a), address(b), value.0);
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
            Action::Reload(r) => {
                // A new process, whether it starts or not.
                let pid = self.next_pid;
                self.next_pid += 1;
                let order = ReloadOrder {
                    text: r.config.clone().expect("config_file is read at load"),
                    file: r.file_name(),
                    pid,
                };
                let running = engines
                    .iter()
                    .find(|(n, _)| *n == r.proxy)
                    .and_then(|(_, slot)| slot.lock().expect("slot").clone());
                let sent = running.is_some_and(|r| r.control.send(Control::Reload(order)).is_ok());
                if !sent {
                    let line = format!("{}: not running, nothing to reload", r.proxy);
                    self.transcript.note_at(now, "reload", &line);
                }
            }
            Action::Api { proxy, command } => {
                if let Some((name, slot)) = engines.iter().find(|(n, _)| n == proxy) {
                    ask_engine(
                        slot,
                        Some(command.clone()),
                        now,
                        name,
                        "api",
                        &mut self.pending,
                    );
                }
            }
        }
    }

    /// Asks every engine for its stats at each moment that has come.
    fn ask_due_stats(&mut self, now: Duration) {
        while let Some(at) = self.stats.next_if(|t| t.0 <= now) {
            for (name, slot) in self.handles.engines {
                ask_engine(slot, None, at.0, name, "stats", &mut self.pending);
            }
        }
    }

    /// Notes the stats and API answers that arrived, at the time they
    /// were asked. Answers arrive once the proxies' hosts have run a step.
    fn note_answers(&mut self) {
        let transcript = self.transcript;
        self.pending
            .retain_mut(|(at, name, who, answer)| match answer.try_recv() {
                Ok(text) => {
                    for line in text.lines().filter(|l| !l.is_empty()) {
                        transcript.note_at(*at, who, &format!("{name}: {line}"));
                    }
                    false
                }
                Err(TryRecvError::Empty) => true,
                Err(_) => false,
            });
    }

    /// Checks every expectation whose time has come.
    fn check_due_expectations(&mut self, now: Duration) {
        while let Some(c) = self.checks.next_if(|c| c.at.0 <= now) {
            self.check(c);
        }
    }

    /// Checks a state expectation now, or asks for the stats a cell
    /// expectation reads (settled when they arrive).
    fn check(&mut self, c: &Expectation) {
        let check = c.check().expect("checked at load");
        // The proxy it names, or every one (the first that knows).
        let engines: Vec<(String, EngineSlot)> = self
            .handles
            .engines
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
            Check::Pid(pid) => (
                format!("{} pid", c.proxy.as_deref().unwrap_or_default()),
                pid.to_string(),
                engines.iter().find_map(|(_, slot)| {
                    let running = slot.lock().expect("slot").clone()?;
                    Some(running.pid.to_string())
                }),
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
                self.cells.push(CellCheck {
                    at: c.at.0,
                    line: line.clone(),
                    column: column.clone(),
                    want: value.clone(),
                    answers: answers.into_iter().map(|p| p.3).collect(),
                    csv: vec![],
                });
                return;
            }
        };
        if actual.as_deref() != Some(want.as_str()) {
            self.failed.push(format!(
                "at {:?}: expected {what} {want}, found {}",
                c.at.0,
                actual
                    .as_deref()
                    .unwrap_or("nothing (no such server, backend or column)")
            ));
        }
    }

    /// Once the clients stop, asks every engine for its `show stat`.
    fn ask_final_stats(&mut self, now: Duration) {
        if !self.asked_final && now >= self.scenario.duration.0 {
            self.asked_final = true;
            for (name, slot) in self.handles.engines {
                ask_engine(slot, None, now, name, "final", &mut self.final_ask);
            }
        }
    }

    /// Keeps the final stats that arrived, and settles the cell
    /// expectations whose stats all did.
    fn collect_answers(&mut self) {
        let final_stats = &mut self.final_stats;
        self.final_ask.retain_mut(|p| match p.3.try_recv() {
            Ok(csv) => {
                final_stats.push(csv);
                false
            }
            Err(TryRecvError::Empty) => true,
            Err(_) => false,
        });
        let failed = &mut self.failed;
        self.cells.retain_mut(|c| {
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
    }

    /// Runs turmoil one step; true when its duration is over.
    fn step(&mut self) -> Result<bool, RunError> {
        self.sim.step().map_err(|e| RunError::Sim(e.to_string()))
    }

    /// What the run found: expectations whose answers never came or
    /// whose time is past the end fail.
    fn finish(self) -> Driven {
        let mut failed = self.failed;
        for c in self.cells {
            failed.push(format!(
                "at {:?}: {} {}: the engine did not answer",
                c.at, c.line, c.column
            ));
        }
        // Expectations past the end are checked against the final state.
        for c in self.checks {
            failed.push(format!(
                "at {:?}: after the end of the run ({:?})",
                c.at.0,
                c.check().expect("checked at load")
            ));
        }
        Driven {
            failed,
            health: self.health,
            servers: server_shares(&self.final_stats),
        }
    }
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
        if running
            .control
            .send(Control::Ask(Ask { command, reply }))
            .is_ok()
        {
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
        Action::Reload(r) => match &r.config_file {
            Some(f) => format!("{} reloads with {}", r.proxy, f.display()),
            None => format!("{} reloads with a new configuration", r.proxy),
        },
        Action::Load(l) => {
            let per_second = 1.0 / l.rate.interval.as_secs_f64().max(1e-9);
            format!("{} now connects {per_second:.0} times a second", l.client)
        }
    }
}
