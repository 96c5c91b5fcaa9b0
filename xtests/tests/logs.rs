//! Syslog over UDP, side by side with HAProxy 2.6: the same events give the
//! same datagrams (priority, message), with what legitimately differs
//! (pids, dates, client ports, the program name) normalised away.

use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use xtests::syslog::Collector;
use xtests::{free_port, NameServer, ProxyProcess};

/// What the collector got, normalised.
trait Normalized {
    fn normalized(&self) -> Vec<String>;
}

impl Normalized for Collector {
    fn normalized(&self) -> Vec<String> {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .map(|l| without_wait_and_connect(&normalize(l)))
            .collect()
    }
}

/// A normalised TCP log line whose `%Tw/%Tc` keep only whether their
/// phase came (`t`, or -1): their milliseconds are the machine's.
fn without_wait_and_connect(line: &str) -> String {
    let mut words: Vec<String> = line.split(' ').map(String::from).collect();
    if let Some(timers) = words.get_mut(6).filter(|t| t.ends_with("/T")) {
        let reached = |t: &str| if t == "-1" { "-1" } else { "t" };
        let parts: Vec<&str> = timers.split('/').collect();
        if parts.len() == 3 {
            *timers = format!("{}/{}/T", reached(parts[0]), reached(parts[1]));
        }
    }
    words.join(" ")
}

/// `<134>Nov 25 06:41:28 haproxy[486]: 127.0.0.1:35274 [25/Nov/...] ...`
/// becomes `<134>DATE TAG: CLIENT [ACCEPT] ...`, with the total time `%Tt`
/// replaced by `T`, and the connection counts `%ac/%fc/%bc/%sc` by `N`:
/// both depend on scheduling (whether the previous connection's end was
/// processed yet); the simulator pins them deterministically.
fn normalize(line: &str) -> String {
    let (pri, rest) = line.split_once('>').unwrap();
    let (_, rest) = rest.split_once("]: ").unwrap();
    let mut words: Vec<String> = rest.trim_end().split(' ').map(String::from).collect();
    if words.len() > 4 && words[1].starts_with('[') && words[0].contains(':') {
        words[0] = "CLIENT".into();
        words[1] = "[ACCEPT]".into();
        if let Some(timers) = words.get_mut(4) {
            let parts: Vec<&str> = timers.split('/').collect();
            if parts.len() == 3 {
                *timers = format!("{}/{}/T", parts[0], parts[1]);
            }
        }
        if let Some(counts) = words.get_mut(7) {
            let retries = counts.rsplit('/').next().unwrap_or("").to_string();
            *counts = format!("N/N/N/N/{retries}");
        }
    }
    xtests::mask_check_duration(&format!("{pri}>DATE TAG: {}", words.join(" ")))
}

fn run(binary: &Path) -> Vec<String> {
    let collector = Collector::start();
    let server = NameServer::start_reading("s1", 0);
    let (fe, fe2) = (free_port(), free_port());
    let cfg = xtests::config_file(
        &format!("logs-{fe}"),
        &format!(
            "global
    log 127.0.0.1:{log} local0

defaults
    mode tcp
    log global
    option tcplog
    option dontlognull
    timeout connect 1s
    timeout client 5s
    timeout server 5s

listen app
    bind 127.0.0.1:{fe}
    server s1 127.0.0.1:{port} check inter 200

# No usable server at all, and every connection logged.
listen app2
    bind 127.0.0.1:{fe2}
    no option dontlognull
    server s2 127.0.0.1:1 disabled
",
            log = collector.port,
            port = server.port
        ),
    );
    let mut proxy = ProxyProcess::start(binary, &cfg);
    proxy.wait_listening(fe, Duration::from_secs(5)); // a null connection: not logged

    // A connection with data: one tcplog line.
    let mut c = TcpStream::connect(("127.0.0.1", fe)).unwrap();
    std::io::Write::write_all(&mut c, b"x").unwrap();
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut c, &mut answer).unwrap();
    assert_eq!(answer, "s1");
    drop(c);
    collector.wait_for(" app app/s1 ");

    // The only server dies: DOWN, then no server left.
    server.stop();
    collector.wait_for("has no server available!");

    // A connection to a proxy whose only server is disabled: no server.
    let mut c = TcpStream::connect(("127.0.0.1", fe2)).unwrap();
    let mut rest = Vec::new();
    let _ = std::io::Read::read_to_end(&mut c, &mut rest);
    drop(c);
    collector.wait_for("<NOSRV>");

    // Soft stop.
    let child = proxy.into_child();
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGUSR1) };
    collector.wait_for("Proxy app2 stopped");
    let mut child = child;
    let _ = child.kill();
    let _ = child.wait();
    collector
        .normalized()
        .into_iter()
        .filter(|l| !l.contains("<HTTPCLIENT>"))
        .collect()
}

#[test]
fn syslog_lines_match_haproxy() {
    let ours = xtests::side_by_side(&xtests::proxies!(), "syslog lines", run);
    assert_eq!(
        ours,
        [
            "<134>DATE TAG: CLIENT [ACCEPT] app app/s1 t/t/T 2 -- N/N/N/N/0 0/0",
            "<129>DATE TAG: Server app/s1 is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: Nms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
            "<128>DATE TAG: proxy app has no server available!",
            "<134>DATE TAG: CLIENT [ACCEPT] app2 app2/<NOSRV> -1/-1/T 0 SC N/N/N/N/0 0/0",
            "<132>DATE TAG: Proxy app stopped (cumulated conns: FE: 2, BE: 2).",
            "<132>DATE TAG: Proxy app2 stopped (cumulated conns: FE: 1, BE: 1).",
        ]
    );
}

/// A stream that waits in the backend's queue until `timeout queue`:
/// its log line, with `%Tw` (the time it waited) cut to tenths of a
/// second and the total time masked.
fn queue_timeout(binary: &Path, mode: &str) -> String {
    let collector = Collector::start();
    // Never accepts: the kernel completes connections into its backlog,
    // and none is ever answered.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let fe = free_port();
    let (option, request) = match mode {
        "http" => ("option httplog", &b"GET / HTTP/1.1\r\nhost: x\r\n\r\n"[..]),
        _ => ("option tcplog", &b"x"[..]),
    };
    let cfg = xtests::config_file(
        &format!("queue-log-{fe}"),
        &format!(
            "global
    log 127.0.0.1:{log} local0

defaults
    mode {mode}
    log global
    {option}
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout queue 300ms

listen app
    bind 127.0.0.1:{fe}
    server s1 127.0.0.1:{port} maxconn 1
",
            log = collector.port,
            port = silent.local_addr().unwrap().port()
        ),
    );
    let mut proxy = ProxyProcess::start(binary, &cfg);
    proxy.wait_listening(fe, Duration::from_secs(5));
    // The first takes the only slot and keeps it; the second queues.
    let mut first = TcpStream::connect(("127.0.0.1", fe)).unwrap();
    std::io::Write::write_all(&mut first, request).unwrap();
    std::thread::sleep(Duration::from_millis(50)); // let it take the slot first
    let mut second = TcpStream::connect(("127.0.0.1", fe)).unwrap();
    std::io::Write::write_all(&mut second, request).unwrap();
    let mut answer = Vec::new();
    let _ = std::io::Read::read_to_end(&mut second, &mut answer);
    // (The readiness probe's empty connection is logged too in HTTP.)
    collector.wait_for(" sQ");
    drop(first);
    let line = collector
        .all()
        .into_iter()
        .find(|l| l.contains(" sQ"))
        .unwrap();
    let words: Vec<String> = normalize(&line).split(' ').map(String::from).collect();
    let timers = &words[6];
    let parts: Vec<&str> = timers.split('/').collect();
    let wait_index = if mode == "http" { 1 } else { 0 };
    let wait: u64 = parts[wait_index]
        .parse()
        .unwrap_or_else(|_| panic!("no wait in {line}"));
    assert!((300..600).contains(&wait), "Tw {wait} in {line}");
    let masked: Vec<String> = parts
        .iter()
        .enumerate()
        .map(|(i, p)| match i {
            i if i == wait_index => "W".to_string(),
            i if i == parts.len() - 1 => "T".to_string(),
            _ => p.to_string(),
        })
        .collect();
    let mut words = words;
    words[6] = masked.join("/");
    words.join(" ")
}

#[test]
fn queue_timeouts_log_their_wait_and_position_as_haproxy() {
    for mode in ["tcp", "http"] {
        let ours = xtests::side_by_side(&xtests::proxies!(), mode, |bin| queue_timeout(bin, mode));
        assert!(ours.contains(" sQ"), "{ours}");
    }
}
