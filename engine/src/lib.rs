//! The engine: an HAProxy-compatible proxy, usable over real sockets (the
//! `engine` binary) or a simulated network (the `sim` crate).
//!
//! The data path, in the order a connection meets it:
//! - [`config`]: haproxy.cfg → the validated, inert model;
//! - [`runtime`]: the model → running listeners, backends and checks;
//! - [`proxy`]: accept under `maxconn`, then the stream's life;
//! - [`stream`]: one stream's record (timers, attempt, bytes, termination),
//!   kept alike by the TCP and HTTP paths;
//! - [`backend`]: assign a server (actives, backups, queue), connect, retry;
//! - [`balance`]: the algorithm choosing among eligible servers;
//! - [`server`]: a server's runtime state and connection slots;
//! - [`check`]: health checks and the rise/fall counter;
//! - [`shutdown`]: cutting a server's connections when it goes DOWN;
//! - [`acl`] and [`rules`]: ACLs, and what a frontend decides for an HTTP
//!   request (deny, redirect, which backend) — ready for the HTTP path;
//! - [`http`]: the HTTP/1 wire layer (heads, framing, chunked bodies,
//!   HAProxy's error responses) — ready for the HTTP path;
//! - [`admin`]: maintenance and drain, with HAProxy's messages;
//! - [`log`]: stderr messages, syslog targets, the TCP log line;
//! - [`net`]: the seam to the outside world (real or simulated);
//! - [`pool`]: the event loops that run streams (`nbthread`);
//! - [`layers`]: what wraps a client or server connection, in order.

pub mod acl;
pub mod admin;
pub mod api;
pub mod backend;
pub mod balance;
pub mod check;
pub mod cli;
pub mod config;
pub mod http;
pub mod identity;
pub mod layers;
pub mod log;
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
pub mod stream;

#[cfg(test)]
mod testing;
