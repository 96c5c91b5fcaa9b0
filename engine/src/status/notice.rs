//! What a state change says, in HAProxy 2.6's words: the message's head
//! (`Server be/s1`), its tail (srv_append_status: the servers left, the
//! streams requeued), and the alert when no server is left.

use std::sync::atomic::Ordering;

use super::Change;
use crate::backend::Backend;
use crate::log::syslog::{Level, Target};
use crate::log::{Logger, Severity};
use crate::server::ServerState;

/// One message to print on stderr and send to the backend's log targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub severity: Severity,
    pub stderr: String,
    pub level: Level,
    pub log: String,
    /// The backend's log targets.
    pub targets: Vec<Target>,
}

impl Notice {
    pub fn new(backend: &Backend, level: Level, message: String) -> Self {
        Notice {
            severity: Severity::Warning,
            stderr: message.clone(),
            level,
            log: message,
            targets: backend.log_targets.clone(),
        }
    }

    /// `backend 'b' has no server available!`, logged at emergency.
    pub fn no_server(backend: &Backend) -> Self {
        let (kind, name) = (backend.kind_word, &backend.name);
        Notice {
            severity: Severity::Alert,
            stderr: format!("{kind} '{name}' has no server available!"),
            level: Level::Emerg,
            log: format!("{kind} {name} has no server available!"),
            targets: backend.log_targets.clone(),
        }
    }

    pub async fn publish(&self, logger: &Logger) {
        logger.sink().emit(self.severity, &self.stderr);
        logger.send(&self.targets, self.level, &self.log).await;
    }
}

/// `Server be/s1` or `Backup Server be/s1`, as HAProxy's messages start.
pub(super) fn label(backend: &Backend, server: &ServerState) -> String {
    let kind = if server.is_backup() {
        "Backup Server"
    } else {
        "Server"
    };
    format!("{kind} {}/{}", backend.name, server.name())
}

/// HAProxy's srv_append_status tail, for an administrative change: the
/// servers left (or online); no stream is moved.
pub(super) fn tail(backend: &Backend, server: &ServerState) -> String {
    tail_moving(backend, server, 0, 0)
}

/// HAProxy's srv_append_status tail: the servers left (or online), the
/// streams sent back to the balancer (`requeued`) and those still queued
/// on the server.
fn tail_moving(
    backend: &Backend,
    server: &ServerState,
    requeued: usize,
    in_queue: usize,
) -> String {
    let (active, backup) = backend.count_up();
    let on_backup = if active == 0 && backup > 0 {
        " Running on backup."
    } else {
        ""
    };
    if server.is_up() {
        format!(". {active} active and {backup} backup servers online.{on_backup} {requeued} sessions requeued, {in_queue} total in queue")
    } else {
        format!(
            ". {active} active and {backup} backup servers left.{on_backup} {} sessions active, {requeued} requeued, {in_queue} remaining in queue",
            server.current_conns()
        )
    }
}

/// What an operational change (from a check, or forced) says, `why`
/// after the state: DOWN at alert (notice when it was stopping), UP and
/// stopping at notice, and the alert that no server is left.
pub(super) fn told(
    backend: &Backend,
    server: &ServerState,
    change: Change,
    why: &str,
) -> Vec<Notice> {
    let (state, level) = match change {
        Change::None => return vec![],
        Change::Down {
            was_stopping: false,
            ..
        } => ("DOWN", Level::Alert),
        Change::Down { .. } => ("DOWN", Level::Notice),
        Change::Up { .. } => ("UP", Level::Notice),
        Change::Stopping => ("stopping", Level::Notice),
    };
    let (requeued, in_queue) = match change {
        Change::Down { requeued, left, .. } => (requeued, left),
        Change::Up { requeued } => (requeued, server.queued.load(Ordering::Acquire)),
        _ => (0, server.queued.load(Ordering::Acquire)),
    };
    let message = format!(
        "{} is {state}{why}{}.",
        label(backend, server),
        tail_moving(backend, server, requeued, in_queue),
    );
    let mut notices = vec![Notice::new(backend, level, message)];
    if matches!(change, Change::Down { .. } | Change::Stopping) && backend.count_up() == (0, 0) {
        notices.push(Notice::no_server(backend));
    }
    notices
}
