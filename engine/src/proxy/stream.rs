//! The life of a TCP stream, read top to bottom: accepted, counted in its
//! backend, connected to a server (queue, retries, redispatch), forwarded,
//! logged.

use std::time::Duration;

use tokio::time::Instant;

use super::tcp::{self, End, Side};
use super::{Frontend, Process};
use crate::backend::{Attempt, ConnectError};
use crate::config::Timeouts;
use crate::log::syslog::Level;
use crate::log::tcplog::{self, Cause, Phase, StreamLog};
use crate::net::Accepted;

pub async fn serve(client: Accepted, frontend: &Frontend, process: &Process) {
    let accepted_at = Instant::now();
    let accept_date = process.net.wall_clock();
    frontend
        .total_conns
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let log = &frontend.log;
    if !log.targets.is_empty() && !log.tcplog {
        let line = tcplog::connect_line(client.peer, client.local, &frontend.name);
        process.logger.send(&log.targets, Level::Info, &line).await;
    }
    let Some(backend) = &frontend.backend else {
        // No backend in TCP mode: closing is the only answer.
        return;
    };
    let in_backend = backend.enter();
    let mut attempt = Attempt::default();
    let client_port = client.local.map_or(0, |a| a.port());
    let peer = client.peer;

    let (cause, phase, connected_at, bytes) = match backend
        .connect(&*process.net, client_port, &mut attempt)
        .await
    {
        Err(ConnectError::QueueTimeout) => {
            (Cause::ServerTimeout, Phase::Queue, None, Default::default())
        }
        Err(ConnectError::NoServer | ConnectError::Failed { .. }) => {
            (Cause::ServerAbort, Phase::Connect, None, Default::default())
        }
        Ok((server, slot)) => {
            let connected_at = Instant::now();
            let timeouts = Timeouts {
                client: frontend.timeouts.client,
                client_fin: frontend.timeouts.client_fin,
                ..backend.timeouts
            };
            let (end, volume) = tcp::forward(client.stream, server, &timeouts).await;
            drop(slot);
            let (cause, phase) = match end {
                End::Closed => (Cause::None, Phase::None),
                End::Timeout(Side::Client) => (Cause::ClientTimeout, Phase::Data),
                End::Timeout(Side::Server) => (Cause::ServerTimeout, Phase::Data),
                End::Abort(Side::Client) => (Cause::ClientAbort, Phase::Data),
                End::Abort(Side::Server) => (Cause::ServerAbort, Phase::Data),
            };
            (cause, phase, Some(connected_at), volume)
        }
    };
    drop(in_backend);

    if log.targets.is_empty() || !log.tcplog || (log.dontlognull && bytes.to_server == 0) {
        return;
    }
    let since_accept = |t: Instant| ms(t.duration_since(accepted_at));
    let srv_conn = attempt
        .server
        .as_deref()
        .and_then(|name| backend.servers.iter().find(|s| s.name() == name))
        .map_or(0, |s| s.current_conns() as usize);
    let line = StreamLog {
        client: peer,
        accept_date,
        frontend: frontend.name.clone(),
        backend: backend.name.clone(),
        server: attempt.server.clone(),
        t_queue_ms: attempt.assigned_at.map(since_accept),
        t_connect_ms: connected_at.map(since_accept),
        t_close_ms: since_accept(Instant::now()),
        bytes_out: bytes.to_client,
        bytes_in: bytes.to_server,
        cause,
        phase,
        actconn: process.global.in_use(),
        feconn: frontend.limit.in_use(),
        beconn: backend.current_streams(),
        srv_conn,
        retries: attempt.retries,
        redispatched: attempt.redispatched,
        srv_queue: 0,
        backend_queue: attempt.backend_queue,
    }
    .tcplog();
    process.logger.send(&log.targets, Level::Info, &line).await;
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}
