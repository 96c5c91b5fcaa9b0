//! `slowstart`: a server coming back UP takes its share of the traffic
//! progressively, so that a cold cache or a JIT is not flooded at once.
//!
//! As HAProxy 2.6 does it (server_recalc_eweight, server_warmup,
//! srv_dynamic_maxconn): when a server comes back UP, from a check or out
//! of maintenance (never at startup), it warms up for `slowstart` whole
//! seconds. Every second, a task raises its effective weight to
//! `weight × (16 × elapsed + slowstart) / slowstart` sixteenths, for
//! dynamic algorithms only; its `maxconn` meanwhile is
//! `max(1, maxconn × ⌊100 × elapsed / slowstart⌋ / 100)`, for every
//! algorithm. Once the delay has elapsed, the next tick restores the full
//! weight and the warm-up ends.
//!
//! This is the arithmetic; the server starts its warm-up when it comes
//! back UP, and the task that ticks is the status module's.

use std::time::Duration;

use crate::balance::WEIGHT_SCALE;

/// The weight factor, in 16ths, `elapsed` whole seconds into a warm-up of
/// `slowstart` seconds; None once it is over.
pub fn factor(elapsed: u64, slowstart: u32) -> Option<u32> {
    let slowstart = u64::from(slowstart);
    (elapsed < slowstart)
        .then(|| ((u64::from(WEIGHT_SCALE) * elapsed + slowstart) / slowstart) as u32)
}

/// A warming server's `maxconn`: the elapsed share of `max`, at least 1.
pub fn throttle(max: u32, elapsed: u64, slowstart: u32) -> u32 {
    if elapsed >= u64::from(slowstart) {
        return max;
    }
    let ratio = 100 * elapsed / u64::from(slowstart);
    (u64::from(max) * ratio / 100).max(1) as u32
}

/// How often the warm-up task runs: HAProxy writes `MAX(1000,
/// slowstart / 20)` milliseconds with `slowstart` held in seconds, so a
/// second unless the delay exceeds 20000 seconds.
pub fn tick(slowstart: u32) -> Duration {
    Duration::from_millis(u64::from(slowstart / 20).max(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_weight_starts_at_a_sixteenth_and_grows_each_second() {
        // slowstart 10s: (16 × e + 10) / 10.
        let steps: Vec<Option<u32>> = (0..11).map(|e| factor(e, 10)).collect();
        let expected = [1, 2, 4, 5, 7, 9, 10, 12, 13, 15].map(Some);
        assert_eq!(&steps[..10], &expected);
        assert_eq!(steps[10], None, "over after 10 seconds");
        // A long warm-up: the first steps stay at the minimum.
        assert_eq!(factor(0, 60), Some(1));
        assert_eq!(factor(3, 60), Some(1));
        assert_eq!(factor(4, 60), Some(2));
    }

    #[test]
    fn maxconn_grows_with_the_elapsed_share_but_never_below_one() {
        assert_eq!(throttle(100, 0, 10), 1);
        assert_eq!(throttle(100, 3, 10), 30);
        assert_eq!(throttle(7, 5, 10), 3);
        assert_eq!(throttle(100, 10, 10), 100);
    }

    #[test]
    fn the_task_runs_every_second_for_any_realistic_delay() {
        assert_eq!(tick(1), Duration::from_secs(1));
        assert_eq!(tick(3600), Duration::from_secs(1));
        assert_eq!(tick(40_000), Duration::from_secs(2));
    }
}
