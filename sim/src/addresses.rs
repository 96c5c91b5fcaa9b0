//! Which host owns which address in the simulated world.
//!
//! A turmoil host has one address, and turmoil delivers a connection to
//! the host of that address. The table adds the addresses that can move:
//! a virtual address (a VIP) is owned by one host at a time, and a
//! connection to it goes to its owner's own address. Every connect of the
//! world goes through [`Addresses::route`] (the engines' seam, the
//! clients' dialer); a listen asks [`Addresses::bindable`]. A host's own
//! address never moves.

use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};

/// The world's address table, shared by the driver, which moves
/// addresses, and every host's seam, which reads it.
#[derive(Debug, Clone, Default)]
pub struct Addresses {
    /// Address → the own address of the host that owns it. A host owns
    /// its own address (an entry to itself).
    owners: Arc<Mutex<BTreeMap<IpAddr, IpAddr>>>,
}

impl Addresses {
    /// `host` is a host of the world, owning its own address.
    pub fn add_host(&self, host: IpAddr) {
        self.owners
            .lock()
            .expect("addresses lock")
            .insert(host, host);
    }

    /// The own address of the host that owns `addr`, if any does.
    pub fn owner(&self, addr: IpAddr) -> Option<IpAddr> {
        self.owners
            .lock()
            .expect("addresses lock")
            .get(&addr)
            .copied()
    }

    /// Gives the virtual address `addr` to `host` (a host of the world),
    /// taking it from its owner if it had one: a VIP failing over.
    /// Returns the previous owner. Refused (InvalidInput): a `host` that
    /// is not a host of the world, an `addr` that is a host's own.
    pub fn move_to(&self, addr: IpAddr, host: IpAddr) -> io::Result<Option<IpAddr>> {
        let mut owners = self.owners.lock().expect("addresses lock");
        let is_host = |a: &IpAddr| owners.get(a) == Some(a);
        if !is_host(&host) {
            return Err(invalid(format!("{host} is not a host of the world")));
        }
        if is_host(&addr) {
            return Err(invalid(format!("{addr} is a host's own address")));
        }
        Ok(owners.insert(addr, host))
    }

    /// Where a connection to `to` goes: to the own address of its owner,
    /// at the same port; an address nobody owns goes as it is (turmoil
    /// refuses it).
    pub fn route(&self, to: SocketAddr) -> SocketAddr {
        match self.owner(to.ip()) {
            Some(host) => SocketAddr::new(host, to.port()),
            None => to,
        }
    }

    /// What a host binds to listen on `addr`: loopback and the wildcard as
    /// they are; any other address as the host's wildcard at its port. A
    /// host may listen on an address it does not own (yet), as a VIP's
    /// standby does (Linux's `ip_nonlocal_bind`): the table, not the
    /// socket, decides which host a connection reaches.
    pub fn bindable(&self, addr: SocketAddr) -> SocketAddr {
        if addr.ip().is_loopback() || addr.ip().is_unspecified() {
            return addr;
        }
        let wildcard = match addr.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        SocketAddr::new(wildcard, addr.port())
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_virtual_address_moves_between_hosts_and_connects_follow() {
        let table = Addresses::default();
        let (a, b, vip) = (ip("10.0.0.1"), ip("10.0.0.2"), ip("10.0.0.100"));
        table.add_host(a);
        table.add_host(b);
        // Hosts are their own addresses; an unknown address goes as is.
        assert_eq!(
            table.route("10.0.0.2:80".parse().unwrap()),
            "10.0.0.2:80".parse().unwrap()
        );
        assert_eq!(table.owner(vip), None);
        let to_vip: SocketAddr = "10.0.0.100:80".parse().unwrap();
        assert_eq!(table.route(to_vip), to_vip);

        assert_eq!(table.move_to(vip, a).unwrap(), None);
        assert_eq!(table.route(to_vip), "10.0.0.1:80".parse().unwrap());
        assert_eq!(table.move_to(vip, b).unwrap(), Some(a));
        assert_eq!(table.owner(vip), Some(b));
        assert_eq!(table.route(to_vip), "10.0.0.2:80".parse().unwrap());
    }

    #[test]
    fn own_addresses_do_not_move_and_only_hosts_own() {
        let table = Addresses::default();
        let (a, b) = (ip("10.0.0.1"), ip("10.0.0.2"));
        table.add_host(a);
        table.add_host(b);
        let refused = table.move_to(a, b).unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::InvalidInput);
        assert!(table.move_to(ip("10.0.0.100"), ip("10.0.0.9")).is_err());
        assert_eq!(table.owner(a), Some(a));
    }

    #[test]
    fn a_host_binds_its_wildcard_for_any_address() {
        let table = Addresses::default();
        let bound = |s: &str| table.bindable(s.parse().unwrap()).to_string();
        assert_eq!(bound("10.0.0.100:80"), "0.0.0.0:80");
        assert_eq!(bound("127.0.0.1:80"), "127.0.0.1:80");
        assert_eq!(bound("[2001:db8::1]:80"), "[::]:80");
    }
}
