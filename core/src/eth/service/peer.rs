//! [`EthPeer`]: what the eth machine keeps about one connected peer.

use std::time::Instant;

use crate::eth::primitives::{B256, U256};
use crate::eth::version::EthVersion;

use super::broadcast::TxQueues;
use super::config::EthConfig;
use super::events::EthPeerInfo;
use super::known::KnownSet;

/// Where a peer is in its life on the eth protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Our Status is sent; theirs must arrive before `deadline`.
    AwaitingStatus {
        /// When the handshake times out.
        deadline: Instant,
    },
    /// Their Status was accepted at `since`.
    Ready {
        /// When.
        since: Instant,
    },
    /// We asked the host to disconnect it; everything it sends is ignored.
    Closing,
}

/// One peer on the eth protocol.
#[derive(Debug)]
pub struct EthPeer {
    /// Negotiated version.
    pub version: EthVersion,
    /// Handshake phase.
    pub phase: Phase,
    /// Transactions it has (sent by it, announced by it, or sent to it).
    pub known_txs: KnownSet,
    /// Blocks it has.
    pub known_blocks: KnownSet,
    /// Transactions and announcements waiting to be sent to it.
    pub queues: TxQueues,
    /// Its head hash (Status, NewBlock, BlockRangeUpdate).
    pub head_hash: Option<B256>,
    /// Its head number, when known.
    pub head_number: Option<u64>,
    /// Its total difficulty (eth/68 Status, NewBlock).
    pub total_difficulty: Option<U256>,
    /// Its served block range (eth/69).
    pub block_range: Option<(u64, u64)>,
}

impl EthPeer {
    /// A peer that negotiated `version` and owes us its Status before `deadline`.
    pub fn new(cfg: &EthConfig, version: EthVersion, deadline: Instant) -> Self {
        Self {
            version,
            phase: Phase::AwaitingStatus { deadline },
            known_txs: KnownSet::new(cfg.max_known_txs),
            known_blocks: KnownSet::new(cfg.max_known_blocks),
            queues: TxQueues::new(cfg.max_queued_txs, cfg.max_queued_tx_anns),
            head_hash: None,
            head_number: None,
            total_difficulty: None,
            block_range: None,
        }
    }

    /// True once its Status was accepted (and it is not being dropped).
    pub fn is_ready(&self) -> bool {
        matches!(self.phase, Phase::Ready { .. })
    }

    /// The handshake deadline, while one runs.
    pub fn handshake_deadline(&self) -> Option<Instant> {
        match self.phase {
            Phase::AwaitingStatus { deadline } => Some(deadline),
            _ => None,
        }
    }

    /// Records a newer head announced by the peer.
    pub fn saw_head(&mut self, hash: B256, number: u64) {
        if self.head_number.is_none_or(|n| number >= n) {
            self.head_hash = Some(hash);
            self.head_number = Some(number);
        }
    }

    /// The application's view.
    pub fn info(&self) -> EthPeerInfo {
        EthPeerInfo {
            version: self.version,
            ready: self.is_ready(),
            head_hash: self.head_hash,
            head_number: self.head_number,
            total_difficulty: self.total_difficulty,
            block_range: self.block_range,
            status_at: match self.phase {
                Phase::Ready { since } => Some(since),
                _ => None,
            },
        }
    }
}
