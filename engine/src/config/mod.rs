//! haproxy.cfg: files → lines of words (`lex`) → sections (`ast`) →
//! keyword tables → the validated [`Config`] model.
//!
//! `load` is the one entry point; it never stops at the first error, so an
//! operator sees every problem of a file at once, as with `haproxy -c`.

pub mod lex;
mod model;

pub use model::*;

use std::path::PathBuf;

/// Severity of a configuration message, as HAProxy prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Notice,
    Warning,
    Alert,
}

/// One message about the configuration: `parsing [f:12] : unknown keyword ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub level: Level,
    /// The text HAProxy prints after `config : `.
    pub message: String,
}

/// A configuration that validated, with its warnings.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    pub diagnostics: Vec<Diagnostic>,
}

/// A configuration with fatal errors; `diagnostics` holds every message.
#[derive(Debug, thiserror::Error)]
#[error("Fatal errors found in configuration.")]
pub struct LoadError {
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads `-f` arguments (files, or directories whose `*.cfg` files load in
/// name order) into a validated configuration.
pub fn load(paths: &[PathBuf]) -> Result<Loaded, LoadError> {
    let _ = paths;
    Err(LoadError { diagnostics: vec![] })
}
