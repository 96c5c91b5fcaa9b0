//! VRRPv3 advertisements on the wire (RFC 5798 §5): what follows the IP
//! header of a packet of IP protocol 112, sent to 224.0.0.18 (or
//! ff02::12) with a TTL (hop limit) of 255.
//!
//! ```text
//!  0                   1                   2                   3
//! |Version| Type  | Virtual Rtr ID|   Priority    |Count IPvX Addr|
//! |(rsvd) |     Max Adver Int     |          Checksum             |
//! |                       IPvX Address(es)                        |
//! ```
//!
//! The checksum covers the message and a pseudo-header (source,
//! destination, protocol 112, length), for IPv4 as for IPv6, as RFC 5798
//! §5.2.8 says and keepalived computes it.

use std::net::IpAddr;
use std::time::Duration;

/// IP protocol number of VRRP.
pub const PROTOCOL: u8 = 112;
/// The multicast groups advertisements go to.
pub const GROUP_V4: std::net::Ipv4Addr = std::net::Ipv4Addr::new(224, 0, 0, 18);
pub const GROUP_V6: std::net::Ipv6Addr = std::net::Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
/// The TTL or hop limit an advertisement is sent with, and must arrive
/// with (one that crossed a router is dropped).
pub const TTL: u8 = 255;

const VERSION: u8 = 3;
const TYPE_ADVERTISEMENT: u8 = 1;
/// Max Adver Int is 12 bits of centiseconds.
const MAX_INTERVAL_CS: u16 = 0x0fff;

/// One advertisement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advert {
    /// Virtual router id, 1 to 255.
    pub vrid: u8,
    /// 0: the master is leaving; 255: the owner of the addresses.
    pub priority: u8,
    /// The sender's advertisement interval, in centiseconds.
    pub interval_cs: u16,
    /// The virtual addresses, all of one family.
    pub addrs: Vec<IpAddr>,
}

/// Why a received packet is not an advertisement to act on (RFC 5798
/// §7.1: each is dropped, and counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Shorter than its header or than its addresses.
    Truncated,
    /// Not version 3.
    Version,
    /// Not an advertisement.
    Type,
    /// The checksum does not add up.
    Checksum,
    /// Virtual router id 0.
    Vrid,
    /// Addresses of the other family than the packet's, or a length
    /// that is not the count's.
    Addresses,
}

impl Advert {
    /// The interval as a duration.
    pub fn interval(&self) -> Duration {
        Duration::from_millis(u64::from(self.interval_cs) * 10)
    }

    /// The message as sent from `src` to `dst` (the checksum depends on
    /// both). Addresses of `src`'s family only.
    pub fn encode(&self, src: IpAddr, dst: IpAddr) -> Vec<u8> {
        let addrs: Vec<&IpAddr> = self
            .addrs
            .iter()
            .filter(|a| a.is_ipv4() == src.is_ipv4())
            .collect();
        let mut out = vec![
            (VERSION << 4) | TYPE_ADVERTISEMENT,
            self.vrid,
            self.priority,
            u8::try_from(addrs.len()).unwrap_or(u8::MAX),
        ];
        out.extend_from_slice(&(self.interval_cs & MAX_INTERVAL_CS).to_be_bytes());
        out.extend_from_slice(&[0, 0]);
        for a in addrs.iter().take(usize::from(u8::MAX)) {
            match a {
                IpAddr::V4(v4) => out.extend_from_slice(&v4.octets()),
                IpAddr::V6(v6) => out.extend_from_slice(&v6.octets()),
            }
        }
        let sum = checksum(&out, src, dst);
        out[6..8].copy_from_slice(&sum.to_be_bytes());
        out
    }

    /// Reads a message that came from `src` to `dst`.
    pub fn decode(bytes: &[u8], src: IpAddr, dst: IpAddr) -> Result<Advert, Refused> {
        if bytes.len() < 8 {
            return Err(Refused::Truncated);
        }
        if bytes[0] >> 4 != VERSION {
            return Err(Refused::Version);
        }
        if bytes[0] & 0x0f != TYPE_ADVERTISEMENT {
            return Err(Refused::Type);
        }
        let count = usize::from(bytes[3]);
        let width = if src.is_ipv4() { 4 } else { 16 };
        if bytes.len() < 8 + count * width {
            return Err(Refused::Truncated);
        }
        if bytes.len() != 8 + count * width || count == 0 {
            return Err(Refused::Addresses);
        }
        if checksum(bytes, src, dst) != 0 {
            return Err(Refused::Checksum);
        }
        if bytes[1] == 0 {
            return Err(Refused::Vrid);
        }
        let addrs = bytes[8..]
            .chunks(width)
            .map(|c| match width {
                4 => IpAddr::from(<[u8; 4]>::try_from(c).expect("4 bytes")),
                _ => IpAddr::from(<[u8; 16]>::try_from(c).expect("16 bytes")),
            })
            .collect();
        Ok(Advert {
            vrid: bytes[1],
            priority: bytes[2],
            interval_cs: u16::from_be_bytes([bytes[4], bytes[5]]) & MAX_INTERVAL_CS,
            addrs,
        })
    }
}

/// The internet checksum of `message` behind the pseudo-header of an IP
/// packet from `src` to `dst` carrying it: 0 when a received message's
/// checksum is right.
fn checksum(message: &[u8], src: IpAddr, dst: IpAddr) -> u16 {
    let mut pseudo = vec![];
    let len = message.len();
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            pseudo.extend_from_slice(&s.octets());
            pseudo.extend_from_slice(&d.octets());
            pseudo.extend_from_slice(&[0, PROTOCOL]);
            pseudo.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            let six = |a: IpAddr| match a {
                IpAddr::V6(v6) => v6.octets(),
                IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
            };
            pseudo.extend_from_slice(&six(src));
            pseudo.extend_from_slice(&six(dst));
            pseudo.extend_from_slice(&(len as u32).to_be_bytes());
            pseudo.extend_from_slice(&[0, 0, 0, PROTOCOL]);
        }
    }
    let mut sum: u32 = 0;
    for chunk in pseudo.chunks(2).chain(message.chunks(2)) {
        let word = match chunk {
            [a, b] => u16::from_be_bytes([*a, *b]),
            [a] => u16::from_be_bytes([*a, 0]),
            _ => 0,
        };
        sum += u32::from(word);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// An advertisement keepalived 2.2.7 sent (`vrrp_version 3`, vrid 51,
    /// priority 100, `advert_int 1`, 192.168.10.100), captured with
    /// tcpdump from 192.168.10.11 to 224.0.0.18: the engine reads it, and
    /// writes the same bytes, checksum included.
    #[test]
    fn keepalived_advertisements_read_and_write_the_same() {
        let captured = [
            0x31, 0x33, 0x64, 0x01, 0x00, 0x64, 0xf4, 0x17, 0xc0, 0xa8, 0x0a, 0x64,
        ];
        let (src, dst) = (v4("192.168.10.11"), IpAddr::V4(GROUP_V4));
        let advert = Advert {
            vrid: 51,
            priority: 100,
            interval_cs: 100,
            addrs: vec![v4("192.168.10.100")],
        };
        assert_eq!(Advert::decode(&captured, src, dst), Ok(advert.clone()));
        assert_eq!(advert.encode(src, dst), captured);
    }

    #[test]
    fn every_damage_is_refused() {
        let advert = Advert {
            vrid: 7,
            priority: 0,
            interval_cs: 25,
            addrs: vec![v4("10.0.0.1"), v4("10.0.0.2")],
        };
        let (src, dst) = (v4("10.0.0.11"), IpAddr::V4(GROUP_V4));
        let wire = advert.encode(src, dst);
        assert_eq!(Advert::decode(&wire, src, dst), Ok(advert.clone()));
        // From another address: the pseudo-header no longer adds up.
        assert_eq!(
            Advert::decode(&wire, v4("10.0.0.12"), dst),
            Err(Refused::Checksum)
        );
        let mut flipped = wire.clone();
        flipped[2] ^= 1;
        assert_eq!(Advert::decode(&flipped, src, dst), Err(Refused::Checksum));
        let mut v2 = wire.clone();
        v2[0] = 0x21;
        assert_eq!(Advert::decode(&v2, src, dst), Err(Refused::Version));
        assert_eq!(
            Advert::decode(&wire[..7], src, dst),
            Err(Refused::Truncated)
        );
        assert_eq!(
            Advert::decode(&wire[..12], src, dst),
            Err(Refused::Truncated)
        );
        let mut longer = wire.clone();
        longer.push(0);
        assert_eq!(Advert::decode(&longer, src, dst), Err(Refused::Addresses));
    }

    #[test]
    fn ipv6_advertisements_use_the_ipv6_pseudo_header() {
        let advert = Advert {
            vrid: 1,
            priority: 200,
            interval_cs: 100,
            addrs: vec!["2001:db8::1".parse().unwrap()],
        };
        let src: IpAddr = "fe80::1".parse().unwrap();
        let dst = IpAddr::V6(GROUP_V6);
        let wire = advert.encode(src, dst);
        assert_eq!(wire.len(), 8 + 16);
        assert_eq!(Advert::decode(&wire, src, dst), Ok(advert));
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_decode_without_panicking(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let _ = Advert::decode(&bytes, v4("10.0.0.1"), IpAddr::V4(GROUP_V4));
        }
    }
}
