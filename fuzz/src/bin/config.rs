//! AFL++ target: haproxy.cfg text: the configuration loader.
//! The checks are in `engine_fuzz::config`. Built without cargo-afl, it
//! replays the files named on its command line instead:
//! `cargo run --bin config -- out/config/default/crashes/id:*`.

fn main() {
    #[cfg(fuzzing)]
    afl::fuzz!(|data: &[u8]| engine_fuzz::config(data));
    #[cfg(not(fuzzing))]
    engine_fuzz::replay_args(engine_fuzz::config);
}
