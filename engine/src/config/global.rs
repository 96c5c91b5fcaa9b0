//! The `global` section's keyword table, and `log` (shared with proxies).
//!
//! Each row: name, parser, whether the engine runtime implements it, and
//! the documentation line. An unknown keyword is an error with HAProxy's
//! "did you mean" suggestion.

use super::bind::parse_addr;
use super::parse::{atol, Ctx};
use super::suggest;
use super::{Global, LogTarget, StatsSocket};
use std::path::PathBuf;

/// Does the engine runtime do what this keyword asks?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// Implemented.
    Yes,
    /// Parsed, validated and stored, but not run: recorded in
    /// `Config::unimplemented` under the keyword's name.
    No,
    /// The parser decides (it calls `Ctx::unimplemented` itself).
    Parser,
}

pub struct GlobalKeyword {
    pub name: &'static str,
    pub parse: fn(&mut Global, &mut Ctx),
    pub runtime: Runtime,
    pub doc: &'static str,
}

/// The `global` keywords, in HAProxy's documentation order.
#[rustfmt::skip]
pub const GLOBAL_KEYWORDS: &[GlobalKeyword] = &[
    kw("chroot", chroot, Runtime::No, "chroot <dir>: change root before dropping privileges."),
    kw("daemon", daemon, Runtime::Yes, "daemon: fork into the background."),
    kw("gid", ignore_one, Runtime::No, "gid <number>: group id to run as."),
    kw("group", group, Runtime::No, "group <name>: group to run as."),
    kw("log", global_log, Runtime::No, "log <addr> [len N] [format F] <facility> [level [minlevel]]."),
    kw("maxconn", maxconn, Runtime::Yes, "maxconn <n>: process-wide concurrent connections."),
    kw("nbproc", nbproc, Runtime::No, "nbproc <n>: removed in 2.5; only 1 is accepted."),
    kw("nbthread", ignore_one, Runtime::No, "nbthread <n>: worker threads."),
    kw("node", ignore_one, Runtime::No, "node <name>: name shown on the stats page."),
    kw("description", ignore_rest, Runtime::No, "description <text>: shown on the stats page."),
    kw("pidfile", pidfile, Runtime::Yes, "pidfile <file>: write the process id there."),
    kw("quiet", flag, Runtime::No, "quiet: no messages at startup."),
    kw("spread-checks", spread_checks, Runtime::Yes, "spread-checks <0..50>: percent of jitter on check intervals."),
    kw("stats", stats, Runtime::Parser, "stats socket|timeout|maxconn: the runtime API."),
    kw("tune.bufsize", ignore_one, Runtime::No, "tune.bufsize <bytes>: buffer size."),
    kw("tune.maxaccept", maxaccept, Runtime::No, "tune.maxaccept <n>: accepts per wakeup (-1: unlimited)."),
    kw("tune.maxpollevents", maxpollevents, Runtime::No, "tune.maxpollevents <n>: events per poll."),
    kw("uid", ignore_one, Runtime::No, "uid <number>: user id to run as."),
    kw("ulimit-n", ignore_one, Runtime::No, "ulimit-n <n>: file-descriptor limit."),
    kw("user", user, Runtime::No, "user <name>: user to run as."),
];

const fn kw(
    name: &'static str,
    parse: fn(&mut Global, &mut Ctx),
    runtime: Runtime,
    doc: &'static str,
) -> GlobalKeyword {
    GlobalKeyword {
        name,
        parse,
        runtime,
        doc,
    }
}

/// Parses one `global` line.
pub fn parse(g: &mut Global, ctx: &mut Ctx) {
    let name = ctx.arg(0).to_string();
    let Some(k) = GLOBAL_KEYWORDS.iter().find(|k| k.name == name) else {
        let best = suggest::best_match(&name, suggest::GLOBAL_COMMON.iter().copied());
        let hint = best
            .map(|b| format!("; did you mean '{b}' maybe ?"))
            .unwrap_or_default();
        ctx.alert(format!(
            "{} : unknown keyword '{name}' in 'global' section{hint}",
            ctx.here()
        ));
        return;
    };
    (k.parse)(g, ctx);
    if k.runtime == Runtime::No {
        ctx.unimplemented(name);
    }
}

fn expects_integer(ctx: &mut Ctx) -> bool {
    if ctx.arg(1).is_empty() {
        ctx.alert(format!(
            "{} : '{}' expects an integer argument.",
            ctx.here(),
            ctx.arg(0)
        ));
        return true;
    }
    false
}

fn maxconn(g: &mut Global, ctx: &mut Ctx) {
    if ctx.too_many_args(1, 0) || expects_integer(ctx) {
        return;
    }
    if g.maxconn.is_some() {
        ctx.alert(format!(
            "{} : '{}' already specified. Continuing.",
            ctx.here(),
            ctx.arg(0)
        ));
        return;
    }
    g.maxconn = Some(atol(ctx.arg(1)).clamp(0, i64::from(u32::MAX)) as u32);
}

fn daemon(g: &mut Global, ctx: &mut Ctx) {
    if !ctx.too_many_args(0, 0) {
        g.daemon = true;
    }
}

fn flag(_: &mut Global, ctx: &mut Ctx) {
    ctx.too_many_args(0, 0);
}

fn ignore_one(_: &mut Global, ctx: &mut Ctx) {
    if ctx.too_many_args(1, 0) {
        return;
    }
    if ctx.arg(1).is_empty() {
        ctx.alert(format!(
            "{} : '{}' expects an argument.",
            ctx.here(),
            ctx.arg(0)
        ));
    }
}

fn ignore_rest(_: &mut Global, _: &mut Ctx) {}

fn path_arg(ctx: &mut Ctx, what: &str) -> Option<PathBuf> {
    if ctx.too_many_args(1, 0) {
        return None;
    }
    if ctx.arg(1).is_empty() {
        ctx.alert(format!(
            "{} : '{}' expects {what} as an argument.",
            ctx.here(),
            ctx.arg(0)
        ));
        return None;
    }
    Some(PathBuf::from(ctx.arg(1)))
}

fn pidfile(g: &mut Global, ctx: &mut Ctx) {
    if g.pidfile.is_some() {
        ctx.alert(format!(
            "{} : '{}' already specified. Continuing.",
            ctx.here(),
            ctx.arg(0)
        ));
        return;
    }
    g.pidfile = path_arg(ctx, "a file name");
}

fn chroot(g: &mut Global, ctx: &mut Ctx) {
    if g.chroot.is_some() {
        ctx.alert(format!(
            "{} : '{}' already specified. Continuing.",
            ctx.here(),
            ctx.arg(0)
        ));
        return;
    }
    g.chroot = path_arg(ctx, "a directory");
}

fn user(g: &mut Global, ctx: &mut Ctx) {
    if let Some(p) = path_arg(ctx, "a user name") {
        g.user = Some(p.display().to_string());
    }
}

fn group(g: &mut Global, ctx: &mut Ctx) {
    if let Some(p) = path_arg(ctx, "a group name") {
        g.group = Some(p.display().to_string());
    }
}

fn spread_checks(g: &mut Global, ctx: &mut Ctx) {
    if ctx.too_many_args(1, 0) {
        return;
    }
    // HAProxy tests "already set" before reading the value, and stores the
    // value before checking its range.
    if g.spread_checks_pct != 0 {
        ctx.alert(format!(
            "parsing [{}]: spread-checks already specified. Continuing.",
            ctx.at
        ));
        return;
    }
    if expects_integer(ctx) {
        return;
    }
    let v = atol(ctx.arg(1));
    g.spread_checks_pct = v.clamp(0, i64::from(u32::MAX)) as u32;
    if !(0..=50).contains(&v) {
        ctx.alert(format!(
            "parsing [{}]: '{}' needs a positive value in range 0..50.",
            ctx.at,
            ctx.arg(0)
        ));
    }
}

/// `nbproc` is refused whatever its value: 2.5 removed multi-process mode.
fn nbproc(_: &mut Global, ctx: &mut Ctx) {
    ctx.alert(format!(
        "{} : nbproc is not supported any more since HAProxy 2.5. Threads will automatically be used on multi-processor machines if available.",
        ctx.here()
    ));
}

fn maxaccept(g: &mut Global, ctx: &mut Ctx) {
    if ctx.too_many_args(1, 0) || expects_integer(ctx) {
        return;
    }
    g.tune_maxaccept = Some(atol(ctx.arg(1)).clamp(-1, i64::from(i32::MAX)) as i32);
}

fn maxpollevents(g: &mut Global, ctx: &mut Ctx) {
    if ctx.too_many_args(1, 0) || expects_integer(ctx) {
        return;
    }
    g.tune_maxpollevents = Some(atol(ctx.arg(1)).clamp(0, i64::from(u32::MAX)) as u32);
}

fn stats(g: &mut Global, ctx: &mut Ctx) {
    match ctx.arg(1) {
        "socket" => {
            if ctx.arg(2).is_empty() {
                ctx.alert(format!(
                    "{} : '{} {}' in global section expects an address or a path to a UNIX socket",
                    ctx.here(),
                    ctx.arg(0),
                    ctx.arg(1)
                ));
                return;
            }
            let addr = match parse_addr(ctx.arg(2), true) {
                Ok(mut v) if v.len() == 1 => v.remove(0),
                Ok(_) | Err(_) => {
                    ctx.alert(format!(
                        "{} : '{} {}' : invalid address '{}'",
                        ctx.here(),
                        ctx.arg(0),
                        ctx.arg(1),
                        ctx.arg(2)
                    ));
                    return;
                }
            };
            let params = ctx.args[3..].to_vec();
            g.stats_sockets.push(StatsSocket {
                at: ctx.at.clone(),
                address: addr,
                params,
            });
            ctx.unimplemented("stats socket");
        }
        "timeout" | "maxconn" | "bind-process" => {
            if ctx.arg(2).is_empty() {
                ctx.alert(format!(
                    "{} : '{} {}' expects an argument.",
                    ctx.here(),
                    ctx.arg(0),
                    ctx.arg(1)
                ));
                return;
            }
            ctx.unimplemented(format!("stats {}", ctx.arg(1)));
        }
        other => {
            let msg = format!(
                "{} : '{}' only supports 'socket', 'maxconn', 'bind-process' and 'timeout' (got '{other}')",
                ctx.here(),
                ctx.arg(0)
            );
            ctx.alert(msg);
        }
    }
}

fn global_log(g: &mut Global, ctx: &mut Ctx) {
    if let Some(t) = parse_log(ctx, false) {
        g.log.push(t);
    }
}

/// syslog facilities, in their numeric order.
pub const FACILITIES: &[&str] = &[
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2",
    "ftp", "ntp", "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
];

/// syslog levels, most severe first.
pub const LEVELS: &[&str] = &[
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

/// `log <address> [len <n>] [format <f>] [sample <r>:<s>] <facility> [<level> [<minlevel>]]`.
/// `log global` is handled by the proxy parser; here it is an address.
pub fn parse_log(ctx: &mut Ctx, _in_proxy: bool) -> Option<LogTarget> {
    let here = ctx.here();
    if ctx.arg(1).is_empty() || ctx.arg(2).is_empty() {
        ctx.alert(format!(
            "{here} : log : expects <address> and <facility>  as arguments"
        ));
        return None;
    }
    let address = ctx.arg(1).to_string();
    let mut i = 2;
    while matches!(ctx.arg(i), "len" | "format" | "sample") {
        if ctx.arg(i + 1).is_empty() {
            ctx.alert(format!("{here} : log : '{}' expects a value.", ctx.arg(i)));
            return None;
        }
        i += 2;
    }
    let facility = ctx.arg(i).to_string();
    if !FACILITIES.contains(&facility.as_str()) {
        ctx.alert(format!("{here} : log : unknown log facility '{facility}'"));
        return None;
    }
    let level = ctx.arg(i + 1).to_string();
    let minlevel = ctx.arg(i + 2).to_string();
    for l in [&level, &minlevel] {
        if !l.is_empty() && !LEVELS.contains(&l.as_str()) {
            ctx.alert(format!("{here} : log : unknown optional log level '{l}'"));
            return None;
        }
    }
    if !ctx.arg(i + 3).is_empty() {
        ctx.alert(format!(
            "{here} : log : cannot handle unexpected argument '{}'",
            ctx.arg(i + 3)
        ));
        return None;
    }
    let opt = |s: String| (!s.is_empty()).then_some(s);
    Some(LogTarget {
        at: ctx.at.clone(),
        address,
        facility,
        level: opt(level),
        minlevel: opt(minlevel),
    })
}
