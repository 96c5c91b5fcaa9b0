//! The RDP cookie: what a Remote Desktop client sends first, read as
//! HAProxy's fetch_rdp_cookie_name reads it, for `balance rdp-cookie` and
//! the `req.rdp_cookie` fetches.
//!
//! The connection request starts with an 11-byte header (TPKT and X.224),
//! then `Cookie: <name>=<value>\r\n`. HAProxy looks nowhere else: the
//! cookie line must come right after those 11 bytes.

/// What the buffered bytes say about the cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cookie<'a> {
    /// The value, up to the CRLF.
    Found(&'a [u8]),
    /// Too few bytes yet to tell (more may come).
    TooShort,
    /// Not the named cookie, or no cookie line at all.
    Absent,
}

/// The cookie `name` (any cookie when `name` is empty) in `data`.
pub fn cookie<'a>(data: &'a [u8], name: &str) -> Cookie<'a> {
    let name = name.as_bytes();
    if data.len() <= 11 {
        return Cookie::TooShort;
    }
    let mut rest = &data[11..];
    if rest.len() <= 7 {
        return Cookie::TooShort;
    }
    if !rest[..7].eq_ignore_ascii_case(b"Cookie:") {
        return Cookie::Absent;
    }
    rest = &rest[7..];
    while let [b' ', tail @ ..] = rest {
        rest = tail;
    }
    if name.is_empty() {
        match rest.iter().position(|&c| matches!(c, b'=' | b'\r' | b'\n')) {
            None => return Cookie::TooShort,
            Some(i) if rest[i] != b'=' => return Cookie::Absent,
            Some(i) => rest = &rest[i + 1..],
        }
    } else {
        if rest.len() <= name.len() {
            return Cookie::TooShort;
        }
        if rest[name.len()] != b'=' || !rest[..name.len()].eq_ignore_ascii_case(name) {
            return Cookie::Absent;
        }
        rest = &rest[name.len() + 1..];
    }
    let end = rest.iter().position(|&c| c == b'\r').unwrap_or(rest.len());
    match rest.get(end..end + 2) {
        Some(b"\r\n") => Cookie::Found(&rest[..end]),
        Some(_) => Cookie::Absent,
        None => Cookie::TooShort,
    }
}

/// The server address a load-balancing cookie (`msts=<addr>.<port>.<x>`)
/// names: both numbers are the network-order bytes read as a
/// little-endian integer, as Windows writes them and as HAProxy compares
/// them on x86. None when the value is not in that form.
pub fn server_address(value: &[u8]) -> Option<(std::net::Ipv4Addr, u16)> {
    let (addr, rest) = decimal(value)?;
    let rest = rest.strip_prefix(b".")?;
    let (port, rest) = decimal(rest)?;
    rest.strip_prefix(b".")?;
    // strtoul's result, cut to the widths HAProxy stores it in.
    let ip = std::net::Ipv4Addr::from((addr as u32).to_le_bytes());
    Some((ip, (port as u16).swap_bytes()))
}

/// strtoul in base 10: leading blanks, an optional sign, digits
/// (saturating); None without a digit.
fn decimal(s: &[u8]) -> Option<(u64, &[u8])> {
    let s = s.trim_ascii_start();
    let (negative, s) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let n = s[..digits].iter().fold(0u64, |n, &d| {
        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    });
    Some((if negative { n.wrapping_neg() } else { n }, &s[digits..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(line: &str) -> Vec<u8> {
        let mut v = b"\x03\x00\x00\x2a\x25\xe0\x00\x00\x00\x00\x00".to_vec();
        v.extend_from_slice(line.as_bytes());
        v
    }

    #[test]
    fn the_cookie_follows_the_eleven_byte_header() {
        let r = request("Cookie: mstshash=alice\r\n\x01\x00");
        assert_eq!(cookie(&r, "mstshash"), Cookie::Found(b"alice"));
        assert_eq!(cookie(&r, "MSTSHASH"), Cookie::Found(b"alice"));
        assert_eq!(cookie(&r, ""), Cookie::Found(b"alice"));
        assert_eq!(cookie(&r, "msts"), Cookie::Absent);
    }

    #[test]
    fn partial_data_may_still_become_a_cookie() {
        let r = request("Cookie: mstshash=alice\r\n");
        for cut in [5, 11, 18, 25, r.len() - 1] {
            assert_eq!(
                cookie(&r[..cut], "mstshash"),
                Cookie::TooShort,
                "cut at {cut}"
            );
        }
        assert_eq!(cookie(&r, "mstshash"), Cookie::Found(b"alice"));
    }

    #[test]
    fn the_msts_cookie_encodes_an_address_and_a_port() {
        // 10.0.0.41:3389, as Windows encodes it.
        let addr = u32::from_le_bytes([10, 0, 0, 41]);
        let port = 3389u16.swap_bytes();
        let value = format!("{addr}.{port}.0000");
        assert_eq!(
            server_address(value.as_bytes()),
            Some(("10.0.0.41".parse().unwrap(), 3389))
        );
        assert_eq!(server_address(b"123"), None);
        assert_eq!(server_address(b"1.2"), None);
        assert_eq!(server_address(b"x.2.3"), None);
    }

    #[test]
    fn anything_else_is_no_cookie() {
        assert_eq!(cookie(&request("GET / HTTP/1.1\r\n"), ""), Cookie::Absent);
        assert_eq!(
            cookie(&request("Cookie: mstshash=a\rX"), "mstshash"),
            Cookie::Absent
        );
        assert_eq!(cookie(&request("Cookie: x\r\n"), ""), Cookie::Absent);
    }
}
