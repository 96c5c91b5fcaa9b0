#![allow(clippy::disallowed_methods)] // the production pool owns the threads
//! The event loops that run streams: HAProxy's threads (`nbthread`).
//!
//! The engine takes them beside its [`crate::net::Net`]: the seam is the
//! world (sockets, clock, seed, identity), the pool is the runtime that
//! runs the engine in it. [`Current`] runs everything on the caller's
//! runtime (the simulator, unit tests); [`Threads`] starts `nbthread`
//! single-threaded event loops, as the binary does.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::task::JoinHandle;

use crate::net::BoxFuture;

/// Where the engine's tasks run. Every method has the caller's runtime
/// as its default.
pub trait Pool: Send + Sync + 'static {
    /// Runs a stream's task (a client connection's life). The production
    /// pool spreads them over its event loops, as HAProxy spreads
    /// connections over its threads.
    fn spawn_stream(&self, task: BoxFuture<'static, ()>) {
        tokio::spawn(task);
    }
    /// How many event loops the pool runs for streams (0: the caller's).
    fn event_loops(&self) -> usize {
        0
    }
    /// Runs a task (an accept loop) on event loop `n`.
    fn spawn_on(&self, n: usize, task: BoxFuture<'static, ()>) -> JoinHandle<()> {
        let _ = n;
        tokio::spawn(task)
    }
}

/// The caller's runtime runs everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Current;

impl Pool for Current {}

/// `nbthread` event loops, each a single-threaded runtime on its own
/// thread, living as long as the process.
#[derive(Debug)]
pub struct Threads {
    workers: Vec<tokio::runtime::Handle>,
    /// The event loop the next stream joins.
    next: AtomicUsize,
}

impl Threads {
    /// Starts `threads` event loops for client connections. Each accepted
    /// connection joins one of them, in turn, and stays there with its
    /// server connections and timers: no work moves between threads
    /// mid-request, as in HAProxy's thread model. With none, streams run
    /// on the caller's runtime.
    pub fn start(threads: usize) -> io::Result<Self> {
        let mut workers = Vec::with_capacity(threads);
        for n in 0..threads {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            workers.push(runtime.handle().clone());
            // The event loops live as long as the process.
            std::thread::Builder::new()
                .name(format!("engine-{n}"))
                .spawn(move || runtime.block_on(std::future::pending::<()>()))?;
        }
        Ok(Threads {
            workers,
            next: AtomicUsize::new(0),
        })
    }
}

impl Pool for Threads {
    fn spawn_stream(&self, task: BoxFuture<'static, ()>) {
        if self.workers.is_empty() {
            tokio::spawn(task);
            return;
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed) % self.workers.len();
        self.workers[n].spawn(task);
    }

    fn event_loops(&self) -> usize {
        self.workers.len()
    }

    fn spawn_on(&self, n: usize, task: BoxFuture<'static, ()>) -> JoinHandle<()> {
        match self.workers.get(n) {
            Some(w) => w.spawn(task),
            None => tokio::spawn(task),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn streams_go_round_the_event_loops() {
        let pool = Threads::start(2).expect("starts");
        assert_eq!(pool.event_loops(), 2);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        for _ in 0..4 {
            let tx = tx.clone();
            pool.spawn_stream(Box::pin(async move {
                let name = std::thread::current().name().map(str::to_string);
                let _ = tx.send(name);
            }));
        }
        let mut names = vec![];
        for _ in 0..4 {
            names.push(rx.recv().await.flatten().expect("a named loop"));
        }
        names.sort();
        assert_eq!(names, ["engine-0", "engine-0", "engine-1", "engine-1"]);
        assert_eq!(Current.event_loops(), 0);
    }
}
