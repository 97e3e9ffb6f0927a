//! The block side of [`EthProtocol`]: NewBlock and NewBlockHashes (pre-merge networks only),
//! block import and propagation (go-ethereum `eth/handler.go` `BroadcastBlock`), and a
//! minimal fetch of announced blocks.
//!
//! **Block fetcher hook.** [`EthProtocol::on_new_block_hashes`] is where the full block
//! fetcher (`eth/blockfetch.rs`, built separately) plugs in: it should take the
//! announcements (peer, hash, number) and own scheduling, header/body requests and import
//! ordering. Until then, each announced unknown block is fetched here, header then body,
//! through the request tracker, and imported (no parent chasing, no reordering).

use crate::eth::app::ImportResult;
use crate::eth::block::{validate_body, Block, BlockBody, Header};
use crate::eth::messages::{BlockHashNumber, EthMessage, GetBlockHeaders, HashOrNumber};
use crate::eth::primitives::{B256, U256};
use crate::peers::ReputationChange;
use crate::protocol::ProtocolContext;
use crate::types::PeerId;

use super::broadcast::direct_peers;
use super::{EthEvent, EthProtocol, RequestKind, RESERVED_ACTIONS};

/// Announced blocks fetched at the same time (go-ethereum's block fetcher keeps a few per
/// peer, `maxQueueDist` wide; 32 covers a burst of announcements on a devnet).
pub const MAX_PENDING_BLOCK_FETCHES: usize = 32;

impl EthProtocol {
    /// Imports `block` (from `from`, or local). A new head is propagated: in full to
    /// ceil(√n) of the n ready peers lacking it and by hash to the rest, when blocks are
    /// gossiped.
    pub(super) fn import_block(
        &mut self,
        ctx: &mut ProtocolContext<'_>,
        block: Block,
        from: Option<PeerId>,
    ) -> ImportResult {
        let hash = block.header.hash();
        let number = block.header.number;
        self.pending_blocks.remove(&hash);
        let result = self.chain.import(block.clone());
        match &result {
            ImportResult::Imported { new_head } => {
                self.metrics.blocks_imported += 1;
                self.pool.on_block(&block);
                let _ = ctx.emit(Box::new(EthEvent::BlockImported { hash, number, from }));
                if *new_head && self.cfg.gossip_blocks {
                    self.propagate_block(ctx, &block, hash, from);
                }
            }
            ImportResult::AlreadyKnown => self.metrics.blocks_duplicate += 1,
            ImportResult::UnknownParent => self.metrics.blocks_unknown_parent += 1,
            ImportResult::Invalid(_) => {
                self.metrics.blocks_invalid += 1;
                if let Some(peer) = from {
                    let _ = ctx.report(peer, ReputationChange::BadBlock);
                }
            }
        }
        result
    }

    /// Sends a new head: NewBlock to ceil(√n) peers lacking it (chosen by a keyed hash of
    /// the block hash), NewBlockHashes to the others. Sent at once, not queued: blocks are
    /// rare, and a peer missed for lack of budget still learns it from its neighbours.
    fn propagate_block(
        &mut self,
        ctx: &mut ProtocolContext<'_>,
        block: &Block,
        hash: B256,
        from: Option<PeerId>,
    ) {
        let lacking: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(id, p)| p.is_ready() && Some(**id) != from && !p.known_blocks.contains(&hash))
            .map(|(id, _)| *id)
            .collect();
        let direct = direct_peers(&self.broadcast_key, &lacking, &hash);
        let td = self.chain.head().total_difficulty;
        let full = EthMessage::NewBlock {
            block: Box::new(block.clone()),
            total_difficulty: td,
        };
        let announce = EthMessage::NewBlockHashes(vec![BlockHashNumber {
            hash,
            number: block.header.number,
        }]);
        for id in lacking {
            if ctx.remaining() <= RESERVED_ACTIONS {
                break;
            }
            if let Some(p) = self.peers.get_mut(&id) {
                p.known_blocks.insert(hash);
            }
            let msg = if direct.contains(&id) {
                &full
            } else {
                &announce
            };
            Self::send(ctx, id, msg);
        }
    }

    /// A full block pushed by a peer.
    pub(super) fn on_new_block(
        &mut self,
        ctx: &mut ProtocolContext<'_>,
        peer: PeerId,
        block: Block,
        td: U256,
    ) {
        if self.cfg.spec.post_merge {
            // go-ethereum refuses block propagation after the merge.
            self.breach(ctx, peer);
            return;
        }
        self.metrics.blocks_in += 1;
        let hash = block.header.hash();
        if let Some(p) = self.peers.get_mut(&peer) {
            p.known_blocks.insert(hash);
            p.saw_head(hash, block.header.number);
            p.total_difficulty = Some(td);
        }
        if self.chain.header_by_hash(&hash).is_some() {
            self.metrics.blocks_duplicate += 1;
            return;
        }
        if validate_body(&block.header, &block.body).is_err() {
            self.metrics.blocks_invalid += 1;
            let _ = ctx.report(peer, ReputationChange::BadBlock);
            return;
        }
        self.import_block(ctx, block, Some(peer));
    }

    /// Block hashes announced by a peer. The hook point of the block fetcher (see the
    /// module documentation): for now each unknown block is fetched header then body.
    pub(super) fn on_new_block_hashes(
        &mut self,
        ctx: &mut ProtocolContext<'_>,
        peer: PeerId,
        list: &[BlockHashNumber],
    ) {
        if self.cfg.spec.post_merge {
            self.breach(ctx, peer);
            return;
        }
        for e in list {
            self.metrics.block_announcements_in += 1;
            if let Some(p) = self.peers.get_mut(&peer) {
                p.known_blocks.insert(e.hash);
                p.saw_head(e.hash, e.number);
            }
            if self.pending_blocks.contains(&e.hash)
                || self.pending_blocks.len() >= MAX_PENDING_BLOCK_FETCHES
                || self.chain.header_by_hash(&e.hash).is_some()
                || ctx.remaining() <= RESERVED_ACTIONS
            {
                continue;
            }
            let kind = RequestKind::Header { hash: e.hash };
            let Some(id) = self.tracker.track(ctx.now(), peer, kind, None) else {
                continue;
            };
            let req = EthMessage::GetBlockHeaders(GetBlockHeaders {
                request_id: id,
                origin: HashOrNumber::Hash(e.hash),
                amount: 1,
                skip: 0,
                reverse: false,
            });
            if Self::send(ctx, peer, &req) {
                self.metrics.block_fetch_requests += 1;
                self.pending_blocks.insert(e.hash);
            } else {
                let _ = self.tracker.fulfil(ctx.now(), &peer, id, 0);
            }
        }
    }

    /// A BlockHeaders response.
    pub(super) fn on_block_headers(
        &mut self,
        ctx: &mut ProtocolContext<'_>,
        peer: PeerId,
        request_id: u64,
        headers: Vec<Header>,
    ) {
        let hash = match self.match_response(ctx, peer, request_id, headers.len()) {
            Ok(RequestKind::Header { hash }) => hash,
            Ok(kind) => return self.wrong_response(ctx, peer, request_id, kind),
            Err(_) => return,
        };
        let header = match headers.as_slice() {
            [h] if h.hash() == hash => h.clone(),
            [] => {
                // The announcer no longer serves it (or never had it).
                self.metrics.block_fetch_failed += 1;
                self.pending_blocks.remove(&hash);
                let _ = ctx.report(peer, ReputationChange::BadAnnouncement);
                return;
            }
            _ => {
                self.metrics.block_fetch_failed += 1;
                self.pending_blocks.remove(&hash);
                let _ = ctx.report(peer, ReputationChange::BadMessage);
                return;
            }
        };
        if self.chain.header_by_hash(&hash).is_some() {
            self.pending_blocks.remove(&hash);
            return;
        }
        let kind = RequestKind::Body {
            header: Box::new(header),
        };
        let sent = self
            .tracker
            .track(ctx.now(), peer, kind, None)
            .is_some_and(|id| {
                let req = EthMessage::GetBlockBodies {
                    request_id: id,
                    hashes: vec![hash],
                };
                let ok = Self::send(ctx, peer, &req);
                if !ok {
                    let _ = self.tracker.fulfil(ctx.now(), &peer, id, 0);
                }
                ok
            });
        if sent {
            self.metrics.block_fetch_requests += 1;
        } else {
            self.metrics.block_fetch_failed += 1;
            self.pending_blocks.remove(&hash);
        }
    }

    /// A BlockBodies response.
    pub(super) fn on_block_bodies(
        &mut self,
        ctx: &mut ProtocolContext<'_>,
        peer: PeerId,
        request_id: u64,
        bodies: Vec<BlockBody>,
    ) {
        let header = match self.match_response(ctx, peer, request_id, bodies.len()) {
            Ok(RequestKind::Body { header }) => *header,
            Ok(kind) => return self.wrong_response(ctx, peer, request_id, kind),
            Err(_) => return,
        };
        let hash = header.hash();
        let mut bodies = bodies.into_iter();
        let (Some(body), None) = (bodies.next(), bodies.next()) else {
            self.metrics.block_fetch_failed += 1;
            self.pending_blocks.remove(&hash);
            let _ = ctx.report(peer, ReputationChange::BadMessage);
            return;
        };
        if validate_body(&header, &body).is_err() {
            // go-ethereum's fetchers drop a peer serving a body that is not the header's.
            self.metrics.block_fetch_failed += 1;
            self.pending_blocks.remove(&hash);
            let _ = ctx.report(peer, ReputationChange::BadMessage);
            return;
        }
        self.import_block(ctx, Block { header, body }, Some(peer));
    }
}
