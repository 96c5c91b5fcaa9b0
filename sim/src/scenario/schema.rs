//! The schema of a scenario file: the serde types the YAML deserializes
//! into, their defaults, and what a run reads from them.
//!
//! ```yaml
//! name: failover
//! seed: 1
//! start: 2016-08-14T22:00:00Z   # the wall clock at virtual time 0
//! duration: 30s                 # virtual time the clients run
//! latency: 1ms                  # every message's transit time
//! links:                        # links that differ from the rest
//!   - { between: [proxy-1-1, web2], latency: 20ms, loss: 0.5% }
//! proxies:
//!   - name: proxy-1-1
//!     address: 10.96.20.113
//!     config: |                  # or config_file: path/to/haproxy.cfg
//!       listen test ...
//! servers:
//!   - name: web1
//!     address: 172.16.10.118
//!     port: 80                   # default 80
//!     reply: web1                # default: the server's name
//!     service_time: 5ms          # or { exponential: 5ms } (mean) or
//!                                # { lognormal: { median: 5ms, sigma: 0.5 } } or
//!                                # { empirical: [4ms, 5ms, 5ms, 40ms] } (measured)
//!     concurrency: 100           # connections (TCP) or requests (HTTP) worked
//!                                # on at once; others wait
//!     protocol: http             # default tcp (reply, then close)
//!     echo: true                 # answer with what was sent, not a reply
//!     check_port: 8080           # answers checks only (HAProxy's `check port`)
//!     check_path: /health        # its health page (http)
//! clients:
//!   - name: client
//!     address: 10.96.20.89
//!     target: 10.96.20.113:80
//!     every: 500ms               # one user: a connection, then this pause
//!     # or: users: 10 with think: 100ms (closed loop), or
//!     #     rate: 200/s with arrival: poisson|constant (open loop)
//!     send: "GET / HTTP/1.0\r\n\r\n"   # optional bytes to send first, or
//!     requests:                  # an HTTP client: each connection sends
//!       - { path: /php/x, headers: ["Host: www.test.com"] }   # the next one
//!       - { method: POST, path: /, headers: ["User-Agent: iPhone"], body: "a=1" }
//!     keep_alive: true           # users keep their connection (closed loop)
//!     cookies: true              # users keep and send back their cookies
//!     patience: 5s               # give up on a silent connection
//! syslog: 10.96.20.200           # optional collector on UDP 514
//! timeline:
//!   - { at: 3s, crash: web1 }    # silent death: connects hang
//!   - { at: 22s, restore: web1 } # the host's software restarts
//!   - { at: 5s, partition: [proxy-1-1, web2] }   # connects refused
//!   - { at: 9s, heal: [proxy-1-1, web2] }
//!   - { at: 10s, loss: { between: [proxy-1-1, web2], value: 100% } }  # black hole
//!   - { at: 12s, api: { proxy: proxy-1-1, command: "disable server test/web1" } }
//!   - { at: 15s, fail: { server: web2, mode: hang } }
//!     # refuse|hang|close|reset|slow|error|checks|none
//!   - { at: 18s, fail: { server: web2, mode: slow, delay: 2s } }
//!   - { at: 20s, latency: { between: [proxy-1-1, web1], value: 80ms } }
//!   - { at: 25s, load: { client: client, rate: 200/s } }  # open loop only
//!   - { at: 26s, reload: { proxy: proxy-1-1, config_file: v2.cfg } }
//!     # or config: | (inline); a new generation over the same listeners
//! expect:
//!   - { at: 9s, server: test/web1, state: DOWN }
//!   - { at: 9s, backend: test, state: UP }
//!   - { at: 9s, stat: test/web1, column: chkdown, value: "1" }
//!   - { at: 9s, proxy: proxy-1-1, backend: test, state: UP }  # that proxy's
//!   - { at: 27s, proxy: proxy-1-1, pid: 1001 }   # the generation serving
//! stats: [9s, 25s]               # show stat, in the transcript
//! outcome:                       # checked at the end
//!   - { client: client, max_failed: 0, max_p99: 50ms }
//!   - { client: browser, statuses: [200, 302] }   # HTTP: no other status
//! ```
//!
//! Times take HAProxy's units (us, ms, s, m, h, d). Unknown fields are
//! errors, so a typo never silently changes a scenario.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use serde::Deserialize;

/// A time with HAProxy's units, e.g. `500ms`, `3s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Time(pub Duration);

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        match engine::config::units::parse_time_ms(&text) {
            Ok(t) if t.trailing.is_none() => Ok(Time(t.duration())),
            _ => Err(serde::de::Error::custom(format!(
                "'{text}' is not a time (an integer with us, ms, s, m, h or d)"
            ))),
        }
    }
}

fn default_seed() -> u64 {
    1
}

fn default_start() -> String {
    "2016-08-14T22:00:00Z".to_string()
}

fn default_latency() -> Time {
    Time(Duration::from_millis(1))
}

fn default_port() -> u16 {
    80
}

/// How a client generates connections.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Load {
    Closed {
        users: u32,
        think: Duration,
    },
    Open {
        interval: Duration,
        arrival: Arrival,
    },
}

/// The pause of the default single user.
const DEFAULT_EVERY: Duration = Duration::from_millis(500);

fn default_patience() -> Time {
    Time(Duration::from_secs(5))
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// RFC 3339, the wall-clock time at virtual time 0.
    #[serde(default = "default_start")]
    pub start: String,
    /// How long the clients keep connecting.
    pub duration: Time,
    #[serde(default = "default_latency")]
    pub latency: Time,
    /// Links that differ from the rest: their own latency, lost packets.
    #[serde(default)]
    pub links: Vec<LinkSpec>,
    pub proxies: Vec<ProxySpec>,
    #[serde(default)]
    pub servers: Vec<ServerSpec>,
    #[serde(default)]
    pub clients: Vec<ClientSpec>,
    /// A syslog collector's address (UDP 514); its lines join the transcript.
    pub syslog: Option<IpAddr>,
    #[serde(default)]
    pub timeline: Vec<Event>,
    #[serde(default)]
    pub expect: Vec<Expectation>,
    /// Moments at which every proxy's `show stat` CSV joins the transcript.
    #[serde(default)]
    pub stats: Vec<Time>,
    /// What the clients must have seen by the end.
    #[serde(default)]
    pub outcome: Vec<ClientOutcome>,
}

/// A link between two hosts with its own latency or loss.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    pub between: [String; 2],
    pub latency: Option<Time>,
    /// The share of packets lost, `0.5%`: the engine's connections over
    /// the link pay TCP's retransmission timeouts for them.
    pub loss: Option<Percent>,
}

/// A share written as a percentage, `2%` or `0.5%`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percent(pub f64);

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.strip_suffix('%')
            .and_then(|n| n.trim().parse::<f64>().ok())
            .filter(|n| (0.0..=100.0).contains(n))
            .map(|n| Percent(n / 100.0))
            .ok_or_else(|| {
                serde::de::Error::custom(format!("'{text}' is not a percentage from 0% to 100%"))
            })
    }
}

/// Bounds on a client's experience over the whole run.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientOutcome {
    pub client: String,
    /// Connections that got no answer (closed, error, timeout); 0 means
    /// no request lost.
    pub max_failed: Option<u64>,
    /// The 99th percentile of the answered connections' latency.
    pub max_p99: Option<Time>,
    /// The HTTP statuses the client may get (`[200, 302]`): an answer
    /// with any other fails the outcome.
    pub statuses: Option<Vec<u16>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxySpec {
    pub name: String,
    pub address: IpAddr,
    /// The engine configuration, inline...
    pub config: Option<String>,
    /// ...or from a file, relative to the scenario file.
    pub config_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSpec {
    pub name: String,
    pub address: IpAddr,
    #[serde(default = "default_port")]
    pub port: u16,
    /// What it answers; default its name.
    pub reply: Option<String>,
    /// How long it works on each connection before answering.
    pub service_time: Option<ServiceTime>,
    /// Connections (TCP) or requests (HTTP) it works on at once, the
    /// others waiting; None: unlimited.
    pub concurrency: Option<usize>,
    /// `tcp` (the default: it writes its reply and closes) or `http` (an
    /// HTTP/1.1 server answering each request `200` with the reply as the
    /// body, keep-alive).
    #[serde(default)]
    pub protocol: Protocol,
    /// Answers with what it received instead of `reply`: in TCP, the bytes
    /// until the client half-closes; in HTTP, the request's body (or its
    /// method and path when it has none).
    #[serde(default)]
    pub echo: bool,
    /// A second port where it answers health checks only (HAProxy's
    /// `check port`), which `fail: { mode: checks }` closes.
    pub check_port: Option<u16>,
    /// The path of its health-check page (HTTP), which `fail: { mode:
    /// checks }` answers `503`.
    pub check_path: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    #[default]
    Tcp,
    Http,
}

/// One HTTP request of a client's mix.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpRequest {
    #[serde(default = "default_method")]
    pub method: String,
    #[serde(default = "default_path")]
    pub path: String,
    /// Header lines `Name: value`, in order (a `Host` among them or not).
    #[serde(default)]
    pub headers: Vec<String>,
    /// A body, sent with its `Content-Length`.
    pub body: Option<String>,
}

fn default_method() -> String {
    "GET".into()
}

fn default_path() -> String {
    "/".into()
}

/// A service-time distribution.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ServiceTime {
    Constant(Time),
    Distribution(Distribution),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Distribution {
    /// Exponential with this mean.
    Exponential(Time),
    /// Log-normal with this median and shape.
    Lognormal { median: Time, sigma: f64 },
    /// Measured service times, each as likely: `[4ms, 5ms, 5ms, 40ms]`.
    Empirical(Vec<Time>),
}

/// A rate of new connections, `200/s`, `5/ms`, `30/m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Mean time between two arrivals.
    pub interval: Duration,
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let bad = || serde::de::Error::custom(format!("'{text}' is not a rate such as 200/s"));
        let (n, unit) = text.split_once('/').ok_or_else(bad)?;
        let n: u32 = n.trim().parse().map_err(|_| bad())?;
        let per = engine::config::units::parse_time_ms(&format!("1{}", unit.trim()))
            .map_err(|_| bad())?;
        if n == 0 {
            return Err(bad());
        }
        Ok(Rate {
            interval: per.duration() / n,
        })
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arrival {
    #[default]
    Constant,
    Poisson,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSpec {
    pub name: String,
    pub address: IpAddr,
    pub target: SocketAddr,
    /// One user pausing this long between connections (the default load).
    pub every: Option<Time>,
    /// Closed loop: this many users, each pausing `think` between
    /// connections.
    pub users: Option<u32>,
    pub think: Option<Time>,
    /// Open loop: new connections at this rate, whatever the answers.
    pub rate: Option<Rate>,
    #[serde(default)]
    pub arrival: Arrival,
    /// Bytes sent before reading the answer (then the client half-closes).
    pub send: Option<String>,
    /// An HTTP client: each connection sends the next request of this
    /// mix (in turn) and notes the status and body of the answer.
    pub requests: Option<Vec<HttpRequest>>,
    #[serde(default = "default_patience")]
    pub patience: Time,
    /// HTTP users keep their connection open between requests (closed
    /// loop only: an open-loop arrival is a new visitor).
    #[serde(default)]
    pub keep_alive: bool,
    /// HTTP users keep the cookies answers set (`Set-Cookie`) and send
    /// them back, as a browser does: persistence cookies stick.
    #[serde(default)]
    pub cookies: bool,
    /// Leave each connection out of the transcript (heavy loads): the
    /// report still counts it.
    #[serde(default)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub at: Time,
    #[serde(flatten)]
    pub action: Action,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The host dies silently: its connections hang.
    Crash(String),
    /// The host's software restarts.
    Restore(String),
    /// The link between two hosts drops: connects are refused.
    Partition([String; 2]),
    Heal([String; 2]),
    /// A runtime API command line run on a proxy, as on its stats socket
    /// (admin level); the answer joins the transcript.
    Api {
        proxy: String,
        command: String,
    },
    /// A real server starts misbehaving, or stops (`mode: none`).
    Fail(Failure),
    /// The transit time on the link between two hosts changes.
    Latency {
        between: [String; 2],
        value: Time,
    },
    /// The share of packets lost on the link between two hosts changes
    /// (for the connections opened from then on).
    Loss {
        between: [String; 2],
        value: Percent,
    },
    /// An open-loop client's arrival rate changes.
    Load(LoadChange),
    /// A proxy's configuration is replaced as production reloads it: a
    /// new generation of the engine over the same listening sockets,
    /// with the servers' states carried over, while the old one drains.
    Reload(Reload),
}

/// `reload: { proxy: lb, config_file: v2.cfg }`: exactly one of
/// `config` and `config_file` (read into `config` at load, relative to
/// the scenario file).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reload {
    pub proxy: String,
    /// The new configuration, inline...
    pub config: Option<String>,
    /// ...or from a file, relative to the scenario file.
    pub config_file: Option<PathBuf>,
}

impl Reload {
    /// The name the new configuration's messages give it: its file as
    /// the scenario writes it, else the proxy's name (as the first
    /// configuration's do).
    pub fn file_name(&self) -> String {
        match &self.config_file {
            Some(f) => f.display().to_string(),
            None => self.proxy.clone(),
        }
    }
}

/// `load: { client: web, rate: 200/s }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadChange {
    pub client: String,
    pub rate: Rate,
}

/// How a real server misbehaves.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Failure {
    pub server: String,
    pub mode: FailureMode,
    /// For `slow`: the extra time per connection.
    pub delay: Option<Time>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureMode {
    /// Serves normally.
    #[default]
    None,
    /// Stops listening: connections are refused (checks fail at once).
    Refuse,
    /// Accepts and never answers (checks pass, clients time out).
    Hang,
    /// Accepts and closes without answering.
    Close,
    /// Answers after `delay` more.
    Slow,
    /// An HTTP server answers `500 Internal Server Error` (a TCP one closes).
    Error,
    /// Accepts, and resets the connection when the first bytes arrive.
    Reset,
    /// Serves clients, but its health checks fail: its `check_port`
    /// refuses, its `check_path` answers `503`.
    Checks,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    pub at: Time,
    /// The proxy host whose engine is asked; default: the first whose
    /// configuration has the server, backend or stats line.
    pub proxy: Option<String>,
    /// `backend/server`: its state.
    pub server: Option<String>,
    /// A backend: its state, `UP` or `DOWN`.
    pub backend: Option<String>,
    /// `UP`, `DOWN`, `MAINT` or `DRAIN` (the stats' status, without the
    /// `x/y` of a server going up or down).
    pub state: Option<ServerState>,
    /// `proxy/svname` (`app/web1`, `app/BACKEND`, `web/FRONTEND`): a
    /// `show stat` cell, with `column` and `value`.
    pub stat: Option<String>,
    pub column: Option<String>,
    pub value: Option<String>,
    /// With `proxy`: the pid of the generation serving there (the
    /// first generation's, or a reload's new process once it took over).
    pub pid: Option<u32>,
}

/// What an expectation checks, once validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    Server(String, ServerState),
    Backend(String, ServerState),
    Stat {
        line: String,
        column: String,
        value: String,
    },
    /// The pid of the proxy's serving generation.
    Pid(u32),
}

impl Expectation {
    pub fn check(&self) -> Result<Check, String> {
        let e = self.clone();
        if let Some(pid) = e.pid {
            let alone = [e.server, e.backend, e.stat, e.column, e.value]
                .iter()
                .all(Option::is_none)
                && e.state.is_none();
            return match (e.proxy, alone) {
                (Some(_), true) => Ok(Check::Pid(pid)),
                (None, _) => Err("a pid expectation names its 'proxy'".into()),
                (Some(_), false) => Err("'pid' goes with 'proxy' alone".into()),
            };
        }
        match (e.server, e.backend, e.stat, e.state, e.column, e.value) {
            (Some(s), None, None, Some(st), None, None) => Ok(Check::Server(s, st)),
            (None, Some(b), None, Some(st @ (ServerState::Up | ServerState::Down)), None, None) => {
                Ok(Check::Backend(b, st))
            }
            (None, Some(_), None, Some(_), None, None) => {
                Err("a backend's state is UP or DOWN".into())
            }
            (None, None, Some(line), None, Some(column), Some(value)) => Ok(Check::Stat {
                line,
                column,
                value,
            }),
            _ => Err(
                "expects 'server' and 'state', 'backend' and 'state', 'stat', 'column' and 'value', or 'proxy' and 'pid'"
                    .into(),
            ),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum ServerState {
    #[serde(rename = "UP")]
    Up,
    #[serde(rename = "DOWN")]
    Down,
    #[serde(rename = "MAINT")]
    Maint,
    #[serde(rename = "DRAIN")]
    Drain,
}

impl ServerState {
    pub fn as_str(self) -> &'static str {
        match self {
            ServerState::Up => "UP",
            ServerState::Down => "DOWN",
            ServerState::Maint => "MAINT",
            ServerState::Drain => "DRAIN",
        }
    }
}

impl Scenario {
    /// Every host name, proxies first.
    pub fn host_names(&self) -> Vec<&str> {
        self.proxies
            .iter()
            .map(|p| p.name.as_str())
            .chain(self.servers.iter().map(|s| s.name.as_str()))
            .chain(self.clients.iter().map(|c| c.name.as_str()))
            .collect()
    }

    /// The address of a host by name.
    pub fn address_of(&self, name: &str) -> Option<IpAddr> {
        self.proxies
            .iter()
            .map(|p| (&p.name, p.address))
            .chain(self.servers.iter().map(|s| (&s.name, s.address)))
            .chain(self.clients.iter().map(|c| (&c.name, c.address)))
            .find(|(n, _)| n.as_str() == name)
            .map(|(_, a)| a)
    }

    /// The wall-clock time at virtual time 0.
    pub fn epoch(&self) -> SystemTime {
        let start = chrono::DateTime::parse_from_rfc3339(&self.start).expect("checked at load");
        SystemTime::UNIX_EPOCH + Duration::from_millis(start.timestamp_millis().max(0) as u64)
    }
}

impl ClientSpec {
    pub fn load(&self) -> Load {
        match (self.rate, self.users, self.think, self.every) {
            (Some(r), ..) => Load::Open {
                interval: r.interval,
                arrival: self.arrival,
            },
            (None, None, None, every) => Load::Closed {
                users: 1,
                think: every.map_or(DEFAULT_EVERY, |t| t.0),
            },
            (None, users, think, _) => Load::Closed {
                users: users.unwrap_or(1),
                think: think.map_or(Duration::ZERO, |t| t.0),
            },
        }
    }
}

impl Action {
    pub fn hosts(&self) -> Vec<&str> {
        match self {
            Action::Crash(h) | Action::Restore(h) => vec![h],
            Action::Partition([a, b]) | Action::Heal([a, b]) => vec![a, b],
            Action::Api { proxy, .. } => vec![proxy],
            Action::Fail(f) => vec![&f.server],
            Action::Latency {
                between: [a, b], ..
            }
            | Action::Loss {
                between: [a, b], ..
            } => vec![a, b],
            Action::Load(l) => vec![&l.client],
            Action::Reload(r) => vec![&r.proxy],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::fixture::{parse, MINIMAL};

    #[test]
    fn defaults() {
        let s = parse(MINIMAL).unwrap();
        assert_eq!(s.seed, 1);
        assert_eq!(s.duration, Time(Duration::from_secs(10)));
        assert_eq!(s.latency, Time(Duration::from_millis(1)));
    }

    #[test]
    fn load_models_and_distributions() {
        let text = format!(
            "{MINIMAL}servers:
  - {{ name: a, address: 10.0.0.2, service_time: 5ms }}
  - {{ name: b, address: 10.0.0.3, service_time: {{ exponential: 5ms }} }}
  - {{ name: c, address: 10.0.0.4, service_time: {{ lognormal: {{ median: 5ms, sigma: 0.5 }} }} }}
  - {{ name: d, address: 10.0.0.8, service_time: {{ empirical: [4ms, 5ms, 40ms] }} }}
clients:
  - {{ name: u, address: 10.0.0.5, target: \"10.0.0.1:80\" }}
  - {{ name: v, address: 10.0.0.6, target: \"10.0.0.1:80\", users: 10, think: 100ms }}
  - {{ name: w, address: 10.0.0.7, target: \"10.0.0.1:80\", rate: 200/s, arrival: poisson }}
"
        );
        let s = parse(&text).unwrap();
        assert!(matches!(
            s.servers[1].service_time,
            Some(ServiceTime::Distribution(Distribution::Exponential(_)))
        ));
        assert!(matches!(
            &s.servers[3].service_time,
            Some(ServiceTime::Distribution(Distribution::Empirical(v))) if v.len() == 3
        ));
        let empty = text.replace("[4ms, 5ms, 40ms]", "[]");
        let e = parse(&empty).unwrap_err().to_string();
        assert!(
            e.contains("servers[3].service_time.empirical: needs at least one measured time"),
            "{e}"
        );
        assert_eq!(
            s.clients[0].load(),
            Load::Closed {
                users: 1,
                think: DEFAULT_EVERY
            }
        );
        assert_eq!(
            s.clients[1].load(),
            Load::Closed {
                users: 10,
                think: Duration::from_millis(100)
            }
        );
        assert_eq!(
            s.clients[2].load(),
            Load::Open {
                interval: Duration::from_millis(5),
                arrival: Arrival::Poisson
            }
        );
        let both = text.replace("users: 10, think: 100ms", "users: 10, rate: 5/s");
        let e = parse(&both).unwrap_err().to_string();
        assert!(e.contains("clients[1]: give one of"), "{e}");
    }
}
