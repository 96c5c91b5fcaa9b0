//! A proxy host's engine, generation after generation: the first starts
//! with the host (again when the host restarts), and a `reload` event
//! starts the next one the way production reloads:
//!
//! 1. the new configuration is loaded by the engine's own loader; its
//!    messages are printed as `-c` prints them, by the new process (a new
//!    pid);
//! 2. the old generation's `show servers state` is read (a master
//!    process carries it over) and parsed as a state file;
//! 3. the new configuration's listeners are bound, those the old
//!    generation holds being handed over rather than bound again
//!    ([`Listening`]: the simulator's fd passing);
//! 4. the new generation starts over them with the carried states
//!    ([`Engine::start_with`]): a server DOWN or in maintenance stays so
//!    before its first check;
//! 5. the old generation soft-stops (its `Proxy X stopped` lines, its
//!    accept loops end, its live streams finish) and is gone with its
//!    last stream.
//!
//! A configuration that does not load, that the engine cannot run, or
//! whose listeners cannot be bound fails at its step: its errors and a
//! `reload failed` line join the transcript, and the old generation
//! keeps serving, untouched.

use std::sync::{Arc, Mutex};

use engine::config::{self, Config};
use engine::log::{self, LogSink, Severity};
use engine::pool;
use engine::runtime::{self, Engine, StartError};
use engine::status::restore::{Saved, Unreadable};
use tokio::sync::{mpsc, oneshot};

use crate::addresses::Addresses;
use crate::loss::Links;
use crate::net::{Handover, Listening, SimNet};
use crate::report::Streams;
use crate::transcript::Transcript;

/// Each proxy's running engine (the current generation; replaced when
/// its host restarts or reloads), for expectations, and a way to talk to
/// it.
pub(super) type EngineSlot = Arc<Mutex<Option<Running>>>;

#[derive(Clone)]
pub(super) struct Running {
    pub(super) engine: Arc<Engine>,
    /// Its process's pid.
    pub(super) pid: u32,
    /// Stats, API commands and reloads run inside the proxy's host, whose
    /// clock is the simulation's: the driver asks, the host acts.
    pub(super) control: mpsc::UnboundedSender<Control>,
}

/// What the driver asks of a proxy's host.
pub(super) enum Control {
    Ask(Ask),
    Reload(ReloadOrder),
}

/// A question for the current engine, and where its answer goes.
pub(super) struct Ask {
    /// None: `show stat`; Some: a runtime API command line.
    pub(super) command: Option<String>,
    pub(super) reply: oneshot::Sender<String>,
}

/// A reload the timeline orders.
pub(super) struct ReloadOrder {
    /// The new configuration.
    pub(super) text: String,
    /// The name its messages give it.
    pub(super) file: String,
    /// The new process's pid (the driver counts them).
    pub(super) pid: u32,
}

/// The program name in messages and syslog headers, as the engine
/// binary is invoked.
const PROGRAM: &str = "engine";

/// A proxy host: what its engine's generations share, and what the host
/// keeps across restarts.
#[derive(Clone)]
pub(super) struct ProxyHost {
    pub(super) name: String,
    pub(super) address: std::net::IpAddr,
    pub(super) seed: u64,
    pub(super) transcript: Transcript,
    pub(super) streams: Streams,
    pub(super) links: Links,
    pub(super) addresses: Addresses,
    pub(super) slot: EngineSlot,
    /// The configuration and pid the host (re)starts with: the first,
    /// then the last a reload started (the file on disk, a restart
    /// reads it again).
    pub(super) current: Arc<Mutex<(Arc<Config>, u32)>>,
}

impl ProxyHost {
    /// The host's software: the current configuration's engine, then
    /// whatever the driver asks, reloads included.
    pub(super) async fn run(self) -> turmoil::Result {
        let (config, pid) = self.current.lock().expect("current").clone();
        let sink = self.sink(pid);
        process_settings_notice(&config, &*sink);
        // This run's listeners; a restarted host binds anew.
        let listening = Listening::default();
        let net = self.net(pid, &listening);
        let engine = Engine::start(&config, net, Arc::new(pool::Current), sink, PROGRAM).await?;
        let mut engine = Arc::new(engine);
        let (control, mut orders) = mpsc::unbounded_channel::<Control>();
        self.publish(&engine, pid, &control);
        while let Some(order) = orders.recv().await {
            match order {
                Control::Ask(q) => {
                    let answer = match &q.command {
                        None => engine.show_stat(),
                        Some(c) => engine.execute(c).await,
                    };
                    let _ = q.reply.send(answer);
                }
                Control::Reload(r) => {
                    let old_pid = self.current.lock().expect("current").1;
                    let Some((next, config)) = self.reload(&engine, old_pid, &r, &listening).await
                    else {
                        continue;
                    };
                    let old = std::mem::replace(&mut engine, Arc::new(next));
                    *self.current.lock().expect("current") = (config, r.pid);
                    self.publish(&engine, r.pid, &control);
                    tokio::spawn(self.clone().retire(old, old_pid));
                }
            }
        }
        Ok(())
    }

    /// The engine the driver sees from now on.
    fn publish(&self, engine: &Arc<Engine>, pid: u32, control: &mpsc::UnboundedSender<Control>) {
        *self.slot.lock().expect("slot") = Some(Running {
            engine: engine.clone(),
            pid,
            control: control.clone(),
        });
    }

    /// Where a generation's messages go: the transcript, under the host's
    /// name, with its pid.
    fn sink(&self, pid: u32) -> Arc<dyn LogSink> {
        Arc::new(self.transcript.sink(&self.name, pid, self.streams.clone()))
    }

    fn net(&self, pid: u32, listening: &Listening) -> Arc<SimNet> {
        let net = SimNet::new(
            self.seed,
            pid,
            &self.name,
            self.address,
            self.links.clone(),
            self.addresses.clone(),
        );
        Arc::new(net.with_listening(listening.clone()))
    }

    /// A line of the new process, as it prints it on stderr.
    fn say(&self, line: &str) {
        self.transcript.note(&self.name, line);
    }

    /// A line of the simulator's about the reload.
    fn tell(&self, text: &str) {
        self.transcript
            .note("reload", &format!("{}: {text}", self.name));
    }

    /// Starts the next generation over `old`'s listeners with its
    /// servers' states; None (and the reasons in the transcript) when it
    /// cannot start, `old` serving on untouched.
    async fn reload(
        &self,
        old: &Engine,
        old_pid: u32,
        r: &ReloadOrder,
        listening: &Listening,
    ) -> Option<(Engine, Arc<Config>)> {
        let pid = r.pid;
        let failed = |why: &str| {
            self.tell(&format!(
                "reload failed ({why}): pid {pid} exited with code 1; pid {old_pid} keeps serving its configuration"
            ));
            None
        };
        let loaded = config::load_str(&r.file, &r.text);
        // What `-c` says of it: its errors, or its warnings.
        let report = config::check_report(&loaded, pid);
        report.stderr.lines().for_each(|l| self.say(l));
        let Ok(loaded) = loaded else {
            return failed("configuration errors");
        };
        let config = Arc::new(loaded.config);
        if !config.unimplemented.is_empty() {
            // As the binary refuses them before it binds.
            let e = StartError::NotImplemented(config.unimplemented.clone());
            for line in e.to_string().lines() {
                let line = format!("config : {line}");
                self.say(&log::stderr_line(Severity::Alert, pid, &line));
            }
            return failed("not implemented");
        }
        let sink = self.sink(pid);
        process_settings_notice(&config, &*sink);
        // What the old generation knows of its servers, now.
        let dump = old.execute("show servers state").await;
        let carried = match Saved::parse(&dump) {
            Ok(saved) => Some((saved, state_lines(&dump))),
            Err(e) => {
                let why = match e {
                    Unreadable::Version => "no version line".to_string(),
                    Unreadable::Corrupt(n) => format!("line {n} corrupt"),
                };
                self.tell(&format!(
                    "pid {old_pid}'s servers state cannot be carried over ({why})"
                ));
                None
            }
        };
        let net = self.net(pid, listening);
        listening.offer();
        let bound = runtime::bind(&config, &*net).await;
        let handover = listening.settle();
        let started = bound.and_then(|listeners| {
            Engine::start_with(
                &config,
                listeners,
                carried.as_ref().map(|(saved, _)| saved),
                net,
                Arc::new(pool::Current),
                sink,
                PROGRAM,
            )
        });
        match started {
            Ok(engine) => {
                let servers = carried.as_ref().map(|(_, n)| *n);
                self.tell(&took_over(pid, old_pid, &handover, servers));
                Some((engine, config))
            }
            Err(e) => {
                let alert = |line: &str| self.say(&log::stderr_line(Severity::Alert, pid, line));
                e.to_string().lines().for_each(alert);
                let why = match e {
                    StartError::Bind(_) => {
                        alert(&format!(
                            "[{PROGRAM}.main()] Some protocols failed to start their listeners! Exiting."
                        ));
                        "listeners not bound"
                    }
                    StartError::NotImplemented(_) => "not implemented",
                };
                failed(why)
            }
        }
    }

    /// The replaced generation soft-stops (it stops accepting, says so
    /// for each proxy, lets its live streams finish) and is gone with
    /// them: its tasks end, the listeners it alone held close.
    async fn retire(self, old: Arc<Engine>, old_pid: u32) {
        old.soft_stop().await;
        drop(old);
        self.tell(&format!("pid {old_pid} exited: its last stream ended"));
    }
}

/// The reload's line: the new pid, what became of the listeners, how
/// many servers' states came over.
fn took_over(pid: u32, old_pid: u32, h: &Handover, carried: Option<usize>) -> String {
    let list = |addrs: &[std::net::SocketAddr]| {
        addrs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut parts = vec![format!("pid {pid} took over from pid {old_pid}")];
    if !h.adopted.is_empty() {
        parts.push(format!("listeners handed over: {}", list(&h.adopted)));
    }
    if !h.bound.is_empty() {
        parts.push(format!("bound: {}", list(&h.bound)));
    }
    if !h.left.is_empty() {
        parts.push(format!(
            "closed with pid {old_pid}'s soft stop: {}",
            list(&h.left)
        ));
    }
    if let Some(n) = carried {
        parts.push(format!("servers' states carried over: {n}"));
    }
    parts.join("; ")
}

/// The servers a `show servers state` dump lists (its lines after the
/// version, comments aside).
fn state_lines(dump: &str) -> usize {
    dump.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .count()
}

/// The global settings that act on the operating-system process (its
/// root, identity, background, pid file, threads): a simulated host has
/// none (turmoil runs each host on one thread), so the transcript says
/// they were not applied.
fn process_settings_notice(config: &Config, sink: &dyn LogSink) {
    let g = &config.global;
    let skipped: Vec<&str> = [
        (g.chroot.is_some(), "chroot"),
        (g.uid != 0, "user/uid"),
        (g.gid != 0, "group/gid"),
        (g.daemon, "daemon"),
        (g.pidfile.is_some(), "pidfile"),
        (g.nbthread.is_some(), "nbthread"),
    ]
    .into_iter()
    .filter_map(|(set, name)| set.then_some(name))
    .collect();
    if !skipped.is_empty() {
        let message = format!(
            "process settings a simulated host does not take: {}.",
            skipped.join(", ")
        );
        sink.emit(Severity::Notice, &message);
    }
}
