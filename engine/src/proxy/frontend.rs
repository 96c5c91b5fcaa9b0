//! A frontend at run time: its listening sockets and their counters, its
//! `maxconn` and the process's, how it logs, and the accept loop that
//! takes a connection only when both limits have room.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

use super::{http, tcp, Process, StreamGuard, Streams};
use crate::backend::Backend;
use crate::config::Timeouts;
use crate::counters::Traffic;
use crate::log::format::LogFormat;
use crate::log::render::Fields;
use crate::log::syslog::Level;
use crate::log::syslog::Target;
use crate::log::Logger;
use crate::net::Listener;

/// Pause after an accept error (e.g. out of file descriptors) before trying
/// again, so a persistent error does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// A `maxconn`: a semaphore that limits, and a count of the connections
/// actually accepted (a slot reserved by an accept loop that is still
/// waiting is not a connection).
#[derive(Clone)]
pub struct Limit {
    slots: Arc<Semaphore>,
    current: Arc<AtomicUsize>,
}

/// One connection's place under a limit; dropping it frees the place.
pub struct Seat {
    _permit: OwnedSemaphorePermit,
    current: Arc<AtomicUsize>,
}

impl Drop for Seat {
    fn drop(&mut self) {
        self.current.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Limit {
    pub fn new(max: usize) -> Self {
        Limit {
            slots: Arc::new(Semaphore::new(max)),
            current: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Connections holding a place now (HAProxy's `actconn`, `feconn`).
    pub fn in_use(&self) -> usize {
        self.current.load(Ordering::Acquire)
    }

    /// Waits for room under the limit.
    async fn reserve(&self) -> OwnedSemaphorePermit {
        self.slots
            .clone()
            .acquire_owned()
            .await
            .expect("never closed")
    }

    /// Turns a reservation into a connection's seat.
    fn seat(&self, permit: OwnedSemaphorePermit) -> Seat {
        self.current.fetch_add(1, Ordering::AcqRel);
        Seat {
            _permit: permit,
            current: self.current.clone(),
        }
    }
}

/// How a frontend logs its streams.
#[derive(Debug, Clone, Default)]
pub struct FrontendLog {
    /// Its `log` targets (with `log global` expanded); none: no logging.
    pub targets: Vec<Target>,
    /// The log format (`log-format`, `option httplog`, `option tcplog`):
    /// one line per request in `mode http`, per stream in `mode tcp`.
    /// Without one, a "Connect from" line at accept.
    pub format: Option<Arc<LogFormat>>,
    /// `option dontlognull`: no line for streams the client sent nothing on.
    pub dontlognull: bool,
}

impl FrontendLog {
    /// Whether the end of a stream (TCP) or request (HTTP) is wanted at
    /// all, so that its log fields are built only then: by a sink that
    /// observes every stream, or as a line for the targets. A `null`
    /// stream is one the client sent nothing on (`dontlognull`).
    pub fn wanted(&self, logger: &Logger, null: bool) -> bool {
        logger.sink().observes_streams() || self.line_format(null).is_some()
    }

    /// A stream ended with these log fields: to the observing sink, and
    /// as a line to the targets.
    pub async fn stream_ended(&self, logger: &Logger, null: bool, fields: Fields) {
        if logger.sink().observes_streams() {
            logger.sink().stream(&fields);
        }
        if let Some(format) = self.line_format(null) {
            logger
                .send(&self.targets, Level::Info, &format.render(&fields))
                .await;
        }
    }

    /// The format of the stream's line, if one is sent.
    fn line_format(&self, null: bool) -> Option<&LogFormat> {
        let dropped = self.targets.is_empty() || (self.dontlognull && null);
        self.format.as_deref().filter(|_| !dropped)
    }
}

/// What a frontend's streams need at run time.
pub struct Frontend {
    pub name: String,
    /// Stats: the proxy's id, its mode, its `maxconn`, its traffic.
    pub iid: u32,
    pub mode: &'static str,
    pub maxconn: usize,
    pub traffic: Traffic,
    /// Where its streams go; None closes them at once (no backend).
    pub backend: Option<Arc<Backend>>,
    /// The frontend's own `timeout client`/`client-fin`.
    pub timeouts: Timeouts,
    /// `maxconn` of the frontend.
    pub limit: Limit,
    pub log: FrontendLog,
    /// Connections ever accepted (the `FE:` of "cumulated conns").
    pub total_conns: AtomicU64,
    /// `mode http`: its rules and settings.
    pub http: Option<http::HttpFrontend>,
    /// `tcp-request content` rules (TCP mode).
    pub content: Option<crate::rules::tcp::ContentRules>,
    /// Its listening sockets, in declaration order, each with its own
    /// counters; shown in the stats with `option socket-stats`.
    pub sockets: Vec<Arc<Socket>>,
    pub socket_stats: bool,
}

/// One listening socket of a frontend, for the stats (HAProxy's listener
/// counters, a line of type 3).
#[derive(Debug, Default)]
pub struct Socket {
    /// `bind ... name <name>`, or `sock-<id>`.
    pub name: String,
    /// Its id in the frontend: `bind ... id <n>`, or the next free one.
    pub id: u32,
    /// The address, as the stats show it.
    pub addr: String,
    pub traffic: Traffic,
    /// Connections open now.
    pub current: AtomicU64,
}

/// Accepts on one listener until `stop` turns true. A connection is only
/// accepted when both the global and the frontend `maxconn` have room, as
/// HAProxy stops polling a listener that is full.
/// `spread`: its streams go to the pool's event loops (an accept loop of
/// the process's own thread); otherwise they stay on this loop.
pub async fn accept_loop(
    listener: Box<dyn Listener>,
    frontend: Arc<Frontend>,
    socket: Arc<Socket>,
    process: Arc<Process>,
    streams: Arc<Streams>,
    mut stop: watch::Receiver<bool>,
    spread: bool,
) {
    let mut phase = process.pause_phase();
    loop {
        if process.pause_phase() != phase {
            // SIGTTOU (the engine refuses connections on the socket)
            // until SIGTTIN; then this handle registers anew, however
            // quickly the two came: its old registration saw the socket
            // end.
            tokio::select! {
                biased;
                _ = stop.wait_for(|s| *s) => return,
                _ = process.unpaused() => {}
            }
            let now = process.pause_phase();
            if now % 2 == 1 {
                continue; // paused again meanwhile
            }
            phase = now;
            let _ = listener.resume();
        }
        let (global, local) = tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => return,
            p = async { (process.global.reserve().await, frontend.limit.reserve().await) } => p,
        };
        let accepted = tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => return,
            // Paused: back to waiting, the slots given back.
            _ = process.pausing() => continue,
            a = listener.accept() => a,
        };
        match accepted {
            Ok(client) => {
                let seats = (process.global.seat(global), frontend.limit.seat(local));
                let guard = StreamGuard::new(&streams);
                let frontend = frontend.clone();
                let socket = socket.clone();
                let process = process.clone();
                let pool = process.pool.clone();
                let task = Box::pin(async move {
                    let on_socket = socket.current.fetch_add(1, Ordering::AcqRel) + 1;
                    socket.traffic.session(on_socket);
                    let registered = process.sessions.register(
                        client.family,
                        client.peer,
                        &frontend.name,
                        socket.clone(),
                    );
                    let session = &registered.entry;
                    // The stream logs while it still holds its slots, so
                    // `actconn` and `feconn` count it, as in HAProxy.
                    match &frontend.http {
                        Some(h) => http::serve(client, &frontend, h, &process, session).await,
                        None => tcp::serve(client, &frontend, &process, session).await,
                    }
                    drop(registered);
                    socket.current.fetch_sub(1, Ordering::AcqRel);
                    drop(seats);
                    drop(guard);
                });
                if spread {
                    pool.spawn_stream(task);
                } else {
                    tokio::spawn(task);
                }
            }
            Err(_) => tokio::time::sleep(ACCEPT_ERROR_PAUSE).await,
        }
    }
}
