//! Every scenario in scenarios/ runs in the simulator, each file its own
//! test (one failing hides no other): its expectations hold, the same seed
//! gives the same bytes, and its transcript and client report match the
//! snapshot in snapshots/<name>.snap.

use std::path::{Path, PathBuf};

use sim::scenario::Scenario;

/// One test per scenario file, named after it (`replays::fall_rise`).
/// A new file needs its line here: `every_scenario_file_has_a_test`
/// fails until it has one.
macro_rules! scenario_tests {
    ($($test:ident => $file:literal,)*) => {
        /// The files the tests replay.
        const LISTED: &[&str] = &[$($file),*];

        mod replays {
            $(
                #[test]
                fn $test() {
                    super::replay($file);
                }
            )*
        }
    };
}

scenario_tests! {
    allbackups => "allbackups.yaml",
    application => "application.yaml",
    capacity => "capacity.yaml",
    failover => "failover.yaml",
    fall_rise => "fall-rise.yaml",
    flapping => "flapping.yaml",
    http_check => "http-check.yaml",
    http_routing => "http-routing.yaml",
    maxconn => "maxconn.yaml",
    misbehaving => "misbehaving.yaml",
    partition => "partition.yaml",
    reload_down => "reload-down.yaml",
    reload_invalid => "reload-invalid.yaml",
    reload_load => "reload-load.yaml",
    runtime_api => "runtime-api.yaml",
    seed => "seed.yaml",
    slowstart => "slowstart.yaml",
}

fn scenario_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    files
}

/// No scenario file is left out of the tests, and no test names a file
/// that is gone.
#[test]
fn every_scenario_file_has_a_test() {
    let files: Vec<String> = scenario_files()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let mut listed: Vec<String> = LISTED.iter().map(|f| f.to_string()).collect();
    listed.sort();
    assert_eq!(
        files, listed,
        "each file of scenarios/ needs its line in scenario_tests! (sim/tests/scenarios.rs)"
    );
}

fn run(path: &Path) -> (Scenario, sim::world::Outcome) {
    let s = Scenario::load(path).unwrap_or_else(|e| panic!("{e}"));
    let outcome = sim::world::run(&s).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (s, outcome)
}

/// Replays scenarios/`file` twice: its expectations hold, both runs give
/// the same bytes, and they match its snapshot.
fn replay(file: &str) {
    // `sim` runs from the repository root, where the seed's errorfiles
    // are found (every other path here is absolute). Every test sets the
    // same directory.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::env::set_current_dir(&root).unwrap();
    let path = root.join("scenarios").join(file);
    let (s, first) = run(&path);
    assert!(
        first.failed.is_empty(),
        "{} (seed {}):\n{}\n{}",
        path.display(),
        s.seed,
        first.failed.join("\n"),
        first.transcript
    );
    let (_, second) = run(&path);
    let output = format!("{}\n{}", first.transcript, first.report);
    if let Some(diff) = first_difference(
        &output,
        &format!("{}\n{}", second.transcript, second.report),
    ) {
        panic!(
            "{} (seed {}): same seed, different bytes: {diff}",
            path.display(),
            s.seed
        );
    }
    let stored = snapshot_of(&s.name);
    if let Some(diff) = stored
        .as_deref()
        .and_then(|stored| first_difference(stored, &output))
    {
        // insta's diff follows; this names the run and the first line.
        eprintln!(
            "{} (seed {}) differs from its snapshot: {diff}",
            path.display(),
            s.seed
        );
    }
    insta::with_settings!({
        snapshot_path => "../../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
        description => format!("scenarios/{} (seed {})", path.file_name().unwrap().to_string_lossy(), s.seed),
    }, {
        insta::assert_snapshot!(s.name.clone(), output);
    });
}

/// A stored snapshot's contents, without insta's header.
fn snapshot_of(name: &str) -> Option<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../snapshots/{name}.snap"));
    let text = std::fs::read_to_string(path).ok()?;
    let body = text.strip_prefix("---\n")?.split_once("\n---\n")?.1;
    Some(body.to_string())
}

/// The first line where two outputs differ: its number and both texts.
fn first_difference(expected: &str, actual: &str) -> Option<String> {
    let (mut e, mut a) = (expected.trim_end().lines(), actual.trim_end().lines());
    for n in 1.. {
        match (e.next(), a.next()) {
            (None, None) => return None,
            (x, y) if x == y => continue,
            (x, y) => {
                return Some(format!(
                    "line {n}: expected {:?}, got {:?}",
                    x.unwrap_or("(end)"),
                    y.unwrap_or("(end)")
                ))
            }
        }
    }
    None
}

#[test]
fn a_difference_names_its_first_line() {
    assert_eq!(first_difference("a\nb\nc\n", "a\nb\nc"), None);
    assert_eq!(
        first_difference("a\nb\nc", "a\nx\nc").as_deref(),
        Some("line 2: expected \"b\", got \"x\"")
    );
    assert_eq!(
        first_difference("a", "a\nmore").as_deref(),
        Some("line 2: expected \"(end)\", got \"more\"")
    );
    // Every stored snapshot is found and read without its header.
    let failover = snapshot_of("failover").unwrap();
    assert!(failover.starts_with("   0.504s client"), "{failover:.80}");
}

#[test]
fn the_embedded_default_is_the_failover_scenario() {
    let embedded =
        Scenario::parse("embedded", sim::DEFAULT_SCENARIO, Path::new("scenarios")).unwrap();
    assert_eq!(embedded.name, "failover");
}

/// Which server answered each connection of a client named `client`.
fn answers(transcript: &str) -> Vec<(f64, String)> {
    transcript
        .lines()
        .filter_map(|l| {
            let (time, rest) = l.trim_start().split_once("s client")?;
            let who = rest.trim().strip_prefix("answered by ")?;
            Some((time.parse().ok()?, who.to_string()))
        })
        .collect()
}

fn time_of(transcript: &str, needle: &str) -> f64 {
    let line = transcript
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{transcript}"));
    line.trim_start()
        .split_once('s')
        .unwrap()
        .0
        .parse()
        .unwrap()
}

/// The same engine code as the `engine` binary, over turmoil: roundrobin
/// alternates, dead servers leave, the backup takes over, restored servers
/// rejoin after rise checks.
#[test]
fn failover_alternates_fails_over_and_restores() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/failover.yaml");
    let (_, o) = run(&path);
    let t = &o.transcript;
    let early: Vec<String> = answers(t)
        .into_iter()
        .filter(|(at, _)| *at < 3.0)
        .map(|(_, w)| w)
        .collect();
    assert_eq!(early, ["web1", "web2", "web1", "web2", "web1"], "{t}");

    let web1_down = time_of(t, "Server test/web1 is DOWN");
    let web2_down = time_of(t, "Server test/web2 is DOWN");
    // Silent deaths: fall (3) checks, each lasting inter (1s) of timeout
    // plus inter (1s) of pause, after the crash.
    assert!((3.0..=3.0 + 3.0 * 2.0 + 1.0).contains(&web1_down), "{t}");
    assert!(
        t.contains("0 active and 1 backup servers left. Running on backup."),
        "{t}"
    );
    for (at, who) in answers(t) {
        if at > web1_down && at < 22.0 {
            assert_ne!(who, "web1", "web1 answered at {at} while DOWN:\n{t}");
        }
        if who == "web7" {
            assert!(
                at > web2_down,
                "backup answered at {at} with an active server up:\n{t}"
            );
        }
    }
    let web1_up = time_of(t, "Server test/web1 is UP");
    let web2_up = time_of(t, "Server test/web2 is UP");
    for up in [web1_up, web2_up] {
        assert!(
            (22.0..=22.0 + 2.0 * 1.0 + 1.0).contains(&up),
            "rise 2 at inter 1s:\n{t}"
        );
    }
    let after: Vec<String> = answers(t)
        .into_iter()
        .filter(|(at, _)| *at > web1_up.max(web2_up))
        .map(|(_, w)| w)
        .collect();
    assert!(
        after.len() >= 4 && after.windows(2).all(|w| w[0] != w[1]),
        "{after:?}"
    );
}

/// Settings for the operating-system process do not apply to a simulated
/// host, and the transcript says so rather than dropping them silently.
#[test]
fn process_settings_are_reported_as_not_simulated() {
    let mut s = Scenario::parse("embedded", sim::DEFAULT_SCENARIO, Path::new("scenarios")).unwrap();
    let proxy = &mut s.proxies[0];
    let text = proxy.config.take().unwrap();
    proxy.config = Some(format!(
        "global\n    chroot /var/empty\n    uid 99\n    daemon\n\n{text}"
    ));
    let o = sim::world::run(&s).unwrap();
    assert!(
        o.transcript.contains(
            "[NOTICE]   (1000) : process settings a simulated host does not take: chroot, user/uid, daemon."
        ),
        "{}",
        o.transcript
    );
}

/// The proxies' side of the report agrees with the clients': each
/// connection closed by `timeout queue` is one `sQ` stream, each error
/// page a client got is a status the proxy answered.
#[test]
fn the_proxies_streams_agree_with_the_clients() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let (s, o) = run(&dir.join("maxconn.yaml"));
    let clients = o.clients.summaries(s.duration.0);
    let closed: u64 = clients
        .iter()
        .map(|c| {
            c.outcomes
                .get("closed without an answer")
                .copied()
                .unwrap_or(0)
        })
        .sum();
    let connections: u64 = clients.iter().map(|c| c.connections).sum();
    assert_eq!(o.streams.len(), 1, "{:?}", o.streams);
    assert!(closed > 0);
    assert_eq!(
        o.streams[0].states.get("sQ"),
        Some(&closed),
        "{:?}",
        o.streams
    );
    assert_eq!(o.streams[0].streams, connections);
    let queue = o.streams[0].queue_ms.unwrap();
    assert_eq!(queue.max, 1001, "timeout queue 1s, from accept");

    let (s, o) = run(&dir.join("http-check.yaml"));
    let browser = &o.clients.summaries(s.duration.0)[0];
    let got = |outcome: &str| browser.outcomes.get(outcome).copied();
    assert_eq!(
        o.streams[0].statuses.get(&500).copied(),
        got("answered by 500 error")
    );
    assert_eq!(
        o.streams[0].statuses.get(&504).copied(),
        got("answered by 504")
    );
    assert_eq!(
        o.streams[0].states.get("sH"),
        Some(&1),
        "the 504: server timeout"
    );
}

/// TCP servers that echo, and that reset once the request arrives: the
/// client reads its own bytes back from one, and the proxy ends the
/// other's streams with a server abort (`SD`).
#[test]
fn tcp_servers_echo_or_reset() {
    let text = r#"
name: tcp-peers
duration: 2s
proxies:
  - name: p
    address: 10.0.0.1
    config: |
      defaults
          mode tcp
          timeout connect 1s
          timeout client 2s
          timeout server 2s
      listen echo
          bind :80
          server e 10.0.0.2:80
      listen reset
          bind :81
          server r 10.0.0.3:80
servers:
  - { name: e, address: 10.0.0.2, echo: true }
  - { name: r, address: 10.0.0.3 }
clients:
  - { name: a, address: 10.0.0.9, target: "10.0.0.1:80", every: 500ms, send: "ping" }
  - { name: b, address: 10.0.0.8, target: "10.0.0.1:81", every: 500ms, send: "ping" }
timeline:
  - { at: 0s, fail: { server: r, mode: reset } }
"#;
    let s = Scenario::parse("tcp-peers.yaml", text, Path::new(".")).unwrap();
    let o = sim::world::run(&s).unwrap();
    let clients = o.clients.summaries(s.duration.0);
    let a = clients.iter().find(|c| c.name == "a").unwrap();
    assert_eq!(
        a.outcomes.get("answered by ping"),
        Some(&a.connections),
        "{:?}",
        a.outcomes
    );
    let b = clients.iter().find(|c| c.name == "b").unwrap();
    assert_eq!(b.answered, 0, "{:?}", b.outcomes);
    let reset = o.streams.iter().find(|f| f.frontend == "reset").unwrap();
    assert_eq!(
        reset.states.get("SD"),
        Some(&b.connections),
        "{:?}",
        reset.states
    );
}

/// A failure reaches the connections a server already has: with
/// keep-alive users and the engine reusing its server connection, the
/// requests after `error` get 500s, and its service time is drawn per
/// request (a `slow` delay shows at once).
#[test]
fn failures_reach_kept_connections() {
    let text = r#"
name: kept
duration: 4s
proxies:
  - name: p
    address: 10.0.0.1
    config: |
      defaults
          mode http
          timeout connect 1s
          timeout client 5s
          timeout server 5s
      listen app
          bind :80
          server web1 10.0.0.2:80
servers:
  - { name: web1, address: 10.0.0.2, protocol: http }
clients:
  - name: users
    address: 10.0.0.9
    target: "10.0.0.1:80"
    users: 2
    think: 100ms
    keep_alive: true
    requests: [{ path: / }]
timeline:
  - { at: 1s, fail: { server: web1, mode: slow, delay: 300ms } }
  - { at: 2s, fail: { server: web1, mode: error } }
  - { at: 3s, fail: { server: web1, mode: none } }
"#;
    let s = Scenario::parse("kept.yaml", text, Path::new(".")).unwrap();
    let o = sim::world::run(&s).unwrap();
    let answers: Vec<(f64, String)> = o
        .transcript
        .lines()
        .filter_map(|l| {
            let (time, rest) = l.trim_start().split_once("s users")?;
            Some((time.parse().ok()?, rest.trim().to_string()))
        })
        .collect();
    let during = |from: f64, to: f64| -> Vec<&str> {
        answers
            .iter()
            .filter(|(at, _)| *at > from && *at <= to)
            .map(|(_, a)| a.as_str())
            .collect()
    };
    assert!(
        during(2.4, 3.0)
            .iter()
            .all(|a| *a == "answered by 500 error"),
        "{answers:?}"
    );
    assert!(!during(2.4, 3.0).is_empty());
    assert!(
        during(3.4, 4.0)
            .iter()
            .all(|a| *a == "answered by 200 web1"),
        "{answers:?}"
    );
    // Slow from 1 s: about one answer every 400 ms per user instead of 100.
    assert!(during(1.4, 2.0).len() <= 4, "{answers:?}");
}

/// A simulated proxy is named as its host in the scenario, not as the
/// machine running the simulation: `show info`'s node and the syslog
/// header of `log-send-hostname`.
#[test]
fn a_proxy_is_named_after_its_host() {
    let text = r#"
name: named
duration: 1s
proxies:
  - name: lb-paris-1
    address: 10.0.0.1
    config: |
      global
          log 10.0.0.200:514 local0
          log-send-hostname
      defaults
          mode tcp
          log global
          timeout connect 1s
          timeout client 5s
          timeout server 5s
      listen app
          bind :80
          server web1 10.0.0.2:80 check
servers:
  - { name: web1, address: 10.0.0.2 }
clients:
  - { name: c, address: 10.0.0.9, target: "10.0.0.1:80" }
syslog: 10.0.0.200
timeline:
  - { at: 100ms, api: { proxy: lb-paris-1, command: "show info" } }
  - { at: 200ms, api: { proxy: lb-paris-1, command: "disable server app/web1" } }
"#;
    let s = Scenario::parse("named.yaml", text, Path::new(".")).unwrap();
    let o = sim::world::run(&s).unwrap();
    assert!(
        o.transcript.contains("lb-paris-1: node: lb-paris-1"),
        "{}",
        o.transcript
    );
    assert!(
        o.transcript
            .contains(" lb-paris-1 engine[1000]: Server app/web1 is going DOWN for maintenance"),
        "{}",
        o.transcript
    );
}

/// A proxy's host crashes and restarts: its clients are refused while it
/// is down, and the engine starts again from its configuration (its
/// servers UP at first, their state found again by the checks).
#[test]
fn a_crashed_proxy_restarts_from_its_configuration() {
    let text = r#"
name: proxy-crash
duration: 4s
proxies:
  - name: p
    address: 10.0.0.1
    config: |
      defaults
          mode tcp
          timeout connect 1s
          timeout client 5s
          timeout server 5s
      listen app
          bind :80
          server web1 10.0.0.2:80 check inter 500
servers:
  - { name: web1, address: 10.0.0.2 }
clients:
  - { name: client, address: 10.0.0.9, target: "10.0.0.1:80", every: 200ms, patience: 1s }
timeline:
  - { at: 1s, crash: p }
  - { at: 2s, restore: p }
  - { at: 3s, api: { proxy: p, command: "show servers state app" } }
"#;
    let s = Scenario::parse("proxy-crash.yaml", text, Path::new(".")).unwrap();
    let o = sim::world::run(&s).unwrap();
    let answered_at: Vec<f64> = answers(&o.transcript)
        .into_iter()
        .map(|(at, _)| at)
        .collect();
    assert!(answered_at.iter().any(|at| *at < 1.0), "{}", o.transcript);
    assert!(answered_at.iter().any(|at| *at > 2.0), "{}", o.transcript);
    assert!(
        !answered_at.iter().any(|at| (1.01..2.0).contains(at)),
        "answers while the proxy was down:\n{}",
        o.transcript
    );
    // The restarted engine answers the API.
    assert!(
        o.transcript.contains("api        p: 1\n"),
        "{}",
        o.transcript
    );
}

/// An HTTP server's `concurrency` counts requests, not connections: the
/// engine's idle kept connections hold no worker, so three keep-alive
/// users share a one-worker server, each waiting its turn.
#[test]
fn http_workers_serve_requests_not_connections() {
    let text = r#"
name: workers
duration: 3s
proxies:
  - name: p
    address: 10.0.0.1
    config: |
      defaults
          mode http
          timeout connect 1s
          timeout client 5s
          timeout server 5s
      listen app
          bind :80
          server web1 10.0.0.2:80
servers:
  - { name: web1, address: 10.0.0.2, protocol: http, concurrency: 1, service_time: 50ms }
clients:
  - name: users
    address: 10.0.0.9
    target: "10.0.0.1:80"
    users: 3
    think: 10ms
    keep_alive: true
    requests: [{ path: / }]
    patience: 2s
"#;
    let s = Scenario::parse("workers.yaml", text, Path::new(".")).unwrap();
    let o = sim::world::run(&s).unwrap();
    assert_eq!(o.clients.failed("users"), 0, "{}", o.transcript);
    // One worker, 50 ms each: about 20 answers a second in all, each
    // user waiting for the two others.
    let answered = o.clients.answered("users");
    assert!((50..=62).contains(&answered), "{answered}");
    let median = o.clients.percentile("users", 0.5).unwrap();
    assert!(
        median >= std::time::Duration::from_millis(140),
        "{median:?}"
    );
}
