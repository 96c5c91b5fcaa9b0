//! A server's administrative state: forced maintenance and forced drain,
//! set from the runtime API and the stats page, with the messages HAProxy
//! 2.6 prints for each transition (srv_adm_set_maint, _drain, _ready).
//!
//! HAProxy applies `set server <b>/<s> state maint|drain|ready` (and the
//! older `disable`/`enable server`) as two flag changes in a fixed order,
//! and each change may say something:
//!
//! | request | first | then |
//! |---|---|---|
//! | maint (`disable server`) | set maintenance | clear drain |
//! | drain | set drain | clear maintenance |
//! | ready (`enable server`) | clear drain | clear maintenance |
//!
//! Entering maintenance takes the server DOWN at once (health 0, checks
//! paused); leaving it sets the health to `rise`, so the server is UP
//! again and the next check decides. Drain keeps the server UP but out of
//! rotation. Changes under maintenance (drain set or cleared) are silent.

use super::notice::{label, tail, Notice};
use crate::backend::Backend;
use crate::log::syslog::Level;
use crate::server::ServerState;

/// What an operator asks of a server (`set server ... state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admin {
    Maint,
    Drain,
    Ready,
}

/// Applies `request` to `server`, returning what HAProxy would print.
pub fn set_admin(backend: &Backend, server: &ServerState, request: Admin) -> Vec<Notice> {
    let mut notices = Vec::new();
    match request {
        Admin::Maint => {
            enter_maint(backend, server, &mut notices);
            leave_drain(backend, server, &mut notices);
        }
        Admin::Drain => {
            enter_drain(backend, server, &mut notices);
            leave_maint(backend, server, &mut notices);
        }
        Admin::Ready => {
            leave_drain(backend, server, &mut notices);
            leave_maint(backend, server, &mut notices);
        }
    }
    notices
}

/// A forced state, set or cleared alone (the stats page's older actions:
/// `disable`/`enable` maintenance, `stop`/`start` drain).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    Maint,
    Drain,
}

/// Sets or clears one flag; None when it is already so (nothing changes).
pub fn set_flag(
    backend: &Backend,
    server: &ServerState,
    flag: Flag,
    on: bool,
) -> Option<Vec<Notice>> {
    let is = match flag {
        Flag::Maint => server.in_maint(),
        Flag::Drain => server.is_draining(),
    };
    if is == on {
        return None;
    }
    let mut notices = Vec::new();
    match (flag, on) {
        (Flag::Maint, true) => enter_maint(backend, server, &mut notices),
        (Flag::Maint, false) => leave_maint(backend, server, &mut notices),
        (Flag::Drain, true) => enter_drain(backend, server, &mut notices),
        (Flag::Drain, false) => leave_drain(backend, server, &mut notices),
    }
    Some(notices)
}

fn usable(backend: &Backend) -> usize {
    let (active, backup) = backend.count_up();
    active + backup
}

fn enter_maint(backend: &Backend, server: &ServerState, notices: &mut Vec<Notice>) {
    if server.in_maint() {
        return;
    }
    let before = usable(backend);
    let (was_up, was_draining) = (server.is_up(), server.is_draining());
    backend.update_server(server, |s| s.set_maint(true));
    let who = label(backend, server);
    if !was_up {
        notices.push(Notice::new(
            backend,
            Level::Notice,
            format!("{who} was DOWN and now enters maintenance."),
        ));
        return;
    }
    // A draining server was already out of rotation: no alert.
    let level = if was_draining {
        Level::Notice
    } else {
        Level::Alert
    };
    notices.push(Notice::new(
        backend,
        level,
        format!(
            "{who} is going DOWN for maintenance{}.",
            tail(backend, server)
        ),
    ));
    if before > 0 && usable(backend) == 0 {
        notices.push(Notice::no_server(backend));
    }
}

fn leave_maint(backend: &Backend, server: &ServerState, notices: &mut Vec<Notice>) {
    if !server.in_maint() {
        return;
    }
    backend.update_server(server, |s| s.set_maint(false));
    let who = label(backend, server);
    let state = if server.is_up() { "UP" } else { "DOWN" };
    let admin = if server.is_draining() {
        "DRAIN"
    } else {
        "READY"
    };
    notices.push(Notice::new(
        backend,
        Level::Notice,
        format!("{who} is {state}/{admin} (leaving forced maintenance)."),
    ));
    if server.is_draining() {
        notices.push(Notice::new(
            backend,
            Level::Notice,
            format!("{who} remains in forced drain mode."),
        ));
    }
}

fn enter_drain(backend: &Backend, server: &ServerState, notices: &mut Vec<Notice>) {
    if server.is_draining() {
        return;
    }
    let before = usable(backend);
    backend.update_server(server, |s| s.set_drain(true));
    if server.in_maint() {
        return;
    }
    notices.push(Notice::new(
        backend,
        Level::Notice,
        format!(
            "{} enters drain state{}.",
            label(backend, server),
            tail(backend, server)
        ),
    ));
    if before > 0 && usable(backend) == 0 {
        notices.push(Notice::no_server(backend));
    }
}

fn leave_drain(backend: &Backend, server: &ServerState, notices: &mut Vec<Notice>) {
    if !server.is_draining() {
        return;
    }
    backend.update_server(server, |s| s.set_drain(false));
    if server.in_maint() {
        return;
    }
    let state = if server.is_up() { "UP" } else { "DOWN" };
    notices.push(Notice::new(
        backend,
        Level::Notice,
        format!(
            "{} is {state} (leaving forced drain).",
            label(backend, server)
        ),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::proxy;

    fn backend() -> Backend {
        let cfg = "
defaults
    mode tcp
listen app
    bind :80
    server web1 10.0.0.1:80 check rise 2 fall 3
    server web2 10.0.0.2:80 check disabled
";
        Backend::new(&proxy(cfg), 1, vec![], 0)
    }

    fn levels(notices: &[Notice]) -> Vec<Level> {
        notices.iter().map(|n| n.level).collect()
    }

    #[test]
    fn a_configured_maintenance_starts_down_with_health_zero() {
        let b = backend();
        let web2 = &b.servers[1];
        assert!(web2.in_maint() && !web2.is_up());
        assert_eq!(web2.health.lock().unwrap().value(), 0);
        let notices = set_admin(&b, web2, Admin::Ready);
        assert_eq!(
            notices[0].stderr,
            "Server app/web2 is UP/READY (leaving forced maintenance)."
        );
        // Leaving maintenance: health rise, UP with no margin.
        assert_eq!(web2.health.lock().unwrap().value(), 2);
        assert_eq!(web2.status(), "UP 1/3");
    }

    #[test]
    fn going_down_for_maintenance_alerts_unless_draining() {
        let b = backend();
        let web1 = &b.servers[0];
        let down = set_admin(&b, web1, Admin::Maint);
        assert_eq!(levels(&down), [Level::Alert, Level::Emerg]);
        assert_eq!(down[1].log, "proxy app has no server available!");
        assert_eq!(levels(&set_admin(&b, web1, Admin::Maint)), []);
        assert_eq!(
            levels(&set_admin(&b, web1, Admin::Drain)),
            [Level::Notice; 2]
        );
        assert!(web1.is_draining() && !web1.in_maint());
        // From drain, maintenance is no surprise: notice, and no server
        // was usable before, so no second alert.
        assert_eq!(levels(&set_admin(&b, web1, Admin::Maint)), [Level::Notice]);
        assert!(!web1.is_draining());
    }
}
