//! What goes in and out of the fetcher: request ids, requests, events, faults and reasons.

use crate::eth::block::Block;
use crate::eth::primitives::B256;
use crate::types::PeerId;

/// The fetcher's id for one of its requests. The driver sends the request under its own wire
/// request id and hands this id back with the response (or with the failure).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FetchId(pub u64);

/// A request the driver must send to a peer (as `GetBlockHeaders` / `GetBlockBodies`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FetchRequest {
    /// `GetBlockHeaders { origin: Hash(hash), amount: 1, skip: 0, reverse: false }`.
    Headers {
        /// Hand back with the answer ([`super::BlockFetcher::on_headers`]).
        id: FetchId,
        /// Whom to ask.
        peer: PeerId,
        /// The announced block.
        hash: B256,
    },
    /// `GetBlockBodies(hashes)`.
    Bodies {
        /// Hand back with the answer ([`super::BlockFetcher::on_bodies`]).
        id: FetchId,
        /// Whom to ask.
        peer: PeerId,
        /// Blocks whose headers we hold, at most [`super::MAX_BODIES_PER_REQUEST`].
        hashes: Vec<B256>,
    },
}

impl FetchRequest {
    /// The request's id.
    pub fn id(&self) -> FetchId {
        match self {
            FetchRequest::Headers { id, .. } | FetchRequest::Bodies { id, .. } => *id,
        }
    }

    /// The peer to ask.
    pub fn peer(&self) -> &PeerId {
        match self {
            FetchRequest::Headers { peer, .. } | FetchRequest::Bodies { peer, .. } => peer,
        }
    }
}

/// What a peer did wrong. Each maps to a reputation penalty in the protocol machine; none is
/// caused by our own state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, thiserror::Error)]
#[non_exhaustive]
pub enum FetchFault {
    /// A header answering a request by hash has another hash.
    #[error("header does not match the requested hash")]
    HeaderMismatch,
    /// The header is the one asked for, but its number is not the one the peer announced.
    #[error("announced number differs from the header's")]
    WrongNumber,
    /// A body (fetched or broadcast) does not belong to its header (roots, uncles hash or
    /// withdrawals differ).
    #[error("body does not match its header")]
    BodyMismatch,
    /// A response to a request we never sent to this peer, or more items than asked for.
    #[error("unrequested response")]
    Unrequested,
    /// More than [`super::HASH_LIMIT_PER_PEER`] hashes outstanding from one peer.
    #[error("announcement flood")]
    AnnounceFlood,
    /// More than [`super::BLOCK_LIMIT_PER_PEER`] queued blocks from one peer.
    #[error("block broadcast flood")]
    BlockFlood,
    /// The importer rejected a block this peer delivered.
    #[error("invalid block")]
    InvalidBlock,
}

/// Why the fetcher let go of a block (or of a hash it was fetching).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DiscardReason {
    /// More than [`super::MAX_UNCLE_DIST_BLOCKS`] behind our head.
    TooOld,
    /// More than [`super::MAX_QUEUE_DIST_BLOCKS`] ahead of our head.
    TooFar,
    /// Every announcer was tried (or left) without delivering it.
    NoSource,
    /// The import queue was full and this block was the highest one.
    QueueFull,
    /// The importer rejected it.
    Invalid,
    /// Its parent was rejected by the importer.
    InvalidAncestor,
}

/// What the fetcher tells the driver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FetchEvent {
    /// Import this block now and report the outcome with
    /// [`super::BlockFetcher::on_import_result`]. Emitted in block-number order; the parent
    /// is our head, a recent head or import, or an earlier `Import`.
    Import {
        /// The complete block, its body checked against its header (boxed: a block is far
        /// larger than the other events).
        block: Box<Block>,
        /// Who delivered it (to penalise if the importer rejects it).
        from: PeerId,
    },
    /// Lower this peer's reputation.
    Penalize {
        /// The offender.
        peer: PeerId,
        /// What it did.
        reason: FetchFault,
    },
    /// A block we handed over was imported: announce it to peers (NewBlockHashes).
    Propagate {
        /// Block hash.
        hash: B256,
        /// Block number.
        number: u64,
    },
    /// A block or fetch was dropped (for logs and metrics).
    Discarded {
        /// Block hash.
        hash: B256,
        /// Why.
        why: DiscardReason,
    },
}
