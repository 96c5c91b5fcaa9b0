//! The statistics page as HTTP serves it (`stats uri`): which requests it
//! takes, Basic authentication, the options after the prefix (`;csv`,
//! `;up`, `;norefresh`, `;st=`, `;scope=`), the admin form's POST and its
//! 303, as HAProxy 2.6's stats applet does.
//!
//! The rendering is [`super::html`] and [`super::csv`]; the numbers come
//! from one [`Registry::snapshot`], as the CSV's do.

use crate::config::StatsSettings;
use crate::http::reply::Reply;
use crate::rules::stats_uri::uri;
use crate::stats::{Filter, Format};
use crate::status::{self, Admin, Flag, Forced, Notice};

use super::{html, typed, Registry};

/// HAProxy's default `stats realm`.
pub const DEFAULT_REALM: &str = "HAProxy Statistics";

/// What the words after the prefix ask for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ask {
    pub format: Format,
    pub csv: bool,
    pub up: bool,
    pub no_maint: bool,
    pub norefresh: bool,
    /// `;st=XXXX`: the result of the admin action that redirected here.
    pub status: Option<String>,
    /// `;scope=<text>`: only proxies whose name contains it.
    pub scope: Option<String>,
}

impl Ask {
    /// Reads the options anywhere after the prefix, as HAProxy looks for
    /// each one by itself.
    pub fn parse(settings: &StatsSettings, target: &[u8]) -> Ask {
        let at = find(target, uri(settings).as_bytes()).map_or(0, |i| i + uri(settings).len());
        let rest = String::from_utf8_lossy(&target[at..]).into_owned();
        let has = |w: &str| rest.contains(w);
        let mut ask = Ask {
            up: has(";up"),
            no_maint: has(";no-maint"),
            norefresh: settings.refresh.is_some() && has(";norefresh"),
            ..Ask::default()
        };
        if has(";csv") {
            ask.csv = true;
        }
        if has(";typed") {
            (ask.csv, ask.format) = (true, Format::Typed);
        }
        if has(";json") && !has(";json-schema") {
            (ask.csv, ask.format) = (true, Format::Json);
        }
        if let Some(i) = rest.find(";st=") {
            ask.status = Some(rest[i + 4..].chars().take(4).collect());
        }
        if let Some(i) = rest.find("scope=") {
            let text: String = rest[i + 6..]
                .chars()
                .take_while(|c| !matches!(c, ';' | '&' | ' '))
                .take(MAX_SCOPE)
                .collect();
            // HAProxy drops a scope with characters it does not allow.
            if text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
            {
                ask.scope = Some(text).filter(|t| !t.is_empty());
            }
        }
        ask
    }

    /// The filter the snapshot is taken with.
    pub fn filter(&self, settings: &StatsSettings) -> Filter {
        Filter {
            hide_down: self.up,
            hide_maint: self.no_maint,
            hide_legends: !settings.show_legends,
            format: self.format,
            ..Filter::default()
        }
    }
}

/// HAProxy's STAT_SCOPE_TXT_MAXLEN.
const MAX_SCOPE: usize = 32;

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len().max(1)).position(|w| w == needle)
}

/// Whether the request's `Authorization` header names a `stats auth`
/// account (none needed without one).
pub fn authorized(settings: &StatsSettings, authorization: Option<&[u8]>) -> bool {
    if settings.auth.is_empty() {
        return true;
    }
    let Some(value) = authorization else {
        return false;
    };
    let value = String::from_utf8_lossy(value);
    let mut words = value.split_whitespace();
    let (Some(scheme), Some(token)) = (words.next(), words.next()) else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    let Some(decoded) = base64_decode(token) else {
        return false;
    };
    let Some((user, password)) = decoded.split_once(':') else {
        return false;
    };
    settings
        .auth
        .iter()
        .any(|(u, p)| u == user && p == password)
}

/// Standard base64 (with or without padding) to text.
fn base64_decode(text: &str) -> Option<String> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        bits = bits << 6 | u32::from(v);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    String::from_utf8(out).ok()
}

/// The 401 asking for an account, with the realm.
pub fn unauthorized(settings: &StatsSettings) -> Reply {
    let mut reply = Reply::builtin(401);
    let realm = settings.realm.as_deref().unwrap_or(DEFAULT_REALM);
    reply
        .head
        .add("www-authenticate", format!("Basic realm=\"{realm}\""));
    reply
}

/// The page's body and content type for a GET.
pub fn render(
    settings: &StatsSettings,
    ask: &Ask,
    registry: &Registry,
    admin: bool,
    node: &str,
) -> (&'static str, String) {
    let filter = ask.filter(settings);
    let mut proxies = registry.snapshot(&filter);
    // `stats scope`, then the request's `;scope=`.
    if !settings.scope.is_empty() {
        proxies.retain(|p| settings.scope.contains(&p.name));
    }
    if let Some(scope) = &ask.scope {
        proxies.retain(|p| p.name.contains(scope.as_str()));
    }
    if ask.csv {
        return match ask.format {
            Format::Typed => ("text/plain", typed::stat_typed(&proxies)),
            Format::Json => ("application/json", typed::stat_json(&proxies)),
            Format::Plain => {
                let mut out = super::csv::header();
                out.push('\n');
                for line in proxies.iter().flat_map(|p| p.lines()) {
                    out.push_str(&line.render());
                    out.push('\n');
                }
                ("text/plain", out)
            }
        };
    }
    let info = registry
        .info
        .as_ref()
        .map(|i| i.fields(registry))
        .unwrap_or_default();
    let show_node = settings
        .show_node
        .as_deref()
        .map(|n| if n.is_empty() { node } else { n });
    let page = html::Page {
        uri: uri(settings),
        hide_version: settings.hide_version,
        refresh: settings.refresh.map(|r| r.as_secs()),
        norefresh: ask.norefresh,
        up_only: ask.up,
        admin,
        show_legends: settings.show_legends,
        show_node,
        show_desc: settings.show_desc.as_deref().filter(|d| !d.is_empty()),
        status: ask.status.as_deref(),
        scope: ask.scope.as_deref(),
        info: &info,
        proxies: &proxies,
    };
    ("text/html", html::render(&page))
}

/// The admin form's POST: applies the action to the servers named, and
/// says how it went as the `;st=` code (HAProxy's stats_process_http_post).
pub fn post(body: &[u8], registry: &Registry, notices: &mut Vec<Notice>) -> &'static str {
    let text = String::from_utf8_lossy(body);
    let mut backend = None;
    let mut action = None;
    let mut servers = vec![];
    // HAProxy reads the parameters from the last; the first `b` and
    // `action` it meets (the last given) win.
    for pair in text.split('&').rev() {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (Some(key), Some(value)) = (url_decode(key), url_decode(value)) else {
            break;
        };
        match key.as_str() {
            "b" if backend.is_none() => match find_backend(registry, &value) {
                Some(b) => backend = Some(b),
                None => return "ERRP",
            },
            "action" if action.is_none() => match Action::from_name(&value) {
                Some(a) => action = Some(a),
                None => return "ERRP",
            },
            "s" => servers.push(value),
            _ => {}
        }
    }
    let (Some(backend), Some(action)) = (backend, action) else {
        return "NONE";
    };
    // A server changed counts in both; a server unknown in the total
    // only; one the action leaves as it was, in neither.
    let (mut total, mut altered) = (0, 0);
    for name in servers.iter().rev() {
        let Some(server) = backend.servers.iter().find(|s| s.name() == name) else {
            total += 1;
            continue;
        };
        let changed = match action {
            Action::Set(request) => {
                notices.extend(status::set_admin(backend, server, request));
                true
            }
            Action::Legacy(flag, on) => match status::set_flag(backend, server, flag, on) {
                Some(said) => {
                    notices.extend(said);
                    true
                }
                None => false,
            },
            Action::Checks(on) => {
                let configured = server.config.check.enabled;
                if configured {
                    status::set_checks(server, on);
                }
                configured
            }
            Action::Health(to) => {
                notices.extend(status::force(
                    backend,
                    server,
                    to,
                    "changed from Web interface",
                ));
                true
            }
            // No agent checks exist: nothing is configured to change.
            Action::Agent => false,
            Action::Shutdown => {
                status::kill_sessions(server);
                true
            }
        };
        if changed {
            total += 1;
            altered += 1;
        }
    }
    match (total, altered) {
        (0, _) => "NONE",
        (_, 0) => "ERRP",
        (t, a) if t == a => "DONE",
        _ => "PART",
    }
}

/// The admin form's actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// ready, drain, maint.
    Set(Admin),
    /// disable, enable, stop, start: one flag set or cleared alone.
    Legacy(Flag, bool),
    /// dhlth, ehlth.
    Checks(bool),
    /// hrunn, hnolb, hdown: the health state forced.
    Health(Forced),
    /// dagent, eagent, arunn, adown.
    Agent,
    /// shutdown: the server's sessions are killed.
    Shutdown,
}

impl Action {
    fn from_name(name: &str) -> Option<Action> {
        Some(match name {
            "ready" => Action::Set(Admin::Ready),
            "drain" => Action::Set(Admin::Drain),
            "maint" => Action::Set(Admin::Maint),
            "disable" => Action::Legacy(Flag::Maint, true),
            "enable" => Action::Legacy(Flag::Maint, false),
            "stop" => Action::Legacy(Flag::Drain, true),
            "start" => Action::Legacy(Flag::Drain, false),
            "dhlth" => Action::Checks(false),
            "ehlth" => Action::Checks(true),
            "hrunn" => Action::Health(Forced::Up),
            "hnolb" => Action::Health(Forced::Stopping),
            "hdown" => Action::Health(Forced::Down),
            "dagent" | "eagent" | "arunn" | "adown" => Action::Agent,
            "shutdown" => Action::Shutdown,
            _ => return None,
        })
    }
}

/// `b=<name>` or `b=#<id>`, as HAProxy's proxy_be_by_name.
fn find_backend<'a>(registry: &'a Registry, value: &str) -> Option<&'a crate::backend::Backend> {
    registry
        .proxies
        .iter()
        .filter_map(|p| p.backend.as_deref())
        .find(|b| match value.strip_prefix('#') {
            Some(id) => id.parse() == Ok(b.iid),
            None => b.name == value,
        })
}

/// Form decoding: `+` is a space, `%XX` a byte.
fn url_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Where a POST sends the browser back: the page with the result code,
/// keeping `;up`, `;norefresh` and the scope.
pub fn redirect(settings: &StatsSettings, ask: &Ask, code: &str) -> Reply {
    let mut to = format!("{};st={code}", uri(settings));
    if ask.up {
        to.push_str(";up");
    }
    if ask.norefresh {
        to.push_str(";norefresh");
    }
    if let Some(scope) = &ask.scope {
        to.push_str(&format!(";scope={scope}"));
    }
    // HAProxy's applet writes this head itself, in this order.
    let mut reply = Reply::location(303, &to);
    reply.head.headers = vec![
        (b"cache-control".to_vec(), b"no-cache".to_vec()),
        (b"content-type".to_vec(), b"text/plain".to_vec()),
        (b"content-length".to_vec(), b"0".to_vec()),
        (b"location".to_vec(), to.into_bytes()),
    ];
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(uri: &str) -> StatsSettings {
        StatsSettings {
            enabled: true,
            uri: Some(uri.into()),
            auth: vec![("admin".into(), "admin".into())],
            ..StatsSettings::default()
        }
    }

    #[test]
    fn options_after_the_prefix_are_read() {
        let mut s = settings("/st");
        s.refresh = Some(std::time::Duration::from_secs(5));
        let ask = Ask::parse(&s, b"/st;up;norefresh;csv;st=DONE;scope=web");
        assert!(ask.up && ask.norefresh && ask.csv);
        assert_eq!(ask.status.as_deref(), Some("DONE"));
        assert_eq!(ask.scope.as_deref(), Some("web"));
        // Without `stats refresh`, `;norefresh` means nothing.
        assert!(!Ask::parse(&settings("/st"), b"/st;norefresh").norefresh);
    }

    #[test]
    fn basic_authentication_checks_the_accounts() {
        let s = settings("/st");
        assert!(authorized(&s, Some(b"Basic YWRtaW46YWRtaW4=")));
        assert!(authorized(&s, Some(b"basic YWRtaW46YWRtaW4")));
        assert!(!authorized(&s, Some(b"Basic YWRtaW46d3Jvbmc=")));
        assert!(!authorized(&s, None));
        assert!(authorized(&StatsSettings::default(), None));
        let reply = unauthorized(&s);
        assert_eq!(reply.status(), 401);
        assert_eq!(
            reply.head.values("www-authenticate").next(),
            Some(&b"Basic realm=\"HAProxy Statistics\""[..])
        );
    }

    #[test]
    fn the_redirect_keeps_the_view() {
        let mut s = settings("/st");
        s.refresh = Some(std::time::Duration::from_secs(5));
        let ask = Ask::parse(&s, b"/st;up;norefresh");
        let reply = redirect(&s, &ask, "DONE");
        assert_eq!(reply.status(), 303);
        assert_eq!(
            reply.head.values("location").next(),
            Some(&b"/st;st=DONE;up;norefresh"[..])
        );
    }

    #[test]
    fn form_values_are_decoded() {
        assert_eq!(url_decode("a+b%2Fc").as_deref(), Some("a b/c"));
        assert_eq!(url_decode("%zz"), None);
    }
}
