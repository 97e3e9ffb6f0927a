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

    /// Remembers that block `hash`'s receipts alone exceed the eth message limit (eth/69
    /// cannot carry them), so [`ChainReader::missing_receipts`] stops listing the block and
    /// no peer is asked for them again, across restarts where the chain persists. Default:
    /// nothing is remembered.
    fn mark_receipts_too_large(&mut self, hash: &B256) {
        let _ = hash;
    }
}

/// A chain the protocol can both read and extend.
pub trait Chain: ChainReader + BlockImporter {}

impl<T: ChainReader + BlockImporter> Chain for T {}

/// Why a pool refused a transaction. Labels are stable (metrics use them); whether the
/// sender is at fault is [`TxRejectReason::is_peer_fault`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum TxRejectReason {
    /// Signed for another chain (or not replay-protected where that is required).
    ChainId,
    /// The signature does not recover a sender.
    Signature,
    /// The type is not enabled by the active fork, or not handled by the pool.
    TxType,
    /// Larger than the pool accepts.
    Oversized,
    /// Gas limit above the block gas limit (or the per-transaction cap).
    GasLimit,
    /// Gas limit below the intrinsic gas.
    IntrinsicGas,
    /// Gas limit below the EIP-7623 calldata floor.
    FloorDataGas,
    /// Contract creation init code above the EIP-3860 limit.
    InitCodeSize,
    /// Tip above the fee cap.
    TipAboveFeeCap,
    /// Nonce at its maximum (EIP-2681).
    NonceMax,
    /// A set-code transaction without authorizations.
    EmptyAuthList,
    /// A blob transaction without blobs, or with more than a transaction may carry.
    BlobCount,
    /// A blob transaction without its sidecar, or with one that does not match it.
    BlobSidecar,
    /// Tip (or blob fee cap) below the pool's minimum.
    Underpriced,
    /// Same sender and nonce as a pooled transaction, without the required fee bump.
    ReplacementUnderpriced,
    /// Nonce already used by the sender's account.
    NonceTooLow,
    /// Would leave a nonce gap where the pool does not queue (blob transactions).
    NonceGap,
    /// Value plus maximum fees exceed the sender's balance (with its other pooled txs).
    InsufficientFunds,
    /// The sender already has as many transactions as it may, or has transactions of the
    /// other kind (blob vs non-blob) pooled.
    AccountLimit,
    /// The pool is full of better-paying transactions.
    PoolFull,
    /// Anything else.
    Other,
}

impl TxRejectReason {
    /// Every reason, in label order for exporters.
    pub const ALL: [TxRejectReason; 21] = [
        TxRejectReason::ChainId,
        TxRejectReason::Signature,
        TxRejectReason::TxType,
        TxRejectReason::Oversized,
        TxRejectReason::GasLimit,
        TxRejectReason::IntrinsicGas,
        TxRejectReason::FloorDataGas,
        TxRejectReason::InitCodeSize,
        TxRejectReason::TipAboveFeeCap,
        TxRejectReason::NonceMax,
        TxRejectReason::EmptyAuthList,
        TxRejectReason::BlobCount,
        TxRejectReason::BlobSidecar,
        TxRejectReason::Underpriced,
        TxRejectReason::ReplacementUnderpriced,
        TxRejectReason::NonceTooLow,
        TxRejectReason::NonceGap,
        TxRejectReason::InsufficientFunds,
        TxRejectReason::AccountLimit,
        TxRejectReason::PoolFull,
        TxRejectReason::Other,
    ];

    /// A short snake_case label (`"intrinsic_gas"`).
    pub fn label(self) -> &'static str {
        match self {
            TxRejectReason::ChainId => "chain_id",
            TxRejectReason::Signature => "signature",
            TxRejectReason::TxType => "tx_type",
            TxRejectReason::Oversized => "oversized",
            TxRejectReason::GasLimit => "gas_limit",
            TxRejectReason::IntrinsicGas => "intrinsic_gas",
            TxRejectReason::FloorDataGas => "floor_data_gas",
            TxRejectReason::InitCodeSize => "init_code_size",
            TxRejectReason::TipAboveFeeCap => "tip_above_fee_cap",
            TxRejectReason::NonceMax => "nonce_max",
            TxRejectReason::EmptyAuthList => "empty_auth_list",
            TxRejectReason::BlobCount => "blob_count",
            TxRejectReason::BlobSidecar => "blob_sidecar",
            TxRejectReason::Underpriced => "underpriced",
            TxRejectReason::ReplacementUnderpriced => "replacement_underpriced",
            TxRejectReason::NonceTooLow => "nonce_too_low",
            TxRejectReason::NonceGap => "nonce_gap",
            TxRejectReason::InsufficientFunds => "insufficient_funds",
            TxRejectReason::AccountLimit => "account_limit",
            TxRejectReason::PoolFull => "pool_full",
            TxRejectReason::Other => "other",
        }
    }

    /// Whether a peer relaying such a transaction misbehaved. Transactions that are merely
    /// stale or unaffordable from our view of the state (nonce too low, funds, price, pool
    /// space) are not faults: an honest peer with another head may relay them. Transactions
    /// that no state can make valid (signature, chain, gas, sizes, sidecars) are.
    pub fn is_peer_fault(self) -> bool {
        !matches!(
            self,
            TxRejectReason::Underpriced
                | TxRejectReason::ReplacementUnderpriced
                | TxRejectReason::NonceTooLow
                | TxRejectReason::NonceGap
                | TxRejectReason::InsufficientFunds
                | TxRejectReason::AccountLimit
                | TxRejectReason::PoolFull
        )
    }
}

/// A refusal: its reason and a human-readable detail for logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxRejection {
    /// Why.
    pub reason: TxRejectReason,
    /// Details (values involved), for logs.
    pub detail: String,
}

impl TxRejection {
    /// A rejection for `reason` with `detail`.
    pub fn new(reason: TxRejectReason, detail: impl Into<String>) -> Self {
        Self {
            reason,
            detail: detail.into(),
        }
    }

    /// The verdict for this rejection: [`TxVerdict::Invalid`] when the reason is a peer
    /// fault, [`TxVerdict::Dropped`] otherwise.
    pub fn verdict(self) -> TxVerdict {
        if self.reason.is_peer_fault() {
            TxVerdict::Invalid(self)
        } else {
            TxVerdict::Dropped(self)
        }
    }
}

impl std::fmt::Display for TxRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.reason.label(), self.detail)
    }
}

/// What a pool says about a transaction offered to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxVerdict {
    /// Accepted and executable now (pending): the protocol propagates it.
    Added,
    /// Accepted but not executable yet (a nonce gap): kept, not propagated. The pool
    /// reports it through [`TxPool::take_promoted`] once the gap fills.
    Queued,
    /// Already in the pool (or recently seen): not the sender's fault.
    AlreadyKnown,
    /// Valid but not kept (stale nonce, underpriced, unaffordable, pool full): not the
    /// sender's fault.
    Dropped(TxRejection),
    /// Invalid (bad signature, wrong chain, malformed, impossible gas): the sender is
    /// penalised.
    Invalid(TxRejection),
}

impl TxVerdict {
    /// The rejection, for `Dropped` and `Invalid`.
    pub fn rejection(&self) -> Option<&TxRejection> {
        match self {
            TxVerdict::Dropped(r) | TxVerdict::Invalid(r) => Some(r),
            _ => None,
        }
    }
}

/// The transaction pool.
pub trait TxPool: Send {
    /// Whether the pool holds (or recently saw) `hash`.
    fn contains(&self, hash: &B256) -> bool;
    /// A pooled transaction in its network form.
    fn get(&self, hash: &B256) -> Option<PooledTransaction>;
    /// Offers a transaction received from `from` (or submitted locally with `None`).
    fn add(&mut self, tx: PooledTransaction, from: Option<PeerId>) -> TxVerdict;
    /// Up to `limit` pending (executable) transactions to announce to a newly connected
    /// peer. Queued (nonce-gapped) transactions are never listed.
    fn pending(&self, limit: usize) -> Vec<TxAnnouncement>;
    /// Forgets transactions included in `block` (after its import).
    fn on_block(&mut self, block: &Block);
    /// Hashes of queued transactions that became pending since the last call (a nonce gap
    /// filled, or a block advanced the sender's nonce), in promotion order, for the
    /// protocol to propagate. Pools without a queue return nothing.
    fn take_promoted(&mut self) -> Vec<B256> {
        Vec::new()
    }
}
