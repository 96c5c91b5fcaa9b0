//! `option httplog`'s line, as HAProxy 2.6 writes it:
//!
//! `%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r`
//!
//! e.g. `127.0.0.1:44272 [25/Nov/2026:05:17:44.965] fe be/s1 0/0/0/0/0 200 200 - - ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1"`.
//! It is that log-format string, rendered by [`super::render`]: `%hr` and
//! `%hs` (captured headers) print nothing, with their space, when nothing
//! is captured. A timer that did not run is -1.

use std::net::SocketAddr;
use std::time::SystemTime;

use std::sync::LazyLock;

use super::format::{self, LogFormat};
use super::render::{Fields, Timers};
use super::tcplog::{Cause, Phase};

/// What the log shows in place of a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Served {
    /// No server was assigned (`<NOSRV>`).
    None,
    /// An applet answered: `<STATS>` (the statistics page), `<PROMEX>`
    /// (the Prometheus exporter).
    Applet(&'static str),
    Server(String),
}

/// Everything one HTTP request's log line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpLog {
    pub client: Option<SocketAddr>,
    /// `%fi:%fp`: where the client connected.
    pub frontend_addr: Option<SocketAddr>,
    /// `%si:%sp`: the server connected to.
    pub server_addr: Option<SocketAddr>,
    /// `%t`: the stream's start (the connection's accept, or the end of
    /// the previous request on a kept-alive connection).
    pub accept_date: SystemTime,
    /// `%tr`: when the request began (its first byte's arrival).
    pub request_date: SystemTime,
    pub frontend: String,
    pub backend: String,
    pub server: Served,
    /// `%TR`: the request head's arrival, from its first byte.
    pub t_request: i64,
    /// `%Tw`: time in queues.
    pub t_wait: i64,
    /// `%Tc`: time to connect to the server.
    pub t_connect: i64,
    /// `%Tr`: the server's response time, to its headers.
    pub t_response: i64,
    /// `%Ta`: from the request's start to the end of its response.
    pub t_active: i64,
    /// `%Ti`: from the stream's start to the request's first byte.
    pub t_idle: i64,
    /// `%Td`: from the response's headers to its end; -1 without them.
    pub t_data: i64,
    /// `%ST`; -1 when nothing was answered.
    pub status: i32,
    /// `%B`: bytes sent to the client.
    pub bytes_out: u64,
    /// `%U`: bytes received from the client, as HAProxy counts them.
    pub bytes_in: u64,
    pub cause: Cause,
    pub phase: Phase,
    /// The persistence cookie's letters (`%tsc`'s last two), `--` without one.
    pub cookie: [char; 2],
    pub actconn: usize,
    pub feconn: usize,
    pub beconn: usize,
    pub srv_conn: usize,
    pub retries: u32,
    pub redispatched: bool,
    pub srv_queue: usize,
    pub backend_queue: usize,
    /// The request line as received; None for a request that could not be
    /// parsed (`<BADREQ>`).
    pub request_line: Option<Vec<u8>>,
    pub pid: u32,
}

impl HttpLog {
    /// The values a log format shows, with HAProxy's derived timers (no
    /// TLS: the handshake takes 0 ms).
    pub fn fields(&self) -> Fields {
        let t_total = if self.t_active < 0 {
            -1
        } else {
            self.t_active + self.t_idle
        };
        Fields {
            client: self.client,
            frontend_addr: self.frontend_addr,
            server_addr: self.server_addr,
            accept_date: self.accept_date,
            request_date: self.request_date,
            frontend: self.frontend.clone(),
            backend: self.backend.clone(),
            server: match &self.server {
                Served::None => "<NOSRV>".to_string(),
                Served::Applet(name) => name.to_string(),
                Served::Server(s) => s.clone(),
            },
            timers: Timers {
                handshake: 0,
                idle: self.t_idle,
                request: self.t_request,
                request_total: if self.t_request < 0 {
                    -1
                } else {
                    self.t_request + self.t_idle
                },
                wait: self.t_wait,
                connect: self.t_connect,
                response: self.t_response,
                data: self.t_data,
                active: self.t_active,
                total: t_total,
                user: t_total - self.t_idle,
            },
            status: self.status,
            bytes_out: self.bytes_out,
            bytes_in: self.bytes_in,
            cause: self.cause,
            phase: self.phase,
            cookie: self.cookie,
            actconn: self.actconn,
            feconn: self.feconn,
            beconn: self.beconn,
            srv_conn: self.srv_conn,
            retries: self.retries,
            redispatched: self.redispatched,
            srv_queue: self.srv_queue,
            backend_queue: self.backend_queue,
            request_line: self.request_line.clone(),
            pid: self.pid,
        }
    }

    /// The `option httplog` line.
    pub fn line(&self) -> String {
        static HTTPLOG: LazyLock<LogFormat> =
            LazyLock::new(|| LogFormat::builtin(format::HTTPLOG, true));
        HTTPLOG.render(&self.fields())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ok() -> HttpLog {
        HttpLog {
            client: "127.0.0.1:44272".parse().ok(),
            frontend_addr: "127.0.0.1:8080".parse().ok(),
            server_addr: "127.0.0.1:8000".parse().ok(),
            // 2026-11-25 05:17:44.965 UTC
            accept_date: SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_583_864_965),
            request_date: SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_583_864_965),
            frontend: "fe".into(),
            backend: "be".into(),
            server: Served::Server("s1".into()),
            t_request: 0,
            t_wait: 0,
            t_connect: 0,
            t_response: 0,
            t_active: 0,
            t_idle: 0,
            t_data: 0,
            status: 200,
            bytes_out: 200,
            bytes_in: 78,
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
            request_line: Some(b"GET / HTTP/1.1".to_vec()),
            pid: 1,
        }
    }

    #[test]
    fn the_default_line() {
        assert_eq!(
            ok().line(),
            "127.0.0.1:44272 [25/Nov/2026:05:17:44.965] fe be/s1 0/0/0/0/0 200 200 - - ---- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\""
        );
    }

    #[test]
    fn a_bad_request_and_escapes() {
        let bad = HttpLog {
            server: Served::None,
            request_line: None,
            status: 400,
            cause: Cause::ClientAbort,
            phase: Phase::Request,
            ..ok()
        };
        assert!(bad
            .line()
            .ends_with("fe be/<NOSRV> 0/0/0/0/0 400 200 - - CR-- 1/1/0/0/0 0/0 \"<BADREQ>\""));
        let escaped = HttpLog {
            request_line: Some(b"GET /\"#\x01 HTTP/1.1".to_vec()),
            ..ok()
        };
        assert!(escaped.line().ends_with(" \"GET /#22#23#01 HTTP/1.1\""));
    }
}
