//! Drives the [`BlockFetcher`](crate::eth::blockfetch::BlockFetcher) for [`EthProtocol`]:
//! its requests go out as GetBlockHeaders / GetBlockBodies through the request tracker
//! (whose entries map our wire request ids to the fetcher's [`FetchId`]s), the answers go
//! back to it, and its events become imports, penalties and announcements.
//!
//! Timeouts: the tracker gives block requests the fetcher's own [`FETCH_TIMEOUT`], so both
//! expire a request together; the fetcher retries it with another announcer and the
//! service's timeout path reports `Timeout` once.

use crate::eth::block::{BlockBody, Header};
use crate::eth::blockfetch::{FetchEvent, FetchFault, FetchRequest, FETCH_TIMEOUT};
use crate::eth::messages::{EthMessage, GetBlockHeaders, HashOrNumber};
use crate::peers::ReputationChange;
use crate::protocol::ProtocolContext;
use crate::types::PeerId;

use super::{EthProtocol, RequestKind, RESERVED_ACTIONS};

/// The reputation change for a fault the block fetcher reports.
pub(super) fn penalty_for(fault: FetchFault) -> ReputationChange {
    match fault {
        FetchFault::BodyMismatch | FetchFault::InvalidBlock => ReputationChange::BadBlock,
        FetchFault::HeaderMismatch | FetchFault::WrongNumber | FetchFault::Unrequested => {
            ReputationChange::BadMessage
        }
        FetchFault::AnnounceFlood | FetchFault::BlockFlood => ReputationChange::BadAnnouncement,
    }
}

impl EthProtocol {
    /// Drains the block fetcher: sends its requests, then handles its events one at a time
    /// (an import's result can release the next block, and any event can queue requests).
    /// Returns false when requests are held back for lack of action budget.
    pub(super) fn drive_block_fetcher(&mut self, ctx: &mut ProtocolContext<'_>) -> bool {
        loop {
            self.send_block_requests(ctx);
            let Some(event) = self.blocks.poll_event() else {
                break;
            };
            self.on_fetch_event(ctx, event);
        }
        self.held_block_requests.is_empty()
    }

    fn on_fetch_event(&mut self, ctx: &mut ProtocolContext<'_>, event: FetchEvent) {
        match event {
            FetchEvent::Import { block, from } => {
                self.import_block(ctx, *block, Some(from), true);
            }
            FetchEvent::Penalize { peer, reason } => {
                if reason == FetchFault::BodyMismatch {
                    self.metrics.blocks_invalid += 1;
                }
                let _ = ctx.report(peer, penalty_for(reason));
            }
            FetchEvent::Propagate { hash, number } => self.announce_block(ctx, hash, number),
            // Counted by the fetcher (`FetchStats::discarded`, exported in the metrics).
            FetchEvent::Discarded { .. } => {}
        }
    }

    /// Sends held requests, then the fetcher's new ones, while the budget lasts. A request
    /// that cannot be sent (peer not ready, at its in-flight limit, or gone) fails at once,
    /// so the fetcher moves on to another announcer.
    fn send_block_requests(&mut self, ctx: &mut ProtocolContext<'_>) {
        let now = ctx.now();
        loop {
            let next = self
                .held_block_requests
                .pop_front()
                .or_else(|| self.blocks.poll_request());
            let Some(req) = next else {
                return;
            };
            if ctx.remaining() <= RESERVED_ACTIONS {
                self.held_block_requests.push_front(req);
                return;
            }
            if !self.send_block_request(ctx, &req) {
                self.metrics.block_fetch_failed += 1;
                self.blocks.on_request_failed(now, req.id());
            }
        }
    }

    fn send_block_request(&mut self, ctx: &mut ProtocolContext<'_>, req: &FetchRequest) -> bool {
        let now = ctx.now();
        let peer = *req.peer();
        if !self.peers.get(&peer).is_some_and(|p| p.is_ready()) {
            return false;
        }
        let kind = match req {
            FetchRequest::Headers { id, .. } => RequestKind::BlockHeader { fetch: *id },
            FetchRequest::Bodies { id, .. } => RequestKind::BlockBodies { fetch: *id },
        };
        let Some(wire) = self.tracker.track(now, peer, kind, Some(FETCH_TIMEOUT)) else {
            return false;
        };
        let msg = match req {
            FetchRequest::Headers { hash, .. } => EthMessage::GetBlockHeaders(GetBlockHeaders {
                request_id: wire,
                origin: HashOrNumber::Hash(*hash),
                amount: 1,
                skip: 0,
                reverse: false,
            }),
            FetchRequest::Bodies { hashes, .. } => EthMessage::GetBlockBodies {
                request_id: wire,
                hashes: hashes.clone(),
            },
        };
        if Self::send(ctx, peer, &msg) {
            self.metrics.block_fetch_requests += 1;
            true
        } else {
            let _ = self.tracker.fulfil(now, &peer, wire, 0);
            false
        }
    }

    /// A BlockHeaders response: checked by the fetcher against what it asked.
    pub(super) fn on_block_headers(
        &mut self,
        ctx: &mut ProtocolContext<'_>,
        peer: PeerId,
        request_id: u64,
        headers: Vec<Header>,
    ) {
        match self.match_response(ctx, peer, request_id, headers.len()) {
            Ok(RequestKind::BlockHeader { fetch }) => {
                self.blocks.on_headers(ctx.now(), peer, fetch, headers);
            }
            Ok(RequestKind::Sync { id }) => self.sync.on_headers(peer, id, headers),
            Ok(kind) => self.wrong_response(ctx, peer, request_id, kind),
            Err(_) => {}
        }
    }

    /// A BlockBodies response: matched by the fetcher to the headers it holds.
    pub(super) fn on_block_bodies(
        &mut self,
        ctx: &mut ProtocolContext<'_>,
        peer: PeerId,
        request_id: u64,
        bodies: Vec<BlockBody>,
    ) {
        match self.match_response(ctx, peer, request_id, bodies.len()) {
            Ok(RequestKind::BlockBodies { fetch }) => {
                self.blocks.on_bodies(ctx.now(), peer, fetch, bodies);
            }
            Ok(RequestKind::Sync { id }) => self.sync.on_bodies(peer, id, bodies),
            Ok(kind) => self.wrong_response(ctx, peer, request_id, kind),
            Err(_) => {}
        }
    }
}
