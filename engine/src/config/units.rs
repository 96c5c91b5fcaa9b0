//! Time and size values with HAProxy's units and its error cases
//! (`parse_time_err` / `parse_size_err` in src/tools.c).
//!
//! Times are integers followed by `us`, `ms`, `s`, `m`, `h` or `d`
//! (milliseconds when no unit). Fractions are refused: `1.5s` fails on
//! the `.`. Results are rounded *up* to the millisecond and must stay below
//! 2^31 ms (~24.8 days). Junk after a valid unit (`10sx`) is only a warning
//! in 2.6.

use std::time::Duration;

/// The largest timer HAProxy accepts, in milliseconds.
pub const TIME_MAX_MS: u64 = 0x7fff_ffff;

/// Why a time value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// The character where parsing stopped (`x` in `10xs`).
    #[error("unexpected character '{0}'")]
    Char(char),
    /// Empty argument.
    #[error("missing value")]
    Empty,
    /// At least 2^31 ms.
    #[error("timer overflow")]
    Over,
    /// Non-zero but rounds to 0 ms (cannot happen when rounding up; kept
    /// for parity with HAProxy's error set).
    #[error("timer underflow")]
    Under,
}

/// A parsed time and an optional warning about trailing characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Time {
    pub ms: u64,
    /// `Some(c)` when junk followed a valid unit (HAProxy warns).
    pub trailing: Option<char>,
}

impl Time {
    pub fn duration(&self) -> Duration {
        Duration::from_millis(self.ms)
    }
}

/// Parses a time in milliseconds. See the module header for the rules.
pub fn parse_time_ms(text: &str) -> Result<Time, TimeError> {
    let first = text.chars().next().ok_or(TimeError::Empty)?;
    if !first.is_ascii_digit() {
        return Err(TimeError::Char(first));
    }
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    let mut value: u64 = 0;
    for d in text[..digits].bytes() {
        // Saturate: anything this large overflows the timer anyway.
        value = value.saturating_mul(10).saturating_add(u64::from(d - b'0'));
    }
    let unit = &text[digits..];
    // (multiplier, divisor) to milliseconds, and the unit's length.
    let (mul, div, len) = if unit.is_empty() {
        (1, 1, 0)
    } else if unit.starts_with("us") {
        (1, 1000, 2)
    } else if unit.starts_with("ms") {
        (1, 1, 2)
    } else if unit.starts_with('s') {
        (1000, 1, 1)
    } else if unit.starts_with('m') {
        (60_000, 1, 1)
    } else if unit.starts_with('h') {
        (3_600_000, 1, 1)
    } else if unit.starts_with('d') {
        (86_400_000, 1, 1)
    } else {
        return Err(TimeError::Char(unit.chars().next().expect("non-empty")));
    };
    let trailing = unit[len..].chars().next();
    let ms = value.saturating_mul(mul).saturating_add(div - 1) / div;
    if ms > TIME_MAX_MS {
        return Err(TimeError::Over);
    }
    if ms == 0 && value != 0 {
        return Err(TimeError::Under);
    }
    Ok(Time { ms, trailing })
}

/// HAProxy's warning for junk after a valid unit.
pub fn trailing_warning(c: char, text: &str) -> String {
    format!(
        "unexpected character '{c}' after the timer value '{text}', only \
         (us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported. \
         This will be reported as an error in next versions."
    )
}

/// Parses a size with an optional `k`, `m` or `g` suffix (powers of 1024).
/// Returns the offending character on error.
pub fn parse_size(text: &str) -> Result<u64, Option<char>> {
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 {
        return Err(text.chars().next());
    }
    let value: u64 = text[..digits].parse().map_err(|_| None)?;
    let mut rest = text[digits..].chars();
    let mul = match rest.next() {
        None => 1,
        Some('k' | 'K') => 1 << 10,
        Some('m' | 'M') => 1 << 20,
        Some('g' | 'G') => 1 << 30,
        Some(c) => return Err(Some(c)),
    };
    if let Some(c) = rest.next() {
        return Err(Some(c));
    }
    value.checked_mul(mul).ok_or(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> u64 {
        parse_time_ms(s).unwrap().ms
    }

    #[test]
    fn units() {
        assert_eq!(ms("10"), 10);
        assert_eq!(ms("10ms"), 10);
        assert_eq!(ms("10s"), 10_000);
        assert_eq!(ms("1m"), 60_000);
        assert_eq!(ms("2h"), 7_200_000);
        assert_eq!(ms("1d"), 86_400_000);
        assert_eq!(ms("1500us"), 2, "rounded up");
        assert_eq!(ms("0"), 0);
    }

    #[test]
    fn errors_like_haproxy() {
        assert_eq!(parse_time_ms("10xs"), Err(TimeError::Char('x')));
        assert_eq!(parse_time_ms("1.5s"), Err(TimeError::Char('.')));
        assert_eq!(parse_time_ms("-1"), Err(TimeError::Char('-')));
        assert_eq!(parse_time_ms(""), Err(TimeError::Empty));
        assert_eq!(parse_time_ms("99999999999"), Err(TimeError::Over));
        assert_eq!(parse_time_ms("25d"), Err(TimeError::Over));
        assert_eq!(parse_time_ms("10sx").unwrap().trailing, Some('x'));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("16k"), Ok(16384));
        assert_eq!(parse_size("1M"), Ok(1 << 20));
        assert_eq!(parse_size("12"), Ok(12));
        assert_eq!(parse_size("1q"), Err(Some('q')));
        assert_eq!(parse_size("k"), Err(Some('k')));
    }
}
