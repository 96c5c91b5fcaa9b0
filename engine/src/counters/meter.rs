//! The HTTP/1 layer's own counters (`h1_*` in the CSV): connections and
//! the bytes that crossed the wire, before any parsing, on the client side
//! of HTTP frontends and the server side of HTTP backends.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::net::BoxStream;

/// One proxy side's HTTP/1 connection counters.
#[derive(Debug, Default)]
pub struct H1 {
    /// Connections open now (`h1_open_connections`) and ever
    /// (`h1_total_connections`).
    pub open: AtomicU64,
    pub connections: AtomicU64,
    /// Requests under way now (`h1_open_streams`) and ever
    /// (`h1_total_streams`).
    pub open_streams: AtomicU64,
    pub streams: AtomicU64,
    /// Bytes read and written on the wire (`h1_bytes_in`, `h1_bytes_out`).
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
}

impl H1 {
    /// `stream` with every byte read and written counted here, and
    /// counted open until dropped; `fresh`: a new connection, not an idle
    /// one taken up again.
    pub fn meter(self: &Arc<Self>, stream: BoxStream, fresh: bool) -> Metered {
        self.open.fetch_add(1, Ordering::Relaxed);
        if fresh {
            self.connections.fetch_add(1, Ordering::Relaxed);
        }
        Metered {
            inner: stream,
            counters: self.clone(),
        }
    }

    /// A request begins; it counts as under way until the guard drops.
    pub fn stream(self: &Arc<Self>) -> Under {
        self.open_streams.fetch_add(1, Ordering::Relaxed);
        self.streams.fetch_add(1, Ordering::Relaxed);
        Under(self.clone())
    }

    /// `clear counters all`.
    pub fn clear(&self) {
        for c in [
            &self.connections,
            &self.streams,
            &self.bytes_in,
            &self.bytes_out,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }
}

/// A request under way (see [`H1::stream`]).
pub struct Under(Arc<H1>);

impl Drop for Under {
    fn drop(&mut self) {
        self.0.open_streams.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A stream whose traffic an [`H1`] counts.
pub struct Metered {
    inner: BoxStream,
    counters: Arc<H1>,
}

impl Metered {
    /// The stream, no longer counted (it may be metered again later, as
    /// an idle server connection is on its next use).
    pub fn into_inner(mut self) -> BoxStream {
        // `self` still drops, and counts itself closed, holding nothing.
        std::mem::replace(&mut self.inner, Box::new(tokio::io::empty()))
    }
}

impl Drop for Metered {
    fn drop(&mut self) {
        self.counters.open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl AsyncRead for Metered {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len() - before;
        self.counters
            .bytes_in
            .fetch_add(n as u64, Ordering::Relaxed);
        polled
    }
}

impl AsyncWrite for Metered {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            self.counters
                .bytes_out
                .fetch_add(n as u64, Ordering::Relaxed);
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn bytes_both_ways_and_open_connections_are_counted() {
        let h1 = Arc::new(H1::default());
        let (ours, mut theirs) = tokio::io::duplex(64);
        let mut metered = h1.meter(Box::new(ours), true);
        assert_eq!(h1.open.load(Ordering::Relaxed), 1);
        metered.write_all(b"hello").await.unwrap();
        theirs.write_all(b"hi").await.unwrap();
        let mut buf = [0u8; 2];
        metered.read_exact(&mut buf).await.unwrap();
        assert_eq!(h1.bytes_out.load(Ordering::Relaxed), 5);
        assert_eq!(h1.bytes_in.load(Ordering::Relaxed), 2);
        let mut inner = metered.into_inner();
        assert_eq!(h1.open.load(Ordering::Relaxed), 0);
        inner.write_all(b"uncounted").await.unwrap();
        assert_eq!(h1.bytes_out.load(Ordering::Relaxed), 5);
        drop(h1.meter(inner, false));
        assert_eq!(h1.connections.load(Ordering::Relaxed), 1);
        assert_eq!(h1.open.load(Ordering::Relaxed), 0);
    }
}
