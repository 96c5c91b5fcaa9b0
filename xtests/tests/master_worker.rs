//! The master-worker mode (`-W`, `-Ws`, `-S`) side by side with HAProxy
//! 2.6: what the master says at start, reload, failed reload and stop, the
//! master CLI (`show proc`, `help`, `@` routing), a worker killed under it;
//! then what the engine does beyond HAProxy (the servers' states carried
//! to the new worker) and the distribution's haproxy.service driving the
//! engine, its sd_notify messages read as systemd reads them.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use xtests::{config_file, free_port, wait_answering, wait_until, NameServer, ProxyProcess};

const WAIT: Duration = Duration::from_secs(10);

/// One exchange with a master CLI: the line, then end of input; the
/// whole answer.
fn mcli(socket: &Path, line: &str) -> String {
    let mut s = xtests::connect_unix(socket, WAIT);
    s.set_read_timeout(Some(WAIT)).unwrap();
    // HAProxy's master may be executing itself (into its wait mode) just
    // as the connection came: it ends unanswered, and callers that need
    // an answer ask again.
    if s.write_all(format!("{line}\n").as_bytes()).is_err()
        || s.shutdown(std::net::Shutdown::Write).is_err()
    {
        return String::new();
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

fn tcp_config(port: u16, server: u16, extra_global: &str) -> String {
    format!(
        "global\n{extra_global}\
defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s

listen app
    bind 127.0.0.1:{port}
    server s1 127.0.0.1:{server}
"
    )
}

/// A master, its stderr watched, with its master CLI socket.
struct Master {
    proc: ProxyProcess,
    cli: PathBuf,
}

impl Master {
    fn start(binary: &Path, config: &Path, tag: &str, extra: &[&str]) -> Master {
        let cli = config.with_file_name(format!("{tag}-master.sock"));
        let _ = std::fs::remove_file(&cli);
        let mut args = vec!["-W", "-S", cli.to_str().unwrap()];
        args.extend_from_slice(extra);
        let proc = ProxyProcess::start_with(binary, config, &args);
        proc.wait_for("Loading success.", WAIT);
        Master { proc, cli }
    }

    fn pid(&self) -> u32 {
        self.proc.pid()
    }

    fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(self.pid() as i32, sig) };
    }

    /// The master's own stderr lines, pids masked, without the banner
    /// HAProxy prints when a start had messages.
    fn lines(&self) -> Vec<String> {
        let me = format!("({})", self.pid());
        self.proc
            .stderr()
            .lines()
            .filter(|l| l.contains(&me))
            .filter(|l| !l.contains(" version is ") && !l.contains("path to executable"))
            .map(mask_pids)
            .collect()
    }

    /// Waits until `needle` has been said `n` times.
    fn wait_for_nth(&self, needle: &str, n: usize) {
        let deadline = Instant::now() + WAIT;
        while self.proc.stderr().matches(needle).count() < n {
            assert!(
                Instant::now() < deadline,
                "{n} × {needle:?} within {WAIT:?}; stderr:\n{}",
                self.proc.stderr()
            );
            std::thread::sleep(Duration::from_millis(10)); // the poll interval
        }
    }

    fn worker_pid(&self) -> u32 {
        Master::worker_of(&self.cli)
    }
}

/// `[NOTICE]   (123) : New worker (456) forked` → `... (PID) ... (PID) ...`.
fn mask_pids(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(open) = rest.find('(') {
        out.push_str(&rest[..=open]);
        rest = &rest[open + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && rest[digits..].starts_with(')') {
            out.push_str("PID");
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

/// `show proc` with its pids, uptimes and versions masked, as words.
fn proc_shape(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            if words.first().is_some_and(|w| w.parse::<u32>().is_ok()) {
                let mut w: Vec<String> = words.iter().map(|s| s.to_string()).collect();
                w[0] = "PID".into();
                let n = w.len();
                w[n - 1] = "VERSION".into();
                w[n - 2] = "UPTIME".into();
                w
            } else {
                words.iter().map(|s| s.to_string()).collect()
            }
        })
        .collect()
}

#[derive(Debug, PartialEq)]
struct Life {
    start: Vec<String>,
    help: String,
    proc_started: Vec<Vec<String>>,
    unknown_target: String,
    unknown_pid: String,
    unknown: Vec<String>,
    state_head: Vec<String>,
    reload: Vec<String>,
    proc_reloaded: Vec<Vec<String>>,
    failed: Vec<String>,
    proc_failed: Vec<Vec<String>>,
    stop: Vec<String>,
    code: Option<i32>,
    served_after_failure: bool,
}

fn life(binary: &Path) -> Life {
    let server = NameServer::start("s1", 0);
    let port = free_port();
    let cfg_text = tcp_config(port, server.port, "");
    let cfg = config_file("mw-life", &cfg_text);
    let master = Master::start(binary, &cfg, "life", &[]);
    wait_answering(port, WAIT);
    let start = master.lines();
    let help = mcli(&master.cli, "help");
    let proc_started = proc_shape(&mcli(&master.cli, "show proc"));
    let unknown_target = mcli(&master.cli, "@5 show info");
    let unknown_pid = mcli(&master.cli, "@!1 show info");
    let unknown = ["foobar", "show info", "", "help show", "show proc\nfoo"]
        .iter()
        .map(|line| mcli(&master.cli, line))
        .map(|answer| {
            // Only the list: show proc's lines carry pids and uptimes.
            answer
                .lines()
                .filter(|l| !l.starts_with(|c: char| c.is_ascii_digit()))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    let state_head: Vec<String> = mcli(&master.cli, "@1 show servers state")
        .lines()
        .take(2)
        .map(str::to_string)
        .collect();

    let first = master.worker_pid();
    master.signal(libc::SIGUSR2);
    master.wait_for_nth("Loading success.", 2);
    master.wait_for(&format!("Former worker ({first}) exited"));
    let before = master.lines().len();
    let reload = master.lines()[start.len()..before].to_vec();
    let proc_reloaded = proc_shape(&mcli(&master.cli, "show proc"));

    std::fs::write(&cfg, format!("{cfg_text}    bogus_keyword\n")).unwrap();
    master.signal(libc::SIGUSR2);
    master.wait_for_nth("Loading failure!", 1);
    let failed = master.lines()[before..].to_vec();
    let proc_failed = proc_shape(&mcli(&master.cli, "show proc"));
    let served_after_failure = wait_answering(port, WAIT) == "s1";

    let said = master.lines().len();
    let mut master = master;
    master.signal(libc::SIGTERM);
    let code = master.proc.wait_exit(WAIT);
    master.wait_for("All workers exited.");
    let stop = master.lines()[said..].to_vec();
    Life {
        start,
        help,
        proc_started,
        unknown_target,
        unknown_pid,
        unknown,
        state_head,
        reload,
        proc_reloaded,
        failed,
        proc_failed,
        stop,
        code,
        served_after_failure,
    }
}

impl Master {
    fn wait_for(&self, needle: &str) {
        self.proc.wait_for(needle, WAIT);
    }
}

#[test]
fn start_reload_failed_reload_and_stop_as_haproxy() {
    let ours = xtests::side_by_side(&xtests::proxies!(), "master-worker life", life);
    assert_eq!(
        ours.start,
        [
            "[NOTICE]   (PID) : New worker (PID) forked",
            "[NOTICE]   (PID) : Loading success."
        ]
    );
    assert!(ours.served_after_failure);
}

#[derive(Debug, PartialEq)]
struct Killed {
    lines: Vec<String>,
    code: Option<i32>,
}

/// A worker killed under its master takes the master down, as HAProxy's
/// exit-on-failure does, with the worker's status.
fn killed(binary: &Path) -> Killed {
    let port = free_port();
    let cfg = config_file("mw-killed", &tcp_config(port, 9, ""));
    let mut master = Master::start(binary, &cfg, "killed", &[]);
    let said = master.lines().len();
    // SAFETY: kill(2) on the worker, our grandchild.
    unsafe { libc::kill(master.worker_pid() as i32, libc::SIGKILL) };
    let code = master.proc.wait_exit(WAIT);
    master.wait_for("All workers exited.");
    Killed {
        lines: master.lines()[said..].to_vec(),
        code,
    }
}

#[test]
fn a_killed_worker_takes_the_master_down_as_haproxy() {
    let ours = xtests::side_by_side(&xtests::proxies!(), "a killed worker", killed);
    assert_eq!(ours.code, Some(137));
}

/// The servers' states of the old worker are the new worker's from its
/// first moment (HAProxy 2.6 needs a server-state-file for that; the
/// engine's master carries them).
#[test]
fn a_reload_keeps_servers_down_or_in_maintenance_at_once() {
    let port = free_port();
    let closed = free_port();
    let up = NameServer::start("s2", 0);
    let text = format!(
        "defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s

listen app
    bind 127.0.0.1:{port}
    server s1 127.0.0.1:{closed} check inter 60s
    server s2 127.0.0.1:{} check inter 60s
    server s3 127.0.0.1:{} weight 5
",
        up.port, up.port
    );
    let cfg = config_file("mw-state", &text);
    let master = Master::start(&xtests::engine_bin!(), &cfg, "state", &[]);
    master.wait_for("Server app/s1 is DOWN");
    assert_eq!(mcli(&master.cli, "@1 set server app/s2 state maint"), "\n");
    assert_eq!(mcli(&master.cli, "@1 set server app/s3 weight 3"), "\n");
    let before = mcli(&master.cli, "@1 show servers state");
    let first = master.worker_pid();
    master.signal(libc::SIGUSR2);
    master.wait_for_nth("Loading success.", 2);
    // The new worker's first answer: checks run every minute, so nothing
    // but the carried states can have put them there.
    let after = mcli(&master.cli, "@1 show servers state");
    assert_ne!(master.worker_pid(), first);
    let columns = |dump: &str| -> Vec<Vec<String>> {
        dump.lines()
            .skip(2)
            .filter(|l| !l.is_empty())
            // name, op state, admin state, user weight
            .map(|l| {
                let f: Vec<&str> = l.split(' ').collect();
                [3, 5, 6, 7].iter().map(|&i| f[i].to_string()).collect()
            })
            .collect()
    };
    assert_eq!(
        columns(&after),
        [
            ["s1", "0", "0", "1"],
            ["s2", "0", "1", "1"],
            ["s3", "2", "0", "3"]
        ]
    );
    assert_eq!(columns(&after), columns(&before));
    master.wait_for("Server app/s1 is DOWN, changed from server-state after a reload.");
}

/// systemd's notification socket, as the test plays systemd.
struct Notifications {
    socket: std::os::unix::net::UnixDatagram,
    path: PathBuf,
    seen: Vec<String>,
}

impl Notifications {
    fn bind(dir: &Path) -> Notifications {
        let path = dir.join("notify.sock");
        let _ = std::fs::remove_file(&path);
        let socket = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        Notifications {
            socket,
            path,
            seen: vec![],
        }
    }

    /// Waits for a message with `needle`, keeping every message read.
    fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        let mut buf = [0u8; 4096];
        loop {
            if let Some(m) = self.seen.iter().find(|m| m.contains(needle)) {
                let m = m.clone();
                // What was read up to this one is consumed.
                let at = self.seen.iter().position(|s| *s == m).unwrap();
                self.seen.drain(..=at);
                return m;
            }
            assert!(
                Instant::now() < deadline,
                "no notification with {needle:?}; got {:?}",
                self.seen
            );
            if let Ok(n) = self.socket.recv(&mut buf) {
                self.seen
                    .push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        }
    }
}

/// The `[Service]` settings of a unit file, `Key=Value` in order.
fn service_settings(unit: &str) -> Vec<(String, String)> {
    let mut in_service = false;
    let mut out = vec![];
    for line in unit.lines().map(str::trim) {
        if line.starts_with('[') {
            in_service = line == "[Service]";
        } else if in_service && !line.starts_with('#') {
            if let Some((k, v)) = line.split_once('=') {
                out.push((k.to_string(), v.to_string()));
            }
        }
    }
    out
}

/// `"A=1" "B=x y"` → pairs, as systemd reads `Environment=`.
fn environment(value: &str) -> Vec<(String, String)> {
    let mut out = vec![];
    let mut rest = value.trim();
    while !rest.is_empty() {
        let (item, tail) = if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').expect("closing quote");
            (&quoted[..end], &quoted[end + 1..])
        } else {
            rest.split_once(' ').unwrap_or((rest, ""))
        };
        if let Some((k, v)) = item.split_once('=') {
            out.push((k.to_string(), v.to_string()));
        }
        rest = tail.trim_start();
    }
    out
}

/// An `Exec*=` command line with `$VAR` (split on spaces, as systemd
/// does) and `${VAR}` expanded.
fn command_line(line: &str, vars: &[(String, String)]) -> Vec<String> {
    let get = |name: &str| {
        vars.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut words = vec![];
    for word in line.split_whitespace() {
        if let Some(name) = word.strip_prefix("${").and_then(|w| w.strip_suffix('}')) {
            words.push(get(name));
        } else if let Some(name) = word.strip_prefix('$') {
            words.extend(get(name).split_whitespace().map(str::to_string));
        } else {
            words.push(word.to_string());
        }
    }
    words
}

fn alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid as i32, 0) == 0 }
}

/// The distribution's own haproxy.service, its binary path changed, runs
/// the engine as systemd would: ExecStart with NOTIFY_SOCKET until
/// READY=1, the two ExecReload lines with $MAINPID, then the stop
/// (KillMode=mixed: SIGTERM to the main process) with an exit status the
/// unit counts as success.
#[test]
fn the_distributions_haproxy_service_starts_reloads_and_stops_the_engine() {
    let Some(unit_path) = xtests::installed(
        "haproxy.service",
        &[
            "/lib/systemd/system/haproxy.service",
            "/usr/lib/systemd/system/haproxy.service",
        ],
        "the unit file test",
    ) else {
        return;
    };
    let unit = std::fs::read_to_string(&unit_path).unwrap();
    let engine = xtests::engine_bin!();
    let unit = unit.replace("/usr/sbin/haproxy", engine.to_str().unwrap());
    let settings = service_settings(&unit);
    let get = |key: &str| -> Vec<String> {
        settings
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    };
    assert_eq!(get("Type"), ["notify"]);
    let server = NameServer::start("s1", 0);
    let port = free_port();
    let cfg = config_file("mw-unit", &tcp_config(port, server.port, ""));
    let dir = cfg.parent().unwrap().to_path_buf();
    let mut vars: Vec<(String, String)> = get("Environment")
        .iter()
        .flat_map(|e| environment(e))
        .collect();
    // What /etc/default/haproxy (the EnvironmentFile) would set here.
    let pidfile = dir.join("haproxy.pid");
    let master_sock = dir.join("master.sock");
    let _ = std::fs::remove_file(&master_sock);
    vars.push(("CONFIG".into(), cfg.display().to_string()));
    vars.push(("PIDFILE".into(), pidfile.display().to_string()));
    vars.push(("EXTRAOPTS".into(), format!("-S {}", master_sock.display())));
    let mut notify = Notifications::bind(&dir);

    for pre in get("ExecStartPre") {
        let argv = command_line(&pre, &vars);
        let status = Command::new(&argv[0]).args(&argv[1..]).status().unwrap();
        assert!(status.success(), "{argv:?}");
    }
    let start = command_line(&get("ExecStart")[0], &vars);
    let mut main = Command::new(&start[0])
        .args(&start[1..])
        .env("NOTIFY_SOCKET", &notify.path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let main_pid = main.id();
    let ready = notify.wait_for("READY=1");
    assert!(ready.contains(&format!("MAINPID={main_pid}")), "{ready}");
    assert_eq!(wait_answering(port, WAIT), "s1");
    assert_eq!(
        std::fs::read_to_string(&pidfile).unwrap(),
        format!("{main_pid}\n")
    );
    vars.push(("MAINPID".into(), main_pid.to_string()));
    let worker = Master::worker_of(&master_sock);

    for reload in get("ExecReload") {
        let argv = command_line(&reload, &vars);
        let status = Command::new(&argv[0])
            .args(&argv[1..])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "{argv:?}");
    }
    notify.wait_for("RELOADING=1");
    notify.wait_for("READY=1");
    wait_until(WAIT, "the old worker leaves", || !alive(worker));
    assert_eq!(wait_answering(port, WAIT), "s1");
    let new_worker = Master::worker_of(&master_sock);
    assert_ne!(new_worker, worker);

    // KillMode=mixed: SIGTERM to the main process alone.
    assert_eq!(get("KillMode"), ["mixed"]);
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(main_pid as i32, libc::SIGTERM) };
    notify.wait_for("STOPPING=1");
    let code = xtests::wait_exit(&mut main, WAIT).expect("an exit status");
    let success: Vec<i32> = get("SuccessExitStatus")
        .iter()
        .flat_map(|v| v.split_whitespace().map(|c| c.parse::<i32>().unwrap()))
        .chain([0])
        .collect();
    assert!(success.contains(&code), "exit status {code}");
    assert!(!alive(new_worker), "the worker is gone with its master");
}

impl Master {
    /// The current worker's pid, from a master CLI socket.
    fn worker_of(socket: &Path) -> u32 {
        // HAProxy's master executes itself once more after "Loading
        // success." (into its wait mode), closing its CLI meanwhile: a
        // connection at that moment ends unanswered.
        let mut proc = String::new();
        wait_until(WAIT, "the master CLI answers show proc", || {
            proc = mcli(socket, "show proc");
            !proc.is_empty()
        });
        let line = proc
            .lines()
            .skip_while(|l| *l != "# workers")
            .nth(1)
            .unwrap_or_else(|| panic!("a worker in\n{proc}"));
        line.split_whitespace().next().unwrap().parse().unwrap()
    }
}

#[derive(Debug, PartialEq)]
struct Outlived {
    lines: Vec<String>,
    prompt_after_failure: String,
}

/// `mworker-max-reloads 1`: a worker held by a connection through two
/// reloads is terminated; a failed reload shows in the master's prompt.
fn outlived(binary: &Path) -> Outlived {
    // A server that takes connections and never answers: a request in
    // flight keeps its worker.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let port = free_port();
    let text = format!(
        "global
    mworker-max-reloads 1
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s

listen app
    bind 127.0.0.1:{port}
    server s1 127.0.0.1:{silent_port}
"
    );
    let cfg = config_file("mw-outlived", &text);
    let master = Master::start(binary, &cfg, "outlived", &[]);
    let first = master.worker_pid();
    let mut held = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    held.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        .unwrap();
    let (_server_side, _) = silent.accept().unwrap();
    let said = master.lines().len();
    master.signal(libc::SIGUSR2);
    master.wait_for_nth("Loading success.", 2);
    // HAProxy's master is ready for the next reload once its CLI answers
    // again (it executes itself into its wait mode after a load).
    master.worker_pid();
    master.signal(libc::SIGUSR2);
    master.wait_for_nth("Loading success.", 3);
    master.wait_for(&format!("Former worker ({first}) exited"));
    master.wait_for_nth("Former worker", 2);
    // The two leave at about the same time, in either order.
    let mut lines: Vec<String> = master.lines()[said..]
        .iter()
        .filter(|l| l.contains("Former worker"))
        .cloned()
        .collect();
    lines.sort();
    std::fs::write(&cfg, format!("{text}    bogus_keyword\n")).unwrap();
    master.signal(libc::SIGUSR2);
    master.wait_for_nth("Loading failure!", 1);
    let prompt_after_failure = mcli(&master.cli, "prompt");
    Outlived {
        lines,
        prompt_after_failure,
    }
}

#[test]
fn mworker_max_reloads_terminates_old_workers_as_haproxy() {
    let ours = xtests::side_by_side(&xtests::proxies!(), "mworker-max-reloads", outlived);
    // The held one is terminated; the one between reloads left by itself.
    assert_eq!(
        ours.lines,
        [
            "[WARNING]  (PID) : Former worker (PID) exited with code 0 (Exit)",
            "[WARNING]  (PID) : Former worker (PID) exited with code 143 (Terminated)"
        ]
    );
    assert_eq!(ours.prompt_after_failure, "master[ReloadFailed]> ");
}

#[derive(Debug, PartialEq)]
struct Paused {
    lines: Vec<String>,
    refused_while_paused: bool,
    answered_after: String,
}

/// SIGTTOU and SIGTTIN to the master reach the worker, whose listeners
/// pause (new connections are refused, as HAProxy disconnects the
/// socket) and resume.
fn paused(binary: &Path) -> Paused {
    let server = NameServer::start("s1", 0);
    let port = free_port();
    let sock = config_file("mw-paused-api", "").with_file_name("api.sock");
    let _ = std::fs::remove_file(&sock);
    let text = tcp_config(
        port,
        server.port,
        &format!("    stats socket {} level admin\n", sock.display()),
    );
    let cfg = config_file("mw-paused", &text);
    let master = Master::start(binary, &cfg, "paused", &[]);
    assert_eq!(wait_answering(port, WAIT), "s1");
    let worker = format!("({})", master.worker_pid());
    master.signal(libc::SIGTTOU);
    master.wait_for("Paused frontend GLOBAL.");
    let refused_while_paused = std::net::TcpStream::connect(("127.0.0.1", port))
        .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionRefused);
    master.signal(libc::SIGTTIN);
    master.wait_for("Resumed frontend GLOBAL.");
    let answered_after = wait_answering(port, WAIT);
    let lines = master
        .proc
        .stderr()
        .lines()
        .filter(|l| l.contains(&worker) && (l.contains("Paused") || l.contains("Resumed")))
        .map(mask_pids)
        .collect();
    Paused {
        lines,
        refused_while_paused,
        answered_after,
    }
}

#[test]
fn sigttou_and_sigttin_pause_and_resume_the_workers_listeners_as_haproxy() {
    let ours = xtests::side_by_side(&xtests::proxies!(), "pause and resume", paused);
    assert_eq!(
        ours.lines,
        [
            "[WARNING]  (PID) : Paused proxy app.",
            "[WARNING]  (PID) : Paused frontend GLOBAL.",
            "[WARNING]  (PID) : Resumed proxy app.",
            "[WARNING]  (PID) : Resumed frontend GLOBAL."
        ]
    );
    assert!(ours.refused_while_paused);
    assert_eq!(ours.answered_after, "s1");
}
