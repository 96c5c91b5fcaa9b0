//! A soft stop (SIGUSR1, and so every reload) and HTTP keep-alive, side
//! by side with HAProxy 2.6: a connection idle between requests is closed
//! at once; one whose request is in flight gets its response with
//! `connection: close` and closes after it; with `option
//! idle-close-on-response`, the idle one is served once more, then closed.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use xtests::http::Client;
use xtests::{config_file, free_port, ProxyProcess};

const WAIT: Duration = Duration::from_secs(10);

/// A server that answers `/a` at once and `/b` when the test says so
/// (after telling it the request came), each keep-alive.
fn server() -> (u16, mpsc::Receiver<()>, mpsc::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (came, came_rx) = mpsc::channel();
    let (go_tx, go) = mpsc::channel::<()>();
    let go = std::sync::Arc::new(std::sync::Mutex::new(go));
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { return };
            let (came, go) = (came.clone(), go.clone());
            std::thread::spawn(move || serve(conn, &came, &go));
        }
    });
    (port, came_rx, go_tx)
}

fn serve(conn: TcpStream, came: &mpsc::Sender<()>, go: &std::sync::Mutex<mpsc::Receiver<()>>) {
    let mut out = conn.try_clone().unwrap();
    let mut reader = BufReader::new(conn);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
        // The rest of the head.
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                break;
            }
        }
        if path == "/b" {
            let _ = came.send(());
            let _ = go.lock().unwrap().recv_timeout(WAIT);
        }
        let body = &path[1..];
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        if out.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

#[derive(Debug, PartialEq)]
struct Stopped {
    /// The idle connection: what came after the stop, and whether it
    /// closed.
    idle: (String, bool),
    /// The one in flight: its response, and whether it closed after.
    busy: (Option<String>, bool),
    /// With idle-close-on-response: the idle connection's next answer.
    served_once_more: Option<String>,
}

fn stop_with(binary: &Path, idle_close_on_response: bool) -> Stopped {
    let (server_port, came, go) = server();
    let port = free_port();
    let option = if idle_close_on_response {
        "    option idle-close-on-response\n"
    } else {
        ""
    };
    let cfg = config_file(
        &format!("soft-stop-{idle_close_on_response}"),
        &format!(
            "defaults
    mode http
    timeout connect 2s
    timeout client 20s
    timeout server 20s

frontend fe
    bind 127.0.0.1:{port}
{option}    default_backend be

backend be
    server s1 127.0.0.1:{server_port}
"
        ),
    );
    let mut proxy = ProxyProcess::start(binary, &cfg);
    proxy.wait_listening(port, WAIT);
    let mut idle = Client::connect(port);
    let first = idle.send(b"GET /a HTTP/1.1\r\nhost: x\r\n\r\n").response();
    assert!(first.is_some_and(|r| r.ends_with("\r\n\r\na")));
    // The condition under test, not a wait for an event: a connection
    // idle for a while. (One that answered less than 100 ms before the
    // stop is treated as busy by the engine: its client may be sending.)
    std::thread::sleep(Duration::from_millis(150));
    let mut busy = Client::connect(port);
    busy.send(b"GET /b HTTP/1.1\r\nhost: x\r\n\r\n");
    came.recv_timeout(WAIT)
        .expect("the request in flight reached the server");
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(proxy.pid() as i32, libc::SIGUSR1) };
    proxy.wait_for("Proxy fe stopped", WAIT);
    let served_once_more = if idle_close_on_response {
        idle.send(b"GET /a HTTP/1.1\r\nhost: x\r\n\r\n").response()
    } else {
        None
    };
    let idle_after = idle.rest();
    go.send(()).unwrap();
    let response = busy.response();
    let (_, busy_closed) = busy.rest();
    let _ = proxy.wait_exit(WAIT);
    Stopped {
        idle: idle_after,
        busy: (response, busy_closed),
        served_once_more,
    }
}

#[test]
fn a_soft_stop_closes_idle_keep_alive_connections_and_busy_ones_after_their_response() {
    let ours = xtests::side_by_side(&xtests::proxies!(), "soft stop", |b| stop_with(b, false));
    assert_eq!(ours.idle, (String::new(), true));
    assert_eq!(
        ours.busy,
        (
            Some("HTTP/1.1 200 OK\r\ncontent-length: 1\r\nconnection: close\r\n\r\nb".into()),
            true
        )
    );
}

#[test]
fn idle_close_on_response_serves_the_idle_connection_once_more() {
    let ours = xtests::side_by_side(&xtests::proxies!(), "idle-close-on-response", |b| {
        stop_with(b, true)
    });
    assert_eq!(
        ours.served_once_more.as_deref(),
        Some("HTTP/1.1 200 OK\r\ncontent-length: 1\r\nconnection: close\r\n\r\na")
    );
    assert_eq!(ours.idle, (String::new(), true));
}
