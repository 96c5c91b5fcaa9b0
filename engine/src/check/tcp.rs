//! The TCP connect check: the server passes when a connection opens.

use std::net::SocketAddr;
use std::time::Duration;

use super::Report;
use crate::net::{ConnectSpec, Net};
use crate::server::CheckStatus;

pub async fn probe(net: &dyn Net, target: SocketAddr, timeout: Duration) -> Report {
    let started = tokio::time::Instant::now();
    let result = tokio::time::timeout(timeout, net.connect(&ConnectSpec::to(target))).await;
    let duration = started.elapsed();
    match result {
        // Dropping the stream closes it at once, as HAProxy's L4 check does.
        Ok(Ok(_stream)) => Report {
            status: CheckStatus::L4Ok,
            code: None,
            info: None,
            duration,
            counts_twice: false,
        },
        Ok(Err(e)) => Report {
            status: CheckStatus::L4Con,
            code: None,
            info: Some(crate::net::strerror(&e)),
            duration,
            counts_twice: false,
        },
        Err(_) => Report {
            status: CheckStatus::L4Tout,
            code: None,
            info: None,
            duration,
            counts_twice: false,
        },
    }
}
