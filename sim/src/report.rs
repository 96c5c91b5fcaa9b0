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
            // A page (an error file) by its first line.
            Outcome::Answered(a) => match a.split_once('\n') {
                Some((first, _)) => format!("answered by {}...", first.trim_end()),
                None => format!("answered by {a}"),
            },
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

    /// `client`'s HTTP answers by status (`answered by 200 web1` is a 200).
    pub fn statuses(&self, client: &str) -> BTreeMap<u16, u64> {
        let clients = self.clients.lock().expect("report lock");
        let mut out = BTreeMap::new();
        for (outcome, n) in clients
            .get(client)
            .map(|s| &s.outcomes)
            .into_iter()
            .flatten()
        {
            let status = outcome
                .strip_prefix("answered by ")
                .and_then(|a| a.split(' ').next())
                .filter(|w| w.len() == 3)
                .and_then(|w| w.parse::<u16>().ok());
            if let Some(status) = status {
                *out.entry(status).or_default() += n;
            }
        }
        out
    }

    /// The latency percentile `q` (0..=1) of `client`'s answered connections.
    pub fn percentile(&self, client: &str, q: f64) -> Option<Duration> {
        let clients = self.clients.lock().expect("report lock");
        let mut l = clients.get(client)?.latencies.clone();
        l.sort();
        (!l.is_empty()).then(|| at_quantile(&l, q))
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
                let p = |q: f64| at_quantile(&l, q).as_millis() as u64;
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

/// The value at quantile `q` (0..=1) of sorted, non-empty `values`: the
/// nearest rank.
fn at_quantile<T: Copy>(values: &[T], q: f64) -> T {
    values[((values.len() - 1) as f64 * q).round() as usize]
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

/// What the engines saw of every stream they ended (TCP connections and
/// HTTP requests alike), from the fields of the log line each would
/// write: status, termination state, queue time. The client side cannot
/// tell a `503` the proxy made from one a server sent; this can.
#[derive(Debug, Clone, Default)]
pub struct Streams {
    by_frontend: Arc<Mutex<BTreeMap<(String, String), FrontendStreams>>>,
}

#[derive(Debug, Default)]
struct FrontendStreams {
    total: u64,
    /// `%ST`: 0 for TCP, -1 when nothing was answered.
    statuses: BTreeMap<i32, u64>,
    /// `%ts`: `--` for a normal end, `sC`, `SC`, `cD`...
    states: BTreeMap<String, u64>,
    /// `%Tw` of the streams that reached the queue stage.
    queue: Vec<u64>,
    /// Connection retries (`%rc`), and streams redispatched (`+`).
    retries: u64,
    redispatched: u64,
}

impl Streams {
    /// A stream ended on `proxy` (the host) with these log fields.
    pub fn record(&self, proxy: &str, fields: &engine::log::render::Fields) {
        let mut all = self.by_frontend.lock().expect("streams lock");
        let f = all
            .entry((proxy.to_string(), fields.frontend.clone()))
            .or_default();
        f.total += 1;
        *f.statuses.entry(fields.status).or_default() += 1;
        let state = format!("{}{}", fields.cause.letter(), fields.phase.letter());
        *f.states.entry(state).or_default() += 1;
        if let Ok(wait) = u64::try_from(fields.timers.wait) {
            f.queue.push(wait);
        }
        f.retries += u64::from(fields.retries);
        f.redispatched += u64::from(fields.redispatched);
    }

    /// Per proxy and frontend, in name order.
    pub fn summaries(&self) -> Vec<StreamSummary> {
        let all = self.by_frontend.lock().expect("streams lock");
        all.iter()
            .map(|((proxy, frontend), f)| {
                let mut q = f.queue.clone();
                q.sort();
                let p = |x: f64| at_quantile(&q, x);
                StreamSummary {
                    proxy: proxy.clone(),
                    frontend: frontend.clone(),
                    streams: f.total,
                    statuses: f.statuses.clone(),
                    states: f.states.clone(),
                    retries: f.retries,
                    redispatched: f.redispatched,
                    queue_ms: (!q.is_empty()).then(|| QueueTime {
                        p50: p(0.5),
                        p99: p(0.99),
                        max: p(1.0),
                        mean: q.iter().sum::<u64>() as f64 / q.len() as f64,
                    }),
                }
            })
            .collect()
    }

    /// The summaries as text, after the clients'.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for s in self.summaries() {
            out.push_str(&format!(
                "proxy {} frontend {}: {} streams\n",
                s.proxy, s.frontend, s.streams
            ));
            let http = s.statuses.keys().any(|st| *st != 0);
            if http {
                let list: Vec<String> = s
                    .statuses
                    .iter()
                    .map(|(st, n)| match st {
                        -1 => format!("none {n}"),
                        st => format!("{st} {n}"),
                    })
                    .collect();
                out.push_str(&format!("  by status: {}\n", list.join(", ")));
            }
            let list: Vec<String> = s.states.iter().map(|(t, n)| format!("{t} {n}")).collect();
            out.push_str(&format!("  by termination state: {}\n", list.join(", ")));
            if s.retries > 0 {
                out.push_str(&format!(
                    "  connection retries: {} ({} redispatched to another server)\n",
                    s.retries, s.redispatched
                ));
            }
            if let Some(q) = s.queue_ms {
                out.push_str(&format!(
                    "  queue time ms (Tw): p50 {} p99 {} max {} mean {:.1}\n",
                    q.p50, q.p99, q.max, q.mean
                ));
            }
        }
        out
    }
}

/// One frontend's streams, as its proxy ended them (`sim run --json`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct StreamSummary {
    pub proxy: String,
    pub frontend: String,
    pub streams: u64,
    /// By `%ST` (0: TCP, -1: nothing answered).
    pub statuses: BTreeMap<i32, u64>,
    /// By the two-letter termination state (`--`, `sC`, `SC`, `cD`...).
    pub states: BTreeMap<String, u64>,
    /// Connection retries (`%rc` summed), and streams that went to
    /// another server for them.
    pub retries: u64,
    pub redispatched: u64,
    pub queue_ms: Option<QueueTime>,
}

/// `%Tw` of the streams that got as far as a server's or backend's queue
/// (it includes failed connection attempts before a retry, as in
/// HAProxy's logs).
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct QueueTime {
    pub p50: u64,
    pub p99: u64,
    pub max: u64,
    pub mean: f64,
}
