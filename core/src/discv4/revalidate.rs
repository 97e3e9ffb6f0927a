//! Liveness checks of table nodes, as go-ethereum's `table_reval.go`: two lists, each
//! pinging one random node of its own at random intervals. New and doubtful nodes sit on
//! the fast list; a node that answers moves to the slow list; a node that fails has its
//! liveness count divided by three, goes back to the fast list, and leaves the table (for a
//! replacement) when the count reaches zero. When a Pong announces a newer ENR sequence
//! than the one we hold, the machine fetches the record.
//!
//! This module keeps the schedule and the set of nodes being checked; the list a node is on
//! lives in its table entry.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::table::{RevalList, Table};
use crate::rng::MachineRng;
use crate::types::NodeId;

/// Mean spacing of fast-list checks is half of this (go-ethereum `PingInterval`, 3 s).
pub(crate) const REVALIDATE_INTERVAL: Duration = Duration::from_secs(3);
/// The slow list waits this many times longer (go-ethereum `slowRevalidationFactor`).
const SLOW_FACTOR: u32 = 3;

/// What happened to a checked node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Still alive; now on the slow list.
    Alive,
    /// Failed but kept, back on the fast list.
    Demoted,
    /// Failed for good: remove it from the table.
    Remove,
    /// No longer in the table; nothing to do.
    Gone,
}

/// The revalidation schedule.
#[derive(Clone, Debug)]
pub(crate) struct Revalidation {
    interval: Duration,
    fast_next: Option<Instant>,
    slow_next: Option<Instant>,
    active: BTreeSet<NodeId>,
}

impl Revalidation {
    /// A schedule with go-ethereum's interval.
    pub fn new() -> Self {
        Self::with_interval(REVALIDATE_INTERVAL)
    }

    /// A schedule whose fast list checks a node every `interval` at most.
    pub fn with_interval(interval: Duration) -> Self {
        Self {
            interval,
            fast_next: None,
            slow_next: None,
            active: BTreeSet::new(),
        }
    }

    fn list_interval(&self, list: RevalList) -> Duration {
        match list {
            RevalList::Fast => self.interval,
            RevalList::Slow => self.interval * SLOW_FACTOR,
        }
    }

    fn next_mut(&mut self, list: RevalList) -> &mut Option<Instant> {
        match list {
            RevalList::Fast => &mut self.fast_next,
            RevalList::Slow => &mut self.slow_next,
        }
    }

    /// A random instant in `(now, now + interval]` (never `now`, so a timer never spins).
    fn draw(&self, list: RevalList, now: Instant, rng: &mut MachineRng) -> Instant {
        let ms = u64::try_from(self.list_interval(list).as_millis()).unwrap_or(u64::MAX);
        now + Duration::from_millis(rng.range_inclusive(1, ms.max(1)))
    }

    /// A node was put on `list`: make sure the list has a check scheduled.
    pub fn on_list(&mut self, list: RevalList, now: Instant, rng: &mut MachineRng) {
        if self.next_mut(list).is_none() {
            let t = self.draw(list, now, rng);
            *self.next_mut(list) = Some(t);
        }
    }

    /// Picks the nodes to check now (at most one per due list) and reschedules those lists.
    pub fn due(&mut self, now: Instant, table: &Table, rng: &mut MachineRng) -> Vec<NodeId> {
        let mut out = Vec::new();
        for list in [RevalList::Fast, RevalList::Slow] {
            if !self.next_mut(list).is_some_and(|t| t <= now) {
                continue;
            }
            let ids: Vec<NodeId> = table
                .ids_on(list)
                .into_iter()
                .filter(|id| !self.active.contains(id))
                .collect();
            if !ids.is_empty() {
                let i = rng.range_inclusive(0, ids.len() as u64 - 1) as usize;
                if let Some(id) = ids.get(i) {
                    self.active.insert(*id);
                    out.push(*id);
                }
            }
            let still_used = !table.ids_on(list).is_empty();
            let next = still_used.then(|| self.draw(list, now, rng));
            *self.next_mut(list) = next;
        }
        out
    }

    /// Records the outcome of the check of `id` and moves it between lists.
    pub fn on_result(
        &mut self,
        id: &NodeId,
        alive: bool,
        table: &mut Table,
        now: Instant,
        rng: &mut MachineRng,
    ) -> Verdict {
        self.active.remove(id);
        let Some(node) = table.get_mut(id) else {
            return Verdict::Gone;
        };
        let (verdict, list) = if alive {
            node.liveness = node.liveness.saturating_add(1);
            (Verdict::Alive, RevalList::Slow)
        } else {
            node.liveness /= 3;
            if node.liveness == 0 {
                return Verdict::Remove;
            }
            (Verdict::Demoted, RevalList::Fast)
        };
        node.list = list;
        self.on_list(list, now, rng);
        verdict
    }

    /// The check of `id` was abandoned before it was sent (our own overload): no verdict.
    pub fn cancel(&mut self, id: &NodeId) {
        self.active.remove(id);
    }

    /// Whether `id` is being checked.
    #[cfg(test)]
    pub fn is_active(&self, id: &NodeId) -> bool {
        self.active.contains(id)
    }

    /// The next scheduled check.
    pub fn next_deadline(&self) -> Option<Instant> {
        [self.fast_next, self.slow_next].into_iter().flatten().min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discv4::packet::{Endpoint, NodeRecord};
    use crate::discv4::test_util::t0;
    use crate::discv4::NodeEntry;
    use crate::types::{PeerId, Seed};
    use std::net::{IpAddr, Ipv4Addr};

    fn entry(n: u8) -> NodeEntry {
        let id = PeerId([n; 64]);
        NodeEntry {
            record: NodeRecord {
                endpoint: Endpoint {
                    ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, n)),
                    udp: 30303,
                    tcp: 30303,
                },
                id,
            },
            id: id.node_id(),
            enr: None,
        }
    }

    #[test]
    fn answered_check_moves_node_to_slow_list_and_failures_remove_it() {
        let t = t0();
        let mut rng = MachineRng::new(Seed([1; 32]));
        let mut table = Table::new(NodeId([0; 32]));
        let e = entry(1);
        table.add(e.clone());
        let mut rv = Revalidation::new();
        rv.on_list(RevalList::Fast, t, &mut rng);
        let at = rv.next_deadline().unwrap();
        assert!(at > t && at <= t + REVALIDATE_INTERVAL);
        assert!(rv.due(t, &table, &mut rng).is_empty());
        assert_eq!(rv.due(at, &table, &mut rng), vec![e.id]);
        assert!(rv.is_active(&e.id));
        // A node being checked is not picked again.
        let again = rv.next_deadline().unwrap();
        assert!(rv.due(again, &table, &mut rng).is_empty());
        assert_eq!(
            rv.on_result(&e.id, true, &mut table, at, &mut rng),
            Verdict::Alive
        );
        assert_eq!(table.get(&e.id).unwrap().list, RevalList::Slow);
        assert_eq!(table.get(&e.id).unwrap().liveness, 2);
        // The fast list is empty now and stops ticking; the slow list picks it next.
        let mut picked = Vec::new();
        let mut now = at;
        while picked.is_empty() {
            now = rv.next_deadline().unwrap();
            picked = rv.due(now, &table, &mut rng);
        }
        assert_eq!(picked, vec![e.id]);
        assert!(now <= again.max(at) + REVALIDATE_INTERVAL * SLOW_FACTOR);
        let slow = now;
        // 2 / 3 = 0: the first failure after one success removes it.
        assert_eq!(
            rv.on_result(&e.id, false, &mut table, slow, &mut rng),
            Verdict::Remove
        );
    }

    #[test]
    fn well_proven_node_is_demoted_before_removal() {
        let t = t0();
        let mut rng = MachineRng::new(Seed([2; 32]));
        let mut table = Table::new(NodeId([0; 32]));
        let e = entry(2);
        table.add(e.clone());
        table.get_mut(&e.id).unwrap().liveness = 9;
        let mut rv = Revalidation::new();
        assert_eq!(
            rv.on_result(&e.id, false, &mut table, t, &mut rng),
            Verdict::Demoted
        );
        assert_eq!(table.get(&e.id).unwrap().liveness, 3);
        assert_eq!(table.get(&e.id).unwrap().list, RevalList::Fast);
        assert!(rv.next_deadline().is_some());
        assert_eq!(
            rv.on_result(&NodeId([9; 32]), true, &mut table, t, &mut rng),
            Verdict::Gone
        );
    }
}
