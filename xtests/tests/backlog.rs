//! The listen backlog, side by side with HAProxy 2.6: each listening
//! socket's backlog (as `ss` shows it) is the bind's `backlog`, else the
//! proxy's, else the frontend's `maxconn` (its own or the global one); a
//! stats socket's is `stats maxconn` (10). And its effect: a frontend at
//! its maxconn leaves `backlog + 1` connections completed in the kernel's
//! queue, and the next ones wait for their SYN to be answered. The `-c`
//! messages of a bad `backlog` are HAProxy's.

use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::Duration;

use xtests::{free_port, hold, listen_queues, NameServer, ProxyProcess};

/// How long a connection whose SYN was dropped is watched to conclude it
/// stays unanswered (the kernel retries a SYN after one second).
const HELD_BACK: Duration = Duration::from_millis(300);

#[test]
fn each_listener_gets_the_backlog_haproxy_gives_it() {
    let Some(ss) = xtests::ss_bin() else { return };
    for bin in xtests::proxies!() {
        let ports: Vec<u16> = (0..5).map(|_| free_port()).collect();
        let socket = xtests::socket_path(&format!("backlog-{}", ports[0]));
        let cfg = xtests::config_file(
            &format!("backlog-{}", ports[0]),
            &format!(
                "global
    maxconn 50
    stats socket {}

defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend own
    bind 127.0.0.1:{} backlog 4
    default_backend b

frontend proxy_level
    backlog 7
    bind 127.0.0.1:{}
    bind 127.0.0.1:{} backlog 5
    default_backend b

frontend from_maxconn
    maxconn 33
    bind 127.0.0.1:{}
    default_backend b

frontend from_global_maxconn
    bind 127.0.0.1:{}
    default_backend b

backend b
    server s 127.0.0.1:9
",
                socket.display(),
                ports[0],
                ports[1],
                ports[2],
                ports[3],
                ports[4]
            ),
        );
        let mut proxy = ProxyProcess::start(&bin, &cfg);
        for &port in &ports {
            proxy.wait_bound(port, Duration::from_secs(5));
        }
        let path = socket.display().to_string();
        let mut queues = vec![];
        // HAProxy binds its unix socket under a temporary name, then
        // renames it: ss knows it by the first.
        xtests::wait_until(Duration::from_secs(5), "the stats socket listens", || {
            queues = listen_queues(&ss);
            queues.iter().any(|q| q.local.starts_with(&path))
        });
        let backlog = |local: &str| {
            queues
                .iter()
                .find(|q| q.local.starts_with(local))
                .map(|q| q.backlog)
        };
        let got: Vec<Option<u32>> = ports
            .iter()
            .map(|p| backlog(&format!("127.0.0.1:{p}")))
            .chain(std::iter::once(backlog(&path)))
            .collect();
        eprintln!("backlogs of {}: {got:?}", bin.display());
        assert_eq!(
            got,
            [Some(4), Some(7), Some(5), Some(33), Some(50), Some(10)],
            "{}",
            bin.display()
        );
    }
}

#[test]
fn a_full_backlog_leaves_the_next_connections_unanswered() {
    let Some(ss) = xtests::ss_bin() else { return };
    for bin in xtests::proxies!() {
        full_backlog(&ss, &bin);
    }
}

/// `maxconn 1` and `backlog 4`: with the one slot held, 5 more
/// connections complete into the kernel's queue (Linux queues backlog +
/// 1), and of 8 tried, 3 get no answer to their SYN.
fn full_backlog(ss: &Path, binary: &Path) {
    let backend = NameServer::start_holding("s1", 0);
    let fe = free_port();
    let cfg = xtests::config_file(
        &format!("backlog-full-{fe}"),
        &format!(
            "defaults
    mode tcp
    timeout connect 1s
    timeout client 10s
    timeout server 10s

listen app
    bind 127.0.0.1:{fe} backlog 4
    maxconn 1
    server s1 127.0.0.1:{}
",
            backend.port
        ),
    );
    let mut proxy = ProxyProcess::start(binary, &cfg);
    proxy.wait_bound(fe, Duration::from_secs(5));
    let (_held, got) = hold(fe, 2, Duration::from_secs(5));
    assert_eq!(got.as_deref(), Some("s1"), "{}", binary.display());

    let tried: Vec<TcpStream> = (0..8)
        .map(|_| xtests::connect_in_background(fe).expect("a connection under way"))
        .collect();
    let local = format!("127.0.0.1:{fe}");
    let mut queued = 0;
    xtests::wait_until(Duration::from_secs(5), "the kernel queues 5", || {
        queued = listen_queues(ss)
            .iter()
            .find(|q| q.local == local)
            .map_or(0, |q| q.queued);
        queued >= 5
    });
    let answered = || tried.iter().filter(|c| c.peer_addr().is_ok()).count();
    xtests::wait_until(Duration::from_secs(5), "5 handshakes complete", || {
        answered() >= 5
    });
    // The others' SYNs were dropped: nothing answers them meanwhile.
    let mut waiting: Vec<libc::pollfd> = tried
        .iter()
        .filter(|c| c.peer_addr().is_err())
        .map(|c| libc::pollfd {
            fd: c.as_raw_fd(),
            events: libc::POLLOUT,
            revents: 0,
        })
        .collect();
    assert_eq!(waiting.len(), 3, "{}", binary.display());
    // SAFETY: poll(2) on descriptors `tried` keeps open; the length is
    // the array's.
    let ready = unsafe {
        libc::poll(
            waiting.as_mut_ptr(),
            waiting.len() as libc::nfds_t,
            HELD_BACK.as_millis() as i32,
        )
    };
    assert_eq!(
        ready,
        0,
        "{}: a connection past the backlog was answered",
        binary.display()
    );
    let queued_now = listen_queues(ss)
        .iter()
        .find(|q| q.local == local)
        .map_or(0, |q| q.queued);
    assert_eq!((queued, queued_now), (5, 5), "{}", binary.display());
}

#[test]
fn bad_backlogs_are_refused_with_haproxys_words() {
    let Some(haproxy) = xtests::haproxy_bin() else {
        return;
    };
    let engine = xtests::engine_bin!();
    let head =
        "defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n";
    let cases = [
        "frontend f\n  bind 127.0.0.1:8080\n  backlog\n  default_backend b\n",
        "frontend f\n  bind 127.0.0.1:8080\n  backlog 5 6\n  default_backend b\n",
        "frontend f\n  bind 127.0.0.1:8080 backlog\n  default_backend b\n",
        "frontend f\n  bind 127.0.0.1:8080 backlog -1\n  default_backend b\n",
        "frontend f\n  bind 127.0.0.1:8080 backlog 5 6\n  default_backend b\n",
        // Accepted: junk reads as 0 (unset), and -1 as the largest.
        "frontend f\n  bind 127.0.0.1:8080 backlog abc\n  backlog -1\n  default_backend b\n",
        // A warning: a backend has no listener.
        "frontend f\n  bind 127.0.0.1:8080\n  default_backend b\n",
    ];
    let dir = xtests::config_file(&format!("backlog-check-{}", free_port()), "");
    let dir = dir.parent().unwrap();
    for (n, case) in cases.iter().enumerate() {
        let backend = if n == cases.len() - 1 {
            "backend b\n  backlog 5\n  server s 127.0.0.1:80\n"
        } else {
            "backend b\n  server s 127.0.0.1:80\n"
        };
        let name = format!("c{n}.cfg");
        std::fs::write(dir.join(&name), format!("{head}{case}{backend}")).unwrap();
        let args = ["-c", "-f", name.as_str()];
        let theirs = xtests::run_in(&haproxy, dir, &args);
        let ours = xtests::run_in(&engine, dir, &args);
        assert_eq!(
            (ours.0, xtests::check_messages(&ours.1)),
            (theirs.0, xtests::check_messages(&theirs.1)),
            "{case}"
        );
    }
}
