//! Every seed of `corpus/` goes through its target's checks without
//! AFL++: `cargo test` in `fuzz/` replays them (and any crash input copied
//! there) on stable Rust, in seconds.

use std::fs;
use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut seen = 0;
    for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = fs::read(&path).unwrap();
        eprintln!("{}", path.display());
        check(&data);
        seen += 1;
    }
    assert!(seen > 0, "{} is empty", dir.display());
}

#[test]
fn request_seeds() {
    replay("request", engine_fuzz::request);
}

#[test]
fn response_seeds() {
    replay("response", engine_fuzz::response);
}

#[test]
fn config_seeds() {
    replay("config", engine_fuzz::config);
}
