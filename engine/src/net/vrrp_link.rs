#![allow(clippy::disallowed_types)] // part of the production seam: it names sockets
//! VRRP advertisements over real IPv4 (IP protocol 112): a raw socket on
//! one interface, sending to 224.0.0.18 (or to unicast peers) with a TTL
//! of 255, and receiving what arrives with a TTL of 255 only (RFC 5798
//! §7.1: anything that crossed a router is dropped).

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use crate::net::BoxFuture;
use crate::vrrp::packet::{Advert, GROUP_V4, PROTOCOL, TTL};
use crate::vrrp::Link;

/// A raw IPv4 VRRP socket bound to an interface.
pub struct RawLink {
    /// The raw socket, driven through tokio's datagram type (recvfrom and
    /// sendto are the same calls for a raw socket).
    socket: tokio::net::UdpSocket,
    /// This node's primary address on the interface: the advertisements'
    /// source (the pseudo-header needs it), and how its own are known.
    pub primary: Ipv4Addr,
    /// Unicast peers; none: the multicast group.
    peers: Vec<Ipv4Addr>,
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn set_int(
    fd: libc::c_int,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: setsockopt with an int of the size given.
    check(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    })
}

/// An IPPROTO_IP option that takes an ip_mreqn (the group joined, the
/// interface multicast leaves by).
fn set_mreq(fd: libc::c_int, name: libc::c_int, mreq: &libc::ip_mreqn) -> io::Result<()> {
    // SAFETY: setsockopt with an ip_mreqn of the size given.
    check(unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_IP,
            name,
            (mreq as *const libc::ip_mreqn).cast(),
            std::mem::size_of::<libc::ip_mreqn>() as libc::socklen_t,
        )
    })
}

/// The first IPv4 address of `interface`.
pub fn interface_address(interface: &str) -> io::Result<Ipv4Addr> {
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list`, freed below.
    check(unsafe { libc::getifaddrs(&mut list) })?;
    let mut found = None;
    let mut cur = list;
    while !cur.is_null() {
        // SAFETY: a node of the list getifaddrs built.
        let ifa = unsafe { &*cur };
        // SAFETY: ifa_name is a NUL-terminated string of the list.
        let name = unsafe { std::ffi::CStr::from_ptr(ifa.ifa_name) };
        if name.to_bytes() == interface.as_bytes() && !ifa.ifa_addr.is_null() {
            // SAFETY: ifa_addr points at a sockaddr of the node.
            let family = unsafe { (*ifa.ifa_addr).sa_family };
            if i32::from(family) == libc::AF_INET {
                // SAFETY: an AF_INET address is a sockaddr_in.
                let sin = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in) };
                found = Some(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)));
                break;
            }
        }
        cur = ifa.ifa_next;
    }
    // SAFETY: the list getifaddrs returned.
    unsafe { libc::freeifaddrs(list) };
    found.ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("no IPv4 address on interface '{interface}'"),
        )
    })
}

impl RawLink {
    /// Opens the socket on `interface` (it needs CAP_NET_RAW). Must be
    /// called inside a tokio runtime.
    pub fn open(interface: &str, peers: &[Ipv4Addr]) -> io::Result<RawLink> {
        let primary = interface_address(interface)?;
        // SAFETY: socket(2); the descriptor is owned at once.
        let fd = unsafe {
            libc::socket(
                libc::AF_INET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                i32::from(PROTOCOL),
            )
        };
        check(fd)?;
        // SAFETY: a descriptor just created.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        let name = std::ffi::CString::new(interface)
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: SO_BINDTODEVICE with the interface's name and length.
        check(unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_BINDTODEVICE,
                name.as_ptr().cast(),
                name.as_bytes().len() as libc::socklen_t,
            )
        })?;
        set_int(fd, libc::IPPROTO_IP, libc::IP_TTL, i32::from(TTL))?;
        set_int(fd, libc::IPPROTO_IP, libc::IP_MULTICAST_TTL, i32::from(TTL))?;
        set_int(fd, libc::IPPROTO_IP, libc::IP_MULTICAST_LOOP, 0)?;
        // SAFETY: if_nametoindex on a NUL-terminated name.
        let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
        if index == 0 {
            return Err(io::Error::last_os_error());
        }
        let mreq = libc::ip_mreqn {
            imr_multiaddr: libc::in_addr {
                s_addr: u32::from(GROUP_V4).to_be(),
            },
            imr_address: libc::in_addr {
                s_addr: u32::from(primary).to_be(),
            },
            imr_ifindex: index as libc::c_int,
        };
        set_mreq(fd, libc::IP_ADD_MEMBERSHIP, &mreq)?;
        set_mreq(fd, libc::IP_MULTICAST_IF, &mreq)?;
        let std = std::net::UdpSocket::from(owned);
        std.set_nonblocking(true)?;
        Ok(RawLink {
            socket: tokio::net::UdpSocket::from_std(std)?,
            primary,
            peers: peers.to_vec(),
        })
    }
}

/// The advertisement in one received IPv4 packet, if it is one to act on
/// (TTL 255, protocol 112, not our own).
fn read_packet(packet: &[u8], ours: Ipv4Addr) -> Option<(IpAddr, Advert)> {
    let first = *packet.first()?;
    if first >> 4 != 4 {
        return None;
    }
    let header = usize::from(first & 0x0f) * 4;
    if header < 20 || packet.len() < header {
        return None;
    }
    let ttl = packet[8];
    if ttl != TTL || packet[9] != PROTOCOL {
        return None;
    }
    let src = Ipv4Addr::new(packet[12], packet[13], packet[14], packet[15]);
    let dst = Ipv4Addr::new(packet[16], packet[17], packet[18], packet[19]);
    if src == ours {
        return None;
    }
    let advert = Advert::decode(&packet[header..], IpAddr::V4(src), IpAddr::V4(dst)).ok()?;
    Some((IpAddr::V4(src), advert))
}

impl Link for RawLink {
    fn send<'a>(&'a self, advert: &'a Advert) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            let targets: Vec<Ipv4Addr> = if self.peers.is_empty() {
                vec![GROUP_V4]
            } else {
                self.peers.clone()
            };
            for to in targets {
                let bytes = advert.encode(IpAddr::V4(self.primary), IpAddr::V4(to));
                self.socket
                    .send_to(&bytes, SocketAddr::new(IpAddr::V4(to), 0))
                    .await?;
            }
            Ok(())
        })
    }

    fn recv(&self) -> BoxFuture<'_, io::Result<(IpAddr, Advert)>> {
        Box::pin(async move {
            let mut buf = vec![0u8; 2048];
            loop {
                let (n, _) = self.socket.recv_from(&mut buf).await?;
                if let Some(got) = read_packet(&buf[..n], self.primary) {
                    return Ok(got);
                }
            }
        })
    }
}

impl AsRawFd for RawLink {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.socket.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The packet keepalived 2.2.7 sent, IP header included, as tcpdump
    /// showed it.
    const KEEPALIVED: [u8; 32] = [
        0x45, 0xc0, 0x00, 0x20, 0x00, 0x01, 0x00, 0x00, 0xff, 0x70, 0x0f, 0xe7, 0xc0, 0xa8, 0x0a,
        0x0b, 0xe0, 0x00, 0x00, 0x12, 0x31, 0x33, 0x64, 0x01, 0x00, 0x64, 0xf4, 0x17, 0xc0, 0xa8,
        0x0a, 0x64,
    ];

    #[test]
    fn packets_are_read_as_rfc_5798_says() {
        let me = Ipv4Addr::new(192, 168, 10, 12);
        let (from, advert) = read_packet(&KEEPALIVED, me).unwrap();
        assert_eq!(from, IpAddr::from([192, 168, 10, 11]));
        assert_eq!((advert.vrid, advert.priority), (51, 100));
        // Our own, one that crossed a router, one of another protocol.
        assert!(read_packet(&KEEPALIVED, Ipv4Addr::new(192, 168, 10, 11)).is_none());
        let mut routed = KEEPALIVED;
        routed[8] = 254;
        assert!(read_packet(&routed, me).is_none());
        let mut other = KEEPALIVED;
        other[9] = 6;
        assert!(read_packet(&other, me).is_none());
        assert!(read_packet(&KEEPALIVED[..10], me).is_none());
    }
}
