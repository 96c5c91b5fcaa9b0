//! tcp-check rule sequences: connect, send, expect, as HAProxy 2.6's
//! tcpcheck engine runs them. The protocol checks (`option smtpchk`,
//! `redis-check`, `pgsql-check`, `mysql-check`, `ldap-check`) are built-in
//! sequences of the same rules (see [`super::protocols`]).
//!
//! What HAProxy does, and so this does: an `expect` reads once what the
//! server has sent after the last `send`, and waits for more while the
//! data is too short for its pattern or `min-recv`; a group of
//! consecutive `expect`s is evaluated again from its first rule when one
//! of them waits. The check passes when every rule passed; the status and
//! the info come from the last rule.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use regex::bytes::Regex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use super::{ReplyTimeout, Report, CHECK_BUFFER_BYTES};
use crate::config::{TcpCheckAction, TcpCheckRule, TcpPattern};
use crate::net::{BoxStream, ConnectSpec, Net};
use crate::server::CheckStatus;

/// A ready-to-run sequence of rules.
#[derive(Debug)]
pub struct TcpCheck {
    steps: Vec<Step>,
    /// Built-in protocol checks word their failures themselves; user
    /// `tcp-check` rules get HAProxy's generic "at step N" messages.
    protocol: bool,
}

#[derive(Debug)]
pub struct Step {
    /// HAProxy's rule index: the step number is `index + 1`, and the
    /// implicit first connect is step 0.
    pub index: usize,
    pub comment: Option<String>,
    pub action: Action,
}

#[derive(Debug)]
pub enum Action {
    /// A (new) connection, to `addr` and `port` or the check's.
    Connect {
        port: Option<u16>,
        addr: Option<IpAddr>,
        implicit: bool,
    },
    Send(Vec<u8>),
    Expect(Expect),
}

#[derive(Debug)]
pub struct Expect {
    pub negate: bool,
    pub pattern: Pattern,
    /// `min-recv`: bytes to wait for before judging; None is HAProxy's -1
    /// (wait for more on a mismatch until the server stops).
    pub min_recv: Option<usize>,
    pub ok_status: Option<CheckStatus>,
    pub error_status: Option<CheckStatus>,
    pub tout_status: Option<CheckStatus>,
    pub on_success: Option<Text>,
    pub on_error: Option<Text>,
    /// `status-code`: where the check code comes from.
    pub status_code: Option<Text>,
}

impl Expect {
    pub fn new(pattern: Pattern) -> Expect {
        Expect {
            negate: false,
            pattern,
            min_recv: None,
            ok_status: None,
            error_status: None,
            tout_status: None,
            on_success: None,
            on_error: None,
            status_code: None,
        }
    }
}

#[derive(Debug)]
pub enum Pattern {
    String(Vec<u8>),
    Regex(Regex),
    Binary(Vec<u8>),
    /// A regex on the hexadecimal dump of the data (uppercase).
    BinaryRegex(Regex),
    /// A protocol's own parser (MySQL packets, LDAP bind response).
    Custom(Custom),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Custom {
    MysqlHandshake,
    MysqlOk,
    LdapBind,
}

/// A message made from a literal or from the received data, the few
/// log-format forms HAProxy's built-in checks use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Text {
    Literal(String),
    /// `res.payload(offset,0)`, then `ltrim(' ')`, then `cut_crlf`.
    Payload {
        offset: usize,
        ltrim_spaces: bool,
        cut_crlf: bool,
    },
    /// `res.payload(offset,len)` (the status code of SMTP replies).
    Slice {
        offset: usize,
        len: usize,
    },
}

impl Text {
    fn render(&self, data: &[u8]) -> String {
        match self {
            Text::Literal(s) => s.clone(),
            Text::Payload {
                offset,
                ltrim_spaces,
                cut_crlf,
            } => {
                let mut d = data.get(*offset..).unwrap_or_default();
                if *ltrim_spaces {
                    let start = d.iter().position(|&b| b != b' ').unwrap_or(d.len());
                    d = &d[start..];
                }
                if *cut_crlf {
                    let end = d
                        .iter()
                        .position(|&b| b == b'\r' || b == b'\n')
                        .unwrap_or(d.len());
                    d = &d[..end];
                }
                String::from_utf8_lossy(d).into_owned()
            }
            Text::Slice { offset, len } => data
                .get(*offset..offset + len)
                .map(|d| String::from_utf8_lossy(d).into_owned())
                .unwrap_or_default(),
        }
    }
}

/// What evaluating one expect rule gave.
enum Eval {
    Continue,
    Wait,
    Stop(Verdict),
}

/// A status with its code and info, before the duration is known.
#[derive(Debug, PartialEq, Eq)]
pub struct Verdict {
    pub status: CheckStatus,
    pub code: u16,
    pub info: String,
}

impl Verdict {
    pub fn new(status: CheckStatus, code: u16, info: impl Into<String>) -> Verdict {
        Verdict {
            status,
            code,
            info: info.into(),
        }
    }
}

impl TcpCheck {
    /// A proxy's `tcp-check` rules (`option tcp-check`). A `tcp-check
    /// comment` names the rule after it, and the following rules of the
    /// same kind (a connect takes it alone), as HAProxy's post-parsing.
    pub fn from_rules(rules: &[TcpCheckRule]) -> TcpCheck {
        let status = |s: &Option<String>| s.as_deref().and_then(CheckStatus::from_name);
        let mut steps = Vec::new();
        let mut comment: Option<&String> = None;
        let mut previous = std::mem::discriminant(&TcpCheckAction::Comment);
        for (index, rule) in rules.iter().enumerate() {
            let kind = std::mem::discriminant(&rule.action);
            if kind != previous && previous != std::mem::discriminant(&TcpCheckAction::Comment) {
                comment = None;
            }
            previous = kind;
            let action = match &rule.action {
                TcpCheckAction::Comment => {
                    comment = rule.comment.as_ref();
                    continue;
                }
                // The runtime refuses to start with rules it cannot run.
                TcpCheckAction::Unsupported(_) => {
                    comment = None;
                    continue;
                }
                TcpCheckAction::Connect { port, addr } => Action::Connect {
                    port: *port,
                    addr: *addr,
                    implicit: false,
                },
                TcpCheckAction::Send(bytes) => Action::Send(bytes.clone()),
                TcpCheckAction::Expect(e) => {
                    let regex = |r: &str| Regex::new(r).expect("checked when parsed");
                    Action::Expect(Expect {
                        negate: e.negate,
                        pattern: match &e.pattern {
                            TcpPattern::String(s) => Pattern::String(s.clone()),
                            TcpPattern::Binary(b) => Pattern::Binary(b.clone()),
                            TcpPattern::Rstring(r) => Pattern::Regex(regex(r)),
                            TcpPattern::Rbinary(r) => Pattern::BinaryRegex(regex(r)),
                        },
                        min_recv: e.min_recv,
                        ok_status: status(&e.ok_status),
                        error_status: status(&e.error_status),
                        tout_status: status(&e.tout_status),
                        on_success: e.on_success.clone().map(Text::Literal),
                        on_error: e.on_error.clone().map(Text::Literal),
                        status_code: None,
                    })
                }
            };
            let own = rule.comment.as_ref().or(comment).cloned();
            if matches!(action, Action::Connect { .. }) {
                comment = None;
            }
            steps.push(Step {
                index,
                comment: own,
                action,
            });
        }
        TcpCheck::new(steps, false)
    }

    /// A sequence; an implicit connect is put first when the rules do not
    /// start with one, as HAProxy does.
    pub fn new(mut steps: Vec<Step>, protocol: bool) -> TcpCheck {
        if !matches!(
            steps.first().map(|s| &s.action),
            Some(Action::Connect { .. })
        ) {
            steps.insert(
                0,
                Step {
                    index: 0,
                    comment: None,
                    action: Action::Connect {
                        port: None,
                        addr: None,
                        implicit: true,
                    },
                },
            );
        }
        TcpCheck { steps, protocol }
    }

    pub async fn probe(
        &self,
        net: &dyn Net,
        target: SocketAddr,
        connect_timeout: Duration,
        reply: ReplyTimeout,
    ) -> Report {
        let started = Instant::now();
        let mut current = 0;
        let verdict = self
            .run(net, target, connect_timeout, reply, started, &mut current)
            .await;
        // HAProxy keeps the info as a C string: up to the first NUL.
        let info = verdict.info.split('\0').next().unwrap_or_default();
        Report {
            code: verdict.status.has_code().then_some(verdict.code),
            info: (!info.is_empty()).then(|| info.to_string()),
            status: verdict.status,
            duration: started.elapsed(),
            counts_twice: verdict.status == CheckStatus::L7Ok && self.ends_with_custom(),
        }
    }

    async fn run(
        &self,
        net: &dyn Net,
        target: SocketAddr,
        connect_timeout: Duration,
        reply: ReplyTimeout,
        started: Instant,
        current: &mut usize,
    ) -> Verdict {
        let mut deadline = match reply {
            ReplyTimeout::FromStart(t) => started + t,
            ReplyTimeout::FromConnect(_) => started + connect_timeout,
        };
        let mut stream: Option<BoxStream> = None;
        let mut buf: Vec<u8> = Vec::new();
        let mut closed = false;
        let mut must_read = true;
        let mut i = 0;
        while i < self.steps.len() {
            *current = i;
            let step = &self.steps[i];
            match &step.action {
                Action::Connect { port, addr, .. } => {
                    // The previous connection closes first.
                    drop(stream.take());
                    buf.clear();
                    closed = false;
                    let addr =
                        SocketAddr::new(addr.unwrap_or(target.ip()), port.unwrap_or(target.port()));
                    let limit = match reply {
                        ReplyTimeout::FromConnect(_) => connect_timeout,
                        ReplyTimeout::FromStart(_) => {
                            deadline.saturating_duration_since(Instant::now())
                        }
                    };
                    match tokio::time::timeout(limit, net.connect(&ConnectSpec::to(addr))).await {
                        Ok(Ok(s)) => stream = Some(s),
                        Ok(Err(e)) => {
                            let info = format!("{}{}", crate::net::strerror(&e), self.context(i));
                            return Verdict::new(CheckStatus::L4Con, 0, info);
                        }
                        Err(_) => return Verdict::new(CheckStatus::L4Tout, 0, self.context(i)),
                    }
                    if let ReplyTimeout::FromConnect(t) = reply {
                        deadline = Instant::now() + t;
                    }
                    must_read = buf.is_empty();
                }
                Action::Send(bytes) => {
                    let s = stream.as_mut().expect("a connect step comes first");
                    // HAProxy forgets what it read when it sends again.
                    buf.clear();
                    // A failed write shows as the next read's end.
                    let _ = s.write_all(bytes).await;
                    must_read = true;
                }
                Action::Expect(expect) => {
                    let s = stream.as_mut().expect("a connect step comes first");
                    if must_read {
                        let read = read_some(s, &mut buf, &mut closed);
                        if tokio::time::timeout_at(deadline, read).await.is_err() {
                            return self.timed_out(i);
                        }
                        if buf.is_empty() && closed {
                            let status = expect.error_status.unwrap_or(CheckStatus::L7Rsp);
                            let mut info =
                                format!("TCPCHK got an empty response at step {}", self.step_id(i));
                            if let Some(c) = &step.comment {
                                info.push_str(&format!(" comment: '{c}'"));
                            }
                            return Verdict::new(status, 0, info);
                        }
                        must_read = false;
                    }
                    match self.evaluate(i, expect, &buf, closed) {
                        Eval::Continue => {}
                        Eval::Stop(v) => return v,
                        Eval::Wait => {
                            let s = stream.as_mut().expect("connected");
                            let read = read_some(s, &mut buf, &mut closed);
                            if tokio::time::timeout_at(deadline, read).await.is_err() {
                                return self.timed_out(i);
                            }
                            // Again from the first of these expects.
                            i = self.expect_head(i);
                            continue;
                        }
                    }
                }
            }
            i += 1;
        }
        self.passed(&buf)
    }

    /// The last rule is a protocol parser (MySQL, LDAP).
    fn ends_with_custom(&self) -> bool {
        matches!(
            self.steps.last().map(|s| &s.action),
            Some(Action::Expect(Expect {
                pattern: Pattern::Custom(_),
                ..
            }))
        )
    }

    /// The result when every rule passed, from the last one.
    fn passed(&self, buf: &[u8]) -> Verdict {
        let last = self.steps.last().expect("at least a connect");
        let generic = if self.protocol { "" } else { "(tcp-check)" };
        match &last.action {
            Action::Expect(e) => {
                let status = e.ok_status.unwrap_or(CheckStatus::L7Ok);
                let info = match &e.on_success {
                    Some(t) => t.render(buf),
                    None => generic.to_string(),
                };
                let code = e
                    .status_code
                    .as_ref()
                    .map_or(0, |t| code_of(&t.render(buf)));
                Verdict::new(status, code, info)
            }
            Action::Connect { implicit, .. } => Verdict::new(
                CheckStatus::L4Ok,
                0,
                if *implicit { "" } else { "(tcp-check)" },
            ),
            Action::Send(_) => Verdict::new(CheckStatus::L7Ok, 0, "(tcp-check)"),
        }
    }

    fn evaluate(&self, i: usize, e: &Expect, buf: &[u8], closed: bool) -> Eval {
        let last_read = closed || buf.len() >= CHECK_BUFFER_BYTES;
        if let Pattern::Custom(custom) = e.pattern {
            return self.custom(i, e, custom, buf, last_read);
        }
        if !last_read {
            let needed = match &e.pattern {
                Pattern::String(s) | Pattern::Binary(s) => s.len(),
                _ => 0,
            };
            if buf.len() < needed || e.min_recv.is_some_and(|m| buf.len() < m) {
                return Eval::Wait;
            }
        }
        let matched = match &e.pattern {
            Pattern::String(s) | Pattern::Binary(s) => contains(buf, s),
            Pattern::Regex(re) => re.is_match(buf),
            Pattern::BinaryRegex(re) => re.is_match(hex(buf).as_bytes()),
            Pattern::Custom(_) => unreachable!("handled above"),
        };
        if !matched && !last_read && e.min_recv.is_none() {
            return Eval::Wait;
        }
        if matched != e.negate {
            return Eval::Continue;
        }
        let status = e.error_status.unwrap_or(CheckStatus::L7Rsp);
        Eval::Stop(self.failed(i, e, status, matched, "", buf))
    }

    /// HAProxy's info for a failed expect: the rule's `on-error`, or for
    /// user rules a generic sentence naming the step.
    fn failed(
        &self,
        i: usize,
        e: &Expect,
        status: CheckStatus,
        matched: bool,
        given: &str,
        buf: &[u8],
    ) -> Verdict {
        let mut info = if !given.is_empty() {
            given.to_string()
        } else if let Some(t) = &e.on_error {
            t.render(buf)
        } else if self.protocol {
            String::new()
        } else {
            let what = match &e.pattern {
                Pattern::String(s) => format!(" '{}'", String::from_utf8_lossy(s)),
                Pattern::Binary(_) => " (binary)".into(),
                Pattern::Regex(_) => " (regex)".into(),
                Pattern::BinaryRegex(_) => " (binary regex)".into(),
                Pattern::Custom(_) => " (custom function)".into(),
            };
            let lead = if matched {
                "TCPCHK matched unwanted content"
            } else {
                "TCPCHK did not match content"
            };
            format!("{lead}{what} at step {}", self.step_id(i))
        };
        if let Some(c) = &self.steps[i].comment {
            info.push_str(&format!(" comment: {c}"));
        }
        let code = e
            .status_code
            .as_ref()
            .map_or(0, |t| code_of(&t.render(buf)));
        Verdict::new(status, code, info)
    }

    fn custom(&self, i: usize, e: &Expect, custom: Custom, buf: &[u8], last_read: bool) -> Eval {
        let outcome = match custom {
            Custom::MysqlHandshake => super::protocols::mysql_packet(buf, 0, last_read),
            Custom::MysqlOk => {
                let first = buf
                    .get(..3)
                    .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], 0]) as usize);
                super::protocols::mysql_packet(buf, first + 4, last_read)
            }
            Custom::LdapBind => super::protocols::ldap_bind(buf, last_read),
        };
        match outcome {
            super::protocols::Judged::Wait => Eval::Wait,
            super::protocols::Judged::Pass => Eval::Continue,
            super::protocols::Judged::Fail { status, code, info } => {
                let mut v = self.failed(i, e, status, false, &info, buf);
                v.code = code;
                Eval::Stop(v)
            }
        }
    }

    /// The verdict when the check's time ran out on step `i`.
    fn timed_out(&self, i: usize) -> Verdict {
        let status = match &self.steps[i].action {
            Action::Expect(e) => e.tout_status.unwrap_or(CheckStatus::L7Tout),
            _ => CheckStatus::L7Tout,
        };
        Verdict::new(status, 0, self.context(i))
    }

    /// HAProxy's " at step N of tcp-check (...)" for user rules.
    fn context(&self, i: usize) -> String {
        if self.protocol {
            return String::new();
        }
        let step = &self.steps[i];
        let id = self.step_id(i);
        if id == 0 {
            return " at initial connection step of tcp-check".into();
        }
        let mut s = format!(" at step {id} of tcp-check");
        match &step.action {
            Action::Connect {
                port: Some(port), ..
            } => s.push_str(&format!(" (connect port {port})")),
            Action::Connect { .. } => s.push_str(" (connect)"),
            Action::Send(_) => s.push_str(" (send)"),
            Action::Expect(e) => s.push_str(&match &e.pattern {
                Pattern::String(p) => format!(" (expect string '{}')", String::from_utf8_lossy(p)),
                Pattern::Binary(p) => format!(" (expect binary '{}')", hex(p)),
                Pattern::Regex(_) => " (expect regex)".into(),
                Pattern::BinaryRegex(_) => " (expect binary regex)".into(),
                Pattern::Custom(_) => " (expect custom function)".into(),
            }),
        }
        if let Some(c) = &step.comment {
            s.push_str(&format!(" comment: '{c}'"));
        }
        s
    }

    fn step_id(&self, i: usize) -> usize {
        let step = &self.steps[i];
        match step.action {
            Action::Connect { implicit: true, .. } => 0,
            _ => step.index + 1,
        }
    }

    /// Where evaluation resumes when expect `i` waits for more data:
    /// the earliest negated expect right before it, else itself (HAProxy's
    /// expect.head).
    fn expect_head(&self, i: usize) -> usize {
        let mut head = i;
        for j in (0..i).rev() {
            match &self.steps[j].action {
                Action::Expect(e) if e.negate => head = j,
                Action::Expect(_) => {}
                _ => break,
            }
        }
        head
    }
}

/// Reads what the server sent (at least one read), keeping at most a
/// check buffer.
async fn read_some(stream: &mut BoxStream, buf: &mut Vec<u8>, closed: &mut bool) {
    if *closed || buf.len() >= CHECK_BUFFER_BYTES {
        return;
    }
    let mut chunk = vec![0u8; CHECK_BUFFER_BYTES - buf.len()];
    match stream.read(&mut chunk).await {
        Ok(0) | Err(_) => *closed = true,
        Ok(n) => buf.extend_from_slice(&chunk[..n]),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// Uppercase hexadecimal, as HAProxy's dump_binary.
pub fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02X}")).collect()
}

/// A status code from text: its leading digits, 0 when none.
fn code_of(text: &str) -> u16 {
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{proxy, Behaviour, FakeNet};

    async fn probe(option: &str, server: Behaviour) -> (Report, Vec<Vec<u8>>) {
        let cfg = format!("backend b\n    {option}\n    server s 10.0.0.1:25 check\n");
        let check =
            super::super::protocols::sequence(&proxy(&cfg).health_check).expect("a protocol check");
        let net = FakeNet::new();
        net.set("10.0.0.1:25", server);
        let target = "10.0.0.1:25".parse().unwrap();
        let reply = ReplyTimeout::FromStart(Duration::from_secs(2));
        let report = check
            .probe(&*net, target, Duration::from_secs(2), reply)
            .await;
        (report, net.requests())
    }

    #[tokio::test(start_paused = true)]
    async fn smtp_greets_then_says_helo_and_reports_the_server_words() {
        let server = Behaviour::Greet(b"220 mx ESMTP ready\r\n", b"250 mx.example.com\r\n");
        let (r, requests) = probe("option smtpchk", server).await;
        assert_eq!(requests, [b"HELO localhost\r\nQUIT\r\n".to_vec()]);
        assert_eq!((r.status, r.code), (CheckStatus::L7Ok, Some(250)));
        assert_eq!(r.info.as_deref(), Some("mx.example.com"));
        let server = Behaviour::Greet(b"554 go away\r\n", b"");
        let (r, _) = probe("option smtpchk EHLO me.example", server).await;
        assert_eq!((r.status, r.code), (CheckStatus::L7Sts, Some(554)));
        assert_eq!(r.info.as_deref(), Some("go away"));
    }

    #[tokio::test(start_paused = true)]
    async fn redis_wants_pong() {
        let (r, requests) = probe("option redis-check", Behaviour::Answer(b"+PONG\r\n")).await;
        assert_eq!(requests, [b"*1\r\n$4\r\nPING\r\n".to_vec()]);
        assert_eq!(r.status, CheckStatus::L7Ok);
        assert_eq!(r.info.as_deref(), Some("Redis server is ok"));
        let (r, _) = probe("option redis-check", Behaviour::Answer(b"-ERR busy\r\n")).await;
        assert_eq!((r.status, r.code), (CheckStatus::L7Sts, Some(0)));
        assert_eq!(r.info.as_deref(), Some("-ERR busy"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_server_and_an_empty_answer() {
        let (r, _) = probe("option redis-check", Behaviour::Accept).await;
        assert_eq!((r.status, r.info), (CheckStatus::L7Tout, None));
        // The rule's error status words an empty answer too.
        let (r, _) = probe("option redis-check", Behaviour::Answer(b"")).await;
        assert_eq!(r.status, CheckStatus::L7Sts);
        assert_eq!(
            r.info.as_deref(),
            Some("TCPCHK got an empty response at step 2")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn pgsql_and_mysql_send_haproxys_packets() {
        let ok = b"R\x00\x00\x00\x08\x00\x00\x00\x00";
        let (r, requests) = probe("option pgsql-check user bob", Behaviour::Answer(ok)).await;
        assert_eq!(
            requests,
            [b"\x00\x00\x00\x12\x00\x03\x00\x00user\x00bob\x00\x00".to_vec()]
        );
        assert_eq!(r.info.as_deref(), Some("PostgreSQL server is ok"));
        let handshake = b"\x0b\x00\x00\x00\x0a5.7.0-x\x00\x01\x02";
        let (r, requests) = probe(
            "option mysql-check user hap pre-41",
            Behaviour::Greet(handshake, b"\x07\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00"),
        )
        .await;
        assert_eq!(
            requests,
            [b"\x0a\x00\x00\x01\x00\x80\x00\x00\x01hap\x00\x00\x01\x00\x00\x00\x01".to_vec()]
        );
        assert_eq!((r.status, r.info), (CheckStatus::L7Ok, None));
        // HAProxy counts this success twice (see Report::counts_twice).
        assert!(r.counts_twice);
        let (r, _) = probe("option redis-check", Behaviour::Answer(b"+PONG\r\n")).await;
        assert!(!r.counts_twice);
    }

    async fn run_rules(rules: &str, server: Behaviour) -> Report {
        let cfg =
            format!("backend b\n    option tcp-check\n{rules}\n    server s 10.0.0.1:25 check\n");
        let check = TcpCheck::from_rules(&proxy(&cfg).tcp_check);
        let net = FakeNet::new();
        net.set("10.0.0.1:25", server);
        let target = "10.0.0.1:25".parse().unwrap();
        let reply = ReplyTimeout::FromStart(Duration::from_secs(2));
        check
            .probe(&*net, target, Duration::from_secs(2), reply)
            .await
    }

    #[tokio::test(start_paused = true)]
    async fn user_rules_name_their_step_in_failures() {
        let rules = "    tcp-check comment ping\n    tcp-check send PING\\r\\n\n    tcp-check expect string +PONG";
        let r = run_rules(rules, Behaviour::Answer(b"+PONG\r\n")).await;
        assert_eq!(
            (r.status, r.info.as_deref()),
            (CheckStatus::L7Ok, Some("(tcp-check)"))
        );
        let r = run_rules(rules, Behaviour::Answer(b"-ERR\r\n")).await;
        assert_eq!(r.status, CheckStatus::L7Rsp);
        assert_eq!(
            r.info.as_deref(),
            Some("TCPCHK did not match content '+PONG' at step 3")
        );
        let r = run_rules(rules, Behaviour::Accept).await;
        assert_eq!(r.status, CheckStatus::L7Tout);
        assert_eq!(
            r.info.as_deref(),
            Some(" at step 3 of tcp-check (expect string '+PONG')")
        );
        let r = run_rules(rules, Behaviour::Refuse).await;
        assert_eq!(r.status, CheckStatus::L4Con);
        assert_eq!(
            r.info.as_deref(),
            Some("Connection refused at initial connection step of tcp-check")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn statuses_and_messages_of_the_rule_win() {
        let rules = "    tcp-check send-binary 0102\n    tcp-check expect binary ff error-status L7STS on-error down ok-status L6OK on-success up";
        let r = run_rules(rules, Behaviour::Answer(b"\x00\xff")).await;
        assert_eq!(
            (r.status, r.info.as_deref()),
            (CheckStatus::L6Ok, Some("up"))
        );
        let r = run_rules(rules, Behaviour::Answer(b"\x00\x01")).await;
        assert_eq!(
            (r.status, r.info.as_deref()),
            (CheckStatus::L7Sts, Some("down"))
        );
    }
}
