#![allow(clippy::disallowed_types)] // this is the production seam: the one place that names sockets
//! The network seam: everything the engine needs from the outside world.
//!
//! The engine talks only to [`Net`]: listen, connect, bind a UDP socket, read
//! the wall clock, take a random seed. [`TokioNet`] is the production
//! implementation over real sockets; the simulator implements the same trait
//! over turmoil, so one engine runs in both worlds. Timers use `tokio::time`,
//! which turmoil drives virtually inside a simulated host.
//!
//! Trait objects keep both worlds in one build without a type parameter
//! spreading through the engine; the price is one box per connection.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use tokio::io::{AsyncRead, AsyncWrite};

/// A boxed future, as trait methods return them.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A byte stream: a TCP or unix connection, real or simulated.
pub trait Stream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Stream for T {}

pub type BoxStream = Box<dyn Stream>;

/// Where to listen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenAddr {
    Inet(SocketAddr),
    Unix(PathBuf),
    /// An inherited file descriptor that is already a listening socket.
    Fd(i32),
}

impl std::fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListenAddr::Inet(a) => write!(f, "{a}"),
            ListenAddr::Unix(p) => write!(f, "unix@{}", p.display()),
            ListenAddr::Fd(n) => write!(f, "fd@{n}"),
        }
    }
}

/// An accepted connection.
pub struct Accepted {
    pub stream: BoxStream,
    /// The client's address; None for unix sockets.
    pub peer: Option<SocketAddr>,
    /// The address the client connected to; None for unix sockets.
    pub local: Option<SocketAddr>,
}

/// A listening socket.
pub trait Listener: Send + Sync {
    fn accept(&self) -> BoxFuture<'_, io::Result<Accepted>>;
    /// Another handle on the same listening socket, for an accept loop on
    /// another event loop; None when the kind cannot be shared.
    fn try_clone(&self) -> Option<io::Result<Box<dyn Listener>>> {
        None
    }
}

/// A bound UDP socket.
pub trait Datagram: Send + Sync {
    fn send_to<'a>(&'a self, buf: &'a [u8], to: SocketAddr) -> BoxFuture<'a, io::Result<usize>>;
    fn recv_from<'a>(&'a self, buf: &'a mut [u8])
        -> BoxFuture<'a, io::Result<(usize, SocketAddr)>>;
}

/// The world as the engine sees it.
pub trait Net: Send + Sync + 'static {
    /// Listens on `addr`. `backlog` is the length of the queue of
    /// connections the kernel completes before the engine accepts them
    /// (listen(2)'s; the kernel caps it at `net.core.somaxconn`). An
    /// inherited socket (`fd@`) keeps the backlog it was given, as in
    /// HAProxy.
    fn listen(
        &self,
        addr: &ListenAddr,
        backlog: u32,
    ) -> BoxFuture<'_, io::Result<Box<dyn Listener>>>;
    fn connect(&self, addr: SocketAddr) -> BoxFuture<'_, io::Result<BoxStream>>;
    fn bind_udp(&self, addr: SocketAddr) -> BoxFuture<'_, io::Result<Box<dyn Datagram>>>;
    /// Whether the seam reaches unix sockets (`log /dev/log`); the
    /// simulator's does not, and start-up refuses such targets there.
    fn has_unix_sockets(&self) -> bool {
        false
    }
    /// Sends one datagram to a unix socket (`log /dev/log`). Seams without
    /// unix sockets (the simulator's) refuse.
    fn send_unix<'a>(
        &'a self,
        path: &'a std::path::Path,
        bytes: &'a [u8],
    ) -> BoxFuture<'a, io::Result<()>> {
        let _ = (path, bytes);
        Box::pin(async { Err(io::Error::from(io::ErrorKind::Unsupported)) })
    }
    /// Wall-clock time, for log dates and `lastchg`; never for timers.
    fn wall_clock(&self) -> SystemTime;
    /// The seed of every random choice the engine makes.
    fn seed(&self) -> u64;
    /// The process id printed in log lines.
    fn pid(&self) -> u32;
    /// The host's name (`node` in `show info`, `log-send-hostname`).
    fn host_name(&self) -> String;
    /// Runs a stream's task (a client connection's life). The production
    /// seam spreads them over its threads' event loops, as HAProxy spreads
    /// connections over its threads; by default, the current runtime.
    fn spawn_stream(&self, task: BoxFuture<'static, ()>) {
        tokio::spawn(task);
    }
    /// How many event loops the seam runs for streams (0: the caller's).
    fn event_loops(&self) -> usize {
        0
    }
    /// Runs a task (an accept loop) on event loop `n`.
    fn spawn_on(&self, n: usize, task: BoxFuture<'static, ()>) -> tokio::task::JoinHandle<()> {
        let _ = n;
        tokio::spawn(task)
    }
}

/// The production seam: real sockets through tokio.
#[derive(Debug, Clone)]
pub struct TokioNet {
    seed: u64,
    /// The event loops that run client connections (`nbthread` of them),
    /// each a single-threaded runtime on its own thread; none: the caller's
    /// runtime runs them.
    workers: Arc<Vec<tokio::runtime::Handle>>,
    next: Arc<AtomicUsize>,
}

impl TokioNet {
    /// A seam whose random seed comes from the process id and start time:
    /// production wants variety; tests that need repeatability use `with_seed`.
    pub fn new() -> Self {
        #[allow(clippy::disallowed_methods)] // the seam is where real time enters
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        Self::with_seed(nanos ^ (u64::from(std::process::id()) << 32))
    }

    pub fn with_seed(seed: u64) -> Self {
        TokioNet {
            seed,
            workers: Arc::default(),
            next: Arc::default(),
        }
    }

    /// Starts `threads` event loops for client connections. Each accepted
    /// connection joins one of them, in turn, and stays there with its
    /// server connections and timers: no work moves between threads
    /// mid-request, as in HAProxy's thread model.
    pub fn with_threads(mut self, threads: usize) -> io::Result<Self> {
        let mut workers = Vec::with_capacity(threads);
        for n in 0..threads {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            workers.push(runtime.handle().clone());
            // The event loops live as long as the process.
            #[allow(clippy::disallowed_methods)] // the production seam owns the threads
            std::thread::Builder::new()
                .name(format!("engine-{n}"))
                .spawn(move || runtime.block_on(std::future::pending::<()>()))?;
        }
        self.workers = Arc::new(workers);
        Ok(self)
    }
}

impl Default for TokioNet {
    fn default() -> Self {
        Self::new()
    }
}

/// A TCP listener, registered with the event loop that first accepts on it.
struct TcpListener {
    waiting: std::sync::Mutex<Option<std::net::TcpListener>>,
    io: std::sync::OnceLock<tokio::net::TcpListener>,
}

impl TcpListener {
    fn new(listener: tokio::net::TcpListener) -> io::Result<Self> {
        Ok(Self::waiting(listener.into_std()?))
    }

    fn waiting(listener: std::net::TcpListener) -> Self {
        TcpListener {
            waiting: std::sync::Mutex::new(Some(listener)),
            io: std::sync::OnceLock::new(),
        }
    }

    fn io(&self) -> io::Result<&tokio::net::TcpListener> {
        if let Some(l) = self.io.get() {
            return Ok(l);
        }
        let std = self
            .waiting
            .lock()
            .map_err(|_| io::Error::other("listener lock"))?
            .take();
        if let Some(std) = std {
            let _ = self.io.set(tokio::net::TcpListener::from_std(std)?);
        }
        self.io
            .get()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))
    }
}
#[cfg(unix)]
struct UnixListener(tokio::net::UnixListener);
struct Udp(tokio::net::UdpSocket);

impl Listener for TcpListener {
    fn try_clone(&self) -> Option<io::Result<Box<dyn Listener>>> {
        use std::os::fd::AsFd;
        let cloned = match (self.io.get(), self.waiting.lock()) {
            (Some(l), _) => l.as_fd().try_clone_to_owned(),
            (None, Ok(w)) => match w.as_ref() {
                Some(l) => l.as_fd().try_clone_to_owned(),
                None => return None,
            },
            (None, Err(_)) => return None,
        };
        Some(cloned.map(|fd| {
            Box::new(TcpListener::waiting(std::net::TcpListener::from(fd))) as Box<dyn Listener>
        }))
    }

    fn accept(&self) -> BoxFuture<'_, io::Result<Accepted>> {
        Box::pin(async move {
            let (stream, peer) = self.io()?.accept().await?;
            let local = stream.local_addr().ok();
            // Proxied traffic is mostly small writes; Nagle would add latency.
            let _ = stream.set_nodelay(true);
            // It stays on the accepting event loop, which serves it.
            Ok(Accepted {
                stream: Box::new(stream),
                peer: Some(peer),
                local,
            })
        })
    }
}

#[cfg(unix)]
impl Listener for UnixListener {
    fn accept(&self) -> BoxFuture<'_, io::Result<Accepted>> {
        Box::pin(async move {
            let (stream, _) = self.0.accept().await?;
            Ok(Accepted {
                stream: Box::new(stream),
                peer: None,
                local: None,
            })
        })
    }
}

impl Datagram for Udp {
    fn send_to<'a>(&'a self, buf: &'a [u8], to: SocketAddr) -> BoxFuture<'a, io::Result<usize>> {
        Box::pin(self.0.send_to(buf, to))
    }
    fn recv_from<'a>(
        &'a self,
        buf: &'a mut [u8],
    ) -> BoxFuture<'a, io::Result<(usize, SocketAddr)>> {
        Box::pin(self.0.recv_from(buf))
    }
}

fn listen_inet(addr: SocketAddr, backlog: u32) -> io::Result<tokio::net::TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    // SO_REUSEPORT lets a new process bind beside the old one during a
    // reload (`-sf`), as HAProxy does.
    #[cfg(unix)]
    socket.set_reuseport(true)?;
    socket.bind(addr)?;
    socket.listen(backlog)
}

#[cfg(unix)]
fn listen_fd(fd: i32) -> io::Result<tokio::net::TcpListener> {
    use std::os::fd::FromRawFd;
    if fd < 0 {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "negative fd"));
    }
    // SAFETY: the operator hands us this descriptor with `fd@<n>`; it must be
    // an open listening socket that nothing else in this process owns.
    let std_listener = unsafe { std::net::TcpListener::from_raw_fd(fd) };
    std_listener.set_nonblocking(true)?;
    tokio::net::TcpListener::from_std(std_listener)
}

#[cfg(unix)]
fn listen_unix(path: &std::path::Path, backlog: u32) -> io::Result<tokio::net::UnixListener> {
    use std::os::unix::fs::FileTypeExt;
    // A socket file left by a previous run would make bind fail; anything
    // that is not a socket is the operator's and stays.
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if meta.file_type().is_socket() {
            std::fs::remove_file(path)?;
        }
    }
    let listener = tokio::net::UnixListener::bind(path)?;
    // tokio listens with a backlog of its own; listen(2) again on a
    // listening socket only sets the queue's length.
    relisten(&listener, backlog)?;
    Ok(listener)
}

/// listen(2) on an already listening socket: Linux then changes its
/// backlog and nothing else. Values past i32::MAX go as i32::MAX, as
/// tokio's `TcpSocket::listen` sends them; the kernel caps either.
#[cfg(unix)]
fn relisten(socket: &impl std::os::fd::AsRawFd, backlog: u32) -> io::Result<()> {
    let backlog = i32::try_from(backlog).unwrap_or(i32::MAX);
    // SAFETY: listen(2) on a descriptor the caller's socket owns.
    if unsafe { libc::listen(socket.as_raw_fd(), backlog) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

impl Net for TokioNet {
    fn listen(
        &self,
        addr: &ListenAddr,
        backlog: u32,
    ) -> BoxFuture<'_, io::Result<Box<dyn Listener>>> {
        let addr = addr.clone();
        Box::pin(async move {
            let listener: Box<dyn Listener> = match addr {
                ListenAddr::Inet(a) => Box::new(TcpListener::new(listen_inet(a, backlog)?)?),
                #[cfg(unix)]
                ListenAddr::Unix(p) => Box::new(UnixListener(listen_unix(&p, backlog)?)),
                #[cfg(unix)]
                ListenAddr::Fd(n) => Box::new(TcpListener::new(listen_fd(n)?)?),
                #[cfg(not(unix))]
                _ => return Err(io::Error::from(io::ErrorKind::Unsupported)),
            };
            Ok(listener)
        })
    }

    fn connect(&self, addr: SocketAddr) -> BoxFuture<'_, io::Result<BoxStream>> {
        Box::pin(async move {
            let stream = tokio::net::TcpStream::connect(addr).await?;
            let _ = stream.set_nodelay(true);
            Ok(Box::new(stream) as BoxStream)
        })
    }

    fn bind_udp(&self, addr: SocketAddr) -> BoxFuture<'_, io::Result<Box<dyn Datagram>>> {
        Box::pin(async move {
            let socket = tokio::net::UdpSocket::bind(addr).await?;
            Ok(Box::new(Udp(socket)) as Box<dyn Datagram>)
        })
    }

    fn has_unix_sockets(&self) -> bool {
        true
    }

    fn send_unix<'a>(
        &'a self,
        path: &'a std::path::Path,
        bytes: &'a [u8],
    ) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            // An unbound socket per datagram: log lines are rare enough,
            // and a restarted syslog daemon is reached at once.
            let socket = tokio::net::UnixDatagram::unbound()?;
            socket.send_to(bytes, path).await.map(drop)
        })
    }

    fn wall_clock(&self) -> SystemTime {
        #[allow(clippy::disallowed_methods)] // the seam is where real time enters
        SystemTime::now()
    }

    fn seed(&self) -> u64 {
        self.seed
    }

    fn pid(&self) -> u32 {
        std::process::id()
    }

    /// The machine's name, as `gethostname` gives it.
    fn host_name(&self) -> String {
        let mut buf = [0 as libc::c_char; 256];
        // SAFETY: the buffer's length is passed; gethostname NUL-terminates
        // within it on success.
        if unsafe { libc::gethostname(buf.as_mut_ptr(), buf.len() - 1) } != 0 {
            return String::new();
        }
        // SAFETY: NUL-terminated by gethostname (the last byte stays 0).
        unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    }

    fn spawn_stream(&self, task: BoxFuture<'static, ()>) {
        if self.workers.is_empty() {
            tokio::spawn(task);
            return;
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed) % self.workers.len();
        self.workers[n].spawn(task);
    }

    fn event_loops(&self) -> usize {
        self.workers.len()
    }

    fn spawn_on(&self, n: usize, task: BoxFuture<'static, ()>) -> tokio::task::JoinHandle<()> {
        match self.workers.get(n) {
            Some(w) => w.spawn(task),
            None => tokio::spawn(task),
        }
    }
}

/// An I/O error in strerror(3)'s words, as HAProxy prints them: std's text
/// without its " (os error N)" suffix.
pub fn strerror(e: &io::Error) -> String {
    // Errors that did not come from the OS (e.g. a simulated network's)
    // still get the OS's words for their kind.
    let known = match e.kind() {
        io::ErrorKind::ConnectionRefused => Some("Connection refused"),
        io::ErrorKind::ConnectionReset => Some("Connection reset by peer"),
        io::ErrorKind::HostUnreachable => Some("No route to host"),
        io::ErrorKind::NetworkUnreachable => Some("Network is unreachable"),
        io::ErrorKind::AddrInUse => Some("Address already in use"),
        io::ErrorKind::AddrNotAvailable => Some("Cannot assign requested address"),
        io::ErrorKind::PermissionDenied => Some("Permission denied"),
        _ => None,
    };
    if let Some(words) = known {
        return words.to_string();
    }
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}
