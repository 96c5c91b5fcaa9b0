//! Scenario files: a YAML file becomes a checked [`Scenario`], or an error
//! naming the file, the line and the field.
//!
//! The pipeline reads top to bottom: text → `schema` (the serde types,
//! their defaults, and the YAML reference at its top) → `validate` (what
//! a file of the right shape may still get wrong; relative `config_file`s
//! are read there) → a scenario [`crate::world::run`] can replay.

mod schema;
mod validate;

use std::path::Path;

pub use schema::{
    Action, Arrival, Check, ClientOutcome, ClientSpec, Distribution, Event, Expectation, Failure,
    FailureMode, HttpRequest, LinkSpec, Load, LoadChange, Percent, Protocol, ProxySpec, Rate,
    Reload, Scenario, ServerSpec, ServerState, ServiceTime, Time,
};

/// Why a scenario could not be loaded; the message names file, line and
/// field.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{file}: cannot read: {reason}")]
    Read { file: String, reason: String },
    #[error("{file}:{line}: {field}: {reason}")]
    Invalid {
        file: String,
        line: usize,
        field: String,
        reason: String,
    },
}

impl Scenario {
    /// Loads a scenario file; relative `config_file`s are read now.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::Read {
            file: file.clone(),
            reason: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Scenario::parse(&file, &text, base)
    }

    /// Parses scenario text; `file` names it in errors, `base` anchors
    /// relative paths.
    pub fn parse(file: &str, text: &str, base: &Path) -> Result<Scenario, ScenarioError> {
        let mut scenario = validate::deserialize(file, text)?;
        validate::validate(&mut scenario, file, text, base)?;
        Ok(scenario)
    }
}

/// The smallest valid scenario, for the tests of both halves.
#[cfg(test)]
mod fixture {
    use std::path::Path;

    use super::{Scenario, ScenarioError};

    pub(super) const MINIMAL: &str = "
name: t
duration: 10s
proxies:
  - name: p
    address: 10.0.0.1
    config: |
      listen x
        bind :80
";

    pub(super) fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        Scenario::parse("t.yaml", text, Path::new("."))
    }
}
