//! The `engine` binary: HAProxy's command line over the production seam.

use std::process::ExitCode;
use std::sync::Arc;

use engine::cli::{self, Options};
use engine::config::{self, Config};
use engine::identity;
use engine::log::{self, LogSink, Severity};
use engine::net::{Net, TokioNet};
use engine::pool::Threads;
use engine::runtime::{Engine, StartError};
use tokio::signal::unix::Signal;

fn main() -> ExitCode {
    let options = match cli::parse(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!(
                "{}",
                log::stderr_line(Severity::Alert, std::process::id(), &e.to_string())
            );
            eprint!("{}", cli::USAGE);
            return ExitCode::from(1);
        }
    };
    if options.version > 0 {
        print_version(options.version);
        return ExitCode::SUCCESS;
    }
    if let Some(cond) = &options.condition {
        return match cli::eval_condition(cond, &|v| std::env::var(v).ok()) {
            Some(true) => ExitCode::SUCCESS,
            Some(false) => ExitCode::from(1),
            None => {
                eprintln!("Failed to evaluate condition: '{cond}'");
                ExitCode::from(2)
            }
        };
    }
    let pid = std::process::id();
    // HAProxy's local peer name, which a configuration reads as
    // "${HAPROXY_LOCALPEER}": `-L`, else the host's name. Set while the
    // process has one thread.
    let local_peer = options
        .local_peer
        .clone()
        .unwrap_or_else(|| TokioNet::new().host_name());
    std::env::set_var("HAPROXY_LOCALPEER", local_peer);
    // A configuration may read "${HAPROXY_MWORKER}" (HAProxy sets it
    // before parsing when -W is given; a worker inherits it).
    if options.master_worker {
        std::env::set_var("HAPROXY_MWORKER", "1");
    }
    // HAProxy reads the server-state files when it checks a configuration
    // too (`-c` warns of a missing one); a start reads them as it starts.
    let result = if options.check_only {
        engine::runtime::load_for_check(&options.files)
    } else {
        config::load(&options.files)
    };
    // A master that executed itself to reload keeps its workers when the
    // new configuration does not load: it says why and carries on.
    if engine::master::is_reexecuted() && !options.check_only {
        let config = match &result {
            Ok(loaded) if loaded.config.unimplemented.is_empty() => {
                let mut config = loaded.config.clone();
                apply_overrides(&mut config, &options);
                Some(config)
            }
            Ok(loaded) => {
                let e = StartError::NotImplemented(loaded.config.unimplemented.clone());
                for line in e.to_string().lines() {
                    let line = format!("config : {line}");
                    eprintln!("{}", log::stderr_line(Severity::Alert, pid, &line));
                }
                None
            }
            Err(_) => {
                let _ = report(&result, pid, false);
                None
            }
        };
        return run_master(config, &options, None);
    }
    if options.check_only || result.is_err() {
        return report(&result, pid, options.quiet && result.is_ok());
    }
    let Ok(mut loaded) = result else {
        unreachable!("errors were reported above")
    };
    if !options.quiet {
        for d in &loaded.diagnostics {
            eprintln!("{}", config::render(d, pid));
        }
    }
    apply_overrides(&mut loaded.config, &options);
    if !loaded.config.unimplemented.is_empty() {
        let e = engine::runtime::StartError::NotImplemented(loaded.config.unimplemented.clone());
        for line in e.to_string().lines() {
            eprintln!(
                "{}",
                log::stderr_line(Severity::Alert, pid, &format!("config : {line}"))
            );
        }
        return ExitCode::from(1);
    }
    let worker = engine::master::worker::Inherited::present();
    if !worker && (options.master_worker || loaded.config.global.master_worker) {
        return start_master(loaded.config, &options);
    }
    run(loaded.config, &options)
}

/// A master's first start: `-D` detaches it (its parent exits once the
/// first worker serves), and it writes its own pid to the pidfile, as
/// HAProxy's master does with or without `-D`.
fn start_master(config: Config, options: &Options) -> ExitCode {
    let daemon = match detach(&config) {
        Ok(d) => d,
        Err(code) => return code,
    };
    if let Some(path) = &config.global.pidfile {
        if let Err(code) = write_pidfile(path, std::process::id()) {
            return code;
        }
    }
    run_master(Some(config), options, daemon)
}

fn run_master(config: Option<Config>, options: &Options, daemon: Option<Daemon>) -> ExitCode {
    let pid = std::process::id();
    let runtime = match process_runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let quiet = options.quiet && !options.verbose;
    let sink: Arc<dyn LogSink> = Arc::new(log::Stderr { pid, quiet });
    let detach = !options.verbose;
    let serving: Option<Box<dyn FnOnce() + Send>> =
        daemon.map(|mut d| Box::new(move || d.serving(detach)) as Box<dyn FnOnce() + Send>);
    // `-x` on a first start: the sockets of the process being replaced.
    let taken = if engine::master::is_reexecuted() {
        vec![]
    } else {
        match take_sockets(options.takeover.as_deref(), pid, options.quiet) {
            Ok(t) => t,
            Err(code) => return code,
        }
    };
    let setup = engine::master::Setup {
        taken,
        argv: std::env::args().collect(),
        systemd: options.systemd,
        master_cli: options.master_cli.clone(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        serving,
    };
    let code = runtime.block_on(engine::master::run(config, setup, sink));
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Prints what `haproxy -c` prints for this result (also used when the
/// configuration has errors at start) and returns its exit code. Like
/// HAProxy, two `[NOTICE]` lines (version, executable) come before any
/// message.
fn report(result: &Result<config::Loaded, config::LoadError>, pid: u32, quiet: bool) -> ExitCode {
    let report = config::check_report(result, pid);
    if !quiet {
        if !report.stderr.is_empty() {
            startup_notices(pid);
            eprint!("{}", report.stderr);
        }
        print!("{}", report.stdout);
    }
    ExitCode::from(report.exit_code as u8)
}

/// The two `[NOTICE]` lines HAProxy writes before the first message of a
/// start that fails (or of `-c`): its version and executable.
fn startup_notices(pid: u32) {
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let version = format!(
        "{} (HAProxy {} compatible)",
        env!("CARGO_PKG_VERSION"),
        cli::COMPAT_VERSION
    );
    let notice = |line: &str| eprintln!("{}", log::stderr_line(Severity::Notice, pid, line));
    notice(&format!("engine version is {version}"));
    notice(&format!("path to executable is {exe}"));
}

/// `-n`, `-N`, `-p` and `-D` win over the configuration.
fn apply_overrides(config: &mut Config, options: &Options) {
    if let Some(n) = options.maxconn {
        config.global.maxconn = Some(n);
    }
    if let Some(n) = options.maxpconn {
        for p in config.proxies.iter_mut().filter(|p| p.maxconn.is_none()) {
            p.maxconn = Some(n);
        }
    }
    if options.pidfile.is_some() {
        config.global.pidfile = options.pidfile.clone();
    }
    config.global.daemon =
        (config.global.daemon || options.daemon) && !options.no_background && !options.debug;
}

/// `daemon` (or `-D`): forks, HAProxy's alert when it cannot.
fn detach(config: &Config) -> Result<Option<Daemon>, ExitCode> {
    if !config.global.daemon {
        return Ok(None);
    }
    Daemon::fork().map(Some).map_err(|e| {
        let line = format!("[{}.main()] Cannot fork: {e}.", progname());
        eprintln!(
            "{}",
            log::stderr_line(Severity::Alert, std::process::id(), &line)
        );
        ExitCode::from(1)
    })
}

/// The runtime of the process's own work (signals, accepting, checks, the
/// runtime API, a master's children).
fn process_runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("cannot start the runtime: {e}");
            ExitCode::from(1)
        })
}

fn run(config: Config, options: &Options) -> ExitCode {
    let daemon = match detach(&config) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let pid = std::process::id();
    // The process's own work (accepting, checks, the runtime API, signals)
    // runs on this thread; client connections run on the seam's `nbthread`
    // event loops (one per CPU without it, as HAProxy).
    let runtime = match process_runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let quiet = options.quiet || (config.global.daemon && !options.verbose);
    runtime.block_on(serve(config, options, pid, quiet, daemon))
}

/// The pidfile, as HAProxy writes it: by a daemon only (`-D`), with its
/// pid; in the foreground (`-db`, or no `-D`) there is none.
fn write_pidfile(path: &std::path::Path, pid: u32) -> Result<(), ExitCode> {
    std::fs::write(path, format!("{pid}\n")).map_err(|e| {
        let line = format!(
            "[{}.main()] Cannot create pidfile {} ({e})",
            progname(),
            path.display()
        );
        eprintln!("{}", log::stderr_line(Severity::Alert, pid, &line));
        ExitCode::from(1)
    })
}

async fn serve(
    config: Config,
    options: &Options,
    pid: u32,
    quiet: bool,
    mut daemon: Option<Daemon>,
) -> ExitCode {
    let sink: Arc<dyn LogSink> = Arc::new(log::Stderr { pid, quiet });
    let threads = config.global.nbthread.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let pool = match Threads::start(threads) {
        Ok(pool) => pool,
        Err(e) => {
            eprintln!("cannot start the event loops: {e}");
            return ExitCode::from(1);
        }
    };
    // Caught before anything listens, as HAProxy registers its handlers
    // before binding: a client served at once may signal at once, and a
    // signal without its handler would kill the process silently.
    let Some(signals) = Signals::install() else {
        eprintln!("cannot install signal handlers");
        return ExitCode::from(1);
    };
    let net: Arc<dyn Net> = Arc::new(TokioNet::new());
    let mut inherited = engine::master::worker::Inherited::take();
    let mut master_gone = None;
    let started = match inherited.as_mut() {
        None if options.takeover.is_some() => {
            let taken = match take_sockets(options.takeover.as_deref(), pid, options.quiet) {
                Ok(t) => t,
                Err(code) => return code,
            };
            match bind_taking(&config, &*net, taken).await {
                Ok(listeners) => Engine::start_with(
                    &config,
                    listeners,
                    None,
                    net,
                    Arc::new(pool),
                    sink.clone(),
                    &log_tag(),
                ),
                Err(e) => Err(e),
            }
        }
        None => Engine::start(&config, net, Arc::new(pool), sink.clone(), &log_tag()).await,
        Some(from) => {
            // A worker: the master bound the sockets and carries the
            // states of the worker this one replaces.
            match worker_listeners(&config, &*net, from).await {
                Ok((listeners, gone)) => {
                    master_gone = Some(gone);
                    let carried = from
                        .carried
                        .as_deref()
                        .and_then(|t| engine::status::restore::Saved::parse(t).ok());
                    Engine::start_with(
                        &config,
                        listeners,
                        carried.as_ref(),
                        net,
                        Arc::new(pool),
                        sink.clone(),
                        &log_tag(),
                    )
                }
                Err(e) => Err(e),
            }
        }
    };
    let engine = match started {
        Ok(e) => e,
        Err(e) => {
            if !options.quiet {
                startup_notices(pid);
            }
            // Alerts show even with -q, as HAProxy's do.
            let alert = |line: &str| eprintln!("{}", log::stderr_line(Severity::Alert, pid, line));
            e.to_string().lines().for_each(alert);
            if matches!(e, StartError::Bind(_)) {
                alert(&format!(
                    "[{}.main()] Some protocols failed to start their listeners! Exiting.",
                    progname()
                ));
            }
            return ExitCode::from(1);
        }
    };
    // Bound, so the identity may change; the old processes of a reload
    // keep serving if it cannot.
    let g = &config.global;
    match identity::change(g.chroot.as_deref(), g.uid, g.gid) {
        Ok(warnings) => {
            for w in warnings {
                sink.emit(Severity::Warning, &format!("[{}.main()] {w}", progname()));
            }
        }
        Err(e) => {
            if !options.quiet {
                startup_notices(pid);
            }
            let line = format!("[{}.main()] {e}", progname());
            eprintln!("{}", log::stderr_line(Severity::Alert, pid, &line));
            return ExitCode::from(1);
        }
    }
    if let Some(d) = daemon.as_mut() {
        if let Some(path) = &config.global.pidfile {
            if let Err(code) = write_pidfile(path, pid) {
                return code;
            }
        }
        d.serving(!options.verbose);
    }
    // Only once we listen do the old processes let go (`-sf` / `-st`).
    signal_all(&options.finish_pids, libc::SIGUSR1);
    signal_all(&options.terminate_pids, libc::SIGTERM);
    match master_gone {
        Some((channel, gone)) => {
            // Tell the master this worker serves; it then lets the old
            // ones go.
            let _ = channel.say_ready();
            signals.serve_worker(&engine, gone).await
        }
        None => signals.serve(&engine).await,
    }
}

/// `-x <socket>`: the listening sockets of the process serving it, with
/// HAProxy's messages when they cannot be had (the start fails).
fn take_sockets(
    path: Option<&std::path::Path>,
    pid: u32,
    quiet: bool,
) -> Result<Vec<(engine::net::ListenAddr, std::os::fd::OwnedFd)>, ExitCode> {
    let Some(path) = path else {
        return Ok(vec![]);
    };
    match engine::net::fdpass::take_sockets(path) {
        Ok(fds) => Ok(fds
            .into_iter()
            .filter_map(|fd| engine::net::fdpass::local_name(&fd).map(|name| (name, fd)))
            .collect()),
        Err(e) => {
            if !quiet {
                startup_notices(pid);
            }
            eprintln!("{}", log::stderr_line(Severity::Warning, pid, &e.0));
            let alert = "Failed to get the sockets from the old process!";
            eprintln!("{}", log::stderr_line(Severity::Alert, pid, alert));
            Err(ExitCode::from(1))
        }
    }
}

/// Binds what `config` asks, taking a socket from `taken` where one
/// listens on the same address (the rest are closed).
async fn bind_taking(
    config: &Config,
    net: &dyn Net,
    mut taken: Vec<(engine::net::ListenAddr, std::os::fd::OwnedFd)>,
) -> Result<engine::runtime::Listeners, StartError> {
    engine::runtime::bind_reusing(config, net, &mut |w| {
        let at = taken.iter().position(|(name, _)| name == w.addr)?;
        Some(taken.swap_remove(at).1)
    })
    .await
}

/// A worker's listeners: the master's sockets, in the order the
/// configuration binds them, and its channel to the master.
async fn worker_listeners(
    config: &Config,
    net: &dyn Net,
    from: &mut engine::master::worker::Inherited,
) -> Result<
    (
        engine::runtime::Listeners,
        (
            Arc<engine::net::fdpass::Channel>,
            tokio::sync::watch::Receiver<bool>,
        ),
    ),
    StartError,
> {
    let mut listeners =
        engine::runtime::bind_reusing(config, net, &mut |w| from.socket(w.proxy)).await?;
    // The channel registers with this runtime; a worker without one was
    // not started by a master (take() refuses that), so it is there.
    let fd = from.channel.take().expect("a worker's channel");
    let (channel, gone) = match engine::net::fdpass::Channel::new(fd) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cannot use the master's channel: {e}");
            std::process::exit(1);
        }
    };
    let channel = Arc::new(channel);
    listeners.master = Some(Box::new(SharedChannel(channel.clone())));
    Ok((listeners, (channel, gone)))
}

/// The worker's channel, shared by its accept loop and the word it sends
/// the master.
struct SharedChannel(Arc<engine::net::fdpass::Channel>);

impl engine::net::Listener for SharedChannel {
    fn accept(&self) -> engine::net::BoxFuture<'_, std::io::Result<engine::net::Accepted>> {
        self.0.accept()
    }
}

/// HAProxy's default `log-tag`: the base name of the program as invoked.
fn log_tag() -> String {
    let prog = progname();
    prog.rsplit('/').next().unwrap_or("engine").to_string()
}

/// The program's name as it was invoked, which HAProxy puts in some
/// messages (`[/usr/sbin/haproxy.main()]`: argv[0] as it is).
fn progname() -> String {
    std::env::args()
        .next()
        .unwrap_or_else(|| "engine".to_string())
}

fn signal_all(pids: &[i32], signal: i32) {
    for &pid in pids {
        // SAFETY: kill(2) has no memory effects; a stale pid only yields ESRCH.
        unsafe {
            libc::kill(pid, signal);
        }
    }
}

/// The signals HAProxy answers, caught from `install` on.
struct Signals {
    term: Signal,
    int: Signal,
    usr1: Signal,
    usr2: Signal,
    hup: Signal,
    ttou: Signal,
    ttin: Signal,
}

impl Signals {
    /// Replaces the default actions (which end the process at once) with
    /// handlers; None when the runtime cannot.
    fn install() -> Option<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Some(Signals {
            term: signal(SignalKind::terminate()).ok()?,
            int: signal(SignalKind::interrupt()).ok()?,
            usr1: signal(SignalKind::user_defined1()).ok()?,
            usr2: signal(SignalKind::user_defined2()).ok()?,
            hup: signal(SignalKind::hangup()).ok()?,
            ttou: signal(SignalKind::from_raw(libc::SIGTTOU)).ok()?,
            ttin: signal(SignalKind::from_raw(libc::SIGTTIN)).ok()?,
        })
    }

    /// A worker serves as [`Signals::serve`], but leaves when its master
    /// is gone (exit 1, as HAProxy's worker), and a SIGTERM or SIGINT
    /// ends it with the status a killed process has (143, 130), which its
    /// master reports.
    async fn serve_worker(
        mut self,
        engine: &Engine,
        mut gone: tokio::sync::watch::Receiver<bool>,
    ) -> ExitCode {
        let mut stopping = false;
        let soft_stop = engine.soft_stop();
        tokio::pin!(soft_stop);
        loop {
            tokio::select! {
                biased;
                _ = self.term.recv() => return ExitCode::from(143),
                _ = self.int.recv() => return ExitCode::from(130),
                _ = gone.changed() => return ExitCode::from(1),
                _ = self.usr1.recv() => stopping = true,
                _ = &mut soft_stop, if stopping => return ExitCode::SUCCESS,
                _ = self.hup.recv() => engine.dump_servers_state().await,
                _ = self.ttou.recv() => engine.pause(true).await,
                _ = self.ttin.recv() => engine.pause(false).await,
                _ = self.usr2.recv() => {}
            }
        }
    }

    /// Serves until a signal stops the process: SIGTERM and SIGINT at
    /// once; SIGUSR1 after a soft stop (no more accepting, the live streams
    /// finish). On the way, SIGHUP dumps the servers' states, SIGTTOU and
    /// SIGTTIN pause and resume the listeners; SIGUSR2 means something to
    /// a master process only, so it changes nothing. A signal that came
    /// before this waits for it.
    async fn serve(mut self, engine: &Engine) -> ExitCode {
        loop {
            tokio::select! {
                biased;
                _ = self.term.recv() => return ExitCode::SUCCESS,
                _ = self.int.recv() => return ExitCode::SUCCESS,
                _ = self.usr1.recv() => break,
                _ = self.hup.recv() => engine.dump_servers_state().await,
                _ = self.ttou.recv() => engine.pause(true).await,
                _ = self.ttin.recv() => engine.pause(false).await,
                _ = self.usr2.recv() => {}
            }
        }
        let stopping = engine.soft_stop();
        tokio::pin!(stopping);
        loop {
            tokio::select! {
                biased;
                _ = self.term.recv() => return ExitCode::SUCCESS,
                _ = self.int.recv() => return ExitCode::SUCCESS,
                _ = &mut stopping => return ExitCode::SUCCESS,
                _ = self.hup.recv() => engine.dump_servers_state().await,
                _ = self.ttou.recv() => engine.pause(true).await,
                _ = self.ttin.recv() => engine.pause(false).await,
                _ = self.usr1.recv() => {}
                _ = self.usr2.recv() => {}
            }
        }
    }
}

/// The child's side of `-D`: HAProxy binds every listener before it
/// detaches, so whoever started it learns whether it started. The child
/// binds; the parent waits for its word on a pipe and exits with it (0
/// once the child serves, 1 when it could not start: its alerts are on
/// the caller's stderr, which the child keeps until then).
struct Daemon {
    /// The pipe's writing end; None once the word is sent.
    word: Option<std::fs::File>,
}

impl Daemon {
    /// Forks; returns in the child only. Must run before any thread exists.
    fn fork() -> std::io::Result<Daemon> {
        use std::io::Read;
        use std::os::fd::FromRawFd;
        let mut fds = [0; 2];
        // SAFETY: pipe(2) fills the two descriptors on success.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: the descriptors were just created and are owned here.
        let (mut read, write) = unsafe {
            (
                std::fs::File::from_raw_fd(fds[0]),
                std::fs::File::from_raw_fd(fds[1]),
            )
        };
        // SAFETY: called from main before the tokio runtime starts, so the
        // process has a single thread and fork is sound.
        match unsafe { libc::fork() } {
            -1 => Err(std::io::Error::last_os_error()),
            0 => {
                drop(read);
                // SAFETY: setsid has no memory effects.
                unsafe { libc::setsid() };
                Ok(Daemon { word: Some(write) })
            }
            _ => {
                drop(write);
                let mut word = [0u8; 1];
                let started = matches!(read.read(&mut word), Ok(1) if word[0] == b'0');
                std::process::exit(if started { 0 } else { 1 });
            }
        }
    }

    /// The child serves: unless `-V`, it lets go of the standard streams
    /// so that whoever started it (a shell, a pipe) is not held open, then
    /// tells the parent.
    fn serving(&mut self, detach_stdio: bool) {
        use std::io::Write;
        if detach_stdio {
            if let Ok(null) = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/null")
            {
                use std::os::fd::AsRawFd;
                for fd in 0..=2 {
                    // SAFETY: dup2 onto the standard descriptors, which we own.
                    unsafe { libc::dup2(null.as_raw_fd(), fd) };
                }
            }
        }
        if let Some(mut w) = self.word.take() {
            let _ = w.write_all(b"0");
        }
    }
}

impl Drop for Daemon {
    /// A child that ends before serving makes the parent exit 1.
    fn drop(&mut self) {
        use std::io::Write;
        if let Some(mut w) = self.word.take() {
            let _ = w.write_all(b"1");
        }
    }
}

fn print_version(level: u8) {
    println!(
        "engine version {} (HAProxy {} compatible)",
        env!("CARGO_PKG_VERSION"),
        cli::COMPAT_VERSION
    );
    if level > 1 {
        println!("Build options :");
        println!("  TARGET  = {}", std::env::consts::OS);
        println!("  ARCH    = {}", std::env::consts::ARCH);
        println!();
        println!("Available polling systems :");
        println!("      tokio : pref=300,  test result OK");
        println!();
        println!("Available multiplexer protocols :");
        println!("              tcp : mode=TCP");
    }
}
