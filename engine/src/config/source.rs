//! `-f` arguments → configuration files → lexed lines, each with its file
//! and line number.
//!
//! As in HAProxy, a directory expands to its `*.cfg` files (not starting
//! with `.`) in byte order (`alphasort`), several `-f` load in the order
//! given, and lines that lex to no word (blank, comment) are dropped. A line
//! that fails to lex becomes a diagnostic and is skipped; the rest of the
//! file is still read, so all errors show at once.

use super::lex::{self, LexError};
use super::Location;
use std::path::{Path, PathBuf};

/// One non-empty configuration line, split into words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub at: Location,
    pub words: Vec<String>,
}

/// A line that could not be split: HAProxy's multi-line alert text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    pub at: Location,
    pub message: String,
}

/// Why a `-f` argument could not be read; HAProxy stops at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    #[error("Cannot open configuration file/directory {0} : {1}")]
    Stat(String, String),
    #[error("Cannot open configuration directory {0} : {1}")]
    Dir(String, String),
    #[error("Could not open configuration file {0} : {1}")]
    Open(String, String),
}

/// The C `strerror` text of an I/O error (Rust appends " (os error N)").
pub fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Expands directories into their `*.cfg` files, keeping argument order.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, SourceError> {
    let mut out = vec![];
    for p in paths {
        let shown = p.display().to_string();
        let meta =
            std::fs::metadata(p).map_err(|e| SourceError::Stat(shown.clone(), strerror(&e)))?;
        if !meta.is_dir() {
            out.push(p.clone());
            continue;
        }
        let rd = std::fs::read_dir(p).map_err(|e| SourceError::Dir(shown.clone(), strerror(&e)))?;
        let mut names: Vec<Vec<u8>> = rd
            .filter_map(Result::ok)
            .map(|e| e.file_name().into_encoded_bytes())
            .filter(|n| !n.starts_with(b".") && n.ends_with(b".cfg"))
            .collect();
        names.sort();
        for n in names {
            let name = String::from_utf8_lossy(&n).into_owned();
            let full = PathBuf::from(format!("{}/{}", shown, name));
            if std::fs::metadata(&full)
                .map(|m| m.is_file())
                .unwrap_or(false)
            {
                out.push(full);
            }
        }
    }
    Ok(out)
}

/// Reads and lexes one file.
pub fn read_file(path: &Path) -> Result<Vec<Item>, SourceError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| SourceError::Open(file.clone(), strerror(&e)))?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(lex_text(&file, &text))
}

/// One file, in order: its non-empty lines and the errors found while
/// reading them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Line(Line),
    Error(BadLine),
}

/// Keywords that open a section (for `$.SECTION`).
const SECTION_KEYWORDS: &[&str] = &[
    "global",
    "defaults",
    "frontend",
    "backend",
    "listen",
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
];

/// Lexes a whole file's text. `$.FILE` and `$.LINE` expand as in HAProxy.
///
/// Like readcfgfile, a NUL byte truncates its line and stops the file
/// ("Stray NUL character"), and a last line without LF is parsed, then
/// reported ("Missing LF on last line"): both are fatal.
pub fn lex_text(file: &str, text: &str) -> Vec<Item> {
    let mut items = vec![];
    // `$.SECTION`: the name (or keyword) of the section being read.
    let mut section: Option<String> = None;
    for (i, raw) in text.split_inclusive('\n').enumerate() {
        let at = Location {
            file: file.to_string(),
            line: i as u32 + 1,
        };
        let nul = raw.find('\0');
        let raw_line = nul.map_or(raw, |n| &raw[..n]);
        let env = |name: &str| match name {
            ".FILE" => Some(file.to_string()),
            ".LINE" => Some(at.line.to_string()),
            ".SECTION" => section.clone(),
            _ => std::env::var(name).ok(),
        };
        let lexed = lex::parse_line(raw_line, &env);
        match lexed {
            Ok(words) if words.is_empty() => {}
            Ok(words) => {
                if SECTION_KEYWORDS.contains(&words[0].as_str()) {
                    section = Some(words.get(1).unwrap_or(&words[0]).clone());
                }
                items.push(Item::Line(Line {
                    at: at.clone(),
                    words,
                }))
            }
            Err(e) => items.push(Item::Error(BadLine {
                message: lex_message(&at, raw_line, &e),
                at: at.clone(),
            })),
        }
        if let Some(n) = nul {
            let message = format!("parsing [{at}]: Stray NUL character at position {}.", n + 1);
            items.push(Item::Error(BadLine { at, message }));
            break;
        }
        if !raw.ends_with('\n') {
            let message = format!(
                "parsing [{at}]: Missing LF on last line, file might have been truncated at position {}.",
                raw.len() + 1
            );
            items.push(Item::Error(BadLine { at, message }));
        }
    }
    items
}

/// `parsing [f:1]: unmatched quote at position 7:` plus the line and a caret.
fn lex_message(at: &Location, raw: &str, e: &LexError) -> String {
    if *e == LexError::TooMany {
        return format!(
            "parsing [{at}]: too many words, truncating after word {}.",
            lex::MAX_LINE_ARGS
        );
    }
    let lead = raw.len() - raw.trim_start_matches(lex::is_c_space).len();
    // readcfgfile kills the trailing LF before printing the line.
    let mut raw = raw.strip_suffix('\n').unwrap_or(raw);
    if let LexError::PseudoVar { end, .. } = e {
        raw = &raw[..*end];
    }
    let shown = &raw.as_bytes()[lead.min(raw.len())..];
    let (text, caret) = sanitize_for_printing(shown, e.pos() - lead, 80);
    format!(
        "parsing [{at}]: {e} at position {}:\n  {text}\n  {:>width$}",
        e.pos() + 1,
        "^",
        width = caret + 1
    )
}

/// HAProxy's `sanitize_for_printing`: blanks become spaces, other
/// non-printable bytes `?`, and long lines are cut around `pos`.
fn sanitize_for_printing(line: &[u8], pos: usize, width: usize) -> (String, usize) {
    let mut out = String::new();
    let (mut start, mut shift, mut limit) = (0, 0, width);
    if pos >= width {
        shift = pos - width / 2;
        start = shift + 3;
        limit = width - 3;
        out.push_str("...");
    }
    for &b in line.iter().skip(start) {
        if out.len() >= limit {
            break;
        }
        out.push(match b {
            b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => ' ',
            0x20..=0x7e => b as char,
            _ => '?',
        });
    }
    if pos >= width {
        out.push_str("...");
    }
    (out, pos - shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_keep_their_numbers_and_blank_lines_vanish() {
        let items = lex_text("f.cfg", "global\n\n  # c\n  maxconn 10\n");
        let Item::Line(l) = &items[1] else {
            panic!("{items:?}")
        };
        assert_eq!(items.len(), 2);
        assert_eq!(l.at.line, 4);
        assert_eq!(l.words, ["maxconn", "10"]);
    }

    #[test]
    fn unmatched_quote_message_is_haproxys() {
        let items = lex_text("q1.cfg", "listen a\n bind \"127.0.0.1:80\n");
        let Item::Error(bad) = &items[1] else {
            panic!("{items:?}")
        };
        assert_eq!(
            bad.message,
            "parsing [q1.cfg:2]: unmatched quote at position 7:\n  bind \"127.0.0.1:80\n       ^"
        );
    }

    #[test]
    fn nul_and_missing_lf_are_reported_after_their_line() {
        let items = lex_text("n.cfg", "a\nb\0c\nd\n");
        assert_eq!(items.len(), 3, "{items:?}");
        assert!(
            matches!(&items[2], Item::Error(b) if b.message == "parsing [n.cfg:2]: Stray NUL character at position 2.")
        );
        let items = lex_text("m.cfg", "a\nbc");
        assert!(
            matches!(&items[2], Item::Error(b) if b.message.ends_with("truncated at position 3."))
        );
    }

    #[test]
    fn directories_expand_to_sorted_cfg_files() {
        let dir = std::env::temp_dir().join(format!("cfgdir-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for n in ["b.cfg", "a.cfg", ".h.cfg", "c.txt"] {
            std::fs::write(dir.join(n), "").unwrap();
        }
        let got = expand(std::slice::from_ref(&dir)).unwrap();
        let names: Vec<_> = got
            .iter()
            .map(|p| p.file_name().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["a.cfg", "b.cfg"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
