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
use std::time::{Duration, SystemTime};

use engine::net::{Accepted, BoxFuture, BoxStream, Datagram, ListenAddr, Listener, Net};

/// The seam handed to an engine running inside a turmoil host.
#[derive(Debug, Clone)]
pub struct SimNet {
    seed: u64,
    pid: u32,
}

impl SimNet {
    /// `seed` drives the engine's random choices; `pid` is what its log
    /// lines show as the process id.
    pub fn new(seed: u64, pid: u32) -> Self {
        SimNet { seed, pid }
    }
}

struct SimListener(turmoil::net::TcpListener);

/// A listener no simulated host can connect to.
struct Unreachable;

impl Listener for Unreachable {
    fn accept(&self) -> BoxFuture<'_, io::Result<Accepted>> {
        Box::pin(std::future::pending())
    }
}
struct SimUdp(turmoil::net::UdpSocket);

impl Listener for SimListener {
    fn accept(&self) -> BoxFuture<'_, io::Result<Accepted>> {
        Box::pin(async move {
            let (stream, peer) = self.0.accept().await?;
            let local = stream.local_addr().ok();
            Ok(Accepted {
                stream: Box::new(stream),
                peer: Some(peer),
                local,
            })
        })
    }
}

impl Datagram for SimUdp {
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
    fn listen(&self, addr: &ListenAddr) -> BoxFuture<'_, io::Result<Box<dyn Listener>>> {
        let addr = addr.clone();
        Box::pin(async move {
            match addr {
                ListenAddr::Inet(a) => {
                    let l = turmoil::net::TcpListener::bind(host_bindable(a)).await?;
                    Ok(Box::new(SimListener(l)) as Box<dyn Listener>)
                }
                ListenAddr::Unix(_) | ListenAddr::Fd(_) => {
                    Ok(Box::new(Unreachable) as Box<dyn Listener>)
                }
            }
        })
    }

    fn connect(&self, addr: SocketAddr) -> BoxFuture<'_, io::Result<BoxStream>> {
        Box::pin(async move {
            let s = turmoil::net::TcpStream::connect(addr).await?;
            Ok(Box::new(s) as BoxStream)
        })
    }

    fn bind_udp(&self, addr: SocketAddr) -> BoxFuture<'_, io::Result<Box<dyn Datagram>>> {
        Box::pin(async move {
            let s = turmoil::net::UdpSocket::bind(host_bindable(addr)).await?;
            Ok(Box::new(SimUdp(s)) as Box<dyn Datagram>)
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
}
