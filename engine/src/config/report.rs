//! What `haproxy -c` prints, byte for byte (HAProxy 2.6.12):
//!
//! ```text
//! [NOTICE]   (PID) : haproxy version is 2.6.12-1+deb12u3      <- banner, only
//! [NOTICE]   (PID) : path to executable is /usr/sbin/haproxy  <- if anything follows
//! [WARNING]  (PID) : config : <message>
//! [ALERT]    (PID) : config : <message>
//! [ALERT]    (PID) : config : Error(s) found in configuration file : <file>
//! [ALERT]    (PID) : config : Fatal errors found in configuration.
//! ```
//! The level tag is left-aligned in 11 columns. Messages spanning several
//! lines are printed as they are: HAProxy's own continuation lines carry
//! their `   | ` or two-space indentation in the message text. Diagnostics go
//! to stderr; the verdict goes to stdout:
//! - errors: no verdict line, exit 1 (the "Error(s) found..." line comes
//!   once per file with parse errors; post-parse errors only get the final
//!   "Fatal errors found in configuration.");
//! - valid: "Warnings were found." if any warning was printed, then
//!   "Configuration file is valid", exit 0;
//! - valid but no `bind` anywhere: "Configuration file has no error but will
//!   not start (no listener) => exit(2).", exit 2.

use super::{Diagnostic, Level, LoadError, Loaded};

/// One diagnostic as HAProxy prints it, without the final newline.
pub fn render(diag: &Diagnostic, pid: u32) -> String {
    let tag = match diag.level {
        Level::Notice => "[NOTICE]",
        Level::Warning => "[WARNING]",
        Level::Alert => "[ALERT]",
    };
    format!("{tag:<11}({pid}) : config : {}", diag.message)
}

/// The banner HAProxy prints before its first message.
pub fn banner(version: &str, exe: &str, pid: u32) -> String {
    format!(
        "[NOTICE]   ({pid}) : haproxy version is {version}\n\
         [NOTICE]   ({pid}) : path to executable is {exe}\n"
    )
}

/// The output of `-c`, split the way the process writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// Diagnostics, one rendered message per line (banner not included:
    /// the CLI prepends [`banner`] when this is not empty).
    pub stderr: String,
    /// The verdict line(s).
    pub stdout: String,
    pub exit_code: i32,
}

/// Builds the whole `-c` report for the result of [`super::load`].
/// Whether a start would listen on anything: a proxy's `bind`, or a
/// `stats socket` (HAProxy counts its CLI frontend's listeners too).
fn listens(config: &super::Config) -> bool {
    !config.global.stats_sockets.is_empty()
        || config
            .proxies
            .iter()
            .any(|p| !p.disabled && !p.binds.is_empty())
}

pub fn check_report(result: &Result<Loaded, LoadError>, pid: u32) -> CheckReport {
    let mut stderr = String::new();
    let diags = match result {
        Ok(l) => &l.diagnostics,
        Err(e) => &e.diagnostics,
    };
    for d in diags {
        stderr.push_str(&render(d, pid));
        stderr.push('\n');
    }
    match result {
        Err(e) => {
            if !e.aborted && !e.quiet {
                stderr.push_str(&render(&Diagnostic::alert(e.to_string()), pid));
                stderr.push('\n');
            }
            CheckReport {
                stderr,
                stdout: String::new(),
                exit_code: 1,
            }
        }
        Ok(loaded) if loaded.config.global.quiet => {
            let listens = listens(&loaded.config);
            let exit_code = if listens { 0 } else { 2 };
            CheckReport {
                stderr,
                stdout: String::new(),
                exit_code,
            }
        }
        Ok(loaded) => {
            let mut stdout = String::new();
            // A non-fatal alert is not a warning (HAProxy: ERR_ALERT, not ERR_WARN).
            if diags.iter().any(|d| d.level == Level::Warning) {
                stdout.push_str("Warnings were found.\n");
            }
            let listens = listens(&loaded.config);
            let exit_code = if listens {
                stdout.push_str("Configuration file is valid\n");
                0
            } else {
                stdout.push_str(
                    "Configuration file has no error but will not start (no listener) => exit(2).\n",
                );
                2
            };
            CheckReport {
                stderr,
                stdout,
                exit_code,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_tags_are_padded_to_eleven_columns() {
        let w = Diagnostic {
            level: Level::Warning,
            message: "x".into(),
            fatal: false,
        };
        assert_eq!(render(&w, 42), "[WARNING]  (42) : config : x");
        let a = Diagnostic {
            level: Level::Alert,
            message: "y".into(),
            fatal: false,
        };
        assert_eq!(render(&a, 7), "[ALERT]    (7) : config : y");
        let n = Diagnostic {
            level: Level::Notice,
            message: "z".into(),
            fatal: false,
        };
        assert_eq!(render(&n, 7), "[NOTICE]   (7) : config : z");
    }

    #[test]
    fn errors_end_with_the_fatal_line_and_exit_1() {
        let r: Result<Loaded, LoadError> = Err(LoadError {
            diagnostics: vec![Diagnostic::alert("boom")],
            aborted: false,
            quiet: false,
        });
        let rep = check_report(&r, 1);
        assert_eq!(
            rep.stderr,
            "[ALERT]    (1) : config : boom\n[ALERT]    (1) : config : Fatal errors found in configuration.\n"
        );
        assert_eq!((rep.stdout.as_str(), rep.exit_code), ("", 1));
    }

    #[test]
    fn no_listener_exits_2() {
        let r = Ok(Loaded {
            config: Default::default(),
            diagnostics: vec![],
        });
        let rep = check_report(&r, 1);
        assert_eq!(rep.exit_code, 2);
        assert!(rep.stdout.contains("no listener"));
    }
}
