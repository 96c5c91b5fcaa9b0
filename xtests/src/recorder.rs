//! A recording origin server for differential smuggling tests: raw
//! `std::net` TCP, one thread per connection. It splits what each
//! connection receives into requests with its own strict framing (and
//! notes what a strict reader objects to), records every request with its
//! body, and answers each as a script says (a plain `200`, scripted raw
//! bytes, stray bytes after the answer, a close after the answer).
//!
//! Requests are labelled with the case running at the moment their head
//! arrived (`begin`), so that one recorder can serve a lane that runs
//! cases one after another over kept-alive proxy connections. A request
//! a proxy should never have let through shows here as a request of its
//! own: a hidden `GET /desync/smuggled` inside a body that a proxy framed
//! wrongly is parsed by the recorder as the next request on that
//! connection.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

/// The answer to a request when the script has nothing special to say.
pub const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/// The answer to a HEAD request when the script has nothing special to say.
const HEAD_OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

/// Bound on what the recorder keeps of one request's body (bytes past it
/// are read and dropped): a runaway body cannot grow the test's memory.
const BODY_LIMIT: usize = 64 * 1024;

/// A request as the recorder parsed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The case running when the head arrived.
    pub label: String,
    /// The accepted connection it came on, in accept order.
    pub conn: usize,
    pub method: String,
    pub target: String,
    /// The head as received, up to and including its blank line.
    pub head: Vec<u8>,
    /// The payload: Content-Length bytes, or the chunks' data joined.
    pub body: Vec<u8>,
    /// What a strict reader finds wrong with the head or body framing
    /// (`cl+te`, `cl-multi`, `te-other`, `bare-cr`, `bare-lf`, `obs-fold`,
    /// `ctl`, `name-ws`, `bad-chunk`, `trailer-bare-cr`, `truncated`).
    pub anomalies: Vec<&'static str>,
}

/// What the recorder does with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// [`OK`] (to a HEAD request, a head with `Content-Length: 0`); the
    /// connection is kept.
    Ok,
    /// These exact bytes; the connection is kept (the next request read).
    Raw(Vec<u8>),
    /// These bytes, then the recorder shuts its side (a FIN) and reads
    /// until the proxy closes too.
    RawThenClose(Vec<u8>),
    /// These bytes, then, once the test calls [`Recorder::signal`] (or
    /// after a bound), `stray` on the same, now idle, connection.
    RawThenStray(Vec<u8>, Vec<u8>),
}

impl Reply {
    /// Whether the recorder misbehaves in a way that should make a proxy
    /// drop the connection (see [`Recorder::settle`]).
    fn marks(&self) -> bool {
        !matches!(self, Reply::Ok)
    }
}

/// How long a stray write waits for the test's signal.
const SIGNAL_BOUND: Duration = Duration::from_secs(3);

/// One accepted connection.
struct Conn {
    /// A handle to shut the connection from the test's side.
    stream: TcpStream,
    /// Label of the case during which the recorder misbehaved on it.
    marked: Option<String>,
    /// The proxy closed (or reset) it.
    proxy_closed: bool,
}

#[derive(Default)]
struct State {
    label: String,
    /// Bumped by `signal`.
    signals: u64,
    conns: Vec<Conn>,
    seen: Vec<Seen>,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    script: fn(&Seen) -> Reply,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits, at most `within`, while `busy` holds of the state.
    fn wait_while(&self, within: Duration, mut busy: impl FnMut(&mut State) -> bool) {
        let st = self.lock();
        let _ = self.changed.wait_timeout_while(st, within, |s| busy(s));
    }
}

/// A recording server on a loopback port of its own.
pub struct Recorder {
    pub port: u16,
    shared: Arc<Shared>,
}

impl Recorder {
    /// Listens on a port the system picks (held from the start); each
    /// request is answered as `script` says.
    pub fn start(script: fn(&Seen) -> Reply) -> Recorder {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind recorder");
        let port = listener.local_addr().expect("a bound address").port();
        let shared = Arc::new(Shared {
            state: Mutex::default(),
            changed: Condvar::new(),
            script,
        });
        let accepting = shared.clone();
        thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { break };
                let Ok(handle) = conn.try_clone() else {
                    continue;
                };
                let index = {
                    let mut st = accepting.lock();
                    st.conns.push(Conn {
                        stream: handle,
                        marked: None,
                        proxy_closed: false,
                    });
                    st.conns.len() - 1
                };
                let shared = accepting.clone();
                thread::spawn(move || serve(conn, index, &shared));
            }
        });
        Recorder { port, shared }
    }

    /// From now on, requests are labelled `label`.
    pub fn begin(&self, label: &str) {
        self.shared.lock().label = label.to_string();
    }

    /// Lets every connection waiting to write stray bytes write them.
    pub fn signal(&self) {
        self.shared.lock().signals += 1;
        self.shared.changed.notify_all();
    }

    /// Waits, at most `within`, until the proxy has closed every
    /// connection the recorder misbehaved on during the current case.
    pub fn settle(&self, within: Duration) {
        self.shared.wait_while(within, |st| {
            st.conns
                .iter()
                .any(|c| c.marked.as_deref() == Some(&st.label) && !c.proxy_closed)
        });
    }

    /// Ends the current case: every connection the recorder misbehaved on
    /// is shut (a FIN, then, after at most `within` for the proxy to
    /// close it, both ways), so that the next case starts from healthy
    /// connections only. Returns the case's requests.
    pub fn finish(&self, within: Duration) -> Vec<Seen> {
        {
            let st = self.shared.lock();
            for c in st
                .conns
                .iter()
                .filter(|c| c.marked.is_some() && !c.proxy_closed)
            {
                let _ = c.stream.shutdown(Shutdown::Write);
            }
        }
        self.settle_all(within);
        let st = self.shared.lock();
        for c in st.conns.iter().filter(|c| c.marked.is_some()) {
            let _ = c.stream.shutdown(Shutdown::Both);
        }
        st.seen
            .iter()
            .filter(|s| s.label == st.label)
            .cloned()
            .collect()
    }

    fn settle_all(&self, within: Duration) {
        self.shared.wait_while(within, |st| {
            st.conns
                .iter()
                .any(|c| c.marked.is_some() && !c.proxy_closed)
        });
    }
}

/// Serves one connection until the proxy closes it.
fn serve(stream: TcpStream, index: usize, shared: &Shared) {
    let mut wire = Wire {
        stream,
        buf: vec![],
        index,
        shared,
        closed: false,
    };
    while let Some(seen_at) = read_request(&mut wire) {
        let seen = shared.lock().seen[seen_at].clone();
        if seen.anomalies.contains(&"truncated") || seen.anomalies.contains(&"bad-chunk") {
            break; // the framing is lost: read on until the proxy closes
        }
        let reply = match (shared.script)(&seen) {
            // A HEAD answer says nothing of the body it does not carry,
            // so that a client reading pipelined answers needs no method.
            Reply::Ok if seen.method == "HEAD" => Reply::Raw(HEAD_OK.to_vec()),
            other => other,
        };
        if !answer(&mut wire, reply) {
            break;
        }
    }
    wire.drain();
}

/// Writes `reply`; false when the connection is done with.
fn answer(wire: &mut Wire, reply: Reply) -> bool {
    let signals = {
        let mut st = wire.shared.lock();
        if reply.marks() {
            let label = st.label.clone();
            st.conns[wire.index].marked = Some(label);
        }
        st.signals
    };
    match reply {
        Reply::Ok => wire.stream.write_all(OK).is_ok(),
        Reply::Raw(bytes) => wire.stream.write_all(&bytes).is_ok(),
        Reply::RawThenClose(bytes) => {
            let _ = wire.stream.write_all(&bytes);
            let _ = wire.stream.shutdown(Shutdown::Write);
            false
        }
        Reply::RawThenStray(bytes, stray) => {
            if wire.stream.write_all(&bytes).is_err() {
                return false;
            }
            wire.wait_signal(signals);
            wire.stream.write_all(&stray).is_ok()
        }
    }
}

/// Reads the next request, records it as soon as its head is complete
/// and updates its body as bytes arrive; its index in `seen`.
fn read_request(wire: &mut Wire) -> Option<usize> {
    let (head, bare_lf_end) = wire.head()?;
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut line = text.split(['\r', '\n']).next().unwrap_or("").split(' ');
    let method = line.next().unwrap_or("").to_string();
    let target = line.next().unwrap_or("").to_string();
    let mut anomalies = head_anomalies(&head);
    if bare_lf_end && !anomalies.contains(&"bare-lf") {
        anomalies.push("bare-lf");
    }
    let framing = framing(&text, &mut anomalies);
    let expect_continue = header_values(&text, "expect")
        .iter()
        .any(|v| v.eq_ignore_ascii_case("100-continue"));
    let at = {
        let mut st = wire.shared.lock();
        let label = st.label.clone();
        st.seen.push(Seen {
            label,
            conn: wire.index,
            method,
            target,
            head,
            body: vec![],
            anomalies,
        });
        st.seen.len() - 1
    };
    if expect_continue && framing != Framing::None {
        let _ = wire.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
    }
    let complete = match framing {
        Framing::None => true,
        Framing::Length(n) => wire.body_length(at, n),
        Framing::Chunked => wire.body_chunked(at),
    };
    if !complete {
        let mut st = wire.shared.lock();
        if !st.seen[at].anomalies.contains(&"bad-chunk") {
            st.seen[at].anomalies.push("truncated");
        }
    }
    Some(at)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    None,
    Length(usize),
    Chunked,
}

/// The request's framing as a strict server reads it, noting what is
/// ambiguous (both headers, several lengths, a coding other than chunked).
fn framing(head: &str, anomalies: &mut Vec<&'static str>) -> Framing {
    let te = header_values(head, "transfer-encoding");
    let cl = header_values(head, "content-length");
    if !te.is_empty() && !cl.is_empty() {
        anomalies.push("cl+te");
    }
    if cl.len() > 1 || cl.iter().any(|v| v.contains(',')) {
        anomalies.push("cl-multi");
    }
    if !te.is_empty() {
        // Empty list elements do not count (RFC 9110, 5.6.1).
        let codings = te.join(",");
        let last = codings
            .split(',')
            .map(str::trim)
            .rfind(|c| !c.is_empty())
            .unwrap_or("");
        if last.eq_ignore_ascii_case("chunked") {
            return Framing::Chunked;
        }
        anomalies.push("te-other");
    }
    match cl.first().map(|v| v.parse::<usize>()) {
        Some(Ok(n)) => Framing::Length(n),
        _ => Framing::None,
    }
}

/// The values of every `name` header line (names compared ignoring case).
fn header_values(head: &str, name: &str) -> Vec<String> {
    head.split("\r\n")
        .skip(1)
        .filter_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
        .collect()
}

/// What a strict reader objects to in a forwarded head.
fn head_anomalies(head: &[u8]) -> Vec<&'static str> {
    let mut found = vec![];
    let mut note = |what: &'static str| {
        if !found.contains(&what) {
            found.push(what);
        }
    };
    for (i, &b) in head.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| head[p]);
        match b {
            b'\r' if head.get(i + 1) != Some(&b'\n') => note("bare-cr"),
            b'\n' if prev != Some(b'\r') => note("bare-lf"),
            b'\n' if matches!(head.get(i + 1), Some(b' ' | b'\t')) => note("obs-fold"),
            b'\r' | b'\n' | b'\t' => {}
            0..=31 | 127 => note("ctl"),
            _ => {}
        }
    }
    let text = String::from_utf8_lossy(head);
    for line in text.split("\r\n").skip(1).filter(|l| !l.is_empty()) {
        match line.split_once(':') {
            Some((name, _)) if name.is_empty() || name.contains([' ', '\t']) => note("name-ws"),
            None => note("name-ws"),
            _ => {}
        }
    }
    found
}

/// A connection's reading side.
struct Wire<'a> {
    stream: TcpStream,
    buf: Vec<u8>,
    index: usize,
    shared: &'a Shared,
    closed: bool,
}

impl Wire<'_> {
    /// Reads more bytes; false once the proxy closed.
    fn fill(&mut self) -> bool {
        if self.closed {
            return false;
        }
        let mut chunk = [0u8; 16384];
        let n = match self.stream.read(&mut chunk) {
            Ok(n) if n > 0 => n,
            _ => {
                self.closed = true;
                let mut st = self.shared.lock();
                st.conns[self.index].proxy_closed = true;
                drop(st);
                self.shared.changed.notify_all();
                return false;
            }
        };
        self.buf.extend_from_slice(&chunk[..n]);
        true
    }

    /// Reads (and drops) what comes until the proxy closes.
    fn drain(&mut self) {
        while self.fill() {
            self.buf.clear();
        }
    }

    /// Blocks until a `signal` after `seen` (bounded).
    fn wait_signal(&self, seen: u64) {
        self.shared
            .wait_while(SIGNAL_BOUND, |st| st.signals == seen);
    }

    /// The next head (CRLF CRLF, or a bare LF LF, whichever ends first),
    /// and whether it ended with bare LFs; None once the proxy closed.
    fn head(&mut self) -> Option<(Vec<u8>, bool)> {
        loop {
            let crlf = find(&self.buf, b"\r\n\r\n").map(|i| (i + 4, false));
            let lf = find(&self.buf, b"\n\n").map(|i| (i + 2, true));
            let end = match (crlf, lf) {
                (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
                (a, b) => a.or(b),
            };
            if let Some((end, bare)) = end {
                return Some((self.buf.drain(..end).collect(), bare));
            }
            if !self.fill() {
                return None;
            }
        }
    }

    fn take_body(&mut self, at: usize, n: usize) {
        let bytes: Vec<u8> = self.buf.drain(..n).collect();
        let mut st = self.shared.lock();
        let body = &mut st.seen[at].body;
        let room = BODY_LIMIT.saturating_sub(body.len());
        body.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn body_length(&mut self, at: usize, mut left: usize) -> bool {
        while left > 0 {
            if self.buf.is_empty() && !self.fill() {
                return false;
            }
            let n = left.min(self.buf.len());
            self.take_body(at, n);
            left -= n;
        }
        true
    }

    /// A CRLF-terminated line (without its CRLF); None at close.
    fn line(&mut self) -> Option<Vec<u8>> {
        loop {
            if let Some(i) = find(&self.buf, b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..i + 2).take(i).collect();
                return Some(line);
            }
            if !self.fill() {
                return None;
            }
        }
    }

    fn note(&self, at: usize, what: &'static str) {
        let mut st = self.shared.lock();
        if !st.seen[at].anomalies.contains(&what) {
            st.seen[at].anomalies.push(what);
        }
    }

    /// A strict chunked body: hex sizes, extensions after `;`, CRLF after
    /// each chunk's data, trailers up to a blank line.
    fn body_chunked(&mut self, at: usize) -> bool {
        loop {
            let Some(line) = self.line() else {
                return false;
            };
            let size_text = line.split(|&b| b == b';').next().unwrap_or(&[]);
            let size = std::str::from_utf8(size_text)
                .ok()
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit()))
                .and_then(|s| usize::from_str_radix(s, 16).ok());
            if line.contains(&b'\r') || line.contains(&b'\n') {
                self.note(at, "bare-cr");
            }
            let Some(size) = size else {
                self.note(at, "bad-chunk");
                return false;
            };
            if size == 0 {
                return self.trailers(at);
            }
            if !self.body_length(at, size) {
                return false;
            }
            match self.line() {
                Some(rest) if rest.is_empty() => {}
                Some(_) => {
                    self.note(at, "bad-chunk");
                    return false;
                }
                None => return false,
            }
        }
    }

    fn trailers(&mut self, at: usize) -> bool {
        loop {
            let Some(line) = self.line() else {
                return false;
            };
            if line.is_empty() {
                return true;
            }
            if line.contains(&b'\r') || line.contains(&b'\n') {
                self.note(at, "trailer-bare-cr");
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
