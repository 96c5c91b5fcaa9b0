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
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

use tokio::io::{AsyncRead, AsyncWrite};

#[cfg(unix)]
pub mod fdpass;
#[cfg(unix)]
pub mod vrrp_link;

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
    /// An inherited file descriptor that is already a listening socket
    /// (`fd@<n>`; also how a new generation adopts a listener handed
    /// over by [`Listener::handover`]).
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

/// What to listen on and how: HAProxy's `bind` line as the seam takes it.
///
/// Defaults (as [`ListenSpec::new`] sets them): `reuseport` on (a new
/// process binds beside the old one during a reload, as HAProxy does
/// unless `noreuseport`), the system's `v6only`, no `interface`, neither
/// `freebind` nor `transparent`. The configuration fills `addr` and
/// `backlog`; the parser refuses the `bind` options behind the other
/// fields (`v6only`, `interface`, `transparent`) and the global
/// `noreuseport` as not implemented, so none is set from a file yet.
/// The socket options apply to `Inet` addresses only: a spec that sets
/// one for a unix socket or an inherited one is refused (InvalidInput).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenSpec {
    pub addr: ListenAddr,
    /// The length of the queue of connections the kernel completes
    /// before the engine accepts them (listen(2)'s; the kernel caps it at
    /// `net.core.somaxconn`). An inherited socket (`fd@`) keeps the
    /// backlog it was given, as in HAProxy.
    pub backlog: u32,
    /// SO_REUSEPORT.
    pub reuseport: bool,
    /// IPV6_V6ONLY for an IPv6 address (`v6only`, `v4v6`); None: the
    /// system's default (`net.ipv6.bindv6only`).
    pub v6only: Option<bool>,
    /// SO_BINDTODEVICE (`interface <name>`).
    pub interface: Option<String>,
    /// IP_FREEBIND: bind an address the host does not have (yet), as a
    /// standby does with a VIP.
    pub freebind: bool,
    /// IP_TRANSPARENT (`transparent`): accept connections to any address
    /// routed to the host.
    pub transparent: bool,
}

impl ListenSpec {
    /// `addr` with `backlog` and every other field at its default.
    pub fn new(addr: ListenAddr, backlog: u32) -> Self {
        ListenSpec {
            addr,
            backlog,
            reuseport: true,
            v6only: None,
            interface: None,
            freebind: false,
            transparent: false,
        }
    }

    /// Whether the socket options stay at their defaults (all a unix
    /// socket or an inherited one can take).
    pub fn has_default_options(&self) -> bool {
        self.reuseport
            && self.v6only.is_none()
            && self.interface.is_none()
            && !self.freebind
            && !self.transparent
    }
}

/// What to connect to and how: the connect side's mirror of [`ListenSpec`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectSpec {
    /// The destination.
    pub to: SocketAddr,
    /// The source address to bind before connecting (HAProxy's `source`);
    /// None: the kernel chooses. The production seam binds it; seams that
    /// cannot choose a source (the simulator's, the test fake) refuse a
    /// spec that sets it (Unsupported).
    pub from: Option<SocketAddr>,
    /// TLS to the server (`ssl`, `sni`, `alpn` on a `server` line): a place
    /// kept for the transport to come. Not used yet: no configuration sets
    /// it, and every seam refuses a spec that does (Unsupported) rather
    /// than connect in clear.
    pub tls: Option<TlsSpec>,
}

/// TLS parameters of a connection (see [`ConnectSpec::tls`]; not used yet).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsSpec {
    /// The server name sent in SNI and checked in the certificate.
    pub server_name: Option<String>,
    /// ALPN protocols offered, in order of preference (`h2`, `http/1.1`).
    pub alpn: Vec<String>,
}

impl ConnectSpec {
    /// A plain TCP connection to `to`, from wherever the kernel chooses.
    pub fn to(to: SocketAddr) -> Self {
        ConnectSpec {
            to,
            from: None,
            tls: None,
        }
    }

    /// The destination of a spec a seam without source binding or TLS
    /// can honour; Unsupported for any other.
    pub fn plain(&self) -> io::Result<SocketAddr> {
        if self.from.is_some() || self.tls.is_some() {
            return Err(io::Error::from(io::ErrorKind::Unsupported));
        }
        Ok(self.to)
    }
}

/// A socket's address family, as `show sess` names its protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Inet4,
    Inet6,
    Unix,
}

impl Family {
    /// The family of a socket at `addr` (None: a unix socket).
    pub fn of(addr: Option<SocketAddr>) -> Self {
        match addr {
            Some(SocketAddr::V4(_)) => Family::Inet4,
            Some(SocketAddr::V6(_)) => Family::Inet6,
            None => Family::Unix,
        }
    }

    /// HAProxy's name of a stream socket of this family (`proto=` in
    /// `show sess`).
    pub fn proto(self) -> &'static str {
        match self {
            Family::Inet4 => "tcpv4",
            Family::Inet6 => "tcpv6",
            Family::Unix => "unix_stream",
        }
    }
}

/// An accepted connection and what the transport knows of it.
pub struct Accepted {
    pub stream: BoxStream,
    /// The client's address; None for unix sockets.
    pub peer: Option<SocketAddr>,
    /// The address the client connected to; None for unix sockets.
    pub local: Option<SocketAddr>,
    /// The listening socket's family.
    pub family: Family,
    /// The connection's descriptor, in production: a stats socket passes
    /// listening sockets over it (`_getsocks`), and a soft stop looks in
    /// its receive queue before closing it ([`close_if_idle`]).
    pub fd: Option<std::os::fd::RawFd>,
}

/// Closes an idle connection's sending side at once, unless bytes wait
/// in its receive queue (its next request has come, even if the event
/// loop has not told yet): true when it closed. The look and the close
/// follow each other with nothing in between, so a client that still
/// sees the connection open has its request read, not raced by the
/// close.
#[cfg(unix)]
pub fn close_if_idle(fd: std::os::fd::RawFd) -> bool {
    let mut byte = [0u8];
    // SAFETY: a one-byte peek into a live buffer, without waiting.
    let n = unsafe {
        libc::recv(
            fd,
            byte.as_mut_ptr().cast(),
            1,
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    if n > 0 {
        return false;
    }
    // SAFETY: shutdown(2) on the connection's own descriptor.
    unsafe { libc::shutdown(fd, libc::SHUT_WR) };
    true
}

/// A listening socket.
pub trait Listener: Send + Sync {
    fn accept(&self) -> BoxFuture<'_, io::Result<Accepted>>;
    /// Another handle on the same listening socket, for an accept loop on
    /// another event loop; None when the kind cannot be shared.
    fn try_clone(&self) -> Option<io::Result<Box<dyn Listener>>> {
        None
    }
    /// A duplicate of the listening socket's descriptor, for the next
    /// generation of the engine to adopt (`fd@<n>`, [`ListenAddr::Fd`])
    /// while this one drains: a seamless reload. None where the socket
    /// cannot be passed (a simulated one). TCP and unix sockets both pass
    /// (a master hands its workers the stats sockets too).
    fn handover(&self) -> Option<io::Result<OwnedFd>> {
        None
    }
    /// SIGTTOU: stop taking connections. Where the kind cannot refuse
    /// them (a unix socket, a simulated one), the accept loop just stops
    /// accepting and they wait in the backlog.
    fn pause(&self) -> io::Result<()> {
        Ok(())
    }
    /// SIGTTIN: take connections again.
    fn resume(&self) -> io::Result<()> {
        Ok(())
    }
}

/// A bound UDP socket.
pub trait Datagram: Send + Sync {
    fn send_to<'a>(&'a self, buf: &'a [u8], to: SocketAddr) -> BoxFuture<'a, io::Result<usize>>;
    fn recv_from<'a>(&'a self, buf: &'a mut [u8])
        -> BoxFuture<'a, io::Result<(usize, SocketAddr)>>;
}

/// The world as the engine sees it: sockets, the wall clock, the seed of
/// its random choices, its identity. (The event loops that run streams
/// are the runtime's: [`crate::pool::Pool`].)
pub trait Net: Send + Sync + 'static {
    /// Listens as `spec` says (see [`ListenSpec`]).
    fn listen(&self, spec: &ListenSpec) -> BoxFuture<'_, io::Result<Box<dyn Listener>>>;
    /// Connects as `spec` says (see [`ConnectSpec`]).
    fn connect(&self, spec: &ConnectSpec) -> BoxFuture<'_, io::Result<BoxStream>>;
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
}

/// The production seam: real sockets through tokio.
#[derive(Debug, Clone)]
pub struct TokioNet {
    seed: u64,
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
        TokioNet { seed }
    }
}

impl Default for TokioNet {
    fn default() -> Self {
        Self::new()
    }
}

/// A TCP listener, registered with the event loop that first accepts on it.
struct TcpListener {
    /// Not registered yet (or again, after a pause).
    waiting: std::sync::Mutex<Option<std::net::TcpListener>>,
    io: std::sync::Mutex<Option<Arc<tokio::net::TcpListener>>>,
    /// Its listen(2) queue, set again when it resumes.
    backlog: u32,
}

impl TcpListener {
    fn new(listener: tokio::net::TcpListener, backlog: u32) -> io::Result<Self> {
        Ok(Self::waiting(listener.into_std()?, backlog))
    }

    fn waiting(listener: std::net::TcpListener, backlog: u32) -> Self {
        TcpListener {
            waiting: std::sync::Mutex::new(Some(listener)),
            io: std::sync::Mutex::new(None),
            backlog,
        }
    }

    /// The registered socket, registering it with the current event loop
    /// on first use.
    fn io(&self) -> io::Result<Arc<tokio::net::TcpListener>> {
        let mut io = self
            .io
            .lock()
            .map_err(|_| io::Error::other("listener lock"))?;
        if let Some(l) = io.as_ref() {
            return Ok(l.clone());
        }
        let std = self
            .waiting
            .lock()
            .map_err(|_| io::Error::other("listener lock"))?
            .take()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))?;
        let l = Arc::new(tokio::net::TcpListener::from_std(std)?);
        *io = Some(l.clone());
        Ok(l)
    }

    /// A duplicate of the socket's descriptor, wherever it is now.
    fn dup(&self) -> Option<io::Result<OwnedFd>> {
        use std::os::fd::AsFd;
        if let Some(l) = self.io.lock().ok()?.as_ref() {
            return Some(l.as_fd().try_clone_to_owned());
        }
        match self.waiting.lock() {
            Ok(w) => w.as_ref().map(|l| l.as_fd().try_clone_to_owned()),
            Err(_) => None,
        }
    }
}

#[cfg(unix)]
struct UnixListener(tokio::net::UnixListener);
struct Udp(tokio::net::UdpSocket);

impl Listener for TcpListener {
    fn try_clone(&self) -> Option<io::Result<Box<dyn Listener>>> {
        let backlog = self.backlog;
        Some(self.dup()?.map(|fd| {
            Box::new(TcpListener::waiting(
                std::net::TcpListener::from(fd),
                backlog,
            )) as Box<dyn Listener>
        }))
    }

    /// As HAProxy's tcp_suspend_receiver: the socket is disconnected
    /// (connect to AF_UNSPEC), so the kernel refuses new connections and
    /// drops those not accepted yet, and another process may take the
    /// port.
    fn pause(&self) -> io::Result<()> {
        let Some(fd) = self.dup() else {
            return Ok(());
        };
        let fd = fd?;
        // SAFETY: sockaddr with family AF_UNSPEC, its size given.
        let rc = unsafe {
            let mut sa: libc::sockaddr = std::mem::zeroed();
            sa.sa_family = libc::AF_UNSPEC as libc::sa_family_t;
            libc::connect(
                std::os::fd::AsRawFd::as_raw_fd(&fd),
                &sa,
                std::mem::size_of::<libc::sockaddr>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Listens again, and registers anew with the event loop that accepts
    /// next: the old registration saw the socket end.
    fn resume(&self) -> io::Result<()> {
        let registered = self
            .io
            .lock()
            .map_err(|_| io::Error::other("listener lock"))?
            .take();
        if let Some(l) = registered {
            use std::os::fd::AsFd;
            let std = std::net::TcpListener::from(l.as_fd().try_clone_to_owned()?);
            std.set_nonblocking(true)?;
            *self
                .waiting
                .lock()
                .map_err(|_| io::Error::other("listener lock"))? = Some(std);
        }
        let waiting = self
            .waiting
            .lock()
            .map_err(|_| io::Error::other("listener lock"))?;
        match waiting.as_ref() {
            Some(std) => relisten(std, self.backlog),
            None => Ok(()),
        }
    }

    fn handover(&self) -> Option<io::Result<OwnedFd>> {
        self.dup()
    }

    fn accept(&self) -> BoxFuture<'_, io::Result<Accepted>> {
        Box::pin(async move {
            let listener = self.io()?;
            let (stream, peer) = listener.accept().await?;
            let local = stream.local_addr().ok();
            let fd = Some(std::os::fd::AsRawFd::as_raw_fd(&stream));
            // Proxied traffic is mostly small writes; Nagle would add latency.
            let _ = stream.set_nodelay(true);
            // It stays on the accepting event loop, which serves it.
            Ok(Accepted {
                stream: Box::new(stream),
                peer: Some(peer),
                local,
                family: Family::of(local.or(Some(peer))),
                fd,
            })
        })
    }
}

#[cfg(unix)]
impl Listener for UnixListener {
    fn handover(&self) -> Option<io::Result<OwnedFd>> {
        use std::os::fd::AsFd;
        Some(self.0.as_fd().try_clone_to_owned())
    }

    fn accept(&self) -> BoxFuture<'_, io::Result<Accepted>> {
        Box::pin(async move {
            let (stream, _) = self.0.accept().await?;
            let fd = Some(std::os::fd::AsRawFd::as_raw_fd(&stream));
            Ok(Accepted {
                stream: Box::new(stream),
                peer: None,
                local: None,
                family: Family::Unix,
                fd,
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

fn listen_inet(addr: SocketAddr, spec: &ListenSpec) -> io::Result<tokio::net::TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    #[cfg(unix)]
    socket.set_reuseport(spec.reuseport)?;
    set_socket_options(&socket, addr, spec)?;
    socket.bind(addr)?;
    socket.listen(spec.backlog)
}

/// The options of `spec` beyond SO_REUSEPORT, on a socket not yet bound.
#[cfg(target_os = "linux")]
fn set_socket_options(
    socket: &tokio::net::TcpSocket,
    addr: SocketAddr,
    spec: &ListenSpec,
) -> io::Result<()> {
    let v6 = addr.is_ipv6();
    if let Some(only) = spec.v6only {
        if !v6 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "v6only on an IPv4 address",
            ));
        }
        setsockopt_int(socket, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, only)?;
    }
    if let Some(name) = &spec.interface {
        socket.bind_device(Some(name.as_bytes()))?;
    }
    if spec.freebind {
        let (level, name) = match v6 {
            false => (libc::IPPROTO_IP, libc::IP_FREEBIND),
            true => (libc::IPPROTO_IPV6, libc::IPV6_FREEBIND),
        };
        setsockopt_int(socket, level, name, true)?;
    }
    if spec.transparent {
        let (level, name) = match v6 {
            false => (libc::IPPROTO_IP, libc::IP_TRANSPARENT),
            true => (libc::IPPROTO_IPV6, libc::IPV6_TRANSPARENT),
        };
        setsockopt_int(socket, level, name, true)?;
    }
    Ok(())
}

/// Elsewhere the options past SO_REUSEPORT are not implemented: a spec
/// that sets one is refused.
#[cfg(not(target_os = "linux"))]
fn set_socket_options(
    _socket: &tokio::net::TcpSocket,
    _addr: SocketAddr,
    spec: &ListenSpec,
) -> io::Result<()> {
    let defaults = ListenSpec {
        reuseport: spec.reuseport,
        ..ListenSpec::new(spec.addr.clone(), spec.backlog)
    };
    match *spec == defaults {
        true => Ok(()),
        false => Err(io::Error::from(io::ErrorKind::Unsupported)),
    }
}

/// setsockopt(2) of a boolean option.
#[cfg(target_os = "linux")]
fn setsockopt_int(
    socket: &impl std::os::fd::AsRawFd,
    level: libc::c_int,
    name: libc::c_int,
    on: bool,
) -> io::Result<()> {
    let value = libc::c_int::from(on);
    // SAFETY: setsockopt(2) on a descriptor the caller's socket owns,
    // with a pointer to an int and its size.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            name,
            std::ptr::from_ref(&value).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
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

/// Whether descriptor `fd` is a unix socket (a master hands its workers
/// the stats sockets too).
#[cfg(unix)]
fn is_unix_socket(fd: i32) -> bool {
    let mut domain: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `domain`.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_DOMAIN,
            (&mut domain as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    rc == 0 && domain == libc::AF_UNIX
}

#[cfg(unix)]
fn adopt_unix(fd: i32) -> io::Result<tokio::net::UnixListener> {
    use std::os::fd::FromRawFd;
    // SAFETY: as for `listen_fd`: an open listening socket handed to us.
    let std_listener = unsafe { std::os::unix::net::UnixListener::from_raw_fd(fd) };
    std_listener.set_nonblocking(true)?;
    tokio::net::UnixListener::from_std(std_listener)
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
    fn listen(&self, spec: &ListenSpec) -> BoxFuture<'_, io::Result<Box<dyn Listener>>> {
        let spec = spec.clone();
        Box::pin(async move {
            if !matches!(spec.addr, ListenAddr::Inet(_)) && !spec.has_default_options() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "socket options on a unix or inherited socket",
                ));
            }
            let listener: Box<dyn Listener> = match &spec.addr {
                ListenAddr::Inet(a) => {
                    Box::new(TcpListener::new(listen_inet(*a, &spec)?, spec.backlog)?)
                }
                #[cfg(unix)]
                ListenAddr::Unix(p) => Box::new(UnixListener(listen_unix(p, spec.backlog)?)),
                #[cfg(unix)]
                ListenAddr::Fd(n) if is_unix_socket(*n) => Box::new(UnixListener(adopt_unix(*n)?)),
                #[cfg(unix)]
                ListenAddr::Fd(n) => Box::new(TcpListener::new(listen_fd(*n)?, spec.backlog)?),
                #[cfg(not(unix))]
                _ => return Err(io::Error::from(io::ErrorKind::Unsupported)),
            };
            Ok(listener)
        })
    }

    /// Binds `from` first when the spec sets it; TLS is refused (not yet).
    fn connect(&self, spec: &ConnectSpec) -> BoxFuture<'_, io::Result<BoxStream>> {
        let spec = spec.clone();
        Box::pin(async move {
            if spec.tls.is_some() {
                return Err(io::Error::from(io::ErrorKind::Unsupported));
            }
            let stream = match spec.from {
                None => tokio::net::TcpStream::connect(spec.to).await?,
                Some(from) => {
                    let socket = match spec.to {
                        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
                        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
                    };
                    socket.bind(from)?;
                    socket.connect(spec.to).await?
                }
            };
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::IntoRawFd;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn loopback() -> ListenSpec {
        ListenSpec::new(ListenAddr::Inet("127.0.0.1:0".parse().unwrap()), 16)
    }

    /// A listener handed over (a duplicated descriptor) is adopted with
    /// `fd@` by the next generation and accepts there, while the old one
    /// still holds the same socket.
    #[tokio::test]
    async fn a_handed_over_listener_is_adopted_with_fd() {
        let net = TokioNet::with_seed(1);
        let old = net.listen(&loopback()).await.expect("listens");
        let fd = old
            .handover()
            .expect("a TCP listener hands over")
            .expect("dup");
        let addr = std::net::TcpListener::from(fd.try_clone().unwrap())
            .local_addr()
            .unwrap();
        let adopted = ListenAddr::Fd(fd.into_raw_fd());
        let new = net
            .listen(&ListenSpec::new(adopted, 0))
            .await
            .expect("adopts");
        let mut client = net.connect(&ConnectSpec::to(addr)).await.expect("connects");
        client.write_all(b"hi").await.unwrap();
        let mut accepted = new.accept().await.expect("the new generation accepts");
        assert_eq!(accepted.family, Family::Inet4);
        assert_eq!(accepted.local, Some(addr));
        let mut two = [0u8; 2];
        accepted.stream.read_exact(&mut two).await.unwrap();
        assert_eq!(&two, b"hi");
        drop(old);
    }

    #[tokio::test]
    async fn unix_sockets_are_handed_over_and_tls_is_not_silently_taken() {
        use std::os::fd::IntoRawFd;
        let net = TokioNet::with_seed(1);
        let dir = std::env::temp_dir().join(format!("engine-net-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = ListenAddr::Unix(dir.join("s.sock"));
        let unix = net.listen(&ListenSpec::new(path.clone(), 4)).await.unwrap();
        // The adopted descriptor is a unix listener again: it accepts.
        let fd = unix.handover().unwrap().unwrap().into_raw_fd();
        let adopted = net
            .listen(&ListenSpec::new(ListenAddr::Fd(fd), 4))
            .await
            .unwrap();
        drop(unix);
        let _client = tokio::net::UnixStream::connect(dir.join("s.sock"))
            .await
            .unwrap();
        assert_eq!(adopted.accept().await.unwrap().family, Family::Unix);
        // Inet options on a unix socket are refused, not ignored.
        let spec = ListenSpec {
            freebind: true,
            ..ListenSpec::new(path, 4)
        };
        let refused = net.listen(&spec).await.err().expect("refused");
        assert_eq!(refused.kind(), io::ErrorKind::InvalidInput);
        let _ = std::fs::remove_dir_all(&dir);
        // TLS is a place for later: asking for it fails.
        let spec = ConnectSpec {
            tls: Some(TlsSpec::default()),
            ..ConnectSpec::to("127.0.0.1:9".parse().unwrap())
        };
        let refused = net.connect(&spec).await.err().expect("refused");
        assert_eq!(refused.kind(), io::ErrorKind::Unsupported);
    }

    #[tokio::test]
    async fn connect_binds_the_source_it_is_given() {
        let net = TokioNet::with_seed(1);
        let listener = net.listen(&loopback()).await.unwrap();
        let fd = listener.handover().unwrap().unwrap();
        let addr = std::net::TcpListener::from(fd).local_addr().unwrap();
        let from: SocketAddr = "127.0.0.2:0".parse().unwrap();
        let spec = ConnectSpec {
            from: Some(from),
            ..ConnectSpec::to(addr)
        };
        let _client = net.connect(&spec).await.expect("connects");
        let accepted = listener.accept().await.unwrap();
        assert_eq!(accepted.peer.map(|p| p.ip()), Some(from.ip()));
    }

    #[test]
    fn specs_default_as_documented() {
        let spec = loopback();
        assert!(spec.reuseport && spec.has_default_options());
        let to: SocketAddr = "10.0.0.1:80".parse().unwrap();
        assert_eq!(ConnectSpec::to(to).plain().unwrap(), to);
        let sourced = ConnectSpec {
            from: Some("10.0.0.2:0".parse().unwrap()),
            ..ConnectSpec::to(to)
        };
        assert_eq!(
            sourced.plain().unwrap_err().kind(),
            io::ErrorKind::Unsupported
        );
        assert_eq!(Family::of(Some(to)).proto(), "tcpv4");
        assert_eq!(Family::of(None).proto(), "unix_stream");
    }
}
