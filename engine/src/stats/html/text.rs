//! HAProxy's ways of printing a value on the page: counts grouped by
//! thousands (U2H), limits or `-` (LIM2A), durations (human_time), and
//! the escaping a name needs where it lands.

use std::fmt::{self, Display, Write};

/// A cell as a number, 0 when empty (HAProxy's zeroed field).
pub(super) fn value(cell: &str) -> u64 {
    cell.parse().unwrap_or(0)
}

/// HAProxy's U2H: a count with the first digit of every group of
/// thousands letter-spaced (`rls`), so 12000800 reads "12 000 800".
/// A cell that is not a count (empty: not measured) is shown as it is.
pub(super) fn num(cell: &str) -> String {
    if cell.is_empty() || !cell.bytes().all(|b| b.is_ascii_digit()) {
        return Esc(cell).to_string();
    }
    let digits = cell.trim_start_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let mut out = String::with_capacity(digits.len() * 8);
    for (i, d) in digits.chars().enumerate() {
        let from_right = digits.len() - 1 - i;
        if from_right > 0 && from_right % 3 == 0 {
            put!(out, "<span class=\"rls\">{d}</span>");
        } else {
            out.push(d);
        }
    }
    out
}

/// HAProxy's LIM2A: a limit, or `-` when there is none (0 or unset).
pub(super) fn limit(cell: &str) -> String {
    if cell.is_empty() || cell.bytes().all(|b| b == b'0') {
        "-".to_string()
    } else {
        Esc(cell).to_string()
    }
}

/// `part` as a whole percentage of `whole`, 0 when there is no whole.
pub(super) fn percent(part: &str, whole: u64) -> u64 {
    value(part)
        .saturating_mul(100)
        .checked_div(whole)
        .unwrap_or(0)
}

/// HAProxy's human_time: the two largest non-zero units among days,
/// hours, minutes and seconds (`2d3h`, `1h2m`, `5s`, `0s`); `?` for a
/// negative time (`lastsess` of a server that never had a session).
pub(super) fn human_time(cell: &str) -> String {
    let Ok(t) = cell.parse::<i64>() else {
        return Esc(cell).to_string();
    };
    human_secs(t)
}

/// [`human_time`] of a number of seconds.
pub fn human_secs(t: i64) -> String {
    if t < 0 {
        return "?".to_string();
    }
    let mut out = String::new();
    let mut left = 2;
    for (unit, secs, modulo) in [("d", 86_400, i64::MAX), ("h", 3600, 24), ("m", 60, 60)] {
        let n = t / secs % modulo;
        if left > 0 && n > 0 {
            put!(out, "{n}{unit}");
            left -= 1;
        }
    }
    if (left > 0 && t % 60 > 0) || t == 0 {
        put!(out, "{}s", t % 60);
    }
    out
}

/// A counter HAProxy prints with `%d`, without digit grouping.
pub(super) struct Plain<'a>(pub(super) &'a str);

impl Display for Plain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        Esc(self.0).fmt(f)
    }
}

/// Text made safe for HTML content and quoted attributes.
pub(super) struct Esc<'a>(pub(super) &'a str);

impl Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..i])?;
            f.write_str(match rest.as_bytes()[i] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[i + 1..];
        }
        f.write_str(rest)
    }
}

/// Text inside a single-quoted JavaScript string inside an HTML
/// attribute: the browser undoes HTML escaping before the script runs, so
/// anything but name characters becomes a `\u` escape.
pub(super) struct JsEsc<'a>(pub(super) &'a str);

impl Display for JsEsc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        for ch in self.0.chars() {
            if ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.' | ':') {
                f.write_char(ch)?;
            } else {
                let mut units = [0u16; 2];
                for u in ch.encode_utf16(&mut units) {
                    write!(f, "\\u{u:04x}")?;
                }
            }
        }
        Ok(())
    }
}
