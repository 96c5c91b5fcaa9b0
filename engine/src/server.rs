//! Runtime state of one server: operational state, connection count, health.
//!
//! The configuration of a server (`config::Server`) is inert; this is what
//! changes while the engine runs. Health checks flip `up`; streams take and
//! release connection slots, which is how `maxconn` is honoured.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::check::health::Health;
use crate::config;

pub struct ServerState {
    pub config: config::Server,
    /// `id`, or the server's position in its backend from 1 (HAProxy's default).
    pub id: u32,
    /// Operational state from health checks; always true without `check`.
    up: AtomicBool,
    /// Administrative maintenance (`disabled`).
    maint: AtomicBool,
    /// Connections currently established or being established to it.
    cur_conns: AtomicU32,
    /// Connections ever established to it (HAProxy's `stot`).
    total_conns: AtomicU32,
    pub health: Mutex<Health>,
    /// Wakes streams queued in the backend when a slot frees up.
    slot_freed: Arc<Notify>,
    /// The backend's count of connection-count changes, and this server's
    /// place in it: leastconn lets the server whose count changed longest
    /// ago go first among equals, as HAProxy's tree does.
    changes: Arc<AtomicU64>,
    last_change: AtomicU64,
}

/// What a server shares with the others of its backend.
#[derive(Clone, Default)]
pub struct Shared {
    /// Wakes streams queued in the backend when a slot frees up.
    pub slot_freed: Arc<Notify>,
    /// Counts changes of connection counts across the backend.
    pub changes: Arc<AtomicU64>,
}

impl ServerState {
    pub fn new(config: config::Server, position: u32, shared: &Shared) -> Self {
        let health = Health::new(config.check.rise.max(1), config.check.fall.max(1));
        ServerState {
            id: config.id.unwrap_or(position),
            up: AtomicBool::new(true),
            maint: AtomicBool::new(config.disabled),
            cur_conns: AtomicU32::new(0),
            total_conns: AtomicU32::new(0),
            health: Mutex::new(health),
            slot_freed: shared.slot_freed.clone(),
            // Declaration order first, as servers enter HAProxy's tree.
            last_change: AtomicU64::new(u64::from(position)),
            changes: shared.changes.clone(),
            config,
        }
    }

    /// Connections in flight and when that count last changed (leastconn).
    pub fn inflight(&self) -> (u32, u64) {
        (
            self.current_conns(),
            self.last_change.load(Ordering::Relaxed),
        )
    }

    /// Moves the server behind the others whose count is the same.
    fn mark_change(&self) {
        let n = self.changes.fetch_add(1, Ordering::Relaxed);
        // After the initial positions, which are below 2^32.
        self.last_change.store((1 << 32) + n, Ordering::Relaxed);
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    pub fn is_backup(&self) -> bool {
        self.config.backup
    }

    /// Can take new traffic: operational, not in maintenance, weight above 0.
    pub fn is_usable(&self) -> bool {
        self.is_up() && !self.maint.load(Ordering::Relaxed) && self.config.weight > 0
    }

    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    pub fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::Relaxed);
        if up {
            self.mark_change();
        }
    }

    pub fn current_conns(&self) -> u32 {
        self.cur_conns.load(Ordering::Relaxed)
    }

    pub fn total_conns(&self) -> u32 {
        self.total_conns.load(Ordering::Relaxed)
    }

    /// Below its `maxconn`, so it can take one more connection.
    pub fn has_room(&self) -> bool {
        self.config
            .maxconn
            .is_none_or(|max| self.current_conns() < max)
    }

    /// Takes a connection slot; the slot is given back when dropped.
    /// Fails when the server is at its `maxconn`.
    pub fn take_slot(self: &Arc<Self>) -> Option<Slot> {
        let max = self.config.maxconn.unwrap_or(u32::MAX);
        self.cur_conns
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()?;
        self.total_conns.fetch_add(1, Ordering::Relaxed);
        self.mark_change();
        Some(Slot(Arc::clone(self)))
    }
}

/// One connection's hold on a server; dropping it frees the slot.
pub struct Slot(Arc<ServerState>);

impl Slot {
    pub fn server(&self) -> &Arc<ServerState> {
        &self.0
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.cur_conns.fetch_sub(1, Ordering::AcqRel);
        self.0.mark_change();
        self.0.slot_freed.notify_waiters();
    }
}
