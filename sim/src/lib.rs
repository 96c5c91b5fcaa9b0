//! The simulator: the engine's own code over a simulated network (turmoil).
//!
//! - [`net`]: the engine's network seam implemented over turmoil;
//! - [`transcript`]: what a run prints, stamped with virtual time;
//! - [`demo`]: the embedded default world (`sim run` with no scenario).
//!
//! Time is virtual and every random choice is seeded: the same seed gives
//! the same bytes.

pub mod demo;
pub mod net;
pub mod transcript;
