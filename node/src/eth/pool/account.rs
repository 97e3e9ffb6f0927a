//! One sender's transactions in nonce order, split into *pending* (the contiguous run from
//! the account's next nonce: executable now) and *queued* (after a gap). go-ethereum keeps
//! two lists (`legacypool` `pending`/`queue`); one ordered map with the length of its
//! executable prefix is the same thing and cannot disagree with itself.

use std::collections::BTreeMap;

use paxeer_p2p_core::eth::tx::PooledTransaction;
use paxeer_p2p_core::eth::B256;
use ruint::aliases::U256 as Wei;

use super::validate::Checked;

/// A pooled transaction with its checked facts.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The transaction in its network form.
    pub tx: PooledTransaction,
    /// Its hash.
    pub hash: B256,
    /// What validation found.
    pub info: Checked,
}

/// A sender's transactions.
#[derive(Clone, Debug, Default)]
pub struct Account {
    /// By nonce; every key is at least `base`.
    txs: BTreeMap<u64, Entry>,
    /// The account's next nonce, as last applied.
    base: u64,
    /// How many transactions from `base` on are contiguous (the pending prefix).
    pending: usize,
}

impl Account {
    /// An empty account whose next nonce is `base`.
    pub fn new(base: u64) -> Self {
        Account {
            txs: BTreeMap::new(),
            base,
            pending: 0,
        }
    }

    /// Transactions held.
    pub fn len(&self) -> usize {
        self.txs.len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.txs.is_empty()
    }

    /// Pending transactions.
    pub fn pending_len(&self) -> usize {
        self.pending
    }

    /// Queued transactions.
    pub fn queued_len(&self) -> usize {
        self.txs.len() - self.pending
    }

    /// The account's next nonce.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// The nonce after the pending run: the next executable nonce.
    pub fn next_nonce(&self) -> u64 {
        self.base
            .saturating_add(u64::try_from(self.pending).unwrap_or(u64::MAX))
    }

    /// Whether the account holds blob transactions (an account holds one kind only).
    pub fn is_blob(&self) -> Option<bool> {
        self.txs.values().next().map(|e| e.info.is_blob())
    }

    /// The entry at `nonce`.
    pub fn get(&self, nonce: u64) -> Option<&Entry> {
        self.txs.get(&nonce)
    }

    /// Whether the transaction at `nonce` is pending.
    pub fn is_pending(&self, nonce: u64) -> bool {
        nonce >= self.base && nonce < self.next_nonce()
    }

    /// Pending entries in nonce order.
    pub fn pending(&self) -> impl Iterator<Item = &Entry> {
        self.txs.values().take(self.pending)
    }

    /// Queued entries in nonce order.
    pub fn queued(&self) -> impl Iterator<Item = &Entry> {
        self.txs.values().skip(self.pending)
    }

    /// Every entry in nonce order.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.txs.values()
    }

    /// Sum of the costs of all held transactions except the one at `except`.
    pub fn spent(&self, except: Option<u64>) -> Wei {
        self.txs
            .iter()
            .filter(|(n, _)| Some(**n) != except)
            .fold(Wei::ZERO, |a, (_, e)| a.saturating_add(e.info.cost))
    }

    /// Inserts (or replaces) the entry at its nonce; returns the replaced one and the
    /// hashes that became pending besides the inserted one.
    pub fn insert(&mut self, entry: Entry) -> (Option<Entry>, Vec<B256>) {
        let nonce = entry.info.nonce;
        let old_next = self.next_nonce();
        let old = self.txs.insert(nonce, entry);
        let promoted = self.recount(old_next);
        let promoted = promoted
            .into_iter()
            .filter(|(n, _)| *n != nonce)
            .map(|(_, h)| h)
            .collect();
        (old, promoted)
    }

    /// Removes the entry at `nonce` (later ones of the pending run become queued).
    pub fn remove(&mut self, nonce: u64) -> Option<Entry> {
        let e = self.txs.remove(&nonce)?;
        let _ = self.recount(u64::MAX);
        Some(e)
    }

    /// Removes the highest-nonce entry that is queued (`queued`) or pending.
    pub fn pop_last(&mut self, queued: bool) -> Option<Entry> {
        let nonce = if queued {
            self.queued().last()?.info.nonce
        } else {
            self.pending().last()?.info.nonce
        };
        self.remove(nonce)
    }

    /// The account's nonce is now `base` (a block included its transactions): entries
    /// below it leave (returned), and the pending run is recounted; returns the hashes
    /// that became pending too.
    pub fn set_base(&mut self, base: u64) -> (Vec<Entry>, Vec<B256>) {
        if base <= self.base {
            return (Vec::new(), Vec::new());
        }
        let old_next = self.next_nonce();
        self.base = base;
        let keep = self.txs.split_off(&base);
        let stale = std::mem::replace(&mut self.txs, keep);
        let promoted = self.recount(old_next).into_iter().map(|(_, h)| h).collect();
        (stale.into_values().collect(), promoted)
    }

    /// Recomputes the pending prefix; returns `(nonce, hash)` of the pending entries at or
    /// above `old_next` (the first nonce that was not pending before the change).
    fn recount(&mut self, old_next: u64) -> Vec<(u64, B256)> {
        let mut n = 0usize;
        let mut expect = self.base;
        let mut promoted = Vec::new();
        for (nonce, e) in &self.txs {
            if *nonce != expect {
                break;
            }
            if *nonce >= old_next {
                promoted.push((*nonce, e.hash));
            }
            n += 1;
            expect = expect.saturating_add(1);
        }
        self.pending = n;
        promoted
    }
}
