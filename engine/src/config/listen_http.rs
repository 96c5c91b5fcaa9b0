//! Proxy keywords that only act on HTTP traffic: `stats ...` (the
//! statistics page) and the error-message replacements `errorfile`,
//! `errorloc`, `errorloc302`, `errorloc303`.
//!
//! `errorfile` reads its file at load time, as HAProxy does, and fails the
//! same way when the file cannot be opened.

use super::listen::ProxyState;
use super::parse::{atol, Ctx};
use super::units::parse_time_ms;
use super::{ErrorMessage, ErrorSource};

pub fn stats(p: &mut ProxyState, ctx: &mut Ctx) {
    let here = ctx.here();
    let sub = ctx.arg(1).to_string();
    let value = ctx.arg(2).to_string();
    let st = &mut p.px.stats;
    if sub.is_empty() {
        ctx.alert(format!(
            "parsing [{}]: missing keyword in 'stats', expects 'admin', 'uri', 'realm', 'auth', 'scope', 'enable', 'hide-version', 'show-node', 'show-desc' or 'show-legends'.",
            ctx.at
        ));
        return;
    }
    match sub.as_str() {
        "enable" => st.enabled = true,
        "hide-version" => st.hide_version = true,
        "uri" | "realm" | "auth" | "refresh" if value.is_empty() => {
            let what = match sub.as_str() {
                "uri" => "'uri' needs an URI prefix.",
                "realm" => "'realm' needs an realm name.",
                "auth" => "'auth' needs a user:password account.",
                _ => "'refresh' needs a positive interval.",
            };
            ctx.alert(format!("{here} : {what}"));
            return;
        }
        "uri" => st.uri = Some(value),
        "realm" => st.realm = Some(value),
        "auth" => match value.split_once(':') {
            Some((u, pw)) => st.auth.push((u.to_string(), pw.to_string())),
            None => {
                ctx.alert(format!("{here} : 'auth' needs a user:password account."));
                return;
            }
        },
        "refresh" => match parse_time_ms(&value) {
            Ok(t) => st.refresh = Some(t.duration()),
            Err(_) => {
                ctx.alert(format!("{here} : 'refresh' needs a positive interval."));
                return;
            }
        },
        "admin" => {
            let words = &ctx.args[2..];
            if !matches!(words.first().map(String::as_str), Some("if" | "unless")) {
                ctx.alert(format!(
                    "{here} : 'stats admin' requires either 'if' or 'unless' followed by a condition."
                ));
                return;
            }
            match super::acl::parse_condition(words, p, ctx.at) {
                Ok(cond) => p.px.stats.admin.push(cond),
                Err(e) => {
                    ctx.alert(format!(
                        "{here} : error detected while parsing a 'stats admin' rule : {e}."
                    ));
                    return;
                }
            }
        }
        "http-request" => {
            // Rules of the page's own (deny, allow, auth...): recognised,
            // not run yet; starting refuses them, naming the line.
            ctx.unimplemented("stats http-request".to_string());
        }
        "scope" if value.is_empty() => {
            ctx.alert(format!("{here} : 'scope' needs a proxy name."));
            return;
        }
        "scope" => st.scope.push(value),
        "show-legends" => st.show_legends = true,
        "show-node" => st.show_node = Some(value),
        "show-desc" => {
            // Unlike `show-node`, no stand-in exists without a global
            // `description` (the engine keeps none): HAProxy warns.
            let text = ctx.args[2..].join(" ");
            if text.is_empty() {
                ctx.warn(format!(
                    "{here}: 'show-desc' requires a parameter or 'desc' to be set in the global section."
                ));
            }
            st.show_desc = Some(text);
        }
        _ => {
            ctx.alert(format!(
                "parsing [{}]: unknown stats parameter '{sub}', expects 'admin', 'uri', 'realm', 'auth', 'scope', 'enable', 'hide-version', 'show-node', 'show-desc' or 'show-legends'.",
                ctx.at
            ));
            return;
        }
    }
    p.px.stats.enabled = true;
}

/// Status codes HAProxy can replace (`http_err_codes`).
pub const ERROR_CODES: &[u16] = &[
    200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504,
];

fn status_arg(ctx: &mut Ctx, kw: &str, what: &str) -> Option<u16> {
    if ctx.arg(1).is_empty() || ctx.arg(2).is_empty() {
        let msg = format!(
            "{} : {kw} : expects <status_code> and <{what}> as arguments.\n",
            ctx.here()
        );
        ctx.alert(msg);
        return None;
    }
    let code = atol(ctx.arg(1));
    if !ERROR_CODES.iter().any(|&c| i64::from(c) == code) {
        let msg = format!("{} : {kw} : status code '{code}' not handled.", ctx.here());
        ctx.alert(msg);
        return None;
    }
    Some(code as u16)
}

/// HAProxy's `tune.bufsize`: the most of a file a reply may hold.
pub(super) const BUFSIZE: usize = super::model::TUNE_BUFSIZE;

#[derive(Debug, PartialEq, Eq)]
pub(super) enum FileError {
    Open,
    Read,
}

/// The file's bytes, as many as its size says and at most a buffer's
/// worth, and that size: HAProxy reads `st_size` bytes, so a device that
/// never ends (`/dev/zero`) is read as empty, never until memory runs out.
pub(super) fn read_sized(path: &std::path::Path) -> Result<(Vec<u8>, u64), FileError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|_| FileError::Open)?;
    let size = file.metadata().map_err(|_| FileError::Open)?.len();
    let want = size.min(BUFSIZE as u64);
    let mut bytes = Vec::with_capacity(want as usize);
    file.take(want)
        .read_to_end(&mut bytes)
        .map_err(|_| FileError::Read)?;
    if bytes.len() as u64 != want {
        return Err(FileError::Read);
    }
    Ok((bytes, size))
}

pub fn errorfile(p: &mut ProxyState, ctx: &mut Ctx) {
    let Some(status) = status_arg(ctx, "errorfile", "file") else {
        return;
    };
    let path = std::path::PathBuf::from(ctx.arg(2));
    // http_load_errorfile: as many bytes as the file says it holds (none
    // for a device such as /dev/zero), at most a buffer's worth.
    let contents = match read_sized(&path) {
        Ok((c, size)) if size > BUFSIZE as u64 => {
            ctx.warn(format!(
                "custom error message file '{}' larger than {BUFSIZE} bytes. Truncating.",
                ctx.arg(2)
            ));
            c
        }
        Ok((c, _)) => c,
        Err(e) => {
            let what = if e == FileError::Open {
                "opening"
            } else {
                "reading"
            };
            let msg = format!(
                "{} : errorfile : error {what} file '{}'.",
                ctx.here(),
                ctx.arg(2)
            );
            ctx.alert(msg);
            return;
        }
    };
    p.px.errors.retain(|e| e.status != status);
    p.px.errors.push(ErrorMessage {
        at: ctx.at.clone(),
        status,
        source: ErrorSource::File { path, contents },
    });
}

pub fn errorloc(p: &mut ProxyState, ctx: &mut Ctx) {
    let kw = ctx.arg(0).to_string();
    let Some(status) = status_arg(ctx, &kw, "url") else {
        return;
    };
    let code = if kw == "errorloc303" { 303 } else { 302 };
    let url = ctx.arg(2).to_string();
    p.px.errors.retain(|e| e.status != status);
    p.px.errors.push(ErrorMessage {
        at: ctx.at.clone(),
        status,
        source: ErrorSource::Location { code, url },
    });
}

#[cfg(test)]
mod file_tests {
    use super::*;

    /// A device that never ends is read as its size says: empty. A file
    /// larger than a buffer gives a buffer's worth and its real size.
    #[test]
    fn files_are_read_as_their_size_says_and_no_further() {
        let (bytes, size) = read_sized(std::path::Path::new("/dev/zero")).unwrap();
        assert_eq!((bytes.len(), size), (0, 0));
        let path = std::env::temp_dir().join(format!("read-sized-{}", std::process::id()));
        std::fs::write(&path, vec![b'x'; BUFSIZE + 10]).unwrap();
        let (bytes, size) = read_sized(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!((bytes.len(), size), (BUFSIZE, BUFSIZE as u64 + 10));
        assert_eq!(
            read_sized(std::path::Path::new("/nonexistent/x")),
            Err(FileError::Open)
        );
    }
}
