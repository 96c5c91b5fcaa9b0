//! Validation: what a file of the right shape may still get wrong (a
//! contradiction, a host or backend that does not exist, a configuration
//! that does not load), and errors that name the file, the line and the
//! field, serde's included.
//!
//! The checks run in a fixed order and the first failure is the error, so
//! a file with several mistakes always reports the same one.

use std::path::Path;

use engine::config;

use super::schema::{
    Action, Check, ClientOutcome, ClientSpec, Distribution, Event, Expectation, FailureMode, Load,
    Protocol, ProxySpec, Scenario, ServerSpec, ServiceTime,
};
use super::ScenarioError;

/// Deserializes scenario text; a field of the wrong type, a missing one
/// or an unknown one is an error naming its line and path.
pub(super) fn deserialize(file: &str, text: &str) -> Result<Scenario, ScenarioError> {
    let de = serde_yaml_ng::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        let reason = strip_path(&strip_location(&inner.to_string()), &field);
        ScenarioError::Invalid {
            file: file.to_string(),
            line: inner.location().map_or(0, |l| l.line()),
            field,
            reason,
        }
    })
}

/// Checks a deserialized scenario, reading its relative `config_file`s
/// (from `base`) into `config`: `text` is the file it came from, where
/// each error's field is found.
pub(super) fn validate(
    scenario: &mut Scenario,
    file: &str,
    text: &str,
    base: &Path,
) -> Result<(), ScenarioError> {
    let source = Source { file, text };
    chrono::DateTime::parse_from_rfc3339(&scenario.start).map_err(|e| {
        source.invalid(
            "start",
            format!("'{}' is not an RFC 3339 date: {e}", scenario.start),
        )
    })?;
    read_configs(&source, &mut scenario.proxies, base)?;
    proxy_events(&source, &scenario.proxies, &mut scenario.timeline, base)?;
    for (i, e) in scenario.expect.iter().enumerate() {
        e.check()
            .map_err(|reason| source.invalid(&format!("expect[{i}]"), reason))?;
    }
    for (i, s) in scenario.servers.iter().enumerate() {
        server(&source, i, s)?;
    }
    for (i, c) in scenario.clients.iter().enumerate() {
        client(&source, i, c)?;
    }
    outcomes(&source, &scenario.outcome, &scenario.clients)?;
    hosts_exist(&source, scenario)?;
    // Every host named exists from here on.
    actions(&source, scenario)?;
    config_names(scenario).map_err(|(field, reason)| source.invalid(&field, reason))
}

/// The text being checked, to find where a field is written.
struct Source<'a> {
    file: &'a str,
    text: &'a str,
}

impl Source<'_> {
    /// An error about `field` (`clients[1].requests`), on the line where
    /// it is written.
    fn invalid(&self, field: &str, reason: impl Into<String>) -> ScenarioError {
        ScenarioError::Invalid {
            file: self.file.to_string(),
            line: line_of(self.text, field),
            field: field.to_string(),
            reason: reason.into(),
        }
    }
}

/// Each proxy has exactly one of `config` and `config_file`; a file is
/// read into `config`.
fn read_configs(
    source: &Source,
    proxies: &mut [ProxySpec],
    base: &Path,
) -> Result<(), ScenarioError> {
    for (i, p) in proxies.iter_mut().enumerate() {
        read_config(
            source,
            &format!("proxies[{i}]"),
            &mut p.config,
            p.config_file.as_deref(),
            base,
        )?;
    }
    Ok(())
}

/// The events that act on a proxy's engine (`api`, `reload`) name a
/// proxy; a `reload` has exactly one of `config` and `config_file`, a
/// file read into `config`. Whether the new configuration loads is the
/// run's business: a reload that fails is worth a scenario (the old
/// generation keeps serving, the errors join the transcript).
fn proxy_events(
    source: &Source,
    proxies: &[ProxySpec],
    timeline: &mut [Event],
    base: &Path,
) -> Result<(), ScenarioError> {
    let is_proxy = |name: &str| proxies.iter().any(|p| p.name == name);
    for (i, e) in timeline.iter_mut().enumerate() {
        let (field, proxy) = match &e.action {
            Action::Api { proxy, .. } => (format!("timeline[{i}].api"), proxy),
            Action::Reload(r) => (format!("timeline[{i}].reload"), &r.proxy),
            _ => continue,
        };
        if !is_proxy(proxy) {
            return Err(source.invalid(
                &format!("{field}.proxy"),
                format!("no proxy named '{proxy}'"),
            ));
        }
        if let Action::Reload(r) = &mut e.action {
            read_config(
                source,
                &field,
                &mut r.config,
                r.config_file.as_deref(),
                base,
            )?;
        }
    }
    Ok(())
}

/// Exactly one of `<field>.config` and `<field>.config_file`; the file,
/// relative to `base`, is read into `config`.
fn read_config(
    source: &Source,
    field: &str,
    config: &mut Option<String>,
    file: Option<&Path>,
    base: &Path,
) -> Result<(), ScenarioError> {
    match (&config, file) {
        (Some(_), None) => Ok(()),
        (None, Some(f)) => {
            let path = base.join(f);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                source.invalid(
                    &format!("{field}.config_file"),
                    format!("{}: {e}", path.display()),
                )
            })?;
            *config = Some(text);
            Ok(())
        }
        _ => Err(source.invalid(
            field,
            "exactly one of 'config' and 'config_file' is required",
        )),
    }
}

/// `servers[i]`: its settings do not contradict each other.
fn server(source: &Source, i: usize, s: &ServerSpec) -> Result<(), ScenarioError> {
    if s.echo && s.reply.is_some() {
        return Err(source.invalid(&format!("servers[{i}]"), "give 'reply' or 'echo', not both"));
    }
    if s.check_port == Some(s.port) {
        return Err(source.invalid(
            &format!("servers[{i}].check_port"),
            format!("{} is the service's own port", s.port),
        ));
    }
    if s.check_path.is_some() && s.protocol != Protocol::Http {
        return Err(source.invalid(
            &format!("servers[{i}].check_path"),
            "a health-check page needs 'protocol: http'",
        ));
    }
    if let Some(ServiceTime::Distribution(Distribution::Empirical(v))) = &s.service_time {
        if v.is_empty() {
            return Err(source.invalid(
                &format!("servers[{i}].service_time.empirical"),
                "needs at least one measured time",
            ));
        }
    }
    Ok(())
}

/// `clients[i]`: one load model, one way to send, HTTP-only settings on
/// HTTP clients, a browser's settings on closed loops only.
fn client(source: &Source, i: usize, c: &ClientSpec) -> Result<(), ScenarioError> {
    let field = format!("clients[{i}]");
    let given = [
        c.every.is_some(),
        c.users.is_some() || c.think.is_some(),
        c.rate.is_some(),
    ];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(source.invalid(&field, "give one of 'every', 'users'/'think' and 'rate'"));
    }
    if c.users == Some(0) {
        return Err(source.invalid(&field, "'users' must be at least 1"));
    }
    if c.send.is_some() && c.requests.is_some() {
        return Err(source.invalid(&field, "give 'send' or 'requests', not both"));
    }
    for (j, r) in c.requests.iter().flatten().enumerate() {
        if let Some(h) = r.headers.iter().find(|h| !h.contains(':')) {
            return Err(source.invalid(
                &format!("{field}.requests[{j}].headers"),
                format!("'{h}' is not a 'Name: value' header line"),
            ));
        }
    }
    if (c.keep_alive || c.cookies) && c.requests.is_none() {
        return Err(source.invalid(
            &field,
            "'keep_alive' and 'cookies' are for HTTP clients (with 'requests')",
        ));
    }
    let open = matches!(c.load(), Load::Open { .. });
    for (set, name) in [(c.keep_alive, "keep_alive"), (c.cookies, "cookies")] {
        if set && open {
            return Err(source.invalid(
                &format!("{field}.{name}"),
                format!("an open-loop arrival is a new visitor: '{name}' needs 'users' or 'every'"),
            ));
        }
    }
    if c.requests.as_ref().is_some_and(|r| r.is_empty()) {
        return Err(source.invalid(&format!("{field}.requests"), "the mix is empty"));
    }
    Ok(())
}

/// Each outcome names a client of the scenario.
fn outcomes(
    source: &Source,
    outcomes: &[ClientOutcome],
    clients: &[ClientSpec],
) -> Result<(), ScenarioError> {
    for (i, o) in outcomes.iter().enumerate() {
        if !clients.iter().any(|c| c.name == o.client) {
            return Err(source.invalid(
                &format!("outcome[{i}]"),
                format!("no client named '{}'", o.client),
            ));
        }
    }
    Ok(())
}

/// Every host a link or a timeline event names exists.
fn hosts_exist(source: &Source, scenario: &Scenario) -> Result<(), ScenarioError> {
    let names: Vec<&str> = scenario.host_names();
    for (i, l) in scenario.links.iter().enumerate() {
        if let Some(host) = l.between.iter().find(|h| !names.contains(&h.as_str())) {
            return Err(source.invalid(
                &format!("links[{i}].between"),
                format!("no host named '{host}'"),
            ));
        }
    }
    for (i, e) in scenario.timeline.iter().enumerate() {
        if let Some(host) = e.action.hosts().into_iter().find(|h| !names.contains(h)) {
            return Err(
                source.invalid(&format!("timeline[{i}]"), format!("no host named '{host}'"))
            );
        }
    }
    Ok(())
}

/// Loss (on a link or from the timeline) has a proxy at one end, checks
/// fail apart from the service only on a server that separates them, and
/// only an open-loop client's rate changes. The hosts named exist.
fn actions(source: &Source, scenario: &Scenario) -> Result<(), ScenarioError> {
    let proxy = |h: &String| scenario.proxies.iter().any(|p| &p.name == h);
    let lossless = "loss acts on the proxies' connections: one end must be a proxy";
    for (i, l) in scenario.links.iter().enumerate() {
        if l.loss.is_some() && !l.between.iter().any(proxy) {
            return Err(source.invalid(&format!("links[{i}]"), lossless));
        }
    }
    for (i, e) in scenario.timeline.iter().enumerate() {
        match &e.action {
            Action::Fail(f) => {
                let separable = scenario
                    .servers
                    .iter()
                    .find(|s| s.name == f.server)
                    .is_none_or(|s| s.check_port.is_some() || s.check_path.is_some());
                if f.mode == FailureMode::Checks && !separable {
                    return Err(source.invalid(
                        &format!("timeline[{i}].fail"),
                        format!(
                            "server '{}' has no 'check_port' or 'check_path': its checks cannot fail apart from its service",
                            f.server
                        ),
                    ));
                }
            }
            Action::Load(l) => {
                let open = scenario
                    .clients
                    .iter()
                    .find(|c| c.name == l.client)
                    .is_none_or(|c| matches!(c.load(), Load::Open { .. }));
                if !open {
                    return Err(source.invalid(
                        &format!("timeline[{i}].load"),
                        format!(
                            "client '{}' has no rate: only an open-loop client's rate changes",
                            l.client
                        ),
                    ));
                }
            }
            Action::Loss { between, .. } if !between.iter().any(proxy) => {
                return Err(source.invalid(&format!("timeline[{i}].loss"), lossless));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Each proxy's configuration loads, and every backend, server and
/// stats line an expectation names is defined by one of them (or by a
/// configuration a `reload` gives that proxy, when it loads): the error
/// is (field, reason).
fn config_names(scenario: &Scenario) -> Result<(), (String, String)> {
    let mut configs: Vec<(&str, config::Config)> = vec![];
    for (i, p) in scenario.proxies.iter().enumerate() {
        let text = p.config.as_deref().unwrap_or_default();
        match engine::config::load_str(&p.name, text) {
            Ok(loaded) => configs.push((&p.name, loaded.config)),
            Err(e) => {
                let messages: Vec<_> = e.diagnostics.iter().map(|d| d.message.clone()).collect();
                let field = match p.config_file {
                    Some(_) => "config_file",
                    None => "config",
                };
                return Err((format!("proxies[{i}].{field}"), messages.join("\n")));
            }
        }
    }
    for e in &scenario.timeline {
        if let Action::Reload(r) = &e.action {
            let text = r.config.as_deref().unwrap_or_default();
            if let Ok(loaded) = engine::config::load_str(&r.file_name(), text) {
                configs.push((&r.proxy, loaded.config));
            }
        }
    }
    for (i, e) in scenario.expect.iter().enumerate() {
        expectation_names(&format!("expect[{i}]"), e, &configs)?;
    }
    Ok(())
}

/// An expectation's server, backend or stats line is defined by a
/// configuration of the proxy it names, or of any: `configs` are every
/// proxy's, by proxy name.
fn expectation_names(
    field: &str,
    e: &Expectation,
    configs: &[(&str, config::Config)],
) -> Result<(), (String, String)> {
    // The configurations the expectation may look in.
    let in_scope: Vec<&config::Config> = configs
        .iter()
        .filter(|(p, _)| e.proxy.as_deref().is_none_or(|name| name == *p))
        .map(|(_, c)| c)
        .collect();
    if let (Some(name), true) = (&e.proxy, in_scope.is_empty()) {
        return Err((format!("{field}.proxy"), format!("no proxy named '{name}'")));
    }
    let proxies = || in_scope.iter().flat_map(|c| &c.proxies);
    let backends = || proxies().filter(|p| !matches!(p.kind, config::ProxyKind::Frontend));
    let has_server =
        |b: &str, s: &str| backends().any(|p| p.name == b && p.servers.iter().any(|x| x.name == s));
    match e.check() {
        Ok(Check::Server(which, _)) => {
            let (b, s) = which.split_once('/').unwrap_or((&which, ""));
            if !has_server(b, s) {
                return Err((
                    format!("{field}.server"),
                    format!("no configuration defines server '{which}' (backend/server)"),
                ));
            }
        }
        Ok(Check::Backend(b, _)) => {
            if !backends().any(|p| p.name == b) {
                return Err((
                    format!("{field}.backend"),
                    format!("no configuration defines backend '{b}'"),
                ));
            }
        }
        Ok(Check::Stat { line, .. }) => {
            let (px, sv) = line.split_once('/').unwrap_or((&line, ""));
            let named: Vec<_> = proxies().filter(|p| p.name == px).collect();
            if named.is_empty() {
                return Err((
                    format!("{field}.stat"),
                    format!("no configuration defines proxy '{px}'"),
                ));
            }
            let known = matches!(sv, "FRONTEND" | "BACKEND")
                || sv.starts_with("sock-")
                || named.iter().any(|proxy| {
                    proxy.servers.iter().any(|s| s.name == sv)
                        || proxy.binds.iter().any(|b| b.name.as_deref() == Some(sv))
                });
            if !known {
                return Err((
                    format!("{field}.stat"),
                    format!("'{sv}' is not FRONTEND, BACKEND, a server or a listener of '{px}'"),
                ));
            }
        }
        Ok(Check::Pid(_)) | Err(_) => {}
    }
    Ok(())
}

/// serde_yaml appends " at line L column C"; the error already says where.
fn strip_location(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// serde_yaml may start the message with (part of) the field's path,
/// which the error already names.
fn strip_path(message: &str, field: &str) -> String {
    let mut prefix = field;
    loop {
        if let Some(rest) = message.strip_prefix(&format!("{prefix}: ")) {
            return rest.to_string();
        }
        match prefix.rfind(['.', '[']) {
            Some(i) => prefix = &prefix[..i],
            None => return message.to_string(),
        }
    }
}

/// The line where a field such as `expect[2]` or `timeline[0].fail` is
/// written: each step of the path is looked for below the previous one,
/// in block or flow style; the deepest step found wins (1 if none).
fn line_of(text: &str, field: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    let meaningful = |l: &&str| !l.trim().is_empty() && !l.trim_start().starts_with('#');
    // The lines below `anchor` that belong to it (more indented, or its
    // own flow-style line).
    // The lines below `anchor` that belong to it: more indented, or, for
    // a key, its list items at its own indentation (`key:\n- item`); a
    // list item ends at its next sibling.
    let region = |anchor: Option<usize>| -> (usize, usize) {
        let Some(a) = anchor else {
            return (0, lines.len());
        };
        let base = indent(lines[a]);
        let item = lines[a].trim_start().starts_with("- ");
        let end = (a + 1..lines.len())
            .find(|&i| {
                let (level, sibling) = (indent(lines[i]), lines[i].trim_start().starts_with("- "));
                meaningful(&lines[i]) && (level < base || (level == base && (item || !sibling)))
            })
            .unwrap_or(lines.len());
        (a, end)
    };
    // A key written at the top level (no indentation), or, below an
    // anchor, in block or flow style.
    let has_key = |line: &str, key: &str, top: bool| {
        if top {
            return line.starts_with(&format!("{key}:"));
        }
        let t = line.trim_start().trim_start_matches("- ").trim_start();
        t.starts_with(&format!("{key}:"))
            || line.contains(&format!("{{ {key}:"))
            || line.contains(&format!(", {key}:"))
    };
    let mut at: Option<usize> = None;
    for step in field.split('.') {
        let (key, index) = match step.split_once('[') {
            Some((k, i)) => (k, i.trim_end_matches(']').parse::<usize>().ok()),
            None => (step, None),
        };
        let (start, end) = region(at);
        let Some(found) = (start..end).find(|&i| has_key(lines[i], key, at.is_none())) else {
            break;
        };
        at = Some(found);
        if let Some(n) = index {
            let (_, end) = region(Some(found));
            let items: Vec<usize> = (found + 1..end)
                .filter(|&i| lines[i].trim_start().starts_with("- "))
                .collect();
            let level = items.first().map(|&i| indent(lines[i]));
            let item = items
                .into_iter()
                .filter(|&i| Some(indent(lines[i])) == level)
                .nth(n);
            match item {
                Some(i) => at = Some(i),
                None => break,
            }
        }
    }
    at.map_or(1, |a| a + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::fixture::{parse, MINIMAL};

    #[test]
    fn errors_name_file_line_and_field() {
        let bad = format!("{MINIMAL}timeline:\n  - at: 3x\n    crash: p\n");
        let e = parse(&bad).unwrap_err().to_string();
        assert!(
            e.starts_with("t.yaml:11: timeline[0].at: '3x' is not a time"),
            "{e}"
        );

        let typo = MINIMAL.replace("duration:", "duraton:");
        let e = parse(&typo).unwrap_err().to_string();
        assert!(
            e.contains("t.yaml:3: duraton") || e.contains("unknown field `duraton`"),
            "{e}"
        );

        let half = format!("{MINIMAL}expect:\n  - {{ at: 1s, server: app/web1 }}\n");
        let e = parse(&half).unwrap_err().to_string();
        assert!(
            e.contains("expect[0]: expects 'server' and 'state', 'backend' and 'state', 'stat', 'column' and 'value', or 'proxy' and 'pid'"),
            "{e}"
        );
        let maint = format!("{MINIMAL}expect:\n  - {{ at: 1s, backend: app, state: MAINT }}\n");
        let e = parse(&maint).unwrap_err().to_string();
        assert!(
            e.contains("expect[0]: a backend's state is UP or DOWN"),
            "{e}"
        );

        let closed = format!(
            "{MINIMAL}clients:\n  - {{ name: u, address: 10.0.0.5, target: \"10.0.0.1:80\", users: 2 }}\ntimeline:\n  - {{ at: 1s, load: {{ client: u, rate: 5/s }} }}\n"
        );
        let e = parse(&closed).unwrap_err().to_string();
        assert!(
            e.contains(
                "timeline[0].load: client 'u' has no rate: only an open-loop client's rate changes"
            ),
            "{e}"
        );

        let ghost = format!("{MINIMAL}timeline:\n  - {{ at: 1s, crash: nobody }}\n");
        let e = parse(&ghost).unwrap_err().to_string();
        assert_eq!(e, "t.yaml:11: timeline[0]: no host named 'nobody'");
    }

    #[test]
    fn servers_and_clients_are_refused_when_contradictory() {
        let servers = format!(
            "{MINIMAL}servers:\n  - {{ name: a, address: 10.0.0.2, echo: true, reply: x }}\n"
        );
        let e = parse(&servers).unwrap_err().to_string();
        assert_eq!(e, "t.yaml:11: servers[0]: give 'reply' or 'echo', not both");

        let page = format!(
            "{MINIMAL}servers:\n  - {{ name: a, address: 10.0.0.2, check_path: /health }}\n"
        );
        let e = parse(&page).unwrap_err().to_string();
        assert!(
            e.contains("servers[0].check_path: a health-check page needs 'protocol: http'"),
            "{e}"
        );

        let checks = format!(
            "{MINIMAL}servers:\n  - {{ name: a, address: 10.0.0.2 }}\ntimeline:\n  - {{ at: 1s, fail: {{ server: a, mode: checks }} }}\n"
        );
        let e = parse(&checks).unwrap_err().to_string();
        assert!(
            e.contains(
                "t.yaml:13: timeline[0].fail: server 'a' has no 'check_port' or 'check_path'"
            ),
            "{e}"
        );
        let separable = checks.replace("10.0.0.2 }", "10.0.0.2, check_port: 8080 }");
        parse(&separable).unwrap();

        let open = format!(
            "{MINIMAL}clients:\n  - {{ name: u, address: 10.0.0.5, target: \"10.0.0.1:80\", rate: 5/s, keep_alive: true, requests: [{{ path: / }}] }}\n"
        );
        let e = parse(&open).unwrap_err().to_string();
        assert!(
            e.contains("clients[0].keep_alive: an open-loop arrival is a new visitor"),
            "{e}"
        );
        let tcp = open
            .replace(", requests: [{ path: / }]", "")
            .replace("rate: 5/s", "users: 2");
        let e = parse(&tcp).unwrap_err().to_string();
        assert!(
            e.contains("clients[0]: 'keep_alive' and 'cookies' are for HTTP clients"),
            "{e}"
        );
    }

    #[test]
    fn expectations_name_what_a_configuration_defines() {
        let ok = format!("{MINIMAL}expect:\n  - {{ at: 1s, proxy: p, backend: x, state: UP }}\n");
        parse(&ok).unwrap();
        let host = ok.replace("proxy: p,", "proxy: q,");
        let e = parse(&host).unwrap_err().to_string();
        assert_eq!(e, "t.yaml:11: expect[0].proxy: no proxy named 'q'");
        let backend = ok.replace("backend: x", "backend: y");
        let e = parse(&backend).unwrap_err().to_string();
        assert_eq!(
            e,
            "t.yaml:11: expect[0].backend: no configuration defines backend 'y'"
        );
        let line = format!(
            "{MINIMAL}expect:\n  - {{ at: 1s, stat: x/web1, column: stot, value: \"0\" }}\n"
        );
        let e = parse(&line).unwrap_err().to_string();
        assert!(
            e.contains(
                "expect[0].stat: 'web1' is not FRONTEND, BACKEND, a server or a listener of 'x'"
            ),
            "{e}"
        );
    }

    #[test]
    fn a_field_is_found_on_its_own_line() {
        let text = "\
name: t
links:
  - { between: [a, b], latency: 2ms }
latency: 1ms
proxies:
  - name: p
    config_file: p.cfg
  - name: q
    config: |
      listen x
timeline:
  - at: 1s
    crash: p
  - { at: 2s, fail: { server: s, mode: none } }
";
        assert_eq!(line_of(text, "latency"), 4);
        assert_eq!(line_of(text, "proxies[0].config_file"), 7);
        // Not the next item's key.
        assert_eq!(line_of(text, "proxies[0].config"), 6);
        assert_eq!(line_of(text, "proxies[1].config"), 9);
        assert_eq!(line_of(text, "timeline[0].crash"), 13);
        assert_eq!(line_of(text, "timeline[1].fail"), 14);
        assert_eq!(line_of(text, "nowhere"), 1);
    }

    #[test]
    fn loss_needs_a_proxy_at_one_end() {
        let text = format!(
            "{MINIMAL}servers:\n  - {{ name: a, address: 10.0.0.2 }}\nclients:\n  - {{ name: u, address: 10.0.0.5, target: \"10.0.0.1:80\" }}\nlinks:\n  - {{ between: [u, a], loss: 1% }}\n"
        );
        let e = parse(&text).unwrap_err().to_string();
        assert!(
            e.contains("links[0]: loss acts on the proxies' connections"),
            "{e}"
        );
        parse(&text.replace("[u, a]", "[p, a]")).unwrap();
        let e = parse(&text.replace("loss: 1%", "loss: 1"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("'1' is not a percentage from 0% to 100%"), "{e}");
    }

    #[test]
    fn a_proxy_needs_exactly_one_config() {
        let both = MINIMAL.replace("    config: |", "    config_file: x.cfg\n    config: |");
        let e = parse(&both).unwrap_err().to_string();
        assert!(
            e.contains("proxies[0]: exactly one of 'config' and 'config_file'"),
            "{e}"
        );
    }
}

#[cfg(test)]
mod reload_tests {
    use super::*;
    use crate::scenario::fixture::{parse, MINIMAL};
    use crate::scenario::Reload;

    /// MINIMAL with a server `s` and `events` as its timeline.
    fn with_timeline(events: &str) -> String {
        format!("{MINIMAL}servers:\n  - {{ name: s, address: 10.0.0.2 }}\ntimeline:\n{events}")
    }

    #[test]
    fn a_reload_names_a_proxy() {
        let ghost = with_timeline("  - { at: 1s, reload: { proxy: q, config: \"x\" } }\n");
        let e = parse(&ghost).unwrap_err().to_string();
        assert_eq!(e, "t.yaml:13: timeline[0].reload.proxy: no proxy named 'q'");
        // A host, but not a proxy.
        let server = ghost.replace("proxy: q", "proxy: s");
        let e = parse(&server).unwrap_err().to_string();
        assert_eq!(e, "t.yaml:13: timeline[0].reload.proxy: no proxy named 's'");
        // The runtime API's commands too.
        let api = with_timeline("  - { at: 1s, api: { proxy: s, command: \"show info\" } }\n");
        let e = parse(&api).unwrap_err().to_string();
        assert_eq!(e, "t.yaml:13: timeline[0].api.proxy: no proxy named 's'");
    }

    #[test]
    fn a_reload_has_exactly_one_configuration() {
        let none = with_timeline("  - at: 1s\n    reload:\n      proxy: p\n");
        let e = parse(&none).unwrap_err().to_string();
        assert_eq!(
            e,
            "t.yaml:14: timeline[0].reload: exactly one of 'config' and 'config_file' is required"
        );
        let both = with_timeline(
            "  - at: 1s\n    reload:\n      proxy: p\n      config_file: x.cfg\n      config: |\n        listen x\n          bind :80\n",
        );
        let e = parse(&both).unwrap_err().to_string();
        assert!(
            e.contains("timeline[0].reload: exactly one of 'config' and 'config_file'"),
            "{e}"
        );
        let missing = with_timeline(
            "  - { at: 1s, crash: s }\n  - { at: 2s, reload: { proxy: p, config_file: nowhere/v2.cfg } }\n",
        );
        let e = parse(&missing).unwrap_err().to_string();
        assert!(
            e.starts_with("t.yaml:14: timeline[1].reload.config_file: ./nowhere/v2.cfg: "),
            "{e}"
        );
        let unnamed = with_timeline("  - { at: 1s, reload: { config: \"x\" } }\n");
        let e = parse(&unnamed).unwrap_err().to_string();
        assert!(
            e.contains("timeline[0]") && e.contains("missing field `proxy`"),
            "{e}"
        );
        let typo = with_timeline("  - { at: 1s, reload: { proxy: p, confg: \"x\" } }\n");
        let e = parse(&typo).unwrap_err().to_string();
        assert!(e.contains("unknown field `confg`"), "{e}");
    }

    #[test]
    fn a_reload_file_is_read_relative_to_the_scenario() {
        let dir = std::env::temp_dir().join(format!("sim-reload-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("conf")).unwrap();
        std::fs::write(dir.join("conf/v2.cfg"), "listen x\n  bind :80\n").unwrap();
        let text =
            with_timeline("  - { at: 1s, reload: { proxy: p, config_file: conf/v2.cfg } }\n");
        let s = Scenario::parse("t.yaml", &text, &dir).unwrap();
        let Action::Reload(r) = &s.timeline[0].action else {
            panic!("a reload");
        };
        assert_eq!(r.config.as_deref(), Some("listen x\n  bind :80\n"));
        assert_eq!(r.file_name(), "conf/v2.cfg");
        std::fs::remove_dir_all(&dir).unwrap();
        // Inline, the messages name the proxy, as its first configuration's.
        let inline = Reload {
            proxy: "p".into(),
            config: Some(String::new()),
            config_file: None,
        };
        assert_eq!(inline.file_name(), "p");
    }

    #[test]
    fn a_configuration_that_does_not_load_is_the_runs_business() {
        // A reload that fails is a scenario of its own: accepted at load.
        let bad = with_timeline(
            "  - at: 1s\n    reload:\n      proxy: p\n      config: |\n        listen x\n          bind :80\n          sever web3 10.0.0.3:80\n",
        );
        parse(&bad).unwrap();
    }

    #[test]
    fn expectations_may_name_what_a_reload_defines() {
        let reload = "  - at: 1s\n    reload:\n      proxy: p\n      config: |\n        listen x\n          bind :80\n          server web3 10.0.0.3:80\n";
        let expect = "expect:\n  - { at: 2s, proxy: p, server: x/web3, state: UP }\n";
        parse(&format!("{}{expect}", with_timeline(reload))).unwrap();
        // Not when the configuration that would define it does not load.
        let broken = reload.replace("bind :80", "bind :80\n          bogus");
        let e = parse(&format!("{}{expect}", with_timeline(&broken)))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("expect[0].server: no configuration defines server 'x/web3'"),
            "{e}"
        );
    }

    #[test]
    fn a_pid_expectation_names_its_proxy_alone() {
        let ok = format!("{MINIMAL}expect:\n  - {{ at: 1s, proxy: p, pid: 1000 }}\n");
        let s = parse(&ok).unwrap();
        assert_eq!(s.expect[0].check(), Ok(Check::Pid(1000)));
        let e = parse(&ok.replace("proxy: p, ", ""))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "t.yaml:11: expect[0]: a pid expectation names its 'proxy'"
        );
        let e = parse(&ok.replace("pid: 1000", "pid: 1000, state: UP"))
            .unwrap_err()
            .to_string();
        assert_eq!(e, "t.yaml:11: expect[0]: 'pid' goes with 'proxy' alone");
        let e = parse(&ok.replace("proxy: p", "proxy: q"))
            .unwrap_err()
            .to_string();
        assert_eq!(e, "t.yaml:11: expect[0].proxy: no proxy named 'q'");
    }
}
