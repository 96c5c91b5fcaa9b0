//! Maintenance and drain through the runtime API, side by side with
//! HAProxy 2.6: the same messages on stderr, the same `show backend` and
//! `show servers state` dumps (the age column aside), taken between two
//! checks.

use std::path::Path;
use std::time::Duration;

use xtests::{free_port, NameServer, ProxyProcess};

/// `show servers state`, taken between two checks (one under way shows
/// in srv_check_state and srv_check_result, as in HAProxy), with the age
/// column (seconds since the last change, a matter of when the command
/// runs) blanked.
fn servers_state(socket: &Path, args: &str) -> String {
    let mut dump = String::new();
    xtests::wait_until(Duration::from_secs(5), "a dump between two checks", || {
        dump = xtests::api(socket, &format!("show servers state {args}"));
        xtests::checks_under_way(&dump).is_empty()
    });
    dump.lines()
        .map(|l| {
            let mut words: Vec<&str> = l.split(' ').collect();
            if words.len() > 10 && !l.starts_with('#') {
                words[9] = "AGE";
            }
            words.join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The stderr lines after `from`, without the pid and check durations.
fn messages(proxy: &ProxyProcess, from: usize) -> Vec<String> {
    let pid = format!("({})", proxy.pid());
    proxy
        .stderr()
        .lines()
        .skip(from)
        .map(|l| xtests::mask_check_duration(&l.replace(&pid, "(PID)")))
        .collect()
}

struct Session {
    dumps: Vec<String>,
    messages: Vec<String>,
}

fn session(binary: &Path) -> Session {
    let s1 = NameServer::start("s1", 0);
    let (fe, li, closed) = (free_port(), free_port(), free_port());
    let socket = xtests::socket_path(&format!("admin-{fe}"));
    let cfg = xtests::config_file(
        &format!("admin-{fe}"),
        &format!(
            "global
    stats socket {sock} level admin

defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend fe
    bind 127.0.0.1:{fe}
    default_backend app

backend app
    server s1 127.0.0.1:{p1} check inter 100 weight 3
    server s2 127.0.0.1:{p1} backup
    server s3 127.0.0.1:{p1} check port {p1} addr 127.0.0.1 disabled id 7

backend other
    server o1 127.0.0.1:{p1}

listen li
    bind 127.0.0.1:{li}
    server l1 127.0.0.1:{closed} check inter 100 fall 1
",
            sock = socket.display(),
            p1 = s1.port,
        ),
    );
    let mut proxy = ProxyProcess::start(binary, &cfg);
    proxy.wait_bound(fe, Duration::from_secs(5));
    proxy.wait_for(
        "proxy 'li' has no server available!",
        Duration::from_secs(5),
    );
    // s1's health climbs to rise+fall-1 = 4 after two passed checks.
    xtests::wait_until(Duration::from_secs(5), "s1 fully up", || {
        servers_state(&socket, "app").contains(" s1 127.0.0.1 2 0 3 3 AGE 6 3 4 ")
    });
    let start = proxy.stderr().lines().count();
    let mut dumps = vec![
        xtests::api(&socket, "show backend"),
        servers_state(&socket, ""),
        servers_state(&socket, "nope"),
        servers_state(&socket, "fe"),
    ];
    for c in [
        "disable server app/s1",
        "enable server app/s1",
        "disable server app/s2",
        "enable server app/s2",
        "set server app/s1 state drain",
        "set server app/s1 state ready",
        "set server app/s1 state maint",
        "set server app/s1 state maint",
        "set server app/s1 state drain",
        "set server app/s1 state ready",
        "enable server app/s3",
        "disable server other/o1",
        "set server other/o1 state drain",
        "disable server li/l1",
    ] {
        dumps.push(xtests::api(&socket, c));
    }
    proxy.wait_for("li/l1 was DOWN", Duration::from_secs(5));
    dumps.push(servers_state(&socket, "other"));
    dumps.push(servers_state(&socket, "li"));
    // Ports differ from run to run.
    let (p1, pc) = (s1.port.to_string(), closed.to_string());
    let ports = |t: &String| {
        t.split('\n')
            .map(|l| {
                l.split(' ')
                    .map(|w| match w {
                        w if w == p1 => "P1",
                        w if w == pc => "PC",
                        w => w,
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    Session {
        dumps: dumps.iter().map(ports).collect(),
        messages: messages(&proxy, start),
    }
}

#[test]
fn maintenance_and_drain_are_announced_as_with_haproxy() {
    let ours = session(&xtests::engine_bin!());
    assert_eq!(ours.dumps[0], "# name\napp\nother\nli\n\n");
    assert!(
        ours.dumps[1].contains("\n3 app 7 s3 127.0.0.1 0 5 1 1 AGE 1 0 0 14 0 0 1 - P1 - 0 P1 127.0.0.1 127.0.0.1 P1\n"),
        "{}",
        ours.dumps[1]
    );
    assert_eq!(ours.dumps[2], "Can't find backend.\n");
    assert_eq!(
        ours.messages[0],
        "[WARNING]  (PID) : Server app/s1 is going DOWN for maintenance. 0 active and 1 backup servers left. Running on backup. 0 sessions active, 0 requeued, 0 remaining in queue."
    );
    if let Some(haproxy) = xtests::haproxy_bin() {
        let theirs = session(&haproxy);
        assert_eq!(ours.dumps, theirs.dumps);
        assert_eq!(ours.messages, theirs.messages);
    }
}

/// Proxy ids with some forced by `id`: the others number around them as
/// in HAProxy, and the dumps say which were forced.
fn ids(binary: &Path) -> (String, Vec<String>) {
    let s1 = NameServer::start("s1", 0);
    let fe = free_port();
    let socket = xtests::socket_path(&format!("ids-{fe}"));
    let cfg = xtests::config_file(
        &format!("ids-{fe}"),
        &format!(
            "global\n    stats socket {sock} level admin\n\ndefaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\nfrontend fe\n    bind 127.0.0.1:{fe}\n    default_backend app\n\nbackend app\n    id 2\n    server s1 127.0.0.1:{p1}\n\nbackend other\n    server o1 127.0.0.1:{p1}\n    server o2 127.0.0.1:{p1} id 1\n\nbackend third\n    id 10\n    server t1 127.0.0.1:{p1} id 4\n",
            sock = socket.display(),
            p1 = s1.port,
        ),
    );
    let mut proxy = ProxyProcess::start(binary, &cfg);
    proxy.wait_bound(fe, Duration::from_secs(5));
    let iids = xtests::api(&socket, "show stat")
        .lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            format!(
                "{}/{} iid={} sid={}",
                cells[0], cells[1], cells[27], cells[28]
            )
        })
        .collect();
    let state = servers_state(&socket, "").replace(&format!(" {} ", s1.port), " P1 ");
    (state, iids)
}

#[test]
fn forced_proxy_ids_are_numbered_around_as_with_haproxy() {
    let ours = ids(&xtests::engine_bin!());
    assert!(
        ours.1.contains(&"fe/FRONTEND iid=3 sid=0".to_string()),
        "{:?}",
        ours.1
    );
    assert!(
        ours.1.contains(&"other/BACKEND iid=5 sid=0".to_string()),
        "{:?}",
        ours.1
    );
    assert!(
        ours.0
            .contains("\n10 third 4 t1 127.0.0.1 2 0 1 1 AGE 1 0 2 0 0 1 1 - P1 "),
        "{}",
        ours.0
    );
    if let Some(haproxy) = xtests::haproxy_bin() {
        assert_eq!(ours, ids(&haproxy));
    }
}

/// `disabled` proxies: not bound, not in the stats, listed by the dumps;
/// a frontend whose backend is disabled closes its connections at once.
fn disabled(binary: &Path) -> Vec<String> {
    let s1 = NameServer::start("s1", 0);
    let (li, fe) = (free_port(), free_port());
    let socket = xtests::socket_path(&format!("disabled-{fe}"));
    let cfg = xtests::config_file(
        &format!("disabled-{fe}"),
        &format!(
            "global\n    stats socket {sock} level admin\n\ndefaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\nlisten app\n    bind 127.0.0.1:{li}\n    disabled\n    server s1 127.0.0.1:{p1} check\n\nfrontend fe\n    bind 127.0.0.1:{fe}\n    default_backend be\n\nbackend be\n    disabled\n    server s2 127.0.0.1:{p1}\n",
            sock = socket.display(),
            p1 = s1.port,
        ),
    );
    let mut proxy = ProxyProcess::start(binary, &cfg);
    proxy.wait_bound(fe, Duration::from_secs(5));
    let statuses = xtests::api(&socket, "show stat")
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').take(2).collect::<Vec<_>>().join(","))
        .collect::<Vec<_>>()
        .join(" ");
    let mut out = vec![
        statuses,
        servers_state(&socket, "").replace(&format!(" {} ", s1.port), " P1 "),
        xtests::api(&socket, "show backend"),
        xtests::ask(li),
        xtests::ask(fe),
    ];
    // SAFETY: signalling our own child.
    unsafe { libc::kill(proxy.pid() as i32, libc::SIGUSR1) };
    // GLOBAL comes last, in both.
    proxy.wait_for("Proxy GLOBAL stopped", Duration::from_secs(5));
    out.push(stopped(&proxy));
    let mut child = proxy.into_child();
    xtests::wait_exit(&mut child, Duration::from_secs(5));
    out
}

/// The proxies a soft stop reports as stopped.
fn stopped(proxy: &ProxyProcess) -> String {
    proxy
        .stderr()
        .lines()
        .filter(|l| l.contains(" stopped (") && !l.contains("<HTTPCLIENT>"))
        .map(|l| l.split(" : ").nth(1).unwrap_or(l).to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn disabled_proxies_do_not_start_as_with_haproxy() {
    let ours = disabled(&xtests::engine_bin!());
    assert_eq!(ours[0], "# pxname,svname fe,FRONTEND");
    assert_eq!(ours[3], xtests::REFUSED);
    assert_eq!(ours[4], "");
    if let Some(haproxy) = xtests::haproxy_bin() {
        assert_eq!(ours, disabled(&haproxy));
    }
}

/// `show stat` with `up`, `no-maint` and odd filters: which lines come
/// and the status column, as HAProxy gives them.
fn stat_options(binary: &Path) -> Vec<String> {
    let s1 = NameServer::start("s1", 0);
    let (fe, closed) = (free_port(), free_port());
    let socket = xtests::socket_path(&format!("statopts-{fe}"));
    let cfg = xtests::config_file(
        &format!("statopts-{fe}"),
        &format!(
            "global\n    stats socket {sock} level admin\n\ndefaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\nlisten app\n    bind 127.0.0.1:{fe}\n    server s1 127.0.0.1:{p1} check inter 100\n    server s2 127.0.0.1:{p1} disabled\n    server s3 127.0.0.1:{closed} check inter 100 fall 1\n    server s4 127.0.0.1:{p1}\n",
            sock = socket.display(),
            p1 = s1.port,
        ),
    );
    let mut proxy = ProxyProcess::start(binary, &cfg);
    proxy.wait_bound(fe, Duration::from_secs(5));
    proxy.wait_for("Server app/s3 is DOWN", Duration::from_secs(5));
    // s1 fully up: its checks have passed, whatever order they ran in.
    xtests::wait_until(Duration::from_secs(5), "s1 checked", || {
        xtests::api(&socket, "show stat app 4 1").contains(",UP,")
    });
    [
        "show stat up",
        "show stat no-maint",
        "show stat app 6 -1 up no-maint",
        "show stat nope 4 -1",
        "show stat 99 -1 -1",
        "show stat -1 x -1",
        "show stat up foo",
    ]
    .iter()
    .map(|c| {
        xtests::api(&socket, c)
            .lines()
            .map(|l| {
                let cells: Vec<&str> = l.split(',').collect();
                match cells.len() {
                    1 => l.to_string(),
                    _ => format!("{},{},{}", cells[0], cells[1], cells[17]),
                }
            })
            .collect::<Vec<_>>()
            .join(" | ")
    })
    .collect()
}

#[test]
fn show_stat_options_filter_servers_as_with_haproxy() {
    let ours = stat_options(&xtests::engine_bin!());
    assert_eq!(
        ours[0],
        "# pxname,svname,status | app,FRONTEND,OPEN | app,s1,UP | app,s4,no check | app,BACKEND,UP (2/4) | "
    );
    assert_eq!(ours[3], "No such proxy. | ");
    if let Some(haproxy) = xtests::haproxy_bin() {
        assert_eq!(ours, stat_options(&haproxy));
    }
}
