//! The `slowstart` ticks (HAProxy's server_warmup task): while a server
//! warms up, its effective weight is raised every tick until the delay
//! is over. The warm-up starts when the server comes back UP; the
//! arithmetic is [`crate::slowstart`]'s.

use std::sync::Arc;

use crate::backend::Backend;
use crate::slowstart;

/// Starts a warm-up task for every server with `slowstart`.
pub fn spawn_warm_ups(backends: &[Arc<Backend>]) -> Vec<tokio::task::JoinHandle<()>> {
    backends
        .iter()
        .flat_map(|b| (0..b.servers.len()).map(move |i| (b.clone(), i)))
        .filter(|(b, i)| b.servers[*i].config.slowstart > 0)
        .map(|(backend, index)| tokio::spawn(run(backend, index)))
        .collect()
}

/// Waits for the server to come back UP, then raises its weight every
/// tick until the warm-up is over.
async fn run(backend: Arc<Backend>, index: usize) {
    let server = backend.servers[index].clone();
    let every = slowstart::tick(server.config.slowstart);
    loop {
        server.warming.notified().await;
        loop {
            tokio::time::sleep(every).await;
            if !backend.warm_up(index) {
                break;
            }
        }
    }
}
