//! One configuration line → words, exactly as HAProxy 2.6's `parse_line`
//! (src/tools.c) splits it with the options `readcfgfile` passes (ENV,
//! DQUOTE, SQUOTE, BKSLASH, SHARP, WORD_EXPAND).
//!
//! The rules, all checked against the 2.6.12 binary:
//! - words are separated by C `isspace` characters (space, `\t`, `\v`,
//!   `\f`; `\r` and `\n` end the line). A non-breaking space is *not* a
//!   separator, so `log\u{a0}\u{a0}x` is one word, as in HAProxy.
//! - `#` outside quotes starts a comment, even in the middle of a word.
//! - quotes toggle inside a word: `a"b c"d` is the single word `ab cd`.
//!   Single quotes are fully literal; double quotes keep backslash escapes
//!   and expand `$VAR`, `${VAR}`, `${VAR-default}` and `${VAR[*]}` (the last
//!   splits the value into several words). Outside double quotes `$` is an
//!   ordinary character.
//! - backslash (outside single quotes): `\ `, `\\`, `\t`, `\n`, `\r`, `\#`,
//!   `\'`, `\"`, `\$` (inside double quotes only) and `\xHH`; any other
//!   backslash stays as written (`\.` is two characters).
//! - there is no line continuation: a trailing backslash is a literal `\`
//!   word (HAProxy 2.6 then reports it as an unknown keyword).
//! - an empty word (`""`) ends the argument list, because HAProxy's keyword
//!   parsers stop at the first empty argument; a line whose first word is
//!   empty is skipped.

use nom::branch::alt;
use nom::bytes::complete::{tag, take_while, take_while1, take_while_m_n};
use nom::character::complete::{anychar, char};
use nom::combinator::{map, opt, value};
use nom::IResult;
use nom::Parser;

/// HAProxy's `MAX_LINE_ARGS`: words beyond this are an error.
pub const MAX_LINE_ARGS: usize = 64;

/// Why a line could not be split. `pos` is the 0-based byte offset in the
/// raw line (leading blanks included), which is what HAProxy reports
/// (1-based) in "at position N".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LexError {
    #[error("unmatched quote")]
    Quote { pos: usize },
    #[error("unmatched brace in environment variable name")]
    Brace { pos: usize },
    #[error("forbidden first char in environment variable name")]
    VarName { pos: usize },
    /// An unknown `$.NAME` pseudo-variable. HAProxy leaves a NUL after the
    /// name in its buffer, so its message shows the line cut at `end`.
    #[error("forbidden first char in environment variable name")]
    PseudoVar { pos: usize, end: usize },
    #[error("truncated or invalid hexadecimal sequence")]
    Hex { pos: usize },
    #[error("truncated or invalid word expansion sequence")]
    WordExpand { pos: usize },
    #[error("too many words")]
    TooMany,
}

impl LexError {
    pub fn pos(&self) -> usize {
        match self {
            LexError::Quote { pos }
            | LexError::Brace { pos }
            | LexError::VarName { pos }
            | LexError::PseudoVar { pos, .. }
            | LexError::Hex { pos }
            | LexError::WordExpand { pos } => *pos,
            LexError::TooMany => 0,
        }
    }
}

/// C's `isspace` in the "C" locale.
pub fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{b}' | '\u{c}' | '\r' | '\n')
}

/// Looks up `$VAR`; HAProxy's pseudo-variables `.LINE`, `.FILE` and
/// `.SECTION` go through the same function.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Splits `line` into words. See the module header for the rules.
pub fn parse_line(line: &str, env: EnvLookup<'_>) -> Result<Vec<String>, LexError> {
    let mut lexer = Lexer {
        base: line,
        env,
        words: vec![],
        cur: vec![],
        dquote: None,
        squote: None,
    };
    lexer.run()?;
    let mut words: Vec<String> = lexer
        .words
        .into_iter()
        .map(|w| String::from_utf8_lossy(&w).into_owned())
        .collect();
    if let Some(empty) = words.iter().position(|w| w.is_empty()) {
        words.truncate(empty);
    }
    if words.len() > MAX_LINE_ARGS {
        return Err(LexError::TooMany);
    }
    Ok(words)
}

/// Quotes any word so that `parse_line` gives it back unchanged.
pub fn quote_word(word: &str) -> String {
    // Inside double quotes only `"`, `\` and `$` are special.
    let mut out = String::from("\"");
    for c in word.chars() {
        match c {
            '"' | '\\' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One piece of a word, as recognised by the grammar.
#[derive(Debug, Clone, PartialEq)]
enum Frag {
    /// Bytes to append to the current word.
    Bytes(Vec<u8>),
    /// A word separator (unquoted blanks, or a blank inside `${X[*]}`).
    Break,
    /// The opening or closing `"`.
    DQuote,
    /// The opening or closing `'`.
    SQuote,
    /// End of the useful part of the line (`#` comment, CR/LF).
    End,
    /// `$` starting an environment variable inside double quotes.
    Dollar,
    /// An invalid `\x` sequence.
    BadHex,
}

struct Lexer<'a> {
    base: &'a str,
    env: EnvLookup<'a>,
    words: Vec<Vec<u8>>,
    cur: Vec<u8>,
    /// Offset of the opening double quote, while inside one.
    dquote: Option<usize>,
    squote: Option<usize>,
}

impl Lexer<'_> {
    fn run(&mut self) -> Result<(), LexError> {
        let base = self.base;
        // Leading blanks are skipped by readcfgfile before parse_line.
        let mut rest = base.trim_start_matches(is_c_space);
        loop {
            let at = base.len() - rest.len();
            if rest.is_empty() {
                break;
            }
            let parsed = if self.squote.is_some() {
                squoted_frag(rest)
            } else if self.dquote.is_some() {
                dquoted_frag(rest)
            } else {
                unquoted_frag(rest)
            };
            let (next, frag) = parsed.expect("every character starts a fragment");
            match frag {
                Frag::Bytes(b) => self.cur.extend_from_slice(&b),
                Frag::Break => self.end_word(),
                Frag::DQuote => {
                    self.dquote = if self.dquote.is_some() {
                        None
                    } else {
                        Some(at)
                    }
                }
                Frag::SQuote => {
                    self.squote = if self.squote.is_some() {
                        None
                    } else {
                        Some(at)
                    }
                }
                Frag::End => break,
                Frag::BadHex => return Err(LexError::Hex { pos: at }),
                Frag::Dollar => {
                    rest = self.env_var(next)?;
                    continue;
                }
            }
            rest = next;
        }
        if let Some(pos) = self.dquote.or(self.squote) {
            return Err(LexError::Quote { pos });
        }
        self.end_word();
        Ok(())
    }

    fn end_word(&mut self) {
        self.words.push(std::mem::take(&mut self.cur));
    }

    /// Expands the variable whose name starts at `input` (just after `$`).
    fn env_var<'s>(&mut self, input: &'s str) -> Result<&'s str, LexError> {
        let offset = |s: &str| self.base.len() - s.len();
        let (input, brace) = match input.strip_prefix('{') {
            Some(r) => (r, Some(offset(input))),
            None => (input, None),
        };
        let (after, name) =
            var_name(input).map_err(|_| LexError::VarName { pos: offset(input) })?;
        if name.starts_with('.') && !matches!(name, ".LINE" | ".FILE" | ".SECTION") {
            let pos = offset(input);
            return Err(LexError::PseudoVar {
                pos,
                end: pos + name.len(),
            });
        }
        let mut rest = after;
        let mut value = (self.env)(name);
        let mut expand = false;
        if let (Some(_), Some(r)) = (brace, rest.strip_prefix('[')) {
            let pos = offset(rest);
            rest = r.strip_prefix("*]").ok_or(LexError::WordExpand { pos })?;
            expand = true;
        }
        if let Some(b) = brace {
            if let Some(r) = rest.strip_prefix('-') {
                let end = r.find('}').ok_or(LexError::Brace { pos: b })?;
                value = value.or_else(|| Some(r[..end].to_string()));
                rest = &r[end..];
            }
            rest = rest.strip_prefix('}').ok_or(LexError::Brace { pos: b })?;
        }
        let value = value.unwrap_or_default();
        if expand {
            let mut parts = value.split(is_c_space).filter(|p| !p.is_empty()).peekable();
            // A leading blank in the value still breaks the word, as in C.
            if value.starts_with(is_c_space) {
                self.end_word();
            }
            while let Some(p) = parts.next() {
                self.cur.extend_from_slice(p.as_bytes());
                if parts.peek().is_some() || value.ends_with(is_c_space) {
                    self.end_word();
                }
            }
        } else {
            self.cur.extend_from_slice(value.as_bytes());
        }
        Ok(rest)
    }
}

type LexResult<'a, T> = IResult<&'a str, T>;

/// A variable name: a letter, `_` or `.` then letters, digits and `_`.
fn var_name(input: &str) -> LexResult<'_, &str> {
    let first = input.chars().next();
    if !matches!(first, Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '.') {
        return Err(nom::Err::Error(nom::error::Error::new(
            input,
            nom::error::ErrorKind::Alpha,
        )));
    }
    let skip = usize::from(first == Some('.'));
    let (_, tail) = take_while(|c: char| c.is_ascii_alphanumeric() || c == '_')(&input[skip..])?;
    let len = skip + tail.len();
    Ok((&input[len..], &input[..len]))
}

fn is_plain(c: char) -> bool {
    !matches!(c, '\\' | '#' | '"' | '\'' | '\r' | '\n') && !is_c_space(c)
}

fn bytes(s: &str) -> Frag {
    Frag::Bytes(s.as_bytes().to_vec())
}

/// Outside any quote.
fn unquoted_frag(input: &str) -> LexResult<'_, Frag> {
    alt((
        map(take_while1(is_plain), bytes),
        value(
            Frag::Break,
            take_while1(|c| is_c_space(c) && c != '\r' && c != '\n'),
        ),
        value(Frag::End, alt((tag("#"), tag("\r"), tag("\n")))),
        value(Frag::DQuote, char('"')),
        value(Frag::SQuote, char('\'')),
        |i| escape(i, false),
    ))
    .parse(input)
}

/// Inside double quotes: blanks and `#` are ordinary, `$` expands.
fn dquoted_frag(input: &str) -> LexResult<'_, Frag> {
    alt((
        map(
            take_while1(|c| !matches!(c, '\\' | '"' | '$' | '\r' | '\n')),
            bytes,
        ),
        value(Frag::End, alt((tag("\r"), tag("\n")))),
        value(Frag::DQuote, char('"')),
        value(Frag::Dollar, char('$')),
        |i| escape(i, true),
    ))
    .parse(input)
}

/// Inside single quotes everything is literal up to the closing quote.
fn squoted_frag(input: &str) -> LexResult<'_, Frag> {
    alt((
        map(take_while1(|c| !matches!(c, '\'' | '\r' | '\n')), bytes),
        value(Frag::End, alt((tag("\r"), tag("\n")))),
        value(Frag::SQuote, char('\'')),
    ))
    .parse(input)
}

/// A backslash sequence (never inside single quotes).
fn escape(input: &str, in_dquote: bool) -> LexResult<'_, Frag> {
    let (rest, _) = char('\\').parse(input)?;
    let hex: LexResult<'_, &str> = nom::sequence::preceded(
        char('x'),
        take_while_m_n(2, 2, |c: char| c.is_ascii_hexdigit()),
    )
    .parse(rest);
    if let Ok((after, digits)) = hex {
        let byte = u8::from_str_radix(digits, 16).expect("two hex digits");
        return Ok((after, Frag::Bytes(vec![byte])));
    }
    if rest.starts_with('x') {
        return Ok((rest, Frag::BadHex));
    }
    let (after, next) = opt(anychar).parse(rest)?;
    let frag = match next {
        Some(c @ (' ' | '\\' | '#' | '\'' | '"')) => Frag::Bytes(vec![c as u8]),
        Some('$') if in_dquote => bytes("$"),
        Some('t') => bytes("\t"),
        Some('n') => bytes("\n"),
        Some('r') => bytes("\r"),
        // Not an escape: the backslash stays and the next character is
        // read normally.
        _ => return Ok((rest, bytes("\\"))),
    };
    Ok((after, frag))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn lex(s: &str) -> Result<Vec<String>, LexError> {
        parse_line(s, &no_env)
    }

    fn words(s: &str) -> Vec<String> {
        lex(s).unwrap()
    }

    #[test]
    fn blanks_separate_and_comments_end() {
        assert_eq!(words("  bind  *:80\t# web"), ["bind", "*:80"]);
        assert_eq!(words("acl a path#x"), ["acl", "a", "path"]);
        assert_eq!(words("   "), Vec::<String>::new());
        assert_eq!(words("log\u{a0}\u{a0}x y"), ["log\u{a0}\u{a0}x", "y"]);
    }

    #[test]
    fn quotes_toggle_inside_a_word() {
        assert_eq!(words(r#"a"b c"d 'e f'"#), ["ab cd", "e f"]);
        assert_eq!(words(r#"'\x41 # $HOME'"#), [r"\x41 # $HOME"]);
        assert_eq!(words(r#""a#b""#), ["a#b"]);
    }

    #[test]
    fn escapes() {
        assert_eq!(words(r"a\ b \#c \\ \x41\x2a"), ["a b", "#c", "\\", "A*"]);
        assert_eq!(words(r"HTTP/1.1\r\nHost:x"), ["HTTP/1.1\r\nHost:x"]);
        assert_eq!(words(r"\.(gif|png)$"), [r"\.(gif|png)$"]);
        assert_eq!(words(r#"\"q\'"#), [r#""q'"#]);
    }

    #[test]
    fn trailing_backslash_is_a_word_not_a_continuation() {
        assert_eq!(words("bind :80 \\"), ["bind", ":80", "\\"]);
    }

    #[test]
    fn empty_word_ends_the_arguments() {
        assert_eq!(words(r#"a "" b"#), ["a"]);
        assert_eq!(words(r#""" b"#), Vec::<String>::new());
    }

    #[test]
    fn environment_only_inside_double_quotes() {
        let env = |n: &str| match n {
            "X" => Some("v".to_string()),
            "L" => Some("a b".to_string()),
            _ => None,
        };
        let lex = |s: &str| parse_line(s, &env).unwrap();
        assert_eq!(
            lex(r#"$X "$X" "${X}y" "${NO-dflt}" "${NO}""#),
            ["$X", "v", "vy", "dflt"]
        );
        assert_eq!(lex(r#"w "${L[*]}" z"#), ["w", "a", "b", "z"]);
        assert_eq!(lex(r#""\$X""#), ["$X"]);
    }

    #[test]
    fn errors_point_where_haproxy_points() {
        assert_eq!(
            lex(r#" bind "127.0.0.1:80"#),
            Err(LexError::Quote { pos: 6 })
        );
        assert_eq!(lex("bind '1"), Err(LexError::Quote { pos: 5 }));
        assert_eq!(lex(r"bind 1.2\xZZ"), Err(LexError::Hex { pos: 8 }));
        assert_eq!(lex(r#"a "${X""#), Err(LexError::Brace { pos: 4 }));
        assert_eq!(lex(r#"a "$1""#), Err(LexError::VarName { pos: 4 }));
        assert_eq!(
            lex(r#"a "$.x y""#),
            Err(LexError::PseudoVar { pos: 4, end: 6 })
        );
        assert_eq!(lex(r#"a "${X[x]}""#), Err(LexError::WordExpand { pos: 6 }));
    }

    proptest! {
        #[test]
        fn lexing_never_panics(s in "\\PC*") {
            let _ = lex(&s);
        }

        #[test]
        fn quoted_words_come_back(ws in proptest::collection::vec("[^\u{0}]{1,12}", 1..8)) {
            let line: Vec<String> = ws.iter().map(|w| quote_word(w)).collect();
            prop_assert_eq!(words(&line.join(" ")), ws);
        }
    }
}
