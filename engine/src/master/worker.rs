//! A worker as its master starts it: the same program and command line,
//! with its listening sockets, its channel to the master and the
//! servers' states carried over named in the environment.

use std::collections::{BTreeMap, VecDeque};
use std::io::{Read, Seek, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::net::fdpass;

/// The worker's inheritance: `channel=<fd>`, `state=<fd>`, then one
/// `listener=<fd> <frontend>` or `stats=<fd>` per socket, space-separated
/// lines.
const ENV_WORKER: &str = "ENGINE_WORKER";

/// Starts a worker: this program with this command line, the sockets of
/// `handed` (by frontend, None for stats sockets, in the order the
/// configuration binds them), `channel` and the carried states. Returns
/// its pid.
pub fn spawn(
    handed: &[(Option<String>, OwnedFd)],
    channel: &OwnedFd,
    carried: Option<&str>,
) -> std::io::Result<u32> {
    use std::os::unix::process::CommandExt;
    let mut lines = vec![format!("channel={}", channel.as_raw_fd())];
    let mut keep: Vec<RawFd> = vec![channel.as_raw_fd()];
    // The states go through an unlinked file: no size limit, nothing left
    // behind.
    let state = match carried {
        Some(text) => {
            let mut f = memfd()?;
            f.write_all(text.as_bytes())?;
            f.rewind()?;
            lines.push(format!("state={}", f.as_raw_fd()));
            keep.push(f.as_raw_fd());
            Some(f)
        }
        None => None,
    };
    for (proxy, fd) in handed {
        keep.push(fd.as_raw_fd());
        lines.push(match proxy {
            Some(name) => format!("listener={} {name}", fd.as_raw_fd()),
            None => format!("stats={}", fd.as_raw_fd()),
        });
    }
    let program = std::env::current_exe()?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut command = std::process::Command::new(program);
    command
        .args(args)
        .env(ENV_WORKER, lines.join("\n"))
        .env_remove("NOTIFY_SOCKET");
    // SAFETY: the closure runs in the child between fork and exec and
    // only calls fcntl, which is async-signal-safe.
    unsafe {
        command.pre_exec(move || {
            keep.iter()
                .try_for_each(|&fd| fdpass::close_on_exec(fd, false))
        });
    }
    let child = command.spawn()?;
    drop(state);
    // The master reaps its workers itself (waitpid on SIGCHLD).
    Ok(child.id())
}

fn memfd() -> std::io::Result<std::fs::File> {
    // SAFETY: memfd_create with a static NUL-terminated name.
    let fd = unsafe { libc::memfd_create(c"engine-servers-state".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a descriptor just created, owned here.
    Ok(unsafe { std::fs::File::from_raw_fd(fd) })
}

/// What a worker inherits from its master.
pub struct Inherited {
    /// The worker's end of its channel, until the worker takes it.
    pub channel: Option<OwnedFd>,
    /// The servers' states of the worker it replaces.
    pub carried: Option<String>,
    listeners: BTreeMap<String, VecDeque<OwnedFd>>,
    stats: VecDeque<OwnedFd>,
}

impl Inherited {
    /// Whether this process was started by a master as its worker.
    pub fn present() -> bool {
        std::env::var_os(ENV_WORKER).is_some()
    }

    /// Takes the inheritance out of the environment; None when this
    /// process is no worker or the value is not a master's.
    pub fn take() -> Option<Inherited> {
        let value = std::env::var(ENV_WORKER).ok()?;
        std::env::remove_var(ENV_WORKER);
        let mut channel = None;
        let mut carried = None;
        let mut listeners: BTreeMap<String, VecDeque<OwnedFd>> = BTreeMap::new();
        let mut stats = VecDeque::new();
        for line in value.lines() {
            let (key, rest) = line.split_once('=')?;
            let (fd, name) = rest.split_once(' ').unwrap_or((rest, ""));
            let fd: RawFd = fd.parse().ok()?;
            // SAFETY: the master left this descriptor open for this
            // process, and named it once.
            let fd = unsafe { fdpass::inherit(fd) }.ok()?;
            match key {
                "channel" => channel = Some(fd),
                "state" => {
                    let mut text = String::new();
                    std::fs::File::from(fd).read_to_string(&mut text).ok()?;
                    carried = Some(text);
                }
                "listener" => listeners.entry(name.to_string()).or_default().push_back(fd),
                "stats" => stats.push_back(fd),
                _ => return None,
            }
        }
        Some(Inherited {
            channel: Some(channel?),
            carried,
            listeners,
            stats,
        })
    }

    /// The next socket for what the configuration binds, in its order.
    pub fn socket(&mut self, proxy: Option<&str>) -> Option<OwnedFd> {
        match proxy {
            Some(name) => self.listeners.get_mut(name)?.pop_front(),
            None => self.stats.pop_front(),
        }
    }
}
