//! The client's side of an HTTP/1 connection (HAProxy's front H1
//! connection): its stream and the bytes read from it and not consumed
//! yet, the wait for a request head, and the reads of a body the proxy
//! looks at before passing it on. What the proxy decides about a request
//! is not here: only how its bytes arrive.

use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::time::Instant;

use super::body::{self, Framing};
use super::chunked::ChunkedDecoder;
use super::forward::{now_or_never, sleep_until};
use super::head::{self, Head, TUNE_BUFSIZE, TUNE_MAXREWRITE};
use crate::net::BoxStream;

/// Room made for each read of a request head.
pub const READ_BYTES: usize = 8192;

/// What the wait for a request head gave.
pub enum Arrival {
    Head(Head),
    /// Nothing arrived and the client closed.
    Closed,
    /// Nothing arrived within the timeout.
    Idle,
    /// Part of a head arrived, then the timeout struck (408).
    Timeout,
    /// The client closed or failed in the middle of a head.
    Aborted,
    Bad,
}

/// A client connection and what was read from it ahead of its use.
pub struct ClientSide {
    pub stream: BoxStream,
    /// Bytes read from the client and not consumed yet (pipelining).
    pub inbuf: Vec<u8>,
}

impl ClientSide {
    pub fn new(stream: BoxStream) -> ClientSide {
        ClientSide {
            stream,
            inbuf: Vec::new(),
        }
    }

    /// Waits for a request head. The wait began at `start`; until a first
    /// byte it is bounded by `idle_timeout` (a kept-alive connection's
    /// idle wait), else by `request_timeout`, which bounds the head from
    /// its first byte on. `first_byte` is noted when it comes.
    pub async fn read_head(
        &mut self,
        start: Instant,
        first_byte: &mut Option<Instant>,
        idle_timeout: Option<Duration>,
        request_timeout: Option<Duration>,
    ) -> Arrival {
        let idle_deadline = match idle_timeout {
            Some(t) => Some(start + t),
            None => request_timeout.map(|t| start + t),
        };
        loop {
            if !self.inbuf.is_empty() {
                first_byte.get_or_insert_with(Instant::now);
                match head::parse_request(&self.inbuf) {
                    Ok(Some(h)) => return Arrival::Head(h),
                    Ok(None) => {}
                    Err(_) => return Arrival::Bad,
                }
            }
            let deadline = match *first_byte {
                Some(at) if idle_timeout.is_some() => request_timeout.map(|t| at + t),
                _ => idle_deadline,
            };
            match self.read_more(deadline).await {
                Some(Ok(0) | Err(_)) if self.inbuf.is_empty() => return Arrival::Closed,
                Some(Ok(0) | Err(_)) => return Arrival::Aborted,
                Some(Ok(_)) => {}
                None if self.inbuf.is_empty() => return Arrival::Idle,
                None => return Arrival::Timeout,
            }
        }
    }

    /// Reads what the client sent next straight into the buffer's spare
    /// room; None once `deadline` has passed.
    pub async fn read_more(&mut self, deadline: Option<Instant>) -> Option<std::io::Result<usize>> {
        self.inbuf.reserve(READ_BYTES);
        tokio::select! {
            biased;
            n = self.stream.read_buf(&mut self.inbuf) => Some(n),
            _ = sleep_until(deadline) => None,
        }
    }

    /// Reads what the client sent already, without waiting; whether
    /// anything came.
    pub async fn read_at_hand(&mut self) -> bool {
        self.inbuf.reserve(READ_BYTES);
        let read = now_or_never(self.stream.read_buf(&mut self.inbuf)).await;
        matches!(read, Some(Ok(n)) if n > 0)
    }

    /// HAProxy's HTTP/1 layer parses the body bytes at hand with the head
    /// before the request goes anywhere: a bad chunk among them (or a
    /// trailer flood past a buffer) is its 400 (`<BADREQ>`, `PR`), and no
    /// server sees the request. What the client has already sent is read
    /// first, without waiting, up to two buffers.
    pub async fn body_so_far_parses(
        &mut self,
        framing: body::Decision,
    ) -> Result<body::Decision, u16> {
        if framing.framing != Framing::Chunked {
            return Ok(framing);
        }
        let limit = 2 * TUNE_BUFSIZE;
        while self.inbuf.len() < limit && self.read_at_hand().await {}
        let mut decoder = ChunkedDecoder::default();
        match decoder.feed(&self.inbuf, None) {
            Ok(_) => Ok(framing),
            Err(_) => Err(400),
        }
    }

    /// A request's whole body (the stats admin form's), within `timeout`;
    /// None when it does not come whole or is too big for a buffer
    /// (HAProxy's STAT_STATUS_EXCD).
    pub async fn read_body(
        &mut self,
        framing: Framing,
        timeout: Option<Duration>,
    ) -> Option<Vec<u8>> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let (data, used) = match framing {
                Framing::Length(n) => {
                    let n = usize::try_from(n).ok()?;
                    (self.inbuf.len() >= n)
                        .then(|| (self.inbuf[..n].to_vec(), n))?
                        .into()
                }
                Framing::Chunked => {
                    let mut decoder = ChunkedDecoder::default();
                    let mut data = Vec::new();
                    let used = decoder.feed(&self.inbuf, Some(&mut data)).ok()?;
                    if decoder.is_done() {
                        Some((data, used))
                    } else {
                        None
                    }
                }
                Framing::None => Some((Vec::new(), 0)),
                Framing::Close => None,
            }
            .map_or((None, 0), |(d, u)| (Some(d), u));
            if let Some(data) = data {
                self.inbuf.drain(..used);
                return Some(data);
            }
            if self.inbuf.len() > TUNE_BUFSIZE - TUNE_MAXREWRITE {
                return None;
            }
            match self.read_more(deadline).await {
                Some(Ok(n)) if n > 0 => {}
                _ => return None,
            }
        }
    }
}
