//! The packaged files stay usable: packaging/engine.cfg (the .deb's and the
//! Docker image's /etc/engine/engine.cfg) passes `engine -c` and uses no
//! keyword the engine would refuse to run, and packaging/engine.service
//! starts the engine the way its reload expects.

use std::path::{Path, PathBuf};
use std::process::Command;

use engine::{config, identity};

fn packaging(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../packaging")
        .join(file)
}

/// The default configuration, as `engine -c` can check it on this machine.
///
/// It says `user engine` and `group engine`, which the package's postinst
/// creates; the engine looks them up while parsing, as HAProxy does. Where
/// they do not exist (a build machine), a copy naming root instead is
/// checked: every other line is the packaged one.
fn checkable_config() -> PathBuf {
    let cfg = packaging("engine.cfg");
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(
        text.contains("\tuser engine\n") && text.contains("\tgroup engine\n"),
        "engine.cfg runs as the user the postinst creates"
    );
    if identity::user_id("engine").is_ok() && identity::group_id("engine").is_ok() {
        return cfg;
    }
    // One copy per caller: the tests run at once, and one writing the
    // file while another reads it would hand the reader half a file.
    static COPIES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COPIES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let copy = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("packaging-engine-{n}.cfg"));
    let text = text
        .replace("\tuser engine\n", "\tuser root\n")
        .replace("\tgroup engine\n", "\tgroup root\n");
    std::fs::write(&copy, text).unwrap();
    copy
}

#[test]
fn default_config_passes_check() {
    let cfg = checkable_config();
    let out = Command::new(env!("CARGO_BIN_EXE_engine"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("-c")
        .arg("-f")
        .arg(&cfg)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "engine -c -f {}:\n{stdout}{stderr}",
        cfg.display()
    );
    assert!(
        stdout.contains("Configuration file is valid"),
        "{stdout}{stderr}"
    );
    assert!(!stdout.contains("Warnings were found"), "{stdout}{stderr}");
}

/// `-c` accepts keywords the engine parses but does not run yet; starting
/// with one is refused. The default configuration has none.
#[test]
fn default_config_uses_only_implemented_keywords() {
    let cfg = checkable_config();
    let text = std::fs::read_to_string(&cfg).unwrap();
    let loaded = config::load_str("engine.cfg", &text).unwrap_or_else(|e| {
        panic!("engine.cfg does not load: {:?}", e.diagnostics);
    });
    let refused: Vec<String> = loaded
        .config
        .unimplemented
        .iter()
        .map(|u| format!("{}: '{}' in '{}'", u.at, u.keyword, u.section))
        .collect();
    assert!(refused.is_empty(), "not implemented yet: {refused:?}");
}

/// `Key=value` lines of one section of a unit file, in order (comments and
/// blank lines left out; systemd's line continuations are not used here).
fn unit_section(text: &str, section: &str) -> Vec<(String, String)> {
    let header = format!("[{section}]");
    let mut inside = false;
    let mut out = vec![];
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if line.starts_with('[') {
            inside = line == header;
            continue;
        }
        if inside {
            let (k, v) = line.split_once('=').expect("a Key=value line");
            out.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    out
}

#[test]
fn unit_runs_master_worker_with_notify_and_reloads_with_usr2() {
    let text = std::fs::read_to_string(packaging("engine.service")).unwrap();
    let service = unit_section(&text, "Service");
    let all = |key: &str| -> Vec<&str> {
        service
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    };

    assert_eq!(all("Type"), ["notify"], "-Ws tells systemd with sd_notify");

    let start = all("ExecStart");
    assert_eq!(start.len(), 1, "{start:?}");
    let words: Vec<&str> = start[0].split_whitespace().collect();
    assert_eq!(words[0], "/usr/sbin/engine", "the .deb's binary");
    assert!(words.contains(&"-Ws"), "ExecStart={}", start[0]);
    assert!(start[0].contains("-f $CONFIG"), "ExecStart={}", start[0]);

    let reload = all("ExecReload");
    let (last, checks) = reload.split_last().expect("ExecReload lines");
    assert!(
        last.ends_with("kill -USR2 $MAINPID"),
        "the last ExecReload signals the master: {last}"
    );
    assert!(
        checks
            .iter()
            .any(|c| c.starts_with("/usr/sbin/engine") && c.split_whitespace().any(|w| w == "-c")),
        "the configuration is checked before the master is signalled: {reload:?}"
    );

    assert_eq!(all("KillMode"), ["mixed"]);
    assert!(all("Environment")
        .iter()
        .any(|e| e.contains("CONFIG=/etc/engine/engine.cfg")));
}
