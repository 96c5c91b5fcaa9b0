//! The TCP connect check: the server passes when a connection opens.

use std::net::SocketAddr;
use std::time::Duration;

use super::Report;
use crate::check::health::Outcome;
use crate::net::Net;

pub async fn probe(net: &dyn Net, target: SocketAddr, timeout: Duration) -> Report {
    let started = tokio::time::Instant::now();
    let result = tokio::time::timeout(timeout, net.connect(target)).await;
    let duration = started.elapsed();
    match result {
        // Dropping the stream closes it at once, as HAProxy's L4 check does.
        Ok(Ok(_stream)) => Report {
            outcome: Outcome::Passed,
            reason: "Layer4 check passed",
            info: None,
            duration,
        },
        Ok(Err(e)) => Report {
            outcome: Outcome::Failed,
            reason: "Layer4 connection problem",
            info: Some(crate::net::strerror(&e)),
            duration,
        },
        Err(_) => Report {
            outcome: Outcome::Failed,
            reason: "Layer4 timeout",
            info: None,
            duration,
        },
    }
}
