//! Trust in the numbers: the simulator against queueing theory. One
//! server that serves one connection at a time behind one proxy is an
//! M/M/1 queue when arrivals are Poisson and service times exponential:
//! its mean response time is 1/(mu - lambda). Below capacity with regular
//! arrivals and service, nothing waits and every response takes the
//! service time.
//!
//! The simulated network and tokio's timers move in whole milliseconds
//! (a few per connection, half of one per service on average): the
//! service times are long enough (100 ms) for that to stay within a few
//! percent.

use std::path::Path;
use std::time::Duration;

use sim::scenario::Scenario;

fn run(service: &str, client: &str, duration: &str) -> sim::world::Outcome {
    run_with(service, client, duration, "")
}

fn run_with(service: &str, client: &str, duration: &str, timeline: &str) -> sim::world::Outcome {
    let text = format!(
        "name: queueing
seed: 11
duration: {duration}
latency: 0s
proxies:
  - name: proxy
    address: 10.0.0.1
    config: |
      defaults
          mode tcp
          timeout connect 1s
          timeout client  100s
          timeout server  100s
      listen app
          bind :80
          maxconn 10000
          server s1 10.0.0.11:80 maxconn 10000
servers:
  - {{ name: s1, address: 10.0.0.11, service_time: {service}, concurrency: 1 }}
clients:
  - {{ name: load, address: 10.0.0.100, target: \"10.0.0.1:80\", {client}, quiet: true, patience: 100s }}
{timeline}"
    );
    let scenario =
        Scenario::parse("queueing.yaml", &text, Path::new(".")).unwrap_or_else(|e| panic!("{e}"));
    sim::world::run(&scenario).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn an_mm1_queue_has_the_mean_response_time_theory_predicts() {
    // mu = 10/s (100 ms mean service), lambda = 5/s: rho = 0.5 and
    // W = 1 / (mu - lambda) = 200 ms.
    let outcome = run(
        "{ exponential: 100ms }",
        "rate: 5/s, arrival: poisson",
        "4000s",
    );
    let answered = outcome.clients.answered("load");
    assert!(answered > 18_000, "{answered} answered");
    assert_eq!(outcome.clients.failed("load"), 0);
    let mean = outcome.clients.mean("load").unwrap().as_secs_f64();
    let predicted = 1.0 / (10.0 - 5.0);
    let error = (mean - predicted).abs() / predicted;
    assert!(
        error < 0.05,
        "mean {:.1} ms, M/M/1 predicts {:.1} ms ({:.1}% off)\n{}",
        mean * 1000.0,
        predicted * 1000.0,
        error * 100.0,
        outcome.report
    );
}

#[test]
fn below_capacity_nothing_queues() {
    // A connection every 200 ms, each served in 100 ms: the server is
    // idle when the next one comes, so every response takes the same time.
    let outcome = run("100ms", "rate: 5/s, arrival: constant", "60s");
    let c = &outcome.clients;
    assert!(c.answered("load") >= 295, "{}", outcome.report);
    let (fastest, slowest) = (
        c.percentile("load", 0.0).unwrap(),
        c.percentile("load", 1.0).unwrap(),
    );
    assert_eq!(fastest, slowest, "{}", outcome.report);
    assert!(
        fastest >= Duration::from_millis(100) && fastest < Duration::from_millis(105),
        "{fastest:?}"
    );
}

#[test]
fn an_empirical_distribution_draws_the_measured_times() {
    // Two measured times, a connection every 500 ms: nothing waits, so
    // each response takes one of the two (plus the network's constant).
    let outcome = run(
        "{ empirical: [100ms, 300ms] }",
        "rate: 2/s, arrival: constant",
        "60s",
    );
    let c = &outcome.clients;
    let (fastest, slowest) = (
        c.percentile("load", 0.0).unwrap(),
        c.percentile("load", 1.0).unwrap(),
    );
    assert_eq!(
        slowest - fastest,
        Duration::from_millis(200),
        "{}",
        outcome.report
    );
    let mean = c.mean("load").unwrap();
    // About half and half.
    assert!(
        mean > fastest + Duration::from_millis(70) && mean < slowest - Duration::from_millis(70),
        "{mean:?}\n{}",
        outcome.report
    );
}

#[test]
fn the_timeline_changes_the_load() {
    // 5/s for 30 s, then 20/s for 30 s: about 150 + 600 connections.
    let outcome = run_with(
        "10ms",
        "rate: 5/s, arrival: constant",
        "60s",
        "timeline:\n  - { at: 30s, load: { client: load, rate: 20/s } }\n",
    );
    let answered = outcome.clients.answered("load");
    assert!(
        (740..=760).contains(&answered),
        "{answered}\n{}",
        outcome.report
    );
    assert!(outcome
        .transcript
        .contains("load now connects 20 times a second"));
}
