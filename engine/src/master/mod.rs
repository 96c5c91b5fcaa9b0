//! The master-worker mode (`-W`, `-Ws`, `master-worker`), as HAProxy 2.6
//! runs it: a master process that serves no traffic starts a worker that
//! does, and reloads by executing itself again (SIGUSR2, SIGHUP, or the
//! master CLI's `reload`): the new master reads the configuration, starts
//! a new worker, and once that one serves, the old workers finish their
//! connections (`-sf`) and leave. A configuration that does not load
//! leaves the running worker untouched ("Loading failure!").
//!
//! Where the engine differs from HAProxy on purpose:
//! - The master holds the listening sockets and hands them to each
//!   worker; HAProxy's master fetches them from the previous worker
//!   (`-x`). Either way the sockets are the same across reloads, so no
//!   connection waiting in a backlog is lost.
//! - The new worker is ready (it serves) before the old ones are told to
//!   finish and before systemd hears READY=1.
//! - The master carries the servers' states (`show servers state` of the
//!   current worker) to the new worker, with no `server-state-file`.
//!
//! Signals: SIGUSR2 and SIGHUP reload; SIGTERM, SIGINT and SIGUSR1 are
//! passed to the workers and the master exits when they have; SIGTTOU and
//! SIGTTIN are passed on. The messages are HAProxy's.

pub mod cli;
pub mod procs;
pub mod worker;

use std::collections::BTreeMap;
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Mutex};

use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

use crate::config::Config;
use crate::log::{LogSink, Severity};
use crate::net::fdpass::{self, MasterEnd};
use crate::net::{ListenAddr, ListenSpec, Listener, Net, TokioNet};
use crate::runtime::{self, Wanted};
use procs::{Procs, Worker};

/// What a master hands the master it executes (HAProxy passes its list in
/// HAPROXY_PROCESSES): the process list, then the listening sockets.
const ENV_PROCS: &str = "ENGINE_MASTER_PROCS";
const ENV_HELD: &str = "ENGINE_MASTER_LISTENERS";

/// How the master was asked to run.
pub struct Setup {
    /// The command line as given, program first: a reload executes it
    /// again.
    pub argv: Vec<String>,
    /// `-Ws`: tell systemd (sd_notify) when ready, reloading, stopping.
    pub systemd: bool,
    /// `-S <addr>[,mode <octal>]`: the master CLI's listeners.
    pub master_cli: Vec<String>,
    /// The engine's version, as `show proc` prints it.
    pub version: String,
    /// Called once the first worker serves (a `-D` parent then exits 0).
    pub serving: Option<Box<dyn FnOnce() + Send>>,
    /// `-x`: sockets taken from the process this master replaces, by
    /// where they listen.
    pub taken: Vec<(ListenAddr, OwnedFd)>,
}

/// A listening socket the master holds, under the address it was asked
/// for (a reload reuses it when the new configuration asks again).
struct Held {
    addr: String,
    fd: OwnedFd,
}

/// Whether this process is a master that executed itself to reload.
pub fn is_reexecuted() -> bool {
    std::env::var_os(ENV_PROCS).is_some()
}

/// The master's state, shared with its CLI sessions.
pub(crate) struct State {
    pub procs: Procs,
    pub channels: BTreeMap<u32, Arc<MasterEnd>>,
    pub version: String,
}

/// What a CLI session asks of the master's loop.
pub(crate) enum Request {
    Reload,
}

/// Runs the master until its workers are gone; returns the exit code.
/// `config` is None when a reload's configuration did not load (its
/// errors are printed already): the running workers stay.
pub async fn run(config: Option<Config>, mut setup: Setup, sink: Arc<dyn LogSink>) -> i32 {
    let pid = std::process::id();
    let say = |severity: Severity, text: &str| sink.emit(severity, text);
    // Before anything is started: a reload asked meanwhile must wait for
    // the handler, not kill the master.
    let Some(mut signals) = Signals::install() else {
        say(
            Severity::Alert,
            "cannot install the master's signal handlers",
        );
        return 1;
    };
    let net = TokioNet::new();
    let reexecuted = is_reexecuted();
    let procs = std::env::var(ENV_PROCS)
        .ok()
        .and_then(|v| Procs::decode(&v))
        .unwrap_or_else(|| Procs {
            started: wall_secs(),
            ..Procs::default()
        });
    let mut held = take_held();
    held.extend(setup.taken.drain(..).map(|(addr, fd)| Held {
        addr: addr.to_string(),
        fd,
    }));
    // The channels to the workers a previous master started.
    let mut channels = BTreeMap::new();
    for w in &procs.workers {
        // SAFETY: the previous master left this descriptor open for us
        // and nothing else in this process owns it.
        if let Ok(fd) = unsafe { fdpass::inherit(w.channel) } {
            if let Ok(end) = MasterEnd::new(fd) {
                channels.insert(w.pid, Arc::new(end));
            }
        }
    }
    for key in [ENV_PROCS, ENV_HELD] {
        std::env::remove_var(key);
    }
    let state = Arc::new(Mutex::new(State {
        procs,
        channels,
        version: setup.version.clone(),
    }));
    let (requests, mut requested) = mpsc::unbounded_channel();
    // The master CLI, on its own sockets (kept across reloads).
    for spec in &setup.master_cli {
        match cli_listener(spec, &net, &mut held).await {
            Ok(listener) => {
                tokio::spawn(cli::serve(listener, state.clone(), requests.clone()));
            }
            Err(e) => {
                say(
                    Severity::Alert,
                    &format!("Can't create the master's CLI listener '{spec}': {e}"),
                );
                if !reexecuted {
                    return 1;
                }
            }
        }
    }
    let mut exit_on_failure = true;
    match config {
        Some(config) => {
            exit_on_failure = !config.global.master_worker_no_exit_on_failure;
            match start_worker(&config, &net, &mut held, &state, &sink).await {
                Ok(Some(started)) => {
                    let_go(&state, started, config.global.mworker_max_reloads);
                    say(Severity::Notice, "Loading success.");
                    if let Some(serving) = setup.serving.take() {
                        serving();
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    for line in e.lines() {
                        say(Severity::Alert, line);
                    }
                    if !reexecuted {
                        return 1;
                    }
                    failed(&state, &say);
                }
            }
        }
        None => failed(&state, &say),
    }
    if setup.systemd {
        let _ = sd_notify::notify(
            false,
            &[
                sd_notify::NotifyState::Ready,
                sd_notify::NotifyState::MainPid(pid),
            ],
        );
    }
    // A child may have left before the handler existed.
    let mut exit = Exit {
        code: None,
        exit_on_failure,
    };
    if let Some(code) = reap(&state, &mut exit, &say) {
        return code;
    }
    loop {
        let reload = tokio::select! {
            _ = signals.usr2.recv() => true,
            _ = signals.hup.recv() => true,
            Some(Request::Reload) = requested.recv() => true,
            _ = signals.term.recv() => { stop(&state, libc::SIGTERM, &setup, &say); false }
            _ = signals.int.recv() => { stop(&state, libc::SIGINT, &setup, &say); false }
            _ = signals.usr1.recv() => { stop(&state, libc::SIGUSR1, &setup, &say); false }
            _ = signals.ttou.recv() => { broadcast(&state, libc::SIGTTOU); false }
            _ = signals.ttin.recv() => { broadcast(&state, libc::SIGTTIN); false }
            // HAProxy's master ignores SIGQUIT (its default would dump core).
            _ = signals.quit.recv() => false,
            _ = signals.chld.recv() => {
                if let Some(code) = reap(&state, &mut exit, &say) {
                    return code;
                }
                false
            }
        };
        if reload {
            say(Severity::Notice, "Reloading HAProxy");
            if setup.systemd {
                let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Reloading]);
            }
            let e = reexec(&setup, &state, &held);
            say(
                Severity::Warning,
                &format!("Failed to reexecute the master process [{pid}]: {e}"),
            );
        }
    }
}

/// The new worker `started` serves: the others finish (SIGUSR1), those
/// past `mworker-max-reloads` are terminated, and the failures are
/// forgotten.
fn let_go(state: &Mutex<State>, started: u32, max_reloads: Option<u32>) {
    let mut s = state.lock().expect("master state");
    for w in s.procs.workers.iter_mut().filter(|w| w.pid != started) {
        send_signal(w.pid, libc::SIGUSR1);
        if max_reloads.is_some_and(|max| w.reloads > max) {
            send_signal(w.pid, libc::SIGTERM);
        }
        w.leaving = true;
    }
    s.procs.failed = 0;
}

/// A reload whose configuration did not load: the workers stay.
fn failed(state: &Mutex<State>, say: &dyn Fn(Severity, &str)) {
    state.lock().expect("master state").procs.failed += 1;
    say(Severity::Warning, "Loading failure!");
}

fn wall_secs() -> u64 {
    #[allow(clippy::disallowed_methods)] // show proc's uptimes: wall time, not engine logic
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The listening sockets a previous master left open for us.
fn take_held() -> Vec<Held> {
    let Ok(list) = std::env::var(ENV_HELD) else {
        return vec![];
    };
    let mut held = vec![];
    for line in list.lines() {
        let Some((fd, addr)) = line.split_once(' ') else {
            continue;
        };
        let Ok(fd) = fd.parse::<RawFd>() else {
            continue;
        };
        // SAFETY: the previous master left this descriptor open for us.
        if let Ok(fd) = unsafe { fdpass::inherit(fd) } {
            held.push(Held {
                addr: addr.to_string(),
                fd,
            });
        }
    }
    held
}

/// A held socket for `addr`, if the master has one (a duplicate: the
/// master keeps its own).
fn reuse(held: &[Held], addr: &str) -> Option<OwnedFd> {
    held.iter()
        .find(|h| h.addr == addr)
        .and_then(|h| h.fd.try_clone().ok())
}

/// The master CLI's listener for `-S <addr>[,mode <octal>]`.
async fn cli_listener(
    spec: &str,
    net: &TokioNet,
    held: &mut Vec<Held>,
) -> Result<Box<dyn Listener>, String> {
    let mut parts = spec.split(',');
    let addr_text = parts.next().unwrap_or_default();
    let options: Vec<&str> = parts.collect();
    let addr = match addr_text.strip_prefix("unix@") {
        Some(path) => ListenAddr::Unix(path.into()),
        None if addr_text.starts_with('/') => ListenAddr::Unix(addr_text.into()),
        None => {
            let inet = addr_text
                .strip_prefix("ipv4@")
                .or_else(|| addr_text.strip_prefix("ipv6@"))
                .unwrap_or(addr_text);
            ListenAddr::Inet(
                inet.parse()
                    .map_err(|_| format!("invalid address '{addr_text}'"))?,
            )
        }
    };
    let mut mode = None;
    let mut i = 0;
    while i < options.len() {
        match (options[i], options.get(i + 1)) {
            ("mode", Some(m)) => {
                mode = Some(u32::from_str_radix(m, 8).map_err(|_| format!("invalid mode '{m}'"))?);
                i += 2;
            }
            (other, _) => return Err(format!("'{other}' is not implemented yet")),
        }
    }
    let key = format!("mcli {addr}");
    let listen_at = match reuse(held, &key) {
        Some(fd) => {
            use std::os::fd::IntoRawFd;
            ListenAddr::Fd(fd.into_raw_fd())
        }
        None => addr.clone(),
    };
    let listener = net
        .listen(&ListenSpec::new(listen_at, 10))
        .await
        .map_err(|e| crate::net::strerror(&e))?;
    if let (ListenAddr::Unix(path), Some(mode)) = (&addr, mode) {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
    }
    if !held.iter().any(|h| h.addr == key) {
        if let Some(Ok(fd)) = listener.handover() {
            held.push(Held { addr: key, fd });
        }
    }
    Ok(listener)
}

/// Binds what `config` asks (reusing held sockets), asks the current
/// worker for its servers' states, and starts a worker over them. Ok(pid)
/// once it serves; Ok(None) when it died first (the child's exit says
/// why); Err with HAProxy's bind alerts.
async fn start_worker(
    config: &Config,
    net: &TokioNet,
    held: &mut Vec<Held>,
    state: &Arc<Mutex<State>>,
    sink: &Arc<dyn LogSink>,
) -> Result<Option<u32>, String> {
    let listeners = runtime::bind_reusing(config, net, &mut |w: Wanted<'_>| {
        reuse(held, &w.addr.to_string())
    })
    .await
    .map_err(|e| {
        format!(
            "{e}\n[{}.main()] Some protocols failed to start their listeners! Exiting.",
            std::env::args().next().unwrap_or_default()
        )
    })?;
    // The worker's sockets, by frontend (None: stats sockets), and the
    // master's own copies under their addresses for the next reload.
    let mut handed: Vec<(Option<String>, OwnedFd)> = vec![];
    let mut kept: Vec<Held> = held
        .drain(..)
        .filter(|h| h.addr.starts_with("mcli "))
        .collect();
    let mut keep = |proxy: Option<String>, addr: String, l: &dyn Listener| -> Result<(), String> {
        let fd = l
            .handover()
            .unwrap_or_else(|| Err(std::io::Error::from(std::io::ErrorKind::Unsupported)))
            .map_err(|e| format!("cannot hand over {addr}: {e}"))?;
        let copy = fd.try_clone().map_err(|e| e.to_string())?;
        handed.push((proxy, copy));
        kept.push(Held { addr, fd });
        Ok(())
    };
    for f in &listeners.frontends {
        for (addr, l) in &f.sockets {
            keep(Some(f.proxy.clone()), addr.to_string(), &**l)?;
        }
    }
    for (socket, l) in config.global.stats_sockets.iter().zip(&listeners.stats) {
        let addr = runtime::stats_socket_addr(socket).to_string();
        keep(None, addr, &**l)?;
    }
    drop(listeners);
    *held = kept;
    let current = {
        let s = state.lock().expect("master state");
        s.procs
            .current()
            .and_then(|w| s.channels.get(&w.pid).cloned())
    };
    let carried = match current {
        Some(end) => ask(&end, "show servers state").await,
        None => None,
    };
    let (ours, theirs) = fdpass::socketpair().map_err(|e| e.to_string())?;
    let spawned = worker::spawn(&handed, &theirs, carried.as_deref()).map_err(|e| {
        format!(
            "[{}.main()] Cannot fork: {e}.",
            std::env::args().next().unwrap_or_default()
        )
    })?;
    drop(theirs);
    drop(handed);
    let end = Arc::new(MasterEnd::new(ours).map_err(|e| e.to_string())?);
    sink.emit(Severity::Notice, &format!("New worker ({spawned}) forked"));
    {
        let mut s = state.lock().expect("master state");
        let version = s.version.clone();
        s.procs.workers.push(Worker {
            pid: spawned,
            channel: end.raw(),
            reloads: 0,
            started: wall_secs(),
            leaving: false,
            version,
        });
        s.channels.insert(spawned, end.clone());
    }
    Ok(end.ready().await.then_some(spawned))
}

/// One command to a worker's runtime API; its whole answer.
pub(crate) async fn ask(end: &MasterEnd, command: &str) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = end.connect().ok()?;
    stream
        .write_all(format!("{command}\n").as_bytes())
        .await
        .ok()?;
    let mut answer = String::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_string(&mut answer),
    )
    .await
    .ok()?
    .ok()?;
    Some(answer)
}

/// Executes the master again with its state in the environment; returns
/// only on failure.
fn reexec(setup: &Setup, state: &Mutex<State>, held: &[Held]) -> std::io::Error {
    use std::os::unix::process::CommandExt;
    let mut s = state.lock().expect("master state");
    s.procs.reloads += 1;
    for w in &mut s.procs.workers {
        w.reloads += 1;
    }
    let mut keep: Vec<RawFd> = held.iter().map(|h| h.fd.as_raw_fd()).collect();
    keep.extend(s.channels.values().map(|c| c.raw()));
    for &fd in &keep {
        let _ = fdpass::close_on_exec(fd, false);
    }
    let list: Vec<String> = held
        .iter()
        .map(|h| format!("{} {}", h.fd.as_raw_fd(), h.addr))
        .collect();
    let Some((program, args)) = setup.argv.split_first() else {
        return std::io::Error::from(std::io::ErrorKind::InvalidInput);
    };
    let e = std::process::Command::new(program)
        .args(args)
        .env(ENV_PROCS, s.procs.encode())
        .env(ENV_HELD, list.join("\n"))
        .exec();
    // Still here: the reload did not happen; the counts stay as they were.
    s.procs.reloads -= 1;
    for w in &mut s.procs.workers {
        w.reloads -= 1;
    }
    for &fd in &keep {
        let _ = fdpass::close_on_exec(fd, true);
    }
    e
}

fn send_signal(pid: u32, sig: i32) {
    // SAFETY: kill(2) has no memory effects; a stale pid yields ESRCH.
    unsafe { libc::kill(pid as libc::pid_t, sig) };
}

fn broadcast(state: &Mutex<State>, sig: i32) {
    for w in &state.lock().expect("master state").procs.workers {
        send_signal(w.pid, sig);
    }
}

/// SIGTERM, SIGINT or SIGUSR1 to the master: said, and passed on.
fn stop(state: &Mutex<State>, sig: i32, setup: &Setup, say: &dyn Fn(Severity, &str)) {
    if setup.systemd {
        let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
    }
    say(Severity::Warning, "Exiting Master process...");
    broadcast(state, sig);
}

struct Exit {
    /// The status of the first current worker that failed, the master's.
    code: Option<i32>,
    exit_on_failure: bool,
}

fn signal_name(sig: i32) -> String {
    // SAFETY: strsignal returns a static or thread-local string.
    let p = unsafe { libc::strsignal(sig) };
    if p.is_null() {
        return format!("Unknown signal {sig}");
    }
    // SAFETY: a NUL-terminated string from libc.
    unsafe { std::ffi::CStr::from_ptr(p) }
        .to_string_lossy()
        .into_owned()
}

/// Collects the workers that ended, says so as HAProxy's
/// mworker_catch_sigchld; Some(code) when none is left.
fn reap(state: &Mutex<State>, exit: &mut Exit, say: &dyn Fn(Severity, &str)) -> Option<i32> {
    loop {
        let mut raw = 0;
        // SAFETY: waitpid writes the status into `raw`.
        let pid = unsafe { libc::waitpid(-1, &mut raw, libc::WNOHANG) };
        if pid == 0 {
            return None;
        }
        if pid < 0 {
            let code = exit.code.filter(|&c| c > 0).unwrap_or(0);
            say(
                Severity::Warning,
                &format!("All workers exited. Exiting... ({code})"),
            );
            return Some(code);
        }
        let status = if libc::WIFEXITED(raw) {
            libc::WEXITSTATUS(raw)
        } else if libc::WIFSIGNALED(raw) {
            128 + libc::WTERMSIG(raw)
        } else {
            255
        };
        let how = if status >= 128 {
            signal_name(status - 128)
        } else {
            "Exit".to_string()
        };
        let mut s = state.lock().expect("master state");
        let Some(at) = s.procs.workers.iter().position(|w| w.pid == pid as u32) else {
            drop(s);
            say(
                Severity::Warning,
                &format!("Process {pid} exited with code {status} ({how})"),
            );
            continue;
        };
        let w = s.procs.workers.remove(at);
        s.channels.remove(&w.pid);
        drop(s);
        if w.leaving {
            say(
                Severity::Warning,
                &format!("Former worker ({pid}) exited with code {status} ({how})"),
            );
            continue;
        }
        let severity = if status < 128 {
            Severity::Warning
        } else {
            Severity::Alert
        };
        say(
            severity,
            &format!("Current worker ({pid}) exited with code {status} ({how})"),
        );
        if ![0, 130, 143].contains(&status) && exit.exit_on_failure {
            say(
                Severity::Alert,
                "exit-on-failure: killing every processes with SIGTERM",
            );
            broadcast(state, libc::SIGTERM);
        }
        if exit.code.is_none() && status != 0 && status != 143 {
            exit.code = Some(status);
        }
    }
}

/// The signals a master answers.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    usr1: tokio::signal::unix::Signal,
    usr2: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
    ttou: tokio::signal::unix::Signal,
    ttin: tokio::signal::unix::Signal,
    chld: tokio::signal::unix::Signal,
    quit: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> Option<Signals> {
        Some(Signals {
            term: signal(SignalKind::terminate()).ok()?,
            int: signal(SignalKind::interrupt()).ok()?,
            usr1: signal(SignalKind::user_defined1()).ok()?,
            usr2: signal(SignalKind::user_defined2()).ok()?,
            hup: signal(SignalKind::hangup()).ok()?,
            ttou: signal(SignalKind::from_raw(libc::SIGTTOU)).ok()?,
            ttin: signal(SignalKind::from_raw(libc::SIGTTIN)).ok()?,
            chld: signal(SignalKind::child()).ok()?,
            quit: signal(SignalKind::quit()).ok()?,
        })
    }
}

/// Writes the pidfile as HAProxy's master does: its own pid.
pub fn write_pidfile(path: &std::path::Path) -> std::io::Result<()> {
    let mut f = std::fs::File::create(path)?;
    writeln!(f, "{}", std::process::id())
}
