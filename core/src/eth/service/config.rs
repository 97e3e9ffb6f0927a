//! [`EthConfig`]: what the eth protocol machine is told at construction, with go-ethereum's
//! defaults for every tunable.

use std::time::Duration;

use crate::eth::chainspec::ChainSpec;
use crate::eth::version::EthVersion;

/// How long a peer has to send its Status after the capability is negotiated
/// (go-ethereum `eth/protocols/eth/handshake.go` `handshakeTimeout`).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long an announced transaction waits for a broadcast before it is fetched
/// (go-ethereum `eth/fetcher/tx_fetcher.go` `txArriveTimeout`).
pub const TX_ARRIVE_TIMEOUT: Duration = Duration::from_millis(500);
/// How long a GetPooledTransactions may stay unanswered (go-ethereum `txFetchTimeout`).
pub const TX_FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Most hashes in one GetPooledTransactions (go-ethereum `maxTxRetrievals`).
pub const MAX_TX_RETRIEVALS: usize = 256;
/// Most announced bytes fetched in one GetPooledTransactions (go-ethereum
/// `maxTxRetrievalSize`, 128 KiB).
pub const MAX_TX_RETRIEVAL_BYTES: usize = 128 * 1024;
/// Most outstanding announcements kept per peer (go-ethereum `maxTxAnnounces`).
pub const MAX_TX_ANNOUNCES_PER_PEER: usize = 4096;
/// Largest transaction pushed in full; bigger ones are only announced (go-ethereum
/// `eth/handler.go` `txMaxBroadcastSize`, 4 KiB).
pub const TX_MAX_BROADCAST_BYTES: usize = 4096;
/// Transaction hashes remembered per peer as known to it (go-ethereum
/// `eth/protocols/eth/peer.go` `maxKnownTxs`).
pub const MAX_KNOWN_TXS: usize = 32_768;
/// Block hashes remembered per peer as known to it (go-ethereum `maxKnownBlocks`).
pub const MAX_KNOWN_BLOCKS: usize = 1024;
/// Transactions queued for a full push to one peer (go-ethereum `maxQueuedTxs`).
pub const MAX_QUEUED_TXS: usize = 4096;
/// Transaction announcements queued for one peer (go-ethereum `maxQueuedTxAnns`).
pub const MAX_QUEUED_TX_ANNS: usize = 4096;
/// Soft byte limit of one Transactions or NewPooledTransactionHashes message we send
/// (go-ethereum `eth/protocols/eth/broadcast.go` `maxTxPacketSize`, 100 KiB).
pub const MAX_TX_PACKET_BYTES: usize = 100 * 1024;
/// Head movement (in blocks) after which eth/69 peers get a BlockRangeUpdate (go-ethereum
/// `eth/handler.go` sends one every 32 blocks, EIP-7642's suggestion).
pub const BLOCK_RANGE_UPDATE_BLOCKS: u64 = 32;

/// What the eth protocol machine needs to know; build with [`EthConfig::new`] and adjust.
#[derive(Clone, Debug)]
pub struct EthConfig {
    /// The chain: genesis, fork schedule, whether blocks are still gossiped.
    pub spec: ChainSpec,
    /// Network id sent and required in Status (defaults to the spec's).
    pub network_id: u64,
    /// Whether NewBlock/NewBlockHashes are sent (pre-merge networks only).
    pub gossip_blocks: bool,
    /// Versions served, newest first (default eth/69 then eth/68). Must not be empty.
    pub versions: Vec<EthVersion>,
    /// See [`HANDSHAKE_TIMEOUT`].
    pub handshake_timeout: Duration,
    /// See [`TX_ARRIVE_TIMEOUT`].
    pub tx_arrive_timeout: Duration,
    /// See [`TX_FETCH_TIMEOUT`].
    pub tx_fetch_timeout: Duration,
    /// See [`MAX_TX_RETRIEVALS`].
    pub max_tx_retrievals: usize,
    /// See [`MAX_TX_RETRIEVAL_BYTES`].
    pub max_tx_retrieval_bytes: usize,
    /// See [`MAX_TX_ANNOUNCES_PER_PEER`].
    pub max_tx_announces_per_peer: usize,
    /// See [`TX_MAX_BROADCAST_BYTES`].
    pub tx_max_broadcast_bytes: usize,
    /// See [`MAX_KNOWN_TXS`].
    pub max_known_txs: usize,
    /// See [`MAX_KNOWN_BLOCKS`].
    pub max_known_blocks: usize,
    /// See [`MAX_QUEUED_TXS`].
    pub max_queued_txs: usize,
    /// See [`MAX_QUEUED_TX_ANNS`].
    pub max_queued_tx_anns: usize,
    /// See [`MAX_TX_PACKET_BYTES`].
    pub max_tx_packet_bytes: usize,
    /// See [`BLOCK_RANGE_UPDATE_BLOCKS`].
    pub block_range_update_blocks: u64,
    /// Whether the chain sync runs (download headers, bodies and receipts from peers whose
    /// advertised head is beyond ours, and receipts we lack). On by default.
    pub sync: bool,
}

impl EthConfig {
    /// The defaults for `spec`: its network id, blocks gossiped unless the chain is past the
    /// merge, both versions, go-ethereum's limits.
    pub fn new(spec: ChainSpec) -> Self {
        Self {
            network_id: spec.network_id,
            gossip_blocks: !spec.post_merge,
            spec,
            versions: EthVersion::ALL.to_vec(),
            handshake_timeout: HANDSHAKE_TIMEOUT,
            tx_arrive_timeout: TX_ARRIVE_TIMEOUT,
            tx_fetch_timeout: TX_FETCH_TIMEOUT,
            max_tx_retrievals: MAX_TX_RETRIEVALS,
            max_tx_retrieval_bytes: MAX_TX_RETRIEVAL_BYTES,
            max_tx_announces_per_peer: MAX_TX_ANNOUNCES_PER_PEER,
            tx_max_broadcast_bytes: TX_MAX_BROADCAST_BYTES,
            max_known_txs: MAX_KNOWN_TXS,
            max_known_blocks: MAX_KNOWN_BLOCKS,
            max_queued_txs: MAX_QUEUED_TXS,
            max_queued_tx_anns: MAX_QUEUED_TX_ANNS,
            max_tx_packet_bytes: MAX_TX_PACKET_BYTES,
            block_range_update_blocks: BLOCK_RANGE_UPDATE_BLOCKS,
            sync: true,
        }
    }
}
