//! A stream's record (HAProxy's `struct stream`, src/stream.c): what one
//! client stream did, from its start to its log line. A `mode tcp`
//! connection is one stream; an HTTP connection is one stream per request.
//! Both paths keep the same record: its timers, the connection attempt,
//! its target, the bytes it moved, and how it ended (`%tsc`).
//!
//! The record is written as the stream goes; the paths read it for their
//! counters and their log line, so a field means the same in both.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use tokio::time::Instant;

use crate::backend::{Attempt, Backend, ConnectError};
use crate::counters::Traffic;
use crate::log::render::{Fields, Timers, NO_SERVER};
use crate::log::tcplog::{Cause, Phase};
use crate::server::{ServerState, Slot};
use crate::shutdown::Why;

/// What one stream did.
pub struct Record {
    /// Its start: the accept, or for an HTTP request after the first, the
    /// end of the one before.
    pub start: Instant,
    /// The same instant on the wall clock (`%t`).
    pub start_wall: SystemTime,
    /// The client and the address it connected to.
    pub peer: Option<SocketAddr>,
    pub local: Option<SocketAddr>,
    /// The backend it entered, once chosen.
    pub backend: Option<Arc<Backend>>,
    /// Assignments, queues, retries, the server tried last.
    pub attempt: Attempt,
    /// When the server connection was established (or reused).
    pub connected: Option<Instant>,
    /// Bytes from the client (`%U`) and to it (`%B`), as HAProxy counts
    /// them.
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// How it ended: who, and in which phase (`%ts`).
    pub cause: Cause,
    pub phase: Phase,
    /// The server's connections when the stream gave its slot back.
    pub srv_conn: Option<usize>,
    /// The server and its cut count when connected: an abort after a cut
    /// is the cut (`D`, `U`, `K`).
    cut_mark: Option<(Arc<ServerState>, u64)>,
}

impl Record {
    pub fn new(
        start: Instant,
        start_wall: SystemTime,
        peer: Option<SocketAddr>,
        local: Option<SocketAddr>,
    ) -> Record {
        Record {
            start,
            start_wall,
            peer,
            local,
            backend: None,
            attempt: Attempt::default(),
            connected: None,
            bytes_in: 0,
            bytes_out: 0,
            cause: Cause::None,
            phase: Phase::None,
            srv_conn: None,
            cut_mark: None,
        }
    }

    /// The stream is connected through `slot`, now.
    pub fn connected(&mut self, slot: &Slot) {
        self.connected = Some(Instant::now());
        let server = slot.server();
        self.cut_mark = Some((server.clone(), server.cuts.count()));
    }

    /// Whether the stream's server connections were cut since it
    /// connected, and why.
    pub fn cut(&self) -> Option<Why> {
        let (server, then) = self.cut_mark.as_ref()?;
        server.cuts.since(*then)
    }

    /// Notes how the stream ended; the first end noted stays. A server
    /// abort after its server's connections were cut is the cut; the
    /// phase stays (a request waiting for its answer is `DH`).
    pub fn end(&mut self, cause: Cause, phase: Phase) {
        if self.cause != Cause::None {
            return;
        }
        (self.cause, self.phase) = match (cause, self.cut()) {
            (Cause::ServerAbort, Some(Why::Down)) => (Cause::ServerDown, phase),
            (Cause::ServerAbort, Some(Why::Up)) => (Cause::ServerUp, phase),
            (Cause::ServerAbort, Some(Why::Killed)) => (Cause::Killed, phase),
            _ => (cause, phase),
        };
    }

    /// Gives the server slot back, noting the server's connections at
    /// that moment for the log (HAProxy logs before the slot's next taker,
    /// queued or not, runs).
    pub fn release(&mut self, slot: Slot) {
        // Counted before the slot goes: a stream waiting for it takes it
        // at once, perhaps on another thread.
        let others = slot.server().current_conns().saturating_sub(1);
        drop(slot);
        self.srv_conn = Some(others as usize);
    }

    /// The server last tried, even if it failed: HAProxy's target, which
    /// the stats charge and the log's `srv_conn` counts.
    pub fn target(&self) -> Option<&Arc<ServerState>> {
        let name = self.attempt.server.as_deref()?;
        self.backend
            .as_ref()?
            .servers
            .iter()
            .find(|s| s.name() == name)
    }

    /// Adds the stream's bytes to each of `counters`.
    pub fn charge_bytes<'a>(&self, counters: impl IntoIterator<Item = &'a Traffic>) {
        for t in counters {
            Traffic::add(&t.bytes_in, self.bytes_in);
            Traffic::add(&t.bytes_out, self.bytes_out);
        }
    }

    /// The log line's fields as the record knows them, with the timers
    /// the path measured and the counts of the moment (`%ac`, `%fc`,
    /// `%pid`); the path sets what only it knows (status, request line,
    /// cookie letters).
    pub fn fields(&self, frontend: &str, timers: Timers, now: Counts) -> Fields {
        let srv_conn = self
            .srv_conn
            .unwrap_or_else(|| self.target().map_or(0, |s| s.current_conns() as usize));
        Fields {
            client: self.peer,
            frontend_addr: self.local,
            server_addr: self.attempt.server.as_ref().and(self.attempt.server_addr),
            accept_date: self.start_wall,
            request_date: self.start_wall,
            frontend: frontend.to_string(),
            backend: self
                .backend
                .as_ref()
                .map_or_else(|| frontend.to_string(), |b| b.name.clone()),
            server: self
                .attempt
                .server
                .clone()
                .unwrap_or_else(|| NO_SERVER.to_string()),
            timers,
            status: 0,
            bytes_out: self.bytes_out,
            bytes_in: self.bytes_in,
            cause: self.cause,
            phase: self.phase,
            cookie: ['-', '-'],
            actconn: now.actconn,
            feconn: now.feconn,
            beconn: self.backend.as_ref().map_or(0, |b| b.current_streams()),
            srv_conn,
            retries: self.attempt.retries,
            redispatched: self.attempt.redispatched,
            srv_queue: self.attempt.srv_queue,
            backend_queue: self.attempt.backend_queue,
            request_line: None,
            pid: now.pid,
        }
    }
}

/// The process's counts when a stream logs.
pub struct Counts {
    /// Connections in the process (`%ac`) and in the frontend (`%fc`).
    pub actconn: usize,
    pub feconn: usize,
    pub pid: u32,
}

/// An error that ends a stream knows how it ends it (`%ts`'s two letters).
pub trait Termination {
    fn termination(&self) -> (Cause, Phase);
}

impl Termination for ConnectError {
    fn termination(&self) -> (Cause, Phase) {
        match self {
            ConnectError::QueueTimeout => (Cause::ServerTimeout, Phase::Queue),
            ConnectError::QueueFull => (Cause::ServerAbort, Phase::Queue),
            ConnectError::NoServer | ConnectError::Failed { .. } => {
                (Cause::ServerAbort, Phase::Connect)
            }
        }
    }
}
