//! A bounded in-memory transaction pool: checks what it is offered (chain id, signature,
//! blob sidecars), keeps at most a fixed number of transactions (oldest evicted first), and
//! remembers recently seen hashes so re-deliveries are "already known", not faults.

use std::collections::{BTreeMap, VecDeque};

use paxeer_p2p_core::eth::app::{TxPool, TxVerdict};
use paxeer_p2p_core::eth::block::Block;
use paxeer_p2p_core::eth::messages::TxAnnouncement;
use paxeer_p2p_core::eth::tx::{PooledTransaction, Transaction};
use paxeer_p2p_core::eth::B256;
use paxeer_p2p_core::types::PeerId;

/// Transactions kept (go-ethereum's legacy pool keeps 4096 pending + 1024 queued by default).
pub const MAX_POOL_TXS: usize = 4096;
/// Hashes remembered after eviction or inclusion, so late copies are not re-added.
pub const MAX_SEEN: usize = 32_768;

/// The embedded pool.
#[derive(Debug)]
pub struct MemoryTxPool {
    chain_id: u64,
    txs: BTreeMap<B256, PooledTransaction>,
    order: VecDeque<B256>,
    seen: BTreeMap<B256, ()>,
    seen_order: VecDeque<B256>,
    max: usize,
}

impl MemoryTxPool {
    /// A pool for chain `chain_id` holding at most `max` transactions.
    pub fn new(chain_id: u64, max: usize) -> Self {
        Self {
            chain_id,
            txs: BTreeMap::new(),
            order: VecDeque::new(),
            seen: BTreeMap::new(),
            seen_order: VecDeque::new(),
            max: max.max(1),
        }
    }

    /// Transactions held.
    pub fn len(&self) -> usize {
        self.txs.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.txs.is_empty()
    }

    fn remember(&mut self, hash: B256) {
        if self.seen.insert(hash, ()).is_none() {
            self.seen_order.push_back(hash);
            while self.seen_order.len() > MAX_SEEN {
                if let Some(old) = self.seen_order.pop_front() {
                    self.seen.remove(&old);
                }
            }
        }
    }

    fn check(&self, tx: &PooledTransaction) -> Result<(), String> {
        let inner = tx.transaction();
        if let (Transaction::Eip4844(_), PooledTransaction::Plain(_)) = (&inner, tx) {
            return Err("blob transaction without its sidecar".into());
        }
        match inner.chain_id() {
            Some(id) if id != self.chain_id => {
                return Err(format!("chain id {id}, want {}", self.chain_id))
            }
            _ => {}
        }
        inner
            .recover_sender()
            .map(|_| ())
            .map_err(|e| format!("signature: {e}"))
    }
}

impl TxPool for MemoryTxPool {
    fn contains(&self, hash: &B256) -> bool {
        self.txs.contains_key(hash) || self.seen.contains_key(hash)
    }

    fn get(&self, hash: &B256) -> Option<PooledTransaction> {
        self.txs.get(hash).cloned()
    }

    fn add(&mut self, tx: PooledTransaction, _from: Option<PeerId>) -> TxVerdict {
        let hash = tx.hash();
        if self.contains(&hash) {
            return TxVerdict::AlreadyKnown;
        }
        if let Err(why) = self.check(&tx) {
            return TxVerdict::Invalid(why);
        }
        while self.txs.len() >= self.max {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            self.txs.remove(&old);
            self.remember(old);
        }
        self.txs.insert(hash, tx);
        self.order.push_back(hash);
        TxVerdict::Added
    }

    fn pending(&self, limit: usize) -> Vec<TxAnnouncement> {
        self.order
            .iter()
            .rev()
            .take(limit)
            .filter_map(|h| self.txs.get(h))
            .map(TxAnnouncement::of)
            .collect()
    }

    fn on_block(&mut self, block: &Block) {
        for tx in &block.body.transactions {
            let hash = tx.hash();
            if self.txs.remove(&hash).is_some() {
                self.order.retain(|h| *h != hash);
            }
            self.remember(hash);
        }
    }
}
