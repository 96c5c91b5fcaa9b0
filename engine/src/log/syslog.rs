//! Syslog targets and framing, as HAProxy 2.6 sends them.
//!
//! A UDP target gets one datagram per line:
//! `<134>Nov 25 06:41:28 haproxy[486]: 127.0.0.1:35274 [...] ...\n`, the
//! priority being `facility * 8 + level` and the header date the moment of
//! sending (RFC 3164, no host name). `stdout`/`stderr` targets get the
//! same line on the stream. Dates are UTC: the engine takes wall time from
//! the seam and keeps no time-zone database.

use std::net::SocketAddr;
use std::time::SystemTime;

use chrono::{DateTime, Datelike, Timelike, Utc};

/// Syslog severities, most important first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Emerg = 0,
    Alert = 1,
    Crit = 2,
    Err = 3,
    Warning = 4,
    Notice = 5,
    Info = 6,
    Debug = 7,
}

/// Level names as HAProxy's configuration writes them.
pub const LEVELS: [(&str, Level); 8] = [
    ("emerg", Level::Emerg),
    ("alert", Level::Alert),
    ("crit", Level::Crit),
    ("err", Level::Err),
    ("warning", Level::Warning),
    ("notice", Level::Notice),
    ("info", Level::Info),
    ("debug", Level::Debug),
];

/// Facility names and codes (RFC 5424 table, as HAProxy's `log_facilities`).
pub const FACILITIES: [&str; 24] = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2",
    "ftp", "ntp", "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
];

pub fn level(name: &str) -> Option<Level> {
    LEVELS.iter().find(|(n, _)| *n == name).map(|(_, l)| *l)
}

pub fn facility(name: &str) -> Option<u8> {
    FACILITIES.iter().position(|f| *f == name).map(|i| i as u8)
}

/// Where a target's lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dest {
    Udp(SocketAddr),
    /// A unix datagram socket (`/dev/log`, `unix@<path>`).
    Unix(std::path::PathBuf),
    Stdout,
    Stderr,
}

/// How a line is framed (`format` of a `log` line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// No `format`: RFC 3164 without a host name.
    #[default]
    Legacy,
    /// `format rfc3164`: with a host name (`localhost`, as HAProxy 2.6
    /// writes without `log-send-hostname`).
    Rfc3164,
    /// `format rfc5424`: version 1, ISO date with microseconds, no host
    /// name, no structured data.
    Rfc5424,
    /// `format short`: `<level>` and the message.
    Short,
    Raw,
}

impl Format {
    pub fn from_name(name: &str) -> Option<Format> {
        Some(match name {
            "rfc3164" => Format::Rfc3164,
            "rfc5424" => Format::Rfc5424,
            "short" => Format::Short,
            "raw" => Format::Raw,
            _ => return None,
        })
    }
}

pub const DEFAULT_MAX_LEN: usize = 1024;

/// One `log` line of the configuration, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub dest: Dest,
    pub format: Format,
    /// `len`: longer lines are cut to this many bytes, newline included.
    pub max_len: usize,
    pub facility: u8,
    /// Lines less important than this are not sent (default: all).
    pub max_level: Level,
    /// Lines more important than this are sent at this level instead.
    pub min_level: Level,
}

impl Target {
    /// The level a line of `level` is sent at, or None when filtered out.
    pub fn accepts(&self, level: Level) -> Option<Level> {
        (level <= self.max_level).then(|| level.max(self.min_level))
    }

    /// The line as this target sends it, cut to `len` (keeping the final
    /// newline) on a character boundary.
    /// `host`: `log-send-hostname`'s name; without it only `rfc3164`
    /// names one (`localhost`) and `rfc5424` writes `-`.
    pub fn frame(
        &self,
        level: Level,
        now: SystemTime,
        tag: &str,
        host: Option<&str>,
        pid: u32,
        message: &str,
    ) -> String {
        let pri = u32::from(self.facility) * 8 + level as u32;
        let mut line = match self.format {
            Format::Legacy | Format::Rfc3164 => {
                let t: DateTime<Utc> = now.into();
                let host = match (host, self.format) {
                    (Some(h), _) => format!("{h} "),
                    (None, Format::Rfc3164) => "localhost ".to_string(),
                    (None, _) => String::new(),
                };
                format!(
                    "<{pri}>{} {:2} {:02}:{:02}:{:02} {host}{tag}[{pid}]: {message}",
                    MONTHS[t.month0() as usize],
                    t.day(),
                    t.hour(),
                    t.minute(),
                    t.second(),
                )
            }
            Format::Rfc5424 => {
                let t: DateTime<Utc> = now.into();
                format!(
                    "<{pri}>1 {}+00:00 {} {tag} {pid} - - {message}",
                    t.format("%Y-%m-%dT%H:%M:%S%.6f"),
                    host.unwrap_or("-")
                )
            }
            Format::Short => format!("<{}>{message}", level as u32),
            Format::Raw => message.to_string(),
        };
        // HAProxy 2.6.12 keeps `len` bytes before the newline in a
        // datagram (UDP, unix) with a header, one less on stdout/stderr
        // and in raw.
        let budget = match (&self.dest, self.format) {
            (Dest::Udp(_) | Dest::Unix(_), f) if f != Format::Raw => self.max_len,
            _ => self.max_len.saturating_sub(1),
        };
        let mut keep = budget.min(line.len());
        while !line.is_char_boundary(keep) {
            keep -= 1;
        }
        line.truncate(keep);
        line.push('\n');
        line
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn local0(format: Format, max_len: usize) -> Target {
        Target {
            dest: Dest::Stdout,
            format,
            max_len,
            facility: 16,
            max_level: Level::Debug,
            min_level: Level::Emerg,
        }
    }

    #[test]
    fn frames_like_haproxy() {
        // 2026-11-25 06:41:28 UTC
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_588_888);
        let rfc = local0(Format::Legacy, DEFAULT_MAX_LEN);
        assert_eq!(
            rfc.frame(Level::Info, t, "haproxy", None, 486, "hello"),
            "<134>Nov 25 06:41:28 haproxy[486]: hello\n"
        );
        assert!(rfc
            .frame(Level::Alert, t, "engine", None, 1, "x")
            .starts_with("<129>Nov 25 06:41:28 engine[1]: x"));
        // `short` carries the level alone (HAProxy 2.6.12: `<1>` for an
        // alert on local3).
        assert_eq!(
            local0(Format::Short, 99).frame(Level::Info, t, "e", None, 1, "m"),
            "<6>m\n"
        );
        assert_eq!(
            local0(Format::Rfc3164, 99).frame(Level::Info, t, "e", None, 1, "m"),
            "<134>Nov 25 06:41:28 localhost e[1]: m\n"
        );
        assert_eq!(
            local0(Format::Rfc5424, 999).frame(Level::Info, t, "e", None, 1, "m"),
            "<134>1 2026-11-25T06:41:28.000000+00:00 - e 1 - - m\n"
        );
        let host = Some("myhost");
        assert_eq!(
            local0(Format::Legacy, 99).frame(Level::Info, t, "e", host, 1, "m"),
            "<134>Nov 25 06:41:28 myhost e[1]: m\n"
        );
        assert_eq!(
            local0(Format::Rfc5424, 999).frame(Level::Info, t, "e", host, 1, "m"),
            "<134>1 2026-11-25T06:41:28.000000+00:00 myhost e 1 - - m\n"
        );
        assert_eq!(
            local0(Format::Raw, 99).frame(Level::Info, t, "e", None, 1, "m"),
            "m\n"
        );
    }

    #[test]
    fn single_digit_days_are_space_padded() {
        // 2026-11-05 00:00:00 UTC
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_793_836_800);
        let line = local0(Format::Legacy, DEFAULT_MAX_LEN).frame(Level::Info, t, "e", None, 1, "m");
        assert!(line.starts_with("<134>Nov  5 00:00:00 "));
    }

    #[test]
    fn long_lines_are_cut_to_len_with_their_newline() {
        let line = local0(Format::Raw, 8).frame(
            Level::Info,
            SystemTime::UNIX_EPOCH,
            "e",
            None,
            1,
            "héllo world",
        );
        assert_eq!(line, "héllo \n", "8 bytes, newline included");
        let line = local0(Format::Raw, 3).frame(
            Level::Info,
            SystemTime::UNIX_EPOCH,
            "e",
            None,
            1,
            "héllo",
        );
        assert_eq!(line, "h\n", "never in the middle of a character");
    }

    #[test]
    fn levels_filter_and_clamp() {
        let t = Target {
            max_level: Level::Notice,
            min_level: Level::Err,
            ..local0(Format::Legacy, DEFAULT_MAX_LEN)
        };
        assert_eq!(t.accepts(Level::Info), None);
        assert_eq!(t.accepts(Level::Notice), Some(Level::Notice));
        assert_eq!(t.accepts(Level::Alert), Some(Level::Err));
        assert_eq!(facility("local0"), Some(16));
        assert_eq!(level("warning"), Some(Level::Warning));
    }
}
