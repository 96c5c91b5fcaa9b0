//! `static-rr` and map-based hashing (`source`), HAProxy's lb_map.c.
//!
//! Servers' weights are divided by their greatest common divisor, then
//! spread over a map of `sum(weights)` slots, heavier servers interleaved
//! first (recalc_server_map). `static-rr` walks the map in turn; a hash
//! takes slot `key % sum(weights)`, so the same key lands on the same
//! server while the set of usable servers stays the same. A server going
//! up or down rebuilds the map: static weights, no warm-up.

use super::{group, Algorithm, Group, Pick, ServerInfo};

#[derive(Debug, Clone)]
struct Srv {
    /// The weight divided by the GCD of the initial weights.
    eweight: u32,
    initial: u32,
    backup: bool,
    /// Up and not in maintenance, with a weight above 0.
    usable: bool,
    available: bool,
}

pub struct Map {
    srvs: Vec<Srv>,
    allbackups: bool,
    /// Slot → server index.
    map: Vec<usize>,
    rr_idx: usize,
}

impl Map {
    pub fn new(servers: &[ServerInfo], allbackups: bool) -> Self {
        // HAProxy's wmult: the GCD of the non-zero user weights.
        let gcd = servers
            .iter()
            .map(|s| s.weight)
            .filter(|w| *w > 0)
            .fold(0, |a, b| if a == 0 { b } else { gcd(a, b) })
            .max(1);
        let srvs = servers
            .iter()
            .map(|s| Srv {
                eweight: s.weight.div_ceil(gcd),
                initial: s.weight.div_ceil(gcd),
                backup: s.backup,
                usable: s.usable && s.weight > 0,
                available: s.usable,
            })
            .collect();
        let mut m = Map {
            srvs,
            allbackups,
            map: vec![],
            rr_idx: 0,
        };
        m.recalc();
        m
    }

    fn group(&self) -> Group {
        group(
            self.srvs.iter().map(|s| (s.backup, s.usable)),
            self.allbackups,
        )
    }

    /// recalc_server_map: fills the map for the current group.
    fn recalc(&mut self) {
        let (backup, total) = match self.group() {
            Group::None => {
                self.map.clear();
                return;
            }
            Group::Actives => (false, self.weight_of(false)),
            Group::OnlyBackup(i) => (true, self.srvs[i].eweight),
            Group::Backups => (true, self.weight_of(true)),
        };
        let members: Vec<usize> = (0..self.srvs.len())
            .filter(|&i| self.srvs[i].backup == backup && self.srvs[i].usable)
            .collect();
        let total = total as i64;
        let mut score = vec![0i64; self.srvs.len()];
        self.map = (0..total)
            .map(|_| {
                if total == 1 {
                    return members[0];
                }
                let mut best: Option<(usize, i64)> = None;
                for &i in &members {
                    score[i] += i64::from(self.srvs[i].eweight);
                    let v = (score[i] + total) / total;
                    if best.is_none_or(|(_, max)| v > max) {
                        best = Some((i, v));
                    }
                }
                let (chosen, _) = best.expect("a usable member");
                score[chosen] -= total;
                chosen
            })
            .collect();
    }

    fn weight_of(&self, backup: bool) -> u32 {
        self.srvs
            .iter()
            .filter(|s| s.usable && s.backup == backup)
            .map(|s| s.eweight)
            .sum()
    }

    /// map_get_server_rr: the next slot in turn whose server has room.
    fn next_rr(&mut self, pick: &Pick) -> Option<usize> {
        let total = self.map.len();
        if total == 0 {
            return None;
        }
        if self.rr_idx >= total {
            self.rr_idx = 0;
        }
        let start = self.rr_idx;
        let mut idx = start;
        let mut avoided: Option<(usize, usize)> = None;
        loop {
            let srv = self.map[idx];
            idx += 1;
            if (pick.has_room)(srv) {
                avoided = Some((srv, idx));
                if Some(srv) != pick.avoid {
                    self.rr_idx = idx;
                    return Some(srv);
                }
            }
            if idx == total {
                idx = 0;
            }
            if idx == start {
                break;
            }
        }
        let (srv, idx) = avoided?;
        self.rr_idx = idx;
        Some(srv)
    }
}

impl Algorithm for Map {
    fn next_server(&mut self, pick: &Pick) -> Option<usize> {
        match pick.key {
            // map_get_server_hash: the key's slot, full or not (the stream
            // then waits for that server, as with HAProxy).
            Some(key) if !self.map.is_empty() => Some(self.map[key as usize % self.map.len()]),
            _ => self.next_rr(pick),
        }
    }

    fn server_up(&mut self, i: usize) {
        self.srvs[i].available = true;
        self.refresh(i);
    }

    fn server_down(&mut self, i: usize) {
        self.srvs[i].available = false;
        self.refresh(i);
    }

    /// Static: only 0 or the initial weight (the backend checks), and
    /// never a warming one.
    fn set_weight(&mut self, i: usize, eweight: u32) {
        self.srvs[i].eweight = if eweight == 0 {
            0
        } else {
            self.srvs[i].initial
        };
        self.refresh(i);
    }

    fn is_static(&self) -> bool {
        true
    }
}

impl Map {
    fn refresh(&mut self, i: usize) {
        let usable = self.srvs[i].available && self.srvs[i].eweight > 0;
        if usable != self.srvs[i].usable {
            self.srvs[i].usable = usable;
            self.recalc();
        }
    }
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn infos(weights: &[u32]) -> Vec<ServerInfo> {
        weights
            .iter()
            .enumerate()
            .map(|(i, &weight)| ServerInfo {
                weight,
                backup: false,
                usable: true,
                id: i as u32 + 1,
            })
            .collect()
    }

    fn pick(m: &mut Map, key: Option<u32>) -> usize {
        let room = |_: usize| true;
        let inflight = |_: usize| (0, 0);
        m.next_server(&Pick {
            has_room: &room,
            may_queue: &room,
            avoid: None,
            key,
            inflight: &inflight,
        })
        .unwrap()
            + 1
    }

    #[test]
    fn the_map_interleaves_weights_divided_by_their_gcd() {
        let m = Map::new(&infos(&[2, 4]), false);
        assert_eq!(
            m.map,
            [0, 1, 1],
            "weights 2 and 4 are 1 and 2 after the GCD"
        );
        let m = Map::new(&infos(&[1, 2, 3]), false);
        assert_eq!(m.map.len(), 6);
        assert_eq!(m.map.iter().filter(|&&s| s == 2).count(), 3);
    }

    #[test]
    fn static_rr_walks_the_map() {
        let mut m = Map::new(&infos(&[1, 1]), false);
        let p: Vec<usize> = (0..4).map(|_| pick(&mut m, None)).collect();
        assert_eq!(p, [1, 2, 1, 2]);
    }

    #[test]
    fn a_hash_key_takes_its_slot() {
        let mut m = Map::new(&infos(&[1, 1]), false);
        // 127.0.0.1 is odd: slot 1; 127.0.0.2 is even: slot 0.
        assert_eq!(
            pick(
                &mut m,
                Some(super::super::source_key("127.0.0.1".parse().unwrap()))
            ),
            2
        );
        assert_eq!(
            pick(
                &mut m,
                Some(super::super::source_key("127.0.0.2".parse().unwrap()))
            ),
            1
        );
        m.server_down(1);
        assert_eq!(
            pick(&mut m, Some(0x7f00_0001)),
            1,
            "the map is rebuilt without the down server"
        );
    }
}
