//! `tcp-check connect | send | send-binary | expect | comment`, with
//! HAProxy 2.6's messages.
//!
//! Log-format forms (`send-lf`, `send-binary-lf`, `string-lf`,
//! `binary-lf`, `on-success`/`on-error` with `%` tags), `status-code`,
//! variables and the TLS and proxy-protocol options of `connect` are
//! parsed and recorded as not implemented yet.

use super::listen::{ProxyState, Support};
use super::parse::Ctx;
use super::{TcpCheckAction, TcpCheckRule, TcpExpect, TcpPattern};

pub fn parse(p: &mut ProxyState, ctx: &mut Ctx) {
    let word = ctx.arg(1).to_string();
    let here = ctx.here();
    let result = match word.as_str() {
        "connect" => connect(ctx, &p.px.tcp_check),
        "send" | "send-binary" | "send-lf" | "send-binary-lf" => send(ctx, &word),
        "expect" => expect(ctx),
        "comment" => comment(ctx),
        w if w.starts_with("set-var") || w.starts_with("unset-var") => Ok(TcpCheckRule {
            comment: None,
            action: TcpCheckAction::Unsupported(format!("tcp-check {w}")),
        }),
        // Missing or unknown: HAProxy's list.
        _ => return super::shape::check(p, ctx),
    };
    let rule = match result {
        Ok(rule) => rule,
        Err(why) => return ctx.alert(format!("{here} : 'tcp-check {word}' : {why}.")),
    };
    if !p.own_tcp_check {
        // A section's own rules replace those of its defaults.
        p.px.tcp_check.clear();
        p.own_tcp_check = true;
    }
    if let TcpCheckAction::Unsupported(what) = &rule.action {
        p.note(ctx, what.clone(), Support::No);
    }
    p.px.tcp_check.push(rule);
}

/// The words after the keyword's own, two by two where they take a value.
fn value_of(ctx: &Ctx, i: usize) -> Option<String> {
    let v = ctx.arg(i + 1);
    (!v.is_empty()).then(|| v.to_string())
}

fn connect(ctx: &Ctx, earlier: &[TcpCheckRule]) -> Result<TcpCheckRule, String> {
    let mut port = None;
    let mut addr = None;
    let mut comment = None;
    let mut unsupported = None;
    let mut i = 2;
    while !ctx.arg(i).is_empty() {
        let word = ctx.arg(i).to_string();
        match word.as_str() {
            "default" | "linger" => {}
            "send-proxy" | "via-socks4" | "ssl" => {
                unsupported.get_or_insert(format!("tcp-check connect {word}"));
            }
            "addr" => {
                let v =
                    value_of(ctx, i).ok_or(format!("'{word}' expects <ipv4|ipv6> as argument."))?;
                let host = v
                    .rsplit_once(':')
                    .filter(|(h, _)| !h.contains(':'))
                    .map_or(v.as_str(), |(h, _)| h);
                match host.trim_matches(['[', ']']).parse() {
                    Ok(ip) => addr = Some(ip),
                    Err(_) => {
                        return Err(format!("'{word}' : invalid address: '{v}' in '{v}'."));
                    }
                }
                i += 1;
            }
            "port" => {
                let v = value_of(ctx, i).ok_or(format!(
                    "'{word}' expects a port number or a sample expression as argument."
                ))?;
                if v.bytes().all(|b| b.is_ascii_digit()) {
                    match v.parse::<u32>() {
                        Ok(n @ 1..=65535) => port = Some(n as u16),
                        _ => {
                            return Err(format!("expects a valid TCP port (from range 1 to 65535) or a sample expression, got {v}."));
                        }
                    }
                } else {
                    unsupported.get_or_insert("tcp-check connect port <expression>".to_string());
                }
                i += 1;
            }
            "comment" | "sni" | "alpn" | "proto" => {
                let v = value_of(ctx, i).ok_or(match word.as_str() {
                    "proto" => format!("'{word}' expects a MUX protocol as argument."),
                    _ => format!("'{word}' expects a string as argument."),
                })?;
                if word == "comment" {
                    comment = Some(v);
                } else {
                    unsupported.get_or_insert(format!("tcp-check connect {word}"));
                }
                i += 1;
            }
            _ => {
                return Err(format!("expects 'comment', 'port', 'addr', 'send-proxy', 'ssl', 'sni', 'alpn' or 'via-socks4', 'linger', 'default' but got '{word}' as argument."));
            }
        }
        i += 1;
    }
    // Before the first connect only comments and variables may come.
    let first_connect = earlier.iter().find(|r| {
        !matches!(
            r.action,
            TcpCheckAction::Comment | TcpCheckAction::Unsupported(_)
        )
    });
    if first_connect.is_some_and(|r| !matches!(r.action, TcpCheckAction::Connect { .. })) {
        return Err("first step MUST also be a 'connect', optionally preceded by a 'set-var', an 'unset-var' or a 'comment', when there is a 'connect' step in the tcp-check ruleset".into());
    }
    Ok(TcpCheckRule {
        comment,
        action: match unsupported {
            Some(what) => TcpCheckAction::Unsupported(what),
            None => TcpCheckAction::Connect { port, addr },
        },
    })
}

fn send(ctx: &Ctx, word: &str) -> Result<TcpCheckRule, String> {
    let data = ctx.arg(2).to_string();
    if data.is_empty() {
        let what = if word == "send-binary" {
            "binary string"
        } else {
            "string"
        };
        return Err(format!("'{what}' expects a {word} as argument"));
    }
    let mut comment = None;
    let mut i = 3;
    while !ctx.arg(i).is_empty() {
        let w = ctx.arg(i);
        if w != "comment" {
            return Err(format!("expects 'comment' but got '{w}' as argument."));
        }
        comment = Some(value_of(ctx, i).ok_or("'comment' expects a string as argument.")?);
        i += 2;
    }
    let action = match word {
        "send" => TcpCheckAction::Send(data.into_bytes()),
        "send-binary" => {
            let bytes =
                hex(&data).map_err(|why| format!("'{data}' invalid binary string ({why}).\n"))?;
            TcpCheckAction::Send(bytes)
        }
        _ => TcpCheckAction::Unsupported(format!("tcp-check {word}")),
    };
    Ok(TcpCheckRule { comment, action })
}

fn comment(ctx: &Ctx) -> Result<TcpCheckRule, String> {
    let text = value_of(ctx, 1).ok_or("expects a string as argument")?;
    Ok(TcpCheckRule {
        comment: Some(text),
        action: TcpCheckAction::Comment,
    })
}

fn expect(ctx: &Ctx) -> Result<TcpCheckRule, String> {
    if ctx.arg(2).is_empty() {
        return Err("expects at least a matching pattern as arguments".into());
    }
    let mut e = TcpExpect {
        negate: false,
        pattern: TcpPattern::String(vec![]),
        min_recv: None,
        ok_status: None,
        error_status: None,
        tout_status: None,
        on_success: None,
        on_error: None,
    };
    let mut pattern: Option<(String, String)> = None;
    let mut comment = None;
    let mut unsupported = None;
    let mut i = 2;
    while !ctx.arg(i).is_empty() {
        let mut word = ctx.arg(i).to_string();
        // `!` alone or glued to the match word; only before a pattern.
        let mut in_pattern = false;
        if word.starts_with('!') {
            in_pattern = true;
            let bangs = word.len() - word.trim_start_matches('!').len();
            e.negate ^= bangs % 2 == 1;
            word = word[bangs..].to_string();
            if word.is_empty() {
                i += 1;
                word = ctx.arg(i).to_string();
            }
        }
        let takes_value = |w: &str| -> Result<String, String> {
            if in_pattern {
                return Err(format!("[!] not supported with '{w}'"));
            }
            value_of(ctx, i).ok_or(format!("'{w}' expects a string as argument"))
        };
        match word.as_str() {
            "min-recv" => {
                if in_pattern {
                    return Err(format!("[!] not supported with '{word}'"));
                }
                let v = value_of(ctx, i).ok_or("'min-recv' expects a integer as argument")?;
                // atol: leading digits, else 0.
                let n: i64 = leading_int(&v);
                if !(-1..=i64::from(i32::MAX)).contains(&n) {
                    return Err("'min-recv' expects -1 or an integer from 0 to INT_MAX".into());
                }
                e.min_recv = usize::try_from(n).ok();
                i += 1;
            }
            "string" | "rstring" | "binary" | "rbinary" | "string-lf" | "binary-lf" => {
                if pattern.is_some() {
                    return Err("only on pattern expected".into());
                }
                let v =
                    value_of(ctx, i).ok_or(format!("'{word}' expects a <pattern> as argument"))?;
                pattern = Some((word.clone(), v));
                i += 1;
            }
            "custom" => {
                if in_pattern {
                    return Err(format!("[!] not supported with '{word}'"));
                }
                if pattern.is_some() {
                    return Err("only on pattern expected".into());
                }
                unsupported.get_or_insert("tcp-check expect custom".to_string());
            }
            "comment" => {
                comment = Some(takes_value("comment")?);
                i += 1;
            }
            "on-success" | "on-error" => {
                let v = takes_value(&word)?;
                if v.contains('%') {
                    unsupported.get_or_insert(format!("tcp-check expect {word} <log-format>"));
                }
                if word == "on-success" {
                    e.on_success = Some(v);
                } else {
                    e.on_error = Some(v);
                }
                i += 1;
            }
            "ok-status" | "error-status" | "tout-status" => {
                let v = takes_value(&word)?;
                let (allowed, list): (&[&str], &str) = match word.as_str() {
                    "ok-status" => (
                        &["L7OK", "L7OKC", "L6OK", "L4OK"],
                        "'L4OK', 'L6OK', 'L7OK' or 'L7OKC'",
                    ),
                    "error-status" => (
                        &["L7RSP", "L7STS", "L7OKC", "L6RSP", "L4CON"],
                        "'L4CON', 'L6RSP', 'L7RSP' or 'L7STS'",
                    ),
                    _ => (
                        &["L7TOUT", "L6TOUT", "L4TOUT"],
                        "'L4TOUT', 'L6TOUT' or 'L7TOUT'",
                    ),
                };
                let Some(status) = allowed.iter().find(|s| s.eq_ignore_ascii_case(&v)) else {
                    return Err(format!("'{word}' only supports {list} status (got '{v}')."));
                };
                let slot = match word.as_str() {
                    "ok-status" => &mut e.ok_status,
                    "error-status" => &mut e.error_status,
                    _ => &mut e.tout_status,
                };
                *slot = Some(status.to_string());
                i += 1;
            }
            "status-code" => {
                if in_pattern {
                    return Err(format!("[!] not supported with '{word}'"));
                }
                value_of(ctx, i).ok_or("'status-code' expects an expression as argument")?;
                unsupported.get_or_insert("tcp-check expect status-code".to_string());
                i += 1;
            }
            _ => {
                return Err(format!("'only supports min-recv, '[!]binary', '[!]string', '[!]rstring', '[!]string-lf''[!]rbinary', '[!]binary-lf' or comment but got '{word}' as argument."));
            }
        }
        i += 1;
    }
    let Some((kind, value)) = pattern else {
        if let Some(what) = unsupported {
            return Ok(TcpCheckRule {
                comment,
                action: TcpCheckAction::Unsupported(what),
            });
        }
        return Err("expects at least a matching pattern as arguments".into());
    };
    e.pattern = match kind.as_str() {
        "string" => TcpPattern::String(value.into_bytes()),
        "binary" => {
            TcpPattern::Binary(hex(&value).map_err(|why| format!("invalid binary string ({why})"))?)
        }
        "rstring" | "rbinary" => {
            if let Some(why) = super::acl::regex_error(&value) {
                return Err(why);
            }
            if kind == "rstring" {
                TcpPattern::Rstring(value)
            } else {
                TcpPattern::Rbinary(value)
            }
        }
        _ => {
            unsupported.get_or_insert(format!("tcp-check expect {kind}"));
            TcpPattern::String(value.into_bytes())
        }
    };
    let action = match unsupported {
        Some(what) => TcpCheckAction::Unsupported(what),
        None => TcpCheckAction::Expect(e),
    };
    Ok(TcpCheckRule { comment, action })
}

/// HAProxy's parse_binary: pairs of hex digits.
fn hex(text: &str) -> Result<Vec<u8>, String> {
    if let Some(c) = text.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(format!("an hex digit is expected (found '{c}')"));
    }
    if text.len() % 2 == 1 {
        return Err("an even number of hex digit is expected".into());
    }
    Ok((0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex digits"))
        .collect())
}

/// C's atol: an optional sign and the leading digits, 0 when none.
fn leading_int(text: &str) -> i64 {
    let (sign, rest) = match text.strip_prefix('-') {
        Some(r) => (-1, r),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    sign * digits.parse::<i64>().unwrap_or(0)
}
