//! Load-balancing algorithms: which server takes the next connection.
//!
//! Shaped like HAProxy's `lb_ops`: an algorithm owns its view of which
//! servers are usable, is told when one goes up or down, and picks the next
//! server itself, actives before backups, skipping saturated servers and
//! avoiding the one a redispatch wants to leave. One file per algorithm
//! family, as HAProxy's lb_*.c.

mod roundrobin;

pub use roundrobin::RoundRobin;

/// What an algorithm needs to know of a server when the backend starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerInfo {
    /// The user weight, 0..=256.
    pub weight: u32,
    pub backup: bool,
    /// Up and not in maintenance at start.
    pub usable: bool,
}

/// The contract of an algorithm. Servers are named by their index in the
/// backend, in declaration order.
pub trait Algorithm: Send {
    /// The next server: a usable active one, or else a backup (the first
    /// usable one unless `option allbackups`). Servers for which `has_room`
    /// is false are skipped; `avoid` is taken only if nothing else has
    /// room. None when no usable server has room.
    fn next_server(
        &mut self,
        has_room: &dyn Fn(usize) -> bool,
        avoid: Option<usize>,
    ) -> Option<usize>;
    /// A server became usable (check passed, maintenance ended).
    fn server_up(&mut self, server: usize);
    /// A server stopped being usable.
    fn server_down(&mut self, server: usize);
}

/// The runtime algorithm for a configured `balance` keyword. Only
/// roundrobin runs yet: None for the others, which the engine refuses to
/// start with.
pub fn for_config(
    balance: &crate::config::Balance,
    servers: &[ServerInfo],
    allbackups: bool,
) -> Option<Box<dyn Algorithm>> {
    match balance {
        crate::config::Balance::RoundRobin => Some(Box::new(RoundRobin::new(servers, allbackups))),
        _ => None,
    }
}
