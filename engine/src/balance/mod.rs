//! Load-balancing algorithms: which eligible server takes the next connection.
//!
//! The backend decides which servers are eligible (up, not full, actives
//! before backups); an algorithm only chooses among them. One file per
//! algorithm family, as HAProxy's lb_*.c.

mod roundrobin;

pub use roundrobin::RoundRobin;

/// A server the algorithm may choose: its index in the backend and weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub index: usize,
    pub weight: u32,
}

/// The contract of an algorithm: `pick` returns one of the candidates'
/// indexes, or None only when `candidates` is empty.
pub trait Algorithm: Send {
    fn pick(&mut self, candidates: &[Candidate]) -> Option<usize>;
}

/// The runtime algorithm for a configured `balance` keyword.
///
/// Only roundrobin runs yet: None for the others, which the engine refuses
/// to start with.
pub fn for_config(balance: &crate::config::Balance, servers: usize) -> Option<Box<dyn Algorithm>> {
    match balance {
        crate::config::Balance::RoundRobin => Some(Box::new(RoundRobin::new(servers))),
        _ => None,
    }
}
