//! `option httplog`'s line, as HAProxy 2.6 writes it:
//!
//! `%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r`
//!
//! e.g. `127.0.0.1:44272 [25/Nov/2026:05:17:44.965] fe be/s1 0/0/0/0/0 200 200 - - ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1"`.
//! It is that log-format string, rendered by [`super::render`]: `%hr` and
//! `%hs` (captured headers) print nothing, with their space, when nothing
//! is captured. A timer that did not run is -1.

use super::render::Timers;

/// HAProxy's HTTP timers from the phases measured (milliseconds, -1 for
/// a phase that did not happen), with its derived ones (no TLS: the
/// handshake takes 0 ms): `%TR`, `%Tw`, `%Tc`, `%Tr`, `%Ta`, `%Ti`, `%Td`.
pub fn timers(
    request: i64,
    wait: i64,
    connect: i64,
    response: i64,
    active: i64,
    idle: i64,
    data: i64,
) -> Timers {
    let total = if active < 0 { -1 } else { active + idle };
    Timers {
        handshake: 0,
        idle,
        request,
        request_total: if request < 0 { -1 } else { request + idle },
        wait,
        connect,
        response,
        data,
        active,
        total,
        user: total - idle,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::format::{self, LogFormat};
    use crate::log::render::{Fields, NO_SERVER};
    use crate::log::tcplog::{Cause, Phase};
    use std::time::{Duration, SystemTime};

    fn ok() -> Fields {
        // 2026-11-25 05:17:44.965 UTC
        let date = SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_583_864_965);
        Fields {
            client: "127.0.0.1:44272".parse().ok(),
            frontend_addr: "127.0.0.1:8080".parse().ok(),
            server_addr: "127.0.0.1:8000".parse().ok(),
            accept_date: date,
            request_date: date,
            frontend: "fe".into(),
            backend: "be".into(),
            server: "s1".into(),
            timers: timers(0, 0, 0, 0, 0, 0, 0),
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

    fn line(f: &Fields) -> String {
        LogFormat::builtin(format::HTTPLOG, true).render(f)
    }

    #[test]
    fn the_default_line() {
        assert_eq!(
            line(&ok()),
            "127.0.0.1:44272 [25/Nov/2026:05:17:44.965] fe be/s1 0/0/0/0/0 200 200 - - ---- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\""
        );
    }

    #[test]
    fn a_bad_request_and_escapes() {
        let bad = Fields {
            server: NO_SERVER.into(),
            request_line: None,
            status: 400,
            cause: Cause::ClientAbort,
            phase: Phase::Request,
            ..ok()
        };
        assert!(line(&bad)
            .ends_with("fe be/<NOSRV> 0/0/0/0/0 400 200 - - CR-- 1/1/0/0/0 0/0 \"<BADREQ>\""));
        let escaped = Fields {
            request_line: Some(b"GET /\"#\x01 HTTP/1.1".to_vec()),
            ..ok()
        };
        assert!(line(&escaped).ends_with(" \"GET /#22#23#01 HTTP/1.1\""));
    }

    #[test]
    fn derived_timers_follow_haproxys_arithmetic() {
        let t = timers(2, 3, 4, 5, 20, 7, 6);
        assert_eq!((t.request_total, t.total, t.user), (9, 27, 20));
        let unanswered = timers(-1, -1, -1, -1, -1, 7, -1);
        assert_eq!((unanswered.request_total, unanswered.total), (-1, -1));
    }
}
