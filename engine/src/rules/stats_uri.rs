//! Which requests a proxy's statistics page takes (`stats enable`,
//! `stats uri`): decided with the rules, as HAProxy's stats_check_uri
//! runs among its request analysers.

use crate::config::StatsSettings;

/// HAProxy's default `stats uri`.
pub const DEFAULT_URI: &str = "/haproxy?stats";

/// The prefix the page answers under.
pub fn uri(settings: &StatsSettings) -> &str {
    settings.uri.as_deref().unwrap_or(DEFAULT_URI)
}

/// Whether the page takes this request: GET, HEAD or POST on a URI that
/// starts with the prefix (the path and query when the prefix is a path,
/// the whole URI otherwise), as HAProxy's http_stats_check_uri.
pub fn wants(settings: &StatsSettings, method: &[u8], target: &[u8]) -> bool {
    if !settings.enabled || !matches!(method, b"GET" | b"HEAD" | b"POST") {
        return false;
    }
    let prefix = uri(settings).as_bytes();
    let path = if prefix.starts_with(b"/") {
        path_of(target)
    } else {
        target
    };
    path.starts_with(prefix)
}

/// An absolute URI's path and query (`http://h/p?q` → `/p?q`).
fn path_of(target: &[u8]) -> &[u8] {
    match target.windows(3).position(|w| w == b"://") {
        Some(i) => {
            let rest = &target[i + 3..];
            rest.iter()
                .position(|&c| c == b'/')
                .map_or(&[], |j| &rest[j..])
        }
        None => target,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(uri: &str) -> StatsSettings {
        StatsSettings {
            enabled: true,
            uri: Some(uri.into()),
            ..StatsSettings::default()
        }
    }

    #[test]
    fn the_prefix_matches_the_path_and_query() {
        let s = settings("/admin?stats");
        assert!(wants(&s, b"GET", b"/admin?stats"));
        assert!(wants(&s, b"POST", b"/admin?stats;up"));
        assert!(wants(&s, b"GET", b"http://host/admin?stats;csv"));
        assert!(!wants(&s, b"GET", b"/admin"));
        assert!(!wants(&s, b"PUT", b"/admin?stats"));
        let default = StatsSettings {
            enabled: true,
            ..StatsSettings::default()
        };
        assert!(wants(&default, b"GET", b"/haproxy?stats"));
    }
}
