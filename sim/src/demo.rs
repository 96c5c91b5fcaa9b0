//! The embedded default: the seed's two-server setup, replayed in the
//! simulator with a failure timeline. It needs no real server and runs in
//! well under a second of wall time for twenty seconds of virtual time.
//!
//! Hosts take the seed's addresses: the proxy 10.96.20.113, real servers
//! RS1 172.16.10.118 and RS2 172.16.10.119, and a backup 172.16.10.7. A
//! client connects every 500 ms and notes which server answered. RS1 dies
//! at 3 s, RS2 at 10 s (the backup takes over once both are DOWN), both
//! come back at 22 s. The deaths are silent (a crashed host answers
//! nothing), so each failed check lasts its whole timeout.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use engine::config;
use engine::log::LogSink;
use engine::runtime::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::net::SimNet;
use crate::transcript::Transcript;

/// The engine configuration of the demo, as an operator would write it.
pub const CONFIG: &str = include_str!("demo.cfg");

const PROXY: &str = "10.96.20.113";
const SERVERS: [(&str, &str); 3] = [
    ("web1", "172.16.10.118"),
    ("web2", "172.16.10.119"),
    ("web7", "172.16.10.7"),
];
const CLIENT: &str = "10.96.20.89";

/// How long the client keeps sending, and the gap between its connections.
const CLIENT_RUN: Duration = Duration::from_secs(30);
const CLIENT_GAP: Duration = Duration::from_millis(500);
/// A client gives up on a connection that answers nothing for this long.
const CLIENT_PATIENCE: Duration = Duration::from_secs(5);
/// The process id the simulated engine reports.
const PID: u32 = 1000;
/// 2016-08-14 22:00:00 UTC, the day of the seed's logs.
const EPOCH_SECS: u64 = 1_471_212_000;

/// Timeline events, at virtual times.
#[derive(Debug, Clone, Copy)]
enum Event {
    Crash(&'static str),
    Restore(&'static str),
}

const TIMELINE: [(Duration, Event); 4] = [
    (Duration::from_secs(3), Event::Crash("web1")),
    (Duration::from_secs(10), Event::Crash("web2")),
    (Duration::from_secs(22), Event::Restore("web1")),
    (Duration::from_secs(22), Event::Restore("web2")),
];

/// Runs the demo with `seed` and returns its transcript.
pub fn run(seed: u64) -> Result<String, Box<dyn std::error::Error>> {
    let loaded = config::load_str("demo.cfg", CONFIG).map_err(|e| {
        let lines: Vec<String> = e.diagnostics.iter().map(|d| d.message.clone()).collect();
        lines.join("\n")
    })?;
    let config = Arc::new(loaded.config);
    let transcript = Transcript::default();

    let mut sim = turmoil::Builder::new()
        .epoch(SystemTime::UNIX_EPOCH + Duration::from_secs(EPOCH_SECS))
        .rng_seed(seed)
        .simulation_duration(CLIENT_RUN + CLIENT_PATIENCE * 2)
        // A LAN: every message takes one millisecond.
        .min_message_latency(Duration::from_millis(1))
        .max_message_latency(Duration::from_millis(1))
        .build();

    {
        let config = config.clone();
        let transcript = transcript.clone();
        sim.host(PROXY, move || {
            let config = config.clone();
            let sink: Arc<dyn LogSink> = Arc::new(transcript.sink("engine", PID));
            async move {
                let _engine =
                    Engine::start(&config, Arc::new(SimNet::new(seed, PID)), sink, "engine")
                        .await?;
                std::future::pending::<()>().await;
                Ok(())
            }
        });
    }
    for (name, addr) in SERVERS {
        sim.host(addr, move || serve_name(name));
    }
    {
        let transcript = transcript.clone();
        sim.client(CLIENT, async move {
            let start = tokio::time::Instant::now();
            while start.elapsed() < CLIENT_RUN {
                tokio::time::sleep(CLIENT_GAP).await;
                let answer = ask(PROXY).await;
                transcript.note("client", &answer);
            }
            Ok(())
        });
    }

    let mut timeline = TIMELINE.iter().peekable();
    loop {
        while let Some((at, event)) = timeline.peek() {
            if sim.elapsed() < *at {
                break;
            }
            transcript.note_at(sim.elapsed(), "timeline", &describe(*event));
            match event {
                Event::Crash(name) => sim.crash(address_of(name)),
                Event::Restore(name) => sim.bounce(address_of(name)),
            }
            timeline.next();
        }
        if sim.step()? {
            break;
        }
    }
    Ok(transcript.render())
}

fn describe(event: Event) -> String {
    match event {
        Event::Crash(name) => format!("{name} crashes"),
        Event::Restore(name) => format!("{name} restarts"),
    }
}

fn address_of(name: &str) -> &'static str {
    SERVERS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, a)| *a)
        .expect("timeline names a known server")
}

/// A real server of the demo: answers every connection with its name.
async fn serve_name(name: &'static str) -> turmoil::Result {
    let listener = turmoil::net::TcpListener::bind("0.0.0.0:80").await?;
    loop {
        let (mut stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            let _ = stream.write_all(name.as_bytes()).await;
            let _ = stream.shutdown().await;
        });
    }
}

/// One client connection: what came back, or why nothing did.
async fn ask(proxy: &str) -> String {
    let attempt = async {
        let mut stream = turmoil::net::TcpStream::connect((proxy, 80)).await?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await?;
        Ok::<_, std::io::Error>(answer)
    };
    match tokio::time::timeout(CLIENT_PATIENCE, attempt).await {
        Ok(Ok(answer)) if answer.is_empty() => "closed without an answer".to_string(),
        Ok(Ok(answer)) => format!("answered by {answer}"),
        Ok(Err(e)) => format!("error: {e}"),
        Err(_) => "no answer in time".to_string(),
    }
}
