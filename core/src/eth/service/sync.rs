//! Drives the [`ChainSync`](crate::eth::sync::ChainSync) for [`EthProtocol`]: peers' ranges
//! in, its requests out as GetBlockHeaders / GetBlockBodies / GetReceipts through the
//! request tracker (adaptive timeouts; entries map wire ids to [`SyncId`]s), the answers
//! back, and its events into imports, receipt storage, penalties and application events.
//!
//! A request the tracker refuses (the peer's or the node's in-flight limit) is reported
//! `Unsent` and sending stops until the next input, so nothing spins; a request left for
//! lack of action budget waits for the next call (`flush_due`).

use crate::eth::app::ImportResult;
use crate::eth::block::Block;
use crate::eth::messages::{EthMessage, GetBlockHeaders, HashOrNumber, ReceiptsBody};
use crate::eth::receipts::Receipt;
use crate::eth::sync::{PeerRange, RequestFailure, SyncEvent, SyncFault, SyncQuery, SyncRequest};
use crate::eth::version::EthVersion;
use crate::peers::ReputationChange;
use crate::protocol::ProtocolContext;
use crate::types::PeerId;

use super::peer::EthPeer;
use super::tracker::Fulfil;
use super::{EthEvent, EthProtocol, RequestKind, LATE_RESPONSE_PENALTY, RESERVED_ACTIONS};

/// The reputation change for a fault the sync reports.
pub(super) fn penalty_for(fault: SyncFault) -> ReputationChange {
    match fault {
        SyncFault::BodyMismatch | SyncFault::InvalidBlock => ReputationChange::BadBlock,
        _ => ReputationChange::BadMessage,
    }
}

/// What the sync knows of a peer: its eth/69 range, or its eth/68 head hash.
pub(super) fn range_of(p: &EthPeer) -> Option<PeerRange> {
    let head_hash = p.head_hash?;
    Some(match p.block_range {
        Some((earliest, latest)) => PeerRange {
            earliest,
            latest: Some(latest),
            head_hash,
        },
        None => PeerRange {
            earliest: 0,
            latest: None,
            head_hash,
        },
    })
}

impl EthProtocol {
    /// Tells the sync what `peer` now advertises.
    pub(super) fn sync_peer_updated(&mut self, peer: PeerId) {
        if !self.cfg.sync {
            return;
        }
        if let Some(range) = self
            .peers
            .get(&peer)
            .filter(|p| p.is_ready())
            .and_then(range_of)
        {
            self.sync.on_peer(peer, range);
        }
    }

    /// Drains the sync: its events (imports one at a time, verdict back before the next),
    /// then its requests while the budget lasts. Returns false when budget ran out.
    pub(super) fn drive_sync(&mut self, ctx: &mut ProtocolContext<'_>) -> bool {
        if !self.cfg.sync {
            return true;
        }
        while let Some(event) = self.sync.poll_event() {
            self.on_sync_event(ctx, event);
        }
        loop {
            if ctx.remaining() <= RESERVED_ACTIONS {
                return false;
            }
            let Some(req) = self.sync.poll_request(self.chain.as_ref()) else {
                return true;
            };
            if !self.send_sync_request(ctx, &req) {
                self.sync.on_request_failed(req.id, RequestFailure::Unsent);
                return true;
            }
            // A request can make the sync start a target, whose event comes out here.
            while let Some(event) = self.sync.poll_event() {
                self.on_sync_event(ctx, event);
            }
        }
    }

    fn on_sync_event(&mut self, ctx: &mut ProtocolContext<'_>, event: SyncEvent) {
        match event {
            SyncEvent::Import { block, from } => {
                let hash = block.header.hash();
                let result = self.import_synced(*block, from);
                self.sync.on_import_result(&hash, &result);
            }
            SyncEvent::StoreReceipts { hash, receipts, .. } => {
                if self.chain.put_receipts(&hash, receipts).is_err() {
                    self.metrics.sync_receipts_store_failed += 1;
                }
            }
            SyncEvent::ReceiptsTooLarge { hash } => self.chain.mark_receipts_too_large(&hash),
            SyncEvent::Penalize { peer, fault } => {
                let _ = ctx.report(peer, penalty_for(fault));
            }
            SyncEvent::Started { number, hash, peer } => {
                let _ = ctx.emit(Box::new(EthEvent::SyncStarted { number, hash, peer }));
            }
            SyncEvent::Finished { number, hash } => {
                let _ = ctx.emit(Box::new(EthEvent::SyncFinished { number, hash }));
            }
        }
    }

    /// Imports a downloaded block: no propagation (peers have it; go-ethereum's downloader
    /// does not announce what it syncs) and no per-block event.
    fn import_synced(&mut self, block: Block, _from: PeerId) -> ImportResult {
        let (hash, number) = (block.header.hash(), block.header.number);
        let result = self.chain.import(block.clone());
        match &result {
            ImportResult::Imported { new_head } => {
                self.metrics.blocks_imported += 1;
                self.pool.on_block(&block);
                if *new_head {
                    self.blocks.set_head(number, hash);
                }
            }
            ImportResult::AlreadyKnown => self.metrics.blocks_duplicate += 1,
            ImportResult::UnknownParent => self.metrics.blocks_unknown_parent += 1,
            ImportResult::Invalid(_) => self.metrics.blocks_invalid += 1,
        }
        result
    }

    fn send_sync_request(&mut self, ctx: &mut ProtocolContext<'_>, req: &SyncRequest) -> bool {
        let now = ctx.now();
        if !self.peers.get(&req.peer).is_some_and(|p| p.is_ready()) {
            return false;
        }
        let kind = RequestKind::Sync { id: req.id };
        let Some(wire) = self.tracker.track(now, req.peer, kind, None) else {
            return false;
        };
        let msg = match &req.query {
            SyncQuery::Headers { start, amount } => EthMessage::GetBlockHeaders(GetBlockHeaders {
                request_id: wire,
                origin: HashOrNumber::Number(*start),
                amount: *amount,
                skip: 0,
                reverse: false,
            }),
            SyncQuery::Anchor { hash } => EthMessage::GetBlockHeaders(GetBlockHeaders {
                request_id: wire,
                origin: HashOrNumber::Hash(*hash),
                amount: 1,
                skip: 0,
                reverse: false,
            }),
            SyncQuery::Bodies { hashes } => EthMessage::GetBlockBodies {
                request_id: wire,
                hashes: hashes.clone(),
            },
            SyncQuery::Receipts { hashes } => match self.peers.get(&req.peer) {
                Some(p) if p.version >= EthVersion::Eth70 => EthMessage::GetReceipts70 {
                    request_id: wire,
                    first_block_receipt_index: 0,
                    hashes: hashes.clone(),
                },
                _ => EthMessage::GetReceipts {
                    request_id: wire,
                    hashes: hashes.clone(),
                },
            },
            SyncQuery::ReceiptsRest { hash, first_index } => EthMessage::GetReceipts70 {
                request_id: wire,
                first_block_receipt_index: *first_index,
                hashes: vec![*hash],
            },
        };
        if Self::send(ctx, req.peer, &msg) {
            true
        } else {
            let _ = self.tracker.fulfil(now, &req.peer, wire, 0);
            false
        }
    }

    /// A Receipts response: only the sync asks for receipts.
    pub(super) fn on_receipts(
        &mut self,
        ctx: &mut ProtocolContext<'_>,
        peer: PeerId,
        request_id: u64,
        receipts: ReceiptsBody,
    ) {
        let (lists, last_block_incomplete): (Vec<Vec<Receipt>>, bool) = match receipts {
            ReceiptsBody::Eth69(lists) => (lists, false),
            ReceiptsBody::Eth70 {
                last_block_incomplete,
                lists,
            } => (lists, last_block_incomplete),
            // The bloom is derived from the logs, so the one sent is not needed: the root
            // check uses the recomputed one.
            ReceiptsBody::Eth68(lists) => (
                lists
                    .into_iter()
                    .map(|l| l.into_iter().map(|r| r.receipt).collect())
                    .collect(),
                false,
            ),
        };
        match self.match_response(ctx, peer, request_id, lists.len()) {
            Ok(RequestKind::Sync { id }) => {
                self.sync
                    .on_receipt_page(peer, id, lists, last_block_incomplete)
            }
            Ok(kind) => self.wrong_response(ctx, peer, request_id, kind),
            Err(_) => {}
        }
    }

    /// A Receipts message above the eth message limit. When it answers one of our sync
    /// requests, the request fails as too large ([`RequestFailure::TooLarge`]: eth/69
    /// cannot carry a block's receipts beyond 10 MiB and go-ethereum sends them anyway), and
    /// the peer stays. Returns false when it answers nothing of the sync's: the caller then
    /// treats it as the undecodable message it is.
    pub(super) fn on_oversized_receipts(
        &mut self,
        ctx: &mut ProtocolContext<'_>,
        peer: PeerId,
        payload: &[u8],
    ) -> bool {
        let Some(request_id) = leading_request_id(payload) else {
            return false;
        };
        match self.tracker.kind_of(&peer, request_id) {
            Some(RequestKind::Sync { .. }) => {}
            Some(_) => return false,
            // The answer to a request that already timed out (a large answer takes long):
            // late, as any late answer, not a breach.
            None => {
                if !matches!(
                    self.tracker.fulfil(ctx.now(), &peer, request_id, 0),
                    Fulfil::Late
                ) {
                    return false;
                }
                self.metrics.late_responses += 1;
                self.metrics.sync_receipts_too_large += 1;
                let _ = ctx.report(peer, LATE_RESPONSE_PENALTY);
                return true;
            }
        }
        match self.tracker.fulfil(ctx.now(), &peer, request_id, 0) {
            Fulfil::Matched {
                kind: RequestKind::Sync { id },
                ..
            } => {
                self.metrics.sync_receipts_too_large += 1;
                self.sync.on_request_failed(id, RequestFailure::TooLarge);
                true
            }
            _ => false,
        }
    }
}

/// The request id leading an eth/66+ response (`[request_id, …]`), read without decoding
/// the rest of the message.
fn leading_request_id(payload: &[u8]) -> Option<u64> {
    crate::eth::rlp::single_item(payload)
        .ok()?
        .list()
        .ok()?
        .next_item()
        .ok()?
        .u64()
        .ok()
}
