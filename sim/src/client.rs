//! The clients of a simulated world: closed-loop users or open-loop
//! arrivals, each connection (or request) noted in the transcript and
//! counted in the report.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::SeedableRng;
use rand_distr::{Distribution as _, Exp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::loss::Dialer;
use crate::report::{Outcome, Report};
use crate::scenario::{Arrival, ClientSpec, Load};
use crate::transcript::Transcript;
use crate::world::name_hash;

/// How long a client lingers after its last connection, so the proxies
/// end (and report) the streams it leaves: the run stops when every
/// client has.
const LINGER: Duration = Duration::from_millis(100);

/// Generates the client's load until `duration`: closed-loop users, each
/// connecting then pausing, or open-loop arrivals at a rate (constant or
/// Poisson), each connection noted and counted.
pub async fn run_client(
    spec: &ClientSpec,
    duration: Duration,
    seed: u64,
    transcript: &Transcript,
    report: &Report,
    mut rate: tokio::sync::watch::Receiver<Option<Duration>>,
    dialer: Dialer,
) {
    let start = tokio::time::Instant::now();
    let client = Arc::new(Client {
        spec: spec.clone(),
        transcript: transcript.clone(),
        report: report.clone(),
        dialer,
    });
    // Which request of the mix the next connection sends.
    let turn = Arc::new(AtomicUsize::new(0));
    match spec.load() {
        Load::Closed { users, think } => {
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..users {
                let (client, turn) = (client.clone(), turn.clone());
                tasks.spawn(async move {
                    // A user's connection and cookies, kept between its
                    // requests when the scenario says so.
                    let mut session = crate::http::Session::default();
                    while start.elapsed() < duration {
                        tokio::time::sleep(think).await;
                        let n = turn.fetch_add(1, Ordering::Relaxed);
                        client.one_connection(n, &mut session).await;
                    }
                });
            }
            while tasks.join_next().await.is_some() {}
        }
        Load::Open { interval, arrival } => {
            let mut rng = SmallRng::seed_from_u64(seed ^ name_hash(&spec.name));
            let mut interval = interval;
            let mut exp = Exp::new(1.0 / interval.as_secs_f64().max(1e-9)).ok();
            let mut tasks = tokio::task::JoinSet::new();
            // Arrivals keep to their own schedule: timers fire on whole
            // milliseconds, so sleeping gap after gap would stretch every
            // gap shorter than one (at 1,000/s, Poisson arrivals came at
            // 630/s). Several arrivals due in one millisecond go together.
            let mut due = start;
            loop {
                // The timeline may change the rate (`load`).
                if rate.has_changed().unwrap_or(false) {
                    if let Some(new) = *rate.borrow_and_update() {
                        interval = new;
                        exp = Exp::new(1.0 / interval.as_secs_f64().max(1e-9)).ok();
                    }
                }
                let gap = match (arrival, &exp) {
                    (Arrival::Poisson, Some(exp)) => Duration::from_secs_f64(exp.sample(&mut rng)),
                    _ => interval,
                };
                due += gap;
                if due.duration_since(start) >= duration {
                    break;
                }
                tokio::time::sleep_until(due).await;
                let client = client.clone();
                let n = turn.fetch_add(1, Ordering::Relaxed);
                tasks.spawn(async move {
                    let mut visitor = crate::http::Session::default();
                    client.one_connection(n, &mut visitor).await
                });
            }
            while tasks.join_next().await.is_some() {}
        }
    }
    tokio::time::sleep(LINGER).await;
}

/// What each connection of a client needs.
struct Client {
    spec: ClientSpec,
    transcript: Transcript,
    report: Report,
    /// Its connects pay the losses of the link to the proxy's handshake.
    dialer: Dialer,
}

impl Client {
    /// One connection (or, for a keep-alive user, one request), noted and
    /// counted.
    async fn one_connection(&self, n: usize, session: &mut crate::http::Session) {
        let spec = &self.spec;
        let sent = tokio::time::Instant::now();
        let outcome = match &spec.requests {
            Some(mix) => {
                let habits = crate::http::Habits {
                    keep_alive: spec.keep_alive,
                    cookies: spec.cookies,
                };
                let req = &mix[n % mix.len()];
                let asking = crate::http::ask(&self.dialer, spec.target, req, session, habits);
                tokio::time::timeout(spec.patience.0, asking)
                    .await
                    .unwrap_or(Outcome::NoAnswer)
            }
            None => self.ask().await,
        };
        let latency = sent.elapsed();
        if !spec.quiet {
            self.transcript.note(&spec.name, &outcome.describe());
        }
        self.report.record(&spec.name, outcome, latency);
    }

    /// A TCP connection: send the bytes, if any, and read until the server
    /// closes.
    async fn ask(&self) -> Outcome {
        let spec = &self.spec;
        let attempt = async {
            let mut stream = self.dialer.connect(spec.target).await?;
            if let Some(bytes) = &spec.send {
                stream.write_all(bytes.as_bytes()).await?;
                stream.shutdown().await?;
            }
            let mut answer = String::new();
            stream.read_to_string(&mut answer).await?;
            Ok::<_, std::io::Error>(answer)
        };
        match tokio::time::timeout(spec.patience.0, attempt).await {
            Ok(Ok(answer)) if answer.is_empty() => Outcome::Closed,
            Ok(Ok(answer)) => Outcome::Answered(answer),
            Ok(Err(e)) => Outcome::Error(e.kind().to_string()),
            Err(_) => Outcome::NoAnswer,
        }
    }
}
