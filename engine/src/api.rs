//! The runtime API on `stats socket`: one line of commands per connection
//! (several separated by `;`), answered as HAProxy 2.6 answers them, then
//! the connection closes; after `prompt`, line after line, each answer
//! followed by `> `, until `quit` (or `prompt` again).
//!
//! Commands built so far, with HAProxy's replies (captured on 2.6.12):
//! - `help`: the list below;
//! - `show stat [<proxy>|<iid>|-1 <type> <sid>]`: the CSV, filtered by
//!   proxy, type (1 frontends, 2 backends, 4 servers; -1 all) and server id;
//! - `disable server <b>/<s>`, `enable server <b>/<s>` (level admin):
//!   maintenance on and off, answered with an empty line;
//! - `get weight <b>/<s>`: `5 (initial 10)`;
//! - `set weight <b>/<s> <w>[%]`, `set server <b>/<s> weight <w>[%]`
//!   (level admin): a new weight, absolute or relative to the initial one;
//!   static algorithms only take 0% and 100%;
//! - `set server <b>/<s> state ready|drain|maint` (level admin), with
//!   HAProxy's messages (see [`crate::status`]);
//! - `clear counters` (level operator): the peaks (`smax`, `rate_max`,
//!   `conn_rate_max`) start over; `clear counters all` (level admin): every
//!   counter;
//! - `show backend`: the backends' names;
//! - `show info`: the process's figures (see [`crate::stats::info`]);
//! - `show servers state [<b>]`: the server-state dump (version 1);
//! - `disable health <b>/<s>`, `enable health <b>/<s>` (level admin):
//!   its checks stop (its state stays) or resume;
//! - `shutdown sessions server <b>/<s>` (level admin): its connections
//!   are cut, logged `K` (see [`crate::shutdown`]).
//!
//! Errors are HAProxy's texts: `No such backend.`, `No such server.`,
//! `Permission denied`; any other command gets HAProxy's "Unknown command"
//! answer with this list: no command goes without a word.

pub mod usage;
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::backend::Backend;
use crate::config;
use crate::config::parse::atol;
use crate::log::Logger;
use crate::net::{BoxStream, Listener};
use crate::proxy::sessions;
use crate::server::{CheckStatus, ServerState};
use crate::stats::html::human_secs;
use crate::stats::{typed, Filter, Format, Registry};
use crate::status::{self, Admin, Forced, Notice};

/// The longest command line read, as HAProxy's buffer.
const MAX_LINE_BYTES: u64 = 16 * 1024;

/// What a socket's clients may do (`level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    User,
    Operator,
    Admin,
}

impl Level {
    pub fn from_name(name: &str) -> Option<Level> {
        Some(match name {
            "user" => Level::User,
            "operator" => Level::Operator,
            "admin" => Level::Admin,
            _ => return None,
        })
    }
}

/// Commands, with their help text, as HAProxy's `help` aligns them.
const COMMANDS: &[(&str, &str)] = &[
    (
        "clear counters [all]",
        "clear max statistics counters (or all counters)",
    ),
    ("disable health", "disable health checks"),
    (
        "disable server (DEPRECATED)",
        "disable a server for maintenance (use 'set server' instead)",
    ),
    ("enable health", "enable health checks"),
    (
        "enable server  (DEPRECATED)",
        "enable a disabled server (use 'set server' instead)",
    ),
    ("get weight <bk>/<srv>", "report a server's current weight"),
    (
        "set server <bk>/<srv> [opts]",
        "change a server's state, weight or health",
    ),
    (
        "set weight <bk>/<srv>  (DEPRECATED)",
        "change a server's weight (use 'set server' instead)",
    ),
    (
        "show backend",
        "list backends in the current running config",
    ),
    ("show info", "report information about the running process"),
    (
        "show servers state [<backend>]",
        "dump volatile server information (all or for a single backend)",
    ),
    ("show sess", "report the list of current sessions"),
    (
        "show stat [<px>|<iid> <type> <sid>]",
        "report counters for each proxy and server",
    ),
    (
        "shutdown sessions server <bk>/<srv>",
        "kill sessions on a server",
    ),
    ("help [<command>]", "list matching or all commands"),
    ("prompt", "toggle interactive mode with prompt"),
    ("quit", "disconnect"),
];

fn help() -> String {
    let mut out = String::new();
    for (cmd, what) in COMMANDS {
        out.push_str(&format!("  {cmd:<39} : {what}\n"));
    }
    out
}

/// `stats maxconn` when unset: HAProxy's CLI frontend takes 10 connections
/// (and so listens with a backlog of 10).
pub const DEFAULT_STATS_MAXCONN: u32 = 10;

/// How the runtime API's connections are bounded: `stats maxconn`
/// (shared by every stats socket, as HAProxy's CLI frontend) and `stats
/// timeout` (an idle connection closes).
#[derive(Clone)]
pub struct Limits {
    pub slots: Arc<tokio::sync::Semaphore>,
    pub idle: std::time::Duration,
}

impl Limits {
    /// HAProxy's defaults: 10 connections, 10 s.
    pub fn new(maxconn: Option<u32>, timeout: Option<std::time::Duration>) -> Limits {
        Limits {
            slots: Arc::new(tokio::sync::Semaphore::new(
                maxconn.unwrap_or(DEFAULT_STATS_MAXCONN) as usize,
            )),
            idle: timeout.unwrap_or(std::time::Duration::from_secs(10)),
        }
    }
}

/// The listening sockets a stats socket with `expose-fd listeners` hands
/// to a process that asks (`_getsocks`, for `-x`): a copy of each, let go
/// at a soft stop so that the sockets close with their accept loops.
#[derive(Default)]
pub struct Exported(std::sync::Mutex<Vec<std::os::fd::OwnedFd>>);

impl Exported {
    pub fn new(fds: Vec<std::os::fd::OwnedFd>) -> Self {
        Exported(std::sync::Mutex::new(fds))
    }

    pub fn clear(&self) {
        self.0.lock().expect("exported lock").clear();
    }

    fn raw(&self) -> Vec<std::os::fd::RawFd> {
        use std::os::fd::AsRawFd;
        let fds = self.0.lock().expect("exported lock");
        fds.iter().map(|f| f.as_raw_fd()).collect()
    }
}

/// What a stats socket allows.
#[derive(Clone)]
pub struct Access {
    pub level: Level,
    /// `expose-fd listeners`: the sockets `_getsocks` hands over.
    pub sockets: Option<Arc<Exported>>,
}

/// Serves one socket until the listener fails; beyond `stats maxconn`
/// connections wait to be accepted. A `pausable` socket stops accepting
/// while the listeners are paused (SIGTTOU), as HAProxy's GLOBAL frontend.
pub async fn serve(
    listener: Box<dyn Listener>,
    registry: Arc<Registry>,
    logger: Arc<Logger>,
    access: Access,
    limits: Limits,
    pausable: bool,
) {
    let process = registry
        .info
        .as_ref()
        .filter(|_| pausable)
        .map(|i| i.process.clone());
    loop {
        // The stats sockets pause with the listeners (HAProxy's GLOBAL
        // frontend).
        if let Some(p) = &process {
            p.unpaused().await;
        }
        let Ok(slot) = limits.slots.clone().acquire_owned().await else {
            return;
        };
        let accepted = tokio::select! {
            biased;
            _ = async {
                match &process {
                    Some(p) => p.pausing().await,
                    None => std::future::pending().await,
                }
            } => continue,
            a = listener.accept() => a,
        };
        let Ok(accepted) = accepted else {
            continue;
        };
        registry
            .api_conns
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (registry, logger, access) = (registry.clone(), logger.clone(), access.clone());
        let idle = limits.idle;
        tokio::spawn(async move {
            // HAProxy lists the API's own streams too, in its `GLOBAL`
            // frontend.
            let sessions = registry.info.as_ref().map(|i| i.process.clone());
            let listed = sessions.as_ref().map(|p| {
                p.sessions
                    .register(accepted.family, accepted.peer, "GLOBAL", Default::default())
            });
            let conn = Conn {
                registry: &registry,
                logger: &logger,
                access: &access,
                fd: accepted.fd,
            };
            conn.session(accepted.stream, idle).await;
            drop(listed);
            drop(slot);
        });
    }
}

/// One connection to a stats socket.
struct Conn<'a> {
    registry: &'a Registry,
    logger: &'a Logger,
    access: &'a Access,
    /// Its descriptor, for `_getsocks`.
    fd: Option<std::os::fd::RawFd>,
}

impl Conn<'_> {
    /// `_getsocks` (HAProxy's hidden command for `-x`): the listening
    /// sockets go over the connection, which then ends; without `expose-fd
    /// listeners` it ends at once, and the asking process learns nothing.
    fn getsocks(&self) {
        #[cfg(unix)]
        if let (Some(exported), Some(fd)) = (&self.access.sockets, self.fd) {
            let _ = crate::net::fdpass::send_sockets(fd, &exported.raw());
        }
    }

    async fn session(&self, stream: BoxStream, idle: std::time::Duration) {
        let (registry, logger, level) = (self.registry, self.logger, self.access.level);
        session(stream, registry, logger, level, idle, || self.getsocks()).await
    }
}

async fn session(
    stream: BoxStream,
    registry: &Registry,
    logger: &Logger,
    level: Level,
    idle: std::time::Duration,
    getsocks: impl Fn(),
) {
    let (rd, mut wr) = tokio::io::split(stream);
    let mut reader = BufReader::new(rd);
    // `prompt` keeps the connection for more lines, each answer followed
    // by `> `; otherwise one line is answered and the connection closes.
    let mut interactive = false;
    loop {
        let mut line = String::new();
        let mut limited = tokio::io::AsyncReadExt::take(&mut reader, MAX_LINE_BYTES);
        // `stats timeout` bounds the wait for a command, but not in
        // interactive mode (HAProxy waits on a prompt as long as it takes).
        let read = limited.read_line(&mut line);
        let got = if interactive {
            read.await
        } else {
            match tokio::time::timeout(idle, read).await {
                Ok(r) => r,
                Err(_) => break,
            }
        };
        if matches!(got, Ok(0) | Err(_)) {
            break;
        }
        let mut out = String::new();
        let mut notices = Vec::new();
        let mut quit = false;
        let line = line.trim_end_matches(['\r', '\n']);
        if interactive && line.trim().is_empty() {
            out.push_str(&format!(
                "Unknown command. Please enter one of the following commands only:\n{}> ",
                help()
            ));
        }
        if line == "_getsocks" {
            getsocks();
            break;
        }
        for command in line.split(';').map(str::trim) {
            match command {
                "" if interactive => continue,
                "quit" => {
                    quit = true;
                    break;
                }
                "prompt" => {
                    interactive = !interactive;
                    out.push('\n');
                }
                _ => out.push_str(&execute(command, registry, level, &mut notices)),
            }
            if interactive {
                out.push_str("> ");
            }
        }
        for notice in &notices {
            notice.publish(logger).await;
        }
        if wr.write_all(out.as_bytes()).await.is_err() || quit || !interactive {
            break;
        }
    }
    let _ = wr.shutdown().await;
}

pub async fn run_line(line: &str, registry: &Registry, logger: &Logger, level: Level) -> String {
    let mut out = String::new();
    let mut notices = Vec::new();
    for command in line.trim_end_matches(['\r', '\n']).split(';') {
        out.push_str(&execute(command.trim(), registry, level, &mut notices));
    }
    for notice in &notices {
        notice.publish(logger).await;
    }
    out
}

/// Runs one command and returns its answer; what the command made the
/// engine say (a server entering maintenance...) goes to `notices`, for
/// the caller to publish before answering, as HAProxy does.
pub fn execute(
    command: &str,
    registry: &Registry,
    level: Level,
    notices: &mut Vec<Notice>,
) -> String {
    let words: Vec<&str> = command.split_whitespace().collect();
    match words.as_slice() {
        [] => String::new(),
        ["help", ..] => format!(
            "The following commands are valid at this level:\n{}",
            help()
        ),
        ["show", "stat", args @ ..] => match parse_filter(args) {
            Err(answer) => answer,
            Ok(mut filter) => {
                filter.hide_legends = level == Level::User;
                match &filter.proxy {
                    Some(px) if !registry.knows_proxy(px) => "No such proxy.\n\n".into(),
                    _ => registry.show_stat(&filter),
                }
            }
        },
        ["show", "backend", ..] => show_backend(registry),
        ["show", "sess", ..] => match &registry.info {
            Some(info) => show_sess(&info.process.sessions),
            None => "\n".into(),
        },
        ["show", "info", args @ ..] => match &registry.info {
            Some(_) if args.iter().any(|a| matches!(*a, "desc" | "float")) => {
                "'show info desc|float' is not implemented yet.\n\n".into()
            }
            Some(info) if args.contains(&"json") => typed::info_json(&info.fields(registry)),
            Some(info) if args.contains(&"typed") => typed::info_typed(&info.fields(registry)),
            Some(info) => info.render(registry),
            None => "\n".into(),
        },
        ["clear", "counters", "all", ..] => admin(level, || {
            registry.clear_all();
            "\n".into()
        }),
        ["clear", "counters", ..] => operator(level, || {
            registry.clear_max();
            "\n".into()
        }),
        ["show", "servers", "state", rest @ ..] => {
            show_servers_state(registry, rest.first().copied())
        }
        ["disable", "server", target, ..] => admin(level, || {
            with_server(registry, target, |b, s| {
                notices.extend(status::set_admin(b, s, Admin::Maint));
                "\n".to_string()
            })
        }),
        ["enable", "server", target, ..] => admin(level, || {
            with_server(registry, target, |b, s| {
                notices.extend(status::set_admin(b, s, Admin::Ready));
                "\n".to_string()
            })
        }),
        ["disable", "health", target, ..] => admin(level, || {
            with_server(registry, target, |_, s| {
                status::set_checks(s, false);
                "\n".to_string()
            })
        }),
        ["enable", "health", target, ..] => admin(level, || {
            with_server(registry, target, |_, s| {
                status::set_checks(s, true);
                "\n".to_string()
            })
        }),
        ["shutdown", "sessions", "server", target, ..] => admin(level, || {
            with_server(registry, target, |_, s| {
                status::kill_sessions(s);
                "\n".to_string()
            })
        }),
        ["disable", "server"]
        | ["enable", "server"]
        | ["get", "weight"]
        | ["shutdown", "sessions", "server"]
        | ["disable", "health"]
        | ["enable", "health"] => "Require 'backend/server'.\n\n".into(),
        ["get", "weight", target, ..] => with_server(registry, target, |_, s| {
            format!("{} (initial {})\n\n", s.weight(), s.config.weight)
        }),
        ["set", "weight", target, rest @ ..] | ["set", "server", target, "weight", rest @ ..] => {
            admin(level, || {
                with_server(registry, target, |b, s| {
                    set_weight(b, s, rest.first().copied())
                })
            })
        }
        ["set", "server", target, "state", rest @ ..] => admin(level, || {
            with_server(registry, target, |b, s| {
                let request = match rest.first().copied() {
                    Some("ready") => Admin::Ready,
                    Some("drain") => Admin::Drain,
                    Some("maint") => Admin::Maint,
                    _ => {
                        return "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n"
                            .into()
                    }
                };
                notices.extend(status::set_admin(b, s, request));
                "\n".into()
            })
        }),
        ["set", "server", target, "health", rest @ ..] => admin(level, || {
            with_server(registry, target, |b, s| {
                let to = match rest.first().copied() {
                    Some("up") => Forced::Up,
                    Some("stopping") => Forced::Stopping,
                    Some("down") => Forced::Down,
                    _ => {
                        return "'set server <srv> health' expects 'up', 'stopping', or 'down'.\n\n"
                            .into()
                    }
                };
                notices.extend(status::force(b, s, to, "changed from CLI"));
                "\n".into()
            })
        }),
        _ => format!(
            "Unknown command, but maybe one of the following ones is a better match:\n{}",
            help()
        ),
    }
}

/// `show backend`: the proxies with a backend side, in declaration order.
fn show_backend(registry: &Registry) -> String {
    let mut out = String::from("# name\n");
    for p in registry.proxies.iter().filter(|p| p.backend.is_some()) {
        out.push_str(&p.name);
        out.push('\n');
    }
    out.push('\n');
    out
}

/// The columns of `show servers state` (format version 1), which is also
/// the format of HAProxy's `server-state-file`.
const SERVERS_STATE_HEADER: &str = "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port";

/// `show servers state [<backend>]`.
fn show_servers_state(registry: &Registry, only: Option<&str>) -> String {
    let backends: Vec<&Backend> = match only {
        Some(name) => match registry.backend(name) {
            Some(b) => vec![b],
            None => return "Can't find backend.\n\n".into(),
        },
        None => registry
            .proxies
            .iter()
            .filter_map(|p| p.backend.as_deref())
            .collect(),
    };
    let mut out = format!("1\n{SERVERS_STATE_HEADER}\n");
    for b in backends {
        for s in &b.servers {
            out.push_str(&server_state_line(b, s));
            out.push('\n');
        }
    }
    out.push('\n');
    out
}

/// One server's line; the numbers are HAProxy's enums and flags
/// (srv_state, srv_admin, healthcheck_status, chk_result, CHK_ST_*).
fn server_state_line(b: &Backend, s: &ServerState) -> String {
    let c = &s.config;
    // SRV_ST_STOPPED, SRV_ST_STARTING (warming up), SRV_ST_RUNNING,
    // SRV_ST_STOPPING.
    let op_state = match (s.is_up() && !s.in_maint(), s.warming_for()) {
        (false, _) => 0,
        (true, _) if s.is_stopping() => 3,
        (true, Some(_)) => 1,
        (true, None) => 2,
    };
    let admin =
        u8::from(s.in_maint()) | (u8::from(c.disabled) << 2) | (u8::from(s.is_draining()) << 3);
    let checks = s.checks.lock().expect("checks lock").clone();
    let (status, mut result) = check_codes(checks.status);
    if checks.running {
        result = 0; // CHK_RES_UNKNOWN: HAProxy forgets it when a check starts
    }
    // CHK_ST_INPROGRESS (a check under way), CHK_ST_CONFIGURED,
    // CHK_ST_ENABLED (not after `disable health`), CHK_ST_PAUSED (in
    // maintenance).
    let check_state = if c.check.enabled && !b.disabled {
        u8::from(checks.running)
            | 0x2
            | if s.checks_enabled() { 0x4 } else { 0 }
            | if s.in_maint() { 0x8 } else { 0 }
    } else {
        0
    };
    let port = match c.port {
        config::ServerPort::Fixed(p) => p,
        _ => 0,
    };
    let check_addr = c.check.addr.map_or("-".to_string(), |a| a.to_string());
    format!(
        "{} {} {} {} {} {op_state} {admin} {} {} {} {status} {result} {} {check_state} 0 {} {} {} {port} - 0 {} {check_addr} {check_addr} {}",
        b.iid,
        b.name,
        s.id,
        s.name(),
        c.ip,
        s.weight(),
        c.weight,
        s.availability.lock().expect("availability lock").last_change_secs(),
        s.health.lock().expect("health lock").value(),
        u8::from(b.forced_id),
        u8::from(c.id.is_some()),
        c.fqdn.as_deref().unwrap_or("-"),
        c.check.port.unwrap_or(0),
        c.check.port.unwrap_or(0),
    )
}

/// The last check's status as HAProxy's healthcheck_status number, with
/// the check result it implies (CHK_RES_*). No check yet: `INI`.
fn check_codes(status: Option<CheckStatus>) -> (u8, u8) {
    let status = status.unwrap_or(CheckStatus::Ini);
    (status.value(), status.result() as u8)
}

/// `<w>` (0..=256) or `<w>%` of the initial weight, as HAProxy takes it.
fn set_weight(b: &Backend, s: &ServerState, arg: Option<&str>) -> String {
    let Some(arg) = arg else {
        return "Require <weight> or <weight%>.\n\n".into();
    };
    let initial = s.config.weight;
    let weight = match arg.strip_suffix('%') {
        Some(pct) => match pct.parse::<i64>() {
            Ok(p) if p < 0 => return "Relative weight must be positive.\n\n".into(),
            Ok(p) if p > 100 => {
                return "Relative weight can only be set between 0 and 100% inclusive.\n\n".into()
            }
            Ok(p) => (i64::from(initial) * p / 100) as u32,
            Err(_) => return "Require <weight> or <weight%>.\n\n".into(),
        },
        None => match arg.parse::<i64>() {
            Ok(w) if (0..=256).contains(&w) => w as u32,
            _ => return "Absolute weight can only be between 0 and 256 inclusive.\n\n".into(),
        },
    };
    if b.has_static_weights() && weight != 0 && weight != initial {
        return "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n\n".into();
    }
    status::set_weight(b, s, weight);
    "\n".into()
}

fn operator(level: Level, run: impl FnOnce() -> String) -> String {
    if level < Level::Operator {
        "Permission denied\n\n".into()
    } else {
        run()
    }
}

fn admin(level: Level, run: impl FnOnce() -> String) -> String {
    if level < Level::Admin {
        "Permission denied\n\n".into()
    } else {
        run()
    }
}

fn with_server(
    registry: &Registry,
    target: &str,
    f: impl FnOnce(&Backend, &ServerState) -> String,
) -> String {
    let (be, srv) = target.split_once('/').unwrap_or((target, ""));
    let Some(backend) = registry.backend(be) else {
        return "No such backend.\n\n".into();
    };
    match backend.servers.iter().find(|s| s.name() == srv) {
        Some(s) => f(backend, s),
        None => "No such server.\n\n".into(),
    }
}

/// `show sess`: a line per live stream, oldest first, with HAProxy's
/// first fields (`0x1: proto=tcpv4 src=127.0.0.1:40000 fe=web be=app
/// srv=s1 ts=00 age=3s`); the scheduler's internals HAProxy adds after
/// them (flags, buffers, file descriptors) have no counterpart.
fn show_sess(table: &sessions::Table) -> String {
    let mut out = String::new();
    for s in table.dump() {
        let src = s
            .src
            .map_or_else(|| "unix:1".to_string(), |a| a.to_string());
        out.push_str(&format!(
            "0x{:x}: proto={} src={src} fe={} be={} srv={} ts=00 epoch={} age={}\n",
            s.id,
            s.proto,
            s.frontend,
            s.backend.as_deref().unwrap_or("<NONE>"),
            s.server.as_deref().unwrap_or("<none>"),
            // C's %#x: 0, then 0x1...
            if s.epoch == 0 {
                "0".to_string()
            } else {
                format!("{:#x}", s.epoch)
            },
            human_secs(s.age_secs),
        ));
    }
    out.push('\n');
    out
}

/// HAProxy's parse: three words first are `<proxy> <type> <sid>` (atoi'd),
/// then options; words it does not know are skipped, as HAProxy does.
fn parse_filter(args: &[&str]) -> Result<Filter, String> {
    let mut f = Filter::default();
    let mut rest = args;
    if let [proxy, types, sid, tail @ ..] = args {
        if *proxy != "-1" {
            f.proxy = Some(proxy.to_string());
        }
        f.types = Some(atol(types)).filter(|t| *t != -1);
        f.sid = u32::try_from(atol(sid)).ok();
        rest = tail;
    }
    for word in rest {
        match *word {
            "no-maint" => f.hide_maint = true,
            "up" => f.hide_down = true,
            "typed" => f.format = Format::Typed,
            "json" => f.format = Format::Json,
            "desc" => return Err("'show stat desc' is not implemented yet.\n\n".into()),
            _ => {}
        }
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn live_streams_are_listed_until_they_end() {
        let table = sessions::Table::default();
        let a = table.register(
            crate::net::Family::Inet4,
            Some("127.0.0.1:40000".parse().unwrap()),
            "web",
            Default::default(),
        );
        a.entry.set_target("app", Some("s1"));
        tokio::time::sleep(std::time::Duration::from_secs(65)).await;
        let b = table.register(
            crate::net::Family::Inet6,
            Some("[::1]:40001".parse().unwrap()),
            "web",
            Default::default(),
        );
        assert_eq!(
            show_sess(&table),
            "0x1: proto=tcpv4 src=127.0.0.1:40000 fe=web be=app srv=s1 ts=00 epoch=0 age=1m5s\n\
             0x2: proto=tcpv6 src=[::1]:40001 fe=web be=<NONE> srv=<none> ts=00 epoch=0 age=0s\n\n"
        );
        // Born after a dump: the next epoch.
        let c = table.register(crate::net::Family::Unix, None, "GLOBAL", Default::default());
        let shown = show_sess(&table);
        assert!(shown.contains("0x3: proto=unix_stream src=unix:1 fe=GLOBAL be=<NONE> srv=<none> ts=00 epoch=0x1 age=0s"), "{shown}");
        drop(c);
        drop(a);
        drop(b);
        assert_eq!(show_sess(&table), "\n");
    }

    #[test]
    fn filters_are_read_as_haproxy_takes_them() {
        assert_eq!(parse_filter(&[]), Ok(Filter::default()));
        assert_eq!(
            parse_filter(&["be", "4", "-1", "up"]),
            Ok(Filter {
                proxy: Some("be".into()),
                types: Some(4),
                sid: None,
                hide_down: true,
                ..Filter::default()
            })
        );
        assert_eq!(parse_filter(&["-1", "-1", "2"]).unwrap().sid, Some(2));
        // atoi: a type that is not a number selects nothing.
        assert_eq!(parse_filter(&["-1", "x", "-1"]).unwrap().types, Some(0));
        assert!(parse_filter(&["no-maint"]).unwrap().hide_maint);
        assert_eq!(parse_filter(&["typed"]).unwrap().format, Format::Typed);
        assert_eq!(parse_filter(&["json"]).unwrap().format, Format::Json);
        assert!(parse_filter(&["desc"]).is_err());
    }

    #[test]
    fn help_aligns_like_haproxy() {
        assert!(help().contains(
            "  get weight <bk>/<srv>                   : report a server's current weight\n"
        ));
    }
}
