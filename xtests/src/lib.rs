//! Helpers for tests over real sockets: small real servers, a proxy process
//! (ours or HAProxy) whose stderr is watched, and a client.
//!
//! Every wait is bounded by a deadline, and waits on an event (a line on
//! stderr, a connection answered), never on a bare sleep.

pub mod conversation;
pub mod csv;
pub mod http;
pub mod recorder;
pub mod smuggle;
pub mod syslog;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The engine binary built from this workspace. A macro, because cargo
/// tells only integration tests where the binary is.
#[macro_export]
macro_rules! engine_bin {
    () => {
        std::path::PathBuf::from(env!("CARGO_BIN_EXE_engine-under-test"))
    };
}

/// The reference binary, HAProxy 2.6, when installed. Tests that compare
/// with it fail when it is missing and `XTESTS_REQUIRE_HAPROXY` is set (CI
/// sets it), and are skipped with a note otherwise.
pub fn haproxy_bin() -> Option<PathBuf> {
    installed(
        "haproxy",
        &[
            "/usr/sbin/haproxy",
            "/usr/bin/haproxy",
            "/usr/local/sbin/haproxy",
        ],
        "the comparison with it",
    )
}

/// The first of `paths` that exists. When none does, CI (which sets
/// `XTESTS_REQUIRE_HAPROXY` and installs every such program) fails;
/// elsewhere the caller skips `skipping`, with a note.
pub fn installed(name: &str, paths: &[&str], skipping: &str) -> Option<PathBuf> {
    let found = paths.iter().map(PathBuf::from).find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var_os("XTESTS_REQUIRE_HAPROXY").is_none(),
            "XTESTS_REQUIRE_HAPROXY is set but {name} is not installed"
        );
        eprintln!("note: {name} not installed, skipping {skipping}");
    }
    found
}

/// Both proxies to compare, HAProxy first when installed, then the engine.
#[macro_export]
macro_rules! proxies {
    () => {
        $crate::haproxy_bin()
            .into_iter()
            .chain(std::iter::once($crate::engine_bin!()))
            .collect::<Vec<std::path::PathBuf>>()
    };
}

/// The same session on each of `proxies` (`proxies!()`: HAProxy 2.6 when
/// installed, then the engine), one after the other: asserts that the
/// engine's result equals HAProxy's and returns the engine's, for the
/// test's own checks. `what` names the comparison when they differ.
pub fn side_by_side<T: PartialEq + std::fmt::Debug>(
    proxies: &[PathBuf],
    what: &str,
    mut run: impl FnMut(&Path) -> T,
) -> T {
    let (engine_bin, reference) = proxies.split_last().expect("the engine runs");
    let theirs = reference.first().map(|bin| (bin, run(bin)));
    let ours = run(engine_bin);
    if let Some((bin, theirs)) = theirs {
        assert_eq!(
            ours,
            theirs,
            "{what}: {} (left) and {} (right) differ",
            engine_bin.display(),
            bin.display()
        );
    }
    ours
}

/// Writes a configuration file in a directory of its own under the temp
/// directory (`tag` and the test process id keep concurrent tests apart).
pub fn config_file(tag: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xtests-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("haproxy.cfg");
    std::fs::write(&path, text).expect("write config");
    path
}

/// The workspace root (for examples/).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A port that was free a moment ago on 127.0.0.1, and that no other test
/// of this process was given: the proxies listen with SO_REUSEPORT, so two
/// tests handed the same port would both bind it and share each other's
/// clients instead of failing.
pub fn free_port() -> u16 {
    static GIVEN: Mutex<std::collections::BTreeSet<u16>> =
        Mutex::new(std::collections::BTreeSet::new());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        if GIVEN.lock().unwrap().insert(port) {
            return port;
        }
    }
}

/// What a name server does with each connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Answer,
    ReadThenAnswer,
    Hold,
}

/// A real server that answers every connection with its name and closes.
/// Dropping it (or `stop`) closes the listener: connections are refused.
pub struct NameServer {
    pub port: u16,
    name: String,
    stop: Arc<Mutex<bool>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl NameServer {
    /// Listens on `port`; 0 takes one the system picks, held from the
    /// start (a port found free a moment earlier may be taken meanwhile by
    /// another test's connection).
    pub fn start(name: &str, port: u16) -> NameServer {
        Self::spawn(name, port, Mode::Answer)
    }

    /// Like `start`, but reads one byte of request before answering, so
    /// the client's bytes never meet a closed socket (which would reset).
    pub fn start_reading(name: &str, port: u16) -> NameServer {
        Self::spawn(name, port, Mode::ReadThenAnswer)
    }

    /// Like `start`, but each connection stays open until the client
    /// closes it, so it holds a server slot.
    pub fn start_holding(name: &str, port: u16) -> NameServer {
        Self::spawn(name, port, Mode::Hold)
    }

    fn spawn(name: &str, port: u16, mode: Mode) -> NameServer {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind name server");
        let port = listener.local_addr().expect("a bound address").port();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(Mutex::new(false));
        let thread = {
            let stop = stop.clone();
            let name = name.to_string();
            thread::spawn(move || loop {
                if *stop.lock().unwrap() {
                    return; // dropping the listener refuses new connections
                }
                match listener.accept() {
                    Ok((mut s, _)) => {
                        use std::io::Write;
                        let _ = s.set_nonblocking(false);
                        if mode == Mode::ReadThenAnswer {
                            let _ = s.read_exact(&mut [0u8; 1]);
                        }
                        let _ = s.write_all(name.as_bytes());
                        if mode == Mode::Hold {
                            thread::spawn(move || {
                                let mut sink = Vec::new();
                                let _ = s.read_to_end(&mut sink);
                            });
                        }
                    }
                    Err(_) => thread::sleep(Duration::from_millis(2)), // poll interval of a nonblocking accept
                }
            })
        };
        NameServer {
            port,
            name: name.to_string(),
            stop,
            thread: Some(thread),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        *self.stop.lock().unwrap() = true;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for NameServer {
    fn drop(&mut self) {
        self.halt();
    }
}

/// Stderr lines with their arrival time, and a condition to wait on them.
type Lines = Arc<(Mutex<Vec<(Instant, String)>>, Condvar)>;

/// A proxy process (engine or haproxy) with its stderr collected line by line.
pub struct ProxyProcess {
    /// None once handed over with `into_child`.
    child: Option<Child>,
    lines: Lines,
}

impl ProxyProcess {
    /// Starts `binary -f config -db` in the foreground.
    pub fn start(binary: &Path, config: &Path) -> ProxyProcess {
        Self::start_with(binary, config, &[])
    }

    /// Starts `binary -f config -db <extra>` in the foreground.
    pub fn start_with(binary: &Path, config: &Path, extra: &[&str]) -> ProxyProcess {
        let mut child = Command::new(binary)
            .arg("-f")
            .arg(config)
            .arg("-db")
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let stderr = child.stderr.take().unwrap();
        let lines = Arc::new((Mutex::new(vec![]), Condvar::new()));
        {
            let lines = lines.clone();
            thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    let (all, cv) = &*lines;
                    all.lock().unwrap().push((Instant::now(), line));
                    cv.notify_all();
                }
            });
        }
        ProxyProcess {
            child: Some(child),
            lines,
        }
    }

    /// Waits for a stderr line containing `needle`; returns when it came.
    pub fn wait_for(&self, needle: &str, within: Duration) -> Instant {
        let deadline = Instant::now() + within;
        let (all, cv) = &*self.lines;
        let mut guard = all.lock().unwrap();
        loop {
            if let Some((at, _)) = guard.iter().find(|(_, l)| l.contains(needle)) {
                return *at;
            }
            let now = Instant::now();
            assert!(
                now < deadline,
                "no line with {needle:?} within {within:?}; stderr:\n{}",
                render(&guard)
            );
            guard = cv.wait_timeout(guard, deadline - now).unwrap().0;
        }
    }

    /// Waits for `Server <backend>/<server> is <state>` (`DOWN` or
    /// `stopping`) that leaves the backend without a usable server, then
    /// for the alert that follows it, `backend '<backend>' has no server
    /// available!` (HAProxy's set_backend_down; a `listen` section says
    /// `proxy`). HAProxy writes the alert apart from the state change,
    /// after it, and so does the engine: on a busy machine a reader sees
    /// the first line well before the second, so stderr read once the
    /// first is in may still lack the alert.
    pub fn wait_for_backend_down(
        &self,
        backend: &str,
        server: &str,
        state: &str,
        within: Duration,
    ) {
        self.wait_for(&format!("Server {backend}/{server} is {state}"), within);
        self.wait_for(
            &format!("backend '{backend}' has no server available!"),
            within,
        );
    }

    pub fn stderr(&self) -> String {
        render(&self.lines.0.lock().unwrap())
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("child").id()
    }

    /// Waits until the proxy listens on `port`; fails with its stderr if
    /// it exits first.
    pub fn wait_listening(&mut self, port: u16, within: Duration) {
        let child = self.child.as_mut().expect("child");
        let lines = self.lines.clone();
        wait_until(within, &format!("nothing listens on {port}"), || {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "the proxy exited ({status}):\n{}",
                    render(&lines.0.lock().unwrap())
                );
            }
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
    }

    /// Waits until the proxy has a listening socket on `port`, without
    /// connecting to it (read from /proc/net/tcp): the proxy sees no
    /// probe connection, so its first connection is the test's own.
    pub fn wait_bound(&mut self, port: u16, within: Duration) {
        let child = self.child.as_mut().expect("child");
        let lines = self.lines.clone();
        let needle = format!(":{port:04X} ");
        wait_until(within, &format!("nothing bound on {port}"), || {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "the proxy exited ({status}):\n{}",
                    render(&lines.0.lock().unwrap())
                );
            }
            let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
            // local_address is the 2nd column, st (0A = LISTEN) the 4th.
            table.lines().any(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                cols.len() > 3 && format!("{} ", cols[1]).ends_with(&needle) && cols[3] == "0A"
            })
        });
    }

    /// Waits for the process to exit (its stderr stays readable); its
    /// exit code, None when a signal ended it.
    pub fn wait_exit(&mut self, within: Duration) -> Option<i32> {
        let child = self.child.as_mut().expect("child");
        let code = wait_exit(child, within);
        // The reader thread may still hold the last lines.
        let (all, cv) = &*self.lines;
        let _unused = cv.wait_timeout(all.lock().unwrap(), Duration::from_millis(50));
        code
    }

    /// Gives up watching: the caller owns the process from now on.
    pub fn into_child(mut self) -> Child {
        self.child.take().expect("child present until dropped")
    }

    /// Sends a signal and waits for the exit code.
    pub fn signal_and_wait(self, signal: i32) -> Option<i32> {
        let mut child = self.into_child();
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(child.id() as i32, signal) };
        child.wait().ok().and_then(|s| s.code())
    }
}

fn render(lines: &[(Instant, String)]) -> String {
    lines
        .iter()
        .map(|(_, l)| l.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// What `ask` returns when nothing listens.
pub const REFUSED: &str = "<refused>";

/// Connects to the proxy and reads everything until it closes: the name of
/// the server that answered, or "" when the proxy closed without answer.
pub fn ask(port: u16) -> String {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return REFUSED.into();
    };
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// Connects and reads exactly `expect_len` bytes, keeping the connection
/// open: the caller holds it until it drops the stream. Returns None when
/// nothing arrived within `patience`.
pub fn hold(port: u16, expect_len: usize, patience: Duration) -> (TcpStream, Option<String>) {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(patience)).unwrap();
    let mut buf = vec![0u8; expect_len];
    let got = (&s)
        .read_exact(&mut buf)
        .ok()
        .map(|_| String::from_utf8_lossy(&buf).into_owned());
    (s, got)
}

/// Polls `done` until it holds; fails the test, saying `what`, when it
/// still does not after `within`. For state another process owns (a port,
/// a pid), which offers nothing to wait on but polling.
pub fn wait_until(within: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "{what} (waited {within:?})");
        thread::sleep(Duration::from_millis(10)); // the poll interval
    }
}

/// The messages of a `-c` run, comparable across binaries: without the
/// `[NOTICE]` banner, pids masked.
pub fn check_messages(output: &str) -> Vec<String> {
    output
        .lines()
        .filter(|l| !l.starts_with("[NOTICE]"))
        .map(|l| match (l.find('('), l.find(") : ")) {
            (Some(a), Some(b)) if a < b && l.starts_with('[') => {
                format!("{}(PID){}", &l[..a], &l[b + 1..])
            }
            _ => l.to_string(),
        })
        .collect()
}

/// Waits until something listens on `port`. The probe connection is
/// closed at once, so a proxy sees one short connection.
pub fn wait_listening(port: u16, within: Duration) {
    wait_until(within, &format!("nothing listens on {port}"), || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
}

/// Waits until the proxy on `port` answers a whole connection, and returns
/// that answer. Unlike `wait_listening`, the probe is served to the end
/// before the caller goes on, so it cannot race the next connection for a
/// server.
pub fn wait_answering(port: u16, within: Duration) -> String {
    let mut answer = String::new();
    wait_until(within, &format!("nothing answers on {port}"), || {
        answer = ask(port);
        answer != REFUSED
    });
    answer
}

/// Waits for a child to exit; its exit code.
pub fn wait_exit(child: &mut Child, within: Duration) -> Option<i32> {
    let mut code = None;
    wait_until(within, "the process did not exit", || {
        match child.try_wait().unwrap() {
            Some(status) => {
                code = status.code();
                true
            }
            None => false,
        }
    });
    code
}

/// Runs `binary` with `args` to completion: exit code and stdout+stderr.
pub fn run(binary: &Path, args: &[&str]) -> (i32, String) {
    run_in(binary, Path::new("."), args)
}

/// `run`, in the working directory `dir`.
pub fn run_in(binary: &Path, dir: &Path, args: &[&str]) -> (i32, String) {
    let mut child = Command::new(binary)
        .current_dir(dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
    // A run that should end but serves instead must fail, not hang.
    let deadline = Instant::now() + Duration::from_secs(60);
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break Some(status.code().unwrap_or(-1));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(10)); // polling the child's exit
    };
    let mut text = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut text);
    }
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut text);
    }
    let code = code.unwrap_or_else(|| panic!("{} {args:?} did not exit: {text}", binary.display()));
    (code, text)
}

/// A fresh path for a stats socket, in a directory of its own named after
/// `tag` (a test name and a free port make it unique). For before the
/// proxy starts: once it may be binding, name the path with `socket_at`,
/// which removes nothing.
pub fn socket_path(tag: &str) -> PathBuf {
    let path = socket_at(tag);
    std::fs::create_dir_all(path.parent().expect("a directory")).unwrap();
    // A socket left by an earlier run on the same port refuses: it goes
    // (one a running proxy of this test answers on stays).
    if std::os::unix::net::UnixStream::connect(&path).is_err() {
        let _ = std::fs::remove_file(&path);
    }
    path
}

/// The path `socket_path(tag)` gave, as it is. A proxy binds its stats
/// socket after its listeners, so one seen listening may be binding it
/// still: the refused probe of `socket_path` would then remove the socket
/// it has just bound, and nothing would ever answer on the path.
pub fn socket_at(tag: &str) -> PathBuf {
    std::env::temp_dir()
        .join(format!("xtests-{tag}"))
        .join("api.sock")
}

/// Sends one runtime API command line to a stats socket and returns the
/// whole answer (the proxy closes after answering).
pub fn api(socket: &Path, line: &str) -> String {
    // A proxy just started may not have bound its socket yet.
    let mut s = connect_unix(socket, Duration::from_secs(5));
    s.write_all(format!("{line}\n").as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// Connects to a unix socket a proxy serves (or is about to: it may not
/// have bound it yet); fails the test when it does not within `within`,
/// saying why (refused: the proxy is gone; not found: no socket file).
pub fn connect_unix(socket: &Path, within: Duration) -> std::os::unix::net::UnixStream {
    let deadline = Instant::now() + within;
    loop {
        match std::os::unix::net::UnixStream::connect(socket) {
            Ok(s) => return s,
            Err(e) => assert!(
                Instant::now() < deadline,
                "the socket {} answers (waited {within:?}): {e}",
                socket.display()
            ),
        }
        thread::sleep(Duration::from_millis(10)); // the poll interval
    }
}

/// `disable health <backend>/<server>`, then waits until the check that
/// may have been under way is over. Until `enable health` no check talks
/// to the server: it can stop without a check catching it
/// mid-conversation (which would see the connection closed or reset
/// rather than refused).
pub fn pause_checks(socket: &Path, backend: &str, server: &str) {
    let target = format!("{backend}/{server}");
    let answer = api(socket, &format!("disable health {target}"));
    assert_eq!(answer.trim(), "", "disable health {target}");
    wait_until(
        Duration::from_secs(5),
        &format!("the check of {target} under way ends"),
        || {
            let state = api(socket, &format!("show servers state {backend}"));
            !checks_under_way(&state).contains(&target)
        },
    );
}

/// The servers (`backend/server`) of a `show servers state` answer whose
/// check is under way: HAProxy's CHK_ST_INPROGRESS, bit 0x1 of
/// srv_check_state (a check that starts also resets srv_check_result to
/// 0, unknown).
pub fn checks_under_way(answer: &str) -> Vec<String> {
    let mut lines = answer.lines().skip_while(|l| !l.starts_with("# "));
    let Some(header) = lines.next() else {
        return vec![]; // an error message: no server
    };
    let header: Vec<&str> = header.trim_start_matches("# ").split(' ').collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let (backend, server, state) = (
        column("be_name"),
        column("srv_name"),
        column("srv_check_state"),
    );
    lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split(' ').collect::<Vec<_>>())
        .filter(|row| {
            let state: u8 = row[state].parse().expect("srv_check_state is a number");
            state & 0x1 != 0
        })
        .map(|row| format!("{}/{}", row[backend], row[server]))
        .collect()
}

/// `show stat` through a stats socket, as rows of the named columns keyed
/// by (proxy, server).
pub fn stat_columns(
    socket: &Path,
    columns: &[&str],
) -> std::collections::BTreeMap<(String, String), Vec<String>> {
    let stat = api(socket, "show stat");
    let mut lines = stat.lines();
    let header: Vec<&str> = lines
        .next()
        .expect("a header")
        .trim_start_matches("# ")
        .split(',')
        .collect();
    let index: Vec<usize> = columns
        .iter()
        .map(|c| {
            header
                .iter()
                .position(|h| h == c)
                .unwrap_or_else(|| panic!("no column {c}"))
        })
        .collect();
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let row = index.iter().map(|&i| f[i].to_string()).collect();
            ((f[0].to_string(), f[1].to_string()), row)
        })
        .collect()
}

/// check_status, check_code, last_chk and check_desc of every server
/// named `server`, each row read while that server's check was not
/// running (a running check shows `* ` before its status and no
/// last_chk), as (proxy, columns...).
pub fn settled_check_columns(socket: &Path, server: &str, count: usize) -> Vec<Vec<String>> {
    let columns = ["check_status", "check_code", "last_chk", "check_desc"];
    let mut settled: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    wait_until(Duration::from_secs(3), "a settled check per server", || {
        for ((px, sv), row) in stat_columns(socket, &columns) {
            if sv == server && !row[0].starts_with("* ") {
                settled.entry(px).or_insert(row);
            }
        }
        settled.len() == count
    });
    settled
        .into_iter()
        .map(|(px, row)| std::iter::once(px).chain(row).collect())
        .collect()
}

/// The stderr lines that contain any of `needles`, with the pid and
/// check durations (which differ from run to run) masked.
pub fn state_changes(stderr: &str, needles: &[&str]) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| needles.iter().any(|n| l.contains(n)))
        .map(|l| {
            let l = match (l.find('('), l.find(')')) {
                (Some(a), Some(b)) if a < b => format!("{}(PID){}", &l[..a], &l[b + 1..]),
                _ => l.to_string(),
            };
            mask_check_duration(&l)
        })
        .collect()
}

/// A line with its `check duration: 12ms` turned into `check duration:
/// Nms`: how long a check took depends on the machine's load.
pub fn mask_check_duration(line: &str) -> String {
    const AT: &str = "check duration: ";
    match line.find(AT) {
        Some(a) => {
            let digits = a + AT.len();
            let end = line[digits..]
                .find(|c: char| !c.is_ascii_digit())
                .map_or(line.len(), |e| digits + e);
            format!("{}check duration: N{}", &line[..a], &line[end..])
        }
        None => line.to_string(),
    }
}

/// The start of a health-check test's configuration: a stats socket at
/// level admin, defaults in `mode` with `timeout check 300ms` (and
/// `more` lines), and a frontend so that the proxy starts.
pub fn check_config(
    socket: &Path,
    fe: u16,
    mode: &str,
    more: &str,
    default_backend: &str,
) -> String {
    format!(
        "global
    stats socket {} level admin

defaults
    mode {mode}
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout check 300ms
{more}
frontend fe
    bind 127.0.0.1:{fe}
    default_backend {default_backend}
",
        socket.display()
    )
}

/// A state-change line with its count of sessions active masked (`N
/// sessions active`): when a stream on the server counts is a race.
pub fn mask_sessions_active(line: String) -> String {
    match line.find(" sessions active") {
        Some(end) => {
            let start = line[..end].rfind(' ').map_or(end, |s| s + 1);
            format!("{}N{}", &line[..start], &line[end..])
        }
        None => line,
    }
}

/// Starts a TCP connection to 127.0.0.1:`port` without waiting for the
/// handshake: a listener whose backlog is full drops the SYN, and a
/// blocking connect would wait out the retries. The stream is
/// nonblocking; `peer_addr` answers once the handshake completed.
pub fn connect_in_background(port: u16) -> std::io::Result<TcpStream> {
    use std::os::fd::{FromRawFd, OwnedFd};
    // SAFETY: socket(2) with constant arguments.
    let fd = unsafe {
        libc::socket(
            libc::AF_INET,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor that nothing else owns.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let addr = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from_ne_bytes([127, 0, 0, 1]),
        },
        sin_zero: [0; 8],
    };
    // SAFETY: addr is a valid sockaddr_in and its size is passed.
    let rc = unsafe {
        libc::connect(
            fd,
            (&addr as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINPROGRESS) {
            return Err(e);
        }
    }
    Ok(TcpStream::from(owned))
}

/// A listening socket as `ss -l` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenQueue {
    /// `127.0.0.1:80`, or a unix socket's path.
    pub local: String,
    /// Connections completed and waiting for accept (Recv-Q).
    pub queued: u32,
    /// The backlog the socket listens with, as the kernel capped it
    /// (Send-Q).
    pub backlog: u32,
}

/// `ss` (iproute2), when installed: the only view of a listening socket's
/// backlog (/proc/net/tcp does not show it).
pub fn ss_bin() -> Option<PathBuf> {
    installed(
        "ss",
        &["/usr/bin/ss", "/bin/ss", "/usr/sbin/ss", "/sbin/ss"],
        "the listen-queue checks",
    )
}

/// Every listening TCP and unix stream socket of the machine (`ss -ltxnH`).
pub fn listen_queues(ss: &Path) -> Vec<ListenQueue> {
    let out = Command::new(ss)
        .args(["-l", "-t", "-x", "-n", "-H"])
        .output()
        .expect("run ss");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            // [Netid] State Recv-Q Send-Q Local ...
            let words: Vec<&str> = l.split_whitespace().collect();
            let at = words.iter().position(|w| *w == "LISTEN")?;
            Some(ListenQueue {
                queued: words.get(at + 1)?.parse().ok()?,
                backlog: words.get(at + 2)?.parse().ok()?,
                local: words.get(at + 3)?.to_string(),
            })
        })
        .collect()
}
