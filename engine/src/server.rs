//! Runtime state of one server: operational state, connection count, health.
//!
//! The configuration of a server (`config::Server`) is inert; this is what
//! changes while the engine runs. Its flags (`up`, maintenance, drain,
//! stopping, weights) are set by the status module alone, which keeps the
//! balancer in step; streams take and release connection slots, which is
//! how `maxconn` is honoured.
//!
//! Inside, what a server keeps of its checks:
//! - [`health`]: the rise/fall counter;
//! - [`check_status`]: HAProxy's check statuses, one table;
//! - [`observe`]: the errors its traffic showed (passive checks).

pub mod check_status;
pub mod health;
pub mod observe;

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::balance::WEIGHT_SCALE;
use crate::config;
use crate::counters::{Availability, Traffic};
use crate::slowstart;
pub use check_status::CheckStats;
pub use check_status::CheckStatus;
use health::Health;
use observe::{Analysis, Event};

pub struct ServerState {
    pub config: config::Server,
    /// `id`, or HAProxy's automatic number (see [`config::number_ids`]).
    pub id: u32,
    /// Operational state from health checks; always true without `check`.
    up: AtomicBool,
    /// Administrative maintenance (`disabled`).
    maint: AtomicBool,
    /// Administrative drain: no new traffic, status `DRAIN`.
    drain: AtomicBool,
    /// Stopping (HAProxy's SRV_ST_STOPPING, status `NOLB`): its HTTP
    /// check answered 404 under `http-check disable-on-404`; no new
    /// traffic but its persistent clients.
    stopping: AtomicBool,
    /// Cuts its connections (`on-marked-down shutdown-sessions`...).
    pub cuts: crate::shutdown::Cuts,
    /// Health checks not stopped by `disable health` on the runtime API.
    checks_on: AtomicBool,
    /// Errors seen in its traffic (`observe`).
    pub analysis: Analysis,
    /// The current user weight (the runtime API may change it).
    weight: AtomicU32,
    /// The effective weight the algorithm holds: the user weight times
    /// [`WEIGHT_SCALE`], less while warming up (HAProxy's `cur_eweight`).
    eweight: AtomicU32,
    /// Since when it warms up (HAProxy's SRV_ST_STARTING): set when it
    /// comes back UP with `slowstart`, cleared once the delay is over or
    /// when it goes down.
    warm_since: Mutex<Option<Instant>>,
    /// Wakes its warm-up task (see [`crate::slowstart`]).
    pub warming: Notify,
    /// Connections currently established or being established to it.
    cur_conns: AtomicU32,
    /// Connections ever established to it (HAProxy's `stot`).
    total_conns: AtomicU32,
    /// Streams waiting for this very server (a hash or a cookie chose it
    /// while it was full), and the most there have been (`qcur`, `qmax`).
    pub queued: AtomicUsize,
    /// Of those, the streams a persistence cookie binds to it: they stay
    /// when it goes DOWN (HAProxy's SF_FORCE_PRST).
    pub queued_forced: AtomicUsize,
    pub queued_max: AtomicUsize,
    /// Streams that left its queue with a slot (for queue positions).
    pub dequeued: AtomicU64,
    outages: AtomicU64,
    pub health: Mutex<Health>,
    /// Wakes streams queued in the backend when a slot frees up.
    slot_freed: Arc<Notify>,
    /// The backend's count of connection-count changes, and this server's
    /// place in it: leastconn lets the server whose count changed longest
    /// ago go first among equals, as HAProxy's tree does.
    changes: Arc<AtomicU64>,
    last_change: AtomicU64,
    /// Its load when the count last changed: served plus queued then.
    /// leastconn orders by it, as lb_fwlc repositions a server only when
    /// a connection is taken or given back (not when one queues).
    last_load: AtomicU32,
    /// Stats: traffic, health checks, availability.
    pub traffic: Traffic,
    pub checks: Mutex<CheckStats>,
    pub availability: Mutex<Availability>,
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
    /// `position` counts from 1 in declaration order; `id` is the
    /// server's number in the stats.
    pub fn new(config: config::Server, position: u32, id: u32, shared: &Shared) -> Self {
        let (rise, fall) = (config.check.rise.max(1), config.check.fall.max(1));
        // A server starting in maintenance is DOWN with health 0, as in
        // HAProxy; leaving maintenance brings it UP.
        let health = if config.disabled {
            Health::down(rise, fall)
        } else {
            Health::new(rise, fall)
        };
        ServerState {
            id,
            up: AtomicBool::new(!config.disabled),
            maint: AtomicBool::new(config.disabled),
            drain: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            cuts: Default::default(),
            analysis: Default::default(),
            checks_on: AtomicBool::new(true),
            weight: AtomicU32::new(config.weight),
            eweight: AtomicU32::new(config.weight * WEIGHT_SCALE),
            warm_since: Mutex::new(None),
            warming: Notify::new(),
            cur_conns: AtomicU32::new(0),
            total_conns: AtomicU32::new(0),
            queued: AtomicUsize::new(0),
            queued_forced: AtomicUsize::new(0),
            queued_max: AtomicUsize::new(0),
            dequeued: AtomicU64::new(0),
            outages: AtomicU64::new(0),
            health: Mutex::new(health),
            slot_freed: shared.slot_freed.clone(),
            // Declaration order first, as servers enter HAProxy's tree.
            last_change: AtomicU64::new(u64::from(position)),
            last_load: AtomicU32::new(0),
            changes: shared.changes.clone(),
            traffic: Traffic::default(),
            checks: Mutex::new(CheckStats::default()),
            availability: Mutex::new(Availability::new(!config.disabled)),
            config,
        }
    }

    /// Connections in flight (served or waiting in its queue, as
    /// HAProxy counts them) when the count last changed, and when that was
    /// (leastconn).
    pub fn inflight(&self) -> (u32, u64) {
        (
            self.last_load.load(Ordering::Relaxed),
            self.last_change.load(Ordering::Relaxed),
        )
    }

    /// Moves the server behind the others whose count is the same.
    fn mark_change(&self) {
        self.refresh_load();
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

    /// Can take new traffic: available with a weight above 0.
    pub fn is_usable(&self) -> bool {
        self.is_available() && self.weight() > 0
    }

    /// Operational, not stopping, and in neither maintenance nor drain,
    /// whatever its weight.
    pub fn is_available(&self) -> bool {
        self.is_up()
            && !self.is_stopping()
            && !self.maint.load(Ordering::Relaxed)
            && !self.drain.load(Ordering::Relaxed)
    }

    /// Stopping under `http-check disable-on-404` (NOLB).
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }

    pub fn set_stopping(&self, stopping: bool) {
        self.stopping.store(stopping, Ordering::Relaxed);
    }

    /// The current user weight.
    pub fn weight(&self) -> u32 {
        self.weight.load(Ordering::Relaxed)
    }

    pub fn set_weight(&self, weight: u32) {
        self.weight.store(weight, Ordering::Relaxed);
    }

    /// `set server ... state drain|ready`.
    pub fn set_drain(&self, drain: bool) {
        self.drain.store(drain, Ordering::Relaxed);
    }

    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    pub fn set_up(&self, up: bool) {
        let was = self.up.swap(up, Ordering::Relaxed);
        if up {
            self.mark_change();
        }
        if was != up {
            self.warm_up(up);
            self.availability
                .lock()
                .expect("availability lock")
                .change(up);
            if !up {
                self.checks.lock().expect("checks lock").downs += 1;
                // Idle connections to it are not reused (HAProxy purges them).
                self.outages.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// How many times it went down or into maintenance: a connection kept
    /// idle across one of those is not reused.
    pub fn outages(&self) -> u64 {
        self.outages.load(Ordering::Relaxed)
    }

    /// Starts the warm-up of a server back UP with `slowstart`, or ends it
    /// when the server goes down.
    fn warm_up(&self, up: bool) {
        let mut since = self.warm_since.lock().expect("warm-up lock");
        *since = (up && self.config.slowstart > 0).then(Instant::now);
        if since.is_some() {
            self.warming.notify_one();
        }
    }

    /// Whole seconds into its warm-up; None once the warm-up is over
    /// (HAProxy's SRV_ST_STARTING, which ends when the warm-up task next
    /// finds the delay elapsed).
    pub fn warming_for(&self) -> Option<u64> {
        let since = (*self.warm_since.lock().expect("warm-up lock"))?;
        Some(since.elapsed().as_secs())
    }

    /// The factor, in 16ths, its weight takes now: below 16 while it warms
    /// up, ending the warm-up once its delay has elapsed (HAProxy's
    /// server_recalc_eweight).
    pub fn recalc_warm_up(&self) -> u32 {
        let mut since = self.warm_since.lock().expect("warm-up lock");
        let elapsed = since.map(|s| s.elapsed().as_secs());
        match elapsed.and_then(|e| slowstart::factor(e, self.config.slowstart)) {
            Some(w) => w,
            None => {
                *since = None;
                WEIGHT_SCALE
            }
        }
    }

    /// The effective weight the algorithm holds (see [`Self::set_eweight`]).
    pub fn eweight(&self) -> u32 {
        self.eweight.load(Ordering::Relaxed)
    }

    pub fn set_eweight(&self, eweight: u32) {
        self.eweight.store(eweight, Ordering::Relaxed);
    }

    /// The weight the stats show: the effective weight in user units,
    /// rounded up.
    pub fn shown_weight(&self) -> u32 {
        self.eweight().div_ceil(WEIGHT_SCALE)
    }

    /// The stats' `throttle`: the percentage of its weight a warming
    /// server has reached (HAProxy's server_throttle_rate); None when it
    /// does not warm up or drains.
    pub fn throttle(&self) -> Option<u32> {
        let warming = self.warm_since.lock().expect("warm-up lock").is_some();
        let weight = self.weight();
        (warming && weight > 0 && !self.is_draining())
            .then(|| (100 * self.eweight() + WEIGHT_SCALE - 1) / (WEIGHT_SCALE * weight))
    }

    /// Enters or leaves maintenance. Entering takes the server DOWN with
    /// health 0; leaving sets the health to `rise` (checked servers) and
    /// brings it UP: HAProxy's "start OK but check immediately".
    pub fn set_maint(&self, maint: bool) {
        if self.maint.swap(maint, Ordering::Relaxed) == maint {
            return;
        }
        let c = &self.config.check;
        let mut health = self.health.lock().expect("health lock");
        if maint {
            *health = Health::down(c.rise.max(1), c.fall.max(1));
        } else if c.enabled {
            *health = Health::new(c.rise.max(1), c.fall.max(1));
        }
        drop(health);
        self.set_up(!maint);
    }

    /// In maintenance: out of rotation, checks paused.
    pub fn in_maint(&self) -> bool {
        self.maint.load(Ordering::Relaxed)
    }

    /// In forced drain: UP but out of rotation.
    pub fn is_draining(&self) -> bool {
        self.drain.load(Ordering::Relaxed)
    }

    /// Checked: `check` in the config, and no `disable health` since.
    pub fn checks_enabled(&self) -> bool {
        self.config.check.enabled && self.checks_on.load(Ordering::Relaxed)
    }

    /// `disable health` / `enable health`: checks stop (the state stays
    /// as the last one left it) or resume. Ordered with
    /// [`Self::start_check`] by the checks lock, as HAProxy's server lock
    /// orders its CLI and check task: once checks are off, a check is
    /// either under way already or none starts until they are on again.
    pub fn set_checks_on(&self, on: bool) {
        let _checks = self.checks.lock().expect("checks lock");
        self.checks_on.store(on, Ordering::Relaxed);
    }

    /// `clear counters all`: failed checks, DOWN transitions and passive
    /// check triggers start over.
    pub fn clear_check_counters(&self) {
        let mut c = self.checks.lock().expect("checks lock");
        c.failed = 0;
        c.downs = 0;
        drop(c);
        self.analysis.clear_triggered();
    }

    /// What its traffic showed (`observe layer4|layer7`).
    pub fn observe(&self, event: Event) {
        let c = &self.config.check;
        if c.enabled {
            self.analysis.record(c.observe, c.error_limit, event);
        }
    }

    /// The status of its last check, None before any.
    pub fn last_check_status(&self) -> Option<CheckStatus> {
        self.checks.lock().expect("checks lock").status
    }

    /// A check starts, unless `disable health` stopped them (false:
    /// none starts): its last words are forgotten until it ends.
    pub fn start_check(&self) -> bool {
        let mut c = self.checks.lock().expect("checks lock");
        if !self.checks_enabled() {
            return false;
        }
        c.running = true;
        c.info.clear();
        true
    }

    /// A check ends without a result (maintenance came meanwhile).
    pub fn abandon_check(&self) {
        self.checks.lock().expect("checks lock").running = false;
    }

    /// The status column of the stats: `UP`, `UP 1/3`, `DOWN`, `DOWN 1/2`,
    /// `MAINT` or `no check`.
    pub fn status(&self) -> String {
        if self.maint.load(Ordering::Relaxed) {
            "MAINT".to_string()
        } else if self.drain.load(Ordering::Relaxed) {
            "DRAIN".to_string()
        } else if !self.checks_enabled() {
            // Checks stopped by the runtime API leave a DOWN server DOWN.
            if self.is_up() { "no check" } else { "DOWN" }.to_string()
        } else {
            let status = self.health.lock().expect("health lock").status();
            match status.strip_prefix("UP") {
                Some(rest) if self.is_stopping() => format!("NOLB{rest}"),
                _ => status,
            }
        }
    }

    pub fn current_conns(&self) -> u32 {
        self.cur_conns.load(Ordering::Relaxed)
    }

    pub fn total_conns(&self) -> u32 {
        self.total_conns.load(Ordering::Relaxed)
    }

    /// Its `maxconn` as HAProxy settles it: `minconn` alone, or above
    /// `maxconn`, becomes the maxconn. None: unlimited.
    pub fn maxconn(&self) -> Option<u32> {
        match (self.config.maxconn, self.config.minconn) {
            (Some(max), Some(min)) if min > max => Some(min),
            (None, Some(min)) if min > 0 => Some(min),
            (max, _) => max,
        }
    }

    /// The limit now (HAProxy's srv_dynamic_maxconn): with `minconn`
    /// below `maxconn`, it grows with the backend's load `beconn` from
    /// `minconn` to `maxconn`, reached at `fullconn`; while the server
    /// warms up, only its share of that.
    pub fn limit(&self, beconn: usize, fullconn: u32) -> Option<u32> {
        let max = self.maxconn()?;
        let min = self.config.minconn.filter(|&m| m > 0).unwrap_or(max);
        let max = if beconn as u64 >= u64::from(fullconn) || min == max {
            max
        } else {
            let scaled = beconn as u64 * u64::from(max) / u64::from(fullconn.max(1));
            min.max(scaled as u32)
        };
        Some(match self.warming_for() {
            Some(elapsed) => slowstart::throttle(max, elapsed, self.config.slowstart),
            None => max,
        })
    }

    /// Below `limit` with nobody in its queue, so it can take one more
    /// connection now.
    pub fn has_room(&self, limit: Option<u32>) -> bool {
        limit.is_none_or(|max| self.waiting() == 0 && self.current_conns() < max)
    }

    /// Below `limit` plus its `maxqueue`, counting its queue (HAProxy's
    /// leastconn test).
    pub fn may_queue(&self, limit: Option<u32>) -> bool {
        limit.is_none_or(|max| {
            let queue_room = self.config.maxqueue.unwrap_or(0);
            (self.current_conns() as usize + self.waiting()) < (max + queue_room) as usize
        })
    }

    /// Takes its load (served plus queued) for leastconn's order now.
    pub fn refresh_load(&self) {
        let load = self.current_conns() + self.waiting() as u32;
        self.last_load.store(load, Ordering::Relaxed);
    }

    /// Streams waiting in its own queue (`qcur`).
    pub fn waiting(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }

    /// Takes a connection slot; the slot is given back when dropped.
    /// Fails when the server is at `limit`.
    pub fn take_slot(self: &Arc<Self>, limit: Option<u32>) -> Option<Slot> {
        let max = limit.unwrap_or(u32::MAX);
        self.cur_conns
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()?;
        self.total_conns.fetch_add(1, Ordering::Relaxed);
        self.mark_change();
        Traffic::add(&self.traffic.selected, 1);
        self.traffic.session(u64::from(self.current_conns()));
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
        // Wakes every queued stream, not only the head (HAProxy's process_srv_queue: the head).
        self.0.slot_freed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(line: &str) -> ServerState {
        let text = format!(
            "defaults\n mode tcp\n timeout connect 1s\n timeout client 1s\n timeout server 1s\nbackend b\n {line}\n"
        );
        let proxy = crate::testing::proxy(&text);
        ServerState::new(proxy.servers[0].clone(), 1, 1, &Shared::default())
    }

    /// HAProxy's srv_dynamic_maxconn: from minconn, growing with the
    /// backend's load, to maxconn at fullconn.
    #[test]
    fn the_limit_grows_with_the_backend_load() {
        let s = server("server s 10.0.0.1:80 minconn 2 maxconn 10");
        assert_eq!(s.limit(0, 100), Some(2));
        assert_eq!(s.limit(50, 100), Some(5));
        assert_eq!(s.limit(99, 100), Some(9));
        assert_eq!(s.limit(100, 100), Some(10));
        assert_eq!(s.limit(500, 100), Some(10));
    }

    /// `disable health` and a check's start are ordered: a check under
    /// way runs on, none starts after, until `enable health`.
    #[test]
    fn disable_health_lets_a_check_under_way_end_and_starts_none() {
        let s = server("server s 10.0.0.1:80 check");
        assert!(s.start_check());
        s.set_checks_on(false);
        assert!(s.checks.lock().unwrap().running, "the check under way");
        s.abandon_check();
        assert!(!s.start_check());
        assert!(!s.checks.lock().unwrap().running);
        s.set_checks_on(true);
        assert!(s.start_check());
    }

    #[test]
    fn minconn_alone_or_above_maxconn_is_the_maxconn() {
        assert_eq!(server("server s 10.0.0.1:80 minconn 7").maxconn(), Some(7));
        let above = server("server s 10.0.0.1:80 minconn 7 maxconn 3");
        assert_eq!(above.maxconn(), Some(7));
        assert_eq!(above.limit(0, 100), Some(7));
        assert_eq!(server("server s 10.0.0.1:80").limit(0, 100), None);
    }
}
