//! A differential HTTP/1 request-smuggling matrix: every case's client
//! bytes go to HAProxy 2.6 and to the engine, both running the same
//! configuration in front of a recording server. For each case the
//! engine must give the client the same status lines and the same
//! connection fate, forward no request HAProxy did not forward (above all
//! nothing under /denied or /desync/smuggled), and let through to the
//! client no injected bytes HAProxy kept out. Every mismatch is collected
//! and printed as a table; the test fails with their count.
//!
//! `XTESTS_SMUGGLING_SELF=1` runs HAProxy against a second HAProxy
//! instead of the engine, comparing both ways: a check of the harness
//! itself (it must report nothing). `XTESTS_SMUGGLING_ALL=1` prints every
//! case's outcomes, not only the mismatches.

mod framing;
mod responses;
mod syntax;

use std::time::Instant;
use xtests::smuggle::{differences, run_all, Case, Front, Outcome, Step, Target};

/// Cases where the engine differs from HAProxy on purpose: (case, why).
/// Only the status and the connection's fate may differ: what reaches
/// the server or the client never may. Listed in the book
/// (http-parsing.md).
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    (
        "chunk/ext-very-long",
        "a chunk extension longer than a buffer: HAProxy stops reading with \
         its buffer full and answers 504 at `timeout server`; the engine \
         refuses it at once (400)",
    ),
    (
        "line/del-target",
        "DEL (0x7f) in the target: HAProxy's four-bytes-at-a-time scan of \
         the target lets it through in some positions and not others; the \
         engine refuses it everywhere, as the grammar says",
    ),
];

/// Cases run at once (each on both proxies).
const LANES: usize = 8;

/// A request hidden in a body: a proxy that frames the body wrongly
/// forwards it as a request of its own.
const HIDDEN: &str = "GET /desync/smuggled HTTP/1.1\r\nHost: a\r\n\r\n";

fn next(tag: &str) -> String {
    format!("GET /{tag}/next HTTP/1.1\r\nHost: a\r\n\r\n")
}

const DENIED: &str = "GET /denied HTTP/1.1\r\nHost: a\r\n\r\n";

/// A chunked body carrying `data` in one chunk.
fn chunked(data: &str) -> String {
    format!("{:x}\r\n{data}\r\n0\r\n\r\n", data.len())
}

fn bytes(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// A case on the main frontend whose client sends `wire` in one write
/// and expects `answers` responses.
fn one(name: &str, answers: usize, wire: impl AsRef<[u8]>) -> Case {
    Case {
        name: name.to_string(),
        front: Front::Main,
        steps: vec![Step::Send(wire.as_ref().to_vec())],
        answers,
        head_only: false,
    }
}

fn steps(name: &str, front: Front, answers: usize, steps: Vec<Step>) -> Case {
    Case {
        name: name.to_string(),
        front,
        steps,
        answers,
        head_only: false,
    }
}

fn send(wire: impl AsRef<[u8]>) -> Step {
    Step::Send(wire.as_ref().to_vec())
}

// ---------------------------------------------------------------------

fn all_cases() -> Vec<(&'static str, Vec<Case>)> {
    vec![
        ("1 content-length", framing::content_length()),
        ("2 transfer-encoding", framing::transfer_encoding()),
        ("3 te+cl", framing::te_with_cl()),
        ("4 chunk sizes", framing::chunk_sizes()),
        ("5 trailers", framing::trailers()),
        ("6 header syntax", syntax::headers()),
        ("7 request line", syntax::request_line()),
        ("8 pipelining", syntax::pipelining()),
        ("9 response side", responses::responses()),
        ("10 reuse", responses::reuse()),
    ]
}

#[test]
fn smuggling_matrix_against_haproxy() {
    let Some(haproxy) = xtests::haproxy_bin() else {
        return;
    };
    let self_check = std::env::var_os("XTESTS_SMUGGLING_SELF").is_some();
    let categories = all_cases();
    for (category, cases) in &categories {
        eprintln!("{category}: {} cases", cases.len());
    }
    let cases: Vec<Case> = categories.into_iter().flat_map(|(_, c)| c).collect();
    let mut names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "case names are unique");
    for (known, _) in KNOWN_DIFFERENCES {
        assert!(
            names.contains(known),
            "KNOWN_DIFFERENCES names no case {known}"
        );
    }

    let started = Instant::now();
    let candidate = if self_check {
        haproxy.clone()
    } else {
        xtests::engine_bin!()
    };
    let targets = [
        Target::start("haproxy", &haproxy, LANES, responses::script),
        Target::start(
            if self_check { "haproxy-2" } else { "engine" },
            &candidate,
            LANES,
            responses::script,
        ),
    ];
    let outcomes = run_all(&cases, &targets);
    let elapsed = started.elapsed();
    // The harness itself: a plain request and a pipelined one pass
    // HAProxy and reach the recorder, else every comparison is vacuous.
    let baseline = cases.iter().position(|c| c.name == "cl/valid");
    let reference = &outcomes[baseline.expect("the cl/valid case")][0];
    assert_eq!(
        (reference.codes(), reference.forwarded.len()),
        (vec!["200".to_string(), "200".to_string()], 2),
        "HAProxy's answer to cl/valid: {}",
        reference.render()
    );

    let print_all = std::env::var_os("XTESTS_SMUGGLING_ALL").is_some();
    let mut rows = vec![];
    for (case, outs) in cases.iter().zip(&outcomes) {
        let (reference, candidate) = (&outs[0], &outs[1]);
        let diff = differences(reference, candidate, self_check);
        if diff.is_empty() && !print_all {
            continue;
        }
        let known = KNOWN_DIFFERENCES.iter().find(|(n, _)| *n == case.name);
        rows.push((
            case.name.clone(),
            diff.join(","),
            known.map(|k| k.1),
            reference.clone(),
            candidate.clone(),
        ));
    }
    let differing = rows.iter().filter(|r| !r.1.is_empty());
    // A known difference excuses a status, a fate, or forwarding less:
    // never forwarding more.
    let excused = |r: &&Row| {
        r.2.is_some()
            && r.1
                .split(',')
                .all(|d| matches!(d, "status" | "fate" | "forwarded-less"))
    };
    let unexpected = differing.clone().filter(|r| !excused(r)).count();
    let known = differing.count() - unexpected;
    eprintln!("{}", table(&targets[1].name, &rows));
    eprintln!(
        "{} cases in {:.1}s; {} differ ({known} known)",
        cases.len(),
        elapsed.as_secs_f64(),
        unexpected + known,
    );
    assert_eq!(
        unexpected, 0,
        "{unexpected} cases differ from HAProxy (table above)"
    );
}

type Row = (String, String, Option<&'static str>, Outcome, Outcome);

/// The mismatches, one block per case: what differs, then HAProxy's and
/// the candidate's outcomes.
fn table(candidate: &str, rows: &[Row]) -> String {
    let mut out = format!("\n{:<44} {}\n", "case", "differs");
    for (name, diff, known, reference, other) in rows {
        let known = known.map(|k| format!(" (known: {k})")).unwrap_or_default();
        out.push_str(&format!("{name:<44} {diff}{known}\n"));
        out.push_str(&format!("    {:<10} {}\n", "haproxy", reference.render()));
        out.push_str(&format!("    {:<10} {}\n", candidate, other.render()));
    }
    out
}
