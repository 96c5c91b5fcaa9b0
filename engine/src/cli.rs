//! HAProxy's command line, parsed as HAProxy parses it.
//!
//! HAProxy's flags are not GNU-style: `-sf` and `-st` take every following
//! argument as a pid, `-vv`, `-db`, `-cc` are whole flags, not bundles. A
//! derive-based parser cannot express that, so this is a small hand-written
//! one over a table of flags.

use std::path::PathBuf;

/// What the command line asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// `-f`: files or directories, in order.
    pub files: Vec<PathBuf>,
    /// `-c`: check the configuration and exit.
    pub check_only: bool,
    /// `-cc <condition>`: evaluate a condition and exit with its value.
    pub condition: Option<String>,
    /// `-d`: debug mode (foreground, verbose).
    pub debug: bool,
    /// `-db`: stay in the foreground even if the config says `daemon`.
    pub no_background: bool,
    /// `-D`: become a daemon.
    pub daemon: bool,
    /// `-p <file>`: write the pid there.
    pub pidfile: Option<PathBuf>,
    /// `-v` (1) or `-vv` (2).
    pub version: u8,
    /// `-V`: verbose.
    pub verbose: bool,
    /// `-q`: quiet.
    pub quiet: bool,
    /// `-n <n>`: global maxconn.
    pub maxconn: Option<u32>,
    /// `-N <n>`: default maxconn of proxies.
    pub maxpconn: Option<u32>,
    /// `-sf <pid>...`: ask these processes to finish (SIGUSR1) once we listen.
    pub finish_pids: Vec<i32>,
    /// `-st <pid>...`: terminate these processes (SIGTERM) once we listen.
    pub terminate_pids: Vec<i32>,
    /// `-L <name>`: the local peer name (`HAPROXY_LOCALPEER`), the host's
    /// name without it.
    pub local_peer: Option<String>,
    /// `-W`: master-worker mode; `-Ws` also tells systemd.
    pub master_worker: bool,
    pub systemd: bool,
    /// `-S <addr>[,<options>]`: the master CLI's listeners.
    pub master_cli: Vec<String>,
    /// `-x <socket>`: take the listening sockets of the process serving
    /// that stats socket (`expose-fd listeners`).
    pub takeover: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UsageError {
    #[error("unknown option '{0}'")]
    Unknown(String),
    #[error("option '{0}' expects an argument")]
    MissingValue(String),
    #[error("option '{flag}' expects a number, not '{value}'")]
    NotANumber { flag: String, value: String },
    #[error("'{0}' is not implemented yet")]
    NotImplemented(String),
    #[error("no configuration file given (use -f)")]
    NoConfig,
}

/// The usage text, printed with every usage error, in HAProxy's layout.
pub const USAGE: &str = "\
Usage : engine [-f <cfgfile|cfgdir>]* [ -vdVD ] [ -n <maxconn> ] [ -N <maxpconn> ]
        [ -p <pidfile> ] [ -c ] [ -cc <condition> ] [ -sf|-st <pid>* ]
        [ -W | -Ws ] [ -S <master-socket>[,<bind options>...] ] [ -L <name> ]
        [ -x <unix_socket> ]
        -v displays version ; -vv shows known build options.
        -d enters debug mode ; -db only disables background mode.
        -V enters verbose mode (disables quiet mode)
        -D goes daemon ; -p writes the pid to <pidfile>
        -q quiet mode : don't display messages
        -c check mode : only check config files and exit
        -cc check condition : evaluate a condition and exit
        -n sets the maximum total # of connections
        -N sets the default, per-proxy maximum # of connections
        -sf/-st [pid ]* finishes/terminates old pids.
        -W master-worker mode ; -Ws also notifies systemd.
        -S binds the master CLI socket.
        -L sets the local peer name.
        -x get listening sockets from a unix socket
";

/// Parses the arguments after the program name.
pub fn parse<I, S>(args: I) -> Result<Options, UsageError>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let args: Vec<String> = args.into_iter().map(Into::into).collect();
    let mut o = Options::default();
    let mut i = 0;
    while i < args.len() {
        let flag = args[i].as_str();
        let mut value = || -> Result<String, UsageError> {
            i += 1;
            args.get(i)
                .cloned()
                .ok_or_else(|| UsageError::MissingValue(flag.to_string()))
        };
        match flag {
            "-f" => o.files.push(PathBuf::from(value()?)),
            "-c" => o.check_only = true,
            "-cc" => o.condition = Some(value()?),
            "-d" => o.debug = true,
            "-db" => o.no_background = true,
            "-D" => o.daemon = true,
            "-p" => o.pidfile = Some(PathBuf::from(value()?)),
            "-v" => o.version = o.version.max(1),
            "-vv" => o.version = 2,
            "-V" => o.verbose = true,
            "-q" => o.quiet = true,
            "-n" => o.maxconn = Some(number(flag, &value()?)?),
            "-N" => o.maxpconn = Some(number(flag, &value()?)?),
            "-sf" | "-st" => {
                // Like HAProxy: every following argument that is a pid.
                let mut pids = vec![];
                while let Some(p) = args.get(i + 1).and_then(|a| a.parse::<i32>().ok()) {
                    pids.push(p);
                    i += 1;
                }
                if flag == "-sf" {
                    o.finish_pids.extend(pids);
                } else {
                    o.terminate_pids.extend(pids);
                }
            }
            "-L" => o.local_peer = Some(value()?),
            "-W" => o.master_worker = true,
            "-Ws" => {
                o.master_worker = true;
                o.systemd = true;
            }
            "-S" => o.master_cli.push(value()?),
            "-x" => o.takeover = Some(PathBuf::from(value()?)),
            "-C" | "-m" => return Err(UsageError::NotImplemented(flag.to_string())),
            _ => return Err(UsageError::Unknown(flag.to_string())),
        }
        i += 1;
    }
    if o.files.is_empty() && o.version == 0 && o.condition.is_none() {
        return Err(UsageError::NoConfig);
    }
    Ok(o)
}

fn number(flag: &str, value: &str) -> Result<u32, UsageError> {
    value.parse().map_err(|_| UsageError::NotANumber {
        flag: flag.to_string(),
        value: value.to_string(),
    })
}

/// The version this engine claims for `-cc version_atleast(...)`: the
/// HAProxy behaviour it reproduces.
pub const COMPAT_VERSION: &str = "2.6";

/// Evaluates a `-cc` condition as HAProxy's conditional blocks do:
/// `defined(VAR)`, `streq(a,b)`, `strneq(a,b)`, `version_atleast(v)`,
/// `version_before(v)`, `feature(f)`, and the constants `1`/`0`, with `!`
/// for negation. Returns None for a condition it cannot read.
pub fn eval_condition(cond: &str, env: &dyn Fn(&str) -> Option<String>) -> Option<bool> {
    let cond = cond.trim();
    if let Some(rest) = cond.strip_prefix('!') {
        return eval_condition(rest, env).map(|b| !b);
    }
    match cond {
        "1" => return Some(true),
        "0" | "" => return Some(false),
        _ => {}
    }
    let open = cond.find('(')?;
    let name = &cond[..open];
    let inner = cond[open + 1..].strip_suffix(')')?;
    let args: Vec<&str> = inner.split(',').map(str::trim).collect();
    match (name, args.as_slice()) {
        ("defined", [var]) => Some(env(var).is_some()),
        ("streq", [a, b]) => Some(a == b),
        ("strneq", [a, b]) => Some(a != b),
        ("version_atleast", [v]) => {
            Some(version_cmp(COMPAT_VERSION, v)? >= std::cmp::Ordering::Equal)
        }
        ("version_before", [v]) => {
            Some(version_cmp(COMPAT_VERSION, v)? == std::cmp::Ordering::Less)
        }
        // No optional build feature (OPENSSL, LUA, ...) is compiled in.
        ("feature", [_]) => Some(false),
        _ => None,
    }
}

fn version_cmp(ours: &str, theirs: &str) -> Option<std::cmp::Ordering> {
    let parse =
        |v: &str| -> Option<Vec<u32>> { v.split(['.', '-']).map(|p| p.parse().ok()).collect() };
    let (a, b) = (parse(ours)?, parse(theirs)?);
    let len = a.len().max(b.len());
    let pad = |v: Vec<u32>| {
        v.into_iter()
            .chain(std::iter::repeat(0))
            .take(len)
            .collect::<Vec<_>>()
    };
    Some(pad(a).cmp(&pad(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haproxy_style_flags() {
        let o = parse(["-f", "a.cfg", "-f", "conf.d", "-c", "-q"]).unwrap();
        assert_eq!(o.files, [PathBuf::from("a.cfg"), PathBuf::from("conf.d")]);
        assert!(o.check_only && o.quiet);
    }

    #[test]
    fn sf_takes_every_following_pid() {
        let o = parse(["-f", "a.cfg", "-p", "/run/e.pid", "-sf", "12", "34"]).unwrap();
        assert_eq!(o.finish_pids, [12, 34]);
        assert_eq!(o.pidfile, Some(PathBuf::from("/run/e.pid")));
    }

    #[test]
    fn vv_is_one_flag() {
        assert_eq!(parse(["-vv"]).unwrap().version, 2);
        assert_eq!(parse(["-v"]).unwrap().version, 1);
    }

    #[test]
    fn usage_errors_name_the_flag() {
        assert_eq!(parse(["-z"]), Err(UsageError::Unknown("-z".into())));
        assert_eq!(parse(["-f"]), Err(UsageError::MissingValue("-f".into())));
        assert_eq!(parse(["-c"]), Err(UsageError::NoConfig));
        assert!(matches!(
            parse(["-f", "x", "-n", "lots"]),
            Err(UsageError::NotANumber { .. })
        ));
    }

    #[test]
    fn conditions() {
        let env = |v: &str| (v == "HOME").then(|| "/root".to_string());
        assert_eq!(eval_condition("defined(HOME)", &env), Some(true));
        assert_eq!(eval_condition("!defined(NOPE)", &env), Some(true));
        assert_eq!(eval_condition("streq(a,b)", &env), Some(false));
        assert_eq!(eval_condition("version_atleast(2.4)", &env), Some(true));
        assert_eq!(eval_condition("version_atleast(2.8)", &env), Some(false));
        assert_eq!(eval_condition("version_before(3.0)", &env), Some(true));
        assert_eq!(eval_condition("nonsense", &env), None);
    }
}
