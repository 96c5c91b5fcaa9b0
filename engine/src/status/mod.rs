//! Every change of a server's state, in one place, as HAProxy's
//! srv_update_status and srv_set_* (server.c): UP, DOWN, stopping (NOLB),
//! maintenance, drain, weight, the start of a warm-up, the streams
//! requeued by a change, the sessions cut by one, and the messages each
//! change prints.
//!
//! Callers say what happened; this module decides what it changes:
//! - [`checked`]: a health check's report (the checks only probe);
//! - [`set_admin`], [`set_flag`]: maintenance and drain (the runtime API,
//!   the stats page), in `admin.rs`;
//! - [`force`]: a forced health (`set server ... health`, the stats
//!   page's hrunn/hnolb/hdown);
//! - [`set_weight`], [`set_checks`], [`kill_sessions`]: the runtime API's
//!   and the stats page's other server commands;
//! - [`spawn_warm_ups`]: the `slowstart` ticks that raise a warming
//!   server's weight.
//!
//! Below it, [`crate::server`] holds the flags and
//! [`Backend::update_server`] keeps the balancer in step with them; above
//! it, the checks, the runtime API and the stats page call in. Nothing
//! else changes a server's state. What a change says is `notice.rs`'s;
//! what a check's report does, `checked.rs`'s.

mod admin;
mod checked;
mod notice;
pub mod restore;
mod warmup;

pub use admin::{set_admin, set_flag, Admin, Flag};
pub use checked::checked;
pub use notice::Notice;
pub use warmup::spawn_warm_ups;

use crate::backend::Backend;
use crate::server::ServerState;
use crate::shutdown::Why;

/// What a change did to a server's operational state, for its message
/// and the sessions it cuts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    None,
    /// Logged at notice rather than alert when it was stopping; with the
    /// streams its queue gave back to the balancer, and those left.
    Down {
        was_stopping: bool,
        requeued: usize,
        left: usize,
    },
    /// With the streams it takes from the backend's queue.
    Up {
        requeued: usize,
    },
    /// Into NOLB (`http-check disable-on-404`).
    Stopping,
}

/// Takes an UP server DOWN (out of NOLB too).
fn go_down(backend: &Backend, server: &ServerState) -> Change {
    let was_stopping = server.is_stopping();
    // Counted before the queued streams are woken to move.
    let (requeued, left) = backend.requeue_on_down(server);
    server.set_stopping(false);
    set_up(backend, server, false);
    Change::Down {
        was_stopping,
        requeued,
        left,
    }
}

/// UP now: the streams of the backend's queue it takes.
fn came_up(backend: &Backend, server: &ServerState) -> Change {
    Change::Up {
        requeued: backend.requeue_on_up(server),
    }
}

/// In or out of rotation; a server back UP starts its warm-up (see
/// [`ServerState::set_up`]).
fn set_up(backend: &Backend, server: &ServerState, up: bool) {
    backend.update_server(server, |s| s.set_up(up));
}

/// Into or out of NOLB.
fn set_stopping(backend: &Backend, server: &ServerState, stopping: bool) {
    backend.update_server(server, |s| s.set_stopping(stopping));
}

/// A health state an operator forces (`set server <b>/<s> health`, the
/// stats page's force UP / NOLB / DOWN actions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forced {
    Up,
    Stopping,
    Down,
}

/// Forces a server's health as HAProxy's srv_set_running, _stopping and
/// _stopped do: the counter to its top (or 0), the state changed if it
/// differs, and the change told with `why` as its reason (`changed from
/// CLI`); nothing is said when the server is already so.
pub fn force(backend: &Backend, server: &ServerState, to: Forced, why: &str) -> Vec<Notice> {
    server
        .health
        .lock()
        .expect("health lock")
        .force(to != Forced::Down);
    let up = server.is_up();
    let stopping = server.is_stopping();
    let change = match to {
        Forced::Down if up => go_down(backend, server),
        Forced::Up if !up || stopping => {
            if up {
                set_stopping(backend, server, false);
            } else {
                set_up(backend, server, true);
            }
            came_up(backend, server)
        }
        Forced::Stopping if !up || !stopping => {
            if !up {
                set_up(backend, server, true);
            }
            set_stopping(backend, server, true);
            Change::Stopping
        }
        _ => return vec![],
    };
    let notices = notice::told(backend, server, change, &format!(", {why}"));
    cut_sessions(backend, server, change);
    notices
}

/// `set weight`: a new user weight (the caller has checked it is one
/// the algorithm takes).
pub fn set_weight(backend: &Backend, server: &ServerState, weight: u32) {
    backend.update_weight(server, weight);
}

/// `disable health` / `enable health`: checks stop, the state staying as
/// the last one left it, or resume.
pub fn set_checks(server: &ServerState, on: bool) {
    server.set_checks_on(on);
}

/// `shutdown sessions server`: its connections are cut, logged `K`.
pub fn kill_sessions(server: &ServerState) {
    server.cuts.cut(Why::Killed);
}

/// `on-marked-down shutdown-sessions` and `on-marked-up
/// shutdown-backup-sessions`, once the change is told (HAProxy logs the
/// cut streams after the state change).
fn cut_sessions(backend: &Backend, server: &ServerState, change: Change) {
    let c = &server.config.check;
    match change {
        Change::Down { .. } if c.shutdown_on_down => server.cuts.cut(Why::Down),
        Change::Up { .. } if c.shutdown_backups_on_up && !server.is_backup() => {
            for backup in backend.servers.iter().filter(|s| s.is_backup()) {
                backup.cuts.cut(Why::Up);
            }
        }
        _ => {}
    }
}
