//! `balance roundrobin`: weighted, smooth round-robin.
//!
//! Each pick adds every candidate's weight to its credit, takes the
//! candidate with the most credit (the lowest index on ties, so declaration
//! order breaks them) and charges it the total weight. Over one cycle of
//! `sum(weights)` picks each server is chosen exactly `weight` times, and
//! heavier servers are spread out rather than bunched.
//!
//! HAProxy's own tree-based scheduler (lb_fwrr.c) interleaves the same
//! counts; matching its exact order for unequal weights is the balancing
//! work's job.

use super::{Algorithm, Candidate};

pub struct RoundRobin {
    credit: Vec<i64>,
}

impl RoundRobin {
    pub fn new(servers: usize) -> Self {
        RoundRobin {
            credit: vec![0; servers],
        }
    }
}

impl Algorithm for RoundRobin {
    fn pick(&mut self, candidates: &[Candidate]) -> Option<usize> {
        let total: i64 = candidates.iter().map(|c| i64::from(c.weight)).sum();
        let mut best: Option<usize> = None;
        for c in candidates {
            self.credit[c.index] += i64::from(c.weight);
            if best.is_none_or(|b| self.credit[c.index] > self.credit[b]) {
                best = Some(c.index);
            }
        }
        let chosen = best?;
        self.credit[chosen] -= total;
        Some(chosen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cands(weights: &[u32]) -> Vec<Candidate> {
        weights
            .iter()
            .enumerate()
            .map(|(index, &weight)| Candidate { index, weight })
            .collect()
    }

    #[test]
    fn equal_weights_alternate_in_declaration_order() {
        let mut rr = RoundRobin::new(2);
        let c = cands(&[1, 1]);
        let picks: Vec<_> = (0..6).map(|_| rr.pick(&c).unwrap()).collect();
        assert_eq!(picks, [0, 1, 0, 1, 0, 1]);
    }

    #[test]
    fn a_server_leaving_does_not_stop_the_others() {
        let mut rr = RoundRobin::new(3);
        let all = cands(&[1, 1, 1]);
        assert_eq!(rr.pick(&all), Some(0));
        let without_1 = [all[0], all[2]];
        let picks: Vec<_> = (0..4).map(|_| rr.pick(&without_1).unwrap()).collect();
        assert!(!picks.contains(&1));
        assert!(picks.contains(&0) && picks.contains(&2));
    }

    #[test]
    fn no_candidate_no_pick() {
        assert_eq!(RoundRobin::new(0).pick(&[]), None);
    }

    proptest! {
        /// Over one cycle of sum(weights) picks, each server gets exactly its weight.
        #[test]
        fn weighted_fairness_within_one_cycle(weights in proptest::collection::vec(1u32..20, 1..8)) {
            let mut rr = RoundRobin::new(weights.len());
            let c = cands(&weights);
            let total: u32 = weights.iter().sum();
            let mut counts = vec![0u32; weights.len()];
            for _ in 0..total {
                counts[rr.pick(&c).unwrap()] += 1;
            }
            prop_assert_eq!(counts, weights);
        }
    }
}
