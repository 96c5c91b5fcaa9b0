//! Logs reach a real rsyslog (Debian's rsyslogd, unprivileged, on a
//! loopback UDP port) and it reads them as HAProxy's: facility local0 at
//! info for traffic, alert for a server going DOWN, emerg for a backend
//! left without a server, the date taken from the header, the program
//! name and pid from the `name[pid]:` tag, and an `option httplog` or
//! `option tcplog` line as the message. HAProxy 2.6 runs the same
//! scenario and rsyslog records the same lines, but for what legitimately
//! differs: pids, ports, dates, times, the program name.

use std::io::Write;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use xtests::http::{ok_response, Action, Client, ScriptedServer};
use xtests::{free_port, NameServer, ProxyProcess};

/// Generous: rsyslog and the proxies share two loaded cores with others.
const WITHIN: Duration = Duration::from_secs(10);

fn rsyslogd_bin() -> Option<PathBuf> {
    xtests::installed(
        "rsyslogd",
        &["/usr/sbin/rsyslogd", "/usr/local/sbin/rsyslogd"],
        "the real rsyslog test",
    )
}

/// What rsyslog made of one datagram: the template's fields, in order.
#[derive(Debug, Clone)]
struct Record {
    facility: String,
    severity: String,
    /// `%timereported%`, as RFC 3339: the header's date as rsyslog parsed it.
    reported: String,
    program: String,
    procid: String,
    /// `%syslogtag%`: `name[pid]:`.
    tag: String,
    msg: String,
    raw: String,
}

/// The template: fields tab-separated (rsyslog escapes control characters
/// in messages, so a tab cannot come from one).
const TEMPLATE: &str = "%syslogfacility-text%\\t%syslogseverity-text%\\t\
    %timereported:::date-rfc3339%\\t%programname%\\t%procid%\\t%syslogtag%\\t\
    %msg%\\t%rawmsg%\\n";

/// The tag of the datagrams that show rsyslog is listening.
const PROBE: &str = "probe";

/// rsyslogd in the foreground with a configuration of its own, writing
/// what arrives on its UDP port to a file. Dropping it kills it.
struct Rsyslog {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Rsyslog {
    /// Starts rsyslogd and returns once it has written a probe datagram to
    /// its file: from then on, what the proxies send is recorded.
    fn start(bin: &Path) -> Rsyslog {
        let port = free_udp_port();
        let dir =
            std::env::temp_dir().join(format!("xtests-rsyslog-{port}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let conf = dir.join("rsyslog.conf");
        // No DNS: the sender's name would otherwise be looked up; a ruleset
        // bound to the input keeps rsyslogd's own messages out of the file.
        std::fs::write(
            &conf,
            format!(
                "global(workDirectory=\"{dir}\" net.enableDNS=\"off\")
module(load=\"imudp\")
template(name=\"fields\" type=\"string\" string=\"{TEMPLATE}\")
ruleset(name=\"udp\") {{
    action(type=\"omfile\" file=\"{dir}/messages\" template=\"fields\")
}}
input(type=\"imudp\" address=\"127.0.0.1\" port=\"{port}\" ruleset=\"udp\")
",
                dir = dir.display()
            ),
        )
        .unwrap();
        let (code, out) = xtests::run(bin, &["-N1", "-f", conf.to_str().unwrap()]);
        assert_eq!(code, 0, "rsyslogd rejects its configuration:\n{out}");
        let child = Command::new(bin)
            .arg("-n")
            .arg("-f")
            .arg(&conf)
            .arg("-i")
            .arg(dir.join("rsyslogd.pid"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("stderr")).unwrap())
            .spawn()
            .expect("rsyslogd starts");
        let rsyslog = Rsyslog { child, port, dir };
        let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
        let line = format!("<14>Jan  1 00:00:00 {PROBE}[1]: ready");
        // A datagram sent before rsyslog binds is lost: send until one lands.
        let deadline = std::time::Instant::now() + WITHIN;
        while !rsyslog.all().iter().any(|r| r.program == PROBE) {
            let stderr = std::fs::read_to_string(rsyslog.dir.join("stderr")).unwrap_or_default();
            assert!(
                std::time::Instant::now() < deadline,
                "rsyslogd recorded no probe within {WITHIN:?}; its stderr:\n{stderr}"
            );
            let _ = probe.send_to(line.as_bytes(), ("127.0.0.1", port));
            std::thread::sleep(Duration::from_millis(10)); // the poll interval
        }
        rsyslog
    }

    /// Every record so far but the probes and HAProxy's own HTTP client's
    /// lines (an internal proxy the engine does not have).
    fn records(&self) -> Vec<Record> {
        self.all()
            .into_iter()
            .filter(|r| r.program != PROBE && !r.msg.contains("<HTTPCLIENT>"))
            .collect()
    }

    fn all(&self) -> Vec<Record> {
        let text = std::fs::read_to_string(self.dir.join("messages")).unwrap_or_default();
        // A line being written has no newline yet: it is read next time.
        let complete = &text[..text.rfind('\n').map_or(0, |i| i + 1)];
        complete.lines().map(parse_record).collect()
    }

    /// Waits until a record's message contains `needle`.
    fn wait_for(&self, needle: &str) {
        let deadline = std::time::Instant::now() + WITHIN;
        loop {
            let records = self.records();
            if records.iter().any(|r| r.msg.contains(needle)) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "rsyslog got no {needle:?} within {WITHIN:?}, only {records:#?}"
            );
            std::thread::sleep(Duration::from_millis(10)); // the poll interval
        }
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn parse_record(line: &str) -> Record {
    let f: Vec<&str> = line.splitn(8, '\t').collect();
    assert_eq!(f.len(), 8, "not a record of the template: {line:?}");
    Record {
        facility: f[0].into(),
        severity: f[1].into(),
        reported: f[2].into(),
        program: f[3].into(),
        procid: f[4].into(),
        tag: f[5].into(),
        msg: f[6].into(),
        raw: f[7].into(),
    }
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free UDP port")
}

/// One proxy's run: what rsyslog recorded, in arrival order, and the
/// proxy's pid and program name.
struct Session {
    records: Vec<Record>,
    pid: u32,
    program: String,
}

/// A backend whose only server is DOWN (a closed port, checked), an HTTP
/// frontend with `option httplog` that answers 200, 404, and 503 for the
/// dead backend, and a TCP listener with `option tcplog`. The DOWN comes
/// first, then each request's line before the next request, so that the
/// order of the records is the same for both proxies.
fn session(binary: &Path, rsyslogd: &Path) -> Session {
    let rsyslog = Rsyslog::start(rsyslogd);
    let web = ScriptedServer::start(|req| {
        if req.head_text().starts_with("GET /missing ") {
            Action::Send(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec())
        } else {
            Action::Send(ok_response("s1"))
        }
    });
    let tcp_server = NameServer::start_reading("t1", 0);
    let (fe, fe_tcp, closed) = (free_port(), free_port(), free_port());
    let cfg = xtests::config_file(
        &format!("rsyslog-{fe}"),
        &format!(
            "global
    log 127.0.0.1:{log} local0

defaults
    log global
    timeout connect 1s
    timeout client 5s
    timeout server 5s

frontend web
    mode http
    option httplog
    bind 127.0.0.1:{fe}
    use_backend dead if {{ path_beg /dead }}
    default_backend app

backend app
    mode http
    server s1 127.0.0.1:{web}

backend dead
    mode http
    server down1 127.0.0.1:{closed} check inter 100 fall 1

listen tcp_app
    mode tcp
    option tcplog
    bind 127.0.0.1:{fe_tcp}
    server t1 127.0.0.1:{t1}
",
            log = rsyslog.port,
            web = web.port,
            t1 = tcp_server.port,
        ),
    );
    let mut proxy = ProxyProcess::start(binary, &cfg);
    rsyslog.wait_for("backend dead has no server available!");
    // Bound, not probed: a probe connection would be logged too.
    proxy.wait_bound(fe, WITHIN);
    proxy.wait_bound(fe_tcp, WITHIN);
    for (path, status) in [("/", "200"), ("/missing", "404"), ("/dead/x", "503")] {
        let response = Client::connect(fe)
            .send(format!("GET {path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").as_bytes())
            .response()
            .unwrap_or_default();
        assert!(
            response.starts_with(&format!("HTTP/1.1 {status} ")),
            "{path}: {response}"
        );
        rsyslog.wait_for(&format!("\"GET {path} HTTP/1.1\""));
    }
    let mut c = std::net::TcpStream::connect(("127.0.0.1", fe_tcp)).unwrap();
    c.write_all(b"x").unwrap();
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut c, &mut answer).unwrap();
    assert_eq!(answer, "t1");
    drop(c);
    rsyslog.wait_for(" tcp_app tcp_app/t1 ");
    let pid = proxy.pid();
    drop(proxy);
    Session {
        records: rsyslog.records(),
        pid,
        program: binary.file_name().unwrap().to_string_lossy().into_owned(),
    }
}

/// `facility.severity TAG: message`, the message's client address, accept
/// date, timers (but `-1`, which says a phase did not happen) and
/// connection counts (but retries) masked, as `check duration`.
fn normalize(r: &Record) -> String {
    let msg = r.msg.trim_start();
    let mut words: Vec<String> = msg.split(' ').map(String::from).collect();
    if words.len() > 8 && words[0].contains(':') && words[1].starts_with('[') {
        words[0] = "CLIENT".into();
        words[1] = "[DATE]".into();
        words[4] = words[4]
            .split('/')
            .map(|t| if t == "-1" { t } else { "T" })
            .collect::<Vec<_>>()
            .join("/");
        if let Some(counts) = words.iter_mut().find(|w| {
            w.split('/').count() == 5 && w.chars().all(|c| c.is_ascii_digit() || c == '/')
        }) {
            let retries = counts.rsplit('/').next().unwrap_or("").to_string();
            *counts = format!("N/N/N/N/{retries}");
        }
    }
    let msg = xtests::mask_check_duration(&words.join(" "));
    format!("{}.{} TAG: {msg}", r.facility, r.severity)
}

/// What holds of every record whatever the proxy: rsyslog found the
/// header's parts where HAProxy's framing puts them.
fn assert_parsed(session: &Session) {
    for r in &session.records {
        assert_eq!(r.facility, "local0", "{r:?}");
        assert_eq!(r.program, session.program, "{r:?}");
        assert_eq!(r.procid, session.pid.to_string(), "{r:?}");
        assert_eq!(
            r.tag,
            format!("{}[{}]:", session.program, session.pid),
            "{r:?}"
        );
        // The date came from the header (else rsyslog takes the time of
        // reception and reads the date as the tag).
        let time = r.reported.get(11..19).unwrap_or("?");
        assert!(
            r.raw.contains(&format!(" {time} {}[", session.program)),
            "{r:?}"
        );
        assert!(r.raw.ends_with(r.msg.trim_start()), "{r:?}");
    }
}

#[test]
fn rsyslog_reads_the_logs_as_haproxys() {
    let Some(rsyslogd) = rsyslogd_bin() else {
        return;
    };
    let ours = session(&xtests::engine_bin!(), &rsyslogd);
    assert_parsed(&ours);
    let lines: Vec<String> = ours.records.iter().map(normalize).collect();
    assert_eq!(
        lines,
        [
            "local0.alert TAG: Server dead/down1 is DOWN, reason: Layer4 connection problem, \
             info: \"Connection refused\", check duration: Nms. 0 active and 0 backup servers \
             left. 0 sessions active, 0 requeued, 0 remaining in queue.",
            "local0.emerg TAG: backend dead has no server available!",
            "local0.info TAG: CLIENT [DATE] web app/s1 T/T/T/T/T 200 61 - - ---- N/N/N/N/0 0/0 \
             \"GET / HTTP/1.1\"",
            "local0.info TAG: CLIENT [DATE] web app/s1 T/T/T/T/T 404 56 - - ---- N/N/N/N/0 0/0 \
             \"GET /missing HTTP/1.1\"",
            "local0.info TAG: CLIENT [DATE] web dead/<NOSRV> T/-1/-1/-1/T 503 217 - - SC-- \
             N/N/N/N/0 0/0 \"GET /dead/x HTTP/1.1\"",
            "local0.info TAG: CLIENT [DATE] tcp_app tcp_app/t1 T/T/T 2 -- N/N/N/N/0 0/0",
        ],
        "{:#?}",
        ours.records
    );
    let Some(haproxy) = xtests::haproxy_bin() else {
        return;
    };
    let theirs = session(&haproxy, &rsyslogd);
    assert_eq!(theirs.program, "haproxy");
    assert_parsed(&theirs);
    let their_lines: Vec<String> = theirs.records.iter().map(normalize).collect();
    assert_eq!(lines, their_lines);
}
