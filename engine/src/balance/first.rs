//! `balance first`: the usable server with the lowest `id` that still has
//! room takes the connection, whatever the weights (HAProxy's lb_fas.c).
//! Meant with `maxconn` on servers: the first fills up, then the next.

use super::{group, Algorithm, Group, Pick, ServerInfo};

pub struct First {
    /// (id, backup, available), by declaration.
    srvs: Vec<(u32, bool, bool)>,
    /// A weight of 0 takes a server out; otherwise weights do not matter.
    weights: Vec<u32>,
    allbackups: bool,
}

impl First {
    pub fn new(servers: &[ServerInfo], allbackups: bool) -> Self {
        First {
            srvs: servers.iter().map(|s| (s.id, s.backup, s.usable)).collect(),
            weights: servers.iter().map(|s| s.weight).collect(),
            allbackups,
        }
    }
}

impl Algorithm for First {
    fn next_server(&mut self, pick: &Pick) -> Option<usize> {
        let usable = |i: usize| self.srvs[i].2 && self.weights[i] > 0;
        let backup = match group(
            (0..self.srvs.len()).map(|i| (self.srvs[i].1, usable(i))),
            self.allbackups,
        ) {
            Group::Actives => false,
            Group::OnlyBackup(i) => return Some(i),
            Group::Backups => true,
            Group::None => return None,
        };
        let mut order: Vec<usize> = (0..self.srvs.len())
            .filter(|&i| self.srvs[i].1 == backup && usable(i))
            .collect();
        order.sort_by_key(|&i| self.srvs[i].0);
        let with_room = || order.iter().copied().filter(|&i| (pick.has_room)(i));
        with_room()
            .find(|&i| Some(i) != pick.avoid)
            .or_else(|| with_room().next())
    }

    fn server_up(&mut self, i: usize) {
        self.srvs[i].2 = true;
    }

    fn server_down(&mut self, i: usize) {
        self.srvs[i].2 = false;
    }

    fn set_weight(&mut self, i: usize, eweight: u32) {
        self.weights[i] = eweight;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lowest_id_with_room_wins() {
        let infos: Vec<ServerInfo> = [(3, 1), (1, 5), (2, 1)]
            .iter()
            .map(|&(id, weight)| ServerInfo {
                weight,
                backup: false,
                usable: true,
                id,
            })
            .collect();
        let mut f = First::new(&infos, false);
        let inflight = |_: usize| (0, 0);
        let all = |_: usize| true;
        let pick = |f: &mut First, room: &dyn Fn(usize) -> bool| {
            f.next_server(&Pick {
                has_room: room,
                may_queue: room,
                avoid: None,
                key: None,
                inflight: &inflight,
            })
        };
        assert_eq!(pick(&mut f, &all), Some(1), "id 1, whatever its weight");
        assert_eq!(pick(&mut f, &|i| i != 1), Some(2), "then id 2");
        assert_eq!(pick(&mut f, &|_| false), None);
    }
}
