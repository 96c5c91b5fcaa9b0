//! AFL++ target: HTTP/1 response bytes: head, framing, chunked body, re-serialised head.
//! The checks are in `engine_fuzz::response`. Built without cargo-afl, it
//! replays the files named on its command line instead:
//! `cargo run --bin response -- out/response/default/crashes/id:*`.

fn main() {
    #[cfg(fuzzing)]
    afl::fuzz!(|data: &[u8]| engine_fuzz::response(data));
    #[cfg(not(fuzzing))]
    engine_fuzz::replay_args(engine_fuzz::response);
}
