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

    /// `show sess`: a line per live stream, oldest first, with HAProxy's
    /// first fields (`0x1: proto=tcpv4 src=127.0.0.1:40000 fe=web be=app
    /// srv=s1 ts=00 age=3s`); the scheduler's internals HAProxy adds
    /// after them (flags, buffers, file descriptors) have no counterpart.
    pub fn show(&self) -> String {
        self.epoch.fetch_add(1, Ordering::Relaxed);
        let live: Vec<Arc<Entry>> = self
            .live
            .lock()
            .expect("sessions lock")
            .values()
            .cloned()
            .collect();
        let mut out = String::new();
        for e in live {
            let proto = e.family.proto();
            let src = e
                .src
                .map_or_else(|| "unix:1".to_string(), |a| a.to_string());
            let (be, srv) = e.target.lock().expect("session target lock").clone();
            let age = e.started.elapsed().as_secs() as i64;
            out.push_str(&format!(
                "0x{:x}: proto={proto} src={src} fe={} be={} srv={} ts=00 epoch={} age={}\n",
                e.id,
                e.frontend,
                be.as_deref().unwrap_or("<NONE>"),
                srv.as_deref().unwrap_or("<none>"),
                // C's %#x: 0, then 0x1...
                if e.epoch == 0 {
                    "0".to_string()
                } else {
                    format!("{:#x}", e.epoch)
                },
                crate::stats::html::human_secs(age),
            ));
        }
        out.push('\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn live_streams_are_listed_until_they_end() {
        let table = Table::default();
        let a = table.register(
            Family::Inet4,
            Some("127.0.0.1:40000".parse().unwrap()),
            "web",
            Default::default(),
        );
        a.entry.set_target("app", Some("s1"));
        tokio::time::sleep(std::time::Duration::from_secs(65)).await;
        let b = table.register(
            Family::Inet6,
            Some("[::1]:40001".parse().unwrap()),
            "web",
            Default::default(),
        );
        assert_eq!(
            table.show(),
            "0x1: proto=tcpv4 src=127.0.0.1:40000 fe=web be=app srv=s1 ts=00 epoch=0 age=1m5s\n\
             0x2: proto=tcpv6 src=[::1]:40001 fe=web be=<NONE> srv=<none> ts=00 epoch=0 age=0s\n\n"
        );
        // Born after a dump: the next epoch.
        let c = table.register(Family::Unix, None, "GLOBAL", Default::default());
        let shown = table.show();
        assert!(shown.contains("0x3: proto=unix_stream src=unix:1 fe=GLOBAL be=<NONE> srv=<none> ts=00 epoch=0x1 age=0s"), "{shown}");
        drop(c);
        drop(a);
        drop(b);
        assert_eq!(table.show(), "\n");
    }
}
