//! `chroot`, `user`/`uid` and `group`/`gid`: the running process takes
//! the configured root and identity after binding, as HAProxy 2.6 does,
//! keeps serving, and fails with HAProxy's message when it cannot.

use std::path::Path;
use std::time::Duration;

use xtests::{free_port, NameServer, ProxyProcess};

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// The `Uid:`/`Gid:` lines of /proc/<pid>/status and the process's root.
fn identity(pid: u32) -> (String, String, String) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .unwrap()
            .split_whitespace()
            .skip(1)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let root = std::fs::read_link(format!("/proc/{pid}/root")).unwrap();
    (line("Uid:"), line("Gid:"), root.display().to_string())
}

/// Starts `binary` with a chroot, `user nobody` and `gid 65534`; returns
/// its identity and what a client got through it.
fn run_confined(binary: &Path) -> ((String, String, String), String) {
    let s1 = NameServer::start("s1", 0);
    let fe = free_port();
    let jail = std::env::temp_dir().join(format!("xtests-jail-{fe}"));
    std::fs::create_dir_all(&jail).unwrap();
    let cfg = xtests::config_file(
        &format!("identity-{fe}"),
        &format!(
            "global\n    chroot {jail}\n    user nobody\n    gid 65534\n\ndefaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\nlisten app\n    bind 127.0.0.1:{fe}\n    server s1 127.0.0.1:{p1}\n",
            jail = jail.display(),
            p1 = s1.port,
        ),
    );
    let mut proxy = ProxyProcess::start(binary, &cfg);
    proxy.wait_bound(fe, Duration::from_secs(5));
    // The answer proves the identity change is behind us: it comes after it.
    let answer = xtests::ask(fe);
    let found = identity(proxy.pid());
    (found, answer)
}

#[test]
fn the_process_runs_confined_as_configured() {
    if !is_root() {
        eprintln!("skipped: changing identity needs root");
        return;
    }
    let (ours, answer) = run_confined(&xtests::engine_bin!());
    assert_eq!(answer, "s1");
    assert_eq!(ours.0, "65534 65534 65534 65534");
    assert_eq!(ours.1, "65534 65534 65534 65534");
    assert!(ours.2.contains("xtests-jail-"), "{}", ours.2);
    if let Some(haproxy) = xtests::haproxy_bin() {
        let (theirs, answer) = run_confined(&haproxy);
        assert_eq!(answer, "s1");
        assert_eq!((&ours.0, &ours.1), (&theirs.0, &theirs.1));
    }
}

/// The exit code and the alerts of a start whose chroot does not exist.
fn missing_chroot(binary: &Path) -> (i32, Vec<String>) {
    let fe = free_port();
    let cfg = xtests::config_file(
        &format!("nochroot-{fe}"),
        &format!(
            "global\n    chroot /nonexistent-{fe}\n\ndefaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\nlisten app\n    bind 127.0.0.1:{fe}\n    server s1 127.0.0.1:9\n"
        ),
    );
    let (code, out) = xtests::run(binary, &["-f", cfg.to_str().unwrap(), "-db"]);
    let name = binary.file_name().unwrap().to_str().unwrap().to_string();
    let alerts = out
        .lines()
        .filter(|l| l.starts_with("[ALERT]"))
        .map(|l| {
            l.split_once(" : ")
                .map_or(l, |(_, m)| m)
                .replace(&binary.display().to_string(), "PROG")
                .replace(&name, "PROG")
                .replace(&fe.to_string(), "PORT")
        })
        .collect();
    (code, alerts)
}

#[test]
fn a_missing_chroot_stops_the_start_with_haproxys_alert() {
    if !is_root() {
        eprintln!("skipped: chroot needs root");
        return;
    }
    let ours = xtests::side_by_side(&xtests::proxies!(), "a missing chroot", missing_chroot);
    assert_eq!(
        ours,
        (
            1,
            vec!["[PROG.main()] Cannot chroot(/nonexistent-PORT).".to_string()]
        )
    );
}
