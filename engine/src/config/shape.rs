//! Proxy keywords the engine recognises but does not implement: each is
//! checked for its *shape* only (argument count, allowed first word), with
//! HAProxy 2.6's own error texts, so typos are still caught and `-c`
//! answers like the real binary. The keyword table records every use in
//! `Config::unimplemented`.
//!
//! Messages are written after `parsing [file:line]`; they start with the
//! separator HAProxy uses there (" : " or ": "). `{kw}`, `{got}`, `{ty}`
//! and `{px}` are replaced by the keyword, the offending word, and the
//! proxy's type and name.

use super::listen::ProxyState;
use super::parse::{atol, Ctx};

/// The expected shape of one keyword's arguments.
pub struct Shape {
    pub name: &'static str,
    /// Arguments that must be present.
    pub min: usize,
    /// At most this many arguments (None: no limit).
    pub max: Option<usize>,
    /// Allowed first arguments; a trailing `(` allows `name(...)`. Empty:
    /// anything.
    pub first: &'static [&'static str],
    /// Said when fewer than `min` arguments are given.
    pub missing: &'static str,
    /// Said when the first argument is not allowed.
    pub bad: &'static str,
}

const fn shape(
    name: &'static str,
    min: usize,
    max: Option<usize>,
    first: &'static [&'static str],
    missing: &'static str,
    bad: &'static str,
) -> Shape {
    Shape {
        name,
        min,
        max,
        first,
        missing,
        bad,
    }
}

const HTTP_CHECK: &[&str] = &[
    "disable-on-404",
    "send-state",
    "comment",
    "connect",
    "send",
    "expect",
    "set-var-fmt(",
    "set-var(",
    "unset-var(",
];
const TCP_CHECK: &[&str] = &[
    "comment",
    "connect",
    "send",
    "send-lf",
    "send-binary",
    "send-binary-lf",
    "expect",
    "set-var-fmt(",
    "set-var(",
    "unset-var(",
];
const HTTP_RESPONSE: &str = "'ot-group', 'set-log-level', 'set-nice', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'cache-store', 'add-acl(*)', 'add-header', 'allow', 'capture', 'del-acl(*)', 'del-header', 'del-map(*)', 'deny', 'redirect', 'replace-header', 'replace-value', 'return', 'set-header', 'set-map(*)', 'set-status', 'strict-mode', 'track-sc(*)', 'wait-for-body', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-mark', 'set-tos', 'silent-drop', ";
const HTTP_AFTER: &str = "'ot-group', 'add-header', 'allow', 'capture', 'del-header', 'replace-header', 'replace-value', 'set-header', 'set-status', 'strict-mode', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', ";
const RETRY_ON: &[&str] = &[
    "none",
    "conn-failure",
    "empty-response",
    "junk-response",
    "response-timeout",
    "0rtt-rejected",
    "all-retryable-errors",
    "401",
    "403",
    "404",
    "408",
    "425",
    "500",
    "501",
    "502",
    "503",
    "504",
];

/// The shapes, by keyword.
#[rustfmt::skip]
pub const SHAPES: &[Shape] = &[
    shape("capture", 2, None, &["cookie", "request", "response"], " : 'capture' expects 'cookie' or 'request header' or 'response header'.", " : 'capture' expects 'cookie' or 'request header' or 'response header'."),
    shape("compression", 1, None, &["algo", "type", "offload"], " : 'compression' expects 'algo', 'type' or 'offload'", " : 'compression' expects 'algo', 'type' or 'offload'"),
    shape("declare", 1, None, &["capture"], " : 'declare' needs a second keyword that specify the type of declaration ('capture')", " : unknown declaration type '{got}' (supports 'capture')"),
    shape("disabled", 0, Some(0), &[], "", ""),
    shape("email-alert", 1, None, &["from", "mailers", "myhostname", "level", "to"], " : missing argument after 'email-alert'.", " : email-alert: unknown argument '{got}'."),
    shape("enabled", 0, Some(0), &[], "", ""),
    shape("errorfiles", 1, None, &[], " : errorfiles : expects <name> as argument.", ""),
    shape("external-check", 1, None, &["command", "path"], " : missing argument after 'external-check'.\n", " : 'external-check' only supports 'command' and 'path'. but got '{got}'."),
    shape("force-persist", 1, None, &["if", "unless"], " : 'force-persist' requires either 'if' or 'unless' followed by a condition.", " : 'force-persist' requires either 'if' or 'unless' followed by a condition."),
    shape("http-check", 1, None, HTTP_CHECK, " : 'http-check' only supports 'disable-on-404', 'send-state', 'comment', 'connect', 'send', 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got ''", " : 'http-check' only supports 'disable-on-404', 'send-state', 'comment', 'connect', 'send', 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got '{got}'"),
    shape("http-error", 1, None, &["status"], " : http-error : expects at least a <status> as arguments.\n", " : http-error : expects at least a <status> as arguments.\n"),
    shape("http-reuse", 1, Some(1), &["never", "safe", "aggressive", "always"], " : 'http-reuse' only supports 'never', 'safe', 'aggressive', 'always'.", " : 'http-reuse' only supports 'never', 'safe', 'aggressive', 'always'."),
    shape("http-send-name-header", 1, None, &[], " : 'http-send-name-header' requires a header string.", ""),
    shape("id", 1, Some(1), &[], ": 'id' expects an integer argument.", ""),
    shape("ignore-persist", 1, None, &["if", "unless"], " : 'ignore-persist' requires either 'if' or 'unless' followed by a condition.", " : 'ignore-persist' requires either 'if' or 'unless' followed by a condition."),
    shape("log-format", 1, Some(1), &[], " : log-format expects an argument.", ""),
    shape("log-tag", 1, None, &[], " : 'log-tag' expects a tag for use in syslog.", ""),
    shape("max-keep-alive-queue", 1, None, &[], " : 'max-keep-alive-queue' expects expects an integer value (or -1 to disable)", ""),
    shape("monitor", 1, None, &["fail"], " : 'monitor' only supports 'fail'.", " : 'monitor' only supports 'fail'."),
    shape("monitor-uri", 1, Some(1), &[], " : 'monitor-uri' expects an URI.", ""),
    shape("persist", 1, None, &["rdp-cookie", "rdp-cookie("], " : missing persist method.", " : unknown persist method."),
    shape("rate-limit", 1, None, &["sessions"], " : 'rate-limit' only supports 'sessions' (got '')", " : 'rate-limit' only supports 'sessions' (got '{got}')"),
    shape("retry-on", 1, None, RETRY_ON, " : 'retry-on' needs at least one keyword to specify when to retry", " : 'retry-on': unknown keyword '{got}'"),
    shape("source", 1, None, &[], " : 'source' expects <addr>[:<port>], and optionally 'usesrc' <addr>, and 'interface' <name>.", ""),
    shape("stick", 1, None, &["on", "match", "store-request", "store-response"], " : 'stick' expects 'on', 'match', or 'store'.", " : 'stick' expects 'on', 'match', or 'store'."),
    shape("tcp-check", 1, None, TCP_CHECK, " : 'tcp-check' only supports 'comment', 'connect', 'send', 'send-binary', 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got ''", " : 'tcp-check' only supports 'comment', 'connect', 'send', 'send-binary', 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got '{got}'"),
    shape("tcp-request", 1, None, &["inspect-delay", "connection", "session", "content"], " : missing argument for 'tcp-request' in {ty} '{px}'", " : 'tcp-request' expects 'inspect-delay', 'connection', or 'content' in {ty} '{px}' (got '{got}')"),
    shape("tcp-response", 1, None, &["inspect-delay", "content"], " : missing argument for 'tcp-response' in {ty} '{px}'", " : 'tcp-response' expects 'inspect-delay' or 'content' in {ty} '{px}' (got '{got}')"),
    shape("unique-id-format", 1, Some(1), &[], " : unique-id-format expects an argument.", ""),
    shape("unique-id-header", 1, None, &[], " : unique-id-header expects an argument.", ""),
    shape("use-server", 1, None, &[], " : 'use-server' expects a server name.", ""),
];

fn allowed(first: &[&str], word: &str) -> bool {
    first.is_empty()
        || first.iter().any(|f| match f.strip_suffix('(') {
            Some(prefix) => word.starts_with(prefix) && word[prefix.len()..].starts_with('('),
            None => *f == word,
        })
}

fn say(p: &ProxyState, ctx: &mut Ctx, template: &str, got: &str) {
    let msg = template
        .replace("{kw}", ctx.arg(0))
        .replace("{got}", got)
        .replace("{ty}", p.type_str())
        .replace("{px}", &p.px.name);
    let head = format!("parsing [{}]", ctx.at);
    ctx.alert(format!("{head}{msg}"));
}

/// Checks one line against its shape. Keywords without a shape pass.
pub fn check(p: &mut ProxyState, ctx: &mut Ctx) {
    let name = ctx.arg(0).to_string();
    let Some(s) = SHAPES.iter().find(|s| s.name == name) else {
        return;
    };
    let nargs = ctx.args.len() - 1;
    if nargs < s.min {
        say(p, ctx, s.missing, "");
        return;
    }
    let first = ctx.arg(1).to_string();
    if !first.is_empty() && !allowed(s.first, &first) {
        say(p, ctx, s.bad, &first);
        return;
    }
    match s.max {
        Some(1) if matches!(name.as_str(), "log-format" | "unique-id-format") && nargs > 1 => {
            let msg =
                format!(" : {name} expects only one argument, don't forget to escape spaces!");
            say(p, ctx, &msg, "");
        }
        Some(max) => {
            ctx.too_many_args(max, 0);
        }
        None => {}
    }
    if name == "max-keep-alive-queue" {
        let v = first.strip_prefix('-').unwrap_or(&first);
        if let Some(c) = v.chars().find(|c| !c.is_ascii_digit()) {
            say(p, ctx, &format!(" : 'max-keep-alive-queue' : unexpected character '{c}' in integer value '{first}'"), "");
            return;
        }
    }
    if name == "use-server" && !ctx.arg(2).is_empty() && !matches!(ctx.arg(2), "if" | "unless") {
        say(
            p,
            ctx,
            " : 'use-server' requires either 'if' or 'unless' followed by a condition.",
            "",
        );
        return;
    }
    if name == "source" {
        let (host, _) = first.rsplit_once(':').unwrap_or((&first, ""));
        if let Err(e) = super::bind::parse_host(host, &first, false) {
            say(p, ctx, &format!(" : 'source {first}' : {e}"), "");
            return;
        }
    }
    if name == "errorfiles" {
        let codes: Vec<i64> = ctx.args[2..].iter().map(|c| atol(c)).collect();
        for n in codes {
            if !super::listen_http::ERROR_CODES
                .iter()
                .any(|&c| i64::from(c) == n)
            {
                say(
                    p,
                    ctx,
                    &format!(" : errorfiles : status code '{n}' not handled."),
                    "",
                );
                return;
            }
        }
    }
}

/// `http-response` / `http-after-response`: only the action is checked.
pub fn http_response(p: &mut ProxyState, ctx: &mut Ctx) {
    let list = if ctx.arg(0) == "http-response" {
        HTTP_RESPONSE
    } else {
        HTTP_AFTER
    };
    let action = ctx.arg(1).to_string();
    let known = super::http_request::action_in(list, &action);
    if !known {
        let missing = if action.is_empty() {
            " (missing argument)"
        } else {
            ""
        };
        let msg = format!(
            "parsing [{}]: '{}' expects {list}but got '{action}'{missing}.",
            ctx.at,
            ctx.arg(0)
        );
        ctx.abort(msg);
    }
    let _ = p;
}

/// `description <text>`: HAProxy 2.6 mishandles a missing text (the
/// parser returns -1 and haproxy reports the file as unreadable); we say
/// the same thing and stop, as it does.
pub fn description(_: &mut ProxyState, ctx: &mut Ctx) {
    if ctx.arg(1).is_empty() {
        let file = ctx.at.file.clone();
        ctx.alert(format!(
            "parsing [{}]: 'description' expects a string argument.",
            ctx.at
        ));
        ctx.exit(format!(
            "Could not open configuration file {file} : Success"
        ));
    }
}
