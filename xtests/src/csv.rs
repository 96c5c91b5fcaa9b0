//! `show stat` CSV read into rows, and compared between two proxies.

use std::collections::BTreeMap;

/// CSV lines by (pxname, svname), each as column → value.
pub type Rows = BTreeMap<(String, String), BTreeMap<String, String>>;

/// Columns whose value is a time, an age, a rate or a peak that depends
/// on scheduling: two runs of the same traffic differ there, so they are
/// compared for presence only.
pub const TIMING: &[&str] = &[
    "lastchg",
    "downtime",
    "lastsess",
    "check_duration",
    "rate",
    "rate_max",
    "conn_rate",
    "conn_rate_max",
    "req_rate",
    "req_rate_max",
    // Whether the previous connection was still closing when the next
    // came is a matter of scheduling.
    "smax",
    "qtime",
    "ctime",
    "rtime",
    "ttime",
    "qtime_max",
    "ctime_max",
    "rtime_max",
    "ttime_max",
];

/// The header line and the rows of a `show stat` reply.
pub fn table(csv: &str) -> (String, Rows) {
    let mut lines = csv.lines();
    let header = lines.next().unwrap_or_default().to_string();
    let columns: Vec<&str> = header.trim_start_matches("# ").split(',').collect();
    let rows = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let cells: BTreeMap<String, String> = columns
                .iter()
                .zip(l.split(','))
                .map(|(c, v)| (c.to_string(), v.to_string()))
                .collect();
            ((cells["pxname"].clone(), cells["svname"].clone()), cells)
        })
        .collect();
    (header, rows)
}

/// Every cell the engine fills that differs from HAProxy's, one line
/// each. Columns in `timing` (ages, durations, peaks that depend on
/// scheduling) are compared for presence only; the servers' ports in
/// `addr` differ between two runs and are left out.
pub fn differences(ours: &Rows, theirs: &Rows, timing: &[&str]) -> Vec<String> {
    let mut out = vec![];
    for (key, row) in ours {
        let Some(other) = theirs.get(key) else {
            out.push(format!("HAProxy has no line {key:?}"));
            continue;
        };
        for (column, value) in row.iter().filter(|(_, v)| !v.is_empty()) {
            let theirs = &other[column];
            let same = match column.as_str() {
                c if timing.contains(&c) => !theirs.is_empty(),
                "addr" => value.split(':').next() == theirs.split(':').next(),
                _ => value == theirs,
            };
            if !same {
                out.push(format!(
                    "{key:?} {column}: engine {value:?}, HAProxy {theirs:?}"
                ));
            }
        }
    }
    out
}
