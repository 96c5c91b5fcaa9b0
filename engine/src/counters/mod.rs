//! The counters behind the stats: kept with atomics on the data path, one
//! set per frontend, backend and server, as HAProxy's `fe_counters` and
//! `be_counters`. The data path writes them; `stats` reads them.

pub mod meter;

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// Events per second, as HAProxy's freq_ctr: the count of the current
/// second plus the share of the previous second not yet elapsed. Kept in
/// two atomics, without a lock: the current second's number and count
/// packed in one word, the previous second's count in the other. A hit
/// racing with the turn of a second may land in either; HAProxy's
/// counter has the same slack.
#[derive(Debug)]
pub struct Rate {
    /// Seconds are counted from here (the engine's start).
    origin: Instant,
    /// (second number since `origin`) << 32 | count in that second.
    current: AtomicU64,
    previous: AtomicU32,
    max: AtomicU64,
}

impl Default for Rate {
    fn default() -> Self {
        Rate {
            origin: Instant::now(),
            current: AtomicU64::new(0),
            previous: AtomicU32::new(0),
            max: AtomicU64::default(),
        }
    }
}

impl Rate {
    pub fn hit(&self) {
        let now = self.origin.elapsed();
        self.roll(now.as_secs());
        self.current.fetch_add(1, Ordering::AcqRel);
        self.max
            .fetch_max(self.read(now.subsec_millis()), Ordering::Relaxed);
    }

    /// The current rate, per second.
    pub fn value(&self) -> u64 {
        let now = self.origin.elapsed();
        self.roll(now.as_secs());
        self.read(now.subsec_millis())
    }

    pub fn max(&self) -> u64 {
        self.max.load(Ordering::Relaxed)
    }

    /// `clear counters`: the peak starts over.
    pub fn clear_max(&self) {
        self.max.store(0, Ordering::Relaxed);
    }

    /// Moves on to second `sec`: the count of the second before it, if
    /// that was the last one counted, becomes the previous count.
    fn roll(&self, sec: u64) {
        let state = self.current.load(Ordering::Acquire);
        let (then, count) = (state >> 32, state & u64::from(u32::MAX));
        if then == sec {
            return;
        }
        let fresh = sec << 32;
        if self
            .current
            .compare_exchange(state, fresh, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            let previous = if then + 1 == sec { count as u32 } else { 0 };
            self.previous.store(previous, Ordering::Release);
        }
    }

    fn read(&self, elapsed_ms: u32) -> u64 {
        let current = self.current.load(Ordering::Acquire) & u64::from(u32::MAX);
        let previous = u64::from(self.previous.load(Ordering::Acquire));
        current + previous * u64::from(1000 - elapsed_ms.min(1000)) / 1000
    }
}

/// Traffic counters of a frontend, backend or server.
#[derive(Debug, Default)]
pub struct Traffic {
    /// Most concurrent sessions seen (`smax`).
    pub max_sessions: AtomicU64,
    /// Sessions ever (`stot`).
    pub sessions: AtomicU64,
    /// Bytes from clients (`bin`) and to clients (`bout`).
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
    /// Failed connection attempts to servers (`econ`).
    pub connect_errors: AtomicU64,
    /// Errors on the server side after connecting (`eresp`).
    pub response_errors: AtomicU64,
    /// Retries (`wretr`) and redispatches (`wredis`).
    pub retries: AtomicU64,
    pub redispatches: AtomicU64,
    /// Transfers aborted by the client (`cli_abrt`) or the server (`srv_abrt`).
    pub client_aborts: AtomicU64,
    pub server_aborts: AtomicU64,
    /// Times chosen by the balancing algorithm (`lbtot`).
    pub selected: AtomicU64,
    /// Connections established (`connect`).
    pub connects: AtomicU64,
    /// HTTP requests received (`req_tot`) and denied (`dreq`).
    pub requests: AtomicU64,
    pub denied_requests: AtomicU64,
    /// HTTP responses denied (`dresp`).
    pub denied_responses: AtomicU64,
    /// Invalid HTTP requests (`ereq`).
    pub bad_requests: AtomicU64,
    /// HTTP requests the frontend answered itself: redirects, the stats
    /// page, the exporter (`intercepted`).
    pub intercepted: AtomicU64,
    /// HTTP responses by status class, 1xx to 5xx at 1 to 5 and any
    /// other status at 0 (`hrsp_1xx`... `hrsp_other`).
    pub responses: [AtomicU64; 6],
    /// HTTP requests per second, frontends only (`req_rate`, `req_rate_max`).
    pub request_rate: Rate,
    /// Queue, connect, response and total times (`qtime`... `ttime_max`).
    pub times: Times,
    /// The HTTP/1 layer's connections and wire bytes, on the client side
    /// of a frontend or the server side of a backend (`h1_*`).
    pub h1: std::sync::Arc<meter::H1>,
    /// Sessions per second (`rate`, `rate_max`).
    pub rate: Rate,
    /// When the last session started (`lastsess`), in milliseconds since
    /// the session rate's origin, plus one; 0 before any.
    last_session: AtomicU64,
}

impl Traffic {
    /// `clear counters`: the peaks (`smax`, `rate_max`) start over.
    pub fn clear_max(&self) {
        self.max_sessions.store(0, Ordering::Relaxed);
        self.rate.clear_max();
        self.request_rate.clear_max();
        self.times.clear_max();
    }

    /// `clear counters all`: every counter starts over (the rates, which
    /// measure the last second, go on).
    pub fn clear_all(&self) {
        for counter in [
            &self.max_sessions,
            &self.sessions,
            &self.bytes_in,
            &self.bytes_out,
            &self.connect_errors,
            &self.response_errors,
            &self.retries,
            &self.redispatches,
            &self.client_aborts,
            &self.server_aborts,
            &self.selected,
            &self.connects,
            &self.requests,
            &self.denied_requests,
            &self.denied_responses,
            &self.bad_requests,
            &self.intercepted,
        ]
        .into_iter()
        .chain(&self.responses)
        {
            counter.store(0, Ordering::Relaxed);
        }
        self.times.clear();
        self.h1.clear();
        self.rate.clear_max();
        self.last_session.store(0, Ordering::Relaxed);
    }

    /// A session starts; `current` is the number now active, itself included.
    pub fn session(&self, current: u64) {
        self.sessions.fetch_add(1, Ordering::Relaxed);
        self.max_sessions.fetch_max(current, Ordering::Relaxed);
        self.rate.hit();
        let since = self.rate.origin.elapsed().as_millis() as u64;
        self.last_session.store(since + 1, Ordering::Relaxed);
    }

    /// An HTTP request was received whole (`req_tot`, `req_rate`).
    pub fn request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.request_rate.hit();
    }

    /// A response of `status` was sent (or, for a server, received).
    pub fn response(&self, status: u16) {
        let class = match status / 100 {
            c @ 1..=5 => c as usize,
            _ => 0,
        };
        self.responses[class].fetch_add(1, Ordering::Relaxed);
    }

    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Seconds since the last session, -1 when none (`lastsess`).
    pub fn last_session_secs(&self) -> i64 {
        match self.last_session.load(Ordering::Relaxed) {
            0 => -1,
            at => {
                let now = self.rate.origin.elapsed().as_millis() as u64;
                (now.saturating_sub(at - 1) / 1000) as i64
            }
        }
    }
}

/// How many samples HAProxy's time averages cover (TIME_STATS_SAMPLES).
const TIME_SAMPLES: u32 = 1024;

/// One stream's times in milliseconds, as the averages take them: waiting
/// in the queue, connecting, waiting for the response head (0 in TCP),
/// and in all since the stream began.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sample {
    pub queue: u32,
    pub connect: u32,
    pub response: u32,
    pub total: u32,
}

/// Sliding averages of stream times over the last 1024 streams, and their
/// peaks, as HAProxy's swrate: a sum that each new sample enters and that
/// loses its average share once the window is full.
#[derive(Debug, Default)]
pub struct Times {
    sums: [AtomicU32; 4],
    max: [AtomicU32; 4],
}

impl Times {
    /// Adds a stream's times; `samples` counts the streams so far, this
    /// one included (requests in HTTP, balanced connections in TCP).
    pub fn add(&self, samples: u64, s: Sample) {
        let window = if samples > u64::from(TIME_SAMPLES) {
            TIME_SAMPLES
        } else {
            0
        };
        let values = [s.queue, s.connect, s.response, s.total];
        for ((sum, max), v) in self.sums.iter().zip(&self.max).zip(values) {
            let _ = sum.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
                let share = if window == 0 { 0 } else { old.div_ceil(window) };
                Some(old.wrapping_sub(share).wrapping_add(v))
            });
            max.fetch_max(v, Ordering::Relaxed);
        }
    }

    /// The averages for `samples` streams so far: queue, connect,
    /// response, total.
    pub fn averages(&self, samples: u64) -> [u32; 4] {
        let window = match u32::try_from(samples) {
            Ok(n) if n > 0 && n < TIME_SAMPLES => n,
            _ => TIME_SAMPLES,
        };
        self.sums
            .each_ref()
            .map(|s| s.load(Ordering::Relaxed).div_ceil(window))
    }

    pub fn peaks(&self) -> [u32; 4] {
        self.max.each_ref().map(|m| m.load(Ordering::Relaxed))
    }

    fn clear_max(&self) {
        for m in &self.max {
            m.store(0, Ordering::Relaxed);
        }
    }

    fn clear(&self) {
        self.clear_max();
        for s in &self.sums {
            s.store(0, Ordering::Relaxed);
        }
    }
}

/// When a server or backend last changed state, and its time DOWN so far.
#[derive(Debug, Clone, Copy)]
pub struct Availability {
    pub last_change: Instant,
    /// Since when it is DOWN, if it is.
    pub down_since: Option<Instant>,
    /// Time DOWN before `down_since`.
    pub down_total_secs: u64,
}

impl Availability {
    pub fn new(up: bool) -> Self {
        let now = Instant::now();
        Availability {
            last_change: now,
            down_since: (!up).then_some(now),
            down_total_secs: 0,
        }
    }

    pub fn change(&mut self, up: bool) {
        let now = Instant::now();
        self.last_change = now;
        match (up, self.down_since) {
            (true, Some(since)) => {
                self.down_total_secs += now.duration_since(since).as_secs();
                self.down_since = None;
            }
            (false, None) => self.down_since = Some(now),
            _ => {}
        }
    }

    /// The last change as a saved state tells it (a reload): `ago`
    /// before now, or now where the clock cannot go back that far.
    pub fn set_last_change_ago(&mut self, ago: Duration) {
        let now = Instant::now();
        self.last_change = now.checked_sub(ago).unwrap_or(now);
    }

    /// `lastchg`: seconds since the last change.
    pub fn last_change_secs(&self) -> u64 {
        self.last_change.elapsed().as_secs()
    }

    /// `downtime`: seconds DOWN in all.
    pub fn downtime_secs(&self) -> u64 {
        self.down_total_secs + self.down_since.map_or(0, |s| s.elapsed().as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn rates_blend_the_previous_second() {
        let r = Rate::default();
        for _ in 0..10 {
            r.hit();
        }
        assert_eq!(r.value(), 10);
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        assert_eq!(r.value(), 5, "half of the previous second remains");
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(r.value(), 0);
        assert_eq!(r.max(), 10);
    }

    #[test]
    fn time_averages_cover_the_samples_so_far_then_1024() {
        let t = Times::default();
        let at = |ms| Sample {
            total: ms,
            ..Sample::default()
        };
        t.add(1, at(10));
        t.add(2, at(21));
        assert_eq!(t.averages(2)[3], 16, "rounded up, as HAProxy's swrate_avg");
        assert_eq!(t.peaks()[3], 21);
        let t = Times::default();
        for n in 1..=1024 {
            t.add(n, at(100));
        }
        assert_eq!(t.averages(1024)[3], 100);
        for n in 1025..=2048 {
            t.add(n, at(4));
        }
        // Once the window is full, each sample takes an average share out:
        // the old level fades (by 1/e over a window) rather than dropping.
        let avg = t.averages(2048)[3];
        assert!((35..=45).contains(&avg), "{avg}");
    }

    #[tokio::test(start_paused = true)]
    async fn downtime_adds_up() {
        let mut a = Availability::new(true);
        tokio::time::sleep(Duration::from_secs(3)).await;
        a.change(false);
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(a.downtime_secs(), 5);
        a.change(true);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!((a.downtime_secs(), a.last_change_secs()), (5, 2));
    }
}
