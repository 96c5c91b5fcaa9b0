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

    /// Per client, in name order: connections, outcomes, the answered
    /// ones' rate over `duration` and their latencies (virtual time).
    pub fn summaries(&self, duration: Duration) -> Vec<ClientSummary> {
        let clients = self.clients.lock().expect("report lock");
        clients
            .iter()
            .map(|(name, stats)| {
                let mut l = stats.latencies.clone();
                l.sort();
                let p = |q: f64| l[((l.len() - 1) as f64 * q).round() as usize].as_millis() as u64;
                let latency_ms = (!l.is_empty()).then(|| Latency {
                    p50: p(0.5),
                    p90: p(0.9),
                    p99: p(0.99),
                    p99_9: p(0.999),
                    max: p(1.0),
                    mean: l.iter().sum::<Duration>().as_secs_f64() * 1000.0 / l.len() as f64,
                });
                ClientSummary {
                    name: name.clone(),
                    connections: stats.outcomes.values().sum(),
                    outcomes: stats.outcomes.clone(),
                    answered: l.len(),
                    throughput: (!duration.is_zero())
                        .then(|| l.len() as f64 / duration.as_secs_f64()),
                    latency_ms,
                }
            })
            .collect()
    }

    /// The summaries as text, for the transcript's end.
    pub fn render(&self, duration: Duration) -> String {
        let mut out = String::new();
        for c in self.summaries(duration) {
            out.push_str(&format!(
                "client {}: {} connections\n",
                c.name, c.connections
            ));
            for (outcome, n) in &c.outcomes {
                out.push_str(&format!("  {n:>6}  {outcome}\n"));
            }
            if let Some(t) = c.throughput {
                out.push_str(&format!("  throughput: {t:.1} answered/s\n"));
            }
            if let Some(l) = c.latency_ms {
                out.push_str(&format!(
                    "  latency ms: p50 {} p90 {} p99 {} p99.9 {} max {} mean {:.1}\n",
                    l.p50, l.p90, l.p99, l.p99_9, l.max, l.mean
                ));
            }
        }
        out
    }
}

/// One client's figures (`sim run --json`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ClientSummary {
    pub name: String,
    pub connections: u64,
    /// Connections by what they got (`answered by web1`, `no answer in
    /// time`...).
    pub outcomes: BTreeMap<String, u64>,
    pub answered: usize,
    /// Answered connections per second of the run.
    pub throughput: Option<f64>,
    pub latency_ms: Option<Latency>,
}

/// Latency percentiles of the answered connections, in milliseconds.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Latency {
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p99_9: u64,
    pub max: u64,
    pub mean: f64,
}
