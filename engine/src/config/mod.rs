//! haproxy.cfg: files → lines of words (`lex`, `source`) → conditional
//! blocks (`cond`) → sections (`parse`, `section`) → keyword tables
//! (`global`, `listen`, `options`, `timeout`, `server` + `server_kw`,
//! `bind`, `acl` + `fetches`, `http_request`, `listen_http`, `shape`) →
//! cross-checks (`check`) → the validated [`Config`] model; `report` prints
//! the result the way `haproxy -c` does, `suggest` finds its "did you
//! mean", `units` parses times and sizes.
//!
//! `load` is the one entry point; it never stops at the first error, so an
//! operator sees every problem of a file at once, as with `haproxy -c`.
//!
//! ```text
//! -f paths ─ source::expand ─ source::read_file ─ lex::parse_line
//!          ─ cond (.if/.else) ─ parse::Parser (global.rs / listen.rs tables)
//!          ─ check::finish ─ Config (+ Config::unimplemented)
//! ```
//!
//! The reference is the HAProxy 2.6.12 binary: every example under
//! `examples/` and the differential test `tests/config_vs_haproxy.rs`
//! compare our report with its output, byte for byte.
//!
//! # What the runtime gets
//! Typed values, built once here with their errors reported as `-c`
//! reports them: `log` targets (address, format, length, facility,
//! levels), `stats socket` parameters (level, mode) and the backend's
//! `cookie` ([`Persistence`]). The runtime only instantiates them (and
//! refuses the forms it does not run, below).
//!
//! `Config::unimplemented` lists every parsed directive the engine does not
//! run (the `support`/`runtime` column of each keyword table). Directives
//! inherited from a `defaults` section are listed only when a proxy uses
//! that section. Decided: `timeout http-request`, `http-keep-alive`,
//! `tarpit` and the HTTP-only options (`httpclose`, `http-server-close`,
//! `http-keep-alive`, `forwardfor`) are harmless in a proxy that ends up in
//! `mode tcp`, because HAProxy ignores them there too; they are listed for
//! `mode http` proxies only.
//!
//! # Known differences from HAProxy 2.6
//! - `user`/`group` names are not looked up (HAProxy fails `-c` when the
//!   account does not exist); `chroot`, `pidfile` and `stats socket` paths
//!   are not checked either (HAProxy does not check them in `-c`). `bind
//!   ... crt` files must exist and hold a PEM certificate, but are not
//!   parsed further; server `ca-file`s are not opened.
//! - Server host names are resolved when possible and kept otherwise
//!   (HAProxy's `-c` never resolves them); unresolved ones are listed as
//!   unimplemented. `bind` host names must resolve, as in HAProxy.
//! - `setenv`, `presetenv`, `unsetenv`, `resetenv` are refused (they would
//!   change how later lines expand). Sections other than global, defaults,
//!   frontend, backend and listen (userlist, peers, resolvers...) are
//!   refused. `http-request` actions other than `allow` and `deny` are kept
//!   as written with unchecked arguments (their condition is checked).
//! - Keywords recognised but not modelled (`http-response`, `stick-table`,
//!   `tcp-request`, most server and bind options...) are only checked for
//!   their shape (argument count, first word), with HAProxy's texts.
//! - Regexes get a syntax check (groups, classes, escapes), not PCRE's.
//! - The "did you mean" candidates are HAProxy's lists, but in source
//!   order rather than its link order, which can only matter on ties.
//! - `acl` with no name: HAProxy prints a message truncated by a NUL and
//!   glued to the next one; we print a plain message.

pub mod acl;
pub mod bind;
mod check;
pub mod cond;
mod converters;
pub mod cookie;
pub mod fetches;
pub mod global;
pub mod http_check;
pub mod http_request;
pub mod lex;
pub mod listen;
mod listen_http;
mod model;
pub mod options;
pub mod parse;
pub mod report;
pub mod section;
pub mod server;
pub mod server_kw;
mod shape;
pub mod source;
pub mod suggest;
pub mod tcp_check;
mod tcp_request;
mod timeout;
pub mod units;
pub mod vrrp;

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
    /// Makes the configuration invalid (HAProxy's ERR_FATAL): every alert
    /// but the "already specified. Continuing." kind.
    pub fatal: bool,
}

impl Diagnostic {
    pub fn alert(message: impl Into<String>) -> Self {
        Diagnostic {
            level: Level::Alert,
            message: message.into(),
            fatal: true,
        }
    }

    /// An alert that leaves the configuration valid.
    pub fn alert_nonfatal(message: impl Into<String>) -> Self {
        Diagnostic {
            fatal: false,
            ..Diagnostic::alert(message)
        }
    }

    pub fn warning(message: impl Into<String>) -> Self {
        Diagnostic {
            level: Level::Warning,
            message: message.into(),
            fatal: false,
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
    /// `quiet` was set: HAProxy prints nothing more, not even the final
    /// "Fatal errors found in configuration." line.
    pub quiet: bool,
}

/// Reads `-f` arguments (files, or directories whose `*.cfg` files load in
/// name order) into a validated configuration.
pub fn load(paths: &[PathBuf]) -> Result<Loaded, LoadError> {
    let mut p = parse::Parser::new();
    let result = match source::expand(paths) {
        Ok(files) => load_with(
            &mut p,
            files
                .iter()
                .map(|f| (f.display().to_string(), source::read_file(f))),
        ),
        Err(e) => Err(unreadable(vec![], e)),
    };
    quieten(&p, result)
}

/// Reads configuration text that has no file of its own (the simulator's
/// embedded configs, the book's examples); `name` stands for the file name
/// in messages.
pub fn load_str(name: &str, text: &str) -> Result<Loaded, LoadError> {
    let mut p = parse::Parser::new();
    let file = (name.to_string(), Ok(source::lex_text(name, text)));
    let result = load_with(&mut p, std::iter::once(file));
    quieten(&p, result)
}

/// `quiet` (global) silences every message printed after it, the final
/// "Error(s) found"/"Fatal errors" lines and the verdict included.
fn quieten(p: &parse::Parser, mut result: Result<Loaded, LoadError>) -> Result<Loaded, LoadError> {
    if let Some(n) = p.quiet_from {
        match &mut result {
            Ok(l) => l.diagnostics.truncate(n),
            Err(e) => {
                e.diagnostics.truncate(n);
                e.quiet = true;
            }
        }
    }
    result
}

/// HAProxy exits at once when a file cannot be read.
fn unreadable(mut diags: Vec<Diagnostic>, e: source::SourceError) -> LoadError {
    diags.push(Diagnostic::alert(e.to_string()));
    LoadError {
        diagnostics: diags,
        aborted: true,
        quiet: false,
    }
}

/// One configuration file: its name in messages, and its lexed items.
type SourceFile = (String, Result<Vec<source::Item>, source::SourceError>);

fn load_with(
    p: &mut parse::Parser,
    files: impl Iterator<Item = SourceFile>,
) -> Result<Loaded, LoadError> {
    let mut parse_failed = false;
    for (name, items) in files {
        let items = match items {
            Ok(r) => r,
            Err(e) => return Err(unreadable(std::mem::take(&mut p.diags), e)),
        };
        let file_failed = feed(p, items) | p.finish_section();
        if p.exit_now {
            return Err(LoadError {
                diagnostics: std::mem::take(&mut p.diags),
                aborted: true,
                quiet: false,
            });
        }
        if file_failed {
            p.diags.push(Diagnostic::alert(format!(
                "Error(s) found in configuration file : {name}"
            )));
            parse_failed = true;
        }
        if p.aborted {
            return Err(LoadError {
                diagnostics: std::mem::take(&mut p.diags),
                aborted: true,
                quiet: false,
            });
        }
    }
    if parse_failed {
        return Err(LoadError {
            diagnostics: std::mem::take(&mut p.diags),
            aborted: false,
            quiet: false,
        });
    }
    let done = std::mem::take(&mut p.done);
    let mut diags = std::mem::take(&mut p.diags);
    let mut config = std::mem::take(&mut p.config);
    let mut failed = check::finish(done, &mut config, &mut diags);
    failed |= vrrp::check_tracked(&config, &mut diags);
    if failed {
        return Err(LoadError {
            diagnostics: diags,
            aborted: false,
            quiet: false,
        });
    }
    Ok(Loaded {
        config,
        diagnostics: diags,
    })
}

/// Feeds one file's lines and read errors, in order, to the parser
/// through the conditional-block filter. Returns true when any alert was
/// raised.
fn feed(p: &mut parse::Parser, items: Vec<source::Item>) -> bool {
    let mut failed = false;
    let mut conds = cond::Conditions::default();
    let mut last = None;
    for item in items {
        let line = match item {
            source::Item::Error(b) => {
                p.diags.push(Diagnostic::alert(b.message));
                failed = true;
                continue;
            }
            source::Item::Line(l) => l,
        };
        last = Some(line.at.clone());
        let before = p.diags.iter().filter(|d| d.fatal).count();
        match conds.line(&line, &mut p.diags) {
            cond::Verdict::Parse => failed |= p.line(&line),
            cond::Verdict::Done => {}
            cond::Verdict::Abort => p.aborted = true,
            cond::Verdict::StopFile => return true,
        }
        failed |= p.diags.iter().filter(|d| d.fatal).count() > before;
        if p.aborted {
            return true;
        }
    }
    if let Some(at) = last {
        if conds.finish(&at, &mut p.diags) {
            p.aborted = true;
            failed = true;
        }
    }
    failed
}

/// Loads and renders the `haproxy -c` report in one call.
pub fn check_paths(paths: &[PathBuf], pid: u32) -> CheckReport {
    check_report(&load(paths), pid)
}
