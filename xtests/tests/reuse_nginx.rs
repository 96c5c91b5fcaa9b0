//! A kept server connection that the server has closed is not reused:
//! a real nginx with `keepalive_timeout 1s` closes the proxy's idle
//! connection between a client's two requests, and the second request is
//! answered 200 over a fresh connection, by the engine as by HAProxy 2.6.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use xtests::{free_port, ProxyProcess};

/// nginx, when installed. CI installs it and requires it.
fn nginx_bin() -> Option<PathBuf> {
    xtests::installed("nginx", &["/usr/sbin/nginx"], "the nginx reuse test")
}

/// An nginx answering `ok` on a loopback port, closing idle kept
/// connections after one second.
struct Nginx {
    child: Child,
    port: u16,
}

impl Nginx {
    fn start(bin: &Path) -> Nginx {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("xtests-nginx-{port}"));
        std::fs::create_dir_all(&dir).unwrap();
        let d = dir.display();
        let conf = format!(
            "daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    keepalive_timeout 1s;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 \"ok\\n\"; }}
    }}
}}
"
        );
        let path = dir.join("nginx.conf");
        std::fs::write(&path, conf).unwrap();
        let child = Command::new(bin)
            .arg("-c")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx starts");
        xtests::wait_listening(port, Duration::from_secs(5));
        Nginx { child, port }
    }

    /// Connections nginx holds open on its port (ESTABLISHED, from
    /// /proc/net/tcp: no tool needed).
    fn open_connections(&self) -> usize {
        let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
        let port = format!(":{:04X}", self.port);
        table
            .lines()
            .skip(1)
            .filter(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f.len() > 3 && f[1].ends_with(&port) && f[3] == "01"
            })
            .count()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends one request on `conn` and reads its whole answer (nginx's 3-byte
/// body after a Content-Length header).
fn exchange(conn: &mut TcpStream, path: &str) -> String {
    write!(conn, "GET {path} HTTP/1.1\r\nHost: a\r\n\r\n").unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.ends_with(b"\r\n\r\nok\n") {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

fn second_request_after_the_server_closed(binary: &Path, nginx: &Nginx) {
    let fe = free_port();
    let cfg = xtests::config_file(
        &format!("reuse-nginx-{fe}"),
        &format!(
            "defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s

frontend fe
    bind 127.0.0.1:{fe}
    default_backend be

backend be
    server s1 127.0.0.1:{}
",
            nginx.port
        ),
    );
    let mut proxy = ProxyProcess::start(binary, &cfg);
    proxy.wait_listening(fe, Duration::from_secs(5));
    let mut conn = TcpStream::connect(("127.0.0.1", fe)).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let first = exchange(&mut conn, "/1");
    assert!(first.starts_with("HTTP/1.1 200"), "{binary:?}: {first}");
    xtests::wait_until(
        Duration::from_secs(10),
        "nginx never closed the idle kept connection",
        || nginx.open_connections() == 0,
    );
    let second = exchange(&mut conn, "/2");
    assert!(
        second.starts_with("HTTP/1.1 200") && second.ends_with("ok\n"),
        "{binary:?} answered the second request with {second:?}"
    );
}

#[test]
fn a_connection_the_server_closed_is_not_reused() {
    let Some(bin) = nginx_bin() else {
        return;
    };
    let nginx = Nginx::start(&bin);
    for proxy in xtests::proxies!() {
        second_request_after_the_server_closed(&proxy, &nginx);
    }
}
