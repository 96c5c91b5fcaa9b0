//! The servers' states across a restart (`server-state-file`,
//! `server-state-base`, `load-server-state-from-file global|local`,
//! `server-state-file-name`), side by side with HAProxy 2.6: a state
//! dumped with `show servers state` by one run is what the next run
//! starts with, before any check; the warnings about files that cannot
//! be used, and about lines that cannot be applied, are HAProxy's.
//!
//! Both proxies run in the foreground (`-db`) with the same configuration
//! and the same files; what is compared: stderr without the startup
//! banner (pids and the test's directory masked), `show servers state`
//! (the age column and the ports masked) and `show stat` columns.

use std::path::Path;
use std::time::{Duration, Instant};

use xtests::{free_port, NameServer, ProxyProcess};

const WITHIN: Duration = Duration::from_secs(5);

/// The column line of a version 1 state file, as `show servers state`
/// writes it.
const COLUMNS: &str = "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port";

/// A configuration: a stats socket, a frontend on `fe` and backend `be`
/// with `servers`; `global` and `defaults` add lines to those sections.
fn config(socket: &Path, fe: u16, global: &str, defaults: &str, servers: &str) -> String {
    format!(
        "global
    stats socket {sock} level admin
{global}
defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s
{defaults}
frontend fe
    bind 127.0.0.1:{fe}
    default_backend be

backend be
{servers}",
        sock = socket.display(),
    )
}

/// `show servers state`, taken between two checks, with the age column
/// (seconds since the last change: when the command runs, and HAProxy
/// counts it from a clock of its own) blanked and each of `ports` named.
fn servers_state(socket: &Path, ports: &[(u16, &str)]) -> String {
    let mut dump = String::new();
    xtests::wait_until(WITHIN, "a dump between two checks", || {
        dump = xtests::api(socket, "show servers state");
        xtests::checks_under_way(&dump).is_empty()
    });
    mask(&dump, ports)
}

/// Whether every server with a check has had one: none shows
/// srv_check_status 1 (HCHK_STATUS_INI) with its check configured
/// (srv_check_state bit 0x2).
fn checked_once(dump: &str) -> bool {
    dump.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split(' ').collect::<Vec<_>>())
        .filter(|w| w.len() > 13)
        .all(|w| w[10] != "1" || w[13].parse::<u32>().map_or(true, |s| s & 0x2 == 0))
}

/// A dump with the age column blanked and each of `ports` named.
fn mask(dump: &str, ports: &[(u16, &str)]) -> String {
    dump.lines()
        .map(|l| {
            let mut words: Vec<&str> = l.split(' ').collect();
            if words.len() > 10 && !l.starts_with('#') {
                words[9] = "AGE";
            }
            words
                .iter()
                .map(|w| {
                    ports
                        .iter()
                        .find(|(p, _)| p.to_string() == *w)
                        .map_or(*w, |(_, name)| name)
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The proxy's stderr without HAProxy's startup banner, the pid masked
/// and the test's directory written `DIR`.
fn messages(proxy: &ProxyProcess, dir: &Path) -> Vec<String> {
    xtests::check_messages(&proxy.stderr())
        .into_iter()
        .map(|l| l.replace(&dir.display().to_string(), "DIR"))
        .collect()
}

/// Waits, at most `WITHIN`, for a stderr line containing `needle`: the
/// engine says what it restored from a task of its own, soon after it
/// listens. Returns when it came or when the time is over, without
/// failing: the comparison that follows then shows what differs.
fn settle(proxy: &ProxyProcess, needle: &str) {
    let deadline = Instant::now() + WITHIN;
    while !proxy.stderr().contains(needle) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10)); // the poll interval
    }
}

/// What one proxy showed across a restart.
#[derive(Debug, PartialEq)]
struct Restart {
    /// The runtime API's answers in the first run.
    answers: Vec<String>,
    /// `show servers state` of the first run, as it was saved.
    saved: String,
    /// stderr of the first run.
    first: Vec<String>,
    /// stderr of the second run, right after it started.
    second: Vec<String>,
    /// `show servers state` of the second run, right after it started.
    restored: String,
    /// status and weight of each row of `show stat`, same time.
    stat: Vec<String>,
}

/// Runs `servers` once, sends `commands`, waits for `changed` on stderr,
/// saves `show servers state` to a file; then runs the same servers
/// with that file as `server-state-file` and `load-server-state-from-file
/// global`, and looks at them right after the start, once `restored` is
/// on stderr.
fn restart(
    binary: &Path,
    tag: &str,
    servers: &str,
    ports: &[(u16, &str)],
    commands: &[&str],
    changed: &str,
    restored: &str,
) -> Restart {
    let fe = free_port();
    let tag = format!("state-{tag}-{fe}");
    let socket = xtests::socket_path(&format!("{tag}-1"));
    let cfg = xtests::config_file(&tag, &config(&socket, fe, "", "", servers));
    let dir = cfg.parent().expect("a directory").to_path_buf();
    let state_file = dir.join("state");
    let first = ProxyProcess::start(binary, &cfg);
    let answers = commands.iter().map(|c| xtests::api(&socket, c)).collect();
    first.wait_for(changed, WITHIN);
    let mut saved = String::new();
    xtests::wait_until(WITHIN, "a dump between two checks", || {
        saved = xtests::api(&socket, "show servers state");
        xtests::checks_under_way(&saved).is_empty() && checked_once(&saved)
    });
    std::fs::write(&state_file, &saved).expect("save the state");
    let first_messages = messages(&first, &dir);
    drop(first);

    let fe = free_port();
    let socket = xtests::socket_path(&format!("{tag}-2"));
    let cfg = xtests::config_file(
        &format!("{tag}-2"),
        &config(
            &socket,
            fe,
            &format!("    server-state-file {}\n", state_file.display()),
            "    load-server-state-from-file global\n",
            servers,
        ),
    );
    let mut second = ProxyProcess::start(binary, &cfg);
    second.wait_bound(fe, WITHIN);
    settle(&second, restored);
    let restored = servers_state(&socket, ports);
    let stat = xtests::stat_columns(&socket, &["status", "weight"])
        .into_iter()
        .map(|((px, sv), row)| format!("{px}/{sv} {}", row.join(" ")))
        .collect();
    Restart {
        answers,
        saved: mask(&saved, ports),
        first: first_messages,
        second: messages(&second, &dir),
        restored,
        stat,
    }
}

/// Maintenance, drain and a weight set at run time are as they were
/// after a restart, at once. Starting, HAProxy says that the server in
/// maintenance is DOWN (as the state file has it) and that the one in
/// drain stays so, but not that they enter maintenance or drain.
fn maintenance(binary: &Path) -> Restart {
    let app = NameServer::start("app", 0);
    let p = app.port;
    let servers = format!(
        "    server s1 127.0.0.1:{p} weight 3
    server s2 127.0.0.1:{p} weight 3
    server s3 127.0.0.1:{p}
    server s4 127.0.0.1:{p} check inter 10s
"
    );
    restart(
        binary,
        "maint",
        &servers,
        &[(p, "P")],
        &[
            "set server be/s1 state maint",
            "set server be/s2 weight 7",
            "set server be/s4 state drain",
        ],
        "Server be/s4 enters drain state",
        "changed from server-state",
    )
}

#[test]
fn maintenance_and_weights_survive_a_restart_as_with_haproxy() {
    let proxies = xtests::proxies!();
    let ours = xtests::side_by_side(&proxies, "a restart with maintenance", maintenance);
    assert!(
        ours.restored.contains("\n3 be 1 s1 127.0.0.1 0 1 3 3 AGE "),
        "{}",
        ours.restored
    );
    assert!(
        ours.restored.contains("\n3 be 2 s2 127.0.0.1 2 0 7 3 AGE "),
        "{}",
        ours.restored
    );
    assert!(
        ours.stat.contains(&"be/s1 MAINT 3".to_string()),
        "{:?}",
        ours.stat
    );
    assert!(
        ours.stat.contains(&"be/s4 DRAIN 1".to_string()),
        "{:?}",
        ours.stat
    );
    assert_eq!(
        ours.second,
        [
            "[WARNING]  (PID) : config : Server be/s1 is DOWN, changed from server-state after a reload. 3 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
            "[WARNING]  (PID) : config : Server be/s4 remains in forced drain mode.",
        ]
    );
}

/// A server a check found DOWN is DOWN again from the start of the next
/// run, said so for the state file's sake, not the check's.
fn checked_down(binary: &Path) -> Restart {
    let app = NameServer::start("app", 0);
    let (p, closed) = (app.port, free_port());
    let servers = format!(
        "    server s1 127.0.0.1:{closed} check inter 10s
    server s2 127.0.0.1:{p}
"
    );
    restart(
        binary,
        "down",
        &servers,
        &[(p, "P"), (closed, "PC")],
        &[],
        "Server be/s1 is DOWN",
        "Server be/s1 is DOWN",
    )
}

#[test]
fn a_server_down_stays_down_across_a_restart_as_with_haproxy() {
    let proxies = xtests::proxies!();
    let ours = xtests::side_by_side(&proxies, "a restart with a server DOWN", checked_down);
    assert!(
        ours.first[0].contains("Server be/s1 is DOWN, reason: Layer4 connection problem"),
        "{:?}",
        ours.first
    );
    assert_eq!(
        ours.second,
        ["[WARNING]  (PID) : config : Server be/s1 is DOWN, changed from server-state after a reload. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue."]
    );
    assert!(
        ours.restored
            .contains("\n3 be 1 s1 127.0.0.1 0 0 1 1 AGE 8 2 0 "),
        "{}",
        ours.restored
    );
}

/// A state file's line for server `id`/`name` of backend `be` (`3 be`:
/// backend be has id 3 in these configurations, with a stats socket),
/// with its fields from
/// srv_op_state to srv_f_forced_id given, then `tail` (srv_fqdn to
/// srv_agent_port). `{port}` is the servers' port.
fn row(be: &str, id: u32, name: &str, states: &str, tail: &str) -> String {
    format!("{be} {id} {name} 127.0.0.1 {states} {tail}\n")
}

/// A line as `show servers state` writes it for a server at `{port}`.
fn line(be: &str, id: u32, name: &str, states: &str) -> String {
    row(be, id, name, states, TAIL)
}

const TAIL: &str = "- {port} - 0 0 - - 0";

/// Four servers without checks.
const SERVERS: &str = "    server s1 127.0.0.1:{port}
    server s2 127.0.0.1:{port}
    server s3 127.0.0.1:{port}
    server s4 127.0.0.1:{port}
";

/// What a start showed: stderr, `show servers state`, and status and
/// weight of each server from `show stat`.
type Started = (Vec<String>, String, Vec<String>);

/// One start with files written beforehand: (name in the test's
/// directory, text). `global`, `defaults` and the backend's lines
/// (`backend`) may name the directory as `{dir}`, the servers' port as
/// `{port}`. What it showed once `last` is on stderr.
fn start_with_files(
    binary: &Path,
    tag: &str,
    (global, defaults, backend): (&str, &str, &str),
    files: &[(&str, String)],
    last: &str,
) -> Started {
    let app = NameServer::start("app", 0);
    let p = app.port;
    let fe = free_port();
    let tag = format!("state-{tag}-{fe}");
    let socket = xtests::socket_path(&tag);
    // Written once to learn the directory, then with it.
    let cfg = xtests::config_file(&tag, "");
    let dir = cfg.parent().expect("a directory").to_path_buf();
    let d = dir.display().to_string();
    for (name, text) in files {
        std::fs::write(dir.join(name), text.replace("{port}", &p.to_string())).expect("a file");
    }
    let fill = |t: &str| t.replace("{dir}", &d).replace("{port}", &p.to_string());
    let text = config(&socket, fe, &fill(global), &fill(defaults), &fill(backend));
    std::fs::write(&cfg, text).expect("the configuration");
    let mut proxy = ProxyProcess::start(binary, &cfg);
    proxy.wait_bound(fe, WITHIN);
    settle(&proxy, last);
    let state = servers_state(&socket, &[(p, "P")]);
    let stat = xtests::stat_columns(&socket, &["status", "weight"])
        .into_iter()
        .filter(|((_, sv), _)| sv.starts_with('s'))
        .map(|((_, sv), row)| format!("{sv} {}", row.join(" ")))
        .collect();
    (messages(&proxy, &dir), state, stat)
}

/// The same start of `SERVERS`, with a global file, when `text` is some:
/// stderr and `show servers state`.
fn global_file(
    binary: &Path,
    tag: &str,
    text: Option<String>,
    last: &str,
) -> (Vec<String>, String) {
    let (said, state, _) = global_file_of(binary, tag, SERVERS, text, last);
    (said, state)
}

/// The same start of `servers`, with a global file.
fn global_file_of(
    binary: &Path,
    tag: &str,
    servers: &str,
    text: Option<String>,
    last: &str,
) -> Started {
    let files: Vec<(&str, String)> = text.into_iter().map(|t| ("state", t)).collect();
    let sections = (
        "    server-state-file {dir}/state\n",
        "    load-server-state-from-file global\n",
        servers,
    );
    start_with_files(binary, tag, sections, &files, last)
}

/// The same start of `SERVERS`, with a backend's own file `be.state`
/// (`server-state-file-name`, which only a backend section sets) under
/// `server-state-base`, when `text` is some.
fn local_file(binary: &Path, tag: &str, text: Option<String>, last: &str) -> (Vec<String>, String) {
    let files: Vec<(&str, String)> = text.into_iter().map(|t| ("be.state", t)).collect();
    let backend = format!("    server-state-file-name be.state\n{SERVERS}");
    let sections = (
        "    server-state-base {dir}\n",
        "    load-server-state-from-file local\n",
        backend.as_str(),
    );
    let (said, state, _) = start_with_files(binary, tag, sections, &files, last);
    (said, state)
}

/// A server in maintenance as a dump has it: DOWN (0), in forced
/// maintenance (1), its last check L4OK (6), checks paused (14).
const MAINT: &str = "0 1 1 1 5 6 3 0 14 0 0 0";

fn header() -> String {
    format!("1\n{COLUMNS}\n")
}

#[test]
fn a_missing_global_file_is_said_as_by_haproxy() {
    let proxies = xtests::proxies!();
    let (said, state) = xtests::side_by_side(&proxies, "no global file", |bin| {
        global_file(bin, "missing", None, "Can't open")
    });
    assert_eq!(
        said,
        ["[WARNING]  (PID) : config : config: Can't open global server state file 'DIR/state': No such file or directory"]
    );
    assert!(
        state.contains("\n3 be 1 s1 127.0.0.1 2 0 1 1 AGE "),
        "{state}"
    );
}

#[test]
fn a_global_file_without_version_is_said_as_by_haproxy() {
    let proxies = xtests::proxies!();
    let s1 = line("3 be", 1, "s1", MAINT);
    for (tag, text) in [
        ("noversion", format!("{COLUMNS}\n{s1}")),
        ("version2", format!("2\n{COLUMNS}\n{s1}")),
        ("empty", String::new()),
        ("trailing", format!("1 \n{COLUMNS}\n{s1}")),
    ] {
        let (said, state) = xtests::side_by_side(&proxies, tag, |bin| {
            global_file(bin, tag, Some(text.clone()), "version")
        });
        assert_eq!(
            said,
            ["[WARNING]  (PID) : config : config: Can't get version of the global server state file 'DIR/state'."],
            "{tag}"
        );
        assert!(
            state.contains("\n3 be 1 s1 127.0.0.1 2 0 1 1 AGE "),
            "{state}"
        );
    }
}

#[test]
fn a_corrupted_global_file_is_said_and_not_applied_as_by_haproxy() {
    let proxies = xtests::proxies!();
    let s1 = line("3 be", 1, "s1", MAINT);
    let s2 = line("3 be", 2, "s2", MAINT);
    for (tag, text) in [
        // Too few fields on the third line after the version.
        ("short", format!("{}{s1}3 be 2 s2 127.0.0.1 0\n", header())),
        // The last line cut (no newline).
        ("cut", format!("{}{s1}{}", header(), s2.trim_end())),
    ] {
        let (said, state) = xtests::side_by_side(&proxies, tag, |bin| {
            global_file(bin, tag, Some(text.clone()), "corrupted")
        });
        assert_eq!(
            said,
            ["[WARNING]  (PID) : config : config: corrupted global server state file 'DIR/state' at line 3."],
            "{tag}"
        );
        assert!(
            state.contains("\n3 be 1 s1 127.0.0.1 2 0 1 1 AGE "),
            "{state}"
        );
    }
}

#[test]
fn a_global_file_applies_by_names_as_in_haproxy() {
    let proxies = xtests::proxies!();
    // A global file is read by names: another backend id is no matter,
    // nor are lines of unknown servers or other backends.
    let text = format!(
        "{}{}{}{}{}",
        header(),
        line("7 be", 1, "s1", MAINT),
        line("3 be", 9, "s9", MAINT),
        line("3 bx", 2, "s2", MAINT),
        line("3 be", 3, "s3", "2 0 5 1 5 1 0 0 0 0 0 0"),
    );
    let (said, state) = xtests::side_by_side(&proxies, "global by names", |bin| {
        global_file(
            bin,
            "byname",
            Some(text.clone()),
            "changed from server-state",
        )
    });
    assert_eq!(
        said,
        ["[WARNING]  (PID) : config : Server be/s1 is DOWN, changed from server-state after a reload. 3 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue."]
    );
    assert!(
        state.contains("\n3 be 3 s3 127.0.0.1 2 0 5 1 AGE "),
        "{state}"
    );
}

#[test]
fn a_local_file_is_checked_against_its_backend_as_by_haproxy() {
    let proxies = xtests::proxies!();
    let h = header();
    let s1 = line("3 be", 1, "s1", MAINT);
    let cases = [
        // A server the backend lacks.
        (
            "unknown",
            format!("{h}{s1}{}", line("3 be", 9, "s9", MAINT)),
            "can't find server",
        ),
        // Another backend id: said, applied all the same.
        (
            "id",
            format!("{h}{}", line("7 be", 1, "s1", MAINT)),
            "changed from server-state",
        ),
        // Another name: said, not applied.
        (
            "name",
            format!("{h}{}", line("3 bx", 1, "s1", MAINT)),
            "name mismatch",
        ),
        // Another name, the backend's id forced (bk_f_forced_id 1): said,
        // not applied either. (HAProxy means to apply such a line, but
        // tests the field against PR_O_FORCED_ID, 0x80.)
        (
            "forced",
            format!("{h}{}", line("3 bx", 1, "s1", "0 1 1 1 5 6 3 0 14 0 1 0")),
            "name mismatch",
        ),
        // Neither: another backend's line, nothing said of it.
        (
            "other",
            format!(
                "{h}{}{}",
                line("7 bx", 1, "s1", MAINT),
                line("3 be", 2, "s2", MAINT)
            ),
            "changed from server-state",
        ),
        // A mismatch said, then the file found corrupt: nothing applied,
        // no server said missing.
        (
            "corrupt",
            format!(
                "{h}{}{}{}3 be 9 s9\n",
                line("3 bx", 1, "s1", MAINT),
                line("3 be", 2, "s2", MAINT),
                line("3 be", 8, "s8", MAINT),
            ),
            "corrupted",
        ),
        ("noversion", format!("{COLUMNS}\n{s1}"), "version"),
    ];
    let mut all = vec![];
    for (tag, text, last) in cases {
        let (said, state) = xtests::side_by_side(&proxies, tag, |bin| {
            local_file(bin, tag, Some(text.clone()), last)
        });
        all.push((tag, said, state));
    }
    let said = |tag: &str| all.iter().find(|(t, _, _)| *t == tag).unwrap().1.clone();
    assert_eq!(
        said("unknown"),
        [
            "[WARNING]  (PID) : config : Server be/s1 is DOWN, changed from server-state after a reload. 3 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
            "[WARNING]  (PID) : config : Proxy 'be': can't find server 's9' in backend 'be'",
        ]
    );
    assert_eq!(
        said("id")[0],
        "[WARNING]  (PID) : config : Proxy 'be': backend ID mismatch: from server state file: '7', from running config '3'"
    );
    assert_eq!(
        said("name"),
        ["[WARNING]  (PID) : config : Proxy 'be': backend name mismatch: from server state file: 'bx', from running config 'be'"]
    );
    assert_eq!(said("forced"), said("name"));
    assert_eq!(
        said("noversion"),
        ["[WARNING]  (PID) : config : Proxy 'be': Can't get version of the server state file 'DIR/be.state'."]
    );
}

#[test]
fn a_missing_local_file_is_said_as_by_haproxy() {
    let proxies = xtests::proxies!();
    let (said, _) = xtests::side_by_side(&proxies, "no local file", |bin| {
        local_file(bin, "nolocal", None, "Can't open")
    });
    assert_eq!(
        said,
        ["[WARNING]  (PID) : config : Proxy 'be': Can't open server state file 'DIR/be.state': No such file or directory."]
    );
}

#[test]
fn lines_that_cannot_apply_are_said_as_by_haproxy() {
    let proxies = xtests::proxies!();
    let text = format!(
        "{}{}{}{}{}",
        header(),
        // Maintenance and drain together: no admin state HAProxy writes.
        line("3 be", 1, "s1", "0 9 1 1 5 6 3 0 14 0 0 0"),
        // Several fields wrong at once: each is said, in order.
        line("3 be", 2, "s2", "x 0 300 1 5 21 7 0 64 0 2 0"),
        // A name that is no domain name, a port beyond 65535.
        row("3 be", 3, "s3", MAINT, "bad!name 70000 - 0 0 - - 0"),
        // Valid: applied.
        line("3 be", 4, "s4", MAINT),
    );
    let (said, state) = xtests::side_by_side(&proxies, "invalid lines", |bin| {
        global_file(bin, "invalid", Some(text.clone()), "Server be/s4 is DOWN")
    });
    assert_eq!(
        said,
        [
            "[WARNING]  (PID) : config : server-state application failed for server 'be/s1', invalid srv_admin_state value '9'",
            "[WARNING]  (PID) : config : server-state application failed for server 'be/s2', invalid srv_op_state value 'x', invalid srv_uweight value '300', invalid srv_check_status value '21', invalid srv_check_result value '7', invalid srv_check_state value '64', invalid bk_f_forced_id value '2'",
            "[WARNING]  (PID) : config : server-state application failed for server 'be/s3', invalid srv_fqdn value 'bad!name', invalid srv_port value '70000'",
            "[WARNING]  (PID) : config : Server be/s4 is DOWN, changed from server-state after a reload. 3 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
        ]
    );
    assert!(
        state.contains("\n3 be 1 s1 127.0.0.1 2 0 1 1 AGE "),
        "{state}"
    );
}

/// `disabled` in the configuration against the state file: a server
/// enabled at run time stays enabled (HAProxy says it leaves
/// maintenance), one whose `disabled` came or went with the new
/// configuration is as the configuration says. Compared: stderr, the
/// servers' status and weight, and `show servers state` but for
/// srv_check_state (HAProxy keeps CHK_ST_PAUSED there for a server
/// without checks once it was in maintenance, the engine shows 0).
#[test]
fn configured_maintenance_against_the_file_is_as_in_haproxy() {
    let proxies = xtests::proxies!();
    let servers = "    server s1 127.0.0.1:{port} disabled
    server s2 127.0.0.1:{port}
    server s3 127.0.0.1:{port} disabled
    server s4 127.0.0.1:{port} disabled weight 5
";
    let text = format!(
        "{}{}{}{}{}",
        header(),
        // Enabled at run time, still `disabled` in the configuration.
        line("3 be", 1, "s1", "2 4 1 1 5 1 0 4 8 0 0 0"),
        // `disabled` before, no longer.
        line("3 be", 2, "s2", "0 5 1 1 5 1 0 0 8 0 0 0"),
        // `disabled` now, not before.
        line("3 be", 3, "s3", "2 0 1 1 5 1 0 4 0 0 0 0"),
        // `disabled` now and before, set to drain at run time (which
        // ends the maintenance).
        line("3 be", 4, "s4", "2 12 3 5 5 1 0 4 8 0 0 0"),
    );
    let (said, _, stat) = xtests::side_by_side(&proxies, "configured maintenance", |bin| {
        let (said, state, stat) =
            global_file_of(bin, "disabled", servers, Some(text.clone()), "leaving");
        // srv_check_state aside.
        let state = state
            .lines()
            .map(|l| {
                let mut words: Vec<&str> = l.split(' ').collect();
                if words.len() > 13 && !l.starts_with('#') {
                    words[13] = "CS";
                }
                words.join(" ")
            })
            .collect::<Vec<_>>()
            .join("\n");
        (said, state, stat)
    });
    assert_eq!(
        said,
        [
            "[WARNING]  (PID) : config : Server be/s1 is UP/READY (leaving forced maintenance).",
            "[WARNING]  (PID) : config : Server be/s2 is DOWN, changed from server-state after a reload. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
            "[WARNING]  (PID) : config : Server be/s4 is UP/READY (leaving forced maintenance).",
            "[WARNING]  (PID) : config : Server be/s4 remains in forced drain mode.",
        ]
    );
    // s2 was DOWN (in maintenance) in the file: without a check to
    // say otherwise, it stays DOWN.
    assert_eq!(
        stat,
        ["s1 no check 1", "s2 DOWN 1", "s3 MAINT 1", "s4 DRAIN 3"]
    );
}

/// `server-state-base` before a relative `server-state-file`; a backend
/// that says `load-server-state-from-file none` over the defaults' is
/// left alone, the others not.
#[test]
fn the_base_directory_and_none_are_as_in_haproxy() {
    let proxies = xtests::proxies!();
    let text = format!(
        "{}{}{}",
        header(),
        line("3 be", 1, "s1", MAINT),
        line("4 other", 1, "o1", MAINT)
    );
    let files = [("state", text)];
    let relative = xtests::side_by_side(&proxies, "a relative global file", |bin| {
        let sections = (
            "    server-state-base {dir}\n    server-state-file state\n",
            "    load-server-state-from-file global\n",
            SERVERS,
        );
        start_with_files(bin, "base", sections, &files, "changed from server-state")
    });
    assert_eq!(
        relative.0,
        ["[WARNING]  (PID) : config : Server be/s1 is DOWN, changed from server-state after a reload. 3 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue."]
    );
    let none = xtests::side_by_side(&proxies, "none in a backend", |bin| {
        let backends = format!(
            "    load-server-state-from-file none\n{SERVERS}
backend other
    server o1 127.0.0.1:{{port}}
    server o2 127.0.0.1:{{port}}
"
        );
        let sections = (
            "    server-state-file {dir}/state\n",
            "    load-server-state-from-file global\n",
            backends.as_str(),
        );
        start_with_files(bin, "none", sections, &files, "changed from server-state")
    });
    assert_eq!(
        none.0,
        ["[WARNING]  (PID) : config : Server other/o1 is DOWN, changed from server-state after a reload. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue."]
    );
    assert!(
        none.1.contains("\n3 be 1 s1 127.0.0.1 2 0 1 1 AGE "),
        "{}",
        none.1
    );
}
