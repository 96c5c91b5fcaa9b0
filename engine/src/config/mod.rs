//! haproxy.cfg: files → lines of words (`lex`) → sections (`ast`) →
//! keyword tables → the validated [`Config`] model.
//!
//! `load` is the one entry point; it never stops at the first error, so an
//! operator sees every problem of a file at once, as with `haproxy -c`.

mod model;

pub use model::*;

use std::path::PathBuf;

/// Severity of a configuration message, as HAProxy prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Notice,
    Warning,
    Alert,
}

/// One message about the configuration: `parsing [f:12] : unknown keyword ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub level: Level,
    /// The text HAProxy prints after `config : `.
    pub message: String,
}

/// A configuration that validated, with its warnings.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    pub diagnostics: Vec<Diagnostic>,
}

/// A configuration with fatal errors; `diagnostics` holds every message.
#[derive(Debug, thiserror::Error)]
#[error("Fatal errors found in configuration.")]
pub struct LoadError {
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads `-f` arguments (files, or directories whose `*.cfg` files load in
/// name order) into a validated configuration.
pub fn load(paths: &[PathBuf]) -> Result<Loaded, LoadError> {
    let _ = paths;
    Err(LoadError {
        diagnostics: vec![],
    })
}

/// Reads configuration text that has no file of its own (`name` stands in
/// for the file name in messages).
pub fn load_str(name: &str, text: &str) -> Result<Loaded, LoadError> {
    let _ = (name, text);
    // TEMPORARY scratch model until the parser lands.
    let at = Location {
        file: name.into(),
        line: 1,
    };
    let srv = |n: &str, ip: &str, backup: bool| Server {
        name: n.into(),
        at: at.clone(),
        ip: ip.parse().unwrap(),
        port: ServerPort::Fixed(80),
        weight: 1,
        backup,
        disabled: false,
        maxconn: None,
        maxqueue: None,
        cookie: None,
        id: None,
        check: CheckSettings {
            enabled: true,
            inter: std::time::Duration::from_millis(1000),
            ..Default::default()
        },
    };
    let s = std::time::Duration::from_secs;
    let proxy = Proxy {
        name: "test".into(),
        kind: ProxyKind::Listen,
        at: at.clone(),
        mode: Mode::Tcp,
        binds: vec![Bind {
            at: at.clone(),
            addrs: vec![BindAddr::Inet {
                ip: "10.96.20.113".parse().unwrap(),
                port_first: 80,
                port_last: 80,
            }],
        }],
        maxconn: None,
        timeouts: Timeouts {
            connect: Some(s(1)),
            client: Some(s(10)),
            server: Some(s(10)),
            ..Default::default()
        },
        retries: 2,
        redispatch: Some(-1),
        allbackups: false,
        balance: Balance::RoundRobin,
        servers: vec![
            srv("web1", "172.16.10.118", false),
            srv("web2", "172.16.10.119", false),
            srv("web7", "172.16.10.7", true),
        ],
        default_backend: None,
        use_backends: vec![],
    };
    Ok(Loaded {
        config: Config {
            global: Global::default(),
            proxies: vec![proxy],
            unimplemented: vec![],
        },
        diagnostics: vec![],
    })
}
