//! `balance roundrobin`: HAProxy's fast weighted round-robin (lb_fwrr.c),
//! so that the same servers in the same states take connections in the
//! same order as with HAProxy 2.6.
//!
//! Each group (actives, backups) walks a window of `curr_weight` positions.
//! A server taken at position p is due again `next_weight / eweight`
//! positions later (the remainder carried in `rweight`), and waits in the
//! `curr` tree ordered by that next position, heavier servers first on
//! ties. Servers whose next position falls beyond the window wait in the
//! `next` tree, ordered by weight; servers never yet taken wait in `init`,
//! also by weight. When `curr` and `init` are exhausted the trees switch
//! and a new window starts. Weights are scaled by 16 (`BE_WEIGHT_SCALE`)
//! into effective weights, as HAProxy does.
//!
//! HAProxy's trees are ebtrees, which return equal keys in insertion
//! order; a `BTreeMap` keyed by `(key, insertion number)` behaves the same.

use std::collections::BTreeMap;

use super::{Algorithm, Pick, ServerInfo};

/// HAProxy's BE_WEIGHT_SCALE: user weights are multiplied by it.
const WEIGHT_SCALE: i64 = 16;
/// HAProxy's SRV_UWGHT_RANGE: the number of user weight values.
const UWEIGHT_RANGE: i64 = 256;
/// HAProxy's SRV_EWGHT_MAX.
const EWEIGHT_MAX: i64 = UWEIGHT_RANGE * WEIGHT_SCALE;

type Tree = BTreeMap<(i64, u64), usize>;

/// Which tree a server waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Not queued: down, or being picked.
    Out,
    Curr,
    /// One of the two trees that alternate as `init` and `next`.
    Slot(usize),
}

#[derive(Debug)]
struct Group {
    curr: Tree,
    slots: [Tree; 2],
    /// Which slot is `init` (the other is `next`).
    init: usize,
    curr_pos: i64,
    curr_weight: i64,
    next_weight: i64,
}

impl Group {
    fn new(total: i64) -> Self {
        Group {
            curr: Tree::new(),
            slots: [Tree::new(), Tree::new()],
            init: 0,
            curr_pos: total,
            curr_weight: total,
            next_weight: total,
        }
    }

    fn next(&self) -> usize {
        1 - self.init
    }
}

#[derive(Debug)]
struct Srv {
    eweight: i64,
    backup: bool,
    /// Up and not in maintenance (its weight aside).
    available: bool,
    /// Available with a weight above 0: in the trees.
    usable: bool,
    npos: i64,
    lpos: i64,
    rweight: i64,
    place: Place,
    node: (i64, u64),
}

pub struct RoundRobin {
    srvs: Vec<Srv>,
    act: Group,
    bck: Group,
    allbackups: bool,
    /// Insertion counter: equal keys come out in insertion order.
    inserted: u64,
}

impl RoundRobin {
    pub fn new(servers: &[ServerInfo], allbackups: bool) -> Self {
        let srvs: Vec<Srv> = servers
            .iter()
            .map(|s| Srv {
                eweight: i64::from(s.weight) * WEIGHT_SCALE,
                backup: s.backup,
                available: s.usable,
                usable: s.usable && s.weight > 0,
                npos: 0,
                lpos: 0,
                rweight: 0,
                place: Place::Out,
                node: (0, 0),
            })
            .collect();
        let total = |backup: bool| {
            srvs.iter()
                .filter(|s| s.usable && s.backup == backup)
                .map(|s| s.eweight)
                .sum()
        };
        let mut rr = RoundRobin {
            act: Group::new(total(false)),
            bck: Group::new(total(true)),
            srvs,
            allbackups,
            inserted: 0,
        };
        for i in 0..rr.srvs.len() {
            if rr.srvs[i].usable {
                let init = rr.group(i).init;
                rr.queue_by_weight(i, init);
            }
        }
        rr
    }

    fn group(&mut self, i: usize) -> &mut Group {
        if self.srvs[i].backup {
            &mut self.bck
        } else {
            &mut self.act
        }
    }

    fn count(&self, backup: bool) -> usize {
        self.srvs
            .iter()
            .filter(|s| s.usable && s.backup == backup)
            .count()
    }

    /// The first usable backup, used alone unless `option allbackups`.
    fn first_backup(&self) -> Option<usize> {
        if self.allbackups {
            return None;
        }
        self.srvs.iter().position(|s| s.usable && s.backup)
    }

    fn insert(&mut self, i: usize, key: i64, place: Place) {
        self.inserted += 1;
        let node = (key, self.inserted);
        let grp = self.group(i);
        match place {
            Place::Curr => grp.curr.insert(node, i),
            Place::Slot(k) => grp.slots[k].insert(node, i),
            Place::Out => unreachable!("inserting nowhere"),
        };
        self.srvs[i].node = node;
        self.srvs[i].place = place;
    }

    /// fwrr_queue_by_weight: heavier servers first.
    fn queue_by_weight(&mut self, i: usize, slot: usize) {
        let key = EWEIGHT_MAX - self.srvs[i].eweight;
        self.insert(i, key, Place::Slot(slot));
    }

    /// fwrr_dequeue_srv.
    fn dequeue(&mut self, i: usize) {
        let (node, place) = (self.srvs[i].node, self.srvs[i].place);
        let grp = self.group(i);
        match place {
            Place::Curr => grp.curr.remove(&node),
            Place::Slot(k) => grp.slots[k].remove(&node),
            Place::Out => None,
        };
        self.srvs[i].place = Place::Out;
    }

    /// fwrr_queue_srv: back into `curr` at its next position, or into
    /// `next` when that position lies beyond the window.
    fn queue(&mut self, i: usize) {
        let (curr_weight, next_weight, next) = {
            let g = self.group(i);
            (g.curr_weight, g.next_weight, g.next())
        };
        let s = &mut self.srvs[i];
        if !s.usable {
            s.place = Place::Out;
        } else if s.eweight <= 0 || s.npos >= 2 * curr_weight || s.npos >= curr_weight + next_weight
        {
            s.npos -= curr_weight;
            self.queue_by_weight(i, next);
        } else {
            let key = UWEIGHT_RANGE * s.npos + (EWEIGHT_MAX + s.rweight - s.eweight) / WEIGHT_SCALE;
            self.insert(i, key, Place::Curr);
        }
    }

    /// fwrr_get_srv: prepares a server taken out of its tree.
    fn take_out(&mut self, i: usize) {
        let (init, curr_weight, curr_pos) = {
            let g = self.group(i);
            (g.init, g.curr_weight, g.curr_pos)
        };
        let s = &mut self.srvs[i];
        match s.place {
            Place::Slot(k) if k == init => {
                s.npos = 0;
                s.rweight = 0;
            }
            Place::Slot(_) => s.npos += curr_weight,
            Place::Out => s.npos = curr_pos,
            Place::Curr => {}
        }
    }

    /// fwrr_get_server_from_group.
    fn first_in_group(&mut self, backup: bool) -> Option<usize> {
        let grp = if backup { &self.bck } else { &self.act };
        let first = grp.curr.values().next().copied();
        if let Some(s1) = first {
            if self.srvs[s1].eweight > 0 && self.srvs[s1].npos <= grp.curr_pos {
                return Some(s1);
            }
        }
        if let Some(&s2) = grp.slots[grp.init].values().next() {
            if self.srvs[s2].eweight > 0 {
                self.srvs[s2].npos = 0;
                self.srvs[s2].rweight = 0;
                return Some(s2);
            }
        }
        first
    }

    /// fwrr_update_position.
    fn update_position(&mut self, i: usize) {
        let (curr_pos, next_weight) = {
            let g = self.group(i);
            (g.curr_pos, g.next_weight)
        };
        let s = &mut self.srvs[i];
        if s.eweight == 0 {
            return;
        }
        if s.npos == 0 {
            s.npos = curr_pos;
        }
        s.lpos = s.npos;
        s.npos += next_weight / s.eweight;
        s.rweight += next_weight % s.eweight;
        if s.rweight >= s.eweight {
            s.rweight -= s.eweight;
            s.npos += 1;
        }
    }
}

impl Algorithm for RoundRobin {
    /// fwrr_get_next_server.
    fn next_server(&mut self, pick: &Pick) -> Option<usize> {
        let (has_room, avoid) = (pick.has_room, pick.avoid);
        let backup = if self.count(false) > 0 {
            false
        } else if let Some(first) = self.first_backup() {
            // The single backup is not balanced; when it is full, queue.
            return has_room(first).then_some(first);
        } else if self.count(true) > 0 {
            true
        } else {
            return None;
        };
        let mut switched = false;
        let mut avoided: Option<usize> = None;
        let mut full: Vec<usize> = vec![];
        let chosen = 'pick: loop {
            {
                let g = if backup { &mut self.bck } else { &mut self.act };
                if g.curr_weight == 0 {
                    g.curr_weight = g.next_weight;
                    g.curr_pos = g.next_weight;
                }
            }
            let srv = loop {
                if let Some(s) = self.first_in_group(backup) {
                    break s;
                }
                if switched {
                    if let Some(a) = avoided {
                        break 'pick Some(a);
                    }
                    break 'pick None;
                }
                switched = true;
                let g = if backup { &mut self.bck } else { &mut self.act };
                g.init = g.next();
                g.curr_weight = g.next_weight;
                g.curr_pos = g.curr_weight;
            };
            self.update_position(srv);
            self.dequeue(srv);
            self.group(srv).curr_pos += 1;
            if has_room(srv) {
                if Some(srv) != avoid || avoided.is_some() {
                    break Some(srv);
                }
                avoided = Some(srv);
            }
            full.push(srv);
        };
        if let Some(srv) = chosen {
            self.queue(srv);
        }
        for s in full.into_iter().filter(|&s| Some(s) != chosen) {
            if switched {
                let init = self.group(s).init;
                self.queue_by_weight(s, init);
            } else {
                self.queue(s);
            }
        }
        chosen
    }

    fn server_up(&mut self, i: usize) {
        self.srvs[i].available = true;
        self.status_up(i);
    }

    fn server_down(&mut self, i: usize) {
        self.srvs[i].available = false;
        self.status_down(i);
    }

    /// fwrr_update_server_weight.
    fn set_weight(&mut self, i: usize, eweight: u32) {
        let new = i64::from(eweight);
        if !self.srvs[i].usable {
            self.srvs[i].eweight = new;
            if self.srvs[i].available {
                self.status_up(i);
            }
            return;
        }
        if new == 0 {
            self.status_down(i);
            self.srvs[i].eweight = 0;
            return;
        }
        let old = self.srvs[i].eweight;
        if new == old {
            return;
        }
        self.group(i).next_weight += new - old;
        self.srvs[i].eweight = new;
        let (init, curr_pos, curr_weight, next_weight) = {
            let g = self.group(i);
            (g.init, g.curr_pos, g.curr_weight, g.next_weight)
        };
        match self.srvs[i].place {
            Place::Slot(k) if k == init => {
                self.dequeue(i);
                self.queue_by_weight(i, init);
            }
            Place::Out => {
                self.take_out(i);
                self.srvs[i].npos = curr_pos + (next_weight + curr_weight - curr_pos) / new;
                self.queue(i);
            }
            _ => {
                self.take_out(i);
                let prev_next = self.srvs[i].npos;
                let step = next_weight / new;
                let s = &mut self.srvs[i];
                s.npos = s.lpos + step;
                s.rweight = 0;
                if s.npos > prev_next {
                    s.npos = prev_next;
                }
                if s.npos < curr_pos + 2 {
                    s.npos = curr_pos + step;
                }
                self.dequeue(i);
                self.queue(i);
            }
        }
    }
}

impl RoundRobin {
    /// fwrr_set_server_status_up.
    fn status_up(&mut self, i: usize) {
        if self.srvs[i].usable || self.srvs[i].eweight == 0 {
            return;
        }
        let eweight = self.srvs[i].eweight;
        self.group(i).next_weight += eweight;
        self.srvs[i].usable = true;
        self.take_out(i);
        let g = self.group(i);
        let npos = g.curr_pos + (g.next_weight + g.curr_weight - g.curr_pos) / eweight;
        self.srvs[i].npos = npos;
        self.queue(i);
    }

    /// fwrr_set_server_status_down.
    fn status_down(&mut self, i: usize) {
        if !self.srvs[i].usable {
            return;
        }
        let eweight = self.srvs[i].eweight;
        self.group(i).next_weight -= eweight;
        self.dequeue(i);
        self.srvs[i].usable = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rr(weights: &[u32]) -> RoundRobin {
        let infos: Vec<ServerInfo> = weights
            .iter()
            .map(|&weight| ServerInfo {
                weight,
                backup: false,
                usable: true,
                id: 0,
            })
            .collect();
        RoundRobin::new(&infos, false)
    }

    fn next(
        rr: &mut RoundRobin,
        room: &dyn Fn(usize) -> bool,
        avoid: Option<usize>,
    ) -> Option<usize> {
        let inflight = |_: usize| (0, 0);
        rr.next_server(&Pick {
            has_room: room,
            may_queue: room,
            avoid,
            key: None,
            inflight: &inflight,
        })
    }

    fn picks(rr: &mut RoundRobin, n: usize) -> Vec<usize> {
        (0..n)
            .map(|_| next(rr, &|_| true, None).unwrap() + 1)
            .collect()
    }

    /// Orders observed on HAProxy 2.6.12 with these weights.
    #[test]
    fn same_order_as_haproxy() {
        assert_eq!(picks(&mut rr(&[1, 1]), 6), [1, 2, 1, 2, 1, 2]);
        assert_eq!(
            picks(&mut rr(&[3, 1]), 12),
            [1, 1, 1, 2, 1, 1, 1, 2, 1, 1, 1, 2]
        );
        assert_eq!(
            picks(&mut rr(&[1, 2, 3]), 18),
            [3, 2, 3, 1, 3, 2, 3, 2, 3, 1, 3, 2, 3, 2, 3, 1, 3, 2]
        );
        let seq = concat!(
            "2 3 2 3 2 3 2 3 2 3 2 3 2 3 1 2 3 2 3 2 3 2 3 2 3 2 3 2 ",
            "1 3 2 3 2 3 2 3 2 3 2 3 2 3 1 2 3 2 3 2 3 2 3 2 3 2 3 2"
        );
        let haproxy: Vec<usize> = seq.split_whitespace().map(|w| w.parse().unwrap()).collect();
        assert_eq!(picks(&mut rr(&[2, 13, 13]), 56), haproxy);
    }

    #[test]
    fn a_server_down_takes_nothing_and_comes_back() {
        let mut r = rr(&[1, 1, 1]);
        assert_eq!(picks(&mut r, 3), [1, 2, 3]);
        r.server_down(1);
        let p = picks(&mut r, 6);
        assert!(!p.contains(&2), "{p:?}");
        r.server_up(1);
        let p = picks(&mut r, 6);
        assert_eq!(p.iter().filter(|&&s| s == 2).count(), 2, "{p:?}");
    }

    #[test]
    fn a_full_server_is_skipped_and_the_avoided_one_taken_last() {
        let mut r = rr(&[1, 1]);
        assert_eq!(next(&mut r, &|i| i != 0, None), Some(1));
        assert_eq!(next(&mut r, &|_| true, Some(0)), Some(1));
        assert_eq!(
            next(&mut r, &|i| i == 0, Some(0)),
            Some(0),
            "only the avoided one has room"
        );
        assert_eq!(next(&mut r, &|_| false, None), None, "all full");
    }

    #[test]
    fn backups_serve_only_without_actives_and_only_the_first() {
        let infos = [
            ServerInfo {
                weight: 1,
                backup: false,
                usable: true,
                id: 1,
            },
            ServerInfo {
                weight: 1,
                backup: true,
                usable: true,
                id: 1,
            },
            ServerInfo {
                weight: 1,
                backup: true,
                usable: true,
                id: 1,
            },
        ];
        let mut r = RoundRobin::new(&infos, false);
        assert_eq!(picks(&mut r, 2), [1, 1]);
        r.server_down(0);
        assert_eq!(picks(&mut r, 3), [2, 2, 2]);
        r.server_down(1);
        assert_eq!(picks(&mut r, 2), [3, 3]);
        let mut all = RoundRobin::new(&infos, true);
        all.server_down(0);
        assert_eq!(picks(&mut all, 4), [2, 3, 2, 3]);
    }

    proptest! {
        /// Over whole cycles of sum(weights) picks, each server gets its
        /// weight per cycle, give or take one: HAProxy's first window
        /// starts heavier servers early (weights 2/13/13 give 1/14/13 over
        /// the first 28 picks, on HAProxy 2.6 too).
        #[test]
        fn weighted_fairness_over_cycles(weights in proptest::collection::vec(1u32..20, 1..8), cycles in 1usize..4) {
            let mut r = rr(&weights);
            let total: u32 = weights.iter().sum();
            let mut counts = vec![0u32; weights.len()];
            for s in picks(&mut r, total as usize * cycles) {
                counts[s - 1] += 1;
            }
            for (count, w) in counts.iter().zip(&weights) {
                prop_assert!(count.abs_diff(w * cycles as u32) <= 1, "{:?} for weights {:?}", counts, weights);
            }
        }

        /// No pick ever goes to a server that is down.
        #[test]
        fn never_a_down_server(weights in proptest::collection::vec(1u32..10, 2..6),
                               events in proptest::collection::vec((any::<bool>(), 0usize..6), 0..40)) {
            let mut r = rr(&weights);
            let mut up = vec![true; weights.len()];
            for (go_up, s) in events {
                let s = s % weights.len();
                if go_up { r.server_up(s) } else { r.server_down(s) }
                up[s] = go_up;
                match next(&mut r, &|_| true, None) {
                    Some(p) => prop_assert!(up[p]),
                    None => prop_assert!(up.iter().all(|u| !u)),
                }
            }
        }
    }
}
