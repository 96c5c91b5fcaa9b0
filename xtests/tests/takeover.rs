//! `-x <socket>` and `stats socket ... expose-fd listeners`: a new
//! process takes the listening sockets of the one it replaces over its
//! stats socket (HAProxy's `_getsocks`), so the same sockets, with their
//! queues, serve across the change. Side by side with HAProxy 2.6, and
//! across the two: each takes over from the other.

use std::path::{Path, PathBuf};
use std::time::Duration;

use xtests::{config_file, free_port, wait_answering, NameServer, ProxyProcess};

const WAIT: Duration = Duration::from_secs(10);

fn config(port: u16, server: u16, socket: &Path, expose: bool) -> String {
    let expose = if expose { " expose-fd listeners" } else { "" };
    format!(
        "global
    stats socket {} level admin{expose}

defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s

listen app
    bind 127.0.0.1:{port}
    server s1 127.0.0.1:{server}
",
        socket.display()
    )
}

/// The inode of the socket listening on `port` (/proc/net/tcp).
fn listening_inode(port: u16) -> Option<String> {
    let needle = format!(":{port:04X}");
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    table.lines().find_map(|l| {
        let cols: Vec<&str> = l.split_whitespace().collect();
        (cols.len() > 9 && cols[1].ends_with(&needle) && cols[3] == "0A")
            .then(|| cols[9].to_string())
    })
}

#[derive(Debug, PartialEq)]
struct Takeover {
    answered: String,
    old_exit: Option<i32>,
    same_socket: bool,
}

fn take_over(old: &Path, new: &Path, tag: &str) -> Takeover {
    let server = NameServer::start("s1", 0);
    let port = free_port();
    let dir = config_file(&format!("takeover-{tag}"), "")
        .parent()
        .unwrap()
        .to_path_buf();
    let socket = dir.join("api.sock");
    let _ = std::fs::remove_file(&socket);
    let cfg = config_file(
        &format!("takeover-{tag}"),
        &config(port, server.port, &socket, true),
    );
    let mut first = ProxyProcess::start(old, &cfg);
    first.wait_listening(port, WAIT);
    drop(xtests::connect_unix(&socket, WAIT));
    let before = listening_inode(port);
    let pid = first.pid().to_string();
    let second =
        ProxyProcess::start_with(new, &cfg, &["-x", socket.to_str().unwrap(), "-sf", &pid]);
    let old_exit = first.wait_exit(WAIT);
    let answered = wait_answering(port, WAIT);
    let same_socket = before.is_some() && listening_inode(port) == before;
    drop(second);
    Takeover {
        answered,
        old_exit,
        same_socket,
    }
}

#[test]
fn x_takes_the_listening_sockets_as_haproxy() {
    let ours = xtests::side_by_side(&xtests::proxies!(), "-x takeover", |b| {
        take_over(b, b, "same")
    });
    assert_eq!(
        ours,
        Takeover {
            answered: "s1".into(),
            old_exit: Some(0),
            same_socket: true
        }
    );
}

/// HAProxy and the engine speak the same `_getsocks`: either takes the
/// other's sockets.
#[test]
fn haproxy_and_the_engine_take_over_from_each_other() {
    let Some(haproxy) = xtests::haproxy_bin() else {
        return;
    };
    let engine: PathBuf = xtests::engine_bin!();
    let expected = Takeover {
        answered: "s1".into(),
        old_exit: Some(0),
        same_socket: true,
    };
    assert_eq!(take_over(&haproxy, &engine, "from-haproxy"), expected);
    assert_eq!(take_over(&engine, &haproxy, "from-engine"), expected);
}

/// Without `expose-fd listeners`, the new process gets nothing and does
/// not start; the old one serves on.
fn refused(binary: &Path) -> (Vec<String>, Option<i32>, String) {
    let server = NameServer::start("s1", 0);
    let port = free_port();
    let dir = config_file("takeover-refused", "")
        .parent()
        .unwrap()
        .to_path_buf();
    let socket = dir.join("api.sock");
    let _ = std::fs::remove_file(&socket);
    let cfg = config_file(
        "takeover-refused",
        &config(port, server.port, &socket, false),
    );
    let mut first = ProxyProcess::start(binary, &cfg);
    first.wait_listening(port, WAIT);
    drop(xtests::connect_unix(&socket, WAIT));
    let (code, out) = xtests::run(
        binary,
        &[
            "-db",
            "-f",
            cfg.to_str().unwrap(),
            "-x",
            socket.to_str().unwrap(),
        ],
    );
    let messages = xtests::check_messages(&out);
    (messages, Some(code), wait_answering(port, WAIT))
}

#[test]
fn without_expose_fd_the_new_process_fails_as_haproxy() {
    let (messages, code, answered) =
        xtests::side_by_side(&xtests::proxies!(), "-x refused", refused);
    assert_eq!(
        messages,
        [
            "[WARNING]  (PID) : Failed to get the number of sockets to be transferred !",
            "[ALERT]    (PID) : Failed to get the sockets from the old process!"
        ]
    );
    assert_eq!(code, Some(1));
    assert_eq!(answered, "s1");
}
