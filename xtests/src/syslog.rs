//! A syslog collector for side-by-side tests: every datagram a proxy
//! sends to a loopback UDP port, kept as text.

use std::net::UdpSocket;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use crate::wait_until;

/// A syslog collector on a loopback UDP port, keeping every datagram.
pub struct Collector {
    pub port: u16,
    pub lines: Arc<Mutex<Vec<String>>>,
}

impl Collector {
    pub fn start() -> Collector {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = socket.local_addr().unwrap().port();
        let lines = Arc::new(Mutex::new(vec![]));
        {
            let lines = lines.clone();
            thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = socket.recv(&mut buf) {
                    lines
                        .lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&buf[..n]).into_owned());
                }
            });
        }
        Collector { port, lines }
    }

    pub fn wait_for(&self, needle: &str) {
        wait_until(
            Duration::from_secs(5),
            &format!("no log line with {needle:?}"),
            || {
                self.lines
                    .lock()
                    .unwrap()
                    .iter()
                    .any(|l| l.contains(needle))
            },
        );
    }

    /// Every datagram so far.
    pub fn all(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}
