//! What a simulation prints: every line stamped with its virtual time, in
//! the order the simulation produced them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use engine::log::{self, LogSink, Severity};

use crate::report::Streams;

#[derive(Clone, Default)]
pub struct Transcript {
    lines: Arc<Mutex<Vec<String>>>,
}

impl Transcript {
    /// Notes a line from inside a simulated host, at the current virtual time.
    pub fn note(&self, who: &str, text: &str) {
        self.note_at(turmoil::sim_elapsed().unwrap_or_default(), who, text);
    }

    /// Notes a line at a given virtual time (from the driver, between steps).
    pub fn note_at(&self, at: Duration, who: &str, text: &str) {
        let line = format!("{:>8.3}s {who:<10} {text}", at.as_secs_f64());
        self.lines.lock().expect("transcript lock").push(line);
    }

    /// A log sink that writes the engine's messages here, as HAProxy would
    /// print them on stderr, and tells `streams` of every stream it ends.
    pub fn sink(&self, who: &str, pid: u32, streams: Streams) -> TranscriptSink {
        TranscriptSink {
            transcript: self.clone(),
            who: who.to_string(),
            pid,
            streams,
        }
    }

    /// Lines so far.
    pub fn len(&self) -> usize {
        self.lines.lock().expect("transcript lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn render(&self) -> String {
        let lines = self.lines.lock().expect("transcript lock");
        let mut out = lines.join("\n");
        out.push('\n');
        out
    }
}

pub struct TranscriptSink {
    transcript: Transcript,
    who: String,
    pid: u32,
    streams: Streams,
}

impl LogSink for TranscriptSink {
    fn emit(&self, severity: Severity, message: &str) {
        self.transcript
            .note(&self.who, &log::stderr_line(severity, self.pid, message));
    }

    fn observes_streams(&self) -> bool {
        true
    }

    fn stream(&self, fields: &log::render::Fields) {
        self.streams.record(&self.who, fields);
    }

    /// `log stdout`/`log stderr` lines join the transcript too.
    fn stdio(&self, _to_stderr: bool, line: &str) {
        self.transcript.note(&self.who, line.trim_end());
    }
}
