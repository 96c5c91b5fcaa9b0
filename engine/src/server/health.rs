//! The health counter of one server, exactly as HAProxy's check.c keeps it.
//! Checks report results; the status module moves the counter.
//!
//! `health` runs over `0 ..= rise + fall - 1`:
//! - `0 .. rise-1`: the server is DOWN (counting successes toward UP);
//! - `rise .. rise+fall-1`: the server is UP (counting failures toward DOWN).
//!
//! A failure decrements it, and dropping below `rise` snaps it to 0: DOWN at
//! once. A success increments it, and reaching `rise` jumps it to the top,
//! `rise + fall - 1`: fully UP. A server starts at `rise`, UP but one failure
//! away from DOWN, which the stats show as "UP 1/3" with the defaults.

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed,
}

/// What a check result did to the server's operational state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    None,
    WentUp,
    WentDown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Health {
    rise: u32,
    fall: u32,
    health: u32,
}

impl Health {
    /// A server's counter at start: `rise`, i.e. UP with no margin.
    ///
    /// `rise` and `fall` are at least 1 (the config rejects 0).
    pub fn new(rise: u32, fall: u32) -> Self {
        assert!(rise >= 1 && fall >= 1, "rise and fall must be positive");
        Health {
            rise,
            fall,
            health: rise,
        }
    }

    /// A counter for a server that starts DOWN (e.g. after maintenance).
    pub fn down(rise: u32, fall: u32) -> Self {
        Health {
            health: 0,
            ..Health::new(rise, fall)
        }
    }

    pub fn is_up(&self) -> bool {
        self.health >= self.rise
    }

    pub fn value(&self) -> u32 {
        self.health
    }

    /// `on-error sudden-death`: a fully UP server is left one failure
    /// from DOWN (HAProxy sets health to rise + 1 before the failure).
    pub fn to_brink_of_down(&mut self) {
        if self.health > self.rise {
            self.health = self.rise + 1;
        }
    }

    /// `on-error mark-down`: the next failure takes it DOWN.
    pub fn to_rise(&mut self) {
        self.health = self.rise;
    }

    /// An operator's verdict: fully UP (the top) or DOWN (0).
    pub fn force(&mut self, up: bool) {
        self.health = if up { self.top() } else { 0 };
    }

    /// A counter saved before a reload (the server-state file), kept
    /// within its range.
    pub fn restore(&mut self, value: u32) {
        self.health = value.min(self.top());
    }

    pub fn rise(&self) -> u32 {
        self.rise
    }

    pub fn fall(&self) -> u32 {
        self.fall
    }

    /// Applies one check result.
    pub fn record(&mut self, outcome: Outcome) -> Transition {
        let was_up = self.is_up();
        match outcome {
            Outcome::Failed => {
                if self.health > 0 {
                    self.health -= 1;
                    if self.health < self.rise {
                        self.health = 0;
                    }
                }
            }
            Outcome::Passed => {
                if self.health < self.top() {
                    self.health += 1;
                    if self.health >= self.rise {
                        self.health = self.top();
                    }
                }
            }
        }
        match (was_up, self.is_up()) {
            (false, true) => Transition::WentUp,
            (true, false) => Transition::WentDown,
            _ => Transition::None,
        }
    }

    /// Whether the counter sits between the two ends (going up or going
    /// down): HAProxy then checks at `fastinter`.
    pub fn in_transition(&self) -> bool {
        self.health != 0 && self.health != self.top()
    }

    /// The status string of HAProxy's stats: `UP`, `UP 1/3`, `DOWN`, `DOWN 1/2`.
    pub fn status(&self) -> String {
        if self.is_up() {
            if self.health == self.top() {
                "UP".to_string()
            } else {
                format!("UP {}/{}", self.health - self.rise + 1, self.fall)
            }
        } else if self.health == 0 {
            "DOWN".to_string()
        } else {
            format!("DOWN {}/{}", self.health, self.rise)
        }
    }

    fn top(&self) -> u32 {
        self.rise + self.fall - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn starts_up_one_failure_from_down() {
        let mut h = Health::new(2, 3);
        assert_eq!(h.status(), "UP 1/3");
        assert_eq!(h.record(Outcome::Failed), Transition::WentDown);
        assert_eq!(h.status(), "DOWN");
    }

    #[test]
    fn first_success_at_start_makes_it_fully_up() {
        let mut h = Health::new(2, 3);
        assert_eq!(h.record(Outcome::Passed), Transition::None);
        assert_eq!(h.status(), "UP");
        assert_eq!(h.value(), 4);
    }

    #[test]
    fn fully_up_needs_fall_failures_to_go_down() {
        let mut h = Health::new(2, 3);
        h.record(Outcome::Passed);
        assert_eq!(h.record(Outcome::Failed), Transition::None);
        assert_eq!(h.status(), "UP 2/3");
        assert_eq!(h.record(Outcome::Failed), Transition::None);
        assert_eq!(h.status(), "UP 1/3");
        assert_eq!(h.record(Outcome::Failed), Transition::WentDown);
    }

    #[test]
    fn down_needs_rise_successes_to_come_up() {
        let mut h = Health::down(2, 3);
        assert_eq!(h.record(Outcome::Passed), Transition::None);
        assert_eq!(h.status(), "DOWN 1/2");
        assert_eq!(h.record(Outcome::Passed), Transition::WentUp);
        assert_eq!(h.status(), "UP");
    }

    #[test]
    fn a_failure_while_coming_up_starts_over() {
        let mut h = Health::down(3, 2);
        h.record(Outcome::Passed);
        h.record(Outcome::Passed);
        assert_eq!(h.status(), "DOWN 2/3");
        h.record(Outcome::Failed);
        assert_eq!(h.status(), "DOWN");
    }

    /// Reference model in HAProxy's terms: UP after `rise` consecutive
    /// successes while DOWN, DOWN after `fall` consecutive failures while
    /// fully UP (or one failure while UP with no margin at start).
    fn reference(rise: u32, fall: u32, outcomes: &[bool]) -> Vec<bool> {
        let mut up = true;
        let mut streak = fall - 1; // consecutive failures already "spent" at start
        let mut out = vec![];
        for &ok in outcomes {
            if up {
                if ok {
                    streak = 0;
                } else {
                    streak += 1;
                    if streak >= fall {
                        up = false;
                        streak = 0;
                    }
                }
            } else if ok {
                streak += 1;
                if streak >= rise {
                    up = true;
                    streak = 0;
                }
            } else {
                streak = 0;
            }
            out.push(up);
        }
        out
    }

    proptest! {
        #[test]
        fn matches_the_streak_model(rise in 1u32..6, fall in 1u32..6,
                                    outcomes in proptest::collection::vec(any::<bool>(), 0..64)) {
            let mut h = Health::new(rise, fall);
            let got: Vec<bool> = outcomes.iter().map(|&ok| {
                h.record(if ok { Outcome::Passed } else { Outcome::Failed });
                h.is_up()
            }).collect();
            prop_assert_eq!(got, reference(rise, fall, &outcomes));
            prop_assert!(h.value() < rise + fall);
        }
    }
}
