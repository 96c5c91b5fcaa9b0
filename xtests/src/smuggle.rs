//! A differential request-smuggling matrix: each case's client bytes go
//! to two proxies running the same configuration (HAProxy 2.6 first, the
//! candidate second), each in front of its own [`Recorder`]; what each
//! client received (status lines, whether the proxy closed, injected
//! bytes) and what each recorder received (the forwarded requests) are
//! collected for comparison.
//!
//! A proxy runs `lanes` copies of the configuration (a frontend with the
//! deny rule, a frontend for response cases, each with a backend whose
//! one server is the lane's recorder). Cases run concurrently, one per
//! lane at a time: a lane's recorder sees one case at a time, so every
//! request it gets belongs to the case running on that lane.

use crate::recorder::{Recorder, Reply, Seen};
use crate::ProxyProcess;
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

/// How long a case may run on one proxy: past the longest proxy timer of
/// the configuration (`timeout server 3s`).
const CASE_BOUND: Duration = Duration::from_millis(5000);

/// How long the client waits for more bytes (or the close) once it has
/// every answer it expects.
const AFTER_ANSWERS: Duration = Duration::from_millis(300);

/// How long a settle step (or the end of a case) waits for a proxy to
/// close a server connection the recorder misbehaved on.
const SETTLE_BOUND: Duration = Duration::from_millis(300);

/// Byte strings that only misbehaving responses carry: reaching the
/// client, they show a response (or a trailer) injected by the server.
pub const MARKERS: &[&str] = &["injected", "evil=1", "smuggled"];

/// Which frontend a case talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Front {
    /// With `http-request deny if { path_beg /denied }`.
    Main,
    /// Without rules, for cases where the recorder answers raw bytes.
    Resp,
}

/// One step of a case's client.
#[derive(Debug, Clone)]
pub enum Step {
    /// Writes these bytes in one write.
    Send(Vec<u8>),
    /// Reads until this many whole responses arrived (or the proxy
    /// closed, or the case's bound).
    Read(usize),
    /// Lets the recorder write its stray bytes ([`Reply::RawThenStray`]).
    Signal,
    /// Waits (bounded) for the proxy to close the server connections the
    /// recorder misbehaved on.
    Settle,
}

/// A case: its client's steps; after them the client reads until the
/// proxy closes or, once `answers` responses came, for [`AFTER_ANSWERS`].
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub front: Front,
    pub steps: Vec<Step>,
    pub answers: usize,
    /// The responses answer HEAD requests (heads only).
    pub head_only: bool,
}

/// A request a recorder received, as compared.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Forwarded {
    pub method: String,
    pub target: String,
    /// Framing and syntax anomalies of what was forwarded (sorted).
    pub anomalies: Vec<&'static str>,
    pub body: Vec<u8>,
}

impl Forwarded {
    fn from_seen(s: &Seen) -> Forwarded {
        let mut anomalies: Vec<&'static str> = s
            .anomalies
            .iter()
            .copied()
            // Whether the proxy had closed when the case ended is timing.
            .filter(|a| *a != "truncated")
            .collect();
        anomalies.sort();
        Forwarded {
            method: s.method.clone(),
            target: s.target.clone(),
            anomalies,
            body: s.body.clone(),
        }
    }

    /// Whether this is a request that must never pass: denied, or hidden
    /// in another request's body.
    pub fn forbidden(&self) -> bool {
        let path = self
            .target
            .split_once("://")
            .map_or(self.target.as_str(), |(_, rest)| {
                rest.find('/').map_or("", |i| &rest[i..])
            });
        path.starts_with("/denied") || path.starts_with("/desync/smuggled")
    }

    pub fn render(&self) -> String {
        let mut out = format!(
            "{} {}",
            escape(self.method.as_bytes(), 16),
            escape(self.target.as_bytes(), 48)
        );
        if !self.anomalies.is_empty() {
            out.push_str(&format!(" [{}]", self.anomalies.join(",")));
        }
        if !self.body.is_empty() {
            out.push_str(&format!(" body={:?}", escape(&self.body, 32)));
        }
        out
    }
}

/// What one proxy did with one case.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Each response's status line, in order (a non-HTTP answer as
    /// `<garbage ...>`, a cut one with `<cut>`).
    pub statuses: Vec<String>,
    /// The proxy closed the client's connection (FIN or reset).
    pub closed: bool,
    /// Requests the recorder received, in arrival order.
    pub forwarded: Vec<Forwarded>,
    /// [`MARKERS`] found in what the client received.
    pub injected: Vec<&'static str>,
}

impl Outcome {
    /// The status lines without reason phrases: what is compared.
    pub fn codes(&self) -> Vec<String> {
        self.statuses.iter().map(|s| status_key(s)).collect()
    }

    pub fn render(&self) -> String {
        let fate = if self.closed { "closed" } else { "open" };
        let fwd: Vec<String> = self.forwarded.iter().map(Forwarded::render).collect();
        let mut out = format!(
            "[{}] {fate} fwd=[{}]",
            self.codes().join(","),
            fwd.join("; ")
        );
        if !self.injected.is_empty() {
            out.push_str(&format!(" injected={:?}", self.injected));
        }
        out
    }
}

fn status_key(line: &str) -> String {
    let mut words = line.split(' ');
    match (words.next(), words.next()) {
        (Some("HTTP/1.1"), Some(code)) => code.to_string(),
        (Some(v), Some(code)) if v.starts_with("HTTP/") => format!("{v} {code}"),
        _ => line.to_string(),
    }
}

/// One proxy under test: its process and its lanes.
pub struct Target {
    pub name: String,
    lanes: Vec<Lane>,
    _proxy: ProxyProcess,
}

struct Lane {
    main: u16,
    resp: u16,
    recorder: Recorder,
}

/// The configuration of one proxy: `lanes` copies of a frontend with the
/// deny rule and of a response frontend, each lane's backends pointing at
/// that lane's recorder. `timeout server` (3s) is apart from `timeout
/// client` (2s): a case where both run (a body that never comes) would
/// otherwise end by either at random.
fn config(lanes: &[(u16, u16, u16)]) -> String {
    let mut text = String::from(
        "defaults\n    mode http\n    option http-keep-alive\n    timeout connect 1s\n    \
         timeout client 2s\n    timeout server 3s\n    timeout http-request 1s\n",
    );
    for (k, (main, resp, rec)) in lanes.iter().enumerate() {
        text.push_str(&format!(
            "\nfrontend fe{k}\n    bind 127.0.0.1:{main}\n    \
             http-request deny if {{ path_beg /denied }}\n    default_backend be{k}\n\
             backend be{k}\n    server rec 127.0.0.1:{rec}\n\
             \nfrontend fe_resp{k}\n    bind 127.0.0.1:{resp}\n    default_backend be_resp{k}\n\
             backend be_resp{k}\n    server rec 127.0.0.1:{rec}\n"
        ));
    }
    text
}

/// `n` distinct ports, free a moment ago, none handed out before by this
/// process. Distinct matters: HAProxy binds with SO_REUSEPORT, so two
/// frontends given one port would both listen on it and share its
/// connections between two lanes.
fn free_ports(n: usize) -> Vec<u16> {
    static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|p| p.into_inner());
    let mut held = vec![];
    while held.len() < n {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().expect("a bound address").port();
        if handed_out.insert(port) {
            held.push((port, listener));
        }
    }
    held.into_iter().map(|(port, _)| port).collect()
}

impl Target {
    /// Starts `binary` with `lanes` lanes, each recorder answering as
    /// `script` says; returns once every frontend is bound.
    pub fn start(name: &str, binary: &Path, lanes: usize, script: fn(&Seen) -> Reply) -> Target {
        let recorders: Vec<Recorder> = (0..lanes).map(|_| Recorder::start(script)).collect();
        let mut free = free_ports(2 * lanes).into_iter();
        let ports: Vec<(u16, u16, u16)> = recorders
            .iter()
            .map(|r| (free.next().unwrap(), free.next().unwrap(), r.port))
            .collect();
        let path = crate::config_file(&format!("smuggling-{name}-{}", ports[0].0), &config(&ports));
        let mut proxy = ProxyProcess::start(binary, &path);
        for (main, resp, _) in &ports {
            proxy.wait_bound(*main, Duration::from_secs(10));
            proxy.wait_bound(*resp, Duration::from_secs(10));
        }
        let lanes = recorders
            .into_iter()
            .zip(&ports)
            .map(|(recorder, (main, resp, _))| Lane {
                main: *main,
                resp: *resp,
                recorder,
            })
            .collect();
        Target {
            name: name.to_string(),
            lanes,
            _proxy: proxy,
        }
    }

    fn lanes(&self) -> usize {
        self.lanes.len()
    }

    /// Runs `case` on lane `lane`.
    fn run(&self, lane: usize, case: &Case) -> Outcome {
        let lane = &self.lanes[lane];
        lane.recorder.begin(&case.name);
        let port = match case.front {
            Front::Main => lane.main,
            Front::Resp => lane.resp,
        };
        let (bytes, closed) = match Client::connect(port) {
            Some(mut client) => {
                client.play(case, &lane.recorder);
                (client.buf, client.closed)
            }
            None => (b"<refused>".to_vec(), true),
        };
        let seen = lane.recorder.finish(SETTLE_BOUND);
        let text = String::from_utf8_lossy(&bytes);
        Outcome {
            statuses: parse(&bytes, true, case.head_only).statuses,
            closed,
            forwarded: seen.iter().map(Forwarded::from_seen).collect(),
            injected: MARKERS
                .iter()
                .copied()
                .filter(|m| text.contains(m))
                .collect(),
        }
    }
}

/// Runs every case on every target, `lanes` cases at a time (each on both
/// targets at once); the outcomes per case, in the targets' order.
pub fn run_all(cases: &[Case], targets: &[Target]) -> Vec<Vec<Outcome>> {
    let lanes = targets.iter().map(Target::lanes).min().unwrap_or(0);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Vec<Outcome>>>> = Mutex::new(vec![None; cases.len()]);
    thread::scope(|s| {
        for lane in 0..lanes {
            let (next, results) = (&next, &results);
            s.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(case) = cases.get(i) else { return };
                let outcomes = thread::scope(|s| {
                    let runs: Vec<_> = targets
                        .iter()
                        .map(|t| s.spawn(move || t.run(lane, case)))
                        .collect();
                    runs.into_iter()
                        .map(|r| r.join().expect("a case run"))
                        .collect()
                });
                results.lock().unwrap()[i] = Some(outcomes);
            });
        }
    });
    results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|o| o.expect("every case ran"))
        .collect()
}

/// What differs between the reference's outcome and the candidate's: the
/// statuses, the connection's fate, a forwarded request the reference did
/// not forward (each of these counted: a multiset), an injected marker
/// the reference did not let through. With `both_ways`, also what the
/// reference forwarded or let through and the candidate did not.
pub fn differences(reference: &Outcome, candidate: &Outcome, both_ways: bool) -> Vec<String> {
    let mut out = vec![];
    if reference.codes() != candidate.codes() {
        out.push("status".to_string());
    }
    if reference.closed != candidate.closed {
        out.push("fate".to_string());
    }
    let extra = excess(&candidate.forwarded, &reference.forwarded);
    if extra.iter().any(|f| f.forbidden()) {
        out.push("FORWARDED-FORBIDDEN".to_string());
    } else if !extra.is_empty() {
        out.push("forwarded".to_string());
    }
    if both_ways && !excess(&reference.forwarded, &candidate.forwarded).is_empty() {
        out.push("forwarded-less".to_string());
    }
    if candidate
        .injected
        .iter()
        .any(|m| !reference.injected.contains(m))
    {
        out.push("INJECTED".to_string());
    }
    if both_ways && reference.injected != candidate.injected {
        out.push("injected-less".to_string());
    }
    out
}

/// The requests of `a` not matched one for one by a request of `b`.
fn excess(a: &[Forwarded], b: &[Forwarded]) -> Vec<Forwarded> {
    let mut left: Vec<&Forwarded> = b.iter().collect();
    a.iter()
        .filter(|f| match left.iter().position(|g| g == f) {
            Some(i) => {
                left.remove(i);
                false
            }
            None => true,
        })
        .cloned()
        .collect()
}

/// A printable, bounded rendering of bytes (`\r`, `\n`, `\xNN` escaped).
pub fn escape(bytes: &[u8], max: usize) -> String {
    let mut out = String::new();
    for &b in bytes.iter().take(max) {
        out.extend(std::ascii::escape_default(b).map(char::from));
    }
    if bytes.len() > max {
        out.push_str(&format!("..({}B)", bytes.len()));
    }
    out
}

/// The responses in `buf`: their status lines and how many are whole.
#[derive(Debug, Default)]
pub struct Parsed {
    pub statuses: Vec<String>,
    pub complete: usize,
}

/// Splits what a client received into responses. With `eof`, a body
/// delimited by the close is whole; `head_only` answers HEAD requests.
pub fn parse(buf: &[u8], eof: bool, head_only: bool) -> Parsed {
    let mut p = Parsed::default();
    let mut at = 0;
    while at < buf.len() {
        let rest = &buf[at..];
        if !rest.starts_with(b"HTTP/") {
            if b"HTTP/".starts_with(rest) && !eof {
                break;
            }
            p.statuses.push(format!("<garbage {}>", escape(rest, 24)));
            p.complete += 1;
            break;
        }
        let Some(head_len) = find(rest, b"\r\n\r\n").map(|i| i + 4) else {
            if eof {
                p.statuses.push(format!("<cut {}>", escape(rest, 24)));
            }
            break;
        };
        let head = String::from_utf8_lossy(&rest[..head_len]).into_owned();
        let line = head.split("\r\n").next().unwrap_or("").to_string();
        let code: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        p.statuses.push(line);
        let body = &rest[head_len..];
        let body_len = if head_only || (100..200).contains(&code) || code == 204 || code == 304 {
            Some(0)
        } else {
            body_length(&head, body, eof)
        };
        let Some(body_len) = body_len else { break };
        p.complete += 1;
        if code == 101 {
            break; // a tunnel follows
        }
        at += head_len + body_len;
    }
    p
}

/// The length of a response body at the start of `body`; None while cut.
fn body_length(head: &str, body: &[u8], eof: bool) -> Option<usize> {
    let value = |name: &str| {
        head.split("\r\n").skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_ascii_lowercase())
        })
    };
    if value("transfer-encoding").is_some_and(|v| v.ends_with("chunked")) {
        return chunked_length(body);
    }
    match value("content-length").and_then(|v| v.parse::<usize>().ok()) {
        Some(n) if body.len() >= n => Some(n),
        Some(_) => None,
        None => eof.then_some(body.len()),
    }
}

/// The length of a chunked body up to its trailers' end; None while cut.
fn chunked_length(body: &[u8]) -> Option<usize> {
    let mut at = 0;
    loop {
        let line_end = find(&body[at..], b"\r\n")? + at;
        let text = String::from_utf8_lossy(&body[at..line_end]);
        let size = usize::from_str_radix(text.split(';').next().unwrap_or("").trim(), 16).ok()?;
        at = line_end + 2;
        if size == 0 {
            loop {
                let end = find(&body[at..], b"\r\n")? + at;
                let empty = end == at;
                at = end + 2;
                if empty {
                    return Some(at);
                }
            }
        }
        at += size + 2;
        if at > body.len() {
            return None;
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The case's client connection.
struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
    closed: bool,
    last_read: Instant,
}

impl Client {
    fn connect(port: u16) -> Option<Client> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
        Some(Client {
            stream,
            buf: vec![],
            closed: false,
            last_read: Instant::now(),
        })
    }

    /// Runs the case's steps, then reads the rest.
    fn play(&mut self, case: &Case, recorder: &Recorder) {
        let bound = Instant::now() + CASE_BOUND;
        for step in &case.steps {
            match step {
                // A proxy that closed already makes the write fail: what
                // it answered is still read below.
                Step::Send(bytes) => {
                    let _ = self.stream.write_all(bytes);
                }
                Step::Read(n) => {
                    while !self.closed && self.complete(case) < *n && self.pump(bound) {}
                }
                Step::Signal => recorder.signal(),
                Step::Settle => recorder.settle(SETTLE_BOUND),
            }
        }
        let start = Instant::now();
        while !self.closed {
            let until = if self.complete(case) >= case.answers {
                (self.last_read.max(start) + AFTER_ANSWERS).min(bound)
            } else {
                bound
            };
            if !self.pump(until) {
                break;
            }
        }
    }

    fn complete(&self, case: &Case) -> usize {
        parse(&self.buf, self.closed, case.head_only).complete
    }

    /// Reads once, waiting until `until` at most; false when nothing came
    /// in time or the proxy closed.
    fn pump(&mut self, until: Instant) -> bool {
        let now = Instant::now();
        if now >= until {
            return false;
        }
        let _ = self.stream.set_read_timeout(Some(until - now));
        let mut chunk = [0u8; 16384];
        match self.stream.read(&mut chunk) {
            Ok(0) => {
                self.closed = true;
                false
            }
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                self.last_read = Instant::now();
                true
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                false
            }
            Err(_) => {
                self.closed = true;
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_are_split_by_their_framing() {
        let wire = b"HTTP/1.1 100 Continue\r\n\r\n\
            HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok\
            HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-T: 1\r\n\r\n\
            HTTP/1.1 204 No Content\r\n\r\n\
            HTTP/1.1 400 Bad request\r\n\r\nbye";
        let p = parse(wire, true, false);
        let codes: Vec<String> = p.statuses.iter().map(|s| status_key(s)).collect();
        assert_eq!(codes, ["100", "200", "200", "204", "400"]);
        assert_eq!(p.complete, 5);
        // Without the close, the last body (delimited by it) is not whole.
        assert_eq!(parse(wire, false, false).complete, 4);
        // A head announcing a length is whole without the body to HEAD.
        let head = b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nHTTP/1.0 200 OK\r\n\r\n";
        assert_eq!(parse(head, false, true).complete, 2);
        let garbage = parse(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokXYZ",
            true,
            false,
        );
        assert_eq!(garbage.statuses[1], "<garbage XYZ>");
        assert_eq!(parse(b"HTT", false, false).statuses.len(), 0);
    }

    fn fwd(target: &str) -> Forwarded {
        Forwarded {
            method: "GET".into(),
            target: target.into(),
            anomalies: vec![],
            body: vec![],
        }
    }

    #[test]
    fn a_request_the_reference_did_not_forward_is_a_difference() {
        let reference = Outcome {
            statuses: vec!["HTTP/1.1 200 OK".into()],
            forwarded: vec![fwd("/a")],
            ..Outcome::default()
        };
        let mut candidate = reference.clone();
        assert!(differences(&reference, &candidate, true).is_empty());
        candidate.forwarded.push(fwd("/a"));
        assert_eq!(differences(&reference, &candidate, false), ["forwarded"]);
        candidate.forwarded[1] = fwd("http://a/denied/x");
        assert_eq!(
            differences(&reference, &candidate, false),
            ["FORWARDED-FORBIDDEN"]
        );
        candidate.forwarded.clear();
        assert!(differences(&reference, &candidate, false).is_empty());
        assert_eq!(
            differences(&reference, &candidate, true),
            ["forwarded-less"]
        );
        candidate.injected = vec!["injected"];
        candidate.closed = true;
        assert_eq!(
            differences(&reference, &candidate, false),
            ["fate", "INJECTED"]
        );
    }
}
