//! AFL++ target: HTTP/1 request bytes: head, framing, chunked body, re-serialised head.
//! The checks are in `engine_fuzz::request`. Built without cargo-afl, it
//! replays the files named on its command line instead:
//! `cargo run --bin request -- out/request/default/crashes/id:*`.

fn main() {
    #[cfg(fuzzing)]
    afl::fuzz!(|data: &[u8]| engine_fuzz::request(data));
    #[cfg(not(fuzzing))]
    engine_fuzz::replay_args(engine_fuzz::request);
}
