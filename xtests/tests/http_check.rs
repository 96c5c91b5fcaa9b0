//! `option httpchk` and `http-check` side by side with HAProxy 2.6: for
//! servers that pass, answer a bad status, garbage, close, hang, refuse,
//! or fail an `http-check expect` rule, both proxies send the same check
//! request bytes, print the same state changes, and show the same check
//! columns in `show stat`; with `http-check disable-on-404`, a 404 puts a
//! server in NOLB and a 200 brings it back; `option log-health-checks`
//! lines are the same.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use xtests::http::{Action, ScriptedServer};
use xtests::{free_port, ProxyProcess};

/// A check server whose answer the test can change.
struct CheckServer {
    server: ScriptedServer,
    action: Arc<Mutex<Action>>,
}

impl CheckServer {
    fn start(action: Action) -> CheckServer {
        let action = Arc::new(Mutex::new(action));
        let server = {
            let action = action.clone();
            ScriptedServer::start(move |_| action.lock().unwrap().clone())
        };
        CheckServer { server, action }
    }

    fn set(&self, action: Action) {
        *self.action.lock().unwrap() = action;
    }
}

fn answer(text: &str) -> Action {
    Action::SendClose(text.as_bytes().to_vec())
}

/// Each backend: its check lines and what its server does.
fn backends() -> Vec<(&'static str, &'static str, Action)> {
    let ok_with = |body: &str| {
        answer(&format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        ))
    };
    vec![
        (
            "b200",
            "option httpchk GET /health HTTP/1.1\\r\\nHost:\\ example.com",
            ok_with(""),
        ),
        (
            "b404",
            "option httpchk",
            answer("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"),
        ),
        (
            "b500",
            "option httpchk HEAD /check.html",
            answer("HTTP/1.0 500 Internal Server Error\r\n\r\n"),
        ),
        ("bgarbage", "option httpchk", answer("garbage\r\n\r\n")),
        ("bclose", "option httpchk", Action::Close),
        ("bhang", "option httpchk", Action::Hang),
        (
            "bstatus",
            "option httpchk\n    http-check expect status 204",
            ok_with(""),
        ),
        (
            "bstring",
            "option httpchk\n    http-check send meth POST uri /p ver HTTP/1.1 hdr host h body hello\n    http-check expect string alive",
            ok_with("dead"),
        ),
        (
            "bnotstring",
            "option httpchk\n    http-check expect ! string error",
            ok_with("error: disk"),
        ),
        (
            "brstring",
            "option httpchk\n    http-check expect rstring ^up$",
            ok_with("down"),
        ),
        (
            "bhdr",
            "option httpchk\n    http-check expect hdr name x-status value ok",
            answer("HTTP/1.1 200 OK\r\nx-status: degraded\r\ncontent-length: 0\r\n\r\n"),
        ),
        (
            "bfhdr",
            "option httpchk\n    http-check expect fhdr name X-List value b",
            answer("HTTP/1.1 200 OK\r\nx-list: a, b\r\ncontent-length: 0\r\n\r\n"),
        ),
        (
            "bnothdr",
            "option httpchk\n    http-check expect ! hdr name -m beg x-err",
            answer("HTTP/1.1 200 OK\r\nX-Error-Code: 7\r\ncontent-length: 0\r\n\r\n"),
        ),
        // Passes: `hdr` splits the value on commas.
        (
            "bhdr_pass",
            "option httpchk\n    http-check expect hdr name -m beg X-App value -m sub ready\n    http-check expect hdr name -m reg ^x-ap+-state$",
            answer("HTTP/1.1 200 OK\r\nX-App-State: booting, ready\r\ncontent-length: 0\r\n\r\n"),
        ),
        // Passes, then answers 404: NOLB ("stopping"), then UP again.
        (
            "bnolb",
            "option httpchk\n    http-check disable-on-404",
            ok_with(""),
        ),
    ]
}

struct Outcome {
    /// The first check request each server got.
    requests: BTreeMap<&'static str, String>,
    /// State changes, sorted (backends check concurrently).
    messages: Vec<String>,
    /// check_status, check_code, last_chk, check_desc per server.
    stats: Vec<Vec<String>>,
    /// bnolb's status and srv_op_state while stopping, its status after.
    nolb: Vec<String>,
}

fn session(binary: &Path) -> Outcome {
    let servers: Vec<(&str, CheckServer)> = backends()
        .into_iter()
        .map(|(name, _, action)| (name, CheckServer::start(action)))
        .collect();
    let refused = free_port();
    let fe = free_port();
    let socket = xtests::socket_path(&format!("httpchk-{fe}"));
    let mut cfg = xtests::check_config(
        &socket,
        fe,
        "http",
        "    option log-health-checks\n",
        "b200",
    );
    cfg.push_str(&format!(
        "
backend brefused
    option httpchk
    server s 127.0.0.1:{refused} check inter 100 rise 1 fall 1
"
    ));
    for ((name, lines, _), (_, server)) in backends().iter().zip(&servers) {
        cfg.push_str(&format!(
            "\nbackend {name}\n    {lines}\n    server s 127.0.0.1:{} check inter 100 rise 1 fall 1\n",
            server.server.port
        ));
    }
    let cfg = xtests::config_file(&format!("httpchk-{fe}"), &cfg);
    let proxy = ProxyProcess::start(binary, &cfg);
    let patience = Duration::from_secs(5);
    let passing = ["b200", "bnolb", "bhdr_pass"];
    let failing = backends()
        .into_iter()
        .map(|b| b.0)
        .filter(|n| !passing.contains(n));
    for name in failing.chain(["brefused"]) {
        proxy.wait_for_backend_down(name, "s", "DOWN", patience);
    }
    let ok = || answer("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    servers[1].1.set(ok());
    proxy.wait_for("Server b404/s is UP", patience);

    let nolb = &servers
        .iter()
        .find(|(n, _)| *n == "bnolb")
        .expect("bnolb")
        .1;
    nolb.set(answer(
        "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
    ));
    proxy.wait_for_backend_down("bnolb", "s", "stopping", patience);
    let status = |px: &str| {
        let rows = xtests::stat_columns(&socket, &["status"]);
        rows[&(px.to_string(), "s".to_string())][0].clone()
    };
    let stopping = status("bnolb");
    let state = xtests::api(&socket, "show servers state bnolb");
    let op_state = state
        .lines()
        .nth(2)
        .and_then(|l| l.split(' ').nth(5))
        .unwrap_or_default()
        .to_string();
    nolb.set(ok());
    proxy.wait_for("Server bnolb/s is UP", patience);
    let nolb = vec![stopping, op_state, status("bnolb")];

    let requests = servers
        .iter()
        .map(|(name, s)| {
            let first = s.server.requests().into_iter().next().expect("a check");
            let text = format!(
                "{}{}",
                first.head_text(),
                String::from_utf8_lossy(&first.body)
            );
            (*name, text)
        })
        .collect();
    let stats = xtests::settled_check_columns(&socket, "s", servers.len() + 1);
    let mut messages = xtests::state_changes(
        &proxy.stderr(),
        &["Server b", "has no server available", "Health check for"],
    );
    messages.sort();
    Outcome {
        requests,
        messages,
        stats,
        nolb,
    }
}

#[test]
fn engine_http_checks_match_haproxy_side_by_side() {
    let Some(haproxy) = xtests::haproxy_bin() else {
        let ours = session(&xtests::engine_bin!());
        assert!(ours
            .messages
            .iter()
            .any(|m| m.contains("Layer7 wrong status, code: 404, info: \"Not Found\"")));
        return;
    };
    let theirs = session(&haproxy);
    let ours = session(&xtests::engine_bin!());
    assert_eq!(ours.requests, theirs.requests, "check request bytes");
    assert_eq!(ours.messages, theirs.messages, "state changes");
    assert_eq!(ours.stats, theirs.stats, "show stat check columns");
    assert_eq!(ours.nolb, theirs.nolb, "NOLB status and op state");
}
