//! Forwarding a body from a source to a sink, with bounded buffers.
//!
//! The body is never held whole: at most [`FORWARD_BUF_BYTES`] are in flight.
//! Chunked bodies pass as chunked (the raw bytes, validated on the way), as
//! HAProxy's H1 mux forwards them between two HTTP/1 sides.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::body::Framing;
use super::chunked::{ChunkError, ChunkedDecoder};

/// Bytes read from the source per step: HAProxy's `tune.bufsize`.
pub const FORWARD_BUF_BYTES: usize = super::head::TUNE_BUFSIZE;

#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// A bad chunk: 400 from a client (`CD`), 502 from a server (`SD`).
    #[error("{0}")]
    Chunk(#[from] ChunkError),
    /// The source closed before the body's end.
    #[error("body truncated")]
    Truncated,
}

/// Copies one body of `framing` from `src` to `sink`. `pending` holds bytes
/// the caller already read past the head; it is consumed first, and bytes
/// past the body's end (a pipelined next message) are left in it.
/// Returns the body bytes forwarded (the wire bytes, for chunked).
pub async fn forward_body<R, W>(
    src: &mut R,
    sink: &mut W,
    framing: Framing,
    pending: &mut Vec<u8>,
) -> Result<u64, ForwardError>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut buf = vec![0u8; FORWARD_BUF_BYTES];
    let mut total = 0u64;
    let mut chunked = ChunkedDecoder::default();
    let mut left = match framing {
        Framing::None => return Ok(0),
        Framing::Length(n) => n,
        Framing::Chunked | Framing::Close => u64::MAX,
    };
    loop {
        let done = match framing {
            Framing::Length(_) => left == 0,
            Framing::Chunked => chunked.is_done(),
            _ => false,
        };
        if done {
            break;
        }
        let data: &[u8] = if pending.is_empty() {
            let n = src.read(&mut buf).await?;
            if n == 0 {
                return match framing {
                    Framing::Close => Ok(total),
                    _ => Err(ForwardError::Truncated),
                };
            }
            &buf[..n]
        } else {
            pending
        };
        let take = match framing {
            Framing::Chunked => chunked.feed(data, None)?,
            _ => (left.min(data.len() as u64)) as usize,
        };
        sink.write_all(&data[..take]).await?;
        let rest = data[take..].to_vec();
        total += take as u64;
        left = left.saturating_sub(take as u64);
        *pending = rest;
    }
    sink.flush().await?;
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::super::chunked::encode;
    use super::*;

    #[tokio::test]
    async fn length_body_leaves_the_next_request() {
        let mut src: &[u8] = b"cdef";
        let mut out = Vec::new();
        let mut pending = b"ab".to_vec();
        let n = forward_body(&mut src, &mut out, Framing::Length(3), &mut pending).await;
        assert_eq!(n.unwrap(), 3);
        assert_eq!(out, b"abc");
        assert_eq!(pending, b"def");
    }

    #[tokio::test]
    async fn chunked_passes_as_chunked() {
        let body = vec![7u8; 50_000];
        let mut wire = encode(&body, 4096);
        let len = wire.len();
        wire.extend_from_slice(b"GET /next");
        let mut src: &[u8] = &wire;
        let (mut out, mut pending) = (Vec::new(), Vec::new());
        let n = forward_body(&mut src, &mut out, Framing::Chunked, &mut pending);
        assert_eq!(n.await.unwrap(), len as u64);
        assert_eq!(out, &wire[..len]);
        assert_eq!(pending, b"GET /next");
    }

    #[tokio::test]
    async fn truncated_and_close_delimited() {
        let mut src: &[u8] = b"ab";
        let (mut out, mut p) = (Vec::new(), Vec::new());
        let r = forward_body(&mut src, &mut out, Framing::Length(3), &mut p).await;
        assert!(matches!(r, Err(ForwardError::Truncated)));
        let mut src: &[u8] = b"xyz";
        let r = forward_body(&mut src, &mut out, Framing::Close, &mut p).await;
        assert_eq!(r.unwrap(), 3);
    }
}
