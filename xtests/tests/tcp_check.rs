//! User-written `option tcp-check` rules side by side with HAProxy 2.6:
//! `tcp-check connect` (with `port` and `comment`), `send`, `send-binary`,
//! `expect [!] string | rstring | binary | rbinary` with `min-recv`,
//! `ok-status`, `error-status`, `tout-status`, `on-success`, `on-error`
//! and `comment`, and `tcp-check comment`. For servers that pass, answer
//! the wrong thing, close, stay silent, answer in two writes or refuse,
//! both proxies send the same check bytes, print the same state changes,
//! and show the same check columns in `show stat`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use xtests::conversation::{write, CheckServer, Step};
use xtests::{free_port, ProxyProcess};

/// Between two writes of one reply: long enough for a proxy to read the
/// first on its own, well within `timeout check` (300ms).
const PACE: Duration = Duration::from_millis(100);

/// Who answers a backend's server address.
enum Peer {
    /// A conversation server running this script.
    Script(Vec<Step>),
    /// Nothing: the fixed refused port.
    Refused,
    /// A conversation server that checks only connect to: HAProxy resets
    /// those connections before the server can accept them, so what they
    /// sent is not compared.
    Connected(Vec<Step>),
}

/// What a backend's server does over the run.
enum Then {
    /// Passes from the start: no state change.
    Passes,
    /// Fails: DOWN.
    StaysDown,
    /// Fails, then, once DOWN, runs this passing script: UP.
    Recovers(Vec<Step>),
    /// Passes conditionally (L7OKC): stopping (NOLB).
    Stops,
}

/// Reads the `PING\r\n` a check sends, answers `reply`, then the steps
/// `then`.
fn ping(reply: &[u8], then: &[Step]) -> Vec<Step> {
    let mut steps = vec![Step::Line, write(reply)];
    steps.extend_from_slice(then);
    steps
}

/// PING, +PONG, then silence until the proxy closes.
fn pong() -> Vec<Step> {
    ping(b"+PONG\r\n", &[Step::Silent])
}

/// The PING/+PONG rules most backends share.
const PING_PONG: &str = "option tcp-check
    tcp-check send PING\\r\\n
    tcp-check expect string +PONG";

/// A fake POP3 login: each line the check sends answered in turn.
fn pop3(pass_reply: &[u8]) -> Vec<Step> {
    vec![
        write(b"+OK POP3 server ready\r\n"),
        Step::Line,
        write(b"+OK send PASS\r\n"),
        Step::Line,
        write(pass_reply),
        Step::Line,
        write(b"+OK bye\r\n"),
        Step::Silent,
    ]
}

/// A fake memcached: store a value, read it back, quit. (No CRLF in the
/// expect patterns: HAProxy shows them raw in `show stat`, which breaks
/// its CSV lines.)
const MEMCACHED: &str = "option tcp-check
    tcp-check send set\\ hc\\ 0\\ 0\\ 2\\r\\nok\\r\\n
    tcp-check expect string STORED
    tcp-check send get\\ hc\\r\\n
    tcp-check expect string VALUE\\ hc\\ 0\\ 2
    tcp-check expect string END
    tcp-check send quit\\r\\n";

const POP3: &str = "option tcp-check
    tcp-check expect string +OK comment banner
    tcp-check send USER\\ bob\\r\\n
    tcp-check expect string +OK
    tcp-check send PASS\\ secret\\r\\n
    tcp-check expect string +OK comment login
    tcp-check send QUIT\\r\\n
    tcp-check expect string +OK\\ bye";

/// Each backend: its check lines (`{port}` stands for the second port),
/// its server, and what follows.
fn backends() -> Vec<(&'static str, &'static str, Peer, Then)> {
    use Peer::*;
    use Step::{Line, Pause, Silent};
    use Then::*;
    vec![
        ("bping", PING_PONG, Script(pong()), Passes),
        (
            "bmismatch",
            PING_PONG,
            Script(ping(b"-ERR unknown command\r\n", &[])),
            Recovers(pong()),
        ),
        (
            // An open reply without a match: a `string` rule without
            // min-recv waits for more until the timeout.
            "bmismatch_open",
            PING_PONG,
            Script(ping(b"-ERR unknown command\r\n", &[Silent])),
            StaysDown,
        ),
        (
            "bnegated",
            "option tcp-check
    tcp-check send PING\\r\\n
    tcp-check expect ! string ERR",
            Script(ping(b"-ERR unknown command\r\n", &[Silent])),
            StaysDown,
        ),
        (
            // No match of a negated rule is conclusive once the server
            // closes.
            "bnegated_pass",
            "option tcp-check
    tcp-check send PING\\r\\n
    tcp-check expect ! string ERR",
            Script(ping(b"+PONG\r\n", &[])),
            Passes,
        ),
        (
            "brstring",
            "option tcp-check
    tcp-check send PING\\r\\n
    tcp-check expect rstring ^\\+PO[N]G\\r\\n$",
            Script(pong()),
            Passes,
        ),
        (
            "brstring_fail",
            "option tcp-check
    tcp-check send PING\\r\\n
    tcp-check expect rstring ^\\+PONG$",
            Script(ping(b"+PONG\r\n", &[])),
            StaysDown,
        ),
        ("bsilent", PING_PONG, Script(vec![Silent]), StaysDown),
        (
            "bsilent_l4",
            "option tcp-check
    tcp-check send PING\\r\\n
    tcp-check expect string +PONG tout-status L4TOUT",
            Script(vec![Silent]),
            StaysDown,
        ),
        (
            // Closes before saying anything.
            "bclose",
            "option tcp-check
    tcp-check expect string +OK",
            Script(vec![]),
            StaysDown,
        ),
        (
            "bclose_after_ping",
            PING_PONG,
            Script(vec![Line]),
            StaysDown,
        ),
        ("brefused", PING_PONG, Refused, StaysDown),
        (
            "brefused_connect",
            "option tcp-check
    tcp-check connect comment main\\ port
    tcp-check send PING\\r\\n
    tcp-check expect string +PONG",
            Refused,
            StaysDown,
        ),
        (
            // The server address refuses; the second port answers.
            "bport",
            "option tcp-check
    tcp-check connect port {port}
    tcp-check send PING\\r\\n
    tcp-check expect string +PONG",
            Refused,
            Passes,
        ),
        (
            "bport_refused",
            "option tcp-check
    tcp-check connect port {refused}
    tcp-check send PING\\r\\n
    tcp-check expect string +PONG",
            Refused,
            StaysDown,
        ),
        (
            "bbinary",
            "option tcp-check
    tcp-check send-binary 50494e470d0a
    tcp-check expect binary 2b504f4e47",
            Script(pong()),
            Passes,
        ),
        (
            "bbinary_fail",
            "option tcp-check
    tcp-check send-binary 50494e470d0a
    tcp-check expect binary 2b504f4e47",
            Script(ping(&[0x2d, 0x00, 0xff, 0x0d, 0x0a], &[])),
            StaysDown,
        ),
        (
            "brbinary",
            "option tcp-check
    tcp-check send-binary 50494e470d0a
    tcp-check expect rbinary ^2B50(4F|4E)",
            Script(pong()),
            Passes,
        ),
        (
            "brbinary_fail",
            "option tcp-check
    tcp-check send-binary 50494e470d0a
    tcp-check expect rbinary ^2D",
            Script(ping(b"+PONG\r\n", &[])),
            StaysDown,
        ),
        (
            // Ten bytes before a verdict: the second write completes them.
            "bminrecv",
            "option tcp-check
    tcp-check send PING\\r\\n
    tcp-check expect string ready min-recv 10",
            Script(ping(b"+OK\r\n", &[Pause(PACE), write(b"ready\r\n"), Silent])),
            Passes,
        ),
        (
            // Four bytes are enough for a verdict: the first write fails
            // the rule before the second comes.
            "bminrecv_short",
            "option tcp-check
    tcp-check send PING\\r\\n
    tcp-check expect string ready min-recv 4",
            Script(ping(b"+OK\r\n", &[Pause(PACE), write(b"ready\r\n"), Silent])),
            StaysDown,
        ),
        (
            // A negated rule with min-recv: no match in six bytes passes.
            "bminrecv_negated",
            "option tcp-check
    tcp-check send PING\\r\\n
    tcp-check expect ! string ERR min-recv 6",
            Script(ping(b"+OK\r\n", &[Pause(PACE), write(b"ready\r\n"), Silent])),
            Passes,
        ),
        (
            // The second expect needs what the server sends later.
            "btwo_expects",
            "option tcp-check
    tcp-check send PING\\r\\n
    tcp-check expect string +OK
    tcp-check expect string ready",
            Script(ping(b"+OK\r\n", &[Pause(PACE), write(b"ready\r\n"), Silent])),
            Passes,
        ),
        (
            "btwo_expects_fail",
            "option tcp-check
    tcp-check send PING\\r\\n
    tcp-check expect string +OK
    tcp-check expect string ready",
            Script(ping(b"+OK\r\n", &[Pause(PACE), write(b"busy\r\n")])),
            StaysDown,
        ),
        (
            "berror_status",
            "option tcp-check
    tcp-check send PING\\r\\n
    tcp-check expect string +PONG error-status L6RSP on-error \"no pong\"",
            Script(ping(b"-ERR\r\n", &[])),
            StaysDown,
        ),
        (
            "berror_l4",
            "option tcp-check
    tcp-check send PING\\r\\n
    tcp-check expect string +PONG error-status L4CON",
            Script(ping(b"-ERR\r\n", &[])),
            StaysDown,
        ),
        (
            "bok_status",
            "option tcp-check
    tcp-check send PING\\r\\n
    tcp-check expect string +PONG ok-status L6OK on-success \"pong seen\" on-error \"pong missing\"",
            Script(ping(b"-ERR\r\n", &[])),
            Recovers(pong()),
        ),
        (
            // A conditional pass drains the server.
            "bok_conditional",
            "option tcp-check
    tcp-check send PING\\r\\n
    tcp-check expect string +PONG ok-status L7OKC on-success \"pong seen\"",
            Script(pong()),
            Stops,
        ),
        (
            "bok_l4",
            "option tcp-check
    tcp-check send PING\\r\\n
    tcp-check expect string +PONG ok-status L4OK",
            Script(pong()),
            Passes,
        ),
        (
            "bcomment",
            "option tcp-check
    tcp-check send PING\\r\\n
    tcp-check expect string +PONG comment pong\\ wanted",
            Script(ping(b"-ERR\r\n", &[])),
            StaysDown,
        ),
        (
            // A comment rule names the expect rules right after it (a
            // mismatch shows it bare, a timeout quoted)...
            "bcomment_rule",
            "option tcp-check
    tcp-check send PING\\r\\n
    tcp-check comment ask\\ for\\ a\\ pong
    tcp-check expect string +PONG",
            Script(ping(b"-ERR\r\n", &[])),
            StaysDown,
        ),
        (
            "bcomment_rule_timeout",
            "option tcp-check
    tcp-check send PING\\r\\n
    tcp-check comment ask\\ for\\ a\\ pong
    tcp-check expect string +PONG",
            Script(vec![Silent]),
            StaysDown,
        ),
        (
            // ... all of a run of expects ...
            "bcomment_rule_chain",
            "option tcp-check
    tcp-check send PING\\r\\n
    tcp-check comment greeting
    tcp-check expect string +OK
    tcp-check expect string ready",
            Script(ping(b"+OK\r\n", &[Pause(PACE), write(b"busy\r\n")])),
            StaysDown,
        ),
        (
            // ... and a connect...
            "bcomment_rule_connect",
            "option tcp-check
    tcp-check comment main\\ port
    tcp-check connect
    tcp-check send PING\\r\\n
    tcp-check expect string +PONG",
            Refused,
            StaysDown,
        ),
        (
            // ... but not those after another kind of rule.
            "bcomment_rule_before_send",
            "option tcp-check
    tcp-check comment ask\\ for\\ a\\ pong
    tcp-check send PING\\r\\n
    tcp-check expect string +PONG",
            Script(vec![Silent]),
            StaysDown,
        ),
        ("bpop3", POP3, Script(pop3(b"+OK logged in\r\n")), Passes),
        (
            "bpop3_denied",
            POP3,
            Script(pop3(b"-ERR invalid password\r\n")),
            Recovers(pop3(b"+OK logged in\r\n")),
        ),
        (
            "bmemcached",
            MEMCACHED,
            Script(vec![
                Line,
                Line,
                write(b"STORED\r\n"),
                Line,
                write(b"VALUE hc 0 2\r\nok\r\nEND\r\n"),
                Line,
            ]),
            Passes,
        ),
        (
            "bmemcached_evicted",
            MEMCACHED,
            Script(vec![
                Line,
                Line,
                write(b"STORED\r\n"),
                Line,
                write(b"END\r\n"),
            ]),
            StaysDown,
        ),
        (
            // Rules without `option tcp-check`: HAProxy warns, then checks
            // the connection only.
            "bno_option",
            "tcp-check send PING\\r\\n
    tcp-check expect string +PONG",
            Connected(ping(b"-ERR\r\n", &[])),
            Passes,
        ),
        (
            "bexplicit",
            "option tcp-check
    tcp-check connect
    tcp-check send PING\\r\\n
    tcp-check expect string +PONG
    tcp-check send QUIT\\r\\n",
            Script(vec![Line, write(b"+PONG\r\n"), Line]),
            Passes,
        ),
    ]
}

/// Ports shared by both proxies' sessions, so that messages naming them
/// are the same.
struct Fixed {
    /// Nothing listens there.
    refused: u16,
    /// A second port: PING, +PONG.
    second: CheckServer,
}

struct Outcome {
    /// The bytes of the first check each server got, escaped.
    requests: BTreeMap<&'static str, String>,
    /// State changes, sorted (backends check concurrently).
    messages: Vec<String>,
    /// The warnings about the backends.
    warnings: Vec<String>,
    /// check_status, check_code, last_chk, check_desc per server.
    stats: Vec<Vec<String>>,
}

fn session(binary: &Path, fixed: &Fixed) -> Outcome {
    let mut backends = backends();
    let servers: Vec<Option<CheckServer>> = backends
        .iter_mut()
        .map(|(_, _, peer, _)| match peer {
            Peer::Script(script) | Peer::Connected(script) => {
                Some(CheckServer::start(std::mem::take(script)))
            }
            Peer::Refused => None,
        })
        .collect();
    let fe = free_port();
    let socket = xtests::socket_path(&format!("tcpchk-{fe}"));
    let mut cfg = xtests::check_config(&socket, fe, "tcp", "", "bping");
    for ((name, lines, _, _), server) in backends.iter().zip(&servers) {
        let lines = lines
            .replace("{port}", &fixed.second.port.to_string())
            .replace("{refused}", &fixed.refused.to_string());
        let port = server.as_ref().map_or(fixed.refused, |s| s.port);
        cfg.push_str(&format!(
            "\nbackend {name}\n    {lines}\n    server s 127.0.0.1:{port} check inter 100 rise 1 fall 1\n",
        ));
    }
    let cfg = xtests::config_file(&format!("tcpchk-{fe}"), &cfg);
    let proxy = ProxyProcess::start(binary, &cfg);
    let patience = Duration::from_secs(5);
    for (name, _, _, then) in &backends {
        let state = match then {
            Then::Passes => continue,
            Then::StaysDown | Then::Recovers(_) => "DOWN",
            Then::Stops => "stopping",
        };
        proxy.wait_for_backend_down(name, "s", state, patience);
    }
    for ((name, _, _, then), server) in backends.iter_mut().zip(&servers) {
        if let (Then::Recovers(script), Some(server)) = (then, server) {
            server.set(std::mem::take(script));
            proxy.wait_for(&format!("Server {name}/s is UP"), patience);
        }
    }

    // A second check means the first one is over: its bytes are all in.
    let requests = backends
        .iter()
        .zip(&servers)
        .filter(|((_, _, peer, _), _)| matches!(peer, Peer::Script(_)))
        .filter_map(|((name, _, _, _), server)| {
            let server = server.as_ref()?;
            xtests::wait_until(patience, &format!("a second check of {name}"), || {
                server.connections() > 1
            });
            Some((*name, server.first_request()))
        })
        .collect();
    let stats = xtests::settled_check_columns(&socket, "s", backends.len());
    let stderr = proxy.stderr();
    let mut messages = xtests::state_changes(&stderr, &["Server b", "has no server available"]);
    messages.sort();
    let warnings = xtests::state_changes(&stderr, &["WARNING"])
        .into_iter()
        .filter(|l| l.contains("'b"))
        .collect();
    Outcome {
        requests,
        messages,
        warnings,
        stats,
    }
}

#[test]
fn engine_tcp_checks_match_haproxy_side_by_side() {
    let fixed = Fixed {
        refused: free_port(),
        second: CheckServer::start(pong()),
    };
    let Some(haproxy) = xtests::haproxy_bin() else {
        let ours = session(&xtests::engine_bin!(), &fixed);
        assert!(ours
            .messages
            .iter()
            .any(|m| m.contains("TCPCHK did not match content '+PONG' at step 2")));
        return;
    };
    let theirs = session(&haproxy, &fixed);
    let ours = session(&xtests::engine_bin!(), &fixed);
    assert_eq!(ours.requests, theirs.requests, "check request bytes");
    assert_eq!(ours.messages, theirs.messages, "state changes");
    assert_eq!(ours.warnings, theirs.warnings, "warnings");
    assert_eq!(ours.stats, theirs.stats, "show stat check columns");
}
