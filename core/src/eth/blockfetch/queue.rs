//! The import queue: complete blocks ordered by number, bounded per peer and in total, held
//! until their parent is known (our head, a recent import, or a block already handed over),
//! and the set of recently known hashes that decides it.

use std::collections::BTreeMap;

use crate::eth::app::ImportResult;
use crate::eth::block::Block;
use crate::eth::primitives::B256;
use crate::types::PeerId;

use super::limits::{
    BLOCK_LIMIT_PER_PEER, MAX_KNOWN_HASHES, MAX_QUEUED_BLOCKS, MAX_QUEUE_DIST_BLOCKS,
    MAX_UNCLE_DIST_BLOCKS,
};
use super::types::DiscardReason;

/// Whether a block at `number` is inside the window `[head - 7, head + 32]`.
pub(super) fn check_distance(number: u64, head: u64) -> Result<(), DiscardReason> {
    if number.saturating_add(MAX_UNCLE_DIST_BLOCKS) < head {
        Err(DiscardReason::TooOld)
    } else if number > head.saturating_add(MAX_QUEUE_DIST_BLOCKS) {
        Err(DiscardReason::TooFar)
    } else {
        Ok(())
    }
}

/// Where a queued block stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Waiting for its parent to become known.
    Waiting,
    /// The importer said its parent is unknown: wait until the parent is imported.
    Blocked,
    /// Handed to the importer; its result is pending.
    Importing,
}

#[derive(Debug)]
struct Entry {
    block: Block,
    from: PeerId,
    stage: Stage,
}

/// The outcome of offering a block to the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Offer {
    /// Queued.
    Queued,
    /// Queued after evicting this (higher) block to make room.
    QueuedEvicting(B256),
    /// Already queued or known.
    Duplicate,
    /// Its sender has [`BLOCK_LIMIT_PER_PEER`] blocks queued.
    PeerFull,
    /// Refused for this reason.
    Refused(DiscardReason),
}

/// What an import result means for the fetcher's output.
#[derive(Debug, Default)]
pub(super) struct Outcome {
    /// Announce this block to peers.
    pub(super) propagate: Option<(B256, u64)>,
    /// Penalise this peer for an invalid block.
    pub(super) penalize: Option<PeerId>,
    /// Blocks dropped as a result.
    pub(super) discarded: Vec<(B256, DiscardReason)>,
}

/// Blocks waiting to be imported, ordered by `(number, hash)`.
#[derive(Debug)]
pub(super) struct ImportQueue {
    entries: BTreeMap<(u64, B256), Entry>,
    numbers: BTreeMap<B256, u64>,
    per_peer: BTreeMap<PeerId, usize>,
    /// Recent heads and imports: hash → number.
    known: BTreeMap<B256, u64>,
    head: u64,
}

impl ImportQueue {
    /// An empty queue over a chain whose head is `(number, hash)`.
    pub(super) fn new(head: u64, head_hash: B256) -> Self {
        let mut q = ImportQueue {
            entries: BTreeMap::new(),
            numbers: BTreeMap::new(),
            per_peer: BTreeMap::new(),
            known: BTreeMap::new(),
            head,
        };
        q.remember(head_hash, head);
        q
    }

    /// Our head's number.
    pub(super) fn head(&self) -> u64 {
        self.head
    }

    /// Blocks queued, including those being imported.
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether `hash` is queued, being imported, or recently known.
    pub(super) fn has(&self, hash: &B256) -> bool {
        self.numbers.contains_key(hash) || self.known.contains_key(hash)
    }

    /// Offers a complete block (body already checked) delivered by `from`.
    pub(super) fn offer(&mut self, hash: B256, block: Block, from: PeerId) -> Offer {
        if self.has(&hash) {
            return Offer::Duplicate;
        }
        let number = block.header.number;
        if let Err(why) = check_distance(number, self.head) {
            return Offer::Refused(why);
        }
        if self.per_peer.get(&from).copied().unwrap_or(0) >= BLOCK_LIMIT_PER_PEER {
            return Offer::PeerFull;
        }
        let mut evicted = None;
        if self.entries.len() >= MAX_QUEUED_BLOCKS {
            // Make room by dropping the highest waiting block if it is above this one: the
            // lowest blocks are the ones that can be imported soonest.
            let victim = self
                .entries
                .iter()
                .rev()
                .find(|(_, e)| e.stage != Stage::Importing)
                .map(|(k, _)| *k)
                .filter(|k| *k > (number, hash));
            let Some(key) = victim else {
                return Offer::Refused(DiscardReason::QueueFull);
            };
            self.remove(&key.1);
            evicted = Some(key.1);
        }
        *self.per_peer.entry(from).or_insert(0) += 1;
        self.numbers.insert(hash, number);
        self.entries.insert(
            (number, hash),
            Entry {
                block,
                from,
                stage: Stage::Waiting,
            },
        );
        match evicted {
            Some(h) => Offer::QueuedEvicting(h),
            None => Offer::Queued,
        }
    }

    /// Hands over, in number order, every waiting block whose parent is known or already
    /// handed over (including one handed over earlier in this same call).
    pub(super) fn release(&mut self) -> Vec<(Block, PeerId)> {
        let mut out = Vec::new();
        let mut handed: Vec<B256> = Vec::new();
        for ((_, hash), entry) in self.entries.iter_mut() {
            if entry.stage == Stage::Importing {
                handed.push(*hash);
                continue;
            }
            if entry.stage != Stage::Waiting {
                continue;
            }
            let parent = &entry.block.header.parent_hash;
            if self.known.contains_key(parent) || handed.contains(parent) {
                entry.stage = Stage::Importing;
                handed.push(*hash);
                out.push((entry.block.clone(), entry.from));
            }
        }
        out
    }

    /// Applies the importer's verdict on a block we handed over. Results for blocks we did
    /// not hand over are ignored.
    pub(super) fn on_result(&mut self, hash: &B256, result: &ImportResult) -> Outcome {
        let mut out = Outcome::default();
        let Some(&number) = self.numbers.get(hash) else {
            return out;
        };
        let Some(entry) = self.entries.get_mut(&(number, *hash)) else {
            return out;
        };
        if entry.stage != Stage::Importing {
            return out;
        }
        match result {
            ImportResult::Imported { new_head } => {
                self.remove(hash);
                self.remember(*hash, number);
                self.unblock_children(hash);
                if *new_head {
                    self.set_head_number(number, &mut out.discarded);
                }
                out.propagate = Some((*hash, number));
            }
            ImportResult::AlreadyKnown => {
                self.remove(hash);
                self.remember(*hash, number);
                self.unblock_children(hash);
            }
            ImportResult::UnknownParent => entry.stage = Stage::Blocked,
            ImportResult::Invalid(_) => {
                out.penalize = Some(entry.from);
                self.remove(hash);
                out.discarded.push((*hash, DiscardReason::Invalid));
                self.drop_descendants(*hash, &mut out.discarded);
            }
        }
        out
    }

    /// Moves the head; returns the blocks that fell out of the window.
    pub(super) fn set_head(&mut self, number: u64, hash: B256) -> Vec<(B256, DiscardReason)> {
        let mut dropped = Vec::new();
        self.remember(hash, number);
        self.unblock_children(&hash);
        self.set_head_number(number, &mut dropped);
        dropped
    }

    fn set_head_number(&mut self, number: u64, dropped: &mut Vec<(B256, DiscardReason)>) {
        self.head = number;
        let stale: Vec<(u64, B256)> = self
            .entries
            .keys()
            .filter(|(n, _)| check_distance(*n, number).is_err())
            .copied()
            .collect();
        for (n, h) in stale {
            self.remove(&h);
            let why = check_distance(n, number)
                .err()
                .unwrap_or(DiscardReason::TooOld);
            dropped.push((h, why));
        }
        // Known hashes older than the window can no longer parent a queued block.
        self.known
            .retain(|_, n| n.saturating_add(MAX_UNCLE_DIST_BLOCKS).saturating_add(1) >= number);
    }

    fn remember(&mut self, hash: B256, number: u64) {
        self.known.insert(hash, number);
        while self.known.len() > MAX_KNOWN_HASHES {
            let lowest = self
                .known
                .iter()
                .min_by_key(|(h, n)| (**n, **h))
                .map(|(h, _)| *h);
            match lowest {
                Some(h) => self.known.remove(&h),
                None => break,
            };
        }
    }

    fn unblock_children(&mut self, parent: &B256) {
        for entry in self.entries.values_mut() {
            if entry.stage == Stage::Blocked && entry.block.header.parent_hash == *parent {
                entry.stage = Stage::Waiting;
            }
        }
    }

    fn drop_descendants(&mut self, root: B256, dropped: &mut Vec<(B256, DiscardReason)>) {
        let mut bad = vec![root];
        while let Some(parent) = bad.pop() {
            let children: Vec<B256> = self
                .entries
                .iter()
                .filter(|(_, e)| e.block.header.parent_hash == parent)
                .map(|((_, h), _)| *h)
                .collect();
            for child in children {
                self.remove(&child);
                dropped.push((child, DiscardReason::InvalidAncestor));
                bad.push(child);
            }
        }
    }

    fn remove(&mut self, hash: &B256) {
        let Some(number) = self.numbers.remove(hash) else {
            return;
        };
        if let Some(entry) = self.entries.remove(&(number, *hash)) {
            if let Some(c) = self.per_peer.get_mut(&entry.from) {
                *c = c.saturating_sub(1);
                if *c == 0 {
                    self.per_peer.remove(&entry.from);
                }
            }
        }
    }
}
