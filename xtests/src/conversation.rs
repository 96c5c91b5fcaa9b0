//! A scripted conversation server for check tests: each connection runs a
//! list of steps (write these bytes, read a line, read n bytes, stay
//! silent, pause), then closes, and every byte each connection received
//! is kept. The test can change the script between checks, so that a
//! failing server starts to pass.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// How long a check server waits for bytes: longer than the proxies'
/// `timeout check` in these tests, after which they close.
pub const PATIENCE: Duration = Duration::from_secs(2);

/// One step of a check server's side of the conversation; after the last
/// step, the server closes.
#[derive(Debug, Clone)]
pub enum Step {
    /// Writes these bytes.
    Write(Vec<u8>),
    /// Reads up to and including the next CRLF.
    Line,
    /// Reads exactly this many bytes.
    Bytes(usize),
    /// Says nothing; reads until the peer closes.
    Silent,
    /// Waits this long (the server's own pace, e.g. between two writes).
    Pause(Duration),
}

/// `Step::Write` of a copy of `bytes`.
pub fn write(bytes: &[u8]) -> Step {
    Step::Write(bytes.to_vec())
}

/// A server that runs a script on each connection and records every byte
/// each connection received. The test can change the script.
pub struct CheckServer {
    pub port: u16,
    script: Arc<Mutex<Vec<Step>>>,
    received: Arc<Mutex<Vec<Vec<u8>>>>,
    /// Connections whose script has ended (or whose peer went away).
    ended: Arc<std::sync::atomic::AtomicUsize>,
}

impl CheckServer {
    /// Listens on a free port of 127.0.0.1.
    pub fn start(script: Vec<Step>) -> CheckServer {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind check server");
        let port = listener.local_addr().expect("a bound address").port();
        let script = Arc::new(Mutex::new(script));
        let received: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
        let ended: Arc<std::sync::atomic::AtomicUsize> = Arc::default();
        {
            let (script, received, ended) = (script.clone(), received.clone(), ended.clone());
            thread::spawn(move || {
                for conn in listener.incoming() {
                    let Ok(conn) = conn else { break };
                    let steps = script.lock().unwrap().clone();
                    let index = {
                        let mut all = received.lock().unwrap();
                        all.push(vec![]);
                        all.len() - 1
                    };
                    let (received, ended) = (received.clone(), ended.clone());
                    thread::spawn(move || {
                        converse(conn, steps, &received, index);
                        ended.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
                    });
                }
            });
        }
        CheckServer {
            port,
            script,
            received,
            ended,
        }
    }

    /// The script for the connections to come.
    pub fn set(&self, script: Vec<Step>) {
        *self.script.lock().unwrap() = script;
    }

    /// How many connections came so far.
    pub fn connections(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    /// The bytes each connection received, in accept order.
    pub fn received(&self) -> Vec<Vec<u8>> {
        self.received.lock().unwrap().clone()
    }

    /// Whether every connection so far has ended its script (with
    /// `Step::Silent`: the peer closed it).
    pub fn all_ended(&self) -> bool {
        self.ended.load(std::sync::atomic::Ordering::Acquire) == self.connections()
    }

    /// The bytes the first connection received, escaped.
    pub fn first_request(&self) -> String {
        let all = self.received.lock().unwrap();
        all.first().expect("a check").escape_ascii().to_string()
    }
}

/// Runs `script` on `conn`, appending what it reads to `log[index]`.
pub fn converse(mut conn: TcpStream, script: Vec<Step>, log: &Mutex<Vec<Vec<u8>>>, index: usize) {
    let _ = conn.set_read_timeout(Some(PATIENCE));
    let mut pending: Vec<u8> = vec![];
    // Reads what came into `pending`; false once nothing more will.
    let fill = |conn: &mut TcpStream, pending: &mut Vec<u8>| {
        let mut chunk = [0u8; 4096];
        match conn.read(&mut chunk) {
            Ok(n) if n > 0 => {
                pending.extend_from_slice(&chunk[..n]);
                log.lock().unwrap()[index].extend_from_slice(&chunk[..n]);
                true
            }
            _ => false,
        }
    };
    for step in script {
        match step {
            Step::Write(bytes) => {
                if conn.write_all(&bytes).is_err() {
                    return;
                }
            }
            Step::Line => loop {
                if let Some(i) = pending.windows(2).position(|w| w == b"\r\n") {
                    pending.drain(..i + 2);
                    break;
                }
                if !fill(&mut conn, &mut pending) {
                    return;
                }
            },
            Step::Bytes(n) => {
                while pending.len() < n {
                    if !fill(&mut conn, &mut pending) {
                        return;
                    }
                }
                pending.drain(..n);
            }
            Step::Silent => while fill(&mut conn, &mut pending) {},
            Step::Pause(pace) => thread::sleep(pace),
        }
    }
}
