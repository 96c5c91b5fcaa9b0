//! Raw HTTP/1 peers for side-by-side tests: a scripted server that records
//! every byte it receives, and a client that sends exact bytes and reads
//! whole responses. Raw sockets, not an HTTP library, so that the tests see
//! what the proxy really writes (header case, connection headers, chunks).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// How long a peer waits for bytes before giving up: generous, since a
/// proxy's own timeouts (a few seconds at most in these tests) come first.
pub const PATIENCE: Duration = Duration::from_secs(8);

/// What the scripted server does with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Writes these bytes and reads the next request.
    Send(Vec<u8>),
    /// Writes these bytes, then closes.
    SendClose(Vec<u8>),
    /// Closes without answering.
    Close,
    /// Never answers; keeps the connection open.
    Hang,
}

/// A request as the server got it: its head and body bytes as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub head: Vec<u8>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn head_text(&self) -> String {
        String::from_utf8_lossy(&self.head).into_owned()
    }
}

type Script = Arc<dyn Fn(&Received) -> Action + Send + Sync>;

/// A real server on a loopback port that answers each request as `script`
/// says and records, per connection, the requests it received.
pub struct ScriptedServer {
    pub port: u16,
    connections: Arc<Mutex<Vec<Vec<Received>>>>,
}

impl ScriptedServer {
    pub fn start(port: u16, script: impl Fn(&Received) -> Action + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind scripted server");
        let connections: Arc<Mutex<Vec<Vec<Received>>>> = Arc::default();
        let script: Script = Arc::new(script);
        {
            let connections = connections.clone();
            thread::spawn(move || {
                for conn in listener.incoming() {
                    let Ok(conn) = conn else { break };
                    let index = {
                        let mut all = connections.lock().unwrap();
                        all.push(vec![]);
                        all.len() - 1
                    };
                    let connections = connections.clone();
                    let script = script.clone();
                    thread::spawn(move || serve(conn, index, &connections, &*script));
                }
            });
        }
        ScriptedServer { port, connections }
    }

    /// A server answering every request `200` with a body naming `name`.
    pub fn named(port: u16, name: &'static str) -> Self {
        Self::start(port, move |_| Action::Send(ok_response(name)))
    }

    /// The requests received so far, per connection, in accept order.
    pub fn connections(&self) -> Vec<Vec<Received>> {
        self.connections.lock().unwrap().clone()
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<Received> {
        self.connections().into_iter().flatten().collect()
    }
}

/// `HTTP/1.1 200 OK` with a Content-Length body.
pub fn ok_response(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nX-Server: {body}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn serve(
    mut conn: TcpStream,
    index: usize,
    connections: &Mutex<Vec<Vec<Received>>>,
    script: &(dyn Fn(&Received) -> Action + Send + Sync),
) {
    conn.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut reader = Reader::new(conn.try_clone().unwrap());
    while let Some(req) = reader.request() {
        connections.lock().unwrap()[index].push(req.clone());
        match script(&req) {
            Action::Send(b) => {
                if conn.write_all(&b).is_err() {
                    return;
                }
            }
            Action::SendClose(b) => {
                let _ = conn.write_all(&b);
                return;
            }
            Action::Close => return,
            Action::Hang => {
                // Hold until the peer goes away.
                let mut sink = [0u8; 1024];
                while matches!(conn.read(&mut sink), Ok(n) if n > 0) {}
                return;
            }
        }
    }
}

/// Reads whole HTTP/1 messages from a stream (Content-Length, chunked, or
/// until close for responses).
struct Reader {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Nothing more will come (closed, failed, or silent past PATIENCE).
    eof: bool,
    /// The peer closed (or reset) rather than went silent.
    closed: bool,
}

impl Reader {
    fn new(stream: TcpStream) -> Self {
        Reader {
            stream,
            buf: vec![],
            eof: false,
            closed: false,
        }
    }

    fn fill(&mut self) -> bool {
        if self.eof {
            return false;
        }
        let mut chunk = [0u8; 16384];
        match self.stream.read(&mut chunk) {
            Ok(0) => {
                (self.eof, self.closed) = (true, true);
                false
            }
            Err(e) => {
                let silent = matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                );
                (self.eof, self.closed) = (true, !silent);
                false
            }
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    fn head(&mut self) -> Option<Vec<u8>> {
        loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                return Some(self.buf.drain(..end + 4).collect());
            }
            if !self.fill() {
                return None;
            }
        }
    }

    fn exact(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n && self.fill() {}
        let n = n.min(self.buf.len());
        self.buf.drain(..n).collect()
    }

    /// A chunked body, as raw bytes up to the end of its trailers.
    fn chunked(&mut self) -> Vec<u8> {
        let mut out = vec![];
        loop {
            let line = loop {
                if let Some(i) = find(&self.buf, b"\r\n") {
                    break self.buf.drain(..i + 2).collect::<Vec<u8>>();
                }
                if !self.fill() {
                    out.extend(std::mem::take(&mut self.buf));
                    return out;
                }
            };
            out.extend_from_slice(&line);
            let size_text = String::from_utf8_lossy(&line);
            let size =
                usize::from_str_radix(size_text.trim().split(';').next().unwrap_or("").trim(), 16)
                    .unwrap_or(0);
            if size == 0 {
                // Trailers up to the blank line.
                loop {
                    let l = loop {
                        if let Some(i) = find(&self.buf, b"\r\n") {
                            break self.buf.drain(..i + 2).collect::<Vec<u8>>();
                        }
                        if !self.fill() {
                            return out;
                        }
                    };
                    out.extend_from_slice(&l);
                    if l == b"\r\n" {
                        return out;
                    }
                }
            }
            out.extend(self.exact(size + 2));
        }
    }

    fn request(&mut self) -> Option<Received> {
        let head = self.head()?;
        let body = match framing(&head) {
            Some(Framing::Length(n)) => self.exact(n),
            Some(Framing::Chunked) => self.chunked(),
            _ => vec![],
        };
        Some(Received { head, body })
    }

    fn response(&mut self, method_head: bool) -> Option<Vec<u8>> {
        let mut out = self.head()?;
        let status = out
            .get(9..12)
            .and_then(|s| std::str::from_utf8(s).ok()?.parse::<u16>().ok())
            .unwrap_or(0);
        if method_head || status < 200 || status == 204 || status == 304 {
            return Some(out);
        }
        match framing(&out) {
            Some(Framing::Length(n)) => {
                let body = self.exact(n);
                out.extend(body);
            }
            Some(Framing::Chunked) => {
                let body = self.chunked();
                out.extend(body);
            }
            None => {
                while self.fill() {}
                out.append(&mut self.buf);
            }
        }
        Some(out)
    }
}

enum Framing {
    Length(usize),
    Chunked,
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n").skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn framing(head: &[u8]) -> Option<Framing> {
    let text = String::from_utf8_lossy(head);
    if header(&text, "transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().ends_with("chunked"))
    {
        return Some(Framing::Chunked);
    }
    header(&text, "content-length")
        .and_then(|v| v.parse().ok())
        .map(Framing::Length)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A client connection that sends exact bytes and reads whole responses.
pub struct Client {
    stream: TcpStream,
    reader: Reader,
}

impl Client {
    pub fn connect(port: u16) -> Client {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let stream = TcpStream::connect_timeout(&addr, PATIENCE).expect("connect to the proxy");
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        Client {
            reader: Reader::new(stream.try_clone().unwrap()),
            stream,
        }
    }

    pub fn send(&mut self, bytes: &[u8]) -> &mut Self {
        self.stream.write_all(bytes).expect("send to the proxy");
        self
    }

    /// Shuts the client's writing side (the proxy reads an end of stream).
    pub fn shutdown_write(&mut self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Write);
    }

    /// The next whole response; None when the proxy closed before one.
    pub fn response(&mut self) -> Option<String> {
        self.reader
            .response(false)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    /// The next response to a HEAD request (a head only).
    pub fn head_response(&mut self) -> Option<String> {
        self.reader
            .response(true)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    /// Everything until the proxy closes (or PATIENCE runs out), and
    /// whether it closed.
    pub fn rest(&mut self) -> (String, bool) {
        while self.reader.fill() {}
        let closed = self.reader.closed;
        let text = String::from_utf8_lossy(&self.reader.buf).into_owned();
        self.reader.buf.clear();
        (text, closed)
    }
}

/// One request and its response on a fresh connection.
pub fn fetch(port: u16, request: &str) -> Option<String> {
    Client::connect(port).send(request.as_bytes()).response()
}
