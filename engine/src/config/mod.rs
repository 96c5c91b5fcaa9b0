//! haproxy.cfg: files → lines of words (`lex`) → sections (`parse`) →
//! keyword tables (`global`, `listen`, `options`, `server`, `bind`, `acl`)
//! → cross-checks (`check`) → the validated [`Config`] model; `report`
//! prints the result the way `haproxy -c` does.
//!
//! `load` is the one entry point; it never stops at the first error, so an
//! operator sees every problem of a file at once, as with `haproxy -c`.
//!
//! ```text
//! -f paths ─ source::expand ─ source::read_file ─ lex::parse_line
//!          ─ parse::Parser (per section: global.rs / listen.rs tables)
//!          ─ check::finish ─ Config (+ Config::unimplemented)
//! ```

pub mod acl;
pub mod bind;
mod check;
pub mod global;
pub mod http_request;
pub mod lex;
pub mod listen;
mod listen_http;
mod model;
pub mod options;
pub mod parse;
pub mod report;
pub mod server;
pub mod source;
pub mod suggest;
mod timeout;
pub mod units;

pub use model::*;
pub use report::{check_report, render, CheckReport};

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

impl Diagnostic {
    pub fn alert(message: impl Into<String>) -> Self {
        Diagnostic {
            level: Level::Alert,
            message: message.into(),
        }
    }

    pub fn warning(message: impl Into<String>) -> Self {
        Diagnostic {
            level: Level::Warning,
            message: message.into(),
        }
    }
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
    /// HAProxy stopped reading at an ERR_ABORT error: it then exits right
    /// after "Error(s) found in configuration file", without the final
    /// "Fatal errors found in configuration." line.
    pub aborted: bool,
}

/// Reads `-f` arguments (files, or directories whose `*.cfg` files load in
/// name order) into a validated configuration.
pub fn load(paths: &[PathBuf]) -> Result<Loaded, LoadError> {
    let files = source::expand(paths).map_err(|e| abort(vec![], e))?;
    load_sources(
        files.iter().map(|f| {
            source::read_file(f).map(|(lines, bad)| (f.display().to_string(), lines, bad))
        }),
    )
}

/// Reads configuration text that has no file of its own (the simulator's
/// embedded configs, the book's examples); `name` stands for the file name
/// in messages.
pub fn load_str(name: &str, text: &str) -> Result<Loaded, LoadError> {
    let (lines, bad) = source::lex_text(name, text);
    load_sources(std::iter::once(Ok((name.to_string(), lines, bad))))
}

/// HAProxy exits at once when a file cannot be read, after the messages
/// of the files before it.
fn abort(mut diagnostics: Vec<Diagnostic>, e: source::SourceError) -> LoadError {
    diagnostics.push(Diagnostic::alert(e.to_string()));
    LoadError {
        diagnostics,
        aborted: true,
    }
}

type Source = Result<(String, Vec<source::Line>, Vec<source::BadLine>), source::SourceError>;

/// Parses files in order, then validates the whole configuration.
fn load_sources(files: impl Iterator<Item = Source>) -> Result<Loaded, LoadError> {
    let mut p = parse::Parser::new();
    let mut parse_failed = false;
    for file in files {
        let (name, lines, bad) = match file {
            Ok(f) => f,
            Err(e) => return Err(abort(std::mem::take(&mut p.diags), e)),
        };
        let file_failed = feed(&mut p, lines, bad);
        p.finish_section();
        if file_failed {
            p.diags.push(Diagnostic::alert(format!(
                "Error(s) found in configuration file : {name}"
            )));
            parse_failed = true;
        }
        if p.aborted {
            return Err(LoadError {
                diagnostics: p.diags,
                aborted: true,
            });
        }
    }
    if parse_failed {
        return Err(LoadError {
            diagnostics: p.diags,
            aborted: false,
        });
    }
    let done = std::mem::take(&mut p.done);
    let mut diags = std::mem::take(&mut p.diags);
    let mut config = std::mem::take(&mut p.config);
    if check::finish(done, &mut config, &mut diags) {
        return Err(LoadError {
            diagnostics: diags,
            aborted: false,
        });
    }
    Ok(Loaded {
        config,
        diagnostics: diags,
    })
}

/// Feeds one file's lines (and lex errors, in line order) to the parser.
/// Returns true when any of them raised an alert.
fn feed(p: &mut parse::Parser, lines: Vec<source::Line>, bad: Vec<source::BadLine>) -> bool {
    let mut failed = false;
    let mut bad = bad.into_iter().peekable();
    for line in lines {
        while let Some(b) = bad.next_if(|b| b.at.line < line.at.line) {
            p.diags.push(Diagnostic::alert(b.message));
            failed = true;
        }
        failed |= p.line(&line);
        if p.aborted {
            return true;
        }
    }
    for b in bad {
        p.diags.push(Diagnostic::alert(b.message));
        failed = true;
    }
    failed
}

/// Loads and renders the `haproxy -c` report in one call.
pub fn check_paths(paths: &[PathBuf], pid: u32) -> CheckReport {
    check_report(&load(paths), pid)
}
