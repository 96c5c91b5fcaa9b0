//! The proxy: what every stream of the process shares, and the life of a
//! stream. [`frontend`] is a frontend's listeners, limits and log, and the
//! accept loop; [`tcp`] is the life of a `mode tcp` stream from accept to
//! close, [`http`] that of an HTTP connection's requests; [`pump`]
//! forwards bytes both ways (a TCP stream's, an HTTP tunnel's);
//! [`applet`] the services a request can be handed to.

pub mod applet;
pub mod frontend;
pub mod http;
pub mod inspect;
pub mod pump;
pub mod sessions;
mod tcp;

pub use frontend::{accept_loop, Frontend, FrontendLog, Limit, Seat, Socket};

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

use crate::log::Logger;
use crate::net::Net;
use crate::pool::Pool;

/// What every stream of the process shares.
pub struct Process {
    pub net: Arc<dyn Net>,
    /// The event loops streams run on.
    pub pool: Arc<dyn Pool>,
    pub logger: Arc<Logger>,
    /// The global `maxconn`.
    pub global: Limit,
    /// The streams alive now (`show sess`).
    pub sessions: sessions::Table,
    /// The services requests can be handed to (the stats page, the
    /// Prometheus exporter).
    pub applets: applet::Applets,
    /// Turns true at a soft stop: idle HTTP connections close, busy ones
    /// close after their response.
    pub stopping: tokio::sync::watch::Receiver<bool>,
    /// SIGTTOU and SIGTTIN so far, each counted: odd while the listeners
    /// are paused. A listener that went through a pause registers anew.
    pub paused: tokio::sync::watch::Receiver<u64>,
}

impl Process {
    /// The pauses and resumes so far (see [`Process::paused`]).
    pub fn pause_phase(&self) -> u64 {
        *self.paused.borrow()
    }

    /// Returns once the listeners are not paused.
    pub async fn unpaused(&self) {
        let mut paused = self.paused.clone();
        let _ = paused.wait_for(|p| p % 2 == 0).await;
    }

    /// Returns once the listeners are paused (never, if the engine is
    /// gone).
    pub async fn pausing(&self) {
        let mut paused = self.paused.clone();
        if paused.wait_for(|p| p % 2 == 1).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Counts live streams, so a soft stop can wait for the last one.
#[derive(Default)]
pub struct Streams {
    live: AtomicUsize,
    idle: Notify,
}

impl Streams {
    pub fn live(&self) -> usize {
        self.live.load(Ordering::Acquire)
    }

    /// Resolves once no stream is live.
    pub async fn drained(&self) {
        loop {
            let idle = self.idle.notified();
            if self.live() == 0 {
                return;
            }
            idle.await;
        }
    }
}

pub(crate) struct StreamGuard(Arc<Streams>);

impl StreamGuard {
    pub(crate) fn new(streams: &Arc<Streams>) -> Self {
        streams.live.fetch_add(1, Ordering::AcqRel);
        StreamGuard(streams.clone())
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        if self.0.live.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}
