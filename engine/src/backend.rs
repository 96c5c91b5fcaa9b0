//! Assigning a server to a stream and connecting to it (HAProxy's backend.c).
//!
//! Eligibility, in HAProxy's order: active servers that are up take traffic;
//! when none is, backups do, the first one only unless `option allbackups`.
//! Among the eligible servers below their `maxconn`, the balance algorithm
//! chooses. When every eligible server is full the stream waits in the
//! backend queue up to `timeout queue`. A failed connection is retried
//! `retries` times on the same server after a pause, and with `option
//! redispatch` the last retry goes to another server.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use crate::balance::{self, Algorithm, Candidate};
use crate::config;
use crate::net::{BoxStream, Net};
use crate::server::{ServerState, Slot};

/// The longest pause before retrying the same server (HAProxy: 1s, or
/// `timeout connect` when shorter).
const MAX_RETRY_PAUSE: Duration = Duration::from_secs(1);

pub struct Backend {
    pub name: String,
    /// How HAProxy names this kind of proxy in messages: `backend` or, for
    /// a listen section, `proxy`.
    pub kind_word: &'static str,
    pub retries: u32,
    pub redispatch: bool,
    pub allbackups: bool,
    pub timeouts: config::Timeouts,
    pub servers: Vec<Arc<ServerState>>,
    algorithm: Mutex<Box<dyn Algorithm>>,
    slot_freed: Arc<Notify>,
}

/// Why no server connection could be made; each maps to what the client sees.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// No server is up (HAProxy: 503, termination `SC`).
    #[error("no server available")]
    NoServer,
    /// Every server stayed full for `timeout queue` (503, `sQ`).
    #[error("queue timeout")]
    QueueTimeout,
    /// Every attempt failed (503, `SC`).
    #[error("connection to {server} failed: {source}")]
    Failed {
        server: String,
        #[source]
        source: io::Error,
    },
}

/// What `pick` found.
enum Pick {
    Server(usize),
    /// Servers are up but all at their maxconn: queue.
    Full,
    NoServer,
}

impl Backend {
    /// The runtime backend of a proxy; None when its `balance` algorithm is
    /// not built yet.
    pub fn new(proxy: &config::Proxy) -> Option<Self> {
        let slot_freed = Arc::new(Notify::new());
        let servers = proxy
            .servers
            .iter()
            .enumerate()
            .map(|(i, s)| {
                Arc::new(ServerState::new(
                    s.clone(),
                    i as u32 + 1,
                    slot_freed.clone(),
                ))
            })
            .collect::<Vec<_>>();
        let algorithm = balance::for_config(&proxy.balance, servers.len())?;
        Some(Backend {
            name: proxy.name.clone(),
            kind_word: if proxy.kind.is_frontend() {
                "proxy"
            } else {
                "backend"
            },
            retries: proxy.retries,
            redispatch: proxy.redispatch.is_some(),
            allbackups: proxy.allbackups,
            timeouts: proxy.timeouts,
            algorithm: Mutex::new(algorithm),
            servers,
            slot_freed,
        })
    }

    /// Servers that may take traffic now, before looking at maxconn.
    fn eligible(&self) -> Vec<usize> {
        let usable = |backup: bool| {
            self.servers
                .iter()
                .enumerate()
                .filter(move |(_, s)| s.is_backup() == backup && s.is_usable())
                .map(|(i, _)| i)
        };
        let active: Vec<usize> = usable(false).collect();
        if !active.is_empty() {
            return active;
        }
        if self.allbackups {
            usable(true).collect()
        } else {
            usable(true).take(1).collect()
        }
    }

    fn pick(&self, avoid: Option<usize>) -> Pick {
        let eligible = self.eligible();
        if eligible.is_empty() {
            return Pick::NoServer;
        }
        let with_room: Vec<Candidate> = eligible
            .iter()
            .filter(|&&i| self.servers[i].has_room())
            .map(|&i| Candidate {
                index: i,
                weight: self.servers[i].config.weight,
            })
            .collect();
        // Redispatch avoids the server that failed, unless it is the only one.
        let others: Vec<Candidate> = with_room
            .iter()
            .copied()
            .filter(|c| Some(c.index) != avoid)
            .collect();
        let candidates = if others.is_empty() { with_room } else { others };
        let mut algorithm = self.algorithm.lock().expect("balance lock");
        match algorithm.pick(&candidates) {
            Some(i) => Pick::Server(i),
            None => Pick::Full,
        }
    }

    /// Waits for a server with a free slot and takes the slot.
    async fn assign(&self, avoid: Option<usize>) -> Result<Slot, ConnectError> {
        let queue_timeout = self.timeouts.queue.or(self.timeouts.connect);
        let deadline = queue_timeout.map(|t| tokio::time::Instant::now() + t);
        loop {
            // Register before looking, so a slot freed in between wakes us.
            let freed = self.slot_freed.notified();
            match self.pick(avoid) {
                Pick::Server(i) => {
                    if let Some(slot) = self.servers[i].take_slot() {
                        return Ok(slot);
                    }
                }
                Pick::NoServer => return Err(ConnectError::NoServer),
                Pick::Full => match deadline {
                    Some(d) => {
                        if tokio::time::timeout_at(d, freed).await.is_err() {
                            return Err(ConnectError::QueueTimeout);
                        }
                    }
                    None => freed.await,
                },
            }
        }
    }

    /// Connects a stream to a server: assign, connect, retry, redispatch.
    /// `client_port` is the port the client connected to, used by servers
    /// declared without a port.
    pub async fn connect(
        &self,
        net: &dyn Net,
        client_port: u16,
    ) -> Result<(BoxStream, Slot), ConnectError> {
        let mut slot = self.assign(None).await?;
        let mut retries_left = self.retries;
        loop {
            let server = slot.server().clone();
            let addr = target(&server.config, client_port);
            let error = match attempt(net, addr, self.timeouts.connect).await {
                Ok(stream) => return Ok((stream, slot)),
                Err(e) => e,
            };
            if retries_left == 0 {
                return Err(ConnectError::Failed {
                    server: server.name().to_string(),
                    source: error,
                });
            }
            retries_left -= 1;
            if self.redispatch && retries_left == 0 {
                let failed = self.servers.iter().position(|s| Arc::ptr_eq(s, &server));
                drop(slot);
                slot = self.assign(failed).await?;
            } else {
                let pause = self
                    .timeouts
                    .connect
                    .map_or(MAX_RETRY_PAUSE, |c| c.min(MAX_RETRY_PAUSE));
                tokio::time::sleep(pause).await;
            }
        }
    }

    /// Active and backup servers currently up (for state-change messages).
    pub fn count_up(&self) -> (usize, usize) {
        let up = |backup: bool| {
            self.servers
                .iter()
                .filter(|s| s.is_backup() == backup && s.is_usable())
                .count()
        };
        (up(false), up(true))
    }
}

fn target(server: &config::Server, client_port: u16) -> SocketAddr {
    let port = match server.port {
        config::ServerPort::Fixed(p) => p,
        config::ServerPort::SameAsClient => client_port,
        config::ServerPort::Offset(o) => (i32::from(client_port) + o).clamp(0, 65535) as u16,
    };
    SocketAddr::new(server.ip, port)
}

async fn attempt(
    net: &dyn Net,
    addr: SocketAddr,
    timeout: Option<Duration>,
) -> io::Result<BoxStream> {
    match timeout {
        Some(t) => tokio::time::timeout(t, net.connect(addr))
            .await
            .unwrap_or_else(|_| Err(io::Error::new(io::ErrorKind::TimedOut, "connect timeout"))),
        None => net.connect(addr).await,
    }
}
