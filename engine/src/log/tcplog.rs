//! What a TCP stream leaves in the log, and `option tcplog`'s line:
//!
//! `%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq`
//!
//! e.g. `127.0.0.1:51416 [25/Nov/2026:06:40:20.357] app app/s1 1/0/0 2 -- 1/1/0/0/0 0/0`.
//! The timers follow HAProxy's arithmetic to the letter: in TCP mode no
//! request is ever "complete", so its time is -1 and `%Tw` comes out one
//! more than the queue time (a quick connection logs `1/0/0`).

use std::net::SocketAddr;
use std::time::SystemTime;

use std::sync::LazyLock;

use super::format::{self, LogFormat};
use super::render::{Fields, Timers};

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

/// Everything a TCP stream's log line says, gathered during its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamLog {
    /// The client; None for a unix socket.
    pub client: Option<SocketAddr>,
    /// `%fi:%fp`: where the client connected.
    pub frontend_addr: Option<SocketAddr>,
    /// `%si:%sp`: the server connected to.
    pub server_addr: Option<SocketAddr>,
    pub accept_date: SystemTime,
    pub frontend: String,
    pub backend: String,
    /// None: no server was assigned (`<NOSRV>`).
    pub server: Option<String>,
    /// Milliseconds from accept to leaving the queue (server assigned).
    pub t_queue_ms: Option<u64>,
    /// Milliseconds from accept to the server connection being established.
    pub t_connect_ms: Option<u64>,
    /// Milliseconds from accept to the end.
    pub t_close_ms: u64,
    /// Bytes sent to the client (`%B`).
    pub bytes_out: u64,
    /// Bytes received from the client (`%U`; `option dontlognull` tests it).
    pub bytes_in: u64,
    pub cause: Cause,
    pub phase: Phase,
    /// Concurrent connections of the process, the frontend, the backend and
    /// the server at the time of logging.
    pub actconn: usize,
    pub feconn: usize,
    pub beconn: usize,
    pub srv_conn: usize,
    /// Connection retries, and whether the last one was redispatched.
    pub retries: u32,
    pub redispatched: bool,
    /// Queue lengths met when queued (0 when never queued).
    pub srv_queue: usize,
    pub backend_queue: usize,
    pub pid: u32,
}

impl StreamLog {
    /// The values a log format shows, with HAProxy's tcp-mode timers: no
    /// request phase (-1), so `%Tw` is one more than the queue time.
    pub fn fields(&self) -> Fields {
        let queue = self.t_queue_ms.map(|q| q as i64);
        let connect = self.t_connect_ms.map(|c| c as i64);
        let total = self.t_close_ms as i64;
        Fields {
            client: self.client,
            frontend_addr: self.frontend_addr,
            server_addr: self.server_addr,
            accept_date: self.accept_date,
            request_date: self.accept_date,
            frontend: self.frontend.clone(),
            backend: self.backend.clone(),
            server: self.server.clone().unwrap_or_else(|| "<NOSRV>".to_string()),
            timers: Timers {
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
            },
            status: 0,
            bytes_out: self.bytes_out,
            bytes_in: self.bytes_in,
            cause: self.cause,
            phase: self.phase,
            cookie: ['-', '-'],
            actconn: self.actconn,
            feconn: self.feconn,
            beconn: self.beconn,
            srv_conn: self.srv_conn,
            retries: self.retries,
            redispatched: self.redispatched,
            srv_queue: self.srv_queue,
            backend_queue: self.backend_queue,
            request_line: None,
            pid: self.pid,
        }
    }

    /// The `option tcplog` line.
    pub fn tcplog(&self) -> String {
        static TCPLOG: LazyLock<LogFormat> =
            LazyLock::new(|| LogFormat::builtin(format::TCPLOG, false));
        TCPLOG.render(&self.fields())
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
    use std::time::Duration;

    fn quick() -> StreamLog {
        StreamLog {
            client: Some("127.0.0.1:51416".parse().unwrap()),
            frontend_addr: "127.0.0.1:18802".parse().ok(),
            server_addr: "127.0.0.1:8000".parse().ok(),
            // 2026-11-25 06:40:20.357 UTC
            accept_date: SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_588_820_357),
            frontend: "app".into(),
            backend: "app".into(),
            server: Some("s1".into()),
            t_queue_ms: Some(0),
            t_connect_ms: Some(0),
            t_close_ms: 0,
            bytes_out: 2,
            bytes_in: 0,
            cause: Cause::None,
            phase: Phase::None,
            actconn: 1,
            feconn: 1,
            beconn: 0,
            srv_conn: 0,
            retries: 0,
            redispatched: false,
            srv_queue: 0,
            backend_queue: 0,
            pid: 1,
        }
    }

    /// Lines captured from HAProxy 2.6.12's syslog output.
    #[test]
    fn same_lines_as_haproxy() {
        assert_eq!(
            quick().tcplog(),
            "127.0.0.1:51416 [25/Nov/2026:06:40:20.357] app app/s1 1/0/0 2 -- 1/1/0/0/0 0/0"
        );
        let refused = StreamLog {
            server: Some("s2".into()),
            t_connect_ms: None,
            t_close_ms: 3003,
            bytes_out: 0,
            cause: Cause::ServerAbort,
            phase: Phase::Connect,
            retries: 3,
            ..quick()
        };
        assert!(refused
            .tcplog()
            .ends_with("app app/s2 1/-1/3003 0 SC 1/1/0/0/3 0/0"));
    }

    #[test]
    fn no_server_and_redispatch() {
        let l = StreamLog {
            server: None,
            t_queue_ms: None,
            t_connect_ms: None,
            retries: 2,
            redispatched: true,
            ..quick()
        };
        assert!(l
            .tcplog()
            .contains("app/<NOSRV> -1/-1/0 2 -- 1/1/0/0/+2 0/0"));
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
