//! The embedded world: the same engine code as the `engine` binary, over
//! turmoil, alternating, dropping dead servers, using the backup, restoring.

/// Which server answered each client connection, in order, with its time.
fn answers(transcript: &str) -> Vec<(f64, String)> {
    transcript
        .lines()
        .filter_map(|l| {
            let (time, rest) = l.trim_start().split_once("s client")?;
            let who = rest.trim().strip_prefix("answered by ")?;
            Some((time.parse().ok()?, who.to_string()))
        })
        .collect()
}

fn time_of(transcript: &str, needle: &str) -> f64 {
    let line = transcript
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{transcript}"));
    line.trim_start()
        .split_once('s')
        .unwrap()
        .0
        .parse()
        .unwrap()
}

#[test]
fn same_seed_same_bytes() {
    let a = sim::demo::run(7).unwrap();
    let b = sim::demo::run(7).unwrap();
    assert_eq!(a, b);
}

#[test]
fn roundrobin_alternates_before_any_failure() {
    let t = sim::demo::run(1).unwrap();
    let early: Vec<String> = answers(&t)
        .into_iter()
        .filter(|(at, _)| *at < 3.0)
        .map(|(_, w)| w)
        .collect();
    assert_eq!(early, ["web1", "web2", "web1", "web2", "web1"], "{t}");
}

#[test]
fn dead_servers_leave_rotation_and_the_backup_takes_over() {
    let t = sim::demo::run(1).unwrap();
    let web1_down = time_of(&t, "Server test/web1 is DOWN");
    let web2_down = time_of(&t, "Server test/web2 is DOWN");
    // Silent deaths: fall (3) checks, each lasting inter (1s) of timeout
    // plus inter (1s) of pause, after the crash.
    assert!((3.0..=3.0 + 3.0 * 2.0 + 1.0).contains(&web1_down), "{t}");
    assert!(
        t.contains("0 active and 1 backup servers left. Running on backup."),
        "{t}"
    );
    for (at, who) in answers(&t) {
        if at > web1_down && at < 22.0 {
            assert_ne!(who, "web1", "web1 answered at {at} while DOWN:\n{t}");
        }
        if who == "web7" {
            assert!(
                at > web2_down,
                "backup answered at {at} with an active server up:\n{t}"
            );
        }
    }
    assert!(answers(&t).iter().any(|(_, w)| w == "web7"), "{t}");
}

#[test]
fn restored_servers_rejoin_after_rise_checks() {
    let t = sim::demo::run(1).unwrap();
    let web1_up = time_of(&t, "Server test/web1 is UP");
    let web2_up = time_of(&t, "Server test/web2 is UP");
    // rise (2) passing checks at inter (1s) after the restart at 22s.
    for up in [web1_up, web2_up] {
        assert!((22.0..=22.0 + 2.0 * 1.0 + 1.0).contains(&up), "{t}");
    }
    let last = web1_up.max(web2_up);
    let after: Vec<String> = answers(&t)
        .into_iter()
        .filter(|(at, _)| *at > last)
        .map(|(_, w)| w)
        .collect();
    assert!(after.len() >= 4, "{t}");
    assert!(
        after.windows(2).all(|w| w[0] != w[1]),
        "not alternating: {after:?}"
    );
    assert!(!after.contains(&"web7".to_string()), "{t}");
}

/// The whole transcript is pinned: any change in what the client or the
/// engine says shows up as a snapshot diff (snapshots/demo.snap).
#[test]
fn transcript_matches_the_snapshot() {
    let t = sim::demo::run(1).unwrap();
    insta::with_settings!({
        snapshot_path => "../../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!("demo", t);
    });
}
