//! The simulator: the engine's own code over a simulated network (turmoil).
//!
//! The pipeline reads top to bottom:
//! - [`scenario`]: the YAML schema (`scenario/schema.rs`) and its
//!   validation (`scenario/validate.rs`), loaded with errors naming the
//!   file, line and field;
//! - [`world`]: the scenario as a turmoil world, whose driver
//!   (`world/driver.rs`) runs it step by step with its timeline and
//!   expectations; its [`server`]s and [`client`]s;
//! - [`net`]: the engine's network seam implemented over turmoil, with
//!   [`loss`] making lossy links cost what TCP retransmissions cost and
//!   [`addresses`] saying which host owns which address;
//! - [`http`]: the HTTP servers and clients of the world (hyper);
//! - [`transcript`] and [`report`]: what a run prints.
//!
//! Time is virtual and every random choice is seeded: the same scenario
//! gives the same bytes.

pub mod addresses;
pub(crate) mod client;
pub mod http;
pub mod loss;
pub mod net;
pub mod report;
pub mod scenario;
pub(crate) mod server;
pub mod transcript;
pub mod world;

/// The scenario `sim run` replays when given none: the seed's setup with
/// a failover timeline.
pub const DEFAULT_SCENARIO: &str = include_str!("../../scenarios/failover.yaml");
