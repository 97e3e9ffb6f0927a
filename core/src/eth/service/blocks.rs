//! The block side of [`EthProtocol`]: NewBlock and NewBlockHashes (pre-merge networks only)
//! handed to the block fetcher, block import and propagation (go-ethereum `eth/handler.go`
//! `BroadcastBlock`).
//!
//! Both messages go through [`BlockFetcher`](crate::eth::blockfetch::BlockFetcher)
//! (`fetch_blocks.rs` drives it): announcements are fetched header then body after its
//! arrive timeout, broadcasts are body-checked, and complete blocks come back as imports in
//! number order, parents first. `gossip_blocks` only governs what we send: received blocks
//! are fetched and imported whenever the chain is pre-merge.

use crate::eth::app::ImportResult;
use crate::eth::block::Block;
use crate::eth::messages::{BlockHashNumber, EthMessage};
use crate::eth::primitives::{B256, U256};
use crate::protocol::ProtocolContext;
use crate::types::PeerId;

use super::broadcast::direct_peers;
use super::{EthEvent, EthProtocol, RESERVED_ACTIONS};

impl EthProtocol {
    /// Imports `block` (from `from`, or local) and tells the block fetcher the verdict when
    /// `fetched` (the block came from one of its `Import` events). A new head moves the
    /// fetcher's head and is propagated: in full to ceil(√n) of the n ready peers lacking it
    /// and by hash to the rest, when blocks are gossiped. An invalid block is not penalised
    /// here: the fetcher names the peer that delivered it (`Penalize`).
    pub(super) fn import_block(
        &mut self,
        ctx: &mut ProtocolContext<'_>,
        block: Block,
        from: Option<PeerId>,
        fetched: bool,
    ) -> ImportResult {
        let hash = block.header.hash();
        let number = block.header.number;
        let result = self.chain.import(block.clone());
        if fetched {
            self.blocks.on_import_result(&hash, &result);
        }
        match &result {
            ImportResult::Imported { new_head } => {
                self.metrics.blocks_imported += 1;
                self.pool.on_block(&block);
                self.propagate_promoted();
                let _ = ctx.emit(Box::new(EthEvent::BlockImported { hash, number, from }));
                if *new_head {
                    self.blocks.set_head(number, hash);
                    if self.cfg.gossip_blocks {
                        self.propagate_block(ctx, &block, hash, from);
                    }
                }
            }
            ImportResult::AlreadyKnown => self.metrics.blocks_duplicate += 1,
            ImportResult::UnknownParent => self.metrics.blocks_unknown_parent += 1,
            ImportResult::Invalid(_) => self.metrics.blocks_invalid += 1,
        }
        result
    }

    /// Announces an imported block by hash to the ready peers not known to have it (the
    /// fetcher's `Propagate`; after a new head's full propagation this reaches nobody new,
    /// so in practice it announces imported side blocks).
    pub(super) fn announce_block(
        &mut self,
        ctx: &mut ProtocolContext<'_>,
        hash: B256,
        number: u64,
    ) {
        if !self.cfg.gossip_blocks {
            return;
        }
        let announce = EthMessage::NewBlockHashes(vec![BlockHashNumber { hash, number }]);
        for (id, p) in &mut self.peers {
            if ctx.remaining() <= RESERVED_ACTIONS {
                break;
            }
            if p.is_ready() && p.known_blocks.insert(hash) {
                Self::send(ctx, *id, &announce);
            }
        }
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

    /// A full block pushed by a peer: handed to the block fetcher, which checks its body
    /// against its header and queues it for import once its parent is known.
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
        self.blocks.on_new_block(ctx.now(), peer, block, Some(td));
    }

    /// Block hashes announced by a peer: each unknown one goes to the block fetcher, which
    /// fetches it (header, then body) unless a broadcast brings it first.
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
        let now = ctx.now();
        for e in list {
            self.metrics.block_announcements_in += 1;
            if let Some(p) = self.peers.get_mut(&peer) {
                p.known_blocks.insert(e.hash);
                p.saw_head(e.hash, e.number);
            }
            if self.chain.header_by_hash(&e.hash).is_none() {
                self.blocks.on_announce(now, peer, e.hash, e.number);
            }
        }
    }
}
