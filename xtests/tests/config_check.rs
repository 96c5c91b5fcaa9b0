//! `engine -c` and `haproxy -c`, live, on every configuration of examples/
//! (the seed's, clean and verbatim-broken): same exit code, same messages
//! line for line. Only HAProxy's two banner lines (its version and path)
//! and the pids are left out of the comparison.

use std::path::PathBuf;

use xtests::run_in;

fn example_files() -> Vec<PathBuf> {
    let root = xtests::workspace().join("examples");
    let mut files = vec![];
    for dir in [root.clone(), root.join("broken")] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "cfg") {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 10, "examples/ holds the seed configs");
    files
}

#[test]
fn every_example_checks_as_with_haproxy() {
    let Some(haproxy) = xtests::haproxy_bin() else {
        return;
    };
    let engine = xtests::engine_bin!();
    let root = xtests::workspace();
    let mut mismatches = vec![];
    for file in example_files() {
        // Relative paths, so both print the same file names.
        let rel = file
            .strip_prefix(&root)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let args = ["-c", "-f", rel.as_str()];
        let theirs = run_in(&haproxy, &root, &args);
        let ours = run_in(&engine, &root, &args);
        if (ours.0, xtests::check_messages(&ours.1))
            != (theirs.0, xtests::check_messages(&theirs.1))
        {
            mismatches.push(format!(
                "{rel}\n  haproxy (exit {}):\n{}\n  engine (exit {}):\n{}",
                theirs.0,
                xtests::check_messages(&theirs.1).join("\n"),
                ours.0,
                xtests::check_messages(&ours.1).join("\n")
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n\n"));
}
