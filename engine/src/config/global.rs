//! The `global` section's keyword table, and `log` (shared with proxies).
//!
//! Each row: name, parser, whether the engine runtime implements it, and
//! the documentation line. An unknown keyword is an error with HAProxy's
//! "did you mean" suggestion.

use super::bind::{parse_addr, parse_log_addr, BIND_OPTIONS};
use super::parse::{atol, Ctx};
use super::suggest;
use super::{CliLevel, Global, LogTarget, StatsSocket, SyslogFormat, SyslogLevel};
use crate::identity;
use std::path::PathBuf;
use std::time::Duration;

use super::units::{parse_time_ms, trailing_warning, Time, TimeError};

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
    kw("busy-polling", flag, Runtime::No, "busy-polling: poll without sleeping."),
    kw("ca-base", ssl_base, Runtime::No, "ca-base <dir>: base directory of CA files."),
    kw("chroot", chroot, Runtime::Yes, "chroot <dir>: change root before dropping privileges."),
    kw("cpu-map", two, Runtime::No, "cpu-map <thread-set> <cpu-set>."),
    kw("crt-base", ssl_base, Runtime::No, "crt-base <dir>: base directory of certificates."),
    kw("daemon", daemon, Runtime::Yes, "daemon: fork into the background."),
    kw("description", global_description, Runtime::No, "description <text>: shown on the stats page."),
    kw("gid", gid, Runtime::Yes, "gid <number>: group id to run as."),
    kw("grace", grace, Runtime::No, "grace <time>: delay before stopping after a soft-stop."),
    kw("group", group, Runtime::Yes, "group <name>: group to run as."),
    kw("h1-case-adjust", two, Runtime::No, "h1-case-adjust <from> <to>: header name case."),
    kw("hard-stop-after", hard_stop_after, Runtime::Yes, "hard-stop-after <time>: force exit after a soft-stop."),
    kw("insecure-fork-wanted", flag, Runtime::No, "insecure-fork-wanted: allow fork() from Lua/external checks."),
    kw("localpeer", ignore_one, Runtime::No, "localpeer <name>: local peer name."),
    kw("log", global_log, Runtime::Yes, "log <addr> [len N] [format F] <facility> [level [minlevel]]."),
    kw("log-send-hostname", log_send_hostname, Runtime::Yes, "log-send-hostname [<name>]: add a host name to syslog lines."),
    kw("log-tag", log_tag, Runtime::Yes, "log-tag <tag>: syslog tag (default: program name)."),
    kw("lua-load", ignore_one, Runtime::No, "lua-load <file>: load a Lua script."),
    kw("master-worker", master_worker, Runtime::Yes, "master-worker [no-exit-on-failure]: master/worker mode (also -W)."),
    kw("max-spread-checks", max_spread_checks, Runtime::Yes, "max-spread-checks <time>: cap of the startup spread of checks."),
    kw("maxconn", maxconn, Runtime::Yes, "maxconn <n>: process-wide concurrent connections."),
    kw("mworker-max-reloads", mworker_max_reloads, Runtime::Yes, "mworker-max-reloads <n>: reloads an old worker may outlive before SIGTERM."),
    kw("maxconnrate", once_integer, Runtime::No, "maxconnrate <n>: connections per second."),
    kw("maxsessrate", once_integer, Runtime::No, "maxsessrate <n>: sessions per second."),
    kw("maxsslconn", ignore_one, Runtime::No, "maxsslconn <n>: concurrent SSL connections."),
    kw("maxsslrate", once_integer, Runtime::No, "maxsslrate <n>: SSL handshakes per second."),
    kw("nbproc", nbproc, Runtime::No, "nbproc <n>: removed in 2.5; only 1 is accepted."),
    kw("nbthread", nbthread, Runtime::Yes, "nbthread <n>: worker threads."),
    kw("node", ignore_one, Runtime::No, "node <name>: name shown on the stats page."),
    kw("noepoll", flag, Runtime::No, "noepoll: do not use epoll."),
    kw("nogetaddrinfo", flag, Runtime::No, "nogetaddrinfo: resolve with gethostbyname."),
    kw("nopoll", flag, Runtime::No, "nopoll: do not use poll."),
    kw("noreuseport", flag, Runtime::No, "noreuseport: no SO_REUSEPORT on listeners."),
    kw("nosplice", flag, Runtime::No, "nosplice: no kernel splicing."),
    kw("pidfile", pidfile, Runtime::Yes, "pidfile <file>: write the process id there."),
    kw("presetenv", no_env, Runtime::No, "presetenv <name> <value>: refused, see setenv."),
    kw("quiet", quiet, Runtime::No, "quiet: no messages at startup."),
    kw("resetenv", no_env, Runtime::No, "resetenv [<name>...]: refused, see setenv."),
    kw("server-state-base", server_state_base, Runtime::Yes, "server-state-base <dir>."),
    kw("server-state-file", server_state_file, Runtime::Yes, "server-state-file <file>."),
    kw("set-dumpable", flag, Runtime::No, "set-dumpable: allow core dumps after setuid."),
    kw("setenv", no_env, Runtime::No, "setenv <name> <value>: refused (the engine does not change its environment)."),
    kw("spread-checks", spread_checks, Runtime::Yes, "spread-checks <0..50>: percent of jitter on check intervals."),
    kw("ssl-default-bind-ciphers", ignore_one, Runtime::No, "ssl-default-bind-ciphers <ciphers>."),
    kw("ssl-default-bind-ciphersuites", ignore_one, Runtime::No, "ssl-default-bind-ciphersuites <suites>."),
    kw("ssl-default-bind-options", one_or_more, Runtime::No, "ssl-default-bind-options <options>..."),
    kw("ssl-default-server-ciphers", ignore_one, Runtime::No, "ssl-default-server-ciphers <ciphers>."),
    kw("ssl-default-server-ciphersuites", ignore_one, Runtime::No, "ssl-default-server-ciphersuites <suites>."),
    kw("ssl-default-server-options", one_or_more, Runtime::No, "ssl-default-server-options <options>..."),
    kw("ssl-server-verify", ignore_one, Runtime::No, "ssl-server-verify none|required."),
    kw("stats", stats, Runtime::Parser, "stats socket|timeout|maxconn: the runtime API."),
    kw("strict-limits", flag, Runtime::No, "strict-limits: fail when limits cannot be set."),
    kw("tune.bufsize", ignore_one, Runtime::No, "tune.bufsize <bytes>: buffer size."),
    kw("tune.http.maxhdr", ignore_one, Runtime::No, "tune.http.maxhdr <n>: headers per message."),
    kw("tune.maxaccept", maxaccept, Runtime::No, "tune.maxaccept <n>: accepts per wakeup (-1: unlimited)."),
    kw("tune.maxpollevents", maxpollevents, Runtime::No, "tune.maxpollevents <n>: events per poll."),
    kw("tune.maxrewrite", ignore_one, Runtime::No, "tune.maxrewrite <bytes>."),
    kw("tune.rcvbuf.client", once_integer, Runtime::No, "tune.rcvbuf.client <bytes>."),
    kw("tune.rcvbuf.server", once_integer, Runtime::No, "tune.rcvbuf.server <bytes>."),
    kw("tune.sndbuf.client", once_integer, Runtime::No, "tune.sndbuf.client <bytes>."),
    kw("tune.sndbuf.server", once_integer, Runtime::No, "tune.sndbuf.server <bytes>."),
    kw("tune.ssl.cachesize", ignore_one, Runtime::No, "tune.ssl.cachesize <n>."),
    kw("tune.ssl.default-dh-param", ignore_one, Runtime::No, "tune.ssl.default-dh-param <bits>."),
    kw("tune.ssl.lifetime", ignore_one, Runtime::No, "tune.ssl.lifetime <time>."),
    kw("uid", uid, Runtime::Yes, "uid <number>: user id to run as."),
    kw("ulimit-n", ulimit_n, Runtime::No, "ulimit-n <n>: file-descriptor limit."),
    kw("unix-bind", ignore_rest, Runtime::No, "unix-bind [prefix P] [mode M] [user U] [group G]..."),
    kw("unsetenv", no_env, Runtime::No, "unsetenv <name>...: refused, see setenv."),
    kw("user", user, Runtime::Yes, "user <name>: user to run as."),
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
        let best = suggest::best_match(
            &name,
            suggest::GLOBAL_REGISTERED
                .iter()
                .chain(suggest::GLOBAL_COMMON)
                .copied(),
        );
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
    if already_set(ctx, g.maxconn.is_some()) {
        return;
    }
    g.maxconn = Some(atol(ctx.arg(1)).clamp(0, i64::from(u32::MAX)) as u32);
}

fn daemon(g: &mut Global, ctx: &mut Ctx) {
    if !ctx.too_many_args(0, 0) {
        g.daemon = true;
    }
}

fn quiet(g: &mut Global, ctx: &mut Ctx) {
    if !ctx.too_many_args(0, 0) {
        g.quiet = true;
    }
}

fn flag(_: &mut Global, ctx: &mut Ctx) {
    ctx.too_many_args(0, 0);
}

/// What HAProxy 2.6 says when these keywords miss their argument (after
/// `parsing [file:line]`, separator included). Others say
/// " : '<kw>' expects an integer argument.".
#[rustfmt::skip]
const MISSING: &[(&str, &str)] = &[
    ("ca-base", " : global statement 'ca-base' expects a directory path as an argument."),
    ("cpu-map", " : cpu-map expects a process number  ('all', 'odd', 'even', a number from 1 to 64 or a range),  followed by a list of CPU ranges with numbers from 0 to 63."),
    ("crt-base", " : global statement 'crt-base' expects a directory path as an argument."),
    ("grace", " : 'grace' expects <time> as argument.\n"),
    ("h1-case-adjust", " : 'h1-case-adjust' expects <from> and <to> as argument."),
    ("hard-stop-after", " : 'hard-stop-after' expects <time> as argument.\n"),
    ("localpeer", " : 'localpeer' expects a name as an argument."),
    ("log-tag", " : 'log-tag' expects a tag for use in syslog."),
    ("lua-load", " : 'lua-load' expects a file name as parameter."),
    ("max-spread-checks", ": 'max-spread-checks' expects an integer argument (0..50)."),
    ("nbthread", " : 'nbthread' passed a missing or unparsable integer value in ''"),
    ("node", ": 'node' requires valid node name - non-empty string with digits(0-9), letters(A-Z, a-z), dot(.), hyphen(-) or underscode(_)."),
    ("presetenv", ": 'presetenv' expects a name and a value."),
    ("server-state-base", " : 'server-state-base' expects one argument: a directory path."),
    ("server-state-file", " : 'server-state-file' expect one argument: a file path."),
    ("setenv", ": 'setenv' expects a name and a value."),
    ("ssl-default-bind-ciphers", " : global statement 'ssl-default-bind-ciphers' expects a cipher suite as an argument."),
    ("ssl-default-bind-ciphersuites", " : global statement 'ssl-default-bind-ciphersuites' expects a cipher suite as an argument."),
    ("ssl-default-bind-options", " : global statement 'ssl-default-bind-options' expects an option as an argument."),
    ("ssl-default-server-ciphers", " : global statement 'ssl-default-server-ciphers' expects a cipher suite as an argument."),
    ("ssl-default-server-ciphersuites", " : global statement 'ssl-default-server-ciphersuites' expects a cipher suite as an argument."),
    ("ssl-default-server-options", " : global statement 'ssl-default-server-options' expects an option as an argument."),
    ("tune.ssl.lifetime", " : 'tune.ssl.lifetime' expects ssl sessions <lifetime> in seconds as argument."),
    ("unsetenv", ": 'unsetenv' expects at least one variable name."),
];

/// Alerts with HAProxy's text when the first argument is missing.
fn missing_arg(ctx: &mut Ctx) -> bool {
    if !ctx.arg(1).is_empty() {
        return false;
    }
    let kw = ctx.arg(0).to_string();
    let tail = match MISSING.iter().find(|(k, _)| *k == kw) {
        Some((_, m)) => m.to_string(),
        None => format!(" : '{kw}' expects an integer argument."),
    };
    ctx.alert(format!("parsing [{}]{tail}", ctx.at));
    true
}

fn ignore_one(_: &mut Global, ctx: &mut Ctx) {
    if !ctx.too_many_args(1, 0) {
        missing_arg(ctx);
    }
}

/// `hard-stop-after <time>`; 0 is HAProxy's "never".
fn hard_stop_after(g: &mut Global, ctx: &mut Ctx) {
    if let Some(t) = proxy_time(ctx) {
        g.hard_stop_after = (!t.is_zero()).then_some(t);
    }
}

/// `grace <time>`.
fn grace(g: &mut Global, ctx: &mut Ctx) {
    if let Some(t) = proxy_time(ctx) {
        g.grace = Some(t);
    }
}

/// A time argument as HAProxy's proxy.c keywords read it (`grace`,
/// `hard-stop-after`): no check of extra arguments, junk after a unit
/// only warned about.
fn proxy_time(ctx: &mut Ctx) -> Option<Duration> {
    if missing_arg(ctx) {
        return None;
    }
    let (kw, arg) = (ctx.arg(0).to_string(), ctx.arg(1).to_string());
    let problem = match warned_time(ctx, &arg) {
        Ok(t) => return Some(t),
        Err(TimeError::Char(c)) => format!("unexpected character '{c}' in argument to <{kw}>.\n"),
        Err(TimeError::Over) => format!(
            "timer overflow in argument '{arg}' to '{kw}' (maximum value is 2147483647 ms or ~24.8 days)"
        ),
        Err(TimeError::Under) => format!(
            "timer underflow in argument '{arg}' to '{kw}' (minimum non-null value is 1 ms)"
        ),
        Err(TimeError::Empty) => return None, // missing_arg said so
    };
    let msg = format!("{} : {problem}", ctx.here());
    ctx.alert(msg);
    None
}

/// A time argument; junk after a valid unit is only warned about, as in
/// HAProxy 2.6. The caller words the errors, which differ by keyword.
fn warned_time(ctx: &mut Ctx, arg: &str) -> Result<Duration, TimeError> {
    let time = parse_time_ms(arg)?;
    if let Some(c) = time.trailing {
        ctx.warn(trailing_warning(c, arg));
    }
    Ok(time.duration())
}

/// `max-spread-checks <time>`, with cfgparse-global.c's own wording.
fn max_spread_checks(g: &mut Global, ctx: &mut Ctx) {
    if ctx.too_many_args(1, 0) || missing_arg(ctx) {
        return;
    }
    let (kw, arg) = (ctx.arg(0).to_string(), ctx.arg(1).to_string());
    let problem = match warned_time(ctx, &arg) {
        Ok(t) => {
            g.max_spread_checks = Some(t);
            return;
        }
        Err(TimeError::Char(c)) => {
            format!("unsupported character '{c}' in '{kw}' (wants an integer delay).")
        }
        Err(TimeError::Over) => format!(
            "timer overflow in argument <{arg}> to <{kw}>, maximum value is 2147483647 ms (~24.8 days)."
        ),
        Err(TimeError::Under) => format!(
            "timer underflow in argument <{arg}> to <{kw}>, minimum non-null value is 1 ms."
        ),
        Err(TimeError::Empty) => return,
    };
    let msg = format!("parsing [{}]: {problem}", ctx.at);
    ctx.alert(msg);
}

/// HAProxy's "'<kw>' already specified. Continuing." when `set`: an
/// alert that keeps the first value and leaves the configuration valid.
fn already_set(ctx: &mut Ctx, set: bool) -> bool {
    if set {
        let msg = format!(
            "{} : '{}' already specified. Continuing.",
            ctx.here(),
            ctx.arg(0)
        );
        ctx.alert_continue(msg);
    }
    set
}

/// Integer settings kept for `-c` but not run (rate limits, socket
/// buffers): HAProxy's "already specified" test is on a non-zero value.
fn once_integer(g: &mut Global, ctx: &mut Ctx) {
    if ctx.too_many_args(1, 0) {
        return;
    }
    let kw = ctx.arg(0).to_string();
    if already_set(ctx, g.tuning.get(&kw).is_some_and(|v| *v != 0)) {
        return;
    }
    if expects_integer(ctx) {
        return;
    }
    g.tuning.insert(kw, atol(ctx.arg(1)));
}

/// `ca-base`/`crt-base <dir>`: a second one is an error.
fn ssl_base(g: &mut Global, ctx: &mut Ctx) {
    if ctx.too_many_args(1, 0) {
        return;
    }
    let kw = ctx.arg(0).to_string();
    let slot = if kw == "ca-base" {
        &mut g.ca_base
    } else {
        &mut g.crt_base
    };
    if slot.is_some() {
        let msg = format!("{} : '{kw}' already specified.", ctx.here());
        ctx.alert(msg);
        return;
    }
    if ctx.arg(1).is_empty() {
        missing_arg(ctx);
        return;
    }
    *slot = Some(PathBuf::from(ctx.arg(1)));
}

/// `server-state-base <dir>` (no check of extra arguments in HAProxy).
fn server_state_base(g: &mut Global, ctx: &mut Ctx) {
    if already_set(ctx, g.server_state_base.is_some()) {
        return;
    }
    if !missing_arg(ctx) {
        g.server_state_base = Some(PathBuf::from(ctx.arg(1)));
    }
}

/// `server-state-file <file>`: HAProxy checks neither extra arguments
/// nor the file (a missing one is a warning at start).
fn server_state_file(g: &mut Global, ctx: &mut Ctx) {
    if already_set(ctx, g.server_state_file.is_some()) {
        return;
    }
    if !missing_arg(ctx) {
        g.server_state_file = Some(ctx.arg(1).to_string());
    }
}

/// `log-send-hostname [<name>]`: the host's own name without argument.
fn log_send_hostname(g: &mut Global, ctx: &mut Ctx) {
    if already_set(ctx, g.log_send_hostname.is_some()) {
        return;
    }
    g.log_send_hostname = Some(ctx.arg(1).to_string());
}

fn log_tag(g: &mut Global, ctx: &mut Ctx) {
    if !ctx.too_many_args(1, 0) && !missing_arg(ctx) {
        g.log_tag = Some(ctx.arg(1).to_string());
    }
}

fn one_or_more(_: &mut Global, ctx: &mut Ctx) {
    missing_arg(ctx);
}

fn ignore_rest(_: &mut Global, _: &mut Ctx) {}

/// `mworker-max-reloads <n>`. HAProxy 2.6 prints a missing or negative
/// value as a warning with "(null)" in it and runs anyway; the engine
/// refuses it (a deploy gate should not pass a setting it cannot read).
fn mworker_max_reloads(g: &mut Global, ctx: &mut Ctx) {
    if ctx.too_many_args(1, 0) {
        return;
    }
    match ctx.arg(1).parse::<i64>() {
        Ok(n) if n >= 0 => g.mworker_max_reloads = Some(n.min(i64::from(u32::MAX)) as u32),
        Ok(n) => {
            let msg = format!(
                "{} : '{}' : invalid value {n}, must be >= 0",
                ctx.here(),
                ctx.arg(0)
            );
            ctx.alert(msg);
        }
        Err(_) => {
            let msg = format!(
                "{} : '{}' expects an integer argument.",
                ctx.here(),
                ctx.arg(0)
            );
            ctx.alert(msg);
        }
    }
}

/// `master-worker [no-exit-on-failure]`.
fn master_worker(g: &mut Global, ctx: &mut Ctx) {
    if ctx.too_many_args(1, 0) {
        return;
    }
    match ctx.arg(1) {
        "" => {}
        "no-exit-on-failure" => g.master_worker_no_exit_on_failure = true,
        _ => {
            let msg = format!(
                "{} : '{}' only supports 'no-exit-on-failure' option.",
                ctx.here(),
                ctx.arg(0)
            );
            ctx.alert(msg);
            return;
        }
    }
    g.master_worker = true;
}

fn global_description(_: &mut Global, ctx: &mut Ctx) {
    if ctx.arg(1).is_empty() {
        let msg = format!(
            "parsing [{}]: 'description' expects a string argument.",
            ctx.at
        );
        ctx.alert(msg);
    }
}

fn two(_: &mut Global, ctx: &mut Ctx) {
    if ctx.arg(2).is_empty() {
        let kw = ctx.arg(0).to_string();
        let tail = MISSING
            .iter()
            .find(|(k, _)| *k == kw)
            .map_or(" : missing argument.", |(_, m)| m);
        ctx.alert(format!("parsing [{}]{tail}", ctx.at));
    }
}

/// Environment changes would alter how later lines expand `${VAR}`; the
/// engine does not support them, and says so rather than ignore them.
fn no_env(_: &mut Global, ctx: &mut Ctx) {
    let needs = match ctx.arg(0) {
        "setenv" | "presetenv" => 2,
        "unsetenv" => 1,
        _ => 0,
    };
    if needs > 0 && ctx.arg(needs).is_empty() {
        let kw = ctx.arg(0).to_string();
        let tail = MISSING
            .iter()
            .find(|(k, _)| *k == kw)
            .map_or("", |(_, m)| m);
        ctx.alert(format!("parsing [{}]{tail}", ctx.at));
        return;
    }
    let msg = format!(
        "{} : '{}' is not supported by this engine (it would change the environment later lines expand).",
        ctx.here(),
        ctx.arg(0)
    );
    ctx.alert(msg);
}

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
    if already_set(ctx, g.pidfile.is_some()) {
        return;
    }
    g.pidfile = path_arg(ctx, "a file name");
}

fn chroot(g: &mut Global, ctx: &mut Ctx) {
    if already_set(ctx, g.chroot.is_some()) {
        return;
    }
    g.chroot = path_arg(ctx, "a directory");
}

/// `uid <n>`; 0 leaves the user unchanged, as in HAProxy.
fn uid(g: &mut Global, ctx: &mut Ctx) {
    numeric_id(
        ctx,
        &mut g.uid,
        "user/uid already specified",
        "user",
        "user name",
    );
}

/// `gid <n>`; 0 leaves the group unchanged.
fn gid(g: &mut Global, ctx: &mut Ctx) {
    numeric_id(
        ctx,
        &mut g.gid,
        "group/gid already specified",
        "group",
        "group name",
    );
}

fn numeric_id(ctx: &mut Ctx, id: &mut i32, already: &str, by_name: &str, what: &str) {
    if ctx.too_many_args(1, 0) {
        return;
    }
    if *id != 0 {
        ctx.alert_continue(format!("{} : {already}. Continuing.", ctx.here()));
        return;
    }
    if ctx.arg(1).is_empty() {
        missing_arg(ctx);
        return;
    }
    match strict_int(ctx.arg(1)) {
        Some(n) => *id = n,
        None => {
            let msg = format!(
                "{} :  {}: string '{}' is not a number.\n   | You might want to use the '{by_name}' parameter to use a system {what}.",
                ctx.here(),
                ctx.arg(0),
                ctx.arg(1)
            );
            ctx.warn(msg);
        }
    }
}

/// HAProxy's strl2irc: an optional minus and digits only, within an int.
fn strict_int(s: &str) -> Option<i32> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `user <name>`: looked up now, as HAProxy does with getpwnam.
fn user(g: &mut Global, ctx: &mut Ctx) {
    let already = "user/uid already specified";
    named_id(ctx, &mut g.uid, already, "user", identity::user_id);
}

/// `group <name>`: looked up now, with getgrnam.
fn group(g: &mut Global, ctx: &mut Ctx) {
    let already = "gid/group was already specified";
    named_id(ctx, &mut g.gid, already, "group", identity::group_id);
}

fn named_id(
    ctx: &mut Ctx,
    id: &mut i32,
    already: &str,
    what: &str,
    lookup: fn(&str) -> Result<i32, identity::LookupError>,
) {
    if ctx.too_many_args(1, 0) {
        return;
    }
    if *id != 0 {
        ctx.alert_continue(format!("{} : {already}. Continuing.", ctx.here()));
        return;
    }
    match lookup(ctx.arg(1)) {
        Ok(found) => *id = found,
        Err(e) => {
            let msg = format!(
                "{} : cannot find {what} id for '{}' ({e})",
                ctx.here(),
                ctx.arg(1)
            );
            ctx.alert(msg);
        }
    }
}

fn spread_checks(g: &mut Global, ctx: &mut Ctx) {
    if ctx.too_many_args(1, 0) {
        return;
    }
    // HAProxy tests "already set" before reading the value, and stores the
    // value before checking its range.
    if g.spread_checks_pct != 0 {
        ctx.alert_continue(format!(
            "parsing [{}]: spread-checks already specified. Continuing.",
            ctx.at
        ));
        return;
    }
    if ctx.arg(1).is_empty() {
        let msg = format!(
            "parsing [{}]: 'spread-checks' expects an integer argument (0..50).",
            ctx.at
        );
        ctx.alert(msg);
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

/// The most threads HAProxy 2.6 runs (MAX_THREADS on 64-bit builds).
const MAX_THREADS: i64 = 64;

/// `nbthread <n>`: strtol's whole argument, 1 to 64.
fn nbthread(g: &mut Global, ctx: &mut Ctx) {
    if ctx.too_many_args(1, 0) {
        return;
    }
    let arg = ctx.arg(1).to_string();
    let problem = match strict_long(arg.trim_start()) {
        Some(n) if (1..=MAX_THREADS).contains(&n) => {
            g.nbthread = Some(n as usize);
            return;
        }
        Some(n) => format!("value must be between 1 and {MAX_THREADS} (was {n})"),
        None => format!("passed a missing or unparsable integer value in '{arg}'"),
    };
    let msg = format!("{} : '{}' {problem}", ctx.here(), ctx.arg(0));
    ctx.alert(msg);
}

/// strtol with nothing left over: an optional sign, then digits.
fn strict_long(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `ulimit-n <n>`: atol's value; 0 (also from junk) means unset.
fn ulimit_n(g: &mut Global, ctx: &mut Ctx) {
    if ctx.too_many_args(1, 0) {
        return;
    }
    if already_set(ctx, g.ulimit_n != 0) {
        return;
    }
    if missing_arg(ctx) {
        return;
    }
    // HAProxy stores the long in an int.
    g.ulimit_n = atol(ctx.arg(1)) as i32;
}

fn maxaccept(g: &mut Global, ctx: &mut Ctx) {
    if ctx.too_many_args(1, 0) || already_set(ctx, g.tune_maxaccept.unwrap_or(0) != 0) {
        return;
    }
    if expects_integer(ctx) {
        return;
    }
    g.tune_maxaccept = Some(atol(ctx.arg(1)).clamp(-1, i64::from(i32::MAX)) as i32);
}

fn maxpollevents(g: &mut Global, ctx: &mut Ctx) {
    if ctx.too_many_args(1, 0) || already_set(ctx, g.tune_maxpollevents.unwrap_or(0) != 0) {
        return;
    }
    if expects_integer(ctx) {
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
            if let Some(socket) = stats_socket(ctx, addr) {
                g.stats_sockets.push(socket);
            }
        }
        "timeout" | "maxconn" | "bind-process" if ctx.arg(2).is_empty() => {
            ctx.alert(format!(
                "{} : '{} {}' expects an argument.",
                ctx.here(),
                ctx.arg(0),
                ctx.arg(1)
            ));
        }
        "timeout" => {
            let here = ctx.here();
            match parse_time_ms(ctx.arg(2)) {
                Ok(Time {
                    trailing: Some(c), ..
                })
                | Err(TimeError::Char(c)) => {
                    ctx.alert(format!(
                        "{here} : 'stats timeout' : unexpected character '{c}'"
                    ));
                }
                Ok(t) if t.ms > 0 => g.stats_timeout = Some(t.duration()),
                _ => ctx.alert(format!("{here} : 'stats timeout' expects a positive value")),
            }
        }
        "maxconn" => {
            let n = atol(ctx.arg(2));
            if n <= 0 {
                let here = ctx.here();
                ctx.alert(format!("{here} : 'stats maxconn' expects a positive value"));
                return;
            }
            g.stats_maxconn = Some(n.min(i64::from(u32::MAX)) as u32);
        }
        "bind-process" => ctx.unimplemented("stats bind-process"),
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

/// The parameters of `stats socket <address> [params]`: bind keywords,
/// as HAProxy's `stats_parse_global` reads them. `level` and `mode` are
/// built; the other bind keywords are checked for their value's presence
/// and kept as unsupported; any other word is an error.
fn stats_socket(ctx: &mut Ctx, address: super::BindAddr) -> Option<StatsSocket> {
    let here = ctx.here();
    let mut socket = StatsSocket {
        at: ctx.at.clone(),
        address,
        level: CliLevel::Operator,
        mode: None,
        expose_fd: false,
        unsupported: false,
        params: ctx.args[3..].to_vec(),
    };
    let mut i = 3;
    while !ctx.arg(i).is_empty() {
        let name = ctx.arg(i).to_string();
        let value = ctx.arg(i + 1).to_string();
        let Some(&(_, nvals, missing)) = BIND_OPTIONS.iter().find(|(n, _, _)| *n == name) else {
            let best = suggest::best_match(&name, BIND_OPTIONS.iter().map(|(n, _, _)| *n));
            let hint = best
                .map(|b| format!(" Did you mean '{b}' maybe ?"))
                .unwrap_or_default();
            ctx.alert(format!(
                "{here} : 'stats socket' : unknown keyword '{name}'.{hint}"
            ));
            return None;
        };
        // HAProxy quotes the keyword's own message: `''level' : missing level'`.
        let refuse = |ctx: &mut Ctx, err: String| {
            ctx.alert(format!("{here} : 'stats socket' : '{err}'"));
        };
        if nvals > 0 && value.is_empty() {
            // `thread` names itself '' and ends its text with a newline.
            let err = match name.as_str() {
                "thread" => format!("'' : {missing}\n"),
                _ => format!("'{name}' : {missing}"),
            };
            refuse(ctx, err);
            return None;
        }
        match name.as_str() {
            "level" => {
                match CliLevel::from_name(&value) {
                    Some(level) => socket.level = level,
                    None => {
                        refuse(ctx, format!("'level' only supports 'user', 'operator', and 'admin' (got '{value}')"));
                        return None;
                    }
                }
            }
            "mode" => {
                match strtol_octal(&value) {
                    Some(mode) => socket.mode = Some(mode),
                    None => {
                        refuse(ctx, format!("'mode' : missing or invalid mode '{value}' (octal integer expected)"));
                        return None;
                    }
                }
            }
            "expose-fd" => {
                if value != "listeners" {
                    refuse(
                        ctx,
                        format!("'expose-fd' only supports 'listeners' (got '{value}')"),
                    );
                    return None;
                }
                socket.expose_fd = true;
            }
            _ => socket.unsupported = true,
        }
        i += 1 + nvals;
    }
    Some(socket)
}

/// strtol(s, &end, 8) with nothing left after the number: an optional
/// sign, then octal digits.
fn strtol_octal(s: &str) -> Option<u32> {
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return None;
    }
    let n = digits.bytes().fold(0i64, |n, b| {
        n.saturating_mul(8).saturating_add(i64::from(b - b'0'))
    });
    // mode_t keeps the low bits, as the C assignment does.
    Some((if negative { -n } else { n }) as u32)
}

fn global_log(g: &mut Global, ctx: &mut Ctx) {
    if let Some(t) = parse_log(ctx, false) {
        g.log.push(t);
    }
}

/// `log <address> [len <n>] [format <f>] [sample <r>:<s>] <facility> [<level> [<minlevel>]]`.
/// `log global` is handled by the proxy parser; here it is an address.
pub fn parse_log(ctx: &mut Ctx, in_proxy: bool) -> Option<LogTarget> {
    let here = ctx.here();
    if ctx.arg(1).is_empty() || ctx.arg(2).is_empty() {
        // The two texts differ by more than "or global", spacing included.
        let what = if in_proxy { " or global as" } else { "  as" };
        ctx.alert(format!(
            "{here} : log : expects <address> and <facility>{what} arguments"
        ));
        return None;
    }
    let address = ctx.arg(1).to_string();
    let mut i = 2;
    // The raw `len`, `format` and `sample` values, for messages.
    let mut written: [Option<String>; 3] = Default::default();
    let mut max_len = crate::log::syslog::DEFAULT_MAX_LEN;
    let mut format = Some(SyslogFormat::default());
    let mut sample = None;
    // HAProxy's parse_logsrv takes each at most once, in this order: one
    // out of order is read as the facility (and refused as one).
    if ctx.arg(i) == "len" {
        let raw = ctx.arg(i + 1).to_string();
        // atoi, then HAProxy's bounds.
        let len = atol(&raw);
        if !(80..=65535).contains(&len) {
            ctx.alert(format!(
                "{here} : log : invalid log length '{raw}', must be between 80 and 65535"
            ));
            return None;
        }
        max_len = len as usize;
        written[0] = Some(raw);
        i += 2;
    }
    if ctx.arg(i) == "format" {
        let raw = ctx.arg(i + 1).to_string();
        // HAProxy's names; the engine frames all but the first, fourth,
        // sixth and seventh.
        const FORMATS: [&str; 8] = [
            "local", "rfc3164", "rfc5424", "priority", "short", "timed", "iso", "raw",
        ];
        if !FORMATS.contains(&raw.as_str()) {
            ctx.alert(format!("{here} : log : unknown log format '{raw}'"));
            return None;
        }
        format = SyslogFormat::from_name(&raw);
        written[1] = Some(raw);
        i += 2;
    }
    if ctx.arg(i) == "sample" {
        let raw = ctx.arg(i + 1).to_string();
        if !raw.contains(':') {
            ctx.alert(format!("{here} : log : Missing sample size"));
            return None;
        }
        sample = Some(raw.clone());
        written[2] = Some(raw);
        i += 2;
    }
    let Some(facility) = crate::log::syslog::facility(ctx.arg(i)) else {
        let facility = ctx.arg(i).to_string();
        ctx.alert(format!("{here} : log : unknown log facility '{facility}'"));
        return None;
    };
    let mut levels = [SyslogLevel::Debug, SyslogLevel::Emerg];
    for (k, level) in levels.iter_mut().enumerate() {
        let l = ctx.arg(i + 1 + k).to_string();
        if l.is_empty() {
            continue;
        }
        match crate::log::syslog::level(&l) {
            Some(found) => *level = found,
            None => {
                // The second one is the minimum level, as HAProxy says.
                let which = if k == 0 { "" } else { "minimum " };
                ctx.alert(format!(
                    "{here} : log : unknown optional {which}log level '{l}'"
                ));
                return None;
            }
        }
    }
    if !ctx.arg(i + 3).is_empty() {
        ctx.alert(format!(
            "{here} : log : cannot handle unexpected argument '{}'",
            ctx.arg(i + 3)
        ));
        return None;
    }
    // HAProxy reads the address last.
    let dest = match parse_log_addr(&address) {
        Ok(dest) => dest,
        Err(e) => {
            ctx.alert(format!("{here} : log : {e}"));
            return None;
        }
    };
    let [max_level, min_level] = levels;
    let mut text = format!("log {address}");
    for (name, value) in ["len", "format", "sample"].iter().zip(&written) {
        if let Some(v) = value {
            text.push_str(&format!(" {name} {v}"));
        }
    }
    Some(LogTarget {
        at: ctx.at.clone(),
        dest,
        format,
        max_len,
        sample,
        facility,
        max_level,
        min_level,
        text,
    })
}
