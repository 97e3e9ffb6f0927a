//! Receipt download. Receipts cannot be computed without executing the blocks, so they are
//! fetched from peers for every canonical block whose receipts we lack (synced blocks and
//! blocks imported any other way alike), found by scanning the chain from a cursor
//! ([`ChainReader::missing_receipts`]). Each block's list is accepted only when the trie
//! root of its consensus encodings (typed envelopes, bloom recomputed from the logs) equals
//! the header's receipts root.

use std::collections::BTreeMap;

use crate::eth::app::ChainReader;
use crate::eth::primitives::B256;
use crate::eth::receipts::{receipts_root, Receipt};
use crate::types::PeerId;

use super::limits::{MAX_RECEIPTS_WANTED, MAX_RECEIPT_FETCH, RECEIPT_SCAN_BLOCKS};
use super::peers::{Avoid, Blame, SyncPeers};
use super::types::SyncFault;

/// A block whose receipts we want.
#[derive(Clone, Debug)]
struct Wanted {
    hash: B256,
    receipts_root: B256,
    requested: bool,
    avoid: Avoid,
    /// Most blocks asked for in one request with it: halved each time an answer covering
    /// it was too large.
    batch_cap: usize,
}

/// One block's receipts, verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Verified {
    pub number: u64,
    pub hash: B256,
    pub receipts: Vec<Receipt>,
}

/// The blocks whose receipts are wanted, by number, and the scan cursor.
#[derive(Debug, Default)]
pub(super) struct ReceiptQueue {
    /// Next block number to scan.
    cursor: u64,
    wanted: BTreeMap<u64, Wanted>,
}

impl ReceiptQueue {
    /// Blocks wanted (asked for or not).
    pub fn len(&self) -> usize {
        self.wanted.len()
    }

    /// Blocks wanted and not asked for.
    pub fn idle_len(&self) -> usize {
        self.wanted.values().filter(|w| !w.requested).count()
    }

    /// Scans the chain past the cursor while there is room (at most one scan per call).
    pub fn refill(&mut self, chain: &dyn ChainReader) {
        let head = chain.head().number;
        if self.cursor > head || self.wanted.len() + MAX_RECEIPT_FETCH > MAX_RECEIPTS_WANTED {
            return;
        }
        let room = MAX_RECEIPTS_WANTED - self.wanted.len();
        let found = chain.missing_receipts(self.cursor, RECEIPT_SCAN_BLOCKS);
        let mut next = self
            .cursor
            .saturating_add(RECEIPT_SCAN_BLOCKS)
            .min(head.saturating_add(1));
        for (i, h) in found.into_iter().enumerate() {
            if i >= room {
                next = h.number;
                break;
            }
            self.wanted.entry(h.number).or_insert_with(|| Wanted {
                hash: h.hash(),
                receipts_root: h.receipts_root,
                requested: false,
                avoid: Avoid::default(),
                batch_cap: MAX_RECEIPT_FETCH,
            });
        }
        self.cursor = next.max(self.cursor);
    }

    /// The next request: the lowest wanted block not asked for that some peer serves, that
    /// peer, and up to [`MAX_RECEIPT_FETCH`] more wanted blocks it serves; marked as asked.
    pub fn next_request(&mut self, peers: &SyncPeers) -> Option<(PeerId, Vec<(u64, B256)>)> {
        let peer = self
            .wanted
            .iter()
            .filter(|(_, w)| !w.requested)
            .find_map(|(n, w)| peers.pick(*n, *n, &w.avoid))?;
        let range = peers.get(&peer)?.range;
        let latest = range.latest?;
        let mut blocks = Vec::new();
        let mut cap = MAX_RECEIPT_FETCH;
        for (n, w) in self.wanted.range_mut(range.earliest..=latest) {
            if w.requested || w.avoid.contains(&peer) {
                continue;
            }
            if blocks.is_empty() {
                cap = w.batch_cap;
            } else if w.batch_cap < cap {
                continue;
            }
            w.requested = true;
            blocks.push((*n, w.hash));
            if blocks.len() >= cap {
                break;
            }
        }
        (!blocks.is_empty()).then_some((peer, blocks))
    }

    /// The answer for `blocks` exceeded the message limit: they are asked for in requests
    /// of half the size from now on (bisecting towards the block too large), and a single
    /// block is given up (it is not wanted again unless the chain is scanned anew). Returns
    /// the blocks given up.
    pub fn on_too_large(&mut self, blocks: &[(u64, B256)]) -> Vec<B256> {
        let half = blocks.len() / 2;
        let mut given_up = Vec::new();
        for (n, hash) in blocks {
            if self.wanted.get(n).is_none_or(|w| w.hash != *hash) {
                continue;
            }
            if half == 0 {
                self.wanted.remove(n);
                given_up.push(*hash);
            } else if let Some(w) = self.wanted.get_mut(n) {
                w.requested = false;
                w.batch_cap = w.batch_cap.min(half);
            }
        }
        given_up
    }

    /// A request for `blocks` failed; `blame` says whom to avoid for them.
    /// A timed-out request is asked again in halves: a slow answer is often a large one,
    /// and an answer too large may arrive only after its deadline.
    pub fn on_failed(&mut self, blocks: &[(u64, B256)], blame: Blame) {
        let half = (blocks.len() / 2).max(1);
        for (n, hash) in blocks {
            if let Some(w) = self.wanted.get_mut(n).filter(|w| w.hash == *hash) {
                w.requested = false;
                w.avoid.blame(blame);
                if matches!(blame, Blame::Slow(_)) {
                    w.batch_cap = w.batch_cap.min(half);
                }
            }
        }
    }

    /// `from` answered the request for `blocks` with `lists` (one per block, in order, a
    /// prefix when it lacks some). Verified lists are returned for storage; the first list
    /// that does not match its receipts root stops the check and is the peer's fault.
    pub fn on_receipts(
        &mut self,
        from: PeerId,
        blocks: &[(u64, B256)],
        lists: Vec<Vec<Receipt>>,
    ) -> (Vec<Verified>, Option<SyncFault>, u64) {
        if lists.len() > blocks.len() {
            self.on_failed(blocks, Blame::Failed(from));
            return (Vec::new(), Some(SyncFault::Unrequested), 0);
        }
        if lists.is_empty() {
            self.on_failed(blocks, Blame::Failed(from));
            return (Vec::new(), None, u64::try_from(blocks.len()).unwrap_or(0));
        }
        let delivered = lists.len();
        let mut out = Vec::new();
        let mut fault = None;
        for ((n, hash), list) in blocks.iter().zip(lists) {
            let Some(w) = self.wanted.get(n).filter(|w| w.hash == *hash) else {
                continue;
            };
            if receipts_root(&list) == w.receipts_root {
                self.wanted.remove(n);
                out.push(Verified {
                    number: *n,
                    hash: *hash,
                    receipts: list,
                });
            } else {
                fault = Some(SyncFault::ReceiptsMismatch);
                break;
            }
        }
        // Everything not accepted goes back: avoiding this peer after a fault; a short
        // answer's tail (go-ethereum stops at its soft limit or first missing block) to
        // anyone.
        let rest: Vec<(u64, B256)> = blocks
            .iter()
            .filter(|(n, h)| self.wanted.get(n).is_some_and(|w| w.hash == *h))
            .copied()
            .collect();
        let blame = match fault {
            Some(_) => Blame::Failed(from),
            None => Blame::Nobody,
        };
        self.on_failed(&rest, blame);
        let missing = u64::try_from(blocks.len().saturating_sub(delivered)).unwrap_or(0);
        (out, fault, missing)
    }

    /// Forgets `peer` in every avoidance list (its range changed).
    pub fn forget_avoid(&mut self, peer: &PeerId) {
        for w in self.wanted.values_mut() {
            w.avoid.forget(peer);
        }
    }
}
