//! One iterative Kademlia lookup as plain state: it says whom to ask next and takes the
//! answers; the machine does the asking. At most [`ALPHA`] queries run at once, always to
//! the closest candidates not asked yet among the [`BUCKET_SIZE`] closest still in play.
//! The lookup ends when those have all answered or failed and nothing is in flight; the
//! result is the [`BUCKET_SIZE`] closest nodes that answered.
//!
//! Unlike go-ethereum, a node whose query failed is asked again (up to three times in all,
//! re-bonding first) before it is given up: one query is up to six datagrams (Ping, Pong,
//! the remote's Ping and our Pong, FindNode, Neighbors), so with a few percent of loss a
//! single try fails often, and a live node dropped from the result is a wrong answer.

use std::collections::BTreeSet;

use super::packet::NodeRecord;
use super::table::distance_cmp;
use super::{ALPHA, BUCKET_SIZE};
use crate::types::{NodeId, PeerId};

/// Candidates kept, closest first; farther ones could only matter if most of these failed.
const MAX_CANDIDATES: usize = 4 * BUCKET_SIZE;
/// Distinct ids remembered, so a node is never added twice.
const MAX_SEEN: usize = 4096;
/// Times one node is asked before it counts as dead (see the module doc).
const MAX_QUERY_ATTEMPTS: u8 = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Unasked,
    Asking,
    Answered,
    Dead,
}

#[derive(Clone, Debug)]
struct Candidate {
    id: NodeId,
    record: NodeRecord,
    state: State,
    attempts: u8,
}

/// An iterative lookup in progress.
#[derive(Clone, Debug)]
pub(crate) struct Lookup {
    target: PeerId,
    target_id: NodeId,
    local: NodeId,
    candidates: Vec<Candidate>,
    seen: BTreeSet<NodeId>,
    in_flight: usize,
}

impl Lookup {
    /// A lookup for `target` started from `seeds` (usually the table's closest nodes).
    pub fn new(target: PeerId, local: NodeId, seeds: impl IntoIterator<Item = NodeRecord>) -> Self {
        let mut l = Self {
            target,
            target_id: target.node_id(),
            local,
            candidates: Vec::new(),
            seen: BTreeSet::new(),
            in_flight: 0,
        };
        l.add_nodes(seeds);
        l
    }

    /// The target.
    pub fn target(&self) -> PeerId {
        self.target
    }

    /// Whether any node is known to ask (a lookup started on an empty table has none).
    pub fn has_candidates(&self) -> bool {
        !self.candidates.is_empty()
    }

    /// Adds nodes learnt from a reply (or seeds).
    pub fn add_nodes(&mut self, nodes: impl IntoIterator<Item = NodeRecord>) {
        for record in nodes {
            let id = record.id.node_id();
            if id == self.local || self.seen.len() >= MAX_SEEN || !self.seen.insert(id) {
                continue;
            }
            let pos = self
                .candidates
                .partition_point(|c| distance_cmp(&self.target_id, &c.id, &id).is_lt());
            if pos >= MAX_CANDIDATES {
                continue;
            }
            self.candidates.insert(
                pos,
                Candidate {
                    id,
                    record,
                    state: State::Unasked,
                    attempts: 0,
                },
            );
            // Never drop a candidate with a query in flight: its answer is still expected.
            while self.candidates.len() > MAX_CANDIDATES {
                match self
                    .candidates
                    .iter()
                    .rposition(|c| c.state != State::Asking)
                {
                    Some(i) => {
                        self.candidates.remove(i);
                    }
                    None => break,
                }
            }
        }
    }

    /// The closest candidates still in play (not dead), at most [`BUCKET_SIZE`].
    fn window(&self) -> impl Iterator<Item = &Candidate> {
        self.candidates
            .iter()
            .filter(|c| c.state != State::Dead)
            .take(BUCKET_SIZE)
    }

    /// The next node to ask, if a query slot is free and an unasked candidate is in the
    /// window. The caller must report back with `on_reply` or `on_failure`.
    pub fn next_query(&mut self) -> Option<NodeRecord> {
        if self.in_flight >= ALPHA {
            return None;
        }
        let id = self.window().find(|c| c.state == State::Unasked)?.id;
        let c = self.candidates.iter_mut().find(|c| c.id == id)?;
        c.state = State::Asking;
        c.attempts = c.attempts.saturating_add(1);
        self.in_flight += 1;
        Some(c.record)
    }

    fn finish_query(&mut self, id: &NodeId) -> Option<&mut Candidate> {
        let c = self
            .candidates
            .iter_mut()
            .find(|c| &c.id == id && c.state == State::Asking)?;
        self.in_flight = self.in_flight.saturating_sub(1);
        Some(c)
    }

    /// `id` answered with `nodes`.
    pub fn on_reply(&mut self, id: &NodeId, nodes: impl IntoIterator<Item = NodeRecord>) {
        if let Some(c) = self.finish_query(id) {
            c.state = State::Answered;
            self.add_nodes(nodes);
        }
    }

    /// The query to `id` failed.
    pub fn on_failure(&mut self, id: &NodeId) {
        if let Some(c) = self.finish_query(id) {
            c.state = if c.attempts < MAX_QUERY_ATTEMPTS {
                State::Unasked
            } else {
                State::Dead
            };
        }
    }

    /// Whether the lookup is over: nothing in flight and nobody left to ask.
    pub fn is_done(&self) -> bool {
        self.in_flight == 0 && !self.window().any(|c| c.state == State::Unasked)
    }

    /// The closest nodes that answered, closest first (≤ [`BUCKET_SIZE`]).
    pub fn result(&self) -> Vec<NodeRecord> {
        self.candidates
            .iter()
            .filter(|c| c.state == State::Answered)
            .take(BUCKET_SIZE)
            .map(|c| c.record)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discv4::packet::Endpoint;
    use std::collections::BTreeMap;
    use std::net::{IpAddr, Ipv4Addr};

    fn rec(n: u32) -> NodeRecord {
        let mut id = [0u8; 64];
        id[..4].copy_from_slice(&n.to_be_bytes());
        NodeRecord {
            endpoint: Endpoint {
                ip: IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n)),
                udp: 30303,
                tcp: 30303,
            },
            id: PeerId(id),
        }
    }

    /// A toy network where every live node knows every other live node and answers with
    /// the 16 closest to the target; `dead` nodes never answer (they are only known from the
    /// seeds, as stale table entries would be). Returns the result and the queries sent
    /// per node.
    fn run(
        n: u32,
        seeds: &[u32],
        dead: &[u32],
        target: PeerId,
    ) -> (Vec<NodeRecord>, BTreeMap<u32, usize>) {
        let answer = brute(n, &target, dead);
        let local = NodeId([0xff; 32]);
        let seeds = seeds.iter().chain(dead).map(|&i| rec(i));
        let mut l = Lookup::new(target, local, seeds);
        let mut asked: BTreeMap<u32, usize> = BTreeMap::new();
        let mut pending: BTreeMap<NodeId, NodeRecord> = BTreeMap::new();
        loop {
            while let Some(q) = l.next_query() {
                assert!(pending.len() < ALPHA);
                pending.insert(q.id.node_id(), q);
            }
            let Some((id, q)) = pending.pop_first() else {
                break;
            };
            let idx = u32::from_be_bytes(q.id.0[..4].try_into().unwrap());
            *asked.entry(idx).or_default() += 1;
            if dead.contains(&idx) {
                l.on_failure(&id);
            } else {
                l.on_reply(&id, answer.clone());
            }
        }
        assert!(l.is_done());
        (l.result(), asked)
    }

    fn brute(n: u32, target: &PeerId, exclude: &[u32]) -> Vec<NodeRecord> {
        let tid = target.node_id();
        let mut v: Vec<NodeRecord> = (0..n).filter(|i| !exclude.contains(i)).map(rec).collect();
        v.sort_by(|a, b| distance_cmp(&tid, &a.id.node_id(), &b.id.node_id()));
        v.truncate(BUCKET_SIZE);
        v
    }

    #[test]
    fn lookup_finds_the_true_closest_and_terminates() {
        let target = PeerId([7; 64]);
        let (res, asked) = run(300, &[1, 2, 3], &[], target);
        assert_eq!(res, brute(300, &target, &[]));
        let queries: usize = asked.values().sum();
        assert!(queries <= 3 + BUCKET_SIZE, "{queries} queries");
        assert!(asked.values().all(|&n| n == 1));
    }

    #[test]
    fn dead_nodes_are_retried_once_then_left_out() {
        let target = PeerId([7; 64]);
        let best = brute(300, &target, &[]);
        let dead: Vec<u32> = best[..3]
            .iter()
            .map(|r| u32::from_be_bytes(r.id.0[..4].try_into().unwrap()))
            .collect();
        let (res, asked) = run(300, &[1, 2, 3], &dead, target);
        assert_eq!(res, brute(300, &target, &dead));
        for d in &dead {
            assert_eq!(asked.get(d), Some(&usize::from(MAX_QUERY_ATTEMPTS)));
        }
    }

    #[test]
    fn lookup_without_seeds_is_done_at_once() {
        let l = Lookup::new(PeerId([1; 64]), NodeId([0; 32]), []);
        assert!(l.is_done());
        assert!(l.result().is_empty());
    }

    #[test]
    fn local_node_and_duplicates_are_never_candidates() {
        let me = rec(5);
        let mut l = Lookup::new(PeerId([1; 64]), me.id.node_id(), [me, rec(6), rec(6)]);
        let q = l.next_query().unwrap();
        assert_eq!(q, rec(6));
        assert!(l.next_query().is_none());
        l.on_reply(&q.id.node_id(), [me, rec(6)]);
        assert!(l.is_done());
        assert_eq!(l.result(), vec![rec(6)]);
    }

    #[test]
    fn no_more_than_alpha_queries_in_flight_and_late_answers_are_ignored() {
        let mut l = Lookup::new(PeerId([1; 64]), NodeId([0; 32]), (0..10).map(rec));
        let qs: Vec<_> = std::iter::from_fn(|| l.next_query()).collect();
        assert_eq!(qs.len(), ALPHA);
        // An answer from a node we did not ask changes nothing.
        l.on_reply(&rec(99).id.node_id(), (20..40).map(rec));
        assert!(l.next_query().is_none());
        for q in &qs {
            l.on_reply(&q.id.node_id(), []);
        }
        // A second answer from the same node is ignored too.
        l.on_reply(&qs[0].id.node_id(), (20..40).map(rec));
        assert_eq!(l.next_query().map(|_| ()), Some(()));
    }
}
