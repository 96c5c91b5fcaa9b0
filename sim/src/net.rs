//! The network seam over turmoil: the engine's [`Net`] in a simulated world.
//!
//! A turmoil host has one address and may bind only the wildcard or
//! loopback, so `bind 10.96.20.8:80` listens on the host's wildcard at port
//! 80, and the world's address table ([`crate::addresses`]) decides which
//! host a connection to an address reaches. Unix sockets and
//! inherited descriptors bind, but nothing in the simulated world can
//! reach them (a stats socket's commands are the scenario's `api`
//! events instead). Wall-clock time
//! is the simulation's epoch plus virtual elapsed time, so log dates repeat
//! from run to run.
//!
//! A reload binds nothing twice: turmoil binds a port once per host, and
//! production hands its listening descriptors to the new process. The
//! host's listeners are [`Listening`], shared by its engine's
//! generations: while a new generation binds, the listeners the old one
//! holds are offered to it, and an address it asks for again is the same
//! listener (its backlog included), handed over.

use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime};

use engine::net::{
    Accepted, BoxFuture, BoxStream, ConnectSpec, Datagram, Family, ListenAddr, ListenSpec,
    Listener, Net,
};

use crate::addresses::Addresses;
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
    /// Which host owns which address: where connects go.
    addresses: Addresses,
    /// Connections so far, each with its own dice.
    opened: Arc<AtomicU64>,
    /// The host's listeners, shared with the other generations of its
    /// engine.
    listening: Listening,
}

impl SimNet {
    /// `seed` drives the engine's random choices; `pid` is what its log
    /// lines show as the process id; `name` and `me` are the host's name
    /// and address; `links` and `addresses` are the world's.
    pub fn new(
        seed: u64,
        pid: u32,
        name: &str,
        me: IpAddr,
        links: Links,
        addresses: Addresses,
    ) -> Self {
        SimNet {
            seed,
            pid,
            name: name.to_string(),
            me,
            links,
            addresses,
            opened: Arc::default(),
            listening: Listening::default(),
        }
    }

    /// The same seam, its listeners shared through `listening` with the
    /// other generations of the host's engine (see [`Listening`]).
    pub fn with_listening(mut self, listening: Listening) -> Self {
        self.listening = listening;
        self
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

/// The listening sockets of one simulated host, shared by the
/// generations of its engine, as production passes its listening
/// descriptors to the process a reload starts.
///
/// Every listener bound through the seam is noted here (weakly: it lives
/// while a generation holds it). A reload [`Listening::offer`]s them all,
/// binds the new configuration (an address asked for again adopts the
/// offered listener, whose pending connections go to whoever accepts
/// next: the new generation once the old one stops accepting), then
/// [`Listening::settle`]s: what was not adopted is left to the old
/// generation, and closes when its accept loops stop (its soft stop).
/// Outside a reload, an address bound twice is refused as ever.
#[derive(Clone, Default)]
pub struct Listening(Arc<Mutex<Sockets>>);

impl std::fmt::Debug for Listening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let bound: Vec<SocketAddr> = self.lock().bound.values().map(|(a, _)| *a).collect();
        f.debug_struct("Listening").field("bound", &bound).finish()
    }
}

#[derive(Default)]
struct Sockets {
    /// A reload is binding: `offered`, `adopted` and `fresh` are its.
    reloading: bool,
    /// Every listener bound, by the address turmoil bound (the host's
    /// wildcard at the port), with the address the configuration asked.
    bound: BTreeMap<SocketAddr, (SocketAddr, Weak<turmoil::net::TcpListener>)>,
    /// During a reload, the listeners the new generation may adopt.
    offered: BTreeMap<SocketAddr, (SocketAddr, Arc<turmoil::net::TcpListener>)>,
    /// During a reload, the addresses asked for: adopted or bound anew.
    adopted: Vec<SocketAddr>,
    fresh: Vec<SocketAddr>,
}

/// What a reload did with the host's listeners, by the addresses the
/// configurations ask for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Handover {
    /// Held by the old generation, adopted by the new one.
    pub adopted: Vec<SocketAddr>,
    /// Bound for the new generation.
    pub bound: Vec<SocketAddr>,
    /// Held by the old generation only: closed when it stops accepting.
    pub left: Vec<SocketAddr>,
}

impl Listening {
    fn lock(&self) -> std::sync::MutexGuard<'_, Sockets> {
        self.0.lock().expect("listening lock")
    }

    /// A reload begins: every live listener may be adopted.
    pub fn offer(&self) {
        let mut s = self.lock();
        s.bound.retain(|_, (_, l)| l.strong_count() > 0);
        let offered = s
            .bound
            .iter()
            .filter_map(|(at, (asked, l))| Some((*at, (*asked, l.upgrade()?))))
            .collect();
        s.offered = offered;
        s.reloading = true;
        s.adopted.clear();
        s.fresh.clear();
    }

    /// The reload's binds are over: the listeners not adopted stay with
    /// the old generation alone. Says what happened to each address.
    pub fn settle(&self) -> Handover {
        let mut s = self.lock();
        s.reloading = false;
        let left = std::mem::take(&mut s.offered)
            .into_values()
            .map(|(asked, _)| asked)
            .collect();
        Handover {
            adopted: std::mem::take(&mut s.adopted),
            bound: std::mem::take(&mut s.fresh),
            left,
        }
    }

    /// The listener for `asked` (turmoil binds `at`): the offered one if
    /// a reload is on and the old generation holds it, else a new one.
    async fn listen(
        &self,
        asked: SocketAddr,
        at: SocketAddr,
    ) -> io::Result<Arc<turmoil::net::TcpListener>> {
        let offered = self.lock().offered.remove(&at);
        if let Some((_, listener)) = offered {
            self.lock().adopted.push(asked);
            return Ok(listener);
        }
        let listener = Arc::new(turmoil::net::TcpListener::bind(at).await?);
        let mut s = self.lock();
        let key = listener.local_addr()?;
        s.bound.insert(key, (asked, Arc::downgrade(&listener)));
        if s.reloading {
            s.fresh.push(asked);
        }
        Ok(listener)
    }
}

/// A listener (perhaps one of several handles on a socket another
/// generation holds too: [`Listening`]); over a lossy link, an accepted
/// connection (its handshake already paid by the connecting side) lives
/// the loss of its data.
struct SimListener {
    listener: Arc<turmoil::net::TcpListener>,
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
            Ok(Accepted {
                stream: transport(stream, self.net.accepted_dice(peer.ip())),
                peer: Some(peer),
                local,
                family: Family::of(local.or(Some(peer))),
                fd: None,
            })
        })
    }
}

impl Datagram for SimUdp {
    fn send_to<'a>(&'a self, buf: &'a [u8], to: SocketAddr) -> BoxFuture<'a, io::Result<usize>> {
        Box::pin(async move {
            let to = self.net.addresses.route(to);
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

/// The seam's transport of a connection, accepted or made: the stream
/// itself, living the loss of its link when it has dice (the first layer
/// of [`engine::layers`]; the handshake's losses are paid before).
fn transport(stream: turmoil::net::TcpStream, dice: Option<Dice>) -> BoxStream {
    match dice {
        Some(dice) => Box::new(Lossy::new(stream, dice)),
        None => Box::new(stream),
    }
}

impl Net for SimNet {
    /// `backlog` has no counterpart here: turmoil queues the connections
    /// that wait for `accept` up to the world's `TCP_CAPACITY`, and a full
    /// queue stops the simulation rather than dropping a SYN. A simulated
    /// host binds any address ([`Addresses::bindable`]): `freebind` and
    /// `transparent` change nothing, `reuseport` and `v6only` have no
    /// counterpart; `interface` is refused (a host has one).
    fn listen(&self, spec: &ListenSpec) -> BoxFuture<'_, io::Result<Box<dyn Listener>>> {
        let spec = spec.clone();
        Box::pin(async move {
            if spec.interface.is_some() {
                return Err(io::Error::from(io::ErrorKind::Unsupported));
            }
            match spec.addr {
                ListenAddr::Inet(a) => {
                    let at = self.addresses.bindable(a);
                    let listener = self.listening.listen(a, at).await?;
                    let net = self.clone();
                    Ok(Box::new(SimListener { listener, net }) as Box<dyn Listener>)
                }
                ListenAddr::Unix(_) | ListenAddr::Fd(_) => {
                    Ok(Box::new(Unreachable) as Box<dyn Listener>)
                }
            }
        })
    }

    /// To the host that owns the address now ([`Addresses::route`]);
    /// plain connections only ([`ConnectSpec::plain`]).
    fn connect(&self, spec: &ConnectSpec) -> BoxFuture<'_, io::Result<BoxStream>> {
        let spec = spec.clone();
        Box::pin(async move {
            let to = self.addresses.route(spec.plain()?);
            let mut dice = self.dice(to.ip());
            if let Some(dice) = &mut dice {
                // Lost SYNs (or SYN-ACKs) cost retransmission timeouts first.
                crate::loss::handshake(dice).await?;
            }
            let stream = turmoil::net::TcpStream::connect(to).await?;
            Ok(transport(stream, dice))
        })
    }

    fn bind_udp(&self, addr: SocketAddr) -> BoxFuture<'_, io::Result<Box<dyn Datagram>>> {
        Box::pin(async move {
            let socket = turmoil::net::UdpSocket::bind(self.addresses.bindable(addr)).await?;
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
