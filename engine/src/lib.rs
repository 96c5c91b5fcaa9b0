//! The engine: an HAProxy-compatible proxy, usable over real sockets (the
//! `engine` binary) or a simulated network (the `sim` crate).
//!
//! The data path, in the order a connection meets it:
//! - [`config`]: haproxy.cfg → the validated, inert model;
//! - [`runtime`]: the model → running listeners, backends and checks;
//! - [`proxy`]: accept under `maxconn`, then the stream's life;
//! - [`stream`]: one stream's record (timers, attempt, bytes, termination),
//!   kept alike by the TCP and HTTP paths;
//! - [`backend`]: assign a server (actives, backups), wait in a queue for
//!   a slot (`backend/queue.rs`, HAProxy's queue.c), connect, retry;
//! - [`balance`]: the algorithm choosing among eligible servers;
//! - [`server`]: a server's runtime state and connection slots, the
//!   rise/fall counter and the check status table;
//! - [`check`]: health checks: they probe and report;
//! - [`status`]: every server state change (UP, DOWN, NOLB, maintenance,
//!   drain, weight, warm-up), with HAProxy's messages;
//! - [`slowstart`]: the warm-up arithmetic;
//! - [`shutdown`]: cutting a server's connections when it goes DOWN;
//! - [`acl`] and [`rules`]: ACLs, and what a frontend decides for an HTTP
//!   request (deny, redirect, which backend);
//! - [`http`]: the HTTP/1 wire layer (heads, framing, chunked bodies, the
//!   client and server sides of a connection, HAProxy's error responses);
//! - [`log`]: stderr messages, syslog targets, the TCP log line;
//! - [`net`]: the seam to the outside world (real or simulated);
//! - [`pool`]: the event loops that run streams (`nbthread`);
//! - [`layers`]: what wraps a client or server connection, in order;
//! - [`master`]: the master-worker process model (`-W`, `-Ws`, `-S`);
//! - [`vrrp`]: VIP failover's protocol (VRRPv3) and state machine.

pub mod acl;
pub mod api;
pub mod backend;
pub mod balance;
pub mod check;
pub mod cli;
pub mod config;
pub mod counters;
pub mod http;
pub mod identity;
pub mod layers;
pub mod log;
pub mod master;
pub mod net;
pub mod pool;
pub mod proxy;
pub mod rdp;
pub mod rules;
pub mod runtime;
pub mod server;
pub mod shutdown;
pub mod slowstart;
pub mod stats;
pub mod status;
pub mod stream;
pub mod vrrp;

#[cfg(test)]
mod testing;
