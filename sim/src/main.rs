//! The `sim` binary: `sim run [--seed N]` replays the embedded default world
//! and prints its transcript.

use clap::{Parser, Subcommand};

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
    /// Run the embedded default world: two servers and a backup, with
    /// failures and recoveries, and print what the client and engine saw.
    Run {
        /// Seed of every random choice; the same seed prints the same bytes.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Print the engine configuration of the embedded world.
    Config,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run { seed } => match sim::demo::run(seed) {
            Ok(transcript) => {
                print!("{transcript}");
                std::process::ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("sim: {e}");
                std::process::ExitCode::FAILURE
            }
        },
        Command::Config => {
            print!("{}", sim::demo::CONFIG);
            std::process::ExitCode::SUCCESS
        }
    }
}
