//! The master CLI (`-S`), as HAProxy 2.6's: `show proc`, `reload`, and
//! `@<relative pid>`, `@!<pid>` or `@master` before a command to send it
//! to a worker (or to the master). Unlike a worker's runtime API, the
//! connection stays open for every line the client sends.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

use super::{ask, Request, State};
use crate::api::usage::{self, Keyword};
use crate::net::Listener;

/// The master's commands, as HAProxy 2.6 registers them (the order
/// breaks ties between equally close candidates).
const COMMANDS: &[Keyword] = &[
    kw(&["@<relative pid>"], "@<relative pid>                         : send a command to the <relative pid> process"),
    kw(&["@!<pid>"], "@!<pid>                                 : send a command to the <pid> process"),
    kw(&["@master"], "@master                                 : send a command to the master process"),
    kw(&["show", "proc"], "show proc                               : show processes status"),
    kw(&["reload"], "reload                                  : reload haproxy"),
    kw(&["show", "cli", "sockets"], "show cli sockets                        : dump list of cli sockets"),
    kw(&["show", "cli", "level"], "show cli level                          : display the level of the current CLI session"),
    kw(&["operator"], "operator                                : lower the level of the current CLI session to operator"),
    kw(&["user"], "user                                    : lower the level of the current CLI session to user"),
    kw(&["show", "version"], "show version                            : show version of the current process"),
];

const fn kw(words: &'static [&'static str], usage: &'static str) -> Keyword {
    Keyword { words, usage }
}

/// HAProxy's answer to `help [<words>]` or to a command it does not know.
fn usage(words: &[&str]) -> String {
    let mut out = usage::message(COMMANDS, words);
    out.push('\n');
    out
}

/// Longest line a client may send.
const MAX_LINE: u64 = 16 * 1024;

/// HAProxy's MASTER proxy takes 10 connections at a time; more wait to
/// be accepted.
const MAXCONN: usize = 10;

/// Serves the master CLI's connections on `listener`.
pub(crate) async fn serve(
    listener: Box<dyn Listener>,
    state: Arc<Mutex<State>>,
    requests: mpsc::UnboundedSender<Request>,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAXCONN));
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let Ok(accepted) = listener.accept().await else {
            continue;
        };
        let (state, requests) = (state.clone(), requests.clone());
        tokio::spawn(async move {
            session(accepted.stream, state, requests).await;
            drop(slot);
        });
    }
}

/// Where a command goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Master,
    Worker(u32),
}

/// HAProxy's pcli_prefix_to_pid: `@`, `@master`, `@0` the master; `@1`
/// the current worker; `@!<pid>` a worker by pid.
fn target(prefix: &str, state: &State) -> Option<Target> {
    let rest = prefix.strip_prefix('@')?;
    if rest.is_empty() || rest == "master" {
        return Some(Target::Master);
    }
    if let Some(pid) = rest.strip_prefix('!') {
        let pid: u32 = pid.parse().ok()?;
        return state
            .procs
            .workers
            .iter()
            .any(|w| w.pid == pid)
            .then_some(Target::Worker(pid));
    }
    match rest.parse::<u32>().ok()? {
        0 => Some(Target::Master),
        1 => state.procs.current().map(|w| Target::Worker(w.pid)),
        _ => None,
    }
}

async fn session(
    stream: crate::net::BoxStream,
    state: Arc<Mutex<State>>,
    requests: mpsc::UnboundedSender<Request>,
) {
    let (rd, mut wr) = tokio::io::split(stream);
    let mut reader = BufReader::new(rd);
    let mut prompt = false;
    let mut default = Target::Master;
    loop {
        let mut line = String::new();
        let mut limited = tokio::io::AsyncReadExt::take(&mut reader, MAX_LINE);
        if !matches!(limited.read_line(&mut line).await, Ok(n) if n > 0) || !line.ends_with('\n') {
            break;
        }
        let mut out = String::new();
        let mut quit = false;
        let line = line.trim_end_matches(['\r', '\n']);
        if line.trim().is_empty() {
            out.push_str(&usage(&[]));
        }
        for command in line.split(';').map(str::trim).filter(|c| !c.is_empty()) {
            let mut words: Vec<&str> = command.split_whitespace().collect();
            let mut to = default;
            if words[0].starts_with('@') {
                let found = target(words[0], &state.lock().expect("master state"));
                match found {
                    None => {
                        out.push_str(&format!(
                            "Can't find the target PID matching the prefix '{}'\n",
                            words[0]
                        ));
                        // HAProxy closes the connection after this.
                        quit = true;
                        break;
                    }
                    Some(t) if words.len() == 1 => {
                        default = t;
                        continue;
                    }
                    Some(t) => {
                        to = t;
                        words.remove(0);
                    }
                }
            }
            match (to, words.as_slice()) {
                (_, ["prompt", ..]) => prompt = !prompt,
                (_, ["quit", ..]) => {
                    quit = true;
                    break;
                }
                (Target::Worker(pid), _) => {
                    let end = state
                        .lock()
                        .expect("master state")
                        .channels
                        .get(&pid)
                        .cloned();
                    if let Some(end) = end {
                        out.push_str(&ask(&end, &words.join(" ")).await.unwrap_or_default());
                    }
                }
                (Target::Master, words) => out.push_str(&master_command(words, &state, &requests)),
            }
        }
        if prompt && !quit {
            let failed = state.lock().expect("master state").procs.failed > 0;
            out.push_str(&match default {
                Target::Master if failed => "master[ReloadFailed]> ".to_string(),
                Target::Master => "master> ".to_string(),
                Target::Worker(pid) => format!("{pid}> "),
            });
        }
        if wr.write_all(out.as_bytes()).await.is_err() || quit {
            break;
        }
    }
    let _ = wr.shutdown().await;
}

fn master_command(
    words: &[&str],
    state: &Mutex<State>,
    requests: &mpsc::UnboundedSender<Request>,
) -> String {
    match words {
        ["help", ..] => usage(words),
        ["show", "proc", ..] => {
            let s = state.lock().expect("master state");
            s.procs
                .show(std::process::id(), super::wall_secs(), &s.version)
        }
        ["show", "version", ..] => {
            format!("{}\n", state.lock().expect("master state").version)
        }
        ["reload", ..] => {
            // The connection ends with the master's execution.
            let _ = requests.send(Request::Reload);
            String::new()
        }
        ["show", "cli", "level", ..] => "admin\n".into(),
        ["operator", ..] | ["user", ..] | ["show", "cli", "sockets", ..] => {
            format!("'{}' is not implemented yet.\n\n", words.join(" "))
        }
        _ => usage(words),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::master::procs::{Procs, Worker};

    fn state() -> State {
        State {
            procs: Procs {
                workers: vec![
                    Worker {
                        pid: 20,
                        channel: -1,
                        reloads: 1,
                        started: 0,
                        leaving: true,
                        version: "v".into(),
                    },
                    Worker {
                        pid: 30,
                        channel: -1,
                        reloads: 0,
                        started: 0,
                        leaving: false,
                        version: "v".into(),
                    },
                ],
                ..Procs::default()
            },
            channels: Default::default(),
            version: "v".into(),
        }
    }

    #[test]
    fn prefixes_name_processes_as_haproxy() {
        let s = state();
        assert_eq!(target("@", &s), Some(Target::Master));
        assert_eq!(target("@master", &s), Some(Target::Master));
        assert_eq!(target("@0", &s), Some(Target::Master));
        assert_eq!(target("@1", &s), Some(Target::Worker(30)));
        assert_eq!(target("@2", &s), None, "only @1 is relative");
        assert_eq!(target("@!20", &s), Some(Target::Worker(20)));
        assert_eq!(target("@!99", &s), None);
        assert_eq!(target("@!", &s), None);
    }

    #[test]
    fn help_is_laid_out_as_haproxy() {
        let help = usage(&["help"]);
        assert!(help.starts_with(
            "The following commands are valid at this level:\n  @!<pid>                                 : send a command to the <pid> process\n"
        ));
        assert!(help.ends_with("  quit                                    : disconnect\n\n"));
    }
}
