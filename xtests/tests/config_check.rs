//! `engine -c` and `haproxy -c`, live, on every configuration of examples/
//! (the seed's, clean and verbatim-broken): same exit code, same messages
//! line for line. Only HAProxy's two banner lines (its version and path)
//! and the pids are left out of the comparison.

use std::path::PathBuf;

use xtests::run_in;

fn example_files() -> Vec<PathBuf> {
    let root = xtests::workspace().join("examples");
    let mut files = vec![];
    for dir in [root.clone(), root.join("broken")] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "cfg") {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 10, "examples/ holds the seed configs");
    files
}

#[test]
fn every_example_checks_as_with_haproxy() {
    let Some(haproxy) = xtests::haproxy_bin() else {
        return;
    };
    let engine = xtests::engine_bin!();
    let root = xtests::workspace();
    let mut mismatches = vec![];
    for file in example_files() {
        // Relative paths, so both print the same file names.
        let rel = file
            .strip_prefix(&root)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let args = ["-c", "-f", rel.as_str()];
        let theirs = run_in(&haproxy, &root, &args);
        let ours = run_in(&engine, &root, &args);
        if (ours.0, xtests::check_messages(&ours.1))
            != (theirs.0, xtests::check_messages(&theirs.1))
        {
            mismatches.push(format!(
                "{rel}\n  haproxy (exit {}):\n{}\n  engine (exit {}):\n{}",
                theirs.0,
                xtests::check_messages(&theirs.1).join("\n"),
                ours.0,
                xtests::check_messages(&ours.1).join("\n")
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n\n"));
}

/// `log` addresses and `stats socket` parameters are typed when the
/// configuration is read, as HAProxy reads them: what it refuses fails
/// `-c` here too, with its message (before, the engine accepted these
/// with `-c` and refused some of them at start as not implemented, or
/// sent to `log ::1`), and what it accepts stays accepted.
#[test]
fn log_targets_and_stats_sockets_check_as_with_haproxy() {
    let Some(haproxy) = xtests::haproxy_bin() else {
        return;
    };
    let engine = xtests::engine_bin!();
    let dir = std::env::temp_dir().join(format!("config-check-typed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        "log ::1 local0",
        "log foo local0",
        "log 127.0.0.1:99999 local0",
        "log 127.0.0.1:514-516 local0",
        "log 127.0.0.1:x local0",
        "log 127.0.0.1:+3 local0",
        "log fd@x local0",
        "log fd@3 local0",
        "log ring@buf local0",
        "log tcp@127.0.0.1:514 local0",
        "log udp@127.0.0.1 local0",
        "log 127.0.0.1: local0",
        "log localhost:514 local0",
        "log [::1]:514 local0",
        "log stdout format raw daemon",
        // len, format and sample are taken once each, in this order.
        "log 127.0.0.1 len 1024 format raw local0",
        "log 127.0.0.1 format raw len 1024 local0",
        "log 127.0.0.1 sample 1:2 format raw local0",
        "log 127.0.0.1 len",
        "log 127.0.0.1 format",
        "log 127.0.0.1 sample",
        "log 127.0.0.1 sample 1 local0",
        "log 127.0.0.1 local0 foo",
        "log 127.0.0.1 local0 info foo",
        "stats socket /tmp/typed.sock level foo",
        "stats socket /tmp/typed.sock level",
        "stats socket /tmp/typed.sock mode xyz",
        "stats socket /tmp/typed.sock mode",
        "stats socket /tmp/typed.sock mode -600",
        "stats socket /tmp/typed.sock bogus",
        "stats socket /tmp/typed.sock levl admin",
        "stats socket /tmp/typed.sock thread",
        "stats socket /tmp/typed.sock level admin mode 600 expose-fd listeners",
    ];
    let mut mismatches = vec![];
    for (n, line) in cases.iter().enumerate() {
        let name = format!("case{n}.cfg");
        let text = format!(
            "global\n    {line}\nfrontend f\n    bind 127.0.0.1:8080\n    timeout client 1s\n"
        );
        std::fs::write(dir.join(&name), text).unwrap();
        let args = ["-c", "-f", name.as_str()];
        let theirs = run_in(&haproxy, &dir, &args);
        let ours = run_in(&engine, &dir, &args);
        let theirs = (theirs.0, xtests::check_messages(&theirs.1));
        let ours = (ours.0, xtests::check_messages(&ours.1));
        if ours != theirs {
            mismatches.push(format!(
                "{line}\n  haproxy: {theirs:?}\n  engine:  {ours:?}"
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n\n"));
}
