//! The runtime API on `stats socket`: one line of commands per connection
//! (several separated by `;`), answered as HAProxy 2.6 answers them, then
//! the connection closes.
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
//! - `set server <b>/<s> state ready|drain|maint` (level admin).
//!
//! Errors are HAProxy's texts: `No such backend.`, `No such server.`,
//! `Permission denied`; any other command gets HAProxy's "Unknown command"
//! answer with this list: no command goes without a word.

use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::backend::Backend;
use crate::net::{BoxStream, Listener};
use crate::server::ServerState;
use crate::stats::Registry;

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
        "disable server (DEPRECATED)",
        "disable a server for maintenance (use 'set server' instead)",
    ),
    (
        "enable server  (DEPRECATED)",
        "enable a disabled server (use 'set server' instead)",
    ),
    ("get weight <bk>/<srv>", "report a server's current weight"),
    (
        "set server <bk>/<srv> [opts]",
        "change a server's state or weight",
    ),
    (
        "set weight <bk>/<srv>  (DEPRECATED)",
        "change a server's weight (use 'set server' instead)",
    ),
    ("help [<command>]", "list matching or all commands"),
    (
        "show stat [<px>|<iid> <type> <sid>]",
        "report counters for each proxy and server",
    ),
];

fn help() -> String {
    let mut out = String::new();
    for (cmd, what) in COMMANDS {
        out.push_str(&format!("  {cmd:<39} : {what}\n"));
    }
    out
}

/// Serves one socket until the listener fails.
pub async fn serve(listener: Box<dyn Listener>, registry: Arc<Registry>, level: Level) {
    loop {
        let Ok(accepted) = listener.accept().await else {
            continue;
        };
        let registry = registry.clone();
        tokio::spawn(async move { session(accepted.stream, &registry, level).await });
    }
}

async fn session(stream: BoxStream, registry: &Registry, level: Level) {
    let (rd, mut wr) = tokio::io::split(stream);
    let mut line = String::new();
    let mut reader = BufReader::new(tokio::io::AsyncReadExt::take(rd, MAX_LINE_BYTES));
    if reader.read_line(&mut line).await.is_err() {
        return;
    }
    let mut out = String::new();
    for command in line.trim_end_matches(['\r', '\n']).split(';') {
        out.push_str(&execute(command.trim(), registry, level));
    }
    let _ = wr.write_all(out.as_bytes()).await;
    let _ = wr.shutdown().await;
}

/// Runs one command and returns its answer.
pub fn execute(command: &str, registry: &Registry, level: Level) -> String {
    let words: Vec<&str> = command.split_whitespace().collect();
    match words.as_slice() {
        [] => String::new(),
        ["help", ..] => format!(
            "The following commands are valid at this level:\n{}",
            help()
        ),
        ["show", "stat", filter @ ..] => match filter.iter().find(|w| STAT_OPTIONS.contains(w)) {
            Some(option) => format!("'show stat {option}' is not implemented yet.\n\n"),
            None => registry.show_stat(&parse_filter(filter)),
        },
        ["disable", "server", target, ..] => admin(level, || {
            with_server(registry, target, |b, s| {
                b.set_server_maint(s, true);
                "\n".to_string()
            })
        }),
        ["enable", "server", target, ..] => admin(level, || {
            with_server(registry, target, |b, s| {
                b.set_server_maint(s, false);
                "\n".to_string()
            })
        }),
        ["disable", "server"] | ["enable", "server"] | ["get", "weight"] => {
            "Require 'backend/server'.\n\n".into()
        }
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
            with_server(registry, target, |b, s| match rest.first().copied() {
                Some("ready") => {
                    b.set_server_maint(s, false);
                    b.set_server_drain(s, false);
                    "\n".into()
                }
                Some("drain") => {
                    b.set_server_maint(s, false);
                    b.set_server_drain(s, true);
                    "\n".into()
                }
                Some("maint") => {
                    b.set_server_maint(s, true);
                    "\n".into()
                }
                _ => "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n".into(),
            })
        }),
        _ => format!(
            "Unknown command, but maybe one of the following ones is a better match:\n{}",
            help()
        ),
    }
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
    b.set_server_weight(s, weight);
    "\n".into()
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

/// `show stat` filters: which proxy (name or id), which line types, which
/// server id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub proxy: Option<String>,
    /// Bits: 1 frontends, 2 backends, 4 servers. None: all.
    pub types: Option<i64>,
    pub sid: Option<u32>,
}

/// The output options HAProxy 2.6 knows for `show stat`; none is built yet.
const STAT_OPTIONS: &[&str] = &["desc", "json", "no-maint", "typed", "up"];

fn parse_filter(args: &[&str]) -> Filter {
    let mut f = Filter::default();
    if let [proxy, types, sid, ..] = args {
        if *proxy != "-1" {
            f.proxy = Some(proxy.to_string());
        }
        f.types = types.parse().ok().filter(|t: &i64| *t != -1);
        f.sid = sid
            .parse::<i64>()
            .ok()
            .filter(|s| *s >= 0)
            .map(|s| s as u32);
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_read_as_haproxy_takes_them() {
        assert_eq!(parse_filter(&[]), Filter::default());
        assert_eq!(
            parse_filter(&["be", "4", "-1"]),
            Filter {
                proxy: Some("be".into()),
                types: Some(4),
                sid: None
            }
        );
        assert_eq!(parse_filter(&["-1", "-1", "2"]).sid, Some(2));
    }

    #[test]
    fn help_aligns_like_haproxy() {
        assert!(help().contains(
            "  get weight <bk>/<srv>                   : report a server's current weight\n"
        ));
    }
}
