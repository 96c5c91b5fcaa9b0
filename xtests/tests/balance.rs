//! The balancing algorithms built so far choose the same server as
//! HAProxy 2.6 for the same sequence of connections: static-rr with
//! weights, leastconn with connections held open, first with maxconn, and
//! source from several client addresses.

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use xtests::{free_port, hold, NameServer, ProxyProcess};

/// Starts `binary` with a listen section using `balance` and `servers`
/// (name, extra server options), runs `scenario` against it, and returns
/// what it recorded.
fn with_proxy(
    binary: &Path,
    balance: &str,
    servers: &[(&str, &str)],
    holding: bool,
    scenario: impl FnOnce(u16) -> Vec<String>,
) -> Vec<String> {
    let running: Vec<NameServer> = servers
        .iter()
        .map(|(name, _)| {
            if holding {
                NameServer::start_holding(name, 0)
            } else {
                NameServer::start(name, 0)
            }
        })
        .collect();
    let fe = free_port();
    let lines: String = servers
        .iter()
        .zip(&running)
        .map(|((name, opts), s)| format!("    server {name} 127.0.0.1:{} {opts}\n", s.port))
        .collect();
    // `balance` may carry more lines (`hash-type ...`) after a newline.
    let socket = xtests::socket_path(&format!("balance-{fe}"));
    let cfg = xtests::config_file(
        &format!("balance-{fe}"),
        &format!(
            "global\n    stats socket {} level admin\n\ndefaults\n    mode tcp\n    timeout connect 1s\n    timeout client 10s\n    timeout server 10s\n    timeout queue 5s\n\nlisten app\n    bind 127.0.0.1:{fe}\n    balance {balance}\n{lines}",
            socket.display()
        ),
    );
    let mut proxy = ProxyProcess::start(binary, &cfg);
    // No probe connection: the scenario's connections are the first.
    proxy.wait_bound(fe, Duration::from_secs(5));
    scenario(fe)
}

/// Whole connections, one after the other, each read to the end and
/// gone from the proxy (its `scur` back to 0) before the next: what
/// leastconn sees does not depend on how fast a close is noticed.
fn sequential(fe: u16, n: usize) -> Vec<String> {
    let socket = xtests::socket_at(&format!("balance-{fe}"));
    let key = ("app".to_string(), "BACKEND".to_string());
    (0..n)
        .map(|_| {
            let answer = xtests::ask(fe);
            xtests::wait_until(Duration::from_secs(5), "the connection gone", || {
                xtests::stat_columns(&socket, &["scur"])[&key][0] == "0"
            });
            answer
        })
        .collect()
}

/// Connections held open, each opened once the previous one answered,
/// then all released: no connection ends while servers are chosen, so
/// the counts leastconn and first look at are the same in both proxies.
fn held(fe: u16, n: usize) -> Vec<String> {
    let mut open = vec![];
    let mut names = vec![];
    for _ in 0..n {
        let (s, name) = hold(fe, 2, Duration::from_secs(5));
        names.push(name.unwrap_or_default());
        open.push(s);
    }
    names
}

/// One connection from each of the given loopback source addresses.
fn from_sources(fe: u16, sources: &[&str]) -> Vec<String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    sources
        .iter()
        .map(|src| {
            rt.block_on(async {
                let socket = tokio::net::TcpSocket::new_v4().unwrap();
                socket
                    .bind(format!("{src}:0").parse::<SocketAddr>().unwrap())
                    .unwrap();
                let stream = socket.connect(([127, 0, 0, 1], fe).into()).await.unwrap();
                let mut std_stream: TcpStream = stream.into_std().unwrap();
                std_stream.set_nonblocking(false).unwrap();
                let mut answer = String::new();
                std_stream.read_to_string(&mut answer).unwrap();
                answer
            })
        })
        .collect()
}

fn compare(label: &str, run: impl Fn(&Path) -> Vec<String>) {
    let ours = xtests::side_by_side(&xtests::proxies!(), label, run);
    assert!(ours.iter().all(|a| !a.is_empty()), "{label}: {ours:?}");
}

#[test]
fn static_rr_with_weights() {
    compare("static-rr", |bin| {
        with_proxy(
            bin,
            "static-rr",
            &[("s1", "weight 2"), ("s2", "weight 4"), ("s3", "weight 1")],
            false,
            |fe| sequential(fe, 15),
        )
    });
}

#[test]
fn leastconn_with_connections_held_open() {
    compare("leastconn", |bin| {
        with_proxy(
            bin,
            "leastconn",
            &[("s1", ""), ("s2", "weight 2"), ("s3", "")],
            true,
            |fe| held(fe, 8),
        )
    });
}

#[test]
fn first_fills_servers_by_id() {
    compare("first", |bin| {
        with_proxy(
            bin,
            "first",
            &[
                ("s1", "maxconn 2 id 3"),
                ("s2", "maxconn 2 id 1"),
                ("s3", "maxconn 2 id 2"),
            ],
            true,
            |fe| held(fe, 5),
        )
    });
}

#[test]
fn source_hashes_client_addresses() {
    let sources = [
        "127.0.0.1",
        "127.0.0.2",
        "127.0.0.3",
        "127.0.0.4",
        "127.0.0.5",
        "127.0.0.9",
        "127.1.2.3",
    ];
    compare("source", |bin| {
        with_proxy(
            bin,
            "source",
            &[("s1", ""), ("s2", "weight 3"), ("s3", "")],
            false,
            |fe| from_sources(fe, &sources),
        )
    });
}

#[test]
fn source_with_consistent_hashing_and_avalanche() {
    let sources = [
        "127.0.0.1",
        "127.0.0.2",
        "127.0.0.3",
        "127.0.0.4",
        "127.0.0.5",
        "127.0.0.6",
        "127.0.0.7",
        "127.0.0.8",
        "127.0.0.9",
        "127.0.1.10",
        "127.2.3.4",
        "127.200.1.1",
    ];
    for hash_type in [
        "consistent",
        "consistent sdbm avalanche",
        "map-based sdbm avalanche",
    ] {
        compare(hash_type, |bin| {
            with_proxy(
                bin,
                &format!("source\n    hash-type {hash_type}"),
                &[
                    ("s1", ""),
                    ("s2", "weight 3"),
                    ("s3", ""),
                    ("s4", "weight 2"),
                ],
                false,
                |fe| from_sources(fe, &sources),
            )
        });
    }
}

/// The same algorithms while a server leaves (maintenance, through the
/// runtime API) and comes back: the choices before, during and after are
/// HAProxy's.
#[test]
fn choices_across_a_server_leaving_and_returning() {
    for balance in ["roundrobin", "static-rr", "source"] {
        compare(balance, |bin| {
            with_proxy(
                bin,
                balance,
                &[("s1", ""), ("s2", "weight 2"), ("s3", "weight 3")],
                false,
                |fe| {
                    let socket = xtests::socket_at(&format!("balance-{fe}"));
                    let mut out = sequential(fe, 12);
                    out.push(xtests::api(&socket, "disable server app/s2"));
                    out.extend(sequential(fe, 12));
                    out.push(xtests::api(&socket, "enable server app/s2"));
                    out.extend(sequential(fe, 12));
                    out
                },
            )
        });
    }
}

/// leastconn and first with connections held open while a server leaves
/// and comes back: the same choices as HAProxy's, the counts of the
/// connections still held on the leaving server included.
#[test]
fn counting_algorithms_across_a_server_leaving_and_returning() {
    for (balance, opts) in [("leastconn", ""), ("first", "maxconn 2")] {
        compare(balance, |bin| {
            let servers = [("s1", opts), ("s2", opts), ("s3", opts)];
            with_proxy(bin, balance, &servers, true, |fe| {
                let socket = xtests::socket_at(&format!("balance-{fe}"));
                let mut open = vec![];
                let mut out = vec![];
                let mut take = |n: usize, out: &mut Vec<String>| {
                    for _ in 0..n {
                        let (s, name) = hold(fe, 2, Duration::from_secs(5));
                        out.push(name.unwrap_or_default());
                        open.push(s);
                    }
                };
                take(3, &mut out);
                out.push(xtests::api(&socket, "disable server app/s1"));
                take(2, &mut out);
                out.push(xtests::api(&socket, "enable server app/s1"));
                take(1, &mut out);
                out
            })
        });
    }
}

/// `minconn`/`fullconn`: each server's limit grows with the backend's
/// load, from `minconn` to `maxconn` at `fullconn`; connections beyond it
/// wait in the queue. Which connections are served, and by whom, is
/// HAProxy's.
#[test]
fn dynamic_limits_grow_with_the_backend_load() {
    compare("minconn", |bin| {
        with_proxy(
            bin,
            "roundrobin\n    fullconn 8",
            &[("s1", "minconn 1 maxconn 4"), ("s2", "minconn 1 maxconn 4")],
            true,
            |fe| {
                let mut open = vec![];
                let mut out = vec![];
                for _ in 0..8 {
                    // A queued connection stays queued: 300 ms tells.
                    let (s, name) = hold(fe, 2, Duration::from_millis(300));
                    out.push(name.unwrap_or_else(|| "queued".into()));
                    open.push(s);
                }
                out
            },
        )
    });
}

/// leastconn counts a server's queue as its load and, when every server
/// is full, queues a connection on the least loaded server whose queue
/// has room (`maxqueue`), as HAProxy's lb_fwlc does; beyond that, the
/// backend's queue. Where each held connection waits is HAProxy's.
#[test]
fn leastconn_queues_on_the_least_loaded_server() {
    compare("leastconn-queues", |bin| {
        with_proxy(
            bin,
            "leastconn",
            &[
                ("s1", "maxconn 1 maxqueue 2"),
                ("s2", "maxconn 1 maxqueue 1"),
            ],
            true,
            |fe| {
                let socket = xtests::socket_at(&format!("balance-{fe}"));
                let mut open = vec![];
                let mut out = vec![];
                for _ in 0..6 {
                    let (s, name) = hold(fe, 2, Duration::from_millis(300));
                    open.push(s);
                    let stat = xtests::api(&socket, "show stat");
                    let queues: Vec<String> = stat
                        .lines()
                        .filter(|l| l.starts_with("app,"))
                        .map(|l| {
                            let f: Vec<&str> = l.split(',').collect();
                            format!("{}:{}/{}", f[1], f[2], f[4])
                        })
                        .collect();
                    out.push(format!(
                        "{} {}",
                        name.unwrap_or_else(|| "waits".into()),
                        queues.join(" ")
                    ));
                }
                out
            },
        )
    });
}

/// `balance hash src` in TCP mode: the address's four bytes hashed with
/// the `hash-type` function (not `source`'s XOR of words).
#[test]
fn hash_of_the_source_address() {
    let sources = [
        "127.0.0.1",
        "127.0.0.2",
        "127.0.0.3",
        "127.0.0.7",
        "127.1.2.3",
        "127.0.0.2",
    ];
    for balance in ["hash src", "hash src\n    hash-type consistent sdbm"] {
        compare(balance, |bin| {
            with_proxy(
                bin,
                balance,
                &[("s1", ""), ("s2", "weight 3"), ("s3", "")],
                false,
                |fe| from_sources(fe, &sources),
            )
        });
    }
}

/// Backup servers: unused while an active one is up; then the first
/// backup alone, or all of them by weight with `option allbackups`; the
/// actives take over again when one returns.
#[test]
fn backups_with_and_without_allbackups() {
    let servers = [
        ("a1", ""),
        ("a2", "weight 2"),
        ("b1", "backup"),
        ("b2", "backup weight 3"),
        ("b3", "backup weight 2"),
    ];
    for balance in [
        "roundrobin",
        "roundrobin\n    option allbackups",
        "static-rr\n    option allbackups",
        "leastconn\n    option allbackups",
    ] {
        compare(balance, |bin| {
            with_proxy(bin, balance, &servers, false, |fe| {
                let socket = xtests::socket_at(&format!("balance-{fe}"));
                let mut out = sequential(fe, 4);
                out.push(xtests::api(&socket, "disable server app/a1"));
                out.push(xtests::api(&socket, "disable server app/a2"));
                out.extend(sequential(fe, 12));
                out.push(xtests::api(&socket, "disable server app/b2"));
                out.extend(sequential(fe, 6));
                out.push(xtests::api(&socket, "enable server app/a2"));
                out.extend(sequential(fe, 4));
                out
            })
        });
    }
}
