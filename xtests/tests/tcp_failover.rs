//! Over real sockets, the engine binary and HAProxy 2.6 run the same TCP
//! config: roundrobin alternates, a killed server leaves rotation within
//! fall × inter, the backup takes over when every active server is down,
//! and restored servers rejoin after rise × inter. Both proxies must answer
//! the same sequence and print the same state changes.

use std::path::Path;
use std::time::{Duration, Instant};

use xtests::{ask, free_port, wait_answering, NameServer, ProxyProcess};

const INTER_MS: u64 = 200;
const RISE: u64 = 2;
const FALL: u64 = 3;
/// Scheduling slack on a loaded 2-core machine, on top of one interval of
/// phase (the kill may land just after a check).
const SLACK: Duration = Duration::from_millis(400);

struct Outcome {
    answers: Vec<Vec<String>>,
    messages: Vec<String>,
}

fn config(fe: u16, ports: [u16; 3]) -> String {
    format!(
        "defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s

listen test
    bind 127.0.0.1:{fe}
    balance roundrobin
    server web1 127.0.0.1:{p1} check inter {INTER_MS} rise {RISE} fall {FALL}
    server web2 127.0.0.1:{p2} check inter {INTER_MS} rise {RISE} fall {FALL}
    server web7 127.0.0.1:{p3} check inter {INTER_MS} rise {RISE} fall {FALL} backup
",
        p1 = ports[0],
        p2 = ports[1],
        p3 = ports[2],
    )
}

fn asks(fe: u16, n: usize) -> Vec<String> {
    (0..n).map(|_| ask(fe)).collect()
}

fn scenario(binary: &Path) -> Outcome {
    // Ports the system picks and holds (web1 and web2 come back on
    // theirs later).
    let web1 = NameServer::start("web1", 0);
    let web2 = NameServer::start("web2", 0);
    let web7 = NameServer::start("web7", 0);
    let ports = [web1.port, web2.port, web7.port];
    let fe = free_port();
    let cfg = xtests::config_file(&format!("failover-{fe}"), &config(fe, ports));

    let proxy = ProxyProcess::start(binary, &cfg);
    let first = wait_answering(fe, Duration::from_secs(5));
    let mut answers = vec![std::iter::once(first).chain(asks(fe, 5)).collect()];

    let inter = Duration::from_millis(INTER_MS);
    let killed = Instant::now();
    web1.stop();
    let down = proxy.wait_for("Server test/web1 is DOWN", Duration::from_secs(5));
    assert!(
        down - killed <= inter * FALL as u32 + inter + SLACK,
        "web1 left rotation after {:?}",
        down - killed
    );
    answers.push(asks(fe, 4));

    web2.stop();
    proxy.wait_for("Server test/web2 is DOWN", Duration::from_secs(5));
    answers.push(asks(fe, 3));

    let restored = Instant::now();
    let _web1 = NameServer::start("web1", ports[0]);
    let up = proxy.wait_for("Server test/web1 is UP", Duration::from_secs(5));
    assert!(
        up - restored <= inter * RISE as u32 + inter + SLACK,
        "web1 rejoined after {:?}",
        up - restored
    );
    answers.push(asks(fe, 3));

    let _web2 = NameServer::start("web2", ports[1]);
    proxy.wait_for("Server test/web2 is UP", Duration::from_secs(5));
    answers.push(asks(fe, 4));

    let messages = xtests::state_changes(&proxy.stderr(), &["Server test/"]);
    Outcome { answers, messages }
}

fn check_behaviour(o: &Outcome) {
    let [all_up, web1_down, both_down, web1_back, all_back] = &o.answers[..] else {
        panic!("five phases");
    };
    assert!(
        all_up.windows(2).all(|w| w[0] != w[1]),
        "alternation: {all_up:?}"
    );
    assert!(
        all_up.iter().all(|a| a == "web1" || a == "web2"),
        "{all_up:?}"
    );
    assert!(web1_down.iter().all(|a| a == "web2"), "{web1_down:?}");
    assert!(both_down.iter().all(|a| a == "web7"), "{both_down:?}");
    assert!(web1_back.iter().all(|a| a == "web1"), "{web1_back:?}");
    assert!(
        all_back.windows(2).all(|w| w[0] != w[1]),
        "alternation: {all_back:?}"
    );
    assert!(
        o.messages.iter().any(|m| m.contains("Running on backup.")),
        "{:?}",
        o.messages
    );
}

#[test]
fn engine_alternates_fails_over_and_restores() {
    let o = scenario(&xtests::engine_bin!());
    check_behaviour(&o);
}

#[test]
fn engine_matches_haproxy_side_by_side() {
    let Some(haproxy) = xtests::haproxy_bin() else {
        return;
    };
    let theirs = scenario(&haproxy);
    check_behaviour(&theirs);
    let ours = scenario(&xtests::engine_bin!());
    assert_eq!(
        ours.answers, theirs.answers,
        "which server answered, phase by phase"
    );
    assert_eq!(ours.messages, theirs.messages, "state-change messages");
}
