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
    /// Works this long on the request (its service time), then answers.
    SendAfter(Duration, Vec<u8>),
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
    /// Listens on a port of its own (the system's choice, held from the
    /// start: no other test can take it meanwhile).
    pub fn start(script: impl Fn(&Received) -> Action + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind scripted server");
        let port = listener.local_addr().expect("a bound address").port();
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
    pub fn named(name: &'static str) -> Self {
        Self::start(move |_| Action::Send(ok_response(name)))
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
            Action::SendAfter(work, b) => {
                thread::sleep(work); // the server's service time, not a wait on anything
                if conn.write_all(&b).is_err() {
                    return;
                }
            }
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

    /// The connection itself, to end it as a test likes.
    pub fn into_stream(self) -> TcpStream {
        self.stream
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

/// One step of a client's script.
#[derive(Debug, Clone)]
pub enum Step {
    Send(&'static str),
    /// Read one whole response.
    Response,
    /// Read the response to a HEAD request.
    HeadResponse,
    /// Read until the proxy closes.
    UntilClose,
    /// Continue on a new client connection.
    Reconnect,
    /// A runtime API command on the proxy's stats socket (the
    /// configuration's `{SOCKET}`); its reply joins the transcript.
    Api(&'static str),
}

/// How a scripted server answers each request.
pub type Respond = fn(&Received) -> Action;

/// A side-by-side case: a configuration whose `{PORT}` is the proxy's
/// port and whose `{NAME}` placeholders are the servers', the servers'
/// scripts, the client's script, and how many log lines it produces.
pub struct Scenario<'a> {
    pub name: &'a str,
    pub config: &'a str,
    pub servers: &'a [(&'a str, Respond)],
    pub client: &'a [Step],
    pub logs: usize,
}

/// Runs `scenario` against each of `proxies` (`xtests::proxies!()`:
/// HAProxy 2.6 when installed, then the engine); their transcripts must be
/// equal, and the engine must log as many lines as the scenario says.
pub fn compare(proxies: &[std::path::PathBuf], scenario: &Scenario) {
    let what = format!("case {}", scenario.name);
    let engine = crate::side_by_side(proxies, &what, |bin| transcript(bin, scenario));
    let logged = engine.iter().filter(|l| l.starts_with("log ")).count();
    assert_eq!(logged, scenario.logs, "case {}: {engine:#?}", scenario.name);
}

/// What the client read (exact bytes, and whether the proxy closed), what
/// each server received (connections without a request, such as health
/// checks, left out), and the normalised log lines.
pub fn transcript(proxy_bin: &std::path::Path, scenario: &Scenario) -> Vec<String> {
    // The servers first: they hold their ports from the start.
    let started: Vec<(String, ScriptedServer)> = scenario
        .servers
        .iter()
        .map(|(name, script)| (name.to_string(), ScriptedServer::start(*script)))
        .collect();
    let port = crate::free_port();
    let socket = crate::socket_path(&format!("http-{port}"));
    let mut config = scenario
        .config
        .replace("{PORT}", &port.to_string())
        .replace("{SOCKET}", &socket.display().to_string());
    for (name, s) in &started {
        config = config.replace(&format!("{{{name}}}"), &format!("127.0.0.1:{}", s.port));
        config = config.replace(&format!("{{{name}_PORT}}"), &s.port.to_string());
    }
    let servers = started;
    let path = crate::config_file(&format!("http-{}-{port}", scenario.name), &config);
    let mut proxy = crate::ProxyProcess::start(proxy_bin, &path);
    proxy.wait_bound(port, Duration::from_secs(5));

    let mut out = vec![];
    let mut client = Client::connect(port);
    for step in scenario.client {
        match step {
            Step::Send(bytes) => {
                client.send(bytes.as_bytes());
            }
            Step::Response => out.push(format!("client< {:?}", client.response())),
            Step::HeadResponse => out.push(format!("client< {:?}", client.head_response())),
            Step::UntilClose => {
                let (rest, closed) = client.rest();
                out.push(format!("client< {rest:?} closed={closed}"));
            }
            Step::Reconnect => client = Client::connect(port),
            Step::Api(command) => {
                let reply = crate::api(&socket, command);
                out.push(format!("api< {reply:?}"));
            }
        }
    }
    for (name, server) in &servers {
        let with_requests = server.connections().into_iter().filter(|c| !c.is_empty());
        for (i, conn) in with_requests.enumerate() {
            for r in conn {
                out.push(format!(
                    "{name}#{i}< {:?} {:?}",
                    r.head_text(),
                    String::from_utf8_lossy(&r.body)
                ));
            }
        }
    }
    // With several client connections, the concurrency counters depend on
    // when the proxy noticed the earlier ones close: not compared then.
    // So does the order of their lines (each is written when its
    // connection ends): sorted then.
    let racy = scenario.client.iter().any(|s| matches!(s, Step::Reconnect));
    let mut logs = wait_logs(&proxy, scenario.logs);
    if racy {
        logs = logs.iter().map(|l| without_counts(l)).collect();
        logs.sort();
    }
    out.extend(logs);
    out
}

/// A normalised log line with `%ac/%fc/%bc/%sc` blanked (`%rc` kept).
fn without_counts(line: &str) -> String {
    let mut words: Vec<String> = line.split(' ').map(str::to_string).collect();
    // "log CLIENT [DATE] fe be/srv timers status bytes - - tsc counts ..."
    if let Some(c) = words.get_mut(11) {
        let retries = c.rsplit('/').next().unwrap_or("").to_string();
        *c = format!("*/*/*/*/{retries}");
    }
    words.join(" ")
}

/// The httplog lines on the proxy's stderr, normalised; waits (bounded)
/// for `n` of them: a missing one shows in the comparison that follows.
pub fn wait_logs(proxy: &crate::ProxyProcess, n: usize) -> Vec<String> {
    let lines = || -> Vec<String> {
        proxy
            .stderr()
            .lines()
            .filter(|l| l.starts_with("127.0.0.1:"))
            .map(normalize)
            .collect()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while lines().len() < n && std::time::Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10)); // polling another process's output
    }
    lines()
}

/// `127.0.0.1:PORT [DATE] L L/s1 TR/Tw/Tc/Tr/Ta ...`: the port and date
/// go; each timer keeps -1 or its value to the nearest 500 ms.
pub fn normalize(line: &str) -> String {
    let mut words: Vec<String> = line.split(' ').map(str::to_string).collect();
    words[0] = "CLIENT".into();
    words[1] = "[DATE]".into();
    if let Some(t) = words.get_mut(4) {
        *t = t
            .split('/')
            .map(|v| match v.parse::<i64>() {
                Ok(-1) => "-1".to_string(),
                Ok(ms) => ((ms + 250) / 500 * 500).to_string(),
                Err(_) => v.to_string(),
            })
            .collect::<Vec<_>>()
            .join("/");
    }
    format!("log {}", words.join(" "))
}
