//! What `http-request` and `http-response` edits do to a message, as
//! HAProxy 2.6 does them:
//! - `set-header` removes every line of the name, then adds one at the end;
//!   `add-header` adds one; `del-header` removes every line of the name;
//! - `replace-header` tries its regex on each line of the name and, where
//!   it matches, the whole value becomes the replacement (`\1`... are the
//!   regex's groups); `replace-value` does it for each comma-separated
//!   value of those lines;
//! - `set-path` keeps the query, `set-query` keeps the path, `set-uri`
//!   and `set-method` replace theirs.

use regex::bytes::{Captures, Regex};

use crate::config::HeaderAction;
use crate::http::message::Message;

pub fn apply(action: &HeaderAction, msg: &mut Message) {
    match action {
        HeaderAction::Set { name, value } => {
            let name = name.to_ascii_lowercase();
            msg.remove(&name);
            msg.add(&name, value.as_bytes());
        }
        HeaderAction::Add { name, value } => msg.add(name, value.as_bytes()),
        HeaderAction::Del { name } => msg.remove(&name.to_ascii_lowercase()),
        HeaderAction::Replace {
            name,
            regex,
            replace,
            each_value,
        } => {
            // The configuration checked the regex.
            let Ok(re) = Regex::new(regex) else {
                return;
            };
            let name = name.to_ascii_lowercase();
            for (n, v) in msg.headers.iter_mut() {
                if *n != name.as_bytes() {
                    continue;
                }
                *v = if *each_value {
                    v.split(|&c| c == b',')
                        .map(|part| {
                            let lead = part.iter().take_while(|c| c.is_ascii_whitespace()).count();
                            let mut out = part[..lead].to_vec();
                            out.extend(replaced(&re, &part[lead..], replace));
                            out
                        })
                        .collect::<Vec<_>>()
                        .join(&b","[..])
                } else {
                    replaced(&re, v, replace)
                };
            }
        }
    }
}

/// The value, or the replacement with its groups filled in when the regex
/// matches it.
fn replaced(re: &Regex, value: &[u8], replace: &str) -> Vec<u8> {
    match re.captures(value) {
        Some(caps) => expand(&caps, replace),
        None => value.to_vec(),
    }
}

/// HAProxy's `exp_replace`: `\N` is group N, `\\` a backslash.
fn expand(caps: &Captures, replace: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chars = replace.bytes().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            (b'\\', Some(d)) if d.is_ascii_digit() => {
                let group = usize::from(*d - b'0');
                chars.next();
                if let Some(m) = caps.get(group) {
                    out.extend_from_slice(m.as_bytes());
                }
            }
            (b'\\', Some(b'\\')) => {
                chars.next();
                out.push(b'\\');
            }
            _ => out.push(c),
        }
    }
    out
}

/// `set-path`: the path part of the URI, the query kept.
pub fn set_path(msg: &mut Message, path: &str) {
    let uri = &msg.start[1];
    let query = uri
        .iter()
        .position(|&c| c == b'?')
        .map(|q| uri[q..].to_vec());
    let mut new = path.as_bytes().to_vec();
    new.extend(query.unwrap_or_default());
    msg.start[1] = new;
}

/// `set-query`: the query string (without its `?`), the path kept.
pub fn set_query(msg: &mut Message, query: &str) {
    let uri = &msg.start[1];
    let path_end = uri.iter().position(|&c| c == b'?').unwrap_or(uri.len());
    let mut new = uri[..path_end].to_vec();
    new.push(b'?');
    new.extend_from_slice(query.as_bytes());
    msg.start[1] = new;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(headers: &[(&str, &str)]) -> Message {
        Message {
            start: [b"GET".to_vec(), b"/a/b?x=1".to_vec(), b"HTTP/1.1".to_vec()],
            headers: headers
                .iter()
                .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
                .collect(),
        }
    }

    fn values(m: &Message, name: &str) -> Vec<String> {
        m.values(name)
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .collect()
    }

    #[test]
    fn set_replaces_every_line_and_goes_last() {
        let mut m = msg(&[("x-a", "1"), ("host", "h"), ("x-a", "2")]);
        apply(
            &HeaderAction::Set {
                name: "X-A".into(),
                value: "3".into(),
            },
            &mut m,
        );
        assert_eq!(m.headers.last().unwrap().0, b"x-a");
        assert_eq!(values(&m, "x-a"), ["3"]);
    }

    #[test]
    fn replace_header_replaces_the_whole_value_with_groups() {
        let mut m = msg(&[("cookie", "foo=bar; x=y")]);
        apply(
            &HeaderAction::Replace {
                name: "Cookie".into(),
                regex: "foo=([^;]*);(.*)".into(),
                replace: "foo=\\1;ip=1\\2".into(),
                each_value: false,
            },
            &mut m,
        );
        assert_eq!(values(&m, "cookie"), ["foo=bar;ip=1 x=y"]);
        let mut m = msg(&[("accept", "a, b, a")]);
        apply(
            &HeaderAction::Replace {
                name: "accept".into(),
                regex: "^a$".into(),
                replace: "z".into(),
                each_value: true,
            },
            &mut m,
        );
        assert_eq!(values(&m, "accept"), ["z, b, z"]);
    }

    #[test]
    fn path_and_query() {
        let mut m = msg(&[]);
        set_path(&mut m, "/new");
        assert_eq!(m.start[1], b"/new?x=1");
        set_query(&mut m, "y=2");
        assert_eq!(m.start[1], b"/new?y=2");
    }
}
