//! The seed's HTTP configurations (examples/seed-*.cfg), run as written
//! by HAProxy 2.6 and by the engine, side by side: routing by domain, by
//! path, by extension, by User-Agent (redirects), denying by source, error
//! pages. Only what cannot run on a test machine changes: the process
//! settings (chroot, user, daemon, the syslog target), the addresses (the
//! servers become scripted servers on loopback), and the stats page lines.

use xtests::http::{compare, Action, Received, Scenario, Step, Step::*};
use xtests::{proxies, workspace};

/// Each server answers with its own name and the path it was asked.
fn server(name: &'static str) -> fn(&Received) -> Action {
    fn answer(who: &str, r: &Received) -> Action {
        let line = r.head_text().lines().next().unwrap_or("").to_string();
        let body = format!("{who}: {line}\n");
        Action::Send(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: text/plain\r\n\r\n{body}",
                body.len()
            )
            .into_bytes(),
        )
    }
    match name {
        "WEB1" => |r| answer("web1", r),
        _ => |r| answer("web2", r),
    }
}

/// The seed file, made runnable here.
fn runnable(file: &str) -> String {
    let text = std::fs::read_to_string(workspace().join("examples").join(file)).unwrap();
    let mut out = String::from("global\n    log stderr format raw local0 info\n");
    let mut in_global = false;
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.first().copied() {
            Some("global") => {
                in_global = true;
                continue;
            }
            Some("defaults" | "frontend" | "backend" | "listen") => in_global = false,
            _ => {}
        }
        if in_global || words.first() == Some(&"stats") {
            continue;
        }
        let line = match words.as_slice() {
            ["bind", ..] => "    bind 127.0.0.1:{PORT}".to_string(),
            ["server", name, addr, rest @ ..] => {
                let who = if addr.starts_with("172.16.10.118") {
                    "WEB1"
                } else {
                    "WEB2"
                };
                let rest = rest
                    .join(" ")
                    .replace("port 80", &format!("port {{{who}_PORT}}"));
                format!("    server {name} {{{who}}} {rest}")
            }
            ["errorfile", code, path, ..] if path.starts_with("examples/") => {
                format!("    errorfile {code} {}", workspace().join(path).display())
            }
            _ => line.to_string(),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn run(name: &str, file: &str, edit: fn(String) -> String, client: &[Step], logs: usize) {
    let config = edit(runnable(file));
    compare(
        &proxies!(),
        &Scenario {
            name,
            config: &config,
            servers: &[("WEB1", server("WEB1")), ("WEB2", server("WEB2"))],
            client,
            logs,
        },
    );
}

fn as_is(c: String) -> String {
    c
}

#[test]
fn by_domain() {
    let client = [
        Send("GET / HTTP/1.1\r\nHost: www.test.com\r\n\r\n"),
        Response,
        Reconnect,
        Send("GET /a HTTP/1.1\r\nHost: BLOG.test.com\r\n\r\n"),
        Response,
        Reconnect,
        Send("GET /b HTTP/1.1\r\nHost: other.test.com\r\n\r\n"),
        Response,
        Reconnect,
        Send("GET /c HTTP/1.0\r\n\r\n"),
        Response,
    ];
    run("vhost", "seed-vhost.cfg", as_is, &client, 4);
    run("vhost-beg", "seed-vhost-beg.cfg", as_is, &client, 4);
}

#[test]
fn by_path_and_extension() {
    let client = [
        Send("GET /nginx/index.html HTTP/1.1\r\nHost: x\r\n\r\n"),
        Response,
        Reconnect,
        Send("GET /php/index.php HTTP/1.1\r\nHost: x\r\n\r\n"),
        Response,
        Reconnect,
        Send("GET /php/logo.png HTTP/1.1\r\nHost: x\r\n\r\n"),
        Response,
        Reconnect,
        Send("GET /other HTTP/1.1\r\nHost: x\r\n\r\n"),
        Response,
    ];
    run("path", "seed-path.cfg", as_is, &client, 4);
    run("ext", "seed-ext.cfg", as_is, &client, 4);
}

#[test]
fn by_user_agent_with_redirects() {
    let client = [
        Send("GET /a/b?x=1 HTTP/1.1\r\nHost: x\r\nUser-Agent: Mozilla/5.0 (iPhone; CPU)\r\n\r\n"),
        Response,
        Send("GET /c HTTP/1.1\r\nHost: x\r\nUser-Agent: Linux; Android 9\r\n\r\n"),
        Response,
        Send("GET /php/x.css?v=2 HTTP/1.1\r\nHost: x\r\nUser-Agent: curl\r\n\r\n"),
        Response,
        Reconnect,
        Send("GET /php/run HTTP/1.1\r\nHost: x\r\nUser-Agent: curl\r\n\r\n"),
        Response,
    ];
    run("useragent", "seed-useragent.cfg", as_is, &client, 4);
}

#[test]
fn deny_by_source() {
    let client = [
        Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        Response,
        Send("GET /again HTTP/1.1\r\nHost: x\r\n\r\n"),
        Response,
    ];
    // 127.0.0.1 is not in 10.96.20.0/24: denied.
    run("acl-src", "seed-acl-src.cfg", as_is, &client, 2);
    // The same rule with loopback as the valid network lets it through.
    run(
        "acl-src-ok",
        "seed-acl-src.cfg",
        |c| c.replace("10.96.20.0/24", "127.0.0.0/8"),
        &client,
        2,
    );
}

#[test]
fn listen_section_round_robin() {
    let client = [
        Send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"),
        Response,
        Reconnect,
        Send("GET /2 HTTP/1.1\r\nHost: x\r\n\r\n"),
        Response,
        Reconnect,
        Send("GET /3 HTTP/1.1\r\nHost: x\r\n\r\n"),
        Response,
    ];
    run("listen", "seed-listen.cfg", as_is, &client, 3);
}

#[test]
fn error_pages() {
    // web1 is gone (its port refuses): HAProxy's checks are off in this
    // variant so that the error pages, not the checks, decide.
    let client = [
        Send("GET /1 HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n"),
        UntilClose,
        Reconnect,
        Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        Response,
    ];
    run(
        "errorfile-400",
        "seed-errorfile.cfg",
        |c| c.replace(" check\n", "\n"),
        &client,
        2,
    );
    let client = [Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), UntilClose];
    // Both servers refuse: 503, with the seed's own page.
    run(
        "errorfile-503",
        "seed-errorfile.cfg",
        |c| {
            c.lines()
                .map(|l| {
                    if l.trim_start().starts_with("server") {
                        let name = l.split_whitespace().nth(1).unwrap_or("x");
                        format!("    server {name} 127.0.0.1:1")
                    } else {
                        l.to_string()
                    }
                })
                .map(|l| l + "\n")
                .collect::<String>()
        },
        &client,
        1,
    );
}
