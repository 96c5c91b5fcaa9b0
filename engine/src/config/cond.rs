//! Conditional blocks and messages: `.if`, `.elif`, `.else`, `.endif`,
//! `.notice`, `.warning`, `.alert`, `.diag` (HAProxy 2.6 readcfgfile and
//! cfgcond.c).
//!
//! An `.if` expression is the rest of the line re-joined with single
//! spaces: terms combined with `&&` (binding tighter) and `||`, each term
//! `[!]<number> | [!](<expr>) | [!]<predicate>(<args>)`. A number is true
//! when non-zero. Predicates: `defined(VAR)`, `feature(NAME)` (HAProxy
//! 2.6.12's build features, so that configurations written for it take the
//! same branches), `streq(a,b)`, `strneq(a,b)`, `version_atleast(v)`,
//! `version_before(v)` (against 2.6.12) and the OpenSSL ones (against
//! 3.0.17). Errors in conditions abort the parsing, as in HAProxy.

use super::source::Line;
use super::{Diagnostic, Level};

/// The version `version_atleast` / `version_before` compare with.
pub const HAPROXY_VERSION: &str = "2.6.12";
const OPENSSL_VERSION: &str = "3.0.17";

/// `haproxy -vv` "Feature list" of the reference binary (the `+` ones).
const FEATURES: &[&str] = &[
    "ACCEPT4",
    "BACKTRACE",
    "CPU_AFFINITY",
    "CRYPT_H",
    "DL",
    "EPOLL",
    "GETADDRINFO",
    "LIBCRYPT",
    "LINUX_SPLICE",
    "LINUX_TPROXY",
    "LUA",
    "NETFILTER",
    "NS",
    "OPENSSL",
    "OT",
    "PCRE2",
    "PCRE2_JIT",
    "POLL",
    "PRCTL",
    "PROMEX",
    "RT",
    "SLZ",
    "SYSTEMD",
    "TFO",
    "THREAD",
    "THREAD_DUMP",
    "TPROXY",
];

/// HAProxy's `MAXNESTEDCONDS`.
const MAX_NESTED: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Taking this branch.
    Take,
    /// Not this branch; a later `.elif`/`.else` may be taken.
    Drop,
    /// A branch was already taken (or the parent is skipped): skip the rest.
    Skip,
    /// In `.else`, taking it.
    ElseTake,
    /// In `.else`, not taking it.
    ElseDrop,
}

/// What to do with a line.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Pass it to the keyword parser.
    Parse,
    /// Consumed or skipped.
    Done,
    /// A fatal error: stop reading.
    Abort,
    /// An error after which HAProxy stops reading this file only.
    StopFile,
}

/// The nesting state of one file's conditional blocks.
#[derive(Debug, Default)]
pub struct Conditions {
    stack: Vec<State>,
}

impl Conditions {
    fn active(&self) -> bool {
        self.stack
            .last()
            .is_none_or(|s| matches!(s, State::Take | State::ElseTake))
    }

    /// Looks at one line; diagnostics go to `diags`.
    pub fn line(&mut self, line: &Line, diags: &mut Vec<Diagnostic>) -> Verdict {
        let at = &line.at;
        let w0 = line.words[0].as_str();
        let mut alert = |m: String| diags.push(Diagnostic::alert(m));
        match w0 {
            ".if" | ".elif" => {
                let expr = line.words[1..].join(" ");
                if w0 == ".if" {
                    if self.stack.len() + 1 >= MAX_NESTED {
                        alert(format!(
                            "parsing [{at}]: too many nested '.if', max is {MAX_NESTED}."
                        ));
                        return Verdict::Abort;
                    }
                    if !self.active() {
                        self.stack.push(State::Skip);
                        return Verdict::Done;
                    }
                } else {
                    match self.stack.last() {
                        None => {
                            alert(format!(
                                "parsing [{at}]: lone '.elif' with no matching '.if'."
                            ));
                            return Verdict::Abort;
                        }
                        Some(State::ElseTake | State::ElseDrop) => {
                            alert(format!(
                                "parsing [{at}]: '.elif' after '.else' is not permitted."
                            ));
                            return Verdict::Abort;
                        }
                        Some(State::Take | State::Skip) => {
                            *self.stack.last_mut().expect("non-empty") = State::Skip;
                            return Verdict::Done;
                        }
                        Some(State::Drop) => {}
                    }
                }
                let value = match eval(&expr) {
                    Ok(v) => v,
                    Err((msg, pos)) => {
                        let (kw, pad) = if w0 == ".if" {
                            (".if", 5)
                        } else {
                            (".elif", 7)
                        };
                        alert(format!(
                            "parsing [{at}]: {msg} in '{kw}' at position {}:\n  {kw} {expr}\n  {:>width$}",
                            pos + 1,
                            "^",
                            width = pos + pad
                        ));
                        return Verdict::Abort;
                    }
                };
                let state = if value { State::Take } else { State::Drop };
                if w0 == ".if" {
                    self.stack.push(state);
                } else {
                    *self.stack.last_mut().expect("non-empty") = state;
                }
                Verdict::Done
            }
            ".else" | ".endif" => {
                if line.words.len() > 1 {
                    alert(format!(
                        "parsing [{at}]: Unexpected argument '{}' for '{w0}'.",
                        line.words[1]
                    ));
                    return Verdict::Abort;
                }
                let Some(top) = self.stack.last_mut() else {
                    alert(format!(
                        "parsing [{at}]: lone '{w0}' with no matching '.if'."
                    ));
                    return Verdict::Abort;
                };
                if w0 == ".endif" {
                    self.stack.pop();
                    return Verdict::Done;
                }
                *top = match *top {
                    State::ElseTake | State::ElseDrop => {
                        alert(format!(
                            "parsing [{at}]: '.else' after '.else' is not permitted."
                        ));
                        return Verdict::Abort;
                    }
                    State::Drop => State::ElseTake,
                    State::Take | State::Skip => State::ElseDrop,
                };
                Verdict::Done
            }
            _ if !self.active() => Verdict::Done,
            ".alert" | ".warning" | ".notice" | ".diag" => {
                if let Some(extra) = line.words.get(2) {
                    alert(format!(
                        "parsing [{at}]: Unexpected argument '{extra}' for '{w0}'. Use quotes if the message should contain spaces."
                    ));
                    return Verdict::Done;
                }
                let msg = format!(
                    "parsing [{at}]: '{}'.",
                    line.words.get(1).map_or("", String::as_str)
                );
                let level = match w0 {
                    ".alert" => Level::Alert,
                    ".warning" => Level::Warning,
                    ".notice" => Level::Notice,
                    // Diagnostic mode (-dD) is not supported: silent.
                    _ => return Verdict::Done,
                };
                diags.push(Diagnostic {
                    level,
                    message: msg,
                    fatal: level == Level::Alert,
                });
                if level == Level::Alert {
                    Verdict::Abort
                } else {
                    Verdict::Done
                }
            }
            _ if w0.starts_with('.') => {
                alert(format!("parsing [{at}]: unknown directive '{w0}'."));
                Verdict::StopFile
            }
            _ => Verdict::Parse,
        }
    }

    /// At end of file: an unterminated `.if` is fatal.
    pub fn finish(&self, last: &super::Location, diags: &mut Vec<Diagnostic>) -> bool {
        if self.stack.is_empty() {
            return false;
        }
        diags.push(Diagnostic::alert(format!(
            "parsing [{last}]: non-terminated '.if' block."
        )));
        true
    }
}

/// Error text and 0-based position in the expression.
type EvalError = (String, usize);

/// Evaluates an `.if` expression.
pub fn eval(expr: &str) -> Result<bool, EvalError> {
    let mut p = CondParser { s: expr, pos: 0 };
    let v = p.or_expr(8)?;
    p.blanks();
    if p.pos < expr.len() {
        let c = expr[p.pos..].chars().next().expect("not at end");
        return Err((
            format!(
                "unexpected character '{c}' at the end of conditional expression '{}'",
                &expr[p.pos..]
            ),
            p.pos,
        ));
    }
    Ok(v)
}

struct CondParser<'a> {
    s: &'a str,
    pos: usize,
}

impl CondParser<'_> {
    fn rest(&self) -> &str {
        &self.s[self.pos..]
    }

    fn blanks(&mut self) {
        while self.rest().starts_with([' ', '\t']) {
            self.pos += 1;
        }
    }

    fn unparsable(&self, at: usize) -> EvalError {
        (
            format!("unparsable conditional expression '{}'", &self.s[at..]),
            at,
        )
    }

    fn or_expr(&mut self, depth: u32) -> Result<bool, EvalError> {
        let mut v = self.and_expr(depth)?;
        loop {
            self.blanks();
            if !self.rest().starts_with("||") {
                return Ok(v);
            }
            self.pos += 2;
            v |= self.and_expr(depth)?;
        }
    }

    fn and_expr(&mut self, depth: u32) -> Result<bool, EvalError> {
        let mut v = self.term(depth)?;
        loop {
            self.blanks();
            if !self.rest().starts_with("&&") {
                return Ok(v);
            }
            self.pos += 2;
            v &= self.term(depth)?;
        }
    }

    fn term(&mut self, depth: u32) -> Result<bool, EvalError> {
        self.blanks();
        let start = self.pos;
        if depth == 0 || self.rest().is_empty() {
            return Err(self.unparsable(start));
        }
        let mut neg = false;
        while self.rest().starts_with('!') {
            neg = !neg;
            self.pos += 1;
            self.blanks();
        }
        let digits = self
            .rest()
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'-')
            .count();
        if digits > 0 {
            let v = self.rest()[..digits].parse::<i64>().unwrap_or(0) != 0;
            self.pos += digits;
            return Ok(v != neg);
        }
        if self.rest().starts_with('(') {
            self.pos += 1;
            let v = self.or_expr(depth - 1)?;
            self.blanks();
            if !self.rest().starts_with(')') {
                return Err((
                    format!(
                        "expected ')' after conditional expression '{}'",
                        &self.s[start..]
                    ),
                    start,
                ));
            }
            self.pos += 1;
            return Ok(v != neg);
        }
        let name_len = self
            .rest()
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        let name = self.rest()[..name_len].to_string();
        let after = &self.rest()[name_len..];
        let (Some(inner), Some(close)) = (after.strip_prefix('('), after.find(')')) else {
            return Err(self.unparsable(start));
        };
        let args: Vec<&str> = inner[..close - 1].split(',').map(str::trim).collect();
        let v = predicate(&name, &args).ok_or_else(|| self.unparsable(start))?;
        self.pos += name_len + close + 1;
        Ok(v != neg)
    }
}

fn predicate(name: &str, args: &[&str]) -> Option<bool> {
    let one = || (args.len() == 1).then(|| args[0]);
    Some(match name {
        "defined" => std::env::var_os(one()?).is_some(),
        "feature" => FEATURES.contains(&one()?),
        "streq" if args.len() == 2 => args[0] == args[1],
        "strneq" if args.len() == 2 => args[0] != args[1],
        "version_atleast" => version_cmp(HAPROXY_VERSION, one()?) >= 0,
        "version_before" => version_cmp(HAPROXY_VERSION, one()?) < 0,
        "openssl_version_atleast" => version_cmp(OPENSSL_VERSION, one()?) >= 0,
        "openssl_version_before" => version_cmp(OPENSSL_VERSION, one()?) < 0,
        "ssllib_name_startswith" => "OpenSSL".starts_with(one()?),
        _ => return None,
    })
}

/// Compares dotted versions numerically (`2.6.12` vs `2.4`).
fn version_cmp(a: &str, b: &str) -> i32 {
    let nums = |s: &str| -> Vec<u64> {
        s.split(['.', '-'])
            .map(|p| p.parse().unwrap_or(0))
            .collect()
    };
    let (x, y) = (nums(a), nums(b));
    for i in 0..x.len().max(y.len()) {
        let (p, q) = (
            x.get(i).copied().unwrap_or(0),
            y.get(i).copied().unwrap_or(0),
        );
        if p != q {
            return if p < q { -1 } else { 1 };
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions() {
        assert_eq!(eval("1"), Ok(true));
        assert_eq!(eval("!0"), Ok(true));
        assert_eq!(eval("streq(a,b) || version_atleast(2.4)"), Ok(true));
        assert_eq!(eval("feature(OPENSSL) && !feature(QUIC)"), Ok(true));
        assert_eq!(eval("(0 || 1) && version_before(2.6)"), Ok(false));
        assert!(eval("foo(x)").is_err());
        assert!(eval("").is_err());
    }
}
