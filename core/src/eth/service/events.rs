//! What the eth machine tells the application ([`EthEvent`], emitted through
//! `ProtocolContext::emit`) and what it answers when asked ([`EthNodeInfo`],
//! [`EthPeerInfo`]).

use std::time::Instant;

use crate::eth::forkid::ForkId;
use crate::eth::primitives::{B256, U256};
use crate::eth::status::StatusError;
use crate::eth::sync::SyncStatus;
use crate::eth::version::EthVersion;
use crate::types::PeerId;

/// An application event of the eth protocol (downcast `HostEvent::Protocol { event }` to it).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EthEvent {
    /// The peer's Status was accepted: it is ready for eth traffic.
    PeerReady {
        /// The peer.
        peer: PeerId,
        /// The negotiated version.
        version: EthVersion,
    },
    /// The pool accepted new transactions.
    TxsAdded {
        /// Their hashes.
        hashes: Vec<B256>,
        /// Who sent them (`None`: submitted locally).
        from: Option<PeerId>,
    },
    /// A block was imported.
    BlockImported {
        /// Its hash.
        hash: B256,
        /// Its number.
        number: u64,
        /// Who sent it (`None`: submitted locally).
        from: Option<PeerId>,
    },
    /// The peer's Status was refused; it is being disconnected.
    StatusRejected {
        /// The peer.
        peer: PeerId,
        /// Why.
        error: StatusError,
    },
    /// The peer sent no Status within the handshake timeout; it is being disconnected.
    HandshakeTimeout {
        /// The peer.
        peer: PeerId,
    },
    /// The chain sync started towards a peer's head (its header verified by hash).
    SyncStarted {
        /// Target number.
        number: u64,
        /// Target hash.
        hash: B256,
        /// Whose head it is.
        peer: PeerId,
    },
    /// The chain sync reached its target: our head is that block.
    SyncFinished {
        /// Head number.
        number: u64,
        /// Head hash.
        hash: B256,
    },
}

/// The local node's eth view (`admin_nodeInfo`'s `protocols.eth`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EthNodeInfo {
    /// Network id.
    pub network_id: u64,
    /// Genesis hash.
    pub genesis_hash: B256,
    /// Head block hash.
    pub head_hash: B256,
    /// Head block number.
    pub head_number: u64,
    /// Fork id at the head.
    pub fork_id: ForkId,
    /// Versions served, newest first.
    pub versions: Vec<EthVersion>,
    /// The chain sync: whether it runs, its target, progress and counters.
    pub sync: SyncStatus,
}

/// One peer's eth view (`admin_peers`' `protocols.eth`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EthPeerInfo {
    /// The negotiated version.
    pub version: EthVersion,
    /// True once its Status was accepted.
    pub ready: bool,
    /// The head it reported (Status or later announcements).
    pub head_hash: Option<B256>,
    /// Its head number when known (eth/69 range, or announced blocks).
    pub head_number: Option<u64>,
    /// Total difficulty from its eth/68 Status or NewBlock.
    pub total_difficulty: Option<U256>,
    /// The block range it serves (eth/69): earliest, latest.
    pub block_range: Option<(u64, u64)>,
    /// When its Status was accepted.
    pub status_at: Option<Instant>,
}
