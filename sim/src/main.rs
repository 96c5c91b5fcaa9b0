//! The `sim` binary: `sim run [SCENARIO] [--seed N]` replays a scenario
//! (the embedded failover world when none is given) and prints its
//! transcript and client report; `sim check SCENARIO` only validates it.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sim::scenario::Scenario;

#[derive(Parser)]
#[command(
    name = "sim",
    about = "Replay failure scenarios against the engine, deterministically"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario and print what the clients, the engines and the
    /// syslog collector saw, then the clients' report.
    Run {
        /// The scenario file; default: the embedded failover world.
        scenario: Option<PathBuf>,
        /// Override the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Also write the clients' report, and the expectations that
        /// failed, as JSON to this file.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Validate a scenario file and the engine configurations in it.
    Check { scenario: PathBuf },
}

fn load(path: Option<&Path>) -> Result<Scenario, String> {
    match path {
        Some(p) => Scenario::load(p).map_err(|e| e.to_string()),
        None => Scenario::parse(
            "failover.yaml (embedded)",
            sim::DEFAULT_SCENARIO,
            Path::new("scenarios"),
        )
        .map_err(|e| e.to_string()),
    }
}

/// On a terminal, a bar of virtual time on stderr: `[#####.....] 12s / 31s`.
fn progress_bar() -> impl FnMut(std::time::Duration, std::time::Duration) {
    let terminal = std::io::stderr().is_terminal();
    move |now, total| {
        if !terminal || total.is_zero() {
            return;
        }
        let width = 30;
        let done = (now.as_secs_f64() / total.as_secs_f64() * width as f64) as usize;
        let done = done.min(width);
        eprint!(
            "\r[{}{}] {}s / {}s",
            "#".repeat(done),
            ".".repeat(width - done),
            now.as_secs(),
            total.as_secs()
        );
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run {
            scenario,
            seed,
            json,
        } => load(scenario.as_deref()).and_then(|mut s| {
            if let Some(seed) = seed {
                s.seed = seed;
            }
            let outcome = sim::world::run_with_progress(&s, &mut progress_bar())
                .map_err(|e| e.to_string())?;
            if std::io::stderr().is_terminal() {
                // The bar's line is wiped before the transcript.
                eprint!("\r{:60}\r", "");
            }
            print!("{}\n{}", outcome.transcript, outcome.report);
            if let Some(path) = json {
                let report = serde_json::json!({
                    "scenario": s.name,
                    "seed": s.seed,
                    "duration_s": s.duration.0.as_secs_f64(),
                    "clients": outcome.clients.summaries(s.duration.0),
                    "streams": outcome.streams,
                    "health": outcome.health,
                    "servers": outcome.servers,
                    "failed": outcome.failed,
                });
                let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
                std::fs::write(&path, text + "\n")
                    .map_err(|e| format!("{}: {e}", path.display()))?;
            }
            if outcome.failed.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "expectations failed:\n{}",
                    outcome.failed.join("\n")
                ))
            }
        }),
        // Loading validates the scenario and the engine configurations in it.
        Command::Check { scenario } => load(Some(&scenario)).map(|_| {
            println!("{}: valid", scenario.display());
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sim: {e}");
            ExitCode::FAILURE
        }
    }
}
