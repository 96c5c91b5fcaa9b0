//! The simulated world's HTTP peers, on hyper: a real server answering
//! each request with its reply (or echoing it), and users sending the
//! requests of their mix, keeping a connection and cookies between them
//! when told. hyper speaks for the peers; the engine's own HTTP path is
//! what is under test.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

use crate::loss::Dialer;
use crate::report::Outcome;
use crate::scenario::{FailureMode, HttpRequest};

/// What a server answers, besides its failure mode.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The body of each answer; None: echo the request.
    pub reply: Option<String>,
    /// The health-check page, answered `503` while the server fails its
    /// checks.
    pub check_path: Option<String>,
}

/// The server's state when a request arrives: its failure mode, and the
/// time the request takes (a drawn service time, plus a `slow` delay).
pub type Work = std::sync::Arc<dyn Fn() -> (FailureMode, Duration) + Send + Sync>;

/// Serves HTTP/1.1 on one accepted connection until the client closes,
/// each request taking one of the server's `workers` while it is worked on.
/// Each request is served as the server is when it arrives: after its
/// service time it gets the answer, a 500 while the server fails with
/// `error`; a kept connection is closed without an answer when the
/// server refuses, closes or resets, and left hanging when it hangs.
pub async fn serve(
    stream: turmoil::net::TcpStream,
    answer: Answer,
    work: Work,
    workers: std::sync::Arc<tokio::sync::Semaphore>,
) {
    let respond = move |req: Request<hyper::body::Incoming>| {
        let (answer, workers) = (answer.clone(), workers.clone());
        let (mode, service) = work();
        async move {
            match mode {
                FailureMode::Hang => std::future::pending::<()>().await,
                FailureMode::Refuse | FailureMode::Close | FailureMode::Reset => {
                    return Err(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
                }
                _ => {}
            }
            let failing_check = mode == FailureMode::Checks
                && answer.check_path.as_deref() == Some(req.uri().path());
            let line = format!("{} {}", req.method(), req.uri().path());
            let body = req
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            // At most `concurrency` requests worked on at once.
            let _worker = workers.acquire_owned().await;
            tokio::time::sleep(service).await;
            let response = if mode == FailureMode::Error {
                Response::builder()
                    .status(StatusCode::INTERNAL_SERVER_ERROR)
                    .body(Full::new(Bytes::from_static(b"error")))
            } else if failing_check {
                Response::builder()
                    .status(StatusCode::SERVICE_UNAVAILABLE)
                    .body(Full::new(Bytes::from_static(b"check failed")))
            } else {
                let text = match (answer.reply, body.is_empty()) {
                    (Some(reply), _) => Bytes::from(reply),
                    (None, true) => Bytes::from(line),
                    (None, false) => body,
                };
                Response::builder().body(Full::new(text))
            };
            Ok::<_, std::io::Error>(response.expect("a valid response"))
        }
    };
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), hyper::service::service_fn(respond))
        .await;
}

/// What an HTTP user keeps between its requests.
#[derive(Default)]
pub struct Session {
    /// Its open connection (keep-alive), if any.
    connection: Option<SendRequest<Full<Bytes>>>,
    /// Cookies answers set, by name, sent back with each request.
    cookies: BTreeMap<String, String>,
}

/// How a user behaves between requests.
#[derive(Debug, Clone, Copy)]
pub struct Habits {
    pub keep_alive: bool,
    pub cookies: bool,
}

/// Sends `req` to `target` and reads the answer: `200 web1` (status and a
/// short body), or the status alone for a longer body (an error page).
/// A kept connection that closes without an answer is replaced once, as
/// browsers do.
pub async fn ask(
    dialer: &Dialer,
    target: std::net::SocketAddr,
    req: &HttpRequest,
    session: &mut Session,
    habits: Habits,
) -> Outcome {
    let kept = session
        .connection
        .take()
        .filter(|c| habits.keep_alive && !c.is_closed());
    let reused = kept.is_some();
    let mut connection = match kept {
        Some(c) => c,
        None => match connect(dialer, target).await {
            Ok(c) => c,
            Err(outcome) => return outcome,
        },
    };
    let build = || request(req, session).map_err(|e| Outcome::Error(e.to_string()));
    let first = match build() {
        Ok(r) => r,
        Err(outcome) => return outcome,
    };
    let mut response = connection.send_request(first).await;
    // A kept connection may close before answering: the proxy closed it
    // while idle, or (HAProxy's rule) its server failed on a request that
    // was not the connection's first, which it closes without an answer
    // nor a log line so that the browser retries.
    let dropped = |e: &hyper::Error| e.is_canceled() || e.is_closed() || e.is_incomplete_message();
    if reused && response.as_ref().is_err_and(dropped) {
        let again = match (connect(dialer, target).await, build()) {
            (Ok(c), Ok(r)) => {
                connection = c;
                r
            }
            (Err(outcome), _) | (_, Err(outcome)) => return outcome,
        };
        response = connection.send_request(again).await;
    }
    let response = match response {
        Ok(r) => r,
        Err(e) if e.is_incomplete_message() => return Outcome::Closed,
        Err(e) => return Outcome::Error(e.to_string()),
    };
    if habits.cookies {
        for value in response.headers().get_all(hyper::header::SET_COOKIE) {
            let text = String::from_utf8_lossy(value.as_bytes());
            let pair = text.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                session
                    .cookies
                    .insert(name.trim().to_string(), value.trim().to_string());
            }
        }
    }
    let status = response.status();
    let body = match response.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Outcome::Closed,
    };
    if habits.keep_alive {
        session.connection = Some(connection);
    }
    let text = String::from_utf8_lossy(&body);
    if text.len() <= 32 && !text.contains('\n') && !text.is_empty() {
        Outcome::Answered(format!("{} {text}", status.as_u16()))
    } else {
        Outcome::Answered(status.as_u16().to_string())
    }
}

async fn connect(
    dialer: &Dialer,
    target: std::net::SocketAddr,
) -> Result<SendRequest<Full<Bytes>>, Outcome> {
    let stream = dialer
        .connect(target)
        .await
        .map_err(|e| Outcome::Error(e.kind().to_string()))?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| Outcome::Error(e.to_string()))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// The request of the mix, with the session's cookies.
fn request(
    req: &HttpRequest,
    session: &Session,
) -> Result<Request<Full<Bytes>>, hyper::http::Error> {
    let mut builder = Request::builder()
        .method(req.method.as_str())
        .uri(req.path.as_str());
    for h in &req.headers {
        let (name, value) = h.split_once(':').expect("checked when loaded");
        builder = builder.header(name.trim(), value.trim());
    }
    if !session.cookies.is_empty() {
        let jar: Vec<String> = session
            .cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        builder = builder.header(hyper::header::COOKIE, jar.join("; "));
    }
    let body = req.body.clone().map(Bytes::from).unwrap_or_default();
    builder.body(Full::new(body))
}
