//! The VRRP state machine of RFC 5798 §6.4, as pure transitions: an event
//! comes in (start, stop, an advertisement, a timer), actions come out
//! (send, take or release the addresses, arm a timer). The caller owns
//! the clock and the sockets, so the same machine runs over real time and
//! the simulator's.
//!
//! Two additions, as keepalived has them: a preemption delay (a backup
//! does not take over from a master of lower priority until that long
//! after it started) and priority changes while running (health tracking
//! lowers it).

use std::net::IpAddr;
use std::time::Duration;

use super::packet::Advert;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Initialize,
    Backup,
    Master,
}

/// What the machine is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Startup,
    Shutdown,
    /// An advertisement for this router, from `from` (its primary
    /// address).
    Advert {
        from: IpAddr,
        advert: Advert,
    },
    /// The master-down timer ran out (backup).
    MasterDown,
    /// The advertisement timer ran out (master).
    AdvertTimer,
    /// The preemption delay after start is over.
    PreemptDelayOver,
}

/// What the machine asks of its driver, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send an advertisement with this priority (0 when leaving).
    Send { priority: u8 },
    /// Take the virtual addresses (add them, announce them: gratuitous
    /// ARP, unsolicited neighbour advertisements).
    Take,
    /// Let the virtual addresses go.
    Release,
    /// (Re)arm the one timer of the state: fires `MasterDown` in Backup,
    /// `AdvertTimer` in Master.
    Arm(Duration),
    /// No timer any more.
    Disarm,
    /// The state changed (for the logs, the stats, the hooks).
    Became(State),
}

/// One virtual router's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// 1 to 255; 255 is the owner of the addresses.
    pub priority: u8,
    /// The advertisement interval, in centiseconds (1 to 4095).
    pub interval_cs: u16,
    /// Take over from a master of lower priority.
    pub preempt: bool,
    /// This node's primary address on the link: the tie-breaker between
    /// equal priorities (the higher address wins).
    pub primary: IpAddr,
}

/// One virtual router.
#[derive(Debug, Clone)]
pub struct Machine {
    settings: Settings,
    state: State,
    /// The current master's interval, learnt from its advertisements.
    master_interval_cs: u16,
    /// Until the preemption delay is over, no preemption.
    preempt_held: bool,
}

impl Machine {
    pub fn new(settings: Settings, preempt_delay: bool) -> Machine {
        Machine {
            master_interval_cs: settings.interval_cs,
            settings,
            state: State::Initialize,
            preempt_held: preempt_delay,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn priority(&self) -> u8 {
        self.settings.priority
    }

    /// Skew_Time: a backup of higher priority waits less.
    fn skew(&self) -> Duration {
        let cs =
            (256 - u32::from(self.settings.priority)) * u32::from(self.master_interval_cs) / 256;
        centis(cs)
    }

    /// Master_Down_Interval: three intervals of the master, and the skew.
    pub fn master_down_interval(&self) -> Duration {
        centis(3 * u32::from(self.master_interval_cs)) + self.skew()
    }

    fn interval(&self) -> Duration {
        centis(u32::from(self.settings.interval_cs))
    }

    /// The advertisement this router sends now.
    pub fn advert(&self, vrid: u8, addrs: &[IpAddr], priority: u8) -> Advert {
        Advert {
            vrid,
            priority,
            interval_cs: self.settings.interval_cs,
            addrs: addrs.to_vec(),
        }
    }

    fn become_master(&mut self, out: &mut Vec<Action>) {
        out.push(Action::Send {
            priority: self.settings.priority,
        });
        out.push(Action::Take);
        out.push(Action::Arm(self.interval()));
        self.state = State::Master;
        out.push(Action::Became(State::Master));
    }

    fn become_backup(&mut self, out: &mut Vec<Action>) {
        out.push(Action::Arm(self.master_down_interval()));
        self.state = State::Backup;
        out.push(Action::Became(State::Backup));
    }

    /// A new priority (health tracking): said in the next advertisement;
    /// a master that drops below a backup hands over through the
    /// backup's preemption.
    pub fn set_priority(&mut self, priority: u8) {
        self.settings.priority = priority.max(1);
    }

    /// Applies one event; what the driver must do, in order.
    pub fn handle(&mut self, event: Event) -> Vec<Action> {
        let mut out = vec![];
        match (self.state, event) {
            (State::Initialize, Event::Startup) => {
                if self.settings.priority == 255 {
                    self.become_master(&mut out);
                } else {
                    self.master_interval_cs = self.settings.interval_cs;
                    self.become_backup(&mut out);
                }
            }
            (State::Backup, Event::Shutdown) => {
                out.push(Action::Disarm);
                self.state = State::Initialize;
                out.push(Action::Became(State::Initialize));
            }
            (State::Backup, Event::MasterDown) => self.become_master(&mut out),
            (State::Backup, Event::Advert { advert, .. }) => {
                if advert.priority == 0 {
                    // The master leaves: take over after the skew only.
                    out.push(Action::Arm(self.skew()));
                } else if !self.settings.preempt
                    || self.preempt_held
                    || advert.priority >= self.settings.priority
                {
                    self.master_interval_cs = advert.interval_cs.max(1);
                    out.push(Action::Arm(self.master_down_interval()));
                }
                // Otherwise a master of lower priority: let the timer run
                // out and preempt it.
            }
            (State::Backup, Event::PreemptDelayOver) => self.preempt_held = false,
            (State::Master, Event::AdvertTimer) => {
                out.push(Action::Send {
                    priority: self.settings.priority,
                });
                out.push(Action::Arm(self.interval()));
            }
            (State::Master, Event::Shutdown) => {
                out.push(Action::Disarm);
                out.push(Action::Send { priority: 0 });
                out.push(Action::Release);
                self.state = State::Initialize;
                out.push(Action::Became(State::Initialize));
            }
            (State::Master, Event::Advert { from, advert }) => {
                if advert.priority == 0 {
                    out.push(Action::Send {
                        priority: self.settings.priority,
                    });
                    out.push(Action::Arm(self.interval()));
                } else if advert.priority > self.settings.priority
                    || (advert.priority == self.settings.priority && from > self.settings.primary)
                {
                    self.master_interval_cs = advert.interval_cs.max(1);
                    out.push(Action::Release);
                    self.become_backup(&mut out);
                }
                // Otherwise the other one steps down when it hears us.
            }
            (_, Event::PreemptDelayOver) => self.preempt_held = false,
            // Events that do not apply in a state change nothing (a timer
            // that fired as the state changed, an advertisement before
            // start).
            _ => {}
        }
        out
    }
}

fn centis(cs: u32) -> Duration {
    Duration::from_millis(u64::from(cs) * 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(priority: u8, primary: &str) -> Settings {
        Settings {
            priority,
            interval_cs: 100,
            preempt: true,
            primary: primary.parse().unwrap(),
        }
    }

    fn advert(priority: u8) -> Advert {
        Advert {
            vrid: 51,
            priority,
            interval_cs: 100,
            addrs: vec!["192.168.10.100".parse().unwrap()],
        }
    }

    fn from(addr: &str, priority: u8) -> Event {
        Event::Advert {
            from: addr.parse().unwrap(),
            advert: advert(priority),
        }
    }

    #[test]
    fn the_master_down_interval_is_rfc_5798s() {
        // Priority 100, 1 s: 3 s and (256-100)/256 s of skew.
        let m = Machine::new(settings(100, "10.0.0.1"), false);
        assert_eq!(m.master_down_interval(), Duration::from_millis(3_600));
        let m = Machine::new(settings(200, "10.0.0.1"), false);
        assert_eq!(m.master_down_interval(), Duration::from_millis(3_210));
    }

    #[test]
    fn a_backup_takes_over_when_the_master_falls_silent() {
        let mut m = Machine::new(settings(100, "10.0.0.2"), false);
        assert_eq!(
            m.handle(Event::Startup),
            [
                Action::Arm(Duration::from_millis(3_600)),
                Action::Became(State::Backup)
            ]
        );
        // The master's advertisements keep it waiting.
        assert_eq!(
            m.handle(from("10.0.0.1", 150)),
            [Action::Arm(Duration::from_millis(3_600))]
        );
        assert_eq!(
            m.handle(Event::MasterDown),
            [
                Action::Send { priority: 100 },
                Action::Take,
                Action::Arm(Duration::from_secs(1)),
                Action::Became(State::Master)
            ]
        );
        assert_eq!(m.state(), State::Master);
    }

    #[test]
    fn a_master_leaving_says_priority_zero_and_the_backup_follows_after_its_skew() {
        let mut master = Machine::new(settings(255, "10.0.0.1"), false);
        assert_eq!(
            master.handle(Event::Startup)[..2],
            [Action::Send { priority: 255 }, Action::Take]
        );
        assert_eq!(
            master.handle(Event::Shutdown),
            [
                Action::Disarm,
                Action::Send { priority: 0 },
                Action::Release,
                Action::Became(State::Initialize)
            ]
        );
        let mut backup = Machine::new(settings(100, "10.0.0.2"), false);
        backup.handle(Event::Startup);
        assert_eq!(
            backup.handle(from("10.0.0.1", 0)),
            [Action::Arm(Duration::from_millis(600))]
        );
    }

    #[test]
    fn preemption_lets_a_higher_priority_backup_take_over() {
        let mut b = Machine::new(settings(200, "10.0.0.2"), false);
        b.handle(Event::Startup);
        // A master of lower priority: its advertisements do not reset the
        // timer, which runs out.
        assert_eq!(b.handle(from("10.0.0.1", 100)), []);
        assert_eq!(b.handle(Event::MasterDown)[1], Action::Take);
        // The old master hears the new one and steps down.
        let mut old = Machine::new(settings(100, "10.0.0.1"), false);
        old.handle(Event::Startup);
        old.handle(Event::MasterDown);
        let out = old.handle(from("10.0.0.2", 200));
        assert_eq!(out[0], Action::Release);
        assert_eq!(old.state(), State::Backup);
    }

    #[test]
    fn without_preemption_or_within_its_delay_the_master_stays() {
        let mut calm = Machine::new(
            Settings {
                preempt: false,
                ..settings(200, "10.0.0.2")
            },
            false,
        );
        calm.handle(Event::Startup);
        assert_eq!(
            calm.handle(from("10.0.0.1", 100)),
            [Action::Arm(Duration::from_millis(3_210))]
        );
        let mut delayed = Machine::new(settings(200, "10.0.0.2"), true);
        delayed.handle(Event::Startup);
        assert_eq!(delayed.handle(from("10.0.0.1", 100)).len(), 1);
        delayed.handle(Event::PreemptDelayOver);
        assert_eq!(delayed.handle(from("10.0.0.1", 100)), []);
    }

    #[test]
    fn equal_priorities_are_decided_by_the_higher_address() {
        let mut m = Machine::new(settings(100, "10.0.0.5"), false);
        m.handle(Event::Startup);
        m.handle(Event::MasterDown);
        assert_eq!(m.handle(from("10.0.0.4", 100)), []);
        assert_eq!(m.state(), State::Master);
        assert_eq!(m.handle(from("10.0.0.6", 100))[0], Action::Release);
        assert_eq!(m.state(), State::Backup);
    }
}
