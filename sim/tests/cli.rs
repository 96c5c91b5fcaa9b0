//! The `sim` binary as a user runs it: `sim run FILE --json OUT` prints the
//! transcript and report and writes the same figures as JSON; a failed
//! expectation makes the exit status non-zero.

use std::path::Path;
use std::process::Command;

fn sim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sim"))
}

#[test]
fn run_writes_the_report_as_json_too() {
    let dir = std::env::temp_dir().join(format!("sim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("report.json");
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/capacity.yaml");
    let out = sim()
        .args(["run", scenario.to_str().unwrap(), "--seed", "9", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["scenario"], "capacity");
    assert_eq!(report["seed"], 9);
    let load = &report["clients"][0];
    assert_eq!(load["name"], "load");
    // The JSON and the printed report tell the same run.
    let connections = load["connections"].as_u64().unwrap();
    assert!(
        text.contains(&format!("client load: {connections} connections")),
        "{text}"
    );
    let p99 = load["latency_ms"]["p99"].as_u64().unwrap();
    assert!(text.contains(&format!(" p99 {p99} ")), "{text}");
    assert_eq!(report["failed"].as_array().map(Vec::len), Some(0));
    // s1 dies at 10 s: the health timeline has it DOWN.
    let health = report["health"].as_array().unwrap();
    assert!(
        health
            .iter()
            .any(|h| h["server"] == "app/s1" && h["state"] == "DOWN"),
        "{health:?}"
    );
    assert!(text.contains("health timeline:"), "{text}");
    // Each server's share of the load, as the engine counted it.
    let servers = report["servers"].as_array().unwrap();
    let shares: f64 = servers
        .iter()
        .map(|s| s["share_pct"].as_f64().unwrap())
        .sum();
    assert!((shares - 100.0).abs() < 0.01, "{servers:?}");
    // What the proxy ended: one stream per client connection, by state.
    let streams = &report["streams"][0];
    assert_eq!(streams["frontend"], "app");
    assert_eq!(streams["streams"].as_u64(), Some(connections));
    let by_state: u64 = streams["states"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(by_state, connections);
    assert!(
        text.contains(&format!("frontend app: {connections} streams")),
        "{text}"
    );
}

#[test]
fn a_failed_expectation_fails_the_run() {
    let dir = std::env::temp_dir().join(format!("sim-cli-fail-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("wrong.yaml");
    std::fs::write(
        &file,
        "name: wrong
seed: 1
duration: 3s
proxies:
  - name: proxy
    address: 10.0.0.1
    config: |
      defaults
          mode tcp
          timeout connect 1s
          timeout client 5s
          timeout server 5s
      listen app
          bind :80
          server s1 10.0.0.11:80 check inter 500ms
servers:
  - { name: s1, address: 10.0.0.11 }
expect:
  - { at: 2s, server: app/s1, state: DOWN }
",
    )
    .unwrap();
    let out = sim().args(["run"]).arg(&file).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("app/s1"), "{err}");
}

#[test]
fn progress_is_told_each_virtual_second() {
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/capacity.yaml");
    let s = sim::scenario::Scenario::load(&scenario).unwrap();
    let mut told = vec![];
    sim::world::run_with_progress(&s, &mut |now, total| told.push((now, total))).unwrap();
    let total = told[0].1;
    assert!(
        told.windows(2)
            .all(|w| w[1].0 >= w[0].0 + std::time::Duration::from_secs(1)),
        "a second apart, in order"
    );
    // capacity.yaml's clients run 20 s; the run may end before its whole
    // length (their patience, a settling second) once they are done.
    assert!(told.len() >= 19, "{} of {total:?}", told.len());
    assert!(told.iter().all(|(now, t)| now <= t && *t == total));
}

/// `sim check` refuses a scenario with a mistake, naming the file, the
/// line and the field: an unknown field, a bad duration, a server no
/// configuration defines.
#[test]
fn check_names_the_file_line_and_field_of_a_mistake() {
    let dir = std::env::temp_dir().join(format!("sim-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/failover.yaml"),
    )
    .unwrap();
    let line_of =
        |text: &str, needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let cases = [
        (
            "duration: 30s",
            "durration: 30s",
            "durration",
            "unknown field `durration`",
        ),
        (
            "{ at: 3s, crash: web1 }",
            "{ at: 3sec, crash: web1 }",
            "timeline[0].at",
            "'3sec' is not a time",
        ),
        (
            "server: test/web1, state: DOWN",
            "server: test/web9, state: DOWN",
            "expect[1].server",
            "no configuration defines server 'test/web9'",
        ),
    ];
    // `sim check` on `text`, written to `path`.
    let check = |path: &Path, text: &str| {
        std::fs::write(path, text).unwrap();
        sim()
            .args(["check", path.to_str().unwrap()])
            .output()
            .unwrap()
    };
    for (from, to, field, reason) in cases {
        assert!(good.contains(from), "{from}");
        let bad = good.replacen(from, to, 1);
        let path = dir.join("bad.yaml");
        let out = check(&path, &bad);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        let line = line_of(&bad, to);
        let want = format!("{}:{line}: {field}: ", path.display());
        assert!(
            err.contains(&want) && err.contains(reason),
            "{err}\nwanted {want}{reason}"
        );
    }
    let out = check(&dir.join("good.yaml"), &good);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
