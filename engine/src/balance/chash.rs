//! `hash-type consistent`: HAProxy's consistent hashing tree (lb_chash.c).
//!
//! Each server owns `weight × 16` points (fewer while it warms up) on a 32-bit ring, at
//! `full_hash(id × 256 + n)`. A key goes to the owner of the nearest point
//! (the one after it, or the one before when that is closer, as HAProxy
//! measures), so a server going down or up only moves the keys near its
//! own points. Requests without a key walk the ring in turn.
//!
//! `balance random(N)` uses the same ring with random keys: it draws N
//! servers and keeps the one with the fewest connections for its weight
//! (HAProxy's get_server_rnd). The keys come from the engine's seeded
//! generator, so a simulation repeats itself.

use std::collections::BTreeMap;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::{group, Algorithm, Group, Pick, ServerInfo, WEIGHT_SCALE};

/// HAProxy's SRV_EWGHT_RANGE.
const EWEIGHT_RANGE: u32 = 256 * 16;

/// Bob Jenkins' full-avalanche integer hash, as HAProxy's full_hash.
pub fn full_hash(a: u32) -> u32 {
    let mut a = a;
    a = a.wrapping_add(0x7ed5_5d16).wrapping_add(a << 12);
    a = (a ^ 0xc761_c23c) ^ (a >> 19);
    a = a.wrapping_add(0x1656_67b1).wrapping_add(a << 5);
    a = a.wrapping_add(0xd3a2_646c) ^ (a << 9);
    a = a.wrapping_add(0xfd70_46c5).wrapping_add(a << 3);
    a = (a ^ 0xb55a_4f09) ^ (a >> 16);
    a.wrapping_mul(3_221_225_473)
}

/// A ring: (point, insertion number) → server. Equal points keep their
/// insertion order, as in HAProxy's ebtree.
type Ring = BTreeMap<(u32, u64), usize>;

/// A server as the ring sees it.
#[derive(Debug)]
struct Srv {
    id: u32,
    /// Effective weight: the number of points it owns when usable.
    eweight: u32,
    backup: bool,
    /// Up and not in maintenance (its weight aside).
    up: bool,
    /// Its points on the ring, in node order (`full_hash(id × 4096 + n)`
    /// for the n-th): a weight change adds or removes the last ones, as
    /// HAProxy's chash_queue_dequeue_srv.
    points: Vec<(u32, u64)>,
}

pub struct Chash {
    srvs: Vec<Srv>,
    act: Ring,
    bck: Ring,
    allbackups: bool,
    inserted: u64,
    /// Where the last key-less pick stopped.
    last: Option<(u32, u64)>,
    /// `random(N)`: N draws from this generator.
    random: Option<(u32, SmallRng)>,
}

impl Chash {
    pub fn new(servers: &[ServerInfo], allbackups: bool) -> Self {
        let mut c = Chash {
            srvs: servers
                .iter()
                .map(|s| Srv {
                    id: s.id,
                    eweight: s.weight * WEIGHT_SCALE,
                    backup: s.backup,
                    up: s.usable,
                    points: Vec::new(),
                })
                .collect(),
            act: Ring::new(),
            bck: Ring::new(),
            allbackups,
            inserted: 0,
            last: None,
            random: None,
        };
        for i in 0..servers.len() {
            c.sync(i);
        }
        c
    }

    /// `balance random(draws)`, keys drawn from a generator seeded with
    /// `seed`.
    pub fn random(servers: &[ServerInfo], allbackups: bool, draws: u32, seed: u64) -> Self {
        Chash {
            random: Some((draws.max(1), SmallRng::seed_from_u64(seed))),
            ..Chash::new(servers, allbackups)
        }
    }

    /// get_server_rnd: the least loaded (for its weight) of N random picks.
    fn by_draws(&mut self, backup: bool, pick: &Pick) -> Option<usize> {
        let (draws, mut rng) = self.random.take()?;
        let mut best: Option<usize> = None;
        for _ in 0..draws {
            let key: u32 = rng.random();
            let Some(curr) = self.by_key(self.ring(backup), key, pick.avoid) else {
                break;
            };
            best = match best {
                Some(prev) if prev != curr => {
                    let load = |i: usize| u64::from((pick.inflight)(i).0);
                    let weight = |i: usize| u64::from(self.srvs[i].eweight);
                    // Keep the previous one when the new one serves more for its weight.
                    if load(curr) * weight(prev) > load(prev) * weight(curr) {
                        Some(prev)
                    } else {
                        Some(curr)
                    }
                }
                _ => Some(curr),
            };
        }
        self.random = Some((draws, rng));
        best
    }

    fn usable(&self, i: usize) -> bool {
        self.srvs[i].up && self.srvs[i].eweight > 0
    }

    /// Gives a server as many points on its ring as its state and weight
    /// call for, adding or removing its last ones.
    fn sync(&mut self, i: usize) {
        let want = if self.usable(i) {
            self.srvs[i].eweight as usize
        } else {
            0
        };
        let Srv {
            id, backup, points, ..
        } = &mut self.srvs[i];
        let ring = if *backup {
            &mut self.bck
        } else {
            &mut self.act
        };
        while points.len() > want {
            let point = points.pop().expect("above the wanted count");
            if self.last == Some(point) {
                // HAProxy's chash_skip_node: the walk goes on from the next one.
                self.last = ring
                    .range((std::ops::Bound::Excluded(point), std::ops::Bound::Unbounded))
                    .chain(ring.range(..point))
                    .map(|(k, _)| *k)
                    .next();
            }
            ring.remove(&point);
        }
        while points.len() < want {
            let n = points.len() as u32;
            self.inserted += 1;
            let point = (
                full_hash(id.wrapping_mul(EWEIGHT_RANGE).wrapping_add(n)),
                self.inserted,
            );
            ring.insert(point, i);
            points.push(point);
        }
    }

    fn ring(&self, backup: bool) -> &Ring {
        if backup {
            &self.bck
        } else {
            &self.act
        }
    }

    /// chash_get_server_hash.
    fn by_key(&self, ring: &Ring, key: u32, avoid: Option<usize>) -> Option<usize> {
        let next = ring
            .range((key, 0)..)
            .next()
            .or_else(|| ring.iter().next())?;
        let prev = ring
            .range(..(key, 0))
            .next_back()
            .or_else(|| ring.iter().next_back())?;
        let dp = key.wrapping_sub(prev.0 .0);
        let dn = next.0 .0.wrapping_sub(key);
        let mut at = if dp <= dn { *prev.0 } else { *next.0 };
        let mut srv = ring[&at];
        let mut wrapped = 0;
        while Some(srv) == avoid {
            match ring
                .range((std::ops::Bound::Excluded(at), std::ops::Bound::Unbounded))
                .next()
            {
                Some((k, s)) => {
                    at = *k;
                    srv = *s;
                }
                None => {
                    wrapped += 1;
                    if wrapped > 1 {
                        break;
                    }
                    let (k, s) = ring.iter().next()?;
                    at = *k;
                    srv = *s;
                }
            }
        }
        Some(srv)
    }

    /// chash_get_next_server: the ring in turn, skipping full servers.
    fn in_turn(&mut self, backup: bool, pick: &Pick) -> Option<usize> {
        let ring = self.ring(backup);
        let start = self.last;
        let after = |k: Option<(u32, u64)>| -> Vec<((u32, u64), usize)> {
            let tail: Vec<_> = match k {
                Some(k) => ring
                    .range((std::ops::Bound::Excluded(k), std::ops::Bound::Unbounded))
                    .map(|(k, s)| (*k, *s))
                    .collect(),
                None => vec![],
            };
            tail.into_iter()
                .chain(ring.iter().map(|(k, s)| (*k, *s)))
                .collect()
        };
        let order = after(start);
        let mut avoided = None;
        for (k, s) in order.into_iter().take(ring.len()) {
            if (pick.has_room)(s) {
                if Some(s) != pick.avoid {
                    self.last = Some(k);
                    return Some(s);
                }
                avoided.get_or_insert((k, s));
            }
        }
        let (k, s) = avoided?;
        self.last = Some(k);
        Some(s)
    }
}

impl Algorithm for Chash {
    fn next_server(&mut self, pick: &Pick) -> Option<usize> {
        let usable: Vec<(bool, bool)> = (0..self.srvs.len())
            .map(|i| (self.srvs[i].backup, self.usable(i)))
            .collect();
        let backup = match group(usable.iter().copied(), self.allbackups) {
            Group::Actives => false,
            Group::OnlyBackup(i) => return Some(i),
            Group::Backups => true,
            Group::None => return None,
        };
        if self.random.is_some() {
            return self.by_draws(backup, pick);
        }
        match pick.key {
            Some(key) => self.by_key(self.ring(backup), key, pick.avoid),
            None => self.in_turn(backup, pick),
        }
    }

    fn server_up(&mut self, i: usize) {
        self.srvs[i].up = true;
        self.sync(i);
    }

    fn server_down(&mut self, i: usize) {
        self.srvs[i].up = false;
        self.sync(i);
    }

    fn set_weight(&mut self, i: usize, eweight: u32) {
        self.srvs[i].eweight = eweight;
        self.sync(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chash(weights: &[u32]) -> Chash {
        let infos: Vec<ServerInfo> = weights
            .iter()
            .enumerate()
            .map(|(i, &weight)| ServerInfo {
                weight,
                backup: false,
                usable: true,
                id: i as u32 + 1,
            })
            .collect();
        Chash::new(&infos, false)
    }

    fn by_key(c: &mut Chash, key: u32) -> usize {
        let room = |_: usize| true;
        let inflight = |_: usize| (0, 0);
        c.next_server(&Pick {
            has_room: &room,
            may_queue: &room,
            avoid: None,
            key: Some(key),
            inflight: &inflight,
        })
        .unwrap()
    }

    #[test]
    fn full_hash_is_haproxys() {
        // Values printed by HAProxy's __full_hash compiled with gcc.
        let expected = [
            (0, 2_874_071_335),
            (1, 881_230_262),
            (4096, 1_237_450_891),
            (0x7f00_0001, 2_317_047_883),
            (u32::MAX, 2_120_532_354),
        ];
        for (input, output) in expected {
            assert_eq!(full_hash(input), output, "full_hash({input})");
        }
    }

    #[test]
    fn random_keeps_the_less_loaded_of_its_draws_and_repeats_with_its_seed() {
        let infos: Vec<ServerInfo> = (0..4)
            .map(|i| ServerInfo {
                weight: 1,
                backup: false,
                usable: true,
                id: i + 1,
            })
            .collect();
        let picks = |seed: u64, load: &dyn Fn(usize) -> u32| {
            let mut c = Chash::random(&infos, false, 2, seed);
            let room = |_: usize| true;
            let inflight = |i: usize| (load(i), 0);
            (0..200)
                .map(|_| {
                    c.next_server(&Pick {
                        has_room: &room,
                        may_queue: &room,
                        avoid: None,
                        key: None,
                        inflight: &inflight,
                    })
                    .unwrap()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(picks(9, &|_| 0), picks(9, &|_| 0), "same seed, same picks");
        // Server 0 is far busier: with two draws it is only chosen when
        // both draws land on it (about 1 in 16).
        let busy = picks(9, &|i| if i == 0 { 100 } else { 0 });
        let zeros = busy.iter().filter(|&&s| s == 0).count();
        assert!(zeros < 30, "{zeros} of 200 went to the busy server");
        assert!(busy.iter().any(|&s| s != 0));
    }

    #[test]
    fn each_server_owns_weight_times_16_points() {
        let c = chash(&[1, 3]);
        assert_eq!(c.act.values().filter(|&&s| s == 0).count(), 16);
        assert_eq!(c.act.values().filter(|&&s| s == 1).count(), 48);
    }

    #[test]
    fn a_warming_server_owns_its_first_points_and_gains_the_next_ones() {
        let mut c = chash(&[1, 2]);
        let points = |c: &Chash| -> Vec<u32> {
            let mut p: Vec<u32> = c
                .act
                .iter()
                .filter(|(_, &s)| s == 1)
                .map(|(k, _)| k.0)
                .collect();
            p.sort_unstable();
            p
        };
        let full = points(&c);
        c.set_weight(1, 5);
        let warm = points(&c);
        assert_eq!(warm.len(), 5);
        assert!(
            warm.iter().all(|p| full.contains(p)),
            "a subset of its points"
        );
        c.set_weight(1, 32);
        assert_eq!(points(&c), full, "the same points once warm");
    }

    #[test]
    fn a_weight_change_does_not_bring_a_down_server_back() {
        let mut c = chash(&[1, 1]);
        c.server_down(1);
        c.set_weight(1, 48);
        assert!(c.act.values().all(|&s| s == 0));
        c.server_up(1);
        assert_eq!(c.act.values().filter(|&&s| s == 1).count(), 48);
    }

    #[test]
    fn only_the_keys_of_a_server_that_leaves_move() {
        let mut c = chash(&[1, 1, 1, 1]);
        let keys: Vec<u32> = (0..2000u32)
            .map(|k| k.wrapping_mul(2_654_435_761))
            .collect();
        let before: Vec<usize> = keys.iter().map(|&k| by_key(&mut c, k)).collect();
        c.server_down(2);
        let after: Vec<usize> = keys.iter().map(|&k| by_key(&mut c, k)).collect();
        for (b, a) in before.iter().zip(&after) {
            if *b != 2 {
                assert_eq!(a, b, "a key of another server moved");
            } else {
                assert_ne!(*a, 2);
            }
        }
        c.server_up(2);
        let back: Vec<usize> = keys.iter().map(|&k| by_key(&mut c, k)).collect();
        assert_eq!(back, before, "the keys come back when it returns");
    }
}
