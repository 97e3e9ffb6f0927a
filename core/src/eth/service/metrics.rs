//! [`EthMetrics`]: plain counters the eth machine updates; the node exports them
//! (`eth_tx_announcements{kind="in"}` and so on).

use std::time::Duration;

use crate::eth::app::TxRejectReason;
use crate::eth::blockfetch::FetchStats;
use crate::eth::status::StatusError;
use crate::eth::sync::SyncStats;
use crate::eth::ForkIdError;

/// Upper bounds (milliseconds) of the latency histogram buckets; a last bucket counts
/// everything slower. Chosen around the fetcher's 500 ms wait and 5 s timeout.
pub const LATENCY_BUCKETS_MS: [u64; 7] = [50, 100, 250, 500, 1000, 2500, 5000];

/// A fixed-bucket latency histogram with its sum and count.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LatencyHistogram {
    /// Observations per bucket of [`LATENCY_BUCKETS_MS`], plus one for slower ones.
    pub buckets: [u64; 8],
    /// Sum of all observations.
    pub sum: Duration,
    /// Number of observations.
    pub count: u64,
}

impl LatencyHistogram {
    /// Records one observation.
    pub fn observe(&mut self, d: Duration) {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let idx = LATENCY_BUCKETS_MS
            .iter()
            .position(|&b| ms <= b)
            .unwrap_or(LATENCY_BUCKETS_MS.len());
        if let Some(b) = self.buckets.get_mut(idx) {
            *b += 1;
        }
        self.sum = self.sum.saturating_add(d);
        self.count += 1;
    }
}

/// Status rejections, by cause.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatusRejections {
    /// Another network id.
    pub network_id: u64,
    /// Version field or layout mismatch.
    pub version: u64,
    /// Another genesis.
    pub genesis: u64,
    /// Fork id: the remote must upgrade.
    pub fork_id_remote_stale: u64,
    /// Fork id: incompatible (or we must upgrade).
    pub fork_id_incompatible: u64,
    /// eth/69 block range malformed.
    pub block_range: u64,
    /// No Status within the handshake timeout.
    pub timeout: u64,
    /// Another message came first.
    pub not_status_first: u64,
}

impl StatusRejections {
    /// Counts one rejection for `err`.
    pub fn count(&mut self, err: &StatusError) {
        match err {
            StatusError::NetworkIdMismatch { .. } => self.network_id += 1,
            StatusError::VersionMismatch { .. } => self.version += 1,
            StatusError::GenesisMismatch => self.genesis += 1,
            StatusError::ForkId(ForkIdError::RemoteStale) => self.fork_id_remote_stale += 1,
            StatusError::ForkId(_) => self.fork_id_incompatible += 1,
            StatusError::InvalidBlockRange => self.block_range += 1,
        }
    }
}

/// Transactions the pool refused, by [`TxRejectReason`] (indexed as
/// [`TxRejectReason::ALL`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TxRejections {
    counts: [u64; TxRejectReason::ALL.len()],
}

impl TxRejections {
    /// Counts one refusal for `reason`.
    pub fn count(&mut self, reason: TxRejectReason) {
        if let Some(i) = TxRejectReason::ALL.iter().position(|r| *r == reason) {
            if let Some(c) = self.counts.get_mut(i) {
                *c += 1;
            }
        }
    }

    /// Refusals counted for `reason`.
    pub fn get(&self, reason: TxRejectReason) -> u64 {
        TxRejectReason::ALL
            .iter()
            .position(|r| *r == reason)
            .and_then(|i| self.counts.get(i).copied())
            .unwrap_or(0)
    }

    /// `(reason, count)` for every reason, in [`TxRejectReason::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (TxRejectReason, u64)> + '_ {
        TxRejectReason::ALL
            .iter()
            .copied()
            .zip(self.counts.iter().copied())
    }
}

/// Requests served, by type.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServedRequests {
    /// GetBlockHeaders.
    pub headers: u64,
    /// GetBlockBodies.
    pub bodies: u64,
    /// GetReceipts.
    pub receipts: u64,
    /// GetPooledTransactions.
    pub pooled_transactions: u64,
}

/// Every counter of the eth machine.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EthMetrics {
    /// Peers whose Status was accepted.
    pub handshakes_ok: u64,
    /// Peers refused during the handshake, by cause.
    pub status_rejected: StatusRejections,
    /// Messages that failed to decode.
    pub decode_errors: u64,
    /// Messages not allowed at that point (second Status, blocks after the merge).
    pub protocol_breaches: u64,

    /// Transaction hashes announced to us.
    pub tx_announcements_in: u64,
    /// ... of which we already had or were already fetching from that peer.
    pub tx_announcements_known: u64,
    /// ... of which were dropped because the peer exceeded its announcement allowance.
    pub tx_announcements_abuse: u64,
    /// GetPooledTransactions sent.
    pub tx_fetch_requests: u64,
    /// Requested hashes the peer did not deliver.
    pub tx_fetch_failed: u64,
    /// GetPooledTransactions that timed out.
    pub tx_fetch_timeouts: u64,
    /// Latency from a hash's first announcement to its delivery.
    pub tx_fetch_latency: LatencyHistogram,
    /// Transactions received in Transactions messages.
    pub txs_broadcast_in: u64,
    /// Transactions received in PooledTransactions messages.
    pub txs_fetched_in: u64,
    /// Received transactions the pool already had.
    pub txs_duplicate: u64,
    /// Received transactions the pool refused as invalid (the sender's fault).
    pub txs_invalid: u64,
    /// Transactions the pool refused (invalid or dropped; local ones included), by reason.
    pub tx_rejected: TxRejections,
    /// Transactions the pool accepted but queued (nonce gap): not propagated yet.
    pub txs_queued: u64,
    /// Queued transactions that became pending and were propagated.
    pub txs_promoted: u64,
    /// Transactions the pool accepted (local ones included).
    pub txs_added: u64,
    /// Delivered transactions that were not requested, or differ from their announcement.
    pub txs_unrequested: u64,
    /// Transactions sent in full.
    pub txs_sent: u64,
    /// Transaction hashes announced by us.
    pub tx_announcements_sent: u64,
    /// Queued transactions or announcements dropped because a peer's queue was full.
    pub tx_queue_dropped: u64,

    /// Blocks received in NewBlock.
    pub blocks_in: u64,
    /// Received blocks we already had.
    pub blocks_duplicate: u64,
    /// Blocks imported.
    pub blocks_imported: u64,
    /// Blocks refused (body mismatch or importer verdict).
    pub blocks_invalid: u64,
    /// Blocks whose parent is unknown.
    pub blocks_unknown_parent: u64,
    /// Block hashes announced to us.
    pub block_announcements_in: u64,
    /// Header/body requests sent for the block fetcher.
    pub block_fetch_requests: u64,
    /// Such requests that failed (timed out, unsendable, wrong answer type, peer gone).
    pub block_fetch_failed: u64,
    /// The block fetcher's own counters: announcements in / known / abuse, header and body
    /// requests, failures and timeouts, duplicates, announce→header and announce→body
    /// latency, import queue size (a snapshot taken at the end of every call).
    pub block_fetcher: FetchStats,

    /// The chain sync's counters: headers, bodies, receipts downloaded, requests, timeouts,
    /// faults (a snapshot taken at the end of every call).
    pub sync: SyncStats,
    /// Verified receipts the chain refused to store.
    pub sync_receipts_store_failed: u64,
    /// Receipts answers above the message limit, taken as a too-large sync failure.
    pub sync_receipts_too_large: u64,

    /// Requests served, by type.
    pub served: ServedRequests,
    /// Responses with a request id we never issued to that peer.
    pub unsolicited_responses: u64,
    /// Responses arriving after their request timed out.
    pub late_responses: u64,
    /// Requests (of any kind) that timed out.
    pub request_timeouts: u64,

    /// Gauge: transactions queued for full pushes, all peers.
    pub queued_txs: u64,
    /// Gauge: announcements queued, all peers.
    pub queued_tx_announcements: u64,
    /// Gauge: hashes in the fetcher (waiting, queued or in flight).
    pub fetcher_hashes: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_by_upper_bound() {
        let mut h = LatencyHistogram::default();
        h.observe(Duration::from_millis(50));
        h.observe(Duration::from_millis(501));
        h.observe(Duration::from_secs(60));
        assert_eq!(h.buckets, [1, 0, 0, 0, 1, 0, 0, 1]);
        assert_eq!(h.count, 3);
    }
}
