//! Transaction propagation: which peers get a transaction in full and which only its hash
//! (go-ethereum `eth/handler.go` `BroadcastTransactions`), and the bounded per-peer queues
//! that hold both until they are sent (go-ethereum `eth/protocols/eth/broadcast.go`).
//!
//! Full transactions go to ceil(√n) of the n peers lacking one, chosen by a keyed hash of
//! (our key, peer, sender): all transactions of one sender follow the same path, so nonce
//! order survives, and an outsider cannot predict or steer the choice.

use std::collections::{BTreeSet, VecDeque};

use crate::crypto::keccak::keccak256_concat;
use crate::eth::app::TxPool;
use crate::eth::messages::TxAnnouncement;
use crate::eth::primitives::B256;
use crate::eth::tx::{PooledTransaction, Transaction};
use crate::types::PeerId;

/// ceil(√n): how many of `n` peers get a transaction or block in full (DESIGN §6).
pub fn direct_count(n: usize) -> usize {
    let mut r = 0usize;
    while r.saturating_mul(r) < n {
        r += 1;
    }
    r
}

/// The peers of `candidates` that get a transaction of `sender` in full: the
/// [`direct_count`] lowest keyed hashes of (`key`, peer, `sender`).
pub fn direct_peers(key: &[u8; 32], candidates: &[PeerId], sender: &[u8]) -> BTreeSet<PeerId> {
    let mut ranked: Vec<([u8; 32], PeerId)> = candidates
        .iter()
        .map(|p| (keccak256_concat(&[key, &p.0, sender]), *p))
        .collect();
    ranked.sort_unstable();
    ranked
        .into_iter()
        .take(direct_count(candidates.len()))
        .map(|(_, p)| p)
        .collect()
}

/// Whether a transaction may be pushed in full: not a blob transaction (those are only
/// announced, EIP-4844 networking) and no larger than `max_bytes`.
pub fn is_broadcastable(tx: &PooledTransaction, max_bytes: usize) -> bool {
    tx.tx_type() != crate::eth::tx::TxType::Eip4844 && tx.encoded_len() <= max_bytes
}

/// One peer's outbound transaction queues: hashes to push in full, announcements to send.
/// Full queues drop their oldest entry (go-ethereum does the same).
#[derive(Debug)]
pub struct TxQueues {
    full: VecDeque<B256>,
    anns: VecDeque<TxAnnouncement>,
    max_full: usize,
    max_anns: usize,
}

impl TxQueues {
    /// Empty queues with the given caps.
    pub fn new(max_full: usize, max_anns: usize) -> Self {
        Self {
            full: VecDeque::new(),
            anns: VecDeque::new(),
            max_full: max_full.max(1),
            max_anns: max_anns.max(1),
        }
    }

    /// Queues `hash` for a full push; returns how many old entries were dropped.
    pub fn push_full(&mut self, hash: B256) -> usize {
        self.full.push_back(hash);
        let mut dropped = 0;
        while self.full.len() > self.max_full {
            self.full.pop_front();
            dropped += 1;
        }
        dropped
    }

    /// Queues an announcement; returns how many old entries were dropped.
    pub fn push_ann(&mut self, ann: TxAnnouncement) -> usize {
        self.anns.push_back(ann);
        let mut dropped = 0;
        while self.anns.len() > self.max_anns {
            self.anns.pop_front();
            dropped += 1;
        }
        dropped
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.full.is_empty() && self.anns.is_empty()
    }

    /// Queued full pushes.
    pub fn full_len(&self) -> usize {
        self.full.len()
    }

    /// Queued announcements.
    pub fn anns_len(&self) -> usize {
        self.anns.len()
    }

    /// Takes transactions for one Transactions message of about `max_bytes` (at least one
    /// transaction), skipping those the pool no longer has.
    pub fn take_full(&mut self, pool: &dyn TxPool, max_bytes: usize) -> Vec<Transaction> {
        let mut out = Vec::new();
        let mut bytes = 0usize;
        while bytes < max_bytes {
            let Some(hash) = self.full.pop_front() else {
                break;
            };
            let Some(PooledTransaction::Plain(tx)) = pool.get(&hash) else {
                continue;
            };
            bytes = bytes.saturating_add(tx.encoded_len());
            out.push(tx);
        }
        out
    }

    /// Takes announcements for one NewPooledTransactionHashes message of about `max_bytes`
    /// of hashes (go-ethereum counts 32 bytes per hash).
    pub fn take_anns(&mut self, max_bytes: usize) -> Vec<TxAnnouncement> {
        let n = (max_bytes / 32).max(1).min(self.anns.len());
        self.anns.drain(..n).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peers(n: u8) -> Vec<PeerId> {
        (0..n).map(|i| PeerId([i; 64])).collect()
    }

    #[test]
    fn direct_count_is_ceil_sqrt() {
        let got: Vec<usize> = [0, 1, 2, 4, 5, 9, 10, 16, 17, 50]
            .map(direct_count)
            .to_vec();
        assert_eq!(got, vec![0, 1, 2, 2, 3, 3, 4, 4, 5, 8]);
    }

    #[test]
    fn one_sender_always_takes_the_same_path() {
        let key = [7; 32];
        let all = peers(16);
        let a = direct_peers(&key, &all, b"sender-a");
        assert_eq!(a.len(), 4);
        assert_eq!(a, direct_peers(&key, &all, b"sender-a"));
        // Removing a peer that was not chosen does not change the choice.
        let unchosen = all.iter().find(|p| !a.contains(p)).copied().unwrap();
        let fewer: Vec<PeerId> = all.iter().copied().filter(|p| *p != unchosen).collect();
        let b = direct_peers(&key, &fewer, b"sender-a");
        assert!(b.is_subset(&a) || b.len() == a.len());
    }

    #[test]
    fn different_senders_and_keys_spread_over_peers() {
        let all = peers(16);
        let mut union = BTreeSet::new();
        for s in 0u8..32 {
            union.extend(direct_peers(&[1; 32], &all, &[s]));
        }
        assert!(union.len() >= 12, "{}", union.len());
        assert_ne!(
            direct_peers(&[1; 32], &all, b"s"),
            direct_peers(&[2; 32], &all, b"s")
        );
    }

    #[test]
    fn full_queues_drop_the_oldest() {
        let mut q = TxQueues::new(2, 2);
        assert_eq!(q.push_full([1; 32]), 0);
        q.push_full([2; 32]);
        assert_eq!(q.push_full([3; 32]), 1);
        assert_eq!(q.full_len(), 2);
        for i in 0..3 {
            q.push_ann(TxAnnouncement {
                tx_type: 0,
                size: 1,
                hash: [i; 32],
            });
        }
        let anns = q.take_anns(1 << 20);
        assert_eq!(
            anns.iter().map(|a| a.hash[0]).collect::<Vec<_>>(),
            vec![1, 2]
        );
    }
}
