//! `option httpchk`: an HTTP request to the server, its response judged
//! by the `http-check expect` rules (2xx and 3xx pass without any), as
//! HAProxy 2.6's HTTP check does.
//!
//! The request is HAProxy's: `option httpchk`'s method, URI and version
//! (`OPTIONS / HTTP/1.0` by default; headers and a body hidden after the
//! version are honoured), merged with `http-check send`; header names in
//! lowercase, `content-length` for a body, `connection: close` in
//! HTTP/1.1. Status rules decide on the status line; body rules read on
//! until they match or the response ends.

use std::net::SocketAddr;
use std::time::Duration;

use regex::bytes::Regex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use super::{ReplyTimeout, Report, CHECK_BUFFER_BYTES};
use crate::config::{HeaderMatch, HealthCheck, HttpCheckRules, HttpExpectKind, MatchMethod};
use crate::http::body::{self, Framing};
use crate::http::chunked::ChunkedDecoder;
use crate::http::head;
use crate::net::{ConnectSpec, Net};
use crate::server::CheckStatus;

/// A backend's HTTP check, ready to run.
#[derive(Debug)]
pub struct HttpCheck {
    request: Vec<u8>,
    expects: Vec<Expect>,
    /// `http-check disable-on-404`: a 404 from an UP server puts it in
    /// NOLB instead of failing.
    disable_on_404: bool,
}

#[derive(Debug)]
struct Expect {
    negate: bool,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Status(Vec<(u16, u16)>),
    Rstatus(Regex),
    String(Vec<u8>),
    Rstring(Regex),
    /// A header: its name, and maybe a value (each comma-separated one,
    /// or the whole line when `full`).
    Header {
        full: bool,
        name: Matcher,
        value: Option<Matcher>,
    },
}

/// A name or value pattern with its `-m` method.
#[derive(Debug)]
struct Matcher {
    method: MatchMethod,
    pattern: Vec<u8>,
    regex: Option<Regex>,
}

impl Matcher {
    fn new(m: &HeaderMatch, lowercase: bool) -> Option<Matcher> {
        let pattern = if lowercase && m.method != MatchMethod::Reg {
            m.pattern.to_ascii_lowercase()
        } else {
            m.pattern.clone()
        };
        let regex = match m.method {
            MatchMethod::Reg => Some(Regex::new(&m.pattern).ok()?),
            _ => None,
        };
        Some(Matcher {
            method: m.method,
            pattern: pattern.into_bytes(),
            regex,
        })
    }

    fn matches(&self, text: &[u8]) -> bool {
        let p = &self.pattern[..];
        match (self.method, &self.regex) {
            (MatchMethod::Str, _) => text == p,
            (MatchMethod::Beg, _) => text.starts_with(p),
            (MatchMethod::End, _) => text.ends_with(p),
            (MatchMethod::Sub, _) => p.is_empty() || text.windows(p.len()).any(|w| w == p),
            (MatchMethod::Reg, Some(re)) => re.is_match(text),
            (MatchMethod::Reg, None) => false,
        }
    }
}

/// Whether the response has a header as `name` and `value` say. Names
/// compare in lowercase, as HAProxy stores them.
fn has_header(
    head: &head::Head,
    buf: &[u8],
    full: bool,
    name: &Matcher,
    value: &Option<Matcher>,
) -> bool {
    head.headers.iter().any(|h| {
        let header_name = h.name.of(buf).to_ascii_lowercase();
        if !name.matches(&header_name) {
            return false;
        }
        let Some(value) = value else {
            return true;
        };
        let line = h.value.of(buf);
        if full {
            return value.matches(line.trim_ascii());
        }
        line.split(|&b| b == b',')
            .any(|v| value.matches(v.trim_ascii()))
    })
}

impl Kind {
    fn reads_body(&self) -> bool {
        matches!(self, Kind::String(_) | Kind::Rstring(_))
    }
}

impl HttpCheck {
    /// The check of a proxy with `option httpchk` (`health_check`) and its
    /// `http-check` lines; None without it.
    pub fn from_config(health_check: &HealthCheck, rules: &HttpCheckRules) -> Option<HttpCheck> {
        let HealthCheck::Http {
            method,
            uri,
            version,
        } = health_check
        else {
            return None;
        };
        let send = rules.send.clone().unwrap_or_default();
        // Headers and a body may hide after the version (deprecated).
        let (version, hidden) = version.split_once("\r\n").unwrap_or((version, ""));
        let (hidden_headers, hidden_body) = hidden.split_once("\r\n\r\n").unwrap_or((hidden, ""));
        let mut headers: Vec<(String, String)> = hidden_headers
            .split("\r\n")
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
            .collect();
        headers.extend(send.headers.iter().cloned());
        let method = send.method.as_deref().unwrap_or(method);
        let uri = send.uri.as_deref().unwrap_or(uri);
        let version = send.version.as_deref().unwrap_or(version);
        let body = send.body.as_deref().unwrap_or(hidden_body);
        let mut request = format!("{method} {uri} {version}\r\n");
        for (name, value) in &headers {
            request.push_str(&format!("{}: {value}\r\n", name.to_ascii_lowercase()));
        }
        if !body.is_empty() {
            request.push_str(&format!("content-length: {}\r\n", body.len()));
        }
        if version == "HTTP/1.1" {
            request.push_str("connection: close\r\n");
        }
        request.push_str("\r\n");
        request.push_str(body);
        let expects = rules
            .expects
            .iter()
            .filter_map(|e| {
                let kind = match &e.kind {
                    HttpExpectKind::Status(codes) => Kind::Status(codes.clone()),
                    HttpExpectKind::Rstatus(r) => Kind::Rstatus(Regex::new(r).ok()?),
                    HttpExpectKind::String(s) => Kind::String(s.clone().into_bytes()),
                    HttpExpectKind::Rstring(r) => Kind::Rstring(Regex::new(r).ok()?),
                    HttpExpectKind::Header { full, name, value } => Kind::Header {
                        full: *full,
                        name: Matcher::new(name, true)?,
                        value: match value {
                            Some(v) => Some(Matcher::new(v, false)?),
                            None => None,
                        },
                    },
                };
                Some(Expect {
                    negate: e.negate,
                    kind,
                })
            })
            .collect();
        Some(HttpCheck {
            request: request.into_bytes(),
            expects,
            disable_on_404: rules.disable_on_404,
        })
    }

    /// Connects within `connect_timeout`, sends the request, and judges
    /// the response read within `reply`. `up`: the server is UP (only
    /// then may a 404 mean "stopping").
    pub async fn probe(
        &self,
        net: &dyn Net,
        target: SocketAddr,
        connect_timeout: Duration,
        reply: ReplyTimeout,
        up: bool,
    ) -> Report {
        let started = Instant::now();
        let report = |verdict: Verdict| Report {
            status: verdict.status,
            code: verdict.code,
            info: verdict.info,
            duration: started.elapsed(),
            counts_twice: false,
        };
        let spec = ConnectSpec::to(target);
        let mut stream = match tokio::time::timeout(connect_timeout, net.connect(&spec)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                let info = crate::net::strerror(&e);
                return report(Verdict::new(CheckStatus::L4Con).info(&info));
            }
            Err(_) => return report(Verdict::new(CheckStatus::L4Tout)),
        };
        let deadline = match reply {
            ReplyTimeout::FromConnect(t) => Instant::now() + t,
            ReplyTimeout::FromStart(t) => started + t,
        };
        let exchange = async {
            // A server that closes before reading is judged on its answer.
            let _ = stream.write_all(&self.request).await;
            let mut buf = Vec::new();
            let mut closed = false;
            loop {
                if let Some(verdict) = self.judge(&buf, closed, up) {
                    return verdict;
                }
                let mut chunk = [0u8; 4096];
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => closed = true,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
        };
        match tokio::time::timeout_at(deadline, exchange).await {
            Ok(verdict) => report(verdict),
            Err(_) => report(Verdict::new(CheckStatus::L7Tout)),
        }
    }

    /// The verdict on what was read so far; None while more is needed.
    /// `closed`: nothing more will come.
    fn judge(&self, buf: &[u8], closed: bool, up: bool) -> Option<Verdict> {
        let full = closed || buf.len() >= CHECK_BUFFER_BYTES;
        let head = match head::parse_response(buf) {
            Ok(Some(h)) => h,
            Ok(None) if !full => return None,
            Ok(None) | Err(_) => return Some(Verdict::new(CheckStatus::L7Rsp)),
        };
        let code = head.status.unwrap_or(0);
        if self.disable_on_404 && up && code == 404 {
            return Some(Verdict::new(CheckStatus::L7OkCond).code(code));
        }
        let passed = Verdict::new(CheckStatus::L7Ok).code(code);
        // A wrong status is told with the server's reason phrase.
        let wrong_status = || {
            let phrase = String::from_utf8_lossy(head.first.of(buf));
            Verdict::new(CheckStatus::L7Sts).code(code).info(&phrase)
        };
        if self.expects.is_empty() {
            return Some(if (200..400).contains(&code) {
                passed
            } else {
                wrong_status()
            });
        }
        for rule in &self.expects {
            let matched = match &rule.kind {
                Kind::Status(codes) => codes.iter().any(|&(lo, hi)| (lo..=hi).contains(&code)),
                Kind::Rstatus(re) => re.is_match(head.second.of(buf)),
                Kind::Header { full, name, value } => has_header(&head, buf, *full, name, value),
                Kind::String(_) | Kind::Rstring(_) => {
                    let (data, complete) = body_so_far(&head, buf, closed);
                    let complete = complete || full;
                    if data.is_empty() {
                        if !complete {
                            return None;
                        }
                        return Some(
                            Verdict::new(CheckStatus::L7Rsp)
                                .info("HTTP content check could not find a response body"),
                        );
                    }
                    let found = match &rule.kind {
                        Kind::String(s) => data.windows(s.len().max(1)).any(|w| w == &s[..]),
                        Kind::Rstring(re) => re.is_match(&data),
                        _ => unreachable!("status rules are matched above"),
                    };
                    // Not found yet: more of the body may hold it.
                    if !found && !complete {
                        return None;
                    }
                    found
                }
            };
            if matched == rule.negate {
                return Some(match (rule.kind.reads_body(), rule.negate) {
                    (false, _) => wrong_status(),
                    (true, true) => {
                        Verdict::new(CheckStatus::L7Rsp).info("HTTP check matched unwanted content")
                    }
                    (true, false) => {
                        Verdict::new(CheckStatus::L7Rsp).info("HTTP content check did not match")
                    }
                });
            }
        }
        Some(passed)
    }
}

/// A judgement of a response, before its duration is known.
#[derive(Debug, PartialEq, Eq)]
struct Verdict {
    status: CheckStatus,
    code: Option<u16>,
    info: Option<String>,
}

impl Verdict {
    fn new(status: CheckStatus) -> Verdict {
        Verdict {
            status,
            code: None,
            info: None,
        }
    }

    fn code(self, code: u16) -> Verdict {
        Verdict {
            code: Some(code),
            ..self
        }
    }

    fn info(self, info: &str) -> Verdict {
        Verdict {
            info: Some(info.to_string()),
            ..self
        }
    }
}

/// The response body read so far, decoded, and whether it is complete.
fn body_so_far(head: &head::Head, buf: &[u8], closed: bool) -> (Vec<u8>, bool) {
    let rest = &buf[head.len..];
    match body::response(head, b"GET").map(|d| d.framing) {
        Ok(Framing::Length(n)) => {
            let have = rest.len().min(usize::try_from(n).unwrap_or(usize::MAX));
            (rest[..have].to_vec(), have as u64 == n)
        }
        Ok(Framing::Chunked) => {
            let mut decoder = ChunkedDecoder::default();
            let mut data = Vec::new();
            let bad = decoder.feed(rest, Some(&mut data)).is_err();
            (data, bad || decoder.is_done() || closed)
        }
        Ok(Framing::None) => (Vec::new(), true),
        _ => (rest.to_vec(), closed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{proxy, Behaviour, FakeNet};

    fn check(lines: &str) -> HttpCheck {
        let cfg = format!("backend b\n    mode http\n{lines}\n    server s 10.0.0.1:80 check\n");
        let p = proxy(&cfg);
        HttpCheck::from_config(&p.health_check, &p.http_check).expect("option httpchk")
    }

    fn request(lines: &str) -> String {
        String::from_utf8(check(lines).request).unwrap()
    }

    // Every request below is what HAProxy 2.6.12 sent for the same lines.
    #[test]
    fn the_request_is_haproxys() {
        assert_eq!(request("    option httpchk"), "OPTIONS / HTTP/1.0\r\n\r\n");
        assert_eq!(
            request("    option httpchk HEAD /index.jsp HTTP/1.1\\r\\nHost:\\ test.51cto.com"),
            "HEAD /index.jsp HTTP/1.1\r\nhost: test.51cto.com\r\nconnection: close\r\n\r\n"
        );
        assert_eq!(
            request(
                "    option httpchk\n    http-check send meth GET uri /health ver HTTP/1.1 hdr Host example.com hdr X-A b"
            ),
            "GET /health HTTP/1.1\r\nhost: example.com\r\nx-a: b\r\nconnection: close\r\n\r\n"
        );
        assert_eq!(
            request(
                "    option httpchk POST /c HTTP/1.1\n    http-check send hdr host h body hello"
            ),
            "POST /c HTTP/1.1\r\nhost: h\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello"
        );
        assert_eq!(
            request("    option httpchk GET /z\n    http-check send hdr X-Y z"),
            "GET /z HTTP/1.0\r\nx-y: z\r\n\r\n"
        );
    }

    fn verdict(lines: &str, response: &[u8]) -> Verdict {
        check(lines)
            .judge(response, true, true)
            .expect("a closed response is judged")
    }

    #[test]
    fn without_rules_2xx_and_3xx_pass_and_others_tell_their_reason() {
        let c = "    option httpchk";
        let v = verdict(c, b"HTTP/1.1 302 Found\r\ncontent-length: 0\r\n\r\n");
        assert_eq!(v, Verdict::new(CheckStatus::L7Ok).code(302));
        let v = verdict(c, b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
        assert_eq!(
            v,
            Verdict::new(CheckStatus::L7Sts).code(404).info("Not Found")
        );
        assert_eq!(
            verdict(c, b"garbage\r\n\r\n"),
            Verdict::new(CheckStatus::L7Rsp)
        );
        assert_eq!(verdict(c, b""), Verdict::new(CheckStatus::L7Rsp));
    }

    #[test]
    fn expect_rules_judge_status_and_body() {
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\nall is well";
        let v = verdict("    option httpchk\n    http-check expect status 204", ok);
        assert_eq!(v, Verdict::new(CheckStatus::L7Sts).code(200).info("OK"));
        let v = verdict("    option httpchk\n    http-check expect rstatus ^2", ok);
        assert_eq!(v.status, CheckStatus::L7Ok);
        let v = verdict("    option httpchk\n    http-check expect string well", ok);
        assert_eq!(v.status, CheckStatus::L7Ok);
        let v = verdict(
            "    option httpchk\n    http-check expect ! string well",
            ok,
        );
        assert_eq!(
            v,
            Verdict::new(CheckStatus::L7Rsp).info("HTTP check matched unwanted content")
        );
        let v = verdict(
            "    option httpchk\n    http-check expect rstring ^sick",
            ok,
        );
        assert_eq!(
            v,
            Verdict::new(CheckStatus::L7Rsp).info("HTTP content check did not match")
        );
    }

    #[test]
    fn disable_on_404_stops_an_up_server_and_keeps_a_down_one_down() {
        let c = check("    option httpchk\n    http-check disable-on-404");
        let not_found = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n";
        let up = c.judge(not_found, true, true).unwrap();
        assert_eq!(up, Verdict::new(CheckStatus::L7OkCond).code(404));
        let down = c.judge(not_found, true, false).unwrap();
        assert_eq!(
            down,
            Verdict::new(CheckStatus::L7Sts).code(404).info("Not Found")
        );
    }

    #[test]
    fn a_body_rule_waits_for_more_of_the_body() {
        let c = check("    option httpchk\n    http-check expect string well");
        let part = b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\nall is";
        assert_eq!(c.judge(part, false, true), None);
        let chunked =
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4\r\nwell\r\n0\r\n\r\n";
        assert_eq!(
            c.judge(chunked, false, true).map(|v| v.status),
            Some(CheckStatus::L7Ok)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_server_times_out_at_layer7_after_timeout_check() {
        let net = FakeNet::new();
        net.set("10.0.0.1:80", Behaviour::Accept);
        let c = check("    option httpchk");
        let target = "10.0.0.1:80".parse().unwrap();
        let reply = ReplyTimeout::FromConnect(Duration::from_millis(1500));
        let r = c
            .probe(&*net, target, Duration::from_secs(1), reply, true)
            .await;
        assert_eq!(
            (r.status, r.duration),
            (CheckStatus::L7Tout, Duration::from_millis(1500))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_answer_passes_within_timeout_check_and_fails_past_it() {
        let c = check("    option httpchk");
        let target = "10.0.0.1:80".parse().unwrap();
        let reply = ReplyTimeout::FromConnect(Duration::from_millis(500));
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        for (work, status, took) in [
            (400, CheckStatus::L7Ok, 400),
            (600, CheckStatus::L7Tout, 500),
        ] {
            let net = FakeNet::new();
            net.set(
                "10.0.0.1:80",
                Behaviour::Slow(Duration::from_millis(work), ok),
            );
            let r = c
                .probe(&*net, target, Duration::from_secs(1), reply, true)
                .await;
            assert_eq!(
                (r.status, r.duration),
                (status, Duration::from_millis(took))
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_server_reads_the_request_and_its_answer_is_judged() {
        let net = FakeNet::new();
        net.set(
            "10.0.0.1:80",
            Behaviour::Answer(b"HTTP/1.0 503 Service Unavailable\r\n\r\n"),
        );
        let c = check("    option httpchk HEAD /check.html");
        let target = "10.0.0.1:80".parse().unwrap();
        let reply = ReplyTimeout::FromStart(Duration::from_secs(2));
        let r = c
            .probe(&*net, target, Duration::from_secs(2), reply, true)
            .await;
        assert_eq!(
            net.requests(),
            [b"HEAD /check.html HTTP/1.0\r\n\r\n".to_vec()]
        );
        assert_eq!((r.status, r.code), (CheckStatus::L7Sts, Some(503)));
        assert_eq!(r.info.as_deref(), Some("Service Unavailable"));
    }
}
