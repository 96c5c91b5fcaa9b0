//! The engine: an HAProxy-compatible proxy.
pub mod config;
