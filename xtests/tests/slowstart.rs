//! `slowstart` side by side with HAProxy 2.6: a server leaving
//! maintenance warms up, and both proxies show the same weights and
//! throttle in `show stat`, the same operational state in `show servers
//! state`, and send the same connections to the same servers while it
//! warms up.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use xtests::{free_port, NameServer, ProxyProcess};

/// What one observation of a warming server shows: its `weight` and
/// `throttle` columns, the backend's `weight`, its `srv_op_state`, and
/// the servers that took the connections sent right after.
type Observation = (String, String, String, String, Vec<String>);

fn column(header: &str, name: &str) -> usize {
    header
        .trim_start_matches("# ")
        .split(',')
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

fn observe(socket: &Path, backend: &str) -> (String, String, String, String) {
    let stat = xtests::api(socket, "show stat");
    let header = stat.lines().next().expect("a header");
    let (weight, throttle) = (column(header, "weight"), column(header, "throttle"));
    let field = |sv: &str, i: usize| {
        stat.lines()
            .map(|l| l.split(',').collect::<Vec<_>>())
            .find(|f| f[0] == backend && f[1] == sv)
            .map(|f| f[i].to_string())
            .expect("a stats line")
    };
    let state = xtests::api(socket, &format!("show servers state {backend}"));
    let op = state
        .lines()
        .find(|l| l.split(' ').nth(3) == Some("s2"))
        .and_then(|l| l.split(' ').nth(5).map(str::to_string))
        .expect("s2's state");
    (
        field("s2", weight),
        field("s2", throttle),
        field("BACKEND", weight),
        op,
    )
}

/// Each backend's distinct observations, from leaving maintenance until
/// the warm-up is over.
fn session(binary: &Path) -> BTreeMap<&'static str, Vec<Observation>> {
    // Ports the system picks and holds (one found free may be taken by
    // another test's connection before the server binds it).
    let (s1, s2) = (NameServer::start("s1", 0), NameServer::start("s2", 0));
    let (p1, p2) = (s1.port, s2.port);
    let (rr, st) = (free_port(), free_port());
    let socket = xtests::socket_path(&format!("slowstart-{rr}"));
    let cfg = xtests::config_file(
        &format!("slowstart-{rr}"),
        &format!(
            "global
    stats socket {sock} level admin
    nbthread 1

defaults
    mode tcp
    timeout connect 1s
    timeout client 5s
    timeout server 5s

listen rr
    bind 127.0.0.1:{rr}
    balance roundrobin
    server s1 127.0.0.1:{p1} weight 4
    server s2 127.0.0.1:{p2} weight 10 slowstart 3s

listen st
    bind 127.0.0.1:{st}
    balance static-rr
    server s1 127.0.0.1:{p1} weight 4
    server s2 127.0.0.1:{p2} weight 10 slowstart 3s
",
            sock = socket.display(),
        ),
    );
    let mut proxy = ProxyProcess::start(binary, &cfg);
    proxy.wait_listening(rr, Duration::from_secs(5));
    proxy.wait_listening(st, Duration::from_secs(5));
    let backends = [("rr", rr), ("st", st)];
    for (b, _) in backends {
        xtests::api(&socket, &format!("set server {b}/s2 state maint"));
    }
    for (b, _) in backends {
        xtests::api(&socket, &format!("set server {b}/s2 state ready"));
    }
    let started = Instant::now();
    let mut seen: BTreeMap<&'static str, Vec<Observation>> = BTreeMap::new();
    // A 3 s warm-up ends at the tick after 3 s.
    while started.elapsed() < Duration::from_millis(4500) {
        for (b, port) in backends {
            let now = observe(&socket, b);
            let list = seen.entry(b).or_default();
            // The weights are what a warm-up shows; HAProxy may flip the
            // operational state a moment before its last weight update,
            // which a poll may or may not catch: a state change alone is
            // not a new observation.
            let last = list.last().map(|o| (&o.0, &o.1, &o.2));
            if last != Some((&now.0, &now.1, &now.2)) {
                // Right after a tick: the next one is almost a second away.
                let picks = (0..14).map(|_| xtests::ask(port)).collect();
                list.push((now.0, now.1, now.2, now.3, picks));
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(proxy);
    seen
}

#[test]
fn a_server_leaving_maintenance_warms_up_as_with_haproxy() {
    let proxies = xtests::proxies!();
    // Both at once: each session spends its time waiting for ticks.
    let sessions: Vec<_> = std::thread::scope(|scope| {
        let runs: Vec<_> = proxies.iter().map(|b| scope.spawn(|| session(b))).collect();
        runs.into_iter()
            .map(|r| r.join().expect("a session"))
            .collect()
    });
    let engine = sessions.last().unwrap();
    // roundrobin: a sixteenth of weight 10 first, then (16 × s + 3) / 3
    // sixteenths each second s, shown rounded up, throttle in percent.
    let steps: Vec<_> = engine["rr"]
        .iter()
        .map(|o| (o.0.as_str(), o.1.as_str(), o.2.as_str(), o.3.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            ("1", "6", "5", "1"),
            ("4", "37", "8", "1"),
            ("7", "68", "11", "1"),
            ("10", "", "14", "2"),
        ]
    );
    // A static algorithm keeps the full weight; only maxconn would be throttled.
    let steps: Vec<_> = engine["st"]
        .iter()
        .map(|o| (o.0.as_str(), o.1.as_str(), o.3.as_str()))
        .collect();
    assert_eq!(steps, [("10", "100", "1"), ("10", "", "2")]);
    // While warming, s2 takes a growing share of the round robin.
    let share = |o: &Observation| o.4.iter().filter(|s| *s == "s2").count();
    let shares: Vec<usize> = engine["rr"].iter().map(share).collect();
    assert!(shares.windows(2).all(|w| w[0] <= w[1]), "{shares:?}");
    assert!(shares[0] < shares[3], "{shares:?}");
    if let [haproxy, engine] = &sessions[..] {
        // Weights, throttle and states exactly.
        let summary = |m: &BTreeMap<&'static str, Vec<Observation>>| {
            m.iter()
                .map(|(b, list)| {
                    let steps: Vec<_> = list
                        .iter()
                        .map(|o| (o.0.clone(), o.1.clone(), o.2.clone(), o.3.clone()))
                        .collect();
                    (*b, steps)
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            summary(haproxy),
            summary(engine),
            "HAProxy 2.6 vs the engine"
        );
        // Of the 14 picks after each step, how many went to the warming
        // server: within one of HAProxy's. Where in the round robin's
        // cycle a batch starts (and, on a loaded machine, a batch that
        // straddles a tick) moves the count by one.
        let shares = |m: &BTreeMap<&'static str, Vec<Observation>>| -> Vec<usize> {
            m.values().flatten().map(share).collect()
        };
        let (theirs, ours) = (shares(haproxy), shares(engine));
        assert_eq!(theirs.len(), ours.len());
        assert!(
            theirs.iter().zip(&ours).all(|(a, b)| a.abs_diff(*b) <= 1),
            "shares of the warming server: HAProxy {theirs:?}, engine {ours:?}"
        );
    }
}
