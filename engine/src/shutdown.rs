//! Cutting a server's connections: `on-marked-down shutdown-sessions`
//! (the server went DOWN), `on-marked-up shutdown-backup-sessions` (an
//! active server came back, so the backups' clients are sent away) and
//! the runtime API's `shutdown sessions server`.
//!
//! Every server connection is wrapped in a [`Cuttable`] that listens to its
//! server's cut signal; once cut, reads and writes fail as a reset would,
//! and the stream ends through its usual error path with HAProxy's
//! termination cause `D`.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;

use crate::net::BoxStream;

/// Why connections were cut: HAProxy's termination causes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// `D`: the server went DOWN (SF_ERR_DOWN).
    Down,
    /// `U`: an active server came UP, so a backup's clients go
    /// (SF_ERR_UP).
    Up,
    /// `K`: `shutdown sessions server` on the runtime API (SF_ERR_KILLED).
    Killed,
}

/// A server's cut signal: a count of cuts and the last one's reason,
/// watched by its connections.
pub struct Cuts(watch::Sender<(u64, Option<Why>)>);

impl Default for Cuts {
    fn default() -> Self {
        Cuts(watch::channel((0, None)).0)
    }
}

impl Cuts {
    /// Cuts every connection wrapped so far.
    pub fn cut(&self, why: Why) {
        self.0.send_modify(|(n, last)| {
            *n += 1;
            *last = Some(why);
        });
    }

    /// How many cuts there were; a stream takes it when it connects.
    pub fn count(&self) -> u64 {
        self.0.borrow().0
    }

    /// Why the stream that connected at cut count `then` was cut, if it was.
    pub fn since(&self, then: u64) -> Option<Why> {
        let (now, why) = *self.0.borrow();
        if now != then {
            why
        } else {
            None
        }
    }

    /// Wraps a new connection so that the next cut ends it.
    pub fn wrap(&self, stream: BoxStream) -> BoxStream {
        let mut rx = self.0.subscribe();
        Box::new(Cuttable {
            inner: stream,
            signal: Box::pin(async move {
                let _ = rx.changed().await;
            }),
            cut: false,
        })
    }
}

struct Cuttable {
    inner: BoxStream,
    signal: Pin<Box<dyn Future<Output = ()> + Send>>,
    cut: bool,
}

impl Cuttable {
    fn check(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        if !self.cut && self.signal.as_mut().poll(cx).is_ready() {
            self.cut = true;
        }
        if self.cut {
            return Err(io::Error::from(io::ErrorKind::ConnectionAborted));
        }
        Ok(())
    }
}

impl AsyncRead for Cuttable {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Err(e) = self.check(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Cuttable {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Err(e) = self.check(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Err(e) = self.check(cx) {
            return Poll::Ready(Err(e));
        }
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
    async fn a_cut_fails_a_waiting_read_and_later_writes() {
        let cuts = Cuts::default();
        let (ours, mut theirs) = tokio::io::duplex(64);
        let mut wrapped = cuts.wrap(Box::new(ours));
        theirs.write_all(b"hi").await.unwrap();
        let mut buf = [0u8; 2];
        wrapped.read_exact(&mut buf).await.unwrap();
        let reading = tokio::spawn(async move {
            let mut buf = [0u8; 2];
            let r = wrapped.read(&mut buf).await;
            (
                r.map_err(|e| e.kind()),
                wrapped.write_all(b"x").await.is_err(),
            )
        });
        tokio::task::yield_now().await;
        cuts.cut(Why::Down);
        let (read, write_failed) = reading.await.unwrap();
        assert_eq!(read, Err(io::ErrorKind::ConnectionAborted));
        assert!(write_failed);
        assert_eq!(
            (cuts.count(), cuts.since(0), cuts.since(1)),
            (1, Some(Why::Down), None)
        );
        // A connection wrapped after the cut is not affected by it.
        let (ours, mut theirs) = tokio::io::duplex(64);
        let mut later = cuts.wrap(Box::new(ours));
        theirs.write_all(b"ok").await.unwrap();
        later.read_exact(&mut buf).await.unwrap();
    }
}
