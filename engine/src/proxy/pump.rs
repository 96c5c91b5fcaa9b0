//! Bytes forwarded both ways until both ways are done: a `mode tcp`
//! stream's, and an HTTP connection's once it is a tunnel.
//!
//! Each direction is a pump that reads one side and writes the other. The
//! semantics are HAProxy 2.6's, observed on the real binary:
//! - when a side sends a FIN, the pump passes it on (shuts the other
//!   side's writing half) and the opposite direction carries on;
//! - a side that sends nothing for its timeout (`timeout client` for the
//!   client, `timeout server` for the server) is treated the same way: the
//!   engine stops reading it and passes a FIN on, and the opposite
//!   direction carries on. An idle connection therefore closes when the
//!   longer-lived side's timeout has also run out;
//! - once either direction is shut, `timeout client-fin` and
//!   `timeout server-fin` replace those read timeouts, when set;
//! - a side that does not accept the bytes written to it within its
//!   timeout aborts the whole stream.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::config::Timeouts;
use crate::http::forward::sleep_until;
use crate::net::BoxStream;

/// Size of each direction's forwarding buffer (HAProxy's tune.bufsize default).
const BUFFER_BYTES: usize = 16 * 1024;

/// One side of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

/// How a forwarded stream ended: the first thing that went wrong, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Both directions finished on FINs (termination `--`).
    Closed,
    /// A side's timeout fired first (`cD` / `sD`).
    Timeout(Side),
    /// A read or write on a side failed, e.g. a reset (`CD` / `SD`).
    Abort(Side),
}

/// Bytes moved in each direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Volume {
    pub to_server: u64,
    pub to_client: u64,
}

/// The timeouts of one side: while both directions flow, and after one of
/// them has shut.
#[derive(Clone, Copy)]
struct SideTimeouts {
    open: Option<Duration>,
    fin: Option<Duration>,
    side: Side,
}

impl SideTimeouts {
    fn client(t: &Timeouts) -> Self {
        SideTimeouts {
            open: t.client,
            fin: t.client_fin.or(t.client),
            side: Side::Client,
        }
    }

    fn server(t: &Timeouts) -> Self {
        SideTimeouts {
            open: t.server,
            fin: t.server_fin.or(t.server),
            side: Side::Server,
        }
    }

    fn current(&self, shut: &Shut) -> Option<Duration> {
        if shut.any.load(Ordering::Acquire) {
            self.fin
        } else {
            self.open
        }
    }
}

/// Whether either direction has shut, with a wake-up for the pump of the
/// other direction, whose read timeout may just have changed.
#[derive(Default)]
struct Shut {
    any: AtomicBool,
    changed: Notify,
}

impl Shut {
    fn mark(&self) {
        self.any.store(true, Ordering::Release);
        self.changed.notify_waiters();
    }
}

/// What stops a pump early: the end of the whole stream.
struct Abort(End);

/// Forwards between `client` and `server` until both directions are done.
/// What the client sent while the server connection was being set up.
#[derive(Debug, Default)]
pub struct Early {
    pub bytes: Vec<u8>,
    /// The client half-closed before the server was connected.
    pub eof: bool,
}

/// Forwards between `client` and `server` until both directions are done,
/// starting with what the client sent `early`.
pub async fn forward(
    client: BoxStream,
    server: BoxStream,
    timeouts: &Timeouts,
    early: Early,
) -> (End, Volume) {
    pipe(client, server, timeouts, early, false).await
}

/// An HTTP tunnel (after a `101`): like [`forward`], but the server's end
/// ends it all, as HAProxy closes the client once the server has closed.
pub async fn tunnel(
    client: BoxStream,
    server: BoxStream,
    timeouts: &Timeouts,
    early: Early,
) -> (End, Volume) {
    pipe(client, server, timeouts, early, true).await
}

async fn pipe(
    client: BoxStream,
    server: BoxStream,
    timeouts: &Timeouts,
    early: Early,
    server_ends: bool,
) -> (End, Volume) {
    let (mut client_rd, mut client_wr) = tokio::io::split(client);
    let (mut server_rd, mut server_wr) = tokio::io::split(server);
    let (client_side, server_side) = (
        SideTimeouts::client(timeouts),
        SideTimeouts::server(timeouts),
    );
    let shut = Shut::default();
    let (to_server, to_client) = (AtomicU64::new(0), AtomicU64::new(0));

    let up = async {
        if !early.bytes.is_empty() {
            write(&mut server_wr, &early.bytes, server_side, &shut).await?;
            to_server.fetch_add(early.bytes.len() as u64, Ordering::Relaxed);
        }
        if early.eof {
            shut.mark();
            let _ = server_wr.shutdown().await;
            return Ok(None);
        }
        pump(
            &mut client_rd,
            &mut server_wr,
            client_side,
            server_side,
            &shut,
            &to_server,
        )
        .await
    };
    let down = pump(
        &mut server_rd,
        &mut client_wr,
        server_side,
        client_side,
        &shut,
        &to_client,
    );
    let result = if server_ends {
        // The client's FIN leaves the server's answer awaited; its
        // timeout ends it all, and wins a tie, as HAProxy reports `cD`.
        let up = async {
            match up.await? {
                Some(timeout) => Ok(Some(timeout)),
                None => std::future::pending::<Result<Option<End>, Abort>>().await,
            }
        };
        tokio::select! {
            biased;
            r = up => r,
            r = down => r,
        }
    } else {
        tokio::try_join!(up, down).map(|(up, down)| up.or(down))
    };
    let volume = Volume {
        to_server: to_server.load(Ordering::Relaxed),
        to_client: to_client.load(Ordering::Relaxed),
    };
    let end = match result {
        Ok(e) => e.unwrap_or(End::Closed),
        Err(Abort(end)) => end,
    };
    (end, volume)
}

/// Writes all of `bytes` to a side within its timeout.
async fn write<W: AsyncWrite + Unpin>(
    to: &mut W,
    bytes: &[u8],
    side: SideTimeouts,
    shut: &Shut,
) -> Result<(), Abort> {
    let write = to.write_all(bytes);
    match side.current(shut) {
        Some(t) => tokio::time::timeout(t, write)
            .await
            .map_err(|_| Abort(End::Timeout(side.side)))?,
        None => write.await,
    }
    .map_err(|_| Abort(End::Abort(side.side)))
}

/// Copies one direction until the reading side sends a FIN or stays silent
/// past its timeout, then passes a FIN on. Returns the timeout that ended
/// it, if one did.
async fn pump<R, W>(
    from: &mut R,
    to: &mut W,
    reading: SideTimeouts,
    writing: SideTimeouts,
    shut: &Shut,
    moved: &AtomicU64,
) -> Result<Option<End>, Abort>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; BUFFER_BYTES];
    let ended_by = loop {
        let n = match read(from, &mut buf, reading, shut).await? {
            Some(0) => break None,
            Some(n) => n,
            None => break Some(End::Timeout(reading.side)),
        };
        write(to, &buf[..n], writing, shut).await?;
        moved.fetch_add(n as u64, Ordering::Relaxed);
    };
    shut.mark();
    // The peer may already be gone; its own pump reports that.
    let _ = to.shutdown().await;
    Ok(ended_by)
}

/// Reads once; None when the side stayed silent past its timeout. The
/// timeout counts from the start of the wait, and shortens to the `-fin`
/// one if the other direction shuts meanwhile.
async fn read<R: AsyncRead + Unpin>(
    from: &mut R,
    buf: &mut [u8],
    side: SideTimeouts,
    shut: &Shut,
) -> Result<Option<usize>, Abort> {
    let started = Instant::now();
    loop {
        let changed = shut.changed.notified();
        let deadline = side.current(shut).map(|t| started + t);
        tokio::select! {
            biased;
            r = from.read(buf) => return r.map(Some).map_err(|_| Abort(End::Abort(side.side))),
            _ = sleep_until(deadline) => return Ok(None),
            _ = changed => continue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::duplex;

    fn timeouts(client_ms: u64, server_ms: u64) -> Timeouts {
        Timeouts {
            client: Some(Duration::from_millis(client_ms)),
            server: Some(Duration::from_millis(server_ms)),
            ..Timeouts::default()
        }
    }

    fn start(
        t: Timeouts,
    ) -> (
        tokio::task::JoinHandle<(End, Volume)>,
        tokio::io::DuplexStream,
        tokio::io::DuplexStream,
    ) {
        let (proxy_client, client) = duplex(1024);
        let (proxy_server, server) = duplex(1024);
        let forwarding = tokio::spawn(async move {
            forward(
                Box::new(proxy_client),
                Box::new(proxy_server),
                &t,
                Early::default(),
            )
            .await
        });
        (forwarding, client, server)
    }

    #[tokio::test(start_paused = true)]
    async fn half_close_passes_through_and_the_other_way_keeps_flowing() {
        let (forwarding, mut client, mut server) = start(timeouts(10_000, 10_000));
        client.write_all(b"request").await.unwrap();
        client.shutdown().await.unwrap();
        let mut got = vec![];
        server.read_to_end(&mut got).await.unwrap(); // EOF arrives: the half-close passed
        assert_eq!(got, b"request");

        server.write_all(b"late response").await.unwrap();
        server.shutdown().await.unwrap();
        let mut back = vec![];
        client.read_to_end(&mut back).await.unwrap();
        assert_eq!(back, b"late response");

        let (end, volume) = forwarding.await.unwrap();
        assert_eq!(end, End::Closed);
        assert_eq!(
            volume,
            Volume {
                to_server: 7,
                to_client: 13
            }
        );
    }

    /// As HAProxy 2.6 does (timeout client 1s, server 10s, a silent client):
    /// the server gets a FIN after 1s and may still answer.
    #[tokio::test(start_paused = true)]
    async fn a_silent_client_is_half_closed_and_the_server_may_still_answer() {
        let (forwarding, mut client, mut server) = start(timeouts(1_000, 10_000));
        let t0 = Instant::now();
        let mut got = vec![];
        server.read_to_end(&mut got).await.unwrap();
        assert_eq!(
            t0.elapsed(),
            Duration::from_secs(1),
            "FIN passed to the server"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
        server.write_all(b"after-eof").await.unwrap();
        let mut buf = [0u8; 9];
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"after-eof");
        server.shutdown().await.unwrap();
        let (end, volume) = forwarding.await.unwrap();
        assert_eq!(end, End::Timeout(Side::Client));
        assert_eq!(volume.to_client, 9);
    }

    /// HAProxy 2.6 with timeout client 1s, server 2s, both sides silent:
    /// the connection closes at 2s.
    #[tokio::test(start_paused = true)]
    async fn an_idle_connection_closes_when_the_longer_timeout_runs_out() {
        let (forwarding, mut client, _server) = start(timeouts(1_000, 2_000));
        let t0 = Instant::now();
        let mut rest = vec![];
        client.read_to_end(&mut rest).await.unwrap();
        assert_eq!(t0.elapsed(), Duration::from_secs(2));
        let (end, _) = forwarding.await.unwrap();
        assert_eq!(
            end,
            End::Timeout(Side::Client),
            "the first timeout is the one reported"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn client_fin_replaces_timeout_client_once_a_direction_shut() {
        let t = Timeouts {
            client_fin: Some(Duration::from_millis(200)),
            ..timeouts(10_000, 10_000)
        };
        let (forwarding, mut client, mut server) = start(t);
        let t0 = Instant::now();
        server.shutdown().await.unwrap();
        let mut rest = vec![];
        client.read_to_end(&mut rest).await.unwrap();
        let mut got = vec![];
        server.read_to_end(&mut got).await.unwrap();
        assert_eq!(
            t0.elapsed(),
            Duration::from_millis(200),
            "the silent client got client-fin"
        );
        let (end, _) = forwarding.await.unwrap();
        assert_eq!(end, End::Timeout(Side::Client));
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_that_stops_reading_aborts_after_timeout_client() {
        let (forwarding, _client, mut server) = start(timeouts(1_000, 60_000));
        let t0 = Instant::now();
        // Far more than the pipes buffer: the writes to the client block.
        let big = vec![0u8; 1 << 20];
        let _ = tokio::time::timeout(Duration::from_secs(30), server.write_all(&big)).await;
        let (end, _) = forwarding.await.unwrap();
        assert_eq!(end, End::Timeout(Side::Client));
        assert!(t0.elapsed() < Duration::from_secs(30));
    }
}
