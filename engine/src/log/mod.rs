//! Where the engine's messages go.
//!
//! Two channels, as in HAProxy:
//! - the process's own messages (servers going DOWN or UP, a backend with
//!   no server left, a proxy stopped) on stderr, in HAProxy's shape:
//!   `[WARNING]  (PID) : Server be/s1 is DOWN, ...` ([`LogSink`]);
//! - log lines (traffic, and the same events) sent to each proxy's `log`
//!   targets, framed as syslog ([`Logger`], [`syslog`]), through the
//!   network seam so simulated collectors receive them too.
//!
//! [`tcplog`] and [`httplog`] hold what a TCP stream and an HTTP request
//! log; [`format`] parses `log-format` strings and [`render`] writes them.

pub mod format;
pub mod httplog;
pub mod render;
pub mod syslog;
pub mod tcplog;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use crate::net::{Datagram, Net};
use syslog::{Dest, Level, Target};

/// Severity, in HAProxy's stderr vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Notice,
    Warning,
    Alert,
}

impl Severity {
    /// The padded tag HAProxy prints: `[ALERT]    `, `[WARNING]  `, `[NOTICE]   `.
    pub fn tag(self) -> &'static str {
        match self {
            Severity::Notice => "[NOTICE]   ",
            Severity::Warning => "[WARNING]  ",
            Severity::Alert => "[ALERT]    ",
        }
    }
}

/// Receives every message the running engine prints.
pub trait LogSink: Send + Sync + 'static {
    /// A message for stderr, e.g. a server state change.
    fn emit(&self, severity: Severity, message: &str);

    /// Whether [`LogSink::stream`] wants every finished stream, logged or
    /// not (the simulator's report does; production sinks do not, and
    /// streams then build their log fields only for `log` targets).
    fn observes_streams(&self) -> bool {
        false
    }

    /// A stream (TCP) or request (HTTP) ended with these log fields,
    /// whatever the proxy's `log` settings: status, termination state,
    /// timers. Called only when [`LogSink::observes_streams`].
    fn stream(&self, fields: &render::Fields) {
        let _ = fields;
    }

    /// A framed log line for a `log stdout` or `log stderr` target.
    fn stdio(&self, to_stderr: bool, line: &str) {
        if to_stderr {
            eprint!("{line}");
        } else {
            print!("{line}");
        }
    }
}

/// Formats a message as HAProxy 2.6 writes it to stderr.
pub fn stderr_line(severity: Severity, pid: u32, message: &str) -> String {
    format!("{}({pid}) : {message}", severity.tag())
}

/// Writes to stderr, as HAProxy does in the foreground (silenced by `-q`).
pub struct Stderr {
    pub pid: u32,
    pub quiet: bool,
}

impl LogSink for Stderr {
    fn emit(&self, severity: Severity, message: &str) {
        if !self.quiet {
            eprintln!("{}", stderr_line(severity, self.pid, message));
        }
    }
}

/// Keeps every message in memory, in order: for tests and the simulator.
#[derive(Default)]
pub struct Memory {
    lines: Mutex<Vec<(Severity, String)>>,
}

impl Memory {
    pub fn lines(&self) -> Vec<(Severity, String)> {
        self.lines.lock().expect("log lock").clone()
    }
}

impl LogSink for Memory {
    fn emit(&self, severity: Severity, message: &str) {
        self.lines
            .lock()
            .expect("log lock")
            .push((severity, message.to_string()));
    }
}

/// Sends log lines to syslog targets. One UDP socket per address family,
/// bound on first use.
pub struct Logger {
    net: Arc<dyn Net>,
    sink: Arc<dyn LogSink>,
    /// The program name in the syslog header (HAProxy's `log-tag`).
    tag: String,
    /// `log-send-hostname`: the host name in the syslog header.
    host: Option<String>,
    udp_v4: OnceCell<Option<Box<dyn Datagram>>>,
    udp_v6: OnceCell<Option<Box<dyn Datagram>>>,
}

impl Logger {
    pub fn new(net: Arc<dyn Net>, sink: Arc<dyn LogSink>, tag: &str) -> Self {
        Logger {
            net,
            sink,
            tag: tag.to_string(),
            host: None,
            udp_v4: OnceCell::new(),
            udp_v6: OnceCell::new(),
        }
    }

    /// With `log-send-hostname`: this host name in every syslog header.
    pub fn with_host(mut self, host: Option<String>) -> Self {
        self.host = host;
        self
    }

    /// The stderr side, for messages that also go to the targets.
    pub fn sink(&self) -> &dyn LogSink {
        &*self.sink
    }

    /// Sends `message` at `level` to every target that accepts it. A lost
    /// datagram is lost, as with syslog over UDP: logging never blocks or
    /// fails a stream.
    pub async fn send(&self, targets: &[Target], level: Level, message: &str) {
        for target in targets {
            let Some(level) = target.accepts(level) else {
                continue;
            };
            let line = target.frame(
                level,
                self.net.wall_clock(),
                &self.tag,
                self.host.as_deref(),
                self.net.pid(),
                message,
            );
            match &target.dest {
                Dest::Udp(addr) => {
                    if let Some(socket) = self.socket_for(addr).await {
                        let _ = socket.send_to(line.as_bytes(), *addr).await;
                    }
                }
                Dest::Unix(path) => {
                    let _ = self.net.send_unix(path, line.as_bytes()).await;
                }
                Dest::Stdout => self.sink.stdio(false, &line),
                Dest::Stderr => self.sink.stdio(true, &line),
            }
        }
    }

    async fn socket_for(&self, addr: &SocketAddr) -> Option<&dyn Datagram> {
        let (cell, any): (_, SocketAddr) = match addr {
            SocketAddr::V4(_) => (&self.udp_v4, ([0, 0, 0, 0], 0).into()),
            SocketAddr::V6(_) => (&self.udp_v6, ([0u16; 8], 0).into()),
        };
        cell.get_or_init(|| async { self.net.bind_udp(any).await.ok() })
            .await
            .as_deref()
    }
}
