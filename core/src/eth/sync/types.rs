//! What the chain sync asks for, tells its driver, and reports: [`SyncId`], [`SyncRequest`],
//! [`SyncQuery`], [`SyncEvent`], [`SyncFault`], [`RequestFailure`], [`PeerRange`],
//! [`SyncStatus`], [`SyncStats`].

use crate::eth::block::Block;
use crate::eth::primitives::B256;
use crate::eth::receipts::Receipt;
use crate::types::PeerId;

/// The sync's own id for one of its requests (the driver maps it to a wire request id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SyncId(pub u64);

/// What one request asks a peer for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncQuery {
    /// `amount` canonical headers from number `start`, ascending, no skip.
    Headers {
        /// First block number.
        start: u64,
        /// How many.
        amount: u64,
    },
    /// The one header whose hash is `hash` (the peer's announced head: the sync's anchor).
    Anchor {
        /// The announced head hash.
        hash: B256,
    },
    /// Bodies of these blocks, in order.
    Bodies {
        /// Block hashes.
        hashes: Vec<B256>,
    },
    /// Receipts of these blocks, in order.
    Receipts {
        /// Block hashes.
        hashes: Vec<B256>,
    },
    /// The rest of one block's receipts, from index `first_index` on (eth/70 paging: asked
    /// only of the peer that sent the first page, so only of an eth/70 peer).
    ReceiptsRest {
        /// Block hash.
        hash: B256,
        /// Receipts already held: the first one wanted.
        first_index: u64,
    },
}

/// A request the driver must send: `query` to `peer`, answered through the `on_*` input of
/// its kind with the same `id`, or failed through `on_request_failed`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncRequest {
    /// The sync's id for it.
    pub id: SyncId,
    /// Who to ask.
    pub peer: PeerId,
    /// What to ask.
    pub query: SyncQuery,
}

/// What the driver must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncEvent {
    /// Import this block (header linked to our chain, body checked against it), then call
    /// `on_import_result` before polling the next event.
    Import {
        /// The block.
        block: Box<Block>,
        /// Who delivered its header.
        from: PeerId,
    },
    /// Store these receipts of block `hash`: their trie root equals the header's receipts
    /// root.
    StoreReceipts {
        /// Block hash.
        hash: B256,
        /// Block number.
        number: u64,
        /// The receipts, in transaction order.
        receipts: Vec<Receipt>,
        /// Who delivered them.
        from: PeerId,
    },
    /// Block `hash`'s receipts alone exceed the eth message limit: remember it, so they are
    /// not asked for again (`BlockImporter::mark_receipts_too_large`).
    ReceiptsTooLarge {
        /// Block hash.
        hash: B256,
    },
    /// `peer` answered with invalid data; its work went back to the queue.
    Penalize {
        /// The peer.
        peer: PeerId,
        /// What it did.
        fault: SyncFault,
    },
    /// A sync towards `peer`'s head started.
    Started {
        /// Target block number.
        number: u64,
        /// Target block hash.
        hash: B256,
        /// Whose head it is.
        peer: PeerId,
    },
    /// Our head reached the target.
    Finished {
        /// Head number.
        number: u64,
        /// Head hash.
        hash: B256,
    },
}

/// Why a peer's answer was refused. Each is the peer's fault: an honest peer never sends it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SyncFault {
    /// More items than asked, or headers for other numbers than asked.
    #[error("answer does not match the request")]
    Unrequested,
    /// Headers that do not link (parent hash, number, timestamp) to each other or to ours.
    #[error("headers do not link")]
    BrokenLinkage,
    /// The header of the announced head hash is not that hash or number.
    #[error("head header does not match the announced head")]
    WrongAnchor,
    /// A body whose roots do not match its header.
    #[error("body does not match its header")]
    BodyMismatch,
    /// Receipts whose trie root is not the header's receipts root.
    #[error("receipts do not match the receipts root")]
    ReceiptsMismatch,
    /// An eth/70 page of a block's receipts (last list marked incomplete) that cannot be
    /// part of the block: empty, more receipts than transactions, or more log data than the
    /// block's gas pays for (EIP-7975).
    #[error("partial receipt list breaks the block's limits")]
    BadReceiptPage,
    /// The importer refused a block whose header this peer delivered.
    #[error("block refused by the importer")]
    InvalidBlock,
}

/// Why a request will not be answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestFailure {
    /// Its timeout passed (the driver penalises the peer).
    Timeout,
    /// The peer disconnected.
    PeerGone,
    /// The driver could not send it (no budget, tracker full): not the peer's fault.
    Unsent,
    /// The answer was above the eth message limit. eth/69 cannot carry one block's receipts
    /// beyond 10 MiB (eth/70's paging exists for them) and go-ethereum sends such an
    /// answer anyway: not a fault; the blocks are asked for one at a time, and a block too
    /// large alone is left for a version that pages receipts.
    TooLarge,
}

/// A peer's advertised chain, from its Status and BlockRangeUpdates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerRange {
    /// Earliest block it serves (eth/69; 0 for eth/68).
    pub earliest: u64,
    /// Its head number, when known (eth/69 always; eth/68 once its head header is fetched).
    pub latest: Option<u64>,
    /// Its head hash.
    pub head_hash: B256,
}

/// Download counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncStats {
    /// Headers accepted (linked to our chain).
    pub headers: u64,
    /// Bodies accepted (checked against their headers, empty ones included).
    pub bodies: u64,
    /// Blocks whose receipts were verified and handed over for storage.
    pub receipts: u64,
    /// Blocks imported through the sync.
    pub imported: u64,
    /// Header requests sent (anchors included).
    pub header_requests: u64,
    /// Body requests sent.
    pub body_requests: u64,
    /// Receipt requests sent.
    pub receipt_requests: u64,
    /// Requests that timed out.
    pub timeouts: u64,
    /// Answers refused as invalid ([`SyncFault`]s).
    pub faults: u64,
    /// Requested items a peer did not deliver (short or empty answers).
    pub undelivered: u64,
    /// Syncs that reached their target.
    pub finished: u64,
    /// Blocks whose receipts alone exceed the message limit (see
    /// [`RequestFailure::TooLarge`]): given up until receipts can be paged.
    pub receipts_too_large: u64,
}

/// The sync's state at a glance (`admin_nodeInfo`, metrics).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncStatus {
    /// Whether a target is being synced towards.
    pub syncing: bool,
    /// The target: number and hash of a peer's head.
    pub target: Option<(u64, B256)>,
    /// Highest header linked to our chain.
    pub highest_header: u64,
    /// Blocks whose receipts are wanted and not yet stored.
    pub receipts_wanted: u64,
    /// Requests in flight.
    pub in_flight: u64,
    /// Counters.
    pub stats: SyncStats,
}
