//! The server's side of an HTTP/1 exchange (HAProxy's back H1
//! connection): the wait for a response head, with the interim (1xx)
//! responses that come before it passed on to the client.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::client_side::READ_BYTES;
use super::connection;
use super::forward::timed;
use super::head::{self, Head};
use super::message::Message;

/// What the server said, once its final head arrived.
pub struct Response {
    pub head: Head,
    /// The head's bytes and whatever followed them in the same reads.
    pub buf: Vec<u8>,
}

/// Why no response head came from the server.
pub enum ResponseError {
    Timeout,
    /// Closed or failed before a complete head; `nothing`: before any byte.
    Aborted {
        nothing: bool,
    },
    Bad,
    /// Writing a 1xx to the client failed.
    Client,
}

/// Reads the server's response head, passing interim (1xx) responses on
/// to the client as they come. `timeout server` bounds each wait.
pub async fn read_response<R, W>(
    srd: &mut R,
    client: &mut W,
    timeout: Option<Duration>,
    bytes_out: &mut u64,
) -> Result<Response, ResponseError>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut buf = Vec::with_capacity(READ_BYTES);
    // Interim responses parsed and not yet passed on. HAProxy's HTTP/1
    // layer parses everything a read brought before the stream sees any
    // of it: a `100` followed by bytes that are not a response is a 502,
    // and the `100` never reaches the client.
    let mut interims: Vec<u8> = Vec::new();
    loop {
        match head::parse_response(&buf) {
            Ok(Some(head)) => {
                let status = head.status.unwrap_or(0);
                if (100..200).contains(&status) && status != 101 {
                    let mut interim = Message::response(&head, &buf);
                    connection::take_tokens(&mut interim);
                    *bytes_out += interim.htx_size();
                    interim.remove("content-length");
                    interim.remove("transfer-encoding");
                    interims.extend_from_slice(&interim.to_bytes());
                    buf.drain(..head.len);
                    continue;
                }
                pass_on(client, &mut interims).await?;
                return Ok(Response { head, buf });
            }
            Ok(None) => {}
            Err(_) => return Err(ResponseError::Bad),
        }
        pass_on(client, &mut interims).await?;
        buf.reserve(READ_BYTES);
        let nothing = buf.is_empty();
        let n = timed(timeout, srd.read_buf(&mut buf)).await.map_err(|e| {
            if e.kind() == std::io::ErrorKind::TimedOut {
                ResponseError::Timeout
            } else {
                ResponseError::Aborted { nothing }
            }
        })?;
        if n == 0 {
            return Err(ResponseError::Aborted { nothing });
        }
    }
}

/// Passes the interim responses held so far on to the client.
async fn pass_on<W>(client: &mut W, interims: &mut Vec<u8>) -> Result<(), ResponseError>
where
    W: AsyncWrite + Unpin + ?Sized,
{
    if interims.is_empty() {
        return Ok(());
    }
    client
        .write_all(interims)
        .await
        .map_err(|_| ResponseError::Client)?;
    let _ = client.flush().await;
    interims.clear();
    Ok(())
}
