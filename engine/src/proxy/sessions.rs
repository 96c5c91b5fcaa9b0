//! The streams alive now, for the runtime API's `show sess`: each one's
//! client, frontend, and the backend and server it last went to.
//!
//! A stream registers when accepted and leaves when it ends: one short
//! lock at each end, none while it forwards.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::time::Instant;

use crate::net::Family;

/// Every live stream, by id (HAProxy prints its stream's address).
#[derive(Default)]
pub struct Table {
    next: AtomicU64,
    /// Turns with each `show sess`, so that a later dump tells the
    /// streams born since (HAProxy's stream_epoch).
    epoch: AtomicU64,
    live: Mutex<BTreeMap<u64, Arc<Entry>>>,
}

/// One stream, as `show sess` describes it.
pub struct Entry {
    id: u64,
    /// The listening socket it came through, whose counters it feeds.
    pub socket: Arc<super::Socket>,
    family: Family,
    src: Option<SocketAddr>,
    frontend: String,
    started: Instant,
    epoch: u64,
    /// The backend and server it went to last.
    target: Mutex<(Option<String>, Option<String>)>,
}

impl Entry {
    /// The stream was sent to `backend`, to `server` when one is chosen.
    pub fn set_target(&self, backend: &str, server: Option<&str>) {
        *self.target.lock().expect("session target lock") =
            (Some(backend.to_string()), server.map(str::to_string));
    }
}

/// A stream's place in the table; dropping it leaves.
pub struct Registered<'a> {
    table: &'a Table,
    pub entry: Arc<Entry>,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.table
            .live
            .lock()
            .expect("sessions lock")
            .remove(&self.entry.id);
    }
}

impl Table {
    pub fn register(
        &self,
        family: Family,
        src: Option<SocketAddr>,
        frontend: &str,
        socket: Arc<super::Socket>,
    ) -> Registered<'_> {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let entry = Arc::new(Entry {
            id,
            socket,
            family,
            src,
            frontend: frontend.to_string(),
            started: Instant::now(),
            epoch: self.epoch.load(Ordering::Relaxed),
            target: Mutex::new((None, None)),
        });
        self.live
            .lock()
            .expect("sessions lock")
            .insert(id, entry.clone());
        Registered { table: self, entry }
    }

    /// The live streams, oldest first, for `show sess`; turns the epoch,
    /// so that a later dump tells the streams born since.
    pub fn dump(&self) -> Vec<Shown> {
        self.epoch.fetch_add(1, Ordering::Relaxed);
        let live: Vec<Arc<Entry>> = self
            .live
            .lock()
            .expect("sessions lock")
            .values()
            .cloned()
            .collect();
        live.iter()
            .map(|e| {
                let (backend, server) = e.target.lock().expect("session target lock").clone();
                Shown {
                    id: e.id,
                    proto: e.family.proto(),
                    src: e.src,
                    frontend: e.frontend.clone(),
                    backend,
                    server,
                    epoch: e.epoch,
                    age_secs: e.started.elapsed().as_secs() as i64,
                }
            })
            .collect()
    }
}

/// One live stream, as `show sess` describes it.
pub struct Shown {
    pub id: u64,
    /// `tcpv4`, `tcpv6`, `unix_stream`.
    pub proto: &'static str,
    /// The client; None for a unix socket.
    pub src: Option<SocketAddr>,
    pub frontend: String,
    /// The backend and server it went to last.
    pub backend: Option<String>,
    pub server: Option<String>,
    /// The `show sess` dumps before it was born.
    pub epoch: u64,
    pub age_secs: i64,
}
