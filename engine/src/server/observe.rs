//! Passive health checks (`observe layer4|layer7`, `error-limit`,
//! `on-error`), as HAProxy 2.6's health_adjust: the traffic itself reports
//! successes and errors; `error-limit` errors in a row trigger `on-error`:
//! the server's check task reports them as a failed passive check (HANA),
//! which the status module applies.
//!
//! Kept with the server, below the balancer and the checks: streams
//! record [`Event`]s on the data path.

use std::sync::Mutex;

use tokio::sync::Notify;

use crate::config::Observe;

/// What a stream saw of its server (HAProxy's HANA_STATUS_*).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A connection opened.
    L4Ok,
    /// A connection attempt failed.
    L4Err,
    /// A response below 500, or 501 or 505 (which clients cause).
    HttpOk,
    /// Any other 5xx.
    HttpSts,
    /// A response head that could not be parsed.
    HttpHdrRsp,
    /// A response broken later.
    HttpRsp,
    ReadError,
    ReadTimeout,
    /// The server closed before answering.
    BrokenPipe,
}

impl Event {
    /// HAProxy's words for the last error in the `Health analyze` info.
    fn desc(self) -> &'static str {
        match self {
            Event::L4Ok => "L4 successful connection",
            Event::L4Err => "L4 unsuccessful connection",
            Event::HttpOk => "Correct http response",
            Event::HttpSts => "Wrong http response",
            Event::HttpHdrRsp => "Invalid http response (headers)",
            Event::HttpRsp => "Invalid http response",
            Event::ReadError => "Read error (http)",
            Event::ReadTimeout => "Read timeout (http)",
            Event::BrokenPipe => "Close from server (http)",
        }
    }

    /// Some(true) for an error, Some(false) for a success, None when the
    /// mode ignores it (HAProxy's analyze_statuses table).
    fn failed(self, mode: Observe) -> Option<bool> {
        match (mode, self) {
            (Observe::None, _) => None,
            (_, Event::L4Err) => Some(true),
            (Observe::Layer4, Event::L4Ok) => Some(false),
            (Observe::Layer4, _) => None,
            (Observe::Layer7, Event::L4Ok) => None,
            (Observe::Layer7, Event::HttpOk) => Some(false),
            (Observe::Layer7, _) => Some(true),
        }
    }
}

/// A server's run of observed errors, and the alert its check task takes.
#[derive(Default)]
pub struct Analysis {
    state: Mutex<State>,
    /// Wakes the check task when the limit is reached.
    pub alert: Notify,
}

#[derive(Default)]
struct State {
    consecutive: u32,
    /// The failures to apply, in order (each "Detected N consecutive
    /// errors, last one was: ..."): several may come before the check
    /// task runs.
    pending: Vec<String>,
    /// Times the limit was reached (`hanafail` in the stats).
    triggered: u64,
}

impl Analysis {
    /// Records one event under `mode`; at `limit` errors in a row, leaves
    /// an alert for the check task.
    pub fn record(&self, mode: Observe, limit: u32, event: Event) {
        let Some(failed) = event.failed(mode) else {
            return;
        };
        let mut s = self.state.lock().expect("analysis lock");
        if !failed {
            s.consecutive = 0;
            return;
        }
        s.consecutive += 1;
        if s.consecutive < limit {
            return;
        }
        let info = format!(
            "Detected {} consecutive errors, last one was: {}",
            s.consecutive,
            event.desc()
        );
        s.pending.push(info);
        s.consecutive = 0;
        s.triggered += 1;
        drop(s);
        self.alert.notify_one();
    }

    /// A passing active check forgets the errors seen so far.
    pub fn clear(&self) {
        self.state.lock().expect("analysis lock").consecutive = 0;
    }

    /// The alerts left by [`Analysis::record`], oldest first, once.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.state.lock().expect("analysis lock").pending)
    }

    pub fn clear_triggered(&self) {
        self.state.lock().expect("analysis lock").triggered = 0;
    }

    pub fn triggered(&self) -> u64 {
        self.state.lock().expect("analysis lock").triggered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_counts_errors_in_a_row_and_successes_reset_it() {
        let a = Analysis::default();
        for e in [
            Event::L4Err,
            Event::L4Err,
            Event::L4Ok,
            Event::L4Err,
            Event::L4Err,
        ] {
            a.record(Observe::Layer4, 3, e);
        }
        assert!(a.take().is_empty());
        a.record(Observe::Layer4, 3, Event::L4Err);
        assert_eq!(
            a.take(),
            ["Detected 3 consecutive errors, last one was: L4 unsuccessful connection"]
        );
        assert_eq!(a.triggered(), 1);
        // Two runs before the check task looks: both are kept.
        for _ in 0..6 {
            a.record(Observe::Layer4, 3, Event::L4Err);
        }
        assert_eq!(a.take().len(), 2);
    }

    #[test]
    fn layer7_watches_responses_and_ignores_connections_that_open() {
        let a = Analysis::default();
        for e in [Event::HttpSts, Event::L4Ok, Event::ReadTimeout] {
            a.record(Observe::Layer7, 2, e);
        }
        assert_eq!(
            a.take(),
            ["Detected 2 consecutive errors, last one was: Read timeout (http)"]
        );
        // Layer 4 does not see responses.
        for _ in 0..5 {
            a.record(Observe::Layer4, 1, Event::HttpSts);
        }
        assert!(a.take().is_empty());
    }
}
