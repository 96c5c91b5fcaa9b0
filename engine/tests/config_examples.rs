//! Every configuration under examples/ gives the `-c` report the real
//! HAProxy 2.6.12 gave (examples/expected/*.txt, recorded by
//! examples/expected/regen.sh), modulo the two NOTICE banner lines and the
//! process id. Runs without haproxy installed.

use engine::config::{self, CheckReport};
use std::path::{Path, PathBuf};

/// The repository root: example paths (and the file names in messages)
/// are relative to it, as when regen.sh ran haproxy.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `examples/broken/x.cfg` → `broken-x`.
fn expected_name(rel: &str) -> String {
    rel.trim_start_matches("examples/")
        .trim_end_matches(".cfg")
        .replace('/', "-")
}

fn examples() -> Vec<String> {
    let mut out = vec![];
    for dir in ["examples", "examples/broken", "examples/errors"] {
        let mut names: Vec<String> = std::fs::read_dir(root().join(dir))
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".cfg"))
            .map(|n| format!("{dir}/{n}"))
            .collect();
        names.sort();
        out.extend(names);
    }
    out
}

/// Our report in the expected-file format.
fn ours(rep: &CheckReport) -> String {
    let body = format!("{}{}", rep.stderr, rep.stdout).replace("(0) : ", "(PID) : ");
    format!("exit: {}\n{body}", rep.exit_code)
}

/// Drops HAProxy's banner (version, executable path), which we don't print.
fn normalize(expected: &str) -> String {
    expected
        .lines()
        .filter(|l| {
            !(l.starts_with("[NOTICE]   (PID) : haproxy version is")
                || l.starts_with("[NOTICE]   (PID) : path to executable is"))
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn every_example_matches_haproxy() {
    std::env::set_current_dir(root()).unwrap();
    let mut failures = vec![];
    let all = examples();
    assert!(all.len() >= 15, "examples missing: {all:?}");
    for rel in &all {
        let want = std::fs::read_to_string(format!("examples/expected/{}.txt", expected_name(rel)))
            .unwrap_or_else(|e| panic!("no expected output for {rel}: {e}"));
        let got = ours(&config::check_paths(&[PathBuf::from(rel)], 0));
        let want = normalize(&want);
        if got != want {
            failures.push(format!("--- {rel}\n=== expected\n{want}=== got\n{got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

#[test]
fn the_tcp_example_is_fully_implemented() {
    std::env::set_current_dir(root()).unwrap();
    let loaded = config::load(&[PathBuf::from("examples/tcp-roundrobin.cfg")]).unwrap();
    assert!(
        loaded.config.unimplemented.is_empty(),
        "{:?}",
        loaded.config.unimplemented
    );
    let app = &loaded.config.proxies[0];
    assert_eq!(app.servers.len(), 3);
    assert!(app.servers[2].backup);
    assert!(app.servers.iter().all(|s| s.check.enabled));
}

#[test]
fn seed_http_configs_run_every_keyword() {
    std::env::set_current_dir(root()).unwrap();
    let loaded = config::load(&[PathBuf::from("examples/seed-vhost.cfg")]).unwrap();
    let kws: Vec<&str> = loaded
        .config
        .unimplemented
        .iter()
        .map(|u| u.keyword.as_str())
        .collect();
    assert!(kws.is_empty(), "not built: {kws:?}");
    // What the seed's vhost config uses, all built: none listed.
    for k in [
        "stats enable",
        "stats uri",
        "stats auth",
        "mode http",
        "option httplog",
        "acl",
        "use_backend",
        "timeout connect",
        "log global",
        "log",
        "option redispatch",
        "balance leastconn",
    ] {
        assert!(!kws.contains(&k), "{k} is built but listed in {kws:?}");
    }
}
