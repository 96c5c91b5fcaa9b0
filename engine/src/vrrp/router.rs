//! One virtual router at work: the [`Machine`] driven by timers (tokio's,
//! virtual in the simulator) and advertisements from a [`Link`], taking
//! and releasing the addresses through an [`Owner`]. The link is raw IP
//! protocol 112 in production and the simulated network in the
//! simulator; the owner is netlink (or hooks) in production and the
//! simulator's address table.

use std::net::IpAddr;
use std::sync::Arc;

use tokio::sync::watch;
use tokio::time::Instant;

use super::machine::{Action, Event, Machine, State};
use super::packet::Advert;

/// A boxed future, as the link's methods return them.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// Where advertisements go and come from.
pub trait Link: Send + Sync {
    /// Sends one advertisement (to the group, or to each peer).
    fn send<'a>(&'a self, advert: &'a Advert) -> BoxFuture<'a, std::io::Result<()>>;
    /// The next advertisement that arrived whole (checksum, TTL), with
    /// its sender's address.
    fn recv(&self) -> BoxFuture<'_, std::io::Result<(IpAddr, Advert)>>;
}

/// Who holds the virtual addresses on this node.
pub trait Owner: Send + Sync {
    fn take(&self, addrs: &[IpAddr]);
    fn release(&self, addrs: &[IpAddr]);
    /// The state changed (logs, stats, hooks).
    fn became(&self, state: State);
}

/// One virtual router's identity and machine.
pub struct Router {
    pub vrid: u8,
    pub addrs: Vec<IpAddr>,
    pub machine: Machine,
    /// How long after start preemption is held back, if at all.
    pub preempt_delay: Option<std::time::Duration>,
}

impl Router {
    /// Runs until `stop` turns true; then leaves as RFC 5798 says (a
    /// master sends priority 0 and lets the addresses go).
    pub async fn run(
        mut self,
        link: Arc<dyn Link>,
        owner: Arc<dyn Owner>,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut timer: Option<Instant> = None;
        let mut preempt_at = self.preempt_delay.map(|d| Instant::now() + d);
        let actions = self.machine.handle(Event::Startup);
        self.act(actions, &*link, &*owner, &mut timer).await;
        loop {
            let event = tokio::select! {
                biased;
                _ = stop.wait_for(|s| *s) => Event::Shutdown,
                _ = sleep_until(preempt_at) => {
                    preempt_at = None;
                    Event::PreemptDelayOver
                }
                _ = sleep_until(timer) => {
                    timer = None;
                    match self.machine.state() {
                        State::Master => Event::AdvertTimer,
                        _ => Event::MasterDown,
                    }
                }
                got = link.recv() => match got {
                    Ok((from, advert)) if advert.vrid == self.vrid => Event::Advert { from, advert },
                    // Another router's, or a read that failed: nothing
                    // changes.
                    _ => continue,
                },
            };
            let leaving = event == Event::Shutdown;
            let actions = self.machine.handle(event);
            self.act(actions, &*link, &*owner, &mut timer).await;
            if leaving {
                return;
            }
        }
    }

    async fn act(
        &self,
        actions: Vec<Action>,
        link: &dyn Link,
        owner: &dyn Owner,
        timer: &mut Option<Instant>,
    ) {
        for action in actions {
            match action {
                Action::Send { priority } => {
                    let advert = self.machine.advert(self.vrid, &self.addrs, priority);
                    // A failed send is a lost advertisement: the protocol
                    // tolerates two in a row.
                    let _ = link.send(&advert).await;
                }
                Action::Take => owner.take(&self.addrs),
                Action::Release => owner.release(&self.addrs),
                Action::Arm(after) => *timer = Some(Instant::now() + after),
                Action::Disarm => *timer = None,
                Action::Became(state) => owner.became(state),
            }
        }
    }
}

/// Sleeps until `at`; forever without one.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vrrp::Settings;
    use std::sync::Mutex;
    use std::time::Duration;
    use tokio::sync::broadcast;

    /// A shared link: every advertisement reaches every other node.
    struct Lan {
        me: IpAddr,
        tx: broadcast::Sender<(IpAddr, Advert)>,
        rx: tokio::sync::Mutex<broadcast::Receiver<(IpAddr, Advert)>>,
    }

    impl Link for Lan {
        fn send<'a>(&'a self, advert: &'a Advert) -> BoxFuture<'a, std::io::Result<()>> {
            Box::pin(async move {
                let _ = self.tx.send((self.me, advert.clone()));
                Ok(())
            })
        }
        fn recv(&self) -> BoxFuture<'_, std::io::Result<(IpAddr, Advert)>> {
            Box::pin(async move {
                let mut rx = self.rx.lock().await;
                loop {
                    match rx.recv().await {
                        Ok((from, _)) if from == self.me => continue,
                        Ok(got) => return Ok(got),
                        Err(e) => return Err(std::io::Error::other(e.to_string())),
                    }
                }
            })
        }
    }

    /// Who holds the address, and when each node changed state.
    #[derive(Default)]
    struct Table {
        holder: Mutex<Option<&'static str>>,
        changes: Mutex<Vec<(Duration, &'static str, State)>>,
    }

    struct Node {
        name: &'static str,
        table: Arc<Table>,
        t0: Instant,
    }

    impl Owner for Node {
        fn take(&self, _: &[IpAddr]) {
            *self.table.holder.lock().unwrap() = Some(self.name);
        }
        fn release(&self, _: &[IpAddr]) {
            let mut h = self.table.holder.lock().unwrap();
            if *h == Some(self.name) {
                *h = None;
            }
        }
        fn became(&self, state: State) {
            let at = self.t0.elapsed();
            self.table
                .changes
                .lock()
                .unwrap()
                .push((at, self.name, state));
        }
    }

    fn start(
        name: &'static str,
        addr: &str,
        priority: u8,
        lan: &broadcast::Sender<(IpAddr, Advert)>,
        table: &Arc<Table>,
        t0: Instant,
    ) -> (watch::Sender<bool>, tokio::task::JoinHandle<()>) {
        let me: IpAddr = addr.parse().unwrap();
        let router = Router {
            vrid: 51,
            addrs: vec!["192.168.10.100".parse().unwrap()],
            machine: Machine::new(
                Settings {
                    priority,
                    interval_cs: 100,
                    preempt: true,
                    primary: me,
                },
                false,
            ),
            preempt_delay: None,
        };
        let link = Arc::new(Lan {
            me,
            tx: lan.clone(),
            rx: tokio::sync::Mutex::new(lan.subscribe()),
        });
        let owner = Arc::new(Node {
            name,
            table: table.clone(),
            t0,
        });
        let (stop, stop_rx) = watch::channel(false);
        (stop, tokio::spawn(router.run(link, owner, stop_rx)))
    }

    /// How long after `since` node `who` became master.
    fn mastered(table: &Table, who: &str, since: Duration) -> Duration {
        table
            .changes
            .lock()
            .unwrap()
            .iter()
            .find(|(at, w, s)| *w == who && *s == State::Master && *at >= since)
            .map(|(at, _, _)| *at - since)
            .expect("it became master")
    }

    fn holder(table: &Table) -> Option<&'static str> {
        *table.holder.lock().unwrap()
    }

    /// Active-standby over virtual time: the higher priority becomes
    /// master; when it leaves cleanly the standby follows after its skew
    /// only; when it dies silently, after the master down interval; when
    /// it returns, it preempts.
    #[tokio::test(start_paused = true)]
    async fn the_address_moves_as_rfc_5798_times_it() {
        let (lan, _) = broadcast::channel(64);
        let table = Arc::new(Table::default());
        let t0 = Instant::now();
        let (stop_a, a) = start("a", "10.0.0.1", 150, &lan, &table, t0);
        let (_stop_b, _b) = start("b", "10.0.0.2", 100, &lan, &table, t0);
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(holder(&table), Some("a"));

        // A clean stop: priority 0, so b waits its skew, (256-100)/256 s.
        let left = t0.elapsed();
        stop_a.send(true).unwrap();
        a.await.unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(holder(&table), Some("b"));
        let took = mastered(&table, "b", left);
        assert_eq!(took, Duration::from_millis(600));

        // a returns: it preempts b at once (b's advertisements are of
        // lower priority, a's master down interval runs out).
        let back = t0.elapsed();
        let (stop_a, a) = start("a", "10.0.0.1", 150, &lan, &table, t0);
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(holder(&table), Some("a"));
        let retook = mastered(&table, "a", back);
        // Master down interval of priority 150: 3 s + 0.41 s of skew.
        assert_eq!(retook, Duration::from_millis(3_410));

        // a dies without a word: b takes over after its master down
        // interval, 3 s + 0.6 s, counted from a's last advertisement.
        let died = t0.elapsed();
        a.abort();
        drop(stop_a);
        tokio::time::sleep(Duration::from_secs(6)).await;
        assert_eq!(holder(&table), Some("b"));
        let took = mastered(&table, "b", died);
        assert!(
            took <= Duration::from_millis(3_600) && took > Duration::from_millis(2_600),
            "{took:?}"
        );
    }
}
