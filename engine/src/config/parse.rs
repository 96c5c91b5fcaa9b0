//! Lines → sections → keyword parsers (HAProxy's `readcfgfile` loop).
//!
//! A section starts at `global`, `defaults`, `frontend`, `backend` or
//! `listen`; every other line goes to the current section's keyword table
//! (`global.rs`, `listen.rs`). `no` and `default` prefixes are stripped here
//! and passed on as [`Kwm`], and refused for anything but `option` and
//! `log`, as HAProxy does. Parsers report through [`Ctx`], which also
//! collects the "not implemented by the runtime" labels.

use super::listen::{self, ProxyState};
use super::section;
use super::source::Line;
use super::{global, Config, Diagnostic, Location, Unimplemented};

/// Keyword modifier: `no option x`, `default option x` or plain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kwm {
    Std,
    No,
    Default,
}

/// What a keyword parser sees: its words, where they were written, and
/// where to report.
pub struct Ctx<'a> {
    pub at: &'a Location,
    /// `args[0]` is the keyword (after `no`/`default`).
    pub args: &'a [String],
    pub kwm: Kwm,
    pub diags: &'a mut Vec<Diagnostic>,
    /// Set when the parser raised an alert.
    pub failed: bool,
    /// Set for HAProxy's ERR_ABORT errors: parsing stops right there.
    pub aborted: bool,
    /// Set where HAProxy exits on the spot (its parser returned -1): not
    /// even "Error(s) found in configuration file" follows.
    pub exit_now: bool,
    /// Labels (`stats uri`, `balance leastconn`) the runtime lacks.
    pub unimplemented: Vec<String>,
}

impl Ctx<'_> {
    /// Argument `i`, or "" when absent (HAProxy's empty trailing args).
    pub fn arg(&self, i: usize) -> &str {
        self.args.get(i).map(String::as_str).unwrap_or("")
    }

    /// `parsing [file:line]`.
    pub fn here(&self) -> String {
        format!("parsing [{}]", self.at)
    }

    pub fn alert(&mut self, message: String) {
        self.failed = true;
        self.diags.push(Diagnostic::alert(message));
    }

    /// An alert that does not make the configuration invalid (HAProxy's
    /// ERR_ALERT without ERR_FATAL: "already specified. Continuing.").
    pub fn alert_continue(&mut self, message: String) {
        self.diags.push(Diagnostic::alert_nonfatal(message));
    }

    /// An alert after which HAProxy exits immediately.
    pub fn exit(&mut self, message: String) {
        self.exit_now = true;
        self.abort(message);
    }

    /// An alert after which HAProxy stops reading the configuration.
    pub fn abort(&mut self, message: String) {
        self.aborted = true;
        self.alert(message);
    }

    pub fn warn(&mut self, message: String) {
        self.diags.push(Diagnostic::warning(message));
    }

    /// Marks `label` as parsed but not run by the engine.
    pub fn unimplemented(&mut self, label: impl Into<String>) {
        self.unimplemented.push(label.into());
    }

    /// HAProxy's `alertif_too_many_args_idx`: at most `max` arguments after
    /// the `index + 1` words naming the keyword.
    pub fn too_many_args(&mut self, max: usize, index: usize) -> bool {
        let extra = self.arg(index + max + 1).to_string();
        if extra.is_empty() {
            return false;
        }
        let name = self.args[..=index].join(" ");
        self.alert(format!(
            "{} : '{name}' cannot handle unexpected argument '{extra}'.",
            self.here()
        ));
        true
    }
}

/// C's `atol`: leading blanks, sign and digits; anything else gives 0.
pub fn atol(s: &str) -> i64 {
    let t = s.trim_start();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let n: i64 = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |acc, d| {
            acc.saturating_mul(10).saturating_add(i64::from(d - b'0'))
        });
    if neg {
        -n
    } else {
        n
    }
}

/// Section names HAProxy 2.6 knows but this parser does not.
const OTHER_SECTIONS: &[&str] = &[
    "userlist",
    "peers",
    "mailers",
    "resolvers",
    "http-errors",
    "ring",
    "cache",
    "program",
    "log-forward",
    "fcgi-app",
    "dynamic-update",
    "crt-store",
    "traces",
];

enum Current {
    None,
    Global,
    /// A proxy or defaults section being filled.
    Proxy(Box<ProxyState>),
    /// A `vrrp` section being filled (the engine's own).
    Vrrp(Box<super::vrrp::VrrpInstance>),
    /// A section we refuse; its lines are skipped.
    Skipped,
}

/// The whole parse: all files' lines, in order.
pub struct Parser {
    pub config: Config,
    pub diags: Vec<Diagnostic>,
    /// Finished proxies and defaults sections, in declaration order.
    pub done: Vec<ProxyState>,
    cur: Current,
    /// An ERR_ABORT error happened: nothing more is read.
    pub aborted: bool,
    /// HAProxy would exit at once, without its "Error(s) found" line.
    pub exit_now: bool,
    /// Number of messages printed before `quiet` took effect.
    pub quiet_from: Option<usize>,
}

impl Default for Parser {
    fn default() -> Self {
        Self::new()
    }
}

impl Parser {
    pub fn new() -> Self {
        Parser {
            config: Config::default(),
            diags: vec![],
            done: vec![],
            cur: Current::None,
            aborted: false,
            exit_now: false,
            quiet_from: None,
        }
    }

    /// Ends the current section (HAProxy's `post_section_parser`); true
    /// when what it lacks raised an alert.
    pub fn finish_section(&mut self) -> bool {
        let mut alerted = false;
        match std::mem::replace(&mut self.cur, Current::None) {
            Current::Proxy(p) => self.done.push(*p),
            Current::Vrrp(v) => {
                for msg in super::vrrp::missing(&v) {
                    self.diags.push(Diagnostic::alert(msg));
                    alerted = true;
                }
                // Checked, not run yet: a start is refused, naming it.
                self.config.unimplemented.push(Unimplemented {
                    at: v.at.clone(),
                    keyword: format!("vrrp {}", v.name),
                    section: "vrrp".into(),
                });
                self.config.vrrp.push(*v);
            }
            _ => {}
        }
        alerted
    }

    /// Feeds one line. Returns true when it raised an alert.
    pub fn line(&mut self, line: &Line) -> bool {
        let mut words = line.words.clone();
        let mut kwm = Kwm::Std;
        if words[0] == "no" || words[0] == "default" {
            kwm = if words[0] == "no" {
                Kwm::No
            } else {
                Kwm::Default
            };
            words.remove(0);
            // HAProxy's "default" shift leaves the last word duplicated
            // (`default option httpclose` sees a stray 'httpclose').
            if kwm == Kwm::Default {
                if let Some(last) = words.last().cloned() {
                    words.push(last);
                }
            }
        }
        let first = words.first().map(String::as_str).unwrap_or("");
        const NEGATABLE: &[&str] = &[
            "option",
            "log",
            "busy-polling",
            "set-dumpable",
            "strict-limits",
            "insecure-fork-wanted",
            "numa-cpu-mapping",
        ];
        // `no preempt` in a `vrrp` section, the engine's own.
        let vrrp_negation = matches!(self.cur, Current::Vrrp(_)) && first == "preempt";
        if kwm != Kwm::Std && !NEGATABLE.contains(&first) && !vrrp_negation {
            self.diags.push(Diagnostic::alert(format!(
                "parsing [{}]: negation/default currently supported only for options, log, \
                 busy-polling, set-dumpable, strict-limits, insecure-fork-wanted and numa-cpu-mapping.",
                line.at
            )));
            return true;
        }
        let before = self.alerts();
        if ["global", "defaults", "frontend", "backend", "listen"].contains(&first) {
            self.finish_section();
            self.start_section(&line.at, &words);
        } else if first == "vrrp" {
            self.finish_section();
            self.start_vrrp(&line.at, &words);
        } else if OTHER_SECTIONS.contains(&first) {
            self.finish_section();
            self.cur = Current::Skipped;
            self.diags.push(Diagnostic::alert(format!(
                "parsing [{}]: '{first}' sections are not supported by this engine.",
                line.at
            )));
        } else {
            self.keyword(&line.at, &words, kwm);
        }
        self.alerts() > before
    }

    fn alerts(&self) -> usize {
        self.diags.iter().filter(|d| d.fatal).count()
    }

    /// `vrrp <name>`: a name is needed, and one of its own.
    fn start_vrrp(&mut self, at: &Location, words: &[String]) {
        let name = words.get(1).map(String::as_str).unwrap_or("");
        let refused = if name.is_empty() {
            Some(format!("parsing [{at}] : 'vrrp' expects a name."))
        } else if words.len() > 2 {
            Some(format!(
                "parsing [{at}] : 'vrrp' cannot handle unexpected argument '{}'.",
                words[2]
            ))
        } else {
            self.config.vrrp.iter().find(|v| v.name == name).map(|v| {
                format!(
                    "parsing [{at}] : vrrp '{name}' has the same name as the one declared at [{}].",
                    v.at
                )
            })
        };
        match refused {
            Some(msg) => {
                self.diags.push(Diagnostic::alert(msg));
                self.cur = Current::Skipped;
            }
            None => {
                self.cur = Current::Vrrp(Box::new(super::vrrp::VrrpInstance::new(name, at)));
            }
        }
    }

    fn start_section(&mut self, at: &Location, words: &[String]) {
        if words[0] == "global" {
            self.cur = Current::Global;
            return;
        }
        let mut ctx = new_ctx(at, words, Kwm::Std, &mut self.diags);
        let state = section::start_section(&self.done, &mut ctx);
        self.aborted |= ctx.aborted;
        self.exit_now |= ctx.exit_now;
        self.cur = match state {
            Some(s) => Current::Proxy(Box::new(s)),
            None => Current::Skipped,
        };
    }

    fn keyword(&mut self, at: &Location, words: &[String], kwm: Kwm) {
        let mut ctx = new_ctx(at, words, kwm, &mut self.diags);
        match &mut self.cur {
            Current::None => {
                let msg = format!(
                    "parsing [{at}]: unknown keyword '{}' out of section.",
                    words[0]
                );
                ctx.alert(msg);
            }
            Current::Skipped => {}
            Current::Global => {
                global::parse(&mut self.config.global, &mut ctx);
                if self.config.global.quiet && self.quiet_from.is_none() {
                    self.quiet_from = Some(ctx.diags.len());
                }
                let labels = std::mem::take(&mut ctx.unimplemented);
                if !ctx.failed {
                    for keyword in labels {
                        self.config.unimplemented.push(Unimplemented {
                            at: at.clone(),
                            keyword,
                            section: "global".into(),
                        });
                    }
                }
            }
            Current::Proxy(p) => listen::parse(p, &mut ctx),
            Current::Vrrp(v) => super::vrrp::parse(v, &mut ctx),
        }
        self.aborted |= ctx.aborted;
        self.exit_now |= ctx.exit_now;
    }
}

fn new_ctx<'a>(
    at: &'a Location,
    args: &'a [String],
    kwm: Kwm,
    diags: &'a mut Vec<Diagnostic>,
) -> Ctx<'a> {
    Ctx {
        at,
        args,
        kwm,
        diags,
        failed: false,
        aborted: false,
        exit_now: false,
        unimplemented: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atol_is_cs() {
        assert_eq!(atol("12x"), 12);
        assert_eq!(atol("x"), 0);
        assert_eq!(atol("-3"), -3);
    }
}
