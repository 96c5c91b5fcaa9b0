//! Streams waiting for a server slot (HAProxy's queue.c).
//!
//! A stream the balancer cannot place waits in a queue: its server's,
//! when a hash or a cookie chose that very server while it was full
//! (within the server's `maxqueue`), or else the backend's, while every
//! eligible server is full. It waits until a slot frees or `timeout
//! queue` (else `timeout connect`) strikes, and leaves with its queue
//! position for the log (`%sq`, `%bq`). When a server changes state, the
//! streams its queue holds move as HAProxy's pendconn_redistribute and
//! pendconn_grab_from_px move them.
//!
//! [`Queue`] is the backend's queue: its counters and the wake-up every
//! freed slot and every server change rings; [`QueueGuard`] is one
//! stream's place in a queue (the backend's or a server's). The waiting
//! itself is [`Backend::assign`]; choosing a server stays in the backend.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

use super::{Attempt, Backend, Choice, ConnectError};
use crate::server::{ServerState, Slot};

/// A backend's queue: its length, its longest, the streams it has served,
/// and the wake-up its servers share.
pub(super) struct Queue {
    /// Rung when a slot frees or a server changes; shared with the
    /// backend's servers (their [`Slot`]s ring it when dropped).
    slot_freed: Arc<Notify>,
    /// Streams waiting in it now (`qcur`).
    length: AtomicUsize,
    /// The longest it has been (`qmax`).
    longest: AtomicUsize,
    /// Streams that left it with a slot (for queue positions).
    dequeued: AtomicU64,
}

impl Queue {
    pub(super) fn new(slot_freed: Arc<Notify>) -> Self {
        Queue {
            slot_freed,
            length: AtomicUsize::new(0),
            longest: AtomicUsize::new(0),
            dequeued: AtomicU64::new(0),
        }
    }

    /// Wakes the streams waiting for a slot, to look again: a server
    /// changed (up, down, weight, warm-up).
    pub(super) fn wake(&self) {
        self.slot_freed.notify_waiters();
    }

    /// `clear counters`: the longest starts over.
    pub(super) fn clear_longest(&self) {
        self.longest.store(0, Ordering::Release);
    }

    fn counters(&self) -> (&AtomicUsize, &AtomicUsize, &AtomicU64) {
        (&self.length, &self.longest, &self.dequeued)
    }
}

/// A stream waiting in a queue (the backend's, or a server's); dropping
/// it leaves the queue.
struct QueueGuard<'a> {
    length: &'a AtomicUsize,
    /// The queue's count of streams that left it with a slot, when this
    /// one joined.
    dequeued: &'a AtomicU64,
    start: u64,
    of_server: bool,
}

impl<'a> QueueGuard<'a> {
    fn join(queue: (&'a AtomicUsize, &AtomicUsize, &'a AtomicU64), of_server: bool) -> Self {
        let (length, longest, dequeued) = queue;
        let ahead = length.fetch_add(1, Ordering::AcqRel);
        longest.fetch_max(ahead + 1, Ordering::AcqRel);
        QueueGuard {
            length,
            dequeued,
            start: dequeued.load(Ordering::Acquire),
            of_server,
        }
    }

    /// Leaves with a slot: the log's queue position, HAProxy's count of
    /// the streams served from this queue meanwhile, this one included.
    fn served(self) -> usize {
        (self.dequeued.fetch_add(1, Ordering::AcqRel) + 1 - self.start) as usize
    }

    /// Leaves without one (`timeout queue`): the same count, this one not
    /// served (HAProxy's position of a stream unlinked from its queue).
    fn gave_up(self) -> usize {
        (self.dequeued.load(Ordering::Acquire) + 1 - self.start) as usize
    }

    /// Records where the stream left this queue in its log's `%sq`/`%bq`.
    fn note(self, attempt: &mut Attempt, served: bool) {
        let of_server = self.of_server;
        let position = if served {
            self.served()
        } else {
            self.gave_up()
        };
        if of_server {
            attempt.srv_queue = position;
        } else {
            attempt.backend_queue = position;
        }
    }
}

impl Drop for QueueGuard<'_> {
    fn drop(&mut self) {
        self.length.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One more on a counter while it lives.
struct Counted<'a>(&'a AtomicUsize);

impl<'a> Counted<'a> {
    fn new(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::AcqRel);
        Counted(counter)
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Backend {
    /// Streams waiting in the backend's queue now (`qcur`).
    pub fn queued(&self) -> usize {
        self.queue.length.load(Ordering::Acquire)
    }

    /// The longest the queue has been (`qmax`), since `clear counters`.
    pub fn queued_max(&self) -> usize {
        self.queue.longest.load(Ordering::Acquire)
    }

    /// The streams queued on a server that is going DOWN which go back to
    /// the balancer (with `option redispatch`, all but those a cookie
    /// binds), and those left in its queue.
    pub fn requeue_on_down(&self, server: &ServerState) -> (usize, usize) {
        let queued = server.queued.load(Ordering::Acquire);
        let forced = server.queued_forced.load(Ordering::Acquire).min(queued);
        let moved = if self.redispatch.is_some() {
            queued - forced
        } else {
            0
        };
        (moved, queued - moved)
    }

    /// The streams of the backend's queue a server coming UP takes, as
    /// HAProxy's pendconn_grab_from_px: up to its free slots, none for a
    /// backup while an active server (or another backup) serves.
    pub fn requeue_on_up(&self, server: &ServerState) -> usize {
        let Some(i) = self.servers.iter().position(|s| std::ptr::eq(&**s, server)) else {
            return 0;
        };
        if server.is_backup() && self.count_up().0 > 0 {
            return 0;
        }
        let waiting = self.queued();
        match self.limit(i) {
            Some(max) => {
                waiting.min((max as usize).saturating_sub(server.current_conns() as usize))
            }
            None => waiting,
        }
    }

    /// Whether a newcomer must queue behind the streams already waiting in
    /// the backend's queue: with `first`, `roundrobin` and `static-rr`,
    /// unless every stream of the backend waits there.
    fn others_queued(&self) -> bool {
        let waiting = self.queued();
        self.queue_first && waiting > 0 && waiting != self.current_streams()
    }

    /// Waits for a server with a free slot and takes the slot.
    /// A server that is chosen but full (a hash's server, the only backup)
    /// is waited for, as HAProxy queues the stream on that server.
    pub(super) async fn assign(
        &self,
        avoid: Option<usize>,
        key: Option<u32>,
        attempt: &mut Attempt,
        direct: Option<usize>,
    ) -> Result<Slot, ConnectError> {
        let queue_timeout = self.timeouts.queue.or(self.timeouts.connect);
        let deadline = queue_timeout.map(|t| tokio::time::Instant::now() + t);
        let mut queued: Option<QueueGuard> = None;
        // The server whose queue it joined: HAProxy's queued streams wait
        // for their server; when it goes DOWN, `option redispatch` sends
        // them back to the balancer (pendconn_redistribute), except those
        // a cookie binds; without it they wait on.
        let mut bound: Option<usize> = None;
        let mut _forced: Option<Counted> = None;
        loop {
            // Register before looking, so a slot freed in between wakes us.
            let freed = self.queue.slot_freed.notified();
            // A persistence cookie names its server: it is waited for.
            let choice = match (direct, bound) {
                (Some(i), _) => Choice::Server(i),
                (None, Some(i)) if self.servers[i].is_usable() || self.redispatch.is_none() => {
                    Choice::Server(i)
                }
                (None, Some(_)) => {
                    (bound, queued) = (None, None);
                    self.pick(avoid, key)
                }
                (None, None) if queued.is_none() && self.others_queued() => Choice::Full,
                (None, None) => self.pick(avoid, key),
            };
            match choice {
                Choice::Server(i) => {
                    let server = &self.servers[i];
                    // Behind the streams already waiting for it, if any.
                    let behind = queued.is_none() && server.waiting() > 0;
                    let slot = if behind {
                        None
                    } else {
                        server.take_slot(self.limit(i))
                    };
                    if let Some(slot) = slot {
                        attempt.server = Some(server.name().to_string());
                        attempt.assigned_at = Some(tokio::time::Instant::now());
                        if let Some(guard) = queued.take() {
                            let of_server = guard.of_server;
                            guard.note(attempt, true);
                            if of_server {
                                // Out of its queue: its load counts one less.
                                server.refresh_load();
                            }
                        }
                        return Ok(slot);
                    }
                    // That very server was chosen (a hash, a cookie): its
                    // own queue, within its `maxqueue`.
                    if queued.is_none() {
                        let length = server.queued.load(Ordering::Acquire);
                        if server
                            .config
                            .maxqueue
                            .is_some_and(|m| m > 0 && length >= m as usize)
                        {
                            attempt.server = Some(server.name().to_string());
                            return Err(ConnectError::QueueFull);
                        }
                        let queue = (&server.queued, &server.queued_max, &server.dequeued);
                        queued = Some(QueueGuard::join(queue, true));
                        bound = Some(i);
                        if direct.is_some() {
                            _forced = Some(Counted::new(&server.queued_forced));
                        }
                    }
                }
                Choice::NoServer => return Err(ConnectError::NoServer),
                Choice::Full if queued.is_none() => {
                    // Every server that may take it is full: the backend's.
                    queued = Some(QueueGuard::join(self.queue.counters(), false));
                }
                Choice::Full => {}
            }
            match deadline {
                Some(d) => {
                    if tokio::time::timeout_at(d, freed).await.is_err() {
                        // HAProxy notes the time in queue (`%Tw`) and the
                        // position when `timeout queue` strikes.
                        attempt.assigned_at = Some(tokio::time::Instant::now());
                        if let Some(guard) = queued.take() {
                            guard.note(attempt, false);
                        }
                        return Err(ConnectError::QueueTimeout);
                    }
                }
                None => freed.await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::time::Instant;

    use super::super::tests::{backend, NO_STREAM};
    use super::*;
    use crate::testing::{Behaviour, FakeNet};

    const FULL: &str = "
defaults
    mode tcp
    timeout connect 1s
    timeout queue 5s
listen app
    bind :80
    server s1 10.0.0.1:80 maxconn 1
";

    #[tokio::test(start_paused = true)]
    async fn a_full_server_makes_the_next_connection_queue_until_a_slot_frees() {
        let net = FakeNet::new();
        net.set("10.0.0.1:80", Behaviour::Accept);
        let be = Arc::new(backend(FULL));
        let (_stream, slot) = be
            .connect(&*net, 80, &mut Attempt::default(), &NO_STREAM)
            .await
            .unwrap();
        let waiter = {
            let (be, net) = (be.clone(), net.clone());
            tokio::spawn(async move {
                be.connect(&*net, 80, &mut Attempt::default(), &NO_STREAM)
                    .await
                    .map(|_| Instant::now())
            })
        };
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(
            net.attempts().len(),
            1,
            "the second connection waits in the queue"
        );
        let freed = Instant::now();
        drop(slot);
        let connected = waiter.await.unwrap().unwrap();
        assert_eq!(connected, freed);
        assert_eq!(net.attempts().len(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn the_queue_gives_up_after_timeout_queue() {
        let net = FakeNet::new();
        net.set("10.0.0.1:80", Behaviour::Accept);
        let be = backend(FULL);
        let _held = be
            .connect(&*net, 80, &mut Attempt::default(), &NO_STREAM)
            .await
            .unwrap();
        let start = Instant::now();
        assert!(matches!(
            be.connect(&*net, 80, &mut Attempt::default(), &NO_STREAM)
                .await,
            Err(ConnectError::QueueTimeout)
        ));
        assert_eq!(start.elapsed(), Duration::from_secs(5));
    }
}
