//! The `reload` event does what production does: the new generation
//! takes the listeners over (their backlog included: no connection is
//! lost), addresses the new configuration drops close with the old
//! generation, new ones are bound, a crashed proxy is not reloaded and a
//! restarted one runs its last configuration. The scenarios in
//! `scenarios/reload-*.yaml` show the rest (states carried over, failed
//! reloads), with snapshots.

use std::path::Path;

use sim::scenario::Scenario;

fn run(text: &str) -> sim::world::Outcome {
    let scenario =
        Scenario::parse("reload.yaml", text, Path::new(".")).unwrap_or_else(|e| panic!("{e}"));
    let outcome = sim::world::run(&scenario).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        outcome.failed.is_empty(),
        "{}\n{}",
        outcome.failed.join("\n"),
        outcome.transcript
    );
    outcome
}

/// The connections the generation with `pid` accepted on `proxy`, from its
/// soft stop's line.
fn cumulated(transcript: &str, pid: u32, proxy: &str) -> u64 {
    let marker = format!("({pid}) : Proxy {proxy} stopped (cumulated conns: FE: ");
    let at = transcript.find(&marker).expect("a soft stop") + marker.len();
    let digits: String = transcript[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().unwrap()
}

#[test]
fn connections_waiting_in_the_backlog_go_to_the_new_generation() {
    // Four at a time (the frontend's maxconn) at 200 ms each: 20 a
    // second served, 40 arriving, so connections wait in :80's backlog
    // when the reload comes. They are accepted by the new generation.
    let outcome = run("
name: backlog
duration: 2s
proxies:
  - name: lb
    address: 10.0.0.1
    config: |
      defaults
          mode tcp
          timeout connect 1s
          timeout client  30s
          timeout server  30s
      listen app
          bind :80
          maxconn 4
          server s1 10.0.0.11:80
    # (maxconn set per generation: each may hold four)
servers:
  - { name: s1, address: 10.0.0.11, service_time: 200ms }
clients:
  - { name: load, address: 10.0.0.100, target: \"10.0.0.1:80\", rate: 40/s, quiet: true, patience: 30s }
timeline:
  - at: 1s
    reload:
      proxy: lb
      config: |
        defaults
            mode tcp
            timeout connect 1s
            timeout client  30s
            timeout server  30s
        listen app
            bind :80
            maxconn 4
            server s1 10.0.0.11:80
expect:
  - { at: 1100ms, proxy: lb, pid: 1001 }
");
    let load = &outcome.clients.summaries(std::time::Duration::from_secs(2))[0];
    assert!(load.connections >= 79, "{load:?}");
    assert_eq!(outcome.clients.failed("load"), 0, "{}", outcome.transcript);
    assert_eq!(load.answered as u64, load.connections);
    // 40 connections arrived before the reload; the old generation had
    // accepted far fewer: the rest were waiting, and the new one took them.
    let old = cumulated(&outcome.transcript, 1000, "app");
    assert!((20..40).contains(&old), "pid 1000 accepted {old}");
    assert!(outcome
        .transcript
        .contains("reload     lb: pid 1001 took over from pid 1000; listeners handed over: 0.0.0.0:80; servers' states carried over: 1"));
    // The old generation lives until its last stream ends.
    let exited = outcome
        .transcript
        .lines()
        .find(|l| l.contains("pid 1000 exited"))
        .expect("the old generation exits");
    assert!(exited.trim_start().starts_with("1.1"), "{exited}");
}

#[test]
fn dropped_addresses_close_and_new_ones_listen() {
    // :81 is in the first configuration only, :82 in the second only.
    let outcome = run("
name: addresses
duration: 4s
proxies:
  - name: lb
    address: 10.0.0.1
    config: |
      defaults
          mode tcp
          timeout connect 1s
          timeout client  5s
          timeout server  5s
      listen app
          bind 10.0.0.1:80
          bind 10.0.0.1:81
          server s1 10.0.0.11:80
servers:
  - { name: s1, address: 10.0.0.11 }
clients:
  - { name: old, address: 10.0.0.100, target: \"10.0.0.1:81\", every: 1s }
  - { name: new, address: 10.0.0.101, target: \"10.0.0.1:82\", every: 1s }
timeline:
  - at: 1500ms
    reload:
      proxy: lb
      config: |
        defaults
            mode tcp
            timeout connect 1s
            timeout client  5s
            timeout server  5s
        listen app
            bind 10.0.0.1:80
            bind 10.0.0.1:82
            server s1 10.0.0.11:80
");
    let t = &outcome.transcript;
    assert!(
        t.contains("listeners handed over: 10.0.0.1:80; bound: 10.0.0.1:82; closed with pid 1000's soft stop: 10.0.0.1:81"),
        "{t}"
    );
    // :81 answered before the reload only, :82 after it only.
    let answers = |client: &str| -> Vec<(f64, bool)> {
        t.lines()
            .filter(|l| l.split_whitespace().nth(1) == Some(client))
            .map(|l| {
                let at: f64 = l
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .trim_end_matches('s')
                    .parse()
                    .unwrap();
                (at, l.contains("answered"))
            })
            .collect()
    };
    let old = answers("old");
    let new = answers("new");
    assert!(!old.is_empty() && !new.is_empty(), "{t}");
    assert!(
        old.iter().all(|(at, ok)| *ok == (*at < 1.5)),
        "{old:?}\n{t}"
    );
    assert!(
        new.iter().all(|(at, ok)| *ok == (*at > 1.5)),
        "{new:?}\n{t}"
    );
}

/// The first configuration: one server.
const ONE_SERVER: &str = "defaults
    mode tcp
    timeout connect 1s
    timeout client  5s
    timeout server  5s
listen app
    bind :80
    server s1 10.0.0.11:80 check inter 1s
";

/// `text`'s lines, each indented by `n` spaces (a YAML block scalar).
fn indent(text: &str, n: usize) -> String {
    text.lines()
        .map(|l| format!("{}{l}\n", " ".repeat(n)))
        .collect()
}

/// A proxy whose reload at 1 s adds server s2, then `timeline` and
/// `expect`.
fn restart_world(timeline: &str, expect: &str) -> String {
    let second = format!("{ONE_SERVER}    server s2 10.0.0.12:80 check inter 1s\n");
    format!(
        "
name: restart
duration: 6s
proxies:
  - name: lb
    address: 10.0.0.1
    config: |
{}servers:
  - {{ name: s1, address: 10.0.0.11 }}
  - {{ name: s2, address: 10.0.0.12 }}
clients:
  - {{ name: c, address: 10.0.0.100, target: \"10.0.0.1:80\", quiet: true }}
timeline:
  - at: 1s
    reload:
      proxy: lb
      config: |
{}{timeline}{expect}",
        indent(ONE_SERVER, 6),
        indent(&second, 8),
    )
}

#[test]
fn a_restarted_proxy_runs_its_last_configuration() {
    let text = restart_world(
        "  - { at: 2s, crash: lb }\n  - { at: 3s, restore: lb }\n",
        "expect:\n  - { at: 1500ms, proxy: lb, pid: 1001 }\n  - { at: 4s, server: app/s2, state: UP }\n  - { at: 4s, proxy: lb, pid: 1001 }\n",
    );
    let outcome = run(&text);
    // Started again from the file on disk: the second configuration.
    let t = &outcome.transcript;
    assert!(t.contains("pid 1001 took over from pid 1000"), "{t}");
}

#[test]
fn a_crashed_proxy_is_not_reloaded() {
    let outcome = run(&restart_world("  - { at: 500ms, crash: lb }\n", ""));
    let t = &outcome.transcript;
    assert!(
        t.contains("   1.000s reload     lb: not running, nothing to reload"),
        "{t}"
    );
    assert!(!t.contains("took over"), "{t}");
}
