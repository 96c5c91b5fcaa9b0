//! The engine's VRRPv3 router against a real keepalived, over real IPv4
//! in two network namespaces joined by a veth pair: keepalived, of higher
//! priority, is master and the engine stays backup; keepalived killed,
//! the engine takes the address within the master down interval and an
//! advertisement; keepalived back with a higher priority still, it
//! preempts the engine. Needs root (namespaces, raw sockets) and
//! keepalived; skipped, saying why, where namespaces cannot be made.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use engine::net::vrrp_link::RawLink;
use engine::vrrp::{Machine, Owner, Router, Settings, State};

/// Two namespaces and their veth pair, gone when dropped.
struct Lan {
    ours: String,
    theirs: String,
}

impl Lan {
    fn make() -> Option<Lan> {
        let id = std::process::id();
        let lan = Lan {
            ours: format!("xt-vrrp-a-{id}"),
            theirs: format!("xt-vrrp-b-{id}"),
        };
        let ip = |args: &[&str]| {
            Command::new("ip")
                .args(args)
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        let (a, b) = (lan.ours.as_str(), lan.theirs.as_str());
        let (va, vb) = (format!("va{id}"), format!("vb{id}"));
        let made = ip(&["netns", "add", a])
            && ip(&["netns", "add", b])
            && ip(&["link", "add", &va, "type", "veth", "peer", "name", &vb])
            && ip(&["link", "set", &va, "netns", a])
            && ip(&["link", "set", &vb, "netns", b])
            && ip(&["-n", a, "link", "set", &va, "name", "vrrp0"])
            && ip(&["-n", b, "link", "set", &vb, "name", "vrrp0"])
            && ip(&["-n", a, "addr", "add", "10.77.0.1/24", "dev", "vrrp0"])
            && ip(&["-n", b, "addr", "add", "10.77.0.2/24", "dev", "vrrp0"])
            && ip(&["-n", a, "link", "set", "vrrp0", "up"])
            && ip(&["-n", b, "link", "set", "vrrp0", "up"]);
        made.then_some(lan)
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        for ns in [&self.ours, &self.theirs] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

fn keepalived(lan: &Lan, dir: &std::path::Path, priority: u8) -> Child {
    let conf = dir.join(format!("keepalived-{priority}.conf"));
    std::fs::write(
        &conf,
        format!(
            "global_defs {{\n    vrrp_version 3\n}}\n\
             vrrp_instance VI_1 {{\n    state BACKUP\n    interface vrrp0\n    virtual_router_id 77\n    \
             priority {priority}\n    advert_int 1\n    virtual_ipaddress {{\n        10.77.0.100/24\n    }}\n}}\n"
        ),
    )
    .unwrap();
    Command::new("ip")
        .args([
            "netns",
            "exec",
            &lan.theirs,
            "keepalived",
            "-n",
            "-l",
            "-D",
            "-f",
        ])
        .arg(&conf)
        .arg("-p")
        .arg(dir.join(format!("k-{priority}.pid")))
        .arg("-r")
        .arg(dir.join(format!("kv-{priority}.pid")))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("keepalived starts")
}

/// What the engine's router did, when.
#[derive(Default)]
struct Record(Mutex<Vec<(Instant, State)>>);

impl Owner for Record {
    fn take(&self, _: &[std::net::IpAddr]) {}
    fn release(&self, _: &[std::net::IpAddr]) {}
    fn became(&self, state: State) {
        self.0.lock().unwrap().push((Instant::now(), state));
    }
}

impl Record {
    fn last(&self) -> Option<State> {
        self.0.lock().unwrap().last().map(|(_, s)| *s)
    }

    /// Waits until the router is in `state`; when it got there.
    fn wait_for(&self, state: State, within: Duration) -> Option<Instant> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some((at, s)) = self.0.lock().unwrap().last() {
                if *s == state {
                    return Some(*at);
                }
            }
            std::thread::sleep(Duration::from_millis(20)); // the poll interval
        }
        None
    }
}

/// Runs the engine's router in namespace `ns` on its own thread.
fn engine_router(ns: &str, record: Arc<Record>) -> tokio::sync::watch::Sender<bool> {
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let path = PathBuf::from("/var/run/netns").join(ns);
    std::thread::spawn(move || {
        use std::os::fd::AsRawFd;
        let file = std::fs::File::open(&path).expect("the namespace");
        // SAFETY: setns(2) moves this thread alone into the namespace.
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let link = RawLink::open("vrrp0", &[]).expect("a raw VRRP socket");
            let router = Router {
                vrid: 77,
                addrs: vec!["10.77.0.100".parse().unwrap()],
                machine: Machine::new(
                    Settings {
                        priority: 100,
                        interval_cs: 100,
                        preempt: true,
                        primary: std::net::IpAddr::V4(link.primary),
                    },
                    false,
                ),
                preempt_delay: None,
            };
            router.run(Arc::new(link), record, stop_rx).await;
        });
    });
    stop
}

#[test]
fn the_engine_and_keepalived_elect_each_other() {
    if xtests::installed(
        "keepalived",
        &["/usr/sbin/keepalived"],
        "the VRRP interop test",
    )
    .is_none()
    {
        return;
    }
    let Some(lan) = Lan::make() else {
        eprintln!("note: cannot make network namespaces here (root needed), skipping the VRRP interop test");
        return;
    };
    // keepalived's own child is orphaned when keepalived is killed: this
    // process adopts it, to reap it at the end (no zombie left behind).
    // SAFETY: prctl(PR_SET_CHILD_SUBREAPER) on this process.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1) };
    let dir = xtests::config_file("vrrp-keepalived", "")
        .parent()
        .unwrap()
        .to_path_buf();
    let mut higher = keepalived(&lan, &dir, 150);
    let record = Arc::new(Record::default());
    let stop = engine_router(&lan.ours, record.clone());
    assert!(record
        .wait_for(State::Backup, Duration::from_secs(5))
        .is_some());
    // keepalived's priority is higher: over twice its master down
    // interval, the engine never takes over.
    std::thread::sleep(Duration::from_secs(8)); // the protocol's time, not a wait on an event
    assert_eq!(
        record.last(),
        Some(State::Backup),
        "the engine stayed backup"
    );

    // keepalived dies without a word: the engine takes over within its
    // master down interval (3.61 s at priority 100) and an advertisement.
    let killed = Instant::now();
    kill_all_in(&lan.theirs);
    let _ = higher.wait();
    let took = record
        .wait_for(State::Master, Duration::from_secs(10))
        .expect("the engine takes over");
    assert!(
        took.duration_since(killed) <= Duration::from_millis(3_610 + 1_000),
        "took over after {:?}",
        took.duration_since(killed)
    );

    // keepalived returns with a higher priority: it preempts the engine.
    let mut back = keepalived(&lan, &dir, 200);
    assert!(
        record
            .wait_for(State::Backup, Duration::from_secs(10))
            .is_some(),
        "keepalived preempts the engine"
    );
    let _ = stop.send(true);
    let _ = back.kill();
    let _ = back.wait();
    kill_all_in(&lan.theirs);
    // Reap what was adopted.
    // SAFETY: waitpid without waiting on this process's children.
    while unsafe { libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) } > 0 {}
}

/// Every process left in namespace `ns` (keepalived's children), killed.
fn kill_all_in(ns: &str) {
    if let Ok(o) = Command::new("ip").args(["netns", "pids", ns]).output() {
        for pid in String::from_utf8_lossy(&o.stdout).split_whitespace() {
            if let Ok(pid) = pid.parse::<i32>() {
                // SAFETY: kill(2) on a process of the test's namespace.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    }
}
