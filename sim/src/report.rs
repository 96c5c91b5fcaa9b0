//! The clients' side of a run: what each client got, and how long it took.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What one client connection got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Bytes came back (a server's reply).
    Answered(String),
    /// The connection closed without a byte.
    Closed,
    /// Connecting, sending or reading failed.
    Error(String),
    /// Nothing came back within the client's patience.
    NoAnswer,
}

impl Outcome {
    pub fn describe(&self) -> String {
        match self {
            Outcome::Answered(a) => format!("answered by {a}"),
            Outcome::Closed => "closed without an answer".into(),
            Outcome::Error(e) => format!("error: {e}"),
            Outcome::NoAnswer => "no answer in time".into(),
        }
    }
}

#[derive(Debug, Default)]
struct ClientStats {
    /// Answers by their text, failures by kind (BTreeMap: sorted output).
    outcomes: BTreeMap<String, u64>,
    latencies: Vec<Duration>,
}

/// Shared by every simulated client of a run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    clients: Arc<Mutex<BTreeMap<String, ClientStats>>>,
}

impl Report {
    pub fn record(&self, client: &str, outcome: Outcome, latency: Duration) {
        let mut clients = self.clients.lock().expect("report lock");
        let stats = clients.entry(client.to_string()).or_default();
        *stats.outcomes.entry(outcome.describe()).or_default() += 1;
        if matches!(outcome, Outcome::Answered(_)) {
            stats.latencies.push(latency);
        }
    }

    /// Connections of `client` that got no answer.
    pub fn failed(&self, client: &str) -> u64 {
        let clients = self.clients.lock().expect("report lock");
        clients.get(client).map_or(0, |s| {
            s.outcomes
                .iter()
                .filter(|(o, _)| !o.starts_with("answered by "))
                .map(|(_, n)| n)
                .sum()
        })
    }

    /// The latency percentile `q` (0..=1) of `client`'s answered connections.
    pub fn percentile(&self, client: &str, q: f64) -> Option<Duration> {
        let clients = self.clients.lock().expect("report lock");
        let mut l = clients.get(client)?.latencies.clone();
        l.sort();
        (!l.is_empty()).then(|| l[((l.len() - 1) as f64 * q).round() as usize])
    }

    /// The mean latency of `client`'s answered connections.
    pub fn mean(&self, client: &str) -> Option<Duration> {
        let clients = self.clients.lock().expect("report lock");
        let l = &clients.get(client)?.latencies;
        let n = u32::try_from(l.len()).ok().filter(|n| *n > 0)?;
        Some(l.iter().sum::<Duration>() / n)
    }

    /// How many of `client`'s connections were answered.
    pub fn answered(&self, client: &str) -> usize {
        let clients = self.clients.lock().expect("report lock");
        clients.get(client).map_or(0, |s| s.latencies.len())
    }

    /// Per client: connections, outcomes, the answered ones' rate over
    /// `duration` and their latency percentiles (virtual time).
    pub fn render(&self, duration: Duration) -> String {
        let clients = self.clients.lock().expect("report lock");
        let mut out = String::new();
        for (name, stats) in clients.iter() {
            let total: u64 = stats.outcomes.values().sum();
            out.push_str(&format!("client {name}: {total} connections\n"));
            for (outcome, n) in &stats.outcomes {
                out.push_str(&format!("  {n:>6}  {outcome}\n"));
            }
            let mut l = stats.latencies.clone();
            l.sort();
            if !duration.is_zero() {
                out.push_str(&format!(
                    "  throughput: {:.1} answered/s\n",
                    l.len() as f64 / duration.as_secs_f64()
                ));
            }
            if !l.is_empty() {
                let p = |q: f64| l[((l.len() - 1) as f64 * q).round() as usize].as_millis();
                let mean = l.iter().sum::<Duration>().as_secs_f64() * 1000.0 / l.len() as f64;
                out.push_str(&format!(
                    "  latency ms: p50 {} p90 {} p99 {} p99.9 {} max {} mean {mean:.1}\n",
                    p(0.5),
                    p(0.9),
                    p(0.99),
                    p(0.999),
                    p(1.0)
                ));
            }
        }
        out
    }
}
