//! Header download: ranges of [`MAX_HEADER_FETCH`] numbers requested ascending from our head
//! towards the anchor (the verified header of the target's announced head hash), answers
//! checked on arrival (numbers, parent links, timestamps inside the batch), then linked in
//! number order to the highest linked header; the last one must link to the anchor.
//!
//! Trust runs upwards from our own head: a batch that does not link to the linked tip is
//! blamed on whoever delivered it, and its range is asked again from someone else. A peer
//! forging a self-consistent fork on top of real headers is only caught at the anchor (and
//! by the importer); go-ethereum's beacon sync avoids that by fetching its skeleton
//! backwards from a consensus-client head, which we do not have.

use std::collections::{BTreeMap, VecDeque};

use crate::eth::block::{BlockBody, Header};
use crate::eth::primitives::B256;
use crate::types::PeerId;

use super::limits::{MAX_HEADERS_AHEAD, MAX_HEADER_FETCH};
use super::peers::{Avoid, Blame, SyncPeers};
use super::types::SyncFault;

/// Checks that `child` may follow `parent`: parent hash, number, timestamp.
///
/// Hook: the pure consensus rules of `core::eth::header_rules` (gas limit bounds, base fee,
/// blob gas, fork-dependent fields) belong here once that module lands; the importer runs
/// them too, and its verdict already reaches the header's deliverer (`InvalidBlock`).
pub(super) fn check_child(parent: &Header, parent_hash: &B256, child: &Header) -> bool {
    child.parent_hash == *parent_hash
        && parent.number.checked_add(1) == Some(child.number)
        && child.timestamp > parent.timestamp
}

/// A linked header waiting for its body and its import.
#[derive(Clone, Debug)]
pub(super) struct Linked {
    pub header: Header,
    pub hash: B256,
    /// Who delivered the header.
    pub from: PeerId,
    /// The body once known (at once for headers committing to an empty body).
    pub body: Option<BlockBody>,
    /// Whether a body request for it is in flight.
    pub requested: bool,
    /// Peers that failed to deliver its body.
    pub avoid: Avoid,
}

/// A range still to request.
#[derive(Clone, Debug, Default)]
struct Task {
    amount: u64,
    avoid: Avoid,
}

/// A checked but not yet linked answer.
#[derive(Clone, Debug)]
struct Batch {
    headers: Vec<Header>,
    from: PeerId,
}

/// The header pipeline of one sync target.
#[derive(Debug)]
pub(super) struct HeaderChain {
    /// The last block handed to the importer (our head at the start).
    base: Header,
    base_hash: B256,
    tip: Header,
    tip_hash: B256,
    anchor: Header,
    anchor_hash: B256,
    anchor_from: PeerId,
    /// Linked headers not yet imported, ascending.
    pub linked: VecDeque<Linked>,
    batches: BTreeMap<u64, Batch>,
    todo: BTreeMap<u64, Task>,
    /// Next number not yet in any task.
    next: u64,
    /// The anchor is linked: nothing more to download.
    complete: bool,
    /// The linked chain cannot reach the anchor any more: the target must be dropped.
    failed: bool,
}

impl HeaderChain {
    /// A pipeline from `tip` (our head) to `anchor` (delivered by `anchor_from`), which is
    /// above it.
    pub fn new(tip: Header, anchor: Header, anchor_from: PeerId) -> Self {
        let next = tip.number.saturating_add(1);
        let tip_hash = tip.hash();
        Self {
            base: tip.clone(),
            base_hash: tip_hash,
            tip_hash,
            tip,
            anchor_hash: anchor.hash(),
            anchor,
            anchor_from,
            linked: VecDeque::new(),
            batches: BTreeMap::new(),
            todo: BTreeMap::new(),
            next,
            complete: false,
            failed: false,
        }
    }

    /// The target: the anchor's number and hash.
    pub fn target(&self) -> (u64, B256) {
        (self.anchor.number, self.anchor_hash)
    }

    /// The anchor and who delivered it.
    pub fn anchor(&self) -> Option<(Header, PeerId)> {
        Some((self.anchor.clone(), self.anchor_from))
    }

    /// The highest linked header's number.
    pub fn tip_number(&self) -> u64 {
        self.tip.number
    }

    /// Whether every header up to the anchor is linked.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// Whether the target is unreachable through what was imported (drop it).
    pub fn is_failed(&self) -> bool {
        self.failed
    }

    /// Headers held in memory (linked or waiting to link).
    pub fn buffered(&self) -> usize {
        self.linked.len()
            + self
                .batches
                .values()
                .map(|b| b.headers.len())
                .sum::<usize>()
    }

    /// The next range to ask for and whom to ask, for an import front at `front` (the
    /// number after our head): ranges stay within [`MAX_HEADERS_AHEAD`] of it and below the anchor; each goes
    /// to a peer serving its first block, clipped to the peer's latest.
    pub fn next_request(&mut self, front: u64, peers: &SyncPeers) -> Option<(PeerId, u64, u64)> {
        let last = self.anchor.number.saturating_sub(1);
        let limit = front
            .saturating_add(MAX_HEADERS_AHEAD)
            .min(last.saturating_add(1));
        while self.next < limit {
            let amount = MAX_HEADER_FETCH.min(limit - self.next);
            self.todo.insert(
                self.next,
                Task {
                    amount,
                    avoid: Avoid::default(),
                },
            );
            self.next += amount;
        }
        let mut chosen = None;
        for (&start, task) in &self.todo {
            if let Some(peer) = peers.pick(start, start, &task.avoid) {
                chosen = Some((start, peer));
                break;
            }
        }
        let (start, peer) = chosen?;
        let task = self.todo.remove(&start)?;
        let latest = peers
            .get(&peer)
            .and_then(|p| p.range.latest)
            .unwrap_or(start);
        let fits = latest.saturating_sub(start).saturating_add(1);
        let amount = task.amount.min(fits).max(1);
        if amount < task.amount {
            self.todo.insert(
                start + amount,
                Task {
                    amount: task.amount - amount,
                    avoid: task.avoid,
                },
            );
        }
        Some((peer, start, amount))
    }

    /// A request for `start..start + amount` will not be answered; `blame` says whom to
    /// avoid for it.
    pub fn on_failed(&mut self, start: u64, amount: u64, blame: Blame) {
        let end = start.saturating_add(amount);
        let start = start.max(self.tip.number + 1);
        if start >= end {
            return;
        }
        let amount = end - start;
        let task = self.todo.entry(start).or_default();
        task.amount = task.amount.max(amount);
        task.avoid.blame(blame);
    }

    /// `from` answered the request for `start..start + amount` with `headers`. Checks them,
    /// keeps the valid prefix it delivered, puts the rest back, and links what it can.
    /// Returns the faults found, per peer (this one or, for linking, others).
    pub fn on_headers(
        &mut self,
        from: PeerId,
        start: u64,
        amount: u64,
        headers: Vec<Header>,
    ) -> (Vec<(PeerId, SyncFault)>, u64) {
        if u64::try_from(headers.len()).unwrap_or(u64::MAX) > amount {
            self.on_failed(start, amount, Blame::Failed(from));
            return (vec![(from, SyncFault::Unrequested)], amount);
        }
        if headers.first().is_some_and(|h| h.number != start) {
            self.on_failed(start, amount, Blame::Failed(from));
            return (vec![(from, SyncFault::Unrequested)], amount);
        }
        let linked_inside = headers.windows(2).all(|w| match w {
            [a, b] => check_child(a, &a.hash(), b),
            _ => true,
        });
        if !linked_inside {
            self.on_failed(start, amount, Blame::Failed(from));
            return (vec![(from, SyncFault::BrokenLinkage)], amount);
        }
        let got = u64::try_from(headers.len()).unwrap_or(amount);
        let missing = amount - got;
        if missing > 0 {
            // Empty: it lacks the range, ask someone else. Short: the rest from anyone.
            let blame = if got == 0 {
                Blame::Failed(from)
            } else {
                Blame::Nobody
            };
            self.on_failed(start + got, missing, blame);
        }
        if !headers.is_empty() {
            self.batches.insert(start, Batch { headers, from });
        }
        (self.link(), missing)
    }

    /// Links waiting batches onto the tip in number order, then the anchor (at once when the
    /// anchor is the block right above our head: there is no range to fetch).
    pub fn link(&mut self) -> Vec<(PeerId, SyncFault)> {
        let mut faults = Vec::new();
        self.trim_batches();
        while let Some(batch) = self.batches.remove(&(self.tip.number + 1)) {
            let start = self.tip.number + 1;
            let links = batch
                .headers
                .first()
                .is_some_and(|h| check_child(&self.tip, &self.tip_hash, h));
            if !links {
                let n = u64::try_from(batch.headers.len()).unwrap_or(0);
                self.on_failed(start, n, Blame::Failed(batch.from));
                faults.push((batch.from, SyncFault::BrokenLinkage));
                continue;
            }
            for h in batch.headers {
                self.push_linked(h, batch.from);
            }
            self.trim_batches();
        }
        if !self.complete && self.tip.number + 1 == self.anchor.number {
            if check_child(&self.tip, &self.tip_hash, &self.anchor) {
                let anchor = self.anchor.clone();
                self.push_linked(anchor, self.anchor_from);
                self.complete = true;
            } else if let Some(last) = self.linked.back().map(|l| l.from) {
                // The chain we linked does not end at the announced head: blame whoever
                // delivered its top, and fetch that stretch again from someone else.
                faults.push((last, SyncFault::BrokenLinkage));
                self.unlink_top(last);
            } else {
                // Everything below the anchor is imported already and does not lead to it.
                faults.push((self.anchor_from, SyncFault::WrongAnchor));
                self.failed = true;
            }
        }
        faults
    }

    /// Cuts what lies at or below the tip off the waiting batches (answers overlap only
    /// after a range was asked again), so every batch starts above the tip.
    fn trim_batches(&mut self) {
        let above = self.batches.split_off(&(self.tip.number + 1));
        let below = std::mem::replace(&mut self.batches, above);
        for (_, mut b) in below {
            b.headers.retain(|h| h.number > self.tip.number);
            if let Some(first) = b.headers.first().map(|h| h.number) {
                self.batches.entry(first).or_insert(b);
            }
        }
    }

    fn push_linked(&mut self, header: Header, from: PeerId) {
        let hash = header.hash();
        let body = super::bodies::empty_body(&header);
        self.tip = header.clone();
        self.tip_hash = hash;
        self.linked.push_back(Linked {
            header,
            hash,
            from,
            body,
            requested: false,
            avoid: Avoid::default(),
        });
    }

    /// Drops the not yet imported linked headers at the top delivered by `from`, back to the
    /// first one from someone else, and queues their range again avoiding `from`.
    fn unlink_top(&mut self, from: PeerId) {
        while self.linked.back().is_some_and(|l| l.from == from) {
            self.linked.pop_back();
        }
        match self.linked.back() {
            Some(l) => {
                self.tip = l.header.clone();
                self.tip_hash = l.hash;
            }
            None => {
                self.tip = self.base.clone();
                self.tip_hash = self.base_hash;
            }
        }
        // Everything above the new tip is asked again (the tasks above it stay as they are).
        let lowest = self.tip.number + 1;
        let stale: Vec<u64> = self.todo.range(lowest..).map(|(s, _)| *s).collect();
        for s in stale {
            self.todo.remove(&s);
        }
        self.batches.clear();
        self.next = lowest;
        let _ = from;
    }

    /// Hands the first linked block to the importer: it becomes the base.
    pub fn pop_front(&mut self) -> Option<Linked> {
        let l = self.linked.pop_front()?;
        self.base = l.header.clone();
        self.base_hash = l.hash;
        Some(l)
    }

    /// Forgets `peer` in every avoidance list (its range changed).
    pub fn forget_avoid(&mut self, peer: &PeerId) {
        for t in self.todo.values_mut() {
            t.avoid.forget(peer);
        }
        for l in &mut self.linked {
            l.avoid.forget(peer);
        }
    }
}
