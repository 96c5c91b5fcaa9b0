//! The simulated world's HTTP peers, on hyper: a real server answering
//! each request with its reply, and a client sending one request of its
//! mix per connection. hyper speaks for the peers; the engine's own HTTP
//! path is what is under test.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

use crate::report::Outcome;
use crate::scenario::{FailureMode, HttpRequest};

/// Serves HTTP/1.1 on one accepted connection until the client closes:
/// each request waits `service` then gets `reply` (or a 500 while the
/// server fails with `error`).
pub async fn serve(
    stream: turmoil::net::TcpStream,
    reply: String,
    mode: FailureMode,
    service: Duration,
) {
    let respond = move |_req: Request<hyper::body::Incoming>| {
        let reply = reply.clone();
        async move {
            tokio::time::sleep(service).await;
            let response = if mode == FailureMode::Error {
                Response::builder()
                    .status(StatusCode::INTERNAL_SERVER_ERROR)
                    .body(Full::new(Bytes::from_static(b"error")))
            } else {
                Response::builder().body(Full::new(Bytes::from(reply)))
            };
            Ok::<_, Infallible>(response.expect("a valid response"))
        }
    };
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), hyper::service::service_fn(respond))
        .await;
}

/// Sends `req` on a new connection to `target` and reads the answer:
/// `200 web1` (status and a short body), or the status alone for a
/// longer body (an error page).
pub async fn ask(target: std::net::SocketAddr, req: &HttpRequest) -> Outcome {
    let stream = match turmoil::net::TcpStream::connect(target).await {
        Ok(s) => s,
        Err(e) => return Outcome::Error(e.kind().to_string()),
    };
    let (mut sender, conn) = match hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
    {
        Ok(pair) => pair,
        Err(e) => return Outcome::Error(e.to_string()),
    };
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut builder = Request::builder()
        .method(req.method.as_str())
        .uri(req.path.as_str());
    for h in &req.headers {
        let (name, value) = h.split_once(':').expect("checked when loaded");
        builder = builder.header(name.trim(), value.trim());
    }
    let request = match builder.body(Empty::<Bytes>::new()) {
        Ok(r) => r,
        Err(e) => return Outcome::Error(e.to_string()),
    };
    let response = match sender.send_request(request).await {
        Ok(r) => r,
        Err(e) if e.is_incomplete_message() => return Outcome::Closed,
        Err(e) => return Outcome::Error(e.to_string()),
    };
    let status = response.status();
    let body = match response.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Outcome::Closed,
    };
    let text = String::from_utf8_lossy(&body);
    if text.len() <= 32 && !text.contains('\n') && !text.is_empty() {
        Outcome::Answered(format!("{} {text}", status.as_u16()))
    } else {
        Outcome::Answered(status.as_u16().to_string())
    }
}
