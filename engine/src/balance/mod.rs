//! Load-balancing algorithms: which server takes the next connection.
//!
//! Shaped like HAProxy's `lb_ops`: an algorithm owns its view of which
//! servers are usable, is told when one goes up or down, and picks the next
//! server itself, actives before backups, skipping saturated servers and
//! avoiding the one a redispatch wants to leave. One file per algorithm
//! family, as HAProxy's lb_*.c:
//! - [`roundrobin`]: `roundrobin` (lb_fwrr.c);
//! - [`map`]: `static-rr` and the map-based hashes, `source` (lb_map.c);
//! - [`chash`]: `hash-type consistent` (lb_chash.c);
//! - [`leastconn`]: `leastconn` (lb_fwlc.c);
//! - [`first`]: `first` (lb_fas.c).

mod chash;
mod first;
pub mod key;
mod leastconn;
mod map;
mod roundrobin;

pub use chash::{full_hash, Chash};
pub use first::First;
pub use key::{sdbm, source_key, HashFn, HashInput, Hashing};
pub use leastconn::LeastConn;
pub use map::Map;
pub use roundrobin::RoundRobin;

/// What an algorithm needs to know of a server when the backend starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerInfo {
    /// The user weight, 0..=256.
    pub weight: u32,
    pub backup: bool,
    /// Up and not in maintenance at start (its weight aside).
    pub usable: bool,
    /// The server's `id` (declaration position from 1 by default).
    pub id: u32,
}

/// One choice to make.
pub struct Pick<'a> {
    /// Whether a server is below its `maxconn`.
    pub has_room: &'a dyn Fn(usize) -> bool,
    /// The server a redispatch leaves: taken only if nothing else has room.
    pub avoid: Option<usize>,
    /// The request's hash key for hash-based algorithms; None falls back
    /// to round robin, as HAProxy does for a missing key.
    pub key: Option<u32>,
    /// A server's connections in flight and the order in which the counts
    /// last changed (for leastconn).
    pub inflight: &'a dyn Fn(usize) -> (u32, u64),
}

/// The contract of an algorithm. Servers are named by their index in the
/// backend, in declaration order.
pub trait Algorithm: Send {
    /// The next server: a usable active one, or else a backup (the first
    /// usable one unless `option allbackups`). None when no usable server
    /// can take it.
    fn next_server(&mut self, pick: &Pick) -> Option<usize>;
    /// A server became usable (check passed, maintenance ended).
    fn server_up(&mut self, server: usize);
    /// A server stopped being usable.
    fn server_down(&mut self, server: usize);
    /// A server's weight changed (the runtime API); 0 takes it out of
    /// rotation without marking it down.
    fn set_weight(&mut self, server: usize, weight: u32);
    /// Whether weights may only be 0 or their initial value (HAProxy's
    /// static algorithms).
    fn is_static(&self) -> bool {
        false
    }
}

/// The runtime algorithm for a configured `balance` keyword; None for the
/// ones not built yet, which the engine refuses to start with.
pub fn for_config(
    balance: &crate::config::Balance,
    hash_type: &crate::config::HashType,
    servers: &[ServerInfo],
    allbackups: bool,
    seed: u64,
) -> Option<Box<dyn Algorithm>> {
    use crate::config::Balance;
    Some(match balance {
        Balance::RoundRobin => Box::new(RoundRobin::new(servers, allbackups)),
        Balance::Source | Balance::Uri(_) | Balance::UrlParam(_) | Balance::Hdr { .. }
            if hash_type.consistent =>
        {
            Box::new(Chash::new(servers, allbackups))
        }
        Balance::StaticRr
        | Balance::Source
        | Balance::Uri(_)
        | Balance::UrlParam(_)
        | Balance::Hdr { .. } => Box::new(Map::new(servers, allbackups)),
        Balance::LeastConn => Box::new(LeastConn::new(servers, allbackups)),
        Balance::First => Box::new(First::new(servers, allbackups)),
        Balance::Random(draws) => Box::new(Chash::random(servers, allbackups, *draws, seed)),
        _ => return None,
    })
}

/// Which group a pick draws from, in HAProxy's order: usable actives,
/// else the first usable backup alone (unless `option allbackups`), else
/// every usable backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Actives,
    OnlyBackup(usize),
    Backups,
    None,
}

/// The group for `servers` described as (backup, usable) pairs.
pub fn group(servers: impl Iterator<Item = (bool, bool)> + Clone, allbackups: bool) -> Group {
    if servers.clone().any(|(b, u)| u && !b) {
        Group::Actives
    } else if let (false, Some(first)) = (allbackups, servers.clone().position(|(b, u)| u && b)) {
        Group::OnlyBackup(first)
    } else if servers.clone().any(|(b, u)| u && b) {
        Group::Backups
    } else {
        Group::None
    }
}
