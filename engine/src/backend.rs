//! Assigning a server to a stream and connecting to it (HAProxy's backend.c).
//!
//! Eligibility, in HAProxy's order: active servers that are up take traffic;
//! when none is, backups do, the first one only unless `option allbackups`.
//! Among the eligible servers below their `maxconn`, the balance algorithm
//! chooses. When every eligible server is full the stream waits in a
//! queue up to `timeout queue` (`backend/queue.rs`, HAProxy's queue.c). A failed
//! connection is retried `retries` times on the same server after a
//! pause, and with `option redispatch` the last retry goes to another
//! server.
//!
//! When a server's state changes (the status module decides that), the
//! backend keeps its side in step: the algorithm's view and weights
//! ([`Backend::update_server`], [`Backend::update_weight`],
//! [`Backend::warm_up`]) and the queued streams a change moves
//! ([`Backend::requeue_on_down`], [`Backend::requeue_on_up`], in
//! `backend/queue.rs`).

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::acl::{Acls, Stream};
use crate::balance::{self, Algorithm, Hashing, Pick, ServerInfo, WEIGHT_SCALE};
use crate::config;
use crate::counters::{Availability, Traffic};
use crate::http::cookie::{Candidate, Persistence};
use crate::http::forward::now_or_never;
use crate::http::policy::Policy;
use crate::log::syslog::Target;
use crate::net::{BoxStream, ConnectSpec, Net};
use crate::server::observe::Event;
use crate::server::{ServerState, Shared, Slot};

mod queue;

use queue::Queue;

/// The longest pause before retrying the same server (HAProxy: 1s, or
/// `timeout connect` when shorter).
const MAX_RETRY_PAUSE: Duration = Duration::from_secs(1);

pub struct Backend {
    pub name: String,
    /// How HAProxy names this kind of proxy in messages: `backend` or, for
    /// a listen section, `proxy`.
    pub kind_word: &'static str,
    pub retries: u32,
    /// `option redispatch [<interval>]`: None without it; the interval
    /// (-1 by default: the last retry) otherwise.
    pub redispatch: Option<i32>,
    /// Round-robin kind algorithms (roundrobin, static-rr, random): a
    /// failed connection may go to the next server at once.
    round_robin_kind: bool,
    /// `persist rdp-cookie`: the cookie's name.
    persist_rdp: Option<String>,
    /// `first`, `roundrobin`, `static-rr`: while others wait in the
    /// backend's queue, a newcomer joins them (HAProxy's assign_server
    /// knows every server is full then).
    queue_first: bool,
    pub timeouts: config::Timeouts,
    pub servers: Vec<Arc<ServerState>>,
    /// The proxy's `log` targets, for server state changes.
    pub log_targets: Vec<Target>,
    /// Stats: the proxy's id, traffic, and when it last went UP or DOWN
    /// (with `chkdown`, its times DOWN).
    pub iid: u32,
    /// The id was forced with `id` (server-state dumps say so).
    pub forced_id: bool,
    /// `disabled`: kept for the dumps, never started (no checks, no
    /// traffic, server ids never numbered).
    pub disabled: bool,
    pub balance: &'static str,
    /// Its HTTP settings (mode, forwardfor, error pages).
    pub http: Policy,
    /// Its statistics page (`stats ...`), when enabled.
    pub stats: config::StatsSettings,
    /// `fullconn`, or HAProxy's default: a tenth of the `maxconn` of the
    /// frontends that may send it traffic (the stats' `slim`).
    pub fullconn: u32,
    /// `cookie`: persistence by a cookie naming the server.
    pub persistence: Option<Persistence>,
    /// Its `http-response` rules and the ACLs they use.
    pub http_response: Vec<config::HttpResponseRule>,
    pub acls: Arc<Acls>,
    /// How health checks probe its servers (`option httpchk`...,
    /// `http-check` and `tcp-check` lines), for the checks to build
    /// their probe from.
    pub health_check: config::HealthCheck,
    pub http_check: config::HttpCheckRules,
    pub tcp_check: Vec<config::TcpCheckRule>,
    /// `option log-health-checks`.
    pub log_health_checks: bool,
    pub traffic: Traffic,
    pub availability: Mutex<(Availability, u64)>,
    algorithm: Mutex<Box<dyn Algorithm>>,
    /// `balance source`: the client's address is the hash key, through
    /// the avalanche hash with `hash-type ... avalanche`.
    /// What a hash-based algorithm hashes, and how.
    pub hash: Hashing,
    avalanche: bool,
    /// Streams waiting for a slot (`backend/queue.rs`).
    queue: Queue,
    /// Streams in the backend now, and ever.
    streams: AtomicUsize,
    total_streams: AtomicU64,
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
    /// The chosen server's queue is at its `maxqueue` (503).
    #[error("server queue full")]
    QueueFull,
    /// Every attempt failed (503, `SC`).
    #[error("connection to {server} failed: {source}")]
    Failed {
        server: String,
        #[source]
        source: io::Error,
    },
}

/// What happened while connecting a stream, for its log line.
#[derive(Debug, Default, Clone)]
pub struct Attempt {
    /// The last server assigned.
    pub server: Option<String>,
    /// When the stream left the queue: with a server, or when `timeout
    /// queue` struck (`t_queue`).
    pub assigned_at: Option<tokio::time::Instant>,
    /// Connection retries made, and whether one went to another server.
    pub retries: u32,
    pub redispatched: bool,
    /// Streams already waiting when this one joined the backend's queue,
    /// or its server's.
    pub backend_queue: usize,
    pub srv_queue: usize,
    /// The connection was an idle one kept from an earlier request.
    pub reused: bool,
    /// The address of the last server tried (`%si:%sp`).
    pub server_addr: Option<SocketAddr>,
}

/// Whether a retry waits first (HAProxy's turn-around state, SC_ST_TAR).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pause {
    No,
    /// min(`timeout connect`, 1s), unless the retry goes to another server.
    SameServer,
}

/// A server connection kept open between two requests of one client.
pub struct Idle {
    pub server: Arc<ServerState>,
    pub stream: BoxStream,
    /// The server's outage count when the connection went idle.
    pub outages: u64,
}

/// Where `idle` keeps a connection to `server`.
fn kept_for(idle: &[Idle], server: &Arc<ServerState>) -> Option<usize> {
    idle.iter().position(|i| Arc::ptr_eq(&i.server, server))
}

impl Idle {
    /// Whether the server left the connection as it was after its last
    /// response: not closed, nothing sent since. Looked at without
    /// waiting: one read is polled once.
    async fn is_quiet(&mut self) -> bool {
        use tokio::io::AsyncReadExt;
        let mut byte = [0u8; 1];
        now_or_never(self.stream.read(&mut byte)).await.is_none()
    }
}

/// A stream's place in a backend (`beconn`); dropping it leaves.
pub struct BackendGuard(Arc<Backend>);

impl Drop for BackendGuard {
    fn drop(&mut self) {
        self.0.streams.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What `pick` found.
enum Choice {
    Server(usize),
    /// Servers are up but all at their maxconn: queue.
    Full,
    NoServer,
}

impl Backend {
    /// The runtime backend of a proxy.
    /// `seed` drives the random choices of `balance random`.
    pub fn new(proxy: &config::Proxy, iid: u32, log_targets: Vec<Target>, seed: u64) -> Self {
        let shared = Shared::default();
        let forced: Vec<Option<u32>> = proxy.servers.iter().map(|s| s.id).collect();
        // HAProxy never numbers the servers of a disabled proxy: id 0.
        let ids = if proxy.disabled {
            vec![0; forced.len()]
        } else {
            config::number_ids(&forced)
        };
        let servers = proxy
            .servers
            .iter()
            .zip(ids)
            .enumerate()
            .map(|(i, (s, id))| Arc::new(ServerState::new(s.clone(), i as u32 + 1, id, &shared)))
            .collect::<Vec<_>>();
        let infos: Vec<ServerInfo> = servers
            .iter()
            .map(|s| ServerInfo {
                weight: s.weight(),
                backup: s.is_backup(),
                usable: s.is_available(),
                id: s.id,
            })
            .collect();
        let algorithm = balance::for_config(
            &proxy.balance,
            &proxy.hash_type,
            &infos,
            proxy.allbackups,
            seed,
        );
        Backend {
            name: proxy.name.clone(),
            kind_word: if proxy.kind.is_frontend() {
                "proxy"
            } else {
                "backend"
            },
            retries: proxy.retries,
            redispatch: proxy.redispatch,
            queue_first: matches!(
                proxy.balance,
                config::Balance::RoundRobin | config::Balance::StaticRr | config::Balance::First
            ),
            persist_rdp: proxy.persist_rdp.clone(),
            round_robin_kind: matches!(
                proxy.balance,
                config::Balance::RoundRobin
                    | config::Balance::StaticRr
                    | config::Balance::Random(_)
            ),
            timeouts: proxy.timeouts,
            algorithm: Mutex::new(algorithm),
            hash: Hashing::from_config(&proxy.balance, &proxy.hash_type),
            avalanche: proxy.hash_type.avalanche,
            servers,
            queue: Queue::new(shared.slot_freed),
            log_targets,
            iid,
            forced_id: proxy.id.is_some(),
            disabled: proxy.disabled,
            balance: proxy.balance.name(),
            http: Policy::from_proxy(proxy),
            stats: proxy.stats.clone(),
            fullconn: proxy.fullconn.unwrap_or(1),
            http_response: proxy.http_response.clone(),
            // The runtime refuses to start on an ACL it cannot run.
            // Compiled by the runtime, once for every user of them.
            acls: Arc::default(),
            persistence: proxy.cookie.clone(),
            health_check: proxy.health_check.clone(),
            http_check: proxy.http_check.clone(),
            tcp_check: proxy.tcp_check.clone(),
            log_health_checks: proxy.options.log_health_checks,
            traffic: Traffic::default(),
            availability: Mutex::new((Availability::new(true), 0)),
            streams: AtomicUsize::new(0),
            total_streams: AtomicU64::new(0),
        }
    }

    fn pick(&self, avoid: Option<usize>, key: Option<u32>) -> Choice {
        let has_room = |i: usize| self.servers[i].has_room(self.limit(i));
        let may_queue = |i: usize| self.servers[i].may_queue(self.limit(i));
        let inflight = |i: usize| self.servers[i].inflight();
        let chosen = self
            .algorithm
            .lock()
            .expect("balance lock")
            .next_server(&Pick {
                has_room: &has_room,
                may_queue: &may_queue,
                avoid,
                key,
                inflight: &inflight,
            });
        match chosen {
            Some(i) => Choice::Server(i),
            None if self.servers.iter().any(|s| s.is_usable()) => Choice::Full,
            None => Choice::NoServer,
        }
    }

    /// Whether the algorithm only takes weights of 0 or 100% of the
    /// initial one (HAProxy's static algorithms).
    pub fn has_static_weights(&self) -> bool {
        self.algorithm.lock().expect("balance lock").is_static()
    }

    /// Changes a server's user weight and gives the algorithm its new
    /// effective weight (HAProxy's update_server_eweight). Only the
    /// status module calls this.
    pub fn update_weight(&self, server: &ServerState, weight: u32) {
        let Some(index) = self.servers.iter().position(|s| std::ptr::eq(&**s, server)) else {
            return;
        };
        let mut algorithm = self.algorithm.lock().expect("balance lock");
        let was_up = self.is_up();
        server.set_weight(weight);
        self.recalc_weight(&mut **algorithm, index);
        self.note_availability(was_up);
        drop(algorithm);
        self.queue.wake();
    }

    /// One step of a server's warm-up (see [`crate::slowstart`]): its
    /// weight grows and the streams queued for lack of room may go.
    /// Whether it still warms up.
    pub fn warm_up(&self, index: usize) -> bool {
        let mut algorithm = self.algorithm.lock().expect("balance lock");
        self.recalc_weight(&mut **algorithm, index);
        drop(algorithm);
        self.queue.wake();
        self.servers[index].warming_for().is_some()
    }

    /// Gives the algorithm a server's effective weight: its user weight,
    /// scaled down while it warms up if the algorithm is dynamic (HAProxy's
    /// server_recalc_eweight).
    fn recalc_weight(&self, algorithm: &mut dyn Algorithm, index: usize) {
        let server = &self.servers[index];
        let factor = server.recalc_warm_up();
        let factor = if algorithm.is_static() {
            WEIGHT_SCALE
        } else {
            factor
        };
        let eweight = server.weight() * factor;
        server.set_eweight(eweight);
        algorithm.set_weight(index, eweight);
    }

    fn note_availability(&self, was_up: bool) {
        if was_up != self.is_up() {
            let mut a = self.availability.lock().expect("availability lock");
            a.0.change(!was_up);
            if was_up {
                a.1 += 1;
            }
        }
    }

    /// Applies a change to a server's flags, then brings the algorithm's
    /// view, the backend's availability and the queue up to date (HAProxy's
    /// srv_lb_commit_status). Only the status module calls this: it
    /// decides what a change is, this keeps the balancer in step.
    pub fn update_server(&self, server: &ServerState, change: impl FnOnce(&ServerState)) {
        let Some(index) = self.servers.iter().position(|s| std::ptr::eq(&**s, server)) else {
            return;
        };
        // The algorithm's view and the server's flags change together.
        let mut algorithm = self.algorithm.lock().expect("balance lock");
        let was_up = self.is_up();
        change(server);
        self.note_availability(was_up);
        if server.is_available() {
            // A server back UP starts warming up at its lowest weight.
            self.recalc_weight(&mut **algorithm, index);
            algorithm.server_up(index);
        } else {
            algorithm.server_down(index);
        }
        drop(algorithm);
        // Streams queued for lack of a server may go now.
        self.queue.wake();
    }

    /// Connects a stream to a server: assign, connect, retry, redispatch.
    /// `client_port` is the port the client connected to, used by servers
    /// declared without a port; `stream` what hash keys and `persist
    /// rdp-cookie` read (addresses, bytes held by `tcp-request content`).
    /// `attempt` records what happened, for the log, whatever the outcome.
    pub async fn connect(
        &self,
        net: &dyn Net,
        client_port: u16,
        attempt: &mut Attempt,
        stream: &Stream<'_>,
    ) -> Result<(BoxStream, Slot), ConnectError> {
        let key = self.hash.key_of(stream, None);
        let direct = self.rdp_persistence(stream.payload);
        self.connect_or_reuse(net, client_port, attempt, &mut Vec::new(), direct, key)
            .await
    }

    /// `persist rdp-cookie`: the server whose address and port the RDP
    /// cookie names, if it is not down (HAProxy's tcp_persist_rdp_cookie).
    fn rdp_persistence(&self, payload: &[u8]) -> Option<usize> {
        let name = self.persist_rdp.as_deref()?;
        let crate::rdp::Cookie::Found(value) = crate::rdp::cookie(payload, name) else {
            return None;
        };
        let (ip, port) = crate::rdp::server_address(value)?;
        self.servers.iter().position(|s| {
            let svc_port = match s.config.port {
                config::ServerPort::Fixed(p) => p,
                config::ServerPort::Offset(n) => n as u16,
                config::ServerPort::SameAsClient => 0,
            };
            s.config.ip == std::net::IpAddr::V4(ip)
                && svc_port == port
                && s.is_up()
                && !s.in_maint()
        })
    }

    /// [`Backend::connect`], reusing one of `idle` (connections earlier
    /// requests of the same client left open) when the server chosen is
    /// its server; the others stay in `idle`.
    pub async fn connect_or_reuse(
        &self,
        net: &dyn Net,
        client_port: u16,
        attempt: &mut Attempt,
        idle: &mut Vec<Idle>,
        direct: Option<usize>,
        key: Option<u32>,
    ) -> Result<(BoxStream, Slot), ConnectError> {
        let mut direct = direct;
        let key = self.mixed(key);
        let slot = match self.assign(None, key, attempt, direct).await {
            // The cookie's server has no room left in its queue: with
            // `option redispatch`, persistence gives way (HAProxy's
            // srv_redispatch_connect).
            Err(ConnectError::QueueFull) if direct.is_some() && self.redispatch.is_some() => {
                direct = None;
                attempt.redispatched = true;
                Traffic::add(&self.traffic.redispatches, 1);
                self.assign(None, key, attempt, None).await?
            }
            r => r?,
        };
        // Connections idle across an outage of their server are closed.
        idle.retain(|i| i.outages == i.server.outages());
        while let Some(i) = kept_for(idle, slot.server()) {
            let mut kept = idle.remove(i);
            if !kept.is_quiet().await {
                // Closed by the server, or holding bytes nobody asked
                // for: dropped, never the next request's carrier (stray
                // bytes would be read as its response).
                continue;
            }
            attempt.reused = true;
            attempt.server_addr = Some(target(&slot.server().config, client_port));
            return Ok((kept.stream, slot));
        }
        self.connect_assigned(net, client_port, attempt, slot, direct, key)
            .await
    }

    /// Connects again after the kept connection `connect_or_reuse` gave
    /// failed before taking any byte: HAProxy's retry of a reused
    /// connection (back_handle_st_cer with SF_SRV_REUSED), a retry like
    /// any other but without the pause before it.
    pub async fn reconnect(
        &self,
        net: &dyn Net,
        client_port: u16,
        attempt: &mut Attempt,
        slot: Slot,
        error: io::Error,
        key: Option<u32>,
    ) -> Result<(BoxStream, Slot), ConnectError> {
        attempt.reused = false;
        let key = self.mixed(key);
        let server = slot.server().clone();
        let mut direct = None;
        let slot = self
            .retry(slot, &server, error, Pause::No, attempt, &mut direct, key)
            .await?;
        self.connect_assigned(net, client_port, attempt, slot, direct, key)
            .await
    }

    /// A hash key as the balancer takes it (`hash-type ... avalanche`).
    fn mixed(&self, key: Option<u32>) -> Option<u32> {
        key.map(|k| {
            if self.avalanche {
                balance::full_hash(k)
            } else {
                k
            }
        })
    }

    /// Connects to the server of `slot`, retrying and redispatching as
    /// the backend's `retries` and `option redispatch` say.
    async fn connect_assigned(
        &self,
        net: &dyn Net,
        client_port: u16,
        attempt: &mut Attempt,
        mut slot: Slot,
        mut direct: Option<usize>,
        key: Option<u32>,
    ) -> Result<(BoxStream, Slot), ConnectError> {
        loop {
            let server = slot.server().clone();
            let addr = target(&server.config, client_port);
            attempt.server_addr = Some(addr);
            let error = match connect_once(net, addr, self.timeouts.connect).await {
                Ok(stream) => {
                    Traffic::add(&server.traffic.connects, 1);
                    server.observe(Event::L4Ok);
                    return Ok((crate::layers::server(stream, &server), slot));
                }
                Err(e) => e,
            };
            server.observe(Event::L4Err);
            Traffic::add(&server.traffic.connect_errors, 1);
            Traffic::add(&self.traffic.connect_errors, 1);
            // A connect timeout has waited already.
            let pause = if error.kind() == io::ErrorKind::TimedOut {
                Pause::No
            } else {
                Pause::SameServer
            };
            slot = self
                .retry(slot, &server, error, pause, attempt, &mut direct, key)
                .await?;
        }
    }

    /// After a failed connection to `server` (the server of `slot`): the
    /// slot to try next, or the error once `retries` are spent.
    #[allow(clippy::too_many_arguments)]
    async fn retry(
        &self,
        slot: Slot,
        server: &Arc<ServerState>,
        error: io::Error,
        pause: Pause,
        attempt: &mut Attempt,
        direct: &mut Option<usize>,
        key: Option<u32>,
    ) -> Result<Slot, ConnectError> {
        if attempt.retries >= self.retries {
            return Err(ConnectError::Failed {
                server: server.name().to_string(),
                source: error,
            });
        }
        attempt.retries += 1;
        // HAProxy 2.6 (back_handle_st_cer, stream_choose_redispatch):
        // with `option redispatch`, a retry goes back to the balancer
        // when the server is down, when the interval says so, or at
        // once with a round-robin algorithm and other servers up;
        // otherwise it waits min(timeout connect, 1s) and tries the
        // same server again.
        let others = self.count_up().0 > 1 && self.round_robin_kind;
        let redispatch = self.redispatch.is_some_and(|after| {
            !server.is_usable()
                || self.interval_hit(after, attempt.retries)
                || (others && direct.is_none())
        });
        if pause == Pause::SameServer && (!redispatch || !others) {
            let pause = self
                .timeouts
                .connect
                .map_or(MAX_RETRY_PAUSE, |c| c.min(MAX_RETRY_PAUSE));
            tokio::time::sleep(pause).await;
        }
        let mut slot = slot;
        if redispatch {
            // Persistence is broken: the balancer chooses.
            *direct = None;
            // The balancer is told which server failed, to pass it by
            // when it can (HAProxy's prev_srv).
            let failed = self.servers.iter().position(|s| Arc::ptr_eq(s, server));
            drop(slot);
            slot = self.assign(failed, key, attempt, None).await?;
            if !Arc::ptr_eq(slot.server(), server) {
                attempt.redispatched = true;
                Traffic::add(&server.traffic.redispatches, 1);
                Traffic::add(&self.traffic.redispatches, 1);
                return Ok(slot);
            }
        }
        Traffic::add(&server.traffic.retries, 1);
        Traffic::add(&self.traffic.retries, 1);
        Ok(slot)
    }

    /// Server `i`'s connection limit at this moment (dynamic with
    /// `minconn` and `fullconn`).
    fn limit(&self, i: usize) -> Option<u32> {
        self.servers[i].limit(self.current_streams(), self.fullconn)
    }

    /// The servers as the persistence cookie sees them, in order.
    pub fn candidates(&self) -> Vec<Candidate<'_>> {
        self.servers
            .iter()
            .map(|s| Candidate {
                cookie: s.config.cookie.as_deref(),
                // A draining server keeps its persistent clients.
                up: s.is_up() && !s.in_maint(),
            })
            .collect()
    }

    /// Whether the `option redispatch` interval falls on this retry: every
    /// `after` retries, or for a negative one that many before the last.
    fn interval_hit(&self, after: i32, retries: u32) -> bool {
        let period = if after > 0 {
            after as i64
        } else {
            i64::from(self.retries) + 1 + i64::from(after)
        };
        period > 0 && i64::from(retries) % period == 0
    }

    /// `clear counters`: the backend's peaks start over.
    pub fn clear_max(&self) {
        self.traffic.clear_max();
        self.queue.clear_longest();
    }

    /// Whether any server can take traffic (the backend's stats status).
    pub fn is_up(&self) -> bool {
        self.servers.iter().any(|s| s.is_usable())
    }

    /// Counts a stream in this backend until the guard drops (`beconn`).
    pub fn enter(self: &Arc<Self>) -> BackendGuard {
        let current = self.streams.fetch_add(1, Ordering::AcqRel) + 1;
        self.total_streams.fetch_add(1, Ordering::Relaxed);
        self.traffic.session(current as u64);
        BackendGuard(self.clone())
    }

    /// Streams currently in this backend (HAProxy's `beconn`).
    pub fn current_streams(&self) -> usize {
        self.streams.load(Ordering::Acquire)
    }

    /// Streams the balancing put on a server, all servers together
    /// (HAProxy's backend `lbtot`).
    pub fn balanced(&self) -> u64 {
        self.servers
            .iter()
            .map(|s| Traffic::get(&s.traffic.selected))
            .sum()
    }

    /// Streams ever assigned to this backend (the `BE:` of "cumulated conns").
    pub fn total_streams(&self) -> u64 {
        self.total_streams.load(Ordering::Relaxed)
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

async fn connect_once(
    net: &dyn Net,
    addr: SocketAddr,
    timeout: Option<Duration>,
) -> io::Result<BoxStream> {
    match timeout {
        Some(t) => tokio::time::timeout(t, net.connect(&ConnectSpec::to(addr)))
            .await
            .unwrap_or_else(|_| Err(io::Error::new(io::ErrorKind::TimedOut, "connect timeout"))),
        None => net.connect(&ConnectSpec::to(addr)).await,
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::testing::{proxy, Behaviour, FakeNet};
    use tokio::time::Instant;

    /// A stream with no address and nothing read.
    pub(super) const NO_STREAM: Stream = Stream {
        src: None,
        dst: None,
        payload: &[],
    };

    const TWO: &str = "
defaults
    mode tcp
    timeout connect 3s
listen app
    bind :80
    server s1 10.0.0.1:80
    server s2 10.0.0.2:80
";

    pub(super) fn backend(text: &str) -> Backend {
        Backend::new(&proxy(text), 1, vec![], 0)
    }

    #[tokio::test(start_paused = true)]
    async fn roundrobin_alternates_between_equal_servers() {
        let net = FakeNet::new();
        net.set("10.0.0.1:80", Behaviour::Accept);
        net.set("10.0.0.2:80", Behaviour::Accept);
        let be = backend(TWO);
        for _ in 0..4 {
            be.connect(&*net, 80, &mut Attempt::default(), &NO_STREAM)
                .await
                .unwrap();
        }
        assert_eq!(
            net.attempts(),
            ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.1:80", "10.0.0.2:80"]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn retries_stay_on_the_server_and_pause_between_attempts() {
        let net = FakeNet::new();
        let be =
            backend(&TWO.replace("timeout connect 3s", "timeout connect 300ms\n    retries 2"));
        let start = Instant::now();
        let err = be
            .connect(&*net, 80, &mut Attempt::default(), &NO_STREAM)
            .await
            .err()
            .expect("connect fails");
        assert!(
            matches!(err, ConnectError::Failed { ref server, .. } if server == "s1"),
            "{err}"
        );
        assert_eq!(net.attempts(), ["10.0.0.1:80"; 3]);
        // Two pauses of min(timeout connect, 1s).
        assert_eq!(start.elapsed(), Duration::from_millis(600));
    }

    #[tokio::test(start_paused = true)]
    async fn the_pause_is_at_most_one_second() {
        let net = FakeNet::new();
        let be = backend(&TWO.replace("timeout connect 3s", "timeout connect 3s\n    retries 1"));
        let start = Instant::now();
        be.connect(&*net, 80, &mut Attempt::default(), &NO_STREAM)
            .await
            .err()
            .expect("connect fails");
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }

    /// HAProxy 2.6 (stream_choose_redispatch): under round robin with
    /// another server up, the first retry already goes there, without the
    /// pause.
    #[tokio::test(start_paused = true)]
    async fn redispatch_goes_elsewhere_at_once_under_round_robin() {
        let net = FakeNet::new();
        net.set("10.0.0.2:80", Behaviour::Accept);
        let be = backend(&TWO.replace("mode tcp", "mode tcp\n    option redispatch"));
        let start = Instant::now();
        let mut attempt = Attempt::default();
        be.connect(&*net, 80, &mut attempt, &NO_STREAM)
            .await
            .unwrap();
        assert_eq!(net.attempts(), ["10.0.0.1:80", "10.0.0.2:80"]);
        assert_eq!(start.elapsed(), Duration::ZERO);
        assert_eq!((attempt.retries, attempt.redispatched), (1, true));
    }

    /// Other algorithms retry the same server, pausing, and redispatch on
    /// the last retry only (`option redispatch`'s default interval, -1).
    #[tokio::test(start_paused = true)]
    async fn redispatch_waits_for_the_last_retry_otherwise() {
        let net = FakeNet::new();
        net.set("10.0.0.2:80", Behaviour::Accept);
        let be = backend(&TWO.replace(
            "mode tcp",
            "mode tcp\n    option redispatch\n    balance leastconn",
        ));
        let start = Instant::now();
        be.connect(&*net, 80, &mut Attempt::default(), &NO_STREAM)
            .await
            .unwrap();
        assert_eq!(
            net.attempts(),
            ["10.0.0.1:80", "10.0.0.1:80", "10.0.0.1:80", "10.0.0.2:80"]
        );
        assert_eq!(start.elapsed(), Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_server_costs_timeout_connect_per_attempt() {
        let net = FakeNet::new();
        net.set("10.0.0.1:80", Behaviour::Hang);
        let be = backend(&TWO.replace("timeout connect 3s", "timeout connect 2s\n    retries 0"));
        let start = Instant::now();
        let err = be
            .connect(&*net, 80, &mut Attempt::default(), &NO_STREAM)
            .await
            .err()
            .expect("connect fails");
        assert!(
            matches!(err, ConnectError::Failed { ref source, .. } if source.kind() == io::ErrorKind::TimedOut)
        );
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }

    const BACKUPS: &str = "
defaults
    mode tcp
    timeout connect 1s
listen app
    bind :80
    server a1 10.0.0.1:80
    server b1 10.0.1.1:80 backup
    server b2 10.0.1.2:80 backup
";

    fn accept_all(net: &FakeNet) {
        for a in ["10.0.0.1:80", "10.0.1.1:80", "10.0.1.2:80"] {
            net.set(a, Behaviour::Accept);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn backups_wait_while_an_active_server_is_up() {
        let net = FakeNet::new();
        accept_all(&net);
        let be = backend(BACKUPS);
        for _ in 0..3 {
            be.connect(&*net, 80, &mut Attempt::default(), &NO_STREAM)
                .await
                .unwrap();
        }
        assert_eq!(net.attempts(), ["10.0.0.1:80"; 3]);
    }

    #[tokio::test(start_paused = true)]
    async fn only_the_first_backup_serves_when_actives_are_down() {
        let net = FakeNet::new();
        accept_all(&net);
        let be = backend(BACKUPS);
        be.update_server(&be.servers[0], |s| s.set_up(false));
        for _ in 0..3 {
            be.connect(&*net, 80, &mut Attempt::default(), &NO_STREAM)
                .await
                .unwrap();
        }
        assert_eq!(net.attempts(), ["10.0.1.1:80"; 3]);
        be.update_server(&be.servers[1], |s| s.set_up(false));
        be.connect(&*net, 80, &mut Attempt::default(), &NO_STREAM)
            .await
            .unwrap();
        assert_eq!(net.attempts()[3], "10.0.1.2:80");
    }

    #[tokio::test(start_paused = true)]
    async fn allbackups_shares_the_load_among_backups() {
        let net = FakeNet::new();
        accept_all(&net);
        let be = backend(&BACKUPS.replace("mode tcp", "mode tcp\n    option allbackups"));
        be.update_server(&be.servers[0], |s| s.set_up(false));
        for _ in 0..4 {
            be.connect(&*net, 80, &mut Attempt::default(), &NO_STREAM)
                .await
                .unwrap();
        }
        assert_eq!(
            net.attempts(),
            ["10.0.1.1:80", "10.0.1.2:80", "10.0.1.1:80", "10.0.1.2:80"]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn no_usable_server_fails_at_once() {
        let net = FakeNet::new();
        let be = backend(TWO);
        be.update_server(&be.servers[0], |s| s.set_up(false));
        be.update_server(&be.servers[1], |s| s.set_up(false));
        assert!(matches!(
            be.connect(&*net, 80, &mut Attempt::default(), &NO_STREAM)
                .await,
            Err(ConnectError::NoServer)
        ));
        assert!(net.attempts().is_empty());
    }

    #[test]
    fn servers_without_a_port_use_the_port_the_client_reached() {
        let p = proxy("listen app\n    bind :8000-8010\n    server s1 10.0.0.1\n    server s2 10.0.0.2:+1000\n");
        assert_eq!(target(&p.servers[0], 8004).to_string(), "10.0.0.1:8004");
        assert_eq!(target(&p.servers[1], 8004).to_string(), "10.0.0.2:9004");
    }
}
