//! How much virtual time a second of wall time buys: 1,000 requests per
//! second through one proxy to four servers, and 10,000 concurrent
//! clients. Prints virtual seconds per wall second for each (the book's
//! simulator chapter quotes them). Run with `cargo bench -p sim`.

use std::path::Path;
use std::time::Instant;

use sim::scenario::Scenario;

fn scenario(duration: &str, clients: &str) -> Scenario {
    let text = format!(
        "name: speed
seed: 5
duration: {duration}
latency: 1ms
proxies:
  - name: proxy
    address: 10.0.0.1
    config: |
      defaults
          mode tcp
          timeout connect 1s
          timeout client  30s
          timeout server  30s
      listen app
          bind :80
          maxconn 20000
          server s1 10.0.0.11:80 maxconn 5000
          server s2 10.0.0.12:80 maxconn 5000
          server s3 10.0.0.13:80 maxconn 5000
          server s4 10.0.0.14:80 maxconn 5000
servers:
  - {{ name: s1, address: 10.0.0.11, service_time: {{ exponential: 5ms }} }}
  - {{ name: s2, address: 10.0.0.12, service_time: {{ exponential: 5ms }} }}
  - {{ name: s3, address: 10.0.0.13, service_time: {{ exponential: 5ms }} }}
  - {{ name: s4, address: 10.0.0.14, service_time: {{ exponential: 5ms }} }}
clients:
  - {{ name: load, address: 10.0.0.100, target: \"10.0.0.1:80\", {clients}, quiet: true, patience: 10s }}
"
    );
    Scenario::parse("speed.yaml", &text, Path::new(".")).unwrap_or_else(|e| panic!("{e}"))
}

fn measure(what: &str, s: &Scenario) {
    let started = Instant::now();
    let outcome = sim::world::run(s).unwrap_or_else(|e| panic!("{e}"));
    let wall = started.elapsed().as_secs_f64();
    let answered = outcome.clients.answered("load");
    println!(
        "{what}: {answered} answered in {:.0} s of virtual time, {wall:.2} s of wall time: {:.1} virtual s per wall s",
        s.duration.0.as_secs_f64(),
        s.duration.0.as_secs_f64() / wall
    );
    print!("{}", outcome.report);
}

fn main() {
    measure(
        "1,000 req/s, 1 proxy, 4 servers",
        &scenario("60s", "rate: 1000/s, arrival: poisson"),
    );
    measure(
        "10,000 concurrent clients (1 s think)",
        &scenario("20s", "users: 10000, think: 1s"),
    );
}
