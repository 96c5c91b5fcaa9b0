//! Packet loss on the links of the simulated world, as TCP lives it.
//!
//! turmoil's TCP never retransmits: a dropped segment would stall its
//! connection for good. A real kernel retransmits, so loss shows up as
//! delay: a lost SYN costs the initial retransmission timeout (1 s, then
//! 2 s, 4 s... the 3 s connect times HAProxy's documentation warns about),
//! a lost data segment at least 200 ms (Linux's minimum RTO), doubling
//! while the retransmissions are lost too. The connecting side pays the
//! handshake (an engine connecting to a server, a client to a proxy: its
//! connect waits, or times out in a black hole); the engine's side of
//! each connection lives the data's loss, at the network seam, its reads
//! and writes held back for the timeouts. UDP datagrams (syslog) are
//! simply lost. Loss acts where an engine is: a link must have a proxy at
//! one end at least.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::addresses::Addresses;

/// The first SYN retransmission timeout (Linux's `TCP_TIMEOUT_INIT`).
const SYN_RTO: Duration = Duration::from_secs(1);
/// SYNs sent before a connect fails (`tcp_syn_retries`).
const SYN_RETRIES: u32 = 6;
/// The least a lost data segment costs (Linux's `TCP_RTO_MIN`).
const DATA_RTO: Duration = Duration::from_millis(200);
/// How long a connect whose every SYN is lost takes to fail: the sum of
/// the retransmission timeouts (1 + 2 + ... + 64 s).
const GIVE_UP: Duration = Duration::from_secs(127);
/// Retransmissions of a data segment before the kernel gives up
/// (`tcp_retries2`).
const DATA_RETRIES: u32 = 15;
/// Backoff stops doubling here (`TCP_RTO_MAX`).
const MAX_RTO: Duration = Duration::from_secs(120);

/// Loss rates by link (a pair of hosts, in address order), shared by the
/// driver, which changes them, and every engine's seam, which reads them.
#[derive(Debug, Clone, Default)]
pub struct Links {
    loss: Arc<Mutex<BTreeMap<(IpAddr, IpAddr), f64>>>,
    /// The hosts running an engine (the proxies).
    engines: Arc<Mutex<BTreeSet<IpAddr>>>,
}

impl Links {
    /// `host` runs an engine: its side of a link lives the loss.
    pub fn add_engine(&self, host: IpAddr) {
        self.engines.lock().expect("links lock").insert(host);
    }

    pub fn is_engine(&self, host: IpAddr) -> bool {
        self.engines.lock().expect("links lock").contains(&host)
    }

    /// Sets the share (0..=1) of packets lost on the link between `a` and
    /// `b`, both ways.
    pub fn set_loss(&self, a: IpAddr, b: IpAddr, share: f64) {
        let mut loss = self.loss.lock().expect("links lock");
        if share > 0.0 {
            loss.insert(pair(a, b), share.min(1.0));
        } else {
            loss.remove(&pair(a, b));
        }
    }

    /// The share of packets lost between `a` and `b`.
    pub fn loss(&self, a: IpAddr, b: IpAddr) -> f64 {
        let loss = self.loss.lock().expect("links lock");
        loss.get(&pair(a, b)).copied().unwrap_or(0.0)
    }
}

fn pair(a: IpAddr, b: IpAddr) -> (IpAddr, IpAddr) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

/// The connecting side's handshake over a lossy link: its lost SYNs (or
/// SYN-ACKs) waited out, or, when every one is lost, the connect's
/// failure after all the retransmissions (ETIMEDOUT).
pub async fn handshake(dice: &mut Dice) -> io::Result<()> {
    match dice.handshake() {
        Some(wait) => {
            tokio::time::sleep(wait).await;
            Ok(())
        }
        None => {
            tokio::time::sleep(GIVE_UP).await;
            Err(io::ErrorKind::TimedOut.into())
        }
    }
}

/// A client's way out: its connects go to the host that owns their
/// target's address now, and pay the handshake's losses on the link to it
/// (the engine that accepts lives the data's).
#[derive(Debug, Clone)]
pub struct Dialer {
    links: Links,
    addresses: Addresses,
    me: IpAddr,
    seed: u64,
    dialled: Arc<std::sync::atomic::AtomicU64>,
}

impl Dialer {
    pub fn new(links: Links, addresses: Addresses, me: IpAddr, seed: u64) -> Self {
        Dialer {
            links,
            addresses,
            me,
            seed,
            dialled: Arc::default(),
        }
    }

    pub async fn connect(&self, to: std::net::SocketAddr) -> io::Result<turmoil::net::TcpStream> {
        let to = self.addresses.route(to);
        let share = self.links.loss(self.me, to.ip());
        if share > 0.0 {
            let n = self
                .dialled
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            handshake(&mut Dice::new(share, self.seed ^ n)).await?;
        }
        turmoil::net::TcpStream::connect(to).await
    }
}

/// What the loss on one link does to one connection's packets.
#[derive(Debug)]
pub struct Dice {
    share: f64,
    rng: SmallRng,
}

impl Dice {
    pub fn new(share: f64, seed: u64) -> Self {
        Dice {
            share,
            rng: SmallRng::seed_from_u64(seed),
        }
    }

    /// Whether one packet (a datagram) is lost.
    pub fn lost(&mut self) -> bool {
        self.share > 0.0 && self.rng.random_bool(self.share)
    }

    /// How long the handshake takes beyond the network's latency: a SYN
    /// and its SYN-ACK each may be lost, each loss waiting one more
    /// timeout; None when every SYN is lost (the connect times out).
    pub fn handshake(&mut self) -> Option<Duration> {
        let mut waited = Duration::ZERO;
        let mut rto = SYN_RTO;
        for _ in 0..=SYN_RETRIES {
            if !self.lost() && !self.lost() {
                return Some(waited);
            }
            waited += rto;
            rto *= 2;
        }
        None
    }

    /// How long one segment waits for its retransmissions: zero unless it
    /// is lost, then 200 ms, doubling while the retransmissions are lost,
    /// up to `tcp_retries2` of them (a black hole: some fifteen minutes,
    /// which every proxy timeout cuts short).
    fn segment(&mut self) -> Duration {
        let mut waited = Duration::ZERO;
        let mut rto = DATA_RTO;
        for _ in 0..=DATA_RETRIES {
            if !self.lost() {
                break;
            }
            waited += rto;
            rto = (rto * 2).min(MAX_RTO);
        }
        waited
    }
}

/// A connection of the engine over a lossy link (its handshake already
/// through): what it reads arrives late by the retransmissions of lost
/// segments, what it writes leaves late the same way (each read or write
/// counting as one segment).
pub struct Lossy<S> {
    inner: S,
    dice: Dice,
    /// Bytes received and held back while their segment is retransmitted.
    held: Vec<u8>,
    read_wait: Option<Pin<Box<tokio::time::Sleep>>>,
    write_wait: Option<Pin<Box<tokio::time::Sleep>>>,
    /// The segment being written was given its fate already.
    write_rolled: bool,
}

impl<S> Lossy<S> {
    pub fn new(inner: S, dice: Dice) -> Self {
        Lossy {
            inner,
            dice,
            held: vec![],
            read_wait: None,
            write_wait: None,
            write_rolled: false,
        }
    }
}

/// Waits out `wait` if set; Ready once there is nothing (left) to wait.
fn wait_out(wait: &mut Option<Pin<Box<tokio::time::Sleep>>>, cx: &mut Context<'_>) -> Poll<()> {
    if let Some(sleep) = wait {
        ready!(sleep.as_mut().poll(cx));
        *wait = None;
    }
    Poll::Ready(())
}

fn sleep_for(d: Duration) -> Option<Pin<Box<tokio::time::Sleep>>> {
    (!d.is_zero()).then(|| Box::pin(tokio::time::sleep(d)))
}

impl<S: AsyncRead + Unpin> AsyncRead for Lossy<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            ready!(wait_out(&mut this.read_wait, cx));
            if !this.held.is_empty() {
                let n = this.held.len().min(buf.remaining());
                buf.put_slice(&this.held[..n]);
                this.held.drain(..n);
                return Poll::Ready(Ok(()));
            }
            let mut segment = [0u8; 16 * 1024];
            let mut into = ReadBuf::new(&mut segment);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut into))?;
            if into.filled().is_empty() {
                return Poll::Ready(Ok(())); // the end of the stream
            }
            this.held.extend_from_slice(into.filled());
            this.read_wait = sleep_for(this.dice.segment());
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Lossy<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if !this.write_rolled {
            this.write_rolled = true;
            this.write_wait = sleep_for(this.dice.segment());
        }
        ready!(wait_out(&mut this.write_wait, cx));
        let written = ready!(Pin::new(&mut this.inner).poll_write(cx, data));
        this.write_rolled = false;
        Poll::Ready(written)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_loss_costs_nothing() {
        let mut d = Dice::new(0.0, 1);
        assert_eq!(d.handshake(), Some(Duration::ZERO));
        assert_eq!(d.segment(), Duration::ZERO);
    }

    #[test]
    fn total_loss_fails_the_connect_and_backoff_doubles() {
        let mut d = Dice::new(1.0, 1);
        assert_eq!(d.handshake(), None);
        // Half the packets lost: a handshake costs 0, 1, 3, 7... seconds.
        let mut d = Dice::new(0.5, 7);
        let costs: Vec<u64> = (0..200)
            .filter_map(|_| d.handshake())
            .map(|w| w.as_secs())
            .collect();
        assert!(costs.iter().all(|c| [0, 1, 3, 7, 15, 31, 63].contains(c)));
        // Each attempt survives with (1 - 0.5)^2: a quarter connect at once.
        let at_once = costs.iter().filter(|c| **c == 0).count();
        assert!((30..=70).contains(&at_once), "{at_once} of 200");
    }

    #[test]
    fn a_black_hole_ends() {
        let mut d = Dice::new(1.0, 3);
        let waited = d.segment();
        assert!(waited > Duration::from_secs(600), "{waited:?}");
    }

    #[test]
    fn links_are_symmetric() {
        let links = Links::default();
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        links.set_loss(b, a, 0.02);
        assert_eq!(links.loss(a, b), 0.02);
        links.set_loss(a, b, 0.0);
        assert_eq!(links.loss(b, a), 0.0);
    }
}
