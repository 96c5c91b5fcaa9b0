//! The real servers of a simulated world: each answers its connections
//! (TCP) or requests (HTTP, through [`crate::http`]) after a service time
//! drawn from its distribution, so many at once, and misbehaves as the
//! timeline says.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::SeedableRng;
use rand_distr::{Distribution as _, Exp, LogNormal};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Semaphore;

use crate::scenario::{Distribution, Failure, FailureMode, Protocol, ServerSpec, ServiceTime};
use crate::world::name_hash;

/// The longest service time a distribution may draw (its tail is cut).
const MAX_SERVICE_TIME: Duration = Duration::from_secs(60);

/// A real server: in TCP, answers every connection with its reply (or
/// echo) after a service time drawn from its distribution, and closes;
/// in HTTP, answers every request of its kept connections the same way.
/// At most `concurrency` connections (TCP) or requests (HTTP) are worked
/// on at once, the others wait; it misbehaves as the timeline says. Its
/// `check_port`, if any, answers at once, without limit.
pub async fn serve(
    spec: ServerSpec,
    seed: u64,
    mode: tokio::sync::watch::Receiver<Failure>,
) -> turmoil::Result {
    if let Some(port) = spec.check_port {
        let (spec, mode) = (spec.clone(), mode.clone());
        tokio::spawn(async move {
            // Ends only when the host goes down.
            let _ = listen(&spec, port, None, mode)
                .await
                .map_err(|e| e.to_string());
        });
    }
    let rng = SmallRng::seed_from_u64(seed ^ name_hash(&spec.name));
    listen(&spec, spec.port, Some(Arc::new(Mutex::new(rng))), mode).await
}

/// One of a server's ports: the service's (with `rng` for its service
/// times) or the checks' (none: answered at once).
async fn listen(
    spec: &ServerSpec,
    port: u16,
    rng: Option<Arc<Mutex<SmallRng>>>,
    mut mode: tokio::sync::watch::Receiver<Failure>,
) -> turmoil::Result {
    // A service time for each connection (TCP) or request (HTTP), drawn
    // when it arrives, plus the delay of a `slow` failure then.
    let work: crate::http::Work = {
        let (rng, times, mode) = (rng.clone(), spec.service_time.clone(), mode.clone());
        Arc::new(move || {
            let failure = mode.borrow().clone();
            let extra = match (failure.mode, failure.delay) {
                (FailureMode::Slow, Some(d)) => d.0,
                _ => Duration::ZERO,
            };
            let drawn = rng.as_ref().map_or(Duration::ZERO, |rng| {
                service_time(times.as_ref(), &mut rng.lock().expect("rng lock"))
            });
            (failure.mode, drawn + extra)
        })
    };
    let answer = crate::http::Answer {
        reply: (!spec.echo).then(|| spec.reply.clone().unwrap_or_else(|| spec.name.clone())),
        check_path: spec.check_path.clone(),
    };
    let checks_port = rng.is_none();
    let limit = if checks_port { None } else { spec.concurrency };
    let workers = Arc::new(Semaphore::new(limit.unwrap_or(Semaphore::MAX_PERMITS)));
    loop {
        let failure = mode.borrow_and_update().clone();
        let closed = failure.mode == FailureMode::Refuse
            || (checks_port && failure.mode == FailureMode::Checks);
        if closed {
            // Not listening: connects are refused until the mode changes.
            mode.changed().await?;
            continue;
        }
        let listener = turmoil::net::TcpListener::bind(("0.0.0.0", port)).await?;
        loop {
            let (mut stream, _) = tokio::select! {
                biased;
                changed = mode.changed() => {
                    changed?;
                    break;
                }
                accepted = listener.accept() => accepted?,
            };
            let (answer, workers, behaviour) = (answer.clone(), workers.clone(), failure.mode);
            let work = work.clone();
            let http = spec.protocol == Protocol::Http;
            // A TCP connection is one piece of work, drawn as it arrives.
            let service = if http { Duration::ZERO } else { work().1 };
            tokio::spawn(async move {
                match behaviour {
                    FailureMode::Hang => std::future::pending::<()>().await,
                    FailureMode::Close => return,
                    FailureMode::Error if !http => return,
                    FailureMode::Reset => {
                        // Dropped with the first bytes unread: a reset.
                        let _ = stream.peek(&mut [0u8; 1]).await;
                        return;
                    }
                    _ => {}
                }
                if http {
                    // A worker per request: an idle kept connection holds none.
                    crate::http::serve(stream, answer, work, workers).await;
                    return;
                }
                let Ok(_worker) = workers.acquire_owned().await else {
                    return;
                };
                let reply = match answer.reply {
                    Some(reply) => reply.into_bytes(),
                    None => {
                        let mut received = vec![];
                        let _ = stream.read_to_end(&mut received).await;
                        received
                    }
                };
                tokio::time::sleep(service).await;
                let _ = stream.write_all(&reply).await;
                let _ = stream.shutdown().await;
            });
        }
    }
}

fn service_time(spec: Option<&ServiceTime>, rng: &mut SmallRng) -> Duration {
    let secs = match spec {
        None => return Duration::ZERO,
        Some(ServiceTime::Constant(t)) => return t.0,
        Some(ServiceTime::Distribution(Distribution::Exponential(mean))) => {
            Exp::new(1.0 / mean.0.as_secs_f64().max(1e-9)).map_or(0.0, |d| d.sample(rng))
        }
        Some(ServiceTime::Distribution(Distribution::Lognormal { median, sigma })) => {
            LogNormal::new(median.0.as_secs_f64().max(1e-9).ln(), *sigma)
                .map_or(0.0, |d| d.sample(rng))
        }
        Some(ServiceTime::Distribution(Distribution::Empirical(times))) => {
            // Checked non-empty at load.
            let i = rand::Rng::random_range(rng, 0..times.len().max(1));
            times.get(i).map_or(0.0, |t| t.0.as_secs_f64())
        }
    };
    Duration::from_secs_f64(secs.clamp(0.0, MAX_SERVICE_TIME.as_secs_f64()))
}
