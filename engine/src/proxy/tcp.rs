//! The life of a TCP stream, read top to bottom: accepted, counted in its
//! backend, connected to a server (queue, retries, redispatch), forwarded,
//! logged.

use std::future::Future;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::time::Instant;

use super::inspect;
use super::pump::{self, Early, End, Side};
use super::sessions::Entry;
use super::{Frontend, Process};
use crate::acl::Stream;
use crate::backend::ConnectError;
use crate::config::Timeouts;
use crate::counters::{Sample, Traffic};
use crate::http::forward::sleep_until;
use crate::log::syslog::Level;
use crate::log::tcplog::{self, Cause, Phase};
use crate::net::{Accepted, BoxStream};
use crate::rules::tcp::Verdict;
use crate::server::Slot;
use crate::shutdown::Why;
use crate::stream::{Counts, Record, Termination};

pub async fn serve(client: Accepted, frontend: &Frontend, process: &Process, session: &Entry) {
    let mut rec = Record::new(
        Instant::now(),
        process.net.wall_clock(),
        client.peer,
        client.local,
    );
    frontend
        .total_conns
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    frontend.traffic.session(frontend.limit.in_use() as u64);
    let log = &frontend.log;
    if !log.targets.is_empty() && log.format.is_none() {
        let line = tcplog::connect_line(client.peer, client.local, &frontend.name, "TCP");
        process.logger.send(&log.targets, Level::Info, &line).await;
    }
    let Some(backend) = &frontend.backend else {
        // No backend in TCP mode: closing is the only answer.
        return;
    };
    let in_backend = backend.enter();
    rec.backend = Some(backend.clone());
    let client_port = client.local.map_or(0, |a| a.port());

    let timeouts = Timeouts {
        client: frontend.timeouts.client,
        client_fin: frontend.timeouts.client_fin,
        ..backend.timeouts
    };
    let mut client_stream = client.stream;
    // `tcp-request content`: the rules decide before any server is chosen.
    let mut early = Early::default();
    let verdict = match &frontend.content {
        Some(rules) => {
            inspect::inspect(
                rules,
                &mut client_stream,
                &mut early,
                rec.peer,
                rec.local,
                rec.start,
            )
            .await
        }
        None => Verdict::Accept,
    };
    let (connected, early) = match verdict {
        Verdict::Accept => {
            // What was inspected is what `balance rdp-cookie` reads.
            let payload = early.bytes.clone();
            let stream = Stream {
                src: rec.peer,
                dst: rec.local,
                payload: &payload,
            };
            let connecting = backend.connect(&*process.net, client_port, &mut rec.attempt, &stream);
            connect_phase(connecting, &mut client_stream, timeouts.client, early).await
        }
        Verdict::Reject => {
            Traffic::add(&frontend.traffic.denied_requests, 1);
            Traffic::add(&session.socket.traffic.denied_requests, 1);
            (Err(Failure::Rejected), early)
        }
    };
    let early_bytes = early.bytes.len() as u64;
    match connected {
        Err(failure) => (rec.cause, rec.phase) = failure.termination(),
        Ok((server, slot)) => {
            rec.connected(&slot);
            session.set_target(&backend.name, rec.attempt.server.as_deref());
            let (end, volume) = pump::forward(client_stream, server, &timeouts, early).await;
            let srv = slot.server().clone();
            let cut = rec.cut();
            rec.release(slot);
            (rec.bytes_in, rec.bytes_out) = (volume.to_server, volume.to_client);
            rec.charge_bytes([&srv.traffic, &backend.traffic]);
            for t in [&srv.traffic, &backend.traffic] {
                match end {
                    End::Abort(_) if cut.is_some() => {}
                    End::Abort(Side::Server) => {
                        Traffic::add(&t.server_aborts, 1);
                        Traffic::add(&t.response_errors, 1);
                    }
                    End::Abort(Side::Client) => Traffic::add(&t.client_aborts, 1),
                    _ => {}
                }
            }
            // HAProxy's time averages: in TCP the response time is 0.
            let ms = |a: Instant, b: Instant| ms(b.saturating_duration_since(a)) as u32;
            let assigned = rec.attempt.assigned_at.unwrap_or(rec.start);
            let connected_at = rec.connected.unwrap_or(assigned);
            let sample = Sample {
                queue: ms(rec.start, assigned),
                connect: ms(assigned, connected_at),
                response: 0,
                total: ms(rec.start, Instant::now()),
            };
            srv.traffic
                .times
                .add(Traffic::get(&srv.traffic.selected), sample);
            backend.traffic.times.add(backend.balanced(), sample);
            (rec.cause, rec.phase) = match (end, cut) {
                // HAProxy kills such streams outside any phase: `D-`, `U-`.
                (End::Abort(_), Some(Why::Down)) => (Cause::ServerDown, Phase::None),
                (End::Abort(_), Some(Why::Up)) => (Cause::ServerUp, Phase::None),
                (End::Abort(_), Some(Why::Killed)) => (Cause::Killed, Phase::None),
                (end, _) => match end {
                    End::Closed => (Cause::None, Phase::None),
                    End::Timeout(Side::Client) => (Cause::ClientTimeout, Phase::Data),
                    End::Timeout(Side::Server) => (Cause::ServerTimeout, Phase::Data),
                    End::Abort(Side::Client) => (Cause::ClientAbort, Phase::Data),
                    End::Abort(Side::Server) => (Cause::ServerAbort, Phase::Data),
                },
            };
        }
    }
    // What the client sent counts even when it never reached a server
    // (`option dontlognull` looks at it).
    rec.bytes_in = rec.bytes_in.max(early_bytes);
    rec.charge_bytes([&frontend.traffic, &session.socket.traffic]);
    drop(in_backend);

    let null = rec.bytes_in == 0;
    if !log.wanted(&process.logger, null) {
        return;
    }
    let since_start = |t: Instant| ms(t.duration_since(rec.start));
    let timers = tcplog::timers(
        rec.attempt.assigned_at.map(since_start),
        rec.connected.map(since_start),
        since_start(Instant::now()),
    );
    let counts = Counts {
        actconn: process.global.in_use(),
        feconn: frontend.limit.in_use(),
        pid: process.net.pid(),
    };
    let fields = rec.fields(&frontend.name, timers, counts);
    log.stream_ended(&process.logger, null, fields).await;
}

/// How a stream failed before reaching a server.
enum Failure {
    /// No server, none could be connected (`SC`), or a queue refused or
    /// timed out (`SQ`, `sQ`).
    Connect(ConnectError),
    /// The client sent nothing for `timeout client` meanwhile (`cC`).
    ClientTimeout,
    /// The client's connection failed meanwhile (`CC`).
    ClientAbort,
    /// A `tcp-request content reject` rule closed it (`PR`).
    Rejected,
}

impl Termination for Failure {
    fn termination(&self) -> (Cause, Phase) {
        match self {
            Failure::Connect(e) => e.termination(),
            Failure::ClientTimeout => (Cause::ClientTimeout, Phase::Connect),
            Failure::ClientAbort => (Cause::ClientAbort, Phase::Connect),
            Failure::Rejected => (Cause::Proxy, Phase::Request),
        }
    }
}

/// The most the engine reads from a client before its server is
/// connected (HAProxy's buffer, tune.bufsize).
const EARLY_MAX_BYTES: usize = 16 * 1024;

/// Connects while reading what the client sends, as HAProxy does: the
/// bytes wait (bounded) until the server is connected; a client that has
/// sent nothing for `timeout client` by then times out; a client whose
/// connection fails aborts; a half-close is passed on once connected.
async fn connect_phase<F>(
    connecting: F,
    client: &mut BoxStream,
    client_timeout: Option<Duration>,
    mut early: Early,
) -> (Result<(BoxStream, Slot), Failure>, Early)
where
    F: Future<Output = Result<(BoxStream, Slot), ConnectError>>,
{
    tokio::pin!(connecting);
    let mut buf = [0u8; 4096];
    let deadline = client_timeout.map(|t| Instant::now() + t);
    loop {
        let room = EARLY_MAX_BYTES - early.bytes.len();
        let reading = !early.eof && room > 0;
        // Once the client has spoken, HAProxy stops timing it out here.
        let idle_deadline = deadline.filter(|_| early.bytes.is_empty() && !early.eof);
        // The client's bytes first: what it already sent is read before a
        // quick failure (no server) is concluded, as HAProxy reads it.
        tokio::select! {
            biased;
            n = client.read(&mut buf[..room.min(4096)]), if reading => match n {
                Ok(0) => early.eof = true,
                Ok(n) => early.bytes.extend_from_slice(&buf[..n]),
                Err(_) => return (Err(Failure::ClientAbort), early),
            },
            r = &mut connecting => {
                let r = r.map_err(Failure::Connect);
                return (r, early);
            }
            _ = sleep_until(idle_deadline) => return (Err(Failure::ClientTimeout), early),
        }
    }
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}
