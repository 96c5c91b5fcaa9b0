//! The network seam over turmoil: the engine's [`Net`] in a simulated world.
//!
//! A turmoil host has one address and may bind only the wildcard or
//! loopback, so `bind 10.96.20.8:80` listens on the host's wildcard at port
//! 80: in the simulation, the host *is* its addresses. Unix sockets and
//! inherited descriptors bind, but nothing in the simulated world can
//! reach them (a stats socket's commands are the scenario's `api`
//! events instead). Wall-clock time
//! is the simulation's epoch plus virtual elapsed time, so log dates repeat
//! from run to run.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use engine::net::{Accepted, BoxFuture, BoxStream, Datagram, ListenAddr, Listener, Net};

use crate::loss::{Dice, Links, Lossy};

/// The seam handed to an engine running inside a turmoil host.
#[derive(Debug, Clone)]
pub struct SimNet {
    seed: u64,
    pid: u32,
    /// The host's name in the scenario (`node` in `show info`).
    name: String,
    /// The host's own address and the world's lossy links: the engine's
    /// connections over them live the loss (see [`crate::loss`]).
    me: IpAddr,
    links: Links,
    /// Connections so far, each with its own dice.
    opened: Arc<AtomicU64>,
}

impl SimNet {
    /// `seed` drives the engine's random choices; `pid` is what its log
    /// lines show as the process id; `name` and `me` are the host's name
    /// and address.
    pub fn new(seed: u64, pid: u32, name: &str, me: IpAddr, links: Links) -> Self {
        SimNet {
            seed,
            pid,
            name: name.to_string(),
            me,
            links,
            opened: Arc::default(),
        }
    }

    /// The dice of a new connection to or from `peer`, if its link loses
    /// packets.
    fn dice(&self, peer: IpAddr) -> Option<Dice> {
        let share = self.links.loss(self.me, peer);
        let n = self.opened.fetch_add(1, Ordering::Relaxed);
        (share > 0.0).then(|| Dice::new(share, self.seed ^ u64::from(self.pid) << 32 ^ n))
    }

    /// The dice of a connection accepted from `peer`. Between two
    /// engines the connecting one lives the whole loss (its handshake, and
    /// both directions on its reads and writes), so that it counts once.
    /// (A client pays its own handshake and the engine lives its data.)
    fn accepted_dice(&self, peer: IpAddr) -> Option<Dice> {
        if self.links.is_engine(peer) {
            return None;
        }
        self.dice(peer)
    }
}

/// A listener; over a lossy link, an accepted connection (its handshake
/// already paid by the connecting side) lives the loss of its data.
struct SimListener {
    listener: turmoil::net::TcpListener,
    net: SimNet,
}

/// A listener no simulated host can connect to.
struct Unreachable;

impl Listener for Unreachable {
    fn accept(&self) -> BoxFuture<'_, io::Result<Accepted>> {
        Box::pin(std::future::pending())
    }
}
struct SimUdp {
    socket: turmoil::net::UdpSocket,
    net: SimNet,
}

impl Listener for SimListener {
    fn accept(&self) -> BoxFuture<'_, io::Result<Accepted>> {
        Box::pin(async move {
            let (stream, peer) = self.listener.accept().await?;
            let local = stream.local_addr().ok();
            let stream: BoxStream = match self.net.accepted_dice(peer.ip()) {
                Some(dice) => Box::new(Lossy::new(stream, dice)),
                None => Box::new(stream),
            };
            Ok(Accepted {
                stream,
                peer: Some(peer),
                local,
            })
        })
    }
}

impl Datagram for SimUdp {
    fn send_to<'a>(&'a self, buf: &'a [u8], to: SocketAddr) -> BoxFuture<'a, io::Result<usize>> {
        Box::pin(async move {
            // A lost datagram is sent, as far as the sender knows.
            if self.net.dice(to.ip()).is_some_and(|mut d| d.lost()) {
                return Ok(buf.len());
            }
            self.socket.send_to(buf, to).await
        })
    }
    fn recv_from<'a>(
        &'a self,
        buf: &'a mut [u8],
    ) -> BoxFuture<'a, io::Result<(usize, SocketAddr)>> {
        Box::pin(self.socket.recv_from(buf))
    }
}

/// The address a simulated host can actually bind for `addr`.
fn host_bindable(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_loopback() || addr.ip().is_unspecified() {
        return addr;
    }
    let wildcard = match addr.ip() {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    SocketAddr::new(wildcard, addr.port())
}

impl Net for SimNet {
    /// `backlog` has no counterpart here: turmoil queues the connections
    /// that wait for `accept` up to the world's `TCP_CAPACITY`, and a full
    /// queue stops the simulation rather than dropping a SYN.
    fn listen(
        &self,
        addr: &ListenAddr,
        _backlog: u32,
    ) -> BoxFuture<'_, io::Result<Box<dyn Listener>>> {
        let addr = addr.clone();
        Box::pin(async move {
            match addr {
                ListenAddr::Inet(a) => {
                    let listener = turmoil::net::TcpListener::bind(host_bindable(a)).await?;
                    let net = self.clone();
                    Ok(Box::new(SimListener { listener, net }) as Box<dyn Listener>)
                }
                ListenAddr::Unix(_) | ListenAddr::Fd(_) => {
                    Ok(Box::new(Unreachable) as Box<dyn Listener>)
                }
            }
        })
    }

    fn connect(&self, addr: SocketAddr) -> BoxFuture<'_, io::Result<BoxStream>> {
        Box::pin(async move {
            let Some(mut dice) = self.dice(addr.ip()) else {
                let s = turmoil::net::TcpStream::connect(addr).await?;
                return Ok(Box::new(s) as BoxStream);
            };
            // Lost SYNs (or SYN-ACKs) cost retransmission timeouts first.
            crate::loss::handshake(&mut dice).await?;
            let s = turmoil::net::TcpStream::connect(addr).await?;
            Ok(Box::new(Lossy::new(s, dice)) as BoxStream)
        })
    }

    fn bind_udp(&self, addr: SocketAddr) -> BoxFuture<'_, io::Result<Box<dyn Datagram>>> {
        Box::pin(async move {
            let socket = turmoil::net::UdpSocket::bind(host_bindable(addr)).await?;
            let net = self.clone();
            Ok(Box::new(SimUdp { socket, net }) as Box<dyn Datagram>)
        })
    }

    fn wall_clock(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + turmoil::since_epoch().unwrap_or(Duration::ZERO)
    }

    fn seed(&self) -> u64 {
        self.seed
    }

    fn pid(&self) -> u32 {
        self.pid
    }

    fn host_name(&self) -> String {
        self.name.clone()
    }
}
