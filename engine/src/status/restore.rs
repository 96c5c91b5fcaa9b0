//! The servers' states from before a reload, applied as a new generation
//! starts and before its first check, as HAProxy's apply_server_state
//! (server_state.c): the `server-state-file` of the `global` section, a
//! backend's own file (`load-server-state-from-file local`), or the
//! states a master process carried over from the generation it replaces.
//!
//! The format is `show servers state`'s (version 1). What is applied, as
//! HAProxy applies it: the operational state (a server DOWN stays DOWN
//! until a check says otherwise), maintenance and drain set by an
//! operator, the user weight (when the configured weight did not change),
//! `disable health`, the last check's status and the time of the last
//! change. What the configuration says of maintenance wins when it
//! changed. Addresses and ports in the file are not applied: the engine
//! has no `set server addr`, so they are the configuration's anyway
//! (HAProxy 2.6 does take srv_port: a line's port, `-` read as 0, is the
//! server's from then on).
//!
//! What it says is what HAProxy says while it starts: each line after
//! `config : `, the messages of entering maintenance or drain left out,
//! and a server left in drain said to remain so.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::notice::label;
use super::{force, set_checks, set_flag, set_weight, Admin, Flag, Forced, Notice};
use crate::backend::Backend;
use crate::config::{Config, LoadServerState};
use crate::log::syslog::Level;
use crate::log::Severity;
use crate::server::{CheckStatus, ServerState};

/// HAProxy reads state lines with fgets into a buffer of this size: a
/// longer line arrives cut, without its newline, and is corrupt.
const LINE_MAXLEN: usize = 2000;
/// Fields of a version 1 line: 20 to 25 (the last five came later).
const MIN_FIELDS: usize = 20;
const MAX_FIELDS: usize = 25;

/// The reason HAProxy gives for a state set from the file.
const REASON: &str = "changed from server-state after a reload";

/// SRV_ADMF_*: forced and configured maintenance, forced drain; the
/// inherited and resolver-set flags are recomputed, not restored.
const FMAINT: u32 = 0x01;
const IMAINT: u32 = 0x02;
const CMAINT: u32 = 0x04;
const FDRAIN: u32 = 0x08;
const IDRAIN: u32 = 0x10;
const RMAINT: u32 = 0x20;
const HMAINT: u32 = 0x40;
/// The proxy option bit HAProxy reads bk_f_forced_id against.
const PR_O_FORCED_ID: i64 = 0x80;
/// CHK_ST_*: the check state bits a line may carry.
const CHK_CONFIGURED: u32 = 0x02;
const CHK_ENABLED: u32 = 0x04;
const CHK_ANY: u32 = 0x01 | CHK_CONFIGURED | CHK_ENABLED | 0x08 | 0x10;

/// A state text already read: lines by "backend server", the first of
/// duplicates kept (HAProxy drops a hand-written file's repeats).
#[derive(Debug, Clone, Default)]
pub struct Saved {
    lines: BTreeMap<(String, String), Vec<String>>,
}

/// Why a state text cannot be used at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreadable {
    /// No version line, or not version 1.
    Version,
    /// A line cut or with a wrong number of fields: its number, counted
    /// as HAProxy counts it (the version line is not counted).
    Corrupt(usize),
}

impl Saved {
    /// Reads a whole state text, every line kept whatever its backend.
    pub fn parse(text: &str) -> Result<Saved, Unreadable> {
        let (all, corrupt) = lines(text)?;
        if let Some(n) = corrupt {
            return Err(Unreadable::Corrupt(n));
        }
        let mut saved = Saved::default();
        for fields in all {
            saved.insert(fields[1].clone(), fields);
        }
        Ok(saved)
    }

    fn insert(&mut self, backend: String, fields: Vec<String>) {
        let key = (backend, fields[3].clone());
        self.lines.entry(key).or_insert(fields);
    }

    fn take(&mut self, backend: &str, server: &str) -> Option<Vec<String>> {
        self.lines
            .remove(&(backend.to_string(), server.to_string()))
    }
}

/// The fields of each line read, and the number of the corrupt line
/// that ended the reading, if one did.
type Lines = (Vec<Vec<String>>, Option<usize>);

/// The version line, then each line's fields; blank and `#` lines are
/// skipped. A corrupt line ends the reading: the lines before it are
/// returned with its number (HAProxy has looked at them by then: a
/// backend's own file warns of their mismatches first).
fn lines(text: &str) -> Result<Lines, Unreadable> {
    let mut rest = text.split_inclusive('\n');
    let version = rest.next().ok_or(Unreadable::Version)?;
    // strtol up to the newline, which must come right after the number.
    let number = version.strip_suffix('\n').map(strtol);
    if version.len() >= LINE_MAXLEN || number != Some(Some((1, true))) {
        return Err(Unreadable::Version);
    }
    let mut out = vec![];
    for (n, line) in rest.enumerate() {
        let number = n + 1;
        if line.len() >= LINE_MAXLEN || !line.ends_with('\n') {
            return Ok((out, Some(number)));
        }
        let content = line[..line.len() - 1].trim_start_matches([' ', '\t']);
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let fields: Vec<String> = content
            .split([' ', '\t'])
            .filter(|f| !f.is_empty())
            .take(MAX_FIELDS)
            .map(str::to_string)
            .collect();
        if fields.len() < MIN_FIELDS {
            return Ok((out, Some(number)));
        }
        out.push(fields);
    }
    Ok((out, None))
}

/// Applies saved states to `backends` before anything checks them and
/// returns what HAProxy would print. `carried`, when a master hands over
/// the states of the generation this one replaces, is used for every
/// backend that does not say `load-server-state-from-file none`, in place
/// of the files; without it each backend reads the file its
/// `load-server-state-from-file` names.
pub fn apply(
    config: &Config,
    backends: &[std::sync::Arc<Backend>],
    carried: Option<&Saved>,
) -> Vec<Notice> {
    let mut said = vec![];
    let mut carried = carried.cloned();
    let mut global: Option<Saved> = None;
    if carried.is_none() {
        if let Some(file) = &config.global.server_state_file {
            global = read_global(&path(config, file), &mut said);
        }
    }
    for b in backends
        .iter()
        .filter(|b| !b.disabled && !b.servers.is_empty())
    {
        let mode = config
            .proxies
            .iter()
            .find(|p| p.name == b.name)
            .map(|p| (p.load_server_state, p.server_state_file_name.clone()));
        let Some((mode, file_name)) = mode else {
            continue;
        };
        if mode == Some(LoadServerState::None) {
            continue;
        }
        if let Some(saved) = carried.as_mut() {
            apply_backend(b, saved, &mut said);
            continue;
        }
        match mode {
            Some(LoadServerState::Global) => {
                if let Some(saved) = global.as_mut() {
                    apply_backend(b, saved, &mut said);
                }
            }
            Some(LoadServerState::Local) => {
                let name = file_name.unwrap_or_else(|| b.name.clone());
                apply_local(b, &path(config, &name), &mut said);
            }
            _ => {}
        }
    }
    // HAProxy applies the states while it reads its configuration: what
    // it says then comes with the configuration's prefix.
    for notice in &mut said {
        notice.stderr = format!("config : {}", notice.stderr);
    }
    said
}

/// The warnings `-c` prints about the state files, as HAProxy's check
/// reads them too (a file missing, without a version, damaged); the
/// warnings that need the running servers (a server not found, a backend
/// id that changed) come at start only.
pub fn check(config: &Config) -> Vec<String> {
    let mut said = vec![];
    if let Some(file) = &config.global.server_state_file {
        read_global(&path(config, file), &mut said);
    }
    for p in config.proxies.iter().filter(|p| {
        p.kind.is_backend()
            && !p.disabled
            && !p.servers.is_empty()
            && p.load_server_state == Some(LoadServerState::Local)
    }) {
        let name = p.server_state_file_name.as_deref().unwrap_or(&p.name);
        let file = path(config, name);
        let f = file.display();
        match read(&file) {
            Err(e) => said.push(warning(format!(
                "Proxy '{}': Can't open server state file '{f}': {}.",
                p.name,
                crate::net::strerror(&e)
            ))),
            Ok(text) => match lines(&text) {
                Err(_) => said.push(warning(format!(
                    "Proxy '{}': Can't get version of the server state file '{f}'.",
                    p.name
                ))),
                Ok((_, Some(n))) => said.push(warning(format!(
                    "Proxy '{}': corrupted server state file '{f}' at line {n}.",
                    p.name
                ))),
                Ok(_) => {}
            },
        }
    }
    said.into_iter().map(|n| n.stderr).collect()
}

/// What a change of administrative state says while HAProxy starts:
/// entering maintenance or drain is kept quiet then (srv_update_status
/// tests MODE_STARTING), the rest is said (leaving maintenance, a
/// backend left without a server).
fn while_starting(notices: Vec<Notice>) -> impl Iterator<Item = Notice> {
    notices.into_iter().filter(|n| {
        !(n.stderr.contains(" is going DOWN for maintenance")
            || n.stderr.ends_with(" was DOWN and now enters maintenance.")
            || n.stderr.contains(" enters drain state"))
    })
}

/// `server-state-base` before a relative name.
fn path(config: &Config, file: &str) -> PathBuf {
    match &config.global.server_state_base {
        Some(base) if !file.starts_with('/') => base.join(file),
        _ => PathBuf::from(file),
    }
}

fn warning(text: String) -> Notice {
    Notice {
        severity: Severity::Warning,
        stderr: text,
        level: Level::Notice,
        log: String::new(),
        targets: vec![],
    }
}

/// A warning on stderr that is also logged at notice level to the
/// backend's targets.
fn logged_warning(b: &Backend, stderr: String, log: String) -> Notice {
    Notice {
        log,
        targets: b.log_targets.clone(),
        ..warning(stderr)
    }
}

fn read(path: &Path) -> std::io::Result<String> {
    let bytes = std::fs::read(path)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn read_global(file: &Path, said: &mut Vec<Notice>) -> Option<Saved> {
    let f = file.display();
    let text = match read(file) {
        Ok(t) => t,
        Err(e) => {
            said.push(warning(format!(
                "config: Can't open global server state file '{f}': {}",
                crate::net::strerror(&e)
            )));
            return None;
        }
    };
    match Saved::parse(&text) {
        Ok(saved) => Some(saved),
        Err(Unreadable::Version) => {
            said.push(warning(format!(
                "config: Can't get version of the global server state file '{f}'."
            )));
            None
        }
        Err(Unreadable::Corrupt(n)) => {
            said.push(warning(format!(
                "config: corrupted global server state file '{f}' at line {n}."
            )));
            None
        }
    }
}

/// A backend's own file: its lines must name the backend (by name, or by
/// id with a warning); servers it names that the backend lacks are said.
fn apply_local(b: &Backend, file: &Path, said: &mut Vec<Notice>) {
    let (px, f) = (&b.name, file.display());
    let text = match read(file) {
        Ok(t) => t,
        Err(e) => {
            said.push(warning(format!(
                "Proxy '{px}': Can't open server state file '{f}': {}.",
                crate::net::strerror(&e)
            )));
            return;
        }
    };
    let Ok((all, corrupt)) = lines(&text) else {
        said.push(warning(format!(
            "Proxy '{px}': Can't get version of the server state file '{f}'."
        )));
        return;
    };
    let mut saved = Saved::default();
    for fields in all {
        let same_id = atoi(&fields[0]) == i64::from(b.iid);
        let same_name = fields[1] == *px;
        if !same_id && !same_name {
            continue;
        }
        if !same_id {
            let what = format!(
                "backend ID mismatch: from server state file: '{}', from running config '{}'",
                fields[0], b.iid
            );
            said.push(logged_warning(b, format!("Proxy '{px}': {what}"), what));
        } else if !same_name {
            let what = format!(
                "backend name mismatch: from server state file: '{}', from running config '{px}'",
                fields[1]
            );
            said.push(logged_warning(b, format!("Proxy '{px}': {what}"), what));
            // HAProxy tests the dump's 0 or 1 against PR_O_FORCED_ID
            // (0x80): a line written by `show servers state` never
            // passes, whatever its bk_f_forced_id.
            if atoi(&fields[15]) & PR_O_FORCED_ID == 0 {
                continue;
            }
        }
        saved.insert(px.clone(), fields);
    }
    // A corrupt file applies nothing, and its lines are not said to
    // name missing servers.
    if let Some(n) = corrupt {
        said.push(warning(format!(
            "Proxy '{px}': corrupted server state file '{f}' at line {n}."
        )));
        return;
    }
    apply_backend(b, &mut saved, said);
    for ((_, server), _) in saved.lines {
        let what = format!("can't find server '{server}' in backend '{px}'");
        said.push(logged_warning(b, format!("Proxy '{px}': {what}"), what));
    }
}

fn apply_backend(b: &Backend, saved: &mut Saved, said: &mut Vec<Notice>) {
    for s in &b.servers {
        if let Some(fields) = saved.take(&b.name, s.name()) {
            apply_server(b, s, &fields[4..], said);
        }
    }
}

/// C's atoi: leading blanks and sign, digits up to the first other byte.
fn atoi(s: &str) -> i64 {
    strtol(s).map_or(0, |(v, _)| v)
}

/// C's strtol in base 10: the value and whether the whole text was read;
/// None when no digit came (HAProxy's `p == params[i]`).
fn strtol(s: &str) -> Option<(i64, bool)> {
    let t = s.trim_start_matches([' ', '\t']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let end = digits.bytes().take_while(u8::is_ascii_digit).count();
    if end == 0 {
        return None;
    }
    let v: i64 = digits[..end].parse().ok()?;
    Some((if neg { -v } else { v }, end == digits.len()))
}

/// One server's line (the fields after its four names), checked as
/// srv_state_srv_update checks it: any bad field and nothing applies.
fn apply_server(b: &Backend, s: &ServerState, p: &[String], said: &mut Vec<Notice>) {
    let mut bad = String::new();
    // Each bad field is said, in the line's order.
    let mut num = |i: usize, name: &str, ok: &dyn Fn(i64) -> bool| -> i64 {
        match strtol(&p[i]) {
            Some((v, _)) if ok(v) => v,
            _ => {
                bad.push_str(&format!(", invalid {name} value '{}'", p[i]));
                0
            }
        }
    };
    let op_state = num(1, "srv_op_state", &|v| (0..=3).contains(&v));
    // Inherited and resolver flags are recomputed, not restored.
    let admin = num(2, "srv_admin_state", &|v| {
        let a = v as u32 & !(IDRAIN | IMAINT | HMAINT | RMAINT);
        [0, FMAINT, CMAINT, CMAINT | FMAINT, CMAINT | FDRAIN, FDRAIN].contains(&a)
    }) as u32
        & !(IDRAIN | IMAINT | HMAINT | RMAINT);
    // Unsigned in HAProxy: a negative weight is a huge one.
    let uweight = num(3, "srv_uweight", &|v| v as u32 <= 256) as u32;
    let iweight = num(4, "srv_iweight", &|v| v as u32 <= 256) as u32;
    let since = num(5, "srv_last_time_change", &|_| true);
    // A short in HAProxy, compared with HCHK_STATUS_SIZE.
    let check_status = num(6, "srv_check_status", &|v| (v as i16) < 21);
    num(7, "srv_check_result", &|v| (0..=4).contains(&v));
    let health = num(8, "srv_check_health", &|_| true);
    let check_state = num(9, "srv_check_state", &|v| (v as u32) & !CHK_ANY == 0) as u32;
    num(10, "srv_agent_state", &|v| (v as u32) & !CHK_ANY == 0);
    num(11, "bk_f_forced_id", &|v| v == 0 || v == 1);
    num(12, "srv_f_forced_id", &|v| v == 0 || v == 1);
    // A name from a resolver, `-` for none: a domain name at most.
    let fqdn = &p[13];
    if !fqdn.starts_with('-') && (fqdn.len() > DNS_MAX_NAME_SIZE || !is_domain_name(fqdn)) {
        bad.push_str(&format!(", invalid srv_fqdn value '{fqdn}'"));
    }
    if strl2uic(&p[14]) > u32::from(u16::MAX) {
        bad.push_str(&format!(", invalid srv_port value '{}'", p[14]));
    }
    if !bad.is_empty() {
        said.push(warning(format!(
            "server-state application failed for server '{}/{}'{bad}",
            b.name,
            s.name()
        )));
        return;
    }
    let (rise, fall) = {
        let h = s.health.lock().expect("health lock");
        (h.rise(), h.fall())
    };
    let set_health = |v: u32| s.health.lock().expect("health lock").restore(v);
    let health = u32::try_from(health).unwrap_or(0);
    // In maintenance (`disabled` in the configuration) the operational
    // state is not changed, only the health counter (srv_set_running and
    // srv_set_stopping return early).
    let maint = s.in_maint();
    match op_state {
        0 => said.extend(stopped(b, s)),
        // Warming up (slowstart): UP, its counter kept where it was.
        // (HAProxy puts it just below `rise`, which for the engine's
        // checks would announce the server UP a second time.)
        1 => set_health(health.max(rise)),
        3 if fall == 1 => said.extend(stopped(b, s)),
        3 => {
            let top_stopping = rise + fall - 2;
            if !maint {
                said.extend(force(b, s, Forced::Stopping, REASON));
            }
            set_health(if health < rise || health > top_stopping {
                rise
            } else {
                health
            });
        }
        _ if maint => set_health(rise + fall - 1),
        _ => said.extend(force(b, s, Forced::Up, "")),
    }
    // Maintenance: a change in the configuration wins over what an
    // operator had set; otherwise the operator's setting is kept.
    let config_maint = s.config.disabled;
    if (admin & CMAINT != 0) != config_maint {
        let to = if config_maint {
            Admin::Maint
        } else {
            Admin::Ready
        };
        said.extend(while_starting(super::set_admin(b, s, to)));
    } else if admin & FMAINT != 0 && !config_maint {
        said.extend(while_starting(super::set_admin(b, s, Admin::Maint)));
    } else if admin & FMAINT == 0 && config_maint {
        said.extend(while_starting(super::set_admin(b, s, Admin::Ready)));
    }
    // Drain set from a weight of 0 in the old configuration goes once
    // the new one gives a weight; drain an operator set stays.
    if !s.in_maint() && admin & FDRAIN != 0 && (iweight > 0 || s.config.weight == 0) {
        said.extend(while_starting(
            set_flag(b, s, Flag::Drain, true).unwrap_or_default(),
        ));
    }
    if let Ok(secs) = u64::try_from(since) {
        s.availability
            .lock()
            .expect("availability lock")
            .set_last_change_ago(Duration::from_secs(secs));
    }
    if let Some(status) = u8::try_from(check_status)
        .ok()
        .and_then(CheckStatus::from_value)
    {
        let mut checks = s.checks.lock().expect("checks lock");
        checks.status = (status != CheckStatus::Ini).then_some(status);
    }
    if s.config.check.enabled && check_state & CHK_CONFIGURED != 0 && check_state & CHK_ENABLED == 0
    {
        set_checks(s, false);
    }
    // A changed configured weight wins over the weight set at run time.
    if iweight == s.config.weight {
        set_weight(b, s, uweight);
    }
    // HAProxy then recomputes the weight with a status update, which
    // says of a server in drain (not in maintenance) that it stays so.
    if s.is_draining() && !s.in_maint() {
        said.push(Notice::new(
            b,
            Level::Notice,
            format!("{} remains in forced drain mode.", label(b, s)),
        ));
    }
}

/// The longest domain name (DNS_MAX_NAME_SIZE).
const DNS_MAX_NAME_SIZE: usize = 255;

/// HAProxy's invalid_domainchar finds nothing: letters, digits, `.`, `_`
/// and `-` only.
fn is_domain_name(name: &str) -> bool {
    name.bytes()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

/// HAProxy's strl2uic: the digits up to the first other byte, in an
/// unsigned int that wraps.
fn strl2uic(s: &str) -> u32 {
    s.bytes().take_while(u8::is_ascii_digit).fold(0u32, |n, d| {
        n.wrapping_mul(10).wrapping_add(u32::from(d - b'0'))
    })
}

/// DOWN with health 0, as srv_set_stopped (nothing changes in
/// maintenance).
fn stopped(b: &Backend, s: &ServerState) -> Vec<Notice> {
    if s.in_maint() {
        s.health.lock().expect("health lock").restore(0);
        return vec![];
    }
    force(b, s, Forced::Down, REASON)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n";

    #[test]
    fn reads_haproxy_dumps() {
        let text =
            format!("{HEADER}3 www 1 s1 127.0.0.1 0 1 7 1 12 8 2 0 6 0 0 0 - 80 - 0 0 - - 0\n\n");
        let saved = Saved::parse(&text).unwrap();
        let fields = &saved.lines[&("www".to_string(), "s1".to_string())];
        assert_eq!(fields.len(), 25);
        assert_eq!(fields[5], "0");
    }

    #[test]
    fn refuses_what_haproxy_refuses() {
        assert_eq!(Saved::parse("").unwrap_err(), Unreadable::Version);
        assert_eq!(Saved::parse("2\n").unwrap_err(), Unreadable::Version);
        assert_eq!(Saved::parse("1").unwrap_err(), Unreadable::Version);
        // Too few fields; the last line without its newline (cut).
        let short = format!("{HEADER}3 www 1 s1 127.0.0.1 0\n");
        assert_eq!(Saved::parse(&short).unwrap_err(), Unreadable::Corrupt(2));
        let cut = format!("{HEADER}3 www 1 s1 127.0.0.1 0 1 7 1 12 8 2 0 6 0 0 0 - 80 -");
        assert_eq!(Saved::parse(&cut).unwrap_err(), Unreadable::Corrupt(2));
        let long = format!("{HEADER}{}\n", "x ".repeat(1000));
        assert_eq!(Saved::parse(&long).unwrap_err(), Unreadable::Corrupt(2));
    }

    #[test]
    fn the_first_of_repeated_lines_counts() {
        let text = format!(
            "{HEADER}3 www 1 s1 - 0 0 1 1 0 1 0 0 0 0 0 0 - 80 -\n3 www 1 s1 - 2 0 1 1 0 1 0 0 0 0 0 0 - 80 -\n"
        );
        let saved = Saved::parse(&text).unwrap();
        assert_eq!(saved.lines.len(), 1);
        assert_eq!(saved.lines.values().next().unwrap()[5], "0");
    }

    #[test]
    fn a_corrupt_line_keeps_the_lines_before_it() {
        let ok = format!("{HEADER}3 www 1 s1 - 0 0 1 1 0 1 0 0 0 0 0 0 - 80 -\n");
        let (all, corrupt) = lines(&format!("{ok}3 www 2 s2\n")).unwrap();
        assert_eq!((all.len(), corrupt), (1, Some(3)));
        assert_eq!(lines(&ok).unwrap().1, None);
    }

    #[test]
    fn ports_and_names_checked_as_haproxy_does() {
        assert_eq!(strl2uic("8080"), 8080);
        assert_eq!(strl2uic("70000"), 70000);
        assert_eq!(strl2uic("-"), 0);
        assert_eq!(strl2uic("12x4"), 12);
        assert!(is_domain_name("www.example-1.com") && is_domain_name("_srv._tcp"));
        assert!(!is_domain_name("bad!name") && !is_domain_name("caf\u{e9}"));
    }

    #[test]
    fn numbers_read_as_strtol() {
        assert_eq!(strtol("12"), Some((12, true)));
        assert_eq!(strtol("12x"), Some((12, false)));
        assert_eq!(strtol("-3"), Some((-3, true)));
        assert_eq!(strtol("x"), None);
        assert_eq!(atoi("x"), 0);
    }
}
