//! Where the engine's messages go.
//!
//! For now the engine reports state changes (servers going DOWN or UP, a
//! backend with no server left) the way HAProxy prints them on stderr:
//! `[WARNING]  (PID) : Server be/s1 is DOWN, ...`. Syslog targets come with
//! the observability work; the sink is a trait so the simulator can collect
//! the same lines.

use std::sync::Mutex;

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

/// Receives every message the running engine emits.
pub trait LogSink: Send + Sync + 'static {
    fn emit(&self, severity: Severity, message: &str);
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
