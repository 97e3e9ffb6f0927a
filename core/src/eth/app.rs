//! What the eth protocol needs from the embedding node: read access to the chain, a
//! transaction pool, and a block importer. Synchronous and I/O-free from the protocol's
//! point of view: an implementation may keep data on disk, but a call returns its answer.
//! The node ships an embedded default of each (`node/`), so the daemon works alone.

use crate::types::PeerId;

use super::block::{Block, BlockBody, Header};
use super::messages::TxAnnouncement;
use super::primitives::{B256, EMPTY_ROOT_HASH, U256};
use super::receipts::Receipt;
use super::tx::PooledTransaction;

/// The local chain's head, as Status and BlockRangeUpdate report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainHead {
    /// Head block hash.
    pub hash: B256,
    /// Head block number.
    pub number: u64,
    /// Head block timestamp (for time-based forks in the fork id).
    pub timestamp: u64,
    /// Total difficulty at the head (eth/68 Status only).
    pub total_difficulty: U256,
}

/// Read access to the local chain, for the Status handshake and for serving requests.
pub trait ChainReader: Send {
    /// The current head.
    fn head(&self) -> ChainHead;
    /// The earliest block whose body and receipts are available (eth/69 Status).
    fn earliest(&self) -> u64;
    /// A canonical header by hash.
    fn header_by_hash(&self, hash: &B256) -> Option<Header>;
    /// A canonical header by number.
    fn header_by_number(&self, number: u64) -> Option<Header>;
    /// A block body by block hash.
    fn body(&self, hash: &B256) -> Option<BlockBody>;
    /// A block's receipts by block hash.
    fn receipts(&self, hash: &B256) -> Option<Vec<Receipt>>;
    /// The canonical headers numbered `from..from + scan` (clamped to the head), ascending,
    /// of blocks whose receipts we lack: receipts cannot be computed without execution, so
    /// the chain sync fetches them from peers. The default asks [`receipts`](Self::receipts)
    /// for every block whose receipts root is not the empty root; a store that can tell
    /// presence more cheaply overrides it.
    fn missing_receipts(&self, from: u64, scan: u64) -> Vec<Header> {
        let head = self.head().number;
        let end = from.saturating_add(scan).min(head.saturating_add(1));
        (from..end)
            .filter_map(|n| self.header_by_number(n))
            .filter(|h| h.receipts_root != EMPTY_ROOT_HASH && self.receipts(&h.hash()).is_none())
            .collect()
    }
}

/// The outcome of importing a block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportResult {
    /// Imported; `new_head` when it became the head.
    Imported {
        /// Whether the head moved to this block.
        new_head: bool,
    },
    /// Already in the chain.
    AlreadyKnown,
    /// Its parent is unknown; it may be retried once the parent arrives.
    UnknownParent,
    /// Invalid: whoever sent it misbehaved.
    Invalid(String),
}

/// Hands complete, body-checked blocks to the chain.
pub trait BlockImporter: Send {
    /// Imports `block` (already checked against its header: roots and uncles hash).
    fn import(&mut self, block: Block) -> ImportResult;
    /// Stores the receipts of block `hash`, already checked against its header's receipts
    /// root by the caller. The default keeps nothing and says so.
    fn put_receipts(&mut self, hash: &B256, receipts: Vec<Receipt>) -> Result<(), String> {
        let _ = (hash, receipts);
        Err("this chain does not store receipts".into())
    }
}

/// A chain the protocol can both read and extend.
pub trait Chain: ChainReader + BlockImporter {}

impl<T: ChainReader + BlockImporter> Chain for T {}

/// What a pool says about a transaction offered to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxVerdict {
    /// Accepted as new.
    Added,
    /// Already in the pool (or recently seen): not the sender's fault.
    AlreadyKnown,
    /// Valid but not kept (pool full, underpriced): not the sender's fault.
    Dropped,
    /// Invalid (bad signature, wrong chain, malformed): the sender is penalised.
    Invalid(String),
}

/// The transaction pool.
pub trait TxPool: Send {
    /// Whether the pool holds (or recently saw) `hash`.
    fn contains(&self, hash: &B256) -> bool;
    /// A pooled transaction in its network form.
    fn get(&self, hash: &B256) -> Option<PooledTransaction>;
    /// Offers a transaction received from `from` (or submitted locally with `None`).
    fn add(&mut self, tx: PooledTransaction, from: Option<PeerId>) -> TxVerdict;
    /// Up to `limit` pending transactions to announce to a newly connected peer.
    fn pending(&self, limit: usize) -> Vec<TxAnnouncement>;
    /// Forgets transactions included in `block` (after its import).
    fn on_block(&mut self, block: &Block);
}
