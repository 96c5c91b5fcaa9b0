//! `option redis-check` against real Redis servers (Debian's redis-server),
//! side by side with HAProxy 2.6: an open server passes, one that wants a
//! password answers `-NOAUTH` and keeps the connection, so the check
//! times out, and a stopped one is refused.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use xtests::{free_port, ProxyProcess};

/// redis-server, when installed. CI installs it and requires it.
fn redis_bin() -> Option<PathBuf> {
    xtests::installed(
        "redis-server",
        &["/usr/bin/redis-server", "/usr/local/bin/redis-server"],
        "the real Redis checks",
    )
}

/// A Redis server on a loopback port, without persistence.
struct Redis(Child);

impl Redis {
    fn start(bin: &Path, port: u16, extra: &[&str]) -> Redis {
        let child = Command::new(bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        xtests::wait_listening(port, Duration::from_secs(5));
        Redis(child)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Outcome {
    messages: Vec<String>,
    stats: Vec<Vec<String>>,
}

fn session(binary: &Path, redis: &Path) -> Outcome {
    let (open_port, auth_port) = (free_port(), free_port());
    let open = Redis::start(redis, open_port, &[]);
    let _auth = Redis::start(redis, auth_port, &["--requirepass", "secret"]);
    let fe = free_port();
    let socket = xtests::socket_path(&format!("redis-{fe}"));
    let mut cfg = xtests::check_config(&socket, fe, "tcp", "", "cache");
    cfg.push_str(&format!(
        "
backend cache
    option redis-check
    # Room for a loaded machine: without it a check has `inter` (100 ms)
    # to see Redis answer.
    timeout check 1s
    server open 127.0.0.1:{open_port} check inter 100 rise 1 fall 1
    server auth 127.0.0.1:{auth_port} check inter 100 rise 1 fall 1
"
    ));
    let cfg = xtests::config_file(&format!("redis-{fe}"), &cfg);
    let proxy = ProxyProcess::start(binary, &cfg);
    let patience = Duration::from_secs(5);
    proxy.wait_for("Server cache/auth is DOWN", patience);
    let mut stats = xtests::settled_check_columns(&socket, "open", 1);
    // Redis stops between two checks, so the next one is refused: one
    // under way when it died would see the connection closed instead.
    xtests::pause_checks(&socket, "cache", "open");
    drop(open);
    xtests::api(&socket, "enable health cache/open");
    proxy.wait_for_backend_down("cache", "open", "DOWN", patience);
    stats.extend(xtests::settled_check_columns(&socket, "auth", 1));
    let mut messages = xtests::state_changes(&proxy.stderr(), &["Server cache/", "no server"]);
    messages.sort();
    Outcome { messages, stats }
}

#[test]
fn real_redis_servers_are_judged_as_haproxy_judges_them() {
    let Some(redis) = redis_bin() else {
        return;
    };
    let ours = session(&xtests::engine_bin!(), &redis);
    assert!(
        ours.messages.iter().any(|m| m.contains(
            // Redis keeps the connection open after its error, and the
            // check waits for more until `timeout check`.
            "Server cache/auth is DOWN, reason: Layer7 timeout"
        )),
        "{:#?}",
        ours.messages
    );
    assert_eq!(ours.stats[0][1..3], ["L7OK".to_string(), "0".to_string()]);
    let Some(haproxy) = xtests::haproxy_bin() else {
        return;
    };
    let theirs = session(&haproxy, &redis);
    assert_eq!(ours.messages, theirs.messages, "state changes");
    assert_eq!(ours.stats, theirs.stats, "show stat check columns");
}
