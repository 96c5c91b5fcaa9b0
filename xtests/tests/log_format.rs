//! `log-format` side by side with HAProxy 2.6: the same custom formats
//! (HTTP and TCP, most variables and the `+Q`, `+X`, `+E`, `-M` options),
//! the same traffic, the same log lines once what varies is masked: ports
//! by name, the pid, dates and timers down to their shape (digits become
//! `9`), and the connection counts, which depend on scheduling.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use xtests::http::{fetch, ScriptedServer};
use xtests::syslog::Collector;
use xtests::{free_port, ProxyProcess};

const HTTP_FORMAT: &str = "%{+Q}o %ci %{-Q}b %s %f %ft %ST %B %U %HM %HU %HP %HPO %HQ %HV %r \
%CC %{-Q}CS %ID %{-M}CC| %tsc %rc %sq/%bq %{-Q}si:%sp %fi:%fp %{+X}fi:%{+X}fp %{+E}HU %hr %hs %hrl %{-Q}ts \
P[%pid:%cp] C[%ac/%fc/%bc/%sc] T[%Th/%Ti/%TR/%Tq/%Tw/%Tc/%Tr/%Td/%Ta/%Tt/%Tu] \
D[%t|%tr|%T|%trg|%Ts|%ms|%Tl|%trl] 100%%";

const TCP_FORMAT: &str = "%ci %{+Q}f %b %s %ft %B %U %ts %tsc %rc %sq/%bq %si:%sp %fi:%fp %ST %ID \
P[%pid:%cp] C[%ac/%fc/%bc/%sc] T[%Th/%Tw/%Tc/%Td/%Tt/%Tu] D[%t|%T|%Ts|%ms]";

/// Ports by name; within `X[...]` groups, digit runs masked: the pid and
/// client port (`P`) become `N`, counts and timers (`C`, `T`) `n` but -1
/// stays, dates (`D`) keep their shape with `9`s.
fn mask(line: &str, ports: &[(u16, &str)]) -> String {
    let (_, msg) = line.split_once("]: ").expect("a syslog header");
    let mut msg = msg.trim_end().to_string();
    for (port, name) in ports {
        msg = msg
            .replace(&format!(":{port}"), &format!(":{name}"))
            .replace(&format!(":{port:04X}"), &format!(":{name}X"));
    }
    let chars: Vec<char> = msg.chars().collect();
    let (mut out, mut group, mut i) = (String::new(), None, 0);
    while i < chars.len() {
        let c = chars[i];
        if c == '[' && i > 0 && matches!(chars[i - 1], 'P' | 'C' | 'T' | 'D') {
            group = Some(chars[i - 1]);
        } else if c == ']' {
            group = None;
        }
        let run = chars[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if run == 0 || group.is_none() {
            out.push(c);
            i += 1;
            continue;
        }
        let digits: String = chars[i..i + run].iter().collect();
        match group {
            Some('P') => out.push('N'),
            Some('D') => out.push_str(&"9".repeat(run)),
            _ if out.ends_with('-') => out.push_str(&digits),
            _ => out.push('n'),
        }
        i += run;
    }
    out
}

fn wait_lines(log: &Collector, needle: &str, n: usize) {
    for _ in 0..100 {
        if log.all().iter().filter(|l| l.contains(needle)).count() >= n {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("fewer than {n} log lines with {needle:?}: {:#?}", log.all());
}

fn run(binary: &Path) -> Vec<String> {
    let log = Collector::start();
    let server = ScriptedServer::named("s1");
    let tcp_server = xtests::NameServer::start_reading("t1", 0);
    let echo = tcp_server.port;
    let (fe, tcp, nosrv) = (free_port(), free_port(), free_port());
    let http_format = HTTP_FORMAT.replace(' ', "\\ ").replace('"', "\\\"");
    let cfg = xtests::config_file(
        &format!("log-format-{fe}"),
        &format!(
            "global
    log 127.0.0.1:{log} local0

defaults
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 5s

listen web
    mode http
    bind 127.0.0.1:{fe}
    log-format {http_format}
    server s1 127.0.0.1:{srv}

listen nosrv
    mode http
    bind 127.0.0.1:{nosrv}
    log-format \"%b %s %ST %{{+Q}}r %HM %HV %si %sp %Tw/%Tc/%Tr\"

listen app
    mode tcp
    bind 127.0.0.1:{tcp}
    log-format \"{TCP_FORMAT}\"
    server t1 127.0.0.1:{echo}
",
            log = log.port,
            srv = server.port,
        ),
    );
    let mut proxy = ProxyProcess::start(binary, &cfg);
    proxy.wait_listening(fe, Duration::from_secs(5));
    proxy.wait_listening(tcp, Duration::from_secs(5));

    let answer = fetch(fe, "GET /a/b?x=1&y=%22] HTTP/1.1\r\nHost: h\r\n\r\n");
    assert!(answer.is_some_and(|a| a.starts_with("HTTP/1.1 200")));
    log.wait_for(" web \"s1\" ");
    let answer = fetch(
        fe,
        "POST http://h/p HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
    );
    assert!(answer.is_some());
    log.wait_for("\"POST");
    let answer = fetch(nosrv, "GET /x HTTP/1.0\r\n\r\n");
    assert!(answer.is_some_and(|a| a.starts_with("HTTP/1.1 503")));
    log.wait_for("nosrv <NOSRV>");

    let mut c = TcpStream::connect(("127.0.0.1", tcp)).unwrap();
    c.write_all(b"x").unwrap();
    let mut got = String::new();
    c.read_to_string(&mut got).unwrap();
    drop(c);
    // The first `app` line is wait_listening's probe.
    wait_lines(&log, "\"app\"", 2);

    drop(proxy);
    let ports = [
        (fe, "FE"),
        (tcp, "TCP"),
        (nosrv, "NOSRV"),
        (server.port, "SRV"),
        (echo, "ECHO"),
    ];
    // Sorted: the probes' lines and the others arrive in any order.
    let mut lines: Vec<String> = log
        .all()
        .iter()
        .filter(|l| !l.contains("]: Proxy ") && !l.contains("<HTTPCLIENT>"))
        .map(|l| mask(l, &ports))
        .collect();
    lines.sort();
    lines
}

#[test]
fn custom_log_lines_match_haproxy() {
    let ours = xtests::side_by_side(&xtests::proxies!(), "custom log lines", run);
    assert_eq!(ours.len(), 6, "{ours:#?}");
    assert!(
        ours.iter()
            .any(|l| l.starts_with("\"127.0.0.1\" web \"s1\" ")),
        "{ours:#?}"
    );
}
