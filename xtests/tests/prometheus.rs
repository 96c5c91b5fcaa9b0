//! The Prometheus exporter (`http-request use-service
//! prometheus-exporter`), scraped like Prometheus does, side by side with
//! HAProxy 2.6: the same metric families and label sets, and the same
//! values where they do not depend on time or on the process.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use xtests::http::{Client, ScriptedServer};
use xtests::ProxyProcess;

/// Samples by `name{labels}`.
fn scrape(binary: &Path) -> (String, BTreeMap<String, String>) {
    let s1 = ScriptedServer::named("s1");
    let fe = xtests::free_port();
    let cfg = xtests::config_file(
        &format!("prometheus-{fe}"),
        &format!(
            "global
    maxconn 1000

defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend web
    bind 127.0.0.1:{fe}
    http-request use-service prometheus-exporter if {{ path /metrics }}
    default_backend app

backend app
    server s1 127.0.0.1:{p1} check inter 200
    server s2 127.0.0.1:1 check inter 200
    server b1 127.0.0.1:{p1} backup disabled
",
            p1 = s1.port,
        ),
    );
    let proxy = ProxyProcess::start(binary, &cfg);
    proxy.wait_for("Server app/s2 is DOWN", Duration::from_secs(5));
    let scrape = || {
        let page = Client::connect(fe)
            .send(b"GET /metrics?scope=backend&scope=server HTTP/1.1\r\nHost: a\r\n\r\n")
            .response()
            .unwrap_or_default();
        let head = page
            .split("\r\n\r\n")
            .next()
            .unwrap_or_default()
            .to_string();
        let samples: BTreeMap<String, String> = page
            .lines()
            .filter(|l| l.starts_with("haproxy_"))
            .filter_map(|l| l.rsplit_once(' '))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        (head, samples)
    };
    // The DOWN message may come out a moment before the transition is
    // counted (HAProxy's applet runs on another thread): scraped again
    // until the transition shows.
    let mut page = scrape();
    xtests::wait_until(Duration::from_secs(5), "s2's UP to DOWN counted", || {
        let key = "haproxy_server_check_up_down_total{proxy=\"app\",server=\"s2\"}";
        if page.1.get(key).map(String::as_str) == Some("1") {
            return true;
        }
        page = scrape();
        false
    });
    page
}

/// Metrics that measure time or the machine: compared for presence only.
const VARYING: &[&str] = &[
    "_seconds",
    "haproxy_server_check_duration",
    "_time_average",
    "need_connections",
];

#[test]
fn metrics_match_haproxys() {
    let (our_head, ours) = scrape(&xtests::engine_bin!());
    assert!(our_head.contains("content-type: text/plain; version=0.0.4"));
    assert_eq!(
        ours.get("haproxy_server_status{proxy=\"app\",server=\"s2\",state=\"DOWN\"}"),
        Some(&"1".to_string())
    );
    assert_eq!(
        ours.get("haproxy_server_status{proxy=\"app\",server=\"b1\",state=\"MAINT\"}"),
        Some(&"1".to_string())
    );
    let Some(haproxy) = xtests::haproxy_bin() else {
        return;
    };
    let (their_head, theirs) = scrape(&haproxy);
    assert_eq!(our_head, their_head);
    let mut differences = vec![];
    for (key, value) in &theirs {
        match ours.get(key) {
            // HAProxy's estimate of the connections a server needs has no
            // counterpart in the engine (see the book's differences).
            None if key.starts_with("haproxy_server_need_connections") => {}
            None => differences.push(format!("missing {key}")),
            Some(_) if VARYING.iter().any(|v| key.contains(v)) => {}
            Some(v) if v != value => {
                differences.push(format!("{key}: engine {v}, HAProxy {value}"))
            }
            Some(_) => {}
        }
    }
    for key in ours.keys().filter(|k| !theirs.contains_key(*k)) {
        differences.push(format!("extra {key}"));
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}
