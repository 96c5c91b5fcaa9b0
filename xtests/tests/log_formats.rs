//! Syslog framings side by side with HAProxy 2.6, byte for byte but the
//! date and the pid: the default, explicit `format rfc3164`, `rfc5424`,
//! `short` and `raw`, each truncated by `len`, over UDP and on stderr.

use std::path::Path;
use std::time::Duration;

use xtests::syslog::Collector;
use xtests::{free_port, ProxyProcess};

/// The datagram with its date and pid masked.
fn mask(line: &str) -> String {
    let Some((pri, rest)) = line.split_once('>') else {
        return line.to_string();
    };
    if let Some(rest) = rest.strip_prefix("1 ") {
        // <PRI>1 TIMESTAMP HOST TAG PID - - MSG
        let mut words: Vec<&str> = rest.splitn(5, ' ').collect();
        if words.len() == 5 {
            words[0] = "TS";
            words[3] = "PID";
        }
        return format!("{pri}>1 {}", words.join(" "));
    }
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    if rest.len() > 15 && months.iter().any(|m| rest.starts_with(m)) {
        let rest = &rest[15..];
        let masked = match (rest.find('['), rest.find("]: ")) {
            (Some(a), Some(b)) if a < b => format!("{}[PID{}", &rest[..a], &rest[b..]),
            _ => rest.to_string(),
        };
        return format!("{pri}>DATE{masked}");
    }
    line.to_string()
}

/// `extra`: more `global` lines (`log-send-hostname ...`).
fn session(binary: &Path, extra: &str) -> Vec<String> {
    let log = Collector::start();
    let fe = free_port();
    let mut targets = String::new();
    for (facility, format) in [
        ("local0", ""),
        ("local1", "format rfc3164"),
        ("local2", "format rfc5424"),
        ("local3", "format short"),
        ("local4", "format raw"),
    ] {
        targets.push_str(&format!(
            "    log 127.0.0.1:{} len 100 {format} {facility} notice\n",
            log.port
        ));
    }
    // The same framings on stderr, where the cut is one byte shorter.
    for (facility, format) in [("local5", "format rfc3164"), ("local6", "format rfc5424")] {
        targets.push_str(&format!(
            "    log stderr len 100 {format} {facility} notice\n"
        ));
    }
    let cfg = xtests::config_file(
        &format!("logformats-{fe}"),
        &format!(
            "global
    log-tag haproxy
{extra}
{targets}
defaults
    mode tcp
    log global
    timeout connect 1s
    timeout client 1s
    timeout server 1s

listen b
    bind 127.0.0.1:{fe}
    server s 127.0.0.1:{dead} check inter 100
",
            dead = free_port()
        ),
    );
    let proxy = ProxyProcess::start(binary, &cfg);
    // Five targets, two messages each.
    xtests::wait_until(Duration::from_secs(5), "ten datagrams", || {
        log.all()
            .iter()
            .filter(|l| l.contains("Server b/s") || l.contains("no server available"))
            .count()
            >= 10
    });
    proxy.wait_for("<168>", Duration::from_secs(5)); // local5 emerg
    proxy.wait_for("<176>", Duration::from_secs(5)); // local6 emerg
    let on_stderr = proxy.stderr();
    let stderr_lines = on_stderr
        .lines()
        .filter(|l| l.starts_with('<'))
        .map(|l| format!("stderr {}", mask(&format!("{l}\n"))));
    let mut lines: Vec<String> = log
        .all()
        .iter()
        .map(|l| mask(l))
        .chain(stderr_lines)
        .collect();
    lines.sort();
    lines
}

#[test]
fn syslog_framings_match_haproxy() {
    let ours = xtests::side_by_side(&xtests::proxies!(), "syslog framings", |bin| {
        session(bin, "")
    });
    assert_eq!(ours.len(), 14, "{ours:#?}");
}

#[test]
fn log_send_hostname_names_the_host_as_haproxy() {
    let extra = "    log-send-hostname myhost";
    let ours = xtests::side_by_side(&xtests::proxies!(), extra, |bin| session(bin, extra));
    assert!(
        ours.iter().any(|l| l.contains("DATE myhost haproxy[PID]")),
        "{ours:#?}"
    );
}

/// The same framings to a unix datagram socket (`log /dev/log` style).
fn unix_session(binary: &Path) -> Vec<String> {
    use std::os::unix::net::UnixDatagram;
    use std::sync::{Arc, Mutex};
    let fe = free_port();
    let dir = std::env::temp_dir().join(format!("xtests-unixlog-{fe}"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("log.sock");
    let _ = std::fs::remove_file(&path);
    let socket = UnixDatagram::bind(&path).unwrap();
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    {
        let got = got.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 65536];
            while let Ok(n) = socket.recv(&mut buf) {
                got.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        });
    }
    let p = path.display();
    let cfg = xtests::config_file(
        &format!("unixlog-{fe}"),
        &format!(
            "global
    log-tag haproxy
    log {p} local2 notice
    log unix@{p} len 100 local3 notice
    log {p} len 100 format rfc5424 local4 notice

defaults
    mode tcp
    log global
    timeout connect 1s
    timeout client 1s
    timeout server 1s

listen b
    bind 127.0.0.1:{fe}
    server s 127.0.0.1:{dead} check inter 100
",
            dead = free_port()
        ),
    );
    let _proxy = ProxyProcess::start(binary, &cfg);
    xtests::wait_until(Duration::from_secs(5), "six datagrams", || {
        got.lock().unwrap().len() >= 6
    });
    let mut lines: Vec<String> = got
        .lock()
        .unwrap()
        .iter()
        .map(|l| xtests::mask_check_duration(&mask(l)))
        .collect();
    lines.sort();
    lines
}

#[test]
fn unix_socket_targets_match_haproxy() {
    let ours = xtests::side_by_side(&xtests::proxies!(), "unix socket targets", unix_session);
    assert_eq!(ours.len(), 6, "{ours:#?}");
}
