//! `balance leastconn`: the server with the fewest connections in flight
//! relative to its weight (HAProxy's lb_fwlc.c).
//!
//! HAProxy keeps servers in a tree keyed by `(inflight + 1) * 4096 /
//! eweight` (0 when idle), and moves a server to the back of its key's
//! group whenever its count changes. So among equally loaded servers the
//! one whose count changed longest ago goes first: idle servers take turns.
//! The backend gives each server's count and the order of its last change.

use super::{group, Algorithm, Group, Pick, ServerInfo, WEIGHT_SCALE};

/// HAProxy's SRV_EWGHT_MAX.
const EWEIGHT_MAX: u64 = 256 * 16;

pub struct LeastConn {
    /// (eweight, backup, available), by declaration; in rotation when
    /// available with a weight above 0.
    srvs: Vec<(u64, bool, bool)>,
    allbackups: bool,
}

impl LeastConn {
    pub fn new(servers: &[ServerInfo], allbackups: bool) -> Self {
        LeastConn {
            srvs: servers
                .iter()
                .map(|s| (u64::from(s.weight * WEIGHT_SCALE), s.backup, s.usable))
                .collect(),
            allbackups,
        }
    }
}

impl Algorithm for LeastConn {
    fn next_server(&mut self, pick: &Pick) -> Option<usize> {
        let backup = match group(
            self.srvs.iter().map(|&(w, b, a)| (b, a && w > 0)),
            self.allbackups,
        ) {
            Group::Actives => false,
            Group::OnlyBackup(i) => return Some(i),
            Group::Backups => true,
            Group::None => return None,
        };
        let mut order: Vec<(u64, u64, usize)> = (0..self.srvs.len())
            .filter(|&i| self.srvs[i].1 == backup && self.srvs[i].2 && self.srvs[i].0 > 0)
            .map(|i| {
                let (inflight, moved) = (pick.inflight)(i);
                let key = if inflight == 0 {
                    0
                } else {
                    (u64::from(inflight) + 1) * EWEIGHT_MAX / self.srvs[i].0
                };
                (key, moved, i)
            })
            .collect();
        order.sort();
        let with_room = || {
            order
                .iter()
                .map(|&(_, _, i)| i)
                .filter(|&i| (pick.may_queue)(i))
        };
        with_room()
            .find(|&i| Some(i) != pick.avoid)
            .or_else(|| with_room().next())
    }

    fn server_up(&mut self, i: usize) {
        self.srvs[i].2 = true;
    }

    fn set_weight(&mut self, i: usize, eweight: u32) {
        self.srvs[i].0 = u64::from(eweight);
    }

    fn server_down(&mut self, i: usize) {
        self.srvs[i].2 = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lc(weights: &[u32]) -> LeastConn {
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
        LeastConn::new(&infos, false)
    }

    fn pick(l: &mut LeastConn, state: &[(u32, u64)]) -> Option<usize> {
        let room = |_: usize| true;
        let inflight = |i: usize| state[i];
        l.next_server(&Pick {
            has_room: &room,
            may_queue: &room,
            avoid: None,
            key: None,
            inflight: &inflight,
        })
    }

    #[test]
    fn fewest_connections_win() {
        let mut l = lc(&[1, 1, 1]);
        assert_eq!(pick(&mut l, &[(3, 0), (1, 1), (2, 2)]), Some(1));
    }

    #[test]
    fn idle_servers_take_turns_by_their_last_change() {
        let mut l = lc(&[1, 1]);
        assert_eq!(
            pick(&mut l, &[(0, 5), (0, 3)]),
            Some(1),
            "idle longest goes first"
        );
    }

    #[test]
    fn weights_scale_the_load() {
        let mut l = lc(&[1, 3]);
        // 2 on weight 3 counts less than 1 on weight 1.
        assert_eq!(pick(&mut l, &[(1, 0), (2, 1)]), Some(1));
    }
}
