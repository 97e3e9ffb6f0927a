//! Receipt download. Receipts cannot be computed without executing the blocks, so they are
//! fetched from peers for every canonical block whose receipts we lack (synced blocks and
//! blocks imported any other way alike), found by scanning the chain from a cursor
//! ([`ChainReader::missing_receipts`]). Each block's list is accepted only when the trie
//! root of its consensus encodings (typed envelopes, bloom recomputed from the logs) equals
//! the header's receipts root.
//!
//! An eth/70 peer may answer a block's list in pages (EIP-7975): a page is checked against
//! what the block can hold ([`page_fits`]), kept with the peer that sent it, and the rest is
//! asked of that peer alone; the assembled list is verified against the root as any other.

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
    /// The header's gas used and gas limit, and the body's transaction count when the
    /// body is held: the bounds a page of the list is checked against.
    gas_used: u64,
    gas_limit: u64,
    tx_count: Option<usize>,
    /// The receipts received so far from an eth/70 peer that pages this block's list.
    partial: Option<Partial>,
}

/// The first receipts of a block, from the peer asked for the rest.
#[derive(Clone, Debug)]
struct Partial {
    from: PeerId,
    receipts: Vec<Receipt>,
}

/// One Receipts answer as the sync sees it.
#[derive(Debug)]
pub(super) struct Answer<'a> {
    /// Who sent it.
    pub from: PeerId,
    /// The blocks asked for, in order.
    pub blocks: &'a [(u64, B256)],
    /// Receipts of the first block below this index were held already (eth/70).
    pub first_index: u64,
    /// One list per block, a prefix of `blocks`.
    pub lists: Vec<Vec<Receipt>>,
    /// The last list is a page of its block's receipts (eth/70).
    pub last_block_incomplete: bool,
}

/// Least gas a transaction costs (EIP-7623 floor after Amsterdam's 4500 is the lowest any
/// fork charges): bounds how many receipts a block's gas used can pay for.
const MIN_TX_GAS: u64 = 4_500;
/// Gas per byte of log data (go-ethereum `params.LogDataGas`); topics and the address cost
/// more per byte, so every logged byte costs at least this.
const LOG_DATA_GAS: u64 = 8;

/// Bytes a receipt's logs occupy (address, topics, data), each costing at least
/// [`LOG_DATA_GAS`] gas.
fn log_bytes(r: &Receipt) -> u64 {
    r.logs
        .iter()
        .map(|l| {
            let n = 20 + 32 * l.topics.len() + l.data.len();
            u64::try_from(n).unwrap_or(u64::MAX)
        })
        .fold(0u64, u64::saturating_add)
}

/// Whether `receipts`, the first ones of a block's list that is not complete yet, can be
/// part of it (EIP-7975): not empty, fewer than its transactions (and than its gas used can
/// pay for), no receipt logging more than the gas limit pays for, and all together no more
/// than the gas used pays for.
fn page_fits(w: &Wanted, receipts: &[Receipt]) -> bool {
    let count = u64::try_from(receipts.len()).unwrap_or(u64::MAX);
    if receipts.is_empty()
        || w.tx_count.is_some_and(|n| receipts.len() >= n)
        || count > w.gas_used / MIN_TX_GAS
    {
        return false;
    }
    let per_receipt = w.gas_limit / LOG_DATA_GAS;
    if receipts.iter().any(|r| log_bytes(r) > per_receipt) {
        return false;
    }
    let total = receipts
        .iter()
        .map(log_bytes)
        .fold(0u64, u64::saturating_add);
    total <= w.gas_used / LOG_DATA_GAS
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
            let hash = h.hash();
            self.wanted.entry(h.number).or_insert_with(|| Wanted {
                hash,
                receipts_root: h.receipts_root,
                requested: false,
                avoid: Avoid::default(),
                batch_cap: MAX_RECEIPT_FETCH,
                gas_used: h.gas_used,
                gas_limit: h.gas_limit,
                tx_count: chain.body(&hash).map(|b| b.transactions.len()),
                partial: None,
            });
        }
        self.cursor = next.max(self.cursor);
    }

    /// The next continuation of a paged list: the lowest block with a kept page not asked
    /// for, its number and hash, the peer that sent the page and the index to go on from;
    /// marked as asked. A page whose peer left is dropped (the block is asked anew).
    pub fn next_rest(&mut self, peers: &SyncPeers) -> Option<(PeerId, u64, B256, u64)> {
        for (n, w) in &mut self.wanted {
            if w.requested {
                continue;
            }
            let Some(p) = &w.partial else {
                continue;
            };
            if peers.get(&p.from).is_none() {
                w.partial = None;
                continue;
            }
            w.requested = true;
            let first = u64::try_from(p.receipts.len()).unwrap_or(u64::MAX);
            return Some((p.from, *n, w.hash, first));
        }
        None
    }

    /// The next request: the lowest wanted block not asked for that some peer serves, that
    /// peer, and up to [`MAX_RECEIPT_FETCH`] more wanted blocks it serves; marked as asked.
    pub fn next_request(&mut self, peers: &SyncPeers) -> Option<(PeerId, Vec<(u64, B256)>)> {
        let peer = self
            .wanted
            .iter()
            .filter(|(_, w)| !w.requested && w.partial.is_none())
            .find_map(|(n, w)| peers.pick(*n, *n, &w.avoid))?;
        let range = peers.get(&peer)?.range;
        let latest = range.latest?;
        let mut blocks = Vec::new();
        let mut cap = MAX_RECEIPT_FETCH;
        for (n, w) in self.wanted.range_mut(range.earliest..=latest) {
            if w.requested || w.partial.is_some() || w.avoid.contains(&peer) {
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
    /// and an answer too large may arrive only after its deadline. A kept page of their
    /// receipts is dropped: the block is asked anew from its first receipt.
    pub fn on_failed(&mut self, blocks: &[(u64, B256)], blame: Blame) {
        let half = (blocks.len() / 2).max(1);
        for (n, hash) in blocks {
            if let Some(w) = self.wanted.get_mut(n).filter(|w| w.hash == *hash) {
                w.requested = false;
                w.partial = None;
                w.avoid.blame(blame);
                if matches!(blame, Blame::Slow(_)) {
                    w.batch_cap = w.batch_cap.min(half);
                }
            }
        }
    }

    /// `from` answered the request for `blocks` with `lists` (one per block, in order, a
    /// prefix when it lacks some). Verified lists are returned for storage; the first list
    /// that does not match its receipts root stops the check and is the peer's fault. On
    /// eth/70 the first list continues the block's kept page when `first_index` is not 0,
    /// and a last list marked incomplete is checked ([`page_fits`]) and kept for the rest.
    pub fn on_receipts(&mut self, a: Answer<'_>) -> (Vec<Verified>, Option<SyncFault>, u64) {
        let Answer {
            from,
            blocks,
            first_index,
            mut lists,
            last_block_incomplete,
        } = a;
        if lists.len() > blocks.len() || (last_block_incomplete && lists.is_empty()) {
            self.on_failed(blocks, Blame::Failed(from));
            return (Vec::new(), Some(SyncFault::Unrequested), 0);
        }
        if lists.is_empty() {
            self.on_failed(blocks, Blame::Failed(from));
            return (Vec::new(), None, u64::try_from(blocks.len()).unwrap_or(0));
        }
        if first_index > 0 {
            let kept = blocks
                .first()
                .and_then(|(n, h)| self.wanted.get_mut(n).filter(|w| w.hash == *h))
                .and_then(|w| w.partial.take())
                .filter(|p| p.from == from && p.receipts.len() as u64 == first_index);
            let Some(mut kept) = kept else {
                // Nothing to continue (the page was dropped meanwhile): ask anew.
                self.on_failed(blocks, Blame::Nobody);
                return (Vec::new(), None, 0);
            };
            if let Some(first) = lists.first_mut() {
                kept.receipts.append(first);
                *first = kept.receipts;
            }
        }
        let delivered = lists.len();
        let page = if last_block_incomplete {
            let block = delivered
                .checked_sub(1)
                .and_then(|i| blocks.get(i))
                .copied();
            block.zip(lists.pop())
        } else {
            None
        };
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
        let mut kept_page = None;
        if let (None, Some(((n, hash), receipts))) = (fault, page) {
            match self.wanted.get_mut(&n).filter(|w| w.hash == hash) {
                Some(w) if page_fits(w, &receipts) => {
                    w.requested = false;
                    w.partial = Some(Partial { from, receipts });
                    kept_page = Some(n);
                }
                Some(_) => fault = Some(SyncFault::BadReceiptPage),
                None => {}
            }
        }
        // Everything not accepted goes back: avoiding this peer after a fault; a short
        // answer's tail (go-ethereum stops at its soft limit or first missing block) to
        // anyone. A kept page stays for its continuation.
        let rest: Vec<(u64, B256)> = blocks
            .iter()
            .filter(|(n, h)| {
                Some(*n) != kept_page && self.wanted.get(n).is_some_and(|w| w.hash == *h)
            })
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
