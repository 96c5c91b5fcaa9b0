//! The engine as a process: HAProxy's command line, signals, daemon mode,
//! reload with -sf, the bind address forms, and refusing to start with
//! keywords whose behaviour is not built yet.

use std::process::{Command, Stdio};
use std::time::Duration;

use xtests::{
    ask, config_file, free_port, hold, run, wait_exit, wait_listening, wait_until, NameServer,
    ProxyProcess,
};

fn tcp_config(binds: &str, server_port: u16) -> String {
    format!(
        "defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s

listen app
{binds}
    server s1 127.0.0.1:{server_port}
"
    )
}

#[test]
fn check_mode_exit_codes() {
    let engine = xtests::engine_bin!();
    let valid = config_file("valid", &tcp_config("    bind 127.0.0.1:1", 2));
    assert_eq!(
        run(&engine, &["-c", "-f", valid.to_str().unwrap()]),
        (0, "Configuration file is valid\n".into())
    );

    let no_listener = config_file(
        "nolistener",
        "defaults\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\nbackend be\n    server s1 127.0.0.1:2\n",
    );
    let (code, out) = run(&engine, &["-c", "-f", no_listener.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}");

    // A stats socket is a listener: HAProxy's -c calls it valid.
    let sock = config_file("statsonly", "").with_file_name("api.sock");
    let stats_only = config_file(
        "statsonly",
        &format!("global\n    stats socket {} level admin\n", sock.display()),
    );
    let checked = |bin: &std::path::Path| run(bin, &["-c", "-f", stats_only.to_str().unwrap()]);
    assert_eq!(
        xtests::side_by_side(&xtests::proxies!(), "stats socket only", checked),
        (0, "Configuration file is valid\n".into())
    );

    let broken = config_file("broken", "frontend fe\n    bind*:80\n");
    let (code, out) = run(&engine, &["-c", "-f", broken.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "parsing [{}:2] : unknown keyword 'bind*:80' in 'frontend' section; did you mean 'bind' maybe ?",
            broken.display()
        )),
        "{out}"
    );
}

#[test]
fn keywords_not_built_yet_stop_the_start_naming_file_and_line() {
    let cfg = config_file(
        "unimpl",
        "defaults\n    compression algo gzip\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\nlisten app\n    bind 127.0.0.1:1\n    server s1 127.0.0.1:2\n",
    );
    let (code, out) = run(
        &xtests::engine_bin!(),
        &["-db", "-f", cfg.to_str().unwrap()],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not implemented yet"), "{out}");
    assert!(out.contains(&format!("{}:2", cfg.display())), "{out}");
}

#[test]
fn bind_forms_port_ranges_several_addresses_and_unix_sockets() {
    let server = NameServer::start("s1", 0);
    let (a, b, c) = (free_port(), free_port(), free_port());
    let sock = std::env::temp_dir().join(format!("xtests-engine-{}.sock", std::process::id()));
    let binds = format!(
        "    bind 127.0.0.1:{a},ipv4@127.0.0.1:{b}\n    bind ipv6@::1:{c}\n    bind unix@{}",
        sock.display()
    );
    let cfg = config_file("binds", &tcp_config(&binds, server.port));
    let mut proxy = ProxyProcess::start(&xtests::engine_bin!(), &cfg);
    proxy.wait_listening(a, Duration::from_secs(5));
    assert_eq!(ask(a), "s1");
    assert_eq!(ask(b), "s1");
    let mut v6 = std::net::TcpStream::connect(("::1", c)).expect("the IPv6 listener");
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut v6, &mut answer).unwrap();
    assert_eq!(answer, "s1");
    let mut v6 = std::net::TcpStream::connect(("::1", c)).expect("the IPv6 listener");
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut v6, &mut answer).unwrap();
    assert_eq!(answer, "s1");
    let mut unix = std::os::unix::net::UnixStream::connect(&sock).expect("unix listener");
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut unix, &mut answer).unwrap();
    assert_eq!(answer, "s1");
    drop(proxy);
}

#[test]
fn a_port_range_listens_on_every_port() {
    // Find three consecutive free ports.
    let first = loop {
        let p = free_port();
        if p < 65000 && (1..3).all(|i| std::net::TcpListener::bind(("127.0.0.1", p + i)).is_ok()) {
            break p;
        }
    };
    let server = NameServer::start("s1", 0);
    let cfg = config_file(
        "range",
        &tcp_config(
            &format!("    bind 127.0.0.1:{first}-{}", first + 2),
            server.port,
        ),
    );
    let mut proxy = ProxyProcess::start(&xtests::engine_bin!(), &cfg);
    proxy.wait_listening(first + 2, Duration::from_secs(5));
    for port in first..=first + 2 {
        assert_eq!(ask(port), "s1", "port {port}");
    }
}

#[test]
fn an_inherited_socket_is_served_with_fd() {
    use std::os::fd::AsRawFd;
    let server = NameServer::start("s1", 0);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let fd = listener.as_raw_fd();
    // SAFETY: clearing FD_CLOEXEC on a descriptor we own, so the child inherits it.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFD);
        libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC);
    }
    let cfg = config_file("fd", &tcp_config(&format!("    bind fd@{fd}"), server.port));
    let _proxy = ProxyProcess::start(&xtests::engine_bin!(), &cfg);
    drop(listener); // the child holds its own copy
    wait_listening(port, Duration::from_secs(5));
    assert_eq!(ask(port), "s1");
}

#[test]
fn sigusr1_stops_accepting_and_lets_live_connections_finish() {
    let server = NameServer::start_holding("s1", 0);
    let fe = free_port();
    let cfg = config_file(
        "usr1",
        &tcp_config(&format!("    bind 127.0.0.1:{fe}"), server.port),
    );
    let mut proxy = ProxyProcess::start(&xtests::engine_bin!(), &cfg);
    proxy.wait_listening(fe, Duration::from_secs(5));
    let (live, got) = hold(fe, 2, Duration::from_secs(5));
    assert_eq!(got.as_deref(), Some("s1"));

    let mut child = proxy.into_child();
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGUSR1) };
    wait_until(
        Duration::from_secs(5),
        "still accepting after SIGUSR1",
        || std::net::TcpStream::connect(("127.0.0.1", fe)).is_err(),
    );
    assert!(
        child.try_wait().unwrap().is_none(),
        "exited with a live connection"
    );
    drop(live);
    assert_eq!(wait_exit(&mut child, Duration::from_secs(5)), Some(0));
}

#[test]
fn sf_hands_the_port_over_to_a_new_process() {
    let server = NameServer::start("s1", 0);
    let fe = free_port();
    let cfg = config_file(
        "sf",
        &tcp_config(&format!("    bind 127.0.0.1:{fe}"), server.port),
    );
    let mut old = ProxyProcess::start(&xtests::engine_bin!(), &cfg);
    old.wait_listening(fe, Duration::from_secs(5));
    let mut old = old.into_child();
    let mut new = Command::new(xtests::engine_bin!())
        .args([
            "-db",
            "-f",
            cfg.to_str().unwrap(),
            "-sf",
            &old.id().to_string(),
        ])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert_eq!(
        wait_exit(&mut old, Duration::from_secs(5)),
        Some(0),
        "the old process finishes"
    );
    assert_eq!(ask(fe), "s1", "the new process serves");
    let _ = new.kill();
    let _ = new.wait();
}

#[test]
fn daemon_mode_detaches_and_writes_the_pidfile() {
    let server = NameServer::start("s1", 0);
    let fe = free_port();
    let cfg = config_file(
        "daemon",
        &tcp_config(&format!("    bind 127.0.0.1:{fe}"), server.port),
    );
    let pidfile = cfg.with_file_name("engine.pid");
    let status = Command::new(xtests::engine_bin!())
        .args([
            "-D",
            "-p",
            pidfile.to_str().unwrap(),
            "-f",
            cfg.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(
        status.success(),
        "the parent exits 0 once the daemon is forked"
    );
    wait_listening(fe, Duration::from_secs(5));
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(ask(fe), "s1");
    // SAFETY: terminating the daemon we started.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    // SAFETY: signal 0 only probes whether the process exists.
    wait_until(
        Duration::from_secs(5),
        "daemon still running after SIGTERM",
        || unsafe { libc::kill(pid, 0) != 0 },
    );
}

#[test]
fn sigterm_and_sigint_stop_at_once_even_with_live_connections() {
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let server = NameServer::start_holding("s1", 0);
        let fe = free_port();
        let cfg = config_file(
            "term",
            &tcp_config(&format!("    bind 127.0.0.1:{fe}"), server.port),
        );
        let mut proxy = ProxyProcess::start(&xtests::engine_bin!(), &cfg);
        proxy.wait_listening(fe, Duration::from_secs(5));
        let (_live, got) = hold(fe, 2, Duration::from_secs(5));
        assert_eq!(got.as_deref(), Some("s1"));
        assert_eq!(proxy.signal_and_wait(signal), Some(0), "signal {signal}");
    }
}

#[test]
fn a_port_in_use_fails_the_start_with_haproxys_messages() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let cfg = config_file(
        "inuse",
        &format!(
            "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\nlisten app\n    bind 127.0.0.1:{port}\n    server s1 127.0.0.1:1\nfrontend fe\n    bind 127.0.0.1:{port}\n    default_backend app\n"
        ),
    );
    let strip = |out: &str| -> Vec<String> {
        out.lines()
            .filter(|l| !l.starts_with("[NOTICE]"))
            .map(|l| l.split_once(" : ").map_or(l, |(_, m)| m).to_string())
            .collect()
    };
    // HAProxy names the program as invoked in its closing line.
    let closing = |prog: &std::path::Path| {
        format!(
            "[{}.main()] Some protocols failed to start their listeners! Exiting.",
            prog.display()
        )
    };
    let engine = xtests::engine_bin!();
    let (code, ours) = run(&engine, &["-db", "-f", cfg.to_str().unwrap()]);
    assert_eq!(code, 1, "{ours}");
    let path = cfg.display();
    assert_eq!(
        strip(&ours),
        [
            format!("Binding [{path}:7] for proxy app: cannot bind socket (Address already in use) for [127.0.0.1:{port}]"),
            format!("Binding [{path}:10] for frontend fe: cannot bind socket (Address already in use) for [127.0.0.1:{port}]"),
            closing(&engine),
        ]
    );
    if let Some(haproxy) = xtests::haproxy_bin() {
        let (code, theirs) = run(&haproxy, &["-db", "-f", cfg.to_str().unwrap()]);
        assert_eq!(code, 1);
        let mut theirs = strip(&theirs);
        assert_eq!(theirs.pop(), Some(closing(&haproxy)));
        let mut ours = strip(&ours);
        ours.pop();
        assert_eq!(ours, theirs);
    }
}

/// A soft stop under `hard-stop-after`: the stop messages, the hard stop's
/// messages, the exit code, and what the held client sees.
fn hard_stop(binary: &std::path::Path) -> (Vec<String>, Option<i32>, bool) {
    let server = NameServer::start_holding("s1", 0);
    let fe = free_port();
    let cfg = config_file(
        &format!("hardstop-{fe}"),
        &format!(
            "global\n    hard-stop-after 300ms\n\n{}",
            tcp_config(&format!("    bind 127.0.0.1:{fe}"), server.port)
        ),
    );
    let mut proxy = ProxyProcess::start(binary, &cfg);
    // No probe connection: one HAProxy sees closed before its stream
    // reaches the backend counts for the frontend only, so the cumulated
    // counts would depend on timing.
    proxy.wait_bound(fe, Duration::from_secs(5));
    let (mut live, got) = hold(fe, 2, Duration::from_secs(5));
    assert_eq!(got.as_deref(), Some("s1"));
    // SAFETY: signalling our own child.
    unsafe { libc::kill(proxy.pid() as i32, libc::SIGUSR1) };
    proxy.wait_for("hard-stopped", Duration::from_secs(5));
    let pid = format!("({})", proxy.pid());
    let lines = proxy
        .stderr()
        .lines()
        .filter(|l| l.contains("stop") && !l.contains("<HTTPCLIENT>"))
        .map(|l| l.replace(&pid, "(PID)"))
        .collect();
    let mut child = proxy.into_child();
    let code = wait_exit(&mut child, Duration::from_secs(5));
    // The held connection is closed by the stop: reading ends.
    live.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut rest = vec![];
    let closed = std::io::Read::read_to_end(&mut live, &mut rest).is_ok();
    (lines, code, closed)
}

#[test]
fn hard_stop_after_closes_what_a_soft_stop_left() {
    let ours = hard_stop(&xtests::engine_bin!());
    assert_eq!(
        ours.0,
        [
            "[WARNING]  (PID) : Proxy app stopped (cumulated conns: FE: 1, BE: 1).",
            "[WARNING]  (PID) : soft-stop running for too long, performing a hard-stop.",
            "[WARNING]  (PID) : Proxy app hard-stopped (1 remaining conns will be closed).",
        ]
    );
    assert_eq!((ours.1, ours.2), (Some(0), true));
    if let Some(haproxy) = xtests::haproxy_bin() {
        assert_eq!(ours, hard_stop(&haproxy));
    }
}

/// The threads of a running engine started with `nbthread n`.
fn threads_with(n: usize) -> usize {
    let server = NameServer::start("s1", 0);
    let fe = free_port();
    let cfg = config_file(
        &format!("nbthread-{fe}"),
        &format!(
            "global\n    nbthread {n}\n\n{}",
            tcp_config(&format!("    bind 127.0.0.1:{fe}"), server.port)
        ),
    );
    let mut proxy = ProxyProcess::start(&xtests::engine_bin!(), &cfg);
    proxy.wait_listening(fe, Duration::from_secs(5));
    assert_eq!(ask(fe), "s1");
    std::fs::read_dir(format!("/proc/{}/task", proxy.pid()))
        .unwrap()
        .count()
}

#[test]
fn nbthread_sets_the_worker_threads() {
    // The main thread is there either way; each worker adds one.
    assert_eq!(threads_with(3) - threads_with(1), 2);
}

/// The signals HAProxy answers without stopping, side by side: SIGHUP
/// dumps every server's state and every proxy's on stderr (and to the
/// logs), SIGUSR2 changes nothing outside master-worker mode; then
/// SIGUSR1 stops as usual.
#[test]
fn sighup_dumps_server_states_and_sigusr2_changes_nothing() {
    let session = |bin: &std::path::Path| {
        let up = NameServer::start("s2", 0);
        let down = free_port();
        let fe = free_port();
        let cfg = config_file(
            "sighup",
            &format!(
                "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
                 frontend fe\n    bind 127.0.0.1:{fe}\n    default_backend be\n\
                 backend be\n    server s1 127.0.0.1:{down} disabled\n    server s2 127.0.0.1:{} backup\n",
                up.port
            ),
        );
        let mut proxy = ProxyProcess::start(bin, &cfg);
        // The probe of wait_listening is the first connection, this the
        // second: both to the backup, s1 being in maintenance.
        proxy.wait_listening(fe, Duration::from_secs(5));
        assert_eq!(ask(fe), "s2");
        let pid = proxy.pid() as i32;
        // SAFETY: signalling our own child.
        unsafe { libc::kill(pid, libc::SIGHUP) };
        proxy.wait_for("SIGHUP: Proxy be ", Duration::from_secs(5));
        // SAFETY: as above.
        unsafe { libc::kill(pid, libc::SIGUSR2) };
        // Still serving after SIGUSR2: a connection is answered.
        assert_eq!(ask(fe), "s2");
        // Connections still open at the dump (a client's close not yet
        // seen) are the machine's timing: the live counts are masked.
        let dump: Vec<String> = xtests::check_messages(&proxy.stderr())
            .into_iter()
            .filter(|l| l.contains("SIGHUP") && !l.contains("<HTTPCLIENT>"))
            .map(|l| mask_live(&l))
            .collect();
        (dump, proxy.signal_and_wait(libc::SIGUSR1))
    };
    let (dump, code) = xtests::side_by_side(&xtests::proxies!(), "SIGHUP dump", session);
    assert_eq!(code, Some(0));
    assert_eq!(
        dump,
        [
            "[WARNING]  (PID) : SIGHUP received, dumping servers states.",
            "[WARNING]  (PID) : SIGHUP: Proxy fe has no servers. Conn: act(FE+BE): *+*, 0 pend (0 unass), tot(FE+BE): 2+0.",
            "[WARNING]  (PID) : SIGHUP: Server be/s1 is DOWN. Conn: * act, 0 pend, 0 tot.",
            "[WARNING]  (PID) : SIGHUP: Server be/s2 is UP. Conn: * act, 0 pend, 2 tot.",
            "[WARNING]  (PID) : SIGHUP: Proxy be is running on backup servers ! Conn: act(FE+BE): *+*, 0 pend (0 unass), tot(FE+BE): 0+2.",
        ]
    );
}

/// A SIGHUP dump line with its live connection counts (`N act`,
/// `act(FE+BE): a+b`) as `*`.
fn mask_live(line: &str) -> String {
    let mut out: Vec<String> = line.split(' ').map(str::to_string).collect();
    for i in 0..out.len() {
        if out.get(i + 1).is_some_and(|w| w == "act,") && out[i].parse::<u64>().is_ok() {
            out[i] = "*".into();
        }
        if out[i] == "act(FE+BE):" {
            if let Some(counts) = out.get_mut(i + 1) {
                *counts = "*+*,".into();
            }
        }
    }
    out.join(" ")
}

/// `-D` binds every listener before it detaches, as HAProxy: a port in use
/// is exit 1 with HAProxy's alerts and no pidfile; in the foreground
/// (`-db`) no pidfile is written; `-L` is accepted.
#[test]
fn daemon_start_fails_visibly_and_pidfiles_are_the_daemons() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let server = NameServer::start("s1", 0);
    let busy = config_file(
        "daemon-busy",
        &tcp_config(&format!("    bind 127.0.0.1:{port}"), server.port),
    );
    let fe = free_port();
    let free = config_file(
        "daemon-fg",
        &tcp_config(&format!("    bind 127.0.0.1:{fe}"), server.port),
    );
    let session = |bin: &std::path::Path| {
        let pidfile = busy.with_file_name(format!("busy-{}.pid", fe));
        let _ = std::fs::remove_file(&pidfile);
        let (code, out) = run(
            bin,
            &[
                "-D",
                "-p",
                pidfile.to_str().unwrap(),
                "-f",
                busy.to_str().unwrap(),
            ],
        );
        let alerts: Vec<String> = xtests::check_messages(&out)
            .into_iter()
            .filter(|l| l.starts_with("[ALERT]") && !l.contains(".main()]"))
            .collect();
        let busy_pidfile = pidfile.exists();
        // The foreground: serving, no pidfile.
        let fg_pidfile = free.with_file_name(format!("fg-{}.pid", fe));
        let _ = std::fs::remove_file(&fg_pidfile);
        let mut proxy = ProxyProcess::start_with(
            bin,
            &free,
            &["-p", fg_pidfile.to_str().unwrap(), "-L", "peer1"],
        );
        proxy.wait_listening(fe, Duration::from_secs(5));
        let answered = ask(fe);
        let fg = fg_pidfile.exists();
        let stopped = proxy.signal_and_wait(libc::SIGUSR1);
        (code, alerts, busy_pidfile, answered, fg, stopped)
    };
    let (code, alerts, busy_pidfile, answered, fg_pidfile, stopped) =
        xtests::side_by_side(&xtests::proxies!(), "-D and pidfiles", session);
    assert_eq!(code, 1);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(alerts[0].contains("cannot bind socket (Address already in use)"));
    assert!(
        !busy_pidfile,
        "no pidfile naming a process that did not start"
    );
    assert_eq!(answered, "s1");
    assert!(!fg_pidfile, "a foreground process writes no pidfile");
    assert_eq!(stopped, Some(0));
}
