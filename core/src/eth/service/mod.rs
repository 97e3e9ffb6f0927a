//! The eth protocol machine ([`EthProtocol`]): Status handshake, request serving, transaction
//! propagation and fetching, block propagation, eth/69 block ranges. Sans-IO: it is a
//! [`Protocol`] the host drives; chain data and the pool come from the node through the
//! [`Chain`] and [`TxPool`] traits. go-ethereum `eth/` is the behavioural reference.
//!
//! Files (one job each):
//! - `config.rs`: [`EthConfig`] and go-ethereum's defaults.
//! - `peer.rs`: per-peer state (phase, known sets, send queues).
//! - `handshake.rs`: our Status and the check of theirs.
//! - `tracker.rs`: [`tracker::RequestTracker`], request ids, adaptive timeouts, matching.
//! - `serve.rs`: answers to GetBlockHeaders/Bodies/Receipts/PooledTransactions.
//! - `broadcast.rs`: who gets a transaction in full, who its hash; per-peer queues.
//! - `txfetcher.rs`: [`txfetcher::TxFetcher`], announcements → GetPooledTransactions.
//! - `txs.rs`: the transaction messages and the pool.
//! - `blocks.rs`: NewBlock/NewBlockHashes into the block fetcher, block import and
//!   propagation.
//! - `sync.rs`: drives the [`ChainSync`](crate::eth::sync::ChainSync): peers' ranges in,
//!   its header/body/receipt requests out, answers back, imports and receipt storage.
//! - `fetch_blocks.rs`: drives the [`BlockFetcher`](crate::eth::blockfetch::BlockFetcher):
//!   its requests on the wire, the answers back, its events (imports, penalties).
//! - `known.rs`, `metrics.rs`, `events.rs`, `enr.rs`: bounded sets, counters, application
//!   events, the EIP-2124 ENR entry and discovery filter.
//!
//! # Driving it
//! Every input (`on_connected`, `on_message`, `on_disconnected`, `handle_timeout`, and the
//! commands [`EthProtocol::submit_transactions`] / [`EthProtocol::submit_block`], called
//! through `Host::with_protocol`) ends by scheduling transaction fetches, flushing the
//! per-peer send queues as far as the call's action budget allows, and sending a
//! BlockRangeUpdate when due. What did not fit makes [`Protocol::poll_timeout`] return the
//! current time, so the host calls `handle_timeout` again at once. Application events are
//! [`EthEvent`]s.
//!
//! # Penalties
//! Undecodable messages, a non-Status first message, a second Status, blocks on a merged
//! chain, a blob transaction or duplicate hashes in one transaction message, a blob
//! transaction delivered without its sidecar or with a mismatched one, deliveries that
//! contradict their announcement: `BadMessage` and disconnect (`SubprotocolError`, as
//! go-ethereum's handler errors become); what the peer was asked for is then fetched from
//! another peer that announced it. Status mismatches: disconnect with
//! `StatusError::disconnect_reason` and `BadProtocol` (the peer is on another chain: never
//! worth redialing soon). Responses with an unknown id: `BadMessage`; late ones: a small
//! penalty. Invalid transactions (the pool's verdict says the sender is at fault: bad
//! signature, chain, gas, sizes; not stale nonces, price or funds): `BadTransactions`, once
//! per message, without a disconnect (go-ethereum disconnects for none of these); invalid blocks (importer verdict) and
//! blocks whose body does not match their header: `BadBlock`; a header other than the one
//! asked for, a wrong announced number, more items than asked: `BadMessage`; block
//! announcement or broadcast floods: `BadAnnouncement`; request timeouts: `Timeout`.

pub mod broadcast;
pub mod config;
pub mod enr;
pub mod events;
pub mod known;
pub mod metrics;
pub mod serve;
pub mod tracker;
pub mod txfetcher;

mod blocks;
mod fetch_blocks;
mod handshake;
mod peer;
mod sync;
mod txs;

#[cfg(test)]
mod block_tests;
#[cfg(test)]
mod serve_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tx_tests;

use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

use crate::eth::app::{Chain, ImportResult, TxPool, TxVerdict};
use crate::eth::block::Block;
use crate::eth::blockfetch::{BlockFetcher, FetchId, FetchRequest};
use crate::eth::forkid::ForkFilter;
use crate::eth::messages::{id, EthMessage};
use crate::eth::sync::{ChainSync, RequestFailure, SyncId, SyncStatus};
use crate::eth::version::{EthVersion, ETH_PROTOCOL_NAME};
use crate::eth::PooledTransaction;
use crate::eth::MAX_MESSAGE_BYTES;
use crate::p2p::{Capability, DisconnectReason, ProtocolSpec};
use crate::peers::{ReputationChange, REPUTATION_UNIT};
use crate::protocol::{PeerInfo, Protocol, ProtocolContext};
use crate::rng::MachineRng;
use crate::types::{PeerId, Seed};

pub use config::EthConfig;
pub use enr::{enr_entry, node_filter};
pub use events::{EthEvent, EthNodeInfo, EthPeerInfo};
pub use metrics::EthMetrics;

use peer::{EthPeer, Phase};
use tracker::{Fulfil, RequestTracker};
use txfetcher::{FetcherLimits, TxFetcher};

/// Actions each call keeps in reserve after flushing queues, so the reports and
/// disconnects that follow still fit in the context's budget.
const RESERVED_ACTIONS: usize = 16;
/// Penalty for a response that arrives after its request timed out: the peer is slow, not
/// malicious (go-ethereum only counts these), so a quarter unit.
pub(super) const LATE_RESPONSE_PENALTY: ReputationChange =
    ReputationChange::Other(-REPUTATION_UNIT / 4);
/// Penalty for delivering transactions nobody asked for in a matched response.
const UNREQUESTED_TXS_PENALTY: ReputationChange = ReputationChange::Other(-4 * REPUTATION_UNIT);

/// What a request in flight was for.
#[derive(Clone, Debug)]
enum RequestKind {
    /// GetPooledTransactions from the tx fetcher.
    PooledTxs,
    /// GetBlockHeaders for one announced block, on behalf of the block fetcher.
    BlockHeader {
        /// The block fetcher's id for the request.
        fetch: FetchId,
    },
    /// GetBlockBodies for fetched headers, on behalf of the block fetcher.
    BlockBodies {
        /// The block fetcher's id for the request.
        fetch: FetchId,
    },
    /// Any request of the chain sync (headers, anchor, bodies, receipts).
    Sync {
        /// The sync's id for the request.
        id: SyncId,
    },
}

/// The eth/68 + eth/69 protocol machine. See the module documentation for how it is driven.
///
/// Getters: [`node_info`](Self::node_info), [`peer_info`](Self::peer_info),
/// [`metrics`](Self::metrics), [`chain`](Self::chain), [`pool`](Self::pool). Commands:
/// [`submit_transactions`](Self::submit_transactions),
/// [`submit_block`](Self::submit_block). Inputs and outputs: the [`Protocol`] methods.
pub struct EthProtocol {
    cfg: EthConfig,
    chain: Box<dyn Chain>,
    pool: Box<dyn TxPool>,
    fork_filter: ForkFilter,
    /// Key of the keyed hash choosing full-broadcast peers (from the seed).
    broadcast_key: [u8; 32],
    peers: BTreeMap<PeerId, EthPeer>,
    tracker: RequestTracker<RequestKind>,
    fetcher: TxFetcher,
    /// The block fetcher and import queue (NewBlock / NewBlockHashes).
    blocks: BlockFetcher,
    /// Block fetcher requests not sent yet because the call's action budget ran out.
    held_block_requests: VecDeque<FetchRequest>,
    /// The chain sync (headers, bodies, receipts from peers' advertised ranges).
    sync: ChainSync,
    /// Head number of our last BlockRangeUpdate (or of the start).
    last_range_update: u64,
    /// Set when queued output did not fit in the last call's budget.
    flush_due: Option<Instant>,
    metrics: EthMetrics,
}

impl std::fmt::Debug for EthProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EthProtocol")
            .field("peers", &self.peers.len())
            .field("in_flight", &self.tracker.len())
            .finish_non_exhaustive()
    }
}

impl EthProtocol {
    /// A machine serving `chain` and `pool` under `cfg`; `seed` keys its randomness.
    pub fn new(cfg: EthConfig, chain: Box<dyn Chain>, pool: Box<dyn TxPool>, seed: Seed) -> Self {
        let mut rng = MachineRng::new(seed);
        let broadcast_key = rng.bytes32();
        let first_id = rng.range_inclusive(0, u64::from(u32::MAX));
        let fetcher = TxFetcher::new(FetcherLimits {
            arrive_timeout: cfg.tx_arrive_timeout,
            max_retrievals: cfg.max_tx_retrievals,
            max_retrieval_bytes: cfg.max_tx_retrieval_bytes,
            max_announces_per_peer: cfg.max_tx_announces_per_peer,
        });
        let head = chain.head();
        let last_range_update = head.number;
        Self {
            fork_filter: cfg.spec.fork_filter(),
            cfg,
            chain,
            pool,
            broadcast_key,
            peers: BTreeMap::new(),
            tracker: RequestTracker::new(first_id, tracker::MAX_IN_FLIGHT_PER_PEER),
            fetcher,
            blocks: BlockFetcher::new(head.number, head.hash),
            held_block_requests: VecDeque::new(),
            sync: ChainSync::new(),
            last_range_update,
            flush_due: None,
            metrics: EthMetrics::default(),
        }
    }

    /// Offers locally submitted transactions to the pool and propagates the accepted ones.
    /// Returns the pool's verdict per transaction, in order.
    pub fn submit_transactions(
        &mut self,
        ctx: &mut ProtocolContext<'_>,
        txs: Vec<PooledTransaction>,
    ) -> Vec<TxVerdict> {
        let verdicts = self.import_txs(ctx, None, txs);
        self.after_call(ctx);
        verdicts
    }

    /// Imports a locally produced block and, when blocks are gossiped, propagates it.
    pub fn submit_block(&mut self, ctx: &mut ProtocolContext<'_>, block: Block) -> ImportResult {
        let r = self.import_block(ctx, block, None, false);
        self.after_call(ctx);
        r
    }

    /// The local node's eth view.
    pub fn node_info(&self) -> EthNodeInfo {
        let head = self.chain.head();
        EthNodeInfo {
            network_id: self.cfg.network_id,
            genesis_hash: self.cfg.spec.genesis_hash,
            head_hash: head.hash,
            head_number: head.number,
            fork_id: self
                .cfg
                .spec
                .fork_id(handshake::local_head(self.chain.as_ref())),
            versions: self.cfg.versions.clone(),
            sync: self.sync.status(),
        }
    }

    /// The chain sync's state: target, progress, counters.
    pub fn sync_status(&self) -> SyncStatus {
        self.sync.status()
    }

    /// One peer's eth view, if it is connected on eth.
    pub fn peer_info(&self, peer: &PeerId) -> Option<EthPeerInfo> {
        self.peers.get(peer).map(EthPeer::info)
    }

    /// The counters.
    pub fn metrics(&self) -> &EthMetrics {
        &self.metrics
    }

    /// The chain.
    pub fn chain(&self) -> &dyn Chain {
        self.chain.as_ref()
    }

    /// The pool.
    pub fn pool(&self) -> &dyn TxPool {
        self.pool.as_ref()
    }

    /// Peers whose Status was accepted, in id order.
    pub fn ready_peers(&self) -> Vec<PeerId> {
        self.peers
            .iter()
            .filter(|(_, p)| p.is_ready())
            .map(|(id, _)| *id)
            .collect()
    }

    /// Sends `msg` to `peer`; false if the host refused (peer gone, budget spent).
    fn send(ctx: &mut ProtocolContext<'_>, peer: PeerId, msg: &EthMessage) -> bool {
        ctx.send(peer, u64::from(msg.msg_id()), msg.encode())
            .is_ok()
    }

    /// Ends the peer's session for a protocol breach: `BadMessage`, `SubprotocolError`.
    fn breach(&mut self, ctx: &mut ProtocolContext<'_>, peer: PeerId) {
        self.metrics.protocol_breaches += 1;
        self.drop_peer(
            ctx,
            peer,
            DisconnectReason::SubprotocolError,
            ReputationChange::BadMessage,
        );
    }

    /// Disconnects `peer` with `reason` and reports `change`; ignores it from now on.
    fn drop_peer(
        &mut self,
        ctx: &mut ProtocolContext<'_>,
        peer: PeerId,
        reason: DisconnectReason,
        change: ReputationChange,
    ) {
        let _ = ctx.disconnect(peer, reason);
        let _ = ctx.report(peer, change);
        if let Some(p) = self.peers.get_mut(&peer) {
            p.phase = Phase::Closing;
        }
        // Its announcements and fetches go to other announcers now, not when the
        // disconnect completes (go-ethereum's fetcher `Drop` on peer removal).
        self.fetcher.remove_peer(&peer);
    }

    /// Matches a response against the tracker, penalising late and unsolicited ones.
    /// Returns the request's kind when it matched.
    fn match_response(
        &mut self,
        ctx: &mut ProtocolContext<'_>,
        peer: PeerId,
        request_id: u64,
        items: usize,
    ) -> Result<RequestKind, Fulfil<RequestKind>> {
        match self.tracker.fulfil(ctx.now(), &peer, request_id, items) {
            Fulfil::Matched { kind, .. } => Ok(kind),
            Fulfil::Late => {
                self.metrics.late_responses += 1;
                let _ = ctx.report(peer, LATE_RESPONSE_PENALTY);
                Err(Fulfil::Late)
            }
            Fulfil::Unsolicited => {
                self.metrics.unsolicited_responses += 1;
                let _ = ctx.report(peer, ReputationChange::BadMessage);
                Err(Fulfil::Unsolicited)
            }
        }
    }

    /// A matched response of the wrong message type: the request is lost, the peer lied.
    fn wrong_response(
        &mut self,
        ctx: &mut ProtocolContext<'_>,
        peer: PeerId,
        id: u64,
        kind: RequestKind,
    ) {
        self.request_failed(ctx.now(), peer, id, kind, RequestFailure::PeerGone);
        self.metrics.unsolicited_responses += 1;
        let _ = ctx.report(peer, ReputationChange::BadMessage);
    }

    /// Request `id` to `peer` will not be answered (timeout, peer gone, wrong answer).
    fn request_failed(
        &mut self,
        now: Instant,
        peer: PeerId,
        id: u64,
        kind: RequestKind,
        why: RequestFailure,
    ) {
        match kind {
            RequestKind::PooledTxs => {
                self.fetcher.on_timeout(&peer, id);
            }
            RequestKind::BlockHeader { fetch } | RequestKind::BlockBodies { fetch } => {
                self.metrics.block_fetch_failed += 1;
                self.blocks.on_request_failed(now, fetch);
            }
            RequestKind::Sync { id } => self.sync.on_request_failed(id, why),
        }
    }

    /// What every input ends with: fetch scheduling, queue flushing, range updates, gauges.
    fn after_call(&mut self, ctx: &mut ProtocolContext<'_>) {
        let now = ctx.now();
        self.fetcher.tick(now);
        self.schedule_fetches(ctx);
        let blocks_done = self.drive_block_fetcher(ctx);
        let sync_done = self.drive_sync(ctx);
        let done = self.flush_queues(ctx) && blocks_done && sync_done;
        self.flush_due = if done { None } else { Some(now) };
        self.maybe_send_range_update(ctx);
        self.update_gauges();
    }

    /// Sends a BlockRangeUpdate to eth/69 peers when our head moved far enough.
    fn maybe_send_range_update(&mut self, ctx: &mut ProtocolContext<'_>) {
        let head = self.chain.head();
        if head.number.abs_diff(self.last_range_update) < self.cfg.block_range_update_blocks {
            return;
        }
        self.last_range_update = head.number;
        let msg = EthMessage::BlockRangeUpdate {
            earliest: self.chain.earliest().min(head.number),
            latest: head.number,
            latest_hash: head.hash,
        };
        for (peer, p) in &self.peers {
            if p.is_ready() && p.version.is_eth69_or_later() {
                let _ = Self::send(ctx, *peer, &msg);
            }
        }
    }

    fn update_gauges(&mut self) {
        let (mut txs, mut anns) = (0u64, 0u64);
        for p in self.peers.values() {
            txs += u64::try_from(p.queues.full_len()).unwrap_or(u64::MAX);
            anns += u64::try_from(p.queues.anns_len()).unwrap_or(u64::MAX);
        }
        self.metrics.queued_txs = txs;
        self.metrics.queued_tx_announcements = anns;
        self.metrics.fetcher_hashes = u64::try_from(self.fetcher.len()).unwrap_or(u64::MAX);
        self.metrics.block_fetcher = self.blocks.stats();
        self.metrics.sync = self.sync.status().stats;
    }

    /// Handles a decoded message from a ready peer.
    fn dispatch(
        &mut self,
        ctx: &mut ProtocolContext<'_>,
        peer: PeerId,
        version: EthVersion,
        msg: EthMessage,
    ) {
        match msg {
            EthMessage::Status(_) => self.breach(ctx, peer),
            EthMessage::GetBlockHeaders(req) => {
                self.metrics.served.headers += 1;
                let headers = serve::block_headers(self.chain.as_ref(), &req);
                let reply = EthMessage::BlockHeaders {
                    request_id: req.request_id,
                    headers,
                };
                Self::send(ctx, peer, &reply);
            }
            EthMessage::GetBlockBodies { request_id, hashes } => {
                self.metrics.served.bodies += 1;
                let reply = serve::block_bodies(self.chain.as_ref(), request_id, &hashes);
                Self::send(ctx, peer, &reply);
            }
            EthMessage::GetReceipts { request_id, hashes } => {
                self.metrics.served.receipts += 1;
                let reply = serve::receipts(self.chain.as_ref(), version, request_id, 0, &hashes);
                Self::send(ctx, peer, &reply);
            }
            EthMessage::GetReceipts70 {
                request_id,
                first_block_receipt_index,
                hashes,
            } => {
                self.metrics.served.receipts += 1;
                let reply = serve::receipts(
                    self.chain.as_ref(),
                    version,
                    request_id,
                    first_block_receipt_index,
                    &hashes,
                );
                Self::send(ctx, peer, &reply);
            }
            EthMessage::GetPooledTransactions { request_id, hashes } => {
                self.metrics.served.pooled_transactions += 1;
                let reply = serve::pooled_transactions(self.pool.as_ref(), request_id, &hashes);
                Self::send(ctx, peer, &reply);
            }
            EthMessage::Transactions(txs) => self.on_transactions(ctx, peer, txs),
            EthMessage::NewPooledTransactionHashes(anns) => {
                self.on_tx_announcements(ctx, peer, &anns)
            }
            EthMessage::PooledTransactions {
                request_id,
                transactions,
            } => self.on_pooled_transactions(ctx, peer, request_id, transactions),
            EthMessage::NewBlock {
                block,
                total_difficulty,
            } => self.on_new_block(ctx, peer, *block, total_difficulty),
            EthMessage::NewBlockHashes(list) => self.on_new_block_hashes(ctx, peer, &list),
            EthMessage::BlockHeaders {
                request_id,
                headers,
            } => self.on_block_headers(ctx, peer, request_id, headers),
            EthMessage::BlockBodies { request_id, bodies } => {
                self.on_block_bodies(ctx, peer, request_id, bodies);
            }
            EthMessage::Receipts {
                request_id,
                receipts,
            } => self.on_receipts(ctx, peer, request_id, receipts),
            EthMessage::BlockRangeUpdate {
                earliest,
                latest,
                latest_hash,
            } => {
                if crate::eth::status::validate_block_range(earliest, latest, &latest_hash).is_err()
                {
                    self.breach(ctx, peer);
                } else if let Some(p) = self.peers.get_mut(&peer) {
                    p.block_range = Some((earliest, latest));
                    p.saw_head(latest_hash, latest);
                    self.sync_peer_updated(peer);
                }
            }
        }
    }

    /// The peer's Status arrived while we waited for it.
    fn on_status(
        &mut self,
        ctx: &mut ProtocolContext<'_>,
        peer: PeerId,
        version: EthVersion,
        status: crate::eth::Status,
    ) {
        let checked = handshake::check_status(
            &self.cfg,
            &self.fork_filter,
            self.chain.as_ref(),
            version,
            &status,
        );
        if let Err(error) = checked {
            self.metrics.status_rejected.count(&error);
            let change = if error.is_incompatibility() {
                ReputationChange::BadProtocol
            } else {
                ReputationChange::BadMessage
            };
            self.drop_peer(ctx, peer, error.disconnect_reason(), change);
            let _ = ctx.emit(Box::new(EthEvent::StatusRejected { peer, error }));
            return;
        }
        self.metrics.handshakes_ok += 1;
        let now = ctx.now();
        let pending = self.pool.pending(self.cfg.max_queued_tx_anns);
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        p.phase = Phase::Ready { since: now };
        match &status {
            crate::eth::Status::Eth68(s) => {
                p.head_hash = Some(s.head_hash);
                p.total_difficulty = Some(s.total_difficulty);
            }
            crate::eth::Status::Eth69(s) => {
                p.block_range = Some((s.earliest_block, s.latest_block));
                p.saw_head(s.latest_block_hash, s.latest_block);
            }
        }
        // go-ethereum announces the whole pending pool to a new peer (`syncTransactions`).
        for ann in pending {
            if p.known_txs.insert(ann.hash) {
                self.metrics.tx_queue_dropped += u64::try_from(p.queues.push_ann(ann)).unwrap_or(0);
            }
        }
        self.sync_peer_updated(peer);
        let _ = ctx.emit(Box::new(EthEvent::PeerReady { peer, version }));
    }
}

impl Protocol for EthProtocol {
    fn spec(&self) -> ProtocolSpec {
        let v = self
            .cfg
            .versions
            .first()
            .copied()
            .unwrap_or(EthVersion::Eth70);
        spec_of(v)
    }

    fn specs(&self) -> Vec<ProtocolSpec> {
        let mut out: Vec<ProtocolSpec> = self.cfg.versions.iter().map(|v| spec_of(*v)).collect();
        if out.is_empty() {
            out.push(self.spec());
        }
        out
    }

    fn enr_entries(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        vec![enr_entry(
            &self.cfg.spec,
            handshake::local_head(self.chain.as_ref()),
        )]
    }

    fn on_connected(&mut self, ctx: &mut ProtocolContext<'_>, peer: PeerId, info: &PeerInfo) {
        let version =
            EthVersion::from_u32(info.cap.version).filter(|v| self.cfg.versions.contains(v));
        let Some(version) = version else {
            let _ = ctx.disconnect(peer, DisconnectReason::IncompatibleVersion);
            return;
        };
        let deadline = ctx.now() + self.cfg.handshake_timeout;
        self.peers
            .insert(peer, EthPeer::new(&self.cfg, version, deadline));
        let status = handshake::local_status(&self.cfg, self.chain.as_ref(), version);
        Self::send(ctx, peer, &EthMessage::Status(status));
        self.after_call(ctx);
    }

    fn on_message(
        &mut self,
        ctx: &mut ProtocolContext<'_>,
        peer: PeerId,
        msg_id: u64,
        payload: &[u8],
    ) {
        let Some((version, phase)) = self.peers.get(&peer).map(|p| (p.version, p.phase)) else {
            return;
        };
        if phase == Phase::Closing {
            return;
        }
        if msg_id == u64::from(id::RECEIPTS)
            && payload.len() > MAX_MESSAGE_BYTES
            && self.on_oversized_receipts(ctx, peer, payload)
        {
            self.after_call(ctx);
            return;
        }
        let decoded = u8::try_from(msg_id)
            .map_err(|_| ())
            .and_then(|id| EthMessage::decode(version, id, payload).map_err(|_| ()));
        let Ok(msg) = decoded else {
            self.metrics.decode_errors += 1;
            self.drop_peer(
                ctx,
                peer,
                DisconnectReason::SubprotocolError,
                ReputationChange::BadMessage,
            );
            return;
        };
        match (phase, msg) {
            (Phase::AwaitingStatus { .. }, EthMessage::Status(s)) => {
                self.on_status(ctx, peer, version, s)
            }
            (Phase::AwaitingStatus { .. }, _) => {
                self.metrics.status_rejected.not_status_first += 1;
                self.breach(ctx, peer);
            }
            (_, msg) => self.dispatch(ctx, peer, version, msg),
        }
        self.after_call(ctx);
    }

    fn on_disconnected(&mut self, ctx: &mut ProtocolContext<'_>, peer: PeerId) {
        self.peers.remove(&peer);
        let now = ctx.now();
        for (id, kind) in self.tracker.remove_peer(&peer) {
            self.request_failed(now, peer, id, kind, RequestFailure::PeerGone);
        }
        self.sync.on_peer_gone(peer);
        self.fetcher.remove_peer(&peer);
        self.blocks.on_peer_gone(peer);
        self.held_block_requests.retain(|r| *r.peer() != peer);
        self.after_call(ctx);
    }

    fn handle_timeout(&mut self, ctx: &mut ProtocolContext<'_>, now: Instant) {
        let late: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.handshake_deadline().is_some_and(|d| d <= now))
            .map(|(id, _)| *id)
            .collect();
        for peer in late {
            // go-ethereum's handshake gives up with DiscReadTimeout.
            self.metrics.status_rejected.timeout += 1;
            self.drop_peer(
                ctx,
                peer,
                DisconnectReason::ReadTimeout,
                ReputationChange::Timeout,
            );
            let _ = ctx.emit(Box::new(EthEvent::HandshakeTimeout { peer }));
        }
        // The block fetcher first, so that it counts its own timeouts; the tracker's expiry
        // of the same requests (same deadline) then finds them already retried. Only the
        // tracker's expiry penalises a timeout.
        self.blocks.handle_timeout(now);
        for (id, peer, kind) in self.tracker.expire(now) {
            self.metrics.request_timeouts += 1;
            if matches!(kind, RequestKind::PooledTxs) {
                self.metrics.tx_fetch_timeouts += 1;
            }
            self.request_failed(now, peer, id, kind, RequestFailure::Timeout);
            let _ = ctx.report(peer, ReputationChange::Timeout);
        }
        self.after_call(ctx);
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let handshakes = self
            .peers
            .values()
            .filter_map(EthPeer::handshake_deadline)
            .min();
        [
            handshakes,
            self.tracker.next_deadline(),
            self.fetcher.next_deadline(),
            self.blocks.poll_timeout(),
            self.flush_due,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// The capability of one eth version.
fn spec_of(v: EthVersion) -> ProtocolSpec {
    ProtocolSpec {
        cap: Capability::new(ETH_PROTOCOL_NAME, v.as_u32()),
        message_count: u64::from(v.message_count()),
    }
}
