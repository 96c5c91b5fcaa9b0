//! A scripted network for unit tests: each server address is told to
//! accept, refuse, hang or answer, and every connection attempt is recorded.
//! Accepted connections are in-memory pipes whose far ends the test keeps.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

use crate::config;
use crate::net::{BoxFuture, BoxStream, Datagram, ListenAddr, Listener, Net};

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
}

#[derive(Default)]
pub struct FakeNet {
    behaviour: Mutex<BTreeMap<SocketAddr, Behaviour>>,
    attempts: Mutex<Vec<SocketAddr>>,
    /// What `Answer` servers were sent.
    requests: Arc<Mutex<Vec<Vec<u8>>>>,
    /// The server ends of accepted connections, kept open for the test.
    accepted: Mutex<Vec<(SocketAddr, DuplexStream)>>,
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

    /// What the `Answer` and `Greet` servers read, one entry a connection.
    pub fn requests(&self) -> Vec<Vec<u8>> {
        self.requests.lock().unwrap().clone()
    }
}

impl Net for FakeNet {
    fn listen(
        &self,
        _addr: &ListenAddr,
        _backlog: u32,
    ) -> BoxFuture<'_, io::Result<Box<dyn Listener>>> {
        Box::pin(async { Err(io::Error::from(io::ErrorKind::Unsupported)) })
    }

    fn connect(&self, addr: SocketAddr) -> BoxFuture<'_, io::Result<BoxStream>> {
        Box::pin(async move {
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
