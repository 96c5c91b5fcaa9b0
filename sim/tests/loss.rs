//! Lossy links cost what TCP's retransmissions cost: a connection whose
//! SYN or SYN-ACK is lost waits the initial retransmission timeout (1 s),
//! so with 5% loss between the proxy and its server about one connection
//! in ten (1 - 0.95²) takes a second more, and a `timeout connect` below
//! that turns those waits into connect failures and retries.

use std::path::Path;
use std::time::Duration;

use sim::scenario::Scenario;

fn run(timeout_connect: &str, loss: &str) -> (Scenario, sim::world::Outcome) {
    run_on("[proxy, s1]", timeout_connect, loss, "40s")
}

fn run_on(
    link: &str,
    timeout_connect: &str,
    loss: &str,
    duration: &str,
) -> (Scenario, sim::world::Outcome) {
    let text = format!(
        "name: loss
seed: 5
duration: {duration}
proxies:
  - name: proxy
    address: 10.0.0.1
    config: |
      defaults
          mode tcp
          retries 3
          timeout connect {timeout_connect}
          timeout client  30s
          timeout server  30s
      listen app
          bind :80
          server s1 10.0.0.11:80
servers:
  - {{ name: s1, address: 10.0.0.11, service_time: 5ms }}
links:
  - {{ between: {link}, loss: \"{loss}\" }}
clients:
  - {{ name: load, address: 10.0.0.100, target: \"10.0.0.1:80\", rate: 50/s, quiet: true, patience: 30s }}
"
    );
    let scenario =
        Scenario::parse("loss.yaml", &text, Path::new(".")).unwrap_or_else(|e| panic!("{e}"));
    let outcome = sim::world::run(&scenario).unwrap_or_else(|e| panic!("{e}"));
    (scenario, outcome)
}

#[test]
fn lost_syns_cost_a_second_each() {
    let (_, clean) = run("5s", "0%");
    let fast = clean.clients.percentile("load", 0.999).unwrap();
    assert!(fast < Duration::from_millis(50), "{fast:?}");

    let (_, lossy) = run("5s", "5%");
    assert_eq!(
        lossy.clients.failed("load"),
        0,
        "timeout connect 5s outlasts the retransmissions"
    );
    // About 9.75% of the connections lose a SYN or SYN-ACK (2,000 of them).
    let p85 = lossy.clients.percentile("load", 0.85).unwrap();
    let p95 = lossy.clients.percentile("load", 0.95).unwrap();
    assert!(p85 < Duration::from_secs(1), "p85 {p85:?}");
    assert!(p95 >= Duration::from_secs(1), "p95 {p95:?}");
    // Lost data segments cost 200 ms: some connections take that long.
    let p90 = lossy.clients.percentile("load", 0.90).unwrap();
    assert!(p90 >= Duration::from_millis(200), "p90 {p90:?}");
}

#[test]
fn a_short_connect_timeout_turns_lost_syns_into_retries() {
    let (_, o) = run("500ms", "5%");
    // Each lost handshake is now a connect timeout and a retry (Tc -1 then
    // a new attempt): the proxy counts them, the clients see the delay.
    let streams = &o.streams[0];
    assert_eq!(
        o.clients.failed("load"),
        0,
        "3 retries: all connect in the end"
    );
    // About 9.75% of 2,000 handshakes lose a packet (and a few retries
    // lose one again).
    assert!((130..=280).contains(&streams.retries), "{streams:?}");
    assert_eq!(streams.states.get("--"), Some(&streams.streams));
    let p95 = o.clients.percentile("load", 0.95).unwrap();
    assert!(
        (Duration::from_millis(500)..Duration::from_secs(1)).contains(&p95),
        "a retry after 500 ms instead of a 1 s retransmission: {p95:?}"
    );
}

#[test]
fn the_clients_side_loses_too_and_a_black_hole_lets_nothing_in() {
    // Lost SYNs from the clients: the proxy gets the connection a second
    // later, the client waits that second.
    let (_, lossy) = run_on("[load, proxy]", "5s", "5%", "20s");
    assert_eq!(lossy.clients.failed("load"), 0);
    let p95 = lossy.clients.percentile("load", 0.95).unwrap();
    assert!(p95 >= Duration::from_secs(1), "p95 {p95:?}");

    // Nothing gets through: the proxy accepts nothing (no stream to end,
    // no session), the clients give up.
    let (s, hole) = run_on("[load, proxy]", "5s", "100%", "2s");
    assert!(hole.streams.is_empty(), "{:?}", hole.streams);
    let load = &hole.clients.summaries(s.duration.0)[0];
    assert_eq!(load.answered, 0);
    assert_eq!(
        load.outcomes.get("no answer in time"),
        Some(&load.connections)
    );
}

/// Between two proxies the loss counts once: the connecting one lives
/// it (its handshake, its reads and writes), the accepting one does not
/// roll again.
#[test]
fn a_link_between_two_proxies_loses_once() {
    let text = "name: chain
seed: 3
duration: 40s
proxies:
  - name: front
    address: 10.0.0.1
    config: |
      defaults
          mode tcp
          timeout connect 5s
          timeout client  30s
          timeout server  30s
      listen app
          bind :80
          server back 10.0.0.2:80
  - name: back
    address: 10.0.0.2
    config: |
      defaults
          mode tcp
          timeout connect 5s
          timeout client  30s
          timeout server  30s
      listen app
          bind :80
          server s1 10.0.0.11:80
servers:
  - { name: s1, address: 10.0.0.11, service_time: 5ms }
links:
  - { between: [front, back], loss: 5% }
clients:
  - { name: load, address: 10.0.0.100, target: \"10.0.0.1:80\", rate: 50/s, quiet: true, patience: 30s }
";
    let scenario = Scenario::parse("chain.yaml", text, Path::new(".")).unwrap();
    let o = sim::world::run(&scenario).unwrap();
    assert_eq!(o.clients.failed("load"), 0);
    // Each connection crosses the link with three packets that may be
    // lost (SYN, SYN-ACK, the answer; the client sends nothing): 14.3% of
    // the connections lose one at 5% and take 200 ms or more. Rolled again
    // by the accepting proxy, the answer would count twice (18.5%).
    let p83 = o.clients.percentile("load", 0.83).unwrap();
    assert!(
        p83 < Duration::from_millis(200),
        "p83 {p83:?}: the loss counted twice?"
    );
    let p90 = o.clients.percentile("load", 0.90).unwrap();
    assert!(p90 >= Duration::from_millis(200), "p90 {p90:?}");
    let p95 = o.clients.percentile("load", 0.95).unwrap();
    assert!(
        p95 >= Duration::from_secs(1),
        "p95 {p95:?}: lost handshakes"
    );
}
