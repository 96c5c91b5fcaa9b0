//! What a TCP stream leaves in the log, and `option tcplog`'s line:
//!
//! `%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq`
//!
//! e.g. `127.0.0.1:51416 [25/Nov/2026:06:40:20.357] app app/s1 1/0/0 2 -- 1/1/0/0/0 0/0`.
//! The timers follow HAProxy's arithmetic to the letter: in TCP mode no
//! request is ever "complete", so its time is -1 and `%Tw` comes out one
//! more than the queue time (a quick connection logs `1/0/0`).

use std::net::SocketAddr;

use super::render::Timers;

/// The first letter of the termination state: who or what ended it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// `-`: normal end.
    None,
    /// `C`: the client aborted.
    ClientAbort,
    /// `S`: the server aborted, refused, or none could be reached.
    ServerAbort,
    /// `c`: the client-side timeout struck.
    ClientTimeout,
    /// `s`: the server-side timeout struck (or the queue timeout).
    ServerTimeout,
    /// `P`: the proxy ended it (e.g. no backend).
    Proxy,
    /// `L`: the proxy answered itself (a redirect).
    Local,
    /// `K`: killed (shutdown sessions, hard stop).
    Killed,
    /// `D`: cut because its server went DOWN (`on-marked-down
    /// shutdown-sessions`).
    ServerDown,
    /// `U`: cut because an active server came UP (`on-marked-up
    /// shutdown-backup-sessions`).
    ServerUp,
}

/// The second letter: which phase the stream was in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// `-`: normal end.
    None,
    /// `R`: waiting for the client's request (HTTP).
    Request,
    /// `Q`: waiting in a queue.
    Queue,
    /// `C`: connecting to a server.
    Connect,
    /// `H`: waiting for the server's response headers (HTTP).
    Headers,
    /// `D`: forwarding data.
    Data,
}

impl Cause {
    pub fn letter(self) -> char {
        match self {
            Cause::None => '-',
            Cause::ClientAbort => 'C',
            Cause::ServerAbort => 'S',
            Cause::ClientTimeout => 'c',
            Cause::ServerTimeout => 's',
            Cause::Proxy => 'P',
            Cause::Local => 'L',
            Cause::Killed => 'K',
            Cause::ServerDown => 'D',
            Cause::ServerUp => 'U',
        }
    }
}

impl Phase {
    pub fn letter(self) -> char {
        match self {
            Phase::None => '-',
            Phase::Request => 'R',
            Phase::Headers => 'H',
            Phase::Queue => 'Q',
            Phase::Connect => 'C',
            Phase::Data => 'D',
        }
    }
}

/// HAProxy's tcp-mode timers from milliseconds since accept: leaving the
/// queue (a server assigned), the server connected, the end. There is no
/// request phase (-1), so `%Tw` is one more than the queue time.
pub fn timers(queue: Option<u64>, connect: Option<u64>, close: u64) -> Timers {
    let queue = queue.map(|q| q as i64);
    let connect = connect.map(|c| c as i64);
    let total = close as i64;
    Timers {
        handshake: 0,
        idle: -1,
        request: -1,
        request_total: -1,
        wait: queue.map_or(-1, |q| q + 1),
        connect: match (connect, queue) {
            (Some(c), Some(q)) => c - q,
            _ => -1,
        },
        response: -1,
        data: connect.map_or(-1, |c| total - c),
        active: total,
        total,
        user: total,
    }
}

/// The line HAProxy logs at accept when no log format is set; `mode` is
/// `TCP` or `HTTP`.
pub fn connect_line(
    client: Option<SocketAddr>,
    local: Option<SocketAddr>,
    frontend: &str,
    mode: &str,
) -> String {
    match (client, local) {
        (Some(c), Some(l)) => format!(
            "Connect from {}:{} to {}:{} ({frontend}/{mode})",
            c.ip(),
            c.port(),
            l.ip(),
            l.port()
        ),
        _ => format!("Connect to unix:1 ({frontend}/{mode})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::format::{self, LogFormat};
    use crate::log::render::{Fields, NO_SERVER};
    use std::time::{Duration, SystemTime};

    fn quick() -> Fields {
        // 2026-11-25 06:40:20.357 UTC
        let date = SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_588_820_357);
        Fields {
            client: Some("127.0.0.1:51416".parse().unwrap()),
            frontend_addr: "127.0.0.1:18802".parse().ok(),
            server_addr: "127.0.0.1:8000".parse().ok(),
            accept_date: date,
            request_date: date,
            frontend: "app".into(),
            backend: "app".into(),
            server: "s1".into(),
            timers: timers(Some(0), Some(0), 0),
            status: 0,
            bytes_out: 2,
            bytes_in: 0,
            cause: Cause::None,
            phase: Phase::None,
            cookie: ['-', '-'],
            actconn: 1,
            feconn: 1,
            beconn: 0,
            srv_conn: 0,
            retries: 0,
            redispatched: false,
            srv_queue: 0,
            backend_queue: 0,
            request_line: None,
            pid: 1,
        }
    }

    fn tcplog(f: &Fields) -> String {
        LogFormat::builtin(format::TCPLOG, false).render(f)
    }

    /// Lines captured from HAProxy 2.6.12's syslog output.
    #[test]
    fn same_lines_as_haproxy() {
        assert_eq!(
            tcplog(&quick()),
            "127.0.0.1:51416 [25/Nov/2026:06:40:20.357] app app/s1 1/0/0 2 -- 1/1/0/0/0 0/0"
        );
        let refused = Fields {
            server: "s2".into(),
            timers: timers(Some(0), None, 3003),
            bytes_out: 0,
            cause: Cause::ServerAbort,
            phase: Phase::Connect,
            retries: 3,
            ..quick()
        };
        assert!(tcplog(&refused).ends_with("app app/s2 1/-1/3003 0 SC 1/1/0/0/3 0/0"));
    }

    #[test]
    fn no_server_and_redispatch() {
        let l = Fields {
            server: NO_SERVER.into(),
            timers: timers(None, None, 0),
            retries: 2,
            redispatched: true,
            ..quick()
        };
        assert!(tcplog(&l).contains("app/<NOSRV> -1/-1/0 2 -- 1/1/0/0/+2 0/0"));
    }

    #[test]
    fn connect_lines() {
        let c = "127.0.0.1:35274".parse().ok();
        let l = "127.0.0.1:18802".parse().ok();
        assert_eq!(
            connect_line(c, l, "app", "TCP"),
            "Connect from 127.0.0.1:35274 to 127.0.0.1:18802 (app/TCP)"
        );
    }
}
