//! The engine: an HAProxy-compatible proxy, usable over real sockets (the
//! `engine` binary) or a simulated network (the `sim` crate).
//!
//! The data path, in the order a connection meets it:
//! - [`config`]: haproxy.cfg → the validated, inert model;
//! - [`runtime`]: the model → running listeners, backends and checks;
//! - [`proxy`]: accept under `maxconn`, then the stream's life;
//! - [`backend`]: assign a server (actives, backups, queue), connect, retry;
//! - [`balance`]: the algorithm choosing among eligible servers;
//! - [`server`]: a server's runtime state and connection slots;
//! - [`check`]: health checks and the rise/fall counter;
//! - [`log`]: where state changes are reported;
//! - [`net`]: the seam to the outside world (real or simulated).

pub mod backend;
pub mod balance;
pub mod check;
pub mod cli;
pub mod config;
pub mod http;
pub mod log;
pub mod net;
pub mod proxy;
pub mod runtime;
pub mod server;

#[cfg(test)]
mod testing;
