//! Forwarding a body from a source to a sink, with bounded buffers.
//!
//! The body is never held whole: at most [`FORWARD_BUF_BYTES`] are in flight.
//! Chunked bodies pass as chunked (the raw bytes, validated on the way), as
//! HAProxy's H1 mux forwards them between two HTTP/1 sides. A body that
//! ends with the connection can be re-framed as chunked for a client that
//! keeps its connection.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::body::Framing;
use super::chunked::{ChunkError, ChunkedDecoder};

/// Bytes read from the source per step: HAProxy's `tune.bufsize`.
pub const FORWARD_BUF_BYTES: usize = super::head::TUNE_BUFSIZE;

#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    /// Reading the source failed or it stayed silent past its timeout.
    #[error("reading: {0}")]
    Read(std::io::Error),
    /// Writing the sink failed or it accepted nothing within its timeout.
    #[error("writing: {0}")]
    Write(std::io::Error),
    /// A bad chunk: 400 from a client (`CD`), 502 from a server (`SD`).
    #[error("{0}")]
    Chunk(#[from] ChunkError),
    /// The source closed before the body's end.
    #[error("body truncated")]
    Truncated,
}

impl ForwardError {
    /// Whether a timeout (rather than a failure) ended it.
    pub fn is_timeout(&self) -> bool {
        matches!(self, ForwardError::Read(e) | ForwardError::Write(e) if e.kind() == std::io::ErrorKind::TimedOut)
    }
}

/// How one body moves: its framing and each side's inactivity timeout.
#[derive(Debug, Clone, Copy)]
pub struct Transfer {
    pub framing: Framing,
    pub read_timeout: Option<Duration>,
    pub write_timeout: Option<Duration>,
}

/// What crossed: the body's data (decoded, for a chunked one), the size
/// of its trailer fields (names and values), and the bytes written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Moved {
    pub data: u64,
    pub trailers: u64,
    pub wire: u64,
}

impl Moved {
    /// The body's size in HAProxy's internal representation, which its
    /// `%B` counts: the data, plus for a chunked body the trailers and
    /// one byte for their end.
    pub fn htx(&self, framing: Framing) -> u64 {
        match framing {
            Framing::Chunked => self.data + self.trailers + 1,
            _ => self.data,
        }
    }
}

/// Polls `step` once: its outcome if it is ready now, None if it would
/// wait. What a socket holds already (or whether it was closed) is seen
/// this way without waiting for it.
pub async fn now_or_never<F: std::future::Future>(step: F) -> Option<F::Output> {
    let mut step = std::pin::pin!(step);
    std::future::poll_fn(|cx| match step.as_mut().poll(cx) {
        std::task::Poll::Ready(r) => std::task::Poll::Ready(Some(r)),
        std::task::Poll::Pending => std::task::Poll::Ready(None),
    })
    .await
}

/// Waits until `deadline`; forever without one (a `select!` arm for an
/// optional timeout).
pub async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Runs one I/O step under an optional timeout; a timeout is an
/// `ErrorKind::TimedOut` error. A step that completes at once (most
/// writes, reads of bytes already there) arms no timer: the timer wheel
/// costs more than the step.
pub async fn timed<T>(
    limit: Option<Duration>,
    io: impl std::future::Future<Output = std::io::Result<T>>,
) -> std::io::Result<T> {
    let Some(t) = limit else {
        return io.await;
    };
    let mut io = std::pin::pin!(io);
    match now_or_never(io.as_mut()).await {
        Some(r) => r,
        None => tokio::time::timeout(t, io)
            .await
            .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into())),
    }
}

/// Copies one body from `src` to `sink`, after `head` (the message's head,
/// sent with the body's first bytes when they are at hand, so that a small
/// message leaves in one write). `pending` holds bytes the caller already
/// read past the head; it is consumed first, and bytes past the body's end
/// (a pipelined next message) are left in it. A chunked body is decoded
/// and encoded again as HAProxy does: one chunk per read, its size in
/// uppercase hex, no extensions, trailer names in lowercase.
///
/// `moved` counts what crossed, also when the transfer fails: a caller
/// that finds nothing written may still answer in place of the message.
pub async fn forward_body<R, W>(
    src: &mut R,
    sink: &mut W,
    how: Transfer,
    pending: &mut Vec<u8>,
    head: &[u8],
    moved: &mut Moved,
) -> Result<(), ForwardError>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut head = head;
    let mut left = match how.framing {
        Framing::None => 0,
        Framing::Length(n) => n,
        Framing::Chunked | Framing::Close => u64::MAX,
    };
    if how.framing == Framing::None || left == 0 {
        if !head.is_empty() {
            write(sink, head, how.write_timeout).await?;
            moved.wire += head.len() as u64;
        }
        timed(how.write_timeout, sink.flush())
            .await
            .map_err(ForwardError::Write)?;
        return Ok(());
    }
    let mut chunked = ChunkedDecoder::default();
    let mut buf = Vec::new();
    let mut data = Vec::new();
    loop {
        let done = match how.framing {
            Framing::Length(_) => left == 0,
            Framing::Chunked => chunked.is_done(),
            _ => false,
        };
        if done {
            break;
        }
        let input: Vec<u8> = if pending.is_empty() {
            if !head.is_empty() {
                // Nothing of the body yet: the head goes alone, now.
                write(sink, head, how.write_timeout).await?;
                moved.wire += head.len() as u64;
                head = &[];
            }
            if buf.is_empty() {
                buf = vec![0u8; FORWARD_BUF_BYTES];
            }
            let n = timed(how.read_timeout, src.read(&mut buf))
                .await
                .map_err(ForwardError::Read)?;
            if n == 0 {
                if how.framing != Framing::Close {
                    return Err(ForwardError::Truncated);
                }
                break;
            }
            buf[..n].to_vec()
        } else {
            std::mem::take(pending)
        };
        let (take, out) = match how.framing {
            Framing::Chunked => {
                data.clear();
                let take = chunked.feed(&input, Some(&mut data))?;
                let mut out = Vec::with_capacity(data.len() + 16);
                if !data.is_empty() {
                    out.extend_from_slice(format!("{:X}\r\n", data.len()).as_bytes());
                    out.extend_from_slice(&data);
                    out.extend_from_slice(b"\r\n");
                    moved.data += data.len() as u64;
                }
                if chunked.is_done() {
                    out.extend_from_slice(b"0\r\n");
                    for (n, v) in chunked.trailers() {
                        moved.trailers += (n.len() + v.len()) as u64;
                        out.extend_from_slice(n);
                        out.extend_from_slice(b": ");
                        out.extend_from_slice(v);
                        out.extend_from_slice(b"\r\n");
                    }
                    out.extend_from_slice(b"\r\n");
                }
                (take, out)
            }
            _ => {
                let take = (left.min(input.len() as u64)) as usize;
                moved.data += take as u64;
                (take, input[..take].to_vec())
            }
        };
        let out = if head.is_empty() {
            out
        } else {
            let mut joined = Vec::with_capacity(head.len() + out.len());
            joined.extend_from_slice(head);
            joined.extend_from_slice(&out);
            head = &[];
            joined
        };
        if !out.is_empty() {
            write(sink, &out, how.write_timeout).await?;
            moved.wire += out.len() as u64;
        }
        left = left.saturating_sub(take as u64);
        *pending = input[take..].to_vec();
    }
    if !head.is_empty() {
        write(sink, head, how.write_timeout).await?;
        moved.wire += head.len() as u64;
    }
    timed(how.write_timeout, sink.flush())
        .await
        .map_err(ForwardError::Write)?;
    Ok(())
}

async fn write<W: AsyncWrite + Unpin + ?Sized>(
    sink: &mut W,
    bytes: &[u8],
    limit: Option<Duration>,
) -> Result<(), ForwardError> {
    timed(limit, sink.write_all(bytes))
        .await
        .map_err(ForwardError::Write)
}

#[cfg(test)]
mod tests {
    use super::super::chunked::encode;
    use super::*;

    #[tokio::test]
    async fn the_head_leaves_with_the_body_when_it_is_at_hand() {
        let mut src: &[u8] = b"";
        let (mut out, mut pending) = (Vec::new(), b"ok".to_vec());
        let how = plain(Framing::Length(2));
        run(&mut src, &mut out, how, &mut pending, b"HEAD\r\n\r\n")
            .await
            .unwrap();
        assert_eq!(out, b"HEAD\r\n\r\nok");
        let mut out = Vec::new();
        run(&mut src, &mut out, plain(Framing::None), &mut pending, b"H")
            .await
            .unwrap();
        assert_eq!(out, b"H");
    }

    /// One transfer, what crossed as its outcome.
    async fn run<R, W>(
        src: &mut R,
        sink: &mut W,
        how: Transfer,
        pending: &mut Vec<u8>,
        head: &[u8],
    ) -> Result<Moved, ForwardError>
    where
        R: AsyncRead + Unpin + ?Sized,
        W: AsyncWrite + Unpin + ?Sized,
    {
        let mut moved = Moved::default();
        forward_body(src, sink, how, pending, head, &mut moved).await?;
        Ok(moved)
    }

    fn plain(framing: Framing) -> Transfer {
        Transfer {
            framing,
            read_timeout: None,
            write_timeout: None,
        }
    }

    #[tokio::test]
    async fn length_body_leaves_the_next_request() {
        let mut src: &[u8] = b"cdef";
        let mut out = Vec::new();
        let mut pending = b"ab".to_vec();
        let n = run(
            &mut src,
            &mut out,
            plain(Framing::Length(3)),
            &mut pending,
            b"",
        )
        .await;
        assert_eq!(n.unwrap().data, 3);
        assert_eq!(out, b"abc");
        assert_eq!(pending, b"def");
    }

    /// haproxy 2.6.12, a request sent in one write (see http-wire notes):
    /// `5;ext=1 hello 0006 " world" 0 X-Trailer: t` reached the server as
    /// one chunk `B`, without the extension, the trailer name lowercase.
    #[tokio::test]
    async fn chunked_is_decoded_and_encoded_again() {
        let mut src: &[u8] = b"";
        let mut pending =
            b"5;ext=1\r\nhello\r\n0006\r\n world\r\n0\r\nX-Trailer: t\r\n\r\nGET /next".to_vec();
        let mut out = Vec::new();
        let moved = run(
            &mut src,
            &mut out,
            plain(Framing::Chunked),
            &mut pending,
            b"",
        )
        .await
        .unwrap();
        assert_eq!(out, b"B\r\nhello world\r\n0\r\nx-trailer: t\r\n\r\n");
        assert_eq!(pending, b"GET /next");
        assert_eq!((moved.data, moved.trailers), (11, 10));
        assert_eq!(moved.htx(Framing::Chunked), 22);
    }

    #[tokio::test]
    async fn a_large_chunked_body_streams() {
        let body = vec![7u8; 50_000];
        let wire = encode(&body, 4096);
        let mut src: &[u8] = &wire;
        let (mut out, mut pending) = (Vec::new(), Vec::new());
        let moved = run(
            &mut src,
            &mut out,
            plain(Framing::Chunked),
            &mut pending,
            b"",
        )
        .await
        .unwrap();
        assert_eq!(moved.data, 50_000);
        let mut decoded = Vec::new();
        let mut d = ChunkedDecoder::default();
        assert_eq!(d.feed(&out, Some(&mut decoded)).unwrap(), out.len());
        assert!(d.is_done());
        assert_eq!(decoded, body);
    }

    #[tokio::test]
    async fn truncated_and_close_delimited() {
        let mut src: &[u8] = b"ab";
        let (mut out, mut p) = (Vec::new(), Vec::new());
        let r = run(&mut src, &mut out, plain(Framing::Length(3)), &mut p, b"").await;
        assert!(matches!(r, Err(ForwardError::Truncated)));
        let mut src: &[u8] = b"xyz";
        let r = run(&mut src, &mut out, plain(Framing::Close), &mut p, b"").await;
        assert_eq!(r.unwrap().data, 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_source_times_out() {
        let (mut src, _keep) = tokio::io::duplex(64);
        let (mut out, mut p) = (Vec::new(), Vec::new());
        let how = Transfer {
            read_timeout: Some(Duration::from_secs(1)),
            ..plain(Framing::Length(3))
        };
        let r = run(&mut src, &mut out, how, &mut p, b"").await;
        assert!(r.unwrap_err().is_timeout());
    }
}
