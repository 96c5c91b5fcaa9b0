//! A `mode tcp` stream: connect the client to a server and forward bytes
//! both ways until both sides are done.
//!
//! Half-close is passed through: when one side shuts its writing half, the
//! other side's writing half is shut too and the opposite direction carries
//! on. Timeouts are per side and count inactivity, as HAProxy's do: the
//! client side expires after `timeout client` without a byte read from or
//! written to the client (`timeout client-fin` once the client has
//! half-closed), the server side likewise with `timeout server`
//! (`timeout server-fin`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use crate::config::Timeouts;
use crate::net::BoxStream;

/// Size of each direction's forwarding buffer (HAProxy's tune.bufsize default).
const BUFFER_BYTES: usize = 16 * 1024;

/// How a forwarded stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Both sides closed cleanly.
    Closed,
    /// The client side was idle too long (HAProxy termination `cD`).
    ClientTimeout,
    /// The server side was idle too long (`sD`).
    ServerTimeout,
    /// A read or write failed on either side (`CD` / `SD`).
    Error,
}

/// Bytes moved in each direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Volume {
    pub to_server: u64,
    pub to_client: u64,
}

/// The moment of the last byte seen on one side, and whether that side has
/// half-closed; shared between the two pumps and the watchdog of one stream.
struct Side {
    epoch: Instant,
    last_ms: AtomicU64,
    finished: std::sync::atomic::AtomicBool,
}

impl Side {
    fn new(epoch: Instant) -> Self {
        Side {
            epoch,
            last_ms: AtomicU64::new(0),
            finished: std::sync::atomic::AtomicBool::new(false),
        }
    }
    fn touch(&self) {
        self.last_ms
            .store(self.epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
    }
    fn idle_deadline(&self, timeout: Duration) -> Instant {
        self.epoch + Duration::from_millis(self.last_ms.load(Ordering::Relaxed)) + timeout
    }
}

/// Forwards between `client` and `server` until both directions end or a
/// side times out.
pub async fn forward(client: BoxStream, server: BoxStream, timeouts: &Timeouts) -> (End, Volume) {
    let epoch = Instant::now();
    let client_side = Side::new(epoch);
    let server_side = Side::new(epoch);
    let (mut client_rd, mut client_wr) = tokio::io::split(client);
    let (mut server_rd, mut server_wr) = tokio::io::split(server);

    let pumps = async {
        // The first error on either side ends both directions.
        tokio::try_join!(
            pump(&mut client_rd, &mut server_wr, &client_side, &server_side),
            pump(&mut server_rd, &mut client_wr, &server_side, &client_side),
        )
    };
    let watchdog = watch(&client_side, &server_side, timeouts);
    tokio::select! {
        biased;
        result = pumps => match result {
            Ok((to_server, to_client)) => (End::Closed, Volume { to_server, to_client }),
            Err(_) => (End::Error, Volume::default()),
        },
        end = watchdog => (end, Volume::default()),
    }
}

/// Copies one direction; returns the bytes copied once `from` reached EOF.
async fn pump<R, W>(
    from: &mut R,
    to: &mut W,
    from_side: &Side,
    to_side: &Side,
) -> std::io::Result<u64>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; BUFFER_BYTES];
    let mut total = 0u64;
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            from_side.finished.store(true, Ordering::Relaxed);
            from_side.touch();
            // Pass the half-close on; the other direction keeps flowing.
            let _ = to.shutdown().await;
            return Ok(total);
        }
        from_side.touch();
        to.write_all(&buf[..n]).await?;
        to_side.touch();
        total += n as u64;
    }
}

/// Resolves when a side has been idle past its timeout.
async fn watch(client: &Side, server: &Side, timeouts: &Timeouts) -> End {
    let client_timeout = |s: &Side| {
        if s.finished.load(Ordering::Relaxed) {
            timeouts.client_fin.or(timeouts.client)
        } else {
            timeouts.client
        }
    };
    let server_timeout = |s: &Side| {
        if s.finished.load(Ordering::Relaxed) {
            timeouts.server_fin.or(timeouts.server)
        } else {
            timeouts.server
        }
    };
    loop {
        let c = client_timeout(client).map(|t| client.idle_deadline(t));
        let s = server_timeout(server).map(|t| server.idle_deadline(t));
        let next = match (c, s) {
            (Some(c), Some(s)) => c.min(s),
            (Some(d), None) | (None, Some(d)) => d,
            (None, None) => return std::future::pending().await,
        };
        tokio::time::sleep_until(next).await;
        let now = Instant::now();
        // Deadlines move forward with activity: only a deadline still in
        // the past after the sleep is a real expiry.
        if let Some(t) = client_timeout(client) {
            if client.idle_deadline(t) <= now {
                return End::ClientTimeout;
            }
        }
        if let Some(t) = server_timeout(server) {
            if server.idle_deadline(t) <= now {
                return End::ServerTimeout;
            }
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

    #[tokio::test(start_paused = true)]
    async fn half_close_passes_through_and_the_other_way_keeps_flowing() {
        let (proxy_client, mut client) = duplex(1024);
        let (proxy_server, mut server) = duplex(1024);
        let t = timeouts(10_000, 10_000);
        let forwarding = tokio::spawn(async move {
            forward(Box::new(proxy_client), Box::new(proxy_server), &t).await
        });

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

    #[tokio::test(start_paused = true)]
    async fn an_idle_client_side_expires_after_timeout_client() {
        let (proxy_client, _client) = duplex(1024);
        let (proxy_server, _server) = duplex(1024);
        let start = Instant::now();
        let (end, _) = forward(
            Box::new(proxy_client),
            Box::new(proxy_server),
            &timeouts(1_000, 5_000),
        )
        .await;
        assert_eq!(end, End::ClientTimeout);
        assert_eq!(start.elapsed(), Duration::from_millis(1_000));
    }

    #[tokio::test(start_paused = true)]
    async fn writing_to_the_client_counts_as_client_activity() {
        let (proxy_client, mut client) = duplex(1024);
        let (proxy_server, mut server) = duplex(1024);
        let t = timeouts(1_000, 1_000);
        let start = Instant::now();
        let forwarding = tokio::spawn(async move {
            forward(Box::new(proxy_client), Box::new(proxy_server), &t).await
        });
        // A download: the server talks every 600 ms, the client only reads.
        for _ in 0..5 {
            tokio::time::sleep(Duration::from_millis(600)).await;
            server.write_all(b"x").await.unwrap();
            let mut byte = [0u8; 1];
            client.read_exact(&mut byte).await.unwrap();
        }
        let (end, _) = forwarding.await.unwrap();
        // Nobody timed out during the 3 s of download; then both sides idle.
        assert_eq!(end, End::ClientTimeout);
        assert_eq!(start.elapsed(), Duration::from_millis(3_000 + 1_000));
    }

    #[tokio::test(start_paused = true)]
    async fn server_fin_applies_once_the_server_half_closed() {
        let (proxy_client, mut client) = duplex(1024);
        let (proxy_server, mut server) = duplex(1024);
        let t = Timeouts {
            server_fin: Some(Duration::from_millis(200)),
            ..timeouts(10_000, 10_000)
        };
        let start = Instant::now();
        let forwarding = tokio::spawn(async move {
            forward(Box::new(proxy_client), Box::new(proxy_server), &t).await
        });
        server.shutdown().await.unwrap();
        let mut rest = vec![];
        client.read_to_end(&mut rest).await.unwrap();
        let (end, _) = forwarding.await.unwrap();
        assert_eq!(end, End::ServerTimeout);
        assert_eq!(start.elapsed(), Duration::from_millis(200));
    }
}
