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

/// HAProxy's BE_WEIGHT_SCALE: a user weight is worth this many units of
/// effective weight, so that a warming server can take fractions of it.
pub const WEIGHT_SCALE: u32 = 16;

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
    /// Whether a server can take a connection now: below its `maxconn`,
    /// nobody waiting in its own queue.
    pub has_room: &'a dyn Fn(usize) -> bool,
    /// Whether a server can take one more, counting its queue: below
    /// `maxconn` plus `maxqueue` (leastconn chooses such a server and
    /// the connection waits in its queue, as lb_fwlc does).
    pub may_queue: &'a dyn Fn(usize) -> bool,
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
    /// A server's effective weight changed: the runtime API set its user
    /// weight, or it warms up after `slowstart`. Effective weights are user
    /// weights times [`WEIGHT_SCALE`], less while warming up (only dynamic
    /// algorithms are given those). 0 takes the server out of rotation
    /// without marking it down.
    fn set_weight(&mut self, server: usize, eweight: u32);
    /// Whether weights may only be 0 or their initial value (HAProxy's
    /// static algorithms).
    fn is_static(&self) -> bool {
        false
    }
}

/// The runtime algorithm for a configured `balance` keyword.
pub fn for_config(
    balance: &crate::config::Balance,
    hash_type: &crate::config::HashType,
    servers: &[ServerInfo],
    allbackups: bool,
    seed: u64,
) -> Box<dyn Algorithm> {
    use crate::config::Balance;
    match balance {
        Balance::RoundRobin => Box::new(RoundRobin::new(servers, allbackups)),
        Balance::Source
        | Balance::Uri(_)
        | Balance::UrlParam(_)
        | Balance::Hdr { .. }
        | Balance::RdpCookie(_)
        | Balance::Hash(_)
            if hash_type.consistent =>
        {
            Box::new(Chash::new(servers, allbackups))
        }
        Balance::StaticRr
        | Balance::Source
        | Balance::Uri(_)
        | Balance::UrlParam(_)
        | Balance::Hdr { .. }
        | Balance::RdpCookie(_)
        | Balance::Hash(_) => Box::new(Map::new(servers, allbackups)),
        Balance::LeastConn => Box::new(LeastConn::new(servers, allbackups)),
        Balance::First => Box::new(First::new(servers, allbackups)),
        Balance::Random(draws) => Box::new(Chash::random(servers, allbackups, *draws, seed)),
    }
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

#[cfg(test)]
mod properties {
    //! What every algorithm owes, whatever the weights, states and loads.

    use super::*;
    use crate::config::{Balance, HashType};
    use proptest::prelude::*;

    fn infos(weights: &[u32]) -> Vec<ServerInfo> {
        weights
            .iter()
            .enumerate()
            .map(|(i, &w)| ServerInfo {
                weight: w,
                backup: false,
                usable: true,
                id: i as u32 + 1,
            })
            .collect()
    }

    fn pick(a: &mut dyn Algorithm, key: Option<u32>, load: &[u32]) -> Option<usize> {
        let room = |_: usize| true;
        let inflight = |i: usize| (load[i], i as u64);
        a.next_server(&Pick {
            has_room: &room,
            may_queue: &room,
            avoid: None,
            key,
            inflight: &inflight,
        })
    }

    fn every_algorithm() -> Vec<(Balance, HashType)> {
        let map = HashType::default();
        let consistent = HashType {
            consistent: true,
            function: None,
            avalanche: true,
        };
        vec![
            (Balance::RoundRobin, map.clone()),
            (Balance::StaticRr, map.clone()),
            (Balance::LeastConn, map.clone()),
            (Balance::First, map.clone()),
            (Balance::Source, map.clone()),
            (Balance::Source, consistent.clone()),
            (Balance::Uri(vec![]), consistent),
            (Balance::RdpCookie(None), map.clone()),
            (Balance::Random(2), map),
        ]
    }

    proptest! {
        /// No algorithm sends anything to a server that is down.
        #[test]
        fn nothing_goes_to_a_down_server(
            weights in proptest::collection::vec(1u32..8, 2..6),
            down in proptest::collection::vec(any::<bool>(), 6),
            keys in proptest::collection::vec(any::<u32>(), 20),
        ) {
            for (balance, hash_type) in every_algorithm() {
                let mut a = for_config(&balance, &hash_type, &infos(&weights), false, 7);
                for (i, &d) in down.iter().take(weights.len()).enumerate() {
                    if d {
                        a.server_down(i);
                    }
                }
                let load = vec![0; weights.len()];
                for &k in &keys {
                    if let Some(s) = pick(a.as_mut(), Some(k), &load) {
                        prop_assert!(!down[s], "{balance:?} picked down server {s}");
                    }
                }
            }
        }

        /// Consistent hashing moves only the keys of the server that goes
        /// down, and they come back when it returns.
        #[test]
        fn consistent_hashing_moves_only_the_keys_of_the_server_that_left(
            weights in proptest::collection::vec(1u32..6, 2..6),
            leaving in 0usize..6,
            keys in proptest::collection::vec(any::<u32>(), 100),
        ) {
            let leaving = leaving % weights.len();
            let mut c = Chash::new(&infos(&weights), false);
            let load = vec![0; weights.len()];
            let before: Vec<_> = keys.iter().map(|&k| pick(&mut c, Some(k), &load)).collect();
            c.server_down(leaving);
            for (&k, b) in keys.iter().zip(&before) {
                let now = pick(&mut c, Some(k), &load);
                if *b != Some(leaving) {
                    prop_assert_eq!(now, *b);
                } else {
                    prop_assert_ne!(now, Some(leaving));
                }
            }
            c.server_up(leaving);
            let back: Vec<_> = keys.iter().map(|&k| pick(&mut c, Some(k), &load)).collect();
            prop_assert_eq!(back, before);
        }

        /// leastconn never picks a server strictly busier than another
        /// usable one, busy as HAProxy measures it: what it would carry
        /// with this connection, for its weight ((n + 1) / w; an idle
        /// server is the least busy).
        #[test]
        fn leastconn_never_picks_a_strictly_busier_server(
            weights in proptest::collection::vec(1u32..8, 2..6),
            load in proptest::collection::vec(0u32..50, 6),
        ) {
            let load = &load[..weights.len()];
            let mut l = LeastConn::new(&infos(&weights), false);
            let s = pick(&mut l, None, load).unwrap();
            let busy = |i: usize| if load[i] == 0 { 0 } else { (u64::from(load[i]) + 1) * 4096 / (u64::from(weights[i]) * 16) };
            for o in 0..weights.len() {
                prop_assert!(
                    busy(s) <= busy(o),
                    "picked {s} ({}/{}) over {o} ({}/{})", load[s], weights[s], load[o], weights[o]
                );
            }
        }
    }
}
