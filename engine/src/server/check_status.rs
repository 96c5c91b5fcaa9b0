//! HAProxy's check statuses, as one table (check-t.h's HCHK_STATUS_* and
//! check.c's check_statuses[]): each status's number, the name the stats
//! show (`check_status`), the words of the messages and `check_desc`, and
//! the result it means (CHK_RES_*).
//!
//! A server keeps the status of its last check as a [`CheckStatus`]; the
//! checks produce them, and the CSV, the runtime API, the Prometheus
//! exporter and the state-change messages render them from this table.
//! HAProxy's special and dummy entries (UNK, START, CHECKED, L57DATA) are
//! left out: no check ends with them here.

use super::health::Outcome;

/// One of HAProxy's check statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckStatus {
    /// No check has finished yet.
    Ini,
    /// Passive checks: `error-limit` errors observed in the traffic.
    Hana,
    SockErr,
    L4Ok,
    L4Tout,
    L4Con,
    L6Ok,
    L6Tout,
    L6Rsp,
    L7Tout,
    L7Rsp,
    L7Ok,
    L7OkCond,
    L7Sts,
    ProcErr,
    ProcTout,
    ProcOk,
}

/// What a status says of the server (HAProxy's CHK_RES_*, with its
/// numbers, as the server-state dump prints them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CheckResult {
    Unknown = 0,
    Failed = 2,
    Passed = 3,
    /// Passed, but the server asks to be left out (NOLB).
    CondPassed = 4,
}

struct Entry {
    status: CheckStatus,
    /// HCHK_STATUS_*.
    value: u8,
    name: &'static str,
    desc: &'static str,
    result: CheckResult,
}

const fn entry(
    status: CheckStatus,
    value: u8,
    name: &'static str,
    desc: &'static str,
    result: CheckResult,
) -> Entry {
    Entry {
        status,
        value,
        name,
        desc,
        result,
    }
}

use CheckResult::{CondPassed, Failed, Passed, Unknown};

/// HAProxy's table, in its order (the order the exporter labels them).
#[rustfmt::skip]
const TABLE: [Entry; 17] = [
    entry(CheckStatus::Ini,      1,  "INI",      "Initializing",                      Unknown),
    entry(CheckStatus::Hana,     4,  "HANA",     "Health analyze",                    Failed),
    entry(CheckStatus::SockErr,  5,  "SOCKERR",  "Socket error",                      Failed),
    entry(CheckStatus::L4Ok,     6,  "L4OK",     "Layer4 check passed",               Passed),
    entry(CheckStatus::L4Tout,   7,  "L4TOUT",   "Layer4 timeout",                    Failed),
    entry(CheckStatus::L4Con,    8,  "L4CON",    "Layer4 connection problem",         Failed),
    entry(CheckStatus::L6Ok,     9,  "L6OK",     "Layer6 check passed",               Passed),
    entry(CheckStatus::L6Tout,   10, "L6TOUT",   "Layer6 timeout",                    Failed),
    entry(CheckStatus::L6Rsp,    11, "L6RSP",    "Layer6 invalid response",           Failed),
    entry(CheckStatus::L7Tout,   12, "L7TOUT",   "Layer7 timeout",                    Failed),
    entry(CheckStatus::L7Rsp,    13, "L7RSP",    "Layer7 invalid response",           Failed),
    entry(CheckStatus::L7Ok,     15, "L7OK",     "Layer7 check passed",               Passed),
    entry(CheckStatus::L7OkCond, 16, "L7OKC",    "Layer7 check conditionally passed", CondPassed),
    entry(CheckStatus::L7Sts,    17, "L7STS",    "Layer7 wrong status",               Failed),
    entry(CheckStatus::ProcErr,  18, "PROCERR",  "External check error",              Failed),
    entry(CheckStatus::ProcTout, 19, "PROCTOUT", "External check timeout",            Failed),
    entry(CheckStatus::ProcOk,   20, "PROCOK",   "External check passed",             Passed),
];

/// HCHK_STATUS_L57DATA: the statuses above it carry a response code.
const L57DATA: u8 = 14;

impl CheckStatus {
    fn entry(self) -> &'static Entry {
        TABLE
            .iter()
            .find(|e| e.status == self)
            .expect("every status is in the table")
    }

    /// Every status, in HAProxy's order.
    pub fn all() -> impl Iterator<Item = CheckStatus> {
        TABLE.iter().map(|e| e.status)
    }

    /// HAProxy's number (HCHK_STATUS_*), as the server-state dump has it.
    pub fn value(self) -> u8 {
        self.entry().value
    }

    /// The status of HAProxy's number; None for the numbers no check
    /// ends with (UNKNOWN, START, CHECKED, L57DATA) and past the table.
    pub fn from_value(value: u8) -> Option<CheckStatus> {
        TABLE.iter().find(|e| e.value == value).map(|e| e.status)
    }

    /// `L4OK`, `L4CON`, ... as the stats show it.
    pub fn name(self) -> &'static str {
        self.entry().name
    }

    /// `Layer4 connection problem`...: the reason in HAProxy's messages,
    /// and the stats' `check_desc`.
    pub fn desc(self) -> &'static str {
        self.entry().desc
    }

    pub fn result(self) -> CheckResult {
        self.entry().result
    }

    /// The status named `name` (`L7OK`...), as `tcp-check expect
    /// ok-status` takes it.
    pub fn from_name(name: &str) -> Option<CheckStatus> {
        TABLE.iter().find(|e| e.name == name).map(|e| e.status)
    }

    /// What the health counter makes of it: a conditional pass passes.
    pub fn outcome(self) -> Outcome {
        match self.result() {
            Passed | CondPassed => Outcome::Passed,
            Failed | Unknown => Outcome::Failed,
        }
    }

    /// Whether the status carries a response code (past L57DATA).
    pub fn has_code(self) -> bool {
        self.value() > L57DATA
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_are_haproxys() {
        assert_eq!(CheckStatus::from_name("L7OKC"), Some(CheckStatus::L7OkCond));
        assert_eq!(CheckStatus::L7OkCond.value(), 16);
        assert_eq!(CheckStatus::L4Con.desc(), "Layer4 connection problem");
        let coded: Vec<&str> = CheckStatus::all()
            .filter(|s| s.has_code())
            .map(CheckStatus::name)
            .collect();
        assert_eq!(
            coded,
            ["L7OK", "L7OKC", "L7STS", "PROCERR", "PROCTOUT", "PROCOK"]
        );
    }
}

/// The health-check side of a server's stats.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckStats {
    /// The last check's status (`check_status`, and its `check_desc`);
    /// None before any.
    pub status: Option<CheckStatus>,
    pub code: Option<u16>,
    pub duration_ms: Option<u64>,
    /// `last_chk`: the error text of the last check (`Connection refused`).
    pub info: String,
    /// Failed checks (`chkfail`) and UP→DOWN transitions (`chkdown`).
    pub failed: u64,
    pub downs: u64,
    /// A check is under way (HAProxy's CHK_ST_INPROGRESS: `* ` before the
    /// status, `last_chk` cleared).
    pub running: bool,
}
