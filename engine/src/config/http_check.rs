//! `http-check disable-on-404 | send ... | expect ...`, with HAProxy 2.6's
//! messages.
//!
//! The runtime runs one `send` (merged with `option httpchk`'s request)
//! and `expect` rules on the status (`status`, `rstatus`) or the body
//! (`string`, `rstring`), possibly negated. The other forms (`connect`,
//! `comment`, `send-state`, variables, `hdr`/`fhdr`/`string-lf`
//! expectations, expect options, several sends) are parsed and recorded
//! as not implemented yet.

use super::listen::{ProxyState, Support};
use super::parse::Ctx;
use super::{HeaderMatch, HttpCheckSend, HttpExpect, HttpExpectKind, MatchMethod};

pub fn parse(p: &mut ProxyState, ctx: &mut Ctx) {
    match ctx.arg(1) {
        "disable-on-404" => {
            if ctx.too_many_args(1, 0) {
                return;
            }
            p.px.http_check.disable_on_404 = true;
        }
        "send" => send(p, ctx),
        "expect" => expect(p, ctx),
        "send-state" | "comment" | "connect" => {
            p.px.http_check.used = true;
            let what = format!("http-check {}", ctx.arg(1));
            p.note(ctx, what, Support::No);
        }
        w if w.starts_with("set-var") || w.starts_with("unset-var") => {
            p.px.http_check.used = true;
            let what = format!("http-check {w}");
            p.note(ctx, what, Support::No);
        }
        // Missing or unknown: HAProxy's list.
        _ => super::shape::check(p, ctx),
    }
}

fn send(p: &mut ProxyState, ctx: &mut Ctx) {
    let here = ctx.here();
    let fail = |ctx: &mut Ctx, what: String| {
        ctx.alert(format!("{here} : 'http-check send' : {what}."));
    };
    let mut send = HttpCheckSend::default();
    let mut i = 2;
    while !ctx.arg(i).is_empty() {
        let word = ctx.arg(i).to_string();
        let value = ctx.arg(i + 1).to_string();
        match word.as_str() {
            "meth" | "uri" | "ver" | "body" | "uri-lf" | "body-lf" | "comment" => {
                if value.is_empty() {
                    return fail(ctx, format!("'{word}' expects a string as argument."));
                }
                match word.as_str() {
                    "meth" => send.method = Some(value),
                    "uri" => send.uri = Some(value),
                    "ver" => send.version = Some(value),
                    "body" => send.body = Some(value),
                    other => send.unsupported.push(other.to_string()),
                }
                i += 2;
            }
            "hdr" => {
                let header_value = ctx.arg(i + 2).to_string();
                if value.is_empty() || header_value.is_empty() {
                    return ctx.alert(format!(
                        "{here} : 'http-check send' : 'hdr' expects <name> and <value> as arguments."
                    ));
                }
                send.headers.push((value, header_value));
                i += 3;
            }
            _ => {
                return fail(
                    ctx,
                    format!("expects 'comment', 'meth', 'uri', 'uri-lf', 'ver', 'hdr', 'body' or 'body-lf' but got '{word}' as argument."),
                )
            }
        }
    }
    let checks = &mut p.px.http_check;
    checks.used = true;
    let what = if let Some(form) = send.unsupported.first() {
        Some(format!("http-check send {form}"))
    } else if checks.send.is_some() || !checks.expects.is_empty() {
        Some("http-check send (more than one request)".to_string())
    } else {
        None
    };
    checks.send = Some(send);
    if let Some(what) = what {
        p.note(ctx, what, Support::No);
    }
}

fn expect(p: &mut ProxyState, ctx: &mut Ctx) {
    let here = ctx.here();
    let fail = |ctx: &mut Ctx, what: String| {
        ctx.alert(format!("{here} : 'http-check expect' : {what}"));
    };
    let mut i = 2;
    let mut negate = false;
    let mut options = vec![];
    let kind = loop {
        let word = ctx.arg(i).to_string();
        match word.as_str() {
            "" => return fail(ctx, "expects at least a matching pattern as arguments.".into()),
            "!" => {
                negate = true;
                i += 1;
            }
            "min-recv" | "comment" | "ok-status" | "error-status" | "tout-status"
            | "on-success" | "on-error" | "status-code" => {
                options.push(word);
                i += 2;
            }
            "status" | "rstatus" | "string" | "rstring" | "string-lf" | "hdr" | "fhdr" => break word,
            _ => {
                return fail(ctx, format!("'only supports min-recv, [!]string', '[!]rstring', '[!]string-lf', '[!]status', '[!]rstatus', [!]hdr, [!]fhdr or comment but got '{word}' as argument.."))
            }
        }
    };
    if kind == "hdr" || kind == "fhdr" {
        return header_expect(p, ctx, i, negate, options.first().cloned());
    }
    let pattern = ctx.arg(i + 1).to_string();
    if pattern.is_empty() {
        return fail(ctx, format!("'{kind}' expects a <pattern> as argument."));
    }
    let kind = match kind.as_str() {
        "status" => match status_codes(&pattern) {
            Ok(codes) => Some(HttpExpectKind::Status(codes)),
            Err(c) => {
                return fail(
                    ctx,
                    format!("invalid character '{c}' in the list of status codes."),
                )
            }
        },
        "rstatus" | "rstring" => {
            if let Some(why) = super::acl::regex_error(&pattern) {
                return fail(ctx, format!("{why}."));
            }
            Some(if kind == "rstatus" {
                HttpExpectKind::Rstatus(pattern)
            } else {
                HttpExpectKind::Rstring(pattern)
            })
        }
        "string" => Some(HttpExpectKind::String(pattern)),
        _ => None,
    };
    let checks = &mut p.px.http_check;
    checks.used = true;
    match (kind, options.first()) {
        (Some(kind), None) => checks.expects.push(HttpExpect { negate, kind }),
        (_, option) => {
            let what = match option {
                Some(o) => format!("http-check expect {o}"),
                None => format!("http-check expect {}", ctx.arg(i)),
            };
            p.note(ctx, what, Support::No);
        }
    }
}

/// `hdr|fhdr name [-m <meth>] <name> [value [-m <meth>] <value>]` from
/// word `i`, with HAProxy's messages.
fn header_expect(
    p: &mut ProxyState,
    ctx: &mut Ctx,
    mut i: usize,
    negate: bool,
    option: Option<String>,
) {
    let here = ctx.here();
    let kind = ctx.arg(i).to_string();
    let fail = |ctx: &mut Ctx, what: String| {
        ctx.alert(format!("{here} : 'http-check expect' : {what}."));
    };
    let name_kw = ctx.arg(i + 1).to_string();
    if ctx.arg(i + 2).is_empty() || (name_kw != "name" && name_kw != "name-lf") {
        return fail(
            ctx,
            format!("'{kind}' expects at the name keyword as first argument followed by a pattern"),
        );
    }
    let method = |ctx: &Ctx, at: usize| -> Result<MatchMethod, String> {
        match ctx.arg(at) {
            "" => Err(format!("'{kind}' : '-m' expects at a matching pattern ('str', 'beg', 'end', 'sub' or 'reg')")),
            "str" => Ok(MatchMethod::Str),
            "beg" => Ok(MatchMethod::Beg),
            "end" => Ok(MatchMethod::End),
            "sub" => Ok(MatchMethod::Sub),
            "reg" => Ok(MatchMethod::Reg),
            other => Err(format!("'{kind}' : '-m' only supports 'str', 'beg', 'end', 'sub' or 'reg' (got '{other}')")),
        }
    };
    i += 2;
    let mut name_method = MatchMethod::Str;
    if ctx.arg(i) == "-m" {
        match method(ctx, i + 1) {
            Ok(m) => name_method = m,
            Err(e) => return fail(ctx, e),
        }
        i += 2;
    }
    let name = HeaderMatch {
        method: name_method,
        pattern: ctx.arg(i).to_string(),
    };
    let mut lf = name_kw == "name-lf";
    let mut value = None;
    let value_kw = ctx.arg(i + 1).to_string();
    if value_kw == "value" || value_kw == "value-lf" {
        lf |= value_kw == "value-lf";
        let mut value_method = MatchMethod::Str;
        if ctx.arg(i + 2) == "-m" {
            i += 2;
            match method(ctx, i + 1) {
                Ok(m) => value_method = m,
                Err(e) => return fail(ctx, e),
            }
        }
        if ctx.arg(i + 2).is_empty() {
            return fail(
                ctx,
                format!("'{kind}' expect a pattern with the value keyword"),
            );
        }
        value = Some(HeaderMatch {
            method: value_method,
            pattern: ctx.arg(i + 2).to_string(),
        });
        i += 2;
    }
    let regex_with_lf = lf
        && (name.method == MatchMethod::Reg
            || value.as_ref().is_some_and(|v| v.method == MatchMethod::Reg));
    if regex_with_lf {
        return fail(
            ctx,
            format!("'{kind}': log-format string is not supported with a regex matching method"),
        );
    }
    for m in std::iter::once(&name).chain(value.as_ref()) {
        if m.method == MatchMethod::Reg {
            if let Some(why) = super::acl::regex_error(&m.pattern) {
                return fail(ctx, why);
            }
        }
    }
    let checks = &mut p.px.http_check;
    checks.used = true;
    let unsupported = option
        .map(|o| format!("http-check expect {o}"))
        .or_else(|| lf.then(|| format!("http-check expect {kind} name-lf|value-lf")))
        .or_else(|| {
            (!ctx.arg(i + 1).is_empty())
                .then(|| format!("http-check expect {kind} ... {}", ctx.arg(i + 1)))
        });
    match unsupported {
        None => checks.expects.push(HttpExpect {
            negate,
            kind: HttpExpectKind::Header {
                full: kind == "fhdr",
                name,
                value,
            },
        }),
        Some(what) => p.note(ctx, what, Support::No),
    }
}

/// `200`, `200-399`, `200,301,400-499`: inclusive ranges; the first bad
/// character otherwise.
fn status_codes(list: &str) -> Result<Vec<(u16, u16)>, char> {
    list.split(',')
        .map(|item| {
            if let Some(c) = item.chars().find(|c| !c.is_ascii_digit() && *c != '-') {
                return Err(c);
            }
            let (lo, hi) = item.split_once('-').unwrap_or((item, item));
            let n = |s: &str| s.parse::<u16>().unwrap_or(0);
            Ok((n(lo), n(hi)))
        })
        .collect()
}
