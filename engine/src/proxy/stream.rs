//! The life of a TCP stream, read top to bottom: accepted, counted in its
//! backend, connected to a server (queue, retries, redispatch), forwarded,
//! logged.

use std::future::Future;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::time::Instant;

use super::inspect::Verdict;
use super::sessions::Entry;
use super::tcp::{self, sleep_until, Early, End, Side, Volume};
use super::{Frontend, Process};
use crate::acl::Stream;
use crate::backend::{Attempt, ConnectError};
use crate::config::Timeouts;
use crate::log::render::{Fields, NO_SERVER};
use crate::log::syslog::Level;
use crate::log::tcplog::{self, Cause, Phase};
use crate::net::{Accepted, BoxStream};
use crate::server::Slot;
use crate::shutdown::Why;
use crate::stats::counters::{Sample, Traffic};

pub async fn serve(client: Accepted, frontend: &Frontend, process: &Process, session: &Entry) {
    let accepted_at = Instant::now();
    let accept_date = process.net.wall_clock();
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
    let mut attempt = Attempt::default();
    let client_port = client.local.map_or(0, |a| a.port());
    let local = client.local;
    let peer = client.peer;

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
            let local = client.local;
            rules
                .inspect(&mut client_stream, &mut early, peer, local, accepted_at)
                .await
        }
        None => Verdict::Accept,
    };
    let (connected, early) = match verdict {
        Verdict::Accept => {
            // What was inspected is what `balance rdp-cookie` reads.
            let payload = early.bytes.clone();
            let stream = Stream {
                src: peer,
                dst: client.local,
                payload: &payload,
            };
            let connecting = backend.connect(&*process.net, client_port, &mut attempt, &stream);
            connect_phase(connecting, &mut client_stream, timeouts.client, early).await
        }
        Verdict::Reject => {
            Traffic::add(&frontend.traffic.denied_requests, 1);
            Traffic::add(&session.socket.traffic.denied_requests, 1);
            (Err(Failure::Rejected), early)
        }
    };
    let mut srv_conn_at_end = None;
    let early_bytes = early.bytes.len() as u64;
    let (cause, phase, connected_at, bytes) = match connected {
        Err(Failure::Queue) => (Cause::ServerTimeout, Phase::Queue, None, Volume::default()),
        Err(Failure::QueueFull) => (Cause::ServerAbort, Phase::Queue, None, Volume::default()),
        Err(Failure::Server) => (Cause::ServerAbort, Phase::Connect, None, Volume::default()),
        Err(Failure::ClientTimeout) => (
            Cause::ClientTimeout,
            Phase::Connect,
            None,
            Volume::default(),
        ),
        Err(Failure::ClientAbort) => (Cause::ClientAbort, Phase::Connect, None, Volume::default()),
        Err(Failure::Rejected) => (Cause::Proxy, Phase::Request, None, Volume::default()),
        Ok((server, slot)) => {
            let connected_at = Instant::now();
            session.set_target(&backend.name, attempt.server.as_deref());
            let cuts = slot.server().cuts.count();
            let (end, volume) = tcp::forward(client_stream, server, &timeouts, early).await;
            let srv = slot.server().clone();
            let cut = srv.cuts.since(cuts);
            // Counted before the slot goes: a queued stream takes it at once.
            srv_conn_at_end = Some(srv.current_conns().saturating_sub(1) as usize);
            drop(slot);
            for t in [&srv.traffic, &backend.traffic] {
                Traffic::add(&t.bytes_in, volume.to_server);
                Traffic::add(&t.bytes_out, volume.to_client);
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
            let assigned = attempt.assigned_at.unwrap_or(accepted_at);
            let sample = Sample {
                queue: ms(accepted_at, assigned),
                connect: ms(assigned, connected_at),
                response: 0,
                total: ms(accepted_at, Instant::now()),
            };
            srv.traffic
                .times
                .add(Traffic::get(&srv.traffic.selected), sample);
            backend.traffic.times.add(backend.balanced(), sample);
            let (cause, phase) = match (end, cut) {
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
            (cause, phase, Some(connected_at), volume)
        }
    };
    // What the client sent counts even when it never reached a server
    // (`option dontlognull` looks at it).
    let bytes = Volume {
        to_server: bytes.to_server.max(early_bytes),
        ..bytes
    };
    for t in [&frontend.traffic, &session.socket.traffic] {
        Traffic::add(&t.bytes_in, bytes.to_server);
        Traffic::add(&t.bytes_out, bytes.to_client);
    }
    drop(in_backend);

    let null = bytes.to_server == 0;
    if !log.wanted(&process.logger, null) {
        return;
    }
    let since_accept = |t: Instant| ms(t.duration_since(accepted_at));
    let fields = Fields {
        client: peer,
        frontend_addr: local,
        server_addr: attempt.server.as_ref().and(attempt.server_addr),
        accept_date,
        request_date: accept_date,
        frontend: frontend.name.clone(),
        backend: backend.name.clone(),
        server: attempt
            .server
            .clone()
            .unwrap_or_else(|| NO_SERVER.to_string()),
        timers: tcplog::timers(
            attempt.assigned_at.map(since_accept),
            connected_at.map(since_accept),
            since_accept(Instant::now()),
        ),
        status: 0,
        bytes_out: bytes.to_client,
        bytes_in: bytes.to_server,
        cause,
        phase,
        actconn: process.global.in_use(),
        feconn: frontend.limit.in_use(),
        beconn: backend.current_streams(),
        srv_conn: srv_conn_at_end.unwrap_or_else(|| {
            attempt
                .server
                .as_deref()
                .and_then(|name| backend.servers.iter().find(|s| s.name() == name))
                .map_or(0, |s| s.current_conns() as usize)
        }),
        retries: attempt.retries,
        redispatched: attempt.redispatched,
        srv_queue: attempt.srv_queue,
        backend_queue: attempt.backend_queue,
        cookie: ['-', '-'],
        request_line: None,
        pid: process.net.pid(),
    };
    log.stream_ended(&process.logger, null, fields).await;
}

/// How a stream failed before reaching a server.
enum Failure {
    /// `timeout queue` struck (`sQ`).
    Queue,
    /// The chosen server's queue was at its `maxqueue` (`SQ`).
    QueueFull,
    /// No server, or none could be connected (`SC`).
    Server,
    /// The client sent nothing for `timeout client` meanwhile (`cC`).
    ClientTimeout,
    /// The client's connection failed meanwhile (`CC`).
    ClientAbort,
    /// A `tcp-request content reject` rule closed it (`PR`).
    Rejected,
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
                let r = r.map_err(|e| match e {
                    ConnectError::QueueTimeout => Failure::Queue,
                    ConnectError::QueueFull => Failure::QueueFull,
                    ConnectError::NoServer | ConnectError::Failed { .. } => Failure::Server,
                });
                return (r, early);
            }
            _ = sleep_until(idle_deadline) => return (Err(Failure::ClientTimeout), early),
        }
    }
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}
