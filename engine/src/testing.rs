//! A scripted network for unit tests: each server address is told to
//! accept, refuse, hang or answer, and every connection attempt is recorded.
//! Accepted connections are in-memory pipes whose far ends the test keeps.
//! The fake is its own [`Pool`] too: every task on the test's runtime.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream, ReadBuf};
use tokio::sync::mpsc;

use crate::config;
use crate::net::{
    Accepted, BoxFuture, BoxStream, ConnectSpec, Datagram, Family, ListenAddr, ListenSpec,
    Listener, Net,
};
use crate::pool::Pool;

/// Bytes an in-memory pipe buffers in each direction.
const PIPE_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Accept, and keep the server end open without a word.
    Accept,
    Refuse,
    /// Never finish connecting.
    Hang,
    /// Accept, read the request, write these bytes and close.
    Answer(&'static [u8]),
    /// Accept, write a greeting, then answer every request alike.
    Greet(&'static [u8], &'static [u8]),
    /// Like `Answer`, after working this long on the request.
    Slow(std::time::Duration, &'static [u8]),
    /// Accept, answer the first request and keep the connection, which
    /// then breaks as a kept connection does when its server resets it
    /// between two requests: the next write fails at once, while reads
    /// see nothing yet (the reset races the proxy's look before reuse).
    Brittle(&'static [u8]),
}

#[derive(Default)]
pub struct FakeNet {
    behaviour: Mutex<BTreeMap<SocketAddr, Behaviour>>,
    attempts: Mutex<Vec<SocketAddr>>,
    /// What `Answer` servers were sent.
    requests: Arc<Mutex<Vec<Vec<u8>>>>,
    /// The server ends of accepted connections, kept open for the test.
    accepted: Mutex<Vec<(SocketAddr, DuplexStream)>>,
    /// The engine's listening addresses, each with the queue `dial`
    /// puts client connections in.
    listeners: Mutex<BTreeMap<SocketAddr, mpsc::UnboundedSender<Accepted>>>,
}

impl FakeNet {
    pub fn new() -> Arc<Self> {
        Arc::new(FakeNet::default())
    }

    pub fn set(&self, addr: &str, b: Behaviour) {
        self.behaviour
            .lock()
            .unwrap()
            .insert(addr.parse().unwrap(), b);
    }

    /// Every connection attempt so far, as "ip:port" strings.
    pub fn attempts(&self) -> Vec<String> {
        self.attempts
            .lock()
            .unwrap()
            .iter()
            .map(|a| a.to_string())
            .collect()
    }

    /// A server end that greets, then answers each request it reads with
    /// `answer` until the peer closes; an `Answer` server (no greeting)
    /// answers once and closes.
    fn converse(
        &self,
        greeting: &'static [u8],
        answer: &'static [u8],
        work: Duration,
    ) -> io::Result<BoxStream> {
        let (ours, mut theirs) = tokio::io::duplex(PIPE_BYTES);
        let requests = self.requests.clone();
        let index = {
            let mut all = requests.lock().unwrap();
            all.push(vec![]);
            all.len() - 1
        };
        tokio::spawn(async move {
            let _ = theirs.write_all(greeting).await;
            let mut buf = vec![0u8; PIPE_BYTES];
            loop {
                // The peer writes each request in one piece.
                let n = theirs.read(&mut buf).await.unwrap_or(0);
                if n == 0 {
                    return;
                }
                requests.lock().unwrap()[index].extend_from_slice(&buf[..n]);
                tokio::time::sleep(work).await;
                let _ = theirs.write_all(answer).await;
                if greeting.is_empty() {
                    let _ = theirs.shutdown().await;
                    return;
                }
            }
        });
        Ok(Box::new(ours) as BoxStream)
    }

    /// A server end that answers the first request with `answer`, then
    /// breaks (see [`Behaviour::Brittle`]).
    fn brittle(&self, answer: &'static [u8]) -> io::Result<BoxStream> {
        let (ours, mut theirs) = tokio::io::duplex(PIPE_BYTES);
        let broken = Arc::new(AtomicBool::new(false));
        let requests = self.requests.clone();
        let index = {
            let mut all = requests.lock().unwrap();
            all.push(vec![]);
            all.len() - 1
        };
        let breaks = broken.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; PIPE_BYTES];
            let n = theirs.read(&mut buf).await.unwrap_or(0);
            requests.lock().unwrap()[index].extend_from_slice(&buf[..n]);
            let _ = theirs.write_all(answer).await;
            breaks.store(true, Ordering::Release);
            // Held open: the proxy reads nothing more, not even a close.
            std::future::pending::<()>().await;
        });
        Ok(Box::new(Brittle {
            inner: ours,
            broken,
        }) as BoxStream)
    }

    /// Connects a client to the engine's listener on `addr`; the test
    /// holds the client's end.
    pub fn dial(&self, addr: &str, peer: &str) -> DuplexStream {
        let addr: SocketAddr = addr.parse().unwrap();
        let peer: SocketAddr = peer.parse().unwrap();
        let (client, ours) = tokio::io::duplex(PIPE_BYTES);
        let listeners = self.listeners.lock().unwrap();
        let queue = listeners
            .get(&addr)
            .unwrap_or_else(|| panic!("nothing listens on {addr}"));
        queue
            .send(Accepted {
                stream: Box::new(ours),
                peer: Some(peer),
                local: Some(addr),
                family: Family::of(Some(addr)),
                fd: None,
            })
            .expect("the listener is open");
        client
    }

    /// What the `Answer` and `Greet` servers read, one entry a connection.
    pub fn requests(&self) -> Vec<Vec<u8>> {
        self.requests.lock().unwrap().clone()
    }
}

impl Net for FakeNet {
    /// Only `Inet` addresses, with the socket options at their defaults
    /// (the fake has no sockets to set them on); the backlog has no
    /// counterpart.
    fn listen(&self, spec: &ListenSpec) -> BoxFuture<'_, io::Result<Box<dyn Listener>>> {
        let (ListenAddr::Inet(addr), true) = (spec.addr.clone(), spec.has_default_options()) else {
            return Box::pin(async { Err(io::Error::from(io::ErrorKind::Unsupported)) });
        };
        let (queue, accepted) = mpsc::unbounded_channel();
        self.listeners.lock().unwrap().insert(addr, queue);
        Box::pin(async move {
            Ok(Box::new(FakeListener {
                accepted: tokio::sync::Mutex::new(accepted),
            }) as Box<dyn Listener>)
        })
    }

    /// Plain connections only (see [`ConnectSpec::plain`]).
    fn connect(&self, spec: &ConnectSpec) -> BoxFuture<'_, io::Result<BoxStream>> {
        let spec = spec.clone();
        Box::pin(async move {
            let addr = spec.plain()?;
            self.attempts.lock().unwrap().push(addr);
            let b = self
                .behaviour
                .lock()
                .unwrap()
                .get(&addr)
                .copied()
                .unwrap_or(Behaviour::Refuse);
            match b {
                Behaviour::Accept => {
                    let (ours, theirs) = tokio::io::duplex(PIPE_BYTES);
                    self.accepted.lock().unwrap().push((addr, theirs));
                    Ok(Box::new(ours) as BoxStream)
                }
                Behaviour::Refuse => Err(io::Error::from(io::ErrorKind::ConnectionRefused)),
                Behaviour::Hang => std::future::pending().await,
                Behaviour::Answer(bytes) => self.converse(b"", bytes, Duration::ZERO),
                Behaviour::Greet(greeting, bytes) => self.converse(greeting, bytes, Duration::ZERO),
                Behaviour::Slow(work, bytes) => self.converse(b"", bytes, work),
                Behaviour::Brittle(bytes) => self.brittle(bytes),
            }
        })
    }

    fn bind_udp(&self, _addr: SocketAddr) -> BoxFuture<'_, io::Result<Box<dyn Datagram>>> {
        Box::pin(async { Err(io::Error::from(io::ErrorKind::Unsupported)) })
    }

    fn wall_clock(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH
    }

    fn seed(&self) -> u64 {
        0
    }

    fn pid(&self) -> u32 {
        1
    }

    fn host_name(&self) -> String {
        "fake-host".into()
    }
}

impl Pool for FakeNet {}

/// A listening address of the fake network: what `dial` connects.
struct FakeListener {
    accepted: tokio::sync::Mutex<mpsc::UnboundedReceiver<Accepted>>,
}

impl Listener for FakeListener {
    fn accept(&self) -> BoxFuture<'_, io::Result<Accepted>> {
        Box::pin(async move {
            match self.accepted.lock().await.recv().await {
                Some(a) => Ok(a),
                None => std::future::pending().await,
            }
        })
    }
}

/// The proxy's end of a `Brittle` server connection.
struct Brittle {
    inner: DuplexStream,
    broken: Arc<AtomicBool>,
}

impl AsyncRead for Brittle {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Brittle {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.broken.load(Ordering::Acquire) {
            return Poll::Ready(Err(io::Error::from(io::ErrorKind::BrokenPipe)));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Three checked servers (one with its own check address and port, one
/// backup), for the tests of checks and of what their reports change.
pub const CHECKED: &str = "
defaults
    mode tcp
    timeout connect 1s
listen app
    bind :80
    server web1 10.0.0.1:80 check port 8080 addr 10.0.9.1 inter 1000 rise 2 fall 3
    server web2 10.0.0.2:80 check inter 1000
    server web7 10.0.0.7:80 check inter 1000 backup
";

/// Where the checks of [`CHECKED`] connect, in its servers' order.
pub const CHECK_TARGETS: [&str; 3] = ["10.0.9.1:8080", "10.0.0.2:80", "10.0.0.7:80"];

/// The single backend-capable proxy of a config text (for tests).
pub fn proxy(text: &str) -> config::Proxy {
    let loaded = config::load_str("test.cfg", text)
        .unwrap_or_else(|e| panic!("test config does not load: {:?}", e.diagnostics));
    loaded
        .config
        .proxies
        .into_iter()
        .find(|p| p.kind.is_backend())
        .expect("a backend or listen section")
}
