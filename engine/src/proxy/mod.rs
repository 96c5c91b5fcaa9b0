//! Frontends: listeners, the accept loop with its `maxconn` limits, and the
//! life of a stream from accept to close.

pub mod tcp;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify, OwnedSemaphorePermit, Semaphore};

use crate::backend::Backend;
use crate::config::Timeouts;
use crate::net::{Accepted, Listener, Net};

/// Pause after an accept error (e.g. out of file descriptors) before trying
/// again, so a persistent error does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// What a frontend's streams need at run time.
pub struct Frontend {
    pub name: String,
    /// Where its streams go; None closes them at once (no backend).
    pub backend: Option<Arc<Backend>>,
    /// The frontend's own `timeout client`/`client-fin`.
    pub timeouts: Timeouts,
    /// `maxconn` of the frontend.
    pub slots: Arc<Semaphore>,
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

struct StreamGuard(Arc<Streams>);

impl StreamGuard {
    fn new(streams: &Arc<Streams>) -> Self {
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

/// Accepts on one listener until `stop` turns true. A connection is only
/// accepted when both the global and the frontend `maxconn` have room, as
/// HAProxy stops polling a listener that is full.
pub async fn accept_loop(
    listener: Box<dyn Listener>,
    frontend: Arc<Frontend>,
    global_slots: Arc<Semaphore>,
    net: Arc<dyn Net>,
    streams: Arc<Streams>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let permits = tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => return,
            p = take_permits(&global_slots, &frontend.slots) => p,
        };
        let accepted = tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => return,
            a = listener.accept() => a,
        };
        match accepted {
            Ok(client) => {
                let guard = StreamGuard::new(&streams);
                let frontend = frontend.clone();
                let net = net.clone();
                tokio::spawn(async move {
                    serve(client, &frontend, &*net).await;
                    drop(permits);
                    drop(guard);
                });
            }
            Err(_) => tokio::time::sleep(ACCEPT_ERROR_PAUSE).await,
        }
    }
}

async fn take_permits(
    global: &Arc<Semaphore>,
    frontend: &Arc<Semaphore>,
) -> (OwnedSemaphorePermit, OwnedSemaphorePermit) {
    let g = global.clone().acquire_owned().await.expect("never closed");
    let f = frontend
        .clone()
        .acquire_owned()
        .await
        .expect("never closed");
    (g, f)
}

/// The life of a TCP stream: pick a backend, connect a server, forward.
async fn serve(client: Accepted, frontend: &Frontend, net: &dyn Net) {
    let Some(backend) = &frontend.backend else {
        return;
    };
    let client_port = client.local.map_or(0, |a| a.port());
    let Ok((server, _slot)) = backend.connect(net, client_port).await else {
        // TCP mode has no response to send: closing is the answer.
        return;
    };
    let timeouts = Timeouts {
        client: frontend.timeouts.client,
        client_fin: frontend.timeouts.client_fin,
        ..backend.timeouts
    };
    tcp::forward(client.stream, server, &timeouts).await;
}
