//! The `engine` binary: HAProxy's command line over the production seam.

use std::process::ExitCode;
use std::sync::Arc;

use engine::cli::{self, Options};
use engine::config::{self, Config};
use engine::identity;
use engine::log::{self, LogSink, Severity};
use engine::net::TokioNet;
use engine::pool::Threads;
use engine::runtime::{Engine, StartError};

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
    let result = config::load(&options.files);
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
    run(loaded.config, &options)
}

/// Prints what `haproxy -c` prints for this result (also used when the
/// configuration has errors at start) and returns its exit code. Like
/// HAProxy, two `[NOTICE]` lines (version, executable) come before any
/// message.
fn report(result: &Result<config::Loaded, config::LoadError>, pid: u32, quiet: bool) -> ExitCode {
    let report = config::check_report(result, pid);
    if !quiet {
        if !report.stderr.is_empty() {
            let exe = std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            let version = format!(
                "{} (HAProxy {} compatible)",
                env!("CARGO_PKG_VERSION"),
                cli::COMPAT_VERSION
            );
            eprintln!(
                "{}",
                log::stderr_line(
                    Severity::Notice,
                    pid,
                    &format!("engine version is {version}")
                )
            );
            eprintln!(
                "{}",
                log::stderr_line(
                    Severity::Notice,
                    pid,
                    &format!("path to executable is {exe}")
                )
            );
            eprint!("{}", report.stderr);
        }
        print!("{}", report.stdout);
    }
    ExitCode::from(report.exit_code as u8)
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

fn run(config: Config, options: &Options) -> ExitCode {
    if config.global.daemon {
        if let Err(e) = daemonize(!options.verbose) {
            eprintln!(
                "{}",
                log::stderr_line(
                    Severity::Alert,
                    std::process::id(),
                    &format!("[{}.main()] Cannot fork: {e}.", progname())
                )
            );
            return ExitCode::from(1);
        }
    }
    let pid = std::process::id();
    if let Some(path) = &config.global.pidfile {
        if let Err(e) = std::fs::write(path, format!("{pid}\n")) {
            eprintln!(
                "{}",
                log::stderr_line(
                    Severity::Alert,
                    pid,
                    &format!(
                        "[engine.main()] Cannot create pidfile {} ({e})",
                        path.display()
                    )
                )
            );
            return ExitCode::from(1);
        }
    }
    // The process's own work (accepting, checks, the runtime API, signals)
    // runs on this thread; client connections run on the seam's `nbthread`
    // event loops (one per CPU without it, as HAProxy).
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let quiet = options.quiet || (config.global.daemon && !options.verbose);
    runtime.block_on(serve(config, options, pid, quiet))
}

async fn serve(config: Config, options: &Options, pid: u32, quiet: bool) -> ExitCode {
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
    let engine = match Engine::start(
        &config,
        Arc::new(TokioNet::new()),
        Arc::new(pool),
        sink.clone(),
        &log_tag(),
    )
    .await
    {
        Ok(e) => e,
        Err(e) => {
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
            let line = format!("[{}.main()] {e}", progname());
            eprintln!("{}", log::stderr_line(Severity::Alert, pid, &line));
            return ExitCode::from(1);
        }
    }
    // Only once we listen do the old processes let go (`-sf` / `-st`).
    signal_all(&options.finish_pids, libc::SIGUSR1);
    signal_all(&options.terminate_pids, libc::SIGTERM);
    signals.wait_for_stop(&engine).await
}

/// HAProxy's default `log-tag`: the base name of the program as invoked.
fn log_tag() -> String {
    let prog = progname();
    prog.rsplit('/').next().unwrap_or("engine").to_string()
}

/// The program's name as it was invoked, which HAProxy puts in some messages.
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

/// The signals that stop the process, caught from `install` on.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    usr1: tokio::signal::unix::Signal,
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
        })
    }

    /// SIGTERM and SIGINT stop at once; SIGUSR1 stops accepting and
    /// finishes the live streams first (HAProxy's soft stop). A signal
    /// that came before this waits for it.
    async fn wait_for_stop(mut self, engine: &Engine) -> ExitCode {
        tokio::select! {
            biased;
            _ = self.term.recv() => ExitCode::SUCCESS,
            _ = self.int.recv() => ExitCode::SUCCESS,
            _ = self.usr1.recv() => {
                tokio::select! {
                    biased;
                    _ = self.term.recv() => {}
                    _ = self.int.recv() => {}
                    _ = engine.soft_stop() => {}
                }
                ExitCode::SUCCESS
            }
        }
    }
}

/// Forks into the background: the parent exits, the child leaves the
/// terminal's session and, unless `-V`, lets go of the standard streams so
/// that whoever started it (a shell, a pipe) is not held open. Must run
/// before any thread exists.
fn daemonize(detach_stdio: bool) -> std::io::Result<()> {
    // SAFETY: called from main before the tokio runtime starts, so the
    // process has a single thread and fork is sound.
    match unsafe { libc::fork() } {
        -1 => Err(std::io::Error::last_os_error()),
        0 => {
            // SAFETY: setsid has no memory effects.
            unsafe { libc::setsid() };
            if detach_stdio {
                let null = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open("/dev/null")?;
                use std::os::fd::AsRawFd;
                for fd in 0..=2 {
                    // SAFETY: dup2 onto the standard descriptors, which we own.
                    unsafe { libc::dup2(null.as_raw_fd(), fd) };
                }
            }
            Ok(())
        }
        _ => std::process::exit(0),
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
